/* order.c -- ordering a monthly service by SMS ("KT"+CODE / "开通"+CODE)
 * with a secondary confirmation, and the order part of the "Y" / "N".
 *
 * "KT"+CODE states the service, its provider and fee and asks for "Y"
 * within limits.confirm_ttl_s; nothing is written to sub:{M}:vas until the
 * "Y". The order is order:{M} (handlers/order.h), the dialogue
 * pending:{M} = "order:ID", and its deadline a member of vas:orders:due so
 * that an unanswered order is recorded as expired by the sweep in core/
 * orders.c even when the subscriber never writes again. A new order, or a
 * "00000", replaces a pending order (order_declined reason=superseded);
 * other commands leave it waiting. A redelivered "KT" for the order that is
 * pending is the same order (the prompt again, no event); a redelivered "Y"
 * finds the order ended and says when (order_past_*). Only services of kind
 * "monthly" with a known fee can be ordered (others: order_not_orderable).
 * The "Y" itself is routed to vas_confirm (one word answers every kind of
 * dialogue); its script calls ord_answer and hands the result here. */
#include "handlers/order.h"
#include "handlers/order_int.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "handlers/catalogue.h"
#include "store/keys.h"
#include "text/text.h"

#define ORDER_TEXT_MAX 2048
/* order:{M} outlives its order: the redelivery horizon, and a day of
 * provider counters (core/orders.c passes the same). */
#define ORDER_KEEP_MIN_S 86400

/* ---- the library (order.h) ------------------------------------------------- */

const char sc_order_lua[] =
    "local ORD = {}\n"
    "local AUDIT_MINID = string.format('%.0f', tonumber(now_ms) - 186 * 86400000)\n"
    "local function ord_load()\n"
    "  local OK, MSISDN, NOW = ORD.OK, ORD.MSISDN, ORD.NOW\n"
    "  local h = redis.call('HGETALL', OK.order)\n"
    "  local o = {}\n"
    "  for i = 1, #h, 2 do o[h[i]] = h[i + 1] end\n"
    "  return o\n"
    "end\n"
    "local function ord_event(o, event, extra)\n"
    "  local OK, MSISDN, NOW = ORD.OK, ORD.MSISDN, ORD.NOW\n"
    "  local id = MSISDN .. ':' .. o.id .. ':' .. event\n"
    "  if event == 'subscribe' then\n"
    "    id = MSISDN .. ':' .. o.service .. ':' .. now_s .. ':subscribe'\n"
    "  end\n"
    "  local f = {'service', o.service, 'channel', o.channel, 'at', now_ms, 'id', id,\n"
    "             'order', o.id}\n"
    "  for _, x in ipairs(extra or {}) do f[#f + 1] = x end\n"
    "  if event ~= 'order_requested' then\n"
    "    sc_emit('" SC_KEY_EVENTS "', 'event', event, 'msisdn', MSISDN, unpack(f))\n"
    "  end\n"
    "  redis.call('XADD', OK.audit, 'MINID', '~', AUDIT_MINID, '*', 'event', event, unpack(f))\n"
    "end\n"
    "local function ord_end(o, state, event, reason)\n"
    "  local OK, MSISDN, NOW = ORD.OK, ORD.MSISDN, ORD.NOW\n"
    "  redis.call('HSET', OK.order, 'state', state, 'ended', now_s)\n"
    "  if event then ord_event(o, event, reason and {'reason', reason} or nil) end\n"
    "  if redis.call('GET', OK.pending) == 'order:' .. o.id then\n"
    "    redis.call('DEL', OK.pending)\n"
    "  end\n"
    "end\n"
    "local function ord_supersede()\n"
    "  local OK, MSISDN, NOW = ORD.OK, ORD.MSISDN, ORD.NOW\n"
    "  local p = redis.call('GET', OK.pending)\n"
    "  if not p or string.sub(p, 1, 6) ~= 'order:' then return nil end\n"
    "  local o = ord_load()\n"
    "  if o.id ~= string.sub(p, 7) or o.state ~= 'pending' then return nil end\n"
    "  if tonumber(o.deadline) < NOW then ord_end(o, 'expired', 'order_expired'); return nil end\n"
    "  ord_end(o, 'superseded', 'order_declined', 'superseded')\n"
    "  return o.service\n"
    "end\n"
    "local function ord_create(id, code, channel, entry, provider, ttl, keep)\n"
    "  local OK, MSISDN, NOW = ORD.OK, ORD.MSISDN, ORD.NOW\n"
    "  redis.call('HSET', OK.order, 'id', id, 'service', code, 'channel', channel,\n"
    "             'entry', entry,\n"
    "             'provider', provider, 'at', now_ms, 'deadline', tostring(NOW + ttl),\n"
    "             'state', 'pending', 'ended', '', 'ref', '', 'sends', '1')\n"
    "  if redis.call('TTL', OK.order) < keep then redis.call('EXPIRE', OK.order, keep) end\n"
    "  redis.call('SET', OK.pending, 'order:' .. id, 'EX', ttl)\n"
    "  sc_emit_cmd('ZADD', '" SC_KEY_ORDERS_DUE "', tostring(NOW + ttl), MSISDN .. ':' .. id)\n"
    "  ord_event({id = id, service = code, channel = channel}, 'order_requested')\n"
    "end\n"
    "local function ord_answer(p, yes, other_at, horizon)\n"
    "  local OK, MSISDN, NOW = ORD.OK, ORD.MSISDN, ORD.NOW\n"
    "  if p and string.sub(p, 1, 6) ~= 'order:' then return nil end\n"
    "  local o = ord_load()\n"
    "  if not o.id then return nil end\n"
    "  if p then redis.call('DEL', OK.pending) end\n"
    "  if o.state == 'pending' and (not p or p == 'order:' .. o.id) then\n"
    "    if tonumber(o.deadline) < NOW then\n"
    "      ord_end(o, 'expired', 'order_expired')\n"
    "      return {'order', 'expired', o.service, o.deadline}\n"
    "    end\n"
    "    if not yes then\n"
    "      ord_end(o, 'declined', 'order_declined', 'subscriber')\n"
    "      if o.channel ~= 'sms' and o.provider ~= '' then\n"
    "        redis.call('HSET', OK.order, 'declined:' .. o.provider, now_s)\n"
    "      end\n"
    "      return {'order', 'declined', o.service}\n"
    "    end\n"
    "    local since = redis.call('HGET', OK.sub, o.service)\n"
    "    if since then\n"
    "      ord_end(o, 'already', 'order_declined', 'already_subscribed')\n"
    "      return {'order', 'subscribed', o.service, since}\n"
    "    end\n"
    "    local ref = 'sms-y:' .. now_ms .. ':' .. o.id\n"
    "    redis.call('HSET', OK.sub, o.service, now_s)\n"
    "    redis.call('HSET', OK.conf, o.service, ref)\n"
    "    redis.call('HSET', OK.order, 'ref', ref, 'state', 'confirmed', 'ended', now_s)\n"
    "    ord_event(o, 'subscribe', {'ref', ref})\n"
    "    return {'order', 'confirmed', o.service}\n"
    "  end\n"
    "  local ended = tonumber(o.ended)\n"
    "  local other = tonumber(other_at)\n"
    "  if ended and ended > NOW - horizon and (not other or ended >= other) then\n"
    "    return {'order', 'past', o.state, o.service, o.ended}\n"
    "  end\n"
    "  return nil\n"
    "end\n";

