/* schema.c -- the schema engine: applies field tables to node trees, with FILE:LINE:COL errors.
 *
 * Loading is two passes. sc_cfg_parse() (node.c) turns libyaml's event stream
 * into a tree of struct sc_cfg_node (keeping each node's position, expanding
 * ${VAR} in scalar values, refusing duplicate keys and aliases).
 * sc_schema_apply() (here) then walks the tree against field tables,
 * nginx/Kannel style: each key is declared once, with its type, range,
 * default and where it goes in its struct. Unknown keys are errors. The
 * tables are declared by their owners, none here: the daemon's top level in
 * core/config.c, its sections beside their subsystems (smsc/smsc_conf.c,
 * store/store_conf.c), handlers' route options in handlers/ (schema.h). */
#include "config/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/smpp.h"

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

int sc__verr_at(char *err, size_t errsz, const char *file, int line, int col,
                const char *fmt, va_list ap)
{
    int n;
    if (errsz == 0)
        return SC_ECONFIG;
    if (line > 0)
        n = snprintf(err, errsz, "%s:%d:%d: ", file, line, col);
    else
        n = snprintf(err, errsz, "%s: ", file);
    if (n < 0)
        n = 0;
    if ((size_t)n < errsz)
        vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
    return SC_ECONFIG;
}

int sc__err_pos(struct sc_schema_ctx *ctx, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc__verr_at(ctx->err, ctx->errsz, ctx->file, line, col, fmt, ap);
    va_end(ap);
    return SC_ECONFIG;
}

int sc_schema_error(struct sc_schema_ctx *ctx, const struct sc_cfg_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc__verr_at(ctx->err, ctx->errsz, ctx->file, at ? at->line : ctx->line, at ? at->col : ctx->col,
            fmt, ap);
    va_end(ap);
    return SC_ECONFIG;
}

/* Key paths for messages: "binds[0].port". A path too long for
 * SC_CFG_PATH_MAX bytes ends in "...". */
static void path_done(char *out, int n)
{
    if (n < 0 || n >= SC_CFG_PATH_MAX)
        memcpy(out + SC_CFG_PATH_MAX - 4, "...", 4);
}

void sc__path_key(char *out, const char *path, const char *key)
{
    int n;
    if (path && *path)
        n = snprintf(out, SC_CFG_PATH_MAX, "%s.%s", path, key);
    else
        n = snprintf(out, SC_CFG_PATH_MAX, "%s", key);
    path_done(out, n);
}

void sc__path_idx(char *out, const char *path, size_t i)
{
    path_done(out, snprintf(out, SC_CFG_PATH_MAX, "%s[%zu]", path ? path : "", i));
}

/* ------------------------------------------------------------------------ */
/* Schemas                                                                  */

int sc__field_secret(const struct sc_field *f)
{
    return (f->flags & SC_F_SECRET) || strstr(f->name, "password") != NULL;
}

/* " (got "x")" for messages, or "" for secrets. */
static const char *got(char *buf, size_t bufsz, const struct sc_field *f, const char *v)
{
    char q[80];
    if (sc__field_secret(f) || !v)
        return "";
    snprintf(buf, bufsz, " (got %s)", sc_log_quote(q, sizeof q, v, strlen(v)));
    return buf;
}

