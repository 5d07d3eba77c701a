/* store.h -- Redis for the daemon: hiredis async on the loop, Lua scripts
 * loaded at connect, our own timeouts, reconnect with backoff.
 *
 * hiredis 0.14 has no connect or command timeout and its libuv adapter never
 * reports a refused connection (LIBRARIES.md), so this module keeps its own:
 * a connect deadline, and one deadline per command. Redis answers in order,
 * so the oldest pending command is the one to watch: one timer, armed for
 * it. When it expires the connection is taken as frozen: it is freed (every
 * pending callback gets SC_ETIMEOUT) and a new one is made after a backoff.
 * While disconnected every call fails at once with SC_EAGAIN, so the caller
 * can answer the MO with a temporary error at once.
 *
 * Scripts are registered before sc_store_start(); each is loaded with
 * SCRIPT LOAD on every (re)connect and run with EVALSHA; a NOSCRIPT answer
 * (e.g. after SCRIPT FLUSH or a failover) loads it again and retries once.
 *
 * Durability: every (re)connect also asks INFO and CONFIG GET append* / save
 * (in the same pipelined handshake) whether the server can keep what it
 * acknowledges (AOF on, fsync always or everysec), and remembers its run_id
 * and how many keys our db holds (sc_store_server). With
 * SC_DURABILITY_REFUSE a server that cannot is not used: the handshake
 * fails with an error line saying why and how to fix it, and is tried again
 * with the reconnect backoff (so a CONFIG SET appendonly yes is picked up).
 *
 * Replicas (wait_replicas N > 0, store/wait.c): every sc_store_eval is
 * followed in the same pipeline by WAIT N wait_timeout_ms, and its callback
 * gets the script's reply only once WAIT said N replicas have the write;
 * fewer -> SC_EREPLICA (the write may be on the master alone: the caller
 * must treat the outcome as unknown, like SC_ETIMEOUT). While replicas are
 * missing (the handshake's INFO says so, or a WAIT came back short) one
 * eval at a time is let through as a probe and the others fail at once with
 * SC_EAGAIN, so a blocked WAIT does not hold up a queue of them.
 * sc_store_write is a command with the same WAIT; sc_store_command is
 * never followed by WAIT.
 *
 * Hold: the owner may hold the store (sc_store_hold) when it does not trust
 * the server's data (the catalogue vanished): the connection stays up for
 * sc_store_command, but sc_store_ready() is 0 and sc_store_eval() fails
 * with SC_EAGAIN, so MOs get the temporary error.
 *
 * Redis Cluster: when the server's INFO says cluster_enabled:1 (the URL may
 * list several seeds), this store becomes a router with one such
 * connection per master, every call sent to its key's slot (a script's
 * first key; a command's key argument), MOVED / ASK followed, and
 * TRYAGAIN / CLUSTERDOWN / a lost master handed back as SC_EAGAIN (a
 * callback's err may then be SC_EAGAIN too). Same API: store/cluster.c,
 * docs/scaling.md.
 *
 * Ownership: a reply passed to a callback is borrowed and freed when the
 * callback returns. Strings passed to calls are copied before they return. */
#ifndef SC_STORE_H
#define SC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/metrics.h"

struct redisReply;
struct sc_store;

struct sc_store_opts {
    const char *url;              /* redis://[:password@]host:port[/db] */
    uint32_t connect_timeout_ms;
    uint32_t command_timeout_ms;
    uint32_t reconnect_min_ms;    /* backoff, doubled per failure ... */
    uint32_t reconnect_max_ms;    /* ... up to this */
    unsigned max_pending;         /* commands in flight; more -> SC_EBUSY */
    int durability;               /* enum sc_store_durability */
    const char *name;             /* NULL: the daemon's MO connection; else a
                                   * short word logged as conn=NAME after the
                                   * event (borrowed: must outlive the store) */
    struct sc_histogram *latency; /* each reply's round trip in microseconds
                                   * (base/metrics.h; borrowed), or NULL */
    unsigned wait_replicas;       /* 0: off; else WAIT for this many after evals */
    uint32_t wait_timeout_ms;     /* WAIT's timeout (0: 500); keep it well below
                                   * command_timeout_ms (config checks 2x) */
};

/* What to do with a server that cannot keep acknowledged writes (no AOF,
 * appendfsync no, or nothing could be told because INFO and CONFIG were
 * refused). UNCHECKED: ask, log at debug only (tools, unit tests). */
enum sc_store_durability {
    SC_DURABILITY_UNCHECKED = 0,
    SC_DURABILITY_WARN,           /* use it; a warn line at every connect */
    SC_DURABILITY_REFUSE,         /* do not use it; an error line, retried */
};

