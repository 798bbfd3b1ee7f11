/* test_ipip.c - ipip forwarding on crafted frames: outer headers, next hops, path MTU answers. */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "fixture.h"
#include "xlb.skel.h"

/*
 * The routes are real: the test runs in a network namespace of its own, where two veth pairs
 * and static neighbour entries stand for the LB's links, and bpf_fib_lookup answers from that
 * namespace's tables (BPF_PROG_TEST_RUN looks up in the caller's namespace). Nothing is
 * mocked; a next hop without a neighbour entry and a route with a small MTU are routes too.
 *
 *   in0  100.64.1.1/24 fd00:a::1/64  (frames come in here: ctx ingress_ifindex)
 *        next hop 100.64.1.254 / fd00:a::fe  lladdr 02:00:00:00:fe:01
 *        next hop 100.64.1.253 / fd00:a::fd  no neighbour entry
 *   out0 100.64.2.1/24 fd00:b::1/64
 *        next hop 100.64.2.254 / fd00:b::fe  lladdr 02:00:00:00:fe:02
 *
 *   backends            via                 leaves by
 *   10.1.0.0/24  fd00:11::/64  in0's .254   in0: XDP_TX
 *   10.2.0.0/24  fd00:12::/64  out0's .254  out0: XDP_REDIRECT (xlb_tx_ports)
 *   10.3.0.0/24  fd00:13::/64  in0's .253   no neighbour: XDP_PASS, encapsulated
 *   10.4.0.0/24  fd00:14::/64  in0 .254, route mtu 1400 locked (IPv4 takes a route MTU only
 *                              locked, or with ip_forward_use_pmtu)
 *   10.5.0.0/24  fd00:15::/64  unreachable
 */
static const char *const netns_setup[] = {
	"ip link set lo up",
	"ip link add in0 type veth peer name in0p",
	"ip link add out0 type veth peer name out0p",
	"ip link set in0 address 02:00:00:00:00:02 && ip link set out0 address 02:00:00:00:00:03",
	"ip link set in0p up && ip link set out0p up && ip link set in0 up && ip link set out0 up",
	/* BPF_PROG_TEST_RUN on a veth's queue needs its rxq registered: GRO does that. */
	"ethtool -K in0 gro on >/dev/null && ethtool -K out0 gro on >/dev/null",
	"ip addr add 100.64.1.1/24 dev in0 && ip addr add 100.64.2.1/24 dev out0",
	"ip addr add fd00:a::1/64 dev in0 nodad && ip addr add fd00:b::1/64 dev out0 nodad",
	"ip neigh add 100.64.1.254 lladdr 02:00:00:00:fe:01 dev in0 nud permanent",
	"ip neigh add fd00:a::fe lladdr 02:00:00:00:fe:01 dev in0 nud permanent",
	"ip neigh add 100.64.2.254 lladdr 02:00:00:00:fe:02 dev out0 nud permanent",
	"ip neigh add fd00:b::fe lladdr 02:00:00:00:fe:02 dev out0 nud permanent",
	"ip route add 10.1.0.0/24 via 100.64.1.254 && ip route add fd00:11::/64 via fd00:a::fe",
	"ip route add 10.2.0.0/24 via 100.64.2.254 && ip route add fd00:12::/64 via fd00:b::fe",
	"ip route add 10.3.0.0/24 via 100.64.1.253 && ip route add fd00:13::/64 via fd00:a::fd",
	"ip route add 10.4.0.0/24 via 100.64.1.254 mtu lock 1400 && "
	"ip route add fd00:14::/64 via fd00:a::fe mtu lock 1400",
	"ip route add unreachable 10.5.0.0/24 && ip route add unreachable fd00:15::/64",
	"sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1",
};

static struct fx fx;
static int in0, out0, net_ok;
static const __u8 hop1[6] = {2, 0, 0, 0, 0xfe, 1}, hop2[6] = {2, 0, 0, 0, 0xfe, 2};
static const __u8 lb_mac[6] = FX_LB_MAC; /* in0's MAC too */
static const __u8 out0_mac[6] = {2, 0, 0, 0, 0, 3};

#define SRC4 "198.18.0.1" /* the configured outer sources */
#define SRC6 "2001:db8:ff::1"

enum route { TX, REDIRECT, NO_NEIGH, SMALL_MTU, UNREACHABLE };

struct icase {
	const char *desc;
	__u8 vip_family, be_family;
	enum route route;
	__u16 payload_len;
	bool no_df;	    /* IPv4 inner without DF */
	__u8 tos;	    /* inner DSCP/ECN */
	__u8 n_vlan;	    /* tags on the incoming frame */
	bool route_src;	    /* no configured outer source: the route's */
	__u32 action;	    /* XDP_* */
	enum xlb_counter c; /* the counter the case moves (besides the action's) */
	__u16 icmp_mtu;	    /* a PMTU answer: the MTU it carries */
};

#define ENC(i, o) ((i) == 4 ? ((o) == 4 ? XLB_C_ENCAP_4IN4 : XLB_C_ENCAP_4IN6) : XLB_C_ENCAP_6IN6)

