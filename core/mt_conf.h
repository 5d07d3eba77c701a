/* mt_conf.h -- the "mt:" section: the push intake (mt:push -> submit_sm,
 * core/push.c), its struct and its schema (config/schema.h).
 *
 * core/config.c lists the schema in the daemon's top-level table; the values
 * are filled and freed by the schema engine and owned by the struct
 * sc_config they are part of. */
#ifndef SC_MT_CONF_H
#define SC_MT_CONF_H

#include "config/schema.h"
#include "core/quiet.h"

/* The "mt:" section. enabled and consumer need a restart; the others apply
 * from the next read after a SIGHUP. */
struct sc_cfg_mt {
    int enabled;                 /* read mt:push at all, default true */
    char *consumer;              /* consumer name in group shortcoded; NULL = HOSTNAME-PID */
    int block_ms;                /* XREADGROUP BLOCK, default 1000 */
    int read_count;              /* entries per read (COUNT), default 100 */
    int claim_idle_ms;           /* pending this long: taken over (XAUTOCLAIM), default 60000 */
    int max_queued;              /* pushes taken and not finished, default 1000 */
    int dedup_horizon_s;         /* an id is sent once within this, default 604800 */
    int default_priority;        /* for an entry without priority, default 5 */
    char **receipts;             /* kinds whose pushes ask for a receipt; "*" = all
                                  * (the default), [] = none */
    size_t nreceipts;
    int receipt_ttl_s;           /* mt:msg:{MESSAGE_ID} lives this long, default 259200 */
    int receipt_park_s;          /* a receipt before its push's sent record waits
                                  * this long for it (mt:msg:{MESSAGE_ID}), default 600 */
    int order_priority;          /* of vas:orders confirmations (core/orders.c), default 0 */
    int order_quiet;             /* they are held in quiet hours too, default false */
    int status_maxlen;           /* mt:status capped at about this (MAXLEN ~), default 1000000 */
    /* Quiet hours: pushes with quiet=1 read inside them are held until they
     * end (core/push.c, docs/reliability.md "Quiet hours"). */
    char *quiet_hours;           /* "HH:MM-HH:MM" local, "off" or "" = none; default "" */
    char *time_zone;             /* of quiet_hours, a tz database name; default Asia/Shanghai */
    char *test_clock;            /* TEST ONLY: "HH:MM:SS" = the local time of quiet-hour
                                  * decisions when the config is applied (start, reload);
                                  * it runs on from there. NULL = the real clock */
    struct sc_quiet_range quiet; /* quiet_hours parsed (not a key) */
    int test_clock_s;            /* test_clock parsed, -1 = none (not a key) */
};

extern const struct sc_schema sc_cfg_mt_schema;

/* Does a push of this kind ask for a receipt (mt.receipts)? */
int sc_mt_wants_receipt(const struct sc_cfg_mt *mc, const char *kind);

#endif
