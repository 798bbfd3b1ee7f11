/* encap.h - ipip forwarding: an outer IPv4/IPv6 header to the backend, next hop from bpf_fib_lookup. */
#ifndef XLB_BPF_ENCAP_H
#define XLB_BPF_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "maps.h"
#include "stats.h"
#include "icmp.h"

#ifndef AF_INET
#define AF_INET	 2
#define AF_INET6 10
#endif
#ifndef IP_DF
#define IP_DF 0x4000
#endif
#define ENCAP_TTL 64

/*
 * What the outer header needs from the inner packet: the parse (lib/parse.h) checked it
 * already, so this only walks to it again (Ethernet and VLAN tags) and reads. -1: cannot
 * happen on a parsed packet.
 */
static __always_inline int encap_inner(struct xdp_md *ctx, __u8 family, struct encap_inner *in)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = eth->h_proto;
	in->l3 = ETH_HLEN;
	in->vlans = 0;
	for (i = 0; i < 2; i++) {
		__be16 *next = data + in->l3 + 2;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(next + 1) > data_end)
			return -1;
		proto = *next;
		in->l3 += 4;
		in->vlans++;
	}
	in->family = family;
	if (family == XLB_AF_INET) {
		struct iphdr *ip = data + in->l3;

		if ((void *)(ip + 1) > data_end)
			return -1;
		in->len = bpf_ntohs(ip->tot_len);
		in->tos = ip->tos;
		in->df = !!(ip->frag_off & bpf_htons(IP_DF));
		in->label = 0;
		in->proto = ip->protocol;
	} else {
		struct ipv6hdr *ip6 = data + in->l3;
		__u32 w;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		w = bpf_ntohl(*(__be32 *)ip6);
		in->len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		in->tos = (w >> 20) & 0xff;
		in->df = 1; /* IPv6 routers never fragment */
		in->label = w & 0xfffff;
		in->proto = ip6->nexthdr;
	}
	return 0;
}

/*
 * The outer header in front of the inner IP packet: VLAN tags are not kept (the route's egress
 * interface is where the frame goes, untagged), the Ethernet header is written from mac (the
 * next hop's, then ours) and proto. DSCP is copied, ECN is not: the outer header is Not-ECT,
 * because xlb_decap does not carry a CE mark from the outer header into the inner one (RFC
 * 6040's compatibility mode: a congested router between LB and backend drops rather than
 * marks, so the signal is not lost). IPv4: DF set (the path MTU to the backend is learnt by
 * the LB's kernel from the routers' ICMP, and bpf_fib_lookup's MTU check then uses it), ID 0
 * (RFC 6864). IPv6: flow label the inner one's, or from the ports for an IPv4 inner packet, so
 * that routers spreading by flow label keep a flow on one path.
 */
