/* request.h -- the request layer inside core/: what app.c and router.c
 * take from request.c besides the handler-facing API (handlers/handler.h)
 * and sc__req_start (core/app.h). */
#ifndef SC_REQUEST_H
#define SC_REQUEST_H

#include "handlers/handler.h"

/* The Lua every handler script is registered behind (rate limit, pending
 * dialogue, key type checks, K[] / A[]); see request.c. NUL-terminated. */
extern const char sc__lua_prelude[];

/* A script to register for a handler (body: its script, or NULL for one
 * without; lib: its script_lib, or NULL): the prelude, the library, then the
 * body as a function whose table gets the status word "ok" in front. Owned
 * by the caller (free), NULL without memory. */
char *sc__req_script(const char *lib, const char *body);

/* Templates the request layer renders itself (rate_limited, service_error);
 * ends with {NULL, NULL, 0}. */
extern const struct sc_tpl_decl sc_request_templates[];

#endif
