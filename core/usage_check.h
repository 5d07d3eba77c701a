/* usage_check.h -- one usage:in entry's fields checked against the contract
 * (docs/contracts.md "usage:in"): msisdn, at (unix ms) and any acct:{M}
 * fields. Pure: no I/O, unit-tested (tests/unit/test_usage.c). */
#ifndef SC_USAGE_CHECK_H
#define SC_USAGE_CHECK_H

#include <stddef.h>

#include "base/sc.h"

#define SC_USAGE_FIELDS 8        /* acct:{M} fields an entry may set */
#define SC_USAGE_PLAN_MAX 64     /* bytes of plan */
#define SC_USAGE_NUM_MAX 15      /* digits of a number (exact in Lua's doubles) */

/* The checked entry: pointers into the caller's values (borrowed). */
struct sc_usage_entry {
    const char *msisdn;          /* as written (not yet made national) */
    size_t msisdn_len;
    const char *at;              /* decimal unix ms */
    size_t at_len;
    size_t n;                    /* acct fields set */
    const char *f[SC_USAGE_FIELDS], *v[SC_USAGE_FIELDS];
    size_t fl[SC_USAGE_FIELDS], vl[SC_USAGE_FIELDS];
};

/* Check the nf fields f[i] = v[i] (lengths given; not NUL-terminated).
 * Returns NULL and fills e, or the reason the entry is bad:
 * "missing_msisdn", "missing_at", "bad_msisdn", "bad_at", "unknown_field",
 * "duplicate_field", "bad_number", "bad_cycle", "bad_roaming", "bad_plan",
 * "no_fields", "too_many_fields". msisdn is checked for shape only (1..20
 * digits, an optional "+"); the caller makes it national. */
const char *sc_usage_check(const char *const *f, const size_t *fl, const char *const *v,
                           const size_t *vl, size_t nf, struct sc_usage_entry *e);

#endif
