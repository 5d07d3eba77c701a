/* script.c -- scripted mode: a file of steps (send MOs, expect MTs and resps)
 * run one after the other on the loop, each reported on stdout.
 *
 * The whole file is parsed first (FILE:LINE: message and exit 2 on any
 * error), then the steps run. A step either finishes at once (send) or
 * waits: for an event (an MT, an MO resp, a bind) or for its timer. Nothing
 * blocks; every wait has a timeout. Each step prints
 *   ok  line 3: expect 13800138000 ^Hello
 *   FAIL line 5: expected /x/ got "..."
 * and the run ends with "script: N passed, M failed".
 *
 * Complete MTs are queued per destination address as they arrive; an
 * expect consumes the oldest MT to its FROM, whatever it says. */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "env.h"
#include "mo.h"
#include "opts.h"
#include "script.h"
#include "server.h"
#include "stats.h"

enum step_kind {
    K_WAIT_BOUND, K_SEND, K_EXPECT, K_EXPECT_STATUS, K_EXPECT_NONE, K_SLEEP, K_BURST,
    K_EXPECT_COUNT,
};

struct step {
    enum step_kind kind;
    int line;
    char *raw;                   /* the line, trimmed, for the report */
    char from[SC_ADDR_MAX];
    char to[SC_ADDR_MAX];
    struct sim_send_opts so;
    char *text;
    size_t text_len;
    char *re_src;
    regex_t re;
    int has_re;
    int64_t status;
    uint64_t ms;                 /* timeout / sleep / window; 0 = --timeout-ms */
    uint64_t count;
    uint64_t spread;             /* burst: senders FROM .. FROM+spread-1 */
};

/* MTs queued for one destination address. */
struct dest {
    struct dest *next;
    char addr[SC_ADDR_MAX];
    struct sim_mt *head, *tail;
    size_t n;
};

#define NBUCKETS 256
#define MAX_TOKENS 64
#define BURST_QUEUE 256          /* MO parts a burst keeps queued ahead */

struct sim_script {
    struct sim_env *env;
    char *path;
    struct step *steps;
    size_t nsteps, cap;
    size_t cur;
    unsigned passed, failed;
    int waiting;
    int running, again;
    int done;
    uv_timer_t timer;
    struct sim_mo *last_mo;
    struct dest *buckets[NBUCKETS];
    size_t nmt;
    /* the running burst */
    uint64_t b_left, b_done;
    unsigned b_first_id;
    uint64_t b_start;
    struct sim_statmap b_status;
};

/* ---- parsing ------------------------------------------------------------- */

struct line_toks {
    size_t n;
    char *tok[MAX_TOKENS];
    size_t off[MAX_TOKENS];      /* where each token starts in the line */
    size_t end[MAX_TOKENS];
};

/* Split line into blank-separated tokens (copies in buf). */
static void tokenize(const char *line, char *buf, struct line_toks *t)
{
    size_t i = 0, o = 0;
    t->n = 0;
    while (line[i] && t->n < MAX_TOKENS) {
        while (line[i] == ' ' || line[i] == '\t')
            i++;
        if (!line[i])
            break;
        t->off[t->n] = i;
        t->tok[t->n] = buf + o;
        while (line[i] && line[i] != ' ' && line[i] != '\t')
            buf[o++] = line[i++];
        buf[o++] = '\0';
        t->end[t->n] = i;
        t->n++;
    }
}

struct perr {
    char msg[256];
};

