/* push_lua.c -- the push intake's Lua scripts (core/push_int.h), apart
 * from the C that runs them (core/push.c). */
#include "core/push_int.h"
#include "core/receipt_lua.h"

/* A batch of entries read together (core/push_send.c, at most
 * SC__PUSH_TAKE_MAX). KEYS mt:{ID} of each entry; ARGV ttl, then per entry
 * its tag, to, kind, priority. One reply per entry, in order: "send"
 * (recorded as queued by this entry), "dup" (another entry's id, an
 * earlier one of this batch included), "done" (already final),
 * "bad_data" (mt:{ID} is not a hash: the pcall's error), "redo" (final,
 * but its record on a cluster was not finished: mt:{ID}.pend, set by
 * push_crecord_lua; never on one server). A record without a state is
 * not final. */
const char sc__push_take_lua[] =
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local out = {}\n"
    "for i = 1, #KEYS do\n"
    "  local a, k = 4 * i - 2, KEYS[i]\n"
    "  local h = redis.pcall('HMGET', k, 'entry', 'state', 'pend')\n"
    "  if h.err then\n"
    "    out[i] = 'bad_data'\n"
    "  else\n"
    "    if h[1] and h[1] ~= ARGV[a] then\n"
    "      out[i] = 'dup'\n"
    "    elseif h[1] and h[2] and h[2] ~= 'queued' and h[2] ~= 'held' then\n"
    "      out[i] = h[3] and 'redo' or 'done'\n"
    "    else\n"
    "      redis.call('HSET', k, 'state', 'queued', 'to', ARGV[a + 1], 'kind', ARGV[a + 2],\n"
    "                 'priority', ARGV[a + 3], 'parts', '0', 'err', '', 'at', at,\n"
    "                 'entry', ARGV[a])\n"
    "      redis.call('EXPIRE', k, ARGV[1])\n"
    "      out[i] = 'send'\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

/* A batch of final records (core/push_send.c, at most SC__PUSH_REC_MAX).
 * KEYS mt:status, then per record: mt:{ID}, the entry's stream, then
 * mt:msg:{MESSAGE_ID} of each part to map (sent, with receipts asked:
 * core/receipts.c). ARGV group, ttl, receipt_ttl, mt:status maxlen
 * (XADD MAXLEN ~), then per record: id,
 * entry tag, state, to, kind, priority, parts, err, record (1: write
 * mt:{ID}), entry id, the number of mapped parts, then each mapped part's
 * index. Each record: mt:{ID} (unless its id is another entry's, or
 * mt:{ID} is not a hash: "dup", only acknowledged; the fields take wrote,
 * to, kind, priority and entry, are not written again), its mt:status
 * entry; a receipt that came before its record was parked in its part's
 * key (core/receipts.c): applied after the record's `sent` entry and taken
 * off mt:receipts:unknown; the entries acknowledged with
 * one XACK per stream at the end. One reply per record, in order: "ok" or
 * "dup". */
const char sc__push_finish_lua[] =
    SC__RECEIPT_APPLY_LUA
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "local out, streams, acks = {}, {}, {}\n"
    "local k, a = 2, 5\n"
    "while a <= #ARGV do\n"
    "  local id, tag, st, to, kind, prio, parts, err, rec, entry, nmap =\n"
    "    unpack(ARGV, a, a + 10)\n"
    "  nmap = tonumber(nmap)\n"
    "  local key, stream, r, parked = KEYS[k], KEYS[k + 1], 'ok', {}\n"
    "  if rec == '1' then\n"
    "    local e = redis.pcall('HGET', key, 'entry')\n"
    "    if type(e) == 'table' or (e and e ~= tag) then\n"
    "      r = 'dup'\n"
    "    elseif e then\n"
    "      redis.call('HSET', key, 'state', st, 'parts', parts, 'err', err, 'at', at)\n"
    "    else\n"
    "      redis.call('HSET', key, 'state', st, 'to', to, 'kind', kind, 'priority', prio,\n"
    "                 'parts', parts, 'err', err, 'at', at, 'entry', tag)\n"
    "    end\n"
    "    if r == 'ok' then\n"
    "      redis.call('EXPIRE', key, ARGV[2])\n"
    "      for i = 1, nmap do\n"
    "        local old = redis.call('SET', KEYS[k + 1 + i],\n"
    "                               id .. ' ' .. ARGV[a + 10 + i] .. ' ' .. parts, 'EX', ARGV[3], 'GET')\n"
    "        local pst, perr\n"
    "        if old then pst, perr = string.match(old, " SC__RECEIPT_PARKED_PATTERN ") end\n"
    "        if pst then parked[#parked + 1] = {ARGV[a + 10 + i], pst, perr} end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if r == 'ok' then\n"
    "    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'id', id, 'to', to,\n"
    "               'state', st, 'parts', parts, 'err', err, 'at', at)\n"
    "    for _, pr in ipairs(parked) do\n"
    "      redis.call('DECR', '" SC_KEY_MT_RECEIPTS_UNKNOWN "')\n"
    "      sc_rcpt_apply(key, id, pr[1], parts, pr[2], pr[3], KEYS[1], ARGV[4])\n"
    "    end\n"
    "  end\n"
    "  if not acks[stream] then acks[stream] = {}; streams[#streams + 1] = stream end\n"
    "  local l = acks[stream]\n"
    "  l[#l + 1] = entry\n"
    "  out[#out + 1] = r\n"
    "  k, a = k + 2 + nmap, a + 11 + nmap\n"
    "end\n"
    "for _, s in ipairs(streams) do redis.call('XACK', s, ARGV[1], unpack(acks[s])) end\n"
    "return out\n";

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