/* ---- texts ---------------------------------------------------------------- */

/* A feed's text on one line (control characters become spaces), or dflt. */
static const char *one_line(const char *s, const char *dflt, char *out, size_t outsz)
{
    size_t n = s && *s ? sc_text_one_line(s, strlen(s), out, outsz) : 0;
    if (!n)
        sc_strlcpy(out, dflt, outsz);
    return out;
}

struct order_names {
    char name[256], provider[128], fee[32];
};

static void names_of(const struct sc_catalogue *cat, const char *code, struct order_names *nm)
{
    const struct sc_service *svc = cat ? sc_catalogue_get(cat, code) : NULL;
    one_line(svc ? svc->name : NULL, code, nm->name, sizeof nm->name);
    one_line(svc ? svc->provider : NULL, "?", nm->provider, sizeof nm->provider);
    sc_fmt_fen(svc ? svc->price_fen : -1, nm->fee, sizeof nm->fee);
}

int sc_order_orderable(const struct sc_service *svc)
{
    return svc && svc->price_fen >= 0 && svc->kind && strcmp(svc->kind, "monthly") == 0;
}

char *sc_order_prompt(const struct sc_catalogue *cat, const char *code, int confirm_ttl_s,
                      const char *replaced, sc_order_render_fn render, void *arg, char *out,
                      size_t outsz)
{
    struct order_names nm;
    char minutes[16];
    size_t o = 0;
    out[0] = '\0';
    if (replaced && *replaced) {
        names_of(cat, replaced, &nm);
        o = render(arg, "order_replaced", (const char *const[]){nm.name, replaced}, out, outsz);
        if (o >= outsz)
            o = strlen(out);
        if (o + 1 < outsz)
            out[o++] = '\n';
    }
    names_of(cat, code, &nm);
    snprintf(minutes, sizeof minutes, "%d", (confirm_ttl_s + 59) / 60);
    render(arg, "order_prompt", (const char *const[]){nm.name, nm.provider, nm.fee, code, minutes},
           out + o, outsz - o);
    return out;
}

