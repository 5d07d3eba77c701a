#!/usr/bin/env python3
"""catalogue_bench.py -- how long the daemon takes from start to its first
catalogue load (after which it binds) with a big keyspace, and what Redis
spent on it (INFO commandstats).

A private redis-server gets --keys dummy keys (DEBUG POPULATE) plus the
demo catalogue (12 services, imported with shortcodectl, so vas:catalogue
exists); then shortcoded starts and the time from its "event=started" to
"event=catalogue_loaded" is read from its log (millisecond timestamps).
Run it against two builds to compare (issue 8 item 11: SCAN before, the
vas:catalogue set after).

Then, with --probe-seconds S, the daemon is left idle for S seconds and the
dataset probe's cost is read from the same commandstats (SCARD and DBSIZE:
it runs every redis.dataset_check_ms whatever the MO rate, so per MO it is
nothing).

Usage: bench/catalogue_bench.py [--keys N] [--runs R] [--probe-seconds S] [--build DIR]
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import bind_bench  # noqa: E402
import harness  # noqa: E402
from harness import Proc, free_port, wait_for  # noqa: E402

# bind_bench's config with only the help route, at info level (the timing
# comes from info lines), without durability: warn (this Redis has AOF), so
# that builds from before that key can be measured too.
CONFIG = bind_bench.CONFIG.replace("level: warn", "level: info").replace(
    "  durability: warn\n", "") + """routes:
  - handler: help
templates:
  help: "help"
  rate_limited: "slow down"
  service_error: "sorry"
"""


def stamp(line):
    t = line.split(" ", 1)[0].rstrip("Z")
    return datetime.datetime.fromisoformat(t).timestamp()


def run_once(work, build, keys, probe_s=0):
    procs = []
    try:
        rport = free_port()
        procs.append(Proc("redis", ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "yes", "--appendfsync",
                                    "everysec", "--enable-debug-command", "yes", "--dir", work],
                          work))
        wait_for(lambda: harness.Env._redis_ping(rport), 10, "redis")
        r = harness.Redis(rport)
        r("DEBUG", "POPULATE", keys, "dummy")
        subprocess.run([os.path.join(build, "tools", "shortcodectl"), "--redis",
                        "redis://127.0.0.1:%d" % rport, "import", "catalogue",
                        os.path.join(HERE, "..", "demo", "catalogue.csv")],
                       check=True, capture_output=True)
        r("CONFIG", "RESETSTAT")
        cfg = os.path.join(work, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG % {"smsc": free_port(), "redis": rport, "window": 10})
        d = Proc("shortcoded", [os.path.join(build, "shortcoded"), "-c", cfg], work)
        procs.append(d)
        wait_for(lambda: "event=catalogue_loaded" in d.output() or not d.alive(), 120,
                 "the catalogue to load")
        if not d.alive():
            raise SystemExit("shortcoded exited:\n" + d.output())
        out = d.output()
        t0 = stamp(re.search(r"(?m)^.* event=started .*$", out).group(0))
        t1 = stamp(re.search(r"(?m)^.* event=catalogue_loaded .*$", out).group(0))
        time.sleep(probe_s)  # a measurement period, not a wait for an event
        stats = r("INFO", "commandstats")
        r.close()
        cmds = {}
        for m in re.finditer(r"cmdstat_(\w+):calls=(\d+),usec=(\d+)", stats):
            cmds[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        return t1 - t0, cmds
    finally:
        for p in reversed(procs):
            p.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--probe-seconds", type=float, default=0)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    for i in range(a.runs):
        work = tempfile.mkdtemp(prefix="sc-catbench-")
        try:
            dt, cmds = run_once(work, build, a.keys, a.probe_seconds)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        detail = ", ".join("%s %d calls %d us" % (c, n, us)
                           for c, (n, us) in sorted(cmds.items())
                           if c in ("scan", "smembers", "hgetall", "scard", "dbsize"))
        print("run %d: %d keys: start -> catalogue loaded %.3f s; redis: %s"
              % (i + 1, a.keys, dt, detail))


if __name__ == "__main__":
    main()
