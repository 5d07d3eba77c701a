/* request.c -- one MO's life: route, the handler's script call (rate limit,
 * pending dialogue and key types folded in), and its one outcome.
 *
 * Every request has the same shape (handlers/handler.h): the route's
 * handler states its keys and args (prepare, no I/O), ONE EVALSHA runs the
 * prelude and the handler's script (or the prelude alone), and the
 * handler's result() renders the outcome. The prelude ends any pending
 * dialogue the command does not continue, but a pending order
 * (handlers/order.h). What a reply means and what each outcome sends to the
 * SMSC are decided in core/outcome.c. */
#include "core/request.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/longmo.h"
#include "core/metrics.h"
#include "core/outcome.h"
#include "core/relay.h"
#include "handlers/emit_lua.h"
#include "store/keys.h"
#include "text/text.h"

#define MAX_TEXT 1024          /* normalised command bytes kept */
#define MAX_REPLY 4096         /* rendered reply bytes */
#define PRELUDE_KEYS 2          /* rl:{M}, pending:{M} */
#define PRELUDE_ARGS 4          /* limit, window, continues dialogue, key types */
#define ARG_KEY_TYPES 3         /* ARGV[4]: the handler's key_types */
#define PRELUDE_BYTES (2 * SC_KEY_MAX + 48)

/* KEYS[1] rate-limit counter, KEYS[2] pending dialogue, then the handler's;
 * on a Redis Cluster one more, the subscriber's outbox out:{M} (OUTBOX; nil
 * on one server), which also stands in for every global key the handler
 * named (the cluster refuses a script whose keys are on several slots:
 * their writes go through sc_emit, handlers/emit_lua.h). ARGV[1] limit,
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
    "for i = 3, NK do\n"
    "  local want = TYPES[string.sub(ARGV[4], i - 2, i - 2)] or '?'\n"
    "  t = KEYS[i] ~= OUTBOX and redis.call('TYPE', KEYS[i]).ok or 'none'\n"
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
    "for i = 3, NK do K[#K + 1] = KEYS[i] end\n"
    "for i = 5, #ARGV do A[#A + 1] = ARGV[i] end\n";

/* The script's keys and args: the prelude's first, then the handler's
 * (sc_req_key ...), every string in buf. */
struct sc_req_call {
    const char *msisdn;
    int nkeys, nargs;
    int overflow;              /* a key or arg did not fit: the request fails */
    size_t used;               /* bytes of buf */
    /* From here on written before read (not zeroed: see REQ_ZEROED). */
    const char *keys[PRELUDE_KEYS + SC_REQ_MAX_KEYS + 1]; /* + the outbox */
    size_t keylens[PRELUDE_KEYS + SC_REQ_MAX_KEYS + 1];
    const char *args[PRELUDE_ARGS + SC_REQ_MAX_ARGS];
    size_t arglens[PRELUDE_ARGS + SC_REQ_MAX_ARGS];
    char buf[PRELUDE_BYTES + SC_REQ_CALL_BYTES];
};

/* Templates the request layer renders itself. */
const struct sc_tpl_decl sc_request_templates[] = {
    {"rate_limited", NULL, 0},
    {"service_error", NULL, 0},
    {NULL, NULL, 0},
};

/* Whatever the script returns, on a cluster the outbox's entries follow as
 * one more element (the request relays them before the MO is answered:
 * on_script); so sc_main wraps the prelude, which may return early. */
static const char script_open[] =
    "local NK = 2 + #ARGV[4]\n"
    "local OUTBOX = #KEYS > NK and KEYS[#KEYS] or nil\n" SC_EMIT_LUA
    "local function sc_main()\n";
static const char script_close[] =
    "end\nlocal r = sc_main()\nif OUTBOX then r[#r + 1] = sc_outbox() end\nreturn r\n";

