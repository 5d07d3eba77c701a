/* fuzz_text.c -- libFuzzer target: MO text decoding, command normalisation
 * and MT encoding/segmentation (text/text.h).
 *
 * Input: byte 0 picks the ref and max_parts for encoding, the rest is the
 * text. It is decoded under every data_coding (into a large and a small
 * buffer), normalised (as raw bytes and as decoded UTF-8), and encoded in
 * every segmentation mode. Invariants:
 *   - decode: NUL-terminated, returned length = strlen, valid UTF-8, and a
 *     truncated decode is a prefix of the full one;
 *   - normalize: length consistent, NUL-terminated, valid UTF-8;
 *   - one line: the same, and no C0 control or DEL left;
 *   - encode: parts within the buffer, UDH/SAR parts <= 160 bytes, UDH
 *     headers well formed, GSM septets < 0x80, and for valid UTF-8 without
 *     NUL: decode(encode(x)) == x. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "base/sc.h"
#include "tests/fuzz/fuzz.h"
#include "text/text.h"

#define BIG 8192   /* a decoded character takes at most 4 bytes; -max_len 2048 */

static void check_utf8(const char *s, size_t n)
{
    FUZZ_CHECK(u8_check((const uint8_t *)s, n) == NULL);
}

static void check_decode(uint8_t dc, enum sc_dc0 dc0, const uint8_t *in, size_t len)
{
    static char big[BIG * 2];
    size_t n = sc_text_decode(dc, dc0, in, len, big, sizeof big);
    FUZZ_CHECK(n < sizeof big);
    FUZZ_CHECK(big[n] == '\0' && strlen(big) == n);
    check_utf8(big, n);

    size_t small_sz = len % 13 + 1;
    char *small = malloc(small_sz);    /* exact size: ASan sees an overrun */
    FUZZ_CHECK(small != NULL);
    size_t m = sc_text_decode(dc, dc0, in, len, small, small_sz);
    FUZZ_CHECK(m < small_sz && small[m] == '\0' && strlen(small) == m);
    FUZZ_CHECK(m <= n && memcmp(small, big, m) == 0);
    /* Truncated only where the next character did not fit. */
    if (m < n)
        FUZZ_CHECK(m + 4 > small_sz - 1);
    free(small);

    /* Normalise what a handler would see. */
    static char norm[BIG * 4];
    int r = sc_text_normalize(big, n, norm, sizeof norm);
    FUZZ_CHECK(r >= 0 || r == SC_ETOOBIG || r == SC_ENOMEM);
    if (r >= 0) {
        FUZZ_CHECK((size_t)r < sizeof norm && norm[r] == '\0');
        check_utf8(norm, (size_t)r);
    }
}

