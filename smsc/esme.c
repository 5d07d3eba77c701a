/* esme.c -- keeps the configured binds up and moves MOs and MTs over them.
 *
 * A bind in transceiver mode is one link; in receiver+transmitter mode it is
 * two ("NAME/rx" and "NAME/tx"). Each link runs its own cycle:
 *   idle -> resolving -> connecting -> binding -> bound -> (closed) -> waiting
 *   -> resolving ...
 * with one timer bounding connect + bind, and exponential backoff with
 * jitter between attempts. Links are never freed while the daemon runs; a
 * generation counter tells an MO answer whether its session still exists.
 *
 * MT parts wait in one FIFO and go out on any bound link with room in its
 * window, a TPS token and no throttling pause. A waiting link arms one timer
 * for the moment it can send again: nothing spins while throttled. */
#include "smsc/esme.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "base/log.h"
#include "base/sc.h"
#include "smsc/session.h"
#include "smsc/tokenbucket.h"
#include "text/text.h"

#define MS_PER_S 1000u
/* Bytes queued for a peer that does not read before the session stops
 * reading (docs/smpp.md). */
#define LINK_OUT_MAX (4u << 20)
/* Requests awaiting a resp beyond the MT window: one enquire_link and one
 * unbind (the bind is alone on the session). */
#define LINK_EXTRA_OUTSTANDING 2

#define LINK_LOG(lvl, l, event, fmt, ...)                                                 \
    sc_log(lvl, "event=" event " bind=%s peer=%s:%d" fmt, (l)->name, (l)->cfg->host,       \
           (l)->cfg->port, ##__VA_ARGS__)

enum link_role { ROLE_TRX, ROLE_RX, ROLE_TX };

#define LINK_PHASE_MAP(X)              \
    X(IDLE, "idle")                    \
    X(RESOLVING, "resolving")          \
    X(CONNECTING, "connecting")        \
    X(BINDING, "binding")              \
    X(BOUND, "bound")                  \
    X(UNBINDING, "unbinding")          \
    X(WAITING, "waiting")              \
    X(STOPPED, "stopped")

enum link_phase {
#define LP_ENUM(n, t) LP_##n,
    LINK_PHASE_MAP(LP_ENUM)
#undef LP_ENUM
};

static const char *const g_phase_names[] = {
#define LP_NAME(n, t) t,
    LINK_PHASE_MAP(LP_NAME)
#undef LP_NAME
};

struct mt_msg {
    sc_esme_mt_cb cb;
    void *arg;
    unsigned parts_left;
    int err;
};

struct mt_part {
    STAILQ_ENTRY(mt_part) link;  /* the MT queue */
    struct mt_msg *msg;
    uint8_t tries;
    uint16_t len;
    uint8_t pdu[];            /* encoded submit_sm; seq patched at each send */
};

struct link {
    struct sc_esme *e;
    const struct sc_esme_bind *cfg;     /* in e->binds */
    uint32_t id;
    enum link_role role;
    char name[40];
    enum link_phase phase;
    uint32_t gen;
    uv_getaddrinfo_t gai;
    uv_connect_t creq;
    uv_tcp_t *tcp;            /* ours while connecting; the session's after */
    struct sc_session *s;
    uv_timer_t timer;         /* connect+bind deadline, or reconnect wait */
    uv_timer_t pump_timer;    /* end of a throttling pause or TPS wait */
    uint64_t pump_at;         /* when pump_timer fires, 0 = not armed */
    unsigned attempts;
    uint64_t paused_until;
    struct sc_tokenbucket tb;
    unsigned inflight;        /* submit_sm awaiting resp */
};

struct sc_esme {
    uv_loop_t *loop;
    struct sc_esme_opts o;        /* o.live replaced by sc_esme_set_live */
    struct sc_esme_bind *binds;   /* copy of o.binds[] (o.binds points here) */
    struct sc_esme_cbs cbs;
    void *arg;
    struct link *links;
    unsigned nlinks;
    unsigned rr;
    STAILQ_HEAD(, mt_part) q;     /* parts waiting for a link, oldest first */
    size_t queued, inflight, q_max;
    uint16_t mt_ref;
    uint64_t rng;                 /* reconnect jitter */
    int refusing;
    uint32_t refuse_status;
    int stopping;
    void (*stop_done)(void *);
    void *stop_arg;
    unsigned open_handles;
};

static void link_connect(struct link *l);
static void pump(struct sc_esme *e);

static void set_phase(struct link *l, enum link_phase p)
{
    if (l->phase != p && sc_log_enabled(SC_LOG_DEBUG))
        LINK_LOG(SC_LOG_DEBUG, l, "link_phase", " from=%s to=%s", g_phase_names[l->phase],
                 g_phase_names[p]);
    l->phase = p;
}

/* ---- reconnect ---------------------------------------------------------- */

static void on_link_timer(uv_timer_t *t)
{
    struct link *l = t->data;
    switch (l->phase) {
    case LP_WAITING:
        link_connect(l);
        break;
    case LP_RESOLVING:
        LINK_LOG(SC_LOG_WARN, l, "connect_timeout", " phase=resolving timeout_ms=%d",
                 l->cfg->bind_timeout_ms);
        uv_cancel((uv_req_t *)&l->gai);   /* its callback schedules the retry */
        break;
    case LP_CONNECTING:
        LINK_LOG(SC_LOG_WARN, l, "connect_timeout", " phase=connecting timeout_ms=%d",
                 l->cfg->bind_timeout_ms);
        uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free); /* connect cb: ECANCELED */
        l->tcp = NULL;
        break;
    case LP_BINDING:
        LINK_LOG(SC_LOG_WARN, l, "bind_timeout", " timeout_ms=%d", l->cfg->bind_timeout_ms);
        sc_session_close(l->s, "bind timeout");
        break;
    default:
        break;
    }
}

