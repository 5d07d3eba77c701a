/* msisdns.h -- the subscriber lists of `bill-run` and `push --file --text`
 * (billing's export: one MSISDN per line, or CSV with the MSISDN in the
 * first column) and the checkpoint that makes a run resumable. Pure
 * functions: no I/O, no Redis (tests/unit/test_msisdns.c). */
#ifndef SC_CTL_MSISDNS_H
#define SC_CTL_MSISDNS_H

#include <stddef.h>

#include "check.h"
#include "csv.h"

enum ctl_list_line {
    CTL_LIST_MSISDN = 0,     /* a subscriber: out holds the national number */
    CTL_LIST_HEADER = 1,     /* the first record, first field "msisdn": skipped */
    CTL_LIST_BAD = -1,       /* why says what is wrong */
};

/* One record of a list. first: it is the file's first record (the only one
 * that may be a header). Fields after the first are ignored. */
enum ctl_list_line ctl_list_record(const struct sc_csv_record *rec, int first,
                                   char out[CTL_MSISDN_MAX + 1], char *why, size_t whysz);

#define CTL_SHA256_HEX 64

/* A run's checkpoint as Redis holds it (HASH billrun:YYYYMM or
 * pushrun:PREFIX): the file's SHA-256, the last line of the file whose
 * subscribers are all pushed, the counts so far, and whether it is done. */
struct ctl_ckpt {
    int exists;
    char sha[CTL_SHA256_HEX + 1];
    unsigned long line;
    unsigned long pushed, skipped, failed;
    int done;
};

/* Fill c from HGETALL's field/value pairs (kv[0], kv[1], ...; nkv strings,
 * lens[i] their lengths); an empty list is no checkpoint. Returns 0, or -1
 * when a field is missing or not a number (the key was not written by
 * this tool): why says which. */
int ctl_ckpt_parse(struct ctl_ckpt *c, const char *const *kv, const size_t *lens, size_t nkv,
                   char *why, size_t whysz);

enum ctl_ckpt_verdict {
    CTL_CKPT_START,          /* no checkpoint: from the first line */
    CTL_CKPT_RESUME,         /* same file, not done: after c->line */
    CTL_CKPT_DONE,           /* same file, done: nothing to push */
    CTL_CKPT_OTHER_FILE,     /* another file: refused */
};

/* What to do with stored checkpoint c for a file whose SHA-256 is sha. */
enum ctl_ckpt_verdict ctl_ckpt_decide(const struct ctl_ckpt *c, const char *sha);

#endif
