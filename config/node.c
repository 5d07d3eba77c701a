/* node.c -- YAML text (libyaml events) to a tree of positioned configuration nodes. */
#include "config/config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/sc.h"

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

int sc__node_is_null(const struct sc_cfg_node *n)
{
    return n->kind == SC_CFG_SCALAR && n->value == NULL;
}

const char *sc__kind_name(const struct sc_cfg_node *n)
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
    sc__verr_at(p->err, p->errsz, p->file, (int)m.line + 1, (int)m.column + 1, fmt, ap);
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
        sc__path_idx(cpath, path, i);
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
        sc__path_key(cpath, path, kv);
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
