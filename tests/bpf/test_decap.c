/* test_decap.c - the backend's decapsulating XDP program on crafted frames (BPF_PROG_TEST_RUN). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "encap.h"
#include "xlb_decap_abi.h"
#include "xlb_decap.skel.h"

/*
 * Each case: an inner packet (pkt_spec_init's TCP or UDP to 198.51.100.1 or 2001:db8:100::1,
 * the VIPs configured here) in an outer header (pkt_encap_init's, then a few changes), or a
 * plain frame. A decapsulated frame must be exactly pkt_build(inner): the same MACs and VLAN
 * tags, the inner EtherType, the inner packet. A passed frame must come out byte for byte as it
 * went in. Every frame moves exactly one counter, the case's, by one (docs/backend.md).
 */

static struct xlb_decap_bpf *skel;
static int nr_cpus;

enum inner_dst { DST_VIP, DST_OTHER };

struct dcase {
	const char *desc;
	__u8 inner_family, proto, outer_family; /* outer_family 0: a plain (not tunnelled) frame */
	enum inner_dst dst;
	__u8 n_vlan;
	__u16 tpid[2];
	__u16 payload_len;
	struct pkt_override inner_ovr;
	__u8 inner_opts_len; /* inner IPv4 option bytes */
	bool inner_hopopts;  /* inner IPv6 hop-by-hop header */
	/* outer header changes (struct pkt_encap) */
	__u8 outer_proto, ip4_opts_len, n_ext, ext[PKT_ENCAP_MAX_EXTS], segments_left, ihl;
	bool mf;
	__u16 frag_off;
	int tot_delta;
	int pad; /* zero bytes after the outer datagram (Ethernet padding) */
	enum xlb_decap_counter c;
};

#define D4IN4	.c = XLB_DC_DECAP_4IN4
#define D6IN6	.c = XLB_DC_DECAP_6IN6
#define D4IN6	.c = XLB_DC_DECAP_4IN6
#define PASS(r) .c = XLB_DC_PASS_##r

