/* test_relay.c -- core/relay.c's marker keys: on the global key's slot,
 * whatever hash tag the key has, and refused when none can be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/sc.h"
#include "core/relay.h"
#include "store/keys.h"
#include "store/slots.h"

/* key's marker is want, on key's slot. */
static void marker_is(const char *key, const char *want)
{
    char out[256];
    int n = sc__relay_marker(out, sizeof out, key, strlen(key), "out:{13800138000}", "17-0");
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(out, want);
    assert_int_equal(sc_key_slot(out, (size_t)n), sc_key_slot(key, strlen(key)));
}

static void test_marker_on_the_global_keys_slot(void **state)
{
    (void)state;
    marker_is("vas:events", "relayed:{vas:events}:out:{13800138000}:17-0");
    marker_is("vas:orders:due", "relayed:{vas:orders:due}:out:{13800138000}:17-0");
    /* A sharded stream keeps its own tag. */
    marker_is("mt:push:{3}", "relayed:mt:push:{3}:out:{13800138000}:17-0");
    /* An empty tag is no tag: the whole key is hashed, and so is {KEY}. */
    marker_is("a{b", "relayed:{a{b}:out:{13800138000}:17-0");
}

static void test_marker_refused(void **state)
{
    (void)state;
    char out[256], big[SC_KEY_MAX + 2];
    /* A '}' without a tag: {KEY} would hash a part of it. */
    assert_int_equal(sc__relay_marker(out, sizeof out, "a{}b", 4, "out:{1}", "1-0"), SC_EINVAL);
    assert_int_equal(sc__relay_marker(out, sizeof out, "a}b", 3, "out:{1}", "1-0"), SC_EINVAL);
    /* Over SC_KEY_MAX, or too long for out: refused, never cut. */
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sc__relay_marker(out, sizeof out, big, strlen(big), "out:{1}", "1-0"),
                     SC_EINVAL);
    assert_int_equal(sc__relay_marker(out, 20, "vas:events", 10, "out:{1}", "1-0"), SC_EINVAL);
    /* A NUL inside the key. */
    assert_int_equal(sc__relay_marker(out, sizeof out, "vas\0x", 5, "out:{1}", "1-0"), SC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marker_on_the_global_keys_slot),
        cmocka_unit_test(test_marker_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
