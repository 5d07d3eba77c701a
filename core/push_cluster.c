/* push_cluster.c -- a push's final record and its hold on a Redis Cluster,
 * where one script names keys of one slot only: the steps that one
 * push_finish_lua / push_hold_lua does on one server, in an order that
 * survives a daemon dying between any two (docs/reliability.md "Pushes on
 * a Redis Cluster").
 *
 * Record (one push at a time, each step waits for the one before):
 *   RECORD  push_crecord_lua on mt:{ID}: the final state, pend=1, the
 *           parts' message_ids (maps)
 *   STATUS  XADD mt:status (its `at` from mt:{ID}: a repeat is the same)
 *   MARK    HSET mt:{ID} pend 2 (sent with parts to map; else to DONE)
 *   MAP     per part: push_cmap_lua on mt:msg:{MESSAGE_ID}; a receipt
 *           parked there is applied (receipt_capply_lua on mt:{ID}, then
 *           its mt:status entry)
 *   DONE    HDEL mt:{ID} pend maps
 *   ACK     XACK of the entry
 * A daemon that dies leaves the entry pending; whoever claims it gets
 * "redo" from push_take_lua (or, inside the quiet hours, from
 * push_chold_lua) while pend is set and goes on from STATUS
 * (pend 1) or MAP (pend 2). No map exists before MARK, so no receipt is
 * applied before the `sent` entry is in mt:status, and `sent` is written
 * again only while pend is 1, when no receipt can have been applied. A
 * step that fails is tried again at the intake's tick from RECORD, which
 * returns the record as it stands (another daemon may have finished it).
 *
 * Hold: XADD of the copy C to mt:held:P, push_chold_lua on mt:{ID}
 * (held, entry hP-C), XACK of the entry last: until mt:{ID} names C the
 * entry stays pending, so a crash or a failed step only makes another
 * copy (the one mt:{ID} does not name is a dup when read). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/push_int.h"
#include "core/receipts.h"
#include "core/stream.h"
#include "store/keys.h"

enum { CS_RECORD, CS_STATUS, CS_MARK, CS_MAP, CS_DONE, CS_ACK };

static void step(struct job *j);
static void next(struct job *j, int cstep);

static int rep_ok(int err, const redisReply *rep)
{
    return !err && rep && rep->type != REDIS_REPLY_ERROR;
}

/* Replies of an unexpected shape (a record Redis holds that the scripts
 * cannot read) before the record is given up. */
enum { MALFORMED_MAX = 5 };

/* The step failed: tried again at the next tick from RECORD, which is
 * idempotent and returns the record as it stands now: while this daemon
 * retried, another may have claimed the entry and finished the record
 * (pend gone: on to ACK, no late `sent` after its `delivered`). A reply
 * that is no error but not what the step expects comes back the same on
 * every try: after MALFORMED_MAX of them the record is given up, logged,
 * and the entry acknowledged (every step comes after the send: the SMS is
 * not lost, only its record) instead of holding a max_queued slot forever. */
static void failed(struct job *j, int err, const redisReply *rep)
{
    if (!err && rep && rep->type != REDIS_REPLY_ERROR && ++j->malformed >= MALFORMED_MAX) {
        sc_error("event=push_record_abandoned entry=%s id=%s state=%s step=%d msg=\"the push record "
                 "gave %d unreadable replies: acknowledged without its record\"", j->entry,
                 SC_LOGV(j->m.id), j->state, j->cstep, MALFORMED_MAX);
        next(j, CS_ACK);
        return;
    }
    if (j->record)
        j->cstep = CS_RECORD;
    sc__push_record_failed(j, err, rep);
}

static void next(struct job *j, int cstep)
{
    j->cstep = cstep;
    step(j);
}

/* A state recorded in mt:{ID} as one of the literals jobs point to, or
 * NULL (not a final state the daemon writes). */
static const char *known_state(const char *s)
{
    static const char *const states[] = {"sent", "failed", "expired", "dropped", "delivered"};
    for (size_t i = 0; s && i < SC_ARRAY_LEN(states); i++)
        if (strcmp(s, states[i]) == 0)
            return states[i];
    return NULL;
}

