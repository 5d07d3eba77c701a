/* http.c -- libmicrohttpd on the libuv loop (core/http.h): one epoll fd
 * watched with uv_poll, one uv_timer from MHD_get_timeout, suspend/resume
 * for answers that come later, a route table. */
#include "core/http.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sc.h"

#define METHOD_MAX 8
#define EXTRA_HEADERS_MAX 4

struct route {
    const char *method;
    const char *path;
    size_t prefix;                /* > 0: match the first prefix bytes ('*' route) */
    sc_http_fn fn;
    void *arg;
};

struct sc_http {
    uv_loop_t *loop;
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_timer_t stop_timer;        /* sc_http_stop's polls */
    struct sc_http_opts o;
    unsigned port;
    struct route routes[SC_HTTP_ROUTES_MAX];
    size_t nroutes;
    struct sc_http_req *owed;     /* dispatched, not answered yet (suspended) */
    unsigned nowed;
    int stopping;
    uint64_t stop_deadline;
    unsigned handles;             /* uv handles still open */
    void (*done)(void *);
    void *done_arg;
};

struct sc_http_req {
    struct sc_http *s;
    struct MHD_Connection *c;     /* NULL once gone */
    char method[METHOD_MAX];
    char *path;
    char *body;
    size_t len, cap;
    int too_large;
    int dispatched;               /* the route has it */
    int answered;                 /* sc_http_respond was called */
    int suspended;
    int gone;                     /* the connection is closed: an answer is dropped */
    struct MHD_Response *resp;    /* the answer, not yet queued */
    unsigned status;
    char *hname[EXTRA_HEADERS_MAX], *hvalue[EXTRA_HEADERS_MAX];
    unsigned nheaders;
    uint64_t start_ms;
    char peer[64];
    struct sc_http_req *prev, *next; /* in s->owed while suspended */
};

static void req_free(struct sc_http_req *r)
{
    if (r->resp)
        MHD_destroy_response(r->resp);
    for (unsigned i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    free(r->path);
    free(r->body);
    free(r);
}

static void owed_unlink(struct sc_http_req *r)
{
    struct sc_http *s = r->s;
    if (r->prev)
        r->prev->next = r->next;
    else
        s->owed = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    s->nowed--;
}

/* ---- driving MHD from the loop ------------------------------------------- */

static void http_run(struct sc_http *s);

static void on_timer(uv_timer_t *t) { http_run(t->data); }

static void on_poll(uv_poll_t *p, int status, int events) { http_run(p->data); }

static unsigned connections(const struct sc_http *s)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

/* MHD_run, then the timer armed for MHD's next timeout. At the connection
 * limit libmicrohttpd takes the listen socket out of its epoll set, and
 * puts it back only at the start of a run: when a run closed connections
 * from the limit, one more run lets the waiting ones in at once. */
static void http_run(struct sc_http *s)
{
    if (!s->d)
        return;
    unsigned before = connections(s);
    MHD_run(s->d);
    if (before >= s->o.max_connections && connections(s) < before)
        MHD_run(s->d);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(s->d, &ms) == MHD_YES)
        uv_timer_start(&s->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&s->timer);
}

/* ---- requests ------------------------------------------------------------ */

static const struct route *route_find(const struct sc_http *s, const char *method,
                                      const char *path, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct route *rt = &s->routes[i];
        int match = rt->prefix ? strncmp(path, rt->path, rt->prefix) == 0
                               : strcmp(path, rt->path) == 0;
        if (!match)
            continue;
        *path_known = 1;
        if (strcmp(method, rt->method) == 0)
            return rt;
    }
    return NULL;
}

