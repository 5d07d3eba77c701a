/* test_text.c -- unit tests for text/text.c: decoding, normalisation,
 * encoding and segmentation.
 * Long by design: one test file per module under test (text/text.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/sc.h"
#include "text/text.h"

#define FFFD "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* ---- helpers --------------------------------------------------------------- */

/* n distinct CJK characters U+4E00, U+4E01, ... as UTF-8 into buf (3n + 1
 * bytes); returns the length. Distinct so that a part's first and last
 * bytes say which characters it holds. */
static size_t cjk(char *buf, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned cp = 0x4E00 + i;
        buf[3 * i] = (char)(0xE0 | cp >> 12);
        buf[3 * i + 1] = (char)(0x80 | (cp >> 6 & 0x3F));
        buf[3 * i + 2] = (char)(0x80 | (cp & 0x3F));
    }
    buf[3 * n] = '\0';
    return 3 * (size_t)n;
}

/* n copies of c into buf (n + 1 bytes); returns n. */
static size_t rep(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return n;
}

static const uint8_t *part(const struct sc_mt *m, unsigned i) { return m->bytes + m->off[i]; }

/* Part i of m starts with the UDH 05 00 03 ref total seq. */
static void assert_udh(const struct sc_mt *m, unsigned i, uint8_t ref)
{
    const uint8_t want[6] = {0x05, 0x00, 0x03, ref, m->nparts, (uint8_t)(i + 1)};
    assert_true(m->len[i] >= 6);
    assert_memory_equal(part(m, i), want, 6);
}

/* Octets a part takes on the air: UCS-2 as is; GSM septets packed 7 bits
 * each, after the UDH padded to a septet boundary. */
static size_t air_octets(const struct sc_mt *m, unsigned i)
{
    size_t udh = m->esm_class & 0x40 ? 6 : 0;
    size_t data = m->len[i] - udh;
    if (m->data_coding == 8)
        return udh + data;
    size_t fill = udh ? (7 - udh * 8 % 7) % 7 : 0;
    return udh + (data * 7 + fill + 7) / 8;
}

/* The parts' data without UDHs, concatenated into buf; returns the length. */
static size_t join_parts(const struct sc_mt *m, uint8_t *buf)
{
    size_t udh = m->esm_class & 0x40 ? 6 : 0, n = 0;
    for (unsigned i = 0; i < m->nparts; i++) {
        memcpy(buf + n, part(m, i) + udh, m->len[i] - udh);
        n += m->len[i] - udh;
    }
    return n;
}

/* ---- parsers --------------------------------------------------------------- */

static void test_parse_names(void **state)
{
    (void)state;
    assert_int_equal(sc_dc0_parse("gsm"), SC_DC0_GSM);
    assert_int_equal(sc_dc0_parse("latin1"), SC_DC0_LATIN1);
    assert_int_equal(sc_dc0_parse("ascii"), SC_DC0_ASCII);
    assert_int_equal(sc_dc0_parse("utf8"), -1);
    assert_int_equal(sc_dc0_parse(""), -1);
    assert_int_equal(sc_dc0_parse(NULL), -1);
    assert_int_equal(sc_seg_mode_parse("udh"), SC_SEG_UDH);
    assert_int_equal(sc_seg_mode_parse("sar"), SC_SEG_SAR);
    assert_int_equal(sc_seg_mode_parse("payload"), SC_SEG_PAYLOAD);
    assert_int_equal(sc_seg_mode_parse("UDH"), -1);
    assert_int_equal(sc_seg_mode_parse(NULL), -1);
}

/* ---- decoding -------------------------------------------------------------- */

struct decode_case {
    const char *name;
    uint8_t dc;
    enum sc_dc0 dc0;
    const char *in;
    size_t len;
    const char *want;
};

#define IN(s) s, sizeof(s) - 1

