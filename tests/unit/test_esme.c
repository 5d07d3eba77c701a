/* test_esme.c -- smsc/esme.c and its parts (mtq.c, mtbuild.c, mo_intake.c):
 * the pure reconnect schedule and ESME_RALYBND bump (docs/smpp.md,
 * "Binds"), MT building, and, on a real loop over loopback TCP against an
 * SMSC the test plays with the real session layer, the MT window, the TPS
 * spacing, throttling, retries on timeout, MO intake and the shutdown.
 *
 * Time is the loop's clock (esme and test share the loop): the TPS and
 * pause checks are lower bounds the esme's own accounting guarantees, so
 * a slow machine cannot fail them; absences are checked after a positive
 * marker (an enquire_link answered) that must come after what must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <uv.h>

#include "base/sc.h"
#include "smsc/esme.h"
#include "smsc/esme_int.h"
#include "smsc/pdu.h"
#include "smsc/session.h"

#include "loop_wd.h"

/* ---- The pure parts -------------------------------------------------------- */

/* min * 2^attempts capped, then its upper half: rnd = 0 gives the bottom of
 * it, rnd = half gives the top, and rnd wraps (any value is fine). */
static void test_backoff_schedule(void **state)
{
    (void)state;
    /* The shipped defaults: 500 ms doubled up to 30 s. */
    static const uint64_t base[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (unsigned k = 0; k < sizeof base / sizeof base[0]; k++) {
        uint64_t b = base[k];
        assert_int_equal(sc_esme_backoff_ms(500, 30000, k, 0), b / 2);
        assert_int_equal(sc_esme_backoff_ms(500, 30000, k, b / 2), b);
        assert_int_equal(sc_esme_backoff_ms(500, 30000, k, b / 2 + 1), b / 2);
        for (uint64_t rnd = 0; rnd < 5000; rnd += 7) {
            uint64_t d = sc_esme_backoff_ms(500, 30000, k, rnd);
            assert_true(d >= b / 2 && d <= b);
        }
    }
    /* Far past the cap: no overflow, no runaway loop. */
    assert_int_equal(sc_esme_backoff_ms(500, 30000, 4000000000u, 0), 15000);
    assert_int_equal(sc_esme_backoff_ms(100, 1000, 64, 500), 1000);
    /* A cap that is not a power-of-two multiple of min is met exactly. */
    assert_int_equal(sc_esme_backoff_ms(100, 300, 2, 150), 300);
    assert_int_equal(sc_esme_backoff_ms(100, 300, 1, 100), 200);
    /* min == max: a fixed wait, jittered in its upper half. */
    assert_int_equal(sc_esme_backoff_ms(1000, 1000, 0, 0), 500);
    assert_int_equal(sc_esme_backoff_ms(1000, 1000, 9, 500), 1000);
}

static void test_already_bound_waits_longer(void **state)
{
    (void)state;
    /* After ESME_RALYBND the next wait is at least 8 * min. */
    for (unsigned a = 0; a < 4; a++) {
        unsigned n = sc_esme_attempts_after_refusal(SC_ESME_RALYBND, a);
        assert_int_equal(n, 4);
        assert_true(sc_esme_backoff_ms(500, 30000, n, 0) >= 8 * 500);
    }
    /* Already further along: unchanged. */
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RALYBND, 4), 4);
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RALYBND, 9), 9);
    /* Any other refusal counts as the failure it is. */
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RINVPASWD, 0), 0);
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_RBINDFAIL, 2), 2);
    assert_int_equal(sc_esme_attempts_after_refusal(SC_ESME_ROK, 1), 1);
}

static const struct sc_addr g_src = {0, 1, "10086"};
static const struct sc_addr g_dst = {1, 1, "8613800138000"};

/* Free what sc__mt_build made. */
static void free_parts(struct sc__mt_list *parts)
{
    struct sc__mt_part *p = STAILQ_FIRST(parts);
    struct sc__mt_msg *m = p ? p->msg : NULL;
    while ((p = STAILQ_FIRST(parts))) {
        STAILQ_REMOVE_HEAD(parts, link);
        free(p);
    }
    free(m);
}

/* Decode part i of a built MT. */
static void part_sm(struct sc__mt_list *parts, unsigned i, struct sc_sm *sm)
{
    struct sc__mt_part *p = STAILQ_FIRST(parts);
    for (unsigned k = 0; k < i; k++)
        p = STAILQ_NEXT(p, link);
    assert_non_null(p);
    uint32_t st;
    char err[128];
    assert_int_equal(sc_pdu_decode_sm(p->pdu, p->len, sm, &st, err, sizeof err), 0);
    assert_int_equal(sm->cmd_id, SC_CMD_SUBMIT_SM);
}

