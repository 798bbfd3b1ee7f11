#!/bin/bash
# test_instance.sh - one xlbd per interface and per socket; starting over pinned maps; options
# and backend addresses refused before anything changes.
#
#   xlb-NAME-cl --- br0 --- xlb-NAME-lb: xlbd #1 on xlb-NAME (the topology of scripts/topo.sh,
#                    |                   one backend), and a spare interface xlb-NAMEd
#                    +----- xlb-NAME-be1 (nginx)
#
# A second xlbd on xlb-NAME (another socket and state, or the same socket), or on the spare
# interface with the first's state file, must exit 1 naming the first, and leave the first's VIPs, backends, program and flows as they were. One on the
# spare interface with the first's socket, while the first is stopped with a full accept
# backlog, must not take the socket; one whose --socket names a regular file must not delete it.
# A start over pins holding 3 VIPs with a state file of 511 must succeed (remove before add).
# Usage: tests/integration/test_instance.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 1

V4="$VIP4:80/tcp"
DUMMY=""
[ -z "$LB_IF" ] || DUMMY=${LB_IF}d

pins() { echo "/sys/fs/bpf/xlb/$1"; }

# Everything a refused xlbd must leave alone: configuration, state file, program, maps, flows.
snapshot() {
	xlbctl -j vip show
	xlbctl -j backend show | json_get "[(b['address'], b['state'], b['weight']) for b in j['backends']]"
	cat "$IT_TMP/state.json"
	xlbctl -j prog show | json_get "j['prog_id']"
	in_ns "$LB_NS" ip -d link show dev "$LB_IF" | grep -o 'prog/xdp id [0-9]*'
	bpftool map dump pinned "$(pins "$LB_IF")/xlb_vips" | md5sum
	bpftool map dump pinned "$(pins "$LB_IF")/xlb_backends" | md5sum
	xlbctl -j flow show count 1000000 | json_get "len(j['flows'])"
}

# second_xlbd ARGS: runs another xlbd in the LB namespace (10 s at most: the old one ran on);
# its status in $IT_TMP/second.rc, its output in $IT_TMP/second.out.
second_xlbd() {
	local rc=0
	timeout 10 nsenter --net="/run/netns/$LB_NS" -- "$XLBD" "$@" >"$IT_TMP/second.out" 2>&1 || rc=$?
	echo "$rc" >"$IT_TMP/second.rc"
	note "second xlbd $* -> status $rc: $(tr '\n' '|' <"$IT_TMP/second.out")"
}

case_baseline() {
	setup_vip "$V4" 4 1
	curl_many "$VIP4" 20 base "$IT_TMP/base.out"
	[ "$(count_failed "$IT_TMP/base.out")" -eq 0 ] || die_case "requests failed: $(spread "$IT_TMP/base.out")"
	sleep 1 # the last packets of those connections
	[ "$(xlbctl -j flow show count 1000000 | json_get "len(j['flows'])")" -gt 0 ] ||
		die_case "no flow entries to keep"
}

# The refusal: status 1, names the first xlbd's pid; nothing of the first changed.
expect_refused() {
	local before=$1
	[ "$(cat "$IT_TMP/second.rc")" = 1 ] || die_case "second xlbd exited $(cat "$IT_TMP/second.rc"), want 1: $(tail -n 3 "$IT_TMP/second.out" | tr '\n' '|')"
	grep -q "another xlbd.*pid=$(xlbd_pid) " "$IT_TMP/second.out" ||
		die_case "message does not name the first xlbd (pid $(xlbd_pid)): $(head -n 3 "$IT_TMP/second.out" | tr '\n' '|')"
	[ "$(snapshot)" = "$before" ] || die_case "the first xlbd's data plane or configuration changed"
	alive "$(xlbd_pid)" || die_case "the first xlbd died"
}

case_same_interface_other_socket() {
	local before
	before=$(snapshot)
	second_xlbd -i "$LB_IF" --state "$IT_TMP/b.json" --socket "$IT_TMP/b.sock"
	expect_refused "$before"
	[ ! -e "$IT_TMP/b.json" ] || die_case "the second xlbd created its state file"
	[ ! -e "$IT_TMP/b.sock" ] || die_case "the second xlbd created its socket"
}

