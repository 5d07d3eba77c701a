/* usage.c -- the usage:in consumer (core/usage.h): billing's account
 * updates applied to acct:{M}, the reminders they make due queued on
 * mt:push by the same script (core/usage_lua.c).
 *
 * Connections. Two of its own: "in" only reads (XGROUP CREATE, XAUTOCLAIM,
 * XREADGROUP ... BLOCK reminders.block_ms), "out" runs the script and the
 * XACKs, so a script is never queued behind a blocked read.
 *
 * Reading. While both are connected and fewer than reminders.max_inflight
 * entries are taken (a low-water mark: at least min(read_count,
 * max_inflight / 2) free), one read at a time: every claim_idle_ms / 2 an
 * XAUTOCLAIM of entries idle > claim_idle_ms (a dead daemon's), else
 * XREADGROUP COUNT (the room, at most read_count) BLOCK. The group is made
 * (at id 0) once billing made the stream: the daemon creates no key.
 *
 * One batch. Every entry of a read is checked (core/usage_check.h); a bad
 * one is logged and counted; the good ones go, in the read's order, in
 * calls of reminders.apply_batch entries, each call one script run
 * (core/usage_lua.c: one result per entry, a pcall each), all pipelined on
 * "out". On a Redis Cluster a call holds one entry: its keys and its
 * outbox out:{M} are the subscriber's slot (core/relay.h). When every
 * entry of the read has its result, one XACK acknowledges the entries
 * applied, stale or bad; one whose script failed (Redis away, a timeout)
 * stays pending and is claimed again. The script is idempotent (per-field
 * at in acct:{M}, remsent:{M}, deterministic push ids), so an entry
 * applied twice (a claim racing a slow script, a crash between
 * script and XACK) changes nothing the second time. */
#include "core/usage.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/relay.h"
#include "core/stream.h"
#include "core/usage_check.h"
#include "core/usage_int.h"
#include "store/keys.h"

#define GROUP "shortcoded"
#define TICK_MS 200
#define STATS_MS 10000
#define NO_STREAM_MS 1000         /* no usage:in yet: ask again this often */
#define ENTRY_MAX 48

struct counts {
    unsigned long long applied, stale, bad, reminders;
};

struct batch;

/* One entry of a batch. */
struct ent {
    struct batch *b;
    char entry[ENTRY_MAX];
    char m[SC_ADDR_MAX];          /* national msisdn: the script's keys */
    unsigned char nf;             /* its fields: the script's NFS digit */
    int ack;                      /* finished: acknowledge it */
};

/* The entries of one read. */
struct batch {
    struct sc_usage *u;
    unsigned n, left;
    struct ent e[];
};

/* The entries of one read that one script call applies, in order. */
struct call {
    unsigned n;
    struct ent *e[];
};

/* A call being built: its keys and arguments (pointers into the read's
 * reply and the entries; sized for reminders.apply_batch entries). */
struct build {
    struct call *c;
    int nk, na;
    const char **keys, **args;
    size_t *lens;
    char (*kb)[SC_KEY_MAX];
    char *nfs;                    /* the script's ARGV[1]: a digit per entry */
};

struct sc_usage {
    struct sc_app *a;
    struct sc_store *in, *out;
    int script;
    uv_timer_t tick;
    int reading, quiet, group_ok, no_stream_logged;
    unsigned inflight;            /* entries read and not yet finished */
    uint64_t claimed_at, stats_at;
    uint64_t group_at;            /* loop ms of the last XGROUP CREATE */
    struct counts n, logged;
    char consumer[96];
    char cursor[ENTRY_MAX];       /* XAUTOCLAIM's, across ticks */
    unsigned batch;               /* reminders.apply_batch: entries per script */
    struct build bld;             /* the call being built (one at a time) */
    unsigned closing;
    uint64_t stop_deadline;
    void (*done)(void *);
    void *done_arg;
};

static const struct sc_cfg_reminders *rcfg(const struct sc_usage *u)
{
    return &u->a->boot_cfg->reminders;
}

static void kick(struct sc_usage *u);

/* ---- acknowledging ------------------------------------------------------- */

static void batch_free(struct batch *b)
{
    struct sc_usage *u = b->u;
    u->inflight -= b->n;
    free(b);
    kick(u);
}

