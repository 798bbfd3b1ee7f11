/* health.c - per-backend health checks on the event loop, feeding each backend's circuit breaker. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "config.h"
#include "dataplane.h"
#include "health.h"
#include "log.h"
#include "probe.h"

/* 0.1 ms .. 1 s in 1-2.5-5 steps: a loopback connect is ~0.05 ms, a check timeout ~1 s. */
const __u64 xlbd_check_bucket_us[XLBD_CHECK_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

void xlbd_check_hist_observe(struct xlbd_check_hist *h, __u64 us)
{
	int i = 0;

	while (i < XLBD_CHECK_BUCKETS && us > xlbd_check_bucket_us[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

void xlbd_health_record(struct xlbd_health *h, const struct xlbd_vip *v,
			const struct xlbd_backend *b, bool ok, __u64 latency_us)
{
	struct xlbd_check_state *st = &h->be[b->id];
	struct xlbd_check_hist *hist = &h->hist[v->id];

	/* checked is false before the first result since the checks (re)started: a backend id
	 * reused by another backend starts from zero (a counter reset, which Prometheus expects). */
	if (!st->checked)
		st->check_failures = 0;
	if (!ok)
		st->check_failures++;
	if (!ok && !latency_us)
		return; /* the probe could not start: no duration to speak of */
	if (memcmp(&hist->key, &v->key, sizeof(v->key))) {
		memset(hist, 0, sizeof(*hist));
		hist->key = v->key;
	}
	xlbd_check_hist_observe(hist, latency_us);
}

const struct xlbd_check_hist *xlbd_health_hist(const struct xlbd_health *h,
					       const struct xlbd_vip *v)
{
	const struct xlbd_check_hist *hist = &h->hist[v->id];

	return memcmp(&hist->key, &v->key, sizeof(v->key)) ? NULL : hist;
}

static struct timeval ms_tv(__u32 ms)
{
	return (struct timeval){ms / 1000, (ms % 1000) * 1000};
}

/*
 * Where in its interval a backend's checks run: at a phase of the wall clock (CLOCK_REALTIME
 * modulo the interval) fixed by a hash of its address, so that every node checks a backend at
 * the same instants and sees it change at the same check (docs/cluster.md: the nodes then
 * close its circuit within a check's latency and their clocks' offset of each other, not
 * within an interval). The hash spreads backends over the interval: timers set up together
 * (start, a config change of many backends) would otherwise all fire in the same loop turn,
 * thousands of connects in a burst, then nothing. Returns the ms from now to that phase;
 * after a check (next), at least half an interval, so a timer that fires a little early does
 * not check twice.
 */
static __u32 phase_ms(const struct xlbd_backend *b, __u32 interval_ms, bool next)
{
	__u32 h = 2166136261u, phase, at, d;

	if (!interval_ms)
		return 0;
	for (size_t i = 0; i < sizeof(b->addr); i++)
		h = (h ^ b->addr.bytes[i]) * 16777619u;
	phase = h % interval_ms;
	at = xlbd_wall_ms() % interval_ms;
	d = (phase + interval_ms - at) % interval_ms;
	if (next && d < interval_ms / 2)
		d += interval_ms;
	return d ?: interval_ms;
}

static void on_ramp(evutil_socket_t fd, short what, void *arg);
static bool find(struct xlbd_health *h, __u32 id, struct xlbd_vip **vp, struct xlbd_backend **bp);

/* Slow start: a timer for the ramp's next step, at its instant on the wall-clock grid (a
 * check interval later would put the nodes a check's phase apart). */
static void arm_ramp(struct xlbd_check_state *st, const struct xlbd_breaker_policy *pol)
{
	__u64 next = xlbd_breaker_ramp_next_ms(&st->br, pol, xlb_now_ms(), xlbd_wall_ms());
	struct timeval tv;

	if (!next) {
		if (st->ramp_timer)
			evtimer_del(st->ramp_timer);
		return;
	}
	if (!st->ramp_timer)
		st->ramp_timer = evtimer_new(st->h->base, on_ramp, st);
	if (!st->ramp_timer)
		return; /* the checks' own timer still sees the steps, a little later */
	/* 1 ms past the boundary: the step is computed from the time the callback reads. */
	tv = ms_tv(next + 1);
	evtimer_add(st->ramp_timer, &tv);
}

static void on_ramp(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_check_state *st = arg;
	struct xlbd_breaker_policy pol;
	struct xlbd_backend *b;
	struct xlbd_vip *v;
	__u32 w;

	(void)fd, (void)what;
	if (!st->active || !find(st->h, st->id, &v, &b))
		return;
	pol = xlbd_check_policy(xlbd_backend_check(v, b));
	w = xlbd_breaker_weight(&st->br, &pol, b->weight, xlb_now_ms(), xlbd_wall_ms());
	if (w != st->ramp_weight) {
		st->ramp_weight = w;
		st->h->changed(st->h->arg);
	}
	arm_ramp(st, &pol);
}

/* The backend with this id and its VIP. Every check calls this: the position found last time is
 * tried first (a configuration change may have moved it), so it is O(1) between changes. */
static bool find(struct xlbd_health *h, __u32 id, struct xlbd_vip **vp, struct xlbd_backend **bp)
{
	struct xlbd_check_state *st = &h->be[id];
	const struct xlbd_config *cfg = h->cfg;

	if (st->vi < cfg->nvips && st->bi < cfg->vips[st->vi].nbe &&
	    cfg->vips[st->vi].be[st->bi].id == id) {
		*vp = &cfg->vips[st->vi];
		*bp = &(*vp)->be[st->bi];
		return true;
	}
	*bp = xlbd_config_backend_by_id(cfg, id, vp);
	if (!*bp)
		return false;
	st->vi = *vp - cfg->vips;
	st->bi = *bp - (*vp)->be;
	return true;
}

static void log_transition(const struct xlbd_check_state *st, const struct xlbd_vip *v,
			   const struct xlbd_backend *b, enum xlbd_circuit from, const char *reason)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], q[128];

	xlb_format_vip(&v->key, vs, sizeof(vs));
	xlb_format_addr(&b->addr, b->family, as, sizeof(as));
	xlb_log(st->br.state == XLBD_CIRCUIT_OPEN ? XLB_LOG_WARN : XLB_LOG_INFO,
		st->br.state == XLBD_CIRCUIT_OPEN     ? "backend down: circuit open"
		: st->br.state == XLBD_CIRCUIT_CLOSED ? "backend up: circuit closed"
						      : "backend on trial: circuit half-open",
		"vip=%s backend=%s from=%s to=%s reason=%s backoff_ms=%llu", vs, as,
		xlbd_circuit_name(from), xlbd_circuit_name(st->br.state),
		xlb_log_quote(reason, q, sizeof(q)), (unsigned long long)st->br.backoff_ms);
}

/*
 * A check that an error of our own side stopped (out of fds, buffers, ports: probe.h): the
 * backend's state, its last result and its failure count stay as they were; the next interval
 * tries again. Counted per reason and logged, at most one line in 10 s (under fd exhaustion
 * every check of every backend comes here).
 */
static void local_error(struct xlbd_health *h, const struct xlbd_vip *v,
			const struct xlbd_backend *b, int e)
{
	int i = xlbd_probe_local_error(e);
	__u64 now = xlb_now_ms();
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN];

	if (i >= 0)
		h->local_errors[i]++;
	if (h->local_logged_ms && now - h->local_logged_ms < 10000) {
		h->local_unlogged++;
		return;
	}
	xlb_format_vip(&v->key, vs, sizeof(vs));
	xlb_format_addr(&b->addr, b->family, as, sizeof(as));
	pr_warn("health check not run: error on xlbd's side, backend state kept",
		"vip=%s backend=%s reason=%s err=\"%s\" unlogged=%llu", vs, as,
		i >= 0 ? xlbd_probe_local_names[i] : "?", strerror(e),
		(unsigned long long)h->local_unlogged);
	h->local_logged_ms = now;
	h->local_unlogged = 0;
}

static void on_probe(void *arg, bool ok, const char *err, __u64 latency_us, int local,
		     bool tunnel_failed)
{
	struct xlbd_check_state *st = arg;
	struct xlbd_health *h = st->h;
	struct xlbd_breaker_policy pol;
	struct xlbd_backend *b;
	struct xlbd_vip *v;
	enum xlbd_circuit from = st->br.state;

	st->probe = NULL;
	if (!find(h, st->id, &v, &b))
		return;
	if (local)
		return local_error(h, v, b, local);
	if (!st->checked)
		st->tunnel_failures = 0; /* as check_failures (xlbd_health_record) */
	st->tunnel_failures += tunnel_failed;
	xlbd_health_record(h, v, b, ok, latency_us); /* before `checked` is set */
	st->checked = true;
	st->last_ok = ok;
	snprintf(st->last_err, sizeof(st->last_err), "%s", ok ? "" : err);
	st->last_latency_us = latency_us;
	st->last_ms = xlb_now_ms();
	pol = xlbd_check_policy(xlbd_backend_check(v, b));
	if (!ok && st->br.state == XLBD_CIRCUIT_CLOSED && st->br.fails == 0) {
		char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], q[128];

		/* The first failure of a run, not every one: logs stay readable. */
		xlb_format_vip(&v->key, vs, sizeof(vs));
		xlb_format_addr(&b->addr, b->family, as, sizeof(as));
		pr_info("health check failed", "vip=%s backend=%s err=%s", vs, as,
			xlb_log_quote(err, q, sizeof(q)));
	}
	if (xlbd_breaker_result(&st->br, &pol, ok, st->last_ms)) {
		log_transition(st, v, b, from, ok ? "checks passed" : err);
		st->ramp_weight =
			xlbd_breaker_weight(&st->br, &pol, b->weight, st->last_ms, xlbd_wall_ms());
		arm_ramp(st, &pol);
		h->changed(
			h->arg); /* applied this loop turn: stateless failover re-steers its flows */
	}
}

