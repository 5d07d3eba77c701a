/* handler.h -- the contract between the daemon and a command handler.
 *
 * A handler answers one family of commands ("0000", "TD<code>", a reply
 * number, ...). It is a const struct listed once in handlers/registry.c;
 * routes in the config name it and may pass options, checked against its
 * schema at start-up and on reload, with FILE:LINE:COL errors.
 *
 * Every request has one shape (like a driver's contract):
 *
 *   route matched -> prepare(): the handler states its script's keys and
 *   args (no I/O; it cannot end the request) -> ONE EVALSHA: the request
 *   layer's prelude (rate limit, end of a pending dialogue, key types) and
 *   the handler's script, or the prelude alone for a handler without one ->
 *   result(): the handler renders the outcome from the script's result.
 *
 * What a handler must keep to:
 * - prepare() and result() must not block. result() ends the request with
 *   exactly one of sc_req_reply(), sc_req_reply_tpl(), sc_req_silent() or
 *   sc_req_fail(), before it returns (or from the callback of the one HTTP
 *   call it started: sc_callout_call below).
 * - Redis work is its one Lua script: one round trip per MO, rate limit and
 *   pending dialogue included, whatever the handler does.
 * - Idempotent: the SMSC redelivers an MO whose resp was lost, so the same
 *   MO run twice must not change anything twice (delete what exists; write
 *   an event only for what this run deleted).
 * - Texts come from templates, declared here with their placeholders and
 *   written in the config; text from subscribers and Redis is data.
 * - Everything the request exposes is borrowed, valid until it ends. */
#ifndef SC_HANDLER_H
#define SC_HANDLER_H

#include <stddef.h>

struct redisReply;
struct sc_callout;
struct sc_catalogue;
struct sc_schema;

/* ---- the request, as a handler sees it (implemented by core/request.c) ----
 *
 * One MO's life: from the route that matched to its one outcome.
 *
 * Outcomes (exactly one per request, from the handler's result()):
 *   sc_req_reply / sc_req_reply_tpl  a reply to the subscriber; the MO is
 *                                    acknowledged ESME_ROK (before the reply
 *                                    is queued, or once the SMSC accepted
 *                                    it: limits.ack_policy)
 *   sc_req_silent                    ESME_ROK and no reply
 *   sc_req_fail                      the configured temporary error, no reply,
 *                                    nothing changed: the SMSC redelivers
 * After any of them the request is gone: do not touch it again. */

#define SC_REQ_MAX_CAPS 10

/* The dialogue limits of the configuration generation a request runs under
 * (limits.* in the config, docs/contracts.md) and the refund policy of the
 * cancelling handlers (limits.refund_*, docs/handlers.md). */
struct sc_req_limits {
    int menu_ttl_s;            /* how long a "0000" list answers item numbers */
    int confirm_ttl_s;         /* how long a question waits for its "Y" */
    int redelivery_horizon_s;  /* how long the SMSC may deliver an MO again */
    int refund_unconfirmed;    /* 1: cancelling an unconfirmed service files a refund */
    int refund_max_months;     /* the months a refund covers at most */
    /* How replies are sent (smpp.max_parts, smpp.seg_mode as enum
     * sc_seg_mode): a handler whose reply comes from outside (handlers/
     * http.c) checks it fits. */
    int max_parts;
    int seg_mode;
};

/* The highest limits.refund_max_months (the month starts it takes fit in
 * one script argument). */
#define SC_REFUND_MAX_MONTHS 36

struct sc_req {
    /* Read-only for handlers. */
    const char *msisdn;        /* national number: keys use it as {MSISDN} */
    const char *text;          /* the normalised command */
    const char *service;       /* the service number the MO was sent to */
    const char *caps[SC_REQ_MAX_CAPS]; /* regex captures (caps[0] = whole match) */
    size_t ncaps;
    /* What the daemon lends the handler, valid until the request ends: the
     * dialogue limits of the configuration generation the request runs
     * under and the cached service catalogue (handlers/catalogue.h). */
    const struct sc_req_limits *limits;
    const struct sc_catalogue *catalogue;
    /* 1 on a Redis Cluster: the script's global keys are its outbox (the
     * request layer swaps them) and its global writes go through sc_emit
     * (handlers/emit_lua.h); it can read no global key. */
    int cluster;
    /* The route that matched (its name, for logs and per-route state) and
     * the daemon's HTTP client (below). */
    const char *route;
    struct sc_callout *callout;
};

/* The script call a handler states in prepare(): its keys (K[1..]) and
 * arguments (A[1..]) in order, copied into the request. At most
 * SC_REQ_MAX_KEYS keys and SC_REQ_MAX_ARGS args, SC_REQ_CALL_BYTES bytes in
 * all; more fails the request (event=script_error), as does a key count
 * that differs from the handler's key_types. Keys must carry the {MSISDN}
 * hash tag of this subscriber (or be global keys like vas:events). */
#define SC_REQ_MAX_KEYS 16
#define SC_REQ_MAX_ARGS 16
#define SC_REQ_CALL_BYTES 1024
struct sc_req_call;

