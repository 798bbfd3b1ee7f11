/* frame.c - a minimal TCP/UDP frame for a flow key (see frame.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <string.h>

#include "frame.h"

int xlb_frame_build(const struct xlb_flow_key *k, const __u8 dst_mac[6], __u8 tcp_flags, __u8 *buf,
		    size_t cap)
{
	size_t l3 = k->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	size_t l4 = k->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr);
	size_t len = ETH_HLEN + l3 + l4;
	struct ethhdr *eth = (struct ethhdr *)buf;
	__u8 *p = buf + ETH_HLEN;

	if ((k->family != XLB_AF_INET && k->family != XLB_AF_INET6) ||
	    (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP))
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	eth->h_source[0] = 0x02; /* a locally administered address: nobody's */
	if (k->family == XLB_AF_INET) {
		struct iphdr *ip = (struct iphdr *)p;

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = k->proto;
		ip->tot_len = htons(l3 + l4);
		ip->saddr = k->src.v4;
		ip->daddr = k->dst.v4;
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)p;

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->hop_limit = 64;
		ip6->nexthdr = k->proto;
		ip6->payload_len = htons(l4);
		memcpy(&ip6->saddr, k->src.bytes, 16);
		memcpy(&ip6->daddr, k->dst.bytes, 16);
	}
	p += l3;
	if (k->proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)p;

		th->source = k->sport;
		th->dest = k->dport;
		th->doff = 5;
		p[13] = tcp_flags;
		th->window = htons(65535);
	} else {
		struct udphdr *uh = (struct udphdr *)p;

		uh->source = k->sport;
		uh->dest = k->dport;
		uh->len = htons(sizeof(*uh));
	}
	return len;
}
