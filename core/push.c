/* push.c -- the push intake: mt:push -> checked, deduplicated -> the esme at
 * its priority -> mt:status + mt:{ID} + XACK. This file reads (the
 * streams, claims, backpressure) and keeps the job list; core/push_send.c
 * takes, holds, sends and records one job (core/push_int.h between them).
 *
 * Connections. Two of its own (neither is the MO path's): "in" only reads
 * (XGROUP CREATE, XAUTOCLAIM, XREADGROUP ... BLOCK mt.block_ms; its command
 * timeout is redis.command_timeout_ms + block_ms), "out" runs the two
 * scripts, so a record is never queued behind a blocked read.
 *
 * Reading. While both are ready, a bind is up and fewer than mt.max_queued
 * pushes are taken (a low-water mark: at least min(read_count, max_queued /
 * 2) free), one read at a time: every claim_idle_ms / 2 an XAUTOCLAIM of
 * entries idle > claim_idle_ms (a dead daemon's; the entries this daemon
 * still holds are skipped; again at once while one returns entries and a
 * cursor), else XREADGROUP COUNT (the room, at most
 * read_count) BLOCK. Memory is bounded by max_queued pushes whatever waits
 * in Redis; with no room, no bind or no Redis nothing is read and only the
 * 200 ms tick looks again (no spinning). Every claim_idle_ms / 3 the tick
 * XCLAIMs (JUSTID) the entries this daemon holds, resetting their idle
 * time: a push waiting here for a window slot is never taken over by
 * another daemon while this one lives.
 *
 * One entry. sc_push_check (core/mt_check.c); a bad one -> finish dropped
 * with the reason. not_after passed -> expired. quiet=1 inside the quiet
 * hours (core/quiet_clock.h) -> push_hold_lua moves it to mt:held:P (its
 * priority) and acknowledges it; when they end (one timer, no polling)
 * mt:held:0..9 are read in turn like mt:push, before it; mt:{ID}.entry
 * names such an entry "hP-" + its id.
 * Else push_take_lua: the id
 * is another entry's (dup: XACK only), already final (XACK), or now
 * "queued" with this entry -> sc_esme_push at its priority (its not_after
 * checked again when its first part would go: expired). Accepted ->
 * sent with its parts; refused after the retries -> failed with the SMPP
 * status (or timeout); too many parts -> dropped too_long. push_finish_lua
 * writes mt:{ID}, the mt:status entry and the XACK in one script: an entry
 * is acknowledged only with its final record (on a Redis Cluster in steps,
 * core/push_cluster.c: the XACK last, after the record; a record given up
 * after unreadable replies is acknowledged without it). A record that cannot be
 * written is tried again at every tick, TICK_MS (the push keeps its room). The
 * shutdown leaves what is not recorded pending: the next daemon sends it
 * again (the one duplicate allowed, docs/reliability.md). */
#include "core/push.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/push_int.h"
#include "core/receipts.h"
#include "core/stream.h"
#include "store/keys.h"

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- jobs ------------------------------------------------------------------ */

static int job_running(const struct sc_pushes *p, const char *stream, const char *entry)
{
    const struct job *j;
    LIST_FOREACH(j, &p->jobs, link)
        if (j->stream == stream && strcmp(j->entry, entry) == 0)
            return 1;
    return 0;
}

/* The job ends (recorded, or left pending for a later claim). */
void sc__push_job_free(struct job *j)
{
    struct sc_pushes *p = j->p;
    LIST_REMOVE(j, link);
    p->njobs--;
    if (j->msgids != &j->msgid1)
        free(j->msgids);
    free(j);
    sc__push_kick(p);
}

/* ---- one entry ------------------------------------------------------------------ */

