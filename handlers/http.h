/* http.h -- what the daemon calls in the `http` handler (handlers/http.c)
 * besides the handler contract. */
#ifndef SC_HANDLERS_HTTP_H
#define SC_HANDLERS_HTTP_H

/* Add the handler's metric families (shortcoded_callout_*) to the global
 * registry, so that /metrics lists them before any http route ran (their
 * series come with each route's first MO). Idempotent. */
void sc_http_handler_metrics(void);

#endif
