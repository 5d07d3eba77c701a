/* receipts.h -- what core/receipts.c shares with the push path on a Redis
 * Cluster (core/push_cluster.c): the receipt's two scripts there and the
 * mt:status entry the daemon writes itself (another slot than the push's). */
#ifndef SC_RECEIPTS_H
#define SC_RECEIPTS_H

#include "store/store.h"

struct sc_app;
struct redisReply;

/* Cluster only. KEYS mt:msg:{MID}; ARGV stat, err, park ttl: {"map", id,
 * index, parts} or {"parked"} (as sc__receipt_lua, without the count). */
extern const char sc__receipt_look_lua[];
/* Cluster only. KEYS mt:{ID}; ARGV id, index, parts, stat, err: {"gone",
 * id} or sc_rcpt_apply's replies without its mt:status entry
 * (core/receipt_lua.h): a final one is {state, id, to, parts, err, at}. */
extern const char sc__receipt_capply_lua[];

/* Register the receipt scripts on a->store (before it starts): 0 or a
 * negative SC_E*. */
int sc__receipts_register(struct sc_app *a);

/* Cluster only: XADD mt:status MAXLEN ~ maxlen * id .. to .. state ..
 * parts .. err .. at .. (each NUL-terminated, borrowed: copied by the
 * store), through sc_store_write, so that redis.wait_replicas waits for
 * it as for a script. Same contract as sc_store_write. */
int sc__mt_status_add(struct sc_store *st, int maxlen, const char *id, const char *to,
                      const char *state, const char *parts, const char *err, const char *at,
                      sc_store_cb cb, void *ctx);
/* The same from a final reply of sc__receipt_capply_lua; SC_EPROTO when the
 * reply is not one. */
int sc__mt_status_add_final(struct sc_store *st, int maxlen,
                            const struct redisReply *rep, sc_store_cb cb, void *ctx);

#endif
