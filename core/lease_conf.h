/* lease_conf.h -- the "leases:" section: how the session leases of binds
 * with account_sessions (core/lease.c) are timed; its struct and schema.
 *
 * core/config.c lists the schema in the daemon's top-level table; the values
 * are filled and freed by the schema engine and owned by the struct
 * sc_config they are part of. Fixed for the run (a change needs a restart). */
#ifndef SC_LEASE_CONF_H
#define SC_LEASE_CONF_H

#include "config/schema.h"

struct sc_cfg_leases {
    int ttl_ms;                  /* a lease's life in Redis, renewed every ttl/3;
                                  * 1000..600000, default 15000 */
    int poll_ms;                 /* a link without a lease tries to take one this
                                  * often; 100..60000, default 1000 */
};

extern const struct sc_schema sc_cfg_leases_schema;

#endif