/* One part per message while it fits; a longer text is cut with "…" to
 * max_parts; each seg_mode marks its parts its own way. */
static void test_mt_build_parts(void **state)
{
    (void)state;
    struct sc_esme_live live = {SC_ESME_RX_T_APPN, SC_DC0_GSM, SC_SEG_UDH, 2, 4};
    struct sc__mt_list parts;
    struct sc_sm sm;

    assert_int_equal(sc__mt_build(&live, 7, &g_src, &g_dst, "hello", 5, 1, 0, &parts), 1);
    part_sm(&parts, 0, &sm);
    assert_string_equal(sm.src.addr, "10086");
    assert_string_equal(sm.dst.addr, "8613800138000");
    assert_int_equal(sm.dst.ton, 1);
    assert_int_equal(sm.esm_class, 0);
    assert_int_equal(sm.msg_len, 5);
    assert_memory_equal(sm.msg, "hello", 5);
    free_parts(&parts);

    /* 400 GSM characters > 2 parts of 153: cut, and the last part ends in
     * the ellipsis (not GSM: the whole text is UCS-2 then, 2 x 67 units). */
    char big[400];
    memset(big, 'a', sizeof big);
    assert_int_equal(sc__mt_build(&live, 7, &g_src, &g_dst, big, sizeof big, 1, 0, &parts),
                     2);
    part_sm(&parts, 1, &sm);
    assert_int_equal(sm.esm_class, SC_ESM_UDHI);
    assert_int_equal(sm.data_coding, 8);
    assert_memory_equal(sm.msg + sm.msg_len - 2, "\x20\x26", 2);   /* U+2026 */
    free_parts(&parts);

    live.seg_mode = SC_SEG_SAR;
    assert_int_equal(sc__mt_build(&live, 9, &g_src, &g_dst, big, 300, 1, 0, &parts), 2);
    part_sm(&parts, 1, &sm);
    assert_int_equal(sm.esm_class, 0);
    assert_true(sm.has_sar);
    assert_int_equal(sm.sar_total, 2);
    assert_int_equal(sm.sar_seq, 2);
    free_parts(&parts);

    live.seg_mode = SC_SEG_PAYLOAD;
    assert_int_equal(sc__mt_build(&live, 9, &g_src, &g_dst, big, 300, 1, 0, &parts), 1);
    part_sm(&parts, 0, &sm);
    assert_true(sm.use_payload);
    assert_int_equal(sm.msg_len, 300);
    free_parts(&parts);
}

/* ---- On a loop, against the test's SMSC ------------------------------------ */

#define MAX_SUBS 64

enum answer { ANSWER_OK, ANSWER_HOLD, ANSWER_THROTTLE_FIRST };

struct fx {
    uv_loop_t loop;
    uv_timer_t wd;
    int wd_fired;
    uv_tcp_t listener;
    int port;
    /* The SMSC side of the one connection. */
    struct sc_session *s;
    int smsc_closed;
    int conns, binds, unbinds, answer_unbind;
    enum answer answer;
    struct {
        uint32_t seq;
        uint64_t at;              /* loop time it arrived */
        char text[161];           /* short_message, GSM unpacked = ASCII here */
        uint8_t regdel;           /* registered_delivery */
    } sub[MAX_SUBS];
    size_t nsub;
    int markers;                  /* enquire_link resps the SMSC received */
    /* The esme. */
    struct sc_esme_bind bind;
    struct sc_esme *e;
    int stopped;
    uint64_t stopped_at;
    int mt_done, mt_err[MAX_SUBS];
    int nrcpt;                    /* receipts handed to the owner */
    char rcpt[96];                /* the last one: "msgid stat err" */
    char mt_ids[MAX_SUBS][4 * 8];  /* a push's message_ids, "a,b," */
    int nmo;
    char mo_text[64];
    int mo_resps;
    uint32_t mo_status;
};

static void smsc_answer(struct fx *f, uint32_t seq, uint32_t status)
{
    assert_int_equal(sc_session_send_str_resp(f->s, SC_CMD_SUBMIT_SM | SC_CMD_RESP, status, seq,
                                              "mid"),
                     0);
}

