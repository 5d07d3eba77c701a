/* router.c -- routes from the config compiled and matched against MOs. */
#include "core/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "config/schema.h"
#include "core/intake.h"
#include "core/metrics.h"
#include "core/request.h"
#include "text/text.h"

/* A template compiled for the placeholders of the handler that declared it. */
struct tpl_entry {
    const char *name;
    const struct sc_tpl_decl *decl;
    struct sc_tpl *tpl;
};

struct sc_router {
    const struct sc_config *cfg;
    struct sc_route *routes;
    size_t nroutes;
    struct tpl_entry *tpls;
    size_t ntpls;
};

/* Compare two declarations of one template: same placeholders, same order. */
static int same_decl(const struct sc_tpl_decl *a, const struct sc_tpl_decl *b)
{
    if (a->nvars != b->nvars)
        return 0;
    for (size_t i = 0; i < a->nvars; i++)
        if (strcmp(a->vars[i], b->vars[i]) != 0)
            return 0;
    return 1;
}

static struct tpl_entry *find_tpl(const struct sc_router *r, const char *name)
{
    for (size_t i = 0; i < r->ntpls; i++)
        if (strcmp(r->tpls[i].name, name) == 0)
            return &r->tpls[i];
    return NULL;
}

/* Compile the templates of one declaration list (handler or request layer).
 * `who` names the declarer in messages. */
static int add_templates(struct sc_router *r, const struct sc_tpl_decl *decls, const char *who,
                         int line, int col, char *err, size_t errsz)
{
    for (const struct sc_tpl_decl *d = decls; d && d->name; d++) {
        struct tpl_entry *e = find_tpl(r, d->name);
        if (e) {
            if (!same_decl(e->decl, d)) {
                snprintf(err, errsz, "%s: template %s is declared twice with different "
                         "placeholders (a bug in the handlers)", r->cfg->path, d->name);
                return SC_ECONFIG;
            }
            continue;
        }
        const struct sc_cfg_kv *kv = sc_config_template(r->cfg, d->name);
        if (!kv) {
            snprintf(err, errsz, "%s:%d:%d: %s needs template %s: add it under templates:",
                     r->cfg->path, line, col, who, d->name);
            return SC_ECONFIG;
        }
        char e2[256];
        struct sc_tpl *t = sc_tpl_compile(kv->value, d->vars, d->nvars, e2, sizeof e2);
        if (!t) {
            snprintf(err, errsz, "%s:%d:%d: templates.%s: %s", r->cfg->path, kv->line, kv->col,
                     kv->key, e2);
            return SC_ECONFIG;
        }
        struct tpl_entry *n = realloc(r->tpls, (r->ntpls + 1) * sizeof *n);
        if (!n) {
            sc_tpl_free(t);
            snprintf(err, errsz, "out of memory");
            return SC_ENOMEM;
        }
        r->tpls = n;
        r->tpls[r->ntpls++] = (struct tpl_entry){d->name, d, t};
    }
    return 0;
}

/* A template in the config that no registered handler declares is a typo
 * or a leftover: refuse it rather than let it be silently unused. */
static int check_unknown_templates(const struct sc_router *r, char *err, size_t errsz)
{
    for (size_t i = 0; i < r->cfg->ntemplates; i++) {
        const struct sc_cfg_kv *kv = &r->cfg->templates[i];
        int known = 0;
        for (const struct sc_tpl_decl *d = sc_request_templates; d->name && !known; d++)
            known = strcmp(d->name, kv->key) == 0;
        for (size_t h = 0; sc_handlers[h] && !known; h++)
            for (const struct sc_tpl_decl *d = sc_handlers[h]->templates; d && d->name; d++)
                if (strcmp(d->name, kv->key) == 0)
                    known = 1;
        if (!known) {
            snprintf(err, errsz, "%s:%d:%d: templates.%s: no handler uses this template",
                     r->cfg->path, kv->line, kv->col, kv->key);
            return SC_ECONFIG;
        }
    }
    return 0;
}

