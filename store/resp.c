/* resp.c -- RESP request formatting into the store's scratch buffer (the inline
 * primitives it and the eval path share are in store_int.h). */
#include "store/store_int.h"

#include <limits.h>
#include <stdlib.h>

/* Format argv into the scratch buffer; returns the length or SC_E*. */
long sc__format_scratch(struct sc_store *st, int argc, const char *const *argv,
                        const size_t *argvlen)
{
    size_t n = sc__bulks_size(argc, argv, argvlen);
    if (n == SIZE_MAX)
        return SC_EINVAL;
    n += sc__count_size((size_t)argc);
    if (n >= (size_t)LONG_MAX || sc__reserve(&st->scratch, &st->scratch_cap, n + 1) < 0)
        return SC_ENOMEM;
    char *p = sc__put_count(st->scratch, (size_t)argc);
    p = sc__put_bulks(p, argc, argv, argvlen);
    *p = '\0'; /* hiredis peeks one byte past the first argument */
    return (long)(p - st->scratch);
}

void sc__scratch_trim(struct sc_store *st)
{
    if (st->scratch_cap > 16 * ST_KEEP_BUF_MAX) {
        free(st->scratch);
        st->scratch = NULL;
        st->scratch_cap = 0;
    }
}
