/* mt_conf.c -- the schema of the "mt:" section (core/mt_conf.h). */
#include "core/mt_conf.h"

#include <stddef.h>
#include <string.h>

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
    {.name = NULL},
};
#undef M
const struct sc_schema sc_cfg_mt_schema = {mt_fields, sizeof(struct sc_cfg_mt), NULL};

int sc_mt_wants_receipt(const struct sc_cfg_mt *mc, const char *kind)
{
    for (size_t i = 0; i < mc->nreceipts; i++)
        if (strcmp(mc->receipts[i], "*") == 0 || strcmp(mc->receipts[i], kind) == 0)
            return 1;
    return 0;
}
