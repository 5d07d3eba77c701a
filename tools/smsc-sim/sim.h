/* sim.h -- smsc-sim internals shared by its files: options, state, counters.
 *
 * smsc-sim is the SMSC side of SMPP 3.4 on the project's own session layer
 * (smsc/session.h) and codec (smsc/pdu.h). One process, one thread, one
 * libuv loop; nothing blocks.
 *
 *   main.c        command line, signals, start-up and shutdown
 *   server.c      listening socket, ESME sessions, binds, submit_sm handling,
 *                 delayed resps, throttling, MT reassembly, delivery receipts
 *   mo.c          MOs: encoding, splitting into parts, queue, round-robin send
 *   stats.c       counters, the 1-second sliding window, the JSON stats file
 *   script.c      scripted mode (--script)
 *   interactive.c interactive mode (stdin lines -> MOs, MTs printed)
 *   load.c        load mode (--load): paced MOs from many subscribers, replies
 *                 matched per subscriber, latency, throughput, errors, CPU
 *   hist.c        log-linear latency histogram used by load.c (hist.h)
 *
 * Ownership in one sentence each: the sim owns every conn, MO, MT event and
 * stats record; a conn is freed after its session's on_closed; an MO is freed
 * when its last part is answered and nobody holds it (refs); an MT event
 * handed to sim_mt_event() belongs to whoever takes it (script queue) or is
 * freed there. */
#ifndef SC_TOOLS_SIM_H
#define SC_TOOLS_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <uv.h>

#include "smsc/pdu.h"
#include "smsc/reasm.h"
#include "smsc/session.h"

/* ---- options ------------------------------------------------------------ */

struct sim_account {
    char system_id[16];
    char password[9];
};

enum sim_enc { SIM_ENC_AUTO = 0, SIM_ENC_GSM, SIM_ENC_UCS2 };
enum sim_concat { SIM_CONCAT_UDH8 = 0, SIM_CONCAT_UDH16, SIM_CONCAT_SAR };

/* Load mode (--load): see load.c and docs/simulator.md. */
enum sim_scn { SIM_SCN_0000 = 0, SIM_SCN_CANCEL, SIM_SCN_UNKNOWN, SIM_SCN_LONGTD, SIM_SCN_N };

struct sim_load_opts {
    int on;                      /* --load */
    uint64_t subscribers;        /* MSISDNs from .. from+N-1 */
    unsigned mix[SIM_SCN_N];     /* scenario weights */
    unsigned ucs2_pct, datasm_pct;
    uint64_t rate;               /* MOs/s offered; 0 = max */
    uint64_t count;              /* MOs; 0 = no bound but the duration */
    uint64_t duration_ms;
    uint64_t reply_timeout_ms;
    const char *expect[SIM_SCN_N];   /* POSIX ERE per scenario, or NULL */
    const char *json;
    unsigned binds;              /* RX-capable sessions to wait for */
    uint64_t seed;
    int pack_each;               /* encode every MO with libsmpp34 (no templates) */
    const char *td_codes;        /* longtd: "CODE,CODE,..." (default "CL001") */
    uint64_t long_gap_ms;        /* longtd: part 2 this long after part 1's ROK */
};

/* How one MO is built. */
struct sim_send_opts {
    enum sim_enc enc;
    int data_sm;                 /* send as data_sm (text in message_payload) */
    int payload;                 /* deliver_sm with message_payload */
    unsigned parts;              /* 0 = as many as the text needs */
    enum sim_concat concat;      /* how parts are tied together */
    unsigned only;               /* 1..parts: send only this part; 0 = all */
    int has_ref;                 /* ref below, not the next one */
    uint16_t ref;                /* concatenation reference */
};