static int perror_at(struct perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perror_at(struct perr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return SC_EINVAL;
}

static int parse_ms(const char *s, uint64_t *out, struct perr *e)
{
    if (sim_parse_uint(s, 0, 86400000, out) < 0)
        return perror_at(e, "bad milliseconds \"%s\" (0..86400000)", s);
    return 0;
}

static int parse_addr(const char *s, char *out, struct perr *e)
{
    if (!sim_addr_valid(s))
        return perror_at(e, "bad address \"%s\" (1 to 20 printable characters)", s);
    sc_strlcpy(out, s, SC_ADDR_MAX);
    return 0;
}

static int parse_status(const char *s, int64_t *out, struct perr *e)
{
    uint32_t st;
    if (strcmp(s, "timeout") == 0)
        *out = SIM_ST_TIMEOUT;
    else if (strcmp(s, "closed") == 0)
        *out = SIM_ST_CLOSED;
    else if (sc_pdu_status_parse(s, &st) == 0)
        *out = st;
    else
        return perror_at(e, "unknown status \"%s\"", s);
    return 0;
}

/* TEXT: the rest of the line after token i, as typed. */
static int take_text(struct step *st, const char *line, const struct line_toks *t, size_t i,
                     struct perr *e)
{
    const char *p = line + t->end[i];
    while (*p == ' ' || *p == '\t')
        p++;
    st->text = strdup(p);
    if (!st->text)
        return perror_at(e, "out of memory");
    st->text_len = strlen(p);
    return 0;
}

static int parse_wait_bound(struct step *st, const char *line, const struct line_toks *t,
                            struct perr *e)
{
    if (t->n > 2)
        return perror_at(e, "usage: wait_bound [TIMEOUT_MS]");
    return t->n == 2 ? parse_ms(t->tok[1], &st->ms, e) : 0;
}

/* send [--ucs2|--gsm] [--data-sm] [--payload] [--parts N [--part K] [--ref R]]
 *      [--udh8|--udh16|--sar] [--to NUMBER] FROM TEXT... ; burst COUNT FROM TEXT... */
static int parse_send_opts(struct step *st, const struct line_toks *t, size_t *i, struct perr *e)
{
    for (; *i < t->n && strncmp(t->tok[*i], "--", 2) == 0; (*i)++) {
        const char *o = t->tok[*i];
        if (strcmp(o, "--ucs2") == 0)
            st->so.enc = SIM_ENC_UCS2;
        else if (strcmp(o, "--gsm") == 0)
            st->so.enc = SIM_ENC_GSM;
        else if (strcmp(o, "--data-sm") == 0)
            st->so.data_sm = 1;
        else if (strcmp(o, "--payload") == 0)
            st->so.payload = 1;
        else if (strcmp(o, "--udh8") == 0)
            st->so.concat = SIM_CONCAT_UDH8;
        else if (strcmp(o, "--udh16") == 0)
            st->so.concat = SIM_CONCAT_UDH16;
        else if (strcmp(o, "--sar") == 0)
            st->so.concat = SIM_CONCAT_SAR;
        else if (strcmp(o, "--spread") == 0) {
            if (st->kind != K_BURST)
                return perror_at(e, "--spread is a burst option");
            if (*i + 1 >= t->n || sim_parse_uint(t->tok[*i + 1], 1, 100000000, &st->spread) < 0)
                return perror_at(e, "--spread needs a count (1..100000000)");
            (*i)++;
        } else if (strcmp(o, "--part") == 0 || strcmp(o, "--ref") == 0) {
            uint64_t n;
            int ref = o[2] == 'r';
            if (*i + 1 >= t->n || sim_parse_uint(t->tok[*i + 1], ref ? 0 : 1, ref ? 65535 : 255, &n) < 0)
                return perror_at(e, "%s needs a number (%s)", o, ref ? "0..65535" : "1..255");
            (*i)++;
            if (ref) {
                st->so.has_ref = 1;
                st->so.ref = (uint16_t)n;
            } else {
                st->so.only = (unsigned)n;
            }
        } else if (strcmp(o, "--parts") == 0 || strcmp(o, "--to") == 0) {
            if (*i + 1 >= t->n)
                return perror_at(e, "%s needs a value", o);
            const char *v = t->tok[++*i];
            uint64_t n;
            if (o[2] == 't') {
                if (parse_addr(v, st->to, e) < 0)
                    return SC_EINVAL;
            } else if (sim_parse_uint(v, 1, 255, &n) < 0) {
                return perror_at(e, "bad --parts \"%s\" (1..255)", v);
            } else {
                st->so.parts = (unsigned)n;
            }
        } else {
            return perror_at(e, "unknown send option \"%s\"", o);
        }
    }
    return 0;
}

static int parse_send(struct step *st, const char *line, const struct line_toks *t,
                      struct perr *e)
{
    size_t i = 1;
    if (parse_send_opts(st, t, &i, e) < 0)
        return SC_EINVAL;
    if (i >= t->n)
        return perror_at(e, "usage: send [OPTIONS] FROM TEXT...");
    if (st->so.only && st->so.only > st->so.parts)
        return perror_at(e, "--part %u needs --parts of at least %u", st->so.only, st->so.only);
    if (parse_addr(t->tok[i], st->from, e) < 0)
        return SC_EINVAL;
    return take_text(st, line, t, i, e);
}

static int parse_burst(struct step *st, const char *line, const struct line_toks *t,
                       struct perr *e)
{
    size_t i = 1;
    if (parse_send_opts(st, t, &i, e) < 0)
        return SC_EINVAL;
    if (i + 1 >= t->n)
        return perror_at(e, "usage: burst [OPTIONS] COUNT FROM TEXT...");
    if (st->so.only || st->so.has_ref)
        return perror_at(e, "--part and --ref are send options");
    if (sim_parse_uint(t->tok[i], 1, 10000000, &st->count) < 0)
        return perror_at(e, "bad COUNT \"%s\" (1..10000000)", t->tok[i]);
    if (parse_addr(t->tok[i + 1], st->from, e) < 0)
        return SC_EINVAL;
    if (st->spread && (strspn(st->from, "0123456789") != strlen(st->from) || strlen(st->from) > 19))
        return perror_at(e, "--spread needs a FROM of at most 19 digits");
    return take_text(st, line, t, i + 1, e);
}

static int parse_expect(struct step *st, const char *line, const struct line_toks *t,
                        struct perr *e)
{
    if (t->n < 3 || t->n > 4)
        return perror_at(e, "usage: expect FROM REGEX [TIMEOUT_MS]");
    if (parse_addr(t->tok[1], st->from, e) < 0)
        return SC_EINVAL;
    if (t->n == 4 && parse_ms(t->tok[3], &st->ms, e) < 0)
        return SC_EINVAL;
    st->re_src = strdup(t->tok[2]);
    if (!st->re_src)
        return perror_at(e, "out of memory");
    int rc = regcomp(&st->re, st->re_src, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char m[128];
        regerror(rc, &st->re, m, sizeof m);
        return perror_at(e, "bad regex /%s/: %s", st->re_src, m);
    }
    st->has_re = 1;
    return 0;
}

static int parse_expect_status(struct step *st, const char *line, const struct line_toks *t,
                               struct perr *e)
{
    if (t->n < 2 || t->n > 3)
        return perror_at(e, "usage: expect_status STATUS [TIMEOUT_MS]");
    if (parse_status(t->tok[1], &st->status, e) < 0)
        return SC_EINVAL;
    return t->n == 3 ? parse_ms(t->tok[2], &st->ms, e) : 0;
}

static int parse_expect_none(struct step *st, const char *line, const struct line_toks *t,
                             struct perr *e)
{
    if (t->n != 3)
        return perror_at(e, "usage: expect_none FROM MS");
    if (parse_addr(t->tok[1], st->from, e) < 0)
        return SC_EINVAL;
    return parse_ms(t->tok[2], &st->ms, e);
}

static int parse_sleep(struct step *st, const char *line, const struct line_toks *t,
                       struct perr *e)
{
    if (t->n != 2)
        return perror_at(e, "usage: sleep MS");
    return parse_ms(t->tok[1], &st->ms, e);
}

static int parse_expect_count(struct step *st, const char *line, const struct line_toks *t,
                              struct perr *e)
{
    if (t->n != 4)
        return perror_at(e, "usage: expect_count FROM COUNT TIMEOUT_MS");
    if (strcmp(t->tok[1], "*") == 0)
        sc_strlcpy(st->from, "*", sizeof st->from); /* MTs to anyone */
    else if (parse_addr(t->tok[1], st->from, e) < 0)
        return SC_EINVAL;
    if (sim_parse_uint(t->tok[2], 1, 10000000, &st->count) < 0)
        return perror_at(e, "bad COUNT \"%s\" (1..10000000)", t->tok[2]);
    return parse_ms(t->tok[3], &st->ms, e);
}

/* The commands, in one table. */
static const struct {
    const char *name;
    enum step_kind kind;
    int (*parse)(struct step *st, const char *line, const struct line_toks *t, struct perr *e);
} g_cmds[] = {
    {"wait_bound", K_WAIT_BOUND, parse_wait_bound},
    {"send", K_SEND, parse_send},
    {"expect", K_EXPECT, parse_expect},
    {"expect_status", K_EXPECT_STATUS, parse_expect_status},
    {"expect_none", K_EXPECT_NONE, parse_expect_none},
    {"sleep", K_SLEEP, parse_sleep},
    {"burst", K_BURST, parse_burst},
    {"expect_count", K_EXPECT_COUNT, parse_expect_count},
};

static void step_free(struct step *st)
{
    free(st->raw);
    free(st->text);
    free(st->re_src);
    if (st->has_re)
        regfree(&st->re);
}

void sim_script_free(struct sim_script *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nsteps; i++)
        step_free(&sc->steps[i]);
    free(sc->steps);
    for (size_t b = 0; b < NBUCKETS; b++) {
        struct dest *d = sc->buckets[b];
        while (d) {
            struct dest *dn = d->next;
            while (d->head) {
                struct sim_mt *m = d->head;
                d->head = m->next;
                free(m);
            }
            free(d);
            d = dn;
        }
    }
    if (sc->last_mo)
        sim_mo_release(sc->last_mo);
    free(sc->path);
    free(sc);
}

