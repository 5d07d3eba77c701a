/* usage.h -- the usage:in consumer: billing's account updates (consumer
 * group shortcoded, shared by every daemon), each applied to acct:{M} by
 * one script that also decides and queues the reminders due
 * (docs/reminders.md, docs/contracts.md "usage:in"). Owned by core/app.c. */
#ifndef SC_USAGE_H
#define SC_USAGE_H

#include <stddef.h>

struct sc_app;
struct sc_usage;

/* Makes the consumer's two Redis connections (one for the blocking reads,
 * one for the scripts; neither is the MO path's) to a->boot_cfg's Redis and
 * starts them and its timer. NULL with err "" when reminders.enabled is
 * off; NULL with err set when a store or the script cannot be made. */
struct sc_usage *sc_usage_new(struct sc_app *a, char *err, size_t errsz);
/* Stop reading at once (shutdown's first step); scripts in flight finish. */
void sc_usage_quiesce(struct sc_usage *u);
/* Waits (up to limits.shutdown_timeout_ms) for the scripts in flight and
 * their XACK, then closes the connections; done once every handle is
 * closed. Entries not acknowledged stay pending (applying them again
 * changes nothing). */
void sc_usage_stop(struct sc_usage *u, void (*done)(void *), void *arg);
/* After done. NULL is a no-op. */
void sc_usage_free(struct sc_usage *u);

#endif
