/* vas_text.c -- what the VAS handlers share to build their replies:
 * a reply from templates, service names and fees from the catalogue, fee
 * totals, the "cancelled before at T" (gone) lines, the keys of the
 * cancelling scripts (handlers/vas_int.h). */
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "handlers/vas_int.h"
#include "store/keys.h"
#include "text/text.h"

void sc__vas_text_init(struct vas_text *t)
{
    t->len = 0;
    t->s[0] = '\0';
}

void sc__vas_text_add(struct vas_text *t, const char *s)
{
    size_t room = sizeof t->s - t->len;
    size_t n = strlen(s);
    if (n >= room)
        n = room - 1; /* never reached with the bounds above; keeps the NUL */
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

void sc__vas_text_tpl(struct vas_text *t, struct sc_req *req, const char *tpl,
                      const char *const *values)
{
    size_t room = sizeof t->s - t->len;
    size_t n = sc_req_render(req, tpl, values, t->s + t->len, room);
    t->len += n < room ? n : strlen(t->s + t->len);
}

/* A new line (when t is not empty), then the template. */
void sc__vas_text_line(struct vas_text *t, struct sc_req *req, const char *tpl,
                       const char *const *values)
{
    if (t->len)
        sc__vas_text_add(t, "\n");
    sc__vas_text_tpl(t, req, tpl, values);
}

/* Element i of a script result as a string, or NULL. */
const char *sc__vas_el_str(struct redisReply *const *e, size_t n, size_t i)
{
    return i < n && e[i]->type == REDIS_REPLY_STRING ? e[i]->str : NULL;
}

/* Name of a service for texts: the catalogue name on one line (control
 * characters from the feed become spaces), cut to VAS_NAME_CHARS characters,
 * or the code when the catalogue does not know it. */
const char *sc__vas_svc_name(const struct sc_service *svc, const char *code, char *out,
                             size_t outsz)
{
    char line[512];
    const char *raw = svc && svc->name && svc->name[0] ? svc->name : code;
    size_t len = sc_text_one_line(raw, strlen(raw), line, sizeof line);
    const char *name = len ? line : code;
    if (!len)
        len = strlen(code);
    /* Fewer bytes than VAS_NAME_CHARS: fewer characters too, no walk. */
    size_t i = len <= VAS_NAME_CHARS ? len : sc_utf8_prefix(name, len, VAS_NAME_CHARS);
    if (i == len || i + sizeof "…" > outsz) {
        sc_strlcpy(out, name, outsz); /* short enough (or a huge code: cut anywhere) */
        return out;
    }
    memcpy(out, name, i);
    memcpy(out + i, "…", sizeof "…");
    return out;
}

/* The monthly fee of a service in fen, or -1 when unknown or not a number. */
long long sc__vas_svc_fee(const struct sc_service *svc)
{
    return svc && svc->price_fen >= 0 ? svc->price_fen : -1;
}

void sc__vas_fee_add(struct fee_sum *sum, long long fee)
{
    if (fee < 0 || fee > LLONG_MAX - sum->fen)
        sum->unknown++;
    else
        sum->fen += fee;
}

/* Values for {total} and {unknown}: "15元" and "（1项资费未知）" (the
 * vas_fee_unknown template) or "" when every fee is known. */
void sc__vas_fee_texts(struct sc_req *req, const struct fee_sum *sum, char *total,
                       size_t totalsz, char *unknown, size_t unknownsz)
{
    sc_fmt_fen(sum->fen, total, totalsz);
    unknown[0] = '\0';
    if (sum->unknown) {
        char count[24];
        snprintf(count, sizeof count, "%zu", sum->unknown);
        sc_req_render(req, "vas_fee_unknown", (const char *const[]){count}, unknown, unknownsz);
    }
}

void sc__vas_gone_init(struct vas_gone *g)
{
    sc__vas_text_init(&g->items);
    g->n = 0;
}

void sc__vas_gone_add(struct vas_gone *g, struct sc_req *req, const char *code, const char *at)
{
    char name[128], when[48];
    sc__vas_svc_name(sc_catalogue_get(req->catalogue, code), code, name, sizeof name);
    if (g->n++)
        sc__vas_text_add(&g->items, "，");
    sc__vas_text_tpl(&g->items, req, "vas_gone_item",
                     (const char *const[]){name, code, sc_fmt_past_time_text(at, when, sizeof when)});
}

/* The keys in the order of VAS_LUA_CANCEL (vas_lua.c). */
void sc__vas_cancel_keys(struct sc_req_call *call, char more)
{
    sc_req_key_m(call, SC_KEY_SUB);
    sc_req_key(call, SC_KEY_EVENTS);
    sc_req_key_m(call, SC_KEY_AUDIT);
    sc_req_key_m(call, SC_KEY_GONE);
    sc_req_key_m(call, SC_KEY_CONF);
    if (more)
        sc_req_key(call, SC_KEY_SVC_PREFIX);
    if (more == 'i')
        sc_req_key_m(call, SC_KEY_ITEMS);
    else if (more == 'a')
        sc_req_key_m(call, SC_KEY_ALLGONE);
}

/* 00:00 local time on the 1st of the month `back` months before now's
 * (back < 0: after), or -1. mktime normalises a month out of 0..11. */
static long long month_start(long long now, int back)
{
    time_t t = (time_t)now;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return -1;
    struct tm m = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon - back, .tm_mday = 1,
                   .tm_isdst = -1};
    return (long long)mktime(&m);
}

