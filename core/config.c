/* config.c -- the daemon's top-level schema (which points at each subsystem's
 * section), core's own sections (log, routes, limits, ...), the cross-section
 * checks and the config.h API. */
#include "core/config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/smpp.h"
#include "handlers/handler.h"

static const struct sc_enum ack_policies[] = {
    {"after_store", SC_ACK_AFTER_STORE},
    {"after_reply", SC_ACK_AFTER_REPLY},
    {NULL, 0},
};

static int check_route(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                       const char *path)
{
    struct sc_cfg_route *r = obj;
    r->line = map->line;
    r->col = map->col;
    if (!r->regex)
        return 0;
    const struct sc_cfg_node *at = sc_cfg_node_get(map, "regex");
    if (r->nwords)
        return sc_schema_error(ctx, at, "%s: has both match and regex (use one of them)", path);
    regex_t re;
    int rc = regcomp(&re, r->regex, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        return sc_schema_error(ctx, at, "%s.regex: invalid regular expression: %s", path, msg);
    }
    regfree(&re);
    return 0;
}

#define R(m) offsetof(struct sc_cfg_route, m)
static const struct sc_field route_fields[] = {
    {"name", SC_FT_STRING, R(name), SC_F_NONEMPTY, .max = 64},
    {"match", SC_FT_STRLIST, R(words), SC_F_NONEMPTY | SC_F_ONE_OR_LIST, .min = 1,
     .count_offset = R(nwords)},
    {"regex", SC_FT_STRING, R(regex), .flags = SC_F_NONEMPTY},
    {"service", SC_FT_STRING, R(service), SC_F_NONEMPTY, .max = 20},
    {"handler", SC_FT_STRING, R(handler), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 64},
    {"options", SC_FT_NODE, R(options), .flags = 0},
    {.name = NULL},
};
#undef R
static const struct sc_schema route_schema = {route_fields, sizeof(struct sc_cfg_route),
                                              check_route};

#define C(m) offsetof(struct sc_config, m)
/* log: a section of its own in the file, one member of struct sc_config: its
 * field's offset is into struct sc_config (the section's .offset is 0). */
static const struct sc_field log_fields[] = {
    {"level", SC_FT_ENUM, C(log_level), 0, .parse = sc_log_level_parse,
     .hint = "debug, info, warn, error", .def = "info"},
    {.name = NULL},
};
static const struct sc_schema log_schema = {log_fields, 0, NULL};

