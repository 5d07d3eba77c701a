"""push_bench.py -- pushed one-part MTs from mt:push to smsc-sim through one
bind on this machine: MTs per second and CPU-seconds per 1,000 MTs, callgrind
instructions per push in the daemon split by library, Kannel's sendsms
into the same smsc-sim in the same run, and the "0000" reply latency while
a backlog of pushes drains.

shortcoded: COUNT entries (one-part GSM texts, distinct ids, priority 5) are
XADDed to mt:push before the daemon starts; the run ends when the simulator
has received all of them. Throughput is a difference of two runs (COUNT and
1 push, same set-up), so start-up and bind time cancel out; CPU is that of
the daemon and redis-server over the COUNT run's drain (/proc/PID/stat).
Instruction counts are the difference of two callgrind runs (SMALL and
SMALL+DELTA pushes) divided by DELTA, as bench/bind_bench.py does. --vs-bind
also runs bind_bench's HELP command in the same run.

--kannel N: Debian's Kannel (bearerbox + smsbox, smsc smpp, window
max-pending-submits = --window) into the same smsc-sim: N sendsms HTTP
requests (the same texts) from --clients keep-alive connections (asyncio
in this process), timed from the first request to the simulator having
all N; CPU of bearerbox + smsbox (and, apart, of the HTTP clients).

--backlog N: N pushes waiting in mt:push, then smsc-sim --load sends "0000"
from 1,000 subscribers at --p99-rate MOs/s for --p99-duration s while they
drain: the reply latency percentiles (the sim's --json), and how many
pushes were still waiting at the end (it must be > 0 for the figure to
count).

Usage: bench/push_bench.py [--count N] [--window W] [--callgrind] [--vs-bind]
                           [--kannel N [--clients C]] [--backlog N] [--build DIR]
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import bind_bench  # noqa: E402
import harness  # noqa: E402
import kannel_bench  # noqa: E402
from harness import free_port, wait_for  # noqa: E402
from test_push import xadd_many  # noqa: E402

CONFIG = bind_bench.CONFIG + """mt:
  max_queued: %(queued)d
  read_count: 500
