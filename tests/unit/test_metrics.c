/* test_metrics.c -- unit tests for the metrics registry and its Prometheus
 * text rendering (base/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/metrics.h"
#include "base/sc.h"
#include "core/metrics.h"
#include "core/router.h"

static char *render(struct sc_metrics *reg)
{
    size_t len = 0;
    char *t = sc_metrics_render(reg, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    return t;
}

static void assert_has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing: %s\nin:\n%s", line, text);
}

static void test_counter_labels(void **state)
{
    (void)state;
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric m = {.name = "shortcoded_mo_total", .help = "MOs handled.",
                          .type = SC_METRIC_COUNTER, .labels = {"route", "outcome"}};
    assert_int_equal(sc_metrics_add(reg, &m), 0);
    struct sc_counter *a = sc_metric_counter(&m, (const char *[]){"vas_list", "reply"});
    struct sc_counter *b = sc_metric_counter(&m, (const char *[]){"vas_list", "silent"});
    /* Resolving the same values again gives the same cell. */
    assert_ptr_equal(a, sc_metric_counter(&m, (const char *[]){"vas_list", "reply"}));
    assert_ptr_not_equal(a, b);
    sc_counter_inc(a);
    sc_counter_inc(a);
    sc_counter_add(a, 40);
    char *t = render(reg);
    assert_has(t, "# HELP shortcoded_mo_total MOs handled.\n"
                  "# TYPE shortcoded_mo_total counter\n"
                  "shortcoded_mo_total{route=\"vas_list\",outcome=\"reply\"} 42\n"
                  "shortcoded_mo_total{route=\"vas_list\",outcome=\"silent\"} 0\n");
    free(t);
    sc_metrics_free(reg);
    assert_null(m.reg);
}

/* Label values escape \, " and newline; HELP escapes \ and newline only. */
static void test_escaping(void **state)
{
    (void)state;
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric m = {.name = "shortcoded_x", .help = "a \\ b\nc \"d\"",
                          .type = SC_METRIC_GAUGE, .labels = {"bind"}};
    assert_int_equal(sc_metrics_add(reg, &m), 0);
    sc_gauge_set(sc_metric_gauge(&m, (const char *[]){"a\"b\\c\nd"}), -7);
    char *t = render(reg);
    assert_has(t, "# HELP shortcoded_x a \\\\ b\\nc \"d\"\n");
    assert_has(t, "shortcoded_x{bind=\"a\\\"b\\\\c\\nd\"} -7\n");
    free(t);
    sc_metrics_free(reg);
}

/* Buckets are cumulative, the first bound >= v takes v, le="+Inf" equals
 * _count, and decimals render microseconds as seconds exactly. */
static void test_histogram(void **state)
{
    (void)state;
    static const uint64_t bounds[] = {1000, 5000, 250000};
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric m = {.name = "shortcoded_mo_duration_seconds", .help = "h",
                          .type = SC_METRIC_HISTOGRAM, .labels = {"route"}, .decimals = 6,
                          .bounds = bounds, .nbounds = 3};
    assert_int_equal(sc_metrics_add(reg, &m), 0);
    struct sc_histogram *h = sc_metric_histogram(&m, (const char *[]){"help"});
    sc_histogram_observe(h, 0);
    sc_histogram_observe(h, 1000);    /* on the bound: in it */
    sc_histogram_observe(h, 1001);
    sc_histogram_observe(h, 250000);
    sc_histogram_observe(h, 9000000); /* above every bound */
    char *t = render(reg);
    assert_has(t, "# TYPE shortcoded_mo_duration_seconds histogram\n"
                  "shortcoded_mo_duration_seconds_bucket{route=\"help\",le=\"0.001\"} 2\n"
                  "shortcoded_mo_duration_seconds_bucket{route=\"help\",le=\"0.005\"} 3\n"
                  "shortcoded_mo_duration_seconds_bucket{route=\"help\",le=\"0.25\"} 4\n"
                  "shortcoded_mo_duration_seconds_bucket{route=\"help\",le=\"+Inf\"} 5\n"
                  "shortcoded_mo_duration_seconds_sum{route=\"help\"} 9.252001\n"
                  "shortcoded_mo_duration_seconds_count{route=\"help\"} 5\n");
    free(t);
    sc_metrics_free(reg);
}

/* A family without labels has its series from the start; a histogram
 * without labels puts le alone in braces. */
