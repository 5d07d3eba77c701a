/* orders.c -- orders that do not start with the subscriber's SMS: the
 * vas:orders stream (providers, other channels) and the expiry of orders
 * nobody answered.
 *
 * Stream. Every limits.orders_poll_ms, while the store is ready and a bind
 * is up: XAUTOCLAIM (entries another daemon, or this one, read and did not
 * acknowledge for limits.orders_claim_idle_ms) then XREADGROUP (new ones),
 * group "shortcoded", this daemon's own consumer name, COUNT at most
 * limits.orders_read_count and what limits.orders_max_inflight leaves. No
 * BLOCK: the store has one connection, and a blocked read would hold every
 * MO behind it. Each entry (id, msisdn, service, channel) is checked here
 * (bad ones: one vas:events order_declined with the reason, XACK, a log
 * line), then one script per entry (order_start_lua) applies the provider
 * protection and starts the dialogue (handlers/order.h); its confirmation
 * SMS goes out through core/order_push.c (core/orders_int.h): an mt:push
 * entry (kind order, id sc_order_push_id) written with the entry's XACK in
 * one script, which the push path sends, records and, after a crash,
 * re-sends; without the push intake (mt.enabled false) sc_esme_send, and
 * the entry is acknowledged here only once the SMSC accepted that SMS. An
 * SMS that failed leaves the entry pending: it is claimed again after the
 * idle time and sent again (the script counts the sends; after
 * SC_ORDER_MAX_SENDS the order ends order_declined reason=undeliverable and
 * the entry is acknowledged).
 *
 * Sweep. Every limits.order_sweep_ms: ZRANGEBYSCORE vas:orders:due up to
 * now (at most SWEEP_BATCH), then per member one script (order_expire_lua)
 * that records order_expired only if the order is still pending and past
 * its deadline: several daemons may sweep, each order expires once. */
#include "core/orders.h"
#include "core/orders_int.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/stream.h"
#include "core/intake.h"
#include "core/relay.h"
#include "handlers/order.h"
#include "store/keys.h"

#define STREAM SC_KEY_ORDERS
#define GROUP "shortcoded"
#define SWEEP_BATCH "100"         /* due orders expired per sweep */
#define FIELD_MAX 64              /* longest id, service or channel accepted */

/* Type checks and the time, for the two scripts (they run without the
 * request layer's prelude: they are not commands). Their global writes go
 * through sc_emit: on a Redis Cluster to out:{M}, relayed by
 * sc__relay_eval before the reply is acted on (core/relay.h). */
#define ORDERS_LUA_HEAD(nkeys, types)                                                    \
    SC_RELAY_LUA_OPEN(nkeys)                                                             \
    "local TYPES = {" types "}\n"                                                        \
    "for i, want in ipairs(TYPES) do\n"                                                  \
    "  local ty = KEYS[i] ~= OUTBOX and redis.call('TYPE', KEYS[i]).ok or 'none'\n"      \
    "  if ty ~= 'none' and ty ~= want then return {'bad_data', KEYS[i], ty, want} end\n" \
    "end\n"                                                                              \
    "local t = redis.call('TIME')\n"                                                     \
    "local now_s = t[1]\n"                                                               \
    "local now_ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"  \
    "local MSISDN, NOW = ARGV[1], tonumber(now_s)\n"

/* KEYS order:{M}, pending:{M}, sub:{M}:vas, vas:events, audit:{M},
 * vas:orders:due; ARGV msisdn, order id, code, channel, entry id, provider,
 * confirm ttl, keep (s), max per provider a day, block after a decline (s),
 * max sends. Returns {"send", code replaced or ""}, {"limited"},
 * {"subscribed"}, {"dup"} (this order was handled: acknowledge) or
 * {"gave_up"}. The provider counter counts the orders let through. */
static const char order_start_head[] =
    ORDERS_LUA_HEAD(6, "'hash', 'string', 'hash', 'stream', 'stream', 'zset'");