/* Fault injection (faults.c); shares are percentages 0..100 (fractions allowed). */
struct sim_fault_opts {
    double throttle_pct;         /* submit_sm answered ESME_RTHROTTLED */
    double msgqfull_pct;         /* submit_sm answered ESME_RMSGQFUL */
    double drop_resp_pct;        /* submit_sm never answered */
    double close_random_pct;     /* per PDU received: close the connection */
    double hostile_pct;          /* per MO: a hostile PDU is sent too */
    uint32_t close_every;        /* close after every N PDUs received (per session) */
    uint32_t unbind_after;       /* send unbind after N submit_sm (per session) */
    int redeliver;               /* redeliver MOs not acknowledged ROK */
    uint32_t redeliver_timeout_ms;
    uint32_t redeliver_max;
    uint32_t redeliver_interval_ms;
    int dup_parts, reorder_parts;
};

struct sim_opts {
    char listen_host[256];
    int listen_port;
    const char *port_file;
    struct sim_account *accounts;
    size_t naccounts;
    const char *script;
    int interactive;             /* forced with --interactive */
    char from[SC_ADDR_MAX];
    char to[SC_ADDR_MAX];
    uint32_t timeout_ms;
    int dlr;
    uint32_t enquire_link_ms;
    uint32_t throttle_every;
    uint32_t resp_delay_ms;
    const char *stats_file;
    uint32_t max_pdu;
    unsigned max_sessions;
    unsigned window;
    uint32_t resp_timeout_ms;
    size_t max_queue;
    char system_id[16];
    int dc0;                     /* enum sc_dc0, for MTs with data_coding 0 */
    int fail_fast;
    struct sim_load_opts load;
    struct sim_fault_opts f;
};


/* ---- counters ----------------------------------------------------------- */

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

/* Faults injected, and what redelivery achieved (faults.c, --stats / --json). */
struct sim_fault_counts {
    uint64_t throttled, msgqfull, dropped_resp;
    uint64_t closed_every, closed_random, unbinds;
    uint64_t redeliveries;                 /* MO parts sent again (any reason) */
    uint64_t redeliver_error, redeliver_timeout, redeliver_closed;
    uint64_t mo_redelivered;               /* distinct MOs sent more than once */
    uint64_t mo_ok_after_redelivery;       /* ... that finally got ESME_ROK */
    uint64_t mo_redeliver_exhausted;       /* parts given up after --redeliver-max */
    uint64_t dup_parts, reordered_mos;
    uint64_t hostile_sent;
    struct sim_statmap hostile_resp;       /* status of hostile PDUs' resps */
};

/* Events per 1-second sliding window: one slot per millisecond. */
#define SIM_RATE_SLOTS 1000
struct sim_rate {
    uint32_t slot[SIM_RATE_SLOTS];
    uint64_t last_ms;
    uint64_t sum, max;
    int started;
};

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

/* ---- sessions ----------------------------------------------------------- */

struct sim;

struct sim_conn {
    struct sim *sim;
    struct sc_session *s;
    struct sim_sess_stats *st;
    unsigned id;
    int rx, tx;                  /* bound and able to receive MOs / send MTs */
    uint64_t pdus_in, submits_in; /* for --close-every / --unbind-after */
    int unbinding;               /* unbind sent or received */
    uv_timer_t timer;            /* closes the session after an unbind */
    struct sim_conn *prev, *next;
};

/* ---- MOs ---------------------------------------------------------------- */

enum sim_mo_kind { SIM_MO_SCRIPT = 0, SIM_MO_BURST, SIM_MO_TTY, SIM_MO_LOAD, SIM_MO_HOSTILE };

struct sim_mo {
    unsigned id;
    enum sim_mo_kind kind;
    char from[SC_ADDR_MAX];
    char to[SC_ADDR_MAX];
    unsigned nparts;
    unsigned parts_left;
    int64_t status;              /* final: the first non-ROK part status, else ROK */
    int done;
    int refs;                    /* parts not answered + holders */
    uint64_t sent_ms;
    int replied;                 /* an MT to from arrived after it was sent (tty) */
    int no_reply_told;           /* "(no reply after N s)" printed (tty) */
    unsigned redeliveries;       /* parts sent again (--redeliver, closed sessions) */
    uint64_t ctx;                /* the owner's (load: subscriber and command serial) */
};

struct sim_mopart;

