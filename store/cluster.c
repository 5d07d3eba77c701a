/* cluster.c -- Redis Cluster routing behind the sc_store API: the slot map,
 * one engine (store.c's connection) per master, every command and script
 * sent to its first key's slot, MOVED / ASK followed, temporary errors
 * handed back.
 *
 * The store the owner made (sc_store_new) is the seed: its connection asks
 * INFO in the handshake, and when the server says cluster_enabled:1 that
 * connection is kept only to ask CLUSTER SLOTS, and a router (this file) is
 * put in front: sc_store_eval / sc_store_command / ready / stop / free see
 * st->cl and come here. Each master gets its own engine (a struct sc_store
 * with parent = the seed, same options, same scripts: SCRIPT LOAD at its
 * connect, the NOSCRIPT retry per node, its own command deadline).
 *
 * A command: its slot from the key (slots.c: the first key of a script,
 * the key argument of a command), the owner from the map; not ready or no
 * owner -> SC_EAGAIN at once. The arguments are copied into a cl_cmd so
 * that it can be resent. The answer:
 *   -MOVED slot host:port  the map entry is changed at once, a refresh is
 *                          asked, and the command resent there;
 *   -ASK slot host:port    ASKING + the command to that node, map untouched;
 *   -TRYAGAIN, -CLUSTERDOWN, the engine's SC_ETIMEOUT / SC_ECLOSED, or more
 *                          than SC_MAX_REDIRECTS redirects: the caller gets
 *                          SC_EAGAIN (or the engine's error) with no reply,
 *                          and the map is refreshed;
 *   anything else          the caller's reply.
 * A redirect to a node we have no ready connection to yet (a new master)
 * fails with SC_EAGAIN and makes the connection: the MO gets the temporary
 * error and the SMSC redelivers it. Nothing blocks.
 *
 * The map is refreshed over the seed's connection (or any ready node's),
 * one request at a time; while the cluster is not ready (map incomplete, a
 * master's connection down) a timer asks again every CL_REFRESH_MS, which
 * is how the store follows a failover: the promoted replica appears in the
 * map, gets an engine, and when it is ready so is the store. Ready means:
 * every slot has an owner and every owner's engine is ready. */
#include "store/cluster.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>

#include "store/slots.h"

#define CL_MAX_NODES 64
#define CL_REFRESH_MS 500u

struct cl_node {
    char host[64];
    int port;
    struct sc_store *eng;
    struct sc_cluster *cl;
    unsigned nslots;           /* slots the map gives it */
    int ready;
    int retiring;              /* down and no longer in the map: being stopped */
};

struct cl_cmd {
    struct sc_cluster *cl;
    TAILQ_ENTRY(cl_cmd) link;  /* free list */
    sc_store_cb cb;
    void *ctx;
    int script;                /* -1: a command */
    int wait;                  /* a command sent with sc_store_write */
    int nkeys, nargs;          /* eval: v = keys then args; command: nargs = argc */
    int redirects;
    int ask;                   /* send ASKING first */
    int node;                  /* where it was sent last */
    const char **v;
    size_t *lens;
    int vcap;
    char *buf;
    size_t cap;
};

struct sc_cluster {
    struct sc_store *seed;
    uv_timer_t timer;
    uint8_t owner[SC_SLOTS];   /* node index + 1; 0: no owner known */
    struct cl_node nodes[CL_MAX_NODES];
    int nnodes;
    unsigned covered;          /* slots with an owner */
    int ready;                 /* as last reported to the owner */
    int refreshing, refresh_again;
    char via_host[64];         /* host of the connection the refresh went over */
    void (*user_on_state)(void *arg, int ready);
    void *user_arg;
    void (*done)(void *arg);
    void *done_arg;
    struct sc_store_server srv; /* sc__cluster_server's answer */
    int stopping;
    unsigned stop_left;        /* engines and the timer not closed yet */
    TAILQ_HEAD(cl_cmdq, cl_cmd) free_cmds;
};

static void cl_refresh(struct sc_cluster *cl);

/* ---- readiness ------------------------------------------------------- */

