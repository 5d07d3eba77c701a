/* test_reasm.c -- unit tests for long-MO reassembly (smsc/reasm.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/sc.h"
#include "smsc/reasm.h"

static const struct sc_reasm_limits lim_default = {
    .max_pending = 100, .max_per_source = 10, .max_bytes = 100000, .timeout_ms = 60000,
};

static struct sc_reasm_key key(const char *src, const char *dst, uint16_t ref, uint8_t total)
{
    struct sc_reasm_key k;
    memset(&k, 0x5A, sizeof k);     /* garbage after the NULs must not matter */
    strcpy(k.src, src);
    strcpy(k.dst, dst);
    k.ref = ref;
    k.total = total;
    return k;
}

/* What nmsgs messages from nsources sources holding parts of the given
 * lengths cost, as sc_reasm_bytes counts it. */
static size_t cost(unsigned nmsgs, unsigned nsources, const size_t *lens, size_t nlens)
{
    size_t c = nmsgs * sc_reasm_cost_msg() + nsources * sc_reasm_cost_source();
    for (size_t i = 0; i < nlens; i++)
        c += sc_reasm_cost_part(lens[i]);
    return c;
}
#define COST(m, s, ...) cost((m), (s), (const size_t[]){__VA_ARGS__}, \
                             sizeof((const size_t[]){__VA_ARGS__}) / sizeof(size_t))

/* Add a text part; on completion checks nothing, returns the result. */
static int add(struct sc_reasm *r, const struct sc_reasm_key *k, uint8_t seq, const char *text,
               uint64_t now, char **out)
{
    uint8_t *o = NULL, dc = 0xEE;
    size_t olen = 0;
    int rc = sc_reasm_add(r, k, seq, 8, (const uint8_t *)text, strlen(text), now, &o, &olen, &dc);
    if (rc == SC_REASM_COMPLETE) {
        assert_non_null(o);
        assert_int_equal(dc, 8);
        *out = malloc(olen + 1);
        memcpy(*out, o, olen);
        (*out)[olen] = '\0';
        free(o);
    } else {
        assert_null(o);
    }
    return rc;
}

/* Every order of three parts (and 8-bit vs 16-bit refs, which are only
 * part of the key) gives the text in sequence order. */
static void test_orders(void **state)
{
    (void)state;
    static const uint8_t orders[][3] = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}};
    static const char *text[] = {"", "Hello, ", "long ", "world"};
    static const uint16_t refs[] = {0x00AB, 0xABCD, 0, 0xFFFF};
    for (size_t f = 0; f < SC_ARRAY_LEN(refs); f++) {
        for (size_t o = 0; o < SC_ARRAY_LEN(orders); o++) {
            struct sc_reasm *r = sc_reasm_new(&lim_default);
            assert_non_null(r);
            struct sc_reasm_key k = key("13800138000", "10086", refs[f], 3);
            char *out = NULL;
            assert_int_equal(add(r, &k, orders[o][0], text[orders[o][0]], 1, &out), SC_REASM_PARTIAL);
            assert_int_equal(add(r, &k, orders[o][1], text[orders[o][1]], 2, &out), SC_REASM_PARTIAL);
            assert_int_equal(sc_reasm_pending(r), 1);
            assert_int_equal(sc_reasm_bytes(r), COST(1, 1, strlen(text[orders[o][0]]),
                                                     strlen(text[orders[o][1]])));
            assert_int_equal(add(r, &k, orders[o][2], text[orders[o][2]], 3, &out), SC_REASM_COMPLETE);
            assert_string_equal(out, "Hello, long world");
            free(out);
            assert_int_equal(sc_reasm_pending(r), 0);
            assert_int_equal(sc_reasm_bytes(r), 0);
            sc_reasm_free(r);
        }
    }
}

