#!/bin/bash
# test_explain.sh - `xlbctl flow explain` against a running xlbd: the answer matches where real
# connections went, follows failover, and changes nothing (no flow entry, no traffic counted).
# Usage: tests/integration/test_explain.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 3

V4="$VIP4:80/tcp"

# The backend explain names for CLIENT (ADDR:PORT), and the whole answer in $IT_TMP/explain.
explain_backend() {
	xlbctl -j flow explain "$1" "$V4" "${2:-syn}" >"$IT_TMP/explain"
	"$PY" -c 'import json,sys; print(json.load(sys.stdin).get("backend") or "-")' <"$IT_TMP/explain"
}

vip_packets() {
	xlbctl -j stats | "$PY" -c 'import json,sys; print(sum(v["packets"] for v in json.load(sys.stdin)["vips"]))'
}

# Real connections from known ports: explain, asked afterwards, names the backend that answered
# (an established flow); for unused ports it names a backend without creating anything.
case_explain_matches_traffic() {
	local out=$IT_TMP/ex.out port be addr i n0 n1
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 1 2 3
	curl_many "$VIP4" 20 ex "$out"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "requests failed"
	while read -r _ be port; do
		addr=$(explain_backend "$CL_IP4:$port" ack)
		for i in 1 2 3; do
			[ "${BE_NAME[$i]}" = "$be" ] || continue
			[ "$addr" = "${BE_IP4[$i]}" ] || die_case "port $port went to $be, explain says $addr"
		done
		grep -q "established flow" "$IT_TMP/explain" || die_case "not reported as established: $(cat "$IT_TMP/explain")"
	done <"$out"
	n0=$(vip_packets)
	for port in 61001 61002 61003 61004 61005; do
		addr=$(explain_backend "$CL_IP4:$port")
		[ "$addr" != "-" ] || die_case "no backend for a new flow: $(cat "$IT_TMP/explain")"
		grep -q "new flow" "$IT_TMP/explain" || die_case "not reported as new: $(cat "$IT_TMP/explain")"
		# Asked again: still new, so the first explain inserted no flow entry.
		explain_backend "$CL_IP4:$port" >/dev/null
		grep -q "new flow" "$IT_TMP/explain" || die_case "explain created a flow entry"
	done
	n1=$(vip_packets)
	[ "$n0" = "$n1" ] || die_case "explain was counted as traffic ($n0 -> $n1 packets)"
	note "$(xlbctl flow explain "$CL_IP4:61001" "$V4")"
}

# A disabled backend: its established flow is explained as re-picked by stateless failover,
# and the backend named is where a real packet of that flow now goes.
case_explain_failover() {
	local out=$IT_TMP/fo.out port be addr i
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 1 2 3
	curl_many "$VIP4" 1 fo "$out"
	read -r _ be port <"$out"
	for i in 1 2 3; do [ "${BE_NAME[$i]}" = "$be" ] && break; done
	xlbctl_ok backend set "$V4" "${BE_IP4[$i]}" disable
	addr=$(explain_backend "$CL_IP4:$port" ack)
	grep -q "re-picked" "$IT_TMP/explain" || die_case "no re-pick in: $(cat "$IT_TMP/explain")"
	[ "$addr" != "${BE_IP4[$i]}" ] || die_case "explain still names the disabled backend"
	note "$(xlbctl flow explain "$CL_IP4:$port" "$V4" ack)"
	xlbctl flow explain "$CL_IP4:$port" 10.9.9.9:80/tcp >"$IT_TMP/nv" 2>&1 || true
	grep -q "not a configured VIP\|not a VIP" "$IT_TMP/nv" || die_case "no VIP not reported: $(cat "$IT_TMP/nv")"
}

# `xlbctl -j stats watch count 2`: two lines of per-second rates while a client loops; the
# VIP and every backend show packets per second.
case_stats_watch() {
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 1 2 3
	curl_loop_start "$VIP4" sw "$IT_TMP/sw.out"
	sleep 0.5
	xlbctl -j stats watch count 2 >"$IT_TMP/watch.json"
	curl_loop_stop sw
	[ "$(wc -l <"$IT_TMP/watch.json")" -eq 2 ] || die_case "want 2 lines: $(cat "$IT_TMP/watch.json")"
	"$PY" "$IT_PY/watch_rates.py" "$IT_TMP/watch.json" || die_case "rates missing: $(tail -n 1 "$IT_TMP/watch.json")"
	note "$(tail -n 1 "$IT_TMP/watch.json")"
}

run_case explain_matches_traffic case_explain_matches_traffic
run_case explain_failover case_explain_failover
run_case stats_watch case_stats_watch
it_finish
