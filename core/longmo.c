/* longmo.c -- long MOs reassembled in Redis: one script per part stores it
 * before it is acknowledged; the completing part runs the whole message.
 *
 * Keys and the contract with the request layer: core/longmo.h. Each part
 * costs one round trip; the completing part then costs the command's own
 * (the handler's script), and the tombstone one more write that nobody
 * waits for. */
#include "core/longmo.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "core/app.h"
#include "core/metrics.h"
#include "store/keys.h"
#include "text/text.h"

/* KEYS[1] the message hash, KEYS[2] the subscriber's index; ARGV[1] seq,
 * ARGV[2] data_coding, ARGV[3] the part's bytes, ARGV[4] timeout (ms),
 * ARGV[5] max messages per subscriber, ARGV[6] total. Reads come first so
 * that a key of the wrong type fails the script before any write. A part
 * of a done message whose digest matches is a redelivery; one that differs
 * belongs to a new message reusing the reference (the tombstone goes).
 * Returns {'done'} (the message ran already), {'dc'} (data_coding differs
 * from the first part), {'busy'} (the subscriber's limit), {'partial'}
 * (stored), or {'complete', dc, part1, ..., partN}. */
const char sc__longmo_part_lua[] =
    "local k, idx = KEYS[1], KEYS[2]\n"
    "redis.call('ZSCORE', idx, k)\n"
    "if redis.call('HGET', k, 'done') == '1' then\n"
    "  local h = redis.call('HGET', k, 'h' .. ARGV[1])\n"
    "  if not h or h == redis.sha1hex(ARGV[3]) then return {'done'} end\n"
    "  redis.call('DEL', k)\n"
    "end\n"
    "local dc = redis.call('HGET', k, 'dc')\n"
    "if dc and dc ~= ARGV[2] then return {'dc'} end\n"
    "if not dc then\n"
    "  local t = redis.call('TIME')\n"
    "  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "  local ttl = tonumber(ARGV[4])\n"
    "  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)\n"
    "  if redis.call('ZCARD', idx) >= tonumber(ARGV[5]) then return {'busy'} end\n"
    "  redis.call('HSET', k, 'dc', ARGV[2])\n"
    "  redis.call('PEXPIRE', k, ttl)\n"
    "  redis.call('ZADD', idx, now + ttl, k)\n"
    "  redis.call('PEXPIRE', idx, ttl)\n"
    "  dc = ARGV[2]\n"
    "end\n"
    "redis.call('HSET', k, ARGV[1], ARGV[3])\n"
    "local total = tonumber(ARGV[6])\n"
    "if redis.call('HLEN', k) <= total then return {'partial'} end\n"
    "local r = {'complete', dc}\n"
    "for i = 1, total do r[#r + 1] = redis.call('HGET', k, tostring(i)) end\n"
    "return r\n";

/* KEYS[1] the message hash, KEYS[2] the index; ARGV[1] lifetime (ms). The
 * parts are replaced by done=1 and hN = SHA-1 of part N (40 bytes each);
 * types checked before the first write. */
const char sc__longmo_done_lua[] =
    "local kt = redis.call('TYPE', KEYS[1]).ok\n"
    "local it = redis.call('TYPE', KEYS[2]).ok\n"
    "if (kt ~= 'hash' and kt ~= 'none') or (it ~= 'zset' and it ~= 'none') then\n"
    "  return redis.error_reply('WRONGTYPE reassembly keys of the wrong type')\n"
    "end\n"
    "if redis.call('HGET', KEYS[1], 'done') == '1' then return 0 end\n"
    "local t = {'done', '1'}\n"
    "for i = 1, 255 do\n"
    "  local v = redis.call('HGET', KEYS[1], tostring(i))\n"
    "  if not v then break end\n"
    "  t[#t + 1] = 'h' .. i\n"
    "  t[#t + 1] = redis.sha1hex(v)\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], unpack(t))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
    "redis.call('ZREM', KEYS[2], KEYS[1])\n"
    "return 1\n";

