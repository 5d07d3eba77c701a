/* bill.c -- "bill" (CXZD / ZD): the last cycle's bill itemised, with the names of the VAS paid for.
 *
 * Redis, read only, one script: acct:{M} gives the current cycle (YYYYMM)
 * and the plan name; the last cycle is the month before it, or, when the
 * cycle is absent or not a YYYYMM, the month before the current month in
 * the daemon's local time (passed as an argument). The bill is the hash
 * bill:{M}:YYYYMM of that month (plan_fen voice_fen data_fen sms_fen vas_fen
 * other_fen discount_fen total_fen); sub:{M}:vas names the services for the
 * VAS line (the current subscriptions, oldest first, named from the
 * catalogue). Nothing is written (the request layer adds its rate limit),
 * so a redelivered CXZD is answered the same.
 *
 * Why C and not a lookup route: the bill's key depends on a field of
 * another key (the cycle), and the VAS line joins names from the catalogue,
 * which a lookup's expressions cannot do. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "handlers/bill_text.h"
#include "handlers/catalogue.h"
#include "handlers/handler.h"
#include "handlers/query.h"
#include "store/keys.h"

#define BILL_CODES 20         /* subscriptions the script returns for the VAS line */
#define BILL_NAMES 6          /* services named; more are counted (bill_vas_more) */
#define BILL_NAME_CHARS 10    /* a longer service name is cut, with "…" */
#define BILL_TEXT_MAX 2048
#define BILL_STR_(x) #x
#define BILL_STR(x) BILL_STR_(x)

/* K[1] acct:{M}, K[2] sub:{M}:vas, K[3] "bill:{M}:" (a prefix, declared so
 * that the script runs on the subscriber's cluster slot; the script appends
 * the month: the key depends on acct's cycle, so it cannot be passed whole);
 * A[1] the month before the current one (YYYYMM), for a missing cycle.
 * Returns {"none", month}, {"bad", key, type} (the bill is not a hash), or
 * {"bill", month, plan name or "", the 8 items ("" when absent), codes
 * subscribed (oldest first, at most BILL_CODES)...}. */
static const char bill_lua[] =
    "local a = redis.call('HMGET', K[1], 'cycle', 'plan')\n"
    "local y, m = string.match(a[1] or '', '^(%d%d%d%d)(%d%d)$')\n"
    "y, m = tonumber(y), tonumber(m)\n"
    "local month = A[1]\n"
    "if y and m and m >= 1 and m <= 12 then\n"
    "  if m == 1 then y, m = y - 1, 12 else m = m - 1 end\n"
    "  month = string.format('%04d%02d', y, m)\n"
    "end\n"
    "local key = K[3] .. month\n"
    "local t = redis.call('TYPE', key).ok\n"
    "if t == 'none' then return {'none', month} end\n"
    "if t ~= 'hash' then return {'bad', key, t} end\n"
    "local v = redis.call('HMGET', key, 'plan_fen', 'voice_fen', 'data_fen', 'sms_fen',\n"
    "                     'vas_fen', 'other_fen', 'discount_fen', 'total_fen')\n"
    "local out = {'bill', month, a[2] or ''}\n"
    "for i = 1, 8 do out[#out + 1] = v[i] or '' end\n"
    "local h = redis.call('HGETALL', K[2])\n"
    "local subs = {}\n"
    "for i = 1, #h, 2 do subs[#subs + 1] = {h[i], tonumber(h[i + 1]) or math.huge} end\n"
    "table.sort(subs, function(p, q)\n"
    "  if p[2] ~= q[2] then return p[2] < q[2] end\n"
    "  return p[1] < q[1]\n"
    "end)\n"
    "for i = 1, math.min(#subs, " BILL_STR(BILL_CODES) ") do out[#out + 1] = subs[i][1] end\n"
    "return out\n";

/* The names the catalogue knows of codes[0..n), joined with "、" (at most
 * BILL_NAMES, then bill_vas_more with the count of the others). */
