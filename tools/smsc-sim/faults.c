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
 * counted (struct sim_fault_counts) and reported in --stats and --json.
 * This file decides and counts; the server and mo.c act (redelivery, with
 * its queue and timer, is mo.c's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "faults.h"
#include "jsonout.h"
#include "smsc/pdu.h"

int sim_fault_chance(struct sim_faults *f, double pct)
{
    if (pct <= 0.0)
        return 0;
    if (pct >= 100.0)
        return 1;
    /* 1e6 steps: shares down to 0.0001 %. */
    return (double)(sc_xorshift64s(&f->rng) % 1000000u) < pct * 10000.0;
}

void sim_fault_init(struct sim_faults *f, const struct sim_opts *o)
{
    memset(f, 0, sizeof *f);
    f->o = o;
    /* A different stream from load.c's (same seed, other constant). */
    f->rng = (o->load.seed ? o->load.seed : 1) ^ 0x9E3779B97F4A7C15ULL;
}

uint32_t sim_fault_resp_timeout(const struct sim_faults *f)
{
    const struct sim_opts *o = f->o;
    if (o->f.redeliver && o->f.redeliver_timeout_ms < o->resp_timeout_ms)
        return o->f.redeliver_timeout_ms;
    return o->resp_timeout_ms;
}

/* ---- connections and submit_sm ----------------------------------------------- */

const char *sim_fault_on_pdu(struct sim_faults *f, unsigned id, uint64_t *conn_pdus, int bound)
{
    const struct sim_fault_opts *fo = &f->o->f;
    ++*conn_pdus;
    f->pdus_in++;
    if (fo->close_every && f->pdus_in % fo->close_every == 0) {
        f->c.closed_every++;
        sc_info("event=fault_close session=%u pdus=%llu reason=close-every", id,
                (unsigned long long)*conn_pdus);
        return "fault: close-every";
    }
    if (bound && sim_fault_chance(f, fo->close_random_pct)) {
        f->c.closed_random++;
        sc_info("event=fault_close session=%u pdus=%llu reason=close-random", id,
                (unsigned long long)*conn_pdus);
        return "fault: close-random";
    }
    return NULL;
}

int sim_fault_submit(struct sim_faults *f, unsigned id, uint32_t *status)
{
    const struct sim_fault_opts *fo = &f->o->f;
    if (sim_fault_chance(f, fo->drop_resp_pct)) {
        f->c.dropped_resp++;
        sc_debug("event=fault_drop_resp session=%u", id);
        return 1;
    }
    if (sim_fault_chance(f, fo->throttle_pct)) {
        f->c.throttled++;
        *status = SC_ESME_RTHROTTLED;
        return 2;
    }
    if (sim_fault_chance(f, fo->msgqfull_pct)) {
        f->c.msgqfull++;
        *status = SC_ESME_RMSGQFUL;
        return 2;
    }
    return 0;
}

int sim_fault_unbind_due(struct sim_faults *f, unsigned id, uint64_t submits)
{
    if (!f->o->f.unbind_after || submits != f->o->f.unbind_after)
        return 0;
    f->c.unbinds++;
    sc_info("event=fault_unbind session=%u submits=%llu", id, (unsigned long long)submits);
    return 1;
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

size_t sim_fault_hostile_pdu(struct sim_faults *f, const char *from, const char *to, uint8_t *buf,
                             size_t cap, int *kind_out)
{
    if (cap < 1024 || !sim_fault_chance(f, f->o->f.hostile_pct))
        return 0;
    int kind = (int)(sc_xorshift64s(&f->rng) % H_N);
    struct sc_sm *sm = calloc(1, sizeof *sm);
    if (!sm)
        return 0;
    sm->cmd_id = SC_CMD_DELIVER_SM;
    sm->seq = 1;
    sm->src.ton = 1;
    sm->src.npi = 1;
    sc_strlcpy(sm->src.addr, from, sizeof sm->src.addr);
    sc_strlcpy(sm->dst.addr, to, sizeof sm->dst.addr);
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
    long len = sc_pdu_encode_sm(sm, buf, 1024 - 400);
    free(sm);
    if (len < 0)
        return 0;
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
    *kind_out = kind;
    return n;
}

/* ---- report ------------------------------------------------------------------------ */

json_t *sim_fault_json(const struct sim_faults *f, uint64_t pending)
{
    const struct sim_fault_counts *c = &f->c;
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

void sim_fault_summary(const struct sim_faults *f, FILE *out)
{
    const struct sim_fault_counts *c = &f->c;
    fprintf(out,
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
