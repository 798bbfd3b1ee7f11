#!/bin/bash
# test_tunnel_check.sh - the health check through the tunnel (check option `tunnel on`, docs/xlbd.md): a backend that answers on its own address but not through its tunnel is down, and back when the tunnel works again.
# Usage: tests/integration/test_tunnel_check.sh BUILD_DIR
#
# The topology is scripts/topo_routed.sh's (its header has the drawing): client and LB on
# segment A, backends be1-be3 behind a router, each with `xlb-backend attach eth0` + `vip add`
# for both VIPs and nginx listening on the VIPs and on its own addresses. A plain check (tcp to
# the backend's own address) cannot see a backend whose VIP is gone from lo or whose xlb_decap
# is detached: it passes while every tunnelled packet is dropped. Each case first shows that
# (plain check: the backend stays up, requests fail), then turns the tunnel check on: the
# backend goes down and no request fails, and it comes back once its tunnel works again.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_use_routed 0
it_setup 3

# Checks every 200 ms: a circuit opens after 2 failures and closes after 2 passes.
CHECK=(check tcp interval 200ms timeout 100ms rise 2 fall 2 slow-start 0)

# xlb-backend in backend I's namespace, with the state and pin directories topo_routed.sh gave it.
be_agent() {
	"$TOPO_SH" agent "$TOPO_NAME" "$@"
}

# tunnel_vip VIP ADDR...: VIP with fwd ipip, the plain check and the given backends, all up.
tunnel_vip() {
	local vip=$1 a
	shift
	xlbctl vip del "$vip" >/dev/null 2>&1 || true
	xlbctl_ok vip add "$vip" fwd ipip "${CHECK[@]}"
	for a in "$@"; do
		xlbctl_ok backend add "$vip" "$a"
	done
	wait_for 10 all_backends_up "$vip" || die_case "backends of $vip not all up: $(xlbctl backend show "$vip" 2>&1 | tr '\n' ' ')"
}

state_of() { backend_field "$1" "$2" state 2>/dev/null; }
is_state() { [ "$(state_of "$1" "$2")" = "$3" ]; }

# The counter of backend ADDR of VIP on the metrics page, or "none".
tunnel_failures() {
	in_ns "$LB_NS" curl -s "http://$LB_IP4:9901/metrics" | awk -v vip="$1" -v be="$2" '
		index($0, "xlb_health_check_tunnel_failures_total{vip=\"" vip "\",backend=\"" be "\"}") == 1 { print $2; f = 1 }
		END { if (!f) print "none" }'
}

# failed_requests ADDR N: of N requests on new connections, how many failed. A short connect
# timeout: those to the broken backend are dropped, and curl_many's 2 s each would add up.
failed_requests() {
	local url n bad=0
	url=$(vip_url "$1")
	for n in $(seq "$2"); do
		in_client curl -s -g --connect-timeout 0.5 -m 2 -o /dev/null -H "Connection: close" \
			"$url/?t=pl&n=$n" || bad=$((bad + 1))
	done
	echo "$bad"
}

# broken_then_tunnel_check VIP ADDR URL_ADDR BROKEN_INDEX BREAK FIX: the whole story for one VIP.
# BREAK and FIX are commands that break and repair backend BROKEN_INDEX's tunnel path.
broken_then_tunnel_check() {
	local vip=$1 addr=$2 url=$3 i=$4 break_cmd=$5 fix_cmd=$6 out=$IT_TMP/tc.out bad why n
	shift 6
	tunnel_vip "$vip" "$@"
	$break_cmd "$i"
	# The plain check passes on the backend's own address: still up, and its requests fail.
	sleep 1
	is_state "$vip" "$addr" up || die_case "the plain check took ${BE_NAME[$i]} down: $(state_of "$vip" "$addr")"
	bad=$(failed_requests "$url" 20)
	note "plain check, ${BE_NAME[$i]} broken: $bad of 20 failed"
	[ "$bad" -gt 0 ] || die_case "no request failed with ${BE_NAME[$i]}'s tunnel broken: the case tests nothing"
	# The tunnel check: down, and nothing fails.
	xlbctl_ok vip set "$vip" tunnel on
	wait_for 10 is_state "$vip" "$addr" down ||
		die_case "${BE_NAME[$i]} not down with the tunnel check: $(xlbctl -j backend show "$vip" | tr '\n' ' ')"
	why=$(xlbctl -j backend show "$vip" | json_get "[b for b in j['backends'] if b['address'] == '$addr'][0]['last_check']['error']")
	note "last check of ${BE_NAME[$i]}: $why"
	[[ $why == *tunnel* ]] || die_case "the failure does not name the tunnel: $why"
	for n in $(seq "$BE_COUNT"); do
		[ "$n" = "$i" ] || is_state "$vip" "${BE_IP4[$n]}" up || is_state "$vip" "${BE_IP6[$n]}" up ||
			die_case "${BE_NAME[$n]}, whose tunnel works, is not up"
	done
	n=$(tunnel_failures "$vip" "$addr")
	note "xlb_health_check_tunnel_failures_total: $n"
	{ [ "$n" != none ] && [ "$n" -ge 2 ]; } || die_case "tunnel failures of ${BE_NAME[$i]} on the metrics page: $n"
	curl_many "$url" 60 tn "$out"
	note "tunnel check, ${BE_NAME[$i]} broken: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 60 failed with ${BE_NAME[$i]} down"
	[ "$(count_backend "$out" "${BE_NAME[$i]}")" -eq 0 ] || die_case "down ${BE_NAME[$i]} got requests"
	# Repaired: back up, and it serves.
	$fix_cmd "$i"
	wait_for 10 is_state "$vip" "$addr" up || die_case "${BE_NAME[$i]} not back up with its tunnel repaired"
	curl_many "$url" 90 fx "$out"
	note "repaired: $(spread "$out")"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 90 failed after the repair"
	[ "$(count_backend "$out" "${BE_NAME[$i]}")" -gt 0 ] || die_case "${BE_NAME[$i]} got no request after the repair"
	xlbctl_ok vip del "$vip"
}

