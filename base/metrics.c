/* metrics.c -- the metrics registry and its Prometheus text rendering
 * (base/metrics.h).
 *
 * A family's series are a singly linked list in the order they were made;
 * resolving a cell walks it with strcmp (set-up only, never the hot path).
 * A series and its cell are one allocation, a histogram's buckets after it,
 * so a cell's address never changes. */
#include "base/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"

struct sc__mseries {
    struct sc__mseries *next;
    char *vals[SC_METRIC_MAX_LABELS];
    union {
        struct sc_counter c;
        struct sc_gauge g;
        struct sc_histogram h;
    } cell;
};

struct collector {
    sc_metrics_collect_cb cb;
    void *arg;
};

struct sc_metrics {
    struct sc_metric *first, **tail;
    struct collector coll[SC_METRICS_MAX_COLLECTORS];
    unsigned ncoll;
};

/* Where a cell goes that nobody renders (no memory, a bad family). */
static union {
    struct sc_counter c;
    struct sc_gauge g;
} g_void;
static uint64_t g_void_buckets[SC_METRIC_MAX_BUCKETS + 1];
static struct sc_histogram g_void_hist = {0, NULL, 0, g_void_buckets};

static struct sc_metrics g_global = {.tail = &g_global.first};

struct sc_metrics *sc_metrics_global(void) { return &g_global; }

struct sc_metrics *sc_metrics_new(void)
{
    struct sc_metrics *reg = calloc(1, sizeof *reg);
    if (reg)
        reg->tail = &reg->first;
    return reg;
}

static void series_free(struct sc__mseries *s)
{
    for (unsigned i = 0; i < SC_METRIC_MAX_LABELS; i++)
        free(s->vals[i]);
    free(s);
}

void sc_metrics_free(struct sc_metrics *reg)
{
    if (!reg)
        return;
    struct sc_metric *m = reg->first, *next;
    for (; m; m = next) {
        next = m->next;
        struct sc__mseries *s = m->series, *sn;
        for (; s; s = sn) {
            sn = s->next;
            series_free(s);
        }
        if (m->other)
            series_free(m->other);
        m->reg = NULL;
        m->next = NULL;
        m->series = m->other = NULL;
        m->tail = NULL;
        m->nseries = 0;
    }
    if (reg != &g_global)
        free(reg);
    else
        g_global = (struct sc_metrics){.tail = &g_global.first};
}

static int name_ok(const char *s, int colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon && *s == ':')))
            return 0;
    return 1;
}

static unsigned nlabels(const struct sc_metric *m)
{
    unsigned n = 0;
    while (n < SC_METRIC_MAX_LABELS && m->labels[n])
        n++;
    return n;
}

static struct sc__mseries *series_new(struct sc_metric *m, const char *const *vals);

int sc_metrics_add(struct sc_metrics *reg, struct sc_metric *m)
{
    if (m->reg)
        return SC_ESTATE;
    if (!name_ok(m->name, 1) || !m->help || m->decimals > 9 ||
        m->nbounds > SC_METRIC_MAX_BUCKETS || m->labels[SC_METRIC_MAX_LABELS])
        return SC_EINVAL;
    if (m->type == SC_METRIC_HISTOGRAM && (!m->nbounds || !m->bounds))
        return SC_EINVAL;
    for (unsigned i = 1; i < m->nbounds; i++)
        if (m->bounds[i] <= m->bounds[i - 1])
            return SC_EINVAL;
    for (unsigned i = 0; i < nlabels(m); i++) {
        if (!name_ok(m->labels[i], 0) || strncmp(m->labels[i], "__", 2) == 0 ||
            (m->type == SC_METRIC_HISTOGRAM && strcmp(m->labels[i], "le") == 0))
            return SC_EINVAL;
    }
    m->series = m->other = NULL;
    m->tail = &m->series;
    m->nseries = 0;
    m->next = NULL;
    if (nlabels(m) == 0) {
        struct sc__mseries *s = series_new(m, NULL);
        if (!s)
            return SC_ENOMEM;
        *m->tail = s;
        m->tail = &s->next;
        m->nseries = 1;
    }
    m->reg = reg;
    *reg->tail = m;
    reg->tail = &m->next;
    return 0;
}

