/* apply.c - reconcile the maps with the desired state: VIPs, backend entries, Maglev tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "schedule.h"
#include "xlb.skel.h"
#include "xlbd.h"

static __u64 fnv(__u64 h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	return h;
}

/* The ring for the VIP's scheduler over its n usable backends (mb[]). 0 or -errno; *len set. */
static int build_ring(struct xlbd *d, const struct xlbd_vip *v, const struct xlb_maglev_backend *mb,
		      __u32 n, __u32 *ring, __u32 *len)
{
	__u32 ids[XLB_MAX_VIP_BACKENDS], weights[XLB_MAX_VIP_BACKENDS];
	int r;

	switch (v->sched) {
	case XLB_SCHED_RR:
	case XLB_SCHED_LEAST_CONN:
		/* Each usable backend once, in configuration order. */
		for (__u32 i = 0; i < n; i++)
			ring[i] = mb[i].id;
		*len = n;
		return 0;
	case XLB_SCHED_WRR:
		for (__u32 i = 0; i < n; i++) {
			ids[i] = mb[i].id;
			weights[i] = mb[i].weight;
		}
		r = xlb_wrr_build(ids, weights, n, d->dp->ring_size, ring);
		if (r < 0)
			return r;
		*len = r;
		return 0;
	default: /* maglev, source-hash: the same ring, hashed differently */
		*len = d->dp->ring_size;
		return xlb_maglev_build(mb, n, d->dp->ring_size, d->cfg.hash_seed, ring);
	}
}

/*
 * A table built but not yet swapped in: a seed change builds every VIP's new ring first and
 * swaps them all in right after the seed is written (docs/cluster.md, "Changing the seed").
 */
struct staged {
	__u32 vip_id;
	int fd; /* -1: none */
	struct xlb_table *t;
};

static int stage_or_publish(struct xlbd *d, const struct xlbd_vip *v, const __u32 *members,
			    const __u32 *ring, __u32 len, struct staged *stage)
{
	struct xlb_table *t;
	int fd;

	if (!stage)
		return xlb_dp_publish_table(d->dp, v->id, members, v->nbe, ring, len);
	fd = xlb_dp_table_new(d->dp, &t);
	if (fd < 0)
		return fd;
	t->len = len;
	t->nmemb = v->nbe;
	if (v->nbe)
		memcpy(t->memb, members, v->nbe * sizeof(*members));
	if (len)
		memcpy(t->ring, ring, len * sizeof(*ring));
	*stage = (struct staged){.vip_id = v->id, .fd = fd, .t = t};
	return 0;
}

/*
 * The ring as the VIP's member positions (configuration order), not as backend ids: ids are
 * each node's own (a node given the same configuration may number its backends otherwise),
 * positions are the configuration's. Part of the fingerprint (xlbd_apply_fingerprint).
 */
static __u64 ring_digest(const struct xlbd_vip *v, const __u32 *ring, __u32 len)
{
	static __u16 pos[XLB_MAX_BACKENDS]; /* backend id -> position + 1 */
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t j = 0; j < v->nbe; j++)
		if (v->be[j].id < XLB_MAX_BACKENDS)
			pos[v->be[j].id] = j + 1;
	h = fnv(h, &len, sizeof(len));
	for (__u32 i = 0; i < len; i++) {
		__u16 p = ring[i] < XLB_MAX_BACKENDS ? pos[ring[i]] : 0;

		h = fnv(h, &p, sizeof(p));
	}
	for (size_t j = 0; j < v->nbe; j++)
		if (v->be[j].id < XLB_MAX_BACKENDS)
			pos[v->be[j].id] = 0;
	return h;
}

/* Publishes the VIP's table over its usable backends, unless it is what is there; with stage,
 * builds it and leaves it in *stage for the caller to swap in (a seed change, below). */