int sc__vas_month_starts(long long now, int max_months, char *out, size_t outsz)
{
    if (max_months < 1 || max_months > SC_REFUND_MAX_MONTHS || outsz < 1)
        return -1;
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < max_months - 1; i++) {
        long long start = month_start(now, i);
        int w = snprintf(out + o, outsz - o, "%s%lld", i ? "," : "", start);
        if (start == -1 || w < 0 || (size_t)w >= outsz - o)
            return -1;
        o += (size_t)w;
    }
    return (int)o;
}

/* The month starts change once a month: kept for the month they were made
 * in (a new TZ is seen at the next month's start). One thread: a static is
 * enough. */
static const char *month_starts_cached(const struct sc_req_limits *l)
{
    static struct {
        long long from, until;
        int max;
        char s[VAS_MONTH_STARTS_MAX];
    } c = {0, 0, 0, ""};
    long long now = (long long)time(NULL);
    if (c.max == l->refund_max_months && now >= c.from && now < c.until)
        return c.s;
    c.max = 0;
    c.from = month_start(now, 0);
    c.until = month_start(now, -1);
    if (sc__vas_month_starts(now, l->refund_max_months, c.s, sizeof c.s) < 0)
        c.s[0] = '\0'; /* not with a checked config; then only the current month counts */
    else if (c.from != -1 && c.until != -1)
        c.max = l->refund_max_months;
    return c.s;
}

void sc__vas_cancel_args(struct sc_req_call *call, const struct sc_req *req)
{
    sc_req_arg(call, req->msisdn);
    sc_req_arg_int(call, req->limits->redelivery_horizon_s);
    sc_req_arg(call, req->limits->refund_unconfirmed ? "1" : "0");
    sc_req_arg(call, req->limits->refund_unconfirmed ? month_starts_cached(req->limits) : "");
}

void sc__vas_refunds_init(struct vas_refunds *r)
{
    sc__vas_text_init(&r->items);
    r->n = 0;
    r->total = (struct fee_sum){0, 0};
}

void sc__vas_refunds_add(struct vas_refunds *r, struct sc_req *req, const char *code,
                         const char *amount, const char *months)
{
    if (!months || !*months)
        return;
    char name[128], fee[32], *end = NULL;
    long long fen = amount && *amount ? strtoll(amount, &end, 10) : -1;
    if (fen >= 0 && *end)
        fen = -1;
    sc__vas_fee_add(&r->total, fen);
    sc__vas_svc_name(sc_catalogue_get(req->catalogue, code), code, name, sizeof name);
    if (r->n++)
        sc__vas_text_add(&r->items, "、");
    sc__vas_text_tpl(&r->items, req, "vas_refund_item",
                     (const char *const[]){name, code, sc_fmt_fen(fen, fee, sizeof fee), months});
}

void sc__vas_refunds_line(struct vas_text *t, struct sc_req *req, const struct vas_refunds *r)
{
    if (!r->n)
        return;
    char count[24], tot[32], unknown[96];
    snprintf(count, sizeof count, "%zu", r->n);
    sc__vas_fee_texts(req, &r->total, tot, sizeof tot, unknown, sizeof unknown);
    sc__vas_text_line(t, req, "vas_refund", (const char *const[]){r->items.s, count, tot, unknown});
}

/* A script returned something its result() cannot read: a bug. */
void sc__vas_bad_result(struct sc_req *req, const char *handler)
{
    sc_error("event=script_result_bad handler=%s msisdn=%s", handler, req->msisdn);
    sc_req_fail(req, "unexpected script result");
}

/* The one fee-sum loop (vas_int.h). */
int sc__vas_codes_sum(struct sc_req *req, struct redisReply *const *e, size_t n, size_t from,
                      size_t to, size_t step, struct fee_sum *sum, struct vas_text *names,
                      const struct sc_service **svcs)
{
    char name[128];
    for (size_t i = from, k = 0; i < to; i += step, k++) {
        const char *code = sc__vas_el_str(e, n, i);
        if (!code)
            return -1;
        const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
        sc__vas_fee_add(sum, sc__vas_svc_fee(svc));
        if (svcs)
            svcs[k] = svc;
        if (names) {
            sc__vas_text_add(names, i > from ? "、" : "");
            sc__vas_text_add(names, sc__vas_svc_name(svc, code, name, sizeof name));
        }
    }
    return 0;
}