static void on_acked(void *ctx, int err, redisReply *rep)
{
    struct batch *b = ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_warn("event=usage_ack_failed entries=%u msg=\"applied; claimed again later, which "
                "changes nothing\"", b->n);
    batch_free(b);
}

/* Every script answered: one XACK for the entries finished. */
static void batch_done(struct batch *b)
{
    const char **argv = malloc((3 + b->n) * sizeof *argv);
    int argc = 0;
    if (argv) {
        argv[argc++] = "XACK", argv[argc++] = SC_KEY_USAGE_IN, argv[argc++] = GROUP;
        for (unsigned i = 0; i < b->n; i++)
            if (b->e[i].ack)
                argv[argc++] = b->e[i].entry;
    }
    int rc = argc > 3 ? sc_store_command(b->u->out, argc, argv, NULL, on_acked, b) : -1;
    free(argv);
    if (rc < 0)
        on_acked(b, argc > 3 ? SC_EAGAIN : 0, &(redisReply){.type = REDIS_REPLY_NIL});
}

static void ent_end(struct ent *e, int ack)
{
    e->ack = ack;
    if (--e->b->left == 0)
        batch_done(e->b);
}

/* ---- one entry ---------------------------------------------------------------- */

/* An entry whose script failed: rep an error reply (or NULL with err),
 * msg/len its text. WRONGTYPE (acct:{M} or rem:{M} not a hash) is bad
 * data: acknowledged; anything else leaves it pending. */
static void ent_failed(struct ent *e, int err, const char *msg, size_t len)
{
    char q[200];
    int wrongtype = !err && msg && strstr(msg, "WRONGTYPE"); /* NUL-terminated */
    sc_log(wrongtype ? SC_LOG_ERROR : SC_LOG_WARN,
           "event=usage_apply_failed entry=%s error=%s msg=\"%s\"", e->entry,
           err ? sc_strerror(err) : sc_log_quote(q, sizeof q, msg ? msg : "?", msg ? len : 1),
           wrongtype ? "bad data: acknowledged" : "left pending");
    if (wrongtype)
        e->b->u->n.bad++;
    ent_end(e, wrongtype);
}

/* Entry e's result (one element of the script's reply). */
static void ent_result(struct ent *e, const redisReply *rep)
{
    struct sc_usage *u = e->b->u;
    long long set = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1; /* no reminder */
    const char *st = set > 0 ? "applied" : set == 0 ? "stale" : sc__reply_str(rep, 0);
    if (!st || strcmp(st, "error") == 0) {
        const redisReply *m = st && rep->elements > 1 ? rep->element[1] : NULL;
        int str = m && m->type == REDIS_REPLY_STRING;
        ent_failed(e, 0, str ? m->str : NULL, str ? m->len : 0);
        return;
    }
    if (strcmp(st, "bad_data") == 0) {
        sc_error("event=usage_bad_data entry=%s key=%s msg=\"nothing written; acknowledged\"",
                 e->entry, sc__reply_str(rep, 1) ? sc__reply_str(rep, 1) : "?");
        u->n.bad++;
        ent_end(e, 1);
        return;
    }
    if (strcmp(st, "stale") == 0) {
        u->n.stale++;
        sc_debug("event=usage_stale entry=%s msg=\"nothing newer than what applies\"", e->entry);
        ent_end(e, 1);
        return;
    }
    u->n.applied++;
    for (size_t i = 3; set < 0 && i < rep->elements; i++) {
        const char *id = sc__reply_str(rep, i);
        if (id) {
            u->n.reminders++;
            sc_info("event=reminder_queued entry=%s id=%s", e->entry, id);
        }
    }
    if (sc_log_enabled(SC_LOG_DEBUG)) {
        if (set < 0)
            set = rep->elements > 1 && rep->element[1]->type == REDIS_REPLY_INTEGER
                      ? rep->element[1]->integer : -1;
        sc_debug("event=usage_applied entry=%s fields=%lld stale=%lld", e->entry, set,
                 set >= 0 ? (long long)e->nf - set : -1);
    }
    ent_end(e, 1);
}

/* A call's reply: one result per entry, or an error for all of them (Redis
 * away, a timeout, a script that did not run: left pending). */
