/* test_csv.c -- unit tests for tools/shortcodectl/csv.c: a table of inputs
 * and the records they must give, each fed whole, byte by byte, and split at
 * every position. The parser is not in libsc, so its source is included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/sc.h"
#include "tools/shortcodectl/csv.c"

/* Records rendered as "LINE:f1|f2|...\n", or "LINE:!\n" for an error. */
struct out {
    char s[1024];
    size_t len;
    int stop_after;          /* > 0: stop the parser after this many records */
    int nrec;
};

static void out_put(struct out *o, const char *s, size_t n)
{
    assert_true(o->len + n < sizeof o->s);
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static int on_rec(void *ctx, const struct sc_csv_record *rec)
{
    struct out *o = ctx;
    char head[32];
    out_put(o, head, (size_t)snprintf(head, sizeof head, "%lu:", rec->line));
    if (rec->error) {
        assert_int_equal(rec->nfields, 0);
        out_put(o, "!", 1);
    }
    for (size_t i = 0; i < rec->nfields; i++) {
        assert_int_equal(rec->fields[i].s[rec->fields[i].len], '\0');
        if (i)
            out_put(o, "|", 1);
        out_put(o, rec->fields[i].s, rec->fields[i].len);
    }
    out_put(o, "\n", 1);
    o->nrec++;
    return o->stop_after && o->nrec == o->stop_after ? 7 : 0;
}

/* Parse in chunks of chunk bytes (0: whole), with the first chunk first
 * bytes long when first > 0. */
static void parse(const char *in, size_t len, size_t chunk, size_t first, size_t max_bytes,
                  size_t max_fields, struct out *o)
{
    struct sc_csv *p = sc_csv_new(max_bytes, max_fields);
    assert_non_null(p);
    memset(o, 0, sizeof *o);
    size_t i = 0;
    if (first) {
        assert_int_equal(sc_csv_feed(p, in, first, on_rec, o), 0);
        i = first;
    }
    while (i < len) {
        size_t n = chunk ? SC_MIN(chunk, len - i) : len - i;
        assert_int_equal(sc_csv_feed(p, in + i, n, on_rec, o), 0);
        i += n;
    }
    assert_int_equal(sc_csv_finish(p, on_rec, o), 0);
    sc_csv_free(p);
}

struct csv_case {
    const char *in;
    const char *want;
    size_t max_bytes, max_fields;   /* 0: 1024 and 16 */
};

static const struct csv_case g_cases[] = {
    {"", "", 0, 0},
    {"a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n", 0, 0},
    {"a,b", "1:a|b\n", 0, 0},                                    /* no final line end */
    {"a,b\r\nc,d\r\n", "1:a|b\n2:c|d\n", 0, 0},                   /* CRLF */
    {"a\rb\r", "1:a\n2:b\n", 0, 0},                               /* lone CR */
    {"\xef\xbb\xbf" "a,b\n", "1:a|b\n", 0, 0},                    /* BOM dropped */
    {"\xef\xbb\xbf", "", 0, 0},
    {"\xef\xbbx\n", "1:\xef\xbbx\n", 0, 0},                       /* not a BOM: data */
    {"\xef", "1:\xef\n", 0, 0},
    {"a\n\xef\xbb\xbf\n", "1:a\n2:\xef\xbb\xbf\n", 0, 0},         /* only at the start */
    {"\"a,b\nc\",d\ne\n", "1:a,b\nc|d\n3:e\n", 0, 0},             /* quoted comma, LF */
    {"\"a\r\nb\"\r\nc\r\n", "1:a\r\nb\n3:c\n", 0, 0},             /* quoted CRLF kept */
    {"\"say \"\"hi\"\"\"\n", "1:say \"hi\"\n", 0, 0},
    {"\"\"\"\"\n", "1:\"\n", 0, 0},
    {",,\n", "1:||\n", 0, 0},
    {"\"\"\n", "1:\n", 0, 0},
    {"a,\n", "1:a|\n", 0, 0},
    {"\"a\"", "1:a\n", 0, 0},                                     /* EOF after closing quote */
    {"a,\"\"", "1:a|\n", 0, 0},
    {" a , b \n", "1: a | b \n", 0, 0},                           /* spaces are data */
    {"\n\na\n\r\n\nb\n", "3:a\n6:b\n", 0, 0},                     /* empty lines skipped */
    {"a\"b,c\nd\n", "1:!\n2:d\n", 0, 0},                          /* quote in unquoted field */
    {"\"a\"b,c\nd\n", "1:!\n2:d\n", 0, 0},                        /* text after closing quote */
    {"\"x\ny\"z\nq\n", "1:!\n3:q\n", 0, 0},                        /* resume after that line */
    {"a\n\"bc\nd\n", "1:a\n2:!\n", 0, 0},                         /* never closed */
    {"\xe4\xb8\xad,\"\xe6\x96\x87\"\n", "1:\xe4\xb8\xad|\xe6\x96\x87\n", 0, 0},
    {"a,b,c,d,e\nx\n", "1:!\n2:x\n", 1024, 4},             /* too many fields */
    {"a,b,c,d\n", "1:a|b|c|d\n", 1024, 4},
    {"0123456789\nab\n", "1:!\n2:ab\n", 8, 16},            /* too long */
    {"01234567\n", "1:01234567\n", 8, 16},
    {"\"0123456789\nab\"\ncd\n", "1:!\n2:!\n3:cd\n", 8, 16}, /* resync at a line end */
};

static void check_case(const struct csv_case *c)
{
    size_t len = strlen(c->in), mb = c->max_bytes ? c->max_bytes : 1024;
    size_t mf = c->max_fields ? c->max_fields : 16;
    struct out o;
    parse(c->in, len, 0, 0, mb, mf, &o);
    if (strcmp(o.s, c->want) != 0)
        fail_msg("input %s: got %s, want %s", c->in, o.s, c->want);
    parse(c->in, len, 1, 0, mb, mf, &o);
    assert_string_equal(o.s, c->want);
    for (size_t split = 1; split < len; split++) {
        parse(c->in, len, 0, split, mb, mf, &o);
        assert_string_equal(o.s, c->want);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < SC_ARRAY_LEN(g_cases); i++)
        check_case(&g_cases[i]);
}

static void test_nul_byte_is_data(void **state)
{
    (void)state;
    struct out o;
    parse("a\0b,c\n", 6, 0, 0, 64, 4, &o);
    assert_int_equal(o.len, 8);
    assert_memory_equal(o.s, "1:a\0b|c\n", 8);
}

static void test_callback_stops(void **state)
{
    (void)state;
    struct out o = {.stop_after = 1};
    struct sc_csv *p = sc_csv_new(64, 4);
    assert_int_equal(sc_csv_feed(p, "a\nb\n", 4, on_rec, &o), 7);
    assert_string_equal(o.s, "1:a\n");
    sc_csv_free(p);
}

static void test_line_counter(void **state)
{
    (void)state;
    struct out o = {0};
    struct sc_csv *p = sc_csv_new(64, 4);
    assert_int_equal(sc_csv_line(p), 1);
    assert_int_equal(sc_csv_feed(p, "a\r\nb\n\"c\nd", 10, on_rec, &o), 0);
    assert_int_equal(sc_csv_line(p), 4);
    sc_csv_free(p);
    sc_csv_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_nul_byte_is_data),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_line_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
