/* health.c - per-backend health checks on the event loop, feeding each backend's circuit breaker. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "xlbd.h"

/* A probe callback needs the daemon and the backend id; ids index d->be. */
struct probe_ctx {
	struct xlbd *d;
	__u32 id;
	bool offset; /* the timer runs its first, shorter period (spread_ms) */
};
static struct probe_ctx ctxs[XLB_MAX_BACKENDS];
/* Outlier detection has a syn_retries reading of this backend to take a difference from. */
static bool syn_baseline[XLB_MAX_BACKENDS];

static struct timeval ms_tv(__u32 ms)
{
	return (struct timeval){ms / 1000, (ms % 1000) * 1000};
}

/*
 * Where in its interval a backend's checks run: 1..interval_ms after its timer starts, fixed
 * per id (multiplicative hash). Timers set up together (start, a config change of many
 * backends) would otherwise all fire in the same loop turn: thousands of connects in a burst,
 * queued behind each other and against the listeners' backlogs, then nothing.
 */
static __u32 spread_ms(__u32 id, __u32 interval_ms)
{
	return interval_ms ? 1 + (__u32)(id * 2654435761u) % interval_ms : 0;
}

__u64 xlbd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

struct xlbd_breaker_policy xlbd_check_policy(const struct xlbd_check *c)
{
	return (struct xlbd_breaker_policy){
		.rise = c->rise,
		.fall = c->fall,
		.backoff_initial_ms = c->backoff_ms,
		.backoff_max_ms = c->backoff_max_ms,
		.slow_start_ms = c->slow_start_ms,
	};
}

/* The backend with this id and its VIP. Every check calls this: the position found last time is
 * tried first (a configuration change may have moved it), so it is O(1) between changes. */
static bool find(struct xlbd *d, __u32 id, struct xlbd_vip **vp, struct xlbd_backend **bp)
{
	struct xlbd_be_rt *rt = &d->be[id];

	if (rt->vi < d->cfg.nvips && rt->bi < d->cfg.vips[rt->vi].nbe &&
	    d->cfg.vips[rt->vi].be[rt->bi].id == id) {
		*vp = &d->cfg.vips[rt->vi];
		*bp = &(*vp)->be[rt->bi];
		return true;
	}
	*bp = xlbd_config_backend_by_id(&d->cfg, id, vp);
	if (!*bp)
		return false;
	rt->vi = *vp - d->cfg.vips;
	rt->bi = *bp - (*vp)->be;
	return true;
}

static void log_transition(struct xlbd *d, const struct xlbd_vip *v, const struct xlbd_backend *b,
			   enum xlbd_circuit from, const char *reason)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], q[128];
	struct xlbd_be_rt *rt = &d->be[b->id];

	xlb_format_vip(&v->key, vs, sizeof(vs));
	xlb_format_addr(&b->addr, b->family, as, sizeof(as));
	xlb_log(rt->br.state == XLBD_CIRCUIT_OPEN ? XLB_LOG_WARN : XLB_LOG_INFO,
		rt->br.state == XLBD_CIRCUIT_OPEN     ? "backend down: circuit open"
		: rt->br.state == XLBD_CIRCUIT_CLOSED ? "backend up: circuit closed"
						      : "backend on trial: circuit half-open",
		"vip=%s backend=%s from=%s to=%s reason=%s backoff_ms=%llu", vs, as,
		xlbd_circuit_name(from), xlbd_circuit_name(rt->br.state),
		xlb_log_quote(reason, q, sizeof(q)), (unsigned long long)rt->br.backoff_ms);
}

/* Push what changed (state or slow-start weight) into the maps. */
static void reapply(struct xlbd *d)
{
	int err = xlbd_apply(d, NULL, false);

	if (err)
		pr_err("cannot update the maps", "err=\"%s\"", strerror(-err));
}

