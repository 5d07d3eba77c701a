/* catalogue.c -- the VAS catalogue (vas:svc:CODE hashes) cached in memory. */
#include "core/catalogue.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/sc.h"

#define SCAN_COUNT "500"
#define KEY_PREFIX "vas:svc:"

/* An immutable snapshot: entries plus an open-addressing index on code. */
struct snapshot {
    struct sc_service *items;
    size_t n, cap;
    size_t *index;           /* slot -> item + 1, 0 = empty */
    size_t nslots;           /* power of two, >= 2n */
};

/* One refresh in progress. It outlives an abort until its last callback. */
struct refresh {
    struct sc_catalogue *c;  /* NULL once aborted */
    struct snapshot snap;
    unsigned pending;        /* HGETALLs of the current batch not answered */
    char cursor[32];
    int failed;
};

struct sc_catalogue {
    uv_loop_t *loop;
    struct sc_store *st;
    uv_timer_t timer;
    struct snapshot *cur;
    struct refresh *running;
    void (*stop_done)(void *);
    void *stop_arg;
    void (*loaded)(void *, int);
    void *loaded_arg;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void snap_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->items[i].code);
        free((char *)s->items[i].name);
    }
    free(s->items);
    free(s->index);
    memset(s, 0, sizeof *s);
}

static int snap_index(struct snapshot *s)
{
    s->nslots = 16;
    while (s->nslots < 2 * s->n)
        s->nslots <<= 1;
    s->index = calloc(s->nslots, sizeof *s->index);
    if (!s->index)
        return SC_ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        size_t k = hash(s->items[i].code) & (s->nslots - 1);
        while (s->index[k])
            k = (k + 1) & (s->nslots - 1);
        s->index[k] = i + 1;
    }
    return 0;
}

const struct sc_service *sc_catalogue_get(const struct sc_catalogue *c, const char *code)
{
    const struct snapshot *s = c->cur;
    if (!s || !s->nslots)
        return NULL;
    for (size_t k = hash(code) & (s->nslots - 1); s->index[k]; k = (k + 1) & (s->nslots - 1))
        if (strcmp(s->items[s->index[k] - 1].code, code) == 0)
            return &s->items[s->index[k] - 1];
    return NULL;
}

size_t sc_catalogue_size(const struct sc_catalogue *c) { return c->cur ? c->cur->n : 0; }

/* ---- refresh ---------------------------------------------------------- */

static void scan_next(struct refresh *r);

/* Parse one HGETALL answer for key into the snapshot being built. */
static void add_entry(struct refresh *r, const char *key, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        sc_warn("event=catalogue_bad_key key=%s error=\"%.*s\"", key, (int)SC_MIN(rep->len, 200),
                rep->str);
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0)
        return; /* deleted between SCAN and HGETALL */
    const char *name = NULL, *price = NULL;
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *v = rep->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(f->str, "name") == 0)
            name = v->str;
        else if (strcmp(f->str, "price_fen") == 0)
            price = v->str;
    }
    long long fen = -1;
    if (price) {
        char *end;
        fen = strtoll(price, &end, 10);
        if (end == price || *end || fen < 0) {
            sc_warn("event=catalogue_bad_value key=%s field=price_fen msg=\"not a whole number "
                    "of fen\"", key);
            fen = -1;
        }
    } else {
        sc_warn("event=catalogue_bad_value key=%s field=price_fen msg=missing", key);
    }
    struct snapshot *s = &r->snap;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct sc_service *it = realloc(s->items, cap * sizeof *it);
        if (!it) {
            r->failed = 1;
            return;
        }
        s->items = it;
        s->cap = cap;
    }
    const char *code = key + strlen(KEY_PREFIX);
    char *c = strdup(code), *n = strdup(name && *name ? name : code);
    if (!c || !n) {
        free(c);
        free(n);
        r->failed = 1;
        return;
    }
    s->items[s->n++] = (struct sc_service){c, n, fen};
}

