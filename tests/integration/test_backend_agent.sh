#!/usr/bin/env bash
# test_backend_agent.sh - xlb-backend on a backend: real TCP through IPIP/IP6IP6/IPv4-in-IPv6, host settings undone.
#
#   client namespace                                 backend namespace
#   curl -> VIP: route via TUN $TUN (MTU 1400)       lo: the VIPs (xlb-backend vip add)
#   tun_encap.py: each packet from $TUN gets an      xlb_decap on $BIF (xlb-backend attach)
#   outer header to 10.77.0.2 / fd77::2, sent        python3 http.server on VIP4:8080, [VIP6]:8080
#   as a raw frame on $CIF                           replies go to the client directly (DSR)
#   $CIF 10.77.0.1 fd77::1  ======== veth ========  $BIF 10.77.0.2 fd77::2
#
# There is no ipip module here, on either side: the client's tunnel is a Python TUN reader, the
# backend's is ours. docs/backend.md describes what xlb-backend changes and how detach undoes it.
set -u
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
it_init "$@"
BACKEND=$(dirname "$XLBD")/xlb-backend
# Only xlb-backend is needed here, not xlbd and xlbctl (which it_init looks for).
if [ "$(id -u)" -ne 0 ]; then
	IT_SETUP_SKIP="needs root (namespaces, XDP)"
elif [ ! -x "$BACKEND" ]; then
	IT_SETUP_SKIP="$BACKEND not built"
else
	IT_SETUP_SKIP=""
fi

ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
CL=xbc$ID BE=xbb$ID CIF=xbc$ID BIF=xbb$ID TUN=xbt$ID
VIP4=198.51.100.77 VIP6=2001:db8:77::1
# State and pins of this test only (the defaults are /run/xlb-backend and /sys/fs/bpf/xlb-backend).
export XLB_BACKEND_RUN_DIR=$IT_TMP/run XLB_BACKEND_PIN_DIR=/sys/fs/bpf/xlb-backend-it-$ID
TEST_PIDS=$IT_TMP/test.pids

it_before_cleanup() {
	it_kill_pids "$TEST_PIDS"
	ip netns del "$CL" 2>/dev/null
	ip netns del "$BE" 2>/dev/null
	rm -rf "$XLB_BACKEND_PIN_DIR"
}

in_be() { in_ns "$BE" "$@"; }
in_cl() { in_ns "$CL" "$@"; }
xb() { in_be "$BACKEND" "$@"; }

# xb_ok ARGS: xlb-backend in the backend namespace, failing the case with its message.
xb_ok() {
	local out
	out=$(xb "$@" 2>&1) || die_case "xlb-backend $*: $out"
	note "xlb-backend $*"
}

# xb_refused WANT ARGS: xlb-backend must exit 1 with a message containing WANT.
xb_refused() {
	local want=$1 out rc=0
	shift
	out=$(xb "$@" 2>&1) || rc=$?
	[ $rc -eq 1 ] || die_case "xlb-backend $*: exit status $rc, want 1 ($out)"
	[[ $out == *"$want"* ]] || die_case "xlb-backend $*: '$out' lacks '$want'"
	note "refused as expected: xlb-backend $*: $out"
}

# Everything xlb-backend may change on the backend, as text.
snapshot() {
	local s
	in_be ip -br addr show
	for s in arp_ignore arp_announce rp_filter; do
		echo "$s $(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/$s)"
	done
	echo "all.rp_filter $(in_be cat /proc/sys/net/ipv4/conf/all/rp_filter)"
	in_be ip -d link show dev "$BIF" | grep -o 'xdp[a-z]*' || echo "no xdp"
	ls -A "$XLB_BACKEND_PIN_DIR" 2>/dev/null || echo "no pins"
	find "$XLB_BACKEND_RUN_DIR" -name '*.json' 2>/dev/null
}