static void cl_update_ready(struct sc_cluster *cl)
{
    int ready = cl->covered == SC_SLOTS && !cl->stopping;
    for (int i = 0; i < cl->nnodes && ready; i++)
        if (cl->nodes[i].nslots && !cl->nodes[i].ready)
            ready = 0;
    if (ready == cl->ready)
        return;
    cl->ready = ready;
    if (ready)
        ST_LOG(SC_LOG_INFO, cl->seed, "redis_cluster_ready", " covered=%u nodes=%d", cl->covered,
               cl->nnodes);
    else
        ST_LOG(SC_LOG_WARN, cl->seed, "redis_cluster_not_ready", " covered=%u nodes=%d",
               cl->covered, cl->nnodes);
    if (cl->user_on_state)
        cl->user_on_state(cl->user_arg, ready);
}

static void on_node_state(void *arg, int ready)
{
    struct cl_node *n = arg;
    n->ready = ready;
    if (!ready)
        cl_refresh(n->cl);
    else if (n->cl->refresh_again)
        cl_refresh(n->cl);
    cl_update_ready(n->cl);
}

/* ---- nodes ------------------------------------------------------------ */

/* A copy of credentials (binary-safe). */
static char *dup_len(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* An engine for host:port with the seed's options, credentials and
 * scripts; started. NULL on failure (logged). */
static struct sc_store *node_engine(struct sc_cluster *cl, struct cl_node *n)
{
    struct sc_store *seed = cl->seed;
    char url[96], err[160];
    snprintf(url, sizeof url, strchr(n->host, ':') ? "redis://[%s]:%d" : "redis://%s:%d",
             n->host, n->port);
    struct sc_store_opts o = seed->o;
    o.url = url;
    struct sc_store *e = sc_store_new(seed->loop, &o, err, sizeof err);
    if (!e)
        goto fail;
    e->parent = seed;
    if (seed->u.user && !(e->u.user = dup_len(seed->u.user, seed->u.userlen)))
        goto fail;
    e->u.userlen = seed->u.userlen;
    if (seed->u.pass && !(e->u.pass = dup_len(seed->u.pass, seed->u.passlen)))
        goto fail;
    e->u.passlen = seed->u.passlen;
    for (int i = 0; i < seed->nscripts; i++)
        if (sc_store_script(e, seed->scripts[i].name, seed->scripts[i].lua) < 0)
            goto fail;
    sc_store_on_state(e, on_node_state, n);
    if (sc_store_start(e) < 0)
        goto fail;
    return e;
fail:
    sc_store_free(e);
    ST_LOG(SC_LOG_ERROR, seed, "redis_cluster_node_failed", " node=%s:%d error=\"%s\"", n->host,
           n->port, e ? "out of memory" : err);
    return NULL;
}

/* The index of host:port, added (and connected) if new; -1 if the table is
 * full or no engine could be made. */
static int node_find(struct sc_cluster *cl, const char *host, int port)
{
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].port == port && strcmp(cl->nodes[i].host, host) == 0) {
            struct cl_node *n = &cl->nodes[i];
            if (!n->eng && !n->retiring && !cl->stopping) /* retired, wanted again */
                n->eng = node_engine(cl, n);
            return n->eng && !n->retiring ? i : -1;
        }
    if (cl->nnodes == CL_MAX_NODES || cl->stopping || strlen(host) >= sizeof cl->nodes[0].host)
        return -1;
    struct cl_node *n = &cl->nodes[cl->nnodes];
    memset(n, 0, sizeof *n);
    sc_strlcpy(n->host, host, sizeof n->host);
    n->port = port;
    n->cl = cl;
    n->eng = node_engine(cl, n);
    if (!n->eng)
        return -1;
    return cl->nnodes++;
}

/* ---- the slot map ------------------------------------------------------ */

static void stop_step(struct sc_cluster *cl);

static void on_retired(void *arg)
{
    struct cl_node *n = arg;
    struct sc_store *e = n->eng;
    n->eng = NULL;
    n->retiring = 0;
    n->ready = 0;
    sc_store_free(e); /* its last close callback: nothing touches it after */
    if (n->cl->stopping)
        stop_step(n->cl);
}

/* A node that is down and owns no slot any more (a master that failed
 * over, a node removed): stop its engine, which would otherwise retry it
 * forever. It is made again if a map or a redirect names it. */
