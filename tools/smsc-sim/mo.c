/* mo.c -- MOs: text encoded and split into deliver_sm / data_sm parts, queued,
 * and sent round-robin to the RX-capable sessions within their window.
 *
 * Encoding follows text/text.h (sc_text_encode picks GSM 7-bit when every
 * character fits, else UCS-2); forcing UCS-2 for a GSM-able text is done here.
 * The encoded bytes are then cut into parts by this file, not by
 * sc_text_encode, because a test needs what no daemon sends: an exact number
 * of parts, 16-bit UDH references, SAR TLVs on deliver_sm. A cut never
 * separates a GSM escape from its code or the halves of a surrogate pair.
 *
 * Parts wait in one FIFO; each goes out on the next session (round-robin)
 * with room in its window. A part whose session closes before its resp is
 * sent again on another session, as an SMSC redelivers: the session fails
 * its requests (oldest first) just before on_closed, they are collected in
 * order and put back at the head of the queue from on_closed. Delivery receipts
 * use the same queue, restricted to the sessions of the ESME that asked.
 *
 * With --redeliver (faults.h), a part answered with an error, not answered
 * in time or whose session closed waits --redeliver-interval-ms on a second
 * list (the interval is the same for all: FIFO order is deadline order),
 * then goes to the queue's tail again, at most --redeliver-max times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "base/log.h"
#include "base/sc.h"
#include "conn.h"
#include "faults.h"
#include "mo.h"
#include "opts.h"
#include "stats.h"
#include "text/text.h"

#define MO_MAX_PARTS 255
#define MO_MAX_REDELIVERIES 5

struct sim_mopart {
    STAILQ_ENTRY(sim_mopart) link;  /* on mq, rd or fd */
    struct sim_mos *m;
    struct sim_mo *mo;           /* NULL: a delivery receipt */
    char sysid[16];              /* "" = any ESME */
    uint16_t tries;
    uint64_t due;                /* --redeliver: when to send again */
    uint16_t len;
    uint8_t pdu[];
};

/* ---- queue ---------------------------------------------------------------- */

static void moq_push(struct sim_moq *q, struct sim_mopart *p)
{
    STAILQ_INSERT_TAIL(q, p, link);
}

static struct sim_mopart *moq_pop(struct sim_moq *q)
{
    struct sim_mopart *p = STAILQ_FIRST(q);
    if (p)
        STAILQ_REMOVE_HEAD(q, link);
    return p;
}

static size_t moq_count(const struct sim_moq *q)
{
    size_t n = 0;
    const struct sim_mopart *p;
    STAILQ_FOREACH(p, q, link)
        n++;
    return n;
}

void sim_mo_init(struct sim_mos *m, uv_loop_t *loop, const struct sim_opts *o,
                 struct sim_stats *stats, struct sim_faults *faults,
                 const struct sim_conns *conns)
{
    memset(m, 0, sizeof *m);
    m->loop = loop;
    m->o = o;
    m->stats = stats;
    m->faults = faults;
    m->conns = conns;
    STAILQ_INIT(&m->mq);
    STAILQ_INIT(&m->rd);
    STAILQ_INIT(&m->fd);
    uv_timer_init(loop, &m->fd_timer);
    m->fd_timer.data = m;
}

size_t sim_mo_queued(const struct sim_mos *m)
{
    return m->mq_len;
}

size_t sim_mo_redelivery_pending(const struct sim_mos *m)
{
    return moq_count(&m->fd);
}

void sim_mo_stopping(struct sim_mos *m)
{
    m->stopping = 1;
}

static void push_back(struct sim_mos *m, struct sim_mopart *p)
{
    moq_push(&m->mq, p);
    m->mq_len++;
}

static struct sim_mopart *pop(struct sim_mos *m)
{
    struct sim_mopart *p = moq_pop(&m->mq);
    if (p)
        m->mq_len--;
    return p;
}


int sim_mo_enqueue(struct sim_mos *m, struct sim_mo *mo, const uint8_t *pdu, size_t len,
                   const char *sysid)
{
    if (m->mq_len >= m->o->max_queue)
        return SC_EBUSY;
    struct sim_mopart *p = malloc(sizeof *p + len);
    if (!p)
        return SC_ENOMEM;
    p->m = m;
    p->mo = mo;
    sc_strlcpy(p->sysid, sysid ? sysid : "", sizeof p->sysid);
    p->tries = 0;
    p->len = (uint16_t)len;
    memcpy(p->pdu, pdu, len);
    push_back(m, p);
    return 0;
}

