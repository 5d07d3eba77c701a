"""test_hostile.py -- a raw SMSC (written here, byte by byte) sends shortcoded
what no honest SMSC would: 29+ TLVs, truncated bodies, lying lengths, unknown
command ids, invalid UCS-2, garbage. The daemon must answer as SMPP says or
drop the connection, and keep running; under the ASan build the harness also
fails the test on any sanitizer report."""
import random
import re
import signal
import socket
import struct
import time

import harness

DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
BIND_TRX, BIND_TRX_RESP = 0x00000009, 0x80000009
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND = 0x00000006
GENERIC_NACK = 0x80000000
ESME_RINVCMDLEN, ESME_RINVCMDID, ESME_RINVSRCADR = 0x02, 0x03, 0x0A


def pdu(cmd, seq, body=b"", status=0, length=None):
    n = 16 + len(body) if length is None else length
    return struct.pack(">IIII", n, cmd, status, seq) + body


def cstr(s):
    return s.encode() + b"\0"


def deliver_body(text=b"0000", dc=0, tlvs=b"", src="13800138000", sm_length=None, dst="10086",
                 esm_class=0):
    sm_len = len(text) if sm_length is None else sm_length
    return (cstr("") + bytes([1, 1]) + cstr(src) + bytes([0, 0]) + cstr(dst) +
            bytes([esm_class, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, dc, 0, sm_len]) + text +
            tlvs)


def submit_dest(body):
    """destination_addr of a submit_sm body: service_type, source ton npi
    addr, then dest ton npi addr (C strings and bytes)."""
    o = body.index(b"\0") + 3            # past service_type, ton, npi
    o = body.index(b"\0", o) + 3         # past source_addr, ton, npi
    return body[o:body.index(b"\0", o)].decode()


# The source of marker MOs (replies_before_marker): a subscriber no test uses.
def submit_text(body):
    """The text of a one-part submit_sm body (no UDH): UCS-2 for
    data_coding 8, else the GSM default alphabet's ASCII subset, one octet
    a character (letters, digits, punctuation)."""
    o = body.index(b"\0") + 3            # service_type, source ton npi
    o = body.index(b"\0", o) + 3         # source_addr, dest ton npi
    o = body.index(b"\0", o) + 4         # destination_addr, esm_class, pid, priority
    o = body.index(b"\0", o) + 1         # schedule_delivery_time
    o = body.index(b"\0", o) + 3         # validity_period, registered, replace
    dc, n = body[o], body[o + 2]         # data_coding, sm_default_msg_id, sm_length
    sm = body[o + 3:o + 3 + n]
    return sm.decode("utf-16-be") if dc == 8 else sm.decode("ascii")


MARKER = "13900000099"


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

    def accept_bind(self, timeout=10, system_id="rawsmsc"):
        self.srv.settimeout(timeout)
        self.c, _ = self.srv.accept()
        self.buf = b""
        cmd, status, seq, body = self.read_pdu(timeout)
        assert cmd == BIND_TRX, hex(cmd)
        self.send(pdu(BIND_TRX_RESP, seq, cstr(system_id)))

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

    def replies_before_marker(self, seq, marker=None):
        """A positive marker for "no reply came": send a valid MO from
        marker (seq) and read up to the reply to it, answering every
        submit_sm; return the destinations of the submit_sm that came
        before that reply. The daemon runs the MOs of a link in order over
        one Redis connection and queues replies in order, so a reply to any
        earlier MO arrives before the marker's, however slow the machine."""
        marker = marker or MARKER
        self.send(pdu(DELIVER_SM, seq, deliver_body(src=marker)))
        before = []
        while True:
            cmd, _, s, body = self.read_pdu(10)
            if cmd != SUBMIT_SM:
                continue
            self.send(pdu(SUBMIT_SM_RESP, s, cstr("m%d" % s)))
            dst = submit_dest(body)
            if dst == marker:
                return before
            before.append(dst)

    def closed_by_peer(self, timeout=5):
        """True once the daemon has closed the connection: EOF, or a reset
        (what a close with our bytes still unread in its socket sends).
        False if it is still open after timeout s."""
        self.c.settimeout(timeout)
        try:
            while True:
                if not self.c.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        if self.c:
            self.c.close()
        self.srv.close()


