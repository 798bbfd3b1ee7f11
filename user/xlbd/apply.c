/* apply.c - reconcile the maps with the desired state: VIPs, backend entries, Maglev tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Publishes the VIP's table over its usable backends, unless it is what is there. */
static int apply_table(struct xlbd *d, struct xlbd_vip *v)
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
	sig = fnv(sig, &n, sizeof(n)) | 1; /* never 0: 0 means "nothing published" */
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
		err = xlb_dp_publish_table(d->dp, v->id, members, v->nbe, ring, n ? len : 0);
	if (!err)
		d->apply.table_sig[v->id] = sig;
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
		for (size_t j = 0; !err && j < v->nbe; j++)
			err = apply_backend(d, v, &v->be[j]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < d->cfg.nvips; i++) {
		err = apply_table(d, &d->cfg.vips[i]);
		if (err)
			return err;
	}
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