/* Strings are built by hand: this runs for every part, and the 7 snprintf
 * calls it had cost ~6,000 instructions per part (callgrind,
 * docs/performance.md "Long MOs"). */

/* v in decimal at p (room for 10 digits); returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char d[10];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = d[--n];
    return p;
}

/* Append s to buf (at *o, capacity sz); 0 or SC_ETOOBIG. */
static int put_str(char *buf, size_t sz, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= sz)
        return SC_ETOOBIG;
    memcpy(buf + *o, s, n + 1);
    *o += n;
    return 0;
}

static int index_key(const char *msisdn, char *idx, size_t idxsz)
{
    size_t o = 0;
    return put_str(idx, idxsz, &o, SC_KEY_REASM_OPEN) < 0 || put_str(idx, idxsz, &o, msisdn) < 0 ||
                   put_str(idx, idxsz, &o, SC_KEY_REASM_CLOSE) < 0
               ? SC_ETOOBIG
               : 0;
}

int sc__longmo_keys(const char *msisdn, const char *dst, uint16_t ref, uint8_t total, char *key,
                    size_t keysz, char *idx, size_t idxsz)
{
    char num[16], *e = put_uint(num, ref);
    *e++ = ':';
    *put_uint(e, total) = '\0';
    size_t o = 0;
    if (index_key(msisdn, idx, idxsz) < 0 || put_str(key, keysz, &o, idx) < 0 ||
        put_str(key, keysz, &o, ":") < 0 || put_str(key, keysz, &o, dst) < 0 ||
        put_str(key, keysz, &o, ":") < 0 || put_str(key, keysz, &o, num) < 0)
        return SC_ETOOBIG;
    return 0;
}

int sc__longmo_join(struct redisReply *const *el, size_t nel, unsigned total, uint8_t *dc,
                    uint8_t **out, size_t *len)
{
    if (total < 2 || nel != (size_t)total + 1)
        return SC_EPROTO;
    size_t n = 0;
    for (size_t i = 0; i < nel; i++) {
        if (el[i]->type != REDIS_REPLY_STRING || el[i]->len > SC_SM_MSG_MAX)
            return SC_EPROTO;
        if (i > 0)
            n += el[i]->len;
    }
    char *end;
    unsigned long v = strtoul(el[0]->str, &end, 10);
    if (el[0]->len == 0 || *end || v > 255)
        return SC_EPROTO;
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return SC_ENOMEM;
    size_t o = 0;
    for (size_t i = 1; i < nel; i++) {
        memcpy(b + o, el[i]->str, el[i]->len);
        o += el[i]->len;
    }
    *dc = (uint8_t)v;
    *out = b;
    *len = n;
    return 0;
}

/* ---- one part ------------------------------------------------------------ */

struct part {
    struct sc_app *app;
    struct sc_gen *gen;
    struct sc_mo_token tok;
    uint32_t cmd_id;
    struct sc_addr src, dst;
    uint16_t ref;
    uint8_t seq, total;
    uint64_t t0;
    char link[40];
    char msisdn[SC_ADDR_MAX];
    char key[SC_LONGMO_KEY_MAX];
};

static void log_part(const struct part *p, enum sc_log_level lvl, const char *outcome,
                     const char *why)
{
    sc__metrics_long_mo_part(outcome);
    if (!sc_log_enabled(lvl))
        return;
    sc_log(lvl, "event=long_mo_part msisdn=%s service=%s ref=%u part=%u/%u outcome=%s%s%s%s ms=%llu",
           p->msisdn, p->dst.addr, p->ref, p->seq, p->total, outcome, why ? " reason=\"" : "",
           why ? why : "", why ? "\"" : "",
           (unsigned long long)(uv_now(p->app->loop) - p->t0));
}

static void part_end(struct part *p)
{
    p->app->inflight--;
    sc__gen_unref(p->gen);
    free(p);
}

