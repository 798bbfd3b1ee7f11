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
 * active counts); a lookup reads the flow's home bucket, and its second bucket only when some
 * flow of that home went there (ovf). An insert holds the home bucket's ver odd while it
 * claims a slot, so a second CPU inserting the same flow waits a few loads and then finds the
 * first one's entry. Like every write of the program, none of these happens in an explain
 * instance (ex: lib/writes.h).
 */

#define FT_READ(x) (*(volatile __typeof__(x) *)&(x))

/*
 * A flow's place: its home bucket and signature, and the bucket, slot, entry word and tick
 * found (read once). Only the global functions below use the slot, so the rest of the program
 * is not checked once per slot: xlb_flow_lookup is verified once, and its caller sees one state
 * after it whatever it found. Branches test ent, never slot.
 */
struct flow_ref {
	__u32 idx;  /* the entry's bucket; the home bucket when none is found */
	__u32 home; /* the flow's home bucket */
	__u32 sig;  /* the flow's signature */
	__u32 slot; /* meaningful when ent != 0 */
	__u32 seen; /* the slot's tick as read */
	__u32 ok;   /* the table could be read */
	__u64 ent;  /* the entry word as read; 0: no entry */
};

static __always_inline int flow_found(const struct flow_ref *r)
{
	return r->ent != 0;
}

/* The slot of bucket b whose entry is stored as who (xlb_fent_who), or -1; *ent: its word. */
static __always_inline int flow_scan_bucket(const struct xlb_flow_bucket *b, __u64 who, __u64 *ent)
{
	for (__u32 i = 0; i < XLB_FLOW_WAYS; i++) {
		__u64 e = FT_READ(b->ent[i]);

		if (e && (e & XLB_FENT_WHO) == who) {
			*ent = e;
			return i;
		}
	}
	return -1;
}

static __always_inline struct xlb_flow_bucket *flow_bucket(__u32 idx)
{
	return bpf_map_lookup_elem(&xlb_flows, &idx);
}

/* The flow's entry (r->home and r->sig given): in its home bucket, else in its second one if
 * a flow of that home went there (ovf). Fills the rest of r; returns whether it was found. */
__noinline int xlb_flow_lookup(struct flow_ref *r)
{
	struct xlb_flow_bucket *b;
	__u64 e = 0;
	int s;

	if (!r)
		return 0;
	r->idx = r->home;
	r->ent = 0;
	b = flow_bucket(r->home);
	r->ok = b != NULL;
	if (!b)
		return 0;
	s = flow_scan_bucket(b, xlb_fent_who(r->sig, 0), &e);
	if (s < 0) {
		__u32 alt = xlb_flow_alt(r->home, r->sig, flow_mask);

		if (!FT_READ(b->ovf))
			return 0;
		b = flow_bucket(alt);
		if (!b)
			return 0;
		s = flow_scan_bucket(b, xlb_fent_who(r->sig, 1), &e);
		if (s < 0)
			return 0;
		r->idx = alt;
	}
	r->slot = s;
	r->seen = FT_READ(b->seen[s & (XLB_FLOW_WAYS - 1)]);
	r->ent = e;
	return 1;
}

/* One hash, one function call, one cache line (two for a flow in its second bucket). */
static __always_inline void flow_find(const int ex, const struct xlb_flow_key *k,
				      struct flow_ref *r)
{
	__u64 h = xlb_flowtab_hash(k, flowtab_seed);

	r->home = (__u32)h & flow_mask;
	r->sig = h >> 32;
	r->slot = 0;
	r->seen = 0;
	xlb_flow_lookup(r);
	if (!r->ok)
		count(ex, XLB_C_MAP_ERROR);
}

