/* reminders_conf.c -- the schema of the "reminders:" section
 * (core/reminders_conf.h): the consumer's limits, then one sub-section per
 * rule, whose template is compiled here so that a bad one stops --check. */
#include "core/reminders_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/esme.h"
#include "text/template.h"

static const char *const data_vars[] = {"pct", "used_mb", "quota_mb"};
static const char *const balance_vars[] = {"balance_yuan", "threshold_yuan"};
static const char *const suspension_vars[] = {"balance_yuan", "credit_yuan"};
static const char *const roaming_vars[] = {"country", "hint"};
static const char *const charges_vars[] = {"charges_yuan", "threshold_yuan"};

const char *const sc_rule_names[SC_RULE_COUNT] = {"data", "balance", "suspension", "roaming",
                                                  "charges"};
const char *const *const sc_rule_vars[SC_RULE_COUNT] = {data_vars, balance_vars, suspension_vars,
                                                        roaming_vars, charges_vars};
const size_t sc_rule_nvars[SC_RULE_COUNT] = {
    SC_ARRAY_LEN(data_vars), SC_ARRAY_LEN(balance_vars), SC_ARRAY_LEN(suspension_vars),
    SC_ARRAY_LEN(roaming_vars), SC_ARRAY_LEN(charges_vars)};

/* The rows every rule has, at offset base of its struct. */
#define RULE_ROWS(T, tpl_, prio_, kind_, urgent_)                                             \
    {"enabled", SC_FT_BOOL, offsetof(T, r.enabled), 0, .def = "true"},                       \
    {"template", SC_FT_STRING, offsetof(T, r.template), SC_F_NONEMPTY, .max = 1000,          \
     .def = tpl_},                                                                            \
    {"kind", SC_FT_STRING, offsetof(T, r.kind), SC_F_NONEMPTY, .max = 16, .def = kind_},     \
    {"priority", SC_FT_INT, offsetof(T, r.priority), 0, .min = 0, .max = SC_ESME_PRIO_MAX,   \
     .def = prio_},                                                                           \
    {"urgent", SC_FT_BOOL, offsetof(T, r.urgent), 0, .def = urgent_}

/* The suspension rule has only the common rows: its struct, as the macro
 * wants it (same layout as struct sc_cfg_rule). */
struct rule_wrap {
    struct sc_cfg_rule r;
};

/* A rule's template compiled against its placeholders (error at its value),
 * its kind checked like mt:push's. */
static int check_rule(struct sc_schema_ctx *ctx, const struct sc_cfg_rule *r, int id,
                      const struct sc_cfg_node *map, const char *path)
{
    char e[300];
    for (const char *k = r->kind; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || *k == '_'))
            return sc_schema_error(ctx, sc_cfg_node_get(map, "kind"),
                                   "%s.kind: must be lower-case letters and _", path);
    for (const char *t = r->template; *t; t++)
        if ((unsigned char)*t < 0x20)
            return sc_schema_error(ctx, sc_cfg_node_get(map, "template"),
                                   "%s.template: control characters are not allowed", path);
    struct sc_tpl *t = sc_tpl_compile(r->template, sc_rule_vars[id], sc_rule_nvars[id], e,
                                      sizeof e);
    if (!t)
        return sc_schema_error(ctx, sc_cfg_node_get(map, "template"), "%s.template: %s", path,
                               e);
    sc_tpl_free(t);
    return 0;
}

#define CHECK_RULE(name, T, id)                                                              \
    static int check_##name(struct sc_schema_ctx *ctx, void *obj,                            \
                            const struct sc_cfg_node *map, const char *path)                 \
    {                                                                                        \
        return check_rule(ctx, &((T *)obj)->r, id, map, path);                               \
    }

/* ---- data ---------------------------------------------------------------- */

static const struct sc_field data_fields[] = {
    RULE_ROWS(struct sc_cfg_rule_data,
              "尊敬的客户，您本月套餐内流量已使用{pct}%（已用{used_mb}MB，共{quota_mb}MB）。"
              "回复CXLL查询流量，回复LLTX加数字设置提醒。",
              "5", "reminder", "false"),
    {"percents", SC_FT_STRLIST, offsetof(struct sc_cfg_rule_data, percents),
     SC_F_NONEMPTY | SC_F_UNIQUE | SC_F_ONE_OR_LIST, .min = 1, .max = 16, .def = "80,100",
     .count_offset = offsetof(struct sc_cfg_rule_data, npercents)},
    {.name = NULL},
};

static int check_data(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                      const char *path)
{
    struct sc_cfg_rule_data *d = obj;
    for (size_t i = 0; i < d->npercents; i++) {
        const char *s = d->percents[i];
        size_t n = strlen(s);
        long v = n && n <= 4 && strspn(s, "0123456789") == n ? strtol(s, NULL, 10) : 0;
        if (v < 1 || v > 1000)
            return sc_schema_error(ctx, sc_cfg_node_get(map, "percents"),
                                   "%s.percents: \"%s\" is not a percentage 1..1000", path,
                                   d->percents[i]);
        d->pct[i] = (int)v;
    }
    return check_rule(ctx, &d->r, SC_RULE_DATA, map, path);
}

static const struct sc_schema data_schema = {data_fields, sizeof(struct sc_cfg_rule_data),
                                             check_data};

/* ---- balance, suspension, charges ------------------------------------------ */

