/* stats.h - per-CPU counter updates for the XDP program. */
#ifndef XLB_BPF_STATS_H
#define XLB_BPF_STATS_H

static __always_inline struct xlb_explain *explain_trace(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xlb_explain, &zero);
}

static __always_inline void count(__u32 counter)
{
	__u64 *v;

	if (explain_mode) { /* record the path instead of counting it */
		struct xlb_explain *e = explain_trace();

		if (e && counter < 64)
			e->counters |= 1ULL << counter;
		return;
	}
	v = bpf_map_lookup_elem(&xlb_stats, &counter);
	if (v)
		*v += 1;
}

/* Every return of the program goes through here, so xdp_* counters add up to all packets. */
static __always_inline int count_action(int action)
{
	count(XLB_C_ACT_ABORTED + action);
	return action;
}

static __always_inline int pass(__u32 reason)
{
	count(reason);
	return count_action(XDP_PASS);
}

static __always_inline int drop(__u32 reason)
{
	count(reason);
	return count_action(XDP_DROP);
}

static __always_inline void count_traffic(void *map, __u32 id, __u64 bytes, int new_flow,
					  int syn_retry)
{
	struct xlb_traffic *t;

	if (explain_mode)
		return;
	t = bpf_map_lookup_elem(map, &id);
	if (!t) {
		count(XLB_C_MAP_ERROR);
		return;
	}
	t->packets++;
	t->bytes += bytes;
	t->new_flows += new_flow;
	t->syn_retries += syn_retry;
}

/* A rare event for xlbd's log, rate-limited per CPU and type (the counters see them all). */
static __always_inline void emit_event(__u32 type, __u32 vip_id, __u32 from, __u32 to, __u64 now)
{
	struct xlb_event_budget *b;
	struct xlb_event *e;
	__u64 second = now / 1000000000ULL;

	if (explain_mode)
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

#endif /* XLB_BPF_STATS_H */
