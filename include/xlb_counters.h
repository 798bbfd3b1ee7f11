/* xlb_counters.h - global data-plane counters (xlb_stats, PERCPU_ARRAY), one list for BPF and userspace. */
#ifndef XLB_COUNTERS_H
#define XLB_COUNTERS_H

/*
 * X(enum name, metric label). The first five follow enum xdp_action so that
 * XLB_C_ACT_ABORTED + action is the action's counter. Drop reasons are counted only for
 * packets to a VIP address; anything we cannot attribute to a VIP is passed untouched.
 */
#define XLB_COUNTERS(X)                                                       \
	X(XLB_C_ACT_ABORTED, "xdp_aborted")                                   \
	X(XLB_C_ACT_DROP, "xdp_drop")                                         \
	X(XLB_C_ACT_PASS, "xdp_pass")                                         \
	X(XLB_C_ACT_TX, "xdp_tx")                                             \
	X(XLB_C_ACT_REDIRECT, "xdp_redirect")                                 \
	/* passed: not ours */                                                \
	X(XLB_C_PASS_NOT_IP, "pass_not_ip")                                   \
	X(XLB_C_PASS_NOT_VIP, "pass_not_vip")                                 \
	X(XLB_C_PASS_UNPARSED, "pass_unparsed")                               \
	X(XLB_C_PASS_NOT_OURS, "pass_not_ours")                               \
	X(XLB_C_PASS_IPV6_EXT_LIMIT, "pass_ipv6_ext_limit")                   \
	/* dropped: packets to a VIP address that cannot be handled safely */ \
	X(XLB_C_DROP_IP_TRUNCATED, "drop_ip_truncated")                       \
	X(XLB_C_DROP_BAD_IP_HEADER, "drop_bad_ip_header")                     \
	X(XLB_C_DROP_BAD_IP_LENGTH, "drop_bad_ip_length")                     \
	X(XLB_C_DROP_FRAGMENT, "drop_fragment")                               \
	X(XLB_C_DROP_L4_TRUNCATED, "drop_l4_truncated")                       \
	X(XLB_C_DROP_BAD_L4_HEADER, "drop_bad_l4_header")                     \
	X(XLB_C_DROP_NO_BACKEND, "drop_no_backend")                           \
	X(XLB_C_DROP_NO_TABLE, "drop_no_table")                               \
	X(XLB_C_MAP_ERROR, "map_error")                                       \
	/* flow table and backend choice */                                   \
	X(XLB_C_FLOW_HIT, "flow_hit")                                         \
	X(XLB_C_FLOW_MISS, "flow_miss")                                       \
	X(XLB_C_FLOW_INSERT, "flow_insert")                                   \
	X(XLB_C_FLOW_INSERT_FAIL, "flow_insert_fail")                         \
	X(XLB_C_FLOW_EXPIRED, "flow_expired")                                 \
	X(XLB_C_FLOW_STALE, "flow_stale")                                     \
	X(XLB_C_FLOW_REPICK, "flow_repick")                                   \
	X(XLB_C_FAILOVER_REHASH, "failover_rehash")                           \
	X(XLB_C_FAILOVER_WALK, "failover_walk")                               \
	X(XLB_C_DRAIN_KEPT, "drain_kept")                                     \
	/* ipip forwarding (bpf/lib/encap.h) */                               \
	X(XLB_C_ENCAP_4IN4, "encap_ipv4_in_ipv4")                             \
	X(XLB_C_ENCAP_6IN6, "encap_ipv6_in_ipv6")                             \
	X(XLB_C_ENCAP_4IN6, "encap_ipv4_in_ipv6")                             \
	X(XLB_C_PASS_NO_NEIGH, "pass_no_neigh")                               \
	X(XLB_C_PASS_NO_TX_PORT, "pass_no_tx_port")                           \
	X(XLB_C_DROP_NO_ROUTE, "drop_no_route")                               \
	X(XLB_C_DROP_FWD_DISABLED, "drop_fwd_disabled")                       \
	X(XLB_C_DROP_ENCAP_FAILED, "drop_encap_failed")                       \
	X(XLB_C_DROP_TOO_BIG, "drop_too_big")                                 \
	X(XLB_C_PMTU_SENT, "pmtu_sent")                                       \
	X(XLB_C_DROP_PMTU_RATE, "drop_pmtu_rate")                             \
	X(XLB_C_ICMP_RELAYED, "icmp_relayed")                                 \
	/* flow table slots (lib/flowtab.h) */                                \
	X(XLB_C_FLOW_EVICTED, "flow_evicted")                                 \
	X(XLB_C_FLOW_INSERT_LOST, "flow_insert_lost")

