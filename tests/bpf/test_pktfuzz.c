/* test_pktfuzz.c - the real XDP program under generated frames, against a model of docs/datapath.md. */
#define _GNU_SOURCE /* sched_getcpu, program_invocation_name */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "check.h"
#include "fixture.h"
#include "mutate.h"
#include "refparse.h"
#include "schedule.h"
#include "xlb_hash.h"
#include "xlb.skel.h"

/*
 * The program, loaded with the VIPs below (both families, TCP and UDP, every scheduler, a VIP
 * whose backends are never up, one that has no table) gets frames from mutate.c, one at a time
 * through BPF_PROG_TEST_RUN. Between frames, in this one thread and drawn from the seed, the
 * backends change state, weight and VIP, VIPs are removed and given again, and the tables are
 * re-published as xlbd does (user/xlbd/apply.c: members = the VIP's backends, ring = the up
 * ones); flows are aged past the UDP timeout and the flow table is flushed. A model (refparse.c for the parse, the rest here)
 * says for every frame what the program must do: the action, the one pass or drop reason, every
 * other counter, the backend (exactly, for every scheduler: the process is pinned to one CPU so
 * rr's per-CPU position is known) and the bytes that come out. The model keeps a shadow of the
 * flow table: which backend each 5-tuple was given, closed TCP flows, aged UDP ones, and the
 * active-flow counts least-conn compares. tests/README.md has the table.
 */

#define RING	    1021 /* prime: Maglev tables build fast, rr/wrr schedules fit */
#define MAX_BE	    48	 /* backend ids 1..MAX_BE-1 */
#define VIP_MAX_BE  8
#define FLOW_SLOTS  32768 /* the shadow: open addressing, never deleted from but flushed */
#define FLOW_FLUSH  12000 /* far below a full bucket anywhere: nothing is ever evicted */
#define NS	    1000000000ull
#define UDP_TIMEOUT (300 * NS)
#define MAX_REPORTS 10
#define DEFAULT_N   400000
#define FIXED_SEED  1
#define HOT_FLOWS   8
#define WIDE_FLOWS  2048
#define TCP_FIN	    0x01
#define TCP_SYN	    0x02
#define TCP_RST	    0x04
#define TCP_ACK	    0x10
#define MAX_CPUS    1024

static const __u8 lb_mac[6] = FX_LB_MAC;

enum vkind { V_NORMAL, V_NO_BACKEND, V_NO_TABLE };

struct vdef {
	const char *addr;
	__u16 port;
	__u8 proto, sched;
	__u16 flags;
	__u8 nbe;
	enum vkind kind;
};

static const struct vdef vdefs[] = {
	{"198.51.100.1", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV, 0, 4, V_NORMAL},
	{"198.51.100.1", 53, IPPROTO_UDP, XLB_SCHED_SOURCE_HASH, 0, 3, V_NORMAL},
	{"198.51.100.1", 443, IPPROTO_TCP, XLB_SCHED_RR, 0, 3, V_NORMAL},
	{"198.51.100.2", 8080, IPPROTO_UDP, XLB_SCHED_WRR, 0, 3, V_NORMAL},
	{"198.51.100.2", 80, IPPROTO_TCP, XLB_SCHED_LEAST_CONN, 0, 4, V_NORMAL},
	{"198.51.100.3", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV, 0, 2, V_NO_BACKEND},
	{"2001:db8:100::1", 80, IPPROTO_TCP, XLB_SCHED_LEAST_CONN, 0, 3, V_NORMAL},
	{"2001:db8:100::1", 53, IPPROTO_UDP, XLB_SCHED_MAGLEV, 0, 3, V_NORMAL},
	{"2001:db8:100::1", 443, IPPROTO_TCP, XLB_SCHED_SOURCE_HASH, XLB_VIP_F_HASH_DPORT, 3,
	 V_NORMAL},
	{"2001:db8:100::2", 5000, IPPROTO_UDP, XLB_SCHED_RR, 0, 3, V_NORMAL},
	{"2001:db8:100::2", 80, IPPROTO_TCP, XLB_SCHED_WRR, 0, 4, V_NORMAL},
	{"2001:db8:100::3", 53, IPPROTO_UDP, XLB_SCHED_LEAST_CONN, 0, 3, V_NORMAL},
	{"2001:db8:100::9", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV, 0, 2, V_NO_TABLE},
};
#define NVIPS (sizeof(vdefs) / sizeof(vdefs[0]))

/* Addresses of nobody's VIP; the two filter-slot neighbours are added at setup. */
static const char *const other_addrs[] = {
	"198.51.100.4", "203.0.113.7",	   "10.0.1.1",	  "224.0.0.1", "255.255.255.255",
	"0.0.0.0",	"2001:db8:100::4", "2001:db8::1", "fe80::1",   "ff02::1",
	"::",
};
#define NOTHERS (sizeof(other_addrs) / sizeof(other_addrs[0]) + 2)

struct mvip {
	struct xlb_vip_key key;
	__u32 id;
	__u8 sched;
	__u16 flags;
	enum vkind kind;
	bool present;	      /* in xlb_vips */
	int gone;	      /* removal, a step at a time as xlbd does it: see remove_vip_step() */
	__u32 be[VIP_MAX_BE]; /* configured backends, in order */
	__u32 nbe;
	/* The table as published. */
	bool has_table;
	__u32 len, nmemb;
	__u32 memb[VIP_MAX_BE];
	__u32 ring[RING];
	__u32 rr_pos; /* this CPU's position in xlb_rr_pos */
};

struct mbe {
	struct xlb_backend e; /* the entry as written into xlb_backends */
	__u32 weight;	      /* configured */
	bool removed;
};

struct mflow {
	struct xlb_flow_key key;
	bool used, closed, aged;
	bool counted; /* its +1 is in the backend's active count (a least-conn VIP's flow) */
	bool dead;    /* purged with its VIP: absent, until the 5-tuple is learned again */
	__u32 be;
	__u16 vip_id;
	__u64 learned_ns; /* coarse clock before the packet that learned it */
};

struct fuzz {
	__u64 seed;
	struct mut_rng rng;
	struct xlb_dp *dp;
	struct bpf_object *alt; /* XLB_BPF_OBJ: the program came from this object */
	int stats_fd, rr_fd, ncpu;
	struct mvip vip[NVIPS];
	struct mbe be[MAX_BE];
	__s64 active[MAX_BE];
	struct mflow *flows;
	size_t nflows;
	struct mflow *recent[16]; /* the last flows packets went to: the ones that come back */
	unsigned nrecent;
	struct mut_dst vips_dst[NVIPS], others_dst[NOTHERS];
	struct mut_cfg mc;
	bool no_lb_mac; /* loaded without an LB MAC: any unicast destination is balanced */
	__u64 ctr[XLB_C_MAX];
	/* What xlb_vip_stats and xlb_be_stats must hold. */
	struct xlb_traffic vip_t[NVIPS + 1], be_t[MAX_BE];
	/* What happened, for the summary. */
	unsigned long sent, unsendable, kinds[MUT_KINDS], flips, publishes, weights, removes,
		readds, vip_removes, aged, flushes, recounts, sweeps, violations;
	char first_what[320];
};

