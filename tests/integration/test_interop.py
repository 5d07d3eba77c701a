"""test_interop.py -- shortcoded and smsc-sim against an SMPP implementation
this project did not write: Debian's Net::SMPP (libnet-smpp-perl).

1. Net::SMPP as the SMSC (interop/smsc.pl), shortcoded as the ESME: bind,
   MOs as deliver_sm (GSM, UCS-2, message_payload) and data_sm,
   enquire_link, unbind; every reply is decoded and reassembled on the Perl
   side (UDH, SAR TLVs or message_payload, per smpp.seg_mode) and must equal
   the configured template.
2. Net::SMPP as the ESME (interop/esme.pl), smsc-sim as the SMSC: an echo
   service; the simulator's script sends MOs and expects the echoes.

The Perl peers print one machine-checkable line per event ("OK ...",
"REPLY ...", "MO ...", "ECHO ...", "RECV <cmd> ... body=<hex>", "DONE" or
"FAIL <reason>") and exit 0 only if the whole dialogue went as expected;
every read they do is bounded (see interop/smpp_common.pl for why that is
not done with alarm()). With --trace, Net::SMPP itself dumps every PDU it
sends and reads in hex, so a failing run's log holds the exact bytes."""
import os
import re
import subprocess

import harness
from harness import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
PERL_DIR = os.path.join(HERE, "interop")
HELP = "回复0000查询包月业务，回复00000退订全部。"
HELP_LINE = '  help: "%s"\n' % HELP

# 91 characters: UCS-2, 2 parts of at most 67.
LONG_ZH = ("您已订购以下包月业务：1.彩铃 5元/月；2.手机报 3元/月；3.视频会员 15元/月；"
           "4.云盘 10元/月。回复序号退订，可一次回复多个序号并用空格分隔；回复00000退订全部。")
# GSM 7-bit with extension characters (2 septets each): more than 160
# septets, so 2 parts of at most 153; the "{" takes septets 153 and 154, so
# the encoder must move it whole to part 2 (never split an escape).
LONG_GSM = ("Your services: {ring tones} [EUR 5,00] ~ {news} [EUR 3,00] ~ {video} [EUR 15,00] "
            "| total 23€ per month ^ reply with the item number to {cancel} it, or 00000 to "
            "cancel all of them @ once; Ä Ö Ü é è à ñ § ¿ ¡")

REPLY_RE = re.compile(r"^REPLY (\S+) parts=(\d+) how=(\S+) dc=(\d+) src=(\S+) dst=(\S+) text=(.*)$",
                      re.M)