static void vas_names(struct sc_req *req, struct redisReply *const *codes, size_t n, char *out,
                      size_t outsz)
{
    size_t o = 0, named = 0, more = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const struct sc_service *svc =
            codes[i]->type == REDIS_REPLY_STRING ? sc_catalogue_get(req->catalogue, codes[i]->str)
                                                 : NULL;
        if (!svc || !svc->name || !svc->name[0])
            continue; /* not known: not named */
        if (named == BILL_NAMES) {
            more++;
            continue;
        }
        char name[64];
        sc_text_short(svc->name, BILL_NAME_CHARS, name, sizeof name);
        size_t sep = named ? sizeof "、" - 1 : 0, len = strlen(name);
        if (o + sep + len >= outsz)
            break;
        memcpy(out + o, "、", sep);
        memcpy(out + o + sep, name, len + 1);
        o += sep + len;
        named++;
    }
    if (more && o < outsz) {
        char count[24];
        snprintf(count, sizeof count, "%zu", more);
        sc_req_render(req, "bill_vas_more", (const char *const[]){count}, out + o, outsz - o);
    }
}

/* sc_bill_render_fn over the request's templates. */
static size_t render(void *arg, const char *tpl, const char *const *values, char *out,
                     size_t outsz)
{
    return sc_req_render(arg, tpl, values, out, outsz);
}

static void on_bill(struct sc_req *req, const void *opts, struct redisReply *const *e, size_t n)
{
    (void)opts;
    for (size_t i = 0; i < n; i++)
        if (e[i]->type != REDIS_REPLY_STRING)
            n = 0; /* no element of this script is anything else */
    const char *st = n ? e[0]->str : "";
    char month[32];
    if (strcmp(st, "none") == 0 && n == 2) {
        sc_req_reply_tpl(req, "bill_none",
                         (const char *const[]){sc_bill_month_text(e[1]->str, month, sizeof month)});
        return;
    }
    if (strcmp(st, "bad") == 0 && n == 3) {
        /* Damaged data: the query cannot be answered, redelivery cannot help. */
        char key[160];
        sc_error("event=bad_data msisdn=%s route=bill key=%s type=%s expected=hash",
                 SC_LOGV(req->msisdn), sc_log_quote(key, sizeof key, e[1]->str, e[1]->len),
                 SC_LOGV(e[2]->str));
        sc_req_reply_tpl(req, "service_error", NULL);
        return;
    }
    if (strcmp(st, "bill") != 0 || n < 3 + SC_BILL_ITEMS) {
        sc_error("event=script_result_bad handler=bill msisdn=%s", SC_LOGV(req->msisdn));
        sc_req_fail(req, "bad script result");
        return;
    }
    char names[512], text[BILL_TEXT_MAX];
    struct sc_bill b = {.month = e[1]->str, .plan = e[2]->str, .services = names};
    for (size_t i = 0; i < SC_BILL_ITEMS; i++)
        b.items[i] = e[3 + i]->str;
    vas_names(req, e + 3 + SC_BILL_ITEMS, n - 3 - SC_BILL_ITEMS, names, sizeof names);
    sc_bill_text(&b, 0, render, req, text, sizeof text);
    sc_req_reply(req, text);
}

/* The script's keys and the fallback month (handlers/handler.h). */
static void bill_prepare(const struct sc_req *req, const void *opts, struct sc_req_call *call)
{
    (void)req;
    (void)opts;
    char prev[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon; /* tm_mon 0..11: the month before, 1-based */
    if (m == 0) {
        y--;
        m = 12;
    }
    snprintf(prev, sizeof prev, "%04d%02d", y % 10000, m);
    sc_req_key_m(call, SC_KEY_ACCT);
    sc_req_key_m(call, SC_KEY_SUB);
    sc_req_key_m(call, SC_KEY_BILL_PREFIX);
    sc_req_arg(call, prev);
}

const struct sc_handler sc_handler_bill = {
    .name = "bill",
    .summary = "the last cycle's bill (bill:{M}:YYYYMM) itemised, VAS named from the catalogue",
    .templates = sc_bill_templates,
    .script = bill_lua,
    .key_types = "hhh",
    .prepare = bill_prepare,
    .result = on_bill,
};
