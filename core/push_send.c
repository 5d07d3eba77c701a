/* push_send.c -- one push's way after the intake read it (core/push.c):
 * push_take_lua (deduplicated by its id, recorded "queued") -> sc_esme_push
 * at its priority -> its final record (push_finish_lua: mt:{ID}, the
 * mt:status entry, the mt:msg map of its parts, the XACK, in one script),
 * or push_hold_lua for a quiet push inside the quiet hours. The scenario
 * is described at the top of core/push.c. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/metrics.h"
#include "core/push_int.h"
#include "core/stream.h"
#include "store/keys.h"

static void on_acked(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_warn("event=push_ack_failed entry=%s msg=\"claimed again later\"", j->entry);
    sc__push_job_free(j);
}

/* Only acknowledge (a duplicate, or already recorded). */
static void job_ack(struct job *j)
{
    const char *argv[] = {"XACK", j->stream, GROUP, j->entry};
    if (sc_store_command(j->p->out, 4, argv, NULL, on_acked, j) < 0)
        on_acked(j, SC_EAGAIN, NULL);
}

/* Jobs sent in one script (takes or records), the callback's context. */
struct batch {
    struct sc_pushes *p;
    unsigned n;
    struct job *j[];
};

static struct batch *batch_new(struct sc_pushes *p, unsigned n)
{
    struct batch *b = malloc(sizeof *b + n * sizeof b->j[0]);
    if (b) {
        b->p = p;
        b->n = n;
    }
    return b;
}

/* Short decimal strings of small numbers (priorities, part counts and
 * indexes: at most SC_MT_MAX_PARTS) without snprintf. */
static const char *small_dec(unsigned v)
{
    static const char d[][3] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",
                                "9",  "10", "11", "12", "13", "14", "15", "16"};
    return v < SC_ARRAY_LEN(d) ? d[v] : "99";
}

/* ---- final records ---------------------------------------------------------- */

void sc__push_record_failed(struct job *j, int err, const redisReply *rep)
{
    /* Logged once per push: a Redis that is away must not flood the log. */
    if (!j->retried++) {
        const char *why = err ? sc_strerror(err)
                          : rep && rep->type == REDIS_REPLY_ERROR ? rep->str
                                                                  : "unexpected reply";
        char e[160];
        sc_warn("event=push_record_failed entry=%s state=%s error=%s msg=\"tried again "
                "every %d ms\"", j->entry, j->state, sc_log_quote(e, sizeof e, why, strlen(why)),
                TICK_MS);
    }
    j->next = j->p->retry;
    j->p->retry = j;
}

/* One reply per record of the batch ("ok" / "dup"), or err. */
static void on_recorded(void *ctx, int err, redisReply *rep)
{
    struct batch *b = ctx;
    int whole = err || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != b->n;
    for (unsigned i = 0; i < b->n; i++) {
        struct job *j = b->j[i];
        const char *st = whole ? NULL : sc__reply_str(rep, i);
        if (!st) {
            sc__push_record_failed(j, err, rep);
            continue;
        }
        if (strcmp(st, "dup") == 0)
            sc_info("event=push_duplicate entry=%s id=%s msg=\"the id is another entry's: "
                    "acknowledged, not recorded\"", j->entry, SC_LOGV(j->m.id));
        sc__push_job_free(j);
    }
    free(b);
}

/* The keys mt:msg:{MESSAGE_ID} and part indexes of a sent push's parts
 * (those with a usable message_id) after the record's own: how many. */
static unsigned map_parts(const struct job *j, const char **keys, char (*kbuf)[SC_KEY_MAX],
                          const char **args)
{
    unsigned n = 0;
    if (strcmp(j->state, "sent") != 0 || !j->record)
        return 0;
    for (unsigned i = 0; i < j->nids && i < SC_MT_MAX_PARTS; i++) {
        if (!sc_msgid_ok(j->msgids[i]))
            continue;
        sc_key(kbuf[n], SC_KEY_MAX, SC_KEY_MT_MSG, j->msgids[i]);
        keys[n] = kbuf[n];
        args[n] = small_dec(i);
        n++;
    }
    return n;
}

/* Room of one record in the script's KEYS and ARGV, its parts mapped. */
#define REC_KEYS (2 + SC_MT_MAX_PARTS)
#define REC_ARGS (11 + SC_MT_MAX_PARTS)

/* Up to SC__PUSH_REC_MAX records of p->recs in one push_finish_lua (0),
 * or SC_ENOMEM with p->recs untouched. The keys' text lives in kbuf until
 * sc_store_eval has copied it. */
