/* hist.c -- log-linear latency histogram: fixed memory, O(1) record.
 *
 * Layout as in HdrHistogram: bucket b (0..SIM_HIST_BUCKETS-1) holds values
 * whose top bit is at position b + 7 or (for b = 0) below 256; inside it,
 * sub-bucket s (128..255, or 0..255 for b = 0) is the value >> b. Counts of
 * bucket b live at index (b + 1) * 128 + s - 128, so bucket 0 uses indexes
 * 0..255 and every later bucket 128 more. */
#include <string.h>

#include "hist.h"

static unsigned idx_of(uint64_t v)
{
    if (v > SIM_HIST_MAX)
        v = SIM_HIST_MAX;
    /* v | 255 has its top bit at 7 or above; bucket = top bit - 7. */
    unsigned top = 63u - (unsigned)__builtin_clzll(v | (2 * SIM_HIST_SUB_HALF - 1));
    unsigned b = top - SIM_HIST_SUB_BITS;
    unsigned s = (unsigned)(v >> b);
    unsigned i = ((b + 1) << SIM_HIST_SUB_BITS) + s - SIM_HIST_SUB_HALF;
    return i < SIM_HIST_COUNTS ? i : SIM_HIST_COUNTS - 1;
}

/* Highest value counted at index i. */
static uint64_t highest_of(unsigned i)
{
    unsigned b = (i >> SIM_HIST_SUB_BITS);
    unsigned s = i & (SIM_HIST_SUB_HALF - 1);
    if (b == 0)
        return s; /* values 0..127, exact */
    b -= 1;
    uint64_t sub = (uint64_t)s + SIM_HIST_SUB_HALF;
    return ((sub + 1) << b) - 1;
}

void sim_hist_reset(struct sim_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void sim_hist_record(struct sim_hist *h, uint64_t v)
{
    h->counts[idx_of(v)]++;
    h->total++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    if (v > SIM_HIST_MAX)
        h->overflow++;
}

void sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < SIM_HIST_COUNTS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    dst->overflow += src->overflow;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t sim_hist_percentile(const struct sim_hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->total + 0.999999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < SIM_HIST_COUNTS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = highest_of(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double sim_hist_mean(const struct sim_hist *h)
{
    return h->total ? (double)h->sum / (double)h->total : 0.0;
}
