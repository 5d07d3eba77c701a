/* app.c -- the running daemon: configuration generations, store, catalogue
 * and binds started and stopped in order. */
#include "core/app.h"
#include "core/receipts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/api.h"
#include "core/callout.h"
#include "core/http.h"
#include "core/lease.h"
#include "core/longmo.h"
#include "core/metrics.h"
#include "core/orders.h"
#include "core/usage.h"
#include "core/push.h"
#include "core/relay.h"
#include "core/request.h"
#include "smsc/pdu.h"

/* The store's reconnect backoff: doubles from min to max, jittered. */
#define REDIS_RECONNECT_MIN_MS 100
#define REDIS_RECONNECT_MAX_MS 5000

struct sc_gen *sc__gen_new(struct sc_config *cfg, int owns_cfg, char *err, size_t errsz)
{
    struct sc_gen *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    g->router = sc_router_new(cfg, err, errsz);
    if (!g->router) {
        free(g);
        return NULL;
    }
    g->cfg = cfg;
    g->owns_cfg = owns_cfg;
    g->refs = 1;
    return g;
}

/* A config warning (sc_router_lint) as a log line. */
static void log_config_warning(void *arg, const char *msg)
{
    char q[600];
    sc_warn("event=config_warning msg=%s", sc_log_quote(q, sizeof q, msg, strlen(msg)));
}

void sc__gen_unref(struct sc_gen *g)
{
    if (!g || --g->refs)
        return;
    sc_router_free(g->router);
    if (g->owns_cfg)
        sc_config_free(g->cfg);
    free(g);
}

static int register_scripts(struct sc_app *a, char *err, size_t errsz)
{
    size_t n = 0;
    while (sc_handlers[n])
        n++;
    a->script_ids = calloc(n ? n : 1, sizeof *a->script_ids);
    if (!a->script_ids)
        return SC_ENOMEM;
    for (size_t i = 0; i <= n; i++) {
        const char *body = i < n ? sc_handlers[i]->script : NULL;
        if (i < n && !body) {
            a->script_ids[i] = -1;
            continue;
        }
        char *lua = sc__req_script(i < n ? sc_handlers[i]->script_lib : NULL, body);
        int id = lua ? sc_store_script(a->store, i < n ? sc_handlers[i]->name : "rate", lua)
                     : SC_ENOMEM;
        free(lua);
        if (id < 0) {
            snprintf(err, errsz, "cannot register scripts: %s", sc_strerror(id));
            return id;
        }
        if (i < n)
            a->script_ids[i] = id;
        else
            a->rate_script = id;
    }
    /* The request layer's own, run without the prelude: parts are not
     * commands (the completed message is rate-limited as one). */
    a->longmo_script = sc_store_script(a->store, "longmo_part", sc__longmo_part_lua);
    a->longmo_done_script = sc_store_script(a->store, "longmo_done", sc__longmo_done_lua);
    int rrc = sc__receipts_register(a);
    if (a->longmo_script < 0 || a->longmo_done_script < 0 || rrc < 0) {
        int rc = a->longmo_script < 0        ? a->longmo_script
                 : a->longmo_done_script < 0 ? a->longmo_done_script
                                             : rrc;
        snprintf(err, errsz, "cannot register scripts: %s", sc_strerror(rc));
        return rc;
    }
    return 0;
}

/* What the esme may change while running, from the current configuration. */
static struct sc_esme_live esme_live(const struct sc_config *c)
{
    return (struct sc_esme_live){
        .mo_error_status = c->limits.mo_error_status,
        .dc0 = (enum sc_dc0)c->smpp.dc0,
        .seg_mode = (enum sc_seg_mode)c->smpp.seg_mode,
        .max_parts = (unsigned)c->smpp.max_parts,
        .max_inflight = (unsigned)c->limits.max_inflight,
    };
}

/* Commands the store may have in flight: one per MO in flight, and room for
 * the catalogue and rate scripts. */
static unsigned store_max_pending(const struct sc_config *c)
{
    return (unsigned)c->limits.max_inflight + 1000;
}

/* A configured bind as the esme takes it (strings borrowed from b). */
static struct sc_esme_bind esme_bind(const struct sc_cfg_bind *b)
{
    return (struct sc_esme_bind){
        .name = b->name,
        .host = b->host,
        .port = b->port,
        .system_id = b->system_id,
        .password = b->password,
        .system_type = b->system_type,
        .rx_tx = b->mode == SC_BIND_RX_TX,
        .window = b->window,
        .tps = b->tps,
        .enquire_link_s = b->enquire_link_s,
        .response_timeout_ms = b->response_timeout_ms,
        .bind_timeout_ms = b->bind_timeout_ms,
        .submit_retries = b->submit_retries,
        .throttle_pause_ms = b->throttle_pause_ms,
        .reconnect_min_ms = b->reconnect_min_ms,
        .reconnect_max_ms = b->reconnect_max_ms,
        .gated = b->account_sessions > 0,   /* binds under a lease (core/lease.c) */
    };
}

