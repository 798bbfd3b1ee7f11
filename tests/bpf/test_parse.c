/* test_parse.c - table-driven packet cases through the real XDP program (BPF_PROG_TEST_RUN). */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "fixture.h"
#include "xlb_hash.h"
#include "xlb.skel.h"

/*
 * Each case: a frame described by a few fields on top of pkt_spec_init() (TCP or UDP to one of
 * the fixture's VIPs), an optional cut, the expected action and the expected change of every
 * global counter (counters not listed must not move). XDP_TX cases must come out with only the
 * MACs changed: destination = the backend the Maglev ring names for the flow, source = LB MAC.
 */

enum dst { TO_VIP, TO_OTHER, TO_VIP_OTHER_PORT, TO_VIP_TCP_PORT, TO_VIP_UDP_PORT, TO_VIP_SSH };

/* The frame's destination MAC: the LB's (pkt_spec_init's, FX_LB_MAC) unless one of these. */
enum mac { MAC_LB, MAC_BCAST, MAC_MCAST4, MAC_MCAST6, MAC_OTHER_HOST };
static const __u8 macs[][6] = {
	[MAC_BCAST] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	[MAC_MCAST4] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
	[MAC_MCAST6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01}, /* a solicited-node group */
	[MAC_OTHER_HOST] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77},
};

struct cdelta {
	enum xlb_counter c;
	int d;
};

struct pcase {
	const char *desc;
	__u8 family, proto;
	enum dst dst;
	enum mac mac;
	__u8 n_vlan;
	__u16 tpid[2];
	__u8 ip4_opts_len;
	__u8 n_ext;
	__u8 ext[PKT_MAX_EXTS];
	__u8 icmp_type;
	bool mf;
	__u16 frag_off;
	struct pkt_override ovr;
	__u16 payload_len;
	int pad;      /* bytes of Ethernet padding after the IP packet */
	int cut;      /* > 0: keep only this many bytes; < 0: drop this many from the end */
	__u32 action; /* XDP_TX / XDP_PASS / XDP_DROP */
	struct cdelta c[4];
};

#define C(counter, delta)              \
	{                              \
		XLB_C_##counter, delta \
	}
#define TX_NEW	     C(ACT_TX, 1), C(FLOW_MISS, 1), C(FLOW_INSERT, 1)
#define PASS(reason) C(ACT_PASS, 1), C(reason, 1)
#define DROP(reason) C(ACT_DROP, 1), C(reason, 1)