/* A new series of m for vals (NULL: no labels, or every label "other"). */
static struct sc__mseries *series_new(struct sc_metric *m, const char *const *vals)
{
    size_t extra = m->type == SC_METRIC_HISTOGRAM ? (m->nbounds + 1) * sizeof(uint64_t) : 0;
    struct sc__mseries *s = calloc(1, sizeof *s + extra);
    if (!s)
        return NULL;
    unsigned n = nlabels(m);
    for (unsigned i = 0; i < n; i++) {
        s->vals[i] = strdup(vals ? vals[i] : "other");
        if (!s->vals[i]) {
            series_free(s);
            return NULL;
        }
    }
    if (m->type == SC_METRIC_HISTOGRAM) {
        s->cell.h.bounds = m->bounds;
        s->cell.h.nbounds = m->nbounds;
        s->cell.h.buckets = (uint64_t *)(void *)(s + 1);
    }
    return s;
}

static int same(const struct sc__mseries *s, unsigned n, const char *const *vals)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(s->vals[i], vals[i] ? vals[i] : "") != 0)
            return 0;
    return 1;
}

/* The series of m for vals, made when missing; NULL when it cannot be. */
static struct sc__mseries *resolve(struct sc_metric *m, enum sc_metric_type type,
                                   const char *const *vals)
{
    if (m->type != type)
        return NULL;
    if (!m->reg) {
        int rc = sc_metrics_add(sc_metrics_global(), m);
        if (rc < 0) {
            sc_error("event=metric_refused metric=%s error=\"%s\"", SC_LOGV(m->name),
                     sc_strerror(rc));
            return NULL;
        }
    }
    unsigned n = nlabels(m);
    if (n == 0)
        return m->series;
    const char *v[SC_METRIC_MAX_LABELS];
    for (unsigned i = 0; i < n; i++)
        v[i] = vals && vals[i] ? vals[i] : "";
    for (struct sc__mseries *s = m->series; s; s = s->next)
        if (same(s, n, v))
            return s;
    unsigned max = m->max_series ? m->max_series : SC_METRIC_MAX_SERIES;
    if (m->nseries >= max) {
        if (!m->other) {
            sc_warn("event=metric_series_limit metric=%s max=%u msg=\"further label sets are "
                    "counted as other\"", m->name, max);
            m->other = series_new(m, NULL);
        }
        return m->other;
    }
    struct sc__mseries *s = series_new(m, v);
    if (!s)
        return NULL;
    *m->tail = s;
    m->tail = &s->next;
    m->nseries++;
    return s;
}

struct sc_counter *sc_metric_counter(struct sc_metric *m, const char *const *vals)
{
    struct sc__mseries *s = resolve(m, SC_METRIC_COUNTER, vals);
    return s ? &s->cell.c : &g_void.c;
}

struct sc_gauge *sc_metric_gauge(struct sc_metric *m, const char *const *vals)
{
    struct sc__mseries *s = resolve(m, SC_METRIC_GAUGE, vals);
    return s ? &s->cell.g : &g_void.g;
}

struct sc_histogram *sc_metric_histogram(struct sc_metric *m, const char *const *vals)
{
    struct sc__mseries *s = resolve(m, SC_METRIC_HISTOGRAM, vals);
    return s ? &s->cell.h : &g_void_hist;
}

int sc_metrics_collector_add(struct sc_metrics *reg, sc_metrics_collect_cb cb, void *arg)
{
    if (reg->ncoll >= SC_METRICS_MAX_COLLECTORS)
        return SC_EBUSY;
    reg->coll[reg->ncoll++] = (struct collector){cb, arg};
    return 0;
}

void sc_metrics_collector_remove(struct sc_metrics *reg, sc_metrics_collect_cb cb, void *arg)
{
    for (unsigned i = 0; i < reg->ncoll; i++) {
        if (reg->coll[i].cb == cb && reg->coll[i].arg == arg) {
            memmove(&reg->coll[i], &reg->coll[i + 1], (reg->ncoll - i - 1) * sizeof reg->coll[0]);
            reg->ncoll--;
            return;
        }
    }
}

/* ---- rendering ------------------------------------------------------------ */

struct out {
    char *buf;
    size_t len, cap;
    int failed;
};

static void out_reserve(struct out *o, size_t n)
{
    if (o->failed || o->len + n < o->cap)
        return;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap <= o->len + n)
        cap *= 2;
    char *b = realloc(o->buf, cap);
    if (!b) {
        o->failed = 1;
        return;
    }
    o->buf = b;
    o->cap = cap;
}

