/* flowtab.h - the flow table: find, touch, promote, close, re-steer and insert, lock-free reads. */
#ifndef XLB_BPF_FLOWTAB_H
#define XLB_BPF_FLOWTAB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "xlb_flowtab.h"
#include "knobs.h"
#include "maps.h"
#include "writes.h"

/*
 * The design is in docs/datapath.md, "The flow table". In short: a bucket is one cache line of
 * XLB_FLOW_WAYS slots; an entry word holds signature, backend, VIP and flags, and every change
 * of it is a compare-and-swap by which exactly one CPU wins (and that CPU alone adjusts the
 * active counts); a lookup reads the bucket once and nothing else. An insert holds the
 * bucket's ver odd while it claims a slot, so a second CPU inserting the same flow waits a few
 * loads and then finds the first one's entry. Like every write of the program, none of these
 * happens in an explain instance (ex: lib/writes.h).
 */

#define FT_READ(x) (*(volatile __typeof__(x) *)&(x))

/*
 * A flow's place: its bucket, signature, and the slot, entry word and tick found (read once).
 * The slot is a constant per path for the verifier; only the global functions below use it,
 * so the rest of the program is not checked once per slot (the verifier prunes states that
 * differ only in a value nothing after depends on). Branches test ent, never slot.
 */
struct flow_ref {
	struct xlb_flow_bucket *b;
	__u32 idx;  /* bucket index */
	__u32 sig;  /* the flow's signature */
	__u32 slot; /* meaningful when ent != 0 */
	__u32 seen; /* the slot's tick as read */
	__u64 ent;  /* the entry word as read; 0: no entry */
};

static __always_inline int flow_found(const struct flow_ref *r)
{
	return r->ent != 0;
}

static __always_inline int flow_scan(struct flow_ref *r)
{
	for (__u32 i = 0; i < XLB_FLOW_WAYS; i++) {
		__u64 e = FT_READ(r->b->ent[i]);

		if (e && xlb_fent_sig(e) == r->sig) {
			r->slot = i;
			r->ent = e;
			r->seen = FT_READ(r->b->seen[i]);
			return 1;
		}
	}
	r->ent = 0;
	return 0;
}

/* One hash, one inlined array lookup, one cache line. */
static __always_inline void flow_find(const int ex, const struct xlb_flow_key *k,
				      struct flow_ref *r)
{
	__u64 h = xlb_flowtab_hash(k, flowtab_seed);

	r->idx = (__u32)h & flow_mask;
	r->sig = h >> 32;
	r->slot = 0;
	r->seen = 0;
	r->ent = 0;
	r->b = bpf_map_lookup_elem(&xlb_flows, &r->idx);
	if (!r->b) {
		count(ex, XLB_C_MAP_ERROR);
		return;
	}
	flow_scan(r);
}

static __always_inline __u32 flow_age(const struct flow_ref *r, __u32 tick)
{
	return xlb_flow_age(tick, r->seen);
}

static __always_inline struct xlb_flow_bucket *flow_bucket(__u32 idx)
{
	return bpf_map_lookup_elem(&xlb_flows, &idx);
}

/* The slot's tick := tick; and the entry promoted if it is still the word read (ent). */
__noinline int xlb_flow_refresh(__u32 idx, __u32 slot, __u64 ent, __u32 tick, int promote)
{
	struct xlb_flow_bucket *b = flow_bucket(idx);

	if (!b || slot >= XLB_FLOW_WAYS)
		return 0;
	b->seen[slot] = tick;
	if (promote)
		__sync_val_compare_and_swap(&b->ent[slot], ent, ent | XLB_FLOW_F_EST);
	return 0;
}

/* A packet of the flow was seen: its tick, written at most every flow_touch_ns (each write
 * would move the line between CPUs); promote: the packet may promote the entry (any packet of
 * the flow after the first but a SYN). */
static __always_inline void flow_touch(const int ex, struct flow_ref *r, __u32 tick, int promote)
{
	int up = promote && !(r->ent & XLB_FLOW_F_EST);

	if (ex)
		return;
	if (up || flow_age(r, tick) >= (flow_touch_ns >> XLB_FLOW_TICK_SHIFT))
		xlb_flow_refresh(r->idx, r->slot, r->ent, tick, up);
}

/* The flow's connection ended (first FIN or RST): the CPU whose swap marks it closed takes
 * back its +1, if it had one; two CPUs closing one flow subtract once. */