static const struct decode_case decode_cases[] = {
    /* GSM 03.38, unpacked */
    {"gsm ascii", 0, SC_DC0_GSM, IN("Hello 0000"), "Hello 0000"},
    {"gsm specials", 0, SC_DC0_GSM, IN("\x00\x01\x02\x11\x10\x24\x40\x60\x7F"),
     "@\xC2\xA3$_\xCE\x94\xC2\xA4\xC2\xA1\xC2\xBF\xC3\xA0"},
    {"gsm escapes", 0, SC_DC0_GSM,
     IN("\x1B\x28\x1B\x65\x1B\x29\x1B\x14\x1B\x2F\x1B\x3C\x1B\x3D\x1B\x3E\x1B\x40"),
     "{\xE2\x82\xAC}^\\[~]|"},
    {"gsm form feed", 0, SC_DC0_GSM, IN("a\x1B\x0A" "b"), "a\fb"},
    {"gsm unknown escape", 0, SC_DC0_GSM, IN("\x1B\x41\x1B\x0D"), "A\r"},
    {"gsm escape escape", 0, SC_DC0_GSM, IN("a\x1B\x1B" "b"), "a b"},
    {"gsm trailing escape", 0, SC_DC0_GSM, IN("a\x1B"), "a "},
    {"gsm invalid bytes", 0, SC_DC0_GSM, IN("\x80" "A\xFF"), FFFD "A" FFFD},
    {"gsm escape invalid", 0, SC_DC0_GSM, IN("\x1B\x80" "A"), FFFD "A"},
    /* dc 0 as Latin-1 or ASCII */
    {"dc0 latin1", 0, SC_DC0_LATIN1, IN("caf\xE9"), "caf\xC3\xA9"},
    {"dc0 ascii", 0, SC_DC0_ASCII, IN("caf\xE9"), "caf" FFFD},
    /* dc 1 (IA5), 3 (Latin-1), unknown */
    {"ia5", 1, SC_DC0_GSM, IN("td\x80"), "td" FFFD},
    {"latin1", 3, SC_DC0_GSM, IN("\xA0\xFF" "A"), "\xC2\xA0\xC3\xBF" "A"},
    {"binary dc 4", 4, SC_DC0_GSM, IN("ab\xC3"), "ab" FFFD},
    /* dc 8: UTF-16BE */
    {"ucs2", 8, SC_DC0_GSM, IN("\x4E\x2D\x65\x87\x00\x30"), "\xE4\xB8\xAD\xE6\x96\x87" "0"},
    {"ucs2 fullwidth", 8, SC_DC0_GSM, IN("\xFF\x10\xFF\x10"), "\xEF\xBC\x90\xEF\xBC\x90"},
    {"utf16 emoji", 8, SC_DC0_GSM, IN("\xD8\x3D\xDE\x00\x00\x41"), "\xF0\x9F\x98\x80" "A"},
    {"lone high", 8, SC_DC0_GSM, IN("\xD8\x3D\x00\x41"), FFFD "A"},
    {"high high low", 8, SC_DC0_GSM, IN("\xD8\x3D\xD8\x3D\xDE\x00"), FFFD "\xF0\x9F\x98\x80"},
    {"trailing high", 8, SC_DC0_GSM, IN("\x00\x41\xD8\x3D"), "A" FFFD},
    {"lone low", 8, SC_DC0_GSM, IN("\xDE\x00\x00\x41"), FFFD "A"},
    {"odd length", 8, SC_DC0_GSM, IN("\x00\x41\x00"), "A" FFFD},
    {"bom kept", 8, SC_DC0_GSM, IN("\xFE\xFF\x00\x31"), "\xEF\xBB\xBF" "1"},
    /* Coding groups of GSM 03.38 (TS 23.038 4): the alphabet bits decide,
     * whatever dc0 says (issue 8 item 9). */
    {"f0 gsm class 0", 0xF0, SC_DC0_ASCII, IN("\x00" "0000\x11\x1B\x65"), "@0000_\xE2\x82\xAC"},
    {"f1 gsm class 1", 0xF1, SC_DC0_LATIN1, IN("TD\x02"), "TD$"},
    {"f3 gsm class 3", 0xF3, SC_DC0_GSM, IN("\x10"), "\xCE\x94"},
    {"f4 8-bit class 0", 0xF4, SC_DC0_GSM, IN("00\x11\xE9"), "00\x11" FFFD},
    {"f7 8-bit class 3", 0xF7, SC_DC0_GSM, IN("ab\xC3"), "ab" FFFD},
    {"fc reserved bit 3, gsm", 0xF8, SC_DC0_GSM, IN("\x00"), "@"},
    {"c0 mwi discard gsm", 0xC0, SC_DC0_GSM, IN("\x00" "1"), "@1"},
    {"d8 mwi store gsm", 0xD8, SC_DC0_ASCII, IN("\x24"), "\xC2\xA4"},
    {"e0 mwi store ucs2", 0xE0, SC_DC0_GSM, IN("\x4E\x2D\x00\x30"), "\xE4\xB8\xAD" "0"},
    {"ef mwi store ucs2", 0xEF, SC_DC0_GSM, IN("\xFF\x10"), "\xEF\xBC\x90"},
    {"10 general gsm class 0", 0x10, SC_DC0_ASCII, IN("\x00" "A"), "@A"},
    {"11 general gsm class 1", 0x11, SC_DC0_GSM, IN("\x11"), "_"},
    {"14 general 8-bit", 0x14, SC_DC0_GSM, IN("a\x80"), "a" FFFD},
    {"18 general ucs2 class 0", 0x18, SC_DC0_GSM, IN("\x65\x87"), "\xE6\x96\x87"},
    {"1b general ucs2 class 3", 0x1B, SC_DC0_GSM, IN("\x00\x41"), "A"},
    {"1c general reserved", 0x1C, SC_DC0_GSM, IN("a\x80"), "a" FFFD},
    {"20 compressed", 0x20, SC_DC0_GSM, IN("ab"), FFFD FFFD},
    {"38 compressed ucs2", 0x38, SC_DC0_GSM, IN("\x00\x41"), FFFD FFFD},
    {"40 auto-delete gsm", 0x40, SC_DC0_ASCII, IN("\x00"), "@"},
    {"48 auto-delete ucs2", 0x48, SC_DC0_GSM, IN("\x00\x41"), "A"},
    {"80 reserved group", 0x80, SC_DC0_GSM, IN("a\x80"), "a" FFFD},
    /* SMPP's own values below 0x10 are not coding groups */
    {"smpp 2 octets", 2, SC_DC0_GSM, IN("a\x80"), "a" FFFD},
    {"smpp 6 cyrillic unsupported", 6, SC_DC0_GSM, IN("a\xB0"), "a" FFFD},
    /* NUL is dropped (GSM septet 0 is '@') */
    {"nul latin1", 3, SC_DC0_GSM, IN("a\x00" "b\x00"), "ab"},
    {"nul ucs2", 8, SC_DC0_GSM, IN("\x00\x00\x00\x41"), "A"},
    {"empty", 8, SC_DC0_GSM, IN(""), ""},
};

