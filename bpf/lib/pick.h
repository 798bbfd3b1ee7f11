/* pick.h - backend choice for a new flow: weighted Maglev with stateless failover. */
#ifndef XLB_BPF_PICK_H
#define XLB_BPF_PICK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "xlb_hash.h"
#include "knobs.h"
#include "maps.h"
#include "writes.h"

/*
 * Stateless failover: if the ring slot of a flow names a backend that is not usable, the flow
 * re-hashes (xlb_rehash, tries 1..XLB_REHASH_TRIES) into the same ring, which keeps the weights
 * of the remaining backends; if every try lands on an unusable backend, a walk over the members
 * from a hashed start takes the first usable one. Everything depends only on the packet and the
 * maps, so every LB node with the same maps picks the same backend.
 *
 * Stateless draining (maglev, source-hash): a draining backend stays in its VIP's ring (xlbd),
 * and is usable for a packet the data plane cannot prove is new (mid: TCP without SYN), which
 * so reaches the backend every node picked for its connection, whether or not this node has
 * its flow entry; a SYN or a UDP packet skips it as it skips a down backend. rr, wrr and
 * least-conn pass mid 0: their picks depend on per-node state, so a node without the entry
 * cannot find the connection's backend anyway (docs/datapath.md, "Draining across nodes").
 */

/*
 * A backend entry read once, into a local: the state and owner VIP the packet checks and the MAC
 * it is sent to come from this one read, so a concurrent update (xlbd removing the backend, or
 * taking it down) cannot pass the check with the old entry and lend the packet the new one's MAC.
 * Copied as four 8-byte words (array values are 8-byte aligned): mac, state and family share one,
 * so the MAC and the state are one load.
 */
union xlb_backend_copy {
	struct xlb_backend be;
	__u64 w[4];
};

_Static_assert(sizeof(union xlb_backend_copy) == sizeof(struct xlb_backend), "backend copy");
_Static_assert(__builtin_offsetof(struct xlb_backend, mac) / 8 ==
		       __builtin_offsetof(struct xlb_backend, state) / 8,
	       "mac and state in one word");

static __always_inline void backend_copy(const struct xlb_backend *be, union xlb_backend_copy *c)
{
	const __u64 *w = (const __u64 *)be;

	c->w[0] = w[0];
	c->w[1] = w[1];
	c->w[2] = w[2];
	c->w[3] = w[3];
}

/* Backend id for a packet of vip_id without a usable flow entry? Up; or draining, for a packet
 * that may be mid-connection (mid). Its entry is read once into *c and checked there: the copy
 * is what the packet is sent to (docs/datapath.md, step 7). */
static __always_inline int backend_usable_new(__u32 id, __u32 vip_id, __u32 mid,
					      union xlb_backend_copy *c)
{
	struct xlb_backend *be = bpf_map_lookup_elem(&xlb_backends, &id);

	if (!be)
		return 0;
	backend_copy(be, c);
	return c->be.vip_id == vip_id &&
	       (c->be.state == XLB_BE_UP || (mid && c->be.state == XLB_BE_DRAINING));
}

/* The flow hash seed, read per new flow: xlbd may change it at run time (docs/cluster.md). */
static __always_inline __u32 flow_seed(const int ex)
{
	__u32 zero = 0;
	const struct xlb_meta *m = bpf_map_lookup_elem(&xlb_meta, &zero);

	if (!m) {
		count(ex, XLB_C_MAP_ERROR);
		return 0;
	}
	return m->hash_seed;
}

static __always_inline struct xlb_table *vip_table(__u32 vip_id)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&xlb_tables, &vip_id);

	return inner ? bpf_map_lookup_elem(inner, &zero) : NULL;
}

/*
 * The walk's state, on the caller's stack. t is the table the packet looked up once (in
 * schedule_flow): every step reads that table, so a swap during the walk cannot make it read
 * half of each table. The verifier (6.18) keeps the type of a map value pointer spilled to the
 * caller's stack when the callback reads it back through its ctx, bounds included.
 */
struct member_walk {
	const struct xlb_table *t;
	union xlb_backend_copy *c; /* the caller's: the found backend's entry, as checked */
	__u32 vip_id;
	__u32 mid; /* a draining member is usable (backend_usable_new) */
	__u32 nmemb;
	__u32 start;
	__u32 found;
};

