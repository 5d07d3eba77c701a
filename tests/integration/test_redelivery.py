"""test_redelivery.py -- replies stay true when the SMSC delivers an MO twice,
late, or after the subscriber wrote again (docs/reliability.md, "Redelivery
model"); a script with damaged data does everything or nothing; names from
the catalogue are made safe for handsets; unknown fees stay out of totals.

A redelivery is the same deliver_sm sent again: SMPP 3.4 gives an MO no
identity, so the simulator simply sends the same text once more."""
import os
import re
import time

import harness
from test_vas import CATALOGUE, FEE, NAME, SHIPPED, VasEnv, yuan

# The subscriber: 0000 -> [CL001, SJB01, SPHY1] (oldest first).
EXTRA = [("SJB01", "手机报", 300), ("SPHY1", "视频会员", 1500), ("YY001", "咪咕音乐", 1000)]
NAME.update({c: n for c, n, _ in EXTRA})
FEE.update({c: f for c, _, f in EXTRA})
M = "13900000001"
SUBS = {"CL001": "1600000000", "SJB01": "1650000000", "SPHY1": "1700000000"}


def local_when(t, now=None):
    """The daemon's wording of a past time: "10:31" today, else "12月2日10:31"
    (with the year when it is another year)."""
    lt, ln = time.localtime(t), time.localtime(now or time.time())
    hm = "%02d:%02d" % (lt.tm_hour, lt.tm_min)
    if (lt.tm_year, lt.tm_yday) == (ln.tm_year, ln.tm_yday):
        return hm
    md = "%d月%d日" % (lt.tm_mon, lt.tm_mday)
    return (md if lt.tm_year == ln.tm_year else "%d年%s" % (lt.tm_year, md)) + hm


