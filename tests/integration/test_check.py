"""test_check.py -- `shortcoded -c FILE --check`: exit 0 for a valid file,
exit 1 with FILE:LINE:COL: message for a bad one; secrets never printed."""
import os
import re
import subprocess

import harness


class CheckTest(harness.Env):
    def check(self, path, env=None):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([harness.DAEMON, "-c", path, "--check"], capture_output=True,
                           text=True, env=e, timeout=30)
        return p.returncode, p.stdout + p.stderr

    def test_shipped_config_is_valid(self):
        rc, out = self.check(os.path.join(harness.SRC, "config", "shortcoded.yaml"))
        self.assertEqual(rc, 0, out)
        self.assertIn("OK", out)

    def test_errors_carry_line_and_column(self):
        path = self.write_config(2775, bind_extra="    windoww: 3\n")
        rc, out = self.check(path)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, re.escape(path) + r":\d+:\d+: .*windoww")

    def test_bad_port_is_reported_without_password(self):
        path = os.path.join(self.dir, "bad.yaml")
        with open(path, "w") as f:
            f.write("binds:\n  - name: a\n    host: 127.0.0.1\n    port: 99999\n"
                    "    system_id: x\n    password: hunter22\n"
                    "redis:\n  url: redis://127.0.0.1:1\nservice_numbers: [\"10086\"]\n")
        rc, out = self.check(path)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"bad\.yaml:4:\d+: ")
        self.assertNotIn("hunter22", out)

    def test_env_expansion_in_shipped_config(self):
        shipped = os.path.join(harness.SRC, "config", "shortcoded.yaml")
        rc, out = self.check(shipped, {"SHORTCODED_SMSC_PORT": "not-a-port"})
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"shortcoded\.yaml:\d+:\d+: .*port")

    def test_unknown_template_placeholder_is_refused(self):
        path = self.write_config(2775)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("  rate_limited: \"", "  rate_limited: \"{msisdn} "))
        rc, out = self.check(path)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, re.escape(path) + r":\d+:\d+: templates\.rate_limited: "
                         r"unknown placeholder \{msisdn\}")

    def test_unknown_handler_is_refused(self):
        path = self.write_config(2775)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("  - handler: help", "  - handler: hepl"))
        rc, out = self.check(path)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r":\d+:\d+: routes\[0\]\.handler: unknown handler hepl")

    def test_world_readable_config_is_warned_about(self):
        path = self.write_config(harness.free_port())
        os.chmod(path, 0o644)
        d = self.start_daemon(path)
        d.wait_log(r"event=config_permissions .*mode=0644")
        os.chmod(path, 0o600)
        d2 = self.start_daemon(path, name="shortcoded2")
        d2.wait_log(r"event=started")
        self.assertNotIn("config_permissions", d2.output())

    def test_retired_reasm_keys_are_accepted_with_a_note(self):
        # Long MOs are held in Redis now: the daemon-wide bounds no longer
        # apply (docs/reliability.md "Long MOs"); old files still load.
        path = self.write_config(2775, extra="smpp:\n  reasm_max_pending: 5\n"
                                 "  reasm_max_bytes: 4096\n  reasm_max_per_source: 2\n")
        rc, out = self.check(path)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, re.escape(path) + r": note: smpp\.reasm_max_pending is no longer used")
        self.assertRegex(out, r"note: smpp\.reasm_max_bytes is no longer used")
        self.assertNotRegex(out, r"note: smpp\.reasm_max_per_source")
        self.assertIn("OK", out)
        d = self.start_daemon(path)
        d.wait_log(r"level=warn event=config_retired key=smpp\.reasm_max_pending")
        rc, out = self.check(self.write_config(2775))
        self.assertNotIn("note:", out)

    def test_missing_file(self):
        rc, out = self.check(os.path.join(self.dir, "nope.yaml"))
        self.assertEqual(rc, 1, out)
        self.assertIn("nope.yaml", out)


if __name__ == "__main__":
    harness.main()
