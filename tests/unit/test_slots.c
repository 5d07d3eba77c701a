/* test_slots.c -- store/slots.c: CRC16 and hash tags against the Redis cluster
 * specification's examples, key positions, CLUSTER SLOTS parsing, redirect
 * parsing and the redirect state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "base/sc.h"
#include "base/url.h"
#include "store/slots.h"

static void test_crc16_vector(void **state)
{
    (void)state;
    /* The specification's test vector. */
    assert_int_equal(sc_crc16("123456789", 9), 0x31C3);
    assert_int_equal(sc_crc16("", 0), 0);
    /* Slots redis-cli's CLUSTER KEYSLOT gives. */
    assert_int_equal(sc_key_slot("foo", 3), 12182);
    assert_int_equal(sc_key_slot("bar", 3), 5061);
}

static void tag_is(const char *key, const char *want)
{
    size_t off, n;
    sc_hash_tag(key, strlen(key), &off, &n);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(key + off, want, n);
}

static void test_hash_tags(void **state)
{
    (void)state;
    /* The specification's examples. */
    tag_is("{user1000}.following", "user1000");
    tag_is("{user1000}.followers", "user1000");
    tag_is("foo{}{bar}", "foo{}{bar}");
    tag_is("foo{{bar}}zap", "{bar");
    tag_is("foo{bar}{zap}", "bar");
    tag_is("nobraces", "nobraces");
    tag_is("open{only", "open{only");
    tag_is("}{x}", "x");
    /* Keys of one subscriber share a slot. */
    unsigned s = sc_key_slot("sub:{13800000003}:vas", 21);
    assert_int_equal(sc_key_slot("audit:{13800000003}", 19), s);
    assert_int_equal(sc_key_slot("13800000003", 11), s);
}

static int key_of(int argc, const char *const *argv)
{
    return sc_cmd_key_index(argc, argv, NULL);
}

static void test_key_index(void **state)
{
    (void)state;
    const char *hget[] = {"HGETALL", "vas:svc:CL001"};
    assert_int_equal(key_of(2, hget), 1);
    const char *ping[] = {"PING"};
    assert_int_equal(key_of(1, ping), -1);
    const char *dbsize[] = {"dbsize"};
    assert_int_equal(key_of(1, dbsize), -1);
    const char *xg[] = {"XGROUP", "CREATE", "vas:orders", "shortcoded", "0", "MKSTREAM"};
    assert_int_equal(key_of(6, xg), 2);
    const char *xr[] = {"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "BLOCK", "0",
                        "STREAMS", "mt:push", ">"};
    assert_int_equal(key_of(11, xr), 9);
    const char *xbad[] = {"XREAD", "COUNT", "1"};
    assert_int_equal(key_of(3, xbad), -1);
    const char *ev[] = {"EVAL", "return 1", "1", "k"};
    assert_int_equal(key_of(4, ev), 3);
    const char *ev0[] = {"EVAL", "return 1", "0"};
    assert_int_equal(key_of(3, ev0), -1);
    const char *xack[] = {"XACK", "mt:push", "shortcoded", "1-0"};
    assert_int_equal(key_of(4, xack), 1);
}

/* ---- CLUSTER SLOTS, built with hiredis' own reader --------------------- */

static redisReply *parse_resp(const char *text)
{
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(rd, text, strlen(text)), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    assert_non_null(reply);
    redisReaderFree(rd);
    return reply;
}

static void test_slots_parse(void **state)
{
    (void)state;
    redisReply *r = parse_resp(
        "*2\r\n"
        "*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nid-a\r\n"
        "*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$4\r\nid-d\r\n"
        "*3\r\n:5461\r\n:16383\r\n*3\r\n$0\r\n\r\n:7001\r\n$4\r\nid-b\r\n");
    struct sc_slot_range rg[4];
    assert_int_equal(sc_slots_parse(r, "10.0.0.9", rg, 4), 2);
    assert_int_equal(rg[0].start, 0);
    assert_int_equal(rg[0].end, 5460);
    assert_string_equal(rg[0].host, "127.0.0.1");
    assert_int_equal(rg[0].port, 7000);
    assert_int_equal(rg[1].start, 5461);
    assert_int_equal(rg[1].end, 16383);
    assert_string_equal(rg[1].host, "10.0.0.9"); /* empty endpoint: the node asked */
    assert_int_equal(rg[1].port, 7001);
    freeReplyObject(r);

    /* Not a slot table. */
    r = parse_resp("-ERR This instance has cluster support disabled\r\n");
    assert_int_equal(sc_slots_parse(r, "h", rg, 4), SC_EPROTO);
    freeReplyObject(r);
    r = parse_resp("*1\r\n*3\r\n:5\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n");
    assert_int_equal(sc_slots_parse(r, "h", rg, 4), SC_EPROTO); /* slot out of range */
    freeReplyObject(r);
    r = parse_resp("*1\r\n*3\r\n:9\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n");
    assert_int_equal(sc_slots_parse(r, "h", rg, 4), SC_EPROTO); /* end before start */
    freeReplyObject(r);
    r = parse_resp("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n:0\r\n");
    assert_int_equal(sc_slots_parse(r, "h", rg, 4), SC_EPROTO); /* port 0 */
    freeReplyObject(r);
}

static enum sc_redirect_kind redir(const char *s, struct sc_redirect *o)
{
    return sc_redirect_parse(s, strlen(s), o);
}

