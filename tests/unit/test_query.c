/* test_query.c -- unit tests for handlers/query.c (fen -> yuan, KB -> MB/GB
 * rounding, the lookup expressions) and the lookup handler's option checks
 * (handlers/lookup.c, through its schema: FILE:LINE:COL errors). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/sc.h"
#include "config/schema.h"
#include "handlers/handler.h"
#include "handlers/query.h"

static void test_yuan(void **state)
{
    (void)state;
    static const struct {
        long long fen;
        const char *want;
    } cases[] = {
        {12345, "123.45元"}, {500, "5.00元"}, {5, "0.05元"}, {0, "0.00元"},
        {-5, "-0.05元"}, {-12345, "-123.45元"}, {-100, "-1.00元"},
        {LLONG_MAX, "92233720368547758.07元"}, {LLONG_MIN, "-92233720368547758.08元"},
    };
    char out[32];
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++)
        assert_string_equal(sc_fmt_yuan(cases[i].fen, out, sizeof out), cases[i].want);
    /* Cut, never past the buffer. */
    char small[4];
    assert_string_equal(sc_fmt_yuan(12345, small, sizeof small), "123");
}

static void test_kb_rounding(void **state)
{
    (void)state;
    static const struct {
        long long kb;
        const char *want;
    } cases[] = {
        {0, "0KB"}, {1, "1KB"}, {1023, "1023KB"},          /* below 1 MB: whole KB */
        {1024, "1MB"}, {1536, "1.5MB"}, {1280, "1.25MB"},
        {1029, "1MB"},                                     /* 1.0049 MB: half up -> 1.00 */
        {1030, "1.01MB"},                                  /* 1.0059 MB */
        {10240 + 51, "10.05MB"}, {10240 + 50, "10.05MB"},  /* 10.0498 -> 10.05 (half up) */
        {10240 + 46, "10.04MB"},
        {512000, "500MB"}, {1048064, "1023.5MB"},
        {1048570, "1023.99MB"},                            /* 1023.994 MB */
        {1048575, "1GB"},                                  /* 1023.999 MB rounds to 1024: 1GB */
        {1048576, "1GB"},
        {1572864, "1.5GB"}, {31457280, "30GB"},
        {31456280, "30GB"},                                /* 29.99905 GB */
        {31447000, "29.99GB"},
        {-1, "-1KB"}, {-1536, "-1.5MB"}, {-1048576, "-1GB"},
        {LLONG_MAX, "8796093022208GB"},
    };
    char out[32];
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        sc_fmt_kb(cases[i].kb, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("%lld KB: got %s, want %s", cases[i].kb, out, cases[i].want);
    }
    sc_fmt_kb(LLONG_MIN, out, sizeof out);
    assert_string_equal(out, "-8796093022208GB");
}