/* Edit distance, for "did you mean" (short keys only). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[33];
    if (la > 32 || lb > 32)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub =
                prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            row[j] = SC_MIN(SC_MIN(row[j] + 1, row[j - 1] + 1), sub);
            prev = cur;
        }
    }
    return row[lb];
}

static int parse_ll(const char *s, int allow_hex, long long *out)
{
    const char *p = s;
    int base = 10;
    if (allow_hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        if (!isxdigit((unsigned char)*p))
            return SC_EINVAL;
    } else if (!(isdigit((unsigned char)*p) ||
                 ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))) {
        return SC_EINVAL;
    }
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, base);
    if (*end)
        return SC_EINVAL;
    if (errno == ERANGE)
        return SC_ERANGE;
    *out = v;
    return 0;
}

static void enum_words(const struct sc_field *f, char *buf, size_t bufsz)
{
    if (!f->names) {
        snprintf(buf, bufsz, "%s", f->hint ? f->hint : "a known word");
        return;
    }
    size_t o = 0;
    buf[0] = '\0';
    for (const struct sc_enum *e = f->names; e->name && o < bufsz; e++)
        o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", e == f->names ? "" : ", ", e->name);
}

/* Convert text (a value, or a default when at is NULL) for a scalar field. */
static int convert(struct sc_schema_ctx *ctx, const struct sc_field *f, void *dst,
                   const char *text, const struct sc_cfg_node *at, const char *path)
{
    char g[112];
    long long v = 0;
    int rc;
    switch (f->type) {
    case SC_FT_STRING: {
        size_t len = strlen(text);
        if ((f->flags & SC_F_NONEMPTY) && len == 0)
            return sc_schema_error(ctx, at, "%s: must not be empty", path);
        if (f->max > 0 && len > (size_t)f->max)
            return sc_schema_error(ctx, at, "%s: too long (max %lld bytes)%s", path, f->max,
                                   got(g, sizeof g, f, text));
        char *s = strdup(text);
        if (!s)
            return SC_ENOMEM;
        free(*(char **)dst);
        *(char **)dst = s;
        return 0;
    }
    case SC_FT_INT:
    case SC_FT_UINT32:
        rc = parse_ll(text, f->type == SC_FT_UINT32, &v);
        if (rc == SC_EINVAL)
            return sc_schema_error(ctx, at, "%s: must be a whole number%s", path,
                                   got(g, sizeof g, f, text));
        if (rc || v < f->min || v > f->max)
            return sc_schema_error(ctx, at, "%s: must be %lld..%lld%s", path, f->min, f->max,
                                   got(g, sizeof g, f, text));
        if (f->type == SC_FT_INT)
            *(int *)dst = (int)v;
        else
            *(uint32_t *)dst = (uint32_t)v;
        return 0;
    case SC_FT_BOOL:
        if (!strcasecmp(text, "true") || !strcasecmp(text, "yes") || !strcasecmp(text, "on"))
            *(int *)dst = 1;
        else if (!strcasecmp(text, "false") || !strcasecmp(text, "no") ||
                 !strcasecmp(text, "off"))
            *(int *)dst = 0;
        else
            return sc_schema_error(ctx, at, "%s: must be true or false%s", path,
                                   got(g, sizeof g, f, text));
        return 0;
    case SC_FT_ENUM: {
        int val = -1;
        if (f->names) {
            for (const struct sc_enum *e = f->names; e->name; e++)
                if (strcmp(e->name, text) == 0)
                    val = e->value;
        } else if (f->parse) {
            val = f->parse(text);
        }
        if (val < 0) {
            char words[160];
            enum_words(f, words, sizeof words);
            return sc_schema_error(ctx, at, "%s: must be one of %s%s", path, words,
                                   got(g, sizeof g, f, text));
        }
        *(int *)dst = val;
        return 0;
    }
    case SC_FT_STATUS: {
        uint32_t st;
        if (sc_pdu_status_parse(text, &st) != 0)
            return sc_schema_error(ctx, at,
                                   "%s: must be an SMPP command_status name (ESME_RX_T_APPN) or "
                                   "number (0x64)%s",
                                   path, got(g, sizeof g, f, text));
        *(uint32_t *)dst = st;
        return 0;
    }
    default:
        return sc_schema_error(ctx, at, "%s: internal error: not a scalar field", path);
    }
}

static size_t *count_at(void *obj, const struct sc_field *f)
{
    return (size_t *)(void *)((char *)obj + f->count_offset);
}

static int strlist_check_count(struct sc_schema_ctx *ctx, const struct sc_field *f, size_t n,
                               const struct sc_cfg_node *at, const char *path)
{
    if (n < (size_t)f->min)
        return f->min == 1 ? sc_schema_error(ctx, at, "%s: must not be empty", path)
                           : sc_schema_error(ctx, at, "%s: needs at least %lld items", path,
                                             f->min);
    if (f->max > 0 && n > (size_t)f->max)
        return sc_schema_error(ctx, at, "%s: at most %lld items", path, f->max);
    return 0;
}

