"""test_reminders.py -- the usage:in feed and its reminder rules end to end
(docs/reminders.md): entries XADDed to usage:in with a real redis-server,
the daemon applying them to acct:{M} and queueing the reminders due on
mt:push in the same script, the push intake sending them to smsc-sim (with
receipts: mt:status ends "delivered"). Quiet hours come from the test-only
mt.test_clock, never from waiting for real time."""
import re
import signal
import subprocess

import harness
from harness import wait_for
from test_push import PushEnv

M = "13800138000"
CYCLE = "202612"
GB = 1000 * 1024  # kB: 1000 MB, so that 80 % is exact


class UsageEnv(PushEnv):
    reminders = ""

    def boot(self, mt="", reminders=None):
        self.sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "20")
        rem = reminders if reminders is not None else self.reminders
        self.d = self.daemon(self.sim, mt=mt + ("reminders:\n  claim_idle_ms: 1000\n"
                                                "  block_ms: 200\n" + rem))
        return self.d

    def feed(self, m=M, at=None, **fields):
        """XADD one usage:in entry; its id."""
        self.at = getattr(self, "at", 1764000000000) + 1 if at is None else at
        args = ["msisdn", m, "at", str(self.at)] + [x for kv in fields.items() for x in kv]
        return self.r("XADD", "usage:in", "*", *args)

    def done(self, entry, how="applied"):
        """Wait until the daemon finished entry (applied, stale or bad)."""
        pat = r"event=usage_%s entry=%s\b" % (how, re.escape(entry))
        self.d.wait_log(pat, timeout=15)

    def texts(self):
        return [t for _, _, _, t in self.mts(self.sim)]

    def wait_text(self, part, n=1):
        wait_for(lambda: sum(part in t for t in self.texts()) >= n, 15,
                 "%d text(s) with %r at the simulator" % (n, part))

    def states(self, ident):
        return [f["state"] for f in self.status_of(ident)]

    def wait_delivered(self, ident):
        wait_for(lambda: "delivered" in self.states(ident), 15, ident + " delivered")
        self.assertEqual(self.states(ident), ["sent", "delivered"])

    def reminders_in_audit(self, m=M):
        return [(f["rule"], f["threshold"], f["id"]) for _, f in self.r.stream("audit:{%s}" % m)
                if f.get("event") == "reminder"]

    def usage_pel(self):
        return self.r("XPENDING", "usage:in", "shortcoded")[0]


def rid(rule, th, cycle=CYCLE, m=M):
    return "rem:%s:%s:%s:%s" % (m, cycle, rule, th)


