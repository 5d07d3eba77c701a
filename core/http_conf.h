/* http_conf.h -- the "http:" section: the HTTP server (core/http.c), the
 * /v1 API's token and the Kannel-style sendsms users, its struct and its
 * schema (config/schema.h).
 *
 * core/config.c lists the schema in the daemon's top-level table; the
 * values are filled and freed by the schema engine and owned by the struct
 * sc_config they are part of. Every key needs a restart but token and
 * sendsms_users, which apply from the next request after a SIGHUP. */
#ifndef SC_HTTP_CONF_H
#define SC_HTTP_CONF_H

#include <stddef.h>

#include "config/schema.h"

/* One "http.sendsms_users" entry. */
struct sc_cfg_sendsms_user {
    char *username;              /* required, unique */
    char *password;              /* required (secret) */
};

struct sc_cfg_http {
    char *listen;                /* "host:port"; "" (the default) = no HTTP server */
    char *token;                 /* /v1 bearer token (secret); "" = every /v1 call 401 */
    int max_body;                /* bytes of a request body, default 65536 (more: 413) */
    int timeout_s;               /* idle or slow connection closed after, default 10 */
    int max_connections;         /* at once, default 64 */
    struct sc_cfg_sendsms_user *sendsms_users; /* /cgi-bin/sendsms; none = 403 */
    size_t nsendsms_users;
};

extern const struct sc_schema sc_cfg_http_schema;

#endif
