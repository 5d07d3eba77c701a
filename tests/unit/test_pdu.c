/* test_pdu.c -- unit tests for the PDU codec (smsc/pdu.c, pdu_guard.c, pdu_sm.c,
 * pdu_bind.c, dlr.c): framing, hand-built PDUs, the libsmpp34 guard, DLR, UDH.
 * Long by design: one test file per module under test (the codec), its
 * cases kept beside the tables they check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "base/sc.h"
#include "smsc/pdu.h"
#include "smsc/pdu_int.h"   /* sc__pdu_smpp34_log_len, the guard's test hook */

/* After an unpack: libsmpp34 logged exactly what the guard predicted (its
 * buffer keeps the first 2047 bytes). */
static void assert_log_predicted(const uint8_t *pdu, size_t len)
{
    size_t want = sc__pdu_smpp34_log_len(pdu, len);
    assert_true(want > 0);
    if (want > sizeof smpp34_strerror - 1)
        want = sizeof smpp34_strerror - 1;
    assert_int_equal(strlen(smpp34_strerror), want);
}

/* ---- A small PDU builder ------------------------------------------------- */

struct pb {
    uint8_t b[8192];
    size_t n;
};

static void pb_u8(struct pb *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static void pb_u16(struct pb *p, unsigned v) { pb_u8(p, v >> 8); pb_u8(p, v & 0xff); }
static void pb_u32(struct pb *p, uint32_t v) { pb_u16(p, v >> 16); pb_u16(p, v & 0xffff); }
static void pb_raw(struct pb *p, const void *v, size_t n) { memcpy(p->b + p->n, v, n); p->n += n; }
static void pb_cstr(struct pb *p, const char *s) { pb_raw(p, s, strlen(s) + 1); }

static void pb_tlv(struct pb *p, unsigned tag, unsigned len, const void *v)
{
    pb_u16(p, tag);
    pb_u16(p, len);
    for (unsigned i = 0; i < len; i++)
        pb_u8(p, v ? ((const uint8_t *)v)[i] : 'x');
}

static void pb_hdr(struct pb *p, uint32_t id, uint32_t status, uint32_t seq)
{
    p->n = 0;
    pb_u32(p, 0);
    pb_u32(p, id);
    pb_u32(p, status);
    pb_u32(p, seq);
}

static void pb_fix(struct pb *p)
{
    p->b[0] = (uint8_t)(p->n >> 24);
    p->b[1] = (uint8_t)(p->n >> 16);
    p->b[2] = (uint8_t)(p->n >> 8);
    p->b[3] = (uint8_t)p->n;
}

/* deliver_sm (or submit_sm) header and fixed body up to and including the
 * short message. */
static void pb_sm(struct pb *p, uint32_t id, const char *src, const char *dst, const char *sched,
                  const char *valid, const char *msg, unsigned smlen)
{
    pb_hdr(p, id, 0, 7);
    pb_cstr(p, "");
    pb_u8(p, 1);
    pb_u8(p, 1);
    pb_cstr(p, src);
    pb_u8(p, 0);
    pb_u8(p, 0);
    pb_cstr(p, dst);
    pb_u8(p, 0);    /* esm_class */
    pb_u8(p, 0);    /* protocol_id */
    pb_u8(p, 0);    /* priority_flag */
    pb_cstr(p, sched);
    pb_cstr(p, valid);
    pb_u8(p, 0);    /* registered_delivery */
    pb_u8(p, 0);    /* replace_if_present_flag */
    pb_u8(p, 8);    /* data_coding */
    pb_u8(p, 0);    /* sm_default_msg_id */
    pb_u8(p, smlen);
    for (unsigned i = 0; i < smlen && msg; i++)
        pb_u8(p, (uint8_t)msg[i % strlen(msg)]);
}

static void pb_deliver(struct pb *p, const char *msg)
{
    pb_sm(p, SC_CMD_DELIVER_SM, "8613800138000", "10086", "", "", msg, (unsigned)strlen(msg));
}

static void pb_data_sm(struct pb *p, const char *src, const char *dst)
{
    pb_hdr(p, SC_CMD_DATA_SM, 0, 9);
    pb_cstr(p, "");
    pb_u8(p, 1);
    pb_u8(p, 1);
    pb_cstr(p, src);
    pb_u8(p, 0);
    pb_u8(p, 0);
    pb_cstr(p, dst);
    pb_u8(p, 0);
    pb_u8(p, 0);
    pb_u8(p, 8);
}

/* Decode from an exactly-sized heap copy (so ASan sees any over-read).
 * *unpacked tells whether smpp34_unpack ran: it clears smpp34_strerror. */
static int decode(const struct pb *p, struct sc_sm *sm, uint32_t *st, int *unpacked)
{
    uint8_t *copy = malloc(p->n ? p->n : 1);
    assert_non_null(copy);
    memcpy(copy, p->b, p->n);
    memset(smpp34_strerror, 'M', sizeof smpp34_strerror - 1);
    smpp34_strerror[sizeof smpp34_strerror - 1] = '\0';
    char err[128];
    int rc = sc_pdu_decode_sm(copy, p->n, sm, st, err, sizeof err);
    if (unpacked)
        *unpacked = smpp34_strerror[0] != 'M';
    if (rc)
        assert_true(err[0] != '\0');
    free(copy);
    return rc;
}

/* ---- Framing ---------------------------------------------------------------- */

static size_t sample_stream(uint8_t *buf)
{
    struct sc_sm sm;
    memset(&sm, 0, sizeof sm);
    sm.cmd_id = SC_CMD_DELIVER_SM;
    sm.seq = 42;
    strcpy(sm.src.addr, "13800138000");
    strcpy(sm.dst.addr, "10086");
    memcpy(sm.msg, "0000", 4);
    sm.msg_len = 4;
    size_t n = sc_pdu_build_simple(buf, SC_CMD_ENQUIRE_LINK, 0, 41);
    long l = sc_pdu_encode_sm(&sm, buf + n, 512);
    assert_true(l > 0);
    n += (size_t)l;
    n += sc_pdu_build_str_resp(buf + n, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0, 43, "msgid-1");
    return n;
}

/* Feed the stream in two reads split at every point; a reader that frames
 * after each read must see the same three PDUs. */
static void test_frame_split(void **state)
{
    (void)state;
    uint8_t stream[1024];
    size_t total = sample_stream(stream);
    static const uint32_t want_ids[] = {SC_CMD_ENQUIRE_LINK, SC_CMD_DELIVER_SM,
                                        SC_CMD_SUBMIT_SM | SC_CMD_RESP};
    static const uint32_t want_seq[] = {41, 42, 43};
    for (size_t split = 0; split <= total; split++) {
        uint8_t buf[1024];
        size_t have = 0, start = 0, got = 0;
        for (int read = 0; read < 2; read++) {
            size_t from = read ? split : 0, to = read ? total : split;
            memcpy(buf + have, stream + from, to - from);
            have += to - from;
            for (;;) {
                struct sc_pdu_hdr h;
                long l = sc_pdu_frame(buf + start, have - start, 4096, &h);
                assert_true(l >= 0);
                if (l == 0)
                    break;
                assert_true(got < 3);
                assert_int_equal(h.id, want_ids[got]);
                assert_int_equal(h.seq, want_seq[got]);
                assert_int_equal(h.len, (uint32_t)l);
                start += (size_t)l;
                got++;
            }
        }
        assert_int_equal(got, 3);
        assert_int_equal(start, total);
    }
}

static void test_frame_bounds(void **state)
{
    (void)state;
    uint8_t b[64];
    struct sc_pdu_hdr h;
    memset(b, 0, sizeof b);
    /* Fewer than 16 bytes: wait, whatever they say. */
    for (size_t n = 0; n < 16; n++)
        assert_int_equal(sc_pdu_frame(b, n, 64, &h), 0);
    /* command_length < 16: refused, header still filled. */
    for (uint32_t l = 0; l < 16; l++) {
        sc_pdu_put_header(b, l, SC_CMD_DELIVER_SM, 0, 5);
        assert_int_equal(sc_pdu_frame(b, 16, 64, &h), SC_EPROTO);
        assert_int_equal(h.len, l);
        assert_int_equal(h.seq, 5);
        assert_int_equal(h.id, SC_CMD_DELIVER_SM);
    }
    /* Over max: refused as soon as the header is there. */
    sc_pdu_put_header(b, 65, SC_CMD_DATA_SM, 0, 6);
    assert_int_equal(sc_pdu_frame(b, 16, 64, &h), SC_EPROTO);
    assert_int_equal(h.seq, 6);
    sc_pdu_put_header(b, 0xFFFFFFFFu, SC_CMD_DATA_SM, 0, 6);
    assert_int_equal(sc_pdu_frame(b, 16, 64, &h), SC_EPROTO);
    /* Exactly max: wait until all bytes are in. */
    sc_pdu_put_header(b, 64, SC_CMD_DATA_SM, 0, 7);
    assert_int_equal(sc_pdu_frame(b, 63, 64, &h), 0);
    assert_int_equal(sc_pdu_frame(b, 64, 64, &h), 64);
    /* Exactly 16. */
    sc_pdu_build_simple(b, SC_CMD_UNBIND, 0, 8);
    assert_int_equal(sc_pdu_frame(b, 64, 64, &h), 16);
    assert_int_equal(h.id, SC_CMD_UNBIND);
}

/* ---- Hand-built PDUs -------------------------------------------------------- */

static void test_simple_bytes(void **state)
{
    (void)state;
    uint8_t b[16];
    static const uint8_t want[16] = {0, 0, 0, 16, 0x80, 0, 0, 0x15, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
    assert_int_equal(sc_pdu_build_simple(b, SC_CMD_ENQUIRE_LINK | SC_CMD_RESP, 0, 0x12345678), 16);
    assert_memory_equal(b, want, 16);
    static const uint8_t nack[16] = {0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 9};
    assert_int_equal(sc_pdu_build_simple(b, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDLEN, 9), 16);
    assert_memory_equal(b, nack, 16);
}

static void test_str_resp_bytes(void **state)
{
    (void)state;
    uint8_t b[SC_PDU_RESP_MAX];
    static const uint8_t sub[] = {0, 0, 0, 20, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c', 0};
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0, 3, "abc"), 20);
    assert_memory_equal(b, sub, sizeof sub);
    /* deliver_sm_resp always carries an empty message_id. */
    static const uint8_t dlv[] = {0, 0, 0, 17, 0x80, 0, 0, 5, 0, 0, 0, 0x64, 0, 0, 0, 4, 0};
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_DELIVER_SM | SC_CMD_RESP, 0x64, 4, NULL), 17);
    assert_memory_equal(b, dlv, sizeof dlv);
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_DELIVER_SM | SC_CMD_RESP, 0, 4, "ignored"), 17);
    /* Error resps without body. */
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0x45, 5, "x"), 16);
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_DATA_SM | SC_CMD_RESP, 0x64, 5, "x"), 16);
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_BIND_TRANSCEIVER | SC_CMD_RESP, 0x0E, 5, "x"), 16);
    /* Bounded: system_id 15, message_id 64 characters. */
    char longs[200];
    memset(longs, 'z', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_BIND_TRANSMITTER | SC_CMD_RESP, 0, 1, longs), 16 + 16);
    assert_int_equal(sc_pdu_build_str_resp(b, SC_CMD_DATA_SM | SC_CMD_RESP, 0, 1, longs), 16 + 65);
    assert_true(16 + 65 <= SC_PDU_RESP_MAX);

    /* libsmpp34 accepts what we build. */
    size_t n = sc_pdu_build_str_resp(b, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0, 3, "0123456789abcdef");
    submit_sm_resp_t sr;
    memset(&sr, 0, sizeof sr);
    assert_int_equal(smpp34_unpack(SUBMIT_SM_RESP, &sr, b, (int)n), 0);
    assert_string_equal((char *)sr.message_id, "0123456789abcdef");
    n = sc_pdu_build_str_resp(b, SC_CMD_DELIVER_SM | SC_CMD_RESP, 0, 3, NULL);
    deliver_sm_resp_t dr;
    memset(&dr, 0, sizeof dr);
    assert_int_equal(smpp34_unpack(DELIVER_SM_RESP, &dr, b, (int)n), 0);
}

