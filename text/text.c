/* text.c -- MO text decoding, command normalisation, MT encoding and
 * segmentation (contracts in text.h).
 *
 * UTF-8 is read with libunistring's u8_mbtouc, which gives U+FFFD for an
 * invalid sequence and never a surrogate, and written with u8_uctomb, which
 * refuses to write a character that does not fit (so truncation always falls
 * on a character boundary). NFKC is u8_normalize. No iconv; malloc only for
 * commands too long for the stack buffers (inside u8_normalize, or to replace
 * invalid UTF-8 in more than 85 bytes). */
#include "text.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <unistr.h>

#include "base/sc.h"
#include "gsm.h"

#define REPLACEMENT 0xFFFD /* U+FFFD REPLACEMENT CHARACTER */

/* SMPP data_coding values this file knows. */
enum { DC_DEFAULT = 0, DC_IA5 = 1, DC_LATIN1 = 3, DC_UCS2 = 8 };

static uint32_t get_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static void put_be16(uint8_t *p, uint32_t u)
{
    p[0] = (uint8_t)(u >> 8);
    p[1] = (uint8_t)u;
}

static bool is_high_surrogate(uint32_t u) { return u >= 0xD800 && u <= 0xDBFF; }
static bool is_low_surrogate(uint32_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

/* The character at s[*i] (*i < n), advancing *i past it; U+FFFD for an
 * invalid sequence. */
static uint32_t utf8_next(const uint8_t *s, size_t n, size_t *i)
{
    ucs4_t cp;
    *i += (size_t)u8_mbtouc(&cp, s + *i, n - *i);
    return cp;
}

size_t sc_utf8_prefix(const char *s, size_t len, size_t nchars)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    for (; i < len && nchars; nchars--)
        utf8_next(u, len, &i);
    return i;
}

size_t sc_utf8_floor(const char *s, size_t len, size_t at)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0, prev = 0;
    while (i <= at && i < len) {
        prev = i;
        utf8_next(u, len, &i);
    }
    return i <= at ? i : prev;
}

/* ---- MO decoding ---------------------------------------------------------- */

/* A decoder reads the character at in[*i] (*i < len), advances *i past it and
 * returns its code point; U+FFFD for what it cannot decode. */
typedef uint32_t (*decode_fn)(const uint8_t *in, size_t len, size_t *i);

static uint32_t next_ascii(const uint8_t *in, size_t len, size_t *i)
{
    uint8_t b = in[(*i)++];
    return b < 0x80 ? b : REPLACEMENT;
}

/* ISO 8859-1 is the first 256 code points of Unicode. */
static uint32_t next_latin1(const uint8_t *in, size_t len, size_t *i)
{
    return in[(*i)++];
}

static uint32_t next_gsm(const uint8_t *in, size_t len, size_t *i)
{
    uint8_t s = in[(*i)++];
    if (s >= 0x80)
        return REPLACEMENT;
    if (s != SC_GSM_ESC || *i == len)
        return sc__gsm_base_char(s); /* a trailing lone escape gives a space */
    uint8_t code = in[(*i)++];
    if (code >= 0x80)
        return REPLACEMENT;
    uint32_t cp = sc__gsm_ext_char(code);
    /* TS 23.038 6.2.1.1: a code the extension table does not define is shown
     * as the default alphabet's character (for 0x1B 0x1B: a space). */
    return cp != 0 ? cp : sc__gsm_base_char(code);
}

