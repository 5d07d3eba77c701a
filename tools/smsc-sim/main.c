/* main.c -- smsc-sim: puts the parts together (sim.h), signals, start-up
 * and orderly shutdown. The command line is opts.c's.
 *
 * main.c owns struct sim and is the only file that knows the modes: the MO
 * queue's on_done and the server's hooks land here and go to the mode that
 * runs (script, interactive or load).
 *
 * Shutdown (end of script, end of interactive input, :quit, SIGTERM/SIGINT):
 * stop reading input, fail MOs still queued, stop listening, unbind every
 * bound ESME and wait briefly for its unbind_resp, close the other sessions;
 * when the last session is gone write --stats and close every handle so the
 * loop ends by itself. A second signal, or 3 s, closes what is left at once. */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sc.h"
#include "interactive.h"
#include "jsonout.h"
#include "load.h"
#include "script.h"
#include "sim.h"
#include "statsfile.h"

#define STOP_DEADLINE_MS 3000

static struct sim *sim_of(struct sim_env *env)
{
    return (struct sim *)((char *)env - offsetof(struct sim, env));
}

/* ---- shutdown ------------------------------------------------------------------ */

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Called whenever something shutdown waits for has finished. */
static void maybe_finished(struct sim *sim)
{
    if (!sim->stopping || sim->finished)
        return;
    if (!sim_server_idle(&sim->srv))
        return;
    if (sim->tty && sim_tty_busy(sim->tty))
        return;
    sim->finished = 1;
    sim_stats_write(sim);
    sc_info("event=exit status=%d", sim->exit_code);
    /* Everything left (signals, timers) closes; then uv_run returns. */
    uv_walk(sim->loop, close_walk, NULL);
}

static void on_stop_deadline(uv_timer_t *t)
{
    struct sim *sim = t->data;
    sc_warn("event=stop_deadline sessions=%u", sim->srv.conns.n);
    sim_server_force_close(&sim->srv);
}

