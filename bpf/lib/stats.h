/* stats.h - the verdict of every return of the XDP program, counted with its reason. */
#ifndef XLB_BPF_STATS_H
#define XLB_BPF_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_counters.h"
#include "writes.h" /* count(), which records instead in an explain instance */

/* Every return of the program goes through here, so xdp_* counters add up to all packets. */
static __always_inline int count_action(const int ex, int action)
{
	count(ex, XLB_C_ACT_ABORTED + action);
	return action;
}

static __always_inline int pass(const int ex, __u32 reason)
{
	count(ex, reason);
	return count_action(ex, XDP_PASS);
}

static __always_inline int drop(const int ex, __u32 reason)
{
	count(ex, reason);
	return count_action(ex, XDP_DROP);
}

#endif /* XLB_BPF_STATS_H */
