/* metrics.c -- the families core/ counts into, a route's cells, and the
 * collector of the process (CPU, memory, file descriptors, start time), the
 * build and the intake's refusals (core/metrics.h).
 *
 * The process_* names and meanings are those of the Prometheus client
 * libraries (the "process collector"), so that dashboards made for other
 * daemons work; values in seconds are kept in microseconds (decimals 6). */
#include "core/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/router.h"

/* Routes are the configuration's (bounded by it); a reload that renames
 * them adds series, so they are bounded too, generously. */
#define ROUTE_SERIES 512

/* Upper bounds in microseconds. */
static const uint64_t g_mo_bounds[] = {500,    1000,   2500,   5000,    10000,   25000,  50000,
                                       100000, 250000, 500000, 1000000, 2500000, 5000000};
static const uint64_t g_redis_bounds[] = {100,   250,    500,    1000,   2500,   5000,   10000,
                                          25000, 50000, 100000, 250000, 500000, 1000000};

static struct sc_metric g_mo_total = {
    .name = "shortcoded_mo_total", .type = SC_METRIC_COUNTER, .labels = {"route", "outcome"},
    .max_series = ROUTE_SERIES * SC_OUTCOME_COUNT,
    .help = "MOs by route (- none matched) and outcome: reply, rate_limited, silent, no_route, "
            "temporary_error (answered so that the SMSC delivers it again); not_served and "
            "bad_source were refused before routing."};
static struct sc_metric g_mo_seconds = {
    .name = "shortcoded_mo_duration_seconds", .type = SC_METRIC_HISTOGRAM, .labels = {"route"},
    .max_series = ROUTE_SERIES,
    .decimals = 6, .bounds = g_mo_bounds, .nbounds = SC_ARRAY_LEN(g_mo_bounds),
    .help = "Time from an MO's intake to its outcome (its reply queued, or its answer), by route."};
static struct sc_metric g_rate_limited = {
    .name = "shortcoded_rate_limited_total", .type = SC_METRIC_COUNTER,
    .help = "Subscribers who went over the rate limit: the first MO over it in a window (the one "
            "that gets the rate_limited reply)."};
static struct sc_metric g_receipts = {
    .name = "shortcoded_receipts_total", .type = SC_METRIC_COUNTER, .labels = {"stat"},
    .help = "Delivery receipts matched, by their stat (other: a word SMPP does not define); "
            "unknown_id: the message_id matched no push."};
static struct sc_metric g_long_mo = {
    .name = "shortcoded_long_mo_parts_total", .type = SC_METRIC_COUNTER, .labels = {"outcome"},
    .help = "Parts of long MOs by outcome: stored (waiting for the others, in Redis), complete, "
            "already_done, long_mo_refused, temporary_error."};
static struct sc_metric g_redis_up = {
    .name = "shortcoded_redis_up", .type = SC_METRIC_GAUGE,
    .help = "1 when the MO path's Redis connection is ready (connected, handshake done), else 0."};
static struct sc_metric g_redis_seconds = {
    .name = "shortcoded_redis_command_duration_seconds", .type = SC_METRIC_HISTOGRAM,
    .decimals = 6, .bounds = g_redis_bounds, .nbounds = SC_ARRAY_LEN(g_redis_bounds),
    .help = "Round trip of a command on the MO path's Redis connection, from its write to its "
            "reply."};
static struct sc_metric g_build = {
    .name = "shortcoded_build_info", .type = SC_METRIC_GAUGE, .labels = {"version"},
    .help = "Always 1; version is the daemon's."};
static struct sc_metric g_cpu = {
    .name = "process_cpu_seconds_total", .type = SC_METRIC_COUNTER, .decimals = 6,
    .help = "Total user and system CPU time spent in seconds."};
static struct sc_metric g_rss = {
    .name = "process_resident_memory_bytes", .type = SC_METRIC_GAUGE,
    .help = "Resident memory size in bytes."};
static struct sc_metric g_vsz = {
    .name = "process_virtual_memory_bytes", .type = SC_METRIC_GAUGE,
    .help = "Virtual memory size in bytes."};
static struct sc_metric g_start = {
    .name = "process_start_time_seconds", .type = SC_METRIC_GAUGE, .decimals = 6,
    .help = "Start time of the process since unix epoch in seconds."};
static struct sc_metric g_fds = {
    .name = "process_open_fds", .type = SC_METRIC_GAUGE,
    .help = "Number of open file descriptors."};
static struct sc_metric g_max_fds = {
    .name = "process_max_fds", .type = SC_METRIC_GAUGE,
    .help = "Maximum number of open file descriptors."};

/* Index 0 is unknown_id; the last is other. */
static const char *const g_stats[] = {"unknown_id", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV",
                                      "ACCEPTD",    "UNKNOWN", "REJECTD", "ENROUTE", "BUFFRED",
                                      "other"};

static struct {
    struct sc_counter *none[SC_OUTCOME_COUNT];
    struct sc_histogram *none_seconds;
    struct sc_counter *not_served, *bad_source, *rate_limited;
    struct sc_counter *receipts[SC_ARRAY_LEN(g_stats)];
    struct sc_histogram *redis_seconds;
    struct sc_gauge *redis_up;
    int resolved;
} g;

static struct sc_counter *mo_cell(const char *route, enum sc_outcome o)
{
    return sc_metric_counter(&g_mo_total, (const char *[]){route, sc__req_outcome_name(o)});
}

