/* lease.c -- session leases for binds with account_sessions (core/lease.h):
 * take a free slot before a link binds, renew it every ttl/3, unbind
 * before it could expire, delete it at shutdown.
 *
 * One timer ticks every min(poll_ms, ttl/10) and looks at every gated
 * link: a held lease is renewed when due, given up (the link unbinds,
 * closed by close_by) when no renewal came by unbind_at; a link without
 * one tries to take one every poll_ms (jittered), one take in flight at a
 * time so that two links of this daemon never race for one slot. */
#include "core/lease.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/sc.h"
#include "core/app.h"
#include "store/keys.h"

#define KEY_LEN 320           /* lease:{SYSTEM_ID@HOST:PORT}:N, host <= 255 */
#define TICK_MIN_MS 50

/* KEYS: the candidate slots in order; ARGV: owner, ttl, need (1, or 2 for
 * a receiver+transmitter pair: both or none). Slots still ours (a take
 * whose reply was lost) come first, then free ones; all are set with the
 * ttl. Returns their indexes in KEYS, or an empty array (nothing set). */
const char sc__lease_take_lua[] =
    "local need, got = tonumber(ARGV[3]), {}\n"
    "for i, k in ipairs(KEYS) do\n"
    "  if #got < need and redis.call('GET', k) == ARGV[1] then got[#got + 1] = i end\n"
    "end\n"
    "for i, k in ipairs(KEYS) do\n"
    "  if #got < need and redis.call('EXISTS', k) == 0 then got[#got + 1] = i end\n"
    "end\n"
    "if #got < need then return {} end\n"
    "for j, i in ipairs(got) do\n"
    "  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) got[j] = i - 1\n"
    "end\n"
    "return got\n";
/* Compare-and-pexpire: 1 renewed, 0 not ours (expired or taken). */
const char sc__lease_renew_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "return 0\n";
/* Compare-and-delete. */
const char sc__lease_release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

static struct sc_metric g_held = {
    .name = "shortcoded_smpp_leases_held", .type = SC_METRIC_GAUGE,
    .help = "Session leases (binds.account_sessions) this daemon holds now."};
static struct sc_metric g_lost = {
    .name = "shortcoded_smpp_leases_lost_total", .type = SC_METRIC_COUNTER,
    .help = "Session leases given up because no renewal succeeded in time or the lease was "
            "no longer ours (the link unbound)."};

struct acct {
    const char *system_id, *host;
    int port;
    unsigned n;               /* slots (the smallest account_sessions of its binds) */
    uint64_t held;            /* bit i: slot i is held by one of our links */
};

struct llink {
    struct acct *ac;
    struct llink *peer;       /* the other link of a receiver+transmitter bind:
                               * both are taken and lost together */
    int second;               /* the pair's transmitter: taken with its peer */
    unsigned link;            /* esme link index */
    int slot;                 /* -1: none */
    uint32_t gen;             /* bumped when slot changes: late replies are ignored */
    struct sc_lease_times t;
    uint64_t use_from;
    uint64_t next_try;
    int renewing;
    int permitted;
};

struct sc_leases {
    struct sc_app *a;
    uv_loop_t *loop;
    struct sc_store *st;
    struct sc_esme *e;
    int take_script, renew_script, release_script;
    char owner[SC_LEASE_OWNER_MAX];
    char ttl_arg[16];
    uint64_t ttl, poll, tick;
    struct acct *accts;
    unsigned nacct;
    struct llink *links;
    unsigned nlinks;
    int taking;
    uv_timer_t timer;
    char run_id[41];
    int trusted;
    uint64_t trusted_since;
    uint64_t rng;
    int stopping;
    unsigned releasing;
    void (*done)(void *);
    void *done_arg;
    struct sc_gauge *held_g;
    struct sc_counter *lost_c;
};

/* One command's context: which link, which lease generation, when sent. */
struct req {
    struct sc_leases *ls;
    struct llink *l;
    uint32_t gen;
    uint64_t sent;
    unsigned cand[64], ncand;
};

/* ---- pure parts ---------------------------------------------------------- */

