/* test_flows.c - flow table, failover, draining, determinism and atomic table swaps (real program). */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <arpa/inet.h>
#include <linux/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "addr.h"
#include "fixture.h"
#include "xlb_hash.h"
#include "xlb.skel.h"
#include "xlbd.h"

#define NFLOWS 600

static struct fx fx;

/* Flow i (distinct client address and port) to VIP vip of the fixture. */
static void vip_flow_spec(const struct fx *f, int vip, __u32 i, struct pkt_spec *s)
{
	pkt_spec_init(s, f->vip[vip].key.family, f->vip[vip].key.proto);
	s->dst = f->vip[vip].key.addr;
	s->dport = ntohs(f->vip[vip].key.port);
	pkt_spec_flow(s, i);
}

/* Sends flow i of a VIP (0..3 as in fixture.h) and returns the backend id it went to (0: not
 * forwarded; *action says what happened). */
static __u32 send_flow(struct fx *f, int vip, __u32 i, __u8 tcp_flags, __u32 *action)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = 0;
	struct pkt_spec s;
	int len;

	vip_flow_spec(f, vip, i, &s);
	s.tcp_flags = tcp_flags;
	len = pkt_build(&s, frame, sizeof(frame));
	if (len <= 0 || fx_run(f, frame, len, out, &out_len, &act)) {
		act = -1;
		return 0;
	}
	if (action)
		*action = act;
	return act == XDP_TX ? fx_backend_of(out, out_len) : 0;
}

static void flow_key(int vip, __u32 i, struct xlb_flow_key *k)
{
	struct pkt_spec s;

	vip_flow_spec(&fx, vip, i, &s);
	fx_spec_key(&s, k);
}

static __u64 counter(struct fx *f, enum xlb_counter c)
{
	__u64 v[XLB_C_MAX];

	return xlb_dp_read_counters(f->dp, v) ? ~0ULL : v[c];
}

static void restore(void)
{
	for (int v = 0; v < FX_NVIPS; v++) {
		for (__u32 j = 0; j < fx.vip[v].nbe; j++)
			fx_set_state(&fx, fx.vip[v].be[j], XLB_BE_UP);
		fx.vip[v].nbe = 3;
		for (int j = 0; j < 3; j++) {
			fx.vip[v].be[j] = v * 3 + j + 1;
			fx.vip[v].weight[j] = 1;
		}
		fx_publish(&fx, v);
	}
	fx_flush_flows(&fx);
}

/* New flows follow the ring exactly, for every VIP. */
static void test_new_flows_follow_ring(void)
{
	restore();
	for (int v = 0; v < FX_NVIPS; v++) {
		int spread[FX_MAX_BE] = {0}, how;

		for (__u32 i = 0; i < NFLOWS; i++) {
			struct xlb_flow_key k;
			__u32 be = send_flow(&fx, v, i, PKT_TCP_SYN, NULL);

			flow_key(v, i, &k);
			if (!ASSERT_EQ(be, fx_oracle_pick(&fx, v, &k, &how), "backend = ring pick"))
				return;
			spread[be]++;
		}
		for (int j = 0; j < 3; j++) /* 600 flows over 3 equal backends: ~200 each */
			ASSERT_TRUE(spread[fx.vip[v].be[j]] > 140, "every backend gets flows");
	}
}

/* A flow keeps its backend when the table changes; new flows use the new table. */
static void test_sticky_across_table_change(void)
{
	__u32 before[NFLOWS], moved = 0, kept = 0;
	int how;

	restore();
	for (__u32 i = 0; i < NFLOWS; i++)
		before[i] = send_flow(&fx, 0, i, PKT_TCP_SYN, NULL);
	/* Backend 3 leaves the ring (weight 0), a new backend 13 joins with weight 2. */
	struct xlb_backend be = {.state = XLB_BE_UP,
				 .family = XLB_AF_INET,
				 .vip_id = fx.vip[0].id,
				 .mac = {0x02, 0, 0, 0, 0x01, 13}};
	be.addr.v4 = htonl(0x0a00010d);
	ASSERT_OK(xlb_dp_set_backend(fx.dp, 13, &be), "add backend 13");
	fx.state[13] = XLB_BE_UP;
	fx.be_vip[13] = fx.vip[0].id;
	fx.vip[0].weight[2] = 0;
	fx.vip[0].be[3] = 13;
	fx.vip[0].weight[3] = 2;
	fx.vip[0].nbe = 4;
	ASSERT_OK(fx_publish(&fx, 0), "publish");

	for (__u32 i = 0; i < NFLOWS; i++) {
		struct xlb_flow_key k;

		flow_key(0, i, &k);
		ASSERT_EQ(send_flow(&fx, 0, i, PKT_TCP_ACK, NULL), before[i],
			  "established flow stays");
		if (fx_oracle_pick(&fx, 0, &k, &how) != before[i])
			moved++;
		/* A new flow (another client port) uses the new ring. */
		flow_key(0, i + 100000, &k);
		if (!ASSERT_EQ(send_flow(&fx, 0, i + 100000, PKT_TCP_SYN, NULL),
			       fx_oracle_pick(&fx, 0, &k, &how), "new flow follows new ring"))
			break;
		kept++;
	}
	ASSERT_TRUE(moved > NFLOWS / 4, "the new ring really moved many flows");
	ASSERT_EQ(kept, NFLOWS, "all new flows checked");
	fx_set_state(&fx, 13, XLB_BE_DOWN);
}

/* Down backend: its flows re-pick at once (same pick as a fresh flow), others stay. */
static void test_down_backend_failover(void)
{
	__u32 before[NFLOWS], down = fx.vip[2].be[1];
	__u64 repick0, repick1;
	int how, nmoved = 0;

	restore();
	for (__u32 i = 0; i < NFLOWS; i++)
		before[i] = send_flow(&fx, 2, i, PKT_TCP_SYN, NULL);
	ASSERT_OK(fx_set_state(&fx, down, XLB_BE_DOWN), "down");
	repick0 = counter(&fx, XLB_C_FLOW_REPICK);
	for (__u32 i = 0; i < NFLOWS; i++) {
		struct xlb_flow_key k;
		__u32 be = send_flow(&fx, 2, i, PKT_TCP_ACK, NULL);

		flow_key(2, i, &k);
		if (before[i] == down) {
			nmoved++;
			ASSERT_NEQ(be, down, "no packet to a down backend");
			ASSERT_EQ(be, fx_oracle_pick(&fx, 2, &k, &how), "re-pick = fresh pick");
			ASSERT_TRUE(how >= 1, "re-pick came from a re-hash");
		} else {
			ASSERT_EQ(be, before[i], "flows on healthy backends stay");
		}
	}
	repick1 = counter(&fx, XLB_C_FLOW_REPICK);
	ASSERT_EQ(repick1 - repick0, nmoved, "flow_repick counts the moved flows");
	ASSERT_TRUE(nmoved > 100, "a third of the flows were on the down backend");

	/* Back up: re-steered flows stay where they went (their entry was rewritten). */
	fx_set_state(&fx, down, XLB_BE_UP);
	for (__u32 i = 0; i < NFLOWS; i++)
		if (before[i] == down)
			ASSERT_NEQ(send_flow(&fx, 2, i, PKT_TCP_ACK, NULL), down,
				   "re-steered flow does not bounce back");
}

