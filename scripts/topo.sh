#!/bin/bash
# topo.sh - throwaway network-namespace topologies for xlb: a client, the LB and N backends on one
# L2 segment (a Linux bridge in its own namespace), backends running nginx behind a VIP (L2 DSR).
#
#                         namespace xlb-NAME-sw
#                  +-----------------------------------+
#                  |               br0                 |
#                  |  port cl     port lb     port beI |
#                  +----|-----------|-----------|------+
#                       | veth      | veth      | veth          (one backend pair per I = 1..N)
#   xlb-NAME-cl    eth0 |           | xlb-NAME  | eth0   xlb-NAME-beI
#   +------------------+  +------------------+  +------------------------------------+
#   | client           |  | load balancer    |  | backend I: nginx answers "beI\n"   |
#   | 10.210.0.2       |  | 10.210.0.1       |  | 10.210.0.(10+I), fd00:210::(10+I)  |
#   | fd00:210::2      |  | fd00:210::1      |  | lo: VIP 10.211.0.10/32,            |
#   | VIPs via the LB  |  | xlbd, XDP here   |  |     fd00:211::10/128 (no ARP/ND)   |
#   +------------------+  +------------------+  +------------------------------------+
#
#   nginx on a backend answers every path with "beI\n" (header X-Backend: beI), except /status500
#   (status 500, for failing health checks).
#   client -> VIP: routed to the LB's MAC; XDP rewrites the destination MAC to a backend's and
#   sends the frame back out (XDP_TX); the backend owns the VIP on lo and answers the client
#   directly (direct server return), never through the LB.
#
# Usage: topo.sh up NAME NBACKENDS         build it (fails if NAME exists)
#        topo.sh down NAME                  stop its nginx processes, delete its namespaces, state
#        topo.sh env NAME                   print shell variables describing it (for eval)
#        topo.sh nginx NAME I stop|start    stop or start backend I's nginx (a failed backend)
#        topo.sh list                       names of the topologies that exist
# NAME: 1-8 lower-case letters or digits (tests pass a random one). State lives in
# $XLB_TOPO_DIR/NAME (default /tmp/xlb-topo/NAME).
set -euo pipefail

TOPO_ROOT=${XLB_TOPO_DIR:-/tmp/xlb-topo}
# Addresses are per namespace, so every topology can use the same ones; only the LB interface
# name must differ between topologies, because xlbd pins its maps under /sys/fs/bpf/xlb/<ifname>
# and bpffs is shared by all network namespaces.
NET4=10.210.0
NET6=fd00:210:
VIP4=10.211.0.10
VIP6=fd00:211::10
LB_IP4=$NET4.1
LB_IP6=$NET6:1
CL_IP4=$NET4.2
CL_IP6=$NET6:2
LB_MAC=02:00:0a:d2:00:01
CL_MAC=02:00:0a:d2:00:02
MAX_BACKENDS=20

# shellcheck source=scripts/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
NGINX_STATUS500=1

be_ip4() { echo "$NET4.$((10 + $1))"; }
be_ip6() { echo "$NET6:$((10 + $1))"; }
be_mac() { printf '02:00:0a:d2:00:%02x\n' $((10 + $1)); }
be_ns() { echo "xlb-$name-be$1"; }
be_name() { echo "be$1"; }
be_log() { echo "$dir/be$1/access.log"; }

usage() {
	# shellcheck disable=SC2016 # a sed address, not an expansion
	usage_until '^# \$XLB_TOPO_DIR'
}

# A port on the bridge br0 (the only one): veth_port without the bridge argument.
add_port() {
	veth_port br0 "$@"
}

start_backend_nginx() {
	start_nginx "$1" "xlb-$name-be$1" "$VIP4" "$VIP6" "$(be_ip4 "$1")" "$(be_ip6 "$1")"
}

write_env() {
	local n=$1 i
	{
		echo "TOPO_NAME=$name"
		echo "TOPO_DIR=$dir"
		echo "SW_NS=$sw_ns"
		echo "CL_NS=xlb-$name-cl"
		echo "LB_NS=xlb-$name-lb"
		echo "CL_IF=eth0"
		echo "LB_IF=xlb-$name"
		echo "BE_IF=eth0"
		echo "CL_IP4=$CL_IP4"
		echo "CL_IP6=$CL_IP6"
		echo "CL_MAC=$CL_MAC"
		echo "LB_IP4=$LB_IP4"
		echo "LB_IP6=$LB_IP6"
		echo "LB_MAC=$LB_MAC"
		echo "VIP4=$VIP4"
		echo "VIP6=$VIP6"
		echo "BE_COUNT=$n"
		# Arrays indexed 1..N, one entry per backend.
		env_array BE_NS "$n" be_ns
		env_array BE_IP4 "$n" be_ip4
		env_array BE_IP6 "$n" be_ip6
		env_array BE_MAC "$n" be_mac
		env_array BE_NAME "$n" be_name
		env_array BE_LOG "$n" be_log
	} >"$dir/env"
}

