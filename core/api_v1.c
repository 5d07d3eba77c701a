/* api_v1.c -- the /v1 API: POST /v1/mt (an mt:push entry, checked by
 * core/mt_check.c exactly as the stream's reader checks it), GET /v1/mt/ID
 * (mt:{ID}), POST /v1/orders (a vas:orders entry). 202 only once XADD
 * answered. docs/operations.md "HTTP API". */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/api.h"
#include "core/app.h"
#include "core/http.h"
#include "core/intake.h"
#include "core/mt_check.h"
#include "handlers/order.h"
#include "store/keys.h"

#define ORDER_FIELD_MAX 64        /* as core/orders.c reads them */

/* A call waiting for Redis. */
struct call {
    struct sc_http_req *req;
    char id[SC_PUSH_ID_MAX + 1];
    int kannel;                   /* answer as Kannel's sendsms does */
};

/* A call for req about id, or NULL with 503 answered. */
static struct call *call_new(struct sc_http_req *req, const char *id)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c) {
        sc__api_error(req, 503, "out_of_memory", NULL);
        return NULL;
    }
    c->req = req;
    sc_strlcpy(c->id, id, sizeof c->id);
    return c;
}

/* ---- POST /v1/mt ----------------------------------------------------------- */

/* The field a reason of sc_push_check is about. */
static const char *reason_field(const char *why)
{
    static const char *const map[][2] = {
        {"bad_id", "id"},          {"bad_to", "to"},         {"empty_text", "text"},
        {"bad_text", "text"},      {"too_long", "text"},     {"bad_from", "from"},
        {"bad_kind", "kind"},      {"bad_priority", "priority"},
        {"bad_not_after", "not_after"}, {"bad_quiet", "quiet"},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(map); i++)
        if (strcmp(map[i][0], why) == 0)
            return map[i][1];
    return NULL;
}

static void on_xadd(void *ctx, int err, redisReply *rep)
{
    struct call *c = ctx;
    if (err || rep->type != REDIS_REPLY_STRING) {
        char why[128];
        snprintf(why, sizeof why, "%s", err ? sc_strerror(err)
                                  : rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
        sc_warn("event=http_api_failed id=%s error=%s", SC_LOGV(c->id), SC_LOGV(why));
        if (c->kannel)
            sc_http_respond_str(c->req, 503, NULL, SC_KANNEL_TEMPFAIL);
        else
            sc__api_error(c->req, 503, "redis_unavailable", NULL);
    } else if (c->kannel) {
        sc_http_respond_str(c->req, 202, NULL, SC_KANNEL_ACCEPTED);
    } else {
        json_t *o = json_pack("{s:s, s:s}", "id", c->id, "entry", rep->str);
        sc__api_json(c->req, 202, o);
        json_decref(o);
    }
    free(c);
}

void sc__api_xadd(struct sc_app *a, struct sc_http_req *req, int kannel, const char *stream,
                  const char *id, const char *const *f, const char *const *v,
                  const size_t *vlen, size_t n)
{
    const char *argv[3 + 2 * (SC_PUSH_FIELDS_MAX + 1)];
    size_t lens[SC_ARRAY_LEN(argv)];
    struct call *c = call_new(req, id);
    if (!c)
        return;
    c->kannel = kannel;
    argv[0] = "XADD";
    argv[1] = stream;
    argv[2] = "*";
    for (size_t i = 0; i < 3; i++)
        lens[i] = strlen(argv[i]);
    for (size_t i = 0; i < n; i++) {
        argv[3 + 2 * i] = f[i];
        lens[3 + 2 * i] = strlen(f[i]);
        argv[4 + 2 * i] = v[i];
        lens[4 + 2 * i] = vlen[i];
    }
    int rc = sc_store_write(a->store, (int)(3 + 2 * n), argv, lens, on_xadd, c);
    if (rc < 0) {
        free(c);
        if (kannel)
            sc_http_respond_str(req, 503, NULL, SC_KANNEL_TEMPFAIL);
        else
            sc__api_error(req, 503, "redis_unavailable", NULL);
    }
}

void sc__api_make_id(char *out, size_t outsz)
{
    static unsigned long long n;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, outsz, "http-%lld%03ld-%ld-%llu", (long long)ts.tv_sec, ts.tv_nsec / 1000000,
             (long)getpid(), ++n);
}

/* The JSON value of a push field as text: a string as is, an integer in
 * decimal, true/false as 1/0. NULL for another type. */
