"""test_queries.py -- the queries end to end: CXYE / YE (balance), CXLL / LL
(data), CXZD / ZD (the last bill), LLTX N / LLTX 0 (the data reminder),
with the shipped config/shortcoded.yaml against a seeded redis-server,
driven by smsc-sim scripts. Each query with full, partial and missing data;
the replies are checked whole (a bill line by line, reassembled from its
UCS-2 parts), and Redis afterwards: queries write nothing but the rate-limit
counter, one EVALSHA per command."""
import os
import re
import subprocess
import time

import harness
from test_vas import CATALOGUE, SHIPPED, VasEnv, ucs2_parts

# Subscribers and their acct:{M} hashes (None: no key at all).
ACCTS = {
    "13600000001": {"balance_fen": "12345", "credit_fen": "5000", "plan": "畅享套餐",
                    "cycle": "202612", "data_quota_kb": "1048576", "data_used_kb": "524288"},
    "13600000002": {"balance_fen": "-2000", "credit_fen": "5000"},   # owing, within credit
    "13600000003": {"balance_fen": "-6001", "credit_fen": "6000"},   # suspended
    "13600000004": {"balance_fen": "500"},                           # near suspension
    "13600000005": {"plan": "畅享套餐"},                              # partial: no balance
    "13600000006": None,                                             # missing
    "13600000007": {"balance_fen": "12abc"},                         # not a number
    "13600000008": {"balance_fen": "-6000", "credit_fen": "6000"},   # at the line: not yet
}

BALANCE = {
    "13600000001": "您的账户余额为123.45元。",
    "13600000002": "您的账户已欠费20.00元（信用额度50.00元），再消费30.00元将暂停服务，请尽快充值。",
    "13600000003": "您的账户已欠费60.01元，已超出信用额度，服务已暂停。请尽快充值，充值后自动恢复。",
    "13600000004": "您的账户余额为5.00元，即将不足，再消费5.00元将暂停服务，请及时充值。",
    "13600000005": "您的账户信息暂不完整，暂时无法查询余额，请稍后再试或拨打10086咨询。",
    "13600000006": "暂未查询到您的账户信息，请稍后再试或拨打10086咨询。",
    "13600000007": "您的账户信息暂不完整，暂时无法查询余额，请稍后再试或拨打10086咨询。",
    "13600000008": "您的账户已欠费60.00元（信用额度60.00元），再消费0.00元将暂停服务，请尽快充值。",
}

DATA = {  # subscriber: (acct fields, reply)
    "13500000001": ({"data_quota_kb": "1048576", "data_used_kb": "524288"},
                    "您本月已使用流量512MB，套餐内剩余512MB（共1GB）。"),
    "13500000002": ({"data_quota_kb": "31457280", "data_used_kb": "1000"},
                    # 29.99904 GB left: two decimals, rounded half up.
                    "您本月已使用流量1000KB，套餐内剩余30GB（共30GB）。"),
    "13500000003": ({"data_used_kb": "2560"},
                    "您本月已使用流量2.5MB。您的套餐不含流量，流量按标准资费计费。"),
    "13500000004": ({"data_quota_kb": "0", "data_used_kb": "0"},
                    "您本月已使用流量0KB。您的套餐不含流量，流量按标准资费计费。"),
    "13500000005": ({"data_quota_kb": "102400", "data_used_kb": "103424"},
                    "您本月套餐内流量100MB已用完，已使用101MB，超出1MB按标准资费计费。"),
    "13500000006": ({"data_quota_kb": "102400", "balance_fen": "100"},
                    "您的流量信息暂不完整，暂时无法查询，请稍后再试或拨打10086咨询。"),
    "13500000007": (None, "暂未查询到您的流量信息，请稍后再试或拨打10086咨询。"),
}

MB = "13700000001"      # the full bill
BILL = {"plan_fen": "19900", "voice_fen": "1230", "data_fen": "500", "sms_fen": "10",
        "vas_fen": "7300", "other_fen": "0", "discount_fen": "2000", "total_fen": "26940"}


def prev_month(t=None):
    tm = time.localtime(t)
    y, m = tm.tm_year, tm.tm_mon - 1
    if m == 0:
        y, m = y - 1, 12
    return "%04d%02d" % (y, m)


