/* refparse.c - the reference classifier of refparse.h, rule by rule from docs/datapath.md. */
#include "refparse.h"

#include <string.h>
#include <linux/in.h>

#define ETH_HLEN_  14
#define VLAN_HLEN_ 4
#define MAX_VLANS  2 /* "up to two VLAN tags (0x8100, 0x88a8)" */
#define MAX_EXT	   4 /* "up to 4 extension headers walked" (XLB_MAX_IPV6_EXT) */
#define IP4_HLEN   20
#define IP6_HLEN   40
#define TCP_HLEN   20
#define UDP_HLEN   8
#define FRAG_HLEN  8

#define EXT_HOP	 0
#define EXT_RT	 43
#define EXT_FRAG 44
#define EXT_DST	 60

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int pass(struct ref_parse *r, enum xlb_counter reason)
{
	r->kind = REF_PASS;
	r->reason = reason;
	return 0;
}

static int bad(struct ref_parse *r, enum xlb_counter reason)
{
	r->kind = REF_BAD;
	r->reason = reason;
	return 0;
}

/* Step 0: only the LB's own MAC; without one, any unicast (the I/G bit clear). */
static bool ours(const uint8_t *dst, const uint8_t *lb_mac)
{
	if (!lb_mac)
		return !(dst[0] & 1);
	return memcmp(dst, lb_mac, 6) == 0;
}

/* The L4 header at l4, inside the IP datagram that ends at end (end <= len). */
static int l4(const uint8_t *f, size_t l4, size_t end, struct ref_parse *r)
{
	if (r->key.proto == IPPROTO_TCP) {
		size_t doff;

		if (l4 + TCP_HLEN > end)
			return bad(r, XLB_C_DROP_L4_TRUNCATED);
		doff = (size_t)(f[l4 + 12] >> 4) * 4;
		if (doff < TCP_HLEN || l4 + doff > end)
			return bad(r, XLB_C_DROP_BAD_L4_HEADER);
		r->tcp_flags = f[l4 + 13];
	} else {
		size_t ulen;

		if (l4 + UDP_HLEN > end)
			return bad(r, XLB_C_DROP_L4_TRUNCATED);
		ulen = be16(f + l4 + 4);
		if (ulen < UDP_HLEN || l4 + ulen > end)
			return bad(r, XLB_C_DROP_BAD_L4_HEADER);
	}
	memcpy(&r->key.sport, f + l4, 2);
	memcpy(&r->key.dport, f + l4 + 2, 2);
	r->kind = REF_OK;
	return 0;
}

static int ipv4(const uint8_t *f, size_t len, size_t o, struct ref_parse *r)
{
	size_t hl, tot;

	if (len < o + IP4_HLEN)
		return pass(r, XLB_C_PASS_UNPARSED); /* the destination cannot be read */
	r->key.family = XLB_AF_INET;
	memcpy(&r->key.src.v4, f + o + 12, 4);
	memcpy(&r->key.dst.v4, f + o + 16, 4);
	r->key.proto = f[o + 9];
	hl = (size_t)(f[o] & 0x0f) * 4;
	if (f[o] >> 4 != 4 || hl < IP4_HLEN)
		return bad(r, XLB_C_DROP_BAD_IP_HEADER);
	if (o + hl > len)
		return bad(r, XLB_C_DROP_IP_TRUNCATED); /* options run past the frame */
	tot = be16(f + o + 2);
	if (tot < hl || o + tot > len)
		return bad(r, XLB_C_DROP_BAD_IP_LENGTH); /* padding after tot_len is fine */
	if (r->key.proto != IPPROTO_TCP && r->key.proto != IPPROTO_UDP)
		return pass(r, XLB_C_PASS_NOT_VIP); /* ICMP, fragmented or not */
	if (be16(f + o + 6) & 0x3fff)
		return bad(r, XLB_C_DROP_FRAGMENT); /* MF or an offset */
	return l4(f, o + hl, o + tot, r);
}

static bool walkable(uint8_t nh)
{
	return nh == EXT_HOP || nh == EXT_RT || nh == EXT_DST || nh == EXT_FRAG;
}

static int ipv6(const uint8_t *f, size_t len, size_t o, struct ref_parse *r)
{
	size_t end, cur = o + IP6_HLEN;
	bool frag = false;
	uint8_t nh;
	int n;

	if (len < o + IP6_HLEN)
		return pass(r, XLB_C_PASS_UNPARSED);
	r->key.family = XLB_AF_INET6;
	memcpy(r->key.src.bytes, f + o + 8, 16);
	memcpy(r->key.dst.bytes, f + o + 24, 16);
	if (f[o] >> 4 != 6)
		return bad(r, XLB_C_DROP_BAD_IP_HEADER);
	end = cur + be16(f + o + 4);
	if (end == cur || end > len) /* 0 is a jumbogram: no Ethernet MTU carries one */
		return bad(r, XLB_C_DROP_BAD_IP_LENGTH);
	nh = f[o + 6];
	for (n = 0; n < MAX_EXT && walkable(nh); n++) {
		if (nh == EXT_FRAG) {
			unsigned fo;

			if (cur + FRAG_HLEN > end)
				return bad(r, XLB_C_DROP_IP_TRUNCATED);
			nh = f[cur];
			fo = be16(f + cur + 2);
			cur += FRAG_HLEN;
			frag |= (fo & 0xfff9) != 0; /* offset or M: not an atomic fragment */
			if (fo & 0xfff8)
				break; /* a later fragment: no headers follow */
			continue;
		}
		if (cur + 2 > end)
			return bad(r, XLB_C_DROP_IP_TRUNCATED);
		nh = f[cur];
		cur += ((size_t)f[cur + 1] + 1) * 8;
	}
	if (cur > end)
		return bad(r, XLB_C_DROP_IP_TRUNCATED); /* the last header runs past the packet */
	if (walkable(nh))
		return pass(r, XLB_C_PASS_IPV6_EXT_LIMIT); /* protocol unknown: not provably ours */
	if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
		return pass(r, XLB_C_PASS_NOT_VIP); /* ICMPv6 and the rest, fragmented or not */
	if (frag)
		return bad(r, XLB_C_DROP_FRAGMENT);
	r->key.proto = nh;
	return l4(f, cur, end, r);
}

/* The frame's classification; a helper's int result is only there to end it early. */
static int frame(const uint8_t *f, size_t len, const uint8_t *lb_mac, struct ref_parse *r)
{
	size_t off = ETH_HLEN_;
	unsigned type;
	int n;

	if (len < ETH_HLEN_)
		return pass(r, XLB_C_PASS_UNPARSED);
	if (!ours(f, lb_mac))
		return pass(r, XLB_C_PASS_NOT_OURS);
	type = be16(f + 12);
	for (n = 0; n < MAX_VLANS && (type == 0x8100 || type == 0x88a8); n++) {
		if (len < off + VLAN_HLEN_)
			return pass(r, XLB_C_PASS_UNPARSED);
		type = be16(f + off + 2);
		off += VLAN_HLEN_;
	}
	if (type == 0x0800)
		return ipv4(f, len, off, r);
	if (type == 0x86dd)
		return ipv6(f, len, off, r);
	return pass(r, XLB_C_PASS_NOT_IP); /* a third tag included */
}

void ref_parse(const uint8_t *f, size_t len, const uint8_t *lb_mac, struct ref_parse *r)
{
	memset(r, 0, sizeof(*r));
	frame(f, len, lb_mac, r);
}
