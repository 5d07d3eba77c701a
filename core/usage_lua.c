/* usage_lua.c -- the script that applies a batch of usage:in entries and
 * decides, in the same run, which reminders each makes due
 * (core/usage_int.h). The rules of the config become a Lua prelude; the
 * body below is the same for every config.
 *
 * Per entry, in order, each in a pcall (a bad one fails alone, with
 * nothing of its own written after its error; the entries before and
 * after it apply): per field, the entry's at against acct:{M}'s "at:FIELD"
 * (newer only: an older or equal at changes nothing, so a redelivered or
 * out-of-order entry never moves the account backwards); the rules over
 * the account as it will be; remsent:{M} for what this cycle already had;
 * type checks of the streams if a reminder goes; then every write.
 * Nothing is written before the last check that can refuse. Two entries
 * of one subscriber in a batch run one after the other: the second sees
 * what the first wrote. */
#include "core/usage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "core/relay.h"
#include "core/usage_check.h"
#include "store/keys.h"
#include "text/template.h"

/* The writes of a reminder to the MT path: ONE function, through sc_emit:
 * on a Redis Cluster to the subscriber's outbox out:{M} (core/relay.h). */
static const char usage_push_lua[] =
    "local function rem_push(id, text, kind, prio, quiet)\n"
    "  local f = {'id', id, 'to', M, 'text', text, 'kind', kind, 'priority', prio}\n"
    "  if quiet then f[#f + 1] = 'quiet'; f[#f + 1] = '1' end\n"
    "  sc_emit('" SC_KEY_MT_PUSH "', unpack(f))\n"
    "end\n";

/* The common case (nothing due) allocates little: the config's constants
 * are locals of the prelude, the templates a table built only when a
 * reminder goes (RULES_TABLE). Per-field times are fields "at:FIELD" of
 * acct:{M} itself: one HMGET reads the times of the entry's fields and
 * the stored inputs (the ones the entry does not carry) of the rules its
 * fields touch, one HSET writes values and times. A rule is decided only
 * when the entry changed one of its inputs (data: data_used_kb,
 * data_quota_kb; balance and suspension: balance_fen, credit_fen;
 * charges: charges_fen; roaming: roaming; all but roaming: cycle).
 * F[f]: false (not in the entry), the entry's value of f, then true
 * (applied) or 0 (stale: its stored value read only if a decided rule
 * needs it, which a redelivered or out-of-order entry alone causes); the
 * cycle only when a threshold is reached. F, a (values), q (the HMGET's
 * fields) and set (the HSET's) are the call's tables, reset per entry:
 * none is made per entry. */
