#!/usr/bin/env python3
"""usage_bench.py -- usage:in entries applied by the daemon (core/usage.c) on
this machine, the daemon and Redis sharing its cores: entries per second,
CPU seconds per 1,000 entries (daemon and redis-server apart) and callgrind
instructions per entry in the daemon.

COUNT entries go into usage:in before the daemon starts (one Lua script in
Redis writes them: fast, and not measured). Subscribers are COUNT / 10,
each with 10 entries (data_used_kb at 8, 16, ... 80 % of its quota, with
balance_fen and charges_fen that cross nothing): the 10th crosses the
80 % data threshold, so 10 % of the entries queue a reminder on mt:push
(the push intake is off: what is measured is applying entries). The clock
runs from the consumer's group appearing to every entry being delivered
and acknowledged (XINFO GROUPS, polled every 0.1 s). Instruction counts
are the difference of two callgrind runs (SMALL and SMALL+DELTA entries)
divided by DELTA, as bench/bind_bench.py does.

Process start and the config head come from bench/bind_bench.py (mtperf
is factoring the common part of push_bench/bind_bench into a module).

--redis-callgrind N runs redis-server under callgrind instead (counters
zeroed once the entries are in; the daemon's command timeout and claim
idle time raised so that the slow Redis makes nothing time out or be
claimed again): the instructions Redis spends per entry, the figure that
decides the rate when both share the cores, and one that the machine's
load does not move.

--batch 1,64 runs the daemon once with each reminders.apply_batch (entries
per script call), one after the other: on a shared machine the ratio of
one run is the figure to compare.

Usage: bench/usage_bench.py [--count N] [--callgrind] [--small N --delta N]
                            [--redis-callgrind N] [--build DIR] [--batch N[,N...]]
                            [--read-count N] [--max-inflight N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import bind_bench  # noqa: E402
import callgrind_split  # noqa: E402
import harness  # noqa: E402
from harness import Proc, free_port, wait_for  # noqa: E402

CONFIG = bind_bench.CONFIG + """mt:
  enabled: false
reminders:
  read_count: %(read_count)d
  max_inflight: %(max_inflight)d
"""
READ_COUNT, MAX_INFLIGHT = 1000, 4000  # --read-count, --max-inflight
BATCH = None  # --batch: reminders.apply_batch (None: the daemon's default)

QUOTA = 1024000  # kB: 80 % is exact
FEED_LUA = """
local first, n, subs, base = tonumber(ARGV[4]), tonumber(ARGV[1]), tonumber(ARGV[2]),
                              1764000000000
for i = first, math.min(first + tonumber(ARGV[5]), n) - 1 do
  local s, j = i % subs, math.floor(i / subs)
  local m = tostring(13800000000 + s)
  if j == 0 then
    redis.call('HSET', 'acct:{' .. m .. '}', 'cycle', '202612', 'data_quota_kb', ARGV[3],
               'credit_fen', '5000')
  end
  redis.call('XADD', 'usage:in', '*', 'msisdn', m, 'at', string.format('%.0f', base + i),
             'data_used_kb', string.format('%d', tonumber(ARGV[3]) * 8 * (j + 1) / 100),
             'balance_fen', tostring(100000 - j), 'charges_fen', tostring(100 + j))