static void test_parse_str_resp(void **state)
{
    (void)state;
    uint8_t b[128];
    char s[65];
    size_t n = sc_pdu_build_str_resp(b, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0, 3, "id-77");
    assert_int_equal(sc_pdu_parse_str_resp(b, n, s, sizeof s), 0);
    assert_string_equal(s, "id-77");
    /* Empty body. */
    n = sc_pdu_build_simple(b, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0x45, 3);
    assert_int_equal(sc_pdu_parse_str_resp(b, n, s, sizeof s), 0);
    assert_string_equal(s, "");
    /* No NUL in the body. */
    sc_pdu_put_header(b, 19, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0, 3);
    memcpy(b + 16, "abc", 3);
    assert_int_equal(sc_pdu_parse_str_resp(b, 19, s, sizeof s), SC_EPROTO);
    /* Longer than the destination. */
    n = sc_pdu_build_str_resp(b, SC_CMD_SUBMIT_SM | SC_CMD_RESP, 0, 3, "abcdef");
    assert_int_equal(sc_pdu_parse_str_resp(b, n, s, 6), SC_EPROTO);
    assert_int_equal(sc_pdu_parse_str_resp(b, n, s, 7), 0);
    /* bind_resp with a trailing sc_interface_version TLV. */
    struct pb p;
    pb_hdr(&p, SC_CMD_BIND_TRANSCEIVER | SC_CMD_RESP, 0, 1);
    pb_cstr(&p, "SMSC");
    pb_tlv(&p, 0x0210, 1, "\x34");
    pb_fix(&p);
    assert_int_equal(sc_pdu_parse_str_resp(p.b, p.n, s, 16), 0);
    assert_string_equal(s, "SMSC");
    /* Length disagreeing with the header, or shorter than a header. */
    assert_int_equal(sc_pdu_parse_str_resp(p.b, p.n - 1, s, 16), SC_EPROTO);
    assert_int_equal(sc_pdu_parse_str_resp(p.b, 10, s, 16), SC_EPROTO);
}

/* ---- Short messages: round trips ------------------------------------------ */

