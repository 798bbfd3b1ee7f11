#!/bin/bash
# test_changes.sh - configuration changes under load keep established connections where they
# are: adding and removing backends, draining one, restarting xlbd. Four backends, be4 spare.
# Long connections (lib.sh long_start) send a request every 0.1 s through the LB, so a flow
# moved to another backend is reset at once and reported by the client.
# Usage: tests/integration/test_changes.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 4

V4="$VIP4:80/tcp"

# A fresh VIP with backends INDEX...: every case starts from a known configuration.
reset_vip() {
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	setup_vip "$V4" 4 "$@"
}

# Index of the backend holding the most connections of long group TAG among INDEX...
busiest() {
	local tag=$1 i best=0 n max=-1
	shift
	for i in "$@"; do
		n=$(long_count_on "$tag" "${BE_NAME[$i]}")
		if [ "$n" -gt "$max" ]; then
			max=$n
			best=$i
		fi
	done
	echo "$best"
}

# be4 joins and be3 leaves while 24 connections are busy: every connection on be1 and be2
# completes on its backend. (be3's own connections end with it: it is gone.) New connections
# then reach be4 and never be3.
case_add_remove_under_load() {
	local out=$IT_TMP/ar.out b
	reset_vip 1 2 3
	long_start "$VIP4" 24 ar
	xlbctl_ok backend add "$V4" "${BE_IP4[4]}"
	wait_for 10 all_backends_up "$V4" || die_case "be4 not up after backend add"
	sleep 1
	xlbctl_ok backend del "$V4" "${BE_IP4[3]}"
	sleep 1
	long_stop ar
	for b in be1 be2; do
		[ "$(long_bad_on ar $b)" -eq 0 ] ||
			die_case "$(long_bad_on ar $b) established connection(s) on $b broke: $(awk -v b=$b '$3 == b && $4 != "ok"' "$IT_TMP/long.ar/result" | head -n 1)"
	done
	[ $(($(long_ok_on ar be1) + $(long_ok_on ar be2))) -gt 0 ] ||
		die_case "no long connection landed on be1 or be2: nothing was tested"
	note "be3's connections (removed backend): $(long_ok_on ar be3) ok, $(long_bad_on ar be3) broken"
	curl_many "$VIP4" 150 ar-after "$out"
	note "after: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 150 new requests failed"
	[ "$(count_backend "$out" be3)" -eq 0 ] || die_case "removed be3 still gets new connections ($(spread "$out"))"
	[ "$(count_backend "$out" be4)" -gt 0 ] || die_case "added be4 gets no new connection ($(spread "$out"))"
}

# Draining the busiest backend: it gets no new connection while every one it holds keeps
# working to the end; undrained, it gets new connections again.
case_drain() {
	local out=$IT_TMP/dr.out x name st
	reset_vip 1 2 3
	long_start "$VIP4" 18 dr
	x=$(busiest dr 1 2 3)
	name=${BE_NAME[$x]}
	[ "$(long_count_on dr "$name")" -gt 0 ] || die_case "no long connection on any backend"
	xlbctl_ok backend set "$V4" "${BE_IP4[$x]}" drain
	st=$(backend_field "$V4" "${BE_IP4[$x]}" state)
	[ "$st" = draining ] || die_case "drained $name shows state '$st', expected draining"
	curl_many "$VIP4" 150 dr-new "$out"
	note "while $name drains: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 150 new requests failed while $name drains"
	[ "$(count_backend "$out" "$name")" -eq 0 ] ||
		die_case "draining $name got $(count_backend "$out" "$name") new connections ($(spread "$out"))"
	sleep 0.5
	long_stop dr
	[ "$(long_ok_on dr "$name")" -eq "$(long_count_on dr "$name")" ] ||
		die_case "$(long_bad_on dr "$name") of $(long_count_on dr "$name") connections on draining $name broke"
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.dr/result" | wc -l)" -eq 0 ] ||
		die_case "connections on other backends broke: $(awk '$4 != "ok"' "$IT_TMP/long.dr/result" | head -n 1)"
	xlbctl_ok backend set "$V4" "${BE_IP4[$x]}" undrain
	st=$(backend_field "$V4" "${BE_IP4[$x]}" state)
	[ "$st" = up ] || die_case "undrained $name shows state '$st', expected up"
	curl_many "$VIP4" 150 dr-after "$out"
	note "after undrain: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 150 requests failed after undrain"
	[ "$(count_backend "$out" "$name")" -gt 0 ] || die_case "undrained $name gets no new connection ($(spread "$out"))"
}

