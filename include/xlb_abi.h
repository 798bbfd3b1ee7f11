/* xlb_abi.h - map keys, values, limits and flags shared by the XDP program and userspace. */
#ifndef XLB_ABI_H
#define XLB_ABI_H

/*
 * No includes here on purpose: BPF code gets __u32 & co. from <linux/types.h> through
 * <linux/bpf.h>, userspace from <linux/types.h>. Include one of those first.
 * Every key and value has fixed-width fields, explicit padding and a size assertion,
 * because the same bytes are read by both sides.
 */

/* Bump when any struct below, a map's type or the table layout changes: xlbd refuses to
 * reuse pinned maps whose ABI version differs. */
#define XLB_ABI_VERSION 6

/* Limits (map sizes; the flow table and ring size are set before load). */
#define XLB_MAX_VIPS	      512   /* VIP ids 0..XLB_MAX_VIPS-1 */
#define XLB_MAX_BACKENDS      8192  /* backend ids 1..XLB_MAX_BACKENDS-1; 0 means "none" */
#define XLB_MAX_VIP_BACKENDS  1024  /* members of one VIP */
#define XLB_MAX_TX_PORTS      256   /* interfaces in xlb_tx_ports (ipip XDP_REDIRECT targets) */
#define XLB_DEFAULT_RING_SIZE 65537 /* Maglev table size: prime, >= 100 * backends for 1% balance */
#define XLB_MAX_RING_SIZE     655373   /* largest supported ring size (prime) */
#define XLB_DEFAULT_FLOWS     4194304  /* flow table slots (XLB_FLOW_WAYS per bucket): 1M flows */
#define XLB_MAX_FLOWS	      67108864 /* largest flow table (slots): 16M flows */
#define XLB_REHASH_TRIES      8	       /* failover re-hashes into the ring before the member walk */

#define XLB_AF_INET  4
#define XLB_AF_INET6 6

/* An IPv4 or IPv6 address in network byte order. IPv4 uses v4 (bytes 0..3), bytes 4..15 are 0. */
struct xlb_addr {
	union {
		__be32 v4;
		__be32 v6[4];
		__u8 bytes[16];
	};
};

/* xlb_vips (HASH): {VIP address, port, protocol} -> struct xlb_vip. */
struct xlb_vip_key {
	struct xlb_addr addr;
	__be16 port; /* network byte order; never 0 */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
};

/* Per-VIP scheduler: how a new flow picks its backend (docs/datapath.md). */
enum xlb_sched {
	XLB_SCHED_MAGLEV = 0,	   /* weighted Maglev over the 5-tuple */
	XLB_SCHED_SOURCE_HASH = 1, /* the same ring over the client address (+ dport: flag) */
	XLB_SCHED_RR = 2,	   /* ring = usable members; per-CPU position */
	XLB_SCHED_WRR = 3, /* ring = smooth weighted round-robin schedule; per-CPU position */
	XLB_SCHED_LEAST_CONN =
		4, /* ring = usable members; two random choices, fewer flows/weight */
	XLB_SCHED_MAX,
};

#define XLB_VIP_F_HASH_DPORT 0x1 /* source-hash: hash the destination port with the address */

enum xlb_fwd {
	XLB_FWD_DSR_L2 = 0, /* the backend's MAC, XDP_TX: backends on the LB's segment */
	XLB_FWD_IPIP =
		1, /* an outer IPv4/IPv6 header to the backend's address (docs/datapath.md) */
	XLB_FWD_MAX,
};

struct xlb_vip {
	__u32 id;    /* index into xlb_tables and xlb_rr_pos */
	__u8 sched;  /* enum xlb_sched */
	__u8 fwd;    /* enum xlb_fwd */
	__u16 flags; /* XLB_VIP_F_* */
};

/* xlb_vip_addrs (HASH): VIP address -> number of VIPs on it. Lets the program tell a malformed
 * packet to a VIP address (dropped, counted) from one to anybody else (passed untouched). */
struct xlb_vip_addr_key {
	struct xlb_addr addr;
	__u8 family;
	__u8 pad[3];
};

/*
 * xlb_vip_filter (ARRAY): slot xlb_vip_filter_slot(address) (xlb_hash.h) -> number of VIP addresses
 * in that slot. A packet whose destination's slot is 0 is not for a VIP: it passes after one
 * inlined array read, without a hash lookup. A slot shared with a VIP address only costs the
 * exact lookups that follow.
 */
#define XLB_VIP_FILTER_BITS  12
#define XLB_VIP_FILTER_SLOTS (1u << XLB_VIP_FILTER_BITS)

/* xlb_backends (ARRAY): backend id -> struct xlb_backend. A backend is one real server of one VIP. */
enum xlb_backend_state {
	XLB_BE_DOWN = 0,     /* no traffic: flows on it re-pick at once (stateless failover) */
	XLB_BE_UP = 1,	     /* new and existing flows */
	XLB_BE_DRAINING = 2, /* existing flows only */
};

