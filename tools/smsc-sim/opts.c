/* opts.c -- smsc-sim's command line: usage text, one table of options read
 * with getopt_long, the checks across options, and the small parsers the
 * script and load modes share (numbers, shares, addresses, --mix, --expect-regex).
 *
 * Each option is one row of g_opts: where its value goes in struct sim_opts
 * and how it is checked (a flag, a string, a bounded number, a share, or a
 * function of its own), with the usage error it prints. The help text below
 * is the contract of docs/simulator.md: keep them in step. */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "opts.h"
#include "text/text.h"

const char *const sim_scn_name[SIM_SCN_N] = {"0000", "cancel", "unknown", "longtd"};

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
"                           each submit_sm / data_sm with registered_delivery & 1\n"
"                           (registered_delivery 2: for a failed one only)\n"
"  --enquire-link-ms N      send enquire_link after N ms without traffic (default 0 = off)\n"
"  --throttle-every N       answer every Nth submit_sm with ESME_RTHROTTLED (default 0 = off)\n"
"  --resp-delay-ms N        delay every submit_sm_resp by N ms (default 0)\n"
"  --resp-rate R            send at most R submit_sm_resps per second, the others wait\n"
"                           (default 0 = no bound; with --resp-delay-ms: slow SMSC)\n"
"  --stats FILE             write counters as JSON at exit and on SIGUSR1\n"
"  --log-level L            debug, info, warn or error (default info); logs go to stderr\n"
"  --max-pdu N              largest command_length accepted (default 4096)\n"
"  --max-sessions N         ESME connections at once (default 64)\n"
"  --max-binds N            binds per system_id at once; beyond, the bind is refused\n"
"                           (default 0 = no bound; counted in --stats \"accounts\")\n"
"  --max-binds-status S     that refusal: bindfail (ESME_RBINDFAIL, default) or alybnd\n"
"  --window N               deliver_sm/data_sm awaiting resp per session (default 10)\n"
"  --resp-timeout-ms N      wait for a resp to anything we send (default 10000)\n"
"  --max-queue N            bound of the MO queue, delayed resps and unread MTs (default 100000)\n"
"  --system-id ID           system_id in bind resps (default smsc-sim)\n"
"  --dc0 gsm|latin1|ascii   meaning of data_coding 0 in MTs (default gsm)\n"
"  --fail-fast              stop a script at its first failure\n"
"  --msgid-prefix P         put P before every message_id (1..16 characters), e.g. to\n"
"                           keep ids unique across restarts of the simulator\n"
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

static const char g_usage_dlr[] =
"Delivery receipts (with --dlr; any of these implies --dlr; choices from --seed):\n"
"  --dlr-delay-ms N|MIN-MAX receipt N ms, or MIN..MAX ms (uniform), after the\n"
"                           submit_sm_resp ROK (0..86400000, default 0)\n"
"  --dlr-undeliv-share P    P % of receipts say stat:UNDELIV (default 0)\n"
"  --dlr-expired-share P    P % say stat:EXPIRED (default 0; the two add up to <= 100)\n"
"  --dlr-undeliv-err N      their err: code (0..999, default 1)\n"
"  --dlr-expired-err N      (0..999, default 2); stat:DELIVRD has err:000\n"
"  --dlr-bind any|same|other  session a receipt goes to among those of the same\n"
"                           system_id: any (default), the one that submitted, or\n"
"                           another one (either falls back to any when none is bound)\n"
"  --dlr-max-pending N      receipts waiting for their time; beyond, dropped and\n"
"                           counted (1..10000000, default 100000)\n"
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


/* ---- small parsers -------------------------------------------------------------- */

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

