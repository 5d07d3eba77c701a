/* usage_int.h -- internals shared by core/usage.c and core/usage_lua.c (and
 * the unit tests): the one script that applies a usage:in entry. */
#ifndef SC_USAGE_INT_H
#define SC_USAGE_INT_H

#include "core/reminders_conf.h"

/* The script for rc: the rules, thresholds and templates (rendered into
 * Lua strings with "\1N" where value N goes) as a Lua prelude, then the
 * body. KEYS acct:{M}, rem:{M}, remsent:{M}, audit:{M}, mt:push; ARGV msisdn (national), at, the usage:in entry id, then field,
 * value pairs (checked by sc_usage_check). Returns {"applied", fields set,
 * fields stale, push id...}, {"stale", 0, fields stale} (nothing newer:
 * nothing written) or {"bad_data", key} (a key of the wrong type: nothing
 * written). A malloc'd string, or NULL (memory, or a template that does not
 * compile: reminders_conf.c checked them). */
char *sc__usage_script(const struct sc_cfg_reminders *rc);

#endif
