#!/bin/bash
# test_health.sh - health checks and the circuit breaker against real failures: a backend's nginx
# killed under load, its link cut, a flapping backend, HTTP 500, a closed UDP port, drain with
# checks on, passive outlier detection (SYNs to the VIP dropped on one backend), and xlbd
# restarted while be2 is dead; without checks, be2 down while its neighbour entry fails.
# Three backends; be2 is the one that fails. xlbd's log (logfmt, one line per circuit transition)
# is read back to time and order the transitions.
# Usage: tests/integration/test_health.sh BUILD_DIR
#
# Numbers the policy allows (asserted with the slack stated, never tighter):
# - failover: a failure is seen by the first check after it (at most one interval later) and the
#   circuit opens on the fall-th failed check; a check ends within its timeout, which is shorter
#   than the interval. So kill -> circuit open <= interval * (fall + 1); the data plane stops
#   sending new flows to the backend when the circuit opens. SLACK_MS covers scheduling on a
#   busy 2-CPU machine (client loops, nginx, xlbd and the checks share it). Measured: the
#   opening's log time, and the start of the last request that failed or went to be2 (a slow
#   connect: its first SYN was lost), each minus the failure's time; printed as a "# failover"
#   line on stderr.
# - flapping: the number of openings and their back-offs (derived at case_flapping).
# Nothing else is timed: every other wait has a timeout and asserts only what happened.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 3

V4="$VIP4:80/tcp"
U4="$VIP4:53/udp"
INTERVAL_MS=200
FALL=3
RISE=2
SLACK_MS=400
FAILOVER_BOUND_MS=$((INTERVAL_MS * (FALL + 1) + SLACK_MS))
# The check of most cases: fast enough that a case takes seconds.
CHECK=(check http path / interval "${INTERVAL_MS}ms" timeout 100ms rise "$RISE" fall "$FALL"
	backoff 1s backoff-max 8s slow-start 2s)
# Weights 10 so that slow start shows (the ramp moves in tenths of the weight).
WEIGHT=10
# Client loops (new connections back to back) under the failover cases, and the rate of new
# connections a second of the open loop beside them.
LOOPS=2
OLOOP_RATE=40

# ---- helpers ---------------------------------------------------------------------------------

# Every case draws the client's ports from a range of its own. A new connection that reuses the
# 5-tuple of a finished flow still in the flow table stays on that flow's backend even when it
# drains (the data plane keeps a closed flow's backend for a new SYN on it), and ids are reused
# when a case re-creates the VIP: a later case would then see flows of an earlier one.
fresh_ports() {
	local n
	n=$(cat "$IT_TMP/ports.n" 2>/dev/null || echo 0)
	echo $((n + 1)) >"$IT_TMP/ports.n"
	in_client sysctl -qw net.ipv4.ip_local_port_range="$((10000 + n % 12 * 4000)) $((13999 + n % 12 * 4000))"
}

# be2 as the topology built it, whatever a failed case left behind: nginx running, link up, no
# nft rule. Each step is a no-op when there is nothing to repair.
be2_restore() {
	neigh_fast off
	in_ns "$LB_NS" ip neigh replace "${BE_IP4[2]}" lladdr "${BE_MAC[2]}" dev "$LB_IF" nud permanent
	in_ns "${BE_NS[2]}" ip link set eth0 up
	in_ns "${BE_NS[2]}" nft delete table inet xlbtest >/dev/null 2>&1 || true
	"$TOPO_SH" nginx "$IT_TOPO" 2 start >/dev/null 2>&1 || true # fails if it runs: fine
}

# neigh_fast on|off: the LB's neighbour timers on its interface short (an entry stale within a
# second, failed about 2 s after; neighbour_unreachable) or back to the kernel's defaults.
NEIGH_SYSCTLS=(base_reachable_time_ms delay_first_probe_time retrans_time_ms)
NEIGH_FAST=(500 1 200)
neigh_fast() {
	local i v
	for i in "${!NEIGH_SYSCTLS[@]}"; do
		if [ "$1" = on ]; then
			[ -e "$IT_TMP/neigh.${NEIGH_SYSCTLS[$i]}" ] ||
				in_ns "$LB_NS" sysctl -n "net.ipv4.neigh.$LB_IF.${NEIGH_SYSCTLS[$i]}" >"$IT_TMP/neigh.${NEIGH_SYSCTLS[$i]}"
			v=${NEIGH_FAST[$i]}
		else
			[ -e "$IT_TMP/neigh.${NEIGH_SYSCTLS[$i]}" ] || continue
			v=$(cat "$IT_TMP/neigh.${NEIGH_SYSCTLS[$i]}")
			rm -f "$IT_TMP/neigh.${NEIGH_SYSCTLS[$i]}"
		fi
		in_ns "$LB_NS" sysctl -qw "net.ipv4.neigh.$LB_IF.${NEIGH_SYSCTLS[$i]}=$v"
	done
}

# lb_neigh_unconfirmed ADDR: the LB's neighbour entry of ADDR awaits confirmation.
lb_neigh_unconfirmed() { in_ns "$LB_NS" ip neigh show "$1" dev "$LB_IF" | grep -qwE 'STALE|DELAY|PROBE'; }

# A fresh VIP with backends 1..3 at WEIGHT, then the check ARGS. Backends that serve when
# checks are switched on start closed (trusted), so the case starts at full weight.
reset_vip() {
	be2_restore
	fresh_ports
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 1:$WEIGHT 2:$WEIGHT 3:$WEIGHT
	xlbctl_ok vip set "$V4" "$@"
	wait_for 5 all_backends_up "$V4" || die_case "backends not up once checks are on: $(xlbctl backend show "$V4" 2>&1 | tr '\n' ' ')"
}

