/* test_sc.c -- unit tests for base/sc.c and base/log.c helpers, and store/keys.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/sc.h"
#include "store/keys.h"

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(sc_strerror(SC_OK), "success");
    assert_string_equal(sc_strerror(SC_EPROTO), "protocol error");
    assert_string_equal(sc_strerror(-999), "unknown error");
}

static void test_strlcpy(void **state)
{
    (void)state;
    char b[4];
    assert_int_equal(sc_strlcpy(b, "abcdef", sizeof b), 6);
    assert_string_equal(b, "abc");
    assert_int_equal(sc_strlcpy(b, "ab", sizeof b), 2);
    assert_string_equal(b, "ab");
}

static void test_quote(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(sc_log_quote(b, sizeof b, "a \"b\"\n", 6), "\"a \\\"b\\\"\\x0a\"");
    char s[16];
    const char *q = sc_log_quote(s, sizeof s, "0123456789abcdefghij", 20);
    assert_true(strlen(q) < sizeof s);
    assert_non_null(strstr(q, "..."));
}

/* Peer values: bare when safe, else quoted; never a raw newline or ESC. */
static void test_log_value(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"13800138000", "13800138000"},
        {"+8613800138000", "+8613800138000"},
        {"", "\"\""},
        {"a b", "\"a b\""},
        {"1\nlevel=error x", "\"1\\x0alevel=error x\""},
        {"x=1", "\"x=1\""},
        {"\x1b[31m", "\"\\x1b[31m\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"\xe4\xb8\xad", "\"\xe4\xb8\xad\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[64];
        assert_string_equal(sc_log_value(b, sizeof b, cases[i].in, strlen(cases[i].in)),
                            cases[i].want);
        assert_string_equal(SC_LOGV(cases[i].in), cases[i].want);
    }
    char s[8];
    const char *q = sc_log_value(s, sizeof s, "0123456789", 10); /* too long: quoted, cut */
    assert_true(strlen(q) < sizeof s);
}

static void test_msisdn_national(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"8613800138000", "13800138000"}, {"+8613800138000", "13800138000"},
        {"13800138000", "13800138000"},   {"8612345", "8612345"},
        {"86", "86"},                     {"+86138abc00000", "+86138abc00000"},
        {"861234567", "1234567"},         {"", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        sc_msisdn_national(sc_default_msisdn_prefixes, 2, cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].want);
    }
}

/* The simulator's --seed runs repeat only if this sequence never changes. */
/* sc_key gives what snprintf(fmt, msisdn) gives, cut alike. */
static void test_key_formats(void **state)
{
    (void)state;
    static const char *const fmts[] = {SC_KEY_SUB, SC_KEY_ITEMS, SC_KEY_GONE, SC_KEY_ALLGONE,
                                       SC_KEY_AUDIT, SC_KEY_ACCT, SC_KEY_PENDING, SC_KEY_RL};
    char got[SC_KEY_MAX], want[SC_KEY_MAX];
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        for (size_t sz = 1; sz <= 24; sz++) {
            size_t n = sc_key(got, sz, fmts[i], "13800138000");
            const char *at = strchr(fmts[i], '%');
            snprintf(want, sz, "%.*s13800138000%s", (int)(at - fmts[i]), fmts[i], at + 2);
            assert_string_equal(got, want);
            assert_int_equal(n, strlen(want));
        }
    }
    sc_key(got, sizeof got, SC_KEY_SUB, "13800138000");
    assert_string_equal(got, "sub:{13800138000}:vas");
}

/* The published FNV-1a 32-bit test vectors; fields hashed one after the
 * other give the hash of their concatenation. */
static void test_fnv1a_vectors(void **state)
{
    (void)state;
    assert_int_equal(sc_hash_bytes(SC_HASH_SEED, "", 0), 0x811c9dc5u);
    assert_int_equal(sc_hash_bytes(SC_HASH_SEED, "a", 1), 0xe40c292cu);
    assert_int_equal(sc_hash_bytes(SC_HASH_SEED, "foobar", 6), 0xbf9cf968u);
    assert_int_equal(sc_hash_bytes(sc_hash_bytes(SC_HASH_SEED, "foo", 3), "bar", 3), 0xbf9cf968u);
}

static void test_xorshift_sequence(void **state)
{
    (void)state;
    static const uint64_t want[] = {0x47e4ce4b896cdd1dULL, 0xabcfa6a8e079651dULL, 0xb9d10d8feb731f57ULL};
    uint64_t st = 1;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(sc_xorshift64s(&st) == want[i]);
    assert_true(st != 0);
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(sc_log_level_parse("warn"), SC_LOG_WARN);
    assert_int_equal(sc_log_level_parse("nope"), -1);
}

/* Times of earlier cancellations, as replies give them (TZ fixed here). */
static void test_fmt_past_time(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    const long long now = 1764729060;  /* 2025-12-03 10:31 +08:00 */
    static const struct {
        long long t;
        const char *want;
    } cases[] = {
        {1764729060, "10:31"},
        {1764691200, "00:00"},              /* midnight of the same day */
        {1764691199, "12月2日23:59"},       /* one second before */
        {1764729060 - 86400, "12月2日10:31"},
        {1735662600, "1月1日00:30"},        /* 2025-01-01: the same year */
        {1735660200, "2024年12月31日23:50"}, /* another year */
    };
    char out[48];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(sc_fmt_past_time(cases[i].t, now, out, sizeof out), cases[i].want);
    /* Cut, never overrun. */
    char small[4];
    sc_fmt_past_time(1764729060, now, small, sizeof small);
    assert_string_equal(small, "10:");
    unsetenv("TZ");
    tzset();
}

/* A script's time as text: digits only, else "?". */
static void test_fmt_past_time_text(void **state)
{
    (void)state;
    char out[48], want[48];
    long long now = (long long)time(NULL);
    char now_s[24];
    snprintf(now_s, sizeof now_s, "%lld", now);
    sc_fmt_past_time(now, (long long)time(NULL), want, sizeof want);
    assert_string_equal(sc_fmt_past_time_text(now_s, out, sizeof out), want);
    static const char *const bad[] = {"", "12x", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_string_equal(sc_fmt_past_time_text(bad[i], out, sizeof out), "?");
    assert_string_equal(sc_fmt_past_time_text(NULL, out, sizeof out), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_log_value),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_msisdn_national),
        cmocka_unit_test(test_xorshift_sequence),
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_key_formats),
        cmocka_unit_test(test_fmt_past_time),
        cmocka_unit_test(test_fmt_past_time_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
