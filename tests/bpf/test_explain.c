/* test_explain.c - the explain instance: same picks as the live program, no writes to its maps. */
#include <arpa/inet.h>
#include <linux/in.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "check.h"
#include "explain.h"
#include "fixture.h"
#include "frame.h"
#include "xlb.skel.h"
#include "xlbd.h"

static struct fx fx;
static struct xlb_dp *ex;

#define BIT(c) (1ULL << (c))

static void flow_key(int vip, __u32 i, struct xlb_flow_key *k)
{
	struct pkt_spec s;

	pkt_spec_init(&s, fx.vip[vip].key.family, fx.vip[vip].key.proto);
	s.dst = fx.vip[vip].key.addr;
	s.dport = ntohs(fx.vip[vip].key.port);
	pkt_spec_flow(&s, i);
	fx_spec_key(&s, k);
}

/* Runs a frame for k through the explain instance; returns the action. */
static __u32 explain(const struct xlb_flow_key *k, __u8 flags, struct xlb_explain *t)
{
	static const __u8 mac[6] = FX_LB_MAC;
	__u8 frame[XLB_FRAME_MAX], out[XLB_FRAME_MAX];
	__u32 out_len = sizeof(out), action = ~0u;
	int len = xlb_frame_build(k, mac, flags, frame, sizeof(frame));

	if (!ASSERT_TRUE(len > 0, "frame") ||
	    !ASSERT_OK(xlb_dp_explain(ex, frame, len, out, &out_len, &action, t), "explain"))
		return ~0u;
	return action;
}

static __u32 live(const struct xlb_flow_key *k, __u8 flags)
{
	static const __u8 mac[6] = FX_LB_MAC;
	__u8 frame[XLB_FRAME_MAX], out[XLB_FRAME_MAX];
	__u32 out_len = sizeof(out), action;
	int len = xlb_frame_build(k, mac, flags, frame, sizeof(frame));

	if (len <= 0 || fx_run(&fx, frame, len, out, &out_len, &action))
		return 0;
	return action == XDP_TX ? fx_backend_of(out, out_len) : 0;
}

static void test_new_flow_changes_nothing(void)
{
	int how;
	__u64 c0[XLB_C_MAX], c1[XLB_C_MAX];
	struct xlb_traffic v0, v1;
	struct xlb_explain t;
	struct xlb_flow_key k;
	struct xlb_flow f;

	fx_flush_flows(&fx);
	xlb_dp_read_counters(fx.dp, c0);
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v0);
	for (__u32 i = 0; i < 100; i++) {
		flow_key(0, i, &k);
		ASSERT_EQ(explain(&k, 0x02, &t), XDP_TX, "forwarded");
		ASSERT_EQ(t.backend, fx_oracle_pick(&fx, 0, &k, &how), "the live program's pick");
		ASSERT_EQ(t.flow_backend, 0, "no flow entry");
		ASSERT_TRUE(t.counters & BIT(XLB_C_FLOW_MISS), "path: flow miss");
		ASSERT_TRUE(!(t.counters & BIT(XLB_C_FLOW_INSERT)), "path: nothing inserted");
		ASSERT_TRUE(xlb_dp_flow_get(fx.dp, &k, &f) != 0, "flow table untouched");
	}
	xlb_dp_read_counters(fx.dp, c1);
	xlb_dp_read_vip_traffic(fx.dp, fx.vip[0].id, &v1);
	ASSERT_MEM_EQ(c0, c1, sizeof(c0), "live counters untouched");
	ASSERT_EQ(v1.packets, v0.packets, "vip traffic untouched");
}

static void test_established_and_failover(void)
{
	struct xlb_explain t;
	struct xlb_flow_key k;
	__u32 be;
	int how;

	fx_flush_flows(&fx);
	flow_key(0, 7, &k);
	be = live(&k, 0x02);
	ASSERT_EQ(explain(&k, 0x10, &t), XDP_TX, "forwarded");
	ASSERT_EQ(t.flow_backend, be, "flow entry seen");
	ASSERT_EQ(t.backend, be, "kept on its backend");
	ASSERT_TRUE(t.counters & BIT(XLB_C_FLOW_HIT), "path: flow hit");

	fx_set_state(&fx, be, XLB_BE_DOWN);
	ASSERT_EQ(explain(&k, 0x10, &t), XDP_TX, "forwarded");
	ASSERT_TRUE(t.counters & BIT(XLB_C_FLOW_REPICK), "path: re-pick");
	ASSERT_EQ(t.backend, fx_oracle_pick(&fx, 0, &k, &how), "failover pick");
	ASSERT_NEQ(t.backend, be, "not the down backend");
	ASSERT_EQ(live(&k, 0x10), t.backend, "the live program agrees");
	fx_set_state(&fx, be, XLB_BE_UP);
}

static void test_not_vip_and_drop(void)
{
	struct xlb_explain t;
	struct xlb_flow_key k;

	flow_key(0, 1, &k);
	k.dport = htons(8080);
	ASSERT_EQ(explain(&k, 0x02, &t), XDP_PASS, "not a vip: pass");
	ASSERT_TRUE(t.counters & BIT(XLB_C_PASS_NOT_VIP), "path: not a vip");
	for (int j = 0; j < 3; j++)
		fx_set_state(&fx, fx.vip[1].be[j], XLB_BE_DOWN);
	flow_key(1, 1, &k);
	ASSERT_EQ(explain(&k, 0, &t), XDP_DROP, "all down: drop");
	ASSERT_TRUE(t.counters & BIT(XLB_C_DROP_NO_BACKEND), "path: no backend");
	for (int j = 0; j < 3; j++)
		fx_set_state(&fx, fx.vip[1].be[j], XLB_BE_UP);
}

