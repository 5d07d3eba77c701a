/* server.c -- smsc-sim's SMSC side: listening socket, ESME sessions, binds,
 * unbinds, and the dispatch of every request an ESME sends.
 *
 * Framing, enquire_link answers, generic_nack for unknown command ids and
 * resp matching are the session layer's (smsc/session.c); this file decides
 * what each request means for an SMSC. Every request an ESME sends is checked
 * against the session's bind state first, every body is decoded by
 * smsc/pdu.c, and every failure is answered, never ignored. submit_sm and
 * data_sm go to submit.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "faults.h"
#include "mo.h"
#include "opts.h"
#include "server_int.h"
#include "stats.h"

/* ---- helpers ---------------------------------------------------------------- */

static const char *quoted(char *buf, size_t bufsz, const char *s)
{
    return sc_log_quote(buf, bufsz, s, strlen(s));
}

static void count_invalid(struct sim_conn *c)
{
    c->st->c.invalid_commands++;
    c->srv->stats->total.invalid_commands++;
}

static const char *bind_mode_name(uint32_t cmd)
{
    switch (cmd) {
    case SC_CMD_BIND_RECEIVER: return "receiver";
    case SC_CMD_BIND_TRANSMITTER: return "transmitter";
    default: return "transceiver";
    }
}

/* Requests that have a resp type of their own (others get generic_nack). */
static int has_resp(uint32_t id)
{
    return id != SC_CMD_OUTBIND && id != SC_CMD_ALERT_NOTIFICATION;
}

/* Refuse a request: its own resp with status when it has one, else
 * generic_nack. Resps that carry a C-string body use the str form. */
static void refuse(struct sim_conn *c, const struct sc_pdu_hdr *h, uint32_t status)
{
    count_invalid(c);
    if (!has_resp(h->id)) {
        sc_session_send_simple(c->s, SC_CMD_GENERIC_NACK, status, h->seq);
        return;
    }
    switch (h->id) {
    case SC_CMD_SUBMIT_SM: case SC_CMD_DELIVER_SM: case SC_CMD_DATA_SM:
    case SC_CMD_BIND_RECEIVER: case SC_CMD_BIND_TRANSMITTER: case SC_CMD_BIND_TRANSCEIVER:
        sc_session_send_str_resp(c->s, h->id | SC_CMD_RESP, status, h->seq, NULL);
        break;
    default:
        sc_session_send_simple(c->s, h->id | SC_CMD_RESP, status, h->seq);
        break;
    }
}

unsigned sim_server_rx_bound(const struct sim_server *srv)
{
    unsigned n = 0;
    for (const struct sim_conn *c = srv->conns.head; c; c = c->next)
        n += c->rx && !c->unbinding;
    return n;
}

static void handle_bind(struct sim_conn *c, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct sim_server *srv = c->srv;
    uint32_t resp = h->id | SC_CMD_RESP;
    struct sc_bind b;
    uint32_t status = SC_ESME_RSYSERR;
    char err[128] = "";
    char q[64];
    memset(&b, 0, sizeof b);
    int drc = sc_pdu_decode_bind(pdu, len, &b, &status, err, sizeof err);
    if (c->rx || c->tx || c->unbinding) {
        status = SC_ESME_RALYBND;
        sc_strlcpy(err, "already bound", sizeof err);
    } else if (drc < 0) {
        if (status == SC_ESME_ROK)
            status = SC_ESME_RSYSERR;
    } else {
        status = SC_ESME_RINVSYSID;
        sc_strlcpy(err, "unknown system_id", sizeof err);
        for (size_t i = 0; i < srv->o->naccounts; i++) {
            if (strcmp(srv->o->accounts[i].system_id, b.system_id) != 0)
                continue;
            if (strcmp(srv->o->accounts[i].password, b.password) == 0) {
                status = SC_ESME_ROK;
                break;
            }
            status = SC_ESME_RINVPASWD;
            sc_strlcpy(err, "wrong password", sizeof err);
        }
    }
    struct sim_acct *acct = status == SC_ESME_ROK ? sim_stats_acct(srv->stats, b.system_id) : NULL;
    if (acct && srv->o->max_binds && acct->now >= srv->o->max_binds) {
        status = srv->o->max_binds_status;
        snprintf(err, sizeof err, "--max-binds %u reached", srv->o->max_binds);
        acct->refused++;
    }
    if (status != SC_ESME_ROK) {
        c->st->c.binds_refused++;
        srv->stats->total.binds_refused++;
        SIM__CONN_LOG(SC_LOG_WARN, c, "bind_refused",
                      " system_id=%s mode=%s status=%s reason=\"%s\"",
                      quoted(q, sizeof q, b.system_id), bind_mode_name(h->id),
                      sc_pdu_status_name(status), err);
        sc_session_send_str_resp(c->s, resp, status, h->seq, NULL);
        return;
    }
    c->rx = h->id != SC_CMD_BIND_TRANSMITTER;
    c->tx = h->id != SC_CMD_BIND_RECEIVER;
    sc_strlcpy(c->st->system_id, b.system_id, sizeof c->st->system_id);
    c->st->bind = bind_mode_name(h->id);
    if ((c->acct = acct) != NULL && ++acct->now > acct->max)
        acct->max = acct->now;
    c->st->c.binds_accepted++;
    srv->stats->total.binds_accepted++;
    /* The session logs its name unquoted: keep only safe characters. */
    char name[40];
    snprintf(name, sizeof name, "%s#%u", b.system_id, c->id);
    for (char *p = name; *p; p++)
        if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') &&
            *p != '#' && *p != '_' && *p != '-' && *p != '.')
            *p = '_';
    sc_session_set_name(c->s, name);
    sc_session_set_state(c->s, c->rx && c->tx ? SC_SS_BOUND_TRX
                               : c->rx        ? SC_SS_BOUND_RX
                                              : SC_SS_BOUND_TX);
    sc_session_send_str_resp(c->s, resp, SC_ESME_ROK, h->seq, srv->o->system_id);
    SIM__CONN_LOG(SC_LOG_INFO, c, "bound",
                  " system_id=%s mode=%s", quoted(q, sizeof q, b.system_id), c->st->bind);
    if (c->rx) {
        if (srv->hooks.on_bound)
            srv->hooks.on_bound(srv->hooks.ctx);
        sim_mo_pump(srv->mos);
    }
}

