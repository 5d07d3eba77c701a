/* relay.h -- the daemon's half of the outbox (handlers/emit_lua.h): on a
 * Redis Cluster, a script's writes of global keys wait in the outbox of
 * its own slot (out:{TAG}); the caller of the script hands the entries the
 * script returned to sc__relay, which runs each on its global key (XADD
 * with '*': consumers dedup by the entry's `id` field) and then XDELs them
 * from the outbox. Each entry runs once: a small script on the global
 * key's slot runs the command and then sets the entry's marker
 * (sc__relay_marker, ttl limits.relay_dedup_s), or only renews the marker
 * when it is there already, so two runs that return the same entry (two MOs of one
 * subscriber in flight, an MO and a sweep, two daemons) write it once; a
 * crash repeats it only after the marker's ttl. Whoever ran the script
 * acknowledges its input (the MO, the stream entry) only after done(0): a
 * daemon that dies before leaves the input unacknowledged, its next run
 * (the MO redelivered, the entry reclaimed) returns the entries still in
 * the outbox, and they are relayed then (docs/reliability.md "The
 * relay"). Internal to core/. */
#ifndef SC_CORE_RELAY_H
#define SC_CORE_RELAY_H

#include <stddef.h>

#include "handlers/emit_lua.h"

struct redisReply;
struct sc_store;

/* Relay entries (XRANGE's reply: [[id, [field, value, ...]], ...],
 * borrowed: read before this returns) of the outbox key outbox. done is
 * called exactly once, from the loop: err 0 once every entry was written
 * to its global key or found written by another run (its XDEL may have
 * failed: a later run returns it again, and its marker skips it), else
 * SC_E* (nothing is known of
 * the entries: they stay in the outbox). An entry that is not an outbox
 * entry is logged, left in the outbox, and skipped. Returns 0, or a
 * negative SC_E* (done not called). */
int sc__relay(struct sc_store *st, const char *outbox, const struct redisReply *entries,
              void (*done)(void *arg, int err), void *arg);

/* The marker of outbox entry id of outbox, for global key key (klen
 * bytes): relayed:{KEY}:OUTBOX:ID, on KEY's slot (a KEY with a hash tag of
 * its own keeps it: relayed:KEY:OUTBOX:ID). Returns its length, or
 * SC_EINVAL (it does not fit outsz, key is over SC_KEY_MAX or has a '}'
 * but no tag: no marker can share its slot). */
int sc__relay_marker(char *out, size_t outsz, const char *key, size_t klen, const char *outbox,
                     const char *id);

/* limits.relay_dedup_s: how long a marker lives (at start and on SIGHUP;
 * 3600 until set). */
void sc__relay_set_dedup(int seconds);

/* sc_store_eval for a script that is not an MO's (core/orders.c) but
 * keeps the same outbox rule: its Lua starts with SC_RELAY_LUA_OPEN(n) (n:
 * its own key count) and ends with SC_RELAY_LUA_CLOSE. On one server it is
 * sc_store_eval. On a cluster every key without a hash tag is replaced by
 * out:{tag} (tag: the script's, e.g. the MSISDN), which is also added as
 * the last key; the script's outbox entries are relayed before cb gets the
 * script's own reply (err SC_EIO, reply NULL, when the relay failed: the
 * entries stay for the next run). Same contract as sc_store_eval (keys
 * NUL-terminated; arglens NULL: args too). */
int sc__relay_eval(struct sc_store *st, int script, const char *tag, int nkeys,
                   const char *const *keys, int nargs, const char *const *args,
                   const size_t *arglens,
                   void (*cb)(void *ctx, int err, struct redisReply *reply), void *ctx);

/* The frame of such a script: OUTBOX, sc_emit, and its reply followed by
 * the outbox's entries on a cluster. The script's body returns a table. */
#define SC_RELAY_LUA_OPEN(nkeys)                                                           \
    "local OUTBOX = #KEYS > " #nkeys " and KEYS[#KEYS] or nil\n" SC_EMIT_LUA              \
    "local function sc_main()\n"
#define SC_RELAY_LUA_CLOSE                                                                 \
    "\nend\nlocal r = sc_main()\nif OUTBOX then r[#r + 1] = sc_outbox() end\nreturn r\n"

/* Make the relay's metric series (at 0) appear in /metrics, on one server
 * too (where they stay 0): called when the store becomes ready. */
void sc__relay_metrics(void);

/* A deep copy of a reply (freed with sc__reply_free), or NULL. */
struct redisReply *sc__reply_dup(const struct redisReply *r);
void sc__reply_free(struct redisReply *r);

#endif
