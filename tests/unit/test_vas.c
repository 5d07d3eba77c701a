/* test_vas.c -- unit tests for the VAS handlers' pure parts: the month
 * starts that count a refund's months (handlers/vas_text.c), across a year
 * boundary, in a zone with daylight saving time, at the edges of a month. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "handlers/vas_int.h"

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* Beijing time: no DST; a new year in between. */
static void test_month_starts_shanghai(void **state)
{
    (void)state;
    set_tz("Asia/Shanghai");
    char out[VAS_MONTH_STARTS_MAX];
    /* 2026-02-03 10:31 +08:00: Feb 1, Jan 1, Dec 1, Nov 1, Oct 1 at 00:00 +08:00. */
    assert_int_equal(sc__vas_month_starts(1770085860, 6, out, sizeof out), 54);
    assert_string_equal(out, "1769875200,1767196800,1764518400,1761926400,1759248000");
    /* The first second of a month is in it; the last second before it is not. */
    sc__vas_month_starts(1769875200, 2, out, sizeof out);
    assert_string_equal(out, "1769875200");
    sc__vas_month_starts(1769875199, 2, out, sizeof out);
    assert_string_equal(out, "1767196800");
    /* One month at most: no start counts. */
    assert_int_equal(sc__vas_month_starts(1770085860, 1, out, sizeof out), 0);
    assert_string_equal(out, "");
    unsetenv("TZ");
    tzset();
}

/* A zone with DST: each start is local midnight whatever the offset. */
static void test_month_starts_dst(void **state)
{
    (void)state;
    set_tz("America/New_York");
    char out[VAS_MONTH_STARTS_MAX];
    /* 2026-04-15 12:00 -04:00: Apr 1 (-04:00), Mar 1 (-05:00). */
    sc__vas_month_starts(1776268800, 3, out, sizeof out);
    assert_string_equal(out, "1775016000,1772341200");
    unsetenv("TZ");
    tzset();
}

static void test_month_starts_bounds(void **state)
{
    (void)state;
    char out[VAS_MONTH_STARTS_MAX], small[12];
    assert_int_equal(sc__vas_month_starts(1770085860, 0, out, sizeof out), -1);
    assert_int_equal(sc__vas_month_starts(1770085860, SC_REFUND_MAX_MONTHS + 1, out, sizeof out),
                     -1);
    /* The most months fit the buffer the header names. */
    assert_true(sc__vas_month_starts(1770085860, SC_REFUND_MAX_MONTHS, out, sizeof out) > 0);
    /* Too small: refused, never overrun. */
    assert_int_equal(sc__vas_month_starts(1770085860, 3, small, sizeof small), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_starts_shanghai),
        cmocka_unit_test(test_month_starts_dst),
        cmocka_unit_test(test_month_starts_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
