/* order.h -- VAS orders with a secondary confirmation (二次确认): the Lua
 * every order script shares, the templates of the dialogue, and what
 * vas_confirm ("Y" / "N") and core/orders.c (the vas:orders stream, the
 * expiry sweep) take from handlers/order.c.
 *
 * Redis data (docs/contracts.md, docs/handlers.md "Orders"):
 * - order:{M} HASH: the subscriber's latest order, pending or ended: id,
 *   service, channel (sms or the stream entry's), entry (its vas:orders
 *   entry id, "" for sms), provider, at (unix ms of the request), deadline
 *   (unix s), state (pending | confirmed | declined | expired | superseded
 *   | already | failed), ended (unix s), ref (the confirmation reference),
 *   sends (confirmation SMS sent for a stream order); and the provider
 *   protection: "n:PROVIDER" -> "START:COUNT" (stream orders in the day
 *   from START), "declined:PROVIDER" -> unix s of the last decline. Kept
 *   (EXPIRE) long enough for the redelivery horizon and those counters.
 * - pending:{M} = "order:ID" while the order waits for its answer (the
 *   request layer's dialogue key; "cancel_all:..." is the other kind).
 * - vas:orders:due ZSET: "M:ID" scored by the deadline; the sweep expires
 *   the due ones (each once, whichever daemon runs first).
 * - sub:{M}:conf HASH: CODE -> the confirmation reference, written with
 *   sub:{M}:vas CODE on the "Y".
 * Events (vas:events, and the same fields in audit:{M}, trimmed to about six
 * months): subscribe (ref), order_declined (reason: subscriber,
 * superseded, limited, already_subscribed, undeliverable), order_expired;
 * every one carries order = the order's id, and a deterministic id
 * (M:ORDER:EVENT; subscribe: M:CODE:SINCE:subscribe, the SINCE its later
 * unsubscribe id names). audit:{M} also gets order_requested.
 * What vas.c takes to answer an order's "Y" / "N": order_int.h. */
#ifndef SC_ORDER_H
#define SC_ORDER_H

#include <stddef.h>

#include "handlers/handler.h"

struct sc_service;

/* Confirmation SMS of a stream order sent before it is given up. */
#define SC_ORDER_MAX_SENDS 4

/* The order library: Lua put before a script (handler.h script_lib, and
 * core/orders.c). Needs now_s and now_ms (strings) defined before it; the
 * script sets ORD.MSISDN, ORD.NOW (a number) and ORD.OK = {order=,
 * pending=, sub=, conf=, events=, audit=, due=} (key names; conf and due
 * only where used) before calling it. Defines:
 *   ord_load()                      order:{M} as a table
 *   ord_event(o, event, extra)      one vas:events + audit:{M} entry
 *   ord_end(o, state, event, reason) ends o (event may be nil)
 *   ord_supersede()                 a pending order ends "superseded"
 *   ord_create(id, code, channel, entry, provider, ttl, keep)
 *   ord_answer(p, yes, other_at, horizon)  the "Y"/"N" (order_int.h) */
extern const char sc_order_lua[];

/* The prompt of an order (template order_prompt, or order_replaced + it
 * when replaced is not NULL: the code of the order it replaced) into out;
 * render renders a template (sc_req_render, or the router's for the
 * stream). Returns out. */
typedef size_t (*sc_order_render_fn)(void *arg, const char *tpl, const char *const *values,
                                     char *out, size_t outsz);
char *sc_order_prompt(const struct sc_catalogue *cat, const char *code, int confirm_ttl_s,
                      const char *replaced, sc_order_render_fn render, void *arg, char *out,
                      size_t outsz);

/* Whether svc may be ordered: known, kind "monthly" and a known fee. */
int sc_order_orderable(const struct sc_service *svc);

#endif
