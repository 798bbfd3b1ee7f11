#!/bin/bash
# test_sched.sh - each per-VIP scheduler with real clients and nginx backends: the split of new
# connections, counted from what the backends answered (x-backend header, nginx logs agree);
# failover when a backend dies, and drain.
# Usage: tests/integration/test_sched.sh BUILD_DIR
#
# SCHED_FWD=ipip (test_sched_ipip.sh sets it) runs the same cases on fwd ipip VIPs with the
# backends behind a router (scripts/topo_routed.sh), for an IPv4 VIP over IPv4 backends, an
# IPv6 VIP over IPv6 ones and an IPv4 VIP over IPv6 ones (IPv4 in IPv6); the default is
# dsr-l2 on scripts/topo.sh, IPv4.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

SCHED_FWD=${SCHED_FWD:-dsr-l2}
it_init "$@"
if [ "$SCHED_FWD" = ipip ]; then
	it_use_routed 0
fi
it_setup 3

# The VIP the cases use: use_vip FAMILY sets ADDR (what the client connects to), V (the VIP)
# and BFAM (the backends' family): 4, 6, or 4in6 (an IPv4 VIP over IPv6 backends, ipip only).
# TAG prefixes the request tags: each family's requests are told apart in the nginx logs.
use_vip() {
	case $1 in
	4) ADDR=$VIP4 V="$VIP4:80/tcp" BFAM=4 ;;
	6) ADDR=$VIP6 V="[$VIP6]:80/tcp" BFAM=6 ;;
	4in6) ADDR=$VIP4 V="$VIP4:80/tcp" BFAM=6 ;;
	esac
	TAG=f$1
}
use_vip 4

# Backend INDEX's address in the backends' family.
be_addr() { if [ "$BFAM" = 6 ]; then echo "${BE_IP6[$1]}"; else echo "${BE_IP4[$1]}"; fi; }

# A fresh VIP with scheduler SCHED, backends INDEX[:WEIGHT]... and the check settings in the
# array CHECK_ARGS (none unless a case sets it).
CHECK_ARGS=()
reset_vip() {
	local sched=$1 spec i w
	shift
	xlbctl vip del "$V" >/dev/null 2>&1 || true
	xlbctl_ok vip add "$V" fwd "$SCHED_FWD" sched "$sched" "${CHECK_ARGS[@]}"
	for spec in "$@"; do
		i=${spec%%:*}
		w=1
		[ "$spec" = "$i" ] || w=${spec#*:}
		xlbctl_ok backend add "$V" "$(be_addr "$i")" weight "$w"
	done
	# Every backend must be usable (MAC resolved for dsr-l2) before traffic counts.
	wait_for 10 all_backends_up "$V" || die_case "backends of $V not all up: $(xlbctl backend show "$V" 2>&1 | tr '\n' ' ')"
}

# |COUNT - WANT| <= TOL, or fail naming the backend.
near() {
	local name=$1 count=$2 want=$3 tol=$4
	[ $((count > want ? count - want : want - count)) -le "$tol" ] ||
		die_case "$name got $count new connections, want $want +- $tol"
}

# rr: 300 connections over 3 backends. Positions are per CPU: each of the 2 CPUs may stop
# one partial cycle short, so every backend gets 100 +- 2.
case_rr() {
	local out=$IT_TMP/rr.out i
	reset_vip rr 1 2 3
	curl_many "$ADDR" 300 "${TAG}rr" "$out"
	note "rr: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") requests failed"
	for i in 1 2 3; do
		near "${BE_NAME[$i]}" "$(count_backend "$out" "${BE_NAME[$i]}")" 100 2
	done
}

