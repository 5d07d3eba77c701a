/* vas.c -- VAS self-service: "0000" list, reply-number cancel, "00000" + confirm, "TD<code>".
 *
 * Redis data. What a subscriber pays for is the hash sub:{M}:vas (service
 * code -> unix seconds the subscription started), written by billing feeds;
 * names and fees come from the cached catalogue (handlers/catalogue.h). Every
 * cancellation, in one Lua script per MO (one round trip), appends one entry
 * to vas:events (event=unsubscribe msisdn service channel=sms at id) and to
 * the subscriber's audit:{M} stream (event service channel at id, trimmed to
 * about six months with MINID ~), records the code in gone:{M}, then HDELs
 * it. The request layer checks every key's type before the script's first
 * write (key_types), so a script does all of that or nothing; an event it
 * ever repeats carries the same id ("M:CODE:SINCE:unsubscribe").
 *
 * Redelivery model (docs/reliability.md). SMPP 3.4 gives an MO no identity,
 * and the SMSC may deliver one again hours later, after the subscriber wrote
 * again. So nothing an MO means may change within
 * limits.redelivery_horizon_s (H) of when it could have been sent:
 * - items:{M} HASH binds item numbers to codes ("1" -> code, "t1" -> when
 *   number 1 was last listed; "at" and "size" of the last list). A new
 *   "0000" keeps the number of every service still subscribed and gives a
 *   new one the lowest number free; a number is freed only menu_ttl_s + H
 *   after the last list that showed it, so an MO answering any list still
 *   means the same service when it comes back.
 * - gone:{M} HASH: code -> "UNIXS:channel" of its cancellation here, kept H
 *   (pruned when written): a later MO naming it, by number or by TD, is
 *   answered "彩铃已于10:31退订", never "cancelled now".
 * - pending:{M} holds "cancel_all:CODES" after "00000": the "Y" cancels only
 *   those codes. allgone:{M} HASH (at count codes told) records a completed
 *   cancel-all for H: a "Y" without a pending prompt answers that it was done
 *   at T, and the first "00000" after it answers the same (and what was added
 *   since) instead of asking, so a redelivered "00000" + "Y" cannot cancel a
 *   service that no prompt the subscriber answered named.
 * Two of the same number in one MO ("1 1") are one number. */
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "config/schema.h"
#include "handlers/catalogue.h"
#include "handlers/handler.h"
#include "handlers/order.h"
#include "handlers/order_int.h"
#include "store/keys.h"
#include "text/text.h"

#define VAS_MAX_NUMBERS 20     /* item numbers one MO may carry */
#define VAS_MAX_ITEM 99        /* the highest item number a menu has */
#define VAS_NAME_CHARS 10      /* a longer service name is cut, with "…" */
#define VAS_TEXT_MAX 4096      /* a reply being built */
#define VAS_STR_(x) #x
#define VAS_STR(x) VAS_STR_(x)   /* a number for a Lua script */

/* ---- Lua ---------------------------------------------------------------- */

/* A code the VAS handlers can put in a menu or a pending list: not empty
 * and without the "," that joins them. */
#define VAS_LUA_LISTABLE                                                                   \
    "local function listable(code)\n"                                                      \
    "  return code ~= '' and not string.find(code, ',', 1, true)\n"                        \
    "end\n"

/* Cancelling, shared by the scripts that cancel. Keys: K[1] sub:{M}:vas,
 * K[2] vas:events, K[3] audit:{M}, K[4] gone:{M}; A[1] the msisdn, A[2] the
 * redelivery horizon (s). vas_cancel(code) is true when this run removed the
 * code; gone_at(code) is when it was cancelled here (unix s, a string)
 * within the horizon, or nil; gone_tidy() prunes gone:{M} after a write. */
#define VAS_LUA_CANCEL                                                                     \
    "local SUB, EVENTS, AUDIT, GONE = K[1], K[2], K[3], K[4]\n"                            \
    "local MSISDN, HORIZON, NOW = A[1], tonumber(A[2]), tonumber(now_s)\n"                 \
    "local AUDIT_KEEP_DAYS, MS_PER_DAY = 186, 86400000 -- audit:{M}: about six months\n"   \
    "local AUDIT_MINID =\n"                                                                \
    "  string.format('%.0f', tonumber(now_ms) - AUDIT_KEEP_DAYS * MS_PER_DAY)\n"           \
    "local cancelled = 0\n"                                                                \
    "local function vas_cancel(code)\n"                                                    \
    "  local since = redis.call('HGET', SUB, code)\n"                                      \
    "  if not since then return false end\n"                                               \
    "  local id = MSISDN .. ':' .. code .. ':' .. since .. ':unsubscribe'\n"               \
    "  redis.call('XADD', EVENTS, '*', 'event', 'unsubscribe', 'msisdn', MSISDN,\n"        \
    "             'service', code, 'channel', 'sms', 'at', now_ms, 'id', id)\n"            \
    "  redis.call('XADD', AUDIT, 'MINID', '~', AUDIT_MINID, '*', 'event', 'unsubscribe',\n"\
    "             'service', code, 'channel', 'sms', 'at', now_ms, 'id', id)\n"            \
    "  redis.call('HSET', GONE, code, now_s .. ':sms')\n"                                  \
    "  redis.call('HDEL', SUB, code)\n"                                                    \
    "  cancelled = cancelled + 1\n"                                                        \
    "  return true\n"                                                                      \
    "end\n"                                                                                \
    "local function gone_at(code)\n"                                                       \
    "  local v = redis.call('HGET', GONE, code)\n"                                         \
    "  local t = v and string.match(v, '^(%d+)')\n"                                        \
    "  if t and tonumber(t) > NOW - HORIZON then return t end\n"                           \
    "  return nil\n"                                                                       \
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
static const char vas_list_lua[] =
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

