/* cluster.h -- what store.c and handshake.c call of the Redis Cluster router
 * (cluster.c). Internal to store/: the owner sees only store.h. */
#ifndef SC_STORE_CLUSTER_H
#define SC_STORE_CLUSTER_H

#include "store/store_int.h"

/* The seed's handshake found cluster_enabled:1: make the router (first
 * time) and ask the slot map. */
void sc__cluster_seed_ready(struct sc_store *st);
/* Several seeds in the URL: make the next one this attempt's host. */
void sc__pick_seed(struct sc_store *st);
/* Every slot has an owner whose engine is ready. */
int sc__cluster_ready(const struct sc_cluster *cl);
/* sc_store_eval / sc_store_command (sc_store_write: wait 1) routed by
 * slot: same contract. */
int sc__cluster_eval(struct sc_cluster *cl, int script, int nkeys, const char *const *keys,
                     const size_t *keylens, int nargs, const char *const *args,
                     const size_t *arglens, sc_store_cb cb, void *ctx);
int sc__cluster_command(struct sc_cluster *cl, int argc, const char *const *argv,
                        const size_t *argvlen, sc_store_cb cb, void *ctx, int wait);
/* The seed's sc_store_server, without run_id and keys: a cluster is many
 * servers, and the seed's connection may move from one to another, so
 * "the server was replaced" (run_id changed, db empty) cannot be told from
 * one of them (the owner's dataset probe still sees a vanished catalogue). */
const struct sc_store_server *sc__cluster_server(struct sc_cluster *cl);
unsigned sc__cluster_pending(const struct sc_cluster *cl);
void sc__cluster_set_max_pending(struct sc_cluster *cl, unsigned max_pending);
/* Stop every engine and the seed; done once all are closed. 1 when it
 * did; 0 when already stopping (the seed's own stop then goes on). */
int sc__cluster_stop(struct sc_cluster *cl, void (*done)(void *arg), void *arg);
/* After done. Frees the node engines, not the seed. */
void sc__cluster_free(struct sc_cluster *cl);

#endif
