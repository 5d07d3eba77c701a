/* redis.c -- shortcodectl's synchronous Redis connection (see redis.h). */
#include "redis.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"

#define URL_FAIL(msg)                                                                      \
    do {                                                                                   \
        snprintf(err, errsz, "redis url: %s", msg);                                        \
        return -1;                                                                         \
    } while (0)

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %-decode s[0..n) into a new NUL-terminated string; NULL on a bad escape,
 * an escaped NUL or no memory. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

/* Unsigned decimal s[0..n) no greater than max; -1 if not. */
static long parse_num(const char *s, size_t n, long max)
{
    long v = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

static int host_char_ok(char c, int v6)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_' || (v6 && (c == ':' || c == '%'));
}

/* "[user]:password@" or "password@" before the host; advances *pp. */
static int parse_credentials(struct ctl_redis *r, const char **pp, char *err, size_t errsz)
{
    const char *p = *pp, *end = p + strcspn(p, "/");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (!at)
        return 0;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *pw = colon ? colon + 1 : p;
    if (colon && colon > p && !(r->user = pct_decode(p, (size_t)(colon - p))))
        URL_FAIL("bad %-escape in the user name");
    if (at > pw && !(r->pass = pct_decode(pw, (size_t)(at - pw))))
        URL_FAIL("bad %-escape in the password");
    *pp = at + 1;
    return 0;
}

int ctl_redis_parse_url(struct ctl_redis *r, const char *url, char *err, size_t errsz)
{
    if (!url || !*url)
        URL_FAIL("empty");
    if (strncasecmp(url, "redis://", 8) != 0)
        URL_FAIL("must start with redis:// (TLS and unix sockets are not supported)");
    const char *p = url + 8;
    if (parse_credentials(r, &p, err, errsz) < 0)
        return -1;
    const char *h = p, *he;
    int v6 = *p == '[';
    if (v6) {
        h = ++p;
        if (!(he = strchr(p, ']')))
            URL_FAIL("unclosed [ in host");
        p = he + 1;
    } else {
        he = p + strcspn(p, ":/");
        p = he;
    }
    if (he == h)
        URL_FAIL("missing host");
    if ((size_t)(he - h) >= sizeof r->host)
        URL_FAIL("host too long");
    for (const char *q = h; q < he; q++)
        if (!host_char_ok(*q, v6))
            URL_FAIL("bad character in host");
    memcpy(r->host, h, (size_t)(he - h));
    r->host[he - h] = '\0';
    r->port = 6379;
    if (*p == ':') {
        size_t n = strcspn(++p, "/");
        long v = parse_num(p, n, 65535);
        if (v <= 0)
            URL_FAIL("bad port (1..65535)");
        r->port = (int)v;
        p += n;
    }
    r->db = 0;
    if (*p == '/' && p[1]) {
        long v = parse_num(p + 1, strlen(p + 1), 2147483647L);
        if (v < 0)
            URL_FAIL("bad database number");
        r->db = (unsigned)v;
        p += strlen(p);
    } else if (*p == '/') {
        p++;
    }
    if (*p)
        URL_FAIL("unexpected text after the host");
    snprintf(r->where, sizeof r->where, v6 ? "[%s]:%d" : "%s:%d", r->host, r->port);
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
    wipe_free(r->user);
    wipe_free(r->pass);
    r->user = r->pass = NULL;
    r->ready = 0;
}

void ctl_redis_append(struct ctl_redis *r, int argc, const char *const *argv, const size_t *lens)
{
    redisAppendCommandArgv(r->c, argc, (const char **)argv, lens);
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