static const struct pcase cases[] = {
	{"ipv4 tcp syn to vip", 4, IPPROTO_TCP, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv4 udp to vip", 4, IPPROTO_UDP, .payload_len = 100, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 tcp syn to vip", 6, IPPROTO_TCP, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 udp to vip", 6, IPPROTO_UDP, .payload_len = 512, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv4 tcp with payload", 4, IPPROTO_TCP, .payload_len = 1400, .action = XDP_TX,
	 .c = {TX_NEW}},
	{"ipv4 ethernet padding after ip packet", 4, IPPROTO_TCP, .pad = 6, .action = XDP_TX,
	 .c = {TX_NEW}},
	{"802.1q tag", 4, IPPROTO_TCP, .n_vlan = 1, .tpid = {0x8100}, .action = XDP_TX,
	 .c = {TX_NEW}},
	{"qinq 802.1ad + 802.1q", 4, IPPROTO_TCP, .n_vlan = 2, .tpid = {0x88a8, 0x8100},
	 .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 qinq 802.1q + 802.1q", 6, IPPROTO_UDP, .n_vlan = 2, .tpid = {0x8100, 0x8100},
	 .action = XDP_TX, .c = {TX_NEW}},
	{"ipv4 options ihl 6", 4, IPPROTO_TCP, .ip4_opts_len = 4, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv4 options ihl 15", 4, IPPROTO_UDP, .ip4_opts_len = 40, .action = XDP_TX,
	 .c = {TX_NEW}},
	{"ipv6 hop-by-hop", 6, IPPROTO_TCP, .n_ext = 1, .ext = {0}, .action = XDP_TX,
	 .c = {TX_NEW}},
	{"ipv6 hop-by-hop, routing, dstopts", 6, IPPROTO_TCP, .n_ext = 3, .ext = {0, 43, 60},
	 .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 four extension headers", 6, IPPROTO_UDP, .n_ext = 4, .ext = {0, 60, 43, 60},
	 .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 tcp four destination-options headers", 6, IPPROTO_TCP, .n_ext = 4,
	 .ext = {60, 60, 60, 60}, .action = XDP_TX, .c = {TX_NEW}},
	/* Past the walk the protocol is unknown: nothing shows the packet is a VIP's. */
	{"ipv6 udp to vip, five extension headers: passes", 6, IPPROTO_UDP, .n_ext = 5,
	 .ext = {0, 60, 43, 60, 60}, .action = XDP_PASS, .c = {PASS(PASS_IPV6_EXT_LIMIT)}},
	{"ipv6 icmp echo, five destination-options headers, to vip address", 6, IPPROTO_ICMPV6,
	 .n_ext = 5, .ext = {60, 60, 60, 60, 60}, .action = XDP_PASS,
	 .c = {PASS(PASS_IPV6_EXT_LIMIT)}},
	{"ipv6 tcp to vip address port 22, five extension headers", 6, IPPROTO_TCP, TO_VIP_SSH,
	 .n_ext = 5, .ext = {0, 60, 43, 60, 60}, .action = XDP_PASS,
	 .c = {PASS(PASS_IPV6_EXT_LIMIT)}},
	{"ipv6 tcp to vip address port 22, four extension headers", 6, IPPROTO_TCP, TO_VIP_SSH,
	 .n_ext = 4, .ext = {0, 60, 43, 60}, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 icmp echo with hop-by-hop to vip address", 6, IPPROTO_ICMPV6, .n_ext = 1, .ext = {0},
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 neighbour solicitation to vip address", 6, IPPROTO_ICMPV6, .icmp_type = 135,
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 neighbour solicitation, solicited-node multicast mac", 6, IPPROTO_ICMPV6,
	 .mac = MAC_MCAST6, .icmp_type = 135, .action = XDP_PASS, .c = {PASS(PASS_NOT_OURS)}},
	{"ipv6 packet too big to vip address", 6, IPPROTO_ICMPV6, .icmp_type = 2,
	 .payload_len = 120, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},

	{"broadcast mac, tcp syn to vip", 4, IPPROTO_TCP, .mac = MAC_BCAST, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_OURS)}},
	{"ipv4 multicast mac, udp to vip", 4, IPPROTO_UDP, .mac = MAC_MCAST4, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_OURS)}},
	{"ipv6 multicast mac, tcp syn to vip", 6, IPPROTO_TCP, .mac = MAC_MCAST6,
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_OURS)}},
	{"another host's unicast mac, tcp syn to vip", 4, IPPROTO_TCP, .mac = MAC_OTHER_HOST,
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_OURS)}},
	{"ipv6 another host's unicast mac, udp to vip", 6, IPPROTO_UDP, .mac = MAC_OTHER_HOST,
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_OURS)}},
	{"arp broadcast", 4, IPPROTO_TCP, .mac = MAC_BCAST,
	 .ovr = {.set = PKT_O_ETHERTYPE, .ethertype = ETH_P_ARP}, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_OURS)}},

	{"ipv4 not a vip", 4, IPPROTO_TCP, TO_OTHER, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 not a vip", 6, IPPROTO_UDP, TO_OTHER, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv4 vip address, other port", 4, IPPROTO_TCP, TO_VIP_OTHER_PORT, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 vip address, other port", 6, IPPROTO_TCP, TO_VIP_OTHER_PORT, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"ipv4 udp to a tcp vip's port", 4, IPPROTO_UDP, TO_VIP_TCP_PORT, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 tcp to a udp vip's port", 6, IPPROTO_TCP, TO_VIP_UDP_PORT, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"ipv4 icmp to vip address", 4, IPPROTO_ICMP, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 icmp to vip address", 6, IPPROTO_ICMPV6, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"arp", 4, IPPROTO_TCP, .ovr = {.set = PKT_O_ETHERTYPE, .ethertype = ETH_P_ARP},
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_IP)}},
	{"three vlan tags: not parsed further", 4, IPPROTO_TCP, .n_vlan = 2,
	 .tpid = {0x8100, 0x8100}, .ovr = {.set = PKT_O_ETHERTYPE, .ethertype = 0x8100},
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_IP)}},

	{"ipv4 more-fragments", 4, IPPROTO_UDP, .mf = true, .action = XDP_DROP,
	 .c = {DROP(DROP_FRAGMENT)}},
	{"ipv4 non-first fragment", 4, IPPROTO_UDP, .frag_off = 100, .action = XDP_DROP,
	 .c = {DROP(DROP_FRAGMENT)}},
	{"ipv4 fragment to another address", 4, IPPROTO_UDP, TO_OTHER, .mf = true,
	 .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 fragment header", 6, IPPROTO_UDP, .n_ext = 1, .ext = {44}, .mf = true,
	 .action = XDP_DROP, .c = {DROP(DROP_FRAGMENT)}},
	{"ipv6 fragment after hop-by-hop", 6, IPPROTO_TCP, .n_ext = 2, .ext = {0, 44}, .mf = true,
	 .action = XDP_DROP, .c = {DROP(DROP_FRAGMENT)}},
	{"ipv6 last fragment (offset, M 0)", 6, IPPROTO_UDP, .n_ext = 1, .ext = {44},
	 .frag_off = 100, .action = XDP_DROP, .c = {DROP(DROP_FRAGMENT)}},
	{"ipv6 middle fragment, tcp", 6, IPPROTO_TCP, .n_ext = 1, .ext = {44}, .mf = true,
	 .frag_off = 100, .action = XDP_DROP, .c = {DROP(DROP_FRAGMENT)}},
	/* A VIP address's TCP or UDP in fragments cannot be read safely, whatever the port. */
	{"ipv6 tcp first fragment to vip address port 22", 6, IPPROTO_TCP, TO_VIP_SSH, .n_ext = 1,
	 .ext = {44}, .mf = true, .action = XDP_DROP, .c = {DROP(DROP_FRAGMENT)}},
	{"ipv4 tcp fragment to vip address port 22", 4, IPPROTO_TCP, TO_VIP_SSH, .mf = true,
	 .action = XDP_DROP, .c = {DROP(DROP_FRAGMENT)}},
	{"ipv6 fragment to another address", 6, IPPROTO_UDP, TO_OTHER, .n_ext = 1, .ext = {44},
	 .mf = true, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	/* RFC 6946: an atomic fragment (offset 0, M 0) is a whole packet. */
	{"ipv6 atomic fragment, tcp syn to vip", 6, IPPROTO_TCP, .n_ext = 1, .ext = {44},
	 .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 atomic fragment after hop-by-hop, udp to vip", 6, IPPROTO_UDP, .n_ext = 2,
	 .ext = {0, 44}, .payload_len = 64, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 atomic fragment then dstopts, tcp syn to vip", 6, IPPROTO_TCP, .n_ext = 3,
	 .ext = {0, 44, 60}, .action = XDP_TX, .c = {TX_NEW}},
	{"ipv6 atomic fragment, tcp to vip address port 22", 6, IPPROTO_TCP, TO_VIP_SSH, .n_ext = 1,
	 .ext = {44}, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 atomic fragment is a header of the walk: five in all", 6, IPPROTO_TCP, .n_ext = 5,
	 .ext = {0, 44, 60, 43, 60}, .action = XDP_PASS, .c = {PASS(PASS_IPV6_EXT_LIMIT)}},
	/* ICMP is never a VIP's, in fragments or not. */
	{"ipv4 icmp fragment to vip address", 4, IPPROTO_ICMP, .mf = true, .action = XDP_PASS,
	 .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 icmp first fragment to vip address", 6, IPPROTO_ICMPV6, .n_ext = 1, .ext = {44},
	 .mf = true, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 icmp last fragment to vip address", 6, IPPROTO_ICMPV6, .n_ext = 1, .ext = {44},
	 .frag_off = 100, .payload_len = 16, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 later fragment of a packet that began with dstopts", 6, IPPROTO_DSTOPTS, .n_ext = 1,
	 .ext = {44}, .frag_off = 100, .payload_len = 16, .action = XDP_PASS,
	 .c = {PASS(PASS_IPV6_EXT_LIMIT)}},

	{"ipv4 version 5", 4, IPPROTO_TCP, .ovr = {.set = PKT_O_VERSION, .version = 5},
	 .action = XDP_DROP, .c = {DROP(DROP_BAD_IP_HEADER)}},
	{"ipv4 ihl 4", 4, IPPROTO_TCP, .ovr = {.set = PKT_O_IHL, .ihl = 4}, .action = XDP_DROP,
	 .c = {DROP(DROP_BAD_IP_HEADER)}},
	{"ipv4 ihl 0", 4, IPPROTO_TCP, .ovr = {.set = PKT_O_IHL, .ihl = 0}, .action = XDP_DROP,
	 .c = {DROP(DROP_BAD_IP_HEADER)}},
	{"ipv4 ihl 15 beyond frame", 4, IPPROTO_UDP, .ovr = {.set = PKT_O_IHL, .ihl = 15},
	 .cut = 14 + 20 + 8, .action = XDP_DROP, .c = {DROP(DROP_IP_TRUNCATED)}},
	{"ipv4 tot_len below header", 4, IPPROTO_TCP, .ovr = {.set = PKT_O_TOT_LEN, .tot_len = 19},
	 .action = XDP_DROP, .c = {DROP(DROP_BAD_IP_LENGTH)}},
	{"ipv4 tot_len beyond frame", 4, IPPROTO_TCP,
	 .ovr = {.set = PKT_O_TOT_LEN, .tot_len = 1500}, .action = XDP_DROP,
	 .c = {DROP(DROP_BAD_IP_LENGTH)}},
	{"ipv4 bad header to another address", 4, IPPROTO_TCP, TO_OTHER,
	 .ovr = {.set = PKT_O_IHL, .ihl = 3}, .action = XDP_PASS, .c = {PASS(PASS_NOT_VIP)}},
	{"ipv6 version 4", 6, IPPROTO_TCP, .ovr = {.set = PKT_O_VERSION, .version = 4},
	 .action = XDP_DROP, .c = {DROP(DROP_BAD_IP_HEADER)}},
	{"ipv6 payload_len 0 (jumbo)", 6, IPPROTO_TCP,
	 .ovr = {.set = PKT_O_PAYLOAD_LEN, .payload_len = 0}, .action = XDP_DROP,
	 .c = {DROP(DROP_BAD_IP_LENGTH)}},
	{"ipv6 payload_len beyond frame", 6, IPPROTO_UDP,
	 .ovr = {.set = PKT_O_PAYLOAD_LEN, .payload_len = 2000}, .action = XDP_DROP,
	 .c = {DROP(DROP_BAD_IP_LENGTH)}},
	{"ipv6 extension header beyond payload_len", 6, IPPROTO_TCP, .n_ext = 1, .ext = {60},
	 .ovr = {.set = PKT_O_PAYLOAD_LEN, .payload_len = 4}, .action = XDP_DROP,
	 .c = {DROP(DROP_IP_TRUNCATED)}},
	{"tcp data offset 4", 4, IPPROTO_TCP, .ovr = {.set = PKT_O_DOFF, .doff = 4},
	 .action = XDP_DROP, .c = {DROP(DROP_BAD_L4_HEADER)}},
	{"tcp data offset beyond packet", 6, IPPROTO_TCP, .ovr = {.set = PKT_O_DOFF, .doff = 15},
	 .action = XDP_DROP, .c = {DROP(DROP_BAD_L4_HEADER)}},
	{"tcp header cut by tot_len", 4, IPPROTO_TCP,
	 .ovr = {.set = PKT_O_TOT_LEN, .tot_len = 20 + 12}, .cut = 14 + 20 + 12, .action = XDP_DROP,
	 .c = {DROP(DROP_L4_TRUNCATED)}},
	{"udp header cut by payload_len", 6, IPPROTO_UDP,
	 .ovr = {.set = PKT_O_PAYLOAD_LEN, .payload_len = 4}, .cut = 14 + 40 + 4,
	 .action = XDP_DROP, .c = {DROP(DROP_L4_TRUNCATED)}},
};