#define XLB_COUNTER_ENUM(name, label) name,
enum xlb_counter { XLB_COUNTERS(XLB_COUNTER_ENUM) XLB_C_MAX };
#undef XLB_COUNTER_ENUM

/* struct xlb_explain keeps one bit per counter. */
_Static_assert(XLB_C_MAX <= 64, "xlb_explain.counters has 64 bits");

/*
 * Meanings, for the docs and metrics help:
 * pass_unparsed     frame too short to read the destination address (runt Ethernet, VLAN tag,
 *                   IPv4 header < 20 bytes, IPv6 header < 40 bytes): the kernel decides.
 * pass_not_ours     Ethernet destination not the LB's MAC (broadcast, multicast, another
 *                   host's unicast: flooded, or a promiscuous interface); without an LB MAC,
 *                   a group (broadcast or multicast) destination.
 * pass_ipv6_ext_limit IPv6 header chain longer than the walk (XLB_MAX_IPV6_EXT headers), or
 *                   a later fragment whose packet began with an extension header: the protocol
 *                   is unknown, so it cannot be shown to be a VIP's.
 * drop_ip_truncated IPv4 options or IPv6 extension headers run past the frame.
 * drop_bad_ip_header IPv4 IHL < 5, or an IP version other than the EtherType's (4 or 6).
 * drop_bad_ip_length IP total/payload length larger than the frame or smaller than the header.
 * drop_fragment     a TCP or UDP fragment (IPv4 MF/offset, IPv6 fragment header other than an
 *                   atomic one) to a VIP address: not supported yet.
 * drop_no_table     VIP has no table yet (configuration in progress).
 * map_error         a lookup that cannot fail did (counted, never silent).
 * flow_stale        flow entry names a backend that no longer belongs to the VIP: re-picked.
 * flow_expired      UDP flow idle longer than the timeout: re-picked.
 * flow_insert_fail  every slot of both of the flow's buckets holds an established live flow (or
 *                   the home bucket stayed busy): the packet goes to its pick, no entry.
 * flow_repick       flow entry names a down backend: re-picked (stateless failover).
 * failover_rehash   the first pick was unusable, a re-hash into the ring found a backend.
 * failover_walk     all re-hashes failed, the member walk found a backend.
 * flow_evicted      a new flow took the slot of an expired, closed or unpromoted entry (never an
 *                   established live one: docs/datapath.md, "The flow table").
 * flow_insert_lost  another CPU inserted or re-steered the flow first: this packet went where
 *                   that CPU's entry says (one backend per flow).
 * drain_kept        a TCP packet without SYN and without a usable flow entry went to the
 *                   draining backend its pick named (a connection another LB node placed:
 *                   docs/datapath.md, "Draining across nodes"); the flow table learnt it.
 * encap_*           an ipip VIP's packet sent in an outer header (IPv4 VIP over an IPv6
 *                   backend: encap_ipv4_in_ipv6).
 * pass_no_neigh     encapsulated, but the next hop's neighbour entry is not resolved: handed to
 *                   the kernel, which forwards it once it has resolved it (docs/datapath.md).
 * pass_no_tx_port   encapsulated, but the egress interface is not in xlb_tx_ports: the kernel
 *                   forwards it.
 * drop_no_route     no route to the backend (unreachable, blackhole, prohibit, not forwarded,
 *                   a route with an encapsulation of its own).
 * drop_fwd_disabled the kernel refuses to route from the receiving interface: forwarding off.
 * drop_encap_failed the frame could not be grown for the outer header (or shrunk for an answer).
 * drop_too_big      encapsulated it would exceed the egress MTU, and it cannot be answered: an
 *                   IPv4 packet without DF (XDP cannot fragment), or one too short to quote.
 * pmtu_sent         answered with ICMP fragmentation-needed / ICMPv6 packet-too-big.
 * drop_pmtu_rate    too big, and this CPU's answers for this second are used up: dropped.
 * icmp_relayed      an ICMP error to a VIP address about a flow in the flow table (the header
 *                   it quotes, turned around, is the flow's key): sent to the flow's backend.
 */

#endif /* XLB_COUNTERS_H */