static const char usage_body_lua[] =
    "NOW = AT + 0\n"
    "RESET()\n"
    "local q = Q\n"
    "for i = 1, NF do\n"
    "  local f = ARGV[A0 + 2 * i - 2]\n"
    "  F[f] = ARGV[A0 + 2 * i - 1]\n"
    "  q[i] = AT_OF[f] or 'at:' .. f\n"
    "end\n"
    "local n, cy = NF, F.cycle\n"
    "if ON_DATA and (cy or F.data_used_kb or F.data_quota_kb) then\n"
    "  if not F.data_used_kb then n = n + 1; q[n] = 'data_used_kb' end\n"
    "  if not F.data_quota_kb then n = n + 1; q[n] = 'data_quota_kb' end\n"
    "end\n"
    "if (ON_BAL or ON_SUSP) and (cy or F.balance_fen or F.credit_fen) then\n"
    "  if not F.balance_fen then n = n + 1; q[n] = 'balance_fen' end\n"
    "  if not F.credit_fen then n = n + 1; q[n] = 'credit_fen' end\n"
    "end\n"
    "if ON_CHG and cy and not F.charges_fen then n = n + 1; q[n] = 'charges_fen' end\n"
    "if F.roaming then n = n + 1; q[n] = 'roaming' end\n"
    "local c = redis.call('HMGET', ACCT, unpack(q, 1, n))\n"
    "for k = NF + 1, n do a[q[k]] = c[k] end\n"
    "local was_roaming = a.roaming or ''\n"
    "local set, ns, stale, old = SET, 0, 0, nil\n"
    "for i = 1, NF do\n"
    "  local f = ARGV[A0 + 2 * i - 2]\n"
    "  if NOW > (tonumber(c[i]) or -1) then\n"
    "    local v = F[f]\n"
    "    set[ns + 1] = f; set[ns + 2] = v; set[ns + 3] = q[i]; set[ns + 4] = AT\n"
    "    ns = ns + 4\n"
    "    a[f] = v; F[f] = true\n"
    "  else\n"
    "    stale = stale + 1; F[f] = 0\n"
    "    old = old or {}; old[#old + 1] = f\n"
    "  end\n"
    "end\n"
    "if ns == 0 then return 0 end\n"
    "cy = F.cycle == true\n"
    "local dD = ON_DATA and (cy or F.data_used_kb == true or F.data_quota_kb == true)\n"
    "local dB = (ON_BAL or ON_SUSP) and (cy or F.balance_fen == true or F.credit_fen == true)\n"
    "local dC = ON_CHG and (cy or F.charges_fen == true)\n"
    "local old_read = old and (dD or dB or dC)\n"
    "if old_read then\n"
    "  local v = redis.call('HMGET', ACCT, unpack(old))\n"
    "  for k = 1, #old do a[old[k]] = v[k] end\n"
    "end\n"
    "local cand = nil\n"
    "local quota, used = dD and NUM('data_quota_kb'), dD and NUM('data_used_kb')\n"
    "if quota and quota > 0 and used then\n"
    "  local own = redis.call('HGET', REM, 'data_pct')\n"
    "  own = own and tonumber(own)\n"
    "  for k = 1, #PCTS + 1 do\n"
    "    local p = PCTS[k] or own\n"
    "    if p and used * 100 >= p * quota then\n"
    "      cand = cand or {}\n"
    "      cand[#cand + 1] = {'data', string.format('%d', p), p, string.format('%d', p),\n"
    "                         string.format('%d', math.floor(used / 1024)),\n"
    "                         string.format('%d', math.floor(quota / 1024))}\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local bal, credit = dB and NUM('balance_fen'), dB and NUM('credit_fen') or 0\n"
    "local suspended = bal and bal < -credit\n"
    "local chg = dC and NUM('charges_fen')\n"
    "local roams = F.roaming == true and a.roaming ~= '' and a.roaming ~= was_roaming\n"
    "if (ON_SUSP and suspended) or (ON_BAL and bal and not suspended and bal < BAL_BELOW) or\n"
    "   (ON_ROAM and roams) or (ON_CHG and chg and chg >= CHG_ABOVE) then\n"
    "  local function yuan(f)\n"
    "    local s = f < 0 and '-' or ''\n"
    "    f = math.abs(f)\n"
    "    return s .. string.format('%d.%02d', math.floor(f / 100), f % 100)\n"
    "  end\n"
    "  cand = cand or {}\n"
    "  if ON_SUSP and suspended then\n"
    "    cand[#cand + 1] = {'suspension', string.format('%d', credit), 0, yuan(bal), yuan(credit)}\n"
    "  elseif ON_BAL and bal and bal < BAL_BELOW then\n"
    "    cand[#cand + 1] = {'balance', string.format('%d', BAL_BELOW), 0, yuan(bal),\n"
    "                       yuan(BAL_BELOW)}\n"
    "  end\n"
    "  if ON_ROAM and roams then\n"
    "    cand[#cand + 1] = {'roaming', a.roaming, 0, a.roaming, HINT(a.roaming)}\n"
    "  end\n"
    "  if ON_CHG and chg and chg >= CHG_ABOVE then\n"
    "    cand[#cand + 1] = {'charges', string.format('%d', CHG_ABOVE), 0, yuan(chg),\n"
    "                       yuan(CHG_ABOVE)}\n"
    "  end\n"
    "end\n"
    "local CYCLE\n"
    "if cand then\n"
    "  if F.cycle ~= true and not (F.cycle == 0 and old_read) then\n"
    "    a.cycle = redis.call('HGET', ACCT, 'cycle')\n"
    "  end\n"
    "  CYCLE = a.cycle or '-'\n"
    "end\n";

/* What this cycle had (cand[i] = {rule, threshold, rank, values...}):
 * data sends only the highest threshold newly reached (a jump from 50 %
 * to 100 % is one text), the lower ones are marked as had; then every
 * write. */
