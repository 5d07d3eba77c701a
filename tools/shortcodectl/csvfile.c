/* csvfile.c -- the read / feed / finish loop over a CSV file (csvfile.h). */
#include "csvfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)

int ctl_csv_file_parse(const struct ctl_csv_file *f, sc_csv_record_cb cb, void *ctx)
{
    char *buf = malloc(READ_CHUNK);
    struct sc_csv *p = sc_csv_new(f->max_record, f->max_fields);
    int rc = 0;
    if (!buf || !p) {
        fprintf(stderr, "%s: out of memory\n", f->path);
        rc = -1;
    } else if (lseek(f->fd, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: cannot rewind: %s\n", f->path, strerror(errno));
        rc = -1;
    }
    while (rc == 0) {
        ssize_t n = read(f->fd, buf, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "%s: read error: %s\n", f->path, strerror(errno));
            rc = -1;
        } else if (n == 0) {
            rc = sc_csv_finish(p, cb, ctx);
            break;
        } else {
            if (f->on_chunk)
                f->on_chunk(ctx, buf, (size_t)n);
            rc = sc_csv_feed(p, buf, (size_t)n, cb, ctx);
        }
    }
    sc_csv_free(p);
    free(buf);
    return rc;
}
