/* vas_cancel.c -- cancelling one by one: the item numbers of a "0000" list
 * ("1", "1,3", ...) and "TD" + code. Each cancellation writes its event,
 * audit entry, refund request when it was never confirmed, and gone:{M}
 * record before the HDEL, in one script; a redelivered MO finds the code in
 * gone:{M} and is told when it was cancelled and what refund was filed,
 * with nothing written (handlers/vas_int.h). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "handlers/vas_int.h"

/* ---- vas_cancel_items: "1", "1 3", "1,3", "1、3" after a menu ------------- */

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
    SC_TPL_DECL("vas_cancel_done", "items", "count", "total", "unknown"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    SC_TPL_DECL("vas_gone_item", "name", "code", "time"),
    SC_TPL_DECL("vas_gone", "items"),
    SC_TPL_DECL("vas_items_absent", "items"),
    SC_TPL_DECL("vas_items_out_of_range", "numbers", "count"),
    {"vas_items_no_menu", NULL, 0},
    SC_TPL_DECL("vas_items_too_many", "max"),
    SC_TPL_DECL("vas_refund_item", "name", "code", "amount", "months"),
    SC_TPL_DECL("vas_refund", "items", "count", "total", "unknown"),
    {NULL, NULL, 0},
};

/* The parts of a vas_cancel_items reply, one per kind of answer. */
struct items_reply {
    struct vas_text items;     /* cancelled now: vas_cancel_item, joined with "、" */
    struct vas_text absent;    /* names no longer subscribed */
    struct vas_text bad;       /* numbers not in the list */
    struct vas_gone gone;      /* cancelled before */
    struct vas_refunds refunds; /* filed now or before, for those cancelled */
    size_t done, expired;
    struct fee_sum total;      /* of the ones cancelled now */
};

/* One number's answer from the script (what, code, at, refund amount and
 * months) into its part. */
static void items_add(struct items_reply *r, struct sc_req *req, int v, const char *const *x)
{
    const char *what = x[0], *code = x[1], *at = x[2];
    if (strcmp(what, "done") == 0 || strcmp(what, "gone") == 0)
        sc__vas_refunds_add(&r->refunds, req, code, x[3], x[4]);
    char name[128], fee[32], num[24];
    const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
    if (strcmp(what, "done") == 0) {
        sc__vas_text_add(&r->items, r->done++ ? "、" : "");
        sc__vas_text_tpl(&r->items, req, "vas_cancel_item",
                         (const char *const[]){sc__vas_svc_name(svc, code, name, sizeof name),
                                               sc_fmt_fen(sc__vas_svc_fee(svc), fee, sizeof fee),
                                               code});
        sc__vas_fee_add(&r->total, sc__vas_svc_fee(svc));
    } else if (strcmp(what, "gone") == 0) {
        sc__vas_gone_add(&r->gone, req, code, at);
    } else if (strcmp(what, "absent") == 0) {
        sc__vas_text_add(&r->absent, r->absent.len ? "、" : "");
        sc__vas_text_add(&r->absent, sc__vas_svc_name(svc, code, name, sizeof name));
    } else if (strcmp(what, "expired") == 0) {
        r->expired++;
    } else {
        snprintf(num, sizeof num, "%d", v);
        sc__vas_text_add(&r->bad, r->bad.len ? "、" : "");
        sc__vas_text_add(&r->bad, num);
    }
}

/* Elements per number in the script's result. */
#define ITEM_ELS 5

/* The reply's lines, in the order docs/handlers.md gives, each only when
 * it applies. */
