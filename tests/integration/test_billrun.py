"""test_billrun.py -- shortcodectl bill-run and push --file LIST --text end
to end: a real redis-server, the daemon and smsc-sim. A bill run over
10,000 subscribers is stopped by SIGINT, then killed with SIGKILL, then
finished: every bill reaches the simulator exactly once, with the text the
CXZD reply renders; a subscriber without a bill is skipped; a bad list or
another file for the same cycle pushes nothing; the backlog of mt:push
never grows past --max-backlog plus one batch; a broadcast re-run (even
without its checkpoint) sends nothing twice (docs/shortcodectl.md
"bill-run")."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import ctl_env
import harness
from harness import wait_for

CTL = ctl_env.CTL
BASE = 13900000000
MT_TO = re.compile(r'event=mt from=\S+ to="?(\d+)"? ')
BILL = {"plan_fen": "5800", "voice_fen": "1210", "data_fen": "3000", "sms_fen": "100",
        "vas_fen": "1000", "other_fen": "0", "discount_fen": "500", "total_fen": "10610"}
BILL_TEXT = ("您2026年11月的账单：\n套餐及固定费：58.00元\n语音通话费：12.10元\n"
             "上网流量费：30.00元\n短信彩信费：1.00元\n增值业务费：10.00元\n其他费用：0.00元\n"
             "优惠减免：-5.00元\n本期合计：106.10元\n详单请发送CXZD至10086查询。")


# Every reply read (an XADD's is a bulk string: two lines).
pipeline = harness.redis_pipeline


def backlog_of(r):
    """lag + pending of the group shortcoded on mt:push (XLEN without the
    group, 0 without the stream)."""
    try:
        groups = r("XINFO", "GROUPS", "mt:push")
    except RuntimeError:
        return 0
    for g in groups:
        g = dict(zip(g[0::2], g[1::2]))
        if g["name"] == "shortcoded":
            return g["pending"] + (g["lag"] or 0)
    return r("XLEN", "mt:push")


class BillRunTest(ctl_env.CtlEnv):
    def write_list(self, name, msisdns, header=True):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(("msisdn,name\n" if header else "") +
                    "".join("%s,x\n" % m for m in msisdns))
        return path

    def daemon(self, sim):
        cfg = self.write_config(sim.port, self.redis.port,
                                extra="mt:\n  claim_idle_ms: 1000\n  block_ms: 200\n"
                                      "  receipts: []\n  quiet_hours: \"off\"\n")
        d = self.start_daemon(cfg)
        d.wait_log(r"event=bound ", timeout=10)
        return d

    @staticmethod
    def arrivals(sim):
        counts = {}
        for m in MT_TO.finditer(sim.output()):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        return counts

    def drained(self):
        """Everything XADDed to mt:push so far read and finished."""
        wait_for(lambda: backlog_of(self.r) == 0 and self.r("XLEN", "mt:push") > 0, 120,
                 "mt:push drained")

    def test_bill_run_interrupted_twice_sends_each_bill_once(self):
        n, missing = 10000, {BASE + 17, BASE + 4242, BASE + 9999}
        msisdns = [BASE + i for i in range(n)]
        pipeline(self.redis.port, [["HSET", "bill:{%d}:202611" % m] +
                                   [x for kv in BILL.items() for x in kv]
                                   for m in msisdns if m not in missing])
        lst = self.write_list("bills-202611.csv", msisdns)
        sim = self.start_sim()
        self.daemon(sim)
        bound, batch = 600, 600          # batch: min(1000, --max-backlog)
        worst = [0]
        stop = threading.Event()

        w = harness.Redis(self.redis.port)     # the watcher's own connection

        def watch():
            while not stop.is_set():
                worst[0] = max(worst[0], backlog_of(w))
                time.sleep(0.01)
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            # 1: SIGINT once a third is done: stops after the batch, exit 5.
            run = self.ctl_bg("ctl1", "bill-run", "--cycle", "202611", "--msisdns", lst,
                              "--max-backlog", str(bound))
            wait_for(lambda: int(self.r("HGET", "billrun:202611", "line") or 0) > 3000, 120,
                     "a third of the bill run")
            run.signal(signal.SIGINT)
            self.assertEqual(run.wait(30), 5, run.output())
            self.assertIn("run the same command again", run.output())
            line1 = int(self.r("HGET", "billrun:202611", "line"))
            self.assertLess(line1, n + 1)
            # 2: resumed, then killed outright (no chance to write anything).
            run = self.ctl_bg("ctl2", "bill-run", "--cycle", "202611", "--msisdns", lst,
                              "--max-backlog", str(bound))
            run.wait_log(r"resuming after line %d" % line1)
            wait_for(lambda: int(self.r("HGET", "billrun:202611", "line")) > line1 + 2000, 120,
                     "the resumed run to go on")
            run.signal(signal.SIGKILL)
            run.wait(30)
            self.assertEqual(self.r("HGET", "billrun:202611", "done"), "0")
            # 3: to the end.
            rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst,
                                  "--max-backlog", str(bound))
            self.assertEqual(rc, 0, err)
            self.assertIn("3 without a bill", err)
            self.assertEqual(self.r("HGET", "billrun:202611", "done"), "1")
            self.drained()
        finally:
            stop.set()
            watcher.join()
            w.close()
        sys.stderr.write("largest backlog seen: %d (bound %d + batch %d)\n"
                         % (worst[0], bound, batch))
        self.assertLessEqual(worst[0], bound + batch)
        self.assertGreater(worst[0], 0)
        # Every bill once (the ids the runs pushed twice were dropped by the
        # daemon's dedup), none for the subscribers without one.
        wait_for(lambda: sum(self.arrivals(sim).values()) >= n - len(missing), 120,
                 "every bill at the simulator")
        got = self.arrivals(sim)
        self.assertEqual(set(got), {str(m) for m in msisdns if m not in missing})
        self.assertEqual({c for c in got.values()}, {1})
        # A fourth run: the checkpoint says done, nothing is pushed.
        xlen = self.r("XLEN", "mt:push")
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst)
        self.assertEqual(rc, 0, err)
        self.assertIn("already done", err)
        self.assertEqual(self.r("XLEN", "mt:push"), xlen)
        # The text, as CXZD renders it, for a few.
        for m in (BASE, BASE + 5000, BASE + 9998):
            mt = self.r.hgetall("mt:{bill:%d:202611}" % m)
            self.assertEqual(mt["kind"], "bill")
            self.assertEqual(mt["priority"], "9")
            entry = self.r("XRANGE", "mt:push", mt["entry"], mt["entry"])[0][1]
            fields = dict(zip(entry[0::2], entry[1::2]))
            self.assertEqual(fields["text"], BILL_TEXT)
            self.assertEqual(fields["quiet"], "1")


    def test_waits_while_the_backlog_is_above_the_bound(self):
        """700 entries wait unread in mt:push: a run bounded at 500 pushes
        nothing, not even its first batch, until the daemon has read them."""
        self.r("XGROUP", "CREATE", "mt:push", "shortcoded", "$", "MKSTREAM")
        pipeline(self.redis.port, [["XADD", "mt:push", "*", "id", "old%d" % i, "to",
                                    "13000000000", "text", "old %d" % i] for i in range(700)])
        pipeline(self.redis.port, [["HSET", "bill:{%d}:202611" % (BASE + i), "total_fen", "100"]
                                   for i in range(100)])
        lst = self.write_list("l.csv", [BASE + i for i in range(100)])
        run = self.ctl_bg("ctl", "bill-run", "--cycle", "202611", "--msisdns", lst,
                          "--max-backlog", "500")
        run.wait_log(r"backlog 700 \(waiting for the daemons\)")
        self.assertEqual(self.r("XLEN", "mt:push"), 700)
        sim = self.start_sim()
        self.daemon(sim)
        self.assertEqual(run.wait(60), 0, run.output())
        self.assertEqual(self.r("XLEN", "mt:push"), 800)
        wait_for(lambda: len(self.arrivals(sim)) == 101, 60, "the old pushes and 100 bills")

    def test_rate_caps_the_pushes(self):
        """--rate 500: batches of 101 (a fifth of a second), each due when
        the pushes before it make 500/s: 300 take at least 0.4 s."""
        pipeline(self.redis.port, [["HSET", "bill:{%d}:202611" % (BASE + i), "total_fen", "100"]
                                   for i in range(300)])
        lst = self.write_list("l.csv", [BASE + i for i in range(300)])
        t0 = time.monotonic()
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst, "--rate", "500/s")
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.assertEqual(self.r("XLEN", "mt:push"), 300)

    def test_bad_list_pushes_nothing(self):
        """A bad line anywhere: listed with its line, nothing pushed, no
        checkpoint, exit 1 -- before the tool even connects."""
        self.r("HSET", "bill:{%d}:202611" % BASE, "total_fen", "100")
        lst = self.write_list("bad.csv", [BASE, BASE + 1, "1390000000x", BASE + 3, "+1 555"])
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst)
        self.assertEqual(rc, 1, err)
        self.assertIn('bad.csv:4: msisdn "1390000000x"', err)
        self.assertIn('bad.csv:6: msisdn "+1 555"', err)
        self.assertIn("2 of 5 lines are bad; nothing pushed", err)
        self.assertEqual(self.r("EXISTS", "mt:push", "billrun:202611"), 0)
        rc, _, err = self.ctl("bill-run", "--cycle", "202613", "--msisdns", lst)
        self.assertEqual(rc, 2, err)
        self.assertIn("--cycle", err)

    def test_a_damaged_bill_is_listed_the_others_pushed(self):
        """A bill key of another type: listed with its line, counted failed,
        exit 1 at the end; the rest is pushed and the run is done."""
        self.r("SET", "bill:{%d}:202611" % (BASE + 1), "oops")
        for m in (BASE, BASE + 2):
            self.r("HSET", "bill:{%d}:202611" % m, "total_fen", "100")
        lst = self.write_list("l.csv", [BASE, BASE + 1, BASE + 2])
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst)
        self.assertEqual(rc, 1, err)
        self.assertIn("l.csv:3: %d: bill: redis: WRONGTYPE" % (BASE + 1), err)
        self.assertIn("done: 2 bills", err)
        self.assertIn("1 failed", err)
        self.assertEqual(self.r.hgetall("billrun:202611")["failed"], "1")
        self.assertEqual(self.r.hgetall("billrun:202611")["done"], "1")
        self.assertEqual([f["to"] for _, f in self.r.stream("mt:push")],
                         [str(BASE), str(BASE + 2)])

    def test_another_file_for_the_same_cycle_is_refused(self):
        self.r("HSET", "bill:{%d}:202611" % BASE, "total_fen", "100")
        one = self.write_list("one.csv", [BASE, BASE + 1], header=False)
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", one)
        self.assertEqual(rc, 0, err)
        self.assertIn("done: 1 bills", err)
        self.assertIn("1 without a bill", err)
        self.assertEqual(self.r("XLEN", "mt:push"), 1)
        two = self.write_list("two.csv", [BASE, BASE + 2], header=False)
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", two)
        self.assertEqual(rc, 1, err)
        self.assertIn("billrun:202611 belongs to another file", err)
        self.assertEqual(self.r("XLEN", "mt:push"), 1)

    def test_templates_from_the_config_else_the_shipped_ones(self):
        """Without -c the shipped texts; with -c the config's bill_details
        (a link here) and its other bill templates where it has them."""
        self.r("HSET", "bill:{%d}:202611" % BASE, *[x for kv in BILL.items() for x in kv])
        lst = self.write_list("a.csv", [BASE])
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst)
        self.assertEqual(rc, 0, err)
        cfg = self.write_config(1, self.redis.port).replace("shortcoded.yaml", "ctl.yaml")
        with open(os.path.join(self.dir, "shortcoded.yaml")) as f:
            text = f.read()
        text = text.replace("templates:\n", "templates:\n"
                            "  bill_details: \"详单：https://e.example/b?m={cycle}\"\n"
                            "  bill_total: \"合计{amount}\"\n")
        with open(cfg, "w") as f:
            f.write(text)
        self.r("DEL", "billrun:202611")
        p = subprocess.run([CTL, "-c", cfg, "bill-run", "--cycle", "202611", "--msisdns", lst],
                           capture_output=True, cwd=self.dir, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        texts = [f["text"] for _, f in self.r.stream("mt:push")]
        self.assertEqual(texts[0], BILL_TEXT)
        self.assertEqual(texts[1], BILL_TEXT.replace("本期合计：106.10元", "合计106.10元")
                         .replace("详单请发送CXZD至10086查询。", "详单：https://e.example/b?m=202611"))

    def test_compiled_in_texts_are_the_shipped_config_s(self):
        """The texts bill-run uses without -c are those of
        config/shortcoded.yaml: the same bill, with a plan name and an item
        missing, renders the same with -c config/shortcoded.yaml."""
        self.r("HSET", "bill:{%d}:202612" % BASE, *[x for kv in BILL.items() for x in kv
                                                     if kv[0] != "sms_fen"])
        self.r("HSET", "acct:{%d}" % BASE, "plan", "畅享套餐 128元")
        lst = self.write_list("a.csv", [BASE])
        rc, _, err = self.ctl("bill-run", "--cycle", "202612", "--msisdns", lst)
        self.assertEqual(rc, 0, err)
        self.r("DEL", "billrun:202612")
        p = subprocess.run([CTL, "-c", os.path.join(harness.SRC, "config", "shortcoded.yaml"),
                            "bill-run", "--cycle", "202612", "--msisdns", lst],
                           capture_output=True, cwd=self.dir, timeout=60,
                           env=dict(os.environ, SHORTCODED_REDIS_URL=self.url))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        texts = [f["text"] for _, f in self.r.stream("mt:push")]
        self.assertEqual(len(texts), 2)
        self.assertEqual(texts[0], texts[1])
        self.assertIn("套餐：畅享套餐 128元\n", texts[0])
        self.assertIn("部分费用项目暂未出账", texts[0])

    def test_broadcast_rerun_sends_nothing_twice(self):
        sim = self.start_sim()
        self.daemon(sim)
        msisdns = [BASE + i for i in range(300)]
        lst = self.write_list("fraud.csv", msisdns, header=False)
        args = ("push", "--file", lst, "--text", "【反诈提醒】谨防冒充客服退款诈骗。",
                "--id-prefix", "fraud-1203", "--kind", "warning", "--max-backlog", "100")
        rc, _, err = self.ctl(*args)
        self.assertEqual(rc, 0, err)
        self.assertIn("done: 300 pushes", err)
        wait_for(lambda: len(self.arrivals(sim)) == 300, 60, "300 notices")
        # Re-run: the checkpoint says done.
        rc, _, err = self.ctl(*args)
        self.assertEqual((rc, "already done" in err), (0, True), err)
        # Without the checkpoint: pushed again, and the daemon drops every one.
        self.r("DEL", "pushrun:fraud-1203")
        rc, _, err = self.ctl(*args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.r("XLEN", "mt:push"), 600)
        self.drained()
        self.assertEqual(self.r.hgetall("mt:{fraud-1203:%d}" % BASE)["kind"], "warning")
        # A marker pushed after them arrives: whatever the re-run would have
        # sent would have come before it.
        self.r("XADD", "mt:push", "*", "id", "marker", "to", "13000000000", "text", "m")
        wait_for(lambda: "13000000000" in self.arrivals(sim), 30, "the marker")
        got = self.arrivals(sim)
        self.assertEqual({got[str(m)] for m in msisdns}, {1})

    def test_usage_errors(self):
        lst = self.write_list("l.csv", [BASE])
        for args, why in [
                (("push", "--file", lst, "--text", "hi"), "--id-prefix"),
                (("push", "--file", lst, "--text", "hi", "--id-prefix", "x" * 44), "--id-prefix"),
                (("push", "--file", lst, "--text", "hi", "--id-prefix", "p", "--to", "1"),
                 "takes --kind"),
                (("bill-run", "--msisdns", lst), "usage: bill-run"),
                (("bill-run", "--cycle", "202611", "--msisdns", lst, "--rate", "0"), "--rate"),
                (("bill-run", "--cycle", "202611", "--msisdns", lst, "--priority", "10"),
                 "--priority"),
                (("bill-run", "--cycle", "202611", "--msisdns", lst, "--text", "x"), "bill-run takes")]:
            rc, _, err = self.ctl(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(why, err, args)
        self.assertEqual(self.r("EXISTS", "mt:push"), 0)


if __name__ == "__main__":
    harness.main()