static __always_inline __u32 flow_age(const struct flow_ref *r, __u32 tick)
{
	return xlb_flow_age(tick, r->seen);
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
 * back its +1, if it had one; two CPUs closing one flow subtract once. cur: the entry as the
 * lookup read it; a word found in its place later is still the flow's only if it matches
 * signature and ALT flag alike (with the signature alone, it may be the entry of the flow of
 * the same signature whose home is this bucket). */
__noinline int xlb_flow_close(__u32 idx, __u32 slot, __u64 cur)
{
	struct xlb_flow_bucket *b = flow_bucket(idx);
	__u64 who = cur & XLB_FENT_WHO;

	if (!b || slot >= XLB_FLOW_WAYS)
		return 0;
	for (int i = 0; i < 3; i++) {
		__u64 nw = (cur | XLB_FLOW_F_CLOSED) & ~(__u64)XLB_FLOW_F_COUNTED, old;

		if (!cur || (cur & XLB_FENT_WHO) != who || (cur & XLB_FLOW_F_CLOSED))
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
		xlb_flow_close(r->idx, r->slot, r->ent);
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

/* What a new flow may take, best last: nothing (only established live entries), an
 * unpromoted entry, an expired or closed one, a free slot. */
enum flow_rank {
	FT_TAKE_NONE = 0,
	FT_TAKE_UNPROMOTED = 1,
	FT_TAKE_EXPIRED = 2,
	FT_TAKE_FREE = 3,
};

/* 16 bytes: two of them on xlb_flow_insert's stack, which sits on the program's (512 in all). */
struct flow_victim {
	__u64 ent; /* the entry word replaced (0: a free slot) */
	__u32 age;
	__u8 slot; /* XLB_FLOW_WAYS: none */
	__u8 rank; /* enum flow_rank */
	__u16 pad;
};

/*
 * The slot of bucket idx a new flow may take: a free slot; else the oldest expired or closed
 * entry; else the oldest unpromoted one (a flow that has shown one packet: a SYN flood's
 * entries only replace each other). Never an established live entry. A global function: the
 * insert's caller sees one state after it, not one per slot and rank.
 */
__noinline int xlb_flow_victim(__u32 idx, __u32 tick, struct flow_victim *v)
{
	struct xlb_flow_bucket *b = flow_bucket(idx);

	if (!v)
		return 0;
	v->slot = XLB_FLOW_WAYS;
	v->rank = FT_TAKE_NONE;
	v->age = 0;
	v->ent = 0;
	if (!b)
		return 0;
	for (__u32 i = 0; i < XLB_FLOW_WAYS; i++) {
		__u64 e = FT_READ(b->ent[i]);
		__u32 age, rank;

		if (!e) {
			v->slot = i;
			v->rank = FT_TAKE_FREE;
			v->ent = 0;
			return 0;
		}
		age = xlb_flow_age(tick, FT_READ(b->seen[i]));
		rank = flow_expired(e, age) ? FT_TAKE_EXPIRED : !(e & XLB_FLOW_F_EST);
		if (rank > v->rank || (rank && rank == v->rank && age > v->age)) {
			v->slot = i;
			v->rank = rank;
			v->age = age;
			v->ent = e;
		}
	}
	return 0;
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

/* xlb_flow_insert's answer: the slot stored, plus FT_INSERT_ALT when it is in the flow's
 * second bucket; or one of these. */
#define FT_INSERT_ALT  XLB_FLOW_WAYS
#define FT_INSERT_LOST (2 * XLB_FLOW_WAYS)
#define FT_INSERT_NONE (2 * XLB_FLOW_WAYS + 1)

/* An entry that was in its second bucket is gone (replaced by e's CAS winner): its home
 * bucket has one flow fewer there. bucket: where the entry was. */
static __always_inline void flow_alt_gone(__u64 e, __u32 bucket)
{
	struct xlb_flow_bucket *h;

	if (!(e & XLB_FLOW_F_ALT))
		return;
	h = flow_bucket(xlb_flow_alt(bucket, xlb_fent_sig(e), flow_mask));
	if (h)
		__sync_fetch_and_sub(&h->ovf, 1);
}

/*
 * An insert of a flow not found (home: its home bucket index). Under the home bucket's guard:
 * the flow is looked for again (both buckets), then a slot is chosen: the home bucket's if it
 * has a free or expired one, else the second bucket's free or expired one, else the oldest
 * unpromoted entry of either (the home's on a tie). A live handshake is not evicted while the
 * second bucket has room: for rr, wrr and least-conn its next packet would be re-picked. The
 * price is a second line read when a home holds only live entries (a flood's, above all:
 * docs/benchmarks.md). A flow put in its second bucket counts in the home's ovf
 * before its entry is visible and until it is gone, so a lookup that reads ovf 0 has no entry
 * to miss there. Returns the slot stored (+ FT_INSERT_ALT in the second bucket),
 * FT_INSERT_LOST if another CPU inserted the flow first, FT_INSERT_NONE if no slot may be
 * taken (or the bucket stayed busy). A global function, so the verifier checks it once,
 * whatever the caller's state (its retries and waits would otherwise multiply the program's
 * paths); the live program's only (never explain's).
 */
__noinline int xlb_flow_insert(__u32 home, __u32 sig, __u64 nw, __u32 tick)
{
	struct xlb_flow_bucket *b, *ab, *tb;
	__u32 alt = xlb_flow_alt(home, sig, flow_mask);

	b = flow_bucket(home);
	ab = flow_bucket(alt);
	if (!b || !ab)
		return FT_INSERT_NONE;
	for (int t = 0; t < 3; t++) {
		struct flow_victim v, av;
		__u32 ver = FT_READ(b->ver), s, tidx, in_alt = 0;
		__u64 old, w = nw, e;

		/* Another CPU is claiming a slot for a flow of this home: its entry is a few
		 * stores away. */
		if (ver & 1) {
			struct ver_wait vw = {.b = b, .ver = ver};

			bpf_loop(FT_WAIT_LOADS, ver_wait_step, &vw, 0);
			ver = vw.ver;
			if (ver & 1)
				break;
		}
		if (flow_scan_bucket(b, xlb_fent_who(sig, 0), &e) >= 0 ||
		    (FT_READ(b->ovf) && flow_scan_bucket(ab, xlb_fent_who(sig, 1), &e) >= 0))
			return FT_INSERT_LOST;
		xlb_flow_victim(home, tick, &v);
		if (v.rank < FT_TAKE_EXPIRED) {
			xlb_flow_victim(alt, tick, &av);
			if (av.rank > v.rank || (av.rank == FT_TAKE_UNPROMOTED &&
						 v.rank == FT_TAKE_UNPROMOTED && av.age > v.age)) {
				v = av;
				in_alt = 1;
			}
		}
		if (v.slot >= XLB_FLOW_WAYS)
			break;
		s = v.slot;
		tb = in_alt ? ab : b;
		tidx = in_alt ? alt : home;
		if (__sync_val_compare_and_swap(&b->ver, ver, ver + 1) != ver)
			continue;
		if (in_alt) {
			__sync_fetch_and_add(&b->ovf, 1);
			w |= XLB_FLOW_F_ALT;
		}
		/* The tick first: a reader of the new entry never sees the victim's age. If the
		 * swap fails, the victim only looks fresh for a while. */
		tb->seen[s] = tick;
		old = __sync_val_compare_and_swap(&tb->ent[s], v.ent, w);
		/* Only the holder writes ver while it is odd (the others' swaps expect it even).
		 * A locked add releases it: the entry's swap is ordered before it on any CPU. */
		__sync_fetch_and_add(&b->ver, 1);
		if (old != v.ent) { /* closed, promoted or deleted meanwhile: choose again */
			if (in_alt)
				__sync_fetch_and_sub(&b->ovf, 1);
			continue;
		}
		if (v.ent) {
			flow_replaced(0, v.ent);
			flow_alt_gone(v.ent, tidx);
			count(0, XLB_C_FLOW_EVICTED);
		}
		return in_alt ? FT_INSERT_ALT + s : s;
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

	if (ex || !r->ok)
		return FLOW_NOT_STORED;
	if (!flow_found(r)) {
		nw = xlb_fent(r->sig, be_id, vip_id, flags);
		int s = xlb_flow_insert(r->home, r->sig, nw, tick);

		if (s >= 0 && s < FT_INSERT_LOST) {
			__u32 slot_idx;
			struct xlb_flow_key *kk;

			count(ex, XLB_C_FLOW_INSERT);
			r->slot = s & (XLB_FLOW_WAYS - 1);
			r->idx = s >= FT_INSERT_ALT ? xlb_flow_alt(r->home, r->sig, flow_mask)
						    : r->home;
			/* The key last, for userspace only: its line is cold, and written before
			 * a locked operation its miss would be waited for (a lock drains the
			 * store buffer). */
			slot_idx = r->idx * XLB_FLOW_WAYS + r->slot;
			kk = bpf_map_lookup_elem(&xlb_flow_keys, &slot_idx);
			if (kk)
				__builtin_memcpy(kk, key, sizeof(*kk));
			r->seen = tick;
			r->ent = s >= FT_INSERT_ALT ? nw | XLB_FLOW_F_ALT : nw;
			return FLOW_STORED;
		}
		if (s == FT_INSERT_LOST && xlb_flow_lookup(r))
			return FLOW_LOST;
		count(ex, XLB_C_FLOW_INSERT_FAIL);
		emit_event(ex, XLB_EV_FLOW_FULL, vip_id, 0, be_id, now);
		return FLOW_NOT_STORED;
	}
	/* Re-steer in place: a re-steered flow stays promoted; a reused 5-tuple starts anew; the
	 * entry stays in the bucket it is in. */
	if (!reused)
		flags |= r->ent & XLB_FLOW_F_EST;
	nw = xlb_fent(r->sig, be_id, vip_id, flags | (r->ent & XLB_FLOW_F_ALT));
	old = xlb_flow_swap(r->idx, r->slot, r->ent, nw, tick);
	if (old != r->ent) {
		/* Another CPU re-steered, closed or evicted it first: follow its entry if it is
		 * still this flow's, else the packet goes to its pick without one. */
		r->ent = old;
		return old && (old & XLB_FENT_WHO) == (nw & XLB_FENT_WHO) ? FLOW_LOST
									  : FLOW_NOT_STORED;
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