/* Create the esme (binds connect from here on). Returns 0 or SC_ENOMEM. */
static int start_binds(struct sc_app *a)
{
    static const struct sc_esme_cbs cbs = {.on_mo = sc__app_on_mo,
                                             .on_receipt = sc__app_on_receipt};
    /* Binds and PDU size from the boot config (they need a restart); the
     * rest from the current one. The esme copies binds[]; its strings stay
     * in the boot config, which lives as long as the app. */
    const struct sc_config *boot = a->boot_cfg;
    struct sc_esme_bind *binds = calloc(boot->nbinds ? boot->nbinds : 1, sizeof *binds);
    if (!binds)
        return SC_ENOMEM;
    for (size_t i = 0; i < boot->nbinds; i++)
        binds[i] = esme_bind(&boot->binds[i]);
    struct sc_esme_opts o = {
        .binds = binds,
        .nbinds = boot->nbinds,
        .max_pdu_len = boot->smpp.max_pdu_len,
        .live = esme_live(a->gen->cfg),
    };
    a->esme = sc_esme_new(a->loop, &o, &cbs, a);
    free(binds);
    if (a->esme)
        sc_leases_attach(a->leases, a->esme);
    return a->esme ? 0 : SC_ENOMEM;
}

/* Start-up failed after sc_app_start returned: stop from a fresh loop turn
 * (not inside the store's and the catalogue's own callbacks), then the
 * caller's failed hook ends its loop. */
static void on_start_failed(uv_timer_t *t)
{
    struct sc_app *a = t->data;
    uv_close((uv_handle_t *)t, NULL);
    sc_app_stop(a, a->failed, a->failed_arg);
}

/* The binds start only once Redis answered and the catalogue was read (or
 * failed to be): until then the daemon could answer nothing but temporary
 * errors, and an SMSC does better sending MOs to another instance. */
static void on_catalogue_loaded(void *arg, int ok)
{
    struct sc_app *a = arg;
    if (a->esme || a->stopping || a->start_failed)
        return;
    int rc = start_binds(a);
    if (rc == 0)
        return;
    sc_error("event=startup_failed error=\"cannot start the binds: %s\" action=stopping",
             sc_strerror(rc));
    a->start_failed = 1;
    uv_timer_init(a->loop, &a->fail_timer);
    a->fail_timer.data = a;
    uv_timer_start(&a->fail_timer, on_start_failed, 0, 0);
}

static void on_store_state(void *arg, int ready)
{
    struct sc_app *a = arg;
    sc__metrics_redis_up(ready);
    if (ready)
        sc__relay_metrics(); /* the relay's series: 0 but on a cluster */
    if (ready)
        sc_catalogue_connected(a->cat);
}

int sc_app_start(struct sc_app *a, uv_loop_t *loop, const char *path, struct sc_config *cfg,
                 void (*failed)(void *), void *failed_arg, char *err, size_t errsz)
{
    int cli_level = a->cli_log_level;
    memset(a, 0, sizeof *a);
    a->cli_log_level = cli_level;
    a->failed = failed;
    a->failed_arg = failed_arg;
    a->loop = loop;
    a->config_path = path;
    a->boot_cfg = cfg;
    a->gen = sc__gen_new(cfg, 0, err, errsz);
    sc__relay_set_dedup(cfg->limits.relay_dedup_s);
    if (!a->gen)
        return SC_ECONFIG;
    sc_router_lint(a->gen->router, log_config_warning, NULL);
    sc__metrics_start(a);
    struct sc_store_opts so = {
        .url = cfg->redis.url,
        .connect_timeout_ms = (uint32_t)cfg->redis.connect_timeout_ms,
        .command_timeout_ms = (uint32_t)cfg->redis.command_timeout_ms,
        .reconnect_min_ms = REDIS_RECONNECT_MIN_MS,
        .reconnect_max_ms = REDIS_RECONNECT_MAX_MS,
        .max_pending = store_max_pending(cfg),
        .durability = cfg->redis.durability == SC_CFG_DURABILITY_WARN ? SC_DURABILITY_WARN
                                                                      : SC_DURABILITY_REFUSE,
        .latency = sc__metrics_redis_latency(),
        .wait_replicas = (unsigned)cfg->redis.wait_replicas,
        .wait_timeout_ms = (uint32_t)cfg->redis.wait_timeout_ms,
    };
    a->store = sc_store_new(loop, &so, err, errsz);
    if (!a->store)
        return SC_ECONFIG;
    int rc = register_scripts(a, err, errsz);
    if (rc < 0)
        return rc;
    a->orders = sc_orders_new(a, err, errsz); /* the vas:orders stream, order expiry */
    if (!a->orders)
        return SC_ENOMEM;
    a->pushes = sc_pushes_new(a, err, errsz); /* mt:push, on connections of its own */
    if (!a->pushes && err[0])
        return SC_ECONFIG;
    a->usage = sc_usage_new(a, err, errsz); /* usage:in, on connections of its own */
    if (!a->usage && err[0])
        return SC_ECONFIG;
    a->callout = sc_callout_new(loop); /* the http handler's client (core/callout.h) */
    if (!a->callout) {
        snprintf(err, errsz, "cannot start the HTTP client (libcurl)");
        return SC_ENOMEM;
    }
    a->leases = sc_leases_new(a, err, errsz); /* binds.account_sessions, own connection */
    if (!a->leases && err[0])
        return SC_ECONFIG;
    a->cat = sc_catalogue_new(loop, a->store, (unsigned)cfg->redis.catalogue_refresh_s,
                              (unsigned)cfg->redis.dataset_check_ms, on_catalogue_loaded, a);
    if (!a->cat) {
        snprintf(err, errsz, "out of memory");
        return SC_ENOMEM;
    }
    sc_store_on_state(a->store, on_store_state, a);
    rc = sc_store_start(a->store);
    if (rc < 0) {
        snprintf(err, errsz, "cannot start the store: %s", sc_strerror(rc));
        return rc;
    }
    rc = sc_api_start(a, err, errsz); /* HTTP, when http.listen is set */
    if (rc < 0)
        return rc;
    sc_info("event=waiting_for_redis msg=\"binds start once Redis is ready\"");
    return 0;
}

