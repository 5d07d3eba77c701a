"""test_sim_cli.py -- smsc-sim's command line (tools/smsc-sim/opts.c): every
option's bounds and usage error, without starting anything.

An accepted value is followed by a stray argument, so the run ends at once
with "unexpected argument: extra" (exit 2) before it listens: that message is
the positive marker that the option before it was accepted. A rejected value
ends with the option's own message (exit 2)."""
import subprocess

import harness
from harness import SIM

GENERIC = 'bad number "{v}" (0..86400000)'
# name, smallest accepted, largest accepted, message for a bad value
NUMS = [
    ("timeout-ms", 1, 86400000, GENERIC),
    ("enquire-link-ms", 0, 86400000, GENERIC),
    ("throttle-every", 0, 86400000, GENERIC),
    ("resp-delay-ms", 0, 86400000, GENERIC),
    ("resp-timeout-ms", 1, 86400000, GENERIC),
    ("max-pdu", 64, 1 << 20, '--max-pdu: expected 64..1048576, got "{v}"'),
    ("max-sessions", 1, 10000, '--max-sessions: expected 1..10000, got "{v}"'),
    ("window", 1, 10000, '--window: expected 1..10000, got "{v}"'),
    ("mo-window", 1, 10000, '--mo-window: expected 1..10000, got "{v}"'),
    ("max-queue", 1, 100000000, '--max-queue: expected 1..100000000, got "{v}"'),
    ("subscribers", 1, 100000000, '--subscribers: expected 1..100000000, got "{v}"'),
    ("ucs2-share", 0, 100, '--ucs2-share: expected a percentage 0..100, got "{v}"'),
    ("datasm-share", 0, 100, '--datasm-share: expected a percentage 0..100, got "{v}"'),
    ("count", 0, 2**63 - 1, '--count: expected a number, got "{v}"'),
    ("duration", 1, 604800, '--duration: expected 1..604800 seconds, got "{v}"'),
    ("reply-timeout-ms", 1, 3600000, '--reply-timeout-ms: expected 1..3600000, got "{v}"'),
    ("binds", 1, 10000, '--binds: expected 1..10000, got "{v}"'),
    ("long-gap-ms", 0, 60000, '--long-gap-ms: expected 0..60000, got "{v}"'),
    ("resp-rate", 0, 10000000, '--resp-rate: expected 0..10000000, got "{v}"'),
    ("dlr-undeliv-err", 0, 999, '--dlr-undeliv-err: expected 0..999, got "{v}"'),
    ("dlr-expired-err", 0, 999, '--dlr-expired-err: expected 0..999, got "{v}"'),
    ("dlr-max-pending", 1, 10000000, '--dlr-max-pending: expected 1..10000000, got "{v}"'),
    # The largest 20-digit number sim_parse_uint takes (it refuses from
    # 18446744073709551610 up, UINT64_MAX included).
    ("seed", 0, 18446744073709551609, '--seed: expected a number, got "{v}"'),
]
# Fault options name the argument as typed before the message; only the
# message's end is checked.
FAULT_NUMS = [("close-every", 0, 86400000), ("unbind-after", 0, 86400000),
              ("redeliver-timeout-ms", 1, 86400000), ("redeliver-max", 0, 65535),
              ("redeliver-interval-ms", 0, 86400000)]
SHARES = ["throttle-share", "msgqfull-share", "drop-resp-share", "close-random", "hostile-share",
          "dlr-undeliv-share", "dlr-expired-share"]
MIX = ('--mix: expected SCENARIO:WEIGHT,... with scenarios 0000, cancel, unknown, longtd and a '
       'positive total, got "{v}"')
EXPECT = ('--expect-regex: expected SCENARIO=REGEX with scenario 0000, cancel, unknown or '
          'longtd, got "{v}"')
ACCOUNT = ('--account: expected SYSID:PASSWORD (system_id 1..15 bytes, password 0..8 bytes), '
           'got "{v}"')