/* ---- MT events ---------------------------------------------------------- */

struct sim_mt {
    struct sim_mt *next;
    char from[SC_ADDR_MAX];      /* source_addr of the submit_sm (the service number) */
    char to[SC_ADDR_MAX];        /* destination_addr (the subscriber) */
    unsigned parts;
    uint8_t data_coding;
    size_t len;
    char text[];                 /* UTF-8, NUL-terminated */
};

/* ---- the simulator -------------------------------------------------------- */

struct sim_resp;
struct sim_script;
struct sim_tty;
struct sim_load;

/* A list of MO parts (mo.c), oldest first. */
struct sim_mopart;
STAILQ_HEAD(sim_moq, sim_mopart);

struct sim {
    uv_loop_t *loop;
    struct sim_opts o;
    uint64_t start_ms;

    uv_tcp_t listener;
    int listener_open;
    int port;
    uv_signal_t sig_term, sig_int, sig_usr1;

    struct sim_conn *conns;
    unsigned nconns;
    unsigned next_conn_id;
    unsigned rr;                 /* round-robin over RX-capable conns */

    /* stats */
    struct sim_counters total;
    uint64_t sessions_accepted, sessions_refused;
    uint64_t mo_sent;
    struct sim_statmap mo_status;
    uint64_t mt_dropped;
    struct sim_sess_stats *sess_head, *sess_tail;
    unsigned nsess_stats;

    /* submit_sm resps waiting for --resp-delay-ms */
    struct sim_resp *rq_head, *rq_tail;
    size_t rq_len;
    uv_timer_t rq_timer;
    uint64_t mt_pdus;            /* for --throttle-every */
    uint64_t msgid;

    struct sc_reasm *reasm;
    uv_timer_t reasm_timer;

    /* MO parts waiting for room in a session's window */
    struct sim_moq mq;
    size_t mq_len;
    struct sim_moq rd;           /* to redeliver (session closed) */
    unsigned mo_ids;
    uint16_t mo_ref;

    /* faults.c */
    struct sim_fault_counts fc;
    uint64_t frng;               /* fault PRNG (seeded with --seed) */
    uint64_t pdus_in;            /* PDUs received, all sessions (--close-every) */
    struct sim_moq fd;           /* parts waiting to be redelivered, due first */
    uv_timer_t fd_timer;

    struct sim_script *script;
    struct sim_tty *tty;
    struct sim_load *load;

    int stopping;
    int finished;
    int exit_code;
    int stats_written;
    uv_timer_t stop_timer;
};

/* ---- server.c ------------------------------------------------------------- */

/* Listen on o.listen_host:o.listen_port; sets sim->port. 0 or negative SC_E*. */
int sim_server_start(struct sim *sim, char *err, size_t errsz);
/* Shutdown: stop listening, unbind every bound session (waiting briefly for
 * unbind_resp), close the others. sim_maybe_finished() is called as they go. */
void sim_server_stop(struct sim *sim);
/* Bound conns that can take MOs (RX or TRX). */
unsigned sim_server_rx_bound(const struct sim *sim);
/* Second signal or shutdown deadline: close every session now. */
void sim_server_force_close(struct sim *sim);
/* Free what the server holds (after every conn is closed). */
void sim_server_free(struct sim *sim);

/* A complete MT: logged, then handed to the script or the terminal, or freed.
 * Takes ownership of mt. */
void sim_mt_event(struct sim *sim, struct sim_mt *mt);

/* ---- mo.c ------------------------------------------------------------------- */

/* Build and queue an MO from -> to. Returns the MO (held once for the caller:
 * release with sim_mo_release) or NULL with a message in err. */
struct sim_mo *sim_mo_send(struct sim *sim, enum sim_mo_kind kind, const char *from,
                           const char *to, const char *text, size_t len,
                           const struct sim_send_opts *so, char *err, size_t errsz);
void sim_mo_release(struct sim *sim, struct sim_mo *mo);
/* Queue one ready single-part MO PDU (seq patched when sent) of the given
 * kind with ctx for the owner; nobody holds it: it is freed once answered.
 * 0, SC_EBUSY (queue full) or SC_ENOMEM. Does not pump. */