static void test_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SC_ARRAY_LEN(decode_cases); i++) {
        const struct decode_case *c = &decode_cases[i];
        char out[64];
        size_t n = sc_text_decode(c->dc, c->dc0, (const uint8_t *)c->in, c->len, out, sizeof out);
        if (n != strlen(c->want) || strcmp(out, c->want) != 0)
            fail_msg("decode case \"%s\": got %zu bytes \"%s\"", c->name, n, out);
    }
}

/* Truncation keeps whole characters, always NUL-terminates and never writes
 * at or past outsz. */
static void test_decode_truncation(void **state)
{
    (void)state;
    static const uint8_t ucs2[] = {0x4E, 0x2D, 0x65, 0x87}; /* 中文: 3 + 3 bytes */
    static const uint8_t gsm[] = {0x1B, 0x65, 0x1B, 0x65}; /* €€: 3 + 3 bytes */
    static const struct {
        const uint8_t *in;
        uint8_t dc;
        size_t outsz, want;
    } cases[] = {
        {ucs2, 8, 1, 0}, {ucs2, 8, 3, 0}, {ucs2, 8, 4, 3}, {ucs2, 8, 6, 3}, {ucs2, 8, 7, 6},
        {gsm, 0, 5, 3},  {gsm, 0, 7, 6},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        char out[16];
        memset(out, 0x55, sizeof out);
        size_t n = sc_text_decode(cases[i].dc, SC_DC0_GSM, cases[i].in, 4, out, cases[i].outsz);
        assert_int_equal(n, cases[i].want);
        assert_int_equal(out[n], '\0');
        for (size_t j = cases[i].outsz; j < sizeof out; j++)
            assert_int_equal((uint8_t)out[j], 0x55);
    }
    char canary = 'x';
    assert_int_equal(sc_text_decode(8, SC_DC0_GSM, ucs2, 4, &canary, 0), 0);
    assert_int_equal(canary, 'x');
}

/* ---- normalisation ----------------------------------------------------------- */

static const struct {
    const char *in, *want;
} norm_cases[] = {
    {"0000", "0000"},
    {"td", "TD"},
    {" cxye\t\r\n", "CXYE"},
    {"\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90", "0000"},            /* ００００ */
    {" \xEF\xBC\xB4\xEF\xBC\xA4\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93 ", "TD123"}, /* ＴＤ１２３ */
    {"\xEF\xBD\x94\xEF\xBD\x84", "TD"},                                        /* ｔｄ */
    {"\xE2\x91\xA0", "1"},                                                     /* ① */
    {"\xE3\x80\x80" "0000\xE3\x80\x80", "0000"},                              /* U+3000 */
    {"\xC2\xA0" "1\xE2\x80\x83", "1"},                                         /* U+00A0, U+2003 */
    {"\xE2\x80\xA8" "1\xE1\x9A\x80", "1"},                                     /* U+2028, U+1680 */
    {"\xEF\xBB\xBF" "0000", "0000"},                                           /* BOM */
    {"\xE9\x80\x80\xE8\xAE\xA2", "\xE9\x80\x80\xE8\xAE\xA2"},                  /* 退订 */
    {"  \xE9\x80\x80 \xE8\xAE\xA2  ", "\xE9\x80\x80 \xE8\xAE\xA2"},             /* inner space */
    {"1\xEF\xBC\x8C" "2\xE3\x80\x81" "3", "1,2\xE3\x80\x81" "3"},              /* ， and 、 */
    {"\xC3\xA9t\xC3\xA9", "\xC3\xA9T\xC3\xA9"},                                /* only ASCII upper */
    {"e\xCC\x81", "\xC3\xA9"},                                                 /* composed */
    {"", ""},
    {" \t ", ""},
    {"\xE3\x80\x80\xE3\x80\x80", ""},
    /* invalid UTF-8 */
    {"a\x80" "b", "A" FFFD "B"},
    {"\xFF\xEF\xBC\x90", FFFD "0"},
    {"\xE4\xB8" "td", FFFD "TD"},
};

