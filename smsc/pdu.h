/* pdu.h -- SMPP 3.4 framing and PDU codec: pure functions over buffers, no I/O.
 *
 * Everything from the network is hostile. sc_pdu_frame() bounds
 * command_length; the decoders walk a body by hand first (C-string sizes,
 * sm_length, TLV lengths and count) so that libsmpp34 never sees input that
 * trips its known memory bugs (its global 2048-byte error buffer overflows
 * when the text it logs per field grows too long: many TLVs, long fields;
 * see docs/libsmpp34.md), then call smpp34_unpack and copy the fields out.
 *
 * libsmpp34 costs ~43,000 instructions per call, so it is used only where it
 * does real work: deliver_sm, data_sm, submit_sm and bind bodies. Header-only
 * PDUs (enquire_link, unbind, generic_nack, their resps) and resps that
 * carry at most a message_id or system_id are built and parsed here by hand.
 *
 * Not thread-safe (libsmpp34 has global state): call from the loop thread. */
#ifndef SC_PDU_H
#define SC_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "base/smpp.h"

#define SC_PDU_HEADER_LEN 16
#define SC_PDU_MAX_TLVS 28           /* first cheap check; see docs/libsmpp34.md */
#define SC_PDU_RESP_MAX (SC_PDU_HEADER_LEN + 66)  /* resp with a message_id */
#define SC_SM_MSG_MAX 1024           /* short_message or message_payload bytes */
#define SC_ADDR_MAX 21               /* incl. NUL */
#define SC_MSGID_MAX 65              /* incl. NUL */

#define SC_SMPP_VERSION_34 0x34      /* interface_version of a bind: SMPP 3.4 */
/* esm_class bits (SMPP 3.4 5.2.12): the UDH indicator, and the message type
 * bits 2-5, non-zero for a delivery receipt or an acknowledgement. */
#define SC_ESM_UDHI 0x40
#define SC_ESM_TYPE_MASK 0x3C

/* Command ids. */
#define SC_CMD_RESP               0x80000000u
#define SC_CMD_GENERIC_NACK       0x80000000u
#define SC_CMD_BIND_RECEIVER      0x00000001u
#define SC_CMD_BIND_TRANSMITTER   0x00000002u
#define SC_CMD_QUERY_SM           0x00000003u
#define SC_CMD_SUBMIT_SM          0x00000004u
#define SC_CMD_DELIVER_SM         0x00000005u
#define SC_CMD_UNBIND             0x00000006u
#define SC_CMD_REPLACE_SM         0x00000007u
#define SC_CMD_CANCEL_SM          0x00000008u
#define SC_CMD_BIND_TRANSCEIVER   0x00000009u
#define SC_CMD_OUTBIND            0x0000000Bu
#define SC_CMD_ENQUIRE_LINK       0x00000015u
#define SC_CMD_SUBMIT_MULTI       0x00000021u
#define SC_CMD_ALERT_NOTIFICATION 0x00000102u
#define SC_CMD_DATA_SM            0x00000103u


/* Names for logs: "deliver_sm". Unknown values give "unknown"; never NULL.
 * Status names and values: base/smpp.h. */
const char *sc_pdu_cmd_name(uint32_t cmd_id);

struct sc_pdu_hdr {
    uint32_t len;      /* command_length */
    uint32_t id;       /* command_id */
    uint32_t status;   /* command_status */
    uint32_t seq;      /* sequence_number */
};

/* Framing: look at the bytes at buf.
 * Returns 0 when fewer than 16 bytes, or fewer than command_length bytes, are
 * available (read more); the PDU's length (>= 16) with *h filled when a whole
 * PDU is there; SC_EPROTO when command_length < 16 or > max_len (*h is still
 * filled: answer generic_nack ESME_RINVCMDLEN, then close, since the stream
 * cannot be resynchronised). */
long sc_pdu_frame(const uint8_t *buf, size_t avail, uint32_t max_len, struct sc_pdu_hdr *h);

/* Write a 16-byte header. Returns 16. */
size_t sc_pdu_put_header(uint8_t *out, uint32_t len, uint32_t id, uint32_t status, uint32_t seq);

/* Patch the sequence_number of an encoded PDU (a queued request sent again
 * takes a new one at each send). pdu holds at least 16 bytes. */
static inline void sc_pdu_set_seq(uint8_t *pdu, uint32_t seq)
{
    pdu[12] = (uint8_t)(seq >> 24);
    pdu[13] = (uint8_t)(seq >> 16);
    pdu[14] = (uint8_t)(seq >> 8);
    pdu[15] = (uint8_t)seq;
}

/* Header-only PDU (enquire_link[_resp], unbind[_resp], generic_nack).
 * out holds at least 16 bytes. Returns 16. */
size_t sc_pdu_build_simple(uint8_t *out, uint32_t id, uint32_t status, uint32_t seq);

/* A resp whose body is one C-string (submit_sm_resp, deliver_sm_resp,
 * data_sm_resp: message_id; bind_*_resp: system_id). The body is omitted
 * when status != 0 for submit_sm_resp/data_sm_resp/bind resps as the spec
 * allows; deliver_sm_resp always carries its (empty) message_id.
 * s may be NULL (empty). out holds SC_PDU_RESP_MAX bytes. Returns length. */
