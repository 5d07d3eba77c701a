/* main.c -- smsc-sim: command line, signals, start-up and orderly shutdown.
 *
 * Shutdown (end of script, end of interactive input, :quit, SIGTERM/SIGINT):
 * stop reading input, fail MOs still queued, stop listening, unbind every
 * bound ESME and wait briefly for its unbind_resp, close the other sessions;
 * when the last session is gone write --stats and close every handle so the
 * loop ends by itself. A second signal, or 3 s, closes what is left at once. */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sc.h"
#include "jsonout.h"
#include "sim.h"
#include "text/text.h"

#define STOP_DEADLINE_MS 3000

static const char g_usage[] =
"Usage: smsc-sim [OPTIONS]\n"
"SMPP 3.4 SMSC simulator: accepts ESME binds, answers submit_sm, sends MOs.\n"
"\n"
"  --listen HOST:PORT       listen address (default 127.0.0.1:2775; port 0 = any free\n"
"                           port, logged as \"event=listening port=N\")\n"
"  --port-file FILE         write the bound port to FILE (FILE.tmp, then renamed)\n"
"  --account SYSID:PASSWORD accepted credentials; repeatable (default shortcoded:secret)\n"
"  --script FILE            run a script, exit 0 if every step passed, else 1\n"
"  --interactive            MOs from stdin lines (default when stdin is a terminal\n"
"                           and no --script; works with a pipe too)\n"
"  --from MSISDN            subscriber sending interactive MOs (default 13800138000)\n"
"  --to NUMBER              number they are sent to; default of send --to (default 10086)\n"
"  --timeout-ms N           default timeout of script steps, grace period for replies\n"
"                           after the end of interactive input (default 5000)\n"
"  --dlr                    send a delivery receipt (deliver_sm, esm_class 0x04) for\n"
"                           each submit_sm with registered_delivery & 1\n"
"  --enquire-link-ms N      send enquire_link after N ms without traffic (default 0 = off)\n"
"  --throttle-every N       answer every Nth submit_sm with ESME_RTHROTTLED (default 0 = off)\n"
"  --resp-delay-ms N        delay every submit_sm_resp by N ms (default 0)\n"
"  --stats FILE             write counters as JSON at exit and on SIGUSR1\n"
"  --log-level L            debug, info, warn or error (default info); logs go to stderr\n"
"  --max-pdu N              largest command_length accepted (default 4096)\n"
"  --max-sessions N         ESME connections at once (default 64)\n"
"  --window N               deliver_sm/data_sm awaiting resp per session (default 10)\n"
"  --resp-timeout-ms N      wait for a resp to anything we send (default 10000)\n"
"  --max-queue N            bound of the MO queue, delayed resps and unread MTs (default 100000)\n"
"  --system-id ID           system_id in bind resps (default smsc-sim)\n"
"  --dc0 gsm|latin1|ascii   meaning of data_coding 0 in MTs (default gsm)\n"
"  --fail-fast              stop a script at its first failure\n"
"  -h, --help               this text\n"
"\n";

static const char g_usage_faults[] =
"Fault injection (every mode; choices from --seed; counts in --stats and --json\n"
"under \"faults\"; P is a percentage 0..100, decimals allowed):\n"
"  --throttle-share P       answer P % of submit_sm with ESME_RTHROTTLED\n"
"  --msgqfull-share P       answer P % of submit_sm with ESME_RMSGQFUL\n"
"  --drop-resp-share P      never answer P % of submit_sm\n"
"  --close-every N          close a session abruptly when it receives the Nth, 2Nth, ...\n"
"                           PDU (counted over all sessions, binds included; that PDU\n"
"                           is not handled)\n"
"  --close-random P         close a bound session abruptly at P % of PDUs received\n"
"  --unbind-after N         send unbind after a session's Nth submit_sm\n"
"  --redeliver              redeliver an MO part whose resp was an error, did not come\n"
"                           within --redeliver-timeout-ms, or whose session closed\n"
"  --redeliver-timeout-ms N wait for a deliver_sm_resp (default 5000; with --redeliver\n"
"                           it also bounds --resp-timeout-ms)\n"
"  --redeliver-max N        redeliveries per part before giving up (default 20)\n"
"  --redeliver-interval-ms N  wait before a redelivery (default 500)\n"
"  --dup-parts              send part 1 of every long MO twice\n"
"  --reorder-parts          send the parts of every long MO last first\n"
"  --hostile-share P        load mode: with P % of MOs also send a hostile PDU (bad\n"
"                           command_length, 30 TLVs, unknown command id, truncated body,\n"
"                           invalid UCS-2, sm_length beyond the body)\n"
"\n";