static void test_normalize_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SC_ARRAY_LEN(norm_cases); i++) {
        char out[64];
        const char *in = norm_cases[i].in;
        int n = sc_text_normalize(in, strlen(in), out, sizeof out);
        if (n != (int)strlen(norm_cases[i].want) || strcmp(out, norm_cases[i].want) != 0)
            fail_msg("normalize case %zu: got %d \"%s\"", i, n, out);
    }
}

/* Whatever the bytes, the result is bounded and NUL-terminated: every byte
 * value before an 'x', and ill-formed sequences (surrogate, overlong, beyond
 * U+10FFFF, 5-byte form) that must come out as U+FFFD. */
static void test_normalize_garbage(void **state)
{
    (void)state;
    char in[2], out[32];
    for (unsigned b = 0; b < 256; b++) {
        in[0] = (char)b;
        in[1] = 'x';
        int n = sc_text_normalize(in, 2, out, sizeof out);
        assert_true(n >= 1 && n < (int)sizeof out);
        assert_int_equal(out[n], '\0');
        assert_int_equal(out[n - 1], 'X');
    }
    static const char *const seqs[] = {"\xED\xA0\x80", "\xC0\x80", "\xF4\x90\x80\x80",
                                       "\xF8\x88\x80\x80\x80", "\xE0\x80\xAF"};
    for (size_t i = 0; i < SC_ARRAY_LEN(seqs); i++) {
        int n = sc_text_normalize(seqs[i], strlen(seqs[i]), out, sizeof out);
        assert_true(n >= 3);
        assert_non_null(strstr(out, FFFD));
    }
}

static void test_normalize_sizes(void **state)
{
    (void)state;
    char out[64];
    const char *fw = "\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90"; /* ００００ */
    assert_int_equal(sc_text_normalize("0000", 4, out, 5), 4);
    assert_int_equal(sc_text_normalize("0000", 4, out, 4), SC_ETOOBIG);
    assert_string_equal(out, "");
    /* Input larger than out, result fits. */
    assert_int_equal(sc_text_normalize(fw, 12, out, 5), 4);
    assert_string_equal(out, "0000");
    assert_int_equal(sc_text_normalize(fw, 12, out, 4), SC_ETOOBIG);
    assert_int_equal(sc_text_normalize(fw, 12, out, 0), SC_ETOOBIG);
    /* NFKC result larger than out (malloc'd by libunistring) but fits once
     * trimmed. */
    char sp[128];
    size_t n = 0;
    for (int i = 0; i < 10; i++)
        n += (size_t)sprintf(sp + n, "\xE3\x80\x80");
    n += (size_t)sprintf(sp + n, "\xEF\xBC\x91");
    for (int i = 0; i < 10; i++)
        n += (size_t)sprintf(sp + n, "\xE3\x80\x80");
    assert_int_equal(sc_text_normalize(sp, n, out, 2), 1);
    assert_string_equal(out, "1");
    /* NFKC expands U+FDFA (3 bytes) to 33 bytes. */
    assert_int_equal(sc_text_normalize("\xEF\xB7\xBA", 3, out, 16), SC_ETOOBIG);
    assert_int_equal(sc_text_normalize("\xEF\xB7\xBA", 3, out, 34), 33);
}

/* Long invalid input takes the heap path for the U+FFFD replacement. */
static void test_normalize_long_invalid(void **state)
{
    (void)state;
    char in[302], out[1024];
    memset(in, 0x80, 300);
    memcpy(in + 300, "td", 2);
    assert_int_equal(sc_text_normalize(in, sizeof in, out, sizeof out), 300 * 3 + 2);
    assert_memory_equal(out, FFFD FFFD, 6);
    assert_string_equal(out + 900, "TD");
    assert_int_equal(sc_text_normalize(in, sizeof in, out, 100), SC_ETOOBIG);
}

/* in == out works for ASCII and non-ASCII input alike. */
static void test_normalize_in_place(void **state)
{
    (void)state;
    char buf[64] = " td ";
    assert_int_equal(sc_text_normalize(buf, strlen(buf), buf, sizeof buf), 2);
    assert_string_equal(buf, "TD");
    strcpy(buf, "\xE3\x80\x80\xEF\xBD\x94\xEF\xBD\x84\xE3\x80\x80"); /* 　ｔｄ　 */
    assert_int_equal(sc_text_normalize(buf, strlen(buf), buf, sizeof buf), 2);
    assert_string_equal(buf, "TD");
}

/* ---- encoding: alphabets ------------------------------------------------------- */

