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
 * Cost per command: the RESP request is formatted here (no sds, no argv
 * copies) and handed to redisAsyncFormattedCommand, which copies it into
 * hiredis' output buffer. st_cmd wrappers come from a free list; the only
 * allocation per command in steady state is hiredis' own callback node.
 * An eval keeps the formatted EVALSHA in its wrapper (a buffer reused from
 * call to call) so that a NOSCRIPT answer can be retried once as EVAL with
 * the source, transparently: the caller's callback sees the final reply.
 * The retry gets a fresh deadline (it is a new round trip at the tail of
 * the pipeline), so an eval may take up to twice command_timeout_ms.
 *
 * hiredis 0.14 rules this file relies on (read in async.c and
 * adapters/libuv.h, and exercised by tests/unit/test_store.c):
 * - redisAsyncFree() runs every pending callback with reply NULL, then
 *   calls the adapter's cleanup (our ev_cleanup uv_close()s its handles,
 *   freed in their close callbacks, so the loop must run once more), then
 *   the disconnect callback only if the connection had been established. Called inside a reply callback it
 *   only sets a flag; the real free happens when the callback returns,
 *   before hiredis returns to the loop.
 * - The connect and disconnect callbacks are NOT "in a callback" for that
 *   flag: redisAsyncFree() there frees at once and hiredis then touches the
 *   freed context. So we never free from either; the connect callback only
 *   queues commands.
 * - A connection hiredis drops itself (EOF, reset, protocol error) runs the
 *   pending callbacks with NULL, then the disconnect callback with errstr
 *   set, then frees the context.
 * - hiredis' libuv adapter (and ours, which keeps that behaviour) ignores a
 *   poll error (status < 0): a refused connect is never reported and the
 *   poll handle just stops. So while connecting, the
 *   socket's SO_ERROR is checked every ST_PROBE_MS (a refused connect fails
 *   within 100 ms, not at the deadline) until the attempt's deadline.
 * - hiredis' own redisLibuvAttach installs its hooks before it can fail
 *   (then a later redisAsyncFree calls cleanup with NULL); ev_attach below
 *   installs nothing unless it succeeds.
 * - Writes use write(2): a closed peer raises SIGPIPE, so the process must
 *   ignore SIGPIPE (core/daemon.c does).
 */
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/url.h"

#define ST_LOG(lvl, st, event, fmt, ...)                                                   \
    sc_log(lvl, "event=" event " host=%s port=%d" fmt, (st)->u.host, (st)->u.port, __VA_ARGS__)
#define ST_DEBUG(st, event, fmt, ...)                                                      \
    do {                                                                                   \
        if (sc_log_enabled(SC_LOG_DEBUG))                                                  \
            ST_LOG(SC_LOG_DEBUG, st, event, fmt, __VA_ARGS__);                             \
    } while (0)

/* Defaults for options left at 0. */
#define ST_DEF_CONNECT_TIMEOUT_MS 2000u
#define ST_DEF_COMMAND_TIMEOUT_MS 2000u
#define ST_DEF_RECONNECT_MIN_MS 200u
#define ST_DEF_RECONNECT_MAX_MS 5000u
#define ST_DEF_MAX_PENDING 10000u

/* While a TCP connect is in progress its socket error is checked this
 * often: the libuv adapter never reports a refused connect (see below). */
#define ST_PROBE_MS 100u

/* Buffers bigger than this are not kept for reuse. */
#define ST_KEEP_BUF_MAX ((size_t)64 * 1024)

#define SC_STORE_STATE_MAP(X)                                                              \
    X(IDLE, "idle")                                                                        \
    X(BACKOFF, "backoff")                                                                  \
    X(RESOLVING, "resolving")                                                              \
    X(CONNECTING, "connecting")                                                            \
    X(HANDSHAKE, "handshake")                                                              \
    X(READY, "ready")                                                                      \
    X(STOPPING, "stopping")                                                                \
    X(STOPPED, "stopped")

enum st_state {
#define ST__ENUM(name, text) ST_##name,
    SC_STORE_STATE_MAP(ST__ENUM)
#undef ST__ENUM
};

static const char *const g_state_names[] = {
#define ST__NAME(name, text) text,
    SC_STORE_STATE_MAP(ST__NAME)
#undef ST__NAME
};

