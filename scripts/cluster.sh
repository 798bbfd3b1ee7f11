#!/bin/bash
# cluster.sh - a throwaway xlb cluster in network namespaces: a router running BIRD with ECMP, three
# LB nodes (BIRD each; xlbd is the test's), four nginx backends on one L2 segment, a client.
#
#   xlbc-NAME-cl: client                      10.221.0.2, 10.221.0.100-163 (sources), fd00:221::2
#        | eth0
#        | rt1   (10.221.0.1, fd00:221::1)
#   xlbc-NAME-rt: router, BIRD AS 65000: BGP + BFD to every LB, ECMP (merge paths on,
#        |        fib_multipath_hash_policy 3, fields 0x0037: the whole 5-tuple)
#        | rt0   (10.220.0.1, fd00:220::1)
#   xlbc-NAME-sw: bridge br0 ------------------------------------------------------------+
#        |                |                |                |                            |
#   xlbc-NAME-lbN, N=1..3: xlbc-NAME-N 10.220.0.(10+N), fd00:220::(10+N); XDP (the test's xlbd)   |
#        BIRD AS 65001: learns route table 2001 (xlbd's) and announces it to the router  |
#   xlbc-NAME-beI, I=1..4: eth0 10.220.0.(20+I), fd00:220::(20+I); default route via the -+
#        router; lo: VIP 10.222.0.10/32, fd00:222::10/128 (no ARP/ND); nginx answers "beI\n"
#
#   client -> VIP: the router picks an LB by ECMP and sends the frame to its MAC; the LB's XDP
#   program rewrites the destination MAC to a backend's and sends it back out (dsr-l2); the
#   backend answers the client directly through the router.
#
# Usage: cluster.sh up NAME        build it and start the BIRDs (fails if NAME exists)
#        cluster.sh down NAME      stop its BIRDs and nginx, delete its namespaces and state
#        cluster.sh env NAME       print shell variables describing it (for eval)
#        cluster.sh bird NAME NODE start|stop   start or stop BIRD on NODE (rt, lb1..lb3)
#        cluster.sh nginx NAME I start|stop     start or stop backend I's nginx
# NAME: 1-8 lower-case letters or digits. State lives in $XLB_TOPO_DIR/c-NAME (default
# /tmp/xlb-topo/c-NAME). BIRD's configurations are made from examples/bird/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOPO_ROOT=${XLB_TOPO_DIR:-/tmp/xlb-topo}
LB_COUNT=3
BE_COUNT=4
VIP4=10.222.0.10
VIP6=fd00:222::10
RT_IP4=10.220.0.1
RT_IP6=fd00:220::1
RT_CL4=10.221.0.1
RT_CL6=fd00:221::1
CL_IP4=10.221.0.2
CL_IP6=fd00:221::2
CL_SRC_FIRST=100 # extra client sources 10.221.0.100..163: ECMP and the LB hash see many clients
CL_SRC_COUNT=64

# shellcheck source=scripts/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
NGINX_OF=cluster
NGINX_CONNECTIONS=2048
NGINX_ACCESS_LOG=0

usage() {
	usage_until '^# \/tmp\/xlb-topo'
}

lb_ip4() { echo "10.220.0.$((10 + $1))"; }
lb_ip6() { echo "fd00:220::$((10 + $1))"; }
# xlbd pins its maps by interface name and bpffs is shared by all namespaces: names differ.
lb_if() { echo "xlbc-$name-$1"; }
lb_mac() { printf '02:00:0a:dc:00:%02x\n' $((10 + $1)); }
lb_ns() { echo "xlbc-$name-lb$1"; }
be_ip4() { echo "10.220.0.$((20 + $1))"; }
be_ip6() { echo "fd00:220::$((20 + $1))"; }
be_mac() { printf '02:00:0a:dc:00:%02x\n' $((20 + $1)); }
be_ns() { echo "xlbc-$name-be$1"; }
be_name() { echo "be$1"; }

# A port on the bridge br0 with TX checksum offload off on both ends (XDP_TX loses the
# "checksum later" mark: tx_csum_off). add_port PORT NS IF MAC [LINK-ARGS...]
add_port() {
	veth_port br0 "$@"
	tx_csum_off "$sw_ns" "$1"
	tx_csum_off "$2" "$3"
}

start_backend_nginx() {
	start_nginx "$1" "xlbc-$name-be$1" "$VIP4" "$VIP6" "$(be_ip4 "$1")"
}

