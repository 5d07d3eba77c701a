/* pdu.c -- SMPP 3.4 framing and the PDUs built and parsed by hand: command
 * names, the header, header-only PDUs, resps that carry one C-string, and
 * the UDH of a concatenated message. The libsmpp34 codec is in pdu_sm.c and
 * pdu_bind.c, behind the guard in pdu_guard.c (pdu_int.h). */
#include "smsc/pdu.h"

#include <arpa/inet.h>
#include <string.h>

#include "smsc/pdu_int.h"

/* ---- Names ------------------------------------------------------------ */

static const struct {
    uint32_t id;
    const char *name;
} cmd_names[] = {
    {SC_CMD_GENERIC_NACK, "generic_nack"},
    {SC_CMD_BIND_RECEIVER, "bind_receiver"},
    {SC_CMD_BIND_RECEIVER | SC_CMD_RESP, "bind_receiver_resp"},
    {SC_CMD_BIND_TRANSMITTER, "bind_transmitter"},
    {SC_CMD_BIND_TRANSMITTER | SC_CMD_RESP, "bind_transmitter_resp"},
    {SC_CMD_QUERY_SM, "query_sm"},
    {SC_CMD_QUERY_SM | SC_CMD_RESP, "query_sm_resp"},
    {SC_CMD_SUBMIT_SM, "submit_sm"},
    {SC_CMD_SUBMIT_SM | SC_CMD_RESP, "submit_sm_resp"},
    {SC_CMD_DELIVER_SM, "deliver_sm"},
    {SC_CMD_DELIVER_SM | SC_CMD_RESP, "deliver_sm_resp"},
    {SC_CMD_UNBIND, "unbind"},
    {SC_CMD_UNBIND | SC_CMD_RESP, "unbind_resp"},
    {SC_CMD_REPLACE_SM, "replace_sm"},
    {SC_CMD_REPLACE_SM | SC_CMD_RESP, "replace_sm_resp"},
    {SC_CMD_CANCEL_SM, "cancel_sm"},
    {SC_CMD_CANCEL_SM | SC_CMD_RESP, "cancel_sm_resp"},
    {SC_CMD_BIND_TRANSCEIVER, "bind_transceiver"},
    {SC_CMD_BIND_TRANSCEIVER | SC_CMD_RESP, "bind_transceiver_resp"},
    {SC_CMD_OUTBIND, "outbind"},
    {SC_CMD_ENQUIRE_LINK, "enquire_link"},
    {SC_CMD_ENQUIRE_LINK | SC_CMD_RESP, "enquire_link_resp"},
    {SC_CMD_SUBMIT_MULTI, "submit_multi"},
    {SC_CMD_SUBMIT_MULTI | SC_CMD_RESP, "submit_multi_resp"},
    {SC_CMD_ALERT_NOTIFICATION, "alert_notification"},
    {SC_CMD_DATA_SM, "data_sm"},
    {SC_CMD_DATA_SM | SC_CMD_RESP, "data_sm_resp"},
};

const char *sc_pdu_cmd_name(uint32_t cmd_id)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(cmd_names); i++)
        if (cmd_names[i].id == cmd_id)
            return cmd_names[i].name;
    return "unknown";
}

/* ---- Framing and hand-built PDUs --------------------------------------- */

/* One big-endian store. Written as four byte stores, gcc -O2 turned the
 * header's sixteen into ~90 instructions of shifts and ors; this is a
 * byte swap and a store. */
static void put32(uint8_t *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, sizeof v);
}

long sc_pdu_frame(const uint8_t *buf, size_t avail, uint32_t max_len, struct sc_pdu_hdr *h)
{
    if (avail < SC_PDU_HEADER_LEN)
        return 0;
    h->len = sc__get32(buf);
    h->id = sc__get32(buf + 4);
    h->status = sc__get32(buf + 8);
    h->seq = sc__get32(buf + 12);
    if (h->len < SC_PDU_HEADER_LEN || h->len > max_len)
        return SC_EPROTO;
    if (avail < h->len)
        return 0;
    return (long)h->len;
}