/* maps "INDEX:MESSAGE_ID ..." (from mt:{ID}, for a resumed record) into
 * j->msgids by index, at most j->parts (<= SC_MT_MAX_PARTS) of them. */
static void parse_maps(struct job *j, const char *maps)
{
    if (!maps[0] || j->parts == 0 || j->parts > SC_MT_MAX_PARTS)
        return;
    j->msgids = j->parts == 1 ? &j->msgid1 : calloc(j->parts, sizeof *j->msgids);
    if (!j->msgids)
        return; /* not mapped: its receipts are counted unknown */
    j->msgids[0][0] = '\0';
    j->nids = j->parts;
    while (*maps) {
        char *end;
        unsigned long i = strtoul(maps, &end, 10);
        if (*end != ':')
            break;
        size_t n = strcspn(end + 1, " ");
        if (i < j->nids && n < SC_MSGID_MAX) {
            memcpy(j->msgids[i], end + 1, n);
            j->msgids[i][n] = '\0';
        }
        maps = end + 1 + n;
        maps += *maps == ' ';
    }
}

static void on_acked(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (!rep_ok(err, rep))
        sc_warn("event=push_ack_failed entry=%s msg=\"claimed again later\"", j->entry);
    sc__push_job_free(j);
}

/* Replies that need nothing but a log when they fail (the count of
 * mt:receipts:unknown, the XGROUP CREATE of a held stream, an XDEL). */
static void on_aside(void *ctx, int err, redisReply *rep)
{
    (void)ctx;
    if (err || (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0))
        sc_debug("event=push_aside_failed error=\"%s\"", err ? sc_strerror(err) : rep->str);
}

/* ---- the record's steps --------------------------------------------------------- */

static void on_record(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    const char *st = rep_ok(err, rep) ? sc__reply_str(rep, 0) : NULL;
    if (st && strcmp(st, "dup") == 0) {
        sc_info("event=push_duplicate entry=%s id=%s msg=\"the id is another entry's: "
                "acknowledged, not recorded\"", j->entry, SC_LOGV(j->m.id));
        next(j, CS_ACK);
        return;
    }
    /* What mt:{ID} holds: this job's record, or (resumed) an earlier one:
     * ok, at, pend, state, parts, err, maps. */
    const char *f[7] = {0};
    for (size_t i = 0; st && i < SC_ARRAY_LEN(f); i++)
        f[i] = sc__reply_str(rep, i);
    const char *state = f[3] ? known_state(f[3]) : NULL;
    if (!f[6] || strcmp(st, "ok") != 0 || !f[1] || !f[2] || !state || !f[4] || !f[5]) {
        failed(j, err, rep);
        return;
    }
    const char *pend = f[2], *maps = f[6];
    sc_strlcpy(j->at, f[1], sizeof j->at);
    j->state = state;
    j->parts = (unsigned)strtoul(f[4], NULL, 10);
    sc_strlcpy(j->err, f[5], sizeof j->err);
    if (!j->nids)
        parse_maps(j, maps);
    next(j, strcmp(pend, "1") == 0 ? CS_STATUS : strcmp(pend, "2") == 0 ? CS_MAP : CS_ACK);
}

static void send_record(struct job *j)
{
    struct sc_pushes *p = j->p;
    char key[SC_KEY_MAX], ttl[16], prio[4], parts[8];
    char maps[SC_MT_MAX_PARTS * (SC_MSGID_MAX + 4)] = "";
    size_t ml = 0;
    for (unsigned i = 0; strcmp(j->state, "sent") == 0 && i < j->nids && i < SC_MT_MAX_PARTS;
         i++)
        if (sc_msgid_ok(j->msgids[i]))
            ml += (size_t)snprintf(maps + ml, sizeof maps - ml, "%s%u:%s", ml ? " " : "", i,
                                   j->msgids[i]);
    sc_key(key, sizeof key, SC_KEY_MT, j->m.id);
    snprintf(ttl, sizeof ttl, "%d", sc__push_mtcfg(p)->dedup_horizon_s);
    snprintf(prio, sizeof prio, "%u", j->m.priority);
    snprintf(parts, sizeof parts, "%u", j->parts);
    const char *keys[] = {key};
    const char *args[] = {ttl, j->tag, j->state, j->m.to, j->m.kind, prio, parts, j->err, maps};
    if (sc_store_eval(p->out, p->crecord_script, 1, keys, NULL, 9, args, NULL, on_record, j) <
        0)
        failed(j, SC_EAGAIN, NULL);
}

