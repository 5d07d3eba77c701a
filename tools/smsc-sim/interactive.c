/* interactive.c -- interactive mode: each stdin line is an MO from the current
 * subscriber, each complete MT is printed; lines starting with ':' are
 * commands.
 *
 * stdin is read on the loop whatever it is: a terminal (uv_tty_t), a pipe or
 * socket (uv_pipe_t / uv_tcp_t), or a file or /dev/null (uv_fs_read, which
 * libuv runs on its thread pool). At end of input the simulator waits for
 * replies still in flight -- until every MO sent has been answered and has
 * had an MT back to its sender, then a short quiet period, or at most
 * --timeout-ms -- and quits. So `printf '0000\n' | smsc-sim --interactive`
 * shows the reply before it exits.
 *
 * An MO acknowledged with ESME_ROK and without an MT back to its sender
 * within --timeout-ms is reported as "(no reply after N s)", whatever stdin
 * is. Form feeds (Ctrl-L) in a line are not sent: on a terminal they clear
 * the screen. Every setting command says what it set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sc.h"
#include "env.h"
#include "interactive.h"
#include "mo.h"
#include "opts.h"
#include "server.h"

#define LINE_MAX_BYTES 4096
#define RECENT_MAX 64            /* MOs watched for a reply at end of input */
#define QUIET_MS 300             /* no more MTs for this long: the reply is complete */

