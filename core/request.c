/* request.c -- one MO's life: intake, routing, the handler's one script call
 * (with rate limiting folded in), and its one outcome.
 *
 * Every MO costs exactly one Redis round trip: the handler's Lua script runs
 * after a prelude that counts the subscriber's commands (rate limit) and ends
 * any pending dialogue the command does not continue (but a pending order,
 * handlers/order.h); a handler without a
 * script gets the prelude alone before it runs. */
#include "core/request.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/longmo.h"
#include "store/keys.h"
#include "text/text.h"

#define MAX_TEXT 1024          /* normalised command bytes kept */
#define MAX_REPLY 4096         /* rendered reply bytes */
#define MAX_SCRIPT_ARGS 16

/* KEYS[1] rate-limit counter, KEYS[2] pending dialogue; ARGV[1] limit,
 * ARGV[2] window (s), ARGV[3] "1" when this handler continues the dialogue,
 * ARGV[4] the expected type of each handler key (one letter per key, see
 * handler.h). The handler's body sees its own keys and args as K[] and A[],
 * the time as now_ms / now_s (strings) and the dialogue key as PENDING.
 *
 * Redis does not undo a script's writes when a later command fails, so every
 * key's type is checked before the first write (the INCR): damaged data
 * gives {"bad_data", key, type, expected} and nothing written. The INCR is
 * called with pcall, which also catches a counter that is not an integer. */
const char sc__lua_prelude[] =
    "local TYPES = {h = 'hash', s = 'string', x = 'stream', t = 'set', z = 'zset', l = 'list'}\n"
    "local t = redis.call('TYPE', KEYS[2]).ok\n"
    "if t ~= 'none' and t ~= 'string' then return {'bad_data', KEYS[2], t, 'string'} end\n"
    "local pending = t ~= 'none'\n"
    "for i = 3, #KEYS do\n"
    "  local want = TYPES[string.sub(ARGV[4], i - 2, i - 2)] or '?'\n"
    "  t = redis.call('TYPE', KEYS[i]).ok\n"
    "  if t ~= 'none' and t ~= want then return {'bad_data', KEYS[i], t, want} end\n"
    "end\n"
    "local n = redis.pcall('INCR', KEYS[1])\n"
    "if type(n) == 'table' then\n"
    "  t = redis.call('TYPE', KEYS[1]).ok\n"
    "  return {'bad_data', KEYS[1], t, t == 'string' and 'integer' or 'string'}\n"
    "end\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end\n"
    "if n > tonumber(ARGV[1]) then return {'rate', n - tonumber(ARGV[1])} end\n"
    /* A pending order waits for its own answer, a new order, a "00000" or
     * its expiry (handlers/order.h): other commands leave it. */
    "if pending and ARGV[3] ~= '1' and\n"
    "   string.sub(redis.call('GET', KEYS[2]), 1, 6) ~= 'order:' then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "end\n"
    "t = redis.call('TIME')\n"
    "local now_s = t[1]\n"
    "local now_ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local PENDING = KEYS[2]\n"
    "local K, A = {}, {}\n"
    "for i = 3, #KEYS do K[#K + 1] = KEYS[i] end\n"
    "for i = 5, #ARGV do A[#A + 1] = ARGV[i] end\n";

/* Templates the request layer renders itself. */
const struct sc_tpl_decl sc_request_templates[] = {
    {"rate_limited", NULL, 0},
    {"service_error", NULL, 0},
    {NULL, NULL, 0},
};

struct req {
    struct sc_req pub;         /* first: handlers get &pub */
    struct sc_req_limits limits; /* pub.limits: copied from the generation's config */
    struct sc_app *app;
    struct sc_gen *gen;
    const struct sc_route *route;
    struct sc_mo_token tok;
    struct sc_addr subscriber; /* the MO's source, exactly as received */
    struct sc_addr service;    /* the number it was sent to */
    sc_req_script_cb cb;
    uint64_t t0;
    char keys[256];            /* the script's keys, for error logs */
    char msisdn[SC_ADDR_MAX];
    char longmo[SC_LONGMO_KEY_MAX]; /* the reassembly this MO completes, or "" */
    char text[MAX_TEXT];
    char capbuf[MAX_TEXT + SC_REQ_MAX_CAPS];
    char *capheap;             /* captures that did not fit in capbuf, or NULL */
};

static struct req *R(struct sc_req *r) { return (struct req *)r; }

static void log_outcome(struct req *q, const char *outcome, const char *why)
{
    struct sc_app *a = q->app;
    char qt[96];
    sc_info("event=mo msisdn=%s service=%s route=%s command=%s outcome=%s%s%s%s ms=%llu",
            SC_LOGV(q->msisdn), SC_LOGV(q->service.addr), q->route ? q->route->name : "-",
            sc_log_quote(qt, sizeof qt, q->text, strlen(q->text)), outcome, why ? " reason=\"" : "",
            why ? why : "", why ? "\"" : "", (unsigned long long)(uv_now(a->loop) - q->t0));
}

