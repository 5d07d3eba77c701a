/* catalogue.c -- the VAS catalogue (vas:svc:CODE hashes) cached in memory,
 * read through the vas:catalogue set, and the dataset guard. */
#include "handlers/catalogue.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/sc.h"
#include "store/keys.h"

#define KEY_PREFIX SC_KEY_SVC_PREFIX
#define SET_KEY SC_KEY_CATALOGUE
#define BATCH 256                /* HGETALLs in flight per refresh */
#define MAX_CODES 100000         /* members of vas:catalogue we accept */
#define MAX_CODE_LEN 64

/* An immutable snapshot: entries plus an open-addressing index on code. */
struct snapshot {
    struct sc_service *items;
    size_t n, cap;
    size_t *index;           /* slot -> item + 1, 0 = empty */
    size_t nslots;           /* power of two, >= 2n */
    char *prices;            /* ",CODE=FEN,...," (sc_catalogue_prices) */
};

/* One refresh in progress. It outlives an abort until its last callback. */
struct refresh {
    struct sc_catalogue *c;  /* NULL once aborted */
    struct snapshot snap;
    char **codes;            /* the members of vas:catalogue */
    long long card;          /* how many SMEMBERS returned */
    size_t ncodes, next;     /* next: first code not asked for yet */
    unsigned pending;        /* HGETALLs sent and not answered */
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
    /* dataset guard */
    uv_timer_t probe_timer;
    int probing;             /* probe replies awaited */
    long long probe_card;    /* this probe's SCARD vas:catalogue, -1 none */
    long long loaded_card;   /* members the last load read (0: load again) */
    int had;                 /* a non-empty catalogue was loaded once */
    int lost;                /* the store is held */
    char run_id[41];         /* of the server last connected to */
    long long keys;          /* its db size as last seen; -1 unknown */
    int stopped;
    int closing;             /* timers not closed yet */
};

/* FNV-1a without the mix: codes are short and differ in their last
 * characters, and a lookup runs for every service of every list. */
static size_t hash(const char *s)
{
    return sc_hash_str(SC_HASH_SEED, s);
}

static void snap_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->items[i].code);
        free((char *)s->items[i].name);
        free((char *)s->items[i].provider);
        free((char *)s->items[i].kind);
    }
    free(s->items);
    free(s->index);
    free(s->prices);
    memset(s, 0, sizeof *s);
}

/* ",CODE=FEN," per service with a price, for the scripts that cannot read
 * vas:svc:CODE on a Redis Cluster. */
static int snap_prices(struct snapshot *s)
{
    size_t n = 2;
    for (size_t i = 0; i < s->n; i++)
        n += strlen(s->items[i].code) + 24;
    s->prices = malloc(n);
    if (!s->prices)
        return SC_ENOMEM;
    size_t o = 0;
    s->prices[o++] = ',';
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].price_fen >= 0)
            o += (size_t)snprintf(s->prices + o, n - o, "%s=%lld,", s->items[i].code,
                                  s->items[i].price_fen);
    s->prices[o] = '\0';
    return 0;
}

