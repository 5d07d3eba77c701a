/* api.c -- the HTTP server of the daemon started with its routes
 * (core/api.h). */
#include "core/api.h"

#include <stdio.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/http.h"
#include "core/metrics.h"

int sc_api_start(struct sc_app *a, char *err, size_t errsz)
{
    const struct sc_cfg_http *h = &a->boot_cfg->http;
    if (!h->listen || !h->listen[0])
        return 0;
    struct sc_http_opts o = {
        .listen = h->listen,
        .max_body = (size_t)h->max_body,
        .timeout_s = (unsigned)h->timeout_s,
        .max_connections = (unsigned)h->max_connections,
        .stop_timeout_ms = (unsigned)a->boot_cfg->limits.shutdown_timeout_ms,
    };
    a->http = sc_http_new(a->loop, &o, err, errsz);
    if (!a->http)
        return SC_ECONFIG;
    int rc = sc__api_health_routes(a);
    if (rc == 0)
        rc = sc__metrics_routes(a->http); /* GET /metrics */
    if (rc < 0) {
        snprintf(err, errsz, "cannot add the HTTP routes: %s", sc_strerror(rc));
        return rc;
    }
    if (!h->token || !h->token[0])
        sc_warn("event=http_api_disabled msg=\"http.token is empty: every /v1 call is "
                "answered 401 (set SHORTCODED_HTTP_TOKEN)\"");
    sc_info("event=http_listening listen=%s port=%u", SC_LOGV(h->listen), sc_http_port(a->http));
    return 0;
}