/* The fields [f, v, ...] of one entry, checked; text copied into the job. */
static struct job *job_new(struct sc_pushes *p, const char *stream, const char *entry,
                           const redisReply *fields, const char **bad)
{
    /* Zeroed: GCC cannot see that sc_push_check reads only the n filled. */
    const char *f[SC_PUSH_FIELDS_MAX] = {0}, *v[SC_PUSH_FIELDS_MAX] = {0};
    size_t fl[SC_PUSH_FIELDS_MAX] = {0}, vl[SC_PUSH_FIELDS_MAX] = {0}, n = 0;
    size_t nf = fields ? fields->elements / 2 : 0;
    for (size_t i = 0; i < nf && n < SC_PUSH_FIELDS_MAX; i++) {
        const redisReply *a = fields->element[2 * i], *b = fields->element[2 * i + 1];
        if (a->type != REDIS_REPLY_STRING || b->type != REDIS_REPLY_STRING)
            continue;
        f[n] = a->str, fl[n] = a->len, v[n] = b->str, vl[n++] = b->len;
    }
    struct sc_push m;
    *bad = sc_push_check(f, fl, v, vl, n, (unsigned)sc__push_mtcfg(p)->default_priority, &m);
    if (!*bad && nf > SC_PUSH_FIELDS_MAX)
        *bad = "unknown_field"; /* more fields than the contract has */
    struct job *j = calloc(1, sizeof *j + (*bad ? 0 : m.text_len) + 1);
    if (!j)
        return NULL;
    j->p = p;
    sc_strlcpy(j->entry, entry, sizeof j->entry);
    j->stream = stream;
    unsigned si = (unsigned)((stream - p->streams[0]) / (long)sizeof p->streams[0]);
    if (si)
        snprintf(j->tag, sizeof j->tag, "h%u-%s", si - 1, entry);
    else
        sc_strlcpy(j->tag, entry, sizeof j->tag);
    j->m = m;
    if (!*bad)
        memcpy(j->text, m.text, m.text_len);
    j->m.text = j->text;
    LIST_INSERT_HEAD(&p->jobs, j, link);
    p->njobs++;
    return j;
}

/* One entry read: the job to take, or NULL (not made: stays pending;
 * or dropped, expired or held: ended here). */
static struct job *job_start(struct sc_pushes *p, const char *stream, const char *entry,
                             const redisReply *fields)
{
    const char *bad;
    struct job *j = job_new(p, stream, entry, fields, &bad);
    if (!j)
        return NULL; /* stays pending: claimed again */
    if (bad) {
        sc__push_finish(j, "dropped", bad);
        return NULL;
    }
    if (j->m.not_after && j->m.not_after < now_ms()) {
        sc__push_finish(j, "expired", "not_after");
        return NULL;
    }
    int ended;
    if (j->m.quiet && sc_quiet_clock_in(&p->qc, &ended)) {
        sc__push_hold(j);
        return NULL;
    }
    return j;
}

/* Start every entry of [[id, [fields]], ...]; claimed: skip this daemon's
 * own. Those to send are taken SC__PUSH_TAKE_MAX per script. Returns how
 * many started. */
static size_t start_entries(struct sc_pushes *p, const char *stream, const redisReply *list,
                            int claimed)
{
    struct job *take[SC__PUSH_TAKE_MAX];
    unsigned nt = 0;
    size_t n = 0;
    for (size_t i = 0; list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        const redisReply *e = list->element[i];
        const char *entry = sc__reply_str(e, 0);
        if (!entry || strlen(entry) >= ENTRY_MAX || (claimed && job_running(p, stream, entry)))
            continue;
        /* A deleted entry still pending comes without fields (nil). */
        const redisReply *fields = e->elements > 1 && e->element[1]->type == REDIS_REPLY_ARRAY
                                       ? e->element[1]
                                       : NULL;
        struct job *j = job_start(p, stream, entry, fields);
        if (j)
            take[nt++] = j;
        if (nt == SC__PUSH_TAKE_MAX) {
            sc__push_take(p, take, nt);
            nt = 0;
        }
        n++;
    }
    if (nt)
        sc__push_take(p, take, nt);
    return n;
}

/* ---- reading ------------------------------------------------------------------- */

static unsigned room(const struct sc_pushes *p)
{
    unsigned max = (unsigned)sc__push_mtcfg(p)->max_queued;
    return p->njobs < max ? max - p->njobs : 0;
}

/* 0: a reply; 1: an error (logged); 2: NOGROUP. mt:push's group is made
 * again; a held stream without one is empty (push_hold_lua makes both). */
static int read_failed(struct sc_pushes *p, int err, const redisReply *rep, const char *what)
{
    p->reading = 0;
    if (!err && rep->type != REDIS_REPLY_ERROR)
        return 0;
    if (!err && strncmp(rep->str, "NOGROUP", 7) == 0) {
        if (p->read_stream == 0)
            p->groups_ok = 0;
        return 2;
    }
    if (!p->quiet)
        sc_warn("event=push_read_failed command=%s error=\"%s\"", what,
                err ? sc_strerror(err) : rep->str);
    return 1;
}

/* [[stream, [entries]]] of XREADGROUP (nil when BLOCK ran out) started;
 * how many. */
static size_t read_entries(struct sc_pushes *p, const char *stream, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        return start_entries(p, stream, rep->element[0]->element[1], 0);
    return 0;
}

