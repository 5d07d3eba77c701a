/* tokenbucket.c -- a TPS limiter: integer token bucket over a millisecond clock. */
#include "smsc/tokenbucket.h"

void sc_tokenbucket_init(struct sc_tokenbucket *tb, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
    tb->rate = rate;
    tb->burst_milli = (uint64_t)(burst ? burst : 1) * 1000;
    tb->milli = tb->burst_milli;
    tb->last_ms = now_ms;
}

static void refill(struct sc_tokenbucket *tb, uint64_t now_ms)
{
    if (now_ms <= tb->last_ms)
        return;
    /* rate tokens per 1000 ms = rate milli-tokens per ms. */
    uint64_t add = (now_ms - tb->last_ms) * tb->rate;
    tb->milli = tb->milli + add > tb->burst_milli ? tb->burst_milli : tb->milli + add;
    tb->last_ms = now_ms;
}

int sc_tokenbucket_take(struct sc_tokenbucket *tb, uint64_t now_ms)
{
    if (tb->rate == 0)
        return 1;
    refill(tb, now_ms);
    if (tb->milli < 1000)
        return 0;
    tb->milli -= 1000;
    return 1;
}

uint64_t sc_tokenbucket_wait_ms(struct sc_tokenbucket *tb, uint64_t now_ms)
{
    if (tb->rate == 0)
        return 0;
    refill(tb, now_ms);
    if (tb->milli >= 1000)
        return 0;
    return (1000 - tb->milli + tb->rate - 1) / tb->rate;
}
