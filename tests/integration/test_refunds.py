"""test_refunds.py -- the double refund for unconfirmed charges end to end
(docs/handlers.md "Refunds"): cancelling a service that has no secondary
confirmation in sub:{M}:conf files one vas:events refund_request (2 x fee x
the calendar months charged, capped by limits.refund_max_months) with an
audit:{M} entry, in the cancelling script, by TD, by item number and by
"00000" + "Y"; the reply states the amount; a redelivered cancel files
nothing more and states the same refund; refund_unconfirmed: false files
none. The daemon runs with TZ=Asia/Shanghai; the month edges are computed
here in that zone."""
import os
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import harness
from test_vas import CATALOGUE, FEE, NAME, VasEnv, yuan

TZ = "Asia/Shanghai"
M = "13900000077"
REFUND_TAIL = "，7个工作日内退回话费账户。"


def month_start(back, now=None):
    """Unix seconds of 00:00 on the 1st, `back` months before now's month,
    in the daemon's zone."""
    d = datetime.fromtimestamp(now or time.time(), ZoneInfo(TZ))
    y, m = d.year, d.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return int(datetime(y, m, 1, tzinfo=ZoneInfo(TZ)).timestamp())


def refund_line(items):
    """The vas_refund line for [(code, months)], fees from the catalogue."""
    parts = ["%s（%d个月）" % (NAME[c], n) for c, n in items]
    total = sum(2 * FEE[c] * n for c, n in items)
    return "%s未经您二次确认订购，将双倍退还月费共%s%s" % ("、".join(parts), yuan(total),
                                                  REFUND_TAIL)