static int apply_strlist(struct sc_schema_ctx *ctx, const struct sc_field *f, void *obj,
                         const struct sc_cfg_node *node, const char *path)
{
    char ***arr = (char ***)(void *)((char *)obj + f->offset);
    size_t *cnt = count_at(obj, f);
    const struct sc_cfg_node *items;
    size_t n = 0;
    if (node->kind == SC_CFG_SCALAR && (f->flags & SC_F_ONE_OR_LIST)) {
        items = node;
        n = 1;
    } else if (node->kind == SC_CFG_SEQ) {
        items = node->child;
        for (const struct sc_cfg_node *c = items; c; c = c->next)
            n++;
    } else {
        return sc_schema_error(ctx, node, "%s: must be a list%s, not %s", path,
                               (f->flags & SC_F_ONE_OR_LIST) ? " or a single value" : "",
                               sc__kind_name(node));
    }
    int rc = strlist_check_count(ctx, f, n, node, path);
    if (rc)
        return rc;
    if (n && !(*arr = calloc(n, sizeof **arr)))
        return SC_ENOMEM;
    *cnt = n;
    size_t i = 0;
    for (const struct sc_cfg_node *c = items; c && i < n; c = c->next, i++) {
        char cpath[SC_CFG_PATH_MAX];
        sc__path_idx(cpath, path, i);
        if (c->kind != SC_CFG_SCALAR || !c->value)
            return sc_schema_error(ctx, c, "%s: must be a single value, not %s", cpath,
                                   sc__kind_name(c));
        if ((f->flags & SC_F_NONEMPTY) && !*c->value)
            return sc_schema_error(ctx, c, "%s: must not be empty", cpath);
        if (f->flags & SC_F_UNIQUE)
            for (size_t j = 0; j < i; j++)
                if (strcmp((*arr)[j], c->value) == 0)
                    return sc_schema_error(ctx, c, "%s: duplicate of %s[%zu]", cpath, path, j);
        if (!((*arr)[i] = strdup(c->value)))
            return SC_ENOMEM;
    }
    return 0;
}

/* A comma-separated default for a STRLIST. */
static int default_strlist(const struct sc_field *f, void *obj)
{
    char ***arr = (char ***)(void *)((char *)obj + f->offset);
    size_t n = 1;
    for (const char *s = f->def; *s; s++)
        n += *s == ',';
    if (!(*arr = calloc(n, sizeof **arr)))
        return SC_ENOMEM;
    *count_at(obj, f) = n;
    const char *s = f->def;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (!((*arr)[i] = strndup(s, len)))
            return SC_ENOMEM;
        s += len + (e != NULL);
    }
    return 0;
}

static int apply_map(struct sc_schema_ctx *ctx, const struct sc_schema *s, void *obj,
                     const struct sc_cfg_node *map, const char *path);

static int apply_list(struct sc_schema_ctx *ctx, const struct sc_field *f, void *obj,
                      const struct sc_cfg_node *node, const char *path)
{
    if (node->kind != SC_CFG_SEQ)
        return sc_schema_error(ctx, node, "%s: must be a list (\"- ...\" entries), not %s", path,
                               sc__kind_name(node));
    const struct sc_schema *sub = f->sub;
    size_t n = 0;
    for (const struct sc_cfg_node *c = node->child; c; c = c->next)
        n++;
    int rc = strlist_check_count(ctx, f, n, node, path);
    if (rc)
        return rc;
    char **arr = (char **)(void *)((char *)obj + f->offset);
    if (n && !(*arr = calloc(n, sub->size)))
        return SC_ENOMEM;
    *count_at(obj, f) = n;
    size_t i = 0;
    for (const struct sc_cfg_node *c = node->child; c; c = c->next, i++) {
        char cpath[SC_CFG_PATH_MAX];
        sc__path_idx(cpath, path, i);
        if (c->kind != SC_CFG_MAP)
            return sc_schema_error(ctx, c, "%s: must be a mapping (key: value), not %s", cpath,
                                   sc__kind_name(c));
        if ((rc = apply_map(ctx, sub, *arr + i * sub->size, c, cpath)))
            return rc;
    }
    /* SC_F_UNIQUE strings: unique across the entries. */
    for (const struct sc_field *uf = sub->fields; uf->name; uf++) {
        if (uf->type != SC_FT_STRING || !(uf->flags & SC_F_UNIQUE))
            continue;
        const struct sc_cfg_node *ci = node->child;
        for (i = 0; i < n; i++, ci = ci->next) {
            const char *vi = *(char **)(void *)(*arr + i * sub->size + uf->offset);
            if (!vi)
                continue;
            for (size_t j = 0; j < i; j++) {
                const char *vj = *(char **)(void *)(*arr + j * sub->size + uf->offset);
                if (vj && strcmp(vi, vj) == 0) {
                    char ipath[SC_CFG_PATH_MAX], cpath[SC_CFG_PATH_MAX];
                    const struct sc_cfg_node *at = sc_cfg_node_get(ci, uf->name);
                    sc__path_idx(ipath, path, i);
                    sc__path_key(cpath, ipath, uf->name);
                    if (sc__field_secret(uf))
                        return sc_schema_error(ctx, at ? at : ci, "%s: same as %s[%zu]", cpath,
                                               path, j);
                    char q[80];
                    return sc_schema_error(ctx, at ? at : ci,
                                           "%s: duplicate %s %s (also %s[%zu])", cpath, uf->name,
                                           sc_log_quote(q, sizeof q, vi, strlen(vi)), path, j);
                }
            }
        }
    }
    return 0;
}

