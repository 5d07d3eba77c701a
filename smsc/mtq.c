/* mtq.c -- the MT queue and its scheduler: submit_sm parts in priority
 * classes spread over the bound links.
 *
 * Classes are served strictly in order: replies to MOs (sc_esme_reply,
 * sc_esme_send) first, then pushes of priority 0 .. 9 (sc_esme_push); FIFO
 * within a class. A part that must go again (timeout, throttling, a lost
 * link) goes back to the head of its own class. So a reply waits for no
 * queued push, only for a free window slot: the window and the TPS budget
 * of a link are shared by every class. Only the reply class is bounded here
 * (sc__mtq_room); the push intake bounds what it queues itself.
 *
 * A part goes out on any bound link (transceiver or transmitter) with room
 * in its window, a TPS token and no throttling pause, round-robin. A link
 * that must wait arms one timer for the moment it can send again: nothing
 * spins while throttled. A part whose resp timed out is sent again up to the
 * bind's submit_retries times; ESME_RTHROTTLED / RMSGQFUL pause the link for
 * throttle_pause_ms and send it again; a part whose link was lost goes
 * again on the next bound link (the subscriber may get it twice, never not
 * at all). The interface the rest of the esme uses is in esme_int.h: the MT
 * path's next shape replaces this file behind it. */
#include <stdlib.h>
#include <sys/time.h>

#include "base/sc.h"
#include "smsc/esme_int.h"

/* status: the SMPP status of a refused part, 0 for other errors. */
static void part_done(struct sc__mt_part *p, int err, uint32_t status)
{
    struct sc__mt_msg *m = p->msg;
    free(p);
    if (err && !m->err) {
        m->err = err;
        m->status = status;
    }
    if (--m->parts_left == 0) {
        if (m->cls == SC__MT_REPLY)
            sc__esme_metrics_mt_end(m->err);
        if (m->cb)
            m->cb(m->arg, m->err);
        else if (m->pcb) {
            struct sc_esme_msgids ids = {m->nparts, (const char(*)[SC_MSGID_MAX])m->msgids};
            m->pcb(m->arg, m->err, m->status, m->msgids ? &ids : NULL);
        }
        free(m->msgids);
        free(m);
    }
}

static size_t *class_count(struct sc__mtq *q, unsigned cls)
{
    return cls == SC__MT_REPLY ? &q->queued : &q->push_queued;
}

static void queue_push_front(struct sc__mtq *q, struct sc__mt_part *p)
{
    STAILQ_INSERT_HEAD(&q->q[p->msg->cls], p, link);
    ++*class_count(q, p->msg->cls);
}

/* The oldest part of the first non-empty class, or NULL. */
static struct sc__mt_part *queue_pop(struct sc__mtq *q)
{
    /* Replies alone (the MO path) never look at the push classes. */
    unsigned last = q->push_queued ? SC__MT_CLASSES : SC__MT_REPLY + 1;
    for (unsigned c = 0; c < last; c++) {
        struct sc__mt_part *p = STAILQ_FIRST(&q->q[c]);
        if (p) {
            STAILQ_REMOVE_HEAD(&q->q[c], link);
            --*class_count(q, c);
            return p;
        }
    }
    return NULL;
}


/* The queue's bound: room for max_inflight replies of max_parts parts. */
static size_t queue_max(const struct sc_esme_live *live)
{
    return (size_t)live->max_inflight * (size_t)live->max_parts;
}

void sc__mtq_init(struct sc_esme *e)
{
    for (unsigned c = 0; c < SC__MT_CLASSES; c++)
        STAILQ_INIT(&e->mtq.q[c]);
    e->mtq.max = queue_max(&e->o.live);
}

void sc__mtq_set_live(struct sc_esme *e, const struct sc_esme_live *live)
{
    e->mtq.max = queue_max(live);
}

size_t sc__mtq_pending(const struct sc_esme *e)
{
    return e->mtq.queued + e->mtq.push_queued + e->mtq.inflight;
}

void sc__mtq_drain(struct sc_esme *e, int err)
{
    struct sc__mt_part *p;
    while ((p = queue_pop(&e->mtq)))
        part_done(p, err, 0);
}

