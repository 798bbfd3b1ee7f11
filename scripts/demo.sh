#!/bin/bash
# demo.sh - xlb end to end in throwaway namespaces: a client, the LB (xlbd + XDP) and three nginx
# backends (scripts/topo.sh). Configures a VIP with an HTTP health check with xlbctl, sends real
# HTTP traffic, kills a backend under load (the circuit opens, traffic moves: failed requests and
# failover time), brings it back (half-open, closed, slow start), prints the counters, and always
# cleans up.
# Usage: scripts/demo.sh BUILD_DIR   (make demo)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XLBD=$BUILD/xlbd
XLBCTL=$BUILD/xlbctl
TOPO_SH=$ROOT/scripts/topo.sh
REQUESTS=300
CHECK_INTERVAL_MS=200
CHECK_FALL=3

die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
if [ ! -x "$XLBD" ] || [ ! -x "$XLBCTL" ]; then
	die "$XLBD and $XLBCTL are not built (make)"
fi

NAME=d$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
TMP=$(mktemp -d /tmp/xlb-demo.XXXXXX)
XLBD_PID=""
TOPO_UP=""
LOOP_PID=""

# Always: xlbd detaches its program and removes its pins, then the topology goes.
cleanup() {
	set +e
	# Output may go to a pipe that is gone (demo.sh | head): finish the cleanup regardless.
	trap '' PIPE
	if [ -n "$LOOP_PID" ]; then
		touch "$TMP/loop.stop"
		wait "$LOOP_PID" 2>/dev/null
	fi
	printf '\n== cleaning up (xlbctl prog detach, topo.sh down %s)\n' "$NAME" 2>/dev/null
	if [ -n "$XLBD_PID" ] && kill -0 "$XLBD_PID" 2>/dev/null; then
		"$XLBCTL" -s "$TMP/xlbd.sock" prog detach >/dev/null 2>&1
		for _ in $(seq 50); do
			kill -0 "$XLBD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$XLBD_PID" 2>/dev/null
	fi
	[ -n "$TOPO_UP" ] && "$TOPO_SH" down "$NAME"
	# xlbd leaves its instance lock file (docs/xlbd.md); the demo's interface is gone.
	if [ -n "${LB_IF:-}" ]; then
		rm -f "/run/xlb/$LB_IF.lock"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Show an xlbctl command, then run it.
ctl() {
	echo "\$ xlbctl $*"
	"$XLBCTL" -s "$TMP/xlbd.sock" "$@" 2>&1 | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}

# Show an xlbctl command and run it; its output only if it fails.
ctl_quiet() {
	local out
	echo "\$ xlbctl $*"
	out=$("$XLBCTL" -s "$TMP/xlbd.sock" "$@" 2>&1) || die "xlbctl $* failed: $out"
}

# REQUESTS requests from the client, each on a new connection (a new flow), then the count
# per backend as a bar chart. One curl process; a config file, since the request list is long.
traffic() {
	local out=$TMP/traffic.out i n failed
	{
		echo 'silent'
		echo 'connect-timeout = 2'
		echo 'max-time = 5'
		echo 'header = "Connection: close"'
		printf '%s\n' 'write-out = "%{http_code} %header{x-backend}\n"' # the \n is curl's to expand
		for i in $(seq $REQUESTS); do
			echo "url = \"http://$VIP4/\""
			echo 'output = "/dev/null"'
		done
	} >"$TMP/curl.conf"
	nsenter --net="/run/netns/$CL_NS" curl -K "$TMP/curl.conf" >"$out" || true
	echo "  $REQUESTS requests from the client ($CL_IP4), one new connection each:"
	for i in $(seq "$BE_COUNT"); do
		n=$(awk -v b="${BE_NAME[$i]}" '$1 == 200 && $2 == b' "$out" | wc -l)
		printf '    %-6s %4d  %s\n' "${BE_NAME[$i]}" "$n" "$(head -c $((n / 5)) /dev/zero | tr '\0' '#')"
	done
	failed=$((REQUESTS - $(awk '$1 == 200' "$out" | wc -l)))
	printf '    %-6s %4d\n' failed "$failed"
}

# A client loop: new connections back to back until $TMP/loop.stop exists, one line per request
# ("<start, epoch seconds> <http code> <backend>") in $TMP/loop.out.
loop_start() {
	rm -f "$TMP/loop.stop"
	: >"$TMP/loop.out"
	# shellcheck disable=SC2016 # expanded by the inner bash
	nsenter --net="/run/netns/$CL_NS" env LC_ALL=C bash -c '
		while [ ! -e "$1" ]; do
			t=$EPOCHREALTIME
			r=$(curl -s --connect-timeout 2 -m 5 -o /dev/null -H "Connection: close" \
				-w "%{http_code} %header{x-backend}" "http://$2/")
			echo "$t ${r:-000}"
		done' loop "$TMP/loop.stop" "$VIP4" >>"$TMP/loop.out" 2>/dev/null &
	LOOP_PID=$!
}

loop_stop() {
	touch "$TMP/loop.stop"
	wait "$LOOP_PID" 2>/dev/null || true
	LOOP_PID=""
}

# xlbd's circuit transitions for be2 from line FROM of its log, one short line each:
# "time  message (reason[, back-off])".
be2_transitions() {
	tail -n "+$1" "$TMP/xlbd.log" | grep -F "backend=${BE_IP4[2]} " | grep -F 'circuit' |
		sed -n 's/^ts=[^T]*T\([^ ]*\)Z .*msg="\([^"]*\)".* to=\([^ ]*\) reason=\("[^"]*"\|[^ ]*\) backoff_ms=\([0-9]*\).*/\1 \3 \5 \2 (\4/p' |
		awk '{ t = $1; to = $2; b = $3; $1 = $2 = $3 = ""; sub(/^ +/, "")
			printf "    %s  %s%s)\n", t, $0, to == "open" ? ", back-off " b " ms" : "" }'
}