static const struct dcase cases[] = {
	{"ipv4 in ipv4, tcp syn", 4, IPPROTO_TCP, 4, D4IN4},
	{"ipv4 in ipv4, udp", 4, IPPROTO_UDP, 4, .payload_len = 100, D4IN4},
	{"ipv4 in ipv4, tcp with 1400 bytes", 4, IPPROTO_TCP, 4, .payload_len = 1400, D4IN4},
	{"ipv6 in ipv6, tcp syn", 6, IPPROTO_TCP, 6, D6IN6},
	{"ipv6 in ipv6, udp", 6, IPPROTO_UDP, 6, .payload_len = 512, D6IN6},
	{"ipv4 in ipv6, tcp syn", 4, IPPROTO_TCP, 6, D4IN6},
	{"ipv4 in ipv6, udp", 4, IPPROTO_UDP, 6, .payload_len = 64, D4IN6},
	{"ipv4 in ipv4, icmp to the vip", 4, IPPROTO_ICMP, 4, D4IN4},
	{"ipv4 in ipv4 behind an 802.1q tag: tag kept", 4, IPPROTO_TCP, 4, .n_vlan = 1,
	 .tpid = {0x8100}, D4IN4},
	{"ipv4 in ipv6 behind 802.1ad + 802.1q: tags kept", 4, IPPROTO_TCP, 6, .n_vlan = 2,
	 .tpid = {0x88a8, 0x8100}, D4IN6},
	{"ipv6 in ipv6 behind 802.1q + 802.1q", 6, IPPROTO_UDP, 6, .n_vlan = 2,
	 .tpid = {0x8100, 0x8100}, D6IN6},
	{"ipv4 in ipv4, outer options ihl 6", 4, IPPROTO_TCP, 4, .ip4_opts_len = 4, D4IN4},
	{"ipv4 in ipv4, outer options ihl 15", 4, IPPROTO_UDP, 4, .ip4_opts_len = 40, D4IN4},
	{"ipv4 in ipv4, inner ihl 6", 4, IPPROTO_TCP, 4, .inner_opts_len = 4, D4IN4},
	{"ipv4 in ipv4, ethernet padding after the outer datagram: kept", 4, IPPROTO_TCP, 4,
	 .pad = 6, D4IN4},
	{"ipv6 in ipv6, outer destination options (encapsulation limit)", 6, IPPROTO_TCP, 6,
	 .n_ext = 1, .ext = {60}, D6IN6},
	{"ipv4 in ipv6, hop-by-hop, routing (segments left 0), dstopts", 4, IPPROTO_TCP, 6,
	 .n_ext = 3, .ext = {0, 43, 60}, D4IN6},
	{"ipv6 in ipv6, four outer extension headers", 6, IPPROTO_TCP, 6, .n_ext = 4,
	 .ext = {0, 60, 43, 60}, D6IN6},

	/* Not ours: passed untouched. */
	{"plain ipv4 tcp to the vip", 4, IPPROTO_TCP, 0, PASS(NOT_TUNNEL)},
	{"plain ipv6 udp to the vip", 6, IPPROTO_UDP, 0, PASS(NOT_TUNNEL)},
	{"plain ipv4 icmp to the vip", 4, IPPROTO_ICMP, 0, PASS(NOT_TUNNEL)},
	{"plain ipv6 with hop-by-hop", 6, IPPROTO_ICMPV6, 0, .inner_hopopts = true,
	 PASS(NOT_TUNNEL)},
	{"arp", 4, IPPROTO_TCP, 0, .inner_ovr = {.set = PKT_O_ETHERTYPE, .ethertype = ETH_P_ARP},
	 PASS(NOT_IP)},
	{"three vlan tags", 4, IPPROTO_TCP, 0, .n_vlan = 2, .tpid = {0x8100, 0x8100},
	 .inner_ovr = {.set = PKT_O_ETHERTYPE, .ethertype = 0x8100}, PASS(NOT_IP)},
	{"ipv6 in ipv4 (6in4): not one of ours", 6, IPPROTO_TCP, 4, PASS(NOT_TUNNEL)},
	{"ipv4 in ipv4 to another inner address", 4, IPPROTO_TCP, 4, DST_OTHER, PASS(NOT_VIP)},
	{"ipv6 in ipv6 to another inner address", 6, IPPROTO_UDP, 6, DST_OTHER, PASS(NOT_VIP)},
	{"ipv4 in ipv6 to another inner address", 4, IPPROTO_UDP, 6, DST_OTHER, PASS(NOT_VIP)},
	{"gre over ipv4 (protocol 47)", 4, IPPROTO_TCP, 4, .outer_proto = 47, PASS(NOT_TUNNEL)},
	{"udp over ipv6 with destination options", 4, IPPROTO_TCP, 6, .outer_proto = 17, .n_ext = 1,
	 .ext = {60}, PASS(NOT_TUNNEL)},

	/* Fragments: only the kernel reassembles (docs/backend.md). */
	{"ipv4 outer more-fragments", 4, IPPROTO_TCP, 4, .mf = true, PASS(FRAGMENT)},
	{"ipv4 outer non-first fragment", 4, IPPROTO_TCP, 4, .frag_off = 100, PASS(FRAGMENT)},
	{"ipv6 outer fragment header", 6, IPPROTO_TCP, 6, .n_ext = 1, .ext = {44}, .mf = true,
	 PASS(FRAGMENT)},
	{"ipv6 outer atomic fragment", 4, IPPROTO_TCP, 6, .n_ext = 1, .ext = {44}, PASS(FRAGMENT)},
	{"ipv6 outer fragment after dstopts", 6, IPPROTO_UDP, 6, .n_ext = 2, .ext = {60, 44},
	 .frag_off = 10, PASS(FRAGMENT)},

	/* The walk's bounds. */
	{"ipv6 five outer extension headers", 6, IPPROTO_TCP, 6, .n_ext = 5,
	 .ext = {0, 60, 43, 60, 60}, PASS(IPV6_EXT)},
	{"ipv6 routing header with segments left", 6, IPPROTO_TCP, 6, .n_ext = 1, .ext = {43},
	 .segments_left = 1, PASS(IPV6_EXT)},

	/* Malformed. */
	{"ipv4 outer ihl 4", 4, IPPROTO_TCP, 4, .ihl = 4, PASS(MALFORMED)},
	{"ipv4 outer ihl 15 past the options", 4, IPPROTO_TCP, 4, .ihl = 15, PASS(MALFORMED)},
	{"ipv4 outer total length past the frame", 4, IPPROTO_TCP, 4, .tot_delta = 1,
	 PASS(MALFORMED)},
	{"ipv4 outer total length cuts the inner packet", 4, IPPROTO_TCP, 4, .tot_delta = -1,
	 PASS(MALFORMED)},
	{"ipv6 outer payload length past the frame", 6, IPPROTO_TCP, 6, .tot_delta = 1,
	 PASS(MALFORMED)},
	{"ipv6 outer payload length cuts the inner packet", 4, IPPROTO_TCP, 6, .tot_delta = -1,
	 PASS(MALFORMED)},
	{"ipv4 outer protocol 4 around an ipv6 packet", 6, IPPROTO_TCP, 4, .outer_proto = 4,
	 PASS(MALFORMED)},
	{"ipv6 outer next header 41 around an ipv4 packet", 4, IPPROTO_TCP, 6, .outer_proto = 41,
	 PASS(MALFORMED)},
	{"ipv6 outer next header 4 around an ipv6 packet", 6, IPPROTO_UDP, 6, .outer_proto = 4,
	 PASS(MALFORMED)},
	{"inner ipv4 ihl 4", 4, IPPROTO_TCP, 4, .inner_ovr = {.set = PKT_O_IHL, .ihl = 4},
	 PASS(MALFORMED)},
	{"inner ipv4 version 6", 4, IPPROTO_TCP, 4,
	 .inner_ovr = {.set = PKT_O_VERSION, .version = 6}, PASS(MALFORMED)},
	{"inner ipv4 total length past the outer datagram", 4, IPPROTO_TCP, 6,
	 .inner_ovr = {.set = PKT_O_TOT_LEN, .tot_len = 41}, PASS(MALFORMED)},
	{"inner ipv4 total length below its header", 4, IPPROTO_TCP, 4,
	 .inner_ovr = {.set = PKT_O_TOT_LEN, .tot_len = 19}, PASS(MALFORMED)},
	{"inner ipv6 payload length past the outer datagram", 6, IPPROTO_TCP, 6,
	 .inner_ovr = {.set = PKT_O_PAYLOAD_LEN, .payload_len = 21}, PASS(MALFORMED)},
	{"inner ipv6 version 4", 6, IPPROTO_UDP, 6,
	 .inner_ovr = {.set = PKT_O_VERSION, .version = 4}, PASS(MALFORMED)},
};

