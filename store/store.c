/* store.c -- Redis for the daemon: hiredis async on the libuv loop, Lua
 * scripts, our own connect and command deadlines, reconnect with backoff.
 *
 * One connection, one state machine:
 *
 *   IDLE -start-> [RESOLVING] -> CONNECTING -> HANDSHAKE -> READY
 *                      ^                                       |
 *                      +------------- BACKOFF <----------------+ (any failure)
 *   any -stop-> STOPPING -> STOPPED
 *
 * RESOLVING is skipped for a numeric host; a name is resolved with
 * uv_getaddrinfo (threadpool) so that hiredis, which calls getaddrinfo
 * synchronously inside redisAsyncConnect, only ever sees a numeric address
 * and never blocks the loop on DNS.
 *
 * One timer (conn_timer) keeps the deadline of a whole attempt (resolve,
 * TCP connect, AUTH, SELECT, SCRIPT LOAD, PING: connect_timeout_ms from the
 * start; while TCP connects it also checks the socket every ST_PROBE_MS)
 * and, between attempts, the backoff. The handshake is pipelined in
 * one write once TCP is up; the PING at its end is the last reply, so when it
 * arrives every earlier step has answered too. Before PING it asks INFO and
 * CONFIG GET append* / save: their answers (or refusals) are collected and
 * judged at the PING reply, before the store becomes ready (durability).
 *
 * Commands: each user call is an st_cmd, the privdata hiredis hands back.
 * They are kept on a FIFO in send order, which is also reply order and
 * deadline order (all commands share one timeout), so one timer (cmd_timer),
 * armed for the oldest, watches them all. A reply that removes the oldest
 * does not re-arm it; when it fires early it re-arms for the new oldest.
 * When the oldest is overdue the connection is taken as frozen and freed:
 * EVERY pending command then fails with SC_ETIMEOUT (not only the overdue
 * one: all of them were sent and none has an answer, so the caller must treat
 * each outcome as unknown alike), and a new connection is made after a
 * backoff. A lost connection fails pending commands with SC_ECLOSED.
 *
 * Failures (SC_ETIMEOUT, SC_ECLOSED) reach user callbacks from a zero-delay
 * timer (defer_timer), never from inside hiredis' teardown and never from
 * inside an sc_store_* call. Replies reach them directly from hiredis' read
 * callback; the reply is hiredis' and is freed when the callback returns.
 *
 * Cost per command: the RESP request is formatted by us (resp.c and the
 * inline primitives in store_int.h: no sds, no argv copies) and handed to
 * redisAsyncFormattedCommand, which copies it into hiredis' output buffer.
 * st_cmd wrappers come from a free list; the only allocation per command in
 * steady state is hiredis' own callback node.
 * An eval keeps the formatted EVALSHA in its wrapper (a buffer reused from
 * call to call) so that a NOSCRIPT answer can be retried once as EVAL with
 * the source, transparently: the caller's callback sees the final reply.
 * The retry gets a fresh deadline (it is a new round trip at the tail of
 * the pipeline), so an eval may take up to twice command_timeout_ms.
 *
 * The hiredis 0.14 rules every file of store/ relies on are written at the
 * top of store_int.h.
 *
 * Files: this one is the connection state machine, the command FIFO with its
 * deadline, deferred failures and the public API; handshake.c the pipelined
 * handshake; server.c the INFO/CONFIG durability judgement; scripts.c the
 * script registry and the NOSCRIPT retry; wait.c the WAIT after each eval
 * (redis.wait_replicas); resp.c RESP formatting; adapter.c
 * the hiredis <-> libuv adapter; cluster.c the Redis Cluster router in front
 * of this engine (slots.c its pure parts); store_int.h what they share. This
 * file is about 780 lines (about 60 of them this comment) because the state
 * machine and the command FIFO share every transition: a failure in any
 * state ends the pending commands, and splitting them would put one
 * transition in two files.
 */
#include "store/cluster.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const g_state_names[] = {
#define ST__NAME(name, text) text,
    SC_STORE_STATE_MAP(ST__NAME)
