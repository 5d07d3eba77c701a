/* test_msisdns.c -- the subscriber lists of bill-run / push --text (a line,
 * or a CSV record's first column; an optional "msisdn" header) and the
 * checkpoint's parsing and verdicts (tools/shortcodectl/msisdns.c). The tool
 * is not in libsc, so its sources are included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/sc.h"
#include "tools/shortcodectl/check.c"
#include "tools/shortcodectl/csv.c"
#include "tools/shortcodectl/msisdns.c"

/* Each record of a list, as ctl_list_record classifies it:
 * "LINE:M:national", "LINE:H" or "LINE:!why", one a line. */
struct out {
    char s[2048];
    size_t len;
    int first;
};

static int on_rec(void *ctx, const struct sc_csv_record *rec)
{
    struct out *o = ctx;
    char m[CTL_MSISDN_MAX + 1], why[160];
    enum ctl_list_line k = ctl_list_record(rec, o->first, m, why, sizeof why);
    o->first = 0;
    o->len += (size_t)snprintf(o->s + o->len, sizeof o->s - o->len, "%lu:%s%s\n", rec->line,
                               k == CTL_LIST_MSISDN ? "M:" : k == CTL_LIST_HEADER ? "H" : "!",
                               k == CTL_LIST_MSISDN ? m : k == CTL_LIST_HEADER ? "" : why);
    return 0;
}

static const char *parse(const char *in)
{
    static struct out o;
    struct sc_csv *p = sc_csv_new(4096, 64);
    memset(&o, 0, sizeof o);
    o.first = 1;
    assert_int_equal(sc_csv_feed(p, in, strlen(in), on_rec, &o), 0);
    assert_int_equal(sc_csv_finish(p, on_rec, &o), 0);
    sc_csv_free(p);
    return o.s;
}

static void test_plain_lines_and_csv_first_column(void **state)
{
    (void)state;
    assert_string_equal(parse("13800138000\r\n+8613900139000\n\n8613700137000,张三,42\n"
                              "\"13600136000\",x"),
                        "1:M:13800138000\n2:M:13900139000\n4:M:13700137000\n5:M:13600136000\n");
}

static void test_header_only_first(void **state)
{
    (void)state;
    assert_string_equal(parse("MSISDN,name\n13800138000,a\nmsisdn\n"),
                        "1:H\n2:M:13800138000\n3:!msisdn \"msisdn\" must be 5..20 digits "
                        "(after an optional +86 or 86 prefix)\n");
}

static void test_bad_lines_say_why(void **state)
{
    (void)state;
    const char *got = parse("1380013800x\n1234\n\"13800138000\"x\n 13800138000\n");
    assert_non_null(strstr(got, "1:!msisdn \"1380013800x\""));
    assert_non_null(strstr(got, "2:!msisdn \"1234\""));
    assert_non_null(strstr(got, "3:!text after the closing quote"));
    assert_non_null(strstr(got, "4:!msisdn \" 13800138000\""));   /* spaces are data */
}

#define SHA "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"

static int ckpt(struct ctl_ckpt *c, const char *const *kv, size_t n, char *why)
{
    size_t lens[16];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(kv[i]);
    return ctl_ckpt_parse(c, kv, lens, n, why, 96);
}

static void test_checkpoint_parse(void **state)
{
    (void)state;
    struct ctl_ckpt c;
    char why[96];
    assert_int_equal(ckpt(&c, NULL, 0, why), 0);
    assert_int_equal(c.exists, 0);
    const char *full[] = {"sha", SHA, "line", "4001", "pushed", "3990", "skipped", "10",
                          "failed", "0", "done", "0"};
    assert_int_equal(ckpt(&c, full, 12, why), 0);
    assert_int_equal(c.exists, 1);
    assert_string_equal(c.sha, SHA);
    assert_int_equal(c.line, 4001);
    assert_int_equal(c.pushed, 3990);
    assert_int_equal(c.skipped, 10);
    assert_int_equal(c.done, 0);
    const char *nosha[] = {"line", "1", "pushed", "0", "skipped", "0", "failed", "0", "done",
                           "1"};
    assert_int_equal(ckpt(&c, nosha, 10, why), -1);
    assert_non_null(strstr(why, "sha"));
    const char *badline[] = {"sha", SHA, "line", "-1", "pushed", "0", "skipped", "0",
                             "failed", "0", "done", "1"};
    assert_int_equal(ckpt(&c, badline, 12, why), -1);
    assert_string_equal(why, "field line is not a number");
    const char *nodone[] = {"sha", SHA, "line", "1", "pushed", "0", "skipped", "0",
                            "failed", "0"};
    assert_int_equal(ckpt(&c, nodone, 10, why), -1);
    assert_string_equal(why, "field done is missing");
    const char *upper[] = {"sha", "5D41402ABC4B2A76B9719D911017C5925D41402ABC4B2A76B9719D911017C592",
                           "line", "1", "pushed", "0", "skipped", "0", "failed", "0",
                           "done", "0"};
    assert_int_equal(ckpt(&c, upper, 12, why), -1);
}

static void test_checkpoint_verdicts(void **state)
{
    (void)state;
    struct ctl_ckpt c = {0};
    assert_int_equal(ctl_ckpt_decide(&c, SHA), CTL_CKPT_START);
    c.exists = 1;
    memcpy(c.sha, SHA, sizeof c.sha);
    c.line = 10;
    assert_int_equal(ctl_ckpt_decide(&c, SHA), CTL_CKPT_RESUME);
    c.done = 1;
    assert_int_equal(ctl_ckpt_decide(&c, SHA), CTL_CKPT_DONE);
    char other[] = SHA;
    other[0] = '6';
    assert_int_equal(ctl_ckpt_decide(&c, other), CTL_CKPT_OTHER_FILE);
    c.done = 0;
    assert_int_equal(ctl_ckpt_decide(&c, other), CTL_CKPT_OTHER_FILE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines_and_csv_first_column),
        cmocka_unit_test(test_header_only_first),
        cmocka_unit_test(test_bad_lines_say_why),
        cmocka_unit_test(test_checkpoint_parse),
        cmocka_unit_test(test_checkpoint_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
