/* dataplane.h - load the XDP program and read/write its maps (typed access; no attach here). */
#ifndef XLB_DATAPLANE_H
#define XLB_DATAPLANE_H

#include <linux/types.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "maglev.h"

struct xlb_bpf; /* the skeleton, build/xlb.skel.h */

struct xlb_dp_opts {
	__u32 ring_size;    /* Maglev table size (prime); 0 = XLB_DEFAULT_RING_SIZE */
	__u32 flow_entries; /* flow table slots, rounded up to a power of two; 0 = XLB_DEFAULT_FLOWS */
	__u32 hash_seed;    /* flow hash seed at load (xlb_meta; xlb_dp_set_hash_seed changes it) */
	__u64 udp_timeout_ns; /* idle UDP flows older than this are re-picked; 0 = 30 s */
	__u8 lb_mac[6];	      /* only frames to it are balanced; all-zero: any unicast */
	const char *pin_dir;  /* pin maps here, reusing pinned ones of the same ABI; NULL: none */
};

struct xlb_dp {
	struct xlb_bpf *skel;
	__u32 ring_size;
	__u32 flow_entries;
	int prog_fd;
	int reused; /* maps came from pin_dir (a previous instance) */
	/* xlb_backends mapped into memory: entries are written with 8-byte stores (NULL: by
	 * bpf_map_update_elem, whose byte copy a packet's read can land inside) */
	volatile __u64 *backends;
	/* The flow table mapped into memory (both maps are mmapable): userspace reads entries in
	 * place and changes them with the data plane's compare-and-swap (xlb_flowtab.h). */
	struct xlb_flow_bucket *flows;
	struct xlb_flow_key *flow_keys;
	__u32 flow_buckets; /* flow_entries / XLB_FLOW_WAYS, a power of two */
	__u64 flow_seed;    /* the table hash's (xlb_meta.flow_seed) */
	char pin_dir[256];  /* empty: not pinned */
	/*
	 * The data plane counts traffic per backend only; a VIP's is the sum of its backends'
	 * (xlb_dp_read_vip_traffic). be_vip: the VIP each backend entry names, as this process
	 * last wrote it (read from the maps when they are reused). be_start: a backend's totals
	 * when its entry began to name that VIP (0 for those named at load). vip_base: per VIP, what
	 * backends that left it had brought it, so that its counters never go down
	 * (docs/metrics.md).
	 */
	__u16 be_vip[XLB_MAX_BACKENDS];
	struct xlb_traffic be_start[XLB_MAX_BACKENDS];
	struct xlb_traffic vip_base[XLB_MAX_VIPS];
};

/*
 * Open, size and load the program and its maps (not attached). Returns 0 or -errno.
 * With pin_dir: maps pinned there by an instance of the same ABI are reused (and their ring
 * size and flow-table size win over opts); pins of another ABI are removed first; new maps
 * are pinned. The reason for a failure is logged.
 */
int xlb_dp_load(const struct xlb_dp_opts *opts, struct xlb_dp **out);
/* Remove the pinned maps and the pin directory. */
int xlb_dp_unpin(struct xlb_dp *dp);
void xlb_dp_destroy(struct xlb_dp *dp);

/*
 * The flow hash seed the program reads for every new flow (xlb_meta.hash_seed). Changing it
 * re-steers new flows only if the tables are rebuilt with it too: that order is the caller's
 * (user/xlbd/apply.c, docs/cluster.md).
 */
int xlb_dp_set_hash_seed(struct xlb_dp *dp, __u32 seed);
int xlb_dp_hash_seed(struct xlb_dp *dp, __u32 *seed);

/* VIPs: also maintain the per-address refcount in xlb_vip_addrs and the xlb_vip_filter slots. */
int xlb_dp_set_vip(struct xlb_dp *dp, const struct xlb_vip_key *key, const struct xlb_vip *vip);
int xlb_dp_del_vip(struct xlb_dp *dp, const struct xlb_vip_key *key);

/*
 * Writes backend id's entry so that a packet reading it at the same time (one read: MAC and
 * state are one 8-byte word) never sends to a MAC the entry did not have while usable: the MAC
 * word is one store; an entry that changes owner or address is taken down first and brought up
 * last (docs/datapath.md, step 7). When the entry's VIP changes, what the backend brought the
 * old VIP stays in that VIP's sum (its base), and the new VIP counts only the backend's traffic
 * from here on (the backend's own counters go on: they never go down).
 */
int xlb_dp_set_backend(struct xlb_dp *dp, __u32 id, const struct xlb_backend *be);
int xlb_dp_get_backend(struct xlb_dp *dp, __u32 id, struct xlb_backend *be);
/* Change only the state byte (read-modify-write of the entry). */
int xlb_dp_set_backend_state(struct xlb_dp *dp, __u32 id, __u8 state);

/*
 * Publish a VIP's table atomically: a new inner map is created and filled completely, then swapped
 * into xlb_tables[vip_id] with one update. ring has len entries (len <= ring_size), members nmemb.
 */
int xlb_dp_publish_table(struct xlb_dp *dp, __u32 vip_id, const __u32 *members, __u32 nmemb,
			 const __u32 *ring, __u32 len);
/* The same in two steps: a new zeroed table mapped into *table (returns its fd), then the swap,
 * which also unmaps and closes it. */