static void sm_init(struct sc_sm *sm, uint32_t id, const char *text)
{
    memset(sm, 0, sizeof *sm);
    sm->cmd_id = id;
    sm->seq = 1234;
    strcpy(sm->service_type, "CMT");
    sm->src.ton = 1;
    sm->src.npi = 1;
    strcpy(sm->src.addr, "8613800138000");
    sm->dst.ton = 0;
    sm->dst.npi = 0;
    strcpy(sm->dst.addr, "10086");
    sm->data_coding = 8;
    sm->msg_len = (uint16_t)strlen(text);
    memcpy(sm->msg, text, sm->msg_len);
}

static void roundtrip(const struct sc_sm *in, struct sc_sm *out)
{
    uint8_t buf[2048];
    long n = sc_pdu_encode_sm(in, buf, sizeof buf);
    assert_true(n > 0);
    struct pb p;
    memcpy(p.b, buf, (size_t)n);
    p.n = (size_t)n;
    uint32_t st = 99;
    int unpacked = 0;
    assert_int_equal(decode(&p, out, &st, &unpacked), 0);
    assert_int_equal(st, SC_ESME_ROK);
    assert_true(unpacked);
    /* The guard's prediction of libsmpp34's log is exact. */
    assert_log_predicted(p.b, p.n);
    assert_int_equal(out->cmd_id, in->cmd_id);
    assert_int_equal(out->seq, in->seq);
    assert_string_equal(out->service_type, in->service_type);
    assert_string_equal(out->src.addr, in->src.addr);
    assert_string_equal(out->dst.addr, in->dst.addr);
    assert_int_equal(out->src.ton, in->src.ton);
    assert_int_equal(out->src.npi, in->src.npi);
    assert_int_equal(out->dst.ton, in->dst.ton);
    assert_int_equal(out->dst.npi, in->dst.npi);
    assert_int_equal(out->esm_class, in->esm_class);
    assert_int_equal(out->data_coding, in->data_coding);
    assert_int_equal(out->registered_delivery, in->registered_delivery);
    assert_int_equal(out->msg_len, in->msg_len);
    assert_memory_equal(out->msg, in->msg, in->msg_len);
    assert_int_equal(out->use_payload, in->use_payload || in->cmd_id == SC_CMD_DATA_SM);
    assert_int_equal(out->has_sar, in->has_sar);
    if (in->has_sar) {
        assert_int_equal(out->sar_ref, in->sar_ref);
        assert_int_equal(out->sar_total, in->sar_total);
        assert_int_equal(out->sar_seq, in->sar_seq);
    }
    assert_string_equal(out->receipted_message_id, in->receipted_message_id);
    assert_int_equal(out->has_message_state, in->has_message_state);
    if (in->has_message_state)
        assert_int_equal(out->message_state, in->message_state);
}

static void test_sm_roundtrip(void **state)
{
    (void)state;
    struct sc_sm in, out;

    sm_init(&in, SC_CMD_DELIVER_SM, "0000");
    roundtrip(&in, &out);
    assert_int_equal(out.protocol_id, 0);

    /* SAR TLVs with a 16-bit reference. */
    sm_init(&in, SC_CMD_DELIVER_SM, "part two of three");
    in.has_sar = 1;
    in.sar_ref = 0xBEEF;
    in.sar_total = 3;
    in.sar_seq = 2;
    in.protocol_id = 0x7F;
    in.priority_flag = 1;
    roundtrip(&in, &out);
    assert_int_equal(out.protocol_id, 0x7F);
    assert_int_equal(out.priority_flag, 1);

    /* data_sm: text always in message_payload, up to 1024 bytes. */
    sm_init(&in, SC_CMD_DATA_SM, "");
    in.msg_len = SC_SM_MSG_MAX;
    for (int i = 0; i < SC_SM_MSG_MAX; i++)
        in.msg[i] = (uint8_t)i;
    roundtrip(&in, &out);

    /* Delivery receipt with receipt TLVs. */
    sm_init(&in, SC_CMD_DELIVER_SM, "id:123 sub:001 dlvrd:001 stat:DELIVRD err:000 text:");
    in.esm_class = 0x04;
    strcpy(in.receipted_message_id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde");
    in.has_message_state = 1;
    in.message_state = 2;
    roundtrip(&in, &out);

    /* deliver_sm and submit_sm with message_payload. */
    sm_init(&in, SC_CMD_DELIVER_SM, "");
    in.use_payload = 1;
    in.msg_len = 600;
    memset(in.msg, 'p', 600);
    roundtrip(&in, &out);
    sm_init(&in, SC_CMD_SUBMIT_SM, "reply");
    in.registered_delivery = 1;
    in.has_sar = 1;
    in.sar_ref = 7;
    in.sar_total = 2;
    in.sar_seq = 1;
    roundtrip(&in, &out);
    sm_init(&in, SC_CMD_SUBMIT_SM, "");
    in.use_payload = 1;
    in.msg_len = 1000;
    memset(in.msg, 'q', 1000);
    strcpy(in.receipted_message_id, "abc");
    in.has_message_state = 1;
    in.message_state = 5;
    roundtrip(&in, &out);

    /* Longest short_message, empty strings, 20-digit addresses. */
    sm_init(&in, SC_CMD_DELIVER_SM, "");
    in.msg_len = 253;
    memset(in.msg, 0, 253);
    in.service_type[0] = '\0';
    strcpy(in.src.addr, "12345678901234567890");
    strcpy(in.dst.addr, "09876543210987654321");
    roundtrip(&in, &out);
}

static void test_encode_limits(void **state)
{
    (void)state;
    struct sc_sm sm;
    uint8_t buf[2048];
    sm_init(&sm, SC_CMD_DELIVER_SM, "");
    sm.msg_len = 254;
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_ETOOBIG);
    sm.use_payload = 1;
    assert_true(sc_pdu_encode_sm(&sm, buf, sizeof buf) > 0);
    sm.msg_len = SC_SM_MSG_MAX + 1;
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_ETOOBIG);

    /* The output must hold the PDU plus one byte. */
    sm_init(&sm, SC_CMD_SUBMIT_SM, "hello");
    long n = sc_pdu_encode_sm(&sm, buf, sizeof buf);
    assert_true(n > 0);
    uint8_t *exact = malloc((size_t)n + 1);
    assert_non_null(exact);
    assert_int_equal(sc_pdu_encode_sm(&sm, exact, (size_t)n), SC_ETOOBIG);
    assert_int_equal(sc_pdu_encode_sm(&sm, exact, (size_t)n + 1), n);
    assert_memory_equal(exact, buf, (size_t)n);
    free(exact);

    /* What libsmpp34 would refuse or silently cut. */
    sm_init(&sm, SC_CMD_DELIVER_SM, "x");
    sm.seq = 0;
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);
    sm_init(&sm, SC_CMD_DELIVER_SM, "x");
    sm.src.ton = 7;
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);
    sm_init(&sm, SC_CMD_DELIVER_SM, "x");
    sm.dst.npi = 2;
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);
    sm_init(&sm, SC_CMD_DELIVER_SM, "x");
    memset(sm.src.addr, '1', sizeof sm.src.addr);
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);
    sm_init(&sm, SC_CMD_DELIVER_SM, "x");
    memset(sm.service_type, 'A', sizeof sm.service_type);
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);
    sm_init(&sm, SC_CMD_ENQUIRE_LINK, "x");
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);
    sm_init(&sm, SC_CMD_DELIVER_SM, "x");
    sm.has_sar = 1;
    sm.sar_total = 2;
    sm.sar_seq = 3;
    assert_int_equal(sc_pdu_encode_sm(&sm, buf, sizeof buf), SC_EINVAL);

    /* Fixed-size TLVs get their right lengths on the wire. */
    sm_init(&sm, SC_CMD_DELIVER_SM, "");
    sm.has_sar = 1;
    sm.sar_ref = 0x0102;
    sm.sar_total = 3;
    sm.sar_seq = 1;
    n = sc_pdu_encode_sm(&sm, buf, sizeof buf);
    static const uint8_t sar[] = {0x02, 0x0C, 0, 2, 1, 2, 0x02, 0x0E, 0, 1, 3, 0x02, 0x0F, 0, 1, 1};
    assert_true(n > (long)sizeof sar);
    assert_memory_equal(buf + n - (long)sizeof sar, sar, sizeof sar);
}

