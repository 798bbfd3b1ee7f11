/* test_fingerprint.c - table fingerprints: stable, equal across nodes whatever their ids, and
 * changed by every change that could change a choice (docs/cluster.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "check.h"
#include "fixture.h"
#include "xlbd.h"

/* A node: xlbd's state over its own maps (a fixture instance of its own). */
struct node {
	struct fx fx;
	struct xlbd d;
};

static struct node a, b;

/*
 * The configuration with its knobs: seed, VIP 0's scheduler and flag, its backends' weights,
 * admin states and order, and the backend ids (a node's own). VIP 1 (rr) stays as it is.
 */
struct knobs {
	unsigned seed;
	const char *sched;
	bool hash_dport;
	unsigned w[3];
	const char *admin[3];
	int order[3];
	unsigned id0; /* first backend id: 1 on node a, 20 on node b */
};

static const struct knobs base = {
	.seed = 11,
	.sched = "maglev",
	.w = {1, 2, 3},
	.admin = {"up", "up", "up"},
	.order = {0, 1, 2},
	.id0 = 1,
};

static int node_apply(struct node *n, const struct knobs *k)
{
	static const char *const addr[3] = {"10.0.1.1", "10.0.1.2", "10.0.1.3"};
	struct xlbd_config old = n->d.cfg, next;
	char text[2048], be[3][160], err[256];
	json_t *j;
	int e;

	for (int i = 0; i < 3; i++) {
		int o = k->order[i];

		snprintf(be[i], sizeof(be[i]),
			 "{\"address\": \"%s\", \"id\": %u, \"weight\": %u, \"admin\": \"%s\"}",
			 addr[o], k->id0 + o, k->w[o], k->admin[o]);
	}
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"hash_seed\": %u, \"vips\": ["
		 "{\"vip\": \"198.51.100.1:80/tcp\", \"id\": 1, \"sched\": \"%s\", "
		 "\"hash_dport\": %s, \"backends\": [%s, %s, %s]},"
		 "{\"vip\": \"198.51.100.1:53/udp\", \"id\": 2, \"sched\": \"rr\", \"backends\": ["
		 "{\"address\": \"10.0.1.4\", \"id\": %u, \"weight\": 1},"
		 "{\"address\": \"10.0.1.5\", \"id\": %u, \"weight\": 1}]}]}",
		 k->seed, k->sched, k->hash_dport ? "true" : "false", be[0], be[1], be[2],
		 k->id0 + 3, k->id0 + 4);
	j = json_loads(text, 0, NULL);
	e = xlbd_config_from_json(j, &next, err, sizeof(err));
	json_decref(j);
	if (!ASSERT_OK(e, err))
		return e;
	n->d.cfg = next;
	e = xlbd_apply(&n->d, &old, false);
	xlbd_config_free(&old);
	return e;
}

static int node_init(struct node *n)
{
	memset(&n->d, 0, sizeof(n->d));
	if (fx_setup(&n->fx, NULL))
		return -1;
	n->d.dp = n->fx.dp;
	n->d.view = (struct xlbd_view){.macs = &n->d.macs, .health = &n->d.health};
	for (__u32 id = 1; id < 32; id++) {
		__u8 mac[6] = {0x02, 0, 0, 0, 1, id};

		memcpy(n->d.macs.mac[id], mac, 6);
		n->d.macs.known[id] = true;
	}
	return 0;
}

static __u64 fp(const struct node *n, __u32 vip_id)
{
	return xlbd_apply_fingerprint(&n->d, vip_id);
}