/* Answer the part and forget it. */
static void answer(struct part *p, uint32_t status, enum sc_log_level lvl, const char *outcome,
                   const char *why)
{
    sc_esme_mo_done(p->app->esme, p->tok, status);
    log_part(p, lvl, outcome, why);
    part_end(p);
}

static void temporary(struct part *p, const char *why)
{
    answer(p, p->gen->cfg->limits.mo_error_status, SC_LOG_INFO, "temporary_error", why);
}

/* The message is whole: decode it and run it as an ordinary MO under this
 * part's token; the request layer marks it done on a final ESME_ROK. */
static void complete(struct part *p, struct redisReply *const *el, size_t nel)
{
    struct sc_app *a = p->app;
    uint8_t dc = 0, *bytes = NULL;
    size_t n = 0;
    int rc = sc__longmo_join(el, nel, p->total, &dc, &bytes, &n);
    if (rc < 0) {
        if (rc == SC_EPROTO)
            sc_error("event=script_error msisdn=%s script=longmo keys=%s error=\"unexpected "
                     "result shape\"", p->msisdn, p->key);
        temporary(p, sc_strerror(rc));
        return;
    }
    size_t cap = 3 * n + 4; /* a GSM, Latin-1 or UCS-2 unit is at most 3 UTF-8 bytes */
    char *text = malloc(cap);
    if (!text) {
        free(bytes);
        temporary(p, "out of memory");
        return;
    }
    struct sc_mo mo = {
        .cmd_id = p->cmd_id, .src = p->src, .dst = p->dst, .data_coding = dc,
        .parts = p->total, .text = text, .link = p->link,
    };
    mo.text_len = sc_text_decode(dc, (enum sc_dc0)p->gen->cfg->smpp.dc0, bytes, n, text, cap);
    free(bytes);
    log_part(p, SC_LOG_DEBUG, "complete", NULL);
    /* The request takes its own in-flight slot: give this one back first
     * (mo must not point into p after that). */
    struct sc_mo_token tok = p->tok;
    char key[SC_LONGMO_KEY_MAX], link[sizeof p->link];
    memcpy(key, p->key, sizeof key);
    memcpy(link, p->link, sizeof link);
    mo.link = link;
    part_end(p);
    sc__req_start(a, &mo, tok, key);
    free(text);
}

static void on_part_script(void *ctx, int err, struct redisReply *rep)
{
    struct part *p = ctx;
    if (err) {
        temporary(p, err == SC_ETIMEOUT ? "redis timeout" : "redis connection lost");
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        char e[320] = "unexpected reply type";
        if (rep->type == REDIS_REPLY_ERROR)
            sc_log_quote(e, sizeof e, rep->str, rep->len);
        /* The parts stay where they are; the SMSC redelivers. */
        sc_error("event=script_error msisdn=%s script=longmo keys=%s error=%s", p->msisdn,
                 p->key, e);
        temporary(p, "script error");
        return;
    }
    const char *w = rep->element[0]->str;
    const struct sc_config *cfg = p->gen->cfg;
    if (strcmp(w, "partial") == 0) {
        answer(p, SC_ESME_ROK, SC_LOG_DEBUG, "stored", NULL);
    } else if (strcmp(w, "done") == 0) {
        /* Its message ran: a redelivery after a lost resp. */
        answer(p, SC_ESME_ROK, SC_LOG_INFO, "already_done", NULL);
    } else if (strcmp(w, "busy") == 0) {
        char why[96];
        snprintf(why, sizeof why, "reasm_max_per_source (%d) long MOs pending",
                 cfg->smpp.reasm_max_per_source);
        answer(p, cfg->limits.mo_error_status, SC_LOG_WARN, "long_mo_refused", why);
    } else if (strcmp(w, "dc") == 0) {
        answer(p, SC_ESME_RX_P_APPN, SC_LOG_WARN, "long_mo_refused",
               "data_coding differs from the first part");
    } else if (strcmp(w, "complete") == 0) {
        complete(p, (struct redisReply *const *)rep->element + 1, rep->elements - 1);
    } else {
        sc_error("event=script_error msisdn=%s script=longmo keys=%s error=\"unknown result\"",
                 p->msisdn, p->key);
        temporary(p, "script error");
    }
}