static void smsc_on_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct fx *f = sc_session_owner(s);
    switch (h->id) {
    case SC_CMD_BIND_TRANSCEIVER:
        f->binds++;
        sc_session_send_str_resp(s, h->id | SC_CMD_RESP, SC_ESME_ROK, h->seq, "testsmsc");
        sc_session_set_state(s, SC_SS_BOUND_TRX);
        break;
    case SC_CMD_SUBMIT_SM: {
        struct sc_sm sm;
        uint32_t st;
        char err[128];
        assert_int_equal(sc_pdu_decode_sm(pdu, len, &sm, &st, err, sizeof err), 0);
        assert_true(f->nsub < MAX_SUBS);
        f->sub[f->nsub].seq = h->seq;
        f->sub[f->nsub].at = uv_now(&f->loop);
        size_t n = SC_MIN((size_t)sm.msg_len, sizeof f->sub[0].text - 1);
        memcpy(f->sub[f->nsub].text, sm.msg, n);
        f->sub[f->nsub].text[n] = '\0';
        f->sub[f->nsub].regdel = sm.registered_delivery;
        f->nsub++;
        if (f->answer == ANSWER_OK || (f->answer == ANSWER_THROTTLE_FIRST && f->nsub > 1))
            smsc_answer(f, h->seq, SC_ESME_ROK);
        else if (f->answer == ANSWER_THROTTLE_FIRST)
            smsc_answer(f, h->seq, SC_ESME_RTHROTTLED);
        break;
    }
    case SC_CMD_UNBIND:
        f->unbinds++;
        if (f->answer_unbind)
            sc_session_send_simple(s, SC_CMD_UNBIND | SC_CMD_RESP, SC_ESME_ROK, h->seq);
        break;
    default:
        fail_msg("SMSC got %s", sc_pdu_cmd_name(h->id));
    }
}

static void smsc_on_closed(struct sc_session *s, const char *reason)
{
    (void)reason;
    struct fx *f = sc_session_owner(s);
    f->smsc_closed = 1;
    f->s = NULL;
}

static const struct sc_session_cbs g_smsc_cbs = {.on_pdu = smsc_on_pdu,
                                                 .on_closed = smsc_on_closed};

static void on_conn(uv_stream_t *srv, int status)
{
    struct fx *f = srv->data;
    assert_int_equal(status, 0);
    assert_null(f->s);
    f->conns++;
    uv_tcp_t *c = malloc(sizeof *c);
    assert_non_null(c);
    assert_int_equal(uv_tcp_init(&f->loop, c), 0);
    assert_int_equal(uv_accept(srv, (uv_stream_t *)c), 0);
    struct sc_session_opts o = {
        .name = "smsc",
        .max_pdu_len = 4096,
        .resp_timeout_ms = 10000,
        .out_max = 1u << 20,
        .max_outstanding = 8,
    };
    f->s = sc_session_new(&f->loop, c, &o, &g_smsc_cbs, f);
    assert_non_null(f->s);
}

/* The SMSC sends enquire_link; its resp comes after everything the esme
 * queued before reading it. */
static void on_marker(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                      const uint8_t *pdu, size_t len)
{
    struct fx *f = sc_session_owner(s);
    assert_int_equal(err, 0);
    f->markers++;
}

static void marker(struct fx *f)
{
    int before = f->markers;
    uint8_t b[SC_PDU_HEADER_LEN];
    uint32_t seq = sc_session_next_seq(f->s);
    sc_pdu_build_simple(b, SC_CMD_ENQUIRE_LINK, 0, seq);
    assert_int_equal(sc_session_request(f->s, seq, b, sizeof b, on_marker, NULL), 0);
    RUN_UNTIL(f, f->markers > before, 5000);
}

static void on_mo(void *arg, const struct sc_mo *mo, struct sc_mo_token tok)
{
    struct fx *f = arg;
    f->nmo++;
    sc_strlcpy(f->mo_text, mo->text, sizeof f->mo_text);
    assert_int_equal(sc_esme_mo_done(f->e, tok, SC_ESME_ROK), 0);
}

/* A receipt goes to the owner, who answers it (here SC_ESME_RSYSERR, to
 * tell its answer from the esme's own ROK). */
static void on_receipt(void *arg, const struct sc_receipt *r, struct sc_mo_token tok)
{
    struct fx *f = arg;
    f->nrcpt++;
    snprintf(f->rcpt, sizeof f->rcpt, "%s %s %d", r->msgid, r->stat, r->err);
    assert_int_equal(sc_esme_mo_done(f->e, tok, SC_ESME_RSYSERR), 0);
}

