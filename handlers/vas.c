/* vas.c -- VAS self-service: "0000" list, reply-number cancel, "00000" + confirm, "TD<code>".
 *
 * Redis data. What a subscriber pays for is the hash sub:{M}:vas (service
 * code -> unix seconds the subscription started), written by billing feeds;
 * names and fees come from the cached catalogue (sc_req_service). Every
 * cancellation, in one Lua script per MO (one round trip), appends one entry
 * to vas:events (event=unsubscribe msisdn service channel=sms at id) and to
 * the subscriber's audit:{M} stream (event service channel at id, trimmed to
 * about six months with MINID ~), then HDELs the code. The two XADDs come
 * before the HDEL: a script that fails half-way leaves the code subscribed,
 * so the SMSC's redelivery redoes it, and an event it repeats carries the
 * same id ("M:CODE:SINCE:unsubscribe", deterministic). Internal keys:
 * menu:{M} holds the last numbered "0000" list (codes comma-joined, EX
 * limits.menu_ttl_s) so that any daemon instance resolves "1，3";
 * pending:{M} holds "cancel_all:CODES" after "00000" (EX confirm_ttl_s) and
 * "cancel_all_done:CODES" after its "Y", so that a redelivered "Y" gets the
 * same answer. See docs/handlers.md.
 *
 * Idempotency: an event is written only for a code this run removed from
 * sub:{M}:vas. A redelivered MO finds its codes already gone, writes nothing
 * and answers as the first run did: reply numbers still resolve through the
 * unchanged menu, "Y" finds the done marker, and "TD<code>" finds the
 * cancellation in the last day of the subscriber's audit stream. Two of the
 * same number in one MO ("1 1") are one number. */
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/schema.h"
#include "core/log.h"
#include "core/request.h"
#include "core/sc.h"
#include "handlers/handler.h"

#define VAS_MAX_NUMBERS 20     /* item numbers one MO may carry */
#define VAS_MAX_ITEM 99        /* the highest item number a menu has */
#define VAS_NAME_CHARS 10      /* a longer service name is cut, with "…" */
#define VAS_TEXT_MAX 4096      /* a reply being built */
#define VAS_KEY_MAX 96

/* ---- Lua ---------------------------------------------------------------- */

/* Cancel one code, shared by the scripts that cancel. Keys: K[1]
 * sub:{M}:vas, K[2] vas:events, K[3] audit:{M}; A[1] the msisdn. Returns
 * true when this run removed the code, false when it was not subscribed. */
#define VAS_LUA_CANCEL                                                                     \
    "local AUDIT_MINID = string.format('%.0f', tonumber(now_ms) - 186 * 86400000)\n"       \
    "local function vas_cancel(code)\n"                                                    \
    "  local since = redis.call('HGET', K[1], code)\n"                                     \
    "  if not since then return false end\n"                                               \
    "  local id = A[1] .. ':' .. code .. ':' .. since .. ':unsubscribe'\n"                 \
    "  redis.call('XADD', K[2], '*', 'event', 'unsubscribe', 'msisdn', A[1],\n"            \
    "             'service', code, 'channel', 'sms', 'at', now_ms, 'id', id)\n"            \
    "  redis.call('XADD', K[3], 'MINID', '~', AUDIT_MINID, '*', 'event', 'unsubscribe',\n" \
    "             'service', code, 'channel', 'sms', 'at', now_ms, 'id', id)\n"            \
    "  redis.call('HDEL', K[1], code)\n"                                                   \
    "  return true\n"                                                                      \
    "end\n"

/* A code the VAS handlers can put in a menu or a pending list: not empty
 * and without the "," that joins them. */
#define VAS_LUA_LISTABLE                                                                   \
    "local function listable(code)\n"                                                      \
    "  return code ~= '' and not string.find(code, ',', 1, true)\n"                        \
    "end\n"

/* K[1] sub:{M}:vas, K[2] menu:{M}; A[1] max items, A[2] menu ttl (s).
 * Returns every code, oldest subscription first (a start time that is not a
 * number sorts last), then by code; the first A[1] become the menu. */
