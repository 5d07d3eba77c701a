/* slots.c -- Redis Cluster routing without I/O: CRC16, hash tags, key
 * positions, CLUSTER SLOTS and redirect parsing, the redirect decisions. */
#include "store/slots.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "base/sc.h"

/* Table for polynomial 0x1021, built once (256 entries, 512 bytes). */
static uint16_t g_crc_table[256];
static int g_crc_ready;

static void crc_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++)
            c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
        g_crc_table[i] = c;
    }
    g_crc_ready = 1;
}

uint16_t sc_crc16(const char *buf, size_t len)
{
    if (!g_crc_ready)
        crc_init();
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ g_crc_table[((crc >> 8) ^ (unsigned char)buf[i]) & 0xff]);
    return crc;
}

void sc_hash_tag(const char *key, size_t len, size_t *off, size_t *n)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t o = (size_t)(open - key) + 1;
        const char *close = memchr(key + o, '}', len - o);
        if (close && close > key + o) {
            *off = o;
            *n = (size_t)(close - (key + o));
            return;
        }
    }
    *off = 0;
    *n = len;
}

unsigned sc_key_slot(const char *key, size_t len)
{
    size_t off, n;
    sc_hash_tag(key, len, &off, &n);
    return sc_crc16(key + off, n) & (SC_SLOTS - 1);
}

static int word_is(const char *s, size_t len, const char *w)
{
    return len == strlen(w) && strncasecmp(s, w, len) == 0;
}

int sc_cmd_key_index(int argc, const char *const *argv, const size_t *lens)
{
    static const char *const nokey[] = {"PING", "DBSIZE", "INFO", "CLUSTER", "SCRIPT", "WAIT",
                                        "TIME", "ECHO", "CONFIG", "ASKING", "READONLY",
                                        "FLUSHALL", "FLUSHDB", "COMMAND", "CLIENT"};
    static const char *const second[] = {"XGROUP", "XINFO", "OBJECT", "MEMORY"};
    if (argc < 1)
        return -1;
    size_t l0 = lens ? lens[0] : strlen(argv[0]);
    for (size_t i = 0; i < SC_ARRAY_LEN(nokey); i++)
        if (word_is(argv[0], l0, nokey[i]))
            return -1;
    for (size_t i = 0; i < SC_ARRAY_LEN(second); i++)
        if (word_is(argv[0], l0, second[i]))
            return argc > 2 ? 2 : -1;
    if (word_is(argv[0], l0, "EVAL") || word_is(argv[0], l0, "EVALSHA"))
        return argc > 3 && !(lens ? lens[2] == 1 && argv[2][0] == '0' : strcmp(argv[2], "0") == 0)
                   ? 3
                   : -1;
    if (word_is(argv[0], l0, "XREAD") || word_is(argv[0], l0, "XREADGROUP")) {
        for (int i = 1; i + 1 < argc; i++)
            if (word_is(argv[i], lens ? lens[i] : strlen(argv[i]), "STREAMS"))
                return i + 1;
        return -1;
    }
    return argc > 1 ? 1 : -1;
}

/* An element of a CLUSTER SLOTS node entry as text (strings) into out. */
static int elem_str(const redisReply *e, char *out, size_t outsz)
{
    if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS)
        return -1;
    if (e->len >= outsz)
        return -1;
    memcpy(out, e->str, e->len);
    out[e->len] = '\0';
    return 0;
}