static struct fx fx;

static void make_spec(const struct pcase *pc, struct pkt_spec *s)
{
	int vip = (pc->family == 6 ? 2 : 0) + (pc->proto == IPPROTO_UDP);

	pkt_spec_init(s, pc->family, pc->proto);
	if (pc->mac != MAC_LB)
		memcpy(s->dst_mac, macs[pc->mac], 6);
	s->dst = fx.vip[vip].key.addr;
	s->dport = ntohs(fx.vip[vip].key.port);
	if (pc->dst == TO_OTHER)
		s->dst.bytes[pc->family == 4 ? 3 : 15] ^= 0x40;
	else if (pc->dst == TO_VIP_OTHER_PORT)
		s->dport = 8080;
	else if (pc->dst == TO_VIP_TCP_PORT) /* the other protocol on the same address and port */
		s->dport = 80;
	else if (pc->dst == TO_VIP_UDP_PORT)
		s->dport = 53;
	else if (pc->dst == TO_VIP_SSH)
		s->dport = 22;
	s->icmp_type = pc->icmp_type;
	s->n_vlan = pc->n_vlan;
	for (int i = 0; i < pc->n_vlan; i++) {
		s->vlan[i].tpid = pc->tpid[i];
		s->vlan[i].vid = 100 + i;
	}
	s->ip4_opts_len = pc->ip4_opts_len;
	s->n_ext = pc->n_ext;
	for (int i = 0; i < pc->n_ext; i++) {
		s->ext[i].type = pc->ext[i];
		s->ext[i].hlen = pc->ext[i] == 43 ? 2 : i % 2;
	}
	s->mf = pc->mf;
	s->frag_off = pc->frag_off;
	s->ovr = pc->ovr;
	s->payload_len = pc->payload_len;
}

