/* diff.c -- differences between two structs filled by the same schema (SIGHUP reload). */
#include "config/config_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "base/smpp.h"

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
static void node_text(struct sc__sbuf *b, const struct sc_cfg_node *n, int with_key)
{
    if (b->len > DIFF_VAL_MAX)
        return;
    if (with_key && n->key) {
        sc__sb_put(b, n->key, strlen(n->key));
        sc__sb_put(b, ": ", 2);
    }
    if (n->kind == SC_CFG_SCALAR) {
        const char *v = n->value ? n->value : "null";
        sc__sb_put(b, v, strlen(v));
        return;
    }
    sc__sb_put(b, n->kind == SC_CFG_MAP ? "{" : "[", 1);
    for (const struct sc_cfg_node *c = n->child; c; c = c->next) {
        node_text(b, c, 1);
        if (c->next)
            sc__sb_put(b, ", ", 2);
    }
    sc__sb_put(b, n->kind == SC_CFG_MAP ? "}" : "]", 1);
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
    struct sc__sbuf b = {0};
    sc__sb_put(&b, "[", 1);
    for (size_t i = 0; i < n && b.len <= DIFF_VAL_MAX; i++) {
        if (i)
            sc__sb_put(&b, ", ", 2);
        sc__sb_put(&b, v[i], strlen(v[i]));
    }
    sc__sb_put(&b, "]", 1);
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
        sc__path_key(key, path, a[i].key);
        quote_into(ta, a[i].value);
        quote_into(tb, o ? o->value : NULL);
        diff_report(d, key, ta, tb);
    }
    for (size_t i = 0; i < nb; i++) {
        if (kv_find(a, na, b[i].key))
            continue;
        sc__path_key(key, path, b[i].key);
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
        sc__path_key(key, path, f->name);
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
                sc__path_idx(ipath, key, i);
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
            struct sc__sbuf bx = {0}, by = {0};
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
            if (sc__field_secret(f))
                diff_report(d, key, NULL, NULL);
            else
                diff_report(d, key, ta, tb);
            break;
        }
    }
}

size_t sc_schema_diff(const struct sc_schema *s, const void *a, const void *b,
                      sc_config_diff_cb cb, void *arg)
{
    struct diff d = {cb, arg, 0};
    diff_fields(&d, s->fields, a, b, "");
    return d.n;
}
