/* submit.c -- smsc-sim's answers to submit_sm / data_sm: throttling and
 * faults, decoding, the resp (now or after --resp-delay-ms), and what an
 * accepted part becomes: a reassembled MT for the handset and, with --dlr,
 * a delivery receipt (dlr.c decides it and sends it when due).
 *
 * submit_sm_resps with --resp-delay-ms or --resp-rate wait in one FIFO (the
 * delay is the same for all and the rate's slots only grow, so FIFO order
 * is deadline order) served by one timer. A part
 * counts as delivered to the handset only when its resp goes out with ROK:
 * then it is reassembled into an MT event and, with --dlr, receipted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "faults.h"
#include "mo.h"
#include "opts.h"
#include "server_int.h"
#include "smsc/reasm.h"
#include "stats.h"
#include "text/text.h"

struct sim_mtpart {
    struct sc_addr src, dst;
    uint8_t dc;
    uint8_t regdel;
    int concat;                  /* 1: c holds the concatenation info */
    struct sc_concat c;
    long submit_time;
    uint16_t len;
    uint8_t data[];              /* text bytes, UDH removed */
};

struct sim_resp {
    struct sim_resp *next;
    struct sim_conn *c;
    uint64_t due;
    uint32_t resp_id, seq, status;
    char msgid[SC_MSGID_MAX];
    struct sim_mtpart *part;     /* ROK only; NULL for errors */
};


/* ---- MTs ---------------------------------------------------------------------- */

/* A complete MT: logged, then handed to the owner (who takes it). */
static void mt_event(struct sim_server *srv, struct sim_mt *mt)
{
    char qf[64], qt[64], qx[256];
    enum sc_log_level lvl = srv->quiet_mt ? SC_LOG_DEBUG : SC_LOG_INFO;
    if (sc_log_enabled(lvl))
        sc_log(lvl, "event=mt from=%s to=%s parts=%u dc=%u text=%s",
               sc_log_quote(qf, sizeof qf, mt->from, strlen(mt->from)),
               sc_log_quote(qt, sizeof qt, mt->to, strlen(mt->to)), mt->parts,
               mt->data_coding, sc_log_quote(qx, sizeof qx, mt->text, mt->len));
    if (srv->hooks.on_mt)
        srv->hooks.on_mt(srv->hooks.ctx, mt);
    else
        free(mt);
}

static void make_mt(struct sim_conn *c, const struct sim_mtpart *p, const uint8_t *bytes,
                    size_t n, uint8_t dc, unsigned parts)
{
    struct sim_server *srv = c->srv;
    size_t cap = 3 * n + 4; /* any unit of any coding is at most 3 UTF-8 bytes per byte */
    struct sim_mt *mt = malloc(sizeof *mt + cap);
    if (!mt) {
        sc_error("event=mt_dropped reason=\"out of memory\"");
        return;
    }
    memset(mt, 0, sizeof *mt);
    memcpy(mt->from, p->src.addr, sizeof mt->from);
    memcpy(mt->to, p->dst.addr, sizeof mt->to);
    mt->parts = parts;
    mt->data_coding = dc;
    mt->len = sc_text_decode(dc, (enum sc_dc0)srv->o->dc0, bytes, n, mt->text, cap);
    c->st->c.mt_messages++;
    srv->stats->total.mt_messages++;
    mt_event(srv, mt);
}

static void on_reasm_expired(void *arg, const struct sc_reasm_key *k, unsigned have)
{
    struct sim_server *srv = arg;
    srv->stats->total.mt_reasm_errors++;
    sc_warn("event=mt_expired from=%s to=%s ref=%u parts=%u/%u", k->src, k->dst, k->ref, have,
            k->total);
}

static void on_reasm_timer(uv_timer_t *t)
{
    struct sim_server *srv = t->data;
    sc_reasm_expire(srv->reasm, uv_now(srv->loop), on_reasm_expired, srv);
    if (sc_reasm_pending(srv->reasm) == 0)
        uv_timer_stop(t);
}

