/* test_esme.c -- the pure parts of smsc/esme.c: the reconnect schedule and
 * the ESME_RALYBND bump (docs/smpp.md, "Binds"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smsc/esme.h"
#include "smsc/pdu.h"

/* min * 2^attempts capped, then its upper half: rnd = 0 gives the bottom of
 * it, rnd = half gives the top, and rnd wraps (any value is fine). */
static void test_backoff_schedule(void **state)
{
    (void)state;
    /* The shipped defaults: 500 ms doubled up to 30 s. */
    static const uint64_t base[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (unsigned k = 0; k < sizeof base / sizeof base[0]; k++) {
        uint64_t b = base[k];
        assert_int_equal(sc_esme_backoff_ms(500, 30000, k, 0), b / 2);
        assert_int_equal(sc_esme_backoff_ms(500, 30000, k, b / 2), b);
        assert_int_equal(sc_esme_backoff_ms(500, 30000, k, b / 2 + 1), b / 2);
        for (uint64_t rnd = 0; rnd < 5000; rnd += 7) {
            uint64_t d = sc_esme_backoff_ms(500, 30000, k, rnd);
            assert_true(d >= b / 2 && d <= b);
        }
    }
    /* Far past the cap: no overflow, no runaway loop. */
    assert_int_equal(sc_esme_backoff_ms(500, 30000, 4000000000u, 0), 15000);
    assert_int_equal(sc_esme_backoff_ms(100, 1000, 64, 500), 1000);
    /* A cap that is not a power-of-two multiple of min is met exactly. */
    assert_int_equal(sc_esme_backoff_ms(100, 300, 2, 150), 300);
    assert_int_equal(sc_esme_backoff_ms(100, 300, 1, 100), 200);
    /* min == max: a fixed wait, jittered in its upper half. */
    assert_int_equal(sc_esme_backoff_ms(1000, 1000, 0, 0), 500);
    assert_int_equal(sc_esme_backoff_ms(1000, 1000, 9, 500), 1000);
}

static void test_already_bound_waits_longer(void **state)
{
    (void)state;
    /* After ESME_RALYBND the next wait is at least 8 * min. */
    for (unsigned a = 0; a < 4; a++) {
        unsigned n = sc_esme_attempts_after_refusal(SC_ESME_RALYBND, a);
        assert_int_equal(n, 4);
        assert_true(sc_esme_backoff_ms(500, 30000, n, 0) >= 8 * 500);
    }
    /* Already further along: unchanged. */
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RALYBND, 4), 4);
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RALYBND, 9), 9);
    /* Any other refusal counts as the failure it is. */
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RINVPASWD, 0), 0);
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RBINDFAIL, 2), 2);
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_ROK, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_already_bound_waits_longer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