uint64_t sc_esme_backoff_ms(uint64_t min_ms, uint64_t max_ms, unsigned attempts, uint64_t rnd)
{
    uint64_t d = min_ms;
    for (unsigned i = 0; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    return d / 2 + rnd % (d / 2 + 1);
}

unsigned sc_esme_attempts_after_refusal(uint32_t status, unsigned attempts)
{
    /* The SMSC may still hold our previous session: give it time. */
    return status == SC_ESME_RALYBND && attempts < 4 ? 4 : attempts;
}

/* Wait before the next attempt (sc_esme_backoff_ms), the jitter so that
 * many daemons restarting together do not hit the SMSC in step. */
static void schedule_reconnect(struct link *l)
{
    if (l->e->stopping) {
        set_phase(l, LP_STOPPED);
        return;
    }
    uint64_t d = sc_esme_backoff_ms((uint64_t)l->cfg->reconnect_min_ms,
                                    (uint64_t)l->cfg->reconnect_max_ms, l->attempts,
                                    sc_xorshift64s(&l->e->rng));
    l->attempts++;
    set_phase(l, LP_WAITING);
    LINK_LOG(SC_LOG_INFO, l, "reconnect_scheduled", " in_ms=%llu attempt=%u",
             (unsigned long long)d, l->attempts);
    uv_timer_start(&l->timer, on_link_timer, d, 0);
}

/* ---- MT queue ------------------------------------------------------------ */

static void part_done(struct sc_esme *e, struct mt_part *p, int err)
{
    struct mt_msg *m = p->msg;
    free(p);
    if (err && !m->err)
        m->err = err;
    if (--m->parts_left == 0) {
        if (m->cb)
            m->cb(m->arg, m->err);
        free(m);
    }
}

static void queue_push_front(struct sc_esme *e, struct mt_part *p)
{
    STAILQ_INSERT_HEAD(&e->q, p, link);
    e->queued++;
}

static void queue_push_back(struct sc_esme *e, struct mt_part *p)
{
    STAILQ_INSERT_TAIL(&e->q, p, link);
    e->queued++;
}

static struct mt_part *queue_pop(struct sc_esme *e)
{
    struct mt_part *p = STAILQ_FIRST(&e->q);
    if (p) {
        STAILQ_REMOVE_HEAD(&e->q, link);
        e->queued--;
    }
    return p;
}

static void on_submit_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                           const uint8_t *pdu, size_t len)
{
    struct link *l = sc_session_owner(s);
    struct sc_esme *e = l->e;
    struct mt_part *p = ctx;
    l->inflight--;
    e->inflight--;
    if (err == SC_ECLOSED) {
        /* Not confirmed: send again on the next bound link (the subscriber
         * may get it twice, never not at all). on_closed pumps. */
        if (e->stopping)
            part_done(e, p, SC_ECLOSED);
        else
            queue_push_front(e, p);
        return;
    }
    if (err == SC_ETIMEOUT) {
        LINK_LOG(SC_LOG_WARN, l, "submit_timeout", " timeout_ms=%d try=%u",
                 l->cfg->response_timeout_ms, p->tries + 1);
        if (++p->tries > l->cfg->submit_retries) {
            LINK_LOG(SC_LOG_WARN, l, "submit_failed", " reason=timeout tries=%u", p->tries);
            part_done(e, p, SC_ETIMEOUT);
        } else {
            queue_push_front(e, p);
        }
    } else if (h->status == SC_ESME_ROK) {
        if (sc_log_enabled(SC_LOG_DEBUG)) {
            char id[SC_MSGID_MAX] = "";
            sc_pdu_parse_str_resp(pdu, len, id, sizeof id);
            LINK_LOG(SC_LOG_DEBUG, l, "submit_ok", " seq=%u message_id=%s", h->seq, SC_LOGV(id));
        }
        part_done(e, p, 0);
    } else if (h->status == SC_ESME_RTHROTTLED || h->status == SC_ESME_RMSGQFUL) {
        uint64_t until = uv_now(e->loop) + (uint64_t)l->cfg->throttle_pause_ms;
        if (l->paused_until < until) {
            l->paused_until = until;
            LINK_LOG(SC_LOG_WARN, l, "throttled", " status=%s pause_ms=%d",
                     sc_pdu_status_name(h->status), l->cfg->throttle_pause_ms);
        }
        queue_push_front(e, p);
    } else {
        LINK_LOG(SC_LOG_WARN, l, "submit_failed", " status=%s command=%s",
                 sc_pdu_status_name(h->status), sc_pdu_cmd_name(h->id));
        part_done(e, p, SC_EPROTO);
    }
    pump(e);
}