LISTEN = '--listen: expected HOST:PORT (port 0..65535), got "{v}"'
ADDRESS = 'bad address "{v}" (1 to 20 printable characters)'
# option, accepted values, refused values, message
OTHERS = [
    ("listen", ["127.0.0.1:65535", "[::1]:0"], ["h:65536", ":1", "nocolon"], LISTEN),
    ("account", ["a:12345678", "123456789012345:"], ["a:123456789", ":p", "1234567890123456:x",
                                                     "nocolon"], ACCOUNT),
    ("from", ["12345678901234567890"], ["123456789012345678901", "a b", "\u00e9"], ADDRESS),
    ("to", ["10086"], ["", "a\tb"], ADDRESS),
    ("log-level", ["debug", "error"], ["loud"],
     '--log-level: expected debug, info, warn or error, got "{v}"'),
    ("system-id", ["123456789012345"], ["1234567890123456"], '--system-id: at most 15 bytes: "{v}"'),
    ("dc0", ["gsm", "latin1", "ascii"], ["utf8"], '--dc0: expected gsm, latin1 or ascii, got "{v}"'),
    ("mix", ["0000:1,cancel:2,unknown:3,longtd:4", "cancel:1000000"],
     ["0000:0", "x:1", "0000:1000001", "0000", "0000:"], MIX),
    ("expect-regex", ["longtd=.", "0000=^a$"], ["bad=.", "0000=", "0000"], EXPECT),
    ("rate", ["max", "1", "10000000"], ["0", "10000001", "fast"],
     '--rate: expected 1..10000000 or max, got "{v}"'),
    ("dlr-delay-ms", ["0", "86400000", "0-0", "5-86400000"],
     ["86400001", "5-3", "-5", "5-", "x", "1-2-3", "0-86400001", "123456789012345678901234-1"],
     '--dlr-delay-ms: expected N or MIN-MAX in 0..86400000 with MIN <= MAX, got "{v}"'),
    ("msgid-prefix", ["a", "run-2:", "1234567890123456"], ["", "a b", "12345678901234567", "\u00e9"],
     '--msgid-prefix: expected 1..16 printable characters without spaces, got "{v}"'),
    ("dlr-bind", ["any", "same", "other"], ["", "all"],
     '--dlr-bind: expected any, same or other, got "{v}"'),
]
FLAGS = ["dlr", "fail-fast", "pack-each", "redeliver", "dup-parts", "reorder-parts", "load",
         "interactive"]
STRINGS = ["port-file", "script", "stats", "json", "td-codes"]


def run(args):
    p = subprocess.run([SIM] + args, capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    return p.returncode, (p.stderr.splitlines() or [""])[0]


class SimCliTest(harness.Env):
    def accepted(self, *args):
        rc, line = run(list(args) + ["extra"])
        self.assertEqual((rc, line), (2, "smsc-sim: unexpected argument: extra"), args)

    def refused(self, args, message, suffix=False):
        rc, line = run(args + ["extra"])
        self.assertEqual(rc, 2, (args, line))
        if suffix:
            self.assertTrue(line.startswith("smsc-sim: ") and line.endswith(message),
                            (args, line, message))
        else:
            self.assertEqual(line, "smsc-sim: " + message, args)

    def test_numbers(self):
        for name, lo, hi, msg in NUMS:
            self.accepted("--" + name, str(lo))
            self.accepted("--" + name, str(hi))
            bad = [str(hi + 1), "x", "-1", ""] + ([str(lo - 1)] if lo > 0 else [])
            for v in bad:
                self.refused(["--" + name, v], msg.format(v=v))

    def test_fault_numbers(self):
        for name, lo, hi in FAULT_NUMS:
            self.accepted("--" + name, str(lo))
            self.accepted("--%s=%d" % (name, hi))
            for v in [str(hi + 1), "x"] + ([str(lo - 1)] if lo > 0 else []):
                self.refused(["--" + name, v], ': bad number "%s"' % v, suffix=True)

    def test_shares(self):
        for name in SHARES:
            for v in ["0", "100", "0.0001", "99.5"]:
                self.accepted("--" + name, v)
            for v in ["100.5", "-1", "+1", "x", "1e3"]:
                self.refused(["--" + name, v],
                             ': expected a percentage 0..100, got "%s"' % v, suffix=True)

    def test_other_values(self):
        for name, good, bad, msg in OTHERS:
            for v in good:
                self.accepted("--" + name, v)
            for v in bad:
                self.refused(["--" + name, v], msg.format(v=v))

    def test_flags_and_strings(self):
        for name in FLAGS:
            self.accepted("--" + name)
        for name in STRINGS:
            self.accepted("--" + name, "some value")
            rc, line = run(["--" + name])
            self.assertEqual((rc, line), (2, "smsc-sim: option needs a value: --" + name))

    def test_unknown_and_exclusive(self):
        for args, line in [
                (["--nope"], "unknown option: --nope"),
                (["-x"], "unknown option: -x"),
                (["--script", "s", "--interactive"], "--script and --interactive exclude each other"),
                (["--load", "--script", "s"], "--load excludes --script and --interactive"),
                (["--load", "--interactive"], "--load excludes --script and --interactive"),
                (["--dlr-undeliv-share", "60", "--dlr-expired-share", "40.5"],
                 "--dlr-undeliv-share and --dlr-expired-share add up to more than 100")]:
            self.assertEqual(run(args), (2, "smsc-sim: " + line), args)

    def test_help(self):
        p = subprocess.run([SIM, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        for section in ("Usage: smsc-sim [OPTIONS]", "Fault injection", "Delivery receipts",
                        "Load mode (--load)",
                        "Script (one command per line", "Exit status:"):
            self.assertIn(section, p.stdout)
        # Every option of the table is in the help text.
        names = ([n for n, *_ in NUMS] + [n for n, *_ in FAULT_NUMS] + SHARES +
                 [n for n, *_ in OTHERS] + FLAGS + STRINGS)
        for name in names:
            self.assertIn("--" + name, p.stdout, name)


if __name__ == "__main__":
    harness.main()
