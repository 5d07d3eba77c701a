/* config.c -- YAML configuration: node trees, ${VAR} expansion, declarative
 * schemas, and the daemon's own schema.
 *
 * Loading is two passes. sc_cfg_parse() turns libyaml's event stream into a
 * tree of struct sc_cfg_node (keeping each node's position, expanding ${VAR}
 * in scalar values, refusing duplicate keys and aliases). sc_schema_apply()
 * then walks the tree against field tables, nginx/Kannel style: each key is
 * declared once below, with its type, range, default and where it goes in
 * struct sc_config. Unknown keys are errors. Handlers reuse the same
 * mechanism for their route options (schema.h). */
#include "config/config.h"
#include "config/schema.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/smpp.h"
#include "base/url.h"

#define SC_CFG_MAX_DEPTH 64
#define SC_CFG_MAX_FILE (4u << 20)
#define SC_CFG_PATH_MAX 256
#define SC_CFG_MAX_FIELDS 128
#define SC_EXPAND_MAX_DEPTH 8

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

static int verr_at(char *err, size_t errsz, const char *file, int line, int col,
                   const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static int verr_at(char *err, size_t errsz, const char *file, int line, int col,
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

static int err_pos(struct sc_schema_ctx *ctx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err_pos(struct sc_schema_ctx *ctx, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_at(ctx->err, ctx->errsz, ctx->file, line, col, fmt, ap);
    va_end(ap);
    return SC_ECONFIG;
}

int sc_schema_error(struct sc_schema_ctx *ctx, const struct sc_cfg_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_at(ctx->err, ctx->errsz, ctx->file, at ? at->line : ctx->line, at ? at->col : ctx->col,
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

static void path_key(char *out, const char *path, const char *key)
{
    int n;
    if (path && *path)
        n = snprintf(out, SC_CFG_PATH_MAX, "%s.%s", path, key);
    else
        n = snprintf(out, SC_CFG_PATH_MAX, "%s", key);
    path_done(out, n);
}

static void path_idx(char *out, const char *path, size_t i)
{
    path_done(out, snprintf(out, SC_CFG_PATH_MAX, "%s[%zu]", path ? path : "", i));
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                    */

static struct sc_cfg_node *node_new(enum sc_cfg_node_kind kind, int line, int col)
{
    struct sc_cfg_node *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = line;
        n->col = col;
    }
    return n;
}

void sc_cfg_node_free(struct sc_cfg_node *n)
{
    if (!n)
        return;
    struct sc_cfg_node *c = n->child;
    while (c) {
        struct sc_cfg_node *next = c->next;
        sc_cfg_node_free(c);
        c = next;
    }
    free(n->key);
    free(n->value);
    free(n);
}

struct sc_cfg_node *sc_cfg_node_dup(const struct sc_cfg_node *n)
{
    struct sc_cfg_node *d = node_new(n->kind, n->line, n->col);
    if (!d)
        return NULL;
    d->key_line = n->key_line;
    d->key_col = n->key_col;
    if ((n->key && !(d->key = strdup(n->key))) || (n->value && !(d->value = strdup(n->value))))
        goto fail;
    struct sc_cfg_node **tail = &d->child;
    for (const struct sc_cfg_node *c = n->child; c; c = c->next) {
        if (!(*tail = sc_cfg_node_dup(c)))
            goto fail;
        tail = &(*tail)->next;
    }
    return d;
fail:
    sc_cfg_node_free(d);
    return NULL;
}

const struct sc_cfg_node *sc_cfg_node_get(const struct sc_cfg_node *map, const char *key)
{
    if (!map || map->kind != SC_CFG_MAP)
        return NULL;
    for (const struct sc_cfg_node *c = map->child; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

static int node_is_null(const struct sc_cfg_node *n)
{
    return n->kind == SC_CFG_SCALAR && n->value == NULL;
}

static const char *kind_name(const struct sc_cfg_node *n)
{
    switch (n->kind) {
    case SC_CFG_MAP:
        return "a mapping";
    case SC_CFG_SEQ:
        return "a list";
    default:
        return n->value ? "a single value" : "empty";
    }
}

/* ------------------------------------------------------------------------ */
/* ${VAR} expansion                                                         */

struct sbuf {
    char *p;
    size_t len, cap;
};

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return SC_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int is_name_start(char c) { return c == '_' || isalpha((unsigned char)c); }
static int is_name_char(char c) { return c == '_' || isalnum((unsigned char)c); }

/* Expand s[0..n) into b. A default ("${A:-...}") is itself expanded, only when
 * it is used, so "${A:-${B:-x}}" works. */
static int expand(struct sbuf *b, const char *s, size_t n, int depth, char *err, size_t errsz)
{
    size_t i = 0;
    while (i < n) {
        size_t lit = i;
        while (i < n && s[i] != '$')
            i++;
        if (i > lit && sb_put(b, s + lit, i - lit))
            return SC_ENOMEM;
        if (i >= n)
            break;
        /* s[i] == '$' */
        if (i + 1 < n && s[i + 1] == '$') {
            if (sb_put(b, "$", 1))
                return SC_ENOMEM;
            i += 2;
            continue;
        }
        if (i + 1 >= n || s[i + 1] != '{') {   /* a lone "$" is literal */
            if (sb_put(b, "$", 1))
                return SC_ENOMEM;
            i++;
            continue;
        }
        size_t name0 = i + 2, j = name0;
        if (j < n && is_name_start(s[j]))
            while (j < n && is_name_char(s[j]))
                j++;
        if (j == name0) {
            if (j >= n)
                snprintf(err, errsz, "unterminated \"${\"");
            else
                snprintf(err, errsz, "expected a variable name after \"${\"");
            return SC_EINVAL;
        }
        char name[256];
        if (j - name0 >= sizeof name) {
            snprintf(err, errsz, "variable name too long after \"${\"");
            return SC_EINVAL;
        }
        memcpy(name, s + name0, j - name0);
        name[j - name0] = '\0';
        if (j >= n) {
            snprintf(err, errsz, "unterminated \"${%s\"", name);
            return SC_EINVAL;
        }
        const char *val = getenv(name);
        if (s[j] == '}') {
            if (!val) {
                snprintf(err, errsz, "environment variable %s is not set (write ${%s:-default})",
                         name, name);
                return SC_EINVAL;
            }
            if (sb_put(b, val, strlen(val)))
                return SC_ENOMEM;
            i = j + 1;
            continue;
        }
        if (s[j] != ':' || j + 1 >= n || s[j + 1] != '-') {
            snprintf(err, errsz, "expected \"}\" or \":-\" after \"${%s\"", name);
            return SC_EINVAL;
        }
        /* The default runs to the "}" that matches, skipping nested "${...}". */
        size_t d0 = j + 2, k = d0;
        int nest = 0;
        while (k < n) {
            if (s[k] == '$' && k + 1 < n && (s[k + 1] == '$' || s[k + 1] == '{')) {
                nest += s[k + 1] == '{';
                k += 2;
                continue;
            }
            if (s[k] == '}') {
                if (nest == 0)
                    break;
                nest--;
            }
            k++;
        }
        if (k >= n) {
            snprintf(err, errsz, "unterminated \"${%s:-\"", name);
            return SC_EINVAL;
        }
        if (val && *val) {
            if (sb_put(b, val, strlen(val)))
                return SC_ENOMEM;
        } else {
            if (depth >= SC_EXPAND_MAX_DEPTH) {
                snprintf(err, errsz, "defaults nested too deeply in \"${%s:-\"", name);
                return SC_EINVAL;
            }
            int rc = expand(b, s + d0, k - d0, depth + 1, err, errsz);
            if (rc)
                return rc;
        }
        i = k + 1;
    }
    return 0;
}

char *sc_config_expand(const char *s, char *err, size_t errsz)
{
    struct sbuf b = {0};
    char dummy[1];
    if (!err || errsz == 0) {
        err = dummy;
        errsz = sizeof dummy;
    }
    int rc = sb_put(&b, "", 0);
    if (rc == 0)
        rc = expand(&b, s, strlen(s), 0, err, errsz);
    if (rc) {
        if (rc == SC_ENOMEM)
            snprintf(err, errsz, "out of memory");
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ------------------------------------------------------------------------ */
/* YAML text -> node tree                                                   */

struct parser {
    yaml_parser_t yp;
    const char *text;            /* the input, for positions of encoding errors */
    size_t len;
    const char *file;
    char *err;
    size_t errsz;
};

static int perr(struct parser *p, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr_at(p->err, p->errsz, p->file, (int)m.line + 1, (int)m.column + 1, fmt, ap);
    va_end(ap);
    return SC_ECONFIG;
}

/* libyaml's own error: position, problem and context ("while parsing ..."). */
static int yaml_fail(struct parser *p)
{
    const yaml_parser_t *y = &p->yp;
    if (y->error == YAML_MEMORY_ERROR) {
        snprintf(p->err, p->errsz, "%s: out of memory", p->file);
        return SC_ENOMEM;
    }
    const char *problem = y->problem ? y->problem : "invalid YAML";
    if (y->error == YAML_READER_ERROR) {
        /* Encoding errors come with a byte offset: turn it into line:col. */
        yaml_mark_t m = {.index = y->problem_offset};
        for (size_t i = 0; i < y->problem_offset && i < p->len; i++) {
            if (p->text[i] == '\n') {
                m.line++;
                m.column = 0;
            } else if (((unsigned char)p->text[i] & 0xC0) != 0x80) {
                m.column++;
            }
        }
        return perr(p, m, "%s (the file must be UTF-8)", problem);
    }
    if (y->context)
        return perr(p, y->problem_mark, "YAML syntax: %s (%s at %zu:%zu)", problem, y->context,
                    y->context_mark.line + 1, y->context_mark.column + 1);
    return perr(p, y->problem_mark, "YAML syntax: %s", problem);
}

static int next_event(struct parser *p, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&p->yp, ev))
        return yaml_fail(p);
    return 0;
}

/* YAML 1.1/1.2 null in plain style: empty, "~", "null". */
static int plain_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
        return 0;
    const char *v = (const char *)ev->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

static int build(struct parser *p, yaml_event_t *ev, struct sc_cfg_node **out, const char *path,
                 int depth, int secret);

/* secret: the value belongs to a key named "*password*": a failed expansion
 * must not echo any of it (a literal "${" in a password would be taken for a
 * variable name). */
static int build_scalar(struct parser *p, yaml_event_t *ev, struct sc_cfg_node *n,
                        const char *path, int secret)
{
    if (plain_null(ev))
        return 0;
    const char *v = (const char *)ev->data.scalar.value;
    if (strlen(v) != ev->data.scalar.length)
        return perr(p, ev->start_mark, "%s: NUL bytes are not allowed", path);
    char msg[256];
    n->value = sc_config_expand(v, msg, sizeof msg);
    if (!n->value && secret)
        return perr(p, ev->start_mark,
                    "%s: cannot expand ${...}: a variable is not set or \"${\" is not closed "
                    "(details hidden: secret value)",
                    path);
    if (!n->value)
        return perr(p, ev->start_mark, "%s: %s", path, msg);
    return 0;
}

static int build_seq(struct parser *p, struct sc_cfg_node *n, const char *path, int depth,
                     int secret)
{
    struct sc_cfg_node **tail = &n->child;
    for (size_t i = 0;; i++) {
        yaml_event_t ev;
        int rc = next_event(p, &ev);
        if (rc)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        char cpath[SC_CFG_PATH_MAX];
        path_idx(cpath, path, i);
        if ((rc = build(p, &ev, tail, cpath, depth + 1, secret)))
            return rc;
        tail = &(*tail)->next;
    }
}

static int build_map(struct parser *p, struct sc_cfg_node *n, const char *path, int depth,
                     int secret)
{
    struct sc_cfg_node **tail = &n->child;
    for (;;) {
        yaml_event_t ev;
        int rc = next_event(p, &ev);
        if (rc)
            return rc;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        yaml_mark_t km = ev.start_mark;
        if (ev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ev);
            return perr(p, km, "%s%skeys must be plain words, not lists, mappings or aliases",
                        path, *path ? ": " : "");
        }
        const char *kv = (const char *)ev.data.scalar.value;
        if (!*kv || strlen(kv) != ev.data.scalar.length) {
            yaml_event_delete(&ev);
            return perr(p, km, "%s%sempty or invalid key", path, *path ? ": " : "");
        }
        char cpath[SC_CFG_PATH_MAX];
        path_key(cpath, path, kv);
        for (const struct sc_cfg_node *c = n->child; c; c = c->next) {
            if (strcmp(c->key, kv) == 0) {
                yaml_event_delete(&ev);
                return perr(p, km, "%s: duplicate key (first at %d:%d)", cpath, c->key_line,
                            c->key_col);
            }
        }
        int ksecret = secret || strstr(kv, "password") != NULL;
        char *key = strdup(kv);
        yaml_event_delete(&ev);
        if (!key)
            return SC_ENOMEM;
        if ((rc = next_event(p, &ev))) {
            free(key);
            return rc;
        }
        if ((rc = build(p, &ev, tail, cpath, depth + 1, ksecret))) {
            free(key);
            return rc;
        }
        (*tail)->key = key;
        (*tail)->key_line = (int)km.line + 1;
        (*tail)->key_col = (int)km.column + 1;
        tail = &(*tail)->next;
    }
}

/* Build the node that starts with ev (consumed). On error *out is NULL. */
static int build(struct parser *p, yaml_event_t *ev, struct sc_cfg_node **out, const char *path,
                 int depth, int secret)
{
    yaml_mark_t m = ev->start_mark;
    const char *where = *path ? path : "document";
    enum sc_cfg_node_kind kind;
    *out = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        kind = SC_CFG_SCALAR;
        break;
    case YAML_SEQUENCE_START_EVENT:
        kind = SC_CFG_SEQ;
        break;
    case YAML_MAPPING_START_EVENT:
        kind = SC_CFG_MAP;
        break;
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return perr(p, m, "%s: aliases (*name) are not supported", where);
    default:
        yaml_event_delete(ev);
        return perr(p, m, "%s: unexpected YAML event", where);
    }
    if (depth > SC_CFG_MAX_DEPTH) {
        yaml_event_delete(ev);
        return perr(p, m, "%s: nested too deeply (max %d levels)", where, SC_CFG_MAX_DEPTH);
    }
    struct sc_cfg_node *n = node_new(kind, (int)m.line + 1, (int)m.column + 1);
    int rc;
    if (!n)
        rc = SC_ENOMEM;
    else if (kind == SC_CFG_SCALAR)
        rc = build_scalar(p, ev, n, where, secret);
    else
        rc = 0;
    yaml_event_delete(ev);
    if (rc == 0 && kind == SC_CFG_SEQ)
        rc = build_seq(p, n, path, depth, secret);
    else if (rc == 0 && kind == SC_CFG_MAP)
        rc = build_map(p, n, path, depth, secret);
    if (rc) {
        if (rc == SC_ENOMEM)
            snprintf(p->err, p->errsz, "%s: out of memory", p->file);
        sc_cfg_node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

/* Expect an event of type t (consumed). */
static int expect(struct parser *p, yaml_event_type_t t, yaml_event_t *ev)
{
    int rc = next_event(p, ev);
    if (rc)
        return rc;
    if (ev->type != t) {
        yaml_mark_t m = ev->start_mark;
        yaml_event_delete(ev);
        return perr(p, m, "unexpected YAML structure");
    }
    yaml_event_delete(ev);
    return 0;
}

struct sc_cfg_node *sc_cfg_parse(const char *file, const char *text, size_t len, char *err,
                                 size_t errsz)
{
    struct parser p = {.text = text, .len = len, .file = file, .err = err, .errsz = errsz};
    struct sc_cfg_node *root = NULL;
    yaml_event_t ev;
    int rc;
    if (!yaml_parser_initialize(&p.yp)) {
        snprintf(err, errsz, "%s: out of memory", file);
        return NULL;
    }
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
    if ((rc = expect(&p, YAML_STREAM_START_EVENT, &ev)))
        goto out;
    if ((rc = next_event(&p, &ev)))
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        snprintf(err, errsz, "%s: empty document (no settings)", file);
        rc = SC_ECONFIG;
        goto out;
    }
    yaml_event_delete(&ev);                     /* DOCUMENT_START */
    if ((rc = next_event(&p, &ev)) || (rc = build(&p, &ev, &root, "", 0, 0)))
        goto out;
    if ((rc = expect(&p, YAML_DOCUMENT_END_EVENT, &ev)))
        goto out;
    if ((rc = next_event(&p, &ev)))
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT) {
        yaml_mark_t m = ev.start_mark;
        yaml_event_delete(&ev);
        rc = perr(&p, m, "only one YAML document is allowed (remove this \"---\")");
        goto out;
    }
    yaml_event_delete(&ev);
out:
    yaml_parser_delete(&p.yp);
    if (rc) {
        sc_cfg_node_free(root);
        return NULL;
    }
    return root;
}

struct sc_cfg_node *sc_cfg_parse_file(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(SC_CFG_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    size_t n = fread(buf, 1, SC_CFG_MAX_FILE + 1, f);
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    struct sc_cfg_node *root = NULL;
    if (bad)
        snprintf(err, errsz, "%s: cannot read: %s", path, strerror(saved));
    else if (n > SC_CFG_MAX_FILE)
        snprintf(err, errsz, "%s: too large (max %u bytes)", path, SC_CFG_MAX_FILE);
    else
        root = sc_cfg_parse(path, buf, n, err, errsz);
    free(buf);
    return root;
}

/* ------------------------------------------------------------------------ */
/* Schemas                                                                  */

static int field_secret(const struct sc_field *f)
{
    return (f->flags & SC_F_SECRET) || strstr(f->name, "password") != NULL;
}

/* " (got "x")" for messages, or "" for secrets. */
static const char *got(char *buf, size_t bufsz, const struct sc_field *f, const char *v)
{
    char q[80];
    if (field_secret(f) || !v)
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
                               kind_name(node));
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
        path_idx(cpath, path, i);
        if (c->kind != SC_CFG_SCALAR || !c->value)
            return sc_schema_error(ctx, c, "%s: must be a single value, not %s", cpath,
                                   kind_name(c));
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
                               kind_name(node));
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
        path_idx(cpath, path, i);
        if (c->kind != SC_CFG_MAP)
            return sc_schema_error(ctx, c, "%s: must be a mapping (key: value), not %s", cpath,
                                   kind_name(c));
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
                    path_idx(ipath, path, i);
                    path_key(cpath, ipath, uf->name);
                    if (field_secret(uf))
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
                               kind_name(node));
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
        path_key(cpath, path, c->key);
        if (c->kind != SC_CFG_SCALAR || !c->value)
            return sc_schema_error(ctx, c, "%s: must be a text, not %s", cpath, kind_name(c));
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
                                   kind_name(node));
        return apply_map(ctx, f->sub, dst, node, path);
    case SC_FT_LIST:
        return apply_list(ctx, f, obj, node, path);
    case SC_FT_MAP:
        return apply_kvmap(ctx, f, obj, node, path);
    case SC_FT_NODE:
        if (node->kind != SC_CFG_MAP)
            return sc_schema_error(ctx, node, "%s: must be a mapping (key: value), not %s", path,
                                   kind_name(node));
        if (!(*(struct sc_cfg_node **)dst = sc_cfg_node_dup(node)))
            return SC_ENOMEM;
        return 0;
    default:
        if (node->kind != SC_CFG_SCALAR)
            return sc_schema_error(ctx, node, "%s: must be a single value, not %s", path,
                                   kind_name(node));
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
        return err_pos(ctx, 0, 0, "%s: internal error: too many fields", path ? path : "");
    if (map && map->kind != SC_CFG_MAP)
        return sc_schema_error(ctx, map, "%s: must be a mapping (key: value), not %s",
                               path && *path ? path : "document", kind_name(map));
    /* Positions for "missing" messages: the mapping, or the caller's. */
    int line = map ? map->line : ctx->line, col = map ? map->col : ctx->col;

    for (const struct sc_cfg_node *c = map ? map->child : NULL; c; c = c->next) {
        size_t i;
        for (i = 0; i < nf; i++)
            if (strcmp(s->fields[i].name, c->key) == 0)
                break;
        path_key(cpath, path, c->key);
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
                return err_pos(ctx, c->key_line, c->key_col,
                               "%s: unknown key (did you mean \"%s\"?)", cpath,
                               s->fields[bi].name);
            return err_pos(ctx, c->key_line, c->key_col, "%s: unknown key", cpath);
        }
        if (node_is_null(c)) {
            seen[i] = 2;
            if (s->fields[i].flags & SC_F_REQUIRED)
                return err_pos(ctx, c->key_line, c->key_col, "%s: missing value", cpath);
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
        path_key(cpath, path, f->name);
        if (f->flags & SC_F_REQUIRED)
            return err_pos(ctx, line, col, "%s: missing required key", cpath);
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

/* ------------------------------------------------------------------------ */
/* The daemon's schema                                                      */

static const struct sc_enum bind_modes[] = {
    {"transceiver", SC_BIND_TRX},
    {"receiver+transmitter", SC_BIND_RX_TX},
    {NULL, 0},
};

static const struct sc_enum durabilities[] = {
    {"refuse", SC_CFG_DURABILITY_REFUSE},
    {"warn", SC_CFG_DURABILITY_WARN},
    {NULL, 0},
};

static const struct sc_enum ack_policies[] = {
    {"after_store", SC_ACK_AFTER_STORE},
    {"after_reply", SC_ACK_AFTER_REPLY},
    {NULL, 0},
};

static const struct sc_enum source_addrs[] = {
    {"msisdn", SC_SRC_MSISDN},
    {"alphanumeric", SC_SRC_ALPHANUMERIC},
    {NULL, 0},
};

static int check_bind(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                      const char *path)
{
    struct sc_cfg_bind *b = obj;
    b->line = map->line;
    b->col = map->col;
    if (b->reconnect_min_ms > b->reconnect_max_ms) {
        const struct sc_cfg_node *at = sc_cfg_node_get(map, "reconnect_min_ms");
        return sc_schema_error(ctx, at ? at : map,
                               "%s.reconnect_min_ms: must not exceed reconnect_max_ms (%d)", path,
                               b->reconnect_max_ms);
    }
    return 0;
}

#define B(m) offsetof(struct sc_cfg_bind, m)
static const struct sc_field bind_fields[] = {
    {"name", SC_FT_STRING, B(name), SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_UNIQUE, .max = 64},
    {"host", SC_FT_STRING, B(host), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 255},
    {"port", SC_FT_INT, B(port), SC_F_REQUIRED, .min = 1, .max = 65535},
    {"system_id", SC_FT_STRING, B(system_id), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 15},
    {"password", SC_FT_STRING, B(password), SC_F_SECRET, .max = 8, .def = ""},
    {"system_type", SC_FT_STRING, B(system_type), 0, .max = 12, .def = ""},
    {"mode", SC_FT_ENUM, B(mode), 0, .names = bind_modes, .def = "transceiver"},
    {"window", SC_FT_INT, B(window), 0, .min = 1, .max = 1000, .def = "10"},
    {"tps", SC_FT_INT, B(tps), 0, .min = 0, .max = 100000, .def = "0"},
    {"enquire_link_s", SC_FT_INT, B(enquire_link_s), 0, .min = 1, .max = 3600, .def = "30"},
    {"response_timeout_ms", SC_FT_INT, B(response_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "10000"},
    {"bind_timeout_ms", SC_FT_INT, B(bind_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "10000"},
    {"submit_retries", SC_FT_INT, B(submit_retries), 0, .min = 0, .max = 100, .def = "3"},
    {"throttle_pause_ms", SC_FT_INT, B(throttle_pause_ms), 0,
     .min = 0, .max = 600000, .def = "1000"},
    {"reconnect_min_ms", SC_FT_INT, B(reconnect_min_ms), 0, .min = 1, .max = 3600000, .def = "500"},
    {"reconnect_max_ms", SC_FT_INT, B(reconnect_max_ms), 0,
     .min = 1, .max = 3600000, .def = "30000"},
    {.name = NULL},
};
#undef B
static const struct sc_schema bind_schema = {bind_fields, sizeof(struct sc_cfg_bind), check_bind};

static int check_route(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                       const char *path)
{
    struct sc_cfg_route *r = obj;
    r->line = map->line;
    r->col = map->col;
    if (!r->regex)
        return 0;
    const struct sc_cfg_node *at = sc_cfg_node_get(map, "regex");
    if (r->nwords)
        return sc_schema_error(ctx, at, "%s: has both match and regex (use one of them)", path);
    regex_t re;
    int rc = regcomp(&re, r->regex, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        return sc_schema_error(ctx, at, "%s.regex: invalid regular expression: %s", path, msg);
    }
    regfree(&re);
    return 0;
}

#define R(m) offsetof(struct sc_cfg_route, m)
static const struct sc_field route_fields[] = {
    {"name", SC_FT_STRING, R(name), SC_F_NONEMPTY, .max = 64},
    {"match", SC_FT_STRLIST, R(words), SC_F_NONEMPTY | SC_F_ONE_OR_LIST, .min = 1,
     .count_offset = R(nwords)},
    {"regex", SC_FT_STRING, R(regex), .flags = SC_F_NONEMPTY},
    {"service", SC_FT_STRING, R(service), SC_F_NONEMPTY, .max = 20},
    {"handler", SC_FT_STRING, R(handler), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 64},
    {"options", SC_FT_NODE, R(options), .flags = 0},
    {.name = NULL},
};
#undef R
static const struct sc_schema route_schema = {route_fields, sizeof(struct sc_cfg_route),
                                              check_route};

#define C(m) offsetof(struct sc_config, m)
static const struct sc_field log_fields[] = {
    {"level", SC_FT_ENUM, C(log_level), 0, .parse = sc_log_level_parse,
     .hint = "debug, info, warn, error", .def = "info"},
    {.name = NULL},
};
static const struct sc_schema log_schema = {log_fields, 0, NULL};

static const struct sc_field smpp_fields[] = {
    {"max_pdu_len", SC_FT_UINT32, C(smpp.max_pdu_len), 0,
     .min = 512, .max = 65536, .def = "4096"},
    {"dc0", SC_FT_ENUM, C(smpp.dc0), 0, .parse = sc_dc0_parse, .hint = "gsm, latin1, ascii",
     .def = "gsm"},
    {"seg_mode", SC_FT_ENUM, C(smpp.seg_mode), 0, .parse = sc_seg_mode_parse,
     .hint = "udh, sar, payload", .def = "udh"},
    {"max_parts", SC_FT_INT, C(smpp.max_parts), 0, .min = 1, .max = SC_MT_MAX_PARTS, .def = "8"},
    {"source_ton", SC_FT_INT, C(smpp.source_ton), 0, .min = 0, .max = 6, .def = "0"},
    {"source_npi", SC_FT_INT, C(smpp.source_npi), 0, .min = 0, .max = 18, .def = "0"},
    {"reasm_timeout_ms", SC_FT_INT, C(smpp.reasm_timeout_ms), 0,
     .min = 1000, .max = 3600000, .def = "60000"},
    /* Retired (long MOs are held in Redis): accepted, 0 = not set. */
    {"reasm_max_pending", SC_FT_INT, C(smpp.reasm_max_pending), 0,
     .min = 0, .max = 10000000, .def = "0"},
    {"reasm_max_per_source", SC_FT_INT, C(smpp.reasm_max_per_source), 0,
     .min = 1, .max = 1000, .def = "8"},
    {"reasm_max_bytes", SC_FT_INT, C(smpp.reasm_max_bytes), 0,
     .min = 0, .max = 1073741824, .def = "0"},
    {"source_addr", SC_FT_ENUM, C(smpp.source_addr), 0, .names = source_addrs, .def = "msisdn"},
    {.name = NULL},
};
static const struct sc_schema smpp_schema = {smpp_fields, 0, NULL};

static int check_redis(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                       const char *path)
{
    const struct sc_config *cfg = obj;
    /* The store's own parser: what passes here is what the daemon accepts.
     * Its messages never quote the URL (it may hold the password). */
    struct sc_redis_url u = {0};
    char msg[160];
    int rc = sc_redis_url_parse(cfg->redis.url, &u, msg, sizeof msg);
    sc_redis_url_free(&u);
    if (rc < 0) {
        static const char pre[] = "redis url: ";
        const char *why = strncmp(msg, pre, sizeof pre - 1) == 0 ? msg + sizeof pre - 1 : msg;
        return sc_schema_error(ctx, sc_cfg_node_get(map, "url"), "%s.url: %s", path, why);
    }
    return 0;
}

static const struct sc_field redis_fields[] = {
    /* The URL may carry a password: never echoed. */
    {"url", SC_FT_STRING, C(redis.url), .flags = SC_F_REQUIRED | SC_F_SECRET | SC_F_NONEMPTY},
    {"connect_timeout_ms", SC_FT_INT, C(redis.connect_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "2000"},
    {"command_timeout_ms", SC_FT_INT, C(redis.command_timeout_ms), 0,
     .min = 100, .max = 600000, .def = "2000"},
    {"catalogue_refresh_s", SC_FT_INT, C(redis.catalogue_refresh_s), 0,
     .min = 1, .max = 86400, .def = "300"},
    {"durability", SC_FT_ENUM, C(redis.durability), 0, .names = durabilities,
     .def = "refuse"},
    {"dataset_check_ms", SC_FT_INT, C(redis.dataset_check_ms), 0,
     .min = 100, .max = 60000, .def = "1000"},
    {.name = NULL},
};
static const struct sc_schema redis_schema = {redis_fields, 0, check_redis};

static const struct sc_field limits_fields[] = {
    {"menu_ttl_s", SC_FT_INT, C(limits.menu_ttl_s), 0, .min = 1, .max = 2592000, .def = "86400"},
    {"confirm_ttl_s", SC_FT_INT, C(limits.confirm_ttl_s), 0, .min = 1, .max = 86400, .def = "300"},
    {"redelivery_horizon_s", SC_FT_INT, C(limits.redelivery_horizon_s), 0,
     .min = 60, .max = 2592000, .def = "259200"},
    {"rate_limit_count", SC_FT_INT, C(limits.rate_limit_count), 0,
     .min = 1, .max = 1000000, .def = "10"},
    {"rate_limit_window_s", SC_FT_INT, C(limits.rate_limit_window_s), 0,
     .min = 1, .max = 86400, .def = "60"},
    {"max_inflight", SC_FT_INT, C(limits.max_inflight), 0,
     .min = 1, .max = 1000000, .def = "10000"},
    {"ack_policy", SC_FT_ENUM, C(limits.ack_policy), 0, .names = ack_policies,
     .def = "after_store"},
    {"mo_error_status", SC_FT_STATUS, C(limits.mo_error_status), 0, .def = "ESME_RX_T_APPN"},
    {"foreign_mo_status", SC_FT_STATUS, C(limits.foreign_mo_status), 0, .def = "ESME_ROK"},
    {"shutdown_timeout_ms", SC_FT_INT, C(limits.shutdown_timeout_ms), 0,
     .min = 0, .max = 600000, .def = "10000"},
    {.name = NULL},
};
static const struct sc_schema limits_schema = {limits_fields, 0, NULL};

/* Cross-section rules: route names and the default route, route services,
 * prefix order. */
static int check_config(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                        const char *path)
{
    struct sc_config *cfg = obj;
    const struct sc_cfg_node *rlist = sc_cfg_node_get(map, "routes");
    const struct sc_cfg_node *rn = rlist ? rlist->child : NULL;
    size_t deflt = (size_t)-1;

    for (size_t i = 0; i < cfg->nroutes; i++, rn = rn ? rn->next : NULL) {
        struct sc_cfg_route *r = &cfg->routes[i];
        const struct sc_cfg_node *name_at = rn ? sc_cfg_node_get(rn, "name") : NULL;
        char q[80];
        if (!r->name) {
            char buf[32];
            snprintf(buf, sizeof buf, "route%zu", i);
            if (!(r->name = strdup(buf)))
                return SC_ENOMEM;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->routes[j].name, r->name) == 0)
                return sc_schema_error(
                    ctx, name_at ? name_at : rn,
                    "routes[%zu].name: duplicate route name %s (also routes[%zu])", i,
                    sc_log_quote(q, sizeof q, r->name, strlen(r->name)), j);
        if (r->service) {
            size_t k;
            for (k = 0; k < cfg->nservice_numbers; k++)
                if (strcmp(cfg->service_numbers[k], r->service) == 0)
                    break;
            if (k == cfg->nservice_numbers)
                return sc_schema_error(ctx, rn ? sc_cfg_node_get(rn, "service") : NULL,
                                       "routes[%zu].service: %s is not in service_numbers", i,
                                       sc_log_quote(q, sizeof q, r->service, strlen(r->service)));
        }
        if (r->nwords == 0 && !r->regex) {
            if (deflt != (size_t)-1)
                return sc_schema_error(ctx, rn,
                                       "routes[%zu]: a second default route (routes[%zu] already "
                                       "has neither match nor regex)",
                                       i, deflt);
            deflt = i;
        }
    }
    if (deflt != (size_t)-1 && deflt + 1 != cfg->nroutes) {
        rn = rlist ? rlist->child : NULL;
        for (size_t i = 0; rn && i < deflt; i++)
            rn = rn->next;
        return sc_schema_error(ctx, rn,
                               "routes[%zu]: the default route (neither match nor regex) must be "
                               "the last route",
                               deflt);
    }

    /* Longest prefix first, so that "+86" is tried before "86" (stable). */
    for (size_t i = 1; i < cfg->nmsisdn_prefixes; i++) {
        char *p = cfg->msisdn_prefixes[i];
        size_t j = i;
        for (; j > 0 && strlen(cfg->msisdn_prefixes[j - 1]) < strlen(p); j--)
            cfg->msisdn_prefixes[j] = cfg->msisdn_prefixes[j - 1];
        cfg->msisdn_prefixes[j] = p;
    }
    return 0;
}

static const struct sc_field config_fields[] = {
    {"log", SC_FT_SECTION, 0, 0, .sub = &log_schema},
    {"binds", SC_FT_LIST, C(binds), SC_F_REQUIRED, .min = 1, .count_offset = C(nbinds),
     .sub = &bind_schema},
    {"smpp", SC_FT_SECTION, 0, 0, .sub = &smpp_schema},
    {"redis", SC_FT_SECTION, 0, 0, .sub = &redis_schema},
    {"service_numbers", SC_FT_STRLIST, C(service_numbers),
     SC_F_REQUIRED | SC_F_NONEMPTY | SC_F_UNIQUE | SC_F_ONE_OR_LIST, .min = 1,
     .count_offset = C(nservice_numbers)},
    {"msisdn_prefixes", SC_FT_STRLIST, C(msisdn_prefixes), SC_F_NONEMPTY | SC_F_UNIQUE,
     .def = "+86,86", .count_offset = C(nmsisdn_prefixes)},
    {"routes", SC_FT_LIST, C(routes), 0, .count_offset = C(nroutes), .sub = &route_schema},
    {"templates", SC_FT_MAP, C(templates), 0, .count_offset = C(ntemplates)},
    {"limits", SC_FT_SECTION, 0, 0, .sub = &limits_schema},
    {.name = NULL},
};
#undef C
static const struct sc_schema config_schema = {config_fields, sizeof(struct sc_config),
                                               check_config};

/* ------------------------------------------------------------------------ */
/* Differences between two configurations (SIGHUP)                          */

#define DIFF_VAL_MAX 256

struct diff {
    sc_config_diff_cb cb;
    void *arg;
    size_t n;
};

static void diff_report(struct diff *d, const char *key, const char *oldv, const char *newv)
{
    d->cb(d->arg, key, oldv, newv);
    d->n++;
}

static void quote_into(char *out, const char *s)
{
    if (s)
        sc_log_quote(out, DIFF_VAL_MAX, s, strlen(s));
    else
        snprintf(out, DIFF_VAL_MAX, "null");
}

/* The word of an enum value: from .names, or by parsing each word of .hint. */
static void enum_text(char *out, const struct sc_field *f, int v)
{
    if (f->names) {
        for (const struct sc_enum *e = f->names; e->name; e++)
            if (e->value == v) {
                snprintf(out, DIFF_VAL_MAX, "%s", e->name);
                return;
            }
    } else if (f->parse && f->hint) {
        for (const char *w = f->hint; *w;) {
            size_t n = strcspn(w, ", ");
            char word[64];
            if (n && n < sizeof word) {
                memcpy(word, w, n);
                word[n] = '\0';
                if (f->parse(word) == v) {
                    snprintf(out, DIFF_VAL_MAX, "%s", word);
                    return;
                }
            }
            w += n;
            w += strspn(w, ", ");
        }
    }
    snprintf(out, DIFF_VAL_MAX, "%d", v);
}

/* A node tree as one line of YAML flow style, bounded ("..." when cut). */
static void node_text(struct sbuf *b, const struct sc_cfg_node *n, int with_key)
{
    if (b->len > DIFF_VAL_MAX)
        return;
    if (with_key && n->key) {
        sb_put(b, n->key, strlen(n->key));
        sb_put(b, ": ", 2);
    }
    if (n->kind == SC_CFG_SCALAR) {
        const char *v = n->value ? n->value : "null";
        sb_put(b, v, strlen(v));
        return;
    }
    sb_put(b, n->kind == SC_CFG_MAP ? "{" : "[", 1);
    for (const struct sc_cfg_node *c = n->child; c; c = c->next) {
        node_text(b, c, 1);
        if (c->next)
            sb_put(b, ", ", 2);
    }
    sb_put(b, n->kind == SC_CFG_MAP ? "}" : "]", 1);
}

static int node_equal(const struct sc_cfg_node *a, const struct sc_cfg_node *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || (!a->key) != (!b->key) || (a->key && strcmp(a->key, b->key)) ||
        (!a->value) != (!b->value) || (a->value && strcmp(a->value, b->value)))
        return 0;
    const struct sc_cfg_node *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!node_equal(x, y))
            return 0;
    return x == y;
}

/* One scalar field's value as text; 0 if f is not a scalar field. */
static int scalar_text(char *out, const struct sc_field *f, const void *p)
{
    switch (f->type) {
    case SC_FT_STRING:
        quote_into(out, *(char *const *)p);
        return 1;
    case SC_FT_INT:
        snprintf(out, DIFF_VAL_MAX, "%d", *(const int *)p);
        return 1;
    case SC_FT_BOOL:
        snprintf(out, DIFF_VAL_MAX, "%s", *(const int *)p ? "true" : "false");
        return 1;
    case SC_FT_ENUM:
        enum_text(out, f, *(const int *)p);
        return 1;
    case SC_FT_UINT32:
        snprintf(out, DIFF_VAL_MAX, "%" PRIu32, *(const uint32_t *)p);
        return 1;
    case SC_FT_STATUS:
        snprintf(out, DIFF_VAL_MAX, "%s", sc_pdu_status_name(*(const uint32_t *)p));
        return 1;
    default:
        return 0;
    }
}

/* Scalar-valued fields: 1 and both texts when they differ. Strings are
 * compared whole, not as their (bounded) quoted texts. */
static int scalar_differs(const struct sc_field *f, const void *pa, const void *pb, char *ta,
                          char *tb)
{
    if (!scalar_text(ta, f, pa) || !scalar_text(tb, f, pb))
        return 0;
    if (f->type == SC_FT_STRING) {
        const char *x = *(char *const *)pa, *y = *(char *const *)pb;
        return (!x) != (!y) || (x && strcmp(x, y) != 0);
    }
    if (f->type == SC_FT_UINT32 || f->type == SC_FT_STATUS)
        return *(const uint32_t *)pa != *(const uint32_t *)pb;
    return *(const int *)pa != *(const int *)pb;
}

static void strlist_text(char *out, char *const *v, size_t n)
{
    struct sbuf b = {0};
    sb_put(&b, "[", 1);
    for (size_t i = 0; i < n && b.len <= DIFF_VAL_MAX; i++) {
        if (i)
            sb_put(&b, ", ", 2);
        sb_put(&b, v[i], strlen(v[i]));
    }
    sb_put(&b, "]", 1);
    quote_into(out, b.p ? b.p : "[...]");
    free(b.p);
}

static const struct sc_cfg_kv *kv_find(const struct sc_cfg_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return &kv[i];
    return NULL;
}

static void diff_map(struct diff *d, const char *path, const struct sc_cfg_kv *a, size_t na,
                     const struct sc_cfg_kv *b, size_t nb)
{
    char key[SC_CFG_PATH_MAX], ta[DIFF_VAL_MAX], tb[DIFF_VAL_MAX];
    for (size_t i = 0; i < na; i++) {
        const struct sc_cfg_kv *o = kv_find(b, nb, a[i].key);
        if (o && strcmp(o->value, a[i].value) == 0)
            continue;
        path_key(key, path, a[i].key);
        quote_into(ta, a[i].value);
        quote_into(tb, o ? o->value : NULL);
        diff_report(d, key, ta, tb);
    }
    for (size_t i = 0; i < nb; i++) {
        if (kv_find(a, na, b[i].key))
            continue;
        path_key(key, path, b[i].key);
        quote_into(tb, b[i].value);
        diff_report(d, key, "null", tb);
    }
}

static void diff_fields(struct diff *d, const struct sc_field *fields, const void *a,
                        const void *b, const char *path)
{
    for (const struct sc_field *f = fields; f->name; f++) {
        const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
        char key[SC_CFG_PATH_MAX], ta[DIFF_VAL_MAX], tb[DIFF_VAL_MAX];
        path_key(key, path, f->name);
        switch (f->type) {
        case SC_FT_SECTION:
            diff_fields(d, f->sub->fields, pa, pb, key);
            break;
        case SC_FT_LIST: {
            size_t na = *(const size_t *)(const void *)((const char *)a + f->count_offset);
            size_t nb = *(const size_t *)(const void *)((const char *)b + f->count_offset);
            if (na != nb) {
                snprintf(ta, sizeof ta, "%zu", na);
                snprintf(tb, sizeof tb, "%zu", nb);
                diff_report(d, key, ta, tb);
            }
            const char *ea = *(char *const *)(const void *)pa;
            const char *eb = *(char *const *)(const void *)pb;
            for (size_t i = 0; i < na && i < nb; i++) {
                char ipath[SC_CFG_PATH_MAX];
                path_idx(ipath, key, i);
                diff_fields(d, f->sub->fields, ea + i * f->sub->size, eb + i * f->sub->size,
                            ipath);
            }
            break;
        }
        case SC_FT_STRLIST: {
            char *const *va = *(char **const *)(const void *)pa;
            char *const *vb = *(char **const *)(const void *)pb;
            size_t na = *(const size_t *)(const void *)((const char *)a + f->count_offset);
            size_t nb = *(const size_t *)(const void *)((const char *)b + f->count_offset);
            int same = na == nb;
            for (size_t i = 0; same && i < na; i++)
                same = strcmp(va[i], vb[i]) == 0;
            if (!same) {
                strlist_text(ta, va, na);
                strlist_text(tb, vb, nb);
                diff_report(d, key, ta, tb);
            }
            break;
        }
        case SC_FT_MAP:
            diff_map(d, key, *(struct sc_cfg_kv *const *)(const void *)pa,
                     *(const size_t *)(const void *)((const char *)a + f->count_offset),
                     *(struct sc_cfg_kv *const *)(const void *)pb,
                     *(const size_t *)(const void *)((const char *)b + f->count_offset));
            break;
        case SC_FT_NODE: {
            const struct sc_cfg_node *x = *(struct sc_cfg_node *const *)(const void *)pa;
            const struct sc_cfg_node *y = *(struct sc_cfg_node *const *)(const void *)pb;
            if (node_equal(x, y))
                break;
            struct sbuf bx = {0}, by = {0};
            if (x)
                node_text(&bx, x, 0);
            if (y)
                node_text(&by, y, 0);
            quote_into(ta, bx.p);
            quote_into(tb, by.p);
            free(bx.p);
            free(by.p);
            diff_report(d, key, ta, tb);
            break;
        }
        default:
            if (!scalar_differs(f, pa, pb, ta, tb))
                break;
            if (field_secret(f))
                diff_report(d, key, NULL, NULL);
            else
                diff_report(d, key, ta, tb);
            break;
        }
    }
}

size_t sc_config_diff(const struct sc_config *a, const struct sc_config *b,
                      sc_config_diff_cb cb, void *arg)
{
    struct diff d = {cb, arg, 0};
    diff_fields(&d, config_schema.fields, a, b, "");
    return d.n;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

struct sc_config *sc_config_load(const char *path, char *err, size_t errsz)
{
    struct sc_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(path))) {
        free(cfg);
        snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    struct sc_cfg_node *root = sc_cfg_parse_file(path, err, errsz);
    if (!root) {
        sc_config_free(cfg);
        return NULL;
    }
    struct sc_schema_ctx ctx = {path, err, errsz, root->line, root->col};
    int rc;
    if (node_is_null(root))
        rc = err_pos(&ctx, 0, 0, "empty document (no settings)");
    else if (root->kind != SC_CFG_MAP)
        rc = sc_schema_error(&ctx, root, "the top level must be a mapping of settings "
                                         "(\"key: value\" lines), not %s", kind_name(root));
    else
        rc = sc_schema_apply(&ctx, &config_schema, cfg, root, "");
    sc_cfg_node_free(root);
    if (rc) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

void sc_config_free(struct sc_config *cfg)
{
    if (!cfg)
        return;
    sc_schema_free(&config_schema, cfg);
    free(cfg->path);
    free(cfg);
}

const struct sc_cfg_kv *sc_config_template(const struct sc_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ntemplates; i++)
        if (strcmp(cfg->templates[i].key, name) == 0)
            return &cfg->templates[i];
    return NULL;
}

const char *sc_config_retired(const struct sc_config *cfg, size_t i)
{
    const char *set[2];
    size_t n = 0;
    if (cfg->smpp.reasm_max_pending)
        set[n++] = "smpp.reasm_max_pending";
    if (cfg->smpp.reasm_max_bytes)
        set[n++] = "smpp.reasm_max_bytes";
    return i < n ? set[i] : NULL;
}
