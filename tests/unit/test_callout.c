/* test_callout.c -- the `http` handler's pure parts: the circuit breaker's
 * state machine (handlers/breaker.c) and its bodies (handlers/http_body.c):
 * the MO as a form and as JSON, the backend's answer read as a reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "base/smpp.h"
#include "handlers/breaker.h"
#include "handlers/http_body.h"

static const struct sc_breaker_conf conf = {3, 10000, 5000};

/* Three failures within the window open it; two, or three spread wider
 * than the window, do not. */
static void test_breaker_opens_on_failures_in_window(void **state)
{
    (void)state;
    struct sc_breaker b = {0};
    assert_int_equal(sc_breaker_allow(&b, &conf, 0), SC_BREAKER_GO);
    assert_int_equal(sc_breaker_result(&b, &conf, 0, 0, 0), -1);
    assert_int_equal(sc_breaker_result(&b, &conf, 6000, 0, 0), -1);
    /* 0, 6000, 12000: the oldest of three is 12 s old, beyond the window. */
    assert_int_equal(sc_breaker_result(&b, &conf, 12000, 0, 0), -1);
    assert_int_equal(b.state, SC_BREAKER_CLOSED);
    /* Successes do not reset the sliding window; 6000, 12000, 14000 do open. */
    assert_int_equal(sc_breaker_result(&b, &conf, 13000, 0, 1), -1);
    assert_int_equal(sc_breaker_result(&b, &conf, 14000, 0, 0), SC_BREAKER_OPEN);
    assert_int_equal(b.state, SC_BREAKER_OPEN);
    assert_string_equal(sc_breaker_state_name(b.state), "open");
}

/* Open: refused for open_ms; then one probe, the others refused until it
 * ends; its failure opens again, its success closes. */
static void test_breaker_half_open_probe(void **state)
{
    (void)state;
    struct sc_breaker b = {0};
    for (int i = 0; i < 3; i++)
        sc_breaker_result(&b, &conf, 1000, 0, 0);
    assert_int_equal(b.state, SC_BREAKER_OPEN);
    assert_int_equal(sc_breaker_allow(&b, &conf, 1000), SC_BREAKER_REFUSE);
    assert_int_equal(sc_breaker_allow(&b, &conf, 5999), SC_BREAKER_REFUSE);
    /* A call from before the opening ends: nothing changes. */
    assert_int_equal(sc_breaker_result(&b, &conf, 5999, 0, 1), -1);
    assert_int_equal(b.state, SC_BREAKER_OPEN);
    assert_int_equal(sc_breaker_allow(&b, &conf, 6000), SC_BREAKER_PROBE);
    assert_int_equal(b.state, SC_BREAKER_HALF_OPEN);
    assert_int_equal(sc_breaker_allow(&b, &conf, 6001), SC_BREAKER_REFUSE);
    /* A non-probe result in half-open changes nothing. */
    assert_int_equal(sc_breaker_result(&b, &conf, 6002, 0, 0), -1);
    assert_int_equal(b.state, SC_BREAKER_HALF_OPEN);
    /* The probe fails: open again, from now. */
    assert_int_equal(sc_breaker_result(&b, &conf, 6500, 1, 0), SC_BREAKER_OPEN);
    assert_int_equal(sc_breaker_allow(&b, &conf, 11000), SC_BREAKER_REFUSE);
    assert_int_equal(sc_breaker_allow(&b, &conf, 11500), SC_BREAKER_PROBE);
    assert_int_equal(sc_breaker_result(&b, &conf, 11600, 1, 1), SC_BREAKER_CLOSED);
    assert_int_equal(sc_breaker_allow(&b, &conf, 11601), SC_BREAKER_GO);
    assert_int_equal(sc_breaker_allow(&b, &conf, 11602), SC_BREAKER_GO);
    /* Closed again with nothing remembered: two failures do not open. */
    sc_breaker_result(&b, &conf, 11700, 0, 0);
    assert_int_equal(sc_breaker_result(&b, &conf, 11800, 0, 0), -1);
    assert_int_equal(b.state, SC_BREAKER_CLOSED);
}

/* failures 0 never opens; a reload that changes failures starts the count
 * again (the ring is sized by it). */
static void test_breaker_off_and_resized(void **state)
{
    (void)state;
    struct sc_breaker b = {0};
    struct sc_breaker_conf off = {0, 10000, 5000}, two = {2, 10000, 5000};
    for (int i = 0; i < 100; i++)
        assert_int_equal(sc_breaker_result(&b, &off, (uint64_t)i, 0, 0), -1);
    assert_int_equal(sc_breaker_allow(&b, &off, 100), SC_BREAKER_GO);
    sc_breaker_result(&b, &conf, 200, 0, 0);
    sc_breaker_result(&b, &conf, 201, 0, 0);
    assert_int_equal(sc_breaker_result(&b, &two, 202, 0, 0), -1);
    assert_int_equal(sc_breaker_result(&b, &two, 203, 0, 0), SC_BREAKER_OPEN);
}

