/* metrics_http.c -- GET /metrics: the process-wide registry (base/metrics.h)
 * in the Prometheus text format, rendered at each scrape (the collectors
 * run then). */
#include <stdlib.h>

#include "base/metrics.h"
#include "core/http.h"
#include "core/metrics.h"

static void on_metrics(struct sc_http_req *req, void *arg)
{
    size_t len = 0;
    char *text = sc_metrics_render(sc_metrics_global(), &len);
    if (!text) {
        sc_http_respond_str(req, 503, NULL, "out of memory\n");
        return;
    }
    sc_http_respond(req, 200, SC_METRICS_CONTENT_TYPE, text, len);
    free(text);
}

int sc__metrics_routes(struct sc_http *http)
{
    return sc_http_route(http, "GET", "/metrics", on_metrics, NULL);
}
