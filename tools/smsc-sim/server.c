/* server.c -- smsc-sim's SMSC side: listening socket, ESME sessions, binds,
 * submit_sm handling (delayed resps, throttling), MT reassembly, receipts.
 *
 * Framing, enquire_link answers, generic_nack for unknown command ids and
 * resp matching are the session layer's (smsc/session.c); this file decides
 * what each request means for an SMSC. Every request an ESME sends is checked
 * against the session's bind state first, every body is decoded by
 * smsc/pdu.c, and every failure is answered, never ignored.
 *
 * submit_sm_resps with --resp-delay-ms wait in one FIFO (the delay is the
 * same for all, so FIFO order is deadline order) served by one timer. A part
 * counts as delivered to the handset only when its resp goes out with ROK:
 * then it is reassembled into an MT event and, with --dlr, receipted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "sim.h"
#include "text/text.h"

#define CONN_LOG(lvl, c, event, fmt, ...)                                                   \
    sc_log(lvl, "event=" event " session=%u peer=%s" fmt, (c)->id, (c)->st->peer,           \
           ##__VA_ARGS__)

/* A submit_sm (or MT data_sm) part accepted, kept until its resp goes out. */
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

/* ---- helpers ---------------------------------------------------------------- */

static const char *quoted(char *buf, size_t bufsz, const char *s)
{
    return sc_log_quote(buf, bufsz, s, strlen(s));
}

static void count_invalid(struct sim_conn *c)
{
    c->st->c.invalid_commands++;
    c->sim->total.invalid_commands++;
}

static const char *bind_mode_name(uint32_t cmd)
{
    switch (cmd) {
    case SC_CMD_BIND_RECEIVER: return "receiver";
    case SC_CMD_BIND_TRANSMITTER: return "transmitter";
    default: return "transceiver";
    }
}

/* Requests that have a resp type of their own (others get generic_nack). */
static int has_resp(uint32_t id)
{
    return id != SC_CMD_OUTBIND && id != SC_CMD_ALERT_NOTIFICATION;
}

/* Refuse a request: its own resp with status when it has one, else
 * generic_nack. Resps that carry a C-string body use the str form. */
static void refuse(struct sim_conn *c, const struct sc_pdu_hdr *h, uint32_t status)
{
    count_invalid(c);
    if (!has_resp(h->id)) {
        sc_session_send_simple(c->s, SC_CMD_GENERIC_NACK, status, h->seq);
        return;
    }
    switch (h->id) {
    case SC_CMD_SUBMIT_SM: case SC_CMD_DELIVER_SM: case SC_CMD_DATA_SM:
    case SC_CMD_BIND_RECEIVER: case SC_CMD_BIND_TRANSMITTER: case SC_CMD_BIND_TRANSCEIVER:
        sc_session_send_str_resp(c->s, h->id | SC_CMD_RESP, status, h->seq, NULL);
        break;
    default:
        sc_session_send_simple(c->s, h->id | SC_CMD_RESP, status, h->seq);
        break;
    }
}

unsigned sim_server_rx_bound(const struct sim *sim)
{
    unsigned n = 0;
    for (const struct sim_conn *c = sim->conns; c; c = c->next)
        n += c->rx && !c->unbinding;
    return n;
}

/* ---- MTs ---------------------------------------------------------------------- */

void sim_mt_event(struct sim *sim, struct sim_mt *mt)
{
    char qf[64], qt[64], qx[256];
    enum sc_log_level lvl = sim->load ? SC_LOG_DEBUG : SC_LOG_INFO;
    if (sc_log_enabled(lvl))
        sc_log(lvl, "event=mt from=%s to=%s parts=%u dc=%u text=%s",
               quoted(qf, sizeof qf, mt->from), quoted(qt, sizeof qt, mt->to), mt->parts,
               mt->data_coding, sc_log_quote(qx, sizeof qx, mt->text, mt->len));
    if (sim->load) {
        sim_load_on_mt(sim->load, mt);
        free(mt);
        return;
    }
    if (sim->script) {
        sim_script_on_mt(sim->script, mt);
        return;
    }
    if (sim->tty)
        sim_tty_on_mt(sim->tty, mt);
    free(mt);
}

