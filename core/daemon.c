/* daemon.c -- the shortcoded process: command line, signals, and each MO's
 * life from arrival to its one outcome (a reply, or a temporary error that
 * makes the SMSC redeliver).
 *
 * Shutdown (SIGTERM/SIGINT): new MOs are refused with the configured
 * temporary error (the SMSC keeps them), replies already queued are sent,
 * then every link unbinds and the process exits 0. limits.shutdown_timeout_ms
 * bounds the wait. SIGHUP reloads templates and routes from the same file;
 * binds stay as they are, and a bad file is refused and logged. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "config/config.h"
#include "core/log.h"
#include "core/sc.h"
#include "smsc/esme.h"
#include "text/text.h"

struct daemon {
    uv_loop_t *loop;
    const char *config_path;
    struct sc_config *boot_cfg;   /* binds come from here for the whole run */
    struct sc_config *cfg;        /* templates and routes: replaced on SIGHUP */
    struct sc_esme *esme;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t shutdown_timer;
    uint64_t shutdown_deadline;
    int stopping;
    unsigned inflight;            /* MOs taken and not yet answered */
};

/* The national number used for keys and logs: source_addr without the first
 * configured prefix ("+86", "86") it starts with. */
static void national_number(const struct sc_config *cfg, const char *addr, char *out, size_t outsz)
{
    for (size_t i = 0; i < cfg->nmsisdn_prefixes; i++) {
        size_t n = strlen(cfg->msisdn_prefixes[i]);
        if (n && strncmp(addr, cfg->msisdn_prefixes[i], n) == 0 && addr[n] != '\0') {
            addr += n;
            break;
        }
    }
    sc_strlcpy(out, addr, outsz);
}

static void on_mo(void *arg, const struct sc_mo *mo, struct sc_mo_token tok)
{
    struct daemon *d = arg;
    char msisdn[SC_ADDR_MAX];
    char cmd[512];
    char q[160];
    national_number(d->cfg, mo->src.addr, msisdn, sizeof msisdn);
    int n = sc_text_normalize(mo->text, mo->text_len, cmd, sizeof cmd);
    if (n < 0)
        cmd[0] = '\0';
    sc_debug("event=mo msisdn=%s to=%s link=%s parts=%u dc=%u command=%s", msisdn, mo->dst.addr,
             mo->link, mo->parts, mo->data_coding, sc_log_quote(q, sizeof q, cmd, strlen(cmd)));

    /* Until routes and handlers exist every MO is answered with the help
     * text, from the service number it was sent to, to the exact address
     * (TON/NPI included) it came from. The resp goes out before the reply's
     * submit_sm (same write, this order): some SMSCs drop a submit_sm that
     * arrives while they wait for a resp. */
    const char *text = sc_config_template(d->cfg, "help");
    int rc = text ? sc_esme_can_send(d->esme) : SC_ENOTFOUND;
    if (rc < 0) {
        uint32_t status = d->cfg->limits.mo_error_status;
        sc_warn("event=mo_failed msisdn=%s reason=\"%s\" status=%s", msisdn, sc_strerror(rc),
                sc_pdu_status_name(status));
        sc_esme_mo_done(d->esme, tok, status);
        return;
    }
    sc_esme_mo_done(d->esme, tok, SC_ESME_ROK);
    struct sc_addr from = mo->dst;
    from.ton = (uint8_t)d->cfg->smpp.source_ton;
    from.npi = (uint8_t)d->cfg->smpp.source_npi;
    rc = sc_esme_send(d->esme, &from, &mo->src, text, strlen(text), NULL, NULL);
    if (rc < 0)
        sc_error("event=reply_failed msisdn=%s reason=\"%s\"", msisdn, sc_strerror(rc));
}

static void on_link(void *arg, const char *link, int bound)
{
    (void)arg;
    (void)link;
    (void)bound;
}

/* ---- shutdown ------------------------------------------------------------ */

static void on_esme_stopped(void *arg)
{
    struct daemon *d = arg;
    sc_info("event=stopped");
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
    uv_close((uv_handle_t *)&d->shutdown_timer, NULL);
}

/* Polls (only while shutting down) until in-flight MOs are answered and
 * queued replies are accepted by the SMSC, or the deadline passes. */
static void on_shutdown_tick(uv_timer_t *t)
{
    struct daemon *d = t->data;
    size_t mt = sc_esme_mt_pending(d->esme);
    int late = uv_now(d->loop) >= d->shutdown_deadline;
    if ((d->inflight == 0 && mt == 0) || late || sc_esme_bound(d->esme) == 0) {
        uv_timer_stop(t);
        if (mt || d->inflight)
            sc_warn("event=shutdown_incomplete replies_unsent=%zu mo_unanswered=%u", mt,
                    d->inflight);
        sc_esme_stop(d->esme, on_esme_stopped, d);
    }
}

