/* pdu.c -- SMPP 3.4 framing and PDU codec over buffers (libsmpp34 behind a hand-written guard).
 *
 * Every body that reaches smpp34_unpack() has first been walked here, field
 * by field, with libsmpp34's own limits (docs/libsmpp34.md lists them and the
 * evidence): C-strings NUL-terminated within the size libsmpp34 copies into,
 * TON/NPI/status/sequence values it accepts, sm_length within the body and
 * below 255, every TLV inside the body with the exact length libsmpp34 will
 * consume (it reads fixed-size TLVs by their type, not by their length, so a
 * lying length would make it parse a different TLV list than we counted), at
 * most SC_PDU_MAX_TLVS of them, no trailing bytes. The walk also predicts,
 * byte for byte, the log text libsmpp34 appends to its 2048-byte global
 * smpp34_strerror while unpacking, and refuses the PDU when one of those
 * appends would start past the end of the buffer (libsmpp34 then passes a
 * negative size to snprintf: an overflow). The overflow depends on the field
 * lengths, not only on the TLV count: 28 TLVs with 20-digit addresses already
 * overflow, 28 with ordinary addresses do not.
 *
 * So smpp34_unpack() only ever sees input it accepts; a -1 from it is a bug
 * here and answered with ESME_RSYSERR. Its TLV list is always destroyed. */
#include "smsc/pdu.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "base/sc.h"

/* Every PUTLOG in libsmpp34 must start within smpp34_strerror[2048]: the
 * log written before the last one may reach, not pass, its end. */
#define SC__SMPP34_LOG_ROOM sizeof(smpp34_strerror)

/* Tags this module reads. */
#define TAG_RECEIPTED_MSG_ID 0x001E
#define TAG_SAR_REF          0x020C
#define TAG_SAR_TOTAL        0x020E
#define TAG_SAR_SEQ          0x020F
#define TAG_MESSAGE_PAYLOAD  0x0424
#define TAG_MESSAGE_STATE    0x0427

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

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

long sc_pdu_frame(const uint8_t *buf, size_t avail, uint32_t max_len, struct sc_pdu_hdr *h)
{
    if (avail < SC_PDU_HEADER_LEN)
        return 0;
    h->len = get32(buf);
    h->id = get32(buf + 4);
    h->status = get32(buf + 8);
    h->seq = get32(buf + 12);
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
    if (len < SC_PDU_HEADER_LEN || get32(pdu) != len)
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

/* ---- The guard walk ----------------------------------------------------- */

/* Length of what libsmpp34's PUTLOG writes for one field on success:
 * "[name:%08X(OK)]", "[name:%04X(OK)]", "[name:%02X(OK)]", "[name:<bin>(OK)]"
 * and, for a C-string, "[name:value(OK)]" (name + 7 + strlen(value), see
 * w_str). name is the struct member as spelled in def_frame/. */
#define LOG_U32(name) (sizeof(name) - 1 + 15)
#define LOG_U16(name) (sizeof(name) - 1 + 11)
#define LOG_U08(name) (sizeof(name) - 1 + 9)
#define LOG_BIN(name) (sizeof(name) - 1 + 12)
#define LOG_HEADER (LOG_U32("command_length") + LOG_U32("command_id") + \
                    LOG_U32("command_status") + LOG_U32("sequence_number"))

struct walk {
    const uint8_t *p;   /* the whole PDU */
    size_t off, len;    /* position, PDU length */
    size_t log;         /* bytes libsmpp34 will log into smpp34_strerror */
    size_t last;        /* ... of which the last field's */
    uint32_t *status;
    char *err;
    size_t errsz;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct walk *w, uint32_t status, const char *fmt, ...)
{
    *w->status = status;
    if (w->err && w->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, w->errsz, fmt, ap);
        va_end(ap);
    }
    return SC_EPROTO;
}

/* Account for one field's log line. */
static void w_log(struct walk *w, size_t n)
{
    w->log += n;
    w->last = n;
}

/* A C-string of at most max bytes including the NUL (libsmpp34's size for
 * the field). Status toolong when it has no NUL within max bytes. */
static int w_str(struct walk *w, const char *name, size_t namelen, size_t max, uint32_t toolong,
                 size_t *slen)
{
    size_t rem = w->len - w->off;
    const uint8_t *s = w->p + w->off;
    const uint8_t *nul = memchr(s, 0, SC_MIN(rem, max));
    if (!nul) {
        if (rem < max)
            return fail(w, SC_ESME_RINVCMDLEN, "body ends inside %s", name);
        return fail(w, toolong, "%s longer than %zu bytes", name, max - 1);
    }
    size_t n = (size_t)(nul - s);
    w->off += n + 1;
    w_log(w, namelen + 7 + n);
    if (slen)
        *slen = n;
    return 0;
}
#define W_STR(w, name, max, toolong, slen) w_str((w), (name), sizeof(name) - 1, (max), (toolong), (slen))