static void test_unlabelled(void **state)
{
    (void)state;
    static const uint64_t bounds[] = {1};
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric up = {.name = "shortcoded_redis_up", .help = "h", .type = SC_METRIC_GAUGE};
    struct sc_metric lat = {.name = "shortcoded_l_seconds", .help = "h",
                            .type = SC_METRIC_HISTOGRAM, .bounds = bounds, .nbounds = 1};
    struct sc_metric cpu = {.name = "process_cpu_seconds_total", .help = "h",
                            .type = SC_METRIC_COUNTER, .decimals = 6};
    assert_int_equal(sc_metrics_add(reg, &up), 0);
    assert_int_equal(sc_metrics_add(reg, &lat), 0);
    assert_int_equal(sc_metrics_add(reg, &cpu), 0);
    sc_counter_add(sc_metric_counter(&cpu, NULL), 1500000);
    char *t = render(reg);
    assert_has(t, "\nshortcoded_redis_up 0\n");
    assert_has(t, "\nshortcoded_l_seconds_bucket{le=\"1\"} 0\n"
                  "shortcoded_l_seconds_bucket{le=\"+Inf\"} 0\n"
                  "shortcoded_l_seconds_sum 0\nshortcoded_l_seconds_count 0\n");
    assert_has(t, "\nprocess_cpu_seconds_total 1.5\n");
    /* Families in the order they joined. */
    assert_true(strstr(t, "redis_up") < strstr(t, "l_seconds"));
    free(t);
    sc_metrics_free(reg);
}

/* Past max_series, new label sets share the "other" series. */
static void test_series_limit(void **state)
{
    (void)state;
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric m = {.name = "shortcoded_mt_total", .help = "h", .type = SC_METRIC_COUNTER,
                          .labels = {"kind", "state"}, .max_series = 2};
    assert_int_equal(sc_metrics_add(reg, &m), 0);
    struct sc_counter *a = sc_metric_counter(&m, (const char *[]){"a", "sent"});
    struct sc_counter *b = sc_metric_counter(&m, (const char *[]){"b", "sent"});
    struct sc_counter *c = sc_metric_counter(&m, (const char *[]){"c", "sent"});
    struct sc_counter *d = sc_metric_counter(&m, (const char *[]){"d", "sent"});
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(c, d);
    assert_ptr_equal(a, sc_metric_counter(&m, (const char *[]){"a", "sent"}));
    sc_counter_inc(c);
    sc_counter_inc(d);
    char *t = render(reg);
    assert_has(t, "shortcoded_mt_total{kind=\"other\",state=\"other\"} 2\n");
    free(t);
    sc_metrics_free(reg);
}

static void test_refused(void **state)
{
    (void)state;
    static const uint64_t down[] = {5, 1};
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric bad[] = {
        {.name = "9lives", .help = "h", .type = SC_METRIC_COUNTER},
        {.name = "a-b", .help = "h", .type = SC_METRIC_COUNTER},
        {.name = "ok", .help = NULL, .type = SC_METRIC_COUNTER},
        {.name = "ok", .help = "h", .type = SC_METRIC_COUNTER, .labels = {"a b"}},
        {.name = "ok", .help = "h", .type = SC_METRIC_COUNTER, .labels = {"__x"}},
        {.name = "ok", .help = "h", .type = SC_METRIC_HISTOGRAM, .labels = {"le"},
         .bounds = down, .nbounds = 1},
        {.name = "ok", .help = "h", .type = SC_METRIC_HISTOGRAM, .bounds = down, .nbounds = 2},
        {.name = "ok", .help = "h", .type = SC_METRIC_HISTOGRAM},
        {.name = "ok", .help = "h", .type = SC_METRIC_COUNTER, .decimals = 10},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++)
        assert_int_equal(sc_metrics_add(reg, &bad[i]), SC_EINVAL);
    struct sc_metric m = {.name = "ok", .help = "h", .type = SC_METRIC_COUNTER};
    assert_int_equal(sc_metrics_add(reg, &m), 0);
    assert_int_equal(sc_metrics_add(reg, &m), SC_ESTATE);
    /* The wrong type's cell is one nobody renders. */
    struct sc_gauge *g = sc_metric_gauge(&m, NULL);
    sc_gauge_set(g, 99);
    char *t = render(reg);
    assert_has(t, "\nok 0\n");
    free(t);
    sc_metrics_free(reg);
}

static void collect(void *arg)
{
    struct sc_gauge *g = arg;
    sc_gauge_add(g, 1);
}

static void test_collectors(void **state)
{
    (void)state;
    struct sc_metrics *reg = sc_metrics_new();
    struct sc_metric m = {.name = "shortcoded_q", .help = "h", .type = SC_METRIC_GAUGE};
    assert_int_equal(sc_metrics_add(reg, &m), 0);
    struct sc_gauge *g = sc_metric_gauge(&m, NULL);
    assert_int_equal(sc_metrics_collector_add(reg, collect, g), 0);
    char *t = render(reg);
    assert_has(t, "\nshortcoded_q 1\n");
    free(t);
    t = render(reg);
    assert_has(t, "\nshortcoded_q 2\n");
    free(t);
    sc_metrics_collector_remove(reg, collect, g);
    sc_metrics_collector_remove(reg, collect, g); /* not there: no-op */
    t = render(reg);
    assert_has(t, "\nshortcoded_q 2\n");
    free(t);
    for (int i = 0; i < SC_METRICS_MAX_COLLECTORS; i++)
        assert_int_equal(sc_metrics_collector_add(reg, collect, g), 0);
    assert_int_equal(sc_metrics_collector_add(reg, collect, g), SC_EBUSY);
    sc_metrics_free(reg);
}

