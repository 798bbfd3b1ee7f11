#!/bin/bash
# test_demo.sh - `make demo` (scripts/demo.sh): both acts show what they say (every request answered, failovers, ipip encapsulation, PMTU, decapsulation), and nothing is left behind, after a run or after Ctrl-C.
# Usage: tests/integration/test_demo.sh BUILD_DIR
#
# The demo builds its own topology (scripts/topo_routed.sh, a random name d<hex>) and runs its
# own xlbd; this test runs it as make demo does and reads what it printed. Nothing is timed:
# the failover lines are checked for being there, not for their numbers.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
BUILD_DIR=$(dirname "$XLBD")
DEMO=$IT_ROOT/scripts/demo.sh
[ -x "$BUILD_DIR/xlb-backend" ] || IT_SETUP_SKIP=${IT_SETUP_SKIP:-"$BUILD_DIR/xlb-backend not built"}
touch "$IT_TMP/xlbd.log" # no harness xlbd: the demo runs its own

# A failed case leaves nothing to restart: the demo cleans up after itself (what it did not is
# that case's failure).
it_after_failure() { :; }

# The demo's topology name, from its first line ("== topology (scripts/topo_routed.sh up NAME").
demo_name() {
	sed -n 's/^== topology (scripts\/topo_routed.sh up \([a-z0-9]*\) .*/\1/p' "$1" | head -n 1
}

# left_behind NAME: what of the demo's topology NAME is still there (nothing: empty).
left_behind() {
	local n=$1 pid
	ip netns list | awk '{print $1}' | grep -E "^xlb-$n-" | sed 's/^/netns /' || true
	[ ! -e "/sys/fs/bpf/xlb/xlb-$n" ] || echo "pins /sys/fs/bpf/xlb/xlb-$n"
	find /sys/fs/bpf -maxdepth 1 -name "xlb-backend-$n-*" | sed 's/^/pins /'
	[ ! -e "/run/xlb/xlb-$n.lock" ] || echo "lock /run/xlb/xlb-$n.lock"
	[ ! -e "${XLB_TOPO_DIR:-/tmp/xlb-topo}/$n" ] || echo "state ${XLB_TOPO_DIR:-/tmp/xlb-topo}/$n"
	# Processes: nginx, bulk.py, xlbd and whatever nsenter started name the topology (its
	# directories, the LB interface, the namespaces).
	pgrep -af -- "xlb-topo/$n/|xlb-$n( |$)|/run/netns/xlb-$n-" | sed 's/^/process /' || true
	# bulk.py's servers name no topology: this checkout's, in a namespace that is gone (the
	# demo's: topologies of other runs are named and still there).
	for pid in $(pgrep -f -- "$IT_PY/bulk.py serve" || true); do
		[ -n "$(ip netns identify "$pid" 2>/dev/null)" ] || echo "process $pid bulk.py"
	done
}

# charts FILE: one line per "300 requests" bar chart: "be4=111 be5=96 be6=93 failed=0".
charts() {
	awk '/requests from the client/ { on = 1; line = ""; next }
		on && NF == 2 && $1 ~ /^(be[0-9]+|failed)$/ { line = line " " $1 "=" $2
			if ($1 == "failed") { print substr(line, 2); on = 0 } next }
		on && NF == 3 && $1 ~ /^be[0-9]+$/ { line = line " " $1 "=" $2; next }' "$1"
}

