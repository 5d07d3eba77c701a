/* template.c -- reply templates: "{name}" placeholders filled from named values. */
#include "text/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"

/* A compiled template is a list of segments: literal text (var < 0) or a
 * placeholder (var = index into the render-time values). Literal bytes live
 * in one buffer owned by the template. */
struct seg {
    int var;
    size_t off, len;
};

struct sc_tpl {
    struct seg *segs;
    size_t nsegs;
    char *lit;
};

static int add_seg(struct sc_tpl *t, size_t *cap, int var, size_t off, size_t len)
{
    if (var < 0 && len == 0)
        return 0;
    if (var < 0 && t->nsegs && t->segs[t->nsegs - 1].var < 0 &&
        t->segs[t->nsegs - 1].off + t->segs[t->nsegs - 1].len == off) {
        t->segs[t->nsegs - 1].len += len;   /* extend the previous literal */
        return 0;
    }
    if (t->nsegs == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        struct seg *s = realloc(t->segs, *cap * sizeof *s);
        if (!s)
            return SC_ENOMEM;
        t->segs = s;
    }
    t->segs[t->nsegs++] = (struct seg){var, off, len};
    return 0;
}

static void known_list(char *buf, size_t bufsz, const char *const *vars, size_t nvars)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nvars && o < bufsz; i++) {
        int n = snprintf(buf + o, bufsz - o, "%s{%s}", i ? ", " : "", vars[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    if (nvars == 0)
        snprintf(buf, bufsz, "no placeholders");
}

struct sc_tpl *sc_tpl_compile(const char *text, const char *const *vars, size_t nvars, char *err,
                              size_t errsz)
{
    struct sc_tpl *t = calloc(1, sizeof *t);
    size_t n = strlen(text);
    size_t cap = 0, o = 0;
    if (!t || !(t->lit = malloc(n + 1))) {
        free(t);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    /* Literal text is copied into lit with "{{"/"}}" collapsed; o is the
     * write position. */
    for (size_t i = 0; i < n;) {
        char c = text[i];
        if ((c == '{' || c == '}') && text[i + 1] == c) {
            if (add_seg(t, &cap, -1, o, 1) < 0)
                goto oom;
            t->lit[o++] = c;
            i += 2;
        } else if (c == '{') {
            const char *end = strchr(text + i + 1, '}');
            if (!end) {
                snprintf(err, errsz, "unterminated { at byte %zu (write {{ for a literal brace)", i);
                goto fail;
            }
            size_t len = (size_t)(end - (text + i + 1));
            int var = -1;
            for (size_t k = 0; k < nvars; k++)
                if (strlen(vars[k]) == len && memcmp(vars[k], text + i + 1, len) == 0)
                    var = (int)k;
            if (var < 0) {
                char known[256];
                known_list(known, sizeof known, vars, nvars);
                snprintf(err, errsz, "unknown placeholder {%.*s}; this template knows %s",
                         (int)SC_MIN(len, 64), text + i + 1, known);
                goto fail;
            }
            if (add_seg(t, &cap, var, 0, 0) < 0)
                goto oom;
            i += len + 2;
        } else if (c == '}') {
            snprintf(err, errsz, "unmatched } at byte %zu (write }} for a literal brace)", i);
            goto fail;
        } else {
            if (add_seg(t, &cap, -1, o, 1) < 0)
                goto oom;
            t->lit[o++] = c;
            i++;
        }
    }
    t->lit[o] = '\0';
    return t;
oom:
    snprintf(err, errsz, "out of memory");
fail:
    sc_tpl_free(t);
    return NULL;
}

void sc_tpl_free(struct sc_tpl *t)
{
    if (!t)
        return;
    free(t->segs);
    free(t->lit);
    free(t);
}

/* Copy len bytes of s at out+o if they fit; once something does not fit,
 * stop writing for good (so the output never ends mid-value). */
static void emit(char *out, size_t outsz, size_t *o, int *full, const char *s, size_t len)
{
    if (!*full && outsz && *o + len < outsz)
        memcpy(out + *o, s, len);
    else if (!*full && outsz) {
        /* Keep what fits, cut back to a UTF-8 character boundary. */
        size_t room = outsz - 1 - *o;
        while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80)
            room--;
        memcpy(out + *o, s, room);
        out[*o + room] = '\0';
        *full = 1;
    }
    *o += len;
}

size_t sc_tpl_render(const struct sc_tpl *t, const char *const *values, char *out, size_t outsz)
{
    size_t o = 0;
    int full = 0;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct seg *s = &t->segs[i];
        if (s->var < 0) {
            emit(out, outsz, &o, &full, t->lit + s->off, s->len);
        } else {
            const char *v = values[s->var] ? values[s->var] : "";
            emit(out, outsz, &o, &full, v, strlen(v));
        }
    }
    if (!full && outsz)
        out[o] = '\0';
    return o;
}
