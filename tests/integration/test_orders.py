"""test_orders.py -- ordering with a secondary confirmation (二次确认) end to
end: "KT"+code and "开通"+code, the "Y" / "N" answer, expiry without any later
MO, one pending dialogue per subscriber, and providers' orders from the
vas:orders stream (limits, bad entries, a daemon killed before its SMS was
accepted). shortcoded runs the shipped config against a real redis-server;
smsc-sim scripts are the subscribers. Every test checks the replies, then
Redis: sub:{M}:vas, sub:{M}:conf, vas:events, audit:{M}."""
import os
import re
import signal
import subprocess
import time

import harness
from harness import wait_for
from test_vas import M0, M3, SUBS3, VasEnv, yuan

PROMPT = "^您将订购"
FAST = {"order_sweep_ms": 100, "orders_poll_ms": 100}


class OrderEnv(VasEnv):
    def seed(self, catalogue=None):
        super().seed() if catalogue is None else super().seed(catalogue)
        # A service that is not monthly: not orderable by SMS.
        self.r("HSET", "vas:svc:PU001", "name", "按次点播", "price_fen", 100, "provider",
               "SPPU", "kind", "per_use")
        self.r("SADD", "vas:catalogue", "PU001")

    def start_vas(self, limits=None, level=None):
        """As VasEnv.start_vas, with the one more service seeded here."""
        self.sim_port = harness.free_port()
        return self.start_daemon_on(self.sim_port, limits)

    def start_daemon_on(self, sim_port, limits=None, name="shortcoded", level=None):
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(sim_port),
                   SHORTCODED_REDIS_URL=self.redis_url())
        d = self.start(name, [harness.DAEMON, "-c", self.config(limits, level)], env=env)
        d.wait_log(r"event=catalogue_loaded services=13", timeout=10)
        self.daemon = d
        return d

    def order_events(self, m):
        return [e for e in self.events() if e.get("msisdn") == m]

    def add_order(self, **fields):
        args = [x for kv in fields.items() for x in kv]
        return self.r("XADD", "vas:orders", "*", *args)

    def pel(self):
        """Entries of vas:orders read and not acknowledged."""
        return self.r("XPENDING", "vas:orders", "shortcoded")[0]


