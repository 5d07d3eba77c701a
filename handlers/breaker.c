/* breaker.c -- the circuit breaker's state machine (handlers/breaker.h). */
#include "handlers/breaker.h"

enum sc_breaker_verdict sc_breaker_allow(struct sc_breaker *b, const struct sc_breaker_conf *c,
                                         uint64_t now)
{
    if (b->state == SC_BREAKER_OPEN && now - b->opened_at >= c->open_ms) {
        b->state = SC_BREAKER_HALF_OPEN;
        b->probing = 0;
    }
    switch (b->state) {
    case SC_BREAKER_CLOSED:
        return SC_BREAKER_GO;
    case SC_BREAKER_HALF_OPEN:
        if (b->probing)
            return SC_BREAKER_REFUSE;
        b->probing = 1;
        return SC_BREAKER_PROBE;
    default:
        return SC_BREAKER_REFUSE;
    }
}

static void open_now(struct sc_breaker *b, uint64_t now)
{
    b->state = SC_BREAKER_OPEN;
    b->opened_at = now;
    b->probing = 0;
    b->nfail = b->head = 0;
}

int sc_breaker_result(struct sc_breaker *b, const struct sc_breaker_conf *c, uint64_t now,
                      int probe, int ok)
{
    if (probe && b->state == SC_BREAKER_HALF_OPEN) {
        if (ok) {
            b->state = SC_BREAKER_CLOSED;
            b->probing = 0;
            b->nfail = b->head = 0;
            return SC_BREAKER_CLOSED;
        }
        open_now(b, now);
        return SC_BREAKER_OPEN;
    }
    if (ok || b->state != SC_BREAKER_CLOSED || c->failures == 0)
        return -1;
    unsigned n = c->failures > SC_BREAKER_MAX_FAILURES ? SC_BREAKER_MAX_FAILURES : c->failures;
    if (b->ring != n) /* failures changed by a reload: start again */
        b->nfail = b->head = 0;
    b->ring = n;
    /* The ring holds the latest n failures, oldest at head once full. */
    if (b->nfail < n) {
        b->fail_at[(b->head + b->nfail) % n] = now;
        b->nfail++;
    } else {
        b->fail_at[b->head] = now;
        b->head = (b->head + 1) % n;
    }
    if (b->nfail >= n && now - b->fail_at[b->head] <= c->window_ms) {
        open_now(b, now);
        return SC_BREAKER_OPEN;
    }
    return -1;
}

const char *sc_breaker_state_name(enum sc_breaker_state s)
{
    return s == SC_BREAKER_OPEN ? "open" : s == SC_BREAKER_HALF_OPEN ? "half_open" : "closed";
}