/* Asserts every counter moved exactly as listed and no other did. */
static bool check_counters(const char *desc, const __u64 *before, const __u64 *after,
			   const struct cdelta *c, int n)
{
	bool ok = true;

	for (int i = 0; i < XLB_C_MAX; i++) {
		long long want = 0;
		char label[256];

		for (int j = 0; j < n; j++)
			if ((int)c[j].c == i && c[j].d)
				want = c[j].d;
		snprintf(label, sizeof(label), "%s: counter %s", desc, xlb_counter_name(i));
		ok &= ASSERT_EQ(after[i] - before[i], want, label);
	}
	return ok;
}

/* Runs a frame and checks action, output bytes and counters. */
static void check_frame(const struct pcase *pc, const struct pkt_spec *s, const __u8 *in, __u32 len,
			__u32 action, const struct cdelta *c, int nc)
{
	__u8 out[PKT_BUF_SIZE], want[PKT_BUF_SIZE];
	__u64 before[XLB_C_MAX], after[XLB_C_MAX];
	__u32 out_len = sizeof(out), got = 0;
	char label[128];

	fx_flush_flows(&fx);
	if (!ASSERT_OK(xlb_dp_read_counters(fx.dp, before), "counters") ||
	    !ASSERT_OK(fx_run(&fx, in, len, out, &out_len, &got), pc->desc))
		return;
	xlb_dp_read_counters(fx.dp, after);
	snprintf(label, sizeof(label), "%s (len %u): action", pc->desc, len);
	ASSERT_EQ(got, action, label);
	snprintf(label, sizeof(label), "%s (len %u)", pc->desc, len);
	check_counters(label, before, after, c, nc);

	memcpy(want, in, len);
	if (action == XDP_TX) {
		int vip = (s->family == 6 ? 2 : 0) + (s->proto == IPPROTO_UDP), how;
		struct xlb_flow_key k;
		__u32 be;

		fx_spec_key(s, &k);
		be = fx_oracle_pick(&fx, vip, &k, &how);
		want[0] = 0x02, want[1] = 0, want[2] = 0, want[3] = 0, want[4] = 0x01, want[5] = be;
		memcpy(want + 6, in, 6); /* the frame's destination: the LB's MAC */
		ASSERT_TRUE(pkt_checksum_ok(out, out_len), label);
	}
	if (action != XDP_DROP)
		ASSERT_TRUE(pkt_same(out, out_len, want, len, label), label);
}

