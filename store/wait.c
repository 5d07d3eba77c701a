/* wait.c -- redis.wait_replicas: each eval (and each sc_store_write, e.g.
 * the relay's XADD to vas:events) is followed in the same pipeline by WAIT
 * N timeout, and its caller gets the reply only once WAIT said N replicas
 * have the write.
 *
 * Redis answers in order, so the eval's reply comes first: it is copied
 * (hiredis frees its own when the callback returns) and held until the
 * WAIT's answer, then handed to the caller (answer >= N) or dropped for
 * SC_EREPLICA. The eval and its WAIT point at one st_wait, freed when both
 * have been called back (each exactly once, by reply or by failure). A
 * NOSCRIPT retry puts the EVAL after the first WAIT, so a second WAIT is
 * sent behind it and the result waits for the last WAIT.
 *
 * WAIT blocks the connection for up to its timeout when replicas are
 * missing, and every command pipelined behind it waits too. So once the
 * handshake (INFO connected_slaves) or a WAIT says replicas are missing, the
 * store is "short": one eval at a time goes out as a probe, the others get
 * SC_EAGAIN at once (their MOs the temporary error, nothing written); the
 * first probe whose WAIT is answered >= N ends it (a reconnect does not:
 * a replica connected is not a replica caught up). */
#include "store/store_int.h"
#include "store/slots.h"

#include <stdalign.h>
#include <stddef.h>

struct st_wait {
    struct sc_store *st;
    sc_store_cb cb;
    void *ctx;
    redisReply *held;            /* the script's reply, copied in one block */
    int err;                     /* the eval or a WAIT failed: SC_E* */
    long long acked;             /* the last WAIT's answer; -1 none or an error */
    unsigned waits;              /* WAITs sent and not yet called back */
    unsigned refs;               /* st_cmds whose ctx this is */
    int eval_done, done, probe;
    int redirected;              /* the eval was refused as a redirect: nothing ran */
};

/* ---- a reply copied into one allocation -------------------------------- */

#define W_ALIGN(n) (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

/* Bytes reply_fill needs for r (hiredis bounds the nesting to 7 levels). */
static size_t reply_size(const redisReply *r)
{
    size_t n = W_ALIGN(sizeof *r);
    if (r->str)
        n += W_ALIGN(r->len + 1);
    if (r->type == REDIS_REPLY_ARRAY && r->element) {
        n += W_ALIGN(r->elements * sizeof(redisReply *));
        for (size_t i = 0; i < r->elements; i++)
            n += reply_size(r->element[i]);
    }
    return n;
}

/* Copy src into dst, its strings and elements at p; returns the end. */
static char *reply_fill(redisReply *dst, const redisReply *src, char *p)
{
    *dst = *src;
    dst->str = NULL;
    dst->element = NULL;
    if (src->str) {
        dst->str = p;
        memcpy(p, src->str, src->len);
        p[src->len] = '\0';
        p += W_ALIGN(src->len + 1);
    }
    if (src->type == REDIS_REPLY_ARRAY && src->element) {
        dst->element = (redisReply **)(void *)p;
        p += W_ALIGN(src->elements * sizeof(redisReply *));
        for (size_t i = 0; i < src->elements; i++) {
            dst->element[i] = (redisReply *)(void *)p;
            p = reply_fill(dst->element[i], src->element[i], p + W_ALIGN(sizeof *dst));
        }
    }
    return p;
}

/* A copy of r freed with free(), or NULL (out of memory). */
static redisReply *reply_copy(const redisReply *r)
{
    char *b = malloc(reply_size(r));
    if (b)
        reply_fill((redisReply *)(void *)b, r, b + W_ALIGN(sizeof *r));
    return (redisReply *)(void *)b;
}

/* ---- the pair's life --------------------------------------------------- */

static void unref(struct st_wait *w)
{
    if (--w->refs == 0) {
        free(w->held);
        free(w);
    }
}

/* A probe's WAIT answered: leave or enter the short state (logged once per change). */
static void judge(struct sc_store *st, long long acked)
{
    int short_now = acked < (long long)st->o.wait_replicas;
    if (short_now == st->wait_short)
        return;
    st->wait_short = short_now;
    if (short_now)
        ST_LOG(SC_LOG_WARN, st, "redis_replicas_behind",
               " acked=%lld need=%u timeout_ms=%u action=\"writes get the temporary error, "
               "one at a time probes until replicas catch up\"",
               acked, st->o.wait_replicas, st->o.wait_timeout_ms);
    else
        ST_LOG(SC_LOG_INFO, st, "redis_replicas_ok", " acked=%lld need=%u", acked,
               st->o.wait_replicas);
}