int sim_parse_pct(const char *s, double *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-' || *s == '+')
        return SC_EINVAL;
    double v = strtod(s, &end);
    if (!end || *end || !(v >= 0.0 && v <= 100.0))
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

static int scn_parse(const char *s, size_t n)
{
    for (int i = 0; i < SIM_SCN_N; i++)
        if (strlen(sim_scn_name[i]) == n && memcmp(sim_scn_name[i], s, n) == 0)
            return i;
    return -1;
}

int sim_parse_mix(const char *s, unsigned mix[SIM_SCN_N])
{
    unsigned m[SIM_SCN_N] = {0};
    unsigned total = 0;
    while (*s) {
        const char *colon = strchr(s, ':');
        if (!colon)
            return SC_EINVAL;
        int k = scn_parse(s, (size_t)(colon - s));
        if (k < 0)
            return SC_EINVAL;
        const char *end = strchr(colon + 1, ',');
        size_t n = end ? (size_t)(end - colon - 1) : strlen(colon + 1);
        char num[16];
        uint64_t v;
        if (n == 0 || n >= sizeof num)
            return SC_EINVAL;
        memcpy(num, colon + 1, n);
        num[n] = '\0';
        if (sim_parse_uint(num, 0, 1000000, &v) < 0)
            return SC_EINVAL;
        m[k] = (unsigned)v;
        total += (unsigned)v;
        s = end ? end + 1 : colon + 1 + n;
    }
    if (total == 0)
        return SC_EINVAL;
    memcpy(mix, m, sizeof m);
    return 0;
}

int sim_parse_expect(const char *s, const char *expect[SIM_SCN_N])
{
    const char *eq = strchr(s, '=');
    if (!eq || !eq[1])
        return SC_EINVAL;
    int k = scn_parse(s, (size_t)(eq - s));
    if (k < 0)
        return SC_EINVAL;
    expect[k] = eq + 1;
    return 0;
}

/* ---- options with a parser of their own ----------------------------------------- */

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

static int opt_listen(struct sim_opts *o, const char *a)
{
    const char *colon = strrchr(a, ':');
    uint64_t v;
    if (!colon || colon == a || sim_parse_uint(colon + 1, 0, 65535, &v) < 0 ||
        sc_strlcpy(o->listen_host, a, sizeof o->listen_host) >= sizeof o->listen_host)
        return SC_EINVAL;
    return 0;
}

static int opt_from(struct sim_opts *o, const char *a)
{
    return sim_addr_valid(a) ? (sc_strlcpy(o->from, a, sizeof o->from), 0) : SC_EINVAL;
}

static int opt_to(struct sim_opts *o, const char *a)
{
    return sim_addr_valid(a) ? (sc_strlcpy(o->to, a, sizeof o->to), 0) : SC_EINVAL;
}

static int opt_log_level(struct sim_opts *o, const char *a)
{
    (void)o;
    int l = sc_log_level_parse(a);
    if (l < 0)
        return SC_EINVAL;
    sc_log_set_level((enum sc_log_level)l);
    return 0;
}

static int opt_system_id(struct sim_opts *o, const char *a)
{
    return sc_strlcpy(o->system_id, a, sizeof o->system_id) >= sizeof o->system_id ? SC_EINVAL
                                                                                    : 0;
}

/* 1..16 printable ASCII characters, no space (a receipt's id: ends at one). */
static int opt_msgid_prefix(struct sim_opts *o, const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n >= sizeof o->msgid_prefix || !sim_addr_valid(a))
        return SC_EINVAL;
    sc_strlcpy(o->msgid_prefix, a, sizeof o->msgid_prefix);
    return 0;
}

static int opt_dc0(struct sim_opts *o, const char *a)
{
    return (o->dc0 = sc_dc0_parse(a)) < 0 ? SC_EINVAL : 0;
}

static int opt_max_binds_status(struct sim_opts *o, const char *a)
{
    if (strcmp(a, "bindfail") == 0)
        o->max_binds_status = SC_ESME_RBINDFAIL;
    else if (strcmp(a, "alybnd") == 0)
        o->max_binds_status = SC_ESME_RALYBND;
    else
        return SC_EINVAL;
    return 0;
}

static int opt_mix(struct sim_opts *o, const char *a)
{
    return sim_parse_mix(a, o->load.mix);
}

static int opt_expect(struct sim_opts *o, const char *a)
{
    return sim_parse_expect(a, o->load.expect);
}

/* "N" or "MIN-MAX" (ms, MIN <= MAX). */
static int opt_dlr_delay(struct sim_opts *o, const char *a)
{
    char lo[24], *dash = strchr(a, '-');
    uint64_t min = 0, max = 0;
    if (!dash) {
        if (sim_parse_uint(a, 0, 86400000, &min) < 0)
            return SC_EINVAL;
        max = min;
    } else {
        size_t n = (size_t)(dash - a);
        if (n == 0 || n >= sizeof lo)
            return SC_EINVAL;
        memcpy(lo, a, n);
        lo[n] = '\0';
        if (sim_parse_uint(lo, 0, 86400000, &min) < 0 ||
            sim_parse_uint(dash + 1, 0, 86400000, &max) < 0 || max < min)
            return SC_EINVAL;
    }
    o->r.delay_min_ms = (uint32_t)min;
    o->r.delay_max_ms = (uint32_t)max;
    o->dlr = 1;
    return 0;
}

