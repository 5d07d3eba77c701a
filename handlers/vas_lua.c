/* vas_lua.c -- the Lua scripts of the VAS handlers (handlers/vas_int.h),
 * one per command; each runs after the request layer's prelude, which has
 * checked every key's type (key_types) before the first write. */
#include "handlers/vas_int.h"

#include "store/keys.h"

/* The cancelling scripts are longer than the 4095 bytes C99 promises a
 * string literal may have; GCC and Clang take any length, Redis too. */
#pragma GCC diagnostic ignored "-Woverlength-strings"

#define VAS_STR_(x) #x
#define VAS_STR(x) VAS_STR_(x)   /* a number for a Lua script */

/* A code the VAS handlers can put in a menu or a pending list: not empty
 * and without the "," that joins them. */
#define VAS_LUA_LISTABLE                                                                   \
    "local function listable(code)\n"                                                      \
    "  return code ~= '' and not string.find(code, ',', 1, true)\n"                        \
    "end\n"

/* Cancelling, shared by the scripts that cancel. Keys: K[1] sub:{M}:vas,
 * K[2] vas:events, K[3] audit:{M}, K[4] gone:{M}, K[5] sub:{M}:conf; A[1]
 * the msisdn, A[2] the redelivery horizon (s), A[3] "1" when cancelling an
 * unconfirmed service files a refund, A[4] the month starts (unix s, local
 * time, newest first, limits.refund_max_months - 1 of them: vas_text.c).
 * Each script sets price_of(code) (fee per month in fen, or nil) before it
 * cancels. vas_cancel(code) is true when this run removed the code, with
 * the refund it filed (amount in fen, months; "" "" for none, amount ""
 * when the fee is unknown); gone_at(code) is when it was cancelled here
 * (unix s, a string) within the horizon, or nil, and that refund;
 * gone_tidy() prunes gone:{M} after a write.
 * Months charged: the calendar months (in the daemon's time zone) from the
 * one the subscription started in to the current one, both counted: 1 +
 * the month starts after since and not after now, so at most
 * refund_max_months. A start that is not a number counts as this month. */