# Lines of xlbd's log so far: transitions after this mark belong to the caller.
log_mark() { wc -l <"$IT_TMP/xlbd.log"; }

# transitions MARK VIP BACKEND: the circuit transitions of BACKEND of VIP logged after MARK, one
# a line: "EPOCH_SECONDS TO FROM BACKOFF_MS REASON..." (logfmt parsed by transitions.py).
transitions() {
	tail -n "+$(($1 + 1))" "$IT_TMP/xlbd.log" | "$PY" "$IT_PY/transitions.py" "$2" "$3"
}

# has_transition MARK VIP BACKEND TO: BACKEND's circuit went to TO after MARK.
has_transition() {
	transitions "$1" "$2" "$3" | awk -v to="$4" '$2 == to {f = 1} END {exit !f}'
}

# first_transition MARK VIP BACKEND TO: the time (epoch seconds) of the first such transition.
first_transition() {
	transitions "$1" "$2" "$3" | awk -v to="$4" '$2 == to {print $1; exit}'
}

# be_json VIP ADDRESS: the backend's object from `backend show`: one snapshot, so that the
# fields checked together belong together.
be_json() {
	xlbctl -j backend show "$1" | json_get "[b for b in j['backends'] if b['address'] == '$2'][0]"
}
# jf JSON EXPR: a Python expression over JSON (bound to `j`).
jf() { echo "$1" | json_get "$2"; }
# One line for messages: "down reason=circuit open circuit=open health=fail error=... eff=0".
summary() {
	jf "$1" "'%s reason=%s circuit=%s health=%s error=%s eff=%s' % (j['state'], j.get('reason'), j.get('circuit'), j.get('health'), j.get('last_check', {}).get('error'), j.get('effective_weight'))"
}

# tloop_start TAG OUT [CONNECT_TIMEOUT]: like lib.sh's curl_loop_start (new connections back to
# back until tloop_stop TAG), but every line carries times: "START END CODE BACKEND PORT
# CONNECT_S": START and END in epoch seconds (bash's EPOCHREALTIME), CONNECT_S curl's
# time_connect (about 1 s or more when the first SYN went unanswered and was retransmitted).
tloop_start() {
	local tag=$1 out=$2 ct=${3:-2} url
	url=$(vip_url "$VIP4")
	: >"$out"
	rm -f "$IT_TMP/tloop.$tag.stop"
	# C locale: EPOCHREALTIME's decimal point must be a dot. Expanded by the inner bash:
	# shellcheck disable=SC2016
	in_client env LC_ALL=C bash -c '
		n=0
		while [ ! -e "$1" ]; do
			n=$((n + 1))
			t0=$EPOCHREALTIME
			r=$(curl -s --connect-timeout "$4" -m $(($4 + 3)) -o /dev/null -H "Connection: close" \
				-w "%{http_code},%header{x-backend},%{local_port},%{time_connect}" "$2/?t=$3&n=$n")
			IFS=, read -r code be port tc <<<"$r"
			echo "$t0 $EPOCHREALTIME ${code:-000} ${be:--} ${port:-0} ${tc:-0}"
		done' tloop "$IT_TMP/tloop.$tag.stop" "$url" "$tag" "$ct" >>"$out" 2>/dev/null &
	track $!
	echo $! >"$IT_TMP/tloop.$tag.pid"
}

tloop_stop() {
	touch "$IT_TMP/tloop.$1.stop"
	wait_gone "$(cat "$IT_TMP/tloop.$1.pid")" 15 || die_case "client loop $1 did not stop"
}

# oloop_start TAG RATE CONNECT_TIMEOUT: new connections at a steady RATE a second, whatever
# happens to earlier ones (an open loop: a connection stalled on a dead backend delays nothing),
# until oloop_stop TAG; each sends one HTTP request. oloop_stop writes $IT_TMP/oloop.TAG.out,
# lines as tloop's.
oloop_start() {
	rm -f "$IT_TMP/oloop.$1.stop" "$IT_TMP/oloop.$1.out"
	in_client "$PY" "$IT_PY/oloop.py" "$VIP4" "$2" "$3" "$IT_TMP/oloop.$1.stop" "$IT_TMP/oloop.$1.out" \
		2>"$IT_TMP/oloop.$1.err" &
	track $!
	echo $! >"$IT_TMP/oloop.$1.pid"
}

# oloop_stop TAG: no new connection; waits for the running ones (up to their timeouts).
oloop_stop() {
	touch "$IT_TMP/oloop.$1.stop"
	wait_for 15 test -e "$IT_TMP/oloop.$1.out" ||
		die_case "open-loop client $1 did not finish: $(tail -n 2 "$IT_TMP/oloop.$1.err")"
	wait_gone "$(cat "$IT_TMP/oloop.$1.pid")" 5 || true
}

