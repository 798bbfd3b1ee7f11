/* pkt.c - the test frame builder, parser, checksum checker and frame differ declared in pkt.h. */
#include "pkt.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#define IP4_HLEN   20
#define IP6_HLEN   40
#define TCP_HLEN   20
#define UDP_HLEN   8
#define ICMP_HLEN  8 /* echo request: type, code, checksum, id, sequence */
#define FRAG_HLEN  8
#define TCP_WINDOW 64240
#define IPOPT_NOP  1
#define IPOPT_EOL  0
#define OPT_PAD1   0
#define OPT_PADN   1
#define OPT_EXP	   0x1e /* RFC 4727 experimental, action bits 00: "skip over this option" */

#define PKT_O_ALL                                                                     \
	(PKT_O_VERSION | PKT_O_IHL | PKT_O_TOT_LEN | PKT_O_PAYLOAD_LEN | PKT_O_DOFF | \
	 PKT_O_ETHERTYPE)

/* Multi-byte fields go through these: frames are byte arrays at any alignment. */
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071: sum of big-endian 16-bit words, an odd last byte padded with zero. 64 bits so that
 * no frame can overflow it before the fold. */
static uint64_t sum16(const uint8_t *p, size_t n, uint64_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint64_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool is_ext(uint8_t type)
{
	return type == IPPROTO_HOPOPTS || type == IPPROTO_ROUTING || type == IPPROTO_DSTOPTS ||
	       type == IPPROTO_FRAGMENT;
}

/* Length of the L4 header pkt_build writes for proto, 0 for "payload only". */
static size_t l4_hlen(uint8_t family, uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return TCP_HLEN;
	if (proto == IPPROTO_UDP)
		return UDP_HLEN;
	if ((family == XLB_AF_INET && proto == IPPROTO_ICMP) ||
	    (family == XLB_AF_INET6 && proto == IPPROTO_ICMPV6))
		return ICMP_HLEN;
	return 0;
}

/* Offset of the checksum inside the L4 header. */
static size_t l4_csum_off(uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return 16;
	if (proto == IPPROTO_UDP)
		return 6;
	return 2;
}

/* Pseudo-header sum (RFC 793 / RFC 8200 8.1). ICMPv4 has none. The addresses come from the
 * header bytes, so a frame is checked against what it carries. */
static uint64_t pseudo_sum(uint8_t family, uint8_t proto, const uint8_t *l3, size_t l4_len)
{
	uint64_t sum = proto + (l4_len >> 16) + (l4_len & 0xffff);

	if (family == XLB_AF_INET) {
		if (proto == IPPROTO_ICMP)
			return 0;
		return sum16(l3 + 12, 8, sum);
	}
	return sum16(l3 + 8, 32, sum);
}

void pkt_spec_init(struct pkt_spec *s, uint8_t family, uint8_t proto)
{
	static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 1};
	static const uint8_t client4[4] = {192, 0, 2, 1};
	static const uint8_t vip4[4] = {198, 51, 100, 1};

	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, (uint8_t[6]){0x02, 0, 0, 0, 0, 0x01}, 6);
	memcpy(s->dst_mac, (uint8_t[6]){0x02, 0, 0, 0, 0, 0x02}, 6);
	s->family = family;
	if (family == XLB_AF_INET6) {
		memcpy(s->src.bytes, client6, 16);
		memcpy(s->dst.bytes, vip6, 16);
	} else {
		memcpy(s->src.bytes, client4, 4);
		memcpy(s->dst.bytes, vip4, 4);
	}
	s->ttl = 64;
	s->proto = proto;
	s->sport = 40000;
	s->dport = 80;
	if (proto == IPPROTO_TCP)
		s->tcp_flags = PKT_TCP_SYN;
}

void pkt_spec_flow(struct pkt_spec *s, uint32_t i)
{
	uint32_t a;

	s->sport = 1024 + i % 64512;
	if (s->family == XLB_AF_INET6) {
		s->src.v6[3] = htobe32(be32toh(s->src.v6[3]) + i);
	} else {
		a = be32toh(s->src.v4);
		s->src.v4 = htobe32((a & 0xff000000) | ((a + i) & 0x00ffffff));
	}
}