static const struct sc_esme_cbs g_esme_cbs = {.on_mo = on_mo, .on_receipt = on_receipt};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    LOOP_WD_INIT(f);
    assert_int_equal(uv_tcp_init(&f->loop, &f->listener), 0);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&f->listener, (struct sockaddr *)&sa, 0), 0);
    int sl = sizeof sa;
    assert_int_equal(uv_tcp_getsockname(&f->listener, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    f->listener.data = f;
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener, 4, on_conn), 0);
    f->answer_unbind = 1;
    f->bind = (struct sc_esme_bind){
        .name = "t", .host = "127.0.0.1", .port = f->port, .system_id = "shortcoded",
        .window = 10, .tps = 0, .enquire_link_s = 60, .response_timeout_ms = 5000,
        .bind_timeout_ms = 5000, .submit_retries = 2, .throttle_pause_ms = 200,
        .reconnect_min_ms = 50, .reconnect_max_ms = 200,
    };
    *state = f;
    return 0;
}

/* Start the esme with f->bind and wait until it is bound. */
static void start(struct fx *f)
{
    struct sc_esme_opts o = {
        .binds = &f->bind, .nbinds = 1, .max_pdu_len = 4096,
        .live = {SC_ESME_RX_T_APPN, SC_DC0_GSM, SC_SEG_UDH, 4, 16},
    };
    f->e = sc_esme_new(&f->loop, &o, &g_esme_cbs, f);
    assert_non_null(f->e);
    RUN_UNTIL(f, sc_esme_bound(f->e) == 1, 5000);
}

static void on_stopped(void *arg)
{
    struct fx *f = arg;
    f->stopped = 1;
    f->stopped_at = uv_now(&f->loop);
}

static void stop(struct fx *f)
{
    if (!f->stopped) {
        sc_esme_stop(f->e, on_stopped, f);
        RUN_UNTIL(f, f->stopped, 10000);
    }
}

/* Stop the esme and the SMSC; the loop must then close with no handle left. */
static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->e)
        stop(f);
    sc_esme_free(f->e);
    if (f->s)
        sc_session_close(f->s, "test over");
    RUN_UNTIL(f, f->smsc_closed || !f->binds, 5000);
    uv_close((uv_handle_t *)&f->listener, NULL);
    uv_close((uv_handle_t *)&f->wd, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void on_mt(void *arg, int err)
{
    struct fx *f = arg;
    assert_true(f->mt_done < MAX_SUBS);
    f->mt_err[f->mt_done++] = err;
}

static void send_texts(struct fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        char t[16];
        snprintf(t, sizeof t, "m%d", i);
        assert_int_equal(sc_esme_send(f->e, &g_src, &g_dst, t, strlen(t), on_mt, f), 0);
    }
}

/* The value of the series named exactly series (name{labels}) in the
 * global registry's text; -1 when it is not there. Counters carry over
 * from earlier tests of this file (same bind name): compare differences. */
static long long metric(const char *series)
{
    char *t = sc_metrics_render(sc_metrics_global(), NULL);
    assert_non_null(t);
    long long v = -1;
    size_t n = strlen(series);
    for (const char *p = t; (p = strstr(p, series)); p += n)
        if ((p == t || p[-1] == '\n') && p[n] == ' ')
            v = strtoll(p + n + 1, NULL, 10);
    free(t);
    return v;
}

/* No more than window submit_sm await their resp; each resp lets the next
 * one go, oldest first. The window in use and the parts waiting are the
 * metrics' too (smsc/smsc_metrics.c). */
