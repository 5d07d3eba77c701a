/* http.h -- the daemon's HTTP server: libmicrohttpd driven by the libuv
 * loop (no thread of its own), a small route table that other files add
 * to, and requests answered at once or later (after a Redis call).
 *
 * Lifecycle: sc_http_new listens; sc_http_route adds routes (any time);
 * sc_http_stop stops accepting, waits for answers still owed (up to a
 * deadline), closes every connection; sc_http_free after its done.
 *
 * A route's function gets a request and must answer it exactly once with
 * sc_http_respond, either before it returns or later from a callback. Until
 * it is answered the request (and what the accessors return) stays valid,
 * even when the client went away meanwhile: the answer is then dropped.
 * The request is freed by the server after the answer; never use it after
 * sc_http_respond. */
#ifndef SC_HTTP_H
#define SC_HTTP_H

#include <stddef.h>
#include <uv.h>

struct sc_http;
struct sc_http_req;

typedef void (*sc_http_fn)(struct sc_http_req *req, void *arg);

struct sc_http_opts {
    const char *listen;           /* "host:port", "[v6]:port"; port 0 = any (tests) */
    size_t max_body;              /* a larger body is answered 413 */
    unsigned timeout_s;           /* an idle or slow connection is closed after this */
    unsigned max_connections;     /* more wait in the listen backlog */
    unsigned stop_timeout_ms;     /* sc_http_stop waits this long for owed answers */
};

#define SC_HTTP_ROUTES_MAX 32

struct sockaddr_storage;
/* "host:port" or "[v6]:port" (host "*" or "" = any, "localhost" =
 * 127.0.0.1; numeric addresses only) into addr, *v6 set. 0 or SC_EINVAL. */
int sc_http_parse_listen(const char *listen, struct sockaddr_storage *addr, int *v6);

/* Listen on o->listen. NULL with err (bad address, port in use, ...). */
struct sc_http *sc_http_new(uv_loop_t *loop, const struct sc_http_opts *o, char *err,
                            size_t errsz);

/* Add a route: method ("GET", "POST"), and path, matched exactly, or as a
 * prefix when it ends with a star ("/v1/mt/" plus star matches "/v1/mt/abc"). The first
 * matching route wins. A path that some route has with another method is
 * answered 405, a path no route has 404. Returns 0, SC_EBUSY (table full)
 * or SC_EINVAL. Strings are borrowed: use literals. */
int sc_http_route(struct sc_http *s, const char *method, const char *path, sc_http_fn fn,
                  void *arg);

/* The port it listens on (after port 0). */
unsigned sc_http_port(const struct sc_http *s);

/* Stop: no new connections; owed answers may still come until
 * o->stop_timeout_ms, then every connection is closed (answers owed after
 * that are dropped when given). done once every handle is closed. */
void sc_http_stop(struct sc_http *s, void (*done)(void *), void *arg);
/* After done. NULL is a no-op. */
void sc_http_free(struct sc_http *s);

/* ---- a request (valid until answered) ------------------------------------ */

const char *sc_http_method(const struct sc_http_req *r);
/* The path without the query string, percent-decoded by libmicrohttpd. */
const char *sc_http_path(const struct sc_http_req *r);
/* A query argument (decoded; *len its bytes, may hold NUL), NULL if absent. */
const char *sc_http_query(struct sc_http_req *r, const char *name, size_t *len);
/* A request header (case-insensitive name), NULL if absent. */
const char *sc_http_header(struct sc_http_req *r, const char *name);
/* The body (NUL-terminated for convenience; len its bytes). */
const char *sc_http_body(const struct sc_http_req *r, size_t *len);
/* The client's address as "ip:port" for logs. */
const char *sc_http_peer(const struct sc_http_req *r);

/* Answer: status, content type (NULL = text/plain; charset=utf-8), body
 * (copied). Exactly once per request. Returns 0, or SC_ECLOSED when the
 * client or the server went away (the answer is dropped; the request is
 * freed all the same). */
int sc_http_respond(struct sc_http_req *r, unsigned status, const char *ctype, const char *body,
                    size_t len);
/* The same with a NUL-terminated body. */
int sc_http_respond_str(struct sc_http_req *r, unsigned status, const char *ctype,
                        const char *body);
/* Add a response header to the coming answer (e.g. "Allow", "WWW-Authenticate").
 * At most a few; copied. Returns 0 or SC_EBUSY. */
int sc_http_add_header(struct sc_http_req *r, const char *name, const char *value);

#endif
