"""test_hostile.py -- a raw SMSC (written here, byte by byte) sends shortcoded
what no honest SMSC would: 29+ TLVs, truncated bodies, lying lengths, unknown
command ids, invalid UCS-2, garbage. The daemon must answer as SMPP says or
drop the connection, and keep running; under the ASan build the harness also
fails the test on any sanitizer report."""
import random
import socket
import struct
import time

import harness

DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
BIND_TRX, BIND_TRX_RESP = 0x00000009, 0x80000009
GENERIC_NACK = 0x80000000
ESME_RINVCMDLEN, ESME_RINVCMDID = 0x02, 0x03


def pdu(cmd, seq, body=b"", status=0, length=None):
    n = 16 + len(body) if length is None else length
    return struct.pack(">IIII", n, cmd, status, seq) + body


def cstr(s):
    return s.encode() + b"\0"


def deliver_body(text=b"0000", dc=0, tlvs=b"", src="13800138000", sm_length=None):
    sm_len = len(text) if sm_length is None else sm_length
    return (cstr("") + bytes([1, 1]) + cstr(src) + bytes([0, 0]) + cstr("10086") +
            bytes([0, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, dc, 0, sm_len]) + text + tlvs)


def tlv(tag, value):
    return struct.pack(">HH", tag, len(value)) + value