static int w_u8(struct walk *w, const char *name, size_t namelen, uint8_t *v)
{
    if (w->off >= w->len)
        return fail(w, SC_ESME_RINVCMDLEN, "body ends before %s", name);
    uint8_t b = w->p[w->off++];
    if (v)
        *v = b;
    w_log(w, namelen + 9);
    return 0;
}
#define W_U8(w, name, v) w_u8((w), (name), sizeof(name) - 1, (v))

/* TON and NPI values libsmpp34 accepts (def_list/addr_ton.list, addr_npi.list). */
static int ton_ok(uint8_t ton)
{
    return ton <= 6;
}

static int npi_ok(uint8_t npi)
{
    switch (npi) {
    case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10: case 14: case 18:
        return 1;
    default:
        return 0;
    }
}

/* ton, npi, address: as in deliver_sm, data_sm and submit_sm. The address is
 * bounded by our SC_ADDR_MAX (libsmpp34 allows 65 for data_sm's
 * destination_addr; ours holds 21). */
static int w_addr(struct walk *w, int src, size_t *alen)
{
    uint8_t ton = 0, npi = 0;
    uint32_t bad = src ? SC_ESME_RINVSRCADR : SC_ESME_RINVDSTADR;
    int rc;
    if (src) {
        if ((rc = W_U8(w, "source_addr_ton", &ton)) || (rc = W_U8(w, "source_addr_npi", &npi)))
            return rc;
    } else {
        if ((rc = W_U8(w, "dest_addr_ton", &ton)) || (rc = W_U8(w, "dest_addr_npi", &npi)))
            return rc;
    }
    if (!ton_ok(ton))
        return fail(w, bad, "%s TON %u refused by libsmpp34", src ? "source" : "dest", ton);
    if (!npi_ok(npi))
        return fail(w, bad, "%s NPI %u refused by libsmpp34", src ? "source" : "dest", npi);
    if (src)
        return W_STR(w, "source_addr", SC_ADDR_MAX, bad, alen);
    return W_STR(w, "destination_addr", SC_ADDR_MAX, bad, alen);
}

/* How libsmpp34 reads a TLV in one PDU type (def_frame/<pdu>.tlv): fixed is
 * 1, 2 or 4 for a value read as U08/U16/U32 whatever the length says, 0 for
 * an octet value of at most max bytes. Tags not listed are octets <= 1024. */
struct tlv_rule {
    uint16_t tag;
    uint8_t fixed;
    uint16_t max;
};

static const struct tlv_rule deliver_sm_tlvs[] = {
    {0x0204, 2, 0}, {0x020A, 2, 0}, {0x020B, 2, 0}, {0x020C, 2, 0}, {0x020E, 1, 0},
    {0x020F, 1, 0}, {0x0205, 1, 0}, {0x0201, 1, 0}, {0x0019, 1, 0}, {0x0424, 0, 1024},
    {0x0381, 0, 19}, {0x0202, 0, 23}, {0x0203, 0, 23}, {0x020D, 1, 0}, {0x1383, 2, 0},
    {0x0423, 0, 3}, {0x0427, 1, 0}, {0x001E, 0, 65}, {0x0421, 1, 0}, {0x000E, 1, 0},
    {0, 0, 0},
};

static const struct tlv_rule data_sm_tlvs[] = {
    {0x020A, 2, 0}, {0x000D, 1, 0}, {0x000E, 1, 0}, {0x000F, 1, 0}, {0x0010, 1, 0},
    {0x020B, 2, 0}, {0x0005, 1, 0}, {0x0006, 1, 0}, {0x0007, 1, 0}, {0x0008, 2, 0},
    {0x020C, 2, 0}, {0x020E, 1, 0}, {0x020F, 1, 0}, {0x0426, 1, 0}, {0x0017, 4, 0},
    {0x0019, 1, 0}, {0x0424, 0, 1024}, {0x0421, 1, 0}, {0x001E, 0, 65}, {0x0427, 1, 0},
    {0x0423, 0, 3}, {0x0204, 2, 0}, {0x0201, 1, 0}, {0x0381, 0, 19}, {0x0302, 1, 0},
    {0x0303, 0, 65}, {0x0202, 0, 23}, {0x0203, 0, 23}, {0x0205, 1, 0}, {0x1201, 1, 0},
    {0x1203, 2, 0}, {0x1204, 1, 0}, {0x0030, 1, 0}, {0x0304, 1, 0}, {0x130C, 0, 0},
    {0x020D, 1, 0}, {0x1380, 1, 0}, {0x1383, 2, 0},
    {0, 0, 0},
};

