/* order_push.c -- how a vas:orders entry's confirmation SMS goes out
 * (core/orders_int.h): a push (its mt:push id, the script that writes it with
 * the entry's XACK; on a Redis Cluster, two commands), or, without the push
 * intake (mt.enabled false), straight to the esme. */
#include "core/orders_int.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/orders.h"
#include "core/stream.h"
#include "handlers/order.h"
#include "store/keys.h"

#define PROMPT_MAX 2048

/* The SMS is at every moment in one stream: vas:orders until this script
 * ran, mt:push from then on (the push path sends, records and, after a
 * crash, re-sends it). {"ok", push entry id}. */
const char sc__order_push_lua[] =
    "local f = {}\n"
    "for i = 3, #ARGV do f[#f + 1] = ARGV[i] end\n"
    "local nid = redis.call('XADD', KEYS[1], '*', unpack(f))\n"
    "redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "return {'ok', nid}\n";

void sc_order_push_id(const char *provider, const char *order_id, char *out, size_t outsz)
{
    /* FNV-1a, 64 bits, over provider NUL order id: an order id is unique
     * per provider only. 64 bits: two orders share an id within the dedup
     * horizon with a chance of about 2^-64 a pair. */
    uint64_t h = 14695981039346656037ull;
    for (const char *s = provider;; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
        if (!*s)
            break;
    }
    for (const char *s = order_id; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    snprintf(out, outsz, "order:%016llx", (unsigned long long)h);
}

/* On a Redis Cluster mt:push and vas:orders are on two slots: the XADD,
 * then the XACK (a crash between: the entry is claimed again and makes the
 * same push id, which the push path sends once). cb gets what the script
 * would answer, {"ok", push entry id}, once the XADD is written. */
struct split {
    sc_store_cb cb;
    void *ctx;
    struct sc_store *st;
    char entry[48], group[32];
};

static void on_split_ack(void *ctx, int err, redisReply *rep)
{
    (void)ctx;
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_warn("event=order_ack_failed msg=\"claimed again later; the same push id\"");
}

static void on_split_xadd(void *ctx, int err, redisReply *rep)
{
    struct split *p = ctx;
    if (err || rep->type != REDIS_REPLY_STRING) {
        p->cb(p->ctx, err, rep);
        free(p);
        return;
    }
    const char *argv[] = {"XACK", SC_KEY_ORDERS, p->group, p->entry};
    if (sc_store_command(p->st, 4, argv, NULL, on_split_ack, NULL) < 0)
        sc_warn("event=order_ack_failed entry=%s msg=\"claimed again later\"", p->entry);
    redisReply ok = {.type = REDIS_REPLY_STRING, .str = "ok", .len = 2};
    redisReply *el[] = {&ok, rep};
    redisReply out = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = el};
    p->cb(p->ctx, 0, &out);
    free(p);
}

static int push_split(struct sc_store *st, const char *const *args, size_t nargs, sc_store_cb cb,
                      void *ctx)
{
    struct split *p = calloc(1, sizeof *p);
    if (!p)
        return SC_ENOMEM;
    p->cb = cb;
    p->ctx = ctx;
    p->st = st;
    sc_strlcpy(p->entry, args[0], sizeof p->entry);
    sc_strlcpy(p->group, args[1], sizeof p->group);
    const char *argv[3 + 16] = {"XADD", SC_KEY_MT_PUSH, "*"};
    size_t n = 3;
    for (size_t i = 2; i < nargs && n < SC_ARRAY_LEN(argv); i++)
        argv[n++] = args[i];
    int rc = sc_store_write(st, (int)n, argv, NULL, on_split_xadd, p);
    if (rc < 0)
        free(p);
    return rc;
}

/* XADD mt:push the confirmation and XACK the entry (the one script, or
 * push_split): cb gets {"ok", push entry id}. Returns 0, or what the store
 * returned (cb not called). Strings are copied. */
