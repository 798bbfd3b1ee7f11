#!/bin/bash
# test_tx_ports.sh - ipip's XDP_REDIRECT targets follow the LB's interfaces while xlbd runs: links made later are used, deleted ones leave, an overflow resynchronises.
# Usage: tests/integration/test_tx_ports.sh BUILD_DIR
#
# The topology is scripts/topo_routed.sh's with one backend behind the router; xlbd runs
# before every case. A case makes a second link from the LB to the router and moves the route
# to the backends' subnet onto it, so that the tunnel packets to be1 leave by an interface that
# did not exist when xlbd started (docs/datapath.md, "ipip"):
#
#   client -- (segment A) -- xlb-NAME [LB, XDP] xlbr-NAME -- lbl [router] eth1 -- be1
#                                               xlbn-NAME -- lbn [router]
#                                   10.220.8.1 (made by the case) 10.220.8.2
#
# xlb_tx_ports is not pinned: the cases read it through the program attached to xlb-NAME.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_use_routed 0
command -v bpftool >/dev/null || IT_SETUP_SKIP=${IT_SETUP_SKIP:-"no bpftool"}
it_setup 1

NEW_LB4=10.220.8.1
NEW_RT4=10.220.8.2

counter() {
	xlbctl -j stats show | json_get "j['counters'].get('$1', 0)"
}

# The ifindexes in xlb_tx_ports of the program on the LB's interface, one a line.
tx_ports() {
	local prog map
	prog=$(in_ns "$LB_NS" bpftool -j net show dev "$LB_IF" | json_get "j[0]['xdp'][0]['id']")
	for map in $(bpftool -j prog show id "$prog" | json_get "' '.join(str(m) for m in j['map_ids'])"); do
		[ "$(bpftool -j map show id "$map" | json_get "j['name']")" = xlb_tx_ports ] || continue
		bpftool -j map dump id "$map" |
			json_get "'\n'.join(str(int.from_bytes(bytes(int(b, 16) for b in e['key']), 'little')) for e in j)"
		return 0
	done
	echo "no xlb_tx_ports among the maps of program $prog" >&2
	return 1
}

# ifindex_of IF: the ifindex of the LB's interface IF (nsenter keeps the host's /sys).
ifindex_of() { in_ns "$LB_NS" ip -o link show dev "$1" | cut -d: -f1; }

# tx_port_in IFINDEX / tx_port_out IFINDEX: it is in the devmap / it is not (reading it failed:
# neither).
tx_port_in() {
	local p
	p=$(tx_ports) && grep -qx "$1" <<<"$p"
}
tx_port_out() {
	local p
	p=$(tx_ports) && ! grep -qx "$1" <<<"$p"
}

# new_link: the LB's second link to the router (xlbn-NAME, lbn), with the route to the
# backends' subnet on it; prints the LB side's ifindex.
new_link() {
	local lif=xlbn-$TOPO_NAME mac
	old_link # what a failed case left
	in_ns "$LB_NS" ip link add "$lif" type veth peer name lbn netns "$RT_NS"
	in_ns "$LB_NS" ip link set "$lif" up
	in_ns "$RT_NS" ip link set lbn up
	in_ns "$LB_NS" ip addr add "$NEW_LB4/24" dev "$lif"
	in_ns "$RT_NS" ip addr add "$NEW_RT4/24" dev lbn
	# XDP_REDIRECT into a veth needs NAPI on its peer (DESIGN.md, machine facts).
	in_ns "$RT_NS" ethtool -K lbn gro on >/dev/null
	mac=$(in_ns "$RT_NS" ip -br link show lbn | awk '{print $3}')
	in_ns "$LB_NS" ip neigh replace "$NEW_RT4" lladdr "$mac" dev "$lif" nud permanent
	in_ns "$LB_NS" ip route replace "${BE_IP4[1]%.*}.0/24" via "$NEW_RT4" dev "$lif"
	ifindex_of "$lif"
}

# The route back on the topology's own link; the case's link deleted (if it is there).
old_link() {
	in_ns "$LB_NS" ip route replace "${BE_IP4[1]%.*}.0/24" via "$LINK_RT4" dev "$LB_LINK_IF"
	in_ns "$LB_NS" ip link del "xlbn-$TOPO_NAME" 2>/dev/null || true
}

