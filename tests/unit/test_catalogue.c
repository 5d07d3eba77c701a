/* test_catalogue.c -- core/catalogue.c over a real store and redis-server:
 * a refresh that fails or finds nothing keeps the last good snapshot.
 *
 * The catalogue is driven as app.c drives it (sc_catalogue_connected when
 * the store is ready, sc_catalogue_refresh as SIGHUP does), with its own
 * timers set far off so that only the test starts refreshes. The test
 * writes Redis through a second, blocking hiredis connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "handlers/catalogue.h"
#include "base/sc.h"
#include "store/store.h"

#include "loop_wd.h"
#include "redis_child.h"

struct fx {
    uv_loop_t loop;
    uv_timer_t wd;
    int wd_fired;
    int port;
    pid_t srv;
    redisContext *rc;          /* the test's own connection */
    struct sc_store *st;
    struct sc_catalogue *cat;
    int loads, loads_ok;       /* loaded() calls, and those with ok = 1 */
    int stopped;
};

static void on_loaded(void *arg, int ok)
{
    struct fx *f = arg;
    f->loads++;
    f->loads_ok += ok;
}

static void on_state(void *arg, int ready)
{
    struct fx *f = arg;
    if (ready)
        sc_catalogue_connected(f->cat);
}

static void on_stopped(void *arg)
{
    struct fx *f = arg;
    f->stopped++;
}

/* Run one command on the test's connection; it must not fail. */
static void redis(struct fx *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(f->rc, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", fmt, r->str);
    freeReplyObject(r);
}

static void put_service(struct fx *f, const char *code, const char *name, const char *fen)
{
    redis(f, "HSET vas:svc:%s name %s price_fen %s provider SP", code, name, fen);
    redis(f, "SADD vas:catalogue %s", code);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    LOOP_WD_INIT(f);
    f->port = free_port();
    f->srv = srv_start(f->port, NULL);
    struct timeval tv = {5, 0};
    f->rc = redisConnectWithTimeout("127.0.0.1", f->port, tv);
    assert_true(f->rc && !f->rc->err);
    put_service(f, "CL001", "彩铃", "500");
    put_service(f, "YD002", "阅读包", "300");

    char url[64], err[256] = "";
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->port);
    struct sc_store_opts o = {
        .url = url,
        .connect_timeout_ms = 3000,
        /* A command written after the server died waits for this: libuv
         * reports the reset as a poll error, which the adapter ignores
         * (store.c's opening comment). */
        .command_timeout_ms = 1000,
        .reconnect_min_ms = 50,
        .reconnect_max_ms = 500,
        .max_pending = 100,
    };
    f->st = sc_store_new(&f->loop, &o, err, sizeof err);
    if (!f->st)
        fail_msg("sc_store_new: %s", err);
    /* Refresh and probe timers an hour off: only the test refreshes. */
    f->cat = sc_catalogue_new(&f->loop, f->st, 3600, 3600000, on_loaded, f);
    assert_non_null(f->cat);
    sc_store_on_state(f->st, on_state, f);
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, f->loads == 1, 10000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sc_catalogue_stop(f->cat, on_stopped, f);
    sc_store_stop(f->st, on_stopped, f);
    RUN_UNTIL(f, f->stopped == 2, 10000);
    sc_catalogue_free(f->cat);
    sc_store_free(f->st);
    uv_close((uv_handle_t *)&f->wd, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    redisFree(f->rc);
    srv_kill(f->srv);
    free(f);
    return 0;
}

/* The two services of setup, as loaded. */
static void assert_first_snapshot(const struct fx *f)
{
    assert_int_equal(sc_catalogue_size(f->cat), 2);
    const struct sc_service *s = sc_catalogue_get(f->cat, "CL001");
    assert_non_null(s);
    assert_string_equal(s->name, "彩铃");
    assert_int_equal(s->price_fen, 500);
    s = sc_catalogue_get(f->cat, "YD002");
    assert_non_null(s);
    assert_int_equal(s->price_fen, 300);
    assert_null(sc_catalogue_get(f->cat, "SP003"));
}

/* Start a refresh and wait for its loaded() call; returns its ok. */
static int refresh(struct fx *f)
{
    int loads = f->loads, ok = f->loads_ok;
    sc_catalogue_refresh(f->cat);
    RUN_UNTIL(f, f->loads == loads + 1, 10000);
    return f->loads_ok - ok;
}

static void test_loaded_then_refreshed(void **state)
{
    struct fx *f = *state;
    assert_int_equal(f->loads_ok, 1);
    assert_first_snapshot(f);
    assert_false(sc_catalogue_lost(f->cat));
    /* A new service and a new price: the next refresh has both. */
    put_service(f, "SP003", "视频会员", "1500");
    redis(f, "HSET vas:svc:CL001 price_fen 600");
    assert_int_equal(refresh(f), 1);
    assert_int_equal(sc_catalogue_size(f->cat), 3);
    assert_int_equal(sc_catalogue_get(f->cat, "CL001")->price_fen, 600);
    assert_string_equal(sc_catalogue_get(f->cat, "SP003")->name, "视频会员");
}

static void test_failed_refresh_keeps_the_snapshot(void **state)
{
    struct fx *f = *state;
    /* SMEMBERS on a string: WRONGTYPE, the refresh fails. */
    redis(f, "DEL vas:catalogue");
    redis(f, "SET vas:catalogue oops");
    assert_int_equal(refresh(f), 0);
    assert_first_snapshot(f);
    /* Fixed: the next refresh loads again. */
    redis(f, "DEL vas:catalogue");
    redis(f, "SADD vas:catalogue CL001");
    assert_int_equal(refresh(f), 1);
    assert_int_equal(sc_catalogue_size(f->cat), 1);
}

static void test_failed_refresh_when_redis_dies_keeps_the_snapshot(void **state)
{
    struct fx *f = *state;
    /* Killed with the refresh's SMEMBERS queued: it fails (closed or timed
     * out). */
    int loads = f->loads;
    sc_catalogue_refresh(f->cat);
    srv_kill(f->srv);
    f->srv = 0;
    RUN_UNTIL(f, f->loads == loads + 1, 10000);
    assert_int_equal(f->loads_ok, 1); /* only setup's load was ok */
    assert_first_snapshot(f);
    /* While disconnected a refresh does not start; the snapshot stays. */
    RUN_UNTIL(f, !sc_store_connected(f->st), 10000);
    sc_catalogue_refresh(f->cat);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->loads, loads + 1);
    assert_first_snapshot(f);
}

