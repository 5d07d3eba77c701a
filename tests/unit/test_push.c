/* test_push.c -- core/mt_check.c: one mt:push entry's fields against the
 * contract (docs/contracts.md "mt:push"), hostile ones included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/mt_check.h"

/* Check fields given as "name", "value", ... NULL. */
static const char *check(struct sc_push *out, ...)
{
    const char *f[40], *v[40];
    size_t fl[40], vl[40], n = 0;
    va_list ap;
    va_start(ap, out);
    const char *name;
    while ((name = va_arg(ap, const char *)) && n < 40) {
        f[n] = name;
        v[n] = va_arg(ap, const char *);
        fl[n] = strlen(f[n]);
        vl[n] = strlen(v[n]);
        n++;
    }
    va_end(ap);
    return sc_push_check(f, fl, v, vl, n, 5, out);
}

static void test_good_entries(void **state)
{
    (void)state;
    struct sc_push m;
    assert_null(check(&m, "id", "a-1", "to", "13800138000", "text", "hi", NULL));
    assert_string_equal(m.id, "a-1");
    assert_string_equal(m.to, "13800138000");
    assert_string_equal(m.kind, "notice");
    assert_int_equal(m.priority, 5);
    assert_int_equal(m.text_len, 2);
    assert_string_equal(m.from, "");
    assert_null(check(&m, "to", "+8613800138000", "text", "你好", "id", "x", "from", "10086",
                      "kind", "order_confirm", "priority", "0", "not_after", "1893456000000",
                      "quiet", "1", NULL));
    assert_string_equal(m.from, "10086");
    assert_string_equal(m.kind, "order_confirm");
    assert_int_equal(m.priority, 0);
    assert_true(m.not_after == 1893456000000LL);
    assert_int_equal(m.quiet, 1);
    char id[65];
    memset(id, '~', 64);
    id[64] = '\0';
    assert_null(check(&m, "id", id, "to", "+12345678901234567890", "text", "x", NULL));
}

/* Each reason; the id is kept whenever it is good itself. */
static void test_each_reason(void **state)
{
    (void)state;
    struct sc_push m;
    char big[SC_PUSH_TEXT_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char id65[66];
    memset(id65, 'a', 65);
    id65[65] = '\0';
    struct {
        const char *why;
        const char *a, *b, *c, *d, *e, *f, *g, *h;
    } cases[] = {
        {"missing_field", "to", "1", "text", "x", NULL, NULL, NULL, NULL},
        {"missing_field", "id", "i", "text", "x", NULL, NULL, NULL, NULL},
        {"missing_field", "id", "i", "to", "1", NULL, NULL, NULL, NULL},
        {"bad_id", "id", "a b", "to", "1", "text", "x", NULL, NULL},
        {"bad_id", "id", id65, "to", "1", "text", "x", NULL, NULL},
        {"bad_id", "id", "", "to", "1", "text", "x", NULL, NULL},
        {"bad_to", "id", "i", "to", "+", "text", "x", NULL, NULL},
        {"bad_to", "id", "i", "to", "123456789012345678901", "text", "x", NULL, NULL},
        {"bad_to", "id", "i", "to", "1380013800a", "text", "x", NULL, NULL},
        {"empty_text", "id", "i", "to", "1", "text", "", NULL, NULL},
        {"bad_text", "id", "i", "to", "1", "text", "\xC3\x28", NULL, NULL},
        {"too_long", "id", "i", "to", "1", "text", big, NULL, NULL},
        {"bad_from", "id", "i", "to", "1", "text", "x", "from", "+10086"},
        {"bad_kind", "id", "i", "to", "1", "text", "x", "kind", "Bill"},
        {"bad_kind", "id", "i", "to", "1", "text", "x", "kind", "abcdefghijklmnopq"},
        {"bad_priority", "id", "i", "to", "1", "text", "x", "priority", "10"},
        {"bad_priority", "id", "i", "to", "1", "text", "x", "priority", "-1"},
        {"bad_not_after", "id", "i", "to", "1", "text", "x", "not_after", "1e9"},
        {"bad_quiet", "id", "i", "to", "1", "text", "x", "quiet", "true"},
        {"unknown_field", "id", "i", "to", "1", "text", "x", "colour", "red"},
        {"duplicate_field", "id", "i", "to", "1", "text", "x", "to", "2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = check(&m, cases[i].a, cases[i].b, cases[i].c, cases[i].d, cases[i].e,
                                cases[i].f, cases[i].g, cases[i].h, NULL);
        if (!why || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu: %s, want %s", i, why ? why : "(ok)", cases[i].why);
        int id_good = strcmp(cases[i].a, "id") == 0 && strcmp(cases[i].why, "bad_id") != 0;
        assert_string_equal(m.id, id_good ? cases[i].b : "");
    }
    /* Two ids: which one would it be? No record under either. */
    assert_string_equal(check(&m, "id", "a", "id", "b", "to", "1", "text", "x", NULL),
                        "duplicate_field");
    assert_string_equal(m.id, "");
}

/* Binary values: a NUL inside the text, and more fields than can be kept. */
static void test_hostile_values(void **state)
{
    (void)state;
    struct sc_push m;
    const char *f[] = {"id", "to", "text"}, *v[] = {"i", "1", "a\0b"};
    size_t fl[] = {2, 2, 4}, vl[] = {1, 1, 3};
    assert_string_equal(sc_push_check(f, fl, v, vl, 3, 5, &m), "bad_text");
    /* A field name with a NUL is not "id". */
    const char *f2[] = {"id\0x", "to", "text"};
    size_t fl2[] = {4, 2, 4};
    vl[2] = 1;
    assert_string_equal(sc_push_check(f2, fl2, v, vl, 3, 5, &m), "unknown_field");
    const char *ff[SC_PUSH_FIELDS_MAX + 1], *vv[SC_PUSH_FIELDS_MAX + 1];
    size_t ffl[SC_PUSH_FIELDS_MAX + 1], vvl[SC_PUSH_FIELDS_MAX + 1];
    for (size_t i = 0; i <= SC_PUSH_FIELDS_MAX; i++)
        ff[i] = "id", ffl[i] = 2, vv[i] = "x", vvl[i] = 1;
    ff[0] = "to";
    assert_string_equal(sc_push_check(ff, ffl, vv, vvl, SC_PUSH_FIELDS_MAX + 1, 5, &m),
                        "duplicate_field");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_entries),
        cmocka_unit_test(test_each_reason),
        cmocka_unit_test(test_hostile_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
