#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks the session records of a live test.

  check.py NET JSON [JSON...] -- ORIG_P RESP_P CONN_STATE HISTORY END_REASON ...

The JSON files are read together (a rotated file and its successor); every
expected session (10.96.NET.1:ORIG_P -> 10.96.NET.2:RESP_P) must appear
exactly once with exactly these values, and no other session may appear.
Timestamps vary from run to run and are not compared.
"""
import json
import sys


def main():
    net, rest = sys.argv[1], sys.argv[2:]
    sep = rest.index("--")
    files, exp = rest[:sep], rest[sep + 1:]
    if len(exp) % 5:
        sys.exit("check.py: expectations come in fives")
    want = {}
    for i in range(0, len(exp), 5):
        key = ("10.96.%s.1" % net, int(exp[i]), "10.96.%s.2" % net, int(exp[i + 1]))
        want[key] = tuple(exp[i + 2:i + 5])
    seen = {}
    bad = 0
    for f in files:
        for n, line in enumerate(open(f), 1):
            try:
                d = json.loads(line)
            except ValueError:
                print("%s:%d: not JSON: %r" % (f, n, line[:80]))
                bad += 1
                continue
            key = (d["id.orig_h"], d["id.orig_p"], d["id.resp_h"], d["id.resp_p"])
            got = (d.get("conn_state"), d.get("history"), d.get("end_reason"))
            seen.setdefault(key, []).append(got)
    for key, w in want.items():
        g = seen.pop(key, [])
        if len(g) != 1 or g[0] != w:
            print("%s:%d -> %s:%d: want %s, got %s" % (key + (" ".join(w), g)))
            bad += 1
    for key, g in seen.items():
        print("%s:%d -> %s:%d: unexpected %s" % (key + (g,)))
        bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