#undef ST__NAME
};

static void connect_now(struct sc_store *st);
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* ---- small helpers ---------------------------------------------------- */

static const char *quote(char *buf, size_t bufsz, const char *s)
{
    return sc_log_quote(buf, bufsz, s ? s : "", s ? strlen(s) : 0);
}

/* ---- command wrappers ---------------------------------------------------- */

static struct st_cmd *cmd_get(struct sc_store *st)
{
    struct st_cmd *c = TAILQ_FIRST(&st->free_cmds);
    if (c) {
        TAILQ_REMOVE(&st->free_cmds, c, link);
    } else {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        c->st = st;
    }
    c->err = 0;
    c->script = -1;
    c->retried = 0;
    c->len = 0;
    return c;
}

static void cmd_put(struct sc_store *st, struct st_cmd *c)
{
    c->cb = NULL;
    c->ctx = NULL;
    if (c->cap > ST_KEEP_BUF_MAX) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    }
    TAILQ_INSERT_HEAD(&st->free_cmds, c, link);
}

struct st_cmd *sc__cmd_get(struct sc_store *st) { return cmd_get(st); }

void sc__cmd_put(struct sc_store *st, struct st_cmd *c) { cmd_put(st, c); }

static void on_defer_timer(uv_timer_t *t);

static void schedule_defer(struct sc_store *st)
{
    if (!st->defer_armed && !st->closing) {
        st->defer_armed = 1;
        uv_timer_start(&st->defer_timer, on_defer_timer, 0, 0);
    }
}

static void failed_push(struct sc_store *st, struct st_cmd *c)
{
    TAILQ_INSERT_TAIL(&st->failed, c, link);
    st->nfailed++;
    schedule_defer(st);
}

/* ---- command deadline -------------------------------------------------- */

static void on_cmd_timer(uv_timer_t *t);

static void arm_cmd_timer(struct sc_store *st)
{
    const struct st_cmd *oldest = TAILQ_FIRST(&st->fifo);
    if (!oldest) {
        st->cmd_timer_armed = 0;
        return;
    }
    uint64_t now = uv_now(st->loop);
    uint64_t d = oldest->deadline > now ? oldest->deadline - now : 0;
    uv_timer_start(&st->cmd_timer, on_cmd_timer, d, 0);
    st->cmd_timer_armed = 1;
}

/* Send a formatted request for c and queue c with a fresh deadline. Returns
 * 0 or SC_EAGAIN (hiredis refuses: the context is going away). */
int sc__submit(struct sc_store *st, struct st_cmd *c, const char *req, size_t len)
{
    if (redisAsyncFormattedCommand(st->ac, on_reply, c, req, len) != REDIS_OK)
        return SC_EAGAIN;
    c->deadline = uv_now(st->loop) + st->o.command_timeout_ms;
    if (st->o.latency)
        c->sent_ns = uv_hrtime();
    sc__fifo_push(st, c);
    if (!st->cmd_timer_armed)
        arm_cmd_timer(st);
    return 0;
}

/* ---- connection life cycle ------------------------------------------- */

/* Forget the context and free it: pending callbacks run now with reply NULL
 * (or, inside a reply callback, as soon as it returns) and only queue their
 * failure. */
void sc__drop(struct sc_store *st)
{
    redisAsyncContext *ac = st->ac;
    st->ready = 0;
    if (!ac)
        return;
    st->ac = NULL;
    redisAsyncFree(ac);
}

static void on_conn_timer(uv_timer_t *t);

/* Arm the backoff after a failure; returns the delay chosen. Equal jitter:
 * half the base delay fixed, half random, so that many daemons restarting
 * together spread out while no retry comes sooner than half the base. */
uint32_t sc__retry_later(struct sc_store *st)
{
    uint32_t base = st->backoff_ms;
    st->backoff_ms = base >= st->o.reconnect_max_ms / 2 ? st->o.reconnect_max_ms : base * 2;
    uint32_t half = base / 2;
    uint32_t d = half + (uint32_t)(sc_xorshift64s(&st->rng) % ((uint64_t)(base - half) + 1));
    st->failures++;
    st->state = ST_BACKOFF;
    uv_timer_start(&st->conn_timer, on_conn_timer, d, 0);
    return d;
}

