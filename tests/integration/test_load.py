#!/usr/bin/env python3
"""test_load.py -- smsc-sim --load against a real shortcoded and redis-server:
exit status, the JSON report's keys and its internal consistency. Never
asserts on speed (shared machines are noisy); every run is bounded."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import SIM, Env  # noqa: E402

TOP_KEYS = ("mode", "completed", "exit_status", "options", "sessions", "elapsed_s", "sent",
            "done", "ok", "sent_ucs2", "sent_data_sm", "scenarios", "latency_us",
            "mo_resp_status", "errors", "cancel_truncated", "no_idle_subscriber", "mt_parts",
            "throughput", "cpu")
LAT_KEYS = ("count", "min", "mean", "p50", "p90", "p99", "p99_9", "max")
ERR_KEYS = ("total", "mo_status", "missing_reply", "wrong_reply", "unexpected_reply", "throttled")


class LoadTest(Env):
    def run_load(self, *args, timeout=60):
        """Start redis, the daemon and smsc-sim --load; return (rc, report, output)."""
        report = os.path.join(self.dir, "load.json")
        sim = self.start_sim("--load", "--json", report, "--log-level", "warn", *args)
        daemon = self.start_daemon(self.write_config(sim.port))
        try:
            rc = sim.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("smsc-sim --load did not finish in %ds:\n%s" % (timeout, sim.output()))
        self.assertTrue(daemon.alive(), daemon.output()[-3000:])
        with open(report) as f:
            return rc, json.load(f), sim.output()

    def check_report(self, rc, r, out):
        for k in TOP_KEYS:
            self.assertIn(k, r)
        for k in ERR_KEYS:
            self.assertIn(k, r["errors"])
        for k in LAT_KEYS:
            self.assertIn(k, r["latency_us"])
        for k in ("user_s", "sys_s", "total_s", "s_per_1000_mo"):
            self.assertIn(k, r["cpu"])
        self.assertEqual(rc, 0, out[-3000:])
        self.assertEqual(r["exit_status"], 0)
        self.assertTrue(r["completed"])
        self.assertEqual(r["errors"]["total"], 0, r["errors"])
        self.assertGreater(r["sent"], 0)
        self.assertEqual(r["done"], r["sent"])
        self.assertEqual(r["ok"], r["sent"])
        lat = r["latency_us"]
        self.assertEqual(lat["count"], r["done"])
        self.assertLessEqual(lat["min"], lat["p50"])
        self.assertLessEqual(lat["p50"], lat["p90"])
        self.assertLessEqual(lat["p90"], lat["p99"])
        self.assertLessEqual(lat["p99"], lat["p99_9"])
        self.assertLessEqual(lat["p99_9"], lat["max"])
        self.assertEqual(sum(r["throughput"]["per_s"]), r["done"])
        self.assertIn("load: done", out)

    def test_count_rate_max(self):
        rc, r, out = self.run_load("--count", "2000", "--rate", "max", "--subscribers", "500",
                                   "--mix", "0000:70,cancel:20,unknown:10",
                                   "--ucs2-share", "30", "--datasm-share", "20",
                                   "--duration", "40")
        self.check_report(rc, r, out)
        self.assertEqual(r["sent"], 2000)
        self.assertGreater(r["sent_ucs2"], 0)
        self.assertGreater(r["sent_data_sm"], 0)
        self.assertGreater(r["scenarios"]["cancel"]["completed"], 0)
        self.assertEqual(r["mo_resp_status"].get("ESME_ROK"), 2000)

    def test_rate_duration(self):
        rc, r, out = self.run_load("--rate", "500", "--duration", "3", "--subscribers", "100",
                                   "--expect-regex", "0000=0000")
        self.check_report(rc, r, out)
        # Paced: about 1500 MOs in 3 s; generous bounds, this is not a speed test.
        self.assertGreater(r["sent"], 300)
        self.assertLessEqual(r["sent"], 1500 + 50)
        self.assertIn("t=1s sent=", out)

    def test_wrong_reply_fails(self):
        # The help text never contains this: every reply is wrong, exit 1.
        rc, r, out = self.run_load("--count", "20", "--subscribers", "5",
                                   "--expect-regex", "0000=^NEVER$")
        self.assertEqual(rc, 1)
        self.assertEqual(r["errors"]["wrong_reply"], 20)
        self.assertEqual(r["errors"]["total"], 20)

    def test_json_keeps_text(self):
        # A system_id in Chinese with a quote (the stats file shows what the
        # peer sent) and a quote in --to: both files parse and keep the text.
        sysid = '短信"q'
        report = os.path.join(self.dir, "load.json")
        sim = self.start_sim("--load", "--json", report, "--log-level", "warn",
                             "--account", sysid + ":secret", "--to", '1008"6',
                             "--count", "1", "--reply-timeout-ms", "200")
        binds = ("  - name: smsc1\n    host: 127.0.0.1\n    port: %d\n"
                 "    system_id: '%s'\n    password: secret\n" % (sim.port, sysid))
        self.start_daemon(self.write_config(sim.port, binds=binds))
        try:
            sim.wait(30)
        except subprocess.TimeoutExpired:
            raise AssertionError("smsc-sim --load did not finish:\n" + sim.output())
        with open(report, encoding="utf-8") as f:
            r = json.load(f)
        self.assertEqual(r["options"]["to"], '1008"6')
        self.assertEqual(r["options"]["from"], "13800138000")
        st = self.sim_stats(sim)
        self.assertEqual([s["system_id"] for s in st["sessions"]], [sysid])

    def test_usage(self):
        for args in (["--mix", "bogus:1"], ["--rate", "fast"], ["--ucs2-share", "101"],
                     ["--from", "99999", "--subscribers", "2"], ["--load", "--script", "x"]):
            p = subprocess.run([SIM, "--load"] + args, capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 2, (args, p.stderr))


if __name__ == "__main__":
    harness.main()
