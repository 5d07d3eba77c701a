/* test_store.c -- store/store.c against a real redis-server on loopback.
 *
 * Every test starts its own redis-server child (free port, --save '',
 * --appendonly no, a mkdtemp dir) and kills it in the test's teardown, so a
 * failed assertion never leaves one behind; an atexit guard and
 * PR_SET_PDEATHSIG cover a crash or a timeout kill of this process. Each
 * test runs a private uv loop under a watchdog and ends by checking that the
 * loop closes cleanly (uv_loop_close == 0: no leaked handles). Deadlines are
 * generous: the machine may be loaded.
 * Long by design: one test file for the store, each case with its own
 * redis-server child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "base/log.h"
#include "base/sc.h"
#include "store/store.h"

#include "loop_wd.h"
#include "redis_child.h"

/* ---- loop fixture -------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    uv_timer_t wd;
    int wd_fired;
    int loop_closed;
    int port;
    pid_t srv;
    struct sc_store *st;
    int ups, downs;
    int done;
    int cb_calls;       /* all result callbacks, for ordering checks */
    int cb_at_done;
    int in_call;        /* inside an sc_store_* call: callbacks must not run */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    LOOP_WD_INIT(f);
    f->port = free_port();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    srv_kill(f->srv);
    f->srv = 0;
    /* After a failed assertion the loop is abandoned mid-flight: leak it
     * rather than touch it. */
    if (f->loop_closed)
        free(f);
    return 0;
}

static void on_state(void *arg, int ready)
{
    struct fx *f = arg;
    if (ready)
        f->ups++;
    else
        f->downs++;
}

static void on_done(void *arg)
{
    struct fx *f = arg;
    f->done = 1;
    f->cb_at_done = f->cb_calls;
}

static struct sc_store_opts default_opts(const char *url)
{
    struct sc_store_opts o = {
        .url = url,
        .connect_timeout_ms = 3000,
        .command_timeout_ms = 5000,
        .reconnect_min_ms = 50,
        .reconnect_max_ms = 500,
        .max_pending = 1000,
    };
    return o;
}

static const char *url_for(char *buf, size_t n, const char *cred, int port, const char *db)
{
    snprintf(buf, n, "redis://%s127.0.0.1:%d%s", cred ? cred : "", port, db ? db : "");
    return buf;
}

static struct sc_store *mk_store(struct fx *f, const struct sc_store_opts *o)
{
    char err[256] = "";
    struct sc_store *st = sc_store_new(&f->loop, o, err, sizeof err);
    if (!st)
        fail_msg("sc_store_new: %s", err);
    sc_store_on_state(st, on_state, f);
    f->ups = f->downs = 0;
    f->done = 0;
    return st;
}

/* Stop and free the fixture's store: waits for done. */
static void stop_store(struct fx *f)
{
    if (!f->st)
        return;
    f->done = 0;
    f->in_call = 1;
    sc_store_stop(f->st, on_done, f);
    f->in_call = 0;
    RUN_UNTIL(f, f->done, 10000);
    sc_store_free(f->st);
    f->st = NULL;
}

