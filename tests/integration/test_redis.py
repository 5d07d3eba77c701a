#!/usr/bin/env python3
"""test_redis.py -- what the daemon does about the Redis it runs on (issue 8,
item 10): a Redis that cannot keep acknowledged changes (no AOF) is refused
or warned about."""
import os
import signal

import harness
import test_vas
from test_vas import CATALOGUE, M3


class RedisTest(test_vas.VasEnv):
    def setUp(self):
        harness.Env.setUp(self)
        self.nsim = 0

    def use_redis(self, **kw):
        self.redis = self.start_redis(**kw)
        self.r = harness.Redis(self.redis.port)
        self.addCleanup(self.r.close)
        self.seed()

    def commandstats(self):
        return self.r("INFO", "commandstats")

    # ---- item 10: durability -------------------------------------------
    def test_refuses_redis_without_aof_until_it_is_fixed(self):
        self.use_redis(durable=False)
        self.sim_port = harness.free_port()
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL="redis://127.0.0.1:%d" % self.redis.port)
        d = self.start("shortcoded", [harness.DAEMON, "-c", self.config()], env=env)
        self.daemon = d
        # Refused at every attempt, with why and how to fix it.
        d.wait_log(r"level=error event=redis_not_durable .*found=\"appendonly=no "
                   r"appendfsync=everysec save=\\\"\\\"\".*fix=\"set appendonly yes", count=2,
                   timeout=20)
        out = d.output()
        self.assertNotIn("event=redis_connected", out)
        self.assertNotIn("event=catalogue_loaded", out)
        self.assertNotIn("event=bound", out)
        # Fixed at run time: the next attempt takes it, then the binds start.
        self.r("CONFIG", "SET", "appendonly", "yes")
        d.wait_log(r"event=catalogue_loaded services=%d" % len(CATALOGUE), timeout=20)
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3))

    def test_warn_uses_redis_without_aof(self):
        self.use_redis(durable=False)
        d = self.start_vas(limits={"durability": "warn"})
        self.assertRegex(d.output(), r"level=warn event=redis_not_durable .*found=\"appendonly=no"
                                     r".*action=\"used anyway")
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3))

    def test_managed_redis_that_refuses_config(self):
        # CONFIG renamed away, as managed services do: judged from INFO.
        self.use_redis(args=["--rename-command", "CONFIG", ""])
        d = self.start_vas()
        out = d.output()
        self.assertRegex(out, r"level=warn event=redis_config_refused .*found=\"appendonly=yes "
                              r"appendfsync=unknown save=\\\"unknown\\\" config=refused\"")
        self.assertNotIn("event=redis_not_durable", out)
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3))


if __name__ == "__main__":
    harness.main()