static void retire_idle(struct sc_cluster *cl)
{
    for (int i = 0; i < cl->nnodes; i++) {
        struct cl_node *n = &cl->nodes[i];
        if (n->eng && !n->retiring && !n->nslots && !n->ready) {
            n->retiring = 1;
            ST_LOG(SC_LOG_INFO, cl->seed, "redis_cluster_node_retired",
                   " node=%s:%d msg=\"down and no longer in the slot map\"", n->host, n->port);
            sc_store_stop(n->eng, on_retired, n);
        }
    }
}

/* Install a parsed CLUSTER SLOTS answer. */
static void cl_install(struct sc_cluster *cl, const struct sc_slot_range *rg, int n)
{
    uint8_t *next = calloc(SC_SLOTS, 1);
    if (!next)
        return;
    unsigned covered = 0;
    for (int i = 0; i < n; i++) {
        int k = node_find(cl, rg[i].host, rg[i].port);
        if (k < 0)
            continue;
        for (unsigned s = rg[i].start; s <= rg[i].end; s++) {
            covered += next[s] == 0;
            next[s] = (uint8_t)(k + 1);
        }
    }
    int changed = memcmp(next, cl->owner, SC_SLOTS) != 0;
    memcpy(cl->owner, next, SC_SLOTS);
    free(next);
    for (int i = 0; i < cl->nnodes; i++)
        cl->nodes[i].nslots = 0;
    for (unsigned s = 0; s < SC_SLOTS; s++)
        if (cl->owner[s])
            cl->nodes[cl->owner[s] - 1].nslots++;
    cl->covered = covered;
    if (changed) {
        int masters = 0;
        for (int i = 0; i < cl->nnodes; i++)
            masters += cl->nodes[i].nslots > 0;
        ST_LOG(SC_LOG_INFO, cl->seed, "redis_cluster_map", " masters=%d ranges=%d covered=%u",
               masters, n, covered);
    }
    retire_idle(cl);
}

static void on_slots(void *ctx, int err, struct redisReply *r)
{
    struct sc_cluster *cl = ctx;
    char q[160];
    cl->refreshing = 0;
    if (cl->stopping)
        return;
    int n = SC_EPROTO;
    struct sc_slot_range *rg = NULL;
    if (!err && r->type == REDIS_REPLY_ARRAY) {
        rg = malloc((r->elements ? r->elements : 1) * sizeof *rg);
        n = rg ? sc_slots_parse(r, cl->via_host, rg, (int)r->elements) : SC_ENOMEM;
    }
    if (n >= 0)
        cl_install(cl, rg, n);
    else
        ST_LOG(SC_LOG_WARN, cl->seed, "redis_cluster_slots_failed", " error=%s",
               err ? sc_strerror(err)
               : r->type == REDIS_REPLY_ERROR ? sc_log_quote(q, sizeof q, r->str, r->len)
                                              : "\"not a slot table\"");
    free(rg);
    cl_update_ready(cl);
    if (cl->refresh_again) {
        cl->refresh_again = 0;
        cl_refresh(cl);
    }
}

/* Ask CLUSTER SLOTS (one request at a time; another is asked after it when
 * wanted meanwhile). Without a ready connection the timer asks later. */
static void cl_refresh(struct sc_cluster *cl)
{
    static const char *const argv[] = {"CLUSTER", "SLOTS"};
    if (cl->stopping)
        return;
    if (cl->refreshing) {
        cl->refresh_again = 1;
        return;
    }
    struct sc_store *via = cl->seed->ready ? cl->seed : NULL;
    for (int i = 0; !via && i < cl->nnodes; i++)
        if (cl->nodes[i].ready)
            via = cl->nodes[i].eng;
    cl->refresh_again = 1;
    if (!via)
        return;
    int rc = via == cl->seed ? sc__raw_command(via, 2, argv, NULL, on_slots, cl, 0)
                             : sc_store_command(via, 2, argv, NULL, on_slots, cl);
    if (rc == 0) {
        cl->refreshing = 1;
        cl->refresh_again = 0;
        sc_strlcpy(cl->via_host, via->u.host, sizeof cl->via_host);
    }
}

static void on_timer(uv_timer_t *t)
{
    struct sc_cluster *cl = t->data;
    if (!cl->ready || cl->refresh_again)
        cl_refresh(cl);
}

/* ---- commands ----------------------------------------------------------- */

