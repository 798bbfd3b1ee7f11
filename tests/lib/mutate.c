/* mutate.c - the frame generator and mutator of mutate.h, on top of pkt.h's builder. */
#include "mutate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "pkt.h"

const char *const mut_kind_name[MUT_KINDS] = {"vip", "vip-broken", "not-vip", "random", "flips"};

void mut_seed(struct mut_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t mut_rnd(struct mut_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

uint32_t mut_below(struct mut_rng *r, uint32_t n)
{
	return n ? (uint32_t)((mut_rnd(r) >> 32) % n) : 0;
}

int mut_chance(struct mut_rng *r, uint32_t num, uint32_t den)
{
	return mut_below(r, den) < num;
}

static void note(struct mut_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct mut_result *res, const char *fmt, ...)
{
	size_t n = strlen(res->what);
	va_list ap;

	if (n + 2 >= sizeof(res->what))
		return;
	if (n)
		res->what[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(res->what + n, sizeof(res->what) - n, fmt, ap);
	va_end(ap);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint16_t tpids[2] = {ETH_P_8021Q, ETH_P_8021AD};
static const uint8_t ext_types[3] = {IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS};

/* Client i: the hot set half the time. */
static uint32_t client(const struct mut_cfg *c, struct mut_rng *r)
{
	if (mut_chance(r, 1, 2))
		return mut_below(r, c->hot_flows ? c->hot_flows : 1);
	return c->hot_flows + mut_below(r, c->wide_flows ? c->wide_flows : 1);
}

static uint8_t tcp_flags(struct mut_rng *r)
{
	switch (mut_below(r, 8)) {
	case 0:
	case 1:
		return PKT_TCP_SYN;
	case 2:
	case 3:
		return PKT_TCP_ACK;
	case 4:
		return PKT_TCP_ACK | PKT_TCP_PSH;
	case 5:
		return mut_chance(r, 1, 2) ? PKT_TCP_FIN | PKT_TCP_ACK : PKT_TCP_RST;
	case 6:
		return PKT_TCP_SYN | PKT_TCP_ACK;
	default:
		return (uint8_t)mut_rnd(r);
	}
}

/* A well-formed frame to d: VLANs, options, extension headers (an atomic fragment now and
 * then), payload. */
static void base_spec(const struct mut_cfg *c, struct mut_rng *r, const struct mut_dst *d,
		      struct pkt_spec *s)
{
	uint32_t k;

	pkt_spec_init(s, d->family, d->proto);
	memcpy(s->dst_mac, c->lb_mac, 6);
	s->dst = d->addr;
	pkt_spec_flow(s, client(c, r));
	s->dport = d->port;
	if (d->proto == IPPROTO_TCP)
		s->tcp_flags = tcp_flags(r);
	k = mut_below(r, 10);
	s->n_vlan = k < 6 ? 0 : k < 9 ? 1 : 2;
	for (k = 0; k < s->n_vlan; k++) {
		s->vlan[k].tpid = tpids[mut_below(r, 2)];
		s->vlan[k].vid = (uint16_t)mut_below(r, 4096);
	}
	if (d->family == XLB_AF_INET) {
		if (mut_chance(r, 1, 4))
			s->ip4_opts_len = (uint8_t)(4 * (1 + mut_below(r, 10)));
		s->df = mut_chance(r, 1, 2);
	} else if (mut_chance(r, 2, 5)) {
		s->n_ext = (uint8_t)(1 + mut_below(r, 5)); /* 5: past the walk */
		for (k = 0; k < s->n_ext; k++) {
			s->ext[k].type = ext_types[mut_below(r, 3)];
			s->ext[k].hlen = (uint8_t)(mut_chance(r, 3, 4) ? 0 : mut_below(r, 4));
		}
		if (mut_chance(r, 1, 3))
			s->ext[mut_below(r, s->n_ext)].type = IPPROTO_FRAGMENT; /* atomic */
	}
	k = mut_below(r, 8);
	s->payload_len = (uint16_t)(k < 4 ? mut_below(r, 64) : k < 7 ? mut_below(r, 600) : 1400);
}

/* A fragment (MF, an offset, or both); IPv6 puts its fragment header last. */
static void fragment(struct mut_rng *r, struct pkt_spec *s, struct mut_result *res)
{
	uint32_t k = mut_below(r, 4);

	s->mf = k != 1;
	s->frag_off = (uint16_t)(k == 0		       ? 0
				 : mut_chance(r, 1, 2) ? 1 + mut_below(r, 8)
						       : mut_below(r, 8192));
	if (!s->mf && !s->frag_off)
		s->frag_off = 1;
	if (s->family == XLB_AF_INET6) {
		for (k = 0; k < s->n_ext; k++)
			if (s->ext[k].type == IPPROTO_FRAGMENT)
				s->ext[k].type = IPPROTO_DSTOPTS;
		if (s->n_ext == PKT_MAX_EXTS)
			s->n_ext--;
		s->ext[s->n_ext++].type = IPPROTO_FRAGMENT;
	}
	note(res, "frag mf=%d off=%u", s->mf, s->frag_off);
}

/* A length near the real one or anywhere. */
static uint16_t odd_len(struct mut_rng *r, unsigned real, unsigned hlen)
{
	switch (mut_below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return (uint16_t)(real - 1);
	case 2:
		return (uint16_t)(real + 1 + mut_below(r, 8));
	case 3:
		return (uint16_t)(hlen - 1);
	case 4:
		return (uint16_t)hlen;
	case 5:
		return 0xffff;
	case 6:
		return (uint16_t)(real > 8 ? real - 1 - mut_below(r, real - 8) : real);
	default:
		return (uint16_t)mut_rnd(r);
	}
}

enum spec_fault {
	F_IHL,
	F_VERSION,
	F_IPLEN,
	F_DOFF,
	F_FRAG,
	F_ETHERTYPE,
	F_PROTO,
	F_LONG_CHAIN,
	F_SPEC_FAULTS,
};

static void spec_fault(struct mut_rng *r, struct pkt_spec *s, struct mut_result *res)
{
	struct pkt_override *o = &s->ovr;
	struct pkt_layout lo;
	unsigned k;

	if (pkt_layout(s, &lo))
		return;
	switch (mut_below(r, F_SPEC_FAULTS)) {
	case F_IHL:
		if (s->family != XLB_AF_INET)
			return;
		o->set |= PKT_O_IHL;
		o->ihl = (uint8_t)mut_below(r, 16);
		note(res, "ihl=%u", o->ihl);
		return;
	case F_VERSION:
		o->set |= PKT_O_VERSION;
		o->version = (uint8_t)mut_below(r, 16);
		note(res, "version=%u", o->version);
		return;
	case F_IPLEN:
		if (s->family == XLB_AF_INET) {
			o->set |= PKT_O_TOT_LEN;
			o->tot_len = odd_len(r, (unsigned)(lo.len - lo.l3_off),
					     (unsigned)(lo.l4_off - lo.l3_off));
			note(res, "tot_len=%u", o->tot_len);
		} else {
			o->set |= PKT_O_PAYLOAD_LEN;
			o->payload_len = odd_len(r, (unsigned)(lo.len - lo.l3_off - 40),
						 (unsigned)(lo.l4_off - lo.l3_off - 40));
			note(res, "payload_len=%u", o->payload_len);
		}
		return;
	case F_DOFF:
		if (s->proto != IPPROTO_TCP)
			return;
		o->set |= PKT_O_DOFF;
		o->doff = (uint8_t)mut_below(r, 16);
		note(res, "doff=%u", o->doff);
		return;
	case F_FRAG:
		fragment(r, s, res);
		return;
	case F_ETHERTYPE: {
		static const uint16_t types[] = {ETH_P_ARP, 0x88cc,	ETH_P_8021Q, ETH_P_8021AD,
						 ETH_P_IP,  ETH_P_IPV6, 0x0000,	     0xffff};

		o->set |= PKT_O_ETHERTYPE;
		k = mut_below(r, sizeof(types) / sizeof(types[0]) + 1);
		o->ethertype =
			k < sizeof(types) / sizeof(types[0]) ? types[k] : (uint16_t)mut_rnd(r);
		note(res, "ethertype=0x%04x", o->ethertype);
		return;
	}
	case F_PROTO: {
		static const uint8_t protos[] = {IPPROTO_ICMP, IPPROTO_ICMPV6,
						 IPPROTO_GRE,  IPPROTO_SCTP,
						 IPPROTO_ESP,  59,
						 253,	       0};

		s->proto = protos[mut_below(r, sizeof(protos))];
		if (s->proto == IPPROTO_ICMP && s->family == XLB_AF_INET6)
			s->proto = IPPROTO_ICMPV6;
		if (s->proto == IPPROTO_ICMPV6 && s->family == XLB_AF_INET)
			s->proto = IPPROTO_ICMP;
		note(res, "proto=%u", s->proto);
		return;
	}
	default: /* F_LONG_CHAIN */
		if (s->family != XLB_AF_INET6)
			return;
		s->n_ext = (uint8_t)(3 + mut_below(r, PKT_MAX_EXTS - 2));
		for (k = 0; k < s->n_ext; k++) {
			s->ext[k].type = ext_types[mut_below(r, 3)];
			s->ext[k].hlen = (uint8_t)mut_below(r, 3);
		}
		if (mut_chance(r, 1, 2))
			s->ext[mut_below(r, s->n_ext)].type = IPPROTO_FRAGMENT;
		note(res, "chain=%u", s->n_ext);
		return;
	}
}

enum raw_fault {
	R_VLAN3,
	R_TPID,
	R_NEXTHDR,
	R_EXTLEN,
	R_UDPLEN,
	R_FLAGS,
	R_MAC,
	R_CUT,
	R_PAD,
	R_RAW_FAULTS,
};

static const uint8_t odd_nexthdr[] = {59,	   51,		50, 135, 139, 140, 253, 254,
				      IPPROTO_TCP, IPPROTO_UDP, 58, 0,	 43,  60,  44};

/* Changes to the bytes of a built frame; returns the new length. */
static size_t raw_fault(struct mut_rng *r, uint8_t *f, size_t len, size_t cap,
			const struct pkt_layout *lo, const uint8_t *lb_mac, struct mut_result *res)
{
	static const uint8_t macs[][6] = {
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
		{0x33, 0x33, 0xff, 0x00, 0x00, 0x01}, {0x02, 0x00, 0x00, 0x00, 0x00, 0x77},
		{0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	unsigned k;

	switch (mut_below(r, R_RAW_FAULTS)) {
	case R_VLAN3: /* one more tag in front: 1-3 of them then */
		if (len + 4 > cap || len < 12)
			return len;
		memmove(f + 16, f + 12, len - 12);
		put16(f + 12, tpids[mut_below(r, 2)]);
		put16(f + 14, mut_below(r, 4096));
		note(res, "vlan+1");
		return len + 4;
	case R_TPID: /* a tag's TPID swapped, or turned into something else */
		if (!lo->n_vlan)
			return len;
		k = 12 + 4 * mut_below(r, lo->n_vlan);
		put16(f + k, mut_chance(r, 3, 4) ? tpids[mut_below(r, 2)] : (unsigned)mut_rnd(r));
		note(res, "tpid@%u", k);
		return len;
	case R_NEXTHDR: /* IPv6: a header's next header (the chain's protocol) changed */
		if (lo->family != XLB_AF_INET6)
			return len;
		k = mut_below(r, (unsigned)lo->n_ext + 1);
		f[k ? lo->ext_off[k - 1] : lo->l3_off + 6] =
			odd_nexthdr[mut_below(r, sizeof(odd_nexthdr))];
		note(res, "nexthdr@%u", k);
		return len;
	case R_EXTLEN: /* IPv6: an extension header longer (or shorter) than it is */
		if (!lo->n_ext)
			return len;
		k = mut_below(r, lo->n_ext);
		f[lo->ext_off[k] + 1] =
			(uint8_t)(mut_chance(r, 1, 2) ? mut_below(r, 4) : mut_rnd(r));
		note(res, "extlen@%u", k);
		return len;
	case R_UDPLEN:
		if (!lo->l4_hdr || lo->proto != IPPROTO_UDP)
			return len;
		put16(f + lo->l4_off + 4, odd_len(r, (unsigned)(lo->l3_end - lo->l4_off), 8));
		note(res, "udp_len");
		return len;
	case R_FLAGS:
		if (!lo->l4_hdr || lo->proto != IPPROTO_TCP)
			return len;
		f[lo->l4_off + 13] = (uint8_t)mut_rnd(r);
		note(res, "flags=0x%02x", f[lo->l4_off + 13]);
		return len;
	case R_MAC:
		k = mut_below(r, sizeof(macs) / sizeof(macs[0]) + 2);
		if (k < sizeof(macs) / sizeof(macs[0])) {
			memcpy(f, macs[k], 6);
		} else {
			memcpy(f, lb_mac, 6); /* the LB's MAC with one bit off (the I/G bit too) */
			f[mut_below(r, 6)] ^= (uint8_t)(1u << mut_below(r, 8));
		}
		note(res, "dmac");
		return len;
	case R_CUT:
		k = mut_below(r, (unsigned)len + 1);
		note(res, "cut=%u", k);
		return k;
	default: /* R_PAD: Ethernet padding, or bytes past tot_len */
		k = 1 + mut_below(r, 46);
		if (len + k > cap)
			return len;
		for (unsigned i = 0; i < k; i++)
			f[len + i] = mut_chance(r, 1, 2) ? 0 : (uint8_t)mut_rnd(r);
		note(res, "pad=%u", k);
		return len + k;
	}
}

static const struct mut_dst *pick(struct mut_rng *r, const struct mut_dst *d, size_t n)
{
	return &d[mut_below(r, (uint32_t)n)];
}

static size_t build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	int n = pkt_build(s, buf, cap);

	return n > 0 ? (size_t)n : 0;
}

/* The length of a built frame, falling back to the spec without its faults (a fault that does
 * not apply to the frame makes pkt_build refuse it). */
static size_t build_or_base(struct pkt_spec *s, const struct pkt_spec *base, uint8_t *buf,
			    size_t cap, struct pkt_layout *lo)
{
	if (pkt_layout(s, lo) == 0 && build(s, buf, cap))
		return lo->len;
	*s = *base;
	pkt_layout(s, lo);
	return build(s, buf, cap);
}

static size_t gen_vip(const struct mut_cfg *c, struct mut_rng *r, uint8_t *buf, size_t cap,
		      struct mut_result *res, int faults)
{
	struct pkt_spec s, base;
	struct pkt_layout lo;
	size_t len;
	int i, nraw = 0;

	base_spec(c, r, pick(r, c->vips, c->nvips), &base);
	s = base;
	for (i = 0; i < faults; i++) {
		if (mut_chance(r, 1, 2))
			spec_fault(r, &s, res);
		else
			nraw++;
	}
	len = build_or_base(&s, &base, buf, cap, &lo);
	for (i = 0; i < nraw; i++)
		len = raw_fault(r, buf, len, cap, &lo, c->lb_mac, res);
	return len;
}

static size_t gen_not_vip(const struct mut_cfg *c, struct mut_rng *r, uint8_t *buf, size_t cap,
			  struct mut_result *res)
{
	static const uint16_t ports[] = {80, 53, 443, 8080, 5000, 22, 0};
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_TCP, IPPROTO_UDP,
					 IPPROTO_ICMP};
	struct mut_dst d;
	struct pkt_spec s, base;
	struct pkt_layout lo;

	if (c->nothers && mut_chance(r, 1, 2)) {
		d = *pick(r, c->others, c->nothers);
		note(res, "other-address");
	} else {
		d = *pick(r, c->vips, c->nvips);
		note(res, "vip-address");
	}
	d.port = ports[mut_below(r, sizeof(ports) / sizeof(ports[0]))];
	if (!d.port)
		d.port = (uint16_t)mut_rnd(r);
	d.proto = protos[mut_below(r, sizeof(protos))];
	if (d.proto == IPPROTO_ICMP && d.family == XLB_AF_INET6)
		d.proto = IPPROTO_ICMPV6;
	base_spec(c, r, &d, &base);
	s = base;
	if (mut_chance(r, 1, 3))
		spec_fault(r, &s, res);
	return build_or_base(&s, &base, buf, cap, &lo);
}

static size_t gen_random(const struct mut_cfg *c, struct mut_rng *r, uint8_t *buf, size_t cap,
			 struct mut_result *res)
{
	size_t len = mut_chance(r, 1, 2) ? mut_below(r, 80) : mut_below(r, 700), off = 14;
	const struct mut_dst *d;

	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)mut_rnd(r);
	if (len < 14 || mut_chance(r, 1, 3))
		return len;
	memcpy(buf, c->lb_mac, 6);
	if (mut_chance(r, 1, 3))
		return len;
	while (off + 4 <= len && mut_chance(r, 1, 4)) { /* tags before the EtherType */
		put16(buf + off - 2, tpids[mut_below(r, 2)]);
		off += 4;
	}
	d = pick(r, c->vips, c->nvips);
	put16(buf + off - 2, d->family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6);
	/* Half of them to a VIP address: the bytes after it decide between pass and drop. */
	if (mut_chance(r, 1, 2)) {
		if (d->family == XLB_AF_INET && off + 20 <= len) {
			memcpy(buf + off + 16, &d->addr.v4, 4);
			if (mut_chance(r, 1, 2))
				buf[off] = 0x45;
			if (mut_chance(r, 1, 2))
				buf[off + 9] = d->proto;
		} else if (d->family == XLB_AF_INET6 && off + 40 <= len) {
			memcpy(buf + off + 24, d->addr.bytes, 16);
			if (mut_chance(r, 1, 2))
				buf[off] = 0x60;
			if (mut_chance(r, 1, 2))
				buf[off + 6] = d->proto;
		}
		note(res, "to-vip-address");
	}
	return len;
}

static size_t gen_flips(const struct mut_cfg *c, struct mut_rng *r, uint8_t *buf, size_t cap,
			struct mut_result *res)
{
	size_t len = gen_vip(c, r, buf, cap, res, 0);
	uint32_t n = 1 + mut_below(r, 6);

	for (uint32_t i = 0; i < n && len; i++) {
		size_t at = mut_chance(r, 3, 4) && len > 96 ? mut_below(r, 96)
							    : mut_below(r, (uint32_t)len);

		if (mut_chance(r, 1, 2))
			buf[at] ^= (uint8_t)(1u << mut_below(r, 8));
		else
			buf[at] = (uint8_t)mut_rnd(r);
		note(res, "@%zu", at);
	}
	return len;
}

size_t mut_frame(const struct mut_cfg *c, struct mut_rng *r, uint8_t *buf, size_t cap,
		 struct mut_result *res)
{
	uint32_t k = mut_below(r, 100);

	memset(res, 0, sizeof(*res));
	if (k < 35) {
		res->kind = MUT_VIP;
		return gen_vip(c, r, buf, cap, res, 0);
	}
	if (k < 70) {
		res->kind = MUT_VIP_BROKEN;
		return gen_vip(c, r, buf, cap, res, 1 + (int)mut_below(r, 3));
	}
	if (k < 85) {
		res->kind = MUT_NOT_VIP;
		return gen_not_vip(c, r, buf, cap, res);
	}
	if (k < 92) {
		res->kind = MUT_RANDOM;
		return gen_random(c, r, buf, cap, res);
	}
	res->kind = MUT_FLIPS;
	return gen_flips(c, r, buf, cap, res);
}
