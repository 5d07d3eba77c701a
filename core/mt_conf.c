/* mt_conf.c -- the schema of the "mt:" section (core/mt_conf.h). */
#include "core/mt_conf.h"

#include <stddef.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/esme.h"

#define M(m) offsetof(struct sc_cfg_mt, m)
static const struct sc_field mt_fields[] = {
    {"enabled", SC_FT_BOOL, M(enabled), 0, .def = "true"},
    {"consumer", SC_FT_STRING, M(consumer), SC_F_NONEMPTY, .max = 64},
    {"block_ms", SC_FT_INT, M(block_ms), 0, .min = 10, .max = 60000, .def = "1000"},
    {"read_count", SC_FT_INT, M(read_count), 0, .min = 1, .max = 10000, .def = "100"},
    {"claim_idle_ms", SC_FT_INT, M(claim_idle_ms), 0, .min = 100, .max = 86400000,
     .def = "60000"},
    {"max_queued", SC_FT_INT, M(max_queued), 0, .min = 1, .max = 1000000, .def = "1000"},
    {"dedup_horizon_s", SC_FT_INT, M(dedup_horizon_s), 0, .min = 60, .max = 31536000,
     .def = "604800"},
    {"default_priority", SC_FT_INT, M(default_priority), 0, .min = 0, .max = SC_ESME_PRIO_MAX,
     .def = "5"},
    {"receipts", SC_FT_STRLIST, M(receipts), SC_F_NONEMPTY | SC_F_UNIQUE | SC_F_ONE_OR_LIST,
     .def = "*", .max = 64, .count_offset = M(nreceipts)},
    {"receipt_ttl_s", SC_FT_INT, M(receipt_ttl_s), 0, .min = 60, .max = 31536000,
     .def = "259200"},
    {"receipt_park_s", SC_FT_INT, M(receipt_park_s), 0, .min = 1, .max = 86400, .def = "600"},
    {"order_priority", SC_FT_INT, M(order_priority), 0, .min = 0, .max = SC_ESME_PRIO_MAX,
     .def = "0"},
    {"order_quiet", SC_FT_BOOL, M(order_quiet), 0, .def = "false"},
    {"status_maxlen", SC_FT_INT, M(status_maxlen), 0, .min = 1000, .max = 1000000000,
     .def = "1000000"},
    {"quiet_hours", SC_FT_STRING, M(quiet_hours), 0, .max = 32, .def = ""},
    {"time_zone", SC_FT_STRING, M(time_zone), SC_F_NONEMPTY, .max = 64, .def = "Asia/Shanghai"},
    {"test_clock", SC_FT_STRING, M(test_clock), SC_F_NONEMPTY, .max = 8},
    {.name = NULL},
};
#undef M

/* quiet_hours, time_zone and test_clock parsed, errors at their values. */
static int check_mt(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                    const char *path)
{
    struct sc_cfg_mt *m = obj;
    const char *why = NULL;
    const char *pre = path && *path ? path : "mt";
    if (sc_quiet_parse(m->quiet_hours, &m->quiet, &why) < 0)
        return sc_schema_error(ctx, sc_cfg_node_get(map, "quiet_hours"), "%s.quiet_hours: %s",
                               pre, why);
    if (!sc_tz_valid(m->time_zone))
        return sc_schema_error(ctx, sc_cfg_node_get(map, "time_zone"),
                               "%s.time_zone: unknown time zone \"%s\" (a tz database name "
                               "such as Asia/Shanghai)", pre, m->time_zone);
    m->test_clock_s = -1;
    if (m->test_clock && sc_quiet_parse_clock(m->test_clock, &m->test_clock_s) < 0)
        return sc_schema_error(ctx, sc_cfg_node_get(map, "test_clock"),
                               "%s.test_clock: must be \"HH:MM:SS\"", pre);
    return 0;
}

const struct sc_schema sc_cfg_mt_schema = {mt_fields, sizeof(struct sc_cfg_mt), check_mt};

int sc_mt_wants_receipt(const struct sc_cfg_mt *mc, const char *kind)
{
    for (size_t i = 0; i < mc->nreceipts; i++)
        if (strcmp(mc->receipts[i], "*") == 0 || strcmp(mc->receipts[i], kind) == 0)
            return 1;
    return 0;
}