"""
DEST = "13000000000"
NO_RECEIPTS = False  # --no-receipts


def texts(count):
    return ["Your bill is ready %d" % i for i in range(count)]


def daemon_head(sport, rport, window):
    return (CONFIG % {"smsc": sport, "redis": rport, "window": window, "queued": 10 * window} +
            ("  receipts: []\n" if NO_RECEIPTS else ""))


def run_once(work, build, count, window, valgrind_out=None):
    """Start redis (COUNT pushes in mt:push), daemon and a scripted sim;
    return the seconds the sim ran and the CPU-seconds of each process
    over that time."""
    with benchlib.Run(work, build) as run:
        rport, redis = run.redis()
        xadd_many(rport, [{"id": "b%d" % i, "to": DEST, "text": t}
                          for i, t in enumerate(texts(count))])
        sport = free_port()
        d = run.daemon(run.daemon_config(daemon_head(sport, rport, window), "push.yaml"),
                       valgrind_out)
        return run.sim_script(sport, "wait_bound 60000\nexpect_count %s %d 600000\n" %
                              (DEST, count), name="push",
                              pids={"shortcoded": d.p.pid, "redis-server": redis.p.pid})


# ---- Kannel's sendsms ---------------------------------------------------------
async def sendsms_clients(port, urls, clients, done):
    """Every URL as a GET on one of `clients` keep-alive connections; how
    many were answered 202 (accepted). Stops early when done() is true."""
    todo = list(reversed(urls))
    accepted = [0]

    async def one():
        r = w = None
        while todo and not done():
            if w is None:
                r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % todo.pop().encode())
            head = await r.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await r.readexactly(length)
            if head.startswith(b"HTTP/1.1 202") or head.startswith(b"HTTP/1.0 202"):
                accepted[0] += 1
            if b"connection: close" in head.lower():
                w.close()
                w = None
        if w:
            w.close()
    await asyncio.gather(*(one() for _ in range(clients)))
    return accepted[0]


def kannel_once(work, build, count, window, clients, log_level=4):
    """bearerbox + smsbox bound to a scripted sim that expects COUNT MTs;
    COUNT sendsms requests. Returns (seconds, {process: CPU-seconds})."""
    with benchlib.Run(work, build) as run:
        sport, admin, box, http = free_port(), free_port(), free_port(), free_port()
        kdir = os.path.join(work, "kannel-sendsms")
        os.makedirs(kdir, exist_ok=True)
        conf = os.path.join(kdir, "kannel.conf")
        with open(os.path.join(HERE, "kannel", "kannel.conf.in"), encoding="utf-8") as f:
            tpl = f.read()
        with open(conf, "w", encoding="utf-8") as f:
            f.write(tpl % {
                "admin_port": admin, "smsbox_port": box, "smsc_port": sport, "dir": kdir,
                "log_level": log_level, "system_id": "kannel", "password": "bench",
                "max_pending": window, "smsc_extra": "",
                "smsbox_extra": "sendsms-port = %d\nsendsms-interface = 127.0.0.1\n" % http,
                "services": "group = sendsms-user\nusername = bench\npassword = bench\n"
                            "max-messages = 1\n\ngroup = sms-service\nkeyword = default\n"
                            "text = \"?\"\n"})
        path = os.path.join(work, "kannel.script")
        with open(path, "w") as f:
            f.write("wait_bound 60000\nexpect_count * %d 600000\n" % count)
        sim = run.start("kannel-sim", [os.path.join(build, "tools", "smsc-sim"), "--listen",
                                       "127.0.0.1:%d" % sport, "--script", path, "--account",
                                       "kannel:bench", "--log-level", "warn"])
        bb = run.start("bearerbox", ["bearerbox", "-v", str(log_level), conf])
        wait_for(lambda: "online" in kannel_bench.kannel_status(admin) or not bb.alive(), 30,
                 "bearerbox's SMSC online")
        sb = run.start("smsbox", ["smsbox", "-v", str(log_level), conf])
        wait_for(lambda: "smsbox:" in kannel_bench.kannel_status(admin) or not sb.alive(), 20,
                 "smsbox to connect to bearerbox")
        wait_for(lambda: benchlib.port_open(http), 20, "smsbox's sendsms port")
        urls = ["/cgi-bin/sendsms?" + urllib.parse.urlencode(
            {"username": "bench", "password": "bench", "from": "10086", "to": DEST, "text": t})
            for t in texts(count)]
        pids = {"bearerbox": bb.p.pid, "smsbox": sb.p.pid}
        c0 = {k: benchlib.cpu_s(p) for k, p in pids.items()}
        s0, ch0 = benchlib.self_cpu_s(), benchlib.children_cpu_s()
        t0 = time.monotonic()
        accepted = asyncio.run(sendsms_clients(http, urls, clients, lambda: not sim.alive()))
        rc = sim.wait(900)
        elapsed = time.monotonic() - t0
        cpu = {k: benchlib.cpu_s(p) - c0[k] for k, p in pids.items()}
        cpu["smsc-sim"] = benchlib.children_cpu_s() - ch0
        cpu["http clients (this script)"] = benchlib.self_cpu_s() - s0
        if rc != 0 or accepted != count:
            raise SystemExit("Kannel run failed (accepted %d of %d):\n%s\nbearerbox:\n%s" %
                             (accepted, count, sim.output()[-3000:], bb.output()[-3000:]))
        return elapsed, cpu


# ---- "0000" while a backlog drains ---------------------------------------------
def backlog_latency(work, build, backlog, window, rate, duration):
    """The sim's --json of a "0000" load run while BACKLOG pushes drain, and
    how many were still to record at its end."""
    with benchlib.Run(work, build) as run:
        rport, redis = run.redis()
        bind_bench.seed(work, build, rport)
        xadd_many(rport, [{"id": "k%d" % i, "to": DEST, "text": t}
                          for i, t in enumerate(texts(backlog))])
        sport = free_port()
        run.daemon(run.daemon_config(daemon_head(sport, rport, window), "backlog.yaml"))
        jpath = os.path.join(work, "backlog.json")
        sim = run.start("backlog-sim", [
            os.path.join(build, "tools", "smsc-sim"), "--listen", "127.0.0.1:%d" % sport,
            "--log-level", "info", "--load", "--from", "13800000000", "--subscribers",
            str(bind_bench.SUBSCRIBERS), "--rate", str(rate), "--duration", str(duration),
            "--reply-timeout-ms", "10000", "--json", jpath,
            "--expect-regex", "0000=" + kannel_bench.expect_regex()])
        sim.wait(duration + 120)
        r = harness.Redis(rport)
        left = backlog - int(r("XLEN", "mt:status"))
        r.close()
        with open(jpath) as f:
            return json.load(f), left


def per_1000(cpu, n, keys):
    return 1000 * sum(cpu[k] for k in keys) / max(n, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--vs-bind", action="store_true")
    ap.add_argument("--no-receipts", action="store_true",
                    help="mt.receipts: [] (no registered_delivery, no mt:msg map)")
    ap.add_argument("--kannel", type=int, default=0, metavar="N",
                    help="also N sendsms requests through Kannel into the same smsc-sim")
    ap.add_argument("--clients", type=int, default=8, help="Kannel's keep-alive HTTP clients")
    ap.add_argument("--backlog", type=int, default=0, metavar="N",
                    help="also the \"0000\" reply latency while N pushes drain")
    ap.add_argument("--p99-rate", type=int, default=200, help="MOs/s during --backlog")
    ap.add_argument("--p99-duration", type=int, default=10, help="seconds of --backlog load")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    global NO_RECEIPTS
    NO_RECEIPTS = a.no_receipts
    build = os.path.abspath(a.build)
    if a.kannel and not shutil.which("bearerbox"):
        subprocess.run([os.path.join(HERE, "install-kannel.sh")], check=True)
    work = tempfile.mkdtemp(prefix="sc-push-bench-")
    try:
        base = min(run_once(work, build, 1, a.window)[0] for _ in range(3))
        runs = [run_once(work, build, a.count, a.window) for _ in range(3)]
        full, cpu = min(runs, key=lambda r: r[0])
        rate = (a.count - 1) / max(full - base, 1e-9)
        sc_cpu = per_1000(cpu, a.count, ("shortcoded", "redis-server"))
        print("one bind, window %d: %d pushes in %.3f s (baseline 1 push: %.3f s)" %
              (a.window, a.count, full, base))
        print("  %.0f pushed MTs/s (submit_sm + resp: %.0f PDUs/s)" % (rate, 2 * rate))
        print("  CPU-s per 1000 MTs: %.4f (daemon %.4f + redis-server %.4f); smsc-sim %.4f" %
              (sc_cpu, per_1000(cpu, a.count, ("shortcoded",)),
               per_1000(cpu, a.count, ("redis-server",)), per_1000(cpu, a.count, ("smsc-sim",))))
        if a.kannel:
            kt, kcpu = kannel_once(work, build, a.kannel, a.window, a.clients)
            krate = a.kannel / kt
            k_cpu = per_1000(kcpu, a.kannel, ("bearerbox", "smsbox"))
            print("Kannel sendsms, %d keep-alive clients, max-pending-submits %d: %d MTs in "
                  "%.3f s" % (a.clients, a.window, a.kannel, kt))
            print("  %.0f MTs/s; CPU-s per 1000 MTs: %.4f (bearerbox %.4f + smsbox %.4f); "
                  "smsc-sim %.4f; the HTTP clients %.4f" %
                  (krate, k_cpu, per_1000(kcpu, a.kannel, ("bearerbox",)),
                   per_1000(kcpu, a.kannel, ("smsbox",)), per_1000(kcpu, a.kannel, ("smsc-sim",)),
                   per_1000(kcpu, a.kannel, ("http clients (this script)",))))
            print("  shortcoded : Kannel = %.2fx MT/s, %.2fx less CPU per MT" %
                  (rate / krate, k_cpu / max(sc_cpu, 1e-9)))
        if a.vs_bind:
            bb = min(bind_bench.run_once(work, build, 1, a.window, "HELP") for _ in range(3))
            bf = min(bind_bench.run_once(work, build, a.count, a.window, "HELP")
                     for _ in range(3))
            mos = (a.count - 1) / max(bf - bb, 1e-9)
            print("  bind_bench HELP, same run: %.0f MOs/s (%.0f reply MTs/s); pushes/s : "
                  "MOs/s = %.2f" % (mos, 2 * mos, rate / mos))
        if a.backlog:
            # The same load with mt:push empty first: what the backlog adds.
            for n in (0, a.backlog):
                r, left = backlog_latency(work, build, n, a.window, a.p99_rate, a.p99_duration)
                lat = r["latency_us"]
                err = {k: v for k, v in r["errors"].items()
                       if v and k not in ("total", "unexpected_reply")}
                print("\"0000\" at %d/s for %d s while %d pushes drain: %d replies, p50 %s, "
                      "p90 %s, p99 %s, max %s; errors %s; pushes received meanwhile %d, still "
                      "to record at the end %d%s"
                      % (a.p99_rate, a.p99_duration, n, r["done"],
                         *(kannel_bench.fmt_us(lat[k]) for k in ("p50", "p90", "p99", "max")),
                         err or "none", r["errors"].get("unexpected_reply", 0), left,
                         "" if left > 0 or n == 0 else
                         " (the backlog drained first: rerun with a larger one)"))
        if a.callgrind:
            benchlib.callgrind_report(
                "pushed one-part MT", work,
                lambda n, out: run_once(work, build, n, a.window, valgrind_out=out))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