static void start_probe(struct xlbd_health *h, const struct xlbd_vip *v,
			const struct xlbd_backend *b)
{
	struct xlbd_check_state *st = &h->be[b->id];
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
	/* Through the tunnel too, where the packets go through one (docs/xlbd.md). */
	if (c->tunnel && v->fwd == XLB_FWD_IPIP) {
		s.tunnel = true;
		s.tun = (struct xlbd_tunprobe_spec){
			.family = b->family,
			.addr = b->addr,
			.vip_family = v->key.family,
			.vip = v->key.addr,
			.ifindex = h->ifindex,
		};
		if (h->tunnel_src) {
			s.tun.src =
				b->family == XLB_AF_INET ? h->tunnel_src->v4 : h->tunnel_src->v6;
			s.tun.vip_src = v->key.family == XLB_AF_INET ? h->tunnel_src->v4
								     : h->tunnel_src->v6;
		}
	}
	err = xlbd_probe_start(h->base, &s, on_probe, st, &st->probe);
	if (err) {
		st->probe = NULL;
		on_probe(st, false, strerror(-err), 0, xlbd_probe_local_error(-err) >= 0 ? -err : 0,
			 false);
	}
}

static void on_interval(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_check_state *st = arg;
	struct xlbd_health *h = st->h;
	struct xlbd_breaker_policy pol;
	struct xlbd_backend *b;
	struct xlbd_vip *v;
	enum xlbd_circuit from = st->br.state;
	bool changed = false;
	__u64 now = xlb_now_ms();
	__u32 w;

	(void)fd, (void)what;
	if (!find(h, st->id, &v, &b))
		return;
	/* The next check at the backend's phase on the wall clock again: every period is
	 * re-aligned, so the monotonic timer never drifts from the other nodes' phase. */
	{
		struct timeval tv = ms_tv(phase_ms(b, st->interval_ms, true));

		event_add(st->timer, &tv);
	}
	pol = xlbd_check_policy(xlbd_backend_check(v, b));
	if (xlbd_breaker_tick(&st->br, &pol, now)) {
		log_transition(st, v, b, from, "back-off elapsed");
		changed = true;
	}
	/* Slow start: the ramp moves in steps; the table is rebuilt when the step changes (the
	 * ramp timer sees it first, at the step's instant; this is in case it could not). */
	w = xlbd_breaker_weight(&st->br, &pol, b->weight, now, xlbd_wall_ms());
	changed |= w != st->ramp_weight;
	st->ramp_weight = w;
	if (changed)
		h->changed(h->arg);
	if (!st->probe)
		start_probe(h, v, b);
}