/* In parts: C compilers need only support string literals of 4095 bytes. */
static const char g_usage_load[] =
"Load mode (--load): MOs from many subscribers to the bound ESMEs, replies\n"
"matched per subscriber; a progress line on stderr every second, a summary on\n"
"stdout at the end. Starts when --binds sessions are bound (waits at most 30 s).\n"
"  --load                   run a load test, exit 0 if it completed with no errors, else 1\n"
"  --subscribers N          senders --from .. --from+N-1 (default 1000; same digit count)\n"
"  --mix SPEC               scenario weights (default 0000:100), e.g.\n"
"                           \"0000:70,cancel:20,unknown:10\"; cancel = 0000, then \"1\"\n"
"                           after its reply; unknown = a text no route knows;\n"
"                           longtd = \"TD\"+CODE as a long MO of 2 parts\n"
"  --td-codes LIST          codes longtd picks from, CODE,CODE,... (default CL001)\n"
"  --long-gap-ms N          longtd: part 2 N ms after part 1's ROK (default 0)\n"
"  --ucs2-share P           percent of MOs sent as UCS-2 (default 0)\n"
"  --datasm-share P         percent of MOs sent as data_sm (default 0)\n"
"  --rate R|max             offered MOs per second, or as fast as windows allow (default max)\n"
"  --mo-window W            MOs awaiting deliver_sm_resp per session (same as --window)\n"
"  --count N                stop after N MOs (default 0 = only --duration)\n"
"  --duration S             stop sending after S seconds (default 60)\n"
"  --reply-timeout-ms N     a command without its reply by then is missing (default 5000)\n"
"  --expect-regex SCN=RE    replies of scenario SCN (0000, cancel, unknown, longtd) must match RE\n"
"                           (POSIX ERE; repeatable; default: any non-empty reply)\n"
"  --json FILE              write every figure as JSON (see docs/simulator.md)\n"
"  --binds N                RX-capable sessions to wait for before starting (default 1)\n"
"  --seed N                 random seed for scenario and encoding choices (default 1)\n"
"  --pack-each              encode every MO with libsmpp34 instead of patching a template\n"
"\n";

