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

/* GET /healthz (core/health.c). */
int sc__api_health_routes(struct sc_app *a);

#endif
