/* breaker.h -- a circuit breaker for one route's backend (handlers/http.c):
 * pure, the time passed in, no I/O.
 *
 *   closed     calls go through; a failure is remembered; when `failures`
 *              of them fall within `window_ms`, the breaker opens
 *   open       calls are refused (the route answers its fallback or the
 *              temporary error at once) for `open_ms`
 *   half-open  after open_ms, ONE call (the probe) goes through, the others
 *              are still refused; the probe's success closes the breaker
 *              (failures forgotten), its failure opens it again
 * Results of calls started in an earlier state (a slow call ending after
 * the breaker opened) change nothing but the closed state's memory. */
#ifndef SC_BREAKER_H
#define SC_BREAKER_H

#include <stdint.h>

#define SC_BREAKER_MAX_FAILURES 64

enum sc_breaker_state { SC_BREAKER_CLOSED, SC_BREAKER_OPEN, SC_BREAKER_HALF_OPEN };

/* What a call may do (sc_breaker_allow). */
enum sc_breaker_verdict { SC_BREAKER_GO, SC_BREAKER_PROBE, SC_BREAKER_REFUSE };

struct sc_breaker_conf {
    unsigned failures;         /* 1..SC_BREAKER_MAX_FAILURES; 0: never opens */
    uint64_t window_ms;
    uint64_t open_ms;
};

/* Zeroed = closed, nothing remembered. */
struct sc_breaker {
    enum sc_breaker_state state;
    uint64_t opened_at;
    int probing;               /* half-open: the probe is in flight */
    unsigned nfail, head, ring; /* ring (ring slots) of the latest failures' times */
    uint64_t fail_at[SC_BREAKER_MAX_FAILURES];
};

/* May a call start now? GO (closed), PROBE (the one call of half-open: pass
 * probe = 1 to its result), REFUSE. May move open -> half-open. */
enum sc_breaker_verdict sc_breaker_allow(struct sc_breaker *b, const struct sc_breaker_conf *c,
                                         uint64_t now);

/* A call ended (ok: the backend answered usefully). Returns the new state
 * when it changed, else -1 (for the log line). */
int sc_breaker_result(struct sc_breaker *b, const struct sc_breaker_conf *c, uint64_t now,
                      int probe, int ok);

/* "closed", "open", "half_open". */
const char *sc_breaker_state_name(enum sc_breaker_state s);

#endif