static void on_read(void *ctx, int err, redisReply *rep)
{
    struct sc_pushes *p = ctx;
    if (read_failed(p, err, rep, "XREADGROUP"))
        return;
    read_entries(p, p->streams[0], rep);
    sc__push_kick(p);
}

/* mt:held:P read; empty: the next priority, until none is left. */
static void on_read_held(void *ctx, int err, redisReply *rep)
{
    struct sc_pushes *p = ctx;
    int e = read_failed(p, err, rep, "XREADGROUP");
    if (e == 1)
        return;
    if (e == 2 || read_entries(p, p->streams[p->held_next], rep) == 0)
        p->held_next++;
    sc__push_kick(p);
}

/* [next cursor, [entries], [deleted ids]] of XAUTOCLAIM on read_stream. */
static void on_claim(void *ctx, int err, redisReply *rep)
{
    struct sc_pushes *p = ctx;
    if (read_failed(p, err, rep, "XAUTOCLAIM")) {
        if (p->read_stream)
            sc__push_kick(p); /* a held stream not made yet */
        return;
    }
    char *cursor = p->cursors[p->read_stream];
    const char *next = sc__reply_str(rep, 0);
    sc_strlcpy(cursor, next && strlen(next) < ENTRY_MAX ? next : "0-0", ENTRY_MAX);
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
        size_t n = start_entries(p, p->streams[p->read_stream], rep->element[1], 1);
        if (n)
            sc_info("event=push_claimed stream=%s entries=%zu", p->streams[p->read_stream], n);
        /* More past the cursor: the same stream again at once (room
         * permitting), not after a turn of every stream and its BLOCKed
         * read: a dead daemon's entries come back at sending speed. */
        if (rep->element[1]->type == REDIS_REPLY_ARRAY && rep->element[1]->elements &&
            strcmp(cursor, "0-0") != 0) {
            p->claim_next = p->read_stream;
            p->claimed_at = 0;
        }
    }
    sc__push_kick(p);
}

static void on_group(void *ctx, int err, redisReply *rep)
{
    struct sc_pushes *p = ctx;
    p->reading = 0;
    /* BUSYGROUP: another daemon made it first. */
    if (!err && (rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "BUSYGROUP", 9) == 0)) {
        p->groups_ok |= 1u << p->read_stream;
        sc__push_kick(p);
    } else {
        sc_warn("event=push_group_failed error=\"%s\"", err ? sc_strerror(err) : rep->str);
    }
}

/* The quiet clock's timer: quiet hours ended. */
static void on_quiet_end(void *arg) { sc__push_kick(arg); }

/* Issue the next read if one may go now; else the tick looks again. In
 * order: mt:push's group, an XAUTOCLAIM when due (of
 * each stream in turn), mt:held:P from P = 0 while they have entries and
 * quiet hours are off (no BLOCK), else mt:push. One decision table. */
void sc__push_kick(struct sc_pushes *p)
{
    struct sc_app *a = p->a;
    const struct sc_cfg_mt *mc = sc__push_mtcfg(p);
    int ended, in = sc_quiet_clock_in(&p->qc, &ended);
    if (ended)
        p->held_next = 1;
    unsigned n = room(p), low = (unsigned)SC_MIN(mc->read_count, SC_MAX(mc->max_queued / 2, 1));
    if (p->reading || p->quiet || n < low || !sc_store_connected(p->in) ||
        !sc_store_connected(p->out) || !a->esme || !sc_esme_bound(a->esme))
        return;
    const char *argv[16];
    int argc = 0;
    char count[16], idle[16], block[16];
    snprintf(count, sizeof count, "%u", SC_MIN(n, (unsigned)mc->read_count));
    sc_store_cb cb;
    uint64_t now = uv_now(a->loop);
    unsigned si = 0;
    if (!(p->groups_ok & 1u)) {
        /* mt:push's; the held streams' are made by push_hold_lua. */
        const char *g[] = {"XGROUP", "CREATE", p->streams[0], GROUP, "0", "MKSTREAM"};
        memcpy(argv, g, sizeof g);
        argc = SC_ARRAY_LEN(g);
        cb = on_group;
    } else if (now - p->claimed_at >= (uint64_t)mc->claim_idle_ms / (2 * NSTREAMS)) {
        /* Each stream every claim_idle_ms / 2, in turn. */
        p->claimed_at = now;
        si = p->claim_next;
        p->claim_next = (si + 1) % NSTREAMS;
        snprintf(idle, sizeof idle, "%d", mc->claim_idle_ms);
        const char *c[] = {"XAUTOCLAIM", p->streams[si], GROUP, p->consumer, idle,
                           p->cursors[si], "COUNT", count};
        memcpy(argv, c, sizeof c);
        argc = SC_ARRAY_LEN(c);
        cb = on_claim;
    } else if (p->held_next < NSTREAMS && !in) {
        si = p->held_next;
        const char *r[] = {"XREADGROUP", "GROUP", GROUP, p->consumer, "COUNT", count,
                           "STREAMS", p->streams[si], ">"};
        memcpy(argv, r, sizeof r);
        argc = SC_ARRAY_LEN(r);
        cb = on_read_held;
    } else {
        snprintf(block, sizeof block, "%d", mc->block_ms);
        const char *r[] = {"XREADGROUP", "GROUP", GROUP, p->consumer, "COUNT", count,
                           "BLOCK", block, "STREAMS", p->streams[0], ">"};
        memcpy(argv, r, sizeof r);
        argc = SC_ARRAY_LEN(r);
        cb = on_read;
    }
    p->read_stream = si;
    p->reading = sc_store_command(p->in, argc, argv, NULL, cb, p) == 0;
}