static const struct tlv_rule submit_sm_tlvs[] = {
    {0x0204, 2, 0}, {0x020A, 2, 0}, {0x000D, 1, 0}, {0x020B, 2, 0}, {0x0005, 1, 0},
    {0x020C, 2, 0}, {0x020E, 1, 0}, {0x020F, 1, 0}, {0x0426, 1, 0}, {0x0019, 1, 0},
    {0x0424, 0, 1024}, {0x0201, 1, 0}, {0x0381, 0, 19}, {0x0302, 1, 0}, {0x0303, 0, 65},
    {0x0202, 0, 23}, {0x0203, 0, 23}, {0x0205, 1, 0}, {0x1201, 1, 0}, {0x1203, 2, 0},
    {0x1204, 1, 0}, {0x0030, 1, 0}, {0x0304, 1, 0}, {0x130C, 0, 0}, {0x020D, 1, 0},
    {0x1380, 1, 0}, {0x1383, 2, 0}, {0x0501, 0, 1},
    {0, 0, 0},
};

static struct tlv_rule tlv_rule(const struct tlv_rule *rules, uint16_t tag)
{
    for (const struct tlv_rule *r = rules; r->tag; r++)
        if (r->tag == tag)
            return *r;
    return (struct tlv_rule){tag, 0, 1024};
}

/* What the TLV walk found among the tags we read. */
struct tlv_seen {
    unsigned n;
    unsigned mask;           /* SEEN_* bits */
    uint16_t sar_ref;
    uint8_t sar_total, sar_seq;
    uint16_t payload_len;
};
enum { SEEN_REF = 1, SEEN_TOTAL = 2, SEEN_SEQ = 4, SEEN_PAYLOAD = 8, SEEN_RCPT = 16, SEEN_STATE = 32 };

static int w_tlvs(struct walk *w, const struct tlv_rule *rules, struct tlv_seen *seen)
{
    memset(seen, 0, sizeof *seen);
    while (w->off < w->len) {
        if (w->len - w->off < 4)
            return fail(w, SC_ESME_RINVOPTPARSTREAM, "%zu trailing bytes", w->len - w->off);
        uint16_t tag = get16(w->p + w->off), tl = get16(w->p + w->off + 2);
        w->off += 4;
        if (tl > w->len - w->off)
            return fail(w, SC_ESME_RINVOPTPARSTREAM, "TLV 0x%04X length %u past the end", tag, tl);
        if (++seen->n > SC_PDU_MAX_TLVS)
            return fail(w, SC_ESME_RINVOPTPARSTREAM, "more than %d TLVs", SC_PDU_MAX_TLVS);
        struct tlv_rule r = tlv_rule(rules, tag);
        if (r.fixed) {
            if (tl != r.fixed)
                return fail(w, SC_ESME_RINVPARLEN, "TLV 0x%04X length %u, must be %u", tag, tl, r.fixed);
            w->log += LOG_U16("tag") + LOG_U16("length");
            w_log(w, r.fixed == 1 ? LOG_U08("value.val08")
                     : r.fixed == 2 ? LOG_U16("value.val16") : LOG_U32("value.val32"));
        } else {
            if (tl > r.max)
                return fail(w, SC_ESME_RINVPARLEN, "TLV 0x%04X length %u over %u", tag, tl, r.max);
            w->log += LOG_U16("tag") + LOG_U16("length");
            w_log(w, LOG_BIN("value.octet"));
        }
        const uint8_t *v = w->p + w->off;
        unsigned bit = 0;
        switch (tag) {
        case TAG_SAR_REF:
            bit = SEEN_REF;
            seen->sar_ref = get16(v);
            break;
        case TAG_SAR_TOTAL:
            bit = SEEN_TOTAL;
            seen->sar_total = v[0];
            break;
        case TAG_SAR_SEQ:
            bit = SEEN_SEQ;
            seen->sar_seq = v[0];
            break;
        case TAG_MESSAGE_PAYLOAD:
            bit = SEEN_PAYLOAD;
            if (tl > SC_SM_MSG_MAX)
                return fail(w, SC_ESME_RINVPARLEN, "message_payload of %u bytes", tl);
            seen->payload_len = tl;
            break;
        case TAG_RECEIPTED_MSG_ID:
            bit = SEEN_RCPT;
            if (tl > SC_MSGID_MAX)
                return fail(w, SC_ESME_RINVPARLEN, "receipted_message_id of %u bytes", tl);
            break;
        case TAG_MESSAGE_STATE:
            bit = SEEN_STATE;
            if (tl != 1)
                return fail(w, SC_ESME_RINVPARLEN, "message_state length %u", tl);
            break;
        default:
            break;
        }
        if (seen->mask & bit)
            return fail(w, SC_ESME_RINVOPTPARSTREAM, "TLV 0x%04X twice", tag);
        seen->mask |= bit;
        w->off += tl;
    }
    unsigned sar = seen->mask & (SEEN_REF | SEEN_TOTAL | SEEN_SEQ);
    if (sar && sar != (SEEN_REF | SEEN_TOTAL | SEEN_SEQ))
        return fail(w, SC_ESME_RMISSINGOPTPARAM, "incomplete SAR TLVs");
    if (sar && (seen->sar_total == 0 || seen->sar_seq == 0 || seen->sar_seq > seen->sar_total))
        return fail(w, SC_ESME_RINVOPTPARAMVAL, "SAR segment %u of %u", seen->sar_seq, seen->sar_total);
    return 0;
}