static void on_applied(void *ctx, int err, redisReply *rep)
{
    struct call *c = ctx;
    int all = err || rep->type != REDIS_REPLY_ARRAY || rep->elements != c->n;
    for (unsigned i = 0; i < c->n; i++) {
        if (!all)
            ent_result(c->e[i], rep->element[i]);
        else if (!err && rep->type == REDIS_REPLY_ERROR)
            ent_failed(c->e[i], 0, rep->str, rep->len);
        else
            ent_failed(c->e[i], err, NULL, 0);
    }
    free(c);
}

static void ent_bad(struct ent *e, const char *reason, const char *msisdn, size_t len)
{
    char q[64];
    e->b->u->n.bad++;
    sc_warn("event=usage_bad_entry entry=%s reason=%s msisdn=%s msg=\"acknowledged\"", e->entry,
            reason, sc_log_quote(q, sizeof q, msisdn ? msisdn : "", msisdn ? len : 0));
    ent_end(e, 1);
}

/* Send the call being built (if any): one script for its entries. On a
 * Redis Cluster a call holds one entry, and the reminder's mt:push entry
 * goes through out:{M}, relayed before the entry is acknowledged
 * (core/relay.h). */
static void call_send(struct sc_usage *u)
{
    struct build *bd = &u->bld;
    struct call *c = bd->c;
    if (!c)
        return;
    bd->c = NULL;
    bd->args[0] = bd->nfs, bd->lens[0] = c->n;
    bd->keys[0] = SC_KEY_MT_PUSH;
    sc_debug("event=usage_script entries=%u first=%s", c->n, c->e[0]->entry);
    if (sc__relay_eval(u->out, u->script, c->e[0]->m, bd->nk, bd->keys, bd->na, bd->args,
                       bd->lens, on_applied, c) < 0) {
        for (unsigned i = 0; i < c->n; i++)
            ent_end(c->e[i], 0); /* stays pending: claimed again */
        free(c);
    }
}

/* Add a checked entry to the call being built (sent when full). */
static void call_add(struct sc_usage *u, struct ent *e, const struct sc_usage_entry *ue)
{
    struct build *bd = &u->bld;
    if (!bd->c) {
        bd->c = malloc(sizeof *bd->c + u->batch * sizeof bd->c->e[0]);
        if (!bd->c) {
            ent_end(e, 0); /* stays pending: claimed again */
            return;
        }
        bd->c->n = 0, bd->nk = 1, bd->na = 1;
    }
    static const char *const fmt[4] = {SC_KEY_ACCT, SC_KEY_REM, SC_KEY_REMSENT, SC_KEY_AUDIT};
    for (int i = 0; i < 4; i++) {
        char *k = bd->kb[4 * bd->c->n + (unsigned)i];
        sc_key(k, SC_KEY_MAX, fmt[i], e->m);
        bd->keys[bd->nk++] = k;
    }
    e->nf = (unsigned char)ue->n;
    bd->nfs[bd->c->n] = (char)('0' + ue->n); /* 1..SC_USAGE_FIELDS (8): one digit */
    bd->args[bd->na] = ue->at, bd->lens[bd->na++] = ue->at_len;
    bd->args[bd->na] = e->entry, bd->lens[bd->na++] = strlen(e->entry);
    for (size_t i = 0; i < ue->n; i++) {
        bd->args[bd->na] = ue->f[i], bd->lens[bd->na++] = strlen(ue->f[i]);
        bd->args[bd->na] = ue->v[i], bd->lens[bd->na++] = ue->vl[i];
    }
    bd->c->e[bd->c->n++] = e;
    if (bd->c->n >= (sc_store_is_cluster(u->out) ? 1 : u->batch))
        call_send(u);
}

/* Check one entry's fields ([f, v, ...], or NULL for a deleted entry) and
 * add it to the call being built. */