int sc__mtq_withdraw(struct sc_esme *e, sc_esme_mt_cb cb, void *arg)
{
    struct sc__mt_list *rq = &e->mtq.q[SC__MT_REPLY], rest;
    struct sc__mt_msg *m = NULL;
    struct sc__mt_part *p;
    STAILQ_FOREACH(p, rq, link) {
        if (p->msg->cb == cb && p->msg->arg == arg) {
            m = p->msg;
            break;
        }
    }
    if (!m || m->sent)
        return 0;
    /* Nothing of it went, so every part is still in this queue. */
    STAILQ_INIT(&rest);
    while ((p = STAILQ_FIRST(rq))) {
        STAILQ_REMOVE_HEAD(rq, link);
        if (p->msg == m) {
            free(p);
            e->mtq.queued--;
            m->parts_left--;
        } else {
            STAILQ_INSERT_TAIL(&rest, p, link);
        }
    }
    STAILQ_CONCAT(rq, &rest);
    free(m->msgids);
    free(m);
    return 1;
}

/* A resp that is ESME_RTHROTTLED or RMSGQFUL: pause the link, part again. */
static void throttled(struct link *l, struct sc__mt_part *p, uint32_t status)
{
    uint64_t until = uv_now(l->e->loop) + (uint64_t)l->cfg->throttle_pause_ms;
    sc_counter_inc(l->m.throttled);
    if (l->mt.paused_until < until) {
        l->mt.paused_until = until;
        SC__LINK_LOG(SC_LOG_WARN, l, "throttled", " status=%s pause_ms=%d",
                     sc_pdu_status_name(status), l->cfg->throttle_pause_ms);
    }
    queue_push_front(&l->e->mtq, p);
}

void sc__mtq_on_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                     const uint8_t *pdu, size_t len)
{
    struct link *l = sc_session_owner(s);
    struct sc_esme *e = l->e;
    struct sc__mt_part *p = ctx;
    l->mt.inflight--;
    e->mtq.inflight--;
    if (err == SC_ECLOSED) {
        /* Not confirmed: send again on the next bound link. The link's
         * on_closed pumps. */
        if (e->stopping)
            part_done(p, SC_ECLOSED, 0);
        else
            queue_push_front(&e->mtq, p);
        return;
    }
    if (err == SC_ETIMEOUT) {
        SC__LINK_LOG(SC_LOG_WARN, l, "submit_timeout", " timeout_ms=%d try=%u",
                     l->cfg->response_timeout_ms, p->tries + 1);
        if (++p->tries > l->cfg->submit_retries) {
            SC__LINK_LOG(SC_LOG_WARN, l, "submit_failed", " reason=timeout tries=%u", p->tries);
            part_done(p, SC_ETIMEOUT, 0);
        } else {
            queue_push_front(&e->mtq, p);
        }
    } else if (h->status == SC_ESME_ROK) {
        /* The message_id matters when a receipt will name it (a resp
         * without one leaves "": that part's receipt is unknown). */
        char *id = p->msg->msgids ? p->msg->msgids[p->idx] : NULL;
        if (id && sc_pdu_parse_str_resp(pdu, len, id, SC_MSGID_MAX) < 0)
            id[0] = '\0';
        if (sc_log_enabled(SC_LOG_DEBUG)) {
            char own[SC_MSGID_MAX] = "";
            if (!id)
                sc_pdu_parse_str_resp(pdu, len, id = own, sizeof own);
            SC__LINK_LOG(SC_LOG_DEBUG, l, "submit_ok", " seq=%u message_id=%s", h->seq,
                         SC_LOGV(id));
        }
        part_done(p, 0, 0);
    } else if (h->status == SC_ESME_RTHROTTLED || h->status == SC_ESME_RMSGQFUL) {
        throttled(l, p, h->status);
    } else {
        SC__LINK_LOG(SC_LOG_WARN, l, "submit_failed", " status=%s command=%s",
                     sc_pdu_status_name(h->status), sc_pdu_cmd_name(h->id));
        part_done(p, SC_EPROTO, h->status);
    }
    sc__mtq_pump(e);
}

