/* http.c -- "http": the MO is sent to a configured URL (GET or POST, form
 * or JSON) and the response body is the reply: Kannel's get-url, on the
 * daemon's loop (core/callout.c, lent as req->callout).
 *
 * The request runs the request layer's prelude (rate limit, pending
 * dialogue) as every handler does, then result() starts the call and the
 * call's callback ends the request: the body as the reply (empty: no
 * reply), or, when the backend fails (an error, a status that is not 2xx,
 * a bad body), is too slow (timeout_ms), the route has max_concurrent
 * calls in flight or its circuit breaker is open (handlers/breaker.h), the
 * fallback text or the temporary error (the SMSC delivers the MO again).
 *
 * Per-route state (calls in flight, the breaker, metric cells) is kept by
 * route name in this file, so it survives a reload that keeps the route;
 * the options of the generation a request started under apply to it.
 * docs/handlers.md "http". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/sc.h"
#include "config/schema.h"
#include "handlers/breaker.h"
#include "handlers/handler.h"
#include "handlers/http.h"
#include "handlers/http_body.h"

#define HTTP_URL_MAX 1024
#define HTTP_FALLBACK_MAX 1024
#define HTTP_ROUTES 64           /* routes with per-route state */
#define HTTP_ROUTE_NAME 65       /* routes[].name: at most 64 bytes, unique */

enum { HTTP_GET, HTTP_POST };
enum { HTTP_FORM, HTTP_JSON };

struct http_breaker_opts {
    int failures, window_s, open_s;
};

struct http_opts {
    char *url;
    int method, body, timeout_ms, max_concurrent;
    char *fallback;
    struct http_breaker_opts breaker;
};

/* ---- options -------------------------------------------------------------- */

static const struct sc_enum http_methods[] = {{"GET", HTTP_GET}, {"POST", HTTP_POST}, {NULL, 0}};
static const struct sc_enum http_bodies[] = {{"form", HTTP_FORM}, {"json", HTTP_JSON}, {NULL, 0}};

#define BK(m) offsetof(struct http_breaker_opts, m)
static const struct sc_field http_breaker_fields[] = {
    {"failures", SC_FT_INT, BK(failures), 0, .min = 0, .max = SC_BREAKER_MAX_FAILURES,
     .def = "5"},
    {"window_s", SC_FT_INT, BK(window_s), 0, .min = 1, .max = 3600, .def = "10"},
    {"open_s", SC_FT_INT, BK(open_s), 0, .min = 1, .max = 3600, .def = "30"},
    {.name = NULL},
};
static const struct sc_schema http_breaker_schema = {http_breaker_fields,
                                                     sizeof(struct http_breaker_opts), NULL};