/* Stop the store, then the loop must close with no handle left. */
static void finish(struct fx *f)
{
    stop_store(f);
    uv_close((uv_handle_t *)&f->wd, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    f->loop_closed = 1;
}

/* ---- results ------------------------------------------------------------- */

struct res {
    struct fx *f;
    int called, err, type, order;
    long long integer;
    char str[512];
    size_t len;
    size_t elements;
    struct {
        int type;
        long long integer;
        char str[64];
        size_t len;
    } el[8];
    int stop_in_cb;     /* call sc_store_stop from inside the callback */
};

static void copy_str(char *dst, size_t dstsz, size_t *outlen, const char *s, size_t len)
{
    size_t n = len < dstsz - 1 ? len : dstsz - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
    *outlen = len;
}

static void on_res(void *ctx, int err, struct redisReply *r)
{
    struct res *x = ctx;
    struct fx *f = x->f;
    assert_false(f->in_call); /* never called from inside a store call */
    x->called++;
    x->err = err;
    x->order = ++f->cb_calls;
    if (err == 0)
        assert_non_null(r);
    else
        assert_null(r);
    if (r) {
        x->type = r->type;
        x->integer = r->integer;
        if (r->str)
            copy_str(x->str, sizeof x->str, &x->len, r->str, r->len);
        x->elements = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        for (size_t i = 0; i < x->elements && i < SC_ARRAY_LEN(x->el); i++) {
            x->el[i].type = r->element[i]->type;
            x->el[i].integer = r->element[i]->integer;
            if (r->element[i]->str)
                copy_str(x->el[i].str, sizeof x->el[i].str, &x->el[i].len, r->element[i]->str,
                         r->element[i]->len);
        }
    }
    if (x->stop_in_cb) {
        f->in_call = 1;
        sc_store_stop(f->st, on_done, f);
        f->in_call = 0;
    }
}

/* A command through sc_store_command, or (write) sc_store_write: followed
 * by WAIT with wait_replicas. */
static int cmd(struct fx *f, struct res *x, int write, int argc, const char *const *argv)
{
    memset(x, 0, sizeof *x);
    x->f = f;
    f->in_call = 1;
    int rc = (write ? sc_store_write : sc_store_command)(f->st, argc, argv, NULL, on_res, x);
    f->in_call = 0;
    return rc;
}

#define CMD_AS(f, x, write, ...)                                                           \
    cmd(f, x, write, (int)SC_ARRAY_LEN(((const char *const[]){__VA_ARGS__})),              \
        (const char *const[]){__VA_ARGS__})
#define CMD(f, x, ...) CMD_AS(f, x, 0, __VA_ARGS__)
#define WRITE(f, x, ...) CMD_AS(f, x, 1, __VA_ARGS__)

/* Script 0 of every store: echoes its keys and args. */
static const char ECHO_LUA[] = "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}";

static int eval_echo(struct fx *f, struct res *x, int script, const char *k2, const char *a1,
                     size_t a1len)
{
    const char *keys[2] = {"{t}:k1", k2};
    const char *args[2] = {a1, "second"};
    size_t klens[2] = {6, strlen(k2)};
    size_t alens[2] = {a1len, 6};
    memset(x, 0, sizeof *x);
    x->f = f;
    f->in_call = 1;
    int rc = sc_store_eval(f->st, script, 2, keys, klens, 2, args, alens, on_res, x);
    f->in_call = 0;
    return rc;
}

static void check_echo(const struct res *x, const char *k2, const char *a1, size_t a1len)
{
    assert_int_equal(x->called, 1);
    assert_int_equal(x->err, 0);
    assert_int_equal(x->type, REDIS_REPLY_ARRAY);
    assert_int_equal(x->elements, 6);
    assert_string_equal(x->el[0].str, "{t}:k1");
    assert_string_equal(x->el[1].str, k2);
    assert_int_equal(x->el[2].len, a1len);
    assert_memory_equal(x->el[2].str, a1, a1len);
    assert_string_equal(x->el[3].str, "second");
    assert_int_equal(x->el[4].integer, 2);
    assert_int_equal(x->el[5].integer, 2);
}

/* Start a server and a ready store with the echo script (id 0). */
static void start_ready(struct fx *f, const struct sc_store_opts *o, const char *const *extra)
{
    f->srv = srv_start(f->port, extra);
    f->st = mk_store(f, o);
    assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, f->ups == 1, 10000);
    assert_true(sc_store_ready(f->st));
}

/* ---- stderr capture (for what gets logged) ------------------------------ */

struct cap {
    int saved;
    char path[PATH_MAX];
};

static void cap_begin(struct cap *c)
{
    snprintf(c->path, sizeof c->path, "%s/stderr-XXXXXX", g_dir);
    int fd = mkstemp(c->path);
    assert_true(fd >= 0);
    c->saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* What stderr got since cap_begin, the capture going on (free it). */
static char *cap_read(const struct cap *c)
{
    FILE *fp = fopen(c->path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Restore stderr, echo what was captured to it, return it (free it). */
static char *cap_end(struct cap *c)
{
    dup2(c->saved, 2);
    close(c->saved);
    char *buf = cap_read(c);
    unlink(c->path);
    size_t n = strlen(buf);
    if (n)
        (void)!write(2, buf, n);
    return buf;
}

static int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* Lines of what was captured so far that contain needle: the positive
 * marker RUN_UNTIL waits for instead of a fixed time. */
static int cap_count(const struct cap *c, const char *needle)
{
    char *log = cap_read(c);
    int n = count_substr(log, needle);
    free(log);
    return n;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_bad_urls(void **state)
{
    static const char *const bad[] = {
        NULL, "", "http://127.0.0.1", "rediss://:topsecret@127.0.0.1", "redis://",
        "redis://:topsecret@", "redis://:topsecret@:6379", "redis://h:0", "redis://h:65536",
        "redis://h:abc", "redis://:topsecret@h:12x", "redis://h/x", "redis://h/1/2",
        "redis://h?db=1", "redis://:top%zzsecret@h", "redis://[::1", "redis://h o",
    };
    static const char *const good[] = {
        "redis://127.0.0.1", "redis://localhost:6380/2", "redis://:pw@h:1/0",
        "redis://user:pw@h", "redis://[::1]:6379/1", "redis://pa%40ss@host", "REDIS://H/",
        "redis://us%3Aer:p@ss:w@rd@host:7000/15",
    };
    struct fx *f = *state;
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        struct sc_store_opts o = default_opts(bad[i]);
        char err[256] = "";
        struct sc_store *st = sc_store_new(&f->loop, &o, err, sizeof err);
        if (st)
            fail_msg("accepted bad url #%zu", i);
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "topsecret"));
        assert_null(strstr(err, "top%zz"));
    }
    for (size_t i = 0; i < SC_ARRAY_LEN(good); i++) {
        struct sc_store_opts o = default_opts(good[i]);
        char err[256] = "";
        struct sc_store *st = sc_store_new(&f->loop, &o, err, sizeof err);
        if (!st)
            fail_msg("refused good url %s: %s", good[i], err);
        sc_store_free(st);
    }
    sc_store_free(NULL);
    finish(f);
}

static void test_not_ready(void **state)
{
    struct fx *f = *state;
    struct res x;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));

    /* Stop before start: done at once, no handle was ever opened. */
    f->st = mk_store(f, &o);
    sc_store_stop(f->st, on_done, f);
    assert_true(f->done);
    sc_store_free(f->st);
    f->st = NULL;

    f->srv = srv_start(f->port, NULL);
    f->st = mk_store(f, &o);
    assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
    assert_int_equal(sc_store_script(f->st, "bad", NULL), SC_EINVAL);
    assert_false(sc_store_ready(f->st));
    assert_int_equal(CMD(f, &x, "PING"), SC_EAGAIN);
    assert_int_equal(eval_echo(f, &x, 0, "k", "a", 1), SC_EAGAIN);
    assert_int_equal(sc_store_start(f->st), 0);
    assert_int_equal(sc_store_start(f->st), SC_ESTATE);
    assert_int_equal(sc_store_script(f->st, "late", "return 1"), SC_ESTATE);
    /* Connecting is asynchronous: not ready yet, and no queueing. */
    assert_false(sc_store_ready(f->st));
    assert_int_equal(CMD(f, &x, "PING"), SC_EAGAIN);
    assert_int_equal(eval_echo(f, &x, 0, "k", "a", 1), SC_EAGAIN);
    assert_int_equal(sc_store_pending(f->st), 0);
    RUN_UNTIL(f, f->ups == 1, 10000);
    assert_int_equal(x.called, 0); /* a refused call never calls back */

    /* Bad arguments. */
    assert_int_equal(eval_echo(f, &x, 1, "k", "a", 1), SC_EINVAL);
    assert_int_equal(eval_echo(f, &x, -1, "k", "a", 1), SC_EINVAL);
    assert_int_equal(CMD(f, &x, "SUBSCRIBE", "ch"), SC_EINVAL);
    assert_int_equal(CMD(f, &x, "monitor"), SC_EINVAL);
    assert_int_equal(sc_store_command(f->st, 0, NULL, NULL, on_res, &x), SC_EINVAL);

    assert_int_equal(CMD(f, &x, "PING"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, 0);
    assert_string_equal(x.str, "PONG");
    finish(f);
    assert_int_equal(f->downs, 1); /* stop reports the store down once */
}

