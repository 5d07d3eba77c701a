/* server.h -- smsc-sim's SMSC side: the listening socket, the ESME sessions
 * and what an SMSC does with their requests (server.c: sessions and binds;
 * submit.c: submit_sm / data_sm, delayed resps, MT reassembly, receipts).
 *
 * The server owns struct sim_server, every conn (conn.h), every delayed
 * resp and the receipts' state (dlr.h). It tells its owner what happens through hooks: a complete MT
 * (on_mt, which takes the MT), an RX-capable session bound (on_bound), and
 * something shutdown waits for finished (on_idle: a session or the listener
 * closed). */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conn.h"
#include "dlr.h"
#include "smsc/pdu.h"

struct sc_reasm;
struct sim_faults;
struct sim_mos;
struct sim_opts;
struct sim_resp;
struct sim_stats;

/* A complete MT, as the handset would show it. */
struct sim_mt {
    struct sim_mt *next;         /* for whoever queues it */
    char from[SC_ADDR_MAX];      /* source_addr of the submit_sm (the service number) */
    char to[SC_ADDR_MAX];        /* destination_addr (the subscriber) */
    unsigned parts;
    uint8_t data_coding;
    size_t len;
    char text[];                 /* UTF-8, NUL-terminated */
};

struct sim_server_hooks {
    void *ctx;
    void (*on_mt)(void *ctx, struct sim_mt *mt);  /* takes mt */
    void (*on_bound)(void *ctx);
    void (*on_idle)(void *ctx);
};

struct sim_server {
    uv_loop_t *loop;
    const struct sim_opts *o;
    struct sim_stats *stats;
    struct sim_faults *faults;
    struct sim_mos *mos;         /* receipts, and MOs requeued from closed sessions */
    struct sim_server_hooks hooks;
    int quiet_mt;                /* log MTs at debug (load mode), not info */

    uv_tcp_t listener;
    int listener_open;
    int port;
    int stopping;
    struct sim_conns conns;
    unsigned next_conn_id;

    /* submit_sm resps waiting for --resp-delay-ms (FIFO = deadline order) */
    struct sim_resp *rq_head, *rq_tail;
    size_t rq_len;
    uv_timer_t rq_timer;
    uint64_t rate_free_ns;       /* --resp-rate: when the next resp may go (loop ns) */
    uint64_t mt_pdus;            /* for --throttle-every */
    uint64_t msgid;              /* the last message_id given (hex), one per decoded part */
    struct sim_dlrs dlrs;        /* receipts waiting for their time */

    struct sc_reasm *reasm;
    uv_timer_t reasm_timer;
};

/* Set up srv (no socket yet). The pointers must outlive srv. */
void sim_server_init(struct sim_server *srv, uv_loop_t *loop, const struct sim_opts *o,
                     struct sim_stats *stats, struct sim_faults *faults, struct sim_mos *mos,
                     const struct sim_server_hooks *hooks);
/* Listen on o->listen_host; sets srv->port. 0 or negative SC_E*. */
int sim_server_start(struct sim_server *srv, char *err, size_t errsz);
/* Shutdown: stop listening, unbind every bound session (waiting briefly for
 * unbind_resp), close the others. on_idle is called as they go. */
void sim_server_stop(struct sim_server *srv);
/* 1 when no session is open and the listener is closed. */
int sim_server_idle(const struct sim_server *srv);
/* Bound conns that can take MOs (RX or TRX). */
unsigned sim_server_rx_bound(const struct sim_server *srv);
/* Second signal or shutdown deadline: close every session now. */
void sim_server_force_close(struct sim_server *srv);
/* Refresh the open sessions' enquire_link counters from the session layer. */
void sim_server_sync_stats(struct sim_server *srv);
/* Free what the server holds (after every conn is closed). */
void sim_server_free(struct sim_server *srv);

#endif