static void make_mt(struct sim_conn *c, const struct sim_mtpart *p, const uint8_t *bytes,
                    size_t n, uint8_t dc, unsigned parts)
{
    struct sim *sim = c->sim;
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
    mt->len = sc_text_decode(dc, (enum sc_dc0)sim->o.dc0, bytes, n, mt->text, cap);
    c->st->c.mt_messages++;
    sim->total.mt_messages++;
    sim_mt_event(sim, mt);
}

static void on_reasm_expired(void *arg, const struct sc_reasm_key *k, unsigned have)
{
    struct sim *sim = arg;
    sim->total.mt_reasm_errors++;
    sc_warn("event=mt_expired from=%s to=%s ref=%u parts=%u/%u", k->src, k->dst, k->ref, have,
            k->total);
}

static void on_reasm_timer(uv_timer_t *t)
{
    struct sim *sim = t->data;
    sc_reasm_expire(sim->reasm, uv_now(sim->loop), on_reasm_expired, sim);
    if (sc_reasm_pending(sim->reasm) == 0)
        uv_timer_stop(t);
}

static void send_dlr(struct sim_conn *c, const struct sim_mtpart *p, const char *msgid);

/* The part was acknowledged with ROK: it reached the "handset". */
static void mt_accept(struct sim_conn *c, struct sim_mtpart *p, const char *msgid)
{
    struct sim *sim = c->sim;
    c->st->c.mt_parts_accepted++;
    sim->total.mt_parts_accepted++;
    if (sim->o.dlr && (p->regdel & 1))
        send_dlr(c, p, msgid);
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
    int rc = sc_reasm_add(sim->reasm, &k, p->c.seq, p->dc, p->data, p->len, uv_now(sim->loop),
                          &whole, &wlen, &dc);
    if (rc == SC_REASM_PARTIAL) {
        if (!uv_is_active((uv_handle_t *)&sim->reasm_timer))
            uv_timer_start(&sim->reasm_timer, on_reasm_timer, 1000, 1000);
    } else if (rc == SC_REASM_COMPLETE) {
        make_mt(c, p, whole, wlen, dc, p->c.total);
        free(whole);
    } else {
        c->st->c.mt_reasm_errors++;
        sim->total.mt_reasm_errors++;
        CONN_LOG(SC_LOG_WARN, c, "mt_reasm_failed", " from=%s to=%s ref=%u part=%u/%u reason=\"%s\"",
                 p->src.addr, p->dst.addr, p->c.ref, p->c.seq, p->c.total, sc_strerror(rc));
    }
}

/* ---- delivery receipts -------------------------------------------------------- */

static void send_dlr(struct sim_conn *c, const struct sim_mtpart *p, const char *msgid)
{
    struct sim *sim = c->sim;
    struct sc_sm *sm = calloc(1, sizeof *sm);
    uint8_t buf[1024];
    if (!sm)
        return;
    sm->cmd_id = SC_CMD_DELIVER_SM;
    sm->seq = 1; /* set when sent */
    sm->src = p->dst;
    sm->dst = p->src;
    sm->esm_class = 0x04;
    sm->data_coding = 0;
    char text[256];
    size_t n = sc_dlr_format(text, sizeof text, msgid, "DELIVRD", 0, p->submit_time,
                             (long)time(NULL));
    if (n > 160)
        n = 160;
    memcpy(sm->msg, text, n);
    sm->msg_len = (uint16_t)n;
    sc_strlcpy(sm->receipted_message_id, msgid, sizeof sm->receipted_message_id);
    sm->has_message_state = 1;
    sm->message_state = 2; /* DELIVERED */
    long len = sc_pdu_encode_sm(sm, buf, sizeof buf);
    free(sm);
    if (len < 0) {
        CONN_LOG(SC_LOG_ERROR, c, "dlr_failed", " message_id=%s reason=\"%s\"", msgid,
                 sc_strerror((int)len));
        return;
    }
    /* To the same ESME (system_id) on whichever of its sessions can receive. */
    if (sim_mo_enqueue(sim, NULL, buf, (size_t)len, c->st->system_id) < 0) {
        CONN_LOG(SC_LOG_WARN, c, "dlr_dropped", " message_id=%s reason=\"queue full\"", msgid);
        return;
    }
    sim_mo_pump(sim);
}

/* ---- submit_sm resps ---------------------------------------------------------- */