/* The part was acknowledged with ROK: it reached the "handset". */
static void mt_accept(struct sim_conn *c, struct sim_mtpart *p, const char *msgid)
{
    struct sim_server *srv = c->srv;
    c->st->c.mt_parts_accepted++;
    srv->stats->total.mt_parts_accepted++;
    struct sim_dlr_part dp = {
        .st = c->st, .conn = c->id, .src = &p->src, .dst = &p->dst, .regdel = p->regdel,
        .dc = p->dc, .msgid = msgid, .submit_time = p->submit_time, .text = p->data,
        .len = p->len,
    };
    sim_dlr_accepted(&srv->dlrs, &dp);
    if (!p->concat || p->c.total <= 1) {
        make_mt(c, p, p->data, p->len, p->dc, 1);
        return;
    }
    struct sc_reasm_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.src, p->src.addr, sizeof k.src);
    memcpy(k.dst, p->dst.addr, sizeof k.dst);
    k.ref = p->c.ref;
    k.total = p->c.total;
    uint8_t *whole = NULL;
    size_t wlen = 0;
    uint8_t dc = 0;
    int rc = sc_reasm_add(srv->reasm, &k, p->c.seq, p->dc, p->data, p->len, uv_now(srv->loop),
                          &whole, &wlen, &dc);
    if (rc == SC_REASM_PARTIAL) {
        if (!uv_is_active((uv_handle_t *)&srv->reasm_timer))
            uv_timer_start(&srv->reasm_timer, on_reasm_timer, 1000, 1000);
    } else if (rc == SC_REASM_COMPLETE) {
        make_mt(c, p, whole, wlen, dc, p->c.total);
        free(whole);
    } else {
        c->st->c.mt_reasm_errors++;
        srv->stats->total.mt_reasm_errors++;
        SIM__CONN_LOG(SC_LOG_WARN, c, "mt_reasm_failed",
                      " from=%s to=%s ref=%u part=%u/%u reason=\"%s\"", p->src.addr, p->dst.addr,
                      p->c.ref, p->c.seq, p->c.total, sc_strerror(rc));
    }
}

/* ---- submit_sm resps ---------------------------------------------------------- */

static void note_outstanding(struct sim_conn *c, int delta)
{
    struct sim_server *srv = c->srv;
    c->st->c.submit_sm_outstanding += (unsigned)delta;
    srv->stats->total.submit_sm_outstanding += (unsigned)delta;
    if (c->st->c.submit_sm_outstanding > c->st->c.submit_sm_max_outstanding)
        c->st->c.submit_sm_max_outstanding = c->st->c.submit_sm_outstanding;
    if (srv->stats->total.submit_sm_outstanding > srv->stats->total.submit_sm_max_outstanding)
        srv->stats->total.submit_sm_max_outstanding = srv->stats->total.submit_sm_outstanding;
}

static void send_resp_now(struct sim_conn *c, uint32_t resp_id, uint32_t seq, uint32_t status,
                          const char *msgid, struct sim_mtpart *p)
{
    int rc = sc_session_send_str_resp(c->s, resp_id, status, seq,
                                      status == SC_ESME_ROK ? msgid : NULL);
    if (rc == 0 && p && status == SC_ESME_ROK && !c->unbinding)
        mt_accept(c, p, msgid);
    free(p);
}

static void on_rq_timer(uv_timer_t *t)
{
    struct sim_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    while (srv->rq_head && srv->rq_head->due <= now) {
        struct sim_resp *r = srv->rq_head;
        srv->rq_head = r->next;
        if (!srv->rq_head)
            srv->rq_tail = NULL;
        srv->rq_len--;
        note_outstanding(r->c, -1);
        send_resp_now(r->c, r->resp_id, r->seq, r->status, r->msgid, r->part);
        free(r);
    }
    if (srv->rq_head)
        uv_timer_start(&srv->rq_timer, on_rq_timer, srv->rq_head->due - now, 0);
}

/* When a resp queued now may go: after --resp-delay-ms, and with
 * --resp-rate R no sooner than 1/R s after the previous one (each resp
 * takes the next free slot). Never earlier than for the resps before it, so
 * the FIFO stays in deadline order. */
static uint64_t resp_due(struct sim_server *srv, uint64_t now)
{
    uint64_t due = now + srv->o->resp_delay_ms;
    if (srv->o->resp_rate) {
        uint64_t now_ns = now * 1000000u;
        if (srv->rate_free_ns < now_ns)
            srv->rate_free_ns = now_ns;
        uint64_t slot = (srv->rate_free_ns + 999999u) / 1000000u;
        srv->rate_free_ns += 1000000000u / srv->o->resp_rate;
        if (slot > due)
            due = slot;
    }
    return due;
}

/* Answer now, or after --resp-delay-ms / in --resp-rate's slot. Takes
 * ownership of p. */