#define L(m) offsetof(struct sc_cfg_limits, m)
static const struct sc_field limits_fields[] = {
    {"menu_ttl_s", SC_FT_INT, L(menu_ttl_s), 0, .min = 1, .max = 2592000, .def = "86400"},
    {"confirm_ttl_s", SC_FT_INT, L(confirm_ttl_s), 0, .min = 1, .max = 86400, .def = "300"},
    {"redelivery_horizon_s", SC_FT_INT, L(redelivery_horizon_s), 0,
     .min = 60, .max = 2592000, .def = "259200"},
    {"rate_limit_count", SC_FT_INT, L(rate_limit_count), 0,
     .min = 1, .max = 1000000, .def = "10"},
    {"rate_limit_window_s", SC_FT_INT, L(rate_limit_window_s), 0,
     .min = 1, .max = 86400, .def = "60"},
    {"max_inflight", SC_FT_INT, L(max_inflight), 0,
     .min = 1, .max = 1000000, .def = "10000"},
    {"ack_policy", SC_FT_ENUM, L(ack_policy), 0, .names = ack_policies,
     .def = "after_reply"},
    {"reply_hold_ms", SC_FT_INT, L(reply_hold_ms), 0, .min = 100, .max = 600000, .def = "5000"},
    {"mo_error_status", SC_FT_STATUS, L(mo_error_status), 0, .def = "ESME_RX_T_APPN"},
    {"foreign_mo_status", SC_FT_STATUS, L(foreign_mo_status), 0, .def = "ESME_ROK"},
    {"shutdown_timeout_ms", SC_FT_INT, L(shutdown_timeout_ms), 0,
     .min = 0, .max = 600000, .def = "10000"},
    /* Orders (handlers/order.c, core/orders.c). */
    {"order_max_per_provider_day", SC_FT_INT, L(order_max_per_provider_day), 0,
     .min = 1, .max = 1000, .def = "3"},
    {"order_decline_block_s", SC_FT_INT, L(order_decline_block_s), 0,
     .min = 0, .max = 2592000, .def = "86400"},
    {"order_sweep_ms", SC_FT_INT, L(order_sweep_ms), 0, .min = 50, .max = 60000, .def = "1000"},
    {"orders_poll_ms", SC_FT_INT, L(orders_poll_ms), 0, .min = 50, .max = 60000, .def = "1000"},
    {"orders_read_count", SC_FT_INT, L(orders_read_count), 0, .min = 1, .max = 1000, .def = "10"},
    {"orders_max_inflight", SC_FT_INT, L(orders_max_inflight), 0,
     .min = 1, .max = 10000, .def = "100"},
    {"orders_claim_idle_ms", SC_FT_INT, L(orders_claim_idle_ms), 0,
     .min = 100, .max = 86400000, .def = "60000"},
    {"refund_unconfirmed", SC_FT_BOOL, L(refund_unconfirmed), 0, .def = "true"},
    {"refund_max_months", SC_FT_INT, L(refund_max_months), 0, .min = 1,
     .max = SC_REFUND_MAX_MONTHS, .def = "6"},
    {"relay_dedup_s", SC_FT_INT, L(relay_dedup_s), 0, .min = 60, .max = 2592000,
     .def = "3600"},
    {.name = NULL},
};
#undef L
static const struct sc_schema limits_schema = {limits_fields, sizeof(struct sc_cfg_limits),
                                               NULL};

/* Rules across routes and sections: default names, unique names, a
 * route's service among service_numbers, at most one default route, last. */
static int check_routes(struct sc_schema_ctx *ctx, struct sc_config *cfg,
                        const struct sc_cfg_node *map)
{
    const struct sc_cfg_node *rlist = sc_cfg_node_get(map, "routes");
    const struct sc_cfg_node *rn = rlist ? rlist->child : NULL;
    size_t deflt = (size_t)-1;

    for (size_t i = 0; i < cfg->nroutes; i++, rn = rn ? rn->next : NULL) {
        struct sc_cfg_route *r = &cfg->routes[i];
        const struct sc_cfg_node *name_at = rn ? sc_cfg_node_get(rn, "name") : NULL;
        char q[80];
        if (!r->name) {
            char buf[32];
            snprintf(buf, sizeof buf, "route%zu", i);
            if (!(r->name = strdup(buf)))
                return SC_ENOMEM;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->routes[j].name, r->name) == 0)
                return sc_schema_error(
                    ctx, name_at ? name_at : rn,
                    "routes[%zu].name: duplicate route name %s (also routes[%zu])", i,
                    sc_log_quote(q, sizeof q, r->name, strlen(r->name)), j);
        if (r->service) {
            size_t k;
            for (k = 0; k < cfg->nservice_numbers; k++)
                if (strcmp(cfg->service_numbers[k], r->service) == 0)
                    break;
            if (k == cfg->nservice_numbers)
                return sc_schema_error(ctx, rn ? sc_cfg_node_get(rn, "service") : NULL,
                                       "routes[%zu].service: %s is not in service_numbers", i,
                                       sc_log_quote(q, sizeof q, r->service, strlen(r->service)));
        }
        if (r->nwords == 0 && !r->regex) {
            if (deflt != (size_t)-1)
                return sc_schema_error(ctx, rn,
                                       "routes[%zu]: a second default route (routes[%zu] already "
                                       "has neither match nor regex)",
                                       i, deflt);
            deflt = i;
        }
    }
    if (deflt != (size_t)-1 && deflt + 1 != cfg->nroutes) {
        rn = rlist ? rlist->child : NULL;
        for (size_t i = 0; rn && i < deflt; i++)
            rn = rn->next;
        return sc_schema_error(ctx, rn,
                               "routes[%zu]: the default route (neither match nor regex) must be "
                               "the last route",
                               deflt);
    }
    return 0;
}

