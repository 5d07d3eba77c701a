/* cluster.h -- shortcodectl on a Redis Cluster: the slot map, one
 * synchronous context per master (opened on first use), each pipelined
 * command sent to its key's master and its reply handed back in append
 * order (route.h), MOVED / ASK followed, TRYAGAIN / CLUSTERDOWN retried a
 * few times with a short back-off. Used by redis.c only. */
#ifndef SC_CTL_CLUSTER_H
#define SC_CTL_CLUSTER_H

#include <stddef.h>

#include "redis.h"

/* Masters a cluster may have in the map. */
#define CTL_MAX_NODES 128
/* TRYAGAIN / CLUSTERDOWN: tries of one command before it fails. */
#define CTL_TEMP_TRIES 8

/* The seed r->c answered cluster_enabled:1: load the slot map over it and
 * make r->cl (r->c moves to the node it is, or is closed). 0, or -1
 * (printed). */
int ctl_cluster_start(struct ctl_redis *r);
/* Free r->cl and its contexts. Safe when NULL. */
void ctl_cluster_free(struct ctl_redis *r);
/* Queue resp (len bytes, copied; NULL: out of memory) for the master of
 * key (klen bytes; NULL: any master). */
void ctl_cluster_append(struct ctl_redis *r, const char *key, size_t klen, const char *resp,
                        size_t len);
/* The oldest queued command's reply (see ctl_redis_read). */
struct redisReply *ctl_cluster_read(struct ctl_redis *r);
/* The masters of the map. */
int ctl_cluster_nnodes(const struct ctl_redis *r);
/* resp to the i-th master of the map, and its reply (nothing queued may be
 * pending); *where names it. */
struct redisReply *ctl_cluster_command_on(struct ctl_redis *r, int i, const char *resp,
                                          size_t len, const char **where);

#endif
