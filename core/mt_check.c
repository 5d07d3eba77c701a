/* mt_check.c -- one mt:push entry's fields checked against the contract
 * (core/mt_check.h). Every length is bounded before anything is copied. */
#include "core/mt_check.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "base/sc.h"
#include "smsc/esme.h"

enum { F_ID, F_TO, F_TEXT, F_FROM, F_KIND, F_PRIORITY, F_NOT_AFTER, F_QUIET, F_COUNT };

static const char *const g_names[F_COUNT] = {"id",   "to",       "text",      "from",
                                             "kind", "priority", "not_after", "quiet"};

static int field_index(const char *f, size_t n)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(g_names[i]) == n && memcmp(g_names[i], f, n) == 0)
            return i;
    return -1;
}

/* Every byte in [lo, hi], 1..max bytes. */
static int all_in(const char *s, size_t n, size_t max, char lo, char hi)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < lo || s[i] > hi)
            return 0;
    return 1;
}

static int kind_ok(const char *s, size_t n)
{
    if (n == 0 || n > SC_PUSH_KIND_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
            return 0;
    return 1;
}

/* A decimal of 1..digits digits into *out. */
static int number(const char *s, size_t n, size_t digits, long long *out)
{
    if (!all_in(s, n, digits, '0', '9'))
        return 0;
    long long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return 1;
}

static void copy(char *dst, size_t dstsz, const char *s, size_t n)
{
    n = n < dstsz - 1 ? n : dstsz - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The checks of one known field's value; the reason it is bad, or NULL. */
static const char *check_value(int k, const char *v, size_t n, struct sc_push *out)
{
    long long x;
    switch (k) {
    case F_TO: {
        size_t plus = n > 0 && v[0] == '+';
        copy(out->to, sizeof out->to, v, n);
        return all_in(v + plus, n - plus, 20, '0', '9') ? NULL : "bad_to";
    }
    case F_TEXT:
        if (n == 0)
            return "empty_text";
        if (n > SC_PUSH_TEXT_MAX)
            return "too_long";
        if (memchr(v, '\0', n) || u8_check((const uint8_t *)v, n))
            return "bad_text";
        out->text = v;
        out->text_len = n;
        return NULL;
    case F_FROM:
        if (!all_in(v, n, SC_PUSH_FROM_MAX, '0', '9'))
            return "bad_from";
        copy(out->from, sizeof out->from, v, n);
        return NULL;
    case F_KIND:
        if (!kind_ok(v, n))
            return "bad_kind";
        copy(out->kind, sizeof out->kind, v, n);
        return NULL;
    case F_PRIORITY:
        if (!number(v, n, 1, &x) || x > SC_ESME_PRIO_MAX)
            return "bad_priority";
        out->priority = (unsigned)x;
        return NULL;
    case F_NOT_AFTER:
        if (!number(v, n, 15, &x))
            return "bad_not_after";
        out->not_after = x;
        return NULL;
    case F_QUIET:
        if (n != 1 || (v[0] != '0' && v[0] != '1'))
            return "bad_quiet";
        out->quiet = v[0] == '1';
        return NULL;
    }
    return NULL;
}

const char *sc_push_check(const char *const *f, const size_t *flen, const char *const *v,
                          const size_t *vlen, size_t n, unsigned default_priority,
                          struct sc_push *out)
{
    memset(out, 0, sizeof *out);
    sc_strlcpy(out->kind, "notice", sizeof out->kind);
    out->priority = default_priority;
    /* The id first: a drop is recorded under it whatever else is wrong. */
    int ids = 0;
    for (size_t i = 0; i < n; i++)
        if (field_index(f[i], flen[i]) == F_ID && ids++ == 0 &&
            all_in(v[i], vlen[i], SC_PUSH_ID_MAX, '!', '~'))
            copy(out->id, sizeof out->id, v[i], vlen[i]);
    if (ids > 1) {
        out->id[0] = '\0'; /* which one would it be? */
        return "duplicate_field";
    }
    if (n > SC_PUSH_FIELDS_MAX)
        return "unknown_field";
    unsigned seen = 0;
    const char *bad = NULL;
    for (size_t i = 0; i < n; i++) {
        int k = field_index(f[i], flen[i]);
        if (k < 0)
            return "unknown_field";
        if (seen & (1u << k))
            return "duplicate_field";
        seen |= 1u << k;
        const char *why = k == F_ID ? (out->id[0] ? NULL : "bad_id") : check_value(k, v[i], vlen[i], out);
        if (why && !bad)
            bad = why;
    }
    if (!(seen & (1u << F_ID)) || !(seen & (1u << F_TO)) || !(seen & (1u << F_TEXT)))
        return "missing_field";
    return bad;
}