static const struct sc_field balance_fields[] = {
    RULE_ROWS(struct sc_cfg_rule_balance,
              "尊敬的客户，您的账户余额为{balance_yuan}元，已低于{threshold_yuan}元，"
              "请及时充值。回复CXYE查询余额。",
              "4", "reminder", "false"),
    {"below_fen", SC_FT_INT, offsetof(struct sc_cfg_rule_balance, below_fen), 0, .min = 1,
     .max = 100000000, .def = "1000"},
    {.name = NULL},
};
CHECK_RULE(balance, struct sc_cfg_rule_balance, SC_RULE_BALANCE)
static const struct sc_schema balance_schema = {
    balance_fields, sizeof(struct sc_cfg_rule_balance), check_balance};

static const struct sc_field suspension_fields[] = {
    RULE_ROWS(struct rule_wrap,
              "尊敬的客户，您的账户余额为{balance_yuan}元，已超出信用额度{credit_yuan}元，"
              "服务将被暂停，请尽快充值。",
              "0", "warning", "true"),
    {.name = NULL},
};
CHECK_RULE(suspension, struct rule_wrap, SC_RULE_SUSPENSION)
static const struct sc_schema suspension_schema = {suspension_fields, sizeof(struct sc_cfg_rule),
                                                   check_suspension};

static const struct sc_field charges_fields[] = {
    RULE_ROWS(struct sc_cfg_rule_charges,
              "尊敬的客户，您本月已产生费用{charges_yuan}元，超过{threshold_yuan}元，"
              "请留意消费。回复CXZD查询账单。",
              "4", "reminder", "false"),
    {"above_fen", SC_FT_INT, offsetof(struct sc_cfg_rule_charges, above_fen), 0, .min = 1,
     .max = 100000000, .def = "20000"},
    {.name = NULL},
};
CHECK_RULE(charges, struct sc_cfg_rule_charges, SC_RULE_CHARGES)
static const struct sc_schema charges_schema = {
    charges_fields, sizeof(struct sc_cfg_rule_charges), check_charges};

/* ---- roaming ------------------------------------------------------------------ */

static const struct sc_field roaming_fields[] = {
    RULE_ROWS(struct sc_cfg_rule_roaming, "欢迎来到{country}！{hint}", "5", "reminder",
              "false"),
    {"hints", SC_FT_MAP, offsetof(struct sc_cfg_rule_roaming, hints), 0,
     .count_offset = offsetof(struct sc_cfg_rule_roaming, nhints)},
    {"default_hint", SC_FT_STRING, offsetof(struct sc_cfg_rule_roaming, default_hint), 0,
     .max = 500, .def = "国际漫游资费请拨打10086或登录网上营业厅查询。"},
    {.name = NULL},
};

/* Hint keys are country codes as usage:in spells them ([A-Z0-9]{1,8}). */
static int check_roaming(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                         const char *path)
{
    struct sc_cfg_rule_roaming *r = obj;
    for (size_t i = 0; i < r->nhints; i++) {
        const char *k = r->hints[i].key;
        size_t n = strlen(k);
        if (n == 0 || n > 8 || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
            return sc_schema_error(ctx, sc_cfg_node_get(map, "hints"),
                                   "%s.hints: \"%s\" is not a country code ([A-Z0-9]{1,8})",
                                   path, k);
        for (const char *t = r->hints[i].value ? r->hints[i].value : ""; *t; t++)
            if ((unsigned char)*t < 0x20)
                return sc_schema_error(ctx, sc_cfg_node_get(map, "hints"),
                                       "%s.hints.%s: control characters are not allowed", path,
                                       k);
    }
    return check_rule(ctx, &r->r, SC_RULE_ROAMING, map, path);
}

static const struct sc_schema roaming_schema = {
    roaming_fields, sizeof(struct sc_cfg_rule_roaming), check_roaming};

/* ---- the section ----------------------------------------------------------------- */

#define R(m) offsetof(struct sc_cfg_reminders, m)
static const struct sc_field reminders_fields[] = {
    {"enabled", SC_FT_BOOL, R(enabled), 0, .def = "true"},
    {"read_count", SC_FT_INT, R(read_count), 0, .min = 1, .max = 10000, .def = "500"},
    {"block_ms", SC_FT_INT, R(block_ms), 0, .min = 10, .max = 60000, .def = "1000"},
    {"claim_idle_ms", SC_FT_INT, R(claim_idle_ms), 0, .min = 100, .max = 86400000,
     .def = "60000"},
    {"max_inflight", SC_FT_INT, R(max_inflight), 0, .min = 1, .max = 1000000, .def = "5000"},
    {"apply_batch", SC_FT_INT, R(apply_batch), 0, .min = 1, .max = 256, .def = "64"},
    {"state_ttl_s", SC_FT_INT, R(state_ttl_s), 0, .min = 86400, .max = 315360000,
     .def = "8640000"},
    {"data", SC_FT_SECTION, R(data), 0, .sub = &data_schema},
    {"balance", SC_FT_SECTION, R(balance), 0, .sub = &balance_schema},
    {"suspension", SC_FT_SECTION, R(suspension), 0, .sub = &suspension_schema},
    {"roaming", SC_FT_SECTION, R(roaming), 0, .sub = &roaming_schema},
    {"charges", SC_FT_SECTION, R(charges), 0, .sub = &charges_schema},
    {.name = NULL},
};
#undef R

const struct sc_schema sc_cfg_reminders_schema = {reminders_fields,
                                                  sizeof(struct sc_cfg_reminders), NULL};

const struct sc_cfg_rule *sc_reminders_rule(const struct sc_cfg_reminders *rc, int i)
{
    switch (i) {
    case SC_RULE_DATA: return &rc->data.r;
    case SC_RULE_BALANCE: return &rc->balance.r;
    case SC_RULE_SUSPENSION: return &rc->suspension;
    case SC_RULE_ROAMING: return &rc->roaming.r;
    default: return &rc->charges.r;
    }
}
