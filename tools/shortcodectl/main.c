/* main.c -- shortcodectl: command line, choice of Redis server, dispatch.
 *
 * Which Redis: --redis URL, else -c CONFIG's redis.url (with its connect and
 * command timeouts), else $SHORTCODED_REDIS_URL, else redis://127.0.0.1:6379.
 * The URL is never echoed: it may hold a password. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/sc.h"
#include "base/smpp.h"
#include "core/config.h"
#include "ctl.h"

#define DEFAULT_URL "redis://127.0.0.1:6379"
#define DEFAULT_TIMEOUT_MS 2000
#define EVENTS_DEFAULT 20
#define EVENTS_MAX 10000
#define DEFAULT_MAX_PARTS 8     /* smpp.max_parts when no -c CONFIG */
#define DEFAULT_MAX_BACKLOG 20000
#define RATE_MAX 1000000ul
#define BACKLOG_MAX 100000000ul

static const char g_usage[] =
"Usage: shortcodectl [-c CONFIG | --redis URL] COMMAND ...\n"
"Data import and inspection for shortcoded.\n"
"\n"
"Commands:\n"
"  import catalogue FILE.csv      services: code,name,price_fen[,provider[,kind]]\n"
"  import subscriptions FILE.csv  subscriptions: msisdn,code[,since]\n"
"  show MSISDN                    a subscriber's services, pending menu and\n"
"                                 confirmation, account, last 10 audit entries\n"
"  events [--count N]             the last N entries of vas:events (default 20)\n"
"  index-catalogue                build the vas:catalogue set from the vas:svc:*\n"
"                                 hashes once (SCANs the keyspace: offline use)\n"
"  push --to MSISDN --text TEXT [--kind K] [--priority 0..9] [--quiet]\n"
"       [--not-after TIME] [--from NUMBER] [--id ID]\n"
"                                 queue one text in mt:push; prints its id\n"
"  push --file FILE.csv           queue a file of texts: to,text[,kind,priority,\n"
"                                 quiet,not_after,from,id]; a re-run sends\n"
"                                 nothing twice\n"
"  push --file LIST --text TEXT --id-prefix PFX [--kind K] [--priority P]\n"
"       [--quiet] [--rate N/s] [--max-backlog N]\n"
"                                 one text to every MSISDN of LIST (one a line,\n"
"                                 or CSV first column); ids PFX:MSISDN\n"
"  bill-run --cycle YYYYMM --msisdns LIST [--rate N/s] [--max-backlog N]\n"
"       [--priority P]            push each subscriber's bill:{M}:YYYYMM as\n"
"                                 the CXZD reply renders it; resumable\n"
"  status ID                      a push's latest state and its recent\n"
"                                 mt:status entries\n"
"\n"
"Options:\n"
"  -c, --config FILE  use redis.url and its timeouts from the daemon's config\n"
"  --redis URL        redis://[[user]:password@]host[:port][/db]; default\n"
"                     $SHORTCODED_REDIS_URL, else redis://127.0.0.1:6379\n"
"  --skip-bad         import: import the good rows even if some are bad (exit 3)\n"
"  --progress         import: progress on stderr even when it is not a terminal\n"
"  --count N          events: how many entries, 1..10000\n"
"  --not-after TIME   push: unix ms, or YYYY-MM-DDTHH:MM[:SS] local time\n"
"                     (or ending in Z or +HH:MM); not sent later\n"
"  --quiet            push: held by the daemon during its quiet hours\n"
"  --id ID            push: 1..64 printable ASCII, no spaces; default\n"
"                     HOST-PID-MS-N. The same id is sent once.\n"
"  --skip-bad and --progress also apply to push --file (--progress to bill-run\n"
"                     and push --text too)\n"
"  --rate N[/s]       bill-run, push --text: at most N pushes a second\n"
"  --max-backlog N    bill-run, push --text: wait while more than N entries of\n"
"                     mt:push are unread or unfinished (default 20000)\n"
"  -h, --help         this text\n"
"  --version          print the version\n"
"\n"
"CSV files need a header line naming their columns (any order). An import\n"
"or push --file checks the whole file first and sends nothing if any row is\n"
"bad. A pushed text must fit smpp.max_parts SMS (of -c CONFIG; default 8).\n"
"Exit status: 0 ok, 1 bad data or redis error replies, 2 usage,\n"
"3 rows skipped by --skip-bad, 4 redis unreachable, 5 stopped by SIGINT\n"
"(bill-run, push --text: run it again to go on).\n";