static void check_encode(const uint8_t *in, size_t len, enum sc_seg_mode mode, uint16_t ref,
                         unsigned max_parts)
{
    static struct sc_mt mt;
    int rc = sc_text_encode((const char *)in, len, mode, ref, max_parts, &mt);
    FUZZ_CHECK(rc == 0 || rc == SC_ETOOBIG);
    if (rc != 0)
        return;
    unsigned lim = max_parts < SC_MT_MAX_PARTS ? max_parts : SC_MT_MAX_PARTS;
    FUZZ_CHECK(mt.nparts >= 1 && mt.nparts <= lim);
    FUZZ_CHECK(mt.data_coding == 0 || mt.data_coding == 8);
    FUZZ_CHECK(mt.esm_class == 0 || mt.esm_class == 0x40);
    if (mode != SC_SEG_UDH)
        FUZZ_CHECK(mt.esm_class == 0);
    if (mode == SC_SEG_PAYLOAD)
        FUZZ_CHECK(mt.nparts == 1);

    static char text[SC_MT_MAX_BYTES + 1];
    size_t tlen = 0;
    for (unsigned i = 0; i < mt.nparts; i++) {
        size_t off = mt.off[i], plen = mt.len[i];
        FUZZ_CHECK(off + plen <= SC_MT_MAX_BYTES);
        if (mode != SC_SEG_PAYLOAD)
            FUZZ_CHECK(plen <= 160);
        const uint8_t *p = mt.bytes + off;
        size_t skip = 0;
        if (mt.esm_class == 0x40) {
            FUZZ_CHECK(plen >= 6);
            FUZZ_CHECK(p[0] == 5 && p[1] == 0 && p[2] == 3);
            FUZZ_CHECK(p[3] == (mt.ref & 0xFF) && p[4] == mt.nparts && p[5] == i + 1);
            skip = 6;
        }
        if (mt.data_coding == 8) {
            FUZZ_CHECK((plen - skip) % 2 == 0);
            if (mode != SC_SEG_PAYLOAD)
                FUZZ_CHECK(plen - skip <= 140);
        } else {
            for (size_t j = skip; j < plen; j++)
                FUZZ_CHECK(p[j] < 0x80);
            /* An escape is never the last septet of a part. */
            if (plen > skip)
                FUZZ_CHECK(p[plen - 1] != 0x1B);
        }
        memcpy(text + tlen, p + skip, plen - skip);
        tlen += plen - skip;
    }
    if (mt.nparts > 1)
        FUZZ_CHECK(mode != SC_SEG_PAYLOAD);

    /* Round trip for valid UTF-8 without NUL (decode drops NULs). */
    if (u8_check(in, len) == NULL && memchr(in, 0, len) == NULL) {
        static char back[BIG * 2];
        size_t n = sc_text_decode(mt.data_coding, SC_DC0_GSM, (const uint8_t *)text, tlen, back,
                                  sizeof back);
        if (n != len || memcmp(back, in, len) != 0) {
            fprintf(stderr, "round trip: %zu bytes in, %zu out (dc %u)\n", len, n,
                    mt.data_coding);
            FUZZ_CHECK(!"decode(encode(x)) == x");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    /* An exactly sized copy so that ASan sees reads past the text. */
    uint8_t *copy = malloc(len ? len : 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, in, len);

    static const uint8_t dcs[] = {0, 1, 2, 3, 4, 8, 0x10, 0x18, 0x20, 0x48, 0xC0, 0xE0, 0xF0, 0xF4, 0xFF};
    for (size_t i = 0; i < sizeof dcs; i++)
        check_decode(dcs[i], SC_DC0_GSM, copy, len);
    check_decode(0, SC_DC0_LATIN1, copy, len);
    check_decode(0, SC_DC0_ASCII, copy, len);

    /* Normalise the raw bytes (invalid UTF-8 included) into a tight buffer. */
    size_t nsz = len % 7 == 0 ? 3 * len + 16 : len % 61 + 1;
    char *norm = malloc(nsz);
    FUZZ_CHECK(norm != NULL);
    int r = sc_text_normalize((const char *)copy, len, norm, nsz);
    FUZZ_CHECK(r >= 0 || r == SC_ETOOBIG || r == SC_ENOMEM);
    if (r >= 0) {
        FUZZ_CHECK((size_t)r < nsz && norm[r] == '\0');
        check_utf8(norm, (size_t)r);
    }
    free(norm);

    /* One line for handsets (catalogue names): valid UTF-8 without control
     * characters, never longer than its buffer, in a tight buffer too. */
    size_t osz = len % 5 == 0 ? 3 * len + 1 : len % 37 + 1;
    char *line = malloc(osz);
    FUZZ_CHECK(line != NULL);
    size_t ln = sc_text_one_line((const char *)copy, len, line, osz);
    FUZZ_CHECK(ln < osz && line[ln] == '\0' && strlen(line) == ln);
    check_utf8(line, ln);
    for (size_t i = 0; i < ln; i++)
        FUZZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
    free(line);

    uint16_t ref = (uint16_t)(ctl * 257u);
    unsigned max_parts = (ctl & 0x0F) + 1;   /* 1..16 */
    check_encode(copy, len, SC_SEG_UDH, ref, max_parts);
    check_encode(copy, len, SC_SEG_SAR, ref, max_parts);
    check_encode(copy, len, SC_SEG_PAYLOAD, ref, max_parts);
    free(copy);
    return 0;
}
