/* vas_int.h -- what the VAS self-service handlers share: "0000" list
 * (vas_list.c), reply-number and "TD<code>" cancel (vas_cancel.c),
 * "00000" + confirm (vas_all.c), their scripts (vas_lua.c) and the pieces
 * of their replies (vas_text.c).
 *
 * Redis data. What a subscriber pays for is the hash sub:{M}:vas (service
 * code -> unix seconds the subscription started), written by billing feeds;
 * names and fees come from the cached catalogue (handlers/catalogue.h). Every
 * cancellation, in one Lua script per MO (one round trip), appends one entry
 * to vas:events (event=unsubscribe msisdn service channel=sms at id) and to
 * the subscriber's audit:{M} stream (event service channel at id, trimmed to
 * about six months with MINID ~), records the code in gone:{M}, then HDELs
 * it. The request layer checks every key's type before the script's first
 * write (key_types), so a script does all of that or nothing; an event it
 * ever repeats carries the same id ("M:CODE:SINCE:unsubscribe").
 *
 * Refunds (docs/handlers.md "Refunds"). A cancelled code without an entry in
 * sub:{M}:conf (the reference of its secondary confirmation) was charged
 * without one: with limits.refund_unconfirmed the same script appends a
 * refund_request to vas:events and audit:{M} (amount_fen = 2 x fee x months
 * charged, at most limits.refund_max_months; id "M:CODE:SINCE:refund_request")
 * and keeps amount and months in gone:{M} ("UNIXS:sms:AMOUNT:MONTHS"), so a
 * redelivered cancel states the same refund and files none. A cancellation
 * deletes the code's confirmation too: it belonged to that subscription.
 *
 * Redelivery model (docs/reliability.md). SMPP 3.4 gives an MO no identity,
 * and the SMSC may deliver one again hours later, after the subscriber wrote
 * again. So nothing an MO means may change within
 * limits.redelivery_horizon_s (H) of when it could have been sent:
 * - items:{M} HASH binds item numbers to codes ("1" -> code, "t1" -> when
 *   number 1 was last listed; "at" and "size" of the last list). A new
 *   "0000" keeps the number of every service still subscribed and gives a
 *   new one the lowest number free; a number is freed only menu_ttl_s + H
 *   after the last list that showed it, so an MO answering any list still
 *   means the same service when it comes back.
 * - gone:{M} HASH: code -> "UNIXS:channel" of its cancellation here, kept H
 *   (pruned when written): a later MO naming it, by number or by TD, is
 *   answered "彩铃已于10:31退订", never "cancelled now".
 * - pending:{M} holds "cancel_all:CODES" after "00000": the "Y" cancels only
 *   those codes. allgone:{M} HASH (at count codes told) records a completed
 *   cancel-all for H: a "Y" without a pending prompt answers that it was done
 *   at T, and the first "00000" after it answers the same (and what was added
 *   since) instead of asking, so a redelivered "00000" + "Y" cannot cancel a
 *   service that no prompt the subscriber answered named.
 * Two of the same number in one MO ("1 1") are one number. */
#ifndef SC_VAS_INT_H
#define SC_VAS_INT_H

#include <stddef.h>

#include "handlers/catalogue.h"
#include "handlers/handler.h"

#define VAS_MAX_NUMBERS 20     /* item numbers one MO may carry */
#define VAS_MAX_ITEM 99        /* the highest item number a menu has */
#define VAS_NAME_CHARS 10      /* a longer service name is cut, with "…" */
#define VAS_TEXT_MAX 4096      /* a reply being built */

/* The key types of the cancelling scripts' K[1..5] (handler.h key_types):
 * sub:{M}:vas, vas:events, audit:{M}, gone:{M}, sub:{M}:conf. */
#define VAS_CANCEL_KEY_TYPES "hxxhh"

/* ---- the scripts (vas_lua.c; each states its keys, args and result) ---- */

extern const char sc__vas_list_lua[];
extern const char sc__vas_cancel_items_lua[];
extern const char sc__vas_cancel_all_lua[];
extern const char sc__vas_confirm_lua[];
extern const char sc__vas_cancel_code_lua[];

/* ---- building a reply (vas_text.c) -------------------------------------- */

/* A reply being put together from rendered templates; cut (never
 * overflowing) at VAS_TEXT_MAX. */
struct vas_text {
    char s[VAS_TEXT_MAX];
    size_t len;
};

