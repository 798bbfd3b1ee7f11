/* test_pkt.c - unit tests of the test packet builder (tests/lib/pkt.c), checked byte by byte. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pkt.h"

/* Offsets and values below are written out from the RFCs, not taken from pkt.c, so that the
 * builder is checked against an independent reading of the formats. */
#define ETH 14
#define V4  20
#define V6  40

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

/* One's-complement sum done the slow way, one byte at a time, as RFC 1071 section 2(B) allows:
 * even bytes are high halves, odd bytes low halves. A region whose checksum is right sums to
 * 0xffff. */
static uint16_t naive_sum(const uint8_t *p, size_t n)
{
	uint32_t hi = 0, lo = 0, s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			hi += p[i];
		else
			lo += p[i];
	}
	s = (hi << 8) + lo;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The L4 checksum is right: a pseudo-header (RFC 793 / RFC 8200 8.1) is laid out in a scratch
 * buffer in front of a copy of the L4 bytes and the whole is summed. */
static bool naive_l4_ok(const uint8_t *f, size_t l3, size_t l4, size_t end, int family,
			uint8_t proto)
{
	static uint8_t tmp[40 + PKT_BUF_SIZE];
	size_t ph, n = end - l4;

	if (family == 4) {
		memcpy(tmp, f + l3 + 12, 8);
		tmp[8] = 0;
		tmp[9] = proto;
		tmp[10] = (uint8_t)(n >> 8);
		tmp[11] = (uint8_t)n;
		ph = 12;
	} else {
		memcpy(tmp, f + l3 + 8, 32);
		memset(tmp + 32, 0, 8);
		tmp[34] = (uint8_t)(n >> 8);
		tmp[35] = (uint8_t)n;
		tmp[39] = proto;
		ph = 40;
	}
	memcpy(tmp + ph, f + l4, n);
	return naive_sum(tmp, ph + n) == 0xffff;
}

static void test_ipv4_tcp_fields(void)
{
	static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t sip[4] = {192, 0, 2, 1}, dip[4] = {198, 51, 100, 1};
	uint8_t f[PKT_BUF_SIZE], mac[6];
	struct pkt_spec s;
	int len;

	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.ttl = 33;
	s.tcp_flags = PKT_TCP_ACK | PKT_TCP_FIN;
	s.payload_len = 10;
	len = pkt_build(&s, f, sizeof(f));
	if (!ASSERT_EQ(len, ETH + V4 + 20 + 10, "len"))
		return;
	ASSERT_MEM_EQ(f, dmac, 6, "dst mac");
	ASSERT_MEM_EQ(f + 6, smac, 6, "src mac");
	ASSERT_EQ(rd16(f + 12), 0x0800, "ethertype");
	ASSERT_EQ(f[14], 0x45, "version/ihl");
	ASSERT_EQ(rd16(f + 16), V4 + 20 + 10, "tot_len");
	ASSERT_EQ(rd16(f + 18), PKT_IP_ID, "id");
	ASSERT_EQ(rd16(f + 20), 0, "frag_off");
	ASSERT_EQ(f[22], 33, "ttl");
	ASSERT_EQ(f[23], IPPROTO_TCP, "protocol");
	ASSERT_MEM_EQ(f + 26, sip, 4, "saddr");
	ASSERT_MEM_EQ(f + 30, dip, 4, "daddr");
	ASSERT_EQ(rd16(f + 34), 40000, "sport");
	ASSERT_EQ(rd16(f + 36), 80, "dport");
	ASSERT_EQ(rd32(f + 38), PKT_TCP_SEQ, "seq");
	ASSERT_EQ(rd32(f + 42), PKT_TCP_ACK_SEQ, "ack_seq");
	ASSERT_EQ(f[46], 0x50, "doff");
	ASSERT_EQ(f[47], 0x11, "flags");
	ASSERT_MEM_EQ(f + 54, "abcdefghij", 10, "payload");
	ASSERT_EQ(naive_sum(f + 14, V4), 0xffff, "ip checksum");
	ASSERT_TRUE(naive_l4_ok(f, 14, 34, (size_t)len, 4, IPPROTO_TCP), "tcp checksum");
	ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "pkt_checksum_ok");

	ASSERT_OK(pkt_dst_mac(f, (size_t)len, mac), "pkt_dst_mac");
	ASSERT_MEM_EQ(mac, dmac, 6, "pkt_dst_mac value");
	ASSERT_OK(pkt_src_mac(f, (size_t)len, mac), "pkt_src_mac");
	ASSERT_MEM_EQ(mac, smac, 6, "pkt_src_mac value");
	ASSERT_EQ(pkt_dst_mac(f, 13, mac), -EINVAL, "pkt_dst_mac short");
}

