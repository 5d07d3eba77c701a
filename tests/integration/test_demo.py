"""test_demo.py -- scripts/demo.sh stopped with Ctrl-C (SIGINT to its
process group, as a terminal sends it) leaves nothing running and says so;
smsc-sim's interactive mode acknowledges its settings, says when a reply
does not come, and never sends a form feed (Ctrl-L) as text. A raw ESME
written here binds to the simulator where the test needs an ESME that
acknowledges MOs and never replies."""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

import harness
from harness import wait_for
from test_hostile import RawSmsc

BIND_TRX, BIND_TRX_RESP = 0x00000009, 0x80000009
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006


def read_text(path):
    """The file's text, or "" while nobody has created it yet (the demo
    prints the daemon log's name before the daemon opens it)."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class SilentEsme:
    """Binds as a transceiver, acknowledges every deliver_sm with ESME_ROK,
    records its short_message and never sends a reply."""

    def __init__(self, port):
        self.c = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.texts = []
        body = b"shortcoded\0secret\0\0" + bytes([0x34, 0, 0]) + b"\0"
        self.c.sendall(struct.pack(">IIII", 16 + len(body), BIND_TRX, 0, 1) + body)
        cmd, status, _, _ = self.read_pdu(10)
        assert cmd == BIND_TRX_RESP and status == 0, (hex(cmd), status)

    read_pdu = RawSmsc.read_pdu  # the same framing, on self.c / self.buf

    def serve_until(self, pred, timeout):
        """Answer PDUs until pred() holds."""
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() >= deadline:
                raise AssertionError("timed out serving the simulator")
            try:
                cmd, _, seq, body = self.read_pdu(max(0.05, deadline - time.monotonic()))
            except socket.timeout:
                continue
            if cmd == DELIVER_SM:
                # 7 C strings and 1-byte fields up to sm_length (see SMPP 3.4 4.6.1)
                p = 0
                for field in ("s", "b", "b", "s", "b", "b", "s", "b", "b", "b", "s", "s",
                              "b", "b", "b", "b"):
                    p = body.index(b"\0", p) + 1 if field == "s" else p + 1
                n = body[p]
                self.texts.append(body[p + 1:p + 1 + n])
                self.c.sendall(struct.pack(">IIII", 17, DELIVER_SM_RESP, 0, seq) + b"\0")
            elif cmd in (ENQUIRE_LINK, UNBIND):
                self.c.sendall(struct.pack(">IIII", 16, cmd | 0x80000000, 0, seq))

    def close(self):
        self.c.close()


class InteractiveTest(harness.Env):
    def start_interactive(self, *args):
        sim = self.start("sim", [harness.SIM, "--listen", "127.0.0.1:0", "--port-file",
                                 os.path.join(self.dir, "sim.port"), "--interactive",
                                 "--log-level", "warn"] + list(args),
                         stdin=subprocess.PIPE)
        portfile = os.path.join(self.dir, "sim.port")
        wait_for(lambda: os.path.exists(portfile) and read_text(portfile).strip(), 10,
                 "smsc-sim to listen")
        sim.port = int(read_text(portfile).strip())
        return sim

    def type(self, sim, text):
        sim.p.stdin.write(text.encode())
        sim.p.stdin.flush()

    def test_settings_are_acknowledged(self):
        sim = self.start_interactive()
        self.type(sim, ":ucs2\n:parts 2\n:auto\n:parts 0\n:gsm\n:udh16\n:sar\n:udh8\n"
                       ":from 13900139000\n:to 10010\n")
        for line in ("encoding of the next MOs: ucs2", "next MOs in 2 parts",
                     "encoding of the next MOs: auto", "next MOs in as many parts as needed",
                     "encoding of the next MOs: gsm", "parts tied by: udh16",
                     "parts tied by: sar", "parts tied by: udh8",
                     "next MOs from 13900139000", "next MOs to 10010"):
            sim.wait_log(re.escape(line))
        sim.p.stdin.close()
        sim.wait()

    def test_form_feed_is_not_sent(self):
        sim = self.start_interactive()
        esme = SilentEsme(sim.port)
        try:
            # Ctrl-L alone is not an MO; within a line it is dropped.
            self.type(sim, "\x0c\n\x0c00\x0c00\nTD\n")
            esme.serve_until(lambda: len(esme.texts) >= 2, 10)
            self.assertEqual(esme.texts, [b"0000", b"TD"])
        finally:
            esme.close()

    def test_no_reply_is_said(self):
        sim = self.start_interactive("--timeout-ms", "1000")
        esme = SilentEsme(sim.port)
        try:
            self.type(sim, "0000\n")
            esme.serve_until(lambda: len(esme.texts) >= 1, 10)
            sim.wait_log(r"\(no reply after 1 s\)", timeout=10)
            self.type(sim, "TD\n")
            esme.serve_until(lambda: len(esme.texts) >= 2, 10)
            sim.wait_log(r"\(no reply after 1 s\)", count=2, timeout=10)
        finally:
            esme.close()


class DemoTest(harness.Env):
    def run_demo(self, body):
        """Start scripts/demo.sh, wait for its daemon to bind, run
        body(stdin, out, banner), then Ctrl-C it: nothing is left."""
        log = open(os.path.join(self.dir, "demo.out"), "wb")
        self.addCleanup(log.close)
        env = dict(os.environ, DEMO_BUILD_DIR=harness.BUILD)
        p = subprocess.Popen([os.path.join(harness.SRC, "scripts", "demo.sh")],
                             stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        out = lambda: read_text(log.name)

        def group_alive():
            try:
                os.killpg(p.pid, 0)
                return True
            except ProcessLookupError:
                return False
        try:
            m = wait_for(lambda: re.search(r"Daemon log: (\S+)", out()), 60, "the demo banner")
            daemon_log = m.group(1)
            wait_for(lambda: "event=bound " in read_text(daemon_log), 30,
                     "the demo daemon to bind")
            body(p.stdin, out, out())
            os.killpg(p.pid, signal.SIGINT)  # Ctrl-C
            rc = p.wait(timeout=40)
            self.assertIn(rc, (0, 130), out())
            self.assertIn("demo stopped", out())
            # Nothing of the demo (redis-server, shortcoded, smsc-sim) is left.
            wait_for(lambda: not group_alive(), 10, "the demo's processes to exit")
        finally:
            if group_alive():
                os.killpg(p.pid, signal.SIGKILL)
            if p.poll() is None:
                p.wait(timeout=10)
            log.close()
            m = re.search(r"logs are in (/tmp/shortcoded-demo\.\S+)", out())
            if m:
                shutil.rmtree(m.group(1), ignore_errors=True)

    def test_ctrl_c_stops_everything(self):
        def body(stdin, out, banner):
            stdin.write("0000\n".encode())
            stdin.flush()
            wait_for(lambda: "10086 -> 13800138000: " in out(), 20, "the reply to 0000")
        self.run_demo(body)

    def test_documented_usage_command_shows_a_data_reminder(self):
        """The one-line command the banner prints (README.md,
        docs/reminders.md) feeds a usage entry; its reminder arrives."""
        def body(stdin, out, banner):
            cmd = re.search(r"^\s*(redis-cli -p \d+ XADD usage:in .*)$", banner, re.M).group(1)
            subprocess.run(["bash", "-c", cmd], check=True, capture_output=True, timeout=30)
            wait_for(lambda: re.search(r"10086 -> 13800138000: .*已使用80%", out()), 30,
                     "the data reminder at the simulator")
        self.run_demo(body)

if __name__ == "__main__":
    harness.main()
