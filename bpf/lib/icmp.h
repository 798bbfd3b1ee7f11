/* icmp.h - the LB's path MTU answers: ICMP fragmentation-needed and ICMPv6 packet-too-big, built in place. */
#ifndef XLB_BPF_ICMP_H
#define XLB_BPF_ICMP_H

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

/*
 * The answer quotes the start of the packet that did not fit: a fixed length, so that its
 * checksum is one bpf_csum_diff over a constant size (a multiple of 4, as the helper needs).
 * IPv4: 68 bytes, the longest IPv4 header and the 8 bytes RFC 792 asks for; IPv6: 128 bytes,
 * the IPv6 header and a TCP header with options (RFC 4443 allows up to 1280 in all; the
 * client's stack reads only the headers).
 */
#define PMTU_QUOTE4   68
#define PMTU_QUOTE6   128
#define PMTU_TTL      64
#define PMTU_MIN_MTU4 68
#define PMTU_MIN_MTU6 1280
#define PMTU_MAX_L2   (ETH_HLEN + 8) /* Ethernet and two VLAN tags */

/* Answers per CPU per second; the rest of the too-big packets are dropped (drop_pmtu_rate). A
 * client adapts on the first answer, so this only bounds what a flood of them costs. */
const volatile __u32 pmtu_answers_per_sec = 1000;

/* The inner packet of a VIP, as the forward step found it (lib/encap.h, encap_inner). */
struct encap_inner {
	__u64 l3;    /* offset of the IP header: after Ethernet and 0-2 VLAN tags */
	__u32 len;   /* IP datagram length (IPv4 total length; IPv6 40 + payload length) */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 tos;    /* IPv4 TOS / IPv6 traffic class: DSCP and ECN */
	__u8 df;     /* IPv4 DF set */
	__u8 vlans;  /* VLAN tags between Ethernet and IP */
	__u8 proto;  /* IPv4 protocol / IPv6 next header of the fixed header */
	__u32 label; /* IPv6 flow label, host order (20 bits) */
};

static __always_inline __u16 csum_fold(__u64 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

/* The checksum of a 20-byte IPv4 header whose check field is 0. */
static __always_inline __u16 ipv4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u64 sum = 0;
	int i;

	for (i = 0; i < 10; i++)
		sum += w[i];
	return csum_fold(sum);
}

/* One answer more this second on this CPU? An explain instance writes nothing: always yes. */
static __always_inline int pmtu_budget(const int ex)
{
	__u64 second = bpf_ktime_get_coarse_ns() / 1000000000ULL;
	struct xlb_icmp_budget *b;
	__u32 zero = 0;

	if (ex)
		return 1;
	b = bpf_map_lookup_elem(&xlb_icmp_budget, &zero);
	if (!b)
		return 0;
	if (b->second != second) {
		b->second = second;
		b->sent = 0;
	}
	if (b->sent >= pmtu_answers_per_sec)
		return 0;
	b->sent++;
	return 1;
}

/*
 * Turns the frame into [its own L2 header, addresses swapped][IP][ICMP][quote of qlen bytes]:
 * head grown by hlen (the new IP and ICMP headers, whose place is just before the quoted IP
 * header), tail cut after the quote. Returns 0, or -1 when the frame could not be resized.
 */
static __always_inline int pmtu_reshape(struct xdp_md *ctx, const struct encap_inner *in, int hlen,
					__u32 qlen)
{
	__u8 l2[PMTU_MAX_L2];
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 have, want;
	__u8 *eth;

	if (data + sizeof(l2) > data_end)
		return -1;
	__builtin_memcpy(l2, data, sizeof(l2));
	if (bpf_xdp_adjust_head(ctx, -hlen))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	have = (__u64)data_end - (__u64)data;
	want = in->l3 + hlen + qlen;
	if (have > want && bpf_xdp_adjust_tail(ctx, -(int)(have - want)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + PMTU_MAX_L2) > data_end)
		return -1;
	/* Back to the sender: its MAC becomes the destination, ours (it sent to us) the source;
	 * VLAN tags and EtherType as they came (constant-size copies, one per tag count). */
	__builtin_memcpy(eth, l2 + 6, 6);
	__builtin_memcpy(eth + 6, l2, 6);
	if (in->vlans == 0)
		__builtin_memcpy(eth + 12, l2 + 12, 2);
	else if (in->vlans == 1)
		__builtin_memcpy(eth + 12, l2 + 12, 6);
	else
		__builtin_memcpy(eth + 12, l2 + 12, 10);
	return 0;
}