char *sc__req_script(const char *lib, const char *body)
{
    static const char head[] = "local function body()\n";
    static const char tail[] = "\nend\nlocal r = body()\ntable.insert(r, 1, 'ok')\nreturn r\n";
    static const char none[] = "return {'ok'}\n";
    if (!lib)
        lib = "";
    size_t n = strlen(script_open) + strlen(sc__lua_prelude) + strlen(lib) +
               (body ? strlen(head) + strlen(body) + strlen(tail) : strlen(none)) +
               strlen(script_close) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s%s%s%s%s", script_open, sc__lua_prelude, lib, body ? head : none,
                 body ? body : "", body ? tail : "", script_close);
    return s;
}

struct req {
    struct sc_req pub;         /* first: handlers get &pub */
    struct sc_req_limits limits; /* pub.limits: copied from the generation's config */
    struct sc_app *app;
    struct sc_gen *gen;
    const struct sc_route *route;
    struct sc_mo_token tok;
    struct sc_addr subscriber; /* the MO's source, exactly as received */
    struct sc_addr service;    /* the number it was sent to */
    uint64_t t0;
    uint64_t t0_ns;            /* uv_hrtime at intake: shortcoded_mo_duration_seconds */
    char msisdn[SC_ADDR_MAX];
    char longmo[SC_LONGMO_KEY_MAX]; /* the reassembly this MO completes, or "" */
    const char *outbox;        /* Redis Cluster: out:{M} (in call.buf), else NULL */
    char *capheap;             /* captures that did not fit in capbuf, or NULL */
    struct redisReply *relayed; /* the script's reply while its outbox is relayed */
    struct sc_req_call call;
    /* Written before read, like the end of call. */
    char text[MAX_TEXT];
    char capbuf[MAX_TEXT + SC_REQ_MAX_CAPS];
};

/* The part of struct req a new request zeroes: the rest (~4 KiB of
 * buffers) is always written before it is read, and zeroing it cost about
 * 4,000 instructions per command (bench/bind_bench.py --callgrind). */
#define REQ_ZEROED offsetof(struct req, call.keys)

static struct req *R(struct sc_req *r) { return (struct req *)r; }

