/* relay.c -- outbox entries relayed to their global keys once each (a
 * marker beside the global key), then deleted (core/relay.h,
 * handlers/emit_lua.h); the relay's lag and repeats as metrics. */
#include "core/relay.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/sc.h"
#include "handlers/emit_lua.h"
#include "store/keys.h"
#include "store/slots.h"
#include "store/store.h"

#define MAX_ARGS 64             /* an entry's a1..an */

/* Lag: from the outbox entry's write (its stream id's milliseconds, the
 * server's clock) to the global write's answer (the daemon's clock: on one
 * machine or NTP-synced ones, clamped at 0). */
static const uint64_t g_lag_bounds[] = {1,    5,     10,    50,     100,    500,
                                        1000, 5000,  30000, 300000, 3600000};
static struct sc_metric g_relay_seconds = {
    .name = "shortcoded_relay_seconds", .type = SC_METRIC_HISTOGRAM, .decimals = 3,
    .bounds = g_lag_bounds, .nbounds = SC_ARRAY_LEN(g_lag_bounds),
    .help = "Redis Cluster only: age of an outbox entry (a global write of a subscriber's "
            "script) when the daemon had written it to its global key."};
static struct sc_metric g_relay_pending = {
    .name = "shortcoded_relay_pending", .type = SC_METRIC_GAUGE,
    .help = "Redis Cluster only: outbox entries read by a script and not yet written to "
            "their global keys."};
static struct sc_metric g_relay_total = {
    .name = "shortcoded_relay_total", .type = SC_METRIC_COUNTER, .labels = {"result"},
    .help = "Redis Cluster only: outbox entries relayed: written to their global keys, or "
            "repeat (another run had written them: their marker was there)."};
static struct sc_metric g_relay_failed = {
    .name = "shortcoded_relay_failed_total", .type = SC_METRIC_COUNTER,
    .help = "Relays that failed (the entries stay in the outbox; the input is not "
            "acknowledged, so they are relayed when it comes again)."};

void sc__relay_metrics(void)
{
    sc_metric_histogram(&g_relay_seconds, NULL);
    sc_metric_gauge(&g_relay_pending, NULL);
    sc_metric_counter(&g_relay_failed, NULL);
    sc_metric_counter(&g_relay_total, (const char *const[]){"written"});
    sc_metric_counter(&g_relay_total, (const char *const[]){"repeat"});
}

static char g_dedup_s[16] = "3600";

void sc__relay_set_dedup(int seconds)
{
    snprintf(g_dedup_s, sizeof g_dedup_s, "%d", seconds > 0 ? seconds : 1);
}

int sc__relay_marker(char *out, size_t outsz, const char *key, size_t klen, const char *outbox,
                     const char *id)
{
    size_t off, n;
    sc_hash_tag(key, klen, &off, &n);
    int tagged = n < klen;
    /* Untagged: {KEY} hashes as KEY does, unless KEY has a '}' of its own. */
    if (klen > SC_KEY_MAX || memchr(key, '\0', klen) || (!tagged && memchr(key, '}', klen)))
        return SC_EINVAL;
    /* Built without printf: it runs for every relayed entry. */
    const char *open = tagged ? "" : "{", *close = tagged ? ":" : "}:";
    const char *part[] = {SC_KEY_RELAYED_PREFIX, open, key, close, outbox, ":", id};
    size_t len[] = {sizeof SC_KEY_RELAYED_PREFIX - 1, strlen(open), klen, strlen(close),
                    strlen(outbox), 1, strlen(id)};
    size_t o = 0;
    for (size_t i = 0; i < SC_ARRAY_LEN(part); i++) {
        if (outsz == 0 || len[i] >= outsz - o)
            return SC_EINVAL;
        memcpy(out + o, part[i], len[i]);
        o += len[i];
    }
    out[o] = '\0';
    return (int)o;
}

struct relay;

/* One entry sent: the context of its command. */
struct rentry {
    struct relay *r;
    char *id;                   /* its outbox id, to XDEL */
    uint64_t at_ms;             /* its id's milliseconds */
};

