"""test_quiet.py -- quiet hours for pushes (docs/reliability.md "Quiet
hours"): a quiet=1 push read inside mt.quiet_hours is held in mt:held:P (its priority) and
sent when they end; its not_after still applies. Local time comes from the
test-only mt.test_clock (set at start and at each SIGHUP), never by waiting
for 22:00."""
import os
import signal
import subprocess
import time

import harness
from harness import wait_for
from test_push import DEST, PushEnv


def mt_section(quiet, clock=None, zone="Asia/Shanghai"):
    s = "  quiet_hours: \"%s\"\n  time_zone: %s\n" % (quiet, zone)
    if clock:
        s += "  test_clock: \"%s\"\n" % clock
    return s


class QuietTest(PushEnv):
    def boot(self, quiet, clock=None):
        self.sim = self.start_sim()
        self.d = self.daemon(self.sim, mt=mt_section(quiet, clock))
        return self.d

    def reload(self, quiet, clock=None):
        n = self.d.count(r"event=reloaded ")
        self.write_config(self.sim.port, self.redis.port,
                          extra="mt:\n  claim_idle_ms: 1000\n  block_ms: 200\n" +
                          mt_section(quiet, clock))
        self.d.signal(signal.SIGHUP)
        self.d.wait_log(r"event=reloaded ", count=n + 1)

    def texts(self):
        return [m[3] for m in self.mts(self.sim)]

    def hold_one(self, **extra):
        """Inside quiet hours: a quiet push, then a non-quiet one (the
        positive marker): the second arrives, the first is held."""
        self.push(id="q1", to=DEST, text="quiet one", quiet="1", **extra)
        self.push(id="n1", to=DEST, text="loud one")
        wait_for(lambda: "loud one" in self.texts(), 15, "the non-quiet push sent")
        wait_for(lambda: self.r("HGET", "mt:{q1}", "state") == "held", 15, "q1 held")
        self.assertNotIn("quiet one", self.texts())
        self.assertEqual(self.r("XLEN", "mt:held:5"), 1)  # its priority's stream
        self.assertEqual(self.pel(), 0)  # acknowledged on mt:push: it waits in mt:held

    def test_held_in_quiet_hours_sent_when_they_end(self):
        # 12:00 inside 11:00-13:00; then the clock is moved to 12:59:58:
        # the end timer (armed at the reload, no polling) releases it.
        self.boot("11:00-13:00", "12:00:00")
        self.hold_one()
        self.reload("11:00-13:00", "12:59:58")
        wait_for(lambda: "quiet one" in self.texts(), 15, "the held push sent at the end")
        wait_for(lambda: self.status_of("q1"), 15, "q1 recorded")
        self.assertEqual([f["state"] for f in self.status_of("q1")], ["sent"])
        self.assertEqual(self.r.hgetall("mt:{q1}")["state"], "sent")
        self.assertEqual(self.texts().count("quiet one"), 1)
        self.d.wait_log(r"event=quiet_hours state=off")
        wait_for(lambda: self.r("XPENDING", "mt:held:5", "shortcoded")[0] == 0, 15,
                 "mt:held:5 acknowledged")

    def test_across_midnight_and_outside(self):
        # 23:30 inside 22:00-08:00 (across midnight): held.
        self.boot("22:00-08:00", "23:30:00")
        self.hold_one()
        # 09:00 is outside: a new quiet push goes at once, the held one too.
        self.reload("22:00-08:00", "09:00:00")
        self.push(id="q2", to=DEST, text="quiet two", quiet="1")
        wait_for(lambda: {"quiet one", "quiet two"} <= set(self.texts()), 15,
                 "both quiet pushes sent outside quiet hours")

    def test_held_sent_in_priority_order(self):
        self.boot("11:00-13:00", "12:00:00")
        for ident, prio in (("b9", "9"), ("b5", "5"), ("b0", "0"), ("b3", "3")):
            self.push(id=ident, to=DEST, text="held " + ident, quiet="1", priority=prio)
        self.push(id="n1", to=DEST, text="loud one")
        wait_for(lambda: "loud one" in self.texts(), 15, "the non-quiet push sent")
        wait_for(lambda: all(self.r("HGET", "mt:{%s}" % i, "state") == "held"
                             for i in ("b9", "b5", "b0", "b3")), 15, "all four held")
        self.reload("off")
        wait_for(lambda: len([t for t in self.texts() if t.startswith("held ")]) == 4, 15,
                 "the four held pushes sent")
        self.assertEqual([t for t in self.texts() if t.startswith("held ")],
                         ["held b0", "held b3", "held b5", "held b9"])

    def test_not_after_passing_while_held_expires(self):
        self.boot("11:00-13:00", "12:00:00")
        not_after = int(time.time() * 1000) + 1500
        self.hold_one(not_after=str(not_after))
        wait_for(lambda: time.time() * 1000 > not_after + 100, 5, "not_after passed")
        self.reload("off")
        wait_for(lambda: self.status_of("q1"), 15, "q1 recorded")
        self.assertEqual([(f["state"], f["err"]) for f in self.status_of("q1")],
                         [("expired", "not_after")])
        # The marker that comes after it: a new push is sent; q1 never was.
        self.push(id="n2", to=DEST, text="after")
        wait_for(lambda: "after" in self.texts(), 15, "a later push sent")
        self.assertNotIn("quiet one", self.texts())

    def test_reload_turns_quiet_hours_on(self):
        self.boot("off")
        self.push(id="a1", to=DEST, text="quiet early", quiet="1")
        wait_for(lambda: "quiet early" in self.texts(), 15, "sent with no quiet hours")
        self.reload("11:00-13:00", "12:00:00")
        self.hold_one()
        self.assertIn("event=reload_applied key=mt.quiet_hours", self.d.output())

    def test_duplicate_of_held_id_is_not_sent(self):
        self.boot("11:00-13:00", "12:00:00")
        self.hold_one()
        self.push(id="q1", to=DEST, text="quiet one again", quiet="1")
        self.push(id="n3", to=DEST, text="marker")
        wait_for(lambda: "marker" in self.texts(), 15, "marker sent")
        self.reload("off")
        wait_for(lambda: self.status_of("q1"), 15, "q1 recorded")
        self.push(id="n4", to=DEST, text="marker two")
        wait_for(lambda: "marker two" in self.texts(), 15, "second marker sent")
        self.assertEqual(self.texts().count("quiet one"), 1)
        self.assertNotIn("quiet one again", self.texts())


