/* redis.h -- shortcodectl's Redis connection: URL parsing, a synchronous
 * hiredis context with connect and reply timeouts, AUTH/SELECT, and thin
 * pipelining helpers.
 *
 * Every failure of the connection itself (refused, timed out, lost, AUTH
 * refused) is printed once, here, as "...redis at HOST:PORT: reason" on
 * stderr; callers then exit with CTL_EXIT_REDIS. The password is never
 * printed and is wiped when the connection is closed. */
#ifndef SC_CTL_REDIS_H
#define SC_CTL_REDIS_H

#include <stddef.h>

struct redisContext;
struct redisReply;

struct ctl_redis {
    struct redisContext *c;
    char host[256];
    int port;
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

/* Connect with r->connect_timeout_ms, set the reply timeout, AUTH, SELECT
 * and PING. Returns 0, or -1 after printing "cannot connect to redis at
 * HOST:PORT: reason". */
int ctl_redis_connect(struct ctl_redis *r);

/* Disconnect and free the credentials. Safe on a zeroed struct. */
void ctl_redis_close(struct ctl_redis *r);

/* Queue one command (arguments are copied). NULL lens: NUL-terminated.
 * Encoded here into RESP and handed over with redisAppendFormattedCommand:
 * hiredis's own argv formatting (sdscatfmt) cost as much as the CSV parser
 * per pushed row. */
void ctl_redis_append(struct ctl_redis *r, int argc, const char *const *argv, const size_t *lens);

/* The reply to the oldest queued command (sending what is queued first).
 * Returns the reply, which the caller frees with freeReplyObject (it may be
 * an error reply); or NULL after printing why the connection failed. */
struct redisReply *ctl_redis_read(struct ctl_redis *r);

/* One command, one reply: append + read. */
struct redisReply *ctl_redis_command(struct ctl_redis *r, int argc, const char *const *argv,
                                     const size_t *lens);

#endif