static int link_can_send(const struct link *l)
{
    return l->phase == LP_BOUND && l->role != ROLE_RX && l->s &&
           sc_session_state(l->s) != SC_SS_CLOSED;
}

static void on_pump_timer(uv_timer_t *t)
{
    struct link *l = t->data;
    l->pump_at = 0;
    pump(l->e);
}

/* Make sure the link's pump timer fires by time at (absolute loop ms). */
static void wake_at(struct link *l, uint64_t at)
{
    if (l->pump_at && l->pump_at <= at)
        return;
    uint64_t now = uv_now(l->e->loop);
    l->pump_at = at;
    uv_timer_start(&l->pump_timer, on_pump_timer, at > now ? at - now : 0, 0);
}

/* A link that may send one part now, round-robin; NULL if none. Links that
 * are paused or out of tokens arm their timer for when they can. */
static struct link *pick_link(struct sc_esme *e, uint64_t now)
{
    for (unsigned i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[(e->rr + i) % e->nlinks];
        if (!link_can_send(l) || l->inflight >= (unsigned)l->cfg->window)
            continue;
        if (l->paused_until > now) {
            wake_at(l, l->paused_until);
            continue;
        }
        if (!sc_tokenbucket_take(&l->tb, now)) {
            wake_at(l, now + sc_tokenbucket_wait_ms(&l->tb, now));
            continue;
        }
        e->rr = (e->rr + i + 1) % e->nlinks;
        return l;
    }
    return NULL;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void pump(struct sc_esme *e)
{
    uint64_t now = uv_now(e->loop);
    while (!STAILQ_EMPTY(&e->q)) {
        struct link *l = pick_link(e, now);
        if (!l)
            return;
        struct mt_part *p = queue_pop(e);
        uint32_t seq = sc_session_next_seq(l->s);
        put_u32(p->pdu + 12, seq);
        if (sc_session_request(l->s, seq, p->pdu, p->len, on_submit_resp, p) < 0) {
            queue_push_front(e, p);
            return;
        }
        l->inflight++;
        e->inflight++;
    }
}

/* 0 if the MT queue has room for another message, else SC_EBUSY (or
 * SC_ECLOSED when stopping). */
static int can_send(const struct sc_esme *e)
{
    return e->stopping ? SC_ECLOSED : e->queued + (size_t)e->o.live.max_parts > e->q_max ? SC_EBUSY : 0;
}

/* Encode text as the SMS it will be: UTF-8 cut at a character boundary to
 * the longest prefix that, with "…" appended, fits in smpp.max_parts. A
 * reply too long is a template or handler problem; the subscriber still
 * gets the beginning of it. Returns 0 with mt filled, or SC_E*. */
static int encode_fitting(struct sc_esme *e, const char *utf8, size_t len, struct sc_mt *mt)
{
    enum sc_seg_mode mode = e->o.live.seg_mode;
    unsigned maxp = e->o.live.max_parts;
    uint16_t ref = ++e->mt_ref;
    int rc = sc_text_encode(utf8, len, mode, ref, maxp, mt);
    if (rc != SC_ETOOBIG)
        return rc;
    static const char ellipsis[] = "\xE2\x80\xA6";
    char *buf = malloc(len + sizeof ellipsis);
    if (!buf)
        return SC_ENOMEM;
    size_t lo = 0, hi = len; /* the best prefix length is in [lo, hi) */
    while (hi - lo > 1) {
        /* Never cut a UTF-8 sequence (lo is on a boundary). */
        size_t mid = lo + sc_utf8_floor(utf8 + lo, len - lo, (hi - lo) / 2);
        if (mid == lo)
            break;
        memcpy(buf, utf8, mid);
        memcpy(buf + mid, ellipsis, sizeof ellipsis - 1);
        if (sc_text_encode(buf, mid + sizeof ellipsis - 1, mode, ref, maxp, mt) == 0)
            lo = mid;
        else
            hi = mid;
    }
    memcpy(buf, utf8, lo);
    memcpy(buf + lo, ellipsis, sizeof ellipsis - 1);
    rc = sc_text_encode(buf, lo + sizeof ellipsis - 1, mode, ref, maxp, mt);
    free(buf);
    sc_warn("event=reply_truncated bytes=%zu kept=%zu max_parts=%u", len, lo, maxp);
    return rc;
}

/* Encode a text into submit_sm parts, ready to queue (*m owns nothing yet:
 * the parts point at it). Returns the part count or SC_E*. */
static int build_mt(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                    const char *utf8, size_t len, sc_esme_mt_cb cb, void *arg,
                    struct mt_part **parts)
{
    struct sc_mt mt;
    int rc = encode_fitting(e, utf8, len, &mt);
    if (rc < 0)
        return rc;
    struct mt_msg *m = calloc(1, sizeof *m);
    if (!m)
        return SC_ENOMEM;
    m->cb = cb;
    m->arg = arg;
    m->parts_left = mt.nparts;

