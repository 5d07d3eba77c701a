/* order_int.h -- what handlers/vas.c (vas_confirm, the one "Y" / "N"
 * handler) takes from handlers/order.c to answer an order. */
#ifndef SC_ORDER_INT_H
#define SC_ORDER_INT_H

#include <stddef.h>

#include "handlers/handler.h"

struct redisReply;

/* Templates of the dialogue, declared by vas_confirm too (it answers the
 * "Y" of an order). */
#define SC_ORDER_ANSWER_TEMPLATES                                                  \
    SC_TPL_DECL("order_confirmed", "name", "provider", "fee", "code"),             \
        SC_TPL_DECL("order_declined", "name", "code"),                             \
        SC_TPL_DECL("order_expired", "name", "code", "time"),                      \
        SC_TPL_DECL("order_subscribed", "name", "code", "time"),                   \
        SC_TPL_DECL("order_past_confirmed", "name", "code", "time"),               \
        SC_TPL_DECL("order_past_declined", "name", "code", "time"),                \
        SC_TPL_DECL("order_past_superseded", "name", "code", "time")

/* vas_confirm's script starts with
 *     local o = ord_answer(p, A[3] == 'Y', <time of its own record>, HORIZON)
 *     if o then return o end
 * p: pending:{M} (false when none). ord_answer returns nil when the answer
 * is not an order's: p is another kind of dialogue, or nothing is pending
 * and no order ended within the horizon after other_at (the cancel-all
 * record). Else {"order", "confirmed", code}, {"order", "declined", code},
 * {"order", "expired", code, deadline}, {"order", "subscribed", code,
 * since} (billing subscribed it meanwhile) or {"order", "past", state,
 * code, ended} (answered or ended before: a redelivered or late answer).
 * Its callback hands a result whose first element is "order" here (e, n:
 * the elements after that word). */
void sc__order_on_answer(struct sc_req *req, struct redisReply *const *e, size_t n);

#endif
