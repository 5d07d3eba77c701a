/* esme.c -- keeps the configured binds up: the esme's public API and each
 * link's lifecycle (connect, bind, reconnect with backoff, unbind, the
 * shutdown deadline).
 *
 * A bind in transceiver mode is one link; in receiver+transmitter mode it is
 * two ("NAME/rx" and "NAME/tx"). Each link runs its own cycle:
 *   idle -> resolving -> connecting -> binding -> bound -> (closed) -> waiting
 *   -> resolving ...
 * with one timer bounding connect + bind, and exponential backoff with
 * jitter between attempts. Links are never freed while the daemon runs; a
 * generation counter tells an MO answer whether its session still exists.
 *
 * The other jobs are in their own files (esme_int.h): the MT queue
 * (mtq.c), MT building (mtbuild.c), MO intake (mo_intake.c). */
#include "smsc/esme.h"

#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "smsc/esme_int.h"

#define MS_PER_S 1000u
/* Bytes queued for a peer that does not read before the session stops
 * reading (docs/smpp.md). */
#define LINK_OUT_MAX (4u << 20)
/* Requests awaiting a resp beyond the MT window: one enquire_link and one
 * unbind (the bind is alone on the session). */
#define LINK_EXTRA_OUTSTANDING 2

static const char *const g_phase_names[] = {
#define LP_NAME(n, t) t,
    SC__LINK_PHASE_MAP(LP_NAME)
#undef LP_NAME
};

static void link_connect(struct link *l);
static void on_unbind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                           const uint8_t *pdu, size_t len);

static void set_phase(struct link *l, enum sc__link_phase p)
{
    if (l->phase != p && sc_log_enabled(SC_LOG_DEBUG))
        SC__LINK_LOG(SC_LOG_DEBUG, l, "link_phase", " from=%s to=%s", g_phase_names[l->phase],
                     g_phase_names[p]);
    l->phase = p;
}

/* ---- reconnect ---------------------------------------------------------- */

static void on_link_timer(uv_timer_t *t)
{
    struct link *l = t->data;
    switch (l->phase) {
    case SC__LP_WAITING:
        link_connect(l);
        break;
    case SC__LP_RESOLVING:
        SC__LINK_LOG(SC_LOG_WARN, l, "connect_timeout", " phase=resolving timeout_ms=%d",
                     l->cfg->bind_timeout_ms);
        uv_cancel((uv_req_t *)&l->gai);   /* its callback schedules the retry */
        break;
    case SC__LP_CONNECTING:
        SC__LINK_LOG(SC_LOG_WARN, l, "connect_timeout", " phase=connecting timeout_ms=%d",
                     l->cfg->bind_timeout_ms);
        uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free); /* connect cb: ECANCELED */
        l->tcp = NULL;
        break;
    case SC__LP_BINDING:
        SC__LINK_LOG(SC_LOG_WARN, l, "bind_timeout", " timeout_ms=%d", l->cfg->bind_timeout_ms);
        sc_session_close(l->s, "bind timeout");
        break;
    case SC__LP_UNBINDING:   /* sc_esme_permit(0): its deadline */
        sc_session_close(l->s, "unbind deadline");
        break;
    default:
        break;
    }
}