static struct fuzz F;
static struct fx fxh; /* for fixture.c's helpers: only its dp is set */

/* ---- the model's maps --------------------------------------------------------------- */

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec;
}

static __u32 key_hash(const struct xlb_flow_key *k)
{
	return xlb_flow_hash(k, 0x9747b28c, 0);
}

static struct mflow *flow_find(const struct xlb_flow_key *k, bool add)
{
	__u32 i = key_hash(k) & (FLOW_SLOTS - 1);

	for (;; i = (i + 1) & (FLOW_SLOTS - 1)) {
		struct mflow *f = &F.flows[i];

		if (!f->used) {
			if (!add)
				return NULL;
			f->used = true;
			f->key = *k;
			F.nflows++;
			return f;
		}
		if (memcmp(&f->key, k, sizeof(*k)) == 0) {
			if (!f->dead)
				return f;
			if (!add)
				return NULL;
			memset(f, 0, sizeof(*f));
			f->used = true;
			f->key = *k;
			return f;
		}
	}
}

static int vip_of(const struct xlb_flow_key *k)
{
	for (size_t i = 0; i < NVIPS; i++) {
		const struct xlb_vip_key *v = &F.vip[i].key;

		if (F.vip[i].present && v->family == k->family && v->proto == k->proto &&
		    v->port == k->dport && memcmp(&v->addr, &k->dst, sizeof(v->addr)) == 0)
			return (int)i;
	}
	return -1;
}

static bool is_vip_address(const struct xlb_flow_key *k)
{
	for (size_t i = 0; i < NVIPS; i++)
		if (F.vip[i].present && F.vip[i].key.family == k->family &&
		    memcmp(&F.vip[i].key.addr, &k->dst, sizeof(k->dst)) == 0)
			return true;
	return false;
}

/* Step 2, the VIP address filter: does the destination share its slot with a VIP's address?
 * (Family aside: the slot hashes the address words only.) */
static bool filter_passes(const struct xlb_flow_key *k)
{
	__u32 slot = xlb_vip_filter_slot(&k->dst);

	for (size_t i = 0; i < NVIPS; i++)
		if (F.vip[i].present && xlb_vip_filter_slot(&F.vip[i].key.addr) == slot)
			return true;
	return false;
}

/* ---- the model's picks (docs/datapath.md: schedulers, stateless failover) ------------- */

/* Up; or draining, for a packet that may be mid-connection (TCP without SYN) of a hashing
 * scheduler (docs/datapath.md: draining without state). */
static bool usable_new(__u32 id, __u32 vip_id, bool mid)
{
	return id < MAX_BE && F.be[id].e.vip_id == vip_id &&
	       (F.be[id].e.state == XLB_BE_UP || (mid && F.be[id].e.state == XLB_BE_DRAINING));
}

static __s64 active_of(__u32 id)
{
	return id < MAX_BE && F.active[id] > 0 ? F.active[id] : 0;
}

struct expect {
	__u32 action;
	enum xlb_counter reason; /* pass or drop; none for TX */
	__u32 be;		 /* TX */
	__s64 d[XLB_C_MAX];	 /* every counter's change */
	/* What the packet does to the model once it is seen to agree. */
	struct mflow *flow; /* the shadow entry the packet found, if any */
	int vip;	    /* the VIP scheduled for (-1: none) */
	bool learn, close, rr_moved, syn_retry;
	__u32 rr_next;
};

static __u32 walk(const struct mvip *v, __u32 hash, bool mid, struct expect *x)
{
	if (!v->nmemb)
		return 0;
	for (__u32 i = 0, start = hash % v->nmemb; i < v->nmemb; i++) {
		__u32 id = v->memb[(start + i) % v->nmemb];

		if (usable_new(id, v->id, mid)) {
			x->d[XLB_C_FAILOVER_WALK]++;
			return id;
		}
	}
	return 0;
}

static __u32 hash_try(__u32 h, __u32 i)
{
	return i ? xlb_rehash(h, i) : h;
}

static __u32 pick_hash(const struct mvip *v, __u32 h, bool mid, struct expect *x)
{
	for (__u32 i = 0; v->len && i <= XLB_REHASH_TRIES; i++) {
		__u32 id = v->ring[hash_try(h, i) % v->len];

		if (usable_new(id, v->id, mid)) {
			x->d[XLB_C_FAILOVER_REHASH] += i > 0;
			return id;
		}
	}
	return walk(v, h, mid, x);
}

static __u32 pick_rr(const struct mvip *v, const struct xlb_flow_key *k, struct expect *x)
{
	for (__u32 i = 0; v->len && i <= XLB_REHASH_TRIES; i++) {
		__u32 slot = (v->rr_pos + i) % v->len, id = v->ring[slot];

		if (usable_new(id, v->id, false)) {
			x->rr_moved = true;
			x->rr_next = slot + 1 < v->len ? slot + 1 : 0;
			x->d[XLB_C_FAILOVER_REHASH] += i > 0;
			return id;
		}
	}
	return walk(v, xlb_flow_hash(k, F.dp->skel->rodata->hash_seed, 0), false, x);
}

/* Two different usable backends by the hash; fewer active flows per weight wins, ties the first. */
static __u32 pick_lc(const struct mvip *v, __u32 h, struct expect *x)
{
	__u32 id1 = 0, id2 = 0, s1 = 0, i;

	for (i = 0; v->len && i <= XLB_REHASH_TRIES; i++) {
		s1 = hash_try(h, i) % v->len;
		if (usable_new(v->ring[s1], v->id, false)) {
			id1 = v->ring[s1];
			x->d[XLB_C_FAILOVER_REHASH] += i > 0;
			break;
		}
	}
	if (!id1)
		return walk(v, h, false, x);
	for (i = 1; v->len >= 2 && i <= XLB_REHASH_TRIES; i++) {
		__u32 s = (s1 + 1 + xlb_rehash(h, XLB_REHASH_TRIES + i) % (v->len - 1)) % v->len;

		if (v->ring[s] != id1 && usable_new(v->ring[s], v->id, false)) {
			id2 = v->ring[s];
			break;
		}
	}
	if (id2 &&
	    active_of(id1) * (F.be[id2].e.weight ?: 1) > active_of(id2) * (F.be[id1].e.weight ?: 1))
		return id2;
	return id1;
}

