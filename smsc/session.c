/* session.c -- one SMPP connection on libuv: framing, coalesced writes,
 * response matching with timeouts, enquire_link keep-alive.
 *
 * Requests awaiting a resp live in a fixed pool (max_outstanding), found by
 * sequence number through a small chained hash, and kept on a list in send
 * order. All requests share one timeout, so that list is also deadline order:
 * one timer, armed for the oldest request, expires them. A resp that removes
 * the oldest does not re-arm the timer; when it fires early it simply
 * re-arms for the new oldest. No request, no timer: an idle session costs no
 * CPU beyond its enquire_link. */
#include "smsc/session.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"

#define SS_LOG(lvl, s, event, fmt, ...)                                                    \
    sc_log(lvl, "event=" event " bind=%s peer=%s" fmt, (s)->name, (s)->peer, ##__VA_ARGS__)
#define SS_DEBUG(s, event, fmt, ...)                                                       \
    do {                                                                                   \
        if (sc_log_enabled(SC_LOG_DEBUG))                                                  \
            SS_LOG(SC_LOG_DEBUG, s, event, fmt, ##__VA_ARGS__);                            \
    } while (0)

/* A request we sent that waits for its resp (matched by sequence number). */
struct outstanding {
    uint32_t seq;
    uint64_t deadline;           /* loop time in ms */
    sc_session_resp_cb cb;
    void *ctx;
    struct outstanding *hnext;       /* hash chain, or free list */
    struct outstanding *prev, *next; /* send (= deadline) order */
};

struct sc_buf {
    uint8_t *data;
    size_t len, cap;
};

struct sc_session {
    uv_loop_t *loop;
    uv_tcp_t *tcp;
    uv_timer_t resp_timer;
    uv_timer_t idle_timer;
    uv_prepare_t flush_prep;
    struct sc_session_opts o;
    struct sc_session_cbs cbs;
    void *owner;
    char name[40];
    char peer[64];
    enum sc_session_state state;
    uint32_t seq;

    uint8_t *rbuf;               /* bytes read, not yet framed */
    size_t rlen, rcap;

    struct sc_buf wq;            /* queued this iteration */
    struct sc_buf wfl;           /* handed to uv_write, in flight */
    uv_write_t wreq;
    int writing;
    int flush_scheduled;
    int reading;
    int paused_backpressure;

    struct outstanding *pool;         /* max_outstanding entries */
    struct outstanding *free_reqs;
    struct outstanding **buckets;
    unsigned nbuckets;           /* power of two */
    unsigned nout;
    struct outstanding *oldest, *newest;
    int resp_timer_armed;

    uint64_t last_rx;
    int el_pending;              /* our enquire_link awaits its resp */
    uint64_t el_received, el_sent, el_resp_received;

    int closing;
    int open_handles;
    const char *close_reason;
};

static const char *const g_state_names[] = {
#define SC__SS_NAME(name, text) text,
    SC_SESSION_STATE_MAP(SC__SS_NAME)
#undef SC__SS_NAME
};

const char *sc_session_state_name(enum sc_session_state st)
{
    return (unsigned)st < SC_ARRAY_LEN(g_state_names) ? g_state_names[st] : "unknown";
}

static void flush(struct sc_session *s);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void resume_reading(struct sc_session *s);
static void arm_idle_timer(struct sc_session *s, uint64_t delay);

/* ---- buffers ---------------------------------------------------------- */

static int buf_append(struct sc_buf *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return SC_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* ---- life cycle --------------------------------------------------------- */

static void set_peer(struct sc_session *s)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char host[48] = "?";
    int port = 0;
    if (uv_tcp_getpeername(s->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(s->peer, sizeof s->peer, "%s:%d", host, port);
}

struct sc_session *sc_session_new(uv_loop_t *loop, uv_tcp_t *tcp, const struct sc_session_opts *o,
                                  const struct sc_session_cbs *cbs, void *owner)
{
    struct sc_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->tcp = tcp;
    s->o = *o;
    if (s->o.max_outstanding == 0)
        s->o.max_outstanding = 1;
    s->o.max_outstanding += 1; /* the slot kept for our enquire_link */
    if (s->o.max_pdu_len < 64)
        s->o.max_pdu_len = 64;
    if (s->o.out_max == 0)
        s->o.out_max = 1 << 20;
    s->cbs = *cbs;
    s->owner = owner;
    s->state = SC_SS_OPEN;
    sc_strlcpy(s->name, o->name ? o->name : "-", sizeof s->name);

    /* Room for a whole PDU of the maximum size behind a partial one, and a
     * big enough read to take many PDUs per syscall. */
    s->rcap = SC_MAX((size_t)2 * s->o.max_pdu_len, (size_t)65536);
    s->rbuf = malloc(s->rcap);
    s->pool = calloc(s->o.max_outstanding, sizeof *s->pool);
    s->nbuckets = 16;
    while (s->nbuckets < s->o.max_outstanding)
        s->nbuckets <<= 1;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    if (!s->rbuf || !s->pool || !s->buckets) {
        free(s->rbuf);
        free(s->pool);
        free(s->buckets);
        free(s);
        return NULL;
    }
    for (unsigned i = 0; i < s->o.max_outstanding; i++) {
        s->pool[i].hnext = s->free_reqs;
        s->free_reqs = &s->pool[i];
    }

    tcp->data = s;
    uv_tcp_nodelay(tcp, 1);
    set_peer(s);
    uv_timer_init(loop, &s->resp_timer);
    uv_timer_init(loop, &s->idle_timer);
    uv_prepare_init(loop, &s->flush_prep);
    s->resp_timer.data = s->idle_timer.data = s->flush_prep.data = s;
    s->last_rx = uv_now(loop);
    if (s->o.enquire_link_ms)
        arm_idle_timer(s, s->o.enquire_link_ms);
    resume_reading(s);
    return s;
}

static void free_session(struct sc_session *s)
{
    free(s->rbuf);
    free(s->wq.data);
    free(s->wfl.data);
    free(s->pool);
    free(s->buckets);
    free(s);
}

static void req_unlink(struct sc_session *s, struct outstanding *r);

/* All handles are closed: fail what is outstanding, tell the owner, free. */
static void finish_close(struct sc_session *s)
{
    while (s->oldest) {
        struct outstanding *r = s->oldest;
        sc_session_resp_cb cb = r->cb;
        void *ctx = r->ctx;
        req_unlink(s, r);
        if (cb)
            cb(s, ctx, SC_ECLOSED, NULL, NULL, 0);
    }
    if (s->cbs.on_closed)
        s->cbs.on_closed(s, s->close_reason ? s->close_reason : "closed");
    free_session(s);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct sc_session *s = h->data;
    if (h == (uv_handle_t *)s->tcp)
        free(s->tcp);
    if (--s->open_handles == 0)
        finish_close(s);
}

void sc_session_close(struct sc_session *s, const char *reason)
{
    if (s->closing)
        return;
    s->closing = 1;
    s->close_reason = reason;
    SS_LOG(SC_LOG_INFO, s, "session_closed", " state=%s reason=\"%s\" outstanding=%u",
           sc_session_state_name(s->state), reason, s->nout);
    s->state = SC_SS_CLOSED;
    if (!s->writing && s->wq.len) {
        uv_buf_t b = uv_buf_init((char *)s->wq.data, (unsigned)s->wq.len);
        (void)uv_try_write((uv_stream_t *)s->tcp, &b, 1);
    }
    uv_read_stop((uv_stream_t *)s->tcp);
    s->reading = 0;
    s->open_handles = 4;
    uv_close((uv_handle_t *)s->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&s->resp_timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->idle_timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->flush_prep, on_handle_closed);
}

/* ---- accessors ---------------------------------------------------------- */

void *sc_session_owner(const struct sc_session *s) { return s->owner; }
const char *sc_session_name(const struct sc_session *s) { return s->name; }
const char *sc_session_peer(const struct sc_session *s) { return s->peer; }
enum sc_session_state sc_session_state(const struct sc_session *s) { return s->state; }
unsigned sc_session_outstanding(const struct sc_session *s) { return s->nout; }
size_t sc_session_queued(const struct sc_session *s) { return s->wq.len + s->wfl.len; }

void sc_session_enquire_link_counts(const struct sc_session *s, uint64_t *received,
                                    uint64_t *sent, uint64_t *resp_received)
{
    if (received)
        *received = s->el_received;
    if (sent)
        *sent = s->el_sent;
    if (resp_received)
        *resp_received = s->el_resp_received;
}

void sc_session_set_name(struct sc_session *s, const char *name)
{
    sc_strlcpy(s->name, name, sizeof s->name);
}

void sc_session_set_state(struct sc_session *s, enum sc_session_state st)
{
    if (s->state == st || s->closing)
        return;
    SS_DEBUG(s, "session_state", " from=%s to=%s", sc_session_state_name(s->state),
             sc_session_state_name(st));
    s->state = st;
}

uint32_t sc_session_next_seq(struct sc_session *s)
{
    s->seq = s->seq >= 0x7FFFFFFFu ? 1 : s->seq + 1;
    return s->seq;
}

/* ---- writing ------------------------------------------------------------ */

static void update_backpressure(struct sc_session *s)
{
    size_t q = sc_session_queued(s);
    if (!s->paused_backpressure && q > s->o.out_max) {
        s->paused_backpressure = 1;
        if (s->reading) {
            uv_read_stop((uv_stream_t *)s->tcp);
            s->reading = 0;
        }
        SS_LOG(SC_LOG_WARN, s, "backpressure", " queued=%zu", q);
    } else if (s->paused_backpressure && q <= s->o.out_max / 2) {
        s->paused_backpressure = 0;
        resume_reading(s);
    }
}

static void on_write(uv_write_t *req, int status)
{
    struct sc_session *s = req->data;
    s->writing = 0;
    s->wfl.len = 0;
    if (s->closing)
        return;
    if (status < 0) {
        SS_LOG(SC_LOG_WARN, s, "write_failed", " error=\"%s\"", uv_strerror(status));
        sc_session_close(s, "write failed");
        return;
    }
    flush(s);
    if (!s->closing)
        update_backpressure(s);
}

/* Write everything queued: try the socket directly, hand what is left to
 * uv_write (swapping buffers so new PDUs queue while it is in flight). */
static void flush(struct sc_session *s)
{
    if (s->writing || s->wq.len == 0 || s->closing)
        return;
    uv_buf_t b = uv_buf_init((char *)s->wq.data, (unsigned)s->wq.len);
    int n = uv_try_write((uv_stream_t *)s->tcp, &b, 1);
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0) {
        SS_LOG(SC_LOG_WARN, s, "write_failed", " error=\"%s\"", uv_strerror(n));
        sc_session_close(s, "write failed");
        return;
    }
    if ((size_t)n == s->wq.len) {
        s->wq.len = 0;
        return;
    }
    struct sc_buf t = s->wfl;
    s->wfl = s->wq;
    s->wq = t;
    s->wq.len = 0;
    b = uv_buf_init((char *)s->wfl.data + n, (unsigned)(s->wfl.len - (size_t)n));
    s->wreq.data = s;
    int rc = uv_write(&s->wreq, (uv_stream_t *)s->tcp, &b, 1, on_write);
    if (rc < 0) {
        SS_LOG(SC_LOG_WARN, s, "write_failed", " error=\"%s\"", uv_strerror(rc));
        s->wfl.len = 0;
        sc_session_close(s, "write failed");
        return;
    }
    s->writing = 1;
}

static void on_flush_prepare(uv_prepare_t *p)
{
    struct sc_session *s = p->data;
    uv_prepare_stop(p);
    s->flush_scheduled = 0;
    flush(s);
    if (!s->closing)
        update_backpressure(s);
}

int sc_session_send(struct sc_session *s, const uint8_t *pdu, size_t len)
{
    if (s->closing)
        return SC_ECLOSED;
    if (buf_append(&s->wq, pdu, len) < 0) {
        sc_session_close(s, "out of memory");
        return SC_ENOMEM;
    }
    if (!s->flush_scheduled) {
        s->flush_scheduled = 1;
        uv_prepare_start(&s->flush_prep, on_flush_prepare);
    }
    return 0;
}

int sc_session_send_simple(struct sc_session *s, uint32_t id, uint32_t status, uint32_t seq)
{
    uint8_t b[SC_PDU_HEADER_LEN];
    return sc_session_send(s, b, sc_pdu_build_simple(b, id, status, seq));
}

int sc_session_send_str_resp(struct sc_session *s, uint32_t id, uint32_t status, uint32_t seq,
                             const char *str)
{
    uint8_t b[SC_PDU_RESP_MAX];
    return sc_session_send(s, b, sc_pdu_build_str_resp(b, id, status, seq, str));
}

/* ---- requests and resps ------------------------------------------------- */

static struct outstanding **bucket(struct sc_session *s, uint32_t seq)
{
    return &s->buckets[seq & (s->nbuckets - 1)];
}

static void req_unlink(struct sc_session *s, struct outstanding *r)
{
    struct outstanding **pp = bucket(s, r->seq);
    while (*pp != r)
        pp = &(*pp)->hnext;
    *pp = r->hnext;
    if (r->prev)
        r->prev->next = r->next;
    else
        s->oldest = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        s->newest = r->prev;
    r->cb = NULL;
    r->hnext = s->free_reqs;
    s->free_reqs = r;
    s->nout--;
}

static struct outstanding *req_find(struct sc_session *s, uint32_t seq)
{
    for (struct outstanding *r = *bucket(s, seq); r; r = r->hnext)
        if (r->seq == seq)
            return r;
    return NULL;
}

static void on_resp_timer(uv_timer_t *t);

static void arm_resp_timer(struct sc_session *s)
{
    if (!s->oldest || s->closing) {
        s->resp_timer_armed = 0;
        return;
    }
    uint64_t now = uv_now(s->loop);
    uint64_t d = s->oldest->deadline > now ? s->oldest->deadline - now : 0;
    uv_timer_start(&s->resp_timer, on_resp_timer, d, 0);
    s->resp_timer_armed = 1;
}

static void on_resp_timer(uv_timer_t *t)
{
    struct sc_session *s = t->data;
    uint64_t now = uv_now(s->loop);
    s->resp_timer_armed = 0;
    while (s->oldest && s->oldest->deadline <= now && !s->closing) {
        struct outstanding *r = s->oldest;
        sc_session_resp_cb cb = r->cb;
        void *ctx = r->ctx;
        uint32_t seq = r->seq;
        req_unlink(s, r);
        SS_DEBUG(s, "resp_timeout", " seq=%u", seq);
        cb(s, ctx, SC_ETIMEOUT, NULL, NULL, 0);
    }
    arm_resp_timer(s);
}

/* Queue a request and track it. Our own enquire_link uses the one slot
 * kept back from the owner (internal = 1), so a full window never stops the
 * keep-alive. */
static int request(struct sc_session *s, uint32_t seq, const uint8_t *pdu, size_t len,
                   sc_session_resp_cb cb, void *ctx, int internal)
{
    if (s->closing)
        return SC_ECLOSED;
    if (!s->free_reqs ||
        (!internal && s->nout - (unsigned)s->el_pending >= s->o.max_outstanding - 1))
        return SC_EBUSY;
    int rc = sc_session_send(s, pdu, len);
    if (rc < 0)
        return rc;
    struct outstanding *r = s->free_reqs;
    s->free_reqs = r->hnext;
    r->seq = seq;
    r->cb = cb;
    r->ctx = ctx;
    r->deadline = uv_now(s->loop) + s->o.resp_timeout_ms;
    struct outstanding **b = bucket(s, seq);
    r->hnext = *b;
    *b = r;
    r->next = NULL;
    r->prev = s->newest;
    if (s->newest)
        s->newest->next = r;
    else
        s->oldest = r;
    s->newest = r;
    s->nout++;
    if (!s->resp_timer_armed)
        arm_resp_timer(s);
    return 0;
}

int sc_session_request(struct sc_session *s, uint32_t seq, const uint8_t *pdu, size_t len,
                       sc_session_resp_cb cb, void *ctx)
{
    return request(s, seq, pdu, len, cb, ctx, 0);
}

/* ---- enquire_link ------------------------------------------------------- */

static void on_enquire_link_resp(struct sc_session *s, void *ctx, int err,
                                 const struct sc_pdu_hdr *h, const uint8_t *pdu, size_t len)
{
    s->el_pending = 0;
    if (err == 0)
        s->el_resp_received++;
    if (err == SC_ETIMEOUT) {
        SS_LOG(SC_LOG_WARN, s, "link_dead", " reason=\"no enquire_link_resp within %ums\"",
               s->o.resp_timeout_ms);
        sc_session_close(s, "enquire_link timeout");
    }
}

static void on_idle_timer(uv_timer_t *t);

static void arm_idle_timer(struct sc_session *s, uint64_t delay)
{
    uv_timer_start(&s->idle_timer, on_idle_timer, delay, 0);
}

/* Fires at most once per enquire_link_ms; sends enquire_link only when
 * nothing was received for that long (any PDU proves the link alive). */
static void on_idle_timer(uv_timer_t *t)
{
    struct sc_session *s = t->data;
    uint64_t now = uv_now(s->loop);
    uint64_t idle = now - s->last_rx;
    if (idle < s->o.enquire_link_ms) {
        arm_idle_timer(s, s->o.enquire_link_ms - idle);
        return;
    }
    if (!s->el_pending && s->state != SC_SS_OPEN && s->state != SC_SS_BINDING) {
        uint8_t b[SC_PDU_HEADER_LEN];
        uint32_t seq = sc_session_next_seq(s);
        sc_pdu_build_simple(b, SC_CMD_ENQUIRE_LINK, 0, seq);
        if (request(s, seq, b, sizeof b, on_enquire_link_resp, NULL, 1) == 0) {
            s->el_pending = 1;
            s->el_sent++;
            SS_DEBUG(s, "enquire_link_sent", " seq=%u idle_ms=%llu", seq,
                     (unsigned long long)idle);
        }
    }
    arm_idle_timer(s, s->o.enquire_link_ms);
}

/* ---- reading ------------------------------------------------------------ */

/* Every command id SMPP 3.4 defines, requests and resps. */
static int known_command(uint32_t id)
{
    switch (id & ~SC_CMD_RESP) {
    case SC_CMD_BIND_RECEIVER: case SC_CMD_BIND_TRANSMITTER: case SC_CMD_QUERY_SM:
    case SC_CMD_SUBMIT_SM: case SC_CMD_DELIVER_SM: case SC_CMD_UNBIND:
    case SC_CMD_REPLACE_SM: case SC_CMD_CANCEL_SM: case SC_CMD_BIND_TRANSCEIVER:
    case SC_CMD_ENQUIRE_LINK: case SC_CMD_SUBMIT_MULTI: case SC_CMD_DATA_SM:
        return 1;
    case SC_CMD_OUTBIND: case SC_CMD_ALERT_NOTIFICATION:
        return (id & SC_CMD_RESP) == 0;  /* these have no resp */
    case 0:
        return id == SC_CMD_GENERIC_NACK;
    default:
        return 0;
    }
}

static void handle_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu)
{
    if (!known_command(h->id)) {
        SS_LOG(SC_LOG_WARN, s, "unknown_command", " command_id=0x%08x seq=%u", h->id, h->seq);
        sc_session_send_simple(s, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDID, h->seq);
        return;
    }
    if (h->id & SC_CMD_RESP) {
        struct outstanding *r = req_find(s, h->seq);
        if (!r) {
            SS_LOG(SC_LOG_WARN, s, "unmatched_resp", " command=%s seq=%u status=%s",
                   sc_pdu_cmd_name(h->id), h->seq, sc_pdu_status_name(h->status));
            return;
        }
        sc_session_resp_cb cb = r->cb;
        void *ctx = r->ctx;
        req_unlink(s, r);
        cb(s, ctx, 0, h, pdu, h->len);
        return;
    }
    if (h->id == SC_CMD_ENQUIRE_LINK) {
        s->el_received++;
        sc_session_send_simple(s, SC_CMD_ENQUIRE_LINK | SC_CMD_RESP, SC_ESME_ROK, h->seq);
        return;
    }
    s->cbs.on_pdu(s, h, pdu, h->len);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct sc_session *s = handle->data;
    buf->base = (char *)s->rbuf + s->rlen;
    buf->len = s->rcap - s->rlen;
}

/* Frame and handle every whole PDU in the read buffer, until it runs out
 * or the session closes. */
static void process_input(struct sc_session *s)
{
    size_t off = 0;
    while (!s->closing) {
        struct sc_pdu_hdr h;
        long n = sc_pdu_frame(s->rbuf + off, s->rlen - off, s->o.max_pdu_len, &h);
        if (n == 0)
            break;
        if (n < 0) {
            SS_LOG(SC_LOG_WARN, s, "bad_command_length", " command_length=%u max=%u seq=%u",
                   h.len, s->o.max_pdu_len, h.seq);
            sc_session_send_simple(s, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDLEN, h.seq);
            sc_session_close(s, "bad command_length");
            return;
        }
        handle_pdu(s, &h, s->rbuf + off);
        off += (size_t)n;
    }
    if (s->closing)
        return;
    if (off) {
        memmove(s->rbuf, s->rbuf + off, s->rlen - off);
        s->rlen -= off;
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct sc_session *s = stream->data;
    if (nread == 0 || s->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            sc_session_close(s, "peer closed the connection");
        else {
            SS_LOG(SC_LOG_WARN, s, "read_failed", " error=\"%s\"", uv_strerror((int)nread));
            sc_session_close(s, "read failed");
        }
        return;
    }
    s->rlen += (size_t)nread;
    s->last_rx = uv_now(s->loop);
    process_input(s);
    /* rcap >= 2 * max_pdu_len leaves room after any partial PDU, so the
     * buffer is never full here; should it be, stop rather than read 0 bytes. */
    if (!s->closing && s->rlen == s->rcap && s->reading) {
        uv_read_stop(stream);
        s->reading = 0;
    }
}

/* Start reading again unless closing or paused by backpressure; whole PDUs
 * already buffered are handled first. */
static void resume_reading(struct sc_session *s)
{
    if (s->closing)
        return;
    if (s->rlen)
        process_input(s);
    if (s->reading || s->closing || s->paused_backpressure)
        return;
    if (uv_read_start((uv_stream_t *)s->tcp, on_alloc, on_read) == 0)
        s->reading = 1;
}