/* Parse one non-empty, non-comment line into a new step. */
static int parse_line(struct sim_script *sc, char *line, int lineno, struct perr *e)
{
    size_t len = strlen(line);
    char *buf = malloc(len + 1 + MAX_TOKENS);
    struct line_toks t;
    if (!buf)
        return perror_at(e, "out of memory");
    tokenize(line, buf, &t);
    int rc = SC_EINVAL;
    size_t k;
    for (k = 0; k < SC_ARRAY_LEN(g_cmds); k++)
        if (strcmp(t.tok[0], g_cmds[k].name) == 0)
            break;
    if (k == SC_ARRAY_LEN(g_cmds)) {
        perror_at(e, "unknown command \"%s\"", t.tok[0]);
        goto out;
    }
    if (sc->nsteps == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 16;
        struct step *s = realloc(sc->steps, cap * sizeof *s);
        if (!s) {
            perror_at(e, "out of memory");
            goto out;
        }
        sc->steps = s;
        sc->cap = cap;
    }
    struct step *st = &sc->steps[sc->nsteps];
    memset(st, 0, sizeof *st);
    st->kind = g_cmds[k].kind;
    st->line = lineno;
    sc_strlcpy(st->to, sc->env->o->to, sizeof st->to);
    rc = g_cmds[k].parse(st, line, &t, e);
    if (rc == 0 && !(st->raw = strdup(line)))
        rc = perror_at(e, "out of memory");
    if (rc < 0) {
        step_free(st);
        goto out;
    }
    sc->nsteps++;
out:
    free(buf);
    return rc;
}