# wrr 1:2:3: 600 connections -> 100, 200, 300; a cycle is 6 long, so each CPU's partial cycle
# moves a backend's count by at most 3: tolerance 6.
case_wrr() {
	local out=$IT_TMP/wrr.out
	reset_vip wrr 1:1 2:2 3:3
	curl_many "$ADDR" 600 "${TAG}wrr" "$out"
	note "wrr 1:2:3: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") requests failed"
	near be1 "$(count_backend "$out" be1)" 100 6
	near be2 "$(count_backend "$out" be2)" 200 6
	near be3 "$(count_backend "$out" be3)" 300 6
}

# source-hash: every connection of the one client (one address, many ports) on one backend;
# the nginx log of that backend has them all.
case_source_hash() {
	local out=$IT_TMP/sh.out b n
	reset_vip source-hash 1 2 3
	curl_many "$ADDR" 200 "${TAG}sh" "$out"
	note "source-hash: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") requests failed"
	[ "$(count_ports "$out")" -ge 190 ] || die_case "client ports were not distinct"
	b=$(awk '$1 == 200 {print $2}' "$out" | sort -u)
	[ "$(echo "$b" | wc -l)" -eq 1 ] || die_case "one client landed on several backends: $(spread "$out")"
	for n in 1 2 3; do
		[ "${BE_NAME[$n]}" = "$b" ] || continue
		[ "$(grep -c "t=${TAG}sh&" "${BE_LOG[$n]}")" -eq 200 ] ||
			die_case "$b's nginx log does not hold the 200 requests"
	done
}

# least-conn: be1 holds 20 long connections (be2 and be3 were drained while they opened), then
# 90 short connections: a flow can reach be1 only when both of its two random choices are be1
# (1/9: ~10), so be1 gets at most 25 and the rest goes to be2 and be3.
case_least_conn() {
	local out=$IT_TMP/lc.out
	reset_vip least-conn 1 2 3
	xlbctl_ok backend set "$V" "$(be_addr 2)" drain
	xlbctl_ok backend set "$V" "$(be_addr 3)" drain
	long_start "$ADDR" 20 lc
	[ "$(long_count_on lc be1)" -eq 20 ] || die_case "long connections not all on be1"
	xlbctl_ok backend set "$V" "$(be_addr 2)" undrain
	xlbctl_ok backend set "$V" "$(be_addr 3)" undrain
	curl_many "$ADDR" 90 "${TAG}lc" "$out"
	note "least-conn with be1 loaded: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") requests failed"
	[ "$(count_backend "$out" be1)" -le 25 ] || die_case "loaded be1 still gets many new connections: $(spread "$out")"
	{ [ "$(count_backend "$out" be2)" -ge 20 ] && [ "$(count_backend "$out" be3)" -ge 20 ]; } ||
		die_case "new connections not spread over be2 and be3: $(spread "$out")"
	long_stop lc
	[ "$(long_bad_on lc be1)" -eq 0 ] || die_case "long connections on be1 broke"
}

# Switching the scheduler under load moves no established connection.
case_sched_change_hitless() {
	local s
	reset_vip maglev 1 2 3
	long_start "$ADDR" 18 sw
	for s in rr wrr least-conn source-hash maglev; do
		xlbctl_ok vip set "$V" sched "$s"
		sleep 0.3
	done
	long_stop sw
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.sw/result" | wc -l)" -eq 0 ] ||
		die_case "connections broke while the scheduler changed"
}

# maglev 1:2:3: 600 connections, shares near 1/6, 2/6, 3/6 (Maglev's table follows the
# weights within a few percent; the rest is the hash of 600 flows).
case_maglev_weighted() {
	local out=$IT_TMP/mg.out
	reset_vip maglev 1:1 2:2 3:3
	curl_many "$ADDR" 600 "${TAG}mg" "$out"
	note "maglev 1:2:3: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") requests failed"
	near be1 "$(count_backend "$out" be1)" 100 50
	near be2 "$(count_backend "$out" be2)" 200 60
	near be3 "$(count_backend "$out" be3)" 300 70
}