static const char order_start_lua[] =
    "local OK = {order = KEYS[1], pending = KEYS[2], sub = KEYS[3], events = KEYS[4],\n"
    "            audit = KEYS[5], due = KEYS[6]}\n"
    "ORD.OK, ORD.MSISDN, ORD.NOW = OK, MSISDN, NOW\n"
    "local ID, CODE, CHANNEL, ENTRY, PROV = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]\n"
    "local TTL, KEEP = tonumber(ARGV[7]), tonumber(ARGV[8])\n"
    "local MAX, BLOCK, MAX_SENDS = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])\n"
    "local o = ord_load()\n"
    "local this = {id = ID, service = CODE, channel = CHANNEL}\n"
    "if o.id == ID then\n"
    "  if o.entry ~= ENTRY or o.state ~= 'pending' then return {'dup'} end\n"
    "  local sends = (tonumber(o.sends) or 1) + 1\n"
    "  if sends > MAX_SENDS then\n"
    "    ord_end(o, 'failed', 'order_declined', 'undeliverable')\n"
    "    return {'gave_up'}\n"
    "  end\n"
    "  -- The SMS goes out again: the subscriber gets the whole window.\n"
    "  redis.call('HSET', OK.order, 'sends', tostring(sends), 'deadline', tostring(NOW + TTL))\n"
    "  redis.call('SET', OK.pending, 'order:' .. ID, 'EX', TTL)\n"
    "  sc_emit_cmd('ZADD', '" SC_KEY_ORDERS_DUE "', tostring(NOW + TTL), MSISDN .. ':' .. ID)\n"
    "  return {'send', ''}\n"
    "end\n"
    "if redis.call('HEXISTS', OK.sub, CODE) == 1 then\n"
    "  ord_event(this, 'order_declined', {'reason', 'already_subscribed'})\n"
    "  return {'subscribed'}\n"
    "end\n"
    "local blocked = tonumber(o['declined:' .. PROV])\n"
    "local start, n = string.match(o['n:' .. PROV] or '', '^(%d+):(%d+)$')\n"
    "start, n = tonumber(start), tonumber(n)\n"
    "if not start or NOW - start >= 86400 then start, n = NOW, 0 end\n"
    "if (blocked and NOW - blocked < BLOCK) or n >= MAX then\n"
    "  ord_event(this, 'order_declined', {'reason', 'limited'})\n"
    "  return {'limited'}\n"
    "end\n"
    "redis.call('HSET', OK.order, 'n:' .. PROV, start .. ':' .. (n + 1))\n"
    "local replaced = ord_supersede()\n"
    "ord_create(ID, CODE, CHANNEL, ENTRY, PROV, TTL, KEEP)\n"
    "return {'send', replaced or ''}\n";

/* KEYS order:{M}, pending:{M}, vas:events, audit:{M}, vas:orders:due; ARGV
 * msisdn, order id, the due member. Returns {"expired"} when this run
 * recorded the expiry, {"later"} (answered in time or sent again), or
 * {"gone"} (ended otherwise; the member is dropped). */
static const char order_expire_head[] =
    ORDERS_LUA_HEAD(5, "'hash', 'string', 'stream', 'stream', 'zset'");
static const char order_expire_lua[] =
    "local OK = {order = KEYS[1], pending = KEYS[2], events = KEYS[3], audit = KEYS[4],\n"
    "            due = KEYS[5]}\n"
    "ORD.OK, ORD.MSISDN, ORD.NOW = OK, MSISDN, NOW\n"
    "local o = ord_load()\n"
    "if o.id == ARGV[2] and o.state == 'pending' then\n"
    "  if tonumber(o.deadline) > NOW then\n"
    "    sc_emit_cmd('ZADD', '" SC_KEY_ORDERS_DUE "', o.deadline, ARGV[3])\n"
    "    return {'later'}\n"
    "  end\n"
    "  ord_end(o, 'expired', 'order_expired')\n"
    "  sc_emit_cmd('ZREM', '" SC_KEY_ORDERS_DUE "', ARGV[3])\n"
    "  return {'expired'}\n"
    "end\n"
    "sc_emit_cmd('ZREM', '" SC_KEY_ORDERS_DUE "', ARGV[3])\n"
    "return {'gone'}\n";