/* Draining: existing flows stay, new flows avoid it. */
static void test_draining(void)
{
	__u32 before[NFLOWS], drain = fx.vip[0].be[0];
	int how;

	restore();
	for (__u32 i = 0; i < NFLOWS; i++)
		before[i] = send_flow(&fx, 0, i, PKT_TCP_SYN, NULL);
	fx_set_state(&fx, drain, XLB_BE_DRAINING);
	for (__u32 i = 0; i < NFLOWS; i++) {
		struct xlb_flow_key k;
		__u32 be;

		ASSERT_EQ(send_flow(&fx, 0, i, PKT_TCP_ACK, NULL), before[i],
			  "existing flow stays");
		be = send_flow(&fx, 0, i + 200000, PKT_TCP_SYN, NULL);
		flow_key(0, i + 200000, &k);
		ASSERT_NEQ(be, drain, "no new flow to a draining backend");
		ASSERT_EQ(be, fx_oracle_pick(&fx, 0, &k, &how), "new flow: oracle");
	}
}

/* A client reusing the 5-tuple of an ended connection opens a new one: scheduled afresh, so a
 * draining backend gets no new connection through an old flow entry; a live flow stays. */
static void test_port_reuse_is_a_new_flow(void)
{
	__u32 drain, moved = 0, n = 100;
	__u32 before[100];
	__u64 m0;

	restore();
	for (__u32 i = 0; i < n; i++)
		before[i] = send_flow(&fx, 0, 5000 + i, PKT_TCP_SYN, NULL);
	drain = before[0];
	for (__u32 i = 0; i < n; i++) /* half end with FIN, half stay open */
		if (i % 2 == 0)
			send_flow(&fx, 0, 5000 + i, PKT_TCP_FIN | PKT_TCP_ACK, NULL);
	fx_set_state(&fx, drain, XLB_BE_DRAINING);
	m0 = counter(&fx, XLB_C_FLOW_MISS);
	for (__u32 i = 0; i < n; i++) {
		__u32 be = send_flow(&fx, 0, 5000 + i, PKT_TCP_SYN, NULL);

		if (i % 2 == 0 && before[i] == drain) {
			ASSERT_NEQ(be, drain,
				   "reused port: no new connection to a draining backend");
			moved++;
		} else if (i % 2) {
			ASSERT_EQ(be, before[i], "a live flow's SYN retry stays");
		}
	}
	ASSERT_EQ(counter(&fx, XLB_C_FLOW_MISS) - m0, n / 2, "every reuse counted as a new flow");
	ASSERT_TRUE(moved > 0, "some reused flows were on the draining backend");
}

/* All down: no_backend; draining only: existing flows go on, new ones are dropped. */
static void test_no_usable_backend(void)
{
	__u64 nb0 = counter(&fx, XLB_C_DROP_NO_BACKEND);
	__u32 act = 0, old;

	restore();
	old = send_flow(&fx, 1, 7, 0, NULL);
	ASSERT_NEQ(old, 0, "udp flow forwarded");
	for (int j = 0; j < 3; j++)
		fx_set_state(&fx, fx.vip[1].be[j], XLB_BE_DRAINING);
	ASSERT_EQ(send_flow(&fx, 1, 7, 0, NULL), old, "existing flow on a draining backend");
	ASSERT_EQ(send_flow(&fx, 1, 8, 0, &act), 0, "new flow with only draining backends");
	ASSERT_EQ(act, XDP_DROP, "dropped");
	for (int j = 0; j < 3; j++)
		fx_set_state(&fx, fx.vip[1].be[j], XLB_BE_DOWN);
	ASSERT_EQ(send_flow(&fx, 1, 7, 0, &act), 0, "existing flow, all down");
	ASSERT_EQ(act, XDP_DROP, "dropped");
	ASSERT_EQ(counter(&fx, XLB_C_DROP_NO_BACKEND) - nb0, 2, "drop_no_backend");
}

/* Re-hashes exhausted: the member walk still finds the one usable backend. */
static void test_member_walk(void)
{
	struct xlb_flow_key k;
	int how, found = 0;
	__u64 w0;

	restore();
	/* Weights 1:1:30: the heavy backend owns ~94% of the slots; taking it down makes some
	 * flows miss on all 9 tries. */
	fx.vip[0].weight[2] = 30;
	fx_publish(&fx, 0);
	fx_set_state(&fx, fx.vip[0].be[2], XLB_BE_DOWN);
	fx_set_state(&fx, fx.vip[0].be[1], XLB_BE_DOWN);
	w0 = counter(&fx, XLB_C_FAILOVER_WALK);
	for (__u32 i = 0; i < 20000 && found < 20; i++) {
		flow_key(0, i, &k);
		if (fx_oracle_pick(&fx, 0, &k, &how) && how == XLB_REHASH_TRIES + 1) {
			found++;
			ASSERT_EQ(send_flow(&fx, 0, i, PKT_TCP_SYN, NULL), fx.vip[0].be[0],
				  "walk picks the only usable backend");
		}
	}
	ASSERT_EQ(found, 20, "flows that need the walk exist");
	ASSERT_EQ(counter(&fx, XLB_C_FAILOVER_WALK) - w0, found, "failover_walk counted");
}

/* Two separately loaded programs with the same maps choose the same backend for every flow,
 * including flows one of them had pinned to a backend that is now down. */
static void test_two_instances_agree(void)
{
	struct fx other;
	int same = 0, walk = 0;

	restore();
	if (!ASSERT_OK(fx_setup(&other, NULL), "second instance"))
		return;
	for (int v = 0; v < FX_NVIPS; v++) {
		fx.vip[v].weight[2] = 5;
		other.vip[v].weight[2] = 5;
		fx_publish(&fx, v);
		fx_publish(&other, v);
		/* Only the first instance has seen these flows. */
		for (__u32 i = 0; i < NFLOWS; i++)
			send_flow(&fx, v, i, PKT_TCP_SYN, NULL);
		fx_set_state(&fx, fx.vip[v].be[2], XLB_BE_DOWN);
		fx_set_state(&other, other.vip[v].be[2], XLB_BE_DOWN);
		if (v == 3) { /* and one VIP with two of three down */
			fx_set_state(&fx, fx.vip[v].be[0], XLB_BE_DOWN);
			fx_set_state(&other, other.vip[v].be[0], XLB_BE_DOWN);
		}
		for (__u32 i = 0; i < NFLOWS; i++) {
			__u32 a = send_flow(&fx, v, i, PKT_TCP_ACK, NULL);
			__u32 b = send_flow(&other, v, i, PKT_TCP_ACK, NULL);

			if (!ASSERT_EQ(a, b, "both instances agree"))
				break;
			same += a == b && a;
		}
	}
	walk = counter(&other, XLB_C_FAILOVER_REHASH);
	ASSERT_EQ(same, FX_NVIPS * NFLOWS, "every flow forwarded identically");
	ASSERT_TRUE(walk > 0, "failover re-hashes happened");
	fx_teardown(&other);
}

/*
 * Draining across LB nodes (docs/datapath.md, "Draining across nodes"): two instances with the
 * same maps, one has seen the flows (their SYNs), the other never has (ECMP moved them). The
 * draining backend stays in the ring; every mid-connection TCP packet (no SYN) goes to the
 * same backend on both, the one its connection had, the draining one included; SYNs and UDP new
 * flows never go to it, on either. With every backend draining, new flows are dropped on both
 * and mid-connection TCP still goes to its backend.
 */