# Over a timed output (tloop or oloop): requests started in [FROM, TO) (epoch seconds)...
# ...all of them
t_count() { awk -v a="$2" -v z="$3" '$1 >= a && $1 < z' "$1" | wc -l; }
# ...that failed
t_failed() { awk -v a="$2" -v z="$3" '$1 >= a && $1 < z && $3 != 200' "$1" | wc -l; }
# ...answered by backend NAME
t_on() { awk -v a="$2" -v z="$3" -v b="$4" '$1 >= a && $1 < z && $3 == 200 && $4 == b' "$1" | wc -l; }
# The start of the last request "to be2" that was still running at FROM or started after it,
# before TO: failed, answered by NAME, or slow to connect (>= 0.9 s: its first SYN went
# unanswered and was retransmitted 1 s later).
t_last_hit() {
	awk -v a="$2" -v z="$3" -v b="$4" '$2 >= a && $1 < z && ($3 != 200 || $4 == b || $6 >= 0.9) {
		l = $1 } END { printf "%.3f\n", l ? l : a }' "$1"
}
# Seconds from A to B, 2 decimals; milliseconds from A to B.
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f\n", b - a}'; }
msecs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%d\n", (b - a) * 1000}'; }

# be_is INDEX FIELD VALUE: backend INDEX of the TCP VIP shows FIELD = VALUE now.
be_is() { [ "$(backend_field "$V4" "${BE_IP4[$1]}" "$2")" = "$3" ]; }

# Backend INDEX of the TCP VIP right now, as summary's one line.
be_summary() { summary "$(be_json "$V4" "${BE_IP4[$1]}")"; }

# failover_case TAG FAIL_CMD RECOVER_CMD EXPECTED_ERROR: the shared body of kill_backend_under_load
# and link_down. Under client load, FAIL_CMD breaks be2; measures and checks the failover; then
# RECOVER_CMD repairs be2, which must come back through half-open and rise passing checks, ramp
# up over slow start and get new connections again. Not one request may fail outside the window
# between the failure and the circuit opening.
failover_case() {
	local tag=$1 fail_cmd=$2 recover_cmd=$3 want_err=$4
	local out=$IT_TMP/$tag.loop mark tk topen tlast trec tclosed tfull seq nfail nbad n j s k be2=${BE_IP4[2]}
	reset_vip "${CHECK[@]}"
	# LOOPS client loops side by side, and an open loop at OLOOP_RATE: a closed loop stalled on
	# be2 (link down: 1 s until the SYN is retransmitted) sends nothing meanwhile; the open loop
	# keeps probing where new connections go.
	for k in $(seq $LOOPS); do
		tloop_start "$tag.$k" "$out.$k" 2
	done
	oloop_start "$tag" $OLOOP_RATE 2
	sleep 1
	sort -n "$out".* >"$out"
	[ "$(t_on "$out" 0 9e9 be2)" -gt 0 ] || die_case "be2 got no request before the failure: $(awk '{print $3, $4}' "$out" | sort | uniq -c | tr '\n' ' ')"
	mark=$(log_mark)
	tk=$EPOCHREALTIME
	$fail_cmd
	note "$tag: failure at $tk ($fail_cmd)"
	wait_for 5 has_transition "$mark" "$V4" "$be2" open ||
		die_case "be2's circuit did not open within 5 s: $(be_summary 2)"
	topen=$(first_transition "$mark" "$V4" "$be2" open)
	# While open: down in the data plane, the reason and the failed check visible.
	j=$(be_json "$V4" "$be2")
	s=$(summary "$j")
	note "be2 while open: $s"
	[ "$(jf "$j" "j['state']")" = down ] || die_case "be2 not down while its circuit is open: $s"
	[ "$(jf "$j" "j['reason']")" = "circuit open" ] || die_case "be2's reason is not 'circuit open': $s"
	[ "$(jf "$j" "j['health']")" = fail ] || die_case "be2's health is not fail: $s"
	case $(jf "$j" "j['last_check']['error']") in
	*"$want_err"*) ;;
	*) die_case "be2's last check error does not say '$want_err': $s" ;;
	esac
	sleep 1.5 # failed-over traffic
	trec=$EPOCHREALTIME
	$recover_cmd
	note "$tag: repaired at $trec ($recover_cmd)"
	# Back-off (1 s, 2 s if a trial failed while broken, ...) then rise passes.
	wait_for 12 has_transition "$mark" "$V4" "$be2" closed ||
		die_case "be2's circuit did not close within 12 s of the repair: $(be_summary 2); transitions: $(transitions "$mark" "$V4" "$be2" | awk '{print $2}' | tr '\n' ' ')"
	tclosed=$(first_transition "$mark" "$V4" "$be2" closed)
	# Open, possibly failed trials while still broken, then a trial that passed, then closed.
	seq=$(transitions "$mark" "$V4" "$be2" | awk '{print $2}' | tr '\n' ' ')
	[[ "$seq " =~ ^open\ (half-open\ open\ )*half-open\ closed\  ]] ||
		die_case "be2's transitions are not open, [half-open, open]..., half-open, closed: $seq"
	# Slow start: the effective weight ramps up to the weight.
	local ramp="" w
	for _ in $(seq 60); do
		w=$(jf "$(be_json "$V4" "$be2")" "j['effective_weight']")
		[ "${ramp##* }" = "$w" ] || ramp+=" $w"
		[ "$w" -lt $WEIGHT ] || break
		sleep 0.1
	done
	[ "$w" -eq $WEIGHT ] || die_case "be2's effective weight is $w 6 s after it came back (weight $WEIGHT)"
	tfull=$EPOCHREALTIME
	note "be2 effective weight after closing:$ramp"
	sleep 1
	for k in $(seq $LOOPS); do
		tloop_stop "$tag.$k"
	done
	oloop_stop "$tag"
	sort -n "$out".* "$IT_TMP/oloop.$tag.out" >"$out"
	n=$(wc -l <"$out")
	tlast=$(t_last_hit "$out" "$tk" "$trec" be2)
	nfail=$(t_failed "$out" 0 9e9)
	# The failover window: from requests still running at the failure to those started SLACK_MS
	# after the opening (the maps are written just after the line is logged: a request started
	# then may still have been steered to be2). Before it (ended before the failure) and after
	# it, none may fail.
	nbad=$(($(awk -v a="$tk" '$2 < a && $3 != 200' "$out" | wc -l) + $(t_failed "$out" "$(awk -v t="$topen" -v s=$SLACK_MS 'BEGIN {printf "%.3f", t + s / 1000}')" 9e9)))
	local msg
	msg="failover ($tag): kill->circuit open $(secs "$tk" "$topen")s, kill->last request to be2 $(secs "$tk" "$tlast")s, failed requests $nfail ($([ "$nbad" -eq 0 ] && [ "$nfail" -gt 0 ] && echo all || echo $((nfail - nbad))) to be2), failed on healthy backends $nbad; requests $n; back: repair->closed $(secs "$trec" "$tclosed")s, slow start$ramp"
	echo "# $msg" >&2
	note "$msg"
	note "transitions: $(transitions "$mark" "$V4" "$be2" | awk '{printf "%s(%s) ", $2, $4}')"
	[ "$n" -ge 50 ] || die_case "the client loop made only $n requests"
	[ "$(msecs "$tk" "$topen")" -le $FAILOVER_BOUND_MS ] ||
		die_case "circuit opened $(secs "$tk" "$topen") s after the failure; the policy allows ${INTERVAL_MS}ms*($FALL+1) + ${SLACK_MS}ms slack"
	[ "$(msecs "$tk" "$tlast")" -le $FAILOVER_BOUND_MS ] ||
		die_case "requests still reached be2 $(secs "$tk" "$tlast") s after the failure (bound ${FAILOVER_BOUND_MS} ms)"
	[ "$nbad" -eq 0 ] ||
		die_case "$nbad request(s) failed outside the failover window: $(awk -v a="$tk" '$3 != 200 {printf "%.3f ", $1 - a}' "$out")(s after the failure)"
	[ "$(t_on "$out" "$tfull" 9e9 be2)" -gt 0 ] ||
		die_case "be2 got no new connection after slow start: $(awk -v a="$tfull" '$1 >= a' "$out" | awk '{print $4}' | sort | uniq -c | tr '\n' ' ')"
}

