/* redis.c -- shortcodectl's synchronous Redis connection (see redis.h). */
#include "redis.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/url.h"
#include "check.h"

int ctl_redis_parse_url(struct ctl_redis *r, const char *url, char *err, size_t errsz)
{
    struct sc_redis_url u;
    memset(&u, 0, sizeof u);
    if (sc_redis_url_parse(url, &u, err, errsz) < 0) {
        sc_redis_url_free(&u);
        return -1;
    }
    memcpy(r->host, u.host, sizeof r->host);
    r->port = u.port;
    r->db = u.db;
    r->user = u.user; /* ownership moves to r: ctl_redis_close frees them */
    r->pass = u.pass;
    snprintf(r->where, sizeof r->where, strchr(r->host, ':') ? "[%s]:%d" : "%s:%d", r->host,
             r->port);
    return 0;
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* hiredis's text for c->err, made plain: a reply timeout shows as EAGAIN. */
static const char *conn_error(const struct ctl_redis *r, char *buf, size_t bufsz)
{
    const redisContext *c = r->c;
    if (!c)
        return "out of memory";
    if (c->err == REDIS_ERR_IO && (strstr(c->errstr, "temporarily unavailable") ||
                                   strstr(c->errstr, "would block"))) {
        snprintf(buf, bufsz, "no reply within %d ms", r->command_timeout_ms);
        return buf;
    }
    if (c->err == REDIS_ERR_EOF)
        return "connection closed by the server";
    return c->errstr[0] ? c->errstr : "connection error";
}

/* Run one setup command (AUTH, SELECT, PING); 0, or -1 after a message. */
static int setup_command(struct ctl_redis *r, const char *what, int argc, const char *const *argv)
{
    char buf[160];
    redisReply *rep = ctl_redis_command(r, argc, argv, NULL);
    if (!rep)
        return -1;
    int bad = rep->type == REDIS_REPLY_ERROR;
    if (bad)
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: %s refused: %s\n",
                r->where, what, ctl_printable(buf, sizeof buf, rep->str, rep->len, 0));
    freeReplyObject(rep);
    return bad ? -1 : 0;
}

int ctl_redis_connect(struct ctl_redis *r)
{
    char buf[128];
    r->c = redisConnectWithTimeout(r->host, r->port, ms_to_tv(r->connect_timeout_ms));
    if (!r->c || r->c->err) {
        const char *why = conn_error(r, buf, sizeof buf);
        if (r->c && strstr(why, "no reply within"))
            why = "connect timed out";
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: %s\n", r->where, why);
        return -1;
    }
    if (redisSetTimeout(r->c, ms_to_tv(r->command_timeout_ms)) != REDIS_OK) {
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: cannot set a timeout\n",
                r->where);
        return -1;
    }
    if (r->pass) {
        const char *auth[3] = {"AUTH", r->user ? r->user : r->pass, r->pass};
        if (setup_command(r, "AUTH", r->user ? 3 : 2, auth) < 0)
            return -1;
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%u", r->db);
        const char *sel[2] = {"SELECT", db};
        if (setup_command(r, "SELECT", 2, sel) < 0)
            return -1;
    }
    const char *ping[1] = {"PING"};
    if (setup_command(r, "PING", 1, ping) < 0)
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

void ctl_redis_append(struct ctl_redis *r, int argc, const char *const *argv, const size_t *lens)
{
    size_t need = 32;
    for (int i = 0; i < argc; i++)
        need += 32 + (lens ? lens[i] : strlen(argv[i]));
    if (need > r->outcap) {
        char *b = realloc(r->out, need);
        if (!b) {   /* hiredis reports out of memory itself */
            redisAppendCommandArgv(r->c, argc, (const char **)argv, lens);
            return;
        }
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
    redisAppendFormattedCommand(r->c, r->out, (size_t)(p - r->out));
}

redisReply *ctl_redis_read(struct ctl_redis *r)
{
    void *rep = NULL;
    if (redisGetReply(r->c, &rep) != REDIS_OK || !rep) {
        char buf[128];
        fprintf(stderr, "shortcodectl: %s redis at %s: %s\n",
                r->ready ? "lost the connection to" : "cannot connect to", r->where,
                conn_error(r, buf, sizeof buf));
        return NULL;
    }
    return rep;
}

redisReply *ctl_redis_command(struct ctl_redis *r, int argc, const char *const *argv,
                              const size_t *lens)
{
    ctl_redis_append(r, argc, argv, lens);
    return ctl_redis_read(r);
}
