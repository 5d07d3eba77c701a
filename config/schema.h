/* schema.h -- the configuration engine: YAML -> node trees (with ${VAR}
 * expansion), declarative schemas applied to them, loading a file against a
 * schema, and the differences between two structs one schema filled.
 *
 * config/ knows no subsystem: each declares the schema of its own section
 * next to its code (as nginx modules declare their directives), smsc/ the
 * binds and "smpp:", store/ "redis:", core/ the top level that lists the
 * sections (core/config.h), handlers their route "options:".
 *
 * A schema is a table of fields, each declared once: key name, type, where the
 * value goes in a C struct, flags (required, secret, ...), range and default.
 * sc_schema_apply() walks a struct sc_cfg_node mapping against such a table:
 * every key must be declared, every value must convert, every required key
 * must be there; defaults fill the rest. Errors read
 *     FILE:LINE:COL: binds[0].port: must be 1..65535 (got 70000)
 * The daemon's own configuration and handlers' route "options:" use the same
 * mechanism:
 *
 *     struct vas_opts { int page_size; char *title; };
 *     static const struct sc_field vas_fields[] = {
 *         {"page_size", SC_FT_INT, offsetof(struct vas_opts, page_size), 0,
 *          .min = 1, .max = 20, .def = "9"},
 *         {"title", SC_FT_STRING, offsetof(struct vas_opts, title),
 *          .flags = SC_F_REQUIRED},
 *         {.name = NULL}
 *     };
 *     static const struct sc_schema vas_schema = {vas_fields, sizeof(struct vas_opts), NULL};
 *
 *     struct sc_schema_ctx ctx = {cfg->path, err, errsz, route->line, route->col};
 *     struct vas_opts o = {0};
 *     int rc = sc_schema_apply(&ctx, &vas_schema, &o, route->options, "routes[3].options");
 *     ...
 *     sc_schema_free(&vas_schema, &o);      (also after a failed apply)
 *
 * Give every row at least one designated initializer (".flags = 0" will do):
 * -Wmissing-field-initializers rejects purely positional short rows.
 *
 * Values are the scalars of the tree, already ${VAR}-expanded, converted by
 * type; a null value ("key:" with nothing after it, "~", "null") counts as
 * absent (the default applies; a required key is an error). Values of secret
 * fields (SC_F_SECRET, or a key whose name contains "password") are never
 * echoed in messages. */
#ifndef SC_SCHEMA_H
#define SC_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* A YAML node: kept for handler options, so that a handler's own schema can
 * check them later with line:column errors. */
enum sc_cfg_node_kind { SC_CFG_SCALAR, SC_CFG_SEQ, SC_CFG_MAP };
struct sc_cfg_node {
    enum sc_cfg_node_kind kind;
    char *key;                   /* for children of a MAP, else NULL */
    char *value;                 /* for SCALAR (after ${VAR} expansion) */
    struct sc_cfg_node *child;   /* first child (SEQ, MAP) */
    struct sc_cfg_node *next;    /* next sibling */
    int line, col;               /* where the value starts */
    int key_line, key_col;       /* where its key starts (children of a MAP) */
};

/* One entry of an SC_FT_MAP (name -> text), in file order. */
struct sc_cfg_kv {
    char *key;
    char *value;
    int line, col;
};

enum sc_field_type {
    SC_FT_STRING,   /* char * (malloc'd); .max = max bytes, 0 = no limit */
    SC_FT_INT,      /* int: decimal; .min ... .max */
    SC_FT_UINT32,   /* uint32_t: decimal or 0x hex; .min ... .max */
    SC_FT_BOOL,     /* int 0/1: true/false, yes/no, on/off */
    SC_FT_ENUM,     /* int: index of the word in .names, or what .parse returns */
    SC_FT_STATUS,   /* uint32_t: SMPP command_status by sc_pdu_status_parse() (base/smpp.h):
                     * "ESME_RX_T_APPN", "RX_T_APPN", "0x64", "100" */
    SC_FT_STRLIST,  /* char ** + size_t at .count_offset: a list of scalars (or one scalar
                     * with SC_F_ONE_OR_LIST); .min/.max = item count (max 0 = no limit);
                     * .def is comma-separated */
    SC_FT_SECTION,  /* a mapping checked with .sub into the struct at .offset (.sub's
                     * offsets are relative to it: a subsystem's own section struct);
                     * absent means "all defaults" */
    SC_FT_LIST,     /* a list of mappings: array of .sub->size-byte structs at .offset,
                     * size_t count at .count_offset; .min/.max = count */
    SC_FT_MAP,      /* struct sc_cfg_kv * + size_t at .count_offset: name -> string,
                     * in file order */
    SC_FT_NODE,     /* struct sc_cfg_node *: a mapping kept as a tree (a deep copy,
                     * owned by the struct), for a later schema (handler options) */
};

#define SC_F_REQUIRED     0x01u  /* missing (or null) is an error */
#define SC_F_SECRET       0x02u  /* never echo the value */
#define SC_F_NONEMPTY     0x04u  /* STRING, STRLIST items: "" is an error */
#define SC_F_UNIQUE       0x08u  /* STRING in a LIST element: unique across elements;
                                  * STRLIST: items unique */
#define SC_F_ONE_OR_LIST  0x10u  /* STRLIST: a single scalar is a one-item list */

/* A word of an SC_FT_ENUM. The table ends with {NULL, 0}. */
struct sc_enum {
    const char *name;
    int value;
};

struct sc_schema;