static void log_outcome(struct req *q, enum sc_outcome o, const char *why)
{
    struct sc_app *a = q->app;
    char qt[96];
    sc__metrics_mo(q->route, o, uv_hrtime() - q->t0_ns);
    sc_info("event=mo msisdn=%s service=%s route=%s command=%s outcome=%s%s%s%s ms=%llu",
            SC_LOGV(q->msisdn), SC_LOGV(q->service.addr), q->route ? q->route->name : "-",
            sc_log_quote(qt, sizeof qt, q->text, strlen(q->text)), sc__req_outcome_name(o),
            why ? " reason=\"" : "", why ? why : "", why ? "\"" : "",
            (unsigned long long)(uv_now(a->loop) - q->t0));
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

static int after_reply(const struct req *q)
{
    return q->gen->cfg->limits.ack_policy == SC_ACK_AFTER_REPLY;
}

/* An outcome without a reply: the MO is answered now (outcome.c). */
static void end_with(struct req *q, enum sc_outcome o, const char *why)
{
    struct sc_ack_plan p = sc__req_plan(o, after_reply(q), q->gen->cfg->limits.mo_error_status);
    sc_esme_mo_done(q->app->esme, q->tok, p.status_now);
    if (p.done_now)
        mark_done(q);
    log_outcome(q, o, why);
    req_end(q);
}

void sc_req_fail(struct sc_req *r, const char *why) { end_with(R(r), SC_OUTCOME_FAIL, why); }

void sc_req_silent(struct sc_req *r) { end_with(R(r), SC_OUTCOME_SILENT, NULL); }

/* ack_policy after_reply: the MO is acknowledged ESME_ROK once the SMSC
 * accepted the reply, with the temporary error when the reply failed or
 * was not accepted within limits.reply_hold_ms (the SMSC delivers the MO
 * again and the handler answers again, with what is true then;
 * docs/reliability.md "Replies that survive a crash"). A hold lives until
 * the reply ended (or was withdrawn) and its timer closed. */
struct hold {
    uv_timer_t timer;          /* limits.reply_hold_ms from the send */
    struct sc_app *app;
    struct sc_mo_token tok;
    uint32_t error_status;
    int answered;              /* the MO has its resp */
    char msisdn[SC_ADDR_MAX];
    char longmo[SC_LONGMO_KEY_MAX];
};

static void hold_closed(uv_handle_t *h) { free(h->data); }

/* The hold's work is over: free it once its timer closed. */
static void hold_end(struct hold *p) { uv_close((uv_handle_t *)&p->timer, hold_closed); }

/* The MO's one resp: status is ESME_ROK or the temporary error. */
static void hold_answer(struct hold *p, uint32_t status)
{
    p->answered = 1;
    sc_esme_mo_done(p->app->esme, p->tok, status);
    p->app->inflight--;
}

static void on_reply_accepted(void *arg, int err)
{
    struct hold *p = arg;
    int done;
    uint32_t status = sc__req_mt_ended(err, p->error_status, &done);
    if (err)
        sc_warn("event=reply_failed msisdn=%s error=\"%s\" action=%s", SC_LOGV(p->msisdn),
                sc_strerror(err), p->answered ? "none" : "temporary_error");
    if (!p->answered)
        hold_answer(p, status);
    /* Accepted after the hold expired: the MO got the temporary error, but
     * a long MO's redelivered last part need not run again (its reply is
     * at the SMSC). A one-part MO runs again and answers again. */
    if (done && p->longmo[0])
        sc__longmo_done(p->app, p->msisdn, p->longmo);
    hold_end(p);
}

/* reply_hold_ms passed: a reply none of whose parts went is withdrawn, so
 * the MO's one outcome is the temporary error; one whose parts went may
 * still be accepted (a second reply when the MO comes again). */
static void on_hold_expired(uv_timer_t *t)
{
    struct hold *p = t->data;
    int withdrawn = sc_esme_withdraw(p->app->esme, on_reply_accepted, p);
    sc_warn("event=reply_hold_expired msisdn=%s reply=%s action=temporary_error",
            SC_LOGV(p->msisdn), withdrawn ? "withdrawn" : "in_flight");
    hold_answer(p, p->error_status);
    if (withdrawn)
        hold_end(p);
}

/* Send the reply and answer the MO when its plan says (after_reply: once
 * the SMSC accepted it, through a hold). Returns 0 or SC_E*. */
static int send_reply(struct req *q, const struct sc_ack_plan *plan, const char *text)
{
    struct sc_app *a = q->app;
    struct sc_addr from = q->service;
    from.ton = (uint8_t)q->gen->cfg->smpp.source_ton;
    from.npi = (uint8_t)q->gen->cfg->smpp.source_npi;
    size_t len = strlen(text);
    if (!plan->resp_on_mt) /* resp, then the MT: esme writes them in this order */
        return sc_esme_reply(a->esme, q->tok, &from, &q->subscriber, text, len);
    struct hold *p = malloc(sizeof *p);
    if (!p)
        return SC_ENOMEM;
    int rc = sc_esme_send(a->esme, &from, &q->subscriber, text, len, on_reply_accepted, p);
    if (rc < 0) {
        free(p);
        return rc;
    }
    p->app = a;
    p->tok = q->tok;
    p->error_status = q->gen->cfg->limits.mo_error_status;
    p->answered = 0;
    memcpy(p->msisdn, q->msisdn, sizeof p->msisdn);
    memcpy(p->longmo, q->longmo, sizeof p->longmo);
    uv_timer_init(a->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_hold_expired, (uint64_t)q->gen->cfg->limits.reply_hold_ms, 0);
    a->inflight++; /* held by p until the MO is answered */
    return 0;
}

/* Reply with text; the MO is logged with outcome o (a reply, or the one
 * polite rate_limited reply). */
static void reply_as(struct req *q, const char *text, enum sc_outcome o)
{
    struct sc_ack_plan p = sc__req_plan(o, after_reply(q), q->gen->cfg->limits.mo_error_status);
    int rc = send_reply(q, &p, text);
    if (rc < 0) {
        end_with(q, SC_OUTCOME_FAIL, rc == SC_EBUSY ? "reply queue full" : sc_strerror(rc));
        return;
    }
    if (p.done_now)
        mark_done(q);
    log_outcome(q, o, NULL);
    req_end(q);
}

void sc_req_reply(struct sc_req *r, const char *text) { reply_as(R(r), text, SC_OUTCOME_REPLY); }

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

/* ---- the script call: keys and args ------------------------------------- */

/* Room for n more bytes (and a NUL) in the call's buffer, or NULL (and the
 * call fails). */
static char *call_room(struct sc_req_call *c, size_t n)
{
    if (c->overflow || n + 1 > sizeof c->buf - c->used) {
        c->overflow = 1;
        return NULL;
    }
    return c->buf + c->used;
}

/* Append s (n bytes, in buf or static) as the next key or arg. */
static void call_push(struct sc_req_call *c, int key, const char *s, size_t n)
{
    int max = key ? PRELUDE_KEYS + SC_REQ_MAX_KEYS : PRELUDE_ARGS + SC_REQ_MAX_ARGS;
    int *count = key ? &c->nkeys : &c->nargs;
    if (*count >= max) {
        c->overflow = 1;
        return;
    }
    (key ? c->keys : c->args)[*count] = s;
    (key ? c->keylens : c->arglens)[(*count)++] = n;
}

static void call_copy(struct sc_req_call *c, int key, const char *s)
{
    size_t n = strlen(s);
    char *d = call_room(c, n);
    if (!d)
        return;
    memcpy(d, s, n + 1);
    c->used += n + 1;
    call_push(c, key, d, n);
}

void sc_req_key(struct sc_req_call *c, const char *key) { call_copy(c, 1, key); }

void sc_req_key_m(struct sc_req_call *c, const char *fmt)
{
    char *d = call_room(c, SC_KEY_MAX);
    if (!d)
        return;
    size_t n = sc_key(d, SC_KEY_MAX, fmt, c->msisdn);
    c->used += n + 1;
    call_push(c, 1, d, n);
}

void sc_req_arg(struct sc_req_call *c, const char *arg) { call_copy(c, 0, arg); }

void sc_req_arg_ref(struct sc_req_call *c, const char *arg) { call_push(c, 0, arg, strlen(arg)); }

void sc_req_arg_int(struct sc_req_call *c, long long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
    while ((u /= 10) && n < sizeof tmp - 1);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    char *d = call_room(c, n);
    if (!d)
        return;
    memcpy(d, tmp + sizeof tmp - n, n);
    d[n] = '\0';
    c->used += n + 1;
    call_push(c, 0, d, n);
}

/* The prelude's keys and args, before the handler's (prepare). */
static void call_init(struct req *q)
{
    struct sc_req_call *c = &q->call;
    const struct sc_config *cfg = q->gen->cfg;
    const struct sc_handler *h = q->route->handler;
    c->msisdn = q->msisdn;
    sc_req_key_m(c, SC_KEY_RL);
    sc_req_key_m(c, SC_KEY_PENDING);
    sc_req_arg_int(c, cfg->limits.rate_limit_count);
    sc_req_arg_int(c, cfg->limits.rate_limit_window_s);
    call_push(c, 0, h->continues_dialogue ? "1" : "0", 1);
    const char *types = h->key_types ? h->key_types : "";
    call_push(c, 0, types, strlen(types));
}

/* The script's keys joined with ",", for error logs. */
static const char *call_keys(const struct sc_req_call *c, char *out, size_t outsz)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < c->nkeys && o + c->keylens[i] + 2 <= outsz; i++) {
        if (i)
            out[o++] = ',';
        memcpy(out + o, c->keys[i], c->keylens[i] + 1);
        o += c->keylens[i];
    }
    return out;
}