/* A key as it is (a global key: SC_KEY_EVENTS). */
void sc_req_key(struct sc_req_call *call, const char *key);
/* A per-subscriber key: fmt is one of store/keys.h's SC_KEY_* formats, its
 * %s becomes this request's MSISDN. */
void sc_req_key_m(struct sc_req_call *call, const char *fmt);
void sc_req_arg(struct sc_req_call *call, const char *arg);
/* An argument that is not copied (it may be longer than the call's
 * buffer): it must live until the request's script was sent, i.e. until
 * prepare() returns (e.g. sc_catalogue_prices). */
void sc_req_arg_ref(struct sc_req_call *call, const char *arg);
/* A number, in decimal. */
void sc_req_arg_int(struct sc_req_call *call, long long v);

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

/* ---- an HTTP call (implemented by core/callout.c) --------------------------
 *
 * The one exception to "result() ends the request before it returns": a
 * handler may start one call from result() and end the request from the
 * call's callback (handlers/http.c). The request, its options and its
 * strings stay valid until it ends; the callback always runs, exactly once
 * and never from inside sc_callout_call. */

struct sc_callout_req {
    const char *url;           /* http:// or https://, the query included */
    const char *body;          /* POST this (body_len bytes), or NULL: GET */
    size_t body_len;
    const char *content_type;  /* of body */
    long timeout_ms;           /* the whole call, connect included */
    size_t max_response;       /* body bytes kept: a longer body fails the call */
};

struct sc_callout_res {
    int err;                   /* 0 (a response came, any status), or SC_E* */
    const char *why;           /* err's word for logs: timeout, connect, too_big, ... */
    long status;               /* HTTP status; 0 without a response */
    const char *content_type;  /* the response's, or NULL */
    const char *body;          /* NUL-terminated (len bytes); borrowed for the callback */
    size_t len;
    unsigned long long ms;     /* how long the call took */
};

typedef void (*sc_callout_cb)(void *arg, const struct sc_callout_res *res);

/* Start a call; every string of r is copied. 0, or SC_E* (no memory,
 * stopping: SC_ESTATE, a URL over 8 KiB: SC_ETOOBIG) and cb will not run. */
int sc_callout_call(struct sc_callout *c, const struct sc_callout_req *r, sc_callout_cb cb,
                    void *arg);

/* ---- the handler ---------------------------------------------------------- */

/* A template a handler renders: its name under "templates:" and the
 * placeholders it fills. A config template naming any other placeholder is
 * refused at start-up. */
struct sc_tpl_decl {
    const char *name;
    const char *const *vars;
    size_t nvars;
};

#define SC_TPL_DECL(name, ...)                                                  \
    {name, (const char *const[]){__VA_ARGS__},                                   \
     sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)}

struct sc_handler {
    const char *name;                     /* used in routes: "handler: NAME" */
    const char *summary;                  /* one line, for docs and --check */
    const struct sc_schema *options;      /* route "options:"; NULL = none allowed */
    const struct sc_tpl_decl *templates;  /* ends with {NULL, NULL, 0} */
    /* Lua run after the prelude, or NULL (the prelude alone: no keys). It
     * sees its own keys as K[1..] and arguments as A[1..] (KEYS/ARGV start
     * with the request layer's), the time as now_ms / now_s (strings) and
     * the dialogue key as PENDING, and returns a table whose elements
     * reach result(). */
    const char *script;
    /* Lua placed before script (after the request layer's prelude), e.g. a
     * library several handlers share (handlers/order.h sc_order_lua), or
     * NULL. */
    const char *script_lib;
    /* The Redis type of each key the script gets, K[1..] in order, one
     * letter per key: h hash, s string, x stream, t set, z zset, l list.
     * The request layer checks them all (and its own keys) before the
     * script's first write; a key of another type (a missing key is fine)
     * answers service_error with nothing written (event=bad_data). */
    const char *key_types;
    /* Set when this handler answers a pending dialogue (e.g. "Y" after
     * "00000") or ends it itself: any other handler's script clears a
     * pending "00000" (a pending order waits for its answer, a new order,
     * a "00000" or its expiry: handlers/order.h). */
    int continues_dialogue;
    /* State the script's keys and args into call (sc_req_key, sc_req_arg,
     * ...); opts is the parsed route options struct (or NULL). NULL: no
     * keys and no args. */
    void (*prepare)(const struct sc_req *req, const void *opts, struct sc_req_call *call);
    /* The script ran: elems are the elements of its table (borrowed, valid
     * during the call; none without a script). Store errors (temporary
     * error), rate limiting and damaged keys (service_error) were handled
     * by the request layer: result() sees only real results. It must end
     * the request. */
    void (*result)(struct sc_req *req, const void *opts, struct redisReply *const *elems,
                   size_t nelems);
};

/* The registry: every handler, NULL-terminated (handlers/registry.c). */
extern const struct sc_handler *const sc_handlers[];

/* The handler named name, or NULL; its position in sc_handlers goes to
 * *index when found and index is not NULL. */
const struct sc_handler *sc_handler_find(const char *name, size_t *index);

#endif
