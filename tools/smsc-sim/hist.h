/* hist.h -- a log-linear latency histogram (HdrHistogram-like): fixed memory,
 * O(1) record, percentiles by one walk over the buckets, no sorting.
 *
 * Values are unsigned integers in the caller's unit (smsc-sim records
 * microseconds). Values 0..255 are counted exactly; above that each power of
 * two is split into 128 equal buckets, so a value is known to within 1/128
 * (0.78 %) of itself. Values above SIM_HIST_MAX are counted in the top bucket
 * (and in `overflow`); min, max and the sum stay exact. With microseconds the
 * range 1 us .. 60 s (6e7) is covered at full precision. */
#ifndef SC_TOOLS_HIST_H
#define SC_TOOLS_HIST_H

#include <stdint.h>

#define SIM_HIST_SUB_BITS 7                          /* 128 sub-buckets per half range */
#define SIM_HIST_SUB_HALF (1u << SIM_HIST_SUB_BITS)  /* 128 */
#define SIM_HIST_BUCKETS 19                          /* 256 << 18 > 6.7e7 */
#define SIM_HIST_COUNTS ((SIM_HIST_BUCKETS + 1) * SIM_HIST_SUB_HALF)
#define SIM_HIST_MAX ((uint64_t)(2 * SIM_HIST_SUB_HALF) << (SIM_HIST_BUCKETS - 1)) /* 67108864 */

struct sim_hist {
    uint64_t total;
    uint64_t min, max;           /* exact; min is UINT64_MAX while empty */
    uint64_t sum;
    uint64_t overflow;           /* values > SIM_HIST_MAX (counted in the top bucket) */
    uint64_t counts[SIM_HIST_COUNTS];
};

/* Empty the histogram (also the way to initialise one). */
void sim_hist_reset(struct sim_hist *h);
/* Count one value. */
void sim_hist_record(struct sim_hist *h, uint64_t v);
/* Add every count of src into dst. */
void sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src);
/* The value at percentile p (0..100): the highest value of the bucket that
 * holds the ceil(p% * total)-th smallest value, never above max nor below
 * min; 0 when empty. p <= 0 gives min, p >= 100 gives max. */
uint64_t sim_hist_percentile(const struct sim_hist *h, double p);
/* Mean (exact, from the sum); 0 when empty. */
double sim_hist_mean(const struct sim_hist *h);

#endif
