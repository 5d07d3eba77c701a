/* receipts.c -- a delivery receipt (from any bind of any daemon) -> the push
 * whose part it names: mt:status `delivered` once every part's receipt said
 * DELIVRD, `failed` at the first that did not, mt:{ID} updated; one script
 * on the MO path's connection, one round trip per receipt.
 *
 * The map mt:msg:{MESSAGE_ID} -> "ID INDEX PARTS" is written by the push's
 * sent record (push_finish_lua in core/push_lua.c; on a cluster the MAP
 * steps of core/push_cluster.c), so it is shared by every daemon on the Redis.
 * A receipt can come before that record (a fast SMSC sends it right after
 * the resp, on any bind, while the record waits behind others on the push
 * intake's connection, or for the push's last part): it is parked in the
 * same key, "? STAT ERR" for mt.receipt_park_s, and the sent record applies
 * it (core/push_lua.c), in one script, after its own `sent` entry: never
 * lost to the race, and mt:status never has `sent` after `delivered`.
 * The receipt is answered ESME_ROK once the script ran, whatever it found
 * (an unknown message_id is logged, counted in a->stats.receipts_unknown
 * and in mt:receipts:unknown, which the sent record that applies a parked
 * one decrements); only a script that could not run gets the temporary
 * error (limits' mo_error_status), so the SMSC sends it again.
 * A repeated receipt finds its part already marked and changes nothing.
 * Receipts being matched count in a->inflight with the MOs (limits.
 * max_inflight; over it, the temporary error). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/receipt_lua.h"
#include "core/receipts.h"
#include "core/mt_check.h"
#include "core/metrics.h"
#include "core/stream.h"
#include "store/keys.h"

/* KEYS mt:msg:{MID}, mt:status, mt:receipts:unknown; ARGV stat, err text,
 * park ttl, mt:status maxlen. {"parked"} (no map yet: the receipt kept in
 * mt:msg:{MID} as "? STAT ERR" for the sent record to apply, counted in
 * mt:receipts:unknown until then; an interim stat is not kept) | {"gone",
 * id} (its mt:{ID} expired) | the replies of sc_rcpt_apply
 * (core/receipt_lua.h). The push's key is SC_KEY_MT built here: it is
 * named by the map's value only. */
const char sc__receipt_lua[] =
    SC__RECEIPT_APPLY_LUA
    SC__RECEIPT_LOOKUP_LUA("  redis.call('INCR', KEYS[3])\n")
    "local k = 'mt:{' .. id .. '}'\n"
    "if redis.call('TYPE', k).ok ~= 'hash' then return {'gone', id} end\n"
    "return sc_rcpt_apply(k, id, idx, n, ARGV[1], ARGV[2], KEYS[2], ARGV[4])\n";

/* On a cluster the same in two scripts, each on its own slot, and the
 * daemon's commands between (core/receipts.h): the map looked up (or the
 * receipt parked, then INCR mt:receipts:unknown), the receipt applied to
 * mt:{ID}, then its final mt:status entry. The map exists only once the
 * sent record's entry is in mt:status (core/push_cluster.c), so `delivered`
 * never comes before `sent`. */
const char sc__receipt_look_lua[] =
    SC__RECEIPT_LOOKUP_LUA("")
    "return {'map', id, idx, n}\n";

const char sc__receipt_capply_lua[] =
    SC__RECEIPT_APPLY_LUA
    "if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {'gone', ARGV[1]} end\n"
    "return sc_rcpt_apply(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], false, nil)\n";

int sc__receipts_register(struct sc_app *a)
{
    a->receipt_script = sc_store_script(a->store, "receipt", sc__receipt_lua);
    a->receipt_look_script = sc_store_script(a->store, "receipt_look", sc__receipt_look_lua);
    a->receipt_capply_script =
        sc_store_script(a->store, "receipt_capply", sc__receipt_capply_lua);
    return a->receipt_script < 0        ? a->receipt_script
           : a->receipt_look_script < 0 ? a->receipt_look_script
                                        : SC_MIN(a->receipt_capply_script, 0);
}