static void stop_backend(struct xlbd_check_state *st)
{
	if (st->probe)
		xlbd_probe_cancel(st->probe);
	if (st->timer)
		event_free(st->timer);
	if (st->ramp_timer)
		event_free(st->ramp_timer);
	st->probe = NULL;
	st->timer = NULL;
	st->ramp_timer = NULL;
	st->active = false;
	st->checked = false;
	st->syn_baseline = false;
}

void xlbd_health_init(struct xlbd_health *h, struct event_base *base, struct xlb_dp *dp,
		      const struct xlbd_config *cfg, void (*changed)(void *arg), void *arg)
{
	h->base = base;
	h->dp = dp;
	h->cfg = cfg;
	h->changed = changed;
	h->arg = arg;
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++) {
		h->be[id].h = h;
		h->be[id].id = id;
	}
}

/*
 * The trust rule: a backend was serving in old when it was there and not disabled (its checks
 * stopped, it had no traffic: its last check may well have failed). Drain counts as serving:
 * a draining backend keeps its flows, and its checks ran.
 */
static bool was_serving(const struct xlbd_config *old, __u32 id)
{
	const struct xlbd_backend *ob = xlbd_config_backend_by_id(old, id, NULL);

	return ob && ob->admin != XLB_ADMIN_DISABLED;
}

