/* show.c -- `shortcodectl show` and `events`: read-only views of one
 * subscriber's keys and of the vas:events stream, for people.
 *
 * Everything printed from Redis goes through ctl_printable(), so a stored
 * control byte or broken UTF-8 cannot mangle the terminal. show reads all
 * of a subscriber's keys in one pipelined round trip, the catalogue entries
 * of its services in a second, and the value of each internal key that
 * exists in one more each. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uniwidth.h>

#include "base/sc.h"
#include "check.h"
#include "ctl.h"
#include "store/keys.h"

#define AUDIT_COUNT "10"

/* The daemon's internal per-subscriber keys, shown raw when they exist.
 * core/request.c keeps pending:{M} (a dialogue awaiting a reply, e.g. the
 * "00000" confirmation) and rl:{M} (rate limit); handlers/vas_*.c keep
 * items:{M}, gone:{M} and allgone:{M}; handlers/order.c order:{M};
 * handlers/lltx.c rem:{M}
 * (docs/handlers.md). */
static const struct {
    const char *what, *fmt;     /* fmt: an SC_KEY_* format, one %s for M */
} g_internal[] = {
    {"item numbers", SC_KEY_ITEMS},
    {"cancelled here", SC_KEY_GONE},
    {"cancel-all done", SC_KEY_ALLGONE},
    {"pending dialogue", SC_KEY_PENDING},
    {"latest order", SC_KEY_ORDER},
    {"rate limit", SC_KEY_RL},
    {"reminder settings", SC_KEY_REM}, /* handlers/lltx.c: data_pct */
};
#define NINTERNAL SC_ARRAY_LEN(g_internal)
#define PREFIX_LEN (sizeof SC_KEY_SVC_PREFIX - 1)

struct show {
    struct ctl_redis *r;
    char msisdn[CTL_MSISDN_MAX + 1];
    char k_sub[48], k_conf[48], k_acct[48], k_audit[48], k_internal[NINTERNAL][48];
    int errors;                 /* error replies seen: exit 1 */
};

/* One subscription, as printed. */
struct sub_row {
    char code[CTL_CODE_MAX * 4 + 8];
    long long since;
    char name[160];
    char fee[32];
    char date[32];
    char conf[72];              /* its sub:{M}:conf reference, or "-" */
    int missing;                /* no vas:svc:CODE */
    int unconfirmed;            /* no sub:{M}:conf entry */
};

/* ---- formatting ----------------------------------------------------- */

/* A Redis string reply's bytes, or NULL for other types. */
static const char *str_of(const redisReply *r, size_t *len)
{
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS))
        return NULL;
    *len = r->len;
    return r->str;
}

/* A value for key=value output: bare when it is plain, else quoted. */
static const char *value_text(char *buf, size_t bufsz, const char *s, size_t len)
{
    ctl_printable(buf, bufsz, s, len, 0);
    if (len == 0 || strlen(buf) != len || memcmp(buf, s, len) != 0 || memchr(s, ' ', len) ||
        memchr(s, '"', len))
        ctl_printable(buf, bufsz, s, len, 1);
    return buf;
}

/* price in fen as yuan: 500 -> "5元", 50 -> "0.5元", 1 -> "0.01元". */
static void format_yuan(char *buf, size_t bufsz, const char *s, size_t len)
{
    char err[64];
    uint64_t fen;
    if (!s || ctl_parse_uint(s, len, UINT32_MAX, &fen, err, sizeof err) < 0) {
        snprintf(buf, bufsz, "?");
        return;
    }
    unsigned long long y = fen / 100, f = fen % 100;
    if (f == 0)
        snprintf(buf, bufsz, "%llu元", y);
    else if (f % 10 == 0)
        snprintf(buf, bufsz, "%llu.%llu元", y, f / 10);
    else
        snprintf(buf, bufsz, "%llu.%02llu元", y, f);
}

/* Local date ("2024-01-02"), with the time of day when with_time. */
static void format_time(char *buf, size_t bufsz, long long t, int with_time)
{
    time_t tt = (time_t)t;
    struct tm tm;
    size_t n = 0;
    if (localtime_r(&tt, &tm))
        n = with_time ? strftime(buf, bufsz, "%Y-%m-%d %H:%M:%S", &tm)
                      : strftime(buf, bufsz, "%Y-%m-%d", &tm);
    if (n == 0)
        snprintf(buf, bufsz, "%lld", t);
}

