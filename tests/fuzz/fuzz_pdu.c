/* fuzz_pdu.c -- libFuzzer target: SMPP framing and the PDU codec wrapper.
 *
 * The input is a byte stream as read from the SMSC socket: sc_pdu_frame()
 * cuts it into PDUs, and every whole PDU (copied to an exactly sized heap
 * buffer, so that ASan sees any read past it) goes through every decoder,
 * whatever its command_id says. A deliver_sm/data_sm/submit_sm that decodes
 * is encoded again and decoded a second time: the key fields must survive. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/pdu.h"
#include "tests/fuzz/fuzz.h"

#define MAX_PDU 4096   /* smpp.max_pdu_len default */

static void check_str(const char *s, size_t sz)
{
    FUZZ_CHECK(memchr(s, '\0', sz) != NULL);
}

static void same_sm(const struct sc_sm *a, const struct sc_sm *b)
{
    FUZZ_CHECK(a->cmd_id == b->cmd_id);
    FUZZ_CHECK(a->seq == b->seq);
    FUZZ_CHECK(strcmp(a->service_type, b->service_type) == 0);
    FUZZ_CHECK(a->src.ton == b->src.ton && a->src.npi == b->src.npi);
    FUZZ_CHECK(strcmp(a->src.addr, b->src.addr) == 0);
    FUZZ_CHECK(a->dst.ton == b->dst.ton && a->dst.npi == b->dst.npi);
    FUZZ_CHECK(strcmp(a->dst.addr, b->dst.addr) == 0);
    FUZZ_CHECK(a->esm_class == b->esm_class);
    FUZZ_CHECK(a->protocol_id == b->protocol_id);
    FUZZ_CHECK(a->priority_flag == b->priority_flag);
    FUZZ_CHECK(a->registered_delivery == b->registered_delivery);
    FUZZ_CHECK(a->data_coding == b->data_coding);
    FUZZ_CHECK(a->use_payload == b->use_payload);
    FUZZ_CHECK(a->msg_len == b->msg_len);
    FUZZ_CHECK(memcmp(a->msg, b->msg, a->msg_len) == 0);
    FUZZ_CHECK(a->has_sar == b->has_sar);
    if (a->has_sar) {
        FUZZ_CHECK(a->sar_ref == b->sar_ref);
        FUZZ_CHECK(a->sar_total == b->sar_total);
        FUZZ_CHECK(a->sar_seq == b->sar_seq);
    }
    FUZZ_CHECK(strcmp(a->receipted_message_id, b->receipted_message_id) == 0);
    FUZZ_CHECK(a->has_message_state == b->has_message_state);
    if (a->has_message_state)
        FUZZ_CHECK(a->message_state == b->message_state);
}

static void text_parsers(const uint8_t *msg, size_t len)
{
    size_t hdr = 0xDEAD;
    struct sc_concat c;
    int rc = sc_udh_parse(msg, len, &hdr, &c);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == SC_EPROTO);
    if (rc >= 0)
        FUZZ_CHECK(hdr >= 1 && hdr <= len);
    if (rc == 1)
        FUZZ_CHECK(c.total >= 1 && c.seq >= 1 && c.seq <= c.total);

    struct sc_dlr d;
    rc = sc_dlr_parse(msg, len, &d);
    FUZZ_CHECK(rc == 0 || rc == SC_EPROTO);
    if (rc == 0) {
        check_str(d.id, sizeof d.id);
        check_str(d.stat, sizeof d.stat);
    }
}