    struct sc_sm sm;
    /* Zero all but the 1 KiB text buffer, which each part overwrites. */
    memset(&sm, 0, offsetof(struct sc_sm, msg));
    memset((char *)&sm + offsetof(struct sc_sm, msg) + sizeof sm.msg, 0,
           sizeof sm - offsetof(struct sc_sm, msg) - sizeof sm.msg);
    sm.cmd_id = SC_CMD_SUBMIT_SM;
    sm.seq = 1; /* patched at each send */
    sm.src = *src;
    sm.dst = *dst;
    sm.esm_class = mt.esm_class;
    sm.data_coding = mt.data_coding;
    sm.use_payload = e->o.live.seg_mode == SC_SEG_PAYLOAD;
    uint8_t buf[SC_PDU_HEADER_LEN + 256 + SC_SM_MSG_MAX];
    for (unsigned i = 0; i < mt.nparts; i++) {
        sm.msg_len = mt.len[i];
        memcpy(sm.msg, mt.bytes + mt.off[i], mt.len[i]);
        if (e->o.live.seg_mode == SC_SEG_SAR && mt.nparts > 1) {
            sm.has_sar = 1;
            sm.sar_ref = mt.ref;
            sm.sar_total = mt.nparts;
            sm.sar_seq = (uint8_t)(i + 1);
        }
        long n = sc_pdu_encode_sm(&sm, buf, sizeof buf);
        parts[i] = n > 0 ? malloc(sizeof *parts[i] + (size_t)n) : NULL;
        if (!parts[i]) {
            for (unsigned j = 0; j < i; j++)
                free(parts[j]);
            free(m);
            return n < 0 ? (int)n : SC_ENOMEM;
        }
        parts[i]->msg = m;
        parts[i]->tries = 0;
        parts[i]->len = (uint16_t)n;
        memcpy(parts[i]->pdu, buf, (size_t)n);
    }
    return mt.nparts;
}

static void enqueue(struct sc_esme *e, struct mt_part **parts, int n)
{
    for (int i = 0; i < n; i++)
        queue_push_back(e, parts[i]);
    pump(e);
}

int sc_esme_send(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                 const char *utf8, size_t len, sc_esme_mt_cb cb, void *arg)
{
    int rc = can_send(e);
    if (rc < 0)
        return rc;
    struct mt_part *parts[SC_MT_MAX_PARTS];
    int n = build_mt(e, src, dst, utf8, len, cb, arg, parts);
    if (n < 0)
        return n;
    enqueue(e, parts, n);
    return 0;
}

int sc_esme_reply(struct sc_esme *e, struct sc_mo_token tok, const struct sc_addr *src,
                  const struct sc_addr *dst, const char *utf8, size_t len)
{
    int rc = can_send(e);
    if (rc < 0)
        return rc;
    struct mt_part *parts[SC_MT_MAX_PARTS];
    int n = build_mt(e, src, dst, utf8, len, NULL, NULL, parts);
    if (n < 0)
        return n;
    /* The resp first, the reply after it, in the same write. */
    sc_esme_mo_done(e, tok, SC_ESME_ROK);
    enqueue(e, parts, n);
    return 0;
}

size_t sc_esme_mt_pending(const struct sc_esme *e) { return e->queued + e->inflight; }


unsigned sc_esme_bound(const struct sc_esme *e)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->nlinks; i++)
        n += e->links[i].phase == LP_BOUND;
    return n;
}

/* ---- MO ------------------------------------------------------------------ */