struct relay {
    struct sc_store *st;
    void (*done)(void *, int);
    void *arg;
    unsigned pending;           /* commands not answered */
    unsigned n;                 /* entries sent (e[]) */
    int err;
    char outbox[SC_KEY_MAX];
    struct rentry *e;
};

static uint64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void relay_free(struct relay *r)
{
    for (unsigned i = 0; i < r->n; i++)
        free(r->e[i].id);
    free(r->e);
    free(r);
}

static void finish(struct relay *r, int err)
{
    sc_gauge_add(sc_metric_gauge(&g_relay_pending, NULL), -(int64_t)r->n);
    if (err)
        sc_counter_inc(sc_metric_counter(&g_relay_failed, NULL));
    r->done(r->arg, err);
    relay_free(r);
}

static void on_xdel(void *ctx, int err, redisReply *rep)
{
    struct relay *r = ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_warn("event=relay_xdel_failed outbox=%s entries=%u error=\"%s\" "
                "msg=\"relayed; a later run returns them again, their markers skip them\"",
                r->outbox, r->n, err ? sc_strerror(err) : rep->str);
    finish(r, 0);
}

/* Every global write answered: XDEL what was relayed. */
static void all_written(struct relay *r)
{
    if (r->err) {
        sc_warn("event=relay_failed outbox=%s entries=%u error=\"%s\"", r->outbox, r->n,
                sc_strerror(r->err));
        finish(r, r->err);
        return;
    }
    /* The outbox goes once empty (a subscriber who never writes again
     * leaves no key behind); EVAL, not a registered script: the relay has
     * no set-up of its own, and Redis caches the script by its text. */
    const char *argv[4 + SC_OUTBOX_BATCH];
    unsigned argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = "redis.call('XDEL', KEYS[1], unpack(ARGV))\n"
                   "if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end\n";
    argv[argc++] = "1";
    argv[argc++] = r->outbox;
    for (unsigned i = 0; i < r->n && argc < SC_ARRAY_LEN(argv); i++)
        argv[argc++] = r->e[i].id;
    if (r->n == 0 || sc_store_command(r->st, (int)argc, argv, NULL, on_xdel, r) < 0)
        finish(r, 0);
}

/* An entry's script answered: 1 written (its lag observed), 0 a repeat. */
static void on_written(void *ctx, int err, redisReply *rep)
{
    struct rentry *e = ctx;
    struct relay *r = e->r;
    if (err || rep->type != REDIS_REPLY_INTEGER) {
        char why[128];
        snprintf(why, sizeof why, "%s", err ? sc_strerror(err)
                                  : rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        sc_warn("event=relay_write_failed outbox=%s entry=%s error=%s", r->outbox,
                e->id ? e->id : "", SC_LOGV(why));
        if (!r->err)
            r->err = err ? err : SC_EIO;
    } else if (rep->integer == 1) {
        uint64_t t = now_ms();
        sc_histogram_observe(sc_metric_histogram(&g_relay_seconds, NULL),
                             t > e->at_ms ? t - e->at_ms : 0);
        sc_counter_inc(sc_metric_counter(&g_relay_total, (const char *const[]){"written"}));
    } else {
        sc_counter_inc(sc_metric_counter(&g_relay_total, (const char *const[]){"repeat"}));
    }
    if (--r->pending == 0)
        all_written(r);
}

/* One entry on its global key's slot, once: a repeat (the marker KEYS[2]
 * is there) renews the marker's ttl, a write, so that a WAIT after it
 * (wait_replicas) also covers the first run's write, made by another
 * client, before the entry is XDELed. Otherwise the command first, then
 * the marker: a command that fails (WRONGTYPE) aborts the script before
 * anything is written, so the entry stays and is not taken for a repeat
 * next time. ARGV: ttl, the command, its arguments. */
static const char relay_lua[] =
    "if redis.call('EXPIRE', KEYS[2], ARGV[1]) == 1 then return 0 end\n"
    "redis.call(ARGV[2], KEYS[1], unpack(ARGV, 3))\n"
    "redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])\n"
    "return 1\n";

/* Field value of an entry's flat [field, value, ...] list, or NULL. */
static const redisReply *field(const redisReply *f, const char *name)
{
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, name) == 0)
            return f->element[i + 1]->type == REDIS_REPLY_STRING ? f->element[i + 1] : NULL;
    return NULL;
}