static void test_ipv6_udp_fields(void)
{
	static const uint8_t sip[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t dip[16] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 1};
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	int len;

	pkt_spec_init(&s, 6, IPPROTO_UDP);
	s.sport = 5353;
	s.dport = 53;
	s.payload_len = 7; /* odd: the checksum pads the last byte */
	len = pkt_build(&s, f, sizeof(f));
	if (!ASSERT_EQ(len, ETH + V6 + 8 + 7, "len"))
		return;
	ASSERT_EQ(rd16(f + 12), 0x86dd, "ethertype");
	ASSERT_EQ(rd32(f + 14), 0x60000000, "version/class/flow");
	ASSERT_EQ(rd16(f + 18), 8 + 7, "payload_len");
	ASSERT_EQ(f[20], IPPROTO_UDP, "nexthdr");
	ASSERT_EQ(f[21], 64, "hop_limit");
	ASSERT_MEM_EQ(f + 22, sip, 16, "saddr");
	ASSERT_MEM_EQ(f + 38, dip, 16, "daddr");
	ASSERT_EQ(rd16(f + 54), 5353, "sport");
	ASSERT_EQ(rd16(f + 56), 53, "dport");
	ASSERT_EQ(rd16(f + 58), 8 + 7, "udp len");
	ASSERT_NEQ(rd16(f + 60), 0, "udp checksum present");
	ASSERT_TRUE(naive_l4_ok(f, 14, 54, (size_t)len, 6, IPPROTO_UDP), "udp checksum");
	ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "pkt_checksum_ok");
}

static void test_icmp_echo(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	int fam, len;

	for (fam = 4; fam <= 6; fam += 2) {
		size_t l4 = ETH + (fam == 4 ? V4 : V6);
		uint8_t proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

		pkt_spec_init(&s, (uint8_t)fam, proto);
		s.sport = 7;
		s.dport = 9;
		s.payload_len = 3;
		len = pkt_build(&s, f, sizeof(f));
		if (!ASSERT_EQ(len, (int)l4 + 8 + 3, "len"))
			return;
		ASSERT_EQ(f[l4], fam == 4 ? 8 : 128, "echo request type");
		ASSERT_EQ(rd16(f + l4 + 4), 7, "id");
		ASSERT_EQ(rd16(f + l4 + 6), 9, "sequence");
		if (fam == 4) /* ICMPv4 has no pseudo-header */
			ASSERT_EQ(naive_sum(f + l4, 8 + 3), 0xffff, "icmp checksum");
		else
			ASSERT_TRUE(naive_l4_ok(f, 14, l4, (size_t)len, 6, proto), "icmpv6 csum");
		ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "pkt_checksum_ok");
	}
}

/* 0, 1 and 2 tags shift L3 by 4 bytes each; the EtherType follows the last tag. */
static void test_vlan_tags(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_layout lo;
	struct pkt_spec s;
	int n, fam, len;

	for (fam = 4; fam <= 6; fam += 2) {
		for (n = 0; n <= 2; n++) {
			size_t l3 = ETH + 4 * (size_t)n;

			if (!xt_row("ipv%d, %d tags", fam, n))
				continue;
			pkt_spec_init(&s, (uint8_t)fam, IPPROTO_TCP);
			s.n_vlan = (uint8_t)n;
			s.vlan[0] = (struct pkt_vlan){.tpid = n == 2 ? 0x88a8 : 0, .vid = 100};
			s.vlan[1] = (struct pkt_vlan){.tpid = 0x8100, .vid = 4095};
			len = pkt_build(&s, f, sizeof(f));
			if (!ASSERT_EQ(len, (int)l3 + (fam == 4 ? V4 : V6) + 20, "len"))
				return;
			if (n >= 1) {
				ASSERT_EQ(rd16(f + 12), n == 2 ? 0x88a8 : 0x8100, "outer tpid");
				ASSERT_EQ(rd16(f + 14), 100, "outer tci");
			}
			if (n == 2) {
				ASSERT_EQ(rd16(f + 16), 0x8100, "inner tpid");
				ASSERT_EQ(rd16(f + 18), 4095, "inner tci");
			}
			ASSERT_EQ(rd16(f + l3 - 2), fam == 4 ? 0x0800 : 0x86dd, "ethertype");
			ASSERT_EQ(f[l3] >> 4, fam, "version at l3");
			ASSERT_OK(pkt_parse(f, (size_t)len, &lo), "parse");
			ASSERT_EQ(lo.n_vlan, n, "parsed vlans");
			ASSERT_EQ(lo.l3_off, l3, "parsed l3_off");
			ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "checksums");
		}
	}
}

