/* mo_intake.c -- deliver_sm / data_sm from the SMSC -> struct sc_mo for
 * the owner, and the resp policy: what the esme answers itself (a PDU it
 * cannot decode, an unreadable receipt, a bad UDH or part number, shutdown) and how the
 * owner's answer finds its link (sc_esme_mo_done). A whole MO is decoded to
 * UTF-8 by data_coding; a part of a long MO goes up raw, for the owner to
 * reassemble. */
#include <stdlib.h>

#include "base/sc.h"
#include "smsc/esme_int.h"
#include "text/text.h"

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

/* 1..7 letters A-Z. */
static int stat_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 'A' || s[n] > 'Z')
            return 0;
    return n > 0 && n < 8;
}

/* message_state (SMPP 3.4 5.3.2.35) as a receipt text's stat, "" if none. */
static const char *state_stat(uint8_t st)
{
    static const char *const names[] = {"", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
                                        "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"};
    return st < SC_ARRAY_LEN(names) ? names[st] : "";
}

/* A delivery receipt (esm_class type bits): the text's id/stat/err
 * (smsc/dlr.c), else the TLVs receipted_message_id / message_state; logged,
 * and handed to the owner (who answers it) when both are well formed, else
 * acknowledged ROK here. */
static void on_receipt(struct link *l, const struct sc_pdu_hdr *h, const struct sc_sm *sm)
{
    struct sc_dlr d;
    if (sc_dlr_parse(sm->msg, sm->msg_len, &d) < 0 || !sc_msgid_ok(d.id)) {
        sc_strlcpy(d.id, sm->receipted_message_id, sizeof d.id);
        sc_strlcpy(d.stat, sm->has_message_state ? state_stat(sm->message_state) : "",
                   sizeof d.stat);
    }
    int ok = sc_msgid_ok(d.id) && stat_ok(d.stat);
    if (ok)
        SC__LINK_LOG(SC_LOG_INFO, l, "receipt", " id=%s stat=%s err=%d src=%s", SC_LOGV(d.id),
                     SC_LOGV(d.stat), d.err, SC_LOGV(sm->src.addr));
    else
        SC__LINK_LOG(SC_LOG_WARN, l, "receipt_unreadable", " id=%s stat=%s src=%s",
                     SC_LOGV(d.id), SC_LOGV(d.stat), SC_LOGV(sm->src.addr));
    if (ok && l->e->cbs.on_receipt && l->e->refusing) {
        /* Shutting down: kept by the SMSC for the next daemon, like an MO. */
        sc_session_send_str_resp(l->s, h->id | SC_CMD_RESP, l->e->refuse_status, h->seq, "");
        return;
    }
    if (ok && l->e->cbs.on_receipt) {
        struct sc_receipt r = {d.id, d.stat, d.err, l->name};
        struct sc_mo_token tok = {l->id, l->gen, h->seq, h->id | SC_CMD_RESP};
        l->e->cbs.on_receipt(l->e->arg, &r, tok);
        return;
    }
    sc_session_send_str_resp(l->s, h->id | SC_CMD_RESP, SC_ESME_ROK, h->seq, "");
}

/* The message's text without its UDH, and its concatenation (UDH IE or SAR
 * TLVs; total 1 for a whole MO). Returns 0, or SC_EPROTO for a malformed
 * UDH (logged). */
static int mo_concat(struct link *l, const struct sc_pdu_hdr *h, const struct sc_sm *sm,
                     const uint8_t **data, size_t *n, struct sc_concat *c)
{
    *data = sm->msg;
    *n = sm->msg_len;
    *c = (struct sc_concat){0, 1, 1};
    if (sm->esm_class & SC_ESM_UDHI) {
        size_t hl = 0;
        int rc = sc_udh_parse(sm->msg, sm->msg_len, &hl, c);
        if (rc < 0) {
            SC__LINK_LOG(SC_LOG_WARN, l, "mo_rejected",
                         " seq=%u src=%s reason=\"malformed UDH\"", h->seq,
                         SC_LOGV(sm->src.addr));
            return SC_EPROTO;
        }
        if (rc == 0)
            c->total = c->seq = 1;
        *data += hl;
        *n -= hl;
    } else if (sm->has_sar) {
        c->ref = sm->sar_ref;
        c->total = sm->sar_total;
        c->seq = sm->sar_seq;
    }
    return 0;
}

void sc__mo_handle(struct link *l, const struct sc_pdu_hdr *h, const uint8_t *pdu, size_t len)
{
    struct sc_esme *e = l->e;
    uint32_t resp = h->id | SC_CMD_RESP;
    if (l->role == SC__ROLE_TX || l->phase != SC__LP_BOUND) {
        sc_session_send_str_resp(l->s, resp, SC_ESME_RINVBNDSTS, h->seq, "");
        return;
    }
    struct sc_sm sm;
    uint32_t status = SC_ESME_RSYSERR;
    char err[128];
    if (sc_pdu_decode_sm(pdu, len, &sm, &status, err, sizeof err) < 0) {
        SC__LINK_LOG(SC_LOG_WARN, l, "mo_rejected", " command=%s seq=%u status=%s reason=\"%s\"",
                     sc_pdu_cmd_name(h->id), h->seq, sc_pdu_status_name(status), err);
        sc_session_send_str_resp(l->s, resp, status, h->seq, "");
        return;
    }
    if (sm.esm_class & SC_ESM_TYPE_MASK) {
        on_receipt(l, h, &sm);
        return;
    }
    if (e->refusing) {
        sc_session_send_str_resp(l->s, resp, e->refuse_status, h->seq, "");
        return;
    }
    const uint8_t *data;
    size_t n;
    struct sc_concat c;
    if (mo_concat(l, h, &sm, &data, &n, &c) < 0) {
        sc_session_send_str_resp(l->s, resp, SC_ESME_RX_P_APPN, h->seq, "");
        return;
    }
    if (c.total <= 1) {
        deliver_mo(l, h, &sm, data, n, sm.data_coding, 1);
        return;
    }
    if (c.seq == 0 || c.seq > c.total) {
        SC__LINK_LOG(SC_LOG_WARN, l, "long_mo_refused", " src=%s ref=%u part=%u/%u reason=\"%s\"",
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
