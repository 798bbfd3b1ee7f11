/* map_shapes.h - type, flags, size, key and value of the XDP program's maps, written once:
 * maps.h declares xlb's maps with them, bench_cost.bpf.c its look-alikes, so a cost row always
 * measures a map shaped like xlb's. */
#ifndef XLB_BPF_MAP_SHAPES_H
#define XLB_BPF_MAP_SHAPES_H

#define XLB_VIPS_MAP(name)                         \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_HASH);   \
		__uint(max_entries, XLB_MAX_VIPS); \
		__type(key, struct xlb_vip_key);   \
		__type(value, struct xlb_vip);     \
	} name SEC(".maps")

/* An array, so the verifier inlines the lookup: the non-VIP path costs no hash lookup. */
#define XLB_VIP_FILTER_MAP(name)                           \
	struct {                                           \
		__uint(type, BPF_MAP_TYPE_ARRAY);          \
		__uint(max_entries, XLB_VIP_FILTER_SLOTS); \
		__type(key, __u32);                        \
		__type(value, __u32);                      \
	} name SEC(".maps")

#define XLB_BACKENDS_MAP(name)                         \
	struct {                                       \
		__uint(type, BPF_MAP_TYPE_ARRAY);      \
		__uint(max_entries, XLB_MAX_BACKENDS); \
		__type(key, __u32);                    \
		__type(value, struct xlb_backend);     \
	} name SEC(".maps")

/*
 * One hash table shared by all CPUs, so a flow keeps its backend whichever CPU its packets land
 * on; LRU lists per CPU (BPF_F_NO_COMMON_LRU): into a full table, where every insert evicts (a
 * flow table's steady state), they were 20-25% cheaper than the common list (docs/benchmarks.md).
 * Userspace sizes it before load.
 */
#define XLB_FLOWS_MAP(name)                             \
	struct {                                        \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);    \
		__uint(map_flags, BPF_F_NO_COMMON_LRU); \
		__uint(max_entries, XLB_DEFAULT_FLOWS); \
		__type(key, struct xlb_flow_key);       \
		__type(value, struct xlb_flow);         \
	} name SEC(".maps")

#define XLB_STATS_MAP(name)                              \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, XLB_C_MAX);          \
		__type(key, __u32);                      \
		__type(value, __u64);                    \
	} name SEC(".maps")

/* Per-VIP or per-backend traffic: entries is XLB_MAX_VIPS or XLB_MAX_BACKENDS. */
#define XLB_TRAFFIC_MAP(name, entries)                   \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, entries);            \
		__type(key, __u32);                      \
		__type(value, struct xlb_traffic);       \
	} name SEC(".maps")

#endif /* XLB_BPF_MAP_SHAPES_H */