struct st_cmd {
    struct sc_store *st;
    TAILQ_ENTRY(st_cmd) link;    /* on the FIFO, the failed list or the free list */
    uint64_t deadline;           /* loop time in ms */
    sc_store_cb cb;
    void *ctx;
    int err;                     /* failure to deliver (0: SC_ECLOSED) */
    int script;                  /* script id of an EVALSHA, else -1 */
    int retried;                 /* NOSCRIPT retry done (or not allowed) */
    size_t nargv;                /* eval: argument count of the request */
    size_t tail_off;             /* eval: where numkeys starts in buf */
    char *buf;                   /* eval: the request as sent */
    size_t len, cap;
};

struct st_script {
    struct sc_store *st;
    char *name;
    char *lua;
    size_t lualen;
    char sha[41];                /* "" until loaded, or if Redis refused it */
};

struct sc_store {
    uv_loop_t *loop;
    struct sc_store_opts o;

    struct sc_redis_url u;       /* pass is wiped before it is freed */
    int host_numeric;
    char addr[64];               /* numeric address of this attempt */

    enum st_state state;
    int ready;
    int held;                    /* sc_store_hold: no evals, not "ready" */
    struct sc_store_server srv;  /* learnt by the last handshake */
    struct {                     /* this handshake's answers, judged at PING */
        int info_aof;            /* INFO aof_enabled: 1, 0, -1 not said */
        int cfg_aof;             /* CONFIG appendonly: 1, 0, -1 not said */
        char fsync[16];          /* CONFIG appendfsync, "" not said */
        char save[64];           /* CONFIG save */
        int have_save;
        int config_refused;
        char run_id[41];
        long long keys;
    } hs;
    redisAsyncContext *ac;       /* NULL when not connected */
    uv_getaddrinfo_t *resolve;   /* the current request, if any */
    unsigned nresolving;         /* requests not called back yet (incl. abandoned) */
    unsigned hs_left;            /* handshake replies still awaited */
    unsigned failures;           /* attempts failed in a row */
    uint32_t backoff_ms;         /* next base delay */
    uint64_t attempt_deadline;   /* loop time in ms */
    uint64_t rng;

    uv_timer_t conn_timer;       /* attempt deadline, or backoff */
    uv_timer_t cmd_timer;        /* oldest command's deadline */
    uv_timer_t defer_timer;      /* deliver failures from the loop */
    int cmd_timer_armed, defer_armed;

    struct st_script *scripts;
    int nscripts, scripts_cap;

    TAILQ_HEAD(st_cmdq, st_cmd) fifo;  /* sent, not answered; oldest first */
    unsigned npending;
    struct st_cmdq failed;       /* to be called back from the loop */
    unsigned nfailed;            /* on the failed list */
    struct st_cmdq free_cmds;    /* for reuse */

    char *scratch;               /* requests hiredis copies at once */
    size_t scratch_cap;

    void (*on_state)(void *arg, int ready);
    void *state_arg;
    void (*done)(void *arg);
    void *done_arg;
    int report_down;             /* stop: on_state(0) still owed */
    int closing;
    int open_handles;
};

static void connect_now(struct sc_store *st);
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* ---- small helpers ---------------------------------------------------- */

static const char *quote(char *buf, size_t bufsz, const char *s)
{
    return sc_log_quote(buf, bufsz, s ? s : "", s ? strlen(s) : 0);
}

static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *b = realloc(*buf, c);
    if (!b)
        return SC_ENOMEM;
    *buf = b;
    *cap = c;
    return 0;
}

/* ---- RESP request formatting ------------------------------------------ */

/* Requests are NUL-terminated although their length is passed: hiredis'
 * __redisAsyncCommand looks at the byte after the first argument (to spot
 * SUBSCRIBE with channels), which for a one-argument command is one past
 * the end. */