do_up() {
	local n=$1 i ns lb_ns cl_ns q
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt $MAX_BACKENDS ]; then
		die "bad NBACKENDS '$n': 1..$MAX_BACKENDS"
	fi
	# From here on, a failure (or an interrupt) tears the half-built topology down on exit.
	up_begin topology

	lb_ns=xlb-$name-lb
	cl_ns=xlb-$name-cl
	add_ns "$sw_ns"
	add_ns "$cl_ns"
	add_ns "$lb_ns"
	for i in $(seq "$n"); do
		add_ns "xlb-$name-be$i"
	done
	add_bridge br0

	# Client.
	add_port cl "$cl_ns" eth0 $CL_MAC
	addrs "$cl_ns" eth0 "$CL_IP4/24" "$CL_IP6/64"

	# LB, one queue per CPU (lb_queues).
	q=$(lb_queues)
	add_port lb "$lb_ns" "xlb-$name" $LB_MAC numtxqueues "$q" numrxqueues "$q"
	addrs "$lb_ns" "xlb-$name" "$LB_IP4/24" "$LB_IP6/64"

	# Backends: the VIPs on lo, never announced or answered for on eth0 (tests check both).
	for i in $(seq "$n"); do
		ns=xlb-$name-be$i
		arp_hide_sysctls "$ns"
		add_port "be$i" "$ns" eth0 "$(be_mac "$i")"
		addrs "$ns" eth0 "$(be_ip4 "$i")/24" "$(be_ip6 "$i")/64"
		vips_on_lo "$ns" "$VIP4" "$VIP6"
	done

	# Everything entering the LB must carry finished checksums: the client's sender and the
	# bridge ports on that path.
	tx_csum_off "$cl_ns" eth0
	tx_csum_off "$sw_ns" cl lb

	# XDP_PASS on the bridge side of the LB's veth, so the LB's XDP_TX frames are delivered.
	xdp_pass lb

	# The client reaches the VIPs through the LB.
	ip -n "$cl_ns" route add "$VIP4/32" via "$LB_IP4"
	ip -n "$cl_ns" -6 route add "$VIP6/128" via "$LB_IP6"

	# xlbd takes backend MACs from the LB's neighbour table: fill it now, permanently, so that
	# no test depends on ARP/ND timing (or on xlbd provoking resolution).
	for i in $(seq "$n"); do
		neigh_permanent "$lb_ns" "xlb-$name" "$(be_mac "$i")" "$(be_ip4 "$i")" "$(be_ip6 "$i")"
	done

	for i in $(seq "$n"); do
		start_backend_nginx "$i"
	done

	write_env "$n"
	up_done
}

do_down() {
	local bdir pid pids=()
	set +e
	for bdir in "$dir"/be*/; do
		[ -d "$bdir" ] && pid=$(nginx_pid "${bdir%/}") && pids+=("$pid")
	done
	[ ${#pids[@]} -eq 0 ] || stop_pids "${pids[@]}"
	# Namespaces recorded by up, plus any with our prefix in case the record was lost.
	del_netns "^xlb-$name-(sw|cl|lb|be[0-9]+)\$"
	# xlbd's pins are named after our LB interface: nobody else's. Whoever ran xlbd normally
	# removes them (`xlbctl prog detach`); this catches a crashed run.
	[ -d "/sys/fs/bpf/xlb/xlb-$name" ] && rm -rf "/sys/fs/bpf/xlb/xlb-$name"
	rm -rf "$dir"
	set -e
	return 0
}

main() {
	local cmd=${1:-}
	[ $# -ge 1 ] || usage
	case $cmd in
	list)
		[ -d "$TOPO_ROOT" ] && ls -1 "$TOPO_ROOT"
		exit 0
		;;
	up) [ $# -eq 3 ] || usage ;;
	down | env) [ $# -eq 2 ] || usage ;;
	nginx) [ $# -eq 4 ] || usage ;;
	*) usage ;;
	esac
	name=$2
	check_name "$name"
	dir=$TOPO_ROOT/$name
	sw_ns=xlb-$name-sw
	case $cmd in
	up) do_up "$3" ;;
	down) do_down ;;
	env)
		[ -f "$dir/env" ] || die "no topology $name"
		cat "$dir/env"
		;;
	nginx) do_nginx "$3" "$4" ;;
	esac
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
main "$@"
