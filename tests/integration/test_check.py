"""test_check.py -- `shortcoded -c FILE --check`: exit 0 for a valid file,
exit 1 with FILE:LINE:COL: message for a bad one; secrets never printed."""
import os
import re
import subprocess

import harness


class CheckTest(harness.Env):
    def check(self, path, env=None, args=()):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([harness.DAEMON, "-c", path, "--check"] + list(args),
                           capture_output=True, text=True, env=e, timeout=30)
        self.last_stderr = p.stderr
        return p.returncode, p.stdout + p.stderr

    def edit_config(self, path, old, new):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))

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

    def test_redis_urls_the_store_refuses_are_refused(self):
        # Each of these passed --check and then stopped the daemon at start
        # without a position.
        for url in ("redis://h:6379/16x", "redis://h:99999", "redis://bad host:1",
                    "redis://:x@/x", "redis://:pw%zz@h:1"):
            path = self.write_config(2775, redis_port=1)
            self.edit_config(path, "  url: redis://127.0.0.1:1\n", "  url: \"%s\"\n" % url)
            rc, out = self.check(path)
            self.assertEqual(rc, 1, url + ": " + out)
            self.assertRegex(out, re.escape(path) + r":\d+:\d+: redis\.url: ", url)
            self.assertNotIn("pw%zz", out)

    def test_shipped_config_has_no_warnings(self):
        rc, out = self.check(os.path.join(harness.SRC, "config", "shortcoded.yaml"))
        self.assertEqual(rc, 0, out)
        self.assertNotIn("warning", self.last_stderr)

    def test_shadowed_routes_are_warned_about(self):
        path = self.write_config(2775, redis_port=1)
        self.edit_config(path, "routes:\n  - handler: help\n",
                         "routes:\n"
                         "  - name: list\n    match: [\"0000\", \"LB\"]\n    handler: help\n"
                         "  - name: list_again\n    match: [\"lb\"]\n    handler: help\n"
                         "  - name: digits\n    regex: \"^[0-9]+$\"\n    handler: help\n"
                         "  - name: all\n    match: \"00000\"\n    handler: help\n"
                         "  - name: partly\n    match: [\"0000\", \"CX\"]\n    handler: help\n"
                         "  - handler: help\n")
        rc, out = self.check(path)
        self.assertEqual(rc, 0, out)
        self.assertRegex(self.last_stderr, re.escape(path) + r":18:5: warning: routes\[1\] "
                         r"\(list_again\) can never match: routes\[0\] \(list\)")
        self.assertRegex(self.last_stderr, re.escape(path) + r":24:5: warning: routes\[3\] "
                         r"\(all\) can never match: routes\[2\] \(digits\)")
        self.assertNotIn("routes[4]", self.last_stderr)
        self.assertIn("OK", out)

    def test_template_longer_than_max_parts_is_warned_about(self):
        path = self.write_config(2775, redis_port=1, extra="smpp:\n  max_parts: 1\n")
        self.edit_config(path, "  help: \"回复0000查询包月业务，回复00000退订全部。\"",
                         "  help: \"%s\"" % ("回复0000查询包月业务，" * 6))
        rc, out = self.check(path)
        self.assertEqual(rc, 0, out)
        self.assertRegex(self.last_stderr, re.escape(path) + r":\d+:\d+: warning: "
                         r"templates\.help: .*smpp\.max_parts \(1\)")
        self.assertNotIn("rate_limited", self.last_stderr)

    def test_bad_log_level_fails_as_running_does(self):
        path = self.write_config(2775, redis_port=1)
        rc, out = self.check(path, args=["--log-level", "loud"])
        self.assertEqual(rc, 1, out)
        self.assertIn("loud", self.last_stderr)
        self.assertNotIn("OK", out)
        p = subprocess.run([harness.DAEMON, "-c", path, "--log-level", "loud"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("loud", p.stderr)

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