/* ---- on a Redis Cluster (core/push_cluster.c): mt:{ID}'s slot only ---- */

/* KEYS mt:{ID}; ARGV ttl, entry tag, state, to, kind, priority, parts, err,
 * maps ("INDEX:MESSAGE_ID ..." of the parts to map, or ""). {"dup"} (the
 * id is another entry's, or mt:{ID} is not a hash); {"ok", at, pend,
 * state, parts, err, maps}: what is recorded, written now with pend = "1"
 * (its mt:status entry still to write) or, when this entry's record was
 * already written (a retry, or a take's "redo"), as it stands (pend "1"
 * or "0"; a record without a state is not final: written now). */
const char sc__push_crecord_lua[] =
    "local h = redis.pcall('HMGET', KEYS[1], 'entry', 'state', 'pend', 'at', 'parts', 'err',\n"
    "                      'maps')\n"
    "if h.err or (h[1] and h[1] ~= ARGV[2]) then return {'dup'} end\n"
    "if h[1] and h[2] and h[2] ~= 'queued' and h[2] ~= 'held' then\n"
    "  return {'ok', h[4] or '', h[3] or '0', h[2], h[5] or '0', h[6] or '', h[7] or ''}\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "redis.call('HSET', KEYS[1], 'state', ARGV[3], 'to', ARGV[4], 'kind', ARGV[5],\n"
    "           'priority', ARGV[6], 'parts', ARGV[7], 'err', ARGV[8], 'at', at,\n"
    "           'entry', ARGV[2], 'pend', '1', 'maps', ARGV[9])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "return {'ok', at, '1', ARGV[3], ARGV[7], ARGV[8], ARGV[9]}\n";

/* KEYS mt:msg:{MESSAGE_ID}; ARGV "ID INDEX PARTS", ttl. The map written; a
 * receipt parked there ("? STAT ERR") is kept after it (" STAT ERR") and
 * returned: {stat, err, first} (first "1" the time it was parked, "0" when
 * the map already had it), else {}. */
const char sc__push_cmap_lua[] =
    "local old = redis.call('GET', KEYS[1])\n"
    "local v, st, er, first = ARGV[1], nil, nil, '0'\n"
    "if old then\n"
    "  st, er = string.match(old, " SC__RECEIPT_PARKED_PATTERN ")\n"
    "  if st then first = '1'\n"
    "  elseif string.sub(old, 1, #v + 1) == v .. ' ' then\n"
    "    st, er = string.match(old, '^%S+ %d+ %d+ (%u+) (%S+)$')\n"
    "  end\n"
    "end\n"
    "if st then v = v .. ' ' .. st .. ' ' .. er end\n"
    "redis.call('SET', KEYS[1], v, 'EX', ARGV[2])\n"
    "if st then return {st, er, first} end\n"
    "return {}\n";

/* KEYS mt:{ID}; ARGV entry tag, ttl, to, kind, priority, the held entry's
 * tag ("hP-" + its id in mt:held:P, already written; the entry is
 * acknowledged after this). Recorded "held": {"held"}; or {"dup"} /
 * {"done"} (the held entry is not ours to keep), {"redo"} (this entry's
 * record was left half done, pend set: finished, not held), {"bad_data"}.
 * A record without a state is not final. */
const char sc__push_chold_lua[] =
    "local ty = redis.call('TYPE', KEYS[1]).ok\n"
    "if ty ~= 'none' and ty ~= 'hash' then return {'bad_data'} end\n"
    "local h = redis.call('HMGET', KEYS[1], 'entry', 'state', 'pend')\n"
    "if h[1] and h[1] == ARGV[1] and h[3] then return {'redo'} end\n"
    "if h[1] and (h[1] ~= ARGV[1] or (h[2] and h[2] ~= 'queued' and h[2] ~= 'held')) then\n"
    "  return {h[1] ~= ARGV[1] and 'dup' or 'done'}\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local at = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "redis.call('HSET', KEYS[1], 'state', 'held', 'to', ARGV[3], 'kind', ARGV[4],\n"
    "           'priority', ARGV[5], 'parts', '0', 'err', '', 'at', at, 'entry', ARGV[6])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "return {'held'}\n";
