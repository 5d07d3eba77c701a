/* esme_int.h -- what the files of the esme share: the link and esme
 * structs, and the internal interfaces between its four jobs.
 *
 *   esme.c       public API, link lifecycle: connect, bind, reconnect with
 *                backoff, unbind, the shutdown deadline
 *   mtq.c        the MT queue and its scheduler: priority classes (replies,
 *                then pushes 0..9), pump over the bound links (window, TPS,
 *                throttling pause), retries
 *   mtbuild.c    an MT's text -> encoded submit_sm parts
 *   mo_intake.c  deliver_sm / data_sm -> struct sc_mo, the resp policy
 *
 * Not for use outside smsc/ (tests excepted). */
#ifndef SC_ESME_INT_H
#define SC_ESME_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/sc.h"
#include "smsc/esme.h"
#include "smsc/session.h"
#include "smsc/tokenbucket.h"

#define SC__LINK_LOG(lvl, l, event, fmt, ...)                                             \
    sc_log(lvl, "event=" event " bind=%s peer=%s:%d" fmt, (l)->name, (l)->cfg->host,       \
           (l)->cfg->port, ##__VA_ARGS__)

enum sc__link_role { SC__ROLE_TRX, SC__ROLE_RX, SC__ROLE_TX };

#define SC__LINK_PHASE_MAP(X)          \
    X(IDLE, "idle")                    \
    X(RESOLVING, "resolving")          \
    X(CONNECTING, "connecting")        \
    X(BINDING, "binding")              \
    X(BOUND, "bound")                  \
    X(UNBINDING, "unbinding")          \
    X(WAITING, "waiting")              \
    X(STOPPED, "stopped")

enum sc__link_phase {
#define SC__LP_ENUM(n, t) SC__LP_##n,
    SC__LINK_PHASE_MAP(SC__LP_ENUM)
#undef SC__LP_ENUM
};

/* ---- The MT queue's interface ---------------------------------------------
 *
 * What goes in: parts built by sc__mt_build (mtbuild.c), each one encoded
 * submit_sm whose sequence number is patched when it is sent, and each
 * pointing at its message, whose callback runs once when its last part
 * ended. What the rest of the esme calls, and what a replacement of mtq.c
 * (priorities, mt:push streams, receipts) must provide with the same
 * meaning:
 *
 *   sc__mtq_init        empty queue, bound from the live options
 *   sc__mtq_set_live    the bound follows a reload
 *   sc__mtq_room        may a message of max_parts parts be queued now?
 *   sc__mtq_enqueue     take ownership of the parts of one message, pump
 *   sc__mtq_pump        send what may go now (called by the lifecycle
 *                       when a link is bound or lost)
 *   sc__mtq_on_resp     the submit_sm_resp, timeout or loss of a part sent
 *                       by the pump: done, again, or after a pause
 *   sc__mtq_link_init   a link was created: its scheduler state, its timer
 *   sc__mtq_link_up     a link became bound: its window, tokens, pause anew
 *   sc__mtq_link_down   a link was lost: its parts in flight come back
 *                       through sc__mtq_on_resp (SC_ECLOSED)
 *   sc__mtq_link_stop   shutdown: the link's timers stop, then its handles
 *                       close (it says how many)
 *   sc__mtq_drain       fail every queued part with err (shutdown, free)
 *   sc__mtq_pending     parts queued or awaiting their resp
 *   sc__mtq_withdraw    drop a reply-class message none of whose parts went
 *
 * Its per-link state is struct sc__mtq_link, embedded in struct link; the
 * queue itself is struct sc__mtq, embedded in struct sc_esme. */

/* One MT as the subscriber sees it: its callback, once every part ended
 * (cb for replies and sc_esme_send, pcb for sc_esme_push; at most one set). */
struct sc__mt_msg {
    sc_esme_mt_cb cb;
    sc_esme_push_cb pcb;
    void *arg;
    unsigned parts_left;
    uint8_t cls;              /* SC__MT_REPLY or SC__MT_PUSH0 + priority */
    uint8_t sent;             /* a part of it went out */
    uint8_t expired;          /* not_after passed before that: no part goes */
    long long not_after;      /* unix ms, 0 = none (pushes) */
    int err;                  /* the first part's error, 0 if all went */
    uint32_t status;          /* the SMPP status of that error, 0 if none */
    char (*msgids)[SC_MSGID_MAX]; /* one per part when a receipt was asked, else NULL */
    unsigned nparts;
};

/* Priority classes, served strictly in this order: replies to MOs (and the
 * orders' confirmations, sc_esme_send), then pushes of priority 0 .. 9. */
enum { SC__MT_REPLY = 0, SC__MT_PUSH0 = 1, SC__MT_CLASSES = 1 + SC_ESME_PRIO_MAX + 1 };

/* One submit_sm of an MT. */
struct sc__mt_part {
    STAILQ_ENTRY(sc__mt_part) link;  /* the parts of one MT, then the MT queue */
    struct sc__mt_msg *msg;
    uint8_t tries;
    uint8_t idx;              /* its place in the message, from 0 */
    uint16_t len;
    uint8_t pdu[];            /* encoded submit_sm; seq patched at each send */
};
STAILQ_HEAD(sc__mt_list, sc__mt_part);

struct sc__mtq {
    struct sc__mt_list q[SC__MT_CLASSES]; /* parts waiting for a link, per class,
                                           * oldest first */
    size_t queued;                 /* reply-class parts waiting (the bound) */
    size_t push_queued;            /* push parts waiting (bounded by their owner) */
    size_t inflight, max;
    unsigned rr;                   /* round-robin start over the links */
};

struct sc__mtq_link {
    uv_timer_t timer;         /* end of a throttling pause or TPS wait */
    uint64_t wake_at;         /* when timer fires, 0 = not armed */
    uint64_t paused_until;
    struct sc_tokenbucket tb;
    unsigned inflight;        /* submit_sm awaiting resp */
};

struct link {
    struct sc_esme *e;
    const struct sc_esme_bind *cfg;     /* in e->binds */
    uint32_t id;
    enum sc__link_role role;
    char name[40];
    enum sc__link_phase phase;
    uint32_t gen;             /* bumped when its session is gone (MO tokens) */
    uv_getaddrinfo_t gai;
    uv_connect_t creq;
    uv_tcp_t *tcp;            /* ours while connecting; the session's after */
    struct sc_session *s;
    uv_timer_t timer;         /* connect+bind deadline, or reconnect wait */
    unsigned attempts;
    uint8_t permitted;        /* may connect (always 1 unless cfg->gated) */
    struct sc__mtq_link mt;
    struct {                  /* its cells (smsc_metrics.c) */
        struct sc_gauge *up, *window;
        struct sc_counter *throttled, *reconnects;
    } m;
};

struct sc_esme {
    uv_loop_t *loop;
    struct sc_esme_opts o;        /* o.live replaced by sc_esme_set_live */
    struct sc_esme_bind *binds;   /* copy of o.binds[] (o.binds points here) */
    struct sc_esme_cbs cbs;
    void *arg;
    struct link *links;
    unsigned nlinks;
    struct sc__mtq mtq;
    uint16_t mt_ref;              /* concatenation reference of the next MT */
    uint64_t rng;                 /* reconnect jitter */
    int refusing;
    uint32_t refuse_status;
    int stopping;
    void (*stop_done)(void *);
    void *stop_arg;
    unsigned open_handles;
    struct sc_gauge *mq[SC__MT_CLASSES]; /* shortcoded_mt_queued per class */
};

/* mtq.c */
void sc__mtq_init(struct sc_esme *e);
void sc__mtq_set_live(struct sc_esme *e, const struct sc_esme_live *live);
/* 0 if the reply class has room for another message, else SC_EBUSY (or
 * SC_ECLOSED when stopping); pushes never take this room. Inline: it is on
 * every reply's path. */
static inline int sc__mtq_room(const struct sc_esme *e)
{
    if (e->stopping)
        return SC_ECLOSED;
    return e->mtq.queued + (size_t)e->o.live.max_parts > e->mtq.max ? SC_EBUSY : 0;
}
/* The n parts of one message (sc__mt_build) join the tail of their
 * message's class, in order, and the queue pumps; ownership passes to the
 * queue, *parts is left empty. */
void sc__mtq_enqueue(struct sc_esme *e, struct sc__mt_list *parts, int n);
void sc__mtq_pump(struct sc_esme *e);
void sc__mtq_on_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                     const uint8_t *pdu, size_t len);
void sc__mtq_link_init(struct link *l);
void sc__mtq_link_up(struct link *l);
void sc__mtq_link_down(struct link *l);
/* Stops the link's timers; with close_cb, also closes its handles (their
 * data becomes e) and returns how many: close_cb runs once for each. */
