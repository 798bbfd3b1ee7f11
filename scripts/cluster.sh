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

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

usage() {
	# shellcheck disable=SC2016 # a sed address, not an expansion
	sed -n '/^# Usage:/,/^# \/tmp\/xlb-topo/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

check_name() {
	[[ $1 =~ ^[a-z0-9]{1,8}$ ]] || die "bad NAME '$1': 1-8 lower-case letters or digits"
}

# nsenter keeps the host's /sys (bpffs) visible, unlike `ip netns exec`.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

lb_ip4() { echo "10.220.0.$((10 + $1))"; }
lb_ip6() { echo "fd00:220::$((10 + $1))"; }
# xlbd pins its maps by interface name and bpffs is shared by all namespaces: names differ.
lb_if() { echo "xlbc-$name-$1"; }
lb_mac() { printf '02:00:0a:dc:00:%02x\n' $((10 + $1)); }
be_ip4() { echo "10.220.0.$((20 + $1))"; }
be_ip6() { echo "fd00:220::$((20 + $1))"; }
be_mac() { printf '02:00:0a:dc:00:%02x\n' $((20 + $1)); }

add_ns() {
	local ns=$1
	ip netns add "$ns"
	echo "$ns" >>"$dir/netns" # down deletes exactly these, even after a half-built up
	ip -n "$ns" link set lo up
	# No DAD, no RAs, no reverse-path filter (DSR replies come from the VIP, routed via LBs).
	in_ns "$ns" sysctl -qw \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0
}

# A veth: PORT on the bridge, IF in NS with MAC; TX checksum offload off on both ends (XDP_TX
# loses the "checksum later" mark: docs/datapath.md), both up.
add_port() {
	local port=$1 ns=$2 ifname=$3 mac=$4
	ip -n "$sw_ns" link add "$port" type veth peer name "$ifname" netns "$ns"
	ip -n "$ns" link set "$ifname" address "$mac"
	ip -n "$sw_ns" link set "$port" master br0 up
	ip -n "$ns" link set "$ifname" up
	in_ns "$sw_ns" ethtool -K "$port" tx off >/dev/null
	in_ns "$ns" ethtool -K "$ifname" tx off >/dev/null
}

nginx_conf() {
	local i=$1 bdir=$2
	cat <<EOF
# nginx for backend be$i of cluster $name: its own pid, logs and temp files, nothing global.
worker_processes 1;
pid $bdir/nginx.pid;
error_log $bdir/error.log warn;
events { worker_connections 2048; }
http {
	access_log off;
	client_body_temp_path $bdir/tmp/body;
	proxy_temp_path $bdir/tmp/proxy;
	fastcgi_temp_path $bdir/tmp/fastcgi;
	uwsgi_temp_path $bdir/tmp/uwsgi;
	scgi_temp_path $bdir/tmp/scgi;
	keepalive_timeout 300s;
	keepalive_requests 1000000;
	server {
		listen $VIP4:80;
		listen [$VIP6]:80;
		listen $(be_ip4 "$i"):80;
		default_type text/plain;
		add_header X-Backend be$i always;
		location / { return 200 "be$i\n"; }
	}
}
EOF
}

nginx_pid() {
	local bdir=$dir/be$1 pid
	[ -s "$bdir/nginx.pid" ] || return 1
	pid=$(cat "$bdir/nginx.pid")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$bdir/nginx.conf" || return 1
	echo "$pid"
}

start_nginx() {
	local i=$1 bdir=$dir/be$1
	mkdir -p "$bdir/tmp"
	nginx_conf "$i" "$bdir" >"$bdir/nginx.conf"
	in_ns "xlbc-$name-be$i" nginx -q -p "$bdir" -e "$bdir/error.log" -c "$bdir/nginx.conf" ||
		die "nginx failed to start on be$i: $(tail -n 3 "$bdir/error.log" 2>/dev/null)"
}

# A process that exited but is not reaped yet counts as gone.
alive() {
	local st
	st=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

stop_nginx() {
	local pid
	pid=$(nginx_pid "$1") || return 0
	stop_pid "$pid"
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
	local pid
	[ -s "$dir/bird-$1.pid" ] || return 1
	pid=$(cat "$dir/bird-$1.pid")
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/bird-$1.conf" || return 1
	echo "$pid"
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
	stop_pid "$pid"
	rm -f "$dir/bird-$1.ctl"
}

write_env() {
	local i lbns="" lbif="" lbip="" lbmac="" bens="" beip="" beip6="" bemac="" benm="" src=""
	for i in $(seq $LB_COUNT); do
		lbns+=" [$i]=xlbc-$name-lb$i"
		lbif+=" [$i]=$(lb_if "$i")"
		lbip+=" [$i]=$(lb_ip4 "$i")"
		lbmac+=" [$i]=$(lb_mac "$i")"
	done
	for i in $(seq $BE_COUNT); do
		bens+=" [$i]=xlbc-$name-be$i"
		beip+=" [$i]=$(be_ip4 "$i")"
		beip6+=" [$i]=$(be_ip6 "$i")"
		bemac+=" [$i]=$(be_mac "$i")"
		benm+=" [$i]=be$i"
	done
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
		echo "LB_IF=($lbif )"
		echo "LB_NS=($lbns )"
		echo "LB_IP4=($lbip )"
		echo "LB_MAC=($lbmac )"
		echo "BE_NS=($bens )"
		echo "BE_IP4=($beip )"
		echo "BE_IP6=($beip6 )"
		echo "BE_MAC=($bemac )"
		echo "BE_NAME=($benm )"
		echo "CL_SOURCES=\"${src# }\""
	} >"$dir/env"
}

do_up() {
	local i ns lb cl rt q
	if [ -e "$dir" ] || [ -e "/run/netns/$sw_ns" ]; then
		die "cluster $name exists (cluster.sh down $name first)"
	fi
	command -v bird >/dev/null || die "bird not found (scripts/deps.sh installs bird2)"
	mkdir -p "$TOPO_ROOT"
	mkdir -m 0755 "$dir" || die "cluster $name exists"
	trap 'echo "cluster.sh: up $name failed, tearing down" >&2; do_down' EXIT
	trap 'exit 1' INT TERM

	rt=xlbc-$name-rt
	cl=xlbc-$name-cl
	add_ns "$sw_ns"
	add_ns "$rt"
	add_ns "$cl"
	for i in $(seq $LB_COUNT); do add_ns "xlbc-$name-lb$i"; done
	for i in $(seq $BE_COUNT); do add_ns "xlbc-$name-be$i"; done
	ip -n "$sw_ns" link add br0 type bridge stp_state 0 mcast_snooping 0
	ip -n "$sw_ns" link set br0 up

	# Router: forwards, hashes the whole 5-tuple over the ECMP next hops.
	in_ns "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=3 net.ipv4.fib_multipath_hash_fields=0x0037 \
		net.ipv6.fib_multipath_hash_policy=3 net.ipv6.fib_multipath_hash_fields=0x0037
	add_port rt "$rt" rt0 02:00:0a:dc:00:01
	ip -n "$rt" addr add "$RT_IP4/24" dev rt0
	ip -n "$rt" addr add "$RT_IP6/64" dev rt0 nodad
	ip -n "$rt" link add rt1 type veth peer name eth0 netns "$cl"
	ip -n "$rt" link set rt1 address 02:00:0a:dd:00:01 up
	ip -n "$cl" link set eth0 address 02:00:0a:dd:00:02 up
	in_ns "$rt" ethtool -K rt1 tx off >/dev/null
	in_ns "$cl" ethtool -K eth0 tx off >/dev/null
	ip -n "$rt" addr add "$RT_CL4/24" dev rt1
	ip -n "$rt" addr add "$RT_CL6/64" dev rt1 nodad

	# Client: many source addresses, everything via the router.
	ip -n "$cl" addr add "$CL_IP4/24" dev eth0
	ip -n "$cl" addr add "$CL_IP6/64" dev eth0 nodad
	for i in $(seq $CL_SRC_FIRST $((CL_SRC_FIRST + CL_SRC_COUNT - 1))); do
		ip -n "$cl" addr add "10.221.0.$i/24" dev eth0
	done
	ip -n "$cl" route add default via "$RT_CL4"
	ip -n "$cl" -6 route add default via "$RT_CL6"

	# LB nodes. One queue per CPU, set before any XDP program (veth refuses XDP when the peer
	# has more TX queues than it has RX queues).
	q=$(nproc)
	[ "$q" -le 8 ] || q=8
	for i in $(seq $LB_COUNT); do
		lb=xlbc-$name-lb$i
		ip -n "$sw_ns" link add "lb$i" numtxqueues "$q" numrxqueues "$q" type veth peer \
			name "$(lb_if "$i")" numtxqueues "$q" numrxqueues "$q" netns "$lb"
		ip -n "$lb" link set "$(lb_if "$i")" address "$(lb_mac "$i")"
		ip -n "$sw_ns" link set "lb$i" master br0 up
		ip -n "$lb" link set "$(lb_if "$i")" up
		in_ns "$sw_ns" ethtool -K "lb$i" tx off >/dev/null
		in_ns "$lb" ethtool -K "$(lb_if "$i")" tx off >/dev/null
		ip -n "$lb" addr add "$(lb_ip4 "$i")/24" dev "$(lb_if "$i")"
		ip -n "$lb" addr add "$(lb_ip6 "$i")/64" dev "$(lb_if "$i")" nodad
		# xlbd takes backend MACs from the neighbour table: fill it, no ARP timing.
		for b in $(seq $BE_COUNT); do
			ip -n "$lb" neigh replace "$(be_ip4 "$b")" lladdr "$(be_mac "$b")" \
				dev "$(lb_if "$i")" nud permanent
			ip -n "$lb" neigh replace "$(be_ip6 "$b")" lladdr "$(be_mac "$b")" \
				dev "$(lb_if "$i")" nud permanent
		done
	done

	# Backends: VIPs on lo, never answered for on eth0; replies go to the router.
	for i in $(seq $BE_COUNT); do
		ns=xlbc-$name-be$i
		in_ns "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.default.arp_ignore=1 net.ipv4.conf.default.arp_announce=2
		add_port "be$i" "$ns" eth0 "$(be_mac "$i")"
		ip -n "$ns" addr add "$(be_ip4 "$i")/24" dev eth0
		ip -n "$ns" addr add "$(be_ip6 "$i")/64" dev eth0 nodad
		ip -n "$ns" addr add "$VIP4/32" dev lo
		ip -n "$ns" addr add "$VIP6/128" dev lo nodad
		ip -n "$ns" route add default via "$RT_IP4"
		ip -n "$ns" -6 route add default via "$RT_IP6"
		start_nginx "$i"
	done

	# XDP_PASS on the bridge side of each LB's veth: native XDP_TX from a veth is delivered only
	# when the peer runs an XDP program (scripts/topo.sh says more).
	cat >"$dir/xdp_pass.c" <<'EOF'
/* XDP_PASS, so that the peer veth accepts frames sent with XDP_TX. */
__attribute__((section("xdp"), used)) int xdp_pass(void *ctx)
{
	(void)ctx;
	return 2; /* XDP_PASS */
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
	clang -O2 -g --target=bpf -c "$dir/xdp_pass.c" -o "$dir/xdp_pass.o"
	for i in $(seq $LB_COUNT); do
		ip -n "$sw_ns" link set dev "lb$i" xdpdrv obj "$dir/xdp_pass.o" sec xdp
	done

	start_bird rt
	for i in $(seq $LB_COUNT); do start_bird "lb$i"; done
	write_env
	trap - EXIT INT TERM
}

do_down() {
	local ns node i
	[ -d "$dir" ] || return 0
	for node in rt $(seq -f 'lb%g' $LB_COUNT); do stop_bird "$node"; done
	for i in $(seq $BE_COUNT); do stop_nginx "$i"; done
	if [ -f "$dir/netns" ]; then
		while read -r ns; do
			ip netns del "$ns" 2>/dev/null || true
		done <"$dir/netns"
	fi
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
	case $4 in start) start_nginx "$3" ;; stop) stop_nginx "$3" ;; *) usage ;; esac
	;;
*) usage ;;
esac
