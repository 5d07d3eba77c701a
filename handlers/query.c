/* query.c -- money and data formatters and the lookup handler's arithmetic (query.h). */
#include "handlers/query.h"

#include <stdio.h>
#include <string.h>

#include "base/sc.h"
#include "text/text.h"

/* Formatting without printf: these run for every line of a reply, and one
 * snprintf costs ~1,500 instructions (a CXZD has eight amounts). */

/* Append s (NUL-terminated) to out at *o when all of it fits before
 * outsz - 1 (so that "元" is never cut in half). */
static void put_str(char *out, size_t outsz, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n < outsz) {
        memcpy(out + *o, s, n);
        *o += n;
    }
}

/* Append the decimal digits of v, at least mindigits of them. */
static void put_u(char *out, size_t outsz, size_t *o, unsigned long long v, int mindigits)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < mindigits);
    while (n > 0 && *o + 1 < outsz)
        out[(*o)++] = d[--n];
}

char *sc_fmt_yuan(long long fen, char *out, size_t outsz)
{
    if (!outsz)
        return out;
    /* The magnitude as unsigned, so that LLONG_MIN has one too. */
    unsigned long long m = fen < 0 ? 0ULL - (unsigned long long)fen : (unsigned long long)fen;
    size_t o = 0;
    put_str(out, outsz, &o, fen < 0 ? "-" : "");
    put_u(out, outsz, &o, m / 100, 1);
    put_str(out, outsz, &o, ".");
    put_u(out, outsz, &o, m % 100, 2);
    put_str(out, outsz, &o, "元");
    out[o] = '\0';
    return out;
}

/* sign, hundredths as "I.FF" with trailing zeros (and a bare ".") dropped,
 * unit. */
static void put_hundredths(unsigned long long h, const char *unit, const char *sign, char *out,
                           size_t outsz)
{
    unsigned long long f = h % 100;
    size_t o = 0;
    put_str(out, outsz, &o, sign);
    put_u(out, outsz, &o, h / 100, 1);
    if (f) {
        put_str(out, outsz, &o, ".");
        put_u(out, outsz, &o, f % 10 ? f : f / 10, f % 10 ? 2 : 1);
    }
    put_str(out, outsz, &o, unit);
    out[o] = '\0';
}

char *sc_fmt_kb(long long kb, char *out, size_t outsz)
{
    if (!outsz)
        return out;
    const char *sign = kb < 0 ? "-" : "";
    unsigned long long m = kb < 0 ? 0ULL - (unsigned long long)kb : (unsigned long long)kb;
    if (m < 1024) {
        size_t o = 0;
        put_str(out, outsz, &o, sign);
        put_u(out, outsz, &o, m, 1);
        put_str(out, outsz, &o, "KB");
        out[o] = '\0';
        return out;
    }
    /* Rounded half up to hundredths of a MB (m = 1024 q + r, so that
     * nothing overflows for any long long). */
    unsigned long long mb = m / 1024 * 100 + (m % 1024 * 100 + 512) / 1024;
    if (mb < 1024 * 100) {
        put_hundredths(mb, "MB", sign, out, outsz);
        return out;
    }
    unsigned long long gb = m / 1048576 * 100 + (m % 1048576 * 100 + 524288) / 1048576;
    put_hundredths(gb, "GB", sign, out, outsz);
    return out;
}

char *sc_text_short(const char *raw, size_t nchars, char *out, size_t outsz)
{
    char line[512];
    if (!outsz)
        return out;
    size_t len = sc_text_one_line(raw, strlen(raw), line, sizeof line);
    size_t cut = sc_utf8_prefix(line, len, nchars);
    if (cut == len && len < outsz) {
        memcpy(out, line, len + 1);
        return out;
    }
    /* Cut (to nchars, or to what fits with the "…"), on a character. */
    while (cut > 0 && cut + sizeof "…" > outsz)
        do
            cut--;
        while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80);
    if (cut + sizeof "…" > outsz) { /* not even "…" fits */
        out[0] = '\0';
        return out;
    }
    memcpy(out, line, cut);
    memcpy(out + cut, "…", sizeof "…");
    return out;
}

int sc_parse_int(const char *s, long long *v)
{
    const char *p = s;
    int neg = *p == '-';
    if (neg)
        p++;
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 18 || p[n] != '\0')
        return -1;
    long long x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (p[i] - '0');
    *v = neg ? -x : x;
    return 0;
}

/* ---- expressions -------------------------------------------------------- */

