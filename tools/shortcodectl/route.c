/* route.c -- the cluster pipeline's order bookkeeping (see route.h). */
#include "route.h"

#include <stdlib.h>
#include <string.h>

void ctl_route_init(struct ctl_route *q, void (*freefn)(void *))
{
    memset(q, 0, sizeof *q);
    q->free_reply = freefn;
}

static void drop(struct ctl_route *q, struct ctl_route_ent *e)
{
    if (e->reply && q->free_reply)
        q->free_reply(e->reply);
    free(e->cmd);
    memset(e, 0, sizeof *e);
}

void ctl_route_free(struct ctl_route *q)
{
    for (unsigned long s = q->head; s < q->end; s++)
        drop(q, &q->e[s - q->base]);
    free(q->e);
    free(q->fifo);
    ctl_route_init(q, q->free_reply);
}

struct ctl_route_ent *ctl_route_at(struct ctl_route *q, unsigned long seq)
{
    return &q->e[seq - q->base];
}

/* Room for one more entry: drop the handed-back prefix, else grow. */
static int reserve(struct ctl_route *q)
{
    if (q->end - q->base < q->cap)
        return 0;
    if (q->head - q->base >= q->cap / 2 && q->head > q->base) {
        memmove(q->e, &q->e[q->head - q->base], (q->end - q->head) * sizeof *q->e);
        q->base = q->head;
        return 0;
    }
    size_t cap = q->cap ? 2 * q->cap : 256;
    struct ctl_route_ent *e = realloc(q->e, cap * sizeof *e);
    if (!e)
        return -1;
    q->e = e;
    q->cap = cap;
    return 0;
}

static int fifo_for(struct ctl_route *q, int node)
{
    if (node < q->nfifo)
        return 0;
    struct ctl_route_fifo *f = realloc(q->fifo, (size_t)(node + 1) * sizeof *f);
    if (!f)
        return -1;
    for (int i = q->nfifo; i <= node; i++)
        f[i].head = f[i].tail = CTL_ROUTE_NONE;
    q->fifo = f;
    q->nfifo = node + 1;
    return 0;
}

int ctl_route_send(struct ctl_route *q, unsigned long seq, int node)
{
    if (node < 0 || fifo_for(q, node) < 0)
        return -1;
    struct ctl_route_fifo *f = &q->fifo[node];
    struct ctl_route_ent *e = ctl_route_at(q, seq);
    e->node = node;
    e->next = CTL_ROUTE_NONE;
    if (f->tail == CTL_ROUTE_NONE)
        f->head = seq;
    else
        ctl_route_at(q, f->tail)->next = seq;
    f->tail = seq;
    return 0;
}

unsigned long ctl_route_add(struct ctl_route *q, int node, int internal, char *cmd, size_t len)
{
    if (reserve(q) < 0 || fifo_for(q, node) < 0) {
        free(cmd);
        return CTL_ROUTE_NONE;
    }
    unsigned long seq = q->end++;
    struct ctl_route_ent *e = ctl_route_at(q, seq);
    memset(e, 0, sizeof *e);
    e->cmd = cmd;
    e->len = len;
    e->internal = internal;
    ctl_route_send(q, seq, node);
    return seq;
}

unsigned long ctl_route_take(struct ctl_route *q, int node)
{
    if (node < 0 || node >= q->nfifo || q->fifo[node].head == CTL_ROUTE_NONE)
        return CTL_ROUTE_NONE;
    struct ctl_route_fifo *f = &q->fifo[node];
    unsigned long seq = f->head;
    f->head = ctl_route_at(q, seq)->next;
    if (f->head == CTL_ROUTE_NONE)
        f->tail = CTL_ROUTE_NONE;
    return seq;
}

unsigned long ctl_route_head(struct ctl_route *q)
{
    for (unsigned long s = q->head; s < q->end; s++)
        if (!ctl_route_at(q, s)->internal && !ctl_route_at(q, s)->done)
            return s;
    return CTL_ROUTE_NONE;
}

void *ctl_route_pop(struct ctl_route *q)
{
    unsigned long h = ctl_route_head(q);
    if (h == CTL_ROUTE_NONE)
        return NULL;
    struct ctl_route_ent *e = ctl_route_at(q, h);
    void *rep = e->reply;
    e->reply = NULL;
    drop(q, e);
    e->done = 1;
    while (q->head < q->end) {
        struct ctl_route_ent *x = ctl_route_at(q, q->head);
        if (!x->done && !(x->internal && x->reply))
            break;
        drop(q, x);
        q->head++;
    }
    return rep;
}

unsigned long ctl_route_pending(const struct ctl_route *q)
{
    return q->end - q->head;
}