# restart_case TAG FALL: be2's nginx is dead and its circuit open; xlbd restarts under a client
# loop (checks every INTERVAL_MS, fall FALL). The new xlbd must take be2's circuit from the maps
# (down: it starts half-open, not closed), and time no check across its start-up (with fall 1 a
# check timed across it opened every circuit): not one request may fail, none may reach be2,
# and no circuit of be1 or be3 may open.
restart_case() {
	local tag=$1 fall=$2 out=$IT_TMP/$1.loop mark t0 t1 n nfail nbe2 k opened="" msg
	xlbctl_ok vip set "$V4" fall "$fall"
	be2_nginx_stop
	wait_for 5 be_is 2 circuit open ||
		die_case "be2's circuit did not open once its nginx stopped: $(be_summary 2)"
	for k in $(seq $LOOPS); do
		tloop_start "$tag.$k" "$out.$k" 2
	done
	sleep 0.5
	mark=$(log_mark)
	t0=$EPOCHREALTIME
	xlbd_stop
	xlbd_start || die_case "xlbd did not start again"
	sleep 2 # several checks of every backend after the start
	t1=$EPOCHREALTIME
	for k in $(seq $LOOPS); do
		tloop_stop "$tag.$k"
	done
	sort -n "$out".* >"$out"
	n=$(t_count "$out" "$t0" "$t1")
	nfail=$(t_failed "$out" "$t0" "$t1")
	nbe2=$(t_on "$out" "$t0" "$t1" be2)
	for k in 1 3; do
		! has_transition "$mark" "$V4" "${BE_IP4[$k]}" open || opened+=" ${BE_NAME[$k]}"
	done
	msg="restart ($tag, fall $fall, be2 dead): requests $n, failed $nfail, to be2 $nbe2, circuits opened on healthy backends:${opened:- none}; be2 after the start: $(transitions "$mark" "$V4" "${BE_IP4[2]}" | awk '{printf "%s(%s) ", $2, $5}')"
	echo "# $msg" >&2
	note "$msg"
	[ "$n" -ge 20 ] || die_case "the client loops made only $n requests across the restart"
	[ -z "$opened" ] || die_case "a healthy backend's circuit opened after the restart:$opened"
	[ "$nfail" -eq 0 ] || die_case "$nfail of $n requests failed across the restart (be2 dead: its circuit must stay open)"
	[ "$nbe2" -eq 0 ] || die_case "$nbe2 requests reached be2"
	be_is 2 state down || die_case "be2 is not down after the restart: $(be_summary 2)"
}

# ---- cases -----------------------------------------------------------------------------------

be2_nginx_stop() { "$TOPO_SH" nginx "$IT_TOPO" 2 stop; }
be2_nginx_start() { "$TOPO_SH" nginx "$IT_TOPO" 2 start; }
be2_link_down() { in_ns "${BE_NS[2]}" ip link set eth0 down; }
be2_link_up() { in_ns "${BE_NS[2]}" ip link set eth0 up; }

# be2's nginx stops under a client loop: its kernel refuses the connections (and the checks)
# until the circuit opens; then nothing goes to be2 and nothing fails.
case_kill_backend_under_load() {
	failover_case kill be2_nginx_stop be2_nginx_start "Connection refused"
}

