"""test_sim_dlr.py -- smsc-sim's delivery receipts, slow mode and --stats
counts (tools/smsc-sim/dlr.c, submit.c), driven by a small raw ESME written
here byte by byte, and by the daemon's own receipt reader (smsc/dlr.c).

Shares are checked over N receipts with a fixed --seed: the PRNG's draws are
made in order of acceptance, so the counts are the same on every run and the
bounds cannot fail by luck. The only timing checks are "not before the
delay", with 5 ms for the loop clock's millisecond granularity."""
import socket
import struct
import time

import harness
from test_hostile import RawSmsc, cstr

BIND_RX, BIND_TX, BIND_TRX = 0x00000001, 0x00000002, 0x00000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
DATA_SM, DATA_SM_RESP = 0x00000103, 0x80000103
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
SLACK = 0.005  # the loop clock counts whole milliseconds


def read_cstr(b, o):
    e = b.index(b"\0", o)
    return b[o:e].decode("latin-1"), e + 1


def parse_receipt(body):
    """A receipt's deliver_sm body: (esm_class, src, dst, text, tlvs)."""
    _, o = read_cstr(body, 0)                  # service_type
    src, o = read_cstr(body, o + 2)
    dst, o = read_cstr(body, o + 2)
    esm_class = body[o]
    _, o = read_cstr(body, o + 3)              # past esm_class, pid, priority: schedule
    _, o = read_cstr(body, o)                  # validity_period
    o += 4                                     # registered, replace, data_coding, default_msg_id
    n = body[o]
    text = body[o + 1:o + 1 + n].decode("latin-1")
    o += 1 + n
    tlvs = {}
    while o + 4 <= len(body):
        tag, ln = struct.unpack(">HH", body[o:o + 4])
        tlvs[tag] = body[o + 4:o + 4 + ln]
        o += 4 + ln
    return esm_class, src, dst, text, tlvs


def receipt_fields(text):
    """id, stat and err of a receipt text (the test's own reading; the
    daemon's reader is checked in test_daemon_reads_receipts_of_another_bind)."""
    f = {}
    for word in text.split(" "):
        if word.startswith("text:"):
            break
        if ":" in word:
            k, v = word.split(":", 1)
            f[k] = v
    return f


class RawEsme:
    """An ESME bound to smsc-sim over one TCP connection. Receipts
    (deliver_sm) are answered ROK and kept in self.receipts as (arrival
    time, body), whatever the test is waiting for."""

    def __init__(self, port, bind=BIND_TRX, system_id="shortcoded", password="secret"):
        self.c = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.seq = 0
        self.receipts = []
        self.sent_at = {}
        body = cstr(system_id) + cstr(password) + cstr("") + bytes([0x34, 0, 0]) + cstr("")
        seq = self.send(bind, body)
        cmd, status, rseq, _ = self.read_pdu()
        assert (cmd, status, rseq) == (bind | 0x80000000, 0, seq), (hex(cmd), status)

    def close(self):
        self.c.close()

    def send(self, cmd, body=b""):
        self.seq += 1
        self.c.sendall(struct.pack(">IIII", 16 + len(body), cmd, 0, self.seq) + body)
        self.sent_at[self.seq] = time.monotonic()
        return self.seq

    def submit(self, src="10086", dst="13800138000", text=b"hello", dc=0, regdel=1):
        text = text if isinstance(text, bytes) else text.encode()
        body = (cstr("") + bytes([0, 0]) + cstr(src) + bytes([1, 1]) + cstr(dst) +
                bytes([0, 0, 0]) + cstr("") + cstr("") + bytes([regdel, 0, dc, 0, len(text)]) +
                text)
        return self.send(SUBMIT_SM, body)

    def data_sm(self, src="10086", dst="13800138000", text=b"hello", dc=0, regdel=1):
        body = (cstr("") + bytes([0, 0]) + cstr(src) + bytes([1, 1]) + cstr(dst) +
                bytes([0, regdel, dc]) + struct.pack(">HH", 0x0424, len(text)) + text)
        return self.send(DATA_SM, body)

    # The same framing as the raw SMSC's (self.c, self.buf).
    read_pdu = RawSmsc.read_pdu

    def next(self, want, timeout=10):
        """The next PDU with command want; receipts on the way are kept."""
        deadline = time.monotonic() + timeout
        while True:
            cmd, status, seq, body = self.read_pdu(max(0.05, deadline - time.monotonic()))
            if cmd == DELIVER_SM:
                self.receipts.append((time.monotonic(), body))
                self.c.sendall(struct.pack(">IIII", 17, DELIVER_SM_RESP, 0, seq) + b"\0")
            if cmd == want:
                return cmd, status, seq, body

    def resp_ids(self, n, resp=SUBMIT_SM_RESP):
        """The message_ids of the next n resps (all ROK), by seq."""
        ids = {}
        for _ in range(n):
            _, status, seq, body = self.next(resp)
            assert status == 0, status
            ids[seq] = body.rstrip(b"\0").decode()
        return ids

    def receipts_until(self, n, timeout=20):
        while len(self.receipts) < n:
            self.next(DELIVER_SM, timeout)
        return self.receipts


