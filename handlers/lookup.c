/* lookup.c -- "lookup": a query declared in YAML (one hash of the subscriber,
 * formatted values, a reply chosen by conditions), e.g. CXYE and CXLL.
 *
 * A route's options say everything: the key ("acct:{M}", {M} = the national
 * MSISDN, which is the hash tag), the values the replies show, each a
 * formatter applied to an expression over the hash's fields
 * ("yuan(balance_fen + credit_fen)", "data(data_quota_kb - data_used_kb)",
 * "text(plan)"), defaults for absent fields, cases (the first whose `when`
 * holds gives the reply), the reply otherwise, and the texts for a missing
 * key or missing fields. Everything is checked when the config loads, with
 * FILE:LINE:COL errors; the parsed expressions live in the options struct,
 * so a request only evaluates them.
 *
 * Redis: one script, HMGET of the fields the expressions name (and EXISTS),
 * in the one round trip of the request; it writes nothing (the request layer
 * adds its rate limit), so running it twice is harmless. docs/handlers.md,
 * "A query without C". */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "config/schema.h"
#include "handlers/handler.h"
#include "handlers/query.h"
#include "store/keys.h"
#include "text/template.h"

#define LK_FIELDS 15       /* fields one lookup reads: one script takes 16 args */
#define LK_VALUES 12       /* placeholders of one lookup */
#define LK_CASES 8
#define LK_KEY_MAX 64      /* bytes of a key pattern */
#define LK_TPL_MAX 1024    /* bytes of a reply template */
#define LK_TEXT_CHARS 20   /* a text() value is cut to this many characters, with "…" */
#define LK_VALUE_MAX 96    /* bytes of one formatted value */
#define LK_REPLY_MAX 2048

enum lk_fmt { LK_YUAN, LK_DATA, LK_INT, LK_TEXT };

static const char *const lk_fmt_names[] = {"yuan", "data", "int", "text"};

struct lk_case {
    char *when;
    char *reply;
};

struct lk_opts {
    char *key;
    struct sc_cfg_kv *values;
    size_t nvalues;
    struct sc_cfg_kv *defaults;
    size_t ndefaults;
    struct lk_case *cases;
    size_t ncases;
    char *reply, *missing, *partial;
    /* Filled by lk_check from the above, without allocating (sc_schema_free
     * frees the declared fields only). */
    char fields[LK_FIELDS][SC_QFIELD_MAX];
    size_t nfields;
    const char *def[LK_FIELDS];      /* default of field i (in defaults), or NULL */
    const char *names[LK_VALUES];    /* placeholder names (the keys of values) */
    enum lk_fmt fmt[LK_VALUES];
    struct sc_qexpr expr[LK_VALUES]; /* text(): one term, the field */
    struct sc_qcond cond[LK_CASES];
    unsigned uses[LK_CASES + 1];     /* bit v: that template shows value v; [ncases]: reply */
    size_t mpos;                     /* the "M" of "{M}" in key */
};

/* ---- loading: the options' own checks ------------------------------------ */

static const struct sc_field lk_case_fields[] = {
    {"when", SC_FT_STRING, offsetof(struct lk_case, when), SC_F_REQUIRED | SC_F_NONEMPTY,
     .max = 256},
    {"reply", SC_FT_STRING, offsetof(struct lk_case, reply), SC_F_REQUIRED | SC_F_NONEMPTY,
     .max = LK_TPL_MAX},
    {.name = NULL},
};

static const struct sc_schema lk_case_schema = {lk_case_fields, sizeof(struct lk_case), NULL};

/* The node of key in map (or map itself, or NULL), for messages. */
static const struct sc_cfg_node *at(const struct sc_cfg_node *map, const char *key)
{
    const struct sc_cfg_node *n = map ? sc_cfg_node_get(map, key) : NULL;
    return n ? n : map;
}

static int check_key(struct sc_schema_ctx *ctx, struct lk_opts *o, const struct sc_cfg_node *map,
                     const char *path)
{
    const char *m = strstr(o->key, "{M}");
    int bad = !m || strstr(m + 1, "{M}");
    for (const char *p = o->key; *p && !bad; p++)
        bad = (unsigned char)*p <= ' ' || *p == 0x7f ||
              ((*p == '{' || *p == '}') && p != m && p != m + 2);
    if (bad)
        return sc_schema_error(ctx, at(map, "key"), "%s.key: must contain {M} (the subscriber, "
                               "the key's hash tag) once, and no other braces or spaces", path);
    o->mpos = (size_t)(m - o->key) + 1;
    return 0;
}