static size_t ext_len(const struct pkt_ext *e)
{
	return e->type == IPPROTO_FRAGMENT ? FRAG_HLEN : ((size_t)e->hlen + 1) * 8;
}

static int check_overrides(const struct pkt_spec *s, const struct pkt_layout *lo)
{
	const struct pkt_override *o = &s->ovr;
	bool v4 = s->family == XLB_AF_INET;

	if (o->set & ~PKT_O_ALL)
		return -EINVAL;
	if ((o->set & PKT_O_VERSION) && o->version > 15)
		return -EINVAL;
	if ((o->set & PKT_O_IHL) && (!v4 || o->ihl > 15))
		return -EINVAL;
	if ((o->set & PKT_O_TOT_LEN) && !v4)
		return -EINVAL;
	if ((o->set & PKT_O_PAYLOAD_LEN) && v4)
		return -EINVAL;
	if ((o->set & PKT_O_DOFF) && (!lo->l4_hdr || s->proto != IPPROTO_TCP || o->doff > 15))
		return -EINVAL;
	return 0;
}

int pkt_layout(const struct pkt_spec *s, struct pkt_layout *lo)
{
	int frag_at = -1;
	size_t off, i;

	memset(lo, 0, sizeof(*lo));
	if (s->n_vlan > PKT_MAX_VLANS || s->frag_off > 8191)
		return -EINVAL;
	for (i = 0; i < s->n_vlan; i++) {
		uint16_t tpid = s->vlan[i].tpid;

		if (s->vlan[i].vid > 4095 ||
		    (tpid != 0 && tpid != ETH_P_8021Q && tpid != ETH_P_8021AD))
			return -EINVAL;
	}
	lo->n_vlan = s->n_vlan;
	lo->family = s->family;
	lo->proto = s->proto;
	lo->l3_off = ETH_HLEN + 4 * (size_t)s->n_vlan;
	off = lo->l3_off;
	if (s->family == XLB_AF_INET) {
		if (s->ip4_opts_len % 4 || s->ip4_opts_len > PKT_MAX_IP4_OPTS || s->n_ext)
			return -EINVAL;
		off += IP4_HLEN + s->ip4_opts_len;
	} else if (s->family == XLB_AF_INET6) {
		if (s->ip4_opts_len || s->df || s->n_ext > PKT_MAX_EXTS)
			return -EINVAL;
		off += IP6_HLEN;
		for (i = 0; i < s->n_ext; i++) {
			if (!is_ext(s->ext[i].type))
				return -EINVAL;
			if (s->ext[i].type == IPPROTO_FRAGMENT) {
				if (frag_at >= 0)
					return -EINVAL;
				frag_at = (int)i;
			}
			lo->ext_off[i] = off;
			off += ext_len(&s->ext[i]);
		}
		lo->n_ext = s->n_ext;
		if ((s->mf || s->frag_off) && frag_at < 0)
			return -EINVAL;
		/* Headers after the fragment header belong to the first fragment only. */
		if (s->frag_off && frag_at != (int)s->n_ext - 1)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	lo->frag = s->mf || s->frag_off;
	lo->l4_off = off;
	lo->l4_hdr = s->frag_off == 0 && l4_hlen(s->family, s->proto) > 0;
	if (lo->l4_hdr)
		off += l4_hlen(s->family, s->proto);
	lo->payload_off = off;
	off += s->payload_len;
	lo->l3_end = lo->len = off;
	for (i = lo->n_ext; i < PKT_MAX_EXTS; i++)
		lo->ext_off[i] = off;
	/* tot_len and payload_len are 16 bits; jumbograms are out of scope. */
	if (off - lo->l3_off - (s->family == XLB_AF_INET6 ? IP6_HLEN : 0) > 0xffff)
		return -EINVAL;
	return check_overrides(s, lo);
}

/* Fills an options header body with padding that Linux accepts: PadN only up to 7 bytes in a
 * row (RFC 4942 2.1.9.5), so longer runs use skippable experimental options. */
static void fill_tlv(uint8_t *p, size_t n)
{
	size_t d;

	while (n > 0) {
		if (n == 1) {
			p[0] = OPT_PAD1;
			return;
		}
		if (n <= 7) {
			p[0] = OPT_PADN;
			p[1] = (uint8_t)(n - 2);
			memset(p + 2, 0, n - 2);
			return;
		}
		d = n - 2 > 255 ? 255 : n - 2;
		p[0] = OPT_EXP;
		p[1] = (uint8_t)d;
		memset(p + 2, 0, d);
		p += 2 + d;
		n -= 2 + d;
	}
}

static void build_ip4(const struct pkt_spec *s, const struct pkt_layout *lo, uint8_t *l3)
{
	uint16_t frag = s->frag_off;

	if (s->df)
		frag |= 0x4000;
	if (s->mf)
		frag |= 0x2000;
	l3[0] = 0x40 | (IP4_HLEN + s->ip4_opts_len) / 4;
	l3[1] = 0;
	put16(l3 + 2, (uint16_t)(lo->len - lo->l3_off));
	put16(l3 + 4, PKT_IP_ID);
	put16(l3 + 6, frag);
	l3[8] = s->ttl ? s->ttl : 64;
	l3[9] = s->proto;
	put16(l3 + 10, 0);
	memcpy(l3 + 12, &s->src.v4, 4);
	memcpy(l3 + 16, &s->dst.v4, 4);
	if (s->ip4_opts_len) {
		memset(l3 + IP4_HLEN, IPOPT_NOP, s->ip4_opts_len - 1);
		l3[IP4_HLEN + s->ip4_opts_len - 1] = IPOPT_EOL;
	}
}

static void build_ip6(const struct pkt_spec *s, const struct pkt_layout *lo, uint8_t *buf)
{
	uint8_t *l3 = buf + lo->l3_off, *e;
	size_t i, n;

	put32(l3, 0x60000000);
	put16(l3 + 4, (uint16_t)(lo->len - lo->l3_off - IP6_HLEN));
	l3[6] = s->n_ext ? s->ext[0].type : s->proto;
	l3[7] = s->ttl ? s->ttl : 64;
	memcpy(l3 + 8, s->src.bytes, 16);
	memcpy(l3 + 24, s->dst.bytes, 16);
	for (i = 0; i < s->n_ext; i++) {
		e = buf + lo->ext_off[i];
		n = ext_len(&s->ext[i]);
		e[0] = i + 1 < s->n_ext ? s->ext[i + 1].type : s->proto;
		if (s->ext[i].type == IPPROTO_FRAGMENT) {
			e[1] = 0;
			put16(e + 2, (uint16_t)(s->frag_off << 3 | s->mf));
			put32(e + 4, PKT_IP_ID);
		} else if (s->ext[i].type == IPPROTO_ROUTING) {
			e[1] = s->ext[i].hlen;
			memset(e + 2, 0,
			       n - 2); /* type 0, segments left 0, reserved, no addresses */
		} else {
			e[1] = s->ext[i].hlen;
			fill_tlv(e + 2, n - 2);
		}
	}
}

static void build_l4(const struct pkt_spec *s, const struct pkt_layout *lo, uint8_t *l4)
{
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_TCP) {
		put32(l4 + 4, PKT_TCP_SEQ);
		put32(l4 + 8, s->tcp_flags & PKT_TCP_ACK ? PKT_TCP_ACK_SEQ : 0);
		l4[12] = (TCP_HLEN / 4) << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, TCP_WINDOW);
		put16(l4 + 16, 0);
		put16(l4 + 18, 0);
	} else if (s->proto == IPPROTO_UDP) {
		put16(l4 + 4, (uint16_t)(lo->len - lo->l4_off));
		put16(l4 + 6, 0);
	} else {
		/* Echo request (unless told): id and sequence where the ports would be. */
		l4[0] = s->icmp_type ? s->icmp_type : s->family == XLB_AF_INET ? 8 : 128;
		l4[1] = 0;
		put16(l4 + 2, 0);
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->dport);
	}
}