/* sc_text_one_line: names from feeds reach handsets on one line, without
 * control characters. */
/* Character offsets: ASCII, 3-byte CJK, a 4-byte emoji and an invalid byte
 * (one character); the floor never lands inside a sequence. */
static void test_utf8_offsets(void **state)
{
    (void)state;
    const char s[] = "a\xE5\xBD\xA9\xF0\x9F\x98\x80\xFFz"; /* a 彩 😀 <FF> z */
    size_t n = sizeof s - 1;
    assert_int_equal(sc_utf8_prefix(s, n, 0), 0);
    assert_int_equal(sc_utf8_prefix(s, n, 1), 1);
    assert_int_equal(sc_utf8_prefix(s, n, 2), 4);
    assert_int_equal(sc_utf8_prefix(s, n, 3), 8);
    assert_int_equal(sc_utf8_prefix(s, n, 4), 9);
    assert_int_equal(sc_utf8_prefix(s, n, 99), n);
    static const size_t floor[] = {0, 1, 1, 1, 4, 4, 4, 4, 8, 9, 10};
    for (size_t at = 0; at <= n; at++)
        assert_int_equal(sc_utf8_floor(s, n, at), floor[at]);
}

static void test_one_line_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"彩铃", "彩铃"},
        {"多行\r\n名字", "多行 名字"},
        {"a\tb", "a b"},
        {"\x1b[31m红字\x1b[0m", "[31m红字 [0m"},
        {"\n\t 名字 \r\n", " 名字 "},          /* spaces are kept, breakers at the ends dropped */
        {"x\x7f\xc2\x85\xc2\x9fy", "x y"},        /* DEL, NEL, C1 */
        {"左\xe2\x80\xa8右\xe2\x80\xa9", "左 右"},  /* U+2028, U+2029 */
        {"\xe2\x80\xae" "abc\xe2\x81\xa9", "abc"}, /* bidi override and isolate */
        {"a\xff" "b", "a\xef\xbf\xbd" "b"},         /* invalid UTF-8: U+FFFD */
        {"", ""},
        {"\x01\x02", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t n = sc_text_one_line(cases[i].in, strlen(cases[i].in), out, sizeof out);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
    /* An embedded NUL is a control character too. */
    char out[16];
    assert_int_equal(sc_text_one_line("a\0b", 3, out, sizeof out), 3);
    assert_string_equal(out, "a b");
}

static void test_one_line_bounds(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'X', sizeof out);
    /* "彩铃彩铃" is 12 bytes: 2 characters (6 bytes) fit in 8 with the NUL. */
    assert_int_equal(sc_text_one_line("彩铃彩铃", 12, out, sizeof out), 6);
    assert_string_equal(out, "彩铃");
    /* A space waiting before a character that does not fit is not written. */
    assert_int_equal(sc_text_one_line("abcdef\n彩", 10, out, sizeof out), 6);
    assert_string_equal(out, "abcdef");
    assert_int_equal(sc_text_one_line("abc", 3, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(sc_text_one_line("abc", 3, out, 0), 0);
}

static void test_encode_gsm(void **state)
{
    (void)state;
    struct sc_mt m;
    static const struct {
        const char *in;
        const char *septets;
        size_t n;
    } cases[] = {
        {"", "", 0},
        {"Hi 0000", "Hi 0000", 7},
        {"@$_", "\x00\x02\x11", 3},
        {"{\xE2\x82\xAC}", "\x1B\x28\x1B\x65\x1B\x29", 6}, /* {€} costs 6 septets */
        {"[~]|^\\\f", "\x1B\x3C\x1B\x3D\x1B\x3E\x1B\x40\x1B\x14\x1B\x2F\x1B\x0A", 14},
        {"\xC3\x9C\xCE\xA9\xC2\xA3", "\x5E\x15\x01", 3}, /* ÜΩ£ */
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        assert_int_equal(sc_text_encode(cases[i].in, strlen(cases[i].in), SC_SEG_UDH, 1, 8, &m), 0);
        assert_int_equal(m.data_coding, 0);
        assert_int_equal(m.esm_class, 0);
        assert_int_equal(m.nparts, 1);
        assert_int_equal(m.off[0], 0);
        assert_int_equal(m.len[0], cases[i].n);
        assert_memory_equal(m.bytes, cases[i].septets, cases[i].n);
    }
}

static void test_encode_ucs2(void **state)
{
    (void)state;
    struct sc_mt m;
    static const struct {
        const char *in;
        const char *utf16;
        size_t n;
    } cases[] = {
        {"\xE4\xB8\xAD", "\x4E\x2D", 2},                           /* 中 */
        {"Hi \xE4\xB8\xAD", "\x00H\x00i\x00 \x4E\x2D", 8},          /* one CJK forces UCS-2 */
        {"\xF0\x9F\x98\x80", "\xD8\x3D\xDE\x00", 4},               /* emoji: surrogate pair */
        {"a\tb", "\x00" "a\x00\t\x00" "b", 6},                      /* tab is not GSM */
        {"ab\xFF", "\x00" "a\x00" "b\xFF\xFD", 6},                  /* invalid -> U+FFFD */
        {"\xED\xA0\x80", "\xFF\xFD", 2},                            /* UTF-8 surrogate */
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        assert_int_equal(sc_text_encode(cases[i].in, strlen(cases[i].in), SC_SEG_UDH, 1, 8, &m), 0);
        assert_int_equal(m.data_coding, 8);
        assert_int_equal(m.nparts, 1);
        assert_int_equal(m.len[0], cases[i].n);
        assert_memory_equal(m.bytes, cases[i].utf16, cases[i].n);
    }
}

/* ---- encoding: golden segment vectors ------------------------------------------ */

/* 70 characters: one part of 140 bytes, no UDH. */
static void test_seg_cjk_70(void **state)
{
    (void)state;
    char t[3 * 200 + 1];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, cjk(t, 70), SC_SEG_UDH, 0x42, 8, &m), 0);
    assert_int_equal(m.data_coding, 8);
    assert_int_equal(m.esm_class, 0);
    assert_int_equal(m.nparts, 1);
    assert_int_equal(m.len[0], 140);
    assert_memory_equal(part(&m, 0), "\x4E\x00\x4E\x01", 4);
    assert_memory_equal(part(&m, 0) + 138, "\x4E\x45", 2);
}

