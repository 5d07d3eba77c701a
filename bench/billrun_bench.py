#!/usr/bin/env python3
"""billrun_bench.py -- a monthly bill run end to end on this machine:
`shortcodectl bill-run` over COUNT subscribers into mt:push, the daemon
sending every bill to smsc-sim through one bind, while the simulator's load
mode sends "0000" from 1,000 other subscribers at --mo-rate per second.

Prints the total time (from the start of bill-run to the last bill's `sent`
in mt:status), bills and MT PDUs per second, the daemon's RSS sampled every
second during the run (first, max, last: it must stay flat), and the "0000"
latency: p99 of each second's replies before and during the run (the
simulator's per-second lines) and over the whole load.

Reuses bench/bind_bench.py (config, seeding of the MO subscribers) and
tests/integration/harness.py. Not part of CI.

Usage: bench/billrun_bench.py [--count N] [--mo-rate R] [--window W]
                              [--max-backlog N] [--rate N] [--build DIR]
"""
import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import bind_bench  # noqa: E402
import harness  # noqa: E402
from harness import Proc, free_port, wait_for  # noqa: E402

BASE = 13900000000              # the billed subscribers; the MO senders are 13800000000..
SEED_LUA = """
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do
  redis.call('HSET', 'bill:{' .. tostring(13900000000 + i) .. '}:202611',
             'plan_fen', '5800', 'voice_fen', tostring(i % 5000), 'data_fen', '3000',
             'sms_fen', '100', 'vas_fen', '1000', 'other_fen', '0', 'discount_fen', '500',
             'total_fen', tostring(9400 + i % 5000))
end
return 1
"""
SECOND = re.compile(r"^t=(\d+)s .* p99=([\d.]+)(us|ms|s) ", re.M)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def per_second_p99(text):
    """{second: p99 in ms} from the simulator's progress lines."""
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {int(m.group(1)): float(m.group(2)) * scale[m.group(3)]
            for m in SECOND.finditer(text)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--mo-rate", type=int, default=200)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--max-backlog", type=int, default=20000)
    ap.add_argument("--rate", type=int, default=0, help="bill-run --rate (0: none)")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="sc-billrun-")
    procs = []
    try:
        rport = free_port()
        procs.append(Proc("redis", ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", work], work))
        wait_for(lambda: harness.Env._redis_ping(rport), 10, "redis")
        r = harness.Redis(rport)
        t = time.monotonic()
        for i in range(0, a.count, 20000):
            r("EVAL", SEED_LUA, 0, i, min(a.count, i + 20000))
        bind_bench.seed(work, build, rport)          # the MO senders' services
        lst = os.path.join(work, "bills-202611.csv")
        with open(lst, "w") as f:
            f.write("msisdn\n")
            f.writelines("%d\n" % (BASE + i) for i in range(a.count))
        print("seeded %d bills in %.1f s" % (a.count, time.monotonic() - t))

        sport = free_port()
        cfg = os.path.join(work, "billrun.yaml")
        with open(os.path.join(HERE, "..", "config", "shortcoded.yaml"), encoding="utf-8") as sh:
            shipped = sh.read()
        with open(cfg, "w") as f:
            f.write(bind_bench.CONFIG % {"smsc": sport, "redis": rport, "window": a.window} +
                    "mt:\n  receipts: []\n  quiet_hours: \"off\"\n" +
                    shipped[shipped.index("\nroutes:"):shipped.index("\nlimits:")])
        sim = Proc("sim", [os.path.join(build, "tools", "smsc-sim"), "--listen",
                           "127.0.0.1:%d" % sport, "--log-level", "warn", "--load",
                           "--subscribers", "1000", "--from", "13800000000",
                           "--mix", "0000:100", "--rate", str(a.mo_rate), "--duration", "36000",
                           "--reply-timeout-ms", "30000", "--json",
                           os.path.join(work, "load.json")], work)
        procs.append(sim)
        daemon = Proc("shortcoded", [os.path.join(build, "shortcoded"), "-c", cfg], work)
        procs.append(daemon)
        wait_for(lambda: per_second_p99(sim.output()).get(3), 60, "3 s of load before the run")

        rss = []
        t0 = time.monotonic()
        sec0 = max(per_second_p99(sim.output()))
        ctl = Proc("ctl", [os.path.join(build, "tools", "shortcodectl"), "--redis",
                           "redis://127.0.0.1:%d" % rport, "--progress", "bill-run", "--cycle",
                           "202611", "--msisdns", lst, "--max-backlog", str(a.max_backlog)] +
                   (["--rate", str(a.rate)] if a.rate else []), work)
        procs.append(ctl)
        last = 0.0
        while True:
            now = time.monotonic()
            if now - last >= 1.0:
                rss.append(rss_kb(daemon.p.pid))
                last = now
            if not ctl.alive() and r("XLEN", "mt:status") >= a.count:
                break
            if now - t0 > 7200:
                raise SystemExit("no end after 2 hours")
            time.sleep(0.05)
        total = time.monotonic() - t0
        sec1 = max(per_second_p99(sim.output()))
        if ctl.p.returncode != 0:
            raise SystemExit("bill-run failed:\n" + ctl.output()[-2000:])
        ctl_time = re.search(r" in ([\d.]+) s \(", ctl.output())
        sim.signal(signal.SIGINT)
        sim.wait(30)
        with open(os.path.join(work, "load.json")) as f:
            load = json.load(f)
        parts = sum(int(x) for x in r("EVAL", "local n = 0 for _, e in ipairs(redis.call("
                                      "'XREVRANGE', 'mt:status', '+', '-', 'COUNT', 1000)) do "
                                      "n = n + tonumber(e[2][8]) end return {n}", 0))
        p99s = per_second_p99(sim.output())
        before = [v for s, v in p99s.items() if s < sec0]
        during = [v for s, v in p99s.items() if sec0 < s <= sec1]
        during.sort()
        print("bill run of %d subscribers (window %d, --max-backlog %d, --rate %s, %d MO/s of "
              "\"0000\"):" % (a.count, a.window, a.max_backlog, a.rate or "none", a.mo_rate))
        print("  bill-run itself: %s s; end to end (last bill sent): %.1f s" %
              (ctl_time.group(1) if ctl_time else "?", total))
        print("  bills/s: %.0f   MT PDUs/s: %.0f (%.2f parts per bill, last 1000)" %
              (a.count / total, a.count / total * parts / 1000.0, parts / 1000.0))
        print("  daemon RSS (kB) sampled each second: first %d, at 10/50/90 %% of the run %d / "
              "%d / %d, max %d, last %d (%d samples)" %
              (rss[0], rss[len(rss) // 10], rss[len(rss) // 2], rss[len(rss) * 9 // 10],
               max(rss), rss[-1], len(rss)))
        print("  \"0000\" p99 per second: before the run max %.2f ms; during it median %.2f ms, "
              "max %.2f ms (%d s)" % (max(before or [0]), during[len(during) // 2] if during
                                      else 0, max(during or [0]), len(during)))
        lat = load.get("latency_us", {})
        print("  \"0000\" over the whole load: %d replies, p50 %.2f ms, p99 %.2f ms, max %.2f ms;"
              " missing %s" % (lat.get("count", 0), lat.get("p50", 0) / 1000,
                               lat.get("p99", 0) / 1000, lat.get("max", 0) / 1000,
                               load.get("errors", {}).get("missing_reply")))
        r.close()
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
