/* faults.c -- smsc-sim's fault injection: what a real SMSC does to an ESME.
 *
 *   submit_sm answers   --throttle-share P (ESME_RTHROTTLED), --msgqfull-share P
 *                       (ESME_RMSGQFUL), --drop-resp-share P (never answered);
 *                       --resp-delay-ms is server.c's
 *   connections         --close-every N (abrupt close of the session that
 *                       receives every Nth PDU, counted over all sessions; that
 *                       PDU is not handled), --close-random P
 *                       (per PDU received once bound), --unbind-after N
 *                       (SMSC-initiated unbind after a session's Nth submit_sm)
 *   MO redelivery       --redeliver: an MO part whose deliver_sm_resp is an
 *                       error, does not come within --redeliver-timeout-ms, or
 *                       whose session closes first, is sent again after
 *                       --redeliver-interval-ms, at most --redeliver-max times
 *   long MOs            --dup-parts, --reorder-parts (mo.c applies them)
 *   hostile PDUs        --hostile-share P: with each load-mode MO, a hostile
 *                       PDU is queued too with probability P %
 *
 * Every choice comes from one xorshift64* PRNG seeded with --seed, so a run
 * is reproducible given the same order of events. Every fault injected is
 * counted (struct sim_fault_counts) and reported in --stats and --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "jsonout.h"
#include "sim.h"

int sim_fault_parse_pct(const char *s, double *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-' || *s == '+')
        return SC_EINVAL;
    double v = strtod(s, &end);
    if (!end || *end || !(v >= 0.0 && v <= 100.0))
        return SC_EINVAL;
    *out = v;
    return 0;
}

int sim_fault_chance(struct sim *sim, double pct)
{
    if (pct <= 0.0)
        return 0;
    if (pct >= 100.0)
        return 1;
    /* 1e6 steps: shares down to 0.0001 %. */
    return (double)(sc_xorshift64s(&sim->frng) % 1000000u) < pct * 10000.0;
}

static void on_fd_timer(uv_timer_t *t);

void sim_fault_init(struct sim *sim)
{
    /* A different stream from load.c's (same seed, other constant). */
    sim->frng = (sim->o.load.seed ? sim->o.load.seed : 1) ^ 0x9E3779B97F4A7C15ULL;
    uv_timer_init(sim->loop, &sim->fd_timer);
    sim->fd_timer.data = sim;
}

uint32_t sim_fault_resp_timeout(const struct sim *sim)
{
    if (sim->o.f.redeliver && sim->o.f.redeliver_timeout_ms < sim->o.resp_timeout_ms)
        return sim->o.f.redeliver_timeout_ms;
    return sim->o.resp_timeout_ms;
}

/* ---- connections and submit_sm ----------------------------------------------- */

int sim_fault_on_pdu(struct sim_conn *c)
{
    struct sim *sim = c->sim;
    const struct sim_fault_opts *f = &sim->o.f;
    c->pdus_in++;
    sim->pdus_in++;
    if (f->close_every && sim->pdus_in % f->close_every == 0) {
        sim->fc.closed_every++;
        sc_info("event=fault_close session=%u pdus=%llu reason=close-every", c->id,
                (unsigned long long)c->pdus_in);
        sc_session_close(c->s, "fault: close-every");
        return 1;
    }
    if ((c->rx || c->tx) && sim_fault_chance(sim, f->close_random_pct)) {
        sim->fc.closed_random++;
        sc_info("event=fault_close session=%u pdus=%llu reason=close-random", c->id,
                (unsigned long long)c->pdus_in);
        sc_session_close(c->s, "fault: close-random");
        return 1;
    }
    return 0;
}

int sim_fault_submit(struct sim_conn *c, uint32_t *status)
{
    struct sim *sim = c->sim;
    const struct sim_fault_opts *f = &sim->o.f;
    c->submits_in++;
    if (sim_fault_chance(sim, f->drop_resp_pct)) {
        sim->fc.dropped_resp++;
        sc_debug("event=fault_drop_resp session=%u", c->id);
        return 1;
    }
    if (sim_fault_chance(sim, f->throttle_pct)) {
        sim->fc.throttled++;
        *status = SC_ESME_RTHROTTLED;
        return 2;
    }
    if (sim_fault_chance(sim, f->msgqfull_pct)) {
        sim->fc.msgqfull++;
        *status = SC_ESME_RMSGQFUL;
        return 2;
    }
    return 0;
}

void sim_fault_after_submit(struct sim_conn *c)
{
    struct sim *sim = c->sim;
    if (sim->o.f.unbind_after && c->submits_in == sim->o.f.unbind_after && !c->unbinding &&
        c->s && sc_session_state(c->s) != SC_SS_CLOSED) {
        sim->fc.unbinds++;
        sc_info("event=fault_unbind session=%u submits=%llu", c->id,
                (unsigned long long)c->submits_in);
        sim_server_unbind(c);
    }
}

