/* import.c -- `shortcodectl import` and `push --file`: CSV files into the
 * Redis keys of docs/contracts.md ("Redis data"), all or nothing. The engine
 * here runs any table of table.h; the catalogue and subscription tables are
 * below, the push file's is in push.c.
 *
 * Two streaming passes over the file, so memory stays bounded whatever its
 * size: pass 1 parses and checks every row and counts them, without Redis;
 * if any row is bad, nothing is imported (unless --skip-bad). Pass 2 parses
 * again and sends one HSET per good row (a subscription with a
 * confirmation reference also its sub:{M}:conf HSET), pipelined: commands
 * go out in batches of BATCH, and the replies to one batch are read only after the
 * next batch has been queued, so Redis works on a batch while we parse the
 * next one. Every reply is checked. HSET is idempotent, so an import cut
 * short (connection lost) can simply be run again (a push row is one XADD:
 * a re-run adds it again under the same id, which the daemon sends once).
 *
 * A catalogue row is also added to the vas:catalogue set (the daemon reads
 * the catalogue from it, never by SCAN), in the same pipeline right after
 * its hash, so the set never names a code whose hash was not written first;
 * and to a scratch set, so that after the import the codes in vas:catalogue
 * that this file did not import are listed (SDIFF). They are kept: a
 * withdrawn service may still be paid for, and dropping it would make
 * "0000" show it without name or fee. Names and providers holding control
 * characters are imported but warned about (pass 1). */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sc.h"
#include "check.h"
#include "csvfile.h"
#include "ctl.h"
#include "store/keys.h"
#include "table.h"

#define MAX_RECORD_BYTES (64 * 1024)
#define MAX_FIELDS 16
#define MAX_LISTED 20               /* bad rows (and redis errors) listed */
#define BATCH 1000                  /* commands per pipelined write */
#define PRICE_MAX 2147483647u       /* fen */
#define SINCE_MAX 9999999999u       /* unix seconds (year 2286) */
#define CONF_MAX 64                 /* bytes of a confirmation reference */
#define RING (2 * BATCH + CTL_MAX_EXTRA + 1)
#define SET_KEY SC_KEY_CATALOGUE

struct progress {
    int on, tty, shown;
    double start, import_start, last;
};

struct ctl_importer {
    const struct ctl_csv_table *t;
    const struct ctl_import_opts *o;
    struct ctl_redis *r;
    int pass;                          /* 1: check, 2: import */
    int colmap[MAX_FIELDS];            /* file column -> table column */
    size_t nfilecols;                  /* 0 until the header is read */
    int lost;                          /* pass 2: connection lost */
    unsigned long line;                /* where the current row starts */
    unsigned long rows, bad;           /* this pass: data rows, bad among them */
    unsigned long total, total_bad;    /* found by pass 1 */
    unsigned long listed, redis_listed, warn_listed;
    uint64_t now;                      /* default "since" */
    unsigned long sent_line[RING];     /* pass 2: line of each command, by number */
    unsigned char sent_row[RING];      /* 1: the row's HSET (counted as a row) */
    unsigned long nsent, nread;        /* commands queued, replies read */
    unsigned long imported, failed;
    unsigned long warned;              /* pass 1: rows with control characters */
    char scratch[80];                  /* catalogue: codes this import wrote */
    struct progress prog;
};

/* ---- messages ------------------------------------------------------- */

static void progress_clear(struct ctl_importer *imp);