rx_packets() {
	in_ns "$RT_NS" ip -j -s link show "$1" | json_get "j[0]['stats64']['rx']['packets']"
}

# traffic_redirected TAG: 30 connections to the VIP all answered; their tunnel packets left by
# XDP_REDIRECT (none through the kernel for want of a devmap entry) and arrived on lbn.
traffic_redirected() {
	local out=$IT_TMP/$1.out r0 p0 l0 r1 p1 l1
	r0=$(counter xdp_redirect)
	p0=$(counter pass_no_tx_port)
	l0=$(rx_packets lbn)
	curl_many "$VIP4" 30 "$1" "$out"
	r1=$(counter xdp_redirect)
	p1=$(counter pass_no_tx_port)
	l1=$(rx_packets lbn)
	note "$1: xdp_redirect +$((r1 - r0)) pass_no_tx_port +$((p1 - p0)) lbn rx +$((l1 - l0)); $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$1: $(count_failed "$out") of 30 requests failed"
	[ $((p1 - p0)) -eq 0 ] || die_case "$1: $((p1 - p0)) packets went to the kernel for want of a devmap entry (pass_no_tx_port)"
	[ $((r1 - r0)) -ge 90 ] || die_case "$1: only $((r1 - r0)) packets redirected for 30 connections"
	[ $((l1 - l0)) -ge 90 ] || die_case "$1: only $((l1 - l0)) packets arrived over the new link"
}

ipip_vip1() {
	xlbctl_ok vip add "$VIP4:80/tcp" fwd ipip
	xlbctl_ok backend add "$VIP4:80/tcp" "${BE_IP4[1]}"
	wait_for 10 all_backends_up "$VIP4:80/tcp" || die_case "be1 not up"
}

# A link made after xlbd started gets a devmap entry, and the tunnel packets that leave by it
# go by XDP_REDIRECT, not through the kernel.
case_new_link_redirects() {
	local ifx
	ifx=$(new_link)
	note "new link ifindex $ifx"
	wait_for 5 tx_port_in "$ifx" || die_case "ifindex $ifx not in xlb_tx_ports 5 s after it appeared: $(tx_ports | tr '\n' ' ')"
	ipip_vip1
	traffic_redirected nl
	xlbctl_ok vip del "$VIP4:80/tcp"
	old_link
}

# A deleted link's entry goes; the same link made again (a new ifindex) gets its own entry and
# carries the tunnel packets by XDP_REDIRECT. xlbd logs both changes.
case_deleted_link_leaves() {
	local ifa ifb
	ifa=$(new_link)
	wait_for 5 tx_port_in "$ifa" || die_case "ifindex $ifa not in xlb_tx_ports: $(tx_ports | tr '\n' ' ')"
	in_ns "$LB_NS" ip link del "xlbn-$TOPO_NAME"
	wait_for 5 tx_port_out "$ifa" || die_case "deleted ifindex $ifa still in xlb_tx_ports"
	wait_for 5 grep -q "msg=\"interface removed for XDP_REDIRECT\" ifindex=$ifa " "$IT_TMP/xlbd.log" ||
		die_case "xlbd did not log the removal of ifindex $ifa"
	ifb=$(new_link)
	note "link made again: ifindex $ifa, then $ifb"
	[ "$ifa" != "$ifb" ] || die_case "the link made again has the same ifindex $ifa: the case shows nothing"
	wait_for 5 tx_port_in "$ifb" || die_case "ifindex $ifb (made again) not in xlb_tx_ports: $(tx_ports | tr '\n' ' ')"
	grep -q "msg=\"interface added for XDP_REDIRECT\" ifindex=$ifb " "$IT_TMP/xlbd.log" ||
		die_case "xlbd did not log the addition of ifindex $ifb"
	ipip_vip1
	traffic_redirected dl
	xlbctl_ok vip del "$VIP4:80/tcp"
	old_link
}