static int apply_table(struct xlbd *d, struct xlbd_vip *v, struct staged *stage)
{
	struct xlb_maglev_backend *mb = calloc(v->nbe ? v->nbe : 1, sizeof(*mb));
	__u32 *members = calloc(v->nbe ? v->nbe : 1, sizeof(*members));
	__u32 n = 0, len = 0, *ring = NULL;
	__u64 sig = 0xcbf29ce484222325ULL;
	int err = 0;

	if (!mb || !members) {
		err = -ENOMEM;
		goto out;
	}
	sig = fnv(sig, &v->sched, sizeof(v->sched));
	for (size_t j = 0; j < v->nbe; j++) {
		const struct xlbd_backend *b = &v->be[j];
		const char *why;
		__u8 st = xlbd_view_state(&d->view, v, b, &why);

		members[j] = b->id;
		sig = fnv(sig, &b->id, sizeof(b->id));
		/* A hashing scheduler's ring keeps a draining backend, with its weight: the data
		 * plane sends it only packets that may be mid-connection (docs/datapath.md). */
		if (st != XLB_BE_UP &&
		    !(st == XLB_BE_DRAINING &&
		      (v->sched == XLB_SCHED_MAGLEV || v->sched == XLB_SCHED_SOURCE_HASH)))
			continue;
		mb[n].key = xlb_addr_key(&b->addr, b->family);
		mb[n].weight = xlbd_view_weight(&d->view, v, b);
		mb[n].id = b->id;
		sig = fnv(sig, &mb[n], sizeof(mb[n]));
		n++;
	}
	sig = fnv(sig, &n, sizeof(n));
	/* The seed the ring is built with, and the flow hash the data plane uses with it. */
	sig = fnv(sig, &d->cfg.hash_seed, sizeof(d->cfg.hash_seed)) | 1; /* 0: none published */
	if (d->apply.table_sig[v->id] == sig)
		goto out;
	if (n) {
		ring = malloc(d->dp->ring_size * sizeof(*ring));
		if (!ring) {
			err = -ENOMEM;
			goto out;
		}
		err = build_ring(d, v, mb, n, ring, &len);
	}
	/* No usable backend: an empty ring, so new flows are dropped (drop_no_backend) while
	 * flows on draining backends go on. */
	if (!err)
		err = stage_or_publish(d, v, members, ring, n ? len : 0, stage);
	if (!err) {
		d->apply.table_sig[v->id] = sig;
		d->apply.ring_fp[v->id] = ring_digest(v, ring, n ? len : 0);
	}
out:
	free(ring);
	free(members);
	free(mb);
	return err;
}

static int apply_backend(struct xlbd *d, const struct xlbd_vip *v, const struct xlbd_backend *b)
{
	struct xlb_backend be = {
		.addr = b->addr,
		.family = b->family,
		.vip_id = v->id,
	};
	const __u8 *mac = xlbd_macs_get(&d->macs, b->id);
	const char *why;

	be.state = xlbd_view_state(&d->view, v, b, &why);
	be.weight = be.state == XLB_BE_UP ? xlbd_view_weight(&d->view, v, b) : b->weight;
	if (mac)
		memcpy(be.mac, mac, 6);
	return xlb_dp_set_backend(d->dp, b->id, &be);
}

/*
 * What the entry of a removed backend becomes: down and owned by no VIP (vip_id 0: flows still
 * naming it re-pick), with the MAC it had. A table swapped out in the same apply may still be in
 * a packet's hands, and the data plane checks the state and sends to the MAC from one read of the
 * entry: keeping the MAC means no write ever turns a usable entry's MAC into 00:00:00:00:00:00,
 * nor into a torn mix of two MACs, whatever the order in which the kernel copies its bytes.
 */
static void gone_entry(const struct xlb_backend *cur, struct xlb_backend *gone)
{
	*gone = (struct xlb_backend){.state = XLB_BE_DOWN};
	if (cur)
		memcpy(gone->mac, cur->mac, sizeof(gone->mac));
}

/* Deletes VIPs the maps have and the config does not (after a restart or a `vip del`);
 * *removed counts them. */
static int remove_stale_vips(struct xlbd *d, int *removed)
{
	int fd = bpf_map__fd(d->dp->skel->maps.xlb_vips);
	struct xlb_vip_key key, next, *prev = NULL;
	struct xlb_vip vip;
	int err = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (!xlbd_config_find_vip(&d->cfg, &key) &&
		    bpf_map_lookup_elem(fd, &key, &vip) == 0) {
			/* Table first, then the VIP: its packets then pass untouched. */
			xlb_dp_clear_table(d->dp, vip.id);
			if (vip.id < XLB_MAX_VIPS)
				d->apply.table_sig[vip.id] = 0;
			err = xlb_dp_del_vip(d->dp, &key);
			if (err)
				return err;
			(*removed)++;
			prev = NULL; /* restart the walk: the key is gone */
			continue;
		}
		prev = &key;
	}
	return 0;
}

/*
 * The fingerprint of what the VIP's published table makes of a packet: the seed, the
 * scheduler and its flag, each member (configuration order) with its address and the state
 * and weight its entry got in this apply, and the ring (ring_digest). Backend ids are left
 * out: they are each node's own. Kept to 52 bits, so that a float64 (/metrics) holds it.
 */