static uint32_t next_utf16be(const uint8_t *in, size_t len, size_t *i)
{
    if (len - *i < 2) { /* odd trailing byte */
        *i = len;
        return REPLACEMENT;
    }
    uint32_t u = get_be16(in + *i);
    *i += 2;
    if (!is_high_surrogate(u))
        return is_low_surrogate(u) ? REPLACEMENT : u;
    if (len - *i >= 2) {
        uint32_t lo = get_be16(in + *i);
        if (is_low_surrogate(lo)) {
            *i += 2;
            return 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
    }
    return REPLACEMENT; /* lone high surrogate; what follows is read on its own */
}

/* A compressed text (TS 23.042): not implemented, every byte replaced. */
static uint32_t next_undecodable(const uint8_t *in, size_t len, size_t *i)
{
    (void)in;
    (void)len;
    (*i)++;
    return REPLACEMENT;
}

/* The decoder for a data_coding value (contract in text.h). SMPP 3.4
 * (5.2.19) defines 0x00..0x0E itself; 0xC0..0xFF are the GSM 03.38 coding
 * groups it refers to, and 0x10..0x7F are read as the GSM general data
 * coding groups (00xx, 01xx = marked for automatic deletion): bit 5
 * compressed, bits 3..2 the alphabet, bits 1..0 a message class that does
 * not matter here. */
static decode_fn decoder_for(uint8_t dc, enum sc_dc0 dc0)
{
    static const decode_fn by_alphabet_bits[4] = {next_gsm, next_ascii, next_utf16be, next_ascii};
    switch (dc) {
    case DC_DEFAULT:
        return dc0 == SC_DC0_LATIN1 ? next_latin1 : dc0 == SC_DC0_ASCII ? next_ascii : next_gsm;
    case DC_LATIN1:
        return next_latin1;
    case DC_UCS2:
        return next_utf16be;
    default:
        break;
    }
    if (dc >= 0x10 && dc <= 0x7F) /* general data coding / automatic deletion */
        return (dc & 0x20) ? next_undecodable : by_alphabet_bits[(dc >> 2) & 3];
    if (dc >= 0xC0 && dc <= 0xDF) /* message waiting: discard / store, GSM 7-bit */
        return next_gsm;
    if (dc >= 0xE0 && dc <= 0xEF) /* message waiting: store, UCS-2 */
        return next_utf16be;
    if (dc >= 0xF0)               /* message class: bit 2 = 8-bit data, else GSM 7-bit */
        return (dc & 0x04) ? next_ascii : next_gsm;
    /* IA5 (1), octets (2, 4, 8-bit data), alphabets we do not decode (JIS,
     * ISO-8859-5/8, pictograms, KS C 5601) and reserved values: ASCII, the
     * rest replaced. */
    return next_ascii;
}

/* U+0000 (an ASCII, Latin-1 or UCS-2 NUL; GSM's septet 0 is '@') is dropped:
 * it never means anything in an SMS, some SMSCs pad texts with it, and it
 * would cut the NUL-terminated output short. */
size_t sc_text_decode(uint8_t dc, enum sc_dc0 dc0, const uint8_t *in, size_t len, char *out,
                      size_t outsz)
{
    if (outsz == 0)
        return 0;
    decode_fn next = decoder_for(dc, dc0);
    uint8_t *o = (uint8_t *)out;
    size_t n = 0, room = outsz - 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp = next(in, len, &i);
        if (cp == 0)
            continue;
        int k = u8_uctomb(o + n, cp, (ptrdiff_t)(room - n));
        if (k < 0) /* does not fit: stop before this character */
            break;
        n += (size_t)k;
    }
    o[n] = '\0';
    return n;
}

/* ---- Command normalisation ------------------------------------------------ */

/* Trimmed around a command: the Unicode White_Space characters, plus U+200B
 * and U+FEFF, which are invisible (some handsets start a UCS-2 text with a
 * byte order mark). NFKC has already turned U+00A0, U+2000..U+200A, U+202F,
 * U+205F and U+3000 into U+0020; they are listed anyway so that this set
 * does not depend on it. */
static bool is_trim_space(uint32_t cp)
{
    if (cp <= 0x20)
        return cp == ' ' || (cp >= '\t' && cp <= '\r');
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000: case 0xFEFF:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200B;
    }
}

/* Copy valid UTF-8 s[0..n) to out without the white space around it, with
 * ASCII letters upper-cased, NUL-terminated. out may be s itself (the copy
 * only moves bytes to lower addresses). Returns the length or SC_ETOOBIG. */
static int trim_upper(const uint8_t *s, size_t n, char *out, size_t outsz)
{
    size_t start = n, end = 0; /* first and one-past-last non-space byte */
    for (size_t i = 0; i < n;) {
        size_t at = i;
        if (!is_trim_space(utf8_next(s, n, &i))) {
            if (start == n)
                start = at;
            end = i;
        }
    }
    if (start > end) /* nothing but spaces */
        start = end = 0;
    size_t m = end - start;
    if (m >= outsz || m > INT_MAX) {
        out[0] = '\0';
        return SC_ETOOBIG;
    }
    for (size_t i = 0; i < m; i++) {
        uint8_t c = s[start + i]; /* UTF-8 bytes of non-ASCII are >= 0x80 */
        out[i] = (char)(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
    }
    out[m] = '\0';
    return (int)m;
}

static bool is_ascii(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return false;
    return true;
}

static bool overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + bn && y < x + an;
}

/* Copy s[0..n) to dst, replacing each invalid UTF-8 sequence by U+FFFD.
 * dst holds 3 * n bytes: u8_mbtouc consumes at least one byte per U+FFFD
 * (3 bytes), and a valid character is copied as it is. Returns the length. */
static size_t utf8_sanitize(const uint8_t *s, size_t n, uint8_t *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n;)
        o += (size_t)u8_uctomb(dst + o, utf8_next(s, n, &i), (ptrdiff_t)(3 * n - o));
    return o;
}

