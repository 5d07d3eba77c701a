/* load.c -- load mode (--load): MOs from many subscribers at an offered rate,
 * replies matched per subscriber, latency, throughput, errors and own CPU.
 *
 * Design. Subscribers are MSISDNs from .. from+N-1 (same number of digits).
 * A subscriber has at most one command outstanding, so the reply to a
 * subscriber's MO is simply the next MT to that subscriber: there is no
 * ambiguity and no per-reply search. Idle subscribers wait in a FIFO ring;
 * each new MO takes the oldest idle one. A command ends when both its
 * deliver_sm_resp (ROK) and its reply (the complete, reassembled MT) have
 * arrived, or when its resp carries an error (no reply is expected then), or
 * when --reply-timeout-ms passes (missing reply). Outstanding commands are a
 * list in send order, so the oldest is the first to time out and one cheap
 * periodic check finds every expired command.
 *
 * The "cancel" scenario is "0000" and, once its command has ended well, "1"
 * from the same subscriber; the follow-up takes the next MO slot before any
 * new subscriber, so it is paced like any MO. "longtd" is "TD" + a code of
 * --td-codes as a long MO of two parts (8-bit UDH, a reference counted per
 * subscriber, as a handset does), encoded per MO; part 2 is sent once part
 * 1 was acknowledged ROK, as SMSCs with a window of 1 per message do, and
 * --long-gap-ms later (parts reach the SMSC apart): a daemon killed between
 * the parts must find part 1 again. Waiting part 2s are a FIFO (the gap is
 * the same for all) drained by the 50 ms check timer.
 *
 * Pacing: with --rate R a 1 ms timer (or 1000/R ms for slower rates)
 * credits tokens from the time since the start (no drift) and sends that
 * many MOs; unused credit is capped at 50 ms worth so a stall is not
 * followed by a burst. With --rate max, MOs are sent whenever a session has
 * room in its window (--mo-window per session). Either way an MO is only
 * generated when it can leave at once, so the send time is the time it is
 * handed to the session, and nothing waits in the sim's own queue.
 *
 * Cost: each MO's deliver_sm / data_sm is copied from a template encoded
 * once per (text, encoding, command) with libsmpp34 (load_pdu.c), then the
 * sequence number (when sent) and the source address digits are patched in
 * place: no smpp34_pack per MO (--pack-each restores it, for comparison).
 *
 * Latency is uv_hrtime() from handing the MO to the session to the arrival
 * of the last part of its reply, recorded in microseconds in hist.c. The
 * summary and --json are load_report.c's. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/log.h"
#include "base/sc.h"
#include "hist.h"
#include "jsonout.h"
#include "env.h"
#include "faults.h"
#include "load.h"
#include "load_int.h"
#include "mo.h"
#include "opts.h"
#include "server.h"
#include "stats.h"

#define LOAD_BIND_WAIT_MS 30000  /* wait this long for --binds sessions */
#define LOAD_CHECK_MS 50         /* reply timeout check period */
#define NONE UINT32_MAX


/* ---- rings ------------------------------------------------------------------------ */

static void ring_push(struct ring *r, uint32_t i)
{
    r->v[(r->head + r->n) % r->cap] = i;
    r->n++;
}

static uint32_t ring_pop(struct ring *r)
{
    uint32_t i = r->v[r->head];
    r->head = (r->head + 1) % r->cap;
    r->n--;
    return i;
}

/* ---- setup ------------------------------------------------------------------------- */

static void on_bind_wait(uv_timer_t *t);

