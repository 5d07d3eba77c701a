/* script_parse.c -- scripted mode, part 1: the script file into steps.
 *
 * The whole file is parsed before anything runs: one command per line
 * (g_cmds), '#' comments and blank lines ignored, and any error is reported
 * as FILE:LINE: message (exit 2). script_run.c runs the steps. */
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
#include "script_int.h"
#include "server.h"
#include "stats.h"

#define MAX_TOKENS 64

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