int xlb_dp_table_new(struct xlb_dp *dp, struct xlb_table **table);
int xlb_dp_table_swap(struct xlb_dp *dp, __u32 vip_id, int fd, struct xlb_table *table);
int xlb_dp_clear_table(struct xlb_dp *dp, __u32 vip_id);

/* Per-CPU counters summed over CPUs. A VIP's traffic: its base (backends that left it) plus the
 * traffic of every backend entry naming it. */
int xlb_dp_read_counters(struct xlb_dp *dp, __u64 out[XLB_C_MAX]);
int xlb_dp_read_vip_traffic(struct xlb_dp *dp, __u32 vip_id, struct xlb_traffic *out);
int xlb_dp_read_backend_traffic(struct xlb_dp *dp, __u32 id, struct xlb_traffic *out);

/* Active flows of a backend (least-conn's count), and setting it (xlbd's recount). */
int xlb_dp_read_backend_active(struct xlb_dp *dp, __u32 id, __s64 *out);
int xlb_dp_set_backend_active(struct xlb_dp *dp, __u32 id, __s64 n);

/*
 * Calls fn for every flow-table entry (a walk over the mapped buckets, no syscall); stops early
 * when fn returns non-zero. Entries may come and go meanwhile: a snapshot, not a transaction.
 * k is the entry's own key, or NULL when it could not be read: the data plane writes a new
 * entry's key just after the entry, and a key that does not hash to the entry's bucket and
 * signature is not given (fn must treat NULL as "unknown", never as another flow's key).
 */
int xlb_dp_for_each_flow(struct xlb_dp *dp,
			 int (*fn)(const struct xlb_flow_key *k, const struct xlb_flow *f,
				   void *arg),
			 void *arg);

/*
 * Deletes every flow-table entry for which doomed returns non-zero, each by a compare-and-swap
 * against the entry word read (an entry changed meanwhile stays). *deleted: how many went. k
 * as for xlb_dp_for_each_flow (NULL: unknown).
 */
int xlb_dp_delete_flows(struct xlb_dp *dp,
			int (*doomed)(const struct xlb_flow_key *k, const struct xlb_flow *f,
				      void *arg),
			void *arg, size_t *deleted);

/*
 * One flow's entry by its 5-tuple: read (-ENOENT: none), written (its slot, or a free one;
 * -ENOSPC: both of its buckets are full; -EAGAIN: another writer changed the slot first, and
 * no entry was stored or counted; last_seen_ns as given; XLB_FLOW_F_UDP from the key), deleted.
 * A put does not take the insert guard (docs/datapath.md, "The flow table"): racing the data
 * plane's insert of the same flow, it can leave the flow two entries.
 * For tests, benchmarks and repairs: the data plane makes its own entries.
 */
int xlb_dp_flow_get(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow *out);
int xlb_dp_flow_put(struct xlb_dp *dp, const struct xlb_flow_key *k, const struct xlb_flow *f);
int xlb_dp_flow_del(struct xlb_dp *dp, const struct xlb_flow_key *k);
/* The home bucket index and signature of a 5-tuple (tests build keys that share a bucket);
 * its second bucket is xlb_flow_alt(bucket, sig, flow_buckets - 1). */
void xlb_dp_flow_place(const struct xlb_dp *dp, const struct xlb_flow_key *k, __u32 *bucket,
		       __u32 *sig);

/*
 * An explain instance of the program: the same knobs as live, every map shared with live except
 * xlb_explain, and explain_mode set, so it changes nothing (docs/datapath.md). xlb_dp_explain
 * runs one frame through it and returns the action, the output frame and the path taken.
 */
int xlb_dp_load_explain(const struct xlb_dp *live, struct xlb_dp **out);
int xlb_dp_explain(struct xlb_dp *ex, const void *frame, __u32 len, void *out, __u32 *out_len,
		   __u32 *action, struct xlb_explain *trace);

const char *xlb_counter_name(enum xlb_counter c);

/* ipip forwarding (docs/datapath.md, "ipip"). The forwarding mode every packet of VIP vip_id
 * follows, its flow-table hits included (xlb_vip_fwd); xlbd writes it with the VIP. */
int xlb_dp_set_vip_fwd(struct xlb_dp *dp, __u32 vip_id, __u32 fwd);
/* The outer source addresses; a zero one: the address the route to the backend gives. */
int xlb_dp_set_encap_src(struct xlb_dp *dp, const struct xlb_encap_src *src);
/* Every interface of the caller's namespace into xlb_tx_ports (XDP_REDIRECT targets); those the
 * kernel refuses are skipped. -ENODEV when none could be added. (xlbd follows the interfaces
 * with user/xlbd/links.c instead; the BPF tests fill the map once with this.) */
int xlb_dp_set_tx_ports(struct xlb_dp *dp);
/* One interface into xlb_tx_ports: 0, or the kernel's refusal as -errno (an interface gone
 * already: -EINVAL; the map full: -E2BIG). The kernel does not check that the interface can
 * send redirected frames. */
int xlb_dp_tx_port_add(struct xlb_dp *dp, __u32 ifindex);
/* ifindex out of xlb_tx_ports: 0, -ENOENT when it was not there (the kernel itself removes an
 * interface that is unregistered or leaves the namespace). */
int xlb_dp_tx_port_del(struct xlb_dp *dp, __u32 ifindex);
/* The interfaces in xlb_tx_ports, the first max of them into out: how many there are, or
 * -errno. */
int xlb_dp_tx_ports(struct xlb_dp *dp, __u32 *out, int max);

#endif /* XLB_DATAPLANE_H */
