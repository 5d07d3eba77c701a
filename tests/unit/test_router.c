/* test_router.c -- unit tests for core/router.c: regex captures (bounded,
 * unmatched groups empty) and routing of the shipped config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/sc.h"
#include "core/config.h"
#include "core/router.h"
#include "handlers/handler.h"
#include "tests/unit/shipped.h"

#define NCAPS SC_REQ_MAX_CAPS

/* The captures of regex matched against text, in a heap buffer of exactly
 * bufsz bytes (so that ASan sees any write past it). Returns what
 * sc_router_caps returned; *n gets the number of captures. */
static size_t caps_of(const char *regex, const char *text, size_t bufsz, char **buf,
                      const char **caps, size_t *n)
{
    regex_t re;
    assert_int_equal(regcomp(&re, regex, REG_EXTENDED), 0);
    regmatch_t m[NCAPS];
    for (size_t i = 0; i < NCAPS; i++)
        m[i].rm_so = m[i].rm_eo = -1;
    assert_int_equal(regexec(&re, text, NCAPS, m, 0), 0);
    struct sc_route rt = {.has_re = 1, .re = re};
    *n = sc_route_ncaps(&rt, NCAPS);
    *buf = malloc(bufsz ? bufsz : 1);
    assert_non_null(*buf);
    for (size_t i = 0; i < NCAPS; i++)
        caps[i] = NULL;
    size_t need = sc_router_caps(text, m, *n, *buf, bufsz, caps);
    regfree(&re);
    return need;
}

/* Each case: regex, text, the expected captures (NULL ends the list). */
static void test_caps_table(void **state)
{
    (void)state;
    static const struct {
        const char *regex, *text;
        const char *want[NCAPS + 1];
    } cases[] = {
        {"^TD ?([A-Z0-9_-]{1,32})$", "TDCL001", {"TDCL001", "CL001", NULL}},
        {"^TD ?([A-Z0-9_-]{1,32})$", "TD SJB01", {"TD SJB01", "SJB01", NULL}},
        /* An optional group that took no part: "", and the ones after it kept. */
        {"^TD( )?([A-Z]+)$", "TDABC", {"TDABC", "", "ABC", NULL}},
        {"^TD( )?([A-Z]+)$", "TD ABC", {"TD ABC", " ", "ABC", NULL}},
        {"^(A)|(B)$", "B", {"B", "", "B", NULL}},
        /* Nested groups: each its own copy. */
        {"^((A)(B(C)))$", "ABC", {"ABC", "ABC", "A", "BC", "C", NULL}},
        {"^[0-9]+(([ ,]|、)+[0-9]+)*$", "1,3", {"1,3", ",3", ",", NULL}},
        {"^[0-9]+(([ ,]|、)+[0-9]+)*$", "1", {"1", "", "", NULL}},
        {"^X(.*)$", "X", {"X", "", NULL}},
        {"^0000$", "0000", {"0000", NULL}},
        /* More groups than SC_REQ_MAX_CAPS - 1: cut at SC_REQ_MAX_CAPS. */
        {"^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)$", "abcdefghijk",
         {"abcdefghijk", "a", "b", "c", "d", "e", "f", "g", "h", "i", NULL}},
    };
    for (size_t c = 0; c < SC_ARRAY_LEN(cases); c++) {
        size_t want_n = 0, want_need = 0;
        while (cases[c].want[want_n]) {
            want_need += strlen(cases[c].want[want_n]) + 1;
            want_n++;
        }
        char *buf;
        const char *caps[NCAPS];
        size_t n;
        size_t need = caps_of(cases[c].regex, cases[c].text, want_need, &buf, caps, &n);
        assert_int_equal(n, want_n);
        assert_int_equal(need, want_need);
        for (size_t i = 0; i < n; i++) {
            assert_non_null(caps[i]);
            assert_string_equal(caps[i], cases[c].want[i]);
        }
        free(buf);
    }
}

/* Issue 8 item 0: "^CX(.*)$" and a 1000-byte MO need twice the text; the
 * request layer's buffer (1024 + 10) must not be overrun, and with the size
 * returned every capture is whole. */
static void test_caps_bounded(void **state)
{
    (void)state;
    char text[1003];
    memcpy(text, "CX", 2);
    memset(text + 2, 'A', 1000);
    text[1002] = '\0';
    char *buf;
    const char *caps[NCAPS];
    size_t n;
    size_t need = caps_of("^CX(.*)$", text, 1024 + 10, &buf, caps, &n);
    assert_int_equal(n, 2);
    assert_int_equal(need, 1003 + 1001);
    for (size_t i = 0; i < n; i++) { /* cut, but strings inside buf */
        assert_true(caps[i] >= buf && caps[i] < buf + 1034);
        assert_true(caps[i] + strlen(caps[i]) < buf + 1034);
    }
    free(buf);
    need = caps_of("^CX(.*)$", text, need, &buf, caps, &n);
    assert_string_equal(caps[0], text);
    assert_string_equal(caps[1], text + 2);
    free(buf);
    /* Tiny buffers, 0 included: still no write past the end. */
    for (size_t sz = 0; sz < 8; sz++) {
        need = caps_of("^(T)(D)(.*)$", "TDCL001", sz, &buf, caps, &n);
        assert_int_equal(need, 8 + 2 + 2 + 6);
        for (size_t i = 0; i < n; i++)
            assert_non_null(caps[i]);
        free(buf);
    }
}

/* The shipped routes: which route each text takes, and its captures. */
static void test_shipped_routes(void **state)
{
    (void)state;
    char err[512];
    struct sc_config *cfg = sc_config_load(shipped_path(), err, sizeof err);
    assert_non_null(cfg);
    struct sc_router *r = sc_router_new(cfg, err, sizeof err);
    assert_non_null(r);
    static const struct {
        const char *text, *route, *cap1;
        size_t ncaps;
    } cases[] = {
        {"0000", "vas_list", NULL, 0},
        {"1,3", "vas_cancel_items", NULL, 3},
        {"TDCL001", "vas_cancel_code", "CL001", 2},
        {"TD CL001", "vas_cancel_code", "CL001", 2},
        {"HELLO", "help", NULL, 0},
    };
    for (size_t c = 0; c < SC_ARRAY_LEN(cases); c++) {
        regmatch_t m[NCAPS];
        const struct sc_route *rt = sc_router_match(r, "10086", cases[c].text, m, NCAPS);
        assert_non_null(rt);
        assert_string_equal(rt->name, cases[c].route);
        size_t n = sc_route_ncaps(rt, NCAPS);
        assert_int_equal(n, cases[c].ncaps);
        char buf[64];
        const char *caps[NCAPS];
        assert_true(sc_router_caps(cases[c].text, m, n, buf, sizeof buf, caps) <= sizeof buf);
        if (cases[c].cap1)
            assert_string_equal(caps[1], cases[c].cap1);
    }
    sc_router_free(r);
    sc_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_table),
        cmocka_unit_test(test_caps_bounded),
        cmocka_unit_test(test_shipped_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
