/* esme.h -- the daemon's side of SMPP: every configured bind kept up
 * (connect, bind, reconnect with backoff), MOs handed up decoded (the parts
 * of a long MO raw, for the owner to reassemble), MTs queued and spread over
 * the bound links within each bind's window and TPS.
 *
 * Contract for the owner (core/): on_mo must not block; it answers each MO
 * exactly once with sc_esme_mo_done(), now or later. The MO it gets is
 * borrowed (valid during the callback only); the token is a value it keeps.
 * If the link the MO came on is gone when the answer comes, the answer is
 * dropped: the SMSC redelivers, so nothing is lost. */
#ifndef SC_ESME_H
#define SC_ESME_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/metrics.h"
#include "smsc/pdu.h"

struct sc_esme;

struct sc_mo {
    uint32_t cmd_id;          /* SC_CMD_DELIVER_SM or SC_CMD_DATA_SM (of the last part) */
    struct sc_addr src, dst;  /* as received */
    uint8_t data_coding;
    unsigned parts;           /* 1, or how many parts the message has */
    const char *text;         /* UTF-8, NUL-terminated ("" for a part) */
    size_t text_len;
    const char *link;         /* link name, for logs */
    /* A part of a concatenated MO (UDH 8/16-bit reference or SAR TLVs) has
     * concat.total >= 2 and 1 <= concat.seq <= total (esme refuses others);
     * it is not decoded: part/part_len are its bytes without the UDH, in
     * data_coding. A whole MO has concat.total 0 and part NULL. */
    struct {
        uint16_t ref;
        uint8_t total, seq;
    } concat;
    const uint8_t *part;
    size_t part_len;
};

/* Identifies one MO to answer; copy it freely, use it once. */
struct sc_mo_token {
    uint32_t link_id;
    uint32_t gen;
    uint32_t seq;
    uint32_t resp_id;         /* deliver_sm_resp or data_sm_resp */
};

/* A delivery receipt (deliver_sm / data_sm with esm_class receipt bits),
 * for the owner to answer (on_receipt). Borrowed: valid during the
 * callback. msgid is 1..64 printable ASCII without spaces; stat is 1..7
 * letters A-Z (DELIVRD, UNDELIV, EXPIRED, ...); err -1 when absent. */
struct sc_receipt {
    const char *msgid;
    const char *stat;
    int err;
    const char *link;         /* link name, for logs */
};

struct sc_esme_cbs {
    void (*on_mo)(void *arg, const struct sc_mo *mo, struct sc_mo_token tok);
    /* A readable receipt; the owner answers it exactly once with
     * sc_esme_mo_done (ESME_ROK once it is recorded or known to match
     * nothing; a temporary error when it could not be looked at, so the
     * SMSC sends it again). May be NULL: receipts are then logged and
     * acknowledged by the esme. An unreadable receipt is always logged and
     * acknowledged by the esme. */
    void (*on_receipt)(void *arg, const struct sc_receipt *r, struct sc_mo_token tok);
};

/* What may change while the esme runs (SIGHUP): each value is read when it
 * is used, so a change applies to the next MO or MT. */
struct sc_esme_live {
    uint32_t mo_error_status;     /* temporary error for MOs the esme itself
                                   * refuses (no memory) */
    enum sc_dc0 dc0;              /* decoding of data_coding 0 in new MOs */
    enum sc_seg_mode seg_mode;    /* segmentation of new MTs */
    unsigned max_parts;           /* 1..SC_MT_MAX_PARTS: new MTs are cut to fit */
    unsigned max_inflight;        /* the MT queue holds max_inflight * max_parts parts */
};

/* One bind to keep up, filled by the owner from its configuration
 * (binds[] there; defaults and ranges are the configuration's). */
struct sc_esme_bind {
    const char *name;             /* for logs; links are NAME or NAME/rx, NAME/tx */
    const char *host;
    int port;
    const char *system_id, *password, *system_type;  /* password, system_type: NULL = "" */
    int rx_tx;                    /* 1: a receiver and a transmitter link; 0: one transceiver */
    int window;                   /* max submit_sm outstanding per link */
    int tps;                      /* submit_sm per second, 0 = unlimited */
    int enquire_link_s;           /* idle interval */
    int response_timeout_ms;      /* any resp */
    int bind_timeout_ms;          /* connect + bind_resp */
    int submit_retries;           /* resends of a submit_sm after timeout/throttle */
    int throttle_pause_ms;        /* pause after ESME_RTHROTTLED/RMSGQFUL */
    int reconnect_min_ms, reconnect_max_ms;  /* backoff: first, cap */
    int gated;                    /* 1: its links stay idle until sc_esme_permit
                                   * allows them (a session lease, core/lease.c) */
};