/* Characters sc_text_one_line() turns into a space. */
static bool is_line_breaker(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

size_t sc_text_one_line(const char *in, size_t len, char *out, size_t outsz)
{
    if (outsz == 0)
        return 0;
    const uint8_t *s = (const uint8_t *)in;
    size_t o = 0;
    bool gap = false; /* a run of line breakers waits to become one space */
    for (size_t i = 0; i < len;) {
        uint32_t cp = utf8_next(s, len, &i);
        if (is_line_breaker(cp)) {
            gap = o > 0;
            continue;
        }
        uint8_t buf[6];
        int n = u8_uctomb(buf, cp, sizeof buf);
        if (n <= 0)
            continue;
        if (o + (gap ? 1 : 0) + (size_t)n >= outsz)
            break;
        if (gap)
            out[o++] = ' ';
        gap = false;
        memcpy(out + o, buf, (size_t)n);
        o += (size_t)n;
    }
    out[o] = '\0';
    return o;
}

/* NFKC of valid UTF-8 s[0..n), then trim_upper() into out. u8_normalize
 * writes into out when the result fits in outsz - 1 bytes (room left for the
 * NUL) and mallocs otherwise: the result may still fit once trimmed. */
static int nfkc_trim_upper(const uint8_t *s, size_t n, char *out, size_t outsz)
{
    /* u8_normalize's result buffer must not overlap its input. */
    uint8_t *rbuf = overlaps(s, n, out, outsz) ? NULL : (uint8_t *)out;
    size_t rlen = outsz - 1;
    uint8_t *r = u8_normalize(UNINORM_NFKC, s, n, rbuf, &rlen);
    if (r == NULL) {
        out[0] = '\0';
        return SC_ENOMEM;
    }
    int rc = trim_upper(r, rlen, out, outsz);
    if (r != rbuf)
        free(r);
    return rc;
}

/* in and out may be the same buffer. */
int sc_text_normalize(const char *in, size_t len, char *out, size_t outsz)
{
    const uint8_t *s = (const uint8_t *)in;
    if (outsz == 0)
        return SC_ETOOBIG;
    /* The common case, costing one pass: NFKC maps ASCII to itself. */
    if (is_ascii(s, len))
        return trim_upper(s, len, out, outsz);

    /* libunistring 1.0's u8_normalize happens to replace invalid input by
     * U+FFFD too, but does not document it: do it here. */
    uint8_t stackbuf[256], *fixed = NULL;
    if (u8_check(s, len) != NULL) {
        if (len <= sizeof stackbuf / 3)
            fixed = stackbuf;
        else if (len <= SIZE_MAX / 3)
            fixed = malloc(3 * len);
        if (fixed == NULL) {
            out[0] = '\0';
            return SC_ENOMEM;
        }
        len = utf8_sanitize(s, len, fixed);
        s = fixed;
    }
    int rc = nfkc_trim_upper(s, len, out, outsz);
    if (fixed != stackbuf)
        free(fixed);
    return rc;
}

/* ---- MT encoding and segmentation ----------------------------------------- */

/* What one SMS carries: 140 octets of user data, i.e. 160 GSM septets
 * (packed by the SMSC) or 70 UTF-16 units. A part of a concatenated message
 * also carries the 6-octet UDH 05 00 03 ref total seq, leaving 134 octets:
 * 67 UTF-16 units, or 153 septets because 7-bit text after a UDH starts on a
 * septet boundary (48 bits of UDH padded to 49 = 7 septets; 160 - 7 = 153).
 * SAR parts have the same sizes: the SMSC adds the UDH when delivering. */
struct scheme {
    uint8_t data_coding;
    uint16_t single_max; /* bytes of encoded text in an unsplit message */
    uint16_t part_max;   /* bytes of encoded text in each part of a split one */
};
static const struct scheme k_gsm = {DC_DEFAULT, 160, 153};
static const struct scheme k_ucs2 = {DC_UCS2, 140, 134};

#define UDH_LEN 6
#define ESM_UDHI 0x40

/* Write the text as unpacked GSM septets into buf (cap bytes). Returns the
 * length, SC_EENCODING at the first character GSM 7-bit lacks, or
 * SC_ETOOBIG. The UCS-2 form is never shorter (a character costs at most
 * two septets but at least two bytes), so SC_ETOOBIG settles it. */
static long to_gsm(const uint8_t *s, size_t n, uint8_t *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int g = sc__gsm_encode(utf8_next(s, n, &i));
        if (g < 0)
            return SC_EENCODING;
        size_t need = g & SC_GSM_EXT ? 2 : 1;
        if (cap - o < need)
            return SC_ETOOBIG;
        if (g & SC_GSM_EXT)
            buf[o++] = SC_GSM_ESC;
        buf[o++] = (uint8_t)(g & 0x7F);
    }
    return (long)o;
}

/* Write the text as UTF-16BE into buf (cap bytes). Returns the length or
 * SC_ETOOBIG. */
