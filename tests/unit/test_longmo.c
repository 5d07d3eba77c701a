/* test_longmo.c -- unit tests for the pure parts of core/longmo.c: the
 * reassembly keys and the join of the part script's "complete" result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "base/sc.h"
#include "core/longmo.h"

static void test_keys(void **state)
{
    (void)state;
    char key[SC_LONGMO_KEY_MAX], idx[SC_LONGMO_KEY_MAX];
    assert_int_equal(sc__longmo_keys("13800138000", "10086", 7, 2, key, sizeof key, idx,
                                     sizeof idx), 0);
    assert_string_equal(key, "reasm:{13800138000}:10086:7:2");
    assert_string_equal(idx, "reasm:{13800138000}");
    /* The longest addresses and numbers fit the documented bound. */
    char a[SC_ADDR_MAX];
    memset(a, '9', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    assert_int_equal(sc__longmo_keys(a, a, 65535, 255, key, sizeof key, idx, sizeof idx), 0);
    assert_int_equal(strlen(key), 7 + 20 + 2 + 20 + 1 + 5 + 1 + 3);
    /* Too small: an error, never a cut key. */
    assert_int_equal(sc__longmo_keys("13800138000", "10086", 7, 2, key, 20, idx, sizeof idx),
                     SC_ETOOBIG);
    assert_int_equal(sc__longmo_keys("13800138000", "10086", 7, 2, key, sizeof key, idx, 10),
                     SC_ETOOBIG);
}

/* A bulk-string reply element over s (binary: n bytes). */
static redisReply str(const char *s, size_t n)
{
    redisReply r;
    memset(&r, 0, sizeof r);
    r.type = REDIS_REPLY_STRING;
    r.str = (char *)s;
    r.len = n;
    return r;
}

static void test_join(void **state)
{
    (void)state;
    redisReply r[4] = {str("8", 1), str("\x00T\x00" "D", 4), str("\x00" "C\x00L", 4),
                       str("\x00" "0", 2)};
    redisReply *el[4] = {&r[0], &r[1], &r[2], &r[3]};
    uint8_t dc = 0, *out = NULL;
    size_t len = 0;
    /* Parts in order, binary safe (NUL bytes kept). */
    assert_int_equal(sc__longmo_join(el, 4, 3, &dc, &out, &len), 0);
    assert_int_equal(dc, 8);
    assert_int_equal(len, 10);
    assert_memory_equal(out, "\x00T\x00" "D\x00" "C\x00L\x00" "0", 10);
    free(out);
    /* Empty parts are allowed (the message is then shorter). */
    redisReply e[3] = {str("0", 1), str("", 0), str("", 0)};
    redisReply *ee[3] = {&e[0], &e[1], &e[2]};
    assert_int_equal(sc__longmo_join(ee, 3, 2, &dc, &out, &len), 0);
    assert_int_equal(len, 0);
    assert_non_null(out);
    free(out);
}

static void test_join_refuses_other_shapes(void **state)
{
    (void)state;
    uint8_t dc = 0, *out = NULL;
    size_t len = 0;
    redisReply r[3] = {str("0", 1), str("ab", 2), str("cd", 2)};
    redisReply *el[3] = {&r[0], &r[1], &r[2]};
    /* Count must be total + 1; total at least 2. */
    assert_int_equal(sc__longmo_join(el, 3, 3, &dc, &out, &len), SC_EPROTO);
    assert_int_equal(sc__longmo_join(el, 2, 1, &dc, &out, &len), SC_EPROTO);
    /* A missing part (nil) or a number where a string belongs. */
    redisReply nil;
    memset(&nil, 0, sizeof nil);
    nil.type = REDIS_REPLY_NIL;
    el[2] = &nil;
    assert_int_equal(sc__longmo_join(el, 3, 2, &dc, &out, &len), SC_EPROTO);
    el[2] = &r[2];
    /* data_coding must be a number 0..255. */
    const char *bad[] = {"", "x", "256", "8x", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        redisReply d = str(bad[i], strlen(bad[i]));
        el[0] = &d;
        assert_int_equal(sc__longmo_join(el, 3, 2, &dc, &out, &len), SC_EPROTO);
    }
    /* A part larger than any PDU can carry. */
    static char big[SC_SM_MSG_MAX + 1];
    redisReply b = str(big, sizeof big);
    el[0] = &r[0];
    el[1] = &b;
    assert_int_equal(sc__longmo_join(el, 3, 2, &dc, &out, &len), SC_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_join_refuses_other_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