static void test_empty_refresh_keeps_the_snapshot(void **state)
{
    struct fx *f = *state;
    /* The set gone (FLUSHALL, DEL): never replace a good catalogue by an
     * empty one; the dataset is taken as lost until the set is back. */
    redis(f, "DEL vas:catalogue");
    assert_int_equal(refresh(f), 0);
    assert_first_snapshot(f);
    assert_true(sc_catalogue_lost(f->cat));
    /* Members whose hashes are all missing: empty too, kept. */
    redis(f, "SADD vas:catalogue GONE1 GONE2");
    assert_int_equal(refresh(f), 0);
    assert_first_snapshot(f);
    assert_true(sc_catalogue_lost(f->cat));
    /* Re-imported: loaded, and the dataset is back. */
    put_service(f, "CL001", "彩铃", "500");
    redis(f, "SREM vas:catalogue GONE1 GONE2");
    assert_int_equal(refresh(f), 1);
    assert_int_equal(sc_catalogue_size(f->cat), 1);
    assert_false(sc_catalogue_lost(f->cat));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(2) */
    atexit(kill_all);
    const struct CMUnitTest tests[] = {
        T(test_loaded_then_refreshed),
        T(test_failed_refresh_keeps_the_snapshot),
        T(test_failed_refresh_when_redis_dies_keeps_the_snapshot),
        T(test_empty_refresh_keeps_the_snapshot),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