struct sc_orders {
    struct sc_app *a;
    uv_timer_t poll, sweep;
    int start_script, expire_script, push_script;
    int group_ok;                 /* the consumer group exists (or was just made) */
    int reading, sweeping;        /* a read / a sweep is in flight */
    int no_template;              /* logged once: no order_request route */
    unsigned inflight;            /* entries being handled (script, SMS) ... */
    struct job *jobs;             /* ... listed here: a claim skips them */
    unsigned closing;
    char consumer[96];
    char cursor[48];              /* XAUTOCLAIM's, across ticks */
    void (*done)(void *);
    void *done_arg;
};

/* One entry of the stream being handled. */
struct job {
    struct sc_orders *o;
    struct job *prev, *next;
    char entry[48];
    char id[FIELD_MAX + 1], code[FIELD_MAX + 1], channel[FIELD_MAX + 1];
    char to[SC_ADDR_MAX];         /* the entry's msisdn, as written */
    char msisdn[SC_ADDR_MAX];     /* national */
    char push_id[24];             /* its confirmation's mt:push id (sc_order_push_id) */
    struct sc__order_sms sms;     /* its confirmation, while it goes out */
};

static const struct sc_config *cfg_of(const struct sc_orders *o) { return o->a->gen->cfg; }


/* ---- jobs ------------------------------------------------------------------- */

/* The daemon's own entries come back from XAUTOCLAIM once idle long enough
 * while their SMS still waits for the SMSC: not handled twice. */
static int job_running(const struct sc_orders *o, const char *entry)
{
    for (const struct job *j = o->jobs; j; j = j->next)
        if (strcmp(j->entry, entry) == 0)
            return 1;
    return 0;
}

static void job_free(struct job *j)
{
    struct sc_orders *o = j->o;
    if (j->prev)
        j->prev->next = j->next;
    else
        o->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    o->inflight--;
    free(j);
}

/* ---- acknowledging --------------------------------------------------------- */

static void on_ack(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_warn("event=order_ack_failed entry=%s msg=\"claimed again later\"", j->entry);
    job_free(j);
}

/* XACK the entry, then free the job. */
static void job_ack(struct job *j)
{
    const char *argv[] = {"XACK", STREAM, GROUP, j->entry};
    if (sc_store_command(j->o->a->store, 4, argv, NULL, on_ack, j) < 0)
        on_ack(j, SC_EAGAIN, NULL);
}

/* The entry stays pending (claimed again after the idle time). */
static void job_leave(struct job *j)
{
    job_free(j);
}

static void on_bad_written(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        job_leave(j); /* not recorded: the entry comes back */
    else
        job_ack(j);
}

/* A bad entry: one vas:events entry with the reason (its id derived from
 * the stream entry's, so a repeat has the same), XACK, a log line. */
static void job_bad(struct job *j, const char *reason)
{
    char id[96], at[24], q[96];
    snprintf(id, sizeof id, "%s:%s:order_declined", STREAM, j->entry);
    snprintf(at, sizeof at, "%lld", (long long)time(NULL) * 1000);
    sc_warn("event=order_bad_entry entry=%s reason=%s order=%s msisdn=%s service=%s", j->entry,
            reason, sc_log_quote(q, sizeof q, j->id, strlen(j->id)), SC_LOGV(j->to),
            SC_LOGV(j->code));
    const char *argv[] = {"XADD", SC_KEY_EVENTS, "*", "event", "order_declined", "msisdn", j->to,
                          "service", j->code, "channel", j->channel, "at", at, "id", id,
                          "order", j->id, "reason", reason, "entry", j->entry};
    if (sc_store_write(j->o->a->store, SC_ARRAY_LEN(argv), argv, NULL, on_bad_written, j) < 0)
        job_leave(j);
}

/* ---- the confirmation SMS (core/order_push.c) ------------------------------- */

static void on_sent(void *ctx, enum sc__order_sent how)
{
    struct job *j = ctx;
    if (how == SC__ORDER_ACCEPTED)
        job_ack(j);
    else
        job_free(j); /* pushed: acknowledged by the script; unsent: stays pending */
}

static void job_send(struct job *j, const char *replaced)
{
    j->sms = (struct sc__order_sms){.entry = j->entry, .group = GROUP, .id = j->id,
                                    .code = j->code, .to = j->to, .msisdn = j->msisdn,
                                    .push_id = j->push_id, .done = on_sent, .ctx = j};
    sc__order_send(j->o->a, j->o->push_script, &j->sms, replaced);
}