static int opt_dlr_bind(struct sim_opts *o, const char *a)
{
    static const char *const names[] = {"any", "same", "other"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(a, names[i]) == 0) {
            o->r.bind = i;
            o->dlr = 1;
            return 0;
        }
    }
    return SC_EINVAL;
}

static int opt_rate(struct sim_opts *o, const char *a)
{
    uint64_t v = 0;
    if (strcmp(a, "max") != 0 && sim_parse_uint(a, 1, 10000000, &v) < 0)
        return SC_EINVAL;
    o->load.rate = v;
    return 0;
}

/* ---- the table ------------------------------------------------------------------- */

enum opt_kind {
    O_FLAG,                      /* int set to 1 */
    O_STR,                       /* const char * = the argument */
    O_NUM,                       /* integer of `size` bytes in [min, max], times scale */
    O_PCT,                       /* double, a share 0..100 */
    O_FN,                        /* fn(o, arg) */
};

struct opt_def {
    const char *name;
    enum opt_kind kind;
    size_t off;                  /* of the value in struct sim_opts */
    unsigned size;               /* O_NUM: sizeof the value */
    uint64_t min, max, scale;
    int (*fn)(struct sim_opts *o, const char *a);
    /* Usage error: "%s" is the argument, or with `word` the option as typed
     * and then the argument. */
    const char *msg;
    int word;
};

#define SZ(f) (unsigned)sizeof(((struct sim_opts *)0)->f)
#define FLAG(n, f) {n, O_FLAG, offsetof(struct sim_opts, f), 0, 0, 0, 0, NULL, NULL, 0}
#define STR(n, f) {n, O_STR, offsetof(struct sim_opts, f), 0, 0, 0, 0, NULL, NULL, 0}
#define NUMS(n, f, lo, hi, sc, m, w) \
    {n, O_NUM, offsetof(struct sim_opts, f), SZ(f), lo, hi, sc, NULL, m, w}
#define NUM(n, f, lo, hi, m) NUMS(n, f, lo, hi, 1, m, 0)
#define PCT(n, f) {n, O_PCT, offsetof(struct sim_opts, f), 0, 0, 0, 0, NULL, \
                   "%s: expected a percentage 0..100, got \"%s\"", 1}
#define FN(n, fn, m) {n, O_FN, 0, 0, 0, 0, 0, fn, m, 0}

static const char g_bad_ms[] = "bad number \"%s\" (0..86400000)";
static const char g_bad_fault[] = "%s: bad number \"%s\"";