# be2's switch port goes down (its addresses and routes stay, as a cable pulled): its checks
# fail, its circuit opens, new connections go to be1 and be3 and none fails; connections
# established on be1 and be3 before stay where they are, unbroken. The port up again, be2
# passes `rise` checks and takes new connections again.
case_failover() {
	local out=$IT_TMP/fo.out
	CHECK_ARGS=(check tcp interval 200ms timeout 100ms rise 2 fall 2 slow-start 0)
	reset_vip maglev 1 2 3
	long_start "$ADDR" 18 fo
	ip -n "$SW_NS" link set be2 down
	wait_for 10 is_state "$(be_addr 2)" down || die_case "be2 not down with its port down"
	curl_many "$ADDR" 90 "${TAG}fo" "$out"
	note "be2 down: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 failed with be2 down"
	[ "$(count_backend "$out" be2)" -eq 0 ] || die_case "down be2 got new connections"
	long_stop fo
	[ $(($(long_bad_on fo be1) + $(long_bad_on fo be3))) -eq 0 ] ||
		die_case "connections on be1 or be3 broke when be2 failed"
	[ $(($(long_count_on fo be1) + $(long_count_on fo be3))) -gt 0 ] || die_case "no long connection on be1 or be3"
	ip -n "$SW_NS" link set be2 up
	wait_for 10 is_state "$(be_addr 2)" up || die_case "be2 not back up with its port up"
	curl_many "$ADDR" 90 "${TAG}fb" "$out"
	note "be2 back: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 failed after be2 came back"
	[ "$(count_backend "$out" be2)" -gt 0 ] || die_case "be2 gets no new connection once back"
}

# be2 drains: its established connections finish unbroken, new ones go to be1 and be3; undrained,
# it takes new ones again.
case_drain() {
	local out=$IT_TMP/dr.out
	reset_vip maglev 1 2 3
	long_start "$ADDR" 18 dr
	[ "$(long_count_on dr be2)" -gt 0 ] || die_case "no long connection on be2 to drain"
	xlbctl_ok backend set "$V" "$(be_addr 2)" drain
	curl_many "$ADDR" 90 "${TAG}dr" "$out"
	note "be2 draining: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 failed while be2 drains"
	[ "$(count_backend "$out" be2)" -eq 0 ] || die_case "draining be2 got new connections"
	long_stop dr
	[ "$(long_ok_on dr be2)" -eq "$(long_count_on dr be2)" ] ||
		die_case "$(long_bad_on dr be2) of $(long_count_on dr be2) connections on draining be2 broke"
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.dr/result" | wc -l)" -eq 0 ] || die_case "connections broke while be2 drained"
	xlbctl_ok backend set "$V" "$(be_addr 2)" undrain
	curl_many "$ADDR" 60 "${TAG}ud" "$out"
	[ "$(count_backend "$out" be2)" -gt 0 ] || die_case "undrained be2 gets no new connection: $(spread "$out")"
}

is_state() { [ "$(backend_field "$V" "$1" state 2>/dev/null)" = "$2" ]; }

# run_family FAMILY PREFIX CASE...: the cases on use_vip FAMILY's VIP, named PREFIX<case>.
run_family() {
	local fam=$1 prefix=$2 c
	shift 2
	use_vip "$fam"
	for c in "$@"; do
		run_case "$prefix$c" "case_$c"
	done
}

ALL="rr wrr source_hash least_conn sched_change_hitless maglev_weighted failover drain"
if [ "$SCHED_FWD" = ipip ]; then
	# shellcheck disable=SC2086 # lists of case names
	run_family 4 ipip4_ $ALL
	# shellcheck disable=SC2086
	run_family 6 ipip6_ $ALL
	# shellcheck disable=SC2086
	run_family 4in6 ipip4in6_ $ALL
else
	run_family 4 sched_ rr wrr source_hash least_conn
	run_case sched_change_hitless case_sched_change_hitless
	run_family 4 sched_ maglev_weighted failover drain
fi
it_finish