/* Everything the esme needs, filled from the configuration by its owner.
 * The rest is fixed for the esme's life: links and sessions are built
 * from it at sc_esme_new(). */
struct sc_esme_opts {
    const struct sc_esme_bind *binds;  /* copied; its strings are borrowed and
                                        * must outlive the esme */
    size_t nbinds;
    uint32_t max_pdu_len;              /* per session, at connect */
    struct sc_esme_live live;
};

/* Creates the links of every bind in o and starts connecting. o and
 * o->binds[] are copied (the strings they point to are borrowed). Returns
 * NULL on allocation failure. */
struct sc_esme *sc_esme_new(uv_loop_t *loop, const struct sc_esme_opts *o,
                            const struct sc_esme_cbs *cbs, void *arg);

/* Replace the live options (SIGHUP). MTs already queued keep the parts they
 * were cut into. */
void sc_esme_set_live(struct sc_esme *e, const struct sc_esme_live *live);

/* Answer an MO: sends its resp with status (SC_ESME_ROK or the configured
 * temporary error). Returns 0, or SC_ECLOSED when its link was lost (the
 * SMSC will redeliver). */
int sc_esme_mo_done(struct sc_esme *e, struct sc_mo_token tok, uint32_t status);

/* Called when an MT has been accepted by the SMSC (all parts ROK, err 0) or
 * has finally failed (err < 0: SC_ETIMEOUT after the retries, SC_EPROTO for a
 * permanent error status, SC_ECLOSED on shutdown). */
typedef void (*sc_esme_mt_cb)(void *arg, int err);

/* Queue a text for src -> dst (src normally the service number the MO was
 * sent to, dst the exact address it came from). The text is encoded and
 * segmented now (live seg_mode and max_parts; cut with "…" when
 * longer). cb may be NULL. Returns 0, SC_EBUSY (the MT queue is full),
 * SC_ECLOSED, SC_ENOMEM. On error cb is not called. */
int sc_esme_send(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                 const char *utf8, size_t len, sc_esme_mt_cb cb, void *arg);

/* Take back an MT queued with sc_esme_send(cb, arg) whose parts have not
 * gone yet: it is dropped and cb is never called (returns 1). Returns 0
 * when a part was sent already (cb is still to come) or it ended. */
int sc_esme_withdraw(struct sc_esme *e, sc_esme_mt_cb cb, void *arg);

/* Pushes (core/push.c): priority 0 (urgent) .. SC_ESME_PRIO_MAX (bulk),
 * served after every queued reply, lower numbers first, one window and one
 * TPS budget per bind shared with the replies. */
#define SC_ESME_PRIO_MAX 9

/* The SMSC's message_id of each part of a push sent with a receipt
 * requested, in part order ("" for a part not accepted); borrowed, valid
 * during the callback. */
struct sc_esme_msgids {
    unsigned n;
    const char (*id)[SC_MSGID_MAX];
};

/* A push's end: err 0 when the SMSC accepted every part; else SC_ETIMEOUT
 * (after the retries), SC_EPROTO with status the SMSC's error status,
 * SC_ERANGE (its not_after passed before its first part was sent: nothing
 * was sent), or SC_ECLOSED (shutdown: not sent, the owner keeps it). ids is
 * the parts' message_ids when the push asked for receipts, else NULL. */
typedef void (*sc_esme_push_cb)(void *arg, int err, uint32_t status,
                                const struct sc_esme_msgids *ids);

/* Queue a pushed text for src -> dst at priority prio (0..SC_ESME_PRIO_MAX),
 * not to be sent after not_after_ms (unix ms; 0 = no limit; checked when
 * its first part would go), with registered_delivery 1 in every part when
 * receipt is set (the message_ids then come to cb). Unlike sc_esme_send it is never cut: more than the live max_parts parts
 * is SC_ETOOBIG; and it takes none of the replies' room: the caller bounds
 * how many pushes it queues (sc_esme_push_queued). Returns the part count
 * (>= 1) with cb to come once, or SC_ETOOBIG / SC_ECLOSED / SC_ENOMEM /
 * SC_EINVAL with cb not called. */
