#!/bin/bash
# test_cluster.sh - three xlb nodes behind a BIRD router: announce/withdraw, one choice per flow.
#
#   client (64 sources) -- router (BIRD, ECMP over the nodes' BGP routes) -- L2 segment
#                                                 lb1 lb2 lb3: xlbd + BIRD    be1..be4: nginx
# (scripts/cluster.sh draws it). lb1 is configured through xlbctl with the seed given
# (--hash-seed); lb2 and lb3 start empty and take lb1's `config export` with `config apply`, as
# a deployment keeps its nodes equal (docs/cluster.md). So the same 5-tuple gets the same
# backend whichever node balances it; the cases check that (fingerprints too), that a drained
# backend keeps its connections when they move to nodes that never saw them, that an LB node
# leaving or joining breaks no connection, that a node with no usable backend withdraws, and that
# an xlbd restart withdraws nothing. Convergence is polled with a deadline, never assumed after a
# sleep.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
it_init "$@"

CLUSTER_SH=$IT_ROOT/scripts/cluster.sh
CLUSTER=""
SEED=3735928559 # any value, the same on every node
VIP_TCP=""
VIP_UDP=""
VIP_TCP6=""
# Set by `cluster.sh env` (eval in cluster_setup); empty until then.
LB_COUNT=0 RT_NS="" CLUSTER_DIR="" CL_SOURCES=""
# lib.sh's harness restarts a single xlbd after a failed case; the cluster's nodes are put
# back by each case's cluster_restore instead.
it_after_failure() { :; }

# ---- nodes -----------------------------------------------------------------------------------

node_ctl() {
	local n=$1
	shift
	"$XLBCTL" -s "$IT_TMP/xlbd$n.sock" "$@"
}

node_ok() {
	local n=$1 out
	shift
	out=$(node_ctl "$n" "$@" 2>&1) || die_case "lb$n: xlbctl $*: $out"
	note "lb$n: xlbctl $*"
}

node_pid() { cat "$IT_TMP/xlbd$1.pid" 2>/dev/null; }

# node_start N [XLBD ARGS]
node_start() {
	local n=$1
	shift
	echo "=== xlbd start $(date +%T.%N)" >>"$IT_TMP/xlbd$n.log"
	# shellcheck disable=SC2086 # XLB_IT_XLBD_ARGS: extra words, e.g. "--mode generic"
	nsenter --net="/run/netns/${LB_NS[$n]}" -- "$XLBD" --interface "${LB_IF[$n]}" \
		--state "$IT_TMP/state$n.json" --socket "$IT_TMP/xlbd$n.sock" "$@" \
		${XLB_IT_XLBD_ARGS:-} >>"$IT_TMP/xlbd$n.log" 2>&1 &
	echo $! >"$IT_TMP/xlbd$n.pid"
	disown $! 2>/dev/null || true
	wait_for 10 node_ready "$n" || {
		echo "xlbd on lb$n did not answer: $(tail -n 3 "$IT_TMP/xlbd$n.log")" >&2
		return 1
	}
}

node_ready() { alive "$(node_pid "$1")" && node_ctl "$1" vip show; }
node_running() { local p; p=$(node_pid "$1") && [ -n "$p" ] && alive "$p"; }