uint64_t sc_esme_backoff_ms(uint64_t min_ms, uint64_t max_ms, unsigned attempts, uint64_t rnd)
{
    uint64_t d = min_ms;
    for (unsigned i = 0; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    return d / 2 + rnd % (d / 2 + 1);
}

unsigned sc_esme_attempts_after_refusal(uint32_t status, unsigned attempts)
{
    /* The SMSC may still hold our previous session: give it time. */
    return status == SC_ESME_RALYBND && attempts < 4 ? 4 : attempts;
}

/* Wait before the next attempt (sc_esme_backoff_ms), the jitter so that
 * many daemons restarting together do not hit the SMSC in step. */
static void schedule_reconnect(struct link *l)
{
    if (l->e->stopping) {
        set_phase(l, SC__LP_STOPPED);
        return;
    }
    if (!l->permitted) {      /* gated: waits for sc_esme_permit */
        set_phase(l, SC__LP_IDLE);
        return;
    }
    uint64_t d = sc_esme_backoff_ms((uint64_t)l->cfg->reconnect_min_ms,
                                    (uint64_t)l->cfg->reconnect_max_ms, l->attempts,
                                    sc_xorshift64s(&l->e->rng));
    l->attempts++;
    sc_counter_inc(l->m.reconnects);
    set_phase(l, SC__LP_WAITING);
    SC__LINK_LOG(SC_LOG_INFO, l, "reconnect_scheduled", " in_ms=%llu attempt=%u",
                 (unsigned long long)d, l->attempts);
    uv_timer_start(&l->timer, on_link_timer, d, 0);
}

/* ---- MTs ------------------------------------------------------------------ */

/* The room check and the parts of one MT: the part count, or SC_E* with
 * nothing queued and nothing allocated. */
static int mt_prepare(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                      const char *utf8, size_t len, sc_esme_mt_cb cb, void *arg,
                      struct sc__mt_list *parts)
{
    int rc = sc__mtq_room(e);
    if (rc < 0)
        return rc;
    rc = sc__mt_build(&e->o.live, ++e->mt_ref, src, dst, utf8, len, 1, 0, parts);
    if (rc > 0) {
        struct sc__mt_msg *m = STAILQ_FIRST(parts)->msg;
        m->cb = cb;
        m->arg = arg;
        m->cls = SC__MT_REPLY;
    }
    return rc;
}

int sc_esme_push(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                 const char *utf8, size_t len, unsigned prio, long long not_after_ms,
                 int receipt, sc_esme_push_cb cb, void *arg)
{
    if (prio > SC_ESME_PRIO_MAX)
        return SC_EINVAL;
    if (e->stopping)
        return SC_ECLOSED;
    struct sc__mt_list parts;
    int n = sc__mt_build(&e->o.live, ++e->mt_ref, src, dst, utf8, len, 0, receipt ? 1 : 0,
                         &parts);
    if (n < 0)
        return n;
    struct sc__mt_msg *m = STAILQ_FIRST(&parts)->msg;
    m->pcb = cb;
    m->arg = arg;
    m->cls = (uint8_t)(SC__MT_PUSH0 + prio);
    m->not_after = not_after_ms;
    sc__mtq_enqueue(e, &parts, n);
    return n;
}

size_t sc_esme_push_queued(const struct sc_esme *e) { return e->mtq.push_queued; }

int sc_esme_send(struct sc_esme *e, const struct sc_addr *src, const struct sc_addr *dst,
                 const char *utf8, size_t len, sc_esme_mt_cb cb, void *arg)
{
    struct sc__mt_list parts;
    int n = mt_prepare(e, src, dst, utf8, len, cb, arg, &parts);
    if (n < 0)
        return n;
    sc__mtq_enqueue(e, &parts, n);
    return 0;
}

int sc_esme_withdraw(struct sc_esme *e, sc_esme_mt_cb cb, void *arg)
{
    return sc__mtq_withdraw(e, cb, arg);
}

int sc_esme_reply(struct sc_esme *e, struct sc_mo_token tok, const struct sc_addr *src,
                  const struct sc_addr *dst, const char *utf8, size_t len)
{
    struct sc__mt_list parts;
    int n = mt_prepare(e, src, dst, utf8, len, NULL, NULL, &parts);
    if (n < 0)
        return n;
    /* The resp first, the reply after it, in the same write. */
    sc_esme_mo_done(e, tok, SC_ESME_ROK);
    sc__mtq_enqueue(e, &parts, n);
    return 0;
}

size_t sc_esme_mt_pending(const struct sc_esme *e) { return sc__mtq_pending(e); }

unsigned sc_esme_bound(const struct sc_esme *e)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->nlinks; i++)
        n += e->links[i].phase == SC__LP_BOUND;
    return n;
}

