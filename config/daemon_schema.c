/* daemon_schema.c -- the daemon's config schema, its post-load checks, and the config.h API. */
#include "config/config_int.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/smpp.h"
#include "base/url.h"

/* ------------------------------------------------------------------------ */
/* The daemon's schema                                                      */

static const struct sc_enum bind_modes[] = {
    {"transceiver", SC_BIND_TRX},
    {"receiver+transmitter", SC_BIND_RX_TX},
    {NULL, 0},
};

static const struct sc_enum durabilities[] = {
    {"refuse", SC_CFG_DURABILITY_REFUSE},
    {"warn", SC_CFG_DURABILITY_WARN},
    {NULL, 0},
};

static const struct sc_enum ack_policies[] = {
    {"after_store", SC_ACK_AFTER_STORE},
    {"after_reply", SC_ACK_AFTER_REPLY},
    {NULL, 0},
};

static const struct sc_enum source_addrs[] = {
    {"msisdn", SC_SRC_MSISDN},
    {"alphanumeric", SC_SRC_ALPHANUMERIC},
    {NULL, 0},
};

static int check_bind(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                      const char *path)
{
    struct sc_cfg_bind *b = obj;
    b->line = map->line;
    b->col = map->col;
    if (b->reconnect_min_ms > b->reconnect_max_ms) {
        const struct sc_cfg_node *at = sc_cfg_node_get(map, "reconnect_min_ms");
        return sc_schema_error(ctx, at ? at : map,
                               "%s.reconnect_min_ms: must not exceed reconnect_max_ms (%d)", path,
                               b->reconnect_max_ms);
    }
    return 0;
}