# Wait up to $2 tenths of a second for a be2 transition matching $3 after log line $1.
wait_be2() {
	local n
	for n in $(seq "$2"); do
		be2_transitions "$1" | grep -qF "$3" && return 0
		sleep 0.1
	done
	return 1
}

# Epoch seconds of an xlbd log timestamp (2026-01-02T03:04:05.678Z).
ts_epoch() { date -d "$1" +%s.%N; }

echo "== topology: client, LB and 3 backends on one bridge (scripts/topo.sh up $NAME 3)"
"$TOPO_SH" up "$NAME" 3 >"$TMP/topo.log" 2>&1 || die "topo.sh up failed: $(cat "$TMP/topo.log")"
TOPO_UP=1
eval "$("$TOPO_SH" env "$NAME")"
echo "  client $CL_IP4 -> VIP $VIP4, routed via the LB $LB_IP4 (XDP on $LB_IF) -> a backend"
echo "  (${BE_IP4[*]}), which answers the client directly (L2 direct server return)."

echo
echo "== xlbd on $LB_IF in namespace $LB_NS"
# nsenter, not `ip netns exec`: xlbd pins maps in bpffs, which `ip netns exec` hides. Mode auto:
# native XDP, or generic where the driver cannot (prog show tells which).
nsenter --net="/run/netns/$LB_NS" "$XLBD" --interface "$LB_IF" --mode auto --state "$TMP/state.json" \
	--socket "$TMP/xlbd.sock" --metrics 127.0.0.1:9100 >"$TMP/xlbd.log" 2>&1 &
XLBD_PID=$!
for _ in $(seq 100); do
	"$XLBCTL" -s "$TMP/xlbd.sock" vip show >/dev/null 2>&1 && break
	kill -0 "$XLBD_PID" 2>/dev/null || die "xlbd exited: $(tail -n 5 "$TMP/xlbd.log")"
	sleep 0.1
done
ctl prog show