/* ---- the script's result -------------------------------------------------- */

static void log_bad_data(struct req *q, const struct sc_verdict *v)
{
    char keys[256], e[320];
    if (v->error) {
        sc_error("event=bad_data msisdn=%s route=%s keys=%s error=%s", SC_LOGV(q->msisdn),
                 q->route->name, call_keys(&q->call, keys, sizeof keys),
                 sc_log_quote(e, sizeof e, v->error, v->error_len));
        return;
    }
    /* Type names come from Redis TYPE and the prelude: plain words. */
    sc_error("event=bad_data msisdn=%s route=%s key=%s type=%s expected=%s", q->msisdn,
             q->route->name, sc_log_quote(e, sizeof e, v->bad[0], strlen(v->bad[0])), v->bad[1],
             v->bad[2]);
}

static void log_script_error(struct req *q, const struct sc_verdict *v, const redisReply *rep)
{
    char keys[256], e[320];
    if (v->error)
        sc_error("event=script_error msisdn=%s route=%s keys=%s error=%s", SC_LOGV(q->msisdn),
                 q->route->name, call_keys(&q->call, keys, sizeof keys),
                 sc_log_quote(e, sizeof e, v->error, v->error_len));
    else
        sc_error("event=script_error msisdn=%s route=%s error=\"unexpected reply type %d\"",
                 SC_LOGV(q->msisdn), q->route->name, rep->type);
}