int sc_esme_push(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                 const char *utf8, size_t len, unsigned prio, long long not_after_ms,
                 int receipt, sc_esme_push_cb cb, void *arg);
/* Push parts waiting for a window slot (not yet sent). */
size_t sc_esme_push_queued(const struct sc_esme *e);

/* Acknowledge an MO with ESME_ROK and queue its reply, in that order (the
 * resp leaves before the reply's submit_sm, in the same write: some SMSCs
 * drop a submit_sm that arrives while they wait for a resp). Nothing is
 * acknowledged unless the reply could be queued: returns 0, or SC_EBUSY /
 * SC_ECLOSED / SC_ENOMEM with the MO still to be answered. A text longer
 * than max_parts is cut, with "…", and logged (event=reply_truncated). */
int sc_esme_reply(struct sc_esme *e, struct sc_mo_token tok, const struct sc_addr *src,
                  const struct sc_addr *dst, const char *utf8, size_t len);

/* Links bound and able to send / receive. */
unsigned sc_esme_bound(const struct sc_esme *e);
/* MT parts queued or awaiting their submit_sm_resp. */
size_t sc_esme_mt_pending(const struct sc_esme *e);

/* The shortcoded_mt_total cell of kind and state (smsc/smsc_metrics.c;
 * the esme counts kind "reply" itself). Set-up or once per MT: it looks
 * the cell up. Never NULL. */
struct sc_counter *sc_esme_mt_counter(const char *kind, const char *state);

/* Shutdown, step 1: answer every new MO (and readable receipt, when
 * on_receipt is set) with status (a temporary error) so the SMSC keeps it
 * for later; MTs keep flowing. */
void sc_esme_refuse_mo(struct sc_esme *e, uint32_t status);
/* Shutdown, step 2: unbind every link (waiting for unbind_resp up to the
 * bind's response timeout), close, then call done. MTs still queued are
 * failed with SC_ECLOSED. */
void sc_esme_stop(struct sc_esme *e, void (*done)(void *arg), void *arg);
/* Free after done was called (or before anything ran). NULL is a no-op. */
void sc_esme_free(struct sc_esme *e);

/* Links, numbered 0 .. sc_esme_nlinks() - 1 in the order of the binds
 * (a receiver+transmitter bind gives two: NAME/rx, then NAME/tx). The
 * name is borrowed, valid as long as e ("" for a link out of range). */
unsigned sc_esme_nlinks(const struct sc_esme *e);
const char *sc_esme_link_name(const struct sc_esme *e, unsigned link);

/* A gated link (sc_esme_bind.gated) may be bound only while permitted.
 * on = 1: it connects and binds (and reconnects with its backoff) from
 * now on. on = 0: it stops at once: a bound link unbinds cleanly and its
 * session is closed after close_in_ms at the latest (unbind_resp or not);
 * a link connecting or binding is closed now; then it stays idle until
 * permitted again. No-op for a link out of range or while stopping. */
void sc_esme_permit(struct sc_esme *e, unsigned link, int on, uint64_t close_in_ms);
/* 1 when link has a TCP connection or session open (connecting, binding,
 * bound or unbinding): a lease must be kept for it. */
int sc_esme_link_busy(const struct sc_esme *e, unsigned link);

/* The reconnect schedule, pure (tests/unit/test_esme.c). The wait after
 * `attempts` failures: min_ms * 2^attempts capped at max_ms, then a point
 * in its upper half picked by rnd (any value; docs/smpp.md). */
uint64_t sc_esme_backoff_ms(uint64_t min_ms, uint64_t max_ms, unsigned attempts, uint64_t rnd);
/* The failures to count after a bind refused with status: ESME_RALYBND
 * (the SMSC still holds our previous session) counts at least 4, so the
 * next wait is at least 8 * min_ms; any other status leaves attempts. */
unsigned sc_esme_attempts_after_refusal(uint32_t status, unsigned attempts);

#endif
