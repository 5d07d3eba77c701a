/* pdu_sm.c -- deliver_sm, data_sm and submit_sm over libsmpp34: decoded
 * after the guard (pdu_guard.c) accepted the body, encoded with the TLVs
 * the daemon and smsc-sim use (SAR, message_payload, receipts). The TLV
 * list smpp34_unpack builds is always destroyed; the one given to
 * smpp34_pack lives on the stack. */
#include <limits.h>
#include <stdint.h>   /* before libsmpp34's headers, which use it */

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "smsc/pdu_int.h"

#define COPY_COMMON(sm, t)                                    \
    do {                                                      \
        SC__COPY_FIELD((sm)->service_type, (t)->service_type); \
        (sm)->src.ton = (t)->source_addr_ton;                 \
        (sm)->src.npi = (t)->source_addr_npi;                 \
        SC__COPY_FIELD((sm)->src.addr, (t)->source_addr);     \
        (sm)->dst.ton = (t)->dest_addr_ton;                   \
        (sm)->dst.npi = (t)->dest_addr_npi;                   \
        SC__COPY_FIELD((sm)->dst.addr, (t)->destination_addr); \
        (sm)->esm_class = (t)->esm_class;                     \
        (sm)->registered_delivery = (t)->registered_delivery; \
        (sm)->data_coding = (t)->data_coding;                 \
    } while (0)

#define COPY_SHORT_MESSAGE(sm, t)                             \
    do {                                                      \
        (sm)->protocol_id = (t)->protocol_id;                 \
        (sm)->priority_flag = (t)->priority_flag;             \
        (sm)->msg_len = (t)->sm_length;                       \
        memcpy((sm)->msg, (t)->short_message, (t)->sm_length); \
    } while (0)

static void copy_tlvs(struct sc_sm *sm, const tlv_t *list)
{
    /* The list is in reverse wire order; the walk refused duplicates. */
    for (const tlv_t *t = list; t; t = t->next) {
        switch (t->tag) {
        case SC__TAG_SAR_REF:
            sm->sar_ref = t->value.val16;
            break;
        case SC__TAG_SAR_TOTAL:
            sm->sar_total = t->value.val08;
            break;
        case SC__TAG_SAR_SEQ:
            sm->sar_seq = t->value.val08;
            break;
        case SC__TAG_MESSAGE_PAYLOAD:
            sm->use_payload = 1;
            sm->msg_len = (uint16_t)SC_MIN(t->length, SC_SM_MSG_MAX);
            memcpy(sm->msg, t->value.octet, sm->msg_len);
            break;
        case SC__TAG_RECEIPTED_MSG_ID: {
            size_t n = SC_MIN((size_t)t->length, sizeof sm->receipted_message_id - 1);
            n = strnlen((const char *)t->value.octet, n);
            memcpy(sm->receipted_message_id, t->value.octet, n);
            sm->receipted_message_id[n] = '\0';
            break;
        }
        case SC__TAG_MESSAGE_STATE:
            /* U08 in deliver_sm/data_sm, a 1-byte octet in submit_sm: same byte. */
            sm->has_message_state = 1;
            sm->message_state = t->value.val08;
            break;
        default:
            break;
        }
    }
}

int sc_pdu_decode_sm(const uint8_t *pdu, size_t len, struct sc_sm *out, uint32_t *status,
                     char *err, size_t errsz)
{
    uint32_t dummy;
    struct sc__pdu_walk w;
    struct sc_pdu_hdr h;
    struct sc__pdu_seen seen;
    int rc = sc__pdu_walk_begin(&w, pdu, len, out, status ? status : &dummy, err, errsz);
    if (rc || (rc = sc__pdu_guard_sm(&w, &h, &seen)))
        return rc;

    union {
        deliver_sm_t d;
        data_sm_t ds;
        submit_sm_t s;
    } u;
    tlv_t *list;
    int r;
    switch (h.id) {
    case SC_CMD_DELIVER_SM:
        memset(&u.d, 0, sizeof u.d);
        r = smpp34_unpack(DELIVER_SM, &u.d, pdu, (int)len);
        list = u.d.tlv;
        break;
    case SC_CMD_DATA_SM:
        memset(&u.ds, 0, sizeof u.ds);
        r = smpp34_unpack(DATA_SM, &u.ds, pdu, (int)len);
        list = u.ds.tlv;
        break;
    default:
        memset(&u.s, 0, sizeof u.s);
        r = smpp34_unpack(SUBMIT_SM, &u.s, pdu, (int)len);
        list = u.s.tlv;
        break;
    }
    if (r != 0) {
        destroy_tlv(list);
        return sc__pdu_fail(&w, SC_ESME_RSYSERR, "libsmpp34 refused the %s",
                            sc_pdu_cmd_name(h.id));
    }

    memset(out, 0, sizeof *out);
    out->cmd_id = h.id;
    out->seq = h.seq;
    switch (h.id) {
    case SC_CMD_DELIVER_SM:
        COPY_COMMON(out, &u.d);
        COPY_SHORT_MESSAGE(out, &u.d);
        break;
    case SC_CMD_DATA_SM:
        COPY_COMMON(out, &u.ds);
        out->use_payload = 1;
        break;
    default:
        COPY_COMMON(out, &u.s);
        COPY_SHORT_MESSAGE(out, &u.s);
        break;
    }
    copy_tlvs(out, list);
    out->has_sar = (seen.mask & SC__SEEN_REF) != 0;
    destroy_tlv(list);
    return 0;
}


