/* metrics.h -- the metrics registry: counters, gauges and histograms with a
 * small, fixed set of label names, rendered in the Prometheus text
 * exposition format (GET /metrics, docs/operations.md "Metrics").
 *
 * Counting costs next to nothing: the code that counts resolves its cell
 * (one labelled series) once, when it is set up -- a route when the router
 * is built, a bind when its link is made -- and the hot path is then a
 * plain integer add on that cell: no string lookup, no allocation. Values
 * are integers in a unit the family states (decimals: a value v renders as
 * v / 10^decimals, so microseconds with 6 render as seconds, exactly).
 * Gauges that are a state elsewhere (queue depth, window in use) are set
 * by collectors, which run only when the registry is rendered.
 *
 * A family (struct sc_metric) is a static definition in the file that
 * counts. It joins the process-wide registry (sc_metrics_global) the first
 * time one of its cells is resolved, or another registry through
 * sc_metrics_add (tests). Cells live as long as their registry: a route
 * removed by a reload keeps its series, so counters never go back.
 *
 * One thread: nothing here is safe to use from two threads at once. */
#ifndef SC_METRICS_H
#define SC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define SC_METRIC_MAX_LABELS 3
/* Series per family unless the family says otherwise; a new label set
 * beyond it is counted in one series whose every label is "other". */
#define SC_METRIC_MAX_SERIES 64
#define SC_METRIC_MAX_BUCKETS 16

enum sc_metric_type { SC_METRIC_COUNTER, SC_METRIC_GAUGE, SC_METRIC_HISTOGRAM };

struct sc_counter {
    uint64_t v;
};

struct sc_gauge {
    int64_t v;
};

struct sc_histogram {
    uint64_t sum;
    const uint64_t *bounds;  /* the family's */
    unsigned nbounds;
    uint64_t *buckets;       /* nbounds + 1, not cumulative; the last is +Inf */
};

struct sc_metrics;
struct sc__mseries;

/* A family: filled by its owner (name .. max_series), the rest by the
 * registry. */
struct sc_metric {
    const char *name;        /* the full name: shortcoded_..., process_... */
    const char *help;
    enum sc_metric_type type;
    const char *labels[SC_METRIC_MAX_LABELS + 1]; /* names, NULL-terminated */
    unsigned decimals;       /* a value v renders as v / 10^decimals (at most 9) */
    const uint64_t *bounds;  /* histogram: upper bounds, ascending, in the value's unit */
    unsigned nbounds;        /* at most SC_METRIC_MAX_BUCKETS */
    unsigned max_series;     /* 0: SC_METRIC_MAX_SERIES */
    /* The registry's. */
    struct sc_metrics *reg;
    struct sc_metric *next;
    struct sc__mseries *series, **tail, *other;
    unsigned nseries;
};

/* The process-wide registry, made on first use. */
struct sc_metrics *sc_metrics_global(void);

/* A registry of its own (tests); NULL on no memory. Free releases its
 * cells and detaches its families (they may join another one). NULL is a
 * no-op for free. */
struct sc_metrics *sc_metrics_new(void);
void sc_metrics_free(struct sc_metrics *reg);

/* Add m to reg (it must be in none yet). SC_EINVAL for a name or label
 * name Prometheus would refuse ("le" on a histogram included), too many
 * buckets or decimals; SC_ESTATE when m is in a registry already. A family
 * without labels gets its one series at once. */
int sc_metrics_add(struct sc_metrics *reg, struct sc_metric *m);

/* The cell for the label values vals (one per label name, in order; NULL
 * for a family without labels), made on first use and the same pointer
 * ever after for the same values. A family in no registry joins the global
 * one. Never NULL: when the family has max_series series, the "other"
 * series; when memory or the family is bad, a cell nobody renders. Not for
 * the hot path: resolve once, keep the pointer. The type must match the
 * family's. */
struct sc_counter *sc_metric_counter(struct sc_metric *m, const char *const *vals);
struct sc_gauge *sc_metric_gauge(struct sc_metric *m, const char *const *vals);
struct sc_histogram *sc_metric_histogram(struct sc_metric *m, const char *const *vals);

static inline void sc_counter_inc(struct sc_counter *c) { c->v++; }
static inline void sc_counter_add(struct sc_counter *c, uint64_t n) { c->v += n; }
static inline void sc_gauge_set(struct sc_gauge *g, int64_t v) { g->v = v; }
static inline void sc_gauge_add(struct sc_gauge *g, int64_t d) { g->v += d; }

/* Count v (in the family's unit) in its bucket: the first bound >= v, else
 * +Inf. A few compares and two adds. */
static inline void sc_histogram_observe(struct sc_histogram *h, uint64_t v)
{
    unsigned i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    h->buckets[i]++;
    h->sum += v;
}

/* A collector sets gauges (and counters kept elsewhere) just before a
 * render. At most SC_METRICS_MAX_COLLECTORS per registry; add returns
 * SC_EBUSY beyond, remove of one not added is a no-op. */
#define SC_METRICS_MAX_COLLECTORS 16
typedef void (*sc_metrics_collect_cb)(void *arg);
int sc_metrics_collector_add(struct sc_metrics *reg, sc_metrics_collect_cb cb, void *arg);
void sc_metrics_collector_remove(struct sc_metrics *reg, sc_metrics_collect_cb cb, void *arg);

/* Run the collectors, then render every family of reg (in the order they
 * joined it, each series in the order it was made) as Prometheus text
 * exposition format 0.0.4: HELP (\ and newline escaped) and TYPE lines,
 * label values escaped (\, ", newline), a histogram's cumulative
 * _bucket{le=...} series ending with le="+Inf", then _sum and _count.
 * Returns a malloc'd NUL-terminated text (the caller frees it) with its
 * length in *len, or NULL on no memory. */
char *sc_metrics_render(struct sc_metrics *reg, size_t *len);

/* Content-Type of the rendered text. */
#define SC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