static size_t req_render(void *arg, const char *tpl, const char *const *values, char *out,
                         size_t outsz)
{
    return sc_req_render(arg, tpl, values, out, outsz);
}

static const char *el(struct redisReply *const *e, size_t n, size_t i)
{
    return i < n && e[i]->type == REDIS_REPLY_STRING ? e[i]->str : NULL;
}

static void bad_result(struct sc_req *req, const char *what)
{
    sc_error("event=script_result_bad handler=%s msisdn=%s", what, req->msisdn);
    sc_req_fail(req, "unexpected script result");
}

/* ---- the answer ("Y" / "N"), from vas_confirm ------------------------------ */

void sc__order_on_answer(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *st = el(e, n, 0), *code = el(e, n, 1);
    char when[48];
    struct order_names nm;
    if (st && strcmp(st, "past") == 0) {
        /* {past, state, code, ended}: the order was answered (or ended)
         * before: a redelivered or late answer. */
        const char *state = code, *at = el(e, n, 3);
        code = el(e, n, 2);
        if (!state || !code || !at) {
            bad_result(req, "vas_confirm");
            return;
        }
        names_of(req->catalogue, code, &nm);
        const char *tpl = strcmp(state, "confirmed") == 0    ? "order_past_confirmed"
                          : strcmp(state, "superseded") == 0 ? "order_past_superseded"
                          : strcmp(state, "expired") == 0    ? "order_expired"
                          : strcmp(state, "already") == 0    ? "order_subscribed"
                                                             : "order_past_declined";
        sc_fmt_past_time_text(at, when, sizeof when);
        sc_req_reply_tpl(req, tpl, (const char *const[]){nm.name, code, when});
        return;
    }
    if (!st || !code) {
        bad_result(req, "vas_confirm");
        return;
    }
    names_of(req->catalogue, code, &nm);
    if (strcmp(st, "confirmed") == 0) {
        sc_req_reply_tpl(req, "order_confirmed",
                         (const char *const[]){nm.name, nm.provider, nm.fee, code});
    } else if (strcmp(st, "declined") == 0) {
        sc_req_reply_tpl(req, "order_declined", (const char *const[]){nm.name, code});
    } else if ((strcmp(st, "expired") == 0 || strcmp(st, "subscribed") == 0) && el(e, n, 2)) {
        sc_fmt_past_time_text(e[2]->str, when, sizeof when);
        sc_req_reply_tpl(req, strcmp(st, "expired") == 0 ? "order_expired" : "order_subscribed",
                         (const char *const[]){nm.name, code, when});
    } else {
        bad_result(req, "vas_confirm");
    }
}

/* ---- order_request: "KT" + code ------------------------------------------- */

/* K[1] sub:{M}:vas, K[2] vas:events, K[3] audit:{M}, K[4] order:{M}, K[5]
 * vas:orders:due; A[1] msisdn, A[2] code, A[3] "ok" | "unknown" |
 * "not_orderable" (from the catalogue), A[4] confirm ttl (s), A[5] how long
 * order:{M} is kept (s), A[6] the provider. Returns {"unknown"},
 * {"not_orderable"}, {"subscribed", since}, {"again", deadline} (this very
 * order is pending: a redelivered or repeated "KT"), or {"ask", code of the
 * order it replaced or ""}. */
static const char order_request_lua[] =
    "ORD.MSISDN, ORD.NOW = A[1], tonumber(now_s)\n"
    "local OK = {sub = K[1], events = K[2], audit = K[3], order = K[4], due = K[5],\n"
    "            pending = PENDING}\n"
    "ORD.OK = OK\n"
    "local NOW = ORD.NOW\n"
    "local p = redis.call('GET', OK.pending)\n"
    "local is_order = p and string.sub(p, 1, 6) == 'order:'\n"
    "-- A refused KT ends another kind of dialogue as any command does.\n"
    "if p and not is_order and A[3] ~= 'ok' then redis.call('DEL', OK.pending) end\n"
    "if A[3] ~= 'ok' then return {A[3]} end\n"
    "local since = redis.call('HGET', OK.sub, A[2])\n"
    "if since then\n"
    "  if p and not is_order then redis.call('DEL', OK.pending) end\n"
    "  return {'subscribed', since}\n"
    "end\n"
    "if is_order then\n"
    "  local o = ord_load()\n"
    "  if o.id == string.sub(p, 7) and o.state == 'pending' and o.service == A[2]\n"
    "     and o.channel == 'sms' and tonumber(o.deadline) >= NOW then\n"
    "    return {'again', o.deadline}\n"
    "  end\n"
    "end\n"
    "local replaced = ord_supersede()\n"
    "ord_create('sms:' .. A[2] .. ':' .. now_ms, A[2], 'sms', '', A[6], tonumber(A[4]),\n"
    "           tonumber(A[5]))\n"
    "return {'ask', replaced or ''}\n";