static __u32 pick(const struct mvip *v, const struct xlb_flow_key *k, bool mid, struct expect *x)
{
	__u32 seed = F.dp->skel->rodata->hash_seed, h;

	switch (v->sched) {
	case XLB_SCHED_SOURCE_HASH:
		h = xlb_flow_hash(k, seed, 1);
		if (v->flags & XLB_VIP_F_HASH_DPORT)
			h = xlb_hash_final(xlb_hash_mix(h, k->dport));
		return pick_hash(v, h, mid, x);
	case XLB_SCHED_RR:
	case XLB_SCHED_WRR:
		return pick_rr(v, k, x);
	case XLB_SCHED_LEAST_CONN:
		return pick_lc(v, xlb_flow_hash(k, seed, 0), x);
	default:
		return pick_hash(v, xlb_flow_hash(k, seed, 0), mid, x);
	}
}

/* ---- what the program must do with a frame ----------------------------------------------- */

static void verdict(struct expect *x, __u32 action, enum xlb_counter reason)
{
	x->action = action;
	x->reason = reason;
	x->d[XLB_C_ACT_ABORTED + action]++;
	if (action != XDP_TX)
		x->d[reason]++;
}

/*
 * expired: whether a UDP entry found counts as idle past the timeout (the caller knows: aged by
 * the fuzzer, or, never in practice, idle that long in real time).
 */