/* A final ESME_ROK outcome: a long MO's parts are no longer needed (a
 * redelivered part must not run the command again). */
static void mark_done(struct req *q)
{
    if (q->longmo[0])
        sc__longmo_done(q->app, q->msisdn, q->longmo);
}

static void req_end(struct req *q)
{
    q->app->inflight--;
    sc__gen_unref(q->gen);
    free(q->capheap);
    free(q);
}

void sc_req_fail(struct sc_req *r, const char *why)
{
    struct req *q = R(r);
    sc_esme_mo_done(q->app->esme, q->tok, q->gen->cfg->limits.mo_error_status);
    log_outcome(q, "temporary_error", why);
    req_end(q);
}

void sc_req_silent(struct sc_req *r)
{
    struct req *q = R(r);
    sc_esme_mo_done(q->app->esme, q->tok, SC_ESME_ROK);
    mark_done(q);
    log_outcome(q, "silent", NULL);
    req_end(q);
}

/* ack_policy after_reply: the MO is acknowledged once the SMSC accepted
 * the reply; until then the request's token waits here. */
struct pending_ack {
    struct sc_app *app;
    struct sc_mo_token tok;
    uint32_t error_status;
    char msisdn[SC_ADDR_MAX];
    char longmo[SC_LONGMO_KEY_MAX];
};

static void on_reply_accepted(void *arg, int err)
{
    struct pending_ack *p = arg;
    sc_esme_mo_done(p->app->esme, p->tok, err ? p->error_status : SC_ESME_ROK);
    if (!err && p->longmo[0])
        sc__longmo_done(p->app, p->msisdn, p->longmo);
    p->app->inflight--;
    free(p);
}

/* Reply with text; the MO is logged with outcome (a reply, or the one
 * polite rate_limited reply). */
static void reply_as(struct req *q, const char *text, const char *outcome)
{
    struct sc_req *r = &q->pub;
    struct sc_app *a = q->app;
    struct sc_addr from = q->service;
    from.ton = (uint8_t)q->gen->cfg->smpp.source_ton;
    from.npi = (uint8_t)q->gen->cfg->smpp.source_npi;
    size_t len = strlen(text);
    if (q->gen->cfg->limits.ack_policy == SC_ACK_AFTER_REPLY) {
        struct pending_ack *p = malloc(sizeof *p);
        int rc = p ? sc_esme_send(a->esme, &from, &q->subscriber, text, len, on_reply_accepted, p)
                   : SC_ENOMEM;
        if (rc < 0) {
            free(p);
            sc_req_fail(r, sc_strerror(rc));
            return;
        }
        *p = (struct pending_ack){a, q->tok, q->gen->cfg->limits.mo_error_status, "", ""};
        memcpy(p->msisdn, q->msisdn, sizeof p->msisdn);
        memcpy(p->longmo, q->longmo, sizeof p->longmo);
        a->inflight++; /* held by p until the SMSC answers */
        log_outcome(q, outcome, NULL);
        req_end(q);
        return;
    }
    /* after_store: the state change is already in Redis; acknowledge and
     * queue the reply (esme sends the resp first). */
    int rc = sc_esme_reply(a->esme, q->tok, &from, &q->subscriber, text, len);
    if (rc < 0) {
        sc_req_fail(r, rc == SC_EBUSY ? "reply queue full" : sc_strerror(rc));
        return;
    }
    mark_done(q);
    log_outcome(q, outcome, NULL);
    req_end(q);
}

void sc_req_reply(struct sc_req *r, const char *text) { reply_as(R(r), text, "reply"); }

size_t sc_req_render(struct sc_req *r, const char *tpl, const char *const *values, char *out,
                     size_t outsz)
{
    const struct sc_tpl *t = sc_router_template(R(r)->gen->router, tpl);
    if (!t) {
        /* A handler rendering a template it did not declare: a bug. */
        sc_error("event=template_missing template=%s", tpl);
        if (outsz)
            out[0] = '\0';
        return 0;
    }
    return sc_tpl_render(t, values, out, outsz);
}

void sc_req_reply_tpl(struct sc_req *r, const char *tpl, const char *const *values)
{
    char out[MAX_REPLY];
    sc_req_render(r, tpl, values, out, sizeof out);
    sc_req_reply(r, out);
}

/* ---- the script call ----------------------------------------------------- */