/* --from and --subscribers: every MSISDN has the digit count of --from. */
static int check_from(const struct sim_opts *o, uint64_t *base, char *err, size_t errsz)
{
    const char *from = o->from;
    size_t width = strlen(from);
    if (width > 19 || sim_parse_uint(from, 0, UINT64_MAX, base) < 0) {
        snprintf(err, errsz, "--from: load mode needs a number of 1 to 19 digits, got \"%s\"",
                 from);
        return SC_EINVAL;
    }
    char last[32];
    int lw = snprintf(last, sizeof last, "%llu",
                      (unsigned long long)(*base + o->load.subscribers - 1));
    if ((size_t)lw > width || o->load.subscribers > UINT32_MAX - 1) {
        snprintf(err, errsz, "--subscribers %llu from %s: the last MSISDN %s has more digits",
                 (unsigned long long)o->load.subscribers, from, last);
        return SC_EINVAL;
    }
    return 0;
}

/* --td-codes into l->codes. */
static int parse_codes(struct sim_load *l, const char *codes, char *err, size_t errsz)
{
    for (const char *c = codes ? codes : "CL001"; *c && l->ncodes < 64;) {
        size_t k = strcspn(c, ",");
        if (k == 0 || k >= sizeof l->codes[0] ||
            strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") < k) {
            snprintf(err, errsz, "--td-codes: expected CODE,CODE,... (1..15 capitals or digits)");
            return SC_EINVAL;
        }
        memcpy(l->codes[l->ncodes], c, k);
        l->codes[l->ncodes++][k] = '\0';
        c += k + (c[k] == ',');
    }
    return 0;
}

/* --expect-regex into l->re. */
static int compile_expect(struct sim_load *l, char *err, size_t errsz)
{
    for (int i = 0; i < SIM_SCN_N; i++) {
        if (!l->o.expect[i])
            continue;
        int rc = regcomp(&l->re[i], l->o.expect[i], REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char m[128];
            regerror(rc, &l->re[i], m, sizeof m);
            snprintf(err, errsz, "--expect-regex %s=%s: %s", sim_scn_name[i], l->o.expect[i], m);
            return SC_EINVAL;
        }
        l->has_re[i] = 1;
    }
    return 0;
}

/* The subscribers (all idle), their rings and the histograms. */
static int alloc_subs(struct sim_load *l, uint32_t n, char *err, size_t errsz)
{
    l->subs = calloc(n, sizeof *l->subs);
    l->idle.v = malloc(n * sizeof *l->idle.v);
    l->follow.v = malloc(n * sizeof *l->follow.v);
    l->gap.v = malloc(n * sizeof *l->gap.v);
    l->h = malloc(sizeof *l->h);
    l->h_sec = malloc(sizeof *l->h_sec);
    l->h_ack = malloc(sizeof *l->h_ack);
    int oom = !l->subs || !l->idle.v || !l->follow.v || !l->gap.v || !l->h || !l->h_sec ||
              !l->h_ack;
    for (int i = 0; i < SIM_SCN_N; i++)
        oom |= !(l->h_scn[i] = malloc(sizeof *l->h_scn[i]));
    if (oom) {
        snprintf(err, errsz, "out of memory for %u subscribers", n);
        return SC_ENOMEM;
    }
    l->idle.cap = l->follow.cap = l->gap.cap = n;
    for (uint32_t i = 0; i < n; i++)
        ring_push(&l->idle, i);
    l->oldest = l->newest = NONE;
    sim_hist_reset(l->h);
    sim_hist_reset(l->h_sec);
    sim_hist_reset(l->h_ack);
    for (int i = 0; i < SIM_SCN_N; i++)
        sim_hist_reset(l->h_scn[i]);
    return 0;
}

