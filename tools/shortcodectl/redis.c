/* redis.c -- shortcodectl's synchronous Redis connection (see redis.h); a
 * cluster's routing is in cluster.c. */
#include "redis.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/url.h"
#include "check.h"
#include "cluster.h"

static void set_where(struct ctl_redis *r, const char *host, int port)
{
    snprintf(r->host, sizeof r->host, "%s", host);
    r->port = port;
    snprintf(r->where, sizeof r->where, strchr(r->host, ':') ? "[%s]:%d" : "%s:%d", r->host,
             r->port);
}

int ctl_redis_parse_url(struct ctl_redis *r, const char *url, char *err, size_t errsz)
{
    struct sc_redis_url u;
    memset(&u, 0, sizeof u);
    if (sc_redis_url_parse(url, &u, err, errsz) < 0) {
        sc_redis_url_free(&u);
        return -1;
    }
    set_where(r, u.host, u.port);
    r->nseeds = u.nseeds;
    memcpy(r->seeds, u.seeds, sizeof r->seeds);
    r->db = u.db;
    r->user = u.user; /* ownership moves to r: ctl_redis_close frees them */
    r->pass = u.pass;
    return 0;
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

const char *ctl_redis_conn_error(const redisContext *c, int timeout_ms, char *buf, size_t bufsz)
{
    if (!c)
        return "out of memory";
    if (c->err == REDIS_ERR_IO && (strstr(c->errstr, "temporarily unavailable") ||
                                   strstr(c->errstr, "would block"))) {
        snprintf(buf, bufsz, "no reply within %d ms", timeout_ms);
        return buf;
    }
    if (c->err == REDIS_ERR_EOF)
        return "connection closed by the server";
    return c->errstr[0] ? c->errstr : "connection error";
}

/* One setup command (AUTH, SELECT, INFO) on c; its reply, or NULL after a
 * message (also for an error reply). */
static redisReply *setup_command(const struct ctl_redis *r, redisContext *c, const char *where,
                                 const char *what, int argc, const char *const *argv)
{
    char buf[160];
    redisReply *rep = NULL;
    if (redisAppendCommandArgv(c, argc, (const char **)argv, NULL) != REDIS_OK ||
        redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: %s\n", where,
                ctl_redis_conn_error(c, r->command_timeout_ms, buf, sizeof buf));
        return NULL;
    }
    if (rep->type != REDIS_REPLY_ERROR)
        return rep;
    if (strcmp(what, "SELECT") == 0 && strstr(rep->str, "cluster mode"))
        fprintf(stderr, "shortcodectl: redis at %s is a Redis Cluster node: a cluster has only "
                "db 0; drop /%u from the URL\n", where, r->db);
    else
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: %s refused: %s\n", where,
                what, ctl_printable(buf, sizeof buf, rep->str, rep->len, 0));
    freeReplyObject(rep);
    return NULL;
}

redisContext *ctl_redis_open(const struct ctl_redis *r, const char *host, int port,
                             const char *where)
{
    char buf[128];
    redisContext *c = redisConnectWithTimeout(host, port, ms_to_tv(r->connect_timeout_ms));
    if (!c || c->err) {
        const char *why = ctl_redis_conn_error(c, r->command_timeout_ms, buf, sizeof buf);
        if (c && strstr(why, "no reply within"))
            why = "connect timed out";
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: %s\n", where, why);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, ms_to_tv(r->command_timeout_ms)) != REDIS_OK) {
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: cannot set a timeout\n",
                where);
        redisFree(c);
        return NULL;
    }
    if (r->pass) {
        const char *auth[3] = {"AUTH", r->user ? r->user : r->pass, r->pass};
        redisReply *rep = setup_command(r, c, where, "AUTH", r->user ? 3 : 2, auth);
        if (!rep) {
            redisFree(c);
            return NULL;
        }
        freeReplyObject(rep);
    }
    return c;
}

/* SELECT and INFO cluster on the seed's r->c: 0 one server, 1 a cluster
 * node, -1 refused (printed). INFO takes the place of the PING that proves
 * the server answers. */
