/* statsfile.c -- smsc-sim's --stats FILE: every counter as JSON, written at
 * exit and on SIGUSR1 through jsonout.c (FILE.tmp, then renamed). */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "jsonout.h"
#include "sim.h"
#include "statsfile.h"

/* {"10086": n, ...}; the last entry of a full map is "(other)". Keys go
 * through sim_json_text, so bytes that are not UTF-8 stay valid JSON. */
static json_t *json_srcmap(const struct sim_srcmap *m)
{
    json_t *o = json_object();
    for (unsigned i = 0; o && i < m->n; i++) {
        int other = i == SIM_SRCMAP_MAX - 1;
        json_t *k = sim_json_text(other ? "(other)" : m->e[i].addr);
        if (k)
            json_object_set_new(o, json_string_value(k), sim_json_u64(m->e[i].count));
        json_decref(k);
    }
    return o;
}

/* {"0": n, "8": n, ...}: the data_codings seen. */
static json_t *json_by_dc(const uint64_t by[256])
{
    json_t *o = json_object();
    for (unsigned dc = 0; o && dc < 256; dc++) {
        char k[4];
        if (!by[dc])
            continue;
        snprintf(k, sizeof k, "%u", dc);
        json_object_set_new(o, k, sim_json_u64(by[dc]));
    }
    return o;
}

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
    U("dlr_scheduled", c->dlr_scheduled);
    U("dlr_dropped", c->dlr_dropped);
    json_t *ds = json_object();
    json_object_set_new(o, "dlr_stat", ds);
    if (ds) {
        json_object_set_new(ds, "DELIVRD", sim_json_u64(c->dlr_stat[SIM_DLR_DELIVRD]));
        json_object_set_new(ds, "UNDELIV", sim_json_u64(c->dlr_stat[SIM_DLR_UNDELIV]));
        json_object_set_new(ds, "EXPIRED", sim_json_u64(c->dlr_stat[SIM_DLR_EXPIRED]));
    }
    json_object_set_new(o, "submit_by_source", json_srcmap(&c->submit_by_source));
    json_object_set_new(o, "submit_by_data_coding", json_by_dc(c->submit_by_dc));
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
    const struct sim_stats *ss = &sim->stats;
    struct sim_counters t = ss->total;
    /* Open sessions: their enquire_link counters live in the session. */
    sim_server_sync_stats(&sim->srv);
    for (const struct sim_conn *c = sim->srv.conns.head; c; c = c->next) {
        t.enquire_link_received += c->st->c.enquire_link_received;
        t.enquire_link_sent += c->st->c.enquire_link_sent;
        t.enquire_link_resp_received += c->st->c.enquire_link_resp_received;
    }
    unsigned bound = 0;
    for (const struct sim_conn *c = sim->srv.conns.head; c; c = c->next)
        bound += c->rx || c->tx;

    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "listen_port", json_integer(sim->srv.port));
    json_object_set_new(o, "uptime_ms", sim_json_u64(uv_now(sim->loop) - sim->start_ms));
    json_object_set_new(o, "sessions_accepted", sim_json_u64(ss->sessions_accepted));
    json_object_set_new(o, "sessions_refused", sim_json_u64(ss->sessions_refused));
    json_object_set_new(o, "sessions_open", sim_json_u64(sim->srv.conns.n));
    json_object_set_new(o, "sessions_bound", sim_json_u64(bound));
    json_counters(o, &t);
    json_object_set_new(o, "mo_sent", sim_json_u64(ss->mo_sent));
    json_object_set_new(o, "mo_queued", sim_json_u64(sim_mo_queued(&sim->mos)));
    json_object_set_new(o, "mo_status", sim_json_statmap(&ss->mo_status));
    json_object_set_new(o, "mt_dropped", sim_json_u64(ss->mt_dropped));
    json_object_set_new(o, "dlr_pending", sim_json_u64(sim_dlr_pending(&sim->srv.dlrs)));
    json_object_set_new(o, "dlr_fallback", sim_json_u64(ss->dlr_fallback));
    json_object_set_new(o, "dlr_delay_min_ms", sim_json_u64(ss->dlr_delay_min_ms));
    json_object_set_new(o, "dlr_delay_max_ms", sim_json_u64(ss->dlr_delay_max_ms));
    json_object_set_new(o, "faults",
                        sim_fault_json(&sim->faults, sim_mo_redelivery_pending(&sim->mos)));
    json_t *acct = json_object();
    json_object_set_new(o, "accounts", acct);
    for (unsigned i = 0; acct && i < ss->nacct; i++) {
        json_t *a = json_object();
        json_t *k = sim_json_text(ss->acct[i].system_id);
        if (a && k) {
            json_object_set_new(a, "bound_now", sim_json_u64(ss->acct[i].now));
            json_object_set_new(a, "bound_max", sim_json_u64(ss->acct[i].max));
            json_object_set_new(a, "refused_max_binds", sim_json_u64(ss->acct[i].refused));
            json_object_set_new(acct, json_string_value(k), a);
        } else {
            json_decref(a);
        }
        json_decref(k);
    }
    json_t *arr = json_array();
    json_object_set_new(o, "sessions", arr);
    for (struct sim_sess_stats *st = ss->sess_head; arr && st; st = st->next) {
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
        sc_info("event=stats_written sessions=%u submit_sm=%llu mo=%llu", sim->srv.conns.n,
                (unsigned long long)sim->stats.total.submit_sm_received,
                (unsigned long long)sim->stats.mo_sent);
    }
    return rc;
}
