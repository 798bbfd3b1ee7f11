#!/bin/bash
# test_traffic.sh - real HTTP traffic through xlb (L2 DSR) to three nginx backends: the
# topology's ARP/ND behaviour, IPv4 spread over every backend, IPv6 end to end, weighted split.
# Usage: tests/integration/test_traffic.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 3

V4="$VIP4:80/tcp"
V6="[$VIP6]:80/tcp"

# The backends hold the VIPs on lo and must never claim them on the segment (else the client
# would talk to one backend directly and the LB would be bypassed). Asked on-link from the
# client: no ARP reply for the IPv4 VIP, no neighbour advertisement for the IPv6 one.
case_vip_not_answered_on_segment() {
	local st4 st6
	in_client ip route replace "$VIP4/32" dev "$CL_IF"
	in_client ip -6 route replace "$VIP6/128" dev "$CL_IF"
	# Both probes at once: each waits about a second for an answer that must not come.
	in_client ping -4 -c 1 -W 1 "$VIP4" >/dev/null 2>&1 &
	in_client ping -6 -c 1 -W 1 "$VIP6" >/dev/null 2>&1 || true
	wait $! || true
	st4=$(in_client ip neigh show "$VIP4" dev "$CL_IF")
	st6=$(in_client ip -6 neigh show "$VIP6" dev "$CL_IF")
	in_client ip route replace "$VIP4/32" via "$LB_IP4"
	in_client ip -6 route replace "$VIP6/128" via "$LB_IP6"
	in_client ip neigh flush to "$VIP4" dev "$CL_IF" 2>/dev/null || true
	in_client ip -6 neigh flush to "$VIP6" dev "$CL_IF" 2>/dev/null || true
	note "client neighbour entries: v4 '$st4' v6 '$st6'"
	case "$st4 $st6" in
	*lladdr*) die_case "a backend answered for a VIP on the segment: '$st4' '$st6'" ;;
	esac
}

# 300 new connections to the IPv4 VIP: every one answered, every backend used, and the
# backends' own logs agree with what the client saw (and show the client's real address:
# DSR does not rewrite it).
case_ipv4_spread() {
	local out=$IT_TMP/v4.out i c l total=0
	setup_vip "$V4" 4 1 2 3
	curl_many "$VIP4" 300 v4spread "$out"
	note "spread: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 300 requests failed ($(spread "$out"))"
	[ "$(count_ports "$out")" -eq 300 ] || die_case "only $(count_ports "$out") distinct source ports in 300 requests"
	for i in 1 2 3; do
		c=$(count_backend "$out" "${BE_NAME[$i]}")
		[ "$c" -gt 0 ] || die_case "${BE_NAME[$i]} got no request ($(spread "$out"))"
		l=$(log_count "$i" "t=v4spread&")
		[ "$l" -eq "$c" ] || die_case "${BE_NAME[$i]}: client saw $c answers, nginx logged $l requests"
		[ "$(grep -F "t=v4spread&" "${BE_LOG[$i]}" | grep -vc "^$CL_IP4:" || true)" -eq 0 ] ||
			die_case "${BE_NAME[$i]} logged requests from an address other than the client's $CL_IP4"
		total=$((total + l))
	done
	[ $total -eq 300 ] || die_case "backends logged $total requests, expected 300"
}

# The IPv6 VIP end to end: all requests answered, by every backend, from the client's address.
case_ipv6() {
	local out=$IT_TMP/v6.out i c
	setup_vip "$V6" 6 1 2 3
	curl_many "$VIP6" 90 v6 "$out"
	note "spread: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 requests failed ($(spread "$out"))"
	for i in 1 2 3; do
		c=$(count_backend "$out" "${BE_NAME[$i]}")
		[ "$c" -gt 0 ] || die_case "${BE_NAME[$i]} got no request ($(spread "$out"))"
		[ "$(log_count "$i" "t=v6&")" -eq "$c" ] ||
			die_case "${BE_NAME[$i]}: nginx logged $(log_count "$i" "t=v6&") requests, the client saw $c answers"
		[ "$(grep -F "t=v6&" "${BE_LOG[$i]}" | grep -vc "^$CL_IP6:" || true)" -eq 0 ] ||
			die_case "${BE_NAME[$i]} logged requests from an address other than the client's $CL_IP6"
	done
	xlbctl_ok vip del "$V6"
}

# Weights 1:2:3 over 1200 new connections: expected shares 16.7 %, 33.3 %, 50 %, each within
# +-5 percentage points. Why 5: a share of n=1200 independent picks has a standard deviation of
# at most sqrt(0.25/1200) = 1.4 points, so 5 points is 3.5 sigma (false failure < 0.1 % per run)
# while a wrong weighting (equal split: 33/33/33, or weights ignored for one backend) misses by
# 8 points or more. Maglev's own rounding is far below a point with xlb's ring sizes.
case_weights() {
	local out=$IT_TMP/w.out i c pct lo hi w
	# From equal weights, changed in place with `backend set`.
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 1 2 3
	xlbctl_ok backend set "$V4" "${BE_IP4[1]}" weight 1
	xlbctl_ok backend set "$V4" "${BE_IP4[2]}" weight 2
	xlbctl_ok backend set "$V4" "${BE_IP4[3]}" weight 3
	for i in 1 2 3; do
		w=$(backend_field "$V4" "${BE_IP4[$i]}" weight)
		[ "$w" = "$i" ] || die_case "backend show: ${BE_NAME[$i]} weight $w, expected $i"
	done
	curl_many "$VIP4" 1200 weights "$out"
	note "spread: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 1200 requests failed"
	for i in 1 2 3; do
		c=$(count_backend "$out" "${BE_NAME[$i]}")
		# Percent of 1200 in tenths, against the expected i/6 +- 5 points.
		pct=$((c * 1000 / 1200))
		lo=$((i * 1000 / 6 - 50))
		hi=$((i * 1000 / 6 + 50))
		{ [ $pct -ge $lo ] && [ $pct -le $hi ]; } ||
			die_case "weights 1:2:3: ${BE_NAME[$i]} got $c of 1200 ($((pct / 10)).$((pct % 10)) %), expected $((i * 1000 / 60)).$((i * 1000 / 6 % 10)) % +- 5 ($(spread "$out"))"
	done
}

run_case vip_not_answered_on_segment case_vip_not_answered_on_segment
run_case ipv4_spread case_ipv4_spread
run_case ipv6 case_ipv6
run_case weights case_weights
it_finish