#define VAS_LUA_CANCEL                                                                     \
    "local SUB, EVENTS, AUDIT, GONE, CONF = K[1], K[2], K[3], K[4], K[5]\n"                \
    "local MSISDN, HORIZON, NOW = A[1], tonumber(A[2]), tonumber(now_s)\n"                 \
    "local REFUND, MONTH_STARTS = A[3] == '1', A[4]\n"                                     \
    "local AUDIT_KEEP_DAYS, MS_PER_DAY = 186, 86400000 -- audit:{M}: about six months\n"   \
    "local AUDIT_MINID =\n"                                                                \
    "  string.format('%.0f', tonumber(now_ms) - AUDIT_KEEP_DAYS * MS_PER_DAY)\n"           \
    "local cancelled = 0\n"                                                                \
    "local price_of\n"                                                                     \
    "local function fen(v) -- a fee as the catalogue stores it, or nil\n"                  \
    "  if type(v) ~= 'string' or not string.match(v, '^%d+$') or #v > 12 then return nil end\n" \
    "  return tonumber(v)\n"                                                               \
    "end\n"                                                                                \
    "local function months_charged(since)\n"                                               \
    "  local s, m = tonumber(since), 1\n"                                                  \
    "  if not s then return m end\n"                                                       \
    "  for b in string.gmatch(MONTH_STARTS, '%d+') do\n"                                   \
    "    b = tonumber(b)\n"                                                                \
    "    if s < b and b <= NOW then m = m + 1 end\n"                                       \
    "  end\n"                                                                              \
    "  return m\n"                                                                         \
    "end\n"                                                                                \
    "local function refund(code, since)\n"                                                 \
    "  local months = months_charged(since)\n"                                             \
    "  local p = price_of(code)\n"                                                         \
    "  local amount = p and string.format('%.0f', 2 * p * months) or ''\n"                 \
    "  months = tostring(months)\n"                                                        \
    "  local f = {'service', code, 'channel', 'sms', 'at', now_ms,\n"                      \
    "             'id', MSISDN .. ':' .. code .. ':' .. since .. ':refund_request',\n"     \
    "             'amount_fen', amount, 'months', months, 'reason', 'no_confirmation'}\n"  \
    "  sc_emit('" SC_KEY_EVENTS "', 'event', 'refund_request', 'msisdn', MSISDN,\n"       \
    "          unpack(f))\n"                                                              \
    "  redis.call('XADD', AUDIT, 'MINID', '~', AUDIT_MINID, '*', 'event', 'refund_request',\n" \
    "             unpack(f))\n"                                                           \
    "  return amount, months\n"                                                            \
    "end\n"                                                                                \
    "local function vas_cancel(code)\n"                                                    \
    "  local since = redis.call('HGET', SUB, code)\n"                                      \
    "  if not since then return false end\n"                                               \
    "  local id = MSISDN .. ':' .. code .. ':' .. since .. ':unsubscribe'\n"               \
    "  sc_emit('" SC_KEY_EVENTS "', 'event', 'unsubscribe', 'msisdn', MSISDN,\n"          \
    "          'service', code, 'channel', 'sms', 'at', now_ms, 'id', id)\n"               \
    "  redis.call('XADD', AUDIT, 'MINID', '~', AUDIT_MINID, '*', 'event', 'unsubscribe',\n"\
    "             'service', code, 'channel', 'sms', 'at', now_ms, 'id', id)\n"            \
    "  local rec, amount, months = now_s .. ':sms', '', ''\n"                              \
    "  if REFUND and redis.call('HEXISTS', CONF, code) == 0 then\n"                        \
    "    amount, months = refund(code, since)\n"                                           \
    "    rec = rec .. ':' .. amount .. ':' .. months\n"                                    \
    "  end\n"                                                                              \
    "  redis.call('HSET', GONE, code, rec)\n"                                              \
    "  redis.call('HDEL', SUB, code)\n"                                                    \
    "  redis.call('HDEL', CONF, code)\n"                                                   \
    "  cancelled = cancelled + 1\n"                                                        \
    "  return true, amount, months\n"                                                      \
    "end\n"                                                                                \
    "local function gone_at(code)\n"                                                       \
    "  local v = redis.call('HGET', GONE, code)\n"                                         \
    "  local t = v and string.match(v, '^(%d+)')\n"                                        \
    "  if not t or tonumber(t) <= NOW - HORIZON then return nil end\n"                     \
    "  local amount, months = string.match(v, '^%d+:[^:]*:(%d*):(%d+)$')\n"                \
    "  return t, amount or '', months or ''\n"                                             \
    "end\n"                                                                                \
    "local function gone_tidy()\n"                                                         \
    "  if cancelled == 0 then return end\n"                                                \
    "  local g = redis.call('HGETALL', GONE)\n"                                            \
    "  for i = 1, #g, 2 do\n"                                                              \
    "    local t = tonumber(string.match(g[i + 1], '^(%d+)'))\n"                           \
    "    if not t or t <= NOW - HORIZON then redis.call('HDEL', GONE, g[i]) end\n"         \
    "  end\n"                                                                              \
    "  redis.call('EXPIRE', GONE, HORIZON)\n"                                              \
    "end\n"

/* For the scripts that learn their codes from Redis (items, "Y"): the fee
 * of a code read from K[6], the catalogue's key prefix vas:svc: (the
 * handler cannot know the codes, so it cannot pass their fees); on a Redis
 * Cluster, where vas:svc:CODE is on another slot, from A[i], the daemon's
 * catalogue as sc_catalogue_prices gives it. */
#define VAS_LUA_PRICE_FROM_CATALOGUE(i)                                                    \
    "local SVC, PRICES = K[6], A[" #i "]\n"                                                \
    "price_of = function(code)\n"                                                          \
    "  if not OUTBOX then return fen(redis.call('HGET', SVC .. code, 'price_fen')) end\n"  \
    "  local s = string.find(PRICES, ',' .. code .. '=', 1, true)\n"                       \
    "  return s and fen(string.match(PRICES, '^(%d+),', s + #code + 2))\n"                \
    "end\n"

/* K[1] sub:{M}:vas, K[2] items:{M}; A[1] max items, A[2] menu ttl (s),
 * A[3] redelivery horizon (s).
 * Numbering: a subscribed code keeps its number; new codes (oldest
 * subscription first, a start time that is not a number last, then by code)
 * take the lowest free number; a binding whose code is gone is freed
 * menu_ttl + horizon after it was last listed. At most A[1] are listed: the
 * numbered ones first, in number order; when all 99 numbers are bound, a new
 * code is listed without one (number "0").
 * Returns {listed count, code, number, ... (listed, in order), codes not
 * listed...}. */
