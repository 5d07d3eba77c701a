/* test_request.c -- core/request.c's decisions (core/outcome.h): the
 * request layer's prelude run on a real redis-server, its replies read by
 * sc__req_verdict (rate limited once, then silence; damaged keys before any
 * write; script and store errors), and the ack plan of every outcome under
 * both ack policies. The scripts are the ones the daemon registers
 * (sc__req_script), run with EVAL on a blocking hiredis connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "base/sc.h"
#include "base/smpp.h"
#include "core/outcome.h"
#include "core/request.h"

#include "redis_child.h"

#define ERROR_STATUS 0x64u     /* ESME_RX_T_APPN, the default temporary error */

struct fx {
    pid_t srv;
    redisContext *rc;
    redisReply *last;          /* the reply the verdict points into */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    int port = free_port();
    f->srv = srv_start(port, NULL);
    struct timeval tv = {5, 0};
    f->rc = redisConnectWithTimeout("127.0.0.1", port, tv);
    assert_true(f->rc && !f->rc->err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    freeReplyObject(f->last);
    redisFree(f->rc);
    srv_kill(f->srv);
    free(f);
    return 0;
}

static redisReply *cmd(struct fx *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(f->rc, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static void cmd_ok(struct fx *f, const char *fmt, const char *a, const char *b)
{
    redisReply *r = cmd(f, fmt, a, b);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", fmt, r->str);
    freeReplyObject(r);
}

/* The string value of key, or "" when it does not exist. */
static const char *get(struct fx *f, const char *key, char *out, size_t outsz)
{
    redisReply *r = cmd(f, "GET %s", key);
    sc_strlcpy(out, r->type == REDIS_REPLY_STRING ? r->str : "", outsz);
    freeReplyObject(r);
    return out;
}

/* EVAL the daemon's script for body (NULL: a handler without one) with the
 * prelude's keys and args (subscriber 1380, limit, continues dialogue, the
 * handler's key types) and the handler's key / arg, then classify. */
static void run(struct fx *f, const char *body, int limit, int cont, const char *types,
                const char *key, const char *arg, struct sc_verdict *v)
{
    char *lua = sc__req_script(NULL, body);
    assert_non_null(lua);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    /* EVAL script nkeys rl pending [key] limit window cont types [arg] */
    const char *argv[12] = {"EVAL", lua, key ? "3" : "2", "rl:{1380}", "pending:{1380}"};
    int argc = 5;
    if (key)
        argv[argc++] = key;
    argv[argc++] = lim;
    argv[argc++] = "60";
    argv[argc++] = cont ? "1" : "0";
    argv[argc++] = types;
    if (arg)
        argv[argc++] = arg;
    freeReplyObject(f->last);
    f->last = redisCommandArgv(f->rc, argc, argv, NULL);
    free(lua);
    assert_non_null(f->last);
    sc__req_verdict(0, f->last, v);
}

/* A handler's script: stores A[1] in K[1], returns {"stored", A[1]}. */
static const char store_lua[] = "redis.call('SET', K[1], A[1])\nreturn {'stored', A[1]}\n";

static void test_result_reaches_the_handler(void **state)
{
    struct fx *f = *state;
    struct sc_verdict v;
    char buf[64];
    run(f, store_lua, 10, 0, "s", "k:{1380}", "one", &v);
    assert_int_equal(v.kind, SC_VERDICT_RESULT);
    assert_int_equal(v.nelems, 2);
    assert_string_equal(v.elems[0]->str, "stored");
    assert_string_equal(v.elems[1]->str, "one");
    assert_string_equal(get(f, "k:{1380}", buf, sizeof buf), "one");
    assert_string_equal(get(f, "rl:{1380}", buf, sizeof buf), "1");
}

static void test_rate_limited_once_then_silence(void **state)
{
    struct fx *f = *state;
    struct sc_verdict v;
    char buf[64];
    const char *vals[] = {"a", "b", "c", "d", "e"};
    const enum sc_verdict_kind want[] = {SC_VERDICT_RESULT, SC_VERDICT_RESULT,
                                         SC_VERDICT_RATE_FIRST, SC_VERDICT_RATE_AGAIN,
                                         SC_VERDICT_RATE_AGAIN};
    for (size_t i = 0; i < 5; i++) {
        run(f, store_lua, 2, 0, "s", "k:{1380}", vals[i], &v);
        assert_int_equal(v.kind, want[i]);
    }
    /* Over the limit, the handler's script did not run. */
    assert_string_equal(get(f, "k:{1380}", buf, sizeof buf), "b");
    redisReply *ttl = cmd(f, "TTL rl:{1380}");
    assert_true(ttl->integer > 0 && ttl->integer <= 60);
    freeReplyObject(ttl);
}

static void test_bad_data_before_any_write(void **state)
{
    struct fx *f = *state;
    struct sc_verdict v;
    char buf[64];
    cmd_ok(f, "HSET %s f %s", "k:{1380}", "v");
    cmd_ok(f, "SET %s %s", "pending:{1380}", "cancel_all:CL001");
    run(f, store_lua, 10, 0, "s", "k:{1380}", "x", &v);
    assert_int_equal(v.kind, SC_VERDICT_BAD_DATA);
    assert_null(v.error);
    assert_string_equal(v.bad[0], "k:{1380}");
    assert_string_equal(v.bad[1], "hash");
    assert_string_equal(v.bad[2], "string");
    /* Nothing written: not counted, the dialogue not ended. */
    assert_string_equal(get(f, "rl:{1380}", buf, sizeof buf), "");
    assert_string_equal(get(f, "pending:{1380}", buf, sizeof buf), "cancel_all:CL001");

    /* A counter that is not an integer is damaged data too. */
    cmd_ok(f, "DEL %s %s", "k:{1380}", "pending:{1380}");
    cmd_ok(f, "SET %s %s", "rl:{1380}", "many");
    run(f, store_lua, 10, 0, "s", "k:{1380}", "x", &v);
    assert_int_equal(v.kind, SC_VERDICT_BAD_DATA);
    assert_string_equal(v.bad[0], "rl:{1380}");
    assert_string_equal(v.bad[2], "integer");
    assert_string_equal(get(f, "k:{1380}", buf, sizeof buf), "");
}

static void test_wrongtype_of_an_undeclared_use_is_bad_data(void **state)
{
    struct fx *f = *state;
    struct sc_verdict v;
    /* Declared a string, used as a hash by the script: Redis says WRONGTYPE. */
    cmd_ok(f, "SET %s %s", "k:{1380}", "v");
    run(f, "return {redis.call('HGET', K[1], 'f')}\n", 10, 0, "s", "k:{1380}", NULL, &v);
    assert_int_equal(v.kind, SC_VERDICT_BAD_DATA);
    assert_non_null(v.error);
    assert_non_null(strstr(v.error, "WRONGTYPE"));
}

static void test_script_and_store_errors_fail(void **state)
{
    struct fx *f = *state;
    struct sc_verdict v;
    run(f, "error('boom')\n", 10, 0, "", NULL, NULL, &v);
    assert_int_equal(v.kind, SC_VERDICT_FAIL);
    assert_string_equal(v.why, "script error");
    assert_non_null(strstr(v.error, "boom"));
    sc__req_verdict(SC_ETIMEOUT, NULL, &v);
    assert_int_equal(v.kind, SC_VERDICT_FAIL);
    assert_string_equal(v.why, "redis timeout");
    sc__req_verdict(SC_ECLOSED, NULL, &v);
    assert_int_equal(v.kind, SC_VERDICT_FAIL);
    assert_string_equal(v.why, "redis connection lost");
}

/* A handler without a script: the prelude alone, an empty result; any
 * command but the one that continues the dialogue ends it. */
static void test_no_script_and_the_pending_dialogue(void **state)
{
    struct fx *f = *state;
    struct sc_verdict v;
    char buf[64];
    cmd_ok(f, "SET %s %s", "pending:{1380}", "cancel_all:CL001");
    run(f, NULL, 10, 1, "", NULL, NULL, &v);
    assert_int_equal(v.kind, SC_VERDICT_RESULT);
    assert_int_equal(v.nelems, 0);
    assert_string_equal(get(f, "pending:{1380}", buf, sizeof buf), "cancel_all:CL001");
    run(f, NULL, 10, 0, "", NULL, NULL, &v);
    assert_int_equal(v.kind, SC_VERDICT_RESULT);
    assert_string_equal(get(f, "pending:{1380}", buf, sizeof buf), "");
    assert_string_equal(get(f, "rl:{1380}", buf, sizeof buf), "2");
}

static void test_ack_plans(void **state)
{
    (void)state;
    /* after_store: the resp (ROK) first, then the MT is queued. */
    struct sc_ack_plan p = sc__req_plan(SC_OUTCOME_REPLY, 0, ERROR_STATUS);
    assert_true(p.resp_now && p.send_mt && !p.resp_on_mt && p.done_now);
    assert_int_equal(p.status_now, SC_ESME_ROK);
    /* after_reply: no resp until the SMSC accepted the MT ... */
    p = sc__req_plan(SC_OUTCOME_REPLY, 1, ERROR_STATUS);
    assert_true(!p.resp_now && p.send_mt && p.resp_on_mt && !p.done_now);
    int done = -1;
    assert_int_equal(sc__req_mt_ended(0, ERROR_STATUS, &done), SC_ESME_ROK);
    assert_int_equal(done, 1);
    /* ... and the temporary error when it did not. */
    assert_int_equal(sc__req_mt_ended(SC_ETIMEOUT, ERROR_STATUS, &done), ERROR_STATUS);
    assert_int_equal(done, 0);
    assert_int_equal(sc__req_mt_ended(SC_EPROTO, ERROR_STATUS, &done), ERROR_STATUS);
    /* The rate_limited reply is a reply under either policy. */
    for (int ar = 0; ar < 2; ar++) {
        struct sc_ack_plan r = sc__req_plan(SC_OUTCOME_RATE_REPLY, ar, ERROR_STATUS);
        struct sc_ack_plan q = sc__req_plan(SC_OUTCOME_REPLY, ar, ERROR_STATUS);
        assert_memory_equal(&r, &q, sizeof r);
    }
    /* Silent outcomes: ROK now, no MT, the long MO done; under both. */
    const enum sc_outcome silent[] = {SC_OUTCOME_SILENT, SC_OUTCOME_RATE_SILENT,
                                      SC_OUTCOME_NO_ROUTE};
    for (int ar = 0; ar < 2; ar++)
        for (size_t i = 0; i < SC_ARRAY_LEN(silent); i++) {
            p = sc__req_plan(silent[i], ar, ERROR_STATUS);
            assert_true(p.resp_now && !p.send_mt && !p.resp_on_mt && p.done_now);
            assert_int_equal(p.status_now, SC_ESME_ROK);
        }
    /* fail: the temporary error, no MT, nothing done: the SMSC redelivers. */
    for (int ar = 0; ar < 2; ar++) {
        p = sc__req_plan(SC_OUTCOME_FAIL, ar, ERROR_STATUS);
        assert_true(p.resp_now && !p.send_mt && !p.resp_on_mt && !p.done_now);
        assert_int_equal(p.status_now, ERROR_STATUS);
    }
    assert_string_equal(sc__req_outcome_name(SC_OUTCOME_RATE_SILENT), "rate_limited");
    assert_string_equal(sc__req_outcome_name(SC_OUTCOME_FAIL), "temporary_error");
}

/* Every registered handler can end its requests. */
static void test_every_handler_has_a_result(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; sc_handlers[i]; i++, n++) {
        assert_non_null(sc_handlers[i]->result);
        if (sc_handlers[i]->script)
            assert_non_null(sc_handlers[i]->prepare);
    }
    assert_true(n >= 6);
}

/* A handler's script that writes a global stream (K[1]) through sc_emit. */
static const char emit_lua[] =
    "sc_emit('ev:global', 'event', 'x', 'id', A[1])\nreturn {'emitted'}\n";

/* EVAL emit_lua with K[1] = ev:global (one server) or, as core/request.c
 * does on a cluster, K[1] swapped for out:{1380} and out:{1380} added last. */
static redisReply *run_emit(struct fx *f, int cluster, const char *id)
{
    char *lua = sc__req_script(NULL, emit_lua);
    assert_non_null(lua);
    const char *argv[12] = {"EVAL", lua, cluster ? "4" : "3", "rl:{1380}", "pending:{1380}",
                            cluster ? "out:{1380}" : "ev:global"};
    int argc = 6;
    if (cluster)
        argv[argc++] = "out:{1380}";
    const char *rest[] = {"10", "60", "0", "x", id};
    for (size_t i = 0; i < 5; i++)
        argv[argc++] = rest[i];
    redisReply *r = redisCommandArgv(f->rc, argc, argv, NULL);
    free(lua);
    assert_non_null(r);
    return r;
}

static long long xlen(struct fx *f, const char *key)
{
    redisReply *r = cmd(f, "XLEN %s", key);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

static void test_emit_writes_the_global_key_on_one_server(void **state)
{
    struct fx *f = *state;
    redisReply *r = run_emit(f, 0, "e1");
    /* The reply is as before: no outbox element. */
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "emitted");
    freeReplyObject(r);
    assert_int_equal(xlen(f, "ev:global"), 1);
    assert_int_equal(xlen(f, "out:{1380}"), 0);
}

static void test_emit_goes_to_the_outbox_on_a_cluster(void **state)
{
    struct fx *f = *state;
    redisReply *r = run_emit(f, 1, "e1");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 3); /* "ok", the handler's, the outbox */
    assert_string_equal(r->element[1]->str, "emitted");
    const redisReply *box = r->element[2];
    assert_int_equal(box->type, REDIS_REPLY_ARRAY);
    assert_int_equal(box->elements, 1);
    /* [id, [c XADD k ev:global n 4 a1 event a2 x a3 id a4 e1]] */
    const redisReply *fl = box->element[0]->element[1];
    assert_int_equal(fl->elements, 14);
    const char *want[] = {"c", "XADD", "k", "ev:global", "n", "4", "a1", "event",
                          "a2", "x", "a3", "id", "a4", "e1"};
    for (size_t i = 0; i < 14; i++)
        assert_string_equal(fl->element[i]->str, want[i]);
    freeReplyObject(r);
    assert_int_equal(xlen(f, "ev:global"), 0);
    /* Not relayed yet: the next run returns it again, with its own. */
    r = run_emit(f, 1, "e2");
    assert_int_equal(r->element[r->elements - 1]->elements, 2);
    freeReplyObject(r);
    assert_int_equal(xlen(f, "out:{1380}"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_result_reaches_the_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_once_then_silence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_data_before_any_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrongtype_of_an_undeclared_use_is_bad_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_script_and_store_errors_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_script_and_the_pending_dialogue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emit_writes_the_global_key_on_one_server, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_emit_goes_to_the_outbox_on_a_cluster, setup,
                                        teardown),
        cmocka_unit_test(test_ack_plans),
        cmocka_unit_test(test_every_handler_has_a_result),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
