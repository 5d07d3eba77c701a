/* emit_lua.h -- sc_emit, the one Lua helper through which every script
 * writes a global key (vas:events, mt:status, vas:orders:due, ...) from a
 * script whose keys live on another slot (docs/scaling.md "The relay").
 *
 * The script defines OUTBOX before this text: nil on one Redis server, where
 * sc_emit writes the global key itself, in the same script, exactly once (as
 * the key is declared in KEYS there); on a Redis Cluster the outbox key of
 * the script's own slot (out:{TAG}, a STREAM), where sc_emit appends one
 * outbox entry instead: fields c (the command), k (the global key), n (how
 * many arguments), then the arguments as a1 .. an. The daemon relays each
 * entry (core/relay.c: the command on the global key, an XADD with '*') and
 * once (a marker on the global key's slot skips an entry another run
 * wrote) and then XDELs it; a crash in between never loses the entry, and
 * repeats it (with the same `id` field) only after limits.relay_dedup_s. */
#ifndef SC_EMIT_LUA_H
#define SC_EMIT_LUA_H

/* Outbox entries a script returns (the oldest first) for the daemon to
 * relay; more wait for the next run of a script on that slot. */
#define SC_OUTBOX_BATCH 64
#define SC_EMIT_STR_(x) #x
#define SC_EMIT_STR(x) SC_EMIT_STR_(x)

/* sc_emit(stream, field, value, ...): XADD stream * field value ...
 * sc_emit_cmd(cmd, key, arg...): cmd key arg... (ZADD, ZREM).
 * sc_outbox(): the outbox's entries to relay, {} on one server. */
#define SC_EMIT_LUA                                                                        \
    "local function sc_emit_cmd(cmd, key, ...)\n"                                          \
    "  if not OUTBOX then return redis.call(cmd, key, ...) end\n"                          \
    "  local a, f = {...}, {'c', cmd, 'k', key, 'n', tostring(select('#', ...))}\n"        \
    "  for i = 1, #a do f[#f + 1] = 'a' .. i; f[#f + 1] = a[i] end\n"                      \
    "  return redis.call('XADD', OUTBOX, '*', unpack(f))\n"                                \
    "end\n"                                                                                \
    "local function sc_emit(stream, ...)\n"                                                \
    "  if not OUTBOX then return redis.call('XADD', stream, '*', ...) end\n"               \
    "  return sc_emit_cmd('XADD', stream, ...)\n"                                          \
    "end\n"                                                                                \
    "local function sc_outbox()\n"                                                         \
    "  if not OUTBOX then return {} end\n"                                                 \
    "  return redis.call('XRANGE', OUTBOX, '-', '+', 'COUNT', "                            \
    SC_EMIT_STR(SC_OUTBOX_BATCH) ")\n"                                                     \
    "end\n"

#endif