# be2's link goes down: checks time out, clients' SYNs to be2 go unanswered and their
# retransmissions (1 s later) are re-steered once the circuit is open.
case_link_down() {
	# Keep be2's IPv6 address across the link flap (the default flushes it), as a real one would.
	in_ns "${BE_NS[2]}" sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
	failover_case link be2_link_down be2_link_up timeout
}

# be2's nginx goes down for 1.5 s and up for 1.5 s, five times. Every opening of a circuit that
# was closed for less than backoff-max, or of a failed trial, doubles the back-off: a closed
# period here is at most an up phase plus the detection (~2.3 s < backoff-max 4 s), so the
# openings carry exactly 1000, 2000, 4000, 4000... ms.
# Bound on openings: the first comes after the first kill; each later one at least the previous
# back-off after it (the circuit stays open that long). So within a window of W seconds from the
# first kill, openings n satisfy 1 + 2 + 4 + 4 + ... (n-1 terms) <= W: for W = 15 s, n <= 6
# (a back-off that never grew, 1 s, would allow 16). The script computes the bound from the
# measured window and checks every gap too.
case_flapping() {
	local mark t0 tend i ops bound gaps be2=${BE_IP4[2]}
	reset_vip check http path / interval "${INTERVAL_MS}ms" timeout 100ms rise $RISE fall $FALL \
		backoff 1s backoff-max 4s slow-start 0
	mark=$(log_mark)
	t0=$EPOCHREALTIME
	for i in 1 2 3 4 5; do
		be2_nginx_stop
		sleep 1.5
		be2_nginx_start
		sleep 1.5
	done
	tend=$EPOCHREALTIME
	ops=$(transitions "$mark" "$V4" "$be2" | awk -v z="$tend" '$2 == "open" && $1 < z {print $4}' | tr '\n' ' ')
	note "openings in $(secs "$t0" "$tend") s, back-offs: $ops"
	note "transitions: $(transitions "$mark" "$V4" "$be2" | awk -v a="$t0" '{printf "%.2f:%s(%s) ", $1 - a, $2, $4}')"
	bound=$(awk -v w="$(msecs "$t0" "$tend")" 'BEGIN {
		n = 1; s = 0; b = 1000
		while (s + b <= w) { s += b; n++; b = b * 2 > 4000 ? 4000 : b * 2 }
		print n }')
	echo "# flapping: $(echo "$ops" | wc -w) openings in $(secs "$t0" "$tend") s (policy bound $bound), back-offs ms: $ops" >&2
	[ "$(echo "$ops" | wc -w)" -ge 3 ] || die_case "only $(echo "$ops" | wc -w) openings in 5 down phases: $ops"
	[ "$(echo "$ops" | wc -w)" -le "$bound" ] || die_case "$(echo "$ops" | wc -w) openings, more than the $bound the policy allows: $ops"
	[[ "$ops" =~ ^1000\ 2000\ 4000\ (4000\ )*$ ]] || die_case "back-offs are not 1000, 2000, 4000 (then 4000 at the cap): $ops"
	# Every opening at least the previous back-off after the previous opening (10 ms: the log
	# stamps wall-clock milliseconds, the breaker runs on the monotonic clock).
	gaps=$(transitions "$mark" "$V4" "$be2" | awk '$2 == "open" {
		if (p && ($1 - p) * 1000 < b - 10) printf "%.3f s after one with back-off %d ms; ", $1 - p, b
		p = $1; b = $4 }')
	[ -z "$gaps" ] || die_case "an opening came sooner than the back-off: $gaps"
	# nginx is up now: be2 comes back (at most 4 s open, then rise passes).
	wait_for 8 all_backends_up "$V4" || die_case "be2 not back 8 s after the flapping stopped: $(be_summary 2)"
}

# A check on a path that answers 500: every circuit opens, the error is the status; the good path
# again: every backend comes back and serves.
case_http_500() {
	local out=$IT_TMP/h500.out mark i j s
	reset_vip check http path / interval "${INTERVAL_MS}ms" timeout 100ms rise $RISE fall $FALL \
		backoff 2s backoff-max 8s slow-start 0
	mark=$(log_mark)
	xlbctl_ok vip set "$V4" path /status500
	for i in 1 2 3; do
		wait_for 5 has_transition "$mark" "$V4" "${BE_IP4[$i]}" open ||
			die_case "${BE_NAME[$i]}'s circuit did not open on HTTP 500: $(be_summary "$i")"
	done
	for i in 1 2 3; do
		j=$(be_json "$V4" "${BE_IP4[$i]}")
		s=$(summary "$j")
		note "${BE_NAME[$i]} on /status500: $s"
		[ "$(jf "$j" "j['state']")" = down ] || die_case "${BE_NAME[$i]} not down: $s"
		[ "$(jf "$j" "j['last_check']['error']")" = "http status 500" ] ||
			die_case "${BE_NAME[$i]}'s last check error is not 'http status 500': $s"
		transitions "$mark" "$V4" "${BE_IP4[$i]}" | grep -q ' open closed [0-9]* http status 500$' ||
			die_case "${BE_NAME[$i]}: no 'circuit open' log line with reason 'http status 500': $(transitions "$mark" "$V4" "${BE_IP4[$i]}" | head -n 2 | tr '\n' ' ')"
	done
	xlbctl_ok vip set "$V4" path /
	wait_for 8 all_backends_up "$V4" || die_case "backends not back on the good path: $(be_summary 1) / $(be_summary 2) / $(be_summary 3)"
	curl_many "$VIP4" 90 h500 "$out"
	note "after: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 requests failed after recovery"
	for i in 1 2 3; do
		[ "$(count_backend "$out" "${BE_NAME[$i]}")" -gt 0 ] || die_case "${BE_NAME[$i]} serves nothing after recovery: $(spread "$out")"
	done
}