/* 71 characters: 67 + 4 units, each part with a 6-byte UDH. */
static void test_seg_cjk_71(void **state)
{
    (void)state;
    char t[3 * 200 + 1];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, cjk(t, 71), SC_SEG_UDH, 0x1234, 8, &m), 0);
    assert_int_equal(m.data_coding, 8);
    assert_int_equal(m.esm_class, 0x40);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.ref, 0x34);
    assert_int_equal(m.len[0], 6 + 134);
    assert_int_equal(m.len[1], 6 + 8);
    assert_int_equal(m.off[0], 0);
    assert_int_equal(m.off[1], 140);
    assert_memory_equal(part(&m, 0), "\x05\x00\x03\x34\x02\x01\x4E\x00", 8);
    assert_memory_equal(part(&m, 0) + 138, "\x4E\x42", 2);         /* unit 66 */
    assert_memory_equal(part(&m, 1), "\x05\x00\x03\x34\x02\x02\x4E\x43", 8); /* unit 67 */
    assert_memory_equal(part(&m, 1) + 12, "\x4E\x46", 2);          /* unit 70 */
}

static void test_seg_cjk_134_135(void **state)
{
    (void)state;
    char t[3 * 200 + 1];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, cjk(t, 134), SC_SEG_UDH, 7, 8, &m), 0);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.len[0], 140);
    assert_int_equal(m.len[1], 140);
    assert_udh(&m, 0, 7);
    assert_udh(&m, 1, 7);
    assert_memory_equal(part(&m, 1) + 6, "\x4E\x43", 2);
    assert_memory_equal(part(&m, 1) + 138, "\x4E\x85", 2); /* unit 133 */

    assert_int_equal(sc_text_encode(t, cjk(t, 135), SC_SEG_UDH, 7, 8, &m), 0);
    assert_int_equal(m.nparts, 3);
    assert_int_equal(m.len[0], 140);
    assert_int_equal(m.len[1], 140);
    assert_int_equal(m.len[2], 6 + 2);
    for (unsigned i = 0; i < 3; i++)
        assert_udh(&m, i, 7);
    assert_memory_equal(part(&m, 2) + 6, "\x4E\x86", 2); /* unit 134 */
}

static void test_seg_gsm_160_161(void **state)
{
    (void)state;
    char t[400];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, rep(t, 'a', 160), SC_SEG_UDH, 9, 8, &m), 0);
    assert_int_equal(m.data_coding, 0);
    assert_int_equal(m.esm_class, 0);
    assert_int_equal(m.nparts, 1);
    assert_int_equal(m.len[0], 160);

    assert_int_equal(sc_text_encode(t, rep(t, 'a', 161), SC_SEG_UDH, 9, 8, &m), 0);
    assert_int_equal(m.esm_class, 0x40);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.len[0], 6 + 153);
    assert_int_equal(m.len[1], 6 + 8);
    assert_udh(&m, 0, 9);
    assert_udh(&m, 1, 9);
    assert_int_equal(air_octets(&m, 0), 140);
}

/* An extension character whose escape would be septet 153 moves whole to the
 * next part; one that ends exactly at 153 stays. */