static void finish(struct refresh *r)
{
    struct sc_catalogue *c = r->c;
    if (c)
        c->running = NULL;
    struct snapshot *s = NULL;
    if (!c || r->failed || snap_index(&r->snap) < 0 || !(s = malloc(sizeof *s))) {
        if (c)
            sc_warn("event=catalogue_refresh_failed kept=%zu", sc_catalogue_size(c));
        snap_free(&r->snap);
        free(r);
        if (c && c->loaded)
            c->loaded(c->loaded_arg, 0);
        return;
    }
    *s = r->snap;
    if (c->cur) {
        snap_free(c->cur);
        free(c->cur);
    }
    c->cur = s;
    free(r);
    sc_info("event=catalogue_loaded services=%zu", s->n);
    if (c->loaded)
        c->loaded(c->loaded_arg, 1);
}

struct hget {
    struct refresh *r;
    char key[];
};

/* One answer of the current batch is in: after the last, scan on or finish. */
static void release(struct refresh *r)
{
    if (--r->pending)
        return;
    if (r->failed || !r->c || strcmp(r->cursor, "0") == 0)
        finish(r);
    else
        scan_next(r);
}

static void on_hgetall(void *ctx, int err, struct redisReply *rep)
{
    struct hget *h = ctx;
    struct refresh *r = h->r;
    if (err)
        r->failed = 1;
    else if (r->c && !r->failed)
        add_entry(r, h->key, rep);
    free(h);
    release(r);
}

static void on_scan(void *ctx, int err, struct redisReply *rep)
{
    struct refresh *r = ctx;
    if (err || !r->c || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        if (r->c)
            sc_warn("event=catalogue_scan_failed error=\"%s\"",
                    err ? sc_strerror(err) : "unexpected SCAN reply");
        r->failed = 1;
        finish(r);
        return;
    }
    sc_strlcpy(r->cursor, rep->element[0]->str, sizeof r->cursor);
    const redisReply *keys = rep->element[1];
    r->pending = 1; /* held while issuing, so no callback finishes early */
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING || k->len <= strlen(KEY_PREFIX) || k->len > 200)
            continue;
        struct hget *h = malloc(sizeof *h + k->len + 1);
        if (!h) {
            r->failed = 1;
            break;
        }
        h->r = r;
        memcpy(h->key, k->str, k->len + 1);
        const char *argv[] = {"HGETALL", h->key};
        if (sc_store_command(r->c->st, 2, argv, NULL, on_hgetall, h) < 0) {
            free(h);
            r->failed = 1;
            break;
        }
        r->pending++;
    }
    release(r);
}

static void scan_next(struct refresh *r)
{
    const char *argv[] = {"SCAN", r->cursor, "MATCH", KEY_PREFIX "*", "COUNT", SCAN_COUNT};
    if (sc_store_command(r->c->st, 6, argv, NULL, on_scan, r) < 0) {
        r->failed = 1;
        finish(r);
    }
}

void sc_catalogue_refresh(struct sc_catalogue *c)
{
    if (c->running || !sc_store_ready(c->st))
        return;
    struct refresh *r = calloc(1, sizeof *r);
    if (!r)
        return;
    r->c = c;
    strcpy(r->cursor, "0");
    c->running = r;
    scan_next(r);
}

static void on_timer(uv_timer_t *t)
{
    sc_catalogue_refresh(t->data);
}

struct sc_catalogue *sc_catalogue_new(uv_loop_t *loop, struct sc_store *st, unsigned refresh_s,
                                      void (*loaded)(void *arg, int ok), void *arg)
{
    struct sc_catalogue *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loaded = loaded;
    c->loaded_arg = arg;
    c->loop = loop;
    c->st = st;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uint64_t ms = (uint64_t)(refresh_s ? refresh_s : 300) * 1000;
    uv_timer_start(&c->timer, on_timer, ms, ms);
    return c;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct sc_catalogue *c = h->data;
    if (c->stop_done)
        c->stop_done(c->stop_arg);
}

void sc_catalogue_stop(struct sc_catalogue *c, void (*done)(void *), void *arg)
{
    if (c->running) {
        c->running->c = NULL; /* its callbacks free it */
        c->running = NULL;
    }
    c->stop_done = done;
    c->stop_arg = arg;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

void sc_catalogue_free(struct sc_catalogue *c)
{
    if (!c)
        return;
    if (c->cur) {
        snap_free(c->cur);
        free(c->cur);
    }
    free(c);
}