/* A bad row: counted; listed (pass 1 only, at most MAX_LISTED). */
void ctl_row_error(struct ctl_importer *imp, const char *fmt, ...)
{
    imp->bad++;
    if (imp->pass != 1 || ++imp->listed > MAX_LISTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    progress_clear(imp);
    fprintf(stderr, "%s:%lu: ", imp->o->path, imp->line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Warn (pass 1, at most MAX_LISTED) about a control character in a
 * catalogue text: handsets would show it raw (or break the list's lines). */
static int warn_control(struct ctl_importer *imp, const struct sc_csv_field *code, const char *col,
                        const struct sc_csv_field *f)
{
    uint32_t cp;
    size_t at;
    char q[96];
    if (imp->pass != 1 || !ctl_find_control(f->s, f->len, &cp, &at))
        return 0;
    if (++imp->warn_listed <= MAX_LISTED) {
        progress_clear(imp);
        fprintf(stderr, "%s:%lu: warning: code %s: %s %s holds a control character U+%04X (%s) "
                "at character %zu\n", imp->o->path, imp->line,
                ctl_printable(q, sizeof q, code->s, code->len, 0), col,
                ctl_printable(q + 48, sizeof q - 48, f->s, f->len, 1), (unsigned)cp,
                ctl_control_name(cp), at);
    }
    return 1;
}

/* rc is a check's result for field f of column col: 1 if it passed, else
 * 0 after reporting the row as 'COLUMN "value" reason'. */
int ctl_field_ok(struct ctl_importer *imp, const char *col, const struct sc_csv_field *f, int rc,
                    const char *why)
{
    char q[96];
    if (rc == 0)
        return 1;
    ctl_row_error(imp, "%s %s %s", col, ctl_printable(q, sizeof q, f->s, f->len, 1), why);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A progress line at most once a second (stderr; redrawn in place on a
 * terminal). */
static void progress_tick(struct ctl_importer *imp)
{
    struct progress *p = &imp->prog;
    double t = now_s();
    if (!p->on || t - p->last < 1.0)
        return;
    p->last = t;
    if (imp->pass == 1)
        fprintf(stderr, "%schecking %s: %lu rows%s", p->tty ? "\r" : "", imp->o->path,
                imp->rows, p->tty ? "\033[K" : "\n");
    else
        fprintf(stderr, "%s%s %lu/%lu rows (%.0f rows/s)%s", p->tty ? "\r" : "", imp->t->verb,
                imp->imported + imp->failed, imp->total - imp->total_bad,
                (double)imp->imported / (t - p->import_start), p->tty ? "\033[K" : "\n");
    p->shown = 1;
}

/* Erase a progress line drawn in place, so the next message starts clean. */
static void progress_clear(struct ctl_importer *imp)
{
    if (imp->prog.tty && imp->prog.shown)
        fputs("\r\033[K", stderr);
    imp->prog.shown = 0;
}

/* ---- tables --------------------------------------------------------- */

void ctl_cmd_arg(struct ctl_cmd *cmd, const char *s, size_t len)
{
    cmd->argv[cmd->argc] = s;
    cmd->lens[cmd->argc++] = len;
}

void ctl_cmd_str(struct ctl_cmd *cmd, const char *s)
{
    ctl_cmd_arg(cmd, s, strlen(s));
}

/* Add a command of argc (<= CTL_MAX_EXTRA_ARGS) strings after the row's
 * first; lens[i] is strlen(argv[i]) where given as 0 and argv[i] is not
 * empty. */
static void cmd_extra(struct ctl_cmd *cmd, int argc, const char *const *argv, const size_t *lens)
{
    int k = cmd->nextra++;
    cmd->extra_argc[k] = argc;
    for (int i = 0; i < argc; i++) {
        cmd->extra[k][i] = argv[i];
        cmd->extra_lens[k][i] = lens[i] ? lens[i] : strlen(argv[i]);
    }
}

static const struct sc_csv_field g_empty = {"", 0};

/* vas:svc:CODE {name, price_fen, provider, kind}. */
static int build_catalogue(struct ctl_importer *imp, const struct sc_csv_field *const *v,
                           struct ctl_cmd *cmd)
{
    char why[96];
    const struct sc_csv_field *code = v[0], *name = v[1], *price = v[2];
    const struct sc_csv_field *provider = v[3] ? v[3] : &g_empty;
    const struct sc_csv_field *kind = v[4] && v[4]->len ? v[4] : NULL;
    uint64_t fen;
    if (!ctl_field_ok(imp, "code", code,
                      ctl_check_code(code->s, code->len, why, sizeof why), why) ||
        !ctl_field_ok(imp, "name", name,
                      ctl_check_text(name->s, name->len, 1, why, sizeof why), why) ||
        !ctl_field_ok(imp, "price_fen", price,
                      ctl_parse_uint(price->s, price->len, PRICE_MAX, &fen, why, sizeof why),
                      why) ||
        !ctl_field_ok(imp, "provider", provider,
                      ctl_check_text(provider->s, provider->len, 0, why, sizeof why), why) ||
        (kind && !ctl_field_ok(imp, "kind", kind,
                               ctl_check_code(kind->s, kind->len, why, sizeof why), why)))
        return -1;
    if (warn_control(imp, code, "name", name) | warn_control(imp, code, "provider", provider))
        imp->warned++;
    snprintf(cmd->key, sizeof cmd->key, SC_KEY_SVC_PREFIX "%s", code->s);
    snprintf(cmd->num, sizeof cmd->num, "%llu", (unsigned long long)fen);
    ctl_cmd_str(cmd, "HSET");
    ctl_cmd_str(cmd, cmd->key);
    ctl_cmd_str(cmd, "name");
    ctl_cmd_arg(cmd, name->s, name->len);
    ctl_cmd_str(cmd, "price_fen");
    ctl_cmd_str(cmd, cmd->num);
    ctl_cmd_str(cmd, "provider");
    ctl_cmd_arg(cmd, provider->s, provider->len);
    ctl_cmd_str(cmd, "kind");
    if (kind)
        ctl_cmd_arg(cmd, kind->s, kind->len);
    else
        ctl_cmd_str(cmd, "monthly");
    const char *sets[2] = {SET_KEY, imp->scratch};
    for (int i = 0; i < 2; i++)
        cmd_extra(cmd, 3, (const char *const[]){"SADD", sets[i], code->s},
                  (const size_t[]){0, 0, code->len});
    return 0;
}

/* A confirmation reference: 1..CONF_MAX bytes of UTF-8 without control
 * characters (it is shown by `show`). 0 or -1 with why. */
static int check_conf(const struct sc_csv_field *f, char *why, size_t whysz)
{
    uint32_t cp;
    size_t at;
    if (ctl_check_text(f->s, f->len, 1, why, whysz) < 0)
        return -1;
    if (f->len > CONF_MAX) {
        snprintf(why, whysz, "is longer than %d bytes", CONF_MAX);
        return -1;
    }
    if (ctl_find_control(f->s, f->len, &cp, &at)) {
        snprintf(why, whysz, "has a control character (%s at %zu)", ctl_control_name(cp), at);
        return -1;
    }
    return 0;
}

/* sub:{MSISDN}:vas CODE since, and sub:{MSISDN}:conf CODE conf when the
 * row has a confirmation reference (an empty one leaves sub:{M}:conf as
 * it is). */
static int build_subscription(struct ctl_importer *imp, const struct sc_csv_field *const *v,
                              struct ctl_cmd *cmd)
{
    char why[96], msisdn[CTL_MSISDN_MAX + 1];
    const struct sc_csv_field *m = v[0], *code = v[1], *since = v[2];
    const struct sc_csv_field *conf = v[3] && v[3]->len ? v[3] : NULL;
    uint64_t t = imp->now;
    if (!ctl_field_ok(imp, "msisdn", m,
                      ctl_msisdn_normalise(m->s, m->len, msisdn, why, sizeof why), why) ||
        !ctl_field_ok(imp, "code", code,
                      ctl_check_code(code->s, code->len, why, sizeof why), why) ||
        (since && since->len &&
         !ctl_field_ok(imp, "since", since,
                       ctl_parse_uint(since->s, since->len, SINCE_MAX, &t, why, sizeof why),
                       why)) ||
        (conf && !ctl_field_ok(imp, "conf", conf, check_conf(conf, why, sizeof why), why)))
        return -1;
    if (conf) {
        sc_key(cmd->key2, sizeof cmd->key2, SC_KEY_CONF, msisdn);
        cmd_extra(cmd, 4, (const char *const[]){"HSET", cmd->key2, code->s, conf->s},
                  (const size_t[]){0, 0, code->len, conf->len});
    }
    sc_key(cmd->key, sizeof cmd->key, SC_KEY_SUB, msisdn);
    snprintf(cmd->num, sizeof cmd->num, "%llu", (unsigned long long)t);
    ctl_cmd_str(cmd, "HSET");
    ctl_cmd_str(cmd, cmd->key);
    ctl_cmd_arg(cmd, code->s, code->len);
    ctl_cmd_str(cmd, cmd->num);
    return 0;
}

static const struct ctl_column g_catalogue_cols[] = {
    {"code", 1}, {"name", 1}, {"price_fen", 1}, {"provider", 0}, {"kind", 0},
};
static const struct ctl_column g_subscription_cols[] = {
    {"msisdn", 1}, {"code", 1}, {"since", 0}, {"conf", 0},
};
static const struct ctl_csv_table g_catalogue = {
    "catalogue", "imported", "imports", "catalogue rows", g_catalogue_cols,
    SC_ARRAY_LEN(g_catalogue_cols), build_catalogue,
};
static const struct ctl_csv_table g_subscriptions = {
    "subscriptions", "imported", "imports", "subscriptions rows", g_subscription_cols,
    SC_ARRAY_LEN(g_subscription_cols), build_subscription,
};
static const struct ctl_csv_table *const g_tables[] = {
    [CTL_CATALOGUE] = &g_catalogue,
    [CTL_SUBSCRIPTIONS] = &g_subscriptions,
    [CTL_PUSH] = &ctl_push_table,
};

const struct ctl_import_opts *ctl_importer_opts(const struct ctl_importer *imp)
{
    return imp->o;
}

int ctl_importer_checking(const struct ctl_importer *imp)
{
    return imp->pass == 1;
}

/* ---- header --------------------------------------------------------- */

static void header_error(struct ctl_importer *imp, const char *what, const struct sc_csv_field *f)
{
    char q[96];
    const char *sep = " (the first line must name the columns, in any order: ";
    fprintf(stderr, "%s:%lu: header: %s%s%s", imp->o->path, imp->line, what, f ? " " : "",
            f ? ctl_printable(q, sizeof q, f->s, f->len, 1) : "");
    for (int required = 1; required >= 0; required--) {
        for (size_t i = 0; i < imp->t->ncols; i++) {
            if (imp->t->cols[i].required == required) {
                fprintf(stderr, "%s%s", sep, imp->t->cols[i].name);
                sep = ",";
            }
        }
        sep = "; optional: ";
    }
    fprintf(stderr, ")\n");
}

static int column_index(const struct ctl_csv_table *t, const struct sc_csv_field *f)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strlen(t->cols[i].name) == f->len && strncasecmp(t->cols[i].name, f->s, f->len) == 0)
            return (int)i;
    return -1;
}

/* Map the header's columns to the table's. 0, or -1 (printed): a bad
 * header stops the import. */
static int on_header(struct ctl_importer *imp, const struct sc_csv_record *rec)
{
    int seen[MAX_FIELDS] = {0};
    if (rec->error) {
        header_error(imp, rec->error, NULL);
        return -1;
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        int c = column_index(imp->t, &rec->fields[i]);
        if (c < 0 || seen[c]++) {
            header_error(imp, c < 0 ? "unknown column" : "repeated column", &rec->fields[i]);
            return -1;
        }
        imp->colmap[i] = c;
    }
    for (size_t c = 0; c < imp->t->ncols; c++) {
        if (imp->t->cols[c].required && !seen[c]) {
            struct sc_csv_field f = {imp->t->cols[c].name, strlen(imp->t->cols[c].name)};
            header_error(imp, "missing column", &f);
            return -1;
        }
    }
    imp->nfilecols = rec->nfields;
    return 0;
}

/* ---- pipeline (pass 2) ---------------------------------------------- */

static void redis_error(struct ctl_importer *imp, unsigned long line, const redisReply *rep)
{
    char q[160];
    imp->failed++;
    if (++imp->redis_listed > MAX_LISTED)
        return;
    progress_clear(imp);
    fprintf(stderr, "%s:%lu: redis: %s\n", imp->o->path, line,
            ctl_printable(q, sizeof q, rep->str, rep->len, 0));
}

/* Read replies until at most keep commands are unanswered. 0, or -1 if
 * the connection is lost (message printed). */
static int read_replies(struct ctl_importer *imp, unsigned long keep)
{
    while (imp->nsent - imp->nread > keep) {
        redisReply *rep = ctl_redis_read(imp->r);
        if (!rep) {
            imp->lost = 1;
            return -1;
        }
        unsigned long k = imp->nread % RING;
        if (rep->type == REDIS_REPLY_ERROR)
            redis_error(imp, imp->sent_line[k], rep);
        else if (imp->sent_row[k])
            imp->imported++;
        imp->nread++;
        freeReplyObject(rep);
    }
    progress_tick(imp);
    return 0;
}

static void queue_one(struct ctl_importer *imp, int argc, const char *const *argv,
                      const size_t *lens, int row)
{
    ctl_redis_append(imp->r, 1, argc, argv, lens);   /* table.h: the key is argv[1] */
    imp->sent_line[imp->nsent % RING] = imp->line;
    imp->sent_row[imp->nsent++ % RING] = (unsigned char)row;
}

/* Queue a row's commands; when two batches are unanswered, read the older
 * batch's replies (which first sends everything queued). */
static int queue(struct ctl_importer *imp, const struct ctl_cmd *cmd)
{
    queue_one(imp, cmd->argc, cmd->argv, cmd->lens, 1);
    for (int i = 0; i < cmd->nextra; i++)
        queue_one(imp, cmd->extra_argc[i], cmd->extra[i], cmd->extra_lens[i], 0);
    return imp->nsent - imp->nread >= 2 * BATCH ? read_replies(imp, BATCH) : 0;
}

/* ---- passes --------------------------------------------------------- */

static int on_record(void *ctx, const struct sc_csv_record *rec)
{
    struct ctl_importer *imp = ctx;
    const struct sc_csv_field *vals[MAX_FIELDS] = {NULL};
    struct ctl_cmd cmd = {0};
    imp->line = rec->line;
    if (!imp->nfilecols)
        return on_header(imp, rec) < 0 ? 1 : 0;
    imp->rows++;
    if (imp->pass == 1 && imp->rows % 8192 == 0)
        progress_tick(imp);
    if (rec->error) {
        ctl_row_error(imp, "%s", rec->error);
        return 0;
    }
    if (rec->nfields != imp->nfilecols) {
        ctl_row_error(imp, "%zu fields, but the header has %zu", rec->nfields, imp->nfilecols);
        return 0;
    }
    for (size_t i = 0; i < rec->nfields; i++)
        vals[imp->colmap[i]] = &rec->fields[i];
    if (imp->t->build(imp, vals, &cmd) < 0 || imp->pass == 1)
        return 0;
    return queue(imp, &cmd) < 0 ? 1 : 0;
}

/* Parse the whole file once. 0, or -1: a read error, a bad header or a lost
 * connection (each printed). */
static int run_pass(struct ctl_importer *imp, int fd, int pass)
{
    const struct ctl_csv_file f = {fd, imp->o->path, MAX_RECORD_BYTES, MAX_FIELDS, NULL};
    imp->pass = pass;
    imp->nfilecols = 0;
    imp->rows = imp->bad = 0;
    int rc = ctl_csv_file_parse(&f, on_record, imp) ? -1 : 0;
    if (rc == 0 && pass == 2)
        rc = read_replies(imp, 0);
    progress_clear(imp);
    return rc < 0 ? -1 : 0;
}

/* ---- the command ---------------------------------------------------- */

/* After pass 1: list what was left unlisted and decide. -1 to stop with
 * exit 1, 0 to import. */
static int judge_check(struct ctl_importer *imp)
{
    const char *path = imp->o->path;
    if (imp->nfilecols == 0) {
        fprintf(stderr, "%s: empty file (the first line must name the columns)\n", path);
        return -1;
    }
    if (imp->bad > MAX_LISTED)
        fprintf(stderr, "%s: ... and %lu more bad rows\n", path, imp->bad - MAX_LISTED);
    if (imp->warn_listed > MAX_LISTED)
        fprintf(stderr, "%s: ... and %lu more warnings\n", path, imp->warn_listed - MAX_LISTED);
    if (imp->warned)
        fprintf(stderr, "%s: %lu rows hold control characters in a name or provider; they are "
                "imported as they are\n", path, imp->warned);
    if (imp->bad && !imp->o->skip_bad) {
        fprintf(stderr,
                "%s: %lu of %lu rows are bad; nothing %s (--skip-bad %s the %lu good rows)\n",
                path, imp->bad, imp->rows, imp->t->verb, imp->t->verb_now, imp->rows - imp->bad);
        return -1;
    }
    imp->total = imp->rows;
    imp->total_bad = imp->bad;
    return 0;
}

static int summary(struct ctl_importer *imp)
{
    double dt = now_s() - imp->prog.start;
    fprintf(stderr, "%s: %s %lu %s into redis at %s in %.2f s (%.0f rows/s)",
            imp->o->path, imp->t->verb, imp->imported, imp->t->noun, imp->r->where, dt,
            dt > 0 ? (double)imp->imported / dt : 0.0);
    if (imp->total_bad)
        fprintf(stderr, "; skipped %lu bad rows", imp->total_bad);
    if (imp->failed)
        fprintf(stderr, "; %lu rows refused by redis", imp->failed);
    fputc('\n', stderr);
    if (imp->failed)
        return CTL_EXIT_DATA;
    return imp->total_bad ? CTL_EXIT_SKIPPED : CTL_EXIT_OK;
}

/* Catalogue: the scratch set that collects the codes written (removed at
 * the end; it expires on its own if the tool dies). 0, or -1 (printed). */
static int scratch_start(struct ctl_importer *imp)
{
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    /* {vas:catalogue}: the slot of vas:catalogue itself, so that SDIFF of
     * the two is one slot on a Redis Cluster. */
    snprintf(imp->scratch, sizeof imp->scratch, "{" SET_KEY "}:import:%s:%llu", pid,
             (unsigned long long)imp->now);
    const char *sadd[] = {"SADD", imp->scratch, ""};
    const char *expire[] = {"EXPIRE", imp->scratch, "86400"};
    for (int i = 0; i < 2; i++) {
        redisReply *rep = ctl_redis_command(imp->r, 1, 3, i ? expire : sadd, NULL);
        if (!rep)
            return -1;
        freeReplyObject(rep);
    }
    return 0;
}

/* Catalogue, after a complete import: list the codes of vas:catalogue this
 * file did not write (kept), then drop the scratch set. */
static void scratch_finish(struct ctl_importer *imp)
{
    char q[96];
    const char *diff[] = {"SDIFF", SET_KEY, imp->scratch};
    const char *del[] = {"DEL", imp->scratch};
    redisReply *rep = ctl_redis_command(imp->r, 1, 3, diff, NULL);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements) {
        progress_clear(imp);
        fprintf(stderr, "%s: %zu codes in " SET_KEY " are not in this file; kept:", imp->o->path,
                rep->elements);
        for (size_t i = 0; i < rep->elements && i < MAX_LISTED; i++)
            if (rep->element[i]->type == REDIS_REPLY_STRING)
                fprintf(stderr, " %s", ctl_printable(q, sizeof q, rep->element[i]->str,
                                                     rep->element[i]->len, 0));
        fprintf(stderr, "%s (to withdraw one: SREM " SET_KEY " CODE, then DEL vas:svc:CODE)\n",
                rep->elements > MAX_LISTED ? " ..." : "");
    }
    if (rep)
        freeReplyObject(rep);
    if ((rep = ctl_redis_command(imp->r, 1, 2, del, NULL)))
        freeReplyObject(rep);
}

/* Pass 2 and its outcome. */
static int import_rows(struct ctl_importer *imp, int fd)
{
    if (ctl_redis_connect(imp->r) < 0)
        return CTL_EXIT_REDIS;
    if (imp->o->table == CTL_CATALOGUE && scratch_start(imp) < 0)
        return CTL_EXIT_REDIS;
    imp->prog.import_start = imp->prog.last = now_s();   /* first rate after 1 s */
    if (run_pass(imp, fd, 2) < 0) {
        if (!imp->lost)
            return CTL_EXIT_DATA;
        fprintf(stderr, "%s: import stopped after %lu rows; run it again to finish "
                "(importing a row twice is harmless)\n", imp->o->path, imp->imported);
        return CTL_EXIT_REDIS;
    }
    if (imp->rows != imp->total || imp->bad != imp->total_bad) {
        fprintf(stderr, "%s: the file changed during the import (%lu rows checked, %lu read)\n",
                imp->o->path, imp->total, imp->rows);
        summary(imp);
        return CTL_EXIT_DATA;
    }
    if (imp->o->table == CTL_CATALOGUE)
        scratch_finish(imp);
    return summary(imp);
}

static int open_file(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s: not a regular file (the import reads it twice)\n", path);
        close(fd);
        return -1;
    }
    return fd;
}

int ctl_import(struct ctl_redis *r, const struct ctl_import_opts *o)
{
    struct ctl_importer *imp = calloc(1, sizeof *imp);
    if (!imp) {
        fprintf(stderr, "shortcodectl: out of memory\n");
        return CTL_EXIT_DATA;
    }
    imp->t = g_tables[o->table];
    imp->o = o;
    imp->r = r;
    imp->now = (uint64_t)time(NULL);
    imp->prog.on = o->progress;
    imp->prog.tty = isatty(STDERR_FILENO);
    imp->prog.start = imp->prog.last = now_s();
    int fd = open_file(o->path);
    int rc = fd < 0 ? CTL_EXIT_USAGE : CTL_EXIT_DATA;
    if (fd >= 0 && run_pass(imp, fd, 1) == 0 && judge_check(imp) == 0)
        rc = import_rows(imp, fd);
    if (fd >= 0)
        close(fd);
    free(imp);
    return rc;
}