static int compile_route(struct sc_router *r, size_t i, char *err, size_t errsz)
{
    const struct sc_cfg_route *c = &r->cfg->routes[i];
    struct sc_route *rt = &r->routes[i];
    rt->name = c->name;
    rt->service = c->service;
    rt->handler = sc_handler_find(c->handler, &rt->handler_index);
    if (!rt->handler) {
        char known[512] = "";
        size_t o = 0;
        for (size_t h = 0; sc_handlers[h] && o < sizeof known; h++)
            o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", h ? ", " : "",
                                  sc_handlers[h]->name);
        snprintf(err, errsz, "%s:%d:%d: routes[%zu].handler: unknown handler %s (known: %s)",
                 r->cfg->path, c->line, c->col, i, c->handler, known);
        return SC_ECONFIG;
    }
    char path[64];
    snprintf(path, sizeof path, "routes[%zu].options", i);
    struct sc_schema_ctx ctx = {r->cfg->path, err, errsz, c->line, c->col};
    if (rt->handler->options) {
        rt->opts = calloc(1, rt->handler->options->size);
        if (!rt->opts)
            return SC_ENOMEM;
        int rc = sc_schema_apply(&ctx, rt->handler->options, rt->opts, c->options, path);
        if (rc < 0)
            return rc;
    } else if (c->options) {
        return sc_schema_error(&ctx, c->options, "%s: handler %s takes no options", path,
                               rt->handler->name);
    }
    if (c->nwords) {
        rt->words = calloc(c->nwords, sizeof *rt->words);
        if (!rt->words)
            return SC_ENOMEM;
        for (size_t w = 0; w < c->nwords; w++) {
            char norm[256];
            int n = sc_text_normalize(c->words[w], strlen(c->words[w]), norm, sizeof norm);
            if (n <= 0)
                return sc_schema_error(&ctx, NULL, "routes[%zu].match: word %zu is empty or "
                                       "too long after normalisation", i, w);
            rt->words[rt->nwords++] = strdup(norm);
            if (!rt->words[rt->nwords - 1])
                return SC_ENOMEM;
        }
    }
    if (c->regex) {
        /* The config loader already checked that it compiles. */
        if (regcomp(&rt->re, c->regex, REG_EXTENDED) != 0)
            return sc_schema_error(&ctx, NULL, "routes[%zu].regex: does not compile", i);
        rt->has_re = 1;
    }
    char who[96];
    snprintf(who, sizeof who, "handler %s (routes[%zu])", rt->handler->name, i);
    return add_templates(r, rt->handler->templates, who, c->line, c->col, err, errsz);
}

struct sc_router *sc_router_new(const struct sc_config *cfg, char *err, size_t errsz)
{
    struct sc_router *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->routes = calloc(cfg->nroutes ? cfg->nroutes : 1, sizeof *r->routes);
    if (!r->routes) {
        free(r);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    r->nroutes = cfg->nroutes;
    int rc = add_templates(r, sc_request_templates, "the request layer", 1, 1, err, errsz);
    for (size_t i = 0; rc == 0 && i < cfg->nroutes; i++)
        rc = compile_route(r, i, err, errsz);
    if (rc == 0)
        rc = check_unknown_templates(r, err, errsz);
    if (rc < 0) {
        if (rc == SC_ENOMEM)
            snprintf(err, errsz, "out of memory");
        sc_router_free(r);
        return NULL;
    }
    for (size_t i = 0; i < r->nroutes; i++)
        sc__metrics_route(&r->routes[i]);
    return r;
}

void sc_router_free(struct sc_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nroutes; i++) {
        struct sc_route *rt = &r->routes[i];
        for (size_t w = 0; w < rt->nwords; w++)
            free(rt->words[w]);
        free(rt->words);
        if (rt->has_re)
            regfree(&rt->re);
        if (rt->opts) {
            sc_schema_free(rt->handler->options, rt->opts);
            free(rt->opts);
        }
    }
    for (size_t i = 0; i < r->ntpls; i++)
        sc_tpl_free(r->tpls[i].tpl);
    free(r->tpls);
    free(r->routes);
    free(r);
}

const struct sc_route *sc_router_match(const struct sc_router *r, const char *service,
                                       const char *text, regmatch_t *caps, size_t ncaps)
{
    for (size_t i = 0; i < ncaps; i++)
        caps[i].rm_so = caps[i].rm_eo = -1;
    /* The service number as configured (service_numbers), whatever prefix
     * the SMSC wrote before it. */
    const char *ours = sc_intake_service(r->cfg, service);
    for (size_t i = 0; i < r->nroutes; i++) {
        const struct sc_route *rt = &r->routes[i];
        if (rt->service && (!ours || strcmp(rt->service, ours) != 0))
            continue;
        if (rt->nwords) {
            /* The first byte first: most words differ there, and a call
             * of strcmp costs more than the comparison. */
            for (size_t w = 0; w < rt->nwords; w++)
                if (rt->words[w][0] == text[0] && strcmp(rt->words[w], text) == 0)
                    return rt;
        } else if (rt->has_re) {
            if (regexec(&rt->re, text, ncaps, caps, 0) == 0)
                return rt;
        } else {
            return rt; /* the default route */
        }
    }
    return NULL;
}

