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

die() {
	echo "topo.sh: $*" >&2
	exit 1
}

usage() {
	# shellcheck disable=SC2016 # a sed address, not an expansion
	sed -n '/^# Usage:/,/^# \$XLB_TOPO_DIR/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

check_name() {
	[[ $1 =~ ^[a-z0-9]{1,8}$ ]] || die "bad NAME '$1': 1-8 lower-case letters or digits"
}

# Run a command in a namespace. nsenter keeps the host's /sys (and so bpffs) visible, unlike
# `ip netns exec`, which remounts /sys.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

be_ip4() { echo "$NET4.$((10 + $1))"; }
be_ip6() { echo "$NET6:$((10 + $1))"; }
be_mac() { printf '02:00:0a:d2:00:%02x\n' $((10 + $1)); }

# Sysctls for a fresh namespace. Set before any interface is moved in, so that `default` applies
# to it: no DAD (addresses usable at once, no 1-2 s tentative phase), no router advertisements,
# no reverse-path filter (DSR replies come from an address the client routes via the LB).
ns_sysctls() {
	local ns=$1
	in_ns "$ns" sysctl -qw \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0
}

add_ns() {
	local ns=$1
	ip netns add "$ns"
	echo "$ns" >>"$dir/netns" # down deletes exactly these, even after a half-built up
	ip -n "$ns" link set lo up
	ns_sysctls "$ns"
}

# A veth pair: PORT on the bridge in the switch namespace, IF in namespace NS, both up.
# Extra arguments (queue counts) apply to both ends.
add_port() {
	local port=$1 ns=$2 ifname=$3 mac=$4
	shift 4
	ip -n "$sw_ns" link add "$port" "$@" type veth peer name "$ifname" "$@" netns "$ns"
	ip -n "$ns" link set "$ifname" address "$mac"
	ip -n "$sw_ns" link set "$port" master br0 up
	ip -n "$ns" link set "$ifname" up
}

# The tiny XDP_PASS program for the bridge side of the LB's veth: native XDP_TX from a veth is
# delivered only when the peer veth runs an XDP program itself (the kernel's veth drops frames
# sent to a peer without NAPI, and an XDP program is what enables NAPI there).
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
	# Tests count requests per backend from this log.
	log_format xlb '\$remote_addr:\$remote_port \$server_addr "\$request" \$status';
	access_log $bdir/access.log xlb;
	client_body_temp_path $bdir/tmp/body;
	proxy_temp_path $bdir/tmp/proxy;
	fastcgi_temp_path $bdir/tmp/fastcgi;
	uwsgi_temp_path $bdir/tmp/uwsgi;
	scgi_temp_path $bdir/tmp/scgi;
	# Long-lived keep-alive connections are how tests hold flows open across changes.
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
		# A failing health endpoint, for checks that must see an HTTP error status.
		location = /status500 { return 500 "be$i status 500\n"; }
	}
}
EOF
}

start_nginx() {
	local i=$1 ns=$2 bdir=$dir/be$1
	mkdir -p "$bdir/tmp"
	nginx_conf "$i" "$bdir" >"$bdir/nginx.conf"
	# -e: the error log before the configuration is read (else the global one is opened).
	in_ns "$ns" nginx -q -p "$bdir" -e "$bdir/error.log" -c "$bdir/nginx.conf" ||
		die "nginx failed to start in $ns: $(tail -n 3 "$bdir/error.log" 2>/dev/null)"
}

# The pid of the nginx started for backend directory BDIR, if it still runs: from its pid file,
# and only if that process is still our nginx (its command line names our configuration).
nginx_pid() {
	local bdir=$1 pid
	[ -s "$bdir/nginx.pid" ] || return 1
	pid=$(cat "$bdir/nginx.pid")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$bdir/nginx.conf" || return 1
	echo "$pid"
}

# A process that has exited but not been reaped yet is gone for us: PID 1 here reaps orphans
# only about once a second.
alive() {
	local st
	# The state follows the command name, which is in parentheses and may hold spaces.
	st=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# Stop the given nginx masters: SIGTERM (fast shutdown; SIGQUIT waits about a second for idle
# workers), all at once, then wait for them; SIGKILL after 5 s.
stop_nginx() {
	local pid left
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for _ in $(seq 50); do
		left=""
		for pid in "$@"; do
			alive "$pid" && left+=" $pid"
		done
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	for pid in $left; do
		kill -KILL "$pid" 2>/dev/null
	done
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
		local ns="" ip4="" ip6="" mac="" nm="" log=""
		for i in $(seq "$n"); do
			ns+=" [$i]=xlb-$name-be$i"
			ip4+=" [$i]=$(be_ip4 "$i")"
			ip6+=" [$i]=$(be_ip6 "$i")"
			mac+=" [$i]=$(be_mac "$i")"
			nm+=" [$i]=be$i"
			log+=" [$i]=$dir/be$i/access.log"
		done
		echo "BE_NS=($ns )"
		echo "BE_IP4=($ip4 )"
		echo "BE_IP6=($ip6 )"
		echo "BE_MAC=($mac )"
		echo "BE_NAME=($nm )"
		echo "BE_LOG=($log )"
	} >"$dir/env"
}

