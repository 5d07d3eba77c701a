/* handshake.c -- the pipelined connect handshake: AUTH, SELECT, SCRIPT LOAD, INFO,
 * CONFIG GET, PING, and the move to READY when the last reply arrives. */
#include "store/cluster.h"

#include <string.h>

static void become_ready(struct sc_store *st)
{
    int broken = 0;
    for (int i = 0; i < st->nscripts; i++)
        broken += st->scripts[i].sha[0] == '\0';
    st->state = ST_READY;
    st->ready = 1;
    st->failures = 0;
    st->backoff_ms = st->o.reconnect_min_ms;
    uv_timer_stop(&st->conn_timer);
    ST_LOG(SC_LOG_INFO, st, "redis_connected", " addr=%s db=%u%s%s scripts=%d broken_scripts=%d",
           st->addr, st->u.db, st->u.user ? " user=" : "", st->u.user ? st->u.user : "", st->nscripts,
           broken);
    if (st->hs.cluster && !st->parent) { /* the router reports readiness */
        sc__cluster_seed_ready(st);
        return;
    }
    if (st->on_state)
        st->on_state(st->state_arg, 1);
}

/* A handshake step failed with an error reply (we are inside hiredis'
 * callback: the free is deferred until it returns). */
void sc__handshake_failed(struct sc_store *st, const char *event, const redisReply *r)
{
    char q[256];
    sc__drop(st);
    unsigned failures = st->failures + 1;
    uint32_t d = sc__retry_later(st);
    /* Redis error texts never echo the password we sent. */
    sc_log(SC_LOG_ERROR, "event=%s host=%s port=%d error=%s attempt=%u retry_ms=%u", event,
           st->u.host, st->u.port, sc_log_quote(q, sizeof q, r->str, r->len), failures, d);
}

void sc__hs_step(struct sc_store *st)
{
    if (--st->hs_left == 0)
        become_ready(st);
}

/* A handshake reply for this context that is not an error: 1. Otherwise 0,
 * and an error reply has failed the handshake (logged as event). */
static int hs_reply_ok(struct sc_store *st, const redisAsyncContext *ac, const redisReply *r,
                       const char *event)
{
    if (ac != st->ac || !r)
        return 0;
    if (sc__is_error(r)) {
        sc__handshake_failed(st, event, r);
        return 0;
    }
    return 1;
}

static void on_auth_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    if (hs_reply_ok(privdata, ac, reply, "redis_auth_failed"))
        sc__hs_step(privdata);
}

static void on_select_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;
    if (r && sc__is_error(r) && r->len > 12 && strstr(r->str, "cluster mode"))
        sc_log(SC_LOG_ERROR, "event=redis_cluster_db msg=\"a Redis Cluster has only db 0: "
                             "drop /%u from redis.url\"", ((struct sc_store *)privdata)->u.db);
    if (hs_reply_ok(privdata, ac, reply, "redis_select_failed"))
        sc__hs_step(privdata);
}

static void on_ping_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sc_store *st = privdata;
    /* An error: NOAUTH (a password is needed and none was given), LOADING, ... */
    if (!hs_reply_ok(st, ac, reply, "redis_handshake_failed"))
        return;
    if (st->hs_left == 1 && sc__check_durability(st) < 0)
        return;
    sc__hs_step(st);
}

static int hs_send(struct sc_store *st, redisCallbackFn *fn, void *privdata, int argc,
                   const char *const *argv, const size_t *argvlen, int secret)
{
    long n = sc__format_scratch(st, argc, argv, argvlen);
    if (n < 0)
        return (int)n;
    int rc = redisAsyncFormattedCommand(st->ac, fn, privdata, st->scratch, (size_t)n);
    if (secret)
        explicit_bzero(st->scratch, (size_t)n);
    if (rc != REDIS_OK)
        return SC_EAGAIN;
    st->hs_left++;
    return 0;
}

/* TCP is up: pipeline AUTH, SELECT, SCRIPT LOAD of each script and PING in
 * one write. Must not free the context (see the top of store_int.h). */
void sc__send_handshake(struct sc_store *st)
{
    char dbs[24];
    int rc = 0;
    st->state = ST_HANDSHAKE;
    st->hs_left = 0;
    memset(&st->hs, 0, sizeof st->hs);
    st->hs.info_aof = st->hs.cfg_aof = -1;
    st->hs.keys = -1;
    if (st->u.pass) {
        const char *argv[3] = {"AUTH", st->u.user, st->u.pass};
        size_t lens[3] = {4, st->u.userlen, st->u.passlen};
        if (st->u.user)
            rc = hs_send(st, on_auth_reply, st, 3, argv, lens, 1);
        else {
            argv[1] = st->u.pass;
            lens[1] = st->u.passlen;
            rc = hs_send(st, on_auth_reply, st, 2, argv, lens, 1);
        }
    }
    if (rc == 0 && st->u.db) {
        const char *argv[2] = {"SELECT", dbs};
        size_t lens[2] = {6, (size_t)(sc__put_dec(dbs, st->u.db) - dbs)};
        rc = hs_send(st, on_select_reply, st, 2, argv, lens, 0);
    }
    for (int i = 0; rc == 0 && i < st->nscripts; i++) {
        struct st_script *s = &st->scripts[i];
        const char *argv[3] = {"SCRIPT", "LOAD", s->lua};
        size_t lens[3] = {6, 4, s->lualen};
        rc = hs_send(st, sc__on_script_reply, s, 3, argv, lens, 0);
    }
    if (rc == 0) {
        const char *argv[1] = {"INFO"};
        rc = hs_send(st, sc__on_info_reply, st, 1, argv, NULL, 0);
    }
    if (rc == 0) {
        const char *argv[3] = {"CONFIG", "GET", "append*"};
        rc = hs_send(st, sc__on_config_reply, st, 3, argv, NULL, 0);
    }
    if (rc == 0) {
        const char *argv[3] = {"CONFIG", "GET", "save"};
        rc = hs_send(st, sc__on_config_reply, st, 3, argv, NULL, 0);
    }
    if (rc == 0) {
        const char *argv[1] = {"PING"};
        rc = hs_send(st, on_ping_reply, st, 1, argv, NULL, 0);
    }
    if (rc < 0) /* out of memory: the attempt's deadline will drop it */
        ST_LOG(SC_LOG_ERROR, st, "redis_handshake_failed", " error=\"%s\"", sc_strerror(rc));
}
