/* test_session.c -- smsc/session.c on a real loop over a real loopback TCP
 * connection: framing of PDUs cut across reads and of many in one read, and
 * backpressure (reading stops while more than out_max bytes are queued).
 *
 * The test plays the peer with a plain socket; the loop runs only when the
 * test runs it, so every step is ordered by the test, not by timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "base/sc.h"
#include "smsc/pdu.h"
#include "smsc/session.h"

#include "loop_wd.h"

#define MAX_SEEN 64

struct fx {
    uv_loop_t loop;
    uv_timer_t wd;
    int wd_fired;
    int peer;                  /* the test's end of the connection */
    uv_tcp_t *tcp;
    struct sc_session *s;
    int closed;
    size_t npdus;
    struct {
        uint32_t seq;
        size_t len;
        uint8_t first_body_byte;
        size_t queued;         /* sc_session_queued() when it came */
    } seen[MAX_SEEN];
};

static void on_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                   size_t len)
{
    struct fx *f = sc_session_owner(s);
    assert_true(f->npdus < MAX_SEEN);
    f->seen[f->npdus].seq = h->seq;
    f->seen[f->npdus].len = len;
    f->seen[f->npdus].first_body_byte = len > SC_PDU_HEADER_LEN ? pdu[SC_PDU_HEADER_LEN] : 0;
    f->seen[f->npdus].queued = sc_session_queued(s);
    f->npdus++;
}

static void on_closed(struct sc_session *s, const char *reason)
{
    (void)reason;
    struct fx *f = sc_session_owner(s);
    f->closed = 1;
}

static const struct sc_session_cbs g_cbs = {.on_pdu = on_pdu, .on_closed = on_closed};

/* A connected loopback pair: *a (accepted) and *b (connected). sndbuf, if
 * not 0, is set on *a and as the receive buffer of *b, before connecting. */
static void tcp_pair(int *a, int *b, int sndbuf)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (sndbuf)
        assert_int_equal(setsockopt(l, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
    *b = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*b >= 0);
    if (sndbuf)
        assert_int_equal(setsockopt(*b, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf), 0);
    assert_int_equal(connect(*b, (struct sockaddr *)&sa, sizeof sa), 0);
    *a = accept(l, NULL, NULL);
    assert_true(*a >= 0);
    close(l);
}

static void start(struct fx *f, size_t out_max, int sndbuf)
{
    LOOP_WD_INIT(f);
    int fd;
    tcp_pair(&fd, &f->peer, sndbuf);
    f->tcp = malloc(sizeof *f->tcp);
    assert_non_null(f->tcp);
    assert_int_equal(uv_tcp_init(&f->loop, f->tcp), 0);
    assert_int_equal(uv_tcp_open(f->tcp, fd), 0);
    struct sc_session_opts o = {
        .name = "test",
        .max_pdu_len = 4096,
        .resp_timeout_ms = 10000,
        .out_max = out_max,
        .max_outstanding = 4,
    };
    f->s = sc_session_new(&f->loop, f->tcp, &o, &g_cbs, f);
    assert_non_null(f->s);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    return 0;
}

/* Close the session; the loop must then close with no handle left. */
static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->s) {
        sc_session_close(f->s, "test over");
        RUN_UNTIL(f, f->closed, 10000);
        uv_close((uv_handle_t *)&f->wd, NULL);
        uv_run(&f->loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&f->loop), 0);
        close(f->peer);
    }
    free(f);
    return 0;
}

/* A deliver_sm-shaped PDU of len bytes: header, then body bytes tag, tag+1... */
static size_t mk_pdu(uint8_t *b, size_t len, uint32_t seq, uint8_t tag)
{
    assert_true(len >= SC_PDU_HEADER_LEN);
    uint32_t h[4] = {htonl((uint32_t)len), htonl(SC_CMD_DELIVER_SM), 0, htonl(seq)};
    memcpy(b, h, sizeof h);
    for (size_t i = SC_PDU_HEADER_LEN; i < len; i++)
        b[i] = (uint8_t)(tag + i);
    return len;
}

