/* ctl.h -- shortcodectl's commands and exit codes, shared by main.c,
 * import.c and show.c. */
#ifndef SC_CTL_H
#define SC_CTL_H

#include "redis.h"

/* Exit codes: the CLI contract (docs/shortcodectl.md). */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_DATA = 1,      /* bad rows (nothing imported), redis error replies */
    CTL_EXIT_USAGE = 2,     /* bad command line or config file */
    CTL_EXIT_SKIPPED = 3,   /* --skip-bad: good rows imported, bad rows skipped */
    CTL_EXIT_REDIS = 4,     /* redis unreachable, timed out or connection lost */
};

enum ctl_table { CTL_CATALOGUE, CTL_SUBSCRIPTIONS };

struct ctl_import_opts {
    enum ctl_table table;
    const char *path;
    int skip_bad;           /* import the good rows when some are bad */
    int progress;           /* progress lines on stderr: 1 on, 0 off */
};

/* Each returns an enum ctl_exit. r is parsed but not connected: commands
 * connect when they need to (an import only after its file is valid). */
int ctl_import(struct ctl_redis *r, const struct ctl_import_opts *o);
int ctl_show(struct ctl_redis *r, const char *msisdn);
int ctl_events(struct ctl_redis *r, long count);
/* Build vas:catalogue from the vas:svc:* hashes (SCAN; offline use). */
int ctl_index_catalogue(struct ctl_redis *r);

#endif