static long member_walk_step(__u32 i, void *arg)
{
	struct member_walk *w = arg;
	const struct xlb_table *t = w->t;
	__u32 idx = w->start + i;
	__u32 id;

	if (idx >= w->nmemb)
		idx -= w->nmemb;
	if (idx >= XLB_MAX_VIP_BACKENDS)
		return 1;
	id = t->memb[idx];
	if (backend_usable_new(id, w->vip_id, w->mid, w->c)) {
		w->found = id;
		return 1;
	}
	return 0;
}

/* The last resort of every scheduler: the members from a hashed start, first usable one. */
static __always_inline __u32 pick_walk(const int ex, const struct xlb_table *t, __u32 vip_id,
				       __u32 hash, __u32 mid, union xlb_backend_copy *c)
{
	struct member_walk w = {.t = t, .c = c, .vip_id = vip_id, .mid = mid};

	/* nmemb read once: the bound of the loop and of every step. */
	w.nmemb = t->nmemb;
	if (!w.nmemb || w.nmemb > XLB_MAX_VIP_BACKENDS)
		return 0;
	w.start = hash % w.nmemb;
	bpf_loop(w.nmemb, member_walk_step, &w, 0);
	if (!w.found)
		return 0;
	count(ex, XLB_C_FAILOVER_WALK);
	return w.found;
}

static __always_inline __u32 ring_len(const struct xlb_table *t)
{
	__u32 len = t->len;

	return len <= ring_size ? len : 0;
}

/* Hashing schedulers (maglev, source-hash): slot hash % len, then re-hashes, then the walk; a
 * draining backend is taken by a packet that may be mid-connection (mid), at every step. */
static __always_inline __u32 pick_hash(const int ex, const struct xlb_table *t, __u32 vip_id,
				       __u32 hash, __u32 mid, union xlb_backend_copy *c)
{
	__u32 len = ring_len(t), i;

	for (i = 0; len && i <= XLB_REHASH_TRIES; i++) {
		__u32 slot = (i ? xlb_rehash(hash, i) : hash) % len;
		__u32 id;

		if (slot >= ring_size) /* for the verifier: len <= ring_size already */
			return 0;
		id = t->ring[slot];
		if (backend_usable_new(id, vip_id, mid, c)) {
			if (i)
				count(ex, XLB_C_FAILOVER_REHASH);
			return id;
		}
	}
	return pick_walk(ex, t, vip_id, hash, mid, c);
}

/*
 * rr and wrr: the ring is the schedule, walked from a per-CPU position. Each CPU walks the
 * whole schedule in order, so over any whole number of cycles every CPU, and so all of them
 * together, hands out exactly the weights' proportions; the error is under one cycle per CPU.
 */
static __always_inline __u32 pick_round_robin(const int ex, const struct xlb_table *t, __u32 vip_id,
					      const struct xlb_flow_key *k,
					      union xlb_backend_copy *c)
{
	__u32 len = ring_len(t), i, pos;
	__u32 *p = bpf_map_lookup_elem(&xlb_rr_pos, &vip_id);

	if (!p) {
		count(ex, XLB_C_MAP_ERROR);
		return 0;
	}
	pos = *p;
	for (i = 0; len && i <= XLB_REHASH_TRIES; i++) {
		__u32 slot = (pos + i) % len;
		__u32 id;

		if (slot >= ring_size)
			return 0;
		id = t->ring[slot];
		if (backend_usable_new(id, vip_id, 0, c)) {
			rr_advance(ex, p, slot + 1 < len ? slot + 1 : 0);
			if (i)
				count(ex, XLB_C_FAILOVER_REHASH);
			return id;
		}
	}
	/* Only the last resort needs the flow hash: not computed for every new flow. */
	return pick_walk(ex, t, vip_id, xlb_flow_hash(k, flow_seed(ex), 0), 0, c);
}

static __always_inline __s64 active_flows(__u32 id)
{
	__s64 *n = bpf_map_lookup_elem(&xlb_be_active, &id);

	return n && *n > 0 ? *n : 0;
}

/*
 * least-conn's first choice: the first usable backend of slot hash % len and its re-hashes
 * (pick_hash's draws), its slot in *slot; 0 if all of them are unusable.
 */