/* The 16-byte header of a request PDU as libsmpp34 will accept it. */
static int w_header(struct walk *w, struct sc_pdu_hdr *h)
{
    if (w->len < SC_PDU_HEADER_LEN)
        return fail(w, SC_ESME_RINVCMDLEN, "PDU of %zu bytes", w->len);
    if (w->len > INT_MAX)
        return fail(w, SC_ESME_RINVCMDLEN, "PDU of %zu bytes", w->len);
    h->len = get32(w->p);
    h->id = get32(w->p + 4);
    h->status = get32(w->p + 8);
    h->seq = get32(w->p + 12);
    if (h->len != w->len)
        return fail(w, SC_ESME_RINVCMDLEN, "command_length %u, PDU of %zu bytes", h->len, w->len);
    /* Both are refused by libsmpp34 (unknown status values, sequence 0);
     * a request carries status 0 anyway. */
    if (h->status != 0)
        return fail(w, SC_ESME_RSYSERR, "command_status 0x%08X in a request", h->status);
    if (h->seq == 0)
        return fail(w, SC_ESME_RSYSERR, "sequence_number 0");
    w->off = SC_PDU_HEADER_LEN;
    w->log = LOG_HEADER;
    w->last = LOG_U32("sequence_number");
    return 0;
}

/* Walk a deliver_sm, data_sm or submit_sm body. */
static int w_sm(struct walk *w, uint32_t id, struct tlv_seen *seen)
{
    int rc;
    uint8_t sm_length = 0;
    if ((rc = W_STR(w, "service_type", 6, SC_ESME_RSYSERR, NULL)) || (rc = w_addr(w, 1, NULL)) ||
        (rc = w_addr(w, 0, NULL)) || (rc = W_U8(w, "esm_class", NULL)))
        return rc;
    if (id == SC_CMD_DATA_SM) {
        if ((rc = W_U8(w, "registered_delivery", NULL)) || (rc = W_U8(w, "data_coding", NULL)))
            return rc;
        return w_tlvs(w, data_sm_tlvs, seen);
    }
    /* deliver_sm: libsmpp34 sizes both time fields 1 (empty only). */
    size_t tmax = id == SC_CMD_DELIVER_SM ? 1 : 17;
    if ((rc = W_U8(w, "protocol_id", NULL)) || (rc = W_U8(w, "priority_flag", NULL)) ||
        (rc = W_STR(w, "schedule_delivery_time", tmax, SC_ESME_RSYSERR, NULL)) ||
        (rc = W_STR(w, "validity_period", tmax, SC_ESME_RSYSERR, NULL)) ||
        (rc = W_U8(w, "registered_delivery", NULL)) || (rc = W_U8(w, "replace_if_present_flag", NULL)) ||
        (rc = W_U8(w, "data_coding", NULL)) || (rc = W_U8(w, "sm_default_msg_id", NULL)) ||
        (rc = W_U8(w, "sm_length", &sm_length)))
        return rc;
    if (sm_length > 254)
        return fail(w, SC_ESME_RINVMSGLEN, "sm_length %u", sm_length);
    if (sm_length > w->len - w->off)
        return fail(w, SC_ESME_RINVMSGLEN, "sm_length %u past the end", sm_length);
    w->off += sm_length;
    w_log(w, LOG_BIN("short_message"));
    if ((rc = w_tlvs(w, id == SC_CMD_DELIVER_SM ? deliver_sm_tlvs : submit_sm_tlvs, seen)))
        return rc;
    if ((seen->mask & SEEN_PAYLOAD) && sm_length)
        return fail(w, SC_ESME_ROPTPARNOTALLWD, "both short_message and message_payload");
    return 0;
}

/* Refuse a PDU whose unpack would overflow smpp34_strerror. */
static int w_budget(struct walk *w, unsigned ntlv)
{
    if (w->log - w->last > SC__SMPP34_LOG_ROOM)
        return fail(w, SC_ESME_RINVOPTPARSTREAM, "%u TLVs would overflow libsmpp34's log buffer", ntlv);
    return 0;
}

static int is_sm(uint32_t id)
{
    return id == SC_CMD_DELIVER_SM || id == SC_CMD_DATA_SM || id == SC_CMD_SUBMIT_SM;
}

static int is_bind(uint32_t id)
{
    return id == SC_CMD_BIND_RECEIVER || id == SC_CMD_BIND_TRANSMITTER || id == SC_CMD_BIND_TRANSCEIVER;
}

static int w_bind(struct walk *w, struct sc_pdu_hdr *h);

/* Test hook: the length of the log smpp34_unpack() will try to write into
 * smpp34_strerror (which keeps the first 2047 bytes) for this deliver_sm,
 * data_sm, submit_sm or bind PDU, or 0 when the guard refuses it. */
size_t sc__pdu_smpp34_log_len(const uint8_t *pdu, size_t len);