static int push_store(struct sc_store *st, int script, const struct sc_config *cfg,
                      const char *entry, const char *group, const char *push_id, const char *to,
                      const char *text, sc_store_cb cb, void *ctx)
{
    char prio[4], not_after[24];
    snprintf(prio, sizeof prio, "%d", cfg->mt.order_priority);
    snprintf(not_after, sizeof not_after, "%lld",
             ((long long)time(NULL) + cfg->limits.confirm_ttl_s) * 1000);
    const char *keys[] = {SC_KEY_MT_PUSH, SC_KEY_ORDERS};
    const char *args[] = {entry, group, "id", push_id, "to", to, "text", text,
                          "from", cfg->service_numbers[0], "kind", "order", "priority", prio,
                          "not_after", not_after, "quiet", cfg->mt.order_quiet ? "1" : "0"};
    if (sc_store_is_cluster(st))
        return push_split(st, args, SC_ARRAY_LEN(args), cb, ctx);
    return sc_store_eval(st, script, 2, keys, NULL, (int)SC_ARRAY_LEN(args), args, NULL, cb,
                         ctx);
}

/* ---- the two ways out ---------------------------------------------------------- */

static void on_pushed(void *ctx, int err, redisReply *rep)
{
    struct sc__order_sms *s = ctx;
    const char *st = err ? NULL : sc__reply_str(rep, 0);
    if (!st) {
        sc_warn("event=order_push_failed entry=%s msisdn=%s error=\"%s\" msg=\"claimed "
                "again later\"", s->entry, s->msisdn,
                err ? sc_strerror(err) : rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
        s->done(s->ctx, SC__ORDER_UNSENT);
        return;
    }
    sc_info("event=order_pushed entry=%s msisdn=%s service=%s order=%s push_id=%s", s->entry,
            s->msisdn, s->code, SC_LOGV(s->id), s->push_id);
    s->done(s->ctx, SC__ORDER_PUSHED);
}

static void on_sms(void *arg, int err)
{
    struct sc__order_sms *s = arg;
    if (err) {
        sc_warn("event=order_sms_failed entry=%s msisdn=%s error=\"%s\" msg=\"sent again once "
                "claimed\"", s->entry, s->msisdn, sc_strerror(err));
        s->done(s->ctx, SC__ORDER_UNSENT);
        return;
    }
    sc_info("event=order_sms_accepted entry=%s msisdn=%s service=%s", s->entry, s->msisdn,
            s->code);
    s->done(s->ctx, SC__ORDER_ACCEPTED);
}

static size_t router_render(void *arg, const char *tpl, const char *const *values, char *out,
                            size_t outsz)
{
    const struct sc_tpl *t = sc_router_template(arg, tpl);
    if (!t) {
        if (outsz)
            out[0] = '\0';
        return 0;
    }
    return sc_tpl_render(t, values, out, outsz);
}

void sc__order_send(struct sc_app *a, int push_script, struct sc__order_sms *s,
                    const char *replaced)
{
    const struct sc_config *cfg = a->gen->cfg;
    char text[PROMPT_MAX];
    sc_order_prompt(a->cat, s->code, cfg->limits.confirm_ttl_s, replaced, router_render,
                    a->gen->router, text, sizeof text);
    if (a->pushes) {
        if (push_store(a->store, push_script, cfg, s->entry, s->group, s->push_id, s->to, text,
                       on_pushed, s) < 0)
            on_pushed(s, SC_EAGAIN, NULL);
        return;
    }
    struct sc_addr from = {(uint8_t)cfg->smpp.source_ton, (uint8_t)cfg->smpp.source_npi, ""};
    struct sc_addr to = {0, 0, ""};
    sc_strlcpy(from.addr, cfg->service_numbers[0], sizeof from.addr);
    sc_strlcpy(to.addr, s->to, sizeof to.addr);
    int rc = a->esme ? sc_esme_send(a->esme, &from, &to, text, strlen(text), on_sms, s)
                     : SC_ECLOSED;
    if (rc < 0)
        on_sms(s, rc);
    else
        sc_info("event=order_sms_queued entry=%s msisdn=%s service=%s", s->entry, s->msisdn,
                s->code);
}
