/* xlb_decap.bpf.c - the backend's XDP program: strips the outer IP header of tunnelled VIP packets. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_decap_abi.h"

/*
 * Accepted (docs/backend.md): IPv4 in IPv4 (outer protocol 4), IPv6 in IPv6 (next header 41)
 * and IPv4 in IPv6 (next header 4), no header between the two IP headers but, in IPv6, a
 * bounded chain of hop-by-hop, destination-options and exhausted routing headers. The inner
 * destination must be a key of xlb_decap_vips. Everything else returns XDP_PASS with its bytes
 * unchanged, so the host sees it exactly as without this program; every packet moves one
 * counter of xlb_decap_stats.
 */

#define DECAP_MAX_VLANS	   2 /* 802.1Q / 802.1ad tags kept in front of the inner packet */
#define DECAP_MAX_IPV6_EXT 4 /* outer IPv6 extension headers walked before giving up */

#ifndef IP_MF
#define IP_MF	  0x2000
#define IP_OFFSET 0x1fff
#endif

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_DECAP_MAX_VIPS);
	__type(key, struct xlb_decap_vip_key);
	__type(value, struct xlb_decap_vip);
} xlb_decap_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xlb_decap_stats SEC(".maps");

static __always_inline int pass(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&xlb_decap_stats, &reason);

	if (c)
		*c += 1;
	return XDP_PASS;
}

static __always_inline int is_vip(const void *addr, __u8 family)
{
	struct xlb_decap_vip_key k = {};

	if (family == XLB_DECAP_AF_INET)
		k.addr[0] = *(const __be32 *)addr;
	else
		__builtin_memcpy(k.addr, addr, 16);
	k.family = family;
	return bpf_map_lookup_elem(&xlb_decap_vips, &k) != NULL;
}

/*
 * The inner packet at data + off, which must end by data + end (the outer datagram's end).
 * Returns the counter of a pass, or XLB_DC_MAX when it is a VIP's and well formed.
 */
static __always_inline __u32 check_inner(void *data, void *data_end, __u64 off, __u64 end,
					 __u8 inner_proto)
{
	if (inner_proto == IPPROTO_IPIP) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || off + sizeof(*ip) > end)
			return XLB_DC_PASS_MALFORMED;
		if (ip->version != 4 || ip->ihl < 5 || bpf_ntohs(ip->tot_len) < ip->ihl * 4 ||
		    off + bpf_ntohs(ip->tot_len) > end)
			return XLB_DC_PASS_MALFORMED;
		return is_vip(&ip->daddr, XLB_DECAP_AF_INET) ? XLB_DC_MAX : XLB_DC_PASS_NOT_VIP;
	} else {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end || off + sizeof(*ip6) > end)
			return XLB_DC_PASS_MALFORMED;
		if (ip6->version != 6 || off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > end)
			return XLB_DC_PASS_MALFORMED;
		return is_vip(&ip6->daddr, XLB_DECAP_AF_INET6) ? XLB_DC_MAX : XLB_DC_PASS_NOT_VIP;
	}
}

/*
 * The outer IPv6 header's chain up to the tunnelled packet: *off moves past the extension
 * headers, *nexthdr becomes IPPROTO_IPIP or IPPROTO_IPV6. Returns XLB_DC_MAX when found, else
 * the counter of the pass. A routing header with segments left is not for this host yet; a
 * fragment header means a fragment (even an atomic one: the load balancer never sends those).
 */
static __always_inline __u32 walk_ipv6(void *data, void *data_end, __u64 *off, __u64 end,
				       __u8 *nexthdr)
{
	int i;

	for (i = 0; i < DECAP_MAX_IPV6_EXT; i++) {
		__u8 *h = data + *off;

		if (*nexthdr == IPPROTO_IPIP || *nexthdr == IPPROTO_IPV6)
			return XLB_DC_MAX;
		if (*nexthdr == IPPROTO_FRAGMENT)
			return XLB_DC_PASS_FRAGMENT;
		if (*nexthdr != IPPROTO_HOPOPTS && *nexthdr != IPPROTO_DSTOPTS &&
		    *nexthdr != IPPROTO_ROUTING)
			return XLB_DC_PASS_NOT_TUNNEL;
		if ((void *)(h + 8) > data_end || *off + 8 > end)
			return XLB_DC_PASS_MALFORMED;
		if (*nexthdr == IPPROTO_ROUTING && h[3] != 0)
			return XLB_DC_PASS_IPV6_EXT;
		*nexthdr = h[0];
		*off += ((__u64)h[1] + 1) * 8;
	}
	if (*nexthdr == IPPROTO_IPIP || *nexthdr == IPPROTO_IPV6)
		return XLB_DC_MAX;
	if (*nexthdr == IPPROTO_FRAGMENT)
		return XLB_DC_PASS_FRAGMENT;
	if (*nexthdr == IPPROTO_HOPOPTS || *nexthdr == IPPROTO_DSTOPTS ||
	    *nexthdr == IPPROTO_ROUTING)
		return XLB_DC_PASS_IPV6_EXT;
	return XLB_DC_PASS_NOT_TUNNEL;
}

