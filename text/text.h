/* text.h -- SMS text: MO decoding by data_coding, command normalisation, MT
 * encoding (GSM 7-bit or UCS-2) and segmentation.
 *
 * Pure functions, no allocation on the hot path except where stated. Invalid
 * input never crashes anything: undecodable bytes become U+FFFD. */
#ifndef SC_TEXT_H
#define SC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/smpp.h"

/* Decode an MO's text bytes to UTF-8.
 * dc 0: per dc0 (GSM 03.38 default alphabet + extension table, one septet per
 * octet as SMPP carries it, i.e. unpacked); dc 1: IA5/ASCII; dc 3: Latin-1;
 * dc 8: UCS-2, read as UTF-16BE (surrogate pairs accepted, lone surrogates
 * and an odd trailing byte replaced). The GSM 03.38 coding groups decode by
 * their alphabet bits, whatever dc0 says: 0x10..0x7F (general data coding
 * and automatic deletion: bits 3..2 = 00 GSM 7-bit, 01 8-bit data, 10 UCS-2;
 * bit 5 = compressed, not supported: every byte replaced); 0xC0..0xDF
 * (message waiting, GSM 7-bit); 0xE0..0xEF (message waiting, UCS-2);
 * 0xF0..0xFF (message class: bit 2 = 0 GSM 7-bit, 1 8-bit data). 8-bit data
 * (and dc 2, 4) and every other value: bytes < 0x80 as ASCII, the rest
 * replaced. Output is always NUL-terminated and truncated on a character
 * boundary when outsz is too small. Returns bytes written (without the
 * NUL). */
size_t sc_text_decode(uint8_t dc, enum sc_dc0 dc0, const uint8_t *in, size_t len, char *out,
                      size_t outsz);

/* Normalise a command for matching: invalid UTF-8 sequences replaced by
 * U+FFFD, NFKC (full-width "００００" -> "0000", "ＴＤ" -> "TD", "①" -> "1"),
 * leading and trailing white space removed (ASCII and Unicode spaces, incl.
 * U+3000), ASCII letters upper-cased. Chinese text is unchanged. Output is
 * NUL-terminated. Returns its length, or SC_ETOOBIG if it does not fit in
 * outsz, or SC_ENOMEM. */
int sc_text_normalize(const char *in, size_t len, char *out, size_t outsz);

/* Make a one-line value from a feed (a catalogue name) safe to send in a
 * text: invalid UTF-8 becomes U+FFFD; each run of control characters (C0,
 * DEL, C1), line and paragraph separators (U+2028, U+2029) and bidi
 * controls (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) becomes one
 * space; such characters at either end are dropped. Output is NUL-terminated
 * and cut on a character boundary when outsz is too small. Returns its
 * length. */
size_t sc_text_one_line(const char *in, size_t len, char *out, size_t outsz);

/* UTF-8 offsets (libunistring's u8_mbtouc; an invalid sequence counts as
 * one character). s[0..len) starts on a character boundary.
 * sc_utf8_prefix: bytes of the first nchars characters (len if fewer).
 * sc_utf8_floor: the last character boundary at or before byte at <= len. */
size_t sc_utf8_prefix(const char *s, size_t len, size_t nchars);
size_t sc_utf8_floor(const char *s, size_t len, size_t at);

#define SC_MT_MAX_BYTES (SC_MT_MAX_PARTS * 160)  /* GSM parts are unpacked: 6 + 153 */

/* An encoded message: nparts parts, part i at bytes + off[i], len[i] bytes
 * (UDH included in SC_SEG_UDH mode). */
struct sc_mt {
    uint8_t data_coding;      /* 0 (GSM 7-bit, unpacked) or 8 (UCS-2/UTF-16BE) */
    uint8_t esm_class;        /* 0x40 when the parts carry a UDH, else 0 */
    uint8_t nparts;
    uint16_t ref;             /* concatenation reference used */
    uint16_t off[SC_MT_MAX_PARTS];
    uint16_t len[SC_MT_MAX_PARTS];
    uint8_t bytes[SC_MT_MAX_BYTES];
};

/* Encode UTF-8 text (invalid sequences replaced) for sending.
 * GSM 7-bit when every character is in the GSM default alphabet or its
 * extension table (an extension character costs two septets: 0x1B + code),
 * else UCS-2 (characters beyond the BMP as UTF-16 surrogate pairs).
 * One part holds 160 septets / 70 UTF-16 units. Longer texts are split into
 * parts of at most 153 septets / 67 units, never splitting an escape or a
 * surrogate pair. SC_SEG_UDH: each part starts with 05 00 03 ref total seq
 * (ref & 0xFF). SC_SEG_SAR: parts without UDH. SC_SEG_PAYLOAD: one part with
 * the whole text. An empty text gives one empty part.
 * Returns 0, SC_ETOOBIG when more than max_parts (<= SC_MT_MAX_PARTS) parts
 * would be needed. */
int sc_text_encode(const char *utf8, size_t len, enum sc_seg_mode mode, uint16_t ref,
                   unsigned max_parts, struct sc_mt *out);

#endif