/*
 * After a restart: what the last xlbd published for b, from the reused maps. A backend it had
 * down with a MAC, checked and not disabled (the same state file: the same admin) was down for
 * its circuit, open or half-open: it starts half-open, taking no traffic until `rise` checks
 * pass. Anything else (new maps, a MAC unknown, another backend in that slot) is trusted.
 */
static bool was_down_for_circuit(const struct xlbd_health *h, const struct xlbd_vip *v,
				 const struct xlbd_backend *b)
{
	static const __u8 zero[6];
	struct xlb_backend cur;

	if (!h->dp || xlb_dp_get_backend(h->dp, b->id, &cur))
		return false;
	return cur.vip_id == v->id && cur.family == b->family &&
	       !memcmp(&cur.addr, &b->addr, sizeof(b->addr)) && memcmp(cur.mac, zero, 6) &&
	       cur.state == XLB_BE_DOWN;
}

/* Start a backend's clock: its timer (first period spread over the interval) and a first
 * check now, not an interval from now. */
static void arm(struct xlbd_health *h, struct xlbd_check_state *st, const struct xlbd_vip *v,
		const struct xlbd_backend *b)
{
	struct timeval tv = ms_tv(phase_ms(b, st->interval_ms, false));

	event_add(st->timer, &tv);
	if (!st->probe)
		start_probe(h, v, b);
}

/*
 * The first loop turn after start-up: only now do checks start. Start-up (maps, tables, attach)
 * blocks the loop for about as long as a check's timeout; a check started before it would
 * be timed across it, and time out while its answer waits unread.
 */
static void on_started(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_health *h = arg;

	(void)fd, (void)what;
	h->started = true;
	for (size_t i = 0; i < h->cfg->nvips; i++) {
		const struct xlbd_vip *v = &h->cfg->vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			struct xlbd_check_state *st = &h->be[v->be[j].id];

			if (st->active && st->timer && !evtimer_pending(st->timer, NULL))
				arm(h, st, v, &v->be[j]);
		}
	}
}

