/* index.c -- `shortcodectl index-catalogue`: build the vas:catalogue set once
 * from the vas:svc:* hashes of an existing keyspace.
 *
 * The daemon reads the catalogue only through vas:catalogue (never SCAN);
 * `import catalogue` keeps the set. A keyspace filled before the set existed
 * (or by another feed) needs it built once: this command SCANs the whole
 * keyspace (SCAN MATCH vas:svc:* TYPE hash, COUNT 1000), which is fine for
 * an offline tool and never done by the daemon. It only adds members; it
 * then lists members of the set whose hash is missing (left alone). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sc.h"
#include "check.h"
#include "ctl.h"
#include "store/keys.h"

#define PREFIX SC_KEY_SVC_PREFIX
#define SET_KEY SC_KEY_CATALOGUE
#define MAX_LISTED 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SADD the codes of one SCAN page. Returns members added, or -1 (printed). */
static long add_page(struct ctl_redis *r, const redisReply *keys)
{
    const char **argv = calloc(keys->elements + 2, sizeof *argv);
    size_t *lens = calloc(keys->elements + 2, sizeof *lens);
    int argc = 2;
    long added = -1;
    if (!argv || !lens) {
        fprintf(stderr, "shortcodectl: out of memory\n");
        goto out;
    }
    argv[0] = "SADD";
    lens[0] = 4;
    argv[1] = SET_KEY;
    lens[1] = strlen(SET_KEY);
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        char why[96];
        size_t plen = strlen(PREFIX);
        if (k->type != REDIS_REPLY_STRING || k->len <= plen ||
            ctl_check_code(k->str + plen, k->len - plen, why, sizeof why) < 0)
            continue; /* not a key import would write: leave it out */
        argv[argc] = k->str + plen;
        lens[argc++] = k->len - plen;
    }
    added = 0;
    if (argc > 2) {
        redisReply *rep = ctl_redis_command(r, 1, argc, argv, lens);
        if (!rep) {
            added = -1;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            char q[160];
            fprintf(stderr, "shortcodectl: redis: %s\n",
                    ctl_printable(q, sizeof q, rep->str, rep->len, 0));
            added = -1;
        } else {
            added = rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : 0;
        }
        if (rep)
            freeReplyObject(rep);
    }
out:
    free(argv);
    free(lens);
    return added;
}

/* Members of the set without their hash: listed, kept. */
static int list_orphans(struct ctl_redis *r)
{
    const char *argv[] = {"SMEMBERS", SET_KEY};
    redisReply *m = ctl_redis_command(r, 1, 2, argv, NULL);
    if (!m)
        return -1;
    size_t orphans = 0;
    for (size_t i = 0; m->type == REDIS_REPLY_ARRAY && i < m->elements; i++) {
        char key[128], q[96];
        const redisReply *e = m->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len > 64)
            continue;
        snprintf(key, sizeof key, PREFIX "%s", e->str);
        const char *ex[] = {"EXISTS", key};
        redisReply *rep = ctl_redis_command(r, 1, 2, ex, NULL);
        if (!rep) {
            freeReplyObject(m);
            return -1;
        }
        if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0 && ++orphans <= MAX_LISTED)
            fprintf(stderr, "%s: member %s has no %s hash (kept; SREM it if withdrawn)\n",
                    SET_KEY, ctl_printable(q, sizeof q, e->str, e->len, 1), key);
        freeReplyObject(rep);
    }
    freeReplyObject(m);
    return 0;
}

/* SCAN one server (a cluster: master i) and SADD what it holds. */
static int index_node(struct ctl_redis *r, int i, unsigned long *calls, unsigned long *seen,
                      unsigned long *added)
{
    char cursor[32] = "0";
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", PREFIX "*", "COUNT", "1000", "TYPE", "hash"};
        const char *where = r->where;
        redisReply *rep = ctl_redis_command_on(r, i, 8, argv, &where);
        (*calls)++;
        if (!rep)
            return CTL_EXIT_REDIS;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            char q[160];
            fprintf(stderr, "shortcodectl: redis at %s: %s\n", where,
                    rep->type == REDIS_REPLY_ERROR
                        ? ctl_printable(q, sizeof q, rep->str, rep->len, 0)
                        : "unexpected reply to SCAN");
            freeReplyObject(rep);
            return CTL_EXIT_DATA;
        }
        sc_strlcpy(cursor, rep->element[0]->str, sizeof cursor);
        *seen += rep->element[1]->elements;
        long n = add_page(r, rep->element[1]);
        freeReplyObject(rep);
        if (n < 0)
            return CTL_EXIT_DATA;
        *added += (unsigned long)n;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

int ctl_index_catalogue(struct ctl_redis *r)
{
    unsigned long calls = 0, seen = 0, added = 0;
    double t0 = now_s();
    if (ctl_redis_connect(r) < 0)
        return CTL_EXIT_REDIS;
    int nodes = ctl_redis_nnodes(r);   /* a cluster: every master's share */
    for (int i = 0; i < nodes; i++) {
        int rc = index_node(r, i, &calls, &seen, &added);
        if (rc)
            return rc;
    }
    if (list_orphans(r) < 0)
        return CTL_EXIT_REDIS;
    fprintf(stderr, "indexed %lu vas:svc:* hashes into " SET_KEY " at %s (%lu new) with %lu "
            "SCAN calls in %.2f s\n", seen, r->where, added, calls, now_s() - t0);
    return CTL_EXIT_OK;
}
