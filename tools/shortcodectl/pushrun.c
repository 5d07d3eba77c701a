/* pushrun.c -- one push per subscriber of a list, paced by the daemons'
 * backlog, resumable and idempotent (pushrun.h; docs/shortcodectl.md
 * "bill-run").
 *
 * Pass 1 reads the list once, checks every line and computes its SHA-256,
 * without Redis: one bad line and nothing is sent. Then the checkpoint
 * (HASH ckpt_key: sha, line, pushed, skipped, failed, done) says where to
 * start: from the top, after the line it names (same file), nowhere (that
 * file is done), or not at all (another file). Pass 2 streams the list
 * again in batches; each round trip carries, in order, batch k's XADDs, the
 * checkpoint after batch k (so it never names a line whose XADD Redis has
 * not applied), XINFO GROUPS mt:push, and the producer's reads for batch
 * k+1. Before batch k's XADDs go out, the backlog of the group "shortcoded"
 * (lag + pending) must be at most max_backlog, and the rate cap met: so
 * the backlog is never above max_backlog + one batch. A crash between a
 * batch's XADDs and its checkpoint (they are one pipeline, not a
 * transaction) pushes that batch again on resume, under the same ids,
 * which the daemon sends once (mt.dedup_horizon_s). */
#include "pushrun.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sc.h"
#include "csvfile.h"
#include "msisdns.h"
#include "store/keys.h"

#define MAX_RECORD_BYTES 4096
#define MAX_FIELDS 64
#define MAX_LISTED 20
#define CKPT_TTL_S 7776000          /* 90 days: longer than a cycle and the dedup horizon */
#define POLL_NS 50000000L           /* backlog poll while above the bound: 50 ms */
#define GROUP "shortcoded"
#define STR_(x) #x
#define STR(x) STR_(x)

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

struct batch {
    struct ctl_run_item items[CTL_RUN_BATCH];
    enum ctl_run_fate fate[CTL_RUN_BATCH];
    const char *text[CTL_RUN_BATCH];
    size_t len[CTL_RUN_BATCH];
    size_t n;
};