size_t sc__pdu_smpp34_log_len(const uint8_t *pdu, size_t len)
{
    uint32_t status;
    struct walk w = {.p = pdu, .len = len, .status = &status};
    struct sc_pdu_hdr h;
    struct tlv_seen seen = {0, 0, 0, 0, 0, 0};
    if (w_header(&w, &h))
        return 0;
    if (is_bind(h.id))
        return w_bind(&w, &h) || w_budget(&w, 0) ? 0 : w.log;
    if (is_sm(h.id))
        return w_sm(&w, h.id, &seen) || w_budget(&w, seen.n) ? 0 : w.log;
    return 0;
}

/* ---- deliver_sm / data_sm / submit_sm ----------------------------------- */

/* Copy a C-string field libsmpp34 has NUL-terminated within its array. */
static void copy_field(char *dst, size_t dstsz, const uint8_t *src, size_t srcsz)
{
    size_t n = strnlen((const char *)src, SC_MIN(srcsz, dstsz - 1));
    memcpy(dst, src, n);
    dst[n] = '\0';
}

#define COPY_FIELD(dst, src) copy_field((dst), sizeof(dst), (src), sizeof(src))

#define COPY_COMMON(sm, t)                                       \
    do {                                                         \
        COPY_FIELD((sm)->service_type, (t)->service_type);       \
        (sm)->src.ton = (t)->source_addr_ton;                    \
        (sm)->src.npi = (t)->source_addr_npi;                    \
        COPY_FIELD((sm)->src.addr, (t)->source_addr);            \
        (sm)->dst.ton = (t)->dest_addr_ton;                      \
        (sm)->dst.npi = (t)->dest_addr_npi;                      \
        COPY_FIELD((sm)->dst.addr, (t)->destination_addr);       \
        (sm)->esm_class = (t)->esm_class;                        \
        (sm)->registered_delivery = (t)->registered_delivery;    \
        (sm)->data_coding = (t)->data_coding;                    \
    } while (0)

#define COPY_SHORT_MESSAGE(sm, t)                                \
    do {                                                         \
        (sm)->protocol_id = (t)->protocol_id;                    \
        (sm)->priority_flag = (t)->priority_flag;                \
        (sm)->msg_len = (t)->sm_length;                          \
        memcpy((sm)->msg, (t)->short_message, (t)->sm_length);   \
    } while (0)

static void copy_tlvs(struct sc_sm *sm, const tlv_t *list)
{
    /* The list is in reverse wire order; the walk refused duplicates. */
    for (const tlv_t *t = list; t; t = t->next) {
        switch (t->tag) {
        case TAG_SAR_REF:
            sm->sar_ref = t->value.val16;
            break;
        case TAG_SAR_TOTAL:
            sm->sar_total = t->value.val08;
            break;
        case TAG_SAR_SEQ:
            sm->sar_seq = t->value.val08;
            break;
        case TAG_MESSAGE_PAYLOAD:
            sm->use_payload = 1;
            sm->msg_len = (uint16_t)SC_MIN(t->length, SC_SM_MSG_MAX);
            memcpy(sm->msg, t->value.octet, sm->msg_len);
            break;
        case TAG_RECEIPTED_MSG_ID: {
            size_t n = SC_MIN((size_t)t->length, sizeof sm->receipted_message_id - 1);
            n = strnlen((const char *)t->value.octet, n);
            memcpy(sm->receipted_message_id, t->value.octet, n);
            sm->receipted_message_id[n] = '\0';
            break;
        }
        case TAG_MESSAGE_STATE:
            /* U08 in deliver_sm/data_sm, a 1-byte octet in submit_sm: same byte. */
            sm->has_message_state = 1;
            sm->message_state = t->value.val08;
            break;
        default:
            break;
        }
    }
}

/* The start every decoder shares: reset the outputs, set up the walk and
 * parse the header. Returns 0, or the decoder's error result. */
static int walk_begin(struct walk *w, const uint8_t *pdu, size_t len, const void *out,
                      uint32_t *status, char *err, size_t errsz, struct sc_pdu_hdr *h)
{
    *status = SC_ESME_ROK;
    if (err && errsz)
        err[0] = '\0';
    *w = (struct walk){.p = pdu, .len = len, .status = status, .err = err, .errsz = errsz};
    if (!pdu || !out) {
        fail(w, SC_ESME_RSYSERR, "no PDU");
        return SC_EINVAL;
    }
    return w_header(w, h);
}

int sc_pdu_decode_sm(const uint8_t *pdu, size_t len, struct sc_sm *out, uint32_t *status,
                     char *err, size_t errsz)
{
    uint32_t dummy;
    struct walk w;
    struct sc_pdu_hdr h;
    struct tlv_seen seen;
    int rc = walk_begin(&w, pdu, len, out, status ? status : &dummy, err, errsz, &h);
    if (rc)
        return rc;
    if (!is_sm(h.id))
        return fail(&w, SC_ESME_RINVCMDID, "%s is not a short message", sc_pdu_cmd_name(h.id));
    if ((rc = w_sm(&w, h.id, &seen)) || (rc = w_budget(&w, seen.n)))
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
        return fail(&w, SC_ESME_RSYSERR, "libsmpp34 refused the %s", sc_pdu_cmd_name(h.id));
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
    out->has_sar = (seen.mask & SEEN_REF) != 0;
    destroy_tlv(list);
    return 0;
}

