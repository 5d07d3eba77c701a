"""test_reload.py -- SIGHUP: what it applies at once (templates, limits),
what a bad file changes (nothing), and the log line, key by key, for every
change it cannot apply without a restart (never a secret's value). A raw SMSC (test_hostile.RawSmsc) drives the MOs so that each step
waits for the daemon's answer instead of for time."""
import re
import signal

import harness
from test_hostile import (DELIVER_SM, DELIVER_SM_RESP, SUBMIT_SM, RawSmsc, cstr, deliver_body,
                          pdu, submit_text)

ESME_RX_T_APPN, ESME_RMSGQFUL = 0x64, 0x14


def first_part(ref, src="13800138000"):
    """Part 1 of 2 of a long MO (8-bit reference UDH), esm_class 0x40."""
    text = bytes([5, 0, 3, ref, 2, 1]) + b"TD"
    return (cstr("") + bytes([1, 1]) + cstr(src) + bytes([0, 0]) + cstr("10086") +
            bytes([0x40, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, 0, 0, len(text)]) + text)


class ReloadTest(harness.Env):
    def setUp(self):
        super().setUp()
        self.smsc = RawSmsc()
        # One long MO per subscriber at a time: a second one is refused
        # by the esme itself with limits.mo_error_status.
        self.cfg = self.write_config(self.smsc.port, bind_extra="    enquire_link_s: 60\n",
                                     extra="smpp:\n  reasm_max_per_source: 1\n")
        self.d = self.start_daemon(self.cfg)
        self.smsc.accept_bind()
        self.d.wait_log(r"event=bound ")
        self.seq = 0

    def tearDown(self):
        self.smsc.close()  # it never answers unbind
        super().tearDown()

    def mo_status(self, body):
        self.seq += 1
        self.smsc.send(pdu(DELIVER_SM, self.seq, body))
        _, status, seq, _ = self.smsc.read_until(DELIVER_SM_RESP)
        self.assertEqual(seq, self.seq)
        return status

    def edit(self, *pairs):
        with open(self.cfg, encoding="utf-8") as f:
            text = f.read()
        for old, new in pairs:
            self.assertIn(old, text)
            text = text.replace(old, new)
        with open(self.cfg, "w", encoding="utf-8") as f:
            f.write(text)

    def reload(self, n):
        self.d.signal(signal.SIGHUP)
        self.d.wait_log(r"event=reloaded ", count=n)

    def test_mo_error_status_applies_to_the_next_refused_mo(self):
        self.assertEqual(self.mo_status(first_part(1)), 0)            # held
        self.assertEqual(self.mo_status(first_part(2)), ESME_RX_T_APPN)
        self.edit(("limits:\n", "limits:\n  mo_error_status: ESME_RMSGQFUL\n"))
        self.reload(1)
        self.assertEqual(self.mo_status(first_part(3)), ESME_RMSGQFUL)
        self.assertIn("event=reload_applied key=limits.mo_error_status old=ESME_RX_T_APPN "
                      "new=ESME_RMSGQFUL", self.d.output())

    def reply_to(self, text):
        """Send text as an MO; return the text of the reply (answering the
        submit_sm): each step waits for the daemon, never for time."""
        self.seq += 1
        self.smsc.send(pdu(DELIVER_SM, self.seq, deliver_body(text)))
        _, _, _, body = self.smsc.read_until(SUBMIT_SM, timeout=10)
        return submit_text(body)

    def test_sighup_reloads_templates_and_keeps_binds(self):
        self.assertTrue(self.reply_to(b"0000").startswith("回复0000查询包月业务"))
        self.edit(("  help: \"回复0000查询包月业务，回复00000退订全部。\"\n", "  help: \"NEW\"\n"))
        self.reload(1)
        self.assertEqual(self.reply_to(b"0000"), "NEW")
        self.edit(("  help: \"NEW\"", "  help: \"{nope}\""))  # a bad file: refused, NEW kept
        self.d.signal(signal.SIGHUP)
        self.d.wait_log(r"event=reload_failed .*unknown placeholder \{nope\}")
        self.assertEqual(self.reply_to(b"0000"), "NEW")
        self.assertEqual(self.d.count(r"event=bound "), 1)  # never rebound

    def test_each_key_that_needs_a_restart_is_named(self):
        self.edit(("    reconnect_max_ms: 1000\n",
                   "    reconnect_max_ms: 1000\n    window: 20\n"),
                  ("    password: secret\n", "    password: secret2\n"),
                  ("  url: redis://127.0.0.1:%d\n" % self.redis.port,
                   "  url: redis://127.0.0.1:%d/1\n  catalogue_refresh_s: 60\n" % self.redis.port),
                  ("smpp:\n", "smpp:\n  reasm_timeout_ms: 30000\n  max_parts: 4\n"
                   "  max_pdu_len: 8192\n"))
        self.reload(1)
        out = self.d.output()
        for key, vals in (("binds[0].window", "old=10 new=20"),
                          ("binds[0].password", "value=changed"),
                          ("redis.url", "value=changed"),
                          ("redis.catalogue_refresh_s", "old=300 new=60"),
                          ("smpp.max_pdu_len", "old=4096 new=8192")):
            self.assertRegex(out, r"level=warn event=reload_needs_restart key=%s %s\n"
                             % (re.escape(key), vals))
        self.assertIn("event=reload_applied key=smpp.max_parts old=8 new=4", out)
        # Read per long MO from the configuration in force: applied.
        self.assertIn("event=reload_applied key=smpp.reasm_timeout_ms old=60000 new=30000", out)
        self.assertRegex(out, r"event=reloaded .*changed=2 needs_restart=5")
        self.assertNotIn("secret2", out)
        # Compared with what runs: a second SIGHUP names them again, and a
        # change reverted is no longer reported.
        self.edit(("    window: 20\n", ""))
        self.reload(2)
        self.assertEqual(self.d.count(r"event=reload_needs_restart key=binds\[0\]\.window"), 1)
        self.assertEqual(self.d.count(r"event=reload_needs_restart key=redis\.url"), 2)
        self.assertEqual(self.d.count(r"event=bound "), 1)  # the binds stay up

    def test_log_level_under_command_line_override_is_not_silent(self):
        self.smsc.c.close()  # hang up first: the daemon's unbind would wait
        self.d.stop()
        d = self.start_daemon(self.cfg, "--log-level", "info", name="shortcoded2")
        self.smsc.accept_bind()
        d.wait_log(r"event=bound ")
        self.edit(("log:\n  level: debug\n", "log:\n  level: error\n"))
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=reloaded ")
        self.assertIn("event=reload_not_applied key=log.level old=debug new=error "
                      "reason=\"--log-level given on the command line\"", d.output())


if __name__ == "__main__":
    harness.main()