static __u64 fingerprint(struct xlbd *d, const struct xlbd_vip *v)
{
	__u64 h = 0xcbf29ce484222325ULL;
	const char *why;

	if (!d->apply.table_sig[v->id])
		return 0;
	h = fnv(h, "xlb-fp1", 7);
	h = fnv(h, &d->cfg.hash_seed, sizeof(d->cfg.hash_seed));
	h = fnv(h, &v->sched, sizeof(v->sched));
	h = fnv(h, &v->fwd, sizeof(v->fwd));
	h = fnv(h, &v->hash_dport, sizeof(v->hash_dport));
	for (size_t j = 0; j < v->nbe; j++) {
		const struct xlbd_backend *b = &v->be[j];
		__u8 st = xlbd_view_state(&d->view, v, b, &why);
		/* As apply_backend writes it. */
		__u32 w = st == XLB_BE_UP ? xlbd_view_weight(&d->view, v, b) : b->weight;

		h = fnv(h, &b->family, sizeof(b->family));
		h = fnv(h, &b->addr, sizeof(b->addr));
		h = fnv(h, &st, sizeof(st));
		h = fnv(h, &w, sizeof(w));
	}
	h = fnv(h, &d->apply.ring_fp[v->id], sizeof(d->apply.ring_fp[v->id]));
	h = (h ^ (h >> 52)) & XLBD_FINGERPRINT_MASK;
	return h ?: 1; /* 0: nothing published */
}

__u64 xlbd_apply_fingerprint(const struct xlbd *d, __u32 vip_id)
{
	return vip_id < XLB_MAX_VIPS ? d->apply.fp[vip_id] : 0;
}

/* Drops the tables staged and not swapped in. */
static void unstage(struct xlbd *d, struct staged *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (st[i].fd < 0)
			continue;
		munmap(st[i].t, XLB_TBL_SIZE(d->dp->ring_size));
		close(st[i].fd);
	}
}

/*
 * The staged tables into their slots with one batched update: the kernel stores every pointer
 * and then waits one grace period (6.8+: once per batch), where one update per table would wait
 * one each (~8-16 ms, docs/datapath.md), so the tables go in within microseconds of the seed.
 * Per table when the kernel has no batch for the map. A table not swapped in is built again.
 */