/* What the handshake learnt about the server (valid once connected; kept
 * after a disconnect until the next handshake). */
struct sc_store_server {
    char run_id[41];              /* "" if INFO did not say */
    long long keys;               /* keys in our db at connect; -1 unknown */
    int durable;                  /* 1 yes, 0 no, -1 cannot be told */
    int config_refused;           /* CONFIG GET was refused (managed Redis) */
    char found[160];              /* e.g. "appendonly=no save=\"\"", for logs */
    int replicas;                 /* INFO connected_slaves; -1 not said */
};

/* err: 0 with reply (which may be a Redis error reply: check reply->type),
 * or SC_ETIMEOUT, SC_ECLOSED (connection lost), SC_EAGAIN (a cluster said
 * TRYAGAIN / CLUSTERDOWN, or could not be followed), SC_EREPLICA (an eval
 * whose WAIT saw fewer than wait_replicas replicas), with reply NULL. */
typedef void (*sc_store_cb)(void *ctx, int err, struct redisReply *reply);

/* Parse the URL and prepare; does not connect yet. Returns NULL with a
 * message in err (never echoing the password). */
struct sc_store *sc_store_new(uv_loop_t *loop, const struct sc_store_opts *o, char *err,
                              size_t errsz);

/* Register a Lua script before sc_store_start. name is for logs. Returns a
 * script id >= 0 or a negative SC_E*. */
int sc_store_script(struct sc_store *st, const char *name, const char *lua);

/* Called each time the store becomes ready (connected, AUTH/SELECT done,
 * scripts loaded) or stops being ready. Optional. */
void sc_store_on_state(struct sc_store *st, void (*cb)(void *arg, int ready), void *arg);

/* Connect (and keep reconnecting until sc_store_stop). */
int sc_store_start(struct sc_store *st);

/* 1 when connected with scripts loaded and not held: MOs may use it. */
int sc_store_ready(const struct sc_store *st);
/* 1 once the server was found to be a Redis Cluster (the seed's handshake
 * saw cluster_enabled:1; kept across reconnects): scripts must then keep
 * every key on one slot (docs/scaling.md "The relay"). */
int sc_store_is_cluster(const struct sc_store *st);
/* 1 when connected with scripts loaded, held or not. */
int sc_store_connected(const struct sc_store *st);
/* Hold (on = 1) or release the store: see the top of this file. Does not
 * call on_state. */
void sc_store_hold(struct sc_store *st, int on);
/* Why the last connection attempt failed or the connection was lost
 * (hiredis' text, e.g. "Connection refused"); "" if none did. Borrowed. */
const char *sc_store_last_error(const struct sc_store *st);
/* The server as of the last handshake. Borrowed, lives as long as st. On a
 * Redis Cluster: the seed's durability, run_id "" and keys -1 (many
 * servers: docs/scaling.md). */
const struct sc_store_server *sc_store_server(const struct sc_store *st);

/* Run script id with keys and args (binary-safe: lengths given; a NULL
 * lens array means NUL-terminated strings). cb is called exactly once,
 * never from inside this call. Returns 0, SC_EAGAIN (not connected, or
 * replicas missing and a probe in flight: see the top), SC_EBUSY
 * (max_pending reached); on error cb is not called. */
int sc_store_eval(struct sc_store *st, int script, int nkeys, const char *const *keys,
                  const size_t *keylens, int nargs, const char *const *args,
                  const size_t *arglens, sc_store_cb cb, void *ctx);

/* Any command, argv style. Same contract as sc_store_eval, except that it
 * works while the store is held. */
int sc_store_command(struct sc_store *st, int argc, const char *const *argv,
                     const size_t *argvlen, sc_store_cb cb, void *ctx);
/* sc_store_command for a write another party relies on once cb says it is
 * done (the relay's XADD to vas:events: its outbox entry is deleted after):
 * with wait_replicas it is followed by WAIT as an eval is, with the same
 * SC_EREPLICA / SC_EAGAIN outcomes; without, it is sc_store_command. */
int sc_store_write(struct sc_store *st, int argc, const char *const *argv,
                   const size_t *argvlen, sc_store_cb cb, void *ctx);

/* Commands sent and not yet answered. */
unsigned sc_store_pending(const struct sc_store *st);
/* Change max_pending (SIGHUP); commands already sent are not affected. */
void sc_store_set_max_pending(struct sc_store *st, unsigned max_pending);

/* Disconnect; pending callbacks get SC_ECLOSED (from the loop); done is
 * called when every handle is closed. */
void sc_store_stop(struct sc_store *st, void (*done)(void *arg), void *arg);
/* After done, or before start. NULL is a no-op. */
void sc_store_free(struct sc_store *st);

#endif