/* IHL grows by one per 4 option bytes, options are NOPs and a final EOL, and neither checksum
 * breaks (the pseudo-header does not cover options). */
static void test_ipv4_options(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	size_t i, l4;
	int opts, len;

	pkt_spec_init(&s, 4, IPPROTO_TCP); /* for the checks after the rows, whichever ran */
	for (opts = 0; opts <= 40; opts += 4) {
		if (!xt_row("%d option bytes", opts))
			continue;
		pkt_spec_init(&s, 4, IPPROTO_TCP);
		s.ip4_opts_len = (uint8_t)opts;
		s.payload_len = 5;
		l4 = ETH + V4 + (size_t)opts;
		len = pkt_build(&s, f, sizeof(f));
		if (!ASSERT_EQ(len, (int)l4 + 20 + 5, "len"))
			return;
		ASSERT_EQ(f[14], 0x40 | (5 + opts / 4), "version/ihl");
		ASSERT_EQ(rd16(f + 16), V4 + opts + 20 + 5, "tot_len");
		for (i = 0; opts && i < (size_t)opts - 1; i++)
			ASSERT_EQ(f[ETH + V4 + i], 1, "NOP option");
		if (opts)
			ASSERT_EQ(f[l4 - 1], 0, "EOL option");
		ASSERT_EQ(rd16(f + l4), 40000, "sport after options");
		ASSERT_EQ(naive_sum(f + 14, V4 + (size_t)opts), 0xffff, "ip checksum");
		ASSERT_TRUE(naive_l4_ok(f, 14, l4, (size_t)len, 4, IPPROTO_TCP), "tcp checksum");
		ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "pkt_checksum_ok");
	}
	xt_row_end();
	s.ip4_opts_len = 2;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "options not a multiple of 4");
	s.ip4_opts_len = 44;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "options over 40");
}

/* The next-header chain runs IPv6 -> each extension header -> TCP; lengths follow Hdr Ext Len;
 * payload_len counts the extension headers; the TCP checksum still uses the IPv6 addresses. */