static struct cl_cmd *cmd_get(struct sc_cluster *cl)
{
    struct cl_cmd *c = TAILQ_FIRST(&cl->free_cmds);
    if (c) {
        TAILQ_REMOVE(&cl->free_cmds, c, link);
    } else if ((c = calloc(1, sizeof *c)) != NULL) {
        c->cl = cl;
    }
    return c;
}

static void cmd_put(struct cl_cmd *c)
{
    c->cb = NULL;
    c->ctx = NULL;
    if (c->cap > ST_KEEP_BUF_MAX) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    }
    TAILQ_INSERT_HEAD(&c->cl->free_cmds, c, link);
}

/* Copy n1 strings of v1 then n2 of v2 into c (one buffer, pointers into it). */
static int cmd_copy(struct cl_cmd *c, int n1, const char *const *v1, const size_t *l1, int n2,
                    const char *const *v2, const size_t *l2)
{
    int n = n1 + n2;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += (i < n1 ? sc__arg_len(v1, l1, i) : sc__arg_len(v2, l2, i - n1)) + 1;
    if (n > c->vcap) {
        const char **nv = realloc(c->v, (size_t)n * sizeof *nv);
        if (!nv)
            return SC_ENOMEM;
        c->v = nv;
        size_t *nl = realloc(c->lens, (size_t)n * sizeof *nl);
        if (!nl)
            return SC_ENOMEM;
        c->lens = nl;
        c->vcap = n;
    }
    if (sc__reserve(&c->buf, &c->cap, total + 1) < 0)
        return SC_ENOMEM;
    char *p = c->buf;
    for (int i = 0; i < n; i++) {
        const char *src = i < n1 ? v1[i] : v2[i - n1];
        size_t l = i < n1 ? sc__arg_len(v1, l1, i) : sc__arg_len(v2, l2, i - n1);
        memcpy(p, src, l);
        p[l] = '\0';
        c->v[i] = p;
        c->lens[i] = l;
        p += l + 1;
    }
    return 0;
}

/* The node for slot (or, slot < 0, any ready owner): index or -1. */
static int route(struct sc_cluster *cl, int slot)
{
    if (slot >= 0)
        return cl->owner[slot] ? cl->owner[slot] - 1 : -1;
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].nslots && cl->nodes[i].ready)
            return i;
    return -1;
}

static void on_cmd_reply(void *ctx, int err, struct redisReply *r);

static void on_asking(void *ctx, int err, struct redisReply *r)
{
    (void)ctx;
    (void)err;
    (void)r;
}

/* Send c to node k: 0 or SC_EAGAIN / SC_EBUSY / SC_ENOMEM. */
static int cmd_send(struct cl_cmd *c, int k)
{
    struct sc_cluster *cl = c->cl;
    if (k < 0 || !cl->nodes[k].ready)
        return SC_EAGAIN;
    struct sc_store *e = cl->nodes[k].eng;
    c->node = k;
    if (c->ask) {
        static const char *const asking[] = {"ASKING"};
        int rc = sc_store_command(e, 1, asking, NULL, on_asking, NULL);
        if (rc < 0)
            return rc;
    }
    if (c->script >= 0)
        return sc_store_eval(e, c->script, c->nkeys, c->v, c->lens, c->nargs, c->v + c->nkeys,
                             c->lens + c->nkeys, on_cmd_reply, c);
    return c->wait ? sc_store_write(e, c->nargs, c->v, c->lens, on_cmd_reply, c)
                   : sc_store_command(e, c->nargs, c->v, c->lens, on_cmd_reply, c);
}

static void deliver(struct cl_cmd *c, int err, struct redisReply *r)
{
    sc_store_cb cb = c->cb;
    void *ctx = c->ctx;
    cmd_put(c);
    cb(ctx, err, r);
}

/* A redirect: MOVED changes the map entry now (the refresh confirms it);
 * both resend. 0 when resent. */
