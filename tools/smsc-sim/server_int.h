/* server_int.h -- what server.c (sessions, binds) and submit.c (submit_sm,
 * delayed resps, MTs, receipts) share; nothing outside the server uses it. */
#ifndef SIM_SERVER_INT_H
#define SIM_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "server.h"

#define SIM__CONN_LOG(lvl, c, event, fmt, ...)                                              \
    sc_log(lvl, "event=" event " session=%u peer=%s" fmt, (c)->id, (c)->st->peer,           \
           ##__VA_ARGS__)

/* A submit_sm or MT data_sm from a bound transmitter (h->id says which):
 * count it, apply the faults, decode, answer (now or delayed). */
void sim__submit_handle(struct sim_conn *c, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len);
/* Drop the queued resps of one conn (it is closing), or of all (c NULL). */
void sim__resps_purge(struct sim_server *srv, struct sim_conn *c);
/* Free every queued resp and the reassembly state (the loop is gone). */
void sim__resps_free(struct sim_server *srv);
/* Start the resp and reassembly timers and state; 0 or SC_ENOMEM. */
int sim__submit_start(struct sim_server *srv);
/* Send unbind to c (SMSC-initiated); closes after unbind_resp or 1 s. */
void sim__server_unbind(struct sim_conn *c);

#endif
