/* config_int.h -- declarations shared by the files of config/ only (sc__ prefix). */
#ifndef SC_CONFIG_INT_H
#define SC_CONFIG_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "config/schema.h"

#define SC_CFG_MAX_DEPTH 64         /* nesting of YAML collections */
#define SC_CFG_MAX_FILE (4u << 20)  /* bytes of one config file */
#define SC_CFG_PATH_MAX 256         /* a key path in messages, "binds[0].port" */
#define SC_CFG_MAX_FIELDS 128       /* fields of one schema */
#define SC_EXPAND_MAX_DEPTH 8       /* nesting of ${A:-${B:-...}} defaults */

/* A growing NUL-terminated string; the owner frees p. */
struct sc__sbuf {
    char *p;
    size_t len, cap;
};

/* Append s[0..n) to b (keeps it NUL-terminated). 0 or SC_ENOMEM. (expand.c) */
int sc__sb_put(struct sc__sbuf *b, const char *s, size_t n);

/* Write "FILE:LINE:COL: message" (or "FILE: message" when line <= 0) into
 * err[errsz]; always returns SC_ECONFIG. (schema.c) */
int sc__verr_at(char *err, size_t errsz, const char *file, int line, int col, const char *fmt,
                va_list ap) __attribute__((format(printf, 6, 0)));

/* As sc__verr_at for ctx's file at an explicit position. (schema.c) */
int sc__err_pos(struct sc_schema_ctx *ctx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Key paths for messages into out[SC_CFG_PATH_MAX]: "path.key" and "path[i]";
 * a path too long ends in "...". (schema.c) */
void sc__path_key(char *out, const char *path, const char *key);
void sc__path_idx(char *out, const char *path, size_t i);

/* Whether a field's value must never be printed (SC_F_SECRET, or a name
 * containing "password"). (schema.c) */
int sc__field_secret(const struct sc_field *f);

/* Whether n is a scalar without a value (YAML null); the name of n's kind
 * for messages ("a mapping", "a list", ...). (node.c) */
int sc__node_is_null(const struct sc_cfg_node *n);
const char *sc__kind_name(const struct sc_cfg_node *n);

#endif
