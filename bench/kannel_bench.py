#!/usr/bin/env python3
"""kannel_bench.py -- shortcoded vs Kannel against the same smsc-sim, side by side.

Both run in one run on this machine, loopback only.

Systems (each against its own fresh smsc-sim in --load mode, loopback only):
  shortcoded      the daemon with the shipped routes and templates + a private
                  redis-server; every subscriber pays for 3 services (seeded
                  with shortcodectl), so "0000" is a Redis script call and a
                  2-part UCS-2 list.
  kannel-static   Debian's kannel: bearerbox (smsc = smpp, transceiver mode,
                  max-pending-submits raised) + smsbox with an sms-service on
                  keyword 0000 answering the same text as a static `text`.
  kannel-geturl   the same, the sms-service fetching the text with get-url
                  from a trivial local HTTP server (python3 http.server), the
                  way Kannel users plug in logic such as a Redis lookup.
  shortcoded-callout  shortcoded with "0000" routed to the `http` handler,
                  which GETs the text from the same HTTP server (its
                  get-url); a private redis-server for the prelude's rate
                  limit. CPU: daemon + redis-server + the HTTP server.

Phases, the same for every system:
  A throughput    --rate max --count N "0000" from S subscribers
  B latency       --rate R --duration D

Figures: replies/s, latency p50/p90/p99/p99.9/max (from the sim's --json),
errors, CPU-seconds per 1000 commands of each system's processes (utime +
stime from /proc/PID/stat over the phase, from the sim's load_start to its
exit): shortcoded = daemon + redis-server; Kannel = bearerbox + smsbox (+ the
HTTP server for get-url); shortcoded's VmRSS at start, after A and at end.

Every process is stopped at the end, also on failure or Ctrl-C. Kannel is
installed with bench/install-kannel.sh when bearerbox is missing.

Usage: bench/kannel_bench.py [--quick] [--json FILE] [--systems LIST] [...]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import bind_bench  # noqa: E402
import harness  # noqa: E402
from benchlib import Run, cpu_s, rss_kib  # noqa: E402
from harness import free_port, wait_for  # noqa: E402

FIRST_MSISDN = 13800000000
SYSTEMS = ("shortcoded", "kannel-static", "kannel-geturl", "shortcoded-callout")
SHORT = {"shortcoded": "sc", "redis-server": "redis", "bearerbox": "bb", "smsbox": "sb",
         "http-server": "http"}

# The daemon's config and the services every subscriber pays for: the same
# as bench/bind_bench.py, so the two benches measure the same work.
DAEMON_CONFIG = bind_bench.CONFIG
SERVICES = bind_bench.SERVICES


# ---- the text ---------------------------------------------------------------
def fee(fen):
    return "%d元" % (fen // 100) if fen % 100 == 0 else ("%.2f" % (fen / 100)).rstrip("0") + "元"


def list_text():
    """The reply shortcoded's vas_list sends with the shipped templates to a
    subscriber of SERVICES; every phase's smsc-sim checks each reply against
    it (--expect-regex, expect_regex()), so a reply that differs by a
    character counts as a wrong_reply."""
    total = sum(p for _, _, p in SERVICES)
    lines = ["您已订购%d项包月增值业务，合计%s/月：" % (len(SERVICES), fee(total))]
    lines += ["%d. %s %s/月" % (i + 1, n, fee(p)) for i, (_, n, p) in enumerate(SERVICES)]
    lines.append("回复序号即可退订，多个序号用空格或逗号隔开，如“1，3”；回复00000退订全部。")
    return "\n".join(lines)


def expect_regex():
    """Every "0000" reply must be exactly list_text() (a POSIX ERE)."""
    return "^" + "".join("\\" + c if c in ".[]()*+?{}|^$\\" else c for c in list_text()) + "$"


# ---- processes: benchlib.Run (bench/benchlib.py) ---------------------------
def seed(run, rport, subscribers):
    cat = os.path.join(run.work, "cat.csv")
    subs = os.path.join(run.work, "subs.csv")
    with open(cat, "w") as f:
        f.write("code,name,price_fen\n")
        f.writelines("%s,%s,%d\n" % s for s in SERVICES)
    with open(subs, "w") as f:
        f.write("msisdn,code,since\n")
        for i in range(subscribers):
            for k, (code, _, _) in enumerate(SERVICES):
                f.write("%d,%s,%d\n" % (FIRST_MSISDN + i, code, 1700000000 + k))
    ctl = os.path.join(run.build, "tools", "shortcodectl")
    url = "redis://127.0.0.1:%d" % rport
    for kind, path in (("catalogue", cat), ("subscriptions", subs)):
        subprocess.run([ctl, "--redis", url, "import", kind, path], check=True,
                       capture_output=True, timeout=300)


def run_phase(run, name, sim_port, account, load_args, pids, timeout, on_start=None):
    """One smsc-sim --load run on sim_port; CPU of pids from load_start to
    the sim's exit. Returns the sim's JSON plus cpu figures."""
    jpath = os.path.join(run.work, name + ".json")
    if os.path.exists(jpath):
        os.unlink(jpath)
    argv = [os.path.join(run.build, "tools", "smsc-sim"), "--listen", "127.0.0.1:%d" % sim_port,
            "--account", account, "--log-level", "info", "--load",
            "--from", str(FIRST_MSISDN), "--json", jpath,
            "--expect-regex", "0000=" + expect_regex()] + load_args
    run.log("%s: smsc-sim %s" % (name, " ".join(argv[1:]).replace(expect_regex(),
                                                                   "<the list text>")))
    sim = run.start("sim-" + name, argv)
    try:
        wait_for(lambda: "event=load_start" in sim.output() or not sim.alive(), 45,
                 "%s: an ESME to bind to smsc-sim" % name, interval=0.01)
        c0 = {k: cpu_s(p) for k, p in pids.items()}
        if on_start:
            on_start()
        t0 = time.monotonic()
        try:
            sim.wait(timeout)
        except subprocess.TimeoutExpired:
            raise SystemExit("%s: smsc-sim did not finish in %d s:\n%s" %
                             (name, timeout, sim.output()[-3000:]))
        wall = time.monotonic() - t0
        c1 = {k: cpu_s(p) for k, p in pids.items()}
    finally:
        run.stop(sim)
    if not os.path.exists(jpath):
        raise SystemExit("%s: smsc-sim wrote no JSON:\n%s" % (name, sim.output()[-3000:]))
    with open(jpath) as f:
        r = json.load(f)
    if not r.get("completed"):
        raise SystemExit("%s: load run did not complete:\n%s" % (name, sim.output()[-3000:]))
    per = {k: c1[k] - c0[k] for k in pids}
    done = max(r["done"], 1)
    lat = r["latency_us"]
    return {
        "sim_args": load_args, "elapsed_s": r["elapsed_s"], "wall_s": wall,
        "sent": r["sent"], "done": r["done"], "ok": r["ok"],
        "replies_per_s": r["throughput"]["mean_per_s"],
        "best_second": r["throughput"]["max_per_s"],
        "latency_us": {k: lat[k] for k in ("p50", "p90", "p99", "p99_9", "max")},
        "errors": r["errors"], "mt_parts": r["mt_parts"],
        "cpu_s": per, "cpu_s_total": sum(per.values()),
        "cpu_s_per_1000": 1000 * sum(per.values()) / done,
        "sim_cpu_s_per_1000_mo": r["cpu"]["s_per_1000_mo"],
    }


def phases(a):
    """(name, smsc-sim load args, timeout s) of phases A and B.

    Kannel acknowledges each deliver_sm before it has handled it, so at
    --rate max its queues take in MOs far faster than it replies: the
    reply timeout of phase A is the whole bound of the phase, so that the
    sim waits for every queued reply (and phase B starts on an idle system)."""
    subs = ["--subscribers", str(a.subscribers), "--mo-window", str(a.mo_window)]
    rt_a = a.max_duration * 1000
    return [
        ("A", subs + ["--rate", "max", "--count", str(a.count), "--duration", str(a.max_duration),
                      "--reply-timeout-ms", str(rt_a)], 2 * a.max_duration + 60),
        ("B", subs + ["--rate", str(a.rate), "--duration", str(a.duration),
                      "--reply-timeout-ms", "10000"], a.duration + 60),
    ]


def bench_shortcoded(run, a, rport, redis):
    sport = free_port()
    cfg = os.path.join(run.work, "shortcoded.yaml")
    with open(os.path.join(HERE, "..", "config", "shortcoded.yaml"), encoding="utf-8") as sh:
        shipped = sh.read()
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(DAEMON_CONFIG % {"smsc": sport, "redis": rport, "window": a.window} +
                shipped[shipped.index("\nroutes:"):shipped.index("\nlimits:")])
    d = run.start("shortcoded", [os.path.join(run.build, "shortcoded"), "-c", cfg])
    pids = {"shortcoded": d.p.pid, "redis-server": redis.p.pid}
    out = {"processes": sorted(pids), "rss_kib": {}}
    try:
        def at_start():
            # The sim logs load_start once the daemon is bound: the RSS of a
            # bound daemon before any traffic.
            out["rss_kib"].setdefault("start", rss_kib(d.p.pid))
        for ph, args, tmo in phases(a):
            out[ph] = run_phase(run, "shortcoded-" + ph, sport, "shortcoded:secret", args, pids,
                                tmo, at_start)
            out["rss_kib"]["after_" + ph] = rss_kib(d.p.pid)
        if not d.alive():
            raise SystemExit("shortcoded died:\n" + d.output()[-3000:])
    finally:
        run.stop(d)
    return out


# ---- shortcoded-callout: the http handler against get-url's backend --------
CALLOUT_ROUTES = """routes:
  - name: list
    match: ["0000"]
    handler: http
    options:
      url: "http://127.0.0.1:%(http)d/list"
      timeout_ms: 10000
      max_concurrent: 1000
      breaker:
        failures: 0
  - handler: help