/* ---- reload ------------------------------------------------------------ */

/* Keys SIGHUP applies: read per MO from the current generation, or pushed
 * to the esme and the store below. Every other key is fixed for the run
 * (binds, redis, smpp.max_pdu_len, the retired smpp.reasm_max_pending and
 * reasm_max_bytes): a change is logged, key by key, as needing a restart. A key matches an entry equal to it or
 * extended by "." or "[". */
static const char *const live_keys[] = {
    "log.level", "limits", "routes", "templates", "service_numbers", "msisdn_prefixes",
    "smpp.dc0", "smpp.seg_mode", "smpp.max_parts", "smpp.source_ton", "smpp.source_npi",
    "smpp.source_addr", "smpp.reasm_timeout_ms", "smpp.reasm_max_per_source",
    "mt.block_ms", "mt.read_count", "mt.claim_idle_ms", "mt.max_queued", "mt.dedup_horizon_s",
    "mt.default_priority", "mt.receipts", "mt.receipt_ttl_s", "mt.quiet_hours", "mt.time_zone",
    "mt.test_clock", "http.token", "http.sendsms_users",
    "mt.receipt_park_s", "mt.status_maxlen", "mt.order_priority", "mt.order_quiet",
};

static int key_is_live(const char *key)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(live_keys); i++) {
        size_t n = strlen(live_keys[i]);
        if (strncmp(key, live_keys[i], n) == 0 && (!key[n] || key[n] == '.' || key[n] == '['))
            return 1;
    }
    return 0;
}

struct reload_report {
    const struct sc_app *a;
    int live;                     /* report the live keys (1) or the others (0) */
    size_t n;                     /* keys reported */
};

static void on_changed_key(void *arg, const char *key, const char *oldv, const char *newv)
{
    struct reload_report *r = arg;
    int live = key_is_live(key);
    if (live != r->live)
        return;
    r->n++;
    char vals[600];
    if (oldv)
        snprintf(vals, sizeof vals, "old=%s new=%s", oldv, newv);
    else
        snprintf(vals, sizeof vals, "value=changed");   /* a secret: never shown */
    if (!live)
        sc_warn("event=reload_needs_restart key=%s %s", key, vals);
    else if (strcmp(key, "log.level") == 0 && r->a->cli_log_level >= 0)
        sc_warn("event=reload_not_applied key=%s %s reason=\"--log-level given on the command "
                "line\"", key, vals);
    else
        sc_info("event=reload_applied key=%s %s", key, vals);
}