/* Queue the answer r->resp on its connection (inside the access handler). */
static enum MHD_Result queue(struct sc_http_req *r)
{
    if (!r->resp) /* the answer could not be made: close */
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(r->c, r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    return ok;
}

/* Hand the request to its route; queue the answer if it came at once,
 * else suspend until it comes. */
static enum MHD_Result dispatch(struct sc_http_req *r)
{
    struct sc_http *s = r->s;
    r->dispatched = 1;
    if (r->too_large) {
        sc_http_respond_str(r, 413, NULL, "request body too large\n");
        return queue(r);
    }
    int known;
    const struct route *rt = route_find(s, r->method, r->path, &known);
    if (!rt) {
        if (known)
            sc_http_respond_str(r, 405, NULL, "method not allowed\n");
        else
            sc_http_respond_str(r, 404, NULL, "not found\n");
        return queue(r);
    }
    rt->fn(r, rt->arg);
    if (r->resp)
        return queue(r);
    if (r->answered) /* answered, but the response could not be made */
        return MHD_NO;
    r->suspended = 1;
    r->next = s->owed;
    if (s->owed)
        s->owed->prev = r;
    s->owed = r;
    s->nowed++;
    MHD_suspend_connection(r->c);
    return MHD_YES;
}

static void peer_name(struct MHD_Connection *c, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[48] = "?";
    int port = 0;
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    snprintf(out, outsz, "%s:%d", ip, port);
}

/* The first call for a request: its record, and a Content-Length over the
 * limit noted at once (its body is not kept). */
static struct sc_http_req *req_new(struct sc_http *s, struct MHD_Connection *c, const char *url,
                                   const char *method)
{
    struct sc_http_req *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(url))) {
        free(r);
        return NULL;
    }
    r->s = s;
    r->c = c;
    sc_strlcpy(r->method, method, sizeof r->method);
    r->start_ms = uv_now(s->loop);
    peer_name(c, r->peer, sizeof r->peer);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->o.max_body)
        r->too_large = 1;
    return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *data_size, void **con_cls)
{
    struct sc_http *s = cls;
    struct sc_http_req *r = *con_cls;
    if (!r) {
        if (!(r = req_new(s, c, url, method)))
            return MHD_NO;
        *con_cls = r;
        /* A declared body over the limit: 413 before reading it. */
        return r->too_large ? dispatch(r) : MHD_YES;
    }
    if (*data_size) {
        size_t n = *data_size;
        *data_size = 0;
        if (r->too_large || n > s->o.max_body - r->len) {
            r->too_large = 1; /* keep reading, keep nothing: 413 at the end */
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 1024;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *b = realloc(r->body, cap);
            if (!b)
                return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    if (r->gone) /* resumed by sc_http_stop without an answer: close it */
        return MHD_NO;
    if (r->resp) /* resumed with its answer */
        return queue(r);
    if (r->dispatched) /* cannot happen: it stays suspended until answered */
        return MHD_YES;
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct sc_http_req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    if (sc_log_enabled(SC_LOG_DEBUG)) {
        static const char *const why[] = {"ok", "error", "timeout", "shutdown", "read_error",
                                          "client_abort"};
        char p[160];
        sc_debug("event=http_request method=%s path=%s status=%u ms=%llu peer=%s end=%s",
                 SC_LOGV(r->method), sc_log_value(p, sizeof p, r->path, strlen(r->path)),
                 r->answered ? r->status : 0,
                 (unsigned long long)(uv_now(r->s->loop) - r->start_ms), r->peer,
                 (unsigned)toe < SC_ARRAY_LEN(why) ? why[toe] : "?");
    }
    if (r->dispatched && !r->answered) {
        /* The route still owes its answer (the server is stopping): it
         * frees the request when it gives it. */
        if (r->suspended) {
            owed_unlink(r);
            r->suspended = 0;
        }
        r->gone = 1;
        r->c = NULL;
        return;
    }
    req_free(r);
}

/* ---- the request API ------------------------------------------------------ */

const char *sc_http_method(const struct sc_http_req *r) { return r->method; }
const char *sc_http_path(const struct sc_http_req *r) { return r->path; }
const char *sc_http_peer(const struct sc_http_req *r) { return r->peer; }

const char *sc_http_body(const struct sc_http_req *r, size_t *len)
{
    *len = r->len;
    return r->body ? r->body : "";
}

const char *sc_http_query(struct sc_http_req *r, const char *name, size_t *len)
{
    const char *v = NULL;
    size_t n = 0;
    if (!r->c || MHD_lookup_connection_value_n(r->c, MHD_GET_ARGUMENT_KIND, name, strlen(name),
                                               &v, &n) != MHD_YES)
        return NULL;
    if (len)
        *len = n;
    return v ? v : "";
}

const char *sc_http_header(struct sc_http_req *r, const char *name)
{
    return r->c ? MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name) : NULL;
}

int sc_http_add_header(struct sc_http_req *r, const char *name, const char *value)
{
    if (r->nheaders == EXTRA_HEADERS_MAX)
        return SC_EBUSY;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return SC_ENOMEM;
    }
    r->hname[r->nheaders] = n;
    r->hvalue[r->nheaders++] = v;
    return 0;
}

int sc_http_respond(struct sc_http_req *r, unsigned status, const char *ctype, const char *body,
                    size_t len)
{
    if (r->answered)
        return SC_ESTATE;
    r->answered = 1;
    if (r->gone) {
        req_free(r);
        return SC_ECLOSED;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        /* The access handler closes the connection (at once, or once
         * resumed); on_completed frees the request. */
        if (r->suspended) {
            owed_unlink(r);
            r->suspended = 0;
            r->gone = 1;
            MHD_resume_connection(r->c);
            uv_timer_start(&r->s->timer, on_timer, 0, 0);
        }
        return SC_ENOMEM;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            ctype ? ctype : "text/plain; charset=utf-8");
    for (unsigned i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->hname[i], r->hvalue[i]);
    r->resp = resp;
    r->status = status;
    if (r->suspended) {
        owed_unlink(r);
        r->suspended = 0;
        MHD_resume_connection(r->c);
        uv_timer_start(&r->s->timer, on_timer, 0, 0); /* run MHD from the loop */
    }
    return 0;
}

