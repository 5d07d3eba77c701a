/* shipped.h -- for unit tests: the path of config/shortcoded.yaml.
 *
 * Found from this header's path as the compiler saw it (meson passes
 * "../tests/unit/...", relative to the build directory, which is where
 * meson runs tests). SC_SOURCE_ROOT overrides. Include after <cmocka.h>. */
#ifndef SC_TEST_SHIPPED_H
#define SC_TEST_SHIPPED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *shipped_path(void)
{
    static char buf[4096];
    const char *root = getenv("SC_SOURCE_ROOT");
    if (root) {
        snprintf(buf, sizeof buf, "%s/config/shortcoded.yaml", root);
        return buf;
    }
    const char *f = __FILE__, *suffix = "tests/unit/shipped.h";
    size_t n = strlen(f), m = strlen(suffix);
    assert_true(n >= m && strcmp(f + n - m, suffix) == 0);
    snprintf(buf, sizeof buf, "%.*sconfig/shortcoded.yaml", (int)(n - m), f);
    if (access(buf, R_OK) != 0)
        fail_msg("cannot find %s from cwd; set SC_SOURCE_ROOT", buf);
    return buf;
}

#endif