/*
 * Moves the l2 bytes of Ethernet header (and VLAN tags) from the front of the frame to just
 * before the inner packet, cut bytes further, drops the cut bytes and writes the inner
 * EtherType. Constant-size copies: one branch per number of tags.
 */
static __always_inline int strip(struct xdp_md *ctx, __u64 l2, __u64 cut, __be16 type)
{
	__u8 hdr[ETH_HLEN + 4 * DECAP_MAX_VLANS];
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + sizeof(hdr) > data_end)
		return -1; /* cannot happen: an inner IP header follows */
	__builtin_memcpy(hdr, data, sizeof(hdr));
	if (bpf_xdp_adjust_head(ctx, (int)cut))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(hdr) > data_end)
		return -2; /* cannot happen either, but the frame has changed */
	if (l2 == ETH_HLEN) {
		__builtin_memcpy(data, hdr, ETH_HLEN - 2);
	} else if (l2 == ETH_HLEN + 4) {
		__builtin_memcpy(data, hdr, ETH_HLEN + 4 - 2);
	} else {
		__builtin_memcpy(data, hdr, ETH_HLEN + 8 - 2);
	}
	*(__be16 *)(data + l2 - 2) = type;
	return 0;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 l2 = ETH_HLEN, inner, end;
	__u8 nexthdr;
	__u32 reason;
	__be16 proto;
	int i, err;

	if ((void *)(eth + 1) > data_end)
		return pass(XLB_DC_PASS_NOT_IP);
	proto = eth->h_proto;
	for (i = 0; i < DECAP_MAX_VLANS; i++) {
		struct vlan_tag *v = data + l2;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > data_end)
			return pass(XLB_DC_PASS_NOT_IP);
		proto = v->proto;
		l2 += sizeof(*v);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + l2;
		__u64 hlen, tot;

		if ((void *)(ip + 1) > data_end)
			return pass(XLB_DC_PASS_MALFORMED);
		if (ip->protocol != IPPROTO_IPIP)
			return pass(XLB_DC_PASS_NOT_TUNNEL);
		hlen = ip->ihl * 4;
		tot = bpf_ntohs(ip->tot_len);
		if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen ||
		    data + l2 + tot > data_end)
			return pass(XLB_DC_PASS_MALFORMED);
		/* Only the kernel can reassemble: a fragment goes up as it came (and, without an
		 * ipip module, is dropped there once reassembled). */
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return pass(XLB_DC_PASS_FRAGMENT);
		nexthdr = IPPROTO_IPIP;
		inner = l2 + hlen;
		end = l2 + tot;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + l2;

		if ((void *)(ip6 + 1) > data_end)
			return pass(XLB_DC_PASS_MALFORMED);
		nexthdr = ip6->nexthdr;
		end = l2 + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		if (ip6->version != 6 || data + end > data_end)
			return pass(XLB_DC_PASS_MALFORMED);
		inner = l2 + sizeof(*ip6);
		reason = walk_ipv6(data, data_end, &inner, end, &nexthdr);
		if (reason != XLB_DC_MAX)
			return pass(reason);
	} else {
		return pass(XLB_DC_PASS_NOT_IP);
	}

	reason = check_inner(data, data_end, inner, end, nexthdr);
	if (reason != XLB_DC_MAX)
		return pass(reason);

	err = strip(ctx, l2, inner - l2,
		    nexthdr == IPPROTO_IPIP ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6));
	if (err == -1)
		return pass(XLB_DC_PASS_ADJUST_FAILED);
	if (err) {
		pass(XLB_DC_PASS_ADJUST_FAILED);
		return XDP_DROP;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return pass(XLB_DC_DECAP_4IN4);
	return pass(nexthdr == IPPROTO_IPIP ? XLB_DC_DECAP_4IN6 : XLB_DC_DECAP_6IN6);
}

char LICENSE[] SEC("license") = "GPL";
