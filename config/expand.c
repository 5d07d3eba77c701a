/* expand.c -- ${VAR} expansion of configuration values, and the growing string it builds. */
#include "config/config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"

/* ------------------------------------------------------------------------ */
/* ${VAR} expansion                                                         */

int sc__sb_put(struct sc__sbuf *b, const char *s, size_t n)
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
static int expand(struct sc__sbuf *b, const char *s, size_t n, int depth, char *err, size_t errsz)
{
    size_t i = 0;
    while (i < n) {
        size_t lit = i;
        while (i < n && s[i] != '$')
            i++;
        if (i > lit && sc__sb_put(b, s + lit, i - lit))
            return SC_ENOMEM;
        if (i >= n)
            break;
        /* s[i] == '$' */
        if (i + 1 < n && s[i + 1] == '$') {
            if (sc__sb_put(b, "$", 1))
                return SC_ENOMEM;
            i += 2;
            continue;
        }
        if (i + 1 >= n || s[i + 1] != '{') {   /* a lone "$" is literal */
            if (sc__sb_put(b, "$", 1))
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
            if (sc__sb_put(b, val, strlen(val)))
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
            if (sc__sb_put(b, val, strlen(val)))
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
    struct sc__sbuf b = {0};
    char dummy[1];
    if (!err || errsz == 0) {
        err = dummy;
        errsz = sizeof dummy;
    }
    int rc = sc__sb_put(&b, "", 0);
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
