/* ctl.h -- shortcodectl's commands and exit codes, shared by main.c,
 * import.c, push.c and show.c. */
#ifndef SC_CTL_H
#define SC_CTL_H

#include <stddef.h>

#include "redis.h"

struct sc_config;

/* Exit codes: the CLI contract (docs/shortcodectl.md). */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_DATA = 1,      /* bad rows (nothing imported), redis error replies */
    CTL_EXIT_USAGE = 2,     /* bad command line or config file */
    CTL_EXIT_SKIPPED = 3,   /* --skip-bad: good rows imported, bad rows skipped */
    CTL_EXIT_REDIS = 4,     /* redis unreachable, timed out or connection lost */
    CTL_EXIT_STOPPED = 5,   /* bill-run, push --text: SIGINT/SIGTERM, checkpoint written */
};

enum ctl_table { CTL_CATALOGUE, CTL_SUBSCRIPTIONS, CTL_PUSH };

/* What a pushed text must fit: the daemon's smpp.seg_mode (enum
 * sc_seg_mode) and smpp.max_parts, from -c CONFIG or their defaults. */
struct ctl_mt_limits {
    int seg_mode;
    unsigned max_parts;
};

struct ctl_import_opts {
    enum ctl_table table;
    const char *path;
    int skip_bad;           /* import the good rows when some are bad */
    int progress;           /* progress lines on stderr: 1 on, 0 off */
    struct ctl_mt_limits lim;   /* CTL_PUSH */
    unsigned long long now_ms;  /* CTL_PUSH: unix ms; not_after must be later */
};

/* `push`: each field as given on the command line, NULL when absent. */
struct ctl_push_opts {
    const char *to, *text, *kind, *priority, *not_after, *from, *id;
    int quiet;
    struct ctl_mt_limits lim;
};

/* bill-run and push --file --text: a run over a list of subscribers. */
struct ctl_list_opts {
    const char *path;                   /* --msisdns FILE / --file FILE */
    const char *cycle;                  /* bill-run: YYYYMM */
    const char *id_prefix;              /* push: ids PREFIX:MSISDN */
    const char *text, *kind, *priority; /* push: --text, --kind; both: --priority */
    int quiet;                          /* push: --quiet (bills are always quiet) */
    unsigned long rate;                 /* --rate: pushes/s, 0 none */
    unsigned long max_backlog;          /* --max-backlog */
    int progress;
    struct ctl_mt_limits lim;
    const struct sc_config *cfg;        /* -c CONFIG (the bill's templates), or NULL */
};

/* Each returns an enum ctl_exit. r is parsed but not connected: commands
 * connect when they need to (an import only after its file is valid). */
int ctl_import(struct ctl_redis *r, const struct ctl_import_opts *o);
int ctl_show(struct ctl_redis *r, const char *msisdn);
int ctl_events(struct ctl_redis *r, long count);
/* One XADD to mt:push after checking every field; prints the push's id. */
int ctl_push(struct ctl_redis *r, const struct ctl_push_opts *o);
/* A push's latest state (mt:{ID}) and its recent mt:status entries. */
int ctl_status(struct ctl_redis *r, const char *id);
/* Every subscriber's bill of o->cycle to mt:push (billrun.c). */
int ctl_bill_run(struct ctl_redis *r, const struct ctl_list_opts *o);
/* One text to every subscriber of o->path (push.c). */
int ctl_push_list(struct ctl_redis *r, const struct ctl_list_opts *o);
/* A pushed text's check (push.c): non-empty UTF-8 that fits lim once
 * encoded as the daemon will; *parts its SMS count. 0 or -1 with why. */
int ctl_push_text_ok(const char *s, size_t len, const struct ctl_mt_limits *lim, unsigned *parts,
                     char *why, size_t whysz);
/* A push's kind: 1..16 of a-z and _. 0 or -1 with why. */
int ctl_push_kind_ok(const char *s, size_t len, char *why, size_t whysz);
/* Build vas:catalogue from the vas:svc:* hashes (SCAN; offline use). */
int ctl_index_catalogue(struct ctl_redis *r);

#endif