# A RawSmsc answers a submit_sm only when a test does: with the default
# ack_policy after_reply every MO's resp would wait for that. These tests
# are about hostile input, so the resp comes first (AckAfterReplyTest below
# covers after_reply).
RAW_LIMITS = "  rate_limit_count: 1000000\n  ack_policy: after_store\n"


def start_on_raw_smsc(env, extra=""):
    """A RawSmsc and env's daemon bound to it (extra: config lines at the
    top level)."""
    smsc = RawSmsc()
    cfg = env.write_config(smsc.port, bind_extra="    enquire_link_s: 60\n", extra=extra,
                           limits=RAW_LIMITS)
    d = env.start_daemon(cfg)
    smsc.accept_bind()
    d.wait_log(r"event=bound ")
    return smsc, d


class HostileTest(harness.Env):
    def setUp(self):
        super().setUp()
        self.smsc, self.d = start_on_raw_smsc(self)

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
        self.assertEqual(self.smsc.replies_before_marker(81), [])

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
            except OSError:  # the daemon already hung up: closed_by_peer sees it
                pass
            # The first 4 junk bytes are the command_length: out of range for
            # every seeded round, so the daemon must nack and hang up.
            self.assertTrue(self.smsc.closed_by_peer(timeout=10),
                            "round %d: the daemon kept a garbage stream open" % round_)
            self.smsc.c.close()
            self.smsc.accept_bind()
        self.d.wait_log(r"event=bad_command_length ", count=5)
        self.assert_still_serving()


FORGED = "\nlevel=error event=forged x=\x1b[31m"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) "
                      r"event=[a-z_]+( |$)")


class PeerBase(harness.Env):
    """A RawSmsc bound with a hostile system_id, and a Redis to look into."""

    config_extra = ""

    def setUp(self):
        super().setUp()
        self.smsc = RawSmsc()
        cfg = self.write_config(self.smsc.port, bind_extra="    enquire_link_s: 60\n",
                                extra=self.config_extra, limits=RAW_LIMITS)
        self.d = self.start_daemon(cfg)
        self.smsc.accept_bind(system_id="raw" + FORGED[:12])
        self.d.wait_log(r"event=bound ")
        self.r = harness.Redis(self.redis.port)

    def tearDown(self):
        self.r.close()
        self.smsc.close()
        super().tearDown()

    def mo(self, seq, **kw):
        self.smsc.send(pdu(DELIVER_SM, seq, deliver_body(**kw)))
        _, status, rseq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual(rseq, seq)
        return status

    def assert_no_reply(self):
        """No reply to the MOs sent so far (replies_before_marker; the
        marker MOs use seq 9000 and up, and write only MARKER's keys)."""
        self.marker_seq = getattr(self, "marker_seq", 9000) + 1
        self.assertEqual(self.smsc.replies_before_marker(self.marker_seq), [])

    def keys(self):
        """Redis keys, without those of the marker MOs and the (empty)
        mt:push stream the push intake creates with its group."""
        return [k for k in self.r.keys() if MARKER not in k and k != "mt:push"]

    def reply_source(self):
        """The source_addr of the next submit_sm (answered ROK)."""
        _, _, seq, body = self.smsc.read_until(SUBMIT_SM)
        src = body[body.index(b"\0") + 3:]
        return src[:src.index(b"\0")].decode()

    def assert_log_clean(self):
        out = self.d.output()
        self.assertNotIn("\x1b", out)
        for line in out.splitlines():
            self.assertRegex(line, LOG_LINE)