static void test_drain_without_state(void)
{
	static __u32 before[FX_NVIPS][NFLOWS];
	struct fx other;
	int kept = 0;
	__u64 k0;

	restore();
	if (!ASSERT_OK(fx_setup(&other, NULL), "second instance"))
		return;
	for (int v = 0; v < FX_NVIPS; v++) {
		fx.vip[v].weight[2] = 3; /* weighted: the ring is not the members in turn */
		other.vip[v].weight[2] = 3;
		fx_publish(&fx, v);
		fx_publish(&other, v);
		for (__u32 i = 0; i < NFLOWS; i++) /* only the first instance sees these */
			before[v][i] = send_flow(
				&fx, v, i, fx.vip[v].key.proto == IPPROTO_TCP ? PKT_TCP_SYN : 0,
				NULL);
	}
	for (int v = 0; v < FX_NVIPS; v++) { /* drain each VIP's heavy backend, ring unchanged */
		fx_set_state(&fx, fx.vip[v].be[2], XLB_BE_DRAINING);
		fx_set_state(&other, other.vip[v].be[2], XLB_BE_DRAINING);
	}
	k0 = counter(&other, XLB_C_DRAIN_KEPT);
	for (int v = 0; v < FX_NVIPS; v++) {
		__u32 drain = fx.vip[v].be[2];
		int tcp = fx.vip[v].key.proto == IPPROTO_TCP, on_drain = 0;

		for (__u32 i = 0; tcp && i < NFLOWS; i++) {
			__u32 a = send_flow(&fx, v, i, PKT_TCP_ACK, NULL);
			__u32 b = send_flow(&other, v, i, PKT_TCP_ACK, NULL);

			if (!ASSERT_EQ(a, before[v][i],
				       "with the entry: the connection's backend") ||
			    !ASSERT_EQ(b, before[v][i], "without it: the same backend"))
				break;
			on_drain += b == drain;
		}
		if (tcp) {
			ASSERT_TRUE(on_drain > NFLOWS / 4,
				    "many connections on the draining backend");
			kept += on_drain;
		}
		for (__u32 i = 0; i < NFLOWS; i++) {
			__u8 flags = tcp ? PKT_TCP_SYN : 0;
			__u32 a = send_flow(&fx, v, 100000 + i, flags, NULL);
			__u32 b = send_flow(&other, v, 100000 + i, flags, NULL);

			if (!ASSERT_NEQ(b, drain,
					tcp ? "a SYN never goes to the draining backend"
					    : "a new UDP flow never goes to it") ||
			    !ASSERT_EQ(a, b, "new flows: both instances agree") ||
			    !ASSERT_NEQ(b, 0, "new flows forwarded"))
				break;
		}
	}
	ASSERT_EQ(counter(&other, XLB_C_DRAIN_KEPT) - k0, kept,
		  "drain_kept: each connection the draining backend kept without an entry");
	/* The instance without entries learnt them: a later ACK is a flow hit there. */
	ASSERT_EQ(send_flow(&other, 0, 0, PKT_TCP_ACK, NULL), before[0][0], "learnt");

	/* Every backend of VIP 0 draining: no new flow anywhere; mid-connection TCP goes on. */
	fx_flush_flows(&other);
	for (int j = 0; j < 3; j++) {
		fx_set_state(&fx, fx.vip[0].be[j], XLB_BE_DRAINING);
		fx_set_state(&other, other.vip[0].be[j], XLB_BE_DRAINING);
	}
	for (__u32 i = 0; i < NFLOWS; i++) {
		__u32 act_a = 0, act_b = 0;

		if (!ASSERT_EQ(send_flow(&other, 0, i, PKT_TCP_ACK, NULL), before[0][i],
			       "only draining: mid-connection TCP to its backend") ||
		    !ASSERT_EQ(send_flow(&fx, 0, 200000 + i, PKT_TCP_SYN, &act_a), 0,
			       "only draining: no SYN forwarded") ||
		    !ASSERT_EQ(send_flow(&other, 0, 200000 + i, PKT_TCP_SYN, &act_b), 0,
			       "nor on the other") ||
		    !ASSERT_EQ(act_a, XDP_DROP, "dropped") ||
		    !ASSERT_EQ(act_b, XDP_DROP, "dropped"))
			break;
	}
	fx_teardown(&other);
}

/* UDP flows idle past the timeout are re-picked; TCP flows are not timed out. */
static void test_udp_timeout_and_stale(void)
{
	struct xlb_flow_key k;
	struct xlb_flow fl;
	struct timespec now;
	int how;
	__u64 e0 = counter(&fx, XLB_C_FLOW_EXPIRED), s0 = counter(&fx, XLB_C_FLOW_STALE);

	restore();
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	for (int v = 0; v < 2; v++) {
		__u32 fresh, other;

		flow_key(v, 42, &k);
		fresh = fx_oracle_pick(&fx, v, &k, &how);
		other = fx.vip[v].be[0] == fresh ? fx.vip[v].be[1] : fx.vip[v].be[0];
		fl = (struct xlb_flow){.backend_id = other,
				       .vip_id = fx.vip[v].id,
				       .last_seen_ns = now.tv_sec * 1000000000ULL + now.tv_nsec -
						       31 * 1000000000ULL};
		ASSERT_OK(xlb_dp_flow_put(fx.dp, &k, &fl), "old entry");
		if (v == 1)
			ASSERT_EQ(send_flow(&fx, v, 42, 0, NULL), fresh, "idle udp flow re-picked");
		else
			ASSERT_EQ(send_flow(&fx, v, 42, PKT_TCP_ACK, NULL), other, "tcp flow kept");
	}
	ASSERT_EQ(counter(&fx, XLB_C_FLOW_EXPIRED) - e0, 1, "flow_expired");

	/* An entry naming another VIP's backend (id reused) is not honoured. */
	flow_key(0, 43, &k);
	fl = (struct xlb_flow){.backend_id = fx.vip[2].be[0], .vip_id = fx.vip[0].id};
	xlb_dp_flow_put(fx.dp, &k, &fl);
	ASSERT_EQ(send_flow(&fx, 0, 43, PKT_TCP_ACK, NULL), fx_oracle_pick(&fx, 0, &k, &how),
		  "stale entry re-picked");
	ASSERT_EQ(counter(&fx, XLB_C_FLOW_STALE) - s0, 1, "flow_stale");
}

/* A repeated SYN of a known flow is a client retry: counted per backend and per VIP. */
static void test_syn_retries_counted(void)
{
	struct xlb_traffic b0, b1, v0, v1;
	__u32 be;

	restore();
	be = send_flow(&fx, 0, 5, PKT_TCP_SYN, NULL);
	xlb_dp_read_backend_traffic(fx.dp, be, &b0);
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v0);
	ASSERT_EQ(send_flow(&fx, 0, 5, PKT_TCP_SYN, NULL), be, "retry goes to the same backend");
	ASSERT_EQ(send_flow(&fx, 0, 5, PKT_TCP_SYN, NULL), be, "and again");
	send_flow(&fx, 0, 5, PKT_TCP_ACK, NULL);
	send_flow(&fx, 0, 5, PKT_TCP_SYN | PKT_TCP_ACK, NULL);
	send_flow(&fx, 0, 6, PKT_TCP_SYN, NULL); /* another flow's first SYN */
	send_flow(&fx, 1, 5, 0, NULL);		 /* udp */
	xlb_dp_read_backend_traffic(fx.dp, be, &b1);
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v1);
	ASSERT_EQ(b1.syn_retries - b0.syn_retries, 2, "backend syn retries");
	ASSERT_EQ(v1.syn_retries - v0.syn_retries, 2, "vip syn retries");
}

static void traffic_sum(struct xlb_traffic *to, const struct xlb_traffic *t)
{
	to->packets += t->packets;
	to->bytes += t->bytes;
	to->new_flows += t->new_flows;
	to->syn_retries += t->syn_retries;
}

/*
 * The data plane counts traffic per backend only: a VIP's is the sum of its backends', plus the
 * totals of backends that left it, so that its counters never go down (docs/metrics.md). A
 * backend id given again (here to another VIP) brings that VIP none of its past traffic and
 * leaves the first VIP's totals where they were.
 */