int sc_lease_owner(char *out, size_t outsz, const char *host, long pid, uint64_t rnd)
{
    char h[65];
    size_t i = 0;
    for (; host && host[i] && i < sizeof h - 1; i++) {
        char c = host[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-';
        h[i] = ok ? c : '_';
    }
    h[i] = '\0';
    int n = snprintf(out, outsz, "%s:%ld:%016llx", i ? h : "host", pid, (unsigned long long)rnd);
    return n < 0 || (size_t)n >= outsz ? SC_ERANGE : n;
}

unsigned sc_lease_candidates(unsigned n, uint64_t held, unsigned *out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && i < 64; i++)
        if (!(held >> i & 1))
            out[k++] = i;
    return k;
}

struct sc_lease_times sc_lease_times(uint64_t sent_ms, uint64_t ttl_ms)
{
    return (struct sc_lease_times){
        .renew_at = sent_ms + ttl_ms / 3,
        .unbind_at = sent_ms + ttl_ms * 3 / 4,
        .close_by = sent_ms + ttl_ms * 9 / 10,
    };
}

uint64_t sc_lease_use_from(uint64_t now, uint64_t trusted_since, uint64_t ttl_ms)
{
    uint64_t t = trusted_since + ttl_ms;
    return t > now ? t : now;
}

/* ---- running ------------------------------------------------------------- */

static void lease_key(char *buf, const struct acct *ac, unsigned slot)
{
    snprintf(buf, KEY_LEN, SC_KEY_LEASE, ac->system_id, ac->host, ac->port, slot);
}

static const char *link_name(const struct sc_leases *ls, const struct llink *l)
{
    return sc_esme_link_name(ls->e, l->link);
}

static void on_release(void *ctx, int err, redisReply *r);

/* Give up l's lease (the link unbinds, closed by close_by), and its
 * peer's: half a receiver+transmitter pair cannot answer an MO. */
static void lose(struct sc_leases *ls, struct llink *l, uint64_t now, const char *why)
{
    if (l->peer && l->peer->slot >= 0) {
        struct llink *p = l->peer;
        uint64_t close_in = p->t.close_by > now ? p->t.close_by - now : 0;
        sc_warn("event=lease_lost bind=%s reason=peer_lost close_in_ms=%llu", link_name(ls, p),
                (unsigned long long)close_in);
        if (p->permitted)
            sc_esme_permit(ls->e, p->link, 0, close_in);
        p->permitted = 0;
        p->next_try = now + ls->poll;
        sc_counter_inc(ls->lost_c);
        /* Not deleted: its session may be open until close_by; the key
         * expires after that, unrenewed (a delete now could let another
         * daemon bind while it is still open). */
        p->ac->held &= ~((uint64_t)1 << p->slot);
        p->slot = -1;
        p->gen++;
        sc_gauge_add(ls->held_g, -1);
    }
    char key[KEY_LEN];
    lease_key(key, l->ac, (unsigned)l->slot);
    uint64_t close_in = l->t.close_by > now ? l->t.close_by - now : 0;
    sc_warn("event=lease_lost bind=%s key=%s reason=%s close_in_ms=%llu", link_name(ls, l), key,
            why, (unsigned long long)close_in);
    l->ac->held &= ~((uint64_t)1 << l->slot);
    l->slot = -1;
    l->gen++;
    l->next_try = now + ls->poll;
    sc_gauge_add(ls->held_g, -1);
    sc_counter_inc(ls->lost_c);
    if (l->permitted)
        sc_esme_permit(ls->e, l->link, 0, close_in);
    l->permitted = 0;
}

static void maybe_permit(struct sc_leases *ls, struct llink *l, uint64_t now)
{
    if (l->slot >= 0 && !l->permitted && now >= l->use_from && !ls->stopping) {
        l->permitted = 1;
        sc_esme_permit(ls->e, l->link, 1, 0);
    }
}

static void release_all(struct sc_leases *ls);

static long long reply_int(int err, const redisReply *r, int *ok)
{
    *ok = !err && r && r->type == REDIS_REPLY_INTEGER;
    return *ok ? r->integer : 0;
}

