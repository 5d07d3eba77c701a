/* receipt_lua.h -- the Lua that applies one part's delivery receipt to its
 * push, shared by the receipt script (core/receipts.c) and the push's sent
 * record (core/push_lua.c), which applies receipts parked before it. */
#ifndef SC_RECEIPT_LUA_H
#define SC_RECEIPT_LUA_H

#include "store/keys.h"

/* A parked receipt: the value of mt:msg:{MESSAGE_ID} before the sent record
 * maps it, "? STAT ERR" (core/receipts.c writes it, TTL mt.receipt_park_s). */
#define SC__RECEIPT_PARKED_PATTERN "'^%? (%u+) (%S+)$'"

/* A map's value: "ID INDEX PARTS", on a cluster followed by " STAT ERR"
 * when a parked receipt was found (kept, so a record resumed after a
 * crash applies it again: core/push_cluster.c). */
#define SC__RECEIPT_MAP_PATTERN "'^(%S+) (%d+) (%d+)'"

/* The receipt's map looked up (KEYS[1] mt:msg:{MID}; ARGV[1] stat, ARGV[2]
 * err, ARGV[3] park ttl): id, idx, n set, or, with no map yet, parked and
 * `unknown` (Lua code run before returning {'parked'}). */
#define SC__RECEIPT_LOOKUP_LUA(unknown)                                                    \
    "local v = redis.call('GET', KEYS[1])\n"                                               \
    "local id, idx, n\n"                                                                   \
    "if v then id, idx, n = string.match(v, " SC__RECEIPT_MAP_PATTERN ") end\n"             \
    "if not id then\n"                                                                     \
    "  local interim = ARGV[1] == 'ENROUTE' or ARGV[1] == 'ACCEPTD' or ARGV[1] == 'BUFFRED'\n" \
    "  if not interim and (not v or string.match(v, " SC__RECEIPT_PARKED_PATTERN ")) then\n" \
    "    redis.call('SET', KEYS[1], '? ' .. ARGV[1] .. ' ' .. ARGV[2], 'EX', ARGV[3])\n"     \
    "  end\n"                                                                              \
    unknown                                                                                \
    "  return {'parked'}\n"                                                                \
    "end\n"

/* sc_rcpt_apply(k, id, idx, n, stat, err, status_key, maxlen): the receipt
 * (stat, err) of part idx of the n parts of push id (its hash k) applied.
 * Returns {"same", id, state} (not `sent`, or this part seen), {"interim",
 * id} (ENROUTE, ACCEPTD, BUFFRED: nothing changed), {"part", id} (a part
 * delivered, others to come) or {"delivered"|"failed", id} (mt:{ID} and an
 * mt:status entry written, the stream capped ~ maxlen).
 * On a cluster status_key is false: no mt:status entry here (another
 * slot); the final reply is {state, id, to, parts, err, at}, the entry for
 * the daemon to write, and mt:{ID}.fin keeps the part that made it final:
 * that part's receipt again (the SMSC repeats one the daemon did not
 * answer: it died before writing the entry) gives the same reply again. */
#define SC__RECEIPT_APPLY_LUA                                                              \
    "local function sc_rcpt_apply(k, id, idx, n, stat, err, status, maxlen)\n"             \
    "  local h = redis.call('HMGET', k, 'state', 'to', 'parts', 'fin', 'err', 'at')\n"     \
    "  if h[1] ~= 'sent' then\n"                                                           \
    "    if not status and h[4] == idx then\n"                                             \
    "      return {h[1] or '', id, h[2] or '', h[3] or '', h[5] or '', h[6] or ''}\n"       \
    "    end\n"                                                                            \
    "    return {'same', id, h[1] or ''}\n"                                                \
    "  end\n"                                                                              \
    "  if stat == 'ENROUTE' or stat == 'ACCEPTD' or stat == 'BUFFRED' then\n"              \
    "    return {'interim', id}\n"                                                         \
    "  end\n"                                                                              \
    "  if redis.call('HSETNX', k, 'r' .. idx, stat) == 0 then return {'same', id, h[1]} end\n" \
    "  local state = 'failed'\n"                                                           \
    "  if stat == 'DELIVRD' then\n"                                                        \
    "    if redis.call('HINCRBY', k, 'delivered', 1) < tonumber(n) then\n"                 \
    "      return {'part', id}\n"                                                          \
    "    end\n"                                                                            \
    "    state, err = 'delivered', ''\n"                                                   \
    "  end\n"                                                                              \
    "  local t = redis.call('TIME')\n"                                                     \
    "  local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"      \
    "  if not status then\n"                                                               \
    "    redis.call('HSET', k, 'state', state, 'err', err, 'at', at, 'fin', idx)\n"         \
    "    return {state, id, h[2] or '', h[3] or '', err, at}\n"                            \
    "  end\n"                                                                              \
    "  redis.call('HSET', k, 'state', state, 'err', err, 'at', at)\n"                      \
    "  redis.call('XADD', status, 'MAXLEN', '~', maxlen, '*', 'id', id, 'to', h[2] or '',\n" \
    "             'state', state, 'parts', h[3] or '', 'err', err, 'at', at)\n"             \
    "  return {state, id}\n"                                                               \
    "end\n"

#endif
