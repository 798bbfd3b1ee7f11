/* parse.h - bounds-checked parsing of Ethernet/VLAN, IPv4/IPv6 and TCP/UDP into a flow key. */
#ifndef XLB_BPF_PARSE_H
#define XLB_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "knobs.h" /* lb_mac */

#define XLB_MAX_VLANS	 2
#define XLB_MAX_IPV6_EXT 4 /* extension headers walked before giving up (pass_ipv6_ext_limit) */

#ifndef IP_MF
#define IP_MF	  0x2000
#define IP_OFFSET 0x1fff
#endif
/* The IPv6 fragment header's frag_off: offset in 8-byte units << 3, 2 reserved bits, M. */
#define IP6_MF	   0x0001
#define IP6_OFFSET 0xfff8

/* RFC 8200 4.5 (the kernel's struct frag_hdr is not in the UAPI headers). */
struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* 802.1Q / 802.1ad tag after the MAC addresses (not in the UAPI headers). */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

enum parse_result {
	PARSE_OK,   /* key filled, a TCP or UDP packet */
	PARSE_PASS, /* not for us whatever the destination: *reason is a pass counter */
	PARSE_BAD,  /* malformed; key.dst and key.family are valid, *reason is a drop counter */
};

struct xlb_pkt {
	struct xlb_flow_key key;
	__u8 tcp_flags; /* byte 13 of the TCP header */
	/* An ICMPv6 packet that is not a fragment (passed, pass_not_vip): the offset of its
	 * ICMPv6 header after the walked chain, where the relay of errors starts
	 * (lib/icmp_relay.h); 0 for anything else. */
	__u16 icmp6_off;
};

/* IPv6 extension headers we walk: hop-by-hop, routing, destination options. */
static __always_inline int ipv6_ext_walkable(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS;
}

/* What ipv6_walk_ext found of fragmentation (a bit mask). */
#define IPV6_WALK_FRAG	0x1 /* a fragment header that is not atomic (offset or M) */
#define IPV6_WALK_LATER 0x2 /* a later fragment (offset > 0): nothing after its header */

/*
 * The IPv6 header chain after a fixed header, up to XLB_MAX_IPV6_EXT headers: hop-by-hop,
 * routing and destination options headers, and fragment headers. *nexthdr is the fixed
 * header's next header and *cur the offset after it; on return they are the first header the
 * walk did not step over and its offset. An atomic fragment (offset 0, M 0: RFC 6946) is a
 * whole packet: walked through. A first fragment is walked on to its protocol; a later one
 * carries no headers, its fragment header's next header is the protocol of the packet's first
 * header after it: the walk stops there (*frag has IPV6_WALK_LATER). A chain longer than the
 * walk ends on a header the walk would step over (the caller tells by ipv6_ext_walkable or
 * IPPROTO_FRAGMENT). No header may pass end (the IP packet's end), nor data_end. Returns 0, or
 * -1 when a header does not fit (truncated). Used by the parse, and by the ICMP relay for the
 * packet an error quotes (lib/icmp_relay.h; the error's own chain is the parse's walk).
 */
static __always_inline int ipv6_walk_ext(void *data, void *data_end, __u64 end, __u64 *cur,
					 __u8 *nexthdr, int *frag)
{
	__u64 c = *cur;
	__u8 nh = *nexthdr;
	int i;

	*frag = 0;
	for (i = 0; i < XLB_MAX_IPV6_EXT; i++) {
		/* Every header of the walk is 8 bytes at least (options: (Hdr Ext Len + 1) * 8),
		 * and end is within the frame: one bound check for both kinds. */
		__u8 *h = data + c;

		if (!ipv6_ext_walkable(nh) && nh != IPPROTO_FRAGMENT)
			break;
		if ((void *)(h + 8) > data_end || c + 8 > end)
			return -1;
		if (nh == IPPROTO_FRAGMENT) {
			__be16 fo = ((struct ipv6_frag_hdr *)h)->frag_off;

			nh = h[0];
			c += 8;
			if (fo & bpf_htons(IP6_MF | IP6_OFFSET))
				*frag |= IPV6_WALK_FRAG;
			if (fo & bpf_htons(IP6_OFFSET)) {
				*frag |= IPV6_WALK_LATER;
				break;
			}
			continue;
		}
		nh = h[0];
		c += (h[1] + 1) * 8;
	}
	if (c > end)
		return -1;
	*cur = c;
	*nexthdr = nh;
	return 0;
}

/* l4 and l3_end are offsets from data; l3_end is where the IP datagram ends (before padding). */
static __always_inline int parse_l4(void *data, void *data_end, __u64 l4, __u64 l3_end,
				    struct xlb_pkt *p, __u32 *reason)
{
	if (p->key.proto == IPPROTO_TCP) {
		struct tcphdr *th = data + l4;

		if ((void *)(th + 1) > data_end || l4 + sizeof(*th) > l3_end) {
			*reason = XLB_C_DROP_L4_TRUNCATED;
			return PARSE_BAD;
		}
		if (th->doff < 5 || l4 + th->doff * 4 > l3_end) {
			*reason = XLB_C_DROP_BAD_L4_HEADER;
			return PARSE_BAD;
		}
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
	} else {
		struct udphdr *uh = data + l4;

		if ((void *)(uh + 1) > data_end || l4 + sizeof(*uh) > l3_end) {
			*reason = XLB_C_DROP_L4_TRUNCATED;
			return PARSE_BAD;
		}
		if (bpf_ntohs(uh->len) < sizeof(*uh) || l4 + bpf_ntohs(uh->len) > l3_end) {
			*reason = XLB_C_DROP_BAD_L4_HEADER;
			return PARSE_BAD;
		}
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
	}
	return PARSE_OK;
}