static const struct icase cases[] = {
	{"ipv4 in ipv4, out the receiving interface", 4, 4, TX, 100, .action = XDP_TX,
	 .c = ENC(4, 4)},
	{"ipv6 in ipv6, out the receiving interface", 6, 6, TX, 100, .action = XDP_TX,
	 .c = ENC(6, 6)},
	{"ipv4 in ipv6, out the receiving interface", 4, 6, TX, 100, .action = XDP_TX,
	 .c = ENC(4, 6)},
	{"ipv4 in ipv4, out another interface", 4, 4, REDIRECT, 0, .action = XDP_REDIRECT,
	 .c = ENC(4, 4)},
	{"ipv6 in ipv6, out another interface", 6, 6, REDIRECT, 0, .action = XDP_REDIRECT,
	 .c = ENC(6, 6)},
	{"ipv4 in ipv6, out another interface", 4, 6, REDIRECT, 0, .action = XDP_REDIRECT,
	 .c = ENC(4, 6)},
	{"ipv4 in ipv4, dscp copied, ecn not", 4, 4, TX, 10, .tos = 0xb9, .action = XDP_TX,
	 .c = ENC(4, 4)},
	{"ipv6 in ipv6, dscp copied, ecn not", 6, 6, TX, 10, .tos = 0x2a, .action = XDP_TX,
	 .c = ENC(6, 6)},
	{"ipv4 in ipv4 from an 802.1q tag: sent untagged", 4, 4, TX, 10, .n_vlan = 1,
	 .action = XDP_TX, .c = ENC(4, 4)},
	{"ipv6 in ipv6 from two tags: sent untagged", 6, 6, REDIRECT, 10, .n_vlan = 2,
	 .action = XDP_REDIRECT, .c = ENC(6, 6)},
	{"ipv4 in ipv4, outer source from the route (in0)", 4, 4, TX, 0, .route_src = true,
	 .action = XDP_TX, .c = ENC(4, 4)},
	{"ipv6 in ipv6, outer source from the route (out0)", 6, 6, REDIRECT, 0, .route_src = true,
	 .action = XDP_REDIRECT, .c = ENC(6, 6)},
	{"ipv4 in ipv4, next hop unresolved: encapsulated, to the kernel", 4, 4, NO_NEIGH, 0,
	 .action = XDP_PASS, .c = XLB_C_PASS_NO_NEIGH},
	{"ipv6 in ipv6, next hop unresolved: encapsulated, to the kernel", 6, 6, NO_NEIGH, 0,
	 .action = XDP_PASS, .c = XLB_C_PASS_NO_NEIGH},
	{"ipv4 in ipv6, next hop unresolved", 4, 6, NO_NEIGH, 0, .action = XDP_PASS,
	 .c = XLB_C_PASS_NO_NEIGH},
	{"ipv4 in ipv4, no route", 4, 4, UNREACHABLE, 0, .action = XDP_DROP,
	 .c = XLB_C_DROP_NO_ROUTE},
	{"ipv6 in ipv6, no route", 6, 6, UNREACHABLE, 0, .action = XDP_DROP,
	 .c = XLB_C_DROP_NO_ROUTE},
	/* Path MTU: the route's 1400 less the outer header. A packet of exactly that fits. */
	{"ipv4 in ipv4, 1380 bytes: fits exactly", 4, 4, SMALL_MTU, 1380 - 40, .action = XDP_TX,
	 .c = ENC(4, 4)},
	{"ipv4 in ipv4, 1381 bytes with DF: fragmentation needed, mtu 1380", 4, 4, SMALL_MTU,
	 1381 - 40, .action = XDP_TX, .c = XLB_C_PMTU_SENT, .icmp_mtu = 1380},
	{"ipv4 in ipv4, 1500 bytes without DF: dropped", 4, 4, SMALL_MTU, 1460, .no_df = true,
	 .action = XDP_DROP, .c = XLB_C_DROP_TOO_BIG},
	{"ipv6 in ipv6, 1361 bytes: packet too big, mtu 1360", 6, 6, SMALL_MTU, 1361 - 60,
	 .action = XDP_TX, .c = XLB_C_PMTU_SENT, .icmp_mtu = 1360},
	{"ipv6 in ipv6, 1360 bytes: fits exactly", 6, 6, SMALL_MTU, 1360 - 60, .action = XDP_TX,
	 .c = ENC(6, 6)},
	{"ipv4 in ipv6, 1500 bytes with DF: fragmentation needed, mtu 1360", 4, 6, SMALL_MTU, 1460,
	 .action = XDP_TX, .c = XLB_C_PMTU_SENT, .icmp_mtu = 1360},
	{"ipv4 in ipv4 from an 802.1q tag, too big: answered with the tag", 4, 4, SMALL_MTU, 1460,
	 .n_vlan = 1, .action = XDP_TX, .c = XLB_C_PMTU_SENT, .icmp_mtu = 1380},
};

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0 ? 0 : -1;
}

static void backend_addr(__u8 family, enum route r, struct xlb_addr *a)
{
	char s[64];

	if (family == 4)
		snprintf(s, sizeof(s), "10.%d.0.7", (int)r + 1);
	else
		snprintf(s, sizeof(s), "fd00:1%d::7", (int)r + 1);
	memset(a, 0, sizeof(*a));
	inet_pton(family == 4 ? AF_INET : AF_INET6, s, a);
}

static void set_src(bool route)
{
	struct xlb_encap_src src = {0};

	if (!route) {
		inet_pton(AF_INET, SRC4, &src.v4);
		inet_pton(AF_INET6, SRC6, &src.v6);
	}
	xlb_dp_set_encap_src(fx.dp, &src);
}

/* Every backend of the VIP (fixture vip 0: IPv4 TCP, vip 2: IPv6 TCP) gets address a. */
static int point_backends(int vip, __u8 family, const struct xlb_addr *a)
{
	for (__u32 j = 0; j < fx.vip[vip].nbe; j++) {
		__u32 id = fx.vip[vip].be[j];
		struct xlb_backend be;
		int err = xlb_dp_get_backend(fx.dp, id, &be);

		if (err)
			return err;
		be.addr = *a;
		be.family = family;
		err = xlb_dp_set_backend(fx.dp, id, &be);
		if (err)
			return err;
	}
	return 0;
}

static int run_on(int ifindex, const void *in, __u32 len, void *out, __u32 *out_len, __u32 *act)
{
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = *out_len, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(fx.dp->prog_fd, &o))
		return -errno;
	*out_len = o.data_size_out;
	*act = o.retval;
	return 0;
}