setup() {
	[ -z "$IT_SETUP_SKIP" ] || return 0
	ip netns add "$CL" && ip netns add "$BE" || return 1
	ip link add "$CIF" netns "$CL" type veth peer name "$BIF" netns "$BE" || return 1
	in_cl ip addr add 10.77.0.1/24 dev "$CIF"
	in_cl ip addr add fd77::1/64 dev "$CIF" nodad
	in_be ip addr add 10.77.0.2/24 dev "$BIF"
	in_be ip addr add fd77::2/64 dev "$BIF" nodad
	in_cl ip link set lo up && in_cl ip link set "$CIF" up
	in_be ip link set lo up && in_be ip link set "$BIF" up
	# Strict reverse-path filtering on the backend's interface: vip add relaxes it, detach
	# puts it back. On the client the replies come in on the veth while the route to the VIP
	# is the tunnel: the client is no DSR backend, its filter is simply off.
	in_be sysctl -qw net.ipv4.conf."$BIF".rp_filter=1
	in_cl sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf."$CIF".rp_filter=0
	mkdir -p "$IT_TMP/www" && echo "hello from the backend" >"$IT_TMP/www/hello"
	BMAC=$(in_be ip -br link show dev "$BIF" | awk '{print $3}')
}
setup || IT_SETUP_FAIL="namespaces and veth could not be set up"
[ -n "$IT_SETUP_SKIP" ] || BEFORE=$(snapshot)

# start_encap V4_OVER: the client's tunnel (IPv4 inside IPv4 or inside IPv6), its routes to the VIPs.
start_encap() {
	local ready=$IT_TMP/encap.ready pid
	rm -f "$ready"
	# nsenter itself, not in_cl: $! must be the process (a function would run in a subshell).
	nsenter --net="/run/netns/$CL" -- "$PY" "$IT_PY/tun_encap.py" "$TUN" "$CIF" "$BMAC" \
		10.77.0.1 10.77.0.2 fd77::1 fd77::2 "$1" "$ready" >/dev/null 2>>"$IT_TMP/encap.err" &
	pid=$!
	track "$pid"
	wait_for 5 test -e "$ready" || die_case "tun_encap.py did not start: $(tail -n 1 "$IT_TMP/encap.err")"
	in_cl ip link set "$TUN" up
	# mtu lock 1400: the outer header (20 or 40 bytes) must fit in the veth's 1500.
	in_cl ip route add "$VIP4/32" dev "$TUN" src 10.77.0.1 mtu lock 1400
	in_cl ip -6 route add "$VIP6/128" dev "$TUN" src fd77::1 mtu 1400
}

# start_servers ADDRESS...: an HTTP server bound to each VIP (which must be on lo by then).
start_servers() {
	local a pid
	for a in "$@"; do
		nsenter --net="/run/netns/$BE" -- "$PY" -m http.server 8080 --bind "$a" \
			--directory "$IT_TMP/www" >>"$IT_TMP/http.log" 2>&1 &
		pid=$!
		echo "$pid" >>"$TEST_PIDS"
		disown "$pid" 2>/dev/null || true
	done
	for a in "$@"; do
		[[ $a == *:* ]] && a="[$a]"
		wait_for 10 in_be curl -sf -o /dev/null "http://$a:8080/hello" ||
			die_case "the server on $a did not start"
	done
}

# After a failed case (lib.sh's run_case): the next one starts from a clean host, not from
# this one's leftovers. There is no xlbd here.
it_after_failure() {
	it_kill_pids "$TEST_PIDS"
	xb detach "$BIF" >/dev/null 2>&1 || true
}

counter() { xb -j show | json_get "j['interfaces'][0]['counters']['$1']"; }

# fetch URL: one real TCP connection from the client through the tunnel.
fetch() {
	local body
	body=$(in_cl curl -sS --max-time 10 "$1" 2>&1) || die_case "curl $1: $body"
	[ "$body" = "hello from the backend" ] || die_case "curl $1: got '$body'"
}

case_bad_inputs_before_attach() {
	xb_refused "no interface is attached" vip add "$VIP4"
	xb_refused "unknown interface 'nosuch0'" attach nosuch0
	xb_refused "bad mode 'fast'" attach "$BIF" mode fast
	xb_refused "unexpected 'bogus'" attach "$BIF" bogus
	xb_refused "is not attached" detach "$BIF"
	xb_refused "not attached" vip add "$VIP4" dev "$BIF"
	xb_refused "bad address" vip add 300.1.2.3
	xb_refused "unknown command" frobnicate
	[ "$(snapshot)" = "$BEFORE" ] || die_case "a refused command changed the host"
}