size_t sc_pdu_build_str_resp(uint8_t *out, uint32_t id, uint32_t status, uint32_t seq, const char *s);

/* Parse a resp whose body is one C-string (see above): copies it into s
 * (NUL-terminated, at most ssz-1 bytes). An empty body gives "". Returns 0 or
 * SC_EPROTO (no NUL within the body or string longer than ssz-1). */
int sc_pdu_parse_str_resp(const uint8_t *pdu, size_t len, char *s, size_t ssz);

struct sc_addr {
    uint8_t ton;
    uint8_t npi;
    char addr[SC_ADDR_MAX];
};

/* A short message as carried by deliver_sm, data_sm or submit_sm. */
struct sc_sm {
    uint32_t cmd_id;            /* SC_CMD_DELIVER_SM, SC_CMD_DATA_SM or SC_CMD_SUBMIT_SM */
    uint32_t seq;
    char service_type[6];
    struct sc_addr src, dst;
    uint8_t esm_class;          /* SC_ESM_UDHI, SC_ESM_TYPE_MASK (receipt) bits */
    uint8_t protocol_id;
    uint8_t priority_flag;
    uint8_t registered_delivery;
    uint8_t data_coding;
    uint8_t use_payload;        /* text travels in message_payload TLV (always for data_sm) */
    uint16_t msg_len;           /* bytes in msg (UDH included when UDHI) */
    uint8_t msg[SC_SM_MSG_MAX];
    /* SAR TLVs (0x020C ref, 0x020E total, 0x020F seq). */
    uint8_t has_sar;
    uint16_t sar_ref;
    uint8_t sar_total, sar_seq;
    /* Receipt TLVs (0x001E receipted_message_id, 0x0427 message_state). */
    char receipted_message_id[SC_MSGID_MAX];
    uint8_t has_message_state;
    uint8_t message_state;
};

/* Validate and decode a whole deliver_sm, data_sm or submit_sm PDU (header
 * included). Returns 0, or a negative SC_E* with *status set to the
 * command_status to answer with (ESME_RINVMSGLEN, ESME_RINVOPTPARSTREAM,
 * ESME_RSYSERR, ...) and a short reason in err (never the message text). */
int sc_pdu_decode_sm(const uint8_t *pdu, size_t len, struct sc_sm *out, uint32_t *status,
                     char *err, size_t errsz);

/* Encode sm (cmd_id selects deliver_sm, data_sm or submit_sm) with
 * smpp34_pack into out. Adds SAR TLVs when has_sar, message_payload when
 * use_payload (data_sm always), receipt TLVs when set. Returns the PDU length
 * or a negative SC_E* (SC_ETOOBIG if it does not fit in outsz, or msg_len >
 * 253 without use_payload). */
long sc_pdu_encode_sm(const struct sc_sm *sm, uint8_t *out, size_t outsz);

/* bind_transmitter / bind_receiver / bind_transceiver. */
struct sc_bind {
    uint32_t cmd_id;            /* SC_CMD_BIND_* */
    uint32_t seq;
    char system_id[16];
    char password[9];
    char system_type[13];
    uint8_t interface_version;  /* SC_SMPP_VERSION_34 */
    uint8_t addr_ton, addr_npi;
    char address_range[41];
};

/* Encode a bind with smpp34_pack. Returns length or negative SC_E*. */
long sc_pdu_encode_bind(const struct sc_bind *b, uint8_t *out, size_t outsz);
/* Validate and decode a bind PDU (header included); on error *status holds
 * the status to answer with. */
int sc_pdu_decode_bind(const uint8_t *pdu, size_t len, struct sc_bind *out, uint32_t *status,
                       char *err, size_t errsz);

/* Delivery receipt text: "id:X sub:001 dlvrd:001 submit date:... done
 * date:... stat:DELIVRD err:000 text:...". Fields absent stay empty / -1. */
struct sc_dlr {
    char id[SC_MSGID_MAX];
    char stat[8];
    int err;
};
/* Returns 0 if at least id and stat were found, else SC_EPROTO. */
int sc_dlr_parse(const uint8_t *text, size_t len, struct sc_dlr *out);
/* 1 if s is a message_id usable as a key: 1..SC_MSGID_MAX-1 printable
 * ASCII characters without spaces. */
int sc_msgid_ok(const char *s);
/* Writes a receipt text for id/stat/err into out (NUL-terminated); returns
 * length. Used by smsc-sim. */
size_t sc_dlr_format(char *out, size_t outsz, const char *id, const char *stat, int err,
                     long submit_time, long done_time);

/* Concatenation info from a UDH (IE 0x00: 8-bit ref, IE 0x08: 16-bit ref). */
struct sc_concat {
    uint16_t ref;
    uint8_t total;
    uint8_t seq;
};
/* Parse the UDH at the start of msg (only call when esm_class has UDHI).
 * Sets *hdr_len to the bytes to skip (1 + UDHL). Returns 1 and fills *c when
 * a concatenation IE was found, 0 when the UDH has none, SC_EPROTO when the
 * UDH is malformed (UDHL past the end, an IE past the UDH, total 0, seq 0 or
 * seq > total). */
int sc_udh_parse(const uint8_t *msg, size_t len, size_t *hdr_len, struct sc_concat *c);

#endif