void sc__longmo_on_part(struct sc_app *a, const struct sc_mo *mo, struct sc_mo_token tok)
{
    const struct sc_config *cfg = a->gen->cfg;
    struct part *p = calloc(1, sizeof *p);
    if (!p) {
        sc_esme_mo_done(a->esme, tok, cfg->limits.mo_error_status);
        return;
    }
    a->inflight++;
    p->app = a;
    p->gen = a->gen;
    p->gen->refs++;
    p->tok = tok;
    p->cmd_id = mo->cmd_id;
    p->src = mo->src;
    p->dst = mo->dst;
    p->ref = mo->concat.ref;
    p->seq = mo->concat.seq;
    p->total = mo->concat.total;
    p->t0 = uv_now(a->loop);
    sc_strlcpy(p->link, mo->link ? mo->link : "", sizeof p->link);
    sc_msisdn_national((const char *const *)cfg->msisdn_prefixes, cfg->nmsisdn_prefixes,
                       mo->src.addr, p->msisdn, sizeof p->msisdn);
    char idx[SC_LONGMO_KEY_MAX];
    if (sc__longmo_keys(p->msisdn, mo->dst.addr, p->ref, p->total, p->key, sizeof p->key, idx,
                        sizeof idx) < 0) {
        temporary(p, "key too long"); /* cannot happen: addresses are bounded */
        return;
    }
    if (!sc_store_ready(a->store)) {
        temporary(p, "redis unavailable");
        return;
    }
    char seq[4], dc[4], ttl[12], maxs[12], total[4];
    const char *args[6] = {seq, dc, mo->part ? (const char *)mo->part : "", ttl, maxs, total};
    size_t lens[6] = {
        (size_t)(put_uint(seq, p->seq) - seq), (size_t)(put_uint(dc, mo->data_coding) - dc),
        mo->part ? mo->part_len : 0,
        (size_t)(put_uint(ttl, (unsigned)cfg->smpp.reasm_timeout_ms) - ttl),
        (size_t)(put_uint(maxs, (unsigned)cfg->smpp.reasm_max_per_source) - maxs),
        (size_t)(put_uint(total, p->total) - total),
    };
    const char *keys[2] = {p->key, idx};
    int rc = sc_store_eval(a->store, a->longmo_script, 2, keys, NULL, 6, args, lens,
                           on_part_script, p);
    if (rc < 0)
        temporary(p, rc == SC_EAGAIN ? "redis unavailable" : sc_strerror(rc));
}

/* ---- done ------------------------------------------------------------------ */

static void on_done_script(void *ctx, int err, struct redisReply *rep)
{
    (void)ctx;
    /* Nobody waits: a lost tombstone only lets a redelivered part run its
     * (idempotent) command again. */
    if (err || rep->type == REDIS_REPLY_ERROR)
        sc_info("event=long_mo_done_lost error=\"%s\"",
                 err ? sc_strerror(err) : "script error");
}

void sc__longmo_done(struct sc_app *a, const char *msisdn, const char *key)
{
    char idx[SC_LONGMO_KEY_MAX], ttl[12];
    if (index_key(msisdn, idx, sizeof idx) < 0)
        return;
    const char *args[1] = {ttl};
    size_t lens[1] = {(size_t)(put_uint(ttl, (unsigned)a->gen->cfg->smpp.reasm_timeout_ms) - ttl)};
    const char *keys[2] = {key, idx};
    int rc = sc_store_eval(a->store, a->longmo_done_script, 2, keys, NULL, 1, args, lens,
                           on_done_script, NULL);
    if (rc < 0)
        sc_info("event=long_mo_done_lost msisdn=%s error=\"%s\"", msisdn, sc_strerror(rc));
}