/* ---- MO redelivery -------------------------------------------------------------- */

int sim_fault_redeliver(struct sim *sim, struct sim_mopart *p, int64_t st)
{
    const struct sim_fault_opts *f = &sim->o.f;
    struct sim_mo *mo = sim_mopart_mo(p);
    unsigned tries = sim_mopart_tries(p);
    if (tries >= f->redeliver_max) {
        sim->fc.mo_redeliver_exhausted++;
        sc_warn("event=mo_redeliver_exhausted mo=%u from=%s tries=%u", mo ? mo->id : 0,
                mo ? mo->from : "", tries);
        return 0;
    }
    sim_mopart_set_tries(p, tries + 1);
    if (mo && mo->redeliveries++ == 0)
        sim->fc.mo_redelivered++;
    sim->fc.redeliveries++;
    if (st == SIM_ST_TIMEOUT)
        sim->fc.redeliver_timeout++;
    else if (st == SIM_ST_CLOSED)
        sim->fc.redeliver_closed++;
    else
        sim->fc.redeliver_error++;
    uint64_t now = uv_now(sim->loop);
    sim_mopart_set_due(p, now + f->redeliver_interval_ms);
    sim_moq_push(&sim->fd, p);
    /* Same interval for all: the list is in deadline order. */
    if (!uv_is_active((uv_handle_t *)&sim->fd_timer))
        uv_timer_start(&sim->fd_timer, on_fd_timer, f->redeliver_interval_ms, 0);
    if (sc_log_enabled(SC_LOG_DEBUG)) {
        char b[16];
        sc_debug("event=mo_redeliver mo=%u from=%s try=%u status=%s", mo ? mo->id : 0,
                 mo ? mo->from : "", tries + 1, sim_status_name(st, b, sizeof b));
    }
    return 1;
}

static void on_fd_timer(uv_timer_t *t)
{
    struct sim *sim = t->data;
    uint64_t now = uv_now(sim->loop);
    while (!STAILQ_EMPTY(&sim->fd) && sim_mopart_due(STAILQ_FIRST(&sim->fd)) <= now)
        sim_mo_push_part(sim, sim_moq_pop(&sim->fd));
    if (!STAILQ_EMPTY(&sim->fd))
        uv_timer_start(&sim->fd_timer, on_fd_timer, sim_mopart_due(STAILQ_FIRST(&sim->fd)) - now,
                       0);
    sim_mo_pump(sim);
}

void sim_fault_flush(struct sim *sim)
{
    struct sim_mopart *p;
    while ((p = sim_moq_pop(&sim->fd)) != NULL)
        sim_mo_push_part(sim, p);
    if (sim->loop)
        uv_timer_stop(&sim->fd_timer);
}

void sim_fault_mo_done(struct sim *sim, const struct sim_mo *mo)
{
    if (mo->redeliveries && mo->status == SC_ESME_ROK)
        sim->fc.mo_ok_after_redelivery++;
}

/* ---- hostile PDUs ------------------------------------------------------------------ */

enum { H_BAD_LEN = 0, H_MANY_TLVS, H_UNKNOWN_CMD, H_TRUNCATED, H_BAD_UCS2, H_SMLEN, H_N };

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Offset of sm_length in an encoded deliver_sm, or 0. */
static size_t smlen_off(const uint8_t *b, size_t n)
{
    size_t o = SC_PDU_HEADER_LEN;
#define SKIPSTR()                                                                              \
    do {                                                                                       \
        while (o < n && b[o])                                                                  \
            o++;                                                                               \
        o++;                                                                                   \
    } while (0)
    SKIPSTR();      /* service_type */
    o += 2;
    SKIPSTR();      /* source_addr */
    o += 2;
    SKIPSTR();      /* destination_addr */
    o += 3;         /* esm_class, protocol_id, priority_flag */
    SKIPSTR();      /* schedule_delivery_time */
    SKIPSTR();      /* validity_period */
    o += 4;         /* registered_delivery, replace_if_present, data_coding, sm_default_msg_id */
#undef SKIPSTR
    return o < n ? o : 0;
}

