#!/usr/bin/env python3
"""billrun_bench.py -- a monthly bill run end to end on this machine:
`shortcodectl bill-run` over COUNT subscribers into mt:push, the daemon
sending every bill to smsc-sim through one bind, while the simulator's load
mode sends "0000" from 1,000 other subscribers at --mo-rate per second.

Two simulator runs on one port, one after the other, so that each "0000"
figure covers one phase: first --before seconds of the load alone (no
bills: the baseline), then, once the daemon has bound to the second one,
the load again while the bill run goes (bill-run starts as that load
starts; the simulator is stopped when the last bill is in mt:status).

Prints the total time (from the start of bill-run to the last bill's `sent`
in mt:status), bills and MT PDUs per second, the daemon's RSS sampled every
second during the run (first, 10/50/90 %, max, last: it must stay flat),
and for each phase the "0000" commands sent, the replies that came back,
their latency p50/p99/max (the simulator's --json) and the p99 of each
second's replies (its progress lines).

Runs on bench/benchlib.py (Run: the private redis-server, the daemon on the
shipped routes and templates); seeds the MO senders as bench/bind_bench.py
does. Not part of CI.

Usage: bench/billrun_bench.py [--count N] [--mo-rate R] [--before S] [--window W]
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
import benchlib  # noqa: E402
import bind_bench  # noqa: E402
import harness  # noqa: E402
from harness import free_port, wait_for  # noqa: E402

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


def per_second_p99(text):
    """{second: p99 in ms} from the simulator's progress lines."""
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {int(m.group(1)): float(m.group(2)) * scale[m.group(3)]
            for m in SECOND.finditer(text)}


def load_sim(run, build, port, rate, duration, jpath, name):
    """smsc-sim in load mode on port: "0000" from the bench's 1,000 MO
    senders at rate per second for at most duration s, its --json at
    jpath. Logs at info: event=load_start says the daemon bound."""
    return run.start(name, [os.path.join(build, "tools", "smsc-sim"), "--listen",
                            "127.0.0.1:%d" % port, "--log-level", "info", "--load",
                            "--subscribers", str(bind_bench.SUBSCRIBERS), "--from", "13800000000",
                            "--mix", "0000:100", "--rate", str(rate), "--duration", str(duration),
                            "--reply-timeout-ms", "30000", "--json", jpath])


