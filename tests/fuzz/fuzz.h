/* fuzz.h -- shared by the libFuzzer targets in tests/fuzz/.
 *
 * FUZZ_CHECK is an invariant: unlike assert() it stays on in every build, and
 * it prints what failed before abort() so that libFuzzer saves the input. */
#ifndef SC_FUZZ_H
#define SC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* The libFuzzer entry point every target defines (also called by replay.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