static void on_touched(void *ctx, int err, redisReply *rep)
{
    struct sc_pushes *p = ctx;
    p->touching--;
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_warn("event=push_touch_failed error=\"%s\"", err ? sc_strerror(err) : rep->str);
}

/* Every claim_idle_ms / 3: XCLAIM ... 0 ... JUSTID of every entry this
 * daemon holds, which resets their idle time, so that no other daemon's
 * XAUTOCLAIM takes a push that merely waits here for a window slot. */
static void touch_own(struct sc_pushes *p)
{
    uint64_t now = uv_now(p->a->loop);
    if (p->touching || p->njobs == 0 ||
        now - p->touched_at < (uint64_t)sc__push_mtcfg(p)->claim_idle_ms / 3)
        return;
    p->touched_at = now;
    size_t argc = 6 + p->njobs;
    const char **argv = malloc(argc * sizeof *argv);
    if (!argv)
        return;
    for (size_t s = 0; s < NSTREAMS; s++) {
        size_t i = 0;
        argv[i++] = "XCLAIM", argv[i++] = p->streams[s], argv[i++] = GROUP;
        argv[i++] = p->consumer, argv[i++] = "0";
        const struct job *j;
        LIST_FOREACH(j, &p->jobs, link)
            if (j->stream == p->streams[s])
                argv[i++] = j->entry;
        argv[i++] = "JUSTID";
        if (i > 6 && sc_store_command(p->out, (int)i, argv, NULL, on_touched, p) == 0)
            p->touching++;
    }
    free(argv);
}

static void on_tick(uv_timer_t *t)
{
    struct sc_pushes *p = t->data;
    /* Records that could not be written go again (in order of failure). */
    struct job *r = p->retry;
    p->retry = NULL;
    while (r) {
        struct job *next = r->next;
        sc__push_record(r);
        r = next;
    }
    touch_own(p);
    sc__push_kick(p);
}

/* ---- life ------------------------------------------------------------------------ */

