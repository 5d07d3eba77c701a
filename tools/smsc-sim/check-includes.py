#!/usr/bin/env python3
"""check-includes.py -- smsc-sim's files depend on each other one way.

A part of smsc-sim is a file stem: X.c, X.h and X_int.h are part X. Part A
depends on part B when a file of A includes a header of B ("B.h" or
"B_int.h" in tools/smsc-sim). The graph of parts must have no cycle (a cycle
means two files reach into each other's state or call each other, which the
hooks in mo.h, server.h and env.h are there to avoid), and an X_int.h may be
included only by files of part X or by the files that implement it (named in
INTERNAL below). So that the include graph is also the call graph, a function
defined in X.c is declared only in X.h or X_int.h (or in the header of the
_int.h that X.c implements): no header declares another part's functions.

Prints the parts bottom first with what each includes (--edges), or only
problems. Exit 1 on a cycle or a misuse of an _int.h. Usage:
check-includes.py [--edges] [DIR]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# X_int.h: the files besides X.c that share it.
INTERNAL = {
    "mo_int.h": {"mo.c", "mo_build.c"},
    "server_int.h": {"server.c", "submit.c"},
    "script_int.h": {"script_parse.c", "script_run.c"},
    "load_int.h": {"load.c", "load_pdu.c", "load_report.c"},
}


def part(name):
    stem = os.path.splitext(name)[0]
    return stem[:-4] if stem.endswith("_int") else stem


def graph(d):
    files = sorted(f for f in os.listdir(d) if f.endswith((".c", ".h")))
    edges, bad = {}, []
    for f in files:
        a = part(f)
        edges.setdefault(a, set())
        with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
            for no, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m or "/" in m.group(1) or not os.path.isfile(os.path.join(d, m.group(1))):
                    continue  # the tree's other folders, or the system's
                h = m.group(1)
                if h.endswith(".c"):
                    bad.append("%s:%d: includes a .c file: %s" % (f, no, h))
                if h in INTERNAL and f not in INTERNAL[h] and part(f) != part(h):
                    bad.append("%s:%d: %s is internal to %s" % (f, no, h, ", ".join(sorted(INTERNAL[h]))))
                b = part(h)
                if b != a:
                    edges[a].add(b)
    return edges, bad


DEFINE = re.compile(r'^(?!static\b)[A-Za-z][^;=(]*?\b(sim_\w+)\s*\(')


def homes(f):
    """Headers that may declare what f defines."""
    p = part(f)
    out = {p + ".h", p + "_int.h"}
    for h, users in INTERNAL.items():
        if f in users:
            out |= {h, part(h) + ".h"}
    return out


def declarations(d):
    """Functions defined in .c files declared outside their homes."""
    files = sorted(os.listdir(d))
    texts = {}
    for f in files:
        if f.endswith((".c", ".h")):
            with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
                texts[f] = fh.read()
    bad = []
    for f in (x for x in files if x.endswith(".c")):
        for line in texts[f].split("\n"):
            m = DEFINE.match(line)
            if not m or line.rstrip().endswith(";"):
                continue
            name = m.group(1)
            decl = re.compile(r"\b%s\s*\(" % re.escape(name))
            for h in (x for x in files if x.endswith(".h")):
                if h not in homes(f) and decl.search(texts[h]):
                    bad.append("%s declares %s, which %s defines" % (h, name, f))
    return bad


def order(edges):
    """Parts bottom first; raises ValueError with a cycle."""
    done, out, stack = set(), [], []

    def visit(n):
        if n in done:
            return
        if n in stack:
            raise ValueError(" -> ".join(stack[stack.index(n):] + [n]))
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            visit(m)
        stack.pop()
        done.add(n)
        out.append(n)

    for n in sorted(edges):
        visit(n)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--edges"]
    d = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    edges, bad = graph(d)
    bad += declarations(d)
    try:
        parts = order(edges)
    except ValueError as e:
        bad.append("cycle: %s" % e)
        parts = sorted(edges)
    if "--edges" in sys.argv:
        for p in parts:
            print("%-12s -> %s" % (p, ", ".join(sorted(edges[p])) or "-"))
    for b in bad:
        print(b)
    if bad:
        return 1
    print("check-includes: %d parts, %d edges, no cycle" %
          (len(parts), sum(len(v) for v in edges.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