static void peer_send(struct fx *f, const uint8_t *b, size_t n)
{
    while (n) {
        ssize_t w = send(f->peer, b, n, 0);
        assert_true(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

/* Let the loop take in whatever is readable now, without blocking. */
static void run_a_little(struct fx *f)
{
    for (int i = 0; i < 4; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void test_pdu_cut_at_every_offset(void **state)
{
    struct fx *f = *state;
    start(f, 0, 0);
    uint8_t p[60];
    for (size_t cut = 1; cut < sizeof p; cut++) {
        size_t n0 = f->npdus;
        mk_pdu(p, sizeof p, (uint32_t)(100 + cut), (uint8_t)cut);
        peer_send(f, p, cut);
        run_a_little(f); /* the session reads the first piece alone */
        peer_send(f, p + cut, sizeof p - cut);
        RUN_UNTIL(f, f->npdus > n0, 10000);
        /* Exactly this PDU, once, whole. */
        assert_int_equal(f->npdus, n0 + 1);
        assert_int_equal(f->seen[n0].seq, 100 + cut);
        assert_int_equal(f->seen[n0].len, sizeof p);
        assert_int_equal(f->seen[n0].first_body_byte, (uint8_t)(cut + SC_PDU_HEADER_LEN));
        if (f->npdus == MAX_SEEN)
            f->npdus = 0;
    }
}

static void test_many_pdus_in_one_write(void **state)
{
    struct fx *f = *state;
    start(f, 0, 0);
    /* 40 PDUs of growing sizes, the last one cut in two writes. */
    uint8_t buf[40 * 80];
    size_t off = 0;
    for (uint32_t i = 0; i < 40; i++)
        off += mk_pdu(buf + off, SC_PDU_HEADER_LEN + 2 * i, 1000 + i, (uint8_t)i);
    peer_send(f, buf, off - 5);
    RUN_UNTIL(f, f->npdus == 39, 10000);
    peer_send(f, buf + off - 5, 5);
    RUN_UNTIL(f, f->npdus == 40, 10000);
    for (uint32_t i = 0; i < 40; i++) {
        assert_int_equal(f->seen[i].seq, 1000 + i);
        assert_int_equal(f->seen[i].len, SC_PDU_HEADER_LEN + 2 * i);
    }
}

static void test_backpressure_stops_reading_until_drained(void **state)
{
    struct fx *f = *state;
    const size_t out_max = 64 * 1024, total = 300 * 4096;
    start(f, out_max, 4096);
    /* The peer does not read: queue far more than out_max. */
    static uint8_t big[4096];
    for (int i = 0; i < 300; i++)
        assert_int_equal(sc_session_send(f->s, big, mk_pdu(big, sizeof big, (uint32_t)i + 1, 0)),
                         0);
    run_a_little(f); /* the flush: what the socket takes leaves, the rest waits */
    assert_true(sc_session_queued(f->s) > out_max);
    /* A PDU from the peer now must wait until the queue has drained to
     * out_max / 2: record when it comes while the peer reads slowly. */
    uint8_t p[40];
    peer_send(f, p, mk_pdu(p, sizeof p, 77, 0));
    size_t got = 0;
    uint64_t deadline = uv_hrtime() + 20 * (uint64_t)1000000000;
    static uint8_t sink[2048];
    while ((got < total || f->npdus == 0) && uv_hrtime() < deadline) {
        run_a_little(f);
        struct pollfd pf = {.fd = f->peer, .events = POLLIN};
        if (got < total && poll(&pf, 1, 10) == 1) {
            ssize_t r = recv(f->peer, sink, sizeof sink, MSG_DONTWAIT);
            assert_true(r > 0 || (r < 0 && errno == EAGAIN));
            if (r > 0)
                got += (size_t)r;
        } else if (got >= total) {
            RUN_UNTIL(f, f->npdus > 0, 10000);
        }
    }
    assert_int_equal(got, total);
    assert_int_equal(f->npdus, 1);
    assert_int_equal(f->seen[0].seq, 77);
    if (f->seen[0].queued > out_max / 2)
        fail_msg("the peer's PDU was read with %zu bytes still queued (out_max %zu)",
                 f->seen[0].queued, out_max);
    assert_false(f->closed);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pdu_cut_at_every_offset),
        T(test_many_pdus_in_one_write),
        T(test_backpressure_stops_reading_until_drained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