/* Begin shutdown with this exit code (the first call wins). */
static void sim_stop(struct sim *sim, int exit_code)
{
    if (sim->stopping)
        return;
    sim->stopping = 1;
    sim->exit_code = exit_code;
    sim_mo_stopping(&sim->mos);
    sc_info("event=stopping sessions=%u", sim->srv.conns.n);
    if (sim->script && sim_script_stop(sim->script))
        sim->exit_code = 1; /* not every step passed */
    if (sim->tty)
        sim_tty_stop(sim->tty);
    sim_mo_drop_all(&sim->mos);
    sim_server_stop(&sim->srv);
    uv_timer_start(&sim->stop_timer, on_stop_deadline, STOP_DEADLINE_MS, 0);
    maybe_finished(sim);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct sim *sim = h->data;
    if (signum == SIGUSR1) {
        sim_stats_write(sim);
        return;
    }
    sc_info("event=signal signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    if (sim->stopping)
        sim_server_force_close(&sim->srv);
    else if (sim->load)
        sim_load_interrupt(sim->load); /* reports, then stops with status 1 */
    else
        sim_stop(sim, 0);
}

/* ---- events from the parts, to the mode ------------------------------------------ */

static void env_stop(struct sim_env *env, int exit_code)
{
    sim_stop(sim_of(env), exit_code);
}

static void env_idle(struct sim_env *env)
{
    maybe_finished(sim_of(env));
}

static void on_idle(void *ctx)
{
    maybe_finished(ctx);
}

static void on_mo_done(void *ctx, struct sim_mo *mo)
{
    struct sim *sim = ctx;
    if (mo->kind == SIM_MO_LOAD) {
        if (sim->load)
            sim_load_on_mo_done(sim->load, mo);
    } else if (mo->kind == SIM_MO_TTY) {
        if (sim->tty)
            sim_tty_on_mo_done(sim->tty, mo);
    } else if (sim->script) {
        sim_script_on_mo_done(sim->script, mo);
    }
}

static void on_mt(void *ctx, struct sim_mt *mt)
{
    struct sim *sim = ctx;
    if (sim->load) {
        sim_load_on_mt(sim->load, mt);
    } else if (sim->script) {
        sim_script_on_mt(sim->script, mt); /* takes it */
        return;
    } else if (sim->tty) {
        sim_tty_on_mt(sim->tty, mt);
    }
    free(mt);
}

static void on_bound(void *ctx)
{
    struct sim *sim = ctx;
    if (sim->script)
        sim_script_on_bound(sim->script);
    if (sim->load)
        sim_load_on_bound(sim->load);
}

/* ---- start-up ------------------------------------------------------------------- */

/* Every part set up on loop, signals handled (a test may send SIGTERM as
 * soon as the port file exists). */
static void setup(struct sim *sim, uv_loop_t *loop)
{
    sim->loop = loop;
    sim->start_ms = uv_now(loop);
    sim->stats.start_ms = sim->start_ms;
    uv_timer_init(loop, &sim->stop_timer);
    sim->stop_timer.data = sim;
    sim_fault_init(&sim->faults, &sim->o);
    sim_mo_init(&sim->mos, loop, &sim->o, &sim->stats, &sim->faults, &sim->srv.conns);
    sim->mos.on_done = on_mo_done;
    sim->mos.ctx = sim;
    const struct sim_server_hooks hooks = {
        .ctx = sim, .on_mt = on_mt, .on_bound = on_bound, .on_idle = on_idle,
    };
    sim_server_init(&sim->srv, loop, &sim->o, &sim->stats, &sim->faults, &sim->mos, &hooks);
    sim->srv.quiet_mt = sim->o.load.on;
    sim->env = (struct sim_env){
        .loop = loop, .o = &sim->o, .stats = &sim->stats, .faults = &sim->faults,
        .mos = &sim->mos, .srv = &sim->srv, .stop = env_stop, .idle = env_idle,
    };
    uv_signal_init(loop, &sim->sig_term);
    uv_signal_init(loop, &sim->sig_int);
    uv_signal_init(loop, &sim->sig_usr1);
    sim->sig_term.data = sim->sig_int.data = sim->sig_usr1.data = sim;
    uv_signal_start(&sim->sig_term, on_signal, SIGTERM);
    uv_signal_start(&sim->sig_int, on_signal, SIGINT);
    uv_signal_start(&sim->sig_usr1, on_signal, SIGUSR1);
}

static int write_port_file(const char *path, int port)
{
    char line[16];
    int n = snprintf(line, sizeof line, "%d\n", port);
    return sim_file_write_atomic(path, line, (size_t)n);
}

/* Load the script or the load run, listen, write --port-file. -1 to run the
 * loop, else the exit status to end with at once. */
static int start(struct sim *sim)
{
    char err[512] = "";
    if (sim->o.script && !(sim->script = sim_script_load(&sim->env, sim->o.script)))
        return 2;
    if (sim->o.load.on && !(sim->load = sim_load_new(&sim->env, err, sizeof err))) {
        fprintf(stderr, "smsc-sim: %s\nTry 'smsc-sim --help'.\n", err);
        return 2;
    }
    if (sim_server_start(&sim->srv, err, sizeof err) < 0) {
        char q[600];
        sc_error("event=start_failed reason=%s", sc_log_quote(q, sizeof q, err, strlen(err)));
        return 1;
    }
    if (sim->o.port_file && write_port_file(sim->o.port_file, sim->srv.port) < 0) {
        sc_error("event=start_failed reason=\"cannot write --port-file\"");
        sim_stop(sim, 1);
    }
    return -1;
}

/* Start the mode (none: server only). */
static void start_mode(struct sim *sim)
{
    char err[512] = "";
    if (sim->stopping) {
        /* start-up failed after listening: just shut down */
    } else if (sim->load) {
        sim_load_start(sim->load);
    } else if (sim->script) {
        sim_script_start(sim->script);
    } else if (sim->o.interactive || uv_guess_handle(0) == UV_TTY) {
        sim->tty = sim_tty_start(&sim->env, err, sizeof err);
        if (!sim->tty || err[0]) {
            sc_error("event=start_failed reason=\"%s\"", err[0] ? err : "out of memory");
            sim_stop(sim, 1);
        }
    }
}

/* After the loop: close what is left, free every part. */
static void teardown(struct sim *sim, uv_loop_t *loop)
{
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        sc_warn("event=loop_not_closed");
    sim->stopping = 1;
    sim_mo_stopping(&sim->mos);
    sim_mo_drop_all(&sim->mos);
    sim_script_free(sim->script);
    sim->script = NULL;
    sim_tty_free(sim->tty);
    sim->tty = NULL;
    sim_load_free(sim->load);
    sim->load = NULL;
    sim_server_free(&sim->srv);
    sim_stats_free(&sim->stats);
    sim_opts_free(&sim->o);
}

int main(int argc, char **argv)
{
    static struct sim sim_storage;
    struct sim *sim = &sim_storage;
    uv_loop_t loop;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    /* Regexes in scripts match characters, not bytes ("." is one Chinese
     * character); only LC_CTYPE changes. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "");

    int rc = sim_opts_parse(argc, argv, &sim->o);
    if (rc >= 0) {
        sim_opts_free(&sim->o);
        return rc;
    }
    if (uv_loop_init(&loop) < 0) {
        sc_error("event=start_failed reason=\"uv_loop_init\"");
        sim_opts_free(&sim->o);
        return 1;
    }
    setup(sim, &loop);
    int status = start(sim);
    if (status < 0) {
        start_mode(sim);
        uv_run(&loop, UV_RUN_DEFAULT);
        status = sim->exit_code;
    }
    teardown(sim, &loop);
    return status;
}
