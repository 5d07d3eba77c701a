/* mo.h -- smsc-sim's MOs: building them, the queue of their parts, sending
 * the parts round-robin over the RX-capable sessions, and redelivery.
 *
 * mo.c owns struct sim_mos and every queued part. An MO is freed when its
 * last part is answered and nobody holds it (refs): sim_mo_send returns it
 * held once for the caller. When an MO finishes, on_done is called with it
 * (the MO stays valid during the call; hold it to keep it). */
#ifndef SIM_MO_H
#define SIM_MO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "smsc/pdu.h"

struct sim_conns;
struct sim_faults;
struct sim_opts;
struct sim_stats;

enum sim_enc { SIM_ENC_AUTO = 0, SIM_ENC_GSM, SIM_ENC_UCS2 };
enum sim_concat { SIM_CONCAT_UDH8 = 0, SIM_CONCAT_UDH16, SIM_CONCAT_SAR };

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

/* A list of MO parts, oldest first. */
struct sim_mopart;
STAILQ_HEAD(sim_moq, sim_mopart);

struct sim_mos {
    uv_loop_t *loop;
    const struct sim_opts *o;    /* window, max_queue, faults */
    struct sim_stats *stats;
    struct sim_faults *faults;
    const struct sim_conns *conns; /* the server's: sessions to send on */
    struct sim_moq mq;           /* waiting for room in a session's window */
    size_t mq_len;
    struct sim_moq rd;           /* to requeue (their session closed) */
    struct sim_moq fd;           /* --redeliver: waiting, due first */
    uv_timer_t fd_timer;
    unsigned mo_ids;
    uint16_t mo_ref;
    unsigned rr;                 /* round-robin over RX-capable conns */
    int stopping;                /* nothing is sent or redelivered any more */
    void (*on_done)(void *ctx, struct sim_mo *mo);
    void *ctx;
};

/* Set up m (empty queues, a timer on loop). The pointers must outlive m. */
void sim_mo_init(struct sim_mos *m, uv_loop_t *loop, const struct sim_opts *o,
                 struct sim_stats *stats, struct sim_faults *faults,
                 const struct sim_conns *conns);
/* Build and queue an MO from -> to. Returns the MO (held once for the caller:
 * release with sim_mo_release) or NULL with a message in err. */
struct sim_mo *sim_mo_send(struct sim_mos *m, enum sim_mo_kind kind, const char *from,
                           const char *to, const char *text, size_t len,
                           const struct sim_send_opts *so, char *err, size_t errsz);
void sim_mo_release(struct sim_mo *mo);
/* Queue one ready single-part MO PDU (seq patched when sent) of the given
 * kind with ctx for the owner; nobody holds it: it is freed once answered.
 * 0, SC_EBUSY (queue full) or SC_ENOMEM. Does not pump. */
int sim_mo_send_pdu(struct sim_mos *m, enum sim_mo_kind kind, const char *from, const char *to,
                    const uint8_t *pdu, size_t len, uint64_t ctx);
/* Queue one encoded deliver_sm/data_sm (seq patched when sent) for an
 * RX-capable session; mo NULL means a delivery receipt. sysid non-empty
 * restricts it to sessions bound with that system_id. 0, SC_EBUSY (queue
 * full) or SC_ENOMEM. */
int sim_mo_enqueue(struct sim_mos *m, struct sim_mo *mo, const uint8_t *pdu, size_t len,
                   const char *sysid);
/* Queue a delivery receipt (encoded deliver_sm, seq patched when sent) for
 * the sessions of system_id sysid; to (enum sim_dlr_bind, opts.h) picks among
 * them relative to session conn, the one that submitted. Same returns as
 * sim_mo_enqueue. */
int sim_mo_enqueue_dlr(struct sim_mos *m, const uint8_t *pdu, size_t len, const char *sysid,
                       unsigned conn, int to);
/* Send queued parts while a session has room. */
void sim_mo_pump(struct sim_mos *m);
/* Put the parts of a session that just closed back at the queue's head. */
void sim_mo_requeue(struct sim_mos *m);
/* Shutdown begins: nothing more is sent or redelivered. */
void sim_mo_stopping(struct sim_mos *m);
/* Fail every queued part (shutdown) and stop the timer. */
void sim_mo_drop_all(struct sim_mos *m);
/* Parts queued (waiting for a session), and parts waiting for redelivery. */
size_t sim_mo_queued(const struct sim_mos *m);
size_t sim_mo_redelivery_pending(const struct sim_mos *m);

#endif
