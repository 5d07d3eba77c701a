/* test_lease.c -- core/lease.c's pure parts: the owner id, the slot
 * choice, the renewal timeline and the fence after a new Redis server; and
 * its three scripts on a real redis-server (redis_child.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/sc.h"
#include "core/lease.h"
#include "redis_child.h"

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

/* ---- the scripts on a real Redis ---- */

#define K0 "lease:{s@h:1}:0"
#define K1 "lease:{s@h:1}:1"
#define K2 "lease:{s@h:1}:2"

/* EVAL script with the keys and args of argv (strings) on c. */
static redisReply *eval(redisContext *c, const char *script, int nkeys, int argc,
                        const char *const *argv)
{
    const char *v[12] = {"EVAL", script, NULL};
    char nk[8];
    snprintf(nk, sizeof nk, "%d", nkeys);
    v[2] = nk;
    assert_true(argc <= 9);
    for (int i = 0; i < argc; i++)
        v[3 + i] = argv[i];
    redisReply *r = redisCommandArgv(c, 3 + argc, v, NULL);
    assert_non_null(r);
    assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
    return r;
}

/* The take script's answer as "i,j," ("" for none). */
static void take(redisContext *c, const char *owner, const char *need, int nkeys,
                 const char *const *keys, char *out, size_t outsz)
{
    const char *argv[9];
    for (int i = 0; i < nkeys; i++)
        argv[i] = keys[i];
    argv[nkeys] = owner;
    argv[nkeys + 1] = "10000";
    argv[nkeys + 2] = need;
    redisReply *r = eval(c, sc__lease_take_lua, nkeys, nkeys + 3, argv);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    out[0] = '\0';
    for (size_t i = 0; i < r->elements; i++)
        snprintf(out + strlen(out), outsz - strlen(out), "%lld,", r->element[i]->integer);
    freeReplyObject(r);
}

static long long cmd_int(redisContext *c, const char *script, const char *key,
                         const char *owner)
{
    const char *argv[3] = {key, owner, "10000"};
    redisReply *r = eval(c, script, 1, 3, argv);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void test_scripts(void **state)
{
    (void)state;
    int port = free_port();
    pid_t pid = srv_start(port, NULL);
    redisContext *c = redisConnect("127.0.0.1", port);
    assert_true(c && !c->err);
    const char *keys[3] = {K0, K1, K2};
    char got[32];
    /* A takes slot 0, B the next free one; then none is free for C. */
    take(c, "A", "1", 3, keys, got, sizeof got);
    assert_string_equal(got, "0,");
    take(c, "B", "1", 3, keys, got, sizeof got);
    assert_string_equal(got, "1,");
    /* A pair needs two: one free is not enough, and nothing is set. */
    take(c, "C", "2", 3, keys, got, sizeof got);
    assert_string_equal(got, "");
    redisReply *r = redisCommand(c, "EXISTS " K2);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    take(c, "C", "1", 3, keys, got, sizeof got);
    assert_string_equal(got, "2,");
    take(c, "D", "1", 3, keys, got, sizeof got);
    assert_string_equal(got, "");
    /* A take whose reply was lost: the slot still ours comes back first. */
    const char *b_keys[2] = {K0, K1};
    take(c, "B", "1", 2, b_keys, got, sizeof got);
    assert_string_equal(got, "1,");
    /* Renew only one's own; the ttl is set again. */
    freeReplyObject(redisCommand(c, "PEXPIRE " K0 " 50"));
    assert_int_equal(cmd_int(c, sc__lease_renew_lua, K0, "A"), 1);
    r = redisCommand(c, "PTTL " K0);
    assert_true(r->integer > 9000);
    freeReplyObject(r);
    assert_int_equal(cmd_int(c, sc__lease_renew_lua, K0, "B"), 0);
    assert_int_equal(cmd_int(c, sc__lease_renew_lua, "lease:{s@h:1}:9", "A"), 0);
    /* Release only one's own. */
    assert_int_equal(cmd_int(c, sc__lease_release_lua, K1, "A"), 0);
    assert_int_equal(cmd_int(c, sc__lease_release_lua, K1, "B"), 1);
    assert_int_equal(cmd_int(c, sc__lease_release_lua, K1, "B"), 0);
    /* Slot 1 freed: one free slot is still not a pair's two. */
    take(c, "E", "2", 3, keys, got, sizeof got);
    assert_string_equal(got, "");
    assert_int_equal(cmd_int(c, sc__lease_release_lua, K2, "C"), 1);
    take(c, "E", "2", 3, keys, got, sizeof got);
    assert_string_equal(got, "1,2,");
    redisFree(c);
    srv_kill(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_use_from),
        cmocka_unit_test(test_scripts),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