static void script_done(struct req *q, int err, struct redisReply *rep)
{
    struct sc_verdict v;
    sc__req_verdict(err, rep, &v);
    switch (v.kind) {
    case SC_VERDICT_RESULT:
        q->route->handler->result(&q->pub, q->route->opts, v.elems, v.nelems);
        return;
    case SC_VERDICT_RATE_FIRST: {
        char out[MAX_REPLY];
        sc_req_render(&q->pub, "rate_limited", NULL, out, sizeof out);
        reply_as(q, out, SC_OUTCOME_RATE_REPLY);
        return;
    }
    case SC_VERDICT_RATE_AGAIN:
        end_with(q, SC_OUTCOME_RATE_SILENT, NULL);
        return;
    case SC_VERDICT_BAD_DATA:
        log_bad_data(q, &v);
        sc_req_reply_tpl(&q->pub, "service_error", NULL);
        return;
    case SC_VERDICT_FAIL:
        if (!err)
            log_script_error(q, &v, rep);
        end_with(q, SC_OUTCOME_FAIL, v.why);
        return;
    }
}

/* The outbox's entries were relayed (or not: the MO gets the temporary
 * error and runs again, and that run returns them again). */
static void on_relayed(void *arg, int err)
{
    struct req *q = arg;
    struct redisReply *rep = q->relayed;
    q->relayed = NULL;
    if (err)
        sc_req_fail(&q->pub, "relay failed");
    else
        script_done(q, 0, rep);
    sc__reply_free(rep);
}

/* On a cluster the script's last element is its outbox (sc__req_script):
 * relayed before the result is acted on, so that the MO is answered only
 * once every global write it made is in its global key. */
static void on_script(void *ctx, int err, struct redisReply *rep)
{
    struct req *q = ctx;
    if (err || !q->outbox || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
        script_done(q, err, rep);
        return;
    }
    struct redisReply *box = rep->element[--rep->elements];
    if (box->type != REDIS_REPLY_ARRAY || box->elements == 0) {
        script_done(q, 0, rep);
        rep->elements++;
        return;
    }
    q->relayed = sc__reply_dup(rep);
    rep->elements++;
    int rc = q->relayed ? sc__relay(q->app->store, q->outbox, box, on_relayed, q) : SC_ENOMEM;
    if (rc < 0) {
        sc__reply_free(q->relayed);
        q->relayed = NULL;
        sc_req_fail(&q->pub, rc == SC_ENOMEM ? "out of memory" : "relay failed");
    }
}

