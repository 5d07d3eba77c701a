/* fuzz_router.c -- libFuzzer target: routing with regex captures
 * (core/router.c: sc_router_match, sc_route_ncaps, sc_router_caps).
 *
 * At start-up every route regex of the shipped config and of the configs in
 * tests/fuzz/corpus/config/ (those that load) becomes a router of its own,
 * built on the shipped config; the shipped router is kept as it is. Paths are
 * relative to the source root (the working directory of run.sh and of the
 * meson test; SC_SOURCE_ROOT overrides).
 *
 * Input: byte 0 = flags (bits 1..2 pick the service number; bit 0: the input
 * carries its own regex, the first line, at most 64 bytes, without "{" and
 * with at most 8 of "*+?", never two in a row: glibc's regcomp takes
 * seconds for "^((.).)?++++++++++", an operator's problem, not a peer's),
 * the rest = the MO text. The text is
 * normalised as the request layer does (core/request.c: 1024 bytes), routed
 * through every router, and its captures copied first into a heap buffer
 * the size of the request layer's (1024 + SC_REQ_MAX_CAPS: ASan sees any
 * write past it), then into one of the size returned. Invariants: the size
 * returned is the sum of the captures plus a NUL each; with it every capture
 * is exactly its substring of the text ("" for a group that took no part);
 * with the small buffer every capture is a NUL-terminated prefix of it
 * inside the buffer. */
#include <dirent.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "core/config.h"
#include "core/router.h"
#include "handlers/handler.h"
#include "tests/fuzz/fuzz.h"
#include "text/text.h"

#define MAX_TEXT 1024 /* as core/request.c */
#define MAX_ROUTERS 64

static struct sc_config *shipped;
static struct sc_router *routers[MAX_ROUTERS];
static size_t nrouters;
static struct sc_cfg_route extra[MAX_ROUTERS];
static size_t nextra;

static void path_of(char *buf, size_t bufsz, const char *rel)
{
    const char *root = getenv("SC_SOURCE_ROOT");
    snprintf(buf, bufsz, "%s%s%s", root ? root : "", root ? "/" : "", rel);
}

/* Keep every regex route of the config at path (if it loads). */
static void collect(const char *path)
{
    char err[512];
    struct sc_config *c = sc_config_load(path, err, sizeof err);
    if (!c)
        return;
    for (size_t i = 0; i < c->nroutes && nextra < MAX_ROUTERS - 1; i++) {
        if (!c->routes[i].regex)
            continue;
        struct sc_cfg_route *r = &extra[nextra++];
        r->name = strdup(c->routes[i].name ? c->routes[i].name : "fuzz");
        r->regex = strdup(c->routes[i].regex);
        r->service = c->routes[i].service ? strdup(c->routes[i].service) : NULL;
        r->handler = strdup("help");
        FUZZ_CHECK(r->name && r->regex && r->handler);
        r->line = r->col = 1;
    }
    sc_config_free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The shipped config's ${VAR:-default}s are enough. */
    char path[4096], err[512];
    path_of(path, sizeof path, "config/shortcoded.yaml");
    shipped = sc_config_load(path, err, sizeof err);
    if (!shipped)
        fprintf(stderr, "fuzz_router: %s (run from the source root or set SC_SOURCE_ROOT)\n", err);
    FUZZ_CHECK(shipped != NULL);
    collect(path);
    path_of(path, sizeof path, "tests/fuzz/corpus/config");
    DIR *d = opendir(path);
    FUZZ_CHECK(d != NULL);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char f[4096 + 256];
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        collect(f);
    }
    closedir(d);
    FUZZ_CHECK(nextra >= 2); /* at least the shipped config's two */
    routers[nrouters] = sc_router_new(shipped, err, sizeof err);
    FUZZ_CHECK(routers[nrouters] != NULL);
    nrouters++;
    /* One router per regex, on the shipped config's templates. */
    struct sc_cfg_route *saved = shipped->routes;
    size_t nsaved = shipped->nroutes;
    for (size_t i = 0; i < nextra; i++) {
        shipped->routes = &extra[i];
        shipped->nroutes = 1;
        routers[nrouters] = sc_router_new(shipped, err, sizeof err);
        if (routers[nrouters])
            nrouters++;
    }
    shipped->routes = saved;
    shipped->nroutes = nsaved;
    return 0;
}