class QueriesTest(VasEnv):
    def seed(self, catalogue=CATALOGUE):
        super().seed(catalogue)
        r = self.r
        for m, acct in ACCTS.items():
            if acct:
                r("HSET", "acct:{%s}" % m, *[x for kv in acct.items() for x in kv])
        for m, (acct, _) in DATA.items():
            if acct:
                r("HSET", "acct:{%s}" % m, *[x for kv in acct.items() for x in kv])

    def state(self):
        """Every key but the rate-limit counters and the push intake's
        mt:push (the daemon makes that empty stream, with its group, at
        start: not a write of a query), with its contents."""
        out = {}
        for k in self.r.keys():
            if k.startswith("rl:{") or k == "mt:push":
                continue
            t = self.r("TYPE", k)
            out[k] = (t, self.r.hgetall(k) if t == "hash" else self.r("DUMP", k))
        return out

    def evalsha_calls(self):
        info = self.r("INFO", "commandstats")
        m = re.search(r"cmdstat_evalsha:calls=(\d+)", info)
        return int(m.group(1)) if m else 0

    def ask(self, pairs, limits=None):
        """Send each (msisdn, text) and return the replies, in order."""
        steps = "".join("send --ucs2 %s %s\nexpect %s .\n" % (m, t, m) for m, t in pairs)
        return self.run_script(steps)

    def bill_parts(self, m):
        return [int(p) for p in re.findall(r"event=mt from=\"10086\" to=\"%s\" parts=(\d+) dc=8" % m,
                                           self.last_sim.output())]

    # ---- CXYE --------------------------------------------------------------
    def test_balance_full_negative_suspended_partial_missing(self):
        self.start_vas()
        before, calls = self.state(), self.evalsha_calls()
        subs = list(BALANCE)
        texts = self.ask([(m, "CXYE") for m in subs] +
                         [("13600000001", "ｃｘｙｅ"), ("13600000001", "YE")])
        self.assertEqual(texts, [BALANCE[m] for m in subs] + [BALANCE["13600000001"]] * 2)
        # No writes; one round trip per command.
        self.assertEqual(self.state(), before)
        self.assertEqual(self.evalsha_calls() - calls, len(subs) + 2)
        self.assertIn("event=lookup_partial msisdn=13600000005", self.daemon.output())

    # ---- CXLL --------------------------------------------------------------
    def test_data_full_no_quota_over_partial_missing(self):
        self.start_vas()
        before = self.state()
        subs = list(DATA)
        texts = self.ask([(m, "CXLL") for m in subs] + [("13500000001", "LL")])
        self.assertEqual(texts, [DATA[m][1] for m in subs] + [DATA["13500000001"][1]])
        self.assertEqual(self.state(), before)

    # ---- CXZD --------------------------------------------------------------
    def seed_bill(self, m, month, bill, subs=None, cycle=None, plan="畅享199元套餐"):
        acct = {"balance_fen": "100"}
        if cycle:
            acct["cycle"] = cycle
        if plan:
            acct["plan"] = plan
        self.r("HSET", "acct:{%s}" % m, *[x for kv in acct.items() for x in kv])
        if bill:
            self.r("HSET", "bill:{%s}:%s" % (m, month), *[x for kv in bill.items() for x in kv])
        if subs:
            self.r("HSET", "sub:{%s}:vas" % m, *[x for i, c in enumerate(subs) for x in (c, 1600000000 + i)])

    def test_bill_itemised_in_several_ucs2_parts(self):
        # Eight services known to the catalogue (oldest first) and one it
        # does not know: six are named, the other two counted.
        subs = ["CL001", "SP003", "YD002", "YY004", "SJB05", "GM006", "TQ007", "NOPE9", "MS008"]
        self.seed_bill(MB, "202611", BILL, subs, cycle="202612")
        self.start_vas()
        before = self.state()
        texts = self.ask([(MB, "CXZD")])
        want = ["您2026年11月的账单：",
                "套餐：畅享199元套餐",
                "套餐及固定费：199.00元",
                "语音通话费：12.30元",
                "上网流量费：5.00元",
                "短信彩信费：0.10元",
                "增值业务费：73.00元（彩铃、视频会员、阅读包、咪咕音乐、手机报、游戏包等2项）",
                "其他费用：0.00元",
                "优惠减免：-20.00元",
                "本期合计：269.40元"]
        self.assertEqual(texts[0].split("\n"), want)
        parts = self.bill_parts(MB)
        self.assertEqual(parts, [ucs2_parts(texts[0])])
        self.assertGreaterEqual(parts[0], 3)
        self.assertEqual(self.state(), before)

    def test_bill_year_wrap_partial_none_default_month(self):
        m1, m2, m3, m4 = "13700000002", "13700000003", "13700000004", "13700000005"
        self.seed_bill(m1, "202512", {"plan_fen": "5800", "total_fen": "5800"}, cycle="202601",
                       plan=None)
        # No cycle: the month before the current one (local time).
        month = prev_month()
        self.seed_bill(m2, month, dict(BILL, voice_fen="x"), cycle=None)
        self.seed_bill(m3, "202611", None, cycle="202612")   # no bill
        self.r("HSET", "bill:{%s}:%s" % (m4, month), *[x for kv in BILL.items() for x in kv])
        self.start_vas()
        texts = self.ask([(m1, "ZD"), (m2, "CXZD"), (m3, "CXZD"), (m4, "CXZD")])
        self.assertEqual(texts[0].split("\n"), ["您2025年12月的账单：", "套餐及固定费：58.00元",
                                                "本期合计：58.00元",
                                                "部分费用项目暂未出账，请以实际账单为准。"])
        mt = "%s年%d月" % (month[:4], int(month[4:]))
        lines = texts[1].split("\n")
        self.assertEqual(lines[0], "您%s的账单：" % mt)
        self.assertNotIn("语音通话费", texts[1])          # not a number: left out
        self.assertEqual(lines[-1], "部分费用项目暂未出账，请以实际账单为准。")
        self.assertIn("增值业务费：73.00元", lines)          # no subscriptions: no names
        self.assertEqual(texts[2], "暂未查询到您2026年11月的账单，请稍后再试或拨打10086咨询。")
        # No account at all, a bill for the month before: it is shown.
        self.assertEqual(texts[3].split("\n")[0], "您%s的账单：" % mt)
        self.assertEqual(texts[3].split("\n")[-1], "本期合计：269.40元")

    def test_bill_damaged(self):
        m = "13700000006"
        self.seed_bill(m, "202611", None, cycle="202612")
        self.r("SET", "bill:{%s}:202611" % m, "oops")
        self.start_vas()
        texts = self.ask([(m, "CXZD")])
        self.assertEqual(texts, ["抱歉，系统暂时无法处理您的请求，请稍后再试或拨打10086咨询。"])
        self.assertIn('event=bad_data msisdn=%s route=bill key="bill:{%s}:202611" type=string'
                      % (m, m), self.daemon.output())

    # ---- LLTX --------------------------------------------------------------
    def test_lltx_set_clear_out_of_range(self):
        m = "13800000077"
        self.start_vas()
        rem = "rem:{%s}" % m
        texts = self.ask([(m, "LLTX 80")])
        self.assertEqual(texts, ["您已设置流量提醒：本月套餐内流量使用达到80%时，将短信提醒您。回复LLTX 0取消。"])
        self.assertEqual(self.r.hgetall(rem), {"data_pct": "80"})
        rng = "流量提醒比例须为50至99之间的整数，如LLTX 80；回复LLTX 0取消提醒。"
        texts = self.ask([(m, "LLTX49"), (m, "lltx 100"), (m, "LLTX"), (m, "ＬＬＴＸ　９９")])
        self.assertEqual(texts[:3], [rng] * 3)
        self.assertIn("达到99%", texts[3])
        self.assertEqual(self.r.hgetall(rem), {"data_pct": "99"})
        texts = self.ask([(m, "LLTX 0"), (m, "LLTX 0")])
        self.assertEqual(texts, ["您已取消流量使用提醒。",
                                 "您未设置流量使用提醒，无需取消。发送LLTX加50至99的数字可设置，如LLTX 80。"])
        self.assertEqual(self.r("EXISTS", rem), 0)
        texts = self.ask([(m, "LLTX 50")])
        self.assertEqual(self.r.hgetall(rem), {"data_pct": "50"})

    # ---- the lookup routes' options are checked when the config loads ----------
    def test_check_reports_lookup_mistakes_with_line_and_column(self):
        with open(SHIPPED, encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        for old, new, col, msg in [
                ('"yuan(balance_fen)"', '"yuan(balance_fen *)"', 18,
                 "options.values.balance: unexpected '*'"),
                ('您的账户余额为{balance}。"', '您的账户余额为{balanse}。"', 14,
                 "options.reply: unknown placeholder {balanse}"),
                ('key: "acct:{M}"', 'key: "acct:13800138000"', 12, "options.key: must contain {M}")]:
            n = next(i for i, line in enumerate(lines) if old in line)
            path = os.path.join(self.dir, "bad.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines[:n] + [lines[n].replace(old, new)] + lines[n + 1:]))
            os.chmod(path, 0o600)
            p = subprocess.run([harness.DAEMON, "-c", path, "--check"], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("%s:%d:%d: routes[" % (path, n + 1, col), p.stderr)
            self.assertIn(msg, p.stderr)

    # ---- the request layer's rules apply ------------------------------------
    def test_one_round_trip_per_query(self):
        m = "13600000001"
        self.seed_bill(m, "202611", BILL, ["CL001"], cycle="202612")
        self.start_vas()
        calls = self.evalsha_calls()
        cmds = ["CXYE", "YE", "CXLL", "LL", "CXZD", "ZD", "LLTX 80", "LLTX 0"]
        texts = self.ask([(m, c) for c in cmds])
        self.assertEqual(len(texts), len(cmds))
        self.assertEqual(self.evalsha_calls() - calls, len(cmds))
        self.assertEqual(self.r("EXISTS", "rem:{%s}" % m), 0)


    def test_rate_limit_applies(self):
        m = "13600000001"
        self.start_vas(limits={"rate_limit_count": 3})
        texts = self.run_script(
            "send %s CXYE\nexpect %s .\nsend %s CXLL\nexpect %s .\nsend %s CXZD\nexpect %s .\n"
            "send %s LLTX 80\nexpect %s ^您发送的指令过于频繁，请稍后再试。$\n"
            "send %s CXYE\nexpect_status ESME_ROK\n" % ((m,) * 9) + self.none_to(m))
        self.assertEqual(texts[0], BALANCE[m])
        # The limited LLTX wrote nothing.
        self.assertEqual(self.r("EXISTS", "rem:{%s}" % m), 0)
        log = self.daemon.output()
        self.assertEqual(len(re.findall(r"event=mo msisdn=%s .*outcome=rate_limited" % m, log)), 2, log)


if __name__ == "__main__":
    harness.main()
