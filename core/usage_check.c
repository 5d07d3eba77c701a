/* usage_check.c -- one usage:in entry's fields checked (core/usage_check.h).
 * Every length is bounded before anything else looks at a value. */
#include "core/usage_check.h"

#include <string.h>
#include <unistr.h>

enum kind { K_SIGNED, K_UNSIGNED, K_CYCLE, K_ROAMING, K_PLAN };

static const struct {
    const char *name;
    enum kind kind;
} g_fields[SC_USAGE_FIELDS] = {
    {"balance_fen", K_SIGNED},      {"plan", K_PLAN},
    {"cycle", K_CYCLE},             {"data_quota_kb", K_UNSIGNED},
    {"data_used_kb", K_UNSIGNED},   {"charges_fen", K_SIGNED},
    {"credit_fen", K_UNSIGNED},     {"roaming", K_ROAMING},
};

static int is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Every byte of s[0..n) one of set. */
static int only(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return 0;
    return 1;
}

static int digits(const char *s, size_t n, size_t max)
{
    if (n < 1 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static const char *value_bad(enum kind k, const char *s, size_t n)
{
    switch (k) {
    case K_SIGNED:
        if (n && s[0] == '-')
            s++, n--;
        /* fallthrough */
    case K_UNSIGNED:
        return digits(s, n, SC_USAGE_NUM_MAX) ? NULL : "bad_number";
    case K_CYCLE:
        /* YYYYMM, month 01..12 */
        if (!digits(s, n, 6) || n != 6 || (s[4] == '0' && s[5] == '0') || s[4] > '1' ||
            (s[4] == '1' && s[5] > '2'))
            return "bad_cycle";
        return NULL;
    case K_ROAMING:
        /* "" = at home, else a country code */
        return n <= 8 && only(s, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ? NULL
                                                                              : "bad_roaming";
    case K_PLAN:
        if (n == 0 || n > SC_USAGE_PLAN_MAX || u8_check((const uint8_t *)s, n))
            return "bad_plan";
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                return "bad_plan";
        return NULL;
    }
    return "unknown_field";
}

const char *sc_usage_check(const char *const *f, const size_t *fl, const char *const *v,
                           const size_t *vl, size_t nf, struct sc_usage_entry *e)
{
    memset(e, 0, sizeof *e);
    unsigned seen = 0;
    if (nf > SC_USAGE_FIELDS + 2)
        return "too_many_fields";
    for (size_t i = 0; i < nf; i++) {
        if (is(f[i], fl[i], "msisdn") || is(f[i], fl[i], "at")) {
            int m = f[i][0] == 'm';
            if ((m && e->msisdn) || (!m && e->at))
                return "duplicate_field";
            if (m && (vl[i] == 0 || vl[i] > 21 ||
                      !digits(v[i] + (v[i][0] == '+'), vl[i] - (v[i][0] == '+'), 20)))
                return "bad_msisdn";
            if (!m && !digits(v[i], vl[i], SC_USAGE_NUM_MAX))
                return "bad_at";
            *(m ? &e->msisdn : &e->at) = v[i];
            *(m ? &e->msisdn_len : &e->at_len) = vl[i];
            continue;
        }
        size_t k = 0;
        while (k < SC_USAGE_FIELDS && !is(f[i], fl[i], g_fields[k].name))
            k++;
        if (k == SC_USAGE_FIELDS)
            return "unknown_field";
        if (seen & (1u << k))
            return "duplicate_field";
        seen |= 1u << k;
        const char *bad = value_bad(g_fields[k].kind, v[i], vl[i]);
        if (bad)
            return bad;
        e->f[e->n] = g_fields[k].name;
        e->fl[e->n] = fl[i];
        e->v[e->n] = v[i];
        e->vl[e->n++] = vl[i];
    }
    if (!e->msisdn)
        return "missing_msisdn";
    if (!e->at)
        return "missing_at";
    return e->n ? NULL : "no_fields";
}