static int redirect(struct cl_cmd *c, const struct sc_redirect *rd, enum sc_route_action a,
                    const char *from)
{
    struct sc_cluster *cl = c->cl;
    int k = node_find(cl, rd->host[0] ? rd->host : from, rd->port);
    c->redirects++;
    c->ask = a == SC_ROUTE_ASK;
    if (a == SC_ROUTE_MOVED) {
        if (k >= 0 && cl->owner[rd->slot] != k + 1) {
            if (cl->owner[rd->slot])
                cl->nodes[cl->owner[rd->slot] - 1].nslots--;
            else
                cl->covered++;
            cl->owner[rd->slot] = (uint8_t)(k + 1);
            cl->nodes[k].nslots++;
        }
        cl_refresh(cl);
    }
    /* Rare (a migration, a failover): worth a line at info. */
    ST_LOG(SC_LOG_INFO, cl->seed, "redis_cluster_redirect", " kind=%s slot=%u to=%s:%d",
           a == SC_ROUTE_ASK ? "ask" : "moved", rd->slot, rd->host[0] ? rd->host : from, rd->port);
    return cmd_send(c, k);
}

static void on_cmd_reply(void *ctx, int err, struct redisReply *r)
{
    struct cl_cmd *c = ctx;
    struct sc_cluster *cl = c->cl;
    if (err) {
        cl_refresh(cl);
        deliver(c, err, NULL);
        return;
    }
    struct sc_redirect rd;
    enum sc_redirect_kind kind =
        r->type == REDIS_REPLY_ERROR ? sc_redirect_parse(r->str, r->len, &rd) : SC_REDIR_NONE;
    enum sc_route_action a = sc_route_decide(kind, c->redirects);
    if (a == SC_ROUTE_DELIVER) {
        deliver(c, 0, r);
        return;
    }
    if (a != SC_ROUTE_TEMP) {
        /* An empty endpoint is the node that answered. */
        if (redirect(c, &rd, a, cl->nodes[c->node].host) == 0)
            return;
    } else {
        char q[96];
        ST_LOG(SC_LOG_WARN, cl->seed, "redis_cluster_unavailable", " error=%s redirects=%d",
               sc_log_quote(q, sizeof q, r->str, r->len), c->redirects);
        cl_refresh(cl);
    }
    deliver(c, SC_EAGAIN, NULL);
}

static int dispatch(struct sc_cluster *cl, struct cl_cmd *c, int slot)
{
    int k = route(cl, slot);
    int rc = k < 0 ? SC_EAGAIN : cmd_send(c, k);
    if (rc < 0) {
        if (rc == SC_EAGAIN)
            cl_refresh(cl);
        cmd_put(c);
    }
    return rc;
}

int sc__cluster_eval(struct sc_cluster *cl, int script, int nkeys, const char *const *keys,
                     const size_t *keylens, int nargs, const char *const *args,
                     const size_t *arglens, sc_store_cb cb, void *ctx)
{
    if (!cl->ready)
        return SC_EAGAIN;
    if (sc__bulks_size(nkeys, keys, keylens) == SIZE_MAX ||
        sc__bulks_size(nargs, args, arglens) == SIZE_MAX || nkeys > INT_MAX / 2 - nargs)
        return SC_EINVAL;
    struct cl_cmd *c = cmd_get(cl);
    if (!c)
        return SC_ENOMEM;
    if (cmd_copy(c, nkeys, keys, keylens, nargs, args, arglens) < 0) {
        cmd_put(c);
        return SC_ENOMEM;
    }
    c->script = script;
    c->nkeys = nkeys;
    c->nargs = nargs;
    c->redirects = c->ask = 0;
    c->cb = cb;
    c->ctx = ctx;
    return dispatch(cl, c, nkeys ? (int)sc_key_slot(c->v[0], c->lens[0]) : -1);
}

int sc__cluster_command(struct sc_cluster *cl, int argc, const char *const *argv,
                        const size_t *argvlen, sc_store_cb cb, void *ctx, int wait)
{
    if (!cl->ready)
        return SC_EAGAIN;
    if (sc__bulks_size(argc, argv, argvlen) == SIZE_MAX)
        return SC_EINVAL;
    struct cl_cmd *c = cmd_get(cl);
    if (!c)
        return SC_ENOMEM;
    if (cmd_copy(c, argc, argv, argvlen, 0, NULL, NULL) < 0) {
        cmd_put(c);
        return SC_ENOMEM;
    }
    c->script = -1;
    c->wait = wait;
    c->nkeys = 0;
    c->nargs = argc;
    c->redirects = c->ask = 0;
    c->cb = cb;
    c->ctx = ctx;
    int ki = sc_cmd_key_index(argc, c->v, c->lens);
    return dispatch(cl, c, ki >= 0 ? (int)sc_key_slot(c->v[ki], c->lens[ki]) : -1);
}