const char sc__vas_list_lua[] =
    VAS_LUA_LISTABLE
    "local SUB, ITEMS = K[1], K[2]\n"
    "local MAX, KEEP = tonumber(A[1]), tonumber(A[2]) + tonumber(A[3])\n"
    "local NOW = tonumber(now_s)\n"
    "local MAX_ITEM = " VAS_STR(VAS_MAX_ITEM) "\n"
    "local UNNUMBERED = 1000 -- sorts a code listed without a number after the others\n"
    "local T = string.byte('t') -- tN fields: when item N was last listed\n"
    "local h = redis.call('HGETALL', SUB)\n"
    "local subs, subscribed = {}, {}\n"
    "for i = 1, #h, 2 do\n"
    "  if listable(h[i]) then\n"
    "    local t = tonumber(h[i + 1])\n"
    "    if t and (t ~= t or t == math.huge or t == -math.huge) then t = nil end\n"
    "    subs[#subs + 1] = {h[i], t}\n"
    "    subscribed[h[i]] = true\n"
    "  end\n"
    "end\n"
    "table.sort(subs, function(a, b)\n"
    "  if a[2] ~= b[2] then\n"
    "    if a[2] == nil then return false end\n"
    "    if b[2] == nil then return true end\n"
    "    return a[2] < b[2]\n"
    "  end\n"
    "  return a[1] < b[1]\n"
    "end)\n"
    "local m = redis.call('HGETALL', ITEMS)\n"
    "local code_of, shown, num_of, bound = {}, {}, {}, {}\n"
    "for i = 1, #m, 2 do\n"
    "  local f = m[i]\n"
    "  if string.byte(f) == T then\n"
    "    local n = tonumber(string.match(f, '^t([1-9]%d?)$'))\n"
    "    if n then shown[n] = tonumber(m[i + 1]) or 0 end\n"
    "  else\n"
    "    local n = tonumber(string.match(f, '^([1-9]%d?)$'))\n"
    "    if n then code_of[n] = m[i + 1]; bound[#bound + 1] = n end\n"
    "  end\n"
    "end\n"
    "table.sort(bound)\n"
    "local listed = {}\n"
    "for _, n in ipairs(bound) do\n"
    "  local c = code_of[n]\n"
    "  if num_of[c] or not listable(c) or\n"
    "     (not subscribed[c] and (shown[n] or 0) + KEEP <= NOW) then\n"
    "    redis.call('HDEL', ITEMS, tostring(n), 't' .. n)\n"
    "    code_of[n] = nil\n"
    "  else\n"
    "    num_of[c] = n\n"
    "    if subscribed[c] and #listed < MAX then listed[#listed + 1] = {c, n, n} end\n"
    "  end\n"
    "end\n"
    "local free = 1\n"
    "for _, s in ipairs(subs) do\n"
    "  if #listed >= MAX then break end\n"
    "  local c = s[1]\n"
    "  if not num_of[c] then\n"
    "    while free <= MAX_ITEM and code_of[free] do free = free + 1 end\n"
    "    local n = 0\n"
    "    if free <= MAX_ITEM then n = free; code_of[n] = c; num_of[c] = n end\n"
    "    listed[#listed + 1] = {c, n, n > 0 and n or UNNUMBERED + #listed}\n"
    "  end\n"
    "end\n"
    "table.sort(listed, function(a, b) return a[3] < b[3] end)\n"
    "local w, out, inl = {}, {tostring(#listed)}, {}\n"
    "for _, l in ipairs(listed) do\n"
    "  if l[2] > 0 then\n"
    "    w[#w + 1] = tostring(l[2]); w[#w + 1] = l[1]; w[#w + 1] = 't' .. l[2]; w[#w + 1] = now_s\n"
    "  end\n"
    "  out[#out + 1] = l[1]; out[#out + 1] = tostring(l[2]); inl[l[1]] = true\n"
    "end\n"
    "if #w == 0 and next(num_of) == nil then\n"
    "  redis.call('DEL', ITEMS)\n"
    "else\n"
    "  redis.call('HSET', ITEMS, 'at', now_s, 'size', tostring(#listed), unpack(w))\n"
    "  redis.call('EXPIRE', ITEMS, KEEP)\n"
    "end\n"
    "for _, s in ipairs(subs) do\n"
    "  if not inl[s[1]] then out[#out + 1] = s[1] end\n"
    "end\n"
    "return out\n";