/* Longest prefix first, so that "+86" is tried before "86" (stable). */
static void sort_prefixes(struct sc_config *cfg)
{
    for (size_t i = 1; i < cfg->nmsisdn_prefixes; i++) {
        char *p = cfg->msisdn_prefixes[i];
        size_t j = i;
        for (; j > 0 && strlen(cfg->msisdn_prefixes[j - 1]) < strlen(p); j--)
            cfg->msisdn_prefixes[j] = cfg->msisdn_prefixes[j - 1];
        cfg->msisdn_prefixes[j] = p;
    }
}

static int check_config(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                        const char *path)
{
    struct sc_config *cfg = obj;
    int rc = check_routes(ctx, cfg, map);
    if (rc == 0)
        sort_prefixes(cfg);
    return rc;
}

/* The daemon's top level: the sections in file order (also the order of the
 * reload-diff lines), each pointing at the table of the folder that owns it. */
static const struct sc_field config_fields[] = {
    {"log", SC_FT_SECTION, 0, 0, .sub = &log_schema},
    {"binds", SC_FT_LIST, C(binds), SC_F_REQUIRED, .min = 1, .count_offset = C(nbinds),
     .sub = &sc_cfg_bind_schema},
    {SC_CFG_SMPP_KEY, SC_FT_SECTION, C(smpp), 0, .sub = &sc_cfg_smpp_schema},
    {"redis", SC_FT_SECTION, C(redis), 0, .sub = &sc_cfg_redis_schema},
    {"service_numbers", SC_FT_STRLIST, C(service_numbers),
     SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_UNIQUE | SC_F_ONE_OR_LIST, .min = 1,
     .count_offset = C(nservice_numbers)},
    {"msisdn_prefixes", SC_FT_STRLIST, C(msisdn_prefixes), SC_F_NONEMPTY | SC_F_UNIQUE,
     .def = "+86,86", .count_offset = C(nmsisdn_prefixes)},
    {"routes", SC_FT_LIST, C(routes), 0, .count_offset = C(nroutes), .sub = &route_schema},
    {"templates", SC_FT_MAP, C(templates), 0, .count_offset = C(ntemplates)},
    {"limits", SC_FT_SECTION, C(limits), 0, .sub = &limits_schema},
    {"mt", SC_FT_SECTION, C(mt), 0, .sub = &sc_cfg_mt_schema},
    {"http", SC_FT_SECTION, C(http), 0, .sub = &sc_cfg_http_schema},
    {"reminders", SC_FT_SECTION, C(reminders), 0, .sub = &sc_cfg_reminders_schema},
    {"leases", SC_FT_SECTION, C(leases), 0, .sub = &sc_cfg_leases_schema},
    {.name = NULL},
};
#undef C
static const struct sc_schema config_schema = {config_fields, sizeof(struct sc_config),
                                               check_config};

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

struct sc_config *sc_config_load(const char *path, char *err, size_t errsz)
{
    struct sc_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(path))) {
        free(cfg);
        snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    if (sc_schema_load_file(path, &config_schema, cfg, err, errsz)) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

size_t sc_config_diff(const struct sc_config *a, const struct sc_config *b,
                      sc_config_diff_cb cb, void *arg)
{
    return sc_schema_diff(&config_schema, a, b, cb, arg);
}

void sc_config_free(struct sc_config *cfg)
{
    if (!cfg)
        return;
    sc_schema_free(&config_schema, cfg);
    free(cfg->path);
    free(cfg);
}

const struct sc_cfg_kv *sc_config_template(const struct sc_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ntemplates; i++)
        if (strcmp(cfg->templates[i].key, name) == 0)
            return &cfg->templates[i];
    return NULL;
}

const char *sc_config_retired(const struct sc_config *cfg, size_t i)
{
    return sc_cfg_smpp_retired(&cfg->smpp, i);
}
