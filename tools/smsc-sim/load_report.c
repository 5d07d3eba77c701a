/* load_report.c -- load mode's report: the summary on stdout and every
 * figure as JSON (--json FILE, the contract in docs/simulator.md). It reads
 * what load.c measured and owns nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sc.h"
#include "env.h"
#include "faults.h"
#include "hist.h"
#include "jsonout.h"
#include "load.h"
#include "load_int.h"
#include "mo.h"
#include "opts.h"
#include "server.h"
#include "stats.h"

uint64_t sim__load_errors(const struct sim_load *l)
{
    return l->err_status_n + l->missing + l->wrong + l->unexpected;
}


/* "1.23ms" / "850us" / "2.5s" into buf. */
const char *sim__load_fmt_us(char *buf, size_t sz, uint64_t us)
{
    if (us >= 1000000)
        snprintf(buf, sz, "%.2fs", (double)us / 1e6);
    else if (us >= 1000)
        snprintf(buf, sz, "%.2fms", (double)us / 1e3);
    else
        snprintf(buf, sz, "%lluus", (unsigned long long)us);
    return buf;
}

/* ---- report ------------------------------------------------------------------------------ */

/* x >= 0 rounded to 1/scale (the report's figures keep the digits they had;
 * no libm for one rounding). */
static double round1(double x, double scale)
{
    return x > 0 ? (double)(uint64_t)(x * scale + 0.5) / scale : 0.0;
}

static json_t *json_lat(const struct sim_hist *h)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "count", sim_json_u64(h->total));
    json_object_set_new(o, "min", sim_json_u64(h->total ? h->min : 0));
    json_object_set_new(o, "mean", json_real(round1(sim_hist_mean(h), 10)));
    json_object_set_new(o, "p50", sim_json_u64(sim_hist_percentile(h, 50)));
    json_object_set_new(o, "p90", sim_json_u64(sim_hist_percentile(h, 90)));
    json_object_set_new(o, "p99", sim_json_u64(sim_hist_percentile(h, 99)));
    json_object_set_new(o, "p99_9", sim_json_u64(sim_hist_percentile(h, 99.9)));
    json_object_set_new(o, "max", sim_json_u64(h->max));
    return o;
}

static uint64_t series_max(const struct sim_load *l)
{
    uint64_t m = 0;
    for (size_t i = 0; i < l->nseries; i++)
        if (l->series[i] > m)
            m = l->series[i];
    return m;
}

static json_t *json_options(const struct sim_load *l)
{
    const struct sim_env *env = l->env;
    json_t *o = json_object(), *mix = json_object();
    if (!o || !mix) {
        json_decref(o);
        json_decref(mix);
        return NULL;
    }
    json_object_set_new(o, "subscribers", sim_json_u64(l->o.subscribers));
    json_object_set_new(o, "from", sim_json_text(env->o->from));
    json_object_set_new(o, "to", sim_json_text(env->o->to));
    for (int i = 0; i < SIM_SCN_N; i++)
        json_object_set_new(mix, sim_scn_name[i], sim_json_u64(l->o.mix[i]));
    json_object_set_new(o, "mix", mix);
    json_object_set_new(o, "ucs2_share", sim_json_u64(l->o.ucs2_pct));
    json_object_set_new(o, "datasm_share", sim_json_u64(l->o.datasm_pct));
    json_object_set_new(o, "rate", sim_json_u64(l->o.rate));
    json_object_set_new(o, "mo_window", sim_json_u64(env->o->window));
    json_object_set_new(o, "count", sim_json_u64(l->o.count));
    json_object_set_new(o, "duration_ms", sim_json_u64(l->o.duration_ms));
    json_object_set_new(o, "reply_timeout_ms", sim_json_u64(l->o.reply_timeout_ms));
    json_object_set_new(o, "binds", sim_json_u64(l->o.binds));
    json_object_set_new(o, "templates", json_boolean(!l->o.pack_each));
    json_object_set_new(o, "throttle_every", sim_json_u64(env->o->throttle_every));
    return o;
}

