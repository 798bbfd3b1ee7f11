/* metrics.c - a snapshot of counters, maps and controller state for one scrape: reads only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "xlbd.h"

static int count_flow(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k, (void)f;
	(*(__u64 *)arg)++;
	return 0;
}

/* The routes announce.c keeps, one per VIP address. 0 or -ENOMEM (s freed). */
static int collect_routes(struct xlbd *d, struct xlbd_metrics_snap *s)
{
	const struct xlbd_announce *a = &d->announce;

	s->have_routes = a->open;
	s->drained = d->cfg.drained;
	s->route_errors = a->errors;
	s->routes = calloc(a->n ? a->n : 1, sizeof(*s->routes));
	if (!s->routes) {
		xlbd_metrics_snap_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->n; i++) {
		struct xlbd_metrics_route *r = &s->routes[s->nroutes++];
		char as[XLB_ADDRSTRLEN], ae[2 * XLB_ADDRSTRLEN];

		xlb_format_addr(&a->addrs[i].addr, a->addrs[i].family, as, sizeof(as));
		xlbd_metrics_escape(as, ae, sizeof(ae));
		snprintf(r->labels, sizeof(r->labels), "address=\"%s\"", ae);
		r->announced = a->addrs[i].announced;
		r->transitions = a->addrs[i].transitions;
	}
	return 0;
}

int xlbd_metrics_collect(struct xlbd *d, struct xlbd_metrics_snap *s)
{
	size_t nbe = 0;
	__u64 now;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < d->cfg.nvips; i++)
		nbe += d->cfg.vips[i].nbe;
	s->vips = calloc(d->cfg.nvips ? d->cfg.nvips : 1, sizeof(*s->vips));
	s->be = calloc(nbe ? nbe : 1, sizeof(*s->be));
	if (!s->vips || !s->be) {
		xlbd_metrics_snap_free(s);
		return -ENOMEM;
	}
	s->have_counters = !xlb_dp_read_counters(d->dp, s->counters);
	/*
	 * Occupancy: the table keeps no entry count, so it is walked (a scan of the mapped
	 * buckets, docs/metrics.md) on the event loop that also times health checks: it runs at
	 * most every XLBD_FLOW_COUNT_MS and scrapes in between reuse its result.
	 */
	now = xlb_now_ms();
	if (!d->metrics.flow_count_ms || now - d->metrics.flow_count_ms >= XLBD_FLOW_COUNT_MS) {
		__u64 n = 0;

		if (!xlb_dp_for_each_flow(d->dp, count_flow, &n)) {
			d->metrics.flow_count = n;
			d->metrics.flow_count_ms = now;
		}
	}
	s->have_flow_entries = d->metrics.flow_count_ms != 0;
	s->flow_entries = d->metrics.flow_count;
	s->flow_capacity = d->dp->flow_entries;
	s->config_changes = d->commands.changes;
	s->hash_seed = d->cfg.hash_seed;
	memcpy(s->check_errors, d->health.local_errors, sizeof(s->check_errors));

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];
		struct xlbd_metrics_vip *mv = &s->vips[s->nvips++];
		char vs[XLB_ADDRSTRLEN], ve[2 * XLB_ADDRSTRLEN];
		const struct xlbd_check_hist *h = xlbd_health_hist(&d->health, v);

		xlb_format_vip(&v->key, vs, sizeof(vs));
		xlbd_metrics_escape(vs, ve, sizeof(ve));
		snprintf(mv->labels, sizeof(mv->labels), "vip=\"%s\"", ve);
		mv->have_traffic = !xlb_dp_read_vip_traffic(d->dp, v->id, &mv->traffic);
		mv->checks = v->check.kind != XLB_CHECK_NONE;
		mv->fingerprint = xlbd_apply_fingerprint(d, v->id);
		if (h)
			mv->hist = *h;
		for (size_t j = 0; j < v->nbe; j++) {
			struct xlbd_backend *b = &v->be[j];
			const struct xlbd_check_state *st = xlbd_health_get(&d->health, b->id);
			struct xlbd_metrics_be *mb = &s->be[s->nbe++];
			char as[XLB_ADDRSTRLEN], ae[2 * XLB_ADDRSTRLEN];
			const char *why;

			xlb_format_addr(&b->addr, b->family, as, sizeof(as));
			xlbd_metrics_escape(as, ae, sizeof(ae));
			snprintf(mb->labels, sizeof(mb->labels), "vip=\"%s\",backend=\"%s\"", ve,
				 ae);
			mb->have_traffic = !xlb_dp_read_backend_traffic(d->dp, b->id, &mb->traffic);
			mb->have_active =
				!xlb_dp_read_backend_active(d->dp, b->id, &mb->active_flows);
			mb->state = xlbd_view_state(&d->view, v, b, &why);
			mb->weight = b->weight;
			mb->eff_weight =
				mb->state == XLB_BE_UP ? xlbd_view_weight(&d->view, v, b) : 0;
			mb->checks = xlbd_backend_check(v, b)->kind != XLB_CHECK_NONE && st->active;
			mb->circuit = st->br.state;
			mb->transitions = st->br.transitions;
			mb->check_failures = st->check_failures;
			mb->tunnel = mb->checks && xlbd_backend_check(v, b)->tunnel &&
				     v->fwd == XLB_FWD_IPIP;
			mb->tunnel_failures = st->tunnel_failures;
		}
	}
	return collect_routes(d, s);
}

void xlbd_metrics_snap_free(struct xlbd_metrics_snap *s)
{
	free(s->vips);
	free(s->be);
	free(s->routes);
	s->vips = NULL;
	s->be = NULL;
	s->routes = NULL;
	s->nvips = s->nbe = s->nroutes = 0;
}
