/* test_sched.c - the per-VIP schedulers (source-hash, rr, wrr, least-conn) in the real program. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <arpa/inet.h>
#include <linux/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "fixture.h"
#include "schedule.h"
#include "xlb_hash.h"
#include "xlb.skel.h"
#include "xlbd.h"

static struct fx fx;

/* Flow i of VIP vip: distinct source port and address; src_addr_fixed keeps the address. */
static void flow_spec(int vip, __u32 i, bool src_addr_fixed, struct pkt_spec *s)
{
	pkt_spec_init(s, fx.vip[vip].key.family, fx.vip[vip].key.proto);
	s->dst = fx.vip[vip].key.addr;
	s->dport = ntohs(fx.vip[vip].key.port);
	if (src_addr_fixed)
		s->sport = 1024 + i;
	else
		pkt_spec_flow(s, i);
}

static __u32 send_spec(const struct pkt_spec *s, __u32 *action)
{
	__u8 in[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = 0;
	int len = pkt_build(s, in, sizeof(in));

	if (len <= 0 || fx_run(&fx, in, len, out, &out_len, &act))
		return 0;
	if (action)
		*action = act;
	return act == XDP_TX ? fx_backend_of(out, out_len) : 0;
}

static __u32 send_flow(int vip, __u32 i, __u8 flags)
{
	struct pkt_spec s;

	flow_spec(vip, i, false, &s);
	s.tcp_flags = flags;
	return send_spec(&s, NULL);
}

static int set_sched(int vip, __u8 sched, __u16 flags)
{
	struct xlb_vip v = {.id = fx.vip[vip].id, .sched = sched, .flags = flags};

	return xlb_dp_set_vip(fx.dp, &fx.vip[vip].key, &v);
}

/* Publishes a ring of the usable members of vip 0 for rr / least-conn (each once). */
static int publish_members(int vip)
{
	return xlb_dp_publish_table(fx.dp, fx.vip[vip].id, fx.vip[vip].be, fx.vip[vip].nbe,
				    fx.vip[vip].be, fx.vip[vip].nbe);
}

static void reset(void)
{
	for (int v = 0; v < FX_NVIPS; v++) {
		for (int j = 0; j < 3; j++) {
			fx.vip[v].be[j] = v * 3 + j + 1;
			fx.vip[v].weight[j] = 1;
			fx_set_state(&fx, fx.vip[v].be[j], XLB_BE_UP);
			xlb_dp_set_backend_active(fx.dp, fx.vip[v].be[j], 0);
		}
		fx.vip[v].nbe = 3;
		set_sched(v, XLB_SCHED_MAGLEV, 0);
		fx_publish(&fx, v);
	}
	fx_flush_flows(&fx);
}

/* rr: 3k new flows on one CPU: exactly k per backend, in turn. */
static void test_rr_exact(void)
{
	int got[FX_MAX_BE] = {0};
	__u32 prev = 0;

	reset();
	set_sched(0, XLB_SCHED_RR, 0);
	publish_members(0);
	for (__u32 i = 0; i < 300; i++) {
		__u32 be = send_flow(0, i, PKT_TCP_SYN);

		ASSERT_NEQ(be, prev, "never the same backend twice in a row");
		got[be]++;
		prev = be;
	}
	for (int j = 0; j < 3; j++)
		ASSERT_EQ(got[fx.vip[0].be[j]], 100, "exactly k per backend");
}

/* wrr 1:2:3 over 60,000 flows: within 1% of the ideal split, runs of one backend bounded. */
static void test_wrr_split_and_smooth(void)
{
	__u32 weights[3] = {1, 2, 3}, ring[16], prev = 0, run = 0, max_run = 0;
	int got[FX_MAX_BE] = {0}, len;

	reset();
	len = xlb_wrr_build(fx.vip[0].be, weights, 3, fx.dp->ring_size, ring);
	if (!ASSERT_EQ(len, 6, "cycle of 6"))
		return;
	set_sched(0, XLB_SCHED_WRR, 0);
	xlb_dp_publish_table(fx.dp, fx.vip[0].id, fx.vip[0].be, 3, ring, len);
	for (__u32 i = 0; i < 60000; i++) {
		__u32 be = send_flow(0, 1000000 + i, PKT_TCP_SYN);

		got[be]++;
		run = be == prev ? run + 1 : 1;
		if (run > max_run)
			max_run = run;
		prev = be;
	}
	for (int j = 0; j < 3; j++) {
		double share = got[fx.vip[0].be[j]] / 60000.0, want = weights[j] / 6.0;

		fprintf(stderr, "    wrr backend %u: %.4f (want %.4f)\n", fx.vip[0].be[j], share,
			want);
		ASSERT_LE(share > want ? share - want : want - share, 0.01 * want, "within 1%");
	}
	/* Smooth WRR: w_max / (sum - w_max) rounded up, plus 1 = 2 for 1:2:3. */
	ASSERT_LE(max_run, 2, "no burst of one backend");
}

/* source-hash: one client lands on one backend whatever its port; many clients spread. */
static void test_source_hash(void)
{
	int got[FX_MAX_BE] = {0};
	struct pkt_spec s;
	__u32 first;

	reset();
	set_sched(0, XLB_SCHED_SOURCE_HASH, 0);
	flow_spec(0, 0, true, &s);
	first = send_spec(&s, NULL);
	ASSERT_NEQ(first, 0, "forwarded");
	for (__u32 i = 1; i < 1000; i++) {
		flow_spec(0, i, true, &s);
		if (!ASSERT_EQ(send_spec(&s, NULL), first, "same client, same backend"))
			break;
	}
	for (__u32 i = 0; i < 3000; i++) {
		struct xlb_flow_key k;
		__u32 be, h;

		flow_spec(0, 500000 + i * 7, false, &s);
		be = send_spec(&s, NULL);
		fx_spec_key(&s, &k);
		h = xlb_flow_hash(&k, fx.dp->skel->rodata->hash_seed, 1);
		if (!ASSERT_EQ(be, fx.vip[0].ring[h % fx.dp->ring_size],
			       "ring slot of the address"))
			break;
		got[be]++;
	}
	for (int j = 0; j < 3; j++) /* Maglev spread: ~1000 each */
		ASSERT_TRUE(got[fx.vip[0].be[j]] > 850 && got[fx.vip[0].be[j]] < 1150,
			    "clients spread like Maglev");

	/* With the destination port: the hash mixes the VIP's port in. */
	set_sched(0, XLB_SCHED_SOURCE_HASH, XLB_VIP_F_HASH_DPORT);
	fx_flush_flows(&fx);
	for (__u32 i = 0; i < 200; i++) {
		struct xlb_flow_key k;
		__u32 h;

		flow_spec(0, 700000 + i * 13, false, &s);
		fx_spec_key(&s, &k);
		h = xlb_flow_hash(&k, fx.dp->skel->rodata->hash_seed, 1);
		h = xlb_hash_final(xlb_hash_mix(h, k.dport));
		if (!ASSERT_EQ(send_spec(&s, NULL), fx.vip[0].ring[h % fx.dp->ring_size],
			       "address and port hashed"))
			break;
	}
}

static __s64 active(__u32 id)
{
	__s64 n = -1;

	xlb_dp_read_backend_active(fx.dp, id, &n);
	return n;
}

/*
 * least-conn: a backend loaded with long-lived flows gets no new ones while the two others have
 * fewer (its two choices are two different backends, so it always meets a better one), then
 * the counts even out; FIN/RST count down.
 */
static void test_least_conn(void)
{
	__u32 b1 = fx.vip[0].be[0], b2 = fx.vip[0].be[1], b3 = fx.vip[0].be[2];
	int got[FX_MAX_BE] = {0};

	reset();
	set_sched(0, XLB_SCHED_LEAST_CONN, 0);
	publish_members(0);
	fx_set_state(&fx, b2, XLB_BE_DOWN);
	fx_set_state(&fx, b3, XLB_BE_DOWN);
	for (__u32 i = 0; i < 30; i++) /* 30 long-lived flows, all on b1 */
		ASSERT_EQ(send_flow(0, i, PKT_TCP_SYN), b1, "only b1 is up");
	ASSERT_EQ(active(b1), 30, "b1 counts 30 active flows");
	fx_set_state(&fx, b2, XLB_BE_UP);
	fx_set_state(&fx, b3, XLB_BE_UP);
	for (__u32 i = 0; i < 45; i++)
		got[send_flow(0, 1000 + i, PKT_TCP_SYN)]++;
	fprintf(stderr,
		"    least-conn, 45 new flows after loading b1 with 30: b1 %d, b2 %d, b3 %d\n",
		got[b1], got[b2], got[b3]);
	/* While b2 and b3 stay below 30, b1 loses every pair it is drawn in. */
	ASSERT_EQ(got[b1], 0, "no new flow on the loaded backend");
	ASSERT_LE(abs(got[b2] - got[b3]), 3, "balanced between the others");
	/* 45 more: the others pass 30 and b1 takes its share again, all end near 40. */
	for (__u32 i = 45; i < 90; i++)
		got[send_flow(0, 1000 + i, PKT_TCP_SYN)]++;
	fprintf(stderr, "    least-conn, 90 new flows: b1 %d, b2 %d, b3 %d\n", got[b1], got[b2],
		got[b3]);
	ASSERT_LE(llabs(active(b1) - 40), 2, "b1 near 40 active");
	ASSERT_LE(llabs(active(b2) - 40), 2, "b2 near 40 active");
	ASSERT_LE(llabs(active(b3) - 40), 2, "b3 near 40 active");
	ASSERT_EQ(active(b1) + active(b2) + active(b3), 120, "every new flow counted once");

	/* The 30 long flows end: FIN for half, RST for the other half; repeats count once. */
	for (__u32 i = 0; i < 30; i++) {
		send_flow(0, i, i % 2 ? PKT_TCP_FIN | PKT_TCP_ACK : PKT_TCP_RST);
		send_flow(0, i, PKT_TCP_FIN | PKT_TCP_ACK);
	}
	ASSERT_EQ(active(b1), got[b1], "ended flows no longer count");
	/* A new SYN on an ended flow (port reuse) is a new flow, counted where it goes. */
	__u32 be = send_flow(0, 0, PKT_TCP_SYN);
	ASSERT_EQ(active(be),
		  (be == b1   ? got[b1]
		   : be == b2 ? got[b2]
			      : got[b3]) +
			  1,
		  "reopened flow counted once");
}

/* Sum of vip's backends' active counts. */
static __s64 active_sum(int vip)
{
	__s64 n = 0;

	for (__u32 j = 0; j < fx.vip[vip].nbe; j++)
		n += active(fx.vip[vip].be[j]);
	return n;
}

/* xlbd's recount (user/xlbd/flows.c) over a configuration of the fixture's VIPs. */
static int recount(void)
{
	static struct xlbd d;
	static struct xlbd_backend bes[FX_NVIPS][3];
	static struct xlbd_vip vips[FX_NVIPS];

	memset(&d, 0, sizeof(d));
	for (int v = 0; v < FX_NVIPS; v++) {
		vips[v] = (struct xlbd_vip){
			.key = fx.vip[v].key, .id = fx.vip[v].id, .be = bes[v], .nbe = 3};
		for (int j = 0; j < 3; j++)
			bes[v][j] = (struct xlbd_backend){.id = fx.vip[v].be[j], .weight = 1};
	}
	d.dp = fx.dp;
	d.cfg = (struct xlbd_config){.vips = vips, .nvips = FX_NVIPS};
	return xlbd_recount_active(&d);
}

/*
 * Only least-conn reads the active counts, so only its flows pay the atomic add: a maglev VIP's
 * new flows, FIN/RST and re-steers leave every count at 0. A least-conn VIP's counts stay exact
 * through new flows, FIN, re-steer and xlbd's recount, which counts the entries the data plane
 * counted (XLB_FLOW_F_COUNTED) and nothing else.
 */
static void test_active_counts_least_conn_only(void)
{
	__u32 on[60], down = fx.vip[0].be[1];
	__s64 want[FX_MAX_BE] = {0};

	reset();
	for (__u32 i = 0; i < 60; i++)
		on[i] = send_flow(0, i, PKT_TCP_SYN);
	ASSERT_EQ(active_sum(0), 0, "maglev: new flows not counted");
	for (__u32 i = 0; i < 20; i++)
		send_flow(0, i, PKT_TCP_FIN | PKT_TCP_ACK);
	fx_set_state(&fx, down, XLB_BE_DOWN);
	for (__u32 i = 20; i < 60; i++) /* the flows on the down backend re-steer */
		ASSERT_NEQ(send_flow(0, i, PKT_TCP_ACK), down, "maglev: re-steered");
	ASSERT_EQ(active_sum(0), 0, "maglev: FIN and re-steer subtract nothing");
	for (__u32 j = 0; j < 3; j++)
		ASSERT_EQ(active(fx.vip[0].be[j]), 0, "maglev: every backend at 0");
	ASSERT_OK(recount(), "recount");
	ASSERT_EQ(active_sum(0), 0, "maglev: the recount counts none of its entries");

	reset();
	set_sched(0, XLB_SCHED_LEAST_CONN, 0);
	publish_members(0);
	for (__u32 i = 0; i < 60; i++) {
		on[i] = send_flow(0, 1000 + i, PKT_TCP_SYN);
		want[on[i]]++;
	}
	for (__u32 i = 0; i < 20; i++) { /* FIN, then a repeat that must not count again */
		send_flow(0, 1000 + i, PKT_TCP_FIN | PKT_TCP_ACK);
		send_flow(0, 1000 + i, PKT_TCP_RST);
		want[on[i]]--;
	}
	for (__u32 j = 0; j < 3; j++)
		ASSERT_EQ(active(fx.vip[0].be[j]), want[fx.vip[0].be[j]],
			  "least-conn: new and FIN");
	fx_set_state(&fx, down, XLB_BE_DOWN);
	for (__u32 i = 20; i < 60; i++) {
		__u32 be = send_flow(0, 1000 + i, PKT_TCP_ACK);

		if (on[i] == down) { /* re-steered: -1 on the old backend, +1 where it went */
			want[down]--;
			want[be]++;
		}
		ASSERT_NEQ(be, down, "least-conn: re-steered off the down backend");
	}
	ASSERT_EQ(want[down], 0, "the down backend had flows");
	for (__u32 j = 0; j < 3; j++)
		ASSERT_EQ(active(fx.vip[0].be[j]), want[fx.vip[0].be[j]],
			  "least-conn: re-steer moves the count");
	for (__u32 j = 0; j < 3; j++)
		xlb_dp_set_backend_active(fx.dp, fx.vip[0].be[j], 1000);
	ASSERT_OK(recount(), "recount");
	for (__u32 j = 0; j < 3; j++)
		ASSERT_EQ(active(fx.vip[0].be[j]), want[fx.vip[0].be[j]],
			  "the recount finds the same counts");
	ASSERT_EQ(active_sum(0), 40, "40 live flows");
}

/*
 * least-conn's two choices, flow by flow, for fixed counts: the first is ring slot
 * hash % len, the second a different slot (so a different backend in a ring of each once),
 * and the lower count per unit of weight wins. Weighted: b2 has weight 3, so with counts
 * 30:60:45 (b1:b2:b3) b2's 20 per unit beats both; b1 (30) beats b3 (45). Every pick is
 * checked against that rule: a function of the flow's hash and the counts only.
 */
static void test_least_conn_two_different(void)
{
	__u32 b[3] = {fx.vip[0].be[0], fx.vip[0].be[1], fx.vip[0].be[2]};
	__s64 cnt[3] = {30, 60, 45};
	__u32 w[3] = {1, 3, 1};
	int got[FX_MAX_BE] = {0}, pairs[3][3] = {{0}};

	reset();
	set_sched(0, XLB_SCHED_LEAST_CONN, 0);
	publish_members(0);
	for (int j = 0; j < 3; j++) {
		struct xlb_backend be;

		if (!ASSERT_OK(xlb_dp_get_backend(fx.dp, b[j], &be), "read backend"))
			return;
		be.weight = w[j];
		ASSERT_OK(xlb_dp_set_backend(fx.dp, b[j], &be), "weight");
	}
	for (__u32 i = 0; i < 600; i++) {
		struct xlb_flow_key k;
		struct pkt_spec s;
		__u32 h, s1, s2, want, be;

		for (int j = 0; j < 3; j++)
			xlb_dp_set_backend_active(fx.dp, b[j], cnt[j]);
		flow_spec(0, 5000 + i, false, &s);
		s.tcp_flags = PKT_TCP_SYN;
		be = send_spec(&s, NULL);
		fx_spec_key(&s, &k);
		h = xlb_flow_hash(&k, fx.dp->skel->rodata->hash_seed, 0);
		s1 = h % 3;
		s2 = (s1 + 1 + xlb_rehash(h, XLB_REHASH_TRIES + 1) % 2) % 3;
		if (!ASSERT_NEQ(s1, s2, "two different slots"))
			break;
		want = cnt[s1] * w[s2] <= cnt[s2] * w[s1] ? b[s1] : b[s2];
		if (!ASSERT_EQ(be, want, "the better of the two"))
			break;
		pairs[s1][s2]++;
		got[be]++;
	}
	fprintf(stderr, "    least-conn 30/1, 60/3, 45/1: b1 %d, b2 %d, b3 %d\n", got[b[0]],
		got[b[1]], got[b[2]]);
	/* b2 wins every pair it is in (2/3 of the flows), b1 the pair {b1, b3}; b3 never. */
	ASSERT_EQ(got[b[2]], 0, "the worst backend never wins");
	ASSERT_TRUE(got[b[1]] > 350 && got[b[1]] < 450, "b2: about 2/3");
	for (int x = 0; x < 3; x++)
		for (int y = 0; y < 3; y++)
			if (x != y)
				ASSERT_TRUE(pairs[x][y] > 60, "every ordered pair is drawn");
	for (int j = 0; j < 3; j++) {
		struct xlb_backend be;

		xlb_dp_get_backend(fx.dp, b[j], &be);
		be.weight = 1;
		xlb_dp_set_backend(fx.dp, b[j], &be);
	}
}

/* Every scheduler skips down and draining backends (data-plane failover, table unchanged). */
static void test_all_skip_unusable(void)
{
	static const struct {
		__u8 sched;
		const char *name;
	} scheds[] = {
		{XLB_SCHED_MAGLEV, "maglev"},
		{XLB_SCHED_SOURCE_HASH, "source-hash"},
		{XLB_SCHED_RR, "rr"},
		{XLB_SCHED_WRR, "wrr"},
		{XLB_SCHED_LEAST_CONN, "least-conn"},
	};
	__u32 b1 = fx.vip[0].be[0];

	for (size_t s = 0; s < sizeof(scheds) / sizeof(scheds[0]); s++) {
		__u8 sched = scheds[s].sched;

		if (!xt_row("%s", scheds[s].name))
			continue;
		reset();
		set_sched(0, sched, 0);
		if (sched == XLB_SCHED_RR || sched == XLB_SCHED_LEAST_CONN ||
		    sched == XLB_SCHED_WRR)
			publish_members(0);
		fx_set_state(&fx, fx.vip[0].be[1], XLB_BE_DRAINING);
		fx_set_state(&fx, fx.vip[0].be[2], XLB_BE_DOWN);
		for (__u32 i = 0; i < 200; i++)
			if (!ASSERT_EQ(send_flow(0, 2000 + i, PKT_TCP_SYN), b1,
				       "only the up backend gets new flows"))
				break;
	}
}

/* Changing the scheduler is hitless: established flows stay where they are. */
static void test_sched_change_hitless(void)
{
	__u32 before[300];

	reset();
	for (__u32 i = 0; i < 300; i++)
		before[i] = send_flow(0, 3000 + i, PKT_TCP_SYN);
	set_sched(0, XLB_SCHED_RR, 0);
	publish_members(0);
	for (__u32 i = 0; i < 300; i++)
		if (!ASSERT_EQ(send_flow(0, 3000 + i, PKT_TCP_ACK), before[i], "flow stays"))
			break;
}

int main(void)
{
	cpu_set_t one;

	/* rr/wrr positions are per CPU: run every packet on one CPU. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	if (fx_setup(&fx, NULL)) {
		printf("FAIL test_sched/setup: cannot load the XDP program\n");
		return 1;
	}
	RUN_TEST(test_rr_exact);
	RUN_TEST(test_wrr_split_and_smooth);
	RUN_TEST(test_source_hash);
	RUN_TEST(test_least_conn);
	RUN_TEST(test_least_conn_two_different);
	RUN_TEST(test_active_counts_least_conn_only);
	RUN_TEST(test_all_skip_unusable);
	RUN_TEST(test_sched_change_hitless);
	fx_teardown(&fx);
	return xt_finish();
}
