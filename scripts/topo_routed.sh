#!/bin/bash
# topo_routed.sh - a netns topology for `fwd ipip`: client and LB on one segment, backends behind a router on another subnet.
#
#      segment A (bridge br0, namespace xlb-NAME-sw)             segment B (bridge br1, same namespace)
#   +---------------------------------------------+          +------------------------------------+
#   | port cl        port lb          port rta    |          | port rtb    port be1 .. port beN   |
#   +---|--------------|-----------------|--------+          +----|-----------|-------------------+
#  eth0 |     xlb-NAME |            eth0 |                   eth1 |      eth0 |
#   +--------+  +-----------------+  +-----------------------------------+  +-------------------------+
#   | client |  | load balancer   |  | router                            |  | backend I               |
#   | .0.2   |  | 10.220.0.1      |  | 10.220.0.254 fd00:220::fe (eth0)  |  | 10.221.0.(10+I)         |
#   | ::2    |  | fd00:220::1     |  | 10.220.9.2 fd00:220:9::2 (lbl)    |  | fd00:221::(10+I)        |
#   +--------+  | xlbd, XDP on    |  | 10.221.0.1 fd00:221::1 (eth1)     |  | xlb-backend attach eth0 |
#               | xlb-NAME        |  +-----------------------------------+  | + vip add: xlb_decap,   |
#               | xlbr-NAME ------------ lbl (a link of its own)           |  | VIPs on lo; nginx, and  |
#               | 10.220.9.1      |                                         |  | bulk.py on port 9000    |
#               +-----------------+                                         +-------------------------+
#
#   client -> VIP: routed to the LB (segment A). The LB encapsulates toward the backend's address:
#   IPv4 backends (10.221.0.0/24) are routed via 10.220.9.2, out xlbr-NAME: XDP_REDIRECT; IPv6
#   backends (fd00:221::/64) via fd00:220::fe, out the receiving interface: XDP_TX. The router
#   forwards the tunnel packet to the backend, whose xlb_decap strips the outer header; the
#   backend answers the client from the VIP, through the router, never through the LB (DSR).
#   Every link has MTU 1500: a full-size client packet does not fit once encapsulated, and the LB
#   answers it with ICMP fragmentation-needed / packet-too-big (docs/datapath.md, "ipip").
#
# Usage: topo_routed.sh up NAME NBACKENDS [NLOCAL]  build it (fails if NAME exists); NLOCAL more
#                                           backends on segment A (for dsr-l2), numbered after
#                                           the routed ones: 10.220.0.(10+I), fd00:220::(10+I)
#        topo_routed.sh down NAME              stop its servers, delete its namespaces and pins
#        topo_routed.sh env NAME               print shell variables describing it (for eval)
#        topo_routed.sh nginx NAME I stop|start  stop or start backend I's nginx (a failed backend)
#        topo_routed.sh agent NAME I ARGS...   run backend I's xlb-backend with ARGS, in its
#                                           namespace, with its run directory and pins
# NAME: 1-8 lower-case letters or digits. State lives in $XLB_TOPO_DIR/NAME (default
# /tmp/xlb-topo/NAME). XLB_BACKEND: the xlb-backend binary (default build/xlb-backend);
# XLB_TOPO_LOCAL: NLOCAL when not given (tests/integration/lib.sh passes NBACKENDS only).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOPO_ROOT=${XLB_TOPO_DIR:-/tmp/xlb-topo}
XLB_BACKEND=${XLB_BACKEND:-$ROOT/build/xlb-backend}
VIP4=10.222.0.10
VIP6=fd00:222::10
LB_IP4=10.220.0.1
LB_IP6=fd00:220::1
CL_IP4=10.220.0.2
CL_IP6=fd00:220::2
RT_IP4=10.220.0.254
RT_IP6=fd00:220::fe
LINK_LB4=10.220.9.1
LINK_RT4=10.220.9.2
LINK_LB6=fd00:220:9::1
LINK_RT6=fd00:220:9::2
BNET4=10.221.0
BNET6=fd00:221:
LB_MAC=02:00:0a:dc:00:01
CL_MAC=02:00:0a:dc:00:02
MAX_BACKENDS=8

# shellcheck source=scripts/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"

usage() {
	usage_until '^# \/tmp'
}

# Backends 1..nrouted are behind the router; those after it (local ones) on segment A.
nrouted=0
be_ip4() { if [ "$1" -le "$nrouted" ]; then echo "$BNET4.$((10 + $1))"; else echo "10.220.0.$((10 + $1))"; fi; }
be_ip6() { if [ "$1" -le "$nrouted" ]; then echo "$BNET6:$((10 + $1))"; else echo "fd00:220::$((10 + $1))"; fi; }
be_ns() { echo "xlb-$name-be$1"; }
be_name() { echo "be$1"; }
be_log() { echo "$dir/be$1/access.log"; }

# Backend I's xlb-backend, with its own run directory and pins.
backend_agent() {
	local i=$1
	shift
	XLB_BACKEND_RUN_DIR=$dir/be$i/run XLB_BACKEND_PIN_DIR=/sys/fs/bpf/xlb-backend-$name-be$i \
		in_ns "xlb-$name-be$i" "$XLB_BACKEND" "$@"
}