/* Durability (issue 8 item 10): REFUSE never becomes ready on a server
 * without AOF (and says why), and takes it once AOF is switched on; the
 * server's run_id and key count are known once ready; a held store refuses
 * evals but still runs commands. */
static void test_durability_and_hold(void **state)
{
    struct fx *f = *state;
    struct res x;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    o.durability = SC_DURABILITY_REFUSE;
    f->srv = srv_start(f->port, NULL); /* --appendonly no */
    struct cap c;
    cap_begin(&c);
    f->st = mk_store(f, &o);
    assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
    assert_int_equal(sc_store_start(f->st), 0);
    /* Refused twice: the second refusal means the first attempt was not
     * taken, however slow the machine. */
    RUN_UNTIL(f, cap_count(&c, "level=error event=redis_not_durable") >= 2, 15000);
    char *log = cap_end(&c);
    assert_int_equal(f->ups, 0);
    assert_false(sc_store_connected(f->st));
    assert_true(count_substr(log, "level=error event=redis_not_durable") >= 2);
    assert_non_null(strstr(log, "found=\"appendonly=no appendfsync=everysec save=\\\"\\\"\""));
    free(log);
    assert_int_equal(sc_store_server(f->st)->durable, 0);

    /* Switched on at run time: the next attempt takes it. */
    redisContext *rc = redisConnect("127.0.0.1", f->port);
    assert_true(rc && !rc->err);
    redisReply *r = redisCommand(rc, "CONFIG SET appendonly yes");
    assert_non_null(r);
    freeReplyObject(r);
    r = redisCommand(rc, "SET some key");
    freeReplyObject(r);
    redisFree(rc);
    RUN_UNTIL(f, f->ups == 1, 10000);
    const struct sc_store_server *srv = sc_store_server(f->st);
    assert_int_equal(srv->durable, 1);
    assert_int_equal(strlen(srv->run_id), 40);
    assert_int_equal(srv->keys, 1);

    sc_store_hold(f->st, 1);
    assert_false(sc_store_ready(f->st));
    assert_true(sc_store_connected(f->st));
    assert_int_equal(eval_echo(f, &x, 0, "k", "a", 1), SC_EAGAIN);
    assert_int_equal(CMD(f, &x, "EXISTS", "some"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.integer, 1);
    sc_store_hold(f->st, 0);
    assert_true(sc_store_ready(f->st));
    assert_int_equal(eval_echo(f, &x, 0, "k", "a", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "k", "a", 1);
    finish(f);
}

static void test_eval_roundtrip(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    start_ready(f, &o, NULL);

    /* Binary-safe: an argument with a NUL byte inside. */
    static const char bin[] = {'a', '\0', 'b', '\xff'};
    struct res x;
    assert_int_equal(eval_echo(f, &x, 0, "{t}:k2", bin, sizeof bin), 0);
    assert_int_equal(sc_store_pending(f->st), 1);
    assert_int_equal(x.called, 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:k2", bin, sizeof bin);
    assert_int_equal(sc_store_pending(f->st), 0);

    /* NUL-terminated form (NULL lens) and no keys or args at all. */
    const char *keys[1] = {"{t}:only"};
    memset(&x, 0, sizeof x);
    x.f = f;
    assert_int_equal(sc_store_eval(f->st, 0, 1, keys, NULL, 0, NULL, NULL, on_res, &x), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, 0);
    assert_int_equal(x.elements, 1); /* Lua table stops at KEYS[2] == nil */
    assert_string_equal(x.el[0].str, "{t}:only");

    /* A pipeline: all answered, in order. */
    enum { N = 300 };
    static struct res many[N];
    char k2[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(k2[i], sizeof k2[i], "{t}:%d", i);
        assert_int_equal(eval_echo(f, &many[i], 0, k2[i], "x", 1), 0);
    }
    assert_int_equal(sc_store_pending(f->st), N);
    RUN_UNTIL(f, many[N - 1].called, 20000);
    for (int i = 0; i < N; i++) {
        check_echo(&many[i], k2[i], "x", 1);
        if (i)
            assert_true(many[i].order == many[i - 1].order + 1);
    }
    finish(f);
}

static void test_noscript(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    start_ready(f, &o, NULL);
    struct res x, fl, after[3];
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:a", "1", 1);

    assert_int_equal(CMD(f, &fl, "SCRIPT", "FLUSH"), 0);
    RUN_UNTIL(f, fl.called, 10000);
    assert_int_equal(fl.err, 0);
    assert_string_equal(fl.str, "OK");

    /* Each EVALSHA gets NOSCRIPT and is retried as EVAL, transparently. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(eval_echo(f, &after[i], 0, "{t}:b", "2", 1), 0);
    RUN_UNTIL(f, after[2].called, 10000);
    for (int i = 0; i < 3; i++)
        check_echo(&after[i], "{t}:b", "2", 1);
    assert_int_equal(sc_store_pending(f->st), 0);

    /* EVAL put the script back in the cache: EVALSHA works again. */
    assert_int_equal(eval_echo(f, &x, 0, "{t}:c", "3", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:c", "3", 1);
    assert_int_equal(f->ups, 1);
    assert_int_equal(f->downs, 0);
    finish(f);
}

/* A script Redis refuses to compile: logged, the store is ready anyway and
 * callers of that script get Redis' error as their reply. */
static void test_broken_script(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    f->srv = srv_start(f->port, NULL);
    f->st = mk_store(f, &o);
    assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
    assert_int_equal(sc_store_script(f->st, "broken", "return {{{"), 1);
    struct cap c;
    cap_begin(&c);
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, f->ups == 1, 10000);
    char *log = cap_end(&c);
    assert_non_null(strstr(log, "event=redis_script_failed"));
    assert_non_null(strstr(log, "script=broken"));
    free(log);
    struct res x;
    assert_int_equal(eval_echo(f, &x, 1, "{t}:a", "1", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, 0);
    assert_int_equal(x.type, REDIS_REPLY_ERROR);
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:a", "1", 1);
    finish(f);
}

static void test_command_timeout(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    o.command_timeout_ms = 200;
    o.connect_timeout_ms = 8000; /* the reconnect waits for the sleep to end */
    start_ready(f, &o, NULL);

    struct res sl, ping, ev;
    assert_int_equal(CMD(f, &sl, "DEBUG", "SLEEP", "2"), 0);
    assert_int_equal(CMD(f, &ping, "PING"), 0);
    assert_int_equal(eval_echo(f, &ev, 0, "{t}:a", "1", 1), 0);
    struct cap c;
    cap_begin(&c);
    RUN_UNTIL(f, sl.called && ping.called && ev.called, 10000);
    char *log = cap_end(&c);
    assert_non_null(strstr(log, "event=redis_timeout"));
    free(log);
    /* Every pending command of the frozen connection fails alike. */
    assert_int_equal(sl.err, SC_ETIMEOUT);
    assert_int_equal(ping.err, SC_ETIMEOUT);
    assert_int_equal(ev.err, SC_ETIMEOUT);
    assert_true(sl.order < ping.order && ping.order < ev.order);
    assert_int_equal(f->downs, 1);
    assert_false(sc_store_ready(f->st));
    assert_int_equal(sc_store_pending(f->st), 0);
    assert_int_equal(CMD(f, &ping, "PING"), SC_EAGAIN);

    /* Back once the server is awake again. */
    RUN_UNTIL(f, f->ups == 2, 15000);
    assert_int_equal(CMD(f, &ping, "PING"), 0);
    RUN_UNTIL(f, ping.called, 10000);
    assert_int_equal(ping.err, 0);
    assert_string_equal(ping.str, "PONG");
    finish(f);
}

static void test_server_killed(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    start_ready(f, &o, NULL);

    struct res sl, p[3], x;
    assert_int_equal(CMD(f, &sl, "DEBUG", "SLEEP", "3"), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(CMD(f, &p[i], "PING"), 0);
    RUN_FOR(f, 100); /* written; the server sleeps on them */
    assert_int_equal(sc_store_pending(f->st), 4);
    srv_kill(f->srv);
    f->srv = 0;
    RUN_UNTIL(f, sl.called && p[2].called, 10000);
    assert_int_equal(sl.err, SC_ECLOSED);
    for (int i = 0; i < 3; i++)
        assert_int_equal(p[i].err, SC_ECLOSED);
    assert_int_equal(f->downs, 1);
    assert_false(sc_store_ready(f->st));
    assert_int_equal(CMD(f, &x, "PING"), SC_EAGAIN);
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), SC_EAGAIN);
    struct cap c;
    cap_begin(&c);
    RUN_UNTIL(f, cap_count(&c, "event=redis_connect_failed") >= 2, 15000); /* refused twice */
    free(cap_end(&c));
    assert_int_equal(f->ups, 1);

    f->srv = srv_spawn(f->port, NULL);
    RUN_UNTIL(f, f->ups == 2, 15000);
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0); /* scripts reloaded */
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:a", "1", 1);
    finish(f);
}

/* A command issued after the server died but before the loop saw it go
 * (the FIN is in the socket, the store still READY). Writing it draws an
 * RST, and epoll then reports POLLERR, which libuv hands to a uv_poll only
 * as an error status. It must fail at once with SC_ECLOSED, not wait for
 * command_timeout_ms (5 s here): the callback has to come before half of
 * it has passed on the loop's clock. */
static void test_command_after_server_died(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    assert_int_equal(o.command_timeout_ms, 5000);
    start_ready(f, &o, NULL);
    srv_kill(f->srv); /* reaped: its socket is closed, the FIN sent */
    f->srv = 0;
    struct res x;
    assert_int_equal(CMD(f, &x, "PING"), 0);
    uv_update_time(&f->loop);
    uint64_t t0 = uv_now(&f->loop);
    RUN_UNTIL(f, x.called, 10000);
    uv_update_time(&f->loop);
    uint64_t took = uv_now(&f->loop) - t0;
    if (took >= o.command_timeout_ms / 2)
        fail_msg("the command failed after %llu ms (err %d), command_timeout_ms %u",
                 (unsigned long long)took, x.err, o.command_timeout_ms);
    assert_int_equal(x.err, SC_ECLOSED);
    assert_int_equal(f->downs, 1);
    finish(f);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds per wall second this process gets while it spins, measured
 * now: the yardstick for "little CPU" on a machine of any speed and load. */
static double busy_ratio(void)
{
    double cpu0 = cpu_seconds();
    uint64_t t0 = uv_hrtime();
    volatile uint64_t spins = 0;
    while (uv_hrtime() - t0 < 200000000u)
        spins++;
    return (cpu_seconds() - cpu0) / ((double)(uv_hrtime() - t0) / 1e9);
}

/* Milliseconds of the day of a log line's timestamp (…THH:MM:SS.mmmZ). */
static long log_ms(const char *line)
{
    int h, m, sec, ms;
    assert_int_equal(sscanf(line, "%*4d-%*2d-%*2dT%2d:%2d:%2d.%3dZ", &h, &m, &sec, &ms), 4);
    return ((h * 60L + m) * 60 + sec) * 1000 + ms;
}

/* The first n redis_connect_failed lines of log follow the backoff of
 * store.c: attempt k waits a random point in [b/2, b], b = min_ms doubled
 * per attempt up to max_ms; and from attempt 2 on, attempt k fails no
 * sooner after attempt 2 than the waits between them add up to. That is a
 * lower bound (a slow machine makes gaps longer, never shorter) with 20 ms
 * of slack: timestamps are cut to the ms, and the loop's clock, from which
 * each wait starts, lags the log of attempt 2 by the rest of its iteration
 * (attempt 1 is left out: it may fail inside sc_store_start, on a loop
 * clock as old as the test's last uv_run). */
static void check_backoff(const char *log, unsigned min_ms, unsigned max_ms, int n)
{
    unsigned b = min_ms;
    long base = 0, waited = 0;
    int k = 0;
    for (const char *p = log; k < n && (p = strstr(p, "event=redis_connect_failed")) != NULL;
         p++) {
        const char *line = p;
        while (line > log && line[-1] != '\n')
            line--;
        unsigned attempt, retry_ms;
        const char *a = strstr(p, " attempt=");
        assert_non_null(a);
        assert_int_equal(sscanf(a, " attempt=%u retry_ms=%u", &attempt, &retry_ms), 2);
        k++;
        assert_int_equal(attempt, k);
        if (retry_ms < b / 2 || retry_ms > b)
            fail_msg("attempt %d: retry_ms=%u, want %u..%u", k, retry_ms, b / 2, b);
        long t = log_ms(line);
        if (k == 2)
            base = t;
        else if (k > 2 && t - base < waited - 20)
            fail_msg("attempt %d came %ld ms after attempt 2, the waits add up to %ld ms", k,
                     t - base, waited);
        if (k >= 2)
            waited += retry_ms;
        b = b >= max_ms / 2 ? max_ms : b * 2;
    }
    assert_int_equal(k, n);
}

static void test_refused_then_up(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    o.connect_timeout_ms = 300;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 300;
    f->st = mk_store(f, &o);
    assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
    /* Retrying, not spinning: each wait as the backoff says, and the CPU
     * of the waits small beside what this process gets when it spins. */
    double busy = busy_ratio();
    struct cap c;
    cap_begin(&c);
    double cpu0 = cpu_seconds();
    uint64_t t0 = uv_hrtime();
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, cap_count(&c, "event=redis_connect_failed") >= 6, 15000);
    double cpu = cpu_seconds() - cpu0;
    double wall = (double)(uv_hrtime() - t0) / 1e9;
    char *log = cap_end(&c);
    check_backoff(log, 50, 300, 6);
    assert_non_null(strstr(log, "refused"));
    free(log);
    if (cpu / wall >= 0.5 * busy)
        fail_msg("waiting used %.3f CPU s per s, spinning gets %.3f", cpu / wall, busy);
    assert_int_equal(f->ups, 0);
    assert_false(sc_store_ready(f->st));

    f->srv = srv_spawn(f->port, NULL);
    RUN_UNTIL(f, f->ups == 1, 15000);
    struct res x;
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:a", "1", 1);
    finish(f);
}

static void test_auth(void **state)
{
    struct fx *f = *state;
    char url[160];
    static const char *const extra[] = {"--requirepass", "Right-Pa55", NULL};
    f->srv = srv_start(f->port, extra);

    /* Wrong password: never ready, logged without the password. */
    struct sc_store_opts o =
        default_opts(url_for(url, sizeof url, ":Wrong-Secret-77@", f->port, NULL));
    f->st = mk_store(f, &o);
    struct cap c;
    cap_begin(&c);
    assert_int_equal(sc_store_start(f->st), 0);
    /* Refused twice: the retry came, so the first attempt never got ready. */
    RUN_UNTIL(f, cap_count(&c, "event=redis_auth_failed") >= 2, 15000);
    stop_store(f);
    char *log = cap_end(&c);
    assert_int_equal(f->ups, 0);
    assert_null(strstr(log, "Wrong-Secret-77"));
    assert_null(strstr(log, "Right-Pa55"));
    free(log);

    /* No password at all: NOAUTH, never ready. */
    o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    f->st = mk_store(f, &o);
    cap_begin(&c);
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, cap_count(&c, "event=redis_handshake_failed") >= 2, 15000); /* twice */
    stop_store(f);
    log = cap_end(&c);
    assert_int_equal(f->ups, 0);
    assert_non_null(strstr(log, "event=redis_handshake_failed host=127.0.0.1 port="));
    assert_non_null(strstr(log, "error=\"NOAUTH "));
    free(log);

    /* Right password, legacy and ACL (user:password) forms. */
    static const char *const creds[] = {":Right-Pa55@", "default:Right-Pa55@",
                                        "default:Right%2DPa55@"};
    for (size_t i = 0; i < SC_ARRAY_LEN(creds); i++) {
        o = default_opts(url_for(url, sizeof url, creds[i], f->port, "/2"));
        f->st = mk_store(f, &o);
        assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
        cap_begin(&c);
        assert_int_equal(sc_store_start(f->st), 0);
        RUN_UNTIL(f, f->ups == 1, 10000);
        struct res x;
        assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0);
        RUN_UNTIL(f, x.called, 10000);
        check_echo(&x, "{t}:a", "1", 1);
        stop_store(f);
        log = cap_end(&c);
        assert_non_null(strstr(log, "event=redis_connected"));
        assert_null(strstr(log, "Right"));
        free(log);
    }
    finish(f);
}

static void test_select_db(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, "/3"));
    start_ready(f, &o, NULL);
    struct res x;
    assert_int_equal(CMD(f, &x, "SET", "db-probe", "v"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_string_equal(x.str, "OK");
    assert_int_equal(CMD(f, &x, "DBSIZE"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.integer, 1);
    stop_store(f);

    /* A second store on db 0 sees the key counted in db 3 only. */
    o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    f->st = mk_store(f, &o);
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, f->ups == 1, 10000);
    assert_int_equal(CMD(f, &x, "GET", "db-probe"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.type, REDIS_REPLY_NIL);
    assert_int_equal(CMD(f, &x, "INFO", "keyspace"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_non_null(strstr(x.str, "db3:keys=1,"));
    assert_null(strstr(x.str, "db0:"));
    finish(f);
}

/* A host without /etc/hosts (a debootstrap chroot) may not resolve
 * "localhost" at all: the store would retry for the whole deadline. That is
 * the machine, not the store: skip, and say why. */
static void test_hostname(void **state)
{
    struct fx *f = *state;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo("localhost", NULL, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "test_hostname: skipped: \"localhost\" does not resolve to IPv4 on "
                        "this host (%s; no /etc/hosts?)\n", gai_strerror(gai));
        skip();
    }
    freeaddrinfo(ai);
    char url[128];
    snprintf(url, sizeof url, "redis://localhost:%d/1", f->port);
    struct sc_store_opts o = default_opts(url);
    start_ready(f, &o, NULL);
    struct res x;
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:a", "1", 1);
    finish(f);
}

static void test_max_pending(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    o.max_pending = 4;
    start_ready(f, &o, NULL);
    struct res p[4], x;
    for (int i = 0; i < 4; i++)
        assert_int_equal(CMD(f, &p[i], "PING"), 0);
    assert_int_equal(sc_store_pending(f->st), 4);
    assert_int_equal(CMD(f, &x, "PING"), SC_EBUSY);
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), SC_EBUSY);
    RUN_UNTIL(f, p[3].called, 10000);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(p[i].called, 1);
        assert_int_equal(p[i].err, 0);
    }
    assert_int_equal(x.called, 0);
    assert_int_equal(sc_store_pending(f->st), 0);
    assert_int_equal(eval_echo(f, &x, 0, "{t}:a", "1", 1), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:a", "1", 1);
    /* SIGHUP lowers the bound (limits.max_inflight): the next command over
     * it is refused at once. */
    sc_store_set_max_pending(f->st, 2);
    struct res q[2], y;
    for (int i = 0; i < 2; i++)
        assert_int_equal(CMD(f, &q[i], "PING"), 0);
    assert_int_equal(CMD(f, &y, "PING"), SC_EBUSY);
    RUN_UNTIL(f, q[1].called, 10000);
    assert_int_equal(y.called, 0);
    finish(f);
}

static void test_stop_with_pending(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    start_ready(f, &o, NULL);
    struct res sl, p[3];
    assert_int_equal(CMD(f, &sl, "DEBUG", "SLEEP", "1"), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(CMD(f, &p[i], "PING"), 0);
    RUN_FOR(f, 50);
    f->in_call = 1;
    sc_store_stop(f->st, on_done, f);
    sc_store_stop(f->st, on_done, f); /* twice: no effect */
    f->in_call = 0;
    assert_false(f->done);
    assert_int_equal(sl.called, 0); /* from the loop, not from inside stop */
    RUN_UNTIL(f, f->done, 10000);
    assert_int_equal(sl.err, SC_ECLOSED);
    for (int i = 0; i < 3; i++)
        assert_int_equal(p[i].err, SC_ECLOSED);
    assert_int_equal(f->cb_at_done, 4); /* every callback before done */
    assert_int_equal(f->downs, 1);
    struct res x;
    assert_int_equal(CMD(f, &x, "PING"), SC_EAGAIN);
    sc_store_free(f->st);
    f->st = NULL;
    finish(f);
}

static void test_stop_in_callback(void **state)
{
    struct fx *f = *state;
    char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    start_ready(f, &o, NULL);
    struct res first, p[3];
    assert_int_equal(CMD(f, &first, "PING"), 0);
    first.stop_in_cb = 1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(CMD(f, &p[i], "PING"), 0);
    RUN_UNTIL(f, f->done, 10000);
    assert_int_equal(first.err, 0);
    assert_string_equal(first.str, "PONG");
    /* The others may have been answered in the same read, after the stop:
     * they are failed, never delivered after stop. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].called, 1);
        assert_int_equal(p[i].err, SC_ECLOSED);
    }
    sc_store_free(f->st);
    f->st = NULL;
    finish(f);
}

/* ---- wait_replicas (store/wait.c) ------------------------------------------ */

/* Blocking: whether redis on port has needle in its INFO replication. */
static int info_has(int port, const char *needle)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int yes = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "INFO replication");
        yes = r && r->type == REDIS_REPLY_STRING && strstr(r->str, needle) != NULL;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return yes;
}

static void wait_info(int port, const char *needle)
{
    for (int i = 0; i < 1000 && !info_has(port, needle); i++) /* 10 s */
        usleep(10000);
    if (!info_has(port, needle))
        fail_msg("redis on port %d: INFO replication never showed %s", port, needle);
}

/* Blocking GET of key on the replica (the loop is not running): "" if none. */
static void replica_get(int port, const char *key, char *out, size_t outsz)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    assert_true(c && !c->err);
    redisReply *r = redisCommand(c, "GET %s", key);
    assert_non_null(r);
    snprintf(out, outsz, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    redisFree(c);
}

static pid_t start_replica(int port, int master_port)
{
    char mp[16];
    snprintf(mp, sizeof mp, "%d", master_port);
    const char *extra[] = {"--replicaof", "127.0.0.1", mp, NULL};
    pid_t pid = srv_start(port, extra);
    wait_info(port, "master_link_status:up");
    return pid;
}

/* Script 1 of the wait tests: a write, answered with what was written. */
static const char SET_LUA[] = "redis.call('SET', KEYS[2], ARGV[1]) return {KEYS[1], KEYS[2], "
                              "ARGV[1], ARGV[2], #KEYS, #ARGV}";

static void wait_store(struct fx *f, unsigned replicas)
{
    static char url[128];
    struct sc_store_opts o = default_opts(url_for(url, sizeof url, NULL, f->port, NULL));
    o.wait_replicas = replicas;
    o.wait_timeout_ms = 1000; /* a loaded machine may be slow to acknowledge */
    f->st = mk_store(f, &o);
    assert_int_equal(sc_store_script(f->st, "echo", ECHO_LUA), 0);
    assert_int_equal(sc_store_script(f->st, "set", SET_LUA), 1);
    assert_int_equal(sc_store_start(f->st), 0);
    RUN_UNTIL(f, f->ups == 1, 10000);
}

/* A write acknowledged with wait_replicas 1 is on the replica when the
 * caller hears of it (also after a NOSCRIPT retry); with the replica gone
 * the caller gets SC_EREPLICA, further evals go one at a time, and the
 * store recovers by itself once a replica is back. */
static void test_wait_replicas(void **state)
{
    struct fx *f = *state;
    char got[64];
    f->srv = srv_start(f->port, NULL);
    int rport = free_port();
    pid_t rep = start_replica(rport, f->port);
    wait_info(f->port, "connected_slaves:1");
    wait_store(f, 1);
    assert_int_equal(sc_store_server(f->st)->replicas, 1);

    static const char bin[] = {'v', '\0', '1', '\xff'};
    struct res x, y;
    assert_int_equal(eval_echo(f, &x, 1, "{t}:w1", bin, sizeof bin), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:w1", bin, sizeof bin); /* the held copy, intact */
    replica_get(rport, "{t}:w1", got, sizeof got);
    assert_memory_equal(got, "v", 2);          /* the write is on the replica */

    assert_int_equal(CMD(f, &y, "SCRIPT", "FLUSH"), 0);
    RUN_UNTIL(f, y.called, 10000);
    assert_int_equal(eval_echo(f, &x, 1, "{t}:w2", "after-flush", 11), 0);
    RUN_UNTIL(f, x.called, 10000);
    check_echo(&x, "{t}:w2", "after-flush", 11);
    replica_get(rport, "{t}:w2", got, sizeof got);
    assert_string_equal(got, "after-flush");
    /* sc_store_write: its reply too once the replica has the write. */
    assert_int_equal(WRITE(f, &x, "SET", "{t}:wc", "by-write"), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, 0);
    replica_get(rport, "{t}:wc", got, sizeof got);
    assert_string_equal(got, "by-write");

    /* The replica dies: WAIT times out short. */
    srv_kill(rep);
    wait_info(f->port, "connected_slaves:0");
    struct cap c;
    cap_begin(&c);
    assert_int_equal(eval_echo(f, &x, 1, "{t}:w3", "lost?", 5), 0);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, SC_EREPLICA);
    /* Short now: one probe at a time, the others refused at once. */
    assert_int_equal(eval_echo(f, &x, 1, "{t}:w4", "probe", 5), 0);
    assert_int_equal(eval_echo(f, &y, 1, "{t}:w5", "refused", 7), SC_EAGAIN);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, SC_EREPLICA);
    assert_int_equal(cap_count(&c, "event=redis_replicas_behind"), 1);

    /* A replica again: a probe gets through and the store is itself again. */
    rep = start_replica(rport, f->port);
    wait_info(f->port, "connected_slaves:1");
    int ok = 0;
    for (int i = 0; i < 50 && !ok; i++) {
        assert_int_equal(eval_echo(f, &x, 1, "{t}:w6", "back", 4), 0);
        RUN_UNTIL(f, x.called, 10000);
        ok = x.err == 0;
    }
    assert_true(ok);
    assert_int_equal(cap_count(&c, "event=redis_replicas_ok"), 1);
    free(cap_end(&c));
    replica_get(rport, "{t}:w6", got, sizeof got);
    assert_string_equal(got, "back");
    assert_int_equal(eval_echo(f, &x, 1, "{t}:w7", "a", 1), 0);
    assert_int_equal(eval_echo(f, &y, 1, "{t}:w8", "b", 1), 0); /* not short: both go */
    RUN_UNTIL(f, x.called && y.called, 10000);
    assert_int_equal(x.err, 0);
    assert_int_equal(y.err, 0);
    assert_int_equal(f->downs, 0);
    finish(f);
    srv_kill(rep);
}