static void test_window_bounds_outstanding(void **state)
{
    struct fx *f = *state;
    f->bind.window = 3;
    f->answer = ANSWER_HOLD;
    start(f);
    send_texts(f, 10);
    RUN_UNTIL(f, f->nsub >= 3, 5000);
    marker(f);
    assert_int_equal(f->nsub, 3);
    assert_int_equal(sc_esme_mt_pending(f->e), 10);
    assert_int_equal(metric("shortcoded_bind_window_used{bind=\"t\"}"), 3);
    assert_int_equal(metric("shortcoded_mt_queued{priority=\"reply\"}"), 7);
    assert_int_equal(metric("shortcoded_bind_up{bind=\"t\"}"), 1);
    long long sent = metric("shortcoded_mt_total{kind=\"reply\",state=\"sent\"}");

    smsc_answer(f, f->sub[0].seq, SC_ESME_ROK);
    RUN_UNTIL(f, f->nsub >= 4 && f->mt_done == 1, 5000);
    marker(f);
    assert_int_equal(f->nsub, 4);
    assert_int_equal(f->mt_err[0], 0);

    f->answer = ANSWER_OK;
    for (size_t i = 1; i < 4; i++)
        smsc_answer(f, f->sub[i].seq, SC_ESME_ROK);
    RUN_UNTIL(f, f->mt_done == 10, 5000);
    assert_int_equal(f->nsub, 10);
    for (int i = 0; i < 10; i++) {
        char t[16];
        snprintf(t, sizeof t, "m%d", i);
        assert_string_equal(f->sub[i].text, t);
        assert_int_equal(f->mt_err[i], 0);
    }
    assert_int_equal(sc_esme_mt_pending(f->e), 0);
    assert_int_equal(metric("shortcoded_bind_window_used{bind=\"t\"}"), 0);
    assert_int_equal(metric("shortcoded_mt_queued{priority=\"reply\"}"), 0);
    /* sc_esme_send's texts are replies' class: each counted once, when done. */
    assert_int_equal(metric("shortcoded_mt_total{kind=\"reply\",state=\"sent\"}") - sent, 10);
}

static void on_push(void *arg, int err, uint32_t status, const struct sc_esme_msgids *ids)
{
    struct fx *f = arg;
    assert_true(f->mt_done < MAX_SUBS);
    f->mt_ids[f->mt_done][0] = '\0';
    for (unsigned i = 0; ids && i < ids->n; i++) {
        strcat(f->mt_ids[f->mt_done], ids->id[i]);
        strcat(f->mt_ids[f->mt_done], ",");
    }
    f->mt_err[f->mt_done++] = err ? (status ? (int)status : err) : 0;
}

/* A push asking for receipts has registered_delivery 1 in each part and
 * reports each part's message_id; one that does not, 0 and no ids. */
static void test_push_receipt_ids(void **state)
{
    struct fx *f = *state;
    f->answer = ANSWER_OK;
    start(f);
    char two[200];
    memset(two, 'y', sizeof two);
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, two, sizeof two, 5, 0, 1, on_push, f), 2);
    RUN_UNTIL(f, f->mt_done == 1, 5000);
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, "no", 2, 5, 0, 0, on_push, f), 1);
    RUN_UNTIL(f, f->mt_done == 2, 5000);
    assert_int_equal(f->nsub, 3);
    assert_int_equal(f->sub[0].regdel, 1);
    assert_int_equal(f->sub[1].regdel, 1);
    assert_int_equal(f->sub[2].regdel, 0);
    assert_string_equal(f->mt_ids[0], "mid,mid,");
    assert_string_equal(f->mt_ids[1], "");
    assert_int_equal(f->mt_err[0], 0);
}

/* A push whose not_after passes while it waits is never sent: SC_ERANGE
 * when it comes up; the next one goes. Window 1, held. */
static void test_push_expires_while_queued(void **state)
{
    struct fx *f = *state;
    f->bind.window = 1;
    f->answer = ANSWER_HOLD;
    start(f);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long soon = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000 + 150;
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, "first", 5, 5, soon, 0, on_push, f), 1);
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, "late", 4, 5, soon, 0, on_push, f), 1);
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, "free", 4, 5, 0, 0, on_push, f), 1);
    RUN_UNTIL(f, f->nsub == 1, 5000);
    /* Wait past not_after on the loop, then free the window. */
    RUN_FOR(f, 300);
    f->answer = ANSWER_OK;
    smsc_answer(f, f->sub[0].seq, SC_ESME_ROK);
    RUN_UNTIL(f, f->mt_done == 3, 5000);
    marker(f);
    assert_int_equal(f->nsub, 2);
    assert_string_equal(f->sub[0].text, "first"); /* sent in time: not expired */
    assert_string_equal(f->sub[1].text, "free");
    assert_int_equal(f->mt_err[0], 0);
    assert_int_equal(f->mt_err[1], SC_ERANGE);
    assert_int_equal(f->mt_err[2], 0);
}

/* Window 1, held: a reply none of whose parts went can be withdrawn (its
 * callback never comes, the next one goes in its place); one in flight
 * cannot. Two 2-part replies queued behind: withdrawing the first takes
 * both its parts and leaves the other's. */
static void on_mt_never(void *arg, int err)
{
    (void)arg;
    (void)err;
    fail_msg("a withdrawn MT's callback ran");
}