class RedeliveryTest(VasEnv):
    def setUp(self):
        super().setUp()
        self.seed(catalogue=CATALOGUE + EXTRA)
        self.r("HSET", "sub:{%s}:vas" % M, *[x for kv in SUBS.items() for x in kv])
        self.confirm(M, list(SUBS) + [c for c, _, _ in EXTRA])

    def start_vas(self, limits=None, level=None):
        """The shipped config (or a copy), with the extra catalogue loaded."""
        self.sim_port = harness.free_port()
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL="redis://127.0.0.1:%d" % self.redis.port)
        d = self.start("shortcoded", [harness.DAEMON, "-c", self.config(limits, level)], env=env)
        d.wait_log(r"event=catalogue_loaded services=%d" % len(self.r("KEYS", "vas:svc:*")),
                   timeout=10)
        self.daemon = d
        return d

    def gone_at(self, m, code):
        """When the daemon recorded code as cancelled for m (unix s)."""
        v = self.r("HGET", "gone:{%s}" % m, code)
        self.assertIsNotNone(v, "no gone:{%s} record for %s" % (m, code))
        return int(v.split(":")[0])

    def events_of(self, m):
        return [e["service"] for e in self.events() if e.get("msisdn") == m]

    # ---- item 2: numbers that keep their meaning ---------------------------
    def test_redelivered_number_after_relist(self):
        # "0000" -> [CL001, SJB01, SPHY1]; "1" cancels CL001 (its resp lost);
        # the subscriber lists again; the SMSC redelivers the first "1".
        self.start_vas()
        texts = self.run_script(
            "send %s 0000\nexpect %s ^您已订购3项\n"
            "send %s 1\nexpect %s ^您已成功退订彩铃\n"
            "send %s 0000\nexpect %s ^您已订购2项\n"
            "send %s 1\nexpect %s 彩铃已于\n" % ((M,) * 8))
        # The second list keeps the numbers: item 1 is gone, 2 and 3 stay.
        self.assertEqual(texts[2].split("\n")[1:3], ["2. 手机报 3元/月", "3. 视频会员 15元/月"])
        t = self.gone_at(M, "CL001")
        self.assertEqual(texts[3], "彩铃已于%s退订，无需再次退订。" % local_when(t))
        # SJB01 stays: one event, for CL001.
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M),
                         {"SJB01": SUBS["SJB01"], "SPHY1": SUBS["SPHY1"]})
        self.assertEqual(self.events_of(M), ["CL001"])

    def test_new_service_never_takes_a_retired_number(self):
        self.start_vas()
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n"
                        "send %s TDSJB01\nexpect %s ^您已成功退订手机报\n" % ((M,) * 4))
        # Billing adds YY001 (the newest): it gets 4, not the retired 2.
        self.r("HSET", "sub:{%s}:vas" % M, "YY001", "1750000000")
        texts = self.run_script("send %s 0000\nexpect %s ^您已订购3项\n"
                                "send %s 2\nexpect %s 手机报已于\n"
                                "send %s 4\nexpect %s ^您已成功退订咪咕音乐\n" % ((M,) * 6))
        self.assertEqual(texts[0].split("\n")[1:4],
                         ["1. 彩铃 5元/月", "3. 视频会员 15元/月", "4. 咪咕音乐 10元/月"])
        self.assertEqual(self.events_of(M), ["SJB01", "YY001"])
        self.assertEqual(self.r("HGET", "items:{%s}" % M, "2"), "SJB01")

    def test_numbers_beyond_the_horizon_are_reused_and_a_full_menu_lists_without_numbers(self):
        # Number 1 was bound to OLD01 long ago (beyond menu_ttl_s + horizon):
        # it is free again. Numbers 2..99 are bound to codes cancelled an
        # hour ago: no number is free for the third service.
        now = int(time.time())
        fields = ["at", now - 3600, "1", "OLD01", "t1", now - 86400 * 30]
        for n in range(2, 100):
            fields += [str(n), "OLD%02d" % n, "t%d" % n, now - 3600]
        self.r("HSET", "items:{%s}" % M, *fields)
        self.start_vas()
        texts = self.run_script("send %s 0000\nexpect %s ^您已订购3项\n"
                                "send %s 1\nexpect %s ^您已成功退订彩铃\n" % ((M,) * 4))
        lines = texts[0].split("\n")
        self.assertEqual(lines[1], "1. 彩铃 5元/月")
        # SJB01 takes nothing: 1 is taken now, 2..99 are still bound.
        self.assertEqual(lines[2:4], ["· 手机报 3元/月，回复TDSJB01退订",
                                      "· 视频会员 15元/月，回复TDSPHY1退订"])
        self.assertEqual(self.r("HGET", "items:{%s}" % M, "1"), "CL001")
        self.assertEqual(self.r("HGET", "items:{%s}" % M, "2"), "OLD02")
        self.assertEqual(self.events_of(M), ["CL001"])

    def test_redelivered_cancel_all_after_billing_adds(self):
        # "00000", "Y" (all cancelled), billing adds YY001, then the SMSC
        # redelivers "00000" and "Y": YY001 stays.
        self.start_vas()
        texts = self.run_script(
            "send %s 00000\nexpect %s ^您共订购3项\n"
            "send %s Y\nexpect %s ^您已成功退订全部3项\n" % ((M,) * 4))
        self.assertEqual(texts[1], "您已成功退订全部3项包月增值业务，每月可节省23元，即时生效。")
        self.r("HSET", "sub:{%s}:vas" % M, "YY001", "1750000000")
        texts = self.run_script(
            "send %s 00000\nexpect %s ^您已于\n"
            "send %s Y\nexpect %s ^您已于\n" % ((M,) * 4))
        when = local_when(self.gone_at(M, "CL001"))
        self.assertEqual(texts[0], "您已于%s退订全部3项包月增值业务。\n"
                                   "此后新增1项包月业务：咪咕音乐，合计10元/月；如需全部退订，请再次发送00000。"
                                   % when)
        self.assertEqual(texts[1], "您已于%s退订全部3项包月增值业务，无需再次确认。" % when)
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M), {"YY001": "1750000000"})
        self.assertEqual(sorted(self.events_of(M)), sorted(SUBS))
        # The subscriber's own next "00000" asks as usual, and "Y" cancels YY001.
        self.run_script("send %s 00000\nexpect %s ^您共订购1项包月增值业务，合计10元/月。\n"
                        "send %s Y\nexpect %s ^您已成功退订全部1项\n" % ((M,) * 4))
        self.assertEqual(self.r("EXISTS", "sub:{%s}:vas" % M), 0)
        self.assertEqual(len(self.events_of(M)), 4)

    def test_redelivered_cancel_all_with_nothing_new(self):
        self.start_vas()
        texts = self.run_script(
            "send %s 00000\nexpect %s ^您共订购3项\n"
            "send %s Y\nexpect %s ^您已成功退订全部3项\n"
            "send %s 0000\nexpect %s ^您目前没有订购\n"
            "send %s Y\nexpect %s ^您已于\n"
            "send %s 00000\nexpect %s ^您已于\n"
            "send %s 00000\nexpect %s ^您目前没有订购任何包月增值业务，无需退订。$\n" % ((M,) * 12))
        when = local_when(self.gone_at(M, "CL001"))
        self.assertEqual(texts[3], "您已于%s退订全部3项包月增值业务，无需再次确认。" % when)
        self.assertEqual(texts[4], "您已于%s退订全部3项包月增值业务。\n您目前没有订购任何包月增值业务，无需退订。"
                         % when)
        self.assertEqual(len(self.events_of(M)), 3)

    # ---- item 3: what this MO did, and what was done before ----------------
    def test_items_reply_separates_now_and_before(self):
        self.start_vas()
        texts = self.run_script(
            "send %s 0000\nexpect %s ^您已订购3项\n"
            "send %s 1\nexpect %s ^您已成功退订彩铃\n"
            "send %s 1,,,,3\nexpect %s ^您已成功退订视频会员\n" % ((M,) * 6))
        when = local_when(self.gone_at(M, "CL001"))
        self.assertEqual(texts[2], "您已成功退订视频会员（15元/月），共1项，每月可节省15元，即时生效。\n"
                                   "彩铃已于%s退订，无需再次退订。" % when)
        self.assertEqual(self.events_of(M), ["CL001", "SPHY1"])

    def test_td_after_items(self):
        # The README's demo path: "1，3", then "TDCL001".
        self.start_vas()
        texts = self.run_script(
            "send %s 0000\nexpect %s ^您已订购3项\n"
            "send --ucs2 %s 1，3\nexpect %s ^您已成功退订彩铃\n"
            "send %s TDCL001\nexpect %s 彩铃已于\n"
            "send %s TDCL001\nexpect %s 彩铃已于\n" % ((M,) * 8))
        when = local_when(self.gone_at(M, "CL001"))
        self.assertEqual(texts[2], "彩铃已于%s退订，无需再次退订。" % when)
        self.assertEqual(texts[3], texts[2])
        self.assertEqual(self.events_of(M), ["CL001", "SPHY1"])

    def test_cancelled_another_day_says_the_date(self):
        # A record from yesterday (within the horizon): the date is given.
        t = int(time.time()) - 86400 - 60
        self.r("HSET", "gone:{%s}" % M, "YY001", "%d:sms" % t)
        self.start_vas()
        texts = self.run_script("send %s TDYY001\nexpect %s 咪咕音乐已于\n" % (M, M))
        self.assertEqual(texts[0], "咪咕音乐已于%s退订，无需再次退订。" % local_when(t))
        self.assertIn("月", local_when(t))
        # Beyond the horizon the record no longer counts.
        self.r("HSET", "gone:{%s}" % M, "YY001", "%d:sms" % (t - 4 * 86400))
        self.run_script("send %s TDYY001\nexpect %s ^您未订购咪咕音乐，无需退订。\n" % (M, M))
        self.assertEqual(self.events_of(M), [])

    # ---- item 4: damaged data changes nothing --------------------------------
    def test_damaged_audit_writes_nothing(self):
        self.r("SET", "audit:{%s}" % M, "garbage")
        self.start_vas()
        self.run_script("send %s TDCL001\nexpect_status ESME_ROK\nexpect %s ^抱歉，系统暂时无法处理\n"
                        % (M, M) * 3)
        self.assertEqual(self.r("EXISTS", "vas:events"), 0)
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M), SUBS)
        self.assertEqual(self.r("GET", "audit:{%s}" % M), "garbage")
        for k in ("rl", "gone", "menu", "pending"):
            self.assertEqual(self.r("EXISTS", "%s:{%s}" % (k, M)), 0, k)
        self.daemon.wait_log(r'event=bad_data msisdn=%s route=vas_cancel_code key="audit:\{%s\}" '
                             r"type=string expected=stream" % (M, M))

    def test_damaged_request_keys_write_nothing(self):
        # The request layer's own keys are checked too: the rate-limit
        # counter (its INCR is a write) and the pending dialogue.
        m2, m3 = "13900000002", "13900000003"
        for m in (m2, m3):
            self.r("HSET", "sub:{%s}:vas" % m, *[x for kv in SUBS.items() for x in kv])
        self.r("HSET", "pending:{%s}" % m2, "x", "1")
        self.r("SET", "rl:{%s}" % m3, "not-a-number")
        self.start_vas()
        self.run_script("send %s 0000\nexpect %s ^抱歉，系统暂时无法处理\n"
                        "send %s TDCL001\nexpect %s ^抱歉，系统暂时无法处理\n" % (m2, m2, m2, m2) +
                        "send %s 0000\nexpect %s ^抱歉，系统暂时无法处理\n"
                        "send %s TDCL001\nexpect %s ^抱歉，系统暂时无法处理\n" % (m3, m3, m3, m3))
        self.assertEqual(self.r("EXISTS", "vas:events"), 0)
        for m in (m2, m3):
            self.assertEqual(self.r.hgetall("sub:{%s}:vas" % m), SUBS)
            self.assertEqual(self.r("EXISTS", "items:{%s}" % m), 0)
        self.assertEqual(self.r("EXISTS", "rl:{%s}" % m2), 0)
        self.assertEqual(self.r("GET", "rl:{%s}" % m3), "not-a-number")
        self.assertEqual(self.r.hgetall("pending:{%s}" % m2), {"x": "1"})
        self.daemon.wait_log(r'event=bad_data msisdn=%s route=vas_list key="pending:\{%s\}" '
                             r"type=hash expected=string" % (m2, m2))
        self.daemon.wait_log(r'event=bad_data msisdn=%s route=vas_list key="rl:\{%s\}" '
                             r"type=string expected=integer" % (m3, m3))

    # ---- item 7: control characters from the catalogue ---------------------
    def test_control_characters_in_names_are_not_sent(self):
        m = "13900000007"
        harness.put_service(self.r, "CTL01", "多行\r\n名字", 200)
        harness.put_service(self.r, "CTL02", "\x1b[31m红\t字\x7f\u2028", 100)
        self.r("HSET", "sub:{%s}:vas" % m, "CTL01", "1600000000", "CTL02", "1600000001")
        self.confirm(m, ["CTL01", "CTL02"])
        self.start_vas()
        texts = self.run_script("send %s 0000\nexpect %s ^您已订购2项\n"
                                "send %s TDCTL02\nexpect %s ^您已成功退订\n" % ((m,) * 4))
        self.assertEqual(texts[0].split("\n")[1:3], ["1. 多行 名字 2元/月", "2. [31m红 字 1元/月"])
        self.assertEqual(texts[1], "您已成功退订[31m红 字（1元/月），即时生效。")

    # ---- item 18: unknown fees are left out of totals, in words ----------------
    def test_unknown_fee_left_out_of_totals(self):
        m, m2 = "13900000018", "13900000019"
        self.r("HSET", "sub:{%s}:vas" % m, "CL001", "1600000000", "SPHY1", "1600000001",
               "ZZ999", "1600000002")
        self.r("HSET", "sub:{%s}:vas" % m2, "SPHY1", "1600000001", "ZZ999", "1600000002")
        self.confirm(m, ["CL001", "SPHY1", "ZZ999"])
        self.confirm(m2, ["SPHY1", "ZZ999"])
        self.start_vas()
        texts = self.run_script(
            "send %s 0000\nexpect %s ^您已订购3项\n"
            "send %s 00000\nexpect %s ^您共订购3项\n"
            "send %s N\nexpect %s ^已取消\n"
            "send %s 1,3\nexpect %s ^您已成功退订\n" % ((m,) * 8) +
            "send %s 00000\nexpect %s ^您共订购2项\n"
            "send %s Y\nexpect %s ^您已成功退订全部\n" % ((m2,) * 4))
        self.assertEqual(texts[0].split("\n")[0], "您已订购3项包月增值业务，合计20元/月（1项资费未知）：")
        self.assertEqual(texts[1], "您共订购3项包月增值业务，合计20元/月（1项资费未知）。"
                                   "确认全部退订请在5分钟内回复Y或“是”，回复其他内容不退订。")
        self.assertEqual(texts[3], "您已成功退订彩铃（5元/月）、ZZ999（?元/月），共2项，"
                                   "每月可节省5元（1项资费未知），即时生效。")
        self.assertEqual(texts[5], "您已成功退订全部2项包月增值业务，每月可节省15元（1项资费未知），即时生效。")
        self.assertEqual(self.events_of(m), ["CL001", "ZZ999"])
        self.assertEqual(sorted(self.events_of(m2)), ["SPHY1", "ZZ999"])

if __name__ == "__main__":
    harness.main()