/* A master without the replicas asked for: logged at the handshake, used,
 * evals and sc_store_write get SC_EREPLICA (one probe at a time), commands
 * work. */
static void test_wait_no_replica(void **state)
{
    struct fx *f = *state;
    f->srv = srv_start(f->port, NULL);
    struct cap c;
    cap_begin(&c);
    wait_store(f, 1);
    char *log = cap_end(&c);
    assert_non_null(strstr(log, "event=redis_replicas_missing"));
    free(log);
    assert_int_equal(sc_store_server(f->st)->replicas, 0);
    assert_true(sc_store_ready(f->st));
    struct res x, y, p;
    assert_int_equal(eval_echo(f, &x, 1, "{t}:n1", "1", 1), 0);
    assert_int_equal(eval_echo(f, &y, 0, "{t}:n2", "2", 1), SC_EAGAIN);
    assert_int_equal(CMD(f, &p, "PING"), 0);
    RUN_UNTIL(f, x.called && p.called, 10000);
    assert_int_equal(x.err, SC_EREPLICA);
    assert_int_equal(p.err, 0);
    /* A write (the relay's XADD) is not acknowledged on the master alone. */
    assert_int_equal(WRITE(f, &x, "XADD", "{t}:s", "*", "f", "v"), 0);
    assert_int_equal(WRITE(f, &y, "XADD", "{t}:s", "*", "f", "v"), SC_EAGAIN);
    RUN_UNTIL(f, x.called, 10000);
    assert_int_equal(x.err, SC_EREPLICA);
    assert_int_equal(sc_store_pending(f->st), 0);
    finish(f);
}

/* ---- main ---------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(2) */
    atexit(kill_all);
    const struct CMUnitTest tests[] = {
        T(test_bad_urls),         T(test_not_ready),     T(test_durability_and_hold),
    T(test_eval_roundtrip),
        T(test_noscript),         T(test_broken_script), T(test_command_timeout),
        T(test_server_killed),    T(test_command_after_server_died), T(test_refused_then_up), T(test_auth),
        T(test_select_db),        T(test_hostname),      T(test_max_pending),
        T(test_stop_with_pending), T(test_stop_in_callback),
        T(test_wait_replicas),    T(test_wait_no_replica),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