class OrderTest(OrderEnv):
    def test_order_then_yes_and_the_yes_again(self):
        self.start_vas()
        texts = self.run_script(
            "send %s KTCL001\nexpect %s %s\n" % (M0, M0, PROMPT) + self.none_to(M0))
        self.assertEqual(texts[0], "您将订购SPCL001提供的彩铃，资费5元/月，按月收取直至退订。"
                         "确认订购请在5分钟内回复Y或“是”，回复N或“否”不订购。")
        # Nothing is subscribed before the Y; the dialogue waits.
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M0), {})
        self.assertEqual(self.order_events(M0), [])
        pending = self.r("GET", "pending:{%s}" % M0)
        self.assertTrue(pending.startswith("order:sms:CL001:"), pending)
        # shortcodectl show prints the order.
        out = subprocess.run([os.path.join(harness.BUILD, "tools", "shortcodectl"), "--redis",
                              "redis://127.0.0.1:%d" % self.redis.port, "show", M0],
                             capture_output=True, text=True, timeout=60).stdout
        self.assertIn("latest order (order:{%s}, hash, expires in " % M0, out)
        self.assertIn("state = pending", out)
        texts = self.run_script("send %s Y\nexpect %s ^您已成功订购\n"
                                "send %s Y\nexpect %s ^您已于\n" % (M0, M0, M0, M0))
        self.assertEqual(texts[0], "您已成功订购SPCL001提供的彩铃，资费5元/月，按月收取直至退订。"
                         "回复TDCL001可随时退订。")
        self.assertRegex(texts[1], r"^您已于\d\d:\d\d确认订购彩铃，无需再次确认。回复TDCL001可退订。$")
        subs = self.r.hgetall("sub:{%s}:vas" % M0)
        self.assertEqual(list(subs), ["CL001"])
        self.assertLess(abs(int(subs["CL001"]) - time.time()), 60)
        order_id = pending[len("order:"):]
        ev = self.order_events(M0)
        self.assertEqual(len(ev), 1, ev)   # the second Y changed nothing
        e = ev[0]
        self.assertEqual(set(e), {"event", "msisdn", "service", "channel", "at", "id", "order",
                                  "ref"})
        self.assertEqual((e["event"], e["service"], e["channel"], e["order"]),
                         ("subscribe", "CL001", "sms", order_id))
        self.assertEqual(e["id"], "%s:CL001:%s:subscribe" % (M0, subs["CL001"]))
        self.assertEqual(self.r.hgetall("sub:{%s}:conf" % M0), {"CL001": e["ref"]})
        self.assertEqual([a["event"] for a in self.audit(M0)], ["order_requested", "subscribe"])
        self.assertEqual(self.r("EXISTS", "pending:{%s}" % M0), 0)
        # Cancelling it later names the same start time, and files no
        # refund: the order was confirmed (sub:{M}:conf), so the reply has
        # no refund line and vas:events no refund_request.
        texts = self.run_script("send %s TDCL001\nexpect %s ^您已成功退订彩铃\n" % (M0, M0))
        self.assertNotIn("退还", texts[0])
        ev = self.order_events(M0)
        self.assertEqual([x["event"] for x in ev], ["subscribe", "unsubscribe"])
        self.assertEqual(ev[1]["id"], "%s:CL001:%s:unsubscribe" % (M0, subs["CL001"]))
        self.assertEqual(self.r.hgetall("sub:{%s}:conf" % M0), {})

    def test_chinese_order_then_no(self):
        self.start_vas()
        texts = self.run_script(
            "send --ucs2 %s 开通YD002\nexpect %s %s\n"
            "send --ucs2 %s 否\nexpect %s ^您已取消订购阅读包，不会收取费用。$\n"
            "send --ucs2 %s 否\nexpect %s ^您已于\n" % (M0, M0, PROMPT, M0, M0, M0, M0))
        self.assertIn("阅读包，资费3元/月", texts[0])
        self.assertRegex(texts[2], r"^您已于\d\d:\d\d取消订购阅读包的请求，未订购。$")
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M0), {})
        ev = self.order_events(M0)
        self.assertEqual([(e["event"], e["service"], e["reason"]) for e in ev],
                         [("order_declined", "YD002", "subscriber")])
        self.assertTrue(ev[0]["id"].endswith(":order_declined"), ev)
        self.assertEqual([a["event"] for a in self.audit(M0)],
                         ["order_requested", "order_declined"])

    def test_unknown_not_orderable_and_already_subscribed(self):
        self.start_vas()
        texts = self.run_script(
            "send %s KTXX999\nexpect %s ^没有业务代码为XX999的业务\n"
            "send %s KTPU001\nexpect %s ^按次点播（PU001）不能通过短信订购。$\n"
            "send %s KT CL001\nexpect %s ^您已订购彩铃，无需重复订购。回复TDCL001可退订。$\n"
            % (M0, M0, M0, M0, M3, M3))
        self.assertEqual(len(texts), 3)
        for m in (M0, M3):
            self.assertEqual(self.r("EXISTS", "pending:{%s}" % m), 0)
            self.assertEqual(self.r("EXISTS", "order:{%s}" % m), 0)
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M3), SUBS3)
        self.assertEqual(self.r("EXISTS", "vas:events"), 0)

    def test_a_new_order_or_00000_supersedes_a_pending_order(self):
        self.start_vas()
        texts = self.run_script(
            "send %s KTCL001\nexpect %s %s\n"
            "send %s KTYD002\nexpect %s ^您此前订购彩铃的请求已取消。\n"
            # Other commands leave the order waiting.
            "send %s 0000\nexpect %s ^您目前没有订购\n"
            "send %s Y\nexpect %s ^您已成功订购SPYD002提供的阅读包\n"
            % (M0, M0, PROMPT, M0, M0, M0, M0, M0, M0))
        self.assertIn("\n您将订购SPYD002提供的阅读包", texts[1])
        self.assertEqual(list(self.r.hgetall("sub:{%s}:vas" % M0)), ["YD002"])
        ev = self.order_events(M0)
        self.assertEqual([(e["event"], e["service"], e.get("reason")) for e in ev],
                         [("order_declined", "CL001", "superseded"),
                          ("subscribe", "YD002", None)])
        # By "00000": the Y then cancels everything and orders nothing.
        texts = self.run_script(
            "send %s KTGM006\nexpect %s %s\n"
            "send %s 00000\nexpect %s ^您共订购3项\n"
            "send %s Y\nexpect %s ^您已成功退订全部3项\n" % (M3, M3, PROMPT, M3, M3, M3, M3))
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M3), {})
        ev = self.order_events(M3)
        self.assertEqual([(e["event"], e["service"]) for e in ev],
                         [("order_declined", "GM006")] + [("unsubscribe", c) for c in
                                                          ("CL001", "SP003", "YD002")])
        self.assertEqual(ev[0]["reason"], "superseded")

    def test_redelivered_kt_is_the_same_order(self):
        self.start_vas()
        self.run_script("send %s KTCL001\nexpect %s %s\nsend %s KTCL001\nexpect %s %s\n"
                        % (M0, M0, PROMPT, M0, M0, PROMPT))
        self.assertEqual(self.order_events(M0), [])
        self.assertEqual([a["event"] for a in self.audit(M0)], ["order_requested"])


