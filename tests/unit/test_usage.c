/* test_usage.c -- core/usage_check.c (a usage:in entry's fields against
 * the contract) and core/usage_lua.c (the script built from the default
 * reminders: section, run by a real redis-server): per-field at, the rules'
 * decisions, the pushes it writes, the quoting of templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "core/usage_check.h"
#include "core/usage_int.h"

#include "redis_child.h"

/* ---- the check ------------------------------------------------------------ */

static const char *check(size_t n, const char *const *kv, struct sc_usage_entry *e)
{
    const char *f[16], *v[16];
    size_t fl[16], vl[16];
    for (size_t i = 0; i < n; i++) {
        f[i] = kv[2 * i], fl[i] = strlen(kv[2 * i]);
        v[i] = kv[2 * i + 1], vl[i] = strlen(kv[2 * i + 1]);
    }
    return sc_usage_check(f, fl, v, vl, n, e);
}

#define CHECK(want, ...)                                                                    \
    do {                                                                                    \
        const char *kv_[] = {__VA_ARGS__};                                                  \
        struct sc_usage_entry e_;                                                           \
        const char *got_ = check(SC_ARRAY_LEN(kv_) / 2, kv_, &e_);                          \
        if (want)                                                                           \
            assert_string_equal(got_ ? got_ : "(ok)", want);                                \
        else                                                                                \
            assert_null(got_);                                                              \
    } while (0)

static void test_check(void **state)
{
    (void)state;
    struct sc_usage_entry e;
    const char *kv[] = {"msisdn", "+8613800138000", "at", "1764000000000", "balance_fen", "-12",
                        "plan", "畅享套餐", "cycle", "202612", "roaming", ""};
    assert_null(check(6, kv, &e));
    assert_int_equal(e.n, 4);
    assert_int_equal(e.msisdn_len, 14);
    assert_memory_equal(e.f[0], "balance_fen", 11);
    CHECK(NULL, "msisdn", "13800138000", "at", "1", "data_used_kb", "0", "roaming", "JP");
    CHECK("unknown_field", "msisdn", "13800138000", "at", "1", "colour", "red");
    CHECK("duplicate_field", "msisdn", "13800138000", "at", "1", "plan", "a", "plan", "b");
    CHECK("duplicate_field", "msisdn", "1", "msisdn", "2", "at", "1", "plan", "a");
    CHECK("bad_msisdn", "msisdn", "1380013800O", "at", "1", "plan", "a");
    CHECK("bad_msisdn", "msisdn", "", "at", "1", "plan", "a");
    CHECK("bad_msisdn", "msisdn", "1234567890123456789012", "at", "1", "plan", "a");
    CHECK("bad_at", "msisdn", "1", "at", "-1", "plan", "a");
    CHECK("bad_at", "msisdn", "1", "at", "1234567890123456", "plan", "a");
    CHECK("bad_number", "msisdn", "1", "at", "1", "balance_fen", "12abc");
    CHECK("bad_number", "msisdn", "1", "at", "1", "balance_fen", "-");
    CHECK("bad_number", "msisdn", "1", "at", "1", "data_used_kb", "-5");
    CHECK("bad_number", "msisdn", "1", "at", "1", "charges_fen", "1e5");
    CHECK("bad_number", "msisdn", "1", "at", "1", "credit_fen", "1234567890123456");
    CHECK("bad_cycle", "msisdn", "1", "at", "1", "cycle", "202613");
    CHECK("bad_cycle", "msisdn", "1", "at", "1", "cycle", "202600");
    CHECK("bad_cycle", "msisdn", "1", "at", "1", "cycle", "2026-1");
    CHECK(NULL, "msisdn", "1", "at", "1", "cycle", "202610");
    CHECK("bad_roaming", "msisdn", "1", "at", "1", "roaming", "jp");
    CHECK("bad_roaming", "msisdn", "1", "at", "1", "roaming", "ABCDEFGHI");
    CHECK("bad_plan", "msisdn", "1", "at", "1", "plan", "a\nb");
    CHECK("bad_plan", "msisdn", "1", "at", "1", "plan", "\xff\xfe");
    CHECK("bad_plan", "msisdn", "1", "at", "1", "plan", "");
    CHECK("missing_msisdn", "at", "1", "plan", "a");
    CHECK("missing_at", "msisdn", "1", "plan", "a");
    CHECK("no_fields", "msisdn", "1", "at", "1");
    CHECK("too_many_fields", "msisdn", "1", "at", "1", "plan", "a", "cycle", "202601",
          "balance_fen", "1", "credit_fen", "1", "charges_fen", "1", "roaming", "", "data_used_kb",
          "1", "data_quota_kb", "1", "plan", "b");
    /* A value with a NUL inside is not a number. */
    const char *f[] = {"msisdn", "at", "balance_fen"}, *v[] = {"1", "1", "12\0" "3"};
    size_t fl[] = {6, 2, 11}, vl[] = {1, 1, 4};
    assert_string_equal(sc_usage_check(f, fl, v, vl, 3, &e), "bad_number");
}

