/* redis.h -- shortcodectl's Redis connection: URL parsing, a synchronous
 * hiredis context with connect and reply timeouts, AUTH/SELECT, and thin
 * pipelining helpers; on a Redis Cluster the same calls route each command
 * by its key's slot (cluster.c, docs/scaling.md).
 *
 * Seeds: the URL may name up to SC_URL_MAX_SEEDS comma-separated servers,
 * tried in order until one answers. Its INFO says whether it is a cluster
 * node (cluster_enabled:1; asked in place of a PING, so one server costs no
 * extra round trip); if so the slot map (CLUSTER SLOTS) is loaded and each
 * master gets its own context, opened on first use.
 *
 * Every failure of the connection itself (refused, timed out, lost, AUTH
 * refused) is printed once, here, as "...redis at HOST:PORT: reason" on
 * stderr; callers then exit with CTL_EXIT_REDIS. The password is never
 * printed and is wiped when the connection is closed. */
#ifndef SC_CTL_REDIS_H
#define SC_CTL_REDIS_H

#include <stddef.h>

#include "base/url.h"

struct redisContext;
struct redisReply;
struct ctl_cluster;

/* The key argument of ctl_redis_append for commands without a key (they go
 * to any node of a cluster). */
#define CTL_NOKEY (-1)

struct ctl_redis {
    struct redisContext *c;     /* one server; NULL on a cluster */
    struct ctl_cluster *cl;     /* a cluster's map and nodes; NULL on one server */
    char host[256];             /* the seed that answered (the first before) */
    int port;
    int nseeds;
    struct sc_redis_seed seeds[SC_URL_MAX_SEEDS];
    unsigned db;
    char *user, *pass;          /* %-decoded, NUL-terminated; NULL if absent */
    int connect_timeout_ms;
    int command_timeout_ms;
    char where[300];            /* "host:port" for messages */
    int ready;                  /* connected, AUTH/SELECT/PING done */
    char *out;                  /* ctl_redis_append's RESP buffer (owned) */
    size_t outcap;
};

/* Parse redis://[[user]:password@]host[:port][/db] into r (host, port 6379
 * by default, db 0). IPv6 hosts in brackets. Credentials may be %-escaped;
 * "redis://secret@host" is a password, as redis-cli reads it. Returns 0, or
 * -1 with a message in err that never quotes the URL. Free with
 * ctl_redis_close (also after a failure). */
int ctl_redis_parse_url(struct ctl_redis *r, const char *url, char *err, size_t errsz);

/* Connect to the first seed that answers, with r->connect_timeout_ms, set
 * the reply timeout, AUTH, SELECT and INFO cluster; on a cluster load the
 * slot map. Returns 0, or -1 after printing "cannot connect to redis at
 * HOST:PORT: reason" (for each seed tried). */
int ctl_redis_connect(struct ctl_redis *r);

/* A context to host:port with r's timeouts and credentials (AUTH done), or
 * NULL after printing why; where names it in the message. */
struct redisContext *ctl_redis_open(const struct ctl_redis *r, const char *host, int port,
                                    const char *where);

/* The text of a context's error (a reply timeout reads "no reply within
 * N ms"). */
const char *ctl_redis_conn_error(const struct redisContext *c, int timeout_ms, char *buf,
                                 size_t bufsz);

/* Disconnect and free the credentials. Safe on a zeroed struct. */
void ctl_redis_close(struct ctl_redis *r);

/* Queue one command (arguments are copied). NULL lens: NUL-terminated.
 * key: the index in argv of the key whose slot decides the node on a
 * cluster, or CTL_NOKEY (any node); every other key of the command must
 * hash to the same slot. Encoded here into RESP and handed over with
 * redisAppendFormattedCommand: hiredis's own argv formatting (sdscatfmt)
 * cost as much as the CSV parser per pushed row. */
void ctl_redis_append(struct ctl_redis *r, int key, int argc, const char *const *argv,
                      const size_t *lens);

/* The reply to the oldest queued command (sending what is queued first).
 * Returns the reply, which the caller frees with freeReplyObject (it may be
 * an error reply); or NULL after printing why the connection failed (on a
 * cluster also: a node still redirecting, or still TRYAGAIN / CLUSTERDOWN
 * after a few tries). Redirects are followed here, never returned. */
struct redisReply *ctl_redis_read(struct ctl_redis *r);

/* One command, one reply: append + read. */
struct redisReply *ctl_redis_command(struct ctl_redis *r, int key, int argc,
                                     const char *const *argv, const size_t *lens);

/* The masters a keyless scan must visit: 1 on one server, the masters of
 * the slot map on a cluster (after ctl_redis_connect). */
int ctl_redis_nnodes(const struct ctl_redis *r);
/* One keyless command to node i (0 .. ctl_redis_nnodes - 1) and its reply,
 * as ctl_redis_command. *where names the node for messages. */
struct redisReply *ctl_redis_command_on(struct ctl_redis *r, int i, int argc,
                                        const char *const *argv, const char **where);

#endif
