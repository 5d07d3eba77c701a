/* reasm_rss.c -- memory of pending long MOs (smsc/reasm.c): RSS while N
 * first parts (64 bytes) of messages of 255 parts from N sources are held,
 * after they expire, and after malloc_trim.
 *
 *   ninja -C build reasm_rss && build/reasm_rss [N [MAX_BYTES]]
 *
 * Figures in docs/smpp.md ("Long MOs"). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/reasm.h"

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return (double)resident * 4096 / 1e6;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000;
    size_t max_bytes = argc > 2 ? strtoull(argv[2], NULL, 10) : 8388608;
    struct sc_reasm_limits lim = {.max_pending = 10000000, .max_per_source = 8,
                                  .max_bytes = max_bytes, .timeout_ms = 1000};
    struct sc_reasm *r = sc_reasm_new(&lim);
    if (!r)
        return 1;
    uint8_t text[64];
    memset(text, 'x', sizeof text);
    double before = rss_mb();
    unsigned stored = 0;
    for (unsigned i = 0; i < n; i++) {
        struct sc_reasm_key k;
        memset(&k, 0, sizeof k);
        snprintf(k.src, sizeof k.src, "138%08u", i);
        strcpy(k.dst, "10086");
        k.ref = 1;
        k.total = 255;
        uint8_t *out, dc;
        size_t olen;
        stored += sc_reasm_add(r, &k, 1, 8, text, sizeof text, 0, &out, &olen, &dc) ==
                  SC_REASM_PARTIAL;
    }
    double held = rss_mb();
    size_t counted = sc_reasm_bytes(r);
    sc_reasm_expire(r, 1000, NULL, NULL);
    double expired = rss_mb();
    malloc_trim(0);
    printf("messages=%u max_bytes=%zu stored=%u counted=%zu rss_mb before=%.1f held=%.1f "
           "expired=%.1f trimmed=%.1f\n", n, max_bytes, stored, counted, before, held, expired,
           rss_mb());
    sc_reasm_free(r);
    return 0;
}