struct sim_load *sim_load_new(struct sim_env *env, char *err, size_t errsz)
{
    const struct sim_load_opts *o = &env->o->load;
    uint64_t base;
    if (check_from(env->o, &base, err, errsz) < 0)
        return NULL;
    struct sim_load *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    l->env = env;
    l->o = *o;
    l->from = base;
    l->width = (unsigned)strlen(env->o->from);
    for (int i = 0; i < SIM_SCN_N; i++)
        l->mix_total += o->mix[i];
    l->rng = o->seed ? o->seed : 1;
    if (parse_codes(l, o->td_codes, err, errsz) < 0 || compile_expect(l, err, errsz) < 0 ||
        alloc_subs(l, (uint32_t)o->subscribers, err, errsz) < 0 ||
        sim__load_templates(l, err, errsz) < 0) {
        sim_load_free(l);
        return NULL;
    }
    uv_timer_init(env->loop, &l->tick);
    uv_timer_init(env->loop, &l->check);
    uv_timer_init(env->loop, &l->progress);
    uv_timer_init(env->loop, &l->deadline);
    uv_timer_init(env->loop, &l->bind_wait);
    l->tick.data = l->check.data = l->progress.data = l->deadline.data = l->bind_wait.data = l;
    return l;
}

void sim_load_free(struct sim_load *l)
{
    if (!l)
        return;
    for (int i = 0; i < SIM_SCN_N; i++) {
        if (l->has_re[i])
            regfree(&l->re[i]);
        free(l->h_scn[i]);
    }
    free(l->subs);
    free(l->idle.v);
    free(l->follow.v);
    free(l->gap.v);
    free(l->h);
    free(l->h_sec);
    free(l->h_ack);
    free(l->series);
    free(l);
}

/* ---- commands ------------------------------------------------------------------------ */

static void finish(struct sim_load *l, int interrupted);

static uint64_t window_room(struct sim_load *l)
{
    uint64_t cap = (uint64_t)l->env->o->window * sim_server_rx_bound(l->env->srv);
    return l->inflight < cap ? cap - l->inflight : 0;
}

static void unlink_sub(struct sim_load *l, uint32_t i)
{
    struct sub *s = &l->subs[i];
    if (s->prev != NONE)
        l->subs[s->prev].next = s->next;
    else
        l->oldest = s->next;
    if (s->next != NONE)
        l->subs[s->next].prev = s->prev;
    else
        l->newest = s->prev;
    l->outstanding--;
}

static void gen_stop(struct sim_load *l)
{
    if (l->gen_done)
        return;
    l->gen_done = 1;
    uv_timer_stop(&l->tick);
    uv_timer_stop(&l->deadline);
    l->truncated += l->follow.n;
    while (l->follow.n)
        ring_push(&l->idle, ring_pop(&l->follow));
}

static void maybe_finish(struct sim_load *l)
{
    if (l->gen_done && l->outstanding == 0 && !l->finished)
        finish(l, 0);
}

/* The command of subscriber i is over; ok: it ended well. */
static void end_command(struct sim_load *l, uint32_t i, int ok)
{
    struct sub *s = &l->subs[i];
    unlink_sub(l, i);
    s->busy = 0;
    s->serial++;
    s->part2_due = 0;
    if (ok)
        l->ok++;
    if (ok && s->scn == SIM_SCN_CANCEL && s->step == 0 && !l->gen_done)
        ring_push(&l->follow, i);
    else
        ring_push(&l->idle, i);
}

/* longtd: part k (1 or 2) of "TD" + the subscriber's code, with its
 * current reference. */
static int send_long_part(struct sim_load *l, uint32_t i, unsigned k)
{
    struct sub *s = &l->subs[i];
    char text[24], from[SC_ADDR_MAX];
    snprintf(text, sizeof text, "TD%s", l->codes[s->code]);
    sim__load_put_digits((uint8_t *)from, l->width, l->from + i);
    from[l->width] = '\0';
    size_t n = strlen(text), cut = n / 2;
    uint8_t udh[6] = {5, 0, 3, s->ref, 2, (uint8_t)k};
    uint8_t pdu[160];
    long len;
    if (sim__load_encode(l, k == 1 ? text : text + cut, k == 1 ? cut : n - cut, s->ucs2, 0,
                         l->from + i, udh, pdu, sizeof pdu, &len) < 0)
        return SC_EINVAL;
    int rc = sim_mo_send_pdu(l->env->mos, SIM_MO_LOAD, from, l->env->o->to, pdu, (size_t)len,
                             (uint64_t)s->serial << 32 | i);
    if (rc == 0)
        s->long_part = (uint8_t)k;
    return rc;
}

