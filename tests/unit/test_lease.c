/* test_lease.c -- core/lease.c's pure parts: the owner id, the slot
 * choice, the renewal timeline and the fence after a new Redis server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/sc.h"
#include "core/lease.h"

static void test_owner(void **state)
{
    (void)state;
    char b[SC_LEASE_OWNER_MAX];
    assert_int_equal(sc_lease_owner(b, sizeof b, "gw1", 4242, 0xabcdefULL), 25);
    assert_string_equal(b, "gw1:4242:0000000000abcdef");
    /* Hostile host names: cut to 64 bytes, unsafe characters replaced. */
    char host[300];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    host[3] = ' ';
    host[4] = '{';
    int n = sc_lease_owner(b, sizeof b, host, 1, 1);
    assert_true(n > 0 && (size_t)n < sizeof b);
    assert_int_equal(strchr(b, ':') - b, 64);
    assert_memory_equal(b, "hhh__h", 6);
    assert_int_equal(sc_lease_owner(b, sizeof b, "", 7, 2), 23);
    assert_string_equal(b, "host:7:0000000000000002");
    assert_int_equal(sc_lease_owner(b, 10, "gw1", 4242, 1), SC_ERANGE);
    /* Different random parts: different owners on one host and pid. */
    char c[SC_LEASE_OWNER_MAX];
    sc_lease_owner(b, sizeof b, "gw1", 9, 1);
    sc_lease_owner(c, sizeof c, "gw1", 9, 2);
    assert_string_not_equal(b, c);
}

static void test_candidates(void **state)
{
    (void)state;
    unsigned out[64];
    assert_int_equal(sc_lease_candidates(3, 0, out), 3);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[2], 2);
    /* Slots held by our other links are not tried again. */
    assert_int_equal(sc_lease_candidates(3, 0x5, out), 1);
    assert_int_equal(out[0], 1);
    assert_int_equal(sc_lease_candidates(2, 0x3, out), 0);
    /* Bits beyond n are ignored; n is bounded by 64. */
    assert_int_equal(sc_lease_candidates(2, 0xfc, out), 2);
    assert_int_equal(sc_lease_candidates(64, ~0ULL >> 1, out), 1);
    assert_int_equal(out[0], 63);
    assert_int_equal(sc_lease_candidates(100, 0, out), 64);
    assert_int_equal(sc_lease_candidates(0, 0, out), 0);
}

static void test_times(void **state)
{
    (void)state;
    struct sc_lease_times t = sc_lease_times(1000, 15000);
    assert_int_equal(t.renew_at, 1000 + 5000);
    assert_int_equal(t.unbind_at, 1000 + 11250);
    assert_int_equal(t.close_by, 1000 + 13500);
    /* Order: two renewals fit before the unbind; the close comes before
     * the ttl (counted from the send, so before Redis' expiry too). */
    for (uint64_t ttl = 1000; ttl <= 600000; ttl += 997) {
        t = sc_lease_times(0, ttl);
        assert_true(2 * t.renew_at < t.unbind_at);
        assert_true(t.unbind_at < t.close_by);
        assert_true(t.close_by < ttl);
        assert_true(ttl - t.close_by >= ttl / 10);
    }
}

static void test_use_from(void **state)
{
    (void)state;
    /* Connected long ago: at once. */
    assert_int_equal(sc_lease_use_from(50000, 1000, 15000), 50000);
    /* A new server 2 s ago: ttl after it came. */
    assert_int_equal(sc_lease_use_from(3000, 1000, 15000), 16000);
    assert_int_equal(sc_lease_use_from(16000, 1000, 15000), 16000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_use_from),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
