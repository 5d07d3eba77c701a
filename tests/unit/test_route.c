/* test_route.c -- shortcodectl on a Redis Cluster, the parts without I/O:
 * the seeds of a URL as the tool keeps them (tools/shortcodectl/redis.c)
 * and the routing queue (route.c): replies handed back in the order the
 * commands were appended, whatever order the nodes answer in and wherever
 * a redirect resends a command. The tool is not in libsc, so its sources
 * are included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/sc.h"
#include "tools/shortcodectl/check.c"
#include "tools/shortcodectl/cluster.c"
#include "tools/shortcodectl/redis.c"
#include "tools/shortcodectl/route.c"

static void test_url_seeds_kept(void **state)
{
    (void)state;
    struct ctl_redis r = {0};
    char err[256];
    assert_int_equal(ctl_redis_parse_url(&r, "redis://:pw@10.0.0.1:7000,10.0.0.2,[::1]:7002",
                                         err, sizeof err), 0);
    assert_int_equal(r.nseeds, 3);
    assert_string_equal(r.seeds[0].host, "10.0.0.1");
    assert_int_equal(r.seeds[0].port, 7000);
    assert_string_equal(r.seeds[1].host, "10.0.0.2");
    assert_int_equal(r.seeds[1].port, 6379);
    assert_string_equal(r.seeds[2].host, "::1");
    assert_int_equal(r.seeds[2].port, 7002);
    assert_string_equal(r.where, "10.0.0.1:7000");   /* the first until one answers */
    assert_string_equal(r.pass, "pw");
    ctl_redis_close(&r);

    struct ctl_redis one = {0};
    assert_int_equal(ctl_redis_parse_url(&one, "redis://h:1/3", err, sizeof err), 0);
    assert_int_equal(one.nseeds, 1);
    assert_int_equal(one.db, 3);
    ctl_redis_close(&one);

    /* A cluster has only db 0: /db with several seeds is refused, and the
     * message does not quote the URL (it may hold a password). */
    struct ctl_redis bad = {0};
    assert_int_equal(ctl_redis_parse_url(&bad, "redis://:secret@a,b/2", err, sizeof err), -1);
    assert_non_null(strstr(err, "db"));
    assert_null(strstr(err, "secret"));
    ctl_redis_close(&bad);

    struct ctl_redis many = {0};
    assert_int_equal(ctl_redis_parse_url(&many, "redis://a,b,c,d,e,f,g,h,i", err, sizeof err),
                     -1);
    ctl_redis_close(&many);
}

static int g_freed;

static void count_free(void *p)
{
    g_freed++;
    free(p);
}

