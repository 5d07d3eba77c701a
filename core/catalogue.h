/* catalogue.h -- the VAS catalogue (vas:svc:CODE hashes) cached in memory.
 *
 * Loaded when the store becomes ready, then every catalogue_refresh_s and on
 * SIGHUP, with SCAN + HGETALL in batches on the loop; a complete new snapshot
 * replaces the old one at once, so a lookup never sees half a refresh. A
 * failed refresh keeps the old snapshot. Bad data (a price that is not a
 * number, a key of the wrong type) is logged with the key and kept out or
 * marked, never fatal. */
#ifndef SC_CATALOGUE_H
#define SC_CATALOGUE_H

#include <uv.h>

#include "core/request.h"
#include "store/store.h"

struct sc_catalogue;

/* loaded (optional) is called after every refresh, ok = 1 when it
 * completed, 0 when it failed (the old snapshot is kept). */
struct sc_catalogue *sc_catalogue_new(uv_loop_t *loop, struct sc_store *st, unsigned refresh_s,
                                      void (*loaded)(void *arg, int ok), void *arg);
/* Start a refresh now (no-op if one is running or the store is not ready). */
void sc_catalogue_refresh(struct sc_catalogue *c);
/* The entry for code, or NULL. Borrowed: valid during the current callback
 * (a refresh may replace the snapshot between callbacks). */
const struct sc_service *sc_catalogue_get(const struct sc_catalogue *c, const char *code);
/* Entries in the current snapshot. */
size_t sc_catalogue_size(const struct sc_catalogue *c);
/* Stop timers; done is called once handles are closed. */
void sc_catalogue_stop(struct sc_catalogue *c, void (*done)(void *), void *arg);
void sc_catalogue_free(struct sc_catalogue *c);

#endif
