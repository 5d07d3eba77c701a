/* pdu_guard.c -- the walk every deliver_sm, data_sm, submit_sm and bind body
 * takes before libsmpp34 sees it.
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
 * here and answered with ESME_RSYSERR (pdu_sm.c, pdu_bind.c). */
#include <limits.h>
#include <stdint.h>   /* before libsmpp34's headers, which use it */
#include <stdarg.h>
#include <stdio.h>

#include <smpp34.h>
#include <smpp34_structs.h>

#include "smsc/pdu_int.h"

/* Every PUTLOG in libsmpp34 must start within smpp34_strerror[2048]: the
 * log written before the last one may reach, not pass, its end. */
#define SMPP34_LOG_ROOM sizeof(smpp34_strerror)

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

int sc__pdu_fail(struct sc__pdu_walk *w, uint32_t status, const char *fmt, ...)
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
static void w_log(struct sc__pdu_walk *w, size_t n)
{
    w->log += n;
    w->last = n;
}

/* A C-string of at most max bytes including the NUL (libsmpp34's size for
 * the field). Status toolong when it has no NUL within max bytes. */
static int w_str(struct sc__pdu_walk *w, const char *name, size_t namelen, size_t max,
                 uint32_t toolong, size_t *slen)
{
    size_t rem = w->len - w->off;
    const uint8_t *s = w->p + w->off;
    const uint8_t *nul = memchr(s, 0, SC_MIN(rem, max));
    if (!nul) {
        if (rem < max)
            return sc__pdu_fail(w, SC_ESME_RINVCMDLEN, "body ends inside %s", name);
        return sc__pdu_fail(w, toolong, "%s longer than %zu bytes", name, max - 1);
    }
    size_t n = (size_t)(nul - s);
    w->off += n + 1;
    w_log(w, namelen + 7 + n);
    if (slen)
        *slen = n;
    return 0;
}
#define W_STR(w, name, max, toolong, slen) \
    w_str((w), (name), sizeof(name) - 1, (max), (toolong), (slen))

static int w_u8(struct sc__pdu_walk *w, const char *name, size_t namelen, uint8_t *v)
{
    if (w->off >= w->len)
        return sc__pdu_fail(w, SC_ESME_RINVCMDLEN, "body ends before %s", name);
    uint8_t b = w->p[w->off++];
    if (v)
        *v = b;
    w_log(w, namelen + 9);
    return 0;
}
#define W_U8(w, name, v) w_u8((w), (name), sizeof(name) - 1, (v))

/* ton, npi, address: as in deliver_sm, data_sm and submit_sm. The address is
 * bounded by our SC_ADDR_MAX (libsmpp34 allows 65 for data_sm's
 * destination_addr; ours holds 21). */
static int w_addr(struct sc__pdu_walk *w, int src, size_t *alen)
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
    if (!sc__pdu_ton_ok(ton))
        return sc__pdu_fail(w, bad, "%s TON %u refused by libsmpp34", src ? "source" : "dest", ton);
    if (!sc__pdu_npi_ok(npi))
        return sc__pdu_fail(w, bad, "%s NPI %u refused by libsmpp34", src ? "source" : "dest", npi);
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

