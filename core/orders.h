/* orders.h -- the daemon's two order timers: the vas:orders stream
 * consumer (providers' and other channels' orders become confirmation SMS)
 * and the sweep that records unanswered orders as expired. Owned by
 * core/app.c; the order dialogue itself is handlers/order.c. */
#ifndef SC_ORDERS_H
#define SC_ORDERS_H

#include <stddef.h>

struct sc_app;
struct sc_orders;

/* Registers the scripts with a->store (before sc_store_start) and starts
 * both timers on a->loop; each tick does nothing until the store is ready
 * (and, for the stream, a bind is up). NULL with err when a script cannot
 * be registered or memory is short. */
struct sc_orders *sc_orders_new(struct sc_app *a, char *err, size_t errsz);
/* Stop the timers (work in flight finishes through its callbacks: the
 * store and the esme fail what they still hold); done once the handles are
 * closed. */
void sc_orders_stop(struct sc_orders *o, void (*done)(void *), void *arg);
/* After done, once the store and the esme are stopped. NULL is a no-op. */
void sc_orders_free(struct sc_orders *o);

/* The mt:push id of an order's confirmation: "order:" + 16 hex digits, the
 * same for the same provider and order id (a re-read entry is deduplicated
 * by the push path). out: at least 23 bytes. */
void sc_order_push_id(const char *provider, const char *order_id, char *out, size_t outsz);

#endif