class QuietCheckTest(harness.Env):
    def check(self, mt):
        path = self.write_config(2775, 6379, extra="mt:\n" + mt)
        p = subprocess.run([harness.DAEMON, "-c", path, "--check"], capture_output=True,
                           text=True, timeout=30)
        return path, p.returncode, p.stdout + p.stderr

    def test_bad_ranges_and_zones(self):
        for value, msg in (('"24:00-08:00"', "hours must be 00..23"),
                           ('"22:00"', "must be \"HH:MM-HH:MM\""),
                           ('"08:00-08:00"', "start and end are the same time")):
            path, rc, out = self.check("  quiet_hours: %s\n" % value)
            self.assertEqual(rc, 1, out)
            self.assertRegex(out, r"%s:\d+:16: mt\.quiet_hours: " % path)
            self.assertIn(msg, out)
        path, rc, out = self.check("  quiet_hours: \"22:00-08:00\"\n  time_zone: Asia/Atlantis\n")
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"%s:\d+:14: mt\.time_zone: unknown time zone \"Asia/Atlantis\""
                         % path)
        path, rc, out = self.check("  time_zone: ../../etc/passwd\n")
        self.assertEqual(rc, 1, out)
        path, rc, out = self.check("  test_clock: \"25:00:00\"\n")
        self.assertEqual(rc, 1, out)
        self.assertIn("mt.test_clock: must be \"HH:MM:SS\"", out)
        path, rc, out = self.check("  quiet_hours: \"22:00-08:00\"\n  time_zone: Asia/Shanghai\n")
        self.assertEqual(rc, 0, out)
        path, rc, out = self.check("  quiet_hours: \"off\"\n")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