static void on_started(void *ctx, int err, redisReply *rep)
{
    struct job *j = ctx;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    if (!st) {
        if (!err) {
            char e[200];
            sc_error("event=script_error script=order_start entry=%s error=%s", j->entry,
                     rep->type == REDIS_REPLY_ERROR ? sc_log_quote(e, sizeof e, rep->str, rep->len)
                                                    : "\"unexpected reply\"");
        }
        job_leave(j);
        return;
    }
    if (strcmp(st, "send") == 0) {
        const char *replaced = sc__reply_str(rep, 1);
        job_send(j, replaced ? replaced : "");
        return;
    }
    if (strcmp(st, "bad_data") == 0) {
        /* The subscriber's data is damaged: nothing was written, and
         * retrying cannot help. */
        sc_error("event=bad_data entry=%s msisdn=%s key=%s", j->entry, j->msisdn,
                 sc__reply_str(rep, 1) ? sc__reply_str(rep, 1) : "?");
        job_bad(j, "bad_data");
        return;
    }
    sc_info("event=order_refused entry=%s msisdn=%s service=%s reason=%s", j->entry, j->msisdn,
            j->code, st);
    job_ack(j); /* limited, subscribed, dup, gave_up: recorded by the script */
}

/* ---- one entry ------------------------------------------------------------------ */

/* Printable ASCII without spaces, 1..FIELD_MAX bytes. */
static int plain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FIELD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

/* Copy the fields of one entry ([id, [f, v, ...]]) into j; the reason it is
 * bad, or NULL. Values are cut to their buffers for the event of a bad one. */
static const char *job_fields(struct job *j, const redisReply *fields)
{
    int seen = 0;
    for (size_t i = 0; fields && i + 1 < fields->elements; i += 2) {
        const char *f = sc__reply_str(fields, i), *v = sc__reply_str(fields, i + 1);
        if (!f || !v)
            continue;
        char *dst = strcmp(f, "id") == 0        ? j->id
                    : strcmp(f, "msisdn") == 0  ? j->to
                    : strcmp(f, "service") == 0 ? j->code
                    : strcmp(f, "channel") == 0 ? j->channel
                                                : NULL;
        if (!dst)
            continue;
        size_t sz = dst == j->to ? sizeof j->to : FIELD_MAX + 1;
        if (strlen(v) >= sz)
            return "bad_field";
        sc_strlcpy(dst, v, sz);
        seen |= dst == j->id ? 1 : dst == j->to ? 2 : dst == j->code ? 4 : 8;
    }
    if (seen != 15)
        return "missing_field";
    if (!plain(j->id) || !plain(j->code) || !plain(j->channel))
        return "bad_field";
    if (!sc_intake_source_ok(SC_SRC_MSISDN, j->to))
        return "bad_msisdn";
    return NULL;
}

/* 1 when a job started for the entry, 0 when it is already running here
 * (or memory is short: it stays pending and is claimed again). */