/* ---- session callbacks --------------------------------------------------- */

static void on_link_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct link *l = sc_session_owner(s);
    switch (h->id) {
    case SC_CMD_DELIVER_SM:
    case SC_CMD_DATA_SM:
        sc__mo_handle(l, h, pdu, len);
        break;
    case SC_CMD_UNBIND:
        SC__LINK_LOG(SC_LOG_INFO, l, "unbind_received", " seq=%u", h->seq);
        sc_session_send_simple(s, SC_CMD_UNBIND | SC_CMD_RESP, SC_ESME_ROK, h->seq);
        sc_session_close(s, "unbind from SMSC");
        break;
    case SC_CMD_OUTBIND:
    case SC_CMD_ALERT_NOTIFICATION:
        SC__LINK_LOG(SC_LOG_INFO, l, "ignored", " command=%s", sc_pdu_cmd_name(h->id));
        break;
    default:
        SC__LINK_LOG(SC_LOG_WARN, l, "unexpected_command", " command=%s seq=%u",
                     sc_pdu_cmd_name(h->id), h->seq);
        sc_session_send_simple(s, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDID, h->seq);
        break;
    }
}

static void maybe_stop_done(struct sc_esme *e);

static void on_link_closed(struct sc_session *s, const char *reason)
{
    struct link *l = sc_session_owner(s);
    int was_bound = l->phase == SC__LP_BOUND || l->phase == SC__LP_UNBINDING;
    int asked = l->phase == SC__LP_UNBINDING; /* our unbind (shutdown), not a loss */
    l->s = NULL;
    l->gen++;
    sc__mtq_link_down(l);
    uv_timer_stop(&l->timer);
    if (was_bound)
        SC__LINK_LOG(asked ? SC_LOG_INFO : SC_LOG_WARN, l, "unbound", " reason=\"%s\"", reason);
    schedule_reconnect(l);
    maybe_stop_done(l->e);
    sc__mtq_pump(l->e);
}

static void on_bind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                         const uint8_t *pdu, size_t len)
{
    struct link *l = sc_session_owner(s);
    if (err == SC_ECLOSED)
        return;
    if (err == SC_ETIMEOUT) {
        SC__LINK_LOG(SC_LOG_WARN, l, "bind_timeout", " timeout_ms=%d", l->cfg->response_timeout_ms);
        sc_session_close(s, "bind timeout");
        return;
    }
    if (h->status != SC_ESME_ROK) {
        SC__LINK_LOG(SC_LOG_ERROR, l, "bind_failed", " status=%s system_id=%s",
                     sc_pdu_status_name(h->status), l->cfg->system_id);
        l->attempts = sc_esme_attempts_after_refusal(h->status, l->attempts);
        sc_session_close(s, "bind refused");
        return;
    }
    char sysid[32] = "";
    sc_pdu_parse_str_resp(pdu, len, sysid, sizeof sysid);
    uv_timer_stop(&l->timer);
    set_phase(l, SC__LP_BOUND);
    sc_session_set_state(s, l->role == SC__ROLE_TRX  ? SC_SS_BOUND_TRX
                            : l->role == SC__ROLE_RX ? SC_SS_BOUND_RX
                                                     : SC_SS_BOUND_TX);
    l->attempts = 0;
    sc__mtq_link_up(l);
    SC__LINK_LOG(SC_LOG_INFO, l, "bound", " mode=%s smsc_system_id=%s",
                 l->role == SC__ROLE_TRX  ? "transceiver"
                 : l->role == SC__ROLE_RX ? "receiver"
                                          : "transmitter",
                 SC_LOGV(sysid));
    sc__mtq_pump(l->e);
}

static const struct sc_session_cbs g_link_cbs = {
    .on_pdu = on_link_pdu,
    .on_closed = on_link_closed,
};

