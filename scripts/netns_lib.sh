# netns_lib.sh - namespace, veth, bridge, address, sysctl, nginx and teardown helpers sourced by topo.sh, topo_routed.sh and cluster.sh.
#
# The sourcing script sets, before calling these: name (the topology's NAME), dir (its state
# directory) and sw_ns (the namespace of its bridges). NGINX_* below tune start_nginx.
# shellcheck shell=bash disable=SC2154 # name, dir and sw_ns are the sourcing script's

NGINX_CONNECTIONS=1024 # worker_connections of every backend's nginx
NGINX_ACCESS_LOG=1     # 1: an access log per backend (tests count requests from it); 0: none
NGINX_STATUS500=0      # 1: /status500 answers 500 (for failing health checks)
NGINX_OF="topology"    # the word naming what a backend belongs to, in its nginx.conf

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# Print the script's usage: its header comment from "# Usage:" to the first line matching the
# sed address END (a regular expression).
usage_until() {
	sed -n "/^# Usage:/,/$1/s/^# \{0,1\}//p" "$0" >&2
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

# The state directory of a new topology, and a teardown (the script's do_down) on any failure
# or interrupt from here until up_done. WHAT names the kind in messages ("topology", "cluster").
up_begin() {
	local what=$1
	if [ -e "$dir" ] || [ -e "/run/netns/$sw_ns" ]; then
		die "$what $name exists (${0##*/} down $name first)"
	fi
	mkdir -p "$(dirname "$dir")"
	mkdir -m 0755 "$dir" || die "$what $name exists (${0##*/} down $name first)"
	# shellcheck disable=SC2064 # the script's name now; do_down is looked up when it runs
	trap "echo '${0##*/}: up $name failed, tearing down' >&2; do_down" EXIT
	trap 'exit 1' INT TERM
}

up_done() {
	trap - EXIT INT TERM
}

# Sysctls for a fresh namespace. Set before any interface is moved in, so that `default` applies
# to it: no DAD (addresses usable at once, no 1-2 s tentative phase), no router advertisements,
# no reverse-path filter (DSR replies come from an address the client routes via the LB).
ns_sysctls() {
	in_ns "$1" sysctl -qw \
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

# A bridge in the switch namespace. No STP (ports forward at once); no multicast snooping (it
# can hold back IPv6 neighbour solicitations until it has heard MLD reports).
add_bridge() {
	ip -n "$sw_ns" link add "$1" type bridge stp_state 0 mcast_snooping 0
	ip -n "$sw_ns" link set "$1" up
}

# veth_port BRIDGE PORT NS IF [MAC [LINK-ARGS...]]: a veth pair, PORT on BRIDGE in the switch
# namespace, IF in namespace NS (with MAC unless empty), both up. LINK-ARGS (queue counts)
# apply to both ends.
veth_port() {
	local br=$1 port=$2 ns=$3 ifname=$4 mac=${5:-}
	shift 4
	[ $# -eq 0 ] || shift
	ip -n "$sw_ns" link add "$port" "$@" type veth peer name "$ifname" "$@" netns "$ns"
	[ -z "$mac" ] || ip -n "$ns" link set "$ifname" address "$mac"
	ip -n "$sw_ns" link set "$port" master "$br" up
	ip -n "$ns" link set "$ifname" up
}

# The queue count for an LB's veth: one per CPU (spreads the work), at most 8. Set at creation,
# before any XDP program: veth refuses XDP when the peer has more TX queues than RX queues.
lb_queues() {
	local q
	q=$(nproc)
	[ "$q" -le 8 ] || q=8
	echo "$q"
}

# addrs NS IF ADDR4/LEN ADDR6/LEN: both addresses on IF (IPv6 without DAD).
addrs() {
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" addr add "$4" dev "$2" nodad
}

# A DSR backend's VIPs on lo, never announced or answered for on its other interfaces.
# arp_ignore=1: answer ARP only for addresses of the receiving interface; arp_announce=2: ARP
# requests carry the interface's own address, never the VIP. IPv6 needs no setting: the kernel
# answers a neighbour solicitation only for addresses of the interface it arrived on. Call before
# the backend's interfaces exist, so that `default` applies to them too.
arp_hide_sysctls() {
	in_ns "$1" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.default.arp_ignore=1 net.ipv4.conf.default.arp_announce=2
}

vips_on_lo() {
	ip -n "$1" addr add "$2/32" dev lo
	ip -n "$1" addr add "$3/128" dev lo nodad
}

# neigh_permanent NS IF MAC ADDR...: fixed neighbour entries, so that nothing depends on ARP/ND
# timing (xlbd takes backend MACs from the LB's neighbour table).
neigh_permanent() {
	local ns=$1 ifname=$2 mac=$3 a
	shift 3
	for a in "$@"; do
		ip -n "$ns" neigh replace "$a" lladdr "$mac" dev "$ifname" nud permanent
	done
}

# The MAC address of interface IF in namespace NS.
if_mac() {
	ip -n "$1" -br link show "$2" | awk '{print $3}'
}

# tx_csum_off NS IF...: finished checksums. A veth sender with TX checksum offload leaves TCP
# checksums for "later"; XDP_TX loses that mark and the receiver drops the segment
# (docs/datapath.md).
tx_csum_off() {
	local ns=$1 i
	shift
	for i in "$@"; do
		in_ns "$ns" ethtool -K "$i" tx off >/dev/null
	done
}

# xdp_pass PORT...: the tiny XDP_PASS program on the switch namespace's ports PORT (the bridge
# side of LB veths). Native XDP_TX from a veth is delivered only when the peer veth runs an XDP
# program itself (the kernel's veth drops frames sent to a peer without NAPI, and an XDP program
# is what enables NAPI there).
xdp_pass() {
	local port
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
	for port in "$@"; do
		ip -n "$sw_ns" link set dev "$port" xdpdrv obj "$dir/xdp_pass.o" sec xdp
	done
}

# nginx_conf I BDIR ADDR...: the configuration of backend I's nginx, listening on port 80 of
# every ADDR (the VIPs and the backend's own addresses; IPv6 ones are bracketed here).
nginx_conf() {
	local i=$1 bdir=$2 a
	shift 2
	cat <<EOF
# nginx for backend be$i of $NGINX_OF $name: its own pid, logs and temp files, nothing global.
worker_processes 1;
pid $bdir/nginx.pid;
error_log $bdir/error.log warn;
events { worker_connections $NGINX_CONNECTIONS; }
http {
EOF
	if [ "$NGINX_ACCESS_LOG" = 1 ]; then
		cat <<EOF
	# Tests count requests per backend from this log.
	log_format xlb '\$remote_addr:\$remote_port \$server_addr "\$request" \$status';
	access_log $bdir/access.log xlb;
EOF
	else
		echo "	access_log off;"
	fi
	cat <<EOF
	client_body_temp_path $bdir/tmp/body;
	proxy_temp_path $bdir/tmp/proxy;
	fastcgi_temp_path $bdir/tmp/fastcgi;
	uwsgi_temp_path $bdir/tmp/uwsgi;
	scgi_temp_path $bdir/tmp/scgi;
	# Long-lived keep-alive connections are how tests hold flows open across changes.
	keepalive_timeout 300s;
	keepalive_requests 1000000;
	server {
EOF
	for a in "$@"; do
		case $a in
		*:*) echo "		listen [$a]:80;" ;;
		*) echo "		listen $a:80;" ;;
		esac
	done
	cat <<EOF
		default_type text/plain;
		add_header X-Backend be$i always;
		location / { return 200 "be$i\n"; }
EOF
	if [ "$NGINX_STATUS500" = 1 ]; then
		cat <<EOF
		# A failing health endpoint, for checks that must see an HTTP error status.
		location = /status500 { return 500 "be$i status 500\n"; }
EOF
	fi
	echo "	}"
	echo "}"
}

# start_nginx I NS ADDR...: backend I's nginx in namespace NS (state in $dir/beI), listening on
# ADDR (the VIPs and the backend's own addresses).
start_nginx() {
	local i=$1 ns=$2 bdir=$dir/be$1
	shift 2
	mkdir -p "$bdir/tmp"
	nginx_conf "$i" "$bdir" "$@" >"$bdir/nginx.conf"
	# -e: the error log before the configuration is read (else the global one is opened).
	in_ns "$ns" nginx -q -p "$bdir" -e "$bdir/error.log" -c "$bdir/nginx.conf" ||
		die "nginx failed to start in $ns: $(tail -n 3 "$bdir/error.log" 2>/dev/null)"
}

# do_nginx I stop|start: backend I's nginx down or up again, to play a failed backend. The
# script defines start_backend_nginx I and usage.
do_nginx() {
	local i=$1 action=$2 pid
	[ -f "$dir/env" ] || die "no topology $name"
	if ! [[ $i =~ ^[0-9]+$ ]] || [ ! -d "$dir/be$i" ]; then
		die "no backend $i in topology $name"
	fi
	case $action in
	stop)
		if pid=$(nginx_pid "$dir/be$i"); then stop_pids "$pid"; fi
		;;
	start)
		nginx_pid "$dir/be$i" >/dev/null && die "nginx of be$i already runs"
		start_backend_nginx "$i"
		;;
	*) usage ;;
	esac
}

