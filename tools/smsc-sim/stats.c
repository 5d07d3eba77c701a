/* stats.c -- smsc-sim's counters: status maps, status names, the 1-second
 * sliding window and the bounded list of per-session records.
 *
 * The sliding window keeps one slot per millisecond of the last second and
 * a running sum, so every event costs O(1) amortised and the maximum is
 * exact to the millisecond of the loop clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "smsc/pdu.h"
#include "stats.h"

#define SESS_STATS_KEEP 1024     /* per-session records kept, open ones always */
#define SIM_SUBMIT_MS_MAX 200000 /* arrival times kept per session (1.6 MB) */

void sim_statmap_add(struct sim_statmap *m, int64_t status)
{
    for (unsigned i = 0; i < m->n; i++) {
        if (m->e[i].status == status) {
            m->e[i].count++;
            return;
        }
    }
    if (m->n < SIM_STATMAP_MAX - 1) {
        m->e[m->n].status = status;
        m->e[m->n].count = 1;
        m->n++;
        return;
    }
    /* A peer answering with very many distinct statuses: the last entry
     * counts the rest as "other" rather than growing without bound. */
    if (m->n == SIM_STATMAP_MAX - 1) {
        m->e[m->n].status = SIM_ST_OTHER;
        m->e[m->n].count = 0;
        m->n++;
    }
    m->e[SIM_STATMAP_MAX - 1].count++;
}

void sim_srcmap_add(struct sim_srcmap *m, const char *addr)
{
    unsigned named = m->n < SIM_SRCMAP_MAX ? m->n : SIM_SRCMAP_MAX - 1;
    for (unsigned i = 0; i < named; i++) {
        if (strcmp(m->e[i].addr, addr) == 0) {
            m->e[i].count++;
            return;
        }
    }
    if (m->n < SIM_SRCMAP_MAX - 1) {
        sc_strlcpy(m->e[m->n].addr, addr, sizeof m->e[m->n].addr);
        m->e[m->n++].count = 1;
        return;
    }
    if (m->n == SIM_SRCMAP_MAX - 1) {  /* "other": as in sim_statmap_add */
        m->e[m->n].addr[0] = '\0';
        m->e[m->n++].count = 0;
    }
    m->e[SIM_SRCMAP_MAX - 1].count++;
}

void sim_stats_submit_decoded(struct sim_stats *s, struct sim_sess_stats *st, const char *src,
                              uint8_t dc)
{
    sim_srcmap_add(&st->c.submit_by_source, src);
    sim_srcmap_add(&s->total.submit_by_source, src);
    st->c.submit_by_dc[dc]++;
    s->total.submit_by_dc[dc]++;
}

const char *sim_status_name(int64_t st, char *buf, size_t bufsz)
{
    switch (st) {
    case SIM_ST_TIMEOUT: return "timeout";
    case SIM_ST_CLOSED: return "closed";
    case SIM_ST_SHUTDOWN: return "shutdown";
    case SIM_ST_OTHER: return "other";
    default: break;
    }
    const char *n = sc_pdu_status_name((uint32_t)st);
    if (strcmp(n, "unknown") == 0) {
        snprintf(buf, bufsz, "0x%08X", (unsigned)st);
        return buf;
    }
    return n;
}

void sim_rate_hit(struct sim_rate *r, uint64_t now_ms)
{
    if (!r->started) {
        r->started = 1;
        r->last_ms = now_ms;
    }
    if (now_ms > r->last_ms) {
        uint64_t steps = now_ms - r->last_ms;
        if (steps >= SIM_RATE_SLOTS) {
            memset(r->slot, 0, sizeof r->slot);
            r->sum = 0;
        } else {
            for (uint64_t t = r->last_ms + 1; t <= now_ms; t++) {
                uint32_t *s = &r->slot[t % SIM_RATE_SLOTS];
                r->sum -= *s;
                *s = 0;
            }
        }
        r->last_ms = now_ms;
    }
    /* A clock that went back (cannot happen with uv_now) counts in the
     * current slot. */
    r->slot[r->last_ms % SIM_RATE_SLOTS]++;
    r->sum++;
    if (r->sum > r->max)
        r->max = r->sum;
}

void sim_stats_submit_arrival(struct sim_stats *s, struct sim_sess_stats *st, uint64_t now_ms)
{
    if (st->nsubmit_ms == st->submit_ms_cap) {
        size_t cap = st->submit_ms_cap ? st->submit_ms_cap * 2 : 256;
        if (cap > SIM_SUBMIT_MS_MAX)
            cap = SIM_SUBMIT_MS_MAX;
        if (cap == st->submit_ms_cap)
            return;
        uint64_t *t = realloc(st->submit_ms, cap * sizeof *t);
        if (!t)
            return;
        st->submit_ms = t;
        st->submit_ms_cap = cap;
    }
    st->submit_ms[st->nsubmit_ms++] = now_ms - s->start_ms;
}

static void session_stats_free(struct sim_sess_stats *st)
{
    free(st->submit_ms);
    free(st);
}

struct sim_sess_stats *sim_stats_session_new(struct sim_stats *s, unsigned id)
{
    struct sim_sess_stats *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->id = id;
    st->open = 1;
    if (s->sess_tail)
        s->sess_tail->next = st;
    else
        s->sess_head = st;
    s->sess_tail = st;
    s->nsess++;
    /* Beyond the bound, forget the oldest closed session. */
    if (s->nsess > SESS_STATS_KEEP) {
        struct sim_sess_stats **pp = &s->sess_head, *prev = NULL;
        while (*pp && (*pp)->open) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            struct sim_sess_stats *old = *pp;
            *pp = old->next;
            if (s->sess_tail == old)
                s->sess_tail = prev;
            session_stats_free(old);
            s->nsess--;
        }
    }
    return st;
}

void sim_stats_free(struct sim_stats *s)
{
    struct sim_sess_stats *st = s->sess_head;
    while (st) {
        struct sim_sess_stats *next = st->next;
        session_stats_free(st);
        st = next;
    }
    s->sess_head = s->sess_tail = NULL;
    s->nsess = 0;
}

struct sim_acct *sim_stats_acct(struct sim_stats *s, const char *system_id)
{
    for (unsigned i = 0; i < s->nacct; i++)
        if (strcmp(s->acct[i].system_id, system_id) == 0)
            return &s->acct[i];
    if (s->nacct == SIM_ACCT_MAX)
        return NULL;
    struct sim_acct *a = &s->acct[s->nacct++];
    sc_strlcpy(a->system_id, system_id, sizeof a->system_id);
    return a;
}