static void expect_frame(const struct ref_parse *rp, bool expired, struct expect *x)
{
	const struct xlb_flow_key *k = &rp->key;
	bool tcp = k->proto == IPPROTO_TCP, reused = false;
	struct mflow *f;
	struct mvip *v;
	__u32 id;
	int vi;

	memset(x, 0, sizeof(*x));
	x->vip = -1;
	if (rp->kind == REF_PASS)
		return verdict(x, XDP_PASS, rp->reason);
	if (rp->kind == REF_BAD) /* malformed: dropped only when it is a VIP address's */
		return verdict(x, is_vip_address(k) ? XDP_DROP : XDP_PASS,
			       is_vip_address(k) ? rp->reason : XLB_C_PASS_NOT_VIP);
	/* Step 2 comes before the flow table: once the last VIP of an address is gone, its
	 * established flows pass too, though their entries and backends are still there. */
	if (!filter_passes(k))
		return verdict(x, XDP_PASS, XLB_C_PASS_NOT_VIP);
	/* Step 4: the flow table first. */
	f = x->flow = flow_find(k, false);
	if (f && f->closed && tcp && (rp->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		reused = true; /* a new connection on an ended one's 5-tuple: scheduled afresh */
	} else if (f) {
		const struct xlb_backend *e = &F.be[f->be].e;

		if (!tcp && expired)
			x->d[XLB_C_FLOW_EXPIRED]++;
		else if (e->vip_id != f->vip_id)
			x->d[XLB_C_FLOW_STALE]++;
		else if (e->state != XLB_BE_UP && e->state != XLB_BE_DRAINING)
			x->d[XLB_C_FLOW_REPICK]++;
		else {
			x->d[XLB_C_FLOW_HIT]++;
			x->be = f->be;
			x->close = tcp && !f->closed && (rp->tcp_flags & (TCP_FIN | TCP_RST));
			x->syn_retry = tcp && !f->closed &&
				       (rp->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
			return verdict(x, XDP_TX, 0);
		}
	}
	/* Step 5: the VIP. */
	vi = vip_of(k);
	if (vi < 0)
		return verdict(x, XDP_PASS, XLB_C_PASS_NOT_VIP);
	v = &F.vip[vi];
	x->vip = vi;
	if (!f || reused)
		x->d[XLB_C_FLOW_MISS]++;
	if (!v->has_table)
		return verdict(x, XDP_DROP, XLB_C_DROP_NO_TABLE);
	id = pick(v, k, tcp && !(rp->tcp_flags & TCP_SYN), x);
	if (!id) {
		x->rr_moved = false;
		return verdict(x, XDP_DROP, XLB_C_DROP_NO_BACKEND);
	}
	x->be = id;
	x->learn = true;
	x->d[XLB_C_DRAIN_KEPT] += F.be[id].e.state == XLB_BE_DRAINING;
	if (!f)
		x->d[XLB_C_FLOW_INSERT]++;
	verdict(x, XDP_TX, 0);
}

static void add_traffic(struct xlb_traffic *t, size_t len, const struct expect *x)
{
	t->packets++;
	t->bytes += len;
	t->new_flows += x->learn;
	t->syn_retries += x->syn_retry;
}

/* The packet agreed with x: the model takes its effects (lib/writes.h's, from the outside). */
static void commit(const struct ref_parse *rp, const struct expect *x, size_t len, __u64 t0)
{
	struct mflow *f = x->flow;

	if (x->action == XDP_TX) {
		add_traffic(&F.vip_t[x->learn ? F.vip[x->vip].id : f->vip_id], len, x);
		add_traffic(&F.be_t[x->be], len, x);
	}
	if (f)
		F.recent[F.nrecent++ % 16] = f;
	if (x->close) {
		f->closed = true;
		F.active[f->be] -= f->counted;
		f->counted = false;
	}
	if (x->rr_moved)
		F.vip[x->vip].rr_pos = x->rr_next;
	if (!x->learn)
		return;
	/* Only least-conn VIPs count active flows (their entries are marked). A FIN or RST that
	 * creates or re-steers an entry has ended: closed, never counted (docs/datapath.md). */
	bool ended = rp->key.proto == IPPROTO_TCP && (rp->tcp_flags & (TCP_FIN | TCP_RST));
	bool counted = F.vip[x->vip].sched == XLB_SCHED_LEAST_CONN && !ended;

	if (f && f->counted)
		F.active[f->be]--;
	if (counted)
		F.active[x->be]++;
	if (!f)
		f = flow_find(&rp->key, true);
	F.recent[F.nrecent++ % 16] = f;
	f->be = x->be;
	f->vip_id = (__u16)F.vip[x->vip].id;
	f->closed = ended;
	f->aged = false;
	f->counted = counted;
	f->learned_ns = t0;
}

/* ---- configuration changes, as xlbd makes them ------------------------------------------- */

static int write_backend(__u32 id)
{
	return xlb_dp_set_backend(F.dp, id, &F.be[id].e);
}

/* user/xlbd/apply.c's apply_table: members = the VIP's backends, ring = the up ones, and the
 * draining ones too for a hashing scheduler (maglev, source-hash). */
static int publish(int vi)
{
	struct mvip *v = &F.vip[vi];
	struct xlb_maglev_backend mb[VIP_MAX_BE];
	__u32 ids[VIP_MAX_BE], w[VIP_MAX_BE], n = 0;
	int r = 0;

	if (v->kind == V_NO_TABLE || !v->present) /* xlbd publishes no table for a removed VIP */
		return 0;
	for (__u32 j = 0; j < v->nbe; j++) {
		const struct mbe *b = &F.be[v->be[j]];

		if (b->e.state != XLB_BE_UP &&
		    !(b->e.state == XLB_BE_DRAINING &&
		      (v->sched == XLB_SCHED_MAGLEV || v->sched == XLB_SCHED_SOURCE_HASH)))
			continue;
		mb[n].key = xlb_addr_key(&b->e.addr, b->e.family);
		mb[n].weight = b->weight;
		mb[n].id = v->be[j];
		ids[n] = v->be[j];
		w[n++] = b->weight;
	}
	v->len = 0;
	if (n && (v->sched == XLB_SCHED_RR || v->sched == XLB_SCHED_LEAST_CONN)) {
		memcpy(v->ring, ids, n * sizeof(ids[0]));
		v->len = n;
	} else if (n && v->sched == XLB_SCHED_WRR) {
		r = xlb_wrr_build(ids, w, n, RING, v->ring);
		v->len = r > 0 ? (__u32)r : 0;
	} else if (n) {
		r = xlb_maglev_build(mb, n, RING, F.dp->skel->rodata->hash_seed, v->ring);
		v->len = RING;
	}
	if (r < 0)
		return r;
	memcpy(v->memb, v->be, v->nbe * sizeof(v->be[0]));
	v->nmemb = v->nbe;
	v->has_table = true;
	F.publishes++;
	return xlb_dp_publish_table(F.dp, v->id, v->memb, v->nmemb, v->ring, v->len);
}

static int flush_flows(void)
{
	int err = fx_flush_flows(&fxh);

	memset(F.flows, 0, FLOW_SLOTS * sizeof(*F.flows));
	memset(F.recent, 0, sizeof(F.recent));
	F.nflows = 0;
	/* xlbd's recount of an empty table. */
	for (__u32 id = 1; id < MAX_BE && !err; id++) {
		F.active[id] = 0;
		err = xlb_dp_set_backend_active(F.dp, id, 0);
	}
	F.flushes++;
	return err;
}

/* After a disagreement the model and the maps are put back in step: no flows, no counts,
 * every rr position 0. */
static int resync(void)
{
	static __u64 zero[MAX_CPUS];
	int err = flush_flows();

	for (size_t i = 0; i < NVIPS && !err; i++) {
		__u32 id = F.vip[i].id;

		F.vip[i].rr_pos = 0;
		if (bpf_map_update_elem(F.rr_fd, &id, zero, BPF_ANY))
			err = -errno;
	}
	return err;
}

/* An idle UDP flow, seen from the program: its last_seen older than the timeout. TCP entries
 * are aged too (they never expire). */
static int age_flows(void)
{
	__u64 now = coarse_ns();
	int err = 0;

	if (now < UDP_TIMEOUT + NS || !F.nflows)
		return 0;
	for (int n = 0; n < 8 && !err; n++) {
		struct mflow *f = n < 4 ? F.recent[mut_below(&F.rng, 16)]
					: &F.flows[mut_below(&F.rng, FLOW_SLOTS)];
		struct xlb_flow e;

		if (!f || !f->used || f->dead || f->aged)
			continue;
		err = xlb_dp_flow_get(F.dp, &f->key, &e);
		if (err)
			return err;
		e.last_seen_ns = now - UDP_TIMEOUT - NS;
		err = xlb_dp_flow_put(F.dp, &f->key, &e);
		f->aged = true;
		F.aged++;
	}
	return err;
}

/* xlbd's recount: live entries (not closed, UDP not idle) per backend, written back. */
static int recount(void)
{
	__s64 n[MAX_BE] = {0};
	int err = 0;

	for (size_t i = 0; i < FLOW_SLOTS; i++) {
		const struct mflow *f = &F.flows[i];

		if (f->used && !f->dead && f->counted && !(f->aged && f->key.proto == IPPROTO_UDP))
			n[f->be]++;
	}
	for (__u32 id = 1; id < MAX_BE && !err; id++) {
		F.active[id] = n[id];
		err = xlb_dp_set_backend_active(F.dp, id, n[id]);
	}
	F.recounts++;
	return err;
}

static int doomed_vip_id;

static int of_doomed_vip(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k, (void)arg;
	return f->vip_id == doomed_vip_id;
}

/*
 * A VIP removed and given again, one step per call, with frames in between (xlbd's order,
 * user/xlbd/apply.c): 1. its table cleared and the VIP deleted (its established flows are still
 * forwarded, new ones pass); 2. its backends gone ({down, VIP 0}: their flows are stale, then
 * pass); 3. its flow entries purged (xlbd_purge_stale_flows); 4. the VIP again, same id, with
 * up to two of the removed backends of its family.
 */
static int remove_vip_step(int vi)
{
	struct mvip *v = &F.vip[vi];
	size_t deleted;
	int err = 0;

	switch (v->gone++) {
	case 0:
		v->has_table = false;
		v->present = false;
		err = xlb_dp_clear_table(F.dp, v->id) ?: xlb_dp_del_vip(F.dp, &v->key);
		F.vip_removes++;
		return err;
	case 1:
		for (__u32 j = 0; j < v->nbe && !err; j++) {
			struct mbe *b = &F.be[v->be[j]];

			b->removed = true;
			b->e.state = XLB_BE_DOWN;
			b->e.vip_id = 0;
			err = write_backend(v->be[j]);
		}
		v->nbe = 0;
		return err;
	case 2:
		for (size_t i = 0; i < FLOW_SLOTS; i++)
			if (F.flows[i].used && F.flows[i].vip_id == v->id)
				F.flows[i].dead = true;
		doomed_vip_id = (int)v->id;
		return xlb_dp_delete_flows(F.dp, of_doomed_vip, NULL, &deleted);
	default: {
		struct xlb_vip vip = {.id = v->id, .sched = v->sched, .flags = v->flags};

		v->gone = 0;
		v->present = true;
		/* A VIP given again is a new VIP: its traffic counts from 0 (docs/metrics.md). */
		memset(&F.vip_t[v->id], 0, sizeof(F.vip_t[0]));
		err = xlb_dp_set_vip(F.dp, &v->key, &vip);
		for (__u32 id = 1; id < MAX_BE && v->nbe < 2 && !err; id++) {
			struct mbe *b = &F.be[id];

			if (!b->removed || b->e.family != v->key.family)
				continue;
			v->be[v->nbe++] = id;
			b->removed = false;
			b->e.state = XLB_BE_UP;
			b->e.vip_id = v->id;
			b->e.weight = b->weight;
			err = write_backend(id);
		}
		return err ?: publish(vi);
	}
	}
}

static int vip_index(__u32 vip_id)
{
	return vip_id >= 1 && vip_id <= NVIPS ? (int)vip_id - 1 : -1;
}

static int change_state(void)
{
	__u32 k = mut_below(&F.rng, 100000), id = 1 + mut_below(&F.rng, MAX_BE - 1);
	struct mbe *b = &F.be[id];
	int vi, err;

	if (F.nflows > FLOW_FLUSH || k == 0)
		return flush_flows();
	if (!b->e.family) /* an id never used */
		return 0;
	vi = vip_index(b->e.vip_id);
	if (k < 700) { /* a health check, a breaker, an operator */
		static const __u8 states[4] = {XLB_BE_UP, XLB_BE_UP, XLB_BE_DRAINING, XLB_BE_DOWN};
		__u8 st = states[mut_below(&F.rng, 4)];

		if (b->removed)
			return 0;
		if (F.vip[vi].kind == V_NO_BACKEND && st == XLB_BE_UP)
			st = XLB_BE_DRAINING;
		b->e.state = st;
		F.flips++;
		err = write_backend(id);
		if (!err && mut_chance(&F.rng, 1, 10)) /* xlbd re-publishes; not always at once */
			err = publish(vi);
		return err;
	}
	if (k < 710)
		return publish((int)mut_below(&F.rng, NVIPS));
	if (k < 725) {
		if (b->removed)
			return 0;
		b->weight = 1 + mut_below(&F.rng, 4);
		if (b->e.state == XLB_BE_UP)
			b->e.weight = b->weight;
		F.weights++;
		return write_backend(id) ?: publish(vi);
	}
	if (k < 740) {
		/* Removed: {down, VIP 0, the MAC it had}; out of the VIP's members. */
		struct mvip *v;
		__u32 j = 0;

		if (b->removed || F.vip[vi].kind != V_NORMAL)
			return 0;
		v = &F.vip[vi];
		while (v->be[j] != id)
			j++;
		memmove(&v->be[j], &v->be[j + 1], (v->nbe - j - 1) * sizeof(v->be[0]));
		v->nbe--;
		b->removed = true;
		b->e.state = XLB_BE_DOWN;
		b->e.vip_id = 0;
		F.removes++;
		return write_backend(id) ?: publish(vi);
	}
	if (k < 760) {
		/* A removed backend given again, to a VIP of its family (often another one): flows
		 * that named it for another VIP are stale, its old VIP's flows on it come back. */
		__u32 to = mut_below(&F.rng, NVIPS);
		struct mvip *v;

		for (__u32 n = 0; n < MAX_BE && !b->removed; n++) {
			id = 1 + (id % (MAX_BE - 1));
			b = &F.be[id];
		}
		for (__u32 n = 0; n < NVIPS; n++, to = (to + 1) % NVIPS) {
			v = &F.vip[to];
			if (v->kind == V_NORMAL && v->present && v->key.family == b->e.family &&
			    v->nbe < VIP_MAX_BE)
				break;
		}
		if (!b->removed || v->kind != V_NORMAL || !v->present ||
		    v->key.family != b->e.family || v->nbe == VIP_MAX_BE)
			return 0;
		v->be[v->nbe++] = id;
		b->removed = false;
		b->e.state = XLB_BE_UP;
		b->e.vip_id = v->id;
		b->e.weight = b->weight;
		F.readds++;
		return write_backend(id) ?: publish((int)to);
	}
	if (k < 830) { /* one VIP at a time, its steps a few thousand frames apart */
		int vi2 = (int)mut_below(&F.rng, NVIPS);

		for (size_t i = 0; i < NVIPS; i++)
			if (F.vip[i].gone)
				return remove_vip_step((int)i);
		if (F.vip[vi2].kind == V_NORMAL && mut_chance(&F.rng, 1, 8))
			return remove_vip_step(vi2);
		return 0;
	}
	if (k < 1000)
		return age_flows();
	if (k < 1005)
		return recount();
	return 0;
}

/* ---- setup ------------------------------------------------------------------------------ */

static void parse_addr(const char *s, __u8 *family, struct xlb_addr *a)
{
	memset(a, 0, sizeof(*a));
	*family = strchr(s, ':') ? XLB_AF_INET6 : XLB_AF_INET;
	inet_pton(*family == XLB_AF_INET ? AF_INET : AF_INET6, s, a->bytes);
}

/* An address that is no VIP's but shares a VIP address's xlb_vip_filter slot: it gets past
 * the filter to the exact lookups. */
static void filter_neighbour(const struct xlb_addr *vip, __u8 family, struct mut_dst *d)
{
	__u32 want = xlb_vip_filter_slot(vip);

	memset(d, 0, sizeof(*d));
	d->family = family;
	d->addr = *vip;
	for (__u32 i = 1;; i++) {
		if (family == XLB_AF_INET)
			d->addr.v4 = htonl(0xcb007100 + i); /* 203.0.113.0 + i, then on */
		else
			d->addr.v6[3] = htonl(0x200 + i);
		if (xlb_vip_filter_slot(&d->addr) == want)
			return;
	}
}

static int setup(__u64 seed, bool no_lb_mac)
{
	struct xlb_dp_opts o = {.ring_size = RING,
				/* Buckets enough that FLOW_FLUSH flows never fill one (nothing
				 * is evicted, which the model does not follow). */
				.flow_entries = 1 << 20,
				.udp_timeout_ns = UDP_TIMEOUT,
				.lb_mac = FX_LB_MAC};
	const char *alt = getenv("XLB_BPF_OBJ");
	cpu_set_t set;
	__u32 next = 1;
	int err, cpu;

	free(F.flows);
	memset(&F, 0, sizeof(F));
	F.seed = seed;
	F.no_lb_mac = no_lb_mac;
	if (no_lb_mac)
		memset(o.lb_mac, 0, sizeof(o.lb_mac));
	mut_seed(&F.rng, seed);
	F.flows = calloc(FLOW_SLOTS, sizeof(*F.flows));
	if (!F.flows)
		return -ENOMEM;
	/* One CPU: rr's position is per CPU. */
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "cannot pin to CPU %d: rr's picks could not be predicted\n", cpu);
		return -EPERM;
	}
	F.ncpu = libbpf_num_possible_cpus();
	if (F.ncpu <= 0 || F.ncpu > MAX_CPUS)
		return -EINVAL;
	o.hash_seed = (__u32)(seed * 0x9e3779b97f4a7c15ull >> 32);
	err = xlb_dp_load(&o, &F.dp);
	if (err)
		return err;
	fxh.dp = F.dp;
	if (alt && *alt) {
		err = fx_load_prog_file(F.dp, alt, &F.alt);
		if (err) {
			fprintf(stderr, "cannot load XLB_BPF_OBJ=%s: %s\n", alt, strerror(-err));
			return err;
		}
		printf("# pktfuzz: the program of %s\n", alt);
	}
	F.stats_fd = bpf_map__fd(F.dp->skel->maps.xlb_stats);
	F.rr_fd = bpf_map__fd(F.dp->skel->maps.xlb_rr_pos);
	for (size_t i = 0; i < NVIPS; i++) {
		const struct vdef *d = &vdefs[i];
		struct mvip *v = &F.vip[i];
		struct xlb_vip vip = {.id = (__u32)i + 1, .sched = d->sched, .flags = d->flags};

		parse_addr(d->addr, &v->key.family, &v->key.addr);
		v->key.port = htons(d->port);
		v->key.proto = d->proto;
		v->id = vip.id;
		v->sched = d->sched;
		v->flags = d->flags;
		v->kind = d->kind;
		v->present = true;
		err = xlb_dp_set_vip(F.dp, &v->key, &vip);
		if (err)
			return err;
		F.vips_dst[i] = (struct mut_dst){v->key.family, v->key.addr, d->port, d->proto};
		for (__u32 j = 0; j < d->nbe; j++, next++) {
			struct mbe *b = &F.be[next];
			__u32 r = mut_below(&F.rng, 10);

			b->e.family = v->key.family;
			b->e.vip_id = v->id;
			b->e.state = r < 6 ? XLB_BE_UP : r < 8 ? XLB_BE_DRAINING : XLB_BE_DOWN;
			if (d->kind == V_NO_BACKEND && b->e.state == XLB_BE_UP)
				b->e.state = XLB_BE_DRAINING;
			b->weight = b->e.weight = 1 + mut_below(&F.rng, 4);
			memcpy(b->e.mac, (__u8[6]){0x02, 0, 0, 0, 0x01, (__u8)next}, 6);
			if (b->e.family == XLB_AF_INET) {
				b->e.addr.v4 = htonl(0x0a000100 | next);
			} else {
				parse_addr("2001:db8:1::", &b->e.family, &b->e.addr);
				b->e.addr.bytes[15] = (__u8)next;
			}
			err = write_backend(next);
			if (err)
				return err;
			v->be[v->nbe++] = next;
		}
		err = publish((int)i);
		if (err)
			return err;
	}
	for (size_t i = 0; i < NOTHERS - 2; i++) {
		F.others_dst[i].port = 0;
		parse_addr(other_addrs[i], &F.others_dst[i].family, &F.others_dst[i].addr);
	}
	filter_neighbour(&F.vip[0].key.addr, XLB_AF_INET, &F.others_dst[NOTHERS - 2]);
	filter_neighbour(&F.vip[6].key.addr, XLB_AF_INET6, &F.others_dst[NOTHERS - 1]);
	memcpy(F.mc.lb_mac, lb_mac, 6);
	F.mc.vips = F.vips_dst;
	F.mc.nvips = NVIPS;
	F.mc.others = F.others_dst;
	F.mc.nothers = NOTHERS;
	F.mc.hot_flows = HOT_FLOWS;
	F.mc.wide_flows = WIDE_FLOWS;
	return 0;
}