node_stop() {
	local pid
	pid=$(node_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
}

node_detach() {
	local pid
	pid=$(node_pid "$1")
	[ -n "$pid" ] && alive "$pid" || return 0
	node_ctl "$1" prog detach >/dev/null 2>&1
	wait_gone "$pid" 10 || node_stop "$1"
}

# The same VIPs and backends on every node: TCP for connections, UDP for fixed 5-tuples, both
# checked over TCP port 80 (a stopped nginx fails both). No slow start: a weight ramp would make
# the nodes' tables differ while it runs. Prints what failed.
node_configure() {
	local n=$1 b vip
	for vip in "$VIP_TCP" "$VIP_UDP"; do
		node_ctl "$n" vip add "$vip" check tcp port 80 interval 200ms timeout 100ms rise 1 \
			fall 2 slow-start 0 backoff 200ms backoff-max 400ms >/dev/null || return 1
		for b in $(seq "$BE_COUNT"); do
			node_ctl "$n" backend add "$vip" "${BE_IP4[$b]}" >/dev/null || return 1
		done
	done
	# An IPv6 VIP, for its route only (BGP's IPv6 channel).
	node_ctl "$n" vip add "$VIP_TCP6" >/dev/null || return 1
	node_ctl "$n" backend add "$VIP_TCP6" "${BE_IP6[1]}" >/dev/null
}

# ---- the router ------------------------------------------------------------------------------

in_rt() { in_ns "$RT_NS" "$@"; }

# The LB addresses the router's route to ADDR goes through now, sorted, one a line.
rt_hops() {
	in_rt ip route show "$1" | grep -o 'via [0-9.]*' | awk '{print $2}' | sort
}
# rt_is ADDR LB...: the route goes through exactly those nodes (indexes); none: no route.
rt_is() {
	local addr=$1 want="" n
	shift
	for n in "$@"; do want+="${LB_IP4[$n]}"$'\n'; done
	[ "$(rt_hops "$addr")" = "$(printf '%s' "$want" | sort)" ]
}

# rt_wait WHAT SECONDS LB...: waits for rt_is VIP4 LB..., notes the time it took since $t0
# (set by the caller just before the event) as "WHAT: N ms".
rt_wait() {
	local what=$1 secs=$2
	shift 2
	wait_for "$secs" rt_is "$VIP4" "$@" ||
		die_case "$what: the router's route is via [$(rt_hops "$VIP4" | tr '\n' ' ')], wanted nodes $*"
	note "TIME $what: $(($(date +%s%3N) - t0)) ms"
}

# Every new flow to the VIP through node N only: a rule ahead of the main table.
rt_pin() {
	in_rt ip route replace "$VIP4/32" via "${LB_IP4[$1]}" table 100
	in_rt ip rule add to "$VIP4/32" lookup 100 pref 100 2>/dev/null || true
}
rt_unpin() {
	in_rt ip rule del pref 100 2>/dev/null || true
	in_rt ip route flush table 100 2>/dev/null || true
}

# ---- setup and cleanup -----------------------------------------------------------------------

cluster_cleanup() {
	local rc=$? n
	set +e
	trap - EXIT INT TERM
	trap '' PIPE
	if [ -z "$IT_DONE" ] && [ $rc -ne 0 ]; then
		it_fail "$IT_NAME" "test script stopped early with status $rc"
	fi
	it_kill_pids "$IT_TMP/case.pids"
	it_kill_pids "$IT_TMP/daemons.pids"
	if [ -n "$CLUSTER" ]; then
		for n in $(seq "$LB_COUNT"); do node_detach "$n"; done
		for n in $(seq "$LB_COUNT"); do
			node_stop "$n"
			rm -f "/run/xlb/${LB_IF[$n]}.lock"
		done
		"$CLUSTER_SH" down "$CLUSTER"
	fi
	rm -rf "$IT_TMP"
	[ "$IT_FAILED" -eq 0 ] || exit 1
	exit $rc
}
trap cluster_cleanup EXIT

cluster_setup() {
	local n
	[ -z "$IT_SETUP_SKIP" ] || return 0
	if ! command -v bird >/dev/null || ! command -v birdc >/dev/null; then
		IT_SETUP_SKIP="bird and birdc not installed (scripts/deps.sh installs bird2)"
		return 0
	fi
	: >"$IT_TMP/xlbd.log" # lib.sh's run_case shows this file's new lines: the nodes' own are elsewhere
	CLUSTER=c$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	if ! "$CLUSTER_SH" up "$CLUSTER" >"$IT_TMP/cluster.log" 2>&1; then
		IT_SETUP_FAIL="cluster.sh up failed: $(tail -n 1 "$IT_TMP/cluster.log")"
		CLUSTER=""
		return 0
	fi
	eval "$("$CLUSTER_SH" env "$CLUSTER")"
	VIP_TCP=$VIP4:80/tcp
	VIP_UDP=$VIP4:53/udp
	VIP_TCP6="[$VIP6]:80/tcp"
	# lb1: the seed given at start, the VIPs by xlbctl; its export is the cluster's config.
	if ! node_start 1 --hash-seed "$SEED" 2>>"$IT_TMP/setup.err" ||
		! node_configure 1 2>>"$IT_TMP/setup.err" ||
		! node_ctl 1 config export >"$IT_TMP/cluster.json" 2>>"$IT_TMP/setup.err"; then
		IT_SETUP_FAIL="cannot start and configure lb1: $(tail -n 1 "$IT_TMP/setup.err")"
		return 0
	fi
	for n in $(seq 2 "$LB_COUNT"); do
		if ! node_start "$n" 2>>"$IT_TMP/setup.err" ||
			! node_ctl "$n" config apply "$IT_TMP/cluster.json" >"$IT_TMP/apply$n.out" 2>>"$IT_TMP/setup.err"; then
			IT_SETUP_FAIL="cannot start lb$n and apply lb1's configuration: $(tail -n 1 "$IT_TMP/setup.err")"
			return 0
		fi
	done
	for n in $(seq "$BE_COUNT"); do
		# nsenter itself (it execs): $! must be the responder's pid, not a subshell's.
		nsenter --net="/run/netns/${BE_NS[$n]}" -- "$PY" "$IT_PY/udpd.py" "${BE_NAME[$n]}" "$IT_TMP/udpd$n.ready" \
			"$VIP4" >"$IT_TMP/udpd$n.log" 2>&1 &
		echo $! >>"$IT_TMP/daemons.pids"
		disown $! 2>/dev/null || true
	done
}

# Whatever a failed case left: every node running, in service, in BIRD, linked, every backend
# enabled and serving, the router not pinned, every node's route at the router.
cluster_restore() {
	local n b
	rt_unpin
	for n in $(seq "$LB_COUNT"); do
		in_ns "${LB_NS[$n]}" ip link set "${LB_IF[$n]}" up
		node_running "$n" || node_start "$n" || die_case "cannot restart xlbd on lb$n"
		"$CLUSTER_SH" bird "$CLUSTER" "lb$n" start >/dev/null
		node_ctl "$n" node undrain >/dev/null
		for vip in "$VIP_TCP" "$VIP_UDP"; do
			for b in $(seq "$BE_COUNT"); do
				node_ctl "$n" backend set "$vip" "${BE_IP4[$b]}" enable >/dev/null
			done
		done
	done
	for b in $(seq "$BE_COUNT"); do "$CLUSTER_SH" nginx "$CLUSTER" "$b" start >/dev/null 2>&1 || true; done
	wait_for 20 all_nodes_serve || die_case "cluster not back to normal: backends $(backend_states 1) route via [$(rt_hops "$VIP4" | tr '\n' ' ')]"
}

# backend_states N: "up up down up" for VIP_UDP's backends on node N.
backend_states() {
	node_ctl "$1" -j backend show "$VIP_UDP" | json_get "' '.join(b['state'] for b in j['backends'])"
}

all_nodes_serve() {
	local n
	for n in $(seq "$LB_COUNT"); do
		for vip in "$VIP_TCP" "$VIP_UDP"; do
			[ "$(node_ctl "$n" -j backend show "$vip" | json_get "all(b['state'] == 'up' for b in j['backends'])")" = True ] || return 1
		done
	done
	rt_is "$VIP4" 1 2 3
}

# ---- cases -----------------------------------------------------------------------------------

rt6_has_3() {
	[ "$(in_rt ip -6 route show "$VIP6" | grep -c 'via fd00:220::1[123] ')" -eq 3 ]
}

case_announce() {
	local n
	# Every node configured the same way, then each announces: one route, three next hops.
	wait_for 20 rt_is "$VIP4" 1 2 3 || die_case "route to $VIP4 via [$(rt_hops "$VIP4" | tr '\n' ' ')], wanted all 3 nodes"
	for n in $(seq "$LB_COUNT"); do
		in_ns "${LB_NS[$n]}" ip route show table 2001 proto 211 | grep -q "^blackhole $VIP4 " ||
			die_case "lb$n: no blackhole route for $VIP4 in table 2001"
		[ "$(node_ctl "$n" -j node show | json_get "[a['announced'] for a in j['addresses'] if a['address'] == '$VIP4'][0]")" = True ] ||
			die_case "lb$n: node show does not say $VIP4 is announced"
	done
	# IPv6 too: one route over the three nodes' IPv6 addresses.
	wait_for 10 rt6_has_3 || die_case "IPv6 route to $VIP6: $(in_rt ip -6 route show "$VIP6" | tr '\n' ' ')"
	in_rt birdc -s "$CLUSTER_DIR/bird-rt.ctl" show route "$VIP4/32" >"$IT_TMP/birdc.out"
	[ "$(grep -c 'via 10.220.0.1[123]' "$IT_TMP/birdc.out")" -ge 3 ] || die_case "BIRD on the router lacks a path: $(tr '\n' ' ' <"$IT_TMP/birdc.out")"
}

# udp_pass TAG N: the fixed flows of TAG through node N only; OUT: $IT_TMP/flows.TAG.N
udp_pass() {
	local tag=$1 n=$2 base=$3
	rt_pin "$n"
	# shellcheck disable=SC2086 # CL_SOURCES: one word per address
	in_client "$PY" "$IT_PY/cluster_udp.py" "$VIP4" 53 "$base" 16 $CL_SOURCES \
		>"$IT_TMP/flows.$tag.$n"
	rt_unpin
	[ "$(wc -l <"$IT_TMP/flows.$tag.$n")" -ge 1000 ] || die_case "$tag via lb$n: fewer than 1000 flows"
	if grep -q ' [-?]$' "$IT_TMP/flows.$tag.$n"; then
		die_case "$tag via lb$n: $(grep -c ' [-?]$' "$IT_TMP/flows.$tag.$n") flows unanswered"
	fi
}

# same_choice TAG BASE [FORBIDDEN]: 1024 flows through each node get the same backends; none
# gets backend FORBIDDEN.
same_choice() {
	local tag=$1 base=$2 forbidden=${3:-} n used
	for n in $(seq "$LB_COUNT"); do udp_pass "$tag" "$n" "$base"; done
	for n in 2 3; do
		cmp -s "$IT_TMP/flows.$tag.1" "$IT_TMP/flows.$tag.$n" ||
			die_case "$tag: lb1 and lb$n chose differently for $(diff "$IT_TMP/flows.$tag.1" "$IT_TMP/flows.$tag.$n" | grep -c '^<') flows"
	done
	used=$(awk '{print $2}' "$IT_TMP/flows.$tag.1" | sort | uniq -c | tr '\n' ' ')
	note "$tag: $used"
	if [ -n "$forbidden" ] && grep -q " $forbidden\$" "$IT_TMP/flows.$tag.1"; then
		die_case "$tag: flows went to $forbidden: $used"
	fi
	[ "$(awk '{print $2}' "$IT_TMP/flows.$tag.1" | sort -u | wc -l)" -ge 3 ] || die_case "$tag: flows on fewer than 3 backends: $used"
}

be_state_everywhere() {
	local n
	for n in $(seq "$LB_COUNT"); do
		[ "$(backend_states "$n")" = "$1" ] || return 1
	done
}

# node_fingerprints N: "VIP fingerprint" per VIP of node N, sorted; then its seed.
node_fingerprints() {
	node_ctl "$1" -j vip show | json_get "'\n'.join(sorted(v['vip'] + ' ' + v['fingerprint'] for v in j['vips']))"
	node_ctl "$1" -j config show | json_get "j['hash_seed']"
}

fingerprints_equal() {
	local n
	node_fingerprints 1 >"$IT_TMP/fp.1"
	for n in $(seq 2 "$LB_COUNT"); do
		node_fingerprints "$n" >"$IT_TMP/fp.$n"
		cmp -s "$IT_TMP/fp.1" "$IT_TMP/fp.$n" || return 1
	done
}

# lb1's export, applied to the two others: the same seed, the same tables; applied again, and
# on lb1 itself, it changes nothing.
case_config_apply() {
	local n
	cluster_restore
	for n in 2 3; do
		grep -q "hash-seed" "$IT_TMP/apply$n.out" || die_case "lb$n's apply did not set the seed: $(tr '\n' ' ' <"$IT_TMP/apply$n.out")"
	done
	wait_for 10 fingerprints_equal || die_case "fingerprints differ: lb1 $(tr '\n' ' ' <"$IT_TMP/fp.1") lb2 $(tr '\n' ' ' <"$IT_TMP/fp.2") lb3 $(tr '\n' ' ' <"$IT_TMP/fp.3")"
	grep -qx "$SEED" "$IT_TMP/fp.1" || die_case "lb1's seed is not $SEED: $(tail -n 1 "$IT_TMP/fp.1")"
	note "fingerprints: $(tr '\n' ' ' <"$IT_TMP/fp.1")"
	for n in $(seq "$LB_COUNT"); do
		node_ctl "$n" config apply "$IT_TMP/cluster.json" >"$IT_TMP/reapply.out" 2>&1 ||
			die_case "lb$n: apply again: $(cat "$IT_TMP/reapply.out")"
		grep -q "no changes" "$IT_TMP/reapply.out" || die_case "lb$n: the same file again changed something: $(tr '\n' ' ' <"$IT_TMP/reapply.out")"
	done
}

case_same_backend() {
	cluster_restore
	same_choice all_up 20000
	# One backend disabled (on every node: the same configuration).
	for n in $(seq "$LB_COUNT"); do node_ok "$n" backend set "$VIP_UDP" "${BE_IP4[2]}" disable; done
	wait_for 10 be_state_everywhere "up down up up" || die_case "be2 not down everywhere: $(backend_states 1)"
	same_choice be2_disabled 20100 be2
	for n in $(seq "$LB_COUNT"); do node_ok "$n" backend set "$VIP_UDP" "${BE_IP4[2]}" enable; done
	# One backend failing its check: each node finds out on its own.
	"$CLUSTER_SH" nginx "$CLUSTER" 3 stop
	wait_for 10 be_state_everywhere "up up down up" || die_case "be3 not down everywhere: $(backend_states 1)"
	same_choice be3_failing 20200 be3
	"$CLUSTER_SH" nginx "$CLUSTER" 3 start
	wait_for 10 be_state_everywhere "up up up up" || die_case "be3 not back everywhere: $(backend_states 1)"
	# One backend drained: new flows never go to it, on any node, and every node agrees.
	for n in $(seq "$LB_COUNT"); do node_ok "$n" backend set "$VIP_UDP" "${BE_IP4[4]}" drain; done
	wait_for 10 be_state_everywhere "up up up draining" || die_case "be4 not draining everywhere: $(backend_states 1)"
	same_choice be4_drained 20300 be4
	for n in $(seq "$LB_COUNT"); do node_ok "$n" backend set "$VIP_UDP" "${BE_IP4[4]}" enable; done
}

# A backend drained on every node keeps its connections, then those connections move to a node
# that never saw them (their nodes withdraw one after the other): a TCP packet without SYN is
# kept by the draining backend its ring slot names (docs/datapath.md), on every node alike. New
# connections meanwhile never reach it.
case_drain_then_move() {
	local bad on1 n
	cluster_restore
	long_start "$VIP4" 300 dmove
	on1=$(long_count_on dmove "${BE_NAME[1]}")
	[ "$on1" -gt 0 ] || die_case "no long connection on ${BE_NAME[1]} to drain"
	for n in $(seq "$LB_COUNT"); do node_ok "$n" backend set "$VIP_TCP" "${BE_IP4[1]}" drain; done
	t0=$(date +%s%3N)
	node_ok 1 node drain
	rt_wait "withdraw of lb1 (drained backend)" 10 2 3
	node_ok 2 node drain
	rt_wait "withdraw of lb2 (drained backend)" 10 3
	curl_many "$VIP4" 100 dmove "$IT_TMP/dmove.out"
	note "new connections with ${BE_NAME[1]} draining, all through lb3: $(spread "$IT_TMP/dmove.out")"
	[ "$(count_failed "$IT_TMP/dmove.out")" -eq 0 ] || die_case "$(count_failed "$IT_TMP/dmove.out") of 100 new connections failed"
	[ "$(count_backend "$IT_TMP/dmove.out" "${BE_NAME[1]}")" -eq 0 ] || die_case "new connections reached the draining ${BE_NAME[1]}"
	sleep 1 # the long connections' requests (every 0.1 s) run through lb3; nothing asserted on it
	long_stop dmove
	bad=$(awk '$4 != "ok"' "$IT_TMP/long.dmove/result" | wc -l)
	note "connections on ${BE_NAME[1]}: $on1, kept $(long_ok_on dmove "${BE_NAME[1]}")"
	[ "$(wc -l <"$IT_TMP/long.dmove/result")" -eq 300 ] || die_case "not 300 connection results"
	[ "$bad" -eq 0 ] || die_case "$bad of 300 connections broken ($(long_bad_on dmove "${BE_NAME[1]}") of them on the draining ${BE_NAME[1]}): $(awk '$4 != "ok"' "$IT_TMP/long.dmove/result" | head -n 3 | tr '\n' ' ')"
	# Those lb1 and lb2 carried reached lb3 without a flow entry there.
	n=$(node_ctl 3 -j stats show | json_get "j['counters'].get('drain_kept', 0)")
	note "lb3 drain_kept: $n"
	[ "$n" -gt 0 ] || die_case "lb3 kept no connection for the draining backend without an entry (drain_kept 0)"
}

# The same connections stay open while each way of leaving and joining happens in turn.
case_node_leave_join() {
	local bad t0
	cluster_restore
	long_start "$VIP4" 300 leave
	# 1. Maintenance.
	t0=$(date +%s%3N)
	node_ok 1 node drain
	rt_wait "withdraw after node drain" 10 2 3
	t0=$(date +%s%3N)
	node_ok 1 node undrain
	rt_wait "announce after node undrain" 10 1 2 3
	# 2. BIRD stopped, started again.
	t0=$(date +%s%3N)
	"$CLUSTER_SH" bird "$CLUSTER" lb2 stop
	rt_wait "withdraw after BIRD stop" 10 1 3
	t0=$(date +%s%3N)
	"$CLUSTER_SH" bird "$CLUSTER" lb2 start
	rt_wait "announce after BIRD start" 20 1 2 3
	# 3. xlbd detaches its program (and withdraws first), then starts again.
	t0=$(date +%s%3N)
	node_ctl 3 prog detach >/dev/null
	rt_wait "withdraw after prog detach" 10 1 2
	wait_gone "$(node_pid 3)" 10 || die_case "xlbd on lb3 did not exit after prog detach"
	t0=$(date +%s%3N)
	node_start 3 || die_case "xlbd on lb3 did not start again"
	rt_wait "announce after xlbd start" 10 1 2 3
	# 4. The node's link goes down (BFD sees it), then up.
	t0=$(date +%s%3N)
	in_ns "${LB_NS[1]}" ip link set "${LB_IF[1]}" down
	rt_wait "withdraw after link down" 10 2 3
	t0=$(date +%s%3N)
	in_ns "${LB_NS[1]}" ip link set "${LB_IF[1]}" up
	rt_wait "announce after link up" 20 1 2 3
	long_stop leave
	bad=$(awk '$4 != "ok"' "$IT_TMP/long.leave/result" | wc -l)
	[ "$(wc -l <"$IT_TMP/long.leave/result")" -eq 300 ] || die_case "not 300 connection results"
	[ "$bad" -eq 0 ] || die_case "$bad of 300 connections broken: $(awk '$4 != "ok"' "$IT_TMP/long.leave/result" | head -n 3 | tr '\n' ' ')"
}

case_all_unusable_withdraws() {
	local t0 n b
	cluster_restore
	# Every backend disabled on lb2 only: lb2 can serve nothing and must withdraw.
	t0=$(date +%s%3N)
	for vip in "$VIP_TCP" "$VIP_UDP"; do
		for b in $(seq "$BE_COUNT"); do node_ok 2 backend set "$vip" "${BE_IP4[$b]}" disable; done
	done
	rt_wait "withdraw after every backend disabled" 10 1 3
	curl_many "$VIP4" 300 unusable "$IT_TMP/unusable.out"
	n=$(count_failed "$IT_TMP/unusable.out")
	note "new connections with lb2 withdrawn: $(spread "$IT_TMP/unusable.out"), failed $n"
	[ "$n" -eq 0 ] || die_case "$n of 300 new connections failed after lb2 withdrew"
	t0=$(date +%s%3N)
	node_ok 2 backend set "$VIP_TCP" "${BE_IP4[1]}" enable
	rt_wait "announce after one backend enabled" 10 1 2 3
	node_ctl 2 -j node show | grep -q '"reason": *"usable backend"' || true
}

case_restart_keeps_routes() {
	local mon pid
	cluster_restore
	nsenter --net="/run/netns/$RT_NS" -- ip monitor route >"$IT_TMP/monitor.out" 2>&1 &
	mon=$!
	track $mon
	sleep 0.2 # only so the monitor is subscribed; nothing is asserted on this time
	node_stop 2
	# While it is away: a stale route of ours (an address no longer configured) and a route of
	# someone else's in the same table. The start removes the first, never the second.
	in_ns "${LB_NS[2]}" ip route add blackhole 10.99.0.1 table 2001 proto 211
	in_ns "${LB_NS[2]}" ip route add blackhole 10.99.0.2 table 2001 proto static
	node_start 2 || die_case "xlbd on lb2 did not start again"
	# Its own three: VIP4's, VIP6's and the stale one.
	grep -q 'msg="route table read" table=2001 routes=3' "$IT_TMP/xlbd2.log" || die_case "lb2's new xlbd did not find its 3 routes"
	in_ns "${LB_NS[2]}" ip route show table 2001 >"$IT_TMP/table2001"
	grep -q '^blackhole 10.99.0.1' "$IT_TMP/table2001" && die_case "lb2 kept a stale route of its own: $(tr '\n' ' ' <"$IT_TMP/table2001")"
	grep -q '^blackhole 10.99.0.2' "$IT_TMP/table2001" || die_case "lb2 removed a route not of its protocol"
	in_ns "${LB_NS[2]}" ip route del blackhole 10.99.0.2 table 2001 proto static
	node_ctl 2 -j node show | grep -q '"announced": *true' || die_case "lb2: not announced after the restart"
	# The monitor works: a drain shows at the router. Before it, no line about the VIP.
	cp "$IT_TMP/monitor.out" "$IT_TMP/monitor.restart"
	node_ok 2 node drain
	wait_for 10 grep -q "$VIP4" "$IT_TMP/monitor.out" || die_case "the route monitor saw no withdraw of lb2's drain"
	node_ok 2 node undrain
	if grep -q "$VIP4" "$IT_TMP/monitor.restart"; then
		die_case "the router's route changed during lb2's xlbd restart: $(grep "$VIP4" "$IT_TMP/monitor.restart" | head -n 2 | tr '\n' ' ')"
	fi
	if tail -n 30 "$IT_TMP/xlbd2.log" | grep "msg=withdraw address=$VIP4 " | grep -qv 'node drain'; then
		die_case "lb2 withdrew $VIP4 at its restart"
	fi
	grep -q 'msg=withdraw address=10.99.0.1 .*reason="start: not configured"' "$IT_TMP/xlbd2.log" ||
		die_case "lb2 did not log the stale route's withdraw"
}

cluster_setup
run_case cluster_announce case_announce
run_case cluster_config_apply case_config_apply
run_case cluster_same_backend case_same_backend
run_case cluster_drain_then_move case_drain_then_move
run_case cluster_node_leave_join case_node_leave_join
run_case cluster_all_unusable_withdraws case_all_unusable_withdraws
run_case cluster_restart_keeps_routes case_restart_keeps_routes
it_finish
