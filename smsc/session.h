/* session.h -- one SMPP connection on libuv: framing, coalesced writes,
 * sequence numbers, response matching with timeouts, enquire_link.
 *
 * Role-agnostic: the daemon (ESME, smsc/esme.c) and smsc-sim (SMSC) both sit
 * on top of it. The session itself answers the peer's enquire_link, sends
 * generic_nack for command ids SMPP 3.4 does not define and for a bad
 * command_length (then closes, as the stream cannot be resynchronised), keeps
 * the link alive with enquire_link after enquire_link_ms of silence and
 * closes it when no resp comes within resp_timeout_ms. Every other PDU goes
 * to the owner's on_pdu callback; resps to requests sent with
 * sc_session_request() go to that request's callback.
 *
 * I/O: every PDU of one read is handled before the next read; PDUs queued in
 * one loop iteration leave in one write (flushed from a uv_prepare handle,
 * before the loop blocks). When the peer does not read and more than
 * out_max bytes are queued, reading stops until the queue drains.
 *
 * Ownership: the session owns its socket and buffers. After
 * sc_session_close() the owner gets on_closed exactly once (from the loop,
 * never from inside sc_session_close) and must not touch the session after
 * that: it frees itself. Pointers passed to callbacks are borrowed and valid
 * only during the callback. */
#ifndef SC_SESSION_H
#define SC_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "smsc/pdu.h"

struct sc_session;

/* Bind states, with names for logs (sc_session_state_name). */
#define SC_SESSION_STATE_MAP(X) \
    X(OPEN, "open")             \
    X(BINDING, "binding")       \
    X(BOUND_TX, "bound_tx")     \
    X(BOUND_RX, "bound_rx")     \
    X(BOUND_TRX, "bound_trx")   \
    X(UNBINDING, "unbinding")   \
    X(CLOSED, "closed")

enum sc_session_state {
#define SC__SS_ENUM(name, text) SC_SS_##name,
    SC_SESSION_STATE_MAP(SC__SS_ENUM)
#undef SC__SS_ENUM
};
const char *sc_session_state_name(enum sc_session_state st);

/* A resp to a request, or its failure. err is 0 (resp received: h and pdu
 * valid; a generic_nack with the request's seq counts as its resp), or
 * SC_ETIMEOUT (no resp in time), or SC_ECLOSED (session closed first). */
typedef void (*sc_session_resp_cb)(struct sc_session *s, void *ctx, int err,
                                   const struct sc_pdu_hdr *h, const uint8_t *pdu, size_t len);

struct sc_session_cbs {
    /* A PDU that is not a resp to one of our requests (requests from the
     * peer; unmatched resps are logged and dropped by the session). */
    void (*on_pdu)(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                   size_t len);
    /* The session is gone (peer closed, error, timeout, or after
     * sc_session_close). reason is a short static text for logs. */
    void (*on_closed)(struct sc_session *s, const char *reason);
};

struct sc_session_opts {
    const char *name;            /* for logs: bind name or peer system_id; copied */
    uint32_t max_pdu_len;        /* larger command_length -> generic_nack + close */
    uint32_t enquire_link_ms;    /* idle time before we send enquire_link; 0 = never */
    uint32_t resp_timeout_ms;    /* for every request we send */
    size_t out_max;              /* pause reading above this many queued bytes */
    unsigned max_outstanding;    /* requests awaiting a resp, incl. enquire_link */
};

/* Wrap a connected TCP stream. tcp must have been initialised on loop by the
 * caller with uv_tcp_init and connected/accepted; the session takes it over
 * (it closes it). Starts reading at once. Returns NULL on allocation failure
 * (the caller then still owns tcp). */
struct sc_session *sc_session_new(uv_loop_t *loop, uv_tcp_t *tcp, const struct sc_session_opts *o,
                                  const struct sc_session_cbs *cbs, void *owner);

void *sc_session_owner(const struct sc_session *s);
const char *sc_session_name(const struct sc_session *s);
/* "host:port" of the peer, for logs. */
const char *sc_session_peer(const struct sc_session *s);
void sc_session_set_name(struct sc_session *s, const char *name);

enum sc_session_state sc_session_state(const struct sc_session *s);
/* Sets the state (logged at debug level with both names). */
void sc_session_set_state(struct sc_session *s, enum sc_session_state st);

/* Next sequence number (1..0x7FFFFFFF, wrapping). */
uint32_t sc_session_next_seq(struct sc_session *s);

/* Queue a request PDU (already encoded with sequence number seq) and wait
 * for its resp. cb is called exactly once (resp, timeout or close), never
 * from inside this call. Returns 0, SC_EBUSY when max_outstanding requests
 * are already waiting, SC_ECLOSED when the session is closing. On error cb
 * is not called. */
int sc_session_request(struct sc_session *s, uint32_t seq, const uint8_t *pdu, size_t len,
                       sc_session_resp_cb cb, void *ctx);

/* Queue a PDU that expects no resp (a resp of ours, generic_nack). Returns 0
 * or SC_ECLOSED. */
int sc_session_send(struct sc_session *s, const uint8_t *pdu, size_t len);

/* Convenience: header-only PDU / resp with one C-string (see pdu.h). */
int sc_session_send_simple(struct sc_session *s, uint32_t id, uint32_t status, uint32_t seq);
int sc_session_send_str_resp(struct sc_session *s, uint32_t id, uint32_t status, uint32_t seq,
                             const char *str);

/* Requests sent and not yet answered. */
unsigned sc_session_outstanding(const struct sc_session *s);
/* enquire_link PDUs the session handles itself: received from the peer
 * (and answered), sent after enquire_link_ms of silence, and resps received
 * to those. Any pointer may be NULL. */
void sc_session_enquire_link_counts(const struct sc_session *s, uint64_t *received,
                                    uint64_t *sent, uint64_t *resp_received);
/* Bytes queued for writing and not yet written. */
size_t sc_session_queued(const struct sc_session *s);

/* Close now: what is queued gets one non-blocking write attempt (so a
 * final unbind_resp or generic_nack can still leave), the rest is dropped;
 * outstanding requests fail with SC_ECLOSED and on_closed follows, both from
 * the loop, never from inside this call. Safe to call more than once and
 * from inside any callback. */
void sc_session_close(struct sc_session *s, const char *reason);

#endif