/* ---- Encoding ----------------------------------------------------------- */

/* The lengths of an sm's C-strings. */
struct sm_lens {
    long st, sl, dl, rl;   /* service_type, source, destination, receipted id */
};

/* Refuse what libsmpp34 refuses (and an unterminated string, which it would
 * silently cut). Returns 0 with *n filled, SC_EINVAL or SC_ETOOBIG. */
static int sm_check(const struct sc_sm *sm, int payload, struct sm_lens *n)
{
    n->st = sc__pdu_field_len(sm->service_type, sizeof sm->service_type);
    n->sl = sc__pdu_field_len(sm->src.addr, sizeof sm->src.addr);
    n->dl = sc__pdu_field_len(sm->dst.addr, sizeof sm->dst.addr);
    n->rl = sc__pdu_field_len(sm->receipted_message_id, sizeof sm->receipted_message_id);
    if (n->st < 0 || n->sl < 0 || n->dl < 0 || n->rl < 0 || sm->seq == 0 ||
        !sc__pdu_ton_ok(sm->src.ton) || !sc__pdu_ton_ok(sm->dst.ton) ||
        !sc__pdu_npi_ok(sm->src.npi) || !sc__pdu_npi_ok(sm->dst.npi))
        return SC_EINVAL;
    if (sm->msg_len > SC_SM_MSG_MAX || (!payload && sm->msg_len > 253))
        return SC_ETOOBIG;
    if (sm->has_sar && (sm->sar_total == 0 || sm->sar_seq == 0 || sm->sar_seq > sm->sar_total))
        return SC_EINVAL;
    return 0;
}


static void tlv_set(tlv_t *t, uint16_t tag, uint16_t len, tlv_t **tail)
{
    t->tag = tag;
    t->length = len;
    t->next = NULL;
    *tail = t;
}

/* SAR (3), message_payload, receipted_message_id, message_state. */
#define SM_MAX_TLVS 6

/* Chain sm's TLVs from *head, in tlv[] (on the caller's stack: nothing to
 * free, pack does not keep them). Returns their bytes on the wire. */
static size_t sm_tlvs(const struct sc_sm *sm, int payload, long rl, tlv_t tlv[SM_MAX_TLVS],
                      tlv_t **head)
{
    tlv_t **tail = head;
    size_t nt = 0, bytes = 0;
    *head = NULL;
    if (sm->has_sar) {
        tlv_set(&tlv[nt], SC__TAG_SAR_REF, 2, tail);
        tlv[nt].value.val16 = sm->sar_ref;
        tail = &tlv[nt++].next;
        tlv_set(&tlv[nt], SC__TAG_SAR_TOTAL, 1, tail);
        tlv[nt].value.val08 = sm->sar_total;
        tail = &tlv[nt++].next;
        tlv_set(&tlv[nt], SC__TAG_SAR_SEQ, 1, tail);
        tlv[nt].value.val08 = sm->sar_seq;
        tail = &tlv[nt++].next;
        bytes += 4 + 2 + 4 + 1 + 4 + 1;
    }
    if (payload) {
        tlv_set(&tlv[nt], SC__TAG_MESSAGE_PAYLOAD, sm->msg_len, tail);
        memcpy(tlv[nt].value.octet, sm->msg, sm->msg_len);
        tail = &tlv[nt++].next;
        bytes += 4 + sm->msg_len;
    }
    if (rl > 0) {
        tlv_set(&tlv[nt], SC__TAG_RECEIPTED_MSG_ID, (uint16_t)(rl + 1), tail);
        memcpy(tlv[nt].value.octet, sm->receipted_message_id, (size_t)rl + 1);
        tail = &tlv[nt++].next;
        bytes += 4 + (size_t)rl + 1;
    }
    if (sm->has_message_state) {
        tlv_set(&tlv[nt], SC__TAG_MESSAGE_STATE, 1, tail);
        tlv[nt].value.val08 = sm->message_state;
        bytes += 4 + 1;
    }
    return bytes;
}