static void one_pdu(const uint8_t *pdu, size_t len, const struct sc_pdu_hdr *h)
{
    uint32_t status;
    char err[128];

    static struct sc_sm sm, sm2;   /* ~1.1 KB each: keep them off the stack */
    memset(&sm, 0, sizeof sm);
    status = 0xFFFFFFFFu;
    err[0] = '\0';
    int rc = sc_pdu_decode_sm(pdu, len, &sm, &status, err, sizeof err);
    if (rc == 0) {
        FUZZ_CHECK(sm.cmd_id == h->id);
        FUZZ_CHECK(sm.seq == h->seq);
        FUZZ_CHECK(sm.msg_len <= SC_SM_MSG_MAX);
        check_str(sm.service_type, sizeof sm.service_type);
        check_str(sm.src.addr, sizeof sm.src.addr);
        check_str(sm.dst.addr, sizeof sm.dst.addr);
        check_str(sm.receipted_message_id, sizeof sm.receipted_message_id);
        text_parsers(sm.msg, sm.msg_len);

        /* Round trip. encode may refuse what decode accepted (e.g. a
         * 254-byte short_message), never the other way round. */
        static uint8_t enc[MAX_PDU + SC_SM_MSG_MAX];
        long n = sc_pdu_encode_sm(&sm, enc, sizeof enc);
        if (n > 0) {
            FUZZ_CHECK((size_t)n <= sizeof enc);
            uint8_t *copy = malloc((size_t)n);
            FUZZ_CHECK(copy != NULL);
            memcpy(copy, enc, (size_t)n);
            memset(&sm2, 0, sizeof sm2);
            rc = sc_pdu_decode_sm(copy, (size_t)n, &sm2, &status, err, sizeof err);
            if (rc != 0)
                fprintf(stderr, "re-decode failed: %s (status 0x%x)\n", err, status);
            FUZZ_CHECK(rc == 0);
            same_sm(&sm, &sm2);
            free(copy);
        } else {
            FUZZ_CHECK(n == SC_ETOOBIG || n == SC_EINVAL);
        }
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(status != SC_ESME_ROK && status != 0xFFFFFFFFu);
        check_str(err, sizeof err);
    }

    struct sc_bind b;
    memset(&b, 0, sizeof b);
    status = 0xFFFFFFFFu;
    rc = sc_pdu_decode_bind(pdu, len, &b, &status, err, sizeof err);
    if (rc == 0) {
        FUZZ_CHECK(b.cmd_id == h->id && b.seq == h->seq);
        check_str(b.system_id, sizeof b.system_id);
        check_str(b.password, sizeof b.password);
        check_str(b.system_type, sizeof b.system_type);
        check_str(b.address_range, sizeof b.address_range);
        uint8_t enc[512];
        long n = sc_pdu_encode_bind(&b, enc, sizeof enc);
        if (n > 0) {
            struct sc_bind b2;
            memset(&b2, 0, sizeof b2);
            FUZZ_CHECK(sc_pdu_decode_bind(enc, (size_t)n, &b2, &status, err, sizeof err) == 0);
            FUZZ_CHECK(b2.cmd_id == b.cmd_id && b2.seq == b.seq);
            FUZZ_CHECK(strcmp(b2.system_id, b.system_id) == 0);
            FUZZ_CHECK(strcmp(b2.password, b.password) == 0);
            FUZZ_CHECK(strcmp(b2.system_type, b.system_type) == 0);
            FUZZ_CHECK(b2.interface_version == b.interface_version);
            FUZZ_CHECK(b2.addr_ton == b.addr_ton && b2.addr_npi == b.addr_npi);
            FUZZ_CHECK(strcmp(b2.address_range, b.address_range) == 0);
        }
    } else {
        FUZZ_CHECK(rc < 0 && status != SC_ESME_ROK);
        check_str(err, sizeof err);
    }

    /* Small and large destinations. */
    char s[SC_MSGID_MAX], tiny[4];
    if (sc_pdu_parse_str_resp(pdu, len, s, sizeof s) == 0)
        FUZZ_CHECK(strlen(s) < sizeof s);
    if (sc_pdu_parse_str_resp(pdu, len, tiny, sizeof tiny) == 0)
        FUZZ_CHECK(strlen(tiny) < sizeof tiny);

    /* The body as if it were message text. */
    text_parsers(pdu + SC_PDU_HEADER_LEN, len - SC_PDU_HEADER_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct sc_pdu_hdr h;
        long n = sc_pdu_frame(data + off, size - off, MAX_PDU, &h);
        if (n == 0) {
            /* Incomplete: only legitimate with < 16 bytes or a PDU longer
             * than what is there. */
            FUZZ_CHECK(size - off < SC_PDU_HEADER_LEN || h.len > size - off);
            break;
        }
        if (n < 0) {
            FUZZ_CHECK(n == SC_EPROTO);
            FUZZ_CHECK(h.len < SC_PDU_HEADER_LEN || h.len > MAX_PDU);
            break;   /* the stream cannot be resynchronised */
        }
        FUZZ_CHECK(n >= SC_PDU_HEADER_LEN && (size_t)n <= size - off && h.len == (uint32_t)n);
        uint8_t *pdu = malloc((size_t)n);
        FUZZ_CHECK(pdu != NULL);
        memcpy(pdu, data + off, (size_t)n);
        one_pdu(pdu, (size_t)n, &h);
        free(pdu);
        off += (size_t)n;
    }
    return 0;
}
