"""test_leases.py -- several daemons, one SMSC account: binds.account_sessions
leases in Redis (core/lease.c, docs/scaling.md "Several daemons, one SMSC
account").

Three daemons share one account that allows 2 sessions; smsc-sim counts the
binds per system_id ("accounts" in --stats) and refuses a third
(--max-binds 2): bound_max must stay 2 and refused_max_binds 0 (no daemon
ever tried) through a kill -9, a SIGTERM and a Redis restart that loses
every lease. MOs are answered by whichever daemon the sim gives them to.
"""
import http.client
import os
import re
import signal
import subprocess
import time

import harness
from harness import wait_for

TTL_MS = 2000
POLL_MS = 200
SYSID = "shortcoded"
HELP = "回复0000查询包月业务"


def read_text(path):
    with open(path) as f:
        return f.read()


class LeaseTest(harness.Env):
    def setUp(self):
        super().setUp()
        self.redis = self.start_redis()
        portfile = os.path.join(self.dir, "sim.port")
        self.stats_path = os.path.join(self.dir, "sim.stats.json")
        # Interactive: stdin lines are MOs, MTs are printed.
        self.sim = self.start("sim", [harness.SIM, "--listen", "127.0.0.1:0", "--port-file",
                                      portfile, "--interactive", "--max-binds", "2",
                                      "--stats", self.stats_path],
                              stdin=subprocess.PIPE)
        wait_for(lambda: os.path.exists(portfile) and read_text(portfile).strip(), 10,
                 "smsc-sim to listen")
        self.sim.port = int(read_text(portfile).strip())
        self.sim.stats_path = self.stats_path
        self.daemons = []
        self.http_ports = {}

    def tearDown(self):
        self.sim.p.stdin.close()
        super().tearDown()

    def config(self, name, mode="transceiver"):
        port = harness.free_port()
        self.http_ports[name] = port
        path = self.write_config(self.sim.port, bind_extra="    account_sessions: 2\n"
                                                           "    mode: %s\n" % mode,
                                 extra="leases:\n  ttl_ms: %d\n  poll_ms: %d\n"
                                       "http:\n  listen: 127.0.0.1:%d\n"
                                       % (TTL_MS, POLL_MS, port))
        mine = os.path.join(self.dir, name + ".yaml")
        os.rename(path, mine)
        return mine

    def start_daemons(self, *names, mode="transceiver"):
        out = []
        for n in names:
            d = self.start_daemon(self.config(n, mode), name=n)
            self.daemons.append(d)
            out.append(d)
        return out

    def account(self):
        st = self.sim_stats_until(self.sim, lambda s: True, "sim stats")
        return st.get("accounts", {}).get(SYSID, {"bound_now": 0, "bound_max": 0,
                                                   "refused_max_binds": 0})

    def bound_now(self, n, what, timeout):
        return self.sim_stats_until(
            self.sim, lambda s: s.get("accounts", {}).get(SYSID, {}).get("bound_now") == n,
            what, timeout=timeout)

    def assert_never_more(self):
        a = self.account()
        self.assertLessEqual(a["bound_max"], 2, a)
        self.assertEqual(a["refused_max_binds"], 0, a)

    @staticmethod
    def holds(d):
        """Whether d's log says it holds a lease now (taken more often than lost)."""
        return d.count(r"event=lease_taken ") > d.count(r"event=lease_lost ")

    def healthz(self, d):
        c = http.client.HTTPConnection("127.0.0.1", self.http_ports[d.name], timeout=5)
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def type(self, text):
        self.sim.p.stdin.write(text.encode())
        self.sim.p.stdin.flush()

    def waiting_daemon(self, live):
        """The one live daemon without a lease, once it has tried and found none free."""
        w = [d for d in live if not self.holds(d)]
        self.assertEqual(len(w), 1, [d.name for d in live])
        w[0].wait_log(r"event=lease_none_free ", timeout=TTL_MS / 1000 + 10)
        return w[0]

    def test_two_of_three_bind_and_take_over(self):
        a, b, c = self.start_daemons("d1", "d2", "d3")
        self.bound_now(2, "two daemons bound", timeout=20)
        live = [a, b, c]
        waiting = self.waiting_daemon(live)
        self.assert_never_more()
        # A standby daemon is healthy (a supervisor must not restart it).
        self.assertEqual(self.healthz(waiting), (200, "ok (standby: waiting for a session lease)\n"))
        holder = [d for d in live if d is not waiting][0]
        self.assertEqual(self.healthz(holder), (200, "ok\n"))

        # MOs: answered by whichever daemon the SMSC gives them to.
        self.type("0000\n0000\n0000\n0000\n")
        self.sim.wait_log(re.escape(HELP), count=4, timeout=15)
        # The MO's log line may come just after its reply left.
        wait_for(lambda: sum(d.count(r"event=mo ") for d in live) >= 4, 10,
                 "4 MOs logged by the daemons")
        self.assertEqual(sum(d.count(r"event=mo ") for d in live), 4)
        self.assertEqual(waiting.count(r"event=mo "), 0)

        # kill -9 of a holder: the waiting daemon takes its slot once the
        # lease expires: within the ttl, plus a poll and a bind.
        victim = [d for d in live if d is not waiting][0]
        t0 = time.monotonic()
        victim.signal(signal.SIGKILL)
        victim.wait()
        live.remove(victim)
        waiting.wait_log(r"event=lease_taken ", timeout=TTL_MS / 1000 + 5)
        self.bound_now(2, "the waiting daemon bound after the kill", timeout=10)
        took = time.monotonic() - t0
        self.assertLess(took, TTL_MS / 1000 + 3.0, "took %.2f s" % took)
        self.assert_never_more()

        # SIGTERM frees at once: when the daemon has exited its lease is
        # deleted (not left to expire), and a new waiting daemon (past its
        # fence, polling) takes the slot.
        d4, = self.start_daemons("d4")
        live.append(d4)
        self.waiting_daemon(live)
        leaving = [d for d in live if d is not d4][0]
        owner = re.findall(r"event=lease_taken .* owner=(\S+)", leaving.output())[-1]
        leaving.signal(signal.SIGTERM)
        self.assertEqual(leaving.wait(10), 0)
        self.assertRegex(leaving.output(), r"event=lease_released .* result=deleted")
        r = harness.Redis(self.redis.port)
        self.addCleanup(r.close)
        held = [r("GET", k) for k in r("KEYS", "lease:*")]
        self.assertNotIn(owner.encode(), held)
        live.remove(leaving)
        d4.wait_log(r"event=lease_taken ", timeout=TTL_MS / 1000 + 5)
        self.bound_now(2, "d4 bound after the SIGTERM", timeout=10)
        self.assert_never_more()

    def test_receiver_transmitter_pair_leased_together(self):
        # Two links per daemon, two sessions on the account: one daemon gets
        # both (half a pair could take MOs and never answer them).
        a, b = self.start_daemons("d1", "d2", mode="receiver+transmitter")
        self.bound_now(2, "one pair bound", timeout=20)
        holder = a if self.holds(a) else b
        other = b if holder is a else a
        other.wait_log(r"event=lease_none_free ", timeout=TTL_MS / 1000 + 10)
        self.assertEqual(holder.count(r"event=lease_taken "), 2)
        self.assertEqual(other.count(r"event=lease_taken "), 0)
        self.type("0000\n0000\n")
        self.sim.wait_log(re.escape(HELP), count=2, timeout=15)
        holder.signal(signal.SIGKILL)
        holder.wait()
        other.wait_log(r"event=lease_taken ", count=2, timeout=TTL_MS / 1000 + 5)
        self.bound_now(2, "the other pair bound", timeout=10)
        self.type("0000\n")
        self.sim.wait_log(re.escape(HELP), count=3, timeout=15)
        self.assert_never_more()

    def test_redis_frozen_past_the_ttl(self):
        # No renewal can succeed: each holder unbinds before its lease can
        # expire in Redis; once Redis runs again the leases have expired
        # there and the daemons take them again (same server: no fence).
        daemons = self.start_daemons("d1", "d2", "d3")
        self.bound_now(2, "two daemons bound", timeout=20)
        holders = [d for d in daemons if self.holds(d)]
        self.redis.signal(signal.SIGSTOP)
        try:
            for d in holders:
                d.wait_log(r"event=lease_lost .*reason=not_renewed", timeout=TTL_MS / 1000 + 5)
            self.bound_now(0, "every bind closed while Redis is frozen", timeout=10)
        finally:
            self.redis.signal(signal.SIGCONT)
            self.redis.expected_signal = None
        self.bound_now(2, "two binds again", timeout=TTL_MS / 1000 + 10)
        self.assert_never_more()

    def test_redis_restart_losing_the_leases(self):
        self.start_daemons("d1", "d2", "d3")
        self.bound_now(2, "two daemons bound", timeout=20)
        port = self.redis.port
        self.redis.signal(signal.SIGKILL)
        self.redis.wait()
        # The same port, an empty data directory: every lease is gone.
        fresh = os.path.join(self.dir, "fresh")
        os.makedirs(fresh)
        self.redis = self.start("redis2", ["redis-server", "--port", str(port), "--bind",
                                           "127.0.0.1", "--save", "", "--appendonly", "yes",
                                           "--appendfsync", "everysec", "--dir", fresh])
        wait_for(lambda: self._redis_ping(port), 10, "redis to answer PING")
        # Each daemon sees a new server: it waits a ttl before using a slot
        # the new server gives (the old holders stop within that ttl).
        for d in self.daemons:
            d.wait_log(r"event=lease_server ", count=2, timeout=15)
        self.sim_stats_until(
            self.sim, lambda s: sum(d.count(r"event=lease_taken ") for d in self.daemons) >= 4
            and s["accounts"][SYSID]["bound_now"] == 2,
            "two binds again after the restart", timeout=20)
        self.assert_never_more()


if __name__ == "__main__":
    harness.main()
