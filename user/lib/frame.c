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

/*
 * The headers are built in local structs and copied in: buf is a byte array of any alignment,
 * and an IPv4 header 14 bytes into it is not 4-byte aligned (writing through a struct iphdr
 * pointer there is undefined behaviour: UBSan says so).
 */
int xlb_frame_build(const struct xlb_flow_key *k, const __u8 dst_mac[6], __u8 tcp_flags, __u8 *buf,
		    size_t cap)
{
	size_t l3 = k->family == XLB_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	size_t l4 = k->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr);
	size_t len = ETH_HLEN + l3 + l4;
	struct ethhdr eth = {0};
	__u8 *p = buf + ETH_HLEN;

	if ((k->family != XLB_AF_INET && k->family != XLB_AF_INET6) ||
	    (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP))
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	memcpy(eth.h_dest, dst_mac, ETH_ALEN);
	eth.h_source[0] = 0x02; /* a locally administered address: nobody's */
	if (k->family == XLB_AF_INET) {
		struct iphdr ip = {
			.version = 4,
			.ihl = 5,
			.ttl = 64,
			.protocol = k->proto,
			.tot_len = htons(l3 + l4),
			.saddr = k->src.v4,
			.daddr = k->dst.v4,
		};

		eth.h_proto = htons(ETH_P_IP);
		memcpy(p, &ip, sizeof(ip));
	} else {
		struct ipv6hdr ip6 = {
			.version = 6,
			.hop_limit = 64,
			.nexthdr = k->proto,
			.payload_len = htons(l4),
		};

		eth.h_proto = htons(ETH_P_IPV6);
		memcpy(&ip6.saddr, k->src.bytes, 16);
		memcpy(&ip6.daddr, k->dst.bytes, 16);
		memcpy(p, &ip6, sizeof(ip6));
	}
	memcpy(buf, &eth, sizeof(eth));
	p += l3;
	if (k->proto == IPPROTO_TCP) {
		struct tcphdr th = {
			.source = k->sport,
			.dest = k->dport,
			.doff = 5,
			.window = htons(65535),
		};

		memcpy(p, &th, sizeof(th));
		p[13] = tcp_flags; /* the flags byte, whatever the bitfields' layout */
	} else {
		struct udphdr uh = {
			.source = k->sport,
			.dest = k->dport,
			.len = htons(sizeof(uh)),
		};

		memcpy(p, &uh, sizeof(uh));
	}
	return len;
}
