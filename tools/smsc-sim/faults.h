/* faults.h -- smsc-sim's fault injection: the decisions, their PRNG and their
 * counts. faults.c owns struct sim_faults; callers act on its answers (the
 * server closes, unbinds or answers with an error; mo.c redelivers and
 * reorders, counting into c). Nothing here holds a session or an MO. */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "opts.h"
#include "stats.h"

/* Faults injected, and what redelivery achieved (--stats / --json). */
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

struct sim_faults {
    const struct sim_opts *o;    /* o->f, the seed, --resp-timeout-ms */
    struct sim_fault_counts c;
    uint64_t rng;                /* xorshift64*, seeded from --seed */
    uint64_t pdus_in;            /* PDUs received, all sessions (--close-every) */
};

void sim_fault_init(struct sim_faults *f, const struct sim_opts *o);
/* 1 with probability pct %. */
int sim_fault_chance(struct sim_faults *f, double pct);
/* Session's resp timeout for MOs (--redeliver-timeout-ms may shorten it). */
uint32_t sim_fault_resp_timeout(const struct sim_faults *f);

/* A PDU arrived on session id (its count in *conn_pdus, bumped here; bound:
 * the session is bound): the reason to close it abruptly without handling
 * the PDU, or NULL. */
const char *sim_fault_on_pdu(struct sim_faults *f, unsigned id, uint64_t *conn_pdus, int bound);
/* A submit_sm/data_sm to answer: 0 = normal, 1 = do not answer, 2 = answer
 * with the error status in *status. */
int sim_fault_submit(struct sim_faults *f, unsigned id, uint32_t *status);
/* After session id answered its submits-th submit_sm (and can still be
 * unbound): 1 when --unbind-after says unbind it now (counted). */
int sim_fault_unbind_due(struct sim_faults *f, unsigned id, uint64_t submits);

/* --hostile-share: with that probability build a hostile deliver_sm from ->
 * to in buf (cap >= 1024) and return its length, its kind in *kind; else 0. */
size_t sim_fault_hostile_pdu(struct sim_faults *f, const char *from, const char *to, uint8_t *buf,
                             size_t cap, int *kind);

/* The "faults" JSON object (pending: parts waiting to be redelivered); new
 * reference (NULL when out of memory). */
struct json_t *sim_fault_json(const struct sim_faults *f, uint64_t pending);
/* The summary lines of load mode. */
void sim_fault_summary(const struct sim_faults *f, FILE *out);

#endif