static void on_connect(uv_connect_t *req, int status)
{
    struct link *l = req->data;
    if (status < 0) {
        if (status != UV_ECANCELED) {
            SC__LINK_LOG(SC_LOG_WARN, l, "connect_failed", " error=\"%s\"", uv_strerror(status));
            uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
            l->tcp = NULL;
        }
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
        maybe_stop_done(l->e);
        return;
    }
    struct sc_esme *e = l->e;
    struct sc_session_opts o = {
        .name = l->name,
        .max_pdu_len = e->o.max_pdu_len,
        .enquire_link_ms = (uint32_t)l->cfg->enquire_link_s * MS_PER_S,
        .resp_timeout_ms = (uint32_t)l->cfg->response_timeout_ms,
        .out_max = LINK_OUT_MAX,
        .max_outstanding = (unsigned)l->cfg->window + LINK_EXTRA_OUTSTANDING,
    };
    uv_tcp_t *tcp = l->tcp;
    l->tcp = NULL;
    l->s = sc_session_new(e->loop, tcp, &o, &g_link_cbs, l);
    if (!l->s) {
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
        return;
    }
    set_phase(l, SC__LP_BINDING);
    sc_session_set_state(l->s, SC_SS_BINDING);
    struct sc_bind b;
    memset(&b, 0, sizeof b);
    b.cmd_id = l->role == SC__ROLE_TRX  ? SC_CMD_BIND_TRANSCEIVER
               : l->role == SC__ROLE_RX ? SC_CMD_BIND_RECEIVER
                                        : SC_CMD_BIND_TRANSMITTER;
    b.seq = sc_session_next_seq(l->s);
    sc_strlcpy(b.system_id, l->cfg->system_id, sizeof b.system_id);
    sc_strlcpy(b.password, l->cfg->password ? l->cfg->password : "", sizeof b.password);
    sc_strlcpy(b.system_type, l->cfg->system_type ? l->cfg->system_type : "",
               sizeof b.system_type);
    b.interface_version = SC_SMPP_VERSION_34;
    uint8_t buf[256];
    long n = sc_pdu_encode_bind(&b, buf, sizeof buf);
    if (n < 0 || sc_session_request(l->s, b.seq, buf, (size_t)n, on_bind_resp, NULL) < 0) {
        SC__LINK_LOG(SC_LOG_ERROR, l, "bind_failed", " reason=\"cannot encode bind: %s\"",
                     sc_strerror(n < 0 ? (int)n : SC_EIO));
        sc_session_close(l->s, "bind not sent");
        return;
    }
    SC__LINK_LOG(SC_LOG_INFO, l, "binding", " system_id=%s command=%s", b.system_id,
                 sc_pdu_cmd_name(b.cmd_id));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct link *l = req->data;
    if (status < 0 || l->e->stopping || !l->permitted) {
        if (status < 0 && status != UV_ECANCELED)
            SC__LINK_LOG(SC_LOG_WARN, l, "resolve_failed", " error=\"%s\"", uv_strerror(status));
        uv_freeaddrinfo(res);
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
        maybe_stop_done(l->e);
        return;
    }
    l->tcp = malloc(sizeof *l->tcp);
    if (!l->tcp || uv_tcp_init(l->e->loop, l->tcp) < 0) {
        free(l->tcp);
        l->tcp = NULL;
        uv_freeaddrinfo(res);
        schedule_reconnect(l);
        return;
    }
    set_phase(l, SC__LP_CONNECTING);
    l->creq.data = l;
    int rc = uv_tcp_connect(&l->creq, l->tcp, res->ai_addr, on_connect);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        SC__LINK_LOG(SC_LOG_WARN, l, "connect_failed", " error=\"%s\"", uv_strerror(rc));
        uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
        l->tcp = NULL;
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
    }
}

static void link_connect(struct link *l)
{
    char port[8];
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", l->cfg->port);
    set_phase(l, SC__LP_RESOLVING);
    l->gai.data = l;
    uv_timer_start(&l->timer, on_link_timer, (uint64_t)l->cfg->bind_timeout_ms, 0);
    int rc = uv_getaddrinfo(l->e->loop, &l->gai, on_resolved, l->cfg->host, port, &hints);
    if (rc < 0) {
        SC__LINK_LOG(SC_LOG_WARN, l, "resolve_failed", " error=\"%s\"", uv_strerror(rc));
        uv_timer_stop(&l->timer);
        schedule_reconnect(l);
    }
}