static const struct opt_def g_opts[] = {
    FN("listen", opt_listen, "--listen: expected HOST:PORT (port 0..65535), got \"%s\""),
    STR("port-file", port_file),
    FN("account", add_account, "--account: expected SYSID:PASSWORD (system_id 1..15 "
                               "bytes, password 0..8 bytes), got \"%s\""),
    STR("script", script),
    FLAG("interactive", interactive),
    FN("from", opt_from, "bad address \"%s\" (1 to 20 printable characters)"),
    FN("to", opt_to, "bad address \"%s\" (1 to 20 printable characters)"),
    NUM("timeout-ms", timeout_ms, 1, 86400000, g_bad_ms),
    FLAG("dlr", dlr),
    NUM("enquire-link-ms", enquire_link_ms, 0, 86400000, g_bad_ms),
    NUM("throttle-every", throttle_every, 0, 86400000, g_bad_ms),
    NUM("resp-delay-ms", resp_delay_ms, 0, 86400000, g_bad_ms),
    STR("stats", stats_file),
    FN("log-level", opt_log_level, "--log-level: expected debug, info, warn or error, got \"%s\""),
    NUM("max-pdu", max_pdu, 64, 1 << 20, "--max-pdu: expected 64..1048576, got \"%s\""),
    NUM("max-sessions", max_sessions, 1, 10000, "--max-sessions: expected 1..10000, got \"%s\""),
    NUM("max-binds", max_binds, 0, 10000, "--max-binds: expected 0..10000, got \"%s\""),
    FN("max-binds-status", opt_max_binds_status,
       "--max-binds-status: expected bindfail or alybnd, got \"%s\""),
    NUM("window", window, 1, 10000, "--window: expected 1..10000, got \"%s\""),
    NUM("resp-timeout-ms", resp_timeout_ms, 1, 86400000, g_bad_ms),
    NUM("max-queue", max_queue, 1, 100000000, "--max-queue: expected 1..100000000, got \"%s\""),
    FN("system-id", opt_system_id, "--system-id: at most 15 bytes: \"%s\""),
    FN("dc0", opt_dc0, "--dc0: expected gsm, latin1 or ascii, got \"%s\""),
    FLAG("fail-fast", fail_fast),
    FN("msgid-prefix", opt_msgid_prefix, "--msgid-prefix: expected 1..16 printable characters "
                                         "without spaces, got \"%s\""),
    /* load mode */
    FLAG("load", load.on),
    NUM("subscribers", load.subscribers, 1, 100000000,
        "--subscribers: expected 1..100000000, got \"%s\""),
    FN("mix", opt_mix, "--mix: expected SCENARIO:WEIGHT,... with scenarios 0000, "
                       "cancel, unknown, longtd and a positive total, got \"%s\""),
    NUM("ucs2-share", load.ucs2_pct, 0, 100,
        "--ucs2-share: expected a percentage 0..100, got \"%s\""),
    NUM("datasm-share", load.datasm_pct, 0, 100,
        "--datasm-share: expected a percentage 0..100, got \"%s\""),
    FN("rate", opt_rate, "--rate: expected 1..10000000 or max, got \"%s\""),
    NUM("mo-window", window, 1, 10000, "--mo-window: expected 1..10000, got \"%s\""),
    NUM("count", load.count, 0, UINT64_MAX / 2, "--count: expected a number, got \"%s\""),
    NUMS("duration", load.duration_ms, 1, 86400 * 7, 1000,
         "--duration: expected 1..604800 seconds, got \"%s\"", 0),
    NUM("reply-timeout-ms", load.reply_timeout_ms, 1, 3600000,
        "--reply-timeout-ms: expected 1..3600000, got \"%s\""),
    FN("expect-regex", opt_expect, "--expect-regex: expected SCENARIO=REGEX with scenario "
                                   "0000, cancel, unknown or longtd, got \"%s\""),
    STR("json", load.json),
    NUM("binds", load.binds, 1, 10000, "--binds: expected 1..10000, got \"%s\""),
    NUM("seed", load.seed, 0, UINT64_MAX, "--seed: expected a number, got \"%s\""),
    FLAG("pack-each", load.pack_each),
    STR("td-codes", load.td_codes),
    NUM("long-gap-ms", load.long_gap_ms, 0, 60000, "--long-gap-ms: expected 0..60000, got \"%s\""),
    /* fault injection */
    PCT("throttle-share", f.throttle_pct),
    PCT("msgqfull-share", f.msgqfull_pct),
    PCT("drop-resp-share", f.drop_resp_pct),
    NUMS("close-every", f.close_every, 0, 86400000, 1, g_bad_fault, 1),
    PCT("close-random", f.close_random_pct),
    NUMS("unbind-after", f.unbind_after, 0, 86400000, 1, g_bad_fault, 1),
    FLAG("redeliver", f.redeliver),
    NUMS("redeliver-timeout-ms", f.redeliver_timeout_ms, 1, 86400000, 1, g_bad_fault, 1),
    NUMS("redeliver-max", f.redeliver_max, 0, 65535, 1, g_bad_fault, 1),
    NUMS("redeliver-interval-ms", f.redeliver_interval_ms, 0, 86400000, 1, g_bad_fault, 1),
    FLAG("dup-parts", f.dup_parts),
    FLAG("reorder-parts", f.reorder_parts),
    PCT("hostile-share", f.hostile_pct),
    /* delivery receipts, slow mode */
    NUM("resp-rate", resp_rate, 0, 10000000, "--resp-rate: expected 0..10000000, got \"%s\""),
    FN("dlr-delay-ms", opt_dlr_delay, "--dlr-delay-ms: expected N or MIN-MAX in "
                                      "0..86400000 with MIN <= MAX, got \"%s\""),
    PCT("dlr-undeliv-share", r.undeliv_pct),
    PCT("dlr-expired-share", r.expired_pct),
    NUM("dlr-undeliv-err", r.undeliv_err, 0, 999, "--dlr-undeliv-err: expected 0..999, got \"%s\""),
    NUM("dlr-expired-err", r.expired_err, 0, 999, "--dlr-expired-err: expected 0..999, got \"%s\""),
    FN("dlr-bind", opt_dlr_bind, "--dlr-bind: expected any, same or other, got \"%s\""),
    NUM("dlr-max-pending", r.max_pending, 1, 10000000,
        "--dlr-max-pending: expected 1..10000000, got \"%s\""),
};

#define NOPTS (sizeof g_opts / sizeof g_opts[0])
#define OPT_BASE 256             /* getopt_long's value of g_opts[i]: OPT_BASE + i */

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

/* usage_error for a row's message: each "%s" in t is replaced by the next
 * of first, second (the table's messages are data, not format strings). */