static void inner_spec(const struct dcase *c, struct pkt_spec *s)
{
	pkt_spec_init(s, c->inner_family, c->proto);
	s->payload_len = c->payload_len;
	s->n_vlan = c->n_vlan;
	for (int i = 0; i < c->n_vlan; i++)
		s->vlan[i] = (struct pkt_vlan){.tpid = c->tpid[i], .vid = 10 + i};
	s->ip4_opts_len = c->inner_opts_len;
	if (c->inner_hopopts) {
		s->n_ext = 1;
		s->ext[0] = (struct pkt_ext){.type = IPPROTO_HOPOPTS};
	}
	if (c->dst == DST_OTHER)
		s->dst.bytes[c->inner_family == 4 ? 3 : 15] = 0x99;
	s->ovr = c->inner_ovr;
}

/* The frame of a case; *plain gets pkt_build(inner) (what a decapsulation must give). */
static int build(const struct dcase *c, __u8 *frame, __u8 *plain, int *plain_len)
{
	struct pkt_encap e;
	struct pkt_spec s;
	int n;

	inner_spec(c, &s);
	*plain_len = pkt_build(&s, plain, PKT_BUF_SIZE);
	if (*plain_len < 0)
		return *plain_len;
	if (!c->outer_family) {
		memcpy(frame, plain, *plain_len);
		n = *plain_len;
	} else {
		pkt_encap_init(&e, c->outer_family);
		e.proto = c->outer_proto;
		e.ip4_opts_len = c->ip4_opts_len;
		e.n_ext = c->n_ext;
		memcpy(e.ext, c->ext, sizeof(e.ext));
		e.segments_left = c->segments_left;
		e.ihl = c->ihl;
		e.mf = c->mf;
		e.frag_off = c->frag_off;
		e.tot_delta = c->tot_delta;
		n = pkt_encap_build(&s, &e, frame, PKT_BUF_SIZE);
		if (n < 0)
			return n;
	}
	memset(frame + n, 0, c->pad);
	memset(plain + *plain_len, 0, c->pad);
	*plain_len += c->pad;
	return n + c->pad;
}