/* ---- Short messages: hostile input -------------------------------------- */

static const char addr20a[] = "12345678901234567890", addr20b[] = "09876543210987654321";

static void c_ok_plain(struct pb *p) { pb_deliver(p, "hello"); }
static void c_tlv_past_end(struct pb *p) { pb_deliver(p, "hi"); pb_u16(p, 0x1400); pb_u16(p, 10); pb_raw(p, "abc", 3); }
static void c_tlv_hdr_cut(struct pb *p) { pb_deliver(p, "hi"); pb_u16(p, 0x1400); pb_u8(p, 0); }
static void c_trailing1(struct pb *p) { pb_deliver(p, "hi"); pb_u8(p, 0); }
static void c_sm_past_end(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "", "", "abc", 0); p->b[p->n - 1] = 10; pb_raw(p, "abcde", 5); }
static void c_sm_255(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "", "", "abc", 255); }
static void c_sm_254(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "", "", "abc", 254); }
static void c_src_no_nul(struct pb *p)
{
    pb_hdr(p, SC_CMD_DELIVER_SM, 0, 1);
    pb_cstr(p, "");
    pb_u8(p, 1);
    pb_u8(p, 1);
    pb_raw(p, "1234567890123456789012345678901234567890", 40);
    pb_u8(p, 0);
}
static void c_dst_21(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "123456789012345678901", "", "", "a", 1); }
static void c_service_cut(struct pb *p) { pb_hdr(p, SC_CMD_DELIVER_SM, 0, 1); pb_raw(p, "CM", 2); }
static void c_service_long(struct pb *p) { pb_hdr(p, SC_CMD_DELIVER_SM, 0, 1); pb_cstr(p, "CMTXXX"); }
static void c_payload_1025(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "", "", "", 0); pb_tlv(p, 0x0424, 1025, NULL); }
static void c_payload_1024(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "", "", "", 0); pb_tlv(p, 0x0424, 1024, NULL); }
static void c_data_payload_1025(struct pb *p) { pb_data_sm(p, "1", "2"); pb_tlv(p, 0x0424, 1025, NULL); }
static void c_unknown_tags(struct pb *p)
{
    pb_deliver(p, "hi");
    pb_tlv(p, 0x1400, 3, NULL);
    pb_tlv(p, 0x3FFF, 0, NULL);
    pb_tlv(p, 0xFFFF, 1024, NULL);
    pb_tlv(p, 0x0000, 2, NULL);
    pb_tlv(p, 0x0210, 1, NULL);
}
static void c_unknown_1025(struct pb *p) { pb_deliver(p, "hi"); pb_tlv(p, 0x1400, 1025, NULL); }
/* A fixed-size TLV whose length lies: libsmpp34 would read 1 byte and parse
 * the rest of the "value" as 40 more TLVs. */
static void c_desync(struct pb *p)
{
    pb_deliver(p, "");
    pb_u16(p, 0x020E);
    pb_u16(p, 1 + 4 * 40);
    pb_u8(p, 2);
    for (int i = 0; i < 40; i++) {
        pb_u16(p, 0x1400);
        pb_u16(p, 0);
    }
}
static void c_sar_ref_len0(struct pb *p) { pb_deliver(p, ""); pb_tlv(p, 0x020C, 0, NULL); pb_tlv(p, 0x1400, 2, NULL); }
static void c_state_len2(struct pb *p) { pb_deliver(p, ""); pb_tlv(p, 0x0427, 2, NULL); }
static void c_qos_len2(struct pb *p) { pb_data_sm(p, "1", "2"); pb_tlv(p, 0x0017, 2, NULL); }
static void c_qos_len4(struct pb *p) { pb_data_sm(p, "1", "2"); pb_tlv(p, 0x0017, 4, NULL); }
static void c_netcode_4(struct pb *p) { pb_deliver(p, ""); pb_tlv(p, 0x0423, 4, NULL); }
static void c_rcpt_66(struct pb *p) { pb_deliver(p, ""); pb_tlv(p, 0x001E, 66, NULL); }
static void c_alert_1(struct pb *p) { pb_data_sm(p, "1", "2"); pb_tlv(p, 0x130C, 1, NULL); }
static void c_ussd_2(struct pb *p) { pb_sm(p, SC_CMD_SUBMIT_SM, "1", "2", "", "", "a", 1); pb_tlv(p, 0x0501, 2, NULL); }
static void c_dup_payload(struct pb *p) { pb_deliver(p, ""); pb_tlv(p, 0x0424, 1, NULL); pb_tlv(p, 0x0424, 1, NULL); }
static void c_sm_and_payload(struct pb *p) { pb_deliver(p, "x"); pb_tlv(p, 0x0424, 1, NULL); }
static void c_sar_partial(struct pb *p) { pb_deliver(p, "x"); pb_tlv(p, 0x020C, 2, "\0\1"); pb_tlv(p, 0x020E, 1, "\2"); }
static void c_sar_seq_gt(struct pb *p)
{
    pb_deliver(p, "x");
    pb_tlv(p, 0x020C, 2, "\0\1");
    pb_tlv(p, 0x020E, 1, "\2");
    pb_tlv(p, 0x020F, 1, "\3");
}
static void c_ton7(struct pb *p) { pb_deliver(p, "x"); p->b[16 + 1] = 7; }
static void c_npi2(struct pb *p) { pb_deliver(p, "x"); p->b[16 + 1 + 2 + 14 + 1] = 2; }
static void c_seq0(struct pb *p) { pb_deliver(p, "x"); p->b[15] = 0; }
static void c_status(struct pb *p) { pb_deliver(p, "x"); p->b[11] = 0x45; }
static void c_sched(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "260101000000000+", "", "a", 1); }
static void c_valid(struct pb *p) { pb_sm(p, SC_CMD_DELIVER_SM, "1", "2", "", "000001000000000R", "a", 1); }
static void c_submit_times(struct pb *p) { pb_sm(p, SC_CMD_SUBMIT_SM, "1", "2", "260101000000000+", "000001000000000R", "a", 1); }
static void c_submit_time17(struct pb *p) { pb_sm(p, SC_CMD_SUBMIT_SM, "1", "2", "260101000000000+X", "", "a", 1); }
static void c_data_dst_30(struct pb *p) { pb_data_sm(p, "1", "123456789012345678901234567890"); }
static void c_data_ok(struct pb *p) { pb_data_sm(p, "1", "2"); pb_tlv(p, 0x0424, 3, "abc"); }
static void c_wrong_cmd(struct pb *p) { pb_deliver(p, "x"); p->b[7] = 0x06; }
static void c_short(struct pb *p) { pb_hdr(p, SC_CMD_DELIVER_SM, 0, 1); p->n = 12; }
static void c_cmdlen_lies(struct pb *p) { pb_deliver(p, "x"); pb_fix(p); p->b[3]++; }
/* 28 TLVs that log little (U08 values): fine. 29: refused by count. */
static void c_tlv28(struct pb *p) { pb_deliver(p, "x"); for (int i = 0; i < 28; i++) pb_tlv(p, 0x0201, 1, NULL); }
static void c_tlv29(struct pb *p) { pb_deliver(p, "x"); for (int i = 0; i < 29; i++) pb_tlv(p, 0x0201, 1, NULL); }
static void c_tlv29_data(struct pb *p) { pb_data_sm(p, "1", "2"); for (int i = 0; i < 29; i++) pb_tlv(p, 0x0005, 1, NULL); }
static void c_tlv200(struct pb *p) { pb_deliver(p, "x"); for (int i = 0; i < 200; i++) pb_tlv(p, 0x1400, 0, NULL); }
/* 28 octet TLVs: within the count, but with long addresses libsmpp34's
 * log would overflow smpp34_strerror. Each TLV logs 54 bytes, the value's
 * 23 last; the fixed part 525 plus the address lengths. */