static int apply_kvmap(struct sc_schema_ctx *ctx, const struct sc_field *f, void *obj,
                       const struct sc_cfg_node *node, const char *path)
{
    if (node->kind != SC_CFG_MAP)
        return sc_schema_error(ctx, node, "%s: must be a mapping (name: text), not %s", path,
                               sc__kind_name(node));
    size_t n = 0;
    for (const struct sc_cfg_node *c = node->child; c; c = c->next)
        n++;
    struct sc_cfg_kv **arr = (struct sc_cfg_kv **)(void *)((char *)obj + f->offset);
    if (n && !(*arr = calloc(n, sizeof **arr)))
        return SC_ENOMEM;
    *count_at(obj, f) = n;
    size_t i = 0;
    for (const struct sc_cfg_node *c = node->child; c; c = c->next, i++) {
        char cpath[SC_CFG_PATH_MAX];
        sc__path_key(cpath, path, c->key);
        if (c->kind != SC_CFG_SCALAR || !c->value)
            return sc_schema_error(ctx, c, "%s: must be a text, not %s", cpath, sc__kind_name(c));
        struct sc_cfg_kv *kv = &(*arr)[i];
        kv->line = c->line;
        kv->col = c->col;
        if (!(kv->key = strdup(c->key)) || !(kv->value = strdup(c->value)))
            return SC_ENOMEM;
    }
    return 0;
}

static int apply_field(struct sc_schema_ctx *ctx, const struct sc_field *f, void *obj,
                       const struct sc_cfg_node *node, const char *path)
{
    void *dst = (char *)obj + f->offset;
    switch (f->type) {
    case SC_FT_STRLIST:
        return apply_strlist(ctx, f, obj, node, path);
    case SC_FT_SECTION:
        if (node->kind != SC_CFG_MAP)
            return sc_schema_error(ctx, node, "%s: must be a mapping (key: value), not %s", path,
                                   sc__kind_name(node));
        return apply_map(ctx, f->sub, dst, node, path);
    case SC_FT_LIST:
        return apply_list(ctx, f, obj, node, path);
    case SC_FT_MAP:
        return apply_kvmap(ctx, f, obj, node, path);
    case SC_FT_NODE:
        if (node->kind != SC_CFG_MAP)
            return sc_schema_error(ctx, node, "%s: must be a mapping (key: value), not %s", path,
                                   sc__kind_name(node));
        if (!(*(struct sc_cfg_node **)dst = sc_cfg_node_dup(node)))
            return SC_ENOMEM;
        return 0;
    default:
        if (node->kind != SC_CFG_SCALAR)
            return sc_schema_error(ctx, node, "%s: must be a single value, not %s", path,
                                   sc__kind_name(node));
        return convert(ctx, f, dst, node->value, node, path);
    }
}

/* The default of an absent (or null) field; messages use ctx's position. */
static int apply_default(struct sc_schema_ctx *ctx, const struct sc_field *f, void *obj,
                         const char *path)
{
    switch (f->type) {
    case SC_FT_STRLIST:
        return f->def ? default_strlist(f, obj) : 0;
    case SC_FT_SECTION:
        return apply_map(ctx, f->sub, (char *)obj + f->offset, NULL, path);
    case SC_FT_LIST:
    case SC_FT_MAP:
    case SC_FT_NODE:
        return 0;
    default:
        return f->def ? convert(ctx, f, (char *)obj + f->offset, f->def, NULL, path) : 0;
    }
}