static void test_stable_and_equal_across_nodes(void)
{
	struct knobs kb = base;
	__u64 a1, a2, seed = 0;

	if (!ASSERT_OK(node_apply(&a, &base), "apply on a"))
		return;
	a1 = fp(&a, 1), a2 = fp(&a, 2);
	ASSERT_TRUE(a1 && a2 && a1 != a2, "two VIPs, two fingerprints");
	ASSERT_TRUE(a1 <= XLBD_FINGERPRINT_MASK, "52 bits: a float64 holds it");
	ASSERT_OK(xlb_dp_hash_seed(a.d.dp, (__u32 *)&seed), "seed in the maps");
	ASSERT_EQ(seed, 11, "the data plane hashes with the configuration's seed");
	ASSERT_OK(node_apply(&a, &base), "again");
	ASSERT_EQ(fp(&a, 1), a1, "same input, same fingerprint");
	kb.id0 = 20; /* node b numbers its backends otherwise */
	if (!ASSERT_OK(node_apply(&b, &kb), "apply on b"))
		return;
	ASSERT_EQ(fp(&b, 1), a1, "another node, other ids: the same fingerprint");
	ASSERT_EQ(fp(&b, 2), a2, "the same for the rr VIP");
}

/* Each change that could change a choice changes VIP 1's fingerprint; undone, it is back. */
static void test_every_change_changes_it(void)
{
	struct knobs k[8];
	const char *what[8] = {"seed",	       "sched",	      "source-hash + hash-dport",
			       "weight",       "admin drain", "admin disabled",
			       "member order", "rr"};
	__u64 seen[9], base_fp;
	int n = 0;

	for (int i = 0; i < 8; i++)
		k[i] = base;
	k[0].seed = 12;
	k[1].sched = "source-hash";
	k[2].sched = "source-hash", k[2].hash_dport = true;
	k[3].w[1] = 5;
	k[4].admin[2] = "drain";
	k[5].admin[2] = "disabled";
	k[6].order[0] = 1, k[6].order[1] = 0;
	k[7].sched = "wrr";
	if (!ASSERT_OK(node_apply(&a, &base), "base"))
		return;
	base_fp = seen[n++] = fp(&a, 1);
	for (int i = 0; i < 8; i++) {
		if (!ASSERT_OK(node_apply(&a, &k[i]), what[i]))
			return;
		seen[n] = fp(&a, 1);
		for (int j = 0; j < n; j++)
			if (!ASSERT_NEQ(seen[n], seen[j], what[i]))
				printf("    %s: the same as change %d\n", what[i], j);
		n++;
	}
	ASSERT_OK(node_apply(&a, &base), "undone");
	ASSERT_EQ(fp(&a, 1), base_fp, "undone: the first fingerprint again");
	/* What xlbd learns counts too: a backend whose MAC is lost is down in the table. */
	a.d.macs.known[2] = false;
	ASSERT_OK(xlbd_apply(&a.d, NULL, false), "apply with a MAC lost");
	ASSERT_NEQ(fp(&a, 1), base_fp, "a backend down: another fingerprint");
	a.d.macs.known[2] = true;
	ASSERT_OK(xlbd_apply(&a.d, NULL, false), "MAC back");
	ASSERT_EQ(fp(&a, 1), base_fp, "back up: the first fingerprint");
}

/* A seed change rebuilds every seeded ring and writes the seed (apply.c's staging). */
static void test_seed_change_reaches_the_maps(void)
{
	struct knobs k = base;
	__u32 seed = 0;

	k.seed = 0xdeadbeef;
	if (!ASSERT_OK(node_apply(&a, &k), "new seed"))
		return;
	ASSERT_OK(xlb_dp_hash_seed(a.d.dp, &seed), "seed read");
	ASSERT_EQ(seed, 0xdeadbeef, "the data plane's seed");
	k.id0 = 20;
	ASSERT_OK(node_apply(&b, &k), "same on b");
	ASSERT_EQ(fp(&b, 1), fp(&a, 1), "nodes agree after the seed change");
	ASSERT_OK(node_apply(&a, &base), "back");
}

/* The backend (as its position 0..2 in VIP 1) that node n gives new flow i of VIP 1; -1: none. */
static int choice(struct node *n, __u32 i, unsigned id0)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = 0, id;
	struct pkt_spec sp;
	int len;

	pkt_spec_init(&sp, XLB_AF_INET, IPPROTO_TCP);
	pkt_spec_flow(&sp, i);
	len = pkt_build(&sp, frame, sizeof(frame));
	if (len <= 0 || fx_run(&n->fx, frame, len, out, &out_len, &act) || act != XDP_TX)
		return -1;
	id = fx_backend_of(out, out_len);
	return id >= id0 && id < id0 + 3 ? (int)(id - id0) : -1;
}