static int record_batch(struct sc_pushes *p)
{
    const struct sc_cfg_mt *mc = sc__push_mtcfg(p);
    static const char *keys[1 + SC__PUSH_REC_MAX * REC_KEYS];
    static const char *args[4 + SC__PUSH_REC_MAX * REC_ARGS];
    static char kbuf[SC__PUSH_REC_MAX * (1 + SC_MT_MAX_PARTS)][SC_KEY_MAX];
    char ttl[16], rttl[16], maxlen[16];
    struct batch *b = batch_new(p, SC_MIN(p->nrecs, SC__PUSH_REC_MAX));
    if (!b)
        return SC_ENOMEM; /* tried again at the next turn of the loop */
    snprintf(ttl, sizeof ttl, "%d", mc->dedup_horizon_s);
    snprintf(rttl, sizeof rttl, "%d", mc->receipt_ttl_s);
    snprintf(maxlen, sizeof maxlen, "%d", mc->status_maxlen);
    int nk = 0, na = 0;
    unsigned nb = 0;
    keys[nk++] = SC_KEY_MT_STATUS;
    args[na++] = GROUP, args[na++] = ttl, args[na++] = rttl, args[na++] = maxlen;
    for (unsigned i = 0; i < b->n; i++) {
        struct job *j = p->recs;
        p->recs = j->next;
        p->nrecs--;
        b->j[i] = j;
        sc_key(kbuf[nb], SC_KEY_MAX, SC_KEY_MT, j->m.id);
        keys[nk++] = kbuf[nb++], keys[nk++] = j->stream;
        const char *f[] = {j->m.id, j->tag, j->state, j->m.to, j->m.kind,
                           small_dec(j->m.priority), small_dec(j->parts), j->err,
                           j->record ? "1" : "0", j->entry};
        memcpy(args + na, f, sizeof f);
        na += (int)SC_ARRAY_LEN(f);
        unsigned m = map_parts(j, keys + nk, kbuf + nb, args + na + 1);
        args[na++] = small_dec(m);
        nk += (int)m, na += (int)m, nb += m;
    }
    if (!p->recs)
        p->recs_tail = &p->recs;
    if (sc_store_eval(p->out, p->finish_script, nk, keys, NULL, na, args, NULL, on_recorded,
                      b) < 0)
        on_recorded(b, SC_EAGAIN, NULL);
    return 0;
}

/* p->flush, an idle handle: it runs before the store's prepare (which
 * writes what was queued) and keeps the loop from blocking while records
 * wait, so each goes out in the same turn as the resps read before it.
 * Every record made since, in batches. */
void sc__push_on_flush(uv_idle_t *h)
{
    struct sc_pushes *p = h->data;
    uv_idle_stop(h);
    while (p->recs)
        if (record_batch(p) < 0) {
            uv_idle_start(h, sc__push_on_flush); /* out of memory: the next turn */
            return;
        }
}

void sc__push_record(struct job *j)
{
    struct sc_pushes *p = j->p;
    if (sc_store_is_cluster(p->out)) {
        sc__push_crecord(j); /* one push at a time, step by step */
        return;
    }
    j->next = NULL;
    *p->recs_tail = j;
    p->recs_tail = &j->next;
    if (++p->nrecs < SC__PUSH_REC_MAX || record_batch(p) < 0 || p->recs)
        uv_idle_start(&p->flush, sc__push_on_flush);
}

void sc__push_finish(struct job *j, const char *state, const char *err)
{
    j->state = state;
    sc__metrics_push(j->m.kind, state);
    sc_strlcpy(j->err, err, sizeof j->err);
    j->record = j->m.id[0] != '\0';
    if (sc_log_enabled(strcmp(state, "sent") == 0 ? SC_LOG_DEBUG : SC_LOG_INFO)) {
        char q[96];
        sc_log(strcmp(state, "sent") == 0 ? SC_LOG_DEBUG : SC_LOG_INFO,
               "event=push_%s entry=%s id=%s to=%s parts=%u err=%s", state, j->entry,
               sc_log_quote(q, sizeof q, j->m.id, strlen(j->m.id)), SC_LOGV(j->m.to),
               j->parts, SC_LOGV(j->err));
    }
    sc__push_record(j);
}

/* ---- sending ------------------------------------------------------------------ */

/* Keep the parts' message_ids for the sent record (receipts asked). */
static void keep_msgids(struct job *j, const struct sc_esme_msgids *ids)
{
    if (!ids || !ids->n)
        return;
    j->msgids = ids->n == 1 ? &j->msgid1 : malloc(ids->n * sizeof *j->msgids);
    if (!j->msgids)
        return;
    memcpy(j->msgids, ids->id, ids->n * sizeof *j->msgids);
    j->nids = ids->n;
}