struct xlb_backend {
	struct xlb_addr addr;
	__u8 mac[6]; /* dsr-l2 next hop */
	__u8 state;  /* enum xlb_backend_state */
	__u8 family;
	__u32 vip_id; /* owner VIP: a flow entry is honoured only by its own VIP's backends */
	__u32 weight; /* effective weight (least-conn compares flows per weight) */
};

/*
 * xlb_tables (ARRAY_OF_MAPS): VIP id -> inner ARRAY with one struct xlb_table of
 * XLB_TBL_SIZE(ring size) bytes. The controller builds a complete new inner map and then swaps
 * it in with one update of the outer slot, so a packet sees the old table or the new one, never
 * a mix. One element holding everything means one inner lookup per new flow.
 */
struct xlb_table {
	__u32 len;   /* entries of ring[] in use: the Maglev table size (prime) */
	__u32 nmemb; /* entries of memb[] in use */
	__u32 memb[XLB_MAX_VIP_BACKENDS]; /* member backend ids (failover walk) */
	__u32 ring[];			  /* backend id per slot; ring size entries */
};
#define XLB_TBL_SIZE(ring_size) (sizeof(struct xlb_table) + (ring_size) * sizeof(__u32))

/* A flow's 5-tuple. Addresses as in struct xlb_addr; pad is 0 (the table hash reads it). */
struct xlb_flow_key {
	struct xlb_addr src;
	struct xlb_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

/* A flow entry as userspace sees it (user/lib/dataplane.c decodes the table into it). */
struct xlb_flow {
	__u32 backend_id;
	__u16 vip_id;
	__u16 flags;	    /* XLB_FLOW_F_* */
	__u64 last_seen_ns; /* CLOCK_MONOTONIC_COARSE, to a tick (xlb_flowtab.h) */
};

#define XLB_FLOW_F_CLOSED  0x1 /* FIN or RST seen: no longer counted as active */
#define XLB_FLOW_F_COUNTED 0x2 /* in its backend's xlb_be_active count (least-conn VIPs only) */
#define XLB_FLOW_F_EST	   0x4 /* promoted: a packet after the first (docs/datapath.md) */
#define XLB_FLOW_F_UDP	   0x8 /* a UDP flow (its idle timeout is udp_timeout_ns) */
#define XLB_FLOW_F_ALT \
	0x10 /* stored in its second bucket (the table's own: userspace never sets it) */

/*
 * xlb_flows (ARRAY, mmapable): bucket index -> one 64-byte bucket of XLB_FLOW_WAYS slots.
 * A flow lives in its home bucket xlb_flowtab_hash() & (buckets - 1) or, when that held only
 * live entries at its insert, in its second bucket (xlb_flow_alt), in the slot whose entry
 * word carries its signature (include/xlb_flowtab.h has the word's layout). ver is the insert
 * guard of the flows whose home the bucket is: odd while a CPU claims a slot for one of them,
 * so two CPUs cannot insert one flow twice; lookups never read it. ovf: how many flows whose
 * home the bucket is are stored in their second bucket (0: a lookup reads this line only).
 * seen: last-seen ticks per slot.
 * xlb_flow_keys (ARRAY): slot (bucket * XLB_FLOW_WAYS + way) -> the full 5-tuple, written at
 * insert, read only by userspace (flow show, purge, recount); the data plane never reads it.
 */
#define XLB_FLOW_WAYS 4

struct xlb_flow_bucket {
	__u32 ver;
	__u32 ovf;
	__u32 seen[XLB_FLOW_WAYS];
	__u64 ent[XLB_FLOW_WAYS];
	__u64 pad2;
};

/* xlb_be_stats (PERCPU_ARRAY): backend id -> traffic counters. A VIP's traffic is the sum of its
 * backends' (user/lib/dataplane.c, xlb_dp_read_vip_traffic; docs/metrics.md). */
struct xlb_traffic {
	__u64 packets;
	__u64 bytes;	   /* whole frames, as received */
	__u64 new_flows;   /* flow-table inserts */
	__u64 syn_retries; /* SYNs for a flow already in the table: the client got no answer */
};

/*
 * xlb_be_active (ARRAY): backend id -> __s64 active flows, for least-conn. The data plane adds 1
 * for a new flow of a least-conn VIP (and marks its entry XLB_FLOW_F_COUNTED) and subtracts 1 on
 * its first FIN/RST, when it is re-steered and when its entry is evicted, for marked entries
 * only, each by the CPU whose compare-and-swap made the change; entries deleted by userspace and
 * idle ones are corrected by xlbd, which recounts the marked entries periodically.
 * xlb_rr_pos (PERCPU_ARRAY): VIP id -> __u32 position in the rr/wrr ring.
 */

/*
 * xlb_explain (ARRAY, 1 entry): what one packet did, written only by an explain instance of the
 * program (rodata explain_mode = 1), which shares every other map with the live program but
 * writes none of them: `xlbctl flow explain` runs a packet through it with BPF_PROG_TEST_RUN.
 */
struct xlb_explain {
	__u64 counters;	    /* bit n: enum xlb_counter n was counted */
	__u32 flow_backend; /* backend named by the flow-table entry; 0: no entry */
	__u32 backend;	    /* backend the packet went to; 0: none */
};

/*
 * xlb_events (RINGBUF): rare data-plane events for xlbd's log, at most XLB_EVENTS_PER_SEC of
 * each type per CPU per second (the rest are only counted).
 */
enum xlb_event_type {
	XLB_EV_NO_BACKEND = 1, /* a VIP packet found no usable backend */
	XLB_EV_REPICK = 2,     /* a flow left its backend (down or gone) for another */
	XLB_EV_FLOW_FULL = 3,  /* a flow-table insert failed */
	XLB_EV_MAX,
};
#define XLB_EVENTS_PER_SEC 10

struct xlb_event {
	__u32 type; /* enum xlb_event_type */
	__u32 vip_id;
	__u32 from_backend; /* repick: the backend the flow left */
	__u32 to_backend;   /* repick: where it went */
	__u64 ts_ns;
};

/*
 * xlb_meta (ARRAY, 1 entry): what the maps were created for, and the flow hash seed, which is
 * cluster-wide configuration (docs/cluster.md): xlbd may change it while the program runs, so it
 * is read from here on the new-flow path, not fixed at load. Every Maglev ring is built with it.
 */
struct xlb_meta {
	__u32 abi_version;
	__u32 ring_size;
	__u32 flow_entries;
	__u32 hash_seed; /* flow hash and Maglev seed; written by xlbd (xlb_dp_set_hash_seed) */
	__u64 flow_seed; /* flow table hash seed (xlb_flowtab.h), drawn when the maps are made */
};

/*
 * ipip forwarding (bpf/lib/encap.h, docs/datapath.md "ipip").
 * xlb_vip_fwd (ARRAY): VIP id -> __u32 enum xlb_fwd. Read by every forwarded packet, the flow
 * table's hits included (they never look the VIP up), so `vip set fwd` moves established flows
 * to the new mode at once, on the backends they have.
 * xlb_tx_ports (DEVMAP_HASH): ifindex -> ifindex, the interfaces an encapsulated packet may be
 * redirected to (XDP_REDIRECT); xlbd keeps it to the interfaces of its namespace (links.c).
 * xlb_encap_src (ARRAY, 1 entry): the outer source addresses; a zero address means the one the
 * route to the backend gives (bpf_fib_lookup's BPF_FIB_LOOKUP_SRC).
 * xlb_icmp_budget (PERCPU_ARRAY, 1 entry): the PMTU answers' rate limit (struct xlb_icmp_budget).
 */
struct xlb_encap_src {
	struct xlb_addr v4; /* bytes 0..3 */
	struct xlb_addr v6;
};

/*
 * xlb_nexthops (PERCPU_ARRAY): backend id -> the last bpf_fib_lookup answer for it on this CPU,
 * reused for up to XLB_NEXTHOP_TTL_NS while the backend's address and the receiving interface
 * are the same and the outer packet is no longer than one that fitted (docs/datapath.md, "ipip").
 */
#define XLB_NEXTHOP_TTL_NS 100000000ULL /* 100 ms */
struct xlb_nexthop {
	struct xlb_addr dst; /* the backend address it was looked up for */
	struct xlb_addr src; /* the outer source the route gave */
	__u8 dmac[6];
	__u8 smac[6];
	__u32 ifindex;	  /* egress */
	__u32 in_ifindex; /* the receiving interface it was looked up from */
	__u16 fits;	  /* the longest outer packet (bytes) that fitted the route's MTU */
	__u8 route_src;	  /* src is the route's (no configured source then) */
	__u8 pad;
	__u64 expires_ns; /* bpf_ktime_get_coarse_ns() */
};

struct xlb_icmp_budget {
	__u64 second; /* bpf_ktime_get_coarse_ns() / 1e9 of the last answer */
	__u64 sent;   /* answers sent in that second, on this CPU */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct xlb_encap_src) == 32, "xlb_encap_src");