/* On a cluster: the subscriber's outbox as the last key, standing in for
 * every global key (one without a hash tag) the handler named. */
static void use_outbox(struct req *q)
{
    struct sc_req_call *c = &q->call;
    char *d = call_room(c, SC_KEY_MAX);
    if (!d)
        return;
    size_t len = sc_key(d, SC_KEY_MAX, SC_KEY_OUTBOX, c->msisdn);
    c->used += len + 1;
    for (int i = PRELUDE_KEYS; i < c->nkeys; i++)
        if (!memchr(c->keys[i], '{', c->keylens[i])) {
            c->keys[i] = d;
            c->keylens[i] = len;
        }
    c->keys[c->nkeys] = d; /* keys[] has room for it */
    c->keylens[c->nkeys++] = len;
    q->outbox = d;
}

/* The one EVALSHA: the handler's script (or the prelude alone) with the
 * call's keys and args. */
static void eval(struct req *q)
{
    struct sc_app *a = q->app;
    const struct sc_req_call *c = &q->call;
    if (c->overflow) {
        sc_error("event=script_error route=%s error=\"too many keys or args\"", q->route->name);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    if (c->arglens[ARG_KEY_TYPES] != (size_t)(c->nkeys - PRELUDE_KEYS)) {
        /* Every key a script touches must have its type declared. */
        sc_error("event=script_error route=%s error=\"key_types does not match the keys\"",
                 q->route->name);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    if (q->pub.cluster)
        use_outbox(q);
    if (c->overflow) {
        sc_error("event=script_error route=%s error=\"no room for the outbox key\"",
                 q->route->name);
        sc_req_fail(&q->pub, "script error");
        return;
    }
    int script = a->script_ids[q->route->handler_index];
    if (script < 0)
        script = a->rate_script; /* no script of its own: the prelude alone */
    int rc = sc_store_eval(a->store, script, c->nkeys, c->keys, c->keylens, c->nargs, c->args,
                           c->arglens, on_script, q);
    if (rc < 0)
        sc_req_fail(&q->pub, rc == SC_EAGAIN ? "redis unavailable" : sc_strerror(rc));
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
    struct req *q = malloc(sizeof *q);
    if (!q) {
        sc_esme_mo_done(a->esme, tok, cfg->limits.mo_error_status);
        return;
    }
    memset(q, 0, REQ_ZEROED);
    a->inflight++;
    q->app = a;
    q->gen = a->gen;
    q->gen->refs++;
    q->tok = tok;
    q->t0 = uv_now(a->loop);
    q->t0_ns = uv_hrtime();
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
                                       cfg->limits.redelivery_horizon_s,
                                       cfg->limits.refund_unconfirmed,
                                       cfg->limits.refund_max_months,
                                       cfg->smpp.max_parts, cfg->smpp.seg_mode};
    q->pub.limits = &q->limits;
    q->pub.catalogue = a->cat;
    q->pub.cluster = sc_store_is_cluster(a->store);
    q->pub.callout = a->callout;

    regmatch_t m[SC_REQ_MAX_CAPS];
    q->route = sc_router_match(q->gen->router, q->service.addr, q->text, m, SC_REQ_MAX_CAPS);
    if (!q->route) {
        end_with(q, SC_OUTCOME_NO_ROUTE, NULL);
        return;
    }
    q->pub.route = q->route->name;
    if (set_caps(q, m) < 0) {
        sc_req_fail(&q->pub, "out of memory");
        return;
    }
    if (!sc_store_ready(a->store)) {
        sc_req_fail(&q->pub, "redis unavailable");
        return;
    }
    /* One shape for every handler: its keys and args, the one EVALSHA,
     * then its result() from on_script. */
    call_init(q);
    if (q->route->handler->prepare)
        q->route->handler->prepare(&q->pub, q->route->opts, &q->call);
    eval(q);
}