class RawSmsc:
    """Accepts the daemon's connection and answers its bind; then the test
    drives the byte stream."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.c = None
        self.buf = b""

    def accept_bind(self, timeout=10):
        self.srv.settimeout(timeout)
        self.c, _ = self.srv.accept()
        self.buf = b""
        cmd, status, seq, body = self.read_pdu(timeout)
        assert cmd == BIND_TRX, hex(cmd)
        self.send(pdu(BIND_TRX_RESP, seq, cstr("rawsmsc")))

    def send(self, data):
        self.c.sendall(data)

    def read_pdu(self, timeout=5):
        self.c.settimeout(timeout)
        while True:
            if len(self.buf) >= 16:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= n:
                    p, self.buf = self.buf[:n], self.buf[n:]
                    _, cmd, status, seq = struct.unpack(">IIII", p[:16])
                    return cmd, status, seq, p[16:]
            d = self.c.recv(65536)
            if not d:
                raise ConnectionError("daemon closed the connection")
            self.buf += d

    def read_until(self, cmd, timeout=5):
        """Next PDU with command cmd, answering submit_sm on the way."""
        deadline = time.monotonic() + timeout
        while True:
            c, status, seq, body = self.read_pdu(max(0.1, deadline - time.monotonic()))
            if c == SUBMIT_SM:
                self.send(pdu(SUBMIT_SM_RESP, seq, cstr("m%d" % seq)))
            if c == cmd:
                return c, status, seq, body

    def closed_by_peer(self, timeout=5):
        self.c.settimeout(timeout)
        try:
            while True:
                if not self.c.recv(65536):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        if self.c:
            self.c.close()
        self.srv.close()


class HostileTest(harness.Env):
    def setUp(self):
        super().setUp()
        self.smsc = RawSmsc()
        cfg = self.write_config(self.smsc.port, bind_extra="    enquire_link_s: 60\n")
        self.d = self.start_daemon(cfg)
        self.smsc.accept_bind()
        self.d.wait_log(r"event=bound ")

    def tearDown(self):
        # This SMSC never answers unbind: hang up first so the daemon's
        # shutdown does not wait out its unbind_resp timeout.
        self.smsc.close()
        super().tearDown()

    def assert_still_serving(self, seq=900):
        """A valid MO still gets ROK and a reply."""
        self.smsc.send(pdu(DELIVER_SM, seq, deliver_body()))
        _, status, rseq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual((status, rseq), (0, seq))
        self.smsc.read_until(SUBMIT_SM)
        self.assertTrue(self.d.alive())

    def test_29_tlvs_refused_28_accepted(self):
        many = b"".join(tlv(0x1400 + i, b"x") for i in range(29))
        self.smsc.send(pdu(DELIVER_SM, 10, deliver_body(tlvs=many)))
        _, status, seq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual(seq, 10)
        self.assertNotEqual(status, 0)
        ok = b"".join(tlv(0x1400 + i, b"x") for i in range(28))
        self.smsc.send(pdu(DELIVER_SM, 11, deliver_body(tlvs=ok)))
        _, status, seq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual((status, seq), (0, 11))
        self.assert_still_serving()

    def test_huge_tlv_count_and_octet_tlv(self):
        # 600 tiny TLVs and one 1000-byte TLV: both must be bounded.
        many = b"".join(tlv(0x1400, b"") for _ in range(600))
        self.smsc.send(pdu(DELIVER_SM, 12, deliver_body(tlvs=many)))
        self.assertNotEqual(self.smsc.read_until(DELIVER_SM_RESP)[1], 0)
        self.smsc.send(pdu(DELIVER_SM, 13, deliver_body(tlvs=tlv(0x1401, b"A" * 1000))))
        self.smsc.read_until(DELIVER_SM_RESP)
        self.assert_still_serving()

    def test_truncated_bodies_at_every_offset(self):
        sar = tlv(0x020C, b"\0\1")
        body = deliver_body(text=b"hello", tlvs=sar)
        whole_without_tlv = len(body) - len(sar)  # a valid deliver_sm again
        for cut in range(len(body)):
            self.smsc.send(pdu(DELIVER_SM, 100 + cut, body[:cut]))
            _, status, seq, _ = self.smsc.read_until(DELIVER_SM_RESP)
            self.assertEqual(seq, 100 + cut)
            if cut == whole_without_tlv:
                self.assertEqual(status, 0)
            else:
                self.assertNotEqual(status, 0, "cut at %d accepted" % cut)
        self.assert_still_serving()

    def test_sm_length_past_body_and_bad_tlv_length(self):
        self.smsc.send(pdu(DELIVER_SM, 20, deliver_body(text=b"00", sm_length=200)))
        self.assertNotEqual(self.smsc.read_until(DELIVER_SM_RESP)[1], 0)
        bad = struct.pack(">HH", 0x0424, 500) + b"abc"  # message_payload claims 500
        self.smsc.send(pdu(DELIVER_SM, 21, deliver_body(text=b"", tlvs=bad)))
        self.assertNotEqual(self.smsc.read_until(DELIVER_SM_RESP)[1], 0)
        self.assert_still_serving()

    def test_delivery_receipts_are_parsed_and_acknowledged(self):
        text = b"id:5a1b sub:001 dlvrd:001 submit date:2611220310 done date:2611220310 stat:DELIVRD err:000 text:x"
        body = (cstr("") + bytes([1, 1]) + cstr("13800138000") + bytes([0, 0]) + cstr("10086") +
                bytes([0x04, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, 0, 0, len(text)]) + text)
        self.smsc.send(pdu(DELIVER_SM, 80, body))
        _, status, seq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual((status, seq), (0, 80))
        self.d.wait_log(r"event=receipt .*id=5a1b stat=DELIVRD err=0")
        # A receipt is not a command: no reply.
        with self.assertRaises(socket.timeout):
            self.smsc.read_pdu(timeout=0.3)

    def test_unknown_command_id_gets_generic_nack(self):
        self.smsc.send(pdu(0x00000999, 30, b"junk"))
        _, status, seq, _ = self.smsc.read_until(GENERIC_NACK)
        self.assertEqual((status, seq), (ESME_RINVCMDID, 30))
        self.assert_still_serving()

    def test_invalid_ucs2_is_replaced_not_fatal(self):
        for i, text in enumerate([b"\x00", b"\xd8\x00\x00\x30", b"\xdc\x00", b"\x00\x30" * 3 + b"\xff"]):
            self.smsc.send(pdu(DELIVER_SM, 40 + i, deliver_body(text=text, dc=8)))
            _, status, seq, _ = self.smsc.read_until(DELIVER_SM_RESP)
            self.assertEqual((status, seq), (0, 40 + i))
        self.assert_still_serving()

    def test_byte_by_byte_and_many_in_one_write(self):
        p = pdu(DELIVER_SM, 50, deliver_body())
        for b in p:
            self.smsc.send(bytes([b]))
        self.assertEqual(self.smsc.read_until(DELIVER_SM_RESP)[1:3], (0, 50))
        self.smsc.send(b"".join(pdu(DELIVER_SM, 60 + i, deliver_body()) for i in range(20)))
        seqs = {self.smsc.read_until(DELIVER_SM_RESP)[2] for _ in range(20)}
        self.assertEqual(seqs, set(range(60, 80)))

    def test_length_over_maximum_nacks_and_closes_then_rebinds(self):
        self.smsc.send(struct.pack(">IIII", 0x7FFFFFFF, DELIVER_SM, 0, 70))
        _, status, seq, _ = self.smsc.read_pdu()
        self.assertEqual((status, seq), (ESME_RINVCMDLEN, 70))
        self.assertTrue(self.smsc.closed_by_peer())
        self.smsc.accept_bind()
        self.assert_still_serving()

    def test_length_under_header_nacks_and_closes(self):
        self.smsc.send(struct.pack(">IIII", 8, DELIVER_SM, 0, 71))
        _, status, seq, _ = self.smsc.read_pdu()
        self.assertEqual(status, ESME_RINVCMDLEN)
        self.assertTrue(self.smsc.closed_by_peer())
        self.smsc.accept_bind()
        self.assert_still_serving()

    def test_random_garbage(self):
        rnd = random.Random(20261122)
        for round_ in range(5):
            junk = bytes(rnd.getrandbits(8) for _ in range(2000))
            try:
                self.smsc.send(junk)
                self.smsc.closed_by_peer(timeout=3)
            except OSError:
                pass
            self.smsc.c.close()
            self.smsc.accept_bind()
        self.assert_still_serving()


class AckAfterReplyTest(harness.Env):
    """limits.ack_policy after_reply: the MO's resp waits for the SMSC to
    accept the reply; a refused reply turns into the temporary error."""

    def setUp(self):
        super().setUp()
        self.smsc = RawSmsc()
        cfg = self.write_config(self.smsc.port, limits="  rate_limit_count: 1000\n"
                                "  ack_policy: after_reply\n")
        self.d = self.start_daemon(cfg)
        self.smsc.accept_bind()

    def tearDown(self):
        self.smsc.close()
        super().tearDown()

    def mo_then_submit(self, seq):
        self.smsc.send(pdu(DELIVER_SM, seq, deliver_body()))
        cmd, _, sseq, _ = self.smsc.read_pdu()
        self.assertEqual(cmd, SUBMIT_SM)  # the reply first, no resp yet
        with self.assertRaises(socket.timeout):
            self.smsc.read_pdu(timeout=0.3)
        return sseq

    def test_resp_follows_the_accepted_reply(self):
        sseq = self.mo_then_submit(5)
        self.smsc.send(pdu(SUBMIT_SM_RESP, sseq, cstr("m1")))
        cmd, status, seq, _ = self.smsc.read_pdu()
        self.assertEqual((cmd, status, seq), (DELIVER_SM_RESP, 0, 5))

    def test_refused_reply_gives_the_temporary_error(self):
        sseq = self.mo_then_submit(6)
        self.smsc.send(pdu(SUBMIT_SM_RESP, sseq, status=0x45))  # ESME_RSUBMITFAIL
        cmd, status, seq, _ = self.smsc.read_pdu()
        self.assertEqual((cmd, status, seq), (DELIVER_SM_RESP, 0x64, 6))


if __name__ == "__main__":
    harness.main()
