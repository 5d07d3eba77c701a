/* loop_wd.h -- for unit tests on a real uv loop: run it until a condition
 * holds, under a watchdog timer that fails the test after a deadline.
 *
 * The fixture f has: uv_loop_t loop; uv_timer_t wd; int wd_fired
 * (LOOP_WD_INIT sets them up). Include after <cmocka.h>. */
#ifndef SC_TEST_LOOP_WD_H
#define SC_TEST_LOOP_WD_H

#include <uv.h>

static void on_wd(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Initialise f's loop and its watchdog timer (in a fixture's setup). */
#define LOOP_WD_INIT(f)                                                                    \
    do {                                                                                   \
        assert_int_equal(uv_loop_init(&(f)->loop), 0);                                     \
        uv_timer_init(&(f)->loop, &(f)->wd);                                               \
        (f)->wd.data = &(f)->wd_fired;                                                     \
    } while (0)

/* Run the loop until cond, failing after ms milliseconds. */
#define RUN_UNTIL(f, cond, ms)                                                             \
    do {                                                                                   \
        (f)->wd_fired = 0;                                                                 \
        uv_timer_start(&(f)->wd, on_wd, (ms), 0);                                          \
        while (!(cond) && !(f)->wd_fired)                                                  \
            uv_run(&(f)->loop, UV_RUN_ONCE);                                               \
        uv_timer_stop(&(f)->wd);                                                           \
        if (!(cond))                                                                       \
            fail_msg("timed out after %d ms waiting for %s", (int)(ms), #cond);            \
    } while (0)

/* Run the loop for ms milliseconds. */
#define RUN_FOR(f, ms)                                                                     \
    do {                                                                                   \
        (f)->wd_fired = 0;                                                                 \
        uv_timer_start(&(f)->wd, on_wd, (ms), 0);                                          \
        while (!(f)->wd_fired)                                                             \
            uv_run(&(f)->loop, UV_RUN_ONCE);                                               \
    } while (0)

#endif