static __always_inline int encap_push(struct xdp_md *ctx, const struct encap_inner *in,
				      const struct xlb_backend *be, const struct xlb_addr *src,
				      const struct xlb_flow_key *k, const __u8 *dmac,
				      const __u8 *smac)
{
	int hlen = be->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__u8 inner_proto = in->family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	void *data, *data_end;
	struct ethhdr *eth;
	__u8 mac[12];

	__builtin_memcpy(mac, dmac, 6);
	__builtin_memcpy(mac + 6, smac, 6);
	if (bpf_xdp_adjust_head(ctx, -(hlen - (int)in->vlans * 4)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if (be->family == XLB_AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return -1;
		__builtin_memcpy(eth, mac, 12);
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)ip = 0x45;
		ip->tos = in->tos & 0xfc;
		ip->tot_len = bpf_htons(sizeof(*ip) + in->len);
		ip->id = 0;
		ip->frag_off = bpf_htons(IP_DF);
		ip->ttl = ENCAP_TTL;
		ip->protocol = inner_proto;
		ip->check = 0;
		ip->saddr = src->v4;
		ip->daddr = be->addr.v4;
		ip->check = ipv4_csum(ip);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 label = in->label;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		if (in->family == XLB_AF_INET)
			label = (bpf_ntohs(k->sport) ^ ((__u32)bpf_ntohs(k->dport) << 4) ^
				 bpf_ntohl(k->src.v4)) &
				0xfffff;
		__builtin_memcpy(eth, mac, 12);
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6 = bpf_htonl(0x60000000 | ((__u32)(in->tos & 0xfc) << 20) | label);
		ip6->payload_len = bpf_htons(in->len);
		ip6->nexthdr = inner_proto;
		ip6->hop_limit = ENCAP_TTL;
		__builtin_memcpy(&ip6->saddr, src, 16);
		__builtin_memcpy(&ip6->daddr, &be->addr, 16);
	}
	return 0;
}

static __always_inline void encap_count(const int ex, __u8 inner, __u8 outer)
{
	if (inner == XLB_AF_INET)
		count(ex, outer == XLB_AF_INET ? XLB_C_ENCAP_4IN4 : XLB_C_ENCAP_4IN6);
	else
		count(ex, XLB_C_ENCAP_6IN6);
}

/*
 * Sends the packet (a VIP's, parsed into k) to backend be in an outer header (docs/datapath.md,
 * "ipip"). The route to the backend's address decides everything: no route, dropped; the
 * encapsulated packet exceeds the route's MTU, the client is answered (lib/icmp.h); the next
 * hop's MAC is unknown to the kernel, the encapsulated packet goes to the kernel, which
 * resolves it and forwards the packet (it waits in the neighbour's queue meanwhile);
 * otherwise XDP_TX when it leaves by the interface it came in by, else XDP_REDIRECT through
 * xlb_tx_ports (an interface missing there: to the kernel, which forwards it).
 */
static __always_inline int same_addr(const struct xlb_addr *a, const struct xlb_addr *b)
{
	return !((a->v6[0] ^ b->v6[0]) | (a->v6[1] ^ b->v6[1]) | (a->v6[2] ^ b->v6[2]) |
		 (a->v6[3] ^ b->v6[3]));
}

/*
 * The next hop of this CPU's last lookup for backend be_id, when it may stand for a new one:
 * not expired, for the same backend address, from the same receiving interface, and for an
 * outer packet no longer than one that fitted (bpf_fib_lookup tells an MTU only when a packet
 * does not fit). NULL: look up.
 */
static __always_inline struct xlb_nexthop *nexthop_cached(struct xdp_md *ctx, __u32 be_id,
							  const struct xlb_backend *be,
							  __u32 tot_len, int cfg_src, __u64 now)
{
	struct xlb_nexthop *nh = bpf_map_lookup_elem(&xlb_nexthops, &be_id);

	if (!nh || nh->expires_ns < now || nh->in_ifindex != ctx->ingress_ifindex ||
	    tot_len > nh->fits || !same_addr(&nh->dst, &be->addr) || (!cfg_src && !nh->route_src))
		return NULL;
	return nh;
}

/* A successful lookup for backend be_id, kept for XLB_NEXTHOP_TTL_NS (never by an explain
 * instance: it writes no map). */
static __always_inline void nexthop_keep(const int ex, struct xdp_md *ctx, __u32 be_id,
					 const struct xlb_backend *be,
					 const struct bpf_fib_lookup *fib,
					 const struct xlb_addr *src, int cfg_src, __u32 tot_len,
					 __u64 now)
{
	struct xlb_nexthop *nh;

	if (ex)
		return;
	nh = bpf_map_lookup_elem(&xlb_nexthops, &be_id);
	if (!nh)
		return;
	if (nh->expires_ns >= now && nh->in_ifindex == ctx->ingress_ifindex &&
	    same_addr(&nh->dst, &be->addr) && nh->ifindex == fib->ifindex &&
	    nh->route_src == !cfg_src) {
		if (tot_len > nh->fits) /* the same route: a longer packet fitted too */
			nh->fits = tot_len;
		return;
	}
	nh->dst = be->addr;
	nh->src = *src;
	__builtin_memcpy(nh->dmac, fib->dmac, 6);
	__builtin_memcpy(nh->smac, fib->smac, 6);
	nh->ifindex = fib->ifindex;
	nh->in_ifindex = ctx->ingress_ifindex;
	nh->fits = tot_len;
	nh->route_src = !cfg_src;
	nh->expires_ns = now + XLB_NEXTHOP_TTL_NS;
}

/* XDP_TX out the receiving interface, else XDP_REDIRECT through xlb_tx_ports, else the kernel
 * (the frame's own MACs back first: ours holds them). */
static __always_inline int encap_send(const int ex, struct xdp_md *ctx, __u32 ifindex,
				      const __u8 *ours)
{
	void *data, *data_end;
	int r;

	if (ifindex == ctx->ingress_ifindex)
		return count_action(ex, XDP_TX);
	r = bpf_redirect_map(&xlb_tx_ports, ifindex, XDP_PASS);
	if (r == XDP_REDIRECT)
		return count_action(ex, XDP_REDIRECT);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + 12 > data_end)
		return drop(ex, XLB_C_MAP_ERROR);
	__builtin_memcpy(data, ours, 12);
	return pass(ex, XLB_C_PASS_NO_TX_PORT);
}

/*
 * Sends the packet (a VIP's, parsed into k) to backend be (id be_id) in an outer header
 * (docs/datapath.md, "ipip"). The route to the backend's address decides everything: no route,
 * dropped; the encapsulated packet exceeds the route's MTU, the client is answered
 * (lib/icmp.h); the next hop's MAC is unknown to the kernel, the encapsulated packet goes to
 * the kernel, which resolves it and forwards the packet (it waits in the neighbour's queue
 * meanwhile); otherwise XDP_TX when it leaves by the interface it came in by, else
 * XDP_REDIRECT through xlb_tx_ports (an interface missing there: to the kernel, which
 * forwards it). A successful answer is reused by this CPU for this backend for up to
 * XLB_NEXTHOP_TTL_NS (xlb_nexthops): the route lookup is most of the cost of a packet here.
 */