/* --hostile-share: maybe queue a hostile PDU from this subscriber too. */
static void maybe_hostile(struct sim_load *l, const char *from)
{
    struct sim_env *env = l->env;
    uint8_t buf[1024];
    int kind = 0;
    size_t n = sim_fault_hostile_pdu(env->faults, from, env->o->to, buf, sizeof buf, &kind);
    if (n && sim_mo_send_pdu(env->mos, SIM_MO_HOSTILE, from, env->o->to, buf, n,
                             (uint64_t)kind) == 0)
        env->faults->c.hostile_sent++;
}

static int send_mo(struct sim_load *l, uint32_t i, int scn, int step)
{
    struct sim_env *env = l->env;
    struct sub *s = &l->subs[i];
    int text = scn == SIM_SCN_UNKNOWN ? T_UNKNOWN : step ? T_1 : T_0000;
    int ucs2 = l->o.ucs2_pct && sc_xorshift64s(&l->rng) % 100 < l->o.ucs2_pct;
    int datasm = l->o.datasm_pct && sc_xorshift64s(&l->rng) % 100 < l->o.datasm_pct;
    uint8_t buf[sizeof l->t[0][0][0].pdu];
    size_t len;
    if (scn == SIM_SCN_LONGTD) {
        datasm = 0; /* the UDH travels in short_message */
        s->code = (uint8_t)(sc_xorshift64s(&l->rng) % l->ncodes);
        s->ucs2 = (uint8_t)ucs2;
        s->ref++;
        int rc = send_long_part(l, i, 1);
        if (rc < 0)
            return rc;
        goto sent;
    }
    if (l->o.pack_each) {
        long n;
        const char *t = sim__load_text[text];
        if (sim__load_encode(l, t, strlen(t), ucs2, datasm, l->from + i, NULL, buf, sizeof buf,
                             &n) < 0)
            return SC_EINVAL;
        len = (size_t)n;
    } else {
        const struct tmpl *t = &l->t[text][ucs2][datasm];
        memcpy(buf, t->pdu, t->len);
        len = t->len;
        sim__load_put_digits(buf + l->addr_off, l->width, l->from + i);
    }
    char from[SC_ADDR_MAX];
    memcpy(from, buf + l->addr_off, l->width);
    from[l->width] = '\0';
    int rc = sim_mo_send_pdu(env->mos, SIM_MO_LOAD, from, env->o->to, buf, len,
                             (uint64_t)s->serial << 32 | i);
    if (rc < 0)
        return rc;
    maybe_hostile(l, from);
sent:
    s->busy = 1;
    s->scn = (uint8_t)scn;
    s->step = (uint8_t)step;
    s->got_resp = s->got_reply = 0;
    s->t_sent = uv_hrtime();
    s->next = NONE;
    s->prev = l->newest;
    if (l->newest != NONE)
        l->subs[l->newest].next = i;
    else
        l->oldest = i;
    l->newest = i;
    l->outstanding++;
    l->inflight++;
    l->sent++;
    l->sent_scn[scn] += step == 0;
    l->sent_ucs2 += (uint64_t)ucs2;
    l->sent_datasm += (uint64_t)datasm;
    return 0;
}