start_backend_nginx() {
	start_nginx "$1" "xlb-$name-be$1" "$VIP4" "$VIP6" "$(be_ip4 "$1")" "$(be_ip6 "$1")"
}

start_backend() {
	local i=$1 ns=$2 bdir=$dir/be$1
	mkdir -p "$bdir/run"
	start_backend_nginx "$i"
	# The bulk server: uploads and downloads of any size, one connection each.
	# nsenter itself, not in_ns (a function: $! would be a subshell's): nsenter execs python,
	# so $! is the server's pid, which down stops.
	nsenter --net="/run/netns/$ns" -- /usr/bin/python3 "$ROOT/tests/integration/py/bulk.py" \
		serve "be$i" 9000 "$VIP4" "$VIP6" >"$bdir/bulk.log" 2>&1 &
	echo $! >"$bdir/bulk.pid"
	disown $! 2>/dev/null || true
}

write_env() {
	local n=$1
	{
		echo "TOPO_NAME=$name"
		echo "TOPO_DIR=$dir"
		echo "SW_NS=$sw_ns"
		echo "CL_NS=xlb-$name-cl"
		echo "LB_NS=xlb-$name-lb"
		echo "RT_NS=xlb-$name-rt"
		echo "CL_IF=eth0"
		echo "LB_IF=xlb-$name"
		echo "LB_LINK_IF=xlbr-$name"
		echo "BE_IF=eth0"
		echo "CL_IP4=$CL_IP4"
		echo "CL_IP6=$CL_IP6"
		echo "LB_IP4=$LB_IP4"
		echo "LB_IP6=$LB_IP6"
		echo "LB_MAC=$LB_MAC"
		echo "RT_IP4=$RT_IP4"
		echo "RT_IP6=$RT_IP6"
		echo "LINK_RT4=$LINK_RT4"
		echo "VIP4=$VIP4"
		echo "VIP6=$VIP6"
		echo "BE_COUNT=$n"
		echo "BE_ROUTED=$nrouted"
		env_array BE_NS "$n" be_ns
		env_array BE_IP4 "$n" be_ip4
		env_array BE_IP6 "$n" be_ip6
		env_array BE_NAME "$n" be_name
		env_array BE_LOG "$n" be_log
	} >"$dir/env"
}