static void note_outstanding(struct sim_conn *c, int delta)
{
    struct sim *sim = c->sim;
    c->st->c.submit_sm_outstanding += (unsigned)delta;
    sim->total.submit_sm_outstanding += (unsigned)delta;
    if (c->st->c.submit_sm_outstanding > c->st->c.submit_sm_max_outstanding)
        c->st->c.submit_sm_max_outstanding = c->st->c.submit_sm_outstanding;
    if (sim->total.submit_sm_outstanding > sim->total.submit_sm_max_outstanding)
        sim->total.submit_sm_max_outstanding = sim->total.submit_sm_outstanding;
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
    struct sim *sim = t->data;
    uint64_t now = uv_now(sim->loop);
    while (sim->rq_head && sim->rq_head->due <= now) {
        struct sim_resp *r = sim->rq_head;
        sim->rq_head = r->next;
        if (!sim->rq_head)
            sim->rq_tail = NULL;
        sim->rq_len--;
        note_outstanding(r->c, -1);
        send_resp_now(r->c, r->resp_id, r->seq, r->status, r->msgid, r->part);
        free(r);
    }
    if (sim->rq_head)
        uv_timer_start(&sim->rq_timer, on_rq_timer, sim->rq_head->due - now, 0);
}

/* Answer now, or after --resp-delay-ms. Takes ownership of p. */
static void queue_resp(struct sim_conn *c, uint32_t resp_id, uint32_t seq, uint32_t status,
                       const char *msgid, struct sim_mtpart *p)
{
    struct sim *sim = c->sim;
    if (sim->o.resp_delay_ms == 0) {
        send_resp_now(c, resp_id, seq, status, msgid, p);
        return;
    }
    struct sim_resp *r = sim->rq_len < sim->o.max_queue ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        CONN_LOG(SC_LOG_WARN, c, "resp_queue_full", " seq=%u queued=%zu", seq, sim->rq_len);
        free(p);
        sc_session_send_str_resp(c->s, resp_id, SC_ESME_RMSGQFUL, seq, NULL);
        return;
    }
    r->c = c;
    r->due = uv_now(sim->loop) + sim->o.resp_delay_ms;
    r->resp_id = resp_id;
    r->seq = seq;
    r->status = status;
    if (msgid)
        sc_strlcpy(r->msgid, msgid, sizeof r->msgid);
    r->part = p;
    if (sim->rq_tail)
        sim->rq_tail->next = r;
    else
        sim->rq_head = r;
    sim->rq_tail = r;
    sim->rq_len++;
    note_outstanding(c, +1);
    if (!uv_is_active((uv_handle_t *)&sim->rq_timer))
        uv_timer_start(&sim->rq_timer, on_rq_timer, sim->o.resp_delay_ms, 0);
}

/* Drop the queued resps of one conn (it is closing), or of all (conn NULL). */
static void purge_resps(struct sim *sim, struct sim_conn *c)
{
    struct sim_resp **pp = &sim->rq_head;
    sim->rq_tail = NULL;
    while (*pp) {
        struct sim_resp *r = *pp;
        if (!c || r->c == c) {
            *pp = r->next;
            note_outstanding(r->c, -1);
            free(r->part);
            free(r);
            sim->rq_len--;
        } else {
            sim->rq_tail = r;
            pp = &r->next;
        }
    }
    if (!sim->rq_head)
        uv_timer_stop(&sim->rq_timer);
}

/* ---- requests from the ESME ------------------------------------------------------- */