/* The connection is gone (already freed or being freed by hiredis, or by
 * us): log, back off, and tell the owner if it had been ready. */
static void lost(struct sc_store *st, const char *event_reason, int was_ready)
{
    char q[160];
    st->ac = NULL;
    st->ready = 0;
    if (st->state == ST_STOPPING || st->state == ST_STOPPED)
        return;
    unsigned failures = st->failures + 1;
    uint32_t d = sc__retry_later(st);
    sc_strlcpy(st->last_error, event_reason, sizeof st->last_error);
    if (was_ready)
        ST_LOG(SC_LOG_WARN, st, "redis_disconnected", " reason=%s failed=%u retry_ms=%u",
               quote(q, sizeof q, event_reason), st->nfailed, d);
    else
        ST_LOG(SC_LOG_WARN, st, "redis_connect_failed", " reason=%s attempt=%u retry_ms=%u",
               quote(q, sizeof q, event_reason), failures, d);
    if (was_ready && st->on_state)
        st->on_state(st->state_arg, 0);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    struct sc_store *st = cac->data;
    if (cac != st->ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context when we return. */
        lost(st, cac->errstr, 0);
        return;
    }
    redisEnableKeepAlive(&st->ac->c);
    sc__send_handshake(st);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    struct sc_store *st = cac->data;
    if (cac != st->ac)
        return; /* our own redisAsyncFree */
    lost(st, cac->errstr[0] ? cac->errstr : "connection closed", st->state == ST_READY);
}

/* Connect to a numeric address (hiredis' getaddrinfo returns at once). */
static void do_connect(struct sc_store *st)
{
    char why[128], q[160];
    redisAsyncContext *ac = redisAsyncConnect(st->addr, st->u.port);
    if (!ac) {
        sc_strlcpy(why, "out of memory", sizeof why);
        goto fail;
    }
    if (ac->err) {
        sc_strlcpy(why, ac->errstr, sizeof why);
        redisAsyncFree(ac);
        goto fail;
    }
    ac->data = st;
    if (sc__ev_attach(ac, st->loop) < 0) {
        redisAsyncFree(ac);
        sc_strlcpy(why, "uv_poll_init failed", sizeof why);
        goto fail;
    }
    st->ac = ac;
    st->state = ST_CONNECTING;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return;
fail:;
    unsigned failures = st->failures + 1;
    sc_strlcpy(st->last_error, why, sizeof st->last_error);
    uv_timer_stop(&st->conn_timer);
    uint32_t d = sc__retry_later(st);
    ST_LOG(SC_LOG_WARN, st, "redis_connect_failed", " addr=%s reason=%s attempt=%u retry_ms=%u",
           st->addr, quote(q, sizeof q, why), failures, d);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct sc_store *st = req->data;
    int current = req == st->resolve;
    st->nresolving--;
    free(req);
    if (!current) {
        if (res)
            uv_freeaddrinfo(res);
        if (st->state == ST_STOPPING) /* stop waits for us */
            schedule_defer(st);
        return;
    }
    st->resolve = NULL;
    const struct addrinfo *pick = NULL;
    if (status == 0) {
        /* IPv4 first, as hiredis does. */
        for (const struct addrinfo *a = res; a && !pick; a = a->ai_next)
            if (a->ai_family == AF_INET)
                pick = a;
        for (const struct addrinfo *a = res; a && !pick; a = a->ai_next)
            if (a->ai_family == AF_INET6)
                pick = a;
    }
    if (pick && pick->ai_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)pick->ai_addr, st->addr, sizeof st->addr);
    else if (pick)
        uv_ip6_name((const struct sockaddr_in6 *)pick->ai_addr, st->addr, sizeof st->addr);
    if (res)
        uv_freeaddrinfo(res);
    if (!pick) {
        unsigned failures = st->failures + 1;
        uv_timer_stop(&st->conn_timer);
        uint32_t d = sc__retry_later(st);
        sc_strlcpy(st->last_error, status < 0 ? uv_strerror(status) : "no address",
                   sizeof st->last_error);
        ST_LOG(SC_LOG_WARN, st, "redis_connect_failed",
               " stage=resolve reason=\"%s\" attempt=%u retry_ms=%u", st->last_error, failures, d);
        return;
    }
    do_connect(st);
}

