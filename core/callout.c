/* callout.c -- the daemon's HTTP client: libcurl's multi-socket API on the
 * libuv loop (one uv_poll per socket curl asks about, one uv_timer for
 * curl's timeout), for handlers/http.c.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to call it back (CURLMOPT_TIMERFUNCTION); we tell it what happened
 * (curl_multi_socket_action) and collect finished transfers
 * (curl_multi_info_read). Nothing blocks: CURLOPT_NOSIGNAL (no alarm() for
 * DNS), the threaded resolver of Debian's libcurl4-openssl, and every call
 * bounded by CURLOPT_TIMEOUT_MS. Easy handles are freed after each call;
 * their connections stay in the multi handle's cache and are reused
 * (keep-alive). */
#include "core/callout.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "handlers/http.h"

#define SC_CALLOUT_MAX_CONNS 256     /* kept-alive connections in the cache: more
                                      * than calls in flight (an MO window), so a
                                      * burst does not close and reopen them */
#define SC_CALLOUT_MAX_URL 8192
#define SC_CALLOUT_MAX_CTYPE 128

struct sock {
    uv_poll_t poll;
    struct sock *prev, *next;  /* c->socks */
    struct sc_callout *c;
    curl_socket_t fd;
};

struct call {
    struct call *prev, *next;  /* c->calls */
    struct sc_callout *c;
    CURL *easy;
    struct curl_slist *hdrs;
    sc_callout_cb cb;
    void *arg;
    char *buf;                 /* the response body, NUL-terminated */
    size_t len, cap, max;
    int too_big;
    uint64_t t0, deadline;     /* uv_now */
    char ctype[SC_CALLOUT_MAX_CTYPE];
};

struct sc_callout {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct call *calls;
    struct sock *socks;        /* watched for curl */
    unsigned inflight;
    int stopping;
    unsigned closing;          /* handles whose close callback has not run */
    void (*stopped)(void *);
    void *stopped_arg;
};

unsigned sc_callout_inflight(const struct sc_callout *c) { return c ? c->inflight : 0; }

uint64_t sc_callout_deadline(const struct sc_callout *c)
{
    uint64_t d = 0;
    for (const struct call *k = c ? c->calls : NULL; k; k = k->next)
        d = SC_MAX(d, k->deadline);
    return d;
}

/* ---- ending a call -------------------------------------------------------- */

static const char *why_of(CURLcode rc, int too_big)
{
    if (too_big)
        return "too_big";
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_COULDNT_RESOLVE_HOST: return "resolve";
    case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: return "io";
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION: return "tls";
    default: return "http_error";
    }
}

static int err_of(CURLcode rc, int too_big)
{
    if (too_big)
        return SC_ETOOBIG;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return SC_ETIMEOUT;
    return rc == CURLE_COULDNT_CONNECT ? SC_ECLOSED : SC_EIO;
}

/* Take k off the multi handle and the list, tell its owner, free it. */
static void call_end(struct call *k, CURLcode rc, const char *why)
{
    struct sc_callout *c = k->c;
    struct sc_callout_res res = {0};
    curl_multi_remove_handle(c->multi, k->easy);
    if (rc == CURLE_OK && !why) {
        long st = 0;
        curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &st);
        char *ct = NULL;
        curl_easy_getinfo(k->easy, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            sc_strlcpy(k->ctype, ct, sizeof k->ctype);
        res.status = st;
        res.content_type = ct ? k->ctype : NULL;
    } else {
        res.err = why ? SC_ECLOSED : err_of(rc, k->too_big);
        res.why = why ? why : why_of(rc, k->too_big);
    }
    res.body = k->buf ? k->buf : "";
    res.len = k->len;
    res.ms = (unsigned long long)(uv_now(c->loop) - k->t0);
    if (k->prev)
        k->prev->next = k->next;
    else
        c->calls = k->next;
    if (k->next)
        k->next->prev = k->prev;
    c->inflight--;
    k->cb(k->arg, &res);
    curl_easy_cleanup(k->easy);
    curl_slist_free_all(k->hdrs);
    free(k->buf);
    free(k);
}

static void check_done(struct sc_callout *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct call *k = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&k);
        call_end(k, m->data.result, NULL);
    }
}

/* ---- curl <-> libuv ------------------------------------------------------- */

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    struct sc_callout *c = s->c;
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                                 ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_done(c);
}