/* K[1..4] as VAS_LUA_CANCEL, K[5] items:{M}; A[1] msisdn, A[2] horizon,
 * A[3] item numbers ("1,3", ascending, distinct; may be empty), A[4] menu
 * ttl (s). Returns {"nomenu"} or {"ok", size of the last list, then per
 * number: status, code, time}, status one of "done" (cancelled now), "gone"
 * (cancelled here before, at time), "absent" (no longer subscribed, no
 * record), "expired" (subscribed, but the last list is older than the menu
 * ttl: nothing done) or "" (no such number). */
static const char vas_cancel_items_lua[] =
    VAS_LUA_CANCEL
    "local m = redis.call('HGETALL', K[5])\n"
    "if #m == 0 then return {'nomenu'} end\n"
    "local code_of, at, size = {}, nil, '0'\n"
    "for i = 1, #m, 2 do\n"
    "  local n = tonumber(string.match(m[i], '^([1-9]%d?)$'))\n"
    "  if n then code_of[n] = m[i + 1]\n"
    "  elseif m[i] == 'at' then at = tonumber(m[i + 1])\n"
    "  elseif m[i] == 'size' then size = m[i + 1] end\n"
    "end\n"
    "local live = at and NOW < at + tonumber(A[4])\n"
    "local out = {'ok', size}\n"
    "for d in string.gmatch(A[3], '%d+') do\n"
    "  local code = code_of[tonumber(d)]\n"
    "  local st, t = '', ''\n"
    "  if code then\n"
    "    if redis.call('HEXISTS', SUB, code) == 1 then\n"
    "      if live then vas_cancel(code); st = 'done' else st = 'expired' end\n"
    "    else\n"
    "      t = gone_at(code)\n"
    "      if t then st = 'gone' else st, t = 'absent', '' end\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = st; out[#out + 1] = code or ''; out[#out + 1] = t\n"
    "end\n"
    "gone_tidy()\n"
    "return out\n";

/* K[1] sub:{M}:vas, K[2] allgone:{M}, K[3..5] order:{M}, vas:events,
 * audit:{M}; A[1] confirmation ttl (s), A[2] horizon (s), A[3] msisdn.
 * Returns {"already", at, count, codes subscribed now...}
 * when a cancel-all completed within the horizon and no "00000" was told so
 * yet (it is told now); else {"ask", codes...} with the pending dialogue
 * set, or {"none"}. */
static const char vas_cancel_all_lua[] =
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

/* K[1..4] as VAS_LUA_CANCEL, K[5] allgone:{M}, K[6] order:{M}, K[7]
 * sub:{M}:conf; A[1] msisdn, A[2] horizon, A[3] "Y" or "N". Returns
 * {"order", ...} for an order (handlers/order.h), {"none"}, {"declined"}, {"already", at, count}
 * (a "Y" without a prompt, after a cancel-all within the horizon), or
 * {"done", count, codes cancelled now..., then code, time of each code of
 * the prompt cancelled here before}. */
static const char vas_confirm_lua[] =
    VAS_LUA_CANCEL
    "local ALL = K[5]\n"
    "ORD.MSISDN, ORD.NOW = MSISDN, NOW\n"
    "ORD.OK = {sub = SUB, events = EVENTS, audit = AUDIT, order = K[6], conf = K[7],\n"
    "          pending = PENDING}\n"
    "local o = ord_answer(redis.call('GET', PENDING), A[3] == 'Y', redis.call('HGET', ALL, 'at'),\n"
    "                    HORIZON)\n"
    "if o then return o end -- an order's answer (handlers/order.c)\n"
    "local p = redis.call('GET', PENDING)\n"
    "if p and string.sub(p, 1, 11) == 'cancel_all:' then\n"
    "  redis.call('DEL', PENDING)\n"
    "  if A[3] ~= 'Y' then return {'declined'} end\n"
    "  local done, before = {}, {}\n"
    "  for c in string.gmatch(string.sub(p, 12), '[^,]+') do\n"
    "    if vas_cancel(c) then\n"
    "      done[#done + 1] = c\n"
    "    else\n"
    "      local t = gone_at(c)\n"
    "      if t then before[#before + 1] = c; before[#before + 1] = t end\n"
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
    "  for _, c in ipairs(done) do out[#out + 1] = c end\n"
    "  for _, x in ipairs(before) do out[#out + 1] = x end\n"
    "  return out\n"
    "end\n"
    "if A[3] == 'Y' then\n"
    "  local rec = redis.call('HMGET', ALL, 'at', 'count')\n"
    "  local at = tonumber(rec[1])\n"
    "  if at and at > NOW - HORIZON then return {'already', rec[1], rec[2] or '0'} end\n"
    "end\n"
    "return {'none'}\n";