static void on_mt_kept(void *arg, int err) { on_mt(arg, err); }

static void test_withdraw_unsent_reply(void **state)
{
    struct fx *f = *state;
    f->bind.window = 1;
    f->answer = ANSWER_HOLD;
    start(f);
    char two[200];
    memset(two, 'w', sizeof two);
    assert_int_equal(sc_esme_send(f->e, &g_src, &g_dst, "sent", 4, on_mt, f), 0);
    assert_int_equal(sc_esme_send(f->e, &g_src, &g_dst, two, sizeof two, on_mt_never, f), 0);
    char kept[180];
    memset(kept, 'k', sizeof kept);
    assert_int_equal(sc_esme_send(f->e, &g_src, &g_dst, kept, sizeof kept, on_mt_kept, f), 0);
    RUN_UNTIL(f, f->nsub == 1, 5000);
    assert_int_equal(sc_esme_withdraw(f->e, on_mt, f), 0); /* "sent" is in flight */
    assert_int_equal(sc_esme_withdraw(f->e, on_mt_never, f), 1);
    assert_int_equal(sc_esme_withdraw(f->e, on_mt_never, f), 0); /* gone */
    assert_int_equal(sc_esme_mt_pending(f->e), 3);
    f->answer = ANSWER_OK;
    smsc_answer(f, f->sub[0].seq, SC_ESME_ROK);
    RUN_UNTIL(f, f->mt_done == 2, 5000);
    marker(f);
    assert_int_equal(f->nsub, 3);
    assert_string_equal(f->sub[0].text, "sent");
    /* Both parts are the kept reply's (after a 6-byte UDH). */
    for (int i = 1; i < 3; i++)
        assert_int_equal(f->sub[i].text[6], 'k');
    assert_int_equal(f->mt_err[0], 0);
    assert_int_equal(f->mt_err[1], 0);
    assert_int_equal(sc_esme_mt_pending(f->e), 0);
}

/* Window 1, held: pushes of priorities 9, 5, 0 queued behind the one in
 * flight, then a reply. Once the window frees, the reply goes first, then
 * priority 0, 5, 9; the reply took none of the pushes' room; a push too
 * long for max_parts is refused, never cut; a refused push reports the
 * SMSC's status. */
static void test_priority_classes(void **state)
{
    struct fx *f = *state;
    f->bind.window = 1;
    f->answer = ANSWER_HOLD;
    start(f);
    static const char *const texts[] = {"p9a", "p9b", "p5", "p0"};
    static const unsigned prio[] = {9, 9, 5, 0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, texts[i], strlen(texts[i]), prio[i], 0,
                                      0, on_push, f),
                         1);
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, "x", 1, 10, 0, 0, on_push, f), SC_EINVAL);
    char big[161 * 4 + 1];
    memset(big, 'x', sizeof big);
    assert_int_equal(sc_esme_push(f->e, &g_src, &g_dst, big, sizeof big, 1, 0, 0, on_push, f),
                     SC_ETOOBIG);
    RUN_UNTIL(f, f->nsub == 1, 5000);
    assert_string_equal(f->sub[0].text, "p9a"); /* the queue was empty: it went at once */
    assert_int_equal(sc_esme_push_queued(f->e), 3);
    assert_int_equal(sc_esme_send(f->e, &g_src, &g_dst, "reply", 5, on_mt, f), 0);
    assert_int_equal(sc_esme_mt_pending(f->e), 5);
    f->answer = ANSWER_OK;
    smsc_answer(f, f->sub[0].seq, SC_ESME_RSUBMITFAIL);
    RUN_UNTIL(f, f->mt_done == 5, 5000);
    static const char *const order[] = {"p9a", "reply", "p0", "p5", "p9b"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(f->sub[i].text, order[i]);
    assert_int_equal(f->mt_err[0], (int)SC_ESME_RSUBMITFAIL);
    for (int i = 1; i < 5; i++)
        assert_int_equal(f->mt_err[i], 0);
    assert_int_equal(sc_esme_push_queued(f->e), 0);
}

/* tps 10 (burst 1): the i-th submit_sm leaves no earlier than i * 100 ms
 * after the first, which left when sc_esme_send was called. */
static void test_tps_spaces_submits(void **state)
{
    struct fx *f = *state;
    f->bind.tps = 10;
    start(f);
    uint64_t t0 = uv_now(&f->loop);
    send_texts(f, 5);
    RUN_UNTIL(f, f->mt_done == 5, 10000);
    for (size_t i = 0; i < 5; i++)
        assert_true(f->sub[i].at - t0 >= i * 100);
}