static const char usage_send_lua[] =
    "local marks, out, best = {}, {}, nil\n"
    "if cand then\n"
    "  local names = {}\n"
    "  for i, x in ipairs(cand) do names[i] = x[1] .. ':' .. x[2] end\n"
    "  local got = redis.call('HMGET', SENT, unpack(names))\n"
    "  for i, x in ipairs(cand) do\n"
    "    if got[i] ~= CYCLE then\n"
    "      marks[#marks + 1] = names[i]; marks[#marks + 1] = CYCLE\n"
    "      x.name = names[i]\n"
    "      if x[1] ~= 'data' then out[#out + 1] = x\n"
    "      elseif not best or x[3] > best[3] then best = x end\n"
    "    end\n"
    "  end\n"
    "  if best then out[#out + 1] = best end\n"
    "end\n"
    "if #out > 0 then\n"
    "  PUSH_OK = PUSH_OK or stream_ok(PUSH)\n"
    "  if PUSH_OK == 'bad' then return {'bad_data', PUSH} end\n"
    "  if stream_ok(AUDIT) == 'bad' then return {'bad_data', AUDIT} end\n"
    "end\n"
    "redis.call('HSET', ACCT, unpack(set, 1, ns))\n"
    "if #marks == 0 then return ns / 4 end\n"
    "redis.call('HSET', SENT, unpack(marks))\n"
    "redis.call('EXPIRE', SENT, STATE_TTL)\n"
    "if #out == 0 then return ns / 4 end\n"
    "local res = {'applied', ns / 4, stale}\n"
    "M = string.sub(ACCT, M_AT, -2)\n"
    "if not RULES then\n"
    "  RULES = RULES_TABLE()\n"
    "  local t = redis.call('TIME')\n"
    "  NOW_MS = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))\n"
    "  MINID = string.format('%.0f', tonumber(NOW_MS) - 186 * 86400000)\n"
    "end\n"
    "local now_ms, minid = NOW_MS, MINID\n"
    "for _, x in ipairs(out) do\n"
    "  local R = RULES[x[1]]\n"
    "  local id = 'rem:' .. M .. ':' .. CYCLE .. ':' .. x.name\n"
    "  local text = R.t(x)\n"
    "  rem_push(id, text, R.k, R.p, not R.urgent)\n"
    "  redis.call('XADD', AUDIT, 'MINID', '~', minid, '*', 'event', 'reminder', 'rule', x[1],\n"
    "             'threshold', x[2], 'cycle', CYCLE, 'id', id, 'entry', ENTRY, 'at', now_ms)\n"
    "  res[#res + 1] = id\n"
    "end\n"
    "return res\n";

/* The batch: entry i's keys from KEYS[4 i - 2], its arguments from ai (the
 * first at 2), its field count the i-th digit of ARGV[1] (NFS: one
 * argument fewer per entry); apply() reads them as upvalues. A failed
 * entry's error (redis.call's is a table with err, Lua's a string) is its
 * result. */
static const char usage_loop_lua[] =
    "end\n"
    "local res, ai = {}, 2\n"
    "for i = 1, #NFS do\n"
    "  local k = 4 * i - 2\n"
    "  ACCT, REM, SENT, AUDIT = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]\n"
    "  AT, ENTRY, NF = ARGV[ai], ARGV[ai + 1], string.byte(NFS, i) - 48\n"
    "  A0 = ai + 2\n"
    "  local ok, r = pcall(apply)\n"
    "  if ok then res[i] = r\n"
    "  else res[i] = {'error', type(r) == 'table' and tostring(r.err) or tostring(r)} end\n"
    "  ai = A0 + 2 * NF\n"
    "end\n"
    "return res\n";

/* The acct:{M} fields an entry may set (core/usage_check.c; one missing
 * here only costs a concatenation per entry). */
static const char *const acct_fields[] = {"balance_fen", "plan", "cycle", "data_quota_kb",
                                          "data_used_kb", "charges_fen", "credit_fen",
                                          "roaming"};

/* A growing buffer; on ENOMEM it stays failed and the build returns NULL. */
struct buf {
    char *s;
    size_t n, cap;
    int failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->s = p, b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* s[0..n) as a Lua string literal: every byte but letters, digits and
 * space as a decimal escape, so that nothing in a template can end the
 * literal. */
static void put_lua_strn(struct buf *b, const char *s, size_t n)
{
    char e[8];
    puts_(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; p < (const unsigned char *)s + n;
         p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == ' ') {
            put(b, (const char *)p, 1);
        } else {
            snprintf(e, sizeof e, "\\%03u", *p);
            puts_(b, e);
        }
    }
    puts_(b, "\"");
}