/* One key. Tables end with {.name = NULL}. */
struct sc_field {
    const char *name;
    enum sc_field_type type;
    size_t offset;                 /* of the value in the struct */
    unsigned flags;                /* SC_F_* */
    long long min, max;            /* see the types above */
    const char *def;               /* default as text, converted like a value;
                                    * NULL: zero / NULL / empty list */
    size_t count_offset;           /* STRLIST, LIST, MAP: the size_t count */
    const struct sc_enum *names;   /* ENUM: the words */
    int (*parse)(const char *s);   /* ENUM alternative: value >= 0, or -1 */
    const char *hint;              /* ENUM with .parse: words for messages */
    const struct sc_schema *sub;   /* SECTION, LIST */
};

struct sc_schema_ctx;

struct sc_schema {
    const struct sc_field *fields;
    size_t size;                   /* sizeof the struct (LIST elements) */
    /* Optional cross-field check, called after the fields were applied (and
     * defaults filled) with the mapping (NULL when absent) and its path.
     * Returns 0 or the result of sc_schema_error(). */
    int (*check)(struct sc_schema_ctx *ctx, void *obj, const struct sc_cfg_node *map,
                 const char *path);
};

/* Where messages go. file is named in every message; line/col (1-based, or
 * 0 = none) is used when no node applies, e.g. a required option when the
 * whole "options:" mapping is absent. */
struct sc_schema_ctx {
    const char *file;
    char *err;
    size_t errsz;
    int line, col;
};

/* Apply schema s to the mapping map (NULL = absent: defaults only, required
 * keys are errors) and fill obj, which the caller zeroed. path prefixes key
 * names in messages ("" or NULL at the top). Returns 0, or SC_ECONFIG with
 * ctx->err set, or SC_ENOMEM. obj may hold partial values either way: always
 * release it with sc_schema_free(). */
int sc_schema_apply(struct sc_schema_ctx *ctx, const struct sc_schema *s, void *obj,
                    const struct sc_cfg_node *map, const char *path);

/* Free what sc_schema_apply() allocated in obj (not obj itself) and zero those
 * members. Safe on a zeroed or partially filled obj. */
void sc_schema_free(const struct sc_schema *s, void *obj);

/* Format "FILE:LINE:COL: message" into ctx->err, at node at (or ctx's line/col
 * when at is NULL; "FILE: message" when no position is known). Returns
 * SC_ECONFIG, for "return sc_schema_error(...)". */
int sc_schema_error(struct sc_schema_ctx *ctx, const struct sc_cfg_node *at, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

/* Parse YAML text (one document) into a node tree, expanding ${VAR} in scalar
 * values. Plain null scalars (empty, "~", "null") become SCALAR nodes with
 * value NULL. Aliases, non-scalar keys, duplicate keys, more than one
 * document and nesting deeper than 64 levels are errors. file names the
 * source in messages. Returns the root (free with sc_cfg_node_free), or NULL
 * with err set ("FILE: empty document" when there is no content). */
struct sc_cfg_node *sc_cfg_parse(const char *file, const char *text, size_t len, char *err,
                                 size_t errsz);

/* Read path (at most 4 MiB) and sc_cfg_parse() it. */
struct sc_cfg_node *sc_cfg_parse_file(const char *path, char *err, size_t errsz);

/* Deep copy of n and its descendants (n->next is not copied); NULL on ENOMEM. */
struct sc_cfg_node *sc_cfg_node_dup(const struct sc_cfg_node *n);

/* Free n and its descendants (not n->next). NULL is a no-op. */
void sc_cfg_node_free(struct sc_cfg_node *n);

/* The child of mapping map with this key, or NULL. Borrowed. */
const struct sc_cfg_node *sc_cfg_node_get(const struct sc_cfg_node *map, const char *key);

/* Read path, parse it (sc_cfg_parse_file) and apply s to its top level, which
 * must be a mapping, filling obj (zeroed by the caller). Returns 0, or
 * SC_ECONFIG / SC_ENOMEM with err set to "FILE:LINE:COL: message" (or "FILE:
 * message" when no position applies: the file cannot be opened, the document
 * is empty). obj may hold partial values either way: release it with
 * sc_schema_free(). */
int sc_schema_load_file(const char *path, const struct sc_schema *s, void *obj, char *err,
                        size_t errsz);

/* Called by sc_schema_diff() for one key whose value differs: key is its
 * path as in messages ("binds[0].window", "templates.help"), oldv and newv
 * the two values as log-ready text (numbers bare, strings quoted, "null"
 * when absent), both NULL for a secret (a password, redis.url), which is
 * never shown. All borrowed for the call. */
typedef void (*sc_config_diff_cb)(void *arg, const char *key, const char *oldv,
                                  const char *newv);

/* Compare a and b, both filled by s, key by key in schema order, and call cb
 * for each difference. Lists of mappings (binds, routes) compare element by
 * element at the same index; a different length is also reported on the
 * list's own key with the two counts. Returns the number of differences. */
size_t sc_schema_diff(const struct sc_schema *s, const void *a, const void *b,
                      sc_config_diff_cb cb, void *arg);

/* Expand ${VAR} and ${VAR:-default} in s (environment lookups through
 * getenv). "$$" is a literal "$". Returns a malloc'd string, or NULL with a
 * message in err (unterminated "${", an unset variable without default).
 * Like sh, ":-" takes the default when VAR is unset or empty; the default is
 * itself expanded, only when used ("${A:-${B:-x}}", at most 8 deep). A "$"
 * not followed by "{" or "$" is literal. Values are not re-expanded. err may
 * be NULL. (sc_cfg_parse applies it to every scalar value.) */
char *sc_config_expand(const char *s, char *err, size_t errsz);

#endif
