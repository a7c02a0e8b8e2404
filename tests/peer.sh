#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Conformance with Zeek: runs tcpguard on the public traces of the peer
# suite (../shared/peer, or $TG_PEER_DIR) with the settings Zeek's own
# test used for each (checksum validation, bare or default scripts, which
# decides the likely server ports) and Zeek's timers, compares the TCP rows
# of our conn.log with Zeek's baseline using the suite's compare_conn.py,
# and prints per-field agreement. Fails when conn_state agreement falls
# below TG_PEER_MIN_CONN_STATE (percent) or history agreement below
# TG_PEER_MIN_HISTORY.
set -u
bin=${1:?usage: peer.sh TCPGUARD}
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${TG_PEER_DIR:-$root/../shared/peer}
min_cs=${TG_PEER_MIN_CONN_STATE:-99}
min_hist=${TG_PEER_MIN_HISTORY:-98}

if [ ! -f "$peer/index.tsv" ]; then
	echo "peer: skipped: no Zeek peer suite at $peer"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	echo "peer: skipped: python3 is needed for compare_conn.py"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Ports each Zeek protocol script registers as likely server ports.
ports_for() {
	local loads=$1 out="" p
	IFS=, read -ra list <<<"$loads"
	for p in "${list[@]}"; do
		case "$p" in
		base/protocols/http) out+="80,81,631,1080,3128,8000,8080,8888," ;;
		base/protocols/ftp) out+="21,2811," ;;
		base/protocols/ssl) out+="443,563,585,614,636,989,990,992,993,995,5223," ;;
		base/protocols/pop3) out+="110," ;;
		base/protocols/imap) out+="143," ;;
		base/protocols/ssh) out+="22," ;;
		base/protocols/smtp) out+="25,587," ;;
		base/protocols/dns) out+="53," ;;
		base/protocols/irc) out+="6666,6667,6668,6669," ;;
		base/protocols/ldap) out+="389,3268," ;;
		base/protocols/mysql) out+="3306," ;;
		esac
	done
	[ -n "$out" ] && echo "${out%,}" || echo none
}

cs_ok=0 cs_all=0 h_ok=0 h_all=0 n=0
printf '%-44s %-9s %-9s\n' "trace" "state" "history"
while IFS=$'\t' read -r trace pcap _ _ _ baseline _ _ _ _ _ mode checksums loads _; do
	case "$trace" in \#*|trace) continue ;; esac
	args=(--timers zeek -q)
	case "$checksums" in validated*) args+=(--validate-checksums) ;; esac
	case "$mode" in
	bare*) args+=(--server-ports "$(ports_for "$loads")") ;;
	esac
	out="$tmp/$trace.conn.log"
	if ! "$bin" analyze "${args[@]}" --zeek "$out" "$peer/$pcap" 2>"$tmp/err"; then
		echo "peer: $trace: tcpguard failed: $(cat "$tmp/err")"
	fi
	res=$(python3 "$peer/compare_conn.py" --proto tcp "$peer/$baseline" "$out" 2>&1)
	cs=$(sed -n 's/^conn_state agreement: \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' <<<"$res")
	hist=$(grep -m1 -E '^ *history' <<<"$res" | grep -oE '[0-9]+/[0-9]+' | tail -1)
	set -- $cs
	cs_ok=$((cs_ok + ${1:-0})); cs_all=$((cs_all + ${2:-0}))
	hh=${hist%/*}; ha=${hist#*/}
	h_ok=$((h_ok + ${hh:-0})); h_all=$((h_all + ${ha:-0}))
	n=$((n + 1))
	printf '%-44s %-9s %-9s\n' "$trace" "${1:-?}/${2:-?}" "${hist:-?}"
	[ -n "${TG_PEER_VERBOSE:-}" ] && echo "$res"
done <"$peer/index.tsv"

pct() { [ "$2" -gt 0 ] && echo $(( $1 * 1000 / $2 )) || echo 0; }
cs_p=$(pct $cs_ok $cs_all); h_p=$(pct $h_ok $h_all)
printf 'peer: %d traces: conn_state %d/%d (%d.%d%%), history %d/%d (%d.%d%%)\n' \
	$n $cs_ok $cs_all $((cs_p / 10)) $((cs_p % 10)) $h_ok $h_all $((h_p / 10)) $((h_p % 10))
fail=0
[ $cs_p -lt $((min_cs * 10)) ] && { echo "peer: FAIL: conn_state agreement below ${min_cs}%"; fail=1; }
[ $h_p -lt $((min_hist * 10)) ] && { echo "peer: FAIL: history agreement below ${min_hist}%"; fail=1; }
echo "peer: $((1 - fail)) passed, $fail failed" >>"${TG_RESULTS:-/dev/null}"
exit $fail