int sim_mo_send_pdu(struct sim_mos *m, enum sim_mo_kind kind, const char *from, const char *to,
                    const uint8_t *pdu, size_t len, uint64_t ctx)
{
    struct sim_mo *mo = calloc(1, sizeof *mo);
    if (!mo)
        return SC_ENOMEM;
    sc_strlcpy(mo->from, from, sizeof mo->from);
    sc_strlcpy(mo->to, to, sizeof mo->to);
    mo->id = ++m->mo_ids;
    mo->kind = kind;
    mo->nparts = mo->parts_left = 1;
    mo->status = SC_ESME_ROK;
    mo->refs = 1; /* the part's */
    mo->ctx = ctx;
    int rc = sim_mo_enqueue(m, mo, pdu, len, "");
    if (rc < 0) {
        free(mo);
        return rc;
    }
    if (kind != SIM_MO_HOSTILE)
        m->stats->mo_sent++;
    return 0;
}

void sim_mo_release(struct sim_mo *mo)
{
    if (mo && --mo->refs == 0)
        free(mo);
}

static void mo_finished(struct sim_mos *m, struct sim_mo *mo)
{
    char b[16];
    mo->done = 1;
    if (mo->kind == SIM_MO_HOSTILE)
        return;
    sim_statmap_add(&m->stats->mo_status, mo->status);
    if (mo->redeliveries && mo->status == SC_ESME_ROK)
        m->faults->c.mo_ok_after_redelivery++;
    enum sc_log_level lvl = mo->kind == SIM_MO_BURST || mo->kind == SIM_MO_LOAD ? SC_LOG_DEBUG
                                                                                : SC_LOG_INFO;
    if (sc_log_enabled(lvl))
        sc_log(lvl, "event=mo_done mo=%u from=%s to=%s parts=%u status=%s", mo->id, mo->from,
               mo->to, mo->nparts, sim_status_name(mo->status, b, sizeof b));
    if (m->on_done)
        m->on_done(m->ctx, mo);
}

/* A part is finished with status st: free it, and finish its MO when it was
 * the last one. */
static void part_done(struct sim_mos *m, struct sim_mopart *p, int64_t st)
{
    struct sim_mo *mo = p->mo;
    free(p);
    if (!mo)
        return;
    if (st != SC_ESME_ROK && mo->status == SC_ESME_ROK)
        mo->status = st;
    if (--mo->parts_left == 0)
        mo_finished(m, mo);
    sim_mo_release(mo);
}

void sim_mo_requeue(struct sim_mos *m)
{
    if (STAILQ_EMPTY(&m->rd))
        return;
    /* rd goes before mq: append mq to rd, then move it all back to mq. */
    m->mq_len += moq_count(&m->rd);
    STAILQ_CONCAT(&m->rd, &m->mq);
    STAILQ_CONCAT(&m->mq, &m->rd);
}

/* Put every part waiting for redelivery back in the queue (shutdown). */
static void redeliver_flush(struct sim_mos *m)
{
    struct sim_mopart *p;
    while ((p = moq_pop(&m->fd)) != NULL)
        push_back(m, p);
    if (m->loop)
        uv_timer_stop(&m->fd_timer);
}

void sim_mo_drop_all(struct sim_mos *m)
{
    struct sim_mopart *p;
    redeliver_flush(m);
    sim_mo_requeue(m);
    while ((p = pop(m)))
        part_done(m, p, SIM_ST_SHUTDOWN);
}

/* ---- sending ---------------------------------------------------------------- */

/* ---- redelivery (--redeliver) ------------------------------------------------------ */

static void on_fd_timer(uv_timer_t *t)
{
    struct sim_mos *m = t->data;
    uint64_t now = uv_now(m->loop);
    while (!STAILQ_EMPTY(&m->fd) && STAILQ_FIRST(&m->fd)->due <= now)
        push_back(m, moq_pop(&m->fd));
    if (!STAILQ_EMPTY(&m->fd))
        uv_timer_start(&m->fd_timer, on_fd_timer, STAILQ_FIRST(&m->fd)->due - now, 0);
    sim_mo_pump(m);
}