static size_t dec_len(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static char *put_dec(char *p, size_t v)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

static size_t count_size(size_t n) { return 1 + dec_len(n) + 2; }
static size_t bulk_size(size_t len) { return 1 + dec_len(len) + 2 + len + 2; }

static char *put_count(char *p, size_t n)
{
    *p++ = '*';
    p = put_dec(p, n);
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static char *put_bulk(char *p, const char *s, size_t len)
{
    *p++ = '$';
    p = put_dec(p, len);
    *p++ = '\r';
    *p++ = '\n';
    if (len)
        memcpy(p, s, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static size_t arg_len(const char *const *v, const size_t *lens, int i)
{
    return lens ? lens[i] : strlen(v[i]);
}

/* Size of n bulk strings; SIZE_MAX if a length is absurd (or an argument
 * is NULL). */
static size_t bulks_size(int n, const char *const *v, const size_t *lens)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!v[i])
            return SIZE_MAX;
        size_t l = arg_len(v, lens, i);
        if (l > SIZE_MAX / 4 || total > SIZE_MAX / 4)
            return SIZE_MAX;
        total += bulk_size(l);
    }
    return total;
}

static char *put_bulks(char *p, int n, const char *const *v, const size_t *lens)
{
    for (int i = 0; i < n; i++)
        p = put_bulk(p, v[i], arg_len(v, lens, i));
    return p;
}

/* Format argv into the scratch buffer; returns the length or SC_E*. */
static long format_scratch(struct sc_store *st, int argc, const char *const *argv,
                           const size_t *argvlen)
{
    size_t n = bulks_size(argc, argv, argvlen);
    if (n == SIZE_MAX)
        return SC_EINVAL;
    n += count_size((size_t)argc);
    if (n >= (size_t)LONG_MAX || reserve(&st->scratch, &st->scratch_cap, n + 1) < 0)
        return SC_ENOMEM;
    char *p = put_count(st->scratch, (size_t)argc);
    p = put_bulks(p, argc, argv, argvlen);
    *p = '\0'; /* hiredis peeks one byte past the first argument */
    return (long)(p - st->scratch);
}

static void scratch_trim(struct sc_store *st)
{
    if (st->scratch_cap > 16 * ST_KEEP_BUF_MAX) {
        free(st->scratch);
        st->scratch = NULL;
        st->scratch_cap = 0;
    }
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

static void fifo_push(struct sc_store *st, struct st_cmd *c)
{
    TAILQ_INSERT_TAIL(&st->fifo, c, link);
    st->npending++;
}

static void fifo_unlink(struct sc_store *st, struct st_cmd *c)
{
    TAILQ_REMOVE(&st->fifo, c, link);
    st->npending--;
}

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
static int submit(struct sc_store *st, struct st_cmd *c, const char *req, size_t len)
{
    if (redisAsyncFormattedCommand(st->ac, on_reply, c, req, len) != REDIS_OK)
        return SC_EAGAIN;
    c->deadline = uv_now(st->loop) + st->o.command_timeout_ms;
    fifo_push(st, c);
    if (!st->cmd_timer_armed)
        arm_cmd_timer(st);
    return 0;
}

/* ---- connection life cycle ------------------------------------------- */

/* Forget the context and free it: pending callbacks run now with reply NULL
 * (or, inside a reply callback, as soon as it returns) and only queue their
 * failure. */
static void drop(struct sc_store *st)
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
static uint32_t retry_later(struct sc_store *st)
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
    uint32_t d = retry_later(st);
    if (was_ready)
        ST_LOG(SC_LOG_WARN, st, "redis_disconnected", " reason=%s failed=%u retry_ms=%u",
               quote(q, sizeof q, event_reason), st->nfailed, d);
    else
        ST_LOG(SC_LOG_WARN, st, "redis_connect_failed", " reason=%s attempt=%u retry_ms=%u",
               quote(q, sizeof q, event_reason), failures, d);
    if (was_ready && st->on_state)
        st->on_state(st->state_arg, 0);
}

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
    if (st->on_state)
        st->on_state(st->state_arg, 1);
}

/* A handshake step failed with an error reply (we are inside hiredis'
 * callback: the free is deferred until it returns). */
static void handshake_failed(struct sc_store *st, const char *event, const redisReply *r)
{
    char q[256];
    drop(st);
    unsigned failures = st->failures + 1;
    uint32_t d = retry_later(st);
    /* Redis error texts never echo the password we sent. */
    sc_log(SC_LOG_ERROR, "event=%s host=%s port=%d error=%s attempt=%u retry_ms=%u", event,
           st->u.host, st->u.port, sc_log_quote(q, sizeof q, r->str, r->len), failures, d);
}

static int is_error(const redisReply *r) { return r->type == REDIS_REPLY_ERROR; }