def netsmpp_missing():
    """Why the Net::SMPP peers cannot run here, or None."""
    try:
        r = subprocess.run(["perl", "-MNet::SMPP", "-e", "print $Net::SMPP::VERSION"],
                           capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "perl not runnable: %s" % e
    if r.returncode != 0:
        return "Net::SMPP not installed (apt-get install libnet-smpp-perl): %s" % r.stderr.decode()
    return None


class NetSmppEnv(harness.Env):
    def setUp(self):
        why = netsmpp_missing()
        if why:
            self.fail(why)  # a missing dependency is a failure, not a skip
        super().setUp()

    def perl(self, name, script, *args):
        return self.start(name, ["perl", os.path.join(PERL_DIR, script)] + [str(a) for a in args])

    def assert_perl_clean(self, out):
        """No Perl or Net::SMPP warning about what was read or sent."""
        for bad in ("Use of uninitialized value", "Unknown tag", "Unknown optional parameter",
                    "isn't numeric", "substr outside of string"):
            self.assertNotIn(bad, out)

    @staticmethod
    def finish(p, timeout):
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not finish in %ds:\n%s" % (p.name, timeout, p.output()))
        return rc, p.output()


class NetSmppAsSmsc(NetSmppEnv):
    """Direction 1: Net::SMPP is the SMSC, shortcoded binds to it."""

    def dialogue(self, help_text=HELP, extra=""):
        portfile = os.path.join(self.dir, "netsmpp.port")
        smsc = self.perl("netsmpp-smsc", "smsc.pl", "--port-file", portfile, "--timeout", 40,
                         "--trace")
        wait_for(lambda: os.path.exists(portfile) or not smsc.alive(), 10,
                 "the Net::SMPP SMSC to listen")
        self.assertTrue(os.path.exists(portfile), "smsc.pl exited at start:\n" + smsc.output())
        with open(portfile) as f:
            port = int(f.read())
        redis = self.start_redis()
        cfg = self.write_config(port, redis_port=redis.port, extra=extra)
        if help_text != HELP:
            with open(cfg, encoding="utf-8") as f:
                text = f.read()
            self.assertIn(HELP_LINE, text)
            with open(cfg, "w", encoding="utf-8") as f:
                # Braces are placeholders in templates: "{{" is a literal "{".
                tpl = help_text.replace("{", "{{").replace("}", "}}")
                f.write(text.replace(HELP_LINE, '  help: "%s"\n' % tpl))
        d = self.start_daemon(cfg)
        rc, out = self.finish(smsc, 50)
        self.assertEqual(rc, 0, "Net::SMPP SMSC failed:\n" + out)
        self.assertNotIn("FAIL", out)
        self.assert_perl_clean(out)
        self.assertIn("OK bind system_id=shortcoded", out)
        self.assertRegex(out, r"(?m)^OK deliver_sm deliver_sm_resp seq=\d+ status=0 ")
        self.assertRegex(out, r"(?m)^OK deliver_sm_ucs2 deliver_sm_resp seq=\d+ status=0 ")
        self.assertRegex(out, r"(?m)^OK deliver_sm_payload deliver_sm_resp seq=\d+ status=0 ")
        self.assertRegex(out, r"(?m)^OK data_sm data_sm_resp seq=\d+ status=0 ")
        self.assertRegex(out, r"(?m)^OK enquire_link seq=\d+ status=0$")
        self.assertRegex(out, r"(?m)^OK unbind seq=\d+ status=0$")
        self.assertTrue(out.rstrip().endswith("DONE"), out[-2000:])
        replies = {m.group(1): m for m in REPLY_RE.finditer(out)}
        self.assertEqual(sorted(replies), ["data_sm", "deliver_sm", "deliver_sm_payload",
                                          "deliver_sm_ucs2"], out)
        for label, m in replies.items():
            self.assertEqual(m.group(7), help_text, label)
            self.assertEqual(m.group(5), "0/0/10086", label)
        # Each reply goes to the exact address (TON/NPI included) the MO came from.
        self.assertEqual(replies["deliver_sm"].group(6), "0/0/13800138000")
        self.assertEqual(replies["deliver_sm_ucs2"].group(6), "0/1/13800138001")
        self.assertEqual(replies["deliver_sm_payload"].group(6), "0/0/13800138003")
        self.assertEqual(replies["data_sm"].group(6), "1/1/8613800138002")
        # The daemon saw the unbind, answered it, and is still running (it
        # reconnects, as after any lost bind).
        d.wait_log(r"event=unbind_received", timeout=5)
        self.assertTrue(d.alive(), d.output())
        log = d.output()
        for bad in ("event=mo_rejected", "event=submit_failed", "event=unexpected_command",
                    "event=mo_failed", "generic_nack"):
            self.assertNotIn(bad, log)
        return replies, out, d

    def test_bind_mo_enquire_link_data_sm_unbind(self):
        replies, out, d = self.dialogue()
        for label, m in replies.items():
            self.assertEqual((m.group(2), m.group(3), m.group(4)), ("1", "single", "8"), label)
        # The MO texts reached the daemon decoded: "0000" in every encoding.
        self.assertEqual(d.count(r"event=mo .*command=\"?0000\"?"), 4, d.output())

    def test_long_ucs2_reply_udh(self):
        replies, _, _ = self.dialogue(help_text=LONG_ZH)
        for label, m in replies.items():
            self.assertEqual((m.group(2), m.group(3), m.group(4)), ("2", "udh", "8"), label)

    def test_long_ucs2_reply_sar(self):
        replies, _, _ = self.dialogue(help_text=LONG_ZH, extra="smpp:\n  seg_mode: sar\n")
        for label, m in replies.items():
            self.assertEqual((m.group(2), m.group(3), m.group(4)), ("2", "sar", "8"), label)

    def test_long_ucs2_reply_payload(self):
        replies, out, _ = self.dialogue(help_text=LONG_ZH, extra="smpp:\n  seg_mode: payload\n")
        for label, m in replies.items():
            self.assertEqual((m.group(2), m.group(3), m.group(4)), ("1", "payload", "8"), label)
        # The whole text in message_payload, short_message empty.
        self.assertRegex(out, r"(?m)^PART deliver_sm .* sm_length=0 payload=%d " % (2 * len(LONG_ZH)))

    def test_long_gsm_reply_udh(self):
        replies, _, _ = self.dialogue(help_text=LONG_GSM)
        for label, m in replies.items():
            self.assertEqual((m.group(2), m.group(3), m.group(4)), ("2", "udh", "0"), label)


class NetSmppAsEsme(NetSmppEnv):
    """Direction 2: Net::SMPP is the ESME (an echo service) bound to smsc-sim."""

    SCRIPT = """
wait_bound 10000
send 13800138000 0000
expect_status ESME_ROK
expect 13800138000 ^echo:0000$
send 13800138001 hello world
expect_status ESME_ROK
expect 13800138001 ^echo:hello.world$
send --ucs2 13800138002 你好，世界
expect_status ESME_ROK
expect 13800138002 ^echo:你好，世界$
send --data-sm 13800138003 data sm text
expect_status ESME_ROK
expect 13800138003 ^echo:data.sm.text$
send --payload 13800138004 payload text
expect_status ESME_ROK
expect 13800138004 ^echo:payload.text$
send --parts 2 13800138005 this MO arrives in two parts
expect_status ESME_ROK
expect 13800138005 ^echo:this.MO.arrives.in.two.parts$
send --parts 2 --udh16 --ucs2 13800138006 一条分两段发送的中文短信
expect_status ESME_ROK
expect 13800138006 ^echo:一条分两段发送的中文短信$
send --parts 3 --sar 13800138007 three SAR segments
expect_status ESME_ROK
expect 13800138007 ^echo:three.SAR.segments$
send 13800138008 marker
expect 13800138008 ^echo:marker$
expect_none 13800138007 0
"""
    # The last MO is the marker: echoed in order, after any second echo of
    # the three-part MO, which expect_none then finds.
    MOS = 9

    def test_echo_service_against_smsc_sim(self):
        self.assertTrue(os.path.exists(harness.SIM), "smsc-sim not built at %s" % harness.SIM)
        sim = self.start_sim(script=self.SCRIPT)
        esme = self.perl("netsmpp-esme", "esme.pl", "--port", sim.port, "--expect", self.MOS,
                         "--timeout", 40, "--trace")
        rc, out = self.run_sim_script(sim, timeout=45)
        self.assertEqual(rc, 0, "smsc-sim script failed:\n" + out)
        self.assertRegex(out, r"script: \d+ passed, 0 failed")
        erc, eout = self.finish(esme, 15)
        self.assertEqual(erc, 0, "Net::SMPP ESME failed:\n" + eout)
        self.assertNotIn("FAIL", eout)
        self.assert_perl_clean(eout)
        self.assertIn("OK bind", eout)
        self.assertIn("OK echoed %d" % self.MOS, eout)
        self.assertTrue(eout.rstrip().endswith("DONE"), eout[-2000:])
        mos = [(m[0], m[1], m[3], m[4], m[2]) for m in re.findall(
            r"(?m)^MO \d+ kind=(\S+) parts=(\d+) how=(\S+) .* dc=(\d+) text=(.*)$", eout)]
        self.assertEqual(mos, [
            ("deliver_sm", "1", "0", "0000", "single"),
            ("deliver_sm", "1", "0", "hello world", "single"),
            ("deliver_sm", "1", "8", "你好，世界", "single"),
            ("data_sm", "1", "0", "data sm text", "payload"),
            ("deliver_sm", "1", "0", "payload text", "payload"),
            ("deliver_sm", "2", "0", "this MO arrives in two parts", "udh"),
            ("deliver_sm", "2", "8", "一条分两段发送的中文短信", "udh16"),
            ("deliver_sm", "3", "0", "three SAR segments", "sar"),
            ("deliver_sm", "1", "0", "marker", "single"),
        ], eout)
        echoes = re.findall(r"(?m)^ECHO \d+ seq=\d+ to=(\S+) dc=(\d+) ", eout)
        self.assertEqual(echoes, [("138001380%02d" % i, "8" if i in (2, 6) else "0")
                                  for i in range(self.MOS)], eout)
        self.assertEqual(len(re.findall(r"(?m)^OK submit_sm_resp ", eout)), self.MOS)


if __name__ == "__main__":
    harness.main()