/* Send MOs while the bounds, the rate and the windows allow. */
static void pump(struct sim_load *l)
{
    struct sim_env *env = l->env;
    if (!l->running || l->gen_done || env->mos->stopping)
        return;
    uint64_t room = window_room(l);
    while (room > 0 && sim_mo_queued(env->mos) == 0) {
        if (l->o.count && l->sent >= l->o.count) {
            gen_stop(l);
            maybe_finish(l);
            break;
        }
        if (l->o.rate && l->tokens == 0)
            break;
        uint32_t i;
        int scn, step;
        if (l->follow.n) {
            i = ring_pop(&l->follow);
            scn = SIM_SCN_CANCEL;
            step = 1;
        } else if (l->idle.n) {
            i = ring_pop(&l->idle);
            uint64_t r = sc_xorshift64s(&l->rng) % l->mix_total;
            for (scn = 0; scn < SIM_SCN_N - 1 && r >= l->o.mix[scn]; scn++)
                r -= l->o.mix[scn];
            step = 0;
        } else {
            l->no_idle++;
            break;
        }
        if (send_mo(l, i, scn, step) < 0) {
            /* Queue full or out of memory: give the slot back, try later. */
            l->send_failed++;
            ring_push(step ? &l->follow : &l->idle, i);
            break;
        }
        if (l->o.rate)
            l->tokens--;
        room--;
    }
    sim_mo_pump(env->mos);
}

/* ---- events --------------------------------------------------------------------------- */

static void send_part2(struct sim_load *l, uint32_t i)
{
    if (send_long_part(l, i, 2) < 0) {
        l->send_failed++;
        end_command(l, i, 0);
    } else {
        l->inflight++;
        l->sent++; /* each part is delivered (and answered) on its own */
        sim_mo_pump(l->env->mos); /* pump() sends nothing once generation stopped */
    }
}

/* Part 2s whose gap has passed (a command that ended meanwhile has
 * part2_due 0 and is skipped). */
static void drain_gap(struct sim_load *l, uint64_t now)
{
    while (l->gap.n) {
        uint32_t i = l->gap.v[l->gap.head];
        struct sub *s = &l->subs[i];
        if (s->busy && s->part2_due && s->part2_due > now)
            return;
        ring_pop(&l->gap);
        if (s->busy && s->part2_due) {
            s->part2_due = 0;
            send_part2(l, i);
        }
    }
}

void sim_load_on_mo_done(struct sim_load *l, struct sim_mo *mo)
{
    if (l->finished)
        return;
    if (l->inflight)
        l->inflight--;
    sim_statmap_add(&l->resp_status, mo->status);
    uint32_t i = (uint32_t)mo->ctx;
    struct sub *s = &l->subs[i];
    if (s->busy && s->serial == (uint32_t)(mo->ctx >> 32)) {
        if (mo->status != SC_ESME_ROK) {
            sim_statmap_add(&l->err_status, mo->status);
            l->err_status_n++;
            end_command(l, i, 0);
        } else if (s->scn == SIM_SCN_LONGTD && s->long_part == 1) {
            /* Part 1 acknowledged: part 2 now or after the gap. */
            if (l->o.long_gap_ms && l->gap.n < l->gap.cap) {
                s->part2_due = uv_hrtime() + l->o.long_gap_ms * 1000000u;
                ring_push(&l->gap, i);
            } else {
                send_part2(l, i);
            }
        } else {
            /* The MO's acknowledgement: a long MO's part 2 is timed from
             * part 1, so only one-part MOs are. */
            if (s->scn != SIM_SCN_LONGTD)
                sim_hist_record(l->h_ack, (uv_hrtime() - s->t_sent + 999) / 1000);
            s->got_resp = 1;
            if (s->got_reply)
                end_command(l, i, 1);
        }
    }
    pump(l);
    maybe_finish(l);
}

static void series_add(struct sim_load *l, uint64_t now)
{
    size_t sec = (size_t)((now - l->t0) / 1000000000u);
    if (sec >= l->series_cap) {
        size_t cap = l->series_cap ? l->series_cap : 64;
        while (cap <= sec)
            cap *= 2;
        uint32_t *p = realloc(l->series, cap * sizeof *p);
        if (!p)
            return;
        memset(p + l->series_cap, 0, (cap - l->series_cap) * sizeof *p);
        l->series = p;
        l->series_cap = cap;
    }
    l->series[sec]++;
    if (sec + 1 > l->nseries)
        l->nseries = sec + 1;
}