static void ent_start(struct sc_usage *u, struct ent *e, const redisReply *fields)
{
    const struct sc_config *cfg = u->a->gen->cfg;
    const char *f[SC_USAGE_FIELDS + 3], *v[SC_USAGE_FIELDS + 3];
    size_t fl[SC_USAGE_FIELDS + 3], vl[SC_USAGE_FIELDS + 3], nf = 0;
    size_t pairs = fields ? fields->elements / 2 : 0;
    if (!fields) {
        ent_bad(e, "deleted", NULL, 0);
        return;
    }
    for (size_t i = 0; i < pairs && nf < SC_ARRAY_LEN(f); i++) {
        const redisReply *a = fields->element[2 * i], *b = fields->element[2 * i + 1];
        if (a->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING)
            continue;
        f[nf] = a->str, fl[nf] = a->len, v[nf] = b->str, vl[nf++] = b->len;
    }
    struct sc_usage_entry ue = {0};
    const char *bad = pairs > SC_USAGE_FIELDS + 2 ? "too_many_fields"
                                                  : sc_usage_check(f, fl, v, vl, nf, &ue);
    char to[SC_ADDR_MAX];
    if (!bad) {
        memcpy(to, ue.msisdn, ue.msisdn_len);
        to[ue.msisdn_len] = '\0';
        sc_msisdn_national((const char *const *)cfg->msisdn_prefixes, cfg->nmsisdn_prefixes, to,
                           e->m, sizeof e->m);
        if (!e->m[0] || e->m[0] == '+')
            bad = "bad_msisdn";
    }
    if (bad)
        ent_bad(e, bad, ue.msisdn, ue.msisdn_len);
    else
        call_add(u, e, &ue);
}

/* Start every entry of [[id, [fields]], ...] as one batch: its good
 * entries in calls of reminders.apply_batch, in the read's order; how
 * many. */
static size_t start_entries(struct sc_usage *u, const redisReply *list)
{
    if (!list || list->type != REDIS_REPLY_ARRAY || list->elements == 0)
        return 0;
    struct batch *b = calloc(1, sizeof *b + list->elements * sizeof b->e[0]);
    if (!b)
        return 0; /* stays pending: claimed again */
    b->u = u;
    for (size_t i = 0; i < list->elements; i++) {
        const char *id = sc__reply_str(list->element[i], 0);
        if (id && strlen(id) < ENTRY_MAX)
            sc_strlcpy(b->e[b->n++].entry, id, ENTRY_MAX);
    }
    if (b->n == 0) {
        free(b);
        return 0;
    }
    u->inflight += b->n;
    /* left counts one more until every entry started: a callback that
     * comes at once cannot finish the batch early. */
    b->left = b->n + 1;
    for (unsigned i = 0, k = 0; i < list->elements && k < b->n; i++) {
        const redisReply *x = list->element[i];
        const char *id = sc__reply_str(x, 0);
        if (!id || strlen(id) >= ENTRY_MAX)
            continue;
        const redisReply *fields =
            x->elements > 1 && x->element[1]->type == REDIS_REPLY_ARRAY ? x->element[1] : NULL;
        b->e[k].b = b;
        ent_start(u, &b->e[k++], fields);
    }
    call_send(u);
    size_t n = b->n;
    if (--b->left == 0)
        batch_done(b);
    return n;
}

/* ---- reading ------------------------------------------------------------------ */

static unsigned room(const struct sc_usage *u)
{
    unsigned max = (unsigned)rcfg(u)->max_inflight;
    return u->inflight < max ? max - u->inflight : 0;
}

/* 0: a reply to use; 1: an error (logged; NOGROUP makes the group again). */
static int read_failed(struct sc_usage *u, int err, const redisReply *rep, const char *what)
{
    u->reading = 0;
    if (!err && rep->type != REDIS_REPLY_ERROR)
        return 0;
    if (!err && strncmp(rep->str, "NOGROUP", 7) == 0)
        u->group_ok = 0;
    else if (!u->quiet)
        sc_warn("event=usage_read_failed command=%s error=\"%s\"", what,
                err ? sc_strerror(err) : rep->str);
    return 1;
}

static void on_read(void *ctx, int err, redisReply *rep)
{
    struct sc_usage *u = ctx;
    if (read_failed(u, err, rep, "XREADGROUP"))
        return;
    /* [[stream, [entries]]], or nil when BLOCK ran out. */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        start_entries(u, rep->element[0]->element[1]);
    kick(u);
}

/* [next cursor, [entries], [deleted ids]] */
static void on_claim(void *ctx, int err, redisReply *rep)
{
    struct sc_usage *u = ctx;
    if (read_failed(u, err, rep, "XAUTOCLAIM"))
        return;
    const char *next = sc__reply_str(rep, 0);
    sc_strlcpy(u->cursor, next && strlen(next) < ENTRY_MAX ? next : "0-0", ENTRY_MAX);
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
        size_t n = start_entries(u, rep->element[1]);
        if (n)
            sc_info("event=usage_claimed entries=%zu", n);
    }
    kick(u);
}