struct sim_tty {
    struct sim_env *env;
    uv_handle_type type;
    union {
        uv_tty_t tty;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h;
    int handle_open;
    uv_fs_t fsreq;
    int fs_busy;
    char rbuf[4096];
    char line[LINE_MAX_BYTES + 1];
    size_t llen;
    int overlong;
    int prompt;                  /* stdin and stdout are terminals */
    char from[SC_ADDR_MAX];
    char to[SC_ADDR_MAX];
    struct sim_send_opts so;
    int eof;
    int extended;                /* the grace period was extended once */
    int stopped;
    uv_timer_t grace;            /* hard limit after end of input */
    uv_timer_t quiet;            /* quiet period before quitting */
    uv_timer_t no_reply;         /* ticks while an MO waits for its reply */
    struct sim_mo *recent[RECENT_MAX];
    unsigned nrecent;
};

static void show_prompt(struct sim_tty *t)
{
    if (t->prompt && !t->eof && !t->stopped) {
        printf("%s> ", t->from);
        fflush(stdout);
    }
}

/* Before printing something unasked: clear the prompt line on a terminal. */
static void clear_prompt(struct sim_tty *t)
{
    if (t->prompt && !t->eof)
        fputs("\r\033[K", stdout);
}

static const char *enc_name(enum sim_enc e)
{
    return e == SIM_ENC_GSM ? "gsm" : e == SIM_ENC_UCS2 ? "ucs2" : "auto";
}

static const char *dc_name(uint8_t dc, char *buf, size_t bufsz)
{
    switch (dc) {
    case 0: return "GSM";
    case 1: return "IA5";
    case 3: return "Latin-1";
    case 8: return "UCS-2";
    default: snprintf(buf, bufsz, "data_coding %u", dc); return buf;
    }
}

static void help(void)
{
    puts("Each line is sent as an MO from the current subscriber to the current number.\n"
         "Commands:\n"
         "  :from MSISDN   sender of the next MOs\n"
         "  :to NUMBER     service number they go to\n"
         "  :ucs2 | :gsm | :auto   encoding (auto: GSM 03.38 when the text fits)\n"
         "  :datasm        toggle data_sm (text in message_payload) / deliver_sm\n"
         "  :payload       toggle message_payload in deliver_sm\n"
         "  :parts N       split into exactly N parts (0 = as needed)\n"
         "  :udh8 | :udh16 | :sar   how parts are tied together\n"
         "  :status        show the settings and bound sessions\n"
         "  :help          this text\n"
         "  :quit          exit (also end of input)\n"
         "An MO without a reply within --timeout-ms says so. Ctrl-L is not sent: it\n"
         "clears the screen.");
}

/* ---- end of input --------------------------------------------------------- */

static const char *concat_name(enum sim_concat c)
{
    return c == SIM_CONCAT_UDH8 ? "udh8" : c == SIM_CONCAT_UDH16 ? "udh16" : "sar";
}

/* ---- MOs without a reply ---------------------------------------------------- */

/* Say "(no reply after N s)" once for each MO acknowledged ESME_ROK that has
 * had no MT back to its sender for --timeout-ms (all of them with force).
 * Returns how many are still waiting. */
static unsigned tell_no_reply(struct sim_tty *t, int force)
{
    uint64_t now = uv_now(t->env->loop), wait = t->env->o->timeout_ms;
    unsigned waiting = 0;
    for (unsigned i = 0; i < t->nrecent; i++) {
        struct sim_mo *mo = t->recent[i];
        if (mo->replied || mo->no_reply_told || mo->sent_ms == 0 ||
            (mo->done && mo->status != SC_ESME_ROK))
            continue;
        if (!force && (!mo->done || now < mo->sent_ms + wait)) {
            waiting++;
            continue;
        }
        mo->no_reply_told = 1;
        clear_prompt(t);
        printf("(no reply after %.3g s)\n", (double)wait / 1000.0);
        show_prompt(t);
    }
    fflush(stdout);
    return waiting;
}

static void on_no_reply_tick(uv_timer_t *h)
{
    struct sim_tty *t = h->data;
    if (tell_no_reply(t, 0) == 0)
        uv_timer_stop(h);
}

static void watch_no_reply(struct sim_tty *t)
{
    if (!t->stopped && !uv_is_active((uv_handle_t *)&t->no_reply))
        uv_timer_start(&t->no_reply, on_no_reply_tick, 100, 100);
}

static void forget_recent(struct sim_tty *t, unsigned i)
{
    sim_mo_release(t->recent[i]);
    t->recent[i] = t->recent[--t->nrecent];
}

static void quit(struct sim_tty *t)
{
    if (!t->stopped)
        t->env->stop(t->env, 0);
}

static void on_quiet(uv_timer_t *h)
{
    quit(h->data);
}

static void on_grace(uv_timer_t *h)
{
    struct sim_tty *t = h->data;
    /* MOs still waiting for an ESME to bind: give the replies their own
     * --timeout-ms once they can go. */
    for (unsigned i = 0; i < t->nrecent && !t->extended; i++) {
        if (t->recent[i]->sent_ms == 0) {
            t->extended = 1;
            uv_timer_start(&t->grace, on_grace, t->env->o->timeout_ms, 0);
            return;
        }
    }
    tell_no_reply(t, 1);
    if (t->nrecent)
        sc_info("event=interactive_done reason=\"replies not complete within %u ms\" waiting=%u",
                t->env->o->timeout_ms, t->nrecent);
    quit(t);
}

/* At end of input: quit once every MO is answered and replied to, after a
 * quiet period (restarted by each MT). */
static void check_done(struct sim_tty *t)
{
    if (!t->eof || t->stopped)
        return;
    for (unsigned i = 0; i < t->nrecent; i++)
        if (!t->recent[i]->done || (!t->recent[i]->replied && t->recent[i]->status == 0))
            return;
    uv_timer_start(&t->quiet, on_quiet, QUIET_MS, 0);
}

static void on_eof(struct sim_tty *t)
{
    if (t->eof)
        return;
    t->eof = 1;
    if (t->prompt)
        putchar('\n');
    fflush(stdout);
    if (t->handle_open)
        uv_read_stop((uv_stream_t *)&t->h);
    uv_timer_start(&t->grace, on_grace, t->env->o->timeout_ms, 0);
    check_done(t);
}

/* ---- lines -------------------------------------------------------------------- */

static void command(struct sim_tty *t, char *cmd)
{
    char *arg = cmd + strcspn(cmd, " \t");
    if (*arg) {
        *arg++ = '\0';
        arg += strspn(arg, " \t");
    }
    uint64_t n;
    if (strcmp(cmd, ":from") == 0 || strcmp(cmd, ":to") == 0) {
        if (!sim_addr_valid(arg)) {
            printf("bad address \"%s\"\n", arg);
            return;
        }
        sc_strlcpy(cmd[1] == 'f' ? t->from : t->to, arg, SC_ADDR_MAX);
        printf("next MOs %s %s\n", cmd[1] == 'f' ? "from" : "to", arg);
    } else if (strcmp(cmd, ":ucs2") == 0 || strcmp(cmd, ":gsm") == 0 ||
               strcmp(cmd, ":auto") == 0) {
        t->so.enc = cmd[1] == 'u' ? SIM_ENC_UCS2 : cmd[1] == 'g' ? SIM_ENC_GSM : SIM_ENC_AUTO;
        printf("encoding of the next MOs: %s\n", enc_name(t->so.enc));
    } else if (strcmp(cmd, ":datasm") == 0) {
        t->so.data_sm = !t->so.data_sm;
        printf("MOs go as %s\n", t->so.data_sm ? "data_sm" : "deliver_sm");
    } else if (strcmp(cmd, ":payload") == 0) {
        t->so.payload = !t->so.payload;
        printf("message_payload %s\n", t->so.payload ? "on" : "off");
    } else if (strcmp(cmd, ":parts") == 0) {
        if (sim_parse_uint(arg, 0, 255, &n) < 0) {
            printf("usage: :parts N (0..255, 0 = as needed)\n");
            return;
        }
        t->so.parts = (unsigned)n;
        if (n)
            printf("next MOs in %u part%s\n", t->so.parts, n == 1 ? "" : "s");
        else
            printf("next MOs in as many parts as needed\n");
    } else if (strcmp(cmd, ":udh8") == 0 || strcmp(cmd, ":udh16") == 0 ||
               strcmp(cmd, ":sar") == 0) {
        t->so.concat = strcmp(cmd, ":udh8") == 0    ? SIM_CONCAT_UDH8
                       : strcmp(cmd, ":udh16") == 0 ? SIM_CONCAT_UDH16
                                                    : SIM_CONCAT_SAR;
        printf("parts tied by: %s\n", concat_name(t->so.concat));
    } else if (strcmp(cmd, ":status") == 0) {
        printf("from %s to %s, %s, %s%s, parts %u (%s), %u RX-capable session(s) bound\n",
               t->from, t->to, enc_name(t->so.enc), t->so.data_sm ? "data_sm" : "deliver_sm",
               t->so.payload ? " with message_payload" : "", t->so.parts,
               concat_name(t->so.concat),
               sim_server_rx_bound(t->env->srv));
    } else if (strcmp(cmd, ":help") == 0) {
        help();
    } else if (strcmp(cmd, ":quit") == 0 || strcmp(cmd, ":q") == 0) {
        quit(t);
    } else {
        printf("unknown command %s (:help lists them)\n", cmd);
    }
}

/* Drop the form feeds (Ctrl-L) of a line; on a terminal, clear the screen
 * for them. Returns the new length. */
static size_t drop_form_feeds(struct sim_tty *t, char *line, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        if (line[i] != '\f')
            line[o++] = line[i];
    if (o != len && t->prompt)
        fputs("\033[H\033[2J", stdout);
    line[o] = '\0';
    return o;
}

static void handle_line(struct sim_tty *t, char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    len = drop_form_feeds(t, line, len);
    if (len == 0)
        return;
    if (line[0] == ':') {
        command(t, line);
        return;
    }
    char err[256];
    struct sim_mo *mo = sim_mo_send(t->env->mos, SIM_MO_TTY, t->from, t->to, line, len, &t->so, err,
                                    sizeof err);
    if (!mo) {
        printf("MO not sent: %s\n", err);
        return;
    }
    if (!sim_server_rx_bound(t->env->srv))
        printf("(queued: no ESME bound to receive it yet)\n");
    /* Watch it for a reply; forget the oldest beyond the bound. */
    if (t->nrecent == RECENT_MAX)
        forget_recent(t, 0);
    t->recent[t->nrecent++] = mo;
    watch_no_reply(t);
}

static void feed(struct sim_tty *t, const char *p, size_t n)
{
    for (size_t i = 0; i < n && !t->stopped; i++) {
        if (p[i] != '\n') {
            if (t->llen < LINE_MAX_BYTES)
                t->line[t->llen++] = p[i];
            else
                t->overlong = 1;
            continue;
        }
        t->line[t->llen] = '\0';
        if (t->overlong)
            printf("line longer than %d bytes: ignored\n", LINE_MAX_BYTES);
        else
            handle_line(t, t->line, t->llen);
        t->llen = 0;
        t->overlong = 0;
        show_prompt(t);
    }
    fflush(stdout);
}

/* End of input: a last line without '\n' still counts. */
static void feed_eof(struct sim_tty *t)
{
    if (t->llen && !t->overlong && !t->stopped) {
        t->line[t->llen] = '\0';
        handle_line(t, t->line, t->llen);
    }
    t->llen = 0;
    on_eof(t);
}

/* ---- reading stdin ------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sim_tty *t = h->data;
    *buf = uv_buf_init(t->rbuf, sizeof t->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sim_tty *t = s->data;
    if (n > 0)
        feed(t, buf->base, (size_t)n);
    else if (n < 0)
        feed_eof(t);
}

static void start_fs_read(struct sim_tty *t);

static void on_fs_read(uv_fs_t *req)
{
    struct sim_tty *t = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    t->fs_busy = 0;
    if (t->stopped) {
        t->env->idle(t->env);
        return;
    }
    if (n > 0) {
        feed(t, t->rbuf, (size_t)n);
        if (!t->stopped)
            start_fs_read(t);
    } else {
        feed_eof(t);
    }
}

static void start_fs_read(struct sim_tty *t)
{
    uv_buf_t b = uv_buf_init(t->rbuf, sizeof t->rbuf);
    t->fsreq.data = t;
    if (uv_fs_read(t->env->loop, &t->fsreq, 0, &b, 1, -1, on_fs_read) == 0)
        t->fs_busy = 1;
    else
        feed_eof(t);
}

struct sim_tty *sim_tty_start(struct sim_env *env, char *err, size_t errsz)
{
    err[0] = '\0';
    struct sim_tty *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    t->env = env;
    sc_strlcpy(t->from, env->o->from, sizeof t->from);
    sc_strlcpy(t->to, env->o->to, sizeof t->to);
    uv_timer_init(env->loop, &t->grace);
    uv_timer_init(env->loop, &t->quiet);
    uv_timer_init(env->loop, &t->no_reply);
    t->grace.data = t->quiet.data = t->no_reply.data = t;
    t->type = uv_guess_handle(0);
    t->h.tty.data = t;
    int rc = 0;
    switch (t->type) {
    case UV_TTY:
        rc = uv_tty_init(env->loop, &t->h.tty, 0, 1);
        t->prompt = rc == 0 && isatty(1);
        break;
    case UV_NAMED_PIPE:
        rc = uv_pipe_init(env->loop, &t->h.pipe, 0);
        if (rc == 0 && (rc = uv_pipe_open(&t->h.pipe, 0)) < 0)
            uv_close((uv_handle_t *)&t->h.pipe, NULL);
        break;
    case UV_TCP:
        rc = uv_tcp_init(env->loop, &t->h.tcp);
        if (rc == 0 && (rc = uv_tcp_open(&t->h.tcp, 0)) < 0)
            uv_close((uv_handle_t *)&t->h.tcp, NULL);
        break;
    default:
        t->type = UV_FILE; /* regular file, /dev/null, ... */
        break;
    }
    if (rc < 0) {
        /* The caller keeps t (main.c's sim->tty) and stops: the timers close with
         * the rest. */
        snprintf(err, errsz, "cannot read stdin: %s", uv_strerror(rc));
        t->stopped = 1;
        uv_close((uv_handle_t *)&t->grace, NULL);
        uv_close((uv_handle_t *)&t->quiet, NULL);
        uv_close((uv_handle_t *)&t->no_reply, NULL);
        return t;
    }
    t->h.tty.data = t;
    if (t->type == UV_FILE) {
        start_fs_read(t);
    } else {
        t->handle_open = 1;
        uv_read_start((uv_stream_t *)&t->h, on_alloc, on_read);
    }
    if (t->prompt) {
        printf("smsc-sim: type a message and Enter to send it from %s to %s; :help for commands\n",
               t->from, t->to);
        show_prompt(t);
    }
    return t;
}