static void begin_shutdown(struct daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    sc_info("event=shutdown signal=%s inflight=%u replies_pending=%zu", why, d->inflight,
            sc_esme_mt_pending(d->esme));
    sc_esme_refuse_mo(d->esme, d->cfg->limits.mo_error_status);
    d->shutdown_deadline = uv_now(d->loop) + (uint64_t)d->cfg->limits.shutdown_timeout_ms;
    uv_timer_start(&d->shutdown_timer, on_shutdown_tick, 0, 20);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP) {
        char err[512];
        struct sc_config *c = sc_config_load(d->config_path, err, sizeof err);
        if (!c) {
            sc_error("event=reload_failed error=\"%s\" action=\"kept the running configuration\"",
                     err);
            return;
        }
        if (d->cfg != d->boot_cfg)
            sc_config_free(d->cfg);
        d->cfg = c;
        sc_log_set_level((enum sc_log_level)c->log_level);
        sc_info("event=reloaded path=%s routes=%zu templates=%zu", d->config_path, c->nroutes,
                c->ntemplates);
        return;
    }
    begin_shutdown(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- start-up -------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shortcoded -c FILE [--check] [--log-level LEVEL]\n"
            "  -c, --config FILE   configuration (YAML); see config/shortcoded.yaml\n"
            "      --check         validate FILE and exit 0, or print FILE:LINE:COL: message\n"
            "                      and exit 1\n"
            "      --log-level L   debug, info, warn or error (overrides log.level)\n"
            "  -h, --help          this text\n"
            "  -V, --version       print the version\n"
            "Signals: SIGHUP reloads templates and routes; SIGTERM unbinds and exits 0.\n");
}

static void warn_if_world_readable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
        sc_warn("event=config_permissions path=%s mode=%04o msg=\"readable by others; it may "
                "hold passwords: chmod o-r\"",
                path, (unsigned)(st.st_mode & 07777));
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
        {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    const char *level = NULL;
    int check = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': check = 1; break;
        case 'l': level = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("shortcoded %s\n", SC_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }

    char err[512];
    struct sc_config *cfg = sc_config_load(path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (check) {
        printf("%s: OK (%zu binds, %zu routes, %zu templates)\n", path, cfg->nbinds,
               cfg->nroutes, cfg->ntemplates);
        sc_config_free(cfg);
        return 0;
    }
    sc_log_set_level((enum sc_log_level)cfg->log_level);
    if (level) {
        int lv = sc_log_level_parse(level);
        if (lv < 0) {
            fprintf(stderr, "shortcoded: unknown log level '%s'\n", level);
            sc_config_free(cfg);
            return 2;
        }
        sc_log_set_level((enum sc_log_level)lv);
    }
    warn_if_world_readable(path);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)uv_hrtime());

    struct daemon d;
    memset(&d, 0, sizeof d);
    d.loop = uv_default_loop();
    d.config_path = path;
    d.boot_cfg = d.cfg = cfg;
    uv_signal_init(d.loop, &d.sig_term);
    uv_signal_init(d.loop, &d.sig_int);
    uv_signal_init(d.loop, &d.sig_hup);
    uv_timer_init(d.loop, &d.shutdown_timer);
    d.sig_term.data = d.sig_int.data = d.sig_hup.data = d.shutdown_timer.data = &d;
    uv_signal_start(&d.sig_term, on_signal, SIGTERM);
    uv_signal_start(&d.sig_int, on_signal, SIGINT);
    uv_signal_start(&d.sig_hup, on_signal, SIGHUP);

    static const struct sc_esme_cbs cbs = {.on_mo = on_mo, .on_link = on_link};
    d.esme = sc_esme_new(d.loop, cfg, &cbs, &d);
    if (!d.esme) {
        sc_error("event=startup_failed reason=\"out of memory\"");
        return 1;
    }
    sc_info("event=started version=%s config=%s binds=%zu", SC_VERSION, path, cfg->nbinds);
    uv_run(d.loop, UV_RUN_DEFAULT);

    sc_esme_free(d.esme);
    if (d.cfg != d.boot_cfg)
        sc_config_free(d.cfg);
    sc_config_free(d.boot_cfg);
    int rc = uv_loop_close(d.loop);
    if (rc != 0)
        sc_warn("event=loop_not_closed error=\"%s\"", uv_strerror(rc));
    return 0;
}
