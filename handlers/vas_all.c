/* vas_all.c -- cancelling everything: "00000" asks (pending:{M} holds the
 * codes it named), "Y" / "是" cancels those still subscribed, any other
 * word routed to vas_confirm declines. allgone:{M} records a completed
 * cancel-all for the redelivery horizon, so a redelivered "00000" + "Y"
 * cannot cancel what no prompt named (handlers/vas_int.h). */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sc.h"
#include "config/schema.h"
#include "handlers/order.h"
#include "handlers/order_int.h"
#include "handlers/vas_int.h"
#include "store/keys.h"

/* ---- vas_cancel_all: "00000" -------------------------------------------- */

static const struct sc_tpl_decl vas_cancel_all_templates[] = {
    SC_TPL_DECL("vas_all_confirm", "count", "total", "minutes", "unknown"),
    SC_TPL_DECL("vas_all_already", "time", "count"),
    SC_TPL_DECL("vas_all_since", "count", "items", "total", "unknown"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    {"vas_all_none", NULL, 0},
    {NULL, NULL, 0},
};

static void on_cancel_all(struct sc_req *req, const void *opts, struct redisReply *const *e,
                          size_t n)
{
    (void)opts;
    const char *st = sc__vas_el_str(e, n, 0);
    struct fee_sum total = {0, 0};
    char count[24], tot[32], unknown[96], minutes[16], when[48];
    if (st && strcmp(st, "none") == 0) {
        sc_req_reply_tpl(req, "vas_all_none", NULL);
        return;
    }
    if (st && strcmp(st, "already") == 0 && n >= 3 && sc__vas_el_str(e, n, 1) &&
        sc__vas_el_str(e, n, 2)) {
        /* A cancel-all was completed within the horizon: say so, and what
         * was added since, instead of asking (this may be a redelivery). */
        struct vas_text t, names;
        sc__vas_text_init(&t);
        sc__vas_text_init(&names);
        if (sc__vas_codes_sum(req, e, n, 3, n, 1, &total, &names, NULL) < 0) {
            sc__vas_bad_result(req, "vas_cancel_all");
            return;
        }
        sc__vas_text_tpl(
            &t, req, "vas_all_already",
            (const char *const[]){sc_fmt_past_time_text(e[1]->str, when, sizeof when), e[2]->str});
        if (n > 3) {
            snprintf(count, sizeof count, "%zu", n - 3);
            sc__vas_fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
            sc__vas_text_line(&t, req, "vas_all_since",
                              (const char *const[]){count, names.s, tot, unknown});
        } else {
            sc__vas_text_line(&t, req, "vas_all_none", NULL);
        }
        sc_req_reply(req, t.s);
        return;
    }
    if (!st || strcmp(st, "ask") != 0 || n < 2 ||
        sc__vas_codes_sum(req, e, n, 1, n, 1, &total, NULL, NULL) < 0) {
        sc__vas_bad_result(req, "vas_cancel_all");
        return;
    }
    snprintf(count, sizeof count, "%zu", n - 1);
    snprintf(minutes, sizeof minutes, "%d", (req->limits->confirm_ttl_s + 59) / 60);
    sc__vas_fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
    sc_req_reply_tpl(req, "vas_all_confirm", (const char *const[]){count, tot, minutes, unknown});
}

static void vas_cancel_all_prepare(const struct sc_req *req, const void *opts,
                                   struct sc_req_call *call)
{
    (void)opts;
    sc_req_key_m(call, SC_KEY_SUB);
    sc_req_key_m(call, SC_KEY_ALLGONE);
    sc_req_key_m(call, SC_KEY_ORDER);
    sc_req_key(call, SC_KEY_EVENTS);
    sc_req_key_m(call, SC_KEY_AUDIT);
    sc_req_arg_int(call, req->limits->confirm_ttl_s);
    sc_req_arg_int(call, req->limits->redelivery_horizon_s);
    sc_req_arg(call, req->msisdn);
}

const struct sc_handler sc_handler_vas_cancel_all = {
    .name = "vas_cancel_all",
    .summary = "ask to confirm cancelling every monthly service (answered by vas_confirm)",
    .templates = vas_cancel_all_templates,
    .script_lib = sc_order_lua, /* a "00000" supersedes a pending order */
    .script = sc__vas_cancel_all_lua,
    .key_types = "hhhxx",
    .prepare = vas_cancel_all_prepare,
    .result = on_cancel_all,
};


/* ---- vas_confirm: "Y" / "是" / "N" / "否" after "00000" or an order ---------- */

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
    SC_TPL_DECL("vas_confirm_done", "count", "total", "unknown"),
    SC_TPL_DECL("vas_confirm_already", "time", "count"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    SC_TPL_DECL("vas_gone_item", "name", "code", "time"),
    SC_TPL_DECL("vas_gone", "items"),
    SC_TPL_DECL("vas_refund_item", "name", "code", "amount", "months"),
    SC_TPL_DECL("vas_refund", "items", "count", "total", "unknown"),
    {"vas_confirm_declined", NULL, 0},
    {"vas_confirm_none", NULL, 0},
    {"vas_all_none", NULL, 0},
    SC_ORDER_ANSWER_TEMPLATES,
    {NULL, NULL, 0},
};

static void on_confirm(struct sc_req *req, const void *opts, struct redisReply *const *e,
                       size_t n)
{
    (void)opts;
    const char *st = sc__vas_el_str(e, n, 0);
    char when[48];
    if (st && strcmp(st, "order") == 0) {
        sc__order_on_answer(req, e + 1, n - 1);
        return;
    }
    if (st && strcmp(st, "none") == 0) {
        sc_req_reply_tpl(req, "vas_confirm_none", NULL);
        return;
    }
    if (st && strcmp(st, "declined") == 0) {
        sc_req_reply_tpl(req, "vas_confirm_declined", NULL);
        return;
    }
    struct vas_text t;
    struct vas_refunds refunds;
    sc__vas_text_init(&t);
    sc__vas_refunds_init(&refunds);
    if (st && strcmp(st, "already") == 0 && sc__vas_el_str(e, n, 1) && sc__vas_el_str(e, n, 2) &&
        (n - 3) % 3 == 0) {
        sc__vas_text_tpl(
            &t, req, "vas_confirm_already",
            (const char *const[]){sc_fmt_past_time_text(e[1]->str, when, sizeof when), e[2]->str});
        for (size_t i = 3; i + 2 < n; i += 3)
            sc__vas_refunds_add(&refunds, req, sc__vas_el_str(e, n, i),
                                sc__vas_el_str(e, n, i + 1), sc__vas_el_str(e, n, i + 2));
        sc__vas_refunds_line(&t, req, &refunds);
        sc_req_reply(req, t.s);
        return;
    }
    /* {"done", count, (code, amount, months) x count, (code, time, amount,
     * months) x the codes cancelled before}. */
    const char *cnt = sc__vas_el_str(e, n, 1);
    char *end = NULL;
    long done = cnt ? strtol(cnt, &end, 10) : -1;
    if (!st || strcmp(st, "done") != 0 || !cnt || *end || done < 0 ||
        (size_t)done > (n - 2) / 3 || (n - 2 - 3 * (size_t)done) % 4) {
        sc__vas_bad_result(req, "vas_confirm");
        return;
    }
    struct vas_gone gone;
    sc__vas_gone_init(&gone);
    struct fee_sum total = {0, 0};
    size_t before = 2 + 3 * (size_t)done;
    if (sc__vas_codes_sum(req, e, n, 2, before, 3, &total, NULL, NULL) < 0) {
        sc__vas_bad_result(req, "vas_confirm");
        return;
    }
    for (size_t i = 2; i < before; i += 3)
        sc__vas_refunds_add(&refunds, req, e[i]->str, sc__vas_el_str(e, n, i + 1),
                            sc__vas_el_str(e, n, i + 2));
    for (size_t i = before; i + 3 < n; i += 4) {
        const char *code = sc__vas_el_str(e, n, i), *at = sc__vas_el_str(e, n, i + 1);
        if (!code || !at) {
            sc__vas_bad_result(req, "vas_confirm");
            return;
        }
        sc__vas_gone_add(&gone, req, code, at);
        sc__vas_refunds_add(&refunds, req, code, sc__vas_el_str(e, n, i + 2),
                            sc__vas_el_str(e, n, i + 3));
    }
    if (done) {
        char tot[32], unknown[96];
        sc__vas_fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
        sc__vas_text_tpl(&t, req, "vas_confirm_done", (const char *const[]){cnt, tot, unknown});
    }
    if (gone.n)
        sc__vas_text_line(&t, req, "vas_gone", (const char *const[]){gone.items.s});
    sc__vas_refunds_line(&t, req, &refunds);
    if (!t.len) /* everything listed was already gone, not by us */
        sc__vas_text_tpl(&t, req, "vas_all_none", NULL);
    sc_req_reply(req, t.s);
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

static void vas_confirm_prepare(const struct sc_req *req, const void *opts,
                                struct sc_req_call *call)
{
    sc__vas_cancel_keys(call, 'a');
    sc_req_key_m(call, SC_KEY_ORDER);
    sc__vas_cancel_args(call, req);
    sc_req_arg(call, is_yes(req->text, opts) ? "Y" : "N");
    if (req->cluster) /* A[6]: VAS_LUA_PRICE_FROM_CATALOGUE */
        sc_req_arg_ref(call, sc_catalogue_prices(req->catalogue));
}

const struct sc_handler sc_handler_vas_confirm = {
    .name = "vas_confirm",
    .summary = "answer a pending \"00000\" or order: a yes word cancels everything listed (or "
               "confirms the order), others decline",
    .options = &vas_confirm_schema,
    .templates = vas_confirm_templates,
    .script_lib = sc_order_lua, /* the answer to an order */
    .script = sc__vas_confirm_lua,
    .key_types = VAS_CANCEL_KEY_TYPES "hhh",
    .continues_dialogue = 1,
    .prepare = vas_confirm_prepare,
    .result = on_confirm,
};