/* values: NAME: "FORMAT(EXPR)". */
static int check_values(struct sc_schema_ctx *ctx, struct lk_opts *o,
                        const struct sc_cfg_node *map, const char *path, struct sc_qfields *f)
{
    const struct sc_cfg_node *vmap = at(map, "values");
    if (o->nvalues > LK_VALUES)
        return sc_schema_error(ctx, vmap, "%s.values: at most %d", path, LK_VALUES);
    for (size_t v = 0; v < o->nvalues; v++) {
        const struct sc_cfg_kv *kv = &o->values[v];
        const struct sc_cfg_node *node = at(vmap, kv->key);
        size_t nl = strlen(kv->key);
        int ok = nl > 0 && nl < SC_QFIELD_MAX &&
                 strspn(kv->key, "abcdefghijklmnopqrstuvwxyz_0123456789") == nl;
        if (!ok)
            return sc_schema_error(ctx, node, "%s.values.%s: a placeholder name is a-z, 0-9 "
                                   "and _, at most %d bytes", path, kv->key, SC_QFIELD_MAX - 1);
        o->names[v] = kv->key;
        const char *open = strchr(kv->value, '(');
        size_t len = strlen(kv->value);
        size_t k = SC_ARRAY_LEN(lk_fmt_names);
        if (open && len && kv->value[len - 1] == ')')
            for (k = 0; k < SC_ARRAY_LEN(lk_fmt_names); k++)
                if (strlen(lk_fmt_names[k]) == (size_t)(open - kv->value) &&
                    memcmp(lk_fmt_names[k], kv->value, (size_t)(open - kv->value)) == 0)
                    break;
        if (k == SC_ARRAY_LEN(lk_fmt_names))
            return sc_schema_error(ctx, node, "%s.values.%s: write FORMAT(EXPRESSION), FORMAT "
                                   "one of yuan, data, int, text (got \"%s\")", path, kv->key,
                                   kv->value);
        o->fmt[v] = (enum lk_fmt)k;
        char inner[256], e[128];
        size_t il = len - (size_t)(open - kv->value) - 2;
        if (il >= sizeof inner)
            return sc_schema_error(ctx, node, "%s.values.%s: expression too long", path, kv->key);
        memcpy(inner, open + 1, il);
        inner[il] = '\0';
        if (sc_qexpr_parse(inner, f, &o->expr[v], e, sizeof e) < 0)
            return sc_schema_error(ctx, node, "%s.values.%s: %s", path, kv->key, e);
        const struct sc_qexpr *x = &o->expr[v];
        if (o->fmt[v] == LK_TEXT && (x->n != 1 || x->t[0].field < 0 || x->t[0].sign < 0))
            return sc_schema_error(ctx, node, "%s.values.%s: text() takes one field", path,
                                   kv->key);
    }
    return 0;
}

/* Compile text against the placeholders (none when names is NULL), and
 * note which values it shows. */
static int check_tpl(struct sc_schema_ctx *ctx, struct lk_opts *o, const struct sc_cfg_node *node,
                     const char *what, const char *text, int names, unsigned *uses)
{
    char e[256];
    struct sc_tpl *t = sc_tpl_compile(text, o->names, names ? o->nvalues : 0, e, sizeof e);
    if (!t)
        return sc_schema_error(ctx, node, "%s: %s", what, e);
    sc_tpl_free(t);
    for (size_t v = 0; uses && v < o->nvalues; v++) {
        char ph[SC_QFIELD_MAX + 2];
        snprintf(ph, sizeof ph, "{%s}", o->names[v]);
        if (strstr(text, ph))
            *uses |= 1u << v;
    }
    return 0;
}

static int check_cases(struct sc_schema_ctx *ctx, struct lk_opts *o,
                       const struct sc_cfg_node *map, const char *path, struct sc_qfields *f)
{
    const struct sc_cfg_node *seq = at(map, "cases");
    const struct sc_cfg_node *item = seq && seq->kind == SC_CFG_SEQ ? seq->child : NULL;
    char what[96], e[128];
    for (size_t c = 0; c < o->ncases; c++, item = item ? item->next : NULL) {
        snprintf(what, sizeof what, "%s.cases[%zu].when", path, c);
        if (sc_qcond_parse(o->cases[c].when, f, &o->cond[c], e, sizeof e) < 0)
            return sc_schema_error(ctx, at(item, "when"), "%s: %s", what, e);
        snprintf(what, sizeof what, "%s.cases[%zu].reply", path, c);
        if (check_tpl(ctx, o, at(item, "reply"), what, o->cases[c].reply, 1, &o->uses[c]) < 0)
            return SC_ECONFIG;
    }
    return 0;
}

