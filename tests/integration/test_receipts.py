"""test_receipts.py -- delivery receipts of pushes end to end (core/receipts.c,
docs/contracts.md "mt:msg:{MESSAGE_ID}"): smsc-sim --dlr sends them, the
daemon maps each part's message_id to its push when it records `sent` and
matches the receipt whichever bind or daemon it arrives on. Outcomes are
fixed with --seed; every absence is checked after a marker that must come
later (the simulator's count of receipts answered)."""
import re

import harness
from harness import wait_for
from test_push import PushEnv, DEST
from test_sim_dlr import RawEsme, BIND_TX
from test_hostile import (start_on_raw_smsc, pdu, cstr, tlv, deliver_body, DELIVER_SM, DELIVER_SM_RESP,
                          SUBMIT_SM, SUBMIT_SM_RESP)

RECEIPTS = "  receipts: [reminder, bill]\n"


def two_binds(port):
    return "".join("  - name: %s\n"
                   "    host: 127.0.0.1\n"
                   "    port: %d\n"
                   "    system_id: shortcoded\n"
                   "    password: secret\n"
                   "    reconnect_min_ms: 100\n"
                   "    reconnect_max_ms: 1000\n" % (n, port) for n in ("smsc1", "smsc2"))


class ReceiptTest(PushEnv):
    def sim_until(self, sim, pred, what, timeout=20):
        return self.sim_stats_until(sim, pred, what, timeout)

    def states(self, ident):
        return [(f["state"], f["err"]) for f in self.status_of(ident)]

    def test_push_sent_then_delivered(self):
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "100")
        self.daemon(sim, mt=RECEIPTS)
        self.push(id="n1", to=DEST, text="不要回执", kind="notice")
        self.push(id="r1", to=DEST, text="话费提醒", kind="reminder")
        self.wait_status(3)
        self.assertEqual(self.states("r1"), [("sent", ""), ("delivered", "")])
        rec = self.r.hgetall("mt:{r1}")
        self.assertEqual((rec["state"], rec["err"], rec["parts"]), ("delivered", "", "1"))
        st = self.sim_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 1, "1 receipt")
        # Only the reminder asked for one: notice is not in mt.receipts.
        self.assertEqual(st["dlr_scheduled"], 1)
        self.assertEqual(self.states("n1"), [("sent", "")])
        keys = self.r("KEYS", "mt:msg:*")
        self.assertEqual(len(keys), 1)
        self.assertTrue(self.r("GET", keys[0]).startswith("r1 0 1"))
        self.assertGreater(self.r("TTL", keys[0]), 259000)

    def test_reload_applies_receipt_keys(self):
        """mt.receipts and receipt_ttl_s apply to the next push after SIGHUP."""
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "20")
        d = self.daemon(sim)
        self.push(id="before", to=DEST, text="before", kind="notice")
        self.wait_status(2)
        self.reload_with(d, "  block_ms: 200\n",
                         "  block_ms: 200\n  receipts: [bill]\n  receipt_ttl_s: 600\n")
        self.assertRegex(d.output(), r"event=reload_applied key=mt.receipts")
        self.assertIn("event=reload_applied key=mt.receipt_ttl_s old=259200 new=600", d.output())
        self.push(id="n2", to=DEST, text="no receipt now", kind="notice")
        self.push(id="b2", to=DEST, text="a bill", kind="bill")
        wait_for(lambda: self.states("b2") == [("sent", ""), ("delivered", "")], 20, "b2")
        st = self.sim_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 2, "2 receipts")
        self.assertEqual(st["dlr_scheduled"], 2)      # before and b2, not n2
        self.assertEqual(self.states("n2"), [("sent", "")])
        key = next(k for k in self.r("KEYS", "mt:msg:*") if self.r("GET", k).startswith("b2 "))
        self.assertLessEqual(self.r("TTL", key), 600)

    def test_undelivered_receipt_fails_with_err(self):
        sim = self.start_sim("--dlr-undeliv-share", "100", "--dlr-undeliv-err", "13",
                             "--seed", "7", "--dlr-delay-ms", "50")
        self.daemon(sim)
        self.push(id="u1", to=DEST, text="余额不足", kind="warning")
        self.wait_status(2)
        self.assertEqual(self.states("u1"), [("sent", ""), ("failed", "UNDELIV:013")])
        self.assertEqual(self.r.hgetall("mt:{u1}")["state"], "failed")

    def test_receipt_on_another_bind_is_matched(self):
        sim = self.start_sim("--dlr", "--dlr-bind", "other", "--seed", "7",
                             "--dlr-delay-ms", "50")
        cfg = self.write_config(sim.port, self.redis.port, binds=two_binds(sim.port),
                                extra="mt:\n  block_ms: 200\n")
        d = self.start_daemon(cfg)
        d.wait_log(r"event=bound bind=smsc2", timeout=10)
        d.wait_log(r"event=bound bind=smsc1", timeout=10)
        for i in range(4):
            self.push(id="o%d" % i, to=DEST, text="提醒%d" % i, kind="reminder")
        self.wait_status(8)
        for i in range(4):
            self.assertEqual(self.states("o%d" % i), [("sent", ""), ("delivered", "")])
        out = d.output()
        sent_on = dict((m, b) for b, m in re.findall(
            r"event=submit_ok bind=(\S+) .*message_id=(\S+)", out))
        got_on = dict((m, b) for b, m in re.findall(r"event=receipt bind=(\S+) .* id=(\S+)",
                                                     out))
        self.assertEqual(len(got_on), 4, out)
        for m, b in got_on.items():
            self.assertNotEqual(sent_on[m], b)

    def test_receipt_at_another_daemon_is_matched(self):
        """Daemon A pushes; the receipt goes to B's session (--dlr-bind
        other), whose script finds the push through the shared map."""
        sim = self.start_sim("--dlr", "--dlr-bind", "other", "--seed", "7",
                             "--dlr-delay-ms", "50")
        b = self.start_daemon(self.write_config(sim.port, self.redis.port,
                                                extra="mt:\n  enabled: false\n"), name="b")
        b.wait_log(r"event=bound ", timeout=10)
        self.daemon(sim, name="a")
        self.push(id="x1", to=DEST, text="跨进程", kind="bill")
        self.wait_status(2)
        self.assertEqual(self.states("x1"), [("sent", ""), ("delivered", "")])
        b.wait_log(r"event=push_delivered id=x1 ")

    def test_unknown_message_id_logged_counted_acknowledged(self):
        sim = self.start_sim("--dlr", "--dlr-bind", "other", "--dlr-delay-ms", "20")
        d = self.daemon(sim)
        tx = RawEsme(sim.port, BIND_TX)
        self.addCleanup(tx.close)
        seq = tx.submit()
        msgid = tx.resp_ids(1)[seq]
        d.wait_log(r"event=receipt_unknown id=%s unknown_total=1" % re.escape(msgid))
        st = self.sim_until(sim, lambda st: st["dlr_sent"] == 1 and st["dlr_status"], "resp")
        self.assertEqual(st["dlr_status"], {"ESME_ROK": 1})
        self.assertEqual(self.r("GET", "mt:receipts:unknown"), "1")
        self.assertEqual(self.r("XLEN", "mt:status"), 0)

    def test_three_parts_delivered_once(self):
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "0-100")
        self.daemon(sim)
        self.push(id="l1", to=DEST, text="x" * 400, kind="reminder")
        self.sim_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 3, "3 receipts")
        self.wait_status(2)
        # The three receipts were answered (above): a third entry would be there.
        self.push(id="m1", to=DEST, text="marker", kind="notice")
        self.sim_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 4, "marker receipt")
        wait_for(lambda: self.states("m1") == [("sent", ""), ("delivered", "")], 20, "marker")
        self.assertEqual(self.states("l1"), [("sent", ""), ("delivered", "")])
        rec = self.r.hgetall("mt:{l1}")
        self.assertEqual((rec["state"], rec["parts"], rec["delivered"]), ("delivered", "3", "3"))


    def test_receipt_before_its_sent_record_is_matched(self):
        """Window 1 and receipts at once: part 1's receipt reaches the daemon
        before part 3 is even sent, so before the sent record (and the map)
        is in Redis. It is parked, not lost: the sent record applies it, and
        mt:status says sent, then delivered, never sent after delivered."""
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "0",
                             "--resp-delay-ms", "20")
        d = self.daemon(sim, mt=RECEIPTS, bind_extra="    window: 1\n")
        self.push(id="race3", to=DEST, text="y" * 400, kind="reminder")
        self.push(id="race1", to=DEST, text="one part", kind="bill")
        self.sim_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 4, "4 receipts")
        wait_for(lambda: len(self.status()) >= 4, 20, "4 mt:status entries")
        self.assertEqual(self.states("race3"), [("sent", ""), ("delivered", "")])
        self.assertEqual(self.states("race1"), [("sent", ""), ("delivered", "")])
        self.assertIn(self.r("GET", "mt:receipts:unknown"), (None, "0"))
        self.assertRegex(d.output(), r"event=receipt_unknown .*parked_s=600 ")
        rec = self.r.hgetall("mt:{race3}")
        self.assertEqual((rec["state"], rec["delivered"]), ("delivered", "3"))