/* A part of an MO got status st (not ROK): 1 when it will be redelivered
 * (the part is taken), 0 when it is final. */
static int redeliver(struct sim_mos *m, struct sim_mopart *p, int64_t st)
{
    const struct sim_fault_opts *f = &m->o->f;
    struct sim_fault_counts *fc = &m->faults->c;
    struct sim_mo *mo = p->mo;
    unsigned tries = p->tries;
    if (tries >= f->redeliver_max) {
        fc->mo_redeliver_exhausted++;
        sc_warn("event=mo_redeliver_exhausted mo=%u from=%s tries=%u", mo ? mo->id : 0,
                mo ? mo->from : "", tries);
        return 0;
    }
    p->tries = (uint16_t)(tries + 1);
    if (mo && mo->redeliveries++ == 0)
        fc->mo_redelivered++;
    fc->redeliveries++;
    if (st == SIM_ST_TIMEOUT)
        fc->redeliver_timeout++;
    else if (st == SIM_ST_CLOSED)
        fc->redeliver_closed++;
    else
        fc->redeliver_error++;
    p->due = uv_now(m->loop) + f->redeliver_interval_ms;
    moq_push(&m->fd, p);
    /* Same interval for all: the list is in deadline order. */
    if (!uv_is_active((uv_handle_t *)&m->fd_timer))
        uv_timer_start(&m->fd_timer, on_fd_timer, f->redeliver_interval_ms, 0);
    if (sc_log_enabled(SC_LOG_DEBUG)) {
        char b[16];
        sc_debug("event=mo_redeliver mo=%u from=%s try=%u status=%s", mo ? mo->id : 0,
                 mo ? mo->from : "", tries + 1, sim_status_name(st, b, sizeof b));
    }
    return 1;
}

static void on_part_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                         const uint8_t *pdu, size_t len)
{
    struct sim_conn *c = sc_session_owner(s);
    struct sim_mopart *p = ctx;
    struct sim_mos *m = p->m;
    char b[16];
    if (m->o->f.redeliver && p->mo && !m->stopping &&
        (err != 0 || h->status != SC_ESME_ROK)) {
        int64_t fst = err == SC_ETIMEOUT  ? SIM_ST_TIMEOUT
                      : err == SC_ECLOSED ? SIM_ST_CLOSED
                      : err               ? SIM_ST_OTHER
                                          : (int64_t)h->status;
        if (p->mo->kind != SIM_MO_HOSTILE && redeliver(m, p, fst)) {
            sim_statmap_add(&c->st->c.mo_part_status, fst);
            sim_statmap_add(&m->stats->total.mo_part_status, fst);
            c->st->c.mo_redelivered++;
            m->stats->total.mo_redelivered++;
            return;
        }
    }
    if (err == SC_ECLOSED && !m->stopping && p->tries < MO_MAX_REDELIVERIES &&
        !m->o->f.redeliver && !(p->mo && p->mo->kind == SIM_MO_HOSTILE)) {
        /* Never answered: redeliver on another session (the owner pumps
         * once this session is gone). */
        p->tries++;
        if (p->mo)
            p->mo->redeliveries++;
        c->st->c.mo_redelivered++;
        m->stats->total.mo_redelivered++;
        moq_push(&m->rd, p);
        return;
    }
    int64_t st = err == SC_ETIMEOUT  ? SIM_ST_TIMEOUT
                 : err == SC_ECLOSED ? (m->stopping ? SIM_ST_SHUTDOWN : SIM_ST_CLOSED)
                                     : (int64_t)h->status;
    if (p->mo && p->mo->kind == SIM_MO_HOSTILE) {
        sim_statmap_add(&m->faults->c.hostile_resp, st);
        part_done(m, p, st);
        sim_mo_pump(m);
        return;
    }
    if (p->mo) {
        sim_statmap_add(&c->st->c.mo_part_status, st);
        sim_statmap_add(&m->stats->total.mo_part_status, st);
    } else {
        sim_statmap_add(&c->st->c.dlr_status, st);
        sim_statmap_add(&m->stats->total.dlr_status, st);
    }
    if (st != SC_ESME_ROK && (!p->mo || (p->mo->kind != SIM_MO_BURST && p->mo->kind != SIM_MO_LOAD)))
        sc_warn("event=%s session=%u mo=%u status=%s", p->mo ? "mo_refused" : "dlr_refused",
                c->id, p->mo ? p->mo->id : 0, sim_status_name(st, b, sizeof b));
    part_done(m, p, st);
    sim_mo_pump(m);
}