# Links made and deleted while xlbd does not read (stopped): its monitor socket overflows and
# the events are lost. xlbd answers with a full resynchronisation: the links that stay are in
# the devmap, the deleted ones are not, and traffic leaves by the new link.
case_overflow_resyncs() {
	local pid i rc keep gone ifx n0 n1 ports
	pid=$(xlbd_pid)
	n0=$(grep -c "link monitor overflowed" "$IT_TMP/xlbd.log" || true)
	kill -STOP "$pid"
	# In a subshell, so that xlbd is continued whatever fails in it.
	set +e
	(
		set -e
		for i in $(seq 120); do
			in_ns "$LB_NS" ip link add "xo$i" type veth peer name "xp$i" netns "$RT_NS"
			in_ns "$LB_NS" ip link set "xo$i" up
		done
		for i in $(seq 120); do
			if [ $((i % 10)) -eq 0 ]; then
				ifindex_of "xo$i" >>"$IT_TMP/ov.keep"
			else
				ifindex_of "xo$i" >>"$IT_TMP/ov.gone"
				in_ns "$LB_NS" ip link del "xo$i"
			fi
		done
		new_link >"$IT_TMP/ov.new"
	)
	rc=$?
	set -e
	kill -CONT "$pid"
	[ "$rc" -eq 0 ] || die_case "making the links failed"
	keep=$(cat "$IT_TMP/ov.keep")
	gone=$(cat "$IT_TMP/ov.gone")
	ifx=$(cat "$IT_TMP/ov.new")
	wait_for 10 tx_port_in "$ifx" || die_case "ifindex $ifx (made while xlbd was stopped) not in xlb_tx_ports"
	n1=$(grep -c "link monitor overflowed" "$IT_TMP/xlbd.log" || true)
	note "overflows logged: $n0 -> $n1; kept: $(echo "$keep" | tr '\n' ' ')"
	[ "$n1" -gt "$n0" ] || die_case "the link monitor did not overflow: the case tests nothing"
	ports=$(tx_ports)
	for i in $keep; do
		grep -qx "$i" <<<"$ports" || die_case "ifindex $i (kept) not in xlb_tx_ports after the resynchronisation"
	done
	for i in $gone; do
		! grep -qx "$i" <<<"$ports" || die_case "ifindex $i (deleted) still in xlb_tx_ports"
	done
	ipip_vip1
	traffic_redirected ov
	xlbctl_ok vip del "$VIP4:80/tcp"
	old_link
	for i in $(seq 10 10 120); do
		in_ns "$LB_NS" ip link del "xo$i"
	done
}

# log_since LINE PATTERN: lines of xlbd's log after line LINE that contain PATTERN.
log_since() { tail -n "+$(($1 + 1))" "$IT_TMP/xlbd.log" | grep -cF -- "$2" || true; }
refusals_since() { log_since "$1" "interface not usable for XDP_REDIRECT"; }
refusals_at_least() { [ "$(refusals_since "$1")" -ge "$2" ]; }
tx_ports_count_is() { [ "$(tx_ports | wc -l)" -eq "$1" ]; }

