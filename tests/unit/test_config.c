/* test_config.c -- unit tests for config/ (the engine) and the daemon's
 * schema (core/config.c and the sections it lists): the shipped config,
 * defaults, every error class with its exact FILE:LINE:COL, ${VAR} expansion
 * and the schema API that handlers use for route options. Self-contained:
 * each case writes its YAML to a temporary file.
 * Long by design: one test file for the configuration, so that every
 * error message and its position is pinned in one place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "base/sc.h"
#include "config/schema.h"
#include "core/config.h"
#include "core/router.h"
#include "smsc/pdu.h"
#include "tests/unit/shipped.h"
#include "text/text.h"

static const char *const shipped_env[] = {
    "SHORTCODED_SMSC_HOST", "SHORTCODED_SMSC_PORT", "SHORTCODED_SYSTEM_ID",
    "SHORTCODED_PASSWORD",  "SHORTCODED_REDIS_URL",
};

/* Write text to a new temporary file; the caller unlinks and frees path. */
static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/sc_test_config_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Load text; on failure err holds the message with the temp path replaced
 * by "F" so that expectations read "F:3:5: ...". */
static struct sc_config *load_text(const char *text, char *err, size_t errsz)
{
    char *path = write_temp(text);
    char raw[1024] = "";
    struct sc_config *cfg = sc_config_load(path, raw, sizeof raw);
    size_t pl = strlen(path);
    if (!cfg) {
        assert_memory_equal(raw, path, pl);
        snprintf(err, errsz, "F%s", raw + pl);
    }
    unlink(path);
    free(path);
    return cfg;
}

static void set_env(const char *name, const char *value)
{
    if (value)
        assert_int_equal(setenv(name, value, 1), 0);
    else
        assert_int_equal(unsetenv(name), 0);
}

/* ---------------------------------------------------------------------- */
/* The shipped file                                                       */