static __u16 csum16(const __u8 *p, size_t n, __u32 sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static int build(const struct icase *c, __u8 *frame, struct pkt_spec *s)
{
	int vip = c->vip_family == 4 ? 0 : 2, len, l3;

	pkt_spec_init(s, c->vip_family, IPPROTO_TCP);
	s->dst = fx.vip[vip].key.addr;
	s->dport = ntohs(fx.vip[vip].key.port);
	s->df = c->vip_family == 4 && !c->no_df;
	s->payload_len = c->payload_len;
	s->n_vlan = c->n_vlan;
	for (int i = 0; i < c->n_vlan; i++)
		s->vlan[i] = (struct pkt_vlan){.tpid = 0x8100, .vid = 10 + i};
	len = pkt_build(s, frame, PKT_BUF_SIZE);
	l3 = 14 + 4 * c->n_vlan;
	if (len > 0 && c->tos && c->vip_family == 4) {
		frame[l3 + 1] = c->tos;
		frame[l3 + 10] = frame[l3 + 11] = 0;
		__u16 ck = csum16(frame + l3, 20, 0);
		frame[l3 + 10] = ck >> 8;
		frame[l3 + 11] = ck & 0xff;
	} else if (len > 0 && c->tos) {
		frame[l3] = 0x60 | (c->tos >> 4);
		frame[l3 + 1] = (frame[l3 + 1] & 0x0f) | ((c->tos & 0x0f) << 4);
	}
	return len;
}

/* An encapsulated frame: MACs, outer header fields, and the inner packet byte for byte. */
static void check_encap(const struct icase *c, const __u8 *in, int in_len, const __u8 *out,
			__u32 out_len)
{
	int l3 = 14 + 4 * c->n_vlan, inner_len = in_len - l3;
	int hlen = c->be_family == 4 ? 20 : 40;
	const __u8 *dmac = c->route == REDIRECT ? hop2 : hop1;
	const __u8 *o = out + 14;
	struct xlb_addr be, src = {0};

	backend_addr(c->be_family, c->route, &be);
	if (c->route_src)
		inet_pton(c->be_family == 4 ? AF_INET : AF_INET6,
			  c->be_family == 4 ? (c->route == REDIRECT ? "100.64.2.1" : "100.64.1.1")
					    : (c->route == REDIRECT ? "fd00:b::1" : "fd00:a::1"),
			  &src);
	else
		inet_pton(c->be_family == 4 ? AF_INET : AF_INET6, c->be_family == 4 ? SRC4 : SRC6,
			  &src);
	if (!ASSERT_EQ(out_len, (__u32)(14 + hlen + inner_len), "frame length"))
		return;
	if (c->route == NO_NEIGH) { /* to the kernel: still addressed to us, as it came */
		ASSERT_MEM_EQ(out, in, 12, "MACs unchanged");
	} else {
		ASSERT_MEM_EQ(out, dmac, 6, "destination: the next hop's MAC");
		ASSERT_MEM_EQ(out + 6, c->route == REDIRECT ? out0_mac : lb_mac, 6,
			      "source: the egress interface's MAC");
	}
	ASSERT_EQ((out[12] << 8) | out[13], c->be_family == 4 ? ETH_P_IP : ETH_P_IPV6,
		  "ethertype: the outer family");
	ASSERT_MEM_EQ(out + 14 + hlen, in + l3, inner_len, "inner packet unchanged");
	if (c->be_family == 4) {
		ASSERT_EQ(o[0], 0x45, "version 4, ihl 5");
		ASSERT_EQ(o[1], c->tos & 0xfc, "dscp copied, ecn 0");
		ASSERT_EQ((o[2] << 8) | o[3], 20 + inner_len, "total length");
		ASSERT_EQ((o[4] << 8) | o[5], 0, "id 0");
		ASSERT_EQ((o[6] << 8) | o[7], 0x4000, "DF, no fragment");
		ASSERT_EQ(o[8], 64, "ttl");
		ASSERT_EQ(o[9], c->vip_family == 4 ? 4 : 41, "protocol");
		ASSERT_EQ(csum16(o, 20, 0), 0, "header checksum");
		ASSERT_MEM_EQ(o + 12, &src, 4, "outer source");
		ASSERT_MEM_EQ(o + 16, &be, 4, "outer destination: the backend");
	} else {
		__u32 w = ((__u32)o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3];

		ASSERT_EQ(w >> 28, 6, "version 6");
		ASSERT_EQ((w >> 20) & 0xff, c->tos & 0xfc, "dscp copied, ecn 0");
		ASSERT_EQ((o[4] << 8) | o[5], inner_len, "payload length");
		ASSERT_EQ(o[6], c->vip_family == 4 ? 4 : 41, "next header");
		ASSERT_EQ(o[7], 64, "hop limit");
		ASSERT_MEM_EQ(o + 8, &src, 16, "outer source");
		ASSERT_MEM_EQ(o + 24, &be, 16, "outer destination: the backend");
	}
}

/* A PMTU answer: back to the client, from the VIP, quoting the packet, checksums right. */
static void check_answer(const struct icase *c, const __u8 *in, const struct pkt_spec *s,
			 const __u8 *out, __u32 out_len)
{
	int l3 = 14 + 4 * c->n_vlan, q = c->vip_family == 4 ? 68 : 128;
	int hlen = c->vip_family == 4 ? 20 : 40;
	const __u8 *ip = out + l3, *icmp = ip + hlen;

	if (!ASSERT_EQ(out_len, (__u32)(l3 + hlen + 8 + q), "answer length"))
		return;
	ASSERT_MEM_EQ(out, in + 6, 6, "to the client's MAC");
	ASSERT_MEM_EQ(out + 6, in, 6, "from ours");
	ASSERT_MEM_EQ(out + 12, in + 12, l3 - 12, "VLAN tags and ethertype kept");
	ASSERT_MEM_EQ(icmp + 8, in + l3, q, "quotes the packet's start");
	ASSERT_TRUE(pkt_checksum_ok(out, out_len), "IP and ICMP checksums");
	if (c->vip_family == 4) {
		ASSERT_EQ(ip[9], IPPROTO_ICMP, "icmp");
		ASSERT_EQ(ip[8], 64, "ttl");
		ASSERT_MEM_EQ(ip + 12, &s->dst, 4, "from the VIP");
		ASSERT_MEM_EQ(ip + 16, &s->src, 4, "to the client");
		ASSERT_EQ(icmp[0], 3, "destination unreachable");
		ASSERT_EQ(icmp[1], 4, "fragmentation needed");
		ASSERT_EQ((icmp[6] << 8) | icmp[7], c->icmp_mtu, "next-hop mtu");
	} else {
		ASSERT_EQ(ip[6], IPPROTO_ICMPV6, "icmpv6");
		ASSERT_MEM_EQ(ip + 8, &s->dst, 16, "from the VIP");
		ASSERT_MEM_EQ(ip + 24, &s->src, 16, "to the client");
		ASSERT_EQ(icmp[0], 2, "packet too big");
		ASSERT_EQ(((__u32)icmp[4] << 24) | (icmp[5] << 16) | (icmp[6] << 8) | icmp[7],
			  c->icmp_mtu, "mtu");
	}
}

static __u64 counter(enum xlb_counter c)
{
	__u64 v[XLB_C_MAX];

	return xlb_dp_read_counters(fx.dp, v) ? ~0ULL : v[c];
}

static void test_ipip_cases(void)
{
	if (!net_ok) {
		xt_skip("no test namespace (needs root, veth, ethtool)");
		return;
	}
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_IPIP);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[2].id, XLB_FWD_IPIP);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct icase *c = &cases[i];
		__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
		__u32 out_len = sizeof(out), act = ~0u;
		__u64 before[XLB_C_MAX], after[XLB_C_MAX];
		struct xlb_addr be;
		struct pkt_spec s;
		int len;

		if (!xt_row("%s", c->desc))
			continue;
		backend_addr(c->be_family, c->route, &be);
		set_src(c->route_src);
		fx_flush_flows(&fx);
		if (!ASSERT_OK(point_backends(c->vip_family == 4 ? 0 : 2, c->be_family, &be),
			       "backends"))
			continue;
		len = build(c, frame, &s);
		if (!ASSERT_TRUE(len > 0, "build"))
			continue;
		xlb_dp_read_counters(fx.dp, before);
		if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "test run"))
			continue;
		xlb_dp_read_counters(fx.dp, after);
		ASSERT_EQ(act, c->action, "action");
		ASSERT_EQ(after[c->c] - before[c->c], 1, xlb_counter_name(c->c));
		ASSERT_EQ(after[XLB_C_ACT_ABORTED + c->action] -
				  before[XLB_C_ACT_ABORTED + c->action],
			  1, "action counter");
		if (c->c == XLB_C_PASS_NO_NEIGH)
			ASSERT_EQ(after[ENC(c->vip_family, c->be_family)] -
					  before[ENC(c->vip_family, c->be_family)],
				  1, "counted as encapsulated too");
		if (c->icmp_mtu)
			check_answer(c, frame, &s, out, out_len);
		else if (c->action != XDP_DROP)
			check_encap(c, frame, len, out, out_len);
		else
			ASSERT_EQ(out_len, (__u32)len, "dropped frame untouched");
	}
	xt_row_end();
	set_src(false);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_DSR_L2);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[2].id, XLB_FWD_DSR_L2);
}