struct run {
    const struct ctl_run_opts *o;
    struct ctl_redis *r;
    EVP_MD_CTX *sha;
    char hex[CTL_SHA256_HEX + 1];
    int pass, first, lost;
    unsigned long lines, bad, listed;   /* pass 1 */
    size_t batch_max;
    unsigned long start_line;           /* pass 2: lines up to it are done */
    struct ctl_ckpt ck;                 /* the counts, carried over a resume */
    unsigned long run_pushed;           /* this run's XADDs, for the rate */
    unsigned long todo, seen;           /* subscribers in the list, read so far */
    long long backlog;                  /* lag + pending after the last XINFO */
    int lag_warned;
    unsigned long last_line;            /* of the last batch pushed */
    struct batch b[2];
    int cur;                            /* b[cur]: texts ready; b[!cur]: filling */
    double t0, last_tick;
    int shown;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress --------------------------------------------------------- */

static void clear_line(struct run *u)
{
    if (u->shown && isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    u->shown = 0;
}

/* At most once a second: redrawn in place on a terminal, a line otherwise. */
static void tick(struct run *u, const char *state)
{
    double t = now_s();
    if (!u->o->progress || t - u->last_tick < 1.0)
        return;
    int tty = isatty(STDERR_FILENO);
    u->last_tick = t;
    fprintf(stderr, "%s%s: %lu/%lu subscribers, %lu %s pushed, %lu %s (%.0f/s), backlog %lld%s%s",
            tty ? "\r" : "", u->o->path, u->seen, u->todo, u->ck.pushed, u->o->p->noun,
            u->ck.skipped, u->o->p->skipped, (double)u->run_pushed / (t - u->t0), u->backlog,
            state, tty ? "\033[K" : "\n");
    u->shown = 1;
}

/* ---- pass 1 ------------------------------------------------------------ */

static int on_check(void *ctx, const struct sc_csv_record *rec)
{
    struct run *u = ctx;
    char m[CTL_MSISDN_MAX + 1], why[160];
    enum ctl_list_line k = ctl_list_record(rec, u->first, m, why, sizeof why);
    u->first = 0;
    if (k == CTL_LIST_HEADER)
        return 0;
    u->lines++;
    if (k == CTL_LIST_BAD && ++u->bad <= MAX_LISTED)
        fprintf(stderr, "%s:%lu: %s\n", u->o->path, rec->line, why);
    return 0;
}

/* ---- the pipeline -------------------------------------------------------- */

static void xadd(struct run *u, const struct ctl_run_item *it, const char *text, size_t len)
{
    const struct ctl_run_opts *o = u->o;
    char id[CTL_PUSH_ID_MAX + 1];
    snprintf(id, sizeof id, "%s%s%s", o->id_prefix, it->msisdn, o->id_suffix);
    const char *argv[16] = {"XADD", SC_KEY_MT_PUSH, "*", "id", id, "to", it->msisdn, "text", text};
    size_t lens[16] = {0, 0, 0, 0, 0, 0, 0, 0, len};
    const char *opt[3][2] = {{"kind", o->kind}, {"priority", o->priority},
                             {"quiet", o->quiet ? "1" : NULL}};
    int argc = 9;
    for (int i = 0; i < 3; i++) {
        if (opt[i][1]) {
            argv[argc++] = opt[i][0];
            argv[argc++] = opt[i][1];
        }
    }
    for (int i = 0; i < argc; i++)
        if (i != 8)
            lens[i] = strlen(argv[i]);
    ctl_redis_append(u->r, 1, argc, argv, lens);
}

/* HSET the checkpoint (line: all lines up to it are pushed) and renew its
 * expiry: two commands. */
static void queue_ckpt(struct run *u, unsigned long line, int done)
{
    char n[5][24];
    unsigned long v[5] = {line, u->ck.pushed, u->ck.skipped, u->ck.failed, (unsigned long)done};
    for (int i = 0; i < 5; i++)
        snprintf(n[i], sizeof n[i], "%lu", v[i]);
    const char *hset[] = {"HSET", u->o->ckpt_key, "sha", u->hex, "line", n[0], "pushed", n[1],
                          "skipped", n[2], "failed", n[3], "done", n[4]};
    const char *expire[] = {"EXPIRE", u->o->ckpt_key, STR(CKPT_TTL_S)};
    ctl_redis_append(u->r, 1, SC_ARRAY_LEN(hset), hset, NULL);
    ctl_redis_append(u->r, 1, 3, expire, NULL);
}

/* The backlog in XINFO GROUPS' reply: lag + pending of the group
 * "shortcoded"; no group (no daemon read it yet): the stream's length is
 * unread (len); no stream: 0. lag is nil when entries were deleted from
 * the unread part: pending alone then (warned once). */
static long long backlog_of(struct run *u, const redisReply *rep, long long len)
{
    if (rep->type == REDIS_REPLY_ERROR)
        return 0;                    /* "no such key": nothing waits */
    for (size_t g = 0; rep->type == REDIS_REPLY_ARRAY && g < rep->elements; g++) {
        const redisReply *e = rep->element[g];
        long long pending = -1, lag = -2;
        int ours = 0;
        for (size_t i = 0; e->type == REDIS_REPLY_ARRAY && i + 1 < e->elements; i += 2) {
            const redisReply *k = e->element[i], *v = e->element[i + 1];
            if (k->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(k->str, "name") == 0)
                ours = v->type == REDIS_REPLY_STRING && strcmp(v->str, GROUP) == 0;
            else if (strcmp(k->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                pending = v->integer;
            else if (strcmp(k->str, "lag") == 0)
                lag = v->type == REDIS_REPLY_INTEGER ? v->integer : -1;
        }
        if (!ours || pending < 0)
            continue;
        if (lag == -1 && !u->lag_warned++) {
            clear_line(u);
            fprintf(stderr, "%s: warning: the lag of group " GROUP " on " SC_KEY_MT_PUSH
                    " is unknown (entries deleted); watching its pending entries only\n",
                    u->o->path);
        }
        return pending + (lag > 0 ? lag : 0);
    }
    return len;
}

/* Read one XINFO GROUPS (and XLEN) pair of replies into u->backlog. */
static int read_backlog(struct run *u)
{
    redisReply *groups = ctl_redis_read(u->r), *len = groups ? ctl_redis_read(u->r) : NULL;
    if (!len) {
        if (groups)
            freeReplyObject(groups);
        return -1;
    }
    u->backlog = backlog_of(u, groups, len->type == REDIS_REPLY_INTEGER ? len->integer : 0);
    freeReplyObject(groups);
    freeReplyObject(len);
    return 0;
}

static void queue_backlog(struct run *u)
{
    const char *info[] = {"XINFO", "GROUPS", SC_KEY_MT_PUSH};
    const char *xlen[] = {"XLEN", SC_KEY_MT_PUSH};
    ctl_redis_append(u->r, 2, 3, info, NULL);
    ctl_redis_append(u->r, 1, 2, xlen, NULL);
}

static void sleep_ns(long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    nanosleep(&ts, NULL);      /* EINTR (SIGINT): returns early, g_stop is set */
}

/* Wait until the backlog is at most the bound and the rate allows more.
 * 0 to send, 1 when stopped (SIGINT) while waiting, -1 connection lost. */
static int wait_turn(struct run *u)
{
    while (u->backlog > (long long)u->o->max_backlog) {
        tick(u, " (waiting for the daemons)");
        if (g_stop)
            return 1;
        sleep_ns(POLL_NS);
        queue_backlog(u);
        if (read_backlog(u) < 0)
            return -1;
    }
    if (u->o->rate) {
        double due = u->t0 + (double)u->run_pushed / (double)u->o->rate, t = now_s();
        if (due > t && !g_stop)
            sleep_ns((long)((due - t) * 1e9));
    }
    return g_stop ? 1 : 0;
}

/* Replies to the XADDs of b (in order), then the checkpoint's two. */
static int read_xadds(struct run *u, struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->fate[i] != CTL_RUN_PUSH)
            continue;
        redisReply *rep = ctl_redis_read(u->r);
        if (!rep)
            return -1;
        if (rep->type == REDIS_REPLY_STRING) {
            u->ck.pushed++;
            u->run_pushed++;
        } else {
            u->ck.failed++;
            if (++u->listed <= MAX_LISTED) {
                char q[160];
                clear_line(u);
                fprintf(stderr, "%s:%lu: " SC_KEY_MT_PUSH ": redis: %s\n", u->o->path,
                        b->items[i].line,
                        rep->str ? ctl_printable(q, sizeof q, rep->str, rep->len, 0) : "?");
            }
        }
        freeReplyObject(rep);
    }
    for (int i = 0; i < 2; i++) {
        redisReply *rep = ctl_redis_read(u->r);
        if (!rep)
            return -1;
        freeReplyObject(rep);
    }
    return 0;
}

/* One round trip: the ready batch's XADDs and checkpoint, the backlog, the
 * reads of the batch being filled. Then the filled batch becomes ready.
 * 0, 1 stopped (nothing of the ready batch sent), -1 connection lost. */
static int step(struct run *u)
{
    struct batch *ready = &u->b[u->cur], *next = &u->b[!u->cur];
    int rc = ready->n ? wait_turn(u) : (g_stop ? 1 : 0);
    if (rc)
        return rc;
    if (ready->n) {
        for (size_t i = 0; i < ready->n; i++)
            if (ready->fate[i] == CTL_RUN_PUSH)
                xadd(u, &ready->items[i], ready->text[i], ready->len[i]);
            else if (ready->fate[i] == CTL_RUN_SKIP)
                u->ck.skipped++;
            else
                u->ck.failed++;
        /* Counted as if they succeed; an error reply (rare: OOM) moves one
         * from pushed to failed in the next checkpoint, or the final one. */
        unsigned long pushed = u->ck.pushed;
        for (size_t i = 0; i < ready->n; i++)
            u->ck.pushed += ready->fate[i] == CTL_RUN_PUSH;
        u->last_line = ready->items[ready->n - 1].line;
        queue_ckpt(u, u->last_line, 0);
        u->ck.pushed = pushed;
        queue_backlog(u);
    }
    if (next->n)
        u->o->p->queue(u->o->p->arg, u->r, !u->cur, next->items, next->n);
    if (ready->n && (read_xadds(u, ready) < 0 || read_backlog(u) < 0))
        return -1;
    if (next->n && u->o->p->collect(u->o->p->arg, u->r, !u->cur, next->items, next->n,
                                    next->fate, next->text, next->len) < 0)
        return -1;
    ready->n = 0;
    u->cur = !u->cur;
    tick(u, "");
    return 0;
}

static int on_push(void *ctx, const struct sc_csv_record *rec)
{
    struct run *u = ctx;
    char why[160];
    struct batch *next = &u->b[!u->cur];
    struct ctl_run_item *it = &next->items[next->n];
    enum ctl_list_line k = ctl_list_record(rec, u->first, it->msisdn, why, sizeof why);
    u->first = 0;
    if (k == CTL_LIST_HEADER)
        return 0;
    if (k == CTL_LIST_BAD) {        /* passed pass 1: the file changed */
        clear_line(u);
        fprintf(stderr, "%s:%lu: %s (the file changed during the run)\n", u->o->path, rec->line,
                why);
        return 2;
    }
    u->seen++;
    if (rec->line <= u->start_line)
        return 0;
    it->line = rec->line;
    if (++next->n < u->batch_max)
        return 0;
    int rc = step(u);
    return rc < 0 ? (u->lost = 1, 1) : rc > 0 ? 3 : 0;
}

/* ---- passes ---------------------------------------------------------------- */

static void digest(void *ctx, const char *buf, size_t len)
{
    struct run *u = ctx;
    if (u->pass == 1)
        EVP_DigestUpdate(u->sha, buf, len);
}

/* Parse the whole file with cb. 0, or the callback's stop value, or -1
 * (read error, printed). */
static int read_file(struct run *u, int fd, sc_csv_record_cb cb)
{
    const struct ctl_csv_file f = {fd, u->o->path, MAX_RECORD_BYTES, MAX_FIELDS, digest};
    u->first = 1;
    return ctl_csv_file_parse(&f, cb, u);
}

/* Pass 1 and its verdict: 0 to go on, else an exit code (printed). */
static int check_list(struct run *u, int fd)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    u->pass = 1;
    if (!(u->sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL)) {
        fprintf(stderr, "shortcodectl: SHA-256 unavailable\n");
        return CTL_EXIT_DATA;
    }
    if (read_file(u, fd, on_check) != 0)
        return CTL_EXIT_DATA;
    EVP_DigestFinal_ex(u->sha, md, &mdlen);
    for (unsigned i = 0; i < 32; i++)
        snprintf(u->hex + 2 * i, 3, "%02x", md[i]);
    if (u->bad) {
        if (u->bad > MAX_LISTED)
            fprintf(stderr, "%s: ... and %lu more bad lines\n", u->o->path, u->bad - MAX_LISTED);
        fprintf(stderr, "%s: %lu of %lu lines are bad; nothing pushed\n", u->o->path, u->bad,
                u->lines);
        return CTL_EXIT_DATA;
    }
    if (!u->lines) {
        fprintf(stderr, "%s: no subscribers in the file\n", u->o->path);
        return CTL_EXIT_DATA;
    }
    u->todo = u->lines;
    return 0;
}

/* The checkpoint and what it says: 0 to push from u->start_line, else an
 * exit code (printed). */
static int load_ckpt(struct run *u)
{
    const char *argv[] = {"HGETALL", u->o->ckpt_key};
    char why[96];
    redisReply *rep = ctl_redis_command(u->r, 1, 2, argv, NULL);
    if (!rep)
        return CTL_EXIT_REDIS;
    const char *kv[16];
    size_t lens[16], n = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
    int rc = n <= 16 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (rep->element[i]->type != REDIS_REPLY_STRING)
            rc = -1;
        else
            kv[i] = rep->element[i]->str, lens[i] = rep->element[i]->len;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rc < 0 ||
        ctl_ckpt_parse(&u->ck, kv, lens, n, why, sizeof why) < 0) {
        fprintf(stderr, "%s: %s is not a checkpoint of this tool (%s); DEL it to start over\n",
                u->o->path, u->o->ckpt_key, rep->type == REDIS_REPLY_ARRAY ? why : "not a hash");
        freeReplyObject(rep);
        return CTL_EXIT_DATA;
    }
    freeReplyObject(rep);
    switch (ctl_ckpt_decide(&u->ck, u->hex)) {
    case CTL_CKPT_START:
        return 0;
    case CTL_CKPT_RESUME:
        u->start_line = u->ck.line;
        fprintf(stderr, "%s: resuming after line %lu (%s: %lu %s pushed so far)\n", u->o->path,
                u->ck.line, u->o->ckpt_key, u->ck.pushed, u->o->p->noun);
        return 0;
    case CTL_CKPT_DONE:
        fprintf(stderr, "%s: already done (%s: %lu %s pushed, %lu %s); nothing pushed\n",
                u->o->path, u->o->ckpt_key, u->ck.pushed, u->o->p->noun, u->ck.skipped,
                u->o->p->skipped);
        return CTL_EXIT_OK;
    case CTL_CKPT_OTHER_FILE:
        break;
    }
    fprintf(stderr, "%s: %s belongs to another file (SHA-256 %.12s..., this one %.12s...); "
            "nothing pushed. To start over with this file: DEL %s (ids already pushed "
            "within mt.dedup_horizon_s are still sent once)\n",
            u->o->path, u->o->ckpt_key, u->ck.sha, u->hex, u->o->ckpt_key);
    return CTL_EXIT_DATA;
}

