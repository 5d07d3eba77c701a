/* receipts.c -- a delivery receipt (from any bind of any daemon) -> the push
 * whose part it names: mt:status `delivered` once every part's receipt said
 * DELIVRD, `failed` at the first that did not, mt:{ID} updated; one script
 * on the MO path's connection, one round trip per receipt.
 *
 * The map mt:msg:{MESSAGE_ID} -> "ID INDEX PARTS" is written by the push's
 * sent record (core/push.c), so it is shared by every daemon on the Redis.
 * The receipt is answered ESME_ROK once the script ran, whatever it found
 * (an unknown message_id is logged and counted in mt:receipts:unknown and
 * in a->stats.receipts_unknown); only a script that could not run gets the
 * temporary error (limits' mo_error_status), so the SMSC sends it again.
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
#include "core/metrics.h"
#include "core/stream.h"
#include "store/keys.h"

/* KEYS mt:msg:{MID}, mt:status, mt:receipts:unknown; ARGV stat, err text.
 * {"unknown"} | {"gone", id} (its mt:{ID} expired) | {"interim", id} (ENROUTE,
 * ACCEPTD, BUFFRED: not an outcome, nothing changed) | {"same", id, state}
 * (final already, or this part's receipt seen) | {"part", id} (a part
 * delivered, others to come) | {"delivered"|"failed", id}. The push's key
 * is SC_KEY_MT built here: it is named by the map's value only. */
const char sc__receipt_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local id, idx, n\n"
    "if v then id, idx, n = string.match(v, '^(%S+) (%d+) (%d+)$') end\n"
    "if not id then redis.call('INCR', KEYS[3]) return {'unknown'} end\n"
    "local k = 'mt:{' .. id .. '}'\n"
    "if redis.call('TYPE', k).ok ~= 'hash' then return {'gone', id} end\n"
    "local h = redis.call('HMGET', k, 'state', 'to', 'parts')\n"
    "if h[1] ~= 'sent' then return {'same', id, h[1] or ''} end\n"
    "if ARGV[1] == 'ENROUTE' or ARGV[1] == 'ACCEPTD' or ARGV[1] == 'BUFFRED' then\n"
    "  return {'interim', id}\n"
    "end\n"
    "if redis.call('HSETNX', k, 'r' .. idx, ARGV[1]) == 0 then return {'same', id, h[1]} end\n"
    "local state, err = 'failed', ARGV[2]\n"
    "if ARGV[1] == 'DELIVRD' then\n"
    "  if redis.call('HINCRBY', k, 'delivered', 1) < tonumber(n) then return {'part', id} end\n"
    "  state, err = 'delivered', ''\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "redis.call('HSET', k, 'state', state, 'err', err, 'at', at)\n"
    "redis.call('XADD', KEYS[2], '*', 'id', id, 'to', h[2] or '', 'state', state,\n"
    "           'parts', h[3] or '', 'err', err, 'at', at)\n"
    "return {state, id}\n";

struct rcpt {
    struct sc_app *a;
    struct sc_mo_token tok;
    char msgid[SC_MSGID_MAX];
    char err[24];
    int stat;                 /* sc__metrics_receipt_stat */
};

static void on_matched(void *ctx, int err, redisReply *rep)
{
    struct rcpt *r = ctx;
    struct sc_app *a = r->a;
    a->inflight--;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    const char *id = st ? sc__reply_str(rep, 1) : NULL;
    if (!st) {
        sc_warn("event=receipt_not_matched id=%s error=\"%s\" msg=\"temporary error: the SMSC "
                "sends it again\"", SC_LOGV(r->msgid),
                err ? sc_strerror(err) : rep->type == REDIS_REPLY_ERROR ? "script error"
                                                                        : "unexpected reply");
        if (a->esme)
            sc_esme_mo_done(a->esme, r->tok, a->gen->cfg->limits.mo_error_status);
        free(r);
        return;
    }
    const char *qid = SC_LOGV(id ? id : "-");
    sc__metrics_receipt(strcmp(st, "unknown") == 0 ? SC__RECEIPT_UNKNOWN_ID : r->stat);
    if (strcmp(st, "unknown") == 0) {
        a->stats.receipts_unknown++;
        sc_info("event=receipt_unknown id=%s unknown_total=%llu", SC_LOGV(r->msgid),
                a->stats.receipts_unknown);
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
    r->stat = sc__metrics_receipt_stat(rc->stat);
    /* err as the receipt says it: "UNDELIV:001" (stat alone when absent). */
    if (rc->err >= 0)
        snprintf(r->err, sizeof r->err, "%s:%03d", rc->stat, rc->err);
    else
        sc_strlcpy(r->err, rc->stat, sizeof r->err);
    char key[SC_KEY_MAX];
    sc_key(key, sizeof key, SC_KEY_MT_MSG, rc->msgid);
    const char *keys[] = {key, SC_KEY_MT_STATUS, SC_KEY_MT_RECEIPTS_UNKNOWN};
    const char *args[] = {rc->stat, r->err};
    if (sc_store_eval(a->store, a->receipt_script, 3, keys, NULL, 2, args, NULL, on_matched, r) <
        0)
        on_matched(r, SC_EAGAIN, NULL);
}