static void hs_step(struct sc_store *st)
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
    if (is_error(r)) {
        handshake_failed(st, event, r);
        return 0;
    }
    return 1;
}

static void on_auth_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    if (hs_reply_ok(privdata, ac, reply, "redis_auth_failed"))
        hs_step(privdata);
}

static void on_select_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    if (hs_reply_ok(privdata, ac, reply, "redis_select_failed"))
        hs_step(privdata);
}

/* The value of "name:" in an INFO text, copied into out ("" if absent). */
static void info_field(const redisReply *r, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = r->str, *end = r->str + r->len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        size_t len = (size_t)(eol - p);
        if (len && p[len - 1] == '\r')
            len--;
        if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == ':') {
            size_t n = SC_MIN(len - nl - 1, outsz - 1);
            memcpy(out, p + nl + 1, n);
            out[n] = '\0';
            return;
        }
        p = eol + 1;
    }
}

/* INFO: run_id, aof_enabled and "dbN:keys=K,..." (absent: the db is empty).
 * A refusal (INFO renamed away) only leaves them unknown. */
static void on_info_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sc_store *st = privdata;
    redisReply *r = reply;
    char v[64], db[16];
    if (ac != st->ac || !r)
        return;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        info_field(r, "run_id", st->hs.run_id, sizeof st->hs.run_id);
        info_field(r, "aof_enabled", v, sizeof v);
        st->hs.info_aof = v[0] ? v[0] == '1' : -1;
        snprintf(db, sizeof db, "db%u", st->u.db);
        info_field(r, db, v, sizeof v);
        /* The default INFO has a keyspace section, where an empty db has no
         * line; a text without run_id is not a real INFO: keys unknown. */
        if (v[0] && strncmp(v, "keys=", 5) == 0)
            st->hs.keys = strtoll(v + 5, NULL, 10);
        else if (st->hs.run_id[0])
            st->hs.keys = 0;
    } else if (is_error(r)) {
        ST_LOG(SC_LOG_WARN, st, "redis_info_refused", " error=%s",
               sc_log_quote(v, sizeof v, r->str, r->len));
    }
    hs_step(st);
}

/* CONFIG GET append* or save: name/value pairs. A managed Redis may refuse
 * CONFIG: noted, and the judgement rests on INFO. */
static void on_config_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sc_store *st = privdata;
    redisReply *r = reply;
    if (ac != st->ac || !r)
        return;
    if (is_error(r)) {
        st->hs.config_refused = 1;
    } else if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const redisReply *k = r->element[i], *v = r->element[i + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(k->str, "appendonly") == 0)
                st->hs.cfg_aof = strcmp(v->str, "yes") == 0;
            else if (strcmp(k->str, "appendfsync") == 0)
                sc_strlcpy(st->hs.fsync, v->str, sizeof st->hs.fsync);
            else if (strcmp(k->str, "save") == 0) {
                sc_strlcpy(st->hs.save, v->str, sizeof st->hs.save);
                st->hs.have_save = 1;
            }
        }
    }
    hs_step(st);
}

/* Decide from this handshake's answers whether the server keeps what it
 * acknowledges; fill st->srv. */
static void judge_durability(struct sc_store *st)
{
    struct sc_store_server *s = &st->srv;
    int aof = st->hs.info_aof >= 0 ? st->hs.info_aof : st->hs.cfg_aof;
    const char *fsync = st->hs.fsync;
    sc_strlcpy(s->run_id, st->hs.run_id, sizeof s->run_id);
    s->keys = st->hs.keys;
    s->config_refused = st->hs.config_refused;
    if (aof < 0)
        s->durable = -1;
    else if (!aof)
        s->durable = 0;
    else
        s->durable = fsync[0] ? strcmp(fsync, "always") == 0 || strcmp(fsync, "everysec") == 0
                              : 1; /* AOF on, policy unknown (CONFIG refused) */
    snprintf(s->found, sizeof s->found, "appendonly=%s appendfsync=%s save=\"%s\"%s",
             aof < 0 ? "unknown" : aof ? "yes" : "no", fsync[0] ? fsync : "unknown",
             st->hs.have_save ? st->hs.save : "unknown",
             s->config_refused ? " config=refused" : "");
}