static void test_ipv6_ext_headers(void)
{
	static const struct pkt_ext exts[] = {
		{.type = 0, .hlen = 0},	 {.type = 43, .hlen = 2},  {.type = 60, .hlen = 1},
		{.type = 44, .hlen = 9}, {.type = 60, .hlen = 40},
	};
	uint8_t f[PKT_BUF_SIZE], nh = 0;
	struct pkt_layout lo;
	struct pkt_spec s;
	size_t off, i, n;
	int len;

	pkt_spec_init(&s, 6, IPPROTO_TCP); /* for the check after the rows, whichever ran */
	for (n = 0; n <= 5; n++) {
		if (!xt_row("%zu extension headers", n))
			continue;
		pkt_spec_init(&s, 6, IPPROTO_TCP);
		s.n_ext = (uint8_t)n;
		memcpy(s.ext, exts, n * sizeof(exts[0]));
		s.payload_len = 9;
		len = pkt_build(&s, f, sizeof(f));
		if (!ASSERT_TRUE(len > 0, "build"))
			return;
		off = ETH + V6;
		nh = f[20];
		for (i = 0; i < n; i++) {
			ASSERT_EQ(nh, exts[i].type, "next header chain");
			if (exts[i].type == 44) {
				ASSERT_EQ(f[off + 1], 0, "fragment reserved");
				ASSERT_EQ(rd16(f + off + 2), 0, "fragment offset/M");
				ASSERT_EQ(rd32(f + off + 4), PKT_IP_ID, "fragment id");
				nh = f[off];
				off += 8;
				continue;
			}
			ASSERT_EQ(f[off + 1], exts[i].hlen, "hdr ext len");
			if (exts[i].type == 43)
				ASSERT_EQ(f[off + 3], 0, "segments left");
			if (exts[i].type != 43 && exts[i].hlen == 0) {
				ASSERT_EQ(f[off + 2], 1, "PadN");
				ASSERT_EQ(f[off + 3], 4, "PadN length");
			}
			nh = f[off];
			off += ((size_t)exts[i].hlen + 1) * 8;
		}
		ASSERT_EQ(nh, IPPROTO_TCP, "last next header");
		ASSERT_EQ(rd16(f + off), 40000, "sport after extension headers");
		ASSERT_EQ(len, (int)off + 20 + 9, "len");
		ASSERT_EQ(rd16(f + 18), (size_t)len - ETH - V6, "payload_len");
		ASSERT_TRUE(naive_l4_ok(f, 14, off, (size_t)len, 6, IPPROTO_TCP), "tcp checksum");
		ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "pkt_checksum_ok");
		ASSERT_OK(pkt_parse(f, (size_t)len, &lo), "parse");
		ASSERT_EQ(lo.n_ext, n, "parsed n_ext");
		ASSERT_EQ(lo.l4_off, off, "parsed l4_off");
	}
	xt_row_end();
	s.n_ext = 1;
	s.ext[0].type = 6;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "unknown extension header");
}

/* Option headers longer than 8 bytes are padding Linux accepts: every TLV is well formed and
 * no PadN run exceeds 7 bytes. */
static void test_ipv6_long_options(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	size_t off, end, pad, max_pad;
	int hlen;

	/* Bytes the builder forgot to write would read as 0xa5, an invalid option type. */
	memset(f, 0xa5, sizeof(f));

	for (hlen = 0; hlen <= 255; hlen++) {
		pkt_spec_init(&s, 6, IPPROTO_UDP);
		s.n_ext = 1;
		s.ext[0] = (struct pkt_ext){.type = 0, .hlen = (uint8_t)hlen};
		if (!ASSERT_TRUE(pkt_build(&s, f, sizeof(f)) > 0, "build"))
			return;
		off = ETH + V6 + 2;
		end = ETH + V6 + ((size_t)hlen + 1) * 8;
		pad = max_pad = 0;
		while (off < end) {
			if (f[off] == 0) { /* Pad1 */
				pad++;
				off++;
			} else if (ASSERT_TRUE(f[off] == 1 || f[off] == 0x1e, "option type")) {
				pad = f[off] == 1 ? pad + 2 + f[off + 1] : 0;
				off += 2 + (size_t)f[off + 1];
			} else {
				return;
			}
			if (pad > max_pad)
				max_pad = pad;
		}
		ASSERT_EQ(off, end, "options fill the header exactly");
		ASSERT_LE(max_pad, 7, "longest padding run");
	}
}

/* One frame checked against checksum bytes worked out once with python3 (struct + a 16-bit
 * one's-complement sum): 192.0.2.1:40000 -> 198.51.100.1:80, DF, TTL 64, id 0x1234,
 * seq 1000 ack 2000, PSH|ACK, window 64240, payload "abcde". */
static void test_known_checksums(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	int len;

	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.df = true;
	s.tcp_flags = PKT_TCP_PSH | PKT_TCP_ACK;
	s.payload = (const uint8_t *)"abcde";
	s.payload_len = 5;
	len = pkt_build(&s, f, sizeof(f));
	if (!ASSERT_EQ(len, 14 + 20 + 20 + 5, "len"))
		return;
	ASSERT_EQ(rd16(f + 20), 0x4000, "DF");
	ASSERT_EQ(f[24], 0x3c, "ip check hi");
	ASSERT_EQ(f[25], 0x61, "ip check lo");
	ASSERT_EQ(f[50], 0xf6, "tcp check hi");
	ASSERT_EQ(f[51], 0x90, "tcp check lo");
}

