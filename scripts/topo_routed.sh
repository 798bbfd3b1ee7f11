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

die() {
	echo "topo_routed.sh: $*" >&2
	exit 1
}

usage() {
	# shellcheck disable=SC2016 # a sed address, not an expansion
	sed -n '/^# Usage:/,/^# \/tmp/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# Backends 1..nrouted are behind the router; those after it (local ones) on segment A.
nrouted=0
be_ip4() { if [ "$1" -le "$nrouted" ]; then echo "$BNET4.$((10 + $1))"; else echo "10.220.0.$((10 + $1))"; fi; }
be_ip6() { if [ "$1" -le "$nrouted" ]; then echo "$BNET6:$((10 + $1))"; else echo "fd00:220::$((10 + $1))"; fi; }

add_ns() {
	local ns=$1
	ip netns add "$ns"
	echo "$ns" >>"$dir/netns"
	ip -n "$ns" link set lo up
	in_ns "$ns" sysctl -qw \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0
}

# add_port BRIDGE PORT NS IF [MAC]: a veth pair, PORT on BRIDGE in the switch namespace.
add_port() {
	local br=$1 port=$2 ns=$3 ifname=$4 mac=${5:-}
	ip -n "$sw_ns" link add "$port" type veth peer name "$ifname" netns "$ns"
	[ -z "$mac" ] || ip -n "$ns" link set "$ifname" address "$mac"
	ip -n "$sw_ns" link set "$port" master "$br" up
	ip -n "$ns" link set "$ifname" up
}

build_xdp_pass() {
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
}

nginx_conf() {
	local i=$1 bdir=$2
	cat <<EOF
# nginx for backend be$i of topology $name: its own pid, logs and temp files, nothing global.
worker_processes 1;
pid $bdir/nginx.pid;
error_log $bdir/error.log warn;
events { worker_connections 1024; }
http {
	log_format xlb '\$remote_addr:\$remote_port \$server_addr "\$request" \$status';
	access_log $bdir/access.log xlb;
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
		listen [$(be_ip6 "$i")]:80;
		default_type text/plain;
		add_header X-Backend be$i always;
		location / { return 200 "be$i\n"; }
	}
}
EOF
}

# The pid of a process we started, from its pid file, if it still runs that command line.
pid_of() {
	local file=$1 what=$2 pid
	[ -s "$file" ] || return 1
	pid=$(cat "$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$what" || return 1
	echo "$pid"
}

start_backend() {
	local i=$1 ns=$2 bdir=$dir/be$1
	mkdir -p "$bdir/tmp" "$bdir/run"
	nginx_conf "$i" "$bdir" >"$bdir/nginx.conf"
	in_ns "$ns" nginx -q -p "$bdir" -e "$bdir/error.log" -c "$bdir/nginx.conf" ||
		die "nginx failed to start in $ns: $(tail -n 3 "$bdir/error.log" 2>/dev/null)"
	# The bulk server: uploads and downloads of any size, one connection each.
	# nsenter itself, not in_ns (a function: $! would be a subshell's): nsenter execs python,
	# so $! is the server's pid, which down stops.
	nsenter --net="/run/netns/$ns" -- /usr/bin/python3 "$ROOT/tests/integration/py/bulk.py" \
		serve "be$i" 9000 "$VIP4" "$VIP6" >"$bdir/bulk.log" 2>&1 &
	echo $! >"$bdir/bulk.pid"
	disown $! 2>/dev/null || true
}

write_env() {
	local n=$1 i ns="" ip4="" ip6="" nm="" log=""
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
		for i in $(seq "$n"); do
			ns+=" [$i]=xlb-$name-be$i"
			ip4+=" [$i]=$(be_ip4 "$i")"
			ip6+=" [$i]=$(be_ip6 "$i")"
			nm+=" [$i]=be$i"
			log+=" [$i]=$dir/be$i/access.log"
		done
		echo "BE_NS=($ns )"
		echo "BE_IP4=($ip4 )"
		echo "BE_IP6=($ip6 )"
		echo "BE_NAME=($nm )"
		echo "BE_LOG=($log )"
	} >"$dir/env"
}