static void on_take(void *ctx, int err, redisReply *r)
{
    struct req *q = ctx;
    struct sc_leases *ls = q->ls;
    struct llink *l = q->l;
    size_t need = l->peer ? 2 : 1;
    int ok = !err && r && r->type == REDIS_REPLY_ARRAY;
    ls->taking = 0;
    uint64_t now = uv_now(ls->loop);
    for (size_t j = 0; ok && j < r->elements; j++)
        ok = r->element[j]->type == REDIS_REPLY_INTEGER && r->element[j]->integer >= 0 &&
             r->element[j]->integer < (long long)q->ncand;
    if (ok && r->elements == need && l->slot < 0 && (!l->peer || l->peer->slot < 0)) {
        for (size_t j = 0; j < need; j++) {
            struct llink *t = j ? l->peer : l;
            t->slot = (int)q->cand[r->element[j]->integer];
            t->gen++;
            t->ac->held |= (uint64_t)1 << t->slot;
            t->t = sc_lease_times(q->sent, ls->ttl);
            t->use_from = sc_lease_use_from(now, ls->trusted_since, ls->ttl);
            sc_gauge_add(ls->held_g, 1);
            char key[KEY_LEN];
            lease_key(key, t->ac, (unsigned)t->slot);
            sc_info("event=lease_taken bind=%s key=%s owner=%s bind_in_ms=%llu",
                    link_name(ls, t), key, ls->owner, (unsigned long long)(t->use_from - now));
            maybe_permit(ls, t, now);
        }
    } else {
        if (ok)
            sc_debug("event=lease_none_free bind=%s", link_name(ls, l));
        if (!ok)
            sc_warn("event=lease_take_failed bind=%s error=\"%s\"", link_name(ls, l),
                    err ? sc_strerror(err) : r && r->type == REDIS_REPLY_ERROR ? r->str : "reply");
        l->next_try = now + ls->poll / 2 + sc_xorshift64s(&ls->rng) % (ls->poll / 2 + 1);
    }
    free(q);
    if (ls->stopping)
        release_all(ls);
}

static void on_renew(void *ctx, int err, redisReply *r)
{
    struct req *q = ctx;
    struct sc_leases *ls = q->ls;
    struct llink *l = q->l;
    int ok;
    long long v = reply_int(err, r, &ok);
    uint64_t now = uv_now(ls->loop);
    l->renewing = 0;          /* one renewal in flight per link at most */
    if (l->gen == q->gen && l->slot >= 0) {
        if (ok && v == 1) {
            l->t = sc_lease_times(q->sent, ls->ttl);
        } else if (ok) {
            lose(ls, l, now, "not_ours");
        } else {
            sc_warn("event=lease_renew_failed bind=%s error=\"%s\" unbind_in_ms=%lld",
                    link_name(ls, l),
                    err ? sc_strerror(err) : r && r->type == REDIS_REPLY_ERROR ? r->str : "reply",
                    (long long)l->t.unbind_at - (long long)now);
            l->t.renew_at = now + ls->tick;   /* again at the next tick */
        }
    }
    free(q);
    if (ls->stopping)
        release_all(ls);
}

static int send_eval(struct sc_leases *ls, int script, int nkeys, char (*keys)[KEY_LEN],
                     sc_store_cb cb, struct req *q)
{
    const char *kv[64];
    for (int i = 0; i < nkeys; i++)
        kv[i] = keys[i];
    const char *need = q->l->peer ? "2" : "1";    /* take only */
    const char *args[3] = {ls->owner, ls->ttl_arg, need};
    return sc_store_eval(ls->st, script, nkeys, kv, NULL, script == ls->take_script ? 3 : 2,
                         args, NULL, cb, q);
}

