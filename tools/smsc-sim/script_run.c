/* script_run.c -- scripted mode, part 2: the steps (send MOs, expect MTs and
 * resps) run one after the other on the loop, each reported on stdout.
 *
 * The whole file is parsed first (script_parse.c), then the steps run. A
 * step either finishes at once (send) or waits: for an event (an MT, an MO
 * resp, a bind) or for its timer. Nothing blocks; every wait has a timeout.
 * Each step prints
 *   ok  line 3: expect 13800138000 ^Hello
 *   FAIL line 5: expected /x/ got "..."
 * and the run ends with "script: N passed, M failed".
 *
 * Complete MTs are queued per destination address as they arrive; an
 * expect consumes the oldest MT to its FROM, whatever it says. */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sc.h"
#include "env.h"
#include "mo.h"
#include "opts.h"
#include "script.h"
#include "script_int.h"
#include "server.h"
#include "stats.h"

/* ---- MT queues ------------------------------------------------------------------ */

static struct dest **dest_slot(struct sim_script *sc, const char *addr)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        h = (h ^ *p) * 16777619u;
    struct dest **pp = &sc->buckets[h % NBUCKETS];
    while (*pp && strcmp((*pp)->addr, addr) != 0)
        pp = &(*pp)->next;
    return pp;
}

static struct dest *dest_find(struct sim_script *sc, const char *addr)
{
    return *dest_slot(sc, addr);
}

static struct sim_mt *dest_pop(struct sim_script *sc, const char *addr)
{
    struct dest *d = dest_find(sc, addr);
    if (!d || !d->head)
        return NULL;
    struct sim_mt *m = d->head;
    d->head = m->next;
    if (!d->head)
        d->tail = NULL;
    d->n--;
    sc->nmt--;
    return m;
}

static size_t dest_count(struct sim_script *sc, const char *addr)
{
    if (strcmp(addr, "*") == 0)
        return sc->nmt;
    struct dest *d = dest_find(sc, addr);
    return d ? d->n : 0;
}

/* The oldest MT to addr, or with "*" one to any destination. */
static struct sim_mt *dest_pop_any(struct sim_script *sc, const char *addr)
{
    if (strcmp(addr, "*") != 0)
        return dest_pop(sc, addr);
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct dest *d = sc->buckets[b]; d; d = d->next)
            if (d->head)
                return dest_pop(sc, d->addr);
    return NULL;
}

static void dest_push(struct sim_script *sc, struct sim_mt *mt)
{
    struct dest **pp = dest_slot(sc, mt->to);
    if (!*pp) {
        *pp = calloc(1, sizeof **pp);
        if (!*pp) {
            free(mt);
            sc->env->stats->mt_dropped++;
            return;
        }
        sc_strlcpy((*pp)->addr, mt->to, sizeof (*pp)->addr);
    }
    struct dest *d = *pp;
    mt->next = NULL;
    if (d->tail)
        d->tail->next = mt;
    else
        d->head = mt;
    d->tail = mt;
    d->n++;
    sc->nmt++;
}

/* ---- reporting ------------------------------------------------------------------ */