static void c_oct28_ordinary(struct pb *p)
{
    pb_sm(p, SC_CMD_DELIVER_SM, "13800138000", "10086", "", "", "0000", 4);
    for (int i = 0; i < 28; i++)
        pb_tlv(p, 0x1400 + (unsigned)i, 1, NULL);
}
static void c_oct28_log_2047(struct pb *p)
{
    pb_sm(p, SC_CMD_DELIVER_SM, "12345", "12345", "", "", "", 0);
    for (int i = 0; i < 28; i++)
        pb_tlv(p, 0x1400, 0, NULL);
}
static void c_oct28_last_at_2048(struct pb *p)   /* the last line starts at the end: safe */
{
    pb_sm(p, SC_CMD_DELIVER_SM, addr20a, "12345678901234", "", "", "", 0);
    for (int i = 0; i < 28; i++)
        pb_tlv(p, 0x1400, 0, NULL);
}
static void c_oct28_last_at_2049(struct pb *p)   /* one past the end: overflow */
{
    pb_sm(p, SC_CMD_DELIVER_SM, addr20a, "123456789012345", "", "", "", 0);
    for (int i = 0; i < 28; i++)
        pb_tlv(p, 0x1400, 0, NULL);
}
static void c_oct27_20digits(struct pb *p)
{
    pb_sm(p, SC_CMD_DELIVER_SM, addr20a, addr20b, "", "", "", 0);
    for (int i = 0; i < 27; i++)
        pb_tlv(p, 0x1400, 0, NULL);
}
static void c_oct28_20digits(struct pb *p)
{
    pb_sm(p, SC_CMD_DELIVER_SM, addr20a, addr20b, "", "", "", 0);
    for (int i = 0; i < 28; i++)
        pb_tlv(p, 0x1400, 0, NULL);
}
static void c_submit_worst(struct pb *p)
{
    pb_sm(p, SC_CMD_SUBMIT_SM, addr20a, addr20b, "260101000000000+", "000001000000000R", "", 0);
    for (int i = 0; i < 26; i++)
        pb_tlv(p, 0x1400, 0, NULL);
}

static void test_decode_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        void (*build)(struct pb *p);
        int fix_len;            /* set command_length to the bytes built */
        uint32_t status;        /* ESME_ROK: must decode */
    } cases[] = {
        {"plain", c_ok_plain, 1, SC_ESME_ROK},
        {"TLV length past the end", c_tlv_past_end, 1, SC_ESME_RINVOPTPARSTREAM},
        {"TLV header cut", c_tlv_hdr_cut, 1, SC_ESME_RINVOPTPARSTREAM},
        {"1 trailing byte", c_trailing1, 1, SC_ESME_RINVOPTPARSTREAM},
        {"sm_length past the end", c_sm_past_end, 1, SC_ESME_RINVMSGLEN},
        {"sm_length 255", c_sm_255, 1, SC_ESME_RINVMSGLEN},
        {"sm_length 254", c_sm_254, 1, SC_ESME_ROK},
        {"source_addr without NUL", c_src_no_nul, 1, SC_ESME_RINVSRCADR},
        {"destination_addr 21 chars", c_dst_21, 1, SC_ESME_RINVDSTADR},
        {"body ends in service_type", c_service_cut, 1, SC_ESME_RINVCMDLEN},
        {"service_type 6 chars", c_service_long, 1, SC_ESME_RSYSERR},
        {"message_payload 1025", c_payload_1025, 1, SC_ESME_RINVPARLEN},
        {"message_payload 1024", c_payload_1024, 1, SC_ESME_ROK},
        {"data_sm message_payload 1025", c_data_payload_1025, 1, SC_ESME_RINVPARLEN},
        {"unknown tags", c_unknown_tags, 1, SC_ESME_ROK},
        {"unknown tag 1025 bytes", c_unknown_1025, 1, SC_ESME_RINVPARLEN},
        {"fixed TLV with lying length", c_desync, 1, SC_ESME_RINVPARLEN},
        {"sar_msg_ref_num length 0", c_sar_ref_len0, 1, SC_ESME_RINVPARLEN},
        {"message_state length 2", c_state_len2, 1, SC_ESME_RINVPARLEN},
        {"qos_time_to_live length 2", c_qos_len2, 1, SC_ESME_RINVPARLEN},
        {"qos_time_to_live length 4", c_qos_len4, 1, SC_ESME_ROK},
        {"network_error_code 4", c_netcode_4, 1, SC_ESME_RINVPARLEN},
        {"receipted_message_id 66", c_rcpt_66, 1, SC_ESME_RINVPARLEN},
        {"alert_on_message_delivery 1", c_alert_1, 1, SC_ESME_RINVPARLEN},
        {"ussd_service_op 2", c_ussd_2, 1, SC_ESME_RINVPARLEN},
        {"duplicate message_payload", c_dup_payload, 1, SC_ESME_RINVOPTPARSTREAM},
        {"short_message and payload", c_sm_and_payload, 1, SC_ESME_ROPTPARNOTALLWD},
        {"SAR incomplete", c_sar_partial, 1, SC_ESME_RMISSINGOPTPARAM},
        {"SAR seq > total", c_sar_seq_gt, 1, SC_ESME_RINVOPTPARAMVAL},
        {"TON 7", c_ton7, 1, SC_ESME_RINVSRCADR},
        {"NPI 2", c_npi2, 1, SC_ESME_RINVDSTADR},
        {"sequence 0", c_seq0, 1, SC_ESME_RSYSERR},
        {"status in a request", c_status, 1, SC_ESME_RSYSERR},
        {"deliver_sm schedule_delivery_time", c_sched, 1, SC_ESME_RSYSERR},
        {"deliver_sm validity_period", c_valid, 1, SC_ESME_RSYSERR},
        {"submit_sm times", c_submit_times, 1, SC_ESME_ROK},
        {"submit_sm time of 17", c_submit_time17, 1, SC_ESME_RSYSERR},
        {"data_sm destination 30 chars", c_data_dst_30, 1, SC_ESME_RINVDSTADR},
        {"data_sm", c_data_ok, 1, SC_ESME_ROK},
        {"unbind is not an sm", c_wrong_cmd, 1, SC_ESME_RINVCMDID},
        {"12 bytes", c_short, 0, SC_ESME_RINVCMDLEN},
        {"command_length lies", c_cmdlen_lies, 0, SC_ESME_RINVCMDLEN},
        {"28 TLVs", c_tlv28, 1, SC_ESME_ROK},
        {"29 TLVs", c_tlv29, 1, SC_ESME_RINVOPTPARSTREAM},
        {"29 TLVs data_sm", c_tlv29_data, 1, SC_ESME_RINVOPTPARSTREAM},
        {"200 TLVs", c_tlv200, 1, SC_ESME_RINVOPTPARSTREAM},
        {"28 octet TLVs, ordinary addresses", c_oct28_ordinary, 1, SC_ESME_ROK},
        {"28 octet TLVs, log 2047", c_oct28_log_2047, 1, SC_ESME_ROK},
        {"28 octet TLVs, last line at 2048", c_oct28_last_at_2048, 1, SC_ESME_ROK},
        {"28 octet TLVs, last line at 2049", c_oct28_last_at_2049, 1, SC_ESME_RINVOPTPARSTREAM},
        {"27 octet TLVs, 20 digits", c_oct27_20digits, 1, SC_ESME_ROK},
        {"28 octet TLVs, 20 digits", c_oct28_20digits, 1, SC_ESME_RINVOPTPARSTREAM},
        {"submit_sm worst fields, 26 TLVs", c_submit_worst, 1, SC_ESME_ROK},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        struct pb p;
        struct sc_sm sm;
        uint32_t st = 12345;
        int unpacked = -1;
        cases[i].build(&p);
        if (cases[i].fix_len)
            pb_fix(&p);
        int rc = decode(&p, &sm, &st, &unpacked);
        if (st != cases[i].status || (rc == 0) != (cases[i].status == SC_ESME_ROK))
            fail_msg("case '%s': rc %d status 0x%X, want 0x%X", cases[i].name, rc, st, cases[i].status);
        if (rc == 0) {
            size_t want = sc__pdu_smpp34_log_len(p.b, p.n);
            if (strlen(smpp34_strerror) != SC_MIN(want, sizeof smpp34_strerror - 1))
                fail_msg("case '%s': libsmpp34 logged %zu, predicted %zu", cases[i].name,
                         strlen(smpp34_strerror), want);
        } else if (unpacked) {
            fail_msg("case '%s': refused after calling smpp34_unpack", cases[i].name);
        }
    }
}