/* A matrix of shapes: every frame has both checksums right by the naive sums, and the layout
 * predicted from the spec equals the one parsed from the bytes. */
static void test_checksum_matrix(void)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};
	static const uint16_t payloads[] = {0, 1, 2, 63, 1400};
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_layout want, got;
	struct pkt_spec s;
	size_t p, q, l3, l4;
	int fam, v, x, len;

	for (fam = 4; fam <= 6; fam += 2)
		for (p = 0; p < sizeof(protos); p++)
			for (q = 0; q < sizeof(payloads) / sizeof(payloads[0]); q++)
				for (v = 0; v <= 2; v++)
					for (x = 0; x <= 2; x++) {
						pkt_spec_init(&s, (uint8_t)fam, protos[p]);
						pkt_spec_flow(&s, (uint32_t)(q * 977 + (size_t)x));
						s.n_vlan = (uint8_t)v;
						s.payload_len = payloads[q];
						if (fam == 4) {
							s.ip4_opts_len = (uint8_t)(x * 12);
						} else {
							s.n_ext = (uint8_t)x;
							s.ext[0].type = 60;
							s.ext[1] = (struct pkt_ext){43, 3};
						}
						len = pkt_build(&s, f, sizeof(f));
						if (!ASSERT_TRUE(len > 0, "build"))
							return;
						ASSERT_OK(pkt_layout(&s, &want), "layout");
						ASSERT_OK(pkt_parse(f, (size_t)len, &got), "parse");
						ASSERT_EQ(got.l3_off, want.l3_off, "l3_off");
						ASSERT_EQ(got.l4_off, want.l4_off, "l4_off");
						ASSERT_EQ(got.payload_off, want.payload_off,
							  "payload");
						ASSERT_EQ(got.l3_end, (size_t)len, "l3_end");
						ASSERT_EQ(want.len, (size_t)len, "layout len");
						l3 = want.l3_off;
						l4 = want.l4_off;
						if (fam == 4)
							ASSERT_EQ(naive_sum(f + l3, l4 - l3),
								  0xffff, "ip checksum");
						ASSERT_TRUE(naive_l4_ok(f, l3, l4, (size_t)len, fam,
									protos[p]),
							    "l4 checksum");
						ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "ok");
					}
}

/* pkt_checksum_ok notices a flipped payload byte, a flipped address and a changed TTL. */
static void test_checksum_detects_damage(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	int fam, len;

	for (fam = 4; fam <= 6; fam += 2) {
		pkt_spec_init(&s, (uint8_t)fam, IPPROTO_TCP);
		s.payload_len = 20;
		len = pkt_build(&s, f, sizeof(f));
		if (!ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "intact"))
			return;
		f[len - 3] ^= 0x01;
		ASSERT_TRUE(!pkt_checksum_ok(f, (size_t)len), "payload byte flipped");
		f[len - 3] ^= 0x01;
		f[fam == 4 ? 33 : 53] ^= 0x80; /* last byte of the destination address */
		ASSERT_TRUE(!pkt_checksum_ok(f, (size_t)len), "address flipped");
		f[fam == 4 ? 33 : 53] ^= 0x80;
		f[fam == 4 ? 22 : 21]--;
		ASSERT_EQ(pkt_checksum_ok(f, (size_t)len), fam == 6, "ttl (not covered in IPv6)");
	}

	/* UDP checksum 0: "none" over IPv4, invalid over IPv6. */
	for (fam = 4; fam <= 6; fam += 2) {
		size_t c = ETH + (fam == 4 ? V4 : V6) + 6;

		pkt_spec_init(&s, (uint8_t)fam, IPPROTO_UDP);
		len = pkt_build(&s, f, sizeof(f));
		f[c] = f[c + 1] = 0;
		ASSERT_EQ(pkt_checksum_ok(f, (size_t)len), fam == 4, "udp checksum 0");
	}
}

/* Every cut of a frame short of its end fails to parse and fails the checksum check; layout
 * offsets give the boundaries a table can cut at. */
