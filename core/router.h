/* router.h -- routes from the config, compiled: which handler answers which
 * normalised text sent to which service number, with its checked options and
 * the templates its handler renders.
 *
 * A router is built from one configuration (at start-up, by --check and on
 * every SIGHUP) and is immutable; requests keep the one they started with. */
#ifndef SC_ROUTER_H
#define SC_ROUTER_H

#include <regex.h>
#include <stddef.h>

#include "base/metrics.h"
#include "core/config.h"
#include "core/outcome.h"
#include "handlers/handler.h"
#include "text/template.h"

struct sc_route {
    const char *name;
    char **words;                 /* normalised (NFKC, trimmed, upper-case ASCII) */
    size_t nwords;
    regex_t re;
    int has_re;
    const char *service;          /* NULL: any service number */
    const struct sc_handler *handler;
    size_t handler_index;         /* in sc_handlers[] */
    void *opts;                   /* handler->options struct, or NULL */
    struct sc_counter *mo_total[SC_OUTCOME_COUNT]; /* its cells (core/metrics.c) */
    struct sc_histogram *mo_seconds;
};

struct sc_router;

/* Compile cfg's routes: resolve handler names, check options against each
 * handler's schema, compile every template a routed handler declares (and the
 * request layer's own) against its placeholders. cfg is borrowed and must
 * outlive the router. Returns NULL with "FILE:LINE:COL: message" in err. */
struct sc_router *sc_router_new(const struct sc_config *cfg, char *err, size_t errsz);
/* NULL is a no-op. */
void sc_router_free(struct sc_router *r);

/* The first route (in config order) whose service matches service (after
 * the prefix rule of sc_intake_service) and whose
 * words or regex match text; NULL when none does. caps receives the regex
 * captures (rm_so = -1 for unused ones). */
const struct sc_route *sc_router_match(const struct sc_router *r, const char *service,
                                       const char *text, regmatch_t *caps, size_t ncaps);

/* How many captures a match of rt gives: its regex's groups plus one (the
 * whole match), at most max; 0 for a route matched by words or the default. */
size_t sc_route_ncaps(const struct sc_route *rt, size_t max);

/* Copy the captures m[0..nm) of a match in text (m as sc_router_match filled
 * it, nm from sc_route_ncaps) into buf, each NUL-terminated, and point
 * caps[0..nm) at them. caps[0] is the whole match and contains the others,
 * so captures overlap in text but each gets its own copy. A group that took
 * no part in the match (rm_so == -1, e.g. "( )?" unused) is "". Never writes
 * past buf[bufsz - 1]; every caps[i] is a NUL-terminated string inside buf
 * (or "" when bufsz is 0). Returns the size all of them need (lengths plus
 * one NUL each): when that is more than bufsz, the captures were cut to fit
 * and the caller retries with a buffer of that size. Pure. */
size_t sc_router_caps(const char *text, const regmatch_t *m, size_t nm, char *buf, size_t bufsz,
                      const char **caps);

/* The compiled template named name, or NULL when it was not declared. */
const struct sc_tpl *sc_router_template(const struct sc_router *r, const char *name);

/* Things a configuration allows but that cannot work as written, found by
 * --check, at start-up and on SIGHUP (never errors: the file loads):
 *   - a match route none of whose words can reach it, because an earlier
 *     route for the same (or any) service number takes every one of them
 *     first: match words that contain all of its words, or a regex that
 *     matches each of them;
 *   - a template whose fixed text alone (every placeholder empty) does not
 *     fit in smpp.max_parts SMS with smpp.seg_mode: its replies are always
 *     cut with "...".
 * Each is one "FILE:LINE:COL: warning: message" line (no newline) passed to
 * warn, borrowed for the call. Returns how many there were. */
size_t sc_router_lint(const struct sc_router *r, void (*warn)(void *arg, const char *msg),
                      void *arg);


#endif