/* ICMP fragmentation needed (type 3 code 4) to the client of an IPv4 packet with DF. */
static __always_inline int pmtu_answer4(const int ex, struct xdp_md *ctx,
					const struct encap_inner *in, const struct xlb_flow_key *k,
					__u32 mtu)
{
	const int hlen = sizeof(struct iphdr) + 8;
	void *data, *data_end;
	struct iphdr *ip;
	__u8 *icmp;
	__u64 l3 = in->l3;

	if (pmtu_reshape(ctx, in, hlen, PMTU_QUOTE4))
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l3 > PMTU_MAX_L2)
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	ip = data + l3;
	icmp = (__u8 *)(ip + 1);
	if ((void *)(icmp + 8 + PMTU_QUOTE4) > data_end)
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	*(__u8 *)ip = 0x45;
	ip->tos = 0xc0; /* internetwork control, as the kernel's own ICMP errors */
	ip->tot_len = bpf_htons(hlen + PMTU_QUOTE4);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = PMTU_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = k->dst.v4; /* from the VIP: the client's path to it is the LB */
	ip->daddr = k->src.v4;
	ip->check = ipv4_csum(ip);
	icmp[0] = 3; /* destination unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	*(__u16 *)(icmp + 2) = 0;
	*(__u16 *)(icmp + 4) = 0;
	*(__be16 *)(icmp + 6) = bpf_htons(mtu < PMTU_MIN_MTU4 ? PMTU_MIN_MTU4 : mtu);
	*(__u16 *)(icmp + 2) = csum_fold(bpf_csum_diff(NULL, 0, (void *)icmp, 8 + PMTU_QUOTE4, 0));
	count(ex, XLB_C_PMTU_SENT);
	return count_action(ex, XDP_TX);
}

/* ICMPv6 packet too big (type 2) to the client of an IPv6 packet. */
static __always_inline int pmtu_answer6(const int ex, struct xdp_md *ctx,
					const struct encap_inner *in, const struct xlb_flow_key *k,
					__u32 mtu)
{
	const int hlen = sizeof(struct ipv6hdr) + 8;
	struct {
		struct xlb_addr src, dst;
		__be32 len;
		__be32 next; /* 3 zero bytes and the next header */
	} ph;
	void *data, *data_end;
	struct ipv6hdr *ip6;
	__u8 *icmp;
	__u64 l3 = in->l3, sum;

	if (pmtu_reshape(ctx, in, hlen, PMTU_QUOTE6))
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l3 > PMTU_MAX_L2)
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	ip6 = data + l3;
	icmp = (__u8 *)(ip6 + 1);
	if ((void *)(icmp + 8 + PMTU_QUOTE6) > data_end)
		return drop(ex, XLB_C_DROP_ENCAP_FAILED);
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(8 + PMTU_QUOTE6);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = PMTU_TTL;
	__builtin_memcpy(&ip6->saddr, &k->dst, 16);
	__builtin_memcpy(&ip6->daddr, &k->src, 16);
	icmp[0] = 2; /* packet too big */
	icmp[1] = 0;
	*(__u16 *)(icmp + 2) = 0;
	*(__be32 *)(icmp + 4) = bpf_htonl(mtu < PMTU_MIN_MTU6 ? PMTU_MIN_MTU6 : mtu);
	ph.src = k->dst;
	ph.dst = k->src;
	ph.len = bpf_htonl(8 + PMTU_QUOTE6);
	ph.next = bpf_htonl(IPPROTO_ICMPV6);
	sum = bpf_csum_diff(NULL, 0, (void *)&ph, sizeof(ph), 0);
	*(__u16 *)(icmp + 2) =
		csum_fold(bpf_csum_diff(NULL, 0, (void *)icmp, 8 + PMTU_QUOTE6, (__u32)sum));
	count(ex, XLB_C_PMTU_SENT);
	return count_action(ex, XDP_TX);
}

/*
 * A VIP packet that would exceed the egress MTU once encapsulated; mtu: what is left for it
 * (the route's MTU less the outer header). IPv4 without DF cannot be answered (the client
 * allows fragmentation, which XDP cannot do): dropped, drop_too_big (docs/datapath.md: clamp
 * the MSS or set advmss on the backends so that it never happens).
 */
static __always_inline int pmtu_answer(const int ex, struct xdp_md *ctx,
				       const struct encap_inner *in, const struct xlb_flow_key *k,
				       __u32 mtu)
{
	__u32 quote = in->family == XLB_AF_INET ? PMTU_QUOTE4 : PMTU_QUOTE6;

	/* Never an ICMP error about an ICMP message (RFC 1122 3.2.2, RFC 4443 2.4): a relayed
	 * error (xlb.bpf.c, relay_icmp_error) that does not fit is dropped. */
	if ((in->family == XLB_AF_INET && !in->df) || in->len < quote ||
	    in->proto == IPPROTO_ICMP || in->proto == IPPROTO_ICMPV6)
		return drop(ex, XLB_C_DROP_TOO_BIG);
	if (!pmtu_budget(ex))
		return drop(ex, XLB_C_DROP_PMTU_RATE);
	if (in->family == XLB_AF_INET)
		return pmtu_answer4(ex, ctx, in, k, mtu);
	return pmtu_answer6(ex, ctx, in, k, mtu);
}

#endif /* XLB_BPF_ICMP_H */