int sc_slots_parse(const redisReply *r, const char *defhost, struct sc_slot_range *out, int max)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return SC_EPROTO;
    int n = 0;
    for (size_t i = 0; i < r->elements && n < max; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3)
            return SC_EPROTO;
        const redisReply *s = e->element[0], *t = e->element[1], *m = e->element[2];
        if (s->type != REDIS_REPLY_INTEGER || t->type != REDIS_REPLY_INTEGER ||
            m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
            m->element[1]->type != REDIS_REPLY_INTEGER)
            return SC_EPROTO;
        if (s->integer < 0 || t->integer < s->integer || t->integer >= (long long)SC_SLOTS ||
            m->element[1]->integer <= 0 || m->element[1]->integer > 65535)
            return SC_EPROTO;
        struct sc_slot_range *o = &out[n];
        if (elem_str(m->element[0], o->host, sizeof o->host) < 0)
            return SC_EPROTO;
        if (!o->host[0] || strcmp(o->host, "?") == 0)
            sc_strlcpy(o->host, defhost, sizeof o->host);
        o->start = (unsigned)s->integer;
        o->end = (unsigned)t->integer;
        o->port = (int)m->element[1]->integer;
        n++;
    }
    return n;
}

/* "SLOT HOST:PORT" after MOVED / ASK; HOST may be empty (the same node's
 * address, Redis 7 with an unknown endpoint) or an [IPv6]. */
static int parse_target(const char *s, size_t len, struct sc_redirect *o)
{
    size_t i = 0;
    unsigned long slot = 0;
    if (i >= len || s[i] < '0' || s[i] > '9')
        return -1;
    while (i < len && s[i] >= '0' && s[i] <= '9' && slot < SC_SLOTS)
        slot = slot * 10 + (unsigned long)(s[i++] - '0');
    if (slot >= SC_SLOTS || i >= len || s[i] != ' ')
        return -1;
    const char *h = s + ++i, *end = s + len;
    const char *colon = NULL;
    for (const char *p = end; p > h; p--)
        if (p[-1] == ':') {
            colon = p - 1;
            break;
        }
    if (!colon)
        return -1;
    const char *hs = h, *he = colon;
    if (he > hs && *hs == '[' && he[-1] == ']') {
        hs++;
        he--;
    }
    if ((size_t)(he - hs) >= sizeof o->host)
        return -1;
    unsigned long port = 0;
    const char *p = colon + 1;
    if (p >= end || end - p > 5)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port == 0 || port > 65535)
        return -1;
    memcpy(o->host, hs, (size_t)(he - hs));
    o->host[he - hs] = '\0';
    o->slot = (unsigned)slot;
    o->port = (int)port;
    return 0;
}

static int starts(const char *s, size_t len, const char *w)
{
    size_t n = strlen(w);
    return len >= n && memcmp(s, w, n) == 0 && (len == n || s[n] == ' ');
}

enum sc_redirect_kind sc_redirect_parse(const char *s, size_t len, struct sc_redirect *out)
{
    memset(out, 0, sizeof *out);
    if (starts(s, len, "MOVED") || starts(s, len, "ASK")) {
        enum sc_redirect_kind k = s[0] == 'M' ? SC_REDIR_MOVED : SC_REDIR_ASK;
        size_t skip = k == SC_REDIR_MOVED ? 6 : 4;
        if (len <= skip || parse_target(s + skip, len - skip, out) < 0)
            return SC_REDIR_NONE;
        out->kind = k;
    } else if (starts(s, len, "TRYAGAIN")) {
        out->kind = SC_REDIR_TRYAGAIN;
    } else if (starts(s, len, "CLUSTERDOWN")) {
        out->kind = SC_REDIR_CLUSTERDOWN;
    }
    return out->kind;
}

enum sc_route_action sc_route_decide(enum sc_redirect_kind kind, int redirects)
{
    switch (kind) {
    case SC_REDIR_MOVED:
        return redirects < SC_MAX_REDIRECTS ? SC_ROUTE_MOVED : SC_ROUTE_TEMP;
    case SC_REDIR_ASK:
        return redirects < SC_MAX_REDIRECTS ? SC_ROUTE_ASK : SC_ROUTE_TEMP;
    case SC_REDIR_TRYAGAIN:
    case SC_REDIR_CLUSTERDOWN:
        return SC_ROUTE_TEMP;
    case SC_REDIR_NONE:
        break;
    }
    return SC_ROUTE_DELIVER;
}