int sc_http_respond_str(struct sc_http_req *r, unsigned status, const char *ctype,
                        const char *body)
{
    return sc_http_respond(r, status, ctype, body, strlen(body));
}

/* ---- the server ------------------------------------------------------------ */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[300], q[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    sc_warn("event=http_server_error msg=%s", sc_log_quote(q, sizeof q, msg, n));
}

int sc_http_parse_listen(const char *listen, struct sockaddr_storage *addr, int *v6)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon - listen >= (long)sizeof host || !colon[1])
        return SC_EINVAL;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535)
        return SC_EINVAL;
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    *v6 = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        *v6 = 1;
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)addr) ? SC_EINVAL : 0;
    }
    if (!host[0] || strcmp(host, "*") == 0)
        sc_strlcpy(host, "0.0.0.0", sizeof host);
    else if (strcmp(host, "localhost") == 0)
        sc_strlcpy(host, "127.0.0.1", sizeof host);
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) ? SC_EINVAL : 0;
}

struct sc_http *sc_http_new(uv_loop_t *loop, const struct sc_http_opts *o, char *err,
                            size_t errsz)
{
    struct sockaddr_storage addr;
    int v6;
    if (sc_http_parse_listen(o->listen, &addr, &v6) < 0) {
        snprintf(err, errsz, "http.listen: \"%s\" is not host:port (e.g. 127.0.0.1:8080)",
                 o->listen);
        return NULL;
    }
    struct sc_http *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->o = *o;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, /* first: MHD says so */
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    const union MHD_DaemonInfo *fd = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD)
                                          : NULL;
    if (!fd) {
        snprintf(err, errsz, "http.listen: cannot listen on %s (in use, or not an address of "
                 "this host)", o->listen);
        if (s->d)
            MHD_stop_daemon(s->d);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = pi ? pi->port : 0;
    uv_poll_init(loop, &s->poll, fd->epoll_fd);
    uv_timer_init(loop, &s->timer);
    uv_timer_init(loop, &s->stop_timer);
    s->poll.data = s->timer.data = s->stop_timer.data = s;
    s->handles = 3;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
    http_run(s);
    return s;
}

int sc_http_route(struct sc_http *s, const char *method, const char *path, sc_http_fn fn,
                  void *arg)
{
    if (!method || !path || !fn || path[0] != '/')
        return SC_EINVAL;
    if (s->nroutes == SC_HTTP_ROUTES_MAX)
        return SC_EBUSY;
    size_t n = strlen(path);
    s->routes[s->nroutes++] = (struct route){method, path, path[n - 1] == '*' ? n - 1 : 0, fn,
                                             arg};
    return 0;
}

unsigned sc_http_port(const struct sc_http *s) { return s->port; }

static void on_handle_closed(uv_handle_t *h)
{
    struct sc_http *s = h->data;
    if (--s->handles == 0 && s->done)
        s->done(s->done_arg);
}

/* Stopping: once nothing is owed (or the deadline passed), every
 * connection is closed (MHD resumes the suspended ones to close them). */
static void on_stop_tick(uv_timer_t *t)
{
    struct sc_http *s = t->data;
    http_run(s);
    if (s->nowed && uv_now(s->loop) < s->stop_deadline)
        return;
    if (s->nowed)
        sc_warn("event=http_stop_incomplete answers_owed=%u", s->nowed);
    /* Answers still owed are dropped when they come. libmicrohttpd 0.9.75
     * aborts in MHD_stop_daemon while a connection is suspended: resume
     * them, marked gone (the access handler then closes them, and
     * on_completed takes them off the list). */
    for (struct sc_http_req *r = s->owed; r; r = r->next) {
        r->gone = 1;
        MHD_resume_connection(r->c);
    }
    for (int i = 0; s->owed && i < 10; i++)
        MHD_run(s->d);
    if (s->owed)
        sc_error("event=http_stop_error msg=\"suspended connections left\" n=%u", s->nowed);
    uv_close((uv_handle_t *)&s->poll, on_handle_closed); /* off the epoll fd first */
    MHD_stop_daemon(s->d);
    s->d = NULL;
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->stop_timer, on_handle_closed);
}

void sc_http_stop(struct sc_http *s, void (*done)(void *), void *arg)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    s->done = done;
    s->done_arg = arg;
    s->stop_deadline = uv_now(s->loop) + s->o.stop_timeout_ms;
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    uv_timer_start(&s->stop_timer, on_stop_tick, 0, 20);
}

void sc_http_free(struct sc_http *s) { free(s); }
