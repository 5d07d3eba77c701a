/* store_conf.c -- the schema of the "redis:" section. */
#include "store/store_conf.h"

#include <stddef.h>
#include <string.h>

#include "base/url.h"

static const struct sc_enum durabilities[] = {
    {"refuse", SC_CFG_DURABILITY_REFUSE},
    {"warn", SC_CFG_DURABILITY_WARN},
    {NULL, 0},
};

static int check_redis(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                       const char *path)
{
    const struct sc_cfg_redis *r = obj;
    /* The store's own parser: what passes here is what the daemon accepts.
     * Its messages never quote the URL (it may hold the password). */
    struct sc_redis_url u = {0};
    char msg[160];
    int rc = sc_redis_url_parse(r->url, &u, msg, sizeof msg);
    sc_redis_url_free(&u);
    if (rc < 0) {
        static const char pre[] = "redis url: ";
        const char *why = strncmp(msg, pre, sizeof pre - 1) == 0 ? msg + sizeof pre - 1 : msg;
        return sc_schema_error(ctx, sc_cfg_node_get(map, "url"), "%s.url: %s", path, why);
    }
    /* A WAIT that blocks holds up what is pipelined behind it: it must end
     * well before the command deadline drops the connection. */
    if (r->wait_replicas && r->wait_timeout_ms * 2 > r->command_timeout_ms)
        return sc_schema_error(ctx, sc_cfg_node_get(map, "wait_timeout_ms"),
                               "%s.wait_timeout_ms: %d is more than half of command_timeout_ms "
                               "(%d)", path, r->wait_timeout_ms, r->command_timeout_ms);
    return 0;
}

#define R(m) offsetof(struct sc_cfg_redis, m)
static const struct sc_field redis_fields[] = {
    /* The URL may carry a password: never echoed. */
    {"url", SC_FT_STRING, R(url), .flags = SC_F_REQUIRED | SC_F_SECRET | SC_F_NONEMPTY},
    {"connect_timeout_ms", SC_FT_INT, R(connect_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "2000"},
    {"command_timeout_ms", SC_FT_INT, R(command_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "2000"},
    {"catalogue_refresh_s", SC_FT_INT, R(catalogue_refresh_s), 0,
     .min = 1, .max = 86400, .def = "300"},
    {"durability", SC_FT_ENUM, R(durability), 0, .names = durabilities, .def = "refuse"},
    {"dataset_check_ms", SC_FT_INT, R(dataset_check_ms), 0,
     .min = 100, .max = 60000, .def = "1000"},
    {"wait_replicas", SC_FT_INT, R(wait_replicas), 0, .min = 0, .max = 16, .def = "0"},
    {"wait_timeout_ms", SC_FT_INT, R(wait_timeout_ms), 0, .min = 10, .max = 300000, .def = "500"},
    {.name = NULL},
};
#undef R
const struct sc_schema sc_cfg_redis_schema = {redis_fields, sizeof(struct sc_cfg_redis),
                                              check_redis};