unsigned sc__mtq_link_stop(struct link *l, uv_close_cb close_cb);
void sc__mtq_drain(struct sc_esme *e, int err);
size_t sc__mtq_pending(const struct sc_esme *e);
/* The reply-class message sent with (cb, arg): 1 when none of its parts
 * had gone, now dropped without a callback; 0 when a part went or none is
 * queued (its callback is still to come, or came). O(queued replies). */
int sc__mtq_withdraw(struct sc_esme *e, sc_esme_mt_cb cb, void *arg);

/* smsc_metrics.c: the links' and the queue's cells and the collector that
 * sets the gauges (start: once the links are made; stop: before free). A
 * reply-class message ended with err. */
void sc__esme_metrics_start(struct sc_esme *e);
void sc__esme_metrics_stop(struct sc_esme *e);
void sc__esme_metrics_mt_end(int err);

/* mtbuild.c: encode a text into submit_sm parts for src -> dst, under the
 * live seg_mode and max_parts, ref the concatenation reference, with
 * registered_delivery regdel (and a message_id slot per part when it is
 * set); a text
 * longer than max_parts is cut with "…" to fit when cut is set, else
 * refused with SC_ETOOBIG. Returns the part count with *parts holding them
 * in order (owned by the caller, all pointing at one new message whose
 * callback, arg and class the caller sets), or SC_E* with nothing allocated
 * and *parts empty. */
int sc__mt_build(const struct sc_esme_live *live, uint16_t ref, const struct sc_addr *src,
                 const struct sc_addr *dst, const char *utf8, size_t len, int cut,
                 uint8_t regdel, struct sc__mt_list *parts);

/* mo_intake.c: a deliver_sm or data_sm that arrived on l. */
void sc__mo_handle(struct link *l, const struct sc_pdu_hdr *h, const uint8_t *pdu, size_t len);

#endif
