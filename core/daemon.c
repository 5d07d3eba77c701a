/* daemon.c -- the shortcoded process: command line and signals.
 *
 * Shutdown (SIGTERM/SIGINT): new MOs are refused with the configured
 * temporary error (the SMSC keeps them), replies already queued are sent,
 * then every link unbinds and the process exits 0. limits.shutdown_timeout_ms
 * bounds the wait. SIGHUP reloads the file and the catalogue: what can
 * change live is applied, binds and the Redis connection stay as they are
 * and every change that needs a restart is logged key by key; a bad file is
 * refused and logged (core/app.c). Exit status: 0 after SIGTERM/SIGINT, 1
 * when start-up fails (also later, when the binds cannot start), 2 on a bad
 * command line. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/config.h"

struct daemon {
    struct sc_app app;
    uv_signal_t sig_term, sig_int, sig_hup;
};

static void on_stopped(void *arg)
{
    struct daemon *d = arg;
    sc_info("event=stopped");
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP)
        sc_app_reload(&d->app);
    else {
        sc_info("event=signal signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
        sc_app_stop(&d->app, on_stopped, d);
    }
}

/* ---- start-up -------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shortcoded -c FILE [--check] [--log-level LEVEL]\n"
            "  -c, --config FILE   configuration (YAML); see config/shortcoded.yaml\n"
            "      --check         validate FILE: print \"FILE: OK (...)\" and exit 0, or\n"
            "                      FILE:LINE:COL: message and exit 1; warnings (a route an\n"
            "                      earlier one shadows, a template longer than max_parts)\n"
            "                      go to stderr as FILE:LINE:COL: warning: ... (still 0)\n"
            "      --log-level L   debug, info, warn or error (overrides log.level)\n"
            "  -h, --help          this text\n"
            "  -V, --version       print the version\n"
            "Signals: SIGHUP reloads FILE (what needs a restart is logged, key by key) and\n"
            "the catalogue; SIGTERM unbinds and exits 0.\n");
}

static void print_warning(void *arg, const char *msg)
{
    fprintf(stderr, "%s\n", msg);
}

#define RETIRED_WHY                                                                        \
    "long MOs are held in Redis, bounded per subscriber by smpp.reasm_max_per_source; "    \
    "see docs/reliability.md"

static void warn_if_world_readable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
        sc_warn("event=config_permissions path=%s mode=%04o msg=\"readable by others; it may "
                "hold passwords: chmod o-r\"",
                path, (unsigned)(st.st_mode & 07777));
}

/* The command line. */
struct args {
    const char *path;          /* -c */
    const char *level;         /* --log-level, or NULL */
    int check;                 /* --check */
};

/* Parse the command line into a. Returns -1 to go on, or the exit status
 * (0 after --help / --version, 2 on a usage error). */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
        {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
    };
    *a = (struct args){NULL, NULL, 0};
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->path = optarg; break;
        case 'k': a->check = 1; break;
        case 'l': a->level = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("shortcoded %s\n", SC_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!a->path || optind != argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* --check: routes, handler options and templates are checked too; notes
 * and the OK line on stdout, warnings on stderr. Takes cfg. Returns the
 * exit status. */
static int check_config(const char *path, struct sc_config *cfg)
{
    char err[512];
    struct sc_gen *g = sc__gen_new(cfg, 1, err, sizeof err);
    if (!g) {
        fprintf(stderr, "%s\n", err);
        sc_config_free(cfg);
        return 1;
    }
    for (size_t i = 0; sc_config_retired(cfg, i); i++)
        printf("%s: note: %s is no longer used (%s)\n", path, sc_config_retired(cfg, i),
               RETIRED_WHY);
    size_t warnings = sc_router_lint(g->router, print_warning, NULL);
    printf("%s: OK (%zu binds, %zu routes, %zu templates", path, cfg->nbinds, cfg->nroutes,
           cfg->ntemplates);
    if (warnings)
        printf(", %zu warning%s on stderr)\n", warnings, warnings == 1 ? "" : "s");
    else
        printf(")\n");
    sc__gen_unref(g);
    return 0;
}

static void start_signals(struct daemon *d, uv_loop_t *loop)
{
    uv_signal_init(loop, &d->sig_term);
    uv_signal_init(loop, &d->sig_int);
    uv_signal_init(loop, &d->sig_hup);
    d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
    uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, on_signal, SIGINT);
    uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
}

/* Run the daemon until it stopped. Takes cfg. Returns the exit status. */
static int run(const char *path, struct sc_config *cfg, int cli_level)
{
    sc_log_set_level((enum sc_log_level)(cli_level >= 0 ? cli_level : cfg->log_level));
    warn_if_world_readable(path);
    for (size_t i = 0; sc_config_retired(cfg, i); i++)
        sc_warn("event=config_retired key=%s msg=\"%s\"", sc_config_retired(cfg, i), RETIRED_WHY);
    signal(SIGPIPE, SIG_IGN);

    struct daemon d;
    memset(&d, 0, sizeof d);
    uv_loop_t *loop = uv_default_loop();
    d.app.cli_log_level = cli_level;
    char err[512];
    if (sc_app_start(&d.app, loop, path, cfg, on_stopped, &d, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        sc_error("event=startup_failed error=\"%s\"", err);
        return 1;
    }
    start_signals(&d, loop);
    sc_info("event=started version=%s config=%s binds=%zu routes=%zu", SC_VERSION, path,
            cfg->nbinds, cfg->nroutes);
    uv_run(loop, UV_RUN_DEFAULT);
    sc_app_free(&d.app);
    int rc = uv_loop_close(loop);
    if (rc != 0)
        sc_warn("event=loop_not_closed error=\"%s\"", uv_strerror(rc));
    /* Start-up failed after the loop ran (the binds could not start): the
     * app stopped itself and logged why. */
    return d.app.start_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    /* Checked before the file, and the same way with --check, so that
     * --check fails on whatever would stop the daemon. */
    int cli_level = -1;
    if (a.level && (cli_level = sc_log_level_parse(a.level)) < 0) {
        fprintf(stderr, "shortcoded: --log-level: unknown level '%s' (debug, info, warn, error)\n",
                a.level);
        return 1;
    }
    char err[512];
    struct sc_config *cfg = sc_config_load(a.path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return a.check ? check_config(a.path, cfg) : run(a.path, cfg, cli_level);
}