/*
 * The text of `flow explain` (user/xlbd/explain.c) for a SYN on the 5-tuple of an ended
 * connection whose entry is still in the table: scheduled afresh, not "not in the table".
 */
static void test_syn_on_ended_flow_text(void)
{
	struct xlbd_vip v = {.key = fx.vip[0].key, .id = fx.vip[0].id, .sched = XLB_SCHED_MAGLEV};
	static struct xlbd d; /* only what explain reads: the config, the programs */
	char client[64], vip[64], err[256], line[128];
	struct xlb_flow_key k;
	json_t *j, *why;
	__u32 be;

	fx_flush_flows(&fx);
	flow_key(0, 9, &k);
	be = live(&k, 0x02);
	live(&k, 0x11); /* FIN: the connection ends, its entry stays (closed) */
	d.dp = fx.dp;
	d.explain.dp = ex;
	d.cfg.vips = &v;
	d.cfg.nvips = 1;
	xlb_format_addr(&k.src, k.family, client, sizeof(client));
	snprintf(client + strlen(client), sizeof(client) - strlen(client), ":%u", ntohs(k.sport));
	xlb_format_vip(&fx.vip[0].key, vip, sizeof(vip));

	j = xlbd_flow_explain(&d, client, vip, "syn", err, sizeof(err));
	if (!ASSERT_TRUE(j != NULL, err))
		return;
	why = json_object_get(j, "why");
	snprintf(line, sizeof(line),
		 "a SYN on the 5-tuple of an ended connection (its entry names backend id %u): "
		 "scheduled afresh",
		 be);
	ASSERT_STREQ(json_string_value(json_array_get(why, 0)), line, "why, first step");
	ASSERT_STREQ(json_string_value(json_object_get(j, "action")), "tx", "action");
	json_decref(j);

	/* A 5-tuple not in the table at all is still said so. */
	flow_key(0, 10, &k);
	xlb_format_addr(&k.src, k.family, client, sizeof(client));
	snprintf(client + strlen(client), sizeof(client) - strlen(client), ":%u", ntohs(k.sport));
	j = xlbd_flow_explain(&d, client, vip, "syn", err, sizeof(err));
	if (!ASSERT_TRUE(j != NULL, err))
		return;
	why = json_object_get(j, "why");
	ASSERT_STREQ(json_string_value(json_array_get(why, 0)), "new flow: not in the flow table",
		     "why, new flow");
	json_decref(j);
}

/* Loads of explain_mode left in a loaded program's translated code (what the kernel runs). */
static int explain_mode_loads(struct xlb_dp *dp)
{
	struct bpf_map_info mi = {};
	struct bpf_prog_info pi = {};
	__u32 mlen = sizeof(mi), plen = sizeof(pi), n;
	__u32 off = (char *)&dp->skel->rodata->explain_mode - (char *)dp->skel->rodata;
	struct bpf_insn *insn;
	int loads = 0;

	if (bpf_obj_get_info_by_fd(bpf_map__fd(dp->skel->maps.rodata), &mi, &mlen) ||
	    bpf_obj_get_info_by_fd(dp->prog_fd, &pi, &plen))
		return -1;
	n = pi.xlated_prog_len / sizeof(*insn);
	insn = calloc(n, sizeof(*insn));
	if (!insn)
		return -1;
	memset(&pi, 0, sizeof(pi));
	pi.xlated_prog_len = n * sizeof(*insn);
	pi.xlated_prog_insns = (__u64)(unsigned long)insn;
	plen = sizeof(pi);
	if (bpf_obj_get_info_by_fd(dp->prog_fd, &pi, &plen)) {
		free(insn);
		return -1;
	}
	/* The kernel dumps a map value address as {BPF_PSEUDO_MAP_VALUE, map id, offset}. */
	for (__u32 i = 0; i + 1 < n; i++)
		if (insn[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    insn[i].src_reg == BPF_PSEUDO_MAP_VALUE && (__u32)insn[i].imm == mi.id &&
		    (__u32)insn[i + 1].imm == off)
			loads++;
	free(insn);
	return loads;
}

/* The live program decides explain_mode once per packet, not at every counter and map write
 * (lib/writes.h): each such load is per-packet work the live program has no use for. */
static void test_live_reads_explain_mode_once(void)
{
	ASSERT_EQ(explain_mode_loads(fx.dp), 1, "live program: one explain_mode load");
	ASSERT_EQ(explain_mode_loads(ex), 1, "explain instance: one explain_mode load");
}

int main(void)
{
	if (fx_setup(&fx, NULL) || xlb_dp_load_explain(fx.dp, &ex)) {
		printf("FAIL test_explain/setup: cannot load the programs\n");
		return 1;
	}
	RUN_TEST(test_new_flow_changes_nothing);
	RUN_TEST(test_established_and_failover);
	RUN_TEST(test_not_vip_and_drop);
	RUN_TEST(test_syn_on_ended_flow_text);
	RUN_TEST(test_live_reads_explain_mode_once);
	xlb_dp_destroy(ex);
	fx_teardown(&fx);
	return xt_finish();
}