struct cli {
    const char *config, *url;
    int skip_bad, progress;
    const char *file;        /* push --file */
    struct ctl_push_opts push;
    int push_fields;         /* push field options given */
    long count;              /* -1: not given */
    const char *cycle, *msisdns, *id_prefix;   /* bill-run, push --text */
    unsigned long rate, max_backlog;           /* 0: not given */
    struct sc_config *cfg;   /* -c CONFIG, kept for bill-run's templates */
    char **args;             /* the command and its arguments */
    int nargs;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "shortcodectl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'shortcodectl --help'.\n");
    va_end(ap);
    return CTL_EXIT_USAGE;
}

/* A number 1..max, optionally followed by suffix (e.g. "/s"). 0 if bad. */
static unsigned long parse_limit(const char *s, unsigned long max, const char *suffix)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || (*end && strcmp(end, suffix) != 0) || v < 1 || v > max)
        return 0;
    return v;
}

static long parse_count(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s >= '0' && *s <= '9' && !*end && v >= 1 && v <= EVENTS_MAX) ? v : -1;
}

/* Options may come anywhere (GNU getopt permutes). Returns -1 to go on, or
 * an exit code. */
static int parse_cli(int argc, char **argv, struct cli *cli)
{
    enum { O_REDIS = 256, O_SKIP_BAD, O_PROGRESS, O_COUNT, O_VERSION, O_FILE, O_QUIET,
           O_TO, O_TEXT, O_KIND, O_PRIORITY, O_NOT_AFTER, O_FROM, O_ID, O_CYCLE, O_MSISDNS,
           O_RATE, O_MAX_BACKLOG, O_ID_PREFIX };
    static const struct option opts[] = {
        {"file", required_argument, NULL, O_FILE},   {"quiet", no_argument, NULL, O_QUIET},
        {"to", required_argument, NULL, O_TO},       {"text", required_argument, NULL, O_TEXT},
        {"kind", required_argument, NULL, O_KIND},
        {"priority", required_argument, NULL, O_PRIORITY},
        {"not-after", required_argument, NULL, O_NOT_AFTER},
        {"from", required_argument, NULL, O_FROM},   {"id", required_argument, NULL, O_ID},
        {"cycle", required_argument, NULL, O_CYCLE},
        {"msisdns", required_argument, NULL, O_MSISDNS},
        {"rate", required_argument, NULL, O_RATE},
        {"max-backlog", required_argument, NULL, O_MAX_BACKLOG},
        {"id-prefix", required_argument, NULL, O_ID_PREFIX},
        {"config", required_argument, NULL, 'c'},  {"redis", required_argument, NULL, O_REDIS},
        {"skip-bad", no_argument, NULL, O_SKIP_BAD}, {"progress", no_argument, NULL, O_PROGRESS},
        {"count", required_argument, NULL, O_COUNT}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},   {NULL, 0, NULL, 0},
    };
    int c;
    cli->count = -1;
    cli->push.lim.seg_mode = SC_SEG_UDH;      /* the daemon's defaults */
    cli->push.lim.max_parts = DEFAULT_MAX_PARTS;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cli->config = optarg; break;
        case O_REDIS: cli->url = optarg; break;
        case O_SKIP_BAD: cli->skip_bad = 1; break;
        case O_PROGRESS: cli->progress = 1; break;
        case O_COUNT:
            if ((cli->count = parse_count(optarg)) < 0)
                return usage_error("--count: expected a number 1..10000, got '%s'", optarg);
            break;
        case O_FILE: cli->file = optarg; break;
        case O_QUIET: cli->push.quiet = 1; cli->push_fields++; break;
        case O_TO: cli->push.to = optarg; cli->push_fields++; break;
        case O_TEXT: cli->push.text = optarg; cli->push_fields++; break;
        case O_KIND: cli->push.kind = optarg; cli->push_fields++; break;
        case O_PRIORITY: cli->push.priority = optarg; cli->push_fields++; break;
        case O_NOT_AFTER: cli->push.not_after = optarg; cli->push_fields++; break;
        case O_FROM: cli->push.from = optarg; cli->push_fields++; break;
        case O_ID: cli->push.id = optarg; cli->push_fields++; break;
        case O_CYCLE: cli->cycle = optarg; break;
        case O_MSISDNS: cli->msisdns = optarg; break;
        case O_ID_PREFIX: cli->id_prefix = optarg; break;
        case O_RATE:
            if (!(cli->rate = parse_limit(optarg, RATE_MAX, "/s")))
                return usage_error("--rate: expected N or N/s, 1..%lu, got '%s'", RATE_MAX,
                                   optarg);
            break;
        case O_MAX_BACKLOG:
            if (!(cli->max_backlog = parse_limit(optarg, BACKLOG_MAX, "")))
                return usage_error("--max-backlog: expected a number 1..%lu, got '%s'",
                                   BACKLOG_MAX, optarg);
            break;
        case 'h': fputs(g_usage, stdout); return CTL_EXIT_OK;
        case O_VERSION: printf("shortcodectl %s\n", SC_VERSION); return CTL_EXIT_OK;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (cli->config && cli->url)
        return usage_error("give -c CONFIG or --redis URL, not both");
    cli->args = argv + optind;
    cli->nargs = argc - optind;
    return -1;
}