/* The next conn (round-robin) that can take a deliver_sm now; NULL if none. */
static struct sim_conn *pick(struct sim_mos *m, const char *sysid)
{
    unsigned n = m->conns->n;
    if (n == 0)
        return NULL;
    unsigned start = m->rr % n;
    struct sim_conn *c = m->conns->head;
    for (unsigned i = 0; i < start; i++)
        c = c->next;
    for (unsigned k = 0; k < n; k++) {
        if (c->rx && !c->unbinding && sc_session_state(c->s) != SC_SS_CLOSED &&
            sc_session_outstanding(c->s) < m->o->window &&
            (!sysid[0] || strcmp(c->st->system_id, sysid) == 0)) {
            m->rr = start + k + 1;
            return c;
        }
        c = c->next ? c->next : m->conns->head;
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

void sim_mo_pump(struct sim_mos *m)
{
    while (!STAILQ_EMPTY(&m->mq) && !m->stopping) {
        struct sim_mopart *p = STAILQ_FIRST(&m->mq);
        struct sim_conn *c = pick(m, p->sysid);
        if (!c)
            return;
        uint32_t seq = sc_session_next_seq(c->s);
        put_u32(p->pdu + 12, seq);
        if (sc_session_request(c->s, seq, p->pdu, p->len, on_part_resp, p) < 0)
            return; /* cannot happen after pick(); try again on the next event */
        pop(m);
        if (p->mo) {
            c->st->c.mo_parts_sent++;
            m->stats->total.mo_parts_sent++;
            if (p->mo->sent_ms == 0)
                p->mo->sent_ms = uv_now(m->loop);
        } else {
            c->st->c.dlr_sent++;
            m->stats->total.dlr_sent++;
        }
    }
}

/* ---- encoding ------------------------------------------------------------------ */

/* UTF-8 -> UTF-16BE (invalid sequences become U+FFFD). Returns bytes or
 * SC_ETOOBIG. */
static long to_ucs2(const char *s, size_t n, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        ucs4_t u;
        int k = u8_mbtouc(&u, (const uint8_t *)s + i, n - i);
        i += (size_t)(k > 0 ? k : 1);
        if (u >= 0x10000) {
            if (o + 4 > cap)
                return SC_ETOOBIG;
            u -= 0x10000;
            uint32_t hi = 0xD800 | (u >> 10), lo = 0xDC00 | (u & 0x3FF);
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(lo >> 8);
            out[o++] = (uint8_t)lo;
        } else {
            if (o + 2 > cap)
                return SC_ETOOBIG;
            out[o++] = (uint8_t)(u >> 8);
            out[o++] = (uint8_t)u;
        }
    }
    return (long)o;
}

/* Largest cut point <= end that splits no character. */
static size_t safe_end(const uint8_t *b, size_t end, uint8_t dc)
{
    if (dc == 8) {
        end &= ~(size_t)1;
        if (end >= 2) {
            unsigned u = (unsigned)b[end - 2] << 8 | b[end - 1];
            if (u >= 0xD800 && u <= 0xDBFF)
                end -= 2;
        }
    } else if (end >= 1 && b[end - 1] == 0x1B) {
        end -= 1;
    }
    return end;
}

struct cut {
    size_t off, len;
};

/* Cut n encoded bytes into parts: want 0 = as many as needed (one if it fits
 * single_cap, else parts of part_cap), else exactly want parts of even size. */
static int split(const uint8_t *b, size_t n, uint8_t dc, unsigned want, size_t single_cap,
                 size_t part_cap, struct cut *cuts, unsigned *ncuts, char *err, size_t errsz)
{
    unsigned k = 0;
    if ((want == 0 && n <= single_cap) || want == 1) {
        if (n > single_cap) {
            snprintf(err, errsz, "text needs %zu bytes, one part holds %zu", n, single_cap);
            return SC_ETOOBIG;
        }
        cuts[0].off = 0;
        cuts[0].len = n;
        *ncuts = 1;
        return 0;
    }
    if (want == 0) {
        size_t pos = 0;
        while (pos < n) {
            if (k == MO_MAX_PARTS) {
                snprintf(err, errsz, "text needs more than %d parts", MO_MAX_PARTS);
                return SC_ETOOBIG;
            }
            size_t end = pos + part_cap < n ? safe_end(b, pos + part_cap, dc) : n;
            if (end <= pos) {
                snprintf(err, errsz, "cannot split the text");
                return SC_EINVAL;
            }
            cuts[k].off = pos;
            cuts[k].len = end - pos;
            k++;
            pos = end;
        }
        *ncuts = k;
        return 0;
    }
    size_t unit = dc == 8 ? 2 : 1, units = n / unit, pos = 0;
    for (unsigned i = 1; i <= want; i++) {
        size_t end = i == want ? n : safe_end(b, (units * i / want) * unit, dc);
        if (end <= pos || end - pos > part_cap) {
            snprintf(err, errsz, "cannot split %zu bytes into %u parts of at most %zu", n, want,
                     part_cap);
            return SC_EINVAL;
        }
        cuts[i - 1].off = pos;
        cuts[i - 1].len = end - pos;
        pos = end;
    }
    *ncuts = want;
    return 0;
}

struct sim_mo *sim_mo_send(struct sim_mos *m, enum sim_mo_kind kind, const char *from,
                           const char *to, const char *text, size_t len,
                           const struct sim_send_opts *so, char *err, size_t errsz)
{
    if (!sim_addr_valid(from) || !sim_addr_valid(to)) {
        snprintf(err, errsz, "bad address (1 to 20 printable characters)");
        return NULL;
    }
    if (so->parts > MO_MAX_PARTS) {
        snprintf(err, errsz, "at most %d parts", MO_MAX_PARTS);
        return NULL;
    }
    /* Encode the whole text once. */
    struct sc_mt *mt = malloc(sizeof *mt);
    struct cut *cuts = malloc(MO_MAX_PARTS * sizeof *cuts);
    struct sc_sm *sm = malloc(sizeof *sm);
    uint8_t *pdu = malloc(SC_SM_MSG_MAX + 512);
    struct sim_mo *mo = NULL;
    const uint8_t *bytes = NULL;
    size_t n = 0;
    uint8_t dc = 0;
    if (!mt || !cuts || !sm || !pdu) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if (so->enc == SIM_ENC_UCS2) {
        long r = to_ucs2(text, len, mt->bytes, sizeof mt->bytes);
        if (r < 0) {
            snprintf(err, errsz, "text too long");
            goto out;
        }
        bytes = mt->bytes;
        n = (size_t)r;
        dc = 8;
    } else {
        if (sc_text_encode(text, len, SC_SEG_PAYLOAD, 0, 1, mt) < 0 || mt->nparts != 1) {
            snprintf(err, errsz, "text too long");
            goto out;
        }
        if (so->enc == SIM_ENC_GSM && mt->data_coding != 0) {
            snprintf(err, errsz, "text has characters outside the GSM 03.38 alphabet");
            goto out;
        }
        bytes = mt->bytes + mt->off[0];
        n = mt->len[0];
        dc = mt->data_coding;
    }

    int payload = so->data_sm || so->payload;
    size_t hdr = so->concat == SIM_CONCAT_UDH8 ? 6 : so->concat == SIM_CONCAT_UDH16 ? 7 : 0;
    size_t single_cap = payload ? SC_SM_MSG_MAX : dc == 8 ? 140 : 160;
    /* 140 octets per SMS; a UDH of h octets costs ceil(h*8/7) septets in GSM. */
    size_t part_cap = dc == 8 ? ((140 - hdr) & ~(size_t)1) : 160 - (hdr * 8 + 6) / 7;
    unsigned ncuts = 0;
    if (split(bytes, n, dc, so->parts, single_cap, part_cap, cuts, &ncuts, err, errsz) < 0)
        goto out;
    if (m->mq_len + ncuts > m->o->max_queue) {
        snprintf(err, errsz, "MO queue full (%zu parts queued)", m->mq_len);
        goto out;
    }

    mo = calloc(1, sizeof *mo);
    if (!mo) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    mo->id = ++m->mo_ids;
    mo->kind = kind;
    sc_strlcpy(mo->from, from, sizeof mo->from);
    sc_strlcpy(mo->to, to, sizeof mo->to);
    mo->nparts = so->only ? 1 : ncuts;
    mo->status = SC_ESME_ROK;
    mo->refs = 1; /* the caller's */
    uint16_t ref = ncuts <= 1 ? 0 : so->has_ref ? so->ref : ++m->mo_ref;
    if (so->only > ncuts) {
        snprintf(err, errsz, "part %u of a text in %u parts", so->only, ncuts);
        free(mo);
        mo = NULL;
        goto out;
    }

    /* --reorder-parts: parts go out last first; --dup-parts: part 1 is sent
     * twice (once more at the end). */
    int reorder = ncuts > 1 && m->o->f.reorder_parts;
    unsigned nsend = ncuts + (ncuts > 1 && m->o->f.dup_parts ? 1 : 0);
    if (reorder)
        m->faults->c.reordered_mos++;
    if (nsend > ncuts)
        m->faults->c.dup_parts++;
    for (unsigned k = 0; k < nsend; k++) {
        unsigned i = k >= ncuts ? 0 : reorder ? ncuts - 1 - k : k;
        if (so->only && i + 1 != so->only)
            continue; /* --part K: this part alone (the test sends the others) */
        memset(sm, 0, sizeof *sm);
        sm->cmd_id = so->data_sm ? SC_CMD_DATA_SM : SC_CMD_DELIVER_SM;
        sm->seq = 1; /* patched when sent */
        sm->src.ton = 1;
        sm->src.npi = 1;
        sc_strlcpy(sm->src.addr, from, sizeof sm->src.addr);
        sc_strlcpy(sm->dst.addr, to, sizeof sm->dst.addr);
        sm->data_coding = dc;
        sm->use_payload = (uint8_t)payload;
        size_t h = 0;
        if (ncuts > 1 && so->concat == SIM_CONCAT_UDH8) {
            const uint8_t u[] = {5, 0, 3, (uint8_t)ref, (uint8_t)ncuts, (uint8_t)(i + 1)};
            memcpy(sm->msg, u, sizeof u);
            h = sizeof u;
        } else if (ncuts > 1 && so->concat == SIM_CONCAT_UDH16) {
            const uint8_t u[] = {6, 8, 4, (uint8_t)(ref >> 8), (uint8_t)ref, (uint8_t)ncuts,
                                 (uint8_t)(i + 1)};
            memcpy(sm->msg, u, sizeof u);
            h = sizeof u;
        } else if (ncuts > 1) {
            sm->has_sar = 1;
            sm->sar_ref = ref;
            sm->sar_total = (uint8_t)ncuts;
            sm->sar_seq = (uint8_t)(i + 1);
        }
        if (h)
            sm->esm_class = SC_ESM_UDHI;
        memcpy(sm->msg + h, bytes + cuts[i].off, cuts[i].len);
        sm->msg_len = (uint16_t)(h + cuts[i].len);
        long plen = sc_pdu_encode_sm(sm, pdu, SC_SM_MSG_MAX + 512);
        int rc = plen < 0 ? (int)plen : sim_mo_enqueue(m, mo, pdu, (size_t)plen, "");
        if (rc < 0) {
            /* Parts already queued stay queued and finish the MO; the rest
             * count as not sent. */
            snprintf(err, errsz, "part %u: %s", i + 1, sc_strerror(rc));
            sc_error("event=mo_encode_failed from=%s to=%s part=%u/%u reason=\"%s\"", from, to,
                     i + 1, ncuts, sc_strerror(rc));
            mo->nparts = k < ncuts ? k : ncuts;
            if (mo->parts_left == 0) {
                free(mo);
                mo = NULL;
                goto out;
            }
            break;
        }
        mo->refs++;
        mo->parts_left++;
    }
    m->stats->mo_sent++;
    if (kind != SIM_MO_BURST || sc_log_enabled(SC_LOG_DEBUG)) {
        char q[160];
        sc_log(kind == SIM_MO_BURST ? SC_LOG_DEBUG : SC_LOG_INFO,
               "event=mo mo=%u from=%s to=%s command=%s parts=%u dc=%u text=%s", mo->id, from, to,
               so->data_sm ? "data_sm" : "deliver_sm", mo->nparts, dc,
               sc_log_quote(q, sizeof q, text, len));
    }
    sim_mo_pump(m);
out:
    free(mt);
    free(cuts);
    free(sm);
    free(pdu);
    return mo;
}
