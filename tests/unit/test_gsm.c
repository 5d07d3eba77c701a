/* test_gsm.c -- unit tests for text/gsm.c (GSM 03.38 tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text/gsm.h"

/* Every default-alphabet septet decodes to a character that encodes back to
 * it (the escape excepted: it has no character of its own). */
static void test_base_round_trip(void **state)
{
    (void)state;
    for (unsigned s = 0; s < 0x80; s++) {
        if (s == SC_GSM_ESC)
            continue;
        uint32_t cp = sc__gsm_base_char((uint8_t)s);
        assert_int_equal(sc__gsm_encode(cp), s);
    }
    assert_int_equal(sc__gsm_base_char(SC_GSM_ESC), ' ');
    assert_int_equal(sc__gsm_encode(' '), 0x20);
}

/* The extension table has exactly its ten characters, each round-tripping. */
static void test_ext_round_trip(void **state)
{
    (void)state;
    unsigned defined = 0;
    for (unsigned c = 0; c < 0x80; c++) {
        uint32_t cp = sc__gsm_ext_char((uint8_t)c);
        if (cp == 0)
            continue;
        defined++;
        assert_int_equal(sc__gsm_encode(cp), SC_GSM_EXT | c);
    }
    assert_int_equal(defined, 10);
    assert_int_equal(sc__gsm_ext_char(SC_GSM_ESC), 0);
    assert_int_equal(sc__gsm_ext_char(0x0D), 0); /* CR2: reserved */
}

/* No code point of the BMP encodes to anything the tables do not decode back
 * to it; 127 + 10 characters are encodable in all. */
static void test_encode_consistent(void **state)
{
    (void)state;
    unsigned encodable = 0;
    for (uint32_t cp = 0; cp < 0x10000; cp++) {
        int g = sc__gsm_encode(cp);
        if (g < 0)
            continue;
        encodable++;
        uint32_t back = g & SC_GSM_EXT ? sc__gsm_ext_char((uint8_t)(g & 0x7F))
                                       : sc__gsm_base_char((uint8_t)g);
        assert_int_equal(back, cp);
    }
    assert_int_equal(encodable, 137);
}

static void test_known_values(void **state)
{
    (void)state;
    static const struct {
        uint32_t cp;
        int g;
    } cases[] = {
        {'@', 0x00},    {0x00A3, 0x01}, {'$', 0x02},    {0x00C7, 0x09},  {'\n', 0x0A},
        {'\r', 0x0D},   {0x0394, 0x10}, {'_', 0x11},    {0x03A3, 0x18},  {0x00A4, 0x24},
        {0x00A1, 0x40}, {'A', 0x41},    {0x00A7, 0x5F}, {0x00BF, 0x60},  {'z', 0x7A},
        {0x00E0, 0x7F},
        {'\f', SC_GSM_EXT | 0x0A}, {'^', SC_GSM_EXT | 0x14}, {'{', SC_GSM_EXT | 0x28},
        {'}', SC_GSM_EXT | 0x29},  {'\\', SC_GSM_EXT | 0x2F}, {'[', SC_GSM_EXT | 0x3C},
        {'~', SC_GSM_EXT | 0x3D},  {']', SC_GSM_EXT | 0x3E}, {'|', SC_GSM_EXT | 0x40},
        {0x20AC, SC_GSM_EXT | 0x65},
        /* not in GSM 7-bit */
        {0, -1}, {'`', -1}, {'\t', -1}, {0x00E7, -1}, {0x00A0, -1}, {0x4E2D, -1},
        {0xFFFD, -1}, {0x1F600, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sc__gsm_encode(cases[i].cp), cases[i].g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_round_trip),
        cmocka_unit_test(test_ext_round_trip),
        cmocka_unit_test(test_encode_consistent),
        cmocka_unit_test(test_known_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