# chart_ok LINE BACKEND...: every BACKEND got requests, none failed, no other backend named.
chart_ok() {
	local line=$1 b n
	shift
	[[ " $line " == *" failed=0 "* ]] || die_case "requests failed: $line"
	for b in "$@"; do
		n=$(echo "$line" | tr ' ' '\n' | sed -n "s/^$b=//p")
		[ "${n:-0}" -gt 0 ] || die_case "$b got no request: $line"
	done
	[ "$(echo "$line" | wc -w)" -eq $(($# + 1)) ] || die_case "backends other than $*: $line"
}

# A number from the line of FILE matching the sed expression EXPR (which prints it).
num() { sed -n "$2" "$1" | head -n 1; }

# ---- cases -----------------------------------------------------------------------------------

# The whole demo: act 1 (dsr-l2 over be4-be6) and act 2 (ipip over be1-be3 behind the router)
# answer every request of their bar charts on the backends they name; both failovers open the
# failed backend's circuit and it comes back; the LB encapsulated and redirected what act 2 sent,
# answered the upload with PMTU messages and the client learnt 1480; every routed backend's
# xlb-backend decapsulated; the metrics name the ipip counters; then nothing is left.
case_demo_both_acts() {
	local out=$IT_TMP/demo.out rc=0 name c n i left
	"$DEMO" "$BUILD_DIR" >"$out" 2>&1 || rc=$?
	note "$(tail -n 20 "$out")"
	[ $rc -eq 0 ] || die_case "demo exited with status $rc: $(grep -m1 '^demo:' "$out")"
	name=$(demo_name "$out")
	[ -n "$name" ] || die_case "no topology line in the demo's output"
	mapfile -t c < <(charts "$out")
	[ ${#c[@]} -eq 3 ] || die_case "${#c[@]} bar charts, want 3: ${c[*]}"
	chart_ok "${c[0]}" be4 be5 be6
	chart_ok "${c[1]}" be4 be5 be6 # be5 after its recovery
	chart_ok "${c[2]}" be1 be2 be3
	[ "$(grep -c '^  failover: circuit open' "$out")" -eq 2 ] || die_case "want 2 failover lines"
	[ "$(grep -c 'backend up: circuit closed' "$out")" -ge 2 ] || die_case "be5 and be2 did not both come back"
	n=$(num "$out" 's/^  The LB encapsulated \([0-9]*\) packets.*/\1/p')
	[ "${n:-0}" -ge 900 ] || die_case "act 2 encapsulated '${n}' packets for 300 connections"
	n=$(num "$out" 's/.* and sent \([0-9]*\) out xlbr-.*/\1/p')
	[ "${n:-0}" -ge 900 ] || die_case "act 2 redirected '${n}' packets toward the router"
	n=$(num "$out" 's/^  \([0-9]*\) requests from [0-9.]* itself\.$/\1/p')
	[ "${n:-0}" -gt 0 ] || die_case "be1 logged no request from the client's own address"
	grep -qE '^    be[1-3] 10000000 10000000 ' "$out" || die_case "the upload did not complete: $(grep -A1 'bulk.py up' "$out" | tail -n 1)"
	n=$(num "$out" 's/^  PMTU answers from the LB: \([0-9]*\);.*/\1/p')
	[ "${n:-0}" -ge 1 ] || die_case "no PMTU answer to the upload"
	grep -qE '^    [0-9.]+ via .* mtu 1480' "$out" || die_case "the client's route has no mtu 1480"
	grep -qE '^  xlb_encapsulated_total\{kind="ipv4_in_ipv4"\} [1-9]' "$out" ||
		die_case "no xlb_encapsulated_total{kind=\"ipv4_in_ipv4\"} metric"
	grep -qE '^  xlb_pmtu_answers_total [1-9]' "$out" || die_case "no xlb_pmtu_answers_total metric"
	for i in 1 2 3; do
		n=$(sed -n "/^\\\$ xlb-backend show    (in xlb-$name-be$i)/,/^\\\$/p" "$out" |
			awk '$1 == "decap_ipv4_in_ipv4" {print $2}' | head -n 1)
		[ "${n:-0}" -gt 0 ] || die_case "be$i's xlb-backend decapsulated '${n}'"
	done
	grep -q '^== cleaning up' "$out" || die_case "no cleanup line"
	left=$(left_behind "$name")
	[ -z "$left" ] || die_case "left behind: $(echo "$left" | tr '\n' ';')"
}

# Ctrl-C in act 2 (SIGINT to the demo's process group, as a terminal sends it), and again
# during the cleanup: the demo exits 130 and cleans up everything, its client loop, servers and
# xlbd included.
case_demo_interrupted() {
	local out=$IT_TMP/int.out pid rc=0 name left
	# Job control: the demo gets a process group of its own (the terminal's foreground group
	# in real use). SIGINT at its default, as under a terminal: a background job of a
	# non-interactive shell, or a test run from one, inherits it ignored, and bash can then
	# neither trap nor reset it.
	set -m
	env --default-signal=INT "$DEMO" "$BUILD_DIR" >"$out" 2>&1 &
	pid=$!
	set +m
	# Stopped with the case if it fails early (not track: that disowns, and wait needs a child).
	echo "$pid" >>"$IT_TMP/case.pids"
	wait_for 60 grep -q '^== be2 (behind the router) fails under load' "$out" ||
		die_case "act 2's failover did not start: $(tail -n 3 "$out" | tr '\n' ' ')"
	kill -INT -- "-$pid"
	# A second Ctrl-C while it cleans up (impatience) stops nothing half-way.
	wait_for 10 grep -q '^== cleaning up' "$out" || true
	kill -INT -- "-$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	note "$(tail -n 5 "$out")"
	[ $rc -eq 130 ] || die_case "demo exited with status $rc after SIGINT, want 130"
	grep -q '^== cleaning up' "$out" || die_case "no cleanup after SIGINT"
	name=$(demo_name "$out")
	[ -n "$name" ] || die_case "no topology line in the demo's output"
	left=$(left_behind "$name")
	[ -z "$left" ] || die_case "left behind after SIGINT: $(echo "$left" | tr '\n' ';')"
}

run_case demo_both_acts case_demo_both_acts
run_case demo_interrupted case_demo_interrupted
it_finish