/*
 * The forwarding mode is the VIP's, read for every packet: an established flow (a flow-table
 * hit, which never looks the VIP up) switches with it, on the backend it has.
 */
static void test_fwd_switch_keeps_backend(void)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len, act, be_id;
	struct xlb_addr be;
	struct pkt_spec s;
	int len;

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	backend_addr(4, TX, &be);
	set_src(false);
	fx_flush_flows(&fx);
	point_backends(0, 4, &be);
	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.dst = fx.vip[0].key.addr;
	s.df = s.family == 4;
	len = pkt_build(&s, frame, sizeof(frame));
	out_len = sizeof(out);
	if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "syn, dsr-l2"))
		return;
	ASSERT_EQ(act, XDP_TX, "dsr-l2: tx");
	be_id = fx_backend_of(out, out_len);
	ASSERT_TRUE(be_id != 0, "dsr-l2: to a backend's MAC");
	ASSERT_EQ(out_len, (__u32)len, "dsr-l2: not encapsulated");

	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_IPIP);
	s.tcp_flags = PKT_TCP_ACK;
	len = pkt_build(&s, frame, sizeof(frame));
	out_len = sizeof(out);
	ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "ack, ipip");
	ASSERT_EQ(act, XDP_TX, "ipip: tx");
	ASSERT_EQ(out_len, (__u32)len + 20, "ipip: encapsulated");
	/* Same backend: the flow entry still names it. All backends have one address here, so
	 * look at the entry. */
	{
		struct xlb_flow_key k;
		struct xlb_flow f;

		fx_spec_key(&s, &k);
		ASSERT_OK(xlb_dp_flow_get(fx.dp, &k, &f), "flow entry");
		ASSERT_EQ(f.backend_id, be_id, "flow kept its backend");
	}
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_DSR_L2);
	out_len = sizeof(out);
	ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "ack, dsr-l2 again");
	ASSERT_EQ(fx_backend_of(out, out_len), be_id, "back on dsr-l2, same backend");
	ASSERT_EQ(out_len, (__u32)len, "dsr-l2 again: not encapsulated");
}

static __u64 coarse_second(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* Every CPU's budget: `sent` answers used in the second `second`. */
static int set_budget(__u64 second, __u64 sent)
{
	int n = libbpf_num_possible_cpus(), fd = bpf_map__fd(fx.dp->skel->maps.xlb_icmp_budget);
	struct xlb_icmp_budget v[n];
	__u32 zero = 0;

	for (int i = 0; i < n; i++)
		v[i] = (struct xlb_icmp_budget){.second = second, .sent = sent};
	return bpf_map_update_elem(fd, &zero, v, BPF_ANY);
}

/*
 * PMTU answers are limited per CPU per second (pmtu_answers_per_sec, 1,000): with the budget of
 * this second used up, a too-big packet is dropped and counted; with one left, answered. The
 * budget is written for the current second; a run that straddles a second is tried again.
 */
static void test_pmtu_rate_limited(void)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	struct xlb_addr be;
	struct pkt_spec s;
	int len;

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_IPIP);
	backend_addr(4, SMALL_MTU, &be);
	point_backends(0, 4, &be);
	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.dst = fx.vip[0].key.addr;
	s.df = true;
	s.payload_len = 1460;
	len = pkt_build(&s, frame, sizeof(frame));
	for (__u64 used = 1000; used >= 999; used--) {
		__u32 out_len, act = ~0u;
		__u64 r0, t0, t1;
		int tries = 0;

		do {
			t0 = coarse_second();
			set_budget(t0, used);
			r0 = counter(XLB_C_DROP_PMTU_RATE);
			out_len = sizeof(out);
			if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "test run"))
				return;
			t1 = coarse_second();
		} while (t0 != t1 && ++tries < 5);
		if (used == 1000) {
			ASSERT_EQ(act, XDP_DROP, "budget used up: dropped");
			ASSERT_EQ(counter(XLB_C_DROP_PMTU_RATE) - r0, 1, "drop_pmtu_rate");
		} else {
			ASSERT_EQ(act, XDP_TX, "one answer left: answered");
			ASSERT_EQ(counter(XLB_C_DROP_PMTU_RATE) - r0, 0, "not counted as dropped");
		}
	}
	set_budget(0, 0);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_DSR_L2);
}