size_t sc_route_ncaps(const struct sc_route *rt, size_t max)
{
    if (!rt || !rt->has_re)
        return 0;
    return rt->re.re_nsub + 1 < max ? rt->re.re_nsub + 1 : max;
}

size_t sc_router_caps(const char *text, const regmatch_t *m, size_t nm, char *buf, size_t bufsz,
                      const char **caps)
{
    static const char empty[] = "";
    size_t need = 0, o = 0;
    for (size_t i = 0; i < nm; i++) {
        size_t len = 0;
        if (m[i].rm_so >= 0 && m[i].rm_eo >= m[i].rm_so)
            len = (size_t)(m[i].rm_eo - m[i].rm_so);
        need += len + 1;
        if (o >= bufsz) { /* no room even for a NUL */
            caps[i] = bufsz ? buf + bufsz - 1 : empty;
            continue;
        }
        size_t n = len < bufsz - o - 1 ? len : bufsz - o - 1;
        if (n)
            memcpy(buf + o, text + m[i].rm_so, n);
        buf[o + n] = '\0';
        caps[i] = buf + o;
        o += n + 1;
    }
    return need;
}

const struct sc_tpl *sc_router_template(const struct sc_router *r, const char *name)
{
    const struct tpl_entry *e = find_tpl(r, name);
    return e ? e->tpl : NULL;
}

/* ---- warnings ------------------------------------------------------------ */

/* Does route a (earlier) take every word of route b (later, a match route)
 * before b is tried? */
static int shadows(const struct sc_route *a, const struct sc_route *b)
{
    if (a->service && (!b->service || strcmp(a->service, b->service) != 0))
        return 0;
    for (size_t w = 0; w < b->nwords; w++) {
        int taken = 0;
        if (a->has_re)
            taken = regexec(&a->re, b->words[w], 0, NULL, 0) == 0;
        for (size_t v = 0; v < a->nwords && !taken; v++)
            taken = strcmp(a->words[v], b->words[w]) == 0;
        if (!taken)
            return 0;
    }
    return 1;
}

static size_t lint_templates(const struct sc_router *r, void (*warn)(void *, const char *),
                             void *arg)
{
    size_t n = 0;
    unsigned maxp = (unsigned)r->cfg->smpp.max_parts;
    struct sc_mt *mt = malloc(sizeof *mt);
    if (!mt)
        return 0;
    for (size_t i = 0; i < r->ntpls; i++) {
        const struct tpl_entry *e = &r->tpls[i];
        const struct sc_cfg_kv *kv = sc_config_template(r->cfg, e->name);
        if (!kv)
            continue;
        /* Every placeholder empty (NULL renders as ""). */
        const char **none = calloc(e->decl->nvars + 1, sizeof *none);
        size_t len = none ? sc_tpl_render(e->tpl, none, NULL, 0) : 0;
        char *fixed = none ? malloc(len + 1) : NULL;
        if (!fixed) {
            free(none);
            break;
        }
        sc_tpl_render(e->tpl, none, fixed, len + 1);
        free(none);
        if (sc_text_encode(fixed, len, (enum sc_seg_mode)r->cfg->smpp.seg_mode, 0, maxp, mt) ==
            SC_ETOOBIG) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "%s:%d:%d: warning: templates.%s: its fixed text alone needs more than "
                     "smpp.max_parts (%u) SMS: every reply from it will be cut with \"\xE2\x80\xA6\"",
                     r->cfg->path, kv->line, kv->col, kv->key, maxp);
            warn(arg, msg);
            n++;
        }
        free(fixed);
    }
    free(mt);
    return n;
}

size_t sc_router_lint(const struct sc_router *r, void (*warn)(void *arg, const char *msg),
                      void *arg)
{
    size_t n = 0;
    for (size_t j = 0; j < r->nroutes; j++) {
        const struct sc_route *b = &r->routes[j];
        if (!b->nwords)
            continue;
        for (size_t i = 0; i < j; i++) {
            const struct sc_route *a = &r->routes[i];
            if (!shadows(a, b))
                continue;
            const struct sc_cfg_route *c = &r->cfg->routes[j];
            char msg[512];
            snprintf(msg, sizeof msg,
                     "%s:%d:%d: warning: routes[%zu] (%s) can never match: routes[%zu] (%s) "
                     "takes %s first",
                     r->cfg->path, c->line, c->col, j, b->name, i, a->name,
                     b->nwords == 1 ? "its word" : "every one of its words");
            warn(arg, msg);
            n++;
            break;
        }
    }
    return n + lint_templates(r, warn, arg);
}