/* Length of a NUL-terminated string within an array of size sz, or -1. */
static long field_len(const char *s, size_t sz)
{
    const char *nul = memchr(s, 0, sz);
    return nul ? (long)(nul - s) : -1;
}

static void tlv_set(tlv_t *t, uint16_t tag, uint16_t len, tlv_t **tail)
{
    t->tag = tag;
    t->length = len;
    t->next = NULL;
    *tail = t;
}

long sc_pdu_encode_sm(const struct sc_sm *sm, uint8_t *out, size_t outsz)
{
    if (!sm || !out)
        return SC_EINVAL;
    uint32_t id = sm->cmd_id;
    if (!is_sm(id))
        return SC_EINVAL;
    long st = field_len(sm->service_type, sizeof sm->service_type);
    long sl = field_len(sm->src.addr, sizeof sm->src.addr);
    long dl = field_len(sm->dst.addr, sizeof sm->dst.addr);
    long rl = field_len(sm->receipted_message_id, sizeof sm->receipted_message_id);
    /* libsmpp34 refuses these (and would silently cut an unterminated string). */
    if (st < 0 || sl < 0 || dl < 0 || rl < 0 || sm->seq == 0 || !ton_ok(sm->src.ton) ||
        !ton_ok(sm->dst.ton) || !npi_ok(sm->src.npi) || !npi_ok(sm->dst.npi))
        return SC_EINVAL;
    int payload = sm->use_payload || id == SC_CMD_DATA_SM;
    if (sm->msg_len > SC_SM_MSG_MAX || (!payload && sm->msg_len > 253))
        return SC_ETOOBIG;
    if (sm->has_sar && (sm->sar_total == 0 || sm->sar_seq == 0 || sm->sar_seq > sm->sar_total))
        return SC_EINVAL;

    /* TLV nodes live on the stack: nothing to free, pack does not keep them. */
    tlv_t tlv[6], *head = NULL, **tail = &head;
    size_t nt = 0, tlv_bytes = 0;
    if (sm->has_sar) {
        tlv_set(&tlv[nt], TAG_SAR_REF, 2, tail);
        tlv[nt].value.val16 = sm->sar_ref;
        tail = &tlv[nt++].next;
        tlv_set(&tlv[nt], TAG_SAR_TOTAL, 1, tail);
        tlv[nt].value.val08 = sm->sar_total;
        tail = &tlv[nt++].next;
        tlv_set(&tlv[nt], TAG_SAR_SEQ, 1, tail);
        tlv[nt].value.val08 = sm->sar_seq;
        tail = &tlv[nt++].next;
        tlv_bytes += 4 + 2 + 4 + 1 + 4 + 1;
    }
    if (payload) {
        tlv_set(&tlv[nt], TAG_MESSAGE_PAYLOAD, sm->msg_len, tail);
        memcpy(tlv[nt].value.octet, sm->msg, sm->msg_len);
        tail = &tlv[nt++].next;
        tlv_bytes += 4 + sm->msg_len;
    }
    if (rl > 0) {
        tlv_set(&tlv[nt], TAG_RECEIPTED_MSG_ID, (uint16_t)(rl + 1), tail);
        memcpy(tlv[nt].value.octet, sm->receipted_message_id, (size_t)rl + 1);
        tail = &tlv[nt++].next;
        tlv_bytes += 4 + (size_t)rl + 1;
    }
    if (sm->has_message_state) {
        tlv_set(&tlv[nt], TAG_MESSAGE_STATE, 1, tail);
        tlv[nt].value.val08 = sm->message_state;
        tail = &tlv[nt++].next;
        tlv_bytes += 4 + 1;
    }

    size_t len = SC_PDU_HEADER_LEN + (size_t)st + 1 + 2 + (size_t)sl + 1 + 2 + (size_t)dl + 1 + 3 + tlv_bytes;
    if (id != SC_CMD_DATA_SM)
        len += 1 + 1 + 5 + (payload ? 0 : sm->msg_len);
    /* pack needs one byte more than the PDU (it checks len >= room). */
    if (outsz < len + 1)
        return SC_ETOOBIG;
    int room = outsz > INT_MAX ? INT_MAX : (int)outsz;

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
        memcpy((t)->service_type, sm->service_type, (size_t)st + 1);              \
        (t)->source_addr_ton = sm->src.ton;                                       \
        (t)->source_addr_npi = sm->src.npi;                                       \
        memcpy((t)->source_addr, sm->src.addr, (size_t)sl + 1);                   \
        (t)->dest_addr_ton = sm->dst.ton;                                         \
        (t)->dest_addr_npi = sm->dst.npi;                                         \
        memcpy((t)->destination_addr, sm->dst.addr, (size_t)dl + 1);              \
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
    switch (id) {
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

/* ---- bind -------------------------------------------------------------- */

static int w_bind(struct walk *w, struct sc_pdu_hdr *h)
{
    int rc;
    uint8_t iv = 0, ton = 0, npi = 0;
    if ((rc = W_STR(w, "system_id", 16, SC_ESME_RINVSYSID, NULL)) ||
        (rc = W_STR(w, "password", 9, SC_ESME_RINVPASWD, NULL)) ||
        (rc = W_STR(w, "system_type", 13, SC_ESME_RBINDFAIL, NULL)) ||
        (rc = W_U8(w, "interface_version", &iv)) || (rc = W_U8(w, "addr_ton", &ton)) ||
        (rc = W_U8(w, "addr_npi", &npi)) ||
        (rc = W_STR(w, "address_range", 41, SC_ESME_RBINDFAIL, NULL)))
        return rc;
    /* libsmpp34 checks the version for transmitter and transceiver only. */
    if (iv != SC_SMPP_VERSION_34 && h->id != SC_CMD_BIND_RECEIVER)
        return fail(w, SC_ESME_RBINDFAIL, "interface_version 0x%02X", iv);
    if (!ton_ok(ton) || !npi_ok(npi))
        return fail(w, SC_ESME_RBINDFAIL, "addr_ton %u addr_npi %u", ton, npi);
    if (w->off != w->len)
        return fail(w, SC_ESME_RINVCMDLEN, "%zu trailing bytes", w->len - w->off);
    return 0;
}

long sc_pdu_encode_bind(const struct sc_bind *b, uint8_t *out, size_t outsz)
{
    if (!b || !out || !is_bind(b->cmd_id) || b->seq == 0)
        return SC_EINVAL;
    long il = field_len(b->system_id, sizeof b->system_id);
    long pl = field_len(b->password, sizeof b->password);
    long tl = field_len(b->system_type, sizeof b->system_type);
    long al = field_len(b->address_range, sizeof b->address_range);
    if (il < 0 || pl < 0 || tl < 0 || al < 0 || !ton_ok(b->addr_ton) || !npi_ok(b->addr_npi) ||
        (b->interface_version != SC_SMPP_VERSION_34 && b->cmd_id != SC_CMD_BIND_RECEIVER))
        return SC_EINVAL;
    size_t len = SC_PDU_HEADER_LEN + (size_t)(il + pl + tl + al) + 4 + 3;
    if (outsz < len + 1)
        return SC_ETOOBIG;
    int room = outsz > INT_MAX ? INT_MAX : (int)outsz;
    union {
        bind_transmitter_t tx;
        bind_receiver_t rx;
        bind_transceiver_t trx;
    } u;
    int plen = 0, r;
#define FILL_BIND(t, cmd)                                                    \
    do {                                                                     \
        memset((t), 0, sizeof *(t));                                         \
        (t)->command_id = (cmd);                                             \
        (t)->sequence_number = b->seq;                                       \
        memcpy((t)->system_id, b->system_id, (size_t)il + 1);                \
        memcpy((t)->password, b->password, (size_t)pl + 1);                  \
        memcpy((t)->system_type, b->system_type, (size_t)tl + 1);            \
        (t)->interface_version = b->interface_version;                      \
        (t)->addr_ton = b->addr_ton;                                         \
        (t)->addr_npi = b->addr_npi;                                         \
        memcpy((t)->address_range, b->address_range, (size_t)al + 1);        \
    } while (0)
    switch (b->cmd_id) {
    case SC_CMD_BIND_TRANSMITTER:
        FILL_BIND(&u.tx, BIND_TRANSMITTER);
        r = smpp34_pack(BIND_TRANSMITTER, out, room, &plen, &u.tx);
        break;
    case SC_CMD_BIND_RECEIVER:
        FILL_BIND(&u.rx, BIND_RECEIVER);
        r = smpp34_pack(BIND_RECEIVER, out, room, &plen, &u.rx);
        break;
    default:
        FILL_BIND(&u.trx, BIND_TRANSCEIVER);
        r = smpp34_pack(BIND_TRANSCEIVER, out, room, &plen, &u.trx);
        break;
    }
#undef FILL_BIND
    if (r != 0 || (size_t)plen != len)
        return SC_EPROTO;
    return plen;
}

int sc_pdu_decode_bind(const uint8_t *pdu, size_t len, struct sc_bind *out, uint32_t *status,
                       char *err, size_t errsz)
{
    uint32_t dummy;
    struct walk w;
    struct sc_pdu_hdr h;
    int rc = walk_begin(&w, pdu, len, out, status ? status : &dummy, err, errsz, &h);
    if (rc)
        return rc;
    if (!is_bind(h.id))
        return fail(&w, SC_ESME_RINVCMDID, "%s is not a bind", sc_pdu_cmd_name(h.id));
    if ((rc = w_bind(&w, &h)) || (rc = w_budget(&w, 0)))   /* ~320 bytes at most */
        return rc;
    union {
        bind_transmitter_t tx;
        bind_receiver_t rx;
        bind_transceiver_t trx;
    } u;
    int r;
#define COPY_BIND(t)                                              \
    do {                                                          \
        COPY_FIELD(out->system_id, (t)->system_id);               \
        COPY_FIELD(out->password, (t)->password);                 \
        COPY_FIELD(out->system_type, (t)->system_type);           \
        out->interface_version = (t)->interface_version;          \
        out->addr_ton = (t)->addr_ton;                            \
        out->addr_npi = (t)->addr_npi;                            \
        COPY_FIELD(out->address_range, (t)->address_range);       \
    } while (0)
    switch (h.id) {
    case SC_CMD_BIND_TRANSMITTER:
        memset(&u.tx, 0, sizeof u.tx);
        if ((r = smpp34_unpack(BIND_TRANSMITTER, &u.tx, pdu, (int)len)) == 0)
            COPY_BIND(&u.tx);
        break;
    case SC_CMD_BIND_RECEIVER:
        memset(&u.rx, 0, sizeof u.rx);
        if ((r = smpp34_unpack(BIND_RECEIVER, &u.rx, pdu, (int)len)) == 0)
            COPY_BIND(&u.rx);
        break;
    default:
        memset(&u.trx, 0, sizeof u.trx);
        if ((r = smpp34_unpack(BIND_TRANSCEIVER, &u.trx, pdu, (int)len)) == 0)
            COPY_BIND(&u.trx);
        break;
    }
#undef COPY_BIND
    if (r != 0)
        return fail(&w, SC_ESME_RSYSERR, "libsmpp34 refused the %s", sc_pdu_cmd_name(h.id));
    out->cmd_id = h.id;
    out->seq = h.seq;
    return 0;
}

/* ---- Delivery receipts -------------------------------------------------- */

/* Copy the value at text[*i] up to the next space (bounded) into dst. */
static void dlr_value(const uint8_t *text, size_t len, size_t *i, char *dst, size_t dstsz)
{
    size_t n = 0;
    while (*i < len && text[*i] != ' ' && text[*i] != '\0') {
        if (n + 1 < dstsz)
            dst[n++] = (char)text[*i];
        (*i)++;
    }
    dst[n] = '\0';
}

static int dlr_key(const uint8_t *text, size_t len, size_t i, const char *key)
{
    size_t kl = strlen(key);
    return len - i >= kl && strncasecmp((const char *)text + i, key, kl) == 0;
}

int sc_dlr_parse(const uint8_t *text, size_t len, struct sc_dlr *out)
{
    if (!out)
        return SC_EINVAL;
    out->id[0] = out->stat[0] = '\0';
    out->err = -1;
    if (!text)
        return SC_EPROTO;
    int have_id = 0, have_stat = 0;
    size_t i = 0;
    while (i < len) {
        if (text[i] == ' ') {
            i++;
            continue;
        }
        /* At the start of a word. "text:" ends the fields: what follows is
         * the message, which may contain anything. */
        if (dlr_key(text, len, i, "text:"))
            break;
        if (dlr_key(text, len, i, "id:")) {
            i += 3;
            dlr_value(text, len, &i, out->id, sizeof out->id);
            have_id = out->id[0] != '\0';
        } else if (dlr_key(text, len, i, "stat:")) {
            i += 5;
            dlr_value(text, len, &i, out->stat, sizeof out->stat);
            have_stat = out->stat[0] != '\0';
        } else if (dlr_key(text, len, i, "err:")) {
            char v[16];
            i += 4;
            dlr_value(text, len, &i, v, sizeof v);
            if (isdigit((unsigned char)v[0]) && strlen(v) <= 9)
                out->err = atoi(v);
        } else {
            /* sub:, dlvrd:, submit date:, done date:, or noise: skip the word. */
            while (i < len && text[i] != ' ')
                i++;
        }
    }
    return have_id && have_stat ? 0 : SC_EPROTO;
}

static void dlr_date(char *buf, size_t sz, long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof tm);
    snprintf(buf, sz, "%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min);
}

size_t sc_dlr_format(char *out, size_t outsz, const char *id, const char *stat, int err,
                     long submit_time, long done_time)
{
    if (!out || outsz == 0)
        return 0;
    char sd[64], dd[64];
    dlr_date(sd, sizeof sd, submit_time);
    dlr_date(dd, sizeof dd, done_time);
    if (!stat)
        stat = "UNKNOWN";
    if (err < 0)
        err = 0;
    int n = snprintf(out, outsz, "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%.7s err:%03d text:",
                     id ? id : "", strcmp(stat, "DELIVRD") == 0 ? "001" : "000", sd, dd, stat,
                     err % 1000);
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < outsz ? (size_t)n : outsz - 1;
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
            cc = (struct sc_concat){get16(v), v[2], v[3]};
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