struct sim_script *sim_script_load(struct sim_env *env, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    struct sim_script *sc = calloc(1, sizeof *sc);
    if (!sc || !(sc->path = strdup(path))) {
        fprintf(stderr, "%s: out of memory\n", path);
        free(sc);
        fclose(f);
        return NULL;
    }
    sc->env = env;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int lineno = 0, bad = 0;
    while ((n = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (n > 65536) {
            fprintf(stderr, "%s:%d: line too long\n", path, lineno);
            bad = 1;
            break;
        }
        if (memchr(line, '\0', (size_t)n)) {
            fprintf(stderr, "%s:%d: NUL byte in line\n", path, lineno);
            bad = 1;
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        /* Trailing blanks are not part of a command (TEXT keeps inner ones). */
        size_t l = strlen(p);
        while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
            p[--l] = '\0';
        struct perr e;
        if (parse_line(sc, p, lineno, &e) < 0) {
            fprintf(stderr, "%s:%d: %s\n", path, lineno, e.msg);
            bad = 1;
            break;
        }
    }
    if (!bad && ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        bad = 1;
    }
    free(line);
    fclose(f);
    if (bad) {
        sim_script_free(sc);
        return NULL;
    }
    if (sc->nsteps == 0) {
        fprintf(stderr, "%s:%d: the script has no commands\n", path, lineno);
        sim_script_free(sc);
        return NULL;
    }
    uv_timer_init(env->loop, &sc->timer);
    sc->timer.data = sc;
    return sc;
}

/* ---- MT queues ------------------------------------------------------------------ */

static struct dest **dest_slot(struct sim_script *sc, const char *addr)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        h = (h ^ *p) * 16777619u;
    struct dest **pp = &sc->buckets[h % NBUCKETS];
    while (*pp && strcmp((*pp)->addr, addr) != 0)
        pp = &(*pp)->next;
    return pp;
}

static struct dest *dest_find(struct sim_script *sc, const char *addr)
{
    return *dest_slot(sc, addr);
}

static struct sim_mt *dest_pop(struct sim_script *sc, const char *addr)
{
    struct dest *d = dest_find(sc, addr);
    if (!d || !d->head)
        return NULL;
    struct sim_mt *m = d->head;
    d->head = m->next;
    if (!d->head)
        d->tail = NULL;
    d->n--;
    sc->nmt--;
    return m;
}

static size_t dest_count(struct sim_script *sc, const char *addr)
{
    if (strcmp(addr, "*") == 0)
        return sc->nmt;
    struct dest *d = dest_find(sc, addr);
    return d ? d->n : 0;
}

/* The oldest MT to addr, or with "*" one to any destination. */
static struct sim_mt *dest_pop_any(struct sim_script *sc, const char *addr)
{
    if (strcmp(addr, "*") != 0)
        return dest_pop(sc, addr);
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct dest *d = sc->buckets[b]; d; d = d->next)
            if (d->head)
                return dest_pop(sc, d->addr);
    return NULL;
}