/* The daemon's families (core/metrics.c) in the global registry: a route's
 * cells, the "-" route, a push's kind checked, receipts' stat words. Runs
 * before test_global, which empties the global registry. */
static void test_core_families(void **state)
{
    (void)state;
    struct sc_route rt = {.name = "vas_list"};
    sc__metrics_route(&rt);
    sc__metrics_mo(&rt, SC_OUTCOME_REPLY, 700000);     /* 0.7 ms */
    sc__metrics_mo(&rt, SC_OUTCOME_RATE_REPLY, 3000);
    sc__metrics_mo(&rt, SC_OUTCOME_RATE_SILENT, 3000);
    sc__metrics_mo(NULL, SC_OUTCOME_NO_ROUTE, 2000000); /* 2 ms */
    sc__metrics_push("promo", "sent");
    sc__metrics_push("Bad kind!", "dropped");
    sc__metrics_push("", "dropped");
    sc__metrics_push("abcdefghijklmnopq", "dropped"); /* 17 bytes: one too many */
    sc__metrics_push("abcdefghijklmno_", "sent");
    assert_int_equal(sc__metrics_receipt_stat("DELIVRD"), sc__metrics_receipt_stat("DELIVRD"));
    assert_int_not_equal(sc__metrics_receipt_stat("DELIVRD"), sc__metrics_receipt_stat("XYZ"));
    assert_int_equal(sc__metrics_receipt_stat("XYZ"), sc__metrics_receipt_stat("deliv"));
    sc__metrics_receipt(sc__metrics_receipt_stat("UNDELIV"));
    sc__metrics_receipt(sc__metrics_receipt_stat("no such word"));
    sc__metrics_receipt(SC__RECEIPT_UNKNOWN_ID);
    char *t = render(sc_metrics_global());
    assert_has(t, "shortcoded_mo_total{route=\"vas_list\",outcome=\"reply\"} 1\n");
    /* The polite reply and the silence after it are both rate_limited; only
     * the first counts a subscriber. */
    assert_has(t, "shortcoded_mo_total{route=\"vas_list\",outcome=\"rate_limited\"} 2\n");
    assert_has(t, "\nshortcoded_rate_limited_total 1\n");
    assert_null(strstr(t, "route=\"vas_list\",outcome=\"no_route\""));
    assert_has(t, "shortcoded_mo_total{route=\"-\",outcome=\"no_route\"} 1\n");
    assert_has(t, "shortcoded_mo_duration_seconds_bucket{route=\"vas_list\",le=\"0.0005\"} 2\n"
                  "shortcoded_mo_duration_seconds_bucket{route=\"vas_list\",le=\"0.001\"} 3\n");
    assert_has(t, "shortcoded_mo_duration_seconds_sum{route=\"vas_list\"} 0.000706\n");
    assert_has(t, "shortcoded_mo_duration_seconds_bucket{route=\"-\",le=\"0.001\"} 0\n"
                  "shortcoded_mo_duration_seconds_bucket{route=\"-\",le=\"0.0025\"} 1\n");
    assert_has(t, "shortcoded_mt_total{kind=\"promo\",state=\"sent\"} 1\n");
    assert_has(t, "shortcoded_mt_total{kind=\"invalid\",state=\"dropped\"} 3\n");
    assert_has(t, "shortcoded_mt_total{kind=\"abcdefghijklmno_\",state=\"sent\"} 1\n");
    assert_has(t, "shortcoded_receipts_total{stat=\"UNDELIV\"} 1\n");
    assert_has(t, "shortcoded_receipts_total{stat=\"other\"} 1\n");
    assert_has(t, "shortcoded_receipts_total{stat=\"unknown_id\"} 1\n");
    assert_has(t, "shortcoded_receipts_total{stat=\"DELIVRD\"} 0\n");
    free(t);
}

/* A family resolved without a registry joins the global one. */
static void test_global(void **state)
{
    (void)state;
    static struct sc_metric m = {.name = "shortcoded_test_global_total", .help = "h",
                                 .type = SC_METRIC_COUNTER, .labels = {"stat"}};
    sc_counter_inc(sc_metric_counter(&m, (const char *[]){"DELIVRD"}));
    assert_ptr_equal(m.reg, sc_metrics_global());
    char *t = render(sc_metrics_global());
    assert_has(t, "shortcoded_test_global_total{stat=\"DELIVRD\"} 1\n");
    free(t);
    sc_metrics_free(sc_metrics_global());
    assert_null(m.reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_labels), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),      cmocka_unit_test(test_unlabelled),
        cmocka_unit_test(test_series_limit),   cmocka_unit_test(test_refused),
        cmocka_unit_test(test_collectors),     cmocka_unit_test(test_core_families),
        cmocka_unit_test(test_global),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
