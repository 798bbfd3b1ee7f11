/* maps.h - the XDP program's maps (layouts in include/xlb_abi.h). Included by xlb.bpf.c, and by
 * bench/bpf/bench_cost.bpf.c, whose maps are declared with these maps' types (__typeof__). */
#ifndef XLB_BPF_MAPS_H
#define XLB_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_counters.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
} xlb_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_addr_key);
	__type(value, __u32);
} xlb_vip_addrs SEC(".maps");

/* An array, so the verifier inlines the lookup: the non-VIP path costs no hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_VIP_FILTER_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} xlb_vip_filter SEC(".maps");

/* Mmapable: userspace writes an entry in 8-byte stores, never a byte copy that a packet's read of
 * MAC and state could land inside (user/lib/dataplane.c, xlb_dp_set_backend). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} xlb_backends SEC(".maps");

/* Inner map template; userspace replaces it by one sized XLB_TBL_SIZE(ring size) before load. */
struct xlb_table_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xlb_table)); /* BTF cannot size a flexible array */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct xlb_table_map);
} xlb_tables SEC(".maps");

/*
 * The flow table (lib/flowtab.h, docs/datapath.md): one array of one-line buckets shared by all
 * CPUs, so a flow keeps its backend whichever CPU its packets land on. Mmapable: userspace
 * reads and deletes entries in place (user/lib/dataplane.c). Userspace sizes both before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_DEFAULT_FLOWS / XLB_FLOW_WAYS);
	__type(key, __u32);
	__type(value, struct xlb_flow_bucket);
} xlb_flows SEC(".maps");

/* The full 5-tuple of every slot, for userspace only (written at insert, never read here). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_DEFAULT_FLOWS);
	__type(key, __u32);
	__type(value, struct xlb_flow_key);
} xlb_flow_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xlb_stats SEC(".maps");

/* Per-backend traffic (a VIP's: the sum of its backends', summed by userspace). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_traffic);
} xlb_be_stats SEC(".maps");

/* Active flows per backend of least-conn VIPs: atomic adds from every CPU, read by least-conn
 * and xlbd. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __s64);
} xlb_be_active SEC(".maps");

/* rr/wrr position per VIP, per CPU: no shared cache line on the new-flow path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, __u32);
} xlb_rr_pos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_meta);
} xlb_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} xlb_events SEC(".maps");

/* Per CPU and event type: {second of the last event, events in that second}. */
struct xlb_event_budget {
	__u64 second;
	__u64 sent;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_EV_MAX);
	__type(key, __u32);
	__type(value, struct xlb_event_budget);
} xlb_ev_budget SEC(".maps");

/* Only an explain instance writes it; never pinned, never shared. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_explain);
} xlb_explain SEC(".maps");

/* ipip forwarding (layouts and meaning: include/xlb_abi.h; use: lib/encap.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, __u32);
} xlb_vip_fwd SEC(".maps");

/* Never pinned (user/lib/dataplane.c): xlbd fills it at every start and follows the interfaces
 * as they come and go (user/xlbd/links.c); libbpf cannot reuse a pinned devmap (the kernel adds
 * BPF_F_RDONLY_PROG to its flags, which then differ from ours). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XLB_MAX_TX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} xlb_tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_encap_src);
} xlb_encap_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_icmp_budget);
} xlb_icmp_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_nexthop);
} xlb_nexthops SEC(".maps");

/* ipip: bpf_fib_lookup's arguments, per CPU (bpf/lib/encap.h): 64 bytes the program's stack,
 * at its limit with the flow table's functions, need not hold. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
} xlb_fib_scratch SEC(".maps");

#endif /* XLB_BPF_MAPS_H */
