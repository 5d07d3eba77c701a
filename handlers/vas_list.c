/* vas_list.c -- "0000": the subscriber's monthly services with item numbers
 * that keep their meaning (items:{M}; the model in handlers/vas_int.h, the
 * script in vas_lua.c). Writes only items:{M}: running it twice lists the
 * same numbers. */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "handlers/vas_int.h"
#include "store/keys.h"

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
    SC_TPL_DECL("vas_list_header", "count", "total", "unknown"),
    SC_TPL_DECL("vas_list_item", "n", "name", "fee", "code"),
    SC_TPL_DECL("vas_list_item_unnumbered", "name", "fee", "code"),
    SC_TPL_DECL("vas_list_more", "more"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    {"vas_list_footer", NULL, 0},
    {"vas_list_empty", NULL, 0},
    {NULL, NULL, 0},
};

static int list_max(const void *opts)
{
    const struct vas_list_opts *o = opts;
    return o && o->max_items > 0 ? o->max_items : 15;
}

/* One line of the list: item num (or "0": listed without a number). */
static void list_line(struct vas_text *t, struct sc_req *req, const struct sc_service *svc,
                      const char *code, const char *num)
{
    char name[128], fee[32];
    sc__vas_svc_name(svc, code, name, sizeof name);
    sc_fmt_fen(sc__vas_svc_fee(svc), fee, sizeof fee);
    if (strcmp(num, "0") == 0)
        sc__vas_text_line(t, req, "vas_list_item_unnumbered",
                          (const char *const[]){name, fee, code});
    else
        sc__vas_text_line(t, req, "vas_list_item", (const char *const[]){num, name, fee, code});
}

/* {listed count, code, number, ... (listed), codes not listed...}. */
static void on_list(struct sc_req *req, const void *opts, struct redisReply *const *e, size_t n)
{
    (void)opts;
    const char *ls = sc__vas_el_str(e, n, 0);
    char *end = NULL;
    long listed = ls ? strtol(ls, &end, 10) : -1;
    if (!ls || *end || listed < 0 || listed > VAS_MAX_ITEM || (size_t)listed > (n - 1) / 2) {
        sc__vas_bad_result(req, "vas_list");
        return;
    }
    size_t nl = (size_t)listed, all = nl + (n - 1 - 2 * nl);
    if (all == 0) {
        sc_req_reply_tpl(req, "vas_list_empty", NULL);
        return;
    }
    /* Every code looked up once: the listed ones' entries kept for their
     * lines, the total (header) over all of them. */
    struct fee_sum total = {0, 0};
    const struct sc_service *svcs[VAS_MAX_ITEM];
    if (sc__vas_codes_sum(req, e, n, 1, 1 + 2 * nl, 2, &total, NULL, svcs) < 0 ||
        sc__vas_codes_sum(req, e, n, 1 + 2 * nl, n, 1, &total, NULL, NULL) < 0) {
        sc__vas_bad_result(req, "vas_list");
        return;
    }
    struct vas_text t;
    sc__vas_text_init(&t);
    char count[24], tot[32], unknown[96];
    snprintf(count, sizeof count, "%zu", all);
    sc__vas_fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
    sc__vas_text_tpl(&t, req, "vas_list_header", (const char *const[]){count, tot, unknown});
    for (size_t i = 0; i < nl; i++) {
        const char *num = sc__vas_el_str(e, n, 2 + 2 * i);
        if (!num) {
            sc__vas_bad_result(req, "vas_list");
            return;
        }
        list_line(&t, req, svcs[i], e[1 + 2 * i]->str, num);
    }
    if (nl < all) {
        char more[24];
        snprintf(more, sizeof more, "%zu", all - nl);
        sc__vas_text_line(&t, req, "vas_list_more", (const char *const[]){more});
    }
    sc__vas_text_line(&t, req, "vas_list_footer", NULL);
    sc_req_reply(req, t.s);
}

static void vas_list_prepare(const struct sc_req *req, const void *opts, struct sc_req_call *call)
{
    sc_req_key_m(call, SC_KEY_SUB);
    sc_req_key_m(call, SC_KEY_ITEMS);
    sc_req_arg_int(call, list_max(opts));
    sc_req_arg_int(call, req->limits->menu_ttl_s);
    sc_req_arg_int(call, req->limits->redelivery_horizon_s);
}

const struct sc_handler sc_handler_vas_list = {
    .name = "vas_list",
    .summary = "list the subscriber's monthly services with stable item numbers",
    .options = &vas_list_schema,
    .templates = vas_list_templates,
    .script = sc__vas_list_lua,
    .key_types = "hh",
    .prepare = vas_list_prepare,
    .result = on_list,
};