static int link_can_send(const struct link *l)
{
    return l->phase == SC__LP_BOUND && l->role != SC__ROLE_RX && l->s &&
           sc_session_state(l->s) != SC_SS_CLOSED;
}

static void on_pump_timer(uv_timer_t *t)
{
    struct link *l = t->data;
    l->mt.wake_at = 0;
    sc__mtq_pump(l->e);
}

/* Make sure the link's pump timer fires by time at (absolute loop ms). */
static void wake_at(struct link *l, uint64_t at)
{
    if (l->mt.wake_at && l->mt.wake_at <= at)
        return;
    uint64_t now = uv_now(l->e->loop);
    l->mt.wake_at = at;
    uv_timer_start(&l->mt.timer, on_pump_timer, at > now ? at - now : 0, 0);
}

/* A link that may send one part now, round-robin; NULL if none. Links that
 * are paused or out of tokens arm their timer for when they can. */
static struct link *pick_link(struct sc_esme *e, uint64_t now)
{
    for (unsigned i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[(e->mtq.rr + i) % e->nlinks];
        if (!link_can_send(l) || l->mt.inflight >= (unsigned)l->cfg->window)
            continue;
        if (l->mt.paused_until > now) {
            wake_at(l, l->mt.paused_until);
            continue;
        }
        if (!sc_tokenbucket_take(&l->mt.tb, now)) {
            wake_at(l, now + sc_tokenbucket_wait_ms(&l->mt.tb, now));
            continue;
        }
        e->mtq.rr = (e->mtq.rr + i + 1) % e->nlinks;
        return l;
    }
    return NULL;
}

/* A push whose not_after passed before any of its parts went: each of its
 * parts ends SC_ERANGE as it comes up, none is sent. */
static int expired(struct sc__mt_msg *m)
{
    if (m->expired)
        return 1;
    if (!m->not_after || m->sent)
        return 0;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    m->expired = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000 > m->not_after;
    return m->expired;
}

void sc__mtq_pump(struct sc_esme *e)
{
    uint64_t now = uv_now(e->loop);
    struct sc__mt_part *p;
    while ((p = queue_pop(&e->mtq))) {
        if (expired(p->msg)) {
            part_done(p, SC_ERANGE, 0);
            continue;
        }
        struct link *l = pick_link(e, now);
        if (!l) {
            queue_push_front(&e->mtq, p);
            return;
        }
        uint32_t seq = sc_session_next_seq(l->s);
        sc_pdu_set_seq(p->pdu, seq);
        if (sc_session_request(l->s, seq, p->pdu, p->len, sc__mtq_on_resp, p) < 0) {
            queue_push_front(&e->mtq, p);
            return;
        }
        p->msg->sent = 1;
        l->mt.inflight++;
        e->mtq.inflight++;
    }
}

void sc__mtq_enqueue(struct sc_esme *e, struct sc__mt_list *parts, int n)
{
    unsigned cls = STAILQ_FIRST(parts)->msg->cls;
    STAILQ_CONCAT(&e->mtq.q[cls], parts);
    *class_count(&e->mtq, cls) += (size_t)n;
    sc__mtq_pump(e);
}

void sc__mtq_link_init(struct link *l)
{
    uv_timer_init(l->e->loop, &l->mt.timer);
    l->mt.timer.data = l;
}

void sc__mtq_link_up(struct link *l)
{
    int tps = l->cfg->tps;
    l->mt.paused_until = 0;
    sc_tokenbucket_init(&l->mt.tb, (uint32_t)tps, (uint32_t)(tps >= 10 ? tps / 10 : 1),
                        uv_now(l->e->loop));
}

void sc__mtq_link_down(struct link *l)
{
    l->mt.inflight = 0;
}

unsigned sc__mtq_link_stop(struct link *l, uv_close_cb close_cb)
{
    uv_timer_stop(&l->mt.timer);
    if (!close_cb)
        return 0;
    l->mt.timer.data = l->e;
    uv_close((uv_handle_t *)&l->mt.timer, close_cb);
    return 1;
}