class OrderExpiryTest(OrderEnv):
    def test_expiry_recorded_once_without_any_mo_then_a_late_yes(self):
        limits = dict(FAST, confirm_ttl_s=2)
        self.start_vas(limits)
        # A second daemon sweeping the same Redis (it binds nowhere).
        other = self.start_daemon_on(harness.free_port(), limits, name="shortcoded2")
        self.daemon = self.procs[-2]
        self.run_script("send %s KTCL001\nexpect %s 1分钟内回复Y\n" % (M0, M0))
        ev = wait_for(lambda: self.order_events(M0), 10, "the order_expired event")
        self.assertEqual([(e["event"], e["service"]) for e in ev], [("order_expired", "CL001")])
        # Both daemons swept past the deadline: the due set is empty and
        # still one event.
        wait_for(lambda: self.r("ZCARD", "vas:orders:due") == 0, 5, "the due set to empty")
        self.assertEqual(len(self.order_events(M0)), 1)
        self.assertEqual(self.r("EXISTS", "pending:{%s}" % M0), 0)
        self.assertEqual(other.count(r"event=order_expired ") + self.daemon.count(
            r"event=order_expired "), 1)
        texts = self.run_script("send %s Y\nexpect %s ^您订购彩铃的请求已于\n" % (M0, M0))
        self.assertRegex(texts[0], r"^您订购彩铃的请求已于\d\d:\d\d过期，未订购。如需订购请重新发送KTCL001。$")
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M0), {})
        self.assertEqual(len(self.order_events(M0)), 1)
        self.assertEqual([a["event"] for a in self.audit(M0)], ["order_requested", "order_expired"])