static void items_send(struct items_reply *r, struct sc_req *req, const char *menu_n)
{
    struct vas_text t;
    sc__vas_text_init(&t);
    if (r->done) {
        char count[24], tot[32], unknown[96];
        snprintf(count, sizeof count, "%zu", r->done);
        sc__vas_fee_texts(req, &r->total, tot, sizeof tot, unknown, sizeof unknown);
        sc__vas_text_line(&t, req, "vas_cancel_done",
                          (const char *const[]){r->items.s, count, tot, unknown});
    }
    if (r->gone.n)
        sc__vas_text_line(&t, req, "vas_gone", (const char *const[]){r->gone.items.s});
    sc__vas_refunds_line(&t, req, &r->refunds);
    if (r->absent.len)
        sc__vas_text_line(&t, req, "vas_items_absent", (const char *const[]){r->absent.s});
    if (r->bad.len)
        sc__vas_text_line(&t, req, "vas_items_out_of_range",
                          (const char *const[]){r->bad.s, menu_n});
    if (r->expired || !t.len) {
        /* The list is too old to answer (or no number at all, from a route
         * that sends other texts here). */
        sc__vas_text_line(&t, req, "vas_items_no_menu", NULL);
    }
    sc_req_reply(req, t.s);
}

/* {"nomenu"} or {"ok", size of the last list, per number asked: status,
 * code, time, refund amount, refund months} (vas_lua.c). */
static void on_cancel_items(struct sc_req *req, const void *opts, struct redisReply *const *e,
                            size_t n)
{
    (void)opts;
    struct vas_numbers nums;
    parse_numbers(req->text, &nums);
    if (nums.too_many) {
        char max[16];
        snprintf(max, sizeof max, "%d", VAS_MAX_NUMBERS);
        sc_req_reply_tpl(req, "vas_items_too_many", (const char *const[]){max});
        return;
    }
    const char *st = sc__vas_el_str(e, n, 0);
    if (st && strcmp(st, "nomenu") == 0) {
        sc_req_reply_tpl(req, "vas_items_no_menu", NULL);
        return;
    }
    const char *menu_n = sc__vas_el_str(e, n, 1);
    if (!st || strcmp(st, "ok") != 0 || !menu_n || n != 2 + ITEM_ELS * nums.nasked) {
        sc__vas_bad_result(req, "vas_cancel_items");
        return;
    }
    struct items_reply r; /* ~20 KiB: its parts are initialised, not zeroed */
    r.done = r.expired = 0;
    r.total = (struct fee_sum){0, 0};
    sc__vas_text_init(&r.items);
    sc__vas_text_init(&r.absent);
    sc__vas_text_init(&r.bad);
    sc__vas_gone_init(&r.gone);
    sc__vas_refunds_init(&r.refunds);
    for (int v = 1, k = 2; v <= VAS_MAX_ITEM; v++) {
        if (!nums.asked[v])
            continue;
        const char *x[ITEM_ELS];
        for (size_t j = 0; j < ITEM_ELS; j++) {
            x[j] = sc__vas_el_str(e, n, (size_t)k++);
            if (!x[j]) {
                sc__vas_bad_result(req, "vas_cancel_items");
                return;
            }
        }
        items_add(&r, req, v, x);
    }
    for (size_t i = 0; i < nums.nbad; i++) {
        sc__vas_text_add(&r.bad, r.bad.len ? "、" : "");
        sc__vas_text_add(&r.bad, nums.bad[i]);
    }
    items_send(&r, req, menu_n);
}

static void vas_cancel_items_prepare(const struct sc_req *req, const void *opts,
                                     struct sc_req_call *call)
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
    sc__vas_cancel_keys(call, 'i');
    sc__vas_cancel_args(call, req);
    sc_req_arg(call, list);
    sc_req_arg_int(call, req->limits->menu_ttl_s);
    if (req->cluster) /* A[7]: VAS_LUA_PRICE_FROM_CATALOGUE */
        sc_req_arg_ref(call, sc_catalogue_prices(req->catalogue));
}

const struct sc_handler sc_handler_vas_cancel_items = {
    .name = "vas_cancel_items",
    .summary = "cancel services by their item numbers in the subscriber's 0000 lists",
    .templates = vas_cancel_items_templates,
    .script = sc__vas_cancel_items_lua,
    .key_types = VAS_CANCEL_KEY_TYPES "hh",
    .prepare = vas_cancel_items_prepare,
    .result = on_cancel_items,
};

