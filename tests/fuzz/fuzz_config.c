/* fuzz_config.c -- libFuzzer target: the configuration loader (config/ and the daemon's schema).
 *
 * The input is a YAML file. It goes through sc_cfg_parse() (text in memory)
 * and through the whole loader sc_config_load(), which only takes a path: the
 * input is written to a memfd and loaded as /proc/self/fd/N. Every error
 * must name the file first ("FILE:LINE:COL: message" or "FILE: message").
 * ${VAR} expansion (sc_config_expand) also runs over the input as a string.
 * The environment variables of the shipped config are set, so that it and
 * its mutations load. A config that loads is compared (sc_config_diff, what
 * SIGHUP reports) with itself, which must show no difference, and with a
 * small fixed config, where every key must be named and a secret must come
 * without values. Everything is freed (LeakSanitizer). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/sc.h"
#include "config/schema.h"
#include "core/config.h"
#include "tests/fuzz/fuzz.h"

static int memfd = -1;
static char memfd_path[64];
static struct sc_config *baseline;

static void write_memfd(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(ftruncate(memfd, 0) == 0);
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
        FUZZ_CHECK(w > 0);
        off += (size_t)w;
    }
}

static void on_diff(void *arg, const char *key, const char *oldv, const char *newv)
{
    (void)arg;
    FUZZ_CHECK(key && *key);
    FUZZ_CHECK((oldv == NULL) == (newv == NULL));
    FUZZ_CHECK(!oldv || (*oldv && *newv));
    FUZZ_CHECK(oldv || strstr(key, "password") || strcmp(key, "redis.url") == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("SHORTCODED_SMSC_HOST", "127.0.0.1", 1);
    setenv("SHORTCODED_SMSC_PORT", "2775", 1);
    setenv("SHORTCODED_SYSTEM_ID", "fuzz", 1);
    setenv("SHORTCODED_PASSWORD", "secret", 1);
    setenv("SHORTCODED_REDIS_URL", "redis://127.0.0.1:6379/0", 1);
    setenv("FUZZ_EMPTY", "", 1);
    unsetenv("FUZZ_UNSET");
    memfd = memfd_create("fuzz_config.yaml", MFD_CLOEXEC);
    FUZZ_CHECK(memfd >= 0);
    snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    static const char base[] = "binds:\n  - {name: a, host: h, port: 1, system_id: s}\n"
                               "redis: {url: \"redis://:pw@x\"}\nservice_numbers: [\"10086\"]\n";
    write_memfd((const uint8_t *)base, sizeof base - 1);
    char err[512];
    baseline = sc_config_load(memfd_path, err, sizeof err);
    FUZZ_CHECK(baseline != NULL);
    return 0;
}

static void check_err(const char *err, size_t errsz, const char *file)
{
    FUZZ_CHECK(memchr(err, '\0', errsz) != NULL);
    size_t n = strlen(file);
    if (strncmp(err, file, n) != 0 || err[n] != ':' || err[n + 1] != ' ') {
        /* "FILE:LINE:COL: msg" also starts with "FILE:" and a digit. */
        if (!(strncmp(err, file, n) == 0 && err[n] == ':' && err[n + 1] >= '0' &&
              err[n + 1] <= '9')) {
            fprintf(stderr, "error without \"%s:\" prefix: %s\n", file, err);
            FUZZ_CHECK(!"error starts with FILE:");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0)
        LLVMFuzzerInitialize(NULL, NULL);
    char err[512];

    /* 1. The YAML layer, from memory (an exactly sized copy). */
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    err[0] = '\0';
    struct sc_cfg_node *root = sc_cfg_parse("fuzz.yaml", text, size, err, sizeof err);
    if (root) {
        struct sc_cfg_node *dup = sc_cfg_node_dup(root);
        FUZZ_CHECK(dup != NULL);
        sc_cfg_node_free(dup);
        if (root->kind == SC_CFG_MAP)
            (void)sc_cfg_node_get(root, "binds");
        sc_cfg_node_free(root);
    } else {
        check_err(err, sizeof err, "fuzz.yaml");
    }
    free(text);

    /* 2. The whole loader, through a memfd. */
    write_memfd(data, size);
    err[0] = '\0';
    struct sc_config *cfg = sc_config_load(memfd_path, err, sizeof err);
    if (cfg) {
        FUZZ_CHECK(cfg->nbinds >= 1 && cfg->binds != NULL);
        FUZZ_CHECK(cfg->redis.url != NULL);
        for (size_t i = 0; i < cfg->ntemplates; i++)
            FUZZ_CHECK(sc_config_template(cfg, cfg->templates[i].key) != NULL);
        FUZZ_CHECK(sc_config_diff(cfg, cfg, on_diff, NULL) == 0);
        (void)sc_config_diff(baseline, cfg, on_diff, NULL);
        (void)sc_config_diff(cfg, baseline, on_diff, NULL);
        sc_config_free(cfg);
    } else {
        check_err(err, sizeof err, memfd_path);
    }

    /* 3. ${VAR} expansion over the input as one string. */
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    err[0] = '\0';
    char *x = sc_config_expand(s, err, sizeof err);
    if (x)
        free(x);
    else
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    free(s);
    return 0;
}
