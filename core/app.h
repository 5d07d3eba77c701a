/* app.h -- the running daemon: configuration generations, the SMPP side,
 * the store and the catalogue, and the intake of every MO.
 *
 * Internal to core/: handlers see only handlers/handler.h. */
#ifndef SC_APP_H
#define SC_APP_H

#include <uv.h>

#include "core/config.h"
#include "core/router.h"
#include "handlers/catalogue.h"
#include "smsc/esme.h"
#include "store/store.h"

/* What SIGHUP replaces: a configuration and the router built from it.
 * Requests hold a reference to the generation they started with. */
struct sc_gen {
    unsigned refs;
    struct sc_config *cfg;
    int owns_cfg;                 /* 0 for the boot config (the binds use it) */
    struct sc_router *router;
};

struct sc_app {
    uv_loop_t *loop;
    const char *config_path;
    int cli_log_level;            /* --log-level, kept over reloads; -1 = none */
    struct sc_config *boot_cfg;   /* binds, redis, smpp.max_pdu_len, smpp.reasm_*:
                                   * fixed for the run (the esme borrows its binds) */
    struct sc_gen *gen;           /* current */
    struct sc_esme *esme;
    struct sc_store *store;
    struct sc_catalogue *cat;
    struct sc_orders *orders;     /* core/orders.h: vas:orders, order expiry */
    struct sc_pushes *pushes;     /* core/push.h: mt:push; NULL when mt.enabled is off */
    struct sc_leases *leases;     /* core/lease.h: session leases; NULL when no bind has
                                   * account_sessions */
    struct sc_http *http;         /* core/http.h, routes core/api.h; NULL when http.listen is "" */
    struct sc_usage *usage;       /* core/usage.h: usage:in; NULL when reminders.enabled is off */
    struct sc_callout *callout;   /* core/callout.h: the http handler's client (req->callout) */
    int *script_ids;              /* per sc_handlers[] index; -1 = none */
    int rate_script;              /* the prelude alone, for script-less handlers */
    int longmo_script;            /* a long MO's part (core/longmo.c) */
    int longmo_done_script;       /* ... its tombstone */
    int receipt_script;           /* a delivery receipt (core/receipts.c) */
    int receipt_look_script, receipt_capply_script; /* ... its two on a cluster */
    unsigned inflight;            /* MOs and receipts taken and not yet answered */
    struct {                      /* since start; logged at shutdown */
        unsigned long long mo_not_served;  /* to a number not in service_numbers */
        unsigned long long mo_bad_source;  /* refused: ESME_RINVSRCADR */
        unsigned long long receipts_unknown; /* receipts matching no push */
    } stats;
    int stopping;
    void (*stopped)(void *);
    void *stopped_arg;
    unsigned stop_pending;
    uv_timer_t shutdown_timer;
    uint64_t shutdown_deadline;
    int start_failed;             /* the binds could not start: the app stops
                                   * itself, then calls failed (the caller's
                                   * exit status, not 0) */
    void (*failed)(void *);
    void *failed_arg;
    uv_timer_t fail_timer;
};

/* Build a generation from a loaded config (validating routes, options and
 * templates). With owns_cfg it frees cfg when the last reference goes (on
 * success only). NULL with err on error. */
struct sc_gen *sc__gen_new(struct sc_config *cfg, int owns_cfg, char *err, size_t errsz);
void sc__gen_unref(struct sc_gen *g);

/* Start everything (store, catalogue, binds). cfg becomes the boot and
 * current configuration; ownership passes to app. app->cli_log_level must
 * be set before (it survives the memset). Returns 0 or SC_E*. The binds
 * start later (once Redis answered): when they cannot, the app logs
 * event=startup_failed, sets app->start_failed, stops itself and then calls
 * failed(failed_arg) once every handle is closed, as sc_app_stop's stopped. */
int sc_app_start(struct sc_app *app, uv_loop_t *loop, const char *path, struct sc_config *cfg,
                 void (*failed)(void *), void *failed_arg, char *err, size_t errsz);
/* SIGHUP: reload the file; keep the old generation when the new one is bad.
 * Applies the live keys (new generation, esme live options, store bound) and
 * logs each changed key that needs a restart (event=reload_needs_restart). */
void sc_app_reload(struct sc_app *app);
/* SIGTERM: refuse new MOs, finish in-flight ones, unbind, stop; then
 * stopped(arg) once every handle is closed. */
void sc_app_stop(struct sc_app *app, void (*stopped)(void *), void *arg);
/* After stopped. */
void sc_app_free(struct sc_app *app);

/* MO intake, from the esme (core/request.c): a whole MO starts a request,
 * a part of a long MO goes to core/longmo.c. */
void sc__app_on_mo(void *arg, const struct sc_mo *mo, struct sc_mo_token tok);
/* A delivery receipt, from the esme (core/receipts.c): matched to its push
 * by one script (sc__receipt_lua, registered as a->receipt_script). */
void sc__app_on_receipt(void *arg, const struct sc_receipt *r, struct sc_mo_token tok);
extern const char sc__receipt_lua[];
/* Start the request of a whole MO (mo borrowed; refused with the temporary
 * error over limits.max_inflight). longmo_key: the reassembly it completes
 * (core/longmo.h), marked done on a final ESME_ROK outcome; NULL for a
 * one-part MO. */
void sc__req_start(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok,
                   const char *longmo_key);

/* First thing for every MO (core/intake.c): an implausible source
 * (smpp.source_addr) is answered ESME_RINVSRCADR, an MO to a number that is
 * not one of service_numbers limits.foreign_mo_status (ESME_ROK by default:
 * no effect, no reply); both logged (event=mo_refused / mo_not_served) and
 * counted in a->stats. Returns 1 when it answered the MO, else 0. */
int sc__app_intake(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok);

#endif