static const char g_usage_script[] =
"Script (one command per line; '#' comments and blank lines ignored):\n"
"  wait_bound [TIMEOUT_MS]             until an RX or TRX ESME is bound\n"
"  send [OPTS] FROM TEXT...            MO from FROM; TEXT is the rest of the line\n"
"       OPTS: --ucs2 | --gsm (default: GSM if it fits, else UCS-2), --data-sm,\n"
"             --payload (deliver_sm with message_payload), --parts N,\n"
"             --udh8 (default) | --udh16 | --sar, --to NUMBER\n"
"  expect FROM REGEX [TIMEOUT_MS]      the next MT to FROM matches REGEX (POSIX ERE, one token)\n"
"  expect_status STATUS [TIMEOUT_MS]   resp of the last MO sent (ESME_ROK, ESME_RX_T_APPN,\n"
"                                      0x64, timeout, ...)\n"
"  expect_none FROM MS                 no MT to FROM within MS\n"
"  sleep MS\n"
"  burst [OPTS] COUNT FROM TEXT...     COUNT MOs as fast as the sessions take them; passes\n"
"                                      when all are answered (any status); OPTS as send,\n"
"                                      plus --spread N: senders FROM, FROM+1, ..., FROM+N-1\n"
"  expect_count FROM COUNT TIMEOUT_MS  COUNT MTs to FROM (\"*\": to anyone) arrive (consumed)\n"
"Each step prints \"ok  line N: ...\" or \"FAIL line N: ...\"; the last line is\n"
"\"script: N passed, M failed\".\n"
"\n"
"Interactive: each line is an MO; :from MSISDN, :to NUMBER, :ucs2, :gsm, :auto,\n"
":datasm, :payload, :parts N, :udh8, :udh16, :sar, :status, :help, :quit.\n"
"MTs print as \"10086 -> 13800138000: TEXT\" (+ \"  (N parts, UCS-2)\").\n"
"\n"
"Exit status: 0 ok; 1 a script step failed (or the script was interrupted), a\n"
"load run had errors or was interrupted, or the port could not be opened; 2 usage\n"
"error or bad script (FILE:LINE: message).\n"
"SIGTERM/SIGINT unbind every ESME and exit; SIGUSR1 writes --stats.\n";

enum {
    OPT_LISTEN = 256, OPT_PORT_FILE, OPT_ACCOUNT, OPT_SCRIPT, OPT_INTERACTIVE, OPT_FROM, OPT_TO,
    OPT_TIMEOUT, OPT_DLR, OPT_ENQUIRE, OPT_THROTTLE, OPT_RESP_DELAY, OPT_STATS, OPT_LOG_LEVEL,
    OPT_MAX_PDU, OPT_MAX_SESSIONS, OPT_WINDOW, OPT_RESP_TIMEOUT, OPT_MAX_QUEUE, OPT_SYSTEM_ID,
    OPT_DC0, OPT_FAIL_FAST, OPT_LOAD, OPT_SUBSCRIBERS, OPT_MIX, OPT_UCS2_SHARE, OPT_DATASM_SHARE,
    OPT_RATE, OPT_MO_WINDOW, OPT_COUNT, OPT_DURATION, OPT_REPLY_TIMEOUT, OPT_EXPECT_REGEX,
    OPT_JSON, OPT_BINDS, OPT_SEED, OPT_PACK_EACH, OPT_TD_CODES, OPT_LONG_GAP,
    OPT_F_THROTTLE, OPT_F_MSGQFULL, OPT_F_DROP, OPT_F_CLOSE_EVERY, OPT_F_CLOSE_RANDOM,
    OPT_F_UNBIND, OPT_F_REDELIVER, OPT_F_RD_TIMEOUT, OPT_F_RD_MAX, OPT_F_RD_INTERVAL,
    OPT_F_DUP, OPT_F_REORDER, OPT_F_HOSTILE,
};