static size_t text_width(const char *s)
{
    int w = u8_strwidth((const uint8_t *)s, "UTF-8");
    return w > 0 ? (size_t)w : strlen(s);
}

static void print_cell(const char *s, size_t width)
{
    size_t w = text_width(s);
    fputs(s, stdout);
    for (; w < width; w++)
        fputc(' ', stdout);
}

/* "ID  local-time  field=value ..." for one stream entry. */
static void print_entry(const char *indent, const redisReply *e)
{
    char buf[512], when[32];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *id = e->element[0], *kv = e->element[1];
    format_time(when, sizeof when, strtoll(id->str, NULL, 10) / 1000, 1);
    printf("%s%s  %s ", indent, ctl_printable(buf, sizeof buf, id->str, id->len, 0), when);
    for (size_t i = 0; kv->type == REDIS_REPLY_ARRAY && i + 1 < kv->elements; i += 2) {
        size_t kl = 0, vl = 0;
        const char *k = str_of(kv->element[i], &kl), *v = str_of(kv->element[i + 1], &vl);
        if (!k || !v)
            continue;
        printf(" %s=", ctl_printable(buf, sizeof buf, k, kl, 0));
        fputs(value_text(buf, sizeof buf, v, vl), stdout);
    }
    fputc('\n', stdout);
}

/* Report an error reply (or a reply of an unexpected type) under a
 * heading; 1 if rep was one, 0 if it is of type want or nil (no such key). */
static int reply_failed(struct show *sh, const char *what, const redisReply *rep, int want)
{
    char buf[256];
    if (rep->type == want || rep->type == REDIS_REPLY_NIL)
        return 0;
    sh->errors++;
    fflush(stdout);   /* keep the message in its place in the listing */
    if (rep->type == REDIS_REPLY_ERROR)
        fprintf(stderr, "shortcodectl: %s: redis error: %s\n", what,
                ctl_printable(buf, sizeof buf, rep->str, rep->len, 0));
    else
        fprintf(stderr, "shortcodectl: %s: unexpected reply type %d\n", what, rep->type);
    return 1;
}

/* ---- subscriptions -------------------------------------------------- */

static int by_since(const void *a, const void *b)
{
    const struct sub_row *x = a, *y = b;
    if (x->since != y->since)
        return x->since < y->since ? -1 : 1;
    return strcmp(x->code, y->code);
}

/* The confirmation reference of code in HGETALL sub:{M}:conf (conf may be
 * an error reply or nil: then none is known), or NULL. */
static const redisReply *conf_of(const redisReply *conf, const redisReply *code)
{
    if (conf->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < conf->elements; i += 2) {
        const redisReply *k = conf->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len == code->len &&
            memcmp(k->str, code->str, k->len) == 0 &&
            conf->element[i + 1]->type == REDIS_REPLY_STRING)
            return conf->element[i + 1];
    }
    return NULL;
}

/* Rows from HGETALL sub:{M}:vas, with names and fees from the catalogue
 * (one pipelined HMGET per code) and confirmations from HGETALL
 * sub:{M}:conf. Returns the count, or -1 if the connection failed. */
static long load_subs(struct show *sh, const redisReply *all, const redisReply *conf,
                      struct sub_row **out)
{
    size_t n = all->elements / 2;
    struct sub_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const redisReply *c = all->element[2 * i], *s = all->element[2 * i + 1];
        struct sub_row *row = &rows[i];
        char key[8 + CTL_CODE_MAX * 4], why[64];
        size_t klen = PREFIX_LEN + SC_MIN(c->len, sizeof key - PREFIX_LEN);
        uint64_t since;
        ctl_printable(row->code, sizeof row->code, c->str, c->len, 0);
        const redisReply *ref = conf_of(conf, c);
        /* A conf key that cannot be read (reported) confirms nothing, and
         * denies nothing either: "?". */
        row->unconfirmed = !ref && conf->type != REDIS_REPLY_ERROR;
        if (ref)
            ctl_printable(row->conf, sizeof row->conf, ref->str, ref->len, 0);
        else
            sc_strlcpy(row->conf, row->unconfirmed ? "-" : "?", sizeof row->conf);
        if (ctl_parse_uint(s->str, s->len, INT64_MAX / 10, &since, why, sizeof why) == 0) {
            row->since = (long long)since;
            format_time(row->date, sizeof row->date, row->since, 0);
        } else {   /* not unix seconds: show it as it is, sorted first */
            row->since = -1;
            ctl_printable(row->date, sizeof row->date, s->str, s->len, 1);
        }
        memcpy(key, SC_KEY_SVC_PREFIX, PREFIX_LEN);
        memcpy(key + PREFIX_LEN, c->str, klen - PREFIX_LEN);
        const char *argv[4] = {"HMGET", key, "name", "price_fen"};
        const size_t lens[4] = {5, klen, 4, 9};
        ctl_redis_append(sh->r, 1, 4, argv, lens);
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = ctl_redis_read(sh->r);
        size_t nl = 0, pl = 0;
        if (!rep) {
            free(rows);
            return -1;
        }
        const char *name = NULL, *price = NULL;
        if (!reply_failed(sh, rows[i].code, rep, REDIS_REPLY_ARRAY) && rep->elements == 2) {
            name = str_of(rep->element[0], &nl);
            price = str_of(rep->element[1], &pl);
        }
        rows[i].missing = !name && !price;
        ctl_printable(rows[i].name, sizeof rows[i].name, name ? name : "", nl, 0);
        if (!rows[i].missing)
            format_yuan(rows[i].fee, sizeof rows[i].fee, price, pl);
        freeReplyObject(rep);
    }
    qsort(rows, n, sizeof *rows, by_since);
    *out = rows;
    return (long)n;
}