class HostileReceiptTest(PushEnv):
    """Receipts written by hand to a raw SMSC's daemon: repeated, cut,
    malformed. Every one is answered ROK; only a readable one for a known
    message_id changes the push, once."""

    def setUp(self):
        super().setUp()
        self.smsc, self.d = start_on_raw_smsc(self, extra="mt:\n  block_ms: 200\n")

    def tearDown(self):
        self.smsc.close()
        super().tearDown()

    def receipt(self, seq, text, tlvs=b"", want=0):
        body = deliver_body(text=text, src=DEST, dst="10086", esm_class=0x04, tlvs=tlvs)
        self.smsc.send(pdu(DELIVER_SM, seq, body))
        _, status, rseq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual((status, rseq), (want, seq))

    def test_redis_away_gets_the_temporary_error(self):
        """A receipt that could not be looked at is not acknowledged: the
        SMSC keeps it and sends it again; an unreadable one still gets ROK."""
        self.r.close()
        self.redis.stop()
        self.d.wait_log(r"event=redis_disconnected")
        self.receipt(10, b"id:m1 stat:DELIVRD err:000", want=0x64)  # ESME_RX_T_APPN
        self.receipt(11, b"\xff" * 20)
        self.d.wait_log(r"event=receipt_not_matched id=m1 ")

    def test_repeated_and_hostile_receipts(self):
        self.push(id="h1", to=DEST, text="hi", kind="reminder")
        _, _, seq, _ = self.smsc.read_until(SUBMIT_SM)  # answered with message_id m<seq>
        mid = "m%d" % seq
        wait_for(lambda: [f["state"] for f in self.status_of("h1")] == ["sent"], 20, "sent")
        ok = ("id:%s sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 "
              "stat:DELIVRD err:000 text:hi" % mid).encode()
        self.receipt(99, ("id:%s stat:ENROUTE err:000" % mid).encode())  # interim: no change
        self.receipt(100, ok)
        self.receipt(101, ok)                                   # repeated
        self.receipt(102, b"id:" + b"9" * 200 + b" stat:DELIVRD")  # id too long
        self.receipt(103, ("id:%s stat:\x01\xff" % mid).encode("latin-1"))  # bad stat
        self.receipt(104, b"\xff" * 200)                        # noise, no TLVs
        self.receipt(105, b"", tlv(0x001E, cstr("zz")) + tlv(0x0427, b"\x05"))  # TLVs, unknown
        self.receipt(106, ok)                                   # marker: runs after the others
        self.assertEqual(self.states("h1"), [("sent", ""), ("delivered", "")])
        self.assertEqual(self.r("GET", "mt:receipts:unknown"), "1")
        self.assertEqual(self.d.output().count("event=receipt_unreadable"), 3)

    def states(self, ident):
        return [(f["state"], f["err"]) for f in self.status_of(ident)]


