/* hash.h -- the one hash for in-memory tables: 32-bit FNV-1a over bytes or
 * a string, and an optional final mix so that the low bits (bucket =
 * h & (n - 1)) depend on every input bit. Not for anything an attacker must
 * not steer: tables that hold peer data bound their sizes instead. Inline:
 * it runs several times per MO. */
#ifndef SC_HASH_H
#define SC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SC_HASH_SEED 2166136261u   /* FNV-1a offset basis */

/* Continue hash h (start with SC_HASH_SEED) over n bytes at p. */
static inline uint32_t sc_hash_bytes(uint32_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

/* Continue hash h over the NUL-terminated string s (without the NUL):
 * the same value as sc_hash_bytes(h, s, strlen(s)), in one pass. */
static inline uint32_t sc_hash_str(uint32_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* The final mix (murmur-style avalanche); apply once, at the end. Without
 * it the low k bits of an FNV-1a value depend only on the low k bits of
 * each byte: fine for keys that differ in their last characters (service
 * codes), not for peer addresses. */
static inline uint32_t sc_hash_mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

#endif
