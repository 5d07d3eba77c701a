/* route.h -- shortcodectl's Redis Cluster pipeline bookkeeping, no I/O
 * (tests/unit/test_route.c): the commands in the order the caller appended
 * them (their replies are handed back in that order), and per node the
 * order in which that node's replies will arrive. A command resent after a
 * redirect joins the tail of its new node's list and keeps its place in the
 * caller's order.
 *
 * Entries are named by a sequence number (seq), counted from 0 in append
 * order and never reused. Replies are opaque here (void *); free_reply
 * drops the ones nobody takes (internal entries: ASKING, CLUSTER SLOTS). */
#ifndef SC_CTL_ROUTE_H
#define SC_CTL_ROUTE_H

#include <stddef.h>

#define CTL_ROUTE_NONE ((unsigned long)-1)

struct ctl_route_ent {
    void *reply;             /* NULL until its reply arrived */
    char *cmd;               /* the RESP bytes, for a resend (owned) */
    size_t len;
    int node;                /* where it was last sent */
    int slot;                /* its key's slot; -1: any node */
    int redirects;           /* MOVED / ASK followed */
    int tries;               /* TRYAGAIN / CLUSTERDOWN retries */
    int internal;            /* ours, not the caller's: never handed back */
    int done;                /* handed back (kept until the entries before it go) */
    unsigned long next;      /* next seq awaiting a reply from the same node */
};

struct ctl_route_fifo {
    unsigned long head, tail;    /* seqs; CTL_ROUTE_NONE when empty */
};

struct ctl_route {
    struct ctl_route_ent *e;     /* e[seq - base] for base <= seq < end */
    size_t cap;
    unsigned long base, head, end;   /* head: the oldest not yet handed back */
    struct ctl_route_fifo *fifo;     /* one per node */
    int nfifo;
    void (*free_reply)(void *);
};

/* Empty queue; free_reply drops unclaimed replies. */
void ctl_route_init(struct ctl_route *q, void (*free_reply)(void *));
/* Free every entry (and its reply). */
void ctl_route_free(struct ctl_route *q);

/* A new entry sent to node, holding cmd (ownership moves here, also on
 * failure). Returns its seq, or CTL_ROUTE_NONE when out of memory. */
unsigned long ctl_route_add(struct ctl_route *q, int node, int internal, char *cmd, size_t len);
/* The entry of a live seq. */
struct ctl_route_ent *ctl_route_at(struct ctl_route *q, unsigned long seq);
/* seq was sent (again) to node: its reply comes after node's others. 0, or
 * -1 when out of memory. */
int ctl_route_send(struct ctl_route *q, unsigned long seq, int node);
/* The oldest entry awaiting a reply from node, taken off node's list (the
 * reply just read from node is its reply), or CTL_ROUTE_NONE. */
unsigned long ctl_route_take(struct ctl_route *q, int node);
/* The oldest caller's entry not yet handed back, or CTL_ROUTE_NONE. */
unsigned long ctl_route_head(struct ctl_route *q);
/* Hand back the head's reply (it must have one) and drop it, with the
 * internal entries before it that are answered. */
void *ctl_route_pop(struct ctl_route *q);
/* Entries appended and not yet handed back (internal ones included). */
unsigned long ctl_route_pending(const struct ctl_route *q);

#endif
