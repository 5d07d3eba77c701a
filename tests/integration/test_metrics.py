"""test_metrics.py -- GET /metrics of a real daemon (docs/operations.md
"Metrics") with redis-server and smsc-sim, parsed by python3-prometheus-
client's text parser: the values match what each test did (3 "0000" are 3
MOs on route vas_list with outcome reply, a push is counted by kind and
state, a bind lost is one reconnect, redis_up follows Redis), every family
is named shortcoded_* or process_*, and docs/grafana-dashboard.json only
asks for metrics the daemon exports."""
import http.client
import json
import os
import re

import harness
import prom
from harness import wait_for
from test_vas import M3, VasEnv

SRC = os.environ.get("SC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
# The names docs/DESIGN.md's "HTTP" requires (as the parser names families:
# a counter without its _total).
REQUIRED = ["shortcoded_mo", "shortcoded_mo_duration_seconds", "shortcoded_mt",
            "shortcoded_bind_up", "shortcoded_redis_up", "shortcoded_mt_queued"]


def scrape(port):
    """The text of GET /metrics, or None while nothing listens."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read().decode()
        if r.status != 200:
            raise AssertionError("GET /metrics: %d %s" % (r.status, body))
        if not r.getheader("Content-Type", "").startswith("text/plain; version=0.0.4"):
            raise AssertionError("Content-Type %r" % r.getheader("Content-Type"))
        return body
    except OSError:
        return None
    finally:
        c.close()


class MetricsMixin:
    def samples(self):
        text = wait_for(lambda: scrape(self.hport), 10, "GET /metrics")
        return prom.samples(text)

    def wait_value(self, want, name, **labels):
        """Poll until sample name{labels} == want; return the samples."""
        last = []

        def poll():
            smp = self.samples()
            last[:] = [prom.value(smp, name, **labels)]
            return smp if last[0] == want else None
        try:
            return wait_for(poll, 10, "%s%r == %r" % (name, labels, want))
        except AssertionError:
            raise AssertionError("%s%r is %r, not %r" % (name, labels, last, want))


class Mo(MetricsMixin, VasEnv):
    """The shipped config and routes, HTTP on."""

    def start_with_http(self):
        self.sim_port = harness.free_port()
        self.hport = harness.free_port()
        env = dict(os.environ)
        env["SHORTCODED_SMSC_PORT"] = str(self.sim_port)
        env["SHORTCODED_REDIS_URL"] = "redis://127.0.0.1:%d" % self.redis.port
        env["SHORTCODED_HTTP_LISTEN"] = "127.0.0.1:%d" % self.hport
        d = self.start("shortcoded", [harness.DAEMON, "-c", self.config()], env=env)
        d.wait_log(r"event=catalogue_loaded ", timeout=10)
        self.daemon = d
        return d

    def test_three_0000_are_three_mos_on_vas_list(self):
        self.start_with_http()
        before = self.samples()
        self.assertEqual(prom.value(before, "shortcoded_mo_total", route="vas_list",
                                    outcome="reply"), 0)
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3) * 3)
        smp = self.samples()
        v = prom.value
        self.assertEqual(v(smp, "shortcoded_mo_total", route="vas_list", outcome="reply"), 3)
        for o in ("rate_limited", "silent", "temporary_error"):
            self.assertEqual(v(smp, "shortcoded_mo_total", route="vas_list", outcome=o), 0, o)
        # A route's MOs are never no_route: that series is the route "-"'s.
        self.assertIsNone(v(smp, "shortcoded_mo_total", route="vas_list", outcome="no_route"))
        self.assertEqual(v(smp, "shortcoded_mo_total", route="-", outcome="no_route"), 0)
        self.assertEqual(v(smp, "shortcoded_mo_total", route="help", outcome="reply"), 0)
        self.assertEqual(v(smp, "shortcoded_mo_duration_seconds_count", route="vas_list"), 3)
        self.assertEqual(v(smp, "shortcoded_mo_duration_seconds_bucket", route="vas_list",
                           le="+Inf"), 3)
        self.assertGreater(v(smp, "shortcoded_mo_duration_seconds_sum", route="vas_list"), 0)
        # Each reply is 2 parts (test_vas.py): an MT is one however many parts.
        smp = self.wait_value(3, "shortcoded_mt_total", kind="reply", state="sent")
        self.assertEqual(v(smp, "shortcoded_mt_total", kind="reply", state="failed"), 0)
        # The catalogue load and 3 scripts at least went over the MO connection.
        self.assertGreaterEqual(v(smp, "shortcoded_redis_command_duration_seconds_count"), 4)
        self.assertEqual(v(smp, "shortcoded_redis_up"), 1)
        self.assertEqual(v(smp, "shortcoded_mt_queued", priority="reply"), 0)
        self.assertEqual(v(smp, "shortcoded_bind_window_used", bind="smsc1"), 0)
        self.assertEqual(v(smp, "shortcoded_build_info", version="0.1.0"), 1)
        self.assertGreater(v(smp, "process_cpu_seconds_total"), 0)
        self.assertGreater(v(smp, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(v(smp, "process_open_fds"), 3)

    def test_names_and_dashboard(self):
        self.start_with_http()
        text = wait_for(lambda: scrape(self.hport), 10, "GET /metrics")
        fams = prom.families(text)
        for name in REQUIRED:
            self.assertIn(name, fams)
        for name in fams:
            self.assertRegex(name, r"^(shortcoded|process)_")
        with open(os.path.join(SRC, "docs", "grafana-dashboard.json"), encoding="utf-8") as f:
            dash = json.load(f)
        exported = set(fams)
        for name, (typ, _) in fams.items():
            if typ == "counter":
                exported.add(name + "_total")
            if typ == "histogram":
                exported |= {name + "_bucket", name + "_sum", name + "_count"}
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        self.assertGreaterEqual(len(exprs), 5)
        for e in exprs:
            names = set(re.findall(r"\b((?:shortcoded|process)_[a-z_]+)\b", e))
            self.assertTrue(names, e)
            self.assertLessEqual(names, exported, e)
        # Every metric the reference documents is exported, and the other way round.
        with open(os.path.join(SRC, "docs", "operations.md"), encoding="utf-8") as f:
            ops = f.read()
        part = ops[ops.index("## Metrics"):]
        part = part[:part.find("\n## ", 1)] if "\n## " in part[1:] else part
        documented = set(re.findall(r"^\| `((?:shortcoded|process)_[a-z_]+)`", part, re.M))
        shown = {n + "_total" if fams[n][0] == "counter" else n for n in fams}
        self.assertEqual(documented, shown)


class Binds(MetricsMixin, harness.Env):
    def setUp(self):
        super().setUp()
        self.redis = self.start_redis()
        self.r = harness.Redis(self.redis.port)
        self.addCleanup(self.r.close)
        self.hport = harness.free_port()

    def daemon(self, sim):
        cfg = self.write_config(sim.port, self.redis.port,
                                extra="mt:\n  block_ms: 200\n"
                                      "http:\n  listen: 127.0.0.1:%d\n" % self.hport)
        d = self.start_daemon(cfg)
        d.wait_log(r"event=bound ", timeout=10)
        return d

    def test_push_counted_by_kind_and_state(self):
        sim = self.start_sim()
        self.daemon(sim)
        self.r("XADD", "mt:push", "*", "id", "p1", "to", "13000000001", "text", "hello",
               "kind", "promo")
        self.r("XADD", "mt:push", "*", "id", "p2", "to", "13000000002", "text", "x",
               "kind", "promo", "colour", "red")
        wait_for(lambda: len(self.r.stream("mt:status")) == 2, 10, "two mt:status entries")
        smp = self.samples()
        v = prom.value
        self.assertEqual(v(smp, "shortcoded_mt_total", kind="promo", state="sent"), 1)
        self.assertEqual(v(smp, "shortcoded_mt_total", kind="promo", state="dropped"), 1)
        self.assertEqual(v(smp, "shortcoded_mt_total", kind="reply", state="sent"), 0)
        for p in ["reply"] + [str(i) for i in range(10)]:
            self.assertEqual(v(smp, "shortcoded_mt_queued", priority=p), 0, p)

    def test_receipt_counted_by_stat(self):
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "50")
        self.daemon(sim)
        self.r("XADD", "mt:push", "*", "id", "d1", "to", "13000000001", "text", "bill",
               "kind", "bill")
        wait_for(lambda: [f["state"] for _, f in self.r.stream("mt:status")] ==
                 ["sent", "delivered"], 10, "d1 sent then delivered")
        # Counted once the script's answer is back (after it wrote mt:status).
        smp = self.wait_value(1, "shortcoded_receipts_total", stat="DELIVRD")
        for stat in ("UNDELIV", "EXPIRED", "other", "unknown_id"):
            self.assertEqual(prom.value(smp, "shortcoded_receipts_total", stat=stat), 0, stat)
        self.assertEqual(prom.value(smp, "shortcoded_mt_total", kind="bill", state="sent"), 1)

    def test_reconnect_counted_after_the_smsc_closed_the_link(self):
        # The simulator unbinds a session after its first submit_sm; the
        # daemon binds again at once, and stays bound.
        sim = self.start_sim("--unbind-after", "1")
        d = self.daemon(sim)
        smp = self.samples()
        self.assertEqual(prom.value(smp, "shortcoded_bind_reconnects_total", bind="smsc1"), 0)
        self.assertEqual(prom.value(smp, "shortcoded_bind_up", bind="smsc1"), 1)
        self.r("XADD", "mt:push", "*", "id", "r1", "to", "13000000001", "text", "hi")
        d.wait_log(r"event=bound ", count=2, timeout=10)
        smp = self.wait_value(1, "shortcoded_bind_up", bind="smsc1")
        self.assertEqual(prom.value(smp, "shortcoded_bind_reconnects_total", bind="smsc1"), 1)

    def test_redis_up_follows_redis(self):
        sim = self.start_sim()
        self.daemon(sim)
        self.wait_value(1, "shortcoded_redis_up")
        port = self.redis.port
        self.redis.stop()
        self.wait_value(0, "shortcoded_redis_up")
        self.redis = self.start_redis(port=port, name="redis_again")
        self.wait_value(1, "shortcoded_redis_up")


if __name__ == "__main__":
    harness.main()
