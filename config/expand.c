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

#define NAME_MAX_LEN 256   /* bytes of a variable name, with its NUL */

/* The variable name that starts at s[at] (after "${") into name[NAME_MAX_LEN];
 * *end is the index after it, which is inside s. SC_EINVAL with err when
 * there is no name, it is too long, or s ends after it. */
static int read_name(const char *s, size_t n, size_t at, char *name, size_t *end, char *err,
                     size_t errsz)
{
    size_t j = at;
    if (j < n && is_name_start(s[j]))
        while (j < n && is_name_char(s[j]))
            j++;
    if (j == at) {
        if (j >= n)
            snprintf(err, errsz, "unterminated \"${\"");
        else
            snprintf(err, errsz, "expected a variable name after \"${\"");
        return SC_EINVAL;
    }
    if (j - at >= NAME_MAX_LEN) {
        snprintf(err, errsz, "variable name too long after \"${\"");
        return SC_EINVAL;
    }
    memcpy(name, s + at, j - at);
    name[j - at] = '\0';
    if (j >= n) {
        snprintf(err, errsz, "unterminated \"${%s\"", name);
        return SC_EINVAL;
    }
    *end = j;
    return 0;
}

/* The index of the "}" that ends a default starting at s[k], skipping
 * nested "${...}" and "$$"; n when there is none. */
static size_t default_end(const char *s, size_t n, size_t k)
{
    int nest = 0;
    while (k < n) {
        if (s[k] == '$' && k + 1 < n && (s[k + 1] == '$' || s[k + 1] == '{')) {
            nest += s[k + 1] == '{';
            k += 2;
            continue;
        }
        if (s[k] == '}') {
            if (nest == 0)
                return k;
            nest--;
        }
        k++;
    }
    return n;
}

static int expand(struct sc__sbuf *b, const char *s, size_t n, int depth, char *err,
                  size_t errsz);

/* The reference "${NAME}" or "${NAME:-default}" at s[i] (s[i] is "$", s[i+1]
 * "{"), appended to b; *next is the index after its "}". A default is itself
 * expanded, only when it is used, so "${A:-${B:-x}}" works. */
static int expand_ref(struct sc__sbuf *b, const char *s, size_t n, size_t i, size_t *next,
                      int depth, char *err, size_t errsz)
{
    char name[NAME_MAX_LEN];
    size_t j;
    int rc = read_name(s, n, i + 2, name, &j, err, errsz);
    if (rc)
        return rc;
    const char *val = getenv(name);
    if (s[j] == '}') {
        if (!val) {
            snprintf(err, errsz, "environment variable %s is not set (write ${%s:-default})",
                     name, name);
            return SC_EINVAL;
        }
        *next = j + 1;
        return sc__sb_put(b, val, strlen(val));
    }
    if (s[j] != ':' || j + 1 >= n || s[j + 1] != '-') {
        snprintf(err, errsz, "expected \"}\" or \":-\" after \"${%s\"", name);
        return SC_EINVAL;
    }
    size_t d0 = j + 2, k = default_end(s, n, d0);
    if (k >= n) {
        snprintf(err, errsz, "unterminated \"${%s:-\"", name);
        return SC_EINVAL;
    }
    *next = k + 1;
    if (val && *val)
        return sc__sb_put(b, val, strlen(val));
    if (depth >= SC_EXPAND_MAX_DEPTH) {
        snprintf(err, errsz, "defaults nested too deeply in \"${%s:-\"", name);
        return SC_EINVAL;
    }
    return expand(b, s + d0, k - d0, depth + 1, err, errsz);
}

/* Expand s[0..n) into b: literal runs are copied, "$$" is one "$", a "$" not
 * followed by "{" is literal, "${" starts a reference. */
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
        if (i + 1 < n && s[i + 1] == '{') {
            int rc = expand_ref(b, s, n, i, &i, depth, err, errsz);
            if (rc)
                return rc;
            continue;
        }
        if (sc__sb_put(b, "$", 1))
            return SC_ENOMEM;
        i += i + 1 < n && s[i + 1] == '$' ? 2 : 1;
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