static __always_inline __u32 lc_first(const int ex, const struct xlb_table *t, __u32 vip_id,
				      __u32 hash, __u32 len, __u32 *slot, union xlb_backend_copy *c)
{
	__u32 i;

	for (i = 0; i <= XLB_REHASH_TRIES; i++) {
		__u32 s = (i ? xlb_rehash(hash, i) : hash) % len;
		__u32 id;

		if (s >= ring_size) /* for the verifier: len <= ring_size already */
			return 0;
		id = t->ring[s];
		if (backend_usable_new(id, vip_id, 0, c)) {
			if (i)
				count(ex, XLB_C_FAILOVER_REHASH);
			*slot = s;
			return id;
		}
	}
	return 0;
}

/*
 * least-conn's second choice, drawn without replacement: a slot other than the first choice's
 * (s1), uniform over the rest of the ring, is taken if it names another usable backend than the
 * first (id1); else re-hashes (their own numbers, after the first choice's). So the draw is
 * weighted by the ring like the first, and in a ring of each usable backend once (xlbd's) the
 * first draw always names another backend. 0: none within XLB_REHASH_TRIES draws (len 1, or
 * the others are down since the ring was published).
 */
static __always_inline __u32 lc_second(const struct xlb_table *t, __u32 vip_id, __u32 hash,
				       __u32 len, __u32 s1, __u32 id1, union xlb_backend_copy *c)
{
	__u32 i;

	if (len < 2 || s1 >= len)
		return 0;
	for (i = 1; i <= XLB_REHASH_TRIES; i++) {
		__u32 s = s1 + 1 + xlb_rehash(hash, XLB_REHASH_TRIES + i) % (len - 1);
		__u32 id;

		if (s >= len)
			s -= len;
		if (s >= ring_size)
			return 0;
		id = t->ring[s];
		if (id == id1)
			continue;
		if (backend_usable_new(id, vip_id, 0, c))
			return id;
	}
	return 0;
}

/*
 * least-conn: two different usable backends drawn by the flow's hash (power of two choices);
 * the one with fewer active flows per unit of weight wins (ties: the first). With only one
 * usable backend found it is taken; with none, the member walk. Counts are local to this LB
 * node; for the same counts every node makes the same choice.
 */
static __always_inline __u32 pick_least_conn(const int ex, const struct xlb_table *t, __u32 vip_id,
					     __u32 hash, union xlb_backend_copy *c)
{
	__u32 len = ring_len(t), s1 = 0, id1, id2;
	union xlb_backend_copy c2;

	if (!len)
		return pick_walk(ex, t, vip_id, hash, 0, c);
	id1 = lc_first(ex, t, vip_id, hash, len, &s1, c);
	if (!id1)
		return pick_walk(ex, t, vip_id, hash, 0, c);
	id2 = lc_second(t, vip_id, hash, len, s1, id1, &c2);
	/* a1/w1 <= a2/w2, without division; the weights of the copies that were checked. */
	if (id2 &&
	    active_flows(id1) * (c2.be.weight ?: 1) > active_flows(id2) * (c->be.weight ?: 1)) {
		*c = c2;
		return id2;
	}
	return id1;
}

/* Returns the backend id for a packet without a usable flow entry (0: none usable) and, in *c,
 * its entry as it was when found usable: the one read the packet is sent to. mid: the packet
 * may be mid-connection (TCP without SYN), which a draining backend of a hashing scheduler
 * takes. */
static __always_inline __u32 pick_backend(const int ex, const struct xlb_table *t,
					  const struct xlb_vip *vip, const struct xlb_flow_key *k,
					  __u32 mid, union xlb_backend_copy *c)
{
	__u32 vip_id = vip->id;

	switch (vip->sched) {
	case XLB_SCHED_SOURCE_HASH: {
		__u32 h = xlb_flow_hash(k, flow_seed(ex), 1);

		if (vip->flags & XLB_VIP_F_HASH_DPORT)
			h = xlb_hash_final(xlb_hash_mix(h, k->dport));
		return pick_hash(ex, t, vip_id, h, mid, c);
	}
	case XLB_SCHED_RR:
	case XLB_SCHED_WRR:
		return pick_round_robin(ex, t, vip_id, k, c);
	case XLB_SCHED_LEAST_CONN:
		return pick_least_conn(ex, t, vip_id, xlb_flow_hash(k, flow_seed(ex), 0), c);
	default:
		return pick_hash(ex, t, vip_id, xlb_flow_hash(k, flow_seed(ex), 0), mid, c);
	}
}

#endif /* XLB_BPF_PICK_H */
