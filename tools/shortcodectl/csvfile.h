/* csvfile.h -- a whole CSV file through csv.h's parser: the read / feed /
 * finish loop of `import`, `push --file`, `bill-run` and `push --file
 * --text` (csv.c itself does no I/O, by its contract). */
#ifndef SC_CTL_CSVFILE_H
#define SC_CTL_CSVFILE_H

#include <stddef.h>

#include "csv.h"

struct ctl_csv_file {
    int fd;                   /* a regular file: read from its start */
    const char *path;         /* for messages */
    size_t max_record;        /* sc_csv_new's limits */
    size_t max_fields;
    /* Each chunk as read, before it is parsed (a digest), or NULL. */
    void (*on_chunk)(void *ctx, const char *buf, size_t len);
};

/* Rewind f->fd and parse it all with a fresh parser, cb(ctx, record) for
 * each record. Returns 0, the callback's non-zero stop value, or -1 after
 * printing "PATH: why" (read error, cannot rewind, out of memory). */
int ctl_csv_file_parse(const struct ctl_csv_file *f, sc_csv_record_cb cb, void *ctx);

#endif