/* ---- creation and shutdown ----------------------------------------------- */

struct sc_esme *sc_esme_new(uv_loop_t *loop, const struct sc_esme_opts *o,
                            const struct sc_esme_cbs *cbs, void *arg)
{
    struct sc_esme *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->loop = loop;
    e->o = *o;
    e->cbs = *cbs;
    e->arg = arg;
    sc__mtq_init(e);
    e->rng = sc_xorshift64s_seed(uv_hrtime() ^ ((uint64_t)(uintptr_t)e << 16));
    for (size_t i = 0; i < o->nbinds; i++)
        e->nlinks += o->binds[i].rx_tx ? 2 : 1;
    e->links = calloc(e->nlinks, sizeof *e->links);
    e->binds = calloc(o->nbinds ? o->nbinds : 1, sizeof *e->binds);
    if (!e->links || !e->binds) {
        free(e->links);
        free(e->binds);
        free(e);
        return NULL;
    }
    if (o->nbinds)
        memcpy(e->binds, o->binds, o->nbinds * sizeof *e->binds);
    e->o.binds = e->binds;
    unsigned k = 0;
    for (size_t i = 0; i < o->nbinds; i++) {
        const struct sc_esme_bind *b = &e->binds[i];
        int pair = b->rx_tx;
        for (int j = 0; j <= pair; j++, k++) {
            struct link *l = &e->links[k];
            l->e = e;
            l->cfg = b;
            l->id = k;
            l->role = !pair ? SC__ROLE_TRX : j == 0 ? SC__ROLE_RX : SC__ROLE_TX;
            snprintf(l->name, sizeof l->name, "%s%s", b->name,
                     !pair ? "" : j == 0 ? "/rx" : "/tx");
            l->permitted = !b->gated;
            uv_timer_init(loop, &l->timer);
            l->timer.data = l;
            sc__mtq_link_init(l);
        }
    }
    sc__esme_metrics_start(e);
    for (k = 0; k < e->nlinks; k++)
        if (e->links[k].permitted)
            link_connect(&e->links[k]);
    return e;
}

void sc_esme_set_live(struct sc_esme *e, const struct sc_esme_live *live)
{
    e->o.live = *live;
    sc__mtq_set_live(e, live);
}

static void handle_closed(uv_handle_t *h);

/* All links stopped: close our timers, then report. */
static void maybe_stop_done(struct sc_esme *e)
{
    if (!e->stopping || e->open_handles)
        return;
    for (unsigned i = 0; i < e->nlinks; i++)
        if (e->links[i].phase != SC__LP_STOPPED)
            return;
    sc__mtq_drain(e, SC_ECLOSED);
    /* Counted before any close callback can run (they come from the loop). */
    for (unsigned i = 0; i < e->nlinks; i++) {
        e->links[i].timer.data = e;
        uv_close((uv_handle_t *)&e->links[i].timer, handle_closed);
        e->open_handles += 1 + sc__mtq_link_stop(&e->links[i], handle_closed);
    }
}

static void handle_closed(uv_handle_t *h)
{
    struct sc_esme *e = h->data;
    if (--e->open_handles == 0 && e->stop_done)
        e->stop_done(e->stop_arg);
}

static void on_unbind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                           const uint8_t *pdu, size_t len)
{
    struct link *l = sc_session_owner(s);
    if (err == SC_ECLOSED)
        return;
    SC__LINK_LOG(SC_LOG_INFO, l, "unbound_clean", " result=%s",
                 err ? "no unbind_resp" : sc_pdu_status_name(h->status));
    sc_session_close(s, "unbound");
}

/* Send unbind on a bound link; the session closes on its resp (or when
 * the request fails). */