/* Sums of the per-CPU counters. */
static int read_counters(__u64 sum[XLB_DC_MAX])
{
	__u64 v[nr_cpus];
	int fd = bpf_map__fd(skel->maps.xlb_decap_stats);

	for (__u32 k = 0; k < XLB_DC_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			return -errno;
		sum[k] = 0;
		for (int i = 0; i < nr_cpus; i++)
			sum[k] += v[i];
	}
	return 0;
}

static int run(const void *in, __u32 len, void *out, __u32 *out_len, __u32 *action)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_BUF_SIZE + 256, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xlb_decap), &o);

	*out_len = o.data_size_out;
	*action = o.retval;
	return err;
}

/* Runs one frame; checks the action, the output (want) and that only counter c moved by one. */
static void expect(const __u8 *frame, int len, const __u8 *want, int want_len,
		   enum xlb_decap_counter c)
{
	__u64 before[XLB_DC_MAX], after[XLB_DC_MAX];
	__u8 out[PKT_BUF_SIZE + 256];
	__u32 out_len, action;

	if (!ASSERT_OK(read_counters(before), "read counters"))
		return;
	if (!ASSERT_OK(run(frame, len, out, &out_len, &action), "test run"))
		return;
	ASSERT_EQ(action, XDP_PASS, "action");
	ASSERT_EQ(out_len, want_len, "output length");
	if (out_len == (__u32)want_len)
		ASSERT_MEM_EQ(out, want, want_len, "output frame");
	if (!ASSERT_OK(read_counters(after), "read counters"))
		return;
	for (int k = 0; k < XLB_DC_MAX; k++)
		ASSERT_EQ(after[k] - before[k], k == (int)c ? 1 : 0, "counter delta");
}

static bool is_decap(enum xlb_decap_counter c)
{
	return c == XLB_DC_DECAP_4IN4 || c == XLB_DC_DECAP_6IN6 || c == XLB_DC_DECAP_4IN6;
}

static void test_cases(void)
{
	__u8 frame[PKT_BUF_SIZE], plain[PKT_BUF_SIZE];
	int len, plain_len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *c = &cases[i];

		if (!xt_row("%s", c->desc))
			continue;
		len = build(c, frame, plain, &plain_len);
		if (!ASSERT_TRUE(len > 0, "build the frame"))
			continue;
		if (is_decap(c->c))
			expect(frame, len, plain, plain_len, c->c);
		else
			expect(frame, len, frame, len, c->c);
	}
}

/*
 * Every prefix of a tunnelled frame (from 14 bytes, the least BPF_PROG_TEST_RUN takes for XDP):
 * only the whole frame is decapsulated; every shorter one passes untouched, as not IP while a
 * VLAN tag is cut, else as malformed (its outer header or length runs past it).
 */