static const char vas_list_lua[] =
    VAS_LUA_LISTABLE
    "local h = redis.call('HGETALL', K[1])\n"
    "local subs = {}\n"
    "for i = 1, #h, 2 do\n"
    "  if listable(h[i]) then\n"
    "    local t = tonumber(h[i + 1])\n"
    "    if t and (t ~= t or t == math.huge or t == -math.huge) then t = nil end\n"
    "    subs[#subs + 1] = {h[i], t}\n"
    "  end\n"
    "end\n"
    "table.sort(subs, function(a, b)\n"
    "  if a[2] ~= b[2] then\n"
    "    if a[2] == nil then return false end\n"
    "    if b[2] == nil then return true end\n"
    "    return a[2] < b[2]\n"
    "  end\n"
    "  return a[1] < b[1]\n"
    "end)\n"
    "local out, menu = {}, {}\n"
    "local max = tonumber(A[1])\n"
    "for i = 1, #subs do\n"
    "  out[i] = subs[i][1]\n"
    "  if i <= max then menu[i] = subs[i][1] end\n"
    "end\n"
    "if #menu > 0 then\n"
    "  redis.call('SET', K[2], table.concat(menu, ','), 'EX', A[2])\n"
    "else\n"
    "  redis.call('DEL', K[2])\n"
    "end\n"
    "return out\n";

/* K[1] sub, K[2] vas:events, K[3] audit, K[4] menu:{M}; A[1] msisdn,
 * A[2] item numbers ("1,3", ascending, distinct; may be empty).
 * Returns {"nomenu"} or {"ok", menu size, code or "" per number}. The menu
 * is left as it is: the numbers keep their meaning for later replies and
 * for a redelivered MO. */
static const char vas_cancel_items_lua[] =
    VAS_LUA_CANCEL
    "local m = redis.call('GET', K[4])\n"
    "if not m then return {'nomenu'} end\n"
    "local menu = {}\n"
    "for c in string.gmatch(m, '[^,]+') do menu[#menu + 1] = c end\n"
    "local out = {'ok', tostring(#menu)}\n"
    "for d in string.gmatch(A[2], '%d+') do\n"
    "  local code = menu[tonumber(d)]\n"
    "  if code then\n"
    "    vas_cancel(code)\n"
    "    out[#out + 1] = code\n"
    "  else\n"
    "    out[#out + 1] = ''\n"
    "  end\n"
    "end\n"
    "return out\n";

/* K[1] sub:{M}:vas; A[1] confirmation ttl (s). Returns the codes the
 * confirmation would cancel (none: no dialogue is started). */
static const char vas_cancel_all_lua[] =
    VAS_LUA_LISTABLE
    "local list = {}\n"
    "for _, c in ipairs(redis.call('HKEYS', K[1])) do\n"
    "  if listable(c) then list[#list + 1] = c end\n"
    "end\n"
    "if #list == 0 then return {} end\n"
    "table.sort(list)\n"
    "redis.call('SET', PENDING, 'cancel_all:' .. table.concat(list, ','), 'EX', A[1])\n"
    "return list\n";

/* K[1] sub, K[2] vas:events, K[3] audit; A[1] msisdn, A[2] "Y" or "N",
 * A[3] confirmation ttl (s). Returns {"none"}, {"declined"} or {"done",
 * codes cancelled...}. After a "Y" the pending value becomes
 * "cancel_all_done:CODES" (written last, so a failed run is redone). */
static const char vas_confirm_lua[] =
    VAS_LUA_CANCEL
    "local p = redis.call('GET', PENDING)\n"
    "if not p then return {'none'} end\n"
    "local out = {'done'}\n"
    "if string.sub(p, 1, 16) == 'cancel_all_done:' then\n"
    "  if A[2] ~= 'Y' then return {'none'} end\n"
    "  for c in string.gmatch(string.sub(p, 17), '[^,]+') do out[#out + 1] = c end\n"
    "  return out\n"
    "end\n"
    "if string.sub(p, 1, 11) ~= 'cancel_all:' then return {'none'} end\n"
    "if A[2] ~= 'Y' then\n"
    "  redis.call('DEL', PENDING)\n"
    "  return {'declined'}\n"
    "end\n"
    "for c in string.gmatch(string.sub(p, 12), '[^,]+') do\n"
    "  if vas_cancel(c) then out[#out + 1] = c end\n"
    "end\n"
    "redis.call('SET', PENDING, 'cancel_all_done:' .. table.concat(out, ',', 2), 'EX', A[3])\n"
    "return out\n";