/* K[1..4] as VAS_LUA_CANCEL; A[1] msisdn, A[2] horizon, A[3] code.
 * Returns {"cancelled"} when this run cancelled it, {"gone", time} when it
 * was cancelled here within the horizon, else {"absent"}. */
static const char vas_cancel_code_lua[] =
    VAS_LUA_CANCEL
    "if vas_cancel(A[3]) then gone_tidy(); return {'cancelled'} end\n"
    "local t = gone_at(A[3])\n"
    "if t then return {'gone', t} end\n"
    "return {'absent'}\n";

/* ---- helpers ------------------------------------------------------------- */

/* A reply being put together from rendered templates. */
struct vas_text {
    char s[VAS_TEXT_MAX];
    size_t len;
};

static void text_init(struct vas_text *t)
{
    t->len = 0;
    t->s[0] = '\0';
}

static void text_add(struct vas_text *t, const char *s)
{
    size_t room = sizeof t->s - t->len;
    size_t n = strlen(s);
    if (n >= room)
        n = room - 1; /* never reached with the bounds above; keeps the NUL */
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_tpl(struct vas_text *t, struct sc_req *req, const char *tpl,
                     const char *const *values)
{
    size_t room = sizeof t->s - t->len;
    size_t n = sc_req_render(req, tpl, values, t->s + t->len, room);
    t->len += n < room ? n : strlen(t->s + t->len);
}

/* A new line (when t is not empty), then the template. */
static void text_line(struct vas_text *t, struct sc_req *req, const char *tpl,
                      const char *const *values)
{
    if (t->len)
        text_add(t, "\n");
    text_tpl(t, req, tpl, values);
}

/* Element i of a script result as a string, or NULL. */
static const char *el_str(struct redisReply *const *e, size_t n, size_t i)
{
    return i < n && e[i]->type == REDIS_REPLY_STRING ? e[i]->str : NULL;
}

/* Name of a service for texts: the catalogue name on one line (control
 * characters from the feed become spaces), cut to VAS_NAME_CHARS characters,
 * or the code when the catalogue does not know it. */
static const char *svc_name(const struct sc_service *svc, const char *code, char *out,
                            size_t outsz)
{
    char line[512];
    const char *raw = svc && svc->name && svc->name[0] ? svc->name : code;
    size_t len = sc_text_one_line(raw, strlen(raw), line, sizeof line);
    const char *name = len ? line : code;
    if (!len)
        len = strlen(code);
    /* Fewer bytes than VAS_NAME_CHARS: fewer characters too, no walk. */
    size_t i = len <= VAS_NAME_CHARS ? len : sc_utf8_prefix(name, len, VAS_NAME_CHARS);
    if (i == len || i + sizeof "…" > outsz) {
        sc_strlcpy(out, name, outsz); /* short enough (or a huge code: cut anywhere) */
        return out;
    }
    memcpy(out, name, i);
    memcpy(out + i, "…", sizeof "…");
    return out;
}

/* The monthly fee of a service in fen, or -1 when unknown or not a number. */
static long long svc_fee(const struct sc_service *svc)
{
    return svc && svc->price_fen >= 0 ? svc->price_fen : -1;
}

/* A sum of fees: the known ones added up, the unknown ones counted (a
 * total never claims a fee it does not know). */
struct fee_sum {
    long long fen;
    size_t unknown;
};

static void fee_add(struct fee_sum *sum, long long fee)
{
    if (fee < 0 || fee > LLONG_MAX - sum->fen)
        sum->unknown++;
    else
        sum->fen += fee;
}

/* Values for {total} and {unknown}: "15元" and "（1项资费未知）" (the
 * vas_fee_unknown template) or "" when every fee is known. */
static void fee_texts(struct sc_req *req, const struct fee_sum *sum, char *total, size_t totalsz,
                      char *unknown, size_t unknownsz)
{
    sc_fmt_fen(sum->fen, total, totalsz);
    unknown[0] = '\0';
    if (sum->unknown) {
        char count[24];
        snprintf(count, sizeof count, "%zu", sum->unknown);
        sc_req_render(req, "vas_fee_unknown", (const char *const[]){count}, unknown, unknownsz);
    }
}

/* "10:31" (today) or "12月2日10:31" for a time given by a script. */
static const char *when_text(const char *unix_s, char *out, size_t outsz)
{
    return sc_fmt_past_time_text(unix_s, out, outsz);
}

/* The vas_gone line: "彩铃已于10:31退订，无需再次退订。" for one or more
 * (code, time) pairs. */
struct vas_gone {
    struct vas_text items;
    size_t n;
};

static void gone_add(struct vas_gone *g, struct sc_req *req, const char *code, const char *at)
{
    char name[128], when[48];
    svc_name(sc_catalogue_get(req->catalogue, code), code, name, sizeof name);
    if (g->n++)
        text_add(&g->items, "，");
    text_tpl(&g->items, req, "vas_gone_item",
             (const char *const[]){name, code, when_text(at, when, sizeof when)});
}

/* The keys of a cancelling script: VAS_LUA_CANCEL's K[1..4] and as K[5]
 * items:{M} (fifth 'i'), allgone:{M} ('a') or none (0). */
struct vas_keys {
    char buf[4][SC_KEY_MAX];
    const char *k[5];
};

static const char *const *cancel_keys(struct vas_keys *ks, const struct sc_req *req, char fifth)
{
    sc_key(ks->buf[0], SC_KEY_MAX, SC_KEY_SUB, req->msisdn);
    sc_key(ks->buf[1], SC_KEY_MAX, SC_KEY_AUDIT, req->msisdn);
    sc_key(ks->buf[2], SC_KEY_MAX, SC_KEY_GONE, req->msisdn);
    if (fifth == 'i')
        sc_key(ks->buf[3], SC_KEY_MAX, SC_KEY_ITEMS, req->msisdn);
    else if (fifth == 'a')
        sc_key(ks->buf[3], SC_KEY_MAX, SC_KEY_ALLGONE, req->msisdn);
    ks->k[0] = ks->buf[0];
    ks->k[1] = SC_KEY_EVENTS;
    ks->k[2] = ks->buf[1];
    ks->k[3] = ks->buf[2];
    ks->k[4] = fifth ? ks->buf[3] : NULL;
    return ks->k;
}

/* The key types of VAS_LUA_CANCEL's keys (handler.h key_types). */
#define VAS_CANCEL_KEY_TYPES "hxxh"

/* A script returned something its callback cannot read: a bug. */
static void bad_result(struct sc_req *req, const char *handler)
{
    sc_error("event=script_result_bad handler=%s msisdn=%s", handler, req->msisdn);
    sc_req_fail(req, "unexpected script result");
}

/* ---- vas_list: "0000" ------------------------------------------------------ */

struct vas_list_opts {
    int max_items;
};

static const struct sc_field vas_list_fields[] = {
    {"max_items", SC_FT_INT, offsetof(struct vas_list_opts, max_items), 0, .min = 1,
     .max = VAS_MAX_ITEM, .def = "15"},
    {.name = NULL},
};

static const struct sc_schema vas_list_schema = {vas_list_fields, sizeof(struct vas_list_opts),
                                                 NULL};

static const struct sc_tpl_decl vas_list_templates[] = {
    SC_TPL_DECL("vas_list_header", "count", "total", "unknown"),
    SC_TPL_DECL("vas_list_item", "n", "name", "fee", "code"),
    SC_TPL_DECL("vas_list_item_unnumbered", "name", "fee", "code"),
    SC_TPL_DECL("vas_list_more", "more"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    {"vas_list_footer", NULL, 0},
    {"vas_list_empty", NULL, 0},
    {NULL, NULL, 0},
};

static int list_max(const void *opts)
{
    const struct vas_list_opts *o = opts;
    return o && o->max_items > 0 ? o->max_items : 15;
}

static void on_list(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *ls = el_str(e, n, 0);
    char *end = NULL;
    long listed = ls ? strtol(ls, &end, 10) : -1;
    if (!ls || *end || listed < 0 || (size_t)listed > (n - 1) / 2) {
        bad_result(req, "vas_list");
        return;
    }
    size_t all = (size_t)listed + (n - 1 - 2 * (size_t)listed);
    if (all == 0) {
        sc_req_reply_tpl(req, "vas_list_empty", NULL);
        return;
    }
    struct fee_sum total = {0, 0};
    for (size_t i = 1; i < n; i++) {
        const char *code = el_str(e, n, i);
        if (!code) {
            bad_result(req, "vas_list");
            return;
        }
        if (i > 2 * (size_t)listed || i % 2 == 1)
            fee_add(&total, svc_fee(sc_catalogue_get(req->catalogue, code)));
    }
    struct vas_text t;
    text_init(&t);
    char count[24], tot[32], unknown[96], name[128], fee[32];
    snprintf(count, sizeof count, "%zu", all);
    fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
    text_tpl(&t, req, "vas_list_header", (const char *const[]){count, tot, unknown});
    for (size_t i = 0; i < (size_t)listed; i++) {
        const char *code = e[1 + 2 * i]->str, *num = e[2 + 2 * i]->str;
        const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
        svc_name(svc, code, name, sizeof name);
        sc_fmt_fen(svc_fee(svc), fee, sizeof fee);
        if (strcmp(num, "0") == 0)
            text_line(&t, req, "vas_list_item_unnumbered", (const char *const[]){name, fee, code});
        else
            text_line(&t, req, "vas_list_item", (const char *const[]){num, name, fee, code});
    }
    if ((size_t)listed < all) {
        char more[24];
        snprintf(more, sizeof more, "%zu", all - (size_t)listed);
        text_line(&t, req, "vas_list_more", (const char *const[]){more});
    }
    text_line(&t, req, "vas_list_footer", NULL);
    sc_req_reply(req, t.s);
}

static void vas_list_handle(struct sc_req *req, const void *opts)
{
    char sub[SC_KEY_MAX], items[SC_KEY_MAX], max[16], ttl[16], horizon[16];
    sc_key(sub, sizeof sub, SC_KEY_SUB, req->msisdn);
    sc_key(items, sizeof items, SC_KEY_ITEMS, req->msisdn);
    snprintf(max, sizeof max, "%d", list_max(opts));
    snprintf(ttl, sizeof ttl, "%d", req->limits->menu_ttl_s);
    snprintf(horizon, sizeof horizon, "%d", req->limits->redelivery_horizon_s);
    sc_req_eval(req, 2, (const char *const[]){sub, items}, 3,
                (const char *const[]){max, ttl, horizon}, on_list);
}

const struct sc_handler sc_handler_vas_list = {
    .name = "vas_list",
    .summary = "list the subscriber's monthly services with stable item numbers",
    .options = &vas_list_schema,
    .templates = vas_list_templates,
    .script = vas_list_lua,
    .key_types = "hh",
    .handle = vas_list_handle,
};

/* ---- vas_cancel_items: "1", "1 3", "1,3", "1、3" after a menu ---------------- */

/* The item numbers of an MO: distinct, 1..VAS_MAX_ITEM in `asked`; others
 * (0, too big) as typed without leading zeros in `bad`, in input order. */
struct vas_numbers {
    unsigned char asked[VAS_MAX_ITEM + 1];
    size_t nasked;
    char bad[VAS_MAX_NUMBERS][24];
    size_t nbad;
    int too_many;
};

/* Parse text: runs of ASCII digits are numbers, anything else separates
 * them (the route's regex has already checked the shape). */
static void parse_numbers(const char *text, struct vas_numbers *nums)
{
    memset(nums, 0, sizeof *nums);
    const char *p = text;
    while (*p) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
            p++;
        const char *d = p;
        while (*p >= '0' && *p <= '9')
            p++;
        size_t len = (size_t)(p - d);
        int v = len <= 2 ? atoi(d) : -1;
        if (v >= 1 && v <= VAS_MAX_ITEM) {
            if (nums->asked[v])
                continue;
            nums->asked[v] = 1;
            nums->nasked++;
        } else {
            char shown[24];
            if (len > 12)
                snprintf(shown, sizeof shown, "%.12s…", d);
            else
                snprintf(shown, sizeof shown, "%.*s", (int)len, d);
            size_t k;
            for (k = 0; k < nums->nbad && strcmp(nums->bad[k], shown) != 0; k++)
                ;
            if (k < nums->nbad)
                continue;
            if (nums->nbad == VAS_MAX_NUMBERS) {
                nums->too_many = 1;
                return;
            }
            sc_strlcpy(nums->bad[nums->nbad++], shown, sizeof nums->bad[0]);
        }
        if (nums->nasked + nums->nbad > VAS_MAX_NUMBERS) {
            nums->too_many = 1;
            return;
        }
    }
}

static const struct sc_tpl_decl vas_cancel_items_templates[] = {
    SC_TPL_DECL("vas_cancel_item", "name", "fee", "code"),
    SC_TPL_DECL("vas_cancel_done", "items", "count", "total", "unknown"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    SC_TPL_DECL("vas_gone_item", "name", "code", "time"),
    SC_TPL_DECL("vas_gone", "items"),
    SC_TPL_DECL("vas_items_absent", "items"),
    SC_TPL_DECL("vas_items_out_of_range", "numbers", "count"),
    {"vas_items_no_menu", NULL, 0},
    SC_TPL_DECL("vas_items_too_many", "max"),
    {NULL, NULL, 0},
};

static void on_cancel_items(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    struct vas_numbers nums;
    parse_numbers(req->text, &nums);
    if (nums.too_many) {
        char max[16];
        snprintf(max, sizeof max, "%d", VAS_MAX_NUMBERS);
        sc_req_reply_tpl(req, "vas_items_too_many", (const char *const[]){max});
        return;
    }
    const char *st = el_str(e, n, 0);
    if (st && strcmp(st, "nomenu") == 0) {
        sc_req_reply_tpl(req, "vas_items_no_menu", NULL);
        return;
    }
    const char *menu_n = el_str(e, n, 1);
    if (!st || strcmp(st, "ok") != 0 || !menu_n || n != 2 + 3 * nums.nasked) {
        bad_result(req, "vas_cancel_items");
        return;
    }
    struct vas_text items, absent, bad, t;
    struct vas_gone gone;
    text_init(&items);
    text_init(&absent);
    text_init(&bad);
    text_init(&t);
    text_init(&gone.items);
    gone.n = 0;
    size_t done = 0, k = 2, expired = 0;
    struct fee_sum total = {0, 0};
    char name[128], fee[32], num[24];
    for (int v = 1; v <= VAS_MAX_ITEM; v++) {
        if (!nums.asked[v])
            continue;
        const char *what = el_str(e, n, k), *code = el_str(e, n, k + 1), *at = el_str(e, n, k + 2);
        k += 3;
        if (!what || !code || !at) {
            bad_result(req, "vas_cancel_items");
            return;
        }
        const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
        if (strcmp(what, "done") == 0) {
            text_add(&items, done++ ? "、" : "");
            text_tpl(&items, req, "vas_cancel_item",
                     (const char *const[]){svc_name(svc, code, name, sizeof name),
                                           sc_fmt_fen(svc_fee(svc), fee, sizeof fee), code});
            fee_add(&total, svc_fee(svc));
        } else if (strcmp(what, "gone") == 0) {
            gone_add(&gone, req, code, at);
        } else if (strcmp(what, "absent") == 0) {
            text_add(&absent, absent.len ? "、" : "");
            text_add(&absent, svc_name(svc, code, name, sizeof name));
        } else if (strcmp(what, "expired") == 0) {
            expired++;
        } else {
            snprintf(num, sizeof num, "%d", v);
            text_add(&bad, bad.len ? "、" : "");
            text_add(&bad, num);
        }
    }
    for (size_t i = 0; i < nums.nbad; i++) {
        text_add(&bad, bad.len ? "、" : "");
        text_add(&bad, nums.bad[i]);
    }
    if (done) {
        char count[24], tot[32], unknown[96];
        snprintf(count, sizeof count, "%zu", done);
        fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
        text_line(&t, req, "vas_cancel_done", (const char *const[]){items.s, count, tot, unknown});
    }
    if (gone.n)
        text_line(&t, req, "vas_gone", (const char *const[]){gone.items.s});
    if (absent.len)
        text_line(&t, req, "vas_items_absent", (const char *const[]){absent.s});
    if (bad.len)
        text_line(&t, req, "vas_items_out_of_range", (const char *const[]){bad.s, menu_n});
    if (expired || !t.len) {
        /* The list is too old to answer (or no number at all, from a route
         * that sends other texts here). */
        text_line(&t, req, "vas_items_no_menu", NULL);
    }
    sc_req_reply(req, t.s);
}

static void vas_cancel_items_handle(struct sc_req *req, const void *opts)
{
    (void)opts;
    struct vas_numbers nums;
    parse_numbers(req->text, &nums);
    /* "1,3,...": at most VAS_MAX_NUMBERS numbers of two digits. Too many
     * still runs the script (with none), which counts the command. */
    char list[VAS_MAX_NUMBERS * 3 + 1] = "";
    size_t o = 0;
    for (int v = 1; v <= VAS_MAX_ITEM && !nums.too_many; v++)
        if (nums.asked[v])
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", o ? "," : "", v);
    struct vas_keys ks;
    char horizon[16], ttl[16];
    snprintf(horizon, sizeof horizon, "%d", req->limits->redelivery_horizon_s);
    snprintf(ttl, sizeof ttl, "%d", req->limits->menu_ttl_s);
    sc_req_eval(req, 5, cancel_keys(&ks, req, 'i'), 4,
                (const char *const[]){req->msisdn, horizon, list, ttl}, on_cancel_items);
}

const struct sc_handler sc_handler_vas_cancel_items = {
    .name = "vas_cancel_items",
    .summary = "cancel services by their item numbers in the subscriber's 0000 lists",
    .templates = vas_cancel_items_templates,
    .script = vas_cancel_items_lua,
    .key_types = VAS_CANCEL_KEY_TYPES "h",
    .handle = vas_cancel_items_handle,
};

/* ---- vas_cancel_all: "00000" -------------------------------------------- */

static const struct sc_tpl_decl vas_cancel_all_templates[] = {
    SC_TPL_DECL("vas_all_confirm", "count", "total", "minutes", "unknown"),
    SC_TPL_DECL("vas_all_already", "time", "count"),
    SC_TPL_DECL("vas_all_since", "count", "items", "total", "unknown"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    {"vas_all_none", NULL, 0},
    {NULL, NULL, 0},
};

/* Sum the fees of the codes e[from..n) and join their names with "、". */
static int codes_sum(struct sc_req *req, struct redisReply *const *e, size_t n, size_t from,
                     struct fee_sum *sum, struct vas_text *names)
{
    char name[128];
    for (size_t i = from; i < n; i++) {
        const char *code = el_str(e, n, i);
        if (!code)
            return -1;
        const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
        fee_add(sum, svc_fee(svc));
        if (names) {
            text_add(names, i > from ? "、" : "");
            text_add(names, svc_name(svc, code, name, sizeof name));
        }
    }
    return 0;
}

static void on_cancel_all(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *st = el_str(e, n, 0);
    struct fee_sum total = {0, 0};
    char count[24], tot[32], unknown[96], minutes[16], when[48];
    if (st && strcmp(st, "none") == 0) {
        sc_req_reply_tpl(req, "vas_all_none", NULL);
        return;
    }
    if (st && strcmp(st, "already") == 0 && n >= 3 && el_str(e, n, 1) && el_str(e, n, 2)) {
        /* A cancel-all was completed within the horizon: say so, and what
         * was added since, instead of asking (this may be a redelivery). */
        struct vas_text t, names;
        text_init(&t);
        text_init(&names);
        if (codes_sum(req, e, n, 3, &total, &names) < 0) {
            bad_result(req, "vas_cancel_all");
            return;
        }
        text_tpl(&t, req, "vas_all_already",
                 (const char *const[]){when_text(e[1]->str, when, sizeof when), e[2]->str});
        if (n > 3) {
            snprintf(count, sizeof count, "%zu", n - 3);
            fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
            text_line(&t, req, "vas_all_since", (const char *const[]){count, names.s, tot, unknown});
        } else {
            text_line(&t, req, "vas_all_none", NULL);
        }
        sc_req_reply(req, t.s);
        return;
    }
    if (!st || strcmp(st, "ask") != 0 || n < 2 || codes_sum(req, e, n, 1, &total, NULL) < 0) {
        bad_result(req, "vas_cancel_all");
        return;
    }
    snprintf(count, sizeof count, "%zu", n - 1);
    snprintf(minutes, sizeof minutes, "%d", (req->limits->confirm_ttl_s + 59) / 60);
    fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
    sc_req_reply_tpl(req, "vas_all_confirm", (const char *const[]){count, tot, minutes, unknown});
}

static void vas_cancel_all_handle(struct sc_req *req, const void *opts)
{
    (void)opts;
    char sub[SC_KEY_MAX], all[SC_KEY_MAX], order[SC_KEY_MAX], audit[SC_KEY_MAX], ttl[16],
        horizon[16];
    sc_key(sub, sizeof sub, SC_KEY_SUB, req->msisdn);
    sc_key(all, sizeof all, SC_KEY_ALLGONE, req->msisdn);
    sc_key(order, sizeof order, SC_KEY_ORDER, req->msisdn);
    sc_key(audit, sizeof audit, SC_KEY_AUDIT, req->msisdn);
    snprintf(ttl, sizeof ttl, "%d", req->limits->confirm_ttl_s);
    snprintf(horizon, sizeof horizon, "%d", req->limits->redelivery_horizon_s);
    sc_req_eval(req, 5, (const char *const[]){sub, all, order, SC_KEY_EVENTS, audit}, 3,
                (const char *const[]){ttl, horizon, req->msisdn}, on_cancel_all);
}

const struct sc_handler sc_handler_vas_cancel_all = {
    .name = "vas_cancel_all",
    .summary = "ask to confirm cancelling every monthly service (answered by vas_confirm)",
    .templates = vas_cancel_all_templates,
    .script_lib = sc_order_lua, /* a "00000" supersedes a pending order */
    .script = vas_cancel_all_lua,
    .key_types = "hhhxx",
    .handle = vas_cancel_all_handle,
};

/* ---- vas_confirm: "Y" / "是" / "N" / "否" after "00000" or an order ---------- */

struct vas_confirm_opts {
    char **yes;
    size_t nyes;
};

static const struct sc_field vas_confirm_fields[] = {
    {"yes", SC_FT_STRLIST, offsetof(struct vas_confirm_opts, yes),
     SC_F_NONEMPTY | SC_F_ONE_OR_LIST, .min = 1, .max = 16, .def = "Y,是",
     .count_offset = offsetof(struct vas_confirm_opts, nyes)},
    {.name = NULL},
};

static const struct sc_schema vas_confirm_schema = {vas_confirm_fields,
                                                    sizeof(struct vas_confirm_opts), NULL};

static const struct sc_tpl_decl vas_confirm_templates[] = {
    SC_TPL_DECL("vas_confirm_done", "count", "total", "unknown"),
    SC_TPL_DECL("vas_confirm_already", "time", "count"),
    SC_TPL_DECL("vas_fee_unknown", "count"),
    SC_TPL_DECL("vas_gone_item", "name", "code", "time"),
    SC_TPL_DECL("vas_gone", "items"),
    {"vas_confirm_declined", NULL, 0},
    {"vas_confirm_none", NULL, 0},
    {"vas_all_none", NULL, 0},
    SC_ORDER_ANSWER_TEMPLATES,
    {NULL, NULL, 0},
};

static void on_confirm(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *st = el_str(e, n, 0);
    char when[48];
    if (st && strcmp(st, "order") == 0) {
        sc__order_on_answer(req, e + 1, n - 1);
        return;
    }
    if (st && strcmp(st, "none") == 0) {
        sc_req_reply_tpl(req, "vas_confirm_none", NULL);
        return;
    }
    if (st && strcmp(st, "declined") == 0) {
        sc_req_reply_tpl(req, "vas_confirm_declined", NULL);
        return;
    }
    if (st && strcmp(st, "already") == 0 && el_str(e, n, 1) && el_str(e, n, 2)) {
        sc_req_reply_tpl(req, "vas_confirm_already",
                         (const char *const[]){when_text(e[1]->str, when, sizeof when), e[2]->str});
        return;
    }
    const char *cnt = el_str(e, n, 1);
    char *end = NULL;
    long done = cnt ? strtol(cnt, &end, 10) : -1;
    if (!st || strcmp(st, "done") != 0 || !cnt || *end || done < 0 || (size_t)done > n - 2 ||
        (n - 2 - (size_t)done) % 2) {
        bad_result(req, "vas_confirm");
        return;
    }
    struct vas_text t;
    struct vas_gone gone;
    text_init(&t);
    text_init(&gone.items);
    gone.n = 0;
    struct fee_sum total = {0, 0};
    if (codes_sum(req, e, 2 + (size_t)done, 2, &total, NULL) < 0) {
        bad_result(req, "vas_confirm");
        return;
    }
    for (size_t i = 2 + (size_t)done; i + 1 < n; i += 2) {
        const char *code = el_str(e, n, i), *at = el_str(e, n, i + 1);
        if (!code || !at) {
            bad_result(req, "vas_confirm");
            return;
        }
        gone_add(&gone, req, code, at);
    }
    if (done) {
        char tot[32], unknown[96];
        fee_texts(req, &total, tot, sizeof tot, unknown, sizeof unknown);
        text_tpl(&t, req, "vas_confirm_done", (const char *const[]){cnt, tot, unknown});
    }
    if (gone.n)
        text_line(&t, req, "vas_gone", (const char *const[]){gone.items.s});
    if (!t.len) /* everything listed was already gone, not by us */
        text_tpl(&t, req, "vas_all_none", NULL);
    sc_req_reply(req, t.s);
}

/* Whether the text is one of the yes words (ASCII case folded; the text is
 * already normalised). */
static int is_yes(const char *text, const struct vas_confirm_opts *o)
{
    static const char *const def[] = {"Y", "是"};
    const char *const *words = o && o->nyes ? (const char *const *)o->yes : def;
    size_t nwords = o && o->nyes ? o->nyes : SC_ARRAY_LEN(def);
    for (size_t i = 0; i < nwords; i++)
        if (strcasecmp(text, words[i]) == 0)
            return 1;
    return 0;
}

static void vas_confirm_handle(struct sc_req *req, const void *opts)
{
    struct vas_keys ks;
    char horizon[16];
    snprintf(horizon, sizeof horizon, "%d", req->limits->redelivery_horizon_s);
    const char *yes = is_yes(req->text, opts) ? "Y" : "N";
    const char *const *k = cancel_keys(&ks, req, 'a');
    char order[SC_KEY_MAX], conf[SC_KEY_MAX];
    sc_key(order, sizeof order, SC_KEY_ORDER, req->msisdn);
    sc_key(conf, sizeof conf, SC_KEY_CONF, req->msisdn);
    sc_req_eval(req, 7, (const char *const[]){k[0], k[1], k[2], k[3], k[4], order, conf}, 3,
                (const char *const[]){req->msisdn, horizon, yes}, on_confirm);
}

const struct sc_handler sc_handler_vas_confirm = {
    .name = "vas_confirm",
    .summary = "answer a pending \"00000\" or order: a yes word cancels everything listed (or "
               "confirms the order), others decline",
    .options = &vas_confirm_schema,
    .templates = vas_confirm_templates,
    .script_lib = sc_order_lua, /* the answer to an order */
    .script = vas_confirm_lua,
    .key_types = VAS_CANCEL_KEY_TYPES "hhh",
    .continues_dialogue = 1,
    .handle = vas_confirm_handle,
};

/* ---- vas_cancel_code: "TD" + code ------------------------------------------ */

static const struct sc_tpl_decl vas_cancel_code_templates[] = {
    SC_TPL_DECL("vas_td_done", "name", "fee", "code"),
    SC_TPL_DECL("vas_td_not_subscribed", "name", "code"),
    SC_TPL_DECL("vas_gone_item", "name", "code", "time"),
    SC_TPL_DECL("vas_gone", "items"),
    {NULL, NULL, 0},
};

/* The code: the route regex's first capture, else the text after "TD". */
static const char *td_code(const struct sc_req *req)
{
    if (req->ncaps > 1 && req->caps[1])
        return req->caps[1];
    return strncmp(req->text, "TD", 2) == 0 ? req->text + 2 : req->text;
}

static void on_cancel_code(struct sc_req *req, struct redisReply *const *e, size_t n)
{
    const char *st = el_str(e, n, 0);
    const char *code = td_code(req);
    const struct sc_service *svc = sc_catalogue_get(req->catalogue, code);
    char name[128], fee[32];
    svc_name(svc, code, name, sizeof name);
    if (st && strcmp(st, "cancelled") == 0) {
        sc_req_reply_tpl(req, "vas_td_done",
                         (const char *const[]){name, sc_fmt_fen(svc_fee(svc), fee, sizeof fee),
                                               code});
    } else if (st && strcmp(st, "gone") == 0 && el_str(e, n, 1)) {
        struct vas_gone gone;
        text_init(&gone.items);
        gone.n = 0;
        gone_add(&gone, req, code, e[1]->str);
        sc_req_reply_tpl(req, "vas_gone", (const char *const[]){gone.items.s});
    } else if (st && strcmp(st, "absent") == 0) {
        sc_req_reply_tpl(req, "vas_td_not_subscribed", (const char *const[]){name, code});
    } else {
        bad_result(req, "vas_cancel_code");
    }
}

static void vas_cancel_code_handle(struct sc_req *req, const void *opts)
{
    (void)opts;
    struct vas_keys ks;
    char horizon[16];
    snprintf(horizon, sizeof horizon, "%d", req->limits->redelivery_horizon_s);
    sc_req_eval(req, 4, cancel_keys(&ks, req, 0), 3,
                (const char *const[]){req->msisdn, horizon, td_code(req)}, on_cancel_code);
}

const struct sc_handler sc_handler_vas_cancel_code = {
    .name = "vas_cancel_code",
    .summary = "cancel one service by its code (\"TD\" + code; the regex captures the code)",
    .templates = vas_cancel_code_templates,
    .script = vas_cancel_code_lua,
    .key_types = VAS_CANCEL_KEY_TYPES,
    .handle = vas_cancel_code_handle,
};