static void test_decode_fields(void **state)
{
    (void)state;
    struct pb p;
    struct sc_sm sm;
    uint32_t st;
    c_unknown_tags(&p);
    pb_fix(&p);
    assert_int_equal(decode(&p, &sm, &st, NULL), 0);
    assert_int_equal(sm.cmd_id, SC_CMD_DELIVER_SM);
    assert_int_equal(sm.seq, 7);
    assert_string_equal(sm.src.addr, "8613800138000");
    assert_string_equal(sm.dst.addr, "10086");
    assert_int_equal(sm.data_coding, 8);
    assert_int_equal(sm.msg_len, 2);
    assert_memory_equal(sm.msg, "hi", 2);
    assert_false(sm.use_payload);
    assert_false(sm.has_sar);

    c_data_ok(&p);
    pb_fix(&p);
    assert_int_equal(decode(&p, &sm, &st, NULL), 0);
    assert_int_equal(sm.cmd_id, SC_CMD_DATA_SM);
    assert_true(sm.use_payload);
    assert_int_equal(sm.msg_len, 3);
    assert_memory_equal(sm.msg, "abc", 3);

    /* receipted_message_id without a NUL in its value. */
    pb_deliver(&p, "");
    pb_tlv(&p, 0x001E, 65, NULL);
    pb_fix(&p);
    assert_int_equal(decode(&p, &sm, &st, NULL), 0);
    assert_int_equal(strlen(sm.receipted_message_id), 64);
}

/* Cut a valid PDU at every byte: with the header's length left as is, and
 * with command_length fixed to the cut (then valid only at field ends). */
static void test_decode_truncated(void **state)
{
    (void)state;
    struct pb full;
    pb_deliver(&full, "hello");
    size_t a = full.n;
    pb_tlv(&full, 0x020C, 2, "\0\5");
    pb_tlv(&full, 0x020E, 1, "\2");
    pb_tlv(&full, 0x020F, 1, "\1");
    size_t b = full.n;
    pb_tlv(&full, 0x1400, 3, NULL);
    pb_fix(&full);
    struct sc_sm sm;
    uint32_t st;
    assert_int_equal(decode(&full, &sm, &st, NULL), 0);
    for (size_t k = 0; k < full.n; k++) {
        struct pb p = full;
        p.n = k;
        assert_int_not_equal(decode(&p, &sm, &st, NULL), 0);
        assert_true(st == SC_ESME_RINVCMDLEN);
        pb_fix(&p);
        int rc = decode(&p, &sm, &st, NULL);
        if (k == a || k == b)
            assert_int_equal(rc, 0);
        else
            assert_int_not_equal(rc, 0);
    }
    /* The same for data_sm and submit_sm. */
    uint32_t ids[] = {SC_CMD_DATA_SM, SC_CMD_SUBMIT_SM};
    for (size_t j = 0; j < 2; j++) {
        if (ids[j] == SC_CMD_DATA_SM)
            pb_data_sm(&full, "123", "456");
        else
            pb_sm(&full, SC_CMD_SUBMIT_SM, "123", "456", "260101000000000+", "", "abc", 3);
        a = full.n;
        pb_tlv(&full, 0x0424, 0, NULL);
        pb_fix(&full);
        if (ids[j] == SC_CMD_SUBMIT_SM) {
            full.b[a - 4] = 0;      /* sm_length 0 with a message_payload */
            full.n -= 3;
            memmove(full.b + a - 3, full.b + a, 4);
            a -= 3;
            pb_fix(&full);
        }
        assert_int_equal(decode(&full, &sm, &st, NULL), 0);
        for (size_t k = 0; k < full.n; k++) {
            struct pb p = full;
            p.n = k;
            pb_fix(&p);
            int rc = decode(&p, &sm, &st, NULL);
            if (k == a)
                assert_int_equal(rc, 0);
            else
                assert_int_not_equal(rc, 0);
        }
    }
}

/* Every single-byte corruption of a PDU with several TLVs: never a crash, a
 * leak or an unpack failure the guard did not foresee. */
static void test_decode_mutations(void **state)
{
    (void)state;
    struct pb full;
    pb_deliver(&full, "hello");
    pb_tlv(&full, 0x020C, 2, "\0\5");
    pb_tlv(&full, 0x020E, 1, "\2");
    pb_tlv(&full, 0x020F, 1, "\1");
    pb_tlv(&full, 0x001E, 4, "abc");
    pb_tlv(&full, 0x0427, 1, "\2");
    pb_fix(&full);
    static const uint8_t vals[] = {0x00, 0x01, 0x02, 0x07, 0x20, 0x7F, 0x80, 0xFE, 0xFF};
    for (size_t k = 0; k < full.n; k++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            struct pb p = full;
            p.b[k] = vals[v];
            struct sc_sm sm;
            uint32_t st = 0;
            char err[96];
            memset(smpp34_strerror, 'M', 16);
            int rc = sc_pdu_decode_sm(p.b, p.n, &sm, &st, err, sizeof err);
            /* Refused by libsmpp34 after the guard accepted: a guard hole. */
            if (rc && st == SC_ESME_RSYSERR && strstr(err, "libsmpp34 refused"))
                fail_msg("offset %zu value 0x%02X: %s", k, vals[v], err);
            if (rc == 0)
                assert_log_predicted(p.b, p.n);
        }
    }
}