/* defaults: FIELD: VALUE, each for a field the lookup reads. */
static int check_defaults(struct sc_schema_ctx *ctx, struct lk_opts *o,
                          const struct sc_cfg_node *map, const char *path)
{
    const struct sc_cfg_node *dmap = at(map, "defaults");
    for (size_t d = 0; d < o->ndefaults; d++) {
        const struct sc_cfg_kv *kv = &o->defaults[d];
        size_t i;
        for (i = 0; i < o->nfields && strcmp(o->fields[i], kv->key) != 0; i++)
            ;
        if (i == o->nfields)
            return sc_schema_error(ctx, at(dmap, kv->key), "%s.defaults.%s: no value or case "
                                   "uses this field", path, kv->key);
        o->def[i] = kv->value;
    }
    return 0;
}

static int lk_check(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                    const char *path)
{
    struct lk_opts *o = obj;
    struct sc_qfields f = {o->fields, &o->nfields, LK_FIELDS};
    char what[96];
    if (check_key(ctx, o, map, path) < 0 || check_values(ctx, o, map, path, &f) < 0 ||
        check_cases(ctx, o, map, path, &f) < 0 || check_defaults(ctx, o, map, path) < 0)
        return SC_ECONFIG;
    snprintf(what, sizeof what, "%s.reply", path);
    if (check_tpl(ctx, o, at(map, "reply"), what, o->reply, 1, &o->uses[o->ncases]) < 0)
        return SC_ECONFIG;
    snprintf(what, sizeof what, "%s.missing", path);
    if (check_tpl(ctx, o, at(map, "missing"), what, o->missing, 0, NULL) < 0)
        return SC_ECONFIG;
    snprintf(what, sizeof what, "%s.partial", path);
    if (o->partial && check_tpl(ctx, o, at(map, "partial"), what, o->partial, 0, NULL) < 0)
        return SC_ECONFIG;
    return 0;
}

#define LK_OFF(m) offsetof(struct lk_opts, m)
static const struct sc_field lk_fields[] = {
    {"key", SC_FT_STRING, LK_OFF(key), SC_F_REQUIRED | SC_F_NONEMPTY, .max = LK_KEY_MAX},
    {"values", SC_FT_MAP, LK_OFF(values), 0, .count_offset = LK_OFF(nvalues)},
    {"defaults", SC_FT_MAP, LK_OFF(defaults), 0, .count_offset = LK_OFF(ndefaults)},
    {"cases", SC_FT_LIST, LK_OFF(cases), 0, .max = LK_CASES, .count_offset = LK_OFF(ncases),
     .sub = &lk_case_schema},
    {"reply", SC_FT_STRING, LK_OFF(reply), SC_F_REQUIRED | SC_F_NONEMPTY, .max = LK_TPL_MAX},
    {"missing", SC_FT_STRING, LK_OFF(missing), SC_F_REQUIRED | SC_F_NONEMPTY, .max = LK_TPL_MAX},
    {"partial", SC_FT_STRING, LK_OFF(partial), SC_F_NONEMPTY, .max = LK_TPL_MAX},
    {.name = NULL},
};

static const struct sc_schema lk_schema = {lk_fields, sizeof(struct lk_opts), lk_check};

/* ---- a request ------------------------------------------------------------ */

/* K[1] the hash; A[1..] its fields. Returns {EXISTS as "1"/"0", each field's
 * value or ""}. Reads only. */
static const char lookup_lua[] =
    "local out = {tostring(redis.call('EXISTS', K[1]))}\n"
    "if #A > 0 then\n"
    "  local v = redis.call('HMGET', K[1], unpack(A))\n"
    "  for i = 1, #A do out[i + 1] = v[i] or '' end\n"
    "end\n"
    "return out\n";

/* Format value v into out; 0, or -1 when a field it needs has no value. */
static int format_value(const struct lk_opts *o, size_t v, const char *const *raw,
                        const long long *vals, const unsigned char *have, char *out,
                        size_t outsz)
{
    if (o->fmt[v] == LK_TEXT) {
        const char *r = raw[o->expr[v].t[0].field];
        if (!r)
            return -1;
        sc_text_short(r, LK_TEXT_CHARS, out, outsz);
        return 0;
    }
    long long x;
    if (sc_qexpr_eval(&o->expr[v], vals, have, &x) < 0)
        return -1;
    if (o->fmt[v] == LK_YUAN)
        sc_fmt_yuan(x, out, outsz);
    else if (o->fmt[v] == LK_DATA)
        sc_fmt_kb(x, out, outsz);
    else
        snprintf(out, outsz, "%lld", x);
    return 0;
}

