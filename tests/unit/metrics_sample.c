/* metrics_sample.c -- prints a registry with every kind of family and the
 * label values that need escaping, for tests/integration/test_metrics_text.py
 * to parse with a real Prometheus text parser. */
#include <stdio.h>
#include <stdlib.h>

#include "base/metrics.h"

int main(void)
{
    static const uint64_t bounds[] = {100, 1000, 2500, 1000000};
    static struct sc_metric c = {.name = "shortcoded_mo_total", .help = "MOs \\ by route\nand outcome.",
                                 .type = SC_METRIC_COUNTER, .labels = {"route", "outcome"}};
    static struct sc_metric g = {.name = "shortcoded_bind_up", .help = "1 when bound.",
                                 .type = SC_METRIC_GAUGE, .labels = {"bind"}};
    static struct sc_metric h = {.name = "shortcoded_mo_duration_seconds", .help = "Time.",
                                 .type = SC_METRIC_HISTOGRAM, .labels = {"route"}, .decimals = 6,
                                 .bounds = bounds, .nbounds = 4};
    static struct sc_metric cpu = {.name = "process_cpu_seconds_total", .help = "CPU.",
                                   .type = SC_METRIC_COUNTER, .decimals = 6};
    static struct sc_metric empty = {.name = "shortcoded_receipts_total", .help = "None yet.",
                                     .type = SC_METRIC_COUNTER, .labels = {"stat"}};
    struct sc_metrics *reg = sc_metrics_new();
    if (!reg || sc_metrics_add(reg, &c) || sc_metrics_add(reg, &g) || sc_metrics_add(reg, &h) ||
        sc_metrics_add(reg, &cpu) || sc_metrics_add(reg, &empty))
        return 1;
    sc_counter_add(sc_metric_counter(&c, (const char *[]){"vas_list", "reply"}), 3);
    sc_counter_inc(sc_metric_counter(&c, (const char *[]){"we\"ird\\ro\nute", "temporary_error"}));
    sc_gauge_set(sc_metric_gauge(&g, (const char *[]){"smsc1/rx"}), 1);
    sc_gauge_set(sc_metric_gauge(&g, (const char *[]){"smsc2"}), -2);
    struct sc_histogram *hh = sc_metric_histogram(&h, (const char *[]){"vas_list"});
    static const uint64_t obs[] = {50, 100, 101, 2000, 3000000};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        sc_histogram_observe(hh, obs[i]);
    sc_counter_add(sc_metric_counter(&cpu, NULL), 1234567);
    size_t len;
    char *t = sc_metrics_render(reg, &len);
    if (!t)
        return 1;
    fwrite(t, 1, len, stdout);
    free(t);
    sc_metrics_free(reg);
    return 0;
}
