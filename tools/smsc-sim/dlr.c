/* dlr.c -- smsc-sim's delivery receipts: outcome, delay, the pending heap
 * and its timer, handing due receipts to the MO queue.
 *
 * For each part accepted with registered_delivery, one draw of an
 * xorshift64* PRNG seeded from --seed (a stream of its own, so receipts do
 * not change the fault choices) gives stat:UNDELIV with --dlr-undeliv-share,
 * stat:EXPIRED with --dlr-expired-share, else stat:DELIVRD; a second draw,
 * only when --dlr-delay-ms is a range, the delay. For a given seed the
 * outcomes of the first N receipts are therefore fixed, whatever the timing.
 * The receipt is encoded at once (deliver_sm, esm_class 0x04, the text of
 * smsc/dlr.c's sc_dlr_format plus up to 20 characters of the part's text,
 * receipted_message_id and message_state TLVs) and waits in a binary
 * min-heap by due time (ties in order of acceptance), at most
 * --dlr-max-pending of them, served by one timer: no per-receipt timer and
 * nothing blocks. When due it goes to the MO queue (mo.c), which sends it
 * within the windows to the session --dlr-bind says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/sc.h"
#include "dlr.h"
#include "mo.h"
#include "opts.h"
#include "stats.h"

struct sim_dlr {
    uint64_t due, order;         /* loop ms; order of acceptance */
    uint64_t accepted;           /* loop ms of the resp ROK */
    char sysid[16];
    unsigned conn;
    char msgid[SC_MSGID_MAX];
    uint16_t len;
    uint8_t pdu[];
};

static const char *const g_stat[SIM_DLR_NSTAT] = {"DELIVRD", "UNDELIV", "EXPIRED"};
/* SMPP 3.4 5.2.28 message_state: DELIVERED, UNDELIVERABLE, EXPIRED. */
static const uint8_t g_state[SIM_DLR_NSTAT] = {2, 5, 3};

void sim_dlr_init(struct sim_dlrs *d, uv_loop_t *loop, const struct sim_opts *o,
                  struct sim_stats *stats, struct sim_mos *mos)
{
    memset(d, 0, sizeof *d);
    d->loop = loop;
    d->o = o;
    d->stats = stats;
    d->mos = mos;
    d->rng = (o->load.seed ? o->load.seed : 1) ^ 0xD1B54A32D192ED03ULL;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
}

/* ---- the heap ------------------------------------------------------------------ */