/* K[1] sub, K[2] vas:events, K[3] audit; A[1] msisdn, A[2] code.
 * Returns {"cancelled"} when this run cancelled it, or when the subscriber's
 * latest audit entry for it in the last 24 hours is its cancellation (a
 * redelivered or repeated TD); else {"absent"}. */
static const char vas_cancel_code_lua[] =
    VAS_LUA_CANCEL
    "if vas_cancel(A[2]) then return {'cancelled'} end\n"
    "local since = string.format('%.0f', tonumber(now_ms) - 86400000)\n"
    "for _, e in ipairs(redis.call('XREVRANGE', K[3], '+', since, 'COUNT', 50)) do\n"
    "  local f, ev, svc = e[2], nil, nil\n"
    "  for i = 1, #f - 1, 2 do\n"
    "    if f[i] == 'event' then ev = f[i + 1] elseif f[i] == 'service' then svc = f[i + 1] end\n"
    "  end\n"
    "  if svc == A[2] then\n"
    "    if ev == 'unsubscribe' then return {'cancelled'} end\n"
    "    return {'absent'}\n"
    "  end\n"
    "end\n"
    "return {'absent'}\n";

/* ---- helpers ------------------------------------------------------------- */

/* A reply being put together from rendered templates. */
struct vas_text {
    char s[VAS_TEXT_MAX];
    size_t len;
};

static void text_init(struct vas_text *t)
{
    t->len = 0;
    t->s[0] = '\0';
}