# Per-backend check settings: be2 alone checks a path that answers 500 (its own settings
# override the VIP's): only be2's circuit opens; check-default puts it back on the VIP's path.
case_backend_own_check() {
	local mark i j
	reset_vip check http path / interval "${INTERVAL_MS}ms" timeout 100ms rise $RISE fall $FALL \
		backoff 1s backoff-max 4s slow-start 0
	mark=$(log_mark)
	xlbctl_ok backend set "$V4" "${BE_IP4[2]}" path /status500
	wait_for 5 has_transition "$mark" "$V4" "${BE_IP4[2]}" open ||
		die_case "be2's circuit did not open on its own check: $(be_summary 2)"
	j=$(be_json "$V4" "${BE_IP4[2]}")
	[ "$(jf "$j" "j['check']['path']")" = /status500 ] || die_case "be2 shows no own check: $j"
	[ "$(jf "$j" "j['check']['interval_ms']")" = "$INTERVAL_MS" ] || die_case "VIP's interval not inherited: $j"
	sleep 1
	for i in 1 3; do
		j=$(be_json "$V4" "${BE_IP4[$i]}")
		[ "$(jf "$j" "j['circuit']")" = closed ] || die_case "${BE_NAME[$i]} affected by be2's check: $(summary "$j")"
	done
	xlbctl_ok backend set "$V4" "${BE_IP4[2]}" check-default
	wait_for 8 all_backends_up "$V4" || die_case "be2 not back on the VIP's check: $(be_summary 2)"
	j=$(be_json "$V4" "${BE_IP4[2]}")
	[ "$(jf "$j" "'check' in j")" = False ] || die_case "be2 still has its own check: $j"
}

# xlbd restarts while be2 is dead: its circuit stays open across the restart,
# and the first checks after the start are not timed across start-up. Twice: fall 3 (a closed
# circuit would send be2 new connections until three checks failed) and fall 1 (a check timed
# across start-up would open a healthy backend's circuit).
case_restart_keeps_health() {
	local i
	reset_vip check http path / interval "${INTERVAL_MS}ms" timeout 100ms rise $RISE fall $FALL \
		backoff 1s backoff-max 8s slow-start 0
	restart_case restart3 "$FALL"
	# Start-up long enough to matter: every VIP's table is published before the loop runs.
	for i in $(seq 20 59); do
		xlbctl_ok vip add "10.211.0.$i:80/tcp"
		xlbctl_ok backend add "10.211.0.$i:80/tcp" "${BE_IP4[1]}"
	done
	restart_case restart1 1
	for i in $(seq 20 59); do
		xlbctl_ok vip del "10.211.0.$i:80/tcp"
	done
	be2_nginx_start
	wait_for 8 all_backends_up "$V4" || die_case "be2 not back once its nginx runs: $(be_summary 2)"
}

# Without health checks: be2's link goes down, so its neighbour entry on
# the LB fails (xlbd solicits it once stale: the data plane's traffic never makes the kernel
# check it). be2 must go down, "neighbour unreachable", and new connections avoid it; once the
# link is back, the neighbour answers and be2 is up again. The LB's neighbour timers are made
# short for the case (neigh_fast): with the kernel's defaults the same takes up to a minute.
case_neighbour_unreachable() {
	local out=$IT_TMP/neigh.out
	reset_vip check none
	neigh_fast on
	# topo.sh made the LB's neighbour entries permanent: be2's becomes a learned one, left
	# stale: with no traffic of the LB's own to be2 (the data plane's is not the kernel's),
	# nothing but xlbd makes the kernel check it again.
	in_ns "$LB_NS" ip neigh replace "${BE_IP4[2]}" lladdr "${BE_MAC[2]}" dev "$LB_IF" nud stale
	# xlbd solicits a stale entry each second, which moves it on to DELAY and PROBE: any of
	# the three is an entry the kernel has not confirmed since.
	wait_for 5 lb_neigh_unconfirmed "${BE_IP4[2]}" || die_case "be2's neighbour entry not stale: $(in_ns "$LB_NS" ip neigh show "${BE_IP4[2]}" dev "$LB_IF")"
	be_is 2 state up || die_case "be2 not up before its link goes down: $(be_summary 2)"
	be2_link_down
	wait_for 15 be_is 2 reason "neighbour unreachable" ||
		die_case "be2 not down for its neighbour 15 s after its link went down: $(be_summary 2)"
	be_is 2 state down || die_case "be2 not down: $(be_summary 2)"
	curl_many "$VIP4" 60 neigh "$out"
	note "be2 unreachable: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 60 requests failed while be2 was down"
	be2_link_up
	wait_for 15 be_is 2 state up || die_case "be2 not up 15 s after its link came back: $(be_summary 2)"
	be2_restore
}

# The client asks VIP:53/udp COUNT times, each from a new socket (a new flow); prints the
# answers one a line ("timeout" for none).
udp_ask() {
	in_client "$PY" "$IT_PY/udp_ask.py" "$VIP4" "$1"
}

