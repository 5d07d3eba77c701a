"""test_push_scale.py -- the push path at scale (issue 11): 10,000 pushes on
an SMSC that throttles 20 % of them and closes the bind twice, and a reply
under a backlog of 100,000 bulk texts on a slow SMSC. Same harness as
test_push.py (real redis-server, smsc-sim, the daemon)."""
import os
import time

import harness
from harness import wait_for
from test_push import PushEnv, DEST, xadd_many

WINDOW = 10


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class PushScaleTest(PushEnv):
    def test_10000_pushes_throttled_and_closed_twice(self):
        """Every id sent once in mt:status / mt:{ID}; the simulator saw each
        at least once; the only duplicates are parts the SMSC accepted just
        before a close (docs/reliability.md: at most window x closes)."""
        n, closes = 10000, 2
        xadd_many(self.redis.port, [{"id": "t%d" % i, "to": DEST, "text": "scale %d" % i}
                                    for i in range(n)])
        # About n / 0.8 submit_sm reach the simulator (a throttled part goes
        # again), plus binds and enquire_links: --close-every 5000 closes the
        # session exactly twice (at PDUs 5,000 and 10,000 of about 12,500).
        sim = self.start_sim("--throttle-share", "20", "--close-every", "5000", "--seed", "11",
                             "--log-level", "info")
        t0 = time.monotonic()
        self.daemon(sim, bind_extra="    window: %d\n    throttle_pause_ms: 1\n" % WINDOW,
                    mt="  max_queued: 200\n")
        self.wait_status(n, timeout=120)
        took = time.monotonic() - t0
        wait_for(lambda: self.pel() == 0, 30, "every entry acknowledged")
        st = self.sim_stats_until(sim, lambda s: s["mt_messages"] >= n, "every MT counted")
        self.assertEqual(st["faults"]["closed_every"], closes)
        throttled = st["faults"]["throttled"]
        self.assertGreater(throttled, n * 0.15)
        # mt:status: one `sent` per id, no other state, none twice.
        recorded = {}
        for f in self.status():
            self.assertEqual(f["state"], "sent", f)
            recorded[f["id"]] = recorded.get(f["id"], 0) + 1
        self.assertEqual(len(recorded), n, "ids missing from mt:status")
        self.assertEqual(set(recorded.values()), {1}, "an id recorded twice")
        for i in range(0, n, 997):
            self.assertEqual(self.r("HGET", "mt:{t%d}" % i, "state"), "sent")
        # At the simulator: every text, and the duplicates within the bound.
        counts = {}
        for m in self.mts(sim):
            counts[m[3]] = counts.get(m[3], 0) + 1
        self.assertEqual(len(counts), n, "a push never reached the SMSC")
        dups = sum(c - 1 for c in counts.values())
        self.assertLessEqual(dups, WINDOW * closes, "duplicates beyond window x closes")
        print("scale: %d pushes, %d throttled, %d closes, %d duplicates, %.1f s"
              % (n, throttled, closes, dups, took))

    def test_reply_overtakes_100000_backlog_in_bounded_memory(self):
        """A "0000" reply under 100,000 bulk texts waiting on a slow SMSC
        (window 10, 10 ms a resp: 1,000 MT/s, 100 s to drain) arrives after
        at most a few window slots, while almost all of the backlog is
        unsent, and the daemon's RSS does not grow with the backlog: it holds
        mt.max_queued pushes, the rest wait in Redis. The backlog is dropped
        at the end (DEL mt:push), not drained."""
        n = 100000
        xadd_many(self.redis.port, [{"id": "k%d" % i, "to": DEST, "text": "bulk %d" % i,
                                     "priority": "9"} for i in range(n)], batch=2000)
        self.assertEqual(self.r("XLEN", "mt:push"), n)
        script = ("wait_bound 10000\n"
                  "expect_count %s 200 60000\n"
                  "send 13800000000 0000\n"
                  "expect 13800000000 包月 60000\n"
                  "expect_count %s 1200 60000\n" % (DEST, DEST))
        sim = self.start_sim("--resp-delay-ms", "10", script=script)
        d = self.daemon(sim, bind_extra="    window: %d\n" % WINDOW)
        wait_for(lambda: self.r("XLEN", "mt:status") >= 100, 60, "the backlog to flow")
        rss_flowing = rss_kb(d.p.pid)
        rc, out = self.run_sim_script(sim, timeout=120)
        self.assertEqual(rc, 0, out[-3000:])
        rss_later = rss_kb(d.p.pid)
        order = [m[0] for m in self.mts(sim)]
        at = order.index("13800000000")
        # 200 bulk had arrived before the MO was sent; the reply waited for a
        # free window slot, not for the 1,000 the daemon holds nor the rest.
        self.assertLess(at, 200 + 500, "reply arrived after %d bulk MTs" % at)
        sent = self.r("XLEN", "mt:status")
        self.assertLess(sent, n // 10, "the backlog drained before the check")
        # Pending in the group + unread: what the daemon has not finished.
        self.assertGreater(self.r("XLEN", "mt:push") - sent, n * 9 // 10)
        # 1,000 more sent since the first RSS reading and 98,000 still in
        # Redis: the daemon's memory is that of max_queued pushes.
        # Holding the backlog would cost tens of MB (100,000 texts and their
        # jobs). Under AddressSanitizer freed memory stays in its quarantine
        # (up to 256 MB), so RSS grows with every push handled: about 7 MB
        # for these 1,000.
        bound = 32768 if harness.asan_build() else 4096
        self.assertLess(rss_later - rss_flowing, bound,
                        "RSS grew from %d to %d kB" % (rss_flowing, rss_later))
        print("backlog: reply after %d bulk MTs, %d sent of %d, RSS %d -> %d kB"
              % (at, sent, n, rss_flowing, rss_later))
        self.r("DEL", "mt:push")

    def test_status_capped_at_status_maxlen(self):
        """mt:status is written with MAXLEN ~ mt.status_maxlen by both the
        sent record and the receipt: 1,500 pushes with receipts (3,000
        entries) leave about 1,000, the newest."""
        n = 1500
        xadd_many(self.redis.port, [{"id": "m%d" % i, "to": DEST, "text": "cap %d" % i}
                                    for i in range(n)])
        sim = self.start_sim("--dlr", "--seed", "3")
        self.daemon(sim, mt="  status_maxlen: 1000\n")
        wait_for(lambda: self.r("HGET", "mt:{m%d}" % (n - 1), "state") == "delivered", 60,
                 "the last push delivered")
        wait_for(lambda: self.pel() == 0, 30, "every entry acknowledged")
        st = self.sim_until_receipts(sim, n)
        self.assertEqual(st["dlr_status"], {"ESME_ROK": n})
        got = self.r("XLEN", "mt:status")
        # ~: trimmed by whole stream nodes (stream-node-max-entries, 100).
        self.assertGreaterEqual(got, 1000)
        self.assertLess(got, 1000 + 200, "mt:status not capped")
        last = self.status()[-1]
        self.assertEqual(last["state"], "delivered")

    def sim_until_receipts(self, sim, n):
        return self.sim_stats_until(sim, lambda s: sum(s["dlr_status"].values()) >= n,
                                    "%d receipts answered" % n, timeout=60)


if __name__ == "__main__":
    harness.main()
