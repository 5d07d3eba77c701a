/* smsc_conf.h -- the SMPP side's configuration: the "binds:" entries and the
 * "smpp:" section, their structs and their schemas (config/schema.h).
 *
 * core/config.c lists these schemas in the daemon's top-level table; the
 * values are filled and freed by the schema engine, and owned by the
 * struct sc_config they are part of. core/app.c maps them into
 * struct sc_esme_opts (smsc/esme.h does not see the configuration). */
#ifndef SC_SMSC_CONF_H
#define SC_SMSC_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "config/schema.h"

enum sc_bind_mode { SC_BIND_TRX = 0, SC_BIND_RX_TX };   /* "transceiver" | "receiver+transmitter" */
enum sc_source_addr { SC_SRC_MSISDN = 0, SC_SRC_ALPHANUMERIC };    /* "msisdn" | "alphanumeric" */

/* One SMPP bind (a "binds:" list entry). */
struct sc_cfg_bind {
    char *name;                  /* required, unique */
    char *host;                  /* required */
    int port;                    /* required, 1..65535 */
    char *system_id;             /* required, at most 15 bytes */
    char *password;              /* at most 8 bytes; default "" */
    char *system_type;           /* at most 12 bytes; default "" */
    enum sc_bind_mode mode;      /* default transceiver */
    int window;                  /* max submit_sm outstanding, 1..1000, default 10 */
    int tps;                     /* submit_sm per second, 0 = unlimited, default 0 */
    int enquire_link_s;          /* idle interval, 1..3600, default 30 */
    int response_timeout_ms;     /* any resp, 100..600000, default 10000 */
    int bind_timeout_ms;         /* connect + bind_resp, default 10000 */
    int submit_retries;          /* resends of a submit_sm after timeout/throttle, default 3 */
    int throttle_pause_ms;       /* pause after ESME_RTHROTTLED/RMSGQFUL, default 1000 */
    int reconnect_min_ms;        /* first backoff, default 500 */
    int reconnect_max_ms;        /* cap, default 30000 */
    int account_sessions;        /* sessions all daemons together may hold on
                                  * this system_id at host:port (a lease each,
                                  * core/lease.c); 0 = no limit (default) */
    int line, col;               /* where the entry starts, for messages */
};

/* The "smpp:" section. */
struct sc_cfg_smpp {
    uint32_t max_pdu_len;        /* 512..65536, default 4096 */
    int dc0;                     /* enum sc_dc0: "gsm" | "latin1" | "ascii", default gsm */
    int seg_mode;                /* enum sc_seg_mode: "udh" | "sar" | "payload", default udh */
    int max_parts;               /* 1..16, default 8 */
    int source_ton, source_npi;  /* of replies sent from the service number, default 0/0 */
    int reasm_timeout_ms;        /* default 60000: lifetime of a long MO's parts in Redis */
    int reasm_max_per_source;    /* default 8: long MOs one subscriber may have pending */
    /* Retired (accepted, no effect; 0 = not set): no cluster-safe script
     * can keep a daemon-wide count. sc_cfg_smpp_retired(). */
    int reasm_max_pending;
    int reasm_max_bytes;
    int source_addr;             /* enum sc_source_addr: MO sources accepted, default msisdn */
};

/* The key of the section in the daemon's top level. */
#define SC_CFG_SMPP_KEY "smpp"

/* One "binds:" entry (size sizeof(struct sc_cfg_bind)): its fields, and the
 * check that reconnect_min_ms does not exceed reconnect_max_ms. */
extern const struct sc_schema sc_cfg_bind_schema;
/* The "smpp:" section, into a struct sc_cfg_smpp. */
extern const struct sc_schema sc_cfg_smpp_schema;

/* Keys of the section that are set but no longer used: the i-th (from 0)
 * as "smpp.KEY", or NULL after the last. Static strings. */
const char *sc_cfg_smpp_retired(const struct sc_cfg_smpp *s, size_t i);

#endif
