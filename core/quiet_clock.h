/* quiet_clock.h -- the push intake's quiet-hour state: whether now is
 * inside mt.quiet_hours (in mt.time_zone, at the mt.test_clock when set),
 * and one timer armed for the end of the current quiet hours (no polling).
 * Owned by core/push.c (embedded in its struct). */
#ifndef SC_QUIET_CLOCK_H
#define SC_QUIET_CLOCK_H

#include <uv.h>

#include "core/mt_conf.h"

struct sc_quiet_clock {
    uv_timer_t timer;             /* armed for until_ms while inside */
    const struct sc_cfg_mt *mc;   /* what the state was computed from */
    long long off_ms;             /* added to the real clock (test_clock) */
    long long until_ms;           /* real unix ms of the next boundary; 0 = none */
    int in;                       /* inside quiet hours */
    int ended;                    /* they ended since the last sc_quiet_clock_in() */
    void (*on_end)(void *);
    void *arg;
};

/* Init the timer on loop and compute the state from mc; on_end(arg) is
 * called from the timer when quiet hours end. */
void sc_quiet_clock_init(struct sc_quiet_clock *c, uv_loop_t *loop, const struct sc_cfg_mt *mc,
                         void (*on_end)(void *), void *arg);
/* mc is applied anew (start and each reload: the test clock is re-based). */
void sc_quiet_clock_set(struct sc_quiet_clock *c, const struct sc_cfg_mt *mc);
/* Whether now is inside; *ended = 1 when quiet hours ended (timer or
 * reload) since the last call. Recomputed only when a boundary passed. */
int sc_quiet_clock_in(struct sc_quiet_clock *c, int *ended);
/* The real unix ms now (gettimeofday). */
long long sc_quiet_clock_real_ms(void);
/* Close the timer; cb as uv_close's (timer.data is left for the owner). */
void sc_quiet_clock_close(struct sc_quiet_clock *c, uv_close_cb cb);

#endif