/* An ICMP error from a router to the VIP, quoting what the backend sent the client (VIP:80 ->
 * client:40000, TCP) of pkt_spec_init's flow; type: ICMP 3 / ICMPv6 2, or 8 / 128 (echo).
 * qfrag: the quoted IPv4 header's fragment field (host order; 0: not a fragment). */
static int icmp_frame_frag(__u8 family, const struct xlb_addr *vip, __u8 type, __u16 sport,
			   __u16 qfrag, __u8 *frame)
{
	__u8 orig[PKT_BUF_SIZE];
	struct pkt_spec o, s;
	int qlen = family == 4 ? 28 : 48, len;

	pkt_spec_init(&o, family, IPPROTO_TCP);
	o.src = *vip;
	pkt_spec_init(&s, family, IPPROTO_TCP); /* the client's address */
	o.dst = s.src;
	o.sport = 80;
	o.dport = sport;
	o.tcp_flags = PKT_TCP_ACK;
	o.payload_len = 1400;
	len = pkt_build(&o, orig, sizeof(orig));
	if (len < 14 + qlen)
		return -1;
	if (family == 4 && qfrag) {
		orig[14 + 6] = qfrag >> 8;
		orig[14 + 7] = qfrag & 0xff;
	}
	pkt_spec_init(&s, family, family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "203.0.113.9" : "2001:db8:9::9",
		  &s.src);
	s.dst = *vip;
	s.icmp_type = type;
	s.payload = orig + 14;
	s.payload_len = qlen;
	return pkt_build(&s, frame, PKT_BUF_SIZE);
}

static int icmp_frame(__u8 family, const struct xlb_addr *vip, __u8 type, __u16 sport, __u8 *frame)
{
	return icmp_frame_frag(family, vip, type, sport, 0, frame);
}

/*
 * ICMP errors to a VIP about a flow in the flow table go to the flow's backend, unchanged, by
 * the VIP's mode (ipip: encapsulated; dsr-l2: the backend's MAC); anything else ICMP passes.
 */
static void test_icmp_error_relayed(void)
{
	static const struct {
		const char *desc;
		__u8 family, type, fwd;
		bool other_port; /* quotes a flow that is not in the table */
		__u32 action;
		__u16 qfrag; /* the quoted IPv4 header's fragment field */
	} rows[] = {
		{"ipv4 fragmentation needed, ipip: to the flow's backend", 4, 3, XLB_FWD_IPIP,
		 false, XDP_TX, 0},
		{"ipv6 packet too big, ipip: to the flow's backend", 6, 2, XLB_FWD_IPIP, false,
		 XDP_TX, 0},
		{"ipv4 time exceeded, dsr-l2: to the flow's backend's MAC", 4, 11, XLB_FWD_DSR_L2,
		 false, XDP_TX, 0},
		{"ipv4 error about no known flow: passed", 4, 3, XLB_FWD_IPIP, true, XDP_PASS, 0},
		{"ipv6 error about no known flow: passed", 6, 2, XLB_FWD_IPIP, true, XDP_PASS, 0},
		{"ipv4 echo request to the vip: passed", 4, 8, XLB_FWD_IPIP, false, XDP_PASS, 0},
		{"ipv6 echo request to the vip: passed", 6, 128, XLB_FWD_IPIP, false, XDP_PASS, 0},
		{"ipv4 error quoting a first fragment: to the flow's backend", 4, 3, XLB_FWD_IPIP,
		 false, XDP_TX, 0x2000},
		{"ipv4 error quoting a later fragment (no ports): passed", 4, 3, XLB_FWD_IPIP,
		 false, XDP_PASS, 185},
	};

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	set_src(false);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u8 syn[PKT_BUF_SIZE], frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
		int vip = rows[i].family == 4 ? 0 : 2, len, slen;
		__u32 out_len = sizeof(out), act = ~0u, be_id;
		__u64 r0, r1;
		struct xlb_addr be;
		struct pkt_spec s;

		if (!xt_row("%s", rows[i].desc))
			continue;
		fx_flush_flows(&fx);
		backend_addr(rows[i].family, TX, &be);
		point_backends(vip, rows[i].family, &be);
		xlb_dp_set_vip_fwd(fx.dp, fx.vip[vip].id, rows[i].fwd);
		pkt_spec_init(&s, rows[i].family, IPPROTO_TCP);
		s.dst = fx.vip[vip].key.addr;
		slen = pkt_build(&s, syn, sizeof(syn));
		if (!ASSERT_OK(run_on(in0, syn, slen, out, &out_len, &act), "syn"))
			continue;
		be_id = rows[i].fwd == XLB_FWD_DSR_L2 ? fx_backend_of(out, out_len) : 0;
		len = icmp_frame_frag(rows[i].family, &fx.vip[vip].key.addr, rows[i].type,
				      rows[i].other_port ? 40001 : 40000, rows[i].qfrag, frame);
		if (!ASSERT_TRUE(len > 0, "build"))
			continue;
		r0 = counter(XLB_C_ICMP_RELAYED);
		out_len = sizeof(out);
		if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "icmp"))
			continue;
		r1 = counter(XLB_C_ICMP_RELAYED);
		ASSERT_EQ(act, rows[i].action, "action");
		ASSERT_EQ(r1 - r0, rows[i].action == XDP_TX ? 1 : 0, "icmp_relayed");
		if (rows[i].action != XDP_TX) {
			ASSERT_EQ(out_len, (__u32)len, "passed untouched: length");
			ASSERT_MEM_EQ(out, frame, len, "passed untouched");
		} else if (rows[i].fwd == XLB_FWD_IPIP) {
			int hlen = rows[i].family == 4 ? 20 : 40;

			ASSERT_EQ(out_len, (__u32)(len + hlen), "encapsulated");
			ASSERT_MEM_EQ(out, hop1, 6, "to the next hop");
			ASSERT_MEM_EQ(out + 14 + hlen, frame + 14, len - 14,
				      "the ICMP packet inside");
			ASSERT_MEM_EQ(out + 14 + (rows[i].family == 4 ? 16 : 24), &be,
				      rows[i].family == 4 ? 4 : 16,
				      "outer destination: the backend");
		} else {
			ASSERT_EQ(fx_backend_of(out, out_len), be_id, "the flow's backend's MAC");
			ASSERT_MEM_EQ(out + 12, frame + 12, len - 12, "the ICMP packet unchanged");
		}
	}
	xt_row_end();
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_DSR_L2);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[2].id, XLB_FWD_DSR_L2);
}

