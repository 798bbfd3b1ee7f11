#!/bin/bash
# demo.sh - xlb end to end in throwaway namespaces (scripts/topo_routed.sh): a dsr-l2 VIP over backends on the LB's segment, then a fwd ipip VIP over backends behind a router; traffic, failover, PMTU, counters; always cleans up.
#
# One topology, one xlbd. Act 1: the VIP with `fwd dsr-l2` over be4-be6 on the LB's segment,
# with an HTTP health check; real HTTP traffic, a backend killed under load (the circuit opens,
# traffic moves: failed requests and failover time), brought back (half-open, closed, slow
# start). Act 2: the same VIP with `fwd ipip` over be1-be3 behind a router on another subnet,
# each running xlb-backend (xlb_decap strips the outer header); traffic, a routed backend
# killed under load, a 10 MB upload that the LB answers with PMTU messages, the LB's counters
# and metrics, and each backend's `xlb-backend show`.
# Usage: scripts/demo.sh BUILD_DIR   (make demo)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XLBD=$BUILD/xlbd
XLBCTL=$BUILD/xlbctl
XLB_BACKEND=$BUILD/xlb-backend
export XLB_BACKEND # topo_routed.sh attaches it on every backend
TOPO_SH=$ROOT/scripts/topo_routed.sh
BULK_PY=$ROOT/tests/integration/py/bulk.py
NROUTED=3 # be1-be3, behind the router (act 2)
NLOCAL=3  # be4-be6, on the LB's segment (act 1)
REQUESTS=300
UPLOAD=10000000
BULK_VIP_PORT=9000
CHECK_INTERVAL_MS=200
CHECK_FALL=3

die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
for b in "$XLBD" "$XLBCTL" "$XLB_BACKEND"; do
	[ -x "$b" ] || die "$b is not built (make)"
done

NAME=d$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
TMP=$(mktemp -d /tmp/xlb-demo.XXXXXX)
XLBD_PID=""
TOPO_UP=""
LOOP_PID=""