echo
echo "== configure the VIP, with an HTTP health check of every backend"
VIP="$VIP4:80/tcp"
ctl_quiet vip add "$VIP"
for i in 1 2 3; do
	ctl_quiet backend add "$VIP" "${BE_IP4[$i]}" weight 10
done
ctl_quiet vip set "$VIP" check http path / interval ${CHECK_INTERVAL_MS}ms timeout 100ms \
	fall $CHECK_FALL rise 2 backoff 1s slow-start 2s
# Usable once xlbd has each backend's MAC (from the LB's neighbour table).
for _ in $(seq 50); do
	[ "$("$XLBCTL" -s "$TMP/xlbd.sock" backend show "$VIP" | grep -cw up)" -ge 3 ] && break
	sleep 0.1
done
ctl backend show "$VIP"

echo
echo "== traffic"
traffic

echo
echo "== be2 fails under load: its nginx stops while the client opens new connections back to back"
loop_start
sleep 1
mark=$(($(wc -l <"$TMP/xlbd.log") + 1))
before=$(wc -l <"$TMP/loop.out")
t_kill=$(date +%s.%N)
"$TOPO_SH" nginx "$NAME" 2 stop
wait_be2 "$mark" 50 "circuit open" || die "be2's circuit did not open within 5 s"
sleep 1
loop_stop
t_open=$(ts_epoch "$(tail -n "+$mark" "$TMP/xlbd.log" | grep -F "backend=${BE_IP4[2]} " |
	grep -F 'circuit open' | head -n 1 | sed 's/^ts=\([^ ]*\) .*/\1/')")
total=$(($(wc -l <"$TMP/loop.out") - before))
failed=$(tail -n "+$((before + 1))" "$TMP/loop.out" | awk '$2 != 200' | wc -l)
# Failed requests started more than 0.2 s after the opening: none expected.
late=$(awk -v t="$t_open" '$1 > t + 0.2 && $2 != 200' "$TMP/loop.out" | wc -l)
echo "  xlbd's checks (every ${CHECK_INTERVAL_MS} ms) fail $CHECK_FALL times, the circuit opens, be2 is down in"
echo "  the data plane at once and its new connections go to be1 and be3:"
be2_transitions "$mark"
printf '  failover: circuit open %.2f s after the kill; of %d requests since the kill, %d failed\n' \
	"$(awk -v a="$t_kill" -v b="$t_open" 'BEGIN {print b - a}')" "$total" "$failed"
if [ "$late" -eq 0 ]; then
	echo "  (refused by be2 before its circuit opened), none after:"
else
	echo "  ($late of them later than 0.2 s after the circuit opened):"
fi
tail -n "+$((before + 1))" "$TMP/loop.out" | awk '{print ($2 == 200 ? $3 : "failed")}' | sort | uniq -c |
	awk '{printf "    %-6s %4d\n", $2, $1}'
ctl backend show "$VIP"

echo
echo "== be2 recovers: its nginx starts again"
mark=$(($(wc -l <"$TMP/xlbd.log") + 1))
"$TOPO_SH" nginx "$NAME" 2 start
wait_be2 "$mark" 100 "circuit closed" || die "be2 did not come back within 10 s"
echo "  After the back-off the circuit is half-open (checks only); 2 passing checks close it and"
echo "  be2's weight ramps up over the 2 s slow start:"
be2_transitions "$mark"
ctl backend show "$VIP"
sleep 2
echo "  after the slow start:"
traffic

echo
echo "== counters"
ctl stats

echo
echo "== a few Prometheus metrics (xlbd --metrics 127.0.0.1:9100, GET /metrics in the LB namespace)"
ip netns exec "$LB_NS" curl -s http://127.0.0.1:9100/metrics |
	grep -E '^xlb_(backend_packets_total|backend_circuit_state\{.*state="closed"|xdp_actions_total\{action="tx"|flow_table_entries|config_changes_total)' |
	sed 's/^/  /'
echo
echo "== where would a flow go, and why (xlbctl flow explain)"
ctl flow explain "$CL_IP4:40000" "$VIP"
