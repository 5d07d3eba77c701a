/* config.h -- the daemon's configuration: one YAML file (config/schema.h
 * loads it) against the daemon's top-level schema, which lists the sections
 * and points at each subsystem's own table:
 *
 *   log:, service_numbers:, msisdn_prefixes:, routes:, templates:, limits:
 *                                  core/config.c (here)
 *   binds:, smpp:                  smsc/smsc_conf.h
 *   redis:                         store/store_conf.h
 *   mt:                            core/mt_conf.h (the push intake)
 *   http:                          core/http_conf.h (the HTTP server and API)
 *   reminders:                     core/reminders_conf.h (usage:in, reminder rules)
 *   leases:                        core/lease_conf.h (session leases, account_sessions)
 *
 * Every key is declared once; an unknown key, a value of the wrong type or
 * out of range, and a missing required value are errors reported as
 * "FILE:LINE:COL: message". Secrets (passwords) never appear in error
 * messages. The loaded struct is immutable and owned by whoever called
 * sc_config_load(); a reload builds a new one. */
#ifndef SC_CORE_CONFIG_H
#define SC_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config/schema.h"
#include "core/http_conf.h"
#include "core/lease_conf.h"
#include "core/mt_conf.h"
#include "core/reminders_conf.h"
#include "smsc/smsc_conf.h"
#include "store/store_conf.h"

enum sc_ack_policy { SC_ACK_AFTER_STORE = 0, SC_ACK_AFTER_REPLY };  /* "after_store" | "after_reply" */

/* A route: which handler answers which text sent to which number. */
struct sc_cfg_route {
    char *name;                  /* optional; default "route<N>" */
    char **words;                /* exact words (normalised), "match: [..]" */
    size_t nwords;
    char *regex;                 /* POSIX ERE, alternative to words */
    char *service;               /* service number; NULL = any */
    char *handler;               /* required: a registered handler name */
    struct sc_cfg_node *options; /* "options:" mapping or NULL */
    int line, col;
};

/* The "limits:" section. */
struct sc_cfg_limits {
    int menu_ttl_s;              /* default 86400 */
    int confirm_ttl_s;           /* default 300 */
    int redelivery_horizon_s;    /* how long the SMSC may redeliver an MO, default 259200 */
    int rate_limit_count;        /* commands per window, default 10 */
    int rate_limit_window_s;     /* default 60 */
    int max_inflight;            /* MOs being processed at once, default 10000 */
    int ack_policy;              /* enum sc_ack_policy, default after_reply */
    int reply_hold_ms;           /* after_reply: the resp waits this long for the reply, default 5000 */
    uint32_t mo_error_status;    /* status for temporary failures, default ESME_RX_T_APPN */
    uint32_t foreign_mo_status;  /* for an MO to a number not in service_numbers, default ESME_ROK */
    int shutdown_timeout_ms;     /* SIGTERM: wait for in-flight work, default 10000 */
    /* Orders (handlers/order.c, core/orders.c; docs/handlers.md). */
    int order_max_per_provider_day; /* vas:orders requests per subscriber and provider a day, default 3 */
    int order_decline_block_s;   /* none from a provider for this long after a decline, default 86400 */
    int order_sweep_ms;          /* expiry of unanswered orders checked this often, default 1000 */
    int orders_poll_ms;          /* vas:orders read this often, default 1000 */
    int orders_read_count;       /* entries per read (COUNT), default 10 */
    int orders_max_inflight;     /* confirmation SMS from vas:orders in flight, default 100 */
    int orders_claim_idle_ms;    /* entries idle this long are taken over (XAUTOCLAIM), default 60000 */
    int refund_unconfirmed;      /* cancelling an unconfirmed service files a refund, default 1 */
    int refund_max_months;       /* months a refund covers at most, default 6 */
    /* Redis Cluster: a relayed outbox entry's marker lives this long (core/relay.c). */
    int relay_dedup_s;           /* default 3600 */
};

struct sc_config {
    char *path;
    int log_level;               /* enum sc_log_level; "log.level", default info */

    struct sc_cfg_bind *binds;   /* at least one (smsc/smsc_conf.h) */
    size_t nbinds;

    struct sc_cfg_smpp smpp;     /* smsc/smsc_conf.h */
    struct sc_cfg_redis redis;   /* store/store_conf.h */

    char **service_numbers;      /* at least one, e.g. "10086" */
    size_t nservice_numbers;
    char **msisdn_prefixes;      /* stripped from source_addr, longest first; default "+86","86" */
    size_t nmsisdn_prefixes;

    struct sc_cfg_route *routes; /* in config order */
    size_t nroutes;

    struct sc_cfg_kv *templates; /* name -> text with {placeholders} */
    size_t ntemplates;

    struct sc_cfg_limits limits;
    struct sc_cfg_mt mt;         /* core/mt_conf.h */
    struct sc_cfg_http http;     /* core/http_conf.h */
    struct sc_cfg_reminders reminders; /* core/reminders_conf.h */
    struct sc_cfg_leases leases; /* core/lease_conf.h */
};

/* Load and validate path. Returns a new config (free with sc_config_free), or
 * NULL with err set to "FILE:LINE:COL: message" (or "FILE: message" when no
 * position applies, e.g. the file cannot be opened). */
struct sc_config *sc_config_load(const char *path, char *err, size_t errsz);
/* NULL is a no-op. */
void sc_config_free(struct sc_config *cfg);

/* Keys that are set but no longer used: the i-th (from 0) as "smpp.KEY",
 * or NULL after the last. For a note on --check and a warning at start. */
const char *sc_config_retired(const struct sc_config *cfg, size_t i);

/* The template named name (its text in ->value, its position in the file
 * in ->line/->col), or NULL. Borrowed from cfg. */
const struct sc_cfg_kv *sc_config_template(const struct sc_config *cfg, const char *name);

/* Compare two configurations key by key, in schema order (log, binds, smpp,
 * redis, service_numbers, msisdn_prefixes, routes, templates, limits, mt), and
 * call cb for each difference (sc_schema_diff). Returns the number of
 * differences. */
size_t sc_config_diff(const struct sc_config *a, const struct sc_config *b,
                      sc_config_diff_cb cb, void *arg);

#endif