__noinline int xlb_flow_close(__u32 idx, __u32 slot, __u32 sig, __u64 cur)
{
	struct xlb_flow_bucket *b = flow_bucket(idx);

	if (!b || slot >= XLB_FLOW_WAYS)
		return 0;
	for (int i = 0; i < 3; i++) {
		__u64 nw = (cur | XLB_FLOW_F_CLOSED) & ~(__u64)XLB_FLOW_F_COUNTED, old;

		if (!cur || xlb_fent_sig(cur) != sig || (cur & XLB_FLOW_F_CLOSED))
			return 0;
		old = __sync_val_compare_and_swap(&b->ent[slot], cur, nw);
		if (old == cur) {
			if (cur & XLB_FLOW_F_COUNTED)
				active_add(0, xlb_fent_be(cur), -1);
			return 1;
		}
		cur = old;
	}
	return 0;
}

static __always_inline void flow_close(const int ex, struct flow_ref *r)
{
	if (!ex)
		xlb_flow_close(r->idx, r->slot, r->sig, r->ent);
}

/* Re-steer in place: the entry word old becomes nw (and the slot's tick is tick) if it is still
 * old. Returns the word found: old when the swap was made. */
__noinline __u64 xlb_flow_swap(__u32 idx, __u32 slot, __u64 old, __u64 nw, __u32 tick)
{
	struct xlb_flow_bucket *b = flow_bucket(idx);
	__u64 got;

	if (!b || slot >= XLB_FLOW_WAYS)
		return 0;
	got = __sync_val_compare_and_swap(&b->ent[slot], old, nw);
	if (got == old)
		b->seen[slot] = tick;
	return got;
}

/* Idle longer than its protocol's timeout, or closed: any new flow may take its slot. */
static __always_inline int flow_expired(__u64 e, __u32 age)
{
	if (e & XLB_FLOW_F_CLOSED)
		return 1;
	if (e & XLB_FLOW_F_UDP)
		return age > (udp_timeout_ns >> XLB_FLOW_TICK_SHIFT);
	return age > (tcp_idle_ns >> XLB_FLOW_TICK_SHIFT);
}

/*
 * The slot a new flow may take, and in *victim the entry word it replaces: a free slot; else
 * the oldest expired or closed entry; else the oldest unpromoted one (a flow that has shown
 * one packet: a SYN flood's entries only replace each other). Never an established live
 * entry: XLB_FLOW_WAYS when the bucket holds only those.
 */
static __always_inline __u32 flow_victim(const struct xlb_flow_bucket *b, __u32 tick, __u64 *victim)
{
	__u32 best = XLB_FLOW_WAYS, best_rank = 0, best_age = 0;

	for (__u32 i = 0; i < XLB_FLOW_WAYS; i++) {
		__u64 e = FT_READ(b->ent[i]);
		__u32 age, rank;

		if (!e) {
			*victim = 0;
			return i;
		}
		age = xlb_flow_age(tick, FT_READ(b->seen[i]));
		rank = flow_expired(e, age) ? 2 : !(e & XLB_FLOW_F_EST);
		if (rank > best_rank || (rank && rank == best_rank && age > best_age)) {
			best = i;
			best_rank = rank;
			best_age = age;
			*victim = e;
		}
	}
	return best;
}

enum flow_stored {
	FLOW_NOT_STORED = 0, /* no slot (or explain): the packet goes to its pick, no entry */
	FLOW_STORED = 1,     /* the entry now names the caller's backend */
	FLOW_LOST = 2,	     /* another CPU got there first: r->ent is its entry */
};

/* Entry word e replaced in slot s: its +1, if any, is taken back, by this CPU alone. */
static __always_inline void flow_replaced(const int ex, __u64 e)
{
	if (e & XLB_FLOW_F_COUNTED)
		active_add(ex, xlb_fent_be(e), -1);
}

/*
 * An insert into bucket idx (no entry found there): the guard, a free or evictable slot, the
 * swap. Returns the slot stored (0..XLB_FLOW_WAYS-1), FT_INSERT_LOST if another CPU inserted
 * the flow first, FT_INSERT_NONE if no slot may be taken (or the bucket stayed busy). A global
 * function, so the verifier checks it once, whatever the caller's state (its retries and waits
 * would otherwise multiply the program's paths); the live program's only (never explain's).
 */
/* Loads of ver a CPU makes while another one claims a slot of the bucket (a few stores; more
 * when that CPU is interrupted): bpf_loop, so the verifier checks one step, not every count. */
#define FT_WAIT_LOADS (1 << 22)

struct ver_wait {
	struct xlb_flow_bucket *b;
	__u32 ver;
};

static long ver_wait_step(__u32 i, void *arg)
{
	struct ver_wait *w = arg;

	w->ver = FT_READ(w->b->ver);
	return !(w->ver & 1);
}

#define FT_INSERT_LOST XLB_FLOW_WAYS
#define FT_INSERT_NONE (XLB_FLOW_WAYS + 1)