static long to_utf16be(const uint8_t *s, size_t n, uint8_t *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = utf8_next(s, n, &i);
        size_t need = cp >= 0x10000 ? 4 : 2;
        if (cap - o < need)
            return SC_ETOOBIG;
        if (need == 4) { /* beyond the BMP: a surrogate pair */
            cp -= 0x10000;
            put_be16(buf + o, 0xD800 | cp >> 10);
            cp = 0xDC00 | (cp & 0x3FF);
            o += 2;
        }
        put_be16(buf + o, cp);
        o += 2;
    }
    return (long)o;
}

/* Where a part ending before byte end of text p may end without splitting a
 * character: an extension character's escape must stay with its code, a
 * high surrogate with its low one; else the part ends one septet or unit
 * earlier and the character opens the next part. A 0x1B in the septets is
 * always an escape: no character encodes as septet 0x1B and the extension
 * table has no code 0x1B. */
static size_t safe_end(const struct scheme *sch, const uint8_t *p, size_t end)
{
    if (sch->data_coding == DC_DEFAULT)
        return p[end - 1] == SC_GSM_ESC ? end - 1 : end;
    return is_high_surrogate(get_be16(p + end - 2)) ? end - 2 : end;
}

/* Cut n bytes of encoded text p into parts: sets cut[0] = 0 and cut[1..k] to
 * the end of each part, and returns k, or 0 when more than max_parts parts
 * would be needed. cut holds max_parts + 1 entries. */
static unsigned split(const struct scheme *sch, const uint8_t *p, size_t n, bool whole,
                      unsigned max_parts, size_t *cut)
{
    unsigned k = 0;
    cut[0] = 0;
    if (whole || n <= sch->single_max) {
        if (max_parts == 0)
            return 0;
        cut[1] = n;
        return 1;
    }
    while (cut[k] < n) {
        if (k == max_parts)
            return 0;
        size_t end = cut[k] + sch->part_max;
        cut[k + 1] = end >= n ? n : safe_end(sch, p, end);
        k++;
    }
    return k;
}

/* Split the n bytes of encoded text at out->bytes into parts and set out's
 * other fields. With UDHs the parts move right, the last one first so that
 * none is overwritten before it has moved: part i's data goes from cut[i] to
 * cut[i] + (i + 1) * UDH_LEN, its header just before. */
static int lay_out(struct sc_mt *out, const struct scheme *sch, size_t n, enum sc_seg_mode mode,
                   uint16_t ref, unsigned max_parts)
{
    size_t cut[SC_MT_MAX_PARTS + 1];
    unsigned k = split(sch, out->bytes, n, mode == SC_SEG_PAYLOAD, max_parts, cut);
    if (k == 0)
        return SC_ETOOBIG;
    size_t udh = mode == SC_SEG_UDH && k > 1 ? UDH_LEN : 0;
    if (n + k * udh > sizeof out->bytes)
        return SC_ETOOBIG;

    out->data_coding = sch->data_coding;
    out->esm_class = udh ? ESM_UDHI : 0;
    out->nparts = (uint8_t)k;
    /* The reference as receivers see it: 8 bits in a UDH, 16 in SAR TLVs. */
    out->ref = k == 1 ? 0 : udh ? (ref & 0xFF) : ref;
    for (unsigned i = k; i-- > 0;) {
        size_t off = cut[i] + i * udh, len = cut[i + 1] - cut[i];
        if (udh) {
            uint8_t *h = out->bytes + off;
            memmove(h + udh, out->bytes + cut[i], len);
            h[0] = UDH_LEN - 1; /* UDHL */
            h[1] = 0x00;        /* IE: concatenation, 8-bit reference */
            h[2] = 3;           /* IE length */
            h[3] = (uint8_t)ref;
            h[4] = (uint8_t)k;
            h[5] = (uint8_t)(i + 1);
        }
        out->off[i] = (uint16_t)off;
        out->len[i] = (uint16_t)(udh + len);
    }
    return 0;
}

/* The text is encoded straight into out->bytes, then laid out in place. */
int sc_text_encode(const char *utf8, size_t len, enum sc_seg_mode mode, uint16_t ref,
                   unsigned max_parts, struct sc_mt *out)
{
    const uint8_t *s = (const uint8_t *)utf8;
    const struct scheme *sch = &k_gsm;
    memset(out, 0, offsetof(struct sc_mt, bytes));
    long n = to_gsm(s, len, out->bytes, sizeof out->bytes);
    if (n == SC_EENCODING) {
        sch = &k_ucs2;
        n = to_utf16be(s, len, out->bytes, sizeof out->bytes);
    }
    if (n < 0)
        return (int)n;
    return lay_out(out, sch, (size_t)n, mode, ref, SC_MIN(max_parts, SC_MT_MAX_PARTS));
}
