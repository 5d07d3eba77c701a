/* lease.h -- session leases: binds with account_sessions: N share N session
 * slots per SMSC account (system_id@host:port) with every other daemon on
 * the same Redis. A link binds only while it holds a slot's lease
 * (SC_KEY_LEASE, SET NX PX ttl by a script, value the daemon's instance
 * id), renewed every ttl/3 by a script that renews only its own, and it
 * unbinds before the lease could have expired in Redis when renewals fail.
 * docs/scaling.md "Several daemons, one SMSC account" has the timeline and
 * the clock assumption.
 *
 * The lease side runs on a Redis connection of its own (conn=lease), so
 * that renewals never wait behind MO scripts. Internal to core/. */
#ifndef SC_LEASE_H
#define SC_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct sc_app;
struct sc_esme;
struct sc_leases;

/* ---- the pure parts (tests/unit/test_lease.c) ---- */

/* Room for an owner id: a host name (cut to 64 bytes), a pid, 16 hex. */
#define SC_LEASE_OWNER_MAX 96

/* The daemon instance id "HOST:PID:RRRRRRRRRRRRRRRR" (rnd in hex, host cut
 * to 64 bytes, characters other than [A-Za-z0-9.-] as '_') into out (at
 * least SC_LEASE_OWNER_MAX bytes). Returns its length, or SC_ERANGE when
 * outsz is too small. */
int sc_lease_owner(char *out, size_t outsz, const char *host, long pid, uint64_t rnd);

/* The slots a link may try to take, in the order tried: 0..n-1 (n <= 64)
 * without those in held (bit i = slot i is held by another of our links).
 * Writes them to out (room for n) and returns how many. */
unsigned sc_lease_candidates(unsigned n, uint64_t held, unsigned *out);

/* What follows a take or renewal of ttl_ms sent at sent_ms (the local
 * monotonic clock; Redis starts the ttl when it runs the command, later):
 * renew_at = sent + ttl/3; unbind_at = sent + ttl*3/4 (no renewal came:
 * unbind cleanly); close_by = sent + ttl*9/10 (the session is closed by
 * then, unbind_resp or not: the rest is the margin for clock rates and
 * for the close to reach the SMSC). */
struct sc_lease_times {
    uint64_t renew_at, unbind_at, close_by;
};
struct sc_lease_times sc_lease_times(uint64_t sent_ms, uint64_t ttl_ms);

/* When a lease taken at now may be used: not before ttl_ms after the
 * lease connection reached this Redis server (trusted_since: the first
 * connect, or the last one that found a different run_id): a server that
 * restarted without its data may have given away slots still in use
 * elsewhere, and their holders stop within ttl. */
uint64_t sc_lease_use_from(uint64_t now, uint64_t trusted_since, uint64_t ttl_ms);

/* The scripts (tests/unit/test_lease.c runs them on a real Redis).
 * take: KEYS the candidate slots, ARGV owner, ttl_ms, need (1 or 2):
 * the indexes in KEYS of the slots now ours (kept ones first, then free
 * ones; all set with the ttl), or an empty array when fewer than need.
 * renew: KEYS[1], ARGV owner, ttl_ms: 1 renewed, 0 not ours.
 * release: KEYS[1], ARGV owner: 1 deleted, 0 not ours. */
extern const char sc__lease_take_lua[];
extern const char sc__lease_renew_lua[];
extern const char sc__lease_release_lua[];

/* ---- the running side ---- */

/* Prepare the leases of the boot configuration's binds with
 * account_sessions > 0 and connect to Redis. Returns NULL with err ""
 * when no bind has one (nothing changes then), NULL with err on failure. */
struct sc_leases *sc_leases_new(struct sc_app *a, char *err, size_t errsz);
/* The esme was made (its gated links wait): take leases for its links and
 * permit them as leases are held. e must outlive ls's use of it (until
 * sc_leases_stop). */
void sc_leases_attach(struct sc_leases *ls, struct sc_esme *e);
/* 1 when every link is gated and none holds a lease now: a standby
 * daemon, whose unbound links are as they should be (GET /healthz). 0 for
 * NULL, before attach, or when a link holds one or is not gated. */
int sc_leases_standby(const struct sc_leases *ls);
/* Shutdown, after the esme stopped (every link unbound): delete the leases
 * still ours, close the connection, then done(arg). NULL ls: done now. */
void sc_leases_stop(struct sc_leases *ls, void (*done)(void *), void *arg);
/* After done. NULL is a no-op. */
void sc_leases_free(struct sc_leases *ls);

#endif
