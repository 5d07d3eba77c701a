/* tokenbucket.h -- a TPS limiter: integer token bucket over a millisecond clock. */
#ifndef SC_TOKENBUCKET_H
#define SC_TOKENBUCKET_H

#include <stdint.h>

/* Tokens are counted in thousandths so that any rate refills exactly with
 * integer arithmetic. rate 0 means unlimited. */
struct sc_tokenbucket {
    uint32_t rate;        /* tokens per second */
    uint64_t burst_milli; /* capacity, in thousandths of a token */
    uint64_t milli;       /* tokens now, in thousandths */
    uint64_t last_ms;     /* clock of the last refill */
};

/* burst: how many tokens may be spent at once (>= 1). Starts full. */
void sc_tokenbucket_init(struct sc_tokenbucket *tb, uint32_t rate, uint32_t burst, uint64_t now_ms);
/* Take one token: returns 1 if taken, 0 if none is available. */
int sc_tokenbucket_take(struct sc_tokenbucket *tb, uint64_t now_ms);
/* Milliseconds until a token will be available (0 if one is now). */
uint64_t sc_tokenbucket_wait_ms(struct sc_tokenbucket *tb, uint64_t now_ms);

#endif
