/* smsc_conf.c -- the schemas of the "binds:" entries and of the "smpp:" section. */
#include "smsc/smsc_conf.h"

#include "base/smpp.h"

static const struct sc_enum bind_modes[] = {
    {"transceiver", SC_BIND_TRX},
    {"receiver+transmitter", SC_BIND_RX_TX},
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
    /* Its two links are leased together (core/lease.c): one could never bind. */
    if (b->mode == SC_BIND_RX_TX && b->account_sessions == 1)
        return sc_schema_error(ctx, sc_cfg_node_get(map, "account_sessions"),
                               "%s.account_sessions: a receiver+transmitter bind needs 2 "
                               "sessions (0 = no limit, or at least 2)", path);
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
    {"account_sessions", SC_FT_INT, B(account_sessions), 0, .min = 0, .max = 64, .def = "0"},
    {.name = NULL},
};
#undef B
const struct sc_schema sc_cfg_bind_schema = {bind_fields, sizeof(struct sc_cfg_bind), check_bind};

#define S(m) offsetof(struct sc_cfg_smpp, m)
static const struct sc_field smpp_fields[] = {
    {"max_pdu_len", SC_FT_UINT32, S(max_pdu_len), 0, .min = 512, .max = 65536, .def = "4096"},
    {"dc0", SC_FT_ENUM, S(dc0), 0, .parse = sc_dc0_parse, .hint = "gsm, latin1, ascii",
     .def = "gsm"},
    {"seg_mode", SC_FT_ENUM, S(seg_mode), 0, .parse = sc_seg_mode_parse,
     .hint = "udh, sar, payload", .def = "udh"},
    {"max_parts", SC_FT_INT, S(max_parts), 0, .min = 1, .max = SC_MT_MAX_PARTS, .def = "8"},
    {"source_ton", SC_FT_INT, S(source_ton), 0, .min = 0, .max = 6, .def = "0"},
    {"source_npi", SC_FT_INT, S(source_npi), 0, .min = 0, .max = 18, .def = "0"},
    {"reasm_timeout_ms", SC_FT_INT, S(reasm_timeout_ms), 0,
     .min = 1000, .max = 3600000, .def = "60000"},
    /* Retired (long MOs are held in Redis): accepted, 0 = not set. */
    {"reasm_max_pending", SC_FT_INT, S(reasm_max_pending), 0,
     .min = 0, .max = 10000000, .def = "0"},
    {"reasm_max_per_source", SC_FT_INT, S(reasm_max_per_source), 0,
     .min = 1, .max = 1000, .def = "8"},
    {"reasm_max_bytes", SC_FT_INT, S(reasm_max_bytes), 0,
     .min = 0, .max = 1073741824, .def = "0"},
    {"source_addr", SC_FT_ENUM, S(source_addr), 0, .names = source_addrs, .def = "msisdn"},
    {.name = NULL},
};
#undef S
const struct sc_schema sc_cfg_smpp_schema = {smpp_fields, sizeof(struct sc_cfg_smpp), NULL};

const char *sc_cfg_smpp_retired(const struct sc_cfg_smpp *s, size_t i)
{
    const char *set[2];
    size_t n = 0;
    if (s->reasm_max_pending)
        set[n++] = SC_CFG_SMPP_KEY ".reasm_max_pending";
    if (s->reasm_max_bytes)
        set[n++] = SC_CFG_SMPP_KEY ".reasm_max_bytes";
    return i < n ? set[i] : NULL;
}