/* K[1..5] and A[1..4] as VAS_LUA_CANCEL, K[6] vas:svc:, K[7] items:{M};
 * A[5] item numbers ("1,3", ascending, distinct; may be empty), A[6] menu
 * ttl (s). Returns {"nomenu"} or {"ok", size of the last list, then per
 * number: status, code, time, refund amount, refund months}, status one of
 * "done" (cancelled now), "gone" (cancelled here before, at time), "absent"
 * (no longer subscribed, no record), "expired" (subscribed, but the last
 * list is older than the menu ttl: nothing done) or "" (no such number);
 * the refund (vas_cancel, gone_at) is "" "" when none was filed. */
const char sc__vas_cancel_items_lua[] =
    VAS_LUA_CANCEL
    VAS_LUA_PRICE_FROM_CATALOGUE(7)
    "local m = redis.call('HGETALL', K[7])\n"
    "if #m == 0 then return {'nomenu'} end\n"
    "local code_of, at, size = {}, nil, '0'\n"
    "for i = 1, #m, 2 do\n"
    "  local n = tonumber(string.match(m[i], '^([1-9]%d?)$'))\n"
    "  if n then code_of[n] = m[i + 1]\n"
    "  elseif m[i] == 'at' then at = tonumber(m[i + 1])\n"
    "  elseif m[i] == 'size' then size = m[i + 1] end\n"
    "end\n"
    "local live = at and NOW < at + tonumber(A[6])\n"
    "local out = {'ok', size}\n"
    "for d in string.gmatch(A[5], '%d+') do\n"
    "  local code = code_of[tonumber(d)]\n"
    "  local st, t, amount, months = '', '', '', ''\n"
    "  if code then\n"
    "    if redis.call('HEXISTS', SUB, code) == 1 then\n"
    "      if live then\n"
    "        local _, ra, rm = vas_cancel(code)\n"
    "        st, amount, months = 'done', ra, rm\n"
    "      else\n"
    "        st = 'expired'\n"
    "      end\n"
    "    else\n"
    "      t, amount, months = gone_at(code)\n"
    "      if t then st = 'gone' else st, t, amount, months = 'absent', '', '', '' end\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = st; out[#out + 1] = code or ''; out[#out + 1] = t\n"
    "  out[#out + 1] = amount; out[#out + 1] = months\n"
    "end\n"
    "gone_tidy()\n"
    "return out\n";

/* K[1] sub:{M}:vas, K[2] allgone:{M}, K[3..5] order:{M}, vas:events,
 * audit:{M}; A[1] confirmation ttl (s), A[2] horizon (s), A[3] msisdn.
 * Returns {"already", at, count, codes subscribed now...}
 * when a cancel-all completed within the horizon and no "00000" was told so
 * yet (it is told now); else {"ask", codes...} with the pending dialogue
 * set, or {"none"}. */
const char sc__vas_cancel_all_lua[] =
    VAS_LUA_LISTABLE
    "ORD.MSISDN, ORD.NOW = A[3], tonumber(now_s)\n"
    "ORD.OK = {order = K[3], events = K[4], audit = K[5], pending = PENDING}\n"
    "local list = {}\n"
    "for _, c in ipairs(redis.call('HKEYS', K[1])) do\n"
    "  if listable(c) then list[#list + 1] = c end\n"
    "end\n"
    "table.sort(list)\n"
    "local rec = redis.call('HMGET', K[2], 'at', 'count', 'told')\n"
    "local at = tonumber(rec[1])\n"
    "if at and at > tonumber(now_s) - tonumber(A[2]) and rec[3] ~= '1' then\n"
    "  redis.call('HSET', K[2], 'told', '1')\n"
    "  local out = {'already', rec[1], rec[2] or '0'}\n"
    "  for _, c in ipairs(list) do out[#out + 1] = c end\n"
    "  return out\n"
    "end\n"
    "if #list == 0 then return {'none'} end\n"
    "ord_supersede() -- a pending order: declined, reason superseded\n"
    "redis.call('SET', PENDING, 'cancel_all:' .. table.concat(list, ','), 'EX', A[1])\n"
    "local out = {'ask'}\n"
    "for _, c in ipairs(list) do out[#out + 1] = c end\n"
    "return out\n";