static void test_shipped_defaults(void **state)
{
    (void)state;
    for (size_t i = 0; i < SC_ARRAY_LEN(shipped_env); i++)
        set_env(shipped_env[i], NULL);
    char err[512] = "";
    struct sc_config *cfg = sc_config_load(shipped_path(), err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_string_equal(cfg->path, shipped_path());
    assert_int_equal(cfg->log_level, SC_LOG_INFO);
    assert_int_equal(cfg->nbinds, 1);
    const struct sc_cfg_bind *b = &cfg->binds[0];
    assert_string_equal(b->name, "smsc1");
    assert_string_equal(b->host, "127.0.0.1");
    assert_int_equal(b->port, 2775);
    assert_string_equal(b->system_id, "shortcoded");
    assert_string_equal(b->password, "secret");
    assert_string_equal(b->system_type, "");
    assert_int_equal(b->mode, SC_BIND_TRX);
    assert_int_equal(b->window, 10);
    assert_true(b->line > 0 && b->col > 0);
    assert_string_equal(cfg->redis.url, "redis://127.0.0.1:6379");
    assert_int_equal(cfg->nservice_numbers, 1);
    assert_string_equal(cfg->service_numbers[0], "10086");
    assert_int_equal(cfg->nmsisdn_prefixes, 2);
    assert_string_equal(cfg->msisdn_prefixes[0], "+86");
    assert_string_equal(cfg->msisdn_prefixes[1], "86");
    /* The catch-all help route comes last. */
    assert_true(cfg->nroutes >= 1);
    const struct sc_cfg_route *last = &cfg->routes[cfg->nroutes - 1];
    assert_string_equal(last->name, "help");
    assert_string_equal(last->handler, "help");
    assert_int_equal(last->nwords, 0);
    assert_null(last->regex);
    assert_null(last->service);
    assert_null(last->options);
    assert_int_equal(cfg->smpp.dc0, SC_DC0_GSM);
    assert_int_equal(cfg->smpp.seg_mode, SC_SEG_UDH);
    assert_int_equal(cfg->limits.mo_error_status, SC_ESME_RX_T_APPN);
    assert_int_equal(cfg->limits.ack_policy, SC_ACK_AFTER_REPLY);

    const struct sc_cfg_kv *help_kv = sc_config_template(cfg, "help");
    assert_non_null(help_kv);
    const char *help = help_kv->value;
    assert_non_null(strstr(help, "0000"));
    assert_non_null(strstr(help, "00000"));
    assert_non_null(strstr(help, "TD"));
    assert_string_equal(sc_config_template(cfg, "rate_limited")->value,
                        "您发送的指令过于频繁，请稍后再试。");
    assert_null(sc_config_template(cfg, "no_such_template"));
    sc_config_free(cfg);
}

static void test_shipped_env(void **state)
{
    (void)state;
    set_env("SHORTCODED_SMSC_HOST", "smsc.example.net");
    set_env("SHORTCODED_SMSC_PORT", "9000");
    set_env("SHORTCODED_SYSTEM_ID", "esme42");
    set_env("SHORTCODED_PASSWORD", "pw$x");
    set_env("SHORTCODED_REDIS_URL", "redis://:rpw@10.0.0.5:6380/2");
    char err[512] = "";
    struct sc_config *cfg = sc_config_load(shipped_path(), err, sizeof err);
    for (size_t i = 0; i < SC_ARRAY_LEN(shipped_env); i++)
        set_env(shipped_env[i], NULL);
    if (!cfg)
        fail_msg("%s", err);
    assert_string_equal(cfg->binds[0].host, "smsc.example.net");
    assert_int_equal(cfg->binds[0].port, 9000);
    assert_string_equal(cfg->binds[0].system_id, "esme42");
    assert_string_equal(cfg->binds[0].password, "pw$x");   /* values are not re-expanded */
    assert_string_equal(cfg->redis.url, "redis://:rpw@10.0.0.5:6380/2");
    sc_config_free(cfg);

    /* An empty variable takes the default (":-"). */
    set_env("SHORTCODED_SMSC_PORT", "");
    cfg = sc_config_load(shipped_path(), err, sizeof err);
    set_env("SHORTCODED_SMSC_PORT", NULL);
    if (!cfg)
        fail_msg("%s", err);
    assert_int_equal(cfg->binds[0].port, 2775);
    sc_config_free(cfg);

    /* A bad value from the environment is reported at the value. */
    set_env("SHORTCODED_SMSC_PORT", "70000");
    cfg = sc_config_load(shipped_path(), err, sizeof err);
    set_env("SHORTCODED_SMSC_PORT", NULL);
    assert_null(cfg);
    assert_non_null(strstr(err, ": binds[0].port: must be 1..65535 (got \"70000\")"));
}

/* ---------------------------------------------------------------------- */
/* Defaults and every value                                               */

#define MINIMAL                                                                                \
    "binds:\n"                                                                                 \
    "  - name: a\n"                                                                            \
    "    host: h\n"                                                                            \
    "    port: 1\n"                                                                            \
    "    system_id: s\n"                                                                       \
    "redis:\n"                                                                                 \
    "  url: redis://x\n"                                                                       \
    "service_numbers: [\"10086\"]\n"

static void test_defaults(void **state)
{
    (void)state;
    char err[512] = "";
    struct sc_config *cfg = load_text(MINIMAL, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_int_equal(cfg->log_level, SC_LOG_INFO);
    const struct sc_cfg_bind *b = &cfg->binds[0];
    assert_string_equal(b->password, "");
    assert_string_equal(b->system_type, "");
    assert_int_equal(b->mode, SC_BIND_TRX);
    assert_int_equal(b->window, 10);
    assert_int_equal(b->tps, 0);
    assert_int_equal(b->enquire_link_s, 30);
    assert_int_equal(b->response_timeout_ms, 10000);
    assert_int_equal(b->bind_timeout_ms, 10000);
    assert_int_equal(b->submit_retries, 3);
    assert_int_equal(b->throttle_pause_ms, 1000);
    assert_int_equal(b->reconnect_min_ms, 500);
    assert_int_equal(b->reconnect_max_ms, 30000);
    assert_int_equal(b->line, 2);
    assert_int_equal(b->col, 5);
    assert_int_equal(cfg->smpp.max_pdu_len, 4096);
    assert_int_equal(cfg->smpp.dc0, SC_DC0_GSM);
    assert_int_equal(cfg->smpp.seg_mode, SC_SEG_UDH);
    assert_int_equal(cfg->smpp.max_parts, 8);
    assert_int_equal(cfg->smpp.source_ton, 0);
    assert_int_equal(cfg->smpp.source_npi, 0);
    assert_int_equal(cfg->smpp.reasm_timeout_ms, 60000);
    assert_int_equal(cfg->smpp.reasm_max_pending, 0); /* retired: not set */
    assert_int_equal(cfg->smpp.reasm_max_per_source, 8);
    assert_int_equal(cfg->smpp.reasm_max_bytes, 0);
    assert_null(sc_config_retired(cfg, 0));
    assert_int_equal(cfg->redis.connect_timeout_ms, 2000);
    assert_int_equal(cfg->redis.command_timeout_ms, 2000);
    assert_int_equal(cfg->redis.catalogue_refresh_s, 300);
    assert_int_equal(cfg->nmsisdn_prefixes, 2);
    assert_string_equal(cfg->msisdn_prefixes[0], "+86");
    assert_string_equal(cfg->msisdn_prefixes[1], "86");
    assert_int_equal(cfg->nroutes, 0);
    assert_null(cfg->routes);
    assert_int_equal(cfg->ntemplates, 0);
    assert_null(sc_config_template(cfg, "help"));
    assert_int_equal(cfg->limits.menu_ttl_s, 86400);
    assert_int_equal(cfg->limits.confirm_ttl_s, 300);
    assert_int_equal(cfg->limits.redelivery_horizon_s, 259200);
    assert_int_equal(cfg->limits.rate_limit_count, 10);
    assert_int_equal(cfg->limits.rate_limit_window_s, 60);
    assert_int_equal(cfg->limits.max_inflight, 10000);
    assert_int_equal(cfg->limits.ack_policy, SC_ACK_AFTER_REPLY);
    assert_int_equal(cfg->limits.reply_hold_ms, 5000);
    assert_int_equal(cfg->limits.mo_error_status, SC_ESME_RX_T_APPN);
    assert_int_equal(cfg->limits.shutdown_timeout_ms, 10000);
    assert_int_equal(cfg->limits.refund_unconfirmed, 1);
    assert_int_equal(cfg->limits.refund_max_months, 6);
    sc_config_free(cfg);
}

static const char full_yaml[] =
    "# every key, none at its default\n"
    "log: {level: debug}\n"
    "binds:\n"
    "  - name: one\n"
    "    host: 10.1.1.1\n"
    "    port: 2776\n"
    "    system_id: fifteen_bytes_x\n"
    "    password: eight_by\n"
    "    system_type: twelve_bytes\n"
    "    mode: receiver+transmitter\n"
    "    window: 1000\n"
    "    tps: 50\n"
    "    enquire_link_s: 3600\n"
    "    response_timeout_ms: 100\n"
    "    bind_timeout_ms: 2000\n"
    "    submit_retries: 0\n"
    "    throttle_pause_ms: 0\n"
    "    reconnect_min_ms: 100\n"
    "    reconnect_max_ms: 100\n"
    "  - name: two\n"
    "    host: 10.1.1.2\n"
    "    port: 65535\n"
    "    system_id: s2\n"
    "    password: ''\n"
    "smpp:\n"
    "  max_pdu_len: 0x10000\n"
    "  dc0: latin1\n"
    "  seg_mode: payload\n"
    "  max_parts: 16\n"
    "  source_ton: 3\n"
    "  source_npi: 9\n"
    "  reasm_timeout_ms: 1000\n"
    "  reasm_max_pending: 5\n"
    "  reasm_max_per_source: 2\n"
    "  reasm_max_bytes: 1024\n"
    "redis:\n"
    "  url: redis://:pw@r:1/3\n"
    "  connect_timeout_ms: 100\n"
    "  command_timeout_ms: 600000\n"
    "  catalogue_refresh_s: 1\n"
    "service_numbers: 10086\n"
    "msisdn_prefixes: [\"86\", \"0086\", \"+86\"]\n"
    "routes:\n"
    "  - name: list\n"
    "    match: \"0000\"\n"
    "    service: \"10086\"\n"
    "    handler: vas_list\n"
    "    options: {page: 9, tags: [a, b], nested: {x: 1}}\n"
    "  - match: [00000, \"ＱＸ\"]\n"
    "    handler: vas_cancel_all\n"
    "  - regex: \"^TD[0-9A-Z]+$\"\n"
    "    handler: vas_cancel\n"
    "  - name: fallback\n"
    "    handler: help\n"
    "templates:\n"
    "  zeta: \"Z {n}\"\n"
    "  alpha: \"A\"\n"
    "  empty: \"\"\n"
    "limits:\n"
    "  menu_ttl_s: 60\n"
    "  confirm_ttl_s: 30\n"
    "  redelivery_horizon_s: 7200\n"
    "  rate_limit_count: 3\n"
    "  rate_limit_window_s: 10\n"
    "  max_inflight: 7\n"
    "  ack_policy: after_store\n"
    "  reply_hold_ms: 1500\n"
    "  mo_error_status: RMSGQFUL\n"
    "  shutdown_timeout_ms: 0\n"
    "  refund_unconfirmed: false\n"
    "  refund_max_months: 36\n";

/* full_yaml loaded once per test of its sections; a load error fails the setup. */
static int load_full(void **state)
{
    char err[512] = "";
    struct sc_config *cfg = load_text(full_yaml, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    *state = cfg;
    return 0;
}

static int free_full(void **state)
{
    sc_config_free(*state);
    return 0;
}

/* binds: (smsc/smsc_conf.c) and log: */
static void test_all_values_binds(void **state)
{
    const struct sc_config *cfg = *state;
    assert_int_equal(cfg->log_level, SC_LOG_DEBUG);
    assert_int_equal(cfg->nbinds, 2);
    const struct sc_cfg_bind *b = &cfg->binds[0];
    assert_string_equal(b->name, "one");
    assert_string_equal(b->host, "10.1.1.1");
    assert_int_equal(b->port, 2776);
    assert_string_equal(b->system_id, "fifteen_bytes_x");
    assert_string_equal(b->password, "eight_by");
    assert_string_equal(b->system_type, "twelve_bytes");
    assert_int_equal(b->mode, SC_BIND_RX_TX);
    assert_int_equal(b->window, 1000);
    assert_int_equal(b->tps, 50);
    assert_int_equal(b->enquire_link_s, 3600);
    assert_int_equal(b->response_timeout_ms, 100);
    assert_int_equal(b->bind_timeout_ms, 2000);
    assert_int_equal(b->submit_retries, 0);
    assert_int_equal(b->throttle_pause_ms, 0);
    assert_int_equal(b->reconnect_min_ms, 100);
    assert_int_equal(b->reconnect_max_ms, 100);
    assert_int_equal(b->line, 4);
    assert_int_equal(b->col, 5);
    b = &cfg->binds[1];
    assert_string_equal(b->name, "two");
    assert_int_equal(b->port, 65535);
    assert_string_equal(b->password, "");
    assert_int_equal(b->line, 20);
}

/* smpp: (smsc/smsc_conf.c) and redis: (store/store_conf.c) */
static void test_all_values_smpp_redis(void **state)
{
    const struct sc_config *cfg = *state;
    assert_int_equal(cfg->smpp.max_pdu_len, 65536);
    assert_int_equal(cfg->smpp.dc0, SC_DC0_LATIN1);
    assert_int_equal(cfg->smpp.seg_mode, SC_SEG_PAYLOAD);
    assert_int_equal(cfg->smpp.max_parts, 16);
    assert_int_equal(cfg->smpp.source_ton, 3);
    assert_int_equal(cfg->smpp.source_npi, 9);
    assert_int_equal(cfg->smpp.reasm_timeout_ms, 1000);
    assert_int_equal(cfg->smpp.reasm_max_pending, 5);
    assert_int_equal(cfg->smpp.reasm_max_per_source, 2);
    assert_int_equal(cfg->smpp.reasm_max_bytes, 1024);
    assert_string_equal(sc_config_retired(cfg, 0), "smpp.reasm_max_pending");
    assert_string_equal(sc_config_retired(cfg, 1), "smpp.reasm_max_bytes");
    assert_null(sc_config_retired(cfg, 2));
    assert_string_equal(cfg->redis.url, "redis://:pw@r:1/3");
    assert_int_equal(cfg->redis.connect_timeout_ms, 100);
    assert_int_equal(cfg->redis.command_timeout_ms, 600000);
    assert_int_equal(cfg->redis.catalogue_refresh_s, 1);
}

/* service_numbers:, msisdn_prefixes: and routes: (core/config.c) */
static void test_all_values_routes(void **state)
{
    const struct sc_config *cfg = *state;
    assert_int_equal(cfg->nservice_numbers, 1);         /* a single value is a list */
    assert_string_equal(cfg->service_numbers[0], "10086");
    assert_int_equal(cfg->nmsisdn_prefixes, 3);          /* longest first, stable */
    assert_string_equal(cfg->msisdn_prefixes[0], "0086");
    assert_string_equal(cfg->msisdn_prefixes[1], "+86");
    assert_string_equal(cfg->msisdn_prefixes[2], "86");

    assert_int_equal(cfg->nroutes, 4);
    const struct sc_cfg_route *r = &cfg->routes[0];
    assert_string_equal(r->name, "list");
    assert_int_equal(r->nwords, 1);
    assert_string_equal(r->words[0], "0000");
    assert_string_equal(r->service, "10086");
    assert_string_equal(r->handler, "vas_list");
    assert_int_equal(r->line, 44);
    assert_int_equal(r->col, 5);
    assert_non_null(r->options);
    assert_int_equal(r->options->kind, SC_CFG_MAP);
    const struct sc_cfg_node *o = sc_cfg_node_get(r->options, "page");
    assert_non_null(o);
    assert_string_equal(o->value, "9");
    assert_int_equal(o->line, 48);
    assert_int_equal(o->col, 21);
    assert_int_equal(o->key_col, 15);
    o = sc_cfg_node_get(r->options, "tags");
    assert_int_equal(o->kind, SC_CFG_SEQ);
    assert_string_equal(o->child->value, "a");
    assert_string_equal(o->child->next->value, "b");
    o = sc_cfg_node_get(sc_cfg_node_get(r->options, "nested"), "x");
    assert_string_equal(o->value, "1");
    r = &cfg->routes[1];
    assert_string_equal(r->name, "route1");            /* default name: its index */
    assert_int_equal(r->nwords, 2);
    assert_string_equal(r->words[0], "00000");          /* plain scalars stay text */
    assert_string_equal(r->words[1], "ＱＸ");            /* stored as given */
    assert_null(r->service);
    assert_null(r->options);
    r = &cfg->routes[2];
    assert_string_equal(r->name, "route2");
    assert_string_equal(r->regex, "^TD[0-9A-Z]+$");
    assert_int_equal(r->nwords, 0);
    assert_string_equal(cfg->routes[3].name, "fallback");
}

/* templates: and limits: (core/config.c) */
static void test_all_values_templates_limits(void **state)
{
    const struct sc_config *cfg = *state;
    assert_int_equal(cfg->ntemplates, 3);                /* file order */
    assert_string_equal(cfg->templates[0].key, "zeta");
    assert_string_equal(cfg->templates[0].value, "Z {n}");
    assert_int_equal(cfg->templates[0].line, 56);
    assert_string_equal(cfg->templates[1].key, "alpha");
    assert_string_equal(sc_config_template(cfg, "alpha")->value, "A");
    assert_string_equal(sc_config_template(cfg, "empty")->value, "");

    assert_int_equal(cfg->limits.menu_ttl_s, 60);
    assert_int_equal(cfg->limits.confirm_ttl_s, 30);
    assert_int_equal(cfg->limits.redelivery_horizon_s, 7200);
    assert_int_equal(cfg->limits.rate_limit_count, 3);
    assert_int_equal(cfg->limits.rate_limit_window_s, 10);
    assert_int_equal(cfg->limits.max_inflight, 7);
    assert_int_equal(cfg->limits.ack_policy, SC_ACK_AFTER_STORE);
    assert_int_equal(cfg->limits.reply_hold_ms, 1500);
    assert_int_equal(cfg->limits.mo_error_status, SC_ESME_RMSGQFUL);
    assert_int_equal(cfg->limits.shutdown_timeout_ms, 0);
    assert_int_equal(cfg->limits.refund_unconfirmed, 0);
    assert_int_equal(cfg->limits.refund_max_months, 36);
}

static void test_status_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t want;
    } cases[] = {
        {"ESME_RX_T_APPN", 0x64}, {"RX_T_APPN", 0x64}, {"0x64", 0x64},
        {"100", 0x64},            {"0x14", 0x14},      {"ESME_RX_P_APPN", 0x65},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        char text[512], err[512] = "";
        snprintf(text, sizeof text, MINIMAL "limits: {mo_error_status: %s}\n", cases[i].text);
        struct sc_config *cfg = load_text(text, err, sizeof err);
        if (!cfg)
            fail_msg("%s: %s", cases[i].text, err);
        assert_int_equal(cfg->limits.mo_error_status, cases[i].want);
        sc_config_free(cfg);
    }
}

/* ---------------------------------------------------------------------- */
/* Errors                                                                 */

#define BIND_A "binds:\n  - name: a\n    host: h\n    port: 1\n    system_id: s\n"
#define REST "redis:\n  url: redis://x\nservice_numbers: [\"10086\"]\n"

static const struct bad_case {
    const char *what;
    const char *yaml;
    const char *want;       /* exact prefix of the message, file shown as "F" */
    const char *secret;     /* must not appear in the message */
} bad_cases[] = {
    {"unknown top-level key", MINIMAL "foo: 1\n", "F:9:1: foo: unknown key", NULL},
    {"unknown top-level key, near miss", MINIMAL "limit: {}\n",
     "F:9:1: limit: unknown key (did you mean \"limits\"?)", NULL},
    {"unknown bind key", BIND_A "    windw: 5\n" REST,
     "F:6:5: binds[0].windw: unknown key (did you mean \"window\"?)", NULL},
    {"unknown nested key", MINIMAL "smpp:\n  dc: gsm\n",
     "F:10:3: smpp.dc: unknown key (did you mean \"dc0\"?)", NULL},
    {"mapping where a scalar is expected",
     "binds:\n  - name: a\n    host: {x: 1}\n    port: 1\n    system_id: s\n" REST,
     "F:3:11: binds[0].host: must be a single value, not a mapping", NULL},
    {"list where a mapping is expected", MINIMAL "limits: [1]\n",
     "F:9:9: limits: must be a mapping (key: value), not a list", NULL},
    {"scalar where a list of binds is expected", "binds: x\n" REST,
     "F:1:8: binds: must be a list (\"- ...\" entries), not a single value", NULL},
    {"bind entry not a mapping", "binds:\n  - x\n" REST,
     "F:2:5: binds[0]: must be a mapping (key: value), not a single value", NULL},
    {"not a number", "binds:\n  - name: a\n    host: h\n    port: abc\n    system_id: s\n" REST,
     "F:4:11: binds[0].port: must be a whole number (got \"abc\")", NULL},
    {"port out of range",
     "binds:\n  - name: a\n    host: h\n    port: 70000\n    system_id: s\n" REST,
     "F:4:11: binds[0].port: must be 1..65535 (got \"70000\")", NULL},
    {"huge number", "binds:\n  - name: a\n    host: h\n    port: 99999999999999999999999\n"
                    "    system_id: s\n" REST,
     "F:4:11: binds[0].port: must be 1..65535", NULL},
    {"window 0", BIND_A "    window: 0\n" REST, "F:6:13: binds[0].window: must be 1..1000", NULL},
    {"bad enum", BIND_A "    mode: bogus\n" REST,
     "F:6:11: binds[0].mode: must be one of transceiver, receiver+transmitter "
     "(got \"bogus\")",
     NULL},
    {"bad log level", MINIMAL "log:\n  level: loud\n",
     "F:10:10: log.level: must be one of debug, info, warn, error (got \"loud\")", NULL},
    {"bad dc0", MINIMAL "smpp: {dc0: utf8}\n",
     "F:9:13: smpp.dc0: must be one of gsm, latin1, ascii (got \"utf8\")", NULL},
    {"bad status", MINIMAL "limits: {mo_error_status: ESME_NOPE}\n",
     "F:9:27: limits.mo_error_status: must be an SMPP command_status name (ESME_RX_T_APPN) or "
     "number (0x64) (got \"ESME_NOPE\")", NULL},
    {"missing required bind key", "binds:\n  - name: a\n    host: h\n    port: 1\n" REST,
     "F:2:5: binds[0].system_id: missing required key", NULL},
    {"null required value", "binds:\n  - name: a\n    host:\n    port: 1\n    system_id: s\n" REST,
     "F:3:5: binds[0].host: missing value", NULL},
    {"missing binds", REST, "F:1:1: binds: missing required key", NULL},
    {"empty binds", "binds: []\n" REST, "F:1:8: binds: must not be empty", NULL},
    {"missing redis section", BIND_A "service_numbers: [\"10086\"]\n",
     "F:1:1: redis.url: missing required key", NULL},
    {"null redis section", BIND_A "redis:\nservice_numbers: [\"10086\"]\n",
     "F:6:1: redis.url: missing required key", NULL},
    {"missing service_numbers", BIND_A "redis:\n  url: redis://x\n",
     "F:1:1: service_numbers: missing required key", NULL},
    {"empty service number", BIND_A "redis:\n  url: redis://x\nservice_numbers: [\"\"]\n",
     "F:8:19: service_numbers[0]: must not be empty", NULL},
    {"duplicate service number",
     BIND_A "redis:\n  url: redis://x\nservice_numbers: [\"10086\", \"10086\"]\n",
     "F:8:28: service_numbers[1]: duplicate of service_numbers[0]", NULL},
    {"duplicate key", "binds:\n  - name: a\n    host: h\n    port: 1\n    port: 2\n"
                      "    system_id: s\n" REST,
     "F:5:5: binds[0].port: duplicate key (first at 4:5)", NULL},
    {"duplicate top-level key", MINIMAL "service_numbers: [\"1\"]\n",
     "F:9:1: service_numbers: duplicate key (first at 8:1)", NULL},
    {"duplicate bind name",
     BIND_A "  - name: a\n    host: h2\n    port: 2\n    system_id: s\n" REST,
     "F:6:11: binds[1].name: duplicate name \"a\" (also binds[0])", NULL},
    {"reconnect min above max",
     BIND_A "    reconnect_min_ms: 5000\n    reconnect_max_ms: 1000\n" REST,
     "F:6:23: binds[0].reconnect_min_ms: must not exceed reconnect_max_ms (1000)", NULL},
    {"account_sessions above 64", BIND_A "    account_sessions: 65\n" REST,
     "F:6:23: binds[0].account_sessions: must be 0..64 (got \"65\")", NULL},
    {"receiver+transmitter with one session",
     BIND_A "    mode: receiver+transmitter\n    account_sessions: 1\n" REST,
     "F:7:23: binds[0].account_sessions: a receiver+transmitter bind needs 2 sessions "
     "(0 = no limit, or at least 2)", NULL},
    {"lease ttl too short", MINIMAL "leases: {ttl_ms: 500}\n",
     "F:9:18: leases.ttl_ms: must be 1000..600000 (got \"500\")", NULL},
    {"bad regex", MINIMAL "routes:\n  - regex: \"a(\"\n    handler: x\n",
     "F:10:12: routes[0].regex: invalid regular expression: ", NULL},
    {"match and regex", MINIMAL "routes:\n  - match: A\n    regex: B\n    handler: x\n",
     "F:11:12: routes[0]: has both match and regex (use one of them)", NULL},
    {"route without handler", MINIMAL "routes:\n  - match: A\n",
     "F:10:5: routes[0].handler: missing required key", NULL},
    {"empty match list", MINIMAL "routes:\n  - match: []\n    handler: x\n",
     "F:10:12: routes[0].match: must not be empty", NULL},
    {"two default routes", MINIMAL "routes:\n  - handler: a\n  - handler: b\n",
     "F:11:5: routes[1]: a second default route "
     "(routes[0] already has neither match nor regex)",
     NULL},
    {"default route not last", MINIMAL "routes:\n  - handler: a\n  - match: X\n    handler: b\n",
     "F:10:5: routes[0]: the default route (neither match nor regex) must be the last route", NULL},
    {"duplicate route name",
     MINIMAL "routes:\n  - match: A\n    handler: a\n"
             "  - name: route0\n    match: B\n    handler: b\n",
     "F:12:11: routes[1].name: duplicate route name \"route0\" (also routes[0])", NULL},
    {"route service unknown", MINIMAL "routes:\n  - service: \"10010\"\n    handler: a\n",
     "F:10:14: routes[0].service: \"10010\" is not in service_numbers", NULL},
    {"options not a mapping", MINIMAL "routes:\n  - handler: a\n    options: [1]\n",
     "F:11:14: routes[0].options: must be a mapping (key: value), not a list", NULL},
    {"template not a text", MINIMAL "templates:\n  help: [a]\n",
     "F:10:9: templates.help: must be a text, not a list", NULL},
    {"unset variable without default",
     "binds:\n  - name: a\n    host: \"x${SC_TEST_SURELY_UNSET}\"\n    port: 1\n"
     "    system_id: s\n" REST,
     "F:3:11: binds[0].host: environment variable SC_TEST_SURELY_UNSET is not set", NULL},
    {"unterminated variable", MINIMAL "log: {level: \"${SC_TEST_A\"}\n",
     "F:9:14: log.level: unterminated \"${SC_TEST_A\"", NULL},
    {"password too long", BIND_A "    password: hunter2hunter2\n" REST,
     "F:6:15: binds[0].password: too long (max 8 bytes)", "hunter2hunter2"},
    {"password wrong type", BIND_A "    password: [hunter2x]\n" REST,
     "F:6:15: binds[0].password: must be a single value, not a list", "hunter2x"},
    {"system_id too long", "binds:\n  - name: a\n    host: h\n    port: 1\n"
                           "    system_id: sixteen_bytes_xx\n" REST,
     "F:5:16: binds[0].system_id: too long (max 15 bytes) (got \"sixteen_bytes_xx\")", NULL},
    {"redis url secret", BIND_A "redis:\n  url: \"http://:s3cr3t@h\"\nservice_numbers: [\"1\"]\n",
     "F:7:8: redis.url: must start with redis://", "s3cr3t"},
    /* The URL is checked by the parser the store uses (base/url.c), so that
     * --check refuses what the daemon would refuse at start. */
    {"redis url bad db", BIND_A "redis:\n  url: redis://h:6379/16x\nservice_numbers: [\"1\"]\n",
     "F:7:8: redis.url: bad database number", NULL},
    {"redis url bad port", BIND_A "redis:\n  url: redis://h:99999\nservice_numbers: [\"1\"]\n",
     "F:7:8: redis.url: bad port (1..65535)", NULL},
    {"redis url space in host",
     BIND_A "redis:\n  url: \"redis://bad host:1\"\nservice_numbers: [\"1\"]\n",
     "F:7:8: redis.url: bad character in host", NULL},
    {"redis url no host", BIND_A "redis:\n  url: \"redis://:x@/x\"\nservice_numbers: [\"1\"]\n",
     "F:7:8: redis.url: missing host", "x@"},
    {"redis url bad escape in password",
     BIND_A "redis:\n  url: \"redis://:pa%zzss@h:1\"\nservice_numbers: [\"1\"]\n",
     "F:7:8: redis.url: bad %-escape or no memory in the password", "pa%zzss"},
    {"bad YAML syntax", "binds:\n  - name: a\n   host: b\n",
     "F:3:4: YAML syntax: did not find expected '-' indicator (while parsing a block collection "
     "at 2:3)", NULL},
    {"unclosed quote", "binds: \"abc\n",
     "F:2:1: YAML syntax: found unexpected end of stream", NULL},
    {"tab indentation", "binds:\n\t- name: a\n",
     "F:2:1: YAML syntax: found character that cannot start any token", NULL},
    {"not UTF-8", MINIMAL "templates:\n  help: \"caf\xe9\"\n",
     "F:10:14: invalid trailing UTF-8 octet (the file must be UTF-8)", NULL},
    {"password with an unset variable",
     BIND_A "    password: \"pw${SECRETPART\"\n" REST,
     "F:6:15: binds[0].password: cannot expand ${...}: a variable is not set", "SECRETPART"},
    {"alias", MINIMAL "smpp: &s {dc0: gsm}\nlimits: *s\n",
     "F:10:9: limits: aliases (*name) are not supported", NULL},
    {"two documents", MINIMAL "---\nlog: {}\n",
     "F:9:1: only one YAML document is allowed (remove this \"---\")", NULL},
    {"empty file", "", "F: empty document (no settings)", NULL},
    {"comments only", "# nothing\n", "F: empty document (no settings)", NULL},
    {"top level is a list", "- a\n- b\n",
     "F:1:1: the top level must be a mapping of settings (\"key: value\" lines), not a list", NULL},
    {"top level is null", "---\n", "F: empty document (no settings)", NULL},
    {"key that is a mapping", "{a: 1}: 2\n",
     "F:1:1: keys must be plain words, not lists, mappings or aliases", NULL},
};

static void test_bad_configs(void **state)
{
    (void)state;
    int failed = 0;
    unsetenv("SC_TEST_SURELY_UNSET");
    for (size_t i = 0; i < SC_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        char err[1024] = "";
        struct sc_config *cfg = load_text(c->yaml, err, sizeof err);
        if (cfg) {
            sc_config_free(cfg);
            print_error("%s: loaded, expected \"%s\"\n", c->what, c->want);
            failed++;
        } else if (strncmp(err, c->want, strlen(c->want)) != 0) {
            print_error("%s:\n  got  \"%s\"\n  want \"%s...\"\n", c->what, err, c->want);
            failed++;
        } else if (c->secret && strstr(err, c->secret)) {
            print_error("%s: secret in message \"%s\"\n", c->what, err);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(sc_config_load("/nonexistent/shortcoded.yaml", err, sizeof err));
    assert_string_equal(err,
                        "/nonexistent/shortcoded.yaml: cannot open: No such file or directory");
    sc_config_free(NULL);
}

/* Errors never overflow a small buffer and stay NUL-terminated. */
static void test_small_err_buffer(void **state)
{
    (void)state;
    char err[16];
    memset(err, 'x', sizeof err);
    char *path = write_temp(MINIMAL "foo: 1\n");
    assert_null(sc_config_load(path, err, sizeof err));
    assert_true(memchr(err, '\0', sizeof err) != NULL);
    unlink(path);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* ${VAR} expansion                                                       */

static void test_expand(void **state)
{
    (void)state;
    set_env("SC_T_A", "alpha");
    set_env("SC_T_B", "b$");
    set_env("SC_T_EMPTY", "");
    set_env("SC_T_UNSET", NULL);
    set_env("SC_T_UNSET2", NULL);
    static const struct {
        const char *in;
        const char *out;     /* NULL: an error containing err */
        const char *err;
    } cases[] = {
        {"plain", "plain", NULL},
        {"", "", NULL},
        {"$$", "$", NULL},
        {"a$$b$$$$", "a$b$$", NULL},
        {"$$${SC_T_A}", "$alpha", NULL},
        {"$${SC_T_A}", "${SC_T_A}", NULL},
        {"cost $5, $", "cost $5, $", NULL},
        {"{n} items", "{n} items", NULL},
        {"${SC_T_A}", "alpha", NULL},
        {"x${SC_T_A}y${SC_T_B}z", "xalphayb$z", NULL},   /* values are not re-expanded */
        {"${SC_T_EMPTY}", "", NULL},
        {"${SC_T_UNSET:-def}", "def", NULL},
        {"${SC_T_EMPTY:-def}", "def", NULL},
        {"${SC_T_A:-def}", "alpha", NULL},
        {"${SC_T_UNSET:-}", "", NULL},
        {"${SC_T_UNSET:-a b:c}", "a b:c", NULL},
        {"${SC_T_UNSET:-a}b}", "ab}", NULL},
        {"${SC_T_UNSET:-$$}", "$", NULL},
        {"${SC_T_UNSET:-${SC_T_A}}", "alpha", NULL},
        {"${SC_T_UNSET:-${SC_T_UNSET2:-deep}}", "deep", NULL},
        {"${SC_T_UNSET:-x${SC_T_UNSET2:-y}z}!", "xyz!", NULL},
        {"${SC_T_A:-${SC_T_UNSET}}", "alpha", NULL},       /* a default is used lazily */
        {"${SC_T_UNSET}", NULL, "environment variable SC_T_UNSET is not set"},
        {"${SC_T_UNSET:-${SC_T_UNSET2}}", NULL, "environment variable SC_T_UNSET2 is not set"},
        {"${SC_T_A", NULL, "unterminated \"${SC_T_A\""},
        {"${", NULL, "unterminated \"${\""},
        {"abc${SC_T_A:-x", NULL, "unterminated \"${SC_T_A:-\""},
        {"${SC_T_UNSET:-${SC_T_A}", NULL, "unterminated \"${SC_T_UNSET:-\""},
        {"${}", NULL, "expected a variable name after \"${\""},
        {"${1A}", NULL, "expected a variable name after \"${\""},
        {"${SC_T_A-x}", NULL, "expected \"}\" or \":-\" after \"${SC_T_A\""},
        {"${SC_T_A x}", NULL, "expected \"}\" or \":-\" after \"${SC_T_A\""},
        {"${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-x}}}}}}}}}}", NULL,
         "nested too deeply"},
    };
    set_env("A", NULL);
    for (size_t i = 0; i < SC_ARRAY_LEN(cases); i++) {
        char err[256] = "";
        char *out = sc_config_expand(cases[i].in, err, sizeof err);
        if (cases[i].out) {
            if (!out)
                fail_msg("\"%s\": error \"%s\"", cases[i].in, err);
            if (strcmp(out, cases[i].out) != 0)
                fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].in, out, cases[i].out);
        } else {
            if (out)
                fail_msg("\"%s\": got \"%s\", want an error", cases[i].in, out);
            if (!strstr(err, cases[i].err))
                fail_msg("\"%s\": error \"%s\", want \"%s\"", cases[i].in, err, cases[i].err);
        }
        free(out);
    }
    /* err may be NULL. */
    assert_null(sc_config_expand("${SC_T_UNSET}", NULL, 0));
    set_env("SC_T_A", NULL);
    set_env("SC_T_B", NULL);
    set_env("SC_T_EMPTY", NULL);
}

/* ---------------------------------------------------------------------- */
/* The schema API, as a handler uses it for route options                 */

struct opts {
    int page;
    int verbose;
    char *title;
    char **tags;
    size_t ntags;
    int color;
    char *token;
    uint32_t status;
    struct {
        int depth;
    } inner;
    struct sc_cfg_kv *texts;
    size_t ntexts;
};

static const struct sc_enum colors[] = {{"red", 1}, {"blue", 2}, {NULL, 0}};

static const struct sc_field inner_fields[] = {
    {"depth", SC_FT_INT, offsetof(struct opts, inner.depth), 0, .min = 0, .max = 3, .def = "1"},
    {.name = NULL},
};
static const struct sc_schema inner_schema = {inner_fields, 0, NULL};

#define O(m) offsetof(struct opts, m)
static const struct sc_field opt_fields[] = {
    {"page", SC_FT_INT, O(page), 0, .min = 1, .max = 20, .def = "9"},
    {"verbose", SC_FT_BOOL, O(verbose), 0, .def = "false"},
    {"title", SC_FT_STRING, O(title), SC_F_REQUIRED | SC_F_NONEMPTY, .max = 10},
    {"tags", SC_FT_STRLIST, O(tags), SC_F_ONE_OR_LIST | SC_F_UNIQUE, .max = 3, .def = "x,y",
     .count_offset = O(ntags)},
    {"color", SC_FT_ENUM, O(color), 0, .names = colors, .def = "red"},
    {"token", SC_FT_STRING, O(token), SC_F_SECRET, .max = 4},
    {"status", SC_FT_STATUS, O(status), 0, .def = "0"},
    {"inner", SC_FT_SECTION, 0, 0, .sub = &inner_schema},
    {"texts", SC_FT_MAP, O(texts), 0, .count_offset = O(ntexts)},
    {.name = NULL},
};
#undef O
static const struct sc_schema opt_schema = {opt_fields, sizeof(struct opts), NULL};

/* Load a config whose first route carries options, then apply opt_schema to
 * them like a handler at start-up. Returns the apply result. */
static int apply_opts(const char *options_yaml, struct opts *o, char *err, size_t errsz)
{
    char text[2048], lerr[512] = "";
    snprintf(text, sizeof text, MINIMAL "routes:\n  - handler: h\n%s", options_yaml);
    struct sc_config *cfg = load_text(text, lerr, sizeof lerr);
    if (!cfg)
        fail_msg("%s", lerr);
    const struct sc_cfg_route *r = &cfg->routes[0];
    struct sc_schema_ctx ctx = {"F", err, errsz, r->line, r->col};
    memset(o, 0, sizeof *o);
    int rc = sc_schema_apply(&ctx, &opt_schema, o, r->options, "routes[0].options");
    sc_config_free(cfg);
    return rc;
}

static void test_schema_options(void **state)
{
    (void)state;
    char err[512] = "";
    struct opts o;

    assert_int_equal(apply_opts("    options:\n      title: hi\n", &o, err, sizeof err), 0);
    assert_int_equal(o.page, 9);
    assert_int_equal(o.verbose, 0);
    assert_string_equal(o.title, "hi");
    assert_int_equal(o.ntags, 2);
    assert_string_equal(o.tags[0], "x");
    assert_string_equal(o.tags[1], "y");
    assert_int_equal(o.color, 1);
    assert_null(o.token);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.inner.depth, 1);
    assert_int_equal(o.ntexts, 0);
    sc_schema_free(&opt_schema, &o);
    assert_null(o.title);
    assert_null(o.tags);

    assert_int_equal(apply_opts("    options:\n      title: hi\n      page: 20\n"
                                "      verbose: yes\n"
                                "      tags: solo\n      color: blue\n      token: abcd\n"
                                "      status: RTHROTTLED\n      inner: {depth: 3}\n"
                                "      texts: {a: A, b: B}\n",
                                &o, err, sizeof err),
                     0);
    assert_int_equal(o.page, 20);
    assert_int_equal(o.verbose, 1);
    assert_int_equal(o.ntags, 1);
    assert_string_equal(o.tags[0], "solo");
    assert_int_equal(o.color, 2);
    assert_string_equal(o.token, "abcd");
    assert_int_equal(o.status, SC_ESME_RTHROTTLED);
    assert_int_equal(o.inner.depth, 3);
    assert_int_equal(o.ntexts, 2);
    assert_string_equal(o.texts[1].key, "b");
    assert_string_equal(o.texts[1].value, "B");
    sc_schema_free(&opt_schema, &o);

    static const struct {
        const char *yaml;
        const char *want;
        const char *secret;
    } bad[] = {
        {"    options:\n      title: hi\n      page: 30\n",
         "F:13:13: routes[0].options.page: must be 1..20 (got \"30\")", NULL},
        {"    options:\n      page: 3\n",
         "F:12:7: routes[0].options.title: missing required key", NULL},
        {"", "F:10:5: routes[0].options.title: missing required key", NULL},
        {"    options:\n      title: hi\n      pages: 3\n",
         "F:13:7: routes[0].options.pages: unknown key (did you mean \"page\"?)", NULL},
        {"    options:\n      title: hi\n      verbose: maybe\n",
         "F:13:16: routes[0].options.verbose: must be true or false (got \"maybe\")", NULL},
        {"    options:\n      title: hi\n      tags: [a, b, c, d]\n",
         "F:13:13: routes[0].options.tags: at most 3 items", NULL},
        {"    options:\n      title: hi\n      tags: [a, a]\n",
         "F:13:17: routes[0].options.tags[1]: duplicate of routes[0].options.tags[0]", NULL},
        {"    options:\n      title: hi\n      token: toolong99\n",
         "F:13:14: routes[0].options.token: too long (max 4 bytes)", "toolong99"},
        {"    options:\n      title: hi\n      inner: {depth: 4}\n",
         "F:13:22: routes[0].options.inner.depth: must be 0..3 (got \"4\")", NULL},
        {"    options:\n      title: \"\"\n",
         "F:12:14: routes[0].options.title: must not be empty", NULL},
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        int rc = apply_opts(bad[i].yaml, &o, err, sizeof err);
        sc_schema_free(&opt_schema, &o);
        if (rc != SC_ECONFIG)
            fail_msg("case %zu: rc %d, want \"%s\"", i, rc, bad[i].want);
        if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("case %zu:\n  got  \"%s\"\n  want \"%s...\"", i, err, bad[i].want);
        if (bad[i].secret && strstr(err, bad[i].secret))
            fail_msg("case %zu: secret in \"%s\"", i, err);
    }
}

/* sc_cfg_parse on a string; nodes keep positions, nulls and keys. */
static void test_parse_tree(void **state)
{
    (void)state;
    char err[256] = "";
    const char text[] = "a: 1\nb:\nc: ~\nd: \"\"\ne:\n  - x\n  - {f: g}\n";
    struct sc_cfg_node *root = sc_cfg_parse("T", text, strlen(text), err, sizeof err);
    if (!root)
        fail_msg("%s", err);
    assert_int_equal(root->kind, SC_CFG_MAP);
    const struct sc_cfg_node *n = sc_cfg_node_get(root, "a");
    assert_string_equal(n->value, "1");
    assert_int_equal(n->line, 1);
    assert_int_equal(n->col, 4);
    assert_int_equal(n->key_line, 1);
    assert_int_equal(n->key_col, 1);
    assert_null(sc_cfg_node_get(root, "b")->value);            /* null */
    assert_null(sc_cfg_node_get(root, "c")->value);
    assert_string_equal(sc_cfg_node_get(root, "d")->value, "");  /* quoted: empty string */
    n = sc_cfg_node_get(root, "e");
    assert_int_equal(n->kind, SC_CFG_SEQ);
    assert_null(n->child->key);
    assert_int_equal(n->child->line, 6);
    assert_string_equal(sc_cfg_node_get(n->child->next, "f")->value, "g");
    assert_null(sc_cfg_node_get(root, "zz"));
    struct sc_cfg_node *copy = sc_cfg_node_dup(root);
    assert_non_null(copy);
    assert_string_equal(sc_cfg_node_get(sc_cfg_node_get(copy, "e")->child->next, "f")->value, "g");
    sc_cfg_node_free(copy);
    sc_cfg_node_free(root);
    sc_cfg_node_free(NULL);

    /* Deep nesting is refused, not a stack overflow. */
    char deep[1024];
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        deep[k++] = '[';
    for (int i = 0; i < 100; i++)
        deep[k++] = ']';
    deep[k] = '\0';
    assert_null(sc_cfg_parse("T", deep, k, err, sizeof err));
    assert_non_null(strstr(err, "nested too deeply"));
}

/* A subsystem's section schema on its own, as core/config.c points at it:
 * values, its own check, and messages under the path it is given. */
static int apply_section(const struct sc_schema *sch, void *obj, const char *yaml,
                         const char *path, char *err, size_t errsz)
{
    struct sc_cfg_node *root = sc_cfg_parse("S", yaml, strlen(yaml), err, errsz);
    assert_non_null(root);
    struct sc_schema_ctx ctx = {"S", err, errsz, 0, 0};
    int rc = sc_schema_apply(&ctx, sch, obj, root, path);
    sc_cfg_node_free(root);
    return rc;
}

static void test_section_schemas(void **state)
{
    (void)state;
    char err[512] = "";
    struct sc_cfg_smpp sm = {0};
    assert_int_equal(apply_section(&sc_cfg_smpp_schema, &sm, "max_parts: 3\nreasm_max_bytes: 9\n",
                                   "smpp", err, sizeof err), 0);
    assert_int_equal(sm.max_parts, 3);
    assert_int_equal(sm.max_pdu_len, 4096);               /* defaults fill the rest */
    assert_string_equal(sc_cfg_smpp_retired(&sm, 0), "smpp.reasm_max_bytes");
    assert_null(sc_cfg_smpp_retired(&sm, 1));
    sc_schema_free(&sc_cfg_smpp_schema, &sm);

    struct sc_cfg_bind b = {0};
    assert_int_equal(apply_section(&sc_cfg_bind_schema, &b,
                                   "name: a\nhost: h\nport: 1\nsystem_id: s\n"
                                   "reconnect_min_ms: 9\nreconnect_max_ms: 5\n",
                                   "binds[2]", err, sizeof err), SC_ECONFIG);
    assert_string_equal(err, "S:5:19: binds[2].reconnect_min_ms: must not exceed "
                             "reconnect_max_ms (5)");
    sc_schema_free(&sc_cfg_bind_schema, &b);

    struct sc_cfg_redis r = {0};
    assert_int_equal(apply_section(&sc_cfg_redis_schema, &r, "url: redis://:secret@h:99999\n",
                                   "redis", err, sizeof err), SC_ECONFIG);
    assert_memory_equal(err, "S:1:6: redis.url: ", 18);
    assert_null(strstr(err, "secret"));
    sc_schema_free(&sc_cfg_redis_schema, &r);
    assert_int_equal(apply_section(&sc_cfg_redis_schema, &r, "url: redis://h:1/2\n", "redis",
                                   err, sizeof err), 0);
    assert_int_equal(r.command_timeout_ms, 2000);
    assert_int_equal(r.wait_replicas, 0);
    assert_int_equal(r.wait_timeout_ms, 500);
    sc_schema_free(&sc_cfg_redis_schema, &r);
    assert_null(r.url);
    /* A WAIT must end well before the command deadline drops the link. */
    assert_int_equal(apply_section(&sc_cfg_redis_schema, &r,
                                   "url: redis://h:1\nwait_replicas: 1\nwait_timeout_ms: 1001\n",
                                   "redis", err, sizeof err), SC_ECONFIG);
    assert_string_equal(err, "S:3:18: redis.wait_timeout_ms: 1001 is more than half of "
                             "command_timeout_ms (2000)");
    sc_schema_free(&sc_cfg_redis_schema, &r);
    assert_int_equal(apply_section(&sc_cfg_redis_schema, &r,
                                   "url: redis://h:1\nwait_replicas: 1\nwait_timeout_ms: 1000\n",
                                   "redis", err, sizeof err), 0);
    assert_int_equal(r.wait_replicas, 1);
    sc_schema_free(&sc_cfg_redis_schema, &r);
}

/* sc_schema_load_file with any schema: the top level must be a mapping. */
static void test_load_file(void **state)
{
    (void)state;
    char err[512] = "";
    struct sc_cfg_smpp sm = {0};
    char *path = write_temp("- a\n- b\n");
    assert_int_equal(sc_schema_load_file(path, &sc_cfg_smpp_schema, &sm, err, sizeof err),
                     SC_ECONFIG);
    assert_non_null(strstr(err, ":1:1: the top level must be a mapping of settings"));
    unlink(path);
    free(path);
    path = write_temp("dc0: ascii\n");
    assert_int_equal(sc_schema_load_file(path, &sc_cfg_smpp_schema, &sm, err, sizeof err), 0);
    assert_int_equal(sm.dc0, SC_DC0_ASCII);
    sc_schema_free(&sc_cfg_smpp_schema, &sm);
    unlink(path);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Warnings (core/router.c sc_router_lint, shown by --check)              */

struct warns {
    size_t n;
    char msg[8][512];
    const char *path;
};

/* Record a warning with the temp path replaced by "F". */
static void collect(void *arg, const char *m)
{
    struct warns *w = arg;
    size_t pl = strlen(w->path);
    assert_memory_equal(m, w->path, pl);
    if (w->n < SC_ARRAY_LEN(w->msg))
        snprintf(w->msg[w->n], sizeof w->msg[0], "F%s", m + pl);
    w->n++;
}

/* Load text, build its router and collect its warnings into w. */
static void lint_text(const char *text, struct warns *w)
{
    char *path = write_temp(text);
    char err[1024] = "";
    struct sc_config *cfg = sc_config_load(path, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    struct sc_router *r = sc_router_new(cfg, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    memset(w, 0, sizeof *w);
    w->path = path;
    size_t n = sc_router_lint(r, collect, w);
    assert_int_equal(n, w->n);
    sc_router_free(r);
    sc_config_free(cfg);
    unlink(path);
    free(path);
}

#define LINT_TEMPLATES                                                                         \
    "templates:\n"                                                                             \
    "  help: \"h\"\n"                                                                           \
    "  rate_limited: \"r\"\n"                                                                   \
    "  service_error: \"s\"\n"

static void test_lint_shadowed_routes(void **state)
{
    (void)state;
    struct warns w;
    lint_text(MINIMAL "routes:\n"
                      "  - name: a\n    match: [\"0000\", \"LB\"]\n    handler: help\n"
                      /* line 13: "lb" normalises to "LB", which a takes first */
                      "  - name: b\n    match: lb\n    handler: help\n"
                      "  - name: c\n    regex: \"^[0-9]+$\"\n    service: \"10086\"\n"
                      "    handler: help\n"
                      /* any service: c only takes these on 10086 */
                      "  - name: d\n    match: [\"00000\", \"123\"]\n    handler: help\n"
                      /* line 23: on 10086 c takes it first */
                      "  - name: e\n    match: \"00000\"\n    service: \"10086\"\n"
                      "    handler: help\n"
                      /* only one of its words is taken: it still matches X */
                      "  - name: f\n    match: [\"0000\", \"X\"]\n    handler: help\n"
                      "  - handler: help\n" LINT_TEMPLATES,
              &w);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.msg[0], "F:13:5: warning: routes[1] (b) can never match: routes[0] (a) "
                                  "takes its word first");
    assert_string_equal(w.msg[1], "F:23:5: warning: routes[4] (e) can never match: routes[2] (c) "
                                  "takes its word first");
}

static void test_lint_template_longer_than_max_parts(void **state)
{
    (void)state;
    /* 71 Chinese characters: two UCS-2 parts, over max_parts 1; 160 ASCII
     * letters fit one GSM part; a placeholder's value does not count. */
    char text[2048];
    size_t o = (size_t)snprintf(text, sizeof text, "%s", MINIMAL "smpp: {max_parts: 1}\n"
                                "routes:\n  - handler: help\ntemplates:\n  help: \"");
    for (int i = 0; i < 71; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "\xE5\xA5\xBD");
    o += (size_t)snprintf(text + o, sizeof text - o, "\"\n  rate_limited: \"");
    for (int i = 0; i < 160; i++)
        text[o++] = 'a';
    snprintf(text + o, sizeof text - o, "\"\n  service_error: \"s\"\n");
    struct warns w;
    lint_text(text, &w);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.msg[0], "F:13:9: warning: templates.help: its fixed text alone needs "
                                  "more than smpp.max_parts (1) SMS: every reply from it will be "
                                  "cut with \"\xE2\x80\xA6\"");
    /* The shipped file has no warnings. */
    char err[512] = "";
    struct sc_config *cfg = sc_config_load(shipped_path(), err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    struct sc_router *r = sc_router_new(cfg, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    memset(&w, 0, sizeof w);
    w.path = shipped_path();
    assert_int_equal(sc_router_lint(r, collect, &w), 0);
    sc_router_free(r);
    sc_config_free(cfg);
}

/* ---------------------------------------------------------------------- */
/* sc_config_diff (what SIGHUP reports)                                   */

struct diffs {
    size_t n;
    char line[16][300];
};

static void on_diff(void *arg, const char *key, const char *oldv, const char *newv)
{
    struct diffs *d = arg;
    if (d->n < SC_ARRAY_LEN(d->line))
        snprintf(d->line[d->n], sizeof d->line[0], "%s %s %s", key, oldv ? oldv : "(secret)",
                 newv ? newv : "(secret)");
    d->n++;
}

static void test_diff(void **state)
{
    (void)state;
    char err[512] = "";
    struct sc_config *a = load_text(MINIMAL "routes:\n  - match: A\n    handler: x\n"
                                            "    options: {k: 1}\n",
                                    err, sizeof err);
    if (!a)
        fail_msg("%s", err);
    struct sc_config *b = load_text(
        "binds:\n  - name: a\n    host: h\n    port: 1\n    system_id: s\n    window: 20\n"
        "    password: pw2\n  - name: b\n    host: h\n    port: 2\n    system_id: s\n"
        "redis:\n  url: redis://:pw3@x\n"
        "service_numbers: [\"10086\", \"10010\"]\n"
        "log: {level: warn}\nsmpp: {seg_mode: sar}\nlimits: {mo_error_status: 0x14}\n"
        "routes:\n  - match: [A, B]\n    handler: x\n    options: {k: 2}\n"
        "templates:\n  help: \"h\"\n",
        err, sizeof err);
    if (!b)
        fail_msg("%s", err);
    struct diffs d = {0};
    assert_int_equal(sc_config_diff(a, a, on_diff, &d), 0);
    assert_int_equal(sc_config_diff(a, b, on_diff, &d), 11);
    static const char *const want[] = {
        "log.level info warn",
        "binds 1 2",
        "binds[0].password (secret) (secret)",
        "binds[0].window 10 20",
        "smpp.seg_mode udh sar",
        "redis.url (secret) (secret)",
        "service_numbers \"[10086]\" \"[10086, 10010]\"",
        "routes[0].match \"[A]\" \"[A, B]\"",
        "routes[0].options \"{k: 1}\" \"{k: 2}\"",
        "templates.help null \"h\"",
        "limits.mo_error_status ESME_RX_T_APPN ESME_RMSGQFUL",
    };
    for (size_t i = 0; i < SC_ARRAY_LEN(want); i++)
        assert_string_equal(d.line[i], want[i]);
    for (size_t i = 0; i < d.n; i++)
        assert_null(strstr(d.line[i], "pw"));
    sc_config_free(a);
    sc_config_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_defaults),
        cmocka_unit_test(test_shipped_env),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_all_values_binds, load_full, free_full),
        cmocka_unit_test_setup_teardown(test_all_values_smpp_redis, load_full, free_full),
        cmocka_unit_test_setup_teardown(test_all_values_routes, load_full, free_full),
        cmocka_unit_test_setup_teardown(test_all_values_templates_limits, load_full, free_full),
        cmocka_unit_test(test_status_forms),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_small_err_buffer),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_schema_options),
        cmocka_unit_test(test_parse_tree),
        cmocka_unit_test(test_section_schemas),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_lint_shadowed_routes),
        cmocka_unit_test(test_lint_template_longer_than_max_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