/* The table, then how many lack a secondary confirmation (cancelling one
 * files a double refund: docs/handlers.md "Refunds"). */
static void print_subs(const struct sub_row *rows, size_t n)
{
    size_t wc = 4, wn = 4, wf = 3, wd = 5, unconfirmed = 0;
    printf("services (%zu, oldest first):\n", n);
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        wc = SC_MAX(wc, text_width(rows[i].code));
        wn = SC_MAX(wn, text_width(rows[i].name));
        wf = SC_MAX(wf, text_width(rows[i].fee));
        wd = SC_MAX(wd, text_width(rows[i].date));
        unconfirmed += (size_t)rows[i].unconfirmed;
    }
    printf("  ");
    print_cell("CODE", wc + 2);
    print_cell("NAME", wn + 2);
    print_cell("FEE", wf + 2);
    print_cell("SINCE", wd + 2);
    printf("CONFIRMATION\n");
    for (size_t i = 0; i < n; i++) {
        printf("  ");
        print_cell(rows[i].code, wc + 2);
        print_cell(rows[i].name, wn + 2);
        print_cell(rows[i].fee, wf + 2);
        print_cell(rows[i].date, wd + 2);
        printf("%s%s%s\n", rows[i].conf, rows[i].unconfirmed ? "  (unconfirmed)" : "",
               rows[i].missing ? "  (not in the catalogue)" : "");
    }
    if (unconfirmed)
        printf("  %zu without a confirmation (sub:{M}:conf): cancelling one files a double "
               "refund\n", unconfirmed);
}

static int show_subs(struct show *sh, const redisReply *all, const redisReply *conf)
{
    struct sub_row *rows = NULL;
    if (reply_failed(sh, "services", all, REDIS_REPLY_ARRAY))
        return 0;
    reply_failed(sh, "confirmations", conf, REDIS_REPLY_ARRAY); /* then: none shown */
    long n = load_subs(sh, all, conf, &rows);
    if (n < 0)
        return -1;
    print_subs(rows, (size_t)n);
    free(rows);
    return 0;
}

/* ---- internal keys -------------------------------------------------- */

/* How to read a key of each type; the key goes in argv[1]. */
static const struct {
    const char *type;
    const char *argv[5];
    int argc;
    int pairs;                  /* the reply alternates field, value */
} g_readers[] = {
    {"string", {"GET", NULL}, 2, 0},
    {"hash", {"HGETALL", NULL}, 2, 1},
    {"list", {"LRANGE", NULL, "0", "-1"}, 4, 0},
    {"set", {"SMEMBERS", NULL}, 2, 0},
    {"zset", {"ZRANGE", NULL, "0", "-1", "WITHSCORES"}, 5, 1},
};

static void print_value(const redisReply *v, int pairs)
{
    char a[512], b[512];
    size_t la, lb;
    const char *s = str_of(v, &la);
    if (s) {
        printf("  %s\n", value_text(a, sizeof a, s, la));
        return;
    }
    for (size_t i = 0; v->type == REDIS_REPLY_ARRAY && i < v->elements; i += pairs ? 2 : 1) {
        const char *x = str_of(v->element[i], &la);
        const char *y = pairs && i + 1 < v->elements ? str_of(v->element[i + 1], &lb) : NULL;
        if (!x)
            continue;
        if (y)
            printf("  %s = %s\n", ctl_printable(a, sizeof a, x, la, 0),
                   value_text(b, sizeof b, y, lb));
        else
            printf("  %s\n", value_text(a, sizeof a, x, la));
    }
}

