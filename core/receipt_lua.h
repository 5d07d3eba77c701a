/* receipt_lua.h -- the Lua that applies one part's delivery receipt to its
 * push, shared by the receipt script (core/receipts.c) and the push's sent
 * record (core/push_lua.c), which applies receipts parked before it. */
#ifndef SC_RECEIPT_LUA_H
#define SC_RECEIPT_LUA_H

#include "store/keys.h"

/* A parked receipt: the value of mt:msg:{MESSAGE_ID} before the sent record
 * maps it, "? STAT ERR" (core/receipts.c writes it, TTL mt.receipt_park_s). */
#define SC__RECEIPT_PARKED_PATTERN "'^%? (%u+) (%S+)$'"

/* sc_rcpt_apply(k, id, idx, n, stat, err, status_key, maxlen): the receipt
 * (stat, err) of part idx of the n parts of push id (its hash k) applied.
 * Returns {"same", id, state} (not `sent`, or this part seen), {"interim",
 * id} (ENROUTE, ACCEPTD, BUFFRED: nothing changed), {"part", id} (a part
 * delivered, others to come) or {"delivered"|"failed", id} (mt:{ID} and an
 * mt:status entry written, the stream capped ~ maxlen). */
#define SC__RECEIPT_APPLY_LUA                                                              \
    "local function sc_rcpt_apply(k, id, idx, n, stat, err, status, maxlen)\n"             \
    "  local h = redis.call('HMGET', k, 'state', 'to', 'parts')\n"                         \
    "  if h[1] ~= 'sent' then return {'same', id, h[1] or ''} end\n"                       \
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
    "  redis.call('HSET', k, 'state', state, 'err', err, 'at', at)\n"                      \
    "  redis.call('XADD', status, 'MAXLEN', '~', maxlen, '*', 'id', id, 'to', h[2] or '',\n" \
    "             'state', state, 'parts', h[3] or '', 'err', err, 'at', at)\n"             \
    "  return {state, id}\n"                                                               \
    "end\n"

#endif