__noinline int xlb_flow_insert(const struct xlb_flow_key *key, __u32 idx, __u32 sig, __u64 nw,
			       __u32 tick)
{
	struct flow_ref r = {.idx = idx, .sig = sig};
	struct xlb_flow_bucket *b;

	if (!key)
		return FT_INSERT_NONE;
	b = bpf_map_lookup_elem(&xlb_flows, &idx);
	if (!b)
		return FT_INSERT_NONE;
	r.b = b;
	for (int t = 0; t < 3; t++) {
		__u32 ver = FT_READ(b->ver), s, slot_idx;
		struct xlb_flow_key *kk;
		__u64 victim = 0, old;

		/* Another CPU is claiming a slot here: its entry is a few stores away. */
		if (ver & 1) {
			struct ver_wait w = {.b = b, .ver = ver};

			bpf_loop(FT_WAIT_LOADS, ver_wait_step, &w, 0);
			ver = w.ver;
			if (ver & 1)
				break;
		}
		if (flow_scan(&r))
			return FT_INSERT_LOST;
		s = flow_victim(b, tick, &victim);
		if (s >= XLB_FLOW_WAYS)
			break;
		if (__sync_val_compare_and_swap(&b->ver, ver, ver + 1) != ver)
			continue;
		/* The tick first: a reader of the new entry never sees the victim's age. If the
		 * swap fails, the victim only looks fresh for a while. */
		b->seen[s] = tick;
		old = __sync_val_compare_and_swap(&b->ent[s], victim, nw);
		/* Only the holder writes ver while it is odd (the others' swaps expect it even):
		 * a plain store releases it, after the locked swap (x86 keeps stores in order). */
		FT_READ(b->ver) = ver + 2;
		if (old != victim) /* closed, promoted or deleted meanwhile: choose again */
			continue;
		/* The key last, for userspace only: its line is cold, and written before a locked
		 * operation its miss would be waited for (the lock drains the store buffer). */
		slot_idx = idx * XLB_FLOW_WAYS + s;
		kk = bpf_map_lookup_elem(&xlb_flow_keys, &slot_idx);
		if (kk)
			__builtin_memcpy(kk, key, sizeof(*kk));
		if (victim) {
			flow_replaced(0, victim);
			count(0, XLB_C_FLOW_EVICTED);
		}
		return s;
	}
	return FT_INSERT_NONE;
}

/*
 * The flow table learns a new pick: the entry found (r) re-steered in place, or a new one.
 * reused: the entry found belongs to an ended connection whose 5-tuple a new SYN opens again.
 * flags: XLB_FLOW_F_COUNTED if the caller will add the flow to the backend's active count
 * (it does so only on FLOW_STORED), XLB_FLOW_F_CLOSED for a FIN or RST, XLB_FLOW_F_UDP.
 */
static __always_inline int flow_learn(const int ex, const struct xlb_flow_key *key,
				      struct flow_ref *r, __u32 vip_id, __u32 be_id, int reused,
				      __u32 flags, __u64 now, __u32 tick)
{
	__u64 nw, old;

	if (ex || !r->b)
		return FLOW_NOT_STORED;
	if (!flow_found(r)) {
		nw = xlb_fent(r->sig, be_id, vip_id, flags);
		int s = xlb_flow_insert(key, r->idx, r->sig, nw, tick);

		if (s >= 0 && s < XLB_FLOW_WAYS) {
			count(ex, XLB_C_FLOW_INSERT);
			r->slot = s;
			r->seen = tick;
			r->ent = nw;
			return FLOW_STORED;
		}
		if (s == FT_INSERT_LOST && flow_scan(r))
			return FLOW_LOST;
		count(ex, XLB_C_FLOW_INSERT_FAIL);
		emit_event(ex, XLB_EV_FLOW_FULL, vip_id, 0, be_id, now);
		return FLOW_NOT_STORED;
	}
	/* Re-steer in place: a re-steered flow stays promoted; a reused 5-tuple starts anew. */
	if (!reused)
		flags |= r->ent & XLB_FLOW_F_EST;
	nw = xlb_fent(r->sig, be_id, vip_id, flags);
	old = xlb_flow_swap(r->idx, r->slot, r->ent, nw, tick);
	if (old != r->ent) {
		/* Another CPU re-steered, closed or evicted it first: follow its entry if it is
		 * still this flow's, else the packet goes to its pick without one. */
		r->ent = old;
		return old && xlb_fent_sig(old) == r->sig ? FLOW_LOST : FLOW_NOT_STORED;
	}
	flow_replaced(ex, old);
	/* A re-steer only if the backend changes: an expired UDP flow is often re-picked onto the
	 * backend it had, which is no event. */
	if (!reused && xlb_fent_be(old) != be_id)
		emit_event(ex, XLB_EV_REPICK, vip_id, xlb_fent_be(old), be_id, now);
	r->seen = tick;
	r->ent = nw;
	return FLOW_STORED;
}

#endif /* XLB_BPF_FLOWTAB_H */
