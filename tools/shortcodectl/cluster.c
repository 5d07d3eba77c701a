/* cluster.c -- shortcodectl's Redis Cluster routing over synchronous
 * hiredis contexts (see cluster.h; docs/scaling.md).
 *
 * A command goes out on its master's context at once (appended, written on
 * the next read); route.h remembers the order. A read first writes every
 * node's pending output, so the masters work in parallel, then reads from
 * the node that owes the oldest command its reply; replies that node sends
 * for younger commands are kept until their turn. A redirect resends the
 * command (kept in RESP for that) to the node named, where it joins the
 * tail: its reply then comes after that node's earlier ones, still handed
 * back in its own place. */
#include "cluster.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sc.h"
#include "route.h"
#include "store/slots.h"

struct ctl_node {
    char host[64];
    int port;
    char where[80];
    redisContext *c;         /* NULL until first used */
    int master;              /* owns slots in the current map */
};

struct ctl_cluster {
    struct ctl_node nodes[CTL_MAX_NODES];
    int nnodes;
    short owner[SC_SLOTS];   /* node index; -1: no master known */
    struct ctl_route q;
    int refreshing;          /* a CLUSTER SLOTS is awaited: no nested refresh */
    /* TRYAGAIN / CLUSTERDOWN: the try a back-off was slept for. A pipeline's
     * commands fail in waves (each resent to the tail): one sleep a wave,
     * not one a command. 0 again after any answer. */
    int temp_level;
    int failed;              /* printed; every read now fails */
};

static void drop_reply(void *rep)
{
    freeReplyObject(rep);
}

/* The node host:port, added when new. -1 when the table is full (printed). */
static int node_of(struct ctl_cluster *cl, const char *host, int port)
{
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].port == port && strcmp(cl->nodes[i].host, host) == 0)
            return i;
    if (cl->nnodes == CTL_MAX_NODES) {
        fprintf(stderr, "shortcodectl: redis cluster: more than %d nodes\n", CTL_MAX_NODES);
        return -1;
    }
    struct ctl_node *n = &cl->nodes[cl->nnodes];
    memset(n, 0, sizeof *n);
    sc_strlcpy(n->host, host, sizeof n->host);
    n->port = port;
    snprintf(n->where, sizeof n->where, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return cl->nnodes++;
}

/* Node i's context, connected on first use; NULL after a message. */
static redisContext *ctx_of(struct ctl_redis *r, int i)
{
    struct ctl_node *n = &r->cl->nodes[i];
    if (!n->c)
        n->c = ctl_redis_open(r, n->host, n->port, n->where);
    return n->c;
}

/* The owner table from a CLUSTER SLOTS reply asked of node via. 0, or -1
 * (printed). */
static int load_map(struct ctl_redis *r, const redisReply *rep, int via)
{
    struct ctl_cluster *cl = r->cl;
    size_t max = rep && rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
    struct sc_slot_range *rg = max ? calloc(max, sizeof *rg) : NULL;
    int n = rg ? sc_slots_parse(rep, cl->nodes[via].host, rg, (int)max) : SC_EPROTO;
    if (n < 0) {
        fprintf(stderr, "shortcodectl: redis cluster at %s: %s\n", cl->nodes[via].where,
                rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "no slot map in CLUSTER SLOTS");
        free(rg);
        return -1;
    }
    for (unsigned s = 0; s < SC_SLOTS; s++)
        cl->owner[s] = -1;
    for (int i = 0; i < cl->nnodes; i++)
        cl->nodes[i].master = 0;
    for (int i = 0; i < n; i++) {
        int k = node_of(cl, rg[i].host, rg[i].port);
        if (k < 0) {
            free(rg);
            return -1;
        }
        cl->nodes[k].master = 1;
        for (unsigned s = rg[i].start; s <= rg[i].end; s++)
            cl->owner[s] = (short)k;
    }
    free(rg);
    return 0;
}

static int set_failed(struct ctl_cluster *cl)
{
    cl->failed = 1;
    return -1;
}

/* Send entry seq (again) to node. 0, or -1 (printed). */
static int send_to(struct ctl_redis *r, unsigned long seq, int node)
{
    struct ctl_route_ent *e = ctl_route_at(&r->cl->q, seq);
    redisContext *c = ctx_of(r, node);
    if (!c || redisAppendFormattedCommand(c, e->cmd, e->len) != REDIS_OK ||
        ctl_route_send(&r->cl->q, seq, node) < 0) {
        if (c)
            fprintf(stderr, "shortcodectl: redis at %s: out of memory\n", r->cl->nodes[node].where);
        return set_failed(r->cl);
    }
    return 0;
}