# Always: xlbd detaches its program and removes its pins, then the topology goes (its
# namespaces, servers and the backends' xlb-backend pins: topo_routed.sh down).
cleanup() {
	set +e
	# Nothing stops the cleanup half-way: a Ctrl-C now (or the one that got us here, still
	# reaching our process group) is ignored, here and by the commands below, which inherit it.
	trap '' INT TERM
	# Output may go to a pipe that is gone (demo.sh | head): finish the cleanup regardless.
	trap '' PIPE
	if [ -n "$LOOP_PID" ]; then
		touch "$TMP/loop.stop"
		wait "$LOOP_PID" 2>/dev/null
	fi
	printf '\n== cleaning up (xlbctl prog detach, topo_routed.sh down %s)\n' "$NAME" 2>/dev/null
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

# One data-plane counter (xlbctl stats lists those not zero), for the differences an act shows.
counter() {
	"$XLBCTL" -s "$TMP/xlbd.sock" stats show | awk -v c="$1" '$1 == c { v = $2 } END { print v + 0 }'
}

in_client() {
	nsenter --net="/run/netns/$CL_NS" -- "$@"
}

# configure_vip FWD I...: the VIP over backends I... with an HTTP health check; waits until all are up (dsr-l2
# backends once xlbd has their MAC from the LB's neighbour table; ipip ones at once).
configure_vip() {
	local fwd=$1 i
	shift
	ctl_quiet vip add "$VIP" fwd "$fwd"
	for i in "$@"; do
		ctl_quiet backend add "$VIP" "${BE_IP4[$i]}" weight 10
	done
	ctl_quiet vip set "$VIP" check http path / interval ${CHECK_INTERVAL_MS}ms timeout 100ms \
		fall $CHECK_FALL rise 2 backoff 1s slow-start 2s
	wait_up "$VIP" $#
	ctl backend show "$VIP"
}

# wait_up VIP N: up to 5 s for N backends of VIP to be up (the STATE column; ADMIN says up too).
wait_up() {
	for _ in $(seq 50); do
		[ "$("$XLBCTL" -s "$TMP/xlbd.sock" backend show "$1" | awk 'NR > 1 && $6 == "up"' | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 0
}

# traffic I...: REQUESTS requests from the client, each on a new connection (a new flow), then
# the count per backend I as a bar chart. One curl process; a config file, since the request
# list is long.
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
	in_client curl -K "$TMP/curl.conf" >"$out" || true
	echo "  $REQUESTS requests from the client ($CL_IP4), one new connection each:"
	for i in "$@"; do
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

# xlbd's circuit transitions for backend I from line FROM of its log, one short line each:
# "time  message (reason[, back-off])".
transitions() {
	tail -n "+$2" "$TMP/xlbd.log" | grep -F "backend=${BE_IP4[$1]} " | grep -F 'circuit' |
		sed -n 's/^ts=[^T]*T\([^ ]*\)Z .*msg="\([^"]*\)".* to=\([^ ]*\) reason=\("[^"]*"\|[^ ]*\) backoff_ms=\([0-9]*\).*/\1 \3 \5 \2 (\4/p' |
		awk '{ t = $1; to = $2; b = $3; $1 = $2 = $3 = ""; sub(/^ +/, "")
			printf "    %s  %s%s)\n", t, $0, to == "open" ? ", back-off " b " ms" : "" }'
}

# wait_transition I FROM TENTHS TEXT: wait up to TENTHS tenths of a second for a transition of
# backend I matching TEXT after log line FROM.
wait_transition() {
	local n
	for n in $(seq "$3"); do
		transitions "$1" "$2" | grep -qF "$4" && return 0
		xlbd_alive || die "xlbd exited: $(tail -n 3 "$TMP/xlbd.log")"
		sleep 0.1
	done
	return 1
}

# xlbd still runs (an exited one not yet reaped by us counts as gone). It stops on SIGINT, so
# Ctrl-C stops it even where the demo's own SIGINT is ignored (started in the background of a
# non-interactive shell: bash then cannot trap it); a wait then ends at once, not after 5 s.
xlbd_alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$XLBD_PID/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# Epoch seconds of an xlbd log timestamp (2026-01-02T03:04:05.678Z).
ts_epoch() { date -d "$1" +%s.%N; }

# fail I: backend I's nginx stops while the client opens new connections back to back; the
# circuit opens and its new connections go to the others. Prints the transitions, the failover
# time and where the requests since the kill went.
fail() {
	local i=$1 mark before t_kill t_open total failed late
	loop_start
	sleep 1
	mark=$(($(wc -l <"$TMP/xlbd.log") + 1))
	before=$(wc -l <"$TMP/loop.out")
	t_kill=$(date +%s.%N)
	"$TOPO_SH" nginx "$NAME" "$i" stop
	wait_transition "$i" "$mark" 50 "circuit open" || die "${BE_NAME[$i]}'s circuit did not open within 5 s"
	sleep 1
	loop_stop
	t_open=$(ts_epoch "$(tail -n "+$mark" "$TMP/xlbd.log" | grep -F "backend=${BE_IP4[$i]} " |
		grep -F 'circuit open' | head -n 1 | sed 's/^ts=\([^ ]*\) .*/\1/')")
	total=$(($(wc -l <"$TMP/loop.out") - before))
	failed=$(tail -n "+$((before + 1))" "$TMP/loop.out" | awk '$2 != 200' | wc -l)
	# Failed requests started more than 0.2 s after the opening: none expected.
	late=$(awk -v t="$t_open" '$1 > t + 0.2 && $2 != 200' "$TMP/loop.out" | wc -l)
	echo "  xlbd's checks (every ${CHECK_INTERVAL_MS} ms) fail $CHECK_FALL times, the circuit opens, ${BE_NAME[$i]} is down in"
	echo "  the data plane at once and its new connections go to the others:"
	transitions "$i" "$mark"
	printf '  failover: circuit open %.2f s after the kill; of %d requests since the kill, %d failed\n' \
		"$(awk -v a="$t_kill" -v b="$t_open" 'BEGIN {print b - a}')" "$total" "$failed"
	if [ "$late" -eq 0 ]; then
		echo "  (refused by ${BE_NAME[$i]} before its circuit opened), none after:"
	else
		echo "  ($late of them later than 0.2 s after the circuit opened):"
	fi
	tail -n "+$((before + 1))" "$TMP/loop.out" | awk '{print ($2 == 200 ? $3 : "failed")}' | sort | uniq -c |
		awk '{printf "    %-6s %4d\n", $2, $1}'
	ctl backend show "$VIP"
}

# A command of backend I's xlb-backend, with the state directories topo_routed.sh gave it.
backend_agent() {
	"$TOPO_SH" agent "$NAME" "$@"
}

echo "== topology (scripts/topo_routed.sh up $NAME $NROUTED $NLOCAL)"
"$TOPO_SH" up "$NAME" $NROUTED $NLOCAL >"$TMP/topo.log" 2>&1 || die "topo_routed.sh up failed: $(cat "$TMP/topo.log")"
TOPO_UP=1
eval "$("$TOPO_SH" env "$NAME")"
VIP="$VIP4:80/tcp"
BULK_VIP="$VIP4:$BULK_VIP_PORT/tcp"
mapfile -t LOCAL < <(seq $((NROUTED + 1)) $((NROUTED + NLOCAL)))
mapfile -t ROUTED < <(seq $NROUTED)
echo "  client $CL_IP4 -> VIP $VIP4, routed via the LB $LB_IP4 (XDP on $LB_IF), then"
echo "  - act 1, fwd dsr-l2: to be4-be6 on the same segment ($(for i in "${LOCAL[@]}"; do printf '%s ' "${BE_IP4[$i]}"; done | sed 's/ $//')),"
echo "    which answer the client directly (L2 direct server return);"
echo "  - act 2, fwd ipip: encapsulated to be1-be3 behind the router $RT_IP4 on another subnet"
echo "    ($(for i in "${ROUTED[@]}"; do printf '%s ' "${BE_IP4[$i]}"; done | sed 's/ $//')), where xlb-backend's XDP program strips the outer"
echo "    header; they answer the client directly through the router."

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
echo "==== act 1: fwd dsr-l2, backends be4-be6 on the LB's segment"
echo
echo "== configure the VIP, with an HTTP health check of every backend"
configure_vip dsr-l2 "${LOCAL[@]}"

echo
echo "== traffic"
traffic "${LOCAL[@]}"

echo
echo "== be5 fails under load: its nginx stops while the client opens new connections back to back"
fail 5

echo
echo "== be5 recovers: its nginx starts again"
mark=$(($(wc -l <"$TMP/xlbd.log") + 1))
"$TOPO_SH" nginx "$NAME" 5 start
wait_transition 5 "$mark" 100 "circuit closed" || die "be5 did not come back within 10 s"
echo "  After the back-off the circuit is half-open (checks only); 2 passing checks close it and"
echo "  be5's weight ramps up over the 2 s slow start:"
transitions 5 "$mark"
ctl backend show "$VIP"
sleep 2
echo "  after the slow start:"
traffic "${LOCAL[@]}"

echo
echo "==== act 2: fwd ipip, backends be1-be3 behind a router on another subnet"
echo
echo "== the VIP moves to fwd ipip and onto the routed backends; a second ipip VIP, port 9000,"
echo "   for bulk transfers (bulk.py serves it on the backends)"
# Backends are added before be4-be6 leave, so that none takes a data-plane id they had: a
# backend id given again continues from its earlier packet counts (docs/metrics.md).
ctl_quiet vip set "$VIP" fwd ipip
for i in "${ROUTED[@]}"; do
	ctl_quiet backend add "$VIP" "${BE_IP4[$i]}" weight 10
done
ctl_quiet vip add "$BULK_VIP" fwd ipip
for i in "${ROUTED[@]}"; do
	ctl_quiet backend add "$BULK_VIP" "${BE_IP4[$i]}"
done
for i in "${LOCAL[@]}"; do
	ctl_quiet backend del "$VIP" "${BE_IP4[$i]}"
done
wait_up "$VIP" ${#ROUTED[@]}
ctl backend show "$VIP"
echo "  Each routed backend runs xlb-backend (topo_routed.sh: attach eth0, vip add $VIP4, $VIP6):"
echo "\$ xlb-backend show    (in ${BE_NS[1]})"
backend_agent 1 show | grep -vE '^ +(decap|pass)_' | sed 's/^/  /'

sleep 2 # the new backends' slow start
echo
echo "== traffic through the tunnel (after the new backends' 2 s slow start)"
e0=$(counter encap_ipv4_in_ipv4)
r0=$(counter xdp_redirect)
traffic "${ROUTED[@]}"
e1=$(counter encap_ipv4_in_ipv4)
r1=$(counter xdp_redirect)
echo "  The LB encapsulated $((e1 - e0)) packets (IPv4 in IPv4) and sent $((r1 - r0)) out $LB_LINK_IF toward the"
echo "  router (XDP_REDIRECT). The inner packet is the client's, unchanged: be1's nginx logged"
echo "  $(grep -c "^$CL_IP4:" "${BE_LOG[1]}") requests from $CL_IP4 itself."

echo
echo "== be2 (behind the router) fails under load"
fail 2
mark=$(($(wc -l <"$TMP/xlbd.log") + 1))
"$TOPO_SH" nginx "$NAME" 2 start
wait_transition 2 "$mark" 100 "circuit closed" || die "be2 did not come back within 10 s"
echo "  be2's nginx starts again; its circuit closes after the back-off:"
transitions 2 "$mark"

echo
echo "== a ${UPLOAD} byte upload to $BULK_VIP"
echo "  Full-size client segments do not fit once encapsulated (every link has MTU 1500): the LB"
echo "  answers them with ICMP fragmentation-needed, and the client's TCP sends smaller ones."
in_client ip route flush cache
p0=$(counter pmtu_sent)
t0=$(date +%s.%N)
line=$(in_client timeout 60 /usr/bin/python3 "$BULK_PY" up "$VIP4" $BULK_VIP_PORT $UPLOAD 2>&1) || line="failed: $line"
t1=$(date +%s.%N)
p1=$(counter pmtu_sent)
echo "  \$ bulk.py up $VIP4 $BULK_VIP_PORT $UPLOAD    (answer: backend, bytes it received, bytes sent)"
echo "    $line   ($(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s)"
echo "  PMTU answers from the LB: $((p1 - p0)); the client's route to the VIP now:"
echo "    $(in_client ip route get "$VIP4" | tr -s ' \n' ' ')"

echo
echo "== counters (both acts)"
ctl stats

echo
echo "== a few Prometheus metrics (xlbd --metrics 127.0.0.1:9100, GET /metrics in the LB namespace)"
ip netns exec "$LB_NS" curl -s http://127.0.0.1:9100/metrics |
	grep -E '^xlb_(backend_packets_total|backend_circuit_state\{.*state="closed"|xdp_actions_total\{action="(tx|redirect)"|(encapsulated_total\{kind="ipv4_in_ipv4"|pmtu_answers_total)|flow_table_entries|config_changes_total)' |
	sed 's/^/  /'

echo
echo "== the backend agent's counters (xlb-backend show on be1-be3, those not zero: decapsulated,"
echo "   passed untouched; docs/backend.md)"
for i in $(seq "$BE_ROUTED"); do
	echo "\$ xlb-backend show    (in ${BE_NS[$i]})"
	backend_agent "$i" show | grep -E '^ +(decap|pass)_' | awk '$2 != 0 || $1 == "decap_ipv4_in_ipv4"' | sed 's/^ */  /'
done

echo
echo "== where would a flow go, and why (xlbctl flow explain)"
ctl flow explain "$CL_IP4:40000" "$VIP"
