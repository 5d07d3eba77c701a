/* test_template.c -- unit tests for reply templates (text/template.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "text/template.h"

static const char *const VARS[] = {"name", "fee", "n"};

static void test_render_table(void **state)
{
    static const struct {
        const char *tpl;
        const char *name, *fee, *n;
        const char *want;
    } cases[] = {
        {"已退订{name}，每月节省{fee}。", "彩铃", "5元", NULL, "已退订彩铃，每月节省5元。"},
        {"{n}. {name} {fee}/月", "视频会员", "15元", "1", "1. 视频会员 15元/月"},
        {"no placeholders", "x", "y", "z", "no placeholders"},
        {"{{literal}} {name}", "a", NULL, NULL, "{literal} a"},
        {"{name}{name}", "ab", NULL, NULL, "abab"},
        {"", NULL, NULL, NULL, ""},
        /* A value is data: its braces are never expanded. */
        {"[{name}]", "{fee}", "SECRET", NULL, "[{fee}]"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct sc_tpl *t = sc_tpl_compile(cases[i].tpl, VARS, 3, err, sizeof err);
        assert_non_null(t);
        const char *vals[] = {cases[i].name, cases[i].fee, cases[i].n};
        char out[256];
        size_t n = sc_tpl_render(t, vals, out, sizeof out);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
        sc_tpl_free(t);
    }
}

static void test_compile_errors(void **state)
{
    static const struct {
        const char *tpl;
        const char *msg;
    } cases[] = {
        {"hello {nmae}", "unknown placeholder {nmae}; this template knows {name}, {fee}, {n}"},
        {"hello {name", "unterminated {"},
        {"a } b", "unmatched }"},
        {"{}", "unknown placeholder {}"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        assert_null(sc_tpl_compile(cases[i].tpl, VARS, 3, err, sizeof err));
        assert_non_null(strstr(err, cases[i].msg));
    }
}

static void test_truncation_on_char_boundary(void **state)
{
    (void)state;
    char err[64];
    struct sc_tpl *t = sc_tpl_compile("ab{name}", VARS, 3, err, sizeof err);
    const char *vals[] = {"彩铃彩铃", NULL, NULL};
    char out[9]; /* "ab" + 2 chars of 3 bytes = 8, +NUL = 9: fits exactly */
    assert_int_equal(sc_tpl_render(t, vals, out, sizeof out), 14);
    assert_string_equal(out, "ab彩铃");
    char small[7]; /* "ab" + 1 char (3 bytes) = 5; a 2nd char does not fit */
    sc_tpl_render(t, vals, small, sizeof small);
    assert_string_equal(small, "ab彩");
    char tiny[1];
    sc_tpl_render(t, vals, tiny, sizeof tiny);
    assert_string_equal(tiny, "");
    /* Size query, like snprintf. */
    assert_int_equal(sc_tpl_render(t, vals, NULL, 0), 14);
    sc_tpl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_table),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_truncation_on_char_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