static int snap_index(struct snapshot *s)
{
    if (snap_prices(s) < 0)
        return SC_ENOMEM;
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

const char *sc_catalogue_prices(const struct sc_catalogue *c)
{
    return c->cur && c->cur->prices ? c->cur->prices : ",";
}

/* ---- dataset guard ---------------------------------------------------- */

int sc_catalogue_lost(const struct sc_catalogue *c) { return c->lost; }

static void set_lost(struct sc_catalogue *c, const char *why)
{
    if (c->lost)
        return;
    c->lost = 1;
    sc_store_hold(c->st, 1);
    sc_error("event=redis_dataset_lost reason=\"%s\" services_cached=%zu action=\"MOs get the "
             "temporary error (the SMSC keeps them) until vas:catalogue is back: restore "
             "Redis, or re-import (shortcodectl import catalogue, import subscriptions)\"",
             why, sc_catalogue_size(c));
}

static void clear_lost(struct sc_catalogue *c)
{
    if (!c->lost)
        return;
    c->lost = 0;
    sc_store_hold(c->st, 0);
    sc_warn("event=redis_dataset_back services=%zu msg=\"answering MOs again\"",
            sc_catalogue_size(c));
}

void sc_catalogue_connected(struct sc_catalogue *c)
{
    const struct sc_store_server *s = sc_store_server(c->st);
    if (s->run_id[0] && c->run_id[0] && strcmp(s->run_id, c->run_id) != 0) {
        sc_warn("event=redis_replaced old_run_id=%s run_id=%s keys=%lld keys_before=%lld",
                c->run_id, s->run_id, s->keys, c->keys);
        if (s->keys == 0 && (c->had || c->keys > 0))
            set_lost(c, "a new Redis server (run_id changed) with an empty db");
    }
    if (s->run_id[0])
        sc_strlcpy(c->run_id, s->run_id, sizeof c->run_id);
    if (s->keys >= 0)
        c->keys = s->keys;
    sc_catalogue_refresh(c);
}

/* Both probe answers are in: act on them. */
static void probe_done(struct sc_catalogue *c)
{
    if (c->probe_card == 0 && c->had) {
        set_lost(c, SET_KEY " vanished (FLUSHALL, FLUSHDB or DEL?)");
        c->loaded_card = 0;
    }
    /* The set changed since the last load (first import, back after a
     * loss, an import in progress or done): load it now, not at the next
     * refresh. A load that saw the same count is not repeated. */
    if (c->probe_card > 0 && c->probe_card != c->loaded_card)
        sc_catalogue_refresh(c);
    /* Lost with no catalogue ever: back once the db holds data again. */
    if (c->lost && !c->had && c->keys > 0)
        clear_lost(c);
}

static void on_probe(void *ctx, int err, struct redisReply *rep, int is_card)
{
    struct sc_catalogue *c = ctx;
    if (!err && rep->type == REDIS_REPLY_INTEGER) {
        if (is_card)
            c->probe_card = rep->integer;
        else
            c->keys = rep->integer;
    }
    if (--c->probing == 0 && !c->stopped)
        probe_done(c);
}

static void on_probe_card(void *ctx, int err, struct redisReply *rep)
{
    on_probe(ctx, err, rep, 1);
}

static void on_probe_dbsize(void *ctx, int err, struct redisReply *rep)
{
    on_probe(ctx, err, rep, 0);
}

static void on_probe_timer(uv_timer_t *t)
{
    struct sc_catalogue *c = t->data;
    static const char *const scard[] = {"SCARD", SET_KEY};
    static const char *const dbsize[] = {"DBSIZE"};
    if (c->probing || !sc_store_connected(c->st))
        return;
    c->probe_card = -1;
    if (sc_store_command(c->st, 2, scard, NULL, on_probe_card, c) == 0)
        c->probing++;
    if (sc_store_command(c->st, 1, dbsize, NULL, on_probe_dbsize, c) == 0)
        c->probing++;
}

/* ---- refresh ---------------------------------------------------------- */

static void fetch_more(struct refresh *r);

/* Parse one HGETALL answer for key into the snapshot being built. */
static void add_entry(struct refresh *r, const char *key, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        sc_warn("event=catalogue_bad_key key=%s error=\"%.*s\"", key, (int)SC_MIN(rep->len, 200),
                rep->str);
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
        sc_warn("event=catalogue_bad_key key=%s msg=\"in " SET_KEY " but the hash is missing\"",
                key);
        return;
    }
    const char *name = NULL, *price = NULL, *provider = "", *kind = "monthly";
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *v = rep->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(f->str, "name") == 0)
            name = v->str;
        else if (strcmp(f->str, "price_fen") == 0)
            price = v->str;
        else if (strcmp(f->str, "provider") == 0)
            provider = v->str;
        else if (strcmp(f->str, "kind") == 0 && v->str[0])
            kind = v->str;
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
    char *p = strdup(provider), *k = strdup(kind);
    if (!c || !n || !p || !k) {
        free(c);
        free(n);
        free(p);
        free(k);
        r->failed = 1;
        return;
    }
    s->items[s->n++] = (struct sc_service){c, n, fen, p, k};
}

static void refresh_free(struct refresh *r)
{
    for (size_t i = 0; i < r->ncodes; i++)
        free(r->codes[i]);
    free(r->codes);
    snap_free(&r->snap);
    free(r);
}

static void finish(struct refresh *r)
{
    struct sc_catalogue *c = r->c;
    if (c)
        c->running = NULL;
    if (c && !r->failed && r->snap.n == 0 && c->had) {
        /* Never replace a good catalogue by an empty one. */
        sc_error("event=catalogue_empty kept=%zu msg=\"no service in " SET_KEY
                 "; the last good catalogue is kept\"", sc_catalogue_size(c));
        c->loaded_card = 0;
        refresh_free(r);
        set_lost(c, SET_KEY " is empty or missing");
        if (c->loaded)
            c->loaded(c->loaded_arg, 0);
        return;
    }
    struct snapshot *s = NULL;
    if (!c || r->failed || snap_index(&r->snap) < 0 || !(s = malloc(sizeof *s))) {
        if (c)
            sc_warn("event=catalogue_refresh_failed kept=%zu", sc_catalogue_size(c));
        refresh_free(r);
        if (c && c->loaded)
            c->loaded(c->loaded_arg, 0);
        return;
    }
    *s = r->snap;
    memset(&r->snap, 0, sizeof r->snap);
    c->loaded_card = r->card;
    refresh_free(r);
    if (c->cur) {
        snap_free(c->cur);
        free(c->cur);
    }
    c->cur = s;
    sc_info("event=catalogue_loaded services=%zu", s->n);
    if (s->n) {
        c->had = 1;
        clear_lost(c);
    }
    if (c->loaded)
        c->loaded(c->loaded_arg, 1);
}

struct hget {
    struct refresh *r;
    char key[];
};

static void on_hgetall(void *ctx, int err, struct redisReply *rep)
{
    struct hget *h = ctx;
    struct refresh *r = h->r;
    if (err)
        r->failed = 1;
    else if (r->c && !r->failed)
        add_entry(r, h->key, rep);
    free(h);
    r->pending--;
    fetch_more(r);
}

