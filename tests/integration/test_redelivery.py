"""test_redelivery.py -- replies stay true when the SMSC delivers an MO twice,
late, or after the subscriber wrote again (docs/reliability.md, "Redelivery
model"); a script with damaged data does everything or nothing; names from
the catalogue are made safe for handsets; unknown fees stay out of totals.

A redelivery is the same deliver_sm sent again: SMPP 3.4 gives an MO no
identity, so the simulator simply sends the same text once more."""
import os
import re
import time

import harness
from test_vas import CATALOGUE, FEE, NAME, SHIPPED, VasEnv, yuan

# The subscriber: 0000 -> [CL001, SJB01, SPHY1] (oldest first).
EXTRA = [("SJB01", "手机报", 300), ("SPHY1", "视频会员", 1500), ("YY001", "咪咕音乐", 1000)]
NAME.update({c: n for c, n, _ in EXTRA})
FEE.update({c: f for c, _, f in EXTRA})
M = "13900000001"
SUBS = {"CL001": "1600000000", "SJB01": "1650000000", "SPHY1": "1700000000"}


def local_when(t, now=None):
    """The daemon's wording of a past time: "10:31" today, else "12月2日10:31"
    (with the year when it is another year)."""
    lt, ln = time.localtime(t), time.localtime(now or time.time())
    hm = "%02d:%02d" % (lt.tm_hour, lt.tm_min)
    if (lt.tm_year, lt.tm_yday) == (ln.tm_year, ln.tm_yday):
        return hm
    md = "%d月%d日" % (lt.tm_mon, lt.tm_mday)
    return (md if lt.tm_year == ln.tm_year else "%d年%s" % (lt.tm_year, md)) + hm


class RedeliveryTest(VasEnv):
    def setUp(self):
        super().setUp()
        self.seed(catalogue=CATALOGUE + EXTRA)
        self.r("HSET", "sub:{%s}:vas" % M, *[x for kv in SUBS.items() for x in kv])

    def start_vas(self, limits=None, level=None):
        """The shipped config (or a copy), with the extra catalogue loaded."""
        self.sim_port = harness.free_port()
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL="redis://127.0.0.1:%d" % self.redis.port)
        d = self.start("shortcoded", [harness.DAEMON, "-c", self.config(limits, level)], env=env)
        d.wait_log(r"event=catalogue_loaded services=%d" % len(self.r("KEYS", "vas:svc:*")),
                   timeout=10)
        self.daemon = d
        return d

    def gone_at(self, m, code):
        """When the daemon recorded code as cancelled for m (unix s)."""
        v = self.r("HGET", "gone:{%s}" % m, code)
        self.assertIsNotNone(v, "no gone:{%s} record for %s" % (m, code))
        return int(v.split(":")[0])

    def events_of(self, m):
        return [e["service"] for e in self.events() if e.get("msisdn") == m]

    # ---- item 4: damaged data changes nothing --------------------------------
    def test_damaged_audit_writes_nothing(self):
        self.r("SET", "audit:{%s}" % M, "garbage")
        self.start_vas()
        self.run_script("send %s TDCL001\nexpect_status ESME_ROK\nexpect %s ^抱歉，系统暂时无法处理\n"
                        % (M, M) * 3)
        self.assertEqual(self.r("EXISTS", "vas:events"), 0)
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M), SUBS)
        self.assertEqual(self.r("GET", "audit:{%s}" % M), "garbage")
        for k in ("rl", "menu", "pending"):
            self.assertEqual(self.r("EXISTS", "%s:{%s}" % (k, M)), 0, k)
        self.daemon.wait_log(r'event=bad_data msisdn=%s route=vas_cancel_code key="audit:\{%s\}" '
                             r"type=string expected=stream" % (M, M))

    def test_damaged_request_keys_write_nothing(self):
        # The request layer's own keys are checked too: the rate-limit
        # counter (its INCR is a write) and the pending dialogue.
        m2, m3 = "13900000002", "13900000003"
        for m in (m2, m3):
            self.r("HSET", "sub:{%s}:vas" % m, *[x for kv in SUBS.items() for x in kv])
        self.r("HSET", "pending:{%s}" % m2, "x", "1")
        self.r("SET", "rl:{%s}" % m3, "not-a-number")
        self.start_vas()
        self.run_script("send %s 0000\nexpect %s ^抱歉，系统暂时无法处理\n"
                        "send %s TDCL001\nexpect %s ^抱歉，系统暂时无法处理\n" % (m2, m2, m2, m2) +
                        "send %s 0000\nexpect %s ^抱歉，系统暂时无法处理\n"
                        "send %s TDCL001\nexpect %s ^抱歉，系统暂时无法处理\n" % (m3, m3, m3, m3))
        self.assertEqual(self.r("EXISTS", "vas:events"), 0)
        for m in (m2, m3):
            self.assertEqual(self.r.hgetall("sub:{%s}:vas" % m), SUBS)
            self.assertEqual(self.r("EXISTS", "menu:{%s}" % m), 0)
        self.assertEqual(self.r("EXISTS", "rl:{%s}" % m2), 0)
        self.assertEqual(self.r("GET", "rl:{%s}" % m3), "not-a-number")
        self.assertEqual(self.r.hgetall("pending:{%s}" % m2), {"x": "1"})
        self.daemon.wait_log(r'event=bad_data msisdn=%s route=vas_list key="pending:\{%s\}" '
                             r"type=hash expected=string" % (m2, m2))
        self.daemon.wait_log(r'event=bad_data msisdn=%s route=vas_list key="rl:\{%s\}" '
                             r"type=string expected=integer" % (m3, m3))


if __name__ == "__main__":
    harness.main()
