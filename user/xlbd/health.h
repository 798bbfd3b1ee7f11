/* health.h - per-backend health checks on the event loop, each feeding its circuit breaker. */
#ifndef XLBD_HEALTH_H
#define XLBD_HEALTH_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>
#include <time.h>

#include "breaker.h"
#include "probe.h"
#include "xlb_abi.h"

struct xlbd_config;
struct xlbd_vip;
struct xlbd_backend;
struct xlbd_probe;
struct xlb_dp;
struct xlbd_health;

/*
 * Health-check durations of one VIP, for xlb_health_check_duration_seconds. Bucket bounds
 * (xlbd_check_bucket_us) go from 0.1 ms (a check on the same host) to 1 s (past any sane
 * timeout); counts are per bucket here and made cumulative when printed. The VIP key says whom
 * the slot counts for: a VIP id reused by another VIP starts from zero.
 */
#define XLBD_CHECK_BUCKETS 13
extern const __u64 xlbd_check_bucket_us[XLBD_CHECK_BUCKETS];
struct xlbd_check_hist {
	struct xlb_vip_key key;
	__u64 bucket[XLBD_CHECK_BUCKETS + 1]; /* last: above the largest bound (+Inf only) */
	__u64 count;
	__u64 sum_us;
};

/* Add one observation (microseconds). */
void xlbd_check_hist_observe(struct xlbd_check_hist *h, __u64 us);

/* What the checks know of one backend (indexed by backend id). */
struct xlbd_check_state {
	struct xlbd_health *h; /* the timer's and probe's callbacks start from here */
	__u32 id;
	bool active; /* timer running, breaker initialised */
	struct xlbd_breaker br;
	struct event *timer;	  /* its check interval */
	struct xlbd_probe *probe; /* in flight */
	__u32 vip_id;		  /* what the timer was set up for */
	__u32 interval_ms;
	bool checked; /* last_* below are valid */
	bool last_ok;
	char last_err[96];
	__u64 last_latency_us;
	__u64 last_ms;	   /* when the last result came */
	__u32 ramp_weight; /* slow start: the breaker's weight when the table was last told */
	struct event *ramp_timer; /* slow start: the next step, on the wall-clock grid */
	__u32 vi, bi;		  /* where it was last found in cfg: vips[vi].be[bi] */
	bool syn_baseline;	  /* outlier detection has a syn_retries reading to compare with */
	__u64 syn_retries;	  /* ... that reading */
	__u32 outlier_strikes;	  /* consecutive seconds above the rate */
	__u64 check_failures;	  /* failed checks since the checks (re)started */
	__u64 tunnel_failures;	  /* ... of them, those whose tunnel part failed */
};

/*
 * The checks of every backend that has them. `changed` is called when what the data plane
 * should see may have changed (a circuit moved, a slow-start step): the owner applies the
 * configuration again (apply.c). Health never writes a map itself.
 */
struct xlbd_health {
	struct event_base *base;
	struct xlb_dp *dp; /* read only: SYN-retry counters for outlier detection */
	/* The tunnel checks' sources (main.c sets them after init): --tunnel-source (zero: the
	 * route's) and xlbd's interface (tunprobe.h). */
	const struct xlb_encap_src *tunnel_src;
	int ifindex;
	const struct xlbd_config *cfg; /* xlbd's desired state */
	void (*changed)(void *arg);
	void *arg;
	struct xlbd_check_state be[XLB_MAX_BACKENDS];
	struct xlbd_check_hist hist[XLB_MAX_VIPS]; /* per VIP id */
	/* Checks that an error of our own side stopped (probe.h's list): no backend's failure. */
	__u64 local_errors[XLBD_PROBE_LOCAL_ERRORS];
	__u64 local_logged_ms;	/* the last such error logged (at most one line in 10 s) */
	__u64 local_unlogged;	/* ... and how many came since */
	struct event *start_ev; /* the first loop turn: checks start then (on_started) */
	bool started;		/* checks are timed: start-up is over */
};

void xlbd_health_init(struct xlbd_health *h, struct event_base *base, struct xlb_dp *dp,
		      const struct xlbd_config *cfg, void (*changed)(void *arg), void *arg);

/*
 * Start, stop and retune checks to match cfg (after every change; old: the configuration
 * before it, NULL at start). A backend that was serving (in old and not disabled) begins with a
 * closed circuit; a new or re-enabled one must pass `rise` checks. When `starting` (xlbd's
 * start, over maps an earlier xlbd may have left), every backend is trusted but one the maps
 * show down for its circuit, which starts half-open; and no check starts before the first loop
 * turn, so none is timed across the rest of start-up.
 */
void xlbd_health_sync(struct xlbd_health *h, const struct xlbd_config *old, bool starting);
void xlbd_health_stop(struct xlbd_health *h);

/* Once a second: SYN-retry rates of closed circuits on VIPs with outlier detection. */
void xlbd_health_outlier_scan(struct xlbd_health *h);

/*
 * One check result of b: the duration goes into the VIP's histogram, a failure into the
 * backend's failure counter (health.c's probe callback calls it before it sets `checked`). A
 * probe that could not even start (not ok, latency 0) counts as a failure, not as a duration.
 */
void xlbd_health_record(struct xlbd_health *h, const struct xlbd_vip *v,
			const struct xlbd_backend *b, bool ok, __u64 latency_us);

/* CLOCK_REALTIME in ms: the clock nodes share (NTP), on which checks are phased and slow-start
 * steps fall (docs/cluster.md). Never for durations: it may jump. */
static inline __u64 xlbd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static inline const struct xlbd_check_state *xlbd_health_get(const struct xlbd_health *h, __u32 id)
{
	return &h->be[id];
}

/* The VIP's check durations, NULL when its slot counts for another VIP. */
const struct xlbd_check_hist *xlbd_health_hist(const struct xlbd_health *h,
					       const struct xlbd_vip *v);

#endif /* XLBD_HEALTH_H */
