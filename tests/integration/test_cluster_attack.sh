#!/bin/bash
# test_cluster_attack.sh - node routes under hostile conditions (docs/cluster.md, "Announce and
# withdraw"): a route of another protocol at a VIP's address in xlbd's table is left alone
# (never replaced) and taken over only once it is gone; xlbd's route flushed away by someone
# else comes back at the next sync; a seed changed under traffic keeps every established
# connection and sends new ones where flow explain says; a node restarted while drained stays
# drained and withdrawn; `--route-table 0` drains and undrains without touching any table.
# One LB namespace, one xlbd; the routes are read with `ip route` in that namespace.
# Usage: tests/integration/test_cluster_attack.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 3

V4="$VIP4:80/tcp"
TABLE=2001

# routes PROTO: the table's host routes of PROTO at the VIP's address, one line each.
routes() {
	in_ns "$LB_NS" ip -4 route show table "$TABLE" proto "$1" | grep -F "$VIP4" || true
}

node_field() {
	xlbctl -j node show | json_get "$1"
}

announced() { [ -n "$(routes 211)" ]; }
# refused N: the kernel refused N route changes or more (a refused add is retried every sync).
refused() { [ "$(node_field "j['route_errors'] >= $1")" = True ]; }

# An operator's route at the VIP's address, before the VIP has a usable backend: xlbd's
# announce must not replace it (a replace matches address and metric, not the protocol).
case_foreign_route_left_alone() {
	in_ns "$LB_NS" ip route add blackhole "$VIP4" table "$TABLE" proto static
	setup_vip "$V4" 4 1
	wait_for 5 refused 2 || die_case "no refused add counted twice: $(xlbctl node show | tr '\n' ' ')"
	[ -n "$(routes static)" ] || die_case "the static route is gone: $(in_ns "$LB_NS" ip route show table "$TABLE" | tr '\n' ' ')"
	[ -z "$(routes 211)" ] || die_case "xlbd's route replaced the static one"
	[ "$(node_field "j['addresses'][0].get('pending')")" = True ] || die_case "node show: not pending"
	node_field "j['addresses'][0]['error']" | grep -q "another protocol" || die_case "node show names no reason: $(xlbctl -j node show)"
	[ "$(grep -c 'cannot add the route' "$IT_TMP/xlbd.log")" -eq 1 ] || die_case "the refused add is not logged exactly once (retried every second)"
	# The operator's route goes: the next sync (1 s tick) announces ours.
	in_ns "$LB_NS" ip route del blackhole "$VIP4" table "$TABLE" proto static
	wait_for 5 announced || die_case "xlbd did not announce once the static route went"
	[ "$(node_field "j['addresses'][0].get('pending', False)")" = False ] || die_case "still pending"
}

# Someone flushes the table: xlbd reads it at every sync and adds its route again (before, it
# believed the route was there until a restart: the address stayed withdrawn).
case_table_flushed() {
	wait_for 5 announced || die_case "not announced before the flush"
	in_ns "$LB_NS" ip route flush table "$TABLE"
	[ -z "$(routes 211)" ] || die_case "the flush left the route"
	wait_for 5 announced || die_case "the route did not come back after the flush"
	grep -q 'gone from the table' "$IT_TMP/xlbd.log" || die_case "not logged"
}

# explain_backend CLIENT: the backend flow explain names for a new TCP flow (a SYN) from CLIENT.
explain_backend() {
	xlbctl -j flow explain "$1" "$V4" syn | json_get "j.get('backend') or '-'"
}

# config set hash-seed while connections run: every established one stays on its backend (the
# flow table), new flows go where the new seed sends them, and flow explain says so.
case_seed_change_under_traffic() {
	local port before after moved=0 i be want seed
	xlbctl_ok backend add "$V4" "${BE_IP4[2]}"
	xlbctl_ok backend add "$V4" "${BE_IP4[3]}"
	wait_for 10 all_backends_up "$V4" || die_case "backends not up"
	long_start "$VIP4" 24 sd
	for port in $(seq 62001 62020); do
		echo "$port $(explain_backend "$CL_IP4:$port")"
	done >"$IT_TMP/seed.before"
	seed=$(($(xlbctl -j config show | json_get "j['hash_seed']") ^ 0x5a5a))
	xlbctl_ok config set hash-seed "$seed"
	while read -r port before; do
		after=$(explain_backend "$CL_IP4:$port")
		[ "$after" != "$before" ] && moved=$((moved + 1))
		# A real new connection from that port goes where explain said.
		be=$(in_client curl -s --local-port "$port" --connect-timeout 2 --max-time 5 			-H 'Connection: close' -o /dev/null -w '%header{x-backend}' "$(vip_url "$VIP4")/?t=sd") || true
		want=-
		for i in 1 2 3; do [ "${BE_NAME[$i]}" != "$be" ] || want=${BE_IP4[$i]}; done
		[ "$want" = "$after" ] || die_case "port $port: explain says $after, the connection went to $be"
	done <"$IT_TMP/seed.before"
	note "new seed $seed: $moved of 20 new flows explained elsewhere than before"
	[ "$moved" -gt 0 ] || die_case "the new seed moved no new flow (explain uses the old one?)"
	long_stop sd
	[ "$(awk '$4 != "ok"' "$IT_TMP/long.sd/result" | wc -l)" -eq 0 ] || die_case "established connections broke: $(awk '$4 != "ok"' "$IT_TMP/long.sd/result" | head -n 2 | tr '\n' ' ')"
	[ "$(wc -l <"$IT_TMP/long.sd/result")" -eq 24 ] || die_case "not 24 results"
}

# Drained, restarted: the state file keeps the drain, the start withdraws nothing it would
# then announce, and undrain announces.
case_restart_while_drained() {
	wait_for 5 announced || die_case "not announced before the drain"
	xlbctl_ok node drain
	[ -z "$(routes 211)" ] || die_case "drain left the route"
	xlbd_stop
	xlbd_start
	[ "$(node_field "j['state']")" = drained ] || die_case "restarted node is $(node_field "j['state']")"
	wait_for 10 all_backends_up "$V4" || die_case "backend not up after the restart"
	sleep 1.5 # one sync tick: a route wrongly announced would be there now
	[ -z "$(routes 211)" ] || die_case "restarted drained node announced"
	[ "$(xlbctl -j node drain | json_get "j['changed']")" = False ] || die_case "drain again changed something"
	xlbctl_ok node undrain
	[ -n "$(routes 211)" ] || die_case "undrain did not announce"
}

# --route-table 0: no table is touched; drain and undrain still work and persist.
case_route_table_zero() {
	xlbd_stop
	in_ns "$LB_NS" ip route flush table "$TABLE" proto 211
	xlbd_start --route-table 0
	[ "$(node_field "j['route_table']")" = 0 ] || die_case "route_table is not 0"
	xlbctl_ok node drain
	xlbctl_ok node undrain
	xlbctl_ok node drain
	sleep 1.5
	[ -z "$(in_ns "$LB_NS" ip route show table "$TABLE" proto 211)" ] || die_case "a route with --route-table 0"
	[ "$(node_field "j['state']")" = drained ] || die_case "not drained"
	xlbctl_ok node undrain
	xlbd_stop
	xlbd_start
}

run_case foreign_route_left_alone case_foreign_route_left_alone
run_case table_flushed case_table_flushed
run_case seed_change_under_traffic case_seed_change_under_traffic
run_case restart_while_drained case_restart_while_drained
run_case route_table_zero case_route_table_zero
it_finish