static void run_cases(const struct pcase *table, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pcase *pc = &table[i];
		__u8 frame[PKT_BUF_SIZE];
		struct pkt_spec s;
		int len;

		if (!xt_row("%s", pc->desc))
			continue;
		make_spec(pc, &s);
		len = pkt_build(&s, frame, sizeof(frame));
		if (!ASSERT_TRUE(len > 0, pc->desc))
			continue;
		if (pc->pad) {
			memset(frame + len, 0, pc->pad);
			len += pc->pad;
		}
		if (pc->cut > 0)
			len = pc->cut;
		else if (pc->cut < 0)
			len += pc->cut;
		check_frame(pc, &s, frame, len, pc->action, pc->c, 4);
	}
}

static void test_cases(void)
{
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * Loaded without an LB MAC, the program cannot tell its unicast MAC from another host's: it
 * refuses group destinations only, so a broadcast never goes out with source ff:ff:ff:ff:ff:ff.
 * Runs last: it reloads the fixture.
 */
static void test_no_lb_mac(void)
{
	static const struct pcase rows[] = {
		{"no lb mac: broadcast passes", 4, IPPROTO_TCP, .mac = MAC_BCAST,
		 .action = XDP_PASS, .c = {PASS(PASS_NOT_OURS)}},
		{"no lb mac: ipv6 multicast passes", 6, IPPROTO_UDP, .mac = MAC_MCAST6,
		 .action = XDP_PASS, .c = {PASS(PASS_NOT_OURS)}},
		{"no lb mac: unicast is balanced, source its destination", 4, IPPROTO_TCP,
		 .mac = MAC_OTHER_HOST, .action = XDP_TX, .c = {TX_NEW}},
		{"no lb mac: ipv6 unicast is balanced", 6, IPPROTO_TCP, .action = XDP_TX,
		 .c = {TX_NEW}},
	};
	struct xlb_dp_opts opts = {.flow_entries = 65536, .hash_seed = 0x1234};

	fx_teardown(&fx);
	if (!ASSERT_OK(fx_setup(&fx, &opts), "load without an lb mac"))
		return;
	run_cases(rows, sizeof(rows) / sizeof(rows[0]));
}

/*
 * Cut a valid VIP frame at every length from 14 (the least BPF_PROG_TEST_RUN accepts for XDP)
 * to one byte short. Below the fixed IP header the destination is unknown: pass. From there
 * on the frame is ours and broken: the IP length no longer fits (or options/ext headers are cut).
 */
static void cut_everywhere(const struct pcase *pc)
{
	__u8 frame[PKT_BUF_SIZE];
	struct pkt_layout lo = {0};
	struct pkt_spec s;
	int len;

	make_spec(pc, &s);
	len = pkt_build(&s, frame, sizeof(frame));
	if (!ASSERT_TRUE(len > 0, pc->desc) || !ASSERT_OK(pkt_layout(&s, &lo), "layout"))
		return;
	for (int cut = ETH_HLEN; cut < len; cut++) {
		size_t fixed = lo.l3_off + (s.family == 4 ? 20 : 40);
		struct cdelta c[2] = {PASS(PASS_UNPARSED)};
		__u32 action = XDP_PASS;

		if ((size_t)cut >= fixed) {
			action = XDP_DROP;
			c[0] = (struct cdelta)C(ACT_DROP, 1);
			if (s.family == 4 && (size_t)cut < lo.l4_off)
				c[1] = (struct cdelta)C(DROP_IP_TRUNCATED, 1);
			else
				c[1] = (struct cdelta)C(DROP_BAD_IP_LENGTH, 1);
		}
		check_frame(pc, &s, frame, cut, action, c, 2);
	}
}

static void test_truncated_everywhere(void)
{
	static const struct pcase frames[] = {
		{"cut ipv4 tcp, qinq, options", 4, IPPROTO_TCP, .n_vlan = 2,
		 .tpid = {0x88a8, 0x8100}, .ip4_opts_len = 8, .payload_len = 4},
		{"cut ipv4 udp", 4, IPPROTO_UDP, .payload_len = 4},
		{"cut ipv6 tcp, ext headers", 6, IPPROTO_TCP, .n_ext = 2, .ext = {0, 60},
		 .payload_len = 4},
		{"cut ipv6 udp, vlan", 6, IPPROTO_UDP, .n_vlan = 1, .tpid = {0x8100}},
	};

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		if (xt_row("%s", frames[i].desc))
			cut_everywhere(&frames[i]);
}

/* IP lengths kept consistent with the cut: every short L4 header is l4_truncated. */
static void test_l4_truncated_everywhere(void)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		for (int proto = 0; proto < 2; proto++) {
			struct pcase pc = {.desc = "l4 cut",
					   .family = fam,
					   .proto = proto ? IPPROTO_UDP : IPPROTO_TCP};
			int hdr = proto ? 8 : 20, l3 = fam == 4 ? 20 : 40;

			if (!xt_row("ipv%d %s header cut at every length", fam,
				    proto ? "udp" : "tcp"))
				continue;
			for (int k = 0; k < hdr; k++) {
				struct cdelta c[2] = {DROP(DROP_L4_TRUNCATED)};
				__u8 frame[PKT_BUF_SIZE];
				struct pkt_spec s;
				int len;

				if (fam == 4)
					pc.ovr = (struct pkt_override){.set = PKT_O_TOT_LEN,
								       .tot_len = l3 + k};
				else
					pc.ovr = (struct pkt_override){.set = PKT_O_PAYLOAD_LEN,
								       .payload_len = k};
				make_spec(&pc, &s);
				len = pkt_build(&s, frame, sizeof(frame));
				if (fam == 6 && k == 0) /* payload_len 0 is a jumbogram */
					c[1] = (struct cdelta)C(DROP_BAD_IP_LENGTH, 1);
				if (ASSERT_TRUE(len > 0, "build"))
					check_frame(&pc, &s, frame, ETH_HLEN + l3 + k, XDP_DROP, c,
						    2);
			}
		}
	}
}

