/* metrics.h -- the daemon's own metrics (docs/operations.md "Metrics"): the
 * families core/ counts into (MOs by route and outcome and their duration,
 * pushes by kind and state, receipts by stat, long MO parts, Redis), the
 * cells of a route, and the collectors of the process and build figures.
 * Counting goes into the process-wide registry (base/metrics.h); smsc/ and
 * store/ count their own (smsc/smsc_metrics.c, the store's latency cell). */
#ifndef SC_CORE_METRICS_H
#define SC_CORE_METRICS_H

#include <stdint.h>

#include "base/metrics.h"
#include "core/outcome.h"

struct sc_app;
struct sc_http;
struct sc_route;

/* Resolve a route's cells (its mo_total by outcome, its duration
 * histogram): when the router is built, never per MO. */
void sc__metrics_route(struct sc_route *rt);

/* One MO's outcome: o on route rt (NULL: none matched) after ns
 * nanoseconds. A few adds on the route's cells. */
void sc__metrics_mo(const struct sc_route *rt, enum sc_outcome o, uint64_t ns);

/* A push's final state (core/push.c): kind as the entry gave it ("invalid"
 * when it is not a-z and _, 1..16 bytes). Looks its cell up: once per push. */
void sc__metrics_push(const char *kind, const char *state);

/* A receipt's stat word as an index for sc__metrics_receipt (the SMPP
 * words, else "other"); SC__RECEIPT_UNKNOWN_ID: its message_id matched no
 * push. */
int sc__metrics_receipt_stat(const char *stat);
#define SC__RECEIPT_UNKNOWN_ID 0
void sc__metrics_receipt(int stat);

/* A long MO part's outcome (core/longmo.c: stored, already_done,
 * long_mo_refused, temporary_error, complete). */
void sc__metrics_long_mo_part(const char *outcome);

/* The main Redis connection's command latency histogram (its store's
 * opts.latency) and its state. */
struct sc_histogram *sc__metrics_redis_latency(void);
void sc__metrics_redis_up(int up);

/* Resolve the daemon's families and add the collector of the process, the
 * build and a's intake counters; stop removes it. */
void sc__metrics_start(struct sc_app *a);
void sc__metrics_stop(struct sc_app *a);

/* GET /metrics on http (core/metrics_http.c): 0 or sc_http_route's error. */
int sc__metrics_routes(struct sc_http *http);

#endif