/* Start one attempt: its deadline covers every step up to ready. */
static void connect_now(struct sc_store *st)
{
    if (st->u.nseeds > 1) /* several seeds: each attempt the next one */
        sc__pick_seed(st);
    st->attempt_deadline = uv_now(st->loop) + st->o.connect_timeout_ms;
    uv_timer_start(&st->conn_timer, on_conn_timer, SC_MIN(st->o.connect_timeout_ms, ST_PROBE_MS),
                   0);
    if (st->host_numeric) {
        sc_strlcpy(st->addr, st->u.host, sizeof st->addr);
        do_connect(st);
        return;
    }
    uv_getaddrinfo_t *req = malloc(sizeof *req);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = req ? uv_getaddrinfo(st->loop, req, on_resolved, st->u.host, NULL, &hints) : UV_ENOMEM;
    if (rc < 0) {
        free(req);
        unsigned failures = st->failures + 1;
        uv_timer_stop(&st->conn_timer);
        uint32_t d = sc__retry_later(st);
        ST_LOG(SC_LOG_WARN, st, "redis_connect_failed",
               " stage=resolve reason=\"%s\" attempt=%u retry_ms=%u", uv_strerror(rc), failures,
               d);
        return;
    }
    req->data = st;
    st->resolve = req;
    st->nresolving++;
    st->state = ST_RESOLVING;
}

/* Backoff over, or a check of the attempt in progress: fail it when the
 * socket has an error (a refused connect: the adapter stays silent) or the
 * attempt's deadline has passed, else look again later. */
