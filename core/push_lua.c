/* push_lua.c -- the push intake's Lua scripts (core/push_int.h), apart
 * from the C that runs them (core/push.c). */
#include "core/push_int.h"
#include "core/receipt_lua.h"

/* KEYS mt:{ID}; ARGV entry, to, kind, priority, ttl. {"send"} (recorded as
 * queued by this entry), {"dup"} (another entry's id), {"done", state}. */
const char sc__push_take_lua[] =
    "local ty = redis.call('TYPE', KEYS[1]).ok\n"
    "if ty ~= 'none' and ty ~= 'hash' then return {'bad_data'} end\n"
    "local h = redis.call('HMGET', KEYS[1], 'entry', 'state')\n"
    "if h[1] and h[1] ~= ARGV[1] then return {'dup'} end\n"
    "if h[1] and h[2] ~= 'queued' and h[2] ~= 'held' then return {'done', h[2]} end\n"
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "redis.call('HSET', KEYS[1], 'state', 'queued', 'to', ARGV[2], 'kind', ARGV[3],\n"
    "           'priority', ARGV[4], 'parts', '0', 'err', '', 'at', at, 'entry', ARGV[1])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
    "return {'send'}\n";

/* KEYS mt:{ID}, mt:status, the entry's stream, then mt:msg:{MESSAGE_ID}
 * of each part to map (sent, with receipts asked: core/receipts.c); ARGV
 * id, entry tag, state, to, kind, priority, parts, err, ttl, group, record
 * (1: write mt:{ID}), entry id, receipt_ttl, mt:status maxlen, then each
 * mapped part's index. A receipt that came before this record was parked
 * in its part's key (core/receipts.c): applied here, after the `sent`
 * entry, and taken off mt:receipts:unknown. {"ok"}, or {"dup"} when the id
 * belongs to another entry (only acknowledged). */
const char sc__push_finish_lua[] =
    SC__RECEIPT_APPLY_LUA
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local parked = {}\n"
    "if ARGV[11] == '1' then\n"
    "  local ty = redis.call('TYPE', KEYS[1]).ok\n"
    "  local e = ty == 'hash' and redis.call('HGET', KEYS[1], 'entry')\n"
    "  if ty ~= 'none' and (ty ~= 'hash' or (e and e ~= ARGV[2])) then\n"
    "    redis.call('XACK', KEYS[3], ARGV[10], ARGV[12])\n"
    "    return {'dup'}\n"
    "  end\n"
    "  redis.call('HSET', KEYS[1], 'state', ARGV[3], 'to', ARGV[4], 'kind', ARGV[5],\n"
    "             'priority', ARGV[6], 'parts', ARGV[7], 'err', ARGV[8], 'at', at,\n"
    "             'entry', ARGV[2])\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[9])\n"
    "  for i = 4, #KEYS do\n"
    "    local old = redis.call('SET', KEYS[i], ARGV[1] .. ' ' .. ARGV[11 + i] .. ' ' .. ARGV[7],\n"
    "                           'EX', ARGV[13], 'GET')\n"
    "    local stat, err\n"
    "    if old then stat, err = string.match(old, " SC__RECEIPT_PARKED_PATTERN ") end\n"
    "    if stat then parked[#parked + 1] = {ARGV[11 + i], stat, err} end\n"
    "  end\n"
    "end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[14], '*', 'id', ARGV[1], 'to', ARGV[4],\n"
    "           'state', ARGV[3], 'parts', ARGV[7], 'err', ARGV[8], 'at', at)\n"
    "for _, r in ipairs(parked) do\n"
    "  redis.call('DECR', '" SC_KEY_MT_RECEIPTS_UNKNOWN "')\n"
    "  sc_rcpt_apply(KEYS[1], ARGV[1], r[1], ARGV[7], r[2], r[3], KEYS[2], ARGV[14])\n"
    "end\n"
    "redis.call('XACK', KEYS[3], ARGV[10], ARGV[12])\n"
    "return {'ok'}\n";

/* KEYS mt:{ID}, mt:held:P, the entry's stream; ARGV tag, entry, group,
 * ttl, id, to, text, from, kind, priority, not_after, the tag prefix of
 * mt:held:P ("hP-"). The push moved to mt:held:P (made with its group
 * here, the first time: BUSYGROUP after that is ignored)
 * (its checked fields), recorded "held" there, the entry acknowledged, in
 * one script: {"held"}; or {"dup"} / {"done"} (acknowledged), {"bad_data"}. */
const char sc__push_hold_lua[] =
    "local ty = redis.call('TYPE', KEYS[1]).ok\n"
    "if ty ~= 'none' and ty ~= 'hash' then return {'bad_data'} end\n"
    "local h = redis.call('HMGET', KEYS[1], 'entry', 'state')\n"
    "if h[1] and (h[1] ~= ARGV[1] or (h[2] ~= 'queued' and h[2] ~= 'held')) then\n"
    "  redis.call('XACK', KEYS[3], ARGV[3], ARGV[2])\n"
    "  return {h[1] ~= ARGV[1] and 'dup' or 'done'}\n"
    "end\n"
    "local f = {'id', ARGV[5], 'to', ARGV[6], 'text', ARGV[7], 'kind', ARGV[9],\n"
    "           'priority', ARGV[10], 'quiet', '1'}\n"
    "if ARGV[8] ~= '' then f[#f + 1] = 'from'; f[#f + 1] = ARGV[8] end\n"
    "if ARGV[11] ~= '0' then f[#f + 1] = 'not_after'; f[#f + 1] = ARGV[11] end\n"
    "local nid = redis.call('XADD', KEYS[2], '*', unpack(f))\n"
    "redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[3], '0')\n"
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "redis.call('HSET', KEYS[1], 'state', 'held', 'to', ARGV[6], 'kind', ARGV[9],\n"
    "           'priority', ARGV[10], 'parts', '0', 'err', '', 'at', at, 'entry', ARGV[12] .. nid)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('XACK', KEYS[3], ARGV[3], ARGV[2])\n"
    "return {'held'}\n";
