/* lease_conf.c -- the schema of the "leases:" section (core/lease_conf.h). */
#include "core/lease_conf.h"

#include <stddef.h>

#define L(m) offsetof(struct sc_cfg_leases, m)
static const struct sc_field lease_fields[] = {
    {"ttl_ms", SC_FT_INT, L(ttl_ms), 0, .min = 1000, .max = 600000, .def = "15000"},
    {"poll_ms", SC_FT_INT, L(poll_ms), 0, .min = 100, .max = 60000, .def = "1000"},
    {.name = NULL},
};
#undef L

const struct sc_schema sc_cfg_leases_schema = {lease_fields, sizeof(struct sc_cfg_leases), NULL};