static void put_lua_str(struct buf *b, const char *s) { put_lua_strn(b, s, strlen(s)); }

/* s rendered with "\1N" for value N as the body of a Lua function of x
 * returning the text with x[3 + N] for value N: one concatenation per
 * reminder instead of a pattern match over the whole text. */
static void put_render_fn(struct buf *b, const char *s)
{
    char v[16];
    puts_(b, "function(x) return \"\"");
    for (const char *lit = s;;) {
        const char *m = lit;
        while (*m && !(m[0] == '\1' && m[1] >= '1' && m[1] <= '4'))
            m++;
        if (m > lit) {
            puts_(b, " .. ");
            put_lua_strn(b, lit, (size_t)(m - lit));
        }
        if (!*m)
            break;
        snprintf(v, sizeof v, " .. x[%d]", 3 + (m[1] - '0'));
        puts_(b, v);
        lit = m + 2;
    }
    puts_(b, " end");
}

/* A Lua array constructor of n falses: a table made with n slots. */
static void put_falses(struct buf *b, int n)
{
    puts_(b, "{");
    for (int i = 0; i < n; i++)
        puts_(b, i ? (i % 8 ? ", false" : ",\n  false") : "false");
    puts_(b, "}");
}

/* Rule i's template rendered with "\1N" for value N (1-based), as its
 * render function (put_render_fn). */
static int put_template(struct buf *b, const struct sc_cfg_rule *r, int i)
{
    char err[200], marks[4][3];
    const char *vals[4];
    for (size_t k = 0; k < sc_rule_nvars[i] && k < 4; k++) {
        marks[k][0] = '\1', marks[k][1] = (char)('1' + k), marks[k][2] = '\0';
        vals[k] = marks[k];
    }
    struct sc_tpl *t = sc_tpl_compile(r->template, sc_rule_vars[i], sc_rule_nvars[i], err,
                                      sizeof err);
    if (!t)
        return SC_ECONFIG;
    size_t n = sc_tpl_render(t, vals, NULL, 0);
    char *out = malloc(n + 1);
    if (out) {
        sc_tpl_render(t, vals, out, n + 1);
        put_render_fn(b, out);
    }
    free(out);
    sc_tpl_free(t);
    return out ? 0 : SC_ENOMEM;
}

/* The prelude's per-call tables: AT_OF (each field's time field), F, a,
 * Q, SET and RESET (usage_body_lua). */
static void put_call_tables(struct buf *b)
{
    char line[200];
    /* Built once per call, not per entry: the names of the times, the
     * percentages (the entry's own LLTX threshold is tried after them). */
    puts_(b, "local AT_OF = {");
    for (size_t i = 0; i < SC_ARRAY_LEN(acct_fields); i++) {
        snprintf(line, sizeof line, "%s%s = 'at:%s'", i ? ", " : "", acct_fields[i],
                 acct_fields[i]);
        puts_(b, line);
    }
    /* The call's tables, made once and at their size (growing a table
     * from empty rehashes it at 1, 2, 4, 8 and 16 elements: about a sixth
     * of Redis' work per entry when each entry made its own,
     * docs/performance.md): F and a with every field, Q for the HMGET's
     * (at most 8 + 5) and SET for the HSET's (4 per field) arguments.
     * RESET sets every field of F and a to false, never nil: a key set to
     * nil becomes a dead slot that a later insert may have to rehash for. */
    puts_(b, "}\nlocal function FIELDS() return {");
    for (size_t i = 0; i < SC_ARRAY_LEN(acct_fields); i++) {
        snprintf(line, sizeof line, "%s%s = false", i ? ", " : "", acct_fields[i]);
        puts_(b, line);
    }
    puts_(b, "} end\nF, a = FIELDS(), FIELDS()\nlocal Q, SET = ");
    put_falses(b, 2 * SC_USAGE_FIELDS);
    puts_(b, ", ");
    put_falses(b, 4 * SC_USAGE_FIELDS);
    puts_(b, "\nlocal function RESET()\n");
    for (size_t i = 0; i < SC_ARRAY_LEN(acct_fields); i++) {
        snprintf(line, sizeof line, "  F.%s, a.%s = false, false\n", acct_fields[i],
                 acct_fields[i]);
        puts_(b, line);
    }
    puts_(b, "end\n");
}