/* Fill r from the chosen URL. Returns -1 to go on, or an exit code. */
static int choose_redis(struct cli *cli, struct ctl_redis *r)
{
    char err[512];
    struct sc_config *cfg = NULL;
    const char *url = cli->url;
    r->connect_timeout_ms = r->command_timeout_ms = DEFAULT_TIMEOUT_MS;
    if (cli->config) {
        if (!(cfg = sc_config_load(cli->config, err, sizeof err))) {
            fprintf(stderr, "%s\n", err);
            return CTL_EXIT_USAGE;
        }
        url = cfg->redis.url;
        r->connect_timeout_ms = cfg->redis.connect_timeout_ms;
        r->command_timeout_ms = cfg->redis.command_timeout_ms;
        cli->push.lim.seg_mode = cfg->smpp.seg_mode;
        cli->push.lim.max_parts = (unsigned)cfg->smpp.max_parts;
    }
    if (!url) {                     /* neither --redis nor -c */
        url = getenv("SHORTCODED_REDIS_URL");
        if (!url || !*url)
            url = DEFAULT_URL;
    }
    int rc = ctl_redis_parse_url(r, url, err, sizeof err);
    cli->cfg = cfg;             /* freed by main */
    if (rc < 0) {
        fprintf(stderr, "shortcodectl: %s\n", err);
        return CTL_EXIT_USAGE;
    }
    return -1;
}

/* --priority of a run: one digit (the push checks its own). -1 or an exit code. */
static int check_run_priority(const struct cli *cli)
{
    const char *p = cli->push.priority;
    if (p && (strlen(p) != 1 || *p < '0' || *p > '9'))
        return usage_error("--priority \"%s\" must be one digit, 0 (urgent) .. 9 (bulk)", p);
    return -1;
}

/* push --file LIST --text TEXT --id-prefix PFX: the run's options only. */
static int check_push_list(const struct cli *cli)
{
    const struct ctl_push_opts *p = &cli->push;
    if (!cli->id_prefix)
        return usage_error("push --file LIST --text needs --id-prefix PFX (ids PFX:MSISDN, so "
                           "that a re-run sends nothing twice)");
    if (p->to || p->not_after || p->from || p->id || cli->skip_bad)
        return usage_error("push --file LIST --text takes --kind, --priority, --quiet, --rate, "
                           "--max-backlog, --id-prefix and --progress only");
    return check_run_priority(cli);
}

/* push: either --file alone or the fields (--to and --text at least). */
static int check_push(const struct cli *cli)
{
    if (cli->nargs != 1 || cli->count >= 0 || cli->cycle || cli->msisdns)
        return usage_error("usage: push --to MSISDN --text TEXT [options] | push --file FILE.csv");
    if (cli->file && cli->push.text)
        return check_push_list(cli);
    if (cli->id_prefix || cli->rate || cli->max_backlog)
        return usage_error("--id-prefix, --rate and --max-backlog apply to push --file LIST "
                           "--text and bill-run only");
    if (cli->file && cli->push_fields)
        return usage_error("push --file takes its fields from the file's columns (or --text "
                           "for one text to a list of MSISDNs)");
    if (!cli->file && (cli->skip_bad || cli->progress))
        return usage_error("--skip-bad and --progress apply to push --file only");
    if (!cli->file && (!cli->push.to || !cli->push.text))
        return usage_error("push needs --to and --text (or --file FILE.csv)");
    return -1;
}

/* bill-run --cycle YYYYMM --msisdns LIST [--rate] [--max-backlog]
 * [--priority] [--progress]. */
static int check_bill_run(const struct cli *cli)
{
    if (cli->nargs != 1 || !cli->cycle || !cli->msisdns)
        return usage_error("usage: bill-run --cycle YYYYMM --msisdns LIST [--rate N/s] "
                           "[--max-backlog N] [--priority P] [--progress]");
    if (cli->skip_bad || cli->count >= 0 || cli->file || cli->id_prefix ||
        cli->push_fields != (cli->push.priority ? 1 : 0))
        return usage_error("bill-run takes --cycle, --msisdns, --rate, --max-backlog, "
                           "--priority and --progress only");
    return check_run_priority(cli);
}