static void deliver_mo(struct link *l, const struct sc_pdu_hdr *h, const struct sc_sm *sm,
                       const uint8_t *bytes, size_t n, uint8_t dc, unsigned parts)
{
    struct sc_esme *e = l->e;
    char small[3 * 256 + 4];
    size_t cap = 3 * n + 4; /* a GSM, Latin-1 or UCS-2 unit is at most 3 UTF-8 bytes */
    char *text = cap <= sizeof small ? small : malloc(cap);
    struct sc_mo_token tok = {l->id, l->gen, h->seq, h->id | SC_CMD_RESP};
    if (!text) {
        sc_esme_mo_done(e, tok, e->o.live.mo_error_status);
        return;
    }
    struct sc_mo mo = {
        .cmd_id = h->id, .src = sm->src, .dst = sm->dst, .data_coding = dc, .parts = parts,
        .text = text, .link = l->name,
    };
    mo.text_len = sc_text_decode(dc, e->o.live.dc0, bytes, n, text, cap);
    e->cbs.on_mo(e->arg, &mo, tok);
    if (text != small)
        free(text);
}

/* A part of a long MO goes up undecoded: the owner keeps the parts (in
 * Redis, where a restarted daemon finds them) and decodes the whole. */
static void deliver_part(struct link *l, const struct sc_pdu_hdr *h, const struct sc_sm *sm,
                         const uint8_t *bytes, size_t n, const struct sc_concat *c)
{
    struct sc_mo_token tok = {l->id, l->gen, h->seq, h->id | SC_CMD_RESP};
    struct sc_mo mo = {
        .cmd_id = h->id, .src = sm->src, .dst = sm->dst, .data_coding = sm->data_coding,
        .parts = c->total, .text = "", .link = l->name, .part = bytes, .part_len = n,
    };
    mo.concat.ref = c->ref;
    mo.concat.total = c->total;
    mo.concat.seq = c->seq;
    l->e->cbs.on_mo(l->e->arg, &mo, tok);
}

static void handle_mo(struct link *l, const struct sc_pdu_hdr *h, const uint8_t *pdu, size_t len)
{
    struct sc_esme *e = l->e;
    uint32_t resp = h->id | SC_CMD_RESP;
    if (l->role == ROLE_TX || l->phase != LP_BOUND) {
        sc_session_send_str_resp(l->s, resp, SC_ESME_RINVBNDSTS, h->seq, "");
        return;
    }
    struct sc_sm sm;
    uint32_t status = SC_ESME_RSYSERR;
    char err[128];
    if (sc_pdu_decode_sm(pdu, len, &sm, &status, err, sizeof err) < 0) {
        LINK_LOG(SC_LOG_WARN, l, "mo_rejected", " command=%s seq=%u status=%s reason=\"%s\"",
                 sc_pdu_cmd_name(h->id), h->seq, sc_pdu_status_name(status), err);
        sc_session_send_str_resp(l->s, resp, status, h->seq, "");
        return;
    }
    if (sm.esm_class & SC_ESM_TYPE_MASK) {
        struct sc_dlr d;
        if (sc_dlr_parse(sm.msg, sm.msg_len, &d) == 0)
            LINK_LOG(SC_LOG_INFO, l, "receipt", " id=%s stat=%s err=%d src=%s", SC_LOGV(d.id),
                     SC_LOGV(d.stat), d.err, SC_LOGV(sm.src.addr));
        else
            LINK_LOG(SC_LOG_INFO, l, "receipt", " id=%s state=%u src=%s",
                     SC_LOGV(sm.receipted_message_id), sm.message_state, SC_LOGV(sm.src.addr));
        sc_session_send_str_resp(l->s, resp, SC_ESME_ROK, h->seq, "");
        return;
    }
    if (e->refusing) {
        sc_session_send_str_resp(l->s, resp, e->refuse_status, h->seq, "");
        return;
    }

    const uint8_t *data = sm.msg;
    size_t n = sm.msg_len;
    struct sc_concat c = {0, 1, 1};
    if (sm.esm_class & SC_ESM_UDHI) {
        size_t hl = 0;
        int rc = sc_udh_parse(sm.msg, sm.msg_len, &hl, &c);
        if (rc < 0) {
            LINK_LOG(SC_LOG_WARN, l, "mo_rejected", " seq=%u src=%s reason=\"malformed UDH\"",
                     h->seq, SC_LOGV(sm.src.addr));
            sc_session_send_str_resp(l->s, resp, SC_ESME_RX_P_APPN, h->seq, "");
            return;
        }
        if (rc == 0)
            c.total = c.seq = 1;
        data += hl;
        n -= hl;
    } else if (sm.has_sar) {
        c.ref = sm.sar_ref;
        c.total = sm.sar_total;
        c.seq = sm.sar_seq;
    }
    if (c.total <= 1) {
        deliver_mo(l, h, &sm, data, n, sm.data_coding, 1);
        return;
    }

    if (c.seq == 0 || c.seq > c.total) {
        LINK_LOG(SC_LOG_WARN, l, "long_mo_refused", " src=%s ref=%u part=%u/%u reason=\"%s\"",
                 SC_LOGV(sm.src.addr), c.ref, c.seq, c.total, "part number out of range");
        sc_session_send_str_resp(l->s, resp, SC_ESME_RX_P_APPN, h->seq, "");
        return;
    }
    deliver_part(l, h, &sm, data, n, &c);
}

