#!/bin/bash
# Held-out validation of tcpguard's end causes against captures whose ground
# truth comes from the situation each tests/heldout/hx-*.sh script drove.
#   tests/heldout.sh PATH/TO/tcpguard
# Prints per-session mismatches, the accuracy over sessions ending with a
# reset or an early FIN, and the number of false middlebox-reset verdicts
# (tcpguard blames a middlebox for a reset an endpoint sent).  The check is
# statistical: it passes when accuracy >= 90 % and no middlebox-reset is
# false; "heldout: 1 passed, 0 failed" (or 0/1) goes to $TG_RESULTS if set.
# Exit 1 when it fails.
set -u
TG=${1:?usage: tests/heldout.sh PATH/TO/tcpguard}
DIR=$(cd "$(dirname "$0")/heldout" && pwd)
[ -x "$TG" ] || { echo "heldout: $TG is not executable" >&2; exit 2; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
for t in "$DIR"/*.truth; do
    n=${t%.truth}
    args=()
    [ -f "$n.args" ] && read -r -a args <"$n.args"
    if ! "$TG" analyze -q --json - "${args[@]}" "$n.pcap" >"$TMP/$(basename "$n").json" 2>"$TMP/err"; then
        echo "heldout: tcpguard failed on ${n##*/}.pcap:" >&2; cat "$TMP/err" >&2
    fi
done
python3 - "$DIR" "$TMP" <<'PY'
import json, os, sys
d, tmp = sys.argv[1], sys.argv[2]
NONRESET = {"graceful", "half-closed", "no-answer", "idle-timeout", "aged-out", "still-open"}
passed = failed = rs_total = rs_ok = false_mb = 0
for tf in sorted(f for f in os.listdir(d) if f.endswith(".truth")):
    name = tf[:-6]
    sessions = []
    try:
        for line in open(os.path.join(tmp, name + ".json")):
            line = line.strip()
            if line:
                sessions.append(json.loads(line))
    except OSError:
        pass
    sessions.sort(key=lambda s: s.get("ts", 0))
    used = set()
    for line in open(os.path.join(d, tf)):
        f = line.split()
        if len(f) != 5:
            continue
        oh, op, rh, rp, want = f[0], int(f[1]), f[2], int(f[3]), f[4]
        hit, rev = None, False
        for pass_ in (0, 1):
            for i, s in enumerate(sessions):
                if i in used:
                    continue
                t = (s.get("id.orig_h"), s.get("id.orig_p"), s.get("id.resp_h"), s.get("id.resp_p"))
                if t == ((oh, op, rh, rp) if pass_ == 0 else (rh, rp, oh, op)):
                    hit, rev = i, pass_ == 1
                    break
            if hit is not None:
                break
        got = "(no session)"
        if hit is not None:
            used.add(hit)
            got = sessions[hit].get("cause", "(none)")
        ok = got == want
        passed += ok
        failed += not ok
        if want not in NONRESET:
            rs_total += 1
            rs_ok += ok
        if got == "middlebox-reset" and want not in ("middlebox-reset", "out-of-window-reset"):
            false_mb += 1
        if not ok:
            ev = sessions[hit].get("cause_evidence", "") if hit is not None else ""
            print("MISMATCH %s: %s %d -> %s %d: truth %s, tcpguard %s%s%s" % (
                name, oh, op, rh, rp, want, got, " (reversed orientation)" if rev else "",
                ("\n    evidence: " + ev) if ev else ""))
    for i, s in enumerate(sessions):
        if i not in used:
            print("note %s: session without truth line: %s %s -> %s %s cause %s" % (
                name, s.get("id.orig_h"), s.get("id.orig_p"), s.get("id.resp_h"), s.get("id.resp_p"), s.get("cause")))
acc = 100.0 * rs_ok / rs_total if rs_total else 0.0
print("reset/early-FIN sessions: %d/%d right (%.1f %%)" % (rs_ok, rs_total, acc))
print("false middlebox-reset (an endpoint sent the reset): %d" % false_mb)
print("heldout sessions: %d right, %d wrong" % (passed, failed))
with open(os.path.join(tmp, "summary"), "w") as fh:
    fh.write("%d %d %d %.3f\n" % (passed, failed, false_mb, acc))
PY
read -r P F MB ACC <"$TMP/summary" || exit 2
if python3 -c "import sys; sys.exit(0 if float('$ACC') >= 90.0 and int('$MB') == 0 else 1)"; then
	ok=1
else
	ok=0
fi
echo "heldout: $ok passed, $((1 - ok)) failed"
[ -n "${TG_RESULTS:-}" ] && echo "heldout: $ok passed, $((1 - ok)) failed" >>"$TG_RESULTS"
[ $ok -eq 1 ]