static void on_conn_timer(uv_timer_t *t)
{
    struct sc_store *st = t->data;
    char reason[96];
    uint64_t now = uv_now(st->loop);
    if (st->state == ST_BACKOFF) {
        connect_now(st);
        return;
    }
    if (st->state != ST_RESOLVING && st->state != ST_CONNECTING && st->state != ST_HANDSHAKE)
        return;
    int err = 0;
    if (st->state == ST_CONNECTING) {
        socklen_t len = sizeof err;
        if (getsockopt(st->ac->c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
    }
    if (err) {
        snprintf(reason, sizeof reason, "%s", strerror(err));
    } else if (now < st->attempt_deadline) {
        uint64_t left = st->attempt_deadline - now;
        uint64_t d = st->state == ST_CONNECTING && left > ST_PROBE_MS ? ST_PROBE_MS : left;
        uv_timer_start(&st->conn_timer, on_conn_timer, d, 0);
        return;
    } else if (st->state == ST_RESOLVING) {
        sc_strlcpy(reason, "resolve timed out", sizeof reason);
    } else if (st->state == ST_CONNECTING) {
        sc_strlcpy(reason, "connect timed out", sizeof reason);
    } else {
        snprintf(reason, sizeof reason, "handshake timed out (%u replies missing)", st->hs_left);
    }
    if (st->state == ST_RESOLVING && st->resolve) {
        uv_cancel((uv_req_t *)st->resolve); /* called back later, as stale */
        st->resolve = NULL;
    }
    sc__drop(st);
    unsigned failures = st->failures + 1;
    uint32_t d = sc__retry_later(st);
    sc_strlcpy(st->last_error, reason, sizeof st->last_error);
    ST_LOG(SC_LOG_WARN, st, "redis_connect_failed", " addr=%s reason=\"%s\" attempt=%u retry_ms=%u",
           st->addr[0] ? st->addr : "-", reason, failures, d);
}

/* The oldest command is overdue: the connection is frozen. */
static void on_cmd_timer(uv_timer_t *t)
{
    struct sc_store *st = t->data;
    st->cmd_timer_armed = 0;
    const struct st_cmd *oldest = TAILQ_FIRST(&st->fifo);
    if (!oldest || st->state != ST_READY)
        return;
    uint64_t now = uv_now(st->loop);
    if (oldest->deadline > now) {
        arm_cmd_timer(st);
        return;
    }
    unsigned pending = st->npending;
    uint64_t waited = now - (oldest->deadline - st->o.command_timeout_ms);
    struct st_cmd *c;
    TAILQ_FOREACH(c, &st->fifo, link)
        c->err = SC_ETIMEOUT;
    sc__drop(st); /* every pending callback now queues SC_ETIMEOUT */
    uint32_t d = sc__retry_later(st);
    ST_LOG(SC_LOG_WARN, st, "redis_timeout", " pending=%u waited_ms=%llu timeout_ms=%u retry_ms=%u",
           pending, (unsigned long long)waited, st->o.command_timeout_ms, d);
    if (st->on_state)
        st->on_state(st->state_arg, 0);
}

/* ---- replies --------------------------------------------------------- */

/* A NOSCRIPT answer to an EVALSHA: send the same call as EVAL with the
 * source (which also puts the script back in Redis' cache). */
int sc__retry_as_eval(struct sc_store *st, struct st_cmd *c)
{
    const struct st_script *s = &st->scripts[c->script];
    size_t tail = c->len - c->tail_off;
    size_t n = sc__count_size(c->nargv) + sc__bulk_size(4) + sc__bulk_size(s->lualen) + tail;
    if (sc__reserve(&st->scratch, &st->scratch_cap, n + 1) < 0)
        return SC_ENOMEM;
    char *p = sc__put_count(st->scratch, c->nargv);
    p = sc__put_bulk(p, "EVAL", 4);
    p = sc__put_bulk(p, s->lua, s->lualen);
    memcpy(p, c->buf + c->tail_off, tail);
    p += tail;
    *p = '\0';
    sc__fifo_unlink(st, c);
    int rc = sc__submit(st, c, st->scratch, (size_t)(p - st->scratch));
    if (rc < 0)
        sc__fifo_push(st, c); /* keep it counted: the caller unlinks it */
    sc__scratch_trim(st);
    return rc;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct st_cmd *c = privdata;
    struct sc_store *st = c->st;
    redisReply *r = reply;
    if (!r) {
        /* The context is being freed, by us or by hiredis after an I/O
         * error: fail from the loop, after hiredis is done. */
        if (ac == st->ac)
            st->ready = 0; /* on_disconnect follows */
        sc__fifo_unlink(st, c);
        if (!c->err)
            c->err = SC_ECLOSED;
        failed_push(st, c);
        return;
    }
    if (c->script >= 0 && !c->retried && sc__is_error(r) && r->len >= 8 &&
        memcmp(r->str, "NOSCRIPT", 8) == 0 && ac == st->ac) {
        c->retried = 1;
        if (sc__retry_as_eval(st, c) == 0) {
            sc__wait_retried(st, c);
            ST_DEBUG(st, "redis_noscript", " script=%s", st->scripts[c->script].name);
            return;
        }
    }
    if (st->o.latency)
        sc_histogram_observe(st->o.latency, (uv_hrtime() - c->sent_ns) / 1000);
    sc_store_cb cb = c->cb;
    void *ctx = c->ctx;
    sc__fifo_unlink(st, c);
    cmd_put(st, c);
    cb(ctx, 0, r);
}

/* ---- deferred failures and stop -------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    struct sc_store *st = h->data;
    if (--st->open_handles == 0) {
        st->state = ST_STOPPED;
        if (st->done)
            st->done(st->done_arg);
    }
}

static void maybe_finish_stop(struct sc_store *st)
{
    if (st->state != ST_STOPPING || st->closing || !TAILQ_EMPTY(&st->failed) || st->nresolving)
        return;
    st->closing = 1;
    st->open_handles = 3;
    uv_close((uv_handle_t *)&st->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->cmd_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->defer_timer, on_handle_closed);
}

static void on_defer_timer(uv_timer_t *t)
{
    struct sc_store *st = t->data;
    st->defer_armed = 0;
    struct st_cmd *c;
    while ((c = TAILQ_FIRST(&st->failed)) != NULL) {
        TAILQ_REMOVE(&st->failed, c, link);
        st->nfailed--;
        sc_store_cb cb = c->cb;
        void *ctx = c->ctx;
        int err = c->err;
        cmd_put(st, c);
        cb(ctx, err, NULL);
    }
    if (st->state == ST_STOPPING && !st->closing) {
        if (st->report_down) {
            st->report_down = 0;
            if (st->on_state)
                st->on_state(st->state_arg, 0);
        }
        maybe_finish_stop(st);
    }
}

/* ---- public API -------------------------------------------------------- */

struct sc_store *sc_store_new(uv_loop_t *loop, const struct sc_store_opts *o, char *err,
                              size_t errsz)
{
    struct sc_store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    TAILQ_INIT(&st->fifo);
    TAILQ_INIT(&st->failed);
    TAILQ_INIT(&st->free_cmds);
    st->loop = loop;
    st->o = *o;
    st->o.url = NULL; /* not kept: it may hold the password */
    if (sc_redis_url_parse(o->url, &st->u, err, errsz) < 0) {
        sc_store_free(st);
        return NULL;
    }
    unsigned char buf[sizeof(struct in6_addr)];
    st->host_numeric = uv_inet_pton(AF_INET, st->u.host, buf) == 0 ||
                       uv_inet_pton(AF_INET6, st->u.host, buf) == 0;
    if (!st->o.connect_timeout_ms)
        st->o.connect_timeout_ms = ST_DEF_CONNECT_TIMEOUT_MS;
    if (!st->o.command_timeout_ms)
        st->o.command_timeout_ms = ST_DEF_COMMAND_TIMEOUT_MS;
    if (!st->o.reconnect_min_ms)
        st->o.reconnect_min_ms = ST_DEF_RECONNECT_MIN_MS;
    if (!st->o.reconnect_max_ms)
        st->o.reconnect_max_ms = ST_DEF_RECONNECT_MAX_MS;
    if (st->o.reconnect_max_ms < st->o.reconnect_min_ms)
        st->o.reconnect_max_ms = st->o.reconnect_min_ms;
    if (!st->o.max_pending)
        st->o.max_pending = ST_DEF_MAX_PENDING;
    st->backoff_ms = st->o.reconnect_min_ms;
    st->rng = sc_xorshift64s_seed(uv_hrtime() ^ ((uint64_t)(uintptr_t)st << 16));
    st->state = ST_IDLE;
    st->srv.keys = -1;
    st->srv.durable = -1;
    st->srv.replicas = -1;
    if (st->o.wait_replicas && !st->o.wait_timeout_ms)
        st->o.wait_timeout_ms = ST_DEF_WAIT_TIMEOUT_MS;
    return st;
}

void sc_store_on_state(struct sc_store *st, void (*cb)(void *arg, int ready), void *arg)
{
    st->on_state = cb;
    st->state_arg = arg;
}

int sc_store_start(struct sc_store *st)
{
    if (st->state != ST_IDLE)
        return SC_ESTATE;
    uv_timer_init(st->loop, &st->conn_timer);
    uv_timer_init(st->loop, &st->cmd_timer);
    uv_timer_init(st->loop, &st->defer_timer);
    st->conn_timer.data = st->cmd_timer.data = st->defer_timer.data = st;
    ST_DEBUG(st, "redis_connecting", " db=%u", st->u.db);
    connect_now(st);
    return 0;
}

int sc_store_ready(const struct sc_store *st)
{
    return (st->cl ? sc__cluster_ready(st->cl) : st->ready) && !st->held;
}

int sc_store_is_cluster(const struct sc_store *st) { return st->cl != NULL; }

int sc_store_connected(const struct sc_store *st)
{
    return st->cl ? sc__cluster_ready(st->cl) : st->ready;
}

void sc_store_hold(struct sc_store *st, int on) { st->held = on != 0; }

const char *sc_store_last_error(const struct sc_store *st) { return st->last_error; }

const struct sc_store_server *sc_store_server(const struct sc_store *st)
{
    return st->cl ? sc__cluster_server(st->cl) : &st->srv;
}

unsigned sc_store_pending(const struct sc_store *st)
{
    return st->cl ? sc__cluster_pending(st->cl) : st->npending;
}

void sc_store_set_max_pending(struct sc_store *st, unsigned max_pending)
{
    if (st->cl)
        sc__cluster_set_max_pending(st->cl, max_pending);
    st->o.max_pending = max_pending ? max_pending : ST_DEF_MAX_PENDING;
}

int sc_store_eval(struct sc_store *st, int script, int nkeys, const char *const *keys,
                  const size_t *keylens, int nargs, const char *const *args,
                  const size_t *arglens, sc_store_cb cb, void *ctx)
{
    if (script < 0 || script >= st->nscripts || nkeys < 0 || nargs < 0 || (nkeys && !keys) ||
        (nargs && !args) || !cb)
        return SC_EINVAL;
    if (st->cl)
        return st->held ? SC_EAGAIN
                        : sc__cluster_eval(st->cl, script, nkeys, keys, keylens, nargs, args,
                                           arglens, cb, ctx);
    if (!st->ready || st->held)
        return SC_EAGAIN;
    if (st->npending >= st->o.max_pending)
        return SC_EBUSY;
    const struct st_script *s = &st->scripts[script];
    size_t ks = sc__bulks_size(nkeys, keys, keylens);
    size_t as = sc__bulks_size(nargs, args, arglens);
    if (ks == SIZE_MAX || as == SIZE_MAX)
        return SC_EINVAL;
    size_t nargv = 3 + (size_t)nkeys + (size_t)nargs;
    size_t head = sc__count_size(nargv) + (s->sha[0] ? sc__bulk_size(7) + sc__bulk_size(40)
                                                     : sc__bulk_size(4) + sc__bulk_size(s->lualen));
    size_t n = head + sc__bulk_size(sc__dec_len((size_t)nkeys)) + ks + as;
    struct st_cmd *c = cmd_get(st);
    if (!c)
        return SC_ENOMEM;
    if (sc__reserve(&c->buf, &c->cap, n + 1) < 0) {
        cmd_put(st, c);
        return SC_ENOMEM;
    }
    char nk[24];
    size_t nklen = (size_t)(sc__put_dec(nk, (size_t)nkeys) - nk);
    char *p = sc__put_count(c->buf, nargv);
    if (s->sha[0]) {
        p = sc__put_bulk(p, "EVALSHA", 7);
        p = sc__put_bulk(p, s->sha, 40);
    } else {
        /* SCRIPT LOAD refused it: EVAL gets the caller Redis' error. */
        p = sc__put_bulk(p, "EVAL", 4);
        p = sc__put_bulk(p, s->lua, s->lualen);
        c->retried = 1;
    }
    c->tail_off = (size_t)(p - c->buf);
    p = sc__put_bulk(p, nk, nklen);
    p = sc__put_bulks(p, nkeys, keys, keylens);
    p = sc__put_bulks(p, nargs, args, arglens);
    *p = '\0';
    c->len = (size_t)(p - c->buf);
    c->nargv = nargv;
    c->script = script;
    c->cb = cb;
    c->ctx = ctx;
    int rc = st->o.wait_replicas ? sc__wait_submit(st, c, c->buf, c->len, cb, ctx)
                                 : sc__submit(st, c, c->buf, c->len);
    if (rc < 0)
        cmd_put(st, c);
    return rc;
}

/* Commands that change how hiredis reads the connection (pub/sub, monitor)
 * cannot share it with request/reply traffic. */
static int refused_command(const char *name, size_t len)
{
    static const char *const bad[] = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
                                      "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"};
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++)
        if (len == strlen(bad[i]) && strncasecmp(name, bad[i], len) == 0)
            return 1;
    return 0;
}