/* K[1..5] and A[1..4] as VAS_LUA_CANCEL, K[6] vas:svc:, K[7] allgone:{M},
 * K[8] order:{M}; A[5] "Y" or "N". Returns {"order", ...} for an order
 * (handlers/order.h), {"none"}, {"declined"}, {"already", at, count, then
 * code, refund amount, months of each code it cancelled that filed a
 * refund} (a "Y" without a prompt, after a cancel-all within the horizon),
 * or {"done", count, then code, refund amount, months of each code
 * cancelled now, then code, time, refund amount, months of each code of the
 * prompt cancelled here before} (refunds as VAS_LUA_CANCEL's). */
const char sc__vas_confirm_lua[] =
    VAS_LUA_CANCEL
    VAS_LUA_PRICE_FROM_CATALOGUE(6)
    "local ALL = K[7]\n"
    "ORD.MSISDN, ORD.NOW = MSISDN, NOW\n"
    "ORD.OK = {sub = SUB, events = EVENTS, audit = AUDIT, order = K[8], conf = CONF,\n"
    "          pending = PENDING}\n"
    "local o = ord_answer(redis.call('GET', PENDING), A[5] == 'Y', redis.call('HGET', ALL, 'at'),\n"
    "                    HORIZON)\n"
    "if o then return o end -- an order's answer (handlers/order.c)\n"
    "local p = redis.call('GET', PENDING)\n"
    "if p and string.sub(p, 1, 11) == 'cancel_all:' then\n"
    "  redis.call('DEL', PENDING)\n"
    "  if A[5] ~= 'Y' then return {'declined'} end\n"
    "  local done, told, before = {}, {}, {}\n"
    "  for c in string.gmatch(string.sub(p, 12), '[^,]+') do\n"
    "    local ok, amount, months = vas_cancel(c)\n"
    "    if ok then\n"
    "      done[#done + 1] = c\n"
    "      told[#told + 1] = c; told[#told + 1] = amount; told[#told + 1] = months\n"
    "    else\n"
    "      local t, ga, gm = gone_at(c)\n"
    "      if t then\n"
    "        before[#before + 1] = c; before[#before + 1] = t\n"
    "        before[#before + 1] = ga; before[#before + 1] = gm\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if #done > 0 then\n"
    "    redis.call('DEL', ALL)\n"
    "    redis.call('HSET', ALL, 'at', now_s, 'count', tostring(#done),\n"
    "               'codes', table.concat(done, ','))\n"
    "    redis.call('EXPIRE', ALL, HORIZON)\n"
    "  end\n"
    "  gone_tidy()\n"
    "  local out = {'done', tostring(#done)}\n"
    "  for _, x in ipairs(told) do out[#out + 1] = x end\n"
    "  for _, x in ipairs(before) do out[#out + 1] = x end\n"
    "  return out\n"
    "end\n"
    "if A[5] == 'Y' then\n"
    "  local rec = redis.call('HMGET', ALL, 'at', 'count', 'codes')\n"
    "  local at = tonumber(rec[1])\n"
    "  if at and at > NOW - HORIZON then\n"
    "    local out = {'already', rec[1], rec[2] or '0'}\n"
    "    for c in string.gmatch(rec[3] or '', '[^,]+') do\n"
    "      local t, amount, months = gone_at(c)\n"
    "      if t and months ~= '' then\n"
    "        out[#out + 1] = c; out[#out + 1] = amount; out[#out + 1] = months\n"
    "      end\n"
    "    end\n"
    "    return out\n"
    "  end\n"
    "end\n"
    "return {'none'}\n";

/* K[1..5] and A[1..4] as VAS_LUA_CANCEL; A[5] code, A[6] its fee per month
 * in fen from the daemon's catalogue ("" when unknown). Returns
 * {"cancelled", refund amount, months} when this run cancelled it,
 * {"gone", time, refund amount, months} when it was cancelled here within
 * the horizon, else {"absent"} (refunds as VAS_LUA_CANCEL's). */
const char sc__vas_cancel_code_lua[] =
    VAS_LUA_CANCEL
    "price_of = function() return fen(A[6]) end\n"
    "local ok, amount, months = vas_cancel(A[5])\n"
    "if ok then gone_tidy(); return {'cancelled', amount, months} end\n"
    "local t, ga, gm = gone_at(A[5])\n"
    "if t then return {'gone', t, ga, gm} end\n"
    "return {'absent'}\n";

