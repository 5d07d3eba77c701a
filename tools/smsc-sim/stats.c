/* stats.c -- smsc-sim's counters: status maps, the 1-second sliding window
 * and the JSON stats file (--stats FILE, written at exit and on SIGUSR1).
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
#include "sim.h"

#define SESS_STATS_KEEP 1024     /* per-session records kept, open ones always */

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
            free(old);
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
        free(st);
        st = next;
    }
    sim->sess_head = sim->sess_tail = NULL;
    sim->nsess_stats = 0;
}

/* ---- JSON ------------------------------------------------------------------ */

/* A JSON string: quotes, backslashes and every byte outside printable ASCII
 * escaped (a system_id is whatever the peer sent; bytes >= 0x80 are shown as
 * Latin-1 code points, so the output is always valid UTF-8 JSON). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7F)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_statmap(FILE *f, const struct sim_statmap *m)
{
    char b[16];
    fputc('{', f);
    for (unsigned i = 0; i < m->n; i++) {
        if (i)
            fputs(", ", f);
        json_str(f, sim_status_name(m->e[i].status, b, sizeof b));
        fprintf(f, ": %llu", (unsigned long long)m->e[i].count);
    }
    fputc('}', f);
}

static void json_u(FILE *f, const char *ind, const char *key, uint64_t v)
{
    fprintf(f, "%s\"%s\": %llu,\n", ind, key, (unsigned long long)v);
}

/* The counters shared by the totals and each session; ends with a comma. */
static void json_counters(FILE *f, const char *ind, const struct sim_counters *c)
{
    json_u(f, ind, "submit_sm_received", c->submit_sm_received);
    json_u(f, ind, "data_sm_received", c->data_sm_received);
    json_u(f, ind, "submit_sm_rejected", c->submit_sm_rejected);
    json_u(f, ind, "throttled", c->submit_sm_throttled);
    json_u(f, ind, "outstanding", c->submit_sm_outstanding);
    json_u(f, ind, "max_outstanding", c->submit_sm_max_outstanding);
    json_u(f, ind, "max_submit_per_s", c->rate.max);
    json_u(f, ind, "mt_parts_accepted", c->mt_parts_accepted);
    json_u(f, ind, "mt_messages", c->mt_messages);
    json_u(f, ind, "mt_bad_udh", c->mt_bad_udh);
    json_u(f, ind, "mt_reasm_errors", c->mt_reasm_errors);
    json_u(f, ind, "dlr_sent", c->dlr_sent);
    fprintf(f, "%s\"dlr_status\": ", ind);
    json_statmap(f, &c->dlr_status);
    fputs(",\n", f);
    json_u(f, ind, "enquire_link_received", c->enquire_link_received);
    json_u(f, ind, "enquire_link_sent", c->enquire_link_sent);
    json_u(f, ind, "enquire_link_resp_received", c->enquire_link_resp_received);
    json_u(f, ind, "binds_accepted", c->binds_accepted);
    json_u(f, ind, "binds_refused", c->binds_refused);
    json_u(f, ind, "unbind_received", c->unbinds_received);
    json_u(f, ind, "unbind_sent", c->unbinds_sent);
    json_u(f, ind, "invalid_commands", c->invalid_commands);
    json_u(f, ind, "mo_parts_sent", c->mo_parts_sent);
    json_u(f, ind, "mo_redelivered", c->mo_redelivered);
    fprintf(f, "%s\"mo_part_status\": ", ind);
    json_statmap(f, &c->mo_part_status);
    fputs(",\n", f);
}

static void write_json(struct sim *sim, FILE *f)
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

    fputs("{\n", f);
    json_u(f, "  ", "listen_port", (uint64_t)sim->port);
    json_u(f, "  ", "uptime_ms", uv_now(sim->loop) - sim->start_ms);
    json_u(f, "  ", "sessions_accepted", sim->sessions_accepted);
    json_u(f, "  ", "sessions_refused", sim->sessions_refused);
    json_u(f, "  ", "sessions_open", sim->nconns);
    json_u(f, "  ", "sessions_bound", bound);
    json_counters(f, "  ", &t);
    json_u(f, "  ", "mo_sent", sim->mo_sent);
    json_u(f, "  ", "mo_queued", sim->mq_len);
    fputs("  \"mo_status\": ", f);
    json_statmap(f, &sim->mo_status);
    fputs(",\n", f);
    json_u(f, "  ", "mt_dropped", sim->mt_dropped);
    fputs("  \"faults\": ", f);
    sim_fault_json(sim, f);
    fputs(",\n", f);
    fputs("  \"sessions\": [", f);
    int first = 1;
    for (struct sim_sess_stats *st = sim->sess_head; st; st = st->next) {
        fputs(first ? "\n    {\n" : ",\n    {\n", f);
        first = 0;
        json_u(f, "      ", "id", st->id);
        fputs("      \"peer\": ", f);
        json_str(f, st->peer);
        fputs(",\n      \"system_id\": ", f);
        json_str(f, st->system_id);
        fputs(",\n      \"bind\": ", f);
        if (st->bind)
            json_str(f, st->bind);
        else
            fputs("null", f);
        fprintf(f, ",\n      \"open\": %s,\n", st->open ? "true" : "false");
        json_counters(f, "      ", &st->c);
        fprintf(f, "      \"closed\": %s\n    }", st->open ? "false" : "true");
    }
    fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
}

int sim_stats_write(struct sim *sim)
{
    if (!sim->o.stats_file)
        return 0;
    size_t n = strlen(sim->o.stats_file) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return SC_ENOMEM;
    snprintf(tmp, n, "%s.tmp", sim->o.stats_file);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f) {
        rc = SC_EIO;
    } else {
        write_json(sim, f);
        if (ferror(f))
            rc = SC_EIO;
        if (fclose(f) != 0)
            rc = SC_EIO;
        if (rc == 0 && rename(tmp, sim->o.stats_file) != 0)
            rc = SC_EIO;
    }
    if (rc < 0) {
        char q[256];
        sc_error("event=stats_write_failed file=%s",
                 sc_log_quote(q, sizeof q, sim->o.stats_file, strlen(sim->o.stats_file)));
        remove(tmp);
    } else {
        sc_info("event=stats_written sessions=%u submit_sm=%llu mo=%llu", sim->nconns,
                (unsigned long long)sim->total.submit_sm_received,
                (unsigned long long)sim->mo_sent);
    }
    free(tmp);
    return rc;
}