/* Send entry e's command; 1 when sent, 0 when skipped, SC_E* when the
 * store refused it. */
static int send_entry(struct relay *r, const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    const redisReply *f = e->element[1], *c = field(f, "c"), *k = field(f, "k"),
                     *n = field(f, "n");
    long na = n ? strtol(n->str, NULL, 10) : -1;
    int xadd = c && strcmp(c->str, "XADD") == 0;
    if (!c || !k || na < 0 || na > MAX_ARGS ||
        !(xadd || strcmp(c->str, "ZADD") == 0 || strcmp(c->str, "ZREM") == 0)) {
        sc_error("event=relay_bad_entry outbox=%s entry=%s msg=\"not an outbox entry; left "
                 "there\"", r->outbox, e->element[0]->str);
        return 0;
    }
    char marker[2 * SC_KEY_MAX + 64];
    int ml = sc__relay_marker(marker, sizeof marker, k->str, k->len, r->outbox,
                              e->element[0]->str);
    if (ml < 0) {
        sc_error("event=relay_bad_entry outbox=%s entry=%s msg=\"no marker for its key; left "
                 "there\"", r->outbox, e->element[0]->str);
        return 0;
    }
    /* EVAL, script, 2, key, marker, ttl, command, "*" (XADD), arguments. */
    const char *argv[8 + MAX_ARGS];
    size_t lens[8 + MAX_ARGS];
    int argc = 0;
    argv[argc] = "EVAL", lens[argc++] = 4;
    argv[argc] = relay_lua, lens[argc++] = sizeof relay_lua - 1;
    argv[argc] = "2", lens[argc++] = 1;
    argv[argc] = k->str, lens[argc++] = k->len;
    argv[argc] = marker, lens[argc++] = (size_t)ml;
    argv[argc] = g_dedup_s, lens[argc++] = strlen(g_dedup_s);
    argv[argc] = c->str, lens[argc++] = c->len;
    if (xadd)
        argv[argc] = "*", lens[argc++] = 1;
    for (long i = 1; i <= na; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%ld", i);
        const redisReply *v = field(f, name);
        if (!v) {
            sc_error("event=relay_bad_entry outbox=%s entry=%s msg=\"%s missing; left there\"",
                     r->outbox, e->element[0]->str, name);
            return 0;
        }
        argv[argc] = v->str, lens[argc++] = v->len;
    }
    struct rentry *re = &r->e[r->n];
    re->r = r;
    re->at_ms = strtoull(e->element[0]->str, NULL, 10);
    if (!(re->id = strdup(e->element[0]->str)))
        return SC_ENOMEM;
    /* Written for good (wait_replicas) before its outbox entry goes; EVAL
     * as for the XDEL below. */
    int rc = sc_store_write(r->st, argc, argv, lens, on_written, re);
    if (rc < 0) {
        free(re->id);
        re->id = NULL;
        return rc;
    }
    r->n++;
    return 1;
}

int sc__relay(struct sc_store *st, const char *outbox, const struct redisReply *entries,
              void (*done)(void *arg, int err), void *arg)
{
    if (!entries || entries->type != REDIS_REPLY_ARRAY)
        return SC_EINVAL;
    size_t max = entries->elements < SC_OUTBOX_BATCH ? entries->elements : SC_OUTBOX_BATCH;
    struct relay *r = calloc(1, sizeof *r);
    if (!r)
        return SC_ENOMEM;
    r->e = calloc(max ? max : 1, sizeof *r->e);
    if (!r->e) {
        relay_free(r);
        return SC_ENOMEM;
    }
    r->st = st;
    r->done = done;
    r->arg = arg;
    sc_strlcpy(r->outbox, outbox, sizeof r->outbox);
    r->pending = 1; /* this call's own, dropped below: done comes from a reply */
    for (size_t i = 0; i < max; i++) {
        int rc = send_entry(r, entries->element[i]);
        if (rc < 0) {
            r->err = rc;
            break;
        }
        r->pending += (unsigned)rc;
    }
    sc_gauge_add(sc_metric_gauge(&g_relay_pending, NULL), (int64_t)r->n);
    if (--r->pending == 0) {
        /* Nothing was sent: fail or succeed without a round trip. done must
         * not be called from inside this call. */
        int err = r->err;
        sc_gauge_add(sc_metric_gauge(&g_relay_pending, NULL), -(int64_t)r->n);
        relay_free(r);
        return err ? err : SC_EINVAL;
    }
    return 0;
}

