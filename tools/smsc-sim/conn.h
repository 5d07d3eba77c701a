/* conn.h -- one ESME session as smsc-sim sees it, and the list of them.
 *
 * The server (server.c) owns every conn: it creates one per accepted TCP
 * connection, links it into its struct sim_conns and frees it after its
 * session's on_closed. mo.c only reads the list to pick a session for an MO
 * part. A conn's stats record belongs to struct sim_stats (stats.h). */
#ifndef SIM_CONN_H
#define SIM_CONN_H

#include <stdint.h>
#include <uv.h>

#include "smsc/session.h"
#include "stats.h"

struct sim_server;

struct sim_conn {
    struct sim_server *srv;
    struct sc_session *s;        /* NULL once closed */
    struct sim_sess_stats *st;
    unsigned id;
    int rx, tx;                  /* bound and able to receive MOs / send MTs */
    uint64_t pdus_in, submits_in; /* for --close-every / --unbind-after */
    int unbinding;               /* 1: unbind received, 2: unbind sent */
    struct sim_acct *acct;       /* its system_id's bind count while bound, or NULL */
    uv_timer_t timer;            /* closes the session after an unbind */
    struct sim_conn *prev, *next;
};

/* The open sessions, newest first. */
struct sim_conns {
    struct sim_conn *head;
    unsigned n;
};

#endif