static void queue_resp(struct sim_conn *c, uint32_t resp_id, uint32_t seq, uint32_t status,
                       const char *msgid, struct sim_mtpart *p)
{
    struct sim_server *srv = c->srv;
    uint64_t now = uv_now(srv->loop);
    uint64_t due = srv->o->resp_delay_ms || srv->o->resp_rate ? resp_due(srv, now) : now;
    if (due <= now && !srv->rq_head) {
        send_resp_now(c, resp_id, seq, status, msgid, p);
        return;
    }
    struct sim_resp *r = srv->rq_len < srv->o->max_queue ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        SIM__CONN_LOG(SC_LOG_WARN, c, "resp_queue_full", " seq=%u queued=%zu", seq, srv->rq_len);
        free(p);
        sc_session_send_str_resp(c->s, resp_id, SC_ESME_RMSGQFUL, seq, NULL);
        return;
    }
    r->c = c;
    r->due = due;
    r->resp_id = resp_id;
    r->seq = seq;
    r->status = status;
    if (msgid)
        sc_strlcpy(r->msgid, msgid, sizeof r->msgid);
    r->part = p;
    if (srv->rq_tail)
        srv->rq_tail->next = r;
    else
        srv->rq_head = r;
    srv->rq_tail = r;
    srv->rq_len++;
    note_outstanding(c, +1);
    if (!uv_is_active((uv_handle_t *)&srv->rq_timer))
        uv_timer_start(&srv->rq_timer, on_rq_timer, srv->rq_head->due - now, 0);
}

void sim__resps_purge(struct sim_server *srv, struct sim_conn *c)
{
    struct sim_resp **pp = &srv->rq_head;
    srv->rq_tail = NULL;
    while (*pp) {
        struct sim_resp *r = *pp;
        if (!c || r->c == c) {
            *pp = r->next;
            note_outstanding(r->c, -1);
            free(r->part);
            free(r);
            srv->rq_len--;
        } else {
            srv->rq_tail = r;
            pp = &r->next;
        }
    }
    if (!srv->rq_head)
        uv_timer_stop(&srv->rq_timer);
}

/* ---- requests from the ESME ------------------------------------------------------- */

/* Count a submit_sm / data_sm, then answer it at once when the session may
 * not submit, --throttle-every or a fault says so: 1 when it was answered
 * (or dropped on purpose), 0 to go on. */
static int submit_precheck(struct sim_conn *c, const struct sc_pdu_hdr *h)
{
    struct sim_server *srv = c->srv;
    uint32_t resp = h->id | SC_CMD_RESP;
    uint64_t now = uv_now(srv->loop);
    if (h->id == SC_CMD_SUBMIT_SM) {
        c->st->c.submit_sm_received++;
        srv->stats->total.submit_sm_received++;
    } else {
        c->st->c.data_sm_received++;
        srv->stats->total.data_sm_received++;
    }
    sim_rate_hit(&c->st->c.rate, now);
    sim_rate_hit(&srv->stats->total.rate, now);
    sim_stats_submit_arrival(srv->stats, c->st, now);

    if (!c->tx || c->unbinding) {
        SIM__CONN_LOG(SC_LOG_WARN, c, "submit_refused", " command=%s seq=%u status=ESME_RINVBNDSTS",
                      sc_pdu_cmd_name(h->id), h->seq);
        c->st->c.submit_sm_rejected++;
        srv->stats->total.submit_sm_rejected++;
        queue_resp(c, resp, h->seq, SC_ESME_RINVBNDSTS, NULL, NULL);
        return 1;
    }
    srv->mt_pdus++;
    if (srv->o->throttle_every && srv->mt_pdus % srv->o->throttle_every == 0) {
        c->st->c.submit_sm_throttled++;
        srv->stats->total.submit_sm_throttled++;
        sc_debug("event=submit_throttled session=%u seq=%u", c->id, h->seq);
        queue_resp(c, resp, h->seq, SC_ESME_RTHROTTLED, NULL, NULL);
        return 1;
    }
    uint32_t fst = 0;
    c->submits_in++;
    int fault = sim_fault_submit(srv->faults, c->id, &fst);
    if (fault == 1)
        return 1; /* --drop-resp-share: never answered */
    if (fault == 2) {
        if (fst == SC_ESME_RTHROTTLED) {
            c->st->c.submit_sm_throttled++;
            srv->stats->total.submit_sm_throttled++;
        }
        sc_debug("event=submit_fault session=%u seq=%u status=%s", c->id, h->seq,
                 sc_pdu_status_name(fst));
        queue_resp(c, resp, h->seq, fst, NULL, NULL);
        return 1;
    }
    return 0;
}

/* Where the text of sm starts and how it is tied to other parts: *concat
 * 1 with cc from its UDH or SAR TLVs. 0, or -1 for a UDH that does not
 * parse (the part is then kept as no MT). */