void sim_load_on_mt(struct sim_load *l, const struct sim_mt *mt)
{
    if (!l->running || l->finished)
        return;
    uint64_t now = uv_hrtime();
    uint64_t v;
    uint32_t i = NONE;
    if (strlen(mt->to) == l->width && sim_parse_uint(mt->to, 0, UINT64_MAX, &v) == 0 &&
        v >= l->from && v - l->from < l->o.subscribers)
        i = (uint32_t)(v - l->from);
    struct sub *s = i != NONE ? &l->subs[i] : NULL;
    if (!s || !s->busy || s->got_reply) {
        l->unexpected++;
        sc_debug("event=load_unexpected_reply to=%s", mt->to);
        return;
    }
    uint64_t us = (now - s->t_sent + 999) / 1000;
    sim_hist_record(l->h, us);
    sim_hist_record(l->h_sec, us);
    sim_hist_record(l->h_scn[s->scn], us);
    series_add(l, now);
    l->done++;
    l->done_scn[s->scn] += s->step == (s->scn == SIM_SCN_CANCEL);
    int scn_re = s->scn == SIM_SCN_CANCEL && s->step == 0 ? SIM_SCN_0000 : s->scn;
    int ok = mt->len > 0 &&
             (!l->has_re[scn_re] || regexec(&l->re[scn_re], mt->text, 0, NULL, 0) == 0);
    if (!ok) {
        l->wrong++;
        char q[200];
        sc_warn("event=load_wrong_reply to=%s scenario=%s text=%s", mt->to, sim_scn_name[s->scn],
                sc_log_quote(q, sizeof q, mt->text, mt->len));
        end_command(l, i, 0);
    } else {
        s->got_reply = 1;
        if (s->got_resp)
            end_command(l, i, 1);
    }
    pump(l);
    maybe_finish(l);
}

static void on_check(uv_timer_t *t)
{
    struct sim_load *l = t->data;
    uint64_t now = uv_hrtime(), limit = l->o.reply_timeout_ms * 1000000u;
    while (l->oldest != NONE && now - l->subs[l->oldest].t_sent >= limit) {
        uint32_t i = l->oldest;
        l->missing++;
        /* Acknowledged ROK and never answered: the reply was lost (a
         * subscriber has one command at a time, so no later reply can be
         * this one's; an MO the SMSC still redelivers has no ROK yet). */
        l->reply_lost += l->subs[i].got_resp;
        sc_debug("event=load_missing_reply from=%llu resp=%d",
                 (unsigned long long)(l->from + i), l->subs[i].got_resp);
        end_command(l, i, 0);
    }
    drain_gap(l, now);
    pump(l);
    maybe_finish(l);
}

static void on_tick(uv_timer_t *t)
{
    struct sim_load *l = t->data;
    uint64_t now = uv_hrtime();
    uint64_t due = (uint64_t)((double)l->o.rate * (double)(now - l->t0) / 1e9);
    uint64_t cap = l->o.rate / 20 > 16 ? l->o.rate / 20 : 16;
    if (due > l->credited) {
        l->tokens += due - l->credited;
        l->credited = due;
    }
    if (l->tokens > cap)
        l->tokens = cap;
    pump(l);
}

static void on_deadline(uv_timer_t *t)
{
    struct sim_load *l = t->data;
    gen_stop(l);
    maybe_finish(l);
}

static void on_progress(uv_timer_t *t)
{
    struct sim_load *l = t->data;
    char b[32];
    uint64_t secs = (uv_hrtime() - l->t0 + 500000000u) / 1000000000u;
    fprintf(stderr, "t=%llus sent=%llu done=%llu rate=%llu/s p99=%s errors=%llu\n",
            (unsigned long long)secs, (unsigned long long)l->sent, (unsigned long long)l->done,
            (unsigned long long)(l->done - l->last_done),
            sim__load_fmt_us(b, sizeof b, sim_hist_percentile(l->h_sec, 99)),
            (unsigned long long)sim__load_errors(l));
    l->last_done = l->done;
    sim_hist_reset(l->h_sec);
}