/* 0 to go on with this server, -1 when it is refused (logged, dropped). */
static int check_durability(struct sc_store *st)
{
    const struct sc_store_server *s = &st->srv;
    static const char fix[] =
        "set appendonly yes and appendfsync everysec or always (redis.conf, or CONFIG SET "
        "appendonly yes; CONFIG REWRITE), or set redis.durability: warn to accept the loss";
    char found[256];
    judge_durability(st);
    sc_log_quote(found, sizeof found, s->found, strlen(s->found));
    if (s->config_refused && st->o.durability != SC_DURABILITY_UNCHECKED)
        ST_LOG(SC_LOG_WARN, st, "redis_config_refused",
               " msg=\"CONFIG GET refused (a managed Redis?): durability judged from INFO "
               "alone\" found=%s", found);
    if (s->durable == 1)
        return 0;
    const char *why = s->durable < 0 ? "cannot tell whether Redis persists writes (INFO and "
                                        "CONFIG refused)"
                                      : "Redis would lose acknowledged cancellations on a "
                                        "restart (no AOF, or appendfsync no)";
    if (st->o.durability == SC_DURABILITY_REFUSE) {
        unsigned failures = st->failures + 1;
        drop(st); /* inside the PING callback: freed when it returns */
        uint32_t d = retry_later(st);
        ST_LOG(SC_LOG_ERROR, st, "redis_not_durable",
               " found=%s msg=\"%s\" fix=\"%s\" action=\"not used (redis.durability: "
               "refuse): no bind, MOs get the temporary error\" attempt=%u retry_ms=%u",
               found, why, fix, failures, d);
        return -1;
    }
    if (st->o.durability == SC_DURABILITY_WARN)
        ST_LOG(SC_LOG_WARN, st, "redis_not_durable",
               " found=%s msg=\"%s\" fix=\"%s\" action=\"used anyway "
               "(redis.durability: warn)\"", found, why, fix);
    else
        ST_DEBUG(st, "redis_not_durable", " found=%s", found);
    return 0;
}

static void on_ping_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sc_store *st = privdata;
    /* An error: NOAUTH (a password is needed and none was given), LOADING, ... */
    if (!hs_reply_ok(st, ac, reply, "redis_handshake_failed"))
        return;
    if (st->hs_left == 1 && check_durability(st) < 0)
        return;
    hs_step(st);
}

/* SCRIPT LOAD answers the sha1. An "ERR ..." answer (the script does not
 * compile) is the script's own fault: it is logged, and calls to it are sent
 * as EVAL, so that callers get Redis' error as their reply while every other
 * script works. Any other error (NOAUTH, LOADING, BUSY, NOPERM ...) concerns
 * the connection: retry it later. */
static void on_script_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct st_script *s = privdata;
    struct sc_store *st = s->st;
    redisReply *r = reply;
    char q[256];
    if (ac != st->ac || !r)
        return;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(s->sha, r->str, 40);
        s->sha[40] = '\0';
    } else if (is_error(r) && r->len >= 3 && memcmp(r->str, "ERR", 3) == 0) {
        s->sha[0] = '\0';
        ST_LOG(SC_LOG_ERROR, st, "redis_script_failed", " script=%s error=%s", s->name,
               sc_log_quote(q, sizeof q, r->str, r->len));
    } else if (is_error(r)) {
        handshake_failed(st, "redis_handshake_failed", r);
        return;
    } else {
        s->sha[0] = '\0';
        ST_LOG(SC_LOG_ERROR, st, "redis_script_failed", " script=%s error=%s", s->name,
               "\"unexpected reply to SCRIPT LOAD\"");
    }
    hs_step(st);
}

