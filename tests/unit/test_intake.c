/* test_intake.c -- unit tests for core/intake.c: plausible MO sources and
 * the service number an MO's destination denotes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/sc.h"
#include "core/config.h"
#include "core/intake.h"

static void test_sources(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        int msisdn, alnum; /* accepted under smpp.source_addr msisdn / alphanumeric */
    } cases[] = {
        {"13800138000", 1, 1},
        {"+8613800138000", 1, 1},
        {"1", 1, 1},
        {"12345678901234567890", 1, 1},   /* 20 digits */
        {"+1234567890123456789", 1, 1},   /* 20 characters */
        {"123456789012345678901", 0, 0},  /* 21 */
        {"", 0, 0},
        {"+", 0, 0},
        {"++86138", 0, 0},
        {"86+138", 0, 0},
        {"abc", 0, 1},
        {"China Mobile", 0, 1},
        {"A1", 0, 1},
        {"abcdefghijklmnopqrst", 0, 1},   /* 20 letters */
        {"abcdefghijklmnopqrstu", 0, 0},
        {" abc", 0, 0},
        {"abc ", 0, 0},
        {"a\tb", 0, 0},
        {"1\nlevel=error x", 0, 0},
        {"1380013800\x1b[31m", 0, 0},
        {"a-b", 0, 0},
        {"\xe4\xb8\xad", 0, 0},           /* UTF-8 */
        {"a\x7f", 0, 0},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        assert_int_equal(sc_intake_source_ok(SC_SRC_MSISDN, cases[i].addr), cases[i].msisdn);
        assert_int_equal(sc_intake_source_ok(SC_SRC_ALPHANUMERIC, cases[i].addr), cases[i].alnum);
    }
}

static void test_service_numbers(void **state)
{
    (void)state;
    char *numbers[] = {"10086", "1008611"};
    char *prefixes[] = {"+86", "86"}; /* longest first, as the loader sorts them */
    struct sc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.service_numbers = numbers;
    cfg.nservice_numbers = 2;
    cfg.msisdn_prefixes = prefixes;
    cfg.nmsisdn_prefixes = 2;
    static const struct {
        const char *addr, *want;
    } cases[] = {
        {"10086", "10086"},     {"1008611", "1008611"},  {"8610086", "10086"},
        {"+8610086", "10086"},  {"+861008611", "1008611"}, {"10010", NULL},
        {"13900139000", NULL},  {"", NULL},              {"100861", NULL},
        {"1008", NULL},         {"86", NULL},            {"+86", NULL},
        {"868610086", NULL},    {" 10086", NULL},        {"10086\n", NULL},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        const char *got = sc_intake_service(&cfg, cases[i].addr);
        if (cases[i].want) {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
        } else {
            assert_null(got);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_service_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