static void text_add(struct vas_text *t, const char *s)
{
    size_t room = sizeof t->s - t->len;
    size_t n = strlen(s);
    if (n >= room)
        n = room - 1; /* never reached with the bounds above; keeps the NUL */
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_tpl(struct vas_text *t, struct sc_req *req, const char *tpl,
                     const char *const *values)
{
    size_t room = sizeof t->s - t->len;
    size_t n = sc_req_render(req, tpl, values, t->s + t->len, room);
    t->len += n < room ? n : strlen(t->s + t->len);
}

/* Element i of a script result as a string, or NULL. */
static const char *el_str(struct redisReply *const *e, size_t n, size_t i)
{
    return i < n && e[i]->type == REDIS_REPLY_STRING ? e[i]->str : NULL;
}

/* Name of a service for texts: the catalogue name cut to VAS_NAME_CHARS
 * characters, or the code when the catalogue does not know it. */
static const char *svc_name(const struct sc_service *svc, const char *code, char *out,
                            size_t outsz)
{
    const char *name = svc && svc->name && svc->name[0] ? svc->name : code;
    size_t i = 0, chars = 0;
    while (name[i] && chars < VAS_NAME_CHARS) {
        i++;
        while ((name[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    if (!name[i] || i + sizeof "…" > outsz) {
        sc_strlcpy(out, name, outsz); /* short enough (or a huge code: cut anywhere) */
        return out;
    }
    memcpy(out, name, i);
    memcpy(out + i, "…", sizeof "…");
    return out;
}

/* The monthly fee of a service in fen, or -1 when unknown or not a number. */
static long long svc_fee(const struct sc_service *svc)
{
    return svc && svc->price_fen >= 0 ? svc->price_fen : -1;
}

/* A sum of fees that becomes unknown (-1) when one of them is. */
static void fee_add(long long *sum, long long fee)
{
    if (*sum < 0)
        return;
    if (fee < 0 || fee > LLONG_MAX - *sum)
        *sum = -1;
    else
        *sum += fee;
}

static void vas_keys(const struct sc_req *req, char sub[VAS_KEY_MAX], char audit[VAS_KEY_MAX])
{
    snprintf(sub, VAS_KEY_MAX, "sub:{%s}:vas", req->msisdn);
    snprintf(audit, VAS_KEY_MAX, "audit:{%s}", req->msisdn);
}

/* A script returned something its callback cannot read: a bug. */
static void bad_result(struct sc_req *req, const char *handler)
{
    sc_error("event=script_result_bad handler=%s msisdn=%s", handler, req->msisdn);
    sc_req_fail(req, "unexpected script result");
}

/* ---- vas_list: "0000" ------------------------------------------------------ */

struct vas_list_opts {
    int max_items;
};

static const struct sc_field vas_list_fields[] = {
    {"max_items", SC_FT_INT, offsetof(struct vas_list_opts, max_items), 0, .min = 1,
     .max = VAS_MAX_ITEM, .def = "15"},
    {.name = NULL},
};

static const struct sc_schema vas_list_schema = {vas_list_fields, sizeof(struct vas_list_opts),
                                                 NULL};

static const struct sc_tpl_decl vas_list_templates[] = {
    SC_TPL_DECL("vas_list_header", "count", "total"),
    SC_TPL_DECL("vas_list_item", "n", "name", "fee", "code"),
    SC_TPL_DECL("vas_list_more", "more"),
    {"vas_list_footer", NULL, 0},
    {"vas_list_empty", NULL, 0},
    {NULL, NULL, 0},
};

static int list_max(const void *opts)
{
    const struct vas_list_opts *o = opts;
    return o && o->max_items > 0 ? o->max_items : 15;
}

static void on_list(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    if (n == 0) {
        sc_req_reply_tpl(req, "vas_list_empty", NULL);
        return;
    }
    size_t shown = SC_MIN(n, (size_t)list_max(req->hctx));
    long long total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = el_str(e, n, i);
        if (!code) {
            bad_result(req, "vas_list");
            return;
        }
        fee_add(&total, svc_fee(sc_req_service(req, code)));
    }
    struct vas_text t;
    text_init(&t);
    char count[24], tot[32], num[24], name[128], fee[32];
    snprintf(count, sizeof count, "%zu", n);
    text_tpl(&t, req, "vas_list_header",
             (const char *const[]){count, sc_fmt_fen(total, tot, sizeof tot)});
    for (size_t i = 0; i < shown; i++) {
        const char *code = e[i]->str;
        const struct sc_service *svc = sc_req_service(req, code);
        snprintf(num, sizeof num, "%zu", i + 1);
        text_add(&t, "\n");
        text_tpl(&t, req, "vas_list_item",
                 (const char *const[]){num, svc_name(svc, code, name, sizeof name),
                                       sc_fmt_fen(svc_fee(svc), fee, sizeof fee), code});
    }
    if (shown < n) {
        snprintf(num, sizeof num, "%zu", n - shown);
        text_add(&t, "\n");
        text_tpl(&t, req, "vas_list_more", (const char *const[]){num});
    }
    text_add(&t, "\n");
    text_tpl(&t, req, "vas_list_footer", NULL);
    sc_req_reply(req, t.s);
}

static void vas_list_handle(struct sc_req *req, const void *opts)
{
    char sub[VAS_KEY_MAX], menu[VAS_KEY_MAX], max[16], ttl[16];
    snprintf(sub, sizeof sub, "sub:{%s}:vas", req->msisdn);
    snprintf(menu, sizeof menu, "menu:{%s}", req->msisdn);
    snprintf(max, sizeof max, "%d", list_max(opts));
    snprintf(ttl, sizeof ttl, "%d", sc_req_menu_ttl_s(req));
    req->hctx = (void *)opts; /* borrowed: route options outlive the request */
    sc_req_eval(req, 2, (const char *const[]){sub, menu}, 2, (const char *const[]){max, ttl},
                on_list);
}

const struct sc_handler sc_handler_vas_list = {
    .name = "vas_list",
    .summary = "list the subscriber's monthly services, numbered, and remember the menu",
    .options = &vas_list_schema,
    .templates = vas_list_templates,
    .script = vas_list_lua,
    .key_types = "hs",
    .handle = vas_list_handle,
};

/* ---- vas_cancel_items: "1", "1 3", "1,3", "1、3" after a menu ---------------- */

/* The item numbers of an MO: distinct, 1..VAS_MAX_ITEM in `asked`; others
 * (0, too big) as typed without leading zeros in `bad`, in input order. */
struct vas_numbers {
    unsigned char asked[VAS_MAX_ITEM + 1];
    size_t nasked;
    char bad[VAS_MAX_NUMBERS][24];
    size_t nbad;
    int too_many;
};

/* Parse text: runs of ASCII digits are numbers, anything else separates
 * them (the route's regex has already checked the shape). */
static void parse_numbers(const char *text, struct vas_numbers *nums)
{
    memset(nums, 0, sizeof *nums);
    const char *p = text;
    while (*p) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
            p++;
        const char *d = p;
        while (*p >= '0' && *p <= '9')
            p++;
        size_t len = (size_t)(p - d);
        int v = len <= 2 ? atoi(d) : -1;
        if (v >= 1 && v <= VAS_MAX_ITEM) {
            if (nums->asked[v])
                continue;
            nums->asked[v] = 1;
            nums->nasked++;
        } else {
            char shown[24];
            if (len > 12)
                snprintf(shown, sizeof shown, "%.12s…", d);
            else
                snprintf(shown, sizeof shown, "%.*s", (int)len, d);
            size_t k;
            for (k = 0; k < nums->nbad && strcmp(nums->bad[k], shown) != 0; k++)
                ;
            if (k < nums->nbad)
                continue;
            if (nums->nbad == VAS_MAX_NUMBERS) {
                nums->too_many = 1;
                return;
            }
            sc_strlcpy(nums->bad[nums->nbad++], shown, sizeof nums->bad[0]);
        }
        if (nums->nasked + nums->nbad > VAS_MAX_NUMBERS) {
            nums->too_many = 1;
            return;
        }
    }
}

static const struct sc_tpl_decl vas_cancel_items_templates[] = {
    SC_TPL_DECL("vas_cancel_item", "name", "fee", "code"),
    SC_TPL_DECL("vas_cancel_done", "items", "count", "total"),
    SC_TPL_DECL("vas_items_out_of_range", "numbers", "count"),
    {"vas_items_no_menu", NULL, 0},
    SC_TPL_DECL("vas_items_too_many", "max"),
    {NULL, NULL, 0},
};

static void on_cancel_items(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    struct vas_numbers nums;
    parse_numbers(req->text, &nums);
    if (nums.too_many) {
        char max[16];
        snprintf(max, sizeof max, "%d", VAS_MAX_NUMBERS);
        sc_req_reply_tpl(req, "vas_items_too_many", (const char *const[]){max});
        return;
    }
    const char *st = el_str(e, n, 0);
    if (st && strcmp(st, "nomenu") == 0) {
        sc_req_reply_tpl(req, "vas_items_no_menu", NULL);
        return;
    }
    const char *menu_n = el_str(e, n, 1);
    if (!st || strcmp(st, "ok") != 0 || !menu_n || n != 2 + nums.nasked) {
        bad_result(req, "vas_cancel_items");
        return;
    }
    struct vas_text items, bad, t;
    text_init(&items);
    text_init(&bad);
    text_init(&t);
    size_t done = 0, k = 2;
    long long total = 0;
    char name[128], fee[32], num[24];
    for (int v = 1; v <= VAS_MAX_ITEM; v++) {
        if (!nums.asked[v])
            continue;
        const char *code = el_str(e, n, k++);
        if (!code) {
            bad_result(req, "vas_cancel_items");
            return;
        }
        if (!code[0]) {
            snprintf(num, sizeof num, "%d", v);
            text_add(&bad, bad.len ? "、" : "");
            text_add(&bad, num);
            continue;
        }
        const struct sc_service *svc = sc_req_service(req, code);
        text_add(&items, done++ ? "、" : "");
        text_tpl(&items, req, "vas_cancel_item",
                 (const char *const[]){svc_name(svc, code, name, sizeof name),
                                       sc_fmt_fen(svc_fee(svc), fee, sizeof fee), code});
        fee_add(&total, svc_fee(svc));
    }
    for (size_t i = 0; i < nums.nbad; i++) {
        text_add(&bad, bad.len ? "、" : "");
        text_add(&bad, nums.bad[i]);
    }
    if (done) {
        char count[24], tot[32];
        snprintf(count, sizeof count, "%zu", done);
        text_tpl(&t, req, "vas_cancel_done",
                 (const char *const[]){items.s, count, sc_fmt_fen(total, tot, sizeof tot)});
    }
    if (bad.len) {
        if (t.len)
            text_add(&t, "\n");
        text_tpl(&t, req, "vas_items_out_of_range", (const char *const[]){bad.s, menu_n});
    }
    if (!t.len) {
        /* No number at all (a route that sends other texts here). */
        sc_req_reply_tpl(req, "vas_items_no_menu", NULL);
        return;
    }
    sc_req_reply(req, t.s);
}

static void vas_cancel_items_handle(struct sc_req *req, const void *opts)
{
    (void)opts;
    struct vas_numbers nums;
    parse_numbers(req->text, &nums);
    /* "1,3,...": at most VAS_MAX_NUMBERS numbers of two digits. Too many
     * still runs the script (with none), which counts the command. */
    char list[VAS_MAX_NUMBERS * 3 + 1] = "";
    size_t o = 0;
    for (int v = 1; v <= VAS_MAX_ITEM && !nums.too_many; v++)
        if (nums.asked[v])
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", o ? "," : "", v);
    char sub[VAS_KEY_MAX], audit[VAS_KEY_MAX], menu[VAS_KEY_MAX];
    vas_keys(req, sub, audit);
    snprintf(menu, sizeof menu, "menu:{%s}", req->msisdn);
    sc_req_eval(req, 4, (const char *const[]){sub, "vas:events", audit, menu}, 2,
                (const char *const[]){req->msisdn, list}, on_cancel_items);
}

const struct sc_handler sc_handler_vas_cancel_items = {
    .name = "vas_cancel_items",
    .summary = "cancel services by their numbers in the subscriber's last 0000 list",
    .templates = vas_cancel_items_templates,
    .script = vas_cancel_items_lua,
    .key_types = "hxxs",
    .handle = vas_cancel_items_handle,
};

/* ---- vas_cancel_all: "00000" -------------------------------------------- */

static const struct sc_tpl_decl vas_cancel_all_templates[] = {
    SC_TPL_DECL("vas_all_confirm", "count", "total", "minutes"),
    {"vas_all_none", NULL, 0},
    {NULL, NULL, 0},
};

static void on_cancel_all(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    if (n == 0) {
        sc_req_reply_tpl(req, "vas_all_none", NULL);
        return;
    }
    long long total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = el_str(e, n, i);
        if (!code) {
            bad_result(req, "vas_cancel_all");
            return;
        }
        fee_add(&total, svc_fee(sc_req_service(req, code)));
    }
    char count[24], tot[32], minutes[16];
    snprintf(count, sizeof count, "%zu", n);
    snprintf(minutes, sizeof minutes, "%d", (sc_req_confirm_ttl_s(req) + 59) / 60);
    sc_req_reply_tpl(req, "vas_all_confirm",
                     (const char *const[]){count, sc_fmt_fen(total, tot, sizeof tot), minutes});
}

static void vas_cancel_all_handle(struct sc_req *req, const void *opts)
{
    (void)opts;
    char sub[VAS_KEY_MAX], ttl[16];
    snprintf(sub, sizeof sub, "sub:{%s}:vas", req->msisdn);
    snprintf(ttl, sizeof ttl, "%d", sc_req_confirm_ttl_s(req));
    sc_req_eval(req, 1, (const char *const[]){sub}, 1, (const char *const[]){ttl}, on_cancel_all);
}

const struct sc_handler sc_handler_vas_cancel_all = {
    .name = "vas_cancel_all",
    .summary = "ask to confirm cancelling every monthly service (answered by vas_confirm)",
    .templates = vas_cancel_all_templates,
    .script = vas_cancel_all_lua,
    .key_types = "h",
    .handle = vas_cancel_all_handle,
};

/* ---- vas_confirm: "Y" / "是" / "N" / "否" after "00000" ------------------------ */

struct vas_confirm_opts {
    char **yes;
    size_t nyes;
};

static const struct sc_field vas_confirm_fields[] = {
    {"yes", SC_FT_STRLIST, offsetof(struct vas_confirm_opts, yes),
     SC_F_NONEMPTY | SC_F_ONE_OR_LIST, .min = 1, .max = 16, .def = "Y,是",
     .count_offset = offsetof(struct vas_confirm_opts, nyes)},
    {.name = NULL},
};

static const struct sc_schema vas_confirm_schema = {vas_confirm_fields,
                                                    sizeof(struct vas_confirm_opts), NULL};

static const struct sc_tpl_decl vas_confirm_templates[] = {
    SC_TPL_DECL("vas_confirm_done", "count", "total"),
    {"vas_confirm_declined", NULL, 0},
    {"vas_confirm_none", NULL, 0},
    {"vas_all_none", NULL, 0},
    {NULL, NULL, 0},
};

static void on_confirm(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *st = el_str(e, n, 0);
    if (st && strcmp(st, "none") == 0) {
        sc_req_reply_tpl(req, "vas_confirm_none", NULL);
        return;
    }
    if (st && strcmp(st, "declined") == 0) {
        sc_req_reply_tpl(req, "vas_confirm_declined", NULL);
        return;
    }
    if (!st || strcmp(st, "done") != 0) {
        bad_result(req, "vas_confirm");
        return;
    }
    if (n == 1) {
        /* Everything listed was already gone when the "Y" came. */
        sc_req_reply_tpl(req, "vas_all_none", NULL);
        return;
    }
    long long total = 0;
    for (size_t i = 1; i < n; i++) {
        const char *code = el_str(e, n, i);
        if (!code) {
            bad_result(req, "vas_confirm");
            return;
        }
        fee_add(&total, svc_fee(sc_req_service(req, code)));
    }
    char count[24], tot[32];
    snprintf(count, sizeof count, "%zu", n - 1);
    sc_req_reply_tpl(req, "vas_confirm_done",
                     (const char *const[]){count, sc_fmt_fen(total, tot, sizeof tot)});
}

/* Whether the text is one of the yes words (ASCII case folded; the text is
 * already normalised). */
static int is_yes(const char *text, const struct vas_confirm_opts *o)
{
    static const char *const def[] = {"Y", "是"};
    const char *const *words = o && o->nyes ? (const char *const *)o->yes : def;
    size_t nwords = o && o->nyes ? o->nyes : SC_ARRAY_LEN(def);
    for (size_t i = 0; i < nwords; i++)
        if (strcasecmp(text, words[i]) == 0)
            return 1;
    return 0;
}

static void vas_confirm_handle(struct sc_req *req, const void *opts)
{
    char sub[VAS_KEY_MAX], audit[VAS_KEY_MAX], ttl[16];
    vas_keys(req, sub, audit);
    snprintf(ttl, sizeof ttl, "%d", sc_req_confirm_ttl_s(req));
    const char *yes = is_yes(req->text, opts) ? "Y" : "N";
    sc_req_eval(req, 3, (const char *const[]){sub, "vas:events", audit}, 3,
                (const char *const[]){req->msisdn, yes, ttl}, on_confirm);
}

const struct sc_handler sc_handler_vas_confirm = {
    .name = "vas_confirm",
    .summary = "answer a pending \"00000\": a yes word cancels everything listed, others decline",
    .options = &vas_confirm_schema,
    .templates = vas_confirm_templates,
    .script = vas_confirm_lua,
    .key_types = "hxx",
    .continues_dialogue = 1,
    .handle = vas_confirm_handle,
};

/* ---- vas_cancel_code: "TD" + code ------------------------------------------ */

static const struct sc_tpl_decl vas_cancel_code_templates[] = {
    SC_TPL_DECL("vas_td_done", "name", "fee", "code"),
    SC_TPL_DECL("vas_td_not_subscribed", "name", "code"),
    {NULL, NULL, 0},
};

/* The code: the route regex's first capture, else the text after "TD". */
static const char *td_code(const struct sc_req *req)
{
    if (req->ncaps > 1 && req->caps[1])
        return req->caps[1];
    return strncmp(req->text, "TD", 2) == 0 ? req->text + 2 : req->text;
}

static void on_cancel_code(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *st = el_str(e, n, 0);
    const char *code = td_code(req);
    const struct sc_service *svc = sc_req_service(req, code);
    char name[128], fee[32];
    svc_name(svc, code, name, sizeof name);
    if (st && strcmp(st, "cancelled") == 0)
        sc_req_reply_tpl(req, "vas_td_done",
                         (const char *const[]){name, sc_fmt_fen(svc_fee(svc), fee, sizeof fee),
                                               code});
    else if (st && strcmp(st, "absent") == 0)
        sc_req_reply_tpl(req, "vas_td_not_subscribed", (const char *const[]){name, code});
    else
        bad_result(req, "vas_cancel_code");
}

static void vas_cancel_code_handle(struct sc_req *req, const void *opts)
{
    (void)opts;
    char sub[VAS_KEY_MAX], audit[VAS_KEY_MAX];
    vas_keys(req, sub, audit);
    sc_req_eval(req, 3, (const char *const[]){sub, "vas:events", audit}, 2,
                (const char *const[]){req->msisdn, td_code(req)}, on_cancel_code);
}

const struct sc_handler sc_handler_vas_cancel_code = {
    .name = "vas_cancel_code",
    .summary = "cancel one service by its code (\"TD\" + code; the regex captures the code)",
    .templates = vas_cancel_code_templates,
    .script = vas_cancel_code_lua,
    .key_types = "hxx",
    .handle = vas_cancel_code_handle,
};
