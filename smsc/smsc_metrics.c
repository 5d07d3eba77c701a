/* smsc_metrics.c -- what the esme counts (docs/operations.md "Metrics"):
 * each link's state, window in use, throttling events and reconnects, the
 * MT queue's depth per class, and MTs by kind and final state.
 *
 * A link's cells are resolved when the esme makes it; its counters are
 * plain adds where the event happens (esme.c, mtq.c). The gauges are read
 * by the esme's collector when the registry renders, so the MT path pays
 * nothing for them: window in use is the link's own count, and the queue's
 * depth per class is counted by walking its lists then (the pushes queued
 * are bounded by mt.max_queued). */
#include <string.h>

#include "base/metrics.h"
#include "smsc/esme_int.h"

/* Links are the configuration's binds (one or two each). */
#define LINK_SERIES 256

static struct sc_metric g_mt_total = {
    .name = "shortcoded_mt_total", .type = SC_METRIC_COUNTER, .labels = {"kind", "state"},
    .max_series = 256, /* kinds come with the pushes: about 60 of them, 4 states each */
    .help = "MTs by kind (reply: replies to MOs and order confirmations; else a push's kind) "
            "and final state: sent (every part accepted by the SMSC), failed; pushes also "
            "dropped and expired."};
static struct sc_metric g_mt_queued = {
    .name = "shortcoded_mt_queued", .type = SC_METRIC_GAUGE, .labels = {"priority"},
    .help = "MT parts waiting for a link, by class: reply (replies to MOs, served first), then "
            "push priorities 0 (urgent) .. 9 (bulk)."};
static struct sc_metric g_bind_up = {
    .name = "shortcoded_bind_up", .type = SC_METRIC_GAUGE, .labels = {"bind"},
    .max_series = LINK_SERIES,
    .help = "1 when the link is bound, else 0 (a receiver+transmitter bind is two links, "
            "NAME/rx and NAME/tx)."};
static struct sc_metric g_bind_window = {
    .name = "shortcoded_bind_window_used", .type = SC_METRIC_GAUGE, .labels = {"bind"},
    .max_series = LINK_SERIES,
    .help = "submit_sm awaiting their resp on the link (at most the bind's window)."};
static struct sc_metric g_bind_throttled = {
    .name = "shortcoded_bind_throttled_total", .type = SC_METRIC_COUNTER, .labels = {"bind"},
    .max_series = LINK_SERIES,
    .help = "submit_sm_resp ESME_RTHROTTLED or ESME_RMSGQFUL on the link (each pauses it for "
            "throttle_pause_ms)."};
static struct sc_metric g_bind_reconnects = {
    .name = "shortcoded_bind_reconnects_total", .type = SC_METRIC_COUNTER, .labels = {"bind"},
    .max_series = LINK_SERIES,
    .help = "Reconnects scheduled for the link: after a lost bind or a failed attempt."};

static struct sc_counter *g_reply[2]; /* sent, failed */

struct sc_counter *sc_esme_mt_counter(const char *kind, const char *state)
{
    return sc_metric_counter(&g_mt_total, (const char *[]){kind, state});
}

static void metrics_link(struct link *l)
{
    const char *v[] = {l->name};
    l->m.up = sc_metric_gauge(&g_bind_up, v);
    l->m.window = sc_metric_gauge(&g_bind_window, v);
    l->m.throttled = sc_metric_counter(&g_bind_throttled, v);
    l->m.reconnects = sc_metric_counter(&g_bind_reconnects, v);
}

void sc__esme_metrics_mt_end(int err) { sc_counter_inc(g_reply[err != 0]); }

static void collect(void *arg)
{
    struct sc_esme *e = arg;
    for (unsigned i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[i];
        sc_gauge_set(l->m.up, l->phase == SC__LP_BOUND);
        sc_gauge_set(l->m.window, l->mt.inflight);
    }
    for (unsigned c = 0; c < SC__MT_CLASSES; c++) {
        int64_t n = 0;
        const struct sc__mt_part *p;
        STAILQ_FOREACH(p, &e->mtq.q[c], link)
            n++;
        sc_gauge_set(e->mq[c], n);
    }
}

void sc__esme_metrics_start(struct sc_esme *e)
{
    static const char *const prio[SC__MT_CLASSES] = {"reply", "0", "1", "2", "3", "4",
                                                     "5",     "6", "7", "8", "9"};
    g_reply[0] = sc_esme_mt_counter("reply", "sent");
    g_reply[1] = sc_esme_mt_counter("reply", "failed");
    for (unsigned c = 0; c < SC__MT_CLASSES; c++)
        e->mq[c] = sc_metric_gauge(&g_mt_queued, (const char *[]){prio[c]});
    for (unsigned i = 0; i < e->nlinks; i++)
        metrics_link(&e->links[i]);
    if (sc_metrics_collector_add(sc_metrics_global(), collect, e) < 0)
        sc_warn("event=metrics_collector_refused msg=\"bind and queue gauges not updated\"");
}

void sc__esme_metrics_stop(struct sc_esme *e)
{
    sc_metrics_collector_remove(sc_metrics_global(), collect, e);
}