static void test_duplicates(void **state)
{
    (void)state;
    struct sc_reasm *r = sc_reasm_new(&lim_default);
    struct sc_reasm_key k = key("1", "2", 7, 2);
    char *out = NULL;
    assert_int_equal(add(r, &k, 2, "B", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &k, 2, "XXXXX", 0, &out), SC_REASM_PARTIAL);   /* ignored */
    assert_int_equal(sc_reasm_bytes(r), COST(1, 1, 1));
    assert_int_equal(add(r, &k, 1, "A", 0, &out), SC_REASM_COMPLETE);
    assert_string_equal(out, "AB");
    free(out);
    /* The same reference again later starts a new message. */
    assert_int_equal(add(r, &k, 1, "C", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_pending(r), 1);
    sc_reasm_free(r);
}

/* Keys differing in any one field never mix. */
static void test_keys_separate(void **state)
{
    (void)state;
    struct sc_reasm *r = sc_reasm_new(&lim_default);
    struct sc_reasm_key ks[] = {
        key("13800138000", "10086", 5, 2), key("13800138001", "10086", 5, 2),
        key("13800138000", "10010", 5, 2), key("13800138000", "10086", 6, 2),
        key("13800138000", "10086", 5, 3), key("13800138000", "10086", 0x0105, 2),
    };
    char *out = NULL;
    for (size_t i = 0; i < SC_ARRAY_LEN(ks); i++)
        assert_int_equal(add(r, &ks[i], 1, "first-", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_pending(r), SC_ARRAY_LEN(ks));
    for (size_t i = 0; i < SC_ARRAY_LEN(ks); i++) {
        char second[16];
        snprintf(second, sizeof second, "%zu", i);
        int rc = add(r, &ks[i], 2, second, 0, &out);
        if (ks[i].total == 2) {
            assert_int_equal(rc, SC_REASM_COMPLETE);
            char want[32];
            snprintf(want, sizeof want, "first-%zu", i);
            assert_string_equal(out, want);
            free(out);
        } else {
            assert_int_equal(rc, SC_REASM_PARTIAL);
        }
    }
    assert_int_equal(sc_reasm_pending(r), 1);
    sc_reasm_free(r);
}

struct expired {
    unsigned calls;
    char src[SC_ADDR_MAX];
    uint16_t ref;
    unsigned have;
};

static void on_expired(void *arg, const struct sc_reasm_key *k, unsigned have)
{
    struct expired *e = arg;
    e->calls++;
    strcpy(e->src, k->src);
    e->ref = k->ref;
    e->have = have;
}

static void test_expire(void **state)
{
    (void)state;
    struct sc_reasm_limits lim = lim_default;
    lim.timeout_ms = 1000;
    struct sc_reasm *r = sc_reasm_new(&lim);
    struct sc_reasm_key a = key("111", "10086", 1, 3), b = key("222", "10086", 2, 2);
    char *out = NULL;
    assert_int_equal(add(r, &a, 1, "a1", 10000, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &a, 3, "a3", 10500, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &b, 2, "b2", 10400, &out), SC_REASM_PARTIAL);
    struct expired e = {0, "", 0, 0};
    assert_int_equal(sc_reasm_expire(r, 10999, on_expired, &e), 0);
    assert_int_equal(e.calls, 0);
    /* a's first part came exactly timeout_ms ago: dropped, with both parts. */
    assert_int_equal(sc_reasm_expire(r, 11000, on_expired, &e), 1);
    assert_int_equal(e.calls, 1);
    assert_string_equal(e.src, "111");
    assert_int_equal(e.ref, 1);
    assert_int_equal(e.have, 2);
    assert_int_equal(sc_reasm_pending(r), 1);
    assert_int_equal(sc_reasm_bytes(r), COST(1, 1, 2));
    /* The missing part of a now starts a new message. */
    assert_int_equal(add(r, &a, 2, "a2", 11001, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_expire(r, 1000000, NULL, NULL), 2);
    assert_int_equal(sc_reasm_pending(r), 0);
    assert_int_equal(sc_reasm_bytes(r), 0);
    /* After expiry the per-source slots are free again. */
    for (unsigned i = 0; i < lim.max_per_source; i++) {
        struct sc_reasm_key k = key("111", "10086", (uint16_t)i, 2);
        assert_int_equal(add(r, &k, 1, "x", 2000000, &out), SC_REASM_PARTIAL);
    }
    sc_reasm_free(r);
}

static void test_limits(void **state)
{
    (void)state;
    struct sc_reasm_limits lim = {.max_pending = 5, .max_per_source = 2, .max_bytes = 100000,
                                  .timeout_ms = 1000};
    struct sc_reasm *r = sc_reasm_new(&lim);
    char *out = NULL;
    uint8_t *o = NULL, dc;
    size_t olen;

    /* Per source: the third message of one source is refused, nothing stored. */
    struct sc_reasm_key s1 = key("111", "10086", 1, 2), s2 = key("111", "10086", 2, 2),
                        s3 = key("111", "10086", 3, 2);
    assert_int_equal(add(r, &s1, 1, "a", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &s2, 1, "b", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &s3, 1, "c", 0, &out), SC_EBUSY);
    assert_int_equal(sc_reasm_pending(r), 2);
    assert_int_equal(sc_reasm_bytes(r), COST(2, 1, 1, 1));
    /* Completing one frees a slot. */
    assert_int_equal(add(r, &s1, 2, "A", 0, &out), SC_REASM_COMPLETE);
    free(out);
    assert_int_equal(add(r, &s3, 1, "c", 0, &out), SC_REASM_PARTIAL);

    /* In total: 5 pending at most. */
    struct sc_reasm_key t1 = key("222", "10086", 1, 3), t2 = key("333", "10086", 1, 3),
                        t3 = key("444", "10086", 1, 3), t4 = key("555", "10086", 1, 3);
    assert_int_equal(add(r, &t1, 1, "d", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &t2, 1, "e", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &t3, 1, "f", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_pending(r), 5);
    assert_int_equal(add(r, &t4, 1, "g", 0, &out), SC_EBUSY);
    assert_int_equal(sc_reasm_pending(r), 5);
    assert_int_equal(sc_reasm_bytes(r), COST(5, 4, 1, 1, 1, 1, 1));
    sc_reasm_free(r);

    /* Memory: exactly max_bytes is fine, a byte more is refused, on an
     * existing message as on a new one; records count, not only text. */
    size_t one = COST(1, 1, 10);
    lim.max_bytes = one + sc_reasm_cost_part(40);
    r = sc_reasm_new(&lim);
    char big[64];
    memset(big, 'z', sizeof big);
    big[10] = '\0';
    assert_int_equal(add(r, &t1, 1, big, 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_bytes(r), one);
    size_t over = 41; /* the shortest part that costs more than a 40-byte one */
    while (sc_reasm_cost_part(over) == sc_reasm_cost_part(40))
        over++;
    assert_true(over < sizeof big);
    memset(big, 'z', sizeof big);
    big[over] = '\0';
    assert_int_equal(add(r, &t1, 2, big, 0, &out), SC_EBUSY);
    assert_int_equal(sc_reasm_bytes(r), one);
    big[40] = '\0';
    assert_int_equal(add(r, &t1, 2, big, 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_bytes(r), lim.max_bytes);
    assert_int_equal(add(r, &t2, 1, "q", 0, &out), SC_EBUSY);   /* a new message */
    /* The last part completes even when the parts already fill max_bytes. */
    assert_int_equal(add(r, &t1, 3, "end", 0, &out), SC_REASM_COMPLETE);
    assert_int_equal(strlen(out), 10 + 40 + 3);
    free(out);
    assert_int_equal(sc_reasm_bytes(r), 0);
    /* A max_bytes below one message's records refuses every first part. */
    lim.max_bytes = sc_reasm_cost_msg();
    sc_reasm_free(r);
    r = sc_reasm_new(&lim);
    assert_int_equal(add(r, &t1, 1, "", 0, &out), SC_EBUSY);
    sc_reasm_free(r);

    /* max_per_source 0 refuses everything. */
    struct sc_reasm_limits none = lim;
    none.max_per_source = 0;
    none.max_bytes = 100000;
    struct sc_reasm *z = sc_reasm_new(&none);
    assert_int_equal(sc_reasm_add(z, &t4, 1, 0, (const uint8_t *)"x", 1, 0, &o, &olen, &dc), SC_EBUSY);
    assert_int_equal(sc_reasm_pending(z), 0);
    sc_reasm_free(z);
}

/* A pending message costs what it holds: one 10-byte part of a message of
 * 255 parts is a few hundred bytes, not an array for 255 parts. */
static void test_cost_follows_parts(void **state)
{
    (void)state;
    struct sc_reasm *r = sc_reasm_new(&lim_default);
    char *out = NULL;
    struct sc_reasm_key k = key("13800138000", "10086", 9, 255);
    assert_int_equal(add(r, &k, 200, "0123456789", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_bytes(r), COST(1, 1, 10));
    assert_true(sc_reasm_bytes(r) < 512);
    /* Parts out of order and a gap: still in order on completion. */
    struct sc_reasm_key k3 = key("13800138000", "10086", 10, 4);
    assert_int_equal(add(r, &k3, 4, "d", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &k3, 2, "b", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &k3, 1, "a", 0, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &k3, 2, "X", 0, &out), SC_REASM_PARTIAL); /* duplicate */
    assert_int_equal(sc_reasm_bytes(r), COST(2, 1, 10, 1, 1, 1));
    assert_int_equal(add(r, &k3, 3, "c", 0, &out), SC_REASM_COMPLETE);
    assert_string_equal(out, "abcd");
    free(out);
    assert_int_equal(sc_reasm_bytes(r), COST(1, 1, 10));
    sc_reasm_free(r);
}

static void test_invalid(void **state)
{
    (void)state;
    struct sc_reasm *r = sc_reasm_new(&lim_default);
    uint8_t *o = NULL, dc;
    size_t olen;
    struct sc_reasm_key k = key("111", "10086", 1, 3);
    const uint8_t *d = (const uint8_t *)"xy";
    assert_int_equal(sc_reasm_add(r, &k, 0, 0, d, 2, 0, &o, &olen, &dc), SC_EINVAL);
    assert_int_equal(sc_reasm_add(r, &k, 4, 0, d, 2, 0, &o, &olen, &dc), SC_EINVAL);
    struct sc_reasm_key one = key("111", "10086", 1, 1), zero = key("111", "10086", 1, 0);
    assert_int_equal(sc_reasm_add(r, &one, 1, 0, d, 2, 0, &o, &olen, &dc), SC_EINVAL);
    assert_int_equal(sc_reasm_add(r, &zero, 1, 0, d, 2, 0, &o, &olen, &dc), SC_EINVAL);
    struct sc_reasm_key bad = k;
    memset(bad.src, '1', sizeof bad.src);   /* no NUL */
    assert_int_equal(sc_reasm_add(r, &bad, 1, 0, d, 2, 0, &o, &olen, &dc), SC_EINVAL);
    assert_int_equal(sc_reasm_pending(r), 0);
    /* data_coding must match the parts before; the mismatching part is not stored. */
    assert_int_equal(sc_reasm_add(r, &k, 1, 8, d, 2, 0, &o, &olen, &dc), SC_REASM_PARTIAL);
    assert_int_equal(sc_reasm_add(r, &k, 2, 0, d, 2, 0, &o, &olen, &dc), SC_EINVAL);
    assert_int_equal(sc_reasm_bytes(r), COST(1, 1, 2));
    assert_int_equal(sc_reasm_add(r, &k, 2, 8, d, 2, 0, &o, &olen, &dc), SC_REASM_PARTIAL);
    /* Empty parts are parts. */
    assert_int_equal(sc_reasm_add(r, &k, 3, 8, NULL, 0, 0, &o, &olen, &dc), SC_REASM_COMPLETE);
    assert_int_equal(olen, 4);
    assert_memory_equal(o, "xyxy", 4);
    assert_int_equal(dc, 8);
    free(o);
    sc_reasm_free(r);
    sc_reasm_free(NULL);
}

/* Many sources and messages (table growth), then free with parts pending:
 * ASan's leak check covers sc_reasm_free. */
static void test_many_and_free(void **state)
{
    (void)state;
    struct sc_reasm_limits lim = {.max_pending = 20000, .max_per_source = 3, .max_bytes = 1 << 24,
                                  .timeout_ms = 1000};
    struct sc_reasm *r = sc_reasm_new(&lim);
    char *out = NULL;
    for (unsigned i = 0; i < 5000; i++) {
        char src[SC_ADDR_MAX];
        snprintf(src, sizeof src, "1380000%04u", i);
        for (uint16_t ref = 0; ref < 3; ref++) {
            struct sc_reasm_key k = key(src, "10086", ref, 255);
            assert_int_equal(add(r, &k, 1, "part one", i, &out), SC_REASM_PARTIAL);
            assert_int_equal(add(r, &k, 255, "last", i, &out), SC_REASM_PARTIAL);
        }
        struct sc_reasm_key k4 = key(src, "10086", 4, 2);
        assert_int_equal(add(r, &k4, 1, "x", i, &out), SC_EBUSY);
    }
    assert_int_equal(sc_reasm_pending(r), 15000);
    /* Complete one message in the middle: the others stay. */
    struct sc_reasm_key k = key("13800002500", "10086", 1, 255);
    for (unsigned s = 2; s < 254; s++)
        assert_int_equal(add(r, &k, (uint8_t)s, "", 2500, &out), SC_REASM_PARTIAL);
    assert_int_equal(add(r, &k, 254, "-", 2500, &out), SC_REASM_COMPLETE);
    assert_string_equal(out, "part one-last");
    free(out);
    assert_int_equal(sc_reasm_pending(r), 14999);
    /* A late duplicate of a completed message starts a new one. */
    assert_int_equal(add(r, &k, 255, "dup", 2500, &out), SC_REASM_PARTIAL);
    /* Expire the first 1000 sources' messages. */
    assert_int_equal(sc_reasm_expire(r, 1999, NULL, NULL), 3000);
    assert_int_equal(sc_reasm_pending(r), 12000);
    sc_reasm_free(r);
}

/* Resident memory of this process, from /proc/self/statm. */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size = 0, resident = 0;
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Issue 8 item 8: what pending messages cost in memory is what max_bytes
 * bounds. First parts (10 bytes) of 20,000 messages of 255 parts from as
 * many sources, max_bytes 2 MiB: the RSS may grow by max_bytes and the hash
 * tables, not by 6 KB per message (before: 20,000 x 6.2 KB = 124 MB); after
 * the expiry it comes back. */
static void test_memory_bounded(void **state)
{
    (void)state;
#ifdef UNDER_ASAN
    skip(); /* ASan's allocator (redzones, quarantine) is not glibc's */
#endif
    const size_t max_bytes = 2u << 20;
    struct sc_reasm_limits lim = {.max_pending = 1000000, .max_per_source = 8,
                                  .max_bytes = max_bytes, .timeout_ms = 1000};
    struct sc_reasm *r = sc_reasm_new(&lim);
    assert_non_null(r);
    size_t before = rss_bytes();
    unsigned stored = 0, busy = 0;
    for (unsigned i = 0; i < 20000; i++) {
        char src[SC_ADDR_MAX], *out = NULL;
        snprintf(src, sizeof src, "138%08u", i);
        struct sc_reasm_key k = key(src, "10086", 7, 255);
        int rc = add(r, &k, 1, "0123456789", 0, &out);
        assert_true(rc == SC_REASM_PARTIAL || rc == SC_EBUSY);
        stored += rc == SC_REASM_PARTIAL;
        busy += rc == SC_EBUSY;
    }
    size_t held = rss_bytes();
    assert_true(sc_reasm_bytes(r) <= max_bytes);
    print_message("reasm: %u stored, %u refused, counted %zu bytes, RSS %zu -> %zu KiB\n", stored,
                  busy, sc_reasm_bytes(r), before >> 10, held >> 10);
    assert_true(held <= before + max_bytes + (1u << 20));
    assert_int_equal(sc_reasm_expire(r, 1000, NULL, NULL), stored);
    size_t after = rss_bytes();
    print_message("reasm: after expiry RSS %zu KiB\n", after >> 10);
    assert_true(after <= before + (512u << 10));
    sc_reasm_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: its RSS baseline must not include what other tests freed. */
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_keys_separate),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_cost_follows_parts),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_many_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