/* The captures of one match, checked against the text. */
static void check_caps(const char *text, const regmatch_t *m, size_t n)
{
    FUZZ_CHECK(n <= SC_REQ_MAX_CAPS);
    size_t tl = strlen(text), want = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].rm_so < 0)
            FUZZ_CHECK(m[i].rm_eo < 0);
        else
            FUZZ_CHECK(m[i].rm_so <= m[i].rm_eo && (size_t)m[i].rm_eo <= tl);
        want += (m[i].rm_so >= 0 ? (size_t)(m[i].rm_eo - m[i].rm_so) : 0) + 1;
    }
    const char *caps[SC_REQ_MAX_CAPS];
    size_t small = MAX_TEXT + SC_REQ_MAX_CAPS;
    char *buf = malloc(small);
    FUZZ_CHECK(buf != NULL);
    size_t need = sc_router_caps(text, m, n, buf, small, caps);
    FUZZ_CHECK(need == want);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(caps[i] >= buf && caps[i] < buf + small);
        size_t cl = strnlen(caps[i], (size_t)(buf + small - caps[i]));
        FUZZ_CHECK(caps[i] + cl < buf + small);
        FUZZ_CHECK(m[i].rm_so >= 0 ? cl <= (size_t)(m[i].rm_eo - m[i].rm_so) : cl == 0);
        FUZZ_CHECK(cl == 0 || memcmp(caps[i], text + m[i].rm_so, cl) == 0);
        if (need <= small)
            FUZZ_CHECK(m[i].rm_so < 0 || cl == (size_t)(m[i].rm_eo - m[i].rm_so));
    }
    free(buf);
    buf = malloc(need ? need : 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(sc_router_caps(text, m, n, buf, need, caps) == need);
    for (size_t i = 0; i < n; i++) {
        size_t len = m[i].rm_so >= 0 ? (size_t)(m[i].rm_eo - m[i].rm_so) : 0;
        FUZZ_CHECK(strlen(caps[i]) == len);
        FUZZ_CHECK(len == 0 || memcmp(caps[i], text + m[i].rm_so, len) == 0);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const services[] = {"10086", "10010", "", "8610086"};
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    regex_t own;
    int has_own = 0;
    if (flags & 1) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t rl = nl ? (size_t)(nl - p) : n;
        if (rl > 64 || memchr(p, '{', rl) || memchr(p, '\0', rl))
            return 0;
        unsigned reps = 0;
        for (size_t i = 0; i < rl; i++) {
            int rep = p[i] == '*' || p[i] == '+' || p[i] == '?';
            if (rep && (++reps > 8 || (i && (p[i - 1] == '*' || p[i - 1] == '+' || p[i - 1] == '?'))))
                return 0;
        }
        char re[65];
        memcpy(re, p, rl);
        re[rl] = '\0';
        has_own = regcomp(&own, re, REG_EXTENDED) == 0;
        p += nl ? rl + 1 : rl;
        n -= nl ? rl + 1 : rl;
    }
    char text[MAX_TEXT];
    if (sc_text_normalize((const char *)p, n, text, sizeof text) < 0)
        text[0] = '\0';
    const char *service = services[(flags >> 1) & 3];
    regmatch_t m[SC_REQ_MAX_CAPS];
    for (size_t i = 0; i < nrouters; i++) {
        const struct sc_route *rt = sc_router_match(routers[i], service, text, m, SC_REQ_MAX_CAPS);
        if (!rt)
            continue;
        size_t nc = sc_route_ncaps(rt, SC_REQ_MAX_CAPS);
        FUZZ_CHECK(rt->has_re ? nc >= 1 : nc == 0);
        check_caps(text, m, nc);
    }
    if (has_own) {
        for (size_t i = 0; i < SC_REQ_MAX_CAPS; i++)
            m[i].rm_so = m[i].rm_eo = -1;
        if (regexec(&own, text, SC_REQ_MAX_CAPS, m, 0) == 0) {
            struct sc_route rt = {.has_re = 1, .re = own};
            check_caps(text, m, sc_route_ncaps(&rt, SC_REQ_MAX_CAPS));
        }
        regfree(&own);
    }
    return 0;
}