class StreamOrderTest(OrderEnv):
    def test_provider_order_sms_then_yes(self):
        self.start_vas(FAST)
        self.add_order(id="P-1", msisdn="86" + M0, service="SP003", channel="sp")
        texts = self.run_script("expect %s %s 15000\nsend %s 是\nexpect %s ^您已成功订购\n"
                                % ("86" + M0, PROMPT, M0, M0))
        self.assertIn("视频会员，资费15元/月", texts[0])
        wait_for(lambda: self.pel() == 0, 10, "the entry to be acknowledged")
        ev = self.order_events(M0)
        self.assertEqual([(e["event"], e["service"], e["channel"], e["order"]) for e in ev],
                         [("subscribe", "SP003", "sp", "P-1")])
        self.assertEqual(list(self.r.hgetall("sub:{%s}:conf" % M0)), ["SP003"])

    def test_provider_limits_per_day_and_after_a_decline(self):
        for code in ("CL001", "YD002"):
            self.r("HSET", "vas:svc:" + code, "provider", "SPX")
        self.start_vas(dict(FAST, order_max_per_provider_day=2))
        m, m2 = M0, "13800000077"
        # Three orders of one provider: two are texted, the third refused.
        for i, code in enumerate(("CL001", "YD002", "CL001")):
            self.add_order(id="L%d" % i, msisdn=m, service=code, channel="sp")
        self.run_script("expect %s %s 15000\nexpect %s 您将订购SPX提供的阅读包 15000\n" % (m, PROMPT, m))
        ev = wait_for(lambda: [e for e in self.order_events(m) if e.get("reason") == "limited"],
                      10, "the limited event")
        self.assertEqual([(e["order"], e["event"]) for e in ev], [("L2", "order_declined")])
        # After m2 declines SPX's offer, the next SPX order is refused.
        self.add_order(id="D1", msisdn=m2, service="CL001", channel="sp")
        self.run_script("expect %s %s 15000\nsend %s N\nexpect %s ^您已取消订购\n"
                        % (m2, PROMPT, m2, m2))
        # The stream is read only while a bind is up; entries are handled
        # in order, so G1's SMS comes after D2 was decided.
        self.add_order(id="D2", msisdn=m2, service="YD002", channel="sp")
        self.add_order(id="G1", msisdn="13800000078", service="CL001", channel="sp")
        self.run_script("expect 13800000078 %s 15000\n" % PROMPT + self.none_to(m2))
        ev = [e for e in self.order_events(m2) if e.get("reason") == "limited"]
        self.assertEqual([e["order"] for e in ev], ["D2"])
        wait_for(lambda: self.pel() == 0, 10, "every entry acknowledged")

    def test_bad_entries_are_recorded_and_acknowledged(self):
        self.start_vas(FAST)
        self.add_order(id="B1", msisdn=M0, channel="sp")                       # no service
        self.add_order(id="B2", msisdn=M0, service="NOPE", channel="sp")
        self.add_order(id="B3", msisdn="13x", service="CL001", channel="sp")
        self.add_order(id="B4", msisdn=M0, service="PU001", channel="sp")
        self.add_order(id="G1", msisdn=M0, service="CL001", channel="sp")     # good
        self.run_script("expect %s %s 15000\n" % (M0, PROMPT))
        wait_for(lambda: self.pel() == 0, 10, "every entry acknowledged")
        bad = [(e["order"], e["reason"]) for e in self.events() if e["event"] == "order_declined"]
        self.assertEqual(bad, [("B1", "missing_field"), ("B2", "unknown_service"),
                               ("B3", "bad_msisdn"), ("B4", "not_orderable")])
        self.assertEqual(self.daemon.count(r"event=order_bad_entry"), 4)

    def test_daemon_killed_before_its_sms_was_accepted(self):
        """The confirmation is a push (kind order, id from the order's): the
        entry is acknowledged once the push is in mt:push, and the push path
        keeps it: a daemon killed before the SMSC accepted the SMS leaves the
        push pending, and another daemon claims it and sends it."""
        limits = dict(FAST, orders_claim_idle_ms=1000, **{"mt.claim_idle_ms": 1000})
        self.sim_port = harness.free_port()
        a = self.start_daemon_on(self.sim_port, limits, name="daemon_a", level="debug")
        # This SMSC never answers a submit_sm: A's SMS is never accepted.
        self.start_script("expect_none %s 60000\n" % M0, "--drop-resp-share", "100")
        self.add_order(id="K1", msisdn=M0, service="CL001", channel="sp")
        a.wait_log(r"event=order_pushed entry=\S+ msisdn=%s service=CL001 order=K1 " % M0)
        push_id = re.search(r"event=order_pushed .* push_id=(order:[0-9a-f]{16})",
                            a.output()).group(1)
        self.assertEqual(self.pel(), 0)
        wait_for(lambda: self.r("HGET", "mt:{%s}" % push_id, "state") == "queued", 10,
                 "A to take the push")
        self.assertEqual(self.r("XPENDING", "mt:push", "shortcoded")[0], 1)
        self.assertEqual(self.r("HGET", "mt:{%s}" % push_id, "kind"), "order")
        self.assertEqual(self.r("HGET", "mt:{%s}" % push_id, "priority"), "0")
        a.signal(signal.SIGKILL)
        a.wait()
        # Another daemon, on a working SMSC, claims the push and sends it.
        self.sim_port = harness.free_port()
        self.start_daemon_on(self.sim_port, limits, name="daemon_b", level="debug")
        self.run_script("expect %s %s 15000\nsend %s Y\nexpect %s ^您已成功订购\n"
                        % (M0, PROMPT, M0, M0))
        self.assertRegex(self.daemon.output(), r"event=push_claimed stream=mt:push ")
        wait_for(lambda: [f["state"] for _, f in self.r.stream("mt:status")
                          if f["id"] == push_id] == ["sent"], 10, "the push recorded sent")
        ev = self.order_events(M0)
        self.assertEqual([(e["event"], e["order"]) for e in ev], [("subscribe", "K1")])

    def test_without_the_push_intake_the_sms_goes_directly(self):
        """mt.enabled false: no mt:push; the SMS goes to the MT queue and
        the entry is acknowledged once the SMSC accepted it."""
        self.start_vas(dict(FAST, **{"mt.enabled": "false"}))
        self.add_order(id="E1", msisdn=M0, service="CL001", channel="sp")
        self.run_script("expect %s %s 15000\n" % (M0, PROMPT))
        self.daemon.wait_log(r"event=order_sms_accepted entry=\S+ msisdn=%s" % M0)
        wait_for(lambda: self.pel() == 0, 10, "the entry to be acknowledged")
        self.assertEqual(self.r("EXISTS", "mt:push"), 0)
        self.assertNotIn("event=order_pushed", self.daemon.output())

    def test_confirmation_push_id_is_the_orders(self):
        """The push id is "order:" + FNV-1a 64 of provider NUL order id: the
        same order of the same provider always gives the same id (a re-read
        entry is sent once), computed here independently."""
        self.start_vas(FAST)
        self.add_order(id="Q1", msisdn=M0, service="CL001", channel="sp")
        self.run_script("expect %s %s 15000\n" % (M0, PROMPT))
        self.daemon.wait_log(r"event=order_pushed .*order=Q1 ")
        got = re.search(r"order=Q1 push_id=(order:[0-9a-f]{16})", self.daemon.output()).group(1)
        h = 14695981039346656037
        for b in b"SPCL001\0Q1":
            h = ((h ^ b) * 1099511628211) % (1 << 64)
        self.assertEqual(got, "order:%016x" % h)
        wait_for(lambda: self.r("HGET", "mt:{%s}" % got, "state") == "sent", 10, "sent")
        rec = self.r.hgetall("mt:{%s}" % got)
        self.assertEqual((rec["kind"], rec["to"], rec["priority"]), ("order", M0, "0"))

if __name__ == "__main__":
    harness.main()