# A UDP VIP whose check port nobody listens on: each backend's kernel answers the check with an
# ICMP port unreachable, the circuits open with that error. be1 runs a responder: it passes and
# serves the VIP alone.
case_udp_closed_port() {
	local mark i s out
	fresh_ports
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	xlbctl vip del "$U4" >/dev/null 2>&1 || true
	# The kernel sends at most ~1 ICMP error a second to a host after a burst of 6; checks every
	# 200 ms would then time out instead of seeing "port unreachable". Our namespaces: no limit.
	for i in 1 2 3; do
		in_ns "${BE_NS[$i]}" sysctl -qw net.ipv4.icmp_ratelimit=0
	done
	# nsenter itself in the background (it execs the responder): $! is then the responder's
	# pid, which the teardown stops; in_ns there would leave $! a subshell's, and the
	# responder running after the test.
	nsenter --net="/run/netns/${BE_NS[1]}" -- "$PY" "$IT_PY/udpd.py" be1 "$IT_TMP/udpd.ready" \
		"${BE_IP4[1]}" "$VIP4" >"$IT_TMP/udpd.log" 2>&1 &
	track $!
	wait_for 5 test -e "$IT_TMP/udpd.ready" || die_case "UDP responder on be1 did not start: $(cat "$IT_TMP/udpd.log")"
	mark=$(log_mark)
	# Added with checks on: every backend starts half-open and must pass `rise` checks.
	xlbctl_ok vip add "$U4" check udp payload ping port 53 interval "${INTERVAL_MS}ms" timeout 100ms \
		rise $RISE fall $FALL backoff 5s backoff-max 10s slow-start 0
	for i in 1 2 3; do
		xlbctl_ok backend add "$U4" "${BE_IP4[$i]}"
	done
	for i in 2 3; do
		wait_for 5 has_transition "$mark" "$U4" "${BE_IP4[$i]}" open ||
			die_case "${BE_NAME[$i]}'s circuit did not open on a closed UDP port: $(xlbctl backend show "$U4" 2>&1 | tr '\n' ' ')"
	done
	wait_for 5 has_transition "$mark" "$U4" "${BE_IP4[1]}" closed ||
		die_case "be1 (UDP responder) did not pass its checks: $(xlbctl backend show "$U4" 2>&1 | tr '\n' ' ')"
	for i in 1 2 3; do
		s=$(xlbctl -j backend show "$U4" | json_get "[b for b in j['backends'] if b['address'] == '${BE_IP4[$i]}'][0]")
		note "${BE_NAME[$i]}: $s"
		if [ "$i" = 1 ]; then
			echo "$s" | json_get "j['state'] == 'up' and j['health'] == 'pass' and j['circuit'] == 'closed'" | grep -q True ||
				die_case "be1 with a responder is not up and passing: $s"
		else
			echo "$s" | json_get "j['state'] == 'down' and j['health'] == 'fail' and j['last_check']['error'] == 'port unreachable'" | grep -q True ||
				die_case "${BE_NAME[$i]} is not down with 'port unreachable': $s"
			transitions "$mark" "$U4" "${BE_IP4[$i]}" | grep -q ' open half-open [0-9]* port unreachable$' ||
				die_case "${BE_NAME[$i]}: no 'circuit open' log line with reason 'port unreachable'"
		fi
	done
	# End to end: the client's datagrams to the VIP reach be1 only, which answers from the VIP.
	udp_ask 20 >"$IT_TMP/udp.out"
	note "20 UDP requests to the VIP: $(sort "$IT_TMP/udp.out" | uniq -c | tr '\n' ' ')"
	[ "$(grep -c '^pong be1$' "$IT_TMP/udp.out")" -eq 20 ] ||
		die_case "UDP requests to the VIP not all answered by be1: $(sort "$IT_TMP/udp.out" | uniq -c | tr '\n' ' ')"
	xlbctl_ok vip del "$U4"
}

# Drain with checks running: the drained backend stays closed and passing, gets no new connection,
# and every connection it holds works to the end. (test_changes.sh drain covers drain without
# checks; this is the same flow with a circuit breaker beside it.)
case_drain_keeps_existing() {
	local out=$IT_TMP/dr.out x=1 i n max=-1 name j s
	reset_vip "${CHECK[@]}"
	long_start "$VIP4" 18 dr
	for i in 1 2 3; do
		n=$(long_count_on dr "${BE_NAME[$i]}")
		if [ "$n" -gt "$max" ]; then max=$n x=$i; fi
	done
	name=${BE_NAME[$x]}
	[ "$max" -gt 0 ] || die_case "no long connection on any backend"
	xlbctl_ok backend set "$V4" "${BE_IP4[$x]}" drain
	curl_many "$VIP4" 150 dr-new "$out"
	note "while $name drains: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 150 new requests failed while $name drains"
	[ "$(count_backend "$out" "$name")" -eq 0 ] || die_case "draining $name got new connections: $(spread "$out")"
	j=$(be_json "$V4" "${BE_IP4[$x]}")
	s=$(summary "$j")
	note "$name draining: $s"
	[ "$(jf "$j" "j['state']")" = draining ] || die_case "drained $name is not draining: $s"
	[ "$(jf "$j" "j['circuit']")" = closed ] || die_case "drained $name's circuit is not closed: $s"
	[ "$(jf "$j" "j['health']")" = pass ] || die_case "drained $name's checks do not pass: $s"
	[ "$(jf "$j" "j['last_check']['age_ms']")" -lt 2000 ] || die_case "drained $name is no longer checked: $s"
	long_stop dr
	[ "$(long_ok_on dr "$name")" -eq "$(long_count_on dr "$name")" ] ||
		die_case "$(long_bad_on dr "$name") of $(long_count_on dr "$name") connections on draining $name broke"
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.dr/result" | wc -l)" -eq 0 ] ||
		die_case "connections broke: $(awk '$4 != "ok"' "$IT_TMP/long.dr/result" | head -n 1)"
	xlbctl_ok backend set "$V4" "${BE_IP4[$x]}" undrain
	curl_many "$VIP4" 90 dr-after "$out"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 requests failed after undrain"
	[ "$(count_backend "$out" "$name")" -gt 0 ] || die_case "undrained $name gets no new connection: $(spread "$out")"
}

