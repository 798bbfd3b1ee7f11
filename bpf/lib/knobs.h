/* knobs.h - the XDP program's load-time knobs, set through the skeleton's rodata before load. */
#ifndef XLB_BPF_KNOBS_H
#define XLB_BPF_KNOBS_H

#include <linux/types.h>
#include <linux/if_ether.h>

#include "xlb_abi.h"

/*
 * Definitions, not declarations: the program that includes this header owns the knobs (only
 * xlb.bpf.c does). They are const volatile so that clang keeps every read (the value is set
 * after compilation) and the verifier, which sees the frozen .rodata, prunes the branches a
 * knob rules out. user/lib/dataplane.c sets them by these names (skel->rodata->NAME).
 */
const volatile __u32 ring_size = XLB_DEFAULT_RING_SIZE; /* largest ring length accepted */
/* The seed at load, also written into xlb_meta. The program reads the seed from xlb_meta
 * (lib/pick.h), which xlbd changes at run time; this copy is only what tests compute with. */
const volatile __u32 hash_seed = 0;
const volatile __u64 udp_timeout_ns = 30ULL * 1000000000ULL;
/* Refresh a flow's last-seen time at most this often: writing it on every packet would bounce
 * the entry's cache line between CPUs. Must be well below udp_timeout_ns. */
const volatile __u64 flow_touch_ns = 1000000000ULL;
/* The flow table (lib/flowtab.h): buckets - 1 (a power of two), the table hash's seed (kept
 * in xlb_meta with the maps), and the idle time after which a TCP entry may be evicted. */
const volatile __u32 flow_mask = XLB_DEFAULT_FLOWS / XLB_FLOW_WAYS - 1;
const volatile __u64 flowtab_seed = 0;
const volatile __u64 tcp_idle_ns = 300ULL * 1000000000ULL;
const volatile __u8 lb_mac_set = 0;
/* An explain instance (xlbctl flow explain): shares the live maps, writes none of them, and
 * records the packet's path in xlb_explain instead (the rule is kept in lib/writes.h). 0 in
 * the live program, where the verifier removes every explain branch. */
const volatile __u8 explain_mode = 0;
const volatile __u8 lb_mac[ETH_ALEN] = {};

#endif /* XLB_BPF_KNOBS_H */
