/* store_int.h -- what the files of store/ share: the store's structs, its log
 * macros, inline RESP primitives and FIFO helpers, and the sc__ functions one
 * file defines for another. Internal: included only by the .c files of store/.
 *
 * hiredis 0.14 rules store/ relies on (read in async.c and
 * adapters/libuv.h, and exercised by tests/unit/test_store.c):
 * - redisAsyncFree() runs every pending callback with reply NULL, then
 *   calls the adapter's cleanup (our ev_cleanup uv_close()s its handles,
 *   freed in their close callbacks, so the loop must run once more), then
 *   the disconnect callback only if the connection had been established.
 *   Called inside a reply callback it only sets a flag; the real free
 *   happens when the callback returns, before hiredis returns to the loop.
 * - The connect and disconnect callbacks are NOT "in a callback" for that
 *   flag: redisAsyncFree() there frees at once and hiredis then touches the
 *   freed context. So we never free from either; the connect callback only
 *   queues commands.
 * - A connection hiredis drops itself (EOF, reset, protocol error) runs the
 *   pending callbacks with NULL, then the disconnect callback with errstr
 *   set, then frees the context.
 * - libuv reports epoll's POLLERR to a uv_poll only as status UV_EBADF and
 *   stops the handle; hiredis' libuv adapter ignores that status. While
 *   connecting ours does too: a refused connect is never reported, so the
 *   socket's SO_ERROR is checked every ST_PROBE_MS (a refused connect fails
 *   within 100 ms, not at the deadline) until the attempt's deadline. Once
 *   connected (an RST after Redis died) ours lets hiredis read, which fails
 *   and tears the connection down at once (adapter.c).
 * - hiredis' own redisLibuvAttach installs its hooks before it can fail
 *   (then a later redisAsyncFree calls cleanup with NULL); sc__ev_attach
 *   (adapter.c) installs nothing unless it succeeds.
 * - Writes use write(2): a closed peer raises SIGPIPE, so the process must
 *   ignore SIGPIPE (core/daemon.c does).
 */
#ifndef SC_STORE_INT_H
#define SC_STORE_INT_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/url.h"

#define ST_LOG(lvl, st, event, fmt, ...)                                                   \
    sc_log(lvl, "event=" event "%s%s host=%s port=%d" fmt, (st)->o.name ? " conn=" : "",      \
           (st)->o.name ? (st)->o.name : "", (st)->u.host, (st)->u.port, __VA_ARGS__)
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
#define ST_DEF_WAIT_TIMEOUT_MS 500u

/* While a TCP connect is in progress its socket error is checked this
 * often: the libuv adapter never reports a refused connect (see the top of this file). */
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

struct st_cmd {
    struct sc_store *st;
    TAILQ_ENTRY(st_cmd) link;    /* on the FIFO, the failed list or the free list */
    uint64_t deadline;           /* loop time in ms */
    uint64_t sent_ns;            /* uv_hrtime when written (o.latency set) */
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
    int wait_short;              /* wait.c: replicas missing, evals go one at a time */
    int wait_probe;              /* wait.c: that one eval is in flight */
    char wait_req[64];           /* wait.c: "WAIT N T" formatted once ("" not yet) */
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
        int cluster;             /* INFO cluster_enabled:1 */
        int replicas;            /* connected_slaves, -1 not said */
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
    char last_error[128];        /* why the last connection failed or was lost */
    int closing;
    int open_handles;
    /* Redis Cluster (cluster.c): */
    struct sc_store *parent;     /* a node's engine: the seed it serves */
    struct sc_cluster *cl;       /* the seed, once a cluster was detected */
    unsigned next_seed;          /* the URL's seed the next attempt uses */
};

/* ---- small shared helpers (inline: on the per-command path) ----------- */

static inline int sc__reserve(char **buf, size_t *cap, size_t need)
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

static inline int sc__is_error(const redisReply *r) { return r->type == REDIS_REPLY_ERROR; }

static inline void sc__fifo_push(struct sc_store *st, struct st_cmd *c)
{
    TAILQ_INSERT_TAIL(&st->fifo, c, link);
    st->npending++;
}

static inline void sc__fifo_unlink(struct sc_store *st, struct st_cmd *c)
{
    TAILQ_REMOVE(&st->fifo, c, link);
    st->npending--;
}

/* ---- RESP request formatting ------------------------------------------ */

/* Requests are NUL-terminated although their length is passed: hiredis'
 * __redisAsyncCommand looks at the byte after the first argument (to spot
 * SUBSCRIBE with channels), which for a one-argument command is one past
 * the end. */