/* Flows of 10,000 that two nodes send to the same backend. */
static int agreeing(const struct knobs *ka, const struct knobs *kb)
{
	int same = 0;

	if (node_apply(&a, ka) || node_apply(&b, kb) || fx_flush_flows(&a.fx) ||
	    fx_flush_flows(&b.fx))
		return -1;
	for (__u32 i = 0; i < 10000; i++) {
		int ca = choice(&a, i, ka->id0);

		same += ca >= 0 && ca == choice(&b, i, kb->id0);
	}
	return same;
}

/*
 * What the fingerprint stands for, measured: two nodes with the same configuration (other
 * backend ids) send every new flow to the same backend; with another seed, not (a weighted
 * 1:2:3 pick agrees by chance for about 39% of flows).
 */
static void test_same_fingerprint_same_choice(void)
{
	struct knobs kb = base, other = base;
	int same;

	kb.id0 = 20;
	other.id0 = 20, other.seed = 99;
	same = agreeing(&base, &kb);
	ASSERT_EQ(same, 10000, "same configuration: every flow to the same backend");
	ASSERT_EQ(fp(&a, 1), fp(&b, 1), "and the same fingerprint");
	printf("# same seed: %d of 10000 flows agree\n", same);
	same = agreeing(&base, &other);
	ASSERT_TRUE(same >= 0 && same < 6000, "another seed: the nodes disagree");
	ASSERT_NEQ(fp(&a, 1), fp(&b, 1), "and the fingerprints differ");
	printf("# another seed: %d of 10000 flows agree\n", same);
}

/* The explain instance reads the seed from the shared xlb_meta: after a seed change it still
 * predicts the live program's pick of every new flow (explained first, before the live
 * program's entry could tell it). */
static void test_explain_uses_the_seed(void)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	struct knobs k = base;
	struct xlb_dp *ex = NULL;
	int same = 0;

	k.seed = 4242;
	if (!ASSERT_OK(node_apply(&a, &k), "new seed") ||
	    !ASSERT_OK(fx_flush_flows(&a.fx), "flush") ||
	    !ASSERT_OK(xlb_dp_load_explain(a.d.dp, &ex), "explain instance"))
		return;
	for (__u32 i = 0; i < 500; i++) {
		__u32 out_len = sizeof(out), act = 0;
		struct xlb_explain tr = {0};
		struct pkt_spec sp;
		int len;

		pkt_spec_init(&sp, XLB_AF_INET, IPPROTO_TCP);
		pkt_spec_flow(&sp, i);
		len = pkt_build(&sp, frame, sizeof(frame));
		if (len <= 0 || xlb_dp_explain(ex, frame, len, out, &out_len, &act, &tr))
			continue;
		same += tr.backend && (int)(tr.backend - k.id0) == choice(&a, i, k.id0);
	}
	ASSERT_EQ(same, 500, "explain and live pick alike under the new seed");
	xlb_dp_destroy(ex);
	node_apply(&a, &base);
}

int main(void)
{
	if (node_init(&a) || node_init(&b)) {
		printf("FAIL test_fingerprint/setup: cannot load the XDP program\n");
		return 1;
	}
	RUN_TEST(test_stable_and_equal_across_nodes);
	RUN_TEST(test_every_change_changes_it);
	RUN_TEST(test_seed_change_reaches_the_maps);
	RUN_TEST(test_same_fingerprint_same_choice);
	RUN_TEST(test_explain_uses_the_seed);
	xlbd_config_free(&a.d.cfg);
	xlbd_config_free(&b.d.cfg);
	fx_teardown(&a.fx);
	fx_teardown(&b.fx);
	return xt_finish();
}
