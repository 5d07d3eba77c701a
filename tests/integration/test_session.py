"""test_session.py -- shortcoded against smsc-sim: bind, replies in every MO
encoding, enquire_link both ways, reconnect after an SMSC restart, window,
throttling, TPS, clean SIGTERM."""
import os
import re
import resource
import signal
import time

import harness
from harness import wait_for

HELP = "回复0000查询包月业务"


class SessionTest(harness.Env):
    def daemon_for(self, sim, bind_extra="", **kw):
        cfg = self.write_config(sim.port, bind_extra=bind_extra, **kw)
        d = self.start_daemon(cfg)
        d.wait_log(r"event=bound ", timeout=10)
        return d

    def test_replies_in_every_encoding(self):
        # expect_none 13800138003 0 after the reply to 13800138004: MOs run
        # in order and replies leave in order, so a second reply to the
        # three-part MO would have come before it.
        script = """
wait_bound
send 13800138000 0000
expect 13800138000 %(h)s
send --ucs2 13800138001 ００００
expect 13800138001 %(h)s
send --data-sm 13800138002 0000
expect 13800138002 %(h)s
send --parts 3 13800138003 this long MO arrives in three parts and is answered once
expect 13800138003 %(h)s
send --parts 2 --udh16 --ucs2 13800138004 一条分两段发送的中文长短信
expect 13800138004 %(h)s
expect_none 13800138003 0
send --parts 2 --sar 13800138005 sar segmented message text
expect 13800138005 %(h)s
send 8613800138006 0000
expect 8613800138006 %(h)s
""" % {"h": HELP}
        sim = self.start_sim(script=script)
        d = self.daemon_for(sim)
        rc, out = self.run_sim_script(sim)
        self.assertEqual(rc, 0, out)
        self.assertIn(" 0 failed", out)
        self.assertTrue(d.alive())

    def stats_until(self, sim, pred, what, timeout=20):
        """The simulator's stats once pred(stats) holds: asks for them
        (SIGUSR1) until then, so a slow machine only takes longer."""
        def poll():
            sim.signal(signal.SIGUSR1)  # write stats now
            try:
                st = self.sim_stats(sim)
            except (OSError, ValueError):  # not written yet
                return None
            return st if pred(st) else None
        return wait_for(poll, timeout, what, interval=0.2)

    def test_enquire_link_both_ways(self):
        sim = self.start_sim("--enquire-link-ms", "300")
        d = self.daemon_for(sim, bind_extra="    enquire_link_s: 1\n")
        # The sim is never idle for 1 s (it pings every 300 ms), so the
        # daemon answers but need not send; the sim counts its resps.
        st = self.stats_until(sim, lambda st: st["enquire_link_resp_received"] >= 4,
                              "4 enquire_link_resp")
        self.assertGreaterEqual(st["enquire_link_sent"], 4, st)
        self.assertEqual(d.count(r"event=link_dead"), 0)

    def test_daemon_sends_enquire_link_when_idle(self):
        sim = self.start_sim()
        d = self.daemon_for(sim, bind_extra="    enquire_link_s: 1\n")
        self.stats_until(sim, lambda st: st["enquire_link_received"] >= 2,
                         "2 enquire_link from the daemon")
        self.assertTrue(d.alive())

    def test_reconnect_after_smsc_restart(self):
        sim = self.start_sim()
        d = self.daemon_for(sim)
        port = sim.port
        sim.signal(signal.SIGKILL)
        sim.wait()
        d.wait_log(r"event=session_closed", timeout=5)
        d.wait_log(r"level=warn event=unbound bind=smsc1 ", timeout=5)  # not asked for
        d.wait_log(r"event=reconnect_scheduled", timeout=5)
        d.wait_log(r"event=connect_failed ", count=2)  # refused while the SMSC is down
        script = "wait_bound 5000\nsend 13800138000 0000\nexpect 13800138000 %s\n" % HELP
        sim2 = self.start_sim(port=port, script=script, name="sim2")
        d.wait_log(r"event=bound ", timeout=10, count=2)
        rc, out = self.run_sim_script(sim2)
        self.assertEqual(rc, 0, out)

    def test_window_never_exceeded(self):
        script = "wait_bound\nburst 40 13800138000 0000\nexpect_count 13800138000 40 20000\n"
        sim = self.start_sim("--resp-delay-ms", "100", script=script)
        self.daemon_for(sim, bind_extra="    window: 3\n")
        rc, out = self.run_sim_script(sim)
        self.assertEqual(rc, 0, out)
        st = self.sim_stats(sim)
        self.assertEqual(st["submit_sm_received"], 40, st)
        self.assertLessEqual(st["max_outstanding"], 3, st)
        self.assertEqual(st["max_outstanding"], 3, st)  # the window was used, not just respected

    def test_throttling_honoured(self):
        script = "wait_bound\nburst 12 13800138000 0000\nexpect_count 13800138000 12 20000\n"
        sim = self.start_sim("--throttle-every", "4", script=script)
        d = self.daemon_for(sim, bind_extra="    throttle_pause_ms: 200\n")
        rc, out = self.run_sim_script(sim)
        self.assertEqual(rc, 0, out)
        st = self.sim_stats(sim)
        self.assertGreater(st["throttled"], 0, st)
        # Every throttled submit was sent again and accepted.
        self.assertEqual(st["submit_sm_received"] - st["throttled"], 12, st)
        self.assertGreater(d.count(r"event=throttled"), 0)

    def test_tps_limit_honoured(self):
        script = "wait_bound\nburst 30 13800138000 0000\nexpect_count 13800138000 30 20000\n"
        sim = self.start_sim(script=script)
        d = self.daemon_for(sim, bind_extra="    tps: 10\n")
        rc, out = self.run_sim_script(sim)
        done = time.time()
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.sim_stats(sim)["submit_sm_received"], 30)
        # Token-bucket accounting: 10/s with a burst of 1 lets 30 submit_sm
        # leave no sooner than 2.9 s after the bind, which starts the
        # bucket. From the daemon's own bind time to after the simulator saw
        # the 30th: a lower bound, which a slow machine only makes easier to
        # meet (a 1 s window count at the receiver is not: a stall there
        # bunches what was sent evenly).
        bound = harness.log_time(re.search(r"(?m)^(\S+) level=info event=bound ",
                                           d.output()).group(1))
        self.assertGreaterEqual(done - bound, 2.9 - 0.002)  # timestamps cut to the ms
        # And at the receiver, window by window (the default window, 10).
        worst = harness.tps_worst_window(self.sim_stats(sim)["sessions"], tps=10, window=10)
        self.assertLessEqual(worst[0], 0, worst)

    def test_sigterm_unbinds_cleanly(self):
        sim = self.start_sim()
        d = self.daemon_for(sim)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(10), 0, d.output())
        self.assertIn("event=unbound_clean", d.output())
        # An unbind we asked for is no warning (alerts fire on warnings).
        self.assertRegex(d.output(), r"level=info event=unbound bind=smsc1 ")
        self.assertNotRegex(d.output(), r"level=warn event=unbound ")
        sim.signal(signal.SIGUSR1)
        st = wait_for(lambda: os.path.exists(sim.stats_path) and self.sim_stats(sim), 5, "stats")
        self.assertEqual(st["unbind_received"], 1, st)

    def test_reply_longer_than_max_parts_is_cut_not_dropped(self):
        script = "wait_bound\nsend 13800138000 0000\nexpect 13800138000 ^帮助帮助.*…$\n"
        sim = self.start_sim(script=script)
        cfg = self.write_config(sim.port, extra="smpp:\n  max_parts: 1\n")
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
        with open(cfg, "w", encoding="utf-8") as f:  # 200 characters: 3 UCS-2 parts
            f.write(re.sub(r"  help: .*\n", "  help: \"%s\"\n" % ("帮助" * 100), text))
        d = self.start_daemon(cfg)
        rc, out = self.run_sim_script(sim)
        self.assertEqual(rc, 0, out)
        self.assertIn("event=reply_truncated", d.output())

    def test_receiver_transmitter_pair(self):
        script = ("wait_bound\nsend 13800138000 0000\nexpect 13800138000 %s\n"
                  "send --ucs2 13800138001 ００００\nexpect 13800138001 %s\n" % (HELP, HELP))
        sim = self.start_sim(script=script)
        d = self.daemon_for(sim, bind_extra="    mode: receiver+transmitter\n")
        d.wait_log(r"event=bound bind=smsc1/(rx|tx)", count=2)
        rc, out = self.run_sim_script(sim)
        self.assertEqual(rc, 0, out)
        st = self.sim_stats(sim)
        binds = sorted(x["bind"] for x in st["sessions"])
        self.assertEqual(binds, ["receiver", "transmitter"], st["sessions"])
        sent_on = {x["bind"]: x["submit_sm_received"] for x in st["sessions"]}
        self.assertEqual(sent_on, {"receiver": 0, "transmitter": 2})

    def test_replies_spread_over_several_binds(self):
        # Both binds must be up before the burst, which wait_bound (one
        # bound session) does not wait for. The simulator is frozen until
        # both bind requests are in its sockets: it then reads and answers
        # both in the loop turn it wakes up in, before the daemon can have
        # answered a single MO of the burst (each needs a Redis round trip).
        script = ("wait_bound 60000\nburst --spread 50 200 13800138000 0000\n"
                  "expect_count * 200 20000\n")
        sim = self.start_sim(script=script)
        sim.signal(signal.SIGSTOP)
        binds = "".join("  - name: b%d\n    host: 127.0.0.1\n    port: %d\n"
                        "    system_id: shortcoded\n    password: secret\n" % (i, sim.port)
                        for i in range(2))
        try:
            d = self.start_daemon(self.write_config(sim.port, binds=binds))
            d.wait_log(r"event=binding ", count=2)
        finally:
            sim.signal(signal.SIGCONT)
        d.wait_log(r"event=bound ", count=2)
        rc, out = self.run_sim_script(sim)
        self.assertEqual(rc, 0, out)
        per = [x["submit_sm_received"] for x in self.sim_stats(sim)["sessions"]]
        self.assertEqual(sum(per), 200, per)
        self.assertTrue(all(n >= 50 for n in per), per)  # round-robin, not all on one

    def test_max_inflight_refuses_with_temporary_error(self):
        # Redis frozen before the SMSC comes: the first MO waits in flight
        # (until its command times out), the second, read after it on the
        # same link, finds max_inflight 1 reached. No sleeps: the order of
        # the two MOs on one link is the order the daemon handles them.
        port = harness.free_port()
        cfg = self.write_config(port, limits="  rate_limit_count: 1000\n  max_inflight: 1\n")
        d = self.start_daemon(cfg)
        d.wait_log(r"event=catalogue_loaded ")  # its last Redis command at start
        self.redis.signal(signal.SIGSTOP)
        try:
            sim = self.start_sim(port=port, script="wait_bound\nsend 13800138000 0000\n"
                                 "send 13800138001 0000\nexpect_status ESME_RX_T_APPN 5000\n")
            rc, out = self.run_sim_script(sim)
        finally:
            self.redis.signal(signal.SIGCONT)
        self.assertEqual(rc, 0, out)
        self.assertIn("event=mo_refused msisdn=13800138001", d.output())
        # The positive marker: the first MO's outcome, logged when the daemon
        # is done with it. The refused one never became a request: no reply.
        d.wait_log(r"event=mo msisdn=13800138000 .*outcome=")
        self.assertNotIn("event=mo msisdn=13800138001 ", d.output())

    def test_binds_that_cannot_start_stop_the_daemon_cleanly(self):
        """The binds start once Redis answered; when the esme cannot be made
        (out of memory: 8,000 receiver+transmitter binds need one 11 MB
        array of links) the daemon logs why, stops its loop the normal way
        (event=stopped: the store and the catalogue closed, no leak under
        ASan) and exits 1. Memory runs out for real: under ASan no
        allocation over 8 MB succeeds (the config's largest, the 4 MB read
        buffer, stays under it); otherwise the address space is capped at what the daemon uses
        while it waits for a frozen Redis, plus 4 MB."""
        asan = harness.asan_build()
        self.redis = self.start_redis()
        self.redis.signal(signal.SIGSTOP)
        self.addCleanup(lambda: self.redis.signal(signal.SIGCONT))
        binds = "".join("  - name: b%d\n    host: 127.0.0.1\n    port: 9\n"
                        "    system_id: shortcoded\n    mode: receiver+transmitter\n" % i
                        for i in range(8000))
        cfg = self.write_config(9, binds=binds)
        env = dict(os.environ)
        if asan:
            env["ASAN_OPTIONS"] = ":".join(filter(None, [
                env.get("ASAN_OPTIONS"), "allocator_may_return_null=1",
                "max_allocation_size_mb=8"]))
        d = self.start("shortcoded", [harness.DAEMON, "-c", cfg], env=env)
        d.wait_log(r"event=waiting_for_redis ", timeout=30)
        if not asan:
            with open("/proc/%d/status" % d.p.pid) as f:
                vm = int(re.search(r"VmSize:\s+(\d+) kB", f.read()).group(1)) * 1024
            hard = resource.prlimit(d.p.pid, resource.RLIMIT_AS)[1]
            resource.prlimit(d.p.pid, resource.RLIMIT_AS, (vm + (4 << 20), hard))
        self.redis.signal(signal.SIGCONT)
        self.assertEqual(d.wait(60), 1, d.output()[-3000:])
        out = d.output()
        self.assertIn('event=startup_failed error="cannot start the binds: out of memory" '
                      'action=stopping', out)
        self.assertRegex(out, r"event=startup_failed .*\n(.*\n)*.*event=stopped")
        self.assertNotIn("event=binding ", out)

    def test_wrong_password_retries_with_backoff(self):
        """Each refused bind is retried after reconnect_min_ms * 2^(k-1),
        capped at reconnect_max_ms, jittered into the upper half (docs/smpp.md).
        Checked on the daemon's own log: the delay it chose for attempt k
        must be in that range, and its next bind must not start before that
        delay has passed since the previous bind. Both hold on any machine
        speed: a slow machine only makes the gaps longer."""
        sim = self.start_sim("--account", "shortcoded:other")
        cfg = self.write_config(sim.port)  # reconnect_min_ms 100, reconnect_max_ms 1000
        d = self.start_daemon(cfg)
        tries = 6
        d.wait_log(r"event=bind_failed .*status=ESME_RINVPASWD", timeout=30, count=tries)
        self.assertNotIn("secret", d.output())  # never log the password
        binds, delays = [], []
        for line in d.output().splitlines():
            m = re.match(r"(\S+) level=\w+ event=(binding|reconnect_scheduled) (.*)", line)
            if not m:
                continue
            if m.group(2) == "binding":
                binds.append(harness.log_time(m.group(1)))
            else:
                a = re.search(r"in_ms=(\d+) attempt=(\d+)", m.group(3))
                delays.append((int(a.group(1)), int(a.group(2))))
        self.assertGreaterEqual(len(binds), tries)
        for k in range(1, tries):
            in_ms, attempt = delays[k - 1]
            self.assertEqual(attempt, k, delays)
            base = min(100 * 2 ** (k - 1), 1000)
            self.assertTrue(base // 2 <= in_ms <= base, "attempt %d: in_ms=%d, want %d..%d"
                            % (k, in_ms, base // 2, base))
            gap_ms = (binds[k] - binds[k - 1]) * 1000
            # 2 ms: both timestamps are cut to the millisecond.
            self.assertGreaterEqual(gap_ms, in_ms - 2, "attempt %d came early" % k)


if __name__ == "__main__":
    harness.main()