class SimDlrTest(harness.Env):
    def esme(self, sim, bind=BIND_TRX):
        e = RawEsme(sim.port, bind)
        self.addCleanup(e.close)
        return e

    def stats_until(self, sim, pred, what, timeout=20):
        return self.sim_stats_until(sim, pred, what, timeout)

    def test_receipt_after_delay(self):
        sim = self.start_sim("--dlr-delay-ms", "300")
        e = self.esme(sim)
        quiet = e.submit(regdel=0, text=b"no receipt")
        seq = e.submit(text=b"hello world, this is longer than twenty")
        ids = e.resp_ids(2)
        self.assertEqual(len(set(ids.values())), 2, ids)
        (at, body), = e.receipts_until(1)
        # Not before the delay (counted from the resp, which follows the submit).
        self.assertGreaterEqual(at - e.sent_at[seq], 0.300 - SLACK)
        esm, src, dst, text, tlvs = parse_receipt(body)
        self.assertEqual((esm, src, dst), (0x04, "13800138000", "10086"))
        f = receipt_fields(text)
        # The first receipt is the second submit's: the first asked for none.
        self.assertEqual((f["id"], f["stat"], f["err"], f["sub"], f["dlvrd"]),
                         (ids[seq], "DELIVRD", "000", "001", "001"), text)
        self.assertNotEqual(ids[quiet], f["id"])
        self.assertTrue(text.endswith(" text:hello world, this is"), text)
        self.assertEqual(tlvs[0x001E], (ids[seq] + "\0").encode())
        self.assertEqual(tlvs[0x0427], b"\x02")
        st = self.stats_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 1, "resp")
        self.assertEqual((st["dlr_scheduled"], st["dlr_sent"], st["dlr_dropped"]), (1, 1, 0))
        self.assertGreaterEqual(st["dlr_delay_min_ms"], 300)
        self.assertEqual(st["dlr_stat"], {"DELIVRD": 1, "UNDELIV": 0, "EXPIRED": 0})

    def test_data_sm_receipt(self):
        sim = self.start_sim("--dlr-expired-share", "100")
        e = self.esme(sim)
        seq = e.data_sm(text="好".encode("utf-16-be"), dc=8)
        msgid = e.resp_ids(1, DATA_SM_RESP)[seq]
        (_, body), = e.receipts_until(1)
        _, _, _, text, tlvs = parse_receipt(body)
        f = receipt_fields(text)
        self.assertEqual((f["id"], f["stat"], f["err"], f["dlvrd"]), (msgid, "EXPIRED", "002", "000"))
        self.assertTrue(text.endswith(" text:"), text)  # UCS-2: no text copied
        self.assertEqual(tlvs[0x0427], b"\x03")

    def test_msgid_prefix_in_resp_and_receipt(self):
        sim = self.start_sim("--dlr", "--msgid-prefix", "r2-")
        e = self.esme(sim)
        first = e.submit(regdel=0)
        second = e.submit()
        ids = e.resp_ids(2)
        self.assertEqual((ids[first], ids[second]), ("r2-1", "r2-2"))
        (_, body), = e.receipts_until(1)
        _, _, _, text, tlvs = parse_receipt(body)
        self.assertEqual(receipt_fields(text)["id"], "r2-2")
        self.assertEqual(tlvs[0x001E], b"r2-2\0")

    def test_shares_over_many_submits(self):
        n = 400
        sim = self.start_sim("--dlr-undeliv-share", "20", "--dlr-expired-share", "10",
                             "--dlr-undeliv-err", "5", "--dlr-expired-err", "7",
                             "--dlr-delay-ms", "0-40", "--seed", "7")
        e = self.esme(sim)
        for _ in range(n):
            e.submit()
        ids = e.resp_ids(n)
        self.assertEqual(len(set(ids.values())), n, "message_ids unique per part")
        got = {}
        state = {"DELIVRD": b"\x02", "UNDELIV": b"\x05", "EXPIRED": b"\x03"}
        err = {"DELIVRD": "000", "UNDELIV": "005", "EXPIRED": "007"}
        for _, body in e.receipts_until(n):
            _, _, _, text, tlvs = parse_receipt(body)
            f = receipt_fields(text)
            self.assertEqual(f["err"], err[f["stat"]], text)
            self.assertEqual(tlvs[0x0427], state[f["stat"]], text)
            self.assertEqual(tlvs[0x001E], (f["id"] + "\0").encode())
            got[f["id"]] = f["stat"]
        self.assertEqual(set(got), set(ids.values()), "one receipt per accepted part")
        counts = {s: list(got.values()).count(s) for s in state}
        # Expected 80 / 40 / 280; binomial sigma 8 / 6 / 9: five sigma each.
        self.assertTrue(40 <= counts["UNDELIV"] <= 120, counts)
        self.assertTrue(10 <= counts["EXPIRED"] <= 70, counts)
        self.assertTrue(235 <= counts["DELIVRD"] <= 325, counts)
        st = self.stats_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == n, "resps")
        self.assertEqual(st["dlr_stat"], counts)
        self.assertLessEqual(st["dlr_delay_max_ms"], 40 + 1000, st)  # a timer late, not early
        # The same seed gives the same outcomes: a second simulator agrees.
        sim2 = self.start_sim("--dlr-undeliv-share", "20", "--dlr-expired-share", "10",
                              "--dlr-delay-ms", "0-40", "--seed", "7", name="sim2")
        e2 = self.esme(sim2)
        for _ in range(n):
            e2.submit()
        e2.resp_ids(n)
        e2.receipts_until(n)
        st2 = self.stats_until(sim2, lambda st: st["dlr_status"].get("ESME_ROK") == n, "resps")
        self.assertEqual(st2["dlr_stat"], counts)

    def test_failure_only_receipts(self):
        """registered_delivery 2: a receipt only when the part failed."""
        n = 100
        sim = self.start_sim("--dlr-undeliv-share", "50", "--seed", "3")
        e = self.esme(sim)
        for _ in range(n):
            e.submit(regdel=2)
        marker = e.submit(regdel=1)
        ids = e.resp_ids(n + 1)
        # With one delay for all, receipts come in order of acceptance: the
        # marker's is the last.
        while True:
            e.receipts_until(len(e.receipts) + 1)
            f = receipt_fields(parse_receipt(e.receipts[-1][1])[3])
            if f["id"] == ids[marker]:
                break
        stats = [receipt_fields(parse_receipt(b)[3])["stat"] for _, b in e.receipts[:-1]]
        self.assertEqual(set(stats), {"UNDELIV"}, stats)
        self.assertTrue(25 <= len(stats) <= 75, len(stats))
        st = self.stats_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == len(stats) + 1,
                              "resps")
        self.assertEqual(st["dlr_scheduled"], len(stats) + 1)

    def sessions_by_id(self, st):
        return {s["id"]: s for s in st["sessions"]}

    def test_receipt_on_other_or_same_bind(self):
        for mode, want_on in (("other", "b"), ("same", "a")):
            with self.subTest(mode=mode):
                sim = self.start_sim("--dlr-bind", mode, name="sim_" + mode)
                a = self.esme(sim)
                b = self.esme(sim)
                for _ in range(20):
                    a.submit()
                a.resp_ids(20)
                (b if want_on == "b" else a).receipts_until(20)
                st = self.stats_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 20,
                                      "20 receipts answered")
                ss = sorted(st["sessions"], key=lambda s: s["id"])
                self.assertEqual([s["dlr_sent"] for s in ss],
                                 [0, 20] if want_on == "b" else [20, 0], ss)
                self.assertEqual(st["dlr_fallback"], 0)

    def test_other_bind_falls_back_when_alone(self):
        sim = self.start_sim("--dlr-bind", "other")
        a = self.esme(sim)
        seq = a.submit()
        ids = a.resp_ids(1)
        (_, body), = a.receipts_until(1)
        self.assertEqual(receipt_fields(parse_receipt(body)[3])["id"], ids[seq])
        st = self.stats_until(sim, lambda st: st["dlr_sent"] == 1, "receipt")
        self.assertEqual(st["dlr_fallback"], 1)

    def test_daemon_reads_receipts_of_another_bind(self):
        """A transmitter submits; its receipts can only go to the daemon's
        transceiver bind of the same system_id, whose reader (smsc/dlr.c)
        logs id, stat and err."""
        sim = self.start_sim("--dlr-undeliv-share", "100", "--dlr-undeliv-err", "13",
                             "--dlr-bind", "other", "--dlr-delay-ms", "50")
        d = self.start_daemon(self.write_config(sim.port))
        d.wait_log(r"event=bound")
        tx = self.esme(sim, BIND_TX)
        seq = tx.submit()
        msgid = tx.resp_ids(1)[seq]
        d.wait_log(r"event=receipt .*id=%s stat=UNDELIV err=13" % msgid)
        st = self.stats_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 1, "receipt")
        self.assertEqual(st["dlr_fallback"], 0)

    def test_max_pending_drops_and_counts(self):
        sim = self.start_sim("--dlr-delay-ms", "200", "--dlr-max-pending", "3")
        e = self.esme(sim)
        for _ in range(5):
            e.submit()
        ids = e.resp_ids(5)
        e.receipts_until(3)
        st = self.stats_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == 3, "receipts")
        self.assertEqual((st["dlr_scheduled"], st["dlr_dropped"], st["dlr_pending"]), (3, 2, 0))
        got = [receipt_fields(parse_receipt(b)[3])["id"] for _, b in e.receipts]
        self.assertEqual(got, [ids[s] for s in sorted(ids)][:3])

    def test_stats_by_source_and_data_coding(self):
        sim = self.start_sim()
        a = self.esme(sim)
        b = self.esme(sim)
        for _ in range(3):
            a.submit(src="10086", regdel=0)
        for _ in range(2):
            a.submit(src="1008601", dc=8, text="你好".encode("utf-16-be"), regdel=0)
        a.data_sm(src="10086", dc=8, text="好".encode("utf-16-be"), regdel=0)
        b.submit(src="10086", dc=3, regdel=0)
        a.resp_ids(5)
        a.resp_ids(1, DATA_SM_RESP)
        b.resp_ids(1)
        st = self.stats_until(sim, lambda st: st["mt_parts_accepted"] == 7, "7 parts")
        self.assertEqual(st["submit_by_source"], {"10086": 5, "1008601": 2})
        self.assertEqual(st["submit_by_data_coding"], {"0": 3, "3": 1, "8": 3})
        sa, sb = sorted(st["sessions"], key=lambda s: s["id"])
        self.assertEqual(sa["submit_by_source"], {"10086": 4, "1008601": 2})
        self.assertEqual(sa["submit_by_data_coding"], {"0": 3, "8": 3})
        self.assertEqual(sb["submit_by_source"], {"10086": 1})
        self.assertEqual(sb["submit_by_data_coding"], {"3": 1})

    def test_resp_rate_holds_the_window_without_blocking(self):
        """--resp-rate 20: ten submits in a burst are answered 50 ms apart
        (not before), all ten outstanding at once, while an enquire_link sent
        after them is answered before the last resp."""
        sim = self.start_sim("--resp-rate", "20")
        e = self.esme(sim)
        first = e.submit(regdel=0)
        for _ in range(9):
            e.submit(regdel=0)
        ping = e.send(ENQUIRE_LINK)
        order, at = [], {}
        while len(order) < 11:
            cmd, status, seq, _ = e.read_pdu()
            self.assertEqual(status, 0)
            order.append((cmd, seq))
            at[seq] = time.monotonic()
        self.assertLess(order.index((ENQUIRE_LINK_RESP, ping)), 10, order)
        self.assertGreaterEqual(at[first + 9] - e.sent_at[first], 9 * 0.050 - SLACK)
        st = self.stats_until(sim, lambda st: st["mt_parts_accepted"] == 10, "10 parts")
        self.assertGreaterEqual(st["max_outstanding"], 9, st)


if __name__ == "__main__":
    harness.main()