static void teardown(void)
{
	xlb_dp_destroy(F.dp);
	F.dp = NULL;
	if (F.alt)
		bpf_object__close(F.alt);
	F.alt = NULL;
	free(F.flows);
	F.flows = NULL;
}

/* xlb_stats summed over CPUs: one batched read. */
static int read_counters(__u64 out[XLB_C_MAX])
{
	static __u64 vals[XLB_C_MAX * MAX_CPUS];
	__u32 keys[XLB_C_MAX], count = XLB_C_MAX, batch;
	int err = bpf_map_lookup_batch(F.stats_fd, NULL, &batch, keys, vals, &count, NULL);

	if (err && errno != ENOENT)
		return -errno;
	if (count != XLB_C_MAX)
		return -EIO;
	for (__u32 i = 0; i < XLB_C_MAX; i++) {
		out[keys[i]] = 0;
		for (int c = 0; c < F.ncpu; c++)
			out[keys[i]] += vals[i * F.ncpu + c];
	}
	return 0;
}

/* ---- one frame ------------------------------------------------------------------------- */

static const char *action_name(__u32 a)
{
	static const char *const n[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};

	return a < 5 ? n[a] : "?";
}

static void hex(FILE *out, const __u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", p[i]);
}

/* What one packet broke: the invariants' names, and what each saw. */
struct findings {
	char inv[96];
	char detail[1024];
};

