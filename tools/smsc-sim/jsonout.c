/* jsonout.c -- smsc-sim's JSON output (jansson) and atomic file writes. */
#include "jsonout.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "stats.h"

json_t *sim_json_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    /* Not UTF-8 (json_string refuses it): each byte as a code point. */
    size_t n = strlen(s);
    char *buf = malloc(2 * n + 1);
    if (!buf)
        return NULL;
    char *w = buf;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            *w++ = (char)*p;
        } else {
            *w++ = (char)(0xC0 | (*p >> 6));
            *w++ = (char)(0x80 | (*p & 0x3F));
        }
    }
    j = json_stringn(buf, (size_t)(w - buf));
    free(buf);
    return j;
}

json_t *sim_json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

json_t *sim_json_statmap(const struct sim_statmap *m)
{
    json_t *o = json_object();
    char b[16];
    for (unsigned i = 0; o && i < m->n; i++)
        json_object_set_new(o, sim_status_name(m->e[i].status, b, sizeof b),
                            sim_json_u64(m->e[i].count));
    return o;
}

int sim_file_write_atomic(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return SC_ENOMEM;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f || fwrite(data, 1, len, f) != len)
        rc = SC_EIO;
    if (f && fclose(f) != 0)
        rc = SC_EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = SC_EIO;
    if (rc < 0)
        remove(tmp);
    free(tmp);
    return rc;
}

int sim_json_write(const char *path, json_t *doc)
{
    if (!doc)
        return SC_ENOMEM;
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(doc);
    if (!s)
        return SC_ENOMEM;
    size_t len = strlen(s);
    int rc;
    /* A trailing newline, as the hand-written files had (json_dumps uses
     * malloc by default: realloc is fine). */
    char *t = realloc(s, len + 2);
    if (!t) {
        rc = SC_ENOMEM;
    } else {
        s = t;
        s[len] = '\n';
        s[len + 1] = '\0';
        rc = sim_file_write_atomic(path, s, len + 1);
    }
    free(s);
    return rc;
}