static void test_truncation(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_layout lo = {0};
	struct pkt_spec s;
	size_t cut;
	int len;

	pkt_spec_init(&s, 6, IPPROTO_TCP);
	s.n_vlan = 1;
	s.n_ext = 2;
	s.ext[0].type = 0;
	s.ext[1].type = 60;
	s.payload_len = 4;
	len = pkt_build(&s, f, sizeof(f));
	if (!ASSERT_OK(pkt_layout(&s, &lo), "layout"))
		return;
	ASSERT_EQ(lo.l3_off, 18, "l3_off");
	ASSERT_EQ(lo.ext_off[0], 58, "ext 0");
	ASSERT_EQ(lo.ext_off[1], 66, "ext 1");
	ASSERT_EQ(lo.ext_off[2], (size_t)len, "no ext 2");
	ASSERT_EQ(lo.l4_off, 74, "l4_off");
	ASSERT_EQ(lo.payload_off, 94, "payload_off");
	ASSERT_EQ(lo.len, (size_t)len, "len");
	for (cut = 0; cut < (size_t)len; cut++) {
		struct pkt_layout p;

		if (!ASSERT_EQ(pkt_parse(f, cut, &p), -EINVAL, "parse of a cut frame"))
			fprintf(stderr, "    cut at %zu\n", cut);
		ASSERT_TRUE(!pkt_checksum_ok(f, cut), "checksum of a cut frame");
	}
}

/* Each override lands in its field, the IPv4 header checksum still covers what was written,
 * and the parser refuses the result. */
static void test_overrides(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_layout lo;
	struct pkt_spec s;
	int len;

	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.ovr = (struct pkt_override){.set = PKT_O_IHL, .ihl = 4};
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(f[14], 0x44, "ihl 4");
	ASSERT_EQ(naive_sum(f + 14, V4), 0xffff, "ip checksum over the written header");
	ASSERT_EQ(pkt_parse(f, (size_t)len, &lo), -EINVAL, "parse ihl 4");

	s.ovr = (struct pkt_override){.set = PKT_O_IHL, .ihl = 15};
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(f[14], 0x4f, "ihl 15");
	ASSERT_EQ(pkt_parse(f, (size_t)len, &lo), -EINVAL, "parse ihl 15 beyond the frame");

	s.ovr = (struct pkt_override){.set = PKT_O_TOT_LEN, .tot_len = 1000};
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(rd16(f + 16), 1000, "tot_len");
	ASSERT_EQ(naive_sum(f + 14, V4), 0xffff, "ip checksum with tot_len");
	ASSERT_TRUE(naive_l4_ok(f, 14, 34, (size_t)len, 4, IPPROTO_TCP), "tcp over real length");
	ASSERT_EQ(pkt_parse(f, (size_t)len, &lo), -EINVAL, "parse tot_len");

	s.ovr = (struct pkt_override){.set = PKT_O_VERSION | PKT_O_DOFF, .version = 6, .doff = 4};
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(f[14], 0x65, "version 6 in an IPv4 frame");
	ASSERT_EQ(f[46], 0x40, "doff 4");
	ASSERT_EQ(pkt_parse(f, (size_t)len, &lo), -EINVAL, "parse version/doff");

	s.ovr = (struct pkt_override){.set = PKT_O_ETHERTYPE, .ethertype = 0x0806};
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(rd16(f + 12), 0x0806, "ethertype");
	ASSERT_EQ(pkt_parse(f, (size_t)len, &lo), -EINVAL, "not IP");
	ASSERT_EQ(lo.family, 0, "family of ARP");

	s.ovr = (struct pkt_override){.set = PKT_O_PAYLOAD_LEN};
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "payload_len on IPv4");
	s.proto = IPPROTO_UDP;
	s.ovr = (struct pkt_override){.set = PKT_O_DOFF, .doff = 5};
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "doff on UDP");

	pkt_spec_init(&s, 6, IPPROTO_TCP);
	s.ovr = (struct pkt_override){.set = PKT_O_PAYLOAD_LEN, .payload_len = 19};
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(rd16(f + 18), 19, "payload_len");
	ASSERT_TRUE(naive_l4_ok(f, 14, 54, (size_t)len, 6, IPPROTO_TCP), "tcp over real length");
	ASSERT_EQ(pkt_parse(f, (size_t)len, &lo), -EINVAL, "parse payload_len");
	s.ovr = (struct pkt_override){.set = PKT_O_IHL};
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "ihl on IPv6");
}