static void on_status(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (!rep_ok(err, rep))
        failed(j, err, rep);
    else
        next(j, !j->record ? CS_ACK
                : j->nids && strcmp(j->state, "sent") == 0 ? CS_MARK
                                                          : CS_DONE);
}

static void send_status(struct job *j)
{
    char parts[8];
    if (!j->at[0]) { /* no id, so no mt:{ID}: the daemon's clock */
        struct timeval tv;
        gettimeofday(&tv, NULL);
        snprintf(j->at, sizeof j->at, "%lld",
                 (long long)tv.tv_sec * 1000 + (long long)tv.tv_usec / 1000);
    }
    snprintf(parts, sizeof parts, "%u", j->parts);
    if (sc__mt_status_add(j->p->out, sc__push_mtcfg(j->p)->status_maxlen, j->m.id,
                           j->m.to, j->state, parts, j->err, j->at, on_status, j) < 0)
        failed(j, SC_EAGAIN, NULL);
}

/* A plain command's reply: on to step to. */
static void on_plain(struct job *j, int err, const redisReply *rep, int to)
{
    if (!rep_ok(err, rep))
        failed(j, err, rep);
    else
        next(j, to);
}

static void on_marked(void *ctx, int err, redisReply *rep)
{
    on_plain(ctx, err, rep, CS_MAP);
}

static void on_done(void *ctx, int err, redisReply *rep)
{
    on_plain(ctx, err, rep, CS_ACK);
}

static void on_parked_status(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (!rep_ok(err, rep)) {
        failed(j, err, rep); /* the map again, which returns the receipt again */
        return;
    }
    j->cmap++;
    step(j);
}

/* A parked receipt applied: its final mt:status entry, if it made one. */
static void on_parked_applied(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    const char *st = rep_ok(err, rep) ? sc__reply_str(rep, 0) : NULL;
    if (!st) {
        failed(j, err, rep);
        return;
    }
    if (strcmp(st, "delivered") == 0 || strcmp(st, "failed") == 0) {
        sc_info("event=push_%s id=%s msg=\"a receipt parked before its sent record\"", st,
                SC_LOGV(j->m.id));
        if (sc__mt_status_add_final(j->p->out, sc__push_mtcfg(j->p)->status_maxlen, rep,
                                    on_parked_status, j) < 0)
            failed(j, SC_EAGAIN, NULL);
        return;
    }
    j->cmap++;
    step(j);
}

static void on_mapped(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    struct sc_pushes *p = j->p;
    if (!rep_ok(err, rep) || rep->type != REDIS_REPLY_ARRAY) {
        failed(j, err, rep);
        return;
    }
    const char *stat = sc__reply_str(rep, 0), *rerr = sc__reply_str(rep, 1);
    const char *first = sc__reply_str(rep, 2);
    if (!stat || !rerr || !first) { /* no receipt was parked */
        j->cmap++;
        step(j);
        return;
    }
    if (strcmp(first, "1") == 0) {
        const char *argv[] = {"DECR", SC_KEY_MT_RECEIPTS_UNKNOWN};
        (void)sc_store_command(p->out, 2, argv, NULL, on_aside, NULL);
    }
    char key[SC_KEY_MAX], idx[8], parts[8];
    sc_key(key, sizeof key, SC_KEY_MT, j->m.id);
    snprintf(idx, sizeof idx, "%u", j->cmap);
    snprintf(parts, sizeof parts, "%u", j->parts);
    const char *keys[] = {key};
    const char *args[] = {j->m.id, idx, parts, stat, rerr};
    if (sc_store_eval(p->out, p->capply_script, 1, keys, NULL, 5, args, NULL,
                      on_parked_applied, j) < 0)
        failed(j, SC_EAGAIN, NULL);
}