static void on_group(void *ctx, int err, redisReply *rep)
{
    struct sc_usage *u = ctx;
    u->reading = 0;
    /* BUSYGROUP: another daemon made it first. No stream yet: billing has
     * written nothing; the tick asks again (no key is made here). */
    if (!err && (rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "BUSYGROUP", 9) == 0)) {
        u->group_ok = 1;
        sc_info("event=usage_group stream=%s group=%s", SC_KEY_USAGE_IN, GROUP);
        kick(u);
    } else if (!err && strstr(rep->str, "requires the key to exist")) {
        u->group_at = uv_now(u->a->loop);
        if (!u->no_stream_logged++)
            sc_info("event=usage_waiting msg=\"no %s stream yet\"", SC_KEY_USAGE_IN);
    } else {
        sc_warn("event=usage_group_failed error=\"%s\"", err ? sc_strerror(err) : rep->str);
    }
}

/* Issue the next read if one may go now; else the tick looks again. */
static void kick(struct sc_usage *u)
{
    const struct sc_cfg_reminders *rc = rcfg(u);
    unsigned n = room(u), low = (unsigned)SC_MIN(rc->read_count, SC_MAX(rc->max_inflight / 2, 1));
    if (u->reading || u->quiet || n < low || !sc_store_connected(u->in) ||
        !sc_store_connected(u->out))
        return;
    char count[16], idle[16], block[16];
    snprintf(count, sizeof count, "%u", SC_MIN(n, (unsigned)rc->read_count));
    uint64_t now = uv_now(u->a->loop);
    int rc2;
    if (!u->group_ok) {
        if (u->group_at && now - u->group_at < NO_STREAM_MS)
            return;
        const char *argv[] = {"XGROUP", "CREATE", SC_KEY_USAGE_IN, GROUP, "0"};
        rc2 = sc_store_command(u->in, SC_ARRAY_LEN(argv), argv, NULL, on_group, u);
    } else if (now - u->claimed_at >= (uint64_t)rc->claim_idle_ms / 2) {
        u->claimed_at = now;
        snprintf(idle, sizeof idle, "%d", rc->claim_idle_ms);
        const char *argv[] = {"XAUTOCLAIM", SC_KEY_USAGE_IN, GROUP, u->consumer, idle,
                              u->cursor, "COUNT", count};
        rc2 = sc_store_command(u->in, SC_ARRAY_LEN(argv), argv, NULL, on_claim, u);
    } else {
        snprintf(block, sizeof block, "%d", rc->block_ms);
        const char *argv[] = {"XREADGROUP", "GROUP", GROUP, u->consumer, "COUNT", count,
                              "BLOCK", block, "STREAMS", SC_KEY_USAGE_IN, ">"};
        rc2 = sc_store_command(u->in, SC_ARRAY_LEN(argv), argv, NULL, on_read, u);
    }
    u->reading = rc2 == 0;
}

static void log_stats(struct sc_usage *u, int force)
{
    uint64_t now = uv_now(u->a->loop);
    if (!force && (now - u->stats_at < STATS_MS || memcmp(&u->n, &u->logged, sizeof u->n) == 0))
        return;
    u->stats_at = now;
    u->logged = u->n;
    sc_info("event=usage_stats applied=%llu stale=%llu bad=%llu reminders=%llu inflight=%u",
            u->n.applied, u->n.stale, u->n.bad, u->n.reminders, u->inflight);
}

static void on_tick(uv_timer_t *t)
{
    struct sc_usage *u = t->data;
    log_stats(u, 0);
    kick(u);
}

/* ---- life ------------------------------------------------------------------------ */

/* Room for a call of batch entries: mt:push and 4 keys each; the field
 * counts and 2 + 2 per field arguments each. */