json_t *sim__load_json(struct sim_load *l, int interrupted)
{
    struct sim_env *env = l->env;
    double cpu = l->cpu_user + l->cpu_sys;
    json_t *o = json_object();
    if (!o)
        return NULL;
#define SET(k, v) json_object_set_new(o, k, v)
    SET("mode", json_string("load"));
    SET("completed", json_boolean(!interrupted));
    SET("exit_status", json_integer(l->exit_status));
    SET("options", json_options(l));
    SET("sessions", sim_json_u64(sim_server_rx_bound(env->srv)));
    SET("elapsed_s", json_real(round1(l->elapsed_s, 1000)));
    SET("sent", sim_json_u64(l->sent));
    SET("done", sim_json_u64(l->done));
    SET("ok", sim_json_u64(l->ok));
    SET("sent_ucs2", sim_json_u64(l->sent_ucs2));
    SET("sent_data_sm", sim_json_u64(l->sent_datasm));
    json_t *scn = json_object();
    SET("scenarios", scn);
    for (int i = 0; scn && i < SIM_SCN_N; i++) {
        json_t *e = json_object();
        if (!e)
            break;
        json_object_set_new(e, "started", sim_json_u64(l->sent_scn[i]));
        json_object_set_new(e, "completed", sim_json_u64(l->done_scn[i]));
        json_object_set_new(e, "latency_us", json_lat(l->h_scn[i]));
        json_object_set_new(scn, sim_scn_name[i], e);
    }
    SET("latency_us", json_lat(l->h));
    SET("ack_latency_us", json_lat(l->h_ack));
    SET("mo_resp_status", sim_json_statmap(&l->resp_status));
    json_t *err = json_object();
    if (err) {
        json_object_set_new(err, "total", sim_json_u64(sim__load_errors(l)));
        json_object_set_new(err, "mo_status", sim_json_statmap(&l->err_status));
        json_object_set_new(err, "missing_reply", sim_json_u64(l->missing));
        json_object_set_new(err, "reply_lost", sim_json_u64(l->reply_lost));
        json_object_set_new(err, "wrong_reply", sim_json_u64(l->wrong));
        json_object_set_new(err, "unexpected_reply", sim_json_u64(l->unexpected));
        json_object_set_new(err, "throttled",
                            sim_json_u64(env->stats->total.submit_sm_throttled - l->throttled0));
    }
    SET("errors", err);
    SET("cancel_truncated", sim_json_u64(l->truncated));
    SET("no_idle_subscriber", sim_json_u64(l->no_idle));
    SET("mt_parts", sim_json_u64(env->stats->total.mt_parts_accepted - l->mt_parts0));
    SET("mo_status", sim_json_statmap(&env->stats->mo_status));
    SET("faults", sim_fault_json(env->faults, sim_mo_redelivery_pending(env->mos)));
    json_t *tp = json_object(), *per_s = json_array();
    if (tp) {
        json_object_set_new(tp, "mean_per_s",
                            json_real(round1(l->elapsed_s > 0 ? (double)l->done / l->elapsed_s
                                                              : 0.0, 10)));
        json_object_set_new(tp, "max_per_s", sim_json_u64(series_max(l)));
        for (size_t i = 0; per_s && i < l->nseries; i++)
            json_array_append_new(per_s, sim_json_u64(l->series[i]));
    }
    json_object_set_new(tp, "per_s", per_s);
    SET("throughput", tp);
    json_t *c = json_object();
    json_object_set_new(c, "user_s", json_real(round1(l->cpu_user, 1000)));
    json_object_set_new(c, "sys_s", json_real(round1(l->cpu_sys, 1000)));
    json_object_set_new(c, "total_s", json_real(round1(cpu, 1000)));
    json_object_set_new(c, "s_per_1000_mo",
                        json_real(round1(l->sent ? cpu * 1000.0 / (double)l->sent : 0.0, 10000)));
    SET("cpu", c);
#undef SET
    return o;
}

void sim__load_summary(struct sim_load *l, int interrupted)
{
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    const struct sim_hist *h = l->h;
    double cpu = l->cpu_user + l->cpu_sys;
    printf("load: %s after %.2fs on %u session(s)\n", interrupted ? "INTERRUPTED" : "done",
           l->elapsed_s, sim_server_rx_bound(l->env->srv));
    printf("  MOs sent %llu (UCS-2 %llu, data_sm %llu), replies %llu, commands ok %llu\n",
           (unsigned long long)l->sent, (unsigned long long)l->sent_ucs2,
           (unsigned long long)l->sent_datasm, (unsigned long long)l->done,
           (unsigned long long)l->ok);
    printf("  throughput %.0f replies/s (best second %llu)\n",
           l->elapsed_s > 0 ? (double)l->done / l->elapsed_s : 0.0,
           (unsigned long long)series_max(l));
    printf("  latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
           sim__load_fmt_us(b1, sizeof b1, sim_hist_percentile(h, 50)),
           sim__load_fmt_us(b2, sizeof b2, sim_hist_percentile(h, 90)),
           sim__load_fmt_us(b3, sizeof b3, sim_hist_percentile(h, 99)),
           sim__load_fmt_us(b4, sizeof b4, sim_hist_percentile(h, 99.9)),
           sim__load_fmt_us(b5, sizeof b5, h->max));
    printf("  MO ack latency p50 %s  p99 %s\n",
           sim__load_fmt_us(b1, sizeof b1, sim_hist_percentile(l->h_ack, 50)),
           sim__load_fmt_us(b2, sizeof b2, sim_hist_percentile(l->h_ack, 99)));
    printf("  errors %llu: mo_status %llu, missing_reply %llu (acknowledged ROK %llu), "
           "wrong_reply %llu, unexpected_reply %llu; throttled submit_sm %llu\n",
           (unsigned long long)sim__load_errors(l), (unsigned long long)l->err_status_n,
           (unsigned long long)l->missing, (unsigned long long)l->reply_lost,
           (unsigned long long)l->wrong,
           (unsigned long long)l->unexpected,
           (unsigned long long)(l->env->stats->total.submit_sm_throttled - l->throttled0));
    for (unsigned i = 0; i < l->err_status.n; i++) {
        char b[16];
        printf("    %s: %llu\n", sim_status_name(l->err_status.e[i].status, b, sizeof b),
               (unsigned long long)l->err_status.e[i].count);
    }
    sim_fault_summary(l->env->faults, stdout);
    printf("  sim CPU %.3fs (user %.3f, sys %.3f) = %.4f CPU-s per 1000 MOs\n", cpu, l->cpu_user,
           l->cpu_sys, l->sent ? cpu * 1000.0 / (double)l->sent : 0.0);
    fflush(stdout);
}