static int usage_tmpl(const char *t, const char *first, const char *second)
{
    const char *arg[2] = {first, second};
    int k = 0;
    fputs("smsc-sim: ", stderr);
    for (const char *p = t; *p; p++) {
        if (p[0] == '%' && p[1] == 's' && k < 2 && arg[k]) {
            fputs(arg[k++], stderr);
            p++;
        } else {
            fputc(*p, stderr);
        }
    }
    fputs("\nTry 'smsc-sim --help'.\n", stderr);
    return 2;
}

static void set_defaults(struct sim_opts *o)
{
    sc_strlcpy(o->listen_host, "127.0.0.1:2775", sizeof o->listen_host);
    sc_strlcpy(o->from, "13800138000", sizeof o->from);
    sc_strlcpy(o->to, "10086", sizeof o->to);
    sc_strlcpy(o->system_id, "smsc-sim", sizeof o->system_id);
    o->timeout_ms = 5000;
    o->max_pdu = 4096;
    o->max_sessions = 64;
    o->max_binds_status = SC_ESME_RBINDFAIL;
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
    o->r.undeliv_err = 1;
    o->r.expired_err = 2;
    o->r.max_pending = 100000;
}

/* Store one option's value; 0, or the usage error's exit status. */
static int apply(struct sim_opts *o, const struct opt_def *d, const char *word, const char *a)
{
    char *at = (char *)o + d->off;
    uint64_t v;
    double pct;
    int bad = 0;
    switch (d->kind) {
    case O_FLAG: *(int *)at = 1; return 0;
    case O_STR: *(const char **)at = a; return 0;
    case O_FN: bad = d->fn(o, a) < 0; break;
    case O_PCT:
        if (!(bad = sim_parse_pct(a, &pct) < 0))
            *(double *)at = pct;
        break;
    case O_NUM:
        if (!(bad = sim_parse_uint(a, d->min, d->max, &v) < 0)) {
            v *= d->scale;
            if (d->size == sizeof(uint64_t))
                memcpy(at, &v, sizeof v);
            else {
                uint32_t v32 = (uint32_t)v;
                memcpy(at, &v32, sizeof v32);
            }
        }
        break;
    }
    if (!bad)
        return 0;
    return d->word ? usage_tmpl(d->msg, word, a) : usage_tmpl(d->msg, a, NULL);
}

int sim_opts_parse(int argc, char **argv, struct sim_opts *o)
{
    _Static_assert(sizeof(unsigned) == sizeof(uint32_t), "O_NUM stores 4 or 8 bytes");
    _Static_assert(sizeof(size_t) == sizeof(uint64_t), "O_NUM stores 4 or 8 bytes");
    struct option lo[NOPTS + 2];
    for (size_t i = 0; i < NOPTS; i++) {
        int has = g_opts[i].kind == O_FLAG ? no_argument : required_argument;
        lo[i] = (struct option){g_opts[i].name, has, NULL, (int)(OPT_BASE + i)};
    }
    lo[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    lo[NOPTS + 1] = (struct option){NULL, 0, NULL, 0};

    set_defaults(o);
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (c >= OPT_BASE && (size_t)(c - OPT_BASE) < NOPTS) {
            int rc = apply(o, &g_opts[c - OPT_BASE], argv[optind - 1], optarg);
            if (rc)
                return rc;
        } else if (c == 'h') {
            fputs(g_usage, stdout);
            fputs(g_usage_faults, stdout);
            fputs(g_usage_dlr, stdout);
            fputs(g_usage_load, stdout);
            fputs(g_usage_script, stdout);
            return 0;
        } else if (c == ':') {
            return usage_error("option needs a value: %s", argv[optind - 1]);
        } else {
            return usage_error("unknown option: %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument: %s", argv[optind]);
    if (o->script && o->interactive)
        return usage_error("%s", "--script and --interactive exclude each other");
    if (o->load.on && (o->script || o->interactive))
        return usage_error("%s", "--load excludes --script and --interactive");
    if (o->r.undeliv_pct + o->r.expired_pct > 100.0)
        return usage_error("%s", "--dlr-undeliv-share and --dlr-expired-share add up to more than 100");
    if (o->r.undeliv_pct > 0 || o->r.expired_pct > 0)
        o->dlr = 1;
    if (o->naccounts == 0 && add_account(o, "shortcoded:secret") < 0)
        return 1;
    return -1;
}

void sim_opts_free(struct sim_opts *o)
{
    free(o->accounts);
    o->accounts = NULL;
    o->naccounts = 0;
}