/* Render text with the values and reply (the text was compiled when the
 * config loaded, so only memory can fail here). */
static void reply_with(struct sc_req *req, const struct lk_opts *o, const char *text,
                       const char *const *values)
{
    char e[128], out[LK_REPLY_MAX];
    struct sc_tpl *t = sc_tpl_compile(text, o->names, o->nvalues, e, sizeof e);
    if (!t) {
        sc_req_fail(req, e);
        return;
    }
    sc_tpl_render(t, values, out, sizeof out);
    sc_tpl_free(t);
    sc_req_reply(req, out);
}

static void on_lookup(struct sc_req *req, const void *opts, struct redisReply *const *e,
                      size_t n)
{
    const struct lk_opts *o = opts;
    if (n != 1 + o->nfields) {
        sc_error("event=script_result_bad handler=lookup msisdn=%s", SC_LOGV(req->msisdn));
        sc_req_fail(req, "bad script result");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (e[i]->type != REDIS_REPLY_STRING) {
            sc_error("event=script_result_bad handler=lookup msisdn=%s", SC_LOGV(req->msisdn));
            sc_req_fail(req, "bad script result");
            return;
        }
    if (strcmp(e[0]->str, "1") != 0) {
        reply_with(req, o, o->missing, NULL);
        return;
    }
    const char *raw[LK_FIELDS];
    long long vals[LK_FIELDS];
    unsigned char have[LK_FIELDS];
    for (size_t i = 0; i < o->nfields; i++) {
        raw[i] = e[1 + i]->str[0] ? e[1 + i]->str : o->def[i];
        have[i] = raw[i] && sc_parse_int(raw[i], &vals[i]) == 0;
    }
    char text[LK_VALUES][LK_VALUE_MAX];
    const char *values[LK_VALUES];
    unsigned avail = 0;
    for (size_t v = 0; v < o->nvalues; v++) {
        values[v] = "";
        if (format_value(o, v, raw, vals, have, text[v], sizeof text[v]) == 0) {
            values[v] = text[v];
            avail |= 1u << v;
        }
    }
    size_t pick = o->ncases;   /* the reply, unless a case holds */
    for (size_t c = 0; c < o->ncases && pick == o->ncases; c++)
        if (sc_qcond_eval(&o->cond[c], vals, have) == 1)
            pick = c;
    if (o->uses[pick] & ~avail) {
        /* A field the reply shows is absent or not a number: say so, never
         * a reply with a hole in it. */
        sc_info("event=lookup_partial msisdn=%s fields_missing=%u", SC_LOGV(req->msisdn),
                (unsigned)__builtin_popcount(o->uses[pick] & ~avail));
        reply_with(req, o, o->partial ? o->partial : o->missing, NULL);
        return;
    }
    reply_with(req, o, pick < o->ncases ? o->cases[pick].reply : o->reply, values);
}

/* The script's key and fields (handlers/handler.h). */
static void lookup_prepare(const struct sc_req *req, const void *opts, struct sc_req_call *call)
{
    const struct lk_opts *o = opts;
    /* The pattern with the MSISDN for its "M"; built without printf, as it
     * runs for every MO. The schema bounds the pattern to LK_KEY_MAX bytes
     * and a national number is shorter than an SMPP address, so key holds
     * any of them; a key that did not fit would fail the request. */
    char key[LK_KEY_MAX + SC_KEY_MAX];
    size_t ml = strlen(req->msisdn), tail = strlen(o->key + o->mpos + 1);
    if (o->mpos + ml + tail >= sizeof key)
        ml = 0; /* cannot happen (see above); never write past key */
    memcpy(key, o->key, o->mpos);
    memcpy(key + o->mpos, req->msisdn, ml);
    memcpy(key + o->mpos + ml, o->key + o->mpos + 1, tail + 1);
    sc_req_key(call, key);
    for (size_t i = 0; i < o->nfields; i++)
        sc_req_arg(call, o->fields[i]);
}

const struct sc_handler sc_handler_lookup = {
    .name = "lookup",
    .summary = "a query declared in the route's options: one hash, formatted values, "
               "replies by conditions",
    .options = &lk_schema,
    .templates = NULL,
    .script = lookup_lua,
    .key_types = "h",
    .prepare = lookup_prepare,
    .result = on_lookup,
};