static void test_redirect_parse(void **state)
{
    (void)state;
    struct sc_redirect o;
    assert_int_equal(redir("MOVED 3999 127.0.0.1:6381", &o), SC_REDIR_MOVED);
    assert_int_equal(o.slot, 3999);
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 6381);
    assert_int_equal(redir("ASK 16383 [::1]:7002", &o), SC_REDIR_ASK);
    assert_int_equal(o.slot, 16383);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 7002);
    assert_int_equal(redir("MOVED 12 :7005", &o), SC_REDIR_MOVED);
    assert_string_equal(o.host, "");
    assert_int_equal(o.port, 7005);
    assert_int_equal(redir("TRYAGAIN Multiple keys request during rehashing of slot", &o),
                     SC_REDIR_TRYAGAIN);
    assert_int_equal(redir("CLUSTERDOWN The cluster is down", &o), SC_REDIR_CLUSTERDOWN);
    /* Malformed or other errors: the caller's. */
    assert_int_equal(redir("MOVED 16384 h:1", &o), SC_REDIR_NONE);
    assert_int_equal(redir("MOVED 1 h:0", &o), SC_REDIR_NONE);
    assert_int_equal(redir("MOVED 1 h:65536", &o), SC_REDIR_NONE);
    assert_int_equal(redir("MOVED 1 nocolon", &o), SC_REDIR_NONE);
    assert_int_equal(redir("MOVED", &o), SC_REDIR_NONE);
    assert_int_equal(redir("MOVEDX 1 h:1", &o), SC_REDIR_NONE);
    assert_int_equal(redir("ASKING", &o), SC_REDIR_NONE);
    assert_int_equal(redir("CROSSSLOT Keys in request don't hash to the same slot", &o),
                     SC_REDIR_NONE);
    assert_int_equal(redir("NOSCRIPT No matching script", &o), SC_REDIR_NONE);
    char longhost[200];
    memset(longhost, 'a', sizeof longhost);
    memcpy(longhost, "MOVED 1 ", 8);
    memcpy(longhost + sizeof longhost - 6, ":6379", 6);
    assert_int_equal(redir(longhost, &o), SC_REDIR_NONE); /* host too long */
}

static void test_route_decide(void **state)
{
    (void)state;
    assert_int_equal(sc_route_decide(SC_REDIR_NONE, 0), SC_ROUTE_DELIVER);
    assert_int_equal(sc_route_decide(SC_REDIR_MOVED, 0), SC_ROUTE_MOVED);
    assert_int_equal(sc_route_decide(SC_REDIR_ASK, 0), SC_ROUTE_ASK);
    assert_int_equal(sc_route_decide(SC_REDIR_MOVED, SC_MAX_REDIRECTS - 1), SC_ROUTE_MOVED);
    /* Bounded: a ping-pong between two nodes ends as a temporary error. */
    assert_int_equal(sc_route_decide(SC_REDIR_MOVED, SC_MAX_REDIRECTS), SC_ROUTE_TEMP);
    assert_int_equal(sc_route_decide(SC_REDIR_ASK, SC_MAX_REDIRECTS), SC_ROUTE_TEMP);
    assert_int_equal(sc_route_decide(SC_REDIR_TRYAGAIN, 0), SC_ROUTE_TEMP);
    assert_int_equal(sc_route_decide(SC_REDIR_CLUSTERDOWN, 0), SC_ROUTE_TEMP);
}

/* redis.url with several seeds (base/url.c). */
static void test_url_seeds(void **state)
{
    (void)state;
    struct sc_redis_url u = {0};
    char err[160];
    assert_int_equal(sc_redis_url_parse("redis://:pw@h1:7000,127.0.0.1:7001,[::1]:7002,h4",
                                        &u, err, sizeof err), 0);
    assert_int_equal(u.nseeds, 4);
    assert_string_equal(u.host, "h1");
    assert_int_equal(u.port, 7000);
    assert_string_equal(u.seeds[1].host, "127.0.0.1");
    assert_int_equal(u.seeds[1].port, 7001);
    assert_string_equal(u.seeds[2].host, "::1");
    assert_string_equal(u.seeds[3].host, "h4");
    assert_int_equal(u.seeds[3].port, 6379);
    assert_string_equal(u.pass, "pw");
    sc_redis_url_free(&u);
    struct sc_redis_url v = {0};
    assert_int_equal(sc_redis_url_parse("redis://h1:7000,h2:7001/0", &v, err, sizeof err), 0);
    assert_int_equal(v.nseeds, 2);
    sc_redis_url_free(&v);
    static const char *const bad[] = {"redis://h1:7000,h2:7001/3", "redis://h1,", "redis://,h1",
                                      "redis://h1:0,h2", "redis://a,b,c,d,e,f,g,h,i"};
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        struct sc_redis_url w = {0};
        assert_int_equal(sc_redis_url_parse(bad[i], &w, err, sizeof err), SC_ECONFIG);
        sc_redis_url_free(&w);
    }
    struct sc_redis_url w = {0};
    sc_redis_url_parse("redis://h1:7000,h2:7001/3", &w, err, sizeof err);
    assert_non_null(strstr(err, "only db 0"));
    sc_redis_url_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_vector), cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_key_index),    cmocka_unit_test(test_slots_parse),
        cmocka_unit_test(test_redirect_parse), cmocka_unit_test(test_route_decide),
        cmocka_unit_test(test_url_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