/* Per-VIP and per-backend counters follow the packets. */
static void test_traffic_counters(void)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	struct xlb_traffic v0, v1, b0[4], b1[4];
	struct pkt_spec s;
	__u32 len, out_len, act;
	int n = 30;

	fx_flush_flows(&fx);
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v0);
	for (int j = 0; j < 3; j++)
		xlb_dp_read_backend_traffic(fx.dp, fx.vip[0].be[j], &b0[j]);
	for (int i = 0; i < n; i++) {
		pkt_spec_init(&s, 4, IPPROTO_TCP);
		s.payload_len = 10;
		pkt_spec_flow(&s, i % 10); /* 10 flows, 3 packets each */
		len = pkt_build(&s, frame, sizeof(frame));
		out_len = sizeof(out);
		ASSERT_OK(fx_run(&fx, frame, len, out, &out_len, &act), "run");
	}
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v1);
	ASSERT_EQ(v1.packets - v0.packets, n, "vip packets");
	ASSERT_EQ(v1.bytes - v0.bytes, (__u64)n * len, "vip bytes");
	ASSERT_EQ(v1.new_flows - v0.new_flows, 10, "vip new flows");
	__u64 pk = 0, by = 0, nf = 0;
	for (int j = 0; j < 3; j++) {
		xlb_dp_read_backend_traffic(fx.dp, fx.vip[0].be[j], &b1[j]);
		pk += b1[j].packets - b0[j].packets;
		by += b1[j].bytes - b0[j].bytes;
		nf += b1[j].new_flows - b0[j].new_flows;
	}
	ASSERT_EQ(pk, n, "backend packets");
	ASSERT_EQ(by, (__u64)n * len, "backend bytes");
	ASSERT_EQ(nf, 10, "backend new flows");
}

