/* encap.c - the tunnelled frame builder declared in encap.h. */
#include "encap.h"

#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#define IP4_HLEN 20
#define IP6_HLEN 40
#define EXT_LEN	 8

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t ip4_csum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pkt_encap_init(struct pkt_encap *e, uint8_t family)
{
	static const uint8_t lb6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, [15] = 1};
	static const uint8_t be6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, [15] = 0x50};
	static const uint8_t lb4[4] = {203, 0, 113, 1};
	static const uint8_t be4[4] = {192, 0, 2, 50};

	memset(e, 0, sizeof(*e));
	e->family = family;
	if (family == XLB_AF_INET6) {
		memcpy(e->src.bytes, lb6, 16);
		memcpy(e->dst.bytes, be6, 16);
	} else {
		memcpy(e->src.bytes, lb4, 4);
		memcpy(e->dst.bytes, be4, 4);
	}
}

/* The outer header and its extension headers at p; returns their length. */
static size_t write_outer(const struct pkt_encap *e, uint8_t proto, size_t inner_len, uint8_t *p)
{
	size_t i, hlen;

	if (e->family == XLB_AF_INET) {
		hlen = IP4_HLEN + e->ip4_opts_len;
		memset(p, 0, hlen);
		p[0] = 0x40 | (e->ihl ? e->ihl : hlen / 4);
		put16(p + 2, (uint16_t)(hlen + inner_len + e->tot_delta));
		put16(p + 4, PKT_IP_ID);
		put16(p + 6, (uint16_t)((e->mf ? 0x2000 : 0) | e->frag_off));
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, e->src.bytes, 4);
		memcpy(p + 16, e->dst.bytes, 4);
		for (i = IP4_HLEN; i + 1 < hlen; i++)
			p[i] = 1; /* NOP; the last byte stays EOL */
		put16(p + 10, ip4_csum(p, hlen));
		return hlen;
	}
	hlen = IP6_HLEN + EXT_LEN * (size_t)e->n_ext;
	memset(p, 0, hlen);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)(hlen - IP6_HLEN + inner_len + e->tot_delta));
	p[6] = e->n_ext ? e->ext[0] : proto;
	p[7] = 64;
	memcpy(p + 8, e->src.bytes, 16);
	memcpy(p + 24, e->dst.bytes, 16);
	for (i = 0; i < e->n_ext; i++) {
		uint8_t *x = p + IP6_HLEN + EXT_LEN * i;

		x[0] = i + 1 < e->n_ext ? e->ext[i + 1] : proto;
		if (e->ext[i] == IPPROTO_FRAGMENT) {
			put16(x + 2, (uint16_t)(e->frag_off << 3 | (e->mf ? 1 : 0)));
			put16(x + 6, PKT_IP_ID);
		} else if (e->ext[i] == IPPROTO_ROUTING) {
			x[3] = e->segments_left; /* type 0, no addresses */
		} else {
			x[2] = 1; /* PadN, 4 bytes */
			x[3] = 4;
		}
	}
	return hlen;
}

int pkt_encap_build(const struct pkt_spec *inner, const struct pkt_encap *e, uint8_t *buf,
		    size_t cap)
{
	uint8_t in[PKT_BUF_SIZE], proto;
	struct pkt_layout lo;
	size_t inner_len, hlen;
	int n;

	if ((e->family != XLB_AF_INET && e->family != XLB_AF_INET6) || e->ip4_opts_len % 4 ||
	    e->ip4_opts_len > PKT_MAX_IP4_OPTS || e->n_ext > PKT_ENCAP_MAX_EXTS ||
	    (e->family == XLB_AF_INET && e->n_ext))
		return -EINVAL;
	n = pkt_build(inner, in, sizeof(in));
	if (n < 0)
		return n;
	if (pkt_layout(inner, &lo))
		return -EINVAL;
	proto = e->proto ? e->proto : inner->family == XLB_AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	inner_len = (size_t)n - lo.l3_off;
	hlen = (e->family == XLB_AF_INET ? (size_t)IP4_HLEN + e->ip4_opts_len
					 : IP6_HLEN + EXT_LEN * (size_t)e->n_ext);
	if (lo.l3_off + hlen + inner_len > cap)
		return -ENOSPC;
	memcpy(buf, in, lo.l3_off);
	put16(buf + lo.l3_off - 2, e->family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6);
	write_outer(e, proto, inner_len, buf + lo.l3_off);
	memcpy(buf + lo.l3_off + hlen, in + lo.l3_off, inner_len);
	return (int)(lo.l3_off + hlen + inner_len);
}