static void test_parse_int(void **state)
{
    (void)state;
    long long v = 7;
    assert_int_equal(sc_parse_int("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sc_parse_int("-2000", &v), 0);
    assert_int_equal(v, -2000);
    assert_int_equal(sc_parse_int("999999999999999999", &v), 0);
    const char *bad[] = {"", "-", "12abc", " 1", "1 ", "+1", "1.5", "1e3", "9999999999999999999",
                         "--1"};
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++)
        assert_int_equal(sc_parse_int(bad[i], &v), -1);
}

static void test_expressions(void **state)
{
    (void)state;
    char names[4][SC_QFIELD_MAX];
    size_t n = 0;
    struct sc_qfields f = {names, &n, 4};
    struct sc_qexpr e;
    struct sc_qcond c;
    char err[128];
    assert_int_equal(sc_qexpr_parse("data_quota_kb - data_used_kb", &f, &e, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "data_quota_kb");
    assert_int_equal(sc_qcond_parse("balance_fen+credit_fen<1000", &f, &c, err, sizeof err), 0);
    assert_int_equal(n, 4);
    long long vals[4] = {100, 30, 900, 99};
    unsigned char have[4] = {1, 1, 1, 1};
    long long x;
    assert_int_equal(sc_qexpr_eval(&e, vals, have, &x), 0);
    assert_int_equal(x, 70);
    assert_int_equal(sc_qcond_eval(&c, vals, have), 1);     /* 999 < 1000 */
    vals[3] = 100;
    assert_int_equal(sc_qcond_eval(&c, vals, have), 0);     /* 1000 < 1000 */
    have[3] = 0;
    assert_int_equal(sc_qcond_eval(&c, vals, have), -1);    /* a field without a value */
    /* Unary minus, constants, every comparison. */
    assert_int_equal(sc_qexpr_parse("-data_used_kb - -5", &f, &e, err, sizeof err), 0);
    assert_int_equal(sc_qexpr_eval(&e, vals, have, &x), 0);
    assert_int_equal(x, -25);
    static const struct {
        const char *cond;
        int want;
    } cmp[] = {{"1 < 2", 1}, {"2 <= 2", 1}, {"3 > 2", 1}, {"2 >= 3", 0}, {"2 == 2", 1},
               {"2 != 2", 0}, {"data_used_kb > data_quota_kb", 0}};
    for (size_t i = 0; i < SC_ARRAY_LEN(cmp); i++) {
        assert_int_equal(sc_qcond_parse(cmp[i].cond, &f, &c, err, sizeof err), 0);
        assert_int_equal(sc_qcond_eval(&c, vals, have), cmp[i].want);
    }
    /* Overflow is "no value", not a wrong number. */
    vals[0] = LLONG_MAX;
    assert_int_equal(sc_qexpr_parse("data_quota_kb + 1", &f, &e, err, sizeof err), 0);
    assert_int_equal(sc_qexpr_eval(&e, vals, have, &x), -1);
    /* Errors name the place. */
    static const struct {
        const char *s;
        const char *msg;
    } bad[] = {
        {"data_used_kb +", "expected a field or a number at the end"},
        {"data_used_kb * 2", "unexpected '*' at byte 13"},
        {"Balance", "expected a field or a number at byte 0"},
        {"1+2+3+4+5+6+7+8+9", "more than 8 terms"},
        {"new_field", "more than 4 different fields"},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        assert_int_equal(sc_qexpr_parse(bad[i].s, &f, &e, err, sizeof err), -1);
        assert_string_equal(err, bad[i].msg);
    }
    assert_int_equal(sc_qcond_parse("1 = 1", &f, &c, err, sizeof err), -1);
    assert_string_equal(err, "expected <, <=, >, >=, == or != at byte 2");
}

static void test_text_short(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(sc_text_short("畅享套餐", 20, out, sizeof out), "畅享套餐");
    assert_string_equal(sc_text_short("一二三四五六七八九十十一", 10, out, sizeof out),
                        "一二三四五六七八九十…");
    assert_string_equal(sc_text_short("a\nb\tc", 10, out, sizeof out), "a b c");
    char small[8];
    sc_text_short("一二三四五六", 10, small, sizeof small); /* cut on a character */
    assert_string_equal(small, "一…");
    sc_text_short("一二", 10, small, sizeof small);
    assert_string_equal(small, "一二");
    sc_text_short("一二三", 10, small, sizeof small);   /* 9 bytes do not fit in 7 */
    assert_string_equal(small, "一…");
}

/* The lookup handler's options from YAML: 0, or the error message. */
static int lookup_opts(const char *yaml, char *err, size_t errsz)
{
    const struct sc_handler *h = sc_handler_find("lookup", NULL);
    assert_non_null(h);
    struct sc_cfg_node *root = sc_cfg_parse("t.yaml", yaml, strlen(yaml), err, errsz);
    assert_non_null(root);
    void *obj = calloc(1, h->options->size);
    assert_non_null(obj);
    struct sc_schema_ctx ctx = {"t.yaml", err, errsz, 1, 1};
    int rc = sc_schema_apply(&ctx, h->options, obj, root, "options");
    sc_schema_free(h->options, obj);
    free(obj);
    sc_cfg_node_free(root);
    return rc;
}

static void test_lookup_options(void **state)
{
    (void)state;
    char err[512];
    static const char good[] =
        "key: \"acct:{M}\"\n"
        "values:\n"
        "  balance: \"yuan(balance_fen)\"\n"
        "  plan: \"text(plan)\"\n"
        "defaults:\n"
        "  credit_fen: \"0\"\n"
        "cases:\n"
        "  - when: \"balance_fen + credit_fen < 0\"\n"
        "    reply: \"停机 {balance}\"\n"
        "reply: \"{plan} {balance}\"\n"
        "missing: \"无\"\n";
    assert_int_equal(lookup_opts(good, err, sizeof err), 0);
    static const struct {
        const char *from, *to, *msg;
    } bad[] = {
        {"acct:{M}", "acct:M", "t.yaml:1:6: options.key: must contain {M}"},
        {"acct:{M}", "acct:{M}:{M}", "t.yaml:1:6: options.key: must contain {M}"},
        {"yuan(balance_fen)", "yuan(balance_fen *)", "t.yaml:3:12: options.values.balance: unexpected '*'"},
        {"yuan(balance_fen)", "fen(balance_fen)", "t.yaml:3:12: options.values.balance: write FORMAT"},
        {"text(plan)", "text(plan + 1)", "t.yaml:4:9: options.values.plan: text() takes one field"},
        {"credit_fen: \"0\"", "credit: \"0\"", "t.yaml:6:11: options.defaults.credit: no value or case"},
        {"< 0\"", "<> 0\"", "t.yaml:8:11: options.cases[0].when: expected a field"},
        {"停机 {balance}", "停机 {owed}", "t.yaml:9:12: options.cases[0].reply: unknown placeholder {owed}"},
        {"{plan} {balance}\"", "{plan} {balance\"", "t.yaml:10:8: options.reply: unterminated {"},
        {"missing: \"无\"", "missing: \"无{plan}\"", "t.yaml:11:10: options.missing: unknown placeholder"},
        {"missing: \"无\"\n", "", "options.missing"},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        char yaml[1024];
        const char *at = strstr(good, bad[i].from);
        assert_non_null(at);
        snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - good), good, bad[i].to,
                 at + strlen(bad[i].from));
        assert_int_equal(lookup_opts(yaml, err, sizeof err), SC_ECONFIG);
        if (!strstr(err, bad[i].msg))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, bad[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yuan),
        cmocka_unit_test(test_kb_rounding),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_expressions),
        cmocka_unit_test(test_text_short),
        cmocka_unit_test(test_lookup_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