static int summary(struct run *u, int rc)
{
    double dt = now_s() - u->t0;
    clear_line(u);
    fprintf(stderr, "%s: %s %lu %s into %s at %s, %lu %s, %lu failed, in %.2f s (%.0f/s); "
            "checkpoint %s\n", u->o->path, rc == CTL_EXIT_STOPPED ? "stopped:" : "done:",
            u->ck.pushed, u->o->p->noun, SC_KEY_MT_PUSH, u->r->where, u->ck.skipped,
            u->o->p->skipped, u->ck.failed, dt, dt > 0 ? (double)u->run_pushed / dt : 0.0,
            u->o->ckpt_key);
    if (rc == CTL_EXIT_STOPPED)
        fprintf(stderr, "%s: run the same command again to go on\n", u->o->path);
    return rc == CTL_EXIT_OK && u->ck.failed ? CTL_EXIT_DATA : rc;
}

/* Pass 2: push, then the last batch and the final checkpoint. */
static int push_list(struct run *u, int fd)
{
    u->pass = 2;
    u->t0 = u->last_tick = now_s();
    queue_backlog(u);                /* what waits already counts */
    int rc = read_backlog(u) < 0 ? -1 : read_file(u, fd, on_push);
    while (rc == 0 && (u->b[0].n || u->b[1].n))
        rc = step(u);
    if (rc == 0) {                   /* the final counts, and done */
        queue_ckpt(u, u->last_line > u->start_line ? u->last_line : u->start_line, 1);
        for (int i = 0; i < 2 && rc == 0; i++) {
            redisReply *rep = ctl_redis_read(u->r);
            rc = rep ? 0 : -1;
            if (rep)
                freeReplyObject(rep);
        }
    }
    if (rc == 2)
        return CTL_EXIT_DATA;
    if (rc < 0 || u->lost) {
        fprintf(stderr, "%s: stopped: connection lost; run the same command again to go on "
                "(a batch pushed twice is sent once)\n", u->o->path);
        return CTL_EXIT_REDIS;
    }
    return summary(u, rc ? CTL_EXIT_STOPPED : CTL_EXIT_OK);
}