static int build_alloc(struct build *bd, unsigned batch)
{
    size_t na = 1 + (size_t)batch * (2 + 2 * SC_USAGE_FIELDS);
    bd->nfs = malloc(batch);
    bd->keys = malloc((1 + 4 * (size_t)batch) * sizeof *bd->keys);
    bd->kb = malloc(4 * (size_t)batch * sizeof *bd->kb);
    bd->args = malloc(na * sizeof *bd->args);
    bd->lens = malloc(na * sizeof *bd->lens);
    return bd->keys && bd->kb && bd->args && bd->lens && bd->nfs ? 0 : SC_ENOMEM;
}

struct sc_usage *sc_usage_new(struct sc_app *a, char *err, size_t errsz)
{
    const struct sc_cfg_reminders *rc = &a->boot_cfg->reminders;
    err[0] = '\0';
    if (!rc->enabled)
        return NULL;
    struct sc_usage *u = calloc(1, sizeof *u);
    char *lua = u && build_alloc(&u->bld, (unsigned)rc->apply_batch) == 0
                    ? sc__usage_script(rc) : NULL;
    if (!lua) {
        snprintf(err, errsz, "out of memory");
        sc_usage_free(u);
        return NULL;
    }
    u->batch = (unsigned)rc->apply_batch;
    u->a = a;
    /* The read's timeout allows its BLOCK; scripts: the entries in flight,
     * their XACKs and a margin. */
    u->in = sc__stream_store(a, "usage_in", (uint32_t)rc->block_ms, 4, err, errsz);
    u->out = u->in ? sc__stream_store(a, "usage_out", 0, (unsigned)rc->max_inflight * 2 + 16,
                                      err, errsz)
                   : NULL;
    u->script = u->out ? sc_store_script(u->out, "usage_apply", lua) : SC_ENOMEM;
    free(lua);
    if (!u->out || u->script < 0 || sc_store_start(u->in) < 0 || sc_store_start(u->out) < 0) {
        if (!err[0])
            snprintf(err, errsz, "cannot start the usage consumer's Redis connections");
        sc_usage_free(u);
        return NULL;
    }
    sc__stream_consumer(u->consumer, sizeof u->consumer);
    sc_strlcpy(u->cursor, "0-0", sizeof u->cursor);
    uv_timer_init(a->loop, &u->tick);
    u->tick.data = u;
    uv_timer_start(&u->tick, on_tick, TICK_MS, TICK_MS);
    sc_info("event=usage_consumer stream=%s group=%s consumer=%s", SC_KEY_USAGE_IN, GROUP,
            u->consumer);
    return u;
}

void sc_usage_quiesce(struct sc_usage *u)
{
    if (u)
        u->quiet = 1;
}

static void on_part_closed(void *arg)
{
    struct sc_usage *u = arg;
    if (--u->closing == 0 && u->done)
        u->done(u->done_arg);
}

static void on_tick_closed(uv_handle_t *h) { on_part_closed(h->data); }

/* Shutdown: wait for the scripts and XACKs in flight (or the deadline). */
static void on_stop_tick(uv_timer_t *t)
{
    struct sc_usage *u = t->data;
    if ((u->inflight && uv_now(u->a->loop) < u->stop_deadline) ||
        (sc_store_pending(u->out) && uv_now(u->a->loop) < u->stop_deadline))
        return;
    if (u->inflight)
        sc_warn("event=usage_shutdown left_pending=%u msg=\"claimed again; changes nothing\"",
                u->inflight);
    log_stats(u, 1);
    uv_timer_stop(&u->tick);
    u->closing = 3;
    uv_close((uv_handle_t *)&u->tick, on_tick_closed);
    sc_store_stop(u->in, on_part_closed, u);
    sc_store_stop(u->out, on_part_closed, u);
}

void sc_usage_stop(struct sc_usage *u, void (*done)(void *), void *arg)
{
    u->quiet = 1;
    u->done = done;
    u->done_arg = arg;
    u->stop_deadline = uv_now(u->a->loop) + (uint64_t)u->a->gen->cfg->limits.shutdown_timeout_ms;
    uv_timer_start(&u->tick, on_stop_tick, 0, 20);
}

void sc_usage_free(struct sc_usage *u)
{
    if (!u)
        return;
    sc_store_free(u->in);
    sc_store_free(u->out);
    free(u->bld.c);
    free(u->bld.keys);
    free(u->bld.args);
    free(u->bld.lens);
    free(u->bld.kb);
    free(u->bld.nfs);
    free(u);
}