# More links than the devmap holds (256): those the kernel refuses are logged once each, however
# many messages their links send after; when an entry leaves, a refused link takes its place.
case_full_map_logged_once() {
	local l0 n need i ports refused=()
	l0=$(wc -l <"$IT_TMP/xlbd.log")
	n=$(tx_ports | wc -l)
	need=$((256 - n + 2))
	for i in $(seq "$need"); do
		echo "link add xf$i type veth peer name yf$i netns $RT_NS"
	done >"$IT_TMP/full.add"
	in_ns "$LB_NS" ip -batch "$IT_TMP/full.add"
	wait_for 20 tx_ports_count_is 256 || true
	wait_for 20 refusals_at_least "$l0" 2 ||
		die_case "$(refusals_since "$l0") refusals logged for $need links over $n entries, want 2"
	ports=$(tx_ports)
	[ "$(wc -l <<<"$ports")" -eq 256 ] || die_case "the devmap holds $(wc -l <<<"$ports") entries, not 256"
	for i in $(seq "$need"); do
		grep -qx "$(ifindex_of "xf$i")" <<<"$ports" || refused+=("$i")
	done
	note "refused: ${refused[*]}"
	[ "${#refused[@]}" -eq 2 ] || die_case "${#refused[@]} links refused, want 2"
	# Every link sends messages again (up, a new MTU): nothing is logged again.
	for i in $(seq "$need"); do
		echo "link set xf$i up mtu 1400"
	done >"$IT_TMP/full.set"
	in_ns "$LB_NS" ip -batch "$IT_TMP/full.set"
	in_ns "$LB_NS" ip link set "xf${refused[0]}" down
	xlbctl_ok vip show # xlbd has read what came before this answer
	sleep 0.5
	[ "$(refusals_since "$l0")" -eq 2 ] || die_case "refusals logged $(refusals_since "$l0") times for 2 links"
	# Room for one: an accepted link goes, one of the refused comes in.
	i=1
	while [ "$i" = "${refused[0]}" ] || [ "$i" = "${refused[1]}" ]; do i=$((i + 1)); done
	in_ns "$LB_NS" ip link del "xf$i"
	wait_for 5 tx_ports_count_is 256 || true
	ports=$(tx_ports)
	n=0
	for i in "${refused[@]}"; do
		if grep -qx "$(ifindex_of "xf$i")" <<<"$ports"; then n=$((n + 1)); fi
	done
	[ "$n" -eq 1 ] || die_case "$n of the 2 refused links in the devmap after one entry left, want 1"
	for i in $(seq "$need"); do
		echo "link del xf$i"
	done >"$IT_TMP/full.del"
	in_ns "$LB_NS" ip -force -batch "$IT_TMP/full.del" 2>/dev/null || true
}

overflows_above() { [ "$(grep -c "link monitor overflowed" "$IT_TMP/xlbd.log" || true)" -gt "$1" ]; }

# A resynchronisation in a namespace of more links than one dump buffer held (1,024): a link in
# the devmap that comes late in the dump (a high ifindex) stays in it.
case_many_links_resync() {
	local pid rc n0 n1 x=xm0 nlinks=1100 i
	in_ns "$LB_NS" ip link add "$x" index 200000 type veth peer name ym0 netns "$RT_NS"
	in_ns "$LB_NS" ip link set "$x" up
	wait_for 10 tx_port_in 200000 || die_case "ifindex 200000 not in xlb_tx_ports"
	pid=$(xlbd_pid)
	n0=$(grep -c "link monitor overflowed" "$IT_TMP/xlbd.log" || true)
	for i in $(seq "$nlinks"); do
		echo "link add xk$i type veth peer name yk$i netns $RT_NS"
	done >"$IT_TMP/many.add"
	# xlbd stopped while they come: its monitor overflows, and it resynchronises from a dump.
	kill -STOP "$pid"
	set +e
	in_ns "$LB_NS" ip -batch "$IT_TMP/many.add"
	rc=$?
	set -e
	kill -CONT "$pid"
	[ "$rc" -eq 0 ] || die_case "making $nlinks links failed"
	wait_for 20 overflows_above "$n0" || true
	xlbctl_ok vip show # xlbd has read what came before this answer
	n1=$(grep -c "link monitor overflowed" "$IT_TMP/xlbd.log" || true)
	note "overflows logged: $n0 -> $n1; links in the namespace: $(in_ns "$LB_NS" ip -o link show | wc -l)"
	[ "$n1" -gt "$n0" ] || die_case "the link monitor did not overflow: the case tests nothing"
	tx_port_in 200000 || die_case "ifindex 200000 left xlb_tx_ports at the resynchronisation"
	for i in $(seq "$nlinks"); do
		echo "link del xk$i"
	done >"$IT_TMP/many.del"
	in_ns "$LB_NS" ip -force -batch "$IT_TMP/many.del" 2>/dev/null || true
	in_ns "$LB_NS" ip link del "$x"
}

run_case new_link_redirects case_new_link_redirects
run_case deleted_link_leaves case_deleted_link_leaves
run_case overflow_resyncs case_overflow_resyncs
run_case full_map_logged_once case_full_map_logged_once
run_case many_links_resync case_many_links_resync
it_finish