/*
 * An ICMPv6 packet too big to the IPv6 VIP about pkt_spec_init's flow (as icmp_frame), with
 * extension headers in the error and in the quoted packet (types as in struct pkt_ext, options
 * 8 bytes), the quote cut q_cut bytes short of its headers and 8 bytes.
 */
struct icmp6_shape {
	__u8 n_vlan;		       /* VLAN tags on the error's frame */
	__u8 n_ext, ext[PKT_MAX_EXTS]; /* the error's chain */
	bool mf;		       /* the error's fragment header (44 in ext): M set */
	__u8 q_n_ext, q_ext[PKT_MAX_EXTS];
	bool q_mf;
	__u16 q_frag_off; /* the quoted packet's fragment offset (8-byte units) */
	int q_cut;
};

static int icmp6_frame_shaped(const struct icmp6_shape *sh, const struct xlb_addr *vip, __u8 *frame)
{
	__u8 orig[PKT_BUF_SIZE];
	struct pkt_layout lo;
	struct pkt_spec o, s;
	int len, qlen;

	pkt_spec_init(&o, 6, IPPROTO_TCP);
	o.src = *vip;
	pkt_spec_init(&s, 6, IPPROTO_TCP); /* the client's address */
	o.dst = s.src;
	o.sport = 80;
	o.dport = 40000;
	o.tcp_flags = PKT_TCP_ACK;
	o.payload_len = 1400;
	o.n_ext = sh->q_n_ext;
	for (int i = 0; i < sh->q_n_ext; i++)
		o.ext[i] = (struct pkt_ext){.type = sh->q_ext[i]};
	o.mf = sh->q_mf;
	o.frag_off = sh->q_frag_off;
	len = pkt_build(&o, orig, sizeof(orig));
	if (len < 0 || pkt_layout(&o, &lo))
		return -1;
	qlen = (int)lo.l4_off - 14 + 8 - sh->q_cut;
	if (qlen < 0 || qlen > len - 14)
		return -1;
	pkt_spec_init(&s, 6, IPPROTO_ICMPV6);
	inet_pton(AF_INET6, "2001:db8:9::9", &s.src);
	s.dst = *vip;
	s.icmp_type = 2;
	s.n_vlan = sh->n_vlan;
	for (int i = 0; i < sh->n_vlan; i++)
		s.vlan[i] = (struct pkt_vlan){.tpid = ETH_P_8021Q, .vid = 100 + i};
	s.n_ext = sh->n_ext;
	for (int i = 0; i < sh->n_ext; i++)
		s.ext[i] = (struct pkt_ext){.type = sh->ext[i]};
	s.mf = sh->mf;
	s.payload = orig + 14;
	s.payload_len = qlen;
	return pkt_build(&s, frame, PKT_BUF_SIZE);
}

/* The IPv6 VIP (fixture VIP 2) with fwd ipip and the flow the errors quote in the table. */
static bool icmp6_flow_setup(struct xlb_addr *be)
{
	__u8 syn[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = ~0u;
	struct pkt_spec s;
	int slen;

	fx_flush_flows(&fx);
	backend_addr(6, TX, be);
	point_backends(2, 6, be);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[2].id, XLB_FWD_IPIP);
	pkt_spec_init(&s, 6, IPPROTO_TCP);
	s.dst = fx.vip[2].key.addr;
	slen = pkt_build(&s, syn, sizeof(syn));
	return ASSERT_OK(run_on(in0, syn, slen, out, &out_len, &act), "syn") &&
	       ASSERT_EQ(act, XDP_TX, "syn forwarded");
}

/* frame (l2 bytes of Ethernet and VLAN tags) relayed to backend be: encapsulated toward it,
 * untagged, the error inside unchanged. */
static void assert_relayed(const __u8 *frame, int len, int l2, const __u8 *out, __u32 out_len,
			   __u32 act, const struct xlb_addr *be)
{
	ASSERT_EQ(act, XDP_TX, "action");
	ASSERT_EQ(out_len, (__u32)(len - l2 + 14 + 40), "encapsulated");
	ASSERT_MEM_EQ(out + 14 + 40, frame + l2, len - l2, "the ICMPv6 packet inside");
	ASSERT_MEM_EQ(out + 14 + 24, be, 16, "outer destination: the backend");
}

/*
 * The ICMPv6 relay walks extension headers as the parse does (docs/datapath.md, "ICMP errors
 * about VIP flows"): in the error (not a fragment of one) and in the quoted packet (not a later
 * fragment: it has no ports), up to the parse's limit of four; beyond it, passed.
 */