/* ESME_RTHROTTLED: the same part again, no earlier than throttle_pause_ms
 * after the resp left the SMSC; then it is done without error. */
static void test_throttled_part_waits_and_goes_again(void **state)
{
    struct fx *f = *state;
    f->answer = ANSWER_THROTTLE_FIRST;
    start(f);
    long long before = metric("shortcoded_bind_throttled_total{bind=\"t\"}");
    assert_true(before >= 0);
    send_texts(f, 1);
    RUN_UNTIL(f, f->mt_done == 1, 5000);
    assert_int_equal(metric("shortcoded_bind_throttled_total{bind=\"t\"}") - before, 1);
    assert_int_equal(f->nsub, 2);
    assert_string_equal(f->sub[1].text, f->sub[0].text);
    assert_true(f->sub[1].at - f->sub[0].at >= 200);
    assert_int_equal(f->mt_err[0], 0);
}

/* No resp: sent again submit_retries times, then failed with SC_ETIMEOUT,
 * and nothing after. */
static void test_timeout_retries_then_fails(void **state)
{
    struct fx *f = *state;
    f->bind.response_timeout_ms = 100;
    f->bind.submit_retries = 1;
    f->answer = ANSWER_HOLD;
    start(f);
    send_texts(f, 1);
    RUN_UNTIL(f, f->mt_done == 1, 5000);
    assert_int_equal(f->mt_err[0], SC_ETIMEOUT);
    marker(f);
    assert_int_equal(f->nsub, 2);
    assert_string_equal(f->sub[1].text, "m0");
}

/* The SMSC sends a deliver_sm; status is what the esme answered. */
static void on_dresp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                     const uint8_t *pdu, size_t len)
{
    struct fx *f = sc_session_owner(s);
    assert_int_equal(err, 0);
    assert_int_equal(h->id, SC_CMD_DELIVER_SM | SC_CMD_RESP);
    f->mo_status = h->status;
    f->mo_resps++;
}

static void deliver(struct fx *f, uint8_t esm_class, const char *msg, size_t n)
{
    struct sc_sm sm;
    memset(&sm, 0, sizeof sm);
    sm.cmd_id = SC_CMD_DELIVER_SM;
    sm.seq = sc_session_next_seq(f->s);
    sm.src = g_dst;
    sm.dst = g_src;
    sm.esm_class = esm_class;
    sm.msg_len = (uint16_t)n;
    memcpy(sm.msg, msg, n);
    uint8_t b[512];
    long len = sc_pdu_encode_sm(&sm, b, sizeof b);
    assert_true(len > 0);
    int before = f->mo_resps;
    assert_int_equal(sc_session_request(f->s, sm.seq, b, (size_t)len, on_dresp, NULL), 0);
    RUN_UNTIL(f, f->mo_resps > before, 5000);
}

/* A whole MO goes up decoded; a receipt and a malformed UDH are answered
 * by the esme itself; after sc_esme_refuse_mo every MO gets that status. */
static void test_mo_intake(void **state)
{
    struct fx *f = *state;
    start(f);
    deliver(f, 0, "0000", 4);
    assert_int_equal(f->nmo, 1);
    assert_string_equal(f->mo_text, "0000");
    assert_int_equal(f->mo_status, SC_ESME_ROK);

    /* A readable receipt is the owner's to answer; an unreadable one (a
     * control character in its id, a stat not A-Z) is acknowledged here. */
    deliver(f, 0x04, "id:1 stat:DELIVRD err:000", 25);
    assert_int_equal(f->mo_status, SC_ESME_RSYSERR);
    assert_string_equal(f->rcpt, "1 DELIVRD 0");
    deliver(f, 0x04, "id:\x1b[1 stat:DELIVRD", 19);
    assert_int_equal(f->mo_status, SC_ESME_ROK);
    deliver(f, 0x04, "id:2 stat:deliv", 15);
    assert_int_equal(f->mo_status, SC_ESME_ROK);
    assert_int_equal(f->nrcpt, 1);
    deliver(f, SC_ESM_UDHI, "\x10\x00\x03", 3);     /* UDHL past the end */
    assert_int_equal(f->mo_status, SC_ESME_RX_P_APPN);
    sc_esme_refuse_mo(f->e, SC_ESME_RX_T_APPN);
    deliver(f, 0, "0000", 4);
    assert_int_equal(f->mo_status, SC_ESME_RX_T_APPN);
    /* Shutting down: a receipt is kept by the SMSC too. */
    deliver(f, 0x04, "id:3 stat:DELIVRD err:000", 25);
    assert_int_equal(f->mo_status, SC_ESME_RX_T_APPN);
    assert_int_equal(f->nrcpt, 1);
    assert_int_equal(f->nmo, 1);
}