/* ---- events -------------------------------------------------------------------- */

void sim_tty_on_mt(struct sim_tty *t, const struct sim_mt *mt)
{
    if (t->stopped)
        return;
    char b[24];
    clear_prompt(t);
    printf("%s -> %s: %s", mt->from, mt->to, mt->text);
    if (mt->parts > 1)
        printf("  (%u parts, %s)", mt->parts, dc_name(mt->data_coding, b, sizeof b));
    putchar('\n');
    show_prompt(t);
    fflush(stdout);
    for (unsigned i = 0; i < t->nrecent; i++)
        if (strcmp(t->recent[i]->from, mt->to) == 0)
            t->recent[i]->replied = 1;
    check_done(t);
}

void sim_tty_on_mo_done(struct sim_tty *t, struct sim_mo *mo)
{
    if (t->stopped)
        return;
    if (mo->status != SC_ESME_ROK) {
        char b[16];
        clear_prompt(t);
        if (mo->status >= 0)
            printf("MO rejected: %s\n", sim_status_name(mo->status, b, sizeof b));
        else
            printf("MO failed: %s\n", sim_status_name(mo->status, b, sizeof b));
        show_prompt(t);
        fflush(stdout);
    }
    check_done(t);
}

void sim_tty_stop(struct sim_tty *t)
{
    if (t->stopped)
        return;
    t->stopped = 1;
    if (t->prompt && !t->eof) {
        putchar('\n');
        fflush(stdout);
    }
    if (t->type == UV_TTY && t->handle_open)
        uv_tty_reset_mode();
    if (t->handle_open) {
        uv_close((uv_handle_t *)&t->h, NULL);
        t->handle_open = 0;
    }
    if (t->fs_busy)
        uv_cancel((uv_req_t *)&t->fsreq);
    uv_close((uv_handle_t *)&t->grace, NULL);
    uv_close((uv_handle_t *)&t->quiet, NULL);
    uv_close((uv_handle_t *)&t->no_reply, NULL);
}

int sim_tty_busy(const struct sim_tty *t)
{
    return t->fs_busy;
}

void sim_tty_free(struct sim_tty *t)
{
    if (!t)
        return;
    while (t->nrecent)
        forget_recent(t, 0);
    free(t);
}