/* sc_store_command (wait 0) and sc_store_write (wait 1: WAIT follows when
 * wait_replicas is set). */
static int command(struct sc_store *st, int argc, const char *const *argv,
                   const size_t *argvlen, sc_store_cb cb, void *ctx, int wait)
{
    if (st->cl && argc >= 1 && argv && argv[0] && cb &&
        !refused_command(argv[0], sc__arg_len(argv, argvlen, 0)))
        return sc__cluster_command(st->cl, argc, argv, argvlen, cb, ctx, wait);
    return sc__raw_command(st, argc, argv, argvlen, cb, ctx, wait);
}

int sc_store_command(struct sc_store *st, int argc, const char *const *argv,
                     const size_t *argvlen, sc_store_cb cb, void *ctx)
{
    return command(st, argc, argv, argvlen, cb, ctx, 0);
}

int sc_store_write(struct sc_store *st, int argc, const char *const *argv,
                   const size_t *argvlen, sc_store_cb cb, void *ctx)
{
    return command(st, argc, argv, argvlen, cb, ctx, 1);
}

int sc__raw_command(struct sc_store *st, int argc, const char *const *argv,
                    const size_t *argvlen, sc_store_cb cb, void *ctx, int wait)
{
    if (argc < 1 || !argv || !argv[0] || !cb)
        return SC_EINVAL;
    if (refused_command(argv[0], sc__arg_len(argv, argvlen, 0)))
        return SC_EINVAL;
    if (!st->ready)
        return SC_EAGAIN;
    if (st->npending >= st->o.max_pending)
        return SC_EBUSY;
    long n = sc__format_scratch(st, argc, argv, argvlen);
    if (n < 0)
        return (int)n;
    struct st_cmd *c = cmd_get(st);
    if (!c)
        return SC_ENOMEM;
    c->cb = cb;
    c->ctx = ctx;
    int rc = wait && st->o.wait_replicas ? sc__wait_submit(st, c, st->scratch, (size_t)n, cb, ctx)
                                         : sc__submit(st, c, st->scratch, (size_t)n);
    if (rc < 0)
        cmd_put(st, c);
    sc__scratch_trim(st);
    return rc;
}