class PeerFieldsTest(PeerBase):
    """Issue 8 items 5 and 6: what a peer puts in addresses and ids. An MO
    to a number we do not serve has no effect and no reply; an MO from an
    implausible source is refused with ESME_RINVSRCADR; no peer text forges
    a log line or reaches it with an escape sequence."""

    def test_mo_to_a_number_we_do_not_serve(self):
        for i, dst in enumerate(["10010", "13900139000", "", "100861", "10086" + FORGED[:10]]):
            self.assertEqual(self.mo(10 + i, dst=dst), 0, dst)
            self.assert_no_reply()
        self.d.wait_log(r"event=mo_not_served ", count=5)
        self.d.wait_log(r'event=mo_not_served .*dst="10086\\x0alevel=err"')
        self.assertEqual([k for k in self.keys() if k.startswith("rl:")], [])
        # The number we serve, also with a msisdn_prefixes prefix: answered,
        # from the number it was sent to.
        self.assertEqual(self.mo(20, dst="10086"), 0)
        self.assertEqual(self.reply_source(), "10086")
        self.assertEqual(self.mo(21, dst="8610086"), 0)
        self.assertEqual(self.reply_source(), "8610086")
        self.assert_log_clean()

    def test_implausible_sources_are_refused(self):
        bad = ["", "abc", "1" + FORGED[:10], "+", "++8613800138000", "138 0013 8000",
               "1380013800\x1b[31m", "13800138000A"]
        for i, src in enumerate(bad):
            self.assertEqual(self.mo(30 + i, src=src), ESME_RINVSRCADR, repr(src))
            self.assert_no_reply()
        self.d.wait_log(r"event=mo_refused .*reason=bad_source", count=len(bad))
        self.assertEqual(self.keys(), [])
        for i, src in enumerate(["13800138000", "+8613800138000", "1"]):
            self.assertEqual(self.mo(50 + i, src=src), 0, src)
            self.reply_source()
        self.assert_log_clean()

    def test_no_peer_text_forges_a_log_line(self):
        # A receipt whose id: carries a newline and an escape sequence, one
        # with such a receipted_message_id TLV, a source that is logged.
        text = ("id:5a1b%s stat:DELIVRD err:000 text:x" % FORGED[:12]).encode()
        self.assertEqual(self.mo(60, text=text, esm_class=0x04, src="1380013800" + FORGED[:5]), 0)
        rid = tlv(0x001E, (FORGED + "\0").encode()) + tlv(0x0427, b"\x02")
        self.assertEqual(self.mo(61, text=b"", esm_class=0x04, tlvs=rid), 0)
        # A reply whose submit_sm_resp carries a hostile message_id.
        self.assertEqual(self.mo(62), 0)
        while True:
            cmd, _, seq, _ = self.smsc.read_pdu()
            if cmd == SUBMIT_SM:
                break
        self.smsc.send(pdu(SUBMIT_SM_RESP, seq, cstr("m1" + FORGED)))
        self.d.wait_log(r"event=submit_ok .*message_id=")
        # Both ids carry control characters: unreadable (no key is made of them).
        self.d.wait_log(r"event=receipt_unreadable .*id=", count=2)
        self.d.wait_log(r"event=bound .*smsc_system_id=\"raw\\x0alevel")
        self.assertEqual(self.mo(63, src="abc" + FORGED[:10]), ESME_RINVSRCADR)
        self.d.wait_log(r"event=mo_refused ")
        self.assert_log_clean()


class ForeignStatusTest(PeerBase):
    """limits.foreign_mo_status and smpp.source_addr: alphanumeric."""

    config_extra = "  foreign_mo_status: ESME_RINVDSTADR\nsmpp:\n  source_addr: alphanumeric\n"

    def test_foreign_status(self):
        self.assertEqual(self.mo(10, dst="10010"), 0x0B)
        self.assert_no_reply()
        self.d.wait_log(r"event=mo_not_served .*status=ESME_RINVDSTADR")

    def test_alphanumeric_sources(self):
        for i, src in enumerate(["abc", "China Mobile", "A1", "+8613800138000"]):
            self.assertEqual(self.mo(30 + i, src=src), 0, src)
            self.assertEqual(self.reply_source(), "10086")
        for i, src in enumerate(["", " abc", "abc ", "a\tb", "abc" + FORGED[:3], "中国移动"]):
            self.assertEqual(self.mo(40 + i, src=src), ESME_RINVSRCADR, repr(src))
            self.assert_no_reply()
        self.assert_log_clean()


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
        # The positive marker: the session answers enquire_link at once, after
        # anything queued before it, so a resp sent with the reply comes first.
        self.smsc.send(pdu(ENQUIRE_LINK, 7000 + seq))
        cmd, _, eseq, _ = self.smsc.read_pdu()
        self.assertEqual((cmd, eseq), (ENQUIRE_LINK_RESP, 7000 + seq), "resp before the reply's")
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