static int job_start(struct sc_orders *o, const char *entry, const redisReply *fields)
{
    struct sc_app *a = o->a;
    const struct sc_config *cfg = cfg_of(o);
    if (job_running(o, entry)) {
        sc_debug("event=order_in_flight entry=%s msg=\"claimed back; its SMS still waits\"",
                 entry);
        return 0;
    }
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return 0;
    j->o = o;
    j->next = o->jobs;
    if (o->jobs)
        o->jobs->prev = j;
    o->jobs = j;
    o->inflight++;
    sc_strlcpy(j->entry, entry, sizeof j->entry);
    const char *bad = job_fields(j, fields);
    if (!bad)
        sc_msisdn_national((const char *const *)cfg->msisdn_prefixes, cfg->nmsisdn_prefixes,
                           j->to, j->msisdn, sizeof j->msisdn);
    if (!bad && !j->msisdn[0])
        bad = "bad_msisdn";
    const struct sc_service *svc = bad ? NULL : sc_catalogue_get(a->cat, j->code);
    if (!bad && !svc)
        bad = "unknown_service";
    if (!bad && !sc_order_orderable(svc))
        bad = "not_orderable";
    if (bad) {
        job_bad(j, bad);
        return 1;
    }
    char order[SC_KEY_MAX], pending[SC_KEY_MAX], sub[SC_KEY_MAX], audit[SC_KEY_MAX];
    char ttl[16], keep[16], max[16], block[16], sends[16];
    sc_key(order, sizeof order, SC_KEY_ORDER, j->msisdn);
    sc_key(pending, sizeof pending, SC_KEY_PENDING, j->msisdn);
    sc_key(sub, sizeof sub, SC_KEY_SUB, j->msisdn);
    sc_key(audit, sizeof audit, SC_KEY_AUDIT, j->msisdn);
    int k = cfg->limits.redelivery_horizon_s;
    if (k < 86400)
        k = 86400;
    if (k < cfg->limits.order_decline_block_s)
        k = cfg->limits.order_decline_block_s;
    snprintf(ttl, sizeof ttl, "%d", cfg->limits.confirm_ttl_s);
    snprintf(keep, sizeof keep, "%d", k + cfg->limits.confirm_ttl_s);
    snprintf(max, sizeof max, "%d", cfg->limits.order_max_per_provider_day);
    snprintf(block, sizeof block, "%d", cfg->limits.order_decline_block_s);
    snprintf(sends, sizeof sends, "%d", SC_ORDER_MAX_SENDS);
    sc_order_push_id(svc->provider ? svc->provider : "", j->id, j->push_id, sizeof j->push_id);
    const char *keys[] = {order, pending, sub, SC_KEY_EVENTS, audit, SC_KEY_ORDERS_DUE};
    const char *args[] = {j->msisdn, j->id, j->code, j->channel, j->entry,
                          svc->provider ? svc->provider : "", ttl, keep, max, block, sends};
    if (sc__relay_eval(a->store, o->start_script, j->msisdn, 6, keys, 11, args, NULL, on_started,
                       j) < 0)
        job_leave(j);
    return 1;
}

/* Start every entry of a list [[id, [fields]], ...]; returns how many. */
static size_t start_entries(struct sc_orders *o, const redisReply *list)
{
    size_t n = 0;
    for (size_t i = 0; list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        const redisReply *e = list->element[i];
        const char *entry = sc__reply_str(e, 0);
        if (!entry || strlen(entry) >= sizeof ((struct job *)0)->entry)
            continue;
        /* A deleted entry still pending comes without fields (nil). */
        const redisReply *fields = e->elements > 1 && e->element[1]->type == REDIS_REPLY_ARRAY
                                       ? e->element[1]
                                       : NULL;
        n += (size_t)job_start(o, entry, fields);
    }
    return n;
}

/* ---- reading ------------------------------------------------------------------- */

/* Entries this tick may take. */
static unsigned room(const struct sc_orders *o)
{
    const struct sc_config *cfg = cfg_of(o);
    unsigned max = (unsigned)cfg->limits.orders_max_inflight;
    unsigned left = o->inflight < max ? max - o->inflight : 0;
    return left < (unsigned)cfg->limits.orders_read_count ? left
                                                          : (unsigned)cfg->limits.orders_read_count;
}

/* A reply error: NOGROUP (the stream or group vanished) makes it again. */
static int read_failed(struct sc_orders *o, int err, const redisReply *rep, const char *what)
{
    if (!err && rep->type != REDIS_REPLY_ERROR)
        return 0;
    if (!err && strncmp(rep->str, "NOGROUP", 7) == 0)
        o->group_ok = 0;
    else
        sc_warn("event=orders_read_failed command=%s error=\"%s\"", what,
                err ? sc_strerror(err) : "redis error");
    o->reading = 0;
    return 1;
}

static void on_read(void *ctx, int err, redisReply *rep)
{
    struct sc_orders *o = ctx;
    if (read_failed(o, err, rep, "XREADGROUP"))
        return;
    o->reading = 0;
    /* [[stream, [entries]]], or nil when nothing is new. */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        start_entries(o, rep->element[0]->element[1]);
}

static void read_new(struct sc_orders *o)
{
    char count[16];
    unsigned n = room(o);
    if (n == 0 || o->a->stopping) {
        o->reading = 0;
        return;
    }
    snprintf(count, sizeof count, "%u", n);
    const char *argv[] = {"XREADGROUP", "GROUP", GROUP, o->consumer, "COUNT", count,
                          "STREAMS", STREAM, ">"};
    if (sc_store_command(o->a->store, SC_ARRAY_LEN(argv), argv, NULL, on_read, o) < 0)
        o->reading = 0;
}