do_up() {
	local n=$1 nlocal=$2 i ns lb_ns cl_ns rt_ns q
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt $MAX_BACKENDS ]; then
		die "bad NBACKENDS '$n': 1..$MAX_BACKENDS"
	fi
	if ! [[ $nlocal =~ ^[0-9]+$ ]] || [ "$nlocal" -gt $MAX_BACKENDS ]; then
		die "bad NLOCAL '$nlocal': 0..$MAX_BACKENDS"
	fi
	nrouted=$n
	n=$((n + nlocal))
	[ -x "$XLB_BACKEND" ] || die "no $XLB_BACKEND (make first, or set XLB_BACKEND)"
	if [ -e "$dir" ] || [ -e "/run/netns/$sw_ns" ]; then
		die "topology $name exists (topo_routed.sh down $name first)"
	fi
	mkdir -p "$TOPO_ROOT"
	mkdir -m 0755 "$dir" || die "topology $name exists"
	trap 'echo "topo_routed.sh: up $name failed, tearing down" >&2; do_down' EXIT
	trap 'exit 1' INT TERM

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
	for br in br0 br1; do
		ip -n "$sw_ns" link add $br type bridge stp_state 0 mcast_snooping 0
		ip -n "$sw_ns" link set $br up
	done

	# Client.
	add_port br0 cl "$cl_ns" eth0 $CL_MAC
	ip -n "$cl_ns" addr add "$CL_IP4/24" dev eth0
	ip -n "$cl_ns" addr add "$CL_IP6/64" dev eth0 nodad
	ip -n "$cl_ns" route add "$VIP4/32" via "$LB_IP4"
	ip -n "$cl_ns" -6 route add "$VIP6/128" via "$LB_IP6"

	# LB: xlb-NAME on segment A (XDP), xlbr-NAME to the router. Queues as topo.sh (set before
	# any XDP program).
	q=$(nproc)
	[ "$q" -le 8 ] || q=8
	ip -n "$sw_ns" link add lb numtxqueues "$q" numrxqueues "$q" type veth peer name \
		"xlb-$name" numtxqueues "$q" numrxqueues "$q" netns "$lb_ns"
	ip -n "$lb_ns" link set "xlb-$name" address $LB_MAC
	ip -n "$sw_ns" link set lb master br0 up
	ip -n "$lb_ns" link set "xlb-$name" up
	ip -n "$lb_ns" addr add "$LB_IP4/24" dev "xlb-$name"
	ip -n "$lb_ns" addr add "$LB_IP6/64" dev "xlb-$name" nodad
	ip -n "$lb_ns" link add "xlbr-$name" type veth peer name lbl netns "$rt_ns"
	ip -n "$lb_ns" link set "xlbr-$name" up
	ip -n "$rt_ns" link set lbl up
	ip -n "$lb_ns" addr add "$LINK_LB4/24" dev "xlbr-$name"
	ip -n "$lb_ns" addr add "$LINK_LB6/64" dev "xlbr-$name" nodad
	ip -n "$rt_ns" addr add "$LINK_RT4/24" dev lbl
	ip -n "$rt_ns" addr add "$LINK_RT6/64" dev lbl nodad
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
	add_port br0 rta "$rt_ns" eth0
	add_port br1 rtb "$rt_ns" eth1
	ip -n "$rt_ns" addr add "$RT_IP4/24" dev eth0
	ip -n "$rt_ns" addr add "$RT_IP6/64" dev eth0 nodad
	ip -n "$rt_ns" addr add "$BNET4.1/24" dev eth1
	ip -n "$rt_ns" addr add "$BNET6:1/64" dev eth1 nodad
	in_ns "$rt_ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	# Backends: xlb-backend attach (xlb_decap, native) and vip add (VIPs on lo, sysctls).
	for i in $(seq "$n"); do
		ns=xlb-$name-be$i
		if [ "$i" -le "$nrouted" ]; then
			add_port br1 "be$i" "$ns" eth0
		else
			add_port br0 "be$i" "$ns" eth0
		fi
		ip -n "$ns" addr add "$(be_ip4 "$i")/24" dev eth0
		ip -n "$ns" addr add "$(be_ip6 "$i")/64" dev eth0 nodad
		if [ "$i" -le "$nrouted" ]; then
			ip -n "$ns" route add default via "$BNET4.1"
			ip -n "$ns" -6 route add default via "$BNET6:1"
		else
			# dsr-l2 needs the backend's MAC on the LB (xlbd learns it from here).
			ip -n "$lb_ns" neigh replace "$(be_ip4 "$i")" lladdr "$(ip -n "$ns" -br link show eth0 | awk '{print $3}')" dev "xlb-$name" nud permanent
			ip -n "$lb_ns" neigh replace "$(be_ip6 "$i")" lladdr "$(ip -n "$ns" -br link show eth0 | awk '{print $3}')" dev "xlb-$name" nud permanent
		fi
		mkdir -p "$dir/be$i/run"
		XLB_BACKEND_RUN_DIR=$dir/be$i/run XLB_BACKEND_PIN_DIR=/sys/fs/bpf/xlb-backend-$name-be$i \
			in_ns "$ns" "$XLB_BACKEND" attach eth0 mode native >/dev/null
		for v in "$VIP4" "$VIP6"; do
			XLB_BACKEND_RUN_DIR=$dir/be$i/run XLB_BACKEND_PIN_DIR=/sys/fs/bpf/xlb-backend-$name-be$i \
				in_ns "$ns" "$XLB_BACKEND" vip add "$v" >/dev/null
		done
	done

	# Checksums and XDP_TX/XDP_REDIRECT delivery on veth (DESIGN.md, machine facts): finished
	# checksums into the LB; an XDP program on the bridge side of the LB's veth (XDP_TX); GRO
	# on the router's end of the LB's link (XDP_REDIRECT into a veth needs NAPI there).
	in_ns "$cl_ns" ethtool -K eth0 tx off >/dev/null
	in_ns "$sw_ns" ethtool -K cl tx off >/dev/null
	in_ns "$sw_ns" ethtool -K lb tx off >/dev/null
	in_ns "$rt_ns" ethtool -K lbl gro on >/dev/null
	build_xdp_pass
	ip -n "$sw_ns" link set dev lb xdpdrv obj "$dir/xdp_pass.o" sec xdp

	# The LB's next hops resolved now, so that no test depends on ARP/ND timing (a test that
	# wants an unresolved one deletes it).
	ip -n "$lb_ns" neigh replace "$LINK_RT4" lladdr "$(ip -n "$rt_ns" -br link show lbl | awk '{print $3}')" dev "xlbr-$name" nud permanent
	ip -n "$lb_ns" neigh replace "$RT_IP6" lladdr "$(ip -n "$rt_ns" -br link show eth0 | awk '{print $3}')" dev "xlb-$name" nud permanent

	for i in $(seq "$n"); do
		start_backend "$i" "xlb-$name-be$i"
	done
	echo "$nrouted" >"$dir/nrouted"
	write_env "$n"
	trap - EXIT INT TERM
}

do_down() {
	local ns bdir pid
	set +e
	for bdir in "$dir"/be*/; do
		[ -d "$bdir" ] || continue
		pid=$(pid_of "${bdir%/}/nginx.pid" "${bdir%/}/nginx.conf") && kill -TERM "$pid"
		pid=$(pid_of "${bdir%/}/bulk.pid" "bulk.py") && kill -TERM "$pid"
	done
	sleep 0.2
	{
		[ -f "$dir/netns" ] && cat "$dir/netns"
		ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^xlb-$name-(sw|cl|lb|rt|be[0-9]+)$"
	} | sort -u | while read -r ns; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
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
	*) usage ;;
	esac
	name=$2
	[[ $name =~ ^[a-z0-9]{1,8}$ ]] || die "bad NAME '$name': 1-8 lower-case letters or digits"
	dir=$TOPO_ROOT/$name
	sw_ns=xlb-$name-sw
	case $cmd in
	up) do_up "$3" "${4:-${XLB_TOPO_LOCAL:-0}}" ;;
	down) do_down ;;
	env)
		[ -f "$dir/env" ] || die "no topology $name"
		cat "$dir/env"
		;;
	esac
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
main "$@"