/* ---- bind --------------------------------------------------------------------- */

static void test_bind(void **state)
{
    (void)state;
    static const uint32_t ids[] = {SC_CMD_BIND_TRANSMITTER, SC_CMD_BIND_RECEIVER, SC_CMD_BIND_TRANSCEIVER};
    for (size_t i = 0; i < SC_ARRAY_LEN(ids); i++) {
        struct sc_bind b, o;
        uint8_t buf[256];
        memset(&b, 0, sizeof b);
        b.cmd_id = ids[i];
        b.seq = 1;
        strcpy(b.system_id, "smsc_user_15chr");
        strcpy(b.password, "secret12");
        strcpy(b.system_type, "VMA");
        b.interface_version = 0x34;
        b.addr_ton = 1;
        b.addr_npi = 1;
        strcpy(b.address_range, "^10086");
        long n = sc_pdu_encode_bind(&b, buf, sizeof buf);
        assert_true(n > 0);
        uint32_t st;
        char err[64];
        uint8_t *copy = malloc((size_t)n);
        memcpy(copy, buf, (size_t)n);
        assert_int_equal(sc_pdu_decode_bind(copy, (size_t)n, &o, &st, err, sizeof err), 0);
        assert_log_predicted(copy, (size_t)n);
        assert_int_equal(o.cmd_id, b.cmd_id);
        assert_int_equal(o.seq, 1);
        assert_string_equal(o.system_id, b.system_id);
        assert_string_equal(o.password, b.password);
        assert_string_equal(o.system_type, b.system_type);
        assert_string_equal(o.address_range, b.address_range);
        assert_int_equal(o.interface_version, 0x34);
        assert_int_equal(o.addr_ton, 1);
        /* Truncated at every byte. */
        for (size_t k = 0; k < (size_t)n; k++) {
            uint8_t *t = malloc(k ? k : 1);
            memcpy(t, buf, k);
            if (k >= 4)
                t[0] = t[1] = 0, t[2] = (uint8_t)(k >> 8), t[3] = (uint8_t)k;
            assert_int_not_equal(sc_pdu_decode_bind(t, k, &o, &st, err, sizeof err), 0);
            free(t);
        }
        /* One byte more. */
        struct pb p;
        memcpy(p.b, buf, (size_t)n);
        p.n = (size_t)n;
        pb_u8(&p, 0);
        pb_fix(&p);
        assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, err, sizeof err), SC_EPROTO);
        assert_int_equal(st, SC_ESME_RINVCMDLEN);
        free(copy);
        /* Unterminated system_id and the interface version. */
        strcpy(b.system_id, "x");
        b.interface_version = 0x33;
        n = sc_pdu_encode_bind(&b, buf, sizeof buf);
        if (ids[i] == SC_CMD_BIND_RECEIVER)
            assert_true(n > 0);
        else
            assert_int_equal(n, SC_EINVAL);
        memset(b.system_id, 'a', sizeof b.system_id);
        assert_int_equal(sc_pdu_encode_bind(&b, buf, sizeof buf), SC_EINVAL);
    }

    struct pb p;
    struct sc_bind o;
    uint32_t st;
    pb_hdr(&p, SC_CMD_BIND_TRANSCEIVER, 0, 1);
    pb_cstr(&p, "0123456789abcdef");   /* 16 characters */
    pb_cstr(&p, "pw");
    pb_cstr(&p, "");
    pb_u8(&p, 0x34);
    pb_u8(&p, 0);
    pb_u8(&p, 0);
    pb_cstr(&p, "");
    pb_fix(&p);
    assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, NULL, 0), SC_EPROTO);
    assert_int_equal(st, SC_ESME_RINVSYSID);
    pb_hdr(&p, SC_CMD_BIND_TRANSMITTER, 0, 1);
    pb_cstr(&p, "sys");
    pb_cstr(&p, "password9");
    assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, NULL, 0), SC_EPROTO);
    pb_fix(&p);
    assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, NULL, 0), SC_EPROTO);
    assert_int_equal(st, SC_ESME_RINVPASWD);
    pb_hdr(&p, SC_CMD_BIND_TRANSMITTER, 0, 1);
    pb_cstr(&p, "sys");
    pb_cstr(&p, "pw");
    pb_cstr(&p, "");
    pb_u8(&p, 0x33);
    pb_u8(&p, 0);
    pb_u8(&p, 0);
    pb_cstr(&p, "");
    pb_fix(&p);
    assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, NULL, 0), SC_EPROTO);
    assert_int_equal(st, SC_ESME_RBINDFAIL);
    p.b[7] = SC_CMD_BIND_RECEIVER;
    assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, NULL, 0), 0);
    assert_int_equal(o.interface_version, 0x33);
    p.b[7] = 0x04;
    assert_int_equal(sc_pdu_decode_bind(p.b, p.n, &o, &st, NULL, 0), SC_EPROTO);
    assert_int_equal(st, SC_ESME_RINVCMDID);
}

/* ---- Names ------------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sc_pdu_cmd_name(SC_CMD_DELIVER_SM), "deliver_sm");
    assert_string_equal(sc_pdu_cmd_name(SC_CMD_DATA_SM | SC_CMD_RESP), "data_sm_resp");
    assert_string_equal(sc_pdu_cmd_name(SC_CMD_GENERIC_NACK), "generic_nack");
    assert_string_equal(sc_pdu_cmd_name(0x12345), "unknown");
    assert_string_equal(sc_pdu_status_name(0), "ESME_ROK");
    assert_string_equal(sc_pdu_status_name(0x58), "ESME_RTHROTTLED");
    assert_string_equal(sc_pdu_status_name(0x64), "ESME_RX_T_APPN");
    assert_string_equal(sc_pdu_status_name(0xC0), "ESME_RINVOPTPARSTREAM");
    assert_string_equal(sc_pdu_status_name(0x1234), "unknown");

    static const struct {
        const char *s;
        int rc;
        uint32_t v;
    } cases[] = {
        {"ESME_RX_T_APPN", 0, 0x64}, {"RX_T_APPN", 0, 0x64}, {"esme_rmsgqful", 0, 0x14},
        {"ESME_ROK", 0, 0},          {"0x64", 0, 0x64},      {"100", 0, 100},
        {"0X58", 0, 0x58},           {"0", 0, 0},            {"4294967295", 0, 0xFFFFFFFFu},
        {"4294967296", SC_EINVAL, 0}, {"0x", SC_EINVAL, 0},  {"12abc", SC_EINVAL, 0},
        {"-1", SC_EINVAL, 0},        {"", SC_EINVAL, 0},     {"ESME_", SC_EINVAL, 0},
        {"NOPE", SC_EINVAL, 0},      {" 1", SC_EINVAL, 0},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        uint32_t v = 0xDEAD;
        int rc = sc_pdu_status_parse(cases[i].s, &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
            fail_msg("'%s': rc %d value 0x%X", cases[i].s, rc, v);
    }
}

/* ---- Delivery receipts ---------------------------------------------------------- */