class RecordRetryTest(PushEnv):
    """Records that cannot be written (Redis away when the resps come) are
    written again, as one batch, once Redis is back."""

    def setUp(self):
        harness.Env.setUp(self)
        # Every write kept (fsync always): the restart on the same port
        # finds the entries and the takes.
        self.redis = self.start_redis_aof(harness.free_port(), "redis")
        self.r = harness.Redis(self.redis.port)
        self.smsc, self.d = start_on_raw_smsc(self, extra="mt:\n  block_ms: 200\n" + RECEIPTS)

    def tearDown(self):
        self.smsc.close()
        super().tearDown()

    def test_records_written_again_after_redis_returns(self):
        for i in range(3):
            self.push(id="w%d" % i, to=DEST, text="again %d" % i, kind="reminder")
        seqs = []
        while len(seqs) < 3:  # taken (mt:{ID} queued) and sent, not answered yet
            c, _, seq, _ = self.smsc.read_pdu(10)
            if c == SUBMIT_SM:
                seqs.append(seq)
        self.r.close()
        self.redis.stop()
        self.d.wait_log(r"event=redis_disconnected .*conn=push_out")
        for seq in seqs:
            self.smsc.send(pdu(SUBMIT_SM_RESP, seq, cstr("m%d" % seq)))
        self.d.wait_log(r"event=push_record_failed ", count=3)
        self.redis = self.start_redis_aof(self.redis.port, "redis2")
        self.r = harness.Redis(self.redis.port)
        self.wait_status(3)
        st = self.status()
        self.assertEqual(sorted((f["id"], f["state"]) for f in st),
                         [("w0", "sent"), ("w1", "sent"), ("w2", "sent")])
        self.assertEqual(sorted(self.r("GET", "mt:msg:{m%d}" % s).split()[0] for s in seqs),
                         ["w0", "w1", "w2"])
        self.assertEqual(self.pel(), 0)
        self.assertEqual(self.d.count(r"event=push_record_failed "), 3)  # once per push


if __name__ == "__main__":
    harness.main()