static int before(const struct sim_dlr *a, const struct sim_dlr *b)
{
    return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_swap(struct sim_dlrs *d, size_t i, size_t j)
{
    struct sim_dlr *t = d->heap[i];
    d->heap[i] = d->heap[j];
    d->heap[j] = t;
}

static int heap_push(struct sim_dlrs *d, struct sim_dlr *r)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        struct sim_dlr **h = realloc(d->heap, cap * sizeof *h);
        if (!h)
            return SC_ENOMEM;
        d->heap = h;
        d->cap = cap;
    }
    size_t i = d->n++;
    d->heap[i] = r;
    while (i > 0 && before(d->heap[i], d->heap[(i - 1) / 2])) {
        heap_swap(d, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct sim_dlr *heap_pop(struct sim_dlrs *d)
{
    struct sim_dlr *top = d->heap[0];
    d->heap[0] = d->heap[--d->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < d->n && before(d->heap[l], d->heap[m]))
            m = l;
        if (l + 1 < d->n && before(d->heap[l + 1], d->heap[m]))
            m = l + 1;
        if (m == i)
            break;
        heap_swap(d, i, m);
        i = m;
    }
    return top;
}

/* ---- sending ------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

static void schedule(struct sim_dlrs *d)
{
    if (d->n == 0) {
        uv_timer_stop(&d->timer);
        return;
    }
    uint64_t now = uv_now(d->loop), due = d->heap[0]->due;
    uv_timer_start(&d->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    struct sim_dlrs *d = t->data;
    uint64_t now = uv_now(d->loop);
    struct sim_stats *s = d->stats;
    int sent = 0;
    while (d->n > 0 && d->heap[0]->due <= now) {
        struct sim_dlr *r = heap_pop(d);
        int rc = sim_mo_enqueue_dlr(d->mos, r->pdu, r->len, r->sysid, r->conn, d->o->r.bind);
        if (rc < 0) {
            s->total.dlr_dropped++;
            sc_warn("event=dlr_dropped message_id=%s reason=\"%s\"", r->msgid,
                    rc == SC_EBUSY ? "MO queue full" : sc_strerror(rc));
        } else {
            uint64_t took = now - r->accepted;
            if (d->sent++ == 0 || took < s->dlr_delay_min_ms)
                s->dlr_delay_min_ms = took;
            if (took > s->dlr_delay_max_ms)
                s->dlr_delay_max_ms = took;
            sent = 1;
        }
        free(r);
    }
    if (sent)
        sim_mo_pump(d->mos);
    schedule(d);
}

/* ---- deciding ------------------------------------------------------------------ */

/* The receipt's text: sc_dlr_format's, then up to 20 characters of the
 * part's text when it is printable ASCII in a one-octet coding. */
static size_t receipt_text(char *out, size_t cap, const struct sim_dlr_part *p, int stat,
                           uint32_t err, long done)
{
    size_t n = sc_dlr_format(out, cap, p->msgid, g_stat[stat], (int)err, p->submit_time, done);
    if (p->dc != 0 && p->dc != 1 && p->dc != 3)
        return n;
    for (size_t i = 0; i < p->len && i < 20 && n + 1 < cap; i++) {
        if (p->text[i] < 0x20 || p->text[i] > 0x7e)
            break;
        out[n++] = (char)p->text[i];
    }
    out[n] = '\0';
    return n;
}

/* Encode the receipt of p saying stat into buf. Length or negative SC_E*. */
static long encode(const struct sim_dlr_part *p, int stat, uint32_t err, long done,
                   uint8_t *buf, size_t cap)
{
    struct sc_sm *sm = calloc(1, sizeof *sm);
    if (!sm)
        return SC_ENOMEM;
    sm->cmd_id = SC_CMD_DELIVER_SM;
    sm->seq = 1; /* set when sent */
    sm->src = *p->dst;
    sm->dst = *p->src;
    sm->esm_class = 0x04;
    sm->data_coding = 0;
    char text[256];
    size_t n = receipt_text(text, sizeof text, p, stat, err, done);
    if (n > 160)
        n = 160;
    memcpy(sm->msg, text, n);
    sm->msg_len = (uint16_t)n;
    sc_strlcpy(sm->receipted_message_id, p->msgid, sizeof sm->receipted_message_id);
    sm->has_message_state = 1;
    sm->message_state = g_state[stat];
    long len = sc_pdu_encode_sm(sm, buf, cap);
    free(sm);
    return len;
}

/* The outcome (one draw) and the delay (a second, for a range). */
static int draw_stat(struct sim_dlrs *d)
{
    double u = (double)(sc_xorshift64s(&d->rng) % 1000000u);
    if (u < d->o->r.undeliv_pct * 10000.0)
        return SIM_DLR_UNDELIV;
    if (u < (d->o->r.undeliv_pct + d->o->r.expired_pct) * 10000.0)
        return SIM_DLR_EXPIRED;
    return SIM_DLR_DELIVRD;
}

static uint32_t draw_delay(struct sim_dlrs *d)
{
    uint32_t lo = d->o->r.delay_min_ms, hi = d->o->r.delay_max_ms;
    if (hi <= lo)
        return lo;
    return lo + (uint32_t)(sc_xorshift64s(&d->rng) % ((uint64_t)hi - lo + 1));
}

static void dropped(struct sim_dlrs *d, const struct sim_dlr_part *p, const char *why)
{
    p->st->c.dlr_dropped++;
    d->stats->total.dlr_dropped++;
    sc_warn("event=dlr_dropped session=%u message_id=%s reason=\"%s\"", p->conn, p->msgid, why);
}

void sim_dlr_accepted(struct sim_dlrs *d, const struct sim_dlr_part *p)
{
    unsigned rd = p->regdel & 3;
    if (!d->o->dlr || rd == 0)
        return;
    int stat = draw_stat(d);
    uint32_t delay = draw_delay(d);
    if (rd == 2 && stat == SIM_DLR_DELIVRD)
        return; /* a receipt on failure only */
    if (d->n >= d->o->r.max_pending) {
        dropped(d, p, "--dlr-max-pending reached");
        return;
    }
    uint32_t err = stat == SIM_DLR_UNDELIV   ? d->o->r.undeliv_err
                   : stat == SIM_DLR_EXPIRED ? d->o->r.expired_err
                                             : 0;
    uint8_t buf[1024];
    long len = encode(p, stat, err, (long)time(NULL) + (long)(delay / 1000), buf, sizeof buf);
    struct sim_dlr *r = len > 0 ? malloc(sizeof *r + (size_t)len) : NULL;
    if (!r) {
        dropped(d, p, len < 0 ? sc_strerror((int)len) : "out of memory");
        return;
    }
    uint64_t now = uv_now(d->loop);
    r->accepted = now;
    r->due = now + delay;
    r->order = d->order++;
    sc_strlcpy(r->sysid, p->st->system_id, sizeof r->sysid);
    sc_strlcpy(r->msgid, p->msgid, sizeof r->msgid);
    r->conn = p->conn;
    r->len = (uint16_t)len;
    memcpy(r->pdu, buf, (size_t)len);
    if (heap_push(d, r) < 0) {
        free(r);
        dropped(d, p, "out of memory");
        return;
    }
    p->st->c.dlr_scheduled++;
    d->stats->total.dlr_scheduled++;
    p->st->c.dlr_stat[stat]++;
    d->stats->total.dlr_stat[stat]++;
    sc_debug("event=dlr_scheduled session=%u message_id=%s stat=%s err=%u delay_ms=%u", p->conn,
             p->msgid, g_stat[stat], err, delay);
    if (d->heap[0] == r && !d->stopping)
        schedule(d);
}

size_t sim_dlr_pending(const struct sim_dlrs *d)
{
    return d->n;
}

void sim_dlr_stop(struct sim_dlrs *d)
{
    d->stopping = 1;
    uv_timer_stop(&d->timer);
}

void sim_dlr_free(struct sim_dlrs *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->heap[i]);
    free(d->heap);
    d->heap = NULL;
    d->n = d->cap = 0;
}