/* MF and offsets in the IPv4 header and the IPv6 fragment header; a non-first fragment has no
 * L4 header. */
static void test_fragments(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_layout lo;
	struct pkt_spec s;
	int len;

	pkt_spec_init(&s, 4, IPPROTO_UDP);
	s.mf = true;
	s.payload_len = 16;
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(rd16(f + 20), 0x2000, "first fragment: MF");
	ASSERT_EQ(rd16(f + 34), 40000, "first fragment has ports");
	ASSERT_OK(pkt_parse(f, (size_t)len, &lo), "parse first");
	ASSERT_TRUE(lo.frag && lo.l4_hdr, "first fragment layout");

	s.mf = false;
	s.frag_off = 185; /* 1480 bytes */
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(len, ETH + V4 + 16, "last fragment: no UDP header");
	ASSERT_EQ(rd16(f + 20), 185, "offset");
	ASSERT_EQ(naive_sum(f + 14, V4), 0xffff, "ip checksum");
	ASSERT_OK(pkt_parse(f, (size_t)len, &lo), "parse last");
	ASSERT_TRUE(lo.frag && !lo.l4_hdr && lo.payload_off == ETH + V4, "last fragment layout");
	ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "ip checksum of a fragment");

	pkt_spec_init(&s, 6, IPPROTO_TCP);
	s.n_ext = 2;
	s.ext[0].type = 0;
	s.ext[1].type = 44;
	s.mf = true;
	s.frag_off = 3;
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(len, ETH + V6 + 8 + 8, "non-first IPv6 fragment: no TCP header");
	ASSERT_EQ(f[ETH + V6 + 8], IPPROTO_TCP, "fragment next header");
	ASSERT_EQ(rd16(f + ETH + V6 + 10), 3 << 3 | 1, "offset and M");
	ASSERT_OK(pkt_parse(f, (size_t)len, &lo), "parse ipv6 fragment");
	ASSERT_TRUE(lo.frag && !lo.l4_hdr && lo.proto == IPPROTO_TCP, "ipv6 fragment layout");

	s.n_ext = 0;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "IPv6 offset without a fragment header");
	s.n_ext = 2;
	s.ext[0].type = 44;
	s.ext[1].type = 60;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "headers after a non-first fragment");
}

static void test_bad_specs(void)
{
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;

	pkt_spec_init(&s, 4, IPPROTO_TCP);
	ASSERT_EQ(pkt_build(&s, f, 53), -ENOSPC, "one byte short");
	ASSERT_EQ(pkt_build(&s, f, 54), 54, "exact fit");
	s.n_vlan = 3;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "three tags");
	s.n_vlan = 1;
	s.vlan[0].vid = 4096;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "vid 4096");
	s.vlan[0] = (struct pkt_vlan){.tpid = 0x0800, .vid = 1};
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "tpid 0x0800");
	pkt_spec_init(&s, 5, IPPROTO_TCP);
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "family 5");
	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.n_ext = 1;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "extension header on IPv4");
	pkt_spec_init(&s, 6, IPPROTO_TCP);
	s.ip4_opts_len = 4;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "IPv4 options on IPv6");
	pkt_spec_init(&s, 4, IPPROTO_UDP);
	s.payload_len = 65535 - 28 + 1;
	ASSERT_EQ(pkt_build(&s, f, sizeof(f)), -EINVAL, "tot_len over 65535");
}

/* Other protocols carry the payload right after L3; a given payload is copied verbatim. */
static void test_other_proto_payload(void)
{
	static const uint8_t data[] = {0xde, 0xad, 0xbe, 0xef};
	uint8_t f[PKT_BUF_SIZE];
	struct pkt_spec s;
	int len;

	pkt_spec_init(&s, 4, IPPROTO_GRE);
	s.payload = data;
	s.payload_len = sizeof(data);
	len = pkt_build(&s, f, sizeof(f));
	ASSERT_EQ(len, ETH + V4 + 4, "len");
	ASSERT_EQ(f[23], IPPROTO_GRE, "protocol");
	ASSERT_MEM_EQ(f + ETH + V4, data, 4, "payload");
	ASSERT_TRUE(pkt_checksum_ok(f, (size_t)len), "ip checksum");
}