static void dest_push(struct sim_script *sc, struct sim_mt *mt)
{
    struct dest **pp = dest_slot(sc, mt->to);
    if (!*pp) {
        *pp = calloc(1, sizeof **pp);
        if (!*pp) {
            free(mt);
            sc->env->stats->mt_dropped++;
            return;
        }
        sc_strlcpy((*pp)->addr, mt->to, sizeof (*pp)->addr);
    }
    struct dest *d = *pp;
    mt->next = NULL;
    if (d->tail)
        d->tail->next = mt;
    else
        d->head = mt;
    d->tail = mt;
    d->n++;
    sc->nmt++;
}

/* ---- reporting ------------------------------------------------------------------ */

/* Text for a one-line report: quotes, backslashes and control bytes escaped. */
static const char *show(char *buf, size_t bufsz, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (; *s && o + 8 < bufsz; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7F) {
            o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    if (*s)
        o += (size_t)snprintf(buf + o, bufsz - o, "...");
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static struct step *cur_step(struct sim_script *sc)
{
    return sc->cur < sc->nsteps && !sc->done ? &sc->steps[sc->cur] : NULL;
}

static uint64_t step_timeout(const struct sim_script *sc, const struct step *st)
{
    return st->ms ? st->ms : sc->env->o->timeout_ms;
}

static void pass(struct sim_script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pass(struct sim_script *sc, const char *fmt, ...)
{
    struct step *st = &sc->steps[sc->cur];
    char extra[4096] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(extra, sizeof extra, fmt, ap);
        va_end(ap);
    }
    printf("ok  line %d: %s%s\n", st->line, st->raw, extra);
    fflush(stdout);
    sc->passed++;
    sc->cur++;
    sc->waiting = 0;
    uv_timer_stop(&sc->timer);
}

static void fail(struct sim_script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sim_script *sc, const char *fmt, ...)
{
    struct step *st = &sc->steps[sc->cur];
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("FAIL line %d: %s\n", st->line, msg);
    sc->failed++;
    sc->cur++;
    sc->waiting = 0;
    uv_timer_stop(&sc->timer);
    /* Without a bound ESME nothing after can work; --fail-fast stops anyway. */
    if ((st->kind == K_WAIT_BOUND || sc->env->o->fail_fast) && sc->cur < sc->nsteps) {
        printf("stopping: %zu step(s) not run\n", sc->nsteps - sc->cur);
        sc->cur = sc->nsteps;
    }
    fflush(stdout);
}

/* ---- steps ------------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t);

static void wait_for(struct sim_script *sc, uint64_t ms)
{
    sc->waiting = 1;
    uv_timer_start(&sc->timer, on_timer, ms, 0);
}

static void check_expect(struct sim_script *sc, struct step *st)
{
    struct sim_mt *mt = dest_pop(sc, st->from);
    if (!mt)
        return;
    char b[2048];
    if (regexec(&st->re, mt->text, 0, NULL, 0) == 0)
        pass(sc, " -> %s", show(b, sizeof b, mt->text));
    else
        fail(sc, "expected /%s/ got %s", st->re_src, show(b, sizeof b, mt->text));
    free(mt);
}

static void check_status(struct sim_script *sc, struct step *st)
{
    struct sim_mo *mo = sc->last_mo;
    char b1[16], b2[16];
    if (!mo->done)
        return;
    if (mo->status == st->status)
        pass(sc, NULL);
    else
        fail(sc, "expected %s got %s", sim_status_name(st->status, b1, sizeof b1),
             sim_status_name(mo->status, b2, sizeof b2));
}

static void check_none(struct sim_script *sc, struct step *st)
{
    struct sim_mt *mt = dest_pop(sc, st->from);
    if (!mt)
        return;
    char b[2048];
    fail(sc, "expected no MT to %s got %s", st->from, show(b, sizeof b, mt->text));
    free(mt);
}

static void check_count(struct sim_script *sc, struct step *st, int final)
{
    size_t have = dest_count(sc, st->from);
    if (have < st->count && !final)
        return;
    size_t take = SC_MIN(have, (size_t)st->count);
    for (size_t i = 0; i < take; i++)
        free(dest_pop_any(sc, st->from));
    if (have >= st->count)
        pass(sc, NULL);
    else
        fail(sc, "expected %llu MTs to %s got %zu within %llu ms",
             (unsigned long long)st->count, st->from, have,
             (unsigned long long)step_timeout(sc, st));
}

static void burst_report(struct sim_script *sc, struct step *st, int ok)
{
    char list[1024] = "", b[16];
    size_t o = 0;
    for (unsigned i = 0; i < sc->b_status.n && o < sizeof list - 64; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s %llu", i ? ", " : "",
                              sim_status_name(sc->b_status.e[i].status, b, sizeof b),
                              (unsigned long long)sc->b_status.e[i].count);
    uint64_t ms = uv_now(sc->env->loop) - sc->b_start;
    if (ok)
        pass(sc, " (%llu MOs answered in %llu ms: %s)", (unsigned long long)sc->b_done,
             (unsigned long long)ms, list);
    else
        fail(sc, "burst: %llu of %llu MOs answered, none for %llu ms (%s)",
             (unsigned long long)sc->b_done, (unsigned long long)st->count,
             (unsigned long long)step_timeout(sc, st), list[0] ? list : "no resps");
}

/* Keep the MO queue fed; finish when every MO of the burst is answered. */
static void burst_fill(struct sim_script *sc, struct step *st)
{
    struct sim_env *env = sc->env;
    while (sc->b_left > 0 && sim_mo_queued(env->mos) < BURST_QUEUE && sim_mo_queued(env->mos) < env->o->max_queue) {
        char err[256], from[SC_ADDR_MAX + 8];
        sc_strlcpy(from, st->from, sizeof from);
        if (st->spread) {
            uint64_t k = (st->count - sc->b_left) % st->spread;
            snprintf(from, sizeof from, "%0*llu", (int)strlen(st->from),
                     strtoull(st->from, NULL, 10) + (unsigned long long)k);
        }
        struct sim_mo *mo = sim_mo_send(env->mos, SIM_MO_BURST, from, st->to, st->text,
                                        st->text_len, &st->so, err, sizeof err);
        if (!mo) {
            fail(sc, "burst: %s", err);
            return;
        }
        if (sc->b_first_id == 0)
            sc->b_first_id = mo->id;
        sim_mo_release(mo);
        sc->b_left--;
    }
    if (sc->b_done == st->count)
        burst_report(sc, st, 1);
}

static void begin(struct sim_script *sc, struct step *st)
{
    struct sim_env *env = sc->env;
    char err[256];
    switch (st->kind) {
    case K_WAIT_BOUND:
        if (sim_server_rx_bound(env->srv))
            pass(sc, NULL);
        else
            wait_for(sc, step_timeout(sc, st));
        break;
    case K_SEND: {
        struct sim_mo *mo = sim_mo_send(env->mos, SIM_MO_SCRIPT, st->from, st->to, st->text,
                                        st->text_len, &st->so, err, sizeof err);
        if (!mo) {
            fail(sc, "send: %s", err);
            break;
        }
        if (sc->last_mo)
            sim_mo_release(sc->last_mo);
        sc->last_mo = mo;
        if (mo->nparts > 1)
            pass(sc, " (%u parts)", mo->nparts);
        else
            pass(sc, NULL);
        break;
    }
    case K_EXPECT:
        wait_for(sc, step_timeout(sc, st));
        check_expect(sc, st);
        break;
    case K_EXPECT_STATUS:
        if (!sc->last_mo) {
            fail(sc, "expect_status: no MO was sent before");
            break;
        }
        wait_for(sc, step_timeout(sc, st));
        check_status(sc, st);
        break;
    case K_EXPECT_NONE:
        wait_for(sc, st->ms);
        check_none(sc, st);
        break;
    case K_SLEEP:
        wait_for(sc, st->ms);
        break;
    case K_BURST:
        sc->b_left = st->count;
        sc->b_done = 0;
        sc->b_first_id = 0;
        sc->b_start = uv_now(env->loop);
        memset(&sc->b_status, 0, sizeof sc->b_status);
        wait_for(sc, step_timeout(sc, st));
        burst_fill(sc, st);
        break;
    case K_EXPECT_COUNT:
        wait_for(sc, step_timeout(sc, st));
        check_count(sc, st, 0);
        break;
    }
}

static void finish(struct sim_script *sc)
{
    sc->done = 1;
    printf("script: %u passed, %u failed\n", sc->passed, sc->failed);
    fflush(stdout);
    sc->env->stop(sc->env, sc->failed ? 1 : 0);
}

/* Run steps until one waits or the script ends. Re-entrant calls (an event
 * handled while a step starts) only ask the outer call to look again. */
static void run(struct sim_script *sc)
{
    if (sc->running) {
        sc->again = 1;
        return;
    }
    sc->running = 1;
    do {
        sc->again = 0;
        while (!sc->waiting && !sc->done) {
            if (sc->cur >= sc->nsteps) {
                finish(sc);
                break;
            }
            begin(sc, &sc->steps[sc->cur]);
        }
    } while (sc->again && !sc->done);
    sc->running = 0;
}

static void on_timer(uv_timer_t *t)
{
    struct sim_script *sc = t->data;
    struct step *st = cur_step(sc);
    if (!st || !sc->waiting)
        return;
    uint64_t ms = step_timeout(sc, st);
    char b[16];
    switch (st->kind) {
    case K_WAIT_BOUND:
        fail(sc, "no RX-capable ESME bound within %llu ms", (unsigned long long)ms);
        break;
    case K_EXPECT:
        fail(sc, "expected /%s/ got nothing within %llu ms", st->re_src, (unsigned long long)ms);
        break;
    case K_EXPECT_STATUS:
        fail(sc, "expected %s got no resp within %llu ms",
             sim_status_name(st->status, b, sizeof b), (unsigned long long)ms);
        break;
    case K_EXPECT_NONE:
    case K_SLEEP:
        pass(sc, NULL);
        break;
    case K_BURST:
        burst_report(sc, st, 0);
        break;
    case K_EXPECT_COUNT:
        check_count(sc, st, 1);
        break;
    case K_SEND:
        break;
    }
    run(sc);
}

/* ---- events ------------------------------------------------------------------------ */

void sim_script_start(struct sim_script *sc)
{
    run(sc);
}

void sim_script_on_mt(struct sim_script *sc, struct sim_mt *mt)
{
    if (sc->done) {
        free(mt);
        return;
    }
    if (sc->nmt >= sc->env->o->max_queue) {
        sc->env->stats->mt_dropped++;
        sc_warn("event=mt_dropped to=%s reason=\"script queue full\"", mt->to);
        free(mt);
        return;
    }
    char to[SC_ADDR_MAX];
    memcpy(to, mt->to, sizeof to);
    dest_push(sc, mt);
    struct step *st = cur_step(sc);
    if (!st || !sc->waiting ||
        (strcmp(st->from, to) != 0 && !(st->kind == K_EXPECT_COUNT && strcmp(st->from, "*") == 0)))
        return;
    if (st->kind == K_EXPECT)
        check_expect(sc, st);
    else if (st->kind == K_EXPECT_NONE)
        check_none(sc, st);
    else if (st->kind == K_EXPECT_COUNT)
        check_count(sc, st, 0);
    run(sc);
}

void sim_script_on_mo_done(struct sim_script *sc, struct sim_mo *mo)
{
    struct step *st = cur_step(sc);
    if (!st || !sc->waiting)
        return;
    if (mo->kind == SIM_MO_BURST && st->kind == K_BURST && sc->b_first_id &&
        mo->id >= sc->b_first_id) {
        sc->b_done++;
        sim_statmap_add(&sc->b_status, mo->status);
        uv_timer_start(&sc->timer, on_timer, step_timeout(sc, st), 0); /* progress */
        burst_fill(sc, st);
        run(sc);
    } else if (st->kind == K_EXPECT_STATUS && mo == sc->last_mo) {
        check_status(sc, st);
        run(sc);
    }
}

void sim_script_on_bound(struct sim_script *sc)
{
    struct step *st = cur_step(sc);
    if (st && sc->waiting && st->kind == K_WAIT_BOUND) {
        pass(sc, NULL);
        run(sc);
    }
}

/* Shutdown before the end (signal): report what ran. */
int sim_script_stop(struct sim_script *sc)
{
    int interrupted = 0;
    uv_timer_stop(&sc->timer);
    if (!sc->done) {
        sc->done = 1;
        if (sc->cur < sc->nsteps)
            printf("interrupted at line %d\n", sc->steps[sc->cur].line);
        interrupted = 1; /* not every step passed */
        printf("script: %u passed, %u failed\n", sc->passed, sc->failed);
        fflush(stdout);
    }
    if (!uv_is_closing((uv_handle_t *)&sc->timer))
        uv_close((uv_handle_t *)&sc->timer, NULL);
    return interrupted;
}
