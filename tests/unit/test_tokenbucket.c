/* test_tokenbucket.c -- unit tests for the TPS token bucket (smsc/tokenbucket.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smsc/tokenbucket.h"

/* Over a simulated second at 1 ms steps, a bucket of rate R and burst B
 * allows at most B + R takes, and at least R. */
static void test_rate_over_time(void **state)
{
    static const struct { uint32_t rate, burst; } cases[] = {
        {1, 1}, {10, 1}, {100, 10}, {250, 25}, {1000, 100}, {3, 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sc_tokenbucket tb;
        sc_tokenbucket_init(&tb, cases[i].rate, cases[i].burst, 1000);
        unsigned taken = 0;
        for (uint64_t t = 1000; t < 2000; t++)
            while (sc_tokenbucket_take(&tb, t))
                taken++;
        assert_true(taken <= cases[i].burst + cases[i].rate);
        assert_true(taken >= cases[i].rate);
    }
}

static void test_wait(void **state)
{
    (void)state;
    struct sc_tokenbucket tb;
    sc_tokenbucket_init(&tb, 10, 1, 0);
    assert_int_equal(sc_tokenbucket_wait_ms(&tb, 0), 0);
    assert_true(sc_tokenbucket_take(&tb, 0));
    assert_false(sc_tokenbucket_take(&tb, 0));
    assert_int_equal(sc_tokenbucket_wait_ms(&tb, 0), 100);
    assert_int_equal(sc_tokenbucket_wait_ms(&tb, 40), 60);
    assert_false(sc_tokenbucket_take(&tb, 99));
    assert_true(sc_tokenbucket_take(&tb, 100));
}

static void test_unlimited(void **state)
{
    (void)state;
    struct sc_tokenbucket tb;
    sc_tokenbucket_init(&tb, 0, 1, 0);
    for (int i = 0; i < 100000; i++)
        assert_true(sc_tokenbucket_take(&tb, 0));
    assert_int_equal(sc_tokenbucket_wait_ms(&tb, 0), 0);
}

static void test_clock_backwards(void **state)
{
    (void)state;
    struct sc_tokenbucket tb;
    sc_tokenbucket_init(&tb, 5, 1, 1000);
    assert_true(sc_tokenbucket_take(&tb, 1000));
    assert_false(sc_tokenbucket_take(&tb, 500));
    assert_int_equal(sc_tokenbucket_wait_ms(&tb, 500), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_over_time),
        cmocka_unit_test(test_wait),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_clock_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
