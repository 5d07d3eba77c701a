"""test_package.py -- the Debian package: built from a copy of the tree,
unpacked into a scratch root, and its installed files checked and run.

setUpClass copies the tree's files (git ls-files: tracked and untracked
ones that are not ignored, so uncommitted work is tested too, and build
outputs never are) into a temporary directory and runs
`dpkg-buildpackage -b -us -uc` there with DEB_BUILD_OPTIONS=nocheck (the
tests are this suite's job, not the package build's) and noautodbgsym.
The tree itself is never written to; test_tree_untouched checks it. The
.deb is unpacked with `dpkg -x` into ROOT; nothing is installed on this
machine. The unit is verified on a copy whose /usr/bin/shortcoded and /etc
paths point into ROOT (systemd-analyze verify --root= would look for the
host's units, such as sysinit.target, in ROOT as well).
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness

VERSION = "0.1.0"
CONF = "/etc/shortcoded/shortcoded.yaml"
ENVFILE = "/etc/default/shortcoded"
UNIT = "/lib/systemd/system/shortcoded.service"
# Directives the unit must keep (issue 13, docs/operations.md "Package").
HARDENING = [
    "User=shortcoded", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
    "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute=yes",
    "SystemCallFilter=@system-service", "CapabilityBoundingSet=",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "ExecStartPre=/usr/bin/shortcoded -c %s --check" % CONF,
    "ExecStart=/usr/bin/shortcoded -c %s" % CONF, "EnvironmentFile=-%s" % ENVFILE,
]
# systemd-analyze security's exposure, in tenths (1.1 when written): a unit
# that loses part of its sandbox goes above it.
MAX_EXPOSURE = 15


# test_postinst_and_purge_in_private_namespace, run by sh -c inside
# `unshare -m`: $1 scratch folder, $2 ROOT, $3 the .deb's control files,
# $4 the installed daemon. Prints what the test compares.
POSTINST_NS = r"""set -eu
W=$1 ROOT=$2 CTRL=$3 EXE=$4
cp -a /etc "$W/etc"
touch "$W/etc/.sc-package-test"
mkdir -p "$W/etc/shortcoded" "$W/admin" "$W/systemd"
cp -a /lib/systemd/system "$W/units"
cp -p "$ROOT/lib/systemd/system/shortcoded.service" "$W/units/"
cp -p "$ROOT/etc/shortcoded/shortcoded.yaml" "$W/etc/shortcoded/"
cp -p "$ROOT/etc/default/shortcoded" "$W/etc/default/"
: > "$W/admin/statoverride"
mount --bind "$W/etc" /etc
mount --bind "$W/systemd" /var/lib/systemd
mount --bind "$W/units" /lib/systemd/system
[ -e /etc/.sc-package-test ] || { echo "the copy of /etc is not in place" >&2; exit 1; }
export DPKG_ADMINDIR="$W/admin" DPKG_MAINTSCRIPT_PACKAGE=shortcoded
overrides() { dpkg-statoverride --list | sort | tr '\n' ','; }
DPKG_MAINTSCRIPT_NAME=postinst sh -e "$CTRL/postinst" configure
echo "user: $(getent passwd shortcoded | cut -d: -f6,7)"
stat -c 'mode: %%a %%U %%G %%n' /etc/shortcoded/shortcoded.yaml /etc/default/shortcoded
before="$(overrides)"
echo "overrides: $before"
DPKG_MAINTSCRIPT_NAME=postinst sh -e "$CTRL/postinst" configure 0.1.0
[ "$(overrides)" = "$before" ] && echo "upgrade: same"
if [ -e /etc/systemd/system/multi-user.target.wants/shortcoded.service ]; then
    echo "enabled: yes"
else
    echo "enabled: no"
fi
as() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin %(env)s \
       runuser -u "$1" -- "$EXE" -c /etc/shortcoded/shortcoded.yaml --check 2>&1 || echo "exit $?"; }
