/* push.c -- `shortcodectl push`: texts into the mt:push stream, one from the
 * command line or a CSV file of them, each field checked as the daemon
 * checks it (docs/contracts.md, "mt:push"), so that nothing the tool accepts
 * is dropped by the daemon for its form.
 *
 * A file goes through the import engine (import.c, table.h): checked whole
 * first, nothing sent if a line is bad, then streamed again and pipelined.
 * Its rows' ids are given (column id) or derived from the file's name and
 * the row's fields, so that running the same file again sends nothing twice
 * (the daemon sends one id once within mt.dedup_horizon_s). */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/sc.h"
#include "check.h"
#include "ctl.h"
#include "pushrun.h"
#include "store/keys.h"
#include "table.h"
#include "text/text.h"

#define ID_MAX CTL_PUSH_ID_MAX
#define TO_MAX 20                 /* contract: optional "+" and 1..20 digits */
#define KIND_MAX 16               /* contract: a-z _, 1..16 */
#define STEM_MAX 24               /* file name part of a derived id */
#define MS_MIN 1000000000000ull   /* 2001-09-09: fewer digits are seconds, not ms */
#define MS_MAX 9999999999999ull   /* year 2286 */

enum { F_TO, F_TEXT, F_KIND, F_PRIORITY, F_QUIET, F_NOT_AFTER, F_FROM, F_ID, NF };

/* Columns of a push file, in the order of the table below; also the field
 * names of mt:push (except quiet, not_after: same names). */
static const struct ctl_column g_cols[NF] = {
    {"to", 1},    {"text", 1},      {"kind", 0}, {"priority", 0},
    {"quiet", 0}, {"not_after", 0}, {"from", 0}, {"id", 0},
};

/* A push's fields once checked: what XADD writes besides the borrowed
 * values. */
struct checked {
    uint64_t not_after;            /* unix ms; 0: none */
    int quiet;
    unsigned parts;
};

static uint64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* ---- field checks --------------------------------------------------- */

/* An address: optional "+" then 1..TO_MAX digits. */
static int check_addr(const char *s, size_t len, char *why, size_t whysz)
{
    size_t i = len && s[0] == '+';
    int ok = len - i >= 1 && len - i <= TO_MAX;
    for (; ok && i < len; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (!ok)
        snprintf(why, whysz, "must be an optional + and 1..%d digits", TO_MAX);
    return ok ? 0 : -1;
}

int ctl_push_kind_ok(const char *s, size_t len, char *why, size_t whysz)
{
    int ok = len >= 1 && len <= KIND_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_';
    if (!ok)
        snprintf(why, whysz, "must be 1..%d of a-z and _", KIND_MAX);
    return ok ? 0 : -1;
}

/* Non-empty UTF-8 that fits lim once encoded; *parts: how many SMS. */
int ctl_push_text_ok(const char *s, size_t len, const struct ctl_mt_limits *lim, unsigned *parts,
                     char *why, size_t whysz)
{
    static struct sc_mt mt;        /* 2.5 KiB: not on the stack for each row */
    if (ctl_check_text(s, len, 1, why, whysz) < 0)
        return -1;
    if (sc_text_encode(s, len, (enum sc_seg_mode)lim->seg_mode, 0, lim->max_parts, &mt) < 0) {
        snprintf(why, whysz, "needs more than %u SMS parts (smpp.max_parts)", lim->max_parts);
        return -1;
    }
    *parts = mt.nparts;
    return 0;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* ISO-8601 "YYYY-MM-DDTHH:MM[:SS]" ('T' or ' '), local time unless it ends in
 * "Z" or "+HH:MM" / "-HH:MM" / "+HHMM". Unix ms, or -1. */
static int64_t parse_iso(const char *s, size_t len)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 0;
    size_t i = 16;
    if (len < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi))
        return -1;
    if (i + 3 <= len && s[i] == ':') {
        if (digits(s + i + 1, 2, &sec))
            return -1;
        i += 3;
    }
    if (i < len && s[i] == 'Z' && i + 1 == len) {
        sign = 1;
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '+' ? 1 : -1;
        size_t rest = len - i - 1;
        const char *o = s + i + 1;
        if (!((rest == 5 && o[2] == ':' && !digits(o, 2, &oh) && !digits(o + 3, 2, &om)) ||
              (rest == 4 && !digits(o, 2, &oh) && !digits(o + 2, 2, &om))) ||
            oh > 14 || om > 59)
            return -1;
        i = len;
    }
    if (i != len || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 59)
        return -1;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec, tm.tm_isdst = -1;
    time_t t = sign ? timegm(&tm) : mktime(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)   /* 2026-02-30 */
        return -1;
    t -= sign * (oh * 3600 + om * 60);
    return (int64_t)t * 1000;
}