void xlbd_health_sync(struct xlbd_health *h, const struct xlbd_config *old, bool starting)
{
	static bool wanted[XLB_MAX_BACKENDS];
	__u64 now = xlb_now_ms();

	if (starting && !h->start_ev) {
		struct timeval zero = {0, 0};

		/* A timer, not an active event: it runs after the events start-up activated. */
		h->start_ev = evtimer_new(h->base, on_started, h);
		if (h->start_ev)
			evtimer_add(h->start_ev, &zero);
		else
			h->started = true;
	}

	memset(wanted, 0, sizeof(wanted));
	for (size_t i = 0; i < h->cfg->nvips; i++) {
		const struct xlbd_vip *v = &h->cfg->vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			const struct xlbd_backend *b = &v->be[j];
			struct xlbd_check_state *st = &h->be[b->id];
			const struct xlbd_check *c = xlbd_backend_check(v, b);
			struct xlbd_breaker_policy pol = xlbd_check_policy(c);

			if (c->kind == XLB_CHECK_NONE || b->admin == XLB_ADMIN_DISABLED)
				continue;
			wanted[b->id] = true;
			/* A backend that was already serving (restart, or checks switched on for
			 * it) starts closed; a new one, or one that was disabled, must pass `rise`
			 * checks first. */
			if (!st->active) {
				bool trust = starting ? !was_down_for_circuit(h, v, b)
						      : was_serving(old, b->id);

				xlbd_breaker_init(&st->br, trust, now);
				if (starting && !trust)
					log_transition(st, v, b, XLBD_CIRCUIT_OPEN,
						       "down in the maps before the restart");
			}
			/* A weight given since the last look is no slow-start step. */
			st->ramp_weight =
				xlbd_breaker_weight(&st->br, &pol, b->weight, now, xlbd_wall_ms());
			if (st->active && st->vip_id == v->id && st->interval_ms == c->interval_ms)
				continue;
			if (st->timer)
				event_free(st->timer);
			st->timer = event_new(h->base, -1, EV_PERSIST, on_interval, st);
			if (!st->timer)
				continue;
			st->active = true;
			st->vip_id = v->id;
			st->interval_ms = c->interval_ms;
			if (h->started)
				arm(h, st, v, b); /* else on_started does, once start-up is over */
		}
	}
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
		if (h->be[id].active && !wanted[id])
			stop_backend(&h->be[id]);
}

void xlbd_health_stop(struct xlbd_health *h)
{
	if (h->start_ev)
		event_free(h->start_ev);
	h->start_ev = NULL;
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
		if (h->be[id].active || h->be[id].probe)
			stop_backend(&h->be[id]);
}

/*
 * Under DSR the LB never sees a backend's answers, but a client that gets none retries its
 * SYN, and the data plane counts those per backend. `fall` consecutive seconds at or above
 * outlier_rate open the circuit as `fall` failed checks would; the checks then decide when
 * it may close again (a backend that answers checks but drops traffic flaps, and its back-off
 * grows).
 */
void xlbd_health_outlier_scan(struct xlbd_health *h)
{
	bool changed = false;

	for (size_t i = 0; i < h->cfg->nvips; i++) {
		const struct xlbd_vip *v = &h->cfg->vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			const struct xlbd_backend *b = &v->be[j];
			struct xlbd_check_state *st = &h->be[b->id];
			const struct xlbd_check *c = xlbd_backend_check(v, b);
			struct xlbd_breaker_policy pol = xlbd_check_policy(c);
			struct xlb_traffic t;
			__u64 delta;

			/* Read only where detection is on: a map lookup per backend and second
			 * otherwise (8,000 syscalls a second for as many checked backends). */
			if (!c->outlier || !st->active) {
				st->outlier_strikes = 0;
				st->syn_baseline = false;
				continue;
			}
			if (xlb_dp_read_backend_traffic(h->dp, b->id, &t))
				continue;
			delta = t.syn_retries - st->syn_retries;
			st->syn_retries = t.syn_retries;
			if (!st->syn_baseline || st->br.state != XLBD_CIRCUIT_CLOSED) {
				/* The first reading is only a baseline: the counter holds all retries
				 * since the data plane started, not the last second's. */
				st->syn_baseline = true;
				st->outlier_strikes = 0;
				continue;
			}
			st->outlier_strikes =
				delta >= c->outlier_rate ? st->outlier_strikes + 1 : 0;
			if (st->outlier_strikes < c->fall)
				continue;
			st->outlier_strikes = 0;
			if (xlbd_breaker_trip(&st->br, &pol, xlb_now_ms())) {
				char reason[64];

				snprintf(reason, sizeof(reason), "syn retries %llu/s",
					 (unsigned long long)delta);
				log_transition(st, v, b, XLBD_CIRCUIT_CLOSED, reason);
				st->ramp_weight = b->weight; /* open: no ramp */
				changed = true;
			}
		}
	}
	if (changed)
		h->changed(h->arg);
}