static int dlr(const char *text, struct sc_dlr *d)
{
    /* Not NUL-terminated: an exact heap copy. */
    size_t n = strlen(text);
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, text, n);
    int rc = sc_dlr_parse(b, n, d);
    free(b);
    return rc;
}

static void test_dlr(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *id, *stat;
        int err;
    } cases[] = {
        {"id:0123456789 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:hello",
         0, "0123456789", "DELIVRD", 0},
        {"ID:abc SUB:001 DLVRD:000 SUBMIT DATE:2601011200 DONE DATE:2601011201 STAT:UNDELIV ERR:012 TEXT:",
         0, "abc", "UNDELIV", 12},
        {"id:42 stat:EXPIRED", 0, "42", "EXPIRED", -1},
        {"stat:DELIVRD err:0 id:7", 0, "7", "DELIVRD", 0},
        {"id:1 sub:001 dlvrd:001 err:000 text:stat:DELIVRD", SC_EPROTO, "1", "", 0},
        {"id:1 text:id:2 stat:DELIVRD", SC_EPROTO, "1", "", -1},
        {"sub:001 stat:DELIVRD err:000", SC_EPROTO, "", "DELIVRD", 0},
        {"", SC_EPROTO, "", "", -1},
        {"garbage \x01\x02\xff id", SC_EPROTO, "", "", -1},
        {"id: stat:", SC_EPROTO, "", "", -1},
        {"id:x stat:DELIVEREDLONG err:abc", SC_EPROTO, "x", "", -1},
        {"  id:x   stat:ACCEPTD  err:99999999999", 0, "x", "ACCEPTD", -1},
        {"uid:9 id:x stat:REJECTD", 0, "x", "REJECTD", -1},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        struct sc_dlr d;
        int rc = dlr(cases[i].text, &d);
        if (rc != cases[i].rc || strcmp(d.id, cases[i].id) || strcmp(d.stat, cases[i].stat) ||
            d.err != cases[i].err)
            fail_msg("case %zu: rc %d id '%s' stat '%s' err %d", i, rc, d.id, d.stat, d.err);
    }
    /* An id longer than the field is refused, never cut (a cut id could
     * name another message) nor overflowing; one that fits exactly is kept. */
    char longtext[400] = "id:";
    memset(longtext + 3, '9', 300);
    strcpy(longtext + 303, " stat:DELIVRD");
    struct sc_dlr d;
    assert_int_equal(dlr(longtext, &d), SC_EPROTO);
    assert_string_equal(d.id, "");
    assert_string_equal(d.stat, "DELIVRD");
    strcpy(longtext + 3 + SC_MSGID_MAX - 1, " stat:DELIVRD");
    assert_int_equal(dlr(longtext, &d), 0);
    assert_int_equal(strlen(d.id), SC_MSGID_MAX - 1);

    /* Format, then parse back. */
    char out[256];
    size_t n = sc_dlr_format(out, sizeof out, "abc123", "DELIVRD", 0, 1767225600L, 1767225660L);
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "id:abc123 sub:001 dlvrd:001 submit date:2601010000 done date:2601010001 "
                             "stat:DELIVRD err:000 text:");
    assert_int_equal(dlr(out, &d), 0);
    assert_string_equal(d.id, "abc123");
    assert_string_equal(d.stat, "DELIVRD");
    assert_int_equal(d.err, 0);
    n = sc_dlr_format(out, 20, "abc123", "UNDELIV", 5, 0, 0);
    assert_int_equal(n, 19);
    assert_int_equal(strlen(out), 19);
    n = sc_dlr_format(out, sizeof out, "x", "UNDELIV", 5, 0, 0);
    assert_non_null(strstr(out, "dlvrd:000"));
    assert_non_null(strstr(out, "err:005"));
}

/* ---- UDH -------------------------------------------------------------------------- */

static void test_udh(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t b[16];
        size_t len;
        int rc;
        size_t hdr;
        uint16_t ref;
        uint8_t total, seq;
    } cases[] = {
        {"8-bit", {5, 0, 3, 0xAB, 3, 2, 'x'}, 7, 1, 6, 0xAB, 3, 2},
        {"16-bit", {6, 8, 4, 0x12, 0x34, 2, 2}, 7, 1, 7, 0x1234, 2, 2},
        {"port IE then 8-bit", {11, 5, 4, 0, 0, 0, 0, 0, 3, 9, 2, 1}, 12, 1, 12, 9, 2, 1},
        {"port IE only", {6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 'a'}, 8, 0, 7, 0, 0, 0},
        {"empty UDH", {0, 'a'}, 2, 0, 1, 0, 0, 0},
        {"UDHL past the end", {5, 0, 3, 1, 2}, 5, SC_EPROTO, 0, 0, 0, 0},
        {"IE past the UDH", {4, 0, 3, 1, 2, 1}, 6, SC_EPROTO, 0, 0, 0, 0},
        {"lone IE byte", {1, 0, 'a'}, 3, SC_EPROTO, 0, 0, 0, 0},
        {"total 0", {5, 0, 3, 1, 0, 0}, 6, SC_EPROTO, 0, 0, 0, 0},
        {"seq 0", {5, 0, 3, 1, 2, 0}, 6, SC_EPROTO, 0, 0, 0, 0},
        {"seq > total", {5, 0, 3, 1, 2, 3}, 6, SC_EPROTO, 0, 0, 0, 0},
        {"8-bit IE of length 4", {6, 0, 4, 1, 2, 1, 0}, 7, SC_EPROTO, 0, 0, 0, 0},
        {"16-bit IE of length 3", {5, 8, 3, 1, 2, 1}, 6, SC_EPROTO, 0, 0, 0, 0},
        {"nothing", {0}, 0, SC_EPROTO, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        size_t hdr = 999;
        struct sc_concat c = {0, 0, 0};
        uint8_t *b = malloc(cases[i].len ? cases[i].len : 1);
        memcpy(b, cases[i].b, cases[i].len);
        int rc = sc_udh_parse(b, cases[i].len, &hdr, &c);
        free(b);
        if (rc != cases[i].rc)
            fail_msg("case '%s': rc %d", cases[i].name, rc);
        if (rc >= 0)
            assert_int_equal(hdr, cases[i].hdr);
        if (rc == 1) {
            assert_int_equal(c.ref, cases[i].ref);
            assert_int_equal(c.total, cases[i].total);
            assert_int_equal(c.seq, cases[i].seq);
        }
    }
    /* Every length of every prefix of a valid UDH: never reads past len. */
    static const uint8_t u[] = {12, 5, 4, 0, 0, 0, 0, 8, 4, 0, 9, 2, 1, 'a'};
    for (size_t n = 0; n <= sizeof u; n++) {
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, u, n);
        size_t hdr;
        struct sc_concat c;
        int rc = sc_udh_parse(b, n, &hdr, &c);
        assert_int_equal(rc, n >= 13 ? 1 : SC_EPROTO);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_split),
        cmocka_unit_test(test_frame_bounds),
        cmocka_unit_test(test_simple_bytes),
        cmocka_unit_test(test_str_resp_bytes),
        cmocka_unit_test(test_parse_str_resp),
        cmocka_unit_test(test_sm_roundtrip),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_fields),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_mutations),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_dlr),
        cmocka_unit_test(test_udh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
