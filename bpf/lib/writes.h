/* writes.h - every write of the XDP program to its maps, and the explain instance's rule. */
#ifndef XLB_BPF_WRITES_H
#define XLB_BPF_WRITES_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "knobs.h"
#include "maps.h"

/*
 * An explain instance (explain_mode, xlbctl flow explain) runs a frame through the program on
 * the live maps and must change none of them. So every map write of the program is a helper
 * here (the flow table's are in flowtab.h, under the same rule), which in that instance does nothing or records the packet's path in xlb_explain
 * instead, and the rest of the program writes no map directly. explain_mode is a load-time
 * knob, read once per packet (xlb_xdp): the program body is inlined twice, with ex (the
 * argument every helper here takes) the constant 0 or 1, so clang drops the explain code from
 * the live copy and the verifier, which sees explain_mode as 0, drops the explain copy. A read
 * of explain_mode in each helper would leave a load at every call site of the live program (the
 * verifier removes the dead branch, not the load that decides it).
 */

static __always_inline struct xlb_explain *explain_trace(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xlb_explain, &zero);
}

/* Explain only: the backend named by the flow entry the packet found (0: none found). */
static __always_inline void explain_note_flow(const int ex, __u32 be_id)
{
	struct xlb_explain *e;

	if (!be_id || !ex)
		return;
	e = explain_trace();
	if (e)
		e->flow_backend = be_id;
}

/* Explain only: the backend the packet is forwarded to. */
static __always_inline void explain_note_backend(const int ex, __u32 be_id)
{
	struct xlb_explain *e;

	if (!ex)
		return;
	e = explain_trace();
	if (e)
		e->backend = be_id;
}

static __always_inline void count(const int ex, __u32 counter)
{
	__u64 *v;

	if (ex) { /* record the path instead of counting it */
		struct xlb_explain *e = explain_trace();

		if (e && counter < 64)
			e->counters |= 1ULL << counter;
		return;
	}
	v = bpf_map_lookup_elem(&xlb_stats, &counter);
	if (v)
		*v += 1;
}

/* The backend's traffic; a VIP's is the sum of its backends' (userspace adds them up). */
static __always_inline void count_traffic(const int ex, __u32 be_id, __u64 bytes, int new_flow,
					  int syn_retry)
{
	struct xlb_traffic *t;

	if (ex)
		return;
	t = bpf_map_lookup_elem(&xlb_be_stats, &be_id);
	if (!t) {
		count(ex, XLB_C_MAP_ERROR);
		return;
	}
	t->packets++;
	t->bytes += bytes;
	t->new_flows += new_flow;
	t->syn_retries += syn_retry;
}

/* A rare event for xlbd's log, rate-limited per CPU and type (the counters see them all). */
static __always_inline void emit_event(const int ex, __u32 type, __u32 vip_id, __u32 from, __u32 to,
				       __u64 now)
{
	struct xlb_event_budget *b;
	struct xlb_event *e;
	__u64 second = now / 1000000000ULL;

	if (ex)
		return;
	b = bpf_map_lookup_elem(&xlb_ev_budget, &type);
	if (!b)
		return;
	if (b->second != second) {
		b->second = second;
		b->sent = 0;
	}
	if (b->sent >= XLB_EVENTS_PER_SEC)
		return;
	e = bpf_ringbuf_reserve(&xlb_events, sizeof(*e), 0);
	if (!e)
		return;
	b->sent++;
	e->type = type;
	e->vip_id = vip_id;
	e->from_backend = from;
	e->to_backend = to;
	e->ts_ns = now;
	bpf_ringbuf_submit(e, 0);
}

/* The backend's active-flow count (least-conn's, local to this LB node). */
static __always_inline void active_add(const int ex, __u32 be_id, __s64 delta)
{
	__s64 *n;

	if (ex)
		return;
	n = bpf_map_lookup_elem(&xlb_be_active, &be_id);
	if (n)
		__sync_fetch_and_add(n, delta);
}

/* rr/wrr: this CPU's next position in the VIP's schedule. */
static __always_inline void rr_advance(const int ex, __u32 *pos, __u32 next)
{
	if (!ex)
		*pos = next;
}

#endif /* XLB_BPF_WRITES_H */