static __always_inline int parse_ipv4(void *data, void *data_end, __u64 off, struct xlb_pkt *p,
				      __u32 *reason)
{
	struct iphdr *iph = data + off;
	__u64 hlen, tot;

	if ((void *)(iph + 1) > data_end) {
		*reason = XLB_C_PASS_UNPARSED;
		return PARSE_PASS;
	}
	p->key.family = XLB_AF_INET;
	p->key.src.v4 = iph->saddr;
	p->key.dst.v4 = iph->daddr;
	p->key.proto = iph->protocol;

	if (iph->version != 4 || iph->ihl < 5) {
		*reason = XLB_C_DROP_BAD_IP_HEADER;
		return PARSE_BAD;
	}
	hlen = iph->ihl * 4;
	if (data + off + hlen > data_end) {
		*reason = XLB_C_DROP_IP_TRUNCATED;
		return PARSE_BAD;
	}
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || data + off + tot > data_end) {
		*reason = XLB_C_DROP_BAD_IP_LENGTH;
		return PARSE_BAD;
	}
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP) {
		*reason = XLB_C_PASS_NOT_VIP; /* VIPs are TCP or UDP */
		return PARSE_PASS;
	}
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		*reason = XLB_C_DROP_FRAGMENT;
		return PARSE_BAD;
	}
	return parse_l4(data, data_end, off + hlen, off + tot, p, reason);
}

static __always_inline int parse_ipv6(void *data, void *data_end, __u64 off, struct xlb_pkt *p,
				      __u32 *reason)
{
	struct ipv6hdr *ip6 = data + off;
	__u64 l3_end, cur;
	__u8 nexthdr;
	int frag;

	if ((void *)(ip6 + 1) > data_end) {
		*reason = XLB_C_PASS_UNPARSED;
		return PARSE_PASS;
	}
	p->key.family = XLB_AF_INET6;
	__builtin_memcpy(&p->key.src, &ip6->saddr, sizeof(p->key.src));
	__builtin_memcpy(&p->key.dst, &ip6->daddr, sizeof(p->key.dst));

	if (ip6->version != 6) {
		*reason = XLB_C_DROP_BAD_IP_HEADER;
		return PARSE_BAD;
	}
	/* payload_len 0 means a jumbogram, which no Ethernet MTU carries. */
	l3_end = off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (l3_end == off + sizeof(*ip6) || data + l3_end > data_end) {
		*reason = XLB_C_DROP_BAD_IP_LENGTH;
		return PARSE_BAD;
	}

	nexthdr = ip6->nexthdr;
	cur = off + sizeof(*ip6);
	if (ipv6_walk_ext(data, data_end, l3_end, &cur, &nexthdr, &frag)) {
		*reason = XLB_C_DROP_IP_TRUNCATED;
		return PARSE_BAD;
	}
	/* The chain goes on past the walk (or, in a later fragment, began in the first one):
	 * its protocol is unknown, so it cannot be shown to be a VIP's TCP or UDP. */
	if (ipv6_ext_walkable(nexthdr) || nexthdr == IPPROTO_FRAGMENT) {
		*reason = XLB_C_PASS_IPV6_EXT_LIMIT;
		return PARSE_PASS;
	}
	if (nexthdr != IPPROTO_TCP && nexthdr != IPPROTO_UDP) {
		if (nexthdr == IPPROTO_ICMPV6 && !frag)
			p->icmp6_off = cur;
		*reason = XLB_C_PASS_NOT_VIP; /* ICMPv6 included, fragmented or not */
		return PARSE_PASS;
	}
	if (frag) {
		*reason = XLB_C_DROP_FRAGMENT;
		return PARSE_BAD;
	}
	p->key.proto = nexthdr;
	return parse_l4(data, data_end, cur, l3_end, p, reason);
}

/*
 * Is the frame addressed to this LB? With lb_mac set (xlbd sets the interface's MAC): its
 * destination is lb_mac, so a forwarded frame's source (its destination, copied) is lb_mac
 * too. Without it we cannot tell our unicast MAC from another host's: only group addresses
 * (broadcast, multicast: the I/G bit) are refused, so none is ever sent as a source.
 */
static __always_inline int frame_is_ours(const __u8 *dst)
{
	if (!lb_mac_set)
		return !(dst[0] & 1);
	return !((dst[0] ^ lb_mac[0]) | (dst[1] ^ lb_mac[1]) | (dst[2] ^ lb_mac[2]) |
		 (dst[3] ^ lb_mac[3]) | (dst[4] ^ lb_mac[4]) | (dst[5] ^ lb_mac[5]));
}

static __always_inline int parse_packet(struct xdp_md *ctx, struct xlb_pkt *p, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 off = sizeof(*eth);
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end) {
		*reason = XLB_C_PASS_UNPARSED;
		return PARSE_PASS;
	}
	if (!frame_is_ours(eth->h_dest)) {
		*reason = XLB_C_PASS_NOT_OURS;
		return PARSE_PASS;
	}
	proto = eth->h_proto;
	for (i = 0; i < XLB_MAX_VLANS; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end) {
			*reason = XLB_C_PASS_UNPARSED;
			return PARSE_PASS;
		}
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(data, data_end, off, p, reason);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data, data_end, off, p, reason);
	*reason = XLB_C_PASS_NOT_IP;
	return PARSE_PASS;
}

#endif /* XLB_BPF_PARSE_H */