static int hs_send(struct sc_store *st, redisCallbackFn *fn, void *privdata, int argc,
                   const char *const *argv, const size_t *argvlen, int secret)
{
    long n = format_scratch(st, argc, argv, argvlen);
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
 * one write. Must not free the context (see the top of this file). */
static void send_handshake(struct sc_store *st)
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
        size_t lens[2] = {6, (size_t)(put_dec(dbs, st->u.db) - dbs)};
        rc = hs_send(st, on_select_reply, st, 2, argv, lens, 0);
    }
    for (int i = 0; rc == 0 && i < st->nscripts; i++) {
        struct st_script *s = &st->scripts[i];
        const char *argv[3] = {"SCRIPT", "LOAD", s->lua};
        size_t lens[3] = {6, 4, s->lualen};
        rc = hs_send(st, on_script_reply, s, 3, argv, lens, 0);
    }
    if (rc == 0) {
        const char *argv[1] = {"INFO"};
        rc = hs_send(st, on_info_reply, st, 1, argv, NULL, 0);
    }
    if (rc == 0) {
        const char *argv[3] = {"CONFIG", "GET", "append*"};
        rc = hs_send(st, on_config_reply, st, 3, argv, NULL, 0);
    }
    if (rc == 0) {
        const char *argv[3] = {"CONFIG", "GET", "save"};
        rc = hs_send(st, on_config_reply, st, 3, argv, NULL, 0);
    }
    if (rc == 0) {
        const char *argv[1] = {"PING"};
        rc = hs_send(st, on_ping_reply, st, 1, argv, NULL, 0);
    }
    if (rc < 0) /* out of memory: the attempt's deadline will drop it */
        ST_LOG(SC_LOG_ERROR, st, "redis_handshake_failed", " error=\"%s\"", sc_strerror(rc));
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
    send_handshake(st);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    struct sc_store *st = cac->data;
    if (cac != st->ac)
        return; /* our own redisAsyncFree */
    lost(st, cac->errstr[0] ? cac->errstr : "connection closed", st->state == ST_READY);
}

/* ---- event adapter ---------------------------------------------------------
 * Our own instead of hiredis' adapters/libuv.h, which calls uv_poll_start on
 * every addWrite/delWrite, i.e. twice per command; on Linux uv_poll_start
 * first unregisters the fd with an immediate epoll_ctl(DEL) (failing with
 * ENOENT half the time) and the next poll registers it again: ~5 epoll_ctl
 * per command at 1000 commands/s (strace). Here the fd stays registered for
 * reading for the connection's life; writes are flushed once per loop
 * iteration from a uv_prepare (one write for every command queued in that
 * iteration), and writable interest is registered only while connecting or
 * when the socket is full. */
struct st_ev {
    redisAsyncContext *ac;       /* NULL once hiredis called cleanup */
    uv_poll_t poll;
    uv_prepare_t flush;
    int events;                  /* registered with the poll */
    int want_write;              /* hiredis has output queued */
    int open;                    /* handles not closed yet */
};

static void ev_on_poll(uv_poll_t *h, int status, int events)
{
    struct st_ev *e = h->data;
    if (status != 0)
        return; /* as hiredis' adapter: our connect/command timers decide */
    if (e->ac && (events & UV_READABLE))
        redisAsyncHandleRead(e->ac);
    if (e->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(e->ac);
}

static void ev_set(struct st_ev *e, int events)
{
    if (events == e->events)
        return;
    e->events = events;
    if (events)
        uv_poll_start(&e->poll, events, ev_on_poll);
    else
        uv_poll_stop(&e->poll);
}

static void ev_on_flush(uv_prepare_t *p)
{
    struct st_ev *e = p->data;
    uv_prepare_stop(p);
    if (!e->ac || !e->want_write)
        return;
    redisAsyncHandleWrite(e->ac);
    /* Not all written: the socket is full, wait until it is writable. */
    if (e->ac && e->want_write)
        ev_set(e, e->events | UV_WRITABLE);
}

static void ev_add_read(void *d)
{
    struct st_ev *e = d;
    ev_set(e, e->events | UV_READABLE);
}

static void ev_del_read(void *d)
{
    struct st_ev *e = d;
    ev_set(e, e->events & ~UV_READABLE);
}

static void ev_add_write(void *d)
{
    struct st_ev *e = d;
    e->want_write = 1;
    if (!(e->ac->c.flags & REDIS_CONNECTED))
        ev_set(e, e->events | UV_WRITABLE); /* connect completion */
    else if (!(e->events & UV_WRITABLE))
        uv_prepare_start(&e->flush, ev_on_flush);
}

static void ev_del_write(void *d)
{
    struct st_ev *e = d;
    e->want_write = 0;
    ev_set(e, e->events & ~UV_WRITABLE);
}

static void ev_on_closed(uv_handle_t *h)
{
    struct st_ev *e = h->data;
    if (--e->open == 0)
        free(e);
}

static void ev_cleanup(void *d)
{
    struct st_ev *e = d;
    e->ac = NULL;
    uv_close((uv_handle_t *)&e->poll, ev_on_closed);
    uv_close((uv_handle_t *)&e->flush, ev_on_closed);
}

/* Attach ac to the loop. Returns 0, or -1 with nothing installed. */
static int ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct st_ev *e = calloc(1, sizeof *e);
    if (!e || uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
        free(e);
        return -1;
    }
    uv_prepare_init(loop, &e->flush);
    e->poll.data = e->flush.data = e;
    e->open = 2;
    e->ac = ac;
    ac->ev.data = e;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
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
    if (ev_attach(ac, st->loop) < 0) {
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
    uv_timer_stop(&st->conn_timer);
    uint32_t d = retry_later(st);
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
        uint32_t d = retry_later(st);
        ST_LOG(SC_LOG_WARN, st, "redis_connect_failed",
               " stage=resolve reason=\"%s\" attempt=%u retry_ms=%u",
               status < 0 ? uv_strerror(status) : "no address", failures, d);
        return;
    }
    do_connect(st);
}