static const struct option g_long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"script", required_argument, NULL, OPT_SCRIPT},
    {"interactive", no_argument, NULL, OPT_INTERACTIVE},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"dlr", no_argument, NULL, OPT_DLR},
    {"enquire-link-ms", required_argument, NULL, OPT_ENQUIRE},
    {"throttle-every", required_argument, NULL, OPT_THROTTLE},
    {"resp-delay-ms", required_argument, NULL, OPT_RESP_DELAY},
    {"stats", required_argument, NULL, OPT_STATS},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"max-pdu", required_argument, NULL, OPT_MAX_PDU},
    {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"resp-timeout-ms", required_argument, NULL, OPT_RESP_TIMEOUT},
    {"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
    {"system-id", required_argument, NULL, OPT_SYSTEM_ID},
    {"dc0", required_argument, NULL, OPT_DC0},
    {"fail-fast", no_argument, NULL, OPT_FAIL_FAST},
    {"load", no_argument, NULL, OPT_LOAD},
    {"subscribers", required_argument, NULL, OPT_SUBSCRIBERS},
    {"mix", required_argument, NULL, OPT_MIX},
    {"ucs2-share", required_argument, NULL, OPT_UCS2_SHARE},
    {"datasm-share", required_argument, NULL, OPT_DATASM_SHARE},
    {"rate", required_argument, NULL, OPT_RATE},
    {"mo-window", required_argument, NULL, OPT_MO_WINDOW},
    {"count", required_argument, NULL, OPT_COUNT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"reply-timeout-ms", required_argument, NULL, OPT_REPLY_TIMEOUT},
    {"expect-regex", required_argument, NULL, OPT_EXPECT_REGEX},
    {"json", required_argument, NULL, OPT_JSON},
    {"binds", required_argument, NULL, OPT_BINDS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"pack-each", no_argument, NULL, OPT_PACK_EACH},
    {"td-codes", required_argument, NULL, OPT_TD_CODES},
    {"long-gap-ms", required_argument, NULL, OPT_LONG_GAP},
    {"throttle-share", required_argument, NULL, OPT_F_THROTTLE},
    {"msgqfull-share", required_argument, NULL, OPT_F_MSGQFULL},
    {"drop-resp-share", required_argument, NULL, OPT_F_DROP},
    {"close-every", required_argument, NULL, OPT_F_CLOSE_EVERY},
    {"close-random", required_argument, NULL, OPT_F_CLOSE_RANDOM},
    {"unbind-after", required_argument, NULL, OPT_F_UNBIND},
    {"redeliver", no_argument, NULL, OPT_F_REDELIVER},
    {"redeliver-timeout-ms", required_argument, NULL, OPT_F_RD_TIMEOUT},
    {"redeliver-max", required_argument, NULL, OPT_F_RD_MAX},
    {"redeliver-interval-ms", required_argument, NULL, OPT_F_RD_INTERVAL},
    {"dup-parts", no_argument, NULL, OPT_F_DUP},
    {"reorder-parts", no_argument, NULL, OPT_F_REORDER},
    {"hostile-share", required_argument, NULL, OPT_F_HOSTILE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* ---- small helpers shared by the other files -------------------------------- */

int sim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return SC_EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return SC_EINVAL;
        if (v > (UINT64_MAX - 9) / 10)
            return SC_EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < min || v > max)
        return SC_EINVAL;
    *out = v;
    return 0;
}

int sim_addr_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SC_ADDR_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7F)
            return 0;
    return 1;
}

/* ---- shutdown ------------------------------------------------------------------ */

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void sim_maybe_finished(struct sim *sim)
{
    if (!sim->stopping || sim->finished)
        return;
    if (sim->nconns || sim->listener_open)
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
    sc_warn("event=stop_deadline sessions=%u", sim->nconns);
    sim_server_force_close(sim);
}

void sim_stop(struct sim *sim, int exit_code)
{
    if (sim->stopping)
        return;
    sim->stopping = 1;
    sim->exit_code = exit_code;
    sc_info("event=stopping sessions=%u", sim->nconns);
    if (sim->script)
        sim_script_stop(sim->script);
    if (sim->tty)
        sim_tty_stop(sim->tty);
    sim_mo_drop_all(sim);
    sim_server_stop(sim);
    uv_timer_start(&sim->stop_timer, on_stop_deadline, STOP_DEADLINE_MS, 0);
    sim_maybe_finished(sim);
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
        sim_server_force_close(sim);
    else if (sim->load)
        sim_load_interrupt(sim->load); /* reports, then stops with status 1 */
    else
        sim_stop(sim, 0);
}

/* ---- start-up ------------------------------------------------------------------- */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("smsc-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'smsc-sim --help'.\n", stderr);
    va_end(ap);
    return 2;
}