/* Print an internal key (raw value and TTL) if it exists. type and pttl are
 * the replies to TYPE and PTTL. 0, or -1 if the connection failed. */
static int show_internal(struct show *sh, const char *what, const char *key,
                         const redisReply *type, const redisReply *pttl)
{
    char ttl[48];
    if (reply_failed(sh, what, type, REDIS_REPLY_STATUS) || type->type != REDIS_REPLY_STATUS ||
        strcmp(type->str, "none") == 0)
        return 0;
    if (pttl->type == REDIS_REPLY_INTEGER && pttl->integer >= 0)
        snprintf(ttl, sizeof ttl, "expires in %lld s", (pttl->integer + 999) / 1000);
    else
        snprintf(ttl, sizeof ttl, "no expiry");
    printf("%s (%s, %s, %s):\n", what, key, type->str, ttl);
    for (size_t i = 0; i < SC_ARRAY_LEN(g_readers); i++) {
        if (strcmp(type->str, g_readers[i].type) != 0)
            continue;
        const char *argv[5];
        memcpy(argv, g_readers[i].argv, sizeof argv);
        argv[1] = key;
        redisReply *v = ctl_redis_command(sh->r, 1, g_readers[i].argc, argv, NULL);
        if (!v)
            return -1;
        if (!reply_failed(sh, what, v, v->type == REDIS_REPLY_ARRAY ? REDIS_REPLY_ARRAY
                                                                    : REDIS_REPLY_STRING))
            print_value(v, g_readers[i].pairs);
        freeReplyObject(v);
        return 0;
    }
    printf("  (a %s: not shown)\n", type->str);
    return 0;
}

/* ---- account and audit ---------------------------------------------- */

struct kv {
    const redisReply *k, *v;
};

static int by_key(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    return strcmp(x->k->str ? x->k->str : "", y->k->str ? y->k->str : "");
}

/* The account hash, fields sorted by name. */
static void show_acct(struct show *sh, const redisReply *all)
{
    char a[256], b[256];
    size_t n = all->elements / 2;
    if (reply_failed(sh, "account", all, REDIS_REPLY_ARRAY) || n == 0)
        return;
    struct kv *kv = malloc(n * sizeof *kv);
    if (!kv)
        return;
    for (size_t i = 0; i < n; i++)
        kv[i] = (struct kv){all->element[2 * i], all->element[2 * i + 1]};
    qsort(kv, n, sizeof *kv, by_key);
    printf("account (%s):\n", sh->k_acct);
    for (size_t i = 0; i < n; i++)
        printf("  %s = %s\n", ctl_printable(a, sizeof a, kv[i].k->str, kv[i].k->len, 0),
               value_text(b, sizeof b, kv[i].v->str, kv[i].v->len));
    free(kv);
}

static void show_audit(struct show *sh, const redisReply *entries)
{
    if (reply_failed(sh, "audit", entries, REDIS_REPLY_ARRAY) || entries->elements == 0)
        return;
    printf("audit (%s, last %zu, newest first):\n", sh->k_audit, entries->elements);
    for (size_t i = 0; i < entries->elements; i++)
        print_entry("  ", entries->element[i]);
}

/* ---- the commands --------------------------------------------------- */

/* Replies of the first round trip, in the order fetch() sends them. */
enum { R_SUB, R_CONF, R_ACCT, R_AUDIT, R_INTERNAL /* then TYPE, PTTL per internal key */ };
#define R_COUNT (R_INTERNAL + 2 * NINTERNAL)

/* Send the first round of reads and collect the replies; 0 or -1. */
static int fetch(struct show *sh, redisReply *rep[R_COUNT])
{
    const char *sub[2] = {"HGETALL", sh->k_sub}, *acct[2] = {"HGETALL", sh->k_acct};
    const char *conf[2] = {"HGETALL", sh->k_conf};
    const char *audit[6] = {"XREVRANGE", sh->k_audit, "+", "-", "COUNT", AUDIT_COUNT};
    ctl_redis_append(sh->r, 1, 2, sub, NULL);
    ctl_redis_append(sh->r, 1, 2, conf, NULL);
    ctl_redis_append(sh->r, 1, 2, acct, NULL);
    ctl_redis_append(sh->r, 1, 6, audit, NULL);
    for (size_t i = 0; i < NINTERNAL; i++) {
        const char *type[2] = {"TYPE", sh->k_internal[i]}, *pttl[2] = {"PTTL", sh->k_internal[i]};
        ctl_redis_append(sh->r, 1, 2, type, NULL);
        ctl_redis_append(sh->r, 1, 2, pttl, NULL);
    }
    for (size_t i = 0; i < R_COUNT; i++)
        if (!(rep[i] = ctl_redis_read(sh->r)))
            return -1;
    return 0;
}