do_up() {
	local n=$1 nlocal=$2 i ns lb_ns cl_ns rt_ns q v
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt $MAX_BACKENDS ]; then
		die "bad NBACKENDS '$n': 1..$MAX_BACKENDS"
	fi
	if ! [[ $nlocal =~ ^[0-9]+$ ]] || [ "$nlocal" -gt $MAX_BACKENDS ]; then
		die "bad NLOCAL '$nlocal': 0..$MAX_BACKENDS"
	fi
	nrouted=$n
	n=$((n + nlocal))
	[ -x "$XLB_BACKEND" ] || die "no $XLB_BACKEND (make first, or set XLB_BACKEND)"
	up_begin topology

	lb_ns=xlb-$name-lb
	cl_ns=xlb-$name-cl
	rt_ns=xlb-$name-rt
	add_ns "$sw_ns"
	add_ns "$cl_ns"
	add_ns "$lb_ns"
	add_ns "$rt_ns"
	for i in $(seq "$n"); do
		add_ns "xlb-$name-be$i"
	done
	add_bridge br0
	add_bridge br1

	# Client.
	veth_port br0 cl "$cl_ns" eth0 $CL_MAC
	addrs "$cl_ns" eth0 "$CL_IP4/24" "$CL_IP6/64"
	ip -n "$cl_ns" route add "$VIP4/32" via "$LB_IP4"
	ip -n "$cl_ns" -6 route add "$VIP6/128" via "$LB_IP6"

	# LB: xlb-NAME on segment A (XDP, one queue per CPU: lb_queues), xlbr-NAME to the router.
	q=$(lb_queues)
	veth_port br0 lb "$lb_ns" "xlb-$name" $LB_MAC numtxqueues "$q" numrxqueues "$q"
	addrs "$lb_ns" "xlb-$name" "$LB_IP4/24" "$LB_IP6/64"
	ip -n "$lb_ns" link add "xlbr-$name" type veth peer name lbl netns "$rt_ns"
	ip -n "$lb_ns" link set "xlbr-$name" up
	ip -n "$rt_ns" link set lbl up
	addrs "$lb_ns" "xlbr-$name" "$LINK_LB4/24" "$LINK_LB6/64"
	addrs "$rt_ns" lbl "$LINK_RT4/24" "$LINK_RT6/64"
	ip -n "$lb_ns" route add "$BNET4.0/24" via "$LINK_RT4"
	ip -n "$lb_ns" -6 route add "$BNET6:/64" via "$RT_IP6"
	# bpf_fib_lookup routes as a forwarder: forwarding on (else drop_fwd_disabled). An ipip
	# packet whose next hop is unresolved goes to the kernel, which forwards it; that packet's
	# source is the LB's own address, which the kernel accepts in forwarding only with
	# accept_local. No redirects: the kernel would tell the LB itself about its own route.
	in_ns "$lb_ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.accept_local=1 "net.ipv4.conf.xlb-$name.accept_local=1" \
		net.ipv4.conf.all.send_redirects=0 "net.ipv4.conf.xlb-$name.send_redirects=0"

	# Router.
	veth_port br0 rta "$rt_ns" eth0
	veth_port br1 rtb "$rt_ns" eth1
	addrs "$rt_ns" eth0 "$RT_IP4/24" "$RT_IP6/64"
	addrs "$rt_ns" eth1 "$BNET4.1/24" "$BNET6:1/64"
	in_ns "$rt_ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	# Backends: xlb-backend attach (xlb_decap, native) and vip add (VIPs on lo, sysctls).
	for i in $(seq "$n"); do
		ns=xlb-$name-be$i
		if [ "$i" -le "$nrouted" ]; then
			veth_port br1 "be$i" "$ns" eth0
		else
			veth_port br0 "be$i" "$ns" eth0
		fi
		addrs "$ns" eth0 "$(be_ip4 "$i")/24" "$(be_ip6 "$i")/64"
		if [ "$i" -le "$nrouted" ]; then
			ip -n "$ns" route add default via "$BNET4.1"
			ip -n "$ns" -6 route add default via "$BNET6:1"
		else
			# dsr-l2 needs the backend's MAC on the LB (xlbd learns it from here).
			neigh_permanent "$lb_ns" "xlb-$name" "$(if_mac "$ns" eth0)" "$(be_ip4 "$i")" "$(be_ip6 "$i")"
		fi
		mkdir -p "$dir/be$i/run"
		backend_agent "$i" attach eth0 mode native >/dev/null
		for v in "$VIP4" "$VIP6"; do
			backend_agent "$i" vip add "$v" >/dev/null
		done
	done

	# Checksums and XDP_TX/XDP_REDIRECT delivery on veth (DESIGN.md, machine facts): finished
	# checksums into the LB; an XDP program on the bridge side of the LB's veth (XDP_TX); GRO
	# on the router's end of the LB's link (XDP_REDIRECT into a veth needs NAPI there).
	tx_csum_off "$cl_ns" eth0
	tx_csum_off "$sw_ns" cl lb
	in_ns "$rt_ns" ethtool -K lbl gro on >/dev/null
	xdp_pass lb

	# The LB's next hops resolved now, so that no test depends on ARP/ND timing (a test that
	# wants an unresolved one deletes it).
	neigh_permanent "$lb_ns" "xlbr-$name" "$(if_mac "$rt_ns" lbl)" "$LINK_RT4"
	neigh_permanent "$lb_ns" "xlb-$name" "$(if_mac "$rt_ns" eth0)" "$RT_IP6"

	for i in $(seq "$n"); do
		start_backend "$i" "xlb-$name-be$i"
	done
	echo "$nrouted" >"$dir/nrouted"
	write_env "$n"
	up_done
}

do_down() {
	local bdir pid pids=()
	set +e
	for bdir in "$dir"/be*/; do
		[ -d "$bdir" ] || continue
		pid=$(nginx_pid "${bdir%/}") && pids+=("$pid")
		pid=$(pid_of "${bdir%/}/bulk.pid" "bulk.py") && pids+=("$pid")
	done
	[ ${#pids[@]} -eq 0 ] || stop_pids "${pids[@]}"
	del_netns "^xlb-$name-(sw|cl|lb|rt|be[0-9]+)\$"
	rm -rf /sys/fs/bpf/xlb-backend-"$name"-be*
	[ -d "/sys/fs/bpf/xlb/xlb-$name" ] && rm -rf "/sys/fs/bpf/xlb/xlb-$name"
	rm -rf "$dir"
	set -e
	return 0
}

main() {
	local cmd=${1:-}
	[ $# -ge 2 ] || usage
	case $cmd in
	up) [ $# -eq 3 ] || [ $# -eq 4 ] || usage ;;
	down | env) [ $# -eq 2 ] || usage ;;
	nginx) [ $# -eq 4 ] || usage ;;
	agent) [ $# -ge 3 ] || usage ;;
	*) usage ;;
	esac
	name=$2
	check_name "$name"
	dir=$TOPO_ROOT/$name
	sw_ns=xlb-$name-sw
	case $cmd in
	up) do_up "$3" "${4:-${XLB_TOPO_LOCAL:-0}}" ;;
	down) do_down ;;
	env)
		[ -f "$dir/env" ] || die "no topology $name"
		cat "$dir/env"
		;;
	nginx)
		[ ! -f "$dir/nrouted" ] || nrouted=$(cat "$dir/nrouted")
		do_nginx "$3" "$4"
		;;
	agent)
		[ -f "$dir/env" ] || die "no topology $name"
		if ! [[ $3 =~ ^[0-9]+$ ]] || [ ! -d "$dir/be$3/run" ]; then
			die "no backend $3 in topology $name"
		fi
		shift 2
		backend_agent "$@"
		;;
	esac
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
main "$@"