static const struct sc_tpl_decl order_request_templates[] = {
    SC_TPL_DECL("order_prompt", "name", "provider", "fee", "code", "minutes"),
    SC_TPL_DECL("order_replaced", "name", "code"),
    SC_TPL_DECL("order_unknown", "code"),
    SC_TPL_DECL("order_not_orderable", "name", "code"),
    SC_TPL_DECL("order_subscribed", "name", "code", "time"),
    {NULL, NULL, 0},
};

/* The code: the route regex's last capture ("^(KT|开通) ?(CODE)$"), else
 * the text after "KT". */
static const char *kt_code(const struct sc_req *req)
{
    if (req->ncaps > 1 && req->caps[req->ncaps - 1])
        return req->caps[req->ncaps - 1];
    return strncmp(req->text, "KT", 2) == 0 ? req->text + 2 : req->text;
}

static void on_request(struct sc_req *req, const void *opts, struct redisReply *const *e,
                       size_t n)
{
    (void)opts;
    const char *st = el(e, n, 0), *code = kt_code(req);
    struct order_names nm;
    char out[ORDER_TEXT_MAX], when[48];
    names_of(req->catalogue, code, &nm);
    if (st && strcmp(st, "unknown") == 0) {
        sc_req_reply_tpl(req, "order_unknown", (const char *const[]){code});
    } else if (st && strcmp(st, "not_orderable") == 0) {
        sc_req_reply_tpl(req, "order_not_orderable", (const char *const[]){nm.name, code});
    } else if (st && strcmp(st, "subscribed") == 0 && el(e, n, 1)) {
        sc_fmt_past_time_text(e[1]->str, when, sizeof when);
        sc_req_reply_tpl(req, "order_subscribed", (const char *const[]){nm.name, code, when});
    } else if (st && strcmp(st, "again") == 0 && el(e, n, 1)) {
        long long left = strtoll(e[1]->str, NULL, 10) - (long long)time(NULL);
        sc_req_reply(req, sc_order_prompt(req->catalogue, code, left > 0 ? (int)left : 1, NULL,
                                          req_render, req, out, sizeof out));
    } else if (st && strcmp(st, "ask") == 0 && el(e, n, 1)) {
        sc_req_reply(req, sc_order_prompt(req->catalogue, code, req->limits->confirm_ttl_s,
                                          e[1]->str, req_render, req, out, sizeof out));
    } else {
        bad_result(req, "order_request");
    }
}

static void order_request_prepare(const struct sc_req *req, const void *opts,
                                  struct sc_req_call *call)
{
    (void)opts;
    const char *code = kt_code(req);
    const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
    int horizon = req->limits->redelivery_horizon_s;
    sc_req_key_m(call, SC_KEY_SUB);
    sc_req_key(call, SC_KEY_EVENTS);
    sc_req_key_m(call, SC_KEY_AUDIT);
    sc_req_key_m(call, SC_KEY_ORDER);
    sc_req_key(call, SC_KEY_ORDERS_DUE);
    sc_req_arg(call, req->msisdn);
    sc_req_arg(call, code);
    sc_req_arg(call, !svc ? "unknown" : !sc_order_orderable(svc) ? "not_orderable" : "ok");
    sc_req_arg_int(call, req->limits->confirm_ttl_s);
    sc_req_arg_int(call, (horizon > ORDER_KEEP_MIN_S ? horizon : ORDER_KEEP_MIN_S) +
                             req->limits->confirm_ttl_s);
    sc_req_arg(call, svc && svc->provider ? svc->provider : "");
}

const struct sc_handler sc_handler_order_request = {
    .name = "order_request",
    .summary = "order a monthly service (\"KT\" + code; the regex's last capture is the code): "
               "asks for a confirmation, answered by vas_confirm",
    .templates = order_request_templates,
    .script_lib = sc_order_lua,
    .script = order_request_lua,
    .key_types = "hxxhz",
    /* It ends a pending dialogue itself: a pending order is recorded as
     * superseded, not dropped by the request layer. */
    .continues_dialogue = 1,
    .prepare = order_request_prepare,
    .result = on_request,
};
