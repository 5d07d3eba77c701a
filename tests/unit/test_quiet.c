/* test_quiet.c -- core/quiet.c: quiet-hour ranges (across midnight,
 * boundaries), zone offsets and the next boundary across DST changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/quiet.h"

static int fixed(void *arg, long long t)
{
    (void)t;
    return *(int *)arg;
}

static int zone(void *arg, long long t) { return sc_tz_offset(arg, t); }

static void test_parse(void **state)
{
    (void)state;
    struct sc_quiet_range r;
    const char *why = NULL;
    assert_int_equal(sc_quiet_parse("22:00-08:00", &r, &why), 0);
    assert_true(r.on);
    assert_int_equal(r.start_s, 22 * 3600);
    assert_int_equal(r.end_s, 8 * 3600);
    assert_int_equal(sc_quiet_parse("00:00-23:59", &r, &why), 0);
    assert_int_equal(r.end_s, 23 * 3600 + 59 * 60);
    assert_int_equal(sc_quiet_parse("", &r, &why), 0);
    assert_false(r.on);
    assert_int_equal(sc_quiet_parse("off", &r, &why), 0);
    assert_false(r.on);
    assert_int_equal(sc_quiet_parse(NULL, &r, &why), 0);
    assert_false(r.on);
    const char *bad[] = {"24:00-08:00", "22:60-08:00", "22-08", "22:00-08:00 ", "22:00_08:00",
                         "2a:00-08:00", "08:00-08:00", "-1:00-08:00", "22:00-8:00", "on"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        assert_int_equal(sc_quiet_parse(bad[i], &r, &why), -1);
        assert_non_null(why);
    }
    int c;
    assert_int_equal(sc_quiet_parse_clock("07:59:58", &c), 0);
    assert_int_equal(c, 7 * 3600 + 59 * 60 + 58);
    assert_int_equal(sc_quiet_parse_clock("07:59:60", &c), -1);
    assert_int_equal(sc_quiet_parse_clock("07:59", &c), -1);
}

/* 22:00-08:00 at UTC+8, both sides of both boundaries. */
static void test_across_midnight(void **state)
{
    (void)state;
    struct sc_quiet_range r;
    const char *why;
    assert_int_equal(sc_quiet_parse("22:00-08:00", &r, &why), 0);
    int o = 8 * 3600;
    long long day = 1767225600LL - o; /* 2026-01-01 00:00 local */
    long long next = 0;
    assert_int_equal(sc_quiet_at(&r, day + 22 * 3600 - 1, fixed, &o, &next), 0);
    assert_int_equal(next, day + 22 * 3600);
    assert_int_equal(sc_quiet_at(&r, day + 22 * 3600, fixed, &o, &next), 1);
    assert_int_equal(next, day + SC_DAY_S + 8 * 3600);
    assert_int_equal(sc_quiet_at(&r, day + SC_DAY_S, fixed, &o, &next), 1); /* midnight */
    assert_int_equal(next, day + SC_DAY_S + 8 * 3600);
    assert_int_equal(sc_quiet_at(&r, day + 8 * 3600 - 1, fixed, &o, &next), 1);
    assert_int_equal(next, day + 8 * 3600);
    assert_int_equal(sc_quiet_at(&r, day + 8 * 3600, fixed, &o, &next), 0);
    assert_int_equal(next, day + 22 * 3600);
    /* No quiet hours: never, next untouched. */
    struct sc_quiet_range none = {0};
    next = 42;
    assert_int_equal(sc_quiet_at(&none, day, fixed, &o, &next), 0);
    assert_int_equal(next, 42);
}

static void test_same_day_range(void **state)
{
    (void)state;
    struct sc_quiet_range r;
    const char *why;
    assert_int_equal(sc_quiet_parse("12:30-14:00", &r, &why), 0);
    int o = 0;
    long long day = 1767225600LL, next;
    assert_int_equal(sc_quiet_at(&r, day + 3600, fixed, &o, &next), 0);
    assert_int_equal(next, day + 12 * 3600 + 1800);
    assert_int_equal(sc_quiet_at(&r, day + 13 * 3600, fixed, &o, &next), 1);
    assert_int_equal(next, day + 14 * 3600);
    assert_int_equal(sc_quiet_at(&r, day + 15 * 3600, fixed, &o, &next), 0);
    assert_int_equal(next, day + SC_DAY_S + 12 * 3600 + 1800);
}

static void test_zones(void **state)
{
    (void)state;
    assert_true(sc_tz_valid("Asia/Shanghai"));
    assert_true(sc_tz_valid("UTC"));
    assert_false(sc_tz_valid("Mars/Olympus"));
    assert_false(sc_tz_valid("../../etc/passwd"));
    assert_false(sc_tz_valid("/usr/share/zoneinfo/UTC"));
    assert_false(sc_tz_valid(""));
    assert_int_equal(sc_tz_offset("Asia/Shanghai", 1767225600LL), 8 * 3600);
    assert_int_equal(sc_tz_offset("America/New_York", 1767225600LL), -5 * 3600);
    assert_int_equal(sc_tz_offset("America/New_York", 1783000000LL), -4 * 3600);
    /* The process's own zone is put back. */
    setenv("TZ", "Europe/Paris", 1);
    (void)sc_tz_offset("Asia/Shanghai", 0);
    assert_string_equal(getenv("TZ"), "Europe/Paris");
    unsetenv("TZ");
    (void)sc_tz_offset("Asia/Shanghai", 0);
    assert_null(getenv("TZ"));
}

/* America/New_York, 22:00-08:00: the night of a DST change is an hour
 * shorter (2026-03-08) or longer (2026-11-01) in real time. */
static void test_dst(void **state)
{
    (void)state;
    struct sc_quiet_range r;
    const char *why;
    char ny[] = "America/New_York";
    assert_int_equal(sc_quiet_parse("22:00-08:00", &r, &why), 0);
    long long next;
    /* 2026-03-07 23:00 EST = 03-08 04:00 UTC -> 08:00 EDT = 12:00 UTC. */
    assert_int_equal(sc_quiet_at(&r, 1772942400LL, zone, ny, &next), 1);
    assert_int_equal(next, 1772971200LL);
    /* 2026-10-31 23:00 EDT = 11-01 03:00 UTC -> 08:00 EST = 13:00 UTC. */
    assert_int_equal(sc_quiet_at(&r, 1793502000LL, zone, ny, &next), 1);
    assert_int_equal(next, 1793538000LL);
    /* An end inside the gap (02:30 does not exist on 03-08): at 01:50 EST
     * the end comes after 03:00 EDT and by 03:30 EDT, and it is not quiet. */
    assert_int_equal(sc_quiet_parse("22:00-02:30", &r, &why), 0);
    assert_int_equal(sc_quiet_at(&r, 1772952600LL, zone, ny, &next), 1);
    assert_true(next >= 1772953200LL && next <= 1772955000LL);
    long long after;
    assert_int_equal(sc_quiet_at(&r, next, zone, ny, &after), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_across_midnight),
        cmocka_unit_test(test_same_day_range),
        cmocka_unit_test(test_zones),
        cmocka_unit_test(test_dst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