/* Shutdown with an SMSC that never answers the unbind: done once the
 * bind's response timeout ran out, not before; then nothing is taken. */
static void test_shutdown_deadline(void **state)
{
    struct fx *f = *state;
    f->bind.response_timeout_ms = 300;
    f->answer_unbind = 0;
    start(f);
    uint64_t t0 = uv_now(&f->loop);
    stop(f);
    assert_int_equal(f->unbinds, 1);
    assert_true(f->stopped_at - t0 >= 300);
    assert_int_equal(sc_esme_send(f->e, &g_src, &g_dst, "x", 1, NULL, NULL), SC_ECLOSED);
}

/* A gated link (a session lease, core/lease.c) connects only once
 * permitted; sc_esme_permit(0) unbinds it and closes the session by the
 * deadline given when the SMSC does not answer the unbind (well before the
 * response timeout), and it stays idle: no reconnect until permitted. */
static void test_gated_link_binds_only_when_permitted(void **state)
{
    struct fx *f = *state;
    f->bind.gated = 1;
    f->answer_unbind = 0;
    struct sc_esme_opts o = {
        .binds = &f->bind, .nbinds = 1, .max_pdu_len = 4096,
        .live = {SC_ESME_RX_T_APPN, SC_DC0_GSM, SC_SEG_UDH, 4, 16},
    };
    f->e = sc_esme_new(&f->loop, &o, &g_esme_cbs, f);
    assert_non_null(f->e);
    assert_int_equal(sc_esme_nlinks(f->e), 1);
    assert_string_equal(sc_esme_link_name(f->e, 0), "t");
    /* Not permitted: no connection in many reconnect periods (max 200 ms). */
    RUN_FOR(f, 600);
    assert_int_equal(f->conns, 0);
    assert_false(sc_esme_link_busy(f->e, 0));
    sc_esme_permit(f->e, 0, 1, 0);
    RUN_UNTIL(f, sc_esme_bound(f->e) == 1, 5000);
    assert_int_equal(f->binds, 1);
    assert_true(sc_esme_link_busy(f->e, 0));

    uint64_t t0 = uv_now(&f->loop);
    sc_esme_permit(f->e, 0, 0, 300);
    RUN_UNTIL(f, f->smsc_closed, 5000);
    uint64_t took = uv_now(&f->loop) - t0;
    assert_int_equal(f->unbinds, 1);
    assert_true(took >= 290 && took < 2000);   /* the deadline, not the 5 s resp timeout */
    assert_int_equal(sc_esme_bound(f->e), 0);
    RUN_FOR(f, 600);
    assert_int_equal(f->conns, 1);
    assert_false(sc_esme_link_busy(f->e, 0));
    /* Permitted again: binds again. */
    f->answer_unbind = 1;
    sc_esme_permit(f->e, 0, 1, 0);
    RUN_UNTIL(f, sc_esme_bound(f->e) == 1, 5000);
    assert_int_equal(f->binds, 2);
}

/* Shutdown fails the MTs still queued or awaiting their resp with
 * SC_ECLOSED, each callback once. */
static void test_shutdown_fails_pending_mts(void **state)
{
    struct fx *f = *state;
    f->bind.window = 1;
    f->answer = ANSWER_HOLD;
    start(f);
    send_texts(f, 3);
    RUN_UNTIL(f, f->nsub >= 1, 5000);
    stop(f);
    assert_int_equal(f->mt_done, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->mt_err[i], SC_ECLOSED);
    assert_int_equal(sc_esme_mt_pending(f->e), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_already_bound_waits_longer),
        cmocka_unit_test(test_mt_build_parts),
        T(test_window_bounds_outstanding),
        T(test_tps_spaces_submits),
        T(test_priority_classes),
        T(test_withdraw_unsent_reply),
        T(test_push_expires_while_queued),
        T(test_push_receipt_ids),
        T(test_throttled_part_waits_and_goes_again),
        T(test_timeout_retries_then_fails),
        T(test_mo_intake),
        T(test_shutdown_deadline),
        T(test_shutdown_fails_pending_mts),
        T(test_gated_link_binds_only_when_permitted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
