#!/bin/bash
# test_xlbctl.sh - bad input against a running xlbd: every refusal is one line naming the
# problem, a non-zero exit status, {"error": ...} with -j, and no change to the configuration
# (vip show, backend show and the state file are byte-for-byte the same afterwards). The
# xlbd_rejects_* cases send bad requests straight to the control socket, past xlbctl's own
# checks, because xlbd must validate on its own (docs/control.md).
# Usage: tests/integration/test_xlbctl.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 2

V4="$VIP4:80/tcp"
V6="[$VIP6]:80/tcp"

# Everything a refused request must leave alone.
snapshot() {
	xlbctl -j vip show
	xlbctl -j backend show
	cat "$IT_TMP/state.json"
}

# The configuration the bad requests try to change: both VIPs, be1 in each (be1 weight 2).
case_baseline() {
	setup_vip "$V4" 4 1:2
	setup_vip "$V6" 6 1
	snapshot >/dev/null || die_case "cannot read the configuration back"
}

# bad_cli REGEX ARGS...: xlbctl ARGS must fail with one line on stderr (nothing on stdout)
# matching REGEX (case-insensitive: the offending word or what is wrong), the same with -j as
# {"error": ...} on stdout, and the configuration must not change.
bad_cli() {
	local re=$1 before out err rc msg
	shift
	before=$(snapshot) || die_case "cannot read the configuration before"
	rc=0
	xlbctl "$@" >"$IT_TMP/cli.out" 2>"$IT_TMP/cli.err" || rc=$?
	out=$(cat "$IT_TMP/cli.out")
	err=$(cat "$IT_TMP/cli.err")
	note "xlbctl $* -> status $rc, stdout '$out', stderr '$err'"
	[ $rc -ne 0 ] || die_case "xlbctl $* exited 0"
	[ -z "$out" ] || die_case "xlbctl $*: error text on stdout: $out"
	{ [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [ -n "$err" ]; } ||
		die_case "xlbctl $*: expected one line on stderr, got: $(printf '%s' "$err" | tr '\n' '|')"
	grep -qiE -- "$re" <<<"$err" || die_case "xlbctl $*: message does not name the problem (/$re/): $err"
	[ "$(snapshot)" = "$before" ] || die_case "xlbctl $*: the configuration changed"

	rc=0
	xlbctl -j "$@" >"$IT_TMP/cli.out" 2>"$IT_TMP/cli.err" || rc=$?
	out=$(cat "$IT_TMP/cli.out")
	note "xlbctl -j $* -> status $rc, stdout '$out'"
	[ $rc -ne 0 ] || die_case "xlbctl -j $* exited 0"
	msg=$(json_get "j['error'] if isinstance(j, dict) and isinstance(j.get('error'), str) and len(j) == 1 else ''" <<<"$out" 2>/dev/null) || msg=""
	[ -n "$msg" ] || die_case "xlbctl -j $*: expected {\"error\": \"...\"}, got: $out"
	grep -qiE -- "$re" <<<"$msg" || die_case "xlbctl -j $*: error does not name the problem (/$re/): $msg"
	[ "$(snapshot)" = "$before" ] || die_case "xlbctl -j $*: the configuration changed"
}

# The daemon is not there: a socket path nobody ever created, or a socket file left behind
# with no listener. xlbctl says so in one line, and the real xlbd's configuration is untouched.
case_daemon_not_running() {
	local kind=$1 sock=$IT_TMP/absent.sock before err rc
	before=$(snapshot)
	rm -f "$sock"
	if [ "$kind" = stale ]; then
		"$PY" -c 'import socket,sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$sock"
	fi
	rc=0
	err=$("$XLBCTL" -s "$sock" vip show 2>&1 >/dev/null) || rc=$?
	note "xlbctl -s $sock vip show ($kind) -> status $rc: $err"
	[ $rc -ne 0 ] || die_case "exited 0 with no daemon ($kind socket)"
	{ [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [ -n "$err" ]; } || die_case "expected one line, got: $err"
	grep -qiE "xlbd|running|reach|connect" <<<"$err" || die_case "message does not say the daemon is unreachable: $err"
	rc=0
	err=$("$XLBCTL" -j -s "$sock" backend add "$V4" "${BE_IP4[2]}" 2>/dev/null) || rc=$?
	[ $rc -ne 0 ] || die_case "-j exited 0 with no daemon"
	[ -n "$(json_get "j.get('error', '')" <<<"$err" 2>/dev/null)" ] || die_case "-j: expected {\"error\": ...}, got: $err"
	rm -f "$sock"
	[ "$(snapshot)" = "$before" ] || die_case "the configuration changed"
}

# bad_raw REGEX JSON: one request line straight to xlbd. The answer must be {"ok": false,
# "error": one line matching REGEX}, xlbd must keep serving, and nothing may change.
bad_raw() {
	local re=$1 req=$2 before ans
	before=$(snapshot) || die_case "cannot read the configuration before"
	ans=$("$PY" "$IT_PY/ctl_request.py" "$IT_TMP/xlbd.sock" "$req") || die_case "no answer from xlbd to $req"
	note "$req -> $ans"
	[ -n "$ans" ] || die_case "xlbd closed the connection without an answer to $req"
	[ "$(json_get "j.get('ok')" <<<"$ans")" = False ] || die_case "xlbd accepted $req: $ans"
	json_get "j['error']" <<<"$ans" >"$IT_TMP/raw.err" || die_case "no error member: $ans"
	{ [ "$(wc -l <"$IT_TMP/raw.err")" -eq 1 ] && [ -s "$IT_TMP/raw.err" ]; } || die_case "error is not one line: $ans"
	grep -qiE -- "$re" "$IT_TMP/raw.err" || die_case "error does not name the problem (/$re/): $ans"
	[ "$(snapshot)" = "$before" ] || die_case "$req changed the configuration"
}

run_case xlbctl_baseline case_baseline

B1=${BE_IP4[1]:-}
B2=${BE_IP4[2]:-}
run_case xlbctl_bad_vip_address bad_cli '10\.211\.0\.300' vip add 10.211.0.300:80/tcp
run_case xlbctl_bad_vip_ipv6_address bad_cli 'fd00:211::1:2:3:4:5:6:7|address' vip add "[fd00:211::1:2:3:4:5:6:7]:80/tcp"
run_case xlbctl_bad_backend_address bad_cli '10\.210\.0\.999' backend add "$V4" 10.210.0.999
run_case xlbctl_port_0 bad_cli 'port' vip add 10.211.0.20:0/tcp
run_case xlbctl_port_65536 bad_cli '65536' vip add 10.211.0.20:65536/tcp
run_case xlbctl_port_missing bad_cli 'port' vip add 10.211.0.20/tcp
run_case xlbctl_unknown_protocol bad_cli 'sctp' vip add 10.211.0.20:80/sctp
run_case xlbctl_unknown_vip_backend_add bad_cli '10\.211\.0\.99' backend add 10.211.0.99:80/tcp "$B1"
run_case xlbctl_unknown_vip_del bad_cli '10\.211\.0\.99' vip del 10.211.0.99:80/tcp
run_case xlbctl_unknown_backend_del bad_cli '10\.210\.0\.12' backend del "$V4" "$B2"
run_case xlbctl_unknown_backend_set bad_cli '10\.210\.0\.12' backend set "$V4" "$B2" drain
run_case xlbctl_duplicate_backend bad_cli 'already|exist|duplicate' backend add "$V4" "$B1"
run_case xlbctl_duplicate_vip bad_cli 'already|exist|duplicate' vip add "$V4"
run_case xlbctl_backend_family_mismatch bad_cli 'fd00:210::12|ipv6|family' backend add "$V4" "${BE_IP6[2]:-}"
run_case xlbctl_weight_0 bad_cli 'weight' backend set "$V4" "$B1" weight 0
run_case xlbctl_weight_1001 bad_cli 'weight' backend add "$V4" "$B2" weight 1001
run_case xlbctl_weight_not_a_number bad_cli 'weight|abc' backend add "$V4" "$B2" weight abc
run_case xlbctl_weight_missing bad_cli 'weight' backend add "$V4" "$B2" weight
run_case xlbctl_unknown_keyword bad_cli 'wieght' backend add "$V4" "$B2" wieght 3
run_case xlbctl_unknown_object bad_cli 'bogus' bogus show
run_case xlbctl_unknown_command bad_cli 'frob' vip frob "$V4"
run_case xlbctl_ambiguous_prefix bad_cli 'ambiguous' backend s "$V4" "$B1" weight 3
run_case xlbctl_missing_address bad_cli 'address|missing' backend add "$V4"
run_case xlbctl_extra_argument bad_cli 'extra|unexpected|unknown|too many|surplus' vip del "$V4" extra
run_case xlbctl_daemon_not_running case_daemon_not_running absent
run_case xlbctl_daemon_stale_socket case_daemon_not_running stale

RV4=$V4
run_case xlbd_rejects_weight_0 bad_raw 'weight' \
	"{\"cmd\": \"backend add\", \"vip\": \"$RV4\", \"address\": \"$B2\", \"weight\": 0}"
run_case xlbd_rejects_weight_1001 bad_raw 'weight' \
	"{\"cmd\": \"backend add\", \"vip\": \"$RV4\", \"address\": \"$B2\", \"weight\": 1001}"
run_case xlbd_rejects_weight_string bad_raw 'weight' \
	"{\"cmd\": \"backend set\", \"vip\": \"$RV4\", \"address\": \"$B1\", \"weight\": \"3\"}"
run_case xlbd_rejects_bad_address bad_raw '10\.210\.0\.999|address' \
	"{\"cmd\": \"backend add\", \"vip\": \"$RV4\", \"address\": \"10.210.0.999\"}"
run_case xlbd_rejects_port_0 bad_raw 'port' '{"cmd": "vip add", "vip": "10.211.0.20:0/tcp"}'
run_case xlbd_rejects_unknown_protocol bad_raw 'sctp|protocol' '{"cmd": "vip add", "vip": "10.211.0.20:80/sctp"}'
run_case xlbd_rejects_family_mismatch bad_raw 'fd00:210::12|ipv6|ipv4|family' \
	"{\"cmd\": \"backend add\", \"vip\": \"$RV4\", \"address\": \"${BE_IP6[2]:-}\"}"
run_case xlbd_rejects_unknown_vip bad_raw '10\.211\.0\.99' \
	"{\"cmd\": \"backend add\", \"vip\": \"10.211.0.99:80/tcp\", \"address\": \"$B1\"}"
run_case xlbd_rejects_duplicate_backend bad_raw 'already|exist|duplicate' \
	"{\"cmd\": \"backend add\", \"vip\": \"$RV4\", \"address\": \"$B1\"}"
run_case xlbd_rejects_unknown_admin bad_raw 'sideways|admin' \
	"{\"cmd\": \"backend set\", \"vip\": \"$RV4\", \"address\": \"$B1\", \"admin\": \"sideways\"}"
run_case xlbd_rejects_unknown_sched bad_raw 'bogus|sched' '{"cmd": "vip add", "vip": "10.211.0.20:80/tcp", "sched": "bogus"}'
run_case xlbd_rejects_missing_address bad_raw 'address' "{\"cmd\": \"backend add\", \"vip\": \"$RV4\"}"
run_case xlbd_rejects_unknown_cmd bad_raw 'frob' '{"cmd": "vip frob"}'
run_case xlbd_rejects_not_json bad_raw 'json|parse|invalid|request' 'this is not json'
it_finish
