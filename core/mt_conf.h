/* mt_conf.h -- the "mt:" section: the push intake (mt:push -> submit_sm,
 * core/push.c), its struct and its schema (config/schema.h).
 *
 * core/config.c lists the schema in the daemon's top-level table; the values
 * are filled and freed by the schema engine and owned by the struct
 * sc_config they are part of. */
#ifndef SC_MT_CONF_H
#define SC_MT_CONF_H

#include "config/schema.h"

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
};

extern const struct sc_schema sc_cfg_mt_schema;

/* Does a push of this kind ask for a receipt (mt.receipts)? */
int sc_mt_wants_receipt(const struct sc_cfg_mt *mc, const char *kind);

#endif
