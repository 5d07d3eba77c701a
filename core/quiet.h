/* quiet.h -- quiet hours: a local time-of-day range ("22:00-08:00", across
 * midnight when the end comes first) in a named time zone, and when the
 * next boundary falls (docs/reliability.md "Quiet hours").
 *
 * Pure but for sc_tz_offset(), which asks glibc for a zone's UTC offset by
 * setting TZ for the call and putting it back (tzset is process-wide; the
 * daemon has one thread, and the log writes UTC). It is called only when a
 * boundary is computed: at start, at a reload and when quiet hours begin or
 * end, never per push. */
#ifndef SC_QUIET_H
#define SC_QUIET_H

#define SC_DAY_S 86400

/* A parsed range: start_s and end_s are seconds after local midnight;
 * on 0 = no quiet hours. */
struct sc_quiet_range {
    int on;
    int start_s, end_s;
};

/* Parse "HH:MM-HH:MM" (00..23, 00..59; start != end), or "" / "off" / NULL
 * for none. Returns 0, or -1 with why set to a static message. */
int sc_quiet_parse(const char *s, struct sc_quiet_range *out, const char **why);

/* Parse "HH:MM:SS" into seconds after midnight. Returns 0 or -1. */
int sc_quiet_parse_clock(const char *s, int *out);

/* 1 when zone names a readable TZif file under TZDIR (default
 * /usr/share/zoneinfo), without "..", not absolute; "UTC" always. */
int sc_tz_valid(const char *zone);

/* The UTC offset (seconds east) of zone at unix time t; 0 for an unknown
 * zone (which glibc treats as UTC). */
int sc_tz_offset(const char *zone, long long t);

/* A zone's offset as a function, so that tests may give their own. */
typedef int (*sc_tz_offset_fn)(void *arg, long long t);

/* Whether unix time t (seconds) is inside r, offsets from off(arg, t); and
 * in *next the first unix time after t where that changes (a boundary's
 * local time, corrected for an offset change such as DST in between; a
 * boundary in a DST gap comes at most the gap's length after it).
 * *next is untouched when !r->on. */
int sc_quiet_at(const struct sc_quiet_range *r, long long t, sc_tz_offset_fn off, void *arg,
                long long *next);

#endif