int sim_mo_send_pdu(struct sim *sim, enum sim_mo_kind kind, const char *from, const char *to,
                    const uint8_t *pdu, size_t len, uint64_t ctx);
/* Queue one encoded deliver_sm/data_sm (seq patched when sent) for an
 * RX-capable session; mo NULL means a delivery receipt. sysid non-empty
 * restricts it to sessions bound with that system_id. 0, SC_EBUSY (queue
 * full) or SC_ENOMEM. */
int sim_mo_enqueue(struct sim *sim, struct sim_mo *mo, const uint8_t *pdu, size_t len,
                   const char *sysid);
/* Send queued parts while a session has room. */
void sim_mo_pump(struct sim *sim);
/* Put the parts of a session that just closed back at the queue's head. */
void sim_mo_requeue(struct sim *sim);
/* Fail every queued part (shutdown). */
void sim_mo_drop_all(struct sim *sim);
/* "ESME_ROK", "timeout", ... into buf. */
const char *sim_status_name(int64_t st, char *buf, size_t bufsz);

/* Put a part at the tail of the queue (redelivery). */
void sim_mo_push_part(struct sim *sim, struct sim_mopart *p);
/* Redelivery bookkeeping of a part: its MO, try count. */
struct sim_mo *sim_mopart_mo(const struct sim_mopart *p);
unsigned sim_mopart_tries(const struct sim_mopart *p);
void sim_mopart_set_tries(struct sim_mopart *p, unsigned tries);
/* The part lists (sim.mq, .rd, .fd): push at the tail, pop the head (NULL
 * when empty), count. STAILQ_FIRST / STAILQ_EMPTY read them too. */
void sim_moq_push(struct sim_moq *q, struct sim_mopart *p);
struct sim_mopart *sim_moq_pop(struct sim_moq *q);
size_t sim_moq_count(const struct sim_moq *q);
/* Make the part lists empty (before anything else uses sim). */
void sim_mo_init_queues(struct sim *sim);
uint64_t sim_mopart_due(const struct sim_mopart *p);
void sim_mopart_set_due(struct sim_mopart *p, uint64_t due);

/* ---- faults.c --------------------------------------------------------------- */

/* Parse a share "P" (0..100, decimals allowed); 0 or SC_EINVAL. */
int sim_fault_parse_pct(const char *s, double *out);
void sim_fault_init(struct sim *sim);
/* 1 with probability pct %. */
int sim_fault_chance(struct sim *sim, double pct);
/* A PDU arrived on c: 1 if the connection was closed by a fault (do not
 * handle the PDU). */
int sim_fault_on_pdu(struct sim_conn *c);
/* A submit_sm/data_sm to answer: 0 = normal, 1 = do not answer, or an
 * error status in *status to answer with. */
int sim_fault_submit(struct sim_conn *c, uint32_t *status);
/* After a submit_sm was answered: --unbind-after. */
void sim_fault_after_submit(struct sim_conn *c);
/* A part of an MO got status st (not ROK): 1 when it will be redelivered
 * (the part is taken), 0 when it is final. */
int sim_fault_redeliver(struct sim *sim, struct sim_mopart *p, int64_t st);
/* An MO finished (redelivery figures). */
void sim_fault_mo_done(struct sim *sim, const struct sim_mo *mo);
/* Put every part waiting for redelivery back in the queue (shutdown). */
void sim_fault_flush(struct sim *sim);
/* Load mode: maybe queue a hostile PDU (--hostile-share). */
void sim_fault_maybe_hostile(struct sim *sim, const char *from);
/* Session's resp timeout for MOs. */
uint32_t sim_fault_resp_timeout(const struct sim *sim);
/* The "faults" JSON object; new reference (NULL when out of memory). */
struct json_t *sim_fault_json(struct sim *sim);
/* One summary line for load mode. */
void sim_fault_summary(struct sim *sim, FILE *f);
/* Send unbind to c (SMSC-initiated); closes after unbind_resp or 1 s. */
void sim_server_unbind(struct sim_conn *c);