static void on_timer(uv_timer_t *t)
{
    struct sc_callout *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static void closed(uv_handle_t *h)
{
    struct sc_callout *c = ((struct sock *)h->data)->c;
    free(h->data);
    if (--c->closing == 0 && c->stopping && c->stopped)
        c->stopped(c->stopped_arg);
}

/* Stop watching s and free it once libuv let it go. */
static void sock_close(struct sock *s)
{
    struct sc_callout *c = s->c;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    c->closing++;
    uv_close((uv_handle_t *)&s->poll, closed);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl waits for, or stop. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
    struct sc_callout *c = arg;
    struct sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            sock_close(s);
            if (c->multi)
                curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || uv_poll_init_socket(c->loop, &s->poll, fd) < 0) {
            free(s);
            return -1; /* curl fails the transfer */
        }
        s->c = c;
        s->fd = fd;
        s->poll.data = s;
        s->next = c->socks;
        if (c->socks)
            c->socks->prev = s;
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer; -1 stops it. curl must not be called
 * from here, so 0 ms fires from the loop. */
static int on_timeout(CURLM *m, long ms, void *arg)
{
    struct sc_callout *c = arg;
    if (ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)ms, 0);
    return 0;
}

/* CURLOPT_WRITEFUNCTION: keep at most k->max bytes; more aborts the call. */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct call *k = arg;
    size_t len = size * n;
    if (len > k->max - k->len) {
        k->too_big = 1;
        return 0;
    }
    if (k->len + len + 1 > k->cap) {
        size_t cap = SC_MAX(k->cap * 2, k->len + len + 1);
        char *b = realloc(k->buf, SC_MIN(cap, k->max + 1));
        if (!b)
            return 0;
        k->buf = b;
        k->cap = SC_MIN(cap, k->max + 1);
    }
    memcpy(k->buf + k->len, p, len);
    k->len += len;
    k->buf[k->len] = '\0';
    return len;
}

/* ---- the API -------------------------------------------------------------- */

struct sc_callout *sc_callout_new(uv_loop_t *loop)
{
    static int curl_ready;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    curl_ready = 1;
    struct sc_callout *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)SC_CALLOUT_MAX_CONNS);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    sc_http_handler_metrics(); /* its user's families, listed from the start */
    return c;
}

/* The easy handle's options; 0 or SC_ENOMEM. */
static int call_setup(struct call *k, const struct sc_callout_req *r)
{
    CURL *e = k->easy;
    char ct[SC_CALLOUT_MAX_CTYPE + 16];
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, k);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "shortcoded/" SC_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, k);
    k->hdrs = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    if (!k->hdrs)
        return SC_ENOMEM;
    if (r->body) {
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 r->content_type ? r->content_type : "application/octet-stream");
        struct curl_slist *h = curl_slist_append(k->hdrs, ct);
        if (!h)
            return SC_ENOMEM;
        k->hdrs = h;
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
        if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->body) != CURLE_OK)
            return SC_ENOMEM;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, k->hdrs);
    return 0;
}

int sc_callout_call(struct sc_callout *c, const struct sc_callout_req *r, sc_callout_cb cb,
                    void *arg)
{
    if (!c || c->stopping)
        return SC_ESTATE;
    if (strlen(r->url) > SC_CALLOUT_MAX_URL)
        return SC_ETOOBIG;
    struct call *k = calloc(1, sizeof *k);
    if (!k)
        return SC_ENOMEM;
    k->c = c;
    k->cb = cb;
    k->arg = arg;
    k->max = r->max_response;
    k->t0 = uv_now(c->loop);
    k->deadline = k->t0 + (uint64_t)r->timeout_ms;
    k->easy = curl_easy_init();
    if (!k->easy || call_setup(k, r) < 0 || curl_multi_add_handle(c->multi, k->easy) != CURLM_OK) {
        curl_easy_cleanup(k->easy);
        curl_slist_free_all(k->hdrs);
        free(k);
        return SC_ENOMEM;
    }
    k->next = c->calls;
    if (c->calls)
        c->calls->prev = k;
    c->calls = k;
    c->inflight++;
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    struct sc_callout *c = h->data;
    if (--c->closing == 0 && c->stopped)
        c->stopped(c->stopped_arg);
}

void sc_callout_stop(struct sc_callout *c, void (*done)(void *), void *arg)
{
    c->stopping = 1;
    c->stopped = done;
    c->stopped_arg = arg;
    c->closing++; /* the timer; sockets add theirs as curl lets them go */
    while (c->calls)
        call_end(c->calls, CURLE_OK, "stopped");
    /* The cache's connections close here; sockets curl did not report
     * removed are let go after it. */
    CURLM *m = c->multi;
    c->multi = NULL;
    curl_multi_cleanup(m);
    unsigned left = 0;
    while (c->socks) {
        sock_close(c->socks);
        left++;
    }
    sc_debug("event=callout_stopped sockets_left=%u", left);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

void sc_callout_free(struct sc_callout *c)
{
    if (!c)
        return;
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c);
}