/* Keep up to BATCH HGETALLs in flight; finish after the last answer. */
static void fetch_more(struct refresh *r)
{
    while (r->c && !r->failed && r->next < r->ncodes && r->pending < BATCH) {
        const char *code = r->codes[r->next++];
        size_t n = strlen(KEY_PREFIX) + strlen(code);
        struct hget *h = malloc(sizeof *h + n + 1);
        if (!h) {
            r->failed = 1;
            break;
        }
        h->r = r;
        snprintf(h->key, n + 1, KEY_PREFIX "%s", code);
        const char *argv[] = {"HGETALL", h->key};
        if (sc_store_command(r->c->st, 2, argv, NULL, on_hgetall, h) < 0) {
            free(h);
            r->failed = 1;
            break;
        }
        r->pending++;
    }
    if (r->pending == 0)
        finish(r);
}

/* A member that cannot be a code (empty, too long, bytes a key should not
 * hold) is logged and skipped. */
static int good_code(const redisReply *m)
{
    if (m->type != REDIS_REPLY_STRING || m->len == 0 || m->len > MAX_CODE_LEN)
        return 0;
    for (size_t i = 0; i < m->len; i++)
        if ((unsigned char)m->str[i] <= 0x20 || m->str[i] == 0x7f)
            return 0;
    return 1;
}

static void on_members(void *ctx, int err, struct redisReply *rep)
{
    struct refresh *r = ctx;
    char q[96];
    if (!r->c) {
        refresh_free(r);
        return;
    }
    if (!err && rep->type == REDIS_REPLY_ARRAY && rep->elements > MAX_CODES)
        r->c->loaded_card = (long long)rep->elements; /* not retried every probe */
    if (err || rep->type != REDIS_REPLY_ARRAY || rep->elements > MAX_CODES) {
        sc_error("event=catalogue_read_failed key=" SET_KEY " error=%s",
                 err ? sc_strerror(err)
                 : rep->type == REDIS_REPLY_ERROR
                     ? sc_log_quote(q, sizeof q, rep->str, rep->len)
                     : rep->type == REDIS_REPLY_ARRAY ? "\"more than 100000 members\""
                                                      : "\"unexpected reply to SMEMBERS\"");
        r->failed = 1;
        finish(r);
        return;
    }
    r->card = (long long)rep->elements;
    r->codes = calloc(rep->elements ? rep->elements : 1, sizeof *r->codes);
    if (!r->codes) {
        r->failed = 1;
        finish(r);
        return;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *m = rep->element[i];
        if (!good_code(m)) {
            sc_warn("event=catalogue_bad_member key=" SET_KEY " member=%s",
                    m->type == REDIS_REPLY_STRING ? sc_log_quote(q, sizeof q, m->str, m->len)
                                                  : "\"not a string\"");
            continue;
        }
        if (!(r->codes[r->ncodes] = strdup(m->str))) {
            r->failed = 1;
            break;
        }
        r->ncodes++;
    }
    fetch_more(r);
}

void sc_catalogue_refresh(struct sc_catalogue *c)
{
    if (c->running || !sc_store_connected(c->st))
        return;
    struct refresh *r = calloc(1, sizeof *r);
    if (!r)
        return;
    r->c = c;
    c->running = r;
    const char *argv[] = {"SMEMBERS", SET_KEY};
    if (sc_store_command(c->st, 2, argv, NULL, on_members, r) < 0) {
        r->failed = 1;
        finish(r);
    }
}

static void on_timer(uv_timer_t *t)
{
    sc_catalogue_refresh(t->data);
}

struct sc_catalogue *sc_catalogue_new(uv_loop_t *loop, struct sc_store *st, unsigned refresh_s,
                                      unsigned check_ms, void (*loaded)(void *arg, int ok),
                                      void *arg)
{
    struct sc_catalogue *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loaded = loaded;
    c->loaded_arg = arg;
    c->loop = loop;
    c->st = st;
    c->keys = -1;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uint64_t ms = (uint64_t)(refresh_s ? refresh_s : 300) * 1000;
    uv_timer_start(&c->timer, on_timer, ms, ms);
    uv_timer_init(loop, &c->probe_timer);
    c->probe_timer.data = c;
    ms = check_ms ? check_ms : 1000;
    uv_timer_start(&c->probe_timer, on_probe_timer, ms, ms);
    return c;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct sc_catalogue *c = h->data;
    if (--c->closing == 0 && c->stop_done)
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
    c->stopped = 1;
    c->closing = 2;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->probe_timer, on_timer_closed);
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

char *sc_fmt_fen(long long fen, char *out, size_t outsz)
{
    if (fen < 0)
        snprintf(out, outsz, "?元");
    else if (fen % 100 == 0)
        snprintf(out, outsz, "%lld元", fen / 100);
    else if (fen % 10 == 0)
        snprintf(out, outsz, "%lld.%lld元", fen / 100, fen % 100 / 10);
    else
        snprintf(out, outsz, "%lld.%02lld元", fen / 100, fen % 100);
    return out;
}