static void test_truncated_everywhere(void)
{
	static const struct dcase whole[] = {
		{"ipv4 in ipv4", 4, IPPROTO_TCP, 4, .payload_len = 8, D4IN4},
		{"ipv6 in ipv6", 6, IPPROTO_UDP, 6, .payload_len = 8, D6IN6},
		{"ipv4 in ipv6 with dstopts", 4, IPPROTO_TCP, 6, .n_ext = 1, .ext = {60}, D4IN6},
		{"ipv4 in ipv4 behind qinq, outer options", 4, IPPROTO_UDP, 4, .n_vlan = 2,
		 .tpid = {0x88a8, 0x8100}, .ip4_opts_len = 8, D4IN4},
	};
	__u8 frame[PKT_BUF_SIZE], plain[PKT_BUF_SIZE];
	int len, plain_len;

	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		const struct dcase *c = &whole[i];
		int bad = 0;

		if (!xt_row("%s", c->desc))
			continue;
		len = build(c, frame, plain, &plain_len);
		if (!ASSERT_TRUE(len > 0, "build the frame"))
			continue;
		for (int n = ETH_HLEN; n < len; n++) {
			int before = xt_test_failures;

			expect(frame, n, frame, n,
			       n < ETH_HLEN + 4 * c->n_vlan ? XLB_DC_PASS_NOT_IP
							    : XLB_DC_PASS_MALFORMED);
			if (xt_test_failures != before && ++bad > 3)
				break; /* enough said */
		}
		expect(frame, len, plain, plain_len, c->c);
	}
}

static int add_vip(const char *s)
{
	struct xlb_decap_vip_key k = {};
	struct xlb_decap_vip v = {};

	if (inet_pton(AF_INET, s, k.addr) == 1)
		k.family = XLB_DECAP_AF_INET;
	else if (inet_pton(AF_INET6, s, k.addr) == 1)
		k.family = XLB_DECAP_AF_INET6;
	else
		return -EINVAL;
	return bpf_map_update_elem(bpf_map__fd(skel->maps.xlb_decap_vips), &k, &v, BPF_ANY);
}

/* A VIP removed from the map is no longer decapsulated, and one added again is. */
static void test_vip_removed(void)
{
	const struct dcase c = {"v", 4, IPPROTO_TCP, 4, D4IN4};
	struct xlb_decap_vip_key k = {.family = XLB_DECAP_AF_INET};
	__u8 frame[PKT_BUF_SIZE], plain[PKT_BUF_SIZE];
	int len, plain_len;

	len = build(&c, frame, plain, &plain_len);
	if (!ASSERT_TRUE(len > 0, "build the frame"))
		return;
	inet_pton(AF_INET, "198.51.100.1", k.addr);
	if (!ASSERT_OK(bpf_map_delete_elem(bpf_map__fd(skel->maps.xlb_decap_vips), &k), "delete"))
		return;
	expect(frame, len, frame, len, XLB_DC_PASS_NOT_VIP);
	if (!ASSERT_OK(add_vip("198.51.100.1"), "add the vip again"))
		return;
	expect(frame, len, plain, plain_len, XLB_DC_DECAP_4IN4);
}

int main(void)
{
	nr_cpus = libbpf_num_possible_cpus();
	skel = xlb_decap_bpf__open_and_load();
	if (!skel || nr_cpus <= 0) {
		printf("FAIL test_decap/setup: cannot load the decap program\n");
		return 1;
	}
	if (add_vip("198.51.100.1") || add_vip("2001:db8:100::1")) {
		printf("FAIL test_decap/setup: cannot add the vips\n");
		return 1;
	}
	RUN_TEST(test_cases);
	RUN_TEST(test_truncated_everywhere);
	RUN_TEST(test_vip_removed);
	xlb_decap_bpf__destroy(skel);
	return xt_finish();
}
