/* orders_int.h -- internals shared by core/orders.c (the vas:orders consumer)
 * and core/order_push.c (how an entry's confirmation SMS goes out). */
#ifndef SC_ORDERS_INT_H
#define SC_ORDERS_INT_H

#include "store/store.h"

struct sc_app;

/* KEYS mt:push, vas:orders; ARGV entry, group, then the push's fields.
 * Registered by sc_orders_new. */
extern const char sc__order_push_lua[];

/* How a confirmation SMS ended, for its done callback. */
enum sc__order_sent {
    SC__ORDER_UNSENT,   /* not sent: the entry stays pending (claimed again) */
    SC__ORDER_PUSHED,   /* an mt:push entry, written with the entry's XACK */
    SC__ORDER_ACCEPTED, /* the SMSC accepted it (no push intake): XACK the entry */
};

/* One vas:orders entry's confirmation SMS. Filled and owned by the caller
 * (core/orders.c's job); the strings are borrowed and must stay valid until
 * done is called. */
struct sc__order_sms {
    const char *entry, *group; /* the stream entry and its consumer group */
    const char *id, *code;     /* the order id, the service code */
    const char *to;            /* the entry's msisdn, as written: the SMS goes there */
    const char *msisdn;        /* national, for the log lines */
    const char *push_id;       /* its mt:push id (sc_order_push_id) */
    void (*done)(void *ctx, enum sc__order_sent how);
    void *ctx;
};

/* Render the order's prompt (handlers/order.h; replaced: the code it
 * supersedes, or "") and send it: while the push intake runs (a->pushes),
 * one script (push_script, registered from sc__order_push_lua; on a Redis
 * Cluster two commands) XADDs it to mt:push (id push_id, from the first of
 * service_numbers, kind order, priority mt.order_priority, not_after the end
 * of limits.confirm_ttl_s from now, quiet mt.order_quiet) and XACKs the
 * entry; else sc_esme_send, and the caller acknowledges once the SMSC
 * accepted it. done is called exactly once, maybe before this returns; it
 * logs what happened. */
void sc__order_send(struct sc_app *a, int push_script, struct sc__order_sms *s,
                    const char *replaced);

#endif