static int http_check(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                      const char *path)
{
    struct http_opts *o = obj;
    const struct sc_cfg_node *n = map ? sc_cfg_node_get(map, "url") : NULL;
    int ok = strncmp(o->url, "http://", 7) == 0 || strncmp(o->url, "https://", 8) == 0;
    for (const char *p = o->url; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != 0x7f && *p != '#';
    if (!ok)
        return sc_schema_error(ctx, n ? n : map, "%s.url: an http:// or https:// URL without "
                               "spaces, control characters or a #fragment", path);
    if (o->method == HTTP_GET && o->body == HTTP_JSON)
        return sc_schema_error(ctx, map ? sc_cfg_node_get(map, "body") : NULL,
                               "%s.body: json needs method: POST (GET sends a query)", path);
    if (o->fallback && o->fallback[0]) {
        for (const char *p = o->fallback; *p; p++)
            if ((unsigned char)*p < ' ' && *p != '\n')
                return sc_schema_error(ctx, map ? sc_cfg_node_get(map, "fallback") : NULL,
                                       "%s.fallback: no control characters", path);
    }
    return 0;
}

#define HO(m) offsetof(struct http_opts, m)
static const struct sc_field http_fields[] = {
    {"url", SC_FT_STRING, HO(url), SC_F_REQUIRED | SC_F_NONEMPTY, .max = HTTP_URL_MAX},
    {"method", SC_FT_ENUM, HO(method), 0, .names = http_methods, .def = "GET"},
    {"body", SC_FT_ENUM, HO(body), 0, .names = http_bodies, .def = "form"},
    {"timeout_ms", SC_FT_INT, HO(timeout_ms), 0, .min = 50, .max = 60000, .def = "3000"},
    {"max_concurrent", SC_FT_INT, HO(max_concurrent), 0, .min = 1, .max = 10000, .def = "100"},
    {"fallback", SC_FT_STRING, HO(fallback), SC_F_NONEMPTY, .max = HTTP_FALLBACK_MAX},
    {"breaker", SC_FT_SECTION, HO(breaker), 0, .sub = &http_breaker_schema},
    {.name = NULL},
};
static const struct sc_schema http_schema = {http_fields, sizeof(struct http_opts), http_check};

/* ---- per-route state ------------------------------------------------------ */

/* How a call ended, as counted (shortcoded_callout_total{result}). */
enum http_result { HR_REPLY, HR_SILENT, HR_FAILED, HR_TIMEOUT, HR_BREAKER, HR_BUSY, HR_COUNT };
static const char *const http_result_names[HR_COUNT] = {
    "reply", "silent", "failed", "timeout", "breaker_open", "max_concurrent"};

static struct sc_metric g_callout_total = {
    .name = "shortcoded_callout_total", .type = SC_METRIC_COUNTER, .labels = {"route", "result"},
    .max_series = HTTP_ROUTES * HR_COUNT,
    .help = "MOs of http routes by how their callout ended: reply, silent (an empty reply), "
            "failed (an error, a status that is not 2xx, a bad body), timeout, breaker_open and "
            "max_concurrent (not called); the last four answered with the fallback or the "
            "temporary error."};
static const uint64_t g_callout_bounds[] = {1000,   2500,   5000,    10000,   25000,   50000,
                                            100000, 250000, 500000, 1000000, 2500000, 5000000};
static struct sc_metric g_callout_seconds = {
    .name = "shortcoded_callout_duration_seconds", .type = SC_METRIC_HISTOGRAM,
    .labels = {"route"}, .max_series = HTTP_ROUTES, .decimals = 6, .bounds = g_callout_bounds,
    .nbounds = SC_ARRAY_LEN(g_callout_bounds),
    .help = "How long the callouts of http routes took (those that were made)."};

void sc_http_handler_metrics(void)
{
    struct sc_metrics *reg = sc_metrics_global();
    if (!g_callout_total.reg)
        sc_metrics_add(reg, &g_callout_total);
    if (!g_callout_seconds.reg)
        sc_metrics_add(reg, &g_callout_seconds);
}

struct http_state {
    char route[HTTP_ROUTE_NAME];
    unsigned inflight;
    struct sc_breaker br;
    struct sc_counter *count[HR_COUNT];
    struct sc_histogram *seconds;
};

static struct http_state g_states[HTTP_ROUTES];
static size_t g_nstates;

/* The state of route, made on first use; NULL when HTTP_ROUTES routes
 * have one already. */
static struct http_state *state_for(const char *route)
{
    for (size_t i = 0; i < g_nstates; i++)
        if (strcmp(g_states[i].route, route) == 0)
            return &g_states[i];
    if (g_nstates == HTTP_ROUTES)
        return NULL;
    struct http_state *s = &g_states[g_nstates++];
    sc_strlcpy(s->route, route, sizeof s->route);
    for (int r = 0; r < HR_COUNT; r++)
        s->count[r] = sc_metric_counter(&g_callout_total, (const char *[]){route,
                                                                           http_result_names[r]});
    s->seconds = sc_metric_histogram(&g_callout_seconds, (const char *[]){route});
    return s;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct sc_breaker_conf breaker_conf(const struct http_opts *o)
{
    return (struct sc_breaker_conf){(unsigned)o->breaker.failures,
                                    (uint64_t)o->breaker.window_s * 1000u,
                                    (uint64_t)o->breaker.open_s * 1000u};
}

static void log_breaker(const struct http_state *s, int changed, const struct http_opts *o)
{
    if (changed == SC_BREAKER_OPEN)
        sc_warn("event=breaker_open route=%s open_s=%d", s->route, o->breaker.open_s);
    else if (changed == SC_BREAKER_CLOSED)
        sc_info("event=breaker_closed route=%s", s->route);
}

/* ---- a request ------------------------------------------------------------ */

struct http_call {
    struct sc_req *req;
    const struct http_opts *o;
    struct http_state *st;
    int probe;                 /* the breaker's half-open probe */
};

/* The backend did not give a reply: the fallback, or the temporary error. */
static void give_up(struct sc_req *req, const struct http_opts *o, struct http_state *st,
                    enum http_result r, const char *reason, long status, unsigned long long ms)
{
    if (st)
        sc_counter_inc(st->count[r]);
    char sbuf[24] = "";
    if (status)
        snprintf(sbuf, sizeof sbuf, " status=%ld", status);
    sc_warn("event=callout_failed route=%s msisdn=%s reason=%s%s ms=%llu action=%s",
            req->route, SC_LOGV(req->msisdn), reason, sbuf, ms,
            o->fallback ? "fallback" : "temporary_error");
    if (o->fallback)
        sc_req_reply(req, o->fallback);
    else
        sc_req_fail(req, "callout failed");
}

static void on_response(void *arg, const struct sc_callout_res *res)
{
    struct http_call *k = arg;
    struct sc_req *req = k->req;
    const struct http_opts *o = k->o;
    struct http_state *st = k->st;
    int probe = k->probe;
    free(k);
    st->inflight--;
    const char *why = res->why;
    char reply[SC_HTTP_RESPONSE_MAX + 1];
    if (!res->err) {
        sc_histogram_observe(st->seconds, res->ms * 1000u);
        if (res->status < 200 || res->status > 299)
            why = "status";
        else
            sc_http_reply_parse(res->content_type, res->body, res->len,
                                (unsigned)req->limits->max_parts, req->limits->seg_mode, reply,
                                sizeof reply, &why);
    }
    struct sc_breaker_conf bc = breaker_conf(o);
    log_breaker(st, sc_breaker_result(&st->br, &bc, now_ms(), probe, why == NULL), o);
    if (why && strcmp(why, "stopped") == 0) {
        /* The daemon is stopping (core/callout.h): no new reply now. */
        sc_counter_inc(st->count[HR_FAILED]);
        sc_req_fail(req, "callout stopped");
        return;
    }
    if (why) {
        give_up(req, o, st, res->err == SC_ETIMEOUT ? HR_TIMEOUT : HR_FAILED, why, res->status,
                res->ms);
        return;
    }
    sc_counter_inc(st->count[reply[0] ? HR_REPLY : HR_SILENT]);
    if (reply[0])
        sc_req_reply(req, reply);
    else
        sc_req_silent(req);
}

/* Body (POST) or query (GET) of the MO into buf; its length, or 0. */
static size_t mo_body(const struct sc_req *req, const struct http_opts *o, char *buf, size_t n)
{
    struct sc_http_mo mo = {req->msisdn, req->service, req->text,
                            req->ncaps > 1 ? req->caps + 1 : NULL,
                            req->ncaps > 1 ? req->ncaps - 1 : 0};
    return o->body == HTTP_JSON ? sc_http_json(&mo, buf, n) : sc_http_form(&mo, buf, n);
}

/* Start the call (the prelude ran: the subscriber is within the rate
 * limit); the request ends in on_response, or here when no call starts. */
static void http_result(struct sc_req *req, const void *opts, struct redisReply *const *e,
                        size_t n)
{
    const struct http_opts *o = opts;
    struct http_state *st = state_for(req->route);
    if (!st) {
        sc_error("event=callout_failed route=%s reason=\"more than %d http routes\"", req->route,
                 HTTP_ROUTES);
        sc_req_fail(req, "callout failed");
        return;
    }
    struct sc_breaker_conf bc = breaker_conf(o);
    enum sc_breaker_verdict v = sc_breaker_allow(&st->br, &bc, now_ms());
    if (v == SC_BREAKER_REFUSE) {
        give_up(req, o, st, HR_BREAKER, "breaker_open", 0, 0);
        return;
    }
    if (st->inflight >= (unsigned)o->max_concurrent) {
        if (v == SC_BREAKER_PROBE) /* not tried: the next call probes */
            st->br.probing = 0;
        give_up(req, o, st, HR_BUSY, "max_concurrent", 0, 0);
        return;
    }
    char body[SC_HTTP_BODY_MAX], url[HTTP_URL_MAX + SC_HTTP_BODY_MAX + 2];
    size_t bl = mo_body(req, o, body, sizeof body);
    struct sc_callout_req r = {.url = o->url, .timeout_ms = o->timeout_ms,
                               .max_response = SC_HTTP_RESPONSE_MAX};
    if (bl && o->method == HTTP_GET) {
        snprintf(url, sizeof url, "%s%c%s", o->url, strchr(o->url, '?') ? '&' : '?', body);
        r.url = url;
    } else if (bl) {
        r.body = body;
        r.body_len = bl;
        r.content_type = o->body == HTTP_JSON ? "application/json; charset=utf-8"
                                              : "application/x-www-form-urlencoded";
    }
    struct http_call *k = malloc(sizeof *k);
    int rc = !bl ? SC_ETOOBIG : !k ? SC_ENOMEM : sc_callout_call(req->callout, &r, on_response, k);
    if (rc < 0) {
        free(k);
        if (v == SC_BREAKER_PROBE)
            st->br.probing = 0;
        give_up(req, o, st, HR_FAILED, rc == SC_ETOOBIG ? "mo_too_big" : "no_call", 0, 0);
        return;
    }
    *k = (struct http_call){req, o, st, v == SC_BREAKER_PROBE};
    st->inflight++;
}

const struct sc_handler sc_handler_http = {
    .name = "http",
    .summary = "the MO sent to a URL (GET or POST, form or JSON); the response body is the reply",
    .options = &http_schema,
    .templates = NULL,
    .script = NULL,
    .result = http_result,
};
