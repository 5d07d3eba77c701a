/* relay.c -- outbox entries relayed to their global keys, then deleted
 * (core/relay.h, handlers/emit_lua.h); the relay's lag as metrics. */
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
static struct sc_metric g_relay_failed = {
    .name = "shortcoded_relay_failed_total", .type = SC_METRIC_COUNTER,
    .help = "Relays that failed (the entries stay in the outbox; the input is not "
            "acknowledged, so they are relayed when it comes again)."};

void sc__relay_metrics(void)
{
    sc_metric_histogram(&g_relay_seconds, NULL);
    sc_metric_gauge(&g_relay_pending, NULL);
    sc_metric_counter(&g_relay_failed, NULL);
}

struct relay {
    struct sc_store *st;
    void (*done)(void *, int);
    void *arg;
    unsigned pending;           /* commands not answered */
    unsigned n;                 /* entries relayed (ids[]) */
    int err;
    char outbox[96];
    char **ids;                 /* outbox entry ids to XDEL */
    uint64_t *at_ms;
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
        free(r->ids[i]);
    free(r->ids);
    free(r->at_ms);
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
                "msg=\"relayed; they will be relayed again, with the same ids\"",
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
    uint64_t t = now_ms();
    struct sc_histogram *h = sc_metric_histogram(&g_relay_seconds, NULL);
    for (unsigned i = 0; i < r->n; i++)
        sc_histogram_observe(h, t > r->at_ms[i] ? t - r->at_ms[i] : 0);
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
        argv[argc++] = r->ids[i];
    if (r->n == 0 || sc_store_command(r->st, (int)argc, argv, NULL, on_xdel, r) < 0)
        finish(r, 0);
}

static void on_written(void *ctx, int err, redisReply *rep)
{
    struct relay *r = ctx;
    if (!r->err && (err || rep->type == REDIS_REPLY_ERROR))
        r->err = err ? err : SC_EIO;
    if (--r->pending == 0)
        all_written(r);
}

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
    const char *argv[3 + MAX_ARGS];
    size_t lens[3 + MAX_ARGS];
    int argc = 0;
    argv[argc] = c->str, lens[argc++] = c->len;
    argv[argc] = k->str, lens[argc++] = k->len;
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
    /* Written for good (wait_replicas) before its outbox entry goes. */
    int rc = sc_store_write(r->st, argc, argv, lens, on_written, r);
    if (rc < 0)
        return rc;
    r->ids[r->n] = strdup(e->element[0]->str);
    r->at_ms[r->n] = strtoull(e->element[0]->str, NULL, 10);
    if (!r->ids[r->n]) {
        r->err = SC_ENOMEM; /* sent: the entry stays, it is relayed again later */
        return 1;
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
    r->ids = calloc(max ? max : 1, sizeof *r->ids);
    r->at_ms = calloc(max ? max : 1, sizeof *r->at_ms);
    if (!r->ids || !r->at_ms) {
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