int sc__mt_status_add(struct sc_store *st, int maxlen, const char *id, const char *to,
                      const char *state, const char *parts, const char *err, const char *at,
                      sc_store_cb cb, void *ctx)
{
    char ml[16];
    snprintf(ml, sizeof ml, "%d", maxlen);
    const char *argv[] = {"XADD", SC_KEY_MT_STATUS, "MAXLEN", "~", ml, "*", "id", id,
                          "to", to, "state", state, "parts", parts, "err", err, "at", at};
    return sc_store_write(st, (int)SC_ARRAY_LEN(argv), argv, NULL, cb, ctx);
}

int sc__mt_status_add_final(struct sc_store *st, int maxlen,
                            const redisReply *rep, sc_store_cb cb, void *ctx)
{
    const char *v[6];
    for (size_t i = 0; i < SC_ARRAY_LEN(v); i++)
        if (!(v[i] = sc__reply_str(rep, i)))
            return SC_EPROTO;
    return sc__mt_status_add(st, maxlen, v[1], v[2], v[0], v[3], v[4], v[5], cb, ctx);
}

struct rcpt {
    struct sc_app *a;
    struct sc_mo_token tok;
    char msgid[SC_MSGID_MAX];
    char err[24];
    char stat_text[8];        /* the receipt's stat */
    int stat;                 /* sc__metrics_receipt_stat */
    char id[SC_PUSH_ID_MAX + 1]; /* on a cluster: the push mapped */
    char state[16];           /* ... and what the receipt made of it */
};

/* The receipt's outcome st (NULL: not matched, err / rep say why), logged
 * and answered; r freed. */
static void matched(struct rcpt *r, const char *st, const char *id, int err,
                    const redisReply *rep)
{
    struct sc_app *a = r->a;
    a->inflight--;
    if (!st) {
        sc_warn("event=receipt_not_matched id=%s error=\"%s\" msg=\"temporary error: the SMSC "
                "sends it again\"", SC_LOGV(r->msgid),
                err    ? sc_strerror(err)
                : rep && rep->type == REDIS_REPLY_ERROR ? "script error"
                                                        : "unexpected reply");
        if (a->esme)
            sc_esme_mo_done(a->esme, r->tok, a->gen->cfg->limits.mo_error_status);
        free(r);
        return;
    }
    const char *qid = SC_LOGV(id ? id : "-");
    sc__metrics_receipt(strcmp(st, "parked") == 0 ? SC__RECEIPT_UNKNOWN_ID : r->stat);
    if (strcmp(st, "parked") == 0) {
        a->stats.receipts_unknown++;
        sc_info("event=receipt_unknown id=%s unknown_total=%llu parked_s=%d msg=\"no push "
                "mapped yet: its sent record applies it if it comes in time\"",
                SC_LOGV(r->msgid), a->stats.receipts_unknown, a->gen->cfg->mt.receipt_park_s);
    } else if (strcmp(st, "delivered") == 0 || strcmp(st, "failed") == 0) {
        sc_info("event=push_%s id=%s message_id=%s err=%s", st, qid, SC_LOGV(r->msgid),
                SC_LOGV(strcmp(st, "failed") == 0 ? r->err : ""));
    } else {
        sc_debug("event=receipt_%s id=%s message_id=%s", st, qid, SC_LOGV(r->msgid));
    }
    if (a->esme)
        sc_esme_mo_done(a->esme, r->tok, SC_ESME_ROK);
    free(r);
}

static void on_matched(void *ctx, int err, redisReply *rep)
{
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    matched(ctx, st, st ? sc__reply_str(rep, 1) : NULL, err, rep);
}

/* ---- on a cluster -------------------------------------------------------------- */

static void on_aside(void *ctx, int err, redisReply *rep)
{
    (void)ctx, (void)err, (void)rep; /* the count of unknown receipts: best effort */
}

static void on_final_written(void *ctx, int err, redisReply *rep)
{
    struct rcpt *r = ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        matched(r, NULL, NULL, err, rep); /* again: the SMSC repeats it, capply answers the same */
    else
        matched(r, r->state, r->id, 0, rep);
}