/* ---- scripts with an outbox that are not an MO's ---------------------------- */

#define MAX_KEYS 16

struct reval {
    void (*cb)(void *, int, redisReply *);
    void *ctx;
    struct sc_store *st;
    redisReply *reply;          /* the script's own, while its outbox is relayed */
    char outbox[SC_KEY_MAX];
};

static void reval_relayed(void *arg, int err)
{
    struct reval *e = arg;
    e->cb(e->ctx, err ? SC_EIO : 0, err ? NULL : e->reply);
    sc__reply_free(e->reply);
    free(e);
}

static void on_reval(void *ctx, int err, redisReply *rep)
{
    struct reval *e = ctx;
    if (err || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
        e->cb(e->ctx, err, rep);
        free(e);
        return;
    }
    redisReply *box = rep->element[--rep->elements];
    if (box->type != REDIS_REPLY_ARRAY || box->elements == 0) {
        e->cb(e->ctx, 0, rep);
        rep->elements++;
        free(e);
        return;
    }
    e->reply = sc__reply_dup(rep);
    rep->elements++;
    int rc = e->reply ? sc__relay(e->st, e->outbox, box, reval_relayed, e) : SC_ENOMEM;
    if (rc < 0) {
        sc__reply_free(e->reply);
        e->cb(e->ctx, SC_EIO, NULL);
        free(e);
    }
}

int sc__relay_eval(struct sc_store *st, int script, const char *tag, int nkeys,
                   const char *const *keys, int nargs, const char *const *args,
                   const size_t *arglens,
                   void (*cb)(void *ctx, int err, struct redisReply *reply), void *ctx)
{
    if (!sc_store_is_cluster(st))
        return sc_store_eval(st, script, nkeys, keys, NULL, nargs, args, arglens, cb, ctx);
    if (nkeys >= MAX_KEYS)
        return SC_EINVAL;
    struct reval *e = calloc(1, sizeof *e);
    if (!e)
        return SC_ENOMEM;
    e->cb = cb;
    e->ctx = ctx;
    e->st = st;
    sc_key(e->outbox, sizeof e->outbox, SC_KEY_OUTBOX, tag);
    const char *k[MAX_KEYS];
    for (int i = 0; i < nkeys; i++)
        k[i] = strchr(keys[i], '{') ? keys[i] : e->outbox;
    k[nkeys] = e->outbox;
    int rc = sc_store_eval(st, script, nkeys + 1, k, NULL, nargs, args, arglens, on_reval, e);
    if (rc < 0)
        free(e);
    return rc;
}

/* ---- reply copies ---------------------------------------------------------- */

struct redisReply *sc__reply_dup(const struct redisReply *r)
{
    redisReply *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = r->type;
    c->integer = r->integer;
    if (r->str) {
        c->str = malloc(r->len + 1);
        if (!c->str)
            goto fail;
        memcpy(c->str, r->str, r->len);
        c->str[r->len] = '\0';
        c->len = r->len;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements) {
        c->element = calloc(r->elements, sizeof *c->element);
        if (!c->element)
            goto fail;
        for (c->elements = 0; c->elements < r->elements; c->elements++)
            if (!(c->element[c->elements] = sc__reply_dup(r->element[c->elements])))
                goto fail;
    }
    return c;
fail:
    sc__reply_free(c);
    return NULL;
}

void sc__reply_free(struct redisReply *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->elements; i++)
        sc__reply_free(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}