static void test_seg_gsm_escape_boundary(void **state)
{
    (void)state;
    char t[400];
    struct sc_mt m;
    size_t n = rep(t, 'a', 152);
    n += (size_t)sprintf(t + n, "\xE2\x82\xAC"); /* € at septets 152-153 */
    n += rep(t + n, 'b', 10);
    assert_int_equal(sc_text_encode(t, n, SC_SEG_UDH, 1, 8, &m), 0);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.len[0], 6 + 152);
    assert_int_equal(part(&m, 0)[6 + 151], 'a');
    assert_int_equal(m.len[1], 6 + 12);
    assert_memory_equal(part(&m, 1) + 6, "\x1B\x65" "b", 3);

    n = rep(t, 'a', 151);
    n += (size_t)sprintf(t + n, "\xE2\x82\xAC"); /* € at septets 151-152 */
    n += rep(t + n, 'b', 10);
    assert_int_equal(sc_text_encode(t, n, SC_SEG_UDH, 1, 8, &m), 0);
    assert_int_equal(m.len[0], 6 + 153);
    assert_memory_equal(part(&m, 0) + 6 + 151, "\x1B\x65", 2);
    assert_int_equal(part(&m, 1)[6], 'b');

    /* Only extension characters: 80 fit in one message, 81 split 76 + 5. */
    n = 0;
    for (int i = 0; i < 81; i++)
        n += (size_t)sprintf(t + n, "\xE2\x82\xAC");
    assert_int_equal(sc_text_encode(t, n - 3, SC_SEG_UDH, 1, 8, &m), 0);
    assert_int_equal(m.nparts, 1);
    assert_int_equal(m.len[0], 160);
    assert_int_equal(sc_text_encode(t, n, SC_SEG_UDH, 1, 8, &m), 0);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.len[0], 6 + 152);
    assert_int_equal(m.len[1], 6 + 10);
}

/* A surrogate pair that would straddle unit 67 moves whole to the next part. */
static void test_seg_emoji_boundary(void **state)
{
    (void)state;
    char t[3 * 200 + 1];
    struct sc_mt m;
    size_t n = cjk(t, 66);
    n += (size_t)sprintf(t + n, "\xF0\x9F\x98\x80"); /* units 66-67 */
    n += cjk(t + n, 10);
    assert_int_equal(sc_text_encode(t, n, SC_SEG_UDH, 1, 8, &m), 0);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.len[0], 6 + 132);
    assert_int_equal(m.len[1], 6 + 4 + 20);
    assert_memory_equal(part(&m, 1) + 6, "\xD8\x3D\xDE\x00\x4E\x00", 6);
}

static void test_seg_sar(void **state)
{
    (void)state;
    char t[3 * 200 + 1];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, cjk(t, 71), SC_SEG_SAR, 0x1234, 8, &m), 0);
    assert_int_equal(m.esm_class, 0);
    assert_int_equal(m.nparts, 2);
    assert_int_equal(m.ref, 0x1234);
    assert_int_equal(m.len[0], 134);
    assert_int_equal(m.len[1], 8);
    assert_int_equal(m.off[1], 134);
    assert_memory_equal(part(&m, 0), "\x4E\x00", 2);
    assert_memory_equal(part(&m, 1), "\x4E\x43", 2);

    /* A text that fits one message is one part either way. */
    assert_int_equal(sc_text_encode(t, cjk(t, 70), SC_SEG_SAR, 0x1234, 8, &m), 0);
    assert_int_equal(m.nparts, 1);
    assert_int_equal(m.len[0], 140);
}

static void test_seg_payload(void **state)
{
    (void)state;
    static char t[3 * (SC_MT_MAX_BYTES / 2 + 1) + 1];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, cjk(t, 71), SC_SEG_PAYLOAD, 5, 1, &m), 0);
    assert_int_equal(m.esm_class, 0);
    assert_int_equal(m.nparts, 1);
    assert_int_equal(m.len[0], 142);
    assert_int_equal(sc_text_encode(t, cjk(t, SC_MT_MAX_BYTES / 2), SC_SEG_PAYLOAD, 5, 1, &m), 0);
    assert_int_equal(m.len[0], SC_MT_MAX_BYTES);
    assert_int_equal(sc_text_encode(t, cjk(t, SC_MT_MAX_BYTES / 2 + 1), SC_SEG_PAYLOAD, 5, 1, &m),
                     SC_ETOOBIG);
}

static void test_seg_max_parts(void **state)
{
    (void)state;
    static char t[3 * (SC_MT_MAX_BYTES / 2 + 1) + 1];
    struct sc_mt m;
    assert_int_equal(sc_text_encode(t, cjk(t, 135), SC_SEG_UDH, 1, 2, &m), SC_ETOOBIG);
    assert_int_equal(sc_text_encode(t, cjk(t, 135), SC_SEG_UDH, 1, 3, &m), 0);
    assert_int_equal(sc_text_encode(t, cjk(t, 135), SC_SEG_SAR, 1, 2, &m), SC_ETOOBIG);
    assert_int_equal(sc_text_encode("", 0, SC_SEG_UDH, 1, 0, &m), SC_ETOOBIG);
    /* max_parts above SC_MT_MAX_PARTS is held to it. */
    assert_int_equal(sc_text_encode(t, cjk(t, 16 * 67), SC_SEG_UDH, 1, 1000, &m), 0);
    assert_int_equal(m.nparts, 16);
    assert_int_equal(sc_text_encode(t, cjk(t, 16 * 67 + 1), SC_SEG_UDH, 1, 1000, &m), SC_ETOOBIG);
    /* Too long to encode at all. */
    assert_int_equal(sc_text_encode(t, rep(t, 'a', 3000), SC_SEG_UDH, 1, 16, &m), SC_ETOOBIG);
}