static int add_account(struct sim_opts *o, const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon)
        return SC_EINVAL;
    size_t idlen = (size_t)(colon - arg);
    if (idlen == 0 || idlen >= sizeof o->accounts[0].system_id ||
        strlen(colon + 1) >= sizeof o->accounts[0].password)
        return SC_EINVAL;
    struct sim_account *a = realloc(o->accounts, (o->naccounts + 1) * sizeof *a);
    if (!a)
        return SC_ENOMEM;
    o->accounts = a;
    a = &o->accounts[o->naccounts++];
    memset(a, 0, sizeof *a);
    memcpy(a->system_id, arg, idlen);
    sc_strlcpy(a->password, colon + 1, sizeof a->password);
    return 0;
}

/* Parse argv into o. Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct sim_opts *o)
{
    sc_strlcpy(o->listen_host, "127.0.0.1:2775", sizeof o->listen_host);
    sc_strlcpy(o->from, "13800138000", sizeof o->from);
    sc_strlcpy(o->to, "10086", sizeof o->to);
    sc_strlcpy(o->system_id, "smsc-sim", sizeof o->system_id);
    o->timeout_ms = 5000;
    o->max_pdu = 4096;
    o->max_sessions = 64;
    o->window = 10;
    o->resp_timeout_ms = 10000;
    o->max_queue = 100000;
    o->dc0 = SC_DC0_GSM;
    o->load.subscribers = 1000;
    o->load.mix[SIM_SCN_0000] = 100;
    o->load.duration_ms = 60000;
    o->load.reply_timeout_ms = 5000;
    o->load.binds = 1;
    o->load.seed = 1;
    o->f.redeliver_timeout_ms = 5000;
    o->f.redeliver_max = 20;
    o->f.redeliver_interval_ms = 500;

    int c;
    uint64_t v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", g_long_opts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case OPT_LISTEN: {
            const char *colon = strrchr(a, ':');
            if (!colon || colon == a || sim_parse_uint(colon + 1, 0, 65535, &v) < 0 ||
                sc_strlcpy(o->listen_host, a, sizeof o->listen_host) >= sizeof o->listen_host)
                return usage_error("--listen: expected HOST:PORT (port 0..65535), got \"%s\"", a);
            break;
        }
        case OPT_PORT_FILE: o->port_file = a; break;
        case OPT_ACCOUNT:
            if (add_account(o, a) < 0)
                return usage_error("--account: expected SYSID:PASSWORD (system_id 1..15 "
                                   "bytes, password 0..8 bytes), got \"%s\"", a);
            break;
        case OPT_SCRIPT: o->script = a; break;
        case OPT_INTERACTIVE: o->interactive = 1; break;
        case OPT_FROM:
        case OPT_TO:
            if (!sim_addr_valid(a))
                return usage_error("bad address \"%s\" (1 to 20 printable characters)", a);
            sc_strlcpy(c == OPT_FROM ? o->from : o->to, a, SC_ADDR_MAX);
            break;
        case OPT_DLR: o->dlr = 1; break;
        case OPT_STATS: o->stats_file = a; break;
        case OPT_LOG_LEVEL:
            if (sc_log_level_parse(a) < 0)
                return usage_error("--log-level: expected debug, info, warn or error, got \"%s\"", a);
            sc_log_set_level((enum sc_log_level)sc_log_level_parse(a));
            break;
        case OPT_SYSTEM_ID:
            if (sc_strlcpy(o->system_id, a, sizeof o->system_id) >= sizeof o->system_id)
                return usage_error("--system-id: at most 15 bytes: \"%s\"", a);
            break;
        case OPT_DC0:
            if ((o->dc0 = sc_dc0_parse(a)) < 0)
                return usage_error("--dc0: expected gsm, latin1 or ascii, got \"%s\"", a);
            break;
        case OPT_FAIL_FAST: o->fail_fast = 1; break;
        case OPT_LOAD: o->load.on = 1; break;
        case OPT_PACK_EACH: o->load.pack_each = 1; break;
        case OPT_TD_CODES: o->load.td_codes = a; break;
        case OPT_LONG_GAP:
            if (sim_parse_uint(a, 0, 60000, &v) < 0)
                return usage_error("--long-gap-ms: expected 0..60000, got \"%s\"", a);
            o->load.long_gap_ms = v;
            break;
        case OPT_JSON: o->load.json = a; break;
        case OPT_MIX:
            if (sim_load_parse_mix(a, o->load.mix) < 0)
                return usage_error("--mix: expected SCENARIO:WEIGHT,... with scenarios 0000, "
                                   "cancel, unknown, longtd and a positive total, got \"%s\"", a);
            break;
        case OPT_EXPECT_REGEX:
            if (sim_load_parse_expect(a, o->load.expect) < 0)
                return usage_error("--expect-regex: expected SCENARIO=REGEX with scenario "
                                   "0000, cancel, unknown or longtd, got \"%s\"", a);
            break;
        case OPT_RATE:
            if (strcmp(a, "max") == 0)
                o->load.rate = 0;
            else if (sim_parse_uint(a, 1, 10000000, &v) < 0)
                return usage_error("--rate: expected 1..10000000 or max, got \"%s\"", a);
            else
                o->load.rate = v;
            break;
        case OPT_SUBSCRIBERS:
            if (sim_parse_uint(a, 1, 100000000, &v) < 0)
                return usage_error("--subscribers: expected 1..100000000, got \"%s\"", a);
            o->load.subscribers = v;
            break;
        case OPT_UCS2_SHARE:
        case OPT_DATASM_SHARE:
            if (sim_parse_uint(a, 0, 100, &v) < 0)
                return usage_error("%s: expected a percentage 0..100, got \"%s\"",
                                   c == OPT_UCS2_SHARE ? "--ucs2-share" : "--datasm-share", a);
            if (c == OPT_UCS2_SHARE)
                o->load.ucs2_pct = (unsigned)v;
            else
                o->load.datasm_pct = (unsigned)v;
            break;
        case OPT_COUNT:
            if (sim_parse_uint(a, 0, UINT64_MAX / 2, &v) < 0)
                return usage_error("--count: expected a number, got \"%s\"", a);
            o->load.count = v;
            break;
        case OPT_DURATION:
            if (sim_parse_uint(a, 1, 86400 * 7, &v) < 0)
                return usage_error("--duration: expected 1..604800 seconds, got \"%s\"", a);
            o->load.duration_ms = v * 1000;
            break;
        case OPT_REPLY_TIMEOUT:
            if (sim_parse_uint(a, 1, 3600000, &v) < 0)
                return usage_error("--reply-timeout-ms: expected 1..3600000, got \"%s\"", a);
            o->load.reply_timeout_ms = v;
            break;
        case OPT_BINDS:
            if (sim_parse_uint(a, 1, 10000, &v) < 0)
                return usage_error("--binds: expected 1..10000, got \"%s\"", a);
            o->load.binds = (unsigned)v;
            break;
        case OPT_SEED:
            if (sim_parse_uint(a, 0, UINT64_MAX, &v) < 0)
                return usage_error("--seed: expected a number, got \"%s\"", a);
            o->load.seed = v;
            break;
        case OPT_TIMEOUT:
        case OPT_ENQUIRE:
        case OPT_THROTTLE:
        case OPT_RESP_DELAY:
        case OPT_RESP_TIMEOUT:
            if (sim_parse_uint(a, c == OPT_TIMEOUT || c == OPT_RESP_TIMEOUT ? 1 : 0, 86400000, &v) < 0)
                return usage_error("bad number \"%s\" (0..86400000)", a);
            if (c == OPT_TIMEOUT)
                o->timeout_ms = (uint32_t)v;
            else if (c == OPT_ENQUIRE)
                o->enquire_link_ms = (uint32_t)v;
            else if (c == OPT_THROTTLE)
                o->throttle_every = (uint32_t)v;
            else if (c == OPT_RESP_DELAY)
                o->resp_delay_ms = (uint32_t)v;
            else
                o->resp_timeout_ms = (uint32_t)v;
            break;
        case OPT_MAX_PDU:
            if (sim_parse_uint(a, 64, 1 << 20, &v) < 0)
                return usage_error("--max-pdu: expected 64..1048576, got \"%s\"", a);
            o->max_pdu = (uint32_t)v;
            break;
        case OPT_MAX_SESSIONS:
            if (sim_parse_uint(a, 1, 10000, &v) < 0)
                return usage_error("--max-sessions: expected 1..10000, got \"%s\"", a);
            o->max_sessions = (unsigned)v;
            break;
        case OPT_WINDOW:
        case OPT_MO_WINDOW:
            if (sim_parse_uint(a, 1, 10000, &v) < 0)
                return usage_error("%s: expected 1..10000, got \"%s\"",
                                   c == OPT_WINDOW ? "--window" : "--mo-window", a);
            o->window = (unsigned)v;
            break;
        case OPT_MAX_QUEUE:
            if (sim_parse_uint(a, 1, 100000000, &v) < 0)
                return usage_error("--max-queue: expected 1..100000000, got \"%s\"", a);
            o->max_queue = (size_t)v;
            break;
        case OPT_F_THROTTLE:
        case OPT_F_MSGQFULL:
        case OPT_F_DROP:
        case OPT_F_CLOSE_RANDOM:
        case OPT_F_HOSTILE: {
            double d;
            if (sim_fault_parse_pct(a, &d) < 0)
                return usage_error("%s: expected a percentage 0..100, got \"%s\"",
                                   argv[optind - 1], a);
            if (c == OPT_F_THROTTLE)
                o->f.throttle_pct = d;
            else if (c == OPT_F_MSGQFULL)
                o->f.msgqfull_pct = d;
            else if (c == OPT_F_DROP)
                o->f.drop_resp_pct = d;
            else if (c == OPT_F_CLOSE_RANDOM)
                o->f.close_random_pct = d;
            else
                o->f.hostile_pct = d;
            break;
        }
        case OPT_F_CLOSE_EVERY:
        case OPT_F_UNBIND:
        case OPT_F_RD_TIMEOUT:
        case OPT_F_RD_MAX:
        case OPT_F_RD_INTERVAL:
            if (sim_parse_uint(a, c == OPT_F_RD_TIMEOUT ? 1 : 0,
                               c == OPT_F_RD_MAX ? 65535 : 86400000, &v) < 0)
                return usage_error("%s: bad number \"%s\"", argv[optind - 1], a);
            if (c == OPT_F_CLOSE_EVERY)
                o->f.close_every = (uint32_t)v;
            else if (c == OPT_F_UNBIND)
                o->f.unbind_after = (uint32_t)v;
            else if (c == OPT_F_RD_TIMEOUT)
                o->f.redeliver_timeout_ms = (uint32_t)v;
            else if (c == OPT_F_RD_MAX)
                o->f.redeliver_max = (uint32_t)v;
            else
                o->f.redeliver_interval_ms = (uint32_t)v;
            break;
        case OPT_F_REDELIVER: o->f.redeliver = 1; break;
        case OPT_F_DUP: o->f.dup_parts = 1; break;
        case OPT_F_REORDER: o->f.reorder_parts = 1; break;
        case 'h':
            fputs(g_usage, stdout);
            fputs(g_usage_faults, stdout);
            fputs(g_usage_load, stdout);
            fputs(g_usage_script, stdout);
            return 0;
        case ':':
            return usage_error("option needs a value: %s", argv[optind - 1]);
        default:
            return usage_error("unknown option: %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument: %s", argv[optind]);
    if (o->script && o->interactive)
        return usage_error("%s", "--script and --interactive exclude each other");
    if (o->load.on && (o->script || o->interactive))
        return usage_error("%s", "--load excludes --script and --interactive");
    if (o->naccounts == 0 && add_account(o, "shortcoded:secret") < 0)
        return 1;
    return -1;
}

static int write_port_file(const char *path, int port)
{
    char line[16];
    int n = snprintf(line, sizeof line, "%d\n", port);
    return sim_file_write_atomic(path, line, (size_t)n);
}

int main(int argc, char **argv)
{
    static struct sim sim_storage;
    struct sim *sim = &sim_storage;
    uv_loop_t loop;
    sim_mo_init_queues(sim);

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    /* Regexes in scripts match characters, not bytes ("." is one Chinese
     * character); only LC_CTYPE changes. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "");

    int rc = parse_args(argc, argv, &sim->o);
    if (rc >= 0) {
        free(sim->o.accounts);
        return rc;
    }
    if (uv_loop_init(&loop) < 0) {
        sc_error("event=start_failed reason=\"uv_loop_init\"");
        free(sim->o.accounts);
        return 1;
    }
    sim->loop = &loop;
    sim->start_ms = uv_now(&loop);
    uv_timer_init(&loop, &sim->stop_timer);
    sim->stop_timer.data = sim;
    sim_fault_init(sim);
    /* Signals first: a test may send SIGTERM as soon as the port file exists. */
    uv_signal_init(&loop, &sim->sig_term);
    uv_signal_init(&loop, &sim->sig_int);
    uv_signal_init(&loop, &sim->sig_usr1);
    sim->sig_term.data = sim->sig_int.data = sim->sig_usr1.data = sim;
    uv_signal_start(&sim->sig_term, on_signal, SIGTERM);
    uv_signal_start(&sim->sig_int, on_signal, SIGINT);
    uv_signal_start(&sim->sig_usr1, on_signal, SIGUSR1);

    int status = 0;
    char err[512] = "";
    if (sim->o.script && !(sim->script = sim_script_load(sim, sim->o.script))) {
        status = 2;
        goto close_loop;
    }
    if (sim->o.load.on && !(sim->load = sim_load_new(sim, err, sizeof err))) {
        fprintf(stderr, "smsc-sim: %s\nTry 'smsc-sim --help'.\n", err);
        status = 2;
        goto close_loop;
    }
    if (sim_server_start(sim, err, sizeof err) < 0) {
        char q[600];
        sc_error("event=start_failed reason=%s", sc_log_quote(q, sizeof q, err, strlen(err)));
        status = 1;
        goto close_loop;
    }
    if (sim->o.port_file && write_port_file(sim->o.port_file, sim->port) < 0) {
        sc_error("event=start_failed reason=\"cannot write --port-file\"");
        sim_stop(sim, 1);
    }

    if (sim->stopping) {
        /* start-up failed after listening: just shut down */
    } else if (sim->load) {
        sim_load_start(sim->load);
    } else if (sim->script) {
        sim_script_start(sim->script);
    } else if (sim->o.interactive || uv_guess_handle(0) == UV_TTY) {
        sim->tty = sim_tty_start(sim, err, sizeof err);
        if (!sim->tty || err[0]) {
            sc_error("event=start_failed reason=\"%s\"", err[0] ? err : "out of memory");
            sim_stop(sim, 1);
        }
    }

    uv_run(&loop, UV_RUN_DEFAULT);
    status = sim->exit_code;

close_loop:
    uv_walk(&loop, close_walk, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        sc_warn("event=loop_not_closed");
    sim->stopping = 1;
    sim_mo_drop_all(sim);
    sim_script_free(sim->script);
    sim->script = NULL;
    sim_tty_free(sim->tty);
    sim->tty = NULL;
    sim_load_free(sim->load);
    sim->load = NULL;
    sim_server_free(sim);
    sim_stats_free(sim);
    free(sim->o.accounts);
    return status;
}
