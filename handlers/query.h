/* query.h -- pure helpers of the query handlers (lookup.c, bill.c): money and
 * data formatters, and the small arithmetic the YAML-declared lookup handler
 * evaluates over the fields of a Redis hash.
 *
 * Nothing here touches Redis or a request: every function works on its
 * arguments only, so tests/unit/test_query.c checks them directly. */
#ifndef SC_QUERY_H
#define SC_QUERY_H

#include <stddef.h>

/* Fen as yuan with two decimals, for balances and bills: 12345 -> "123.45元",
 * 500 -> "5.00元", -5 -> "-0.05元", 0 -> "0.00元" (any long long, LLONG_MIN
 * too). Returns out (cut to outsz - 1 bytes; 32 bytes always suffice). */
char *sc_fmt_yuan(long long fen, char *out, size_t outsz);

/* Kilobytes as a data amount (1 MB = 1024 KB, 1 GB = 1024 MB):
 *   below 1 MB       whole KB:                        1023 -> "1023KB"
 *   below 1 GB       MB, two decimals rounded half up, trailing zeros
 *                    dropped:                         1536 -> "1.5MB"
 *   from 1 GB        GB, likewise:                    1572864 -> "1.5GB"
 * A value that rounds up to 1024 MB is shown as "1GB" (never "1024MB").
 * Negative values get a "-" before the same text. Returns out (32 bytes
 * always suffice). */
char *sc_fmt_kb(long long kb, char *out, size_t outsz);

/* raw (NUL-terminated, UTF-8) on one line for a handset (sc_text_one_line:
 * control characters become spaces) and cut to nchars characters with "…",
 * into out (at most outsz - 1 bytes, cut on a character boundary). Returns
 * out. */
char *sc_text_short(const char *raw, size_t nchars, char *out, size_t outsz);

/* A strict decimal integer: optional "-", 1 to 18 digits, nothing else.
 * Returns 0 with *v set, or -1. */
int sc_parse_int(const char *s, long long *v);

/* ---- expressions over hash fields ---------------------------------------
 *
 * EXPR  = TERM { ("+" | "-") TERM }        at most SC_QEXPR_TERMS terms
 * TERM  = ["-"] (FIELD | INTEGER)          FIELD: [a-z_][a-z0-9_]*, < 32 bytes
 * COND  = EXPR ("<" | "<=" | ">" | ">=" | "==" | "!=") EXPR
 * Spaces between tokens are free. A condition is kept as lhs - rhs and its
 * comparison with 0. Field names are looked up in (and added to) a table
 * the caller owns, so a handler reads every field its expressions name. */

#define SC_QEXPR_TERMS 8
#define SC_QFIELD_MAX 32     /* bytes of a field name, with its NUL */

struct sc_qterm {
    signed char sign;        /* +1 or -1 */
    signed char field;       /* index in the field table, or -1: the constant k */
    long long k;
};

struct sc_qexpr {
    unsigned char n;
    struct sc_qterm t[SC_QEXPR_TERMS];
};

enum sc_qcmp { SC_QLT, SC_QLE, SC_QGT, SC_QGE, SC_QEQ, SC_QNE };

struct sc_qcond {
    struct sc_qexpr e;       /* lhs - rhs */
    enum sc_qcmp cmp;
};

/* The caller's field table: names[0..*n), room for max. */
struct sc_qfields {
    char (*names)[SC_QFIELD_MAX];
    size_t *n;
    size_t max;
};

/* Parse s as an EXPR (the whole of s). New field names are appended to f.
 * Returns 0, or -1 with a message in err ("unexpected ')' at byte 7", "more
 * than 15 fields"). */
int sc_qexpr_parse(const char *s, struct sc_qfields *f, struct sc_qexpr *e, char *err,
                   size_t errsz);
/* Parse s as a COND (the whole of s), likewise. */
int sc_qcond_parse(const char *s, struct sc_qfields *f, struct sc_qcond *c, char *err,
                   size_t errsz);

/* Evaluate with vals[i] the value of field i, have[i] nonzero when it has
 * one. Returns 0 with *out set, or -1 when a field it names has no value or
 * the sum overflows. */
int sc_qexpr_eval(const struct sc_qexpr *e, const long long *vals, const unsigned char *have,
                  long long *out);
/* 1 (holds), 0 (does not), or -1 (a field has no value, overflow). */
int sc_qcond_eval(const struct sc_qcond *c, const long long *vals, const unsigned char *have);

#endif
