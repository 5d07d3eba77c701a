/* test_hist.c -- unit tests for smsc-sim's latency histogram (tools/smsc-sim/hist.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../tools/smsc-sim/hist.c"

/* Stated precision: a percentile is never below the true value and at most
 * 1/128 of it above (plus 1 unit for rounding of small values). */
static void assert_close(uint64_t got, uint64_t want)
{
    assert_true(got >= want);
    assert_true(got <= want + want / 128 + 1);
}

static struct sim_hist *hist_new(void)
{
    struct sim_hist *h = malloc(sizeof *h);
    assert_non_null(h);
    sim_hist_reset(h);
    return h;
}

static void test_empty(void **state)
{
    (void)state;
    struct sim_hist *h = hist_new();
    assert_int_equal(h->total, 0);
    assert_int_equal(sim_hist_percentile(h, 50), 0);
    assert_int_equal(sim_hist_percentile(h, 100), 0);
    assert_true(sim_hist_mean(h) == 0.0);
    free(h);
}

/* Uniform 1..N: the p-th percentile is ceil(p/100 * N). */
static void test_uniform(void **state)
{
    static const uint64_t sizes[] = {100, 1000, 100000, 1000000};
    static const double ps[] = {1, 10, 50, 90, 99, 99.9};
    (void)state;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct sim_hist *h = hist_new();
        uint64_t n = sizes[k];
        for (uint64_t v = 1; v <= n; v++)
            sim_hist_record(h, v);
        assert_int_equal(h->total, n);
        assert_int_equal(h->min, 1);
        assert_int_equal(h->max, n);
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            uint64_t want = (uint64_t)(ps[i] / 100.0 * (double)n + 0.999999);
            assert_close(sim_hist_percentile(h, ps[i]), want);
        }
        assert_int_equal(sim_hist_percentile(h, 100), n);
        assert_int_equal(sim_hist_percentile(h, 0), 1);
        assert_true(sim_hist_mean(h) > (double)n / 2 && sim_hist_mean(h) < (double)n / 2 + 1);
        free(h);
    }
}

/* Small values (< 256) are exact. */
static void test_exact_small(void **state)
{
    (void)state;
    struct sim_hist *h = hist_new();
    for (uint64_t v = 0; v < 256; v++) {
        sim_hist_reset(h);
        sim_hist_record(h, v);
        assert_int_equal(sim_hist_percentile(h, 50), v);
    }
    free(h);
}

/* A known two-mode distribution across many powers of two: 90 % at 1 ms,
 * 9 % at 20 ms, 1 % at 3 s (microseconds). */
static void test_modes(void **state)
{
    (void)state;
    struct sim_hist *h = hist_new();
    for (int i = 0; i < 9000; i++)
        sim_hist_record(h, 1000);
    for (int i = 0; i < 900; i++)
        sim_hist_record(h, 20000);
    for (int i = 0; i < 100; i++)
        sim_hist_record(h, 3000000);
    assert_close(sim_hist_percentile(h, 50), 1000);
    assert_close(sim_hist_percentile(h, 90), 1000);
    assert_close(sim_hist_percentile(h, 90.01), 20000);
    assert_close(sim_hist_percentile(h, 99), 20000);
    assert_close(sim_hist_percentile(h, 99.9), 3000000);
    assert_int_equal(sim_hist_percentile(h, 100), 3000000);
    free(h);
}

/* Every value in the range lands in a bucket whose reported value is within
 * the precision; percentiles are monotonic. */
static void test_every_magnitude(void **state)
{
    (void)state;
    struct sim_hist *h = hist_new();
    for (uint64_t v = 1; v <= SIM_HIST_MAX; v = v * 3 / 2 + 1) {
        sim_hist_reset(h);
        sim_hist_record(h, v);
        sim_hist_record(h, v + 1000000000); /* keeps max above v */
        assert_close(sim_hist_percentile(h, 50), v);
    }
    free(h);
}

/* Bounds: 0 and values above the range are counted; max stays exact. */
static void test_bounds(void **state)
{
    (void)state;
    struct sim_hist *h = hist_new();
    sim_hist_record(h, 0);
    sim_hist_record(h, SIM_HIST_MAX);
    sim_hist_record(h, UINT64_MAX / 4);
    assert_int_equal(h->total, 3);
    assert_int_equal(h->overflow, 1);
    assert_int_equal(h->min, 0);
    assert_int_equal(h->max, UINT64_MAX / 4);
    assert_int_equal(sim_hist_percentile(h, 1), 0);
    assert_int_equal(sim_hist_percentile(h, 100), UINT64_MAX / 4);
    uint64_t p99 = sim_hist_percentile(h, 99);
    assert_true(p99 >= SIM_HIST_MAX - 1 && p99 <= UINT64_MAX / 4);
    free(h);
}

static void test_merge_reset(void **state)
{
    (void)state;
    struct sim_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
    for (uint64_t v = 1; v <= 5000; v++) {
        sim_hist_record(v % 2 ? a : b, v * 7);
        sim_hist_record(all, v * 7);
    }
    sim_hist_merge(a, b);
    assert_int_equal(a->total, all->total);
    assert_int_equal(a->sum, all->sum);
    assert_int_equal(a->min, all->min);
    assert_int_equal(a->max, all->max);
    assert_memory_equal(a->counts, all->counts, sizeof a->counts);
    for (double p = 0; p <= 100; p += 0.5)
        assert_int_equal(sim_hist_percentile(a, p), sim_hist_percentile(all, p));
    sim_hist_reset(b);
    sim_hist_merge(a, b); /* empty: no change */
    assert_int_equal(a->total, all->total);
    sim_hist_reset(a);
    assert_int_equal(a->total, 0);
    assert_int_equal(sim_hist_percentile(a, 99), 0);
    free(a);
    free(b);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_exact_small),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_every_magnitude),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_merge_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