/* Flows are distinct and reproducible, and stay in the base address's /8 (IPv4). */
static void test_flows(void)
{
	static struct {
		uint32_t a;
		uint16_t port;
	} seen[4096];
	struct pkt_spec base, s, t;
	size_t i, j;
	int fam, dup = 0;

	for (fam = 4; fam <= 6; fam += 2) {
		pkt_spec_init(&base, (uint8_t)fam, IPPROTO_TCP);
		for (i = 0; i < 4096; i++) {
			s = base;
			t = base;
			pkt_spec_flow(&s, (uint32_t)i * 4093);
			pkt_spec_flow(&t, (uint32_t)i * 4093);
			ASSERT_MEM_EQ(&s, &t, sizeof(s), "deterministic");
			seen[i].a = fam == 4 ? s.src.v4 : s.src.v6[3];
			seen[i].port = s.sport;
			if (fam == 4)
				ASSERT_EQ(s.src.bytes[0], 192, "first octet kept");
			else
				ASSERT_MEM_EQ(s.src.bytes, base.src.bytes, 12, "prefix kept");
			ASSERT_MEM_EQ(&s.dst, &base.dst, sizeof(s.dst), "destination kept");
		}
		for (i = 0; i < 4096; i++)
			for (j = i + 1; j < 4096; j++)
				dup += seen[i].a == seen[j].a && seen[i].port == seen[j].port;
		ASSERT_EQ(dup, 0, "duplicate flows");
	}
}

/* pkt_same names the differing fields by layer; stderr is captured to read what it printed. */
static void test_same_reports_fields(void)
{
	uint8_t a[PKT_BUF_SIZE], b[PKT_BUF_SIZE];
	char out[4096] = "";
	struct pkt_spec s;
	FILE *tmp;
	int len, saved;
	size_t n;

	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.n_vlan = 1;
	s.payload_len = 40;
	len = pkt_build(&s, a, sizeof(a));
	memcpy(b, a, (size_t)len);
	if (!ASSERT_TRUE(pkt_same(a, (size_t)len, b, (size_t)len, "same"), "identical"))
		return;
	b[0] ^= 1;	/* ethernet dst */
	b[35] ^= 1;	/* ipv4 daddr (l3 at 18) */
	b[38 + 3] ^= 1; /* tcp dest */
	b[58 + 20] ^= 1;

	tmp = tmpfile();
	if (!tmp) {
		ASSERT_OK(-errno, "tmpfile");
		return;
	}
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	ASSERT_TRUE(!pkt_same(a, (size_t)len, b, (size_t)len - 1, "cmp"), "different");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	ASSERT_HAS_SUBSTR(out, "got 98 bytes, want 97", "lengths");
	ASSERT_HAS_SUBSTR(out, "4 of the first 97 differ", "count");
	ASSERT_HAS_SUBSTR(out, "@0 ethernet dst", "ethernet dst named");
	ASSERT_HAS_SUBSTR(out, "@34 ipv4 daddr: got 198.51.100.1, want 198.50.100.1",
			  "ipv4 daddr named, dotted");
	ASSERT_HAS_SUBSTR(out, "@40 tcp dest: got 0x0050 (80), want 0x0051 (81)",
			  "tcp dest named with values");
	ASSERT_HAS_SUBSTR(out, "@74 payload +16", "payload named");
	if (xt_test_failures)
		fprintf(stderr, "%s", out);
}

int main(void)
{
	RUN_TEST(test_ipv4_tcp_fields);
	RUN_TEST(test_ipv6_udp_fields);
	RUN_TEST(test_icmp_echo);
	RUN_TEST(test_vlan_tags);
	RUN_TEST(test_ipv4_options);
	RUN_TEST(test_ipv6_ext_headers);
	RUN_TEST(test_ipv6_long_options);
	RUN_TEST(test_known_checksums);
	RUN_TEST(test_checksum_matrix);
	RUN_TEST(test_checksum_detects_damage);
	RUN_TEST(test_truncation);
	RUN_TEST(test_overrides);
	RUN_TEST(test_fragments);
	RUN_TEST(test_bad_specs);
	RUN_TEST(test_other_proto_payload);
	RUN_TEST(test_flows);
	RUN_TEST(test_same_reports_fields);
	return xt_finish();
}
