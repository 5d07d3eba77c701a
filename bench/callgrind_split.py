#!/usr/bin/env python3
"""callgrind_split.py -- total self cost (Ir) of a callgrind.out file per
object (shared library or executable). Usage: callgrind_split.py FILE..."""
import collections
import re
import sys


def split(path):
    """Map object name -> self instructions. Lines right after `calls=` hold
    inclusive costs of a call and are skipped; every other cost line belongs
    to the current function's object."""
    names = {}
    totals = collections.Counter()
    ob = "?"
    skip_next = False
    with open(path) as f:
        for line in f:
            if line.startswith("cob="):
                # A call target's object: it may be where an id is named first.
                m = re.match(r"cob=\((\d+)\) (.*)", line.strip())
                if m:
                    names[m.group(1)] = m.group(2)
            elif line.startswith("ob="):
                m = re.match(r"ob=\((\d+)\)(?: (.*))?", line.strip())
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    ob = m.group(1)
                else:
                    ob = line[3:].strip()
            elif line.startswith("calls="):
                skip_next = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    totals[ob] += int(parts[1])
    return collections.Counter({names.get(k, k): v for k, v in totals.items()})


def group(obj):
    for key, name in (("libsmpp34", "libsmpp34"), ("libhiredis", "hiredis"),
                      ("libuv", "libuv"), ("libc.so", "libc"), ("libunistring", "libunistring"),
                      ("ld-linux", "ld.so"), ("libyaml", "libyaml")):
        if key in obj:
            return name
    if obj.endswith("shortcoded"):
        return "shortcoded"
    return "other"


if __name__ == "__main__":
    for p in sys.argv[1:]:
        t = collections.Counter()
        for ob, n in split(p).items():
            t[group(ob)] += n
        print(p, dict(t), "total", sum(t.values()))
