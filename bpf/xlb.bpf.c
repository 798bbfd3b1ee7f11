/* xlb.bpf.c - the XDP load balancer: parse, VIP lookup, flow table, Maglev pick, L2 DSR or ipip forward. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "xlb_hash.h"

/* Each header includes what it needs. */
#include "lib/knobs.h"
#include "lib/maps.h"
#include "lib/writes.h" /* every map write of the program, and the explain rule */
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/pick.h"
#include "lib/flowtab.h" /* the flow table's reads and writes */
#include "lib/encap.h"	 /* ipip forwarding, and lib/icmp.h: its path MTU answers */
#include "lib/icmp_relay.h"

/* The flow keeps its backend if the backend still belongs to the flow's VIP and takes traffic.
 * be_id and vip_id are the entry's, from the one read of its word: another CPU may re-steer the
 * entry meanwhile. promote: the packet may promote the entry (lib/flowtab.h). */
static __always_inline int flow_backend(const int ex, struct flow_ref *r, __u32 be_id, __u32 vip_id,
					__u32 tick, int promote, union xlb_backend_copy *c)
{
	struct xlb_backend *be;

	if ((r->ent & XLB_FLOW_F_UDP) &&
	    flow_age(r, tick) > (udp_timeout_ns >> XLB_FLOW_TICK_SHIFT)) {
		count(ex, XLB_C_FLOW_EXPIRED);
		return 0;
	}
	be = bpf_map_lookup_elem(&xlb_backends, &be_id);
	if (!be) {
		count(ex, XLB_C_FLOW_STALE);
		return 0;
	}
	backend_copy(be, c);
	if (c->be.vip_id != vip_id) {
		count(ex, XLB_C_FLOW_STALE);
		return 0;
	}
	if (c->be.state != XLB_BE_UP && c->be.state != XLB_BE_DRAINING) {
		count(ex, XLB_C_FLOW_REPICK);
		return 0;
	}
	count(ex, XLB_C_FLOW_HIT);
	flow_touch(ex, r, tick, promote);
	return 1;
}

