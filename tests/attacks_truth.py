#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks the alerts of a real-stack attack capture against what its
scenario drove (tests/data/attacks/NAME.truth, one JSON object a line:
kind, target, target_port, start, end as wall-clock times of the attack,
and the precision/recall its signature must reach). Every driven attack
must have exactly one alert of its kind on its target (and port, when
not 0) whose window starts and ends within one rate window and a half of
the attack's; no other alert may appear.

  attacks_truth.py NAME.truth NAME.alerts.json    prints one line per attack
"""
import json
import sys

SLACK = 1.5


def main():
    truth = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    alerts = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    bad, used = [], set()
    for t in truth:
        hits = [a for a in alerts if a["kind"] == t["kind"] and a.get("target") == t["target"]
                and (not t["target_port"] or a.get("target_port") == t["target_port"])]
        if len(hits) != 1:
            bad.append("%s on %s:%s: %d alerts" % (t["kind"], t["target"], t["target_port"],
                                                   len(hits)))
            continue
        a = hits[0]
        used.add(a["id"])
        g = a.get("signature", {})
        p, r = g.get("precision", 0), g.get("recall", 0)
        print("%s %s: start %+.3f s, end %+.3f s, precision %.4f, recall %.4f" % (
            t["kind"], t["target"], a["start"] - t["start"], a["end"] - t["end"], p, r))
        if abs(a["start"] - t["start"]) > SLACK or abs(a["end"] - t["end"]) > SLACK:
            bad.append("%s: window %.3f-%.3f, attack %.3f-%.3f" % (
                t["kind"], a["start"], a["end"], t["start"], t["end"]))
        if p < t["precision"] or r < t["recall"]:
            bad.append("%s: precision %.4f recall %.4f, want %.2f / %.2f" % (
                t["kind"], p, r, t["precision"], t["recall"]))
    for a in alerts:
        if a["id"] not in used:
            bad.append("unexpected alert %d %s on %s" % (a["id"], a["kind"], a.get("target")))
    for b in bad:
        print("FAIL " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
