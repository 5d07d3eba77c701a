/* usage_int.h -- internals shared by core/usage.c and core/usage_lua.c (and
 * the unit tests): the one script that applies a usage:in entry. */
#ifndef SC_USAGE_INT_H
#define SC_USAGE_INT_H

#include "core/reminders_conf.h"

/* The script for rc: the rules, thresholds and templates (rendered into
 * Lua strings with "\1N" where value N goes) as a Lua prelude, then the
 * body, run for each of N entries in order. KEYS mt:push, then per entry
 * acct:{M}, rem:{M}, remsent:{M}, audit:{M} (M, the national MSISDN, is
 * read from acct:{M}); ARGV the entries' field counts as one string of
 * digits (one per entry: N is its length), then per entry at, the
 * usage:in entry id, then nf field, value pairs (checked by
 * sc_usage_check). Returns one result per entry, in order: an integer,
 * the fields set (the others were stale; 0: nothing newer, nothing
 * written), when it queued no reminder; {"applied", fields set, fields
 * stale, push id...} when it did; {"bad_data", key} (a stream of the
 * wrong type: nothing written) or
 * {"error", message} (its pcall failed, e.g. WRONGTYPE: acct:{M} is not a
 * hash; nothing of it written after the error). A malloc'd string, or NULL
 * (memory, or a template that does not compile: reminders_conf.c checked
 * them). */
char *sc__usage_script(const struct sc_cfg_reminders *rc);

#endif