static int w_tlvs(struct sc__pdu_walk *w, const struct tlv_rule *rules,
                  struct sc__pdu_seen *seen)
{
    memset(seen, 0, sizeof *seen);
    while (w->off < w->len) {
        if (w->len - w->off < 4)
            return sc__pdu_fail(w, SC_ESME_RINVOPTPARSTREAM, "%zu trailing bytes",
                                w->len - w->off);
        uint16_t tag = sc__get16(w->p + w->off), tl = sc__get16(w->p + w->off + 2);
        w->off += 4;
        if (tl > w->len - w->off)
            return sc__pdu_fail(w, SC_ESME_RINVOPTPARSTREAM, "TLV 0x%04X length %u past the end",
                                tag, tl);
        if (++seen->n > SC_PDU_MAX_TLVS)
            return sc__pdu_fail(w, SC_ESME_RINVOPTPARSTREAM, "more than %d TLVs",
                                SC_PDU_MAX_TLVS);
        struct tlv_rule r = tlv_rule(rules, tag);
        if (r.fixed) {
            if (tl != r.fixed)
                return sc__pdu_fail(w, SC_ESME_RINVPARLEN, "TLV 0x%04X length %u, must be %u", tag,
                                    tl, r.fixed);
            w->log += LOG_U16("tag") + LOG_U16("length");
            w_log(w, r.fixed == 1 ? LOG_U08("value.val08")
                     : r.fixed == 2 ? LOG_U16("value.val16") : LOG_U32("value.val32"));
        } else {
            if (tl > r.max)
                return sc__pdu_fail(w, SC_ESME_RINVPARLEN, "TLV 0x%04X length %u over %u", tag, tl,
                                    r.max);
            w->log += LOG_U16("tag") + LOG_U16("length");
            w_log(w, LOG_BIN("value.octet"));
        }
        const uint8_t *v = w->p + w->off;
        unsigned bit = 0;
        switch (tag) {
        case SC__TAG_SAR_REF:
            bit = SC__SEEN_REF;
            seen->sar_ref = sc__get16(v);
            break;
        case SC__TAG_SAR_TOTAL:
            bit = SC__SEEN_TOTAL;
            seen->sar_total = v[0];
            break;
        case SC__TAG_SAR_SEQ:
            bit = SC__SEEN_SEQ;
            seen->sar_seq = v[0];
            break;
        case SC__TAG_MESSAGE_PAYLOAD:
            bit = SC__SEEN_PAYLOAD;
            if (tl > SC_SM_MSG_MAX)
                return sc__pdu_fail(w, SC_ESME_RINVPARLEN, "message_payload of %u bytes", tl);
            seen->payload_len = tl;
            break;
        case SC__TAG_RECEIPTED_MSG_ID:
            bit = SC__SEEN_RCPT;
            if (tl > SC_MSGID_MAX)
                return sc__pdu_fail(w, SC_ESME_RINVPARLEN, "receipted_message_id of %u bytes", tl);
            break;
        case SC__TAG_MESSAGE_STATE:
            bit = SC__SEEN_STATE;
            if (tl != 1)
                return sc__pdu_fail(w, SC_ESME_RINVPARLEN, "message_state length %u", tl);
            break;
        default:
            break;
        }
        if (seen->mask & bit)
            return sc__pdu_fail(w, SC_ESME_RINVOPTPARSTREAM, "TLV 0x%04X twice", tag);
        seen->mask |= bit;
        w->off += tl;
    }
    unsigned sar = seen->mask & (SC__SEEN_REF | SC__SEEN_TOTAL | SC__SEEN_SEQ);
    if (sar && sar != (SC__SEEN_REF | SC__SEEN_TOTAL | SC__SEEN_SEQ))
        return sc__pdu_fail(w, SC_ESME_RMISSINGOPTPARAM, "incomplete SAR TLVs");
    if (sar && (seen->sar_total == 0 || seen->sar_seq == 0 || seen->sar_seq > seen->sar_total))
        return sc__pdu_fail(w, SC_ESME_RINVOPTPARAMVAL, "SAR segment %u of %u", seen->sar_seq,
                            seen->sar_total);
    return 0;
}

/* The 16-byte header of a request PDU as libsmpp34 will accept it. */
static int w_header(struct sc__pdu_walk *w, struct sc_pdu_hdr *h)
{
    if (w->len < SC_PDU_HEADER_LEN)
        return sc__pdu_fail(w, SC_ESME_RINVCMDLEN, "PDU of %zu bytes", w->len);
    if (w->len > INT_MAX)
        return sc__pdu_fail(w, SC_ESME_RINVCMDLEN, "PDU of %zu bytes", w->len);
    h->len = sc__get32(w->p);
    h->id = sc__get32(w->p + 4);
    h->status = sc__get32(w->p + 8);
    h->seq = sc__get32(w->p + 12);
    if (h->len != w->len)
        return sc__pdu_fail(w, SC_ESME_RINVCMDLEN, "command_length %u, PDU of %zu bytes", h->len,
                            w->len);
    /* Both are refused by libsmpp34 (unknown status values, sequence 0);
     * a request carries status 0 anyway. */
    if (h->status != 0)
        return sc__pdu_fail(w, SC_ESME_RSYSERR, "command_status 0x%08X in a request", h->status);
    if (h->seq == 0)
        return sc__pdu_fail(w, SC_ESME_RSYSERR, "sequence_number 0");
    w->off = SC_PDU_HEADER_LEN;
    w->log = LOG_HEADER;
    w->last = LOG_U32("sequence_number");
    return 0;
}