/* An IPv4 address that is no VIP address but shares the xlb_vip_filter slot of addr. */
static struct xlb_addr filter_twin(const struct xlb_addr *addr)
{
	struct xlb_addr a = {0};

	for (__u32 i = 1;; i++) {
		a.v4 = htonl(0x0a630000 + i); /* 10.99.x.x */
		if (xlb_vip_filter_slot(&a) == xlb_vip_filter_slot(addr))
			return a;
	}
}

static __u32 filter_count(const struct xlb_addr *addr)
{
	__u32 slot = xlb_vip_filter_slot(addr), n = ~0u;

	bpf_map_lookup_elem(bpf_map__fd(fx.dp->skel->maps.xlb_vip_filter), &slot, &n);
	return n;
}

/*
 * The filter in front of the lookups: it counts VIP addresses, not VIPs, and an address that
 * shares a VIP address's slot still passes, well-formed or not (the exact lookups decide).
 */
static void test_vip_filter(void)
{
	const struct xlb_addr *vaddr = &fx.vip[0].key.addr;
	struct xlb_vip_key k443 = fx.vip[0].key;
	struct xlb_vip v443 = {.id = 40};
	struct pkt_spec s;
	__u8 frame[PKT_BUF_SIZE];
	struct pcase pc = {.desc = "filter twin", .family = 4, .proto = IPPROTO_TCP};
	struct cdelta pass_c[2] = {PASS(PASS_NOT_VIP)};
	int len;

	ASSERT_EQ(filter_count(vaddr), 1, "two VIPs on one address: one count");
	k443.port = htons(443);
	ASSERT_OK(xlb_dp_set_vip(fx.dp, &k443, &v443), "third VIP on the address");
	ASSERT_EQ(filter_count(vaddr), 1, "still one address");
	ASSERT_OK(xlb_dp_del_vip(fx.dp, &k443), "del third");
	ASSERT_EQ(filter_count(vaddr), 1, "the address stays while VIPs use it");

	/* The filter gates the lookups: with the slot cleared, a VIP's own packets pass. */
	__u32 slot = xlb_vip_filter_slot(vaddr), zero = 0, one = 1;
	int ffd = bpf_map__fd(fx.dp->skel->maps.xlb_vip_filter);

	make_spec(&pc, &s);
	len = pkt_build(&s, frame, sizeof(frame));
	ASSERT_OK(bpf_map_update_elem(ffd, &slot, &zero, 0), "clear slot");
	if (ASSERT_TRUE(len > 0, "build"))
		check_frame(&pc, &s, frame, len, XDP_PASS, pass_c, 2);
	ASSERT_OK(bpf_map_update_elem(ffd, &slot, &one, 0), "restore slot");

	/* The last VIP of an address takes its count with it; adding one back restores it. */
	for (int v = 2; v < 4; v++)
		ASSERT_OK(xlb_dp_del_vip(fx.dp, &fx.vip[v].key), "del ipv6 vip");
	ASSERT_EQ(filter_count(&fx.vip[2].key.addr), 0, "no VIP left on the address");
	for (int v = 2; v < 4; v++) {
		struct xlb_vip vip = {.id = fx.vip[v].id};

		ASSERT_OK(xlb_dp_set_vip(fx.dp, &fx.vip[v].key, &vip), "add ipv6 vip back");
	}
	ASSERT_EQ(filter_count(&fx.vip[2].key.addr), 1, "the address is back");

	s.dst = filter_twin(vaddr);
	len = pkt_build(&s, frame, sizeof(frame));
	if (ASSERT_TRUE(len > 0, "build"))
		check_frame(&pc, &s, frame, len, XDP_PASS, pass_c, 2);
	pc.desc = "filter twin, bad ip length";
	s.ovr = (struct pkt_override){.set = PKT_O_TOT_LEN, .tot_len = 9999};
	len = pkt_build(&s, frame, sizeof(frame));
	if (ASSERT_TRUE(len > 0, "build"))
		check_frame(&pc, &s, frame, len, XDP_PASS, pass_c, 2);
}

int main(void)
{
	if (fx_setup(&fx, NULL)) {
		printf("FAIL test_parse/setup: cannot load the XDP program\n");
		return 1;
	}
	RUN_TEST(test_cases);
	RUN_TEST(test_truncated_everywhere);
	RUN_TEST(test_l4_truncated_everywhere);
	RUN_TEST(test_traffic_counters);
	RUN_TEST(test_vip_filter);
	RUN_TEST(test_no_lb_mac);
	fx_teardown(&fx);
	return xt_finish();
}