void sim_fault_maybe_hostile(struct sim *sim, const char *from)
{
    if (!sim_fault_chance(sim, sim->o.f.hostile_pct))
        return;
    int kind = (int)(sc_xorshift64s(&sim->frng) % H_N);
    struct sc_sm *sm = calloc(1, sizeof *sm);
    uint8_t buf[1024];
    if (!sm)
        return;
    sm->cmd_id = SC_CMD_DELIVER_SM;
    sm->seq = 1;
    sm->src.ton = 1;
    sm->src.npi = 1;
    sc_strlcpy(sm->src.addr, from, sizeof sm->src.addr);
    sc_strlcpy(sm->dst.addr, sim->o.to, sizeof sm->dst.addr);
    if (kind == H_BAD_UCS2) {
        /* A lone high surrogate and an odd byte count. */
        const uint8_t u[] = {0x00, 0x30, 0xD8, 0x00, 0x00};
        sm->data_coding = 8;
        memcpy(sm->msg, u, sizeof u);
        sm->msg_len = sizeof u;
    } else {
        memcpy(sm->msg, "0000", 4);
        sm->msg_len = 4;
    }
    long len = sc_pdu_encode_sm(sm, buf, sizeof buf - 400);
    free(sm);
    if (len < 0)
        return;
    size_t n = (size_t)len;
    switch (kind) {
    case H_BAD_LEN:
        /* command_length below the header size: a framing error. */
        put32(buf, 8);
        break;
    case H_MANY_TLVS:
        /* 30 vendor TLVs (0x1400..) of one byte each. */
        for (unsigned i = 0; i < 30; i++) {
            buf[n++] = 0x14;
            buf[n++] = (uint8_t)i;
            buf[n++] = 0;
            buf[n++] = 1;
            buf[n++] = (uint8_t)i;
        }
        put32(buf, (uint32_t)n);
        break;
    case H_UNKNOWN_CMD:
        put32(buf + 4, 0x00000777);
        n = SC_PDU_HEADER_LEN;
        put32(buf, (uint32_t)n);
        break;
    case H_TRUNCATED:
        /* The body stops inside source_addr. */
        n = SC_PDU_HEADER_LEN + 5;
        put32(buf, (uint32_t)n);
        break;
    case H_BAD_UCS2:
        break;
    case H_SMLEN: {
        size_t o = smlen_off(buf, n);
        if (o)
            buf[o] = 200; /* 4 bytes follow */
        break;
    }
    default:
        break;
    }
    if (sim_mo_send_pdu(sim, SIM_MO_HOSTILE, from, sim->o.to, buf, n, (uint64_t)kind) == 0)
        sim->fc.hostile_sent++;
}

/* ---- report ------------------------------------------------------------------------ */

json_t *sim_fault_json(struct sim *sim)
{
    const struct sim_fault_counts *c = &sim->fc;
    uint64_t pending = sim_moq_count(&sim->fd);
    json_t *o = json_object();
    if (!o)
        return NULL;
#define U(k, v) json_object_set_new(o, k, sim_json_u64(v))
    U("throttled", c->throttled);
    U("msgqfull", c->msgqfull);
    U("dropped_resp", c->dropped_resp);
    U("closed_every", c->closed_every);
    U("closed_random", c->closed_random);
    U("unbinds", c->unbinds);
    U("redeliveries", c->redeliveries);
    U("redeliver_error", c->redeliver_error);
    U("redeliver_timeout", c->redeliver_timeout);
    U("redeliver_closed", c->redeliver_closed);
    U("mo_redelivered", c->mo_redelivered);
    U("mo_ok_after_redelivery", c->mo_ok_after_redelivery);
    U("mo_redeliver_exhausted", c->mo_redeliver_exhausted);
    U("redelivery_pending", pending);
    U("dup_parts", c->dup_parts);
    U("reordered_mos", c->reordered_mos);
    U("hostile_sent", c->hostile_sent);
#undef U
    json_object_set_new(o, "hostile_resp", sim_json_statmap(&c->hostile_resp));
    return o;
}

void sim_fault_summary(struct sim *sim, FILE *f)
{
    const struct sim_fault_counts *c = &sim->fc;
    fprintf(f,
            "  faults: throttled %llu, msgqfull %llu, dropped resps %llu, closes %llu+%llu, "
            "unbinds %llu, hostile %llu, dup parts %llu, reordered %llu\n"
            "  redelivery: %llu resends (error %llu, timeout %llu, closed %llu) of %llu MOs, "
            "%llu of them finally ROK, %llu given up\n",
            (unsigned long long)c->throttled, (unsigned long long)c->msgqfull,
            (unsigned long long)c->dropped_resp, (unsigned long long)c->closed_every,
            (unsigned long long)c->closed_random, (unsigned long long)c->unbinds,
            (unsigned long long)c->hostile_sent, (unsigned long long)c->dup_parts,
            (unsigned long long)c->reordered_mos, (unsigned long long)c->redeliveries,
            (unsigned long long)c->redeliver_error, (unsigned long long)c->redeliver_timeout,
            (unsigned long long)c->redeliver_closed, (unsigned long long)c->mo_redelivered,
            (unsigned long long)c->mo_ok_after_redelivery,
            (unsigned long long)c->mo_redeliver_exhausted);
}