/* Start one attempt: its deadline covers every step up to ready. */
static void connect_now(struct sc_store *st)
{
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
        uint32_t d = retry_later(st);
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
    drop(st);
    unsigned failures = st->failures + 1;
    uint32_t d = retry_later(st);
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
    drop(st); /* every pending callback now queues SC_ETIMEOUT */
    uint32_t d = retry_later(st);
    ST_LOG(SC_LOG_WARN, st, "redis_timeout", " pending=%u waited_ms=%llu timeout_ms=%u retry_ms=%u",
           pending, (unsigned long long)waited, st->o.command_timeout_ms, d);
    if (st->on_state)
        st->on_state(st->state_arg, 0);
}

/* ---- replies --------------------------------------------------------- */

/* A NOSCRIPT answer to an EVALSHA: send the same call as EVAL with the
 * source (which also puts the script back in Redis' cache). */
static int retry_as_eval(struct sc_store *st, struct st_cmd *c)
{
    const struct st_script *s = &st->scripts[c->script];
    size_t tail = c->len - c->tail_off;
    size_t n = count_size(c->nargv) + bulk_size(4) + bulk_size(s->lualen) + tail;
    if (reserve(&st->scratch, &st->scratch_cap, n + 1) < 0)
        return SC_ENOMEM;
    char *p = put_count(st->scratch, c->nargv);
    p = put_bulk(p, "EVAL", 4);
    p = put_bulk(p, s->lua, s->lualen);
    memcpy(p, c->buf + c->tail_off, tail);
    p += tail;
    *p = '\0';
    fifo_unlink(st, c);
    int rc = submit(st, c, st->scratch, (size_t)(p - st->scratch));
    if (rc < 0)
        fifo_push(st, c); /* keep it counted: the caller unlinks it */
    scratch_trim(st);
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
        fifo_unlink(st, c);
        if (!c->err)
            c->err = SC_ECLOSED;
        failed_push(st, c);
        return;
    }
    if (c->script >= 0 && !c->retried && is_error(r) && r->len >= 8 &&
        memcmp(r->str, "NOSCRIPT", 8) == 0 && ac == st->ac) {
        c->retried = 1;
        if (retry_as_eval(st, c) == 0) {
            ST_DEBUG(st, "redis_noscript", " script=%s", st->scripts[c->script].name);
            return;
        }
    }
    sc_store_cb cb = c->cb;
    void *ctx = c->ctx;
    fifo_unlink(st, c);
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
    return st;
}