case_same_interface_same_socket() {
	local before inode
	before=$(snapshot)
	inode=$(stat -c %i "$IT_TMP/xlbd.sock")
	second_xlbd -i "$LB_IF" --state "$IT_TMP/c.json" --socket "$IT_TMP/xlbd.sock"
	expect_refused "$before"
	[ "$(stat -c %i "$IT_TMP/xlbd.sock")" = "$inode" ] || die_case "the socket was replaced"
}

# Another interface, another socket, the first's state file: each would overwrite the other's
# changes, so the second is refused, names the first, and attaches nothing.
case_other_interface_same_state() {
	local before
	before=$(snapshot)
	dummy_up
	second_xlbd -i "$DUMMY" --mode generic --state "$IT_TMP/state.json" --socket "$IT_TMP/d.sock"
	local prog
	prog=$(in_ns "$LB_NS" ip -d link show dev "$DUMMY" | grep -o 'prog/xdp id [0-9]*' || true)
	dummy_down
	expect_refused "$before"
	grep -q "state file $IT_TMP/state.json" "$IT_TMP/second.out" ||
		die_case "the refusal does not name the state file: $(head -n 2 "$IT_TMP/second.out" | tr '\n' '|')"
	[ -z "$prog" ] || die_case "the second xlbd attached a program to $DUMMY ($prog)"
	[ ! -e "$IT_TMP/d.sock" ] || die_case "the second xlbd created its socket"
}

# libbpf's complaints about libxdp's dispatcher (a kernel that refuses freplace programs) are
# not news at info level: one line of xlbd's says what happened instead.
case_start_log() {
	! grep -q 'level=info msg=libbpf' "$IT_TMP/xlbd.log" ||
		die_case "libbpf at info level: $(grep -m1 'level=info msg=libbpf' "$IT_TMP/xlbd.log")"
	! grep -q 'level=info msg=libxdp' "$IT_TMP/xlbd.log" ||
		die_case "libxdp at info level: $(grep -m1 'level=info msg=libxdp' "$IT_TMP/xlbd.log")"
	local ours linked
	ours=$(xlbctl -j prog show | json_get "j['prog_id']")
	linked=$(in_ns "$LB_NS" ip -d link show dev "$LB_IF" | grep -o 'prog/xdp id [0-9]*' | grep -o '[0-9]*$')
	note "xlb program $ours, program on the link $linked"
	# Attached alone, not under libxdp's dispatcher: said once, in xlbd's words.
	if [ "$ours" = "$linked" ]; then
		[ "$(grep -c "dispatcher is not available here" "$IT_TMP/xlbd.log")" -ge 1 ] ||
			die_case "attached without the dispatcher, and the log does not say so"
	fi
}

