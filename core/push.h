/* push.h -- the push intake: the mt:push stream (consumer group shortcoded)
 * read on Redis connections of its own, each entry checked, deduplicated by
 * its id, queued at its priority in the esme, and recorded in mt:status and
 * mt:{ID} once accepted or finally refused (docs/contracts.md, "mt:push").
 * Owned by core/app.c. */
#ifndef SC_PUSH_H
#define SC_PUSH_H

#include <stddef.h>

struct sc_app;
struct sc_pushes;

/* Makes the intake's two connections to a->boot_cfg's Redis (one for the
 * blocking reads, one for its scripts: neither is the MO path's) and starts
 * them and its timer; nothing is read until both are ready and a bind is
 * up. NULL with err when mt.enabled is off (err ""), a store cannot be made
 * or memory is short. */
struct sc_pushes *sc_pushes_new(struct sc_app *a, char *err, size_t errsz);
/* After a reload (a->gen is the new one): quiet hours, time zone and test
 * clock applied anew; held pushes are read at once when that ends them.
 * NULL is a no-op. */
void sc_pushes_reconfigure(struct sc_pushes *p);
/* Stop reading at once (shutdown's first step); what is queued goes on. */
void sc_pushes_quiesce(struct sc_pushes *p);
/* Once the esme stopped: waits (up to limits.shutdown_timeout_ms) for the
 * records still being written, then closes the connections; done once
 * every handle is closed. Entries not recorded stay pending in mt:push. */
void sc_pushes_stop(struct sc_pushes *p, void (*done)(void *), void *arg);
/* After done. NULL is a no-op. */
void sc_pushes_free(struct sc_pushes *p);

#endif