case_attach_and_vips() {
	xb_ok attach "$BIF" mode native
	xb_refused "already attached" attach "$BIF"
	xb_refused "already attached" attach "$BIF" mode generic
	xb_ok vip add "$VIP4"
	xb_ok vip add "$VIP6"
	xb_refused "already added" vip add "$VIP4"
	xb_refused "is not added" vip del 198.51.100.78
	xb_refused "bad vip" vip add 224.0.0.1
	in_be ip -br addr show dev lo | grep -qF "$VIP4/32" || die_case "$VIP4/32 not on lo"
	in_be ip -br addr show dev lo | grep -qF "$VIP6/128" || die_case "$VIP6/128 not on lo"
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/arp_ignore)" = 1 ] || die_case "arp_ignore"
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/arp_announce)" = 2 ] || die_case "arp_announce"
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/rp_filter)" = 2 ] || die_case "rp_filter"
	in_be ip -d link show dev "$BIF" | grep -q "xdp" || die_case "no XDP program on $BIF"
	[ "$(xb -j show | json_get "len(j['interfaces'][0]['vips'])")" = 2 ] || die_case "show: vips"
	start_servers "$VIP4" "$VIP6"
}

# tunnel_case V4_OVER URL COUNTER: a TCP connection through the tunnel moves COUNTER.
tunnel_case() {
	local before after
	start_encap "$1"
	before=$(counter "$3")
	fetch "$2"
	fetch "$2"
	after=$(counter "$3")
	note "$3: $before -> $after"
	# SYN, ACK, request, ACKs, FIN...: several packets per connection, each decapsulated.
	[ "$after" -ge $((before + 6)) ] || die_case "$3 went from $before to $after"
	[ "$(counter pass_malformed)" = 0 ] || die_case "malformed packets were counted"
}
case_ipv4_in_ipv4() { tunnel_case 4 "http://$VIP4:8080/hello" decap_ipv4_in_ipv4; }
case_ipv6_in_ipv6() { tunnel_case 4 "http://[$VIP6]:8080/hello" decap_ipv6_in_ipv6; }
case_ipv4_in_ipv6() { tunnel_case 6 "http://$VIP4:8080/hello" decap_ipv4_in_ipv6; }

# A VIP deleted is no longer decapsulated: the tunnelled SYN reaches the kernel as protocol 4,
# which it drops (no ipip module), and the connection fails.
case_vip_del_stops_decap() {
	local before
	xb_ok vip del "$VIP4"
	in_be ip -br addr show dev lo | grep -qF "$VIP4/" && die_case "$VIP4 still on lo"
	start_encap 4
	before=$(counter pass_not_vip)
	in_cl curl -s --max-time 2 -o /dev/null "http://$VIP4:8080/hello" &&
		die_case "a connection to a deleted vip succeeded"
	[ "$(counter pass_not_vip)" -gt "$before" ] || die_case "pass_not_vip did not move"
	xb_ok vip add "$VIP4"
}

case_detach_restores() {
	it_kill_pids "$TEST_PIDS"
	xb_ok detach "$BIF"
	xb_refused "is not attached" detach "$BIF"
	local after
	after=$(snapshot)
	[ "$after" = "$BEFORE" ] || die_case "the host differs after detach: $(diff <(echo "$BEFORE") <(echo "$after") | tr '\n' ' ')"
}

case_generic_mode() {
	xb_ok attach "$BIF" mode generic
	in_be ip -d link show dev "$BIF" | grep -q "xdpgeneric" || die_case "not attached in generic mode"
	xb_ok vip add "$VIP4"
	start_servers "$VIP4"
	start_encap 6
	fetch "http://$VIP4:8080/hello"
	[ "$(counter decap_ipv4_in_ipv6)" -gt 0 ] || die_case "nothing decapsulated in generic mode"
	it_kill_pids "$TEST_PIDS"
	xb_ok detach "$BIF"
	[ "$(snapshot)" = "$BEFORE" ] || die_case "the host differs after detach"
}