end
return n
"""


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_state(r):
    """(group exists, last delivered id, pending) of group shortcoded."""
    try:
        groups = r("XINFO", "GROUPS", "usage:in")
    except Exception:  # noqa: BLE001 -- the stream or group is not there yet
        return False, None, None
    for g in groups:
        d = dict(zip(g[::2], g[1::2]))
        if d.get("name") == "shortcoded":
            return True, d.get("last-delivered-id"), d.get("pending")
    return False, None, None


def command_stats(info):
    """{command: (calls, usec)} from INFO commandstats."""
    out = {}
    for line in info.splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[8:].split(":", 1)
            kv = dict(x.split("=", 1) for x in rest.split(","))
            out[name] = (int(kv["calls"]), int(kv["usec"]))
    return out


def run_once(work, build, count, valgrind_out=None, redis_out=None):
    """Start redis (COUNT entries in usage:in) and the daemon; return
    (seconds, daemon CPU s, redis CPU s, reminders queued). valgrind_out:
    the daemon runs under callgrind; redis_out: redis-server does, its
    counters zeroed once the entries are in (callgrind_control -z)."""
    procs = []
    try:
        rport = free_port()
        argv = ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", work]
        if redis_out:
            argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + redis_out] + argv
        redis = Proc("redis", argv, work)
        procs.append(redis)
        wait_for(lambda: harness.Env._redis_ping(rport), 60, "redis")
        r = harness.Redis(rport)
        step = 1000 if redis_out else 50000  # in slices: each one short script
        for first in range(0, count, step):
            r("EVAL", FEED_LUA, "0", str(count), str(max(count // 10, 1)), str(QUOTA), str(first),
              str(step))
        last = r("XREVRANGE", "usage:in", "+", "-", "COUNT", "1")[0][0]
        if redis_out:
            subprocess.run(["callgrind_control", "-z", str(redis.p.pid)], check=True,
                           capture_output=True, timeout=60)
        cfg = os.path.join(work, "usage.yaml")
        with open(os.path.join(HERE, "..", "config", "shortcoded.yaml"), encoding="utf-8") as sh:
            shipped = sh.read()
        head = CONFIG % {"smsc": free_port(), "redis": rport, "window": 10,
                         "read_count": READ_COUNT, "max_inflight": MAX_INFLIGHT}
        if redis_out:
            # Redis under valgrind is ~50 times slower: no command may time
            # out and no entry be claimed again, or the figure counts both.
            head = head.replace("  durability: warn\n",
                                "  durability: warn\n  command_timeout_ms: 600000\n")
            head += "  claim_idle_ms: 86400000\n"
        with open(cfg, "w") as f:
            f.write(head + ("  apply_batch: %d\n" % BATCH if BATCH else "") +
                    shipped[shipped.index("\nroutes:"):shipped.index("\nlimits:")])
        daemon = [os.path.join(build, "shortcoded"), "-c", cfg]
        if valgrind_out:
            daemon = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + valgrind_out] + daemon
        d = Proc("shortcoded", daemon, work)
        procs.append(d)
        wait_for(lambda: group_state(r)[0], 120, "the consumer group")
        t0, c0, r0 = time.monotonic(), cpu_s(d.p.pid), cpu_s(redis.p.pid)

        def done():
            ok, last_id, pending = group_state(r)
            return ok and last_id == last and pending == 0
        wait_for(done, 3600, "every entry applied", interval=0.1)
        t1, c1, r1 = time.monotonic(), cpu_s(d.p.pid), cpu_s(redis.p.pid)
        pushes = r("XLEN", "mt:push")
        stats = command_stats(r("INFO", "commandstats"))
        r.close()
        return t1 - t0, c1 - c0, r1 - r0, pushes, stats
    finally:
        for p in reversed(procs):
            p.stop()


def redis_callgrind(work, build, count):
    """Instructions redis-server spends per entry: everything it ran from
    the moment the entries were in (handshakes and polls included)."""
    out = os.path.join(work, "callgrind.redis")
    run_once(work, build, count, redis_out=out)
    total = sum(callgrind_split.split(out).values())
    print("callgrind, redis-server, instructions per usage:in entry (%d entries, from the "
          "feed's end to the last XACK): %.0f" % (count, total / count))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--delta", type=int, default=10000)
    ap.add_argument("--redis-callgrind", type=int, metavar="N", default=0,
                    help="also run redis-server under callgrind with N entries")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--batch", default="",
                    help="reminders.apply_batch; several (e.g. 1,64) run one after the other "
                         "in this run, for a same-load ratio")
    ap.add_argument("--read-count", type=int, default=1000, help="reminders.read_count")
    ap.add_argument("--max-inflight", type=int, default=4000, help="reminders.max_inflight")
    a = ap.parse_args()
    global READ_COUNT, MAX_INFLIGHT, BATCH
    READ_COUNT, MAX_INFLIGHT = a.read_count, a.max_inflight
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="sc-usage-bench-")
    try:
        for batch in [int(x) for x in a.batch.split(",") if x] or [None]:
            BATCH = batch
            secs, dcpu, rcpu, pushes, stats = run_once(work, build, a.count)
            print("%s%d usage:in entries (%d reminders queued) applied in %.2f s: "
                  "%.0f entries/s (load average %.2f)" %
                  ("apply_batch %d: " % batch if batch else "", a.count, pushes, secs,
                   a.count / secs, os.getloadavg()[0]))
            print("  CPU s per 1,000 entries: daemon %.4f, redis-server %.4f, both %.4f" %
                  (1000 * dcpu / a.count, 1000 * rcpu / a.count,
                   1000 * (dcpu + rcpu) / a.count))
            # The feed's EVALs and XADDs ran before the clock: not the daemon's.
            print("  redis-server commandstats, usec per entry: " + ", ".join(
                "%s %.2f (%d calls)" % (c, us / a.count, n) for c, (n, us) in
                sorted(stats.items(), key=lambda kv: -kv[1][1])
                if c in ("evalsha", "xreadgroup", "xack", "xautoclaim", "eval")))
        if a.callgrind:
            benchlib.callgrind_report(
                "usage:in entry", work,
                lambda n, out: run_once(work, build, n, valgrind_out=out), a.small, a.delta)
        if a.redis_callgrind:
            redis_callgrind(work, build, a.redis_callgrind)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
