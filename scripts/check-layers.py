#!/usr/bin/env python3
"""check-layers.py -- the include graph between folders points one way.

Reads every #include "..." of every .c and .h under the tree (not build*/,
not hidden folders), maps both ends to their top folder and checks each edge
against LAYERS below (the same table as docs/architecture.md). Fails (exit 1)
naming file:line and the edge for an include a folder may not make, for an
include of a folder that is not in the table, and for a cycle between folders.
A folder may always include its own files. Usage: check-layers.py [ROOT]
"""
import os
import re
import sys

# What each folder may include (besides itself), bottom first. Keep in step
# with docs/architecture.md.
LAYERS = {
    "base": set(),
    "text": {"base"},
    "config": {"base"},
    "smsc": {"base", "text", "config"},
    "store": {"base", "config"},
    "handlers": {"base", "text", "config", "store"},
    "core": {"base", "text", "config", "smsc", "store", "handlers"},
}
# Programs around the daemon may include anything.
ANY = {"tools", "tests", "bench"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(root):
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = sorted(x for x in dirs
                         if not x.startswith(".") and not (rel == "." and x.startswith("build")))
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def top(root, path):
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else "."


def resolve(root, src, name):
    """The included file as the compiler finds it: beside the includer first,
    then from the root (meson's include_directories('.'))."""
    for base in (os.path.dirname(src), root):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(p):
            return p
    return None


def check_table():
    """The table itself must allow no cycle."""
    seen, done = set(), set()

    def visit(n, stack):
        if n in done:
            return None
        if n in seen:
            return stack[stack.index(n):] + [n]
        seen.add(n)
        for m in sorted(LAYERS.get(n, ())):
            c = visit(m, stack + [n])
            if c:
                return c
        done.add(n)
        return None

    for n in LAYERS:
        c = visit(n, [])
        if c:
            return c
    return None


def cycles(edges):
    """Strongly connected components of more than one folder (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    nodes = sorted({a for a, _ in edges} | {b for _, b in edges})
    succ = {n: sorted({b for a, b in edges if a == n}) for n in nodes}

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for n in nodes:
        if n not in index:
            strong(n)
    return out


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    bad = []
    loop = check_table()
    if loop:
        bad.append("check-layers.py: LAYERS allows a cycle: " + " -> ".join(loop))
    edges = {}  # (from folder, to folder) -> first "file:line"
    nfiles = 0
    for src in sources(root):
        nfiles += 1
        a = top(root, src)
        rel = os.path.relpath(src, root)
        with open(src, encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                dst = resolve(root, src, m.group(1))
                if dst is None:
                    bad.append('%s:%d: #include "%s": no such file' % (rel, no, m.group(1)))
                    continue
                b = top(root, dst)
                if a == b:
                    continue
                where = "%s:%d" % (rel, no)
                edges.setdefault((a, b), where)
                if a in ANY:
                    continue
                if a not in LAYERS:
                    bad.append("%s: folder %s is not in LAYERS" % (where, a))
                elif b not in LAYERS:
                    bad.append("%s: %s -> %s: %s is not in LAYERS" % (where, a, b, b))
                elif b not in LAYERS[a]:
                    bad.append('%s: %s -> %s (#include "%s"): %s may include only %s'
                               % (where, a, b, m.group(1), a,
                                  ", ".join(sorted(LAYERS[a])) or "itself"))
    for comp in cycles([e for e in edges if e[0] not in ANY and e[1] not in ANY]):
        inside = sorted((e, w) for e, w in edges.items() if e[0] in comp and e[1] in comp)
        bad.append("cycle between folders %s: %s" % (
            ", ".join(comp), "; ".join("%s -> %s (%s)" % (e[0], e[1], w) for e, w in inside)))
    for b in bad:
        print(b)
    if bad:
        print("check-layers: %d problem(s) in %d files" % (len(bad), nfiles))
        return 1
    print("check-layers: %d files, %d folder edges, all downward" % (nfiles, len(edges)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
