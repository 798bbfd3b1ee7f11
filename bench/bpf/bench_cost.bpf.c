/* bench_cost.bpf.c - `make bench` cost attribution: each program does one part of xlb's per-packet work. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "xlb_hash.h"
#include "xlb_flowtab.h"
#include "lib/maps.h"  /* xlb's maps, for their types (xlb_bench.c does not create them) */
#include "lib/parse.h" /* xlb's own parser, used as is (read-only) */

/*
 * Run with BPF_PROG_TEST_RUN repeat=R on xlb's established-flow frame (xlb_bench.c), beside the
 * XDP_PASS baseline: each row above that baseline is the cost of one part of xlb's per-packet
 * work (bpf/xlb.bpf.c: parse, VIP lookup (on a flow miss), clock, flow lookup, backend lookup,
 * three per-CPU counter updates, MAC rewrite); cost_all is the established path together. Maps have xlb's types,
 * flags and key/value sizes; the lookups hit, as on xlb's path (xlb_bench.c fills them). None
 * of them changes the frame except cost_all's MAC rewrite, which leaves the flow the same: the
 * repeat method is valid for every program here but cost_insert (see there).
 */

/* Each map but the alternatives has the very type of one of xlb's (type, flags, size, key and
 * value), declared once in bpf/lib/maps.h: a cost row cannot measure a map shaped differently
 * from xlb's. */
__typeof__(xlb_vips) cost_vips SEC(".maps");
/* The LRU hash xlb's flow table was (BPF_F_NO_COMMON_LRU, 40-byte key, 16-byte value), kept as
 * the measured alternative to the bucket array (docs/datapath.md, "The flow table"). */
#define LRU_DEFAULT_FLOWS 262144 /* the LRU table's default size */
#define LRU_FLOWS(name)                                 \
	struct {                                        \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);    \
		__uint(map_flags, BPF_F_NO_COMMON_LRU); \
		__uint(max_entries, LRU_DEFAULT_FLOWS); \
		__type(key, struct xlb_flow_key);       \
		__type(value, struct xlb_flow);         \
	} name SEC(".maps")
LRU_FLOWS(cost_flows);
LRU_FLOWS(cost_new_flows); /* cost_insert's, emptied before every trial */
/* cost_flow_lookup_100k's: resized by xlb_bench.c to the size xlb has there */
LRU_FLOWS(cost_flows_100k);
/* xlb's table (bucket array), for the lookup alone: the frame's flow in bucket 0 (seed 0). */
__typeof__(xlb_flows) cost_buckets SEC(".maps");
__typeof__(xlb_backends) cost_backends SEC(".maps");
__typeof__(xlb_vip_filter) cost_filter SEC(".maps"); /* xlb_bench.c marks the frame's VIP address */
__typeof__(xlb_stats) cost_stats SEC(".maps");
__typeof__(xlb_be_stats) cost_traffic SEC(".maps");

/* cost_insert_hash's table: the flow table's key and value in a plain (preallocated, no LRU)
 * hash, the one map here that is not shaped like one of xlb's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LRU_DEFAULT_FLOWS);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
} cost_new_flows_hash SEC(".maps");

/* The keys the lookups use (set by xlb_bench.c to the frame's VIP and flow; present in the maps). */
struct xlb_vip_key cost_vip_key = {};
struct xlb_flow_key cost_flow_key = {};
__u64 sink = 0; /* results go here, so that nothing is optimised away */

static __always_inline int parse(struct xdp_md *ctx, struct xlb_pkt *p)
{
	__u32 reason = 0;

	return parse_packet(ctx, p, &reason);
}

static __always_inline void *vip_lookup(void)
{
	struct xlb_vip_key k = cost_vip_key; /* on the stack, as in xlb */

	return bpf_map_lookup_elem(&cost_vips, &k);
}

static __always_inline void *flow_lookup(void)
{
	struct xlb_flow_key k = cost_flow_key;

	return bpf_map_lookup_elem(&cost_flows, &k);
}

static __always_inline void counter(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&cost_stats, &c);

	if (v)
		*v += 1;
}

static __always_inline void traffic(__u32 id, __u64 bytes)
{
	struct xlb_traffic *t = bpf_map_lookup_elem(&cost_traffic, &id);

	if (t) {
		t->packets++;
		t->bytes += bytes;
		t->new_flows += 0;
		t->syn_retries += 0;
	}
}

/* The three per-CPU updates of an established packet: flow hit, backend traffic (a VIP's is
 * its backends' sum, added up by userspace), action. */
static __always_inline void counters3(__u64 bytes)
{
	counter(XLB_C_FLOW_HIT);
	traffic(1, bytes);
	counter(XLB_C_ACT_ABORTED + XDP_TX);
}