def phase_line(what, load, p99s):
    """One phase's "0000" figures: sent, came back, latency, per-second p99."""
    lat = load.get("latency_us", {})
    err = load.get("errors", {})
    per = sorted(p99s.values())
    sent, done = load.get("sent", 0), load.get("done", 0)
    return ("  \"0000\" %s: %d sent, %d came back (%d missing after 30 s, %d in flight when "
            "stopped); p50 %.2f ms, p99 %.2f ms, max %.2f ms; p99 per second median %.2f ms, "
            "max %.2f ms (%d s)" %
            (what, sent, done, err.get("missing_reply", 0),
             sent - done - err.get("missing_reply", 0), lat.get("p50", 0) / 1000,
             lat.get("p99", 0) / 1000, lat.get("max", 0) / 1000,
             per[len(per) // 2] if per else 0, per[-1] if per else 0, len(per)))


def seed_bills(work, build, rport, count):
    """COUNT bills and their MSISDN list (its path), plus bind_bench's MO
    senders."""
    r = harness.Redis(rport)
    t = time.monotonic()
    for i in range(0, count, 20000):
        r("EVAL", SEED_LUA, 0, i, min(count, i + 20000))
    r.close()
    bind_bench.seed(work, build, rport)          # the MO senders' services
    lst = os.path.join(work, "bills-202611.csv")
    with open(lst, "w") as f:
        f.write("msisdn\n")
        f.writelines("%d\n" % (BASE + i) for i in range(count))
    print("seeded %d bills in %.1f s" % (count, time.monotonic() - t))
    return lst


def bill_run(run, build, rport, lst, a, daemon, r):
    """bill-run over lst, waited for until every bill is in mt:status:
    (its seconds, the RSS samples, bill-run's own time or "?")."""
    rss = []
    t0 = time.monotonic()
    ctl = run.start("ctl", [os.path.join(build, "tools", "shortcodectl"), "--redis",
                            "redis://127.0.0.1:%d" % rport, "--progress", "bill-run", "--cycle",
                            "202611", "--msisdns", lst, "--max-backlog", str(a.max_backlog)] +
                    (["--rate", str(a.rate)] if a.rate else []))
    last = 0.0
    while True:
        now = time.monotonic()
        if now - last >= 1.0:
            rss.append(benchlib.rss_kib(daemon.p.pid) or 0)
            last = now
        if not ctl.alive() and r("XLEN", "mt:status") >= a.count:
            break
        if now - t0 > 7200:
            raise SystemExit("no end after 2 hours")
        time.sleep(0.05)
    total = time.monotonic() - t0
    if ctl.p.returncode != 0:
        raise SystemExit("bill-run failed:\n" + ctl.output()[-2000:])
    own = re.search(r" in ([\d.]+) s \(", ctl.output())
    return total, rss, own.group(1) if own else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--mo-rate", type=int, default=200)
    ap.add_argument("--before", type=int, default=5, help="seconds of load before the run")
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--max-backlog", type=int, default=20000)
    ap.add_argument("--rate", type=int, default=0, help="bill-run --rate (0: none)")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="sc-billrun-")
    try:
        with benchlib.Run(work, build) as run:
            rport, _ = run.redis()
            lst = seed_bills(work, build, rport, a.count)
            sport = free_port()
            head = (bind_bench.CONFIG % {"smsc": sport, "redis": rport, "window": a.window} +
                    "mt:\n  receipts: []\n  quiet_hours: \"off\"\n")
            idle_json = os.path.join(work, "idle.json")
            idle = load_sim(run, build, sport, a.mo_rate, a.before, idle_json, "idle-sim")
            daemon = run.daemon(run.daemon_config(head, "billrun.yaml"))
            idle.wait(a.before + 90)          # its load ends, then every reply
            with open(idle_json) as f:
                before = json.load(f)
            # The daemon binds to the next simulator (reconnect_max_ms 200).
            run_json = os.path.join(work, "run.json")
            sim = load_sim(run, build, sport, a.mo_rate, 36000, run_json, "run-sim")
            wait_for(lambda: "event=load_start" in sim.output(), 30, "the daemon bound again")
            r = harness.Redis(rport)
            total, rss, own = bill_run(run, build, rport, lst, a, daemon, r)
            sim.signal(signal.SIGINT)
            sim.wait(30)
            with open(run_json) as f:
                during = json.load(f)
            parts = sum(int(x) for x in r(
                "EVAL", "local n = 0 for _, e in ipairs(redis.call('XREVRANGE', 'mt:status', "
                "'+', '-', 'COUNT', 1000)) do n = n + tonumber(e[2][8]) end return {n}", 0))
            r.close()
            print("bill run of %d subscribers (window %d, --max-backlog %d, --rate %s, %d MO/s "
                  "of \"0000\"):" % (a.count, a.window, a.max_backlog, a.rate or "none",
                                     a.mo_rate))
            print("  bill-run itself: %s s; end to end (last bill sent): %.1f s" % (own, total))
            print("  bills/s: %.0f   MT PDUs/s: %.0f (%.2f parts per bill, last 1000)" %
                  (a.count / total, a.count / total * parts / 1000.0, parts / 1000.0))
            print("  daemon RSS (kB) sampled each second: first %d, at 10/50/90 %% of the run "
                  "%d / %d / %d, max %d, last %d (%d samples)" %
                  (rss[0], rss[len(rss) // 10], rss[len(rss) // 2], rss[len(rss) * 9 // 10],
                   max(rss), rss[-1], len(rss)))
            print(phase_line("before the run, %d s" % a.before, before,
                             per_second_p99(idle.output())))
            print(phase_line("during the run", during, per_second_p99(sim.output())))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