static void on_probe(void *arg, bool ok, const char *err, __u64 latency_us)
{
	struct probe_ctx *c = arg;
	struct xlbd *d = c->d;
	struct xlbd_be_rt *rt = &d->be[c->id];
	struct xlbd_breaker_policy pol;
	struct xlbd_backend *b;
	struct xlbd_vip *v;
	enum xlbd_circuit from = rt->br.state;

	rt->probe = NULL;
	if (!find(d, c->id, &v, &b))
		return;
	xlbd_metrics_check_result(d, v, b, ok, latency_us); /* before `checked` is set */
	rt->checked = true;
	rt->last_ok = ok;
	snprintf(rt->last_err, sizeof(rt->last_err), "%s", ok ? "" : err);
	rt->last_latency_us = latency_us;
	rt->last_ms = xlbd_now_ms();
	pol = xlbd_check_policy(xlbd_backend_check(v, b));
	if (!ok && rt->br.state == XLBD_CIRCUIT_CLOSED && rt->br.fails == 0) {
		char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], q[128];

		/* The first failure of a run, not every one: logs stay readable. */
		xlb_format_vip(&v->key, vs, sizeof(vs));
		xlb_format_addr(&b->addr, b->family, as, sizeof(as));
		pr_info("health check failed", "vip=%s backend=%s err=%s", vs, as,
			xlb_log_quote(err, q, sizeof(q)));
	}
	if (xlbd_breaker_result(&rt->br, &pol, ok, rt->last_ms)) {
		log_transition(d, v, b, from, ok ? "checks passed" : err);
		reapply(d); /* at once: stateless failover re-steers its flows */
	}
}

static void start_probe(struct xlbd *d, const struct xlbd_vip *v, const struct xlbd_backend *b)
{
	struct xlbd_be_rt *rt = &d->be[b->id];
	const struct xlbd_check *c = xlbd_backend_check(v, b);
	struct xlbd_probe_spec s = {
		.kind = c->kind,
		.addr = b->addr,
		.family = b->family,
		.port = c->port ? c->port : ntohs(v->key.port),
		.timeout_ms = c->timeout_ms,
		.status_lo = c->status_lo,
		.status_hi = c->status_hi,
	};
	int err;

	memcpy(s.path, c->path, sizeof(s.path));
	memcpy(s.host, c->host, sizeof(s.host));
	memcpy(s.payload, c->payload, sizeof(s.payload));
	err = xlbd_probe_start(d->base, &s, on_probe, &ctxs[b->id], &rt->probe);
	if (err) {
		rt->probe = NULL;
		on_probe(&ctxs[b->id], false, strerror(-err), 0);
	}
}

static void on_interval(evutil_socket_t fd, short what, void *arg)
{
	struct probe_ctx *c = arg;
	struct xlbd *d = c->d;
	struct xlbd_be_rt *rt = &d->be[c->id];
	struct xlbd_breaker_policy pol;
	struct xlbd_backend *b;
	struct xlbd_vip *v;
	enum xlbd_circuit from = rt->br.state;
	bool changed = false;

	(void)fd, (void)what;
	if (c->offset) { /* from now on, every interval */
		struct timeval tv = ms_tv(rt->interval_ms);

		c->offset = false;
		event_add(rt->timer, &tv);
	}
	if (!find(d, c->id, &v, &b))
		return;
	pol = xlbd_check_policy(xlbd_backend_check(v, b));
	if (xlbd_breaker_tick(&rt->br, &pol, xlbd_now_ms())) {
		log_transition(d, v, b, from, "back-off elapsed");
		changed = true;
	}
	/* Slow start: the ramp moves in steps; republish when the step changes. */
	const char *why;
	if (xlbd_backend_dp_state(d, v, b, &why) == XLB_BE_UP &&
	    xlbd_backend_weight(d, v, b) != rt->eff_weight)
		changed = true;
	if (changed)
		reapply(d);
	if (!rt->probe)
		start_probe(d, v, b);
}

static void stop_backend(struct xlbd *d, __u32 id)
{
	struct xlbd_be_rt *rt = &d->be[id];

	if (rt->probe)
		xlbd_probe_cancel(rt->probe);
	if (rt->timer)
		event_free(rt->timer);
	rt->probe = NULL;
	rt->timer = NULL;
	rt->active = false;
	rt->checked = false;
	syn_baseline[id] = false;
}

