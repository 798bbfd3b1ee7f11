/* flows.c - recount active flows per backend from the flow table (least-conn's correction). */
#include <errno.h>
#include <string.h>
#include <time.h>

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
	__u64 idle = k->proto == IPPROTO_UDP ? UDP_IDLE_NS : TCP_IDLE_NS;

	if (f->backend_id < XLB_MAX_BACKENDS && !(f->flags & XLB_FLOW_F_CLOSED) &&
	    rc->now - f->last_seen_ns < idle)
		rc->n[f->backend_id]++;
	return 0;
}

/*
 * The data plane adds a flow when it starts and subtracts it at FIN/RST, but flows that end
 * silently (LRU eviction, idle clients) never subtract: this recount puts every backend's
 * count back to the live entries. Adds made while it runs may be lost once; the next recount
 * fixes them.
 */
int xlbd_recount_active(struct xlbd *d)
{
	static __s64 n[XLB_MAX_BACKENDS];
	struct timespec ts;
	struct recount rc = {.n = n};
	int err;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	rc.now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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