static void on_pushed(void *arg, int err, uint32_t status, const struct sc_esme_msgids *ids)
{
    struct job *j = arg;
    keep_msgids(j, ids);
    if (err == 0)
        sc__push_finish(j, "sent", "");
    else if (err == SC_EPROTO)
        sc__push_finish(j, "failed", sc_pdu_status_name(status));
    else if (err == SC_ETIMEOUT)
        sc__push_finish(j, "failed", "timeout");
    else if (err == SC_ERANGE)
        sc__push_finish(j, "expired", "not_after");
    else
        sc__push_job_free(j); /* shutdown: not sent, left pending */
}

static void job_send(struct job *j)
{
    struct sc_app *a = j->p->a;
    const struct sc_config *cfg = a->gen->cfg;
    struct sc_addr from = {(uint8_t)cfg->smpp.source_ton, (uint8_t)cfg->smpp.source_npi, ""};
    sc_strlcpy(from.addr, j->m.from[0] ? j->m.from : cfg->service_numbers[0], sizeof from.addr);
    int plus = j->m.to[0] == '+';
    struct sc_addr to = {plus ? 1 : 0, 1, ""};
    sc_strlcpy(to.addr, j->m.to + plus, sizeof to.addr);
    int n = a->esme ? sc_esme_push(a->esme, &from, &to, j->text, j->m.text_len, j->m.priority,
                                   j->m.not_after, sc_mt_wants_receipt(&cfg->mt, j->m.kind),
                                   on_pushed, j)
                    : SC_ECLOSED;
    if (n > 0) {
        j->parts = (unsigned)n;
        return;
    }
    if (n == SC_ETOOBIG) {
        sc__push_finish(j, "dropped", "too_long");
        return;
    }
    sc_warn("event=push_not_queued entry=%s error=\"%s\" msg=\"left pending\"", j->entry,
            sc_strerror(n));
    sc__push_job_free(j);
}

/* j's reply of push_take_lua (NULL: the script failed, err). */
static void taken(struct job *j, const char *st, int err)
{
    if (!st) {
        sc_warn("event=push_take_failed entry=%s error=\"%s\" msg=\"left pending\"", j->entry,
                err ? sc_strerror(err) : "unexpected reply");
        sc__push_job_free(j);
    } else if (strcmp(st, "send") == 0) {
        job_send(j);
    } else if (strcmp(st, "bad_data") == 0) {
        j->m.id[0] = '\0'; /* not a hash: not ours to overwrite */
        sc__push_finish(j, "dropped", "bad_data");
    } else if (strcmp(st, "redo") == 0 && sc_store_is_cluster(j->p->out)) {
        sc_info("event=push_record_resumed entry=%s id=%s msg=\"its record on the cluster "
                "was not finished\"", j->entry, SC_LOGV(j->m.id));
        sc__push_credo(j);
    } else {
        sc_info("event=push_%s entry=%s id=%s msg=\"acknowledged, not sent\"",
                strcmp(st, "dup") == 0 ? "duplicate" : "already_done", j->entry,
                SC_LOGV(j->m.id));
        job_ack(j);
    }
}

static void on_taken(void *ctx, int err, redisReply *rep)
{
    struct batch *b = ctx;
    int whole = err || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != b->n;
    for (unsigned i = 0; i < b->n; i++)
        taken(b->j[i], whole ? NULL : sc__reply_str(rep, i), err);
    free(b);
}

/* ---- quiet hours ---------------------------------------------------------------- */