int sc_store_script(struct sc_store *st, const char *name, const char *lua)
{
    if (!name || !lua || !*lua)
        return SC_EINVAL;
    if (st->state != ST_IDLE)
        return SC_ESTATE;
    if (st->nscripts == st->scripts_cap) {
        int cap = st->scripts_cap ? st->scripts_cap * 2 : 8;
        struct st_script *s = realloc(st->scripts, (size_t)cap * sizeof *s);
        if (!s)
            return SC_ENOMEM;
        st->scripts = s;
        st->scripts_cap = cap;
    }
    struct st_script *s = &st->scripts[st->nscripts];
    memset(s, 0, sizeof *s);
    s->st = st;
    s->name = strdup(name);
    s->lualen = strlen(lua);
    s->lua = malloc(s->lualen + 1);
    if (!s->name || !s->lua) {
        free(s->name);
        free(s->lua);
        return SC_ENOMEM;
    }
    memcpy(s->lua, lua, s->lualen + 1);
    return st->nscripts++;
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

int sc_store_ready(const struct sc_store *st) { return st->ready && !st->held; }

int sc_store_connected(const struct sc_store *st) { return st->ready; }

void sc_store_hold(struct sc_store *st, int on) { st->held = on != 0; }

const struct sc_store_server *sc_store_server(const struct sc_store *st) { return &st->srv; }

unsigned sc_store_pending(const struct sc_store *st) { return st->npending; }

void sc_store_set_max_pending(struct sc_store *st, unsigned max_pending)
{
    st->o.max_pending = max_pending ? max_pending : ST_DEF_MAX_PENDING;
}

int sc_store_eval(struct sc_store *st, int script, int nkeys, const char *const *keys,
                  const size_t *keylens, int nargs, const char *const *args,
                  const size_t *arglens, sc_store_cb cb, void *ctx)
{
    if (script < 0 || script >= st->nscripts || nkeys < 0 || nargs < 0 || (nkeys && !keys) ||
        (nargs && !args) || !cb)
        return SC_EINVAL;
    if (!st->ready || st->held)
        return SC_EAGAIN;
    if (st->npending >= st->o.max_pending)
        return SC_EBUSY;
    const struct st_script *s = &st->scripts[script];
    size_t ks = bulks_size(nkeys, keys, keylens);
    size_t as = bulks_size(nargs, args, arglens);
    if (ks == SIZE_MAX || as == SIZE_MAX)
        return SC_EINVAL;
    size_t nargv = 3 + (size_t)nkeys + (size_t)nargs;
    size_t head = count_size(nargv) +
                  (s->sha[0] ? bulk_size(7) + bulk_size(40) : bulk_size(4) + bulk_size(s->lualen));
    size_t n = head + bulk_size(dec_len((size_t)nkeys)) + ks + as;
    struct st_cmd *c = cmd_get(st);
    if (!c)
        return SC_ENOMEM;
    if (reserve(&c->buf, &c->cap, n + 1) < 0) {
        cmd_put(st, c);
        return SC_ENOMEM;
    }
    char nk[24];
    size_t nklen = (size_t)(put_dec(nk, (size_t)nkeys) - nk);
    char *p = put_count(c->buf, nargv);
    if (s->sha[0]) {
        p = put_bulk(p, "EVALSHA", 7);
        p = put_bulk(p, s->sha, 40);
    } else {
        /* SCRIPT LOAD refused it: EVAL gets the caller Redis' error. */
        p = put_bulk(p, "EVAL", 4);
        p = put_bulk(p, s->lua, s->lualen);
        c->retried = 1;
    }
    c->tail_off = (size_t)(p - c->buf);
    p = put_bulk(p, nk, nklen);
    p = put_bulks(p, nkeys, keys, keylens);
    p = put_bulks(p, nargs, args, arglens);
    *p = '\0';
    c->len = (size_t)(p - c->buf);
    c->nargv = nargv;
    c->script = script;
    c->cb = cb;
    c->ctx = ctx;
    int rc = submit(st, c, c->buf, c->len);
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

int sc_store_command(struct sc_store *st, int argc, const char *const *argv,
                     const size_t *argvlen, sc_store_cb cb, void *ctx)
{
    if (argc < 1 || !argv || !argv[0] || !cb)
        return SC_EINVAL;
    if (refused_command(argv[0], arg_len(argv, argvlen, 0)))
        return SC_EINVAL;
    if (!st->ready)
        return SC_EAGAIN;
    if (st->npending >= st->o.max_pending)
        return SC_EBUSY;
    long n = format_scratch(st, argc, argv, argvlen);
    if (n < 0)
        return (int)n;
    struct st_cmd *c = cmd_get(st);
    if (!c)
        return SC_ENOMEM;
    c->cb = cb;
    c->ctx = ctx;
    int rc = submit(st, c, st->scratch, (size_t)n);
    if (rc < 0)
        cmd_put(st, c);
    scratch_trim(st);
    return rc;
}

void sc_store_stop(struct sc_store *st, void (*done)(void *arg), void *arg)
{
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
    drop(st); /* pending callbacks queue SC_ECLOSED */
    schedule_defer(st);
}

void sc_store_free(struct sc_store *st)
{
    if (!st)
        return;
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