echo "as shortcoded: $(as shortcoded)"
echo "as nobody: $(as nobody)"
DPKG_MAINTSCRIPT_NAME=postrm sh -e "$CTRL/postrm" purge
echo "purged: overrides: $(overrides)"
"""


def run(argv, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def tree_state():
    """What `git status` says, ignored files included, of where a package
    build writes (debian/, obj-*/): the test's build must leave it as is.
    (Not the whole tree: build*/ may change under a parallel build.)"""
    return run(["git", "-C", harness.SRC, "status", "--porcelain", "--ignored", "--",
                "debian", "obj-*"]).stdout


def syscall_groups():
    """systemd's system call groups, {"@name": [member, ...]}, as printed by
    `systemd-analyze syscall-filter` (members may be groups)."""
    groups, cur = {}, None
    for line in run(["systemd-analyze", "syscall-filter"], check=True).stdout.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    return groups


def unit_syscalls(unit_text):
    """The x86_64 numbers the unit's SystemCallFilter= lines allow, the way
    systemd reads them: the first line an allow list, a later "~" line
    removes from it, a later plain line adds to it."""
    groups = syscall_groups()

    def expand(name, seen=()):
        if not name.startswith("@"):
            return {name}
        return set().union(*(expand(m, seen + (name,)) for m in groups[name] if m not in seen))

    allowed = None
    for line in unit_text.splitlines():
        if line.startswith("SystemCallFilter="):
            value = line.split("=", 1)[1]
            deny = value.startswith("~")
            names = set().union(*(expand(n) for n in value.lstrip("~").split()))
            if allowed is None:
                assert not deny, "the unit's first SystemCallFilter= is an allow list"
                allowed = names
            else:
                allowed = allowed - names if deny else allowed | names
    nrs = {}
    with open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") as f:
        for m in re.finditer(r"#define __NR_(\w+) (\d+)", f.read()):
            nrs[m.group(1)] = int(m.group(2))
    return sorted(nrs[n] for n in allowed if n in nrs), allowed


class PackageTest(harness.Env):
    @classmethod
    def setUpClass(cls):
        for tool in ("dpkg-buildpackage", "dh", "lintian", "systemd-analyze", "git"):
            if not shutil.which(tool):
                raise AssertionError("%s is missing: run scripts/install-deps.sh" % tool)
        cls.before = tree_state()
        cls.tmp = tempfile.mkdtemp(prefix="sc-pkg-")
        src = os.path.join(cls.tmp, "shortcoded-" + VERSION)
        files = run(["git", "-C", harness.SRC, "ls-files", "-z", "--cached", "--others",
                     "--exclude-standard"]).stdout.split("\0")
        for rel in filter(None, files):
            path = os.path.join(harness.SRC, rel)
            if os.path.isfile(path):       # listed but deleted in the work tree: skip
                os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
                shutil.copy2(path, os.path.join(src, rel))
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2",
                   DEB_BUILD_PROFILES="nocheck")
        p = run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=src, env=env, timeout=900)
        if p.returncode != 0:
            raise AssertionError("dpkg-buildpackage failed:\n" + (p.stdout + p.stderr)[-8000:])
        debs = [f for f in os.listdir(cls.tmp) if re.fullmatch(r"shortcoded_.*\.deb", f)]
        if len(debs) != 1:
            raise AssertionError("expected one shortcoded .deb, got %r" % debs)
        cls.deb = os.path.join(cls.tmp, debs[0])
        cls.root = os.path.join(cls.tmp, "root")
        p = run(["dpkg", "-x", cls.deb, cls.root])
        if p.returncode != 0:
            raise AssertionError("dpkg -x failed: " + p.stderr)
        cls.ctrl = os.path.join(cls.tmp, "control")
        run(["dpkg-deb", "-e", cls.deb, cls.ctrl], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def installed(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def env_file(self):
        """The variables the installed env file sets (systemd's KEY=VALUE)."""
        out = {}
        with open(self.installed(ENVFILE), encoding="utf-8") as f:
            for line in f:
                m = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line.rstrip("\n"))
                if m:
                    out[m.group(1)] = m.group(2)
        return out

    def service_env(self, **override):
        """The daemon's environment under systemd: the env file, and PATH."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update(self.env_file())
        env.update(override)
        return env

    # ---- what the .deb holds -------------------------------------------
    def test_contents_modes_and_owners(self):
        listing = {}
        for line in run(["dpkg-deb", "-c", self.deb], check=True).stdout.splitlines():
            mode, owner, _size, _date, _time, path = line.split(None, 5)
            listing[path[1:]] = (mode, owner)
        for exe in ("/usr/bin/shortcoded", "/usr/bin/shortcodectl", "/usr/bin/smsc-sim"):
            self.assertEqual(listing.get(exe), ("-rwxr-xr-x", "root/root"), exe)
        # Secrets: never world-readable, not even before postinst ran.
        self.assertEqual(listing.get(CONF), ("-rw-r-----", "root/root"))
        self.assertEqual(listing.get(ENVFILE), ("-rw-r-----", "root/root"))
        self.assertEqual(listing.get(UNIT), ("-rw-r--r--", "root/root"))
        for man in ("/usr/share/man/man8/shortcoded.8.gz", "/usr/share/man/man8/shortcodectl.8.gz",
                    "/usr/share/man/man1/smsc-sim.1.gz"):
            self.assertIn(man, listing)
        with open(os.path.join(self.ctrl, "conffiles")) as f:
            self.assertEqual(sorted(f.read().split()), sorted([CONF, ENVFILE]))
        # The installed config is the shipped one.
        with open(os.path.join(harness.SRC, "config", "shortcoded.yaml"), "rb") as a, \
                open(self.installed(CONF), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_postinst_makes_user_and_group_access(self):
        with open(os.path.join(self.ctrl, "postinst")) as f:
            text = f.read()
        self.assertRegex(text, r"adduser --system --group [^\n]*\\\n\s+[^\n]* shortcoded\n")
        for path in (CONF, ENVFILE):
            self.assertIn(path, text)
        self.assertIn('dpkg-statoverride --update --add root shortcoded 0640 "$f"', text)
        # --no-enable: enabled again on upgrade only when the admin had it.
        self.assertIn("if deb-systemd-helper --quiet was-enabled 'shortcoded.service'; then", text)
        p = run(["sh", "-n", os.path.join(self.ctrl, "postinst")])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_postinst_and_purge_in_private_namespace(self):
        """Runs postinst (install, then upgrade) and postrm purge for real,
        in a mount namespace of its own: /etc is a copy bind-mounted over
        it, /var/lib/systemd a scratch folder, dpkg's statoverride file a
        scratch one (DPKG_ADMINDIR). The host's /etc is never written: the
        script checks that the copy is in place before anything runs."""
        if os.geteuid() != 0 or not shutil.which("unshare"):
            self.skipTest("needs root and unshare(1) for a private mount namespace")
        work = tempfile.mkdtemp(prefix="ns-", dir=self.tmp)
        os.chmod(self.tmp, 0o755)          # the shortcoded user runs ROOT/usr/bin/shortcoded
        os.chmod(work, 0o755)
        env_lines = " ".join(shlex.quote("%s=%s" % kv) for kv in self.env_file().items())
        script = POSTINST_NS % {"env": env_lines}
        host_user = run(["getent", "passwd", "shortcoded"]).stdout
        p = run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "ns",
                 work, self.root, self.ctrl, self.installed("/usr/bin/shortcoded")])
        self.assertEqual(run(["getent", "passwd", "shortcoded"]).stdout, host_user)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("user: /nonexistent:/usr/sbin/nologin\n", out)
        self.assertIn("mode: 640 root shortcoded /etc/shortcoded/shortcoded.yaml\n", out)
        self.assertIn("mode: 640 root shortcoded /etc/default/shortcoded\n", out)
        self.assertIn("overrides: root shortcoded 640 /etc/default/shortcoded,"
                      "root shortcoded 640 /etc/shortcoded/shortcoded.yaml,\n", out)
        self.assertIn("upgrade: same\n", out)
        self.assertRegex(out, r"as shortcoded: /etc/shortcoded/shortcoded.yaml: OK \(1 binds")
        self.assertRegex(out, r"as nobody: [^\n]*Permission denied[^\n]*\nexit 1\n")
        self.assertIn("enabled: no\n", out)
        self.assertNotIn("deb-systemd-helper: error", out)
        self.assertIn("purged: overrides: \n", out)

    # ---- the installed binaries and config ------------------------------
    def test_installed_check_passes_with_env_file(self):
        exe = self.installed("/usr/bin/shortcoded")
        p = run([exe, "-c", self.installed(CONF), "--check"], env=self.service_env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, re.escape(self.installed(CONF)) + r": OK \(1 binds, ")
        # Every variable the env file sets is one the config reads: a
        # misspelt name there would be ignored, silently.
        with open(self.installed(CONF), encoding="utf-8") as f:
            conf = f.read()
        env = self.env_file()
        self.assertGreaterEqual(len(env), 5, env)
        for name in env:
            self.assertIn("${%s" % name, conf, name)
        # ... and the config takes it from there: a bad port fails --check at its line.
        p = run([exe, "-c", self.installed(CONF), "--check"],
                env=self.service_env(SHORTCODED_SMSC_PORT="notaport"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout + p.stderr, re.escape(self.installed(CONF)) + r":\d+:\d+: .*port")

    def test_installed_tools_run(self):
        p = run([self.installed("/usr/bin/shortcoded"), "--version"])
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "shortcoded " + VERSION))
        p = run([self.installed("/usr/bin/shortcodectl"), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Usage: shortcodectl", p.stdout)
        p = run([self.installed("/usr/bin/smsc-sim"), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--listen", p.stdout)

    def test_installed_daemon_answers(self):
        """The installed binaries end to end: the installed smsc-sim as the
        SMSC, the installed shortcodectl imports data through the installed
        config, and the installed daemon answers a "0000" with it."""
        redis = self.start_redis()
        override = {"SHORTCODED_REDIS_URL": "redis://127.0.0.1:%d" % redis.port}
        with open(os.path.join(self.dir, "svc.csv"), "w", encoding="utf-8") as f:
            f.write("code,name,price_fen\nCL001,彩铃,500\n")
        with open(os.path.join(self.dir, "subs.csv"), "w", encoding="utf-8") as f:
            f.write("msisdn,code,since\n13800138000,CL001,1700000000\n")
        ctl = self.installed("/usr/bin/shortcodectl")
        for kind, csv in (("catalogue", "svc.csv"), ("subscriptions", "subs.csv")):
            p = run([ctl, "-c", self.installed(CONF), "import", kind, os.path.join(self.dir, csv)],
                    env=self.service_env(**override))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        script = ("wait_bound 20000\nsend 13800138000 0000\nexpect_status ESME_ROK\n"
                  "expect 13800138000 ^您已订购1项包月增值业务 10000\n")
        path = os.path.join(self.dir, "sim.script")
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        portfile = os.path.join(self.dir, "sim.port")
        sim = self.start("sim", [self.installed("/usr/bin/smsc-sim"), "--listen", "127.0.0.1:0",
                                 "--port-file", portfile, "--script", path])
        harness.wait_for(lambda: os.path.exists(portfile) or not sim.alive(), 10, "smsc-sim to listen")
        with open(portfile) as f:
            override["SHORTCODED_SMSC_PORT"] = f.read().strip()
        d = self.start("shortcoded", [self.installed("/usr/bin/shortcoded"), "-c", self.installed(CONF)],
                       env=self.service_env(**override))
        rc, out = self.run_sim_script(sim, timeout=60)
        self.assertEqual(rc, 0, out)
        self.assertTrue(d.alive(), d.output())

    # ---- the systemd unit -------------------------------------------------
    def test_daemon_under_unit_syscall_filter(self):
        """The installed daemon under the seccomp half of the unit's sandbox
        (unit_sandbox.c: SystemCallFilter=, SystemCallErrorNumber=EPERM,
        SystemCallArchitectures=, MemoryDenyWriteExecute=,
        RestrictAddressFamilies=, RestrictNamespaces=, built from the unit's
        own lines): it binds, answers a "0000", sends a push (its blocking
        XREADGROUP on connections of its own), reloads on SIGHUP and stops
        cleanly on SIGTERM. Mounts, users and capabilities are not emulated:
        systemd is not PID 1 here."""
        with open(self.installed(UNIT)) as f:
            nrs, names = unit_syscalls(f.read())
        self.assertNotIn("setuid", names)          # ~@privileged took it out
        self.assertIn("epoll_wait", names)
        wrapper = os.path.join(harness.BUILD, "tests", "integration", "unit_sandbox")
        allow = ",".join(map(str, nrs))
        # The wrapper refuses what the unit refuses: a check of the check.
        p = run([wrapper, allow, "--", "/usr/bin/python3", "-c",
                 "import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)"])
        self.assertIn("Address family not supported", p.stderr)
        p = run([wrapper, allow, "--", "/bin/sh", "-c", "unshare -n true"])
        self.assertIn("Operation not permitted", p.stderr)

        redis = self.start_redis()
        env = self.service_env(SHORTCODED_REDIS_URL="redis://127.0.0.1:%d" % redis.port)
        with open(os.path.join(self.dir, "svc.csv"), "w", encoding="utf-8") as f:
            f.write("code,name,price_fen\nCL001,彩铃,500\n")
        ctl = [self.installed("/usr/bin/shortcodectl"), "-c", self.installed(CONF)]
        p = run(ctl + ["import", "catalogue", os.path.join(self.dir, "svc.csv")], env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        sim = self.start_sim(script="wait_bound 20000\nsend 13800138001 0000\n"
                                    "expect 13800138001 ^您目前没有订购任何包月增值业务 10000\n"
                                    "expect 13800138002 ^sandboxed-push$ 20000\n")
        env["SHORTCODED_SMSC_PORT"] = str(sim.port)
        d = self.start("shortcoded", [wrapper, allow, "--", self.installed("/usr/bin/shortcoded"),
                                      "-c", self.installed(CONF)], env=env)
        d.wait_log(r"event=bound ", timeout=20)
        p = run(ctl + ["push", "--to", "13800138002", "--text", "sandboxed-push"], env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=reloaded ", timeout=20)
        rc, out = self.run_sim_script(sim, timeout=60)
        self.assertEqual(rc, 0, out)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(20), 0, d.output())
        self.assertIn("event=stopped", d.output())
        self.assertNotRegex(d.output(), r"level=error|Operation not permitted|not supported")

    def unit_copy(self):
        """The installed unit with its binary and /etc paths inside ROOT."""
        with open(self.installed(UNIT)) as f:
            text = f.read()
        text = text.replace("/usr/bin/shortcoded", self.installed("/usr/bin/shortcoded"))
        text = text.replace("/etc/", self.installed("/etc/"))
        path = os.path.join(self.dir, "shortcoded.service")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_unit_hardening_and_verify(self):
        with open(self.installed(UNIT)) as f:
            lines = set(f.read().splitlines())
        for d in HARDENING:
            self.assertIn(d, lines)
        # man: in Documentation= is checked too, against the installed pages.
        env = dict(os.environ, MANPATH=self.installed("/usr/share/man"))
        unit = self.unit_copy()
        p = run(["systemd-analyze", "verify", unit], env=env)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))
        p = run(["systemd-analyze", "security", "--offline=yes", "--threshold=%d" % MAX_EXPOSURE,
                 unit], env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"Overall exposure level for shortcoded.service: [0-9.]+ OK")

    # ---- lintian -------------------------------------------------------------
    def test_lintian_clean(self):
        """No tag but the overridden ones, each explained in
        debian/shortcoded.lintian-overrides and docs/operations.md; an
        override that no longer matches shows as unused-override."""
        p = run(["lintian", "--pedantic", "-I", "--show-overrides", self.deb], timeout=300)
        # N: lines are the overrides' comments, shown with --show-overrides.
        lines = [ln for ln in (p.stdout + p.stderr).splitlines()
                 if ln and not ln.startswith("N: ") and "running with root privileges" not in ln]
        self.assertEqual([ln for ln in lines if not ln.startswith("O: ")], [])
        lines = [ln for ln in lines if ln.startswith("O: ")]
        with open(os.path.join(harness.SRC, "debian", "shortcoded.lintian-overrides")) as f:
            wanted = sorted(ln.strip() for ln in f if ln.strip() and not ln.startswith("#"))
        self.assertEqual(sorted("shortcoded: " + ln[len("O: shortcoded: "):] for ln in lines), wanted)

    def test_tree_untouched(self):
        self.assertEqual(tree_state(), self.before)


if __name__ == "__main__":
    harness.main()