/* Text for a one-line report: quotes, backslashes and control bytes escaped. */
static const char *show(char *buf, size_t bufsz, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (; *s && o + 8 < bufsz; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7F) {
            o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    if (*s)
        o += (size_t)snprintf(buf + o, bufsz - o, "...");
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static struct step *cur_step(struct sim_script *sc)
{
    return sc->cur < sc->nsteps && !sc->done ? &sc->steps[sc->cur] : NULL;
}

static uint64_t step_timeout(const struct sim_script *sc, const struct step *st)
{
    return st->ms ? st->ms : sc->env->o->timeout_ms;
}

static void pass(struct sim_script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pass(struct sim_script *sc, const char *fmt, ...)
{
    struct step *st = &sc->steps[sc->cur];
    char extra[4096] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(extra, sizeof extra, fmt, ap);
        va_end(ap);
    }
    printf("ok  line %d: %s%s\n", st->line, st->raw, extra);
    fflush(stdout);
    sc->passed++;
    sc->cur++;
    sc->waiting = 0;
    uv_timer_stop(&sc->timer);
}

static void fail(struct sim_script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sim_script *sc, const char *fmt, ...)
{
    struct step *st = &sc->steps[sc->cur];
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("FAIL line %d: %s\n", st->line, msg);
    sc->failed++;
    sc->cur++;
    sc->waiting = 0;
    uv_timer_stop(&sc->timer);
    /* Without a bound ESME nothing after can work; --fail-fast stops anyway. */
    if ((st->kind == K_WAIT_BOUND || sc->env->o->fail_fast) && sc->cur < sc->nsteps) {
        printf("stopping: %zu step(s) not run\n", sc->nsteps - sc->cur);
        sc->cur = sc->nsteps;
    }
    fflush(stdout);
}

/* ---- steps ------------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t);

static void wait_for(struct sim_script *sc, uint64_t ms)
{
    sc->waiting = 1;
    uv_timer_start(&sc->timer, on_timer, ms, 0);
}

static void check_expect(struct sim_script *sc, struct step *st)
{
    struct sim_mt *mt = dest_pop(sc, st->from);
    if (!mt)
        return;
    char b[2048];
    if (regexec(&st->re, mt->text, 0, NULL, 0) == 0)
        pass(sc, " -> %s", show(b, sizeof b, mt->text));
    else
        fail(sc, "expected /%s/ got %s", st->re_src, show(b, sizeof b, mt->text));
    free(mt);
}

static void check_status(struct sim_script *sc, struct step *st)
{
    struct sim_mo *mo = sc->last_mo;
    char b1[16], b2[16];
    if (!mo->done)
        return;
    if (mo->status == st->status)
        pass(sc, NULL);
    else
        fail(sc, "expected %s got %s", sim_status_name(st->status, b1, sizeof b1),
             sim_status_name(mo->status, b2, sizeof b2));
}

static void check_none(struct sim_script *sc, struct step *st)
{
    struct sim_mt *mt = dest_pop(sc, st->from);
    if (!mt)
        return;
    char b[2048];
    fail(sc, "expected no MT to %s got %s", st->from, show(b, sizeof b, mt->text));
    free(mt);
}

static void check_count(struct sim_script *sc, struct step *st, int final)
{
    size_t have = dest_count(sc, st->from);
    if (have < st->count && !final)
        return;
    size_t take = SC_MIN(have, (size_t)st->count);
    for (size_t i = 0; i < take; i++)
        free(dest_pop_any(sc, st->from));
    if (have >= st->count)
        pass(sc, NULL);
    else
        fail(sc, "expected %llu MTs to %s got %zu within %llu ms",
             (unsigned long long)st->count, st->from, have,
             (unsigned long long)step_timeout(sc, st));
}

static void burst_report(struct sim_script *sc, struct step *st, int ok)
{
    char list[1024] = "", b[16];
    size_t o = 0;
    for (unsigned i = 0; i < sc->b_status.n && o < sizeof list - 64; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s %llu", i ? ", " : "",
                              sim_status_name(sc->b_status.e[i].status, b, sizeof b),
                              (unsigned long long)sc->b_status.e[i].count);
    uint64_t ms = uv_now(sc->env->loop) - sc->b_start;
    if (ok)
        pass(sc, " (%llu MOs answered in %llu ms: %s)", (unsigned long long)sc->b_done,
             (unsigned long long)ms, list);
    else
        fail(sc, "burst: %llu of %llu MOs answered, none for %llu ms (%s)",
             (unsigned long long)sc->b_done, (unsigned long long)st->count,
             (unsigned long long)step_timeout(sc, st), list[0] ? list : "no resps");
}

/* Keep the MO queue fed; finish when every MO of the burst is answered. */
static void burst_fill(struct sim_script *sc, struct step *st)
{
    struct sim_env *env = sc->env;
    while (sc->b_left > 0 && sim_mo_queued(env->mos) < BURST_QUEUE &&
           sim_mo_queued(env->mos) < env->o->max_queue) {
        char err[256], from[SC_ADDR_MAX + 8];
        sc_strlcpy(from, st->from, sizeof from);
        if (st->spread) {
            uint64_t k = (st->count - sc->b_left) % st->spread;
            snprintf(from, sizeof from, "%0*llu", (int)strlen(st->from),
                     strtoull(st->from, NULL, 10) + (unsigned long long)k);
        }
        struct sim_mo *mo = sim_mo_send(env->mos, SIM_MO_BURST, from, st->to, st->text,
                                        st->text_len, &st->so, err, sizeof err);
        if (!mo) {
            fail(sc, "burst: %s", err);
            return;
        }
        if (sc->b_first_id == 0)
            sc->b_first_id = mo->id;
        sim_mo_release(mo);
        sc->b_left--;
    }
    if (sc->b_done == st->count)
        burst_report(sc, st, 1);
}

static void begin(struct sim_script *sc, struct step *st)
{
    struct sim_env *env = sc->env;
    char err[256];
    switch (st->kind) {
    case K_WAIT_BOUND:
        if (sim_server_rx_bound(env->srv))
            pass(sc, NULL);
        else
            wait_for(sc, step_timeout(sc, st));
        break;
    case K_SEND: {
        struct sim_mo *mo = sim_mo_send(env->mos, SIM_MO_SCRIPT, st->from, st->to, st->text,
                                        st->text_len, &st->so, err, sizeof err);
        if (!mo) {
            fail(sc, "send: %s", err);
            break;
        }
        if (sc->last_mo)
            sim_mo_release(sc->last_mo);
        sc->last_mo = mo;
        if (mo->nparts > 1)
            pass(sc, " (%u parts)", mo->nparts);
        else
            pass(sc, NULL);
        break;
    }
    case K_EXPECT:
        wait_for(sc, step_timeout(sc, st));
        check_expect(sc, st);
        break;
    case K_EXPECT_STATUS:
        if (!sc->last_mo) {
            fail(sc, "expect_status: no MO was sent before");
            break;
        }
        wait_for(sc, step_timeout(sc, st));
        check_status(sc, st);
        break;
    case K_EXPECT_NONE:
        wait_for(sc, st->ms);
        check_none(sc, st);
        break;
    case K_SLEEP:
        wait_for(sc, st->ms);
        break;
    case K_BURST:
        sc->b_left = st->count;
        sc->b_done = 0;
        sc->b_first_id = 0;
        sc->b_start = uv_now(env->loop);
        memset(&sc->b_status, 0, sizeof sc->b_status);
        wait_for(sc, step_timeout(sc, st));
        burst_fill(sc, st);
        break;
    case K_EXPECT_COUNT:
        wait_for(sc, step_timeout(sc, st));
        check_count(sc, st, 0);
        break;
    }
}

static void finish(struct sim_script *sc)
{
    sc->done = 1;
    printf("script: %u passed, %u failed\n", sc->passed, sc->failed);
    fflush(stdout);
    sc->env->stop(sc->env, sc->failed ? 1 : 0);
}

/* Run steps until one waits or the script ends. Re-entrant calls (an event
 * handled while a step starts) only ask the outer call to look again. */
static void run(struct sim_script *sc)
{
    if (sc->running) {
        sc->again = 1;
        return;
    }
    sc->running = 1;
    do {
        sc->again = 0;
        while (!sc->waiting && !sc->done) {
            if (sc->cur >= sc->nsteps) {
                finish(sc);
                break;
            }
            begin(sc, &sc->steps[sc->cur]);
        }
    } while (sc->again && !sc->done);
    sc->running = 0;
}

static void on_timer(uv_timer_t *t)
{
    struct sim_script *sc = t->data;
    struct step *st = cur_step(sc);
    if (!st || !sc->waiting)
        return;
    uint64_t ms = step_timeout(sc, st);
    char b[16];
    switch (st->kind) {
    case K_WAIT_BOUND:
        fail(sc, "no RX-capable ESME bound within %llu ms", (unsigned long long)ms);
        break;
    case K_EXPECT:
        fail(sc, "expected /%s/ got nothing within %llu ms", st->re_src, (unsigned long long)ms);
        break;
    case K_EXPECT_STATUS:
        fail(sc, "expected %s got no resp within %llu ms",
             sim_status_name(st->status, b, sizeof b), (unsigned long long)ms);
        break;
    case K_EXPECT_NONE:
    case K_SLEEP:
        pass(sc, NULL);
        break;
    case K_BURST:
        burst_report(sc, st, 0);
        break;
    case K_EXPECT_COUNT:
        check_count(sc, st, 1);
        break;
    case K_SEND:
        break;
    }
    run(sc);
}

/* ---- events ------------------------------------------------------------------------ */

void sim_script_start(struct sim_script *sc)
{
    run(sc);
}

void sim_script_on_mt(struct sim_script *sc, struct sim_mt *mt)
{
    if (sc->done) {
        free(mt);
        return;
    }
    if (sc->nmt >= sc->env->o->max_queue) {
        sc->env->stats->mt_dropped++;
        sc_warn("event=mt_dropped to=%s reason=\"script queue full\"", mt->to);
        free(mt);
        return;
    }
    char to[SC_ADDR_MAX];
    memcpy(to, mt->to, sizeof to);
    dest_push(sc, mt);
    struct step *st = cur_step(sc);
    if (!st || !sc->waiting ||
        (strcmp(st->from, to) != 0 && !(st->kind == K_EXPECT_COUNT && strcmp(st->from, "*") == 0)))
        return;
    if (st->kind == K_EXPECT)
        check_expect(sc, st);
    else if (st->kind == K_EXPECT_NONE)
        check_none(sc, st);
    else if (st->kind == K_EXPECT_COUNT)
        check_count(sc, st, 0);
    run(sc);
}

void sim_script_on_mo_done(struct sim_script *sc, struct sim_mo *mo)
{
    struct step *st = cur_step(sc);
    if (!st || !sc->waiting)
        return;
    if (mo->kind == SIM_MO_BURST && st->kind == K_BURST && sc->b_first_id &&
        mo->id >= sc->b_first_id) {
        sc->b_done++;
        sim_statmap_add(&sc->b_status, mo->status);
        uv_timer_start(&sc->timer, on_timer, step_timeout(sc, st), 0); /* progress */
        burst_fill(sc, st);
        run(sc);
    } else if (st->kind == K_EXPECT_STATUS && mo == sc->last_mo) {
        check_status(sc, st);
        run(sc);
    }
}

void sim_script_on_bound(struct sim_script *sc)
{
    struct step *st = cur_step(sc);
    if (st && sc->waiting && st->kind == K_WAIT_BOUND) {
        pass(sc, NULL);
        run(sc);
    }
}

/* Shutdown before the end (signal): report what ran. */
int sim_script_stop(struct sim_script *sc)
{
    int interrupted = 0;
    uv_timer_stop(&sc->timer);
    if (!sc->done) {
        sc->done = 1;
        if (sc->cur < sc->nsteps)
            printf("interrupted at line %d\n", sc->steps[sc->cur].line);
        interrupted = 1; /* not every step passed */
        printf("script: %u passed, %u failed\n", sc->passed, sc->failed);
        fflush(stdout);
    }
    if (!uv_is_closing((uv_handle_t *)&sc->timer))
        uv_close((uv_handle_t *)&sc->timer, NULL);
    return interrupted;
}
