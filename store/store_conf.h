/* store_conf.h -- the store's configuration: the "redis:" section, its
 * struct and its schema (config/schema.h).
 *
 * core/config.c lists the schema in the daemon's top-level table; the values
 * are filled and freed by the schema engine and owned by the struct
 * sc_config they are part of. core/app.c maps them into struct
 * sc_store_opts (store/store.h does not see the configuration). */
#ifndef SC_STORE_CONF_H
#define SC_STORE_CONF_H

#include "config/schema.h"

enum sc_cfg_durability { SC_CFG_DURABILITY_REFUSE = 0, SC_CFG_DURABILITY_WARN }; /* "refuse" | "warn" */

/* The "redis:" section. */
struct sc_cfg_redis {
    char *url;                   /* redis://[:password@]host:port[/db], required */
    int connect_timeout_ms;      /* default 2000 */
    int command_timeout_ms;      /* default 2000 */
    int catalogue_refresh_s;     /* default 300 */
    int durability;              /* enum sc_cfg_durability, default refuse */
    int dataset_check_ms;        /* EXISTS vas:catalogue probe period, default 1000 */
    int wait_replicas;           /* WAIT for this many replicas after each script; 0 off */
    int wait_timeout_ms;         /* WAIT's timeout, default 500 */
};

/* The "redis:" section, into a struct sc_cfg_redis; its check parses the URL
 * with the store's own parser (base/url.h), so that what loads is what the
 * store accepts. The URL is secret: never echoed. */
extern const struct sc_schema sc_cfg_redis_schema;

#endif