templates:
  help: "?"
  rate_limited: "?"
  service_error: "?"
"""


def start_geturl_server(run, d, text, name):
    """bench/kannel/geturl_server.py answering text; (process, port)."""
    tfile, pfile = os.path.join(d, "reply.txt"), os.path.join(d, "http.port")
    with open(tfile, "w", encoding="utf-8") as f:
        f.write(text)
    http = run.start(name, [sys.executable, os.path.join(HERE, "kannel", "geturl_server.py"),
                            tfile, pfile])
    wait_for(lambda: os.path.exists(pfile) or not http.alive(), 10, "the HTTP backend")
    with open(pfile) as f:
        return http, int(f.read())


def bench_callout(run, a, text):
    d = os.path.join(run.work, "callout")
    os.makedirs(d, exist_ok=True)
    rport, sport = free_port(), free_port()
    redis = run.start("redis-callout", ["redis-server", "--port", str(rport), "--bind",
                                        "127.0.0.1", "--save", "", "--appendonly", "no",
                                        "--dir", d])
    wait_for(lambda: harness.Env._redis_ping(rport), 10, "redis")
    http, hport = start_geturl_server(run, d, text, "callout-http")
    cfg = os.path.join(d, "shortcoded.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(DAEMON_CONFIG % {"smsc": sport, "redis": rport, "window": a.window} +
                CALLOUT_ROUTES % {"http": hport})
    sc = run.start("shortcoded-callout", [os.path.join(run.build, "shortcoded"), "-c", cfg])
    pids = {"shortcoded": sc.p.pid, "redis-server": redis.p.pid, "http-server": http.p.pid}
    out = {"processes": sorted(pids), "rss_kib": {}}
    try:
        def at_start():
            out["rss_kib"].setdefault("start", rss_kib(sc.p.pid))
        for ph, args, tmo in phases(a):
            out[ph] = run_phase(run, "callout-" + ph, sport, "shortcoded:secret", args, pids,
                                tmo, at_start)
            out["rss_kib"]["after_" + ph] = rss_kib(sc.p.pid)
        if not sc.alive():
            raise SystemExit("shortcoded (callout) died:\n" + sc.output()[-3000:])
        out["callout_failed"] = sc.count(r"event=callout_failed")
    finally:
        for p in (sc, http, redis):
            run.stop(p)
    return out


def callout_summary(res):
    """shortcoded-callout against kannel-geturl: the same backend, lines."""
    c, k = res.get("shortcoded-callout"), res.get("kannel-geturl")
    if not c:
        return []
    out = ["shortcoded-callout: callouts failed %d; CPU-s / 1000 (sc + redis + http) A %.4f, "
           "B %.4f; p99 at phase B %s" % (c["callout_failed"], c["A"]["cpu_s_per_1000"],
                                          c["B"]["cpu_s_per_1000"],
                                          fmt_us(c["B"]["latency_us"]["p99"]))]
    if k:
        out.append("  vs kannel-geturl (bb + sb + http): CPU %.1fx lower (A), %.1fx (B); "
                   "p99 at phase B %s vs %s" % (
                       k["A"]["cpu_s_per_1000"] / max(c["A"]["cpu_s_per_1000"], 1e-9),
                       k["B"]["cpu_s_per_1000"] / max(c["B"]["cpu_s_per_1000"], 1e-9),
                       fmt_us(c["B"]["latency_us"]["p99"]), fmt_us(k["B"]["latency_us"]["p99"])))
    return out


def kannel_services(kind, text, url):
    common = "max-messages = 10\nconcatenation = true\nomit-empty = true\n"
    if kind == "static":
        # A Kannel config value is one line and cfg.c does not unescape
        # "\n" (it goes out as a backslash and an n): lines joined by spaces.
        body = 'text = "%s"\n' % text.replace("\n", " ").replace('"', "'")
    else:
        body = 'get-url = "%s"\naccept-x-kannel-headers = true\n' % url
    return ("group = sms-service\nkeyword = 0000\nname = list\n" + body + common +
            "\ngroup = sms-service\nkeyword = default\ntext = \"?\"\n" + common)


def kannel_status(admin_port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/status.txt?password=bench" % admin_port,
                                    timeout=2) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return ""


def kannel_queued(admin_port):
    """Messages queued anywhere in bearerbox (status.txt), or None."""
    st = kannel_status(admin_port)
    if not st:
        return None
    return (sum(int(n) for n in re.findall(r"\((\d+) queued\)", st)) +
            sum(int(n) for n in re.findall(r"queued (\d+) msgs", st)))


def bench_kannel(run, a, kind, text):
    kdir = os.path.join(run.work, "kannel-" + kind)
    os.makedirs(kdir, exist_ok=True)
    sport, admin, smsbox_port = free_port(), free_port(), free_port()
    pids, http = {}, None
    try:
        url = ""
        if kind == "geturl":
            http, hport = start_geturl_server(run, kdir, text, "geturl-http")
            url = "http://127.0.0.1:%d/list?from=%%p&to=%%P&text=%%a" % hport
            pids["http-server"] = http.p.pid
        conf = os.path.join(kdir, "kannel.conf")
        with open(os.path.join(HERE, "kannel", "kannel.conf.in"), encoding="utf-8") as f:
            tpl = f.read()
        with open(conf, "w", encoding="utf-8") as f:
            f.write(tpl % {
                "admin_port": admin, "smsbox_port": smsbox_port, "smsc_port": sport,
                "dir": kdir, "log_level": a.kannel_log_level, "system_id": "kannel",
                "password": "bench", "max_pending": a.max_pending,
                "smsc_extra": a.kannel_smsc_extra.replace("\\n", "\n"),
                "smsbox_extra": a.kannel_smsbox_extra.replace("\\n", "\n"),
                "services": kannel_services(kind, text, url)})
        bb = run.start("bearerbox-" + kind, ["bearerbox", "-v", str(a.kannel_log_level), conf])
        wait_for(lambda: kannel_status(admin) or not bb.alive(), 20, "bearerbox's admin port")
        if not bb.alive():
            raise SystemExit("bearerbox exited:\n" + bb.output()[-3000:])
        sb = run.start("smsbox-" + kind, ["smsbox", "-v", str(a.kannel_log_level), conf])
        # smsbox is connected when bearerbox lists it under "Box connections".
        wait_for(lambda: "smsbox:" in kannel_status(admin) or not sb.alive(), 20,
                 "smsbox to connect to bearerbox")
        if not sb.alive():
            raise SystemExit("smsbox exited:\n" + sb.output()[-3000:])
        pids.update({"bearerbox": bb.p.pid, "smsbox": sb.p.pid})
        out = {"processes": sorted(pids), "rss_kib": {}}

        def at_start():
            out["rss_kib"].setdefault("start", sum(rss_kib(p) or 0 for p in pids.values()))
        for ph, args, tmo in phases(a):
            out[ph] = run_phase(run, "kannel-%s-%s" % (kind, ph), sport, "kannel:bench", args,
                                pids, tmo, at_start)
            out["rss_kib"]["after_" + ph] = sum(rss_kib(p) or 0 for p in pids.values())
            # Leftovers of a phase must not land in the next one.
            t0 = time.monotonic()
            while kannel_queued(admin) and time.monotonic() - t0 < 60:
                time.sleep(0.2)
            q = kannel_queued(admin)
            out[ph]["queued_after"] = q
            run.log("%s: bearerbox queues after the phase: %s messages" % (ph, q))
        for p in (bb, sb):
            if not p.alive():
                raise SystemExit("%s died:\n%s" % (p.name, p.output()[-3000:]))
        return out
    finally:
        for p in list(reversed(run.procs)):
            if p.name.endswith(kind) or p is http:
                run.stop(p)


# ---- report -----------------------------------------------------------------
def fmt_us(us):
    return "%.0f µs" % us if us < 1000 else "%.2f ms" % (us / 1000)


def table(res, a):
    cols = [s for s in SYSTEMS if s in res]
    sc = res.get("shortcoded")
    ks = [k for k in cols if k.startswith("kannel")]
    heads = ["", *cols] + (["sc better x: " + k[7:] for k in ks] if sc else [])
    rows = []

    def add(label, get, fmt, better_low=True):
        vals = [get(res[c]) for c in cols]
        row = [label] + [fmt(v) if v is not None else "-" for v in vals]
        if sc:
            s = get(sc)
            for k in ks:
                v = get(res[k])
                if v is None or s is None or not s or not v:
                    row.append("-")
                else:
                    # how many times shortcoded is better (>1 = better)
                    row.append("%.1fx" % ((v / s) if better_low else (s / v)))
        rows.append(row)

    for ph, title in (("A", "A: --rate max --count %d" % a.count),
                      ("B", "B: --rate %d --duration %d" % (a.rate, a.duration))):
        rows.append(["-- " + title] + [""] * (len(heads) - 1))
        add("replies/s", lambda r: r[ph]["replies_per_s"], lambda v: "%.0f" % v, False)
        for p, lab in (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99_9", "p99.9"),
                       ("max", "max")):
            add("latency " + lab, lambda r, p=p: r[ph]["latency_us"][p], fmt_us)
        add("CPU-s / 1000 cmds", lambda r: r[ph]["cpu_s_per_1000"], lambda v: "%.4f" % v)
        rows.append(["  by process"] + [
            " + ".join("%s %.4f" % (SHORT.get(k, k), 1000 * v / max(res[c][ph]["done"], 1))
                       for k, v in sorted(res[c][ph]["cpu_s"].items()))
            for c in cols] + [""] * len(ks if sc else []))
        add("errors (wrong reply)", lambda r: r[ph]["errors"]["total"],
            lambda v: str(v), None)
        rows[-1] = rows[-1][:1 + len(cols)] + ["" for _ in ks] if sc else rows[-1]
        for i, c in enumerate(cols):
            rows[-1][1 + i] = "%d (%d)" % (res[c][ph]["errors"]["total"],
                                           res[c][ph]["errors"].get("wrong_reply", 0))
        add("MT parts per reply", lambda r: r[ph]["mt_parts"] / max(r[ph]["done"], 1),
            lambda v: "%.2f" % v, None)
        rows[-1] = rows[-1][:1 + len(cols)] + ["" for _ in ks] if sc else rows[-1]
    rows.append(["-- memory"] + [""] * (len(heads) - 1))
    r_ = ["VmRSS start / after A / end"]
    for c in cols:
        rk = res[c]["rss_kib"]
        r_.append(" / ".join("%.1f MiB" % (rk[k] / 1024) if rk.get(k) else "-"
                             for k in ("start", "after_A", "after_B")))
    rows.append(r_ + [""] * (len(heads) - len(r_)))
    w = [max(len(str(r[i])) for r in rows + [heads]) for i in range(len(heads))]
    lines = ["  ".join(str(h).ljust(w[i]) for i, h in enumerate(heads))]
    for r in rows:
        lines.append("  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)))
    return "\n".join(lines)


def verdicts(res):
    out = []
    sc = res.get("shortcoded")
    if not sc:
        return out
    cpu = sc["A"]["cpu_s_per_1000"]
    out.append(("CPU per 1000 '0000' <= 0.03 CPU-s (daemon + redis-server, phase A)",
                cpu <= 0.03, "%.4f" % cpu))
    for k, need in (("kannel-static", 4), ("kannel-geturl", 8)):
        if k in res:
            ratio = res[k]["A"]["cpu_s_per_1000"] / cpu
            out.append(("CPU >= %dx below %s (phase A)" % (need, k), ratio >= need,
                        "%.1fx" % ratio))
    p99 = sc["B"]["latency_us"]["p99"]
    out.append(("p99 at the phase B rate <= 2 ms", p99 <= 2000, fmt_us(p99)))
    tp = sc["A"]["replies_per_s"]
    out.append(("throughput >= 25,000/s", tp >= 25000, "%.0f/s" % tp))
    for k in ("kannel-static", "kannel-geturl"):
        if k in res:
            ratio = tp / res[k]["A"]["replies_per_s"]
            out.append(("throughput >= 2x %s" % k, ratio >= 2, "%.1fx" % ratio))
    rk = sc["rss_kib"]
    if rk.get("after_A") and rk.get("after_B"):
        grow = rk["after_B"] - rk["after_A"]
        out.append(("RSS flat after warm-up (after A -> end within 1 MiB)", abs(grow) <= 1024,
                    "%+d KiB (start %d, after A %d, end %d KiB)" %
                    (grow, rk.get("start") or 0, rk["after_A"], rk["after_B"])))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--quick", action="store_true",
                    help="small workload, about a minute: 20,000 subscribers, "
                         "--count 20000, phase B 5 s")
    ap.add_argument("--subscribers", type=int, help="default 100000 (--quick 20000)")
    ap.add_argument("--count", type=int, help="phase A MOs (default 200000, --quick 20000)")
    ap.add_argument("--rate", type=int, default=1000, help="phase B MOs/s (default 1000)")
    ap.add_argument("--duration", type=int, help="phase B seconds (default 20, --quick 5)")
    ap.add_argument("--max-duration", type=int, default=120,
                    help="bound of phase A in seconds (default 120, --quick 40)")
    ap.add_argument("--mo-window", type=int, default=100,
                    help="smsc-sim MOs awaiting resp (default 100)")
    ap.add_argument("--window", type=int, default=100, help="shortcoded's bind window")
    ap.add_argument("--max-pending", type=int, default=100,
                    help="Kannel's max-pending-submits (its default is 10)")
    ap.add_argument("--kannel-log-level", type=int, default=4, help="0 debug .. 4 error")
    ap.add_argument("--kannel-smsc-extra", default="",
                    help="extra lines for Kannel's smsc group (\\n between lines)")
    ap.add_argument("--kannel-smsbox-extra", default="",
                    help="extra lines for Kannel's smsbox group (\\n between lines)")
    ap.add_argument("--systems", default=",".join(SYSTEMS),
                    help="comma-separated subset of " + ",".join(SYSTEMS))
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--no-callgrind", action="store_true",
                    help="skip the callgrind run (instructions per 0000, split by library)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args()
    a.subscribers = a.subscribers or (20000 if a.quick else 100000)
    a.count = a.count or (20000 if a.quick else 200000)
    a.duration = a.duration or (5 if a.quick else 20)
    if a.quick:
        a.max_duration = min(a.max_duration, 40)
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    for s in systems:
        if s not in SYSTEMS:
            ap.error("unknown system %r" % s)
    build = os.path.abspath(a.build)
    for b in ("shortcoded", "tools/smsc-sim", "tools/shortcodectl"):
        if not os.access(os.path.join(build, b), os.X_OK):
            ap.error("%s/%s missing: build first (meson setup build && ninja -C build)"
                     % (build, b))
    if any(s.startswith("kannel") for s in systems) and not shutil.which("bearerbox"):
        subprocess.run([os.path.join(HERE, "install-kannel.sh")], check=True)

    # SIGTERM / SIGHUP: unwind through the finally below like Ctrl-C does.
    def on_signal(sig, _):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    work = tempfile.mkdtemp(prefix="kannel-bench-")
    run = Run(work, build, not a.quiet)
    text = list_text()
    res = {}
    t_start = time.time()
    ok = False
    try:
        if "shortcoded" in systems:
            rport, redis = run.redis()
            run.log("seeding %d subscribers x %d services" % (a.subscribers, len(SERVICES)))
            seed(run, rport, a.subscribers)
            run.log("shortcoded")
            res["shortcoded"] = bench_shortcoded(run, a, rport, redis)
            run.stop(redis)
        for kind in ("static", "geturl"):
            if "kannel-" + kind in systems:
                run.log("kannel-" + kind)
                res["kannel-" + kind] = bench_kannel(run, a, kind, text)
        if "shortcoded-callout" in systems:
            run.log("shortcoded-callout")
            res["shortcoded-callout"] = bench_callout(run, a, text)
        ok = True
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
    finally:
        run.stop_all()
        if a.keep or not ok:
            sys.stderr.write("work directory (logs): %s\n" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not ok:
        return 1
    print("kannel_bench: %s; %d subscribers x %d services; smsc-sim --mo-window %d; "
          "shortcoded window %d; Kannel max-pending-submits %d; %d CPUs; %.0f s" %
          (time.strftime("%Y-%m-%d"), a.subscribers, len(SERVICES), a.mo_window, a.window,
           a.max_pending, os.cpu_count(), time.time() - t_start))
    print(table(res, a))
    print("(sc better x: how many times shortcoded is better: Kannel's latency or CPU "
          "divided by shortcoded's, shortcoded's replies/s divided by Kannel's. CPU: "
          "sc = shortcoded + redis-server, Kannel = bearerbox + smsbox (+ the HTTP server); "
          "VmRSS: shortcoded alone, Kannel the sum of its processes. Phase A latency is "
          "under saturation: Kannel acknowledges each MO at once and queues it.)")
    for line in callout_summary(res):
        print(line)
    vs = verdicts(res)
    if vs:
        print("targets:")
        for what, met, fig in vs:
            print("  %-4s %s: %s" % ("met" if met else "MISS", what, fig))
    instr = None
    if not a.no_callgrind and "shortcoded" in a.systems:
        # The daemon alone under callgrind on a fixed small workload.
        cg = tempfile.mkdtemp(prefix="sc-kbench-cg-")
        try:
            instr = bind_bench.callgrind_report(cg, build, a.window, "0000")
        finally:
            shutil.rmtree(cg, ignore_errors=True)
    if a.json:
        doc = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:],
               "instructions_per_0000": instr,
               "options": {k: v for k, v in vars(a).items() if k != "json"},
               "cpus": os.cpu_count(), "reply_text": text, "results": res,
               "targets": [{"what": w, "met": m, "figure": f} for w, m, f in vs]}
        with open(a.json + ".tmp", "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
        os.rename(a.json + ".tmp", a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