static int part_text(const struct sc_sm *sm, const uint8_t **data, size_t *n,
                     struct sc_concat *cc, int *concat)
{
    *data = sm->msg;
    *n = sm->msg_len;
    *concat = 0;
    if (sm->esm_class & SC_ESM_UDHI) {
        size_t hl = 0;
        int rc = sc_udh_parse(sm->msg, sm->msg_len, &hl, cc);
        if (rc < 0 || hl > *n)
            return -1;
        *concat = rc == 1;
        *data += hl;
        *n -= hl;
    } else if (sm->has_sar) {
        cc->ref = sm->sar_ref;
        cc->total = sm->sar_total;
        cc->seq = sm->sar_seq;
        *concat = 1;
    }
    return 0;
}

void sim__submit_handle(struct sim_conn *c, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct sim_server *srv = c->srv;
    uint32_t resp = h->id | SC_CMD_RESP;
    if (submit_precheck(c, h))
        return;

    struct sc_sm *sm = malloc(sizeof *sm);
    uint32_t status = SC_ESME_RSYSERR;
    char err[128] = "";
    if (!sm || sc_pdu_decode_sm(pdu, len, sm, &status, err, sizeof err) < 0) {
        if (!sm)
            sc_strlcpy(err, "out of memory", sizeof err);
        SIM__CONN_LOG(SC_LOG_WARN, c, "submit_rejected",
                      " command=%s seq=%u status=%s reason=\"%s\"", sc_pdu_cmd_name(h->id), h->seq,
                      sc_pdu_status_name(status), err);
        free(sm);
        c->st->c.submit_sm_rejected++;
        srv->stats->total.submit_sm_rejected++;
        queue_resp(c, resp, h->seq, status, NULL, NULL);
        return;
    }

    const uint8_t *data;
    size_t n;
    struct sc_concat cc = {0, 1, 1};
    int concat;
    int bad = part_text(sm, &data, &n, &cc, &concat) < 0;
    sim_stats_submit_decoded(srv->stats, c->st, sm->src.addr, sm->data_coding);

    char msgid[SC_MSGID_MAX];
    snprintf(msgid, sizeof msgid, "%s%llx", srv->o->msgid_prefix,
             (unsigned long long)++srv->msgid);
    if (sc_log_enabled(SC_LOG_DEBUG))
        SIM__CONN_LOG(SC_LOG_DEBUG, c, "mt_part",
                      " command=%s seq=%u message_id=%s from=%s to=%s dc=%u esm_class=0x%02x"
                      " part=%u/%u",
                      sc_pdu_cmd_name(h->id), h->seq, msgid, sm->src.addr, sm->dst.addr,
                      sm->data_coding, sm->esm_class, cc.seq, cc.total);
    if (bad) {
        /* A real SMSC passes it on; the simulator reports it and keeps no MT. */
        c->st->c.mt_bad_udh++;
        srv->stats->total.mt_bad_udh++;
        SIM__CONN_LOG(SC_LOG_WARN, c, "mt_bad_udh", " seq=%u from=%s to=%s", h->seq, sm->src.addr,
                      sm->dst.addr);
        free(sm);
        queue_resp(c, resp, h->seq, SC_ESME_ROK, msgid, NULL);
        return;
    }
    struct sim_mtpart *p = malloc(sizeof *p + n);
    if (!p) {
        free(sm);
        queue_resp(c, resp, h->seq, SC_ESME_RSYSERR, NULL, NULL);
        return;
    }
    p->src = sm->src;
    p->dst = sm->dst;
    p->dc = sm->data_coding;
    p->regdel = sm->registered_delivery;
    p->concat = concat;
    p->c = cc;
    p->submit_time = (long)time(NULL);
    p->len = (uint16_t)n;
    memcpy(p->data, data, n);
    free(sm);
    queue_resp(c, resp, h->seq, SC_ESME_ROK, msgid, p);
}


int sim__submit_start(struct sim_server *srv)
{
    struct sc_reasm_limits rl = {
        .max_pending = 10000,
        .max_per_source = 10000, /* every MT comes from the same service number */
        .max_bytes = 16u << 20,
        .timeout_ms = 60000,
    };
    srv->reasm = sc_reasm_new(&rl);
    if (!srv->reasm)
        return SC_ENOMEM;
    uv_timer_init(srv->loop, &srv->reasm_timer);
    srv->reasm_timer.data = srv;
    uv_timer_init(srv->loop, &srv->rq_timer);
    srv->rq_timer.data = srv;
    sim_dlr_init(&srv->dlrs, srv->loop, srv->o, srv->stats, srv->mos);
    return 0;
}

void sim__resps_free(struct sim_server *srv)
{
    while (srv->rq_head) {
        struct sim_resp *r = srv->rq_head;
        srv->rq_head = r->next;
        free(r->part);
        free(r);
    }
    srv->rq_tail = NULL;
    srv->rq_len = 0;
    sc_reasm_free(srv->reasm);
    srv->reasm = NULL;
    sim_dlr_free(&srv->dlrs);
}