static void on_unbind_timer(uv_timer_t *t)
{
    struct sim_conn *c = t->data;
    sc_session_close(c->s, c->unbinding == 2 ? "no unbind_resp" : "unbound");
}

static void handle_unbind(struct sim_conn *c, const struct sc_pdu_hdr *h)
{
    struct sim_server *srv = c->srv;
    char q[64];
    c->st->c.unbinds_received++;
    srv->stats->total.unbinds_received++;
    SIM__CONN_LOG(SC_LOG_INFO, c, "unbind",
                  " system_id=%s by=esme", quoted(q, sizeof q, c->st->system_id));
    sc_session_send_simple(c->s, SC_CMD_UNBIND | SC_CMD_RESP, SC_ESME_ROK, h->seq);
    c->rx = c->tx = 0;
    c->unbinding = 1;
    sc_session_set_state(c->s, SC_SS_UNBINDING);
    /* The ESME closes after unbind_resp; close ourselves if it does not. */
    uv_timer_start(&c->timer, on_unbind_timer, 500, 0);
}

static void on_conn_pdu(struct sc_session *s, const struct sc_pdu_hdr *h, const uint8_t *pdu,
                        size_t len)
{
    struct sim_conn *c = sc_session_owner(s);
    const char *fault = sim_fault_on_pdu(c->srv->faults, c->id, &c->pdus_in, c->rx || c->tx);
    if (fault) {
        sc_session_close(c->s, fault);
        return;
    }
    switch (h->id) {
    case SC_CMD_BIND_RECEIVER:
    case SC_CMD_BIND_TRANSMITTER:
    case SC_CMD_BIND_TRANSCEIVER:
        handle_bind(c, h, pdu, len);
        return;
    case SC_CMD_UNBIND:
        handle_unbind(c, h);
        return;
    default:
        break;
    }
    if (!c->rx && !c->tx) {
        SIM__CONN_LOG(SC_LOG_WARN, c, "not_bound",
                      " command=%s seq=%u", sc_pdu_cmd_name(h->id), h->seq);
        refuse(c, h, SC_ESME_RINVBNDSTS);
        return;
    }
    switch (h->id) {
    case SC_CMD_SUBMIT_SM:
    case SC_CMD_DATA_SM:
        sim__submit_handle(c, h, pdu, len);
        /* --unbind-after */
        if (!c->unbinding && c->s && sc_session_state(c->s) != SC_SS_CLOSED &&
            sim_fault_unbind_due(c->srv->faults, c->id, c->submits_in))
            sim__server_unbind(c);
        break;
    default:
        /* query_sm, replace_sm, cancel_sm, submit_multi, deliver_sm, outbind, ...:
         * not something this SMSC does. */
        SIM__CONN_LOG(SC_LOG_WARN, c, "unsupported_command", " command=%s seq=%u",
                      sc_pdu_cmd_name(h->id), h->seq);
        count_invalid(c);
        sc_session_send_simple(c->s, SC_CMD_GENERIC_NACK, SC_ESME_RINVCMDID, h->seq);
        break;
    }
}