/* A new entry for node: resp copied. Its seq, or CTL_ROUTE_NONE (failed). */
static unsigned long add(struct ctl_redis *r, int node, int slot, int internal, const char *resp,
                         size_t len)
{
    struct ctl_cluster *cl = r->cl;
    redisContext *c = ctx_of(r, node);
    if (!c) {
        set_failed(cl);
        return CTL_ROUTE_NONE;
    }
    char *copy = resp ? malloc(len) : NULL;
    if (copy)
        memcpy(copy, resp, len);
    unsigned long seq = copy ? ctl_route_add(&cl->q, node, internal, copy, len) : CTL_ROUTE_NONE;
    if (seq == CTL_ROUTE_NONE || redisAppendFormattedCommand(c, resp, len) != REDIS_OK) {
        fprintf(stderr, "shortcodectl: out of memory\n");
        set_failed(cl);
        return CTL_ROUTE_NONE;
    }
    ctl_route_at(&cl->q, seq)->slot = slot;
    return seq;
}

/* Where a command of slot goes: its owner, else any master. */
static int node_for(const struct ctl_cluster *cl, int slot)
{
    if (slot >= 0 && cl->owner[slot] >= 0)
        return cl->owner[slot];
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].master)
            return i;
    return 0;
}

static int await_reply(struct ctl_redis *r, unsigned long seq);

/* CLUSTER SLOTS over node via (whose stream is live) and a new map. */
static int refresh(struct ctl_redis *r, int via)
{
    static const char cmd[] = "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";
    struct ctl_cluster *cl = r->cl;
    cl->refreshing = 1;
    unsigned long seq = add(r, via, -1, 1, cmd, sizeof cmd - 1);
    int rc = seq == CTL_ROUTE_NONE ? -1 : await_reply(r, seq);
    if (rc == 0 && load_map(r, ctl_route_at(&cl->q, seq)->reply, via) < 0)
        rc = set_failed(cl);
    cl->refreshing = 0;
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Entry x got a redirect rd from node n: follow it. 0, or -1 (printed). */
static int redirect(struct ctl_redis *r, unsigned long x, int n, const struct sc_redirect *rd,
                    const redisReply *rep)
{
    struct ctl_cluster *cl = r->cl;
    struct ctl_route_ent *e = ctl_route_at(&cl->q, x);   /* valid until the next add */
    if (rd->kind == SC_REDIR_MOVED || rd->kind == SC_REDIR_ASK) {
        if (e->redirects++ >= SC_MAX_REDIRECTS) {
            fprintf(stderr, "shortcodectl: redis cluster node %s: still redirecting after %d "
                    "redirects: %s\n", cl->nodes[n].where, SC_MAX_REDIRECTS, rep->str);
            return set_failed(cl);
        }
        int to = node_of(cl, rd->host[0] ? rd->host : cl->nodes[n].host, rd->port);
        if (to < 0)
            return set_failed(cl);
        if (rd->kind == SC_REDIR_ASK) {
            static const char asking[] = "*1\r\n$6\r\nASKING\r\n";
            if (add(r, to, -1, 1, asking, sizeof asking - 1) == CTL_ROUTE_NONE)
                return -1;
            return send_to(r, x, to);
        }
        if (cl->owner[rd->slot] != to && !cl->refreshing && refresh(r, n) < 0)
            return -1;
        cl->owner[rd->slot] = (short)to;   /* the node's word is the latest */
        return send_to(r, x, to);
    }
    if (++e->tries >= CTL_TEMP_TRIES) {
        fprintf(stderr, "shortcodectl: redis cluster node %s: %s (gave up after %d tries)\n",
                cl->nodes[n].where, rep->str, CTL_TEMP_TRIES);
        return set_failed(cl);
    }
    int slot = e->slot;    /* e moves when refresh adds an entry */
    if (e->tries > cl->temp_level) {   /* the first of this wave waits for all */
        cl->temp_level = e->tries;
        sleep_ms(25L << (e->tries < 5 ? e->tries : 5));
        if (rd->kind == SC_REDIR_CLUSTERDOWN && !cl->refreshing && refresh(r, n) < 0)
            return -1;
    }
    return send_to(r, x, rd->kind == SC_REDIR_CLUSTERDOWN ? node_for(cl, slot) : n);
}

/* Read replies until entry seq has its own. 0, or -1 (printed). */
static int await_reply(struct ctl_redis *r, unsigned long seq)
{
    struct ctl_cluster *cl = r->cl;
    while (!cl->failed && !ctl_route_at(&cl->q, seq)->reply) {
        int n = ctl_route_at(&cl->q, seq)->node;
        redisContext *c = cl->nodes[n].c;
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
            char buf[128];
            fprintf(stderr, "shortcodectl: lost the connection to redis at %s: %s\n",
                    cl->nodes[n].where,
                    ctl_redis_conn_error(c, r->command_timeout_ms, buf, sizeof buf));
            return set_failed(cl);
        }
        unsigned long x = ctl_route_take(&cl->q, n);
        struct sc_redirect rd = {0};
        if (x == CTL_ROUTE_NONE) {
            fprintf(stderr, "shortcodectl: redis at %s: a reply to no command\n",
                    cl->nodes[n].where);
            freeReplyObject(rep);
            return set_failed(cl);
        }
        if (rep->type == REDIS_REPLY_ERROR && sc_redirect_parse(rep->str, rep->len, &rd)) {
            int rc = redirect(r, x, n, &rd, rep);
            freeReplyObject(rep);
            if (rc < 0)
                return -1;
        } else {
            ctl_route_at(&cl->q, x)->reply = rep;
            cl->temp_level = 0;
        }
    }
    return cl->failed ? -1 : 0;
}