static void rate_limited(struct req *q, long long over)
{
    if (over == 1) {
        /* One polite reply, then silence until the window passes: this also
         * ends auto-reply loops with other machines. */
        char out[MAX_REPLY];
        sc_req_render(&q->pub, "rate_limited", NULL, out, sizeof out);
        reply_as(q, out, "rate_limited");
    } else {
        sc_esme_mo_done(q->app->esme, q->tok, SC_ESME_ROK);
        mark_done(q);
        log_outcome(q, "rate_limited", NULL);
        req_end(q);
    }
}

static void on_script(void *ctx, int err, struct redisReply *rep)
{
    struct req *q = ctx;
    if (err) {
        sc_req_fail(&q->pub, err == SC_ETIMEOUT ? "redis timeout" : "redis connection lost");
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        char e[320];
        sc_log_quote(e, sizeof e, rep->str, rep->len);
        if (strstr(rep->str, "WRONGTYPE")) {
            /* A key the handler did not declare had the wrong type (the
             * prelude checks the declared ones): a bug to fix in the
             * handler, but the data is bad all the same, so answer it. */
            sc_error("event=bad_data msisdn=%s route=%s keys=%s error=%s", SC_LOGV(q->msisdn),
                     q->route->name, q->keys, e);
            sc_req_reply_tpl(&q->pub, "service_error", NULL);
            return;
        }
        sc_error("event=script_error msisdn=%s route=%s keys=%s error=%s", SC_LOGV(q->msisdn),
                 q->route->name, q->keys, e);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        sc_error("event=script_error msisdn=%s route=%s error=\"unexpected reply type %d\"",
                 SC_LOGV(q->msisdn), q->route->name, rep->type);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    if (strcmp(rep->element[0]->str, "bad_data") == 0) {
        /* A key of the wrong type, found before anything was written:
         * redelivering the MO cannot help, so answer it. */
        char key[160];
        const char *f[3] = {"?", "?", "?"}; /* key, its type, the type declared */
        for (size_t i = 0; i < 3; i++)
            if (i + 1 < rep->elements && rep->element[i + 1]->type == REDIS_REPLY_STRING)
                f[i] = rep->element[i + 1]->str;
        /* Type names come from Redis TYPE and the prelude: plain words. */
        sc_error("event=bad_data msisdn=%s route=%s key=%s type=%s expected=%s", q->msisdn,
                 q->route->name, sc_log_quote(key, sizeof key, f[0], strlen(f[0])), f[1], f[2]);
        sc_req_reply_tpl(&q->pub, "service_error", NULL);
        return;
    }
    if (strcmp(rep->element[0]->str, "rate") == 0) {
        rate_limited(q, rep->elements > 1 ? rep->element[1]->integer : 1);
        return;
    }
    if (q->cb)
        q->cb(&q->pub, (struct redisReply *const *)rep->element + 1, rep->elements - 1);
    else
        q->route->handler->handle(&q->pub, q->route->opts);
}

/* Run script id with the request layer's keys and args first. */
static void eval(struct req *q, int script, int nkeys, const char *const *keys, int nargs,
                 const char *const *args)
{
    struct sc_app *a = q->app;
    const struct sc_config *cfg = q->gen->cfg;
    if (nkeys > MAX_SCRIPT_ARGS || nargs > MAX_SCRIPT_ARGS) {
        sc_error("event=script_error route=%s error=\"too many keys or args\"", q->route->name);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    const char *types = q->route->handler->key_types ? q->route->handler->key_types : "";
    if (strlen(types) != (size_t)nkeys) {
        /* Every key a script touches must have its type declared. */
        sc_error("event=script_error route=%s error=\"key_types does not match the keys\"",
                 q->route->name);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    char rl[SC_KEY_MAX], pend[SC_KEY_MAX], limit[16], window[16];
    sc_key(rl, sizeof rl, SC_KEY_RL, q->msisdn);
    sc_key(pend, sizeof pend, SC_KEY_PENDING, q->msisdn);
    snprintf(limit, sizeof limit, "%d", cfg->limits.rate_limit_count);
    snprintf(window, sizeof window, "%d", cfg->limits.rate_limit_window_s);
    const char *k[MAX_SCRIPT_ARGS + 2] = {rl, pend};
    const char *v[MAX_SCRIPT_ARGS + 4] = {limit, window,
                                          q->route->handler->continues_dialogue ? "1" : "0", types};
    /* Keep the keys for an error log line; plain copies, as this runs for
     * every MO (snprintf here cost ~4,000 instructions per command). */
    size_t o = 0;
    for (int i = 0; i < nkeys + 2; i++) {
        if (i >= 2)
            k[i] = keys[i - 2];
        size_t n = strlen(k[i]);
        if (o + n + 2 > sizeof q->keys)
            break;
        if (i)
            q->keys[o++] = ',';
        memcpy(q->keys + o, k[i], n);
        o += n;
    }
    q->keys[o] = '\0';
    for (int i = 0; i < nargs; i++)
        v[4 + i] = args[i];
    int rc = sc_store_eval(a->store, script, nkeys + 2, k, NULL, nargs + 4, v, NULL, on_script, q);
    if (rc < 0)
        sc_req_fail(&q->pub, rc == SC_EAGAIN ? "redis unavailable" : sc_strerror(rc));
}

void sc_req_eval(struct sc_req *r, int nkeys, const char *const *keys, int nargs,
                 const char *const *args, sc_req_script_cb cb)
{
    struct req *q = R(r);
    q->cb = cb;
    eval(q, q->app->script_ids[q->route->handler_index], nkeys, keys, nargs, args);
}

/* ---- intake ------------------------------------------------------------- */

/* Copy the route's regex captures out of the text (core/router.h): into
 * capbuf, or a heap buffer when overlapping groups need more (caps[0] holds
 * the whole match, so a group like "^CX(.*)$" needs twice the text). */
static int set_caps(struct req *q, const regmatch_t *m)
{
    size_t n = sc_route_ncaps(q->route, SC_REQ_MAX_CAPS);
    size_t need = sc_router_caps(q->text, m, n, q->capbuf, sizeof q->capbuf, q->pub.caps);
    if (need > sizeof q->capbuf) {
        q->capheap = malloc(need);
        if (!q->capheap)
            return SC_ENOMEM;
        sc_router_caps(q->text, m, n, q->capheap, need, q->pub.caps);
    }
    q->pub.ncaps = n;
    return 0;
}

/* 0, or the MO was refused with the temporary error (too many in flight). */
static int admit(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok)
{
    const struct sc_config *cfg = a->gen->cfg;
    if (a->inflight < (unsigned)cfg->limits.max_inflight)
        return 0;
    sc_warn("event=mo_refused msisdn=%s reason=\"too many MOs in flight\" inflight=%u",
            SC_LOGV(mo->src.addr), a->inflight);
    sc_esme_mo_done(a->esme, tok, cfg->limits.mo_error_status);
    return SC_EBUSY;
}

void sc__app_on_mo(void *arg, const struct sc_mo *mo, struct sc_mo_token tok)
{
    struct sc_app *a = arg;
    if (sc__app_intake(a, mo, tok) || admit(a, mo, tok) < 0)
        return;
    if (mo->concat.total >= 2)
        sc__longmo_on_part(a, mo, tok);
    else
        sc__req_start(a, mo, tok, NULL);
}

void sc__req_start(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok,
                   const char *longmo_key)
{
    const struct sc_config *cfg = a->gen->cfg;
    if (longmo_key && admit(a, mo, tok) < 0)
        return;
    struct req *q = calloc(1, sizeof *q);
    if (!q) {
        sc_esme_mo_done(a->esme, tok, cfg->limits.mo_error_status);
        return;
    }
    a->inflight++;
    q->app = a;
    q->gen = a->gen;
    q->gen->refs++;
    q->tok = tok;
    q->t0 = uv_now(a->loop);
    q->subscriber = mo->src;
    q->service = mo->dst;
    if (longmo_key)
        sc_strlcpy(q->longmo, longmo_key, sizeof q->longmo);
    sc_msisdn_national((const char *const *)cfg->msisdn_prefixes, cfg->nmsisdn_prefixes,
                       mo->src.addr, q->msisdn, sizeof q->msisdn);
    if (sc_text_normalize(mo->text, mo->text_len, q->text, sizeof q->text) < 0) {
        /* Longer than any command: route it as it is (the default route). */
        q->text[0] = '\0';
    }
    q->pub.msisdn = q->msisdn;
    q->pub.text = q->text;
    q->pub.service = q->service.addr;
    q->limits = (struct sc_req_limits){cfg->limits.menu_ttl_s, cfg->limits.confirm_ttl_s,
                                       cfg->limits.redelivery_horizon_s};
    q->pub.limits = &q->limits;
    q->pub.catalogue = a->cat;

    regmatch_t m[SC_REQ_MAX_CAPS];
    q->route = sc_router_match(q->gen->router, q->service.addr, q->text, m, SC_REQ_MAX_CAPS);
    if (!q->route) {
        sc_esme_mo_done(a->esme, tok, SC_ESME_ROK);
        mark_done(q);
        log_outcome(q, "no_route", NULL);
        req_end(q);
        return;
    }
    if (set_caps(q, m) < 0) {
        sc_req_fail(&q->pub, "out of memory");
        return;
    }
    if (!sc_store_ready(a->store)) {
        sc_req_fail(&q->pub, "redis unavailable");
        return;
    }
    if (q->route->handler->script)
        q->route->handler->handle(&q->pub, q->route->opts);
    else
        eval(q, a->rate_script, 0, NULL, 0, NULL); /* then on_script calls handle() */
}