/* ---- connections ------------------------------------------------------------------ */

/* enquire_link PDUs are handled inside the session layer, which counts them. */
static void sync_stats(struct sim_conn *c)
{
    if (!c->s)
        return;
    sc_session_enquire_link_counts(c->s, &c->st->c.enquire_link_received,
                                   &c->st->c.enquire_link_sent,
                                   &c->st->c.enquire_link_resp_received);
}

static void free_conn(uv_handle_t *h)
{
    free(h->data);
}

static void on_conn_closed(struct sc_session *s, const char *reason)
{
    struct sim_conn *c = sc_session_owner(s);
    struct sim_server *srv = c->srv;
    char q[64];
    sync_stats(c);
    srv->stats->total.enquire_link_received += c->st->c.enquire_link_received;
    srv->stats->total.enquire_link_sent += c->st->c.enquire_link_sent;
    srv->stats->total.enquire_link_resp_received += c->st->c.enquire_link_resp_received;
    c->st->open = 0;
    if (c->acct)
        c->acct->now--;
    c->acct = NULL;
    SIM__CONN_LOG(SC_LOG_INFO, c, "disconnected", " system_id=%s reason=\"%s\"",
                  quoted(q, sizeof q, c->st->system_id), reason);
    sim__resps_purge(srv, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns.head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->conns.n--;
    c->s = NULL;
    uv_close((uv_handle_t *)&c->timer, free_conn);
    sim_mo_requeue(srv->mos);
    sim_mo_pump(srv->mos);
    if (srv->hooks.on_idle)
        srv->hooks.on_idle(srv->hooks.ctx);
}

static const struct sc_session_cbs g_conn_cbs = {
    .on_pdu = on_conn_pdu,
    .on_closed = on_conn_closed,
};

static void on_connection(uv_stream_t *server, int status)
{
    struct sim_server *srv = server->data;
    if (status < 0) {
        sc_warn("event=accept_failed error=\"%s\"", uv_strerror(status));
        return;
    }
    uv_tcp_t *tcp = malloc(sizeof *tcp);
    if (!tcp)
        return;
    uv_tcp_init(srv->loop, tcp);
    if (uv_accept(server, (uv_stream_t *)tcp) < 0) {
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        return;
    }
    if (srv->stopping || srv->conns.n >= srv->o->max_sessions) {
        srv->stats->sessions_refused++;
        sc_warn("event=session_refused reason=\"%s\" sessions=%u max=%u",
                srv->stopping ? "shutting down" : "too many sessions", srv->conns.n,
                srv->o->max_sessions);
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        return;
    }
    struct sim_conn *c = calloc(1, sizeof *c);
    if (!c) {
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        return;
    }
    c->srv = srv;
    c->id = ++srv->next_conn_id;
    char name[24];
    snprintf(name, sizeof name, "esme#%u", c->id);
    struct sc_session_opts o = {
        .name = name,
        .max_pdu_len = srv->o->max_pdu,
        .enquire_link_ms = srv->o->enquire_link_ms,
        .resp_timeout_ms = sim_fault_resp_timeout(srv->faults),
        .out_max = 4u << 20,
        .max_outstanding = srv->o->window + 1, /* MOs use window; one kept for unbind */
    };
    c->st = sim_stats_session_new(srv->stats, c->id);
    c->s = c->st ? sc_session_new(srv->loop, tcp, &o, &g_conn_cbs, c) : NULL;
    if (!c->s) {
        if (c->st)
            c->st->open = 0;
        uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
        free(c);
        return;
    }
    sc_strlcpy(c->st->peer, sc_session_peer(c->s), sizeof c->st->peer);
    uv_timer_init(srv->loop, &c->timer);
    c->timer.data = c;
    c->next = srv->conns.head;
    if (srv->conns.head)
        srv->conns.head->prev = c;
    srv->conns.head = c;
    srv->conns.n++;
    srv->stats->sessions_accepted++;
    SIM__CONN_LOG(SC_LOG_INFO, c, "session_open", " sessions=%u", srv->conns.n);
}

/* Split "HOST:PORT" / "[V6]:PORT". */
static int split_hostport(const char *s, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return SC_EINVAL;
        if ((size_t)(end - s - 1) >= hostsz)
            return SC_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= hostsz)
            return SC_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    if (sc_strlcpy(port, colon + 1, portsz) >= portsz || !port[0])
        return SC_EINVAL;
    return 0;
}