static void take(struct sc_leases *ls, struct llink *l, uint64_t now)
{
    struct req *q = calloc(1, sizeof *q);
    char (*keys)[KEY_LEN] = malloc(64 * KEY_LEN);
    unsigned n = q ? sc_lease_candidates(l->ac->n, l->ac->held, q->cand) : 0;
    l->next_try = now + ls->poll;
    if (!q || !keys || n < (l->peer ? 2u : 1u)) {
        free(q);
        free(keys);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        lease_key(keys[i], l->ac, q->cand[i]);
    q->ls = ls;
    q->l = l;
    q->sent = now;
    q->ncand = n;
    if (send_eval(ls, ls->take_script, (int)n, keys, on_take, q) == 0)
        ls->taking = 1;
    else
        free(q);
    free(keys);
}

static void renew(struct sc_leases *ls, struct llink *l, uint64_t now)
{
    struct req *q = calloc(1, sizeof *q);
    char key[1][KEY_LEN];
    if (!q)
        return;
    lease_key(key[0], l->ac, (unsigned)l->slot);
    *q = (struct req){.ls = ls, .l = l, .gen = l->gen, .sent = now};
    if (send_eval(ls, ls->renew_script, 1, key, on_renew, q) == 0) {
        l->renewing = 1;
    } else {
        free(q);
        l->t.renew_at = now + ls->tick;
    }
}

static void on_tick(uv_timer_t *t)
{
    struct sc_leases *ls = t->data;
    uint64_t now = uv_now(ls->loop);
    if (!ls->e || ls->stopping)
        return;
    for (unsigned i = 0; i < ls->nlinks; i++) {
        struct llink *l = &ls->links[i];
        if (l->slot >= 0) {
            if (now >= l->t.unbind_at) {
                lose(ls, l, now, "not_renewed");
                continue;
            }
            if (!l->renewing && now >= l->t.renew_at)
                renew(ls, l, now);
            maybe_permit(ls, l, now);
        } else if (!l->second && !ls->taking && ls->trusted && now >= l->next_try &&
                   !sc_esme_link_busy(ls->e, l->link) &&
                   !(l->peer && (l->peer->slot >= 0 || sc_esme_link_busy(ls->e, l->peer->link))) &&
                   sc_store_connected(ls->st)) {
            take(ls, l, now);
        }
    }
}

static void on_store_state(void *arg, int ready)
{
    struct sc_leases *ls = arg;
    if (!ready)
        return;
    const char *run_id = sc_store_server(ls->st)->run_id;
    if (ls->trusted && run_id[0] && strcmp(run_id, ls->run_id) == 0)
        return;
    /* A first connect, or another server (restarted, failed over): slots it
     * gives may still be in use by daemons that had them from the old one. */
    ls->trusted = 1;
    ls->trusted_since = uv_now(ls->loop);
    sc_strlcpy(ls->run_id, run_id, sizeof ls->run_id);
    sc_info("event=lease_server run_id=%s binds_from_ms=%llu", SC_LOGV(run_id),
            (unsigned long long)ls->ttl);
}

/* ---- life ---------------------------------------------------------------- */

/* Accounts and links from the boot config's binds, in the esme's link
 * order (smsc/esme.h). Returns 0 or SC_ENOMEM. */
static int build(struct sc_leases *ls, const struct sc_config *c)
{
    for (size_t i = 0; i < c->nbinds; i++)
        ls->nlinks += c->binds[i].mode == SC_BIND_RX_TX ? 2 : 1;
    ls->links = calloc(ls->nlinks ? ls->nlinks : 1, sizeof *ls->links);
    ls->accts = calloc(c->nbinds ? c->nbinds : 1, sizeof *ls->accts);
    if (!ls->links || !ls->accts)
        return SC_ENOMEM;
    unsigned k = 0;
    for (size_t i = 0; i < c->nbinds; i++) {
        const struct sc_cfg_bind *b = &c->binds[i];
        struct acct *ac = NULL;
        for (unsigned j = 0; b->account_sessions && j < ls->nacct && !ac; j++)
            if (strcmp(ls->accts[j].system_id, b->system_id) == 0 &&
                strcmp(ls->accts[j].host, b->host) == 0 && ls->accts[j].port == b->port)
                ac = &ls->accts[j];
        if (b->account_sessions && !ac) {
            ac = &ls->accts[ls->nacct++];
            *ac = (struct acct){b->system_id, b->host, b->port, (unsigned)b->account_sessions, 0};
        }
        if (ac && (unsigned)b->account_sessions < ac->n)
            ac->n = (unsigned)b->account_sessions;
        for (int j = 0; j <= (b->mode == SC_BIND_RX_TX); j++, k++)
            ls->links[k] = (struct llink){.ac = ac, .link = k, .slot = -1, .second = j};
        if (b->mode == SC_BIND_RX_TX) {
            ls->links[k - 2].peer = &ls->links[k - 1];
            ls->links[k - 1].peer = &ls->links[k - 2];
        }
    }
    return 0;
}

struct sc_leases *sc_leases_new(struct sc_app *a, char *err, size_t errsz)
{
    const struct sc_config *c = a->boot_cfg;
    err[0] = '\0';
    /* Exported (0) without leases too: dashboards see one set of names. */
    struct sc_gauge *held_g = sc_metric_gauge(&g_held, NULL);
    struct sc_counter *lost_c = sc_metric_counter(&g_lost, NULL);
    int any = 0;
    for (size_t i = 0; i < c->nbinds; i++)
        any |= c->binds[i].account_sessions > 0;
    if (!any)
        return NULL;
    struct sc_leases *ls = calloc(1, sizeof *ls);
    if (!ls || build(ls, c) < 0) {
        snprintf(err, errsz, "out of memory");
        sc_leases_free(ls);
        return NULL;
    }
    ls->a = a;
    ls->loop = a->loop;
    ls->ttl = (uint64_t)c->leases.ttl_ms;
    ls->poll = (uint64_t)c->leases.poll_ms;
    ls->tick = ls->poll < ls->ttl / 10 ? ls->poll : ls->ttl / 10;
    if (ls->tick < TICK_MIN_MS)
        ls->tick = TICK_MIN_MS;
    snprintf(ls->ttl_arg, sizeof ls->ttl_arg, "%llu", (unsigned long long)ls->ttl);
    uint64_t rnd = 0;
    if (uv_random(NULL, NULL, &rnd, sizeof rnd, 0, NULL) < 0)
        rnd = uv_hrtime();
    ls->rng = sc_xorshift64s_seed(rnd ^ uv_hrtime());
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    sc_lease_owner(ls->owner, sizeof ls->owner, host, (long)getpid(), rnd);
    /* Commands must end well inside a renewal period. */
    uint32_t cmd_ms = (uint32_t)c->redis.command_timeout_ms;
    if (cmd_ms > ls->ttl / 4)
        cmd_ms = (uint32_t)(ls->ttl / 4);
    struct sc_store_opts so = {
        .url = c->redis.url,
        .connect_timeout_ms = (uint32_t)c->redis.connect_timeout_ms,
        .command_timeout_ms = cmd_ms,
        .reconnect_min_ms = 100,
        .reconnect_max_ms = (uint32_t)(ls->ttl / 4),
        .max_pending = ls->nlinks * 2 + 8,
        .durability = c->redis.durability == SC_CFG_DURABILITY_WARN ? SC_DURABILITY_WARN
                                                                    : SC_DURABILITY_REFUSE,
        .name = "lease",
    };
    ls->st = sc_store_new(a->loop, &so, err, errsz);
    if (ls->st) {
        ls->take_script = sc_store_script(ls->st, "lease_take", sc__lease_take_lua);
        ls->renew_script = sc_store_script(ls->st, "lease_renew", sc__lease_renew_lua);
        ls->release_script = sc_store_script(ls->st, "lease_release", sc__lease_release_lua);
    }
    if (!ls->st || ls->take_script < 0 || ls->renew_script < 0 || ls->release_script < 0 ||
        (sc_store_on_state(ls->st, on_store_state, ls), sc_store_start(ls->st) < 0)) {
        if (!err[0])
            snprintf(err, errsz, "cannot start the lease connection");
        sc_leases_free(ls);
        return NULL;
    }
    ls->held_g = held_g;
    ls->lost_c = lost_c;
    uv_timer_init(a->loop, &ls->timer);
    ls->timer.data = ls;
    for (unsigned i = 0; i < ls->nacct; i++)
        sc_info("event=lease_account account=%s@%s:%d sessions=%u ttl_ms=%llu owner=%s",
                ls->accts[i].system_id, ls->accts[i].host, ls->accts[i].port, ls->accts[i].n,
                (unsigned long long)ls->ttl, ls->owner);
    return ls;
}

void sc_leases_attach(struct sc_leases *ls, struct sc_esme *e)
{
    if (!ls)
        return;
    if (sc_esme_nlinks(e) != ls->nlinks) {   /* cannot happen: same config */
        sc_error("event=lease_error msg=\"links do not match the binds\"");
        return;
    }
    ls->e = e;
    unsigned per[64] = {0};
    for (unsigned i = 0; i < ls->nlinks; i++)
        if (ls->links[i].ac && ls->links[i].ac - ls->accts < 64)
            per[ls->links[i].ac - ls->accts]++;
    for (unsigned i = 0; i < ls->nacct && i < 64; i++)
        if (per[i] > ls->accts[i].n)
            sc_warn("event=config_warning msg=\"%u links on %s@%s:%d, account_sessions %u: "
                    "some will never bind\"", per[i], ls->accts[i].system_id, ls->accts[i].host,
                    ls->accts[i].port, ls->accts[i].n);
    uv_timer_start(&ls->timer, on_tick, 0, ls->tick);
}

int sc_leases_standby(const struct sc_leases *ls)
{
    if (!ls || !ls->e)
        return 0;
    for (unsigned i = 0; i < ls->nlinks; i++)
        if (!ls->links[i].ac || ls->links[i].slot >= 0)
            return 0;
    return 1;
}

static void on_store_stopped(void *arg)
{
    struct sc_leases *ls = arg;
    if (ls->done)
        ls->done(ls->done_arg);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct sc_leases *ls = h->data;
    sc_store_stop(ls->st, on_store_stopped, ls);
}

/* Stopping: once nothing is in flight, close the timer, then the store. */
static void finish(struct sc_leases *ls)
{
    if (!ls->stopping || ls->releasing || ls->taking || uv_is_closing((uv_handle_t *)&ls->timer))
        return;
    for (unsigned i = 0; i < ls->nlinks; i++)
        if (ls->links[i].renewing)
            return;
    uv_close((uv_handle_t *)&ls->timer, on_timer_closed);
}

static void on_release(void *ctx, int err, redisReply *r)
{
    struct req *q = ctx;
    struct sc_leases *ls = q->ls;
    int ok;
    long long v = reply_int(err, r, &ok);
    char key[KEY_LEN];
    lease_key(key, q->l->ac, q->cand[0]);
    sc_info("event=lease_released bind=%s key=%s result=%s", link_name(ls, q->l), key,
            !ok ? "error" : v ? "deleted" : "not_ours");
    free(q);
    ls->releasing--;
    finish(ls);
}

/* Delete l's lease if still ours (compare-and-delete); l holds none
 * after. */
static void release_one(struct sc_leases *ls, struct llink *l)
{
    struct req *q = calloc(1, sizeof *q);
    char key[1][KEY_LEN];
    lease_key(key[0], l->ac, (unsigned)l->slot);
    l->ac->held &= ~((uint64_t)1 << l->slot);
    if (q) {
        *q = (struct req){.ls = ls, .l = l, .gen = l->gen};
        q->cand[0] = (unsigned)l->slot;
    }
    l->slot = -1;
    l->gen++;
    sc_gauge_add(ls->held_g, -1);
    if (q && send_eval(ls, ls->release_script, 1, key, on_release, q) == 0)
        ls->releasing++;
    else
        free(q);   /* Redis unreachable: it expires after the ttl */
}

/* Stopping: delete every lease still ours (once no take is in flight: it
 * may still bring one), then close. */
static void release_all(struct sc_leases *ls)
{
    if (ls->taking || uv_is_closing((uv_handle_t *)&ls->timer))
        return;
    for (unsigned i = 0; i < ls->nlinks; i++)
        if (ls->links[i].slot >= 0)
            release_one(ls, &ls->links[i]);
    finish(ls);
}

void sc_leases_stop(struct sc_leases *ls, void (*done)(void *), void *arg)
{
    if (!ls) {
        done(arg);
        return;
    }
    ls->stopping = 1;
    ls->done = done;
    ls->done_arg = arg;
    uv_timer_stop(&ls->timer);
    release_all(ls);
}

void sc_leases_free(struct sc_leases *ls)
{
    if (!ls)
        return;
    sc_store_free(ls->st);
    free(ls->links);
    free(ls->accts);
    free(ls);
}