# xlbd stops (SIGTERM) and starts again while a client opens new connections back to back and
# 12 long connections stay busy: the program stays attached in between, so not one request
# fails and every long connection completes; the configuration comes back from the state file.
case_restart_under_load() {
	local loop=$IT_TMP/rs.loop out=$IT_TMP/rs.out n i
	reset_vip 1 2 3
	long_start "$VIP4" 12 rs
	curl_loop_start "$VIP4" rsloop "$loop"
	sleep 0.5
	xlbd_stop || die_case "xlbd did not stop on SIGTERM"
	in_ns "$LB_NS" ip link show dev "$LB_IF" | grep -q 'prog/xdp' ||
		die_case "XDP program detached when xlbd stopped"
	sleep 0.5
	xlbd_start || die_case "xlbd did not start again"
	sleep 0.5
	curl_loop_stop rsloop
	long_stop rs
	n=$(wc -l <"$loop")
	note "requests during the restart: $n, spread $(spread "$loop")"
	[ "$n" -ge 10 ] || die_case "the client loop made only $n requests: it did not run"
	[ "$(count_failed "$loop")" -eq 0 ] ||
		die_case "$(count_failed "$loop") of $n requests failed across the restart: $(awk '$1 != 200' "$loop" | head -n 1)"
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.rs/result" | wc -l)" -eq 0 ] ||
		die_case "long connections broke across the restart: $(awk '$4 != "ok"' "$IT_TMP/long.rs/result" | head -n 1)"
	[ "$(xlbctl -j backend show "$V4" | json_get "len(j['backends'])")" -eq 3 ] ||
		die_case "after restart: $(xlbctl backend show "$V4" 2>&1 | tr '\n' ' ')"
	wait_for 10 all_backends_up "$V4" || die_case "backends not up after restart"
	curl_many "$VIP4" 150 rs-after "$out"
	note "after restart: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 150 requests failed after the restart"
	for i in 1 2 3; do
		[ "$(count_backend "$out" "${BE_NAME[$i]}")" -gt 0 ] ||
			die_case "${BE_NAME[$i]} gets no new connection after the restart ($(spread "$out"))"
	done
}

# `vip del` deletes the VIP's flow entries: the data plane honours an entry by its VIP id
# without a VIP lookup, so the VIP that takes the freed id (here port 8080 on the same address,
# with the same backends in the same order, so the same backend ids) must not serve the deleted
# VIP's established connections. The VIP added again then serves new connections everywhere.
case_vip_del_forgets_flows() {
	local out=$IT_TMP/vd.out from n i b
	reset_vip 1 2 3
	long_start "$VIP4" 6 vd
	curl_many "$VIP4" 30 vd-before "$out"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 30 requests failed"
	from=$(($(wc -l <"$IT_TMP/xlbd.log") + 1))
	xlbctl_ok vip del "$V4"
	n=$(tail -n "+$from" "$IT_TMP/xlbd.log" | grep -F "deleted the flows of removed VIPs" |
		sed -n 's/.*flows=\([0-9]*\).*/\1/p' | tail -n 1 || true)
	note "flow entries deleted with the VIP: ${n:-none}"
	[ "${n:-0}" -ge 36 ] || die_case "vip del deleted ${n:-no} flow entries, want >= 36 (30 requests, 6 long connections)"
	setup_vip "$VIP4:8080/tcp" 4 1 2 3
	sleep 1
	long_stop vd
	for b in be1 be2 be3; do
		[ "$(long_ok_on vd $b)" -eq 0 ] ||
			die_case "$(long_ok_on vd $b) connection(s) of the deleted VIP on $b served through the VIP that took its id"
	done
	xlbctl_ok vip del "$VIP4:8080/tcp"
	reset_vip 1 2 3
	curl_many "$VIP4" 150 vd-after "$out"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 150 requests failed after the VIP came back"
	for i in 1 2 3; do
		[ "$(count_backend "$out" "${BE_NAME[$i]}")" -gt 0 ] ||
			die_case "${BE_NAME[$i]} gets no new connection after the VIP came back ($(spread "$out"))"
	done
}

run_case add_remove_under_load case_add_remove_under_load
run_case drain case_drain
run_case restart_under_load case_restart_under_load
run_case vip_del_forgets_flows case_vip_del_forgets_flows
it_finish