static void handle_submit(struct sim_conn *c, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                          size_t len)
{
    struct sim *sim = c->sim;
    uint32_t resp = h->id | SC_CMD_RESP;
    uint64_t now = uv_now(sim->loop);
    if (h->id == SC_CMD_SUBMIT_SM) {
        c->st->c.submit_sm_received++;
        sim->total.submit_sm_received++;
    } else {
        c->st->c.data_sm_received++;
        sim->total.data_sm_received++;
    }
    sim_rate_hit(&c->st->c.rate, now);
    sim_rate_hit(&sim->total.rate, now);
    sim_stats_submit_arrival(sim, c->st, now);

    if (!c->tx || c->unbinding) {
        CONN_LOG(SC_LOG_WARN, c, "submit_refused", " command=%s seq=%u status=ESME_RINVBNDSTS",
                 sc_pdu_cmd_name(h->id), h->seq);
        c->st->c.submit_sm_rejected++;
        sim->total.submit_sm_rejected++;
        queue_resp(c, resp, h->seq, SC_ESME_RINVBNDSTS, NULL, NULL);
        return;
    }
    sim->mt_pdus++;
    if (sim->o.throttle_every && sim->mt_pdus % sim->o.throttle_every == 0) {
        c->st->c.submit_sm_throttled++;
        sim->total.submit_sm_throttled++;
        sc_debug("event=submit_throttled session=%u seq=%u", c->id, h->seq);
        queue_resp(c, resp, h->seq, SC_ESME_RTHROTTLED, NULL, NULL);
        return;
    }
    uint32_t fst = 0;
    int fault = sim_fault_submit(c, &fst);
    if (fault == 1)
        return; /* --drop-resp-share: never answered */
    if (fault == 2) {
        if (fst == SC_ESME_RTHROTTLED) {
            c->st->c.submit_sm_throttled++;
            sim->total.submit_sm_throttled++;
        }
        sc_debug("event=submit_fault session=%u seq=%u status=%s", c->id, h->seq,
                 sc_pdu_status_name(fst));
        queue_resp(c, resp, h->seq, fst, NULL, NULL);
        return;
    }

    struct sc_sm *sm = malloc(sizeof *sm);
    uint32_t status = SC_ESME_RSYSERR;
    char err[128] = "";
    if (!sm || sc_pdu_decode_sm(pdu, len, sm, &status, err, sizeof err) < 0) {
        if (!sm)
            sc_strlcpy(err, "out of memory", sizeof err);
        CONN_LOG(SC_LOG_WARN, c, "submit_rejected", " command=%s seq=%u status=%s reason=\"%s\"",
                 sc_pdu_cmd_name(h->id), h->seq, sc_pdu_status_name(status), err);
        free(sm);
        c->st->c.submit_sm_rejected++;
        sim->total.submit_sm_rejected++;
        queue_resp(c, resp, h->seq, status, NULL, NULL);
        return;
    }

    const uint8_t *data = sm->msg;
    size_t n = sm->msg_len;
    struct sc_concat cc = {0, 1, 1};
    int concat = 0, bad = 0;
    if (sm->esm_class & SC_ESM_UDHI) {
        size_t hl = 0;
        int rc = sc_udh_parse(sm->msg, sm->msg_len, &hl, &cc);
        if (rc < 0 || hl > n) {
            bad = 1;
        } else {
            concat = rc == 1;
            data += hl;
            n -= hl;
        }
    } else if (sm->has_sar) {
        cc.ref = sm->sar_ref;
        cc.total = sm->sar_total;
        cc.seq = sm->sar_seq;
        concat = 1;
    }

    char msgid[SC_MSGID_MAX];
    snprintf(msgid, sizeof msgid, "%llx", (unsigned long long)++sim->msgid);
    if (sc_log_enabled(SC_LOG_DEBUG))
        CONN_LOG(SC_LOG_DEBUG, c, "mt_part", " command=%s seq=%u message_id=%s from=%s to=%s dc=%u esm_class=0x%02x part=%u/%u",
                 sc_pdu_cmd_name(h->id), h->seq, msgid, sm->src.addr, sm->dst.addr,
                 sm->data_coding, sm->esm_class, cc.seq, cc.total);
    if (bad) {
        /* A real SMSC passes it on; the simulator reports it and keeps no MT. */
        c->st->c.mt_bad_udh++;
        sim->total.mt_bad_udh++;
        CONN_LOG(SC_LOG_WARN, c, "mt_bad_udh", " seq=%u from=%s to=%s", h->seq, sm->src.addr,
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

static void handle_bind(struct sim_conn *c, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct sim *sim = c->sim;
    uint32_t resp = h->id | SC_CMD_RESP;
    struct sc_bind b;
    uint32_t status = SC_ESME_RSYSERR;
    char err[128] = "";
    char q[64];
    memset(&b, 0, sizeof b);
    int drc = sc_pdu_decode_bind(pdu, len, &b, &status, err, sizeof err);
    if (c->rx || c->tx || c->unbinding) {
        status = SC_ESME_RALYBND;
        sc_strlcpy(err, "already bound", sizeof err);
    } else if (drc < 0) {
        if (status == SC_ESME_ROK)
            status = SC_ESME_RSYSERR;
    } else {
        status = SC_ESME_RINVSYSID;
        sc_strlcpy(err, "unknown system_id", sizeof err);
        for (size_t i = 0; i < sim->o.naccounts; i++) {
            if (strcmp(sim->o.accounts[i].system_id, b.system_id) != 0)
                continue;
            if (strcmp(sim->o.accounts[i].password, b.password) == 0) {
                status = SC_ESME_ROK;
                break;
            }
            status = SC_ESME_RINVPASWD;
            sc_strlcpy(err, "wrong password", sizeof err);
        }
    }
    if (status != SC_ESME_ROK) {
        c->st->c.binds_refused++;
        sim->total.binds_refused++;
        CONN_LOG(SC_LOG_WARN, c, "bind_refused", " system_id=%s mode=%s status=%s reason=\"%s\"",
                 quoted(q, sizeof q, b.system_id), bind_mode_name(h->id),
                 sc_pdu_status_name(status), err);
        sc_session_send_str_resp(c->s, resp, status, h->seq, NULL);
        return;
    }
    c->rx = h->id != SC_CMD_BIND_TRANSMITTER;
    c->tx = h->id != SC_CMD_BIND_RECEIVER;
    sc_strlcpy(c->st->system_id, b.system_id, sizeof c->st->system_id);
    c->st->bind = bind_mode_name(h->id);
    c->st->c.binds_accepted++;
    sim->total.binds_accepted++;
    /* The session logs its name unquoted: keep only safe characters. */
    char name[40];
    snprintf(name, sizeof name, "%s#%u", b.system_id, c->id);
    for (char *p = name; *p; p++)
        if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') &&
            *p != '#' && *p != '_' && *p != '-' && *p != '.')
            *p = '_';
    sc_session_set_name(c->s, name);
    sc_session_set_state(c->s, c->rx && c->tx ? SC_SS_BOUND_TRX
                               : c->rx        ? SC_SS_BOUND_RX
                                              : SC_SS_BOUND_TX);
    sc_session_send_str_resp(c->s, resp, SC_ESME_ROK, h->seq, sim->o.system_id);
    CONN_LOG(SC_LOG_INFO, c, "bound", " system_id=%s mode=%s", quoted(q, sizeof q, b.system_id),
             c->st->bind);
    if (c->rx) {
        if (sim->script)
            sim_script_on_bound(sim->script);
        if (sim->load)
            sim_load_on_bound(sim->load);
        sim_mo_pump(sim);
    }
}

static void on_unbind_timer(uv_timer_t *t)
{
    struct sim_conn *c = t->data;
    sc_session_close(c->s, c->unbinding == 2 ? "no unbind_resp" : "unbound");
}

static void handle_unbind(struct sim_conn *c, const struct sc_pdu_hdr *h)
{
    struct sim *sim = c->sim;
    char q[64];
    c->st->c.unbinds_received++;
    sim->total.unbinds_received++;
    CONN_LOG(SC_LOG_INFO, c, "unbind", " system_id=%s by=esme", quoted(q, sizeof q, c->st->system_id));
    sc_session_send_simple(c->s, SC_CMD_UNBIND | SC_CMD_RESP, SC_ESME_ROK, h->seq);
    c->rx = c->tx = 0;
    c->unbinding = 1;
    sc_session_set_state(c->s, SC_SS_UNBINDING);
    /* The ESME closes after unbind_resp; close ourselves if it does not. */
    uv_timer_start(&c->timer, on_unbind_timer, 500, 0);
}

static void on_conn_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct sim_conn *c = sc_session_owner(s);
    if (sim_fault_on_pdu(c))
        return;
    switch (h->id) {
    case SC_CMD_BIND_RECEIVER:
    case SC_CMD_BIND_TRANSMITTER:
    case SC_CMD_BIND_TRANSCEIVER:
        handle_bind(c, h, pdu, len);
        return;
    case SC_CMD_UNBIND:
        handle_unbind(c, h);
        return;
    default:
        break;
    }
    if (!c->rx && !c->tx) {
        CONN_LOG(SC_LOG_WARN, c, "not_bound", " command=%s seq=%u", sc_pdu_cmd_name(h->id), h->seq);
        refuse(c, h, SC_ESME_RINVBNDSTS);
        return;
    }
    switch (h->id) {
    case SC_CMD_SUBMIT_SM:
    case SC_CMD_DATA_SM:
        handle_submit(c, h, pdu, len);
        sim_fault_after_submit(c);
        break;
    default:
        /* query_sm, replace_sm, cancel_sm, submit_multi, deliver_sm, outbind, ...:
         * not something this SMSC does. */
        CONN_LOG(SC_LOG_WARN, c, "unsupported_command", " command=%s seq=%u",
                 sc_pdu_cmd_name(h->id), h->seq);
        count_invalid(c);
        sc_session_send_simple(c->s, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDID, h->seq);
        break;
    }
}

/* ---- connections ------------------------------------------------------------------ */

static void free_conn(uv_handle_t *h)
{
    free(h->data);
}

static void on_conn_closed(struct sc_session *s, const char *reason)
{
    struct sim_conn *c = sc_session_owner(s);
    struct sim *sim = c->sim;
    char q[64];
    sim_stats_sync_session(c);
    sim->total.enquire_link_received += c->st->c.enquire_link_received;
    sim->total.enquire_link_sent += c->st->c.enquire_link_sent;
    sim->total.enquire_link_resp_received += c->st->c.enquire_link_resp_received;
    c->st->open = 0;
    CONN_LOG(SC_LOG_INFO, c, "disconnected", " system_id=%s reason=\"%s\"",
             quoted(q, sizeof q, c->st->system_id), reason);
    purge_resps(sim, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        sim->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sim->nconns--;
    c->s = NULL;
    uv_close((uv_handle_t *)&c->timer, free_conn);
    sim_mo_requeue(sim);
    sim_mo_pump(sim);
    sim_maybe_finished(sim);
}

static const struct sc_session_cbs g_conn_cbs = {
    .on_pdu = on_conn_pdu,
    .on_closed = on_conn_closed,
};

static void on_connection(uv_stream_t *server, int status)
{
    struct sim *sim = server->data;
    if (status < 0) {
        sc_warn("event=accept_failed error=\"%s\"", uv_strerror(status));
        return;
    }
    uv_tcp_t *tcp = malloc(sizeof *tcp);
    if (!tcp)
        return;
    uv_tcp_init(sim->loop, tcp);
    if (uv_accept(server, (uv_stream_t *)tcp) < 0) {
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        return;
    }
    if (sim->stopping || sim->nconns >= sim->o.max_sessions) {
        sim->sessions_refused++;
        sc_warn("event=session_refused reason=\"%s\" sessions=%u max=%u",
                sim->stopping ? "shutting down" : "too many sessions", sim->nconns,
                sim->o.max_sessions);
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        return;
    }
    struct sim_conn *c = calloc(1, sizeof *c);
    if (!c) {
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        return;
    }
    c->sim = sim;
    c->id = ++sim->next_conn_id;
    char name[24];
    snprintf(name, sizeof name, "esme#%u", c->id);
    struct sc_session_opts o = {
        .name = name,
        .max_pdu_len = sim->o.max_pdu,
        .enquire_link_ms = sim->o.enquire_link_ms,
        .resp_timeout_ms = sim_fault_resp_timeout(sim),
        .out_max = 4u << 20,
        .max_outstanding = sim->o.window + 1, /* MOs use window; one kept for unbind */
    };
    c->st = sim_stats_session_new(sim, c->id);
    c->s = c->st ? sc_session_new(sim->loop, tcp, &o, &g_conn_cbs, c) : NULL;
    if (!c->s) {
        if (c->st)
            c->st->open = 0;
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        free(c);
        return;
    }
    sc_strlcpy(c->st->peer, sc_session_peer(c->s), sizeof c->st->peer);
    uv_timer_init(sim->loop, &c->timer);
    c->timer.data = c;
    c->next = sim->conns;
    if (sim->conns)
        sim->conns->prev = c;
    sim->conns = c;
    sim->nconns++;
    sim->sessions_accepted++;
    CONN_LOG(SC_LOG_INFO, c, "session_open", " sessions=%u", sim->nconns);
}

/* Split "HOST:PORT" / "[V6]:PORT". */
static int split_hostport(const char *s, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return SC_EINVAL;
        if ((size_t)(end - s - 1) >= hostsz)
            return SC_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= hostsz)
            return SC_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    if (sc_strlcpy(port, colon + 1, portsz) >= portsz || !port[0])
        return SC_EINVAL;
    return 0;
}

int sim_server_start(struct sim *sim, char *err, size_t errsz)
{
    char host[256], port[16];
    if (split_hostport(sim->o.listen_host, host, sizeof host, port, sizeof port) < 0) {
        snprintf(err, errsz, "--listen: expected HOST:PORT, got \"%s\"", sim->o.listen_host);
        return SC_EINVAL;
    }
    struct sc_reasm_limits rl = {
        .max_pending = 10000,
        .max_per_source = 10000, /* every MT comes from the same service number */
        .max_bytes = 16u << 20,
        .timeout_ms = 60000,
    };
    sim->reasm = sc_reasm_new(&rl);
    if (!sim->reasm) {
        snprintf(err, errsz, "out of memory");
        return SC_ENOMEM;
    }
    uv_timer_init(sim->loop, &sim->reasm_timer);
    sim->reasm_timer.data = sim;
    uv_timer_init(sim->loop, &sim->rq_timer);
    sim->rq_timer.data = sim;

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    uv_getaddrinfo_t gai;
    int rc = uv_getaddrinfo(sim->loop, &gai, NULL, host[0] ? host : NULL, port, &hints);
    if (rc < 0) {
        snprintf(err, errsz, "--listen %s: %s", sim->o.listen_host, uv_strerror(rc));
        return SC_EINVAL;
    }
    res = gai.addrinfo;
    uv_tcp_init(sim->loop, &sim->listener);
    sim->listener.data = sim;
    sim->listener_open = 1;
    rc = uv_tcp_bind(&sim->listener, res->ai_addr, 0);
    uv_freeaddrinfo(res);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&sim->listener, 128, on_connection);
    if (rc < 0) {
        snprintf(err, errsz, "cannot listen on %s: %s", sim->o.listen_host, uv_strerror(rc));
        return SC_EIO;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    uv_tcp_getsockname(&sim->listener, (struct sockaddr *)&ss, &sl);
    sim->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    sc_info("event=listening port=%d host=%s", sim->port, host[0] ? host : "*");
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct sim *sim = h->data;
    sim->listener_open = 0;
    sim_maybe_finished(sim);
}

static void on_unbind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                           const uint8_t *pdu, size_t len)
{
    struct sim_conn *c = sc_session_owner(s);
    char q[64];
    if (err == SC_ECLOSED)
        return;
    CONN_LOG(SC_LOG_INFO, c, "unbound", " system_id=%s by=smsc result=%s",
             quoted(q, sizeof q, c->st->system_id),
             err ? "no unbind_resp" : sc_pdu_status_name(h->status));
    sc_session_close(s, "unbound");
}