static void on_claim(void *ctx, int err, redisReply *rep)
{
    struct sc_orders *o = ctx;
    if (read_failed(o, err, rep, "XAUTOCLAIM"))
        return;
    /* [next cursor, [entries], [deleted ids]] */
    const char *next = sc__reply_str(rep, 0);
    sc_strlcpy(o->cursor, next && strlen(next) < sizeof o->cursor ? next : "0-0",
               sizeof o->cursor);
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
        size_t n = start_entries(o, rep->element[1]);
        if (n)
            sc_info("event=orders_claimed entries=%zu", n);
    }
    read_new(o);
}

static void claim(struct sc_orders *o)
{
    char count[16], idle[16];
    unsigned n = room(o);
    if (n == 0) {
        o->reading = 0;
        return;
    }
    snprintf(count, sizeof count, "%u", n);
    snprintf(idle, sizeof idle, "%d", cfg_of(o)->limits.orders_claim_idle_ms);
    const char *argv[] = {"XAUTOCLAIM", STREAM, GROUP, o->consumer, idle, o->cursor,
                          "COUNT", count};
    if (sc_store_command(o->a->store, SC_ARRAY_LEN(argv), argv, NULL, on_claim, o) < 0)
        o->reading = 0;
}

static void on_group(void *ctx, int err, redisReply *rep)
{
    struct sc_orders *o = ctx;
    /* BUSYGROUP: another daemon made it first. */
    if (!err && (rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "BUSYGROUP", 9) == 0)) {
        o->group_ok = 1;
        claim(o);
        return;
    }
    sc_warn("event=orders_group_failed error=\"%s\"", err ? sc_strerror(err) : rep->str);
    o->reading = 0;
}

static void on_poll(uv_timer_t *t)
{
    struct sc_orders *o = t->data;
    struct sc_app *a = o->a;
    uv_timer_set_repeat(t, (uint64_t)cfg_of(o)->limits.orders_poll_ms); /* SIGHUP */
    /* An empty catalogue (a failed load) would refuse every entry as an
     * unknown service, for good: wait for one. */
    if (o->reading || a->stopping || !sc_store_ready(a->store) || !a->esme ||
        !sc_esme_bound(a->esme) || room(o) == 0 || sc_catalogue_size(a->cat) == 0 ||
        sc_catalogue_lost(a->cat))
        return;
    if (!sc_router_template(a->gen->router, "order_prompt")) {
        if (!o->no_template)
            sc_warn("event=orders_not_read msg=\"no route uses handler order_request, whose "
                    "templates the confirmation SMS needs\"");
        o->no_template = 1;
        return;
    }
    o->no_template = 0;
    o->reading = 1;
    if (o->group_ok) {
        claim(o);
        return;
    }
    const char *argv[] = {"XGROUP", "CREATE", STREAM, GROUP, "0", "MKSTREAM"};
    if (sc_store_command(a->store, SC_ARRAY_LEN(argv), argv, NULL, on_group, o) < 0)
        o->reading = 0;
}

/* ---- the expiry sweep ------------------------------------------------------------- */

static void on_expired(void *ctx, int err, redisReply *rep)
{
    char *member = ctx;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    if (st && strcmp(st, "expired") == 0)
        sc_info("event=order_expired order=%s", member);
    else if (!st && !err)
        sc_error("event=script_error script=order_expire member=%s", member);
    free(member);
}

static void expire_one(struct sc_orders *o, const char *member)
{
    char msisdn[SC_ADDR_MAX], order[SC_KEY_MAX], pending[SC_KEY_MAX], audit[SC_KEY_MAX];
    const char *colon = strchr(member, ':');
    size_t n = colon ? (size_t)(colon - member) : 0;
    if (n == 0 || n >= sizeof msisdn || strspn(member, "0123456789") != n)
        return; /* not ours */
    memcpy(msisdn, member, n);
    msisdn[n] = '\0';
    char *copy = strdup(member);
    if (!copy)
        return;
    sc_key(order, sizeof order, SC_KEY_ORDER, msisdn);
    sc_key(pending, sizeof pending, SC_KEY_PENDING, msisdn);
    sc_key(audit, sizeof audit, SC_KEY_AUDIT, msisdn);
    const char *keys[] = {order, pending, SC_KEY_EVENTS, audit, SC_KEY_ORDERS_DUE};
    const char *args[] = {msisdn, colon + 1, member};
    if (sc__relay_eval(o->a->store, o->expire_script, msisdn, 5, keys, 3, args, NULL, on_expired,
                       copy) < 0)
        free(copy);
}

