/* lltx.c -- "data_reminder" (LLTX N / LLTX 0): the subscriber's own data reminder threshold.
 *
 * Redis: rem:{M} HASH field data_pct = N (percent of the cycle's data quota
 * at which the Reminders feature texts the subscriber); "LLTX 0" deletes
 * the field. One script, one round trip. Idempotent: setting the same value
 * or deleting an absent field again changes nothing, and the reply says
 * what is true afterwards (a repeated "LLTX 0" answers that no reminder is
 * set). A number out of range writes nothing and answers with the range;
 * the command still runs the script, so the rate limit counts it. */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "config/schema.h"
#include "handlers/handler.h"
#include "handlers/query.h"
#include "store/keys.h"

struct lltx_opts {
    int min, max;
};

static int lltx_check(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                      const char *path)
{
    const struct lltx_opts *o = obj;
    if (o->min > o->max)
        return sc_schema_error(ctx, map, "%s: min (%d) is above max (%d)", path, o->min, o->max);
    return 0;
}

static const struct sc_field lltx_fields[] = {
    {"min", SC_FT_INT, offsetof(struct lltx_opts, min), 0, .min = 1, .max = 100, .def = "50"},
    {"max", SC_FT_INT, offsetof(struct lltx_opts, max), 0, .min = 1, .max = 100, .def = "99"},
    {.name = NULL},
};

static const struct sc_schema lltx_schema = {lltx_fields, sizeof(struct lltx_opts), lltx_check};

static const struct sc_tpl_decl lltx_templates[] = {
    SC_TPL_DECL("lltx_set", "pct"),
    {"lltx_cleared", NULL, 0},
    {"lltx_not_set", NULL, 0},
    SC_TPL_DECL("lltx_range", "min", "max"),
    {NULL, NULL, 0},
};

/* K[1] rem:{M}; A[1] "set", "clear" or "none" (out of range: read only),
 * A[2] the percentage for "set". Returns {what was set before, or ""}. */
static const char lltx_lua[] =
    "local old = redis.call('HGET', K[1], 'data_pct') or ''\n"
    "if A[1] == 'set' then\n"
    "  redis.call('HSET', K[1], 'data_pct', A[2])\n"
    "elseif A[1] == 'clear' and old ~= '' then\n"
    "  redis.call('HDEL', K[1], 'data_pct')\n"
    "end\n"
    "return {old}\n";

/* The number after "LLTX": the route's first capture, else the digits at
 * the end of the text. -1 when there is none or it is not a number. */
static long long lltx_number(const struct sc_req *req)
{
    const char *s = req->ncaps > 1 && req->caps[1] ? req->caps[1] : req->text;
    if (s == req->text) {
        size_t n = strlen(s), d = n;
        while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9')
            d--;
        s += d;
    }
    long long v;
    return *s && strlen(s) <= 3 && sc_parse_int(s, &v) == 0 ? v : -1;
}

static void on_lltx(struct sc_req *req, const void *opts, struct redisReply *const *e, size_t n)
{
    const struct lltx_opts *o = opts;
    long long v = lltx_number(req);
    if (n != 1 || e[0]->type != REDIS_REPLY_STRING) {
        sc_error("event=script_result_bad handler=data_reminder msisdn=%s", SC_LOGV(req->msisdn));
        sc_req_fail(req, "bad script result");
        return;
    }
    char pct[16], lo[16], hi[16];
    if (v == 0) {
        sc_req_reply_tpl(req, e[0]->str[0] ? "lltx_cleared" : "lltx_not_set", NULL);
    } else if (v >= o->min && v <= o->max) {
        snprintf(pct, sizeof pct, "%lld", v);
        sc_req_reply_tpl(req, "lltx_set", (const char *const[]){pct});
    } else {
        snprintf(lo, sizeof lo, "%d", o->min);
        snprintf(hi, sizeof hi, "%d", o->max);
        sc_req_reply_tpl(req, "lltx_range", (const char *const[]){lo, hi});
    }
}

/* The script's key and what to do (handlers/handler.h). */
static void lltx_prepare(const struct sc_req *req, const void *opts, struct sc_req_call *call)
{
    const struct lltx_opts *o = opts;
    long long v = lltx_number(req);
    sc_req_key_m(call, SC_KEY_REM);
    sc_req_arg(call, v == 0 ? "clear" : v >= o->min && v <= o->max ? "set" : "none");
    sc_req_arg_int(call, v);
}

const struct sc_handler sc_handler_data_reminder = {
    .name = "data_reminder",
    .summary = "set (LLTX N) or clear (LLTX 0) the subscriber's data reminder threshold, rem:{M}",
    .options = &lltx_schema,
    .templates = lltx_templates,
    .script = lltx_lua,
    .key_types = "h",
    .prepare = lltx_prepare,
    .result = on_lltx,
};
