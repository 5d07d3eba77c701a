/* catalogue.h -- the VAS catalogue (vas:svc:CODE hashes) cached in memory,
 * and the guard against a Redis that lost its data.
 *
 * Loaded when the store becomes ready, then every catalogue_refresh_s and on
 * SIGHUP: SMEMBERS vas:catalogue (the set shortcodectl keeps), then one
 * HGETALL vas:svc:CODE per member, pipelined in batches. Never SCAN: the
 * cost does not grow with the keyspace, and it works where the keyspace is
 * split (Cluster). A complete new snapshot replaces the old one at once, so
 * a lookup never sees half a refresh. A failed refresh keeps the old
 * snapshot. Bad data (a price that is not a number, a key of the wrong
 * type, a member without its hash) is logged with the key and kept out or
 * marked, never fatal.
 *
 * Dataset guard. Once a non-empty catalogue was loaded, its disappearance
 * means the Redis was emptied (FLUSHALL) or replaced by an empty one: the
 * daemon's answers would be false ("you have no subscription"). So: every
 * dataset_check_ms a SCARD vas:catalogue + DBSIZE probe (two O(1)
 * commands, whatever the MO rate; a count that differs from the last load's
 * also reloads the catalogue at once, so an import is seen within
 * dataset_check_ms); at each (re)connect the server's run_id
 * and key count are compared with the last ones seen. When the catalogue
 * vanished, or the server was replaced (run_id changed) by one with an
 * empty db while we had data, an error event=redis_dataset_lost is logged
 * and the store is held (sc_store_hold: MOs get the temporary error, the
 * SMSC keeps them) until a refresh loads a non-empty catalogue again
 * (event=redis_dataset_back). A refresh that finds no catalogue keeps the
 * last good snapshot. */
#ifndef SC_CATALOGUE_H
#define SC_CATALOGUE_H

#include <uv.h>

#include "store/store.h"

struct sc_catalogue;

/* The catalogue entry of a service code (cached from vas:svc:CODE). name is
 * UTF-8; price_fen < 0 when the stored price is not a number; provider ""
 * when the feed gave none; kind "monthly" when the feed gave none (only
 * monthly services can be ordered by SMS, handlers/order.c). */
struct sc_service {
    const char *code;
    const char *name;
    long long price_fen;
    const char *provider;
    const char *kind;
};

/* loaded (optional) is called after every refresh, ok = 1 when it
 * completed, 0 when it failed (the old snapshot is kept). check_ms: the
 * dataset probe period (0: 1000). */
struct sc_catalogue *sc_catalogue_new(uv_loop_t *loop, struct sc_store *st, unsigned refresh_s,
                                      unsigned check_ms, void (*loaded)(void *arg, int ok),
                                      void *arg);
/* The store became ready: compare the server with the last one, refresh. */
void sc_catalogue_connected(struct sc_catalogue *c);
/* Start a refresh now (no-op if one is running or the store is not
 * connected). */
void sc_catalogue_refresh(struct sc_catalogue *c);
/* The entry for code, or NULL. Borrowed: valid during the current callback
 * (a refresh may replace the snapshot between callbacks). */
const struct sc_service *sc_catalogue_get(const struct sc_catalogue *c, const char *code);
/* Every known fee as ",CODE=FEN,CODE=FEN," ("," when none), for a script
 * that cannot read vas:svc:CODE (on a Redis Cluster it lives on another
 * slot). Borrowed, as sc_catalogue_get's. */
const char *sc_catalogue_prices(const struct sc_catalogue *c);
/* Entries in the current snapshot. */
size_t sc_catalogue_size(const struct sc_catalogue *c);
/* 1 while the dataset is taken as lost (the store is held). */
int sc_catalogue_lost(const struct sc_catalogue *c);
/* Stop timers; done is called once handles are closed. */
void sc_catalogue_stop(struct sc_catalogue *c, void (*done)(void *), void *arg);
void sc_catalogue_free(struct sc_catalogue *c);

/* Format fen as yuan for texts: 500 -> "5元", 50 -> "0.5元", 1 -> "0.01元",
 * 1250 -> "12.5元"; a negative value gives "?元". Returns out. */
char *sc_fmt_fen(long long fen, char *out, size_t outsz);

#endif