static int apply_map(struct sc_schema_ctx *ctx, const struct sc_schema *s, void *obj,
                     const struct sc_cfg_node *map, const char *path)
{
    unsigned char seen[SC_CFG_MAX_FIELDS] = {0};   /* 1 = set, 2 = null */
    size_t nf = 0;
    char cpath[SC_CFG_PATH_MAX];
    int rc;
    while (s->fields[nf].name)
        nf++;
    if (nf > SC_CFG_MAX_FIELDS)
        return sc__err_pos(ctx, 0, 0, "%s: internal error: too many fields", path ? path : "");
    if (map && map->kind != SC_CFG_MAP)
        return sc_schema_error(ctx, map, "%s: must be a mapping (key: value), not %s",
                               path && *path ? path : "document", sc__kind_name(map));
    /* Positions for "missing" messages: the mapping, or the caller's. */
    int line = map ? map->line : ctx->line, col = map ? map->col : ctx->col;

    for (const struct sc_cfg_node *c = map ? map->child : NULL; c; c = c->next) {
        size_t i;
        for (i = 0; i < nf; i++)
            if (strcmp(s->fields[i].name, c->key) == 0)
                break;
        sc__path_key(cpath, path, c->key);
        if (i == nf) {
            size_t best = 3, bi = nf;
            for (size_t j = 0; j < nf; j++) {
                size_t d = distance(c->key, s->fields[j].name);
                if (d < best) {
                    best = d;
                    bi = j;
                }
            }
            if (bi < nf)
                return sc__err_pos(ctx, c->key_line, c->key_col,
                               "%s: unknown key (did you mean \"%s\"?)", cpath,
                               s->fields[bi].name);
            return sc__err_pos(ctx, c->key_line, c->key_col, "%s: unknown key", cpath);
        }
        if (sc__node_is_null(c)) {
            seen[i] = 2;
            if (s->fields[i].flags & SC_F_REQUIRED)
                return sc__err_pos(ctx, c->key_line, c->key_col, "%s: missing value", cpath);
            continue;
        }
        seen[i] = 1;
        if ((rc = apply_field(ctx, &s->fields[i], obj, c, cpath)))
            return rc;
    }
    for (size_t i = 0; i < nf; i++) {
        if (seen[i] == 1)
            continue;
        const struct sc_field *f = &s->fields[i];
        sc__path_key(cpath, path, f->name);
        if (f->flags & SC_F_REQUIRED)
            return sc__err_pos(ctx, line, col, "%s: missing required key", cpath);
        /* Defaults of a null "key:" report at the key, else at the mapping. */
        const struct sc_cfg_node *kn = seen[i] == 2 ? sc_cfg_node_get(map, f->name) : NULL;
        int sl = ctx->line, sc = ctx->col;
        ctx->line = kn ? kn->key_line : line;
        ctx->col = kn ? kn->key_col : col;
        rc = apply_default(ctx, f, obj, cpath);
        ctx->line = sl;
        ctx->col = sc;
        if (rc)
            return rc;
    }
    if (s->check) {
        int sl = ctx->line, sc = ctx->col;
        ctx->line = line;
        ctx->col = col;
        rc = s->check(ctx, obj, map, path ? path : "");
        ctx->line = sl;
        ctx->col = sc;
        if (rc)
            return rc;
    }
    return 0;
}

int sc_schema_apply(struct sc_schema_ctx *ctx, const struct sc_schema *s, void *obj,
                    const struct sc_cfg_node *map, const char *path)
{
    int rc = apply_map(ctx, s, obj, map, path ? path : "");
    if (rc == SC_ENOMEM)
        snprintf(ctx->err, ctx->errsz, "%s: out of memory", ctx->file);
    return rc;
}

void sc_schema_free(const struct sc_schema *s, void *obj)
{
    for (const struct sc_field *f = s->fields; f->name; f++) {
        void *p = (char *)obj + f->offset;
        switch (f->type) {
        case SC_FT_STRING:
            free(*(char **)p);
            *(char **)p = NULL;
            break;
        case SC_FT_STRLIST: {
            char **arr = *(char ***)p;
            size_t *n = count_at(obj, f);
            for (size_t i = 0; arr && i < *n; i++)
                free(arr[i]);
            free(arr);
            *(char ***)p = NULL;
            *n = 0;
            break;
        }
        case SC_FT_SECTION:
            sc_schema_free(f->sub, p);
            break;
        case SC_FT_LIST: {
            char *arr = *(char **)p;
            size_t *n = count_at(obj, f);
            for (size_t i = 0; arr && i < *n; i++)
                sc_schema_free(f->sub, arr + i * f->sub->size);
            free(arr);
            *(char **)p = NULL;
            *n = 0;
            break;
        }
        case SC_FT_MAP: {
            struct sc_cfg_kv *arr = *(struct sc_cfg_kv **)p;
            size_t *n = count_at(obj, f);
            for (size_t i = 0; arr && i < *n; i++) {
                free(arr[i].key);
                free(arr[i].value);
            }
            free(arr);
            *(struct sc_cfg_kv **)p = NULL;
            *n = 0;
            break;
        }
        case SC_FT_NODE:
            sc_cfg_node_free(*(struct sc_cfg_node **)p);
            *(struct sc_cfg_node **)p = NULL;
            break;
        default:
            break;
        }
    }
}
