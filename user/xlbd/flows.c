/* flows.c - flow-table upkeep: recount active flows per backend (least-conn's correction), delete
 * the entries of removed VIPs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "flows.h"
#include "log.h"
#include "xlbd.h"

/* A TCP flow idle this long without FIN/RST is no longer counted as active. */
#define TCP_IDLE_NS (300ULL * 1000000000ULL)
#define UDP_IDLE_NS (30ULL * 1000000000ULL)

struct recount {
	__s64 *n;
	__u64 now;
};

static int count_flow(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct recount *rc = arg;
	/* From the entry, not the key: a walk may not have the key yet (user/lib/dataplane.h). */
	__u64 idle = f->flags & XLB_FLOW_F_UDP ? UDP_IDLE_NS : TCP_IDLE_NS;
	/* A packet on another CPU may have touched the entry after rc->now was read: age 0, not
	 * an unsigned wrap that would look like an idle flow. */
	__u64 age = rc->now > f->last_seen_ns ? rc->now - f->last_seen_ns : 0;

	(void)k;
	/* Only entries the data plane counted (least-conn VIPs'): it subtracts only for those. */
	if (f->backend_id < XLB_MAX_BACKENDS && (f->flags & XLB_FLOW_F_COUNTED) &&
	    !(f->flags & XLB_FLOW_F_CLOSED) && age < idle)
		rc->n[f->backend_id]++;
	return 0;
}

/*
 * The data plane adds a least-conn VIP's flow when it starts (marking its entry counted) and
 * subtracts it at FIN/RST, re-steer or eviction, but flows that end silently (idle clients,
 * entries deleted by userspace) never subtract: this recount puts every backend's count back to its live counted entries (0
 * for the backends of other schedulers, whose flows are never counted). Adds made while it runs
 * may be lost once; the next recount fixes them.
 */
int xlbd_recount_active(struct xlbd *d)
{
	static __s64 n[XLB_MAX_BACKENDS];
	struct recount rc = {.n = n};
	int err;

	if (d->flows.purge_pending)
		xlbd_purge_stale_flows(d);
	rc.now = xlb_now_coarse_ns(); /* after the purge, which walks the whole table */
	memset(n, 0, sizeof(n));
	err = xlb_dp_for_each_flow(d->dp, count_flow, &rc);
	if (err) {
		pr_warn("cannot recount active flows", "err=\"%s\"", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < d->cfg.nvips; i++)
		for (size_t j = 0; j < d->cfg.vips[i].nbe; j++) {
			__u32 id = d->cfg.vips[i].be[j].id;

			xlb_dp_set_backend_active(d->dp, id, n[id]);
		}
	return 0;
}

/* A configured VIP by key: sorted, one binary search per flow entry. */
struct vip_ref {
	struct xlb_vip_key key;
	__u32 id;
};

static int vip_ref_cmp(const void *a, const void *b)
{
	const struct vip_ref *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

struct live_vips {
	struct vip_ref v[XLB_MAX_VIPS];
	size_t n;
};

/* An entry is stale unless the VIP of its destination is configured under the entry's VIP id.
 * An entry whose key is not written yet (k NULL) was made a moment ago, by a live VIP: kept. */
static int flow_is_stale(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	const struct live_vips *lv = arg;
	struct vip_ref want;
	const struct vip_ref *hit;

	if (!k)
		return 0;
	want = (struct vip_ref){
		.key = {.addr = k->dst, .port = k->dport, .proto = k->proto, .family = k->family}};
	hit = bsearch(&want, lv->v, lv->n, sizeof(want), vip_ref_cmp);
	return !hit || hit->id != f->vip_id;
}

/*
 * Deletes the flow entries whose VIP is gone or now has another id. The data plane forwards an
 * established packet by its entry's VIP id and the backend's vip_id alone, so a VIP id given to
 * a new VIP must not find the old VIP's entries (docs/datapath.md). Walks the whole table.
 */
void xlbd_purge_stale_flows(struct xlbd *d)
{
	static struct live_vips lv;
	size_t deleted = 0;
	int err;

	lv.n = d->cfg.nvips; /* at most XLB_MAX_VIPS - 1: ids are 1.. */
	for (size_t i = 0; i < lv.n; i++)
		lv.v[i] = (struct vip_ref){.key = d->cfg.vips[i].key, .id = d->cfg.vips[i].id};
	qsort(lv.v, lv.n, sizeof(lv.v[0]), vip_ref_cmp);
	err = xlb_dp_delete_flows(d->dp, flow_is_stale, &lv, &deleted);
	d->flows.purge_pending = err != 0;
	if (err)
		pr_warn("cannot delete the flows of removed VIPs: retrying in 10 s", "err=\"%s\"",
			strerror(-err));
	else if (deleted)
		pr_info("deleted the flows of removed VIPs", "flows=%zu", deleted);
}