_Static_assert(sizeof(struct xlb_icmp_budget) == 16, "xlb_icmp_budget");
_Static_assert(sizeof(struct xlb_nexthop) == 64, "xlb_nexthop");
_Static_assert(sizeof(struct xlb_addr) == 16, "xlb_addr");
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key");
_Static_assert(sizeof(struct xlb_vip) == 8, "xlb_vip");
_Static_assert(sizeof(struct xlb_vip_addr_key) == 20, "xlb_vip_addr_key");
_Static_assert(sizeof(struct xlb_backend) == 32, "xlb_backend");
_Static_assert(sizeof(struct xlb_table) == 8 + 4 * XLB_MAX_VIP_BACKENDS, "xlb_table");
_Static_assert(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key");
_Static_assert(sizeof(struct xlb_flow) == 16, "xlb_flow");
_Static_assert(sizeof(struct xlb_traffic) == 32, "xlb_traffic");
_Static_assert(sizeof(struct xlb_meta) == 24, "xlb_meta");
_Static_assert(sizeof(struct xlb_flow_bucket) == 64, "xlb_flow_bucket: one cache line");
_Static_assert(sizeof(struct xlb_explain) == 16, "xlb_explain");
_Static_assert(sizeof(struct xlb_event) == 24, "xlb_event");
#endif

#endif /* XLB_ABI_H */