/* ---- life cycle ------------------------------------------------------- */

void sc__pick_seed(struct sc_store *st)
{
    const struct sc_redis_seed *sd = &st->u.seeds[st->next_seed++ % (unsigned)st->u.nseeds];
    unsigned char buf[sizeof(struct in6_addr)];
    sc_strlcpy(st->u.host, sd->host, sizeof st->u.host);
    st->u.port = sd->port;
    st->host_numeric = uv_inet_pton(AF_INET, st->u.host, buf) == 0 ||
                       uv_inet_pton(AF_INET6, st->u.host, buf) == 0;
}

static void on_seed_state(void *arg, int ready)
{
    struct sc_cluster *cl = arg;
    if (!ready) /* the seed is only the map's connection: refresh via a node */
        cl_refresh(cl);
}

void sc__cluster_seed_ready(struct sc_store *st)
{
    struct sc_cluster *cl = st->cl;
    if (!cl) {
        cl = calloc(1, sizeof *cl);
        if (!cl) {
            ST_LOG(SC_LOG_ERROR, st, "redis_cluster_failed", " error=\"%s\"", "out of memory");
            return;
        }
        cl->seed = st;
        TAILQ_INIT(&cl->free_cmds);
        cl->user_on_state = st->on_state;
        cl->user_arg = st->state_arg;
        st->on_state = on_seed_state;
        st->state_arg = cl;
        uv_timer_init(st->loop, &cl->timer);
        cl->timer.data = cl;
        uv_timer_start(&cl->timer, on_timer, CL_REFRESH_MS, CL_REFRESH_MS);
        st->cl = cl;
        ST_LOG(SC_LOG_INFO, st, "redis_cluster_detected", " seeds=%d", st->u.nseeds);
    }
    cl_refresh(cl);
}

int sc__cluster_ready(const struct sc_cluster *cl) { return cl->ready; }

const struct sc_store_server *sc__cluster_server(struct sc_cluster *cl)
{
    cl->srv = cl->seed->srv;
    cl->srv.run_id[0] = '\0';
    cl->srv.keys = -1;
    return &cl->srv;
}

unsigned sc__cluster_pending(const struct sc_cluster *cl)
{
    unsigned n = cl->seed->npending;
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].eng)
            n += sc_store_pending(cl->nodes[i].eng);
    return n;
}

void sc__cluster_set_max_pending(struct sc_cluster *cl, unsigned max_pending)
{
    for (int i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i].eng)
            sc_store_set_max_pending(cl->nodes[i].eng, max_pending);
}

static void stop_step(struct sc_cluster *cl)
{
    if (--cl->stop_left)
        return;
    if (cl->ready && cl->user_on_state) {
        cl->ready = 0;
        cl->user_on_state(cl->user_arg, 0);
    }
    cl->ready = 0;
    if (cl->done)
        cl->done(cl->done_arg);
}

static void on_engine_stopped(void *arg) { stop_step(arg); }

static void on_timer_closed(uv_handle_t *h) { stop_step(h->data); }

int sc__cluster_stop(struct sc_cluster *cl, void (*done)(void *arg), void *arg)
{
    if (cl->stopping)
        return 0;
    cl->stopping = 1;
    cl->done = done;
    cl->done_arg = arg;
    cl->stop_left = 2 + (unsigned)cl->nnodes; /* the timer, the seed, each node */
    uv_close((uv_handle_t *)&cl->timer, on_timer_closed);
    for (int i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].retiring)
            continue; /* on_retired counts it */
        if (cl->nodes[i].eng)
            sc_store_stop(cl->nodes[i].eng, on_engine_stopped, cl);
        else
            cl->stop_left--;
    }
    sc_store_stop(cl->seed, on_engine_stopped, cl);
    return 1;
}

void sc__cluster_free(struct sc_cluster *cl)
{
    for (int i = 0; i < cl->nnodes; i++)
        sc_store_free(cl->nodes[i].eng);
    struct cl_cmd *c;
    while ((c = TAILQ_FIRST(&cl->free_cmds)) != NULL) {
        TAILQ_REMOVE(&cl->free_cmds, c, link);
        free(c->v);
        free(c->lens);
        free(c->buf);
        free(c);
    }
    free(cl);
}