static void send_map(struct job *j)
{
    struct sc_pushes *p = j->p;
    while (j->cmap < j->nids && !sc_msgid_ok(j->msgids[j->cmap]))
        j->cmap++;
    if (j->cmap >= j->nids) {
        next(j, CS_DONE);
        return;
    }
    char key[SC_KEY_MAX], val[SC_PUSH_ID_MAX + 16], ttl[16];
    sc_key(key, sizeof key, SC_KEY_MT_MSG, j->msgids[j->cmap]);
    snprintf(val, sizeof val, "%s %u %u", j->m.id, j->cmap, j->parts);
    snprintf(ttl, sizeof ttl, "%d", sc__push_mtcfg(p)->receipt_ttl_s);
    const char *keys[] = {key};
    const char *args[] = {val, ttl};
    if (sc_store_eval(p->out, p->cmap_script, 1, keys, NULL, 2, args, NULL, on_mapped, j) < 0)
        failed(j, SC_EAGAIN, NULL);
}

/* argv (4 words; argv[1] replaced by mt:{ID}) on mt:{ID}, then cb. */
static void hash_cmd(struct job *j, const char **argv, sc_store_cb cb)
{
    char key[SC_KEY_MAX];
    sc_key(key, sizeof key, SC_KEY_MT, j->m.id);
    argv[1] = key;
    if (sc_store_command(j->p->out, 4, argv, NULL, cb, j) < 0)
        failed(j, SC_EAGAIN, NULL);
}

static void step(struct job *j)
{
    switch (j->cstep) {
    case CS_RECORD:
        if (j->record)
            send_record(j);
        else
            next(j, CS_STATUS);
        return;
    case CS_STATUS:
        send_status(j);
        return;
    case CS_MARK: {
        const char *argv[] = {"HSET", NULL, "pend", "2"};
        hash_cmd(j, argv, on_marked);
        return;
    }
    case CS_MAP:
        send_map(j);
        return;
    case CS_DONE: {
        const char *argv[] = {"HDEL", NULL, "pend", "maps"};
        hash_cmd(j, argv, on_done);
        return;
    }
    default: {
        const char *argv[] = {"XACK", j->stream, GROUP, j->entry};
        if (sc_store_command(j->p->out, 4, argv, NULL, on_acked, j) < 0)
            on_acked(j, SC_EAGAIN, NULL);
        return;
    }
    }
}

void sc__push_crecord(struct job *j)
{
    step(j); /* from j->cstep: CS_RECORD, the first time and after a failure */
}

void sc__push_credo(struct job *j)
{
    /* What to write comes from mt:{ID} (push_crecord_lua finds it final). */
    j->state = "sent";
    j->record = 1;
    j->cstep = CS_RECORD;
    sc__push_record(j);
}

/* ---- holding ------------------------------------------------------------------------ */

static void held_drop(struct job *j)
{
    const char *argv[] = {"XDEL", j->p->streams[1 + j->m.priority], j->held};
    (void)sc_store_command(j->p->out, 3, argv, NULL, on_aside, NULL);
}

