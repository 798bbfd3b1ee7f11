/* clock.h - the monotonic clock xlbd's timers, circuits and ages are measured on. */
#ifndef XLB_CLOCK_H
#define XLB_CLOCK_H

#include <linux/types.h>
#include <time.h>

/* CLOCK_MONOTONIC: timers, circuits, check latencies. */
static inline __u64 xlb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline __u64 xlb_now_us(void)
{
	return xlb_now_ns() / 1000;
}

/* CLOCK_MONOTONIC_COARSE, the clock of the data plane's bpf_ktime_get_coarse_ns(), which stamps
 * flow entries: ages of flow entries are measured on it. */
static inline __u64 xlb_now_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline __u64 xlb_now_ms(void)
{
	return xlb_now_ns() / 1000000;
}

#endif /* XLB_CLOCK_H */
