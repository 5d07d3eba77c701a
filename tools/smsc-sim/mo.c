/* mo.c -- MOs: the queue of deliver_sm / data_sm parts, sent round-robin to
 * the RX-capable sessions within their window, their resps and redelivery.
 * mo_build.c turns a text into the parts.
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

#include "base/log.h"
#include "base/sc.h"
#include "conn.h"
#include "faults.h"
#include "mo.h"
#include "mo_int.h"
#include "opts.h"
#include "stats.h"

#define MO_MAX_REDELIVERIES 5

struct sim_mopart {
    STAILQ_ENTRY(sim_mopart) link;  /* on mq, rd or fd */
    struct sim_mos *m;
    struct sim_mo *mo;           /* NULL: a delivery receipt */
    char sysid[16];              /* "" = any ESME */
    unsigned conn;               /* receipts: the session that submitted */
    int to;                      /* receipts: enum sim_dlr_bind, relative to conn */
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


static int enqueue(struct sim_mos *m, struct sim_mo *mo, const uint8_t *pdu, size_t len,
                   const char *sysid, unsigned conn, int to)
{
    if (m->mq_len >= m->o->max_queue)
        return SC_EBUSY;
    struct sim_mopart *p = malloc(sizeof *p + len);
    if (!p)
        return SC_ENOMEM;
    p->m = m;
    p->mo = mo;
    sc_strlcpy(p->sysid, sysid ? sysid : "", sizeof p->sysid);
    p->conn = conn;
    p->to = to;
    p->tries = 0;
    p->len = (uint16_t)len;
    memcpy(p->pdu, pdu, len);
    push_back(m, p);
    return 0;
}

int sim_mo_enqueue(struct sim_mos *m, struct sim_mo *mo, const uint8_t *pdu, size_t len,
                   const char *sysid)
{
    return enqueue(m, mo, pdu, len, sysid, 0, SIM_DLR_ANY);
}

int sim_mo_enqueue_dlr(struct sim_mos *m, const uint8_t *pdu, size_t len, const char *sysid,
                       unsigned conn, int to)
{
    return enqueue(m, NULL, pdu, len, sysid, conn, to);
}

struct sim_mo *sim__mo_new(struct sim_mos *m, enum sim_mo_kind kind, const char *from,
                           const char *to)
{
    struct sim_mo *mo = calloc(1, sizeof *mo);
    if (!mo)
        return NULL;
    mo->id = ++m->mo_ids;
    mo->kind = kind;
    sc_strlcpy(mo->from, from, sizeof mo->from);
    sc_strlcpy(mo->to, to, sizeof mo->to);
    mo->status = SC_ESME_ROK;
    mo->refs = 1;
    return mo;
}

int sim_mo_send_pdu(struct sim_mos *m, enum sim_mo_kind kind, const char *from, const char *to,
                    const uint8_t *pdu, size_t len, uint64_t ctx)
{
    struct sim_mo *mo = sim__mo_new(m, kind, from, to); /* the one hold is the part's */
    if (!mo)
        return SC_ENOMEM;
    mo->nparts = mo->parts_left = 1;
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

/* ---- sending ---------------------------------------------------------------- */

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

/* c can take a deliver_sm of an ESME with system_id sysid ("" = any) at all;
 * *room: and now, within its window. */
static int usable(const struct sim_mos *m, const struct sim_conn *c, const char *sysid,
                  int *room)
{
    int ok = c->rx && !c->unbinding && sc_session_state(c->s) != SC_SS_CLOSED &&
             (!sysid[0] || strcmp(c->st->system_id, sysid) == 0);
    *room = ok && sc_session_outstanding(c->s) < m->o->window;
    return ok;
}

/* The next conn (round-robin) with room for p, skipping session `skip`
 * (0: none); NULL if none. *any: some conn but skip could take it later. */
static struct sim_conn *pick_rr(struct sim_mos *m, const struct sim_mopart *p, unsigned skip,
                                int *any)
{
    unsigned n = m->conns->n;
    *any = 0;
    if (n == 0)
        return NULL;
    unsigned start = m->rr % n;
    struct sim_conn *c = m->conns->head;
    for (unsigned i = 0; i < start; i++)
        c = c->next;
    for (unsigned k = 0; k < n; k++) {
        int room;
        if (c->id != skip && usable(m, c, p->sysid, &room)) {
            *any = 1;
            if (room) {
                m->rr = start + k + 1;
                return c;
            }
        }
        c = c->next ? c->next : m->conns->head;
    }
    return NULL;
}

/* The conn that takes p now, or NULL (it waits). A receipt for the same
 * session (--dlr-bind same) waits for room there while that session can
 * receive; one for another session (other) waits while another one can;
 * else it goes to any (counted in dlr_fallback). */
static struct sim_conn *pick(struct sim_mos *m, const struct sim_mopart *p)
{
    int any, room;
    struct sim_conn *c;
    if (p->to == SIM_DLR_SAME) {
        for (c = m->conns->head; c; c = c->next)
            if (c->id == p->conn && usable(m, c, p->sysid, &room))
                return room ? c : NULL;
    } else if (p->to == SIM_DLR_OTHER) {
        if ((c = pick_rr(m, p, p->conn, &any)) || any)
            return c;
    } else {
        return pick_rr(m, p, 0, &any);
    }
    c = pick_rr(m, p, 0, &any);
    if (c)
        m->stats->dlr_fallback++;
    return c;
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
        struct sim_conn *c = pick(m, p);
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