static int seed_setup(struct ctl_redis *r)
{
    redisReply *rep;
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%u", r->db);
        const char *sel[2] = {"SELECT", db};
        if (!(rep = setup_command(r, r->c, r->where, "SELECT", 2, sel)))
            return -1;
        freeReplyObject(rep);
    }
    const char *info[2] = {"INFO", "cluster"};
    if (!(rep = setup_command(r, r->c, r->where, "INFO", 2, info)))
        return -1;
    int cluster = rep->type == REDIS_REPLY_STRING && strstr(rep->str, "cluster_enabled:1");
    freeReplyObject(rep);
    return cluster;
}

int ctl_redis_connect(struct ctl_redis *r)
{
    for (int i = 0; i < r->nseeds && !r->c; i++) {
        set_where(r, r->seeds[i].host, r->seeds[i].port);
        r->c = ctl_redis_open(r, r->host, r->port, r->where);
    }
    if (!r->c)
        return -1;
    int cluster = seed_setup(r);
    if (cluster < 0 || (cluster && ctl_cluster_start(r) < 0))
        return -1;
    r->ready = 1;
    return 0;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        free(s);
    }
}

void ctl_redis_close(struct ctl_redis *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    ctl_cluster_free(r);
    free(r->out);
    r->out = NULL;
    r->outcap = 0;
    wipe_free(r->user);
    wipe_free(r->pass);
    r->user = r->pass = NULL;
    r->ready = 0;
}

/* Write c (the RESP marker), n and CRLF at p; returns the end. */
static char *put_len(char *p, char c, size_t n)
{
    char d[24];
    int k = 0;
    *p++ = c;
    do
        d[k++] = (char)('0' + n % 10);
    while ((n /= 10));
    while (k)
        *p++ = d[--k];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* The command in RESP into r->out; its length, or -1 when out of memory. */
static long encode(struct ctl_redis *r, int argc, const char *const *argv, const size_t *lens)
{
    size_t need = 32;
    for (int i = 0; i < argc; i++)
        need += 32 + (lens ? lens[i] : strlen(argv[i]));
    if (need > r->outcap) {
        char *b = realloc(r->out, need);
        if (!b)
            return -1;
        r->out = b;
        r->outcap = need;
    }
    char *p = put_len(r->out, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        p = put_len(p, '$', n);
        memcpy(p, argv[i], n);
        p += n;
        *p++ = '\r';
        *p++ = '\n';
    }
    return (long)(p - r->out);
}

void ctl_redis_append(struct ctl_redis *r, int key, int argc, const char *const *argv,
                      const size_t *lens)
{
    long n = encode(r, argc, argv, lens);
    if (r->cl) {
        const char *k = key >= 0 && key < argc ? argv[key] : NULL;
        ctl_cluster_append(r, k, k ? (lens ? lens[key] : strlen(k)) : 0, n < 0 ? NULL : r->out,
                           n < 0 ? 0 : (size_t)n);
    } else if (n < 0) {     /* hiredis reports out of memory itself */
        redisAppendCommandArgv(r->c, argc, (const char **)argv, lens);
    } else {
        redisAppendFormattedCommand(r->c, r->out, (size_t)n);
    }
}

redisReply *ctl_redis_read(struct ctl_redis *r)
{
    if (r->cl)
        return ctl_cluster_read(r);
    void *rep = NULL;
    if (redisGetReply(r->c, &rep) != REDIS_OK || !rep) {
        char buf[128];
        fprintf(stderr, "shortcodectl: %s redis at %s: %s\n",
                r->ready ? "lost the connection to" : "cannot connect to", r->where,
                ctl_redis_conn_error(r->c, r->command_timeout_ms, buf, sizeof buf));
        return NULL;
    }
    return rep;
}

redisReply *ctl_redis_command(struct ctl_redis *r, int key, int argc, const char *const *argv,
                              const size_t *lens)
{
    ctl_redis_append(r, key, argc, argv, lens);
    return ctl_redis_read(r);
}

int ctl_redis_nnodes(const struct ctl_redis *r)
{
    return r->cl ? ctl_cluster_nnodes(r) : 1;
}

redisReply *ctl_redis_command_on(struct ctl_redis *r, int i, int argc, const char *const *argv,
                                 const char **where)
{
    if (!r->cl) {
        *where = r->where;
        return ctl_redis_command(r, CTL_NOKEY, argc, argv, NULL);
    }
    long n = encode(r, argc, argv, NULL);
    return ctl_cluster_command_on(r, i, n < 0 ? NULL : r->out, n < 0 ? 0 : (size_t)n, where);
}