int ctl_run(struct ctl_redis *r, const struct ctl_run_opts *o)
{
    struct run *u = calloc(1, sizeof *u);
    struct stat st;
    if (!u) {
        fprintf(stderr, "shortcodectl: out of memory\n");
        return CTL_EXIT_DATA;
    }
    u->o = o;
    u->r = r;
    u->batch_max = CTL_RUN_BATCH < o->max_backlog ? CTL_RUN_BATCH : o->max_backlog;
    if (o->rate && o->rate / 5 + 1 < u->batch_max)
        u->batch_max = o->rate / 5 + 1;    /* about five round trips a second */
    int fd = open(o->path, O_RDONLY | O_CLOEXEC), rc = CTL_EXIT_USAGE;
    if (fd < 0)
        fprintf(stderr, "%s: %s\n", o->path, strerror(errno));
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        fprintf(stderr, "%s: not a regular file (it is read twice)\n", o->path);
    else if (!(rc = check_list(u, fd)) && !(rc = ctl_redis_connect(r) < 0 ? CTL_EXIT_REDIS : 0) &&
             !(rc = load_ckpt(u)) && !u->ck.done) {
        struct sigaction sa = {.sa_handler = on_stop, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        rc = push_list(u, fd);
    }
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(u->sha);
    free(u);
    return rc;
}