/* The hold did not finish: the entry stays pending (claimed again). */
static void hold_failed(struct job *j, int err, const redisReply *rep)
{
    sc_warn("event=push_hold_failed entry=%s error=\"%s\" msg=\"left pending\"", j->entry,
            err ? sc_strerror(err) : rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
    sc__push_job_free(j);
}

static void on_hold_acked(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (!rep_ok(err, rep)) /* claimed again: its hold or take finds hP-<copy>, a dup */
        sc_warn("event=push_ack_failed entry=%s msg=\"claimed again later\"", j->entry);
    sc__push_job_free(j); /* held: it waits in mt:held:P, not in memory */
}

/* The entry acknowledged last, once mt:{ID} names its copy (or it is not
 * ours): a crash or a failed step before leaves it pending, claimed again. */
static void hold_ack(struct job *j)
{
    const char *argv[] = {"XACK", j->stream, GROUP, j->entry};
    if (sc_store_command(j->p->out, 4, argv, NULL, on_hold_acked, j) < 0)
        on_hold_acked(j, SC_EAGAIN, NULL);
}

static void on_chold(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    const char *st = rep_ok(err, rep) ? sc__reply_str(rep, 0) : NULL;
    if (!st) {
        /* The entry stays pending and its copy stays: the script may have
         * run (a lost reply), and then mt:{ID} names the copy and the
         * entry's next hold or take is a dup; else the next hold makes
         * another copy, which mt:{ID} names, and this one is the dup. */
        hold_failed(j, err, rep);
        return;
    }
    if (strcmp(st, "held") != 0)
        held_drop(j); /* not ours to send: its copy in mt:held:P goes */
    if (strcmp(st, "bad_data") == 0) {
        j->m.id[0] = '\0';
        sc__push_finish(j, "dropped", "bad_data");
        return;
    }
    if (strcmp(st, "redo") == 0) { /* a record a dead daemon left half done */
        sc_info("event=push_record_resumed entry=%s id=%s msg=\"its record on the cluster "
                "was not finished\"", j->entry, SC_LOGV(j->m.id));
        sc__push_credo(j);
        return;
    }
    sc_log(strcmp(st, "held") == 0 ? SC_LOG_DEBUG : SC_LOG_INFO,
           "event=push_%s entry=%s id=%s until_ms=%lld", st, j->entry, SC_LOGV(j->m.id),
           j->p->qc.until_ms);
    hold_ack(j);
}

/* The copy is in mt:held:P: mt:{ID} "held" by it, then the XACK. */
static void on_held_added(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    struct sc_pushes *p = j->p;
    if (!rep_ok(err, rep) || rep->type != REDIS_REPLY_STRING || rep->len >= sizeof j->held) {
        hold_failed(j, err, rep);
        return;
    }
    memcpy(j->held, rep->str, rep->len + 1);
    char key[SC_KEY_MAX], prio[4], ttl[16], tag[sizeof j->held + 4];
    sc_key(key, sizeof key, SC_KEY_MT, j->m.id);
    snprintf(tag, sizeof tag, "h%u-%s", j->m.priority, j->held);
    snprintf(prio, sizeof prio, "%u", j->m.priority);
    snprintf(ttl, sizeof ttl, "%d", sc__push_mtcfg(p)->dedup_horizon_s);
    const char *keys[] = {key};
    const char *args[] = {j->tag, ttl, j->m.to, j->m.kind, prio, tag};
    if (sc_store_eval(p->out, p->chold_script, 1, keys, NULL, 6, args, NULL, on_chold, j) < 0)
        on_chold(j, SC_EAGAIN, NULL);
}

void sc__push_chold(struct job *j)
{
    struct sc_pushes *p = j->p;
    const char *stream = p->streams[1 + j->m.priority];
    char prio[4], na[24];
    snprintf(prio, sizeof prio, "%u", j->m.priority);
    snprintf(na, sizeof na, "%lld", j->m.not_after);
    /* The group first (the readers find it), then the entry: one master,
     * one connection, in this order. */
    const char *g[] = {"XGROUP", "CREATE", stream, GROUP, "0", "MKSTREAM"};
    (void)sc_store_command(p->out, 6, g, NULL, on_aside, NULL);
    /* sc_store_write: redis.wait_replicas waits for the copy before the
     * entry is acknowledged. */
    const char *argv[20] = {"XADD", stream, "*", "id", j->m.id, "to", j->m.to, "text",
                            j->text, "kind", j->m.kind, "priority", prio, "quiet", "1"};
    int n = 15;
    if (j->m.from[0])
        argv[n++] = "from", argv[n++] = j->m.from;
    if (j->m.not_after)
        argv[n++] = "not_after", argv[n++] = na;
    if (sc_store_write(p->out, n, argv, NULL, on_held_added, j) < 0)
        on_held_added(j, SC_EAGAIN, NULL);
}
