/* fuzz_callout.c -- libFuzzer target: what the `http` handler reads from a
 * backend and sends to it (handlers/http_body.h).
 *
 * Byte 0 picks the content type (bits 0-2), smpp.max_parts (bits 3-6, 1..16)
 * and seg_mode (bit 7: udh or payload); the rest is the response body. The
 * body is read as a reply: a reply is NUL-terminated valid UTF-8 without
 * control characters but LF, without trailing white space, and fits in
 * max_parts SMS; a refusal names one of the documented reasons. The body
 * is also sent as an MO's text: the form holds only unreserved bytes, %XX,
 * "=" and "&" and decodes back to it; the JSON (valid UTF-8 only) parses
 * back to it. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "base/smpp.h"
#include "handlers/http_body.h"
#include "tests/fuzz/fuzz.h"
#include "text/text.h"

static const char *const TYPES[] = {
    NULL, "text/plain", "text/plain; charset=utf-8", "text/plain; charset=iso-8859-1",
    "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/html",
};

static const char *const WHY[] = {"bad_json", "no_reply_field", "bad_charset", "bad_utf8",
                                  "control_chars", "too_long"};

static void check_reply(const char *ct, const char *body, size_t len, unsigned parts, int seg)
{
    static char out[SC_HTTP_RESPONSE_MAX + 1];
    const char *why = "unset";
    int rc = sc_http_reply_parse(ct, body, len, parts, seg, out, sizeof out, &why);
    if (rc < 0) {
        int known = 0;
        for (size_t i = 0; i < sizeof WHY / sizeof WHY[0]; i++)
            known |= why && strcmp(why, WHY[i]) == 0;
        FUZZ_CHECK(known);
        return;
    }
    FUZZ_CHECK(rc == 0 && why == NULL);
    size_t n = strlen(out);
    FUZZ_CHECK(u8_check((const uint8_t *)out, n) == NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c >= 0x20 || c == '\n');
        FUZZ_CHECK(c != 0x7f);
    }
    FUZZ_CHECK(!n || (out[n - 1] != ' ' && out[n - 1] != '\n' && out[n - 1] != '\r' &&
                      out[n - 1] != '\t'));
    static struct sc_mt mt;
    if (n)
        FUZZ_CHECK(sc_text_encode(out, n, (enum sc_seg_mode)seg, 0, parts, &mt) == 0);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_form_json(const char *text)
{
    static const char *const caps[] = {"x"};
    struct sc_http_mo mo = {"13900000001", "10086", text, caps, 1};
    static char out[4 * SC_HTTP_BODY_MAX];
    size_t n = sc_http_form(&mo, out, sizeof out);
    FUZZ_CHECK(n == 0 || strlen(out) == n);
    if (n) {
        const char *t = strstr(out, "&text=");
        FUZZ_CHECK(t != NULL);
        t += 6;
        const char *e = strstr(t, "&cap1=");
        FUZZ_CHECK(e != NULL);
        size_t k = 0;
        for (const char *p = t; p < e; p++, k++) {
            char c = *p;
            if (c == '%') {
                int hi = hexval(p[1]), lo = hexval(p[2]);
                FUZZ_CHECK(hi >= 0 && lo >= 0);
                c = (char)(hi * 16 + lo);
                p += 2;
            } else {
                FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                           c == '~');
            }
            FUZZ_CHECK(text[k] == c);
        }
        FUZZ_CHECK(text[k] == '\0');
    }
    if (u8_check((const uint8_t *)text, strlen(text)))
        return;
    n = sc_http_json(&mo, out, sizeof out);
    if (!n)
        return; /* too long for out */
    json_error_t err;
    json_t *o = json_loadb(out, n, JSON_REJECT_DUPLICATES, &err);
    FUZZ_CHECK(o != NULL);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "text")), text) == 0);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *ct = TYPES[data[0] & 7];
    unsigned parts = 1 + ((data[0] >> 3) & 15);
    int seg = data[0] & 0x80 ? SC_SEG_PAYLOAD : SC_SEG_UDH;
    size_t len = size - 1;
    char *body = malloc(len + 1);
    FUZZ_CHECK(body != NULL);
    memcpy(body, data + 1, len);
    body[len] = '\0';
    check_reply(ct, body, len, parts, seg);
    check_form_json(body);   /* up to the first NUL, as a C string */
    free(body);
    return 0;
}