class RefundTest(VasEnv):
    def start_vas(self, limits=None, level=None):
        """shortcoded in TZ (the months are calendar months there)."""
        self.sim_port = harness.free_port()
        env = dict(os.environ, TZ=TZ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL="redis://127.0.0.1:%d" % self.redis.port)
        d = self.start("shortcoded", [harness.DAEMON, "-c", self.config(limits, level)], env=env)
        d.wait_log(r"event=catalogue_loaded services=%d" % len(CATALOGUE), timeout=10)
        self.daemon = d
        return d

    def subscribe(self, subs, confirmed=()):
        self.r("HSET", "sub:{%s}:vas" % M, *[x for kv in subs.items() for x in kv])
        if confirmed:
            self.confirm(M, confirmed)
        return subs

    def evalsha_calls(self):
        m = re.search(r"cmdstat_evalsha:calls=(\d+)", self.r("INFO", "commandstats"))
        return int(m.group(1)) if m else 0

    def refunds(self):
        return [e for e in self.events() if e["event"] == "refund_request"]

    def assert_refunds(self, subs, want):
        """vas:events and audit:{M} hold exactly one refund_request per
        (code, months) of want, in order, with the documented fields."""
        self.assertEqual({e["event"] for e in self.events()} - {"unsubscribe"},
                         {"refund_request"} if want else set())
        ev = self.refunds()
        au = [a for a in self.audit(M) if a["event"] == "refund_request"]
        self.assertEqual([(e["service"], int(e["months"])) for e in ev], want, ev)
        self.assertEqual(len(au), len(want), au)
        for (code, months), e, a in zip(want, ev, au):
            rid = "%s:%s:%s:refund_request" % (M, code, subs[code])
            self.assertEqual(e, {"event": "refund_request", "msisdn": M, "service": code,
                                 "channel": "sms", "at": e["at"], "id": rid,
                                 "amount_fen": str(2 * FEE[code] * months),
                                 "months": str(months), "reason": "no_confirmation"})
            self.assertLess(abs(int(e["at"]) - time.time() * 1000), 60000, e)
            self.assertEqual(a, {k: v for k, v in e.items() if k != "msisdn"})

    # ---- months: 1, the edges, 3, beyond the cap -----------------------
    def test_td_refund_months_and_cap(self):
        now = time.time()
        subs = self.subscribe({
            "CL001": str(month_start(0, now)),      # the first second of this month: 1
            "YD002": str(month_start(0, now) - 1),  # the last second of the month before: 2
            "SP003": str(month_start(2, now)),      # two months back: 3
            "YY004": "1600000000",                  # 2020: capped at 6
        })
        self.start_vas()
        calls = self.evalsha_calls()
        texts = self.run_script("".join(
            "send %s TD%s\nexpect %s ^您已成功退订\n" % (M, c, M) for c in subs))
        self.assertEqual(self.evalsha_calls() - calls, len(subs), "one round trip per MO")
        want = [("CL001", 1), ("YD002", 2), ("SP003", 3), ("YY004", 6)]
        for (code, months), text in zip(want, texts):
            self.assertEqual(text, "您已成功退订%s（%s/月），即时生效。\n%s" % (
                NAME[code], yuan(FEE[code]), refund_line([(code, months)])))
            self.assertLessEqual(len(text), 70, "one SMS")
        self.assert_refunds(subs, want)
        self.assert_cancelled(M, list(subs), subs)

    def test_cap_from_the_config(self):
        subs = self.subscribe({"SP003": str(month_start(4)), "CL001": str(month_start(0))})
        self.start_vas(limits={"refund_max_months": 2})
        texts = self.run_script("send %s TDSP003\nexpect %s 退还月费共60元\n"
                                "send %s TDCL001\nexpect %s 退还月费共10元\n" % ((M,) * 4))
        self.assertEqual(texts[0].split("\n")[1], refund_line([("SP003", 2)]))
        self.assert_refunds(subs, [("SP003", 2), ("CL001", 1)])

    # ---- confirmed vs unconfirmed --------------------------------------
    def test_confirmed_subscription_gets_no_refund(self):
        subs = self.subscribe({"CL001": "1700000000", "GM006": "1700000000"},
                              confirmed=["CL001"])
        self.start_vas()
        texts = self.run_script("send %s TDCL001\nexpect %s ^您已成功退订\n"
                                "send %s TDGM006\nexpect %s ^您已成功退订\n" % ((M,) * 4))
        self.assertEqual(texts[0], "您已成功退订彩铃（5元/月），即时生效。")
        self.assertEqual(texts[1], "您已成功退订游戏包（6元/月），即时生效。\n" +
                         refund_line([("GM006", 6)]))
        self.assert_refunds(subs, [("GM006", 6)])
        self.assertEqual(self.r("EXISTS", "sub:{%s}:conf" % M), 0)
        self.assert_cancelled(M, ["CL001", "GM006"], subs)

    # ---- by item number, and redelivered -------------------------------
    def test_items_refund_once_under_redelivery(self):
        subs = self.subscribe({"SP003": "1600000000", "CL001": str(month_start(0)),
                               "YD002": "1700000000"}, confirmed=["YD002"])
        self.start_vas()
        calls = self.evalsha_calls()
        texts = self.run_script(
            "send %s 0000\nexpect %s ^您已订购3项\n"
            "send %s 1,2,3\nexpect %s ^您已成功退订\n"
            # The SMSC delivers the same MO again: the truth, nothing written.
            "send %s 1,2,3\nexpect %s 已于\n" % ((M,) * 6))
        self.assertEqual(self.evalsha_calls() - calls, 3, "one round trip per MO")
        line = refund_line([("SP003", 6), ("CL001", 1)])
        self.assertEqual(texts[1].split("\n"), [
            "您已成功退订视频会员（15元/月）、阅读包（3元/月）、彩铃（5元/月），共3项，"
            "每月可节省23元，即时生效。", line])
        again = texts[2].split("\n")
        self.assertRegex(again[0], r"^视频会员已于[0-9:]+退订，阅读包已于[0-9:]+退订，"
                                   r"彩铃已于[0-9:]+退订，无需再次退订。$")
        self.assertEqual(again[1:], [line])
        self.assert_refunds(subs, [("SP003", 6), ("CL001", 1)])
        self.assert_cancelled(M, ["SP003", "YD002", "CL001"], subs)

    def test_td_redelivered_states_the_same_refund(self):
        subs = self.subscribe({"SP003": str(month_start(2))})
        self.start_vas()
        texts = self.run_script("send %s TDSP003\nexpect %s ^您已成功退订\n"
                                "send %s TDSP003\nexpect %s 已于\n" % ((M,) * 4))
        self.assertRegex(texts[1], r"^视频会员已于[0-9:]+退订，无需再次退订。\n")
        self.assertEqual(texts[1].split("\n")[1], refund_line([("SP003", 3)]))
        self.assertRegex(self.r("HGET", "gone:{%s}" % M, "SP003"), r"^\d+:sms:9000:3$")
        self.assert_refunds(subs, [("SP003", 3)])

    # ---- "00000" + "Y": one line for all, and the redelivered "Y" --------
    def test_cancel_all_refunds_in_one_line(self):
        subs = self.subscribe({"CL001": "1600000000", "GM006": str(month_start(1)),
                               "YD002": "1600000000"}, confirmed=["YD002"])
        self.start_vas()
        calls = self.evalsha_calls()
        texts = self.run_script(
            "send %s 00000\nexpect %s ^您共订购3项\n"
            "send %s Y\nexpect %s ^您已成功退订全部3项\n"
            "send %s Y\nexpect %s ^您已于\n" % ((M,) * 6))
        self.assertEqual(self.evalsha_calls() - calls, 3, "one round trip per MO")
        line = refund_line([("CL001", 6), ("GM006", 2)])
        self.assertEqual(texts[1], "您已成功退订全部3项包月增值业务，每月可节省14元，即时生效。\n"
                         + line)
        self.assertRegex(texts[2], r"^您已于[0-9:]+退订全部3项包月增值业务，无需再次确认。\n")
        self.assertEqual(texts[2].split("\n")[1], line)
        self.assert_refunds(subs, [("CL001", 6), ("GM006", 2)])
        self.assert_cancelled(M, ["CL001", "GM006", "YD002"], subs)

    # ---- switched off --------------------------------------------------
    def test_switched_off(self):
        subs = self.subscribe({"CL001": "1600000000", "GM006": "1600000000"})
        self.start_vas(limits={"refund_unconfirmed": "false"})
        texts = self.run_script("send %s TDCL001\nexpect %s ^您已成功退订\n"
                                "send %s TDCL001\nexpect %s 已于\n"
                                "send %s 00000\nexpect %s ^您共订购1项\n"
                                "send %s Y\nexpect %s ^您已成功退订全部1项\n" % ((M,) * 8))
        self.assertEqual(texts[0], "您已成功退订彩铃（5元/月），即时生效。")
        self.assertRegex(texts[1], r"^彩铃已于[0-9:]+退订，无需再次退订。$")
        self.assertEqual(texts[3], "您已成功退订全部1项包月增值业务，每月可节省6元，即时生效。")
        self.assert_refunds(subs, [])
        self.assert_cancelled(M, ["CL001", "GM006"], subs)

    # ---- a fee the catalogue does not know -----------------------------
    def test_unknown_fee_files_the_months(self):
        harness.put_service(self.r, "BAD01", "坏价格", "abc")
        subs = self.subscribe({"BAD01": str(int(time.time()))})  # this month, in any zone
        self.start_vas_any_catalogue()
        texts = self.run_script("send %s TDBAD01\nexpect %s ^您已成功退订\n" % (M, M))
        self.assertEqual(texts[0].split("\n")[1],
                         "坏价格（1个月）未经您二次确认订购，将双倍退还月费共0元（1项资费未知）" +
                         REFUND_TAIL)
        ev = self.refunds()
        self.assertEqual([(e["service"], e["amount_fen"], e["months"]) for e in ev],
                         [("BAD01", "", "1")])


if __name__ == "__main__":
    import unittest
    unittest.main()