void sc__vas_text_init(struct vas_text *t);
void sc__vas_text_add(struct vas_text *t, const char *s);
/* Append template tpl rendered with values. */
void sc__vas_text_tpl(struct vas_text *t, struct sc_req *req, const char *tpl,
                      const char *const *values);
/* A new line (when t is not empty), then the template. */
void sc__vas_text_line(struct vas_text *t, struct sc_req *req, const char *tpl,
                       const char *const *values);

/* Element i of a script result as a string, or NULL. */
const char *sc__vas_el_str(struct redisReply *const *e, size_t n, size_t i);

/* Name of a service for texts: the catalogue name on one line, cut to
 * VAS_NAME_CHARS characters, or the code when the catalogue does not know
 * it; into out, which is returned. */
const char *sc__vas_svc_name(const struct sc_service *svc, const char *code, char *out,
                             size_t outsz);
/* The monthly fee of a service in fen, or -1 when unknown or not a number. */
long long sc__vas_svc_fee(const struct sc_service *svc);

/* A sum of fees: the known ones added up, the unknown ones counted (a
 * total never claims a fee it does not know). */
struct fee_sum {
    long long fen;
    size_t unknown;
};

void sc__vas_fee_add(struct fee_sum *sum, long long fee);
/* Values for {total} and {unknown}: "15元" and "（1项资费未知）" (the
 * vas_fee_unknown template) or "" when every fee is known. */
void sc__vas_fee_texts(struct sc_req *req, const struct fee_sum *sum, char *total,
                       size_t totalsz, char *unknown, size_t unknownsz);
/* The one walk over codes that sums their fees: e[from], e[from + step],
 * ... before e[to] (to <= n), each looked up in the catalogue once; its
 * entry goes to svcs[k] for the k-th code when svcs is not NULL, its name
 * (joined with "、") to names when names is not NULL. Returns 0, or -1
 * when one of them is not a string. */
int sc__vas_codes_sum(struct sc_req *req, struct redisReply *const *e, size_t n, size_t from,
                      size_t to, size_t step, struct fee_sum *sum, struct vas_text *names,
                      const struct sc_service **svcs);

/* The vas_gone line: "彩铃已于10:31退订，无需再次退订。" for one or more
 * (code, time) pairs. */
struct vas_gone {
    struct vas_text items;
    size_t n;
};

void sc__vas_gone_init(struct vas_gone *g);
void sc__vas_gone_add(struct vas_gone *g, struct sc_req *req, const char *code, const char *at);

/* The keys of a cancelling script: K[1..5] (VAS_CANCEL_KEY_TYPES), then
 * for 'i' the catalogue prefix vas:svc: and items:{M}, for 'a' vas:svc: and
 * allgone:{M}, for 0 nothing more. */
void sc__vas_cancel_keys(struct sc_req_call *call, char more);
/* A[1..4] of a cancelling script (vas_lua.c VAS_LUA_CANCEL): the msisdn,
 * the redelivery horizon, whether an unconfirmed cancellation files a
 * refund and the month starts that count its months. */
void sc__vas_cancel_args(struct sc_req_call *call, const struct sc_req *req);

/* The month starts of a refund: the unix seconds of 00:00 local time (TZ)
 * on the 1st of the month of now and of the max_months - 2 months before
 * it, newest first, joined with ","; "" when max_months is 1. Into out
 * (SC_REFUND_MAX_MONTHS * 12 bytes hold any); returns its length, or -1
 * when max_months is out of 1..SC_REFUND_MAX_MONTHS or out is too small. */
#define VAS_MONTH_STARTS_MAX (SC_REFUND_MAX_MONTHS * 12)
int sc__vas_month_starts(long long now, int max_months, char *out, size_t outsz);

/* The refunds of a reply: vas_refund_item texts joined with "、" and their
 * sum; one vas_refund line for all of them. */
struct vas_refunds {
    struct vas_text items;
    size_t n;
    struct fee_sum total;
};

void sc__vas_refunds_init(struct vas_refunds *r);
/* A refund the script reported for code: amount in fen ("" when the fee
 * is unknown) and months; months "" (no refund) adds nothing. */
void sc__vas_refunds_add(struct vas_refunds *r, struct sc_req *req, const char *code,
                         const char *amount, const char *months);
/* The vas_refund line on a new line of t, when r has any. */
void sc__vas_refunds_line(struct vas_text *t, struct sc_req *req, const struct vas_refunds *r);

/* A script returned something its result() cannot read: a bug; the
 * request fails (temporary error). */
void sc__vas_bad_result(struct sc_req *req, const char *handler);

#endif