void sc_app_reload(struct sc_app *a)
{
    char err[512];
    struct sc_config *c = sc_config_load(a->config_path, err, sizeof err);
    struct sc_gen *g = c ? sc__gen_new(c, 1, err, sizeof err) : NULL;
    if (!g) {
        sc_config_free(c);
        sc_error("event=reload_failed error=\"%s\" action=\"kept the running configuration\"", err);
        return;
    }
    /* What is not applied is compared with what runs: the boot config. */
    struct reload_report live = {a, 1, 0}, fixed = {a, 0, 0};
    sc_config_diff(a->gen->cfg, c, on_changed_key, &live);
    sc_config_diff(a->boot_cfg, c, on_changed_key, &fixed);
    sc__gen_unref(a->gen);
    a->gen = g;
    if (a->cli_log_level < 0)
        sc_log_set_level((enum sc_log_level)c->log_level);
    if (a->esme) {
        struct sc_esme_live l = esme_live(c);
        sc_esme_set_live(a->esme, &l);
    }
    sc_store_set_max_pending(a->store, store_max_pending(c));
    sc__relay_set_dedup(c->limits.relay_dedup_s);
    sc_pushes_reconfigure(a->pushes);
    sc_router_lint(g->router, log_config_warning, NULL);
    sc_catalogue_refresh(a->cat);
    sc_info("event=reloaded path=%s routes=%zu templates=%zu changed=%zu needs_restart=%zu",
            a->config_path, c->nroutes, c->ntemplates, live.n, fixed.n);
}

/* ---- shutdown ---------------------------------------------------------- */

static void stop_step_done(void *arg)
{
    struct sc_app *a = arg;
    if (--a->stop_pending == 0 && a->stopped)
        a->stopped(a->stopped_arg);
}

static void stop_rest(void *arg)
{
    struct sc_app *a = arg;
    /* Binds are down: nothing can come in any more. */
    a->stop_pending = 4 + (a->pushes != NULL) + (a->http != NULL) + (a->callout != NULL);
    if (a->callout)
        sc_callout_stop(a->callout, stop_step_done, a);
    sc_leases_stop(a->leases, stop_step_done, a); /* after the unbinds: frees the slots */
    if (a->http)
        sc_http_stop(a->http, stop_step_done, a);
    if (a->pushes)
        sc_pushes_stop(a->pushes, stop_step_done, a);
    sc_orders_stop(a->orders, stop_step_done, a);
    if (a->usage) {
        a->stop_pending++;
        sc_usage_stop(a->usage, stop_step_done, a);
    }
    sc_catalogue_stop(a->cat, stop_step_done, a);
    sc_store_stop(a->store, stop_step_done, a);
}

/* Polls (only while shutting down) until in-flight MOs are answered and
 * queued replies accepted by the SMSC, or the deadline passes. */
static void on_shutdown_tick(uv_timer_t *t)
{
    struct sc_app *a = t->data;
    /* Pushes not yet sent are not waited for: they stay pending in mt:push. */
    size_t mt = sc_esme_mt_pending(a->esme) - sc_esme_push_queued(a->esme);
    /* Callouts in flight are waited for up to their own timeout. */
    int late = uv_now(a->loop) >= SC_MAX(a->shutdown_deadline, sc_callout_deadline(a->callout));
    if ((a->inflight == 0 && mt == 0) || late || sc_esme_bound(a->esme) == 0) {
        uv_close((uv_handle_t *)t, NULL);
        if (mt || a->inflight)
            sc_warn("event=shutdown_incomplete replies_unsent=%zu mo_unanswered=%u", mt,
                    a->inflight);
        sc_esme_stop(a->esme, stop_rest, a);
    }
}

void sc_app_stop(struct sc_app *a, void (*stopped)(void *), void *arg)
{
    if (a->stopping)
        return;
    a->stopping = 1;
    a->stopped = stopped;
    a->stopped_arg = arg;
    const struct sc_config *cfg = a->gen->cfg;
    if (!a->esme) {
        stop_rest(a);
        return;
    }
    sc_info("event=shutdown inflight=%u replies_pending=%zu mo_not_served=%llu mo_bad_source=%llu "
            "receipts_unknown=%llu",
            a->inflight, sc_esme_mt_pending(a->esme), a->stats.mo_not_served,
            a->stats.mo_bad_source, a->stats.receipts_unknown);
    sc_esme_refuse_mo(a->esme, cfg->limits.mo_error_status);
    sc_pushes_quiesce(a->pushes);
    sc_usage_quiesce(a->usage);
    a->shutdown_deadline = uv_now(a->loop) + (uint64_t)cfg->limits.shutdown_timeout_ms;
    uv_timer_init(a->loop, &a->shutdown_timer);
    a->shutdown_timer.data = a;
    uv_timer_start(&a->shutdown_timer, on_shutdown_tick, 0, 20);
}

void sc_app_free(struct sc_app *a)
{
    sc__metrics_stop(a);
    sc_esme_free(a->esme);
    sc_orders_free(a->orders);
    sc_pushes_free(a->pushes);
    sc_leases_free(a->leases);
    sc_http_free(a->http);
    sc_usage_free(a->usage);
    sc_callout_free(a->callout);
    sc_catalogue_free(a->cat);
    sc_store_free(a->store);
    free(a->script_ids);
    sc__gen_unref(a->gen);
    sc_config_free(a->boot_cfg);
}
