/* quiet_clock.c -- quiet-hour state and its end timer (quiet_clock.h). */
#include "core/quiet_clock.h"

#include <sys/time.h>

#include "base/log.h"
#include "core/quiet.h"

long long sc_quiet_clock_real_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int zone_off(void *arg, long long t) { return sc_tz_offset(arg, t); }

static void on_timer(uv_timer_t *t);

/* State at the real time now; the timer armed for the end when inside. */
static void compute(struct sc_quiet_clock *c, long long now)
{
    const struct sc_cfg_mt *mc = c->mc;
    int was = c->in;
    long long next = 0, t = (now + c->off_ms) / 1000;
    c->in = sc_quiet_at(&mc->quiet, t, zone_off, mc->time_zone, &next);
    c->until_ms = mc->quiet.on ? next * 1000 - c->off_ms : 0;
    if (was && !c->in)
        c->ended = 1;
    uv_timer_stop(&c->timer);
    if (c->in) {
        long long d = c->until_ms - now;
        uv_timer_start(&c->timer, on_timer, (uint64_t)(d > 0 ? d : 0), 0);
    }
    if (was != c->in || c->in)
        sc_info("event=quiet_hours state=%s until_ms=%lld", c->in ? "on" : "off", c->until_ms);
}

static void on_timer(uv_timer_t *t)
{
    struct sc_quiet_clock *c = (struct sc_quiet_clock *)t;
    compute(c, sc_quiet_clock_real_ms());
    if (c->ended && c->on_end)
        c->on_end(c->arg);
}

void sc_quiet_clock_set(struct sc_quiet_clock *c, const struct sc_cfg_mt *mc)
{
    long long now = sc_quiet_clock_real_ms();
    c->mc = mc;
    c->off_ms = 0;
    if (mc->test_clock_s >= 0 && mc->quiet.on) {
        /* Local time of day now, moved to test_clock (forward, < a day). */
        long long t = now / 1000, tod = ((t + sc_tz_offset(mc->time_zone, t)) % SC_DAY_S +
                                         SC_DAY_S) % SC_DAY_S;
        long long d = ((mc->test_clock_s - tod) % SC_DAY_S + SC_DAY_S) % SC_DAY_S;
        c->off_ms = d * 1000 - now % 1000;
        sc_warn("event=quiet_test_clock local=%s msg=\"mt.test_clock is for tests only\"",
                mc->test_clock);
    }
    compute(c, now);
}

void sc_quiet_clock_init(struct sc_quiet_clock *c, uv_loop_t *loop, const struct sc_cfg_mt *mc,
                         void (*on_end)(void *), void *arg)
{
    *c = (struct sc_quiet_clock){.on_end = on_end, .arg = arg};
    uv_timer_init(loop, &c->timer);
    sc_quiet_clock_set(c, mc);
}

int sc_quiet_clock_in(struct sc_quiet_clock *c, int *ended)
{
    if (c->until_ms && sc_quiet_clock_real_ms() >= c->until_ms)
        compute(c, sc_quiet_clock_real_ms());
    *ended = c->ended;
    c->ended = 0;
    return c->in;
}

void sc_quiet_clock_close(struct sc_quiet_clock *c, uv_close_cb cb)
{
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, cb);
}