do_up() {
	local n=$1 i ns lb_ns cl_ns q
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt $MAX_BACKENDS ]; then
		die "bad NBACKENDS '$n': 1..$MAX_BACKENDS"
	fi
	if [ -e "$dir" ] || [ -e "/run/netns/$sw_ns" ]; then
		die "topology $name exists (topo.sh down $name first)"
	fi
	mkdir -p "$TOPO_ROOT"
	mkdir -m 0755 "$dir" || die "topology $name exists (topo.sh down $name first)"
	# From here on, a failure (or an interrupt) tears the half-built topology down on exit.
	trap 'echo "topo.sh: up $name failed, tearing down" >&2; do_down' EXIT
	trap 'exit 1' INT TERM

	lb_ns=xlb-$name-lb
	cl_ns=xlb-$name-cl
	add_ns "$sw_ns"
	add_ns "$cl_ns"
	add_ns "$lb_ns"
	for i in $(seq "$n"); do
		add_ns "xlb-$name-be$i"
	done

	# The switch. No STP (ports forward at once); no multicast snooping (it can hold back IPv6
	# neighbour solicitations until it has heard MLD reports).
	ip -n "$sw_ns" link add br0 type bridge stp_state 0 mcast_snooping 0
	ip -n "$sw_ns" link set br0 up

	# Client.
	add_port cl "$cl_ns" eth0 $CL_MAC
	ip -n "$cl_ns" addr add "$CL_IP4/24" dev eth0
	ip -n "$cl_ns" addr add "$CL_IP6/64" dev eth0 nodad

	# LB. Queue counts are set at creation, before any XDP program: veth refuses XDP when the
	# peer has more TX queues than it has RX queues, and one queue per CPU spreads the work.
	q=$(nproc)
	[ "$q" -le 8 ] || q=8
	add_port lb "$lb_ns" "xlb-$name" $LB_MAC numtxqueues "$q" numrxqueues "$q"
	ip -n "$lb_ns" addr add "$LB_IP4/24" dev "xlb-$name"
	ip -n "$lb_ns" addr add "$LB_IP6/64" dev "xlb-$name" nodad

	# Backends: the VIPs on lo, never announced or answered for on eth0. arp_ignore=1: answer
	# ARP only for addresses of the receiving interface; arp_announce=2: ARP requests carry
	# eth0's own address, never the VIP. IPv6 needs no setting: the kernel answers a neighbour
	# solicitation only for addresses of the interface it arrived on (tests check both).
	for i in $(seq "$n"); do
		ns=xlb-$name-be$i
		in_ns "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.default.arp_ignore=1 net.ipv4.conf.default.arp_announce=2
		add_port "be$i" "$ns" eth0 "$(be_mac "$i")"
		ip -n "$ns" addr add "$(be_ip4 "$i")/24" dev eth0
		ip -n "$ns" addr add "$(be_ip6 "$i")/64" dev eth0 nodad
		ip -n "$ns" addr add "$VIP4/32" dev lo
		ip -n "$ns" addr add "$VIP6/128" dev lo nodad
	done

	# Checksums: a veth sender with TX checksum offload leaves TCP checksums for "later"; XDP_TX
	# loses that mark and the backend drops the segment. Everything entering the LB must carry
	# finished checksums: the client's sender and the bridge ports on that path.
	in_ns "$cl_ns" ethtool -K eth0 tx off >/dev/null
	in_ns "$sw_ns" ethtool -K cl tx off >/dev/null
	in_ns "$sw_ns" ethtool -K lb tx off >/dev/null

	# XDP_PASS on the bridge side of the LB's veth, so the LB's XDP_TX frames are delivered.
	build_xdp_pass
	ip -n "$sw_ns" link set dev lb xdpdrv obj "$dir/xdp_pass.o" sec xdp

	# The client reaches the VIPs through the LB.
	ip -n "$cl_ns" route add "$VIP4/32" via "$LB_IP4"
	ip -n "$cl_ns" -6 route add "$VIP6/128" via "$LB_IP6"

	# xlbd takes backend MACs from the LB's neighbour table: fill it now, permanently, so that
	# no test depends on ARP/ND timing (or on xlbd provoking resolution).
	for i in $(seq "$n"); do
		ip -n "$lb_ns" neigh replace "$(be_ip4 "$i")" lladdr "$(be_mac "$i")" dev "xlb-$name" nud permanent
		ip -n "$lb_ns" neigh replace "$(be_ip6 "$i")" lladdr "$(be_mac "$i")" dev "xlb-$name" nud permanent
	done

	for i in $(seq "$n"); do
		start_nginx "$i" "xlb-$name-be$i"
	done

	write_env "$n"
	trap - EXIT INT TERM
}

do_down() {
	local ns bdir pid pids=()
	set +e
	for bdir in "$dir"/be*/; do
		[ -d "$bdir" ] && pid=$(nginx_pid "${bdir%/}") && pids+=("$pid")
	done
	[ ${#pids[@]} -eq 0 ] || stop_nginx "${pids[@]}"
	# Namespaces recorded by up, plus any with our prefix in case the record was lost.
	{
		[ -f "$dir/netns" ] && cat "$dir/netns"
		ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^xlb-$name-(sw|cl|lb|be[0-9]+)$"
	} | sort -u | while read -r ns; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	# xlbd's pins are named after our LB interface: nobody else's. Whoever ran xlbd normally
	# removes them (`xlbctl prog detach`); this catches a crashed run.
	[ -d "/sys/fs/bpf/xlb/xlb-$name" ] && rm -rf "/sys/fs/bpf/xlb/xlb-$name"
	rm -rf "$dir"
	set -e
	return 0
}

# One backend's nginx down or up again, to play a failed backend.
do_nginx() {
	local i=$1 action=$2 pid
	[ -f "$dir/env" ] || die "no topology $name"
	if ! [[ $i =~ ^[0-9]+$ ]] || [ ! -d "$dir/be$i" ]; then
		die "no backend $i in topology $name"
	fi
	case $action in
	stop)
		if pid=$(nginx_pid "$dir/be$i"); then stop_nginx "$pid"; fi
		;;
	start)
		nginx_pid "$dir/be$i" >/dev/null && die "nginx of be$i already runs"
		start_nginx "$i" "xlb-$name-be$i"
		;;
	*) usage ;;
	esac
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
