/* orders_int.h -- internals shared by core/orders.c and core/order_push.c:
 * a vas:orders confirmation as an mt:push entry. */
#ifndef SC_ORDERS_INT_H
#define SC_ORDERS_INT_H

#include "core/config.h"
#include "store/store.h"

/* KEYS mt:push, vas:orders; ARGV entry, group, then the push's fields. */
extern const char sc__order_push_lua[];

/* One script (sc__order_push_lua, registered as script): XADD mt:push the
 * confirmation (id push_id, to, text, from the first of service_numbers,
 * kind order, priority mt.order_priority, not_after the end of
 * limits.confirm_ttl_s from now, quiet mt.order_quiet) and XACK entry in
 * vas:orders (group), atomically. cb gets {"ok", push entry id}. Returns
 * 0, or what sc_store_eval returned (cb not called). Strings are copied. */
int sc__order_push(struct sc_store *st, int script, const struct sc_config *cfg,
                   const char *entry, const char *group, const char *push_id, const char *to,
                   const char *text, sc_store_cb cb, void *ctx);

#endif