# be2 drops SYNs to the VIP (nft in its namespace) while its check port, on its own address,
# still answers: only passive outlier detection can see it. Clients retry their SYNs; once the
# rate holds for `fall` seconds the circuit opens, and the retried SYNs are re-steered.
case_outlier_syn_drop() {
	local out=$IT_TMP/oloop.syn.out mark topen j s nfail nresteer be2=${BE_IP4[2]}
	# fall 2: two seconds at >= 3 SYN retries a second open the circuit. Back-off 8 s: be2 stays
	# open past the last SYN retry (7 s after its start) of every connection stalled on it, which
	# is then re-steered; closed again earlier, be2 would keep such a flow and drop it once more.
	command -v nft >/dev/null || die_case "nft not found (scripts/deps.sh installs nftables)"
	reset_vip check tcp interval "${INTERVAL_MS}ms" timeout 100ms rise $RISE fall 2 backoff 8s \
		backoff-max 16s slow-start 0 outlier on outlier-rate 3
	in_ns "${BE_NS[2]}" nft -f - <<EOF
table inet xlbtest {
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr $VIP4 tcp dport 80 tcp flags & (syn | ack) == syn drop
	}
}
EOF
	note "be2 drops SYNs to $VIP4:80 (nft table inet xlbtest)"
	mark=$(log_mark)
	# 30 new connections a second: ~10 to be2, each retrying its SYN after 1, 3 and 7 s; a connect
	# timeout of 8 s lets every one that started before the opening retry after it.
	oloop_start syn 30 8
	if ! wait_for 15 has_transition "$mark" "$V4" "$be2" open; then
		die_case "be2's circuit did not open within 15 s of dropping SYNs: $(be_summary 2); stats: $(xlbctl -j stats show "$V4" 2>&1 | tr -d '\n' | head -c 600)"
	fi
	topen=$(first_transition "$mark" "$V4" "$be2" open)
	j=$(be_json "$V4" "$be2")
	s=$(summary "$j")
	note "be2 after the opening: $s"
	transitions "$mark" "$V4" "$be2" | awk '$2 == "open"' | head -n 1 | grep -q 'syn retries' ||
		die_case "be2's circuit opened, but not for SYN retries: $(transitions "$mark" "$V4" "$be2" | head -n 1)"
	[ "$(jf "$j" "j['state']")" = down ] || die_case "be2 not down after the opening: $s"
	[ "$(jf "$j" "j['health']")" = pass ] || die_case "be2's check should still pass (only VIP SYNs drop): $s"
	sleep 1.5
	oloop_stop syn
	in_ns "${BE_NS[2]}" nft delete table inet xlbtest
	nfail=$(t_failed "$out" 0 9e9)
	# Re-steered: started before the opening, first SYN(s) unanswered, answered by another backend.
	nresteer=$(awk -v z="$topen" '$1 < z && $3 == 200 && $4 != "be2" && $6 >= 0.9' "$out" | wc -l)
	local msg
	msg="outlier: SYN drop->circuit open $(secs "$(head -n 1 "$out" | awk '{print $1}')" "$topen")s ($(transitions "$mark" "$V4" "$be2" | awk '$2 == "open"' | head -n 1 | cut -d' ' -f5-)), connections $(wc -l <"$out"), failed $nfail, re-steered after SYN retries $nresteer"
	echo "# $msg" >&2
	note "$msg"
	[ "$(t_failed "$out" "$topen" 9e9)" -eq 0 ] ||
		die_case "$(t_failed "$out" "$topen" 9e9) connection(s) started after the opening failed"
	[ "$(t_on "$out" "$(awk -v t="$topen" 'BEGIN {printf "%.3f", t + 0.2}')" 9e9 be2)" -eq 0 ] ||
		die_case "be2 answered connections started after its circuit opened (SYNs dropped: impossible)"
	[ "$(t_count "$out" "$topen" 9e9)" -ge 10 ] || die_case "only $(t_count "$out" "$topen" 9e9) connections after the opening: nothing tested"
	[ "$nresteer" -gt 0 ] || die_case "no connection stalled on be2 was re-steered after the opening"
	[ "$nfail" -eq 0 ] ||
		die_case "$nfail connection(s) failed (connect timeout 8 s: every SYN retry after the opening is re-steered): $(awk '$3 != 200 {printf "%.3f ", $1 - '"$topen"'}' "$out")s from the opening"
	# Rule gone: be2 comes back after its back-off and rise passing checks.
	wait_for 12 all_backends_up "$V4" || die_case "be2 not back after the rule went: $(be_summary 2)"
}

run_case kill_backend_under_load case_kill_backend_under_load
run_case link_down case_link_down
run_case flapping case_flapping
run_case http_500 case_http_500
run_case backend_own_check case_backend_own_check
run_case restart_keeps_health case_restart_keeps_health
run_case neighbour_unreachable case_neighbour_unreachable
run_case udp_closed_port case_udp_closed_port
run_case drain_keeps_existing case_drain_keeps_existing
run_case outlier_syn_drop case_outlier_syn_drop
it_finish