size_t sc_pdu_put_header(uint8_t *out, uint32_t len, uint32_t id, uint32_t status, uint32_t seq)
{
    put32(out, len);
    put32(out + 4, id);
    put32(out + 8, status);
    put32(out + 12, seq);
    return SC_PDU_HEADER_LEN;
}

size_t sc_pdu_build_simple(uint8_t *out, uint32_t id, uint32_t status, uint32_t seq)
{
    return sc_pdu_put_header(out, SC_PDU_HEADER_LEN, id, status, seq);
}

size_t sc_pdu_build_str_resp(uint8_t *out, uint32_t id, uint32_t status, uint32_t seq, const char *s)
{
    size_t max;   /* longest string the field holds, NUL excluded */
    switch (id & ~SC_CMD_RESP) {
    case SC_CMD_DELIVER_SM:
        max = 0;  /* message_id unused: always "" (libsmpp34 refuses more) */
        break;
    case SC_CMD_BIND_RECEIVER:
    case SC_CMD_BIND_TRANSMITTER:
    case SC_CMD_BIND_TRANSCEIVER:
        max = 15; /* system_id */
        if (status)
            return sc_pdu_build_simple(out, id, status, seq);
        break;
    default:
        max = SC_MSGID_MAX - 1;
        if (status)
            return sc_pdu_build_simple(out, id, status, seq);
        break;
    }
    size_t n = s ? strnlen(s, max) : 0;
    size_t len = SC_PDU_HEADER_LEN + n + 1;
    sc_pdu_put_header(out, (uint32_t)len, id, status, seq);
    if (n)
        memcpy(out + SC_PDU_HEADER_LEN, s, n);
    out[SC_PDU_HEADER_LEN + n] = '\0';
    return len;
}

int sc_pdu_parse_str_resp(const uint8_t *pdu, size_t len, char *s, size_t ssz)
{
    if (!pdu || !s || ssz == 0)
        return SC_EINVAL;
    s[0] = '\0';
    if (len < SC_PDU_HEADER_LEN || sc__get32(pdu) != len)
        return SC_EPROTO;
    const uint8_t *body = pdu + SC_PDU_HEADER_LEN;
    size_t blen = len - SC_PDU_HEADER_LEN;
    if (blen == 0)
        return 0;
    /* Bytes after the NUL (bind_resp's sc_interface_version TLV) are ignored. */
    const uint8_t *nul = memchr(body, 0, blen);
    if (!nul)
        return SC_EPROTO;
    size_t n = (size_t)(nul - body);
    if (n > ssz - 1)
        return SC_EPROTO;
    memcpy(s, body, n);
    s[n] = '\0';
    return 0;
}
/* ---- UDH ----------------------------------------------------------------- */

int sc_udh_parse(const uint8_t *msg, size_t len, size_t *hdr_len, struct sc_concat *c)
{
    if (!msg || len < 1)
        return SC_EPROTO;
    size_t end = 1 + (size_t)msg[0];
    if (end > len)
        return SC_EPROTO;
    int found = 0;
    struct sc_concat cc = {0, 0, 0};
    for (size_t i = 1; i < end;) {
        if (end - i < 2)
            return SC_EPROTO;
        uint8_t iei = msg[i], iel = msg[i + 1];
        const uint8_t *v = msg + i + 2;
        if (iel > end - i - 2)
            return SC_EPROTO;
        if (iei == 0x00) {
            if (iel != 3)
                return SC_EPROTO;
            cc = (struct sc_concat){v[0], v[1], v[2]};
            found = 1;
        } else if (iei == 0x08) {
            if (iel != 4)
                return SC_EPROTO;
            cc = (struct sc_concat){sc__get16(v), v[2], v[3]};
            found = 1;
        }
        i += 2 + (size_t)iel;
    }
    if (found && (cc.total == 0 || cc.seq == 0 || cc.seq > cc.total))
        return SC_EPROTO;
    if (hdr_len)
        *hdr_len = end;
    if (found && c)
        *c = cc;
    return found;
}
