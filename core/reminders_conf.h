/* reminders_conf.h -- the "reminders:" section: the usage:in consumer
 * (core/usage.c) and its reminder rules, each with its template, kind and
 * priority (docs/reminders.md). Its struct and its schema (config/schema.h).
 *
 * core/config.c lists the schema in the daemon's top-level table; the values
 * are filled and freed by the schema engine and owned by the struct
 * sc_config they are part of. Every key needs a restart: the rules and
 * their templates are compiled into the consumer's one Lua script when it
 * is registered (core/usage_lua.c). */
#ifndef SC_REMINDERS_CONF_H
#define SC_REMINDERS_CONF_H

#include <stddef.h>

#include "config/schema.h"

/* What every rule has. */
struct sc_cfg_rule {
    int enabled;                 /* default true */
    char *template;              /* text/template.c syntax; placeholders per rule */
    char *kind;                  /* mt:push kind, [a-z_]{1,16} */
    int priority;                /* mt:push priority 0 urgent .. 9 bulk */
    int urgent;                  /* sent in quiet hours too (suspension: default true) */
};

struct sc_cfg_rule_data {
    struct sc_cfg_rule r;        /* {pct} {used_mb} {quota_mb} */
    char **percents;             /* of data_quota_kb, default 80, 100 */
    size_t npercents;
    int pct[16];                 /* percents parsed (not a key) */
};

struct sc_cfg_rule_balance {
    struct sc_cfg_rule r;        /* {balance_yuan} {threshold_yuan} */
    int below_fen;               /* default 1000 */
};

struct sc_cfg_rule_roaming {
    struct sc_cfg_rule r;        /* {country} {hint} */
    struct sc_cfg_kv *hints;     /* country code -> tariff hint */
    size_t nhints;
    char *default_hint;          /* for a country without one */
};

struct sc_cfg_rule_charges {
    struct sc_cfg_rule r;        /* {charges_yuan} {threshold_yuan} */
    int above_fen;               /* default 20000 */
};

struct sc_cfg_reminders {
    int enabled;                 /* read usage:in at all, default true */
    int read_count;              /* entries per read (COUNT), default 500 */
    int block_ms;                /* XREADGROUP BLOCK, default 1000 */
    int claim_idle_ms;           /* pending this long: taken over (XAUTOCLAIM), default 60000 */
    int max_inflight;            /* entries read and not yet applied, default 5000 */
    int apply_batch;             /* entries applied by one script call, default 64 (1 on a
                                  * Redis Cluster: core/usage.c) */
    int state_ttl_s;             /* remsent:{M} lives this long after its last reminder,
                                  * default 8640000 (100 days) */
    struct sc_cfg_rule_data data;
    struct sc_cfg_rule_balance balance;
    struct sc_cfg_rule suspension; /* {balance_yuan} {credit_yuan}; urgent: never quiet */
    struct sc_cfg_rule_roaming roaming;
    struct sc_cfg_rule_charges charges;
};

extern const struct sc_schema sc_cfg_reminders_schema;

/* The placeholders of each rule's template, in the order of the values the
 * script renders (core/usage_lua.c). */
enum sc_rule_id { SC_RULE_DATA, SC_RULE_BALANCE, SC_RULE_SUSPENSION, SC_RULE_ROAMING,
                  SC_RULE_CHARGES, SC_RULE_COUNT };
extern const char *const sc_rule_names[SC_RULE_COUNT];
extern const char *const *const sc_rule_vars[SC_RULE_COUNT];
extern const size_t sc_rule_nvars[SC_RULE_COUNT];
/* The common part of rule i of rc. */
const struct sc_cfg_rule *sc_reminders_rule(const struct sc_cfg_reminders *rc, int i);

#endif