int sim_server_start(struct sim_server *srv, char *err, size_t errsz)
{
    char host[256], port[16];
    if (split_hostport(srv->o->listen_host, host, sizeof host, port, sizeof port) < 0) {
        snprintf(err, errsz, "--listen: expected HOST:PORT, got \"%s\"", srv->o->listen_host);
        return SC_EINVAL;
    }
    if (sim__submit_start(srv) < 0) {
        snprintf(err, errsz, "out of memory");
        return SC_ENOMEM;
    }

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    uv_getaddrinfo_t gai;
    int rc = uv_getaddrinfo(srv->loop, &gai, NULL, host[0] ? host : NULL, port, &hints);
    if (rc < 0) {
        snprintf(err, errsz, "--listen %s: %s", srv->o->listen_host, uv_strerror(rc));
        return SC_EINVAL;
    }
    res = gai.addrinfo;
    uv_tcp_init(srv->loop, &srv->listener);
    srv->listener.data = srv;
    srv->listener_open = 1;
    rc = uv_tcp_bind(&srv->listener, res->ai_addr, 0);
    uv_freeaddrinfo(res);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection);
    if (rc < 0) {
        snprintf(err, errsz, "cannot listen on %s: %s", srv->o->listen_host, uv_strerror(rc));
        return SC_EIO;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &sl);
    srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    sc_info("event=listening port=%d host=%s", srv->port, host[0] ? host : "*");
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct sim_server *srv = h->data;
    srv->listener_open = 0;
    if (srv->hooks.on_idle)
        srv->hooks.on_idle(srv->hooks.ctx);
}

static void on_unbind_resp(struct sc_session *s, void *ctx, int err, const struct sc_pdu_hdr *h,
                           const uint8_t *pdu, size_t len)
{
    struct sim_conn *c = sc_session_owner(s);
    char q[64];
    if (err == SC_ECLOSED)
        return;
    SIM__CONN_LOG(SC_LOG_INFO, c, "unbound", " system_id=%s by=smsc result=%s",
                  quoted(q, sizeof q, c->st->system_id),
                  err ? "no unbind_resp" : sc_pdu_status_name(h->status));
    sc_session_close(s, "unbound");
}

void sim_server_stop(struct sim_server *srv)
{
    srv->stopping = 1;
    if (srv->listener_open && !uv_is_closing((uv_handle_t *)&srv->listener))
        uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    sim__resps_purge(srv, NULL);
    uv_timer_stop(&srv->reasm_timer);
    sim_dlr_stop(&srv->dlrs);
    for (struct sim_conn *c = srv->conns.head, *next; c; c = next) {
        next = c->next;
        if (c->unbinding)
            continue;
        if (!c->rx && !c->tx) {
            sc_session_close(c->s, "shutdown");
            continue;
        }
        sim__server_unbind(c);
    }
}

void sim__server_unbind(struct sim_conn *c)
{
    struct sim_server *srv = c->srv;
    char q[64];
    uint8_t b[SC_PDU_HEADER_LEN];
    uint32_t seq = sc_session_next_seq(c->s);
    sc_pdu_build_simple(b, SC_CMD_UNBIND, 0, seq);
    c->rx = c->tx = 0;
    c->unbinding = 2;
    sc_session_set_state(c->s, SC_SS_UNBINDING);
    if (sc_session_request(c->s, seq, b, sizeof b, on_unbind_resp, NULL) < 0) {
        sc_session_close(c->s, srv->stopping ? "shutdown" : "unbind failed");
        return;
    }
    c->st->c.unbinds_sent++;
    srv->stats->total.unbinds_sent++;
    SIM__CONN_LOG(SC_LOG_INFO, c, "unbind", " system_id=%s by=smsc",
                  quoted(q, sizeof q, c->st->system_id));
    uv_timer_start(&c->timer, on_unbind_timer, 1000, 0);
}

void sim_server_force_close(struct sim_server *srv)
{
    for (struct sim_conn *c = srv->conns.head; c; c = c->next)
        sc_session_close(c->s, "shutdown (forced)");
}

void sim_server_free(struct sim_server *srv)
{
    sim__resps_free(srv);
}

int sim_server_idle(const struct sim_server *srv)
{
    return srv->conns.n == 0 && !srv->listener_open;
}

void sim_server_sync_stats(struct sim_server *srv)
{
    for (struct sim_conn *c = srv->conns.head; c; c = c->next)
        sync_stats(c);
}

void sim_server_init(struct sim_server *srv, uv_loop_t *loop, const struct sim_opts *o,
                     struct sim_stats *stats, struct sim_faults *faults, struct sim_mos *mos,
                     const struct sim_server_hooks *hooks)
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->o = o;
    srv->stats = stats;
    srv->faults = faults;
    srv->mos = mos;
    srv->hooks = *hooks;
}