# A process that has exited but not been reaped yet is gone for us: PID 1 here reaps orphans
# only about once a second.
alive() {
	local st
	# The state follows the command name, which is in parentheses and may hold spaces.
	st=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# pid_of FILE WHAT: the pid in pid file FILE, if that process still runs and its command line
# holds WHAT (so it is still the process we started, not a reused pid).
pid_of() {
	local file=$1 what=$2 pid
	[ -s "$file" ] || return 1
	pid=$(cat "$file")
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$what" || return 1
	echo "$pid"
}

# The pid of the nginx started for backend directory BDIR, if it still runs.
nginx_pid() {
	pid_of "$1/nginx.pid" "$1/nginx.conf"
}

# Stop the given processes: SIGTERM (for nginx a fast shutdown; SIGQUIT waits about a second
# for idle workers), all at once, then wait for them; SIGKILL after 5 s.
stop_pids() {
	local pid left
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || true
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
		kill -KILL "$pid" 2>/dev/null || true
	done
	return 0
}

# del_netns [REGEX]: delete the namespaces that up recorded, plus, with REGEX, any whose name
# matches it (in case the record was lost).
del_netns() {
	local ns
	{
		[ ! -f "$dir/netns" ] || cat "$dir/netns"
		[ -z "${1:-}" ] || ip netns list 2>/dev/null | awk '{print $1}' | grep -E "$1" || true
	} | sort -u | while read -r ns; do
		[ -z "$ns" ] || ip netns del "$ns" 2>/dev/null || true
	done
	return 0
}

# env_array VAR COUNT CMD...: a line `VAR=( [1]=v1 [2]=v2 ... )` for the `env` output, with vI
# what `CMD... I` prints.
env_array() {
	local var=$1 n=$2 i out=""
	shift 2
	for i in $(seq "$n"); do
		out+=" [$i]=$("$@" "$i")"
	done
	echo "$var=($out )"
}
