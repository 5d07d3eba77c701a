/* api.c -- the HTTP server of the daemon started with its routes
 * (core/api.h). */
#include "core/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        rc = sc__api_v1_routes(a);
    if (rc == 0)
        rc = sc__api_sendsms_routes(a);
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

int sc__api_ct_equal(const char *a, size_t an, const char *b, size_t bn)
{
    unsigned char diff = an != bn;
    for (size_t i = 0; i < bn; i++)
        diff |= (unsigned char)((i < an ? a[i] : 0) ^ b[i]);
    return diff == 0;
}

int sc__api_error(struct sc_http_req *req, unsigned status, const char *error,
                  const char *field)
{
    json_t *o = json_pack("{s:s}", "error", error);
    if (o && field)
        json_object_set_new(o, "field", json_string(field));
    sc__api_json(req, status, o);
    json_decref(o);
    return -1;
}

void sc__api_json(struct sc_http_req *req, unsigned status, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (!text) {
        sc_http_respond_str(req, 500, NULL, "out of memory\n");
        return;
    }
    sc_http_respond_str(req, status, "application/json", text);
    free(text);
}

int sc__api_authorized(struct sc_app *a, struct sc_http_req *req)
{
    const char *token = a->gen->cfg->http.token;
    const char *h = sc_http_header(req, "Authorization");
    static const char bearer[] = "Bearer ";
    if (token && token[0] && h && strncmp(h, bearer, sizeof bearer - 1) == 0) {
        const char *t = h + sizeof bearer - 1;
        if (sc__api_ct_equal(t, strlen(t), token, strlen(token)))
            return 1;
    }
    sc_http_add_header(req, "WWW-Authenticate", "Bearer");
    sc__api_error(req, 401, token && token[0] ? "unauthorized" : "api_disabled", NULL);
    return 0;
}

json_t *sc__api_body(struct sc_app *a, struct sc_http_req *req)
{
    if (!sc__api_authorized(a, req))
        return NULL;
    size_t len;
    const char *body = sc_http_body(req, &len);
    json_error_t e;
    /* The body is at most http.max_body bytes, so depth and size are bounded. */
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!o) {
        json_t *err = json_pack("{s:s, s:s}", "error", "bad_json", "detail", e.text);
        sc__api_json(req, 400, err);
        json_decref(err);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        sc__api_error(req, 400, "not_an_object", NULL);
        return NULL;
    }
    return o;
}