/* Everything after the first round trip. 0, or -1 if the connection failed. */
static int print_all(struct show *sh, redisReply *const rep[R_COUNT])
{
    printf("subscriber %s\n", sh->msisdn);
    if (show_subs(sh, rep[R_SUB], rep[R_CONF]) < 0)
        return -1;
    for (size_t i = 0; i < NINTERNAL; i++)
        if (show_internal(sh, g_internal[i].what, sh->k_internal[i], rep[R_INTERNAL + 2 * i],
                          rep[R_INTERNAL + 2 * i + 1]) < 0)
            return -1;
    show_acct(sh, rep[R_ACCT]);
    show_audit(sh, rep[R_AUDIT]);
    return 0;
}

int ctl_show(struct ctl_redis *r, const char *arg)
{
    char err[128], q[64];
    struct show sh = {.r = r};
    redisReply *rep[R_COUNT] = {NULL};
    if (ctl_msisdn_normalise(arg, strlen(arg), sh.msisdn, err, sizeof err) < 0) {
        fprintf(stderr, "shortcodectl: MSISDN %s %s\n",
                ctl_printable(q, sizeof q, arg, strlen(arg), 1), err);
        return CTL_EXIT_USAGE;
    }
    sc_key(sh.k_sub, sizeof sh.k_sub, SC_KEY_SUB, sh.msisdn);
    sc_key(sh.k_conf, sizeof sh.k_conf, SC_KEY_CONF, sh.msisdn);
    sc_key(sh.k_acct, sizeof sh.k_acct, SC_KEY_ACCT, sh.msisdn);
    sc_key(sh.k_audit, sizeof sh.k_audit, SC_KEY_AUDIT, sh.msisdn);
    for (size_t i = 0; i < NINTERNAL; i++)
        sc_key(sh.k_internal[i], sizeof sh.k_internal[i], g_internal[i].fmt, sh.msisdn);
    int rc = ctl_redis_connect(r) < 0 || fetch(&sh, rep) < 0 || print_all(&sh, rep) < 0;
    for (size_t i = 0; i < R_COUNT; i++)
        if (rep[i])
            freeReplyObject(rep[i]);
    if (rc)
        return CTL_EXIT_REDIS;
    return sh.errors ? CTL_EXIT_DATA : CTL_EXIT_OK;
}

int ctl_events(struct ctl_redis *r, long count)
{
    char n[24];
    struct show sh = {.r = r};
    snprintf(n, sizeof n, "%ld", count);
    const char *argv[6] = {"XREVRANGE", SC_KEY_EVENTS, "+", "-", "COUNT", n};
    if (ctl_redis_connect(r) < 0)
        return CTL_EXIT_REDIS;
    redisReply *rep = ctl_redis_command(r, 1, 6, argv, NULL);
    if (!rep)
        return CTL_EXIT_REDIS;
    if (!reply_failed(&sh, SC_KEY_EVENTS, rep, REDIS_REPLY_ARRAY))
        for (size_t i = 0; i < rep->elements; i++)
            print_entry("", rep->element[i]);
    freeReplyObject(rep);
    return sh.errors ? CTL_EXIT_DATA : CTL_EXIT_OK;
}

/* ---- status --------------------------------------------------------- */

/* The fields of mt:{ID} in the order printed; others follow as stored. */
static const char *const g_mt_fields[] = {"state", "to", "kind", "priority", "parts",
                                          "err", "at", "entry"};