static __always_inline int forward_dsr_l2(const int ex, struct xdp_md *ctx,
					  const struct xlb_backend *be)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return drop(ex, XLB_C_MAP_ERROR); /* parsed before: cannot happen */
	/* Only frames to our MAC get here (frame_is_ours): their destination is the LB's MAC. */
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
	return count_action(ex, XDP_TX);
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* A SYN without ACK: a client opening a connection (or retrying to). */
static __always_inline int tcp_syn(__u8 tcp_flags)
{
	return (tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/* A packet the data plane cannot prove opens a new flow: TCP without SYN. A SYN opens one,
 * and a UDP packet may as well (nothing tells). */
static __always_inline __u32 mid_connection(const struct xlb_pkt *p)
{
	return p->key.proto == IPPROTO_TCP && !(p->tcp_flags & TCP_SYN);
}

/*
 * Active-flow accounting for a TCP packet of a flow that stays on its backend: the first FIN or
 * RST ends the flow (-1 if it was counted). Returns 1 when the packet is a SYN retry (a SYN for
 * a live flow: the client got no answer).
 */
static __always_inline int track_tcp(const int ex, struct flow_ref *r, __u8 tcp_flags)
{
	if (r->ent & XLB_FLOW_F_CLOSED)
		return 0;
	if (tcp_flags & (TCP_FIN | TCP_RST))
		flow_close(ex, r);
	return tcp_syn(tcp_flags);
}

/*
 * The packet goes to be: the backend's traffic (a VIP's is the sum of its backends'), then the
 * VIP's forwarding mode. The mode is read from xlb_vip_fwd by VIP id for every packet, flow-table
 * hits included (they never look the VIP up), so `vip set fwd` moves established flows to the
 * new mode on the backends they have. now: the packet's one clock reading (ipip's next-hop cache
 * ages by it).
 */
static __always_inline int forward(const int ex, struct xdp_md *ctx, const struct xlb_flow_key *k,
				   __u32 vip_id, const struct xlb_backend *be, __u32 be_id,
				   int new_flow, int syn_retry, __u64 now)
{
	__u64 bytes = (void *)(long)ctx->data_end - (void *)(long)ctx->data;
	__u32 *fwd = bpf_map_lookup_elem(&xlb_vip_fwd, &vip_id);

	count_traffic(ex, be_id, bytes, new_flow, syn_retry);
	explain_note_backend(ex, be_id);
	if (fwd && *fwd == XLB_FWD_IPIP)
		return forward_ipip(ex, ctx, k, be, be_id, now);
	return forward_dsr_l2(ex, ctx, be);
}

/*
 * A packet of a VIP with no usable flow entry: the scheduler picks, and the flow table learns
 * the pick (a new entry, or the old one re-steered in place). reused: the entry belongs to an
 * ended connection whose 5-tuple a new SYN opens again. If another CPU learnt the flow first,
 * the packet goes where its entry says, so a flow has one backend however its first packets
 * are spread (docs/datapath.md, "The flow table").
 */
static __always_inline int schedule_flow(const int ex, struct xdp_md *ctx, struct xlb_pkt *p,
					 const struct xlb_vip *vip, struct flow_ref *r, int reused,
					 __u64 now, __u32 tick)
{
	union xlb_backend_copy c;
	struct xlb_table *table;
	__u32 vip_id = vip->id;
	__u32 flags = 0;
	__u32 be_id;
	int st;

	table = vip_table(vip_id);
	if (!table)
		return drop(ex, XLB_C_DROP_NO_TABLE);
	/* The pick checks each candidate on its copy of the entry, and the copy of the one picked
	 * is what the packet is sent to: no second read that could disagree with the check. A TCP
	 * packet without SYN may belong to a connection another LB node placed (ECMP moved it
	 * here): a draining backend its pick names keeps it, and the flow table learns it. */
	be_id = pick_backend(ex, table, vip, &p->key, mid_connection(p), &c);
	if (!be_id) {
		emit_event(ex, XLB_EV_NO_BACKEND, vip_id, flow_found(r) ? xlb_fent_be(r->ent) : 0,
			   0, now);
		return drop(ex, XLB_C_DROP_NO_BACKEND);
	}
	if (c.be.state == XLB_BE_DRAINING)
		count(ex, XLB_C_DRAIN_KEPT);
	/* Only least-conn reads the active counts: other schedulers' flows skip the atomic add
	 * on a shared line, and their entries are not marked, so their end subtracts nothing. A
	 * FIN or RST that creates (or re-steers) an entry has ended already: closed, never
	 * counted. The +1 is made only for an entry that was stored. */
	if (p->key.proto == IPPROTO_UDP)
		flags |= XLB_FLOW_F_UDP;
	else if (p->tcp_flags & (TCP_FIN | TCP_RST))
		flags |= XLB_FLOW_F_CLOSED;
	if (vip->sched == XLB_SCHED_LEAST_CONN && !(flags & XLB_FLOW_F_CLOSED))
		flags |= XLB_FLOW_F_COUNTED;
	st = flow_learn(ex, &p->key, r, vip_id, be_id, reused, flags, now, tick);
	if (st == FLOW_STORED && (flags & XLB_FLOW_F_COUNTED))
		active_add(ex, be_id, 1);
	if (st == FLOW_LOST) {
		union xlb_backend_copy c2;
		__u32 won = xlb_fent_be(r->ent);

		count(ex, XLB_C_FLOW_INSERT_LOST);
		if (won != be_id && backend_usable_new(won, vip_id, 1, &c2))
			return forward(ex, ctx, &p->key, vip_id, &c2.be, won, 0, 0, now);
	}
	return forward(ex, ctx, &p->key, vip_id, &c.be, be_id, st == FLOW_STORED, 0, now);
}

/*
 * An ICMP error to a VIP address about a flow of the flow table goes to that flow's backend, by
 * the VIP's forwarding mode, unchanged (docs/datapath.md, "ICMP errors about VIP flows"): a
 * router on the path from a backend to its client answers a packet the backend sent from the
 * VIP (packet too big, above all), and the backend's stack must see it. Returns the action, or
 * -1 when the packet is not such an error (it then passes as before).
 */
static __always_inline int relay_icmp_error(const int ex, struct xdp_md *ctx, struct xlb_pkt *p,
					    struct flow_ref *fr, union xlb_backend_copy *c)
{
	struct xlb_flow_key *k = &p->key;
	struct xlb_addr outer_dst = k->dst;
	__u8 family = k->family;
	struct xlb_backend *be;
	struct encap_inner in;
	__u32 be_id, vip_id;

	/* k (the caller's packet key, no longer needed) becomes the quoted packet's, and fr and
	 * c are the caller's too: the program's stack, with the flow table's global functions
	 * on top, stays within the verifier's 512 bytes. */
	__builtin_memset(k, 0, sizeof(*k));
	if (encap_inner(ctx, family, &in) || icmp_error_key(ctx, &in, p->icmp6_off, k))
		return -1;
	/* The quoted packet left from the address the error is sent to. */
	if ((k->dst.v6[0] ^ outer_dst.v6[0]) | (k->dst.v6[1] ^ outer_dst.v6[1]) |
	    (k->dst.v6[2] ^ outer_dst.v6[2]) | (k->dst.v6[3] ^ outer_dst.v6[3]))
		return -1;
	flow_find(ex, k, fr);
	if (!flow_found(fr))
		return -1;
	be_id = xlb_fent_be(fr->ent);
	vip_id = xlb_fent_vip(fr->ent);
	be = bpf_map_lookup_elem(&xlb_backends, &be_id);
	if (!be)
		return -1;
	backend_copy(be, c);
	if (c->be.vip_id != vip_id || (c->be.state != XLB_BE_UP && c->be.state != XLB_BE_DRAINING))
		return -1;
	count(ex, XLB_C_ICMP_RELAYED);
	/* An ICMP error comes before the packet's clock is read (xlb_run): its own reading. */
	return forward(ex, ctx, k, vip_id, &c->be, be_id, 0, 0, bpf_ktime_get_coarse_ns());
}

/* Can the destination be a VIP address at all? One inlined array read (xlb_vip_filter). */
static __always_inline int maybe_vip_address(const struct xlb_flow_key *k)
{
	__u32 slot = xlb_vip_filter_slot(&k->dst);
	__u32 *n = bpf_map_lookup_elem(&xlb_vip_filter, &slot);

	return n && *n;
}

static __always_inline int is_vip_address(const struct xlb_flow_key *k)
{
	struct xlb_vip_addr_key ak = {};

	ak.addr = k->dst;
	ak.family = k->family;
	return bpf_map_lookup_elem(&xlb_vip_addrs, &ak) != NULL;
}

/* The VIP of a packet without a usable flow entry: its key is built only here. */
static __always_inline struct xlb_vip *vip_lookup(const struct xlb_flow_key *k)
{
	struct xlb_vip_key vk = {};

	vk.addr = k->dst;
	vk.port = k->dport;
	vk.proto = k->proto;
	vk.family = k->family;
	return bpf_map_lookup_elem(&xlb_vips, &vk);
}

/*
 * The flow table is looked up before the VIP map: an established packet needs no VIP lookup,
 * because its entry names the VIP and its backend must still belong to that VIP (xlbd deletes
 * the entries of a VIP it removes, so a VIP id given again never inherits them). ex: an explain
 * instance's run (the constant 1) or the live one (0); see xlb_xdp.
 */
static __always_inline int xlb_run(const int ex, struct xdp_md *ctx)
{
	struct xlb_pkt p = {};
	union xlb_backend_copy c;
	struct flow_ref r;
	struct xlb_vip *vip;
	__u32 reason = 0, tick;
	int pr, reused = 0;
	__u64 now;

	pr = parse_packet(ctx, &p, &reason);
	if (pr == PARSE_PASS) {
		/* ICMP and ICMPv6 to a VIP address: an error about a VIP flow is its backend's. */
		if (reason == XLB_C_PASS_NOT_VIP && maybe_vip_address(&p.key)) {
			pr = relay_icmp_error(ex, ctx, &p, &r, &c);
			if (pr >= 0)
				return pr;
		}
		return pass(ex, reason);
	}
	if (!maybe_vip_address(&p.key))
		return pass(ex, XLB_C_PASS_NOT_VIP);
	if (pr == PARSE_BAD) {
		/* Malformed packets to a VIP address are ours to drop; anybody else's pass. */
		if (is_vip_address(&p.key))
			return drop(ex, reason);
		return pass(ex, XLB_C_PASS_NOT_VIP);
	}

	now = bpf_ktime_get_coarse_ns();
	tick = xlb_flow_tick(now);
	flow_find(ex, &p.key, &r);
	explain_note_flow(ex, flow_found(&r) ? xlb_fent_be(r.ent) : 0);
	/* A SYN on the 5-tuple of an ended connection (client port reuse) opens a new one: it is
	 * scheduled afresh, so a draining or reweighted backend gets no new connection this way. */
	if (flow_found(&r) && (r.ent & XLB_FLOW_F_CLOSED) && p.key.proto == IPPROTO_TCP &&
	    tcp_syn(p.tcp_flags)) {
		reused = 1;
	} else if (flow_found(&r)) {
		__u32 be_id = xlb_fent_be(r.ent), vip_id = xlb_fent_vip(r.ent);
		int promote = p.key.proto != IPPROTO_TCP || !tcp_syn(p.tcp_flags);

		if (flow_backend(ex, &r, be_id, vip_id, tick, promote, &c)) {
			int syn_retry = 0;

			if (p.key.proto == IPPROTO_TCP)
				syn_retry = track_tcp(ex, &r, p.tcp_flags);
			return forward(ex, ctx, &p.key, vip_id, &c.be, be_id, 0, syn_retry, now);
		}
	}

	vip = vip_lookup(&p.key);
	if (!vip)
		return pass(ex, XLB_C_PASS_NOT_VIP);
	if (!flow_found(&r) || reused)
		count(ex, XLB_C_FLOW_MISS);
	return schedule_flow(ex, ctx, &p, vip, &r, reused, now, tick);
}

/*
 * One read of explain_mode per packet: the body is inlined twice with ex constant, so the live
 * copy has no explain code and no explain_mode load left at its counters and writes (clang
 * removes them), and the verifier, which sees explain_mode's frozen value, keeps one copy.
 */
SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	if (explain_mode)
		return xlb_run(1, ctx);
	return xlb_run(0, ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