char *sc__usage_script(const struct sc_cfg_reminders *rc)
{
    struct buf b = {0};
    char line[200];
    /* NK: the batch's own keys; the relay adds the outbox after them. */
    puts_(&b, "local NFS = ARGV[1]\nlocal NK = 1 + 4 * #NFS\n");
    puts_(&b, SC_RELAY_LUA_OPEN(NK)); /* closed below: SC_RELAY_LUA_CLOSE */
    puts_(&b, "local PUSH = KEYS[1]\n"
              "local ACCT, REM, SENT, AUDIT, M, AT, NOW, ENTRY, A0, NF\n"
              /* The entry's fields (F) and values (a): apply() sets them. */
              "local F, a\n"
              /* Made once per call, when the first reminder goes: the
               * rules' table, the call's time (every reminder of a call
               * has the same audit at), mt:push's type (no entry of the
               * call changes it but to a stream). */
              "local RULES, NOW_MS, MINID, PUSH_OK\n"
              /* Field f's number: an applied value was checked
               * (core/usage_check.c: [-]digits), a stored one may be
               * anything (nil then). */
              "local function NUM(f)\n"
              "  if F[f] == true then return a[f] + 0 end\n"
              "  return tonumber(a[f])\n"
              "end\n"
              /* 'ok' for no key or a stream, else 'bad'. */
              "local function stream_ok(k)\n"
              "  local ty = redis.call('TYPE', k).ok\n"
              "  return (ty == 'none' or ty == 'stream') and 'ok' or 'bad'\n"
              "end\n");
    snprintf(line, sizeof line,
             "local ON_DATA, ON_BAL, ON_SUSP, ON_ROAM, ON_CHG = %s, %s, %s, %s, %s\n",
             rc->data.r.enabled ? "true" : "false", rc->balance.r.enabled ? "true" : "false",
             rc->suspension.enabled ? "true" : "false", rc->roaming.r.enabled ? "true" : "false",
             rc->charges.r.enabled ? "true" : "false");
    puts_(&b, line);
    /* M_AT: where the MSISDN starts in acct:{M} (M is read from the key
     * when a reminder goes, not passed for every entry). */
    snprintf(line, sizeof line,
             "local BAL_BELOW, CHG_ABOVE, STATE_TTL, M_AT = %d, %d, %d, %d\n",
             rc->balance.below_fen, rc->charges.above_fen, rc->state_ttl_s,
             (int)(strchr(SC_KEY_ACCT, '{') - SC_KEY_ACCT) + 2);
    puts_(&b, line);
    put_call_tables(&b);
    puts_(&b, "local PCTS = {");
    for (size_t i = 0; i < rc->data.npercents; i++) {
        snprintf(line, sizeof line, "%s%d", i ? ", " : "", rc->data.pct[i]);
        puts_(&b, line);
    }
    puts_(&b, "}\nlocal function HINT(c)\n  local h = {\n");
    for (size_t i = 0; i < rc->roaming.nhints; i++) {
        puts_(&b, "    [");
        put_lua_str(&b, rc->roaming.hints[i].key);
        puts_(&b, "] = ");
        put_lua_str(&b, rc->roaming.hints[i].value ? rc->roaming.hints[i].value : "");
        puts_(&b, ",\n");
    }
    puts_(&b, "  }\n  return h[c] or ");
    put_lua_str(&b, rc->roaming.default_hint ? rc->roaming.default_hint : "");
    puts_(&b, "\nend\nlocal function RULES_TABLE() return {\n");
    for (int i = 0; i < SC_RULE_COUNT; i++) {
        const struct sc_cfg_rule *r = sc_reminders_rule(rc, i);
        snprintf(line, sizeof line, "  %s = {urgent = %s, p = '%d', k = ", sc_rule_names[i],
                 r->urgent ? "true" : "false", r->priority);
        puts_(&b, line);
        put_lua_str(&b, r->kind);
        puts_(&b, ", t = ");
        if (put_template(&b, r, i) < 0) {
            free(b.s);
            return NULL;
        }
        puts_(&b, "},\n");
    }
    puts_(&b, "} end\n");
    puts_(&b, usage_push_lua);
    puts_(&b, "local function apply()\n");
    puts_(&b, usage_body_lua);
    puts_(&b, usage_send_lua);
    puts_(&b, usage_loop_lua);
    puts_(&b, SC_RELAY_LUA_CLOSE);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