int sc_esme_mo_done(struct sc_esme *e, struct sc_mo_token tok, uint32_t status)
{
    if (tok.link_id >= e->nlinks)
        return SC_EINVAL;
    struct link *l = &e->links[tok.link_id];
    if (l->gen != tok.gen || !l->s || sc_session_state(l->s) == SC_SS_CLOSED)
        return SC_ECLOSED;
    return sc_session_send_str_resp(l->s, tok.resp_id, status, tok.seq, "");
}

void sc_esme_refuse_mo(struct sc_esme *e, uint32_t status)
{
    e->refusing = 1;
    e->refuse_status = status;
}

/* ---- session callbacks --------------------------------------------------- */

static void on_link_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct link *l = sc_session_owner(s);
    switch (h->id) {
    case SC_CMD_DELIVER_SM:
    case SC_CMD_DATA_SM:
        handle_mo(l, h, pdu, len);
        break;
    case SC_CMD_UNBIND:
        LINK_LOG(SC_LOG_INFO, l, "unbind_received", " seq=%u", h->seq);
        sc_session_send_simple(s, SC_CMD_UNBIND | SC_CMD_RESP, SC_ESME_ROK, h->seq);
        sc_session_close(s, "unbind from SMSC");
        break;
    case SC_CMD_OUTBIND:
    case SC_CMD_ALERT_NOTIFICATION:
        LINK_LOG(SC_LOG_INFO, l, "ignored", " command=%s", sc_pdu_cmd_name(h->id));
        break;
    default:
        LINK_LOG(SC_LOG_WARN, l, "unexpected_command", " command=%s seq=%u",
                 sc_pdu_cmd_name(h->id), h->seq);
        sc_session_send_simple(s, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDID, h->seq);
        break;
    }
}

static void maybe_stop_done(struct sc_esme *e);

static void on_link_closed(struct sc_session *s, const char *reason)
{
    struct link *l = sc_session_owner(s);
    int was_bound = l->phase == LP_BOUND || l->phase == LP_UNBINDING;
    int asked = l->phase == LP_UNBINDING; /* our unbind (shutdown), not a loss */
    l->s = NULL;
    l->gen++;
    l->inflight = 0;
    uv_timer_stop(&l->timer);
    if (was_bound)
        LINK_LOG(asked ? SC_LOG_INFO : SC_LOG_WARN, l, "unbound", " reason=\"%s\"", reason);
    schedule_reconnect(l);
    maybe_stop_done(l->e);
    pump(l->e);
}

static void on_bind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                         const uint8_t *pdu, size_t len)
{
    struct link *l = sc_session_owner(s);
    if (err == SC_ECLOSED)
        return;
    if (err == SC_ETIMEOUT) {
        LINK_LOG(SC_LOG_WARN, l, "bind_timeout", " timeout_ms=%d", l->cfg->response_timeout_ms);
        sc_session_close(s, "bind timeout");
        return;
    }
    if (h->status != SC_ESME_ROK) {
        LINK_LOG(SC_LOG_ERROR, l, "bind_failed", " status=%s system_id=%s",
                 sc_pdu_status_name(h->status), l->cfg->system_id);
        l->attempts = sc_esme_attempts_after_refusal(h->status, l->attempts);
        sc_session_close(s, "bind refused");
        return;
    }
    char sysid[32] = "";
    sc_pdu_parse_str_resp(pdu, len, sysid, sizeof sysid);
    uv_timer_stop(&l->timer);
    set_phase(l, LP_BOUND);
    sc_session_set_state(s, l->role == ROLE_TRX  ? SC_SS_BOUND_TRX
                            : l->role == ROLE_RX ? SC_SS_BOUND_RX
                                                 : SC_SS_BOUND_TX);
    l->attempts = 0;
    l->paused_until = 0;
    sc_tokenbucket_init(&l->tb, (uint32_t)l->cfg->tps,
                        (uint32_t)(l->cfg->tps >= 10 ? l->cfg->tps / 10 : 1), uv_now(l->e->loop));
    LINK_LOG(SC_LOG_INFO, l, "bound", " mode=%s smsc_system_id=%s",
             l->role == ROLE_TRX ? "transceiver" : l->role == ROLE_RX ? "receiver" : "transmitter",
             SC_LOGV(sysid));
    pump(l->e);
}

static const struct sc_session_cbs g_link_cbs = {
    .on_pdu = on_link_pdu,
    .on_closed = on_link_closed,
};