static void apply_overrides(const struct pkt_spec *s, const struct pkt_layout *lo, uint8_t *buf)
{
	const struct pkt_override *o = &s->ovr;
	uint8_t *l3 = buf + lo->l3_off;

	if (o->set & PKT_O_ETHERTYPE)
		put16(l3 - 2, o->ethertype);
	if (o->set & PKT_O_VERSION)
		l3[0] = (uint8_t)((l3[0] & 0x0f) | o->version << 4);
	if (o->set & PKT_O_IHL)
		l3[0] = (l3[0] & 0xf0) | o->ihl;
	if (o->set & PKT_O_TOT_LEN)
		put16(l3 + 2, o->tot_len);
	if (o->set & PKT_O_PAYLOAD_LEN)
		put16(l3 + 4, o->payload_len);
	if (o->set & PKT_O_DOFF)
		buf[lo->l4_off + 12] = (uint8_t)((buf[lo->l4_off + 12] & 0x0f) | o->doff << 4);
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	struct pkt_layout lo;
	uint8_t *p, *l3, *l4;
	uint16_t c;
	size_t i;
	int err;

	err = pkt_layout(s, &lo);
	if (err)
		return err;
	if (lo.len > cap)
		return -ENOSPC;
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	p = buf + 12;
	for (i = 0; i < s->n_vlan; i++, p += 4) {
		put16(p, s->vlan[i].tpid ? s->vlan[i].tpid : ETH_P_8021Q);
		put16(p + 2, s->vlan[i].vid);
	}
	put16(p, s->family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6);
	l3 = buf + lo.l3_off;
	if (s->family == XLB_AF_INET)
		build_ip4(s, &lo, l3);
	else
		build_ip6(s, &lo, buf);
	l4 = buf + lo.l4_off;
	if (lo.l4_hdr)
		build_l4(s, &lo, l4);
	if (s->payload)
		memcpy(buf + lo.payload_off, s->payload, s->payload_len);
	else
		for (i = 0; i < s->payload_len; i++)
			buf[lo.payload_off + i] = 'a' + i % 26;
	apply_overrides(s, &lo, buf);

	/* Checksums last, over the bytes as written (overrides included) and the real lengths. */
	if (s->family == XLB_AF_INET)
		put16(l3 + 10, fold(sum16(l3, lo.l4_off - lo.l3_off, 0)));
	if (lo.l4_hdr) {
		c = fold(sum16(l4, lo.len - lo.l4_off,
			       pseudo_sum(s->family, s->proto, l3, lo.len - lo.l4_off)));
		/* UDP sends a computed 0 as 0xffff: 0 means "no checksum" (RFC 768). */
		if (s->proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		put16(l4 + l4_csum_off(s->proto), c);
	}
	return (int)lo.len;
}

/* IPv4 header from l3_off on: fills lo, returns 0, or -EINVAL when unreadable or inconsistent. */
static int parse_ip4(const uint8_t *buf, size_t len, struct pkt_layout *lo, bool *first)
{
	const uint8_t *l3 = buf + lo->l3_off;
	size_t hl, tot;
	uint16_t frag;
	int err = 0;

	if (len - lo->l3_off < IP4_HLEN)
		return -EINVAL;
	if (l3[0] >> 4 != 4)
		err = -EINVAL;
	hl = (size_t)(l3[0] & 0x0f) * 4;
	if (hl < IP4_HLEN || hl > len - lo->l3_off)
		return -EINVAL;
	tot = get16(l3 + 2);
	lo->l3_end = lo->l3_off + tot;
	if (tot < hl || lo->l3_end > len)
		err = -EINVAL;
	frag = get16(l3 + 6);
	lo->frag = frag & 0x3fff;
	*first = !(frag & 0x1fff);
	lo->proto = l3[9];
	lo->l4_off = lo->l3_off + hl;
	return err;
}

/* IPv6 header and extension headers, as parse_ip4. */
static int parse_ip6(const uint8_t *buf, size_t len, struct pkt_layout *lo, bool *first)
{
	const uint8_t *l3 = buf + lo->l3_off, *e;
	size_t off = lo->l3_off + IP6_HLEN, hl;
	uint16_t frag;
	uint8_t nh;
	int err = 0;

	if (len - lo->l3_off < IP6_HLEN)
		return -EINVAL;
	if (l3[0] >> 4 != 6)
		err = -EINVAL;
	lo->l3_end = off + get16(l3 + 4);
	if (lo->l3_end > len)
		err = -EINVAL;
	nh = l3[6];
	while (is_ext(nh) && *first) {
		if (lo->n_ext == PKT_MAX_EXTS || len - off < 8)
			return -EINVAL;
		e = buf + off;
		hl = nh == IPPROTO_FRAGMENT ? FRAG_HLEN : ((size_t)e[1] + 1) * 8;
		if (hl > len - off)
			return -EINVAL;
		if (nh == IPPROTO_FRAGMENT) {
			frag = get16(e + 2);
			lo->frag = frag & 0xfff9; /* offset or M; an atomic fragment is whole */
			*first = !(frag >> 3);
		}
		lo->ext_off[lo->n_ext++] = off;
		nh = e[0];
		off += hl;
	}
	lo->proto = nh;
	lo->l4_off = off;
	return err;
}

int pkt_parse(const uint8_t *buf, size_t len, struct pkt_layout *lo)
{
	bool first = true;
	size_t off, i, hl;
	uint16_t type;
	int err;

	memset(lo, 0, sizeof(*lo));
	lo->len = lo->l3_off = lo->l4_off = lo->payload_off = lo->l3_end = len;
	for (i = 0; i < PKT_MAX_EXTS; i++)
		lo->ext_off[i] = len;
	if (len < ETH_HLEN)
		return -EINVAL;
	off = 12;
	type = get16(buf + off);
	while (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		if (lo->n_vlan == PKT_MAX_VLANS || len - off < 4 + 2)
			return -EINVAL;
		lo->n_vlan++;
		off += 4;
		type = get16(buf + off);
	}
	lo->l3_off = off + 2;
	if (type == ETH_P_IP) {
		lo->family = XLB_AF_INET;
		err = parse_ip4(buf, len, lo, &first);
	} else if (type == ETH_P_IPV6) {
		lo->family = XLB_AF_INET6;
		err = parse_ip6(buf, len, lo, &first);
	} else {
		return -EINVAL;
	}
	if (lo->l4_off == len && err)
		return err; /* the L3 header itself was unreadable */
	hl = first ? l4_hlen(lo->family, lo->proto) : 0;
	if (!hl) {
		lo->payload_off = lo->l4_off;
		return err;
	}
	if (len - lo->l4_off < hl)
		return -EINVAL;
	if (lo->proto == IPPROTO_TCP) {
		hl = (size_t)(buf[lo->l4_off + 12] >> 4) * 4;
		if (hl < TCP_HLEN || hl > len - lo->l4_off)
			return -EINVAL;
	}
	lo->l4_hdr = true;
	lo->payload_off = lo->l4_off + hl;
	if (lo->payload_off > lo->l3_end)
		err = -EINVAL;
	if (lo->proto == IPPROTO_UDP &&
	    (size_t)get16(buf + lo->l4_off + 4) != lo->l3_end - lo->l4_off)
		err = -EINVAL;
	return err;
}

bool pkt_checksum_ok(const uint8_t *buf, size_t len)
{
	struct pkt_layout lo;
	const uint8_t *l3, *l4;
	size_t l4_len;
	uint16_t c;

	if (pkt_parse(buf, len, &lo))
		return false;
	l3 = buf + lo.l3_off;
	l4 = buf + lo.l4_off;
	if (lo.family == XLB_AF_INET && fold(sum16(l3, lo.l4_off - lo.l3_off, 0)) != 0)
		return false;
	if (!lo.l4_hdr || lo.frag)
		return true;
	l4_len = lo.l3_end - lo.l4_off;
	c = get16(l4 + l4_csum_off(lo.proto));
	if (lo.proto == IPPROTO_UDP && c == 0)
		return lo.family == XLB_AF_INET; /* optional over IPv4, mandatory over IPv6 */
	return fold(sum16(l4, l4_len, pseudo_sum(lo.family, lo.proto, l3, l4_len))) == 0;
}

int pkt_dst_mac(const uint8_t *buf, size_t len, uint8_t mac[6])
{
	if (len < ETH_HLEN)
		return -EINVAL;
	memcpy(mac, buf, 6);
	return 0;
}

int pkt_src_mac(const uint8_t *buf, size_t len, uint8_t mac[6])
{
	if (len < ETH_HLEN)
		return -EINVAL;
	memcpy(mac, buf + 6, 6);
	return 0;
}

/* Naming of bytes for pkt_same(): a frame is cut into layers, a layer into named fields. */
struct field {
	uint8_t off, len;
	const char *name; /* "saddr" and "daddr" print as addresses */
};

struct layer {
	size_t start;
	const char *name;
	const struct field *fields; /* NULL-name terminated; bytes past them are "+N" chunks */
};

static const struct field eth_fields[] = {{0, 6, "dst"}, {6, 6, "src"}, {0, 0, NULL}};
static const struct field vlan_fields[] = {{0, 2, "tpid"}, {2, 2, "tci"}, {0, 0, NULL}};
static const struct field type_fields[] = {{0, 2, "ethertype"}, {0, 0, NULL}};
static const struct field ip4_fields[] = {
	{0, 1, "version/ihl"}, {1, 1, "tos"},	 {2, 2, "tot_len"},  {4, 2, "id"},
	{6, 2, "frag_off"},    {8, 1, "ttl"},	 {9, 1, "protocol"}, {10, 2, "check"},
	{12, 4, "saddr"},      {16, 4, "daddr"}, {0, 0, NULL}};
static const struct field ip6_fields[] = {{0, 4, "version/class/flow"},
					  {4, 2, "payload_len"},
					  {6, 1, "nexthdr"},
					  {7, 1, "hop_limit"},
					  {8, 16, "saddr"},
					  {24, 16, "daddr"},
					  {0, 0, NULL}};
static const struct field ext_fields[] = {{0, 1, "nexthdr"}, {1, 1, "hdrlen"}, {0, 0, NULL}};
static const struct field frag_fields[] = {
	{0, 1, "nexthdr"}, {1, 1, "reserved"}, {2, 2, "frag_off"}, {4, 4, "id"}, {0, 0, NULL}};
static const struct field tcp_fields[] = {
	{0, 2, "source"}, {2, 2, "dest"},    {4, 4, "seq"},    {8, 4, "ack_seq"},  {12, 1, "doff"},
	{13, 1, "flags"}, {14, 2, "window"}, {16, 2, "check"}, {18, 2, "urg_ptr"}, {0, 0, NULL}};
static const struct field udp_fields[] = {
	{0, 2, "source"}, {2, 2, "dest"}, {4, 2, "len"}, {6, 2, "check"}, {0, 0, NULL}};
static const struct field icmp_fields[] = {{0, 1, "type"}, {1, 1, "code"},     {2, 2, "check"},
					   {4, 2, "id"},   {6, 2, "sequence"}, {0, 0, NULL}};

#define MAX_LAYERS (1 + PKT_MAX_VLANS + 1 + 2 + PKT_MAX_EXTS + 3)

/* Appends a layer that starts inside the frame; one starting where the previous one does replaces
 * it (an empty layer), so starts stay strictly increasing. */
static void add_layer(struct layer *ly, int *n, size_t len, size_t start, const char *name,
		      const struct field *fields)
{
	if (start >= len || (*n > 0 && start < ly[*n - 1].start))
		return;
	if (*n > 0 && start == ly[*n - 1].start)
		(*n)--;
	ly[*n].start = start;
	ly[*n].name = name;
	ly[*n].fields = fields;
	(*n)++;
}

static const char *ext_name(uint8_t type)
{
	switch (type) {
	case IPPROTO_HOPOPTS:
		return "ipv6 hop-by-hop";
	case IPPROTO_ROUTING:
		return "ipv6 routing";
	case IPPROTO_FRAGMENT:
		return "ipv6 fragment";
	default:
		return "ipv6 dest opts";
	}
}

static int layers_of(const uint8_t *buf, const struct pkt_layout *lo, struct layer *ly)
{
	static const char *const vlan_names[PKT_MAX_VLANS] = {"vlan 1", "vlan 2"};
	const uint8_t *l3 = buf + lo->l3_off;
	uint8_t type;
	size_t i;
	int n = 0;

	add_layer(ly, &n, lo->len, 0, "ethernet", eth_fields);
	for (i = 0; i < lo->n_vlan; i++)
		add_layer(ly, &n, lo->len, 12 + 4 * i, vlan_names[i], vlan_fields);
	add_layer(ly, &n, lo->len, 12 + 4 * (size_t)lo->n_vlan, "ethernet", type_fields);
	if (lo->family == XLB_AF_INET) {
		add_layer(ly, &n, lo->len, lo->l3_off, "ipv4", ip4_fields);
		add_layer(ly, &n, lo->len, lo->l3_off + IP4_HLEN, "ipv4 options", NULL);
	} else if (lo->family == XLB_AF_INET6) {
		add_layer(ly, &n, lo->len, lo->l3_off, "ipv6", ip6_fields);
		type = l3[6];
		for (i = 0; i < lo->n_ext; i++) {
			add_layer(ly, &n, lo->len, lo->ext_off[i], ext_name(type),
				  type == IPPROTO_FRAGMENT ? frag_fields : ext_fields);
			type = buf[lo->ext_off[i]];
		}
	} else {
		add_layer(ly, &n, lo->len, lo->l3_off, "l3", NULL);
	}
	if (lo->l4_hdr) {
		if (lo->proto == IPPROTO_TCP)
			add_layer(ly, &n, lo->len, lo->l4_off, "tcp", tcp_fields);
		else if (lo->proto == IPPROTO_UDP)
			add_layer(ly, &n, lo->len, lo->l4_off, "udp", udp_fields);
		else
			add_layer(ly, &n, lo->len, lo->l4_off, "icmp", icmp_fields);
	}
	add_layer(ly, &n, lo->len, lo->payload_off, "payload", NULL);
	if (lo->l3_end >= lo->payload_off)
		add_layer(ly, &n, lo->len, lo->l3_end, "trailer", NULL);
	return n;
}

/* Names the span of bytes that starts at off; returns where it ends (always after off). */
static size_t describe(const struct layer *ly, int n, size_t off, char *name, size_t size,
		       bool *addr)
{
	const struct field *f;
	size_t end = SIZE_MAX, rel;
	int i = n - 1;

	while (i > 0 && ly[i].start > off)
		i--;
	if (i + 1 < n)
		end = ly[i + 1].start;
	rel = off - ly[i].start;
	for (f = ly[i].fields; f && f->name; f++) {
		if (rel >= f->off && rel < (size_t)f->off + f->len) {
			snprintf(name, size, "%s %s", ly[i].name, f->name);
			*addr = strcmp(f->name, "saddr") == 0 || strcmp(f->name, "daddr") == 0;
			return ly[i].start + f->off + f->len < end ? ly[i].start + f->off + f->len
								   : end;
		}
	}
	snprintf(name, size, "%s +%zu", ly[i].name, rel);
	*addr = false;
	return off + 16 - rel % 16 < end ? off + 16 - rel % 16 : end;
}

static void print_bytes(const uint8_t *p, size_t n, bool addr)
{
	uint32_t v = 0;
	size_t i;

	if (addr && n == 4) {
		fprintf(stderr, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
		return;
	}
	if (addr && n == 16) {
		for (i = 0; i < n; i += 2)
			fprintf(stderr, "%s%x", i ? ":" : "", get16(p + i));
		return;
	}
	if (n <= 4) {
		for (i = 0; i < n; i++)
			v = v << 8 | p[i];
		fprintf(stderr, "0x%0*x (%u)", (int)(2 * n), v, v);
		return;
	}
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i ? ":" : "", p[i]);
}

bool pkt_same(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
	      const char *label)
{
	struct layer ly[MAX_LAYERS];
	struct pkt_layout lo;
	size_t common = got_len < want_len ? got_len : want_len, off, end, ndiff = 0;
	int n, shown = 0;
	bool addr = false;
	char name[64];

	if (got_len == want_len && memcmp(got, want, got_len) == 0)
		return true;
	for (off = 0; off < common; off++)
		ndiff += got[off] != want[off];
	fprintf(stderr, "%s: frames differ: got %zu bytes, want %zu; %zu of the first %zu differ\n",
		label, got_len, want_len, ndiff, common);
	/* Name the bytes after the expected frame: it is the well-formed one. */
	pkt_parse(want, want_len, &lo);
	n = layers_of(want, &lo, ly);
	for (off = 0; off < common; off = end) {
		end = describe(ly, n, off, name, sizeof(name), &addr);
		if (end > common)
			end = common;
		if (memcmp(got + off, want + off, end - off) == 0)
			continue;
		if (shown++ == 16) {
			fprintf(stderr, "  ...\n");
			break;
		}
		fprintf(stderr, "  @%zu %s: got ", off, name);
		print_bytes(got + off, end - off, addr);
		fprintf(stderr, ", want ");
		print_bytes(want + off, end - off, addr);
		fputc('\n', stderr);
	}
	return false;
}
