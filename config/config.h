/* config.h -- the daemon's configuration: YAML (libyaml) loaded against one
 * declared schema, with ${VAR} / ${VAR:-default} expansion.
 *
 * Every key is declared once in the schema (config/config.c); an unknown key,
 * a value of the wrong type or out of range, and a missing required value are
 * errors reported as "FILE:LINE:COL: message". Secrets (passwords) never
 * appear in error messages. The loaded struct is immutable and owned by
 * whoever called sc_config_load(); a reload builds a new one. */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum sc_bind_mode { SC_BIND_TRX = 0, SC_BIND_RX_TX };   /* "transceiver" | "receiver+transmitter" */
enum sc_cfg_durability { SC_CFG_DURABILITY_REFUSE = 0, SC_CFG_DURABILITY_WARN }; /* "refuse" | "warn" */
enum sc_ack_policy { SC_ACK_AFTER_STORE = 0, SC_ACK_AFTER_REPLY };  /* "after_store" | "after_reply" */
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
    int line, col;               /* where the entry starts, for messages */
};

/* A generic YAML node kept for handler options, so that a handler's own
 * schema can check them later with line:column errors. */
enum sc_cfg_node_kind { SC_CFG_SCALAR, SC_CFG_SEQ, SC_CFG_MAP };
struct sc_cfg_node {
    enum sc_cfg_node_kind kind;
    char *key;                   /* for children of a MAP, else NULL */
    char *value;                 /* for SCALAR (after ${VAR} expansion) */
    struct sc_cfg_node *child;   /* first child (SEQ, MAP) */
    struct sc_cfg_node *next;    /* next sibling */
    int line, col;               /* where the value starts */
    int key_line, key_col;       /* where its key starts (children of a MAP) */
};

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

struct sc_cfg_kv {
    char *key;
    char *value;
    int line, col;
};

struct sc_config {
    char *path;
    int log_level;               /* enum sc_log_level; "log.level", default info */

    struct sc_cfg_bind *binds;   /* at least one */
    size_t nbinds;

    struct {
        uint32_t max_pdu_len;    /* 512..65536, default 4096 */
        int dc0;                 /* enum sc_dc0: "gsm" | "latin1" | "ascii", default gsm */
        int seg_mode;            /* enum sc_seg_mode: "udh" | "sar" | "payload", default udh */
        int max_parts;           /* 1..16, default 8 */
        int source_ton, source_npi;   /* of replies sent from the service number, default 0/0 */
        int reasm_timeout_ms;    /* default 60000: lifetime of a long MO's parts in Redis */
        int reasm_max_per_source;/* default 8: long MOs one subscriber may have pending */
        /* Retired (accepted, no effect; 0 = not set): no cluster-safe
         * script can keep a daemon-wide count. sc_config_retired(). */
        int reasm_max_pending;
        int reasm_max_bytes;
        int source_addr;         /* enum sc_source_addr: MO sources accepted, default msisdn */
    } smpp;

    struct {
        char *url;               /* redis://[:password@]host:port[/db], required */
        int connect_timeout_ms;  /* default 2000 */
        int command_timeout_ms;  /* default 2000 */
        int catalogue_refresh_s; /* default 300 */
        int durability;          /* enum sc_cfg_durability, default refuse */
        int dataset_check_ms;    /* EXISTS vas:catalogue probe period, default 1000 */
    } redis;

    char **service_numbers;      /* at least one, e.g. "10086" */
    size_t nservice_numbers;
    char **msisdn_prefixes;      /* stripped from source_addr, longest first; default "+86","86" */
    size_t nmsisdn_prefixes;

    struct sc_cfg_route *routes; /* in config order */
    size_t nroutes;

    struct sc_cfg_kv *templates; /* name -> text with {placeholders} */
    size_t ntemplates;

    struct {
        int menu_ttl_s;          /* default 86400 */
        int confirm_ttl_s;       /* default 300 */
        int redelivery_horizon_s;/* how long the SMSC may redeliver an MO, default 259200 */
        int rate_limit_count;    /* commands per window, default 10 */
        int rate_limit_window_s; /* default 60 */
        int max_inflight;        /* MOs being processed at once, default 10000 */
        int ack_policy;          /* enum sc_ack_policy, default after_store */
        uint32_t mo_error_status;/* status for temporary failures, default ESME_RX_T_APPN */
        uint32_t foreign_mo_status; /* for an MO to a number not in service_numbers, default ESME_ROK */
        int shutdown_timeout_ms; /* SIGTERM: wait for in-flight work, default 10000 */
        /* Orders (handlers/order.c, core/orders.c; docs/handlers.md). */
        int order_max_per_provider_day; /* vas:orders requests per subscriber and provider a day, default 3 */
        int order_decline_block_s; /* none from a provider for this long after a decline, default 86400 */
        int order_sweep_ms;      /* expiry of unanswered orders checked this often, default 1000 */
        int orders_poll_ms;      /* vas:orders read this often, default 1000 */
        int orders_read_count;   /* entries per read (COUNT), default 10 */
        int orders_max_inflight; /* confirmation SMS from vas:orders in flight, default 100 */
        int orders_claim_idle_ms;/* entries idle this long are taken over (XAUTOCLAIM), default 60000 */
    } limits;
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

/* Called by sc_config_diff() for one key whose value differs: key is its
 * path as in messages ("binds[0].window", "templates.help"), oldv and newv
 * the two values as log-ready text (numbers bare, strings quoted, "null"
 * when absent), both NULL for a secret (a password, redis.url), which is
 * never shown. All borrowed for the call. */
typedef void (*sc_config_diff_cb)(void *arg, const char *key, const char *oldv,
                                  const char *newv);

/* Compare two configurations key by key, in schema order, and call cb for
 * each difference. Lists of mappings (binds, routes) compare element by
 * element at the same index; a different length is also reported on the
 * list's own key with the two counts. Returns the number of differences. */
size_t sc_config_diff(const struct sc_config *a, const struct sc_config *b,
                      sc_config_diff_cb cb, void *arg);

/* Expand ${VAR} and ${VAR:-default} in s (environment lookups through
 * getenv). "$$" is a literal "$". Returns a malloc'd string, or NULL with a
 * message in err (unterminated "${", an unset variable without default).
 * Like sh, ":-" takes the default when VAR is unset or empty; the default is
 * itself expanded, only when used ("${A:-${B:-x}}", at most 8 deep). A "$"
 * not followed by "{" or "$" is literal. Values are not re-expanded. err may
 * be NULL. */
char *sc_config_expand(const char *s, char *err, size_t errsz);

#endif
