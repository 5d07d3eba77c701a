/* load_int.h -- what load.c (the run) and load_report.c (its summary and
 * --json) share: the load's state. Nothing outside load mode uses it.
 *
 * The load owns its subscribers, templates, rings, histograms and series. */
#ifndef SIM_LOAD_INT_H
#define SIM_LOAD_INT_H

#include <jansson.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <uv.h>

#include "hist.h"
#include "opts.h"
#include "stats.h"

struct sim_env;

/* Texts sent: a command's first MO, and the cancel scenario's follow-up. */
enum { T_0000 = 0, T_1, T_UNKNOWN, T_N };

struct tmpl {
    uint16_t len;
    uint8_t pdu[128];
};

struct sub {
    uint32_t prev, next;         /* outstanding list, in send order */
    uint32_t serial;             /* bumped when a command ends: stale resps ignored */
    uint8_t busy;                /* a command is outstanding */
    uint8_t scn, step;           /* scenario; 0 = first MO, 1 = cancel's "1" */
    uint8_t got_resp, got_reply;
    uint8_t ref;                 /* longtd: the last concatenation reference */
    uint8_t code, ucs2;          /* longtd: the code (index) and encoding sent */
    uint8_t long_part;           /* longtd: the part awaiting its resp (1, 2) */
    uint64_t part2_due;          /* longtd: uv_hrtime() to send part 2; 0 = none */
    uint64_t t_sent;             /* uv_hrtime() */
};

/* A FIFO of subscriber indexes; capacity N (each index is in it at most once). */
struct ring {
    uint32_t *v;
    uint32_t cap, head, n;
};

struct sim_load {
    struct sim_env *env;
    struct sim_load_opts o;
    uint64_t from;               /* first MSISDN */
    unsigned width;              /* digits of every MSISDN */
    unsigned mix_total;
    regex_t re[SIM_SCN_N];
    int has_re[SIM_SCN_N];
    struct tmpl t[T_N][2][2];    /* [text][ucs2][data_sm] */
    char codes[64][16];          /* longtd: --td-codes */
    unsigned ncodes;
    unsigned addr_off;           /* source_addr offset in every template */

    struct sub *subs;
    struct ring idle, follow, gap;  /* gap: longtd part 2s waiting, due order */
    uint32_t oldest, newest;     /* outstanding list */
    uint64_t outstanding;

    uv_timer_t tick, check, progress, deadline, bind_wait;
    int running, gen_done, finished;
    uint64_t t0;                 /* hrtime at start */
    uint64_t credited, tokens;
    uint64_t rng;
    struct rusage ru0;
    uint64_t throttled0;
    uint64_t mt_parts0;

    /* figures */
    uint64_t sent, done, ok;
    uint64_t sent_scn[SIM_SCN_N], done_scn[SIM_SCN_N];
    uint64_t sent_ucs2, sent_datasm;
    uint64_t inflight;           /* MOs without a resp (this run's) */
    struct sim_statmap resp_status;   /* every deliver_sm_resp / data_sm_resp */
    struct sim_statmap err_status;    /* errors: commands ended by an error resp */
    uint64_t err_status_n, missing, wrong, unexpected;
    uint64_t reply_lost;         /* of missing: the MO was acknowledged ESME_ROK */
    uint64_t truncated;          /* cancel follow-ups not sent (bound reached) */
    uint64_t no_idle;            /* an MO slot found no idle subscriber */
    uint64_t send_failed;
    struct sim_hist *h, *h_scn[SIM_SCN_N], *h_sec;
    struct sim_hist *h_ack;      /* MO -> its final ESME_ROK resp (one-part MOs) */
    uint32_t *series;            /* replies per second since t0 */
    size_t nseries, series_cap;
    uint64_t last_done;          /* for the progress line */
    double elapsed_s, cpu_user, cpu_sys;
    int exit_status;
};

/* The texts of T_*. */
extern const char *const sim__load_text[T_N];
/* width decimal digits of v at p (no NUL). */
void sim__load_put_digits(uint8_t *p, unsigned width, uint64_t v);
/* Encode n characters of text (digits and capitals) from msisdn into out,
 * after udh (a 6-byte concatenation header, or NULL); 0 or SC_E*. */
int sim__load_encode(struct sim_load *l, const char *text, size_t n, int ucs2, int datasm,
                     uint64_t msisdn, const uint8_t *udh, uint8_t *out, size_t outsz, long *len);
/* Every template of l->t, from l->from; 0 or SC_E* with a message in err. */
int sim__load_templates(struct sim_load *l, char *err, size_t errsz);

/* Commands that failed, all reasons. */
uint64_t sim__load_errors(const struct sim_load *l);
/* A latency in microseconds, for people ("850us", "12.3ms"). */
const char *sim__load_fmt_us(char *buf, size_t sz, uint64_t us);
/* The summary on stdout. */
void sim__load_summary(struct sim_load *l, int interrupted);
/* Every figure as the --json document; new reference (NULL: out of memory). */
json_t *sim__load_json(struct sim_load *l, int interrupted);

#endif