/* ---- the script, on a real redis-server ------------------------------------------ */

struct fx {
    int port;
    redisContext *rc;
    struct sc_cfg_reminders cfg;
    char *lua;
};

static redisReply *cmd(struct fx *f, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(f->rc, argc, argv, NULL);
    assert_non_null(r);
    return r;
}

#define CMD(f, ...)                                                                        \
    cmd(f, (int)SC_ARRAY_LEN(((const char *[]){__VA_ARGS__})), (const char *[]){__VA_ARGS__})

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[300];
    struct sc_schema_ctx ctx = {"test", err, sizeof err, 0, 0};
    assert_int_equal(sc_schema_apply(&ctx, &sc_cfg_reminders_schema, &f->cfg, NULL, "reminders"),
                     0);
    /* Everything a Lua literal must survive. */
    free(f->cfg.roaming.r.template);
    f->cfg.roaming.r.template = strdup("\"'\\]]=] {{x}} {country}/{hint}");
    f->lua = sc__usage_script(&f->cfg);
    assert_non_null(f->lua);
    f->port = free_port();
    srv_start(f->port, NULL);
    struct timeval tv = {5, 0};
    f->rc = redisConnectWithTimeout("127.0.0.1", f->port, tv);
    assert_true(f->rc && !f->rc->err);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    redisFree(f->rc);
    free(f->lua);
    sc_schema_free(&sc_cfg_reminders_schema, &f->cfg);
    free(f);
    return 0;
}

/* Run the script for a batch of n (at most 8) entries, entry i for
 * subscriber m[i] (m NULL: all "M") with at[i] and nf[i] field/value
 * pairs (all of them in kv, in order); the reply: one result per entry. */
static redisReply *apply_n(struct fx *f, int n, const char **m, const char **at, const int *nf,
                           const char **kv)
{
    const char *argv[128] = {"EVAL", f->lua, NULL, "mt:push"};
    char nk[16], nfs[9], keys[8][4][32];
    static const char *const pre[4] = {"acct", "rem", "remsent", "audit"};
    int argc = 4;
    assert_true(n <= 8);
    snprintf(nk, sizeof nk, "%d", 1 + 4 * n);
    argv[2] = nk;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            snprintf(keys[i][k], sizeof keys[i][k], "%s:{%s}", pre[k], m ? m[i] : "M");
            argv[argc++] = keys[i][k];
        }
    for (int i = 0; i < n; i++)
        nfs[i] = (char)('0' + nf[i]);
    nfs[n] = '\0';
    argv[argc++] = nfs;
    for (int i = 0, k = 0; i < n; i++) {
        argv[argc++] = at[i], argv[argc++] = "1-1";
        for (int j = 0; j < 2 * nf[i]; j++)
            argv[argc++] = kv[k++];
    }
    return cmd(f, argc, argv);
}

static int g_last_nf; /* the fields of the last apply(): expect()'s stale */

/* One entry alone: its result (the reply's only element, detached). */
static redisReply *apply(struct fx *f, const char *at, int n, const char **kv)
{
    g_last_nf = n;
    redisReply *r = apply_n(f, 1, NULL, &at, &n, kv);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 1);
    redisReply *one = r->element[0];
    r->element[0] = NULL;
    r->elements = 0;
    freeReplyObject(r);
    return one;
}

#define APPLY(f, at, ...)                                                                   \
    apply(f, at, (int)SC_ARRAY_LEN(((const char *[]){__VA_ARGS__})) / 2,                   \
          (const char *[]){__VA_ARGS__})

/* r is the entry's result: with no reminder queued, the integer "fields
 * set" (0: stale), else {state, set, stale, ids...}. */
static void expect(redisReply *r, const char *state, long long set, long long stale, size_t ids)
{
    if (ids == 0) {
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, set);
        assert_int_equal(strcmp(state, "stale") == 0, set == 0);
        assert_int_equal(stale, g_last_nf - set); /* the others were stale */
        freeReplyObject(r);
        return;
    }
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_string_equal(r->element[0]->str, state);
    assert_int_equal(r->element[1]->integer, set);
    assert_int_equal(r->element[2]->integer, stale);
    assert_int_equal(r->elements, 3 + ids);
    freeReplyObject(r);
}

