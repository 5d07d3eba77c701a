/* push_int.h -- internals shared by the push intake's files: core/push.c
 * (reading mt:push and mt:held:P, claiming, the job list, life),
 * core/push_send.c (one job's take, hold, send and final record) and
 * core/push_lua.c (their scripts: KEYS, ARGV and replies described above
 * each there). */
#ifndef SC_PUSH_INT_H
#define SC_PUSH_INT_H

#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "core/app.h"
#include "core/mt_check.h"
#include "core/quiet_clock.h"
#include "smsc/esme.h"
#include "store/keys.h"

extern const char sc__push_take_lua[];   /* mt:{ID} marked queued by this entry */
extern const char sc__push_finish_lua[]; /* mt:{ID}, mt:status and the XACK */
extern const char sc__push_hold_lua[];   /* a quiet push moved to mt:held:P */
/* On a Redis Cluster (core/push_cluster.c), each on one slot: */
extern const char sc__push_crecord_lua[]; /* mt:{ID}'s final record, pend set */
extern const char sc__push_cmap_lua[];    /* one mt:msg:{MESSAGE_ID} map */
extern const char sc__push_chold_lua[];   /* mt:{ID} recorded held */

#define GROUP "shortcoded"
#define TICK_MS 200
#define ENTRY_MAX 48
/* The streams read: mt:push, then mt:held:0 .. mt:held:9 (one per priority). */
#define NSTREAMS (2 + SC_ESME_PRIO_MAX)
/* Entries taken in one push_take_lua (a read's are cut in such batches),
 * records written in one push_finish_lua: one round trip and one reply for
 * a batch instead of one per push. */
#define SC__PUSH_TAKE_MAX 100
#define SC__PUSH_REC_MAX 100

struct job;
struct redisReply;
struct sc__ctake;

struct sc_pushes {
    struct sc_app *a;
    struct sc_store *in, *out;
    int take_script, finish_script, hold_script;
    int crecord_script, cmap_script, chold_script, capply_script; /* cluster */
    uv_timer_t tick;
    int reading, quiet;
    unsigned groups_ok;           /* bit 0: group shortcoded made on mt:push */
    struct sc_quiet_clock qc;     /* quiet hours (core/quiet_clock.h) */
    char streams[NSTREAMS][16];   /* SC_KEY_MT_PUSH, then SC_KEY_MT_HELD by priority */
    char cursors[NSTREAMS][ENTRY_MAX]; /* of XAUTOCLAIM, per stream */
    unsigned held_next;           /* the held stream read next; NSTREAMS = none to read */
    unsigned claim_next;          /* the stream of the next XAUTOCLAIM */
    unsigned read_stream;         /* of the read in flight */
    uint64_t claimed_at;          /* loop ms of the last XAUTOCLAIM */
    uint64_t touched_at;          /* ... of the last XCLAIM of our own entries */
    int touching;                 /* XCLAIMs of our own entries in flight */
    unsigned njobs;               /* pushes taken and not finished ... */
    LIST_HEAD(, job) jobs;        /* ... listed here (a claim skips them) */
    struct job *retry;            /* records waiting to be written again */
    struct job *recs, **recs_tail; /* records to write at the loop's next turn ... */
    unsigned nrecs;               /* ... how many (a full batch goes at once) */
    uv_idle_t flush;              /* started while recs is not empty */
    struct sc__ctake *ctq, **ctq_tail; /* on a cluster: takes in flight, in order read */
    char consumer[96];
    unsigned closing;
    uint64_t stop_deadline;
    void (*done)(void *);
    void *done_arg;
};

/* One entry taken from the stream; the text is copied after it. */
struct job {
    struct sc_pushes *p;
    LIST_ENTRY(job) link;         /* p->jobs */
    struct job *next;             /* p->recs or p->retry */
    const char *stream;           /* one of p->streams */
    char entry[ENTRY_MAX];
    char tag[ENTRY_MAX + 4];      /* entry; from mt:held:P "hP-" + entry: mt:{ID}'s entry */
    struct sc_push m;
    unsigned parts;
    const char *state;            /* final state being recorded */
    char err[40];
    int record;                   /* write mt:{ID} */
    int retried;                  /* its record failed once (logged once) */
    int malformed;                /* replies of an unexpected shape (cluster) */
    char (*msgids)[SC_MSGID_MAX]; /* the parts' message_ids (receipts asked): &msgid1
                                   * for one part, else malloc'd; or NULL */
    char msgid1[SC_MSGID_MAX];
    unsigned nids;
    int cstep;                    /* on a cluster: the record's step to (re)start at */
    unsigned cmap;                /* ... the next part to map */
    char at[24];                  /* ... the record's time (mt:{ID}.at) */
    char held[ENTRY_MAX];         /* ... the id of its copy in mt:held:P */
    char text[];
};

static inline const struct sc_cfg_mt *sc__push_mtcfg(const struct sc_pushes *p)
{
    return &p->a->gen->cfg->mt;
}

/* core/push.c: issue the next read if one may go now. */
void sc__push_kick(struct sc_pushes *p);
/* core/push.c: the job ends (recorded, or left pending for a later claim):
 * off the list, freed, the intake kicked. */
void sc__push_job_free(struct job *j);

/* core/push_send.c. n (1..SC__PUSH_TAKE_MAX) checked jobs (not expired,
 * not held) in one push_take_lua; then each is sent, acknowledged or
 * dropped, and ends in sc__push_finish. */
void sc__push_take(struct sc_pushes *p, struct job *const *jobs, unsigned n);
/* A quiet push inside the quiet hours moved to mt:held:P (its priority). */
void sc__push_hold(struct job *j);
/* The job's final state: mt:status, mt:{ID} (when its id is usable), XACK;
 * the job is freed once recorded, else put on p->retry. */
void sc__push_finish(struct job *j, const char *state, const char *err);
/* Queue j's record (again: the tick's retry of p->retry) for the next
 * batch: written at the loop's next idle phase (sc__push_on_flush, p->flush's
 * callback), or at once when SC__PUSH_REC_MAX are queued. */
void sc__push_record(struct job *j);
void sc__push_on_flush(uv_idle_t *h);
/* A record that could not be written: logged once, put on p->retry. */
void sc__push_record_failed(struct job *j, int err, const struct redisReply *rep);

/* core/push_cluster.c, on a Redis Cluster only. j's record, from its step
 * j->cstep (0, RECORD, the first time and when tried again; a record
 * without an id starts at STATUS). */
void sc__push_crecord(struct job *j);
/* A take's "redo": the record found in mt:{ID} finished from where a dead
 * daemon left it. */
void sc__push_credo(struct job *j);
/* sc__push_hold's steps: the copy in mt:held:P, mt:{ID} "held" by it, XACK. */
void sc__push_chold(struct job *j);

#endif