static void on_held(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    if (!st) {
        sc_warn("event=push_hold_failed entry=%s error=\"%s\" msg=\"left pending\"", j->entry,
                err ? sc_strerror(err) : rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
    } else if (strcmp(st, "bad_data") == 0) {
        j->m.id[0] = '\0';
        sc__push_finish(j, "dropped", "bad_data");
        return;
    } else {
        sc_log(strcmp(st, "held") == 0 ? SC_LOG_DEBUG : SC_LOG_INFO,
               "event=push_%s entry=%s id=%s until_ms=%lld", st, j->entry, SC_LOGV(j->m.id),
               j->p->qc.until_ms);
    }
    sc__push_job_free(j); /* held: it waits in mt:held:P, not in memory */
}

/* A quiet push inside the quiet hours: moved to mt:held:P (its priority) in one script
 * (sc__push_hold_lua); the clock's timer brings it back when they end. */
void sc__push_hold(struct job *j)
{
    struct sc_pushes *p = j->p;
    if (sc_store_is_cluster(p->out)) {
        sc__push_chold(j);
        return;
    }
    char key[SC_KEY_MAX], prio[4], ttl[16], na[24], tag[8];
    sc_key(key, sizeof key, SC_KEY_MT, j->m.id);
    snprintf(tag, sizeof tag, "h%u-", j->m.priority);
    snprintf(prio, sizeof prio, "%u", j->m.priority);
    snprintf(ttl, sizeof ttl, "%d", sc__push_mtcfg(p)->dedup_horizon_s);
    snprintf(na, sizeof na, "%lld", j->m.not_after);
    const char *keys[] = {key, p->streams[1 + j->m.priority], j->stream};
    const char *args[] = {j->tag, j->entry, GROUP, ttl, j->m.id, j->m.to, j->text, j->m.from,
                          j->m.kind, prio, na, tag};
    if (sc_store_eval(p->out, p->hold_script, 3, keys, NULL, 12, args, NULL, on_held, j) < 0)
        on_held(j, SC_EAGAIN, NULL);
}

/* ---- taking ------------------------------------------------------------------- */

/* n (1..SC__PUSH_TAKE_MAX) jobs in one push_take_lua; cb(ctx) gets its
 * reply, or SC_EAGAIN. */
static void take_send(struct sc_pushes *p, struct job *const *jobs, unsigned n, sc_store_cb cb,
                      void *ctx)
{
    const char *keys[SC__PUSH_TAKE_MAX], *args[1 + 4 * SC__PUSH_TAKE_MAX];
    char kbuf[SC__PUSH_TAKE_MAX][SC_KEY_MAX], ttl[16];
    snprintf(ttl, sizeof ttl, "%d", sc__push_mtcfg(p)->dedup_horizon_s);
    args[0] = ttl;
    for (unsigned i = 0; i < n; i++) {
        const struct job *j = jobs[i];
        sc_key(kbuf[i], SC_KEY_MAX, SC_KEY_MT, j->m.id);
        keys[i] = kbuf[i];
        args[1 + 4 * i] = j->tag, args[2 + 4 * i] = j->m.to, args[3 + 4 * i] = j->m.kind;
        args[4 + 4 * i] = small_dec(j->m.priority);
    }
    if (sc_store_eval(p->out, p->take_script, (int)n, keys, NULL, 1 + 4 * (int)n, args, NULL,
                      cb, ctx) < 0)
        cb(ctx, SC_EAGAIN, NULL);
}

/* On a cluster: one take per push (a batch's mt:{ID} are on many slots),
 * all sent at once. Their replies come from several masters in any order
 * and are applied in the order the entries were read (p->ctq, a FIFO of
 * every take in flight), so pushes of one priority are queued in that
 * order, as on one server. */
struct sc__ctake {
    struct sc__ctake *next;
    struct job *j;
    const char *st;               /* its reply (a literal), NULL: failed ... */
    int err, got;                 /* ... with err; got: replied */
};

static void on_ctaken(void *ctx, int err, redisReply *rep)
{
    static const char *const outs[] = {"send", "dup", "done", "bad_data", "redo"};
    struct sc__ctake *e = ctx;
    struct sc_pushes *p = e->j->p;
    const char *st = err || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 1
                         ? NULL
                         : sc__reply_str(rep, 0);
    e->st = NULL;
    for (size_t i = 0; st && i < SC_ARRAY_LEN(outs); i++)
        if (strcmp(st, outs[i]) == 0)
            e->st = outs[i];
    e->err = err, e->got = 1;
    while (p->ctq && p->ctq->got) {
        struct sc__ctake *x = p->ctq;
        if (!(p->ctq = x->next))
            p->ctq_tail = &p->ctq;
        taken(x->j, x->st, x->err);
        free(x);
    }
}

/* j's take on a cluster, queued behind those in flight. */
static void ctake(struct sc_pushes *p, struct job *j)
{
    struct sc__ctake *e = calloc(1, sizeof *e);
    if (!e) {
        sc__push_job_free(j); /* stays pending: claimed again */
        return;
    }
    e->j = j;
    *p->ctq_tail = e;
    p->ctq_tail = &e->next;
    take_send(p, &j, 1, on_ctaken, e);
}

void sc__push_take(struct sc_pushes *p, struct job *const *jobs, unsigned n)
{
    if (sc_store_is_cluster(p->out)) {
        for (unsigned i = 0; i < n; i++)
            ctake(p, jobs[i]);
        return;
    }
    struct batch *b = n && n <= SC__PUSH_TAKE_MAX ? batch_new(p, n) : NULL;
    if (!b) {
        for (unsigned i = 0; i < n; i++)
            sc__push_job_free(jobs[i]); /* stays pending: claimed again */
        return;
    }
    memcpy(b->j, jobs, n * sizeof b->j[0]);
    take_send(p, jobs, n, on_taken, b);
}