/* ---- start ----------------------------------------------------------------------------- */

static void begin(struct sim_load *l)
{
    struct sim_env *env = l->env;
    uv_timer_stop(&l->bind_wait);
    l->running = 1;
    getrusage(RUSAGE_SELF, &l->ru0);
    l->throttled0 = env->stats->total.submit_sm_throttled;
    l->mt_parts0 = env->stats->total.mt_parts_accepted;
    l->t0 = uv_hrtime();
    sc_info("event=load_start sessions=%u subscribers=%llu rate=%llu count=%llu duration_ms=%llu",
            sim_server_rx_bound(env->srv), (unsigned long long)l->o.subscribers,
            (unsigned long long)l->o.rate, (unsigned long long)l->o.count,
            (unsigned long long)l->o.duration_ms);
    uv_timer_start(&l->deadline, on_deadline, l->o.duration_ms, 0);
    uv_timer_start(&l->check, on_check, LOAD_CHECK_MS, LOAD_CHECK_MS);
    uv_timer_start(&l->progress, on_progress, 1000, 1000);
    if (l->o.rate) {
        uint64_t period = l->o.rate >= 1000 ? 1 : 1000 / l->o.rate;
        l->tokens = 1;
        uv_timer_start(&l->tick, on_tick, period, period);
    }
    pump(l);
}

static void on_bind_wait(uv_timer_t *t)
{
    struct sim_load *l = t->data;
    sc_error("event=load_failed reason=\"fewer than %u ESME sessions bound within %d ms\"",
             l->o.binds, LOAD_BIND_WAIT_MS);
    fprintf(stderr, "smsc-sim: load: fewer than %u ESME sessions bound within %d s\n",
            l->o.binds, LOAD_BIND_WAIT_MS / 1000);
    finish(l, 1);
}

void sim_load_start(struct sim_load *l)
{
    uv_timer_start(&l->bind_wait, on_bind_wait, LOAD_BIND_WAIT_MS, 0);
    sim_load_on_bound(l);
}

void sim_load_on_bound(struct sim_load *l)
{
    if (!l->running && !l->finished && sim_server_rx_bound(l->env->srv) >= l->o.binds)
        begin(l);
    else if (l->running)
        pump(l);
}
static double tv_s(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
}


/* The run is over (bounds reached and every command ended, or interrupted):
 * report and shut the simulator down. */
static void finish(struct sim_load *l, int interrupted)
{
    if (l->finished)
        return;
    l->finished = 1;
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    l->cpu_user = tv_s(l->ru0.ru_utime, ru1.ru_utime);
    l->cpu_sys = tv_s(l->ru0.ru_stime, ru1.ru_stime);
    l->elapsed_s = l->running ? (double)(uv_hrtime() - l->t0) / 1e9 : 0.0;
    uv_timer_stop(&l->tick);
    uv_timer_stop(&l->check);
    uv_timer_stop(&l->progress);
    uv_timer_stop(&l->deadline);
    uv_timer_stop(&l->bind_wait);
    l->exit_status = interrupted || !l->running || sim__load_errors(l) ? 1 : 0;
    if (l->running)
        sim__load_summary(l, interrupted);
    if (l->o.json && sim_json_write(l->o.json, sim__load_json(l, interrupted || !l->running)) < 0) {
        sc_error("event=load_json_failed file=%s", l->o.json);
        l->exit_status = 1;
    }
    sc_info("event=load_done sent=%llu done=%llu errors=%llu status=%d",
            (unsigned long long)l->sent, (unsigned long long)l->done,
            (unsigned long long)sim__load_errors(l), l->exit_status);
    l->env->stop(l->env, l->exit_status);
}

int sim_load_interrupt(struct sim_load *l)
{
    finish(l, 1);
    return l->exit_status;
}
