#!/usr/bin/env python3
"""test_redis.py -- what the daemon does about the Redis it runs on (issue 8,
items 10 and 11): a Redis that cannot keep acknowledged changes (no AOF) is
refused or warned about; a Redis emptied under the daemon (FLUSHALL) or
replaced by an empty one stops MOs with the temporary error until the
catalogue is back; the catalogue is read from the vas:catalogue set, never
by SCAN, whatever the size of the keyspace."""
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

    # ---- item 10: a Redis emptied or replaced ------------------------------
    def test_flushall_gives_temporary_errors_then_recovers(self):
        self.use_redis()
        d = self.start_vas(limits={"dataset_check_ms": 200})
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3))
        self.r("FLUSHALL")
        d.wait_log(r"level=error event=redis_dataset_lost reason=\"vas:catalogue vanished",
                   timeout=10)
        # No false "you have no subscription": the SMSC keeps the MO.
        self.refused_without_reply(M3, "send %s 0000\n" % M3)
        # A refresh that finds no catalogue keeps the last good one.
        d.signal(signal.SIGHUP)
        d.wait_log(r"level=error event=catalogue_empty kept=%d" % len(CATALOGUE), timeout=10)
        self.assertNotIn("event=catalogue_loaded services=0", d.output())
        # Re-imported: answered again, with names and fees (a probe during
        # the seeding may load part of it; a later one loads all of it).
        self.seed()
        d.wait_log(r"level=warn event=redis_dataset_back services=\d+", timeout=10)
        d.wait_log(r"event=catalogue_loaded services=%d" % len(CATALOGUE), count=2, timeout=10)
        texts = self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3))
        self.assertNotIn("?元", texts[0])

    def test_first_import_is_loaded_at_once(self):
        # Started on an empty Redis: the catalogue imported later is loaded
        # at the next probe, not at the next refresh (300 s).
        self.redis = self.start_redis()
        self.r = harness.Redis(self.redis.port)
        self.addCleanup(self.r.close)
        d = self.start_vas_empty()
        self.seed()
        d.wait_log(r"event=catalogue_loaded services=%d" % len(CATALOGUE), timeout=10)
        self.assertNotIn("event=redis_dataset_lost", d.output())
        self.run_script("send %s 0000\nexpect %s ^您已订购3项\n" % (M3, M3))

    def start_vas_empty(self):
        self.sim_port = harness.free_port()
        env = dict(os.environ, SHORTCODED_SMSC_PORT=str(self.sim_port),
                   SHORTCODED_REDIS_URL="redis://127.0.0.1:%d" % self.redis.port)
        d = self.start("shortcoded", [harness.DAEMON, "-c",
                                      self.config(limits={"dataset_check_ms": 200})], env=env)
        d.wait_log(r"event=catalogue_loaded services=0", timeout=10)
        self.daemon = d
        return d

    def test_replaced_by_an_empty_redis(self):
        self.use_redis()
        d = self.start_vas()
        port = self.redis.port
        self.r.close()
        self.redis.stop()
        d.wait_log(r"event=redis_disconnected", timeout=10)
        # A new, empty server on the same address (another --dir: no AOF).
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty)
        self.start("redis2", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "yes", "--dir", empty])
        harness.wait_for(lambda: self._redis_ping(port), 10, "redis2 to answer PING")
        d.wait_log(r"level=warn event=redis_replaced old_run_id=\w+ run_id=\w+ keys=0 "
                   r"keys_before=\d+", timeout=15)
        d.wait_log(r"level=error event=redis_dataset_lost reason=\"a new Redis server", timeout=10)
        self.refused_without_reply(M3, "send %s 0000\n" % M3)

    # ---- item 11: no SCAN ---------------------------------------------
    def test_catalogue_read_without_scan_in_a_big_keyspace(self):
        self.use_redis(args=["--enable-debug-command", "yes"])
        self.r("DEBUG", "POPULATE", 50000, "dummy")
        # A hash that looks like a service but is not in vas:catalogue: not
        # loaded (the set is the catalogue).
        self.r("HSET", "vas:svc:STRAY1", "name", "x", "price_fen", 1)
        d = self.start_vas()
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=catalogue_loaded services=%d" % len(CATALOGUE), count=2, timeout=10)
        stats = self.commandstats()
        self.assertNotIn("cmdstat_scan:", stats)
        self.assertRegex(stats, r"cmdstat_smembers:calls=2,")
        self.assertRegex(stats, r"cmdstat_hgetall:calls=%d," % (2 * len(CATALOGUE)))


if __name__ == "__main__":
    harness.main()