/* ---- vas_cancel_code: "TD" + code ------------------------------------------ */

static const struct sc_tpl_decl vas_cancel_code_templates[] = {
    SC_TPL_DECL("vas_td_done", "name", "fee", "code"),
    SC_TPL_DECL("vas_td_not_subscribed", "name", "code"),
    SC_TPL_DECL("vas_gone_item", "name", "code", "time"),
    SC_TPL_DECL("vas_gone", "items"),
    SC_TPL_DECL("vas_refund_item", "name", "code", "amount", "months"),
    SC_TPL_DECL("vas_refund", "items", "count", "total", "unknown"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    {NULL, NULL, 0},
};

/* The code: the route regex's first capture, else the text after "TD". */
static const char *td_code(const struct sc_req *req)
{
    if (req->ncaps > 1 && req->caps[1])
        return req->caps[1];
    return strncmp(req->text, "TD", 2) == 0 ? req->text + 2 : req->text;
}

static void on_cancel_code(struct sc_req *req, const void *opts, struct redisReply *const *e,
                           size_t n)
{
    (void)opts;
    const char *st = sc__vas_el_str(e, n, 0);
    const char *code = td_code(req);
    const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
    char name[128], fee[32];
    sc__vas_svc_name(svc, code, name, sizeof name);
    struct vas_text t;
    struct vas_refunds refunds;
    sc__vas_text_init(&t);
    sc__vas_refunds_init(&refunds);
    if (st && strcmp(st, "cancelled") == 0 && n == 3) {
        sc__vas_text_tpl(&t, req, "vas_td_done",
                         (const char *const[]){
                             name, sc_fmt_fen(sc__vas_svc_fee(svc), fee, sizeof fee), code});
        sc__vas_refunds_add(&refunds, req, code, sc__vas_el_str(e, n, 1),
                            sc__vas_el_str(e, n, 2));
        sc__vas_refunds_line(&t, req, &refunds);
        sc_req_reply(req, t.s);
    } else if (st && strcmp(st, "gone") == 0 && n == 4 && sc__vas_el_str(e, n, 1)) {
        struct vas_gone gone;
        sc__vas_gone_init(&gone);
        sc__vas_gone_add(&gone, req, code, e[1]->str);
        sc__vas_text_tpl(&t, req, "vas_gone", (const char *const[]){gone.items.s});
        sc__vas_refunds_add(&refunds, req, code, sc__vas_el_str(e, n, 2),
                            sc__vas_el_str(e, n, 3));
        sc__vas_refunds_line(&t, req, &refunds);
        sc_req_reply(req, t.s);
    } else if (st && strcmp(st, "absent") == 0) {
        sc_req_reply_tpl(req, "vas_td_not_subscribed", (const char *const[]){name, code});
    } else {
        sc__vas_bad_result(req, "vas_cancel_code");
    }
}

static void vas_cancel_code_prepare(const struct sc_req *req, const void *opts,
                                    struct sc_req_call *call)
{
    (void)opts;
    const char *code = td_code(req);
    long long fee = sc__vas_svc_fee(sc_catalogue_get(req->catalogue, code));
    sc__vas_cancel_keys(call, 0);
    sc__vas_cancel_args(call, req);
    sc_req_arg(call, code);
    if (fee >= 0)
        sc_req_arg_int(call, fee);
    else
        sc_req_arg(call, "");
}

const struct sc_handler sc_handler_vas_cancel_code = {
    .name = "vas_cancel_code",
    .summary = "cancel one service by its code (\"TD\" + code; the regex captures the code)",
    .templates = vas_cancel_code_templates,
    .script = sc__vas_cancel_code_lua,
    .key_types = VAS_CANCEL_KEY_TYPES,
    .prepare = vas_cancel_code_prepare,
    .result = on_cancel_code,
};

