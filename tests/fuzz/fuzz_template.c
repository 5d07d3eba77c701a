/* fuzz_template.c -- libFuzzer target: reply templates (text/template.h).
 *
 * Byte 0 splits the rest of the input: the first (byte0 * len / 256) bytes
 * are the template text, the remainder holds the values, separated by 0xFF
 * (a byte that never occurs in UTF-8). The template is compiled against a
 * fixed placeholder list and, when it compiles, rendered into an exactly
 * sized buffer and into small ones. Invariants: the return value is the same
 * whatever the buffer, output NUL-terminated, the full output has exactly
 * that length, a truncated output is a prefix of the full one cut on a
 * character boundary, and with valid UTF-8 inputs the output is valid
 * UTF-8. A template that does not compile gives a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "tests/fuzz/fuzz.h"
#include "text/template.h"

static const char *const VARS[] = {"name", "fee", "n", "list", "msisdn", "code"};
#define NVARS (sizeof VARS / sizeof VARS[0])

static int valid_utf8(const char *s)
{
    return u8_check((const uint8_t *)s, strlen(s)) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    size_t tlen = (size_t)data[0] * len / 256;
    char *tpl = malloc(tlen + 1);
    FUZZ_CHECK(tpl != NULL);
    memcpy(tpl, data + 1, tlen);
    tpl[tlen] = '\0';

    /* Values: split on 0xFF, each a NUL-terminated exact-size copy. */
    char *vals[NVARS] = {0};
    const char *values[NVARS] = {0};
    const uint8_t *p = data + 1 + tlen, *end = data + size;
    for (size_t i = 0; i < NVARS && p < end; i++) {
        const uint8_t *q = memchr(p, 0xFF, (size_t)(end - p));
        size_t n = (size_t)((q ? q : end) - p);
        vals[i] = malloc(n + 1);
        FUZZ_CHECK(vals[i] != NULL);
        memcpy(vals[i], p, n);
        vals[i][n] = '\0';
        values[i] = vals[i];   /* NULL (= "") for the values not given */
        p = q ? q + 1 : end;
    }

    char err[256];
    err[0] = '\0';
    struct sc_tpl *t = sc_tpl_compile(tpl, VARS, NVARS, err, sizeof err);
    if (!t) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
    } else {
        int utf8_in = valid_utf8(tpl);
        for (size_t i = 0; i < NVARS; i++)
            if (values[i] && !valid_utf8(values[i]))
                utf8_in = 0;

        char probe[1] = {'x'};
        size_t need = sc_tpl_render(t, values, probe, 0);
        FUZZ_CHECK(probe[0] == 'x');   /* outsz 0: nothing written */

        char *full = malloc(need + 1);
        FUZZ_CHECK(full != NULL);
        FUZZ_CHECK(sc_tpl_render(t, values, full, need + 1) == need);
        FUZZ_CHECK(full[need] == '\0' && strlen(full) == need);
        if (utf8_in)
            FUZZ_CHECK(valid_utf8(full));

        static const size_t sizes[] = {1, 2, 3, 5, 8, 17, 70, 161};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t sz = sizes[s];
            char *small = malloc(sz);
            FUZZ_CHECK(small != NULL);
            FUZZ_CHECK(sc_tpl_render(t, values, small, sz) == need);
            size_t m = strnlen(small, sz);
            FUZZ_CHECK(m < sz);                       /* NUL-terminated */
            FUZZ_CHECK(m <= need && memcmp(small, full, m) == 0);
            if (utf8_in) {
                FUZZ_CHECK(valid_utf8(small));
                if (m < need)
                    FUZZ_CHECK(m + 4 > sz - 1);       /* cut only where needed */
            }
            free(small);
        }
        free(full);
        sc_tpl_free(t);
    }
    free(tpl);
    for (size_t i = 0; i < NVARS; i++)
        free(vals[i]);
    return 0;
}