static void link_unbind(struct link *l)
{
    uint8_t b[SC_PDU_HEADER_LEN];
    uint32_t seq = sc_session_next_seq(l->s);
    sc_pdu_build_simple(b, SC_CMD_UNBIND, 0, seq);
    set_phase(l, SC__LP_UNBINDING);
    sc_session_set_state(l->s, SC_SS_UNBINDING);
    if (sc_session_request(l->s, seq, b, sizeof b, on_unbind_resp, NULL) < 0)
        sc_session_close(l->s, "shutdown");
}

unsigned sc_esme_nlinks(const struct sc_esme *e) { return e->nlinks; }

const char *sc_esme_link_name(const struct sc_esme *e, unsigned link)
{
    return link < e->nlinks ? e->links[link].name : "";
}

int sc_esme_link_busy(const struct sc_esme *e, unsigned link)
{
    if (link >= e->nlinks)
        return 0;
    enum sc__link_phase p = e->links[link].phase;
    return p != SC__LP_IDLE && p != SC__LP_WAITING && p != SC__LP_STOPPED;
}

void sc_esme_permit(struct sc_esme *e, unsigned link, int on, uint64_t close_in_ms)
{
    if (link >= e->nlinks || e->stopping)
        return;
    struct link *l = &e->links[link];
    if (on) {
        if (!l->permitted) {
            l->permitted = 1;
            if (l->phase == SC__LP_IDLE)
                link_connect(l);
        }
        return;
    }
    l->permitted = 0;
    switch (l->phase) {
    case SC__LP_BOUND:
        SC__LINK_LOG(SC_LOG_INFO, l, "unbinding", " reason=not_permitted close_in_ms=%llu",
                     (unsigned long long)close_in_ms);
        link_unbind(l);
        if (l->phase == SC__LP_UNBINDING)
            uv_timer_start(&l->timer, on_link_timer, close_in_ms, 0);
        break;
    case SC__LP_UNBINDING:   /* already going: keep the earlier deadline */
        if (uv_timer_get_due_in(&l->timer) == 0 || uv_timer_get_due_in(&l->timer) > close_in_ms)
            uv_timer_start(&l->timer, on_link_timer, close_in_ms, 0);
        break;
    case SC__LP_BINDING:
        sc_session_close(l->s, "not permitted");
        break;
    case SC__LP_RESOLVING:
        uv_cancel((uv_req_t *)&l->gai);   /* its callback: schedule_reconnect -> idle */
        break;
    case SC__LP_CONNECTING:
        uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free); /* connect cb: ECANCELED */
        l->tcp = NULL;
        break;
    case SC__LP_WAITING:
        uv_timer_stop(&l->timer);
        set_phase(l, SC__LP_IDLE);
        break;
    default:
        break;
    }
}

void sc_esme_stop(struct sc_esme *e, void (*done)(void *arg), void *arg)
{
    e->stopping = 1;
    e->refusing = 1;
    e->stop_done = done;
    e->stop_arg = arg;
    for (unsigned i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[i];
        sc__mtq_link_stop(l, NULL);
        switch (l->phase) {
        case SC__LP_BOUND:
            link_unbind(l);
            break;
        case SC__LP_BINDING:
            sc_session_close(l->s, "shutdown");
            break;
        case SC__LP_RESOLVING:
            uv_cancel((uv_req_t *)&l->gai);
            break;
        case SC__LP_CONNECTING:
            uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
            l->tcp = NULL;
            break;
        case SC__LP_WAITING:
        case SC__LP_IDLE:
            uv_timer_stop(&l->timer);
            set_phase(l, SC__LP_STOPPED);
            break;
        default:
            break;
        }
    }
    maybe_stop_done(e);
}

void sc_esme_free(struct sc_esme *e)
{
    if (!e)
        return;
    sc__mtq_drain(e, SC_ECLOSED);
    sc__esme_metrics_stop(e);
    free(e->links);
    free(e->binds);
    free(e);
}