struct sc_pushes *sc_pushes_new(struct sc_app *a, char *err, size_t errsz)
{
    const struct sc_cfg_mt *mc = &a->boot_cfg->mt;
    err[0] = '\0';
    if (!mc->enabled)
        return NULL;
    struct sc_pushes *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    p->a = a;
    /* The block time may grow on a reload: the read's timeout allows the
     * largest. Records: two commands per push at most, and a margin. */
    p->in = sc__stream_store(a, "push_in", 60000, 4, err, errsz);
    p->out = p->in ? sc__stream_store(a, "push_out", 0, 1000000 * 2 + 16, err, errsz) : NULL;
    if (p->out) {
        p->take_script = sc_store_script(p->out, "push_take", sc__push_take_lua);
        p->finish_script = sc_store_script(p->out, "push_finish", sc__push_finish_lua);
        p->hold_script = sc_store_script(p->out, "push_hold", sc__push_hold_lua);
        p->crecord_script = sc_store_script(p->out, "push_crecord", sc__push_crecord_lua);
        p->cmap_script = sc_store_script(p->out, "push_cmap", sc__push_cmap_lua);
        p->chold_script = sc_store_script(p->out, "push_chold", sc__push_chold_lua);
        p->capply_script = sc_store_script(p->out, "receipt_capply", sc__receipt_capply_lua);
    }
    if (!p->out || p->take_script < 0 || p->finish_script < 0 || p->hold_script < 0 ||
        p->crecord_script < 0 || p->cmap_script < 0 || p->chold_script < 0 ||
        p->capply_script < 0 ||
        sc_store_start(p->in) < 0 ||
        sc_store_start(p->out) < 0) {
        if (!err[0])
            snprintf(err, errsz, "cannot start the push intake's Redis connections");
        sc_store_free(p->in);
        sc_store_free(p->out);
        free(p);
        return NULL;
    }
    if (mc->consumer) {
        sc_strlcpy(p->consumer, mc->consumer, sizeof p->consumer);
    } else {
        sc__stream_consumer(p->consumer, sizeof p->consumer);
    }
    for (unsigned i = 0; i < NSTREAMS; i++) {
        char prio[4];
        snprintf(prio, sizeof prio, "%u", i ? i - 1 : 0);
        if (i == 0)
            sc_strlcpy(p->streams[i], SC_KEY_MT_PUSH, sizeof p->streams[i]);
        else
            sc_key(p->streams[i], sizeof p->streams[i], SC_KEY_MT_HELD, prio);
        sc_strlcpy(p->cursors[i], "0-0", sizeof p->cursors[i]);
    }
    p->held_next = 1; /* a previous run may have left some */
    sc_quiet_clock_init(&p->qc, a->loop, &a->gen->cfg->mt, on_quiet_end, p);
    uv_timer_init(a->loop, &p->tick);
    p->tick.data = p;
    uv_idle_init(a->loop, &p->flush);
    p->flush.data = p;
    p->recs_tail = &p->recs;
    p->ctq_tail = &p->ctq;
    uv_timer_start(&p->tick, on_tick, TICK_MS, TICK_MS);
    sc_info("event=push_intake stream=%s group=%s consumer=%s", SC_KEY_MT_PUSH, GROUP,
            p->consumer);
    return p;
}

void sc_pushes_reconfigure(struct sc_pushes *p)
{
    if (!p)
        return;
    sc_quiet_clock_set(&p->qc, sc__push_mtcfg(p));
    sc__push_kick(p);
}

void sc_pushes_quiesce(struct sc_pushes *p)
{
    if (p)
        p->quiet = 1;
}

static void on_part_closed(void *arg)
{
    struct sc_pushes *p = arg;
    if (--p->closing == 0 && p->done)
        p->done(p->done_arg);
}

static void on_tick_closed(uv_handle_t *h) { on_part_closed(h->data); }

static void on_clock_closed(uv_handle_t *h)
{
    on_part_closed(((struct sc_quiet_clock *)(void *)h)->arg);
}

static void close_all(struct sc_pushes *p)
{
    uv_timer_stop(&p->tick);
    /* Records still waiting (a retry, or the next batch) stay pending in mt:push. */
    for (struct job *r = p->retry, *next; r; r = next) {
        next = r->next;
        sc__push_job_free(r);
    }
    p->retry = NULL;
    for (struct job *r = p->recs, *next; r; r = next) {
        next = r->next;
        sc__push_job_free(r);
    }
    p->recs = NULL;
    p->recs_tail = &p->recs;
    p->nrecs = 0;
    p->closing = 5;
    uv_close((uv_handle_t *)&p->tick, on_tick_closed);
    uv_close((uv_handle_t *)&p->flush, on_tick_closed);
    sc_quiet_clock_close(&p->qc, on_clock_closed);
    sc_store_stop(p->in, on_part_closed, p);
    sc_store_stop(p->out, on_part_closed, p);
}

/* Shutdown: wait for the records in flight (or the deadline). */
static void on_stop_tick(uv_timer_t *t)
{
    struct sc_pushes *p = t->data;
    if ((sc_store_pending(p->out) == 0 && !p->recs) ||
        uv_now(p->a->loop) >= p->stop_deadline) {
        if (p->njobs)
            sc_warn("event=push_shutdown left_pending=%u", p->njobs);
        close_all(p);
    }
}

void sc_pushes_stop(struct sc_pushes *p, void (*done)(void *), void *arg)
{
    p->quiet = 1;
    p->done = done;
    p->done_arg = arg;
    p->stop_deadline = uv_now(p->a->loop) + (uint64_t)p->a->gen->cfg->limits.shutdown_timeout_ms;
    uv_timer_start(&p->tick, on_stop_tick, 0, 20);
}

void sc_pushes_free(struct sc_pushes *p)
{
    if (!p)
        return;
    p->quiet = 1;
    while (!LIST_EMPTY(&p->jobs))
        sc__push_job_free(LIST_FIRST(&p->jobs));
    sc_store_free(p->in);
    sc_store_free(p->out);
    free(p);
}
