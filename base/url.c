/* url.c -- redis://[[user]:password@]host[:port][,host[:port]...][/db] parsed once for the
 * configuration check, the daemon's store and shortcodectl. */
#include "base/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sc.h"

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

/* Percent-decode [s, s+n) into a new string; NULL on a bad escape or no
 * memory. */
static char *pct_decode(const char *s, size_t n, size_t *outlen)
{
    char *d = malloc(n + 1);
    size_t o = 0;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[o++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            explicit_bzero(d, n + 1);
            free(d);
            return NULL;
        }
        d[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[o] = '\0';
    *outlen = o;
    return d;
}

static int parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static int host_char_ok(char c, int v6)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_' || (v6 && (c == ':' || c == '%'));
}

/* One host[:port] at *p (advanced past it); NULL, or why it is bad. */
static const char *parse_hostport(const char **pp, struct sc_redis_seed *sd)
{
    const char *p = *pp, *h = p, *he;
    int v6 = 0;
    if (*p == '[') {
        h = ++p;
        he = strchr(p, ']');
        if (!he)
            return "unclosed [ in host";
        p = he + 1;
        v6 = 1;
    } else {
        he = p + strcspn(p, ":/,");
        p = he;
    }
    if (he == h)
        return "missing host";
    if ((size_t)(he - h) >= sizeof sd->host)
        return "host too long";
    for (const char *q = h; q < he; q++)
        if (!host_char_ok(*q, v6))
            return "bad character in host (query strings are not supported)";
    memcpy(sd->host, h, (size_t)(he - h));
    sd->host[he - h] = '\0';
    sd->port = 6379;
    if (*p == ':') {
        size_t n = strcspn(++p, "/,");
        unsigned long v;
        if (parse_uint(p, n, 65535, &v) < 0 || v == 0)
            return "bad port (1..65535)";
        sd->port = (int)v;
        p += n;
    }
    *pp = p;
    return NULL;
}

int sc_redis_url_parse(const char *url, struct sc_redis_url *st, char *err, size_t errsz)
{
#define URL_FAIL(msg)                                                                      \
    do {                                                                                   \
        snprintf(err, errsz, "redis url: %s", msg);                                        \
        return SC_ECONFIG;                                                                 \
    } while (0)
    if (!url || !*url)
        URL_FAIL("missing");
    if (strncasecmp(url, "rediss://", 9) == 0)
        URL_FAIL("TLS (rediss://) is not supported");
    if (strncasecmp(url, "redis://", 8) != 0)
        URL_FAIL("must start with redis://");
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        if (colon && colon > p) {
            st->user = pct_decode(p, (size_t)(colon - p), &st->userlen);
            if (!st->user)
                URL_FAIL("bad %-escape or no memory in the user name");
        }
        if (at > pw || st->user) {
            st->pass = pct_decode(pw, (size_t)(at - pw), &st->passlen);
            if (!st->pass)
                URL_FAIL("bad %-escape or no memory in the password");
        }
        p = at + 1;
    }
    for (;;) {
        if (st->nseeds == SC_URL_MAX_SEEDS)
            URL_FAIL("too many seeds (at most 8)");
        struct sc_redis_seed *sd = &st->seeds[st->nseeds];
        const char *why = parse_hostport(&p, sd);
        if (why)
            URL_FAIL(why);
        st->nseeds++;
        if (*p != ',')
            break;
        p++;
    }
    memcpy(st->host, st->seeds[0].host, sizeof st->host);
    st->port = st->seeds[0].port;
    st->db = 0;
    if (*p == '/') {
        size_t n = strlen(++p);
        unsigned long v = 0;
        if (n && parse_uint(p, n, 2147483647ul, &v) < 0)
            URL_FAIL("bad database number");
        st->db = (unsigned)v;
        p += n;
    }
    if (*p)
        URL_FAIL("unexpected text after host");
    if (st->nseeds > 1 && st->db)
        URL_FAIL("several seeds mean a Redis Cluster, which has only db 0 (drop the /db)");
    return 0;
#undef URL_FAIL
}

void sc_redis_url_free(struct sc_redis_url *u)
{
    if (u->pass)
        explicit_bzero(u->pass, u->passlen);
    free(u->pass);
    free(u->user);
    u->pass = u->user = NULL;
    u->passlen = u->userlen = 0;
}