/* Walk a deliver_sm, data_sm or submit_sm body. */
static int w_sm(struct sc__pdu_walk *w, uint32_t id, struct sc__pdu_seen *seen)
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
        (rc = W_U8(w, "registered_delivery", NULL)) ||
        (rc = W_U8(w, "replace_if_present_flag", NULL)) ||
        (rc = W_U8(w, "data_coding", NULL)) || (rc = W_U8(w, "sm_default_msg_id", NULL)) ||
        (rc = W_U8(w, "sm_length", &sm_length)))
        return rc;
    if (sm_length > 254)
        return sc__pdu_fail(w, SC_ESME_RINVMSGLEN, "sm_length %u", sm_length);
    if (sm_length > w->len - w->off)
        return sc__pdu_fail(w, SC_ESME_RINVMSGLEN, "sm_length %u past the end", sm_length);
    w->off += sm_length;
    w_log(w, LOG_BIN("short_message"));
    if ((rc = w_tlvs(w, id == SC_CMD_DELIVER_SM ? deliver_sm_tlvs : submit_sm_tlvs, seen)))
        return rc;
    if ((seen->mask & SC__SEEN_PAYLOAD) && sm_length)
        return sc__pdu_fail(w, SC_ESME_ROPTPARNOTALLWD, "both short_message and message_payload");
    return 0;
}

/* Refuse a PDU whose unpack would overflow smpp34_strerror. */
static int w_budget(struct sc__pdu_walk *w, unsigned ntlv)
{
    if (w->log - w->last > SMPP34_LOG_ROOM)
        return sc__pdu_fail(w, SC_ESME_RINVOPTPARSTREAM,
                            "%u TLVs would overflow libsmpp34's log buffer", ntlv);
    return 0;
}

static int w_bind(struct sc__pdu_walk *w, struct sc_pdu_hdr *h)
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
        return sc__pdu_fail(w, SC_ESME_RBINDFAIL, "interface_version 0x%02X", iv);
    if (!sc__pdu_ton_ok(ton) || !sc__pdu_npi_ok(npi))
        return sc__pdu_fail(w, SC_ESME_RBINDFAIL, "addr_ton %u addr_npi %u", ton, npi);
    if (w->off != w->len)
        return sc__pdu_fail(w, SC_ESME_RINVCMDLEN, "%zu trailing bytes", w->len - w->off);
    return 0;
}

/* ---- The decoders' first step ------------------------------------------ */

int sc__pdu_guard_sm(struct sc__pdu_walk *w, struct sc_pdu_hdr *h, struct sc__pdu_seen *seen)
{
    int rc = w_header(w, h);
    if (rc)
        return rc;
    if (!sc__pdu_is_sm(h->id))
        return sc__pdu_fail(w, SC_ESME_RINVCMDID, "%s is not a short message",
                            sc_pdu_cmd_name(h->id));
    if ((rc = w_sm(w, h->id, seen)) || (rc = w_budget(w, seen->n)))
        return rc;
    return 0;
}

int sc__pdu_guard_bind(struct sc__pdu_walk *w, struct sc_pdu_hdr *h)
{
    int rc = w_header(w, h);
    if (rc)
        return rc;
    if (!sc__pdu_is_bind(h->id))
        return sc__pdu_fail(w, SC_ESME_RINVCMDID, "%s is not a bind", sc_pdu_cmd_name(h->id));
    if ((rc = w_bind(w, h)) || (rc = w_budget(w, 0)))   /* ~320 bytes at most */
        return rc;
    return 0;
}

size_t sc__pdu_smpp34_log_len(const uint8_t *pdu, size_t len)
{
    uint32_t status;
    struct sc__pdu_walk w = {.p = pdu, .len = len, .status = &status};
    struct sc_pdu_hdr h;
    struct sc__pdu_seen seen = {0, 0, 0, 0, 0, 0};
    if (w_header(&w, &h))
        return 0;
    if (sc__pdu_is_bind(h.id))
        return w_bind(&w, &h) || w_budget(&w, 0) ? 0 : w.log;
    if (sc__pdu_is_sm(h.id))
        return w_sm(&w, h.id, &seen) || w_budget(&w, seen.n) ? 0 : w.log;
    return 0;
}
