/* quiet.c -- quiet hours: range parsing, zone offsets, boundaries (quiet.h). */
#include "core/quiet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sc.h"

static int two(const char *s, int max)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v <= max ? v : -1;
}

/* "HH:MM" at s (5 bytes): seconds after midnight, or -1. */
static int hhmm(const char *s)
{
    int h = two(s, 23), m = s[2] == ':' ? two(s + 3, 59) : -1;
    return h < 0 || m < 0 ? -1 : h * 3600 + m * 60;
}

int sc_quiet_parse(const char *s, struct sc_quiet_range *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s || strcmp(s, "off") == 0)
        return 0;
    if (strlen(s) != 11 || s[5] != '-') {
        *why = "must be \"HH:MM-HH:MM\" (local time), \"off\" or empty";
        return -1;
    }
    int a = hhmm(s), b = hhmm(s + 6);
    if (a < 0 || b < 0) {
        *why = "hours must be 00..23 and minutes 00..59, as \"22:00-08:00\"";
        return -1;
    }
    if (a == b) {
        *why = "start and end are the same time (\"off\" for none)";
        return -1;
    }
    out->on = 1, out->start_s = a, out->end_s = b;
    return 0;
}

int sc_quiet_parse_clock(const char *s, int *out)
{
    if (!s || strlen(s) != 8 || s[5] != ':')
        return -1;
    int a = hhmm(s), sec = two(s + 6, 59);
    if (a < 0 || sec < 0)
        return -1;
    *out = a + sec;
    return 0;
}

int sc_tz_valid(const char *zone)
{
    if (!zone || !*zone || zone[0] == '/' || strstr(zone, "..") || strlen(zone) > 64)
        return 0;
    if (strcmp(zone, "UTC") == 0)
        return 1;
    const char *dir = getenv("TZDIR");
    char path[512], magic[4];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

int sc_tz_offset(const char *zone, long long t)
{
    /* TZ for this call only, then back as it was (sc_fmt_past_time and
     * others use the process's zone). */
    const char *old = getenv("TZ");
    char saved[256];
    int had = old != NULL && strlen(old) < sizeof saved;
    if (had)
        sc_strlcpy(saved, old, sizeof saved);
    setenv("TZ", zone, 1);
    tzset();
    time_t tt = (time_t)t;
    struct tm tm;
    int off = localtime_r(&tt, &tm) ? (int)tm.tm_gmtoff : 0;
    if (had)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    return off;
}

static long long mod_day(long long v) { return ((v % SC_DAY_S) + SC_DAY_S) % SC_DAY_S; }

static int inside(const struct sc_quiet_range *r, long long tod)
{
    if (r->start_s < r->end_s)
        return tod >= r->start_s && tod < r->end_s;
    return tod >= r->start_s || tod < r->end_s; /* across midnight */
}

int sc_quiet_at(const struct sc_quiet_range *r, long long t, sc_tz_offset_fn off, void *arg,
                long long *next)
{
    if (!r->on)
        return 0;
    int o = off(arg, t);
    long long tod = mod_day(t + o);
    int in = inside(r, tod);
    long long d = mod_day((in ? r->end_s : r->start_s) - tod);
    if (d == 0)
        d = SC_DAY_S;
    /* The wall-clock distance, corrected when the offset changes on the
     * way (a DST change): a few rounds settle it. A boundary inside a DST
     * gap never settles: the uncorrected guess is taken when the rounds
     * end before t (at most the gap's length late). */
    long long c = t + d;
    for (int i = 0; i < 4; i++) {
        long long c2 = t + d - (off(arg, c) - o);
        if (c2 == c)
            break;
        c = c2;
    }
    if (c <= t)
        c = t + d;
    *next = c;
    return in;
}
