/* dlr.h -- smsc-sim's delivery receipts: for each MT part accepted with
 * registered_delivery (and --dlr), its outcome and time, the bounded set of
 * receipts waiting for their time, and handing them to the MO queue (mo.h)
 * for the session --dlr-bind says.
 *
 * dlr.c owns struct sim_dlrs and every pending receipt (each holds its
 * encoded deliver_sm, not a session). The server owns the struct sim_dlrs
 * (server.h) and tells it about every accepted part (sim_dlr_accepted). */
#ifndef SIM_DLR_H
#define SIM_DLR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "smsc/pdu.h"
#include "stats.h"

struct sim_mos;
struct sim_opts;
struct sim_dlr;

struct sim_dlrs {
    uv_loop_t *loop;
    const struct sim_opts *o;    /* o->dlr, o->r, the seed */
    struct sim_stats *stats;
    struct sim_mos *mos;         /* where due receipts go */
    uint64_t rng;                /* xorshift64*, from --seed (its own stream) */
    struct sim_dlr **heap;       /* min-heap by (due, order) */
    size_t n, cap;
    uint64_t order;
    uint64_t sent;               /* handed to the MO queue */
    int stopping;
    uv_timer_t timer;            /* at the heap's first due time */
};

/* An MT part whose submit_sm_resp ROK just went out. Pointers are read
 * during the call only. */
struct sim_dlr_part {
    struct sim_sess_stats *st;   /* the submitting session: system_id, counters */
    unsigned conn;               /* its id */
    const struct sc_addr *src, *dst;  /* of the submit_sm */
    uint8_t regdel, dc;          /* registered_delivery, data_coding */
    const char *msgid;           /* the message_id of the resp */
    long submit_time;            /* unix s */
    const uint8_t *text;         /* the part's text (UDH removed) */
    size_t len;
};

/* Set up d (empty, a timer on loop). The pointers must outlive d. */
void sim_dlr_init(struct sim_dlrs *d, uv_loop_t *loop, const struct sim_opts *o,
                  struct sim_stats *stats, struct sim_mos *mos);
/* With --dlr and registered_delivery 1 (or 3: any outcome) or 2 (failures
 * only): decide the receipt's stat and delay, encode it and keep it until
 * it is due (or count it dropped). */
void sim_dlr_accepted(struct sim_dlrs *d, const struct sim_dlr_part *p);
/* Receipts waiting for their time. */
size_t sim_dlr_pending(const struct sim_dlrs *d);
/* Shutdown: nothing more is sent (the pending stay counted until freed). */
void sim_dlr_stop(struct sim_dlrs *d);
/* Free the pending receipts (the timer is closed with the loop's handles). */
void sim_dlr_free(struct sim_dlrs *d);

#endif