SEC("xdp")
int cost_parse(struct xdp_md *ctx)
{
	struct xlb_pkt p = {};

	sink += parse(ctx, &p) + p.key.sport;
	return XDP_PASS;
}

SEC("xdp")
int cost_vip_lookup(struct xdp_md *ctx)
{
	(void)ctx;
	sink += vip_lookup() != NULL;
	return XDP_PASS;
}

SEC("xdp")
int cost_flow_lookup(struct xdp_md *ctx)
{
	(void)ctx;
	sink += flow_lookup() != NULL;
	return XDP_PASS;
}

SEC("xdp")
int cost_backend_lookup(struct xdp_md *ctx)
{
	__u32 id = 1;

	(void)ctx;
	sink += bpf_map_lookup_elem(&cost_backends, &id) != NULL;
	return XDP_PASS;
}

SEC("xdp")
int cost_clock(struct xdp_md *ctx)
{
	(void)ctx;
	sink += bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

SEC("xdp")
int cost_counters(struct xdp_md *ctx)
{
	counters3((void *)(long)ctx->data_end - (void *)(long)ctx->data);
	return XDP_PASS;
}

/* The frame's flow key, parsed as xlb does, into map (unless lookup_first finds it there). */
static __always_inline int insert_flow(struct xdp_md *ctx, void *map, int lookup_first)
{
	struct xlb_flow nf = {.backend_id = 1, .vip_id = 1}, *f;
	struct xlb_pkt p = {};

	if (parse(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	if (lookup_first) {
		f = bpf_map_lookup_elem(map, &p.key);
		if (f) {
			sink += f->backend_id;
			return XDP_PASS;
		}
	}
	sink += bpf_map_update_elem(map, &p.key, &nf, BPF_ANY);
	return XDP_PASS;
}

/*
 * A new flow's insert: the frame's key added to an LRU flow table. Every frame must be a new
 * flow, so this one is timed with repeat=1 over distinct frames (repeat=N would insert once,
 * then update N - 1 times), beside the distinct XDP_PASS baseline.
 */
SEC("xdp")
int cost_insert(struct xdp_md *ctx)
{
	return insert_flow(ctx, &cost_new_flows, 0);
}

/* The same insert into a plain hash: what a flow table without LRU lists would pay. */
SEC("xdp")
int cost_insert_hash(struct xdp_md *ctx)
{
	return insert_flow(ctx, &cost_new_flows_hash, 0);
}

/*
 * The floor of "100k distinct established flows": parse and one flow lookup that hits, each
 * frame a different one of 100,000 entries. Timed with the distinct method after an untimed
 * pass over the same frames has inserted them (a miss inserts, so that pass fills the table).
 */
SEC("xdp")
int cost_flow_lookup_100k(struct xdp_md *ctx)
{
	return insert_flow(ctx, &cost_flows_100k, 1);
}

/* xlb's established path in its order: parse, VIP address filter, clock, flow lookup, backend
 * lookup, counters, then the dsr-l2 rewrite and XDP_TX (the VIP lookup is for flow misses). */
SEC("xdp")
int cost_all(struct xdp_md *ctx)
{
	__u64 bytes = (void *)(long)ctx->data_end - (void *)(long)ctx->data;
	struct xlb_backend *be;
	struct xlb_flow *flow;
	struct xlb_pkt p = {};
	struct ethhdr *eth;
	__u32 id, slot, *in_filter;
	__u64 now;

	if (parse(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	slot = xlb_vip_filter_slot(&p.key.dst);
	in_filter = bpf_map_lookup_elem(&cost_filter, &slot);
	if (!in_filter || !*in_filter)
		return XDP_PASS;
	now = bpf_ktime_get_coarse_ns();
	flow = flow_lookup();
	if (!flow)
		return XDP_PASS;
	id = flow->backend_id;
	be = bpf_map_lookup_elem(&cost_backends, &id);
	if (!be)
		return XDP_PASS;
	sink += now;
	counters3(bytes);
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
	return XDP_TX;
}

/* xlb's flow lookup alone: the table hash, one inlined array lookup, the bucket's 4 words. */
SEC("xdp")
int cost_flow_lookup_buckets(struct xdp_md *ctx)
{
	struct xlb_flow_key k = cost_flow_key;
	__u64 h = xlb_flowtab_hash(&k, 0);
	__u32 i = (__u32)h & 0, sig = h >> 32;
	struct xlb_flow_bucket *b = bpf_map_lookup_elem(&cost_buckets, &i);

	if (!b)
		return XDP_PASS;
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		if (xlb_fent_sig(b->ent[w]) == sig)
			sink += xlb_fent_be(b->ent[w]);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