static void test_vip_traffic_is_backends_sum(void)
{
	struct xlb_traffic v0, v1, v2, o0, o1, b, all = {0}, s0 = {0}, s1 = {0};
	__u32 gone = fx.vip[0].be[2];
	struct xlb_backend e, left;

	restore();
	/* Every entry naming the VIP counts (earlier tests left some beyond the three). */
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		if (xlb_dp_get_backend(fx.dp, id, &e) || e.vip_id != fx.vip[0].id)
			continue;
		ASSERT_OK(xlb_dp_read_backend_traffic(fx.dp, id, &b), "backend");
		traffic_sum(&all, &b);
	}
	for (__u32 j = 0; j < 3; j++) {
		ASSERT_OK(xlb_dp_read_backend_traffic(fx.dp, fx.vip[0].be[j], &b), "backend");
		traffic_sum(&s0, &b);
	}
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v0);
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[1].id, &o0);
	ASSERT_EQ(v0.packets, all.packets, "vip packets = its backends'");
	ASSERT_EQ(v0.bytes, all.bytes, "vip bytes = its backends'");
	for (__u32 i = 0; i < 300; i++) {
		send_flow(&fx, 0, 70000 + i, PKT_TCP_SYN, NULL);
		send_flow(&fx, 0, 70000 + i, PKT_TCP_SYN, NULL); /* a retry */
		send_flow(&fx, 0, 70000 + i, PKT_TCP_ACK, NULL);
	}
	for (__u32 j = 0; j < 3; j++) {
		ASSERT_OK(xlb_dp_read_backend_traffic(fx.dp, fx.vip[0].be[j], &b), "backend");
		traffic_sum(&s1, &b);
	}
	ASSERT_OK(xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v1), "vip traffic");
	ASSERT_EQ(s1.packets - s0.packets, 900, "every packet counted once, on its backend");
	ASSERT_EQ(s1.new_flows - s0.new_flows, 300, "every new flow counted once");
	ASSERT_EQ(s1.syn_retries - s0.syn_retries, 300, "every retry counted once");
	ASSERT_EQ(v1.packets - v0.packets, 900, "vip packets grow by its backends'");
	ASSERT_EQ(v1.bytes - v0.bytes, s1.bytes - s0.bytes, "vip bytes grow by its backends'");
	ASSERT_EQ(v1.new_flows - v0.new_flows, 300, "vip new flows");
	ASSERT_EQ(v1.syn_retries - v0.syn_retries, 300, "vip syn retries");

	/* Removed as xlbd does (user/xlbd/apply.c): out of the table, entry {down, VIP 0}. */
	fx.vip[0].nbe = 2;
	fx_publish(&fx, 0);
	ASSERT_OK(xlb_dp_get_backend(fx.dp, gone, &e), "entry");
	left = (struct xlb_backend){.state = XLB_BE_DOWN};
	memcpy(left.mac, e.mac, sizeof(left.mac));
	ASSERT_OK(xlb_dp_set_backend(fx.dp, gone, &left), "removed");
	ASSERT_OK(xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v2), "vip traffic");
	ASSERT_EQ(v2.packets, v1.packets, "a removed backend's packets stay in its VIP's");
	ASSERT_EQ(v2.bytes, v1.bytes, "and its bytes");
	for (__u32 i = 0; i < 300; i++)
		send_flow(&fx, 0, 70000 + i, PKT_TCP_ACK, NULL);
	ASSERT_OK(xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v2), "vip traffic");
	ASSERT_EQ(v2.packets, v1.packets + 300, "monotonic: later packets add on");

	/* The id given to VIP 1 as a fourth backend: VIP 1 inherits none of its past traffic,
	 * and the backend's own counters go on (they never go down). */
	ASSERT_OK(xlb_dp_read_backend_traffic(fx.dp, gone, &b), "backend");
	e.vip_id = fx.vip[1].id;
	e.state = XLB_BE_UP;
	ASSERT_OK(xlb_dp_set_backend(fx.dp, gone, &e), "id given again");
	ASSERT_OK(xlb_dp_read_backend_traffic(fx.dp, gone, &o1), "backend");
	ASSERT_EQ(o1.packets, b.packets, "the backend's counters go on");
	ASSERT_OK(xlb_dp_read_vip_traffic(fx.dp, fx.vip[1].id, &o1), "other vip");
	ASSERT_EQ(o1.packets, o0.packets, "the other VIP inherits nothing");
	ASSERT_OK(xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v1), "vip traffic");
	ASSERT_EQ(v1.packets, v2.packets, "the first VIP keeps what the id brought it");
	/* Back as it was: an entry of VIP 0 again; restore() republishes. */
	e.vip_id = fx.vip[0].id;
	xlb_dp_set_backend(fx.dp, gone, &e);
}

static int count_event(void *ctx, void *data, size_t len)
{
	int *n = ctx;
	const struct xlb_event *e = data;

	if (len >= sizeof(*e) && e->type < XLB_EV_MAX)
		n[e->type]++;
	return 0;
}

/* Re-steered flows and dropped packets reach the ring buffer, at most XLB_EVENTS_PER_SEC per
 * type per CPU per second (the counters see them all). */
static void test_events_rate_limited(void)
{
	struct ring_buffer *rb;
	int n[XLB_EV_MAX] = {0}, moved = 0, ncpu = libbpf_num_possible_cpus();
	__u32 before[200], down = fx.vip[0].be[0];

	struct timespec now;

	restore();
	/* Earlier tests spent this second's budget: start in a fresh second (the program's
	 * clock is CLOCK_MONOTONIC_COARSE). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	usleep((1000000000L - now.tv_nsec) / 1000 + 20000);
	rb = ring_buffer__new(bpf_map__fd(fx.dp->skel->maps.xlb_events), count_event, n, NULL);
	if (!ASSERT_TRUE(rb != NULL, "ring buffer"))
		return;
	ring_buffer__consume(rb);
	memset(n, 0, sizeof(n));
	for (__u32 i = 0; i < 200; i++)
		before[i] = send_flow(&fx, 0, i, PKT_TCP_SYN, NULL);
	fx_set_state(&fx, down, XLB_BE_DOWN);
	for (__u32 i = 0; i < 200; i++) {
		send_flow(&fx, 0, i, PKT_TCP_ACK, NULL);
		moved += before[i] == down;
	}
	for (int j = 0; j < 3; j++)
		fx_set_state(&fx, fx.vip[0].be[j], XLB_BE_DOWN);
	for (__u32 i = 0; i < 50; i++)
		send_flow(&fx, 0, 1000 + i, PKT_TCP_SYN, NULL);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	fprintf(stderr, "    %d flows moved: %d repick events; 50 drops: %d events\n", moved,
		n[XLB_EV_REPICK], n[XLB_EV_NO_BACKEND]);
	ASSERT_TRUE(moved > 2 * XLB_EVENTS_PER_SEC * ncpu, "more moves than the budget");
	ASSERT_TRUE(n[XLB_EV_REPICK] >= 1, "re-steers reported");
	/* A second boundary may fall inside the run: two seconds' budget at most. */
	ASSERT_LE(n[XLB_EV_REPICK], 2 * XLB_EVENTS_PER_SEC * ncpu, "re-steer events rate-limited");
	ASSERT_TRUE(n[XLB_EV_NO_BACKEND] >= 1, "drops reported");
	ASSERT_LE(n[XLB_EV_NO_BACKEND], 2 * XLB_EVENTS_PER_SEC * ncpu, "drop events rate-limited");
}

struct repicks {
	int n;
	__u32 from, to;
};

static int note_repick(void *ctx, void *data, size_t len)
{
	struct repicks *r = ctx;
	const struct xlb_event *e = data;

	if (len >= sizeof(*e) && e->type == XLB_EV_REPICK) {
		r->n++;
		r->from = e->from_backend;
		r->to = e->to_backend;
	}
	return 0;
}