static void out_mem(struct out *o, const char *s, size_t n)
{
    out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_str(struct out *o, const char *s) { out_mem(o, s, strlen(s)); }

/* s with \ and newline escaped, and " too when quoted (label values). */
static void out_escaped(struct out *o, const char *s, int quoted)
{
    for (; *s; s++) {
        if (*s == '\\')
            out_mem(o, "\\\\", 2);
        else if (*s == '\n')
            out_mem(o, "\\n", 2);
        else if (*s == '"' && quoted)
            out_mem(o, "\\\"", 2);
        else
            out_mem(o, s, 1);
    }
}

/* v / 10^dec in decimal, without trailing zeros after the point, into b
 * (48 bytes hold any): its length. */
static size_t fmt_fixed(char b[48], uint64_t v, unsigned dec, int neg)
{
    uint64_t p = 1;
    for (unsigned i = 0; i < dec; i++)
        p *= 10;
    int n = snprintf(b, 48, "%s%llu", neg ? "-" : "", (unsigned long long)(v / p));
    if (dec && v % p) {
        n += snprintf(b + n, 48 - (size_t)n, ".%0*llu", (int)dec, (unsigned long long)(v % p));
        while (b[n - 1] == '0')
            b[--n] = '\0';
    }
    return (size_t)n;
}

static void out_fixed(struct out *o, uint64_t v, unsigned dec, int neg)
{
    char b[48];
    out_mem(o, b, fmt_fixed(b, v, dec, neg));
}

/* name SUFFIX{labels[,le="LE"]} -- le NULL: none. */
static void out_series_name(struct out *o, const struct sc_metric *m, const char *suffix,
                            const struct sc__mseries *s, const char *le)
{
    out_str(o, m->name);
    out_str(o, suffix);
    unsigned n = nlabels(m);
    if (!n && !le)
        return;
    out_mem(o, "{", 1);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            out_mem(o, ",", 1);
        out_str(o, m->labels[i]);
        out_mem(o, "=\"", 2);
        out_escaped(o, s->vals[i], 1);
        out_mem(o, "\"", 1);
    }
    if (le) {
        out_str(o, n ? ",le=\"" : "le=\"");
        out_str(o, le);
        out_mem(o, "\"", 1);
    }
    out_mem(o, "}", 1);
}

static void out_histogram(struct out *o, const struct sc_metric *m, const struct sc__mseries *s)
{
    const struct sc_histogram *h = &s->cell.h;
    uint64_t cum = 0;
    for (unsigned i = 0; i <= m->nbounds; i++) {
        cum += h->buckets[i];
        char le[48] = "+Inf";
        if (i < m->nbounds)
            fmt_fixed(le, m->bounds[i], m->decimals, 0);
        out_series_name(o, m, "_bucket", s, le);
        out_mem(o, " ", 1);
        out_fixed(o, cum, 0, 0);
        out_mem(o, "\n", 1);
    }
    out_series_name(o, m, "_sum", s, NULL);
    out_mem(o, " ", 1);
    out_fixed(o, h->sum, m->decimals, 0);
    out_mem(o, "\n", 1);
    out_series_name(o, m, "_count", s, NULL);
    out_mem(o, " ", 1);
    out_fixed(o, cum, 0, 0);
    out_mem(o, "\n", 1);
}

static void out_series(struct out *o, const struct sc_metric *m, const struct sc__mseries *s)
{
    if (m->type == SC_METRIC_HISTOGRAM) {
        out_histogram(o, m, s);
        return;
    }
    out_series_name(o, m, "", s, NULL);
    out_mem(o, " ", 1);
    if (m->type == SC_METRIC_GAUGE && s->cell.g.v < 0)
        out_fixed(o, (uint64_t)0 - (uint64_t)s->cell.g.v, m->decimals, 1);
    else if (m->type == SC_METRIC_GAUGE)
        out_fixed(o, (uint64_t)s->cell.g.v, m->decimals, 0);
    else
        out_fixed(o, s->cell.c.v, m->decimals, 0);
    out_mem(o, "\n", 1);
}

char *sc_metrics_render(struct sc_metrics *reg, size_t *len)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    for (unsigned i = 0; i < reg->ncoll; i++)
        reg->coll[i].cb(reg->coll[i].arg);
    struct out o = {0};
    out_reserve(&o, 1);
    if (!o.failed)
        o.buf[0] = '\0';
    for (const struct sc_metric *m = reg->first; m; m = m->next) {
        out_str(&o, "# HELP ");
        out_str(&o, m->name);
        out_mem(&o, " ", 1);
        out_escaped(&o, m->help, 0);
        out_str(&o, "\n# TYPE ");
        out_str(&o, m->name);
        out_mem(&o, " ", 1);
        out_str(&o, types[m->type]);
        out_mem(&o, "\n", 1);
        for (const struct sc__mseries *s = m->series; s; s = s->next)
            out_series(&o, m, s);
        if (m->other)
            out_series(&o, m, m->other);
    }
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    if (len)
        *len = o.len;
    return o.buf;
}