class ReminderRulesTest(UsageEnv):
    reminders = ("  roaming:\n    hints:\n      JP: \"日本漫游流量每天25元。\"\n")

    def test_data_80_and_100_once_per_cycle_then_a_new_cycle(self):
        self.boot()
        self.done(self.feed(cycle=CYCLE, data_quota_kb=str(GB), data_used_kb="0"))
        self.done(self.feed(data_used_kb=str(GB * 8 // 10)))
        self.wait_text("已使用80%")
        self.wait_delivered(rid("data", "80"))
        self.assertIn("已用800MB，共1000MB", self.texts()[0])
        # Still above 80 %: nothing again; then 100 %: its own reminder.
        self.done(self.feed(data_used_kb=str(GB * 9 // 10)))
        self.done(self.feed(data_used_kb=str(GB)))
        self.wait_text("已使用100%")
        self.wait_delivered(rid("data", "100"))
        self.assertEqual(sum("已使用80%" in t for t in self.texts()), 1)
        self.assertEqual(self.reminders_in_audit(),
                         [("data", "80", rid("data", "80")), ("data", "100", rid("data", "100"))])
        # A new cycle starts afresh: a jump straight to 100 % is one text.
        self.done(self.feed(cycle="202701", data_used_kb=str(GB)))
        self.wait_text("已使用100%", 2)
        self.wait_delivered(rid("data", "100", "202701"))
        self.assertEqual(self.r.hgetall("remsent:{%s}" % M),
                         {"data:80": "202701", "data:100": "202701"})
        self.assertEqual(self.usage_pel(), 0)

    def test_lltx_threshold_set_and_cleared(self):
        # rem:{M} data_pct as handlers/lltx.c writes it (LLTX 60; tested
        # end to end in test_queries), then deleted as LLTX 0 does.
        self.boot()
        self.r("HSET", "rem:{%s}" % M, "data_pct", "60")
        self.done(self.feed(cycle=CYCLE, data_quota_kb=str(GB), data_used_kb=str(GB * 65 // 100)))
        self.wait_text("已使用60%")
        self.wait_delivered(rid("data", "60"))
        self.r("HDEL", "rem:{%s}" % M, "data_pct")
        self.done(self.feed(cycle="202701", data_used_kb=str(GB * 65 // 100)))
        # The marker after it: 80 % of the new cycle; no 60 % for 202701.
        self.done(self.feed(data_used_kb=str(GB * 85 // 100)))
        self.wait_text("已使用80%")
        self.assertEqual(sum("已使用60%" in t for t in self.texts()), 1)
        self.assertEqual(self.states(rid("data", "60", "202701")), [])

    def test_lltx_below_todays_use_goes_with_the_next_data_entry(self):
        # A rule is decided only when an entry changed one of its inputs:
        # an LLTX set below today's use waits for the next data entry, not
        # any entry (a balance update decides the balance rules only).
        self.boot()
        self.done(self.feed(cycle=CYCLE, data_quota_kb=str(GB), data_used_kb=str(GB * 65 // 100)))
        self.r("HSET", "rem:{%s}" % M, "data_pct", "60")
        self.done(self.feed(balance_fen="5000", charges_fen="100"))
        # Written in the entry's script with its fields: final once done.
        self.assertEqual(self.reminders_in_audit(), [])
        self.done(self.feed(data_used_kb=str(GB * 66 // 100)))
        self.wait_text("已使用60%")
        self.assertEqual(self.reminders_in_audit(), [("data", "60", rid("data", "60"))])

    def test_balance_low_suspension_charges_roaming(self):
        self.boot()
        self.done(self.feed(cycle=CYCLE, balance_fen="5000", credit_fen="2000",
                            charges_fen="100"))
        self.done(self.feed(balance_fen="950"))
        self.wait_text("余额为9.50元，已低于10.00元")
        self.wait_delivered(rid("balance", "1000"))
        self.done(self.feed(balance_fen="-2001", charges_fen="20000"))
        self.wait_text("余额为-20.01元，已超出信用额度20.00元")
        self.wait_text("已产生费用200.00元，超过200.00元")
        self.wait_delivered(rid("suspension", "2000"))
        self.wait_delivered(rid("charges", "20000"))
        self.assertEqual(self.r("HGET", "mt:{%s}" % rid("suspension", "2000"), "priority"), "0")
        self.done(self.feed(roaming="JP"))
        self.wait_text("欢迎来到JP！日本漫游流量每天25元。")
        self.wait_delivered(rid("roaming", "JP"))
        self.done(self.feed(roaming=""))
        self.done(self.feed(roaming="TH"))
        self.wait_text("欢迎来到TH！国际漫游资费请拨打10086")
        self.wait_delivered(rid("roaming", "TH"))
        acct = self.r.hgetall("acct:{%s}" % M)
        self.assertEqual({k: acct[k] for k in ("balance_fen", "charges_fen", "roaming")},
                         {"balance_fen": "-2001", "charges_fen": "20000", "roaming": "TH"})
        self.assertEqual(len(self.texts()), 5)
        self.assertEqual([r for r, _, _ in self.reminders_in_audit()],
                         ["balance", "suspension", "charges", "roaming", "roaming"])


class ReminderQuietTest(UsageEnv):
    def test_quiet_hours_hold_reminders_but_not_suspension(self):
        mt = "  quiet_hours: \"11:00-13:00\"\n  time_zone: Asia/Shanghai\n  test_clock: \"12:00:00\"\n"
        self.boot(mt=mt)
        self.done(self.feed(cycle=CYCLE, data_quota_kb=str(GB), data_used_kb=str(GB),
                            balance_fen="-1", credit_fen="0"))
        # The suspension is urgent: sent inside quiet hours (the marker).
        self.wait_text("已超出信用额度0.00元")
        self.wait_delivered(rid("suspension", "0"))
        wait_for(lambda: self.r("HGET", "mt:{%s}" % rid("data", "100"), "state") == "held", 15,
                 "the data reminder held")
        self.assertNotIn("已使用100%", " ".join(self.texts()))
        # Quiet hours end (the clock moved by a reload): it goes.
        n = self.d.count(r"event=reloaded ")
        self.reload_with(self.d, "test_clock: \"12:00:00\"", "test_clock: \"12:59:58\"")
        self.assertEqual(self.d.count(r"event=reloaded "), n + 1)
        self.wait_text("已使用100%")
        self.wait_delivered(rid("data", "100"))


class UsageFeedTest(UsageEnv):
    def test_out_of_order_never_moves_the_account_backwards(self):
        self.boot()
        self.done(self.feed(at=2000, cycle=CYCLE, data_quota_kb=str(GB),
                            data_used_kb=str(GB // 2)))
        # Older: data_used_kb 90 % is not applied, no reminder ...
        self.done(self.feed(at=1000, data_used_kb=str(GB * 9 // 10)), "stale")
        # ... but a field the newer entry did not set is (per field).
        self.done(self.feed(at=1500, data_used_kb=str(GB * 9 // 10), balance_fen="777"))
        acct = self.r.hgetall("acct:{%s}" % M)
        self.assertEqual((acct["data_used_kb"], acct["balance_fen"]), (str(GB // 2), "777"))
        self.assertEqual(self.r.hgetall("acct:{%s}" % M)["at:data_used_kb"], "2000")
        # The marker: balance 777 < 1000 made the only reminder.
        self.wait_text("余额为7.77元")
        self.assertEqual([r for r, _, _ in self.reminders_in_audit()], ["balance"])
        self.assertEqual(self.usage_pel(), 0)

    def test_redelivered_entries_change_nothing_twice(self):
        r = self.r
        r("HSET", "acct:{%s}" % M, "cycle", CYCLE, "data_quota_kb", str(GB))
        self.boot()
        e1 = self.feed(at=1000, data_used_kb=str(GB * 8 // 10))
        self.done(e1)
        self.wait_delivered(rid("data", "80"))
        self.d.signal(signal.SIGTERM)
        self.d.wait(20)
        first = self.texts()
        # A daemon read e1 again (the group set back) and e2, and was
        # killed: e1 after its script, before its XACK; e2 before its script.
        r("XGROUP", "SETID", "usage:in", "shortcoded", "0")
        e2 = self.feed(at=1001, balance_fen="900")
        r("XREADGROUP", "GROUP", "shortcoded", "dead-1", "COUNT", "2", "STREAMS", "usage:in", ">")
        self.assertEqual([x[0] for x in r("XPENDING", "usage:in", "shortcoded", "-", "+", "10")],
                         [e1, e2])
        self.boot()
        self.done(e1, "stale")
        self.d.wait_log(r"event=usage_claimed entries=2", timeout=15)
        self.done(e2)
        self.wait_text("余额为9.00元")
        wait_for(lambda: self.usage_pel() == 0, 15, "every entry acknowledged")
        self.assertEqual(first, [t for t in first if "已使用80%" in t])
        self.assertFalse(any("已使用80%" in t for t in self.texts()))
        self.assertEqual([x for _, _, x in self.reminders_in_audit()],
                         [rid("data", "80"), rid("balance", "1000")])
        self.assertEqual(self.r.hgetall("acct:{%s}" % M)["data_used_kb"], str(GB * 8 // 10))

    def test_bad_entries_logged_counted_acknowledged(self):
        self.boot()
        bad = [
            ({"msisdn": M, "at": "1", "colour": "red"}, "unknown_field"),
            ({"msisdn": "1380013800O", "at": "1", "balance_fen": "1"}, "bad_msisdn"),
            ({"msisdn": M, "at": "1", "balance_fen": "12abc"}, "bad_number"),
            ({"msisdn": M, "at": "1", "plan": "x" * 10000}, "bad_plan"),
            ({"msisdn": M, "at": "1" * 30, "balance_fen": "1"}, "bad_at"),
            ({"msisdn": M, "at": "1", "cycle": "202613"}, "bad_cycle"),
            ({"msisdn": M, "at": "1", "roaming": "jp\r\n"}, "bad_roaming"),
            ({"msisdn": M, "balance_fen": "1"}, "missing_at"),
            ({"msisdn": M, "at": "1"}, "no_fields"),
        ]
        ids = []
        for fields, _ in bad:
            ids.append(self.r("XADD", "usage:in", "*", *[x for kv in fields.items() for x in kv]))
        good = self.feed(at=5, balance_fen="123456")
        self.done(good)
        out = self.d.output()
        for entry, (_, reason) in zip(ids, bad):
            self.assertRegex(out, r"event=usage_bad_entry entry=%s reason=%s " % (entry, reason))
        wait_for(lambda: self.usage_pel() == 0, 15, "every entry acknowledged")
        self.assertEqual(self.r.hgetall("acct:{%s}" % M),
                         {"balance_fen": "123456", "at:balance_fen": "5"})
        self.d.signal(signal.SIGTERM)
        self.d.wait(20)
        self.assertRegex(self.d.output(), r"event=usage_stats applied=1 stale=0 bad=9 ")

    def test_one_script_applies_a_read_bad_entry_alone_same_subscriber_in_order(self):
        # In usage:in before the daemon starts: its first read takes them
        # all, one script applies them (reminders.apply_batch 64).
        m2, m3 = "13800138002", "13800138003"
        self.r("SET", "acct:{%s}" % m2, "not a hash")
        e = [self.feed(m=m2, at=1000, balance_fen="1"),
             self.feed(at=1000, cycle=CYCLE, data_quota_kb=str(GB), data_used_kb=str(GB // 2)),
             self.feed(at=1002, data_used_kb=str(GB * 85 // 100)),
             self.feed(at=1001, data_used_kb=str(GB * 99 // 100)),
             self.feed(at=1003, data_used_kb=str(GB * 90 // 100)),
             self.feed(m=m3, at=1000, balance_fen="5000")]
        self.boot()
        self.d.wait_log(r"event=usage_script entries=6 first=%s\b" % re.escape(e[0]))
        self.d.wait_log(r"event=usage_apply_failed entry=%s error=\S*WRONGTYPE.*"
                        r"msg=\"bad data: acknowledged\"" % re.escape(e[0]))
        for x in e[1:3] + e[4:]:
            self.done(x)
        self.done(e[3], "stale")
        wait_for(lambda: self.usage_pel() == 0, 15, "every entry acknowledged")
        self.wait_delivered(rid("data", "80"))
        acct = self.r.hgetall("acct:{%s}" % M)
        self.assertEqual((acct["data_used_kb"], acct["at:data_used_kb"]),
                         (str(GB * 90 // 100), "1003"))
        self.assertEqual(self.r.hgetall("acct:{%s}" % m3)["balance_fen"], "5000")
        self.assertEqual(self.r("GET", "acct:{%s}" % m2), "not a hash")
        self.assertEqual(self.reminders_in_audit(), [("data", "80", rid("data", "80"))])
        self.assertEqual(self.r("XLEN", "mt:push"), 1)
        self.d.signal(signal.SIGTERM)
        self.d.wait(20)
        self.assertRegex(self.d.output(), r"event=usage_stats applied=4 stale=1 bad=1 ")

    def test_no_key_made_before_billing_writes(self):
        self.boot()
        self.d.wait_log(r"event=usage_waiting ")
        self.assertEqual(self.r("EXISTS", "usage:in"), 0)
        self.done(self.feed(balance_fen="5000"))
        self.assertEqual(self.usage_pel(), 0)


class ReminderCheckTest(harness.Env):
    def check(self, rem):
        path = self.write_config(2775, 6379, extra="reminders:\n" + rem)
        p = subprocess.run([harness.DAEMON, "-c", path, "--check"], capture_output=True,
                           text=True, timeout=30)
        return path, p.returncode, p.stdout + p.stderr

    def test_bad_rules_stop_check_with_their_position(self):
        for rem, msg in (
                ("  data:\n    template: \"{pct} {balance_yuan}\"\n",
                 r":\d+:\d+: reminders\.data\.template: unknown placeholder \{balance_yuan\}"),
                ("  data:\n    percents: [80, abc]\n",
                 r":\d+:\d+: reminders\.data\.percents: \"abc\" is not a percentage"),
                ("  roaming:\n    hints:\n      jp: x\n",
                 r":\d+:\d+: reminders\.roaming\.hints: \"jp\" is not a country code"),
                ("  balance:\n    kind: Reminder\n",
                 r":\d+:\d+: reminders\.balance\.kind: must be lower-case"),
                ("  charges:\n    priority: 10\n", r":\d+:\d+: reminders\.charges\.priority: must be 0\.\.9"),
                ("  colour: red\n", r":\d+:\d+: reminders\.colour")):
            path, rc, out = self.check(rem)
            self.assertEqual(rc, 1, out)
            self.assertRegex(out, re.escape(path) + msg)
        path, rc, out = self.check("  data:\n    percents: [50, 90]\n    template: \"{{x}} {pct}\"\n")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