static void resolve(void)
{
    if (g.resolved)
        return;
    g.resolved = 1;
    /* The families in the order a reader looks for them. */
    g.none[SC_OUTCOME_NO_ROUTE] = mo_cell("-", SC_OUTCOME_NO_ROUTE);
    g.none_seconds = sc_metric_histogram(&g_mo_seconds, (const char *[]){"-"});
    g.not_served = sc_metric_counter(&g_mo_total, (const char *[]){"-", "not_served"});
    g.bad_source = sc_metric_counter(&g_mo_total, (const char *[]){"-", "bad_source"});
    g.rate_limited = sc_metric_counter(&g_rate_limited, NULL);
    sc_metric_counter(&g_long_mo, (const char *[]){"stored"});
    sc_esme_mt_counter("reply", "sent");
    for (size_t i = 0; i < SC_ARRAY_LEN(g_stats); i++)
        g.receipts[i] = sc_metric_counter(&g_receipts, (const char *[]){g_stats[i]});
    g.redis_up = sc_metric_gauge(&g_redis_up, NULL);
    g.redis_seconds = sc_metric_histogram(&g_redis_seconds, NULL);
    sc_metric_gauge(&g_build, (const char *[]){SC_VERSION});
    sc_metric_counter(&g_cpu, NULL);
    sc_metric_gauge(&g_rss, NULL);
    sc_metric_gauge(&g_vsz, NULL);
    sc_metric_gauge(&g_start, NULL);
    sc_metric_gauge(&g_fds, NULL);
    sc_metric_gauge(&g_max_fds, NULL);
}

void sc__metrics_route(struct sc_route *rt)
{
    resolve();
    /* A route's MO is never no_route: that cell is the "-" route's. */
    for (int o = 0; o < SC_OUTCOME_COUNT; o++)
        rt->mo_total[o] = o == SC_OUTCOME_NO_ROUTE ? g.none[o] : mo_cell(rt->name, o);
    rt->mo_seconds = sc_metric_histogram(&g_mo_seconds, (const char *[]){rt->name});
}

void sc__metrics_mo(const struct sc_route *rt, enum sc_outcome o, uint64_t ns)
{
    if (!rt && !g.none[o]) /* not the hot path: nothing matched */
        g.none[o] = mo_cell("-", o);
    sc_counter_inc(rt ? rt->mo_total[o] : g.none[o]);
    sc_histogram_observe(rt ? rt->mo_seconds : g.none_seconds, ns / 1000);
    if (o == SC_OUTCOME_RATE_REPLY)
        sc_counter_inc(g.rate_limited);
}

static int kind_ok(const char *k)
{
    size_t n = 0;
    for (; k[n]; n++)
        if (!((k[n] >= 'a' && k[n] <= 'z') || k[n] == '_') || n >= 16)
            return 0;
    return n > 0;
}

void sc__metrics_push(const char *kind, const char *state)
{
    sc_counter_inc(sc_esme_mt_counter(kind && kind_ok(kind) ? kind : "invalid", state));
}

int sc__metrics_receipt_stat(const char *stat)
{
    for (size_t i = 1; i + 1 < SC_ARRAY_LEN(g_stats); i++)
        if (strcmp(stat, g_stats[i]) == 0)
            return (int)i;
    return (int)SC_ARRAY_LEN(g_stats) - 1;
}

void sc__metrics_receipt(int stat)
{
    resolve();
    if (stat >= 0 && (size_t)stat < SC_ARRAY_LEN(g_stats))
        sc_counter_inc(g.receipts[stat]);
}

void sc__metrics_long_mo_part(const char *outcome)
{
    sc_counter_inc(sc_metric_counter(&g_long_mo, (const char *[]){outcome}));
}

struct sc_histogram *sc__metrics_redis_latency(void)
{
    resolve();
    return g.redis_seconds;
}

void sc__metrics_redis_up(int up)
{
    resolve();
    sc_gauge_set(g.redis_up, up != 0);
}

/* ---- the collector --------------------------------------------------------- */

static long long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the one opendir holds */
}

static void collect(void *arg)
{
    struct sc_app *a = arg;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        uint64_t us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
                      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        sc_metric_counter(&g_cpu, NULL)->v = us;
    }
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &pages, &rss) == 2) {
            long long psz = sysconf(_SC_PAGESIZE);
            sc_gauge_set(sc_metric_gauge(&g_vsz, NULL), (int64_t)(pages * (unsigned long long)psz));
            sc_gauge_set(sc_metric_gauge(&g_rss, NULL), (int64_t)(rss * (unsigned long long)psz));
        }
        fclose(f);
    }
    sc_gauge_set(sc_metric_gauge(&g_fds, NULL), count_fds());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        sc_gauge_set(sc_metric_gauge(&g_max_fds, NULL),
                     rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur);
    g.not_served->v = a->stats.mo_not_served;
    g.bad_source->v = a->stats.mo_bad_source;
}

void sc__metrics_start(struct sc_app *a)
{
    resolve();
    struct timeval tv;
    gettimeofday(&tv, NULL);
    sc_gauge_set(sc_metric_gauge(&g_start, NULL),
                 (int64_t)tv.tv_sec * 1000000 + (int64_t)tv.tv_usec);
    sc_gauge_set(sc_metric_gauge(&g_build, (const char *[]){SC_VERSION}), 1);
    if (sc_metrics_collector_add(sc_metrics_global(), collect, a) < 0)
        sc_warn("event=metrics_collector_refused msg=\"process figures not updated\"");
}

void sc__metrics_stop(struct sc_app *a)
{
    sc_metrics_collector_remove(sc_metrics_global(), collect, a);
}
