/* callout.h -- the daemon's HTTP client: one libcurl multi handle driven by
 * the libuv loop (multi-socket API), owned by core/app.c and lent to
 * handlers in the request (req->callout; the call API is declared in
 * handlers/handler.h, as the request API is). */
#ifndef SC_CALLOUT_H
#define SC_CALLOUT_H

#include <stdint.h>
#include <uv.h>

#include "handlers/handler.h"

/* A client on loop; NULL without memory (or when libcurl cannot start).
 * Connections are kept alive and reused between calls (the multi handle's
 * connection cache, at most SC_CALLOUT_MAX_CONNS). */
struct sc_callout *sc_callout_new(uv_loop_t *loop);

/* Calls started and not yet ended. */
unsigned sc_callout_inflight(const struct sc_callout *c);

/* The loop time (uv_now) by which every call in flight has ended (each
 * has its own timeout), or 0 when none is in flight. */
uint64_t sc_callout_deadline(const struct sc_callout *c);

/* Stop: calls still in flight end now with SC_ECLOSED ("stopped"), then
 * every handle closes and done(arg) runs. New calls are refused
 * (SC_ESTATE) from here on. */
void sc_callout_stop(struct sc_callout *c, void (*done)(void *), void *arg);

/* After stop's done (or without a stop when nothing ever ran). NULL is a
 * no-op. */
void sc_callout_free(struct sc_callout *c);

#endif
