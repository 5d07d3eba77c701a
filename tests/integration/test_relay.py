"""test_relay.py -- the relay on a Redis Cluster (3 masters + 3 replicas):
a subscriber's script writes its global writes (vas:events, vas:orders:due)
to its outbox out:{M}, and the daemon relays them before it answers the MO
(docs/reliability.md "The relay", docs/scaling.md). An order confirmed by
"Y" reaches vas:events through the outbox; a daemon killed -9 between the
script and the relay loses nothing: the entry waits in the outbox, the MO is
not answered, and when the SMSC delivers it again the entry is relayed."""
import os
import signal

import cluster_harness
import harness
import test_orders
from harness import wait_for
import prom
from test_metrics import MetricsMixin
from test_vas import M0, M3, VasEnv

SINCE = "1650000000"


class RelayClusterTest(MetricsMixin, VasEnv):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)

    def owner(self, key):
        slot = cluster_harness.key_slot(key)
        for lo, hi, port in self.cluster.slot_map():
            if lo <= slot <= hi:
                return port
        raise AssertionError("no owner of %s" % key)

    def subscriber_away_from_events(self):
        """An MSISDN whose keys live on another master than vas:events."""
        events = self.owner("vas:events")
        for i in range(100):
            m = "1380013%04d" % i
            if self.owner("{%s}" % m) != events:
                return m
        raise AssertionError("every subscriber next to vas:events")

    def subscriber_with_cl001(self):
        """subscriber_away_from_events, subscribed to CL001 and confirmed:
        its cancel files no refund, its one global write is the event."""
        m = self.subscriber_away_from_events()
        self.r("HSET", "sub:{%s}:vas" % m, "CL001", SINCE)
        self.r("HSET", "sub:{%s}:conf" % m, "CL001", "ref")
        return m

    def test_order_confirmation_goes_through_the_outbox(self):
        m = self.subscriber_away_from_events()
        self.start_vas()
        self.run_script("send %s KTCL001\nexpect %s ^您将订购\n"
                        "send %s Y\nexpect %s ^您已成功订购\n" % (m, m, m, m))
        since = self.r("HGET", "sub:{%s}:vas" % m, "CL001")
        ev = [e for e in self.events() if e.get("msisdn") == m]
        self.assertEqual([(e["event"], e["id"]) for e in ev],
                         [("subscribe", "%s:CL001:%s:subscribe" % (m, since))])
        # The order's deadline reached the sweep's set through the outbox too.
        self.assertEqual(len(self.r("ZRANGE", "vas:orders:due", 0, -1)), 1)
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)

    def test_reminder_reaches_mt_push_through_the_outbox(self):
        """A usage:in entry crossing 80 % of the data quota: its reminder's
        mt:push entry (written by the usage script through sc_emit) is
        relayed from out:{M} before the entry is acknowledged."""
        m = self.subscriber_away_from_events()
        self.start_vas()
        at = 1764000000000
        for used in ("0", "800"):
            at += 1
            self.r("XADD", "usage:in", "*", "msisdn", m, "at", str(at), "cycle", "202612",
                   "data_quota_kb", "1000", "data_used_kb", used)
        want = "rem:%s:202612:data:80" % m
        wait_for(lambda: [f["id"] for _, f in self.r.stream("mt:push")] == [want], 15,
                 "the reminder in mt:push")
        wait_for(lambda: self.r("XPENDING", "usage:in", "shortcoded")[0] == 0, 10,
                 "the usage:in entries acknowledged")
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)

    def test_a_failed_write_leaves_the_entry_for_the_next_run(self):
        """The relay's write fails (vas:events is not a stream): the MO gets
        the temporary error, the entry stays in the outbox and is not taken
        for a repeat once the write can succeed (the marker is written only
        after the command)."""
        m = self.subscriber_with_cl001()
        self.r("SET", "vas:events", "not a stream")
        d = self.start_vas()
        self.run_script("send %s TDCL001\nexpect_none %s 1500\n" % (m, m))
        d.wait_log(r"event=relay_write_failed .*WRONGTYPE", timeout=10)
        self.assertEqual(self.r("XLEN", "out:{%s}" % m), 1)
        self.r("DEL", "vas:events")
        # The SMSC delivers the MO again: the entry is written now.
        self.run_script("send %s TDCL001\nexpect %s ^彩铃已于[0-9:]+退订\n" % (m, m))
        want = "%s:CL001:%s:unsubscribe" % (m, SINCE)
        self.assertEqual([(e["event"], e["id"]) for e in self.events() if e.get("msisdn") == m],
                         [("unsubscribe", want)])
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)

    def test_an_entry_of_64_arguments_is_relayed(self):
        """The largest entry the relay takes (n = 64: 32 field pairs) fills
        its argument array exactly (the ASan build checks the bound)."""
        m = self.subscriber_away_from_events()
        args = []
        for i in range(1, 33):
            args += ["a%d" % (2 * i - 1), "f%02d" % i, "a%d" % (2 * i), "v%02d" % i]
        self.r("XADD", "out:{%s}" % m, "*", "c", "XADD", "k", "vas:events", "n", "64", *args)
        self.start_vas()
        self.run_script("send %s 0000\nexpect %s .\n" % (m, m))
        (_, fields), = self.r.stream("vas:events")
        self.assertEqual(fields, {"f%02d" % i: "v%02d" % i for i in range(1, 33)})
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)

    def test_killed_between_script_and_relay(self):
        m = self.subscriber_with_cl001()
        d = self.start_vas()
        # vas:events' master takes no write: the relay's XADD waits there.
        events = self.owner("vas:events")
        cluster_harness.ask(events, "CLIENT", "PAUSE", 20000, "WRITE")
        self.addCleanup(cluster_harness.ask, events, "CLIENT", "UNPAUSE")
        # The simulator stays bound (the SMSC keeps the MO unanswered).
        self.start_script("send %s TDCL001\nexpect_none %s 60000\n" % (m, m))
        wait_for(lambda: self.r("XLEN", "out:{%s}" % m) == 1, 10, "the cancel's outbox entry")
        self.assertEqual(self.outcomes(m), [])  # the MO is not answered
        d.signal(signal.SIGKILL)
        d.wait()
        cluster_harness.ask(events, "CLIENT", "UNPAUSE")
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % m), {})
        self.assertEqual(self.r("XLEN", "out:{%s}" % m), 1)
        # The SMSC delivers the unanswered MO again, to a new daemon: its
        # script finds the code cancelled, and returns the outbox's entry.
        self.start_vas()
        self.run_script("send %s TDCL001\nexpect %s ^彩铃已于[0-9:]+退订\n" % (m, m))
        want = "%s:CL001:%s:unsubscribe" % (m, SINCE)
        ev = [e for e in self.events() if e.get("msisdn") == m]
        self.assertGreaterEqual(len(ev), 1)
        # Repeated at most, always the same entry (consumers dedup by id).
        self.assertEqual({(e["event"], e["id"]) for e in ev}, {("unsubscribe", want)})
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)


    def test_killed_between_relay_and_xdel(self):
        """kill -9 after the relay wrote the entry and before its XDEL: the
        redelivery's run returns the entry again, its marker says it was
        written: still one vas:events entry (a repeat only after
        limits.relay_dedup_s)."""
        m = self.subscriber_with_cl001()
        # The XDEL waits in its pause, well within its timeout.
        d = self.start_vas({"redis.command_timeout_ms": 20000})
        events, home = self.owner("vas:events"), self.owner("{%s}" % m)
        cluster_harness.ask(events, "CLIENT", "PAUSE", 20000, "WRITE")
        self.addCleanup(cluster_harness.ask, events, "CLIENT", "UNPAUSE")
        self.start_script("send %s TDCL001\nexpect_none %s 60000\n" % (m, m))
        wait_for(lambda: self.r("XLEN", "out:{%s}" % m) == 1, 10, "the cancel's outbox entry")
        # The script ran: hold the outbox's master, then let the relay write.
        cluster_harness.ask(home, "CLIENT", "PAUSE", 20000, "WRITE")
        self.addCleanup(cluster_harness.ask, home, "CLIENT", "UNPAUSE")
        cluster_harness.ask(events, "CLIENT", "UNPAUSE")
        wait_for(lambda: [e for e in self.events() if e.get("msisdn") == m], 10,
                 "the relayed event")
        d.signal(signal.SIGKILL)
        d.wait()
        cluster_harness.ask(home, "CLIENT", "UNPAUSE")
        self.assertEqual(self.outcomes(m), [])  # the MO was not answered
        self.assertEqual(self.r("XLEN", "out:{%s}" % m), 1)
        self.start_vas()
        self.run_script("send %s TDCL001\nexpect %s ^彩铃已于[0-9:]+退订\n" % (m, m))
        want = "%s:CL001:%s:unsubscribe" % (m, SINCE)
        ev = [(e["event"], e["id"]) for e in self.events() if e.get("msisdn") == m]
        self.assertEqual(ev, [("unsubscribe", want)])
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)

    def start_vas_http(self, limits=None):
        """start_vas with /metrics on (self.hport)."""
        self.sim_port, self.hport = harness.free_port(), harness.free_port()
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL=self.redis_url(),
                   SHORTCODED_HTTP_LISTEN="127.0.0.1:%d" % self.hport)
        d = self.start("shortcoded", [harness.DAEMON, "-c", self.config(limits)], env=env)
        d.wait_log(r"event=catalogue_loaded ", timeout=10)
        self.daemon = d
        return d

    def test_two_mos_in_flight_relay_an_entry_once(self):
        """Two MOs of one subscriber in flight in one daemon, no crash: the
        second's script returns the first's outbox entry too, before the
        first relay wrote it (vas:events' master takes no write). Both
        relays hold it; it reaches vas:events once (the relay's marker
        relayed:{vas:events}:out:{M}:ID), not twice."""
        m = self.subscriber_with_cl001()
        # The relay's XADD waits in the pause, well within its timeout.
        self.start_vas_http({"redis.command_timeout_ms": 20000})
        events = self.owner("vas:events")
        cluster_harness.ask(events, "CLIENT", "PAUSE", 20000, "WRITE")
        self.addCleanup(cluster_harness.ask, events, "CLIENT", "UNPAUSE")
        sim = self.start_script("send %s TDCL001\nsend %s 0000\n"
                                "expect %s ^您已成功退订彩铃\n"
                                "expect %s ^您目前没有订购任何包月增值业务。$\n" % (m, m, m, m))
        # Both scripts ran and both relays read the cancel's one entry.
        self.wait_value(2, "shortcoded_relay_pending")
        self.assertEqual(self.r("XLEN", "out:{%s}" % m), 1)
        cluster_harness.ask(events, "CLIENT", "UNPAUSE")
        rc, out = self.run_sim_script(sim, 40)
        self.assertEqual(rc, 0, out)
        want = "%s:CL001:%s:unsubscribe" % (m, SINCE)
        ev = [(e["event"], e["id"]) for e in self.events() if e.get("msisdn") == m]
        self.assertEqual(ev, [("unsubscribe", want)])
        smp = self.samples()
        self.assertEqual(prom.value(smp, "shortcoded_relay_total", result="written"), 1)
        self.assertEqual(prom.value(smp, "shortcoded_relay_total", result="repeat"), 1)
        self.assertEqual(prom.value(smp, "shortcoded_relay_pending"), 0)
        self.assertEqual(self.r("EXISTS", "out:{%s}" % m), 0)
        # The marker, on vas:events' master, goes after limits.relay_dedup_s.
        marks = cluster_harness.ask(events, "KEYS", "relayed:{vas:events}:out:{%s}:*" % m)
        self.assertEqual(len(marks), 1, marks)
        self.assertTrue(0 < cluster_harness.ask(events, "TTL", marks[0]) <= 3600)


