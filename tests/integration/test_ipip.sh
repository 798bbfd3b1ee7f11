#!/bin/bash
# test_ipip.sh - fwd ipip end to end: backends behind a router (xlb_decap), spread by weight, 10 MB transfers through PMTU answers, a dsr-l2/ipip switch.
# Usage: tests/integration/test_ipip.sh BUILD_DIR
#
# The topology is scripts/topo_routed.sh's (its header has the drawing): client and LB on
# segment A, backends be1-be3 behind a router on another subnet (IPv4 backends reached out the
# LB's second interface: XDP_REDIRECT; IPv6 ones via the router's address on segment A:
# XDP_TX), be4 and be5 on segment A (dsr-l2 reaches only those). Every backend runs
# `xlb-backend attach eth0` + `vip add` for both VIPs, nginx on port 80 and bulk.py on 9000.
# All links have MTU 1500, so a full-size client segment does not fit once encapsulated: the
# LB answers with ICMP fragmentation-needed / packet-too-big and the client's TCP adapts.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_use_routed 2
it_setup 3

MB10=10000000

counter() {
	xlbctl -j stats show | json_get "j['counters'].get('$1', 0)"
}

# ipip_vip VIP INDEX[:WEIGHT][/6]...: VIP with fwd ipip and the given backends; /6 takes the
# backend's IPv6 address (an IPv4 VIP over an IPv6 backend).
ipip_vip() {
	local vip=$1 spec i w addr fam
	shift
	xlbctl_ok vip add "$vip" fwd ipip
	for spec in "$@"; do
		fam=${spec##*/}
		[ "$fam" != "$spec" ] || fam=""
		spec=${spec%/*}
		i=${spec%%:*}
		w=1
		[ "$spec" = "$i" ] || w=${spec#*:}
		case $vip in
		\[*) addr=${BE_IP6[$i]} ;;
		*) if [ "$fam" = 6 ]; then addr=${BE_IP6[$i]}; else addr=${BE_IP4[$i]}; fi ;;
		esac
		xlbctl_ok backend add "$vip" "$addr" weight "$w"
	done
	# ipip backends need no MAC: up at once.
	wait_for 10 all_backends_up "$vip" || die_case "backends of $vip not all up: $(xlbctl backend show "$vip" 2>&1 | tr '\n' ' ')"
}

# in_range N LO HI WHAT
in_range() {
	if [ "$1" -lt "$2" ] || [ "$1" -gt "$3" ]; then die_case "$4: $1 not in $2..$3"; fi
}

# 600 new connections to the IPv4 VIP over backends of weights 1, 2, 3 behind the router:
# every one answered, shares near 1/6, 2/6, 3/6 (Maglev's weights), nginx logs the client's own
# address (the inner packet arrives unchanged), and the packets went encapsulated, redirected
# out the LB's second interface.
case_ipv4_spread_by_weight() {
	local out=$IT_TMP/w4.out e0 r0 e1 r1 i
	e0=$(counter encap_ipv4_in_ipv4)
	r0=$(counter xdp_redirect)
	ipip_vip "$VIP4:80/tcp" 1:1 2:2 3:3
	curl_many "$VIP4" 600 w4 "$out"
	note "spread: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 600 requests failed ($(spread "$out"))"
	in_range "$(count_backend "$out" be1)" 50 150 "be1 (weight 1, expect ~100)"
	in_range "$(count_backend "$out" be2)" 140 260 "be2 (weight 2, expect ~200)"
	in_range "$(count_backend "$out" be3)" 230 370 "be3 (weight 3, expect ~300)"
	for i in 1 2 3; do
		[ "$(grep -F "t=w4&" "${BE_LOG[$i]}" | grep -vc "^$CL_IP4:" || true)" -eq 0 ] ||
			die_case "${BE_NAME[$i]} logged requests from an address other than the client's"
	done
	e1=$(counter encap_ipv4_in_ipv4)
	r1=$(counter xdp_redirect)
	note "encap_ipv4_in_ipv4 +$((e1 - e0)) xdp_redirect +$((r1 - r0))"
	[ $((e1 - e0)) -ge 1800 ] || die_case "only $((e1 - e0)) packets encapsulated for 600 connections"
	[ $((r1 - r0)) -ge 1800 ] || die_case "only $((r1 - r0)) packets redirected (IPv4 backends are out the second interface)"
	xlbctl_ok vip del "$VIP4:80/tcp"
}

# The IPv6 VIP over IPv6 backends behind the router, whose address is on segment A: the
# encapsulated packets leave by the receiving interface (XDP_TX).
case_ipv6_spread() {
	local out=$IT_TMP/v6.out e0 t0 e1 t1 i
	e0=$(counter encap_ipv6_in_ipv6)
	t0=$(counter xdp_tx)
	ipip_vip "[$VIP6]:80/tcp" 1 2 3
	curl_many "$VIP6" 300 v6 "$out"
	note "spread: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 300 requests failed ($(spread "$out"))"
	for i in 1 2 3; do
		[ "$(count_backend "$out" "be$i")" -gt 30 ] || die_case "be$i got too few requests ($(spread "$out"))"
	done
	e1=$(counter encap_ipv6_in_ipv6)
	t1=$(counter xdp_tx)
	note "encap_ipv6_in_ipv6 +$((e1 - e0)) xdp_tx +$((t1 - t0))"
	if [ $((e1 - e0)) -lt 900 ] || [ $((t1 - t0)) -lt 900 ]; then
		die_case "encapsulated +$((e1 - e0)), xdp_tx +$((t1 - t0)) for 300 connections"
	fi
	xlbctl_ok vip del "[$VIP6]:80/tcp"
}

# bulk ADDR MODE N TAG: one bulk.py transfer from the client; its line into $IT_TMP/bulk.TAG.
bulk() {
	in_client timeout 120 "$PY" "$IT_PY/bulk.py" "$2" "$1" 9000 "$3" >"$IT_TMP/bulk.$4" 2>&1 || true
}

# transfers VIP_ADDR VIP WANT_MTU: three 10 MB uploads at once (full-size segments: the PTB
# path) and a 10 MB download, from a client that has learnt no path MTU yet. Each completes
# with every byte, the LB answered with PMTU messages, and the client now uses the MTU they
# carried (the route's 1500 less the outer header).
transfers() {
	local addr=$1 vip=$2 want=$3 p0 p1 i t0 t1 line mtu
	in_client ip route flush cache
	in_client ip -6 route flush cache
	p0=$(counter pmtu_sent)
	t0=$(date +%s.%N)
	for i in 1 2 3; do
		bulk "$addr" up $MB10 "up$i" &
	done
	bulk "$addr" down $MB10 down
	wait
	t1=$(date +%s.%N)
	p1=$(counter pmtu_sent)
	for i in 1 2 3; do
		line=$(cat "$IT_TMP/bulk.up$i")
		note "upload $i: $line"
		[[ $line =~ ^be[0-9]+\ $MB10\ $MB10$ ]] || die_case "upload $i to $vip did not complete: $line"
	done
	line=$(cat "$IT_TMP/bulk.down")
	note "download: $line"
	[[ $line =~ ^be[0-9]+\ $MB10$ ]] || die_case "download from $vip did not complete: $line"
	note "40 MB in $(echo "$t1 - $t0" | bc) s; pmtu_sent +$((p1 - p0))"
	[ $((p1 - p0)) -ge 1 ] || die_case "no PMTU answer for full-size segments to $vip"
	mtu=$(in_client ip route get "$addr" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
	[ "$mtu" = "$want" ] || die_case "client's path MTU to $addr: '$mtu', want $want ($(in_client ip route get "$addr" | tr '\n' ' '))"
}

case_ipv4_transfers() {
	ipip_vip "$VIP4:9000/tcp" 1 2 3
	transfers "$VIP4" "$VIP4:9000/tcp" 1480
	xlbctl_ok vip del "$VIP4:9000/tcp"
}

case_ipv6_transfers() {
	ipip_vip "[$VIP6]:9000/tcp" 1 2 3
	transfers "$VIP6" "[$VIP6]:9000/tcp" 1460
	xlbctl_ok vip del "[$VIP6]:9000/tcp"
}

# An IPv4 VIP over IPv6 backends (IPv4 in IPv6): the same transfers, and MTU 1500 - 40.
case_ipv4_over_ipv6_transfers() {
	local e0 e1
	e0=$(counter encap_ipv4_in_ipv6)
	ipip_vip "$VIP4:9000/tcp" 1/6 2/6
	transfers "$VIP4" "$VIP4:9000/tcp" 1460
	e1=$(counter encap_ipv4_in_ipv6)
	note "encap_ipv4_in_ipv6 +$((e1 - e0))"
	[ $((e1 - e0)) -ge 20000 ] || die_case "only $((e1 - e0)) packets went IPv4 in IPv6 for 30 MB of uploads"
	xlbctl_ok vip del "$VIP4:9000/tcp"
}

# The next hop's neighbour entry unresolved: the first packets are encapsulated and handed to
# the kernel (pass_no_neigh), which resolves the router's MAC and forwards them; connections
# complete.
case_unresolved_next_hop() {
	local out=$IT_TMP/nn.out n0 n1 rt_mac
	rt_mac=$(in_ns "$LB_NS" ip -br neigh show "$LINK_RT4" | awk '{print $3}')
	in_ns "$LB_NS" ip neigh del "$LINK_RT4" dev "$LB_LINK_IF"
	# Longer than the LB reuses a lookup's answer (XLB_NEXTHOP_TTL_NS, 100 ms).
	sleep 0.3
	n0=$(counter pass_no_neigh)
	ipip_vip "$VIP4:80/tcp" 1 2 3
	curl_many "$VIP4" 20 nn "$out"
	n1=$(counter pass_no_neigh)
	in_ns "$LB_NS" ip neigh replace "$LINK_RT4" lladdr "$rt_mac" dev "$LB_LINK_IF" nud permanent
	note "pass_no_neigh +$((n1 - n0)); $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 20 requests failed with the next hop unresolved"
	[ $((n1 - n0)) -ge 1 ] || die_case "no packet went to the kernel for an unresolved next hop"
	xlbctl_ok vip del "$VIP4:80/tcp"
}

# vip set fwd between dsr-l2 and ipip under load: connections held open on the two backends of
# segment A (which both modes reach) keep their backend and never break; the packets between
# the switches went encapsulated.
case_fwd_switch_keeps_connections() {
	local e0 e1 i bad
	xlbctl_ok vip add "$VIP4:80/tcp"
	xlbctl_ok backend add "$VIP4:80/tcp" "${BE_IP4[4]}"
	xlbctl_ok backend add "$VIP4:80/tcp" "${BE_IP4[5]}"
	wait_for 10 all_backends_up "$VIP4:80/tcp" || die_case "dsr-l2 backends not up"
	long_start "$VIP4" 20 sw
	e0=$(counter encap_ipv4_in_ipv4)
	xlbctl_ok vip set "$VIP4:80/tcp" fwd ipip
	sleep 1
	e1=$(counter encap_ipv4_in_ipv4)
	xlbctl_ok vip set "$VIP4:80/tcp" fwd dsr-l2
	sleep 1
	long_stop sw
	note "encapsulated while ipip: $((e1 - e0))"
	[ $((e1 - e0)) -ge 100 ] || die_case "only $((e1 - e0)) packets encapsulated in a second of 20 busy connections"
	bad=0
	for i in 4 5; do
		bad=$((bad + $(long_bad_on sw "be$i")))
	done
	[ "$bad" -eq 0 ] || die_case "$bad of 20 connections broke across the switches"
	[ $(($(long_ok_on sw be4) + $(long_ok_on sw be5))) -eq 20 ] || die_case "not all 20 connections finished ok"
	xlbctl_ok vip del "$VIP4:80/tcp"
}

# fwd ipip is what lets an IPv4 VIP have an IPv6 backend: dsr-l2 refuses it, and a switch
# back to dsr-l2 while it has one.
case_family_rules() {
	local out
	xlbctl_ok vip add "$VIP4:81/tcp"
	out=$(xlbctl backend add "$VIP4:81/tcp" "${BE_IP6[1]}" 2>&1) && die_case "dsr-l2 took an IPv6 backend for an IPv4 VIP"
	note "refused: $out"
	xlbctl_ok vip set "$VIP4:81/tcp" fwd ipip
	xlbctl_ok backend add "$VIP4:81/tcp" "${BE_IP6[1]}"
	out=$(xlbctl vip set "$VIP4:81/tcp" fwd dsr-l2 2>&1) && die_case "switched to dsr-l2 with an IPv6 backend"
	note "refused: $out"
	[[ $out == *"fwd ipip"* ]] || die_case "the refusal does not say what takes it: $out"
	xlbctl_ok vip del "$VIP4:81/tcp"
}

# A router's ICMP error about a backend's reply (from the VIP, to the client) reaches the LB,
# which sends it to the backend of that flow: that backend's kernel, and no other's, lowers its
# path MTU to the client. A UDP flow: the backend's socket takes the error whatever the data.
case_icmp_error_reaches_backend() {
	local i be ans r0 r1 mtu
	for i in 1 2 3; do
		# nsenter execs python: $! is the server's pid (track stops it).
		nsenter --net="/run/netns/${BE_NS[$i]}" -- "$PY" "$IT_PY/udpd.py" "be$i" \
			"$IT_TMP/udpd.$i.ready" "$VIP4" >/dev/null 2>&1 &
		track $!
		wait_for 5 test -e "$IT_TMP/udpd.$i.ready" || die_case "udpd on be$i did not start"
	done
	ipip_vip "$VIP4:53/udp" 1 2 3
	ans=$(in_client "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$CL_IP4', 45000))
s.settimeout(2)
s.sendto(b'ping', ('$VIP4', 53))
print(s.recv(100).decode())")
	be=${ans#pong be}
	[[ $be =~ ^[123]$ ]] || die_case "no answer from the UDP VIP: '$ans'"
	note "the flow is on be$be"
	r0=$(counter icmp_relayed)
	in_client "$PY" "$IT_PY/icmp_err.py" "$VIP4" "$CL_IP4" 53 45000 1300
	wait_for 5 bash -c "nsenter --net=/run/netns/${BE_NS[$be]} -- ip route get $CL_IP4 from $VIP4 | grep -q 'mtu 1300'" ||
		die_case "be$be did not learn mtu 1300 toward the client: $(in_ns "${BE_NS[$be]}" ip route get "$CL_IP4" from "$VIP4" | tr '\n' ' ')"
	r1=$(counter icmp_relayed)
	[ $((r1 - r0)) -eq 1 ] || die_case "icmp_relayed +$((r1 - r0)), want 1"
	for i in 1 2 3; do
		[ "$i" != "$be" ] || continue
		mtu=$(in_ns "${BE_NS[$i]}" ip route get "$CL_IP4" from "$VIP4" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
		[ -z "$mtu" ] || die_case "be$i (not the flow's backend) got the error too: mtu $mtu"
	done
	xlbctl_ok vip del "$VIP4:53/udp"
}

# flow explain on an ipip VIP names the backend real traffic reaches and says how it leaves.
case_explain_ipip() {
	local out=$IT_TMP/ex.out why be
	ipip_vip "$VIP4:80/tcp" 1 2 3
	curl_many "$VIP4" 1 ex "$out"
	be=$(awk '{print $2}' "$out")
	why=$(xlbctl flow explain "$CL_IP4:$(awk '{print $3}' "$out")" "$VIP4:80/tcp" ack)
	note "request went to $be; explain: $why"
	[[ $why == *"ipip: encapsulated to its address"* ]] || die_case "explain does not say ipip: $why"
	[[ $why == *"${BE_IP4[${be#be}]}"* ]] || die_case "explain names another backend than $be (${BE_IP4[${be#be}]}): $why"
	xlbctl_ok vip del "$VIP4:80/tcp"
}

# xlbd restarts under an ipip VIP's busy connections: the pinned maps (its mode, the flows) are
# reused, the redirect ports and tunnel sources written again; no connection breaks.
case_restart_keeps_ipip_flows() {
	local bad=0 i e0 e1
	ipip_vip "$VIP4:80/tcp" 1 2 3
	long_start "$VIP4" 12 rs
	xlbd_stop || die_case "xlbd did not stop"
	xlbd_start || die_case "xlbd did not start again"
	e0=$(counter encap_ipv4_in_ipv4)
	sleep 1
	e1=$(counter encap_ipv4_in_ipv4)
	long_stop rs
	for i in 1 2 3; do
		bad=$((bad + $(long_bad_on rs "be$i")))
	done
	[ "$bad" -eq 0 ] || die_case "$bad of 12 connections broke across the restart"
	[ $((e1 - e0)) -gt 50 ] || die_case "only $((e1 - e0)) packets encapsulated after the restart"
	xlbctl_ok vip del "$VIP4:80/tcp"
}

# Draining and disabling an ipip backend: drained, it keeps its connections and gets no new
# one; disabled, new connections go to the others and none fails.
case_drain_and_disable() {
	local out=$IT_TMP/dr.out bad
	ipip_vip "$VIP4:80/tcp" 1 2 3
	long_start "$VIP4" 12 dr
	xlbctl_ok backend set "$VIP4:80/tcp" "${BE_IP4[2]}" drain
	curl_many "$VIP4" 120 dr "$out"
	note "while be2 drains: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 120 failed while be2 drains"
	[ "$(count_backend "$out" be2)" -eq 0 ] || die_case "draining be2 got $(count_backend "$out" be2) new connections"
	long_stop dr
	bad=$(($(long_bad_on dr be1) + $(long_bad_on dr be2) + $(long_bad_on dr be3)))
	[ "$bad" -eq 0 ] || die_case "$bad connections broke while be2 drained"
	[ "$(long_count_on dr be2)" -eq 0 ] || [ "$(long_ok_on dr be2)" -gt 0 ] || die_case "be2's connections did not finish"
	xlbctl_ok backend set "$VIP4:80/tcp" "${BE_IP4[2]}" disable
	curl_many "$VIP4" 120 ds "$out"
	note "be2 disabled: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 120 failed with be2 disabled"
	[ "$(count_backend "$out" be2)" -eq 0 ] || die_case "disabled be2 got $(count_backend "$out" be2) connections"
	xlbctl_ok vip del "$VIP4:80/tcp"
}

run_case ipv4_spread_by_weight case_ipv4_spread_by_weight
run_case ipv6_spread case_ipv6_spread
run_case ipv4_transfers case_ipv4_transfers
run_case ipv6_transfers case_ipv6_transfers
run_case ipv4_over_ipv6_transfers case_ipv4_over_ipv6_transfers
run_case unresolved_next_hop case_unresolved_next_hop
run_case fwd_switch_keeps_connections case_fwd_switch_keeps_connections
run_case family_rules case_family_rules
run_case icmp_error_reaches_backend case_icmp_error_reaches_backend
run_case explain_ipip case_explain_ipip
run_case restart_keeps_ipip_flows case_restart_keeps_ipip_flows
run_case drain_and_disable case_drain_and_disable
it_finish
