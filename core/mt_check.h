/* mt_check.h -- one mt:push entry's fields checked against the contract
 * (docs/contracts.md "mt:push"): pure, no I/O, so that hostile entries are
 * tested without Redis (tests/unit/test_push.c). */
#ifndef SC_MT_CHECK_H
#define SC_MT_CHECK_H

#include <stddef.h>

#define SC_PUSH_ID_MAX 64         /* printable ASCII, no spaces */
#define SC_PUSH_TO_MAX 21         /* optional "+" and 1..20 digits */
#define SC_PUSH_FROM_MAX 20       /* 1..20 digits */
#define SC_PUSH_KIND_MAX 16       /* a-z and _ */
#define SC_PUSH_TEXT_MAX 4096     /* bytes (16 UCS-2 parts are at most 3216): more
                                   * is too_long without encoding it */
#define SC_PUSH_FIELDS_MAX 16     /* more fields than this: unknown_field */

/* A checked push. text is borrowed from the entry it was checked from. */
struct sc_push {
    char id[SC_PUSH_ID_MAX + 1];  /* "" when the entry had no usable id */
    char to[SC_PUSH_TO_MAX + 1];  /* as written (cut, for the record of a bad one) */
    char from[SC_PUSH_FROM_MAX + 1]; /* "" = the first service number */
    char kind[SC_PUSH_KIND_MAX + 1]; /* default "notice" */
    const char *text;
    size_t text_len;
    unsigned priority;            /* 0..SC_ESME_PRIO_MAX */
    long long not_after;          /* unix ms, 0 = none */
    int quiet;                    /* 1: held during quiet hours */
};

/* Check the n fields (name f[i] of flen[i] bytes, value v[i] of vlen[i]
 * bytes; binary-safe) of one entry into out, default_priority for an entry
 * without one. Returns NULL when the entry may be sent, else the reason it
 * is dropped: missing_field (id, to or text absent), bad_id, bad_to,
 * empty_text, bad_text (not UTF-8, or a NUL), too_long (over
 * SC_PUSH_TEXT_MAX bytes; the part count is checked when it is encoded),
 * bad_from, bad_kind, bad_priority, bad_not_after, bad_quiet,
 * duplicate_field, unknown_field. out->id is set whenever the id itself is
 * good, even when the entry is not (the record of its drop is kept there). */
const char *sc_push_check(const char *const *f, const size_t *flen, const char *const *v,
                          const size_t *vlen, size_t n, unsigned default_priority,
                          struct sc_push *out);

#endif
