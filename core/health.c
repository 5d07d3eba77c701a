/* health.c -- GET /healthz: 200 "ok" when a bind is bound (or the daemon
 * is a standby waiting for a session lease) and Redis answers a PING (with
 * the daemon's data: not a Redis emptied under it), else 503 with every
 * reason in the body. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "core/api.h"
#include "core/app.h"
#include "core/http.h"
#include "core/lease.h"

struct probe {
    struct sc_app *a;
    struct sc_http_req *req;
};

/* Answer with the binds' state and Redis's (redis NULL: it answered). */
static void answer(struct sc_app *a, struct sc_http_req *req, const char *redis)
{
    char body[256];
    size_t n = 0;
    unsigned bound = a->esme ? sc_esme_bound(a->esme) : 0;
    int standby = !bound && sc_leases_standby(a->leases);
    if (!bound && !standby)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\n",
                              a->esme ? "no bind bound" : "no bind bound (binds start once "
                                                          "Redis is ready)");
    if (!redis && sc_catalogue_lost(a->cat))
        redis = "dataset lost (the catalogue vanished): MOs get the temporary error";
    if (redis)
        n += (size_t)snprintf(body + n, sizeof body - n, "redis: %s\n", redis);
    if (a->stopping)
        n += (size_t)snprintf(body + n, sizeof body - n, "shutting down\n");
    if (n == 0)
        snprintf(body, sizeof body, standby ? "ok (standby: waiting for a session lease)\n"
                                            : "ok\n");
    sc_http_respond_str(req, n ? 503 : 200, NULL, body);
}

static void on_ping(void *ctx, int err, redisReply *rep)
{
    struct probe *p = ctx;
    char why[128];
    const char *redis = NULL;
    if (err)
        redis = sc_strerror(err);
    else if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof why, "%.*s", (int)SC_MIN(rep->len, 100), rep->str);
        redis = why;
    }
    answer(p->a, p->req, redis);
    free(p);
}

static void on_healthz(struct sc_http_req *req, void *arg)
{
    struct sc_app *a = arg;
    struct probe *p = malloc(sizeof *p);
    if (!p) {
        sc_http_respond_str(req, 503, NULL, "out of memory\n");
        return;
    }
    *p = (struct probe){a, req};
    static const char *const argv[] = {"PING"};
    int rc = sc_store_command(a->store, 1, argv, NULL, on_ping, p);
    if (rc < 0) {
        free(p);
        char why[160];
        const char *last = sc_store_last_error(a->store);
        snprintf(why, sizeof why, "%s%s%s", rc == SC_EAGAIN ? "not connected" : sc_strerror(rc),
                 last[0] ? ": " : "", last);
        answer(a, req, why);
    }
}

int sc__api_health_routes(struct sc_app *a)
{
    return sc_http_route(a->http, "GET", "/healthz", on_healthz, a);
}