static inline size_t sc__dec_len(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static inline char *sc__put_dec(char *p, size_t v)
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

static inline size_t sc__count_size(size_t n) { return 1 + sc__dec_len(n) + 2; }
static inline size_t sc__bulk_size(size_t len) { return 1 + sc__dec_len(len) + 2 + len + 2; }

static inline char *sc__put_count(char *p, size_t n)
{
    *p++ = '*';
    p = sc__put_dec(p, n);
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static inline char *sc__put_bulk(char *p, const char *s, size_t len)
{
    *p++ = '$';
    p = sc__put_dec(p, len);
    *p++ = '\r';
    *p++ = '\n';
    if (len)
        memcpy(p, s, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static inline size_t sc__arg_len(const char *const *v, const size_t *lens, int i)
{
    return lens ? lens[i] : strlen(v[i]);
}

/* Size of n bulk strings; SIZE_MAX if a length is absurd (or an argument
 * is NULL). */
static inline size_t sc__bulks_size(int n, const char *const *v, const size_t *lens)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!v[i])
            return SIZE_MAX;
        size_t l = sc__arg_len(v, lens, i);
        if (l > SIZE_MAX / 4 || total > SIZE_MAX / 4)
            return SIZE_MAX;
        total += sc__bulk_size(l);
    }
    return total;
}

static inline char *sc__put_bulks(char *p, int n, const char *const *v, const size_t *lens)
{
    for (int i = 0; i < n; i++)
        p = sc__put_bulk(p, v[i], sc__arg_len(v, lens, i));
    return p;
}

/* ---- defined in resp.c ---- */
/* Format argv into st->scratch (NUL-terminated); returns the length or SC_E*. */
long sc__format_scratch(struct sc_store *st, int argc, const char *const *argv,
                        const size_t *argvlen);
/* Free st->scratch if it grew far beyond what is kept for reuse. */
void sc__scratch_trim(struct sc_store *st);

/* ---- defined in store.c (connection state machine, deadline FIFO) ---- */
/* Send a formatted request for c and queue c with a fresh deadline: 0 or SC_EAGAIN. */
int sc__submit(struct sc_store *st, struct st_cmd *c, const char *req, size_t len);
/* Forget the context and free it (deferred inside a reply callback). */
void sc__drop(struct sc_store *st);
/* Arm the reconnect backoff after a failure; returns the delay chosen (ms). */
uint32_t sc__retry_later(struct sc_store *st);

/* The engine's own sc_store_command (wait 0) or sc_store_write (wait 1),
 * bypassing a cluster router (the seed asks CLUSTER SLOTS on its
 * connection with it). */
int sc__raw_command(struct sc_store *st, int argc, const char *const *argv,
                    const size_t *argvlen, sc_store_cb cb, void *ctx, int wait);

/* ---- defined in handshake.c ---- */
/* TCP is up: pipeline the whole handshake in one write. Never frees the context. */
void sc__send_handshake(struct sc_store *st);
/* One handshake reply done; the last one makes the store ready. */
void sc__hs_step(struct sc_store *st);
/* A handshake step got error reply r: drop the connection, back off, log event. */
void sc__handshake_failed(struct sc_store *st, const char *event, const redisReply *r);

/* ---- defined in server.c (privdata: the store) ---- */
void sc__on_info_reply(redisAsyncContext *ac, void *reply, void *privdata);
void sc__on_config_reply(redisAsyncContext *ac, void *reply, void *privdata);
/* At the PING reply: judge durability into st->srv; 0 to go on, -1 when the server
 * is refused (logged, dropped, backoff armed). */
int sc__check_durability(struct sc_store *st);

/* ---- defined in scripts.c ---- */
/* SCRIPT LOAD reply; privdata: the struct st_script. */
void sc__on_script_reply(redisAsyncContext *ac, void *reply, void *privdata);
/* Resend c (an EVALSHA answered NOSCRIPT) as EVAL with the source: 0 or SC_E*. */
int sc__retry_as_eval(struct sc_store *st, struct st_cmd *c);

/* ---- defined in wait.c (redis.wait_replicas) ---- */
/* Submit c (an eval or a write, formatted in req) for cb/ctx, followed by
 * WAIT: 0, or SC_EAGAIN (replicas missing and a probe is in flight; c not
 * sent) or another SC_E* from sc__submit. On error the caller still owns c. */
int sc__wait_submit(struct sc_store *st, struct st_cmd *c, const char *req, size_t len,
                    sc_store_cb cb, void *ctx);
/* c was resent as EVAL (NOSCRIPT): a WAIT must follow the resent write. */
void sc__wait_retried(struct sc_store *st, struct st_cmd *c);
/* At the handshake's end: judge INFO's replica count against wait_replicas. */
void sc__wait_handshake(struct sc_store *st);
/* A command wrapper from the free list (store.c), and back. */
struct st_cmd *sc__cmd_get(struct sc_store *st);
void sc__cmd_put(struct sc_store *st, struct st_cmd *c);

/* ---- defined in adapter.c ---- */
/* Attach ac to the loop with our adapter. Returns 0, or -1 with nothing installed. */
int sc__ev_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