void xlbd_health_sync(struct xlbd *d, const struct xlbd_config *old)
{
	static bool wanted[XLB_MAX_BACKENDS];
	__u64 now = xlbd_now_ms();

	memset(wanted, 0, sizeof(wanted));
	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			struct xlbd_backend *b = &v->be[j];
			struct xlbd_be_rt *rt = &d->be[b->id];
			const struct xlbd_check *c = xlbd_backend_check(v, b);
			struct timeval tv = ms_tv(spread_ms(b->id, c->interval_ms));

			if (c->kind == XLBD_CHECK_NONE || b->admin == XLBD_ADMIN_DISABLED)
				continue;
			wanted[b->id] = true;
			if (rt->active && rt->vip_id == v->id && rt->interval_ms == c->interval_ms)
				continue;
			/* A backend that was already serving (restart, or checks switched on for
			 * it) starts closed; a new one must pass `rise` checks first. */
			if (!rt->active)
				xlbd_breaker_init(
					&rt->br,
					d->starting || xlbd_config_backend_by_id(old, b->id, NULL),
					now);
			if (rt->timer)
				event_free(rt->timer);
			ctxs[b->id] = (struct probe_ctx){d, b->id, true};
			rt->timer = event_new(d->base, -1, EV_PERSIST, on_interval, &ctxs[b->id]);
			if (!rt->timer)
				continue;
			event_add(rt->timer, &tv);
			rt->active = true;
			rt->vip_id = v->id;
			rt->interval_ms = c->interval_ms;
			if (!rt->probe)
				start_probe(d, v,
					    b); /* first check now, not an interval from now */
		}
	}
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
		if (d->be[id].active && !wanted[id])
			stop_backend(d, id);
}

void xlbd_health_stop(struct xlbd *d)
{
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
		if (d->be[id].active || d->be[id].probe)
			stop_backend(d, id);
}

/*
 * Under DSR the LB never sees a backend's answers, but a client that gets none retries its
 * SYN, and the data plane counts those per backend. `fall` consecutive seconds at or above
 * outlier_rate open the circuit as `fall` failed checks would; the checks then decide when
 * it may close again (a backend that answers checks but drops traffic flaps, and its back-off
 * grows).
 */
void xlbd_outlier_scan(struct xlbd *d)
{
	bool changed = false;

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			struct xlbd_backend *b = &v->be[j];
			struct xlbd_be_rt *rt = &d->be[b->id];
			const struct xlbd_check *c = xlbd_backend_check(v, b);
			struct xlbd_breaker_policy pol = xlbd_check_policy(c);
			struct xlb_traffic t;
			__u64 delta;

			/* Read only where detection is on: a map lookup per backend and second
			 * otherwise (8,000 syscalls a second for as many checked backends). */
			if (!c->outlier || !rt->active) {
				rt->outlier_strikes = 0;
				syn_baseline[b->id] = false;
				continue;
			}
			if (xlb_dp_read_backend_traffic(d->dp, b->id, &t))
				continue;
			delta = t.syn_retries - rt->syn_retries;
			rt->syn_retries = t.syn_retries;
			if (!syn_baseline[b->id] || rt->br.state != XLBD_CIRCUIT_CLOSED) {
				/* The first reading is only a baseline: the counter holds all retries
				 * since the data plane started, not the last second's. */
				syn_baseline[b->id] = true;
				rt->outlier_strikes = 0;
				continue;
			}
			rt->outlier_strikes =
				delta >= c->outlier_rate ? rt->outlier_strikes + 1 : 0;
			if (rt->outlier_strikes < c->fall)
				continue;
			rt->outlier_strikes = 0;
			if (xlbd_breaker_trip(&rt->br, &pol, xlbd_now_ms())) {
				char reason[64];

				snprintf(reason, sizeof(reason), "syn retries %llu/s",
					 (unsigned long long)delta);
				log_transition(d, v, b, XLBD_CIRCUIT_CLOSED, reason);
				changed = true;
			}
		}
	}
	if (changed)
		reapply(d);
}
