/* test_order.c -- the pure parts of handlers/order.c: which services can be
 * ordered, and how the prompt is put together (the line for a replaced
 * order first, the values each template gets, bounded output). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "handlers/catalogue.h"
#include "handlers/order.h"

static void test_orderable(void **state)
{
    (void)state;
    static const struct {
        struct sc_service svc;
        int want;
    } cases[] = {
        {{"CL001", "彩铃", 500, "SP", "monthly"}, 1},
        {{"CL002", "免费", 0, "SP", "monthly"}, 1},
        {{"PU001", "点播", 100, "SP", "per_use"}, 0},
        {{"UNK01", "资费未知", -1, "SP", "monthly"}, 0},
        {{"NOK01", "无类型", 100, "SP", NULL}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sc_order_orderable(&cases[i].svc), cases[i].want);
    assert_int_equal(sc_order_orderable(NULL), 0);
}

/* A render function that writes "TPL(v1|v2|...)". */
static size_t fake_render(void *arg, const char *tpl, const char *const *values, char *out,
                          size_t outsz)
{
    int *calls = arg;
    size_t nvals = strcmp(tpl, "order_prompt") == 0 ? 5 : 2;
    char buf[512];
    size_t o = (size_t)snprintf(buf, sizeof buf, "%s(", tpl);
    for (size_t i = 0; i < nvals; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "|" : "", values[i]);
    snprintf(buf + o, sizeof buf - o, ")");
    (*calls)++;
    snprintf(out, outsz, "%s", buf);
    return strlen(buf);
}

static void test_prompt(void **state)
{
    (void)state;
    char out[256];
    int calls = 0;
    /* No catalogue: the code stands for the name, the provider and fee are
     * unknown; 301 s are shown as 6 minutes (rounded up). */
    sc_order_prompt(NULL, "CL001", 301, NULL, fake_render, &calls, out, sizeof out);
    assert_string_equal(out, "order_prompt(CL001|?|?元|CL001|6)");
    assert_int_equal(calls, 1);
    sc_order_prompt(NULL, "YD002", 300, "CL001", fake_render, &calls, out, sizeof out);
    assert_string_equal(out, "order_replaced(CL001|CL001)\norder_prompt(YD002|?|?元|YD002|5)");
    sc_order_prompt(NULL, "YD002", 300, "", fake_render, &calls, out, sizeof out);
    assert_string_equal(out, "order_prompt(YD002|?|?元|YD002|5)");
    /* Bounded: cut, always terminated. */
    char small[20];
    sc_order_prompt(NULL, "YD002", 300, "CL001", fake_render, &calls, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, "order_replaced(CL00", sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orderable),
        cmocka_unit_test(test_prompt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
