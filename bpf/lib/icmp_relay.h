/* icmp_relay.h - the flow an ICMP error to a VIP is about, from the header it quotes. */
#ifndef XLB_BPF_ICMP_RELAY_H
#define XLB_BPF_ICMP_RELAY_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"
#include "icmp.h"  /* struct encap_inner */
#include "parse.h" /* ipv6_walk_ext */

#ifndef IP_MF
#define IP_MF	  0x2000
#define IP_OFFSET 0x1fff
#endif

/* Errors about a packet (RFC 792, RFC 4443): destination unreachable (fragmentation needed
 * among them), time exceeded, parameter problem; ICMPv6 packet too big too. */
static __always_inline int icmp_is_error(__u8 family, __u8 type)
{
	if (family == XLB_AF_INET)
		return type == 3 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/*
 * A backend's packet went from the VIP to a client; a router on the way answered with an ICMP
 * error to the VIP, quoting that packet's IP header and ports. The flow key of the client's
 * side of that connection is the quoted one turned around: fills *k and returns 0, or -1 when
 * the packet is not an ICMP error quoting TCP or UDP. IPv6: the extension headers of the error
 * are the parse's walk (icmp6_off: where it found ICMPv6, 0 if it did not or the error is a
 * fragment), those of the quoted packet are walked with the parse's walker and limit
 * (lib/parse.h, ipv6_walk_ext); the quoted packet may be a first fragment (a later one has no
 * ports). in: the packet's encap_inner().
 */
static __always_inline int icmp_error_key(struct xdp_md *ctx, const struct encap_inner *in,
					  __u16 icmp6_off, struct xlb_flow_key *k)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 l3 = in->l3;

	if (l3 > ETH_HLEN + 8)
		return -1;
	if (in->family == XLB_AF_INET) {
		struct iphdr *ip = data + l3, *q;
		__u8 *icmp;
		__be16 *ports;
		__u64 hlen, qlen;

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_ICMP ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		hlen = ip->ihl * 4;
		icmp = data + l3 + hlen;
		if (hlen < sizeof(*ip) || (void *)(icmp + 8) > data_end ||
		    !icmp_is_error(in->family, icmp[0]))
			return -1;
		q = (void *)(icmp + 8);
		/* A quoted later fragment has no ports where they would be (a first one has). */
		if ((void *)(q + 1) > data_end || q->version != 4 ||
		    (q->protocol != IPPROTO_TCP && q->protocol != IPPROTO_UDP) ||
		    (q->frag_off & bpf_htons(IP_OFFSET)))
			return -1;
		qlen = q->ihl * 4;
		ports = (void *)q + qlen;
		if (qlen < sizeof(*q) || (void *)(ports + 2) > data_end)
			return -1;
		k->family = XLB_AF_INET;
		k->src.v4 = q->daddr;
		k->dst.v4 = q->saddr;
		k->sport = ports[1];
		k->dport = ports[0];
		k->proto = q->protocol;
		return 0;
	} else {
		struct ipv6hdr *ip6 = data + l3, *q;
		__u64 end, cur, qcur;
		__u8 *icmp, qnh;
		__be16 *ports;
		int frag;

		/* The error's own chain is the parse's walk, which ended on ICMPv6 at icmp6_off
		 * (0: not ICMPv6, or a fragment, which is not taken, as in IPv4). */
		if ((void *)(ip6 + 1) > data_end || !icmp6_off)
			return -1;
		end = l3 + in->len;	  /* the error's end: 40 + its payload length */
		cur = icmp6_off & 0x3fff; /* for the verifier: a walk ends below 8.5 KB */
		icmp = data + cur;
		if ((void *)(icmp + 8) > data_end || cur + 8 > end ||
		    !icmp_is_error(in->family, icmp[0]))
			return -1;
		/* The quoted packet's chain, within what the error quotes: only its first
		 * fragment has the ports. */
		q = (void *)(icmp + 8);
		if ((void *)(q + 1) > data_end)
			return -1;
		qcur = cur + 8 + sizeof(*q);
		qnh = q->nexthdr;
		if (ipv6_walk_ext(data, data_end, end, &qcur, &qnh, &frag) ||
		    (frag & IPV6_WALK_LATER) || (qnh != IPPROTO_TCP && qnh != IPPROTO_UDP))
			return -1;
		ports = data + qcur;
		if ((void *)(ports + 2) > data_end || qcur + 4 > end)
			return -1;
		k->family = XLB_AF_INET6;
		__builtin_memcpy(&k->src, &q->daddr, 16);
		__builtin_memcpy(&k->dst, &q->saddr, 16);
		k->sport = ports[1];
		k->dport = ports[0];
		k->proto = qnh;
		return 0;
	}
}

#endif /* XLB_BPF_ICMP_RELAY_H */