static void test_icmp6_relay_ext_headers(void)
{
	static const struct {
		const char *desc;
		struct icmp6_shape sh;
		__u32 action;
		enum xlb_counter pass; /* the pass counter of a passed row */
	} rows[] = {
		{"error with hop-by-hop: relayed", {.n_ext = 1, .ext = {0}}, XDP_TX, 0},
		{"error with routing: relayed", {.n_ext = 1, .ext = {43}}, XDP_TX, 0},
		{"error with destination options: relayed", {.n_ext = 1, .ext = {60}}, XDP_TX, 0},
		{"error with an atomic fragment header: relayed",
		 {.n_ext = 1, .ext = {44}},
		 XDP_TX,
		 0},
		{"error is a first fragment: passed",
		 {.n_ext = 1, .ext = {44}, .mf = true},
		 XDP_PASS,
		 XLB_C_PASS_NOT_VIP},
		{"error with four headers (the limit): relayed",
		 {.n_ext = 4, .ext = {0, 60, 43, 60}},
		 XDP_TX,
		 0},
		{"error with five headers: passed",
		 {.n_ext = 5, .ext = {0, 60, 43, 60, 60}},
		 XDP_PASS,
		 XLB_C_PASS_IPV6_EXT_LIMIT},
		{"quoted hop-by-hop: relayed", {.q_n_ext = 1, .q_ext = {0}}, XDP_TX, 0},
		{"quoted routing: relayed", {.q_n_ext = 1, .q_ext = {43}}, XDP_TX, 0},
		{"quoted destination options: relayed", {.q_n_ext = 1, .q_ext = {60}}, XDP_TX, 0},
		{"quoted atomic fragment: relayed", {.q_n_ext = 1, .q_ext = {44}}, XDP_TX, 0},
		{"quoted first fragment: relayed",
		 {.q_n_ext = 1, .q_ext = {44}, .q_mf = true},
		 XDP_TX,
		 0},
		{"quoted non-first fragment: passed (no ports)",
		 {.q_n_ext = 1, .q_ext = {44}, .q_mf = true, .q_frag_off = 100},
		 XDP_PASS,
		 XLB_C_PASS_NOT_VIP},
		{"quoted last fragment: passed (no ports)",
		 {.q_n_ext = 2, .q_ext = {0, 44}, .q_frag_off = 100},
		 XDP_PASS,
		 XLB_C_PASS_NOT_VIP},
		{"quoted four headers (the limit): relayed",
		 {.q_n_ext = 4, .q_ext = {0, 43, 44, 60}},
		 XDP_TX,
		 0},
		{"quoted five headers: passed",
		 {.q_n_ext = 5, .q_ext = {0, 60, 43, 60, 60}},
		 XDP_PASS,
		 XLB_C_PASS_NOT_VIP},
		{"error with a VLAN tag and hop-by-hop, quoted routing: relayed",
		 {.n_vlan = 1, .n_ext = 1, .ext = {0}, .q_n_ext = 1, .q_ext = {43}},
		 XDP_TX,
		 0},
		{"error with two VLAN tags and four headers: relayed",
		 {.n_vlan = 2, .n_ext = 4, .ext = {0, 60, 43, 60}},
		 XDP_TX,
		 0},
		{"both chains, four each: relayed",
		 {.n_ext = 4,
		  .ext = {0, 43, 44, 60},
		  .q_n_ext = 4,
		  .q_ext = {0, 43, 60, 44},
		  .q_mf = true},
		 XDP_TX,
		 0},
	};
	struct xlb_addr be;

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	set_src(false);
	if (!icmp6_flow_setup(&be))
		return;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
		__u32 out_len = sizeof(out), act = ~0u;
		__u64 r0, p0;
		int len;

		if (!xt_row("%s", rows[i].desc))
			continue;
		len = icmp6_frame_shaped(&rows[i].sh, &fx.vip[2].key.addr, frame);
		if (!ASSERT_TRUE(len > 0, "build"))
			continue;
		r0 = counter(XLB_C_ICMP_RELAYED);
		p0 = rows[i].action == XDP_PASS ? counter(rows[i].pass) : 0;
		if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "icmp"))
			continue;
		ASSERT_EQ(counter(XLB_C_ICMP_RELAYED) - r0, rows[i].action == XDP_TX ? 1 : 0,
			  "icmp_relayed");
		if (rows[i].action == XDP_TX) {
			assert_relayed(frame, len, 14 + 4 * rows[i].sh.n_vlan, out, out_len, act,
				       &be);
			continue;
		}
		ASSERT_EQ(act, XDP_PASS, "action");
		ASSERT_EQ(counter(rows[i].pass) - p0, 1, "pass counter");
		ASSERT_EQ(out_len, (__u32)len, "passed untouched: length");
		ASSERT_MEM_EQ(out, frame, len, "passed untouched");
	}
	xt_row_end();
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[2].id, XLB_FWD_DSR_L2);
}

/*
 * Truncated errors are never relayed: an error whose quote stops short of the quoted packet's
 * ports (a quote that holds them is relayed), at every length through its chain (its own lengths consistent: passed as ICMPv6 not
 * for a VIP flow), and the whole frame cut at every length (its lengths then claim more than
 * there is: never forwarded).
 */
static void test_icmp6_relay_truncated(void)
{
	struct icmp6_shape sh = {.n_ext = 3,
				 .ext = {0, 44, 60},
				 .q_n_ext = 4,
				 .q_ext = {0, 43, 60, 44},
				 .q_mf = true};
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = ~0u;
	int len, full, cut, bad = 0;
	struct xlb_addr be;
	__u64 r0;

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	set_src(false);
	if (!icmp6_flow_setup(&be))
		return;
	full = icmp6_frame_shaped(&sh, &fx.vip[2].key.addr, frame);
	if (!ASSERT_TRUE(full > 0, "build") ||
	    !ASSERT_OK(run_on(in0, frame, full, out, &out_len, &act), "whole"))
		return;
	assert_relayed(frame, full, 14, out, out_len, act, &be);
	/* The quote: 40 + 4 * 8 + 8 bytes, cut by 1 .. all of them. */
	for (cut = 1; cut <= 40 + 4 * 8 + 8; cut++) {
		sh.q_cut = cut;
		len = icmp6_frame_shaped(&sh, &fx.vip[2].key.addr, frame);
		if (!ASSERT_TRUE(len > 0, "build"))
			return;
		r0 = counter(XLB_C_ICMP_RELAYED);
		out_len = sizeof(out);
		if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "cut quote"))
			return;
		/* The ports are the first 4 of the 8 bytes after the quoted headers. */
		if (cut <= 4 ? act != XDP_TX || counter(XLB_C_ICMP_RELAYED) != r0 + 1
			     : act != XDP_PASS || counter(XLB_C_ICMP_RELAYED) != r0) {
			fprintf(stderr, "quote cut by %d: action %u, relayed %llu\n", cut, act,
				(unsigned long long)(counter(XLB_C_ICMP_RELAYED) - r0));
			bad++;
		}
	}
	ASSERT_EQ(bad, 0, "quotes with the ports relayed, quotes cut short of them passed");
	sh.q_cut = 0;
	full = icmp6_frame_shaped(&sh, &fx.vip[2].key.addr, frame);
	for (len = 14, bad = 0; len < full; len++) {
		r0 = counter(XLB_C_ICMP_RELAYED);
		out_len = sizeof(out);
		if (!ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "cut frame"))
			return;
		if (act == XDP_TX || act == XDP_REDIRECT || counter(XLB_C_ICMP_RELAYED) != r0) {
			fprintf(stderr, "frame cut to %d bytes: action %u\n", len, act);
			bad++;
		}
	}
	ASSERT_EQ(bad, 0, "no frame cut short is relayed");
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[2].id, XLB_FWD_DSR_L2);
}