/* The PDU's length on the wire: header, mandatory fields, TLVs. */
static size_t sm_wire_len(const struct sc_sm *sm, int payload, const struct sm_lens *n,
                          size_t tlv_bytes)
{
    size_t len = SC_PDU_HEADER_LEN + (size_t)n->st + 1 + 2 + (size_t)n->sl + 1 + 2 +
                 (size_t)n->dl + 1 + 3 + tlv_bytes;
    if (sm->cmd_id != SC_CMD_DATA_SM)   /* protocol_id ... sm_length, short_message */
        len += 1 + 1 + 5 + (payload ? 0 : sm->msg_len);
    return len;
}

/* Fill libsmpp34's struct for sm's command and pack it into out (room
 * bytes). Returns the length libsmpp34 wrote, or SC_EPROTO when it
 * refused or wrote another length than len. */
static long sm_pack(const struct sc_sm *sm, int payload, const struct sm_lens *n, tlv_t *head,
                    uint8_t *out, int room, size_t len)
{
    union {
        deliver_sm_t d;
        data_sm_t ds;
        submit_sm_t s;
    } u;
    int plen = 0, r;
#define FILL_COMMON(t, cmd)                                                       \
    do {                                                                          \
        memset((t), 0, sizeof *(t));                                              \
        (t)->command_id = (cmd);                                                  \
        (t)->sequence_number = sm->seq;                                           \
        memcpy((t)->service_type, sm->service_type, (size_t)n->st + 1);           \
        (t)->source_addr_ton = sm->src.ton;                                       \
        (t)->source_addr_npi = sm->src.npi;                                       \
        memcpy((t)->source_addr, sm->src.addr, (size_t)n->sl + 1);                \
        (t)->dest_addr_ton = sm->dst.ton;                                         \
        (t)->dest_addr_npi = sm->dst.npi;                                         \
        memcpy((t)->destination_addr, sm->dst.addr, (size_t)n->dl + 1);           \
        (t)->esm_class = sm->esm_class;                                           \
        (t)->registered_delivery = sm->registered_delivery;                       \
        (t)->data_coding = sm->data_coding;                                       \
        (t)->tlv = head;                                                          \
    } while (0)
#define FILL_SHORT_MESSAGE(t)                                                     \
    do {                                                                          \
        (t)->protocol_id = sm->protocol_id;                                       \
        (t)->priority_flag = sm->priority_flag;                                   \
        if (!payload) {                                                           \
            (t)->sm_length = (uint8_t)sm->msg_len;                                \
            memcpy((t)->short_message, sm->msg, sm->msg_len);                     \
        }                                                                         \
    } while (0)
    switch (sm->cmd_id) {
    case SC_CMD_DELIVER_SM:
        FILL_COMMON(&u.d, DELIVER_SM);
        FILL_SHORT_MESSAGE(&u.d);
        r = smpp34_pack(DELIVER_SM, out, room, &plen, &u.d);
        break;
    case SC_CMD_DATA_SM:
        FILL_COMMON(&u.ds, DATA_SM);
        r = smpp34_pack(DATA_SM, out, room, &plen, &u.ds);
        break;
    default:
        FILL_COMMON(&u.s, SUBMIT_SM);
        FILL_SHORT_MESSAGE(&u.s);
        r = smpp34_pack(SUBMIT_SM, out, room, &plen, &u.s);
        break;
    }
#undef FILL_COMMON
#undef FILL_SHORT_MESSAGE
    if (r != 0 || (size_t)plen != len)
        return SC_EPROTO;
    return plen;
}

long sc_pdu_encode_sm(const struct sc_sm *sm, uint8_t *out, size_t outsz)
{
    if (!sm || !out || !sc__pdu_is_sm(sm->cmd_id))
        return SC_EINVAL;
    int payload = sm->use_payload || sm->cmd_id == SC_CMD_DATA_SM;
    struct sm_lens n;
    int rc = sm_check(sm, payload, &n);
    if (rc < 0)
        return rc;
    tlv_t tlv[SM_MAX_TLVS], *head;
    size_t len = sm_wire_len(sm, payload, &n, sm_tlvs(sm, payload, n.rl, tlv, &head));
    /* pack needs one byte more than the PDU (it checks len >= room). */
    if (outsz < len + 1)
        return SC_ETOOBIG;
    return sm_pack(sm, payload, &n, head, out, outsz > INT_MAX ? INT_MAX : (int)outsz, len);
}