class OrderExpiryClusterTest(test_orders.OrderExpiryTest):
    """An order's expiry by the sweeps of two daemons, on the cluster: the
    expire script's order_expired event and the due set's ZREM go through
    out:{M}; still one event, and the due set empties."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)


class StreamOrderClusterTest(test_orders.OrderEnv):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)

    def test_provider_order_then_yes(self):
        """A vas:orders entry on the cluster, mt.enabled as by default: its
        confirmation SMS is a push (mt:push, then the push path on the
        cluster: mt:status says sent); the start script's writes of
        vas:orders:due go through the outbox, the entry is acknowledged,
        the "Y" subscribes once."""
        self.start_vas(test_orders.FAST)
        self.add_order(id="P-1", msisdn=M0, service="SP003", channel="sp")
        self.run_script("expect %s %s 15000\nsend %s Y\nexpect %s ^您已成功订购\n"
                        % (M0, test_orders.PROMPT, M0, M0))
        wait_for(lambda: self.pel() == 0, 10, "the entry to be acknowledged")
        ev = self.order_events(M0)
        self.assertEqual([(e["event"], e["service"], e["channel"], e["order"]) for e in ev],
                         [("subscribe", "SP003", "sp", "P-1")])
        self.assertEqual(self.r("ZCARD", "vas:orders:due"), 1)
        self.assertEqual(self.r("EXISTS", "out:{%s}" % M0), 0)
        push = wait_for(lambda: [f for _, f in self.r.stream("mt:status")], 10, "its record")
        self.assertEqual([(f["to"], f["state"]) for f in push], [(M0, "sent")])
        self.assertEqual(self.r.hgetall("mt:{%s}" % push[0]["id"])["kind"], "order")


class RelayMetricsClusterTest(MetricsMixin, VasEnv):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)

    def test_relay_lag_is_a_metric(self):
        self.sim_port, self.hport = harness.free_port(), harness.free_port()
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL=self.redis_url(),
                   SHORTCODED_HTTP_LISTEN="127.0.0.1:%d" % self.hport)
        self.daemon = self.start("shortcoded", [harness.DAEMON, "-c", self.config()], env=env)
        self.daemon.wait_log(r"event=catalogue_loaded ", timeout=10)
        self.assertEqual(prom.value(self.samples(), "shortcoded_relay_seconds_count"), 0)
        self.run_script("send %s TDCL001\nexpect %s ^您已成功退订彩铃\n" % (M3, M3))
        n = len([e for e in self.events() if e["msisdn"] == M3])  # the event, a refund
        smp = self.samples()
        self.assertEqual(prom.value(smp, "shortcoded_relay_seconds_count"), n)
        self.assertEqual(prom.value(smp, "shortcoded_relay_seconds_bucket", le="+Inf"), n)
        self.assertEqual(prom.value(smp, "shortcoded_relay_pending"), 0)
        self.assertEqual(prom.value(smp, "shortcoded_relay_failed_total"), 0)
        self.assertEqual(prom.value(smp, "shortcoded_relay_total", result="written"), n)
        self.assertEqual(prom.value(smp, "shortcoded_relay_total", result="repeat"), 0)


if __name__ == "__main__":
    harness.main()