/* The field value of the mt:push entry i (0-based), or NULL. */
static char *push_field(struct fx *f, size_t i, const char *field)
{
    static char out[600];
    redisReply *r = CMD(f, "XRANGE", "mt:push", "-", "+");
    char *got = NULL;
    if (i < r->elements) {
        redisReply *kv = r->element[i]->element[1];
        for (size_t k = 0; k + 1 < kv->elements; k += 2)
            if (strcmp(kv->element[k]->str, field) == 0) {
                sc_strlcpy(out, kv->element[k + 1]->str, sizeof out);
                got = out;
            }
    }
    freeReplyObject(r);
    return got;
}

static long long xlen(struct fx *f, const char *key)
{
    redisReply *r = CMD(f, "XLEN", key);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* acct:{M} has a = va and b = vb; mt:push and audit:{M} hold n entries. */
static void acct_is(struct fx *f, const char *a, const char *va, const char *b, const char *vb,
                    long long n)
{
    redisReply *r = CMD(f, "HMGET", "acct:{M}", a, b);
    assert_string_equal(r->element[0]->str, va);
    assert_string_equal(r->element[1]->str, vb);
    freeReplyObject(r);
    assert_int_equal(xlen(f, "mt:push"), n);
    assert_int_equal(xlen(f, "audit:{M}"), n);
}

static void test_script_data_and_order(void **state)
{
    struct fx *f = *state;
    freeReplyObject(CMD(f, "FLUSHALL"));
    expect(APPLY(f, "100", "cycle", "202612", "data_quota_kb", "1024000", "data_used_kb", "0"),
           "applied", 3, 0, 0);
    /* A jump to 100 %: one text, both thresholds had. */
    expect(APPLY(f, "200", "data_used_kb", "1024000"), "applied", 1, 0, 1);
    assert_string_equal(push_field(f, 0, "id"), "rem:M:202612:data:100");
    assert_string_equal(push_field(f, 0, "quiet"), "1");
    assert_string_equal(push_field(f, 0, "priority"), "5");
    assert_non_null(strstr(push_field(f, 0, "text"), "已使用100%（已用1000MB，共1000MB）"));
    redisReply *r = CMD(f, "HGETALL", "remsent:{M}");
    assert_int_equal(r->elements, 4);
    freeReplyObject(r);
    /* The same at again, an older one: nothing; a newer one for a field
     * the last did not set: applied. */
    expect(APPLY(f, "200", "data_used_kb", "1024000"), "stale", 0, 1, 0);
    expect(APPLY(f, "150", "data_used_kb", "10", "balance_fen", "5000"), "applied", 1, 1, 0);
    acct_is(f, "data_used_kb", "1024000", "balance_fen", "5000", 1);
}

static void test_script_urgent_and_quoting(void **state)
{
    struct fx *f = *state;
    freeReplyObject(CMD(f, "FLUSHALL"));
    /* Below -credit: the suspension alone (not also "balance low"). */
    expect(APPLY(f, "1", "cycle", "202612", "balance_fen", "-501", "credit_fen", "500"),
           "applied", 3, 0, 1);
    assert_string_equal(push_field(f, 0, "id"), "rem:M:202612:suspension:500");
    assert_null(push_field(f, 0, "quiet"));
    assert_string_equal(push_field(f, 0, "priority"), "0");
    assert_string_equal(push_field(f, 0, "kind"), "warning");
    assert_non_null(strstr(push_field(f, 0, "text"), "余额为-5.01元，已超出信用额度5.00元"));
    expect(APPLY(f, "2", "roaming", "JP"), "applied", 1, 0, 1);
    assert_string_equal(push_field(f, 1, "text"),
                        "\"'\\]]=] {x} JP/国际漫游资费请拨打10086或登录网上营业厅查询。");
    /* Back home and abroad again in the same cycle: once per country. */
    expect(APPLY(f, "3", "roaming", ""), "applied", 1, 0, 0);
    expect(APPLY(f, "4", "roaming", "JP"), "applied", 1, 0, 0);
}

static void test_script_bad_data_writes_nothing(void **state)
{
    struct fx *f = *state;
    freeReplyObject(CMD(f, "FLUSHALL"));
    freeReplyObject(CMD(f, "SET", "mt:push", "not a stream"));
    /* A reminder would go: the streams are checked before any write. */
    redisReply *r = APPLY(f, "1", "cycle", "202612", "balance_fen", "1");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "bad_data");
    assert_string_equal(r->element[1]->str, "mt:push");
    freeReplyObject(r);
    r = CMD(f, "EXISTS", "acct:{M}", "remsent:{M}");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    freeReplyObject(CMD(f, "DEL", "mt:push"));
    freeReplyObject(CMD(f, "SET", "acct:{M}", "x"));
    r = APPLY(f, "1", "balance_fen", "1");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "error");
    assert_non_null(strstr(r->element[1]->str, "WRONGTYPE"));
    freeReplyObject(r);
}