static void on_applied(void *ctx, int err, redisReply *rep)
{
    struct rcpt *r = ctx;
    struct sc_app *a = r->a;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    if (st && (strcmp(st, "delivered") == 0 || strcmp(st, "failed") == 0)) {
        sc_strlcpy(r->state, st, sizeof r->state);
        if (sc__mt_status_add_final(a->store,
                                    a->gen->cfg->mt.status_maxlen, rep, on_final_written, r) < 0)
            matched(r, NULL, NULL, SC_EAGAIN, NULL);
        return;
    }
    matched(r, st, r->id, err, rep);
}

static void on_looked(void *ctx, int err, redisReply *rep)
{
    struct rcpt *r = ctx;
    struct sc_app *a = r->a;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    const char *id = st ? sc__reply_str(rep, 1) : NULL;
    if (!st || strcmp(st, "map") != 0) {
        if (st && strcmp(st, "parked") == 0) {
            const char *argv[] = {"INCR", SC_KEY_MT_RECEIPTS_UNKNOWN};
            (void)sc_store_command(a->store, 2, argv, NULL, on_aside, NULL);
        }
        matched(r, st, NULL, err, rep);
        return;
    }
    const char *idx = sc__reply_str(rep, 2), *n = sc__reply_str(rep, 3);
    if (!id || !idx || !n || strlen(id) > SC_PUSH_ID_MAX) {
        matched(r, NULL, NULL, 0, rep);
        return;
    }
    sc_strlcpy(r->id, id, sizeof r->id);
    char key[SC_KEY_MAX];
    sc_key(key, sizeof key, SC_KEY_MT, id);
    const char *keys[] = {key};
    const char *args[] = {id, idx, n, r->stat_text, r->err};
    if (sc_store_eval(a->store, a->receipt_capply_script, 1, keys, NULL, 5, args, NULL,
                      on_applied, r) < 0)
        matched(r, NULL, NULL, SC_EAGAIN, NULL);
}

void sc__app_on_receipt(void *arg, const struct sc_receipt *rc, struct sc_mo_token tok)
{
    struct sc_app *a = arg;
    /* Counted with the MOs: bounded by limits.max_inflight, and the
     * shutdown waits for its answer. */
    struct rcpt *r = a->inflight < (unsigned)a->gen->cfg->limits.max_inflight
                         ? malloc(sizeof *r)
                         : NULL;
    if (!r) {
        sc_esme_mo_done(a->esme, tok, a->gen->cfg->limits.mo_error_status);
        return;
    }
    a->inflight++;
    r->a = a;
    r->tok = tok;
    sc_strlcpy(r->msgid, rc->msgid, sizeof r->msgid);
    sc_strlcpy(r->stat_text, rc->stat, sizeof r->stat_text);
    r->stat = sc__metrics_receipt_stat(rc->stat);
    /* err as the receipt says it: "UNDELIV:001" (stat alone when absent). */
    if (rc->err >= 0)
        snprintf(r->err, sizeof r->err, "%s:%03d", rc->stat, rc->err);
    else
        sc_strlcpy(r->err, rc->stat, sizeof r->err);
    char key[SC_KEY_MAX];
    sc_key(key, sizeof key, SC_KEY_MT_MSG, rc->msgid);
    const char *keys[] = {key, SC_KEY_MT_STATUS, SC_KEY_MT_RECEIPTS_UNKNOWN};
    const struct sc_cfg_mt *mc = &a->gen->cfg->mt;
    char park[16], maxlen[16];
    snprintf(park, sizeof park, "%d", mc->receipt_park_s);
    snprintf(maxlen, sizeof maxlen, "%d", mc->status_maxlen);
    const char *args[] = {rc->stat, r->err, park, maxlen};
    if (sc_store_is_cluster(a->store)) {
        if (sc_store_eval(a->store, a->receipt_look_script, 1, keys, NULL, 3, args, NULL,
                          on_looked, r) < 0)
            on_looked(r, SC_EAGAIN, NULL);
        return;
    }
    if (sc_store_eval(a->store, a->receipt_script, 3, keys, NULL, 4, args, NULL, on_matched, r) <
        0)
        on_matched(r, SC_EAGAIN, NULL);
}
