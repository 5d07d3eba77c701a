/* opts.h -- smsc-sim's command line: the options every other file reads.
 *
 * opts.c owns the parsing (one table of options, then checks across them)
 * and the small parsers the script and load modes use too. struct sim_opts
 * is filled once at start-up and read-only afterwards; it owns only the
 * accounts array (sim_opts_free). Strings it points to are argv's. */
#ifndef SIM_OPTS_H
#define SIM_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "smsc/pdu.h"

struct sim_account {
    char system_id[16];
    char password[9];
};

/* Load mode (--load): see load.c and docs/simulator.md. */
enum sim_scn { SIM_SCN_0000 = 0, SIM_SCN_CANCEL, SIM_SCN_UNKNOWN, SIM_SCN_LONGTD, SIM_SCN_N };
/* "0000", "cancel", "unknown", "longtd". */
extern const char *const sim_scn_name[SIM_SCN_N];

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

/* --dlr-bind: where a receipt goes among the sessions of the ESME's system_id. */
enum sim_dlr_bind {
    SIM_DLR_ANY = 0,             /* any RX-capable session, round-robin */
    SIM_DLR_SAME,                /* the session that submitted (else any) */
    SIM_DLR_OTHER,               /* another session than it (else any) */
};

/* Delivery receipts (dlr.c); with --dlr. */
struct sim_dlr_opts {
    uint32_t delay_min_ms, delay_max_ms; /* after the submit_sm_resp ROK */
    double undeliv_pct, expired_pct;     /* shares of stat:UNDELIV / stat:EXPIRED */
    uint32_t undeliv_err, expired_err;   /* their err: codes (0..999) */
    int bind;                            /* enum sim_dlr_bind */
    size_t max_pending;                  /* receipts waiting for their time */
};

struct sim_opts {
    char listen_host[256];
    const char *port_file;
    struct sim_account *accounts;    /* owned */
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
    uint32_t resp_rate;          /* submit_sm_resps per second at most; 0 = no bound */
    const char *stats_file;
    uint32_t max_pdu;
    unsigned max_sessions;
    unsigned max_binds;          /* binds per system_id at once; 0 = no bound */
    uint32_t max_binds_status;   /* the refusal beyond it: ESME_RBINDFAIL or ESME_RALYBND */
    unsigned window;
    uint32_t resp_timeout_ms;
    size_t max_queue;
    char system_id[16];
    char msgid_prefix[17];       /* before each message_id's hex counter */
    int dc0;                     /* enum sc_dc0, for MTs with data_coding 0 */
    int fail_fast;
    struct sim_load_opts load;
    struct sim_fault_opts f;
    struct sim_dlr_opts r;
};

/* Parse argv into o (defaults first). Returns -1 to go on, or the exit
 * status to end with (0 after --help, 2 after a usage error, printed). */
int sim_opts_parse(int argc, char **argv, struct sim_opts *o);
void sim_opts_free(struct sim_opts *o);

/* Parse a decimal number in [min, max]; 0 or SC_EINVAL. */
int sim_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a share "P" (0..100, decimals allowed); 0 or SC_EINVAL. */
int sim_parse_pct(const char *s, double *out);
/* Check an address given on the command line / in a script (1..20 bytes,
 * printable ASCII, no spaces). */
int sim_addr_valid(const char *s);
/* Parse "0000:70,cancel:20,unknown:10" into weights; 0 or SC_EINVAL. */
int sim_parse_mix(const char *s, unsigned mix[SIM_SCN_N]);
/* Parse "SCENARIO=REGEX" for --expect-regex; 0 or SC_EINVAL. */
int sim_parse_expect(const char *s, const char *expect[SIM_SCN_N]);

#endif
