/* table.h -- the CSV-to-Redis engine of `shortcodectl import` and `push
 * --file` (import.c): a table says which columns a file has and how one row
 * becomes Redis commands; the engine checks the whole file first, then
 * streams it again and pipelines the commands (docs/shortcodectl.md).
 *
 * Ownership: a command's arguments are borrowed from the CSV record (valid
 * during build and until the command is queued) or live in the command's own
 * buffers. */
#ifndef SC_CTL_TABLE_H
#define SC_CTL_TABLE_H

#include <stddef.h>

#include "csv.h"
#include "ctl.h"

#define CTL_CMD_ARGS 20       /* arguments of a row's first command */
#define CTL_MAX_EXTRA 2       /* commands a row adds after its first */
#define CTL_MAX_EXTRA_ARGS 4

struct ctl_importer;          /* the engine's state (import.c) */

/* The commands built from one row. */
struct ctl_cmd {
    int argc;
    const char *argv[CTL_CMD_ARGS];
    size_t lens[CTL_CMD_ARGS];
    char key[80], key2[80];
    char num[24], num2[24];
    int nextra;                        /* commands after the first */
    int extra_argc[CTL_MAX_EXTRA];
    const char *extra[CTL_MAX_EXTRA][CTL_MAX_EXTRA_ARGS];
    size_t extra_lens[CTL_MAX_EXTRA][CTL_MAX_EXTRA_ARGS];
};

struct ctl_column {
    const char *name;
    int required;
};

/* A CSV layout and how a row becomes commands. build gets the row's value
 * for each column (NULL: column absent from the file); it reports a bad
 * row with ctl_row_error() (or ctl_field_ok()) and returns -1. In pass 1
 * (checking) its commands are thrown away. */
struct ctl_csv_table {
    const char *name;                  /* "catalogue": for messages */
    const char *verb, *verb_now;       /* "imported", "imports" */
    const char *noun;                  /* summary: "imported" N "catalogue rows" */
    const struct ctl_column *cols;
    size_t ncols;
    int (*build)(struct ctl_importer *imp, const struct sc_csv_field *const *v,
                 struct ctl_cmd *cmd);
};

/* push.c: rows of `push --file` -> XADD mt:push. */
extern const struct ctl_csv_table ctl_push_table;

/* A bad row: counted; listed as "FILE:LINE: message" (pass 1, the first 20). */
void ctl_row_error(struct ctl_importer *imp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* rc is a check's result for field f of column col: 1 if it passed, else
 * 0 after reporting the row as 'COLUMN "value" why'. */
int ctl_field_ok(struct ctl_importer *imp, const char *col, const struct sc_csv_field *f,
                 int rc, const char *why);

/* The options the import runs with (its path, its push context). */
const struct ctl_import_opts *ctl_importer_opts(const struct ctl_importer *imp);

/* 1 during the check pass (commands built are thrown away), 0 after. */
int ctl_importer_checking(const struct ctl_importer *imp);

/* Append one argument (borrowed) to the row's first command. */
void ctl_cmd_arg(struct ctl_cmd *cmd, const char *s, size_t len);
void ctl_cmd_str(struct ctl_cmd *cmd, const char *s);

#endif
