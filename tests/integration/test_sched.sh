#!/bin/bash
# test_sched.sh - each per-VIP scheduler with real clients and nginx backends: the split of new
# connections, counted from what the backends answered (x-backend header, nginx logs agree).
# Usage: tests/integration/test_sched.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 3

V4="$VIP4:80/tcp"

# A fresh VIP with scheduler SCHED and backends INDEX[:WEIGHT]...
reset_vip() {
	local sched=$1
	shift
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 "$@"
	xlbctl_ok vip set "$V4" sched "$sched"
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
	curl_many "$VIP4" 300 rr "$out"
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
	curl_many "$VIP4" 600 wrr "$out"
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
	curl_many "$VIP4" 200 sh "$out"
	note "source-hash: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") requests failed"
	[ "$(count_ports "$out")" -ge 190 ] || die_case "client ports were not distinct"
	b=$(awk '$1 == 200 {print $2}' "$out" | sort -u)
	[ "$(echo "$b" | wc -l)" -eq 1 ] || die_case "one client landed on several backends: $(spread "$out")"
	for n in 1 2 3; do
		[ "${BE_NAME[$n]}" = "$b" ] || continue
		[ "$(grep -c 't=sh&' "${BE_LOG[$n]}")" -eq 200 ] ||
			die_case "$b's nginx log does not hold the 200 requests"
	done
}

# least-conn: be1 holds 20 long connections (be2 and be3 were drained while they opened), then
# 90 short connections: a flow can reach be1 only when both of its two random choices are be1
# (1/9: ~10), so be1 gets at most 25 and the rest goes to be2 and be3.
case_least_conn() {
	local out=$IT_TMP/lc.out
	reset_vip least-conn 1 2 3
	xlbctl_ok backend set "$V4" "${BE_IP4[2]}" drain
	xlbctl_ok backend set "$V4" "${BE_IP4[3]}" drain
	long_start "$VIP4" 20 lc
	[ "$(long_count_on lc be1)" -eq 20 ] || die_case "long connections not all on be1"
	xlbctl_ok backend set "$V4" "${BE_IP4[2]}" undrain
	xlbctl_ok backend set "$V4" "${BE_IP4[3]}" undrain
	curl_many "$VIP4" 90 lc "$out"
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
	long_start "$VIP4" 18 sw
	for s in rr wrr least-conn source-hash maglev; do
		xlbctl_ok vip set "$V4" sched "$s"
		sleep 0.3
	done
	long_stop sw
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.sw/result" | wc -l)" -eq 0 ] ||
		die_case "connections broke while the scheduler changed"
}

run_case sched_rr case_rr
run_case sched_wrr case_wrr
run_case sched_source_hash case_source_hash
run_case sched_least_conn case_least_conn
run_case sched_change_hitless case_sched_change_hitless
it_finish