static void found(struct findings *fd, const char *inv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void found(struct findings *fd, const char *inv, const char *fmt, ...)
{
	size_t n = strlen(fd->inv), m = strlen(fd->detail);
	va_list ap;

	snprintf(fd->inv + n, sizeof(fd->inv) - n, "%s%s", n ? "," : "", inv);
	if (m + 8 >= sizeof(fd->detail))
		return;
	m += (size_t)snprintf(fd->detail + m, sizeof(fd->detail) - m, "%s%s: ", m ? "; " : "", inv);
	va_start(ap, fmt);
	vsnprintf(fd->detail + m, sizeof(fd->detail) - m, fmt, ap);
	va_end(ap);
}

/* The environment that gives this run again: "[XLB_BPF_OBJ=...] [PKTFUZZ_NO_LB_MAC=1] FUZZ_SEED=S". */
static const char *run_env(void)
{
	static char env[400];
	const char *alt = getenv("XLB_BPF_OBJ");

	snprintf(env, sizeof(env), "%s%.300s%s%sFUZZ_SEED=%llu", alt && *alt ? "XLB_BPF_OBJ=" : "",
		 alt && *alt ? alt : "", alt && *alt ? " " : "",
		 F.no_lb_mac ? "PKTFUZZ_NO_LB_MAC=1 " : "", (unsigned long long)F.seed);
	return env;
}

/* A packet that broke invariants: reported with the frame (a file under $TMPDIR too) and how
 * to get it again. mr NULL: a replayed frame (index: its position). */
static void violation(unsigned long index, const __u8 *frame, size_t len,
		      const struct mut_result *mr, const struct findings *fd)
{
	const char *tmp = getenv("TMPDIR");
	char path[256], where[64];
	FILE *fp;

	snprintf(where, sizeof(where), mr ? "packet %lu" : "replayed frame %lu", index);
	if (!F.violations++) {
		snprintf(F.first_what, sizeof(F.first_what), "%s: %.170s", where, fd->detail);
	}
	if (F.violations > MAX_REPORTS)
		return;
	fprintf(stderr, "pktfuzz: seed %llu %s (%s%s%s): %s\n", (unsigned long long)F.seed, where,
		mr ? mut_kind_name[mr->kind] : "replay", mr && mr->what[0] ? ": " : "",
		mr ? mr->what : "", fd->detail);
	fprintf(stderr, "  frame (%zu bytes): ", len);
	hex(stderr, frame, len);
	fputc('\n', stderr);
	snprintf(path, sizeof(path), "%s/pktfuzz-%llu-%lu.hex", tmp && *tmp ? tmp : "/tmp",
		 (unsigned long long)F.seed, index);
	fp = mr ? fopen(path, "w") : NULL;
	if (fp) {
		hex(fp, frame, len);
		fputc('\n', fp);
		fclose(fp);
		fprintf(stderr, "  reproduce: %s PKTFUZZ_N=%lu XT_ONLY=test_fresh_seed %s\n",
			run_env(), index + 1, program_invocation_name);
		fprintf(stderr, "  the frame alone, on fresh maps: %s %s replay $(cat %s)\n",
			run_env(), program_invocation_name, path);
	}
}

static const char *ctr_name(int c)
{
	return xlb_counter_name((enum xlb_counter)c);
}

/* Runs one frame and checks every invariant; returns 0, or -errno when the run itself fails. */
static int one(unsigned long index, const __u8 *frame, size_t len, const struct mut_result *mr)
{
	static __u8 out[PKT_BUF_SIZE + 64];
	struct findings fd = {0};
	struct expect x, x_exp;
	struct ref_parse rp;
	__u64 now[XLB_C_MAX], t0 = coarse_ns();
	__u32 out_len = sizeof(out), action;
	bool unsure = false, expired = false;
	struct mflow *f;
	char diff[600];
	size_t dn = 0;
	int err;

	ref_parse(frame, len, F.no_lb_mac ? NULL : lb_mac, &rp);
	if (rp.kind == REF_OK && (f = flow_find(&rp.key, false)) && f->key.proto == IPPROTO_UDP) {
		expired = f->aged;
		/* Idle past the timeout in real time: possible only after that long. */
		unsure = !expired && t0 + NS - f->learned_ns > UDP_TIMEOUT;
	}
	expect_frame(&rp, expired, &x);
	if (unsure)
		expect_frame(&rp, true, &x_exp);
	err = fx_run(&fxh, frame, (__u32)len, out, &out_len, &action);
	if (err)
		return err;
	err = read_counters(now);
	if (err)
		return err;
	F.sent++;
	if (unsure && now[XLB_C_FLOW_EXPIRED] != F.ctr[XLB_C_FLOW_EXPIRED])
		x = x_exp;

	if (action != XDP_PASS && action != XDP_DROP && action != XDP_TX)
		found(&fd, "action", "%s (%u), want %s", action_name(action), action,
		      action_name(x.action));
	else if (action != x.action)
		found(&fd, "verdict", "%s, want %s (%s)", action_name(action),
		      action_name(x.action),
		      x.action == XDP_TX ? "to a backend" : ctr_name((int)x.reason));
	if (out_len != len) {
		found(&fd, "length", "%u bytes out of %zu", out_len, len);
	} else if (action == XDP_TX && x.action == XDP_TX) {
		/* The source: the LB's MAC, or without one the frame's destination. */
		if (memcmp(out + 12, frame + 12, len - 12) ||
		    memcmp(out + 6, F.no_lb_mac ? frame : lb_mac, 6))
			found(&fd, "tx-bytes", "more than the destination MAC changed");
		else if (memcmp(out, F.be[x.be].e.mac, 6))
			found(&fd, x.flow && !x.learn ? "flow-kept" : "backend",
			      "sent to backend %u (%02x:%02x:%02x:%02x:%02x:%02x), want %u "
			      "(sched %u, state %u)",
			      fx_backend_of(out, out_len), out[0], out[1], out[2], out[3], out[4],
			      out[5], x.be, x.vip >= 0 ? F.vip[x.vip].sched : 255,
			      F.be[x.be].e.state);
	} else if (action != XDP_TX && memcmp(out, frame, len)) {
		found(&fd, "unchanged", "a %s frame was changed", action_name(action));
	}
	for (int c = 0; c < XLB_C_MAX; c++) {
		__s64 got = (__s64)(now[c] - F.ctr[c]);

		if (got != x.d[c] && dn < sizeof(diff) - 64)
			dn += (size_t)snprintf(diff + dn, sizeof(diff) - dn,
					       "%s%s %+lld (want %+lld)", dn ? ", " : "",
					       ctr_name(c), (long long)got, (long long)x.d[c]);
	}
	if (dn)
		found(&fd, "counters", "%s", diff);
	memcpy(F.ctr, now, sizeof(now));
	if (fd.inv[0] && rp.kind == REF_OK) { /* the flow as the map and the model have it now */
		struct xlb_flow e;
		bool in_map = xlb_dp_flow_get(F.dp, &rp.key, &e) == 0;

		f = flow_find(&rp.key, false);
		found(&fd, "flow",
		      "map: %s backend %u vip %u flags %u; model before: %s backend %u vip %u%s%s",
		      in_map ? "entry" : "none", in_map ? e.backend_id : 0, in_map ? e.vip_id : 0,
		      in_map ? e.flags : 0, f ? "entry" : "none", f ? f->be : 0, f ? f->vip_id : 0,
		      f && f->closed ? " closed" : "", f && f->aged ? " aged" : "");
	}
	if (fd.inv[0]) {
		violation(index, frame, len, mr, &fd);
		return resync();
	}
	commit(&rp, &x, len, t0);
	return 0;
}

/* ---- runs --------------------------------------------------------------------------------- */

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static void summary(double secs)
{
	static const enum xlb_counter shown[] = {
		XLB_C_ACT_PASS,
		XLB_C_ACT_DROP,
		XLB_C_ACT_TX,
		XLB_C_PASS_NOT_IP,
		XLB_C_PASS_NOT_VIP,
		XLB_C_PASS_UNPARSED,
		XLB_C_PASS_NOT_OURS,
		XLB_C_PASS_IPV6_EXT_LIMIT,
		XLB_C_DROP_IP_TRUNCATED,
		XLB_C_DROP_BAD_IP_HEADER,
		XLB_C_DROP_BAD_IP_LENGTH,
		XLB_C_DROP_FRAGMENT,
		XLB_C_DROP_L4_TRUNCATED,
		XLB_C_DROP_BAD_L4_HEADER,
		XLB_C_DROP_NO_BACKEND,
		XLB_C_DROP_NO_TABLE,
		XLB_C_FLOW_HIT,
		XLB_C_FLOW_MISS,
		XLB_C_FLOW_INSERT,
		XLB_C_FLOW_EXPIRED,
		XLB_C_FLOW_STALE,
		XLB_C_FLOW_REPICK,
		XLB_C_FAILOVER_REHASH,
		XLB_C_FAILOVER_WALK,
	};

	printf("# pktfuzz: seed %llu: %lu frames run in %.1f s (%.0f frames/s); %lu too short "
	       "for BPF_PROG_TEST_RUN (under 14 bytes)\n",
	       (unsigned long long)F.seed, F.sent, secs, secs > 0 ? F.sent / secs : 0,
	       F.unsendable);
	printf("# pktfuzz: counters:");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		printf(" %s %llu", ctr_name(shown[i]), (unsigned long long)F.ctr[shown[i]]);
	printf("\n# pktfuzz: frames:");
	for (int k = 0; k < MUT_KINDS; k++)
		printf(" %s %lu", mut_kind_name[k], F.kinds[k]);
	printf(" (and %lu cut at every length)", F.sweeps);
	printf("\n# pktfuzz: changes: %lu state flips, %lu tables published, %lu weights, %lu "
	       "backends removed, %lu given again, %lu VIPs removed (and given again), %lu flows "
	       "aged, %lu recounts, %lu flushes\n",
	       F.flips, F.publishes, F.weights, F.removes, F.readds, F.vip_removes, F.aged,
	       F.recounts, F.flushes);
}

/* Model and maps must agree on the traffic of every VIP and backend (checked at the end: the
 * counters cannot name a packet). */
static void check_traffic(void)
{
	for (__u32 id = 1; id < MAX_BE; id++) {
		struct xlb_traffic t = {0};

		if (!ASSERT_OK(xlb_dp_read_backend_traffic(F.dp, id, &t), "backend traffic"))
			return;
		if (memcmp(&t, &F.be_t[id], sizeof(t)))
			xt_fail(__FILE__, __LINE__,
				"backend %u traffic: packets %llu bytes %llu new %llu syn retries "
				"%llu, want %llu %llu %llu %llu",
				id, t.packets, t.bytes, t.new_flows, t.syn_retries,
				F.be_t[id].packets, F.be_t[id].bytes, F.be_t[id].new_flows,
				F.be_t[id].syn_retries);
	}
	for (__u32 id = 1; id <= NVIPS; id++) {
		struct xlb_traffic t = {0};

		if (!ASSERT_OK(xlb_dp_read_vip_traffic(F.dp, id, &t), "vip traffic"))
			return;
		if (memcmp(&t, &F.vip_t[id], sizeof(t)))
			xt_fail(__FILE__, __LINE__,
				"vip %u traffic: packets %llu bytes %llu new %llu syn retries "
				"%llu, "
				"want %llu %llu %llu %llu",
				id, t.packets, t.bytes, t.new_flows, t.syn_retries,
				F.vip_t[id].packets, F.vip_t[id].bytes, F.vip_t[id].new_flows,
				F.vip_t[id].syn_retries);
	}
}

static void fuzz(__u64 seed, unsigned long n, bool no_lb_mac)
{
	static __u8 frame[PKT_BUF_SIZE];
	struct timespec a, b;
	struct mut_result mr;
	int err;

	err = setup(seed, no_lb_mac);
	printf("# pktfuzz: seed %llu, %lu frames%s (%s PKTFUZZ_N=%lu XT_ONLY=test_fresh_seed "
	       "repeats this run)\n",
	       (unsigned long long)seed, n, no_lb_mac ? ", no LB MAC" : "", run_env(), n);
	if (!ASSERT_OK(err, "setup"))
		goto out;
	if (!ASSERT_OK(read_counters(F.ctr), "counters"))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n && F.violations < MAX_REPORTS * 10UL; i++) {
		size_t len;

		err = change_state();
		if (!ASSERT_OK(err, "change"))
			break;
		len = mut_frame(&F.mc, &F.rng, frame, sizeof(frame), &mr);
		F.kinds[mr.kind]++;
		if (len < 14) { /* BPF_PROG_TEST_RUN refuses frames under an Ethernet header */
			F.unsendable++;
			continue;
		}
		err = one(i, frame, len, &mr);
		/* Now and then a VIP frame cut at every length from one byte short down to the
		 * Ethernet header (past 200 bytes, only its last 8: the headers are in front). */
		if (!err && mr.kind == MUT_VIP && mut_chance(&F.rng, 1, 500)) {
			struct mut_result cut = {.kind = MUT_VIP};

			F.sweeps++;
			for (size_t l = len - 1; l >= 14 && !err;
			     l = l > 200 && l < len - 8 ? 200 : l - 1) {
				snprintf(cut.what, sizeof(cut.what), "%.80s, cut to %zu", mr.what,
					 l);
				err = one(i, frame, l, &cut);
			}
		}
		if (!ASSERT_OK(err, "run"))
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	summary((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	if (F.violations)
		fprintf(stderr, "pktfuzz: %lu violations, the first at %s\n", F.violations,
			F.first_what);
	if (ASSERT_EQ(F.violations, 0, F.violations ? F.first_what : "violations"))
		check_traffic(); /* after a violation the model was put back, not its traffic */
out:
	teardown();
}

/* make test's gate: the same packets every time. */
static void test_fixed_seed(void)
{
	fuzz(FIXED_SEED, DEFAULT_N, false);
}

/* Loaded without an LB MAC (docs/datapath.md, step 0): any unicast destination is balanced,
 * and a forwarded frame's source is the destination it came with. */
static void test_no_lb_mac(void)
{
	fuzz(FIXED_SEED + 1, DEFAULT_N / 4, true);
}

/* A new seed every run (FUZZ_SEED repeats one); PKTFUZZ_N packets. */
static void test_fresh_seed(void)
{
	__u64 seed = env_ul("FUZZ_SEED", 0);
	struct timespec ts;

	if (!seed) {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec) ^ (__u64)getpid() << 40;
	}
	fuzz(seed, env_ul("PKTFUZZ_N", DEFAULT_N), env_ul("PKTFUZZ_NO_LB_MAC", 0));
}

/* `test_pktfuzz replay HEX...`: the frames, in order, on fresh maps (FUZZ_SEED's setup, 1 by
 * default), each checked like a fuzzed one. */
static char **replay_frames;
static int replay_n;

static void test_replay(void)
{
	static __u8 frame[PKT_BUF_SIZE];

	if (!ASSERT_OK(setup(env_ul("FUZZ_SEED", FIXED_SEED), env_ul("PKTFUZZ_NO_LB_MAC", 0)),
		       "setup"))
		goto out;
	if (!ASSERT_OK(read_counters(F.ctr), "counters"))
		goto out;
	for (int i = 0; i < replay_n; i++) {
		size_t n = strlen(replay_frames[i]) / 2, len = 0;
		struct ref_parse rp;
		struct expect x;

		for (; len < n && len < sizeof(frame); len++)
			if (sscanf(replay_frames[i] + 2 * len, "%2hhx", &frame[len]) != 1)
				break;
		ref_parse(frame, len, F.no_lb_mac ? NULL : lb_mac, &rp);
		expect_frame(&rp, false, &x);
		printf("# frame %d (%zu bytes): the model says %s %s\n", i, len,
		       action_name(x.action), x.action == XDP_TX ? "" : ctr_name((int)x.reason));
		if (len >= 14)
			ASSERT_OK(one((unsigned long)i, frame, len, NULL), "run");
	}
	ASSERT_EQ(F.violations, 0, F.violations ? F.first_what : "violations");
out:
	teardown();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && strcmp(argv[1], "replay") == 0) {
		replay_frames = argv + 2;
		replay_n = argc - 2;
		RUN_TEST(test_replay);
		return xt_finish();
	}
	RUN_TEST(test_fixed_seed);
	RUN_TEST(test_no_lb_mac);
	RUN_TEST(test_fresh_seed);
	return xt_finish();
}