void sim_server_stop(struct sim *sim)
{
    if (sim->listener_open && !uv_is_closing((uv_handle_t *)&sim->listener))
        uv_close((uv_handle_t *)&sim->listener, on_listener_closed);
    purge_resps(sim, NULL);
    uv_timer_stop(&sim->reasm_timer);
    for (struct sim_conn *c = sim->conns, *next; c; c = next) {
        next = c->next;
        if (c->unbinding)
            continue;
        if (!c->rx && !c->tx) {
            sc_session_close(c->s, "shutdown");
            continue;
        }
        sim_server_unbind(c);
    }
}

void sim_server_unbind(struct sim_conn *c)
{
    struct sim *sim = c->sim;
    char q[64];
    uint8_t b[SC_PDU_HEADER_LEN];
    uint32_t seq = sc_session_next_seq(c->s);
    sc_pdu_build_simple(b, SC_CMD_UNBIND, 0, seq);
    c->rx = c->tx = 0;
    c->unbinding = 2;
    sc_session_set_state(c->s, SC_SS_UNBINDING);
    if (sc_session_request(c->s, seq, b, sizeof b, on_unbind_resp, NULL) < 0) {
        sc_session_close(c->s, sim->stopping ? "shutdown" : "unbind failed");
        return;
    }
    c->st->c.unbinds_sent++;
    sim->total.unbinds_sent++;
    CONN_LOG(SC_LOG_INFO, c, "unbind", " system_id=%s by=smsc",
             quoted(q, sizeof q, c->st->system_id));
    uv_timer_start(&c->timer, on_unbind_timer, 1000, 0);
}

void sim_server_force_close(struct sim *sim)
{
    for (struct sim_conn *c = sim->conns; c; c = c->next)
        sc_session_close(c->s, "shutdown (forced)");
}

void sim_server_free(struct sim *sim)
{
    while (sim->rq_head) {
        struct sim_resp *r = sim->rq_head;
        sim->rq_head = r->next;
        free(r->part);
        free(r);
    }
    sim->rq_tail = NULL;
    sim->rq_len = 0;
    sc_reasm_free(sim->reasm);
    sim->reasm = NULL;
}