/* Call the caller back once: the held reply if WAIT said enough, else why not. */
static void finish(struct st_wait *w)
{
    struct sc_store *st = w->st;
    w->done = 1;
    if (w->probe)
        st->wait_probe = 0;
    int err = w->err ? w->err : w->held ? 0 : SC_ECLOSED;
    if (!err && !w->redirected) {
        judge(st, w->acked);
        if (w->acked < (long long)st->o.wait_replicas)
            err = SC_EREPLICA;
    }
    w->cb(w->ctx, err, err ? NULL : w->held); /* st may be stopping from here on */
}

static void on_eval(void *ctx, int err, redisReply *r)
{
    struct st_wait *w = ctx;
    if (!w->done) {
        w->eval_done = 1;
        if (err)
            w->err = err;
        else if (!(w->held = reply_copy(r)))
            w->err = SC_ENOMEM;
        /* A MOVED / ASK / TRYAGAIN / CLUSTERDOWN ran nothing: the cluster
         * router follows it now, whatever the WAIT says (after a failover
         * the old master, now a replica, refuses WAIT itself), and it says
         * nothing about this node's replicas. */
        struct sc_redirect rd;
        w->redirected = !err && r->type == REDIS_REPLY_ERROR &&
                        sc_redirect_parse(r->str, r->len, &rd) != SC_REDIR_NONE;
        /* A failed eval fails its whole connection: no need to hear the WAIT. */
        if (err || w->redirected || w->waits == 0)
            finish(w);
    }
    unref(w);
}

static void on_wait(void *ctx, int err, redisReply *r)
{
    struct st_wait *w = ctx;
    w->waits--;
    if (!w->done) {
        if (err)
            w->err = err;
        else
            w->acked = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (w->eval_done && w->waits == 0)
            finish(w);
    }
    unref(w);
}

/* Queue WAIT N T behind what was sent last: 0 or SC_E*. */
static int send_wait(struct sc_store *st, struct st_wait *w)
{
    if (!st->wait_req[0]) {
        char n[16], t[16];
        int nl = snprintf(n, sizeof n, "%u", st->o.wait_replicas);
        int tl = snprintf(t, sizeof t, "%u", st->o.wait_timeout_ms);
        snprintf(st->wait_req, sizeof st->wait_req, "*3\r\n$4\r\nWAIT\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
                 nl, n, tl, t);
    }
    struct st_cmd *c = sc__cmd_get(st);
    if (!c)
        return SC_ENOMEM;
    c->cb = on_wait;
    c->ctx = w;
    int rc = sc__submit(st, c, st->wait_req, strlen(st->wait_req));
    if (rc < 0) {
        sc__cmd_put(st, c);
        return rc;
    }
    w->waits++;
    w->refs++;
    return 0;
}

/* ---- called by store.c and handshake.c -------------------------------- */

int sc__wait_submit(struct sc_store *st, struct st_cmd *c, const char *req, size_t len,
                    sc_store_cb cb, void *ctx)
{
    if (st->wait_short && st->wait_probe)
        return SC_EAGAIN;
    struct st_wait *w = calloc(1, sizeof *w);
    if (!w)
        return SC_ENOMEM;
    w->st = st;
    w->cb = cb;
    w->ctx = ctx;
    w->acked = -1;
    w->probe = st->wait_short;
    c->cb = on_eval;
    c->ctx = w;
    int rc = sc__submit(st, c, req, len);
    if (rc < 0) {
        free(w);
        return rc;
    }
    w->refs = 1;
    if (send_wait(st, w) < 0)
        w->err = SC_ECLOSED; /* the outcome cannot be known: as if the link broke */
    if (w->probe)
        st->wait_probe = 1;
    return 0;
}

void sc__wait_retried(struct sc_store *st, struct st_cmd *c)
{
    if (c->cb != on_eval)
        return;
    struct st_wait *w = c->ctx;
    if (send_wait(st, w) < 0)
        w->err = SC_ECLOSED;
}

void sc__wait_handshake(struct sc_store *st)
{
    st->wait_probe = 0;
    if (!st->o.wait_replicas)
        return;
    int have = st->srv.replicas;
    /* Connected is not caught up: a store short before the reconnect stays
     * short until a probe's WAIT says otherwise. Unknown (INFO refused):
     * the WAITs will tell. */
    int missing = have >= 0 && have < (int)st->o.wait_replicas;
    st->wait_short |= missing;
    if (missing)
        ST_LOG(SC_LOG_ERROR, st, "redis_replicas_missing",
               " replicas=%d need=%u msg=\"the master has fewer connected replicas than "
               "redis.wait_replicas\" action=\"used: writes get the temporary error until "
               "enough replicas acknowledge them\"",
               have, st->o.wait_replicas);
    else
        ST_DEBUG(st, "redis_replicas", " replicas=%d need=%u", have, st->o.wait_replicas);
}