# dsr-l2: the host settings of a backend on the LB's segment, no program, no rp_filter change.
case_dsr_l2_setup() {
	xb_ok attach "$BIF" mode dsr-l2
	xb_ok vip add "$VIP6"
	xb_ok vip add "$VIP4"
	in_be ip -d link show dev "$BIF" | grep -q "xdp" && die_case "dsr-l2 attached a program"
	in_be ip -br addr show dev lo | grep -qF "$VIP4/32" || die_case "$VIP4/32 not on lo"
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/arp_ignore)" = 1 ] || die_case "arp_ignore"
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/rp_filter)" = 1 ] || die_case "rp_filter changed"
	xb_ok vip del "$VIP4"
	xb_ok vip del "$VIP6"
	# The last VIP gone, the sysctls are back.
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/arp_ignore)" = 0 ] || die_case "arp_ignore kept"
	xb_ok detach "$BIF"
	[ "$(snapshot)" = "$BEFORE" ] || die_case "the host differs after detach"
}

# --no-host: the program and its map only; an address that was on lo already stays there.
case_no_host_and_existing_address() {
	xb_ok attach "$BIF" --no-host
	xb_ok vip add "$VIP4"
	in_be ip -br addr show dev lo | grep -qF "$VIP4/" && die_case "--no-host added an address"
	[ "$(in_be cat /proc/sys/net/ipv4/conf/"$BIF"/arp_ignore)" = 0 ] || die_case "--no-host set arp_ignore"
	xb_ok detach "$BIF"
	in_be ip addr add "$VIP6/128" dev lo nodad
	xb_ok attach "$BIF"
	xb_ok vip add "$VIP6"
	xb_ok detach "$BIF"
	in_be ip -br addr show dev lo | grep -qF "$VIP6/128" || die_case "detach removed an address it had not added"
	in_be ip addr del "$VIP6/128" dev lo
	[ "$(snapshot)" = "$BEFORE" ] || die_case "the host differs after detach"
}

# Another XDP program on the interface is never replaced.
case_other_program_refused() {
	xb_ok attach "$BIF"
	local id
	id=$(xb -j show | json_get "j['interfaces'][0]['prog_id']")
	# A second state directory cannot take the interface either: its program is there.
	XLB_BACKEND_RUN_DIR=$IT_TMP/run2 XLB_BACKEND_PIN_DIR=$XLB_BACKEND_PIN_DIR-2 \
		xb_refused "another XDP program is attached" attach "$BIF"
	[ "$(xb -j show | json_get "j['interfaces'][0]['prog_id']")" = "$id" ] || die_case "program replaced"
	xb_ok detach "$BIF"
	[ "$(snapshot)" = "$BEFORE" ] || die_case "the host differs after detach"
}

# One VIP on two interfaces: the address on lo stays until the last of them lets it go.
case_vip_on_two_interfaces() {
	local other=xbd$ID
	in_be ip link add "$other" type veth peer name "xbe$ID"
	xb_ok attach "$other" mode dsr-l2
	xb_ok attach "$BIF" mode generic
	xb_refused "2 interfaces are attached" vip add "$VIP4"
	xb_ok vip add "$VIP4" dev "$other"
	xb_ok vip add "$VIP4" dev "$BIF"
	xb_refused "on 2 interfaces" vip del "$VIP4"
	xb_ok detach "$other"
	in_be ip -br addr show dev lo | grep -qF "$VIP4/32" || die_case "the vip left lo with $BIF still using it"
	xb_ok vip del "$VIP4"
	in_be ip -br addr show dev lo | grep -qF "$VIP4/" && die_case "the vip stayed on lo"
	xb_ok detach "$BIF"
	in_be ip link del "$other"
	[ "$(snapshot)" = "$BEFORE" ] || die_case "the host differs after detach"
}

run_case backend_bad_inputs_before_attach case_bad_inputs_before_attach
run_case backend_attach_and_vips case_attach_and_vips
run_case backend_ipv4_in_ipv4 case_ipv4_in_ipv4
run_case backend_ipv6_in_ipv6 case_ipv6_in_ipv6
run_case backend_ipv4_in_ipv6 case_ipv4_in_ipv6
run_case backend_vip_del_stops_decap case_vip_del_stops_decap
run_case backend_detach_restores case_detach_restores
run_case backend_generic_mode case_generic_mode
run_case backend_dsr_l2_setup case_dsr_l2_setup
run_case backend_no_host case_no_host_and_existing_address
run_case backend_other_program_refused case_other_program_refused
run_case backend_vip_on_two_interfaces case_vip_on_two_interfaces
it_finish
