/* stats.c -- smsc-sim's counters: status maps, the 1-second sliding window
 * and the JSON stats file (--stats FILE, written at exit and on SIGUSR1,
 * through jsonout.c).
 *
 * The sliding window keeps one slot per millisecond of the last second and
 * a running sum, so every event costs O(1) amortised and the maximum is
 * exact to the millisecond of the loop clock. enquire_link PDUs are handled
 * inside the session layer, which counts them (sc_session_enquire_link_counts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "jsonout.h"
#include "sim.h"

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

void sim_stats_submit_arrival(struct sim *sim, struct sim_sess_stats *st, uint64_t now_ms)
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
    st->submit_ms[st->nsubmit_ms++] = now_ms - sim->start_ms;
}

static void session_stats_free(struct sim_sess_stats *st)
{
    free(st->submit_ms);
    free(st);
}

struct sim_sess_stats *sim_stats_session_new(struct sim *sim, unsigned id)
{
    struct sim_sess_stats *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->id = id;
    st->open = 1;
    if (sim->sess_tail)
        sim->sess_tail->next = st;
    else
        sim->sess_head = st;
    sim->sess_tail = st;
    sim->nsess_stats++;
    /* Beyond the bound, forget the oldest closed session. */
    if (sim->nsess_stats > SESS_STATS_KEEP) {
        struct sim_sess_stats **pp = &sim->sess_head, *prev = NULL;
        while (*pp && (*pp)->open) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            struct sim_sess_stats *old = *pp;
            *pp = old->next;
            if (sim->sess_tail == old)
                sim->sess_tail = prev;
            session_stats_free(old);
            sim->nsess_stats--;
        }
    }
    return st;
}

void sim_stats_sync_session(struct sim_conn *c)
{
    if (!c->s)
        return;
    sc_session_enquire_link_counts(c->s, &c->st->c.enquire_link_received,
                                   &c->st->c.enquire_link_sent,
                                   &c->st->c.enquire_link_resp_received);
}

void sim_stats_free(struct sim *sim)
{
    struct sim_sess_stats *st = sim->sess_head;
    while (st) {
        struct sim_sess_stats *next = st->next;
        session_stats_free(st);
        st = next;
    }
    sim->sess_head = sim->sess_tail = NULL;
    sim->nsess_stats = 0;
}

/* ---- JSON ------------------------------------------------------------------ */

/* The counters shared by the totals and each session, added to o. */
static void json_counters(json_t *o, const struct sim_counters *c)
{
#define U(k, v) json_object_set_new(o, k, sim_json_u64(v))
    U("submit_sm_received", c->submit_sm_received);
    U("data_sm_received", c->data_sm_received);
    U("submit_sm_rejected", c->submit_sm_rejected);
    U("throttled", c->submit_sm_throttled);
    U("outstanding", c->submit_sm_outstanding);
    U("max_outstanding", c->submit_sm_max_outstanding);
    U("max_submit_per_s", c->rate.max);
    U("mt_parts_accepted", c->mt_parts_accepted);
    U("mt_messages", c->mt_messages);
    U("mt_bad_udh", c->mt_bad_udh);
    U("mt_reasm_errors", c->mt_reasm_errors);
    U("dlr_sent", c->dlr_sent);
    json_object_set_new(o, "dlr_status", sim_json_statmap(&c->dlr_status));
    U("enquire_link_received", c->enquire_link_received);
    U("enquire_link_sent", c->enquire_link_sent);
    U("enquire_link_resp_received", c->enquire_link_resp_received);
    U("binds_accepted", c->binds_accepted);
    U("binds_refused", c->binds_refused);
    U("unbind_received", c->unbinds_received);
    U("unbind_sent", c->unbinds_sent);
    U("invalid_commands", c->invalid_commands);
    U("mo_parts_sent", c->mo_parts_sent);
    U("mo_redelivered", c->mo_redelivered);
    json_object_set_new(o, "mo_part_status", sim_json_statmap(&c->mo_part_status));
#undef U
}

static json_t *stats_json(struct sim *sim)
{
    struct sim_counters t = sim->total;
    /* Open sessions: their enquire_link counters live in the session. */
    for (struct sim_conn *c = sim->conns; c; c = c->next) {
        sim_stats_sync_session(c);
        t.enquire_link_received += c->st->c.enquire_link_received;
        t.enquire_link_sent += c->st->c.enquire_link_sent;
        t.enquire_link_resp_received += c->st->c.enquire_link_resp_received;
    }
    unsigned bound = 0;
    for (struct sim_conn *c = sim->conns; c; c = c->next)
        bound += c->rx || c->tx;

    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "listen_port", json_integer(sim->port));
    json_object_set_new(o, "uptime_ms", sim_json_u64(uv_now(sim->loop) - sim->start_ms));
    json_object_set_new(o, "sessions_accepted", sim_json_u64(sim->sessions_accepted));
    json_object_set_new(o, "sessions_refused", sim_json_u64(sim->sessions_refused));
    json_object_set_new(o, "sessions_open", sim_json_u64(sim->nconns));
    json_object_set_new(o, "sessions_bound", sim_json_u64(bound));
    json_counters(o, &t);
    json_object_set_new(o, "mo_sent", sim_json_u64(sim->mo_sent));
    json_object_set_new(o, "mo_queued", sim_json_u64(sim->mq_len));
    json_object_set_new(o, "mo_status", sim_json_statmap(&sim->mo_status));
    json_object_set_new(o, "mt_dropped", sim_json_u64(sim->mt_dropped));
    json_object_set_new(o, "faults", sim_fault_json(sim));
    json_t *arr = json_array();
    json_object_set_new(o, "sessions", arr);
    for (struct sim_sess_stats *st = sim->sess_head; arr && st; st = st->next) {
        json_t *s = json_object();
        if (!s)
            break;
        json_object_set_new(s, "id", sim_json_u64(st->id));
        json_object_set_new(s, "peer", sim_json_text(st->peer));
        json_object_set_new(s, "system_id", sim_json_text(st->system_id));
        json_object_set_new(s, "bind", sim_json_text(st->bind));
        json_object_set_new(s, "open", json_boolean(st->open));
        json_counters(s, &st->c);
        json_t *times = json_array();
        for (size_t i = 0; times && i < st->nsubmit_ms; i++)
            json_array_append_new(times, sim_json_u64(st->submit_ms[i]));
        json_object_set_new(s, "submit_ms", times);
        json_object_set_new(s, "closed", json_boolean(!st->open));
        json_array_append_new(arr, s);
    }
    return o;
}

int sim_stats_write(struct sim *sim)
{
    if (!sim->o.stats_file)
        return 0;
    int rc = sim_json_write(sim->o.stats_file, stats_json(sim));
    if (rc < 0) {
        char q[256];
        sc_error("event=stats_write_failed file=%s",
                 sc_log_quote(q, sizeof q, sim->o.stats_file, strlen(sim->o.stats_file)));
    } else {
        sc_info("event=stats_written sessions=%u submit_sm=%llu mo=%llu", sim->nconns,
                (unsigned long long)sim->total.submit_sm_received,
                (unsigned long long)sim->mo_sent);
    }
    return rc;
}