/* Check the command's shape and the options it allows. -1 or an exit code. */
static int check_command(const struct cli *cli)
{
    if (cli->nargs == 0)
        return usage_error("no command (import, push, bill-run, status, show, events, "
                           "index-catalogue)");
    const char *cmd = cli->args[0];
    if (strcmp(cmd, "push") == 0)
        return check_push(cli);
    if (strcmp(cmd, "bill-run") == 0)
        return check_bill_run(cli);
    if (cli->cycle || cli->msisdns || cli->id_prefix || cli->rate || cli->max_backlog)
        return usage_error("--cycle, --msisdns, --id-prefix, --rate and --max-backlog apply to "
                           "bill-run and push --file --text only");
    if (cli->file || cli->push_fields)
        return usage_error("--file, --to, --text, --kind, --priority, --quiet, --not-after, "
                           "--from and --id apply to push only");
    if (strcmp(cmd, "status") == 0) {
        if (cli->skip_bad || cli->progress || cli->count >= 0 || cli->nargs != 2)
            return usage_error("usage: status ID");
        return -1;
    }
    int import = strcmp(cmd, "import") == 0, events = strcmp(cmd, "events") == 0;
    if (strcmp(cmd, "index-catalogue") == 0) {
        if (cli->skip_bad || cli->progress || cli->count >= 0 || cli->nargs != 1)
            return usage_error("usage: index-catalogue (no arguments or options)");
        return -1;
    }
    if (!import && !events && strcmp(cmd, "show") != 0)
        return usage_error("unknown command '%s'", cmd);
    if (!import && (cli->skip_bad || cli->progress))
        return usage_error("--skip-bad and --progress apply to import only");
    if (!events && cli->count >= 0)
        return usage_error("--count applies to events only");
    if (import && (cli->nargs != 3 || (strcmp(cli->args[1], "catalogue") != 0 &&
                                       strcmp(cli->args[1], "subscriptions") != 0)))
        return usage_error("usage: import catalogue|subscriptions FILE.csv");
    if (!import && !events && cli->nargs != 2)
        return usage_error("usage: show MSISDN");
    if (events && cli->nargs != 1)
        return usage_error("usage: events [--count N]");
    return -1;
}

static unsigned long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
}

static int run(const struct cli *cli, struct ctl_redis *r)
{
    const char *cmd = cli->args[0];
    if (strcmp(cmd, "import") == 0) {
        struct ctl_import_opts o = {
            .table = strcmp(cli->args[1], "catalogue") == 0 ? CTL_CATALOGUE : CTL_SUBSCRIPTIONS,
            .path = cli->args[2],
            .skip_bad = cli->skip_bad,
            .progress = cli->progress || isatty(STDERR_FILENO),
        };
        return ctl_import(r, &o);
    }
    struct ctl_list_opts lo = {
        .path = cli->file ? cli->file : cli->msisdns, .cycle = cli->cycle,
        .id_prefix = cli->id_prefix, .text = cli->push.text, .kind = cli->push.kind,
        .priority = cli->push.priority, .quiet = cli->push.quiet, .rate = cli->rate,
        .max_backlog = cli->max_backlog ? cli->max_backlog : DEFAULT_MAX_BACKLOG,
        .progress = cli->progress || isatty(STDERR_FILENO), .lim = cli->push.lim, .cfg = cli->cfg,
    };
    if (strcmp(cmd, "bill-run") == 0)
        return ctl_bill_run(r, &lo);
    if (strcmp(cmd, "push") == 0 && cli->file && cli->push.text)
        return ctl_push_list(r, &lo);
    if (strcmp(cmd, "push") == 0 && cli->file) {
        struct ctl_import_opts o = {
            .table = CTL_PUSH,
            .path = cli->file,
            .skip_bad = cli->skip_bad,
            .progress = cli->progress || isatty(STDERR_FILENO),
            .lim = cli->push.lim,
            .now_ms = now_ms(),
        };
        return ctl_import(r, &o);
    }
    if (strcmp(cmd, "push") == 0)
        return ctl_push(r, &cli->push);
    if (strcmp(cmd, "status") == 0)
        return ctl_status(r, cli->args[1]);
    if (strcmp(cmd, "show") == 0)
        return ctl_show(r, cli->args[1]);
    if (strcmp(cmd, "index-catalogue") == 0)
        return ctl_index_catalogue(r);
    return ctl_events(r, cli->count > 0 ? cli->count : EVENTS_DEFAULT);
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    struct ctl_redis r = {0};
    signal(SIGPIPE, SIG_IGN);   /* a server that hangs up is an error, not a kill */
    int rc = parse_cli(argc, argv, &cli);
    if (rc < 0)
        rc = check_command(&cli);
    if (rc < 0)
        rc = choose_redis(&cli, &r);
    if (rc < 0)
        rc = run(&cli, &r);
    ctl_redis_close(&r);
    sc_config_free(cli.cfg);
    return rc;
}