static __always_inline int forward_ipip(const int ex, struct xdp_md *ctx,
					const struct xlb_flow_key *k, const struct xlb_backend *be,
					__u32 be_id, __u64 now)
{
	struct bpf_fib_lookup *fib;
	const struct xlb_encap_src *cfg;
	const struct xlb_nexthop *nh;
	struct encap_inner in;
	struct xlb_addr src = {};
	__u8 ours[12];
	__u32 zero = 0, flags = 0, hlen, tot_len;
	void *data, *data_end;
	int rc, cfg_src;

	if (encap_inner(ctx, k->family, &in))
		return drop(ex, XLB_C_MAP_ERROR);
	/* An IPv6 packet in IPv4 is refused by xlbd's configuration: a backend of an IPv6 VIP
	 * has an IPv6 address. */
	if (be->family != XLB_AF_INET && be->family != XLB_AF_INET6)
		return drop(ex, XLB_C_MAP_ERROR);
	if (be->family == XLB_AF_INET && in.family == XLB_AF_INET6)
		return drop(ex, XLB_C_MAP_ERROR);
	hlen = be->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	tot_len = hlen + in.len;
	cfg = bpf_map_lookup_elem(&xlb_encap_src, &zero);
	if (!cfg)
		return drop(ex, XLB_C_MAP_ERROR);
	if (be->family == XLB_AF_INET)
		cfg_src = cfg->v4.v4 != 0;
	else
		cfg_src = (cfg->v6.v6[0] | cfg->v6.v6[1] | cfg->v6.v6[2] | cfg->v6.v6[3]) != 0;

	/* The frame's own addresses: the kernel must see it as sent to us (only frames to our
	 * MAC are balanced, lib/parse.h frame_is_ours) when it gets the packet. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(ours) > data_end)
		return drop(ex, XLB_C_MAP_ERROR);
	__builtin_memcpy(ours, data, sizeof(ours));

	nh = nexthop_cached(ctx, be_id, be, tot_len, cfg_src, now);
	if (nh) {
		__u32 ifindex = nh->ifindex;

		if (encap_push(ctx, &in, be,
			       cfg_src ? (be->family == XLB_AF_INET ? &cfg->v4 : &cfg->v6)
				       : &nh->src,
			       k, nh->dmac, nh->smac))
			return drop(ex, XLB_C_DROP_ENCAP_FAILED);
		encap_count(ex, in.family, be->family);
		return encap_send(ex, ctx, ifindex, ours);
	}

	/* The lookup's arguments in a per-CPU scratch value, not on the stack: with the flow
	 * table's functions on top, the program's stack must stay within 512 bytes. */
	fib = bpf_map_lookup_elem(&xlb_fib_scratch, &zero);
	if (!fib)
		return drop(ex, XLB_C_MAP_ERROR);
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->tot_len = tot_len;
	fib->l4_protocol = in.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	if (be->family == XLB_AF_INET) {
		fib->family = AF_INET;
		fib->tos = in.tos & 0xfc;
		fib->ipv4_src = cfg->v4.v4;
		fib->ipv4_dst = be->addr.v4;
	} else {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_src, &cfg->v6, 16);
		__builtin_memcpy(fib->ipv6_dst, &be->addr, 16);
	}
	if (!cfg_src)
		flags = BPF_FIB_LOOKUP_SRC;
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return pmtu_answer(ex, ctx, &in, k, fib->mtu_result - hlen);
	if (rc == BPF_FIB_LKUP_RET_FWD_DISABLED)
		return drop(ex, XLB_C_DROP_FWD_DISABLED);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return drop(ex, XLB_C_DROP_NO_ROUTE);
	if (be->family == XLB_AF_INET)
		src.v4 = fib->ipv4_src;
	else
		__builtin_memcpy(&src, fib->ipv6_src, 16);

	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		if (encap_push(ctx, &in, be, &src, k, ours, ours + 6))
			return drop(ex, XLB_C_DROP_ENCAP_FAILED);
		encap_count(ex, in.family, be->family);
		return pass(ex, XLB_C_PASS_NO_NEIGH);
	}
	nexthop_keep(ex, ctx, be_id, be, fib, &src, cfg_src, tot_len, now);
	if (encap_push(ctx, &in, be, &src, k, fib->dmac, fib->smac))
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	encap_count(ex, in.family, be->family);
	return encap_send(ex, ctx, fib->ifindex, ours);
}

#endif /* XLB_BPF_ENCAP_H */
