/* test_http.c -- core/http.c on a real loop: listen addresses, routes (exact,
 * prefix, 404, 405), an answer given later from a timer, and an answer still
 * owed when the server stops (dropped, freed: ASan checks); core/api.c's
 * constant-time compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/sc.h"
#include "core/api.h"
#include "core/http.h"

static void test_parse_listen(void **state)
{
    (void)state;
    struct sockaddr_storage a;
    int v6;
    assert_int_equal(sc_http_parse_listen("127.0.0.1:8080", &a, &v6), 0);
    assert_int_equal(v6, 0);
    assert_int_equal(sc_http_parse_listen("[::1]:8080", &a, &v6), 0);
    assert_int_equal(v6, 1);
    assert_int_equal(sc_http_parse_listen(":8080", &a, &v6), 0);
    assert_int_equal(sc_http_parse_listen("localhost:1", &a, &v6), 0);
    const char *bad[] = {"", "8080", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:80x",
                         "example.com:80", "[::1:80", "1.2.3.4.5:80"};
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++)
        assert_int_equal(sc_http_parse_listen(bad[i], &a, &v6), SC_EINVAL);
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(sc__api_ct_equal("secret", 6, "secret", 6));
    assert_false(sc__api_ct_equal("secreT", 6, "secret", 6));
    assert_false(sc__api_ct_equal("secret1", 7, "secret", 6));
    assert_false(sc__api_ct_equal("secre", 5, "secret", 6));
    assert_false(sc__api_ct_equal("", 0, "secret", 6));
    assert_false(sc__api_ct_equal("secret\0", 7, "secret", 6));
}

/* ---- a server and a client on one loop ----------------------------------- */

struct fx {
    uv_loop_t loop;
    struct sc_http *s;
    uv_tcp_t client;
    uv_connect_t conn;
    uv_write_t wr;
    char req[256];
    char got[4096];
    size_t ngot;
    int eof;
    struct sc_http_req *owed;     /* a request the "later" route holds */
    uv_timer_t later;
    int stopped;
};

static void on_hello(struct sc_http_req *r, void *arg)
{
    (void)arg;
    sc_http_respond_str(r, 200, NULL, sc_http_path(r));
}

static void on_later_timer(uv_timer_t *t)
{
    struct fx *f = t->data;
    assert_int_equal(sc_http_respond_str(f->owed, 202, NULL, "later"), 0);
    f->owed = NULL;
}

static void on_later(struct sc_http_req *r, void *arg)
{
    struct fx *f = arg;
    f->owed = r;
    uv_timer_start(&f->later, on_later_timer, 10, 0);
}

static void on_never(struct sc_http_req *r, void *arg)
{
    struct fx *f = arg;
    f->owed = r; /* answered only after the server stopped */
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    struct fx *f = h->data;
    *b = uv_buf_init(f->got + f->ngot, (unsigned)(sizeof f->got - 1 - f->ngot));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct fx *f = st->data;
    if (n > 0) {
        f->ngot += (size_t)n;
        f->got[f->ngot] = '\0';
    } else if (n < 0) {
        f->eof = 1;
        uv_close((uv_handle_t *)st, NULL);
    }
}

static void on_written(uv_write_t *w, int status) { assert_int_equal(status, 0); }

static void on_connected(uv_connect_t *c, int status)
{
    struct fx *f = c->data;
    assert_int_equal(status, 0);
    uv_buf_t b = uv_buf_init(f->req, (unsigned)strlen(f->req));
    uv_write(&f->wr, (uv_stream_t *)&f->client, &b, 1, on_written);
    uv_read_start((uv_stream_t *)&f->client, on_alloc, on_read);
}

/* Send one request on a new connection (HTTP/1.0: closed after the answer). */
static void send_request(struct fx *f, const char *method, const char *path)
{
    snprintf(f->req, sizeof f->req, "%s %s HTTP/1.0\r\n\r\n", method, path);
    f->ngot = 0;
    f->eof = 0;
    uv_tcp_init(&f->loop, &f->client);
    f->client.data = f->conn.data = f;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", (int)sc_http_port(f->s), &a);
    uv_tcp_connect(&f->conn, &f->client, (const struct sockaddr *)&a, on_connected);
}

/* The answer to one request. */
static const char *ask(struct fx *f, const char *method, const char *path)
{
    send_request(f, method, path);
    while (!f->eof)
        uv_run(&f->loop, UV_RUN_ONCE);
    return f->got;
}

static void on_stopped(void *arg) { ((struct fx *)arg)->stopped = 1; }

static void test_routes_and_answers(void **state)
{
    (void)state;
    struct fx *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->later);
    f->later.data = f;
    char err[256];
    struct sc_http_opts o = {.listen = "127.0.0.1:0", .max_body = 1024, .timeout_s = 5,
                             .max_connections = 8, .stop_timeout_ms = 50};
    f->s = sc_http_new(&f->loop, &o, err, sizeof err);
    assert_non_null(f->s);
    assert_true(sc_http_port(f->s) > 0);
    assert_int_equal(sc_http_route(f->s, "GET", "/hello", on_hello, f), 0);
    assert_int_equal(sc_http_route(f->s, "GET", "/p/*", on_hello, f), 0);
    assert_int_equal(sc_http_route(f->s, "GET", "/later", on_later, f), 0);
    assert_int_equal(sc_http_route(f->s, "GET", "/never", on_never, f), 0);
    assert_int_equal(sc_http_route(f->s, "GET", "nope", on_hello, f), SC_EINVAL);

    assert_non_null(strstr(ask(f, "GET", "/hello"), " 200 "));
    assert_non_null(strstr(f->got, "\r\n\r\n/hello"));
    assert_non_null(strstr(ask(f, "GET", "/p/x/y"), "\r\n\r\n/p/x/y"));
    assert_non_null(strstr(ask(f, "GET", "/nothing"), " 404 "));
    assert_non_null(strstr(ask(f, "POST", "/hello"), " 405 "));
    assert_non_null(strstr(ask(f, "GET", "/later"), " 202 "));
    assert_non_null(strstr(f->got, "\r\n\r\nlater"));
    assert_null(f->owed);

    /* An answer still owed at stop: the connection goes, the request stays
     * the route's until it answers (dropped, freed). */
    send_request(f, "GET", "/never");
    while (!f->owed)
        uv_run(&f->loop, UV_RUN_ONCE);
    sc_http_stop(f->s, on_stopped, f);
    while (!f->stopped || !f->eof)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(f->ngot, 0); /* closed unanswered */
    assert_int_equal(sc_http_respond_str(f->owed, 200, NULL, "too late"), SC_ECLOSED);
    sc_http_free(f->s);
    uv_close((uv_handle_t *)&f->later, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_routes_and_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