static const char *const caps[] = {"你好 A&B=C", ""};
static const struct sc_http_mo mo = {"13900000001", "10086", "FORM 你好 A&B=C", caps, 2};

static void test_form(void **state)
{
    (void)state;
    char out[256];
    size_t n = sc_http_form(&mo, out, sizeof out);
    const char *want = "msisdn=13900000001&service=10086&text=FORM%20%E4%BD%A0%E5%A5%BD%20A%26B"
                       "%3DC&cap1=%E4%BD%A0%E5%A5%BD%20A%26B%3DC&cap2=";
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    /* Exactly enough room, and one byte less. */
    assert_int_equal(sc_http_form(&mo, out, n + 1), n);
    assert_int_equal(sc_http_form(&mo, out, n), 0);
    assert_int_equal(sc_http_form(&mo, out, 10), 0);
    /* Every size below the one needed fails, none writes past it. */
    for (size_t sz = 0; sz <= n; sz++) {
        memset(out, 'Z', sizeof out);
        assert_int_equal(sc_http_form(&mo, out, sz), 0);
        assert_int_equal(out[sz], 'Z');
    }
}

static void test_json(void **state)
{
    (void)state;
    static const char *const c2[] = {"a\"\x01"};
    struct sc_http_mo m = {"13900000001", "10086", "X \"\n", c2, 1};
    char out[256];
    size_t n = sc_http_json(&m, out, sizeof out);
    assert_true(n > 0);
    json_error_t e;
    json_t *o = json_loadb(out, n, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "text")), "X \"\n");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "caps"), 0)),
                        "a\"\x01");
    assert_string_equal(json_string_value(json_object_get(o, "msisdn")), "13900000001");
    json_decref(o);
    assert_int_equal(sc_http_json(&m, out, n), 0);
}

/* Parse body (NUL-terminated) with content type ct; the reply or NULL, the
 * reason in *why. */
static const char *parse(const char *ct, const char *body, const char **why)
{
    static char out[SC_HTTP_RESPONSE_MAX + 1];
    return sc_http_reply_parse(ct, body, strlen(body), 8, SC_SEG_UDH, out, sizeof out, why) == 0
               ? out
               : NULL;
}

static void test_reply_parse(void **state)
{
    (void)state;
    const char *why;
    assert_string_equal(parse("text/plain; charset=utf-8", "您好\r\n", &why), "您好");
    assert_null(why);
    assert_string_equal(parse(NULL, "a\nb", &why), "a\nb");
    assert_string_equal(parse("text/plain", "", &why), "");
    assert_string_equal(parse("text/plain", " \n", &why), "");
    assert_string_equal(parse("Application/JSON; charset=UTF-8", "{\"reply\": \"好\", \"x\": 1}",
                              &why), "好");
    assert_string_equal(parse("application/json", "{\"reply\": \"\"}", &why), "");
    struct { const char *ct, *body, *why; } bad[] = {
        {"text/plain", "\xff\xfe", "bad_utf8"},
        {"text/plain", "a\x01" "b", "control_chars"},
        {"text/plain", "a\x7f", "control_chars"},
        {"text/plain", "a\xc2\x85", "control_chars"},         /* U+0085, C1 */
        {"text/plain; charset=iso-8859-1", "abc", "bad_charset"},
        {"application/json", "{\"reply\": ", "bad_json"},
        {"application/json", "[\"reply\"]", "no_reply_field"},
        {"application/json", "{\"reply\": 3}", "no_reply_field"},
        {"application/json", "{\"reply\": \"a\", \"reply\": \"b\"}", "bad_json"},
        {"application/json", "{\"reply\": \"a\\u0000b\"}", "bad_json"}, /* jansson: no NUL */
        {"application/json", "{\"reply\": \"a\\u0007\"}", "control_chars"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(parse(bad[i].ct, bad[i].body, &why));
        assert_string_equal(why, bad[i].why);
    }
}

/* A reply must fit in max_parts SMS: 8 UCS-2 parts of 67 hold 536. */
static void test_reply_too_long(void **state)
{
    (void)state;
    char body[3 * 600 + 1] = "";
    for (int i = 0; i < 536; i++)
        strcat(body, "长");
    const char *why;
    assert_non_null(parse("text/plain", body, &why));
    strcat(body, "长");
    assert_null(parse("text/plain", body, &why));
    assert_string_equal(why, "too_long");
    char small[4];
    assert_int_equal(sc_http_reply_parse("text/plain", "abcd", 4, 8, SC_SEG_UDH, small,
                                         sizeof small, &why), -1);
    assert_string_equal(why, "too_long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_breaker_opens_on_failures_in_window),
        cmocka_unit_test(test_breaker_half_open_probe),
        cmocka_unit_test(test_breaker_off_and_resized),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_reply_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