static const char *as_text(json_t *v, char *num, size_t numsz, size_t *len)
{
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    if (json_is_integer(v))
        snprintf(num, numsz, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(num, numsz, "%d", json_is_true(v) ? 1 : 0);
    else
        return NULL;
    *len = strlen(num);
    return num;
}

static void on_post_mt(struct sc_http_req *req, void *arg)
{
    struct sc_app *a = arg;
    json_t *o = sc__api_body(a, req);
    if (!o)
        return;
    enum { N = SC_PUSH_FIELDS_MAX };
    const char *f[N + 1], *v[N + 1];
    size_t flen[N + 1], vlen[N + 1], n = 0;
    char nums[N + 1][24], id[SC_PUSH_ID_MAX + 1] = "";
    const char *key;
    json_t *val;
    static const char *const known[] = {"id", "to", "text", "from", "kind", "priority",
                                        "not_after", "quiet"};
    json_object_foreach(o, key, val) {
        size_t k = 0;
        while (k < SC_ARRAY_LEN(known) && strcmp(known[k], key) != 0)
            k++;
        if (k == SC_ARRAY_LEN(known) || n == N) {
            sc__api_error(req, 400, "unknown_field", key);
            goto out;
        }
        if (!(v[n] = as_text(val, nums[n], sizeof nums[n], &vlen[n]))) {
            sc__api_error(req, 400, "bad_type", key);
            goto out;
        }
        f[n] = key;
        flen[n++] = strlen(key);
    }
    static const char *const required[] = {"to", "text"};
    for (size_t k = 0; k < SC_ARRAY_LEN(required); k++)
        if (!json_object_get(o, required[k])) {
            sc__api_error(req, 400, "missing_field", required[k]);
            goto out;
        }
    if (!json_object_get(o, "id")) { /* optional here: one is made */
        sc__api_make_id(id, sizeof id);
        f[n] = "id";
        flen[n] = 2;
        v[n] = id;
        vlen[n++] = strlen(id);
    }
    struct sc_push p;
    const char *why = sc_push_check(f, flen, v, vlen, n, (unsigned)a->gen->cfg->mt.default_priority,
                                    &p);
    if (why) {
        sc__api_error(req, 400, why, reason_field(why));
        goto out;
    }
    sc__api_xadd(a, req, 0, SC_KEY_MT_PUSH, p.id, f, v, vlen, n);
out:
    json_decref(o);
}

/* ---- GET /v1/mt/ID ----------------------------------------------------------- */

static void on_hgetall(void *ctx, int err, redisReply *rep)
{
    struct call *c = ctx;
    if (err || rep->type != REDIS_REPLY_ARRAY) {
        int wrongtype = !err && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "WRONGTYPE", 9) == 0;
        sc__api_error(c->req, wrongtype ? 500 : 503, wrongtype ? "bad_data" : "redis_unavailable",
                      NULL);
    } else if (rep->elements == 0) {
        sc__api_error(c->req, 404, "unknown_id", "id");
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(c->id));
        for (size_t i = 0; o && i + 1 < rep->elements; i += 2) {
            const redisReply *k = rep->element[i], *v = rep->element[i + 1];
            if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
                json_object_setn_new(o, k->str, k->len, json_stringn(v->str, v->len));
        }
        sc__api_json(c->req, 200, o);
        json_decref(o);
    }
    free(c);
}

static void on_get_mt(struct sc_http_req *req, void *arg)
{
    struct sc_app *a = arg;
    if (!sc__api_authorized(a, req))
        return;
    const char *id = sc_http_path(req) + strlen("/v1/mt/");
    size_t n = strlen(id);
    int ok = n > 0 && n <= SC_PUSH_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = id[i] > ' ' && id[i] <= '~';
    if (!ok) {
        sc__api_error(req, 400, "bad_id", "id");
        return;
    }
    struct call *c = call_new(req, id);
    if (!c)
        return;
    char key[SC_KEY_MAX];
    sc_key(key, sizeof key, SC_KEY_MT, id);
    const char *argv[] = {"HGETALL", key};
    if (sc_store_command(a->store, 2, argv, NULL, on_hgetall, c) < 0) {
        free(c);
        sc__api_error(req, 503, "redis_unavailable", NULL);
    }
}

/* ---- POST /v1/orders ----------------------------------------------------------- */

/* Printable ASCII without spaces, 1..ORDER_FIELD_MAX bytes (core/orders.c). */
static int plain(const char *s, size_t n)
{
    if (n == 0 || n > ORDER_FIELD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

/* The order's fields checked as core/orders.c checks them into v, vlen:
 * 0, or -1 with the error answered. */
static int order_fields(struct sc_app *a, struct sc_http_req *req, json_t *o,
                        const char *v[4], size_t vlen[4])
{
    static const char *const names[] = {"id", "msisdn", "service", "channel"};
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val) {
        size_t k = 0;
        while (k < 4 && strcmp(names[k], key) != 0)
            k++;
        if (k == 4)
            return sc__api_error(req, 400, "unknown_field", key);
    }
    for (size_t k = 0; k < 4; k++) {
        json_t *x = json_object_get(o, names[k]);
        if (!x)
            return sc__api_error(req, 400, "missing_field", names[k]);
        if (!json_is_string(x))
            return sc__api_error(req, 400, "bad_type", names[k]);
        v[k] = json_string_value(x);
        vlen[k] = json_string_length(x);
        int ok = k == 1 ? vlen[k] <= SC_PUSH_TO_MAX && sc_intake_source_ok(SC_SRC_MSISDN, v[k])
                        : plain(v[k], vlen[k]);
        if (!ok)
            return sc__api_error(req, 400, k == 1 ? "bad_msisdn" : "bad_field", names[k]);
    }
    /* The catalogue as this daemon knows it (when it has one). */
    if (sc_catalogue_size(a->cat)) {
        const struct sc_service *svc = sc_catalogue_get(a->cat, v[2]);
        if (!svc)
            return sc__api_error(req, 400, "unknown_service", "service");
        if (!sc_order_orderable(svc))
            return sc__api_error(req, 400, "not_orderable", "service");
    }
    return 0;
}

static void on_post_orders(struct sc_http_req *req, void *arg)
{
    struct sc_app *a = arg;
    json_t *o = sc__api_body(a, req);
    if (!o)
        return;
    static const char *const names[] = {"id", "msisdn", "service", "channel"};
    const char *v[4];
    size_t vlen[4];
    if (order_fields(a, req, o, v, vlen) == 0)
        sc__api_xadd(a, req, 0, SC_KEY_ORDERS, v[0], names, v, vlen, 4);
    json_decref(o);
}

int sc__api_v1_routes(struct sc_app *a)
{
    int rc = sc_http_route(a->http, "POST", "/v1/mt", on_post_mt, a);
    if (rc == 0)
        rc = sc_http_route(a->http, "GET", "/v1/mt/*", on_get_mt, a);
    if (rc == 0)
        rc = sc_http_route(a->http, "POST", "/v1/orders", on_post_orders, a);
    return rc;
}