# The VIPs gone from the backend's lo (xlb_decap still attached).
vip4_off() { in_ns "${BE_NS[$1]}" ip addr del "$VIP4/32" dev lo; }
vip4_on() { in_ns "${BE_NS[$1]}" ip addr add "$VIP4/32" dev lo; }
# xlb-backend detached (program, VIPs on lo, sysctls), then attached again with both VIPs.
agent_off() { be_agent "$1" detach "$BE_IF" >/dev/null; }
agent_on() {
	be_agent "$1" attach "$BE_IF" mode native >/dev/null
	be_agent "$1" vip add "$VIP4" >/dev/null
	be_agent "$1" vip add "$VIP6" >/dev/null
}

case_ipv4_vip_not_on_lo() {
	broken_then_tunnel_check "$VIP4:80/tcp" "${BE_IP4[2]}" "$VIP4" 2 vip4_off vip4_on \
		"${BE_IP4[1]}" "${BE_IP4[2]}" "${BE_IP4[3]}"
}

case_ipv6_agent_detached() {
	broken_then_tunnel_check "[$VIP6]:80/tcp" "${BE_IP6[3]}" "$VIP6" 3 agent_off agent_on \
		"${BE_IP6[1]}" "${BE_IP6[2]}" "${BE_IP6[3]}"
}

# IPv4 in IPv6: the echo's inner source is an IPv4 address of xlbd's interface.
case_ipv4_over_ipv6_agent_detached() {
	broken_then_tunnel_check "$VIP4:80/tcp" "${BE_IP6[1]}" "$VIP4" 1 agent_off agent_on \
		"${BE_IP6[1]}" "${BE_IP6[2]}" "${BE_IP6[3]}"
}

# Settings: tunnel needs a check to add to; it is kept in the state file across a restart.
case_settings() {
	local out
	xlbctl_ok vip add "$VIP4:81/tcp" fwd ipip
	out=$(xlbctl vip set "$VIP4:81/tcp" tunnel on 2>&1) && die_case "tunnel on taken without a check"
	note "refused: $out"
	xlbctl_ok vip set "$VIP4:81/tcp" check tcp tunnel on
	[[ $(xlbctl vip show "$VIP4:81/tcp") == *tunnel* ]] || die_case "vip show does not say tunnel: $(xlbctl vip show "$VIP4:81/tcp")"
	xlbd_stop || die_case "xlbd did not stop"
	xlbd_start --metrics "$LB_IP4:9901" || die_case "xlbd did not start again"
	[ "$(xlbctl -j vip show "$VIP4:81/tcp" | json_get "j['vips'][0]['check']['tunnel']" 2>/dev/null ||
		xlbctl -j vip show | json_get "[v for v in j['vips'] if v['vip'] == '$VIP4:81/tcp'][0]['check']['tunnel']")" = True ] ||
		die_case "tunnel not kept across the restart: $(xlbctl -j vip show | tr '\n' ' ')"
	xlbctl_ok vip del "$VIP4:81/tcp"
}

# The metrics page is the LB's: restart xlbd with it once.
if [ -z "$IT_SETUP_SKIP" ] && [ -z "$IT_SETUP_FAIL" ]; then
	xlbd_stop && xlbd_start --metrics "$LB_IP4:9901" >/dev/null 2>&1 || IT_SETUP_FAIL="xlbd did not start with --metrics"
fi
it_after_failure() {
	local pid
	pid=$(xlbd_pid)
	if [ -z "$pid" ] || ! alive "$pid"; then
		xlbd_start --metrics "$LB_IP4:9901" >/dev/null 2>&1 || IT_SETUP_FAIL="xlbd died in $1 and did not restart"
	fi
}

run_case ipv4_vip_not_on_lo case_ipv4_vip_not_on_lo
run_case ipv6_agent_detached case_ipv6_agent_detached
run_case ipv4_over_ipv6_agent_detached case_ipv4_over_ipv6_agent_detached
run_case tunnel_settings case_settings
it_finish
