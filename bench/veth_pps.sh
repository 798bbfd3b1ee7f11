#!/bin/bash
# veth_pps.sh - packet rate over veth (veth-pps) in two throwaway namespaces, removed on exit.
# Usage: veth_pps.sh BUILD_DIR OUT_DIR      writes OUT_DIR/veth.json
set -euo pipefail

BUILD=$(cd "$1" && pwd)
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
NAME=xp$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
GEN_NS=xlbb-$NAME-gen
LB_NS=xlbb-$NAME-lb

cleanup() {
	set +e
	ip netns del "$GEN_NS" 2>/dev/null
	ip netns del "$LB_NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$GEN_NS"
ip netns add "$LB_NS"
# One queue each (set before any XDP program: veth refuses XDP when the peer has more TX
# queues than it has RX queues).
ip -n "$GEN_NS" link add gen0 numtxqueues 1 numrxqueues 1 type veth peer name "$NAME" \
	numtxqueues 1 numrxqueues 1 netns "$LB_NS"
ip -n "$GEN_NS" link set gen0 address 02:00:00:00:00:01
ip -n "$LB_NS" link set "$NAME" address 02:00:00:00:00:02
ip -n "$GEN_NS" link set gen0 up
ip -n "$LB_NS" link set "$NAME" up
# The ipip row's route (veth_pps.c): the backends' prefix via a next hop whose permanent neighbour
# entry is gen0's MAC, out the LB's veth itself (XDP_TX); bpf_fib_lookup routes as a forwarder.
ip -n "$LB_NS" addr add 100.64.1.1/24 dev "$NAME"
ip -n "$LB_NS" neigh add 100.64.1.254 lladdr 02:00:00:00:00:01 dev "$NAME" nud permanent
ip -n "$LB_NS" route add 10.1.0.0/24 via 100.64.1.254
ip netns exec "$LB_NS" sysctl -qw net.ipv4.ip_forward=1
"$BUILD/veth-pps" "$OUT/veth.json" "/run/netns/$GEN_NS" gen0 "/run/netns/$LB_NS" "$NAME"
