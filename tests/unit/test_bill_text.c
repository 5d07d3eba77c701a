/* test_bill_text.c -- the bill's text (handlers/bill_text.c), rendered with
 * the shipped templates compiled in: the lines, their order, the discount
 * as a reduction, a partial bill, the details line of a bill run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handlers/bill_text.h"
#include "text/template.h"

/* sc_bill_render_fn over sc_bill_default_template, compiled on each call. */
static size_t render(void *arg, const char *name, const char *const *values, char *out,
                     size_t outsz)
{
    (void)arg;
    char err[128];
    const struct sc_tpl_decl *d = sc_bill_templates;
    while (d->name && strcmp(d->name, name) != 0)
        d++;
    assert_non_null(d->name);
    struct sc_tpl *t = sc_tpl_compile(sc_bill_default_template(name), d->vars, d->nvars, err,
                                      sizeof err);
    assert_non_null(t);
    size_t n = sc_tpl_render(t, values, out, outsz);
    sc_tpl_free(t);
    return n;
}

static void test_full_bill_with_details(void **state)
{
    (void)state;
    char out[1024];
    struct sc_bill b = {"202611", "4G 套餐",
                        {"5800", "1210", "3000", "100", "1000", "0", "500", "10610"}, NULL};
    size_t n = sc_bill_text(&b, 1, render, NULL, out, sizeof out);
    assert_string_equal(out, "您2026年11月的账单：\n套餐：4G 套餐\n套餐及固定费：58.00元\n"
                             "语音通话费：12.10元\n上网流量费：30.00元\n短信彩信费：1.00元\n"
                             "增值业务费：10.00元\n其他费用：0.00元\n优惠减免：-5.00元\n"
                             "本期合计：106.10元\n详单请发送CXZD至10086查询。");
    assert_int_equal(n, strlen(out));
}

static void test_partial_named_vas_no_details(void **state)
{
    (void)state;
    char out[1024];
    struct sc_bill b = {"202601", "", {NULL, "", "x", NULL, "300", NULL, "-200", "100"},
                        "彩铃、天气"};
    sc_bill_text(&b, 0, render, NULL, out, sizeof out);
    assert_string_equal(out, "您2026年1月的账单：\n增值业务费：3.00元（彩铃、天气）\n"
                             "优惠减免：-2.00元\n本期合计：1.00元\n"
                             "部分费用项目暂未出账，请以实际账单为准。");
}

static void test_cut_to_the_buffer(void **state)
{
    (void)state;
    char out[40];
    struct sc_bill b = {"202611", NULL, {"1", "1", "1", "1", "1", "1", "1", "1"}, NULL};
    size_t n = sc_bill_text(&b, 1, render, NULL, out, sizeof out);
    assert_true(n < sizeof out);
    assert_int_equal(strlen(out), n);
    assert_int_equal(strncmp(out, "您2026年11月的账单：\n", strlen("您2026年11月的账单：\n")), 0);
    assert_int_equal(sc_bill_text(&b, 1, render, NULL, out, 0), 0);
}

static void test_every_template_has_a_default(void **state)
{
    (void)state;
    for (const struct sc_tpl_decl *d = sc_bill_templates; d->name; d++)
        assert_non_null(sc_bill_default_template(d->name));
    assert_null(sc_bill_default_template("help"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_bill_with_details),
        cmocka_unit_test(test_partial_named_vas_no_details),
        cmocka_unit_test(test_cut_to_the_buffer),
        cmocka_unit_test(test_every_template_has_a_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