/* Unpacked GSM parts with UDHs take 159 bytes each, so sc_mt.bytes
 * (SC_MT_MAX_BYTES) holds 2150 septets in 15 parts; longer GSM texts give
 * SC_ETOOBIG even when max_parts would allow them. */
static void test_seg_gsm_bytes_bound(void **state)
{
    (void)state;
    static char t[3000];
    struct sc_mt m;
    /* 2150 septets: 15 parts, 2150 + 15 * 6 = 2240 bytes. */
    assert_int_equal(sc_text_encode(t, rep(t, 'a', 2150), SC_SEG_UDH, 1, 16, &m), 0);
    assert_int_equal(m.nparts, 15);
    assert_int_equal(m.off[14] + m.len[14], 2240);
    /* 2151 septets: still 15 parts, but 2241 bytes. */
    int want = 2151 + 15 * 6 <= SC_MT_MAX_BYTES ? 0 : SC_ETOOBIG;
    assert_int_equal(sc_text_encode(t, rep(t, 'a', 2151), SC_SEG_UDH, 1, 16, &m), want);
}

/* For many lengths and both alphabets: every part fits 140 octets on the air,
 * UDHs are numbered 1..total, and the parts joined give back the text as
 * one payload encodes it. */
static void test_seg_properties(void **state)
{
    (void)state;
    static const char *const units[] = {"a", "\xE2\x82\xAC", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80"};
    static const enum sc_seg_mode modes[] = {SC_SEG_UDH, SC_SEG_SAR};
    static char t[4 * 700 + 8];
    static struct sc_mt m, whole;
    static uint8_t joined[SC_MT_MAX_BYTES];
    for (size_t u = 0; u < SC_ARRAY_LEN(units); u++) {
        for (unsigned count = 0; count < 700; count += 1 + count / 16) {
            size_t n = 0;
            for (unsigned i = 0; i < count; i++) /* "x" in between shifts boundaries */
                n += (size_t)sprintf(t + n, "%s", i % 3 ? units[u] : "x");
            int wrc = sc_text_encode(t, n, SC_SEG_PAYLOAD, 0, 1, &whole);
            for (size_t md = 0; md < SC_ARRAY_LEN(modes); md++) {
                int rc = sc_text_encode(t, n, modes[md], 0xAB, 16, &m);
                if (wrc == SC_ETOOBIG || rc == SC_ETOOBIG) {
                    /* too big as a payload: too big in parts too */
                    assert_true(rc == SC_ETOOBIG || wrc == 0);
                    continue;
                }
                assert_int_equal(wrc, 0);
                assert_int_equal(rc, 0);
                assert_int_equal(m.data_coding, whole.data_coding);
                for (unsigned i = 0; i < m.nparts; i++) {
                    assert_true(air_octets(&m, i) <= 140);
                    if (m.esm_class & 0x40)
                        assert_udh(&m, i, 0xAB);
                }
                assert_int_equal(join_parts(&m, joined), whole.len[0]);
                assert_memory_equal(joined, whole.bytes, whole.len[0]);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_names),
        cmocka_unit_test(test_utf8_offsets),
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_truncation),
        cmocka_unit_test(test_normalize_table),
        cmocka_unit_test(test_normalize_garbage),
        cmocka_unit_test(test_normalize_sizes),
        cmocka_unit_test(test_normalize_long_invalid),
        cmocka_unit_test(test_normalize_in_place),
        cmocka_unit_test(test_one_line_table),
        cmocka_unit_test(test_one_line_bounds),
        cmocka_unit_test(test_encode_gsm),
        cmocka_unit_test(test_encode_ucs2),
        cmocka_unit_test(test_seg_cjk_70),
        cmocka_unit_test(test_seg_cjk_71),
        cmocka_unit_test(test_seg_cjk_134_135),
        cmocka_unit_test(test_seg_gsm_160_161),
        cmocka_unit_test(test_seg_gsm_escape_boundary),
        cmocka_unit_test(test_seg_emoji_boundary),
        cmocka_unit_test(test_seg_sar),
        cmocka_unit_test(test_seg_payload),
        cmocka_unit_test(test_seg_max_parts),
        cmocka_unit_test(test_seg_gsm_bytes_bound),
        cmocka_unit_test(test_seg_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