/* not_after: unix ms (13 digits) or an ISO-8601 time; later than now_ms. */
static int check_not_after(const char *s, size_t len, uint64_t now_ms, uint64_t *ms, char *why,
                           size_t whysz)
{
    char err[64];
    uint64_t v;
    if (len && s[0] >= '0' && s[0] <= '9' && len <= 13 && !memchr(s, '-', len)) {
        if (ctl_parse_uint(s, len, MS_MAX, &v, err, sizeof err) < 0 || v < MS_MIN) {
            snprintf(why, whysz, "is not unix milliseconds (13 digits; seconds have 10)");
            return -1;
        }
    } else {
        int64_t t = parse_iso(s, len);
        if (t < 0) {
            snprintf(why, whysz, "is neither unix ms nor YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]");
            return -1;
        }
        v = (uint64_t)t;
    }
    if (v <= now_ms) {
        snprintf(why, whysz, "is not in the future (the push would only expire)");
        return -1;
    }
    *ms = v;
    return 0;
}

/* Check every present field of v (NULL: absent; to and text must be there).
 * 0 with *c filled, or -1 with *bad the failing field and why. */
static int check_fields(const struct sc_csv_field *const *v, const struct ctl_mt_limits *lim,
                        uint64_t now_ms, struct checked *c, int *bad, char *why, size_t whysz)
{
    const struct sc_csv_field *f;
    memset(c, 0, sizeof *c);
    for (*bad = 0; *bad < NF; ++*bad) {
        if (!(f = v[*bad]))
            continue;
        int rc = 0;
        switch (*bad) {
        case F_TO:
        case F_FROM: rc = check_addr(f->s, f->len, why, whysz); break;
        case F_TEXT: rc = ctl_push_text_ok(f->s, f->len, lim, &c->parts, why, whysz); break;
        case F_KIND: rc = ctl_push_kind_ok(f->s, f->len, why, whysz); break;
        case F_PRIORITY:   /* one digit: "05" is refused, not rewritten */
            if (f->len != 1 || f->s[0] < '0' || f->s[0] > '9') {
                snprintf(why, whysz, "must be one digit, 0 (urgent) .. 9 (bulk)");
                rc = -1;
            }
            break;
        case F_QUIET:
            c->quiet = f->len == 1 && f->s[0] == '1';
            if (!c->quiet && !(f->len == 1 && f->s[0] == '0')) {
                snprintf(why, whysz, "must be 1, 0 or empty");
                rc = -1;
            }
            break;
        case F_NOT_AFTER:
            rc = check_not_after(f->s, f->len, now_ms, &c->not_after, why, whysz);
            break;
        case F_ID: rc = ctl_check_push_id(f->s, f->len, why, whysz); break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- the XADD ------------------------------------------------------- */

static void add_field(struct ctl_cmd *cmd, const char *name, const struct sc_csv_field *f)
{
    if (f) {
        ctl_cmd_str(cmd, name);
        ctl_cmd_arg(cmd, f->s, f->len);
    }
}

/* XADD mt:push * id ID to TO text TEXT [from] [kind] [priority] [not_after]
 * [quiet 1]: only the fields given, in the contract's order. id is
 * borrowed; not_after goes into cmd->num. */
static void build_xadd(struct ctl_cmd *cmd, const struct sc_csv_field *const *v,
                       const char *id, size_t idlen, const struct checked *c)
{
    static const struct sc_csv_field one = {"1", 1};
    ctl_cmd_str(cmd, "XADD");
    ctl_cmd_str(cmd, SC_KEY_MT_PUSH);
    ctl_cmd_str(cmd, "*");
    ctl_cmd_str(cmd, "id");
    ctl_cmd_arg(cmd, id, idlen);
    add_field(cmd, "to", v[F_TO]);
    add_field(cmd, "text", v[F_TEXT]);
    add_field(cmd, "from", v[F_FROM]);
    add_field(cmd, "kind", v[F_KIND]);
    add_field(cmd, "priority", v[F_PRIORITY]);
    if (c->not_after) {
        snprintf(cmd->num, sizeof cmd->num, "%llu", (unsigned long long)c->not_after);
        ctl_cmd_str(cmd, "not_after");
        ctl_cmd_str(cmd, cmd->num);
    }
    if (c->quiet)
        add_field(cmd, "quiet", &one);
}

/* ---- push --file ---------------------------------------------------- */

/* 64-bit FNV-1a, then a splitmix64 finaliser. */
static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The id of a row without one: STEM-HASH, STEM the file's base name (up to
 * STEM_MAX of [A-Za-z0-9._-], others as _), HASH 128 bits (two seeded
 * FNV-1a 64) over the base name and every field of the row but id, each
 * length-prefixed, in column order. Same file name and fields, same id. */
static void derive_id(char out[ID_MAX + 1], const char *path,
                      const struct sc_csv_field *const *v)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    size_t blen = strlen(base), o = 0;
    for (int k = 0; k < 2; k++) {
        h[k] = fnv64(h[k], &blen, sizeof blen);
        h[k] = fnv64(h[k], base, blen);
        for (int i = 0; i < F_ID; i++) {
            uint64_t n = v[i] ? (uint64_t)v[i]->len : UINT64_MAX;   /* absent != empty */
            h[k] = fnv64(h[k], &n, sizeof n);
            if (v[i])
                h[k] = fnv64(h[k], v[i]->s, v[i]->len);
        }
        h[k] = mix64(h[k] ^ (uint64_t)k);
    }
    for (; o < STEM_MAX && base[o]; o++) {
        char ch = base[o];
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        out[o] = keep ? ch : '_';
    }
    snprintf(out + o, ID_MAX + 1 - o, "-%016llx%016llx", (unsigned long long)h[0],
             (unsigned long long)h[1]);
}

static int build_push(struct ctl_importer *imp, const struct sc_csv_field *const *vals,
                      struct ctl_cmd *cmd)
{
    const struct ctl_import_opts *o = ctl_importer_opts(imp);
    const struct sc_csv_field *v[NF];
    struct checked c;
    char why[128];
    int bad;
    for (int i = 0; i < NF; i++)   /* an empty optional field is an absent one */
        v[i] = vals[i] && (vals[i]->len || i == F_TO || i == F_TEXT) ? vals[i] : NULL;
    if (check_fields(v, &o->lim, o->now_ms, &c, &bad, why, sizeof why) < 0) {
        ctl_field_ok(imp, g_cols[bad].name, v[bad], -1, why);
        return -1;
    }
    if (ctl_importer_checking(imp))
        return 0;   /* the id hash is for pass 2 only */
    if (v[F_ID])
        build_xadd(cmd, v, v[F_ID]->s, v[F_ID]->len, &c);
    else {
        derive_id(cmd->key, o->path, v);
        build_xadd(cmd, v, cmd->key, strlen(cmd->key), &c);
    }
    return 0;
}

const struct ctl_csv_table ctl_push_table = {
    "push", "queued", "queues", "pushes", g_cols, NF, build_push,
};

/* ---- push (one) ----------------------------------------------------- */

/* HOST-PID-MS-N: unique across hosts, processes and time; N counts the
 * ids this process made (one, today). The host is cut to 24 characters and
 * made printable, so the id has at most 24+1+10+1+13+1+10 = 60. */
static void generate_id(char out[ID_MAX + 1])
{
    static unsigned counter;
    char host[64] = "host", buf[128];
    gethostname(host, sizeof host);
    host[24] = '\0';
    for (char *p = host; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            *p = '_';
    snprintf(buf, sizeof buf, "%s-%ld-%llu-%u", host, (long)getpid(),
             (unsigned long long)wall_ms(), counter++);
    buf[ID_MAX] = '\0';
    memcpy(out, buf, ID_MAX + 1);
}

int ctl_push(struct ctl_redis *r, const struct ctl_push_opts *o)
{
    const char *given[NF] = {o->to, o->text, o->kind, o->priority, NULL, o->not_after,
                             o->from, o->id};
    struct sc_csv_field f[NF];
    const struct sc_csv_field *v[NF] = {NULL};
    static const char *const opt[NF] = {"--to", "--text", "--kind", "--priority", "--quiet",
                                        "--not-after", "--from", "--id"};
    struct checked c;
    struct ctl_cmd cmd = {0};
    char why[128], q[96], id[ID_MAX + 1];
    int bad;
    for (int i = 0; i < NF; i++) {
        if (given[i]) {
            f[i].s = given[i];
            f[i].len = strlen(given[i]);
            v[i] = &f[i];
        }
    }
    if (check_fields(v, &o->lim, wall_ms(), &c, &bad, why, sizeof why) < 0) {
        fprintf(stderr, "shortcodectl: %s %s %s\n", opt[bad],
                ctl_printable(q, sizeof q, v[bad]->s, v[bad]->len, 1), why);
        return CTL_EXIT_USAGE;
    }
    c.quiet = o->quiet;
    if (!o->id)
        generate_id(id);
    build_xadd(&cmd, v, o->id ? o->id : id, strlen(o->id ? o->id : id), &c);
    if (ctl_redis_connect(r) < 0)
        return CTL_EXIT_REDIS;
    redisReply *rep = ctl_redis_command(r, 1, cmd.argc, cmd.argv, cmd.lens);
    if (!rep)
        return CTL_EXIT_REDIS;
    int ok = rep->type == REDIS_REPLY_STRING;
    if (ok)
        printf("%s\n", o->id ? o->id : id);
    else
        fprintf(stderr, "shortcodectl: " SC_KEY_MT_PUSH ": redis: %s\n",
                rep->str ? ctl_printable(q, sizeof q, rep->str, rep->len, 0) : "unexpected reply");
    if (ok)
        fprintf(stderr, "queued in " SC_KEY_MT_PUSH " as entry %s (%u SMS)\n", rep->str, c.parts);
    freeReplyObject(rep);
    return ok ? CTL_EXIT_OK : CTL_EXIT_DATA;
}

/* ---- push --file LIST --text (one text for all) ------------------------ */

static void list_queue(void *arg, struct ctl_redis *r, int slot, const struct ctl_run_item *items,
                       size_t n)
{
    (void)arg, (void)r, (void)slot, (void)items, (void)n;   /* nothing to read */
}

static int list_collect(void *arg, struct ctl_redis *r, int slot,
                        const struct ctl_run_item *items, size_t n, enum ctl_run_fate *fate,
                        const char **text, size_t *len)
{
    const char *t = arg;
    (void)r, (void)slot, (void)items;
    for (size_t i = 0; i < n; i++) {
        fate[i] = CTL_RUN_PUSH;
        text[i] = t;
        len[i] = strlen(t);
    }
    return 0;
}

int ctl_push_list(struct ctl_redis *r, const struct ctl_list_opts *o)
{
    char why[128], q[96], id[ID_MAX + 8], key[ID_MAX + 16];
    unsigned parts;
    const char *kind = o->kind ? o->kind : "notice";
    size_t plen = strlen(o->id_prefix);
    const char *bad = NULL, *val = NULL;
    if (ctl_push_text_ok(o->text, strlen(o->text), &o->lim, &parts, why, sizeof why) < 0)
        bad = "--text", val = o->text;
    else if (ctl_push_kind_ok(kind, strlen(kind), why, sizeof why) < 0)
        bad = "--kind", val = kind;
    if (bad) {
        fprintf(stderr, "shortcodectl: %s %s %s\n", bad,
                ctl_printable(q, sizeof q, val, strlen(val), 1), why);
        return CTL_EXIT_USAGE;
    }
    /* The id is PREFIX:MSISDN, MSISDN up to CTL_MSISDN_MAX digits. */
    snprintf(id, sizeof id, "%s:%0*d", o->id_prefix, CTL_MSISDN_MAX, 0);
    if (ctl_check_push_id(o->id_prefix, plen, why, sizeof why) < 0 ||
        ctl_check_push_id(id, strlen(id), why, sizeof why) < 0) {
        fprintf(stderr, "shortcodectl: --id-prefix %s %s (with \":\" and the MSISDN: at most %d)\n",
                ctl_printable(q, sizeof q, o->id_prefix, plen, 1), why, ID_MAX);
        return CTL_EXIT_USAGE;
    }
    snprintf(key, sizeof key, SC_KEY_PUSHRUN_PREFIX "%s", o->id_prefix);
    snprintf(id, sizeof id, "%s:", o->id_prefix);
    const struct ctl_run_producer p = {"pushes", "skipped", list_queue, list_collect,
                                       (void *)o->text};
    const struct ctl_run_opts ro = {
        .path = o->path, .ckpt_key = key, .id_prefix = id, .id_suffix = "", .kind = kind,
        .priority = o->priority ? o->priority : "9", .quiet = o->quiet, .rate = o->rate,
        .max_backlog = o->max_backlog, .progress = o->progress, .p = &p,
    };
    return ctl_run(r, &ro);
}