static int swap_all(struct xlbd *d, struct staged *st, size_t n)
{
	int outer = bpf_map__fd(d->dp->skel->maps.xlb_tables), err = 0;
	__u32 *keys = calloc(n ?: 1, sizeof(*keys)), count = n;
	int *fds = calloc(n ?: 1, sizeof(*fds));
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

	for (size_t i = 0; i < n; i++)
		munmap(st[i].t, XLB_TBL_SIZE(d->dp->ring_size));
	if (keys && fds && n) {
		for (size_t i = 0; i < n; i++) {
			keys[i] = st[i].vip_id;
			fds[i] = st[i].fd;
		}
		err = bpf_map_update_batch(outer, keys, fds, &count, &opts) ? -errno : 0;
	}
	if (!keys || !fds || err) {
		count = 0; /* what a failed batch did is unknown: every table once more */
		err = 0;
		for (size_t i = 0; i < n; i++) {
			if (bpf_map_update_elem(outer, &st[i].vip_id, &st[i].fd, BPF_ANY)) {
				d->apply.table_sig[st[i].vip_id] = 0;
				err = err ?: -errno;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		close(st[i].fd);
		st[i].fd = -1;
	}
	free(keys);
	free(fds);
	return err;
}

/*
 * A new seed (config set hash-seed, config apply): the data plane hashes new flows with the
 * seed in xlb_meta, and a Maglev ring built with another seed still names usable backends in
 * the right proportions, only not the ones the other nodes' rings name. So the window in
 * which a packet hashes with one seed into a ring built with the other is kept to the swaps
 * alone: every VIP's new table is built first (as many as XLBD_SEED_STAGE_BYTES hold; the rest
 * after, each built and swapped in turn), then the seed is written, then the staged tables
 * are swapped in, in one batch (swap_all). A failure before the seed is written changes
 * nothing.
 */
static int apply_seed(struct xlbd *d)
{
	size_t per = XLB_TBL_SIZE(d->dp->ring_size), n = 0, cap;
	struct staged *st;
	__u64 t0;
	__u32 seed;
	int err;

	err = xlb_dp_hash_seed(d->dp, &seed);
	if (err || seed == d->cfg.hash_seed)
		return err;
	cap = XLBD_SEED_STAGE_BYTES / per;
	if (cap > d->cfg.nvips)
		cap = d->cfg.nvips;
	st = calloc(cap ?: 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (size_t i = 0; !err && n < cap && i < d->cfg.nvips; i++) {
		st[n].fd = -1;
		err = apply_table(d, &d->cfg.vips[i], &st[n]);
		if (!err && st[n].fd >= 0)
			n++;
	}
	if (!err)
		err = xlb_dp_set_hash_seed(d->dp, d->cfg.hash_seed);
	if (err) {
		/* Nothing swapped in: the published tables are what their signatures say. */
		for (size_t i = 0; i < n; i++)
			d->apply.table_sig[st[i].vip_id] = 0;
		unstage(d, st, n);
		free(st);
		return err;
	}
	t0 = xlb_now_us();
	err = swap_all(d, st, n);
	pr_info("hash seed changed", "seed=%u tables=%zu swap_us=%llu", d->cfg.hash_seed, n,
		(unsigned long long)(xlb_now_us() - t0));
	free(st);
	return err;
}

int xlbd_apply(struct xlbd *d, const struct xlbd_config *old, bool full)
{
	struct xlb_backend cur, gone;
	int err, removed = 0;

	d->apply.pending = false; /* whatever asked for an apply gets this one */
	/* At start (full), the maps hold what an earlier xlbd left: its VIPs the state file no
	 * longer has go first. Added first, they could overflow the VIP map (3 pinned + 511 new >
	 * XLB_MAX_VIPS: E2BIG half-way, maps half-changed), and clearing a stale VIP's table after
	 * a new VIP took its id would empty the new one's. Nothing is lost: those VIPs go anyway,
	 * and a VIP the state file still has is kept and updated in place. */
	if (full) {
		err = remove_stale_vips(d, &removed);
		if (err)
			return err;
	}
	/* Order keeps every step hitless: VIPs and backend entries first, then the tables that
	 * name them; removals last, after the tables no longer name what goes. */
	for (size_t i = 0; i < d->cfg.nvips; i++) {
		const struct xlbd_vip *v = &d->cfg.vips[i];
		struct xlb_vip vip = {.id = v->id,
				      .sched = v->sched,
				      .fwd = v->fwd,
				      .flags = v->hash_dport ? XLB_VIP_F_HASH_DPORT : 0};

		err = xlb_dp_set_vip(d->dp, &v->key, &vip);
		/* The mode every packet of the VIP follows, its established flows' included. */
		if (!err)
			err = xlb_dp_set_vip_fwd(d->dp, v->id, v->fwd);
		for (size_t j = 0; !err && j < v->nbe; j++)
			err = apply_backend(d, v, &v->be[j]);
		if (err)
			return err;
	}
	err = apply_seed(d);
	for (size_t i = 0; !err && i < d->cfg.nvips; i++) {
		err = apply_table(d, &d->cfg.vips[i], NULL);
		if (!err)
			d->apply.fp[d->cfg.vips[i].id] = fingerprint(d, &d->cfg.vips[i]);
	}
	if (err)
		return err;
	err = remove_stale_vips(d, &removed);
	if (err)
		return err;
	if (full) {
		for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
			if (xlbd_config_backend_by_id(&d->cfg, id, NULL) ||
			    xlb_dp_get_backend(d->dp, id, &cur))
				continue;
			gone_entry(&cur, &gone);
			if (!memcmp(&cur, &gone, sizeof(cur)))
				continue;
			err = xlb_dp_set_backend(d->dp, id, &gone);
			if (err)
				return err;
		}
	} else if (old) {
		for (size_t i = 0; i < old->nvips; i++) {
			for (size_t j = 0; j < old->vips[i].nbe; j++) {
				__u32 id = old->vips[i].be[j].id;

				if (xlbd_config_backend_by_id(&d->cfg, id, NULL))
					continue;
				/* Flows still naming it see vip_id 0 and re-pick. */
				gone_entry(xlb_dp_get_backend(d->dp, id, &cur) ? NULL : &cur,
					   &gone);
				err = xlb_dp_set_backend(d->dp, id, &gone);
				if (err)
					return err;
				xlbd_macs_forget(&d->macs, id);
			}
		}
	}
	/* The data plane honours a flow entry by its VIP id without a VIP lookup: a removed VIP's
	 * entries must go before its id can be given again (flows.c). A failure is retried. */
	if (removed || full)
		xlbd_purge_stale_flows(d);
	return 0;
}

static void on_pending(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd *d = arg;
	int err;

	(void)fd, (void)what;
	if (!d->apply.pending)
		return;
	err = xlbd_apply(d, NULL, false);
	if (err) {
		/* Retried a second later (a timer, not at once: a map that keeps failing must not
		 * spin the loop); a change in between tries sooner. */
		pr_err("cannot update the maps: retrying in 1 s", "err=\"%s\"", strerror(-err));
		d->apply.pending = true;
		event_add(d->apply.ev, &(struct timeval){1, 0});
	}
}

void xlbd_apply_soon(void *arg)
{
	struct xlbd *d = arg;

	if (d->apply.pending)
		return;
	d->apply.pending = true;
	if (d->apply.ev)
		event_active(d->apply.ev, 0, 0);
}

int xlbd_apply_init(struct xlbd *d)
{
	d->apply.ev = event_new(d->base, -1, 0, on_pending, d);
	return d->apply.ev ? 0 : -ENOMEM;
}

void xlbd_apply_free(struct xlbd *d)
{
	if (d->apply.ev)
		event_free(d->apply.ev);
	d->apply.ev = NULL;
}
