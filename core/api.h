/* api.h -- the daemon's HTTP routes on core/http.h's server: GET /healthz
 * (core/health.c), the /v1 API (core/api_v1.c) and Kannel's
 * /cgi-bin/sendsms (core/sendsms.c). Other files add their own routes to
 * a->http with sc_http_route once sc_api_start returned (a->http is NULL
 * when http.listen is empty). Owned by core/app.c. */
#ifndef SC_API_H
#define SC_API_H

#include <stddef.h>

struct sc_app;

/* With http.listen set: listen (a->http) and add the routes; a warning
 * when http.token is empty (every /v1 call is then 401). Returns 0 (also
 * when HTTP is off), or SC_E* with err (cannot listen, memory). */
int sc_api_start(struct sc_app *a, char *err, size_t errsz);

/* The route groups: GET /healthz (core/health.c), /v1 (core/api_v1.c),
 * /cgi-bin/sendsms (core/sendsms.c). 0 or SC_E*. */
int sc__api_health_routes(struct sc_app *a);
int sc__api_v1_routes(struct sc_app *a);
int sc__api_sendsms_routes(struct sc_app *a);

/* ---- shared by the routes (core/api.c) ---- */
struct sc_http_req;
typedef struct json_t json_t;

/* Equal bytes, in a time that depends on b's length only (b: the secret). */
int sc__api_ct_equal(const char *a, size_t an, const char *b, size_t bn);
/* Answer {"error": error, "field": field} (field NULL: left out). Returns -1. */
int sc__api_error(struct sc_http_req *req, unsigned status, const char *error,
                  const char *field);
/* Answer obj as JSON (borrowed). */
void sc__api_json(struct sc_http_req *req, unsigned status, json_t *obj);
/* 1 when the request has "Authorization: Bearer http.token"; else 0 with
 * 401 answered (also when http.token is empty). The token is never logged. */
int sc__api_authorized(struct sc_app *a, struct sc_http_req *req);
/* XADD stream * f[0] v[0] ... (n fields, values binary-safe) and answer:
 * 202 {"id": id, "entry": ...} once Redis added it, 503 when it cannot;
 * with kannel, Kannel's texts (SC_KANNEL_*) instead. */
void sc__api_xadd(struct sc_app *a, struct sc_http_req *req, int kannel, const char *stream,
                  const char *id, const char *const *f, const char *const *v,
                  const size_t *vlen, size_t n);
/* A unique push id for an entry without one: http-MS-PID-N (< 64 bytes). */
void sc__api_make_id(char *out, size_t outsz);

/* Kannel's sendsms answers (its smsbox's texts), as its clients parse them. */
#define SC_KANNEL_ACCEPTED "0: Accepted for delivery"
#define SC_KANNEL_TEMPFAIL "Temporal failure, try again later."

/* An authorized request's body as a JSON object (new reference), or NULL
 * with 401 / 400 {"error": "bad_json"} answered. */
json_t *sc__api_body(struct sc_app *a, struct sc_http_req *req);

#endif