static void on_due(void *ctx, int err, redisReply *rep)
{
    struct sc_orders *o = ctx;
    o->sweeping = 0;
    if (err || rep->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < rep->elements; i++)
        if (sc__reply_str(rep, i))
            expire_one(o, rep->element[i]->str);
}

static void on_sweep(uv_timer_t *t)
{
    struct sc_orders *o = t->data;
    uv_timer_set_repeat(t, (uint64_t)cfg_of(o)->limits.order_sweep_ms); /* SIGHUP */
    if (o->sweeping || o->a->stopping || !sc_store_ready(o->a->store))
        return;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    const char *argv[] = {"ZRANGEBYSCORE", SC_KEY_ORDERS_DUE, "-inf", now, "LIMIT", "0",
                          SWEEP_BATCH};
    o->sweeping = sc_store_command(o->a->store, SC_ARRAY_LEN(argv), argv, NULL, on_due, o) == 0;
}

/* ---- life ----------------------------------------------------------------------- */

/* Register head + the order library + body + the relay's close (each within
 * C's string limits). */
static int add_script(struct sc_store *st, const char *name, const char *head, const char *body)
{
    size_t n = strlen(head) + strlen(sc_order_lua) + strlen(body) + strlen(SC_RELAY_LUA_CLOSE) + 1;
    char *lua = malloc(n);
    if (!lua)
        return SC_ENOMEM;
    snprintf(lua, n, "%s%s%s%s", head, sc_order_lua, body, SC_RELAY_LUA_CLOSE);
    int id = sc_store_script(st, name, lua);
    free(lua);
    return id;
}

struct sc_orders *sc_orders_new(struct sc_app *a, char *err, size_t errsz)
{
    struct sc_orders *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    o->a = a;
    o->start_script = add_script(a->store, "order_start", order_start_head, order_start_lua);
    o->expire_script = add_script(a->store, "order_expire", order_expire_head, order_expire_lua);
    o->push_script = sc_store_script(a->store, "order_push", sc__order_push_lua);
    if (o->start_script < 0 || o->expire_script < 0 || o->push_script < 0) {
        snprintf(err, errsz, "cannot register scripts: %s",
                 sc_strerror(o->start_script < 0    ? o->start_script
                             : o->expire_script < 0 ? o->expire_script
                                                    : o->push_script));
        free(o);
        return NULL;
    }
    sc__stream_consumer(o->consumer, sizeof o->consumer);
    sc_strlcpy(o->cursor, "0-0", sizeof o->cursor);
    const struct sc_config *cfg = a->gen->cfg;
    uv_timer_init(a->loop, &o->poll);
    uv_timer_init(a->loop, &o->sweep);
    o->poll.data = o->sweep.data = o;
    /* A reload's periods apply from the next tick. */
    uv_timer_start(&o->poll, on_poll, (uint64_t)cfg->limits.orders_poll_ms,
                   (uint64_t)cfg->limits.orders_poll_ms);
    uv_timer_start(&o->sweep, on_sweep, (uint64_t)cfg->limits.order_sweep_ms,
                   (uint64_t)cfg->limits.order_sweep_ms);
    return o;
}

static void on_closed(uv_handle_t *h)
{
    struct sc_orders *o = h->data;
    if (--o->closing == 0 && o->done)
        o->done(o->done_arg);
}

void sc_orders_stop(struct sc_orders *o, void (*done)(void *), void *arg)
{
    o->done = done;
    o->done_arg = arg;
    o->closing = 2;
    uv_close((uv_handle_t *)&o->poll, on_closed);
    uv_close((uv_handle_t *)&o->sweep, on_closed);
}

void sc_orders_free(struct sc_orders *o) { free(o); }
