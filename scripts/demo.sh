#!/bin/bash
# demo.sh - xlb end to end in throwaway namespaces: a client, the LB (xlbd + XDP) and three nginx
# backends (scripts/topo.sh). Configures a VIP with xlbctl, sends real HTTP traffic, fails a
# backend, shows the traffic move, prints the counters, and always cleans up.
# Usage: scripts/demo.sh BUILD_DIR   (make demo)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XLBD=$BUILD/xlbd
XLBCTL=$BUILD/xlbctl
TOPO_SH=$ROOT/scripts/topo.sh
REQUESTS=300

die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
[ -x "$XLBD" ] && [ -x "$XLBCTL" ] || die "$XLBD and $XLBCTL are not built (make)"

NAME=d$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
TMP=$(mktemp -d /tmp/xlb-demo.XXXXXX)
XLBD_PID=""
TOPO_UP=""

# Always: xlbd detaches its program and removes its pins, then the topology goes.
cleanup() {
	set +e
	# Output may go to a pipe that is gone (demo.sh | head): finish the cleanup regardless.
	trap '' PIPE
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
		echo 'write-out = "%{http_code} %header{x-backend}\n"'
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
	--socket "$TMP/xlbd.sock" >"$TMP/xlbd.log" 2>&1 &
XLBD_PID=$!
for _ in $(seq 100); do
	"$XLBCTL" -s "$TMP/xlbd.sock" vip show >/dev/null 2>&1 && break
	kill -0 "$XLBD_PID" 2>/dev/null || die "xlbd exited: $(tail -n 5 "$TMP/xlbd.log")"
	sleep 0.1
done
ctl prog show

echo
echo "== configure the VIP"
VIP="$VIP4:80/tcp"
ctl_quiet vip add "$VIP"
for i in 1 2 3; do
	ctl_quiet backend add "$VIP" "${BE_IP4[$i]}"
done
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
echo "== be2 fails: its nginx stops (topo.sh nginx $NAME 2 stop)"
"$TOPO_SH" nginx "$NAME" 2 stop
echo "  No health check is configured, so xlb still sends be2 its share of new connections"
echo "  and be2's kernel refuses them:"
traffic

echo
echo "== the operator takes be2 out: new connections go to be1 and be3 only"
ctl backend del "$VIP" "${BE_IP4[2]}"
traffic

echo
echo "== counters"
ctl stats