# --metrics on every address: a warning that the page is open to the network. The same xlbd
# runs under valgrind --track-fds: attach and `prog detach` leave no program fd open (libxdp's
# multiprog calls leaked one per look and two per detach).
case_metrics_open_warning() {
	local pid vg=()
	command -v valgrind >/dev/null && vg=(valgrind --track-fds=yes --log-file="$IT_TMP/m.vg")
	dummy_up
	nsenter --net="/run/netns/$LB_NS" -- "${vg[@]}" "$XLBD" -i "$DUMMY" --mode generic \
		--state "$IT_TMP/m.json" --socket "$IT_TMP/m.sock" --metrics 0.0.0.0:19101 \
		>"$IT_TMP/m.out" 2>&1 &
	pid=$!
	track $pid
	wait_for 60 grep -q 'msg=ready' "$IT_TMP/m.out" || {
		kill "$pid" 2>/dev/null || true
		dummy_down
		die_case "xlbd on $DUMMY did not start: $(tr '\n' '|' <"$IT_TMP/m.out")"
	}
	"$XLBCTL" -s "$IT_TMP/m.sock" prog detach >/dev/null 2>&1 || kill "$pid"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null" || kill "$pid" 2>/dev/null || true
	dummy_down
	grep -q 'level=warn msg="the metrics are open to every network' "$IT_TMP/m.out" ||
		die_case "no warning for --metrics 0.0.0.0: $(grep metrics "$IT_TMP/m.out" | tr '\n' '|')"
	if [ ${#vg[@]} -gt 0 ]; then
		wait_for 30 grep -q 'FILE DESCRIPTORS' "$IT_TMP/m.vg" || die_case "no fd report from valgrind"
		note "valgrind: $(grep 'FILE DESCRIPTORS' "$IT_TMP/m.vg")"
		! grep -A8 'Open file descriptor [0-9]*:$' "$IT_TMP/m.vg" | grep -q 'bpf_prog_get_fd_by_id' ||
			die_case "a program fd left open at exit: $(grep -A8 'Open file descriptor [0-9]*:$' "$IT_TMP/m.vg" | grep -m 3 'by 0x' | tr -s ' ' | tr '\n' ' ')"
	fi
}

dummy_up() {
	# A veth pair (the dummy module may be missing); generic XDP works on it.
	in_ns "$LB_NS" ip link add "$DUMMY" type veth peer name "${DUMMY}p"
	in_ns "$LB_NS" ip link set "$DUMMY" up
}

# What an (unfixed) xlbd on the dummy may have left (second_xlbd has ended it): its program
# goes with the link; its pins are removed.
dummy_down() {
	in_ns "$LB_NS" ip link del "$DUMMY" 2>/dev/null || true
	rm -f "/run/xlb/$DUMMY.lock"
	if [ -d "$(pins "$DUMMY")" ]; then
		note "pins of $DUMMY were created: removed"
		rm -rf "$(pins "$DUMMY")"
	fi
}

# A busy xlbd (stopped here, backlog full) still owns its socket: an xlbd on another
# interface given that socket must not take it.
case_busy_xlbd_keeps_socket() {
	local inode pid n
	inode=$(stat -c %i "$IT_TMP/xlbd.sock")
	pid=$(xlbd_pid)
	dummy_up
	kill -STOP "$pid"
	rm -f "$IT_TMP/filler.stop"
	"$PY" "$IT_PY/filler.py" "$IT_TMP/xlbd.sock" "$IT_TMP/filler.ready" "$IT_TMP/filler.stop" &
	track $!
	if ! wait_for 10 test -s "$IT_TMP/filler.ready"; then
		kill -CONT "$pid"
		dummy_down
		die_case "could not fill the backlog"
	fi
	n=$(cat "$IT_TMP/filler.ready")
	note "backlog full after $n connections"
	second_xlbd -i "$DUMMY" --mode generic --state "$IT_TMP/d.json" --socket "$IT_TMP/xlbd.sock"
	touch "$IT_TMP/filler.stop"
	kill -CONT "$pid"
	dummy_down
	[ "$(cat "$IT_TMP/second.rc")" = 1 ] || die_case "second xlbd exited $(cat "$IT_TMP/second.rc"), want 1"
	grep -q "another xlbd.*pid=$pid " "$IT_TMP/second.out" || die_case "message does not name the first xlbd: $(head -n 2 "$IT_TMP/second.out" | tr '\n' '|')"
	[ "$(stat -c %i "$IT_TMP/xlbd.sock" 2>/dev/null)" = "$inode" ] || die_case "the busy xlbd's socket was replaced"
	wait_for 5 xlbctl vip show || die_case "the first xlbd does not answer after SIGCONT"
}

# --socket naming a regular file: refused, the file kept, nothing created.
case_socket_not_a_socket() {
	printf 'precious\n' >"$IT_TMP/regular"
	dummy_up
	second_xlbd -i "$DUMMY" --mode generic --state "$IT_TMP/e.json" --socket "$IT_TMP/regular"
	local pinned=""
	[ ! -d "$(pins "$DUMMY")" ] || pinned=1
	dummy_down
	[ "$(cat "$IT_TMP/second.rc")" = 1 ] || die_case "xlbd exited $(cat "$IT_TMP/second.rc"), want 1"
	[ "$(cat "$IT_TMP/regular" 2>/dev/null)" = precious ] || die_case "the regular file was replaced"
	grep -q "not a socket" "$IT_TMP/second.out" || die_case "no reason given: $(head -n 2 "$IT_TMP/second.out" | tr '\n' '|')"
	[ -z "$pinned" ] || die_case "maps were pinned before the socket was checked"
	[ ! -e "$IT_TMP/e.json" ] || die_case "a state file was created before the socket was checked"
}

# Out-of-range --flows: refused as a usage error (status 2), not narrowed to 32 bits. Run
# outside the LB namespace: an xlbd that accepted it would find no interface there.
case_flows_out_of_range() {
	local bad rc
	for bad in 4294968320 18446744073709551616 -1 " 2048" 1023 67108865 0x1000; do
		rc=0
		"$XLBD" -i "$LB_IF" --flows "$bad" --state "$IT_TMP/f.json" --socket "$IT_TMP/f.sock" \
			>"$IT_TMP/flows.out" 2>&1 || rc=$?
		note "--flows '$bad' -> status $rc: $(tr '\n' '|' <"$IT_TMP/flows.out")"
		[ $rc -eq 2 ] || die_case "--flows '$bad': status $rc, want 2"
		grep -q "bad --flows" "$IT_TMP/flows.out" || die_case "--flows '$bad': no reason given"
	done
}

# bad_backend ADDRESS REGEX: backend add refused, naming the problem; nothing changed.
bad_backend() {
	local before out rc=0
	before=$(snapshot)
	out=$(xlbctl backend add "$V4" "$1" 2>&1) || rc=$?
	note "backend add $1 -> $rc: $out"
	[ $rc -ne 0 ] || die_case "backend add $1 accepted"
	grep -qiE -- "$2" <<<"$out" || die_case "backend add $1: message does not say /$2/: $out"
	[ "$(snapshot)" = "$before" ] || die_case "backend add $1: the configuration changed"
}

case_backend_nonsense() {
	bad_backend "$LB_IP4" "this host's interface $LB_IF"
	bad_backend "$VIP4" "address of vip"
	bad_backend 10.210.0.255 "subnet broadcast"
	bad_backend 127.0.0.1 loopback
	bad_backend 224.0.0.5 multicast
	bad_backend 255.255.255.255 broadcast
	bad_backend 0.0.0.0 unspecified
}

# Pins holding 3 VIPs, a state file with 511 (the most there can be: ids 1..511): xlbd starts
# and the maps hold exactly the 511 (it used to add before removing: E2BIG, exit 1, 512 left).
case_start_over_full_pins() {
	local n
	xlbctl_ok vip add 10.211.0.11:80/tcp
	xlbctl_ok vip add 10.211.0.12:80/tcp
	n=$(bpftool -j map dump pinned "$(pins "$LB_IF")/xlb_vips" | json_get "len(j)")
	[ "$n" = 3 ] || die_case "pins hold $n VIPs, want 3"
	xlbd_stop
	"$PY" - "$IT_TMP/state.json" "$IT_TMP/full.json" <<'EOF'
import json, sys
seed = json.load(open(sys.argv[1]))["hash_seed"]
vips = [{"vip": "10.212.%d.%d:80/tcp" % (i // 250, i % 250 + 1), "id": i} for i in range(1, 512)]
json.dump({"version": 1, "hash_seed": seed, "vips": vips}, open(sys.argv[2], "w"))
EOF
	xlbd_start --state "$IT_TMP/full.json" || die_case "xlbd did not start over the pins: $(grep -v '^===' "$IT_TMP/xlbd.log" | tail -n 2 | tr '\n' '|')"
	n=$(xlbctl -j vip show | json_get "len(j['vips'])")
	[ "$n" = 511 ] || die_case "vip show lists $n VIPs, want 511"
	n=$(bpftool -j map dump pinned "$(pins "$LB_IF")/xlb_vips" | json_get "len(j)")
	[ "$n" = 511 ] || die_case "the VIP map holds $n VIPs, want 511"
	# Back to the test's own state: the 511 go again, the 3 come back.
	xlbd_stop
	xlbd_start
	n=$(bpftool -j map dump pinned "$(pins "$LB_IF")/xlb_vips" | json_get "len(j)")
	[ "$n" = 3 ] || die_case "after the restart the VIP map holds $n VIPs, want 3"
}

run_case instance_baseline case_baseline
run_case instance_start_log case_start_log
run_case instance_metrics_open_warning case_metrics_open_warning
run_case instance_same_interface_other_socket case_same_interface_other_socket
run_case instance_same_interface_same_socket case_same_interface_same_socket
run_case instance_other_interface_same_state case_other_interface_same_state
run_case instance_busy_xlbd_keeps_socket case_busy_xlbd_keeps_socket
run_case instance_socket_not_a_socket case_socket_not_a_socket
run_case instance_flows_out_of_range case_flows_out_of_range
run_case instance_backend_nonsense case_backend_nonsense
run_case instance_start_over_full_pins case_start_over_full_pins
it_finish