/* A relayed ICMP error too big for the tunnel is dropped, never answered with another error. */
static void test_no_error_about_an_error(void)
{
	__u8 syn[PKT_BUF_SIZE], frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = ~0u;
	struct xlb_addr be;
	struct pkt_spec s;
	__u64 t0;
	int len;

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	fx_flush_flows(&fx);
	backend_addr(4, SMALL_MTU, &be);
	point_backends(0, 4, &be);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_IPIP);
	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.dst = fx.vip[0].key.addr;
	s.df = true;
	len = pkt_build(&s, syn, sizeof(syn));
	ASSERT_OK(run_on(in0, syn, len, out, &out_len, &act), "syn");
	/* An ICMP error of 1,400 bytes quoting the flow (its header, then padding): 1,420 bytes
	 * encapsulated, over the route's 1,400. */
	{
		static __u8 pl[1372];
		__u8 small[PKT_BUF_SIZE];
		int n = icmp_frame(4, &fx.vip[0].key.addr, 3, 40000, small);

		if (!ASSERT_EQ(n, 14 + 20 + 8 + 28, "quote"))
			return;
		memcpy(pl, small + 14 + 20 + 8, 28);
		pkt_spec_init(&s, 4, IPPROTO_ICMP);
		inet_pton(AF_INET, "203.0.113.9", &s.src);
		s.dst = fx.vip[0].key.addr;
		s.icmp_type = 3;
		s.df = true;
		s.payload = pl;
		s.payload_len = sizeof(pl);
		len = pkt_build(&s, frame, sizeof(frame));
	}
	t0 = counter(XLB_C_DROP_TOO_BIG);
	out_len = sizeof(out);
	ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "icmp");
	ASSERT_EQ(act, XDP_DROP, "dropped");
	ASSERT_EQ(counter(XLB_C_DROP_TOO_BIG) - t0, 1, "drop_too_big");
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_DSR_L2);
}

/*
 * A lookup's answer is reused by the CPU for the same backend address and receiving interface
 * for XLB_NEXTHOP_TTL_NS: a neighbour entry deleted meanwhile does not matter until then;
 * afterwards the next packet looks up again (and finds the neighbour unresolved). A packet from
 * another interface looks up at once.
 */
static void test_nexthop_reused_then_looked_up(void)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	cpu_set_t one, saved;
	__u32 out_len, act;
	struct xlb_addr be;
	struct pkt_spec s;
	__u64 n0 = 0;
	int len;

	if (!net_ok) {
		xt_skip("no test namespace");
		return;
	}
	set_src(false);
	fx_flush_flows(&fx);
	backend_addr(4, TX, &be);
	point_backends(0, 4, &be);
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_IPIP);
	pkt_spec_init(&s, 4, IPPROTO_TCP);
	s.dst = fx.vip[0].key.addr;
	s.df = true;
	len = pkt_build(&s, frame, sizeof(frame));
	/* The answer is kept per CPU: every run on this one. And the second packet must come
	 * within the reuse time of the first: the neighbour's deletion (a shell and `ip`) can
	 * take longer on a loaded machine, and then the sequence is run again. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_getaffinity(0, sizeof(saved), &saved);
	sched_setaffinity(0, sizeof(one), &one);
	for (int attempt = 0; attempt < 5; attempt++) {
		struct timespec t0, t1;

		sh("ip neigh replace 100.64.1.254 lladdr 02:00:00:00:fe:01 dev in0 nud permanent");
		usleep(150000); /* whatever this CPU kept is past its reuse time */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		out_len = sizeof(out);
		ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "first");
		ASSERT_EQ(act, XDP_TX, "first: looked up, tx");
		if (!ASSERT_OK(sh("ip neigh del 100.64.1.254 dev in0"), "neighbour deleted"))
			goto out;
		n0 = counter(XLB_C_PASS_NO_NEIGH);
		out_len = sizeof(out);
		ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "second");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec) <
		    (long long)XLB_NEXTHOP_TTL_NS * 3 / 4)
			break;
		fprintf(stderr, "    attempt %d: the second packet came past the reuse time\n",
			attempt);
	}
	ASSERT_EQ(act, XDP_TX, "within the reuse time: the kept next hop");
	ASSERT_MEM_EQ(out, hop1, 6, "the kept MAC");
	out_len = sizeof(out);
	ASSERT_OK(run_on(out0, frame, len, out, &out_len, &act), "from out0");
	ASSERT_EQ(act, XDP_PASS, "another receiving interface: looked up, unresolved");
	ASSERT_EQ(counter(XLB_C_PASS_NO_NEIGH) - n0, 1, "pass_no_neigh");
	/* Past XLB_NEXTHOP_TTL_NS (100 ms) and a tick of the coarse clock. */
	usleep(300000);
	out_len = sizeof(out);
	ASSERT_OK(run_on(in0, frame, len, out, &out_len, &act), "after the reuse time");
	ASSERT_EQ(act, XDP_PASS, "expired: looked up, unresolved");
	ASSERT_EQ(counter(XLB_C_PASS_NO_NEIGH) - n0, 2, "pass_no_neigh again");
out:
	sh("ip neigh replace 100.64.1.254 lladdr 02:00:00:00:fe:01 dev in0 nud permanent");
	xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id, XLB_FWD_DSR_L2);
	sched_setaffinity(0, sizeof(saved), &saved);
}

int main(void)
{
	int err;

	if (unshare(CLONE_NEWNET) == 0) {
		net_ok = 1;
		for (size_t i = 0; i < sizeof(netns_setup) / sizeof(netns_setup[0]); i++) {
			if (sh(netns_setup[i])) {
				fprintf(stderr, "setup failed: %s\n", netns_setup[i]);
				net_ok = 0;
				break;
			}
		}
	}
	err = fx_setup(&fx, NULL);
	if (err) {
		fprintf(stderr, "fixture: %s\n", strerror(-err));
		return 1;
	}
	in0 = if_nametoindex("in0");
	out0 = if_nametoindex("out0");
	if (net_ok && (!in0 || !out0 || xlb_dp_set_tx_ports(fx.dp)))
		net_ok = 0;
	RUN_TEST(test_ipip_cases);
	RUN_TEST(test_fwd_switch_keeps_backend);
	RUN_TEST(test_pmtu_rate_limited);
	RUN_TEST(test_icmp_error_relayed);
	RUN_TEST(test_icmp6_relay_ext_headers);
	RUN_TEST(test_icmp6_relay_truncated);
	RUN_TEST(test_no_error_about_an_error);
	RUN_TEST(test_nexthop_reused_then_looked_up);
	fx_teardown(&fx);
	return xt_finish();
}