/* mt:{ID}'s fields, "at" (unix ms) as local time. */
static void print_mt(const char *id, const redisReply *h)
{
    char kbuf[64], buf[512], when[48];
    printf("push %s\n", id);
    for (size_t f = 0; f <= SC_ARRAY_LEN(g_mt_fields); f++) {
        for (size_t i = 0; i + 1 < h->elements; i += 2) {
            size_t kl = 0, vl = 0;
            const char *k = str_of(h->element[i], &kl), *v = str_of(h->element[i + 1], &vl);
            if (!k || !v)
                continue;
            size_t known = 0;
            while (known < SC_ARRAY_LEN(g_mt_fields) &&
                   (strlen(g_mt_fields[known]) != kl || memcmp(g_mt_fields[known], k, kl)))
                known++;
            if (known != f)   /* f == SC_ARRAY_LEN: the fields not in the list */
                continue;
            printf("  %-9s %s", ctl_printable(kbuf, sizeof kbuf, k, kl, 0),
                   value_text(buf, sizeof buf, v, vl));
            if (known == 6 && vl) {   /* at */
                long long ms = strtoll(v, NULL, 10);
                format_time(when, sizeof when, ms / 1000, 1);
                printf("  (%s.%03lld)", when, ms % 1000);
            }
            fputc('\n', stdout);
        }
    }
}

/* The value of field name in HGETALL reply h, or NULL. */
static const redisReply *hash_field(const redisReply *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING)
            return h->element[i + 1];
    return NULL;
}

/* Does stream entry e carry id = id? */
static int entry_is(const redisReply *e, const char *id)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    const redisReply *v = hash_field(e->element[1], "id");
    return v && strcmp(v->str, id) == 0;
}

/* The push's entries among the STATUS_SCAN mt:status entries written up to
 * STATUS_SLACK_MS after its latest state (and not before its mt:push entry):
 * one bounded XREVRANGE; older entries of a long-lived push are not looked
 * for (mt:{ID} holds its latest state). 0, or -1 if the connection failed. */
#define STATUS_SCAN 1000
#define STATUS_SLACK_MS 2000
static int print_history(struct show *sh, const char *id, const redisReply *h)
{
    char end[32], n[16];
    const redisReply *at = hash_field(h, "at"), *entry = hash_field(h, "entry");
    if (!at)
        return 0;
    snprintf(end, sizeof end, "%lld", strtoll(at->str, NULL, 10) + STATUS_SLACK_MS);
    snprintf(n, sizeof n, "%d", STATUS_SCAN);
    const char *argv[6] = {"XREVRANGE", SC_KEY_MT_STATUS, end,
                           entry && entry->len ? entry->str : "-", "COUNT", n};
    redisReply *rep = ctl_redis_command(sh->r, 1, 6, argv, NULL);
    if (!rep)
        return -1;
    if (!reply_failed(sh, SC_KEY_MT_STATUS, rep, REDIS_REPLY_ARRAY)) {
        size_t found = 0;
        printf(SC_KEY_MT_STATUS " (latest first, among the %zu entries up to %d s after at):\n",
               rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0, STATUS_SLACK_MS / 1000);
        for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++)
            if (entry_is(rep->element[i], id) && ++found)
                print_entry("  ", rep->element[i]);
        if (!found)
            printf("  (none)\n");
    }
    freeReplyObject(rep);
    return 0;
}

int ctl_status(struct ctl_redis *r, const char *id)
{
    char err[128], q[96], key[SC_KEY_MAX];
    struct show sh = {.r = r};
    if (ctl_check_push_id(id, strlen(id), err, sizeof err) < 0) {
        fprintf(stderr, "shortcodectl: id %s %s\n", ctl_printable(q, sizeof q, id, strlen(id), 1),
                err);
        return CTL_EXIT_USAGE;
    }
    sc_key(key, sizeof key, SC_KEY_MT, id);
    if (ctl_redis_connect(r) < 0)
        return CTL_EXIT_REDIS;
    const char *argv[2] = {"HGETALL", key};
    redisReply *rep = ctl_redis_command(r, 1, 2, argv, NULL);
    if (!rep)
        return CTL_EXIT_REDIS;
    int rc = CTL_EXIT_OK;
    if (reply_failed(&sh, key, rep, REDIS_REPLY_ARRAY)) {
        rc = CTL_EXIT_DATA;
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
        fprintf(stderr, "shortcodectl: unknown id %s (no %s: never pushed, not read by a daemon "
                "yet, or older than mt.dedup_horizon_s)\n", id, key);
        rc = CTL_EXIT_DATA;
    } else {
        print_mt(id, rep);
        if (print_history(&sh, id, rep) < 0)
            rc = CTL_EXIT_REDIS;
        else if (sh.errors)
            rc = CTL_EXIT_DATA;
    }
    freeReplyObject(rep);
    return rc;
}
