/* pushrun.h -- a push to every subscriber of a list (bill-run, push --file
 * --text): the list checked whole first, then pushed to mt:push in
 * pipelined batches, never faster than the daemons drain it (the backlog
 * of the group "shortcoded"), resumable from a checkpoint in Redis and
 * stopped cleanly by SIGINT/SIGTERM (docs/shortcodectl.md "bill-run").
 *
 * A producer says what each subscriber gets: it may read Redis for a batch
 * (its commands ride in the same round trip as the previous batch's
 * XADDs), then gives one text per subscriber or skips it. */
#ifndef SC_CTL_PUSHRUN_H
#define SC_CTL_PUSHRUN_H

#include <stddef.h>

#include "check.h"
#include "ctl.h"

#define CTL_RUN_BATCH 1000      /* subscribers per round trip, at most */

struct ctl_run_item {
    char msisdn[CTL_MSISDN_MAX + 1];   /* national number */
    unsigned long line;
};

enum ctl_run_fate { CTL_RUN_PUSH, CTL_RUN_SKIP, CTL_RUN_FAIL };

/* What one run's batches are made of. slot is 0 or 1: two batches are in
 * flight (one being read, the previous being pushed), each with its own
 * storage in the producer. */
struct ctl_run_producer {
    const char *noun;                  /* "bills" */
    const char *skipped;               /* "without a bill" */
    /* Queue the reads for items[0..n) (ctl_redis_append), or nothing. */
    void (*queue)(void *arg, struct ctl_redis *r, int slot, const struct ctl_run_item *items,
                  size_t n);
    /* Read the replies queue asked for and decide each item's fate; a
     * CTL_RUN_PUSH item's text (borrowed until the slot is reused) goes to
     * text[i], len[i]; a CTL_RUN_FAIL item was reported. 0, or -1 when the
     * connection was lost (printed). */
    int (*collect)(void *arg, struct ctl_redis *r, int slot, const struct ctl_run_item *items,
                   size_t n, enum ctl_run_fate *fate, const char **text, size_t *len);
    void *arg;
};

struct ctl_run_opts {
    const char *path;                  /* the list */
    const char *ckpt_key;              /* billrun:YYYYMM, pushrun:PREFIX */
    const char *id_prefix, *id_suffix; /* id: PREFIX MSISDN SUFFIX */
    const char *kind, *priority;       /* mt:push fields, NULL: not written */
    int quiet;
    unsigned long rate;                /* pushes per second at most; 0: no cap */
    unsigned long max_backlog;         /* >= 1 */
    int progress;                      /* progress lines on stderr */
    const struct ctl_run_producer *p;
};

/* Check the list (nothing is sent if a line is bad), then push. Returns an
 * enum ctl_exit; CTL_EXIT_STOPPED after SIGINT/SIGTERM. */
int ctl_run(struct ctl_redis *r, const struct ctl_run_opts *o);

#endif