static void on_connect(uv_connect_t *req, int status)
{
    struct link *l = req->data;
    if (status < 0) {
        if (status != UV_ECANCELED) {
            LINK_LOG(SC_LOG_WARN, l, "connect_failed", " error=\"%s\"", uv_strerror(status));
            uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
            l->tcp = NULL;
        }
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
        maybe_stop_done(l->e);
        return;
    }
    struct sc_esme *e = l->e;
    struct sc_session_opts o = {
        .name = l->name,
        .max_pdu_len = e->o.max_pdu_len,
        .enquire_link_ms = (uint32_t)l->cfg->enquire_link_s * MS_PER_S,
        .resp_timeout_ms = (uint32_t)l->cfg->response_timeout_ms,
        .out_max = LINK_OUT_MAX,
        .max_outstanding = (unsigned)l->cfg->window + LINK_EXTRA_OUTSTANDING,
    };
    uv_tcp_t *tcp = l->tcp;
    l->tcp = NULL;
    l->s = sc_session_new(e->loop, tcp, &o, &g_link_cbs, l);
    if (!l->s) {
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
        return;
    }
    set_phase(l, LP_BINDING);
    sc_session_set_state(l->s, SC_SS_BINDING);
    struct sc_bind b;
    memset(&b, 0, sizeof b);
    b.cmd_id = l->role == ROLE_TRX  ? SC_CMD_BIND_TRANSCEIVER
               : l->role == ROLE_RX ? SC_CMD_BIND_RECEIVER
                                    : SC_CMD_BIND_TRANSMITTER;
    b.seq = sc_session_next_seq(l->s);
    sc_strlcpy(b.system_id, l->cfg->system_id, sizeof b.system_id);
    sc_strlcpy(b.password, l->cfg->password ? l->cfg->password : "", sizeof b.password);
    sc_strlcpy(b.system_type, l->cfg->system_type ? l->cfg->system_type : "",
               sizeof b.system_type);
    b.interface_version = SC_SMPP_VERSION_34;
    uint8_t buf[256];
    long n = sc_pdu_encode_bind(&b, buf, sizeof buf);
    if (n < 0 || sc_session_request(l->s, b.seq, buf, (size_t)n, on_bind_resp, NULL) < 0) {
        LINK_LOG(SC_LOG_ERROR, l, "bind_failed", " reason=\"cannot encode bind: %s\"",
                 sc_strerror(n < 0 ? (int)n : SC_EIO));
        sc_session_close(l->s, "bind not sent");
        return;
    }
    LINK_LOG(SC_LOG_INFO, l, "binding", " system_id=%s command=%s", b.system_id,
             sc_pdu_cmd_name(b.cmd_id));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct link *l = req->data;
    if (status < 0 || l->e->stopping) {
        if (status < 0 && status != UV_ECANCELED)
            LINK_LOG(SC_LOG_WARN, l, "resolve_failed", " error=\"%s\"", uv_strerror(status));
        uv_freeaddrinfo(res);
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
        maybe_stop_done(l->e);
        return;
    }
    l->tcp = malloc(sizeof *l->tcp);
    if (!l->tcp || uv_tcp_init(l->e->loop, l->tcp) < 0) {
        free(l->tcp);
        l->tcp = NULL;
        uv_freeaddrinfo(res);
        schedule_reconnect(l);
        return;
    }
    set_phase(l, LP_CONNECTING);
    l->creq.data = l;
    int rc = uv_tcp_connect(&l->creq, l->tcp, res->ai_addr, on_connect);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        LINK_LOG(SC_LOG_WARN, l, "connect_failed", " error=\"%s\"", uv_strerror(rc));
        uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
        l->tcp = NULL;
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
    }
}

static void link_connect(struct link *l)
{
    char port[8];
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", l->cfg->port);
    set_phase(l, LP_RESOLVING);
    l->gai.data = l;
    uv_timer_start(&l->timer, on_link_timer, (uint64_t)l->cfg->bind_timeout_ms, 0);
    int rc = uv_getaddrinfo(l->e->loop, &l->gai, on_resolved, l->cfg->host, port, &hints);
    if (rc < 0) {
        LINK_LOG(SC_LOG_WARN, l, "resolve_failed", " error=\"%s\"", uv_strerror(rc));
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
    }
}

/* ---- creation and shutdown ----------------------------------------------- */

/* The MT queue's bound: room for max_inflight replies of max_parts parts. */
static size_t queue_max(const struct sc_esme_live *live)
{
    return (size_t)live->max_inflight * (size_t)live->max_parts;
}