#define B(m) offsetof(struct sc_cfg_bind, m)
static const struct sc_field bind_fields[] = {
    {"name", SC_FT_STRING, B(name), SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_UNIQUE, .max = 64},
    {"host", SC_FT_STRING, B(host), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 255},
    {"port", SC_FT_INT, B(port), SC_F_REQUIRED, .min = 1, .max = 65535},
    {"system_id", SC_FT_STRING, B(system_id), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 15},
    {"password", SC_FT_STRING, B(password), SC_F_SECRET, .max = 8, .def = ""},
    {"system_type", SC_FT_STRING, B(system_type), 0, .max = 12, .def = ""},
    {"mode", SC_FT_ENUM, B(mode), 0, .names = bind_modes, .def = "transceiver"},
    {"window", SC_FT_INT, B(window), 0, .min = 1, .max = 1000, .def = "10"},
    {"tps", SC_FT_INT, B(tps), 0, .min = 0, .max = 100000, .def = "0"},
    {"enquire_link_s", SC_FT_INT, B(enquire_link_s), 0, .min = 1, .max = 3600, .def = "30"},
    {"response_timeout_ms", SC_FT_INT, B(response_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "10000"},
    {"bind_timeout_ms", SC_FT_INT, B(bind_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "10000"},
    {"submit_retries", SC_FT_INT, B(submit_retries), 0, .min = 0, .max = 100, .def = "3"},
    {"throttle_pause_ms", SC_FT_INT, B(throttle_pause_ms), 0,
     .min = 0, .max = 600000, .def = "1000"},
    {"reconnect_min_ms", SC_FT_INT, B(reconnect_min_ms), 0, .min = 1, .max = 3600000, .def = "500"},
    {"reconnect_max_ms", SC_FT_INT, B(reconnect_max_ms), 0,
     .min = 1, .max = 3600000, .def = "30000"},
    {.name = NULL},
};
#undef B
static const struct sc_schema bind_schema = {bind_fields, sizeof(struct sc_cfg_bind), check_bind};

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
static const struct sc_field log_fields[] = {
    {"level", SC_FT_ENUM, C(log_level), 0, .parse = sc_log_level_parse,
     .hint = "debug, info, warn, error", .def = "info"},
    {.name = NULL},
};
static const struct sc_schema log_schema = {log_fields, 0, NULL};

static const struct sc_field smpp_fields[] = {
    {"max_pdu_len", SC_FT_UINT32, C(smpp.max_pdu_len), 0,
     .min = 512, .max = 65536, .def = "4096"},
    {"dc0", SC_FT_ENUM, C(smpp.dc0), 0, .parse = sc_dc0_parse, .hint = "gsm, latin1, ascii",
     .def = "gsm"},
    {"seg_mode", SC_FT_ENUM, C(smpp.seg_mode), 0, .parse = sc_seg_mode_parse,
     .hint = "udh, sar, payload", .def = "udh"},
    {"max_parts", SC_FT_INT, C(smpp.max_parts), 0, .min = 1, .max = SC_MT_MAX_PARTS, .def = "8"},
    {"source_ton", SC_FT_INT, C(smpp.source_ton), 0, .min = 0, .max = 6, .def = "0"},
    {"source_npi", SC_FT_INT, C(smpp.source_npi), 0, .min = 0, .max = 18, .def = "0"},
    {"reasm_timeout_ms", SC_FT_INT, C(smpp.reasm_timeout_ms), 0,
     .min = 1000, .max = 3600000, .def = "60000"},
    /* Retired (long MOs are held in Redis): accepted, 0 = not set. */
    {"reasm_max_pending", SC_FT_INT, C(smpp.reasm_max_pending), 0,
     .min = 0, .max = 10000000, .def = "0"},
    {"reasm_max_per_source", SC_FT_INT, C(smpp.reasm_max_per_source), 0,
     .min = 1, .max = 1000, .def = "8"},
    {"reasm_max_bytes", SC_FT_INT, C(smpp.reasm_max_bytes), 0,
     .min = 0, .max = 1073741824, .def = "0"},
    {"source_addr", SC_FT_ENUM, C(smpp.source_addr), 0, .names = source_addrs, .def = "msisdn"},
    {.name = NULL},
};
static const struct sc_schema smpp_schema = {smpp_fields, 0, NULL};

static int check_redis(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                       const char *path)
{
    const struct sc_config *cfg = obj;
    /* The store's own parser: what passes here is what the daemon accepts.
     * Its messages never quote the URL (it may hold the password). */
    struct sc_redis_url u = {0};
    char msg[160];
    int rc = sc_redis_url_parse(cfg->redis.url, &u, msg, sizeof msg);
    sc_redis_url_free(&u);
    if (rc < 0) {
        static const char pre[] = "redis url: ";
        const char *why = strncmp(msg, pre, sizeof pre - 1) == 0 ? msg + sizeof pre - 1 : msg;
        return sc_schema_error(ctx, sc_cfg_node_get(map, "url"), "%s.url: %s", path, why);
    }
    return 0;
}

static const struct sc_field redis_fields[] = {
    /* The URL may carry a password: never echoed. */
    {"url", SC_FT_STRING, C(redis.url), .flags = SC_F_REQUIRED | SC_F_SECRET | SC_F_NONEMPTY},
    {"connect_timeout_ms", SC_FT_INT, C(redis.connect_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "2000"},
    {"command_timeout_ms", SC_FT_INT, C(redis.command_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "2000"},
    {"catalogue_refresh_s", SC_FT_INT, C(redis.catalogue_refresh_s), 0,
     .min = 1, .max = 86400, .def = "300"},
    {"durability", SC_FT_ENUM, C(redis.durability), 0, .names = durabilities,
     .def = "refuse"},
    {"dataset_check_ms", SC_FT_INT, C(redis.dataset_check_ms), 0,
     .min = 100, .max = 60000, .def = "1000"},
    {.name = NULL},
};
static const struct sc_schema redis_schema = {redis_fields, 0, check_redis};

static const struct sc_field limits_fields[] = {
    {"menu_ttl_s", SC_FT_INT, C(limits.menu_ttl_s), 0, .min = 1, .max = 2592000, .def = "86400"},
    {"confirm_ttl_s", SC_FT_INT, C(limits.confirm_ttl_s), 0, .min = 1, .max = 86400, .def = "300"},
    {"redelivery_horizon_s", SC_FT_INT, C(limits.redelivery_horizon_s), 0,
     .min = 60, .max = 2592000, .def = "259200"},
    {"rate_limit_count", SC_FT_INT, C(limits.rate_limit_count), 0,
     .min = 1, .max = 1000000, .def = "10"},
    {"rate_limit_window_s", SC_FT_INT, C(limits.rate_limit_window_s), 0,
     .min = 1, .max = 86400, .def = "60"},
    {"max_inflight", SC_FT_INT, C(limits.max_inflight), 0,
     .min = 1, .max = 1000000, .def = "10000"},
    {"ack_policy", SC_FT_ENUM, C(limits.ack_policy), 0, .names = ack_policies,
     .def = "after_store"},
    {"mo_error_status", SC_FT_STATUS, C(limits.mo_error_status), 0, .def = "ESME_RX_T_APPN"},
    {"foreign_mo_status", SC_FT_STATUS, C(limits.foreign_mo_status), 0, .def = "ESME_ROK"},
    {"shutdown_timeout_ms", SC_FT_INT, C(limits.shutdown_timeout_ms), 0,
     .min = 0, .max = 600000, .def = "10000"},
    /* Orders (handlers/order.c, core/orders.c). */
    {"order_max_per_provider_day", SC_FT_INT, C(limits.order_max_per_provider_day), 0,
     .min = 1, .max = 1000, .def = "3"},
    {"order_decline_block_s", SC_FT_INT, C(limits.order_decline_block_s), 0,
     .min = 0, .max = 2592000, .def = "86400"},
    {"order_sweep_ms", SC_FT_INT, C(limits.order_sweep_ms), 0,
     .min = 50, .max = 60000, .def = "1000"},
    {"orders_poll_ms", SC_FT_INT, C(limits.orders_poll_ms), 0,
     .min = 50, .max = 60000, .def = "1000"},
    {"orders_read_count", SC_FT_INT, C(limits.orders_read_count), 0,
     .min = 1, .max = 1000, .def = "10"},
    {"orders_max_inflight", SC_FT_INT, C(limits.orders_max_inflight), 0,
     .min = 1, .max = 10000, .def = "100"},
    {"orders_claim_idle_ms", SC_FT_INT, C(limits.orders_claim_idle_ms), 0,
     .min = 100, .max = 86400000, .def = "60000"},
    {.name = NULL},
};
static const struct sc_schema limits_schema = {limits_fields, 0, NULL};

/* Cross-section rules: route names and the default route, route services,
 * prefix order. */
static int check_config(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                        const char *path)
{
    struct sc_config *cfg = obj;
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

    /* Longest prefix first, so that "+86" is tried before "86" (stable). */
    for (size_t i = 1; i < cfg->nmsisdn_prefixes; i++) {
        char *p = cfg->msisdn_prefixes[i];
        size_t j = i;
        for (; j > 0 && strlen(cfg->msisdn_prefixes[j - 1]) < strlen(p); j--)
            cfg->msisdn_prefixes[j] = cfg->msisdn_prefixes[j - 1];
        cfg->msisdn_prefixes[j] = p;
    }
    return 0;
}

static const struct sc_field config_fields[] = {
    {"log", SC_FT_SECTION, 0, 0, .sub = &log_schema},
    {"binds", SC_FT_LIST, C(binds), SC_F_REQUIRED, .min = 1, .count_offset = C(nbinds),
     .sub = &bind_schema},
    {"smpp", SC_FT_SECTION, 0, 0, .sub = &smpp_schema},
    {"redis", SC_FT_SECTION, 0, 0, .sub = &redis_schema},
    {"service_numbers", SC_FT_STRLIST, C(service_numbers),
     SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_UNIQUE | SC_F_ONE_OR_LIST, .min = 1,
     .count_offset = C(nservice_numbers)},
    {"msisdn_prefixes", SC_FT_STRLIST, C(msisdn_prefixes), SC_F_NONEMPTY | SC_F_UNIQUE,
     .def = "+86,86", .count_offset = C(nmsisdn_prefixes)},
    {"routes", SC_FT_LIST, C(routes), 0, .count_offset = C(nroutes), .sub = &route_schema},
    {"templates", SC_FT_MAP, C(templates), 0, .count_offset = C(ntemplates)},
    {"limits", SC_FT_SECTION, 0, 0, .sub = &limits_schema},
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
    struct sc_cfg_node *root = sc_cfg_parse_file(path, err, errsz);
    if (!root) {
        sc_config_free(cfg);
        return NULL;
    }
    struct sc_schema_ctx ctx = {path, err, errsz, root->line, root->col};
    int rc;
    if (sc__node_is_null(root))
        rc = sc__err_pos(&ctx, 0, 0, "empty document (no settings)");
    else if (root->kind != SC_CFG_MAP)
        rc = sc_schema_error(&ctx, root, "the top level must be a mapping of settings "
                                         "(\"key: value\" lines), not %s", sc__kind_name(root));
    else
        rc = sc_schema_apply(&ctx, &config_schema, cfg, root, "");
    sc_cfg_node_free(root);
    if (rc) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

size_t sc_config_diff(const struct sc_config *a, const struct sc_config *b,
                      sc_config_diff_cb cb, void *arg)
{
    return sc__schema_diff(&config_schema, a, b, cb, arg);
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
    const char *set[2];
    size_t n = 0;
    if (cfg->smpp.reasm_max_pending)
        set[n++] = "smpp.reasm_max_pending";
    if (cfg->smpp.reasm_max_bytes)
        set[n++] = "smpp.reasm_max_bytes";
    return i < n ? set[i] : NULL;
}