/* A rule is decided only when the entry changed one of its inputs, over
 * the account as the entry leaves it: a stale input (credit_fen below,
 * set later by an entry with a newer at) is its stored value; the cycle,
 * not in the entry, is read for the reminder's id. An LLTX threshold set
 * below today's use waits for the next data entry. */
static void test_script_decides_changed_rules(void **state)
{
    struct fx *f = *state;
    freeReplyObject(CMD(f, "FLUSHALL"));
    expect(APPLY(f, "10", "cycle", "202612", "balance_fen", "5000", "credit_fen", "100"),
           "applied", 3, 0, 0);
    expect(APPLY(f, "30", "credit_fen", "500"), "applied", 1, 0, 0);
    expect(APPLY(f, "20", "balance_fen", "-600", "credit_fen", "100"), "applied", 1, 1, 1);
    assert_string_equal(push_field(f, 0, "id"), "rem:M:202612:suspension:500");
    assert_non_null(strstr(push_field(f, 0, "text"), "余额为-6.00元，已超出信用额度5.00元"));
    expect(APPLY(f, "40", "data_quota_kb", "1024000", "data_used_kb", "665600"), /* 65 % */
           "applied", 2, 0, 0);
    freeReplyObject(CMD(f, "HSET", "rem:{M}", "data_pct", "60"));
    expect(APPLY(f, "50", "charges_fen", "100", "plan", "p1"), "applied", 2, 0, 0);
    expect(APPLY(f, "60", "data_used_kb", "665601"), "applied", 1, 0, 1);
    assert_string_equal(push_field(f, 1, "id"), "rem:M:202612:data:60");
    assert_int_equal(xlen(f, "audit:{M}"), 2);
}

/* One batch: an entry whose acct:{M} is not a hash fails alone (its
 * result the WRONGTYPE error), the entries around it apply; three of one
 * subscriber run in order: the latest at wins, an older one in between is
 * stale, the 80 % threshold goes once. */
static void test_script_batch(void **state)
{
    struct fx *f = *state;
    freeReplyObject(CMD(f, "FLUSHALL"));
    freeReplyObject(CMD(f, "SET", "acct:{B}", "not a hash"));
    const char *m[] = {"M", "B", "M", "M", "M"};
    const char *at[] = {"100", "100", "300", "200", "400"};
    const int nf[] = {3, 1, 1, 1, 1};
    const char *kv[] = {"cycle", "202612", "data_quota_kb", "1024000", "data_used_kb", "0",
                        "balance_fen", "1",
                        "data_used_kb", "870400", /* 85 % */
                        "data_used_kb", "921600", /* 90 %, older than the last */
                        "data_used_kb", "839680"}; /* 82 % */
    redisReply *r = apply_n(f, 5, m, at, nf, kv);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 5);
    /* applied (3 fields, no reminder), error, applied with a reminder,
     * stale, applied (1 field, no reminder). */
    assert_int_equal(r->element[0]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->element[0]->integer, 3);
    assert_string_equal(r->element[1]->element[0]->str, "error");
    assert_non_null(strstr(r->element[1]->element[1]->str, "WRONGTYPE"));
    assert_string_equal(r->element[2]->element[0]->str, "applied");
    assert_int_equal(r->element[2]->elements, 4);
    assert_string_equal(r->element[2]->element[3]->str, "rem:M:202612:data:80");
    assert_int_equal(r->element[3]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->element[3]->integer, 0);
    assert_int_equal(r->element[4]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->element[4]->integer, 1);
    freeReplyObject(r);
    acct_is(f, "data_used_kb", "839680", "at:data_used_kb", "400", 1);
    r = CMD(f, "GET", "acct:{B}");
    assert_string_equal(r->str, "not a hash");
    freeReplyObject(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test_setup_teardown(test_script_data_and_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_script_urgent_and_quoting, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_script_bad_data_writes_nothing, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_script_decides_changed_rules, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_script_batch, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
