/* request.h -- one MO's life: from the route that matched to its one outcome.
 *
 * Outcomes (exactly one per request):
 *   sc_req_reply / sc_req_reply_tpl  a reply to the subscriber; the MO is
 *                                    acknowledged ESME_ROK (before the reply
 *                                    is queued, or once the SMSC accepted
 *                                    it: limits.ack_policy)
 *   sc_req_silent                    ESME_ROK and no reply
 *   sc_req_fail                      the configured temporary error, no reply,
 *                                    nothing changed: the SMSC redelivers
 * After any of them the request is gone: do not touch it again. */
#ifndef SC_REQUEST_H
#define SC_REQUEST_H

#include <stddef.h>

struct redisReply;

#define SC_REQ_MAX_CAPS 10

struct sc_req {
    /* Read-only for handlers. */
    const char *msisdn;        /* national number: keys use it as {MSISDN} */
    const char *text;          /* the normalised command */
    const char *service;       /* the service number the MO was sent to */
    const char *caps[SC_REQ_MAX_CAPS]; /* regex captures (caps[0] = whole match) */
    size_t ncaps;
    void *hctx;                /* free for the handler's use */
};

/* Called with the script's result (elements after the request layer's
 * status word; borrowed, valid during the call) when the script ran; the
 * request layer handles store errors (temporary error) and rate limiting
 * itself, so the callback only sees real results. */
typedef void (*sc_req_script_cb)(struct sc_req *req, struct redisReply *const *elems,
                                 size_t nelems);

/* Run the handler's script with its keys and args (NUL-terminated strings,
 * at most 16 of each). Keys must carry the {MSISDN} hash tag of this
 * subscriber (or be global keys like vas:events). */
void sc_req_eval(struct sc_req *req, int nkeys, const char *const *keys, int nargs,
                 const char *const *args, sc_req_script_cb cb);

/* Reply with text (UTF-8, copied). */
void sc_req_reply(struct sc_req *req, const char *text);
/* Render template tpl (declared by the handler) with values in the order of
 * its declared placeholders, into out; returns the length it needs. */
size_t sc_req_render(struct sc_req *req, const char *tpl, const char *const *values, char *out,
                     size_t outsz);
/* Reply with the rendered template. */
void sc_req_reply_tpl(struct sc_req *req, const char *tpl, const char *const *values);
void sc_req_silent(struct sc_req *req);
/* Temporary failure; why goes to the log. */
void sc_req_fail(struct sc_req *req, const char *why);

/* The catalogue entry of a service code (cached from vas:svc:CODE), or
 * NULL when unknown. name is UTF-8; price_fen < 0 when the stored price is
 * not a number. Borrowed: valid during the current callback (the catalogue
 * may be refreshed between callbacks). */
struct sc_service {
    const char *code;
    const char *name;
    long long price_fen;
};
const struct sc_service *sc_req_service(struct sc_req *req, const char *code);

/* Configured lifetimes handlers need (limits.menu_ttl_s, confirm_ttl_s,
 * redelivery_horizon_s: how long after an MO the SMSC may deliver it again). */
int sc_req_menu_ttl_s(const struct sc_req *req);
int sc_req_confirm_ttl_s(const struct sc_req *req);
int sc_req_redelivery_horizon_s(const struct sc_req *req);

/* Format fen as yuan for texts: 500 -> "5元", 50 -> "0.5元", 1 -> "0.01元",
 * 1250 -> "12.5元"; a negative value gives "?元". Returns out. */
char *sc_fmt_fen(long long fen, char *out, size_t outsz);

#endif