struct sc_esme *sc_esme_new(uv_loop_t *loop, const struct sc_esme_opts *o,
                            const struct sc_esme_cbs *cbs, void *arg)
{
    struct sc_esme *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->loop = loop;
    e->o = *o;
    e->cbs = *cbs;
    e->arg = arg;
    e->q_max = queue_max(&o->live);
    STAILQ_INIT(&e->q);
    e->rng = sc_xorshift64s_seed(uv_hrtime() ^ ((uint64_t)(uintptr_t)e << 16));
    for (size_t i = 0; i < o->nbinds; i++)
        e->nlinks += o->binds[i].rx_tx ? 2 : 1;
    e->links = calloc(e->nlinks, sizeof *e->links);
    e->binds = calloc(o->nbinds ? o->nbinds : 1, sizeof *e->binds);
    if (!e->links || !e->binds) {
        free(e->links);
        free(e->binds);
        free(e);
        return NULL;
    }
    if (o->nbinds)
        memcpy(e->binds, o->binds, o->nbinds * sizeof *e->binds);
    e->o.binds = e->binds;
    unsigned k = 0;
    for (size_t i = 0; i < o->nbinds; i++) {
        const struct sc_esme_bind *b = &e->binds[i];
        int pair = b->rx_tx;
        for (int j = 0; j <= pair; j++, k++) {
            struct link *l = &e->links[k];
            l->e = e;
            l->cfg = b;
            l->id = k;
            l->role = !pair ? ROLE_TRX : j == 0 ? ROLE_RX : ROLE_TX;
            snprintf(l->name, sizeof l->name, "%s%s", b->name,
                     !pair ? "" : j == 0 ? "/rx" : "/tx");
            uv_timer_init(loop, &l->timer);
            uv_timer_init(loop, &l->pump_timer);
            l->timer.data = l->pump_timer.data = l;
        }
    }
    for (k = 0; k < e->nlinks; k++)
        link_connect(&e->links[k]);
    return e;
}

void sc_esme_set_live(struct sc_esme *e, const struct sc_esme_live *live)
{
    e->o.live = *live;
    e->q_max = queue_max(live);
}

static void handle_closed(uv_handle_t *h);

/* All links stopped: close our timers, then report. */
static void maybe_stop_done(struct sc_esme *e)
{
    if (!e->stopping || e->open_handles)
        return;
    for (unsigned i = 0; i < e->nlinks; i++)
        if (e->links[i].phase != LP_STOPPED)
            return;
    while (!STAILQ_EMPTY(&e->q))
        part_done(e, queue_pop(e), SC_ECLOSED);
    e->open_handles = 2 * e->nlinks;
    for (unsigned i = 0; i < e->nlinks; i++) {
        e->links[i].timer.data = e->links[i].pump_timer.data = e;
        uv_close((uv_handle_t *)&e->links[i].timer, handle_closed);
        uv_close((uv_handle_t *)&e->links[i].pump_timer, handle_closed);
    }
}

static void handle_closed(uv_handle_t *h)
{
    struct sc_esme *e = h->data;
    if (--e->open_handles == 0 && e->stop_done)
        e->stop_done(e->stop_arg);
}

static void on_unbind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                           const uint8_t *pdu, size_t len)
{
    struct link *l = sc_session_owner(s);
    if (err == SC_ECLOSED)
        return;
    LINK_LOG(SC_LOG_INFO, l, "unbound_clean", " result=%s",
             err ? "no unbind_resp" : sc_pdu_status_name(h->status));
    sc_session_close(s, "unbound");
}

void sc_esme_stop(struct sc_esme *e, void (*done)(void *arg), void *arg)
{
    e->stopping = 1;
    e->refusing = 1;
    e->stop_done = done;
    e->stop_arg = arg;
    for (unsigned i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[i];
        uv_timer_stop(&l->pump_timer);
        switch (l->phase) {
        case LP_BOUND: {
            uint8_t b[SC_PDU_HEADER_LEN];
            uint32_t seq = sc_session_next_seq(l->s);
            sc_pdu_build_simple(b, SC_CMD_UNBIND, 0, seq);
            set_phase(l, LP_UNBINDING);
            sc_session_set_state(l->s, SC_SS_UNBINDING);
            if (sc_session_request(l->s, seq, b, sizeof b, on_unbind_resp, NULL) < 0)
                sc_session_close(l->s, "shutdown");
            break;
        }
        case LP_BINDING:
            sc_session_close(l->s, "shutdown");
            break;
        case LP_RESOLVING:
            uv_cancel((uv_req_t *)&l->gai);
            break;
        case LP_CONNECTING:
            uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
            l->tcp = NULL;
            break;
        case LP_WAITING:
        case LP_IDLE:
            uv_timer_stop(&l->timer);
            set_phase(l, LP_STOPPED);
            break;
        default:
            break;
        }
    }
    maybe_stop_done(e);
}

void sc_esme_free(struct sc_esme *e)
{
    if (!e)
        return;
    while (!STAILQ_EMPTY(&e->q))
        part_done(e, queue_pop(e), SC_ECLOSED);
    free(e->links);
    free(e->binds);
    free(e);
}
