/* stats.h -- smsc-sim's counters: status maps, the 1-second sliding window,
 * the counters kept in total and per session, and the per-session records.
 *
 * stats.c owns struct sim_stats: the totals and a bounded list of session
 * records (open ones always kept); a record is freed by sim_stats_free or
 * when the list drops the oldest closed one. The --stats JSON file that
 * reports them is statsfile.c's. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Special "statuses" for an MO (part) that got no resp. */
#define SIM_ST_TIMEOUT (-1)
#define SIM_ST_CLOSED (-2)
#define SIM_ST_SHUTDOWN (-3)
#define SIM_ST_OTHER (-4)        /* a status map's overflow entry */

/* A small map from status (or SIM_ST_*) to a count. */
#define SIM_STATMAP_MAX 32
struct sim_statmap {
    unsigned n;
    struct {
        int64_t status;
        uint64_t count;
    } e[SIM_STATMAP_MAX];
};

/* Events per 1-second sliding window: one slot per millisecond. */
#define SIM_RATE_SLOTS 1000
struct sim_rate {
    uint32_t slot[SIM_RATE_SLOTS];
    uint64_t last_ms;
    uint64_t sum, max;
    int started;
};

/* Counts by source address: the first SIM_SRCMAP_MAX - 1 addresses, then
 * one entry (the last, once n == SIM_SRCMAP_MAX) for all the others. */
#define SIM_SRCMAP_MAX 32
struct sim_srcmap {
    unsigned n;
    struct {
        char addr[21];
        uint64_t count;
    } e[SIM_SRCMAP_MAX];
};

/* Receipt outcomes (dlr.c). */
enum sim_dlr_stat { SIM_DLR_DELIVRD = 0, SIM_DLR_UNDELIV, SIM_DLR_EXPIRED, SIM_DLR_NSTAT };

struct sim_counters {
    uint64_t submit_sm_received;
    uint64_t data_sm_received;     /* data_sm used as MT */
    uint64_t submit_sm_rejected;   /* answered with an error other than throttling */
    uint64_t submit_sm_throttled;
    unsigned submit_sm_outstanding;
    unsigned submit_sm_max_outstanding;
    uint64_t mt_parts_accepted;
    uint64_t mt_messages;
    uint64_t mt_bad_udh;
    uint64_t mt_reasm_errors;
    uint64_t dlr_sent;
    struct sim_statmap dlr_status;
    uint64_t dlr_scheduled;        /* receipts decided (by the submitting session) */
    uint64_t dlr_dropped;          /* ... not kept: --dlr-max-pending or the MO queue full */
    uint64_t dlr_stat[SIM_DLR_NSTAT]; /* scheduled, by stat */
    struct sim_srcmap submit_by_source; /* submit_sm / data_sm decoded */
    uint64_t submit_by_dc[256];    /* ... by data_coding */
    uint64_t enquire_link_received;
    uint64_t enquire_link_sent;
    uint64_t enquire_link_resp_received;
    uint64_t binds_accepted;
    uint64_t binds_refused;
    uint64_t unbinds_received;
    uint64_t unbinds_sent;
    uint64_t invalid_commands;     /* answered with generic_nack / an error resp */
    uint64_t mo_parts_sent;
    uint64_t mo_redelivered;
    struct sim_statmap mo_part_status;
    struct sim_rate rate;          /* submit_sm + data_sm received */
};

/* One session's counters; kept after the session closes (bounded list). */
struct sim_sess_stats {
    struct sim_sess_stats *next;
    unsigned id;
    char peer[64];
    char system_id[16];
    const char *bind;              /* "transmitter" / "receiver" / "transceiver" / NULL */
    int open;
    struct sim_counters c;
    uint64_t *submit_ms;           /* arrival of each submit_sm / data_sm, ms
                                    * since start on the loop clock (the
                                    * first SIM_SUBMIT_MS_MAX), for TPS
                                    * accounting by tests */
    size_t nsubmit_ms, submit_ms_cap;
};

/* Binds held at once per system_id (--max-binds), the first SIM_ACCT_MAX
 * system_ids bound; later ones are not counted. */
#define SIM_ACCT_MAX 16
struct sim_acct {
    char system_id[16];
    unsigned now, max;             /* bound sessions now, and the most seen */
    uint64_t refused;              /* binds refused by --max-binds */
};

struct sim_stats {
    struct sim_counters total;
    struct sim_acct acct[SIM_ACCT_MAX];
    unsigned nacct;     /* enquire_link: of closed sessions only */
    uint64_t sessions_accepted, sessions_refused;
    uint64_t mo_sent;
    struct sim_statmap mo_status;
    uint64_t mt_dropped;           /* MTs a full script queue could not keep */
    uint64_t dlr_fallback;         /* receipts sent to any session: --dlr-bind's had gone */
    uint64_t dlr_delay_min_ms, dlr_delay_max_ms; /* resp ROK to receipt sent, loop clock */
    struct sim_sess_stats *sess_head, *sess_tail;
    unsigned nsess;
    uint64_t start_ms;             /* loop time at start: submit_ms counts from it */
};

void sim_statmap_add(struct sim_statmap *m, int64_t status);
/* "ESME_ROK", "timeout", ... (buf holds "0x%08X" for unknown statuses). */
const char *sim_status_name(int64_t st, char *buf, size_t bufsz);
void sim_srcmap_add(struct sim_srcmap *m, const char *addr);
/* A submit_sm / data_sm from src with data_coding dc was decoded on st. */
void sim_stats_submit_decoded(struct sim_stats *s, struct sim_sess_stats *st, const char *src,
                              uint8_t dc);
/* One event at now_ms in the sliding window. */
void sim_rate_hit(struct sim_rate *r, uint64_t now_ms);
/* Record the arrival of a submit_sm / data_sm on st at now_ms (loop time);
 * silently stops at SIM_SUBMIT_MS_MAX per session or when out of memory. */
void sim_stats_submit_arrival(struct sim_stats *s, struct sim_sess_stats *st, uint64_t now_ms);
/* A new per-session record (open), linked into the list (oldest closed
 * records dropped beyond a bound). NULL when out of memory. */
struct sim_sess_stats *sim_stats_session_new(struct sim_stats *s, unsigned id);
void sim_stats_free(struct sim_stats *s);
/* The record of system_id (made on first use), or NULL when SIM_ACCT_MAX
 * system_ids are counted already. */
struct sim_acct *sim_stats_acct(struct sim_stats *s, const char *system_id);

#endif
