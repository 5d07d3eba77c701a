/* msisdns.c -- subscriber lists and run checkpoints of shortcodectl (see
 * msisdns.h): pure parsing and decisions. */
#include "msisdns.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum ctl_list_line ctl_list_record(const struct sc_csv_record *rec, int first,
                                   char out[CTL_MSISDN_MAX + 1], char *why, size_t whysz)
{
    char err[96], q[64];
    if (rec->error) {
        snprintf(why, whysz, "%s", rec->error);
        return CTL_LIST_BAD;
    }
    const struct sc_csv_field *f = &rec->fields[0];
    if (first && f->len == 6 && strncasecmp(f->s, "msisdn", 6) == 0)
        return CTL_LIST_HEADER;
    if (ctl_msisdn_normalise(f->s, f->len, out, err, sizeof err) < 0) {
        snprintf(why, whysz, "msisdn %s %s", ctl_printable(q, sizeof q, f->s, f->len, 1), err);
        return CTL_LIST_BAD;
    }
    return CTL_LIST_MSISDN;
}

/* A decimal number of at most 19 digits into *v. 0 or -1. */
static int number(const char *s, size_t len, unsigned long *v)
{
    char err[8];
    uint64_t u;
    if (ctl_parse_uint(s, len, 9999999999999999999ull, &u, err, sizeof err) < 0 ||
        u > (uint64_t)(unsigned long)-1)
        return -1;
    *v = (unsigned long)u;
    return 0;
}

int ctl_ckpt_parse(struct ctl_ckpt *c, const char *const *kv, const size_t *lens, size_t nkv,
                   char *why, size_t whysz)
{
    static const char *const names[] = {"line", "pushed", "skipped", "failed", "done"};
    unsigned long *dst[] = {&c->line, &c->pushed, &c->skipped, &c->failed, NULL};
    int seen = 0, sha = 0;
    unsigned long done = 0;
    memset(c, 0, sizeof *c);
    if (nkv == 0)
        return 0;
    for (size_t i = 0; i + 1 < nkv; i += 2) {
        if (lens[i] == 3 && memcmp(kv[i], "sha", 3) == 0) {
            sha = lens[i + 1] == CTL_SHA256_HEX &&
                  strspn(kv[i + 1], "0123456789abcdef") >= CTL_SHA256_HEX;
            if (sha)
                memcpy(c->sha, kv[i + 1], CTL_SHA256_HEX + 1);
            continue;
        }
        for (int k = 0; k < 5; k++) {
            if (strlen(names[k]) != lens[i] || memcmp(names[k], kv[i], lens[i]) != 0)
                continue;
            if (number(kv[i + 1], lens[i + 1], dst[k] ? dst[k] : &done) < 0) {
                snprintf(why, whysz, "field %s is not a number", names[k]);
                return -1;
            }
            seen |= 1 << k;
        }
    }
    if (!sha) {
        snprintf(why, whysz, "field sha is missing or not a SHA-256 in hex");
        return -1;
    }
    for (int k = 0; k < 5; k++) {
        if (!(seen & (1 << k))) {
            snprintf(why, whysz, "field %s is missing", names[k]);
            return -1;
        }
    }
    c->exists = 1;
    c->done = done != 0;
    return 0;
}

enum ctl_ckpt_verdict ctl_ckpt_decide(const struct ctl_ckpt *c, const char *sha)
{
    if (!c->exists)
        return CTL_CKPT_START;
    if (strcmp(c->sha, sha) != 0)
        return CTL_CKPT_OTHER_FILE;
    return c->done ? CTL_CKPT_DONE : CTL_CKPT_RESUME;
}
