/* http_body.h -- what the `http` handler sends and reads (handlers/http.c):
 * the MO as a form or JSON, and the backend's answer as a reply. Pure. */
#ifndef SC_HTTP_BODY_H
#define SC_HTTP_BODY_H

#include <stddef.h>

/* The MO's fields, all borrowed. caps: the route's regex groups (caps[0]
 * of the request, the whole match, is not sent), ncaps of them. */
struct sc_http_mo {
    const char *msisdn;
    const char *service;
    const char *text;
    const char *const *caps;
    size_t ncaps;
};

/* The largest body or query the handler builds; more fails the request. */
#define SC_HTTP_BODY_MAX 8192
/* The largest response body read: more is a backend failure. */
#define SC_HTTP_RESPONSE_MAX 16384

/* application/x-www-form-urlencoded: msisdn=..&service=..&text=..&cap1=..
 * (every byte but A-Z a-z 0-9 - . _ ~ percent-encoded, UTF-8 as bytes)
 * into out. Returns the length, or 0 when it does not fit in outsz. */
size_t sc_http_form(const struct sc_http_mo *mo, char *out, size_t outsz);

/* {"msisdn": .., "service": .., "text": .., "caps": [..]} (jansson: UTF-8
 * and control characters escaped) into out. Returns the length, or 0 when
 * it does not fit (or no memory). */
size_t sc_http_json(const struct sc_http_mo *mo, char *out, size_t outsz);

/* Read a response body as a reply: content type application/json (any
 * case, parameters allowed) -> an object whose "reply" is a string; else
 * (text/plain or none) the body as it is, its charset (if named) utf-8 or
 * us-ascii. Trailing white space (a line end) is cut. The reply must be
 * valid UTF-8 without control characters (C0 but LF, DEL, C1) and fit in
 * max_parts SMS with seg_mode (enum sc_seg_mode). "" is a valid reply (no
 * reply). Returns 0 with the NUL-terminated reply in out (outsz >=
 * SC_HTTP_RESPONSE_MAX + 1 holds any), or -1 with *why a word for logs:
 * bad_json, no_reply_field, bad_charset, bad_utf8, control_chars,
 * too_long. */
int sc_http_reply_parse(const char *content_type, const char *body, size_t len,
                        unsigned max_parts, int seg_mode, char *out, size_t outsz,
                        const char **why);

#endif