static const char *skip_sp(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
static int is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

/* The index of name (len bytes) in f, appended when new; -1 when the table
 * is full. */
static int field_index(struct sc_qfields *f, const char *name, size_t len)
{
    for (size_t i = 0; i < *f->n; i++)
        if (strlen(f->names[i]) == len && memcmp(f->names[i], name, len) == 0)
            return (int)i;
    if (*f->n >= f->max)
        return -1;
    memcpy(f->names[*f->n], name, len);
    f->names[*f->n][len] = '\0';
    return (int)(*f->n)++;
}

/* Parse an EXPR from *pp (stopping at anything that cannot continue it). */
static int parse_expr(const char *s, const char **pp, struct sc_qfields *f, struct sc_qexpr *e,
                      char *err, size_t errsz)
{
    const char *p = *pp;
    int sign = 1;
    e->n = 0;
    for (;;) {
        p = skip_sp(p);
        if (*p == '-') {
            sign = -sign;
            p = skip_sp(p + 1);
        }
        if (e->n == SC_QEXPR_TERMS) {
            snprintf(err, errsz, "more than %d terms", SC_QEXPR_TERMS);
            return -1;
        }
        if (*p >= '0' && *p <= '9') {
            size_t n = strspn(p, "0123456789");
            char num[24];
            if (n > 18) {
                snprintf(err, errsz, "number too long at byte %zu", (size_t)(p - s));
                return -1;
            }
            memcpy(num, p, n);
            num[n] = '\0';
            long long k = 0;
            sc_parse_int(num, &k);
            e->t[e->n++] = (struct sc_qterm){(signed char)sign, -1, k};
            p += n;
        } else if (is_name_start(*p)) {
            size_t n = 1;
            while (is_name_char(p[n]))
                n++;
            if (n >= SC_QFIELD_MAX) {
                snprintf(err, errsz, "field name too long at byte %zu", (size_t)(p - s));
                return -1;
            }
            int idx = field_index(f, p, n);
            if (idx < 0) {
                snprintf(err, errsz, "more than %zu different fields", f->max);
                return -1;
            }
            e->t[e->n++] = (struct sc_qterm){(signed char)sign, (signed char)idx, 0};
            p += n;
        } else {
            if (*p)
                snprintf(err, errsz, "expected a field or a number at byte %zu", (size_t)(p - s));
            else
                snprintf(err, errsz, "expected a field or a number at the end");
            return -1;
        }
        p = skip_sp(p);
        if (*p != '+' && *p != '-')
            break;
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    *pp = p;
    return 0;
}

int sc_qexpr_parse(const char *s, struct sc_qfields *f, struct sc_qexpr *e, char *err,
                   size_t errsz)
{
    const char *p = s;
    if (parse_expr(s, &p, f, e, err, errsz) < 0)
        return -1;
    if (*p) {
        snprintf(err, errsz, "unexpected '%c' at byte %zu", *p, (size_t)(p - s));
        return -1;
    }
    return 0;
}

int sc_qcond_parse(const char *s, struct sc_qfields *f, struct sc_qcond *c, char *err,
                   size_t errsz)
{
    static const struct {
        const char *op;
        enum sc_qcmp cmp;
    } ops[] = {{"<=", SC_QLE}, {">=", SC_QGE}, {"==", SC_QEQ}, {"!=", SC_QNE},
               {"<", SC_QLT},  {">", SC_QGT}};
    const char *p = s;
    struct sc_qexpr rhs;
    if (parse_expr(s, &p, f, &c->e, err, errsz) < 0)
        return -1;
    size_t i;
    for (i = 0; i < SC_ARRAY_LEN(ops); i++)
        if (strncmp(p, ops[i].op, strlen(ops[i].op)) == 0)
            break;
    if (i == SC_ARRAY_LEN(ops)) {
        snprintf(err, errsz, "expected <, <=, >, >=, == or != at byte %zu", (size_t)(p - s));
        return -1;
    }
    c->cmp = ops[i].cmp;
    p += strlen(ops[i].op);
    if (parse_expr(s, &p, f, &rhs, err, errsz) < 0)
        return -1;
    if (*p) {
        snprintf(err, errsz, "unexpected '%c' at byte %zu", *p, (size_t)(p - s));
        return -1;
    }
    if (c->e.n + rhs.n > SC_QEXPR_TERMS) {
        snprintf(err, errsz, "more than %d terms", SC_QEXPR_TERMS);
        return -1;
    }
    for (size_t k = 0; k < rhs.n; k++) {
        c->e.t[c->e.n] = rhs.t[k];
        c->e.t[c->e.n++].sign = (signed char)-rhs.t[k].sign;
    }
    return 0;
}

int sc_qexpr_eval(const struct sc_qexpr *e, const long long *vals, const unsigned char *have,
                  long long *out)
{
    long long sum = 0;
    for (size_t i = 0; i < e->n; i++) {
        long long v = e->t[i].k;
        if (e->t[i].field >= 0) {
            if (!have[e->t[i].field])
                return -1;
            v = vals[e->t[i].field];
        }
        if (e->t[i].sign < 0 ? __builtin_sub_overflow(sum, v, &sum)
                             : __builtin_add_overflow(sum, v, &sum))
            return -1;
    }
    *out = sum;
    return 0;
}

int sc_qcond_eval(const struct sc_qcond *c, const long long *vals, const unsigned char *have)
{
    long long d;
    if (sc_qexpr_eval(&c->e, vals, have, &d) < 0)
        return -1;
    switch (c->cmp) {
    case SC_QLT: return d < 0;
    case SC_QLE: return d <= 0;
    case SC_QGT: return d > 0;
    case SC_QGE: return d >= 0;
    case SC_QEQ: return d == 0;
    case SC_QNE: return d != 0;
    }
    return -1;
}