class ReplyHoldTest(harness.Env):
    """limits.reply_hold_ms: an MO whose reply the SMSC has not accepted in
    time gets the temporary error (its one outcome: a reply not yet sent is
    withdrawn, so the redelivered MO's is the only one)."""

    def setUp(self):
        super().setUp()
        self.smsc = RawSmsc()
        # window 1: a second reply waits behind an unanswered first one.
        cfg = self.write_config(self.smsc.port, bind_extra="    window: 1\n"
                                "    enquire_link_s: 60\n",
                                limits="  rate_limit_count: 1000\n  reply_hold_ms: 500\n"
                                "  shutdown_timeout_ms: 1500\n")
        self.d = self.start_daemon(cfg)
        self.smsc.accept_bind()

    def tearDown(self):
        self.smsc.close()
        super().tearDown()

    def test_reply_not_accepted_in_time_gives_the_temporary_error(self):
        self.smsc.send(pdu(DELIVER_SM, 7, deliver_body()))
        cmd, _, sseq, _ = self.smsc.read_pdu()
        self.assertEqual(cmd, SUBMIT_SM)  # 7's reply, left unanswered
        self.smsc.send(pdu(DELIVER_SM, 8, deliver_body()))  # its reply waits for the window
        got = [self.smsc.read_pdu()[:3] for _ in range(2)]
        self.assertEqual(got, [(DELIVER_SM_RESP, 0x64, 7), (DELIVER_SM_RESP, 0x64, 8)])
        self.d.wait_log(r"event=reply_hold_expired .*reply=in_flight")
        self.d.wait_log(r"event=reply_hold_expired .*reply=withdrawn")
        # 7's reply accepted late changes nothing; 8's was withdrawn, so it is
        # never sent (positive marker: the enquire_link_resp comes next, after
        # anything the accepted submit_sm_resp let out).
        self.smsc.send(pdu(SUBMIT_SM_RESP, sseq, cstr("m1")) + pdu(ENQUIRE_LINK, 7001))
        self.assertEqual(self.smsc.read_pdu()[:3], (ENQUIRE_LINK_RESP, 0, 7001))
        # The SMSC delivers 8 again: answered once its reply is accepted.
        self.smsc.send(pdu(DELIVER_SM, 9, deliver_body()))
        cmd, _, sseq, _ = self.smsc.read_pdu()
        self.assertEqual(cmd, SUBMIT_SM)
        self.smsc.send(pdu(SUBMIT_SM_RESP, sseq, cstr("m2")))
        self.assertEqual(self.smsc.read_pdu()[:3], (DELIVER_SM_RESP, 0, 9))

    def test_sigterm_answers_held_mos_before_unbind(self):
        # Two MOs held at SIGTERM: the first one's reply is accepted during
        # the shutdown (ROK); the second's waits behind it, and at
        # reply_hold_ms (500, counted from before the SIGTERM, so before the
        # shutdown_timeout_ms of 1500) gets the temporary error, its reply
        # withdrawn or, if it went meanwhile, left unanswered here. The
        # unbind comes only after both resps.
        self.smsc.send(pdu(DELIVER_SM, 11, deliver_body()))
        cmd, _, sseq, _ = self.smsc.read_pdu()
        self.assertEqual(cmd, SUBMIT_SM)
        self.smsc.send(pdu(DELIVER_SM, 12, deliver_body(src="13800138001")))
        self.d.wait_log(r"event=mo msisdn=13800138001 ")
        self.d.signal(signal.SIGTERM)
        self.d.wait_log(r"event=shutdown ")
        self.smsc.send(pdu(SUBMIT_SM_RESP, sseq, cstr("m1")))
        resps = {}
        while True:
            cmd, status, seq, _ = self.smsc.read_pdu()
            if cmd == UNBIND:
                break
            if cmd == DELIVER_SM_RESP:
                resps[seq] = status
        self.assertEqual(resps, {11: 0, 12: 0x64})
        self.d.wait_log(r"event=reply_hold_expired msisdn=13800138001 ")

if __name__ == "__main__":
    harness.main()