/* An expired UDP flow re-picked onto the backend it had is no re-steer: no event; re-picked
 * onto another, one event naming both. */
static void test_repick_event_only_on_move(void)
{
	struct repicks r = {0};
	struct ring_buffer *rb;
	struct xlb_flow_key k;
	struct timespec now;
	__u32 fresh, other;
	__u64 idle;
	int how;

	restore();
	/* A fresh second: earlier tests may have spent this one's event budget. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	usleep((1000000000L - now.tv_nsec) / 1000 + 20000);
	rb = ring_buffer__new(bpf_map__fd(fx.dp->skel->maps.xlb_events), note_repick, &r, NULL);
	if (!ASSERT_TRUE(rb != NULL, "ring buffer"))
		return;
	ring_buffer__consume(rb);
	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	idle = now.tv_sec * 1000000000ULL + now.tv_nsec - 31 * 1000000000ULL;
	flow_key(1, 77, &k);
	fresh = fx_oracle_pick(&fx, 1, &k, &how);
	other = fx.vip[1].be[0] == fresh ? fx.vip[1].be[1] : fx.vip[1].be[0];

	struct xlb_flow same = {.backend_id = fresh, .vip_id = fx.vip[1].id, .last_seen_ns = idle};
	ASSERT_OK(xlb_dp_flow_put(fx.dp, &k, &same), "idle entry on its own pick");
	ASSERT_EQ(send_flow(&fx, 1, 77, 0, NULL), fresh, "re-picked onto the same backend");
	ring_buffer__consume(rb);
	ASSERT_EQ(r.n, 0, "no re-steer event when the backend stays");

	struct xlb_flow moved = {.backend_id = other, .vip_id = fx.vip[1].id, .last_seen_ns = idle};
	ASSERT_OK(xlb_dp_flow_put(fx.dp, &k, &moved), "idle entry elsewhere");
	ASSERT_EQ(send_flow(&fx, 1, 77, 0, NULL), fresh, "re-picked onto another backend");
	ring_buffer__consume(rb);
	ASSERT_EQ(r.n, 1, "one re-steer event when it moves");
	ASSERT_EQ(r.from, other, "event: from");
	ASSERT_EQ(r.to, fresh, "event: to");
	ring_buffer__free(rb);
}

/* A VIP without a table drops with drop_no_table. */
static void test_no_table(void)
{
	__u64 d0 = counter(&fx, XLB_C_DROP_NO_TABLE);
	__u32 act;

	restore();
	ASSERT_OK(xlb_dp_clear_table(fx.dp, fx.vip[1].id), "clear");
	ASSERT_EQ(send_flow(&fx, 1, 1, 0, &act), 0, "not forwarded");
	ASSERT_EQ(act, XDP_DROP, "dropped");
	ASSERT_EQ(counter(&fx, XLB_C_DROP_NO_TABLE) - d0, 1, "drop_no_table");
	fx_publish(&fx, 1);
}

/* A table being filled is invisible until its map is swapped in. */
static void test_table_invisible_until_swap(void)
{
	__u32 target = fx.vip[0].be[2], before[100], m = fx.dp->ring_size;
	struct xlb_table *t;
	int fd;

	restore();
	for (__u32 i = 0; i < 100; i++)
		before[i] = send_flow(&fx, 0, i, PKT_TCP_SYN, NULL);
	fd = xlb_dp_table_new(fx.dp, &t);
	if (!ASSERT_TRUE(fd >= 0, "new table"))
		return;
	/* Fill half of a table that sends everything to one backend. */
	t->len = m;
	t->nmemb = 1;
	t->memb[0] = target;
	for (__u32 i = 0; i < m / 2; i++)
		t->ring[i] = target;
	fx_flush_flows(&fx);
	for (__u32 i = 0; i < 100; i++)
		ASSERT_EQ(send_flow(&fx, 0, i, PKT_TCP_SYN, NULL), before[i], "old table in use");
	for (__u32 i = m / 2; i < m; i++)
		t->ring[i] = target;
	ASSERT_OK(xlb_dp_table_swap(fx.dp, fx.vip[0].id, fd, t), "swap");
	fx_flush_flows(&fx);
	for (__u32 i = 0; i < 100; i++)
		if (!ASSERT_EQ(send_flow(&fx, 0, i, PKT_TCP_SYN, NULL), target, "new table in use"))
			break;
}

/* Under concurrent swaps between two different tables, every packet is forwarded exactly as
 * one of the two tables says: never a mix (e.g. one table's length with the other's slots). */
struct swapper {
	struct fx *fx;
	volatile int stop;
	long swaps;
	__u32 *ring_a, *ring_b, memb_a[3], memb_b[2];
};

static void *swap_loop(void *arg)
{
	struct swapper *sw = arg;

	while (!sw->stop) {
		bool a = sw->swaps % 2 == 0;

		xlb_dp_publish_table(sw->fx->dp, sw->fx->vip[0].id, a ? sw->memb_a : sw->memb_b,
				     a ? 3 : 2, a ? sw->ring_a : sw->ring_b,
				     a ? sw->fx->dp->ring_size : 1009);
		sw->swaps++;
	}
	return NULL;
}

static void test_concurrent_swaps_atomic(void)
{
	struct swapper sw = {.fx = &fx, .memb_a = {1, 2, 3}, .memb_b = {2, 3}};
	struct xlb_maglev_backend mb[3];
	__u32 m = fx.dp->ring_size, ga = 0, gb = 0, bad = 0;
	pthread_t t;

	restore();
	sw.ring_a = calloc(m, 4);
	sw.ring_b = calloc(m, 4);
	for (int j = 0; j < 3; j++) {
		struct xlb_backend be;

		xlb_dp_get_backend(fx.dp, j + 1, &be);
		mb[j] = (struct xlb_maglev_backend){xlb_addr_key(&be.addr, be.family), 1, j + 1};
	}
	xlb_maglev_build(mb, 3, m, 1, sw.ring_a);
	xlb_maglev_build(mb + 1, 2, 1009, 2, sw.ring_b); /* other length, other members */
	/* Start from table A: every packet must match A or B from the first one on. */
	ASSERT_OK(xlb_dp_publish_table(fx.dp, fx.vip[0].id, sw.memb_a, 3, sw.ring_a, m), "A");
	pthread_create(&t, NULL, swap_loop, &sw);
	/* At least 20,000 packets and 20 swaps (a swap waits for an RCU grace period). */
	for (__u32 i = 0; i < 20000 || (sw.swaps < 20 && i < 1000000); i++) {
		struct xlb_flow_key k;
		__u32 got = send_flow(&fx, 0, 300000 + i, PKT_TCP_SYN, NULL);
		__u32 h;

		flow_key(0, 300000 + i, &k);
		h = xlb_flow_hash(&k, fx.dp->skel->rodata->hash_seed, 0);
		if (got == sw.ring_a[h % m])
			ga++;
		else if (got == sw.ring_b[h % 1009])
			gb++;
		else if (bad++ < 5)
			fprintf(stderr, "    flow %u: got %u, table A %u, table B %u\n", i, got,
				sw.ring_a[h % m], sw.ring_b[h % 1009]);
	}
	sw.stop = 1;
	pthread_join(t, NULL);
	fprintf(stderr, "    %ld swaps; table A %u, table B %u, neither %u\n", sw.swaps, ga, gb,
		bad);
	ASSERT_EQ(bad, 0, "every packet saw one whole table");
	ASSERT_TRUE(sw.swaps >= 20, "tables were swapped during the run");
	ASSERT_TRUE(ga > 0 && gb > 0, "both tables were seen");
	free(sw.ring_a);
	free(sw.ring_b);
}

/* Pins the calling thread to one CPU (the race tests run one side on each of CPUs 0 and 1). */
static int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The member walk reads one table from its first step to its last. Tables A and B each have
 * 1024 members, all of them down but one: A's at index 511 (backend 1), B's at 1023 (backend 3);
 * every ring slot names the down backend, so every new flow needs the walk. Either table alone
 * always yields a backend; a walk reading A's index 1023 and B's index 511 (or the reverse)
 * finds none. CPU 1 swaps A and B back and forth while CPU 0 sends new flows, for 3 s.
 */
struct walk_swapper {
	struct fx *fx;
	volatile int stop;
	long swaps;
	__u32 memb_a[XLB_MAX_VIP_BACKENDS], memb_b[XLB_MAX_VIP_BACKENDS], ring;
};

static void *walk_swap_loop(void *arg)
{
	struct walk_swapper *sw = arg;

	pin_to_cpu(1);
	while (!sw->stop) {
		bool a = sw->swaps % 2 == 0;

		xlb_dp_publish_table(sw->fx->dp, sw->fx->vip[0].id, a ? sw->memb_b : sw->memb_a,
				     XLB_MAX_VIP_BACKENDS, &sw->ring, 1);
		sw->swaps++;
	}
	return NULL;
}

static void test_member_walk_one_table(void)
{
	static struct walk_swapper sw;
	__u32 got_a = 0, got_b = 0, drops = 0, other = 0, n = 0, down = fx.vip[0].be[1];
	__u64 w0, w1;
	cpu_set_t saved;
	pthread_t t;
	double end;

	restore();
	memset(&sw, 0, sizeof(sw));
	sw.fx = &fx;
	sw.ring = down;
	for (int i = 0; i < XLB_MAX_VIP_BACKENDS; i++)
		sw.memb_a[i] = sw.memb_b[i] = down;
	sw.memb_a[511] = fx.vip[0].be[0];
	sw.memb_b[1023] = fx.vip[0].be[2];
	fx_set_state(&fx, down, XLB_BE_DOWN);
	ASSERT_OK(xlb_dp_publish_table(fx.dp, fx.vip[0].id, sw.memb_a, XLB_MAX_VIP_BACKENDS,
				       &sw.ring, 1),
		  "table A");
	pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	pin_to_cpu(0);
	w0 = counter(&fx, XLB_C_FAILOVER_WALK);
	pthread_create(&t, NULL, walk_swap_loop, &sw);
	for (end = now_s() + 3; now_s() < end; n++) {
		__u32 act = 0, be = send_flow(&fx, 0, 400000 + n, PKT_TCP_SYN, &act);

		if (be == sw.memb_a[511])
			got_a++;
		else if (be == sw.memb_b[1023])
			got_b++;
		else if (act == XDP_DROP)
			drops++;
		else
			other++;
	}
	sw.stop = 1;
	pthread_join(t, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	w1 = counter(&fx, XLB_C_FAILOVER_WALK);
	fprintf(stderr,
		"    %ld swaps, %u new flows: table A %u, table B %u, dropped %u, other %u\n",
		sw.swaps, n, got_a, got_b, drops, other);
	ASSERT_EQ(drops, 0, "no walk mixed two tables (drop_no_backend)");
	ASSERT_EQ(other, 0, "every flow went to A's or B's usable member");
	ASSERT_EQ(w1 - w0, got_a + got_b, "every pick came from the walk");
	ASSERT_TRUE(sw.swaps >= 50, "tables were swapped during the run");
	ASSERT_TRUE(got_a > 0 && got_b > 0, "both tables were seen");
	fx_flush_flows(&fx);
}

/*
 * A packet goes to the MAC of a backend that was usable when it checked it. CPU 1 cycles backend
 * 1's entry, through the product's writer (xlb_dp_set_backend), between up with its MAC, what a
 * removal writes at worst ({down, vip 0, MAC 0}), up again, and up with another MAC that shares
 * no byte with the first (the backend's NIC replaced), while CPU 0 sends each new flow's SYN
 * and then one established packet: every frame sent must carry a configured backend's MAC or
 * the new one, never 00:00:00:00:00:00 or a mix of two MACs. A writer that copies the entry
 * byte by byte (bpf_map_update_elem: rep movsb) tore a few MACs per million this way.
 * 3 s; XLB_SOAK=1 (make fuzz): 60 s.
 */
struct be_flipper {
	struct fx *fx;
	volatile int stop;
	long flips;
	__u32 id;
	struct xlb_backend cycle[4];
};

static const __u8 moved_mac[6] = {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f};

static void *be_flip_loop(void *arg)
{
	struct be_flipper *fl = arg;

	pin_to_cpu(1);
	while (!fl->stop) {
		xlb_dp_set_backend(fl->fx->dp, fl->id, &fl->cycle[fl->flips % 4]);
		fl->flips++;
	}
	xlb_dp_set_backend(fl->fx->dp, fl->id, &fl->cycle[0]);
	return NULL;
}

static void test_backend_entry_read_once(void)
{
	struct be_flipper fl = {.fx = &fx, .id = fx.vip[0].be[0]};
	__u32 n = 0, tx = 0, to_flipped = 0, to_moved = 0, drops = 0, bad = 0;
	double secs = getenv("XLB_SOAK") ? 60 : 3, end;
	cpu_set_t saved;
	pthread_t t;

	restore();
	if (!ASSERT_OK(xlb_dp_get_backend(fx.dp, fl.id, &fl.cycle[0]), "backend entry") ||
	    !ASSERT_TRUE(fx.dp->backends != NULL, "entries written with word stores"))
		return;
	fl.cycle[1] = (struct xlb_backend){.state = XLB_BE_DOWN};
	fl.cycle[2] = fl.cycle[0];
	fl.cycle[3] = fl.cycle[0];
	memcpy(fl.cycle[3].mac, moved_mac, 6);
	pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	pin_to_cpu(0);
	pthread_create(&t, NULL, be_flip_loop, &fl);
	for (end = now_s() + secs; now_s() < end; n++) {
		for (int k = 0; k < 2; k++) {
			__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
			__u32 out_len = sizeof(out), act = 0, be;
			struct pkt_spec s;
			int len;

			vip_flow_spec(&fx, 0, 500000 + n, &s);
			s.tcp_flags = k ? PKT_TCP_ACK : PKT_TCP_SYN;
			len = pkt_build(&s, frame, sizeof(frame));
			if (len <= 0 || fx_run(&fx, frame, len, out, &out_len, &act))
				continue;
			if (act == XDP_DROP) {
				drops++;
				continue;
			}
			if (act != XDP_TX)
				continue;
			tx++;
			be = fx_backend_of(out, out_len);
			to_flipped += be == fl.id;
			if (!be && !memcmp(out, moved_mac, 6)) {
				to_moved++;
				continue;
			}
			if (!be && bad++ < 5)
				fprintf(stderr,
					"    flow %u: sent to %02x:%02x:%02x:%02x:%02x:%02x\n", n,
					out[0], out[1], out[2], out[3], out[4], out[5]);
		}
	}
	fl.stop = 1;
	pthread_join(t, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	fprintf(stderr,
		"    %ld flips, %u flows: %u sent (%u to the flipped backend's first MAC, %u to "
		"its "
		"new one), %u dropped, %u to a MAC the backend never had\n",
		fl.flips, n, tx, to_flipped, to_moved, drops, bad);
	ASSERT_EQ(bad, 0, "every frame went to a MAC of a usable backend");
	ASSERT_TRUE(fl.flips >= 1000, "the backend flipped during the run");
	ASSERT_TRUE(to_flipped > 0 && to_moved > 0, "both of the backend's MACs were used");
	fx_flush_flows(&fx);
}

/*
 * A new flow's pick is read once (docs/datapath.md, step 7): each candidate's entry is copied and
 * checked on the copy, and the copy that passed is what the packet is sent to. A backend whose
 * state flips between up and down (MAC and VIP unchanged, as a health check does) while new
 * flows arrive is then either taken, up, or skipped for another: with two other backends always
 * up, no new flow is ever dropped. A pick that checked the entry in place and then copied it
 * for a second check dropped those that saw it change in between (drop_no_backend).
 */
static void test_pick_read_once(void)
{
	struct be_flipper fl = {.fx = &fx, .id = fx.vip[0].be[0]};
	__u32 tx = 0, to_flipped = 0, drops = 0, other = 0, n = 300000;
	__u64 nb0;
	cpu_set_t saved;
	pthread_t t;

	restore();
	if (!ASSERT_OK(xlb_dp_get_backend(fx.dp, fl.id, &fl.cycle[0]), "backend entry"))
		return;
	fl.cycle[1] = fl.cycle[0];
	fl.cycle[1].state = XLB_BE_DOWN;
	fl.cycle[2] = fl.cycle[0];
	fl.cycle[3] = fl.cycle[1];
	nb0 = counter(&fx, XLB_C_DROP_NO_BACKEND);
	pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	pin_to_cpu(0);
	pthread_create(&t, NULL, be_flip_loop, &fl);
	for (__u32 i = 0; i < n; i++) {
		__u32 act = 0, be = send_flow(&fx, 0, 800000 + i, PKT_TCP_SYN, &act);

		if (act == XDP_TX && be) {
			tx++;
			to_flipped += be == fl.id;
		} else if (act == XDP_DROP) {
			drops++;
		} else {
			other++;
		}
	}
	fl.stop = 1;
	pthread_join(t, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	fprintf(stderr,
		"    %ld flips, %u new flows: %u sent (%u to the flipped backend), %u dropped\n",
		fl.flips, n, tx, to_flipped, drops);
	ASSERT_EQ(drops, 0, "no new flow dropped");
	ASSERT_EQ(counter(&fx, XLB_C_DROP_NO_BACKEND) - nb0, 0, "drop_no_backend");
	ASSERT_EQ(other, 0, "every new flow sent to a backend's MAC");
	ASSERT_TRUE(fl.flips >= 1000, "the backend flipped during the run");
	ASSERT_TRUE(to_flipped > 0, "the flipped backend was used");
	fx_flush_flows(&fx);
}

/*
 * A daemon of its own over instance other: d's configuration is other's VIPs and backends
 * (weight 1, maglev), their MACs known, as xlbd would hold them before its first apply.
 */
static void xlbd_over(struct fx *other, struct xlbd *d, struct xlbd_vip vips[FX_NVIPS],
		      struct xlbd_backend bes[FX_NVIPS][3])
{
	memset(d, 0, sizeof(*d));
	memset(vips, 0, FX_NVIPS * sizeof(*vips));
	memset(bes, 0, FX_NVIPS * sizeof(*bes));
	d->dp = other->dp;
	d->view = (struct xlbd_view){.macs = &d->macs, .health = &d->health};
	for (int v = 0; v < FX_NVIPS; v++) {
		vips[v] = (struct xlbd_vip){
			.key = other->vip[v].key, .id = other->vip[v].id, .be = bes[v], .nbe = 3};
		for (int j = 0; j < 3; j++) {
			struct xlb_backend e;
			__u32 id = other->vip[v].be[j];

			xlb_dp_get_backend(other->dp, id, &e);
			bes[v][j] = (struct xlbd_backend){
				.addr = e.addr, .family = e.family, .id = id, .weight = 1};
			memcpy(d->macs.mac[id], e.mac, 6);
			d->macs.known[id] = true;
		}
	}
	d->cfg = (struct xlbd_config){.hash_seed = FX_SEED, .vips = vips, .nvips = FX_NVIPS};
}

/*
 * xlbd's removal of a backend (apply.c) keeps its MAC in the entry it leaves behind (down, vip 0):
 * a table swapped out in the same apply may still be in a packet's hands, and that packet must
 * never find a zero MAC under an id it can name. A daemon of its own over a second instance.
 */
static void test_removed_backend_keeps_mac(void)
{
	static struct xlbd d;
	struct xlbd_backend bes[FX_NVIPS][3];
	struct xlbd_vip vips[FX_NVIPS];
	struct xlbd_config old = {0};
	struct xlb_backend before, after;
	struct fx other;
	__u32 id;

	if (!ASSERT_OK(fx_setup(&other, NULL), "second instance"))
		return;
	xlbd_over(&other, &d, vips, bes);
	id = bes[0][0].id;
	if (!ASSERT_OK(xlbd_apply(&d, NULL, false), "apply") ||
	    !ASSERT_OK(xlb_dp_get_backend(other.dp, id, &before), "entry before") ||
	    !ASSERT_EQ(before.state, XLB_BE_UP, "the backend is up") ||
	    !ASSERT_OK(xlbd_config_clone(&d.cfg, &old), "old config"))
		goto out;
	bes[0][0] = bes[0][1]; /* the VIP's first backend removed */
	bes[0][1] = bes[0][2];
	vips[0].nbe = 2;
	if (!ASSERT_OK(xlbd_apply(&d, &old, false), "apply without the backend") ||
	    !ASSERT_OK(xlb_dp_get_backend(other.dp, id, &after), "entry after"))
		goto out;
	ASSERT_EQ(after.state, XLB_BE_DOWN, "removed: down");
	ASSERT_EQ(after.vip_id, 0, "removed: no VIP");
	ASSERT_MEM_EQ(after.mac, before.mac, 6, "removed: the MAC it had");
out:
	xlbd_config_free(&old);
	fx_teardown(&other);
}

/*
 * xlbd's side of draining across nodes (user/xlbd/apply.c): a maglev VIP's ring keeps a
 * draining backend, so a node that lost its flow entries (flushed here) still sends every
 * connection's later packets to the backend the ring gave it, while SYNs avoid the draining
 * one. An rr VIP's ring drops it as before (its picks are per node: nothing to keep).
 */
static void test_apply_drain_keeps_ring(void)
{
	static struct xlbd d;
	static __u32 before[NFLOWS];
	struct xlbd_backend bes[FX_NVIPS][3];
	struct xlbd_vip vips[FX_NVIPS];
	struct xlbd_config old = {0};
	struct fx other;
	__u32 drain, rr_drain;
	int on_drain = 0;

	if (!ASSERT_OK(fx_setup(&other, NULL), "second instance"))
		return;
	xlbd_over(&other, &d, vips, bes);
	vips[2].sched = XLB_SCHED_RR;
	if (!ASSERT_OK(xlbd_apply(&d, NULL, false), "apply"))
		goto out;
	for (__u32 i = 0; i < NFLOWS; i++)
		before[i] = send_flow(&other, 0, i, PKT_TCP_SYN, NULL);
	drain = bes[0][0].id;
	rr_drain = bes[2][0].id;
	if (!ASSERT_OK(xlbd_config_clone(&d.cfg, &old), "old config"))
		goto out;
	bes[0][0].admin = XLB_ADMIN_DRAIN;
	bes[2][0].admin = XLB_ADMIN_DRAIN;
	if (!ASSERT_OK(xlbd_apply(&d, &old, false), "apply the drain"))
		goto out;
	fx_flush_flows(&other);
	for (__u32 i = 0; i < NFLOWS; i++) {
		__u32 be = send_flow(&other, 0, i, PKT_TCP_ACK, NULL);

		if (!ASSERT_EQ(be, before[i], "maglev: mid-connection TCP keeps its backend"))
			break;
		on_drain += be == drain;
		if (!ASSERT_NEQ(send_flow(&other, 0, 100000 + i, PKT_TCP_SYN, NULL), drain,
				"maglev: no SYN to the draining backend") ||
		    !ASSERT_NEQ(send_flow(&other, 2, i, PKT_TCP_SYN, NULL), rr_drain,
				"rr: no SYN to the draining backend") ||
		    !ASSERT_NEQ(send_flow(&other, 2, 100000 + i, PKT_TCP_ACK, NULL), rr_drain,
				"rr: no flow without an entry to it either"))
			break;
	}
	ASSERT_TRUE(on_drain > NFLOWS / 5, "connections on the draining backend kept");
out:
	xlbd_config_free(&old);
	fx_teardown(&other);
}

static int flow_of_vip(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k;
	return f->vip_id == *(const __u32 *)arg;
}

/*
 * A flow hit is honoured without a VIP lookup when its backend still belongs to the entry's VIP
 * id. So when a VIP goes and its id and backend ids are given to a new VIP, the old VIP's
 * entries must go too (xlbd does this after removing a VIP): its packets then pass.
 */
static void test_flows_of_removed_vip(void)
{
	/* vip[1] shares vip[0]'s address: the filter lets the address through after the delete,
	 * so it is the flow table alone that decides here. */
	struct xlb_vip_key old = fx.vip[0].key, other = fx.vip[0].key;
	struct xlb_vip vip = {.id = fx.vip[0].id};
	__u32 action = 0, id = fx.vip[0].id;
	size_t deleted = 0;

	restore();
	for (__u32 i = 0; i < 20; i++)
		send_flow(&fx, 0, i, PKT_TCP_SYN, NULL);
	send_flow(&fx, 1, 0, 0, NULL);	   /* another VIP's flow, which stays */
	other.addr.v4 = htonl(0xc6336409); /* 198.51.100.9: a new VIP takes id and backends */
	ASSERT_OK(xlb_dp_del_vip(fx.dp, &old), "del vip");
	ASSERT_OK(xlb_dp_set_vip(fx.dp, &other, &vip), "new vip, same id");
	ASSERT_OK(xlb_dp_delete_flows(fx.dp, flow_of_vip, &id, &deleted), "delete flows");
	ASSERT_EQ(deleted, 20, "the removed VIP's flows deleted, no other");
	ASSERT_EQ(send_flow(&fx, 0, 3, PKT_TCP_ACK, &action), 0, "old VIP's flow not forwarded");
	ASSERT_EQ(action, XDP_PASS, "it passes: not a VIP any more");

	ASSERT_OK(xlb_dp_del_vip(fx.dp, &other), "del new vip");
	ASSERT_OK(xlb_dp_set_vip(fx.dp, &old, &vip), "restore vip");
	restore();
}

/*
 * Pinned maps reused by a new instance: the VIP address filter is recomputed from the VIP
 * addresses, so a filter that was lost (a new, empty map beside the old pins) cannot make a
 * VIP's packets pass unseen.
 */
static void test_pinned_filter_rebuilt(void)
{
	char dir[64], path[128];
	struct xlb_dp_opts o = {.ring_size = 251, .flow_entries = 1024};
	struct xlb_vip vip = {.id = 7};
	struct xlb_dp *dp = NULL;
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	struct pkt_spec s;
	int len;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xlb-test-%d", (int)getpid());
	o.pin_dir = dir;
	if (!ASSERT_OK(xlb_dp_load(&o, &dp), "load pinned"))
		return;
	ASSERT_OK(xlb_dp_set_vip(dp, &fx.vip[0].key, &vip), "vip");
	xlb_dp_destroy(dp);
	snprintf(path, sizeof(path), "%s/xlb_vip_filter", dir);
	ASSERT_OK(unlink(path), "lose the filter's pin");
	dp = NULL;
	if (ASSERT_OK(xlb_dp_load(&o, &dp), "load again") && ASSERT_TRUE(dp->reused, "reused")) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_out = out, .data_size_out = sizeof(out));

		pkt_spec_init(&s, 4, IPPROTO_TCP);
		len = pkt_build(&s, frame, sizeof(frame));
		t.data_in = frame;
		t.data_size_in = len;
		ASSERT_OK(bpf_prog_test_run_opts(dp->prog_fd, &t), "run");
		/* A VIP without a table: dropped as ours, not passed as somebody else's. */
		ASSERT_EQ(t.retval, XDP_DROP, "the VIP's packet is seen as a VIP packet");
	}
	if (dp) {
		xlb_dp_unpin(dp);
		xlb_dp_destroy(dp);
	}
}

/*
 * Another build of the program loads over the fixture's maps (tests/README.md, XLB_BPF_OBJ: how
 * a planted fault is shown to be caught) and forwards like the skeleton's: the object this
 * build made, unchanged.
 */
static void test_load_prog_file(void)
{
	char path[4096], *cut;
	struct bpf_object *obj = NULL;
	int live = fx.dp->prog_fd, err;
	__u32 action = 0, be;
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);

	/* This binary is BUILD/tests/bpf/test_flows; the object is BUILD/bpf/xlb.bpf.o. */
	if (n <= 0 || !(path[n] = '\0', cut = strstr(path, "/tests/bpf/"))) {
		xt_skip("cannot tell the build directory from /proc/self/exe");
		return;
	}
	strcpy(cut, "/bpf/xlb.bpf.o");
	err = fx_load_prog_file(fx.dp, path, &obj);
	if (!ASSERT_OK(err, "the object loads over the live maps"))
		return;
	be = send_flow(&fx, 0, 77, PKT_TCP_SYN, &action);
	ASSERT_EQ(action, XDP_TX, "forwarded");
	ASSERT_TRUE(be != 0, "to a backend");
	fx.dp->prog_fd = live;
	ASSERT_EQ(
		send_flow(&fx, 0, 77, PKT_TCP_ACK, &action), be,
		"the same flow on the skeleton's program: the same backend, from the shared table");
	bpf_object__close(obj);
}

int main(void)
{
	if (fx_setup(&fx, NULL)) {
		printf("FAIL test_flows/setup: cannot load the XDP program\n");
		return 1;
	}
	RUN_TEST(test_new_flows_follow_ring);
	RUN_TEST(test_sticky_across_table_change);
	RUN_TEST(test_down_backend_failover);
	RUN_TEST(test_draining);
	RUN_TEST(test_port_reuse_is_a_new_flow);
	RUN_TEST(test_no_usable_backend);
	RUN_TEST(test_member_walk);
	RUN_TEST(test_two_instances_agree);
	RUN_TEST(test_drain_without_state);
	RUN_TEST(test_udp_timeout_and_stale);
	RUN_TEST(test_flows_of_removed_vip);
	RUN_TEST(test_pinned_filter_rebuilt);
	RUN_TEST(test_syn_retries_counted);
	RUN_TEST(test_vip_traffic_is_backends_sum);
	RUN_TEST(test_events_rate_limited);
	RUN_TEST(test_repick_event_only_on_move);
	RUN_TEST(test_no_table);
	RUN_TEST(test_table_invisible_until_swap);
	RUN_TEST(test_concurrent_swaps_atomic);
	RUN_TEST(test_member_walk_one_table);
	RUN_TEST(test_backend_entry_read_once);
	RUN_TEST(test_pick_read_once);
	RUN_TEST(test_removed_backend_keeps_mac);
	RUN_TEST(test_apply_drain_keeps_ring);
	RUN_TEST(test_load_prog_file);
	fx_teardown(&fx);
	return xt_finish();
}