stop_nginx() {
	local pid
	pid=$(nginx_pid "$dir/be$1") || return 0
	stop_pids "$pid"
}

# BIRD's configuration of NODE, from examples/bird/ with this node's addresses.
bird_conf() {
	local node=$1 n
	if [ "$node" = rt ]; then
		cp "$ROOT/examples/bird/router.conf" "$dir/bird-rt.conf"
		return
	fi
	n=${node#lb}
	sed -e "s/^router id 10.220.0.11;/router id $(lb_ip4 "$n");/" \
		-e "s/local 10.220.0.11 as/local $(lb_ip4 "$n") as/" \
		-e "s/next hop address fd00:220::11;/next hop address $(lb_ip6 "$n");/" \
		"$ROOT/examples/bird/lb.conf" >"$dir/bird-$node.conf"
	grep -q "local $(lb_ip4 "$n") as" "$dir/bird-$node.conf" || die "examples/bird/lb.conf: no 'local 10.220.0.11 as' to rewrite"
}

bird_pid() {
	pid_of "$dir/bird-$1.pid" "$dir/bird-$1.conf"
}

# BIRD in the foreground (-f), its own configuration, socket and pid file; logs to a file.
start_bird() {
	local node=$1 ns=xlbc-$name-$1
	bird_pid "$node" >/dev/null && return 0
	bird_conf "$node"
	# nsenter itself, not in_ns: a function run in the background is a subshell, and $! must
	# be BIRD's pid (nsenter execs it).
	nsenter --net="/run/netns/$ns" -- bird -f -c "$dir/bird-$node.conf" -s "$dir/bird-$node.ctl" \
		>>"$dir/bird-$node.log" 2>&1 &
	echo $! >"$dir/bird-$node.pid"
	disown $! 2>/dev/null || true
	for _ in $(seq 50); do
		[ -S "$dir/bird-$node.ctl" ] && return 0
		alive "$(cat "$dir/bird-$node.pid")" || break
		sleep 0.1
	done
	die "BIRD did not start on $node: $(tail -n 3 "$dir/bird-$node.log")"
}

stop_bird() {
	local pid
	pid=$(bird_pid "$1") || return 0
	stop_pids "$pid"
	rm -f "$dir/bird-$1.ctl"
}

write_env() {
	local i src=""
	for i in $(seq $CL_SRC_FIRST $((CL_SRC_FIRST + CL_SRC_COUNT - 1))); do
		src+=" 10.221.0.$i"
	done
	{
		echo "CLUSTER_NAME=$name"
		echo "CLUSTER_DIR=$dir"
		echo "SW_NS=$sw_ns"
		echo "RT_NS=xlbc-$name-rt"
		echo "CL_NS=xlbc-$name-cl"
		echo "RT_IP4=$RT_IP4"
		echo "CL_IP4=$CL_IP4"
		echo "VIP4=$VIP4"
		echo "VIP6=$VIP6"
		echo "LB_COUNT=$LB_COUNT"
		echo "BE_COUNT=$BE_COUNT"
		env_array LB_IF $LB_COUNT lb_if
		env_array LB_NS $LB_COUNT lb_ns
		env_array LB_IP4 $LB_COUNT lb_ip4
		env_array LB_MAC $LB_COUNT lb_mac
		env_array BE_NS $BE_COUNT be_ns
		env_array BE_IP4 $BE_COUNT be_ip4
		env_array BE_IP6 $BE_COUNT be_ip6
		env_array BE_MAC $BE_COUNT be_mac
		env_array BE_NAME $BE_COUNT be_name
		echo "CL_SOURCES=\"${src# }\""
	} >"$dir/env"
}

do_up() {
	local i ns lb cl rt q
	command -v bird >/dev/null || die "bird not found (scripts/deps.sh installs bird2)"
	up_begin cluster

	rt=xlbc-$name-rt
	cl=xlbc-$name-cl
	add_ns "$sw_ns"
	add_ns "$rt"
	add_ns "$cl"
	for i in $(seq $LB_COUNT); do add_ns "xlbc-$name-lb$i"; done
	for i in $(seq $BE_COUNT); do add_ns "xlbc-$name-be$i"; done
	add_bridge br0

	# Router: forwards, hashes the whole 5-tuple over the ECMP next hops.
	in_ns "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=3 net.ipv4.fib_multipath_hash_fields=0x0037 \
		net.ipv6.fib_multipath_hash_policy=3 net.ipv6.fib_multipath_hash_fields=0x0037
	add_port rt "$rt" rt0 02:00:0a:dc:00:01
	addrs "$rt" rt0 "$RT_IP4/24" "$RT_IP6/64"
	ip -n "$rt" link add rt1 type veth peer name eth0 netns "$cl"
	ip -n "$rt" link set rt1 address 02:00:0a:dd:00:01 up
	ip -n "$cl" link set eth0 address 02:00:0a:dd:00:02 up
	tx_csum_off "$rt" rt1
	tx_csum_off "$cl" eth0
	addrs "$rt" rt1 "$RT_CL4/24" "$RT_CL6/64"

	# Client: many source addresses, everything via the router.
	addrs "$cl" eth0 "$CL_IP4/24" "$CL_IP6/64"
	for i in $(seq $CL_SRC_FIRST $((CL_SRC_FIRST + CL_SRC_COUNT - 1))); do
		ip -n "$cl" addr add "10.221.0.$i/24" dev eth0
	done
	ip -n "$cl" route add default via "$RT_CL4"
	ip -n "$cl" -6 route add default via "$RT_CL6"

	# LB nodes, one queue per CPU (lb_queues).
	q=$(lb_queues)
	for i in $(seq $LB_COUNT); do
		lb=xlbc-$name-lb$i
		add_port "lb$i" "$lb" "$(lb_if "$i")" "$(lb_mac "$i")" numtxqueues "$q" numrxqueues "$q"
		addrs "$lb" "$(lb_if "$i")" "$(lb_ip4 "$i")/24" "$(lb_ip6 "$i")/64"
		# xlbd takes backend MACs from the neighbour table: fill it, no ARP timing.
		for b in $(seq $BE_COUNT); do
			neigh_permanent "$lb" "$(lb_if "$i")" "$(be_mac "$b")" "$(be_ip4 "$b")" "$(be_ip6 "$b")"
		done
	done

	# Backends: VIPs on lo, never answered for on eth0; replies go to the router.
	for i in $(seq $BE_COUNT); do
		ns=xlbc-$name-be$i
		arp_hide_sysctls "$ns"
		add_port "be$i" "$ns" eth0 "$(be_mac "$i")"
		addrs "$ns" eth0 "$(be_ip4 "$i")/24" "$(be_ip6 "$i")/64"
		vips_on_lo "$ns" "$VIP4" "$VIP6"
		ip -n "$ns" route add default via "$RT_IP4"
		ip -n "$ns" -6 route add default via "$RT_IP6"
		start_backend_nginx "$i"
	done

	# XDP_PASS on the bridge side of each LB's veth, so the LBs' XDP_TX frames are delivered.
	xdp_pass $(seq -f 'lb%g' $LB_COUNT)

	start_bird rt
	for i in $(seq $LB_COUNT); do start_bird "lb$i"; done
	write_env
	up_done
}

do_down() {
	local node i
	[ -d "$dir" ] || return 0
	for node in rt $(seq -f 'lb%g' $LB_COUNT); do stop_bird "$node"; done
	for i in $(seq $BE_COUNT); do stop_nginx "$i"; done
	del_netns ""
	rm -rf "$dir"
}

[ $# -ge 2 ] || usage
cmd=$1
name=$2
check_name "$name"
dir=$TOPO_ROOT/c-$name
sw_ns=xlbc-$name-sw
case $cmd in
up) [ $# -eq 2 ] || usage; do_up ;;
down) [ $# -eq 2 ] || usage; do_down ;;
env) [ -f "$dir/env" ] || die "no cluster $name"; cat "$dir/env" ;;
bird)
	[ $# -eq 4 ] || usage
	[[ $3 =~ ^(rt|lb[1-3])$ ]] || die "bad NODE '$3': rt, lb1..lb$LB_COUNT"
	case $4 in start) start_bird "$3" ;; stop) stop_bird "$3" ;; *) usage ;; esac
	;;
nginx)
	[ $# -eq 4 ] || usage
	[[ $3 =~ ^[1-4]$ ]] || die "bad backend '$3': 1..$BE_COUNT"
	case $4 in start) start_backend_nginx "$3" ;; stop) stop_nginx "$3" ;; *) usage ;; esac
	;;
*) usage ;;
esac