/* ---- stats.c ---------------------------------------------------------------- */

void sim_statmap_add(struct sim_statmap *m, int64_t status);
/* One event at now_ms in the sliding window. */
void sim_rate_hit(struct sim_rate *r, uint64_t now_ms);
/* Record the arrival of a submit_sm / data_sm on st at now_ms (loop time);
 * silently stops at SIM_SUBMIT_MS_MAX per session or when out of memory. */
void sim_stats_submit_arrival(struct sim *sim, struct sim_sess_stats *st, uint64_t now_ms);
/* A new per-session record (open), linked into the sim's list (oldest closed
 * records dropped beyond a bound). NULL when out of memory. */
struct sim_sess_stats *sim_stats_session_new(struct sim *sim, unsigned id);
/* Write the JSON stats to o.stats_file (tmp + rename). 0, SC_ENOMEM or SC_EIO. */
int sim_stats_write(struct sim *sim);
void sim_stats_free(struct sim *sim);
/* Refresh the session's enquire_link counters from the session layer. */
void sim_stats_sync_session(struct sim_conn *c);

/* ---- script.c ---------------------------------------------------------------- */

/* Parse the script; on error print FILE:LINE: message to stderr, return NULL. */
struct sim_script *sim_script_load(struct sim *sim, const char *path);
void sim_script_start(struct sim_script *sc);
void sim_script_on_mt(struct sim_script *sc, struct sim_mt *mt);
void sim_script_on_mo_done(struct sim_script *sc, struct sim_mo *mo);
void sim_script_on_bound(struct sim_script *sc);
void sim_script_stop(struct sim_script *sc);
void sim_script_free(struct sim_script *sc);

/* ---- interactive.c ----------------------------------------------------------- */

/* Start reading stdin. NULL when out of memory; a tty that could not start
 * reading is returned with a message in err (free it after the loop). */
struct sim_tty *sim_tty_start(struct sim *sim, char *err, size_t errsz);
/* A read of stdin is still running on the thread pool. */
int sim_tty_busy(const struct sim_tty *t);
void sim_tty_on_mt(struct sim_tty *t, const struct sim_mt *mt);
void sim_tty_on_mo_done(struct sim_tty *t, struct sim_mo *mo);
void sim_tty_stop(struct sim_tty *t);
void sim_tty_free(struct sim_tty *t);

/* ---- load.c ------------------------------------------------------------------------ */

/* Parse "0000:70,cancel:20,unknown:10" into weights; 0 or SC_EINVAL. */
int sim_load_parse_mix(const char *s, unsigned mix[SIM_SCN_N]);
/* Parse "SCENARIO=REGEX" for --expect-regex; 0 or SC_EINVAL. */
int sim_load_parse_expect(const char *s, const char *expect[SIM_SCN_N]);
/* Check o.load and o.from; NULL with a message in err (usage error) or the
 * load state (the run starts once enough sessions are bound). */
struct sim_load *sim_load_new(struct sim *sim, char *err, size_t errsz);
void sim_load_start(struct sim_load *l);
void sim_load_on_bound(struct sim_load *l);
void sim_load_on_mt(struct sim_load *l, const struct sim_mt *mt);
void sim_load_on_mo_done(struct sim_load *l, struct sim_mo *mo);
/* Interrupted (signal): report what was measured; returns the exit status (1). */
int sim_load_interrupt(struct sim_load *l);
void sim_load_free(struct sim_load *l);

/* ---- main.c -------------------------------------------------------------------- */

/* Begin shutdown with this exit code (the first call wins). */
void sim_stop(struct sim *sim, int exit_code);
/* Called whenever something shutdown waits for has finished. */
void sim_maybe_finished(struct sim *sim);

/* Parse a decimal number in [min, max]; 0 or SC_EINVAL. */
int sim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Check an address given on the command line / in a script (1..20 bytes,
 * printable ASCII, no spaces). */
int sim_addr_valid(const char *s);

#endif