void sc_store_stop(struct sc_store *st, void (*done)(void *arg), void *arg)
{
    if (st->cl && sc__cluster_stop(st->cl, done, arg))
        return;
    if (st->state == ST_STOPPING || st->state == ST_STOPPED)
        return;
    st->done = done;
    st->done_arg = arg;
    if (st->state == ST_IDLE) { /* never started: no handle to close */
        st->state = ST_STOPPED;
        if (done)
            done(arg);
        return;
    }
    ST_DEBUG(st, "redis_stopping", " state=%s pending=%u", g_state_names[st->state],
             st->npending);
    st->report_down = st->state == ST_READY;
    st->state = ST_STOPPING;
    uv_timer_stop(&st->conn_timer);
    uv_timer_stop(&st->cmd_timer);
    st->cmd_timer_armed = 0;
    if (st->resolve) {
        uv_cancel((uv_req_t *)st->resolve); /* called back later, as stale */
        st->resolve = NULL;
    }
    sc__drop(st); /* pending callbacks queue SC_ECLOSED */
    schedule_defer(st);
}

void sc_store_free(struct sc_store *st)
{
    if (!st)
        return;
    if (st->cl)
        sc__cluster_free(st->cl);
    struct st_cmd *c;
    while ((c = TAILQ_FIRST(&st->free_cmds)) != NULL) {
        TAILQ_REMOVE(&st->free_cmds, c, link);
        free(c->buf);
        free(c);
    }
    for (int i = 0; i < st->nscripts; i++) {
        free(st->scripts[i].name);
        free(st->scripts[i].lua);
    }
    free(st->scripts);
    sc_redis_url_free(&st->u);
    free(st->scratch);
    free(st);
}