void ctl_cluster_append(struct ctl_redis *r, const char *key, size_t klen, const char *resp,
                        size_t len)
{
    struct ctl_cluster *cl = r->cl;
    int slot = key ? (int)sc_key_slot(key, klen) : -1;
    if (!cl->failed)
        add(r, node_for(cl, slot), slot, 0, resp, len);
}

/* Write every node's pending output, so that all masters work at once. */
static int flush_all(struct ctl_redis *r)
{
    struct ctl_cluster *cl = r->cl;
    for (int i = 0; i < cl->nnodes; i++) {
        redisContext *c = cl->nodes[i].c;
        int done = 0;
        while (c && !done)
            if (redisBufferWrite(c, &done) != REDIS_OK) {
                char buf[128];
                fprintf(stderr, "shortcodectl: lost the connection to redis at %s: %s\n",
                        cl->nodes[i].where,
                        ctl_redis_conn_error(c, r->command_timeout_ms, buf, sizeof buf));
                return set_failed(cl);
            }
    }
    return 0;
}

redisReply *ctl_cluster_read(struct ctl_redis *r)
{
    struct ctl_cluster *cl = r->cl;
    unsigned long h = ctl_route_head(&cl->q);
    if (cl->failed || h == CTL_ROUTE_NONE)
        return NULL;
    if (!ctl_route_at(&cl->q, h)->reply && (flush_all(r) < 0 || await_reply(r, h) < 0))
        return NULL;
    return ctl_route_pop(&cl->q);
}

int ctl_cluster_start(struct ctl_redis *r)
{
    struct ctl_cluster *cl = calloc(1, sizeof *cl);
    if (!cl) {
        fprintf(stderr, "shortcodectl: out of memory\n");
        return -1;
    }
    ctl_route_init(&cl->q, drop_reply);
    r->cl = cl;
    int seed = node_of(cl, r->host, r->port);
    redisReply *rep = NULL;
    if (seed < 0 || redisAppendCommand(r->c, "CLUSTER SLOTS") != REDIS_OK ||
        redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep) {
        char buf[128];
        fprintf(stderr, "shortcodectl: cannot connect to redis at %s: %s\n", r->where,
                ctl_redis_conn_error(r->c, r->command_timeout_ms, buf, sizeof buf));
        return -1;
    }
    cl->nodes[seed].c = r->c;   /* a seed that is no master stays a known node */
    r->c = NULL;
    int rc = load_map(r, rep, seed);
    freeReplyObject(rep);
    return rc;
}

void ctl_cluster_free(struct ctl_redis *r)
{
    struct ctl_cluster *cl = r->cl;
    if (!cl)
        return;
    ctl_route_free(&cl->q);
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].c)
            redisFree(cl->nodes[i].c);
    free(cl);
    r->cl = NULL;
}

int ctl_cluster_nnodes(const struct ctl_redis *r)
{
    int n = 0;
    for (int i = 0; i < r->cl->nnodes; i++)
        n += r->cl->nodes[i].master;
    return n;
}

redisReply *ctl_cluster_command_on(struct ctl_redis *r, int i, const char *resp, size_t len,
                                   const char **where)
{
    struct ctl_cluster *cl = r->cl;
    int k = 0;
    while (k < cl->nnodes && !(cl->nodes[k].master && i-- == 0))
        k++;
    if (k == cl->nnodes || cl->failed)
        return NULL;
    *where = cl->nodes[k].where;
    if (add(r, k, -1, 0, resp, len) == CTL_ROUTE_NONE)
        return NULL;
    return ctl_cluster_read(r);
}