static char *dup_s(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

/* The reply a node sends for seq: its command text, as a test stands in. */
static void answer(struct ctl_route *q, int node, const char *want_cmd)
{
    unsigned long s = ctl_route_take(q, node);
    assert_int_not_equal(s, CTL_ROUTE_NONE);
    struct ctl_route_ent *e = ctl_route_at(q, s);
    assert_string_equal(e->cmd, want_cmd);
    e->reply = dup_s(e->cmd);
}

static void pop_is(struct ctl_route *q, const char *want)
{
    char *rep = ctl_route_pop(q);
    assert_non_null(rep);
    assert_string_equal(rep, want);
    free(rep);
}

static void test_replies_in_append_order(void **state)
{
    (void)state;
    struct ctl_route q;
    ctl_route_init(&q, count_free);
    ctl_route_add(&q, 0, 0, dup_s("a"), 1);
    ctl_route_add(&q, 1, 0, dup_s("b"), 1);
    ctl_route_add(&q, 0, 0, dup_s("c"), 1);
    ctl_route_add(&q, 2, 0, dup_s("d"), 1);
    assert_int_equal(ctl_route_pending(&q), 4);
    /* Node 2 answers first, then 0 (its two in its order), then 1. */
    answer(&q, 2, "d");
    assert_int_equal(ctl_route_take(&q, 2), CTL_ROUTE_NONE);
    answer(&q, 0, "a");
    answer(&q, 0, "c");
    assert_int_equal(ctl_route_head(&q), 0);
    pop_is(&q, "a");
    assert_int_equal(ctl_route_head(&q), 1);
    assert_null(ctl_route_at(&q, 1)->reply);   /* b still owed by node 1 */
    answer(&q, 1, "b");
    pop_is(&q, "b");
    pop_is(&q, "c");
    pop_is(&q, "d");
    assert_int_equal(ctl_route_head(&q), CTL_ROUTE_NONE);
    assert_int_equal(ctl_route_pending(&q), 0);
    ctl_route_free(&q);
}

/* MOVED: b is resent to node 1, behind c that node 1 already owes; ASK:
 * an internal ASKING before the command, never handed back. */
static void test_resent_keeps_its_place(void **state)
{
    (void)state;
    struct ctl_route q;
    ctl_route_init(&q, count_free);
    g_freed = 0;
    unsigned long a = ctl_route_add(&q, 0, 0, dup_s("a"), 1);
    unsigned long b = ctl_route_add(&q, 0, 0, dup_s("b"), 1);
    ctl_route_add(&q, 1, 0, dup_s("c"), 1);
    answer(&q, 0, "a");
    assert_int_equal(ctl_route_take(&q, 0), b);        /* -MOVED for b */
    assert_int_equal(ctl_route_send(&q, b, 1), 0);
    assert_int_equal(ctl_route_at(&q, b)->node, 1);
    answer(&q, 1, "c");                                /* node 1 owed c first */
    answer(&q, 1, "b");
    pop_is(&q, "a");
    pop_is(&q, "b");
    pop_is(&q, "c");
    (void)a;

    unsigned long d = ctl_route_add(&q, 0, 0, dup_s("d"), 1);
    assert_int_equal(ctl_route_take(&q, 0), d);        /* -ASK 2 */
    ctl_route_add(&q, 2, 1, dup_s("ASKING"), 6);
    ctl_route_send(&q, d, 2);
    unsigned long e = ctl_route_add(&q, 1, 0, dup_s("e"), 1);
    answer(&q, 2, "ASKING");
    answer(&q, 2, "d");
    answer(&q, 1, "e");
    assert_int_equal(ctl_route_head(&q), d);
    pop_is(&q, "d");
    assert_int_equal(ctl_route_head(&q), e);           /* ASKING is skipped ... */
    pop_is(&q, "e");
    assert_int_equal(g_freed, 1);                      /* ... and its reply dropped */
    ctl_route_free(&q);
}

/* Thousands in flight with a sliding window: the array is compacted and
 * grown, seqs stay valid, order holds. */
static void test_sliding_window(void **state)
{
    (void)state;
    struct ctl_route q;
    ctl_route_init(&q, count_free);
    unsigned long next_pop = 0, added = 0;
    char want[16];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 300; i++) {
            char c[16];
            snprintf(c, sizeof c, "%lu", added++);
            ctl_route_add(&q, (int)(added % 3), 0, dup_s(c), strlen(c));
        }
        for (int n = 2; n >= 0; n--)   /* every node answers all it owes */
            for (unsigned long s; (s = ctl_route_take(&q, n)) != CTL_ROUTE_NONE;)
                ctl_route_at(&q, s)->reply = dup_s(ctl_route_at(&q, s)->cmd);
        for (int i = 0; i < 200; i++) {   /* 100 stay pending each round */
            snprintf(want, sizeof want, "%lu", next_pop++);
            pop_is(&q, want);
        }
    }
    assert_int_equal(ctl_route_pending(&q), 50 * 100);
    assert_true(q.cap < 4 * 50 * 100);
    while (ctl_route_head(&q) != CTL_ROUTE_NONE) {
        snprintf(want, sizeof want, "%lu", next_pop++);
        pop_is(&q, want);
    }
    assert_int_equal(next_pop, added);
    ctl_route_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_seeds_kept),
        cmocka_unit_test(test_replies_in_append_order),
        cmocka_unit_test(test_resent_keeps_its_place),
        cmocka_unit_test(test_sliding_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
