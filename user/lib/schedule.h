/* schedule.h - round-robin schedules for the rr and wrr schedulers (pure C, no bpf() calls). */
#ifndef XLB_SCHEDULE_H
#define XLB_SCHEDULE_H

#include <linux/types.h>
#include <stddef.h>

/*
 * Smooth weighted round robin (as in nginx): every step each backend gains its weight, the
 * richest is chosen and pays the total. Over one cycle of sum(weights) steps each backend
 * appears exactly weight times, spread out (never more than ceil(w_max/ (sum - w_max)) + 1 in
 * a row). Weights are first divided by their gcd; if the cycle is still longer than cap, they
 * are scaled down to fit (each at least 1), which keeps their ratios within rounding.
 * ids[i] is written for backend i. Returns the cycle length (>= 1), or -EINVAL (n == 0, a
 * zero weight, cap < n).
 */
int xlb_wrr_build(const __u32 *ids, const __u32 *weights, size_t n, __u32 cap, __u32 *ring);

#endif /* XLB_SCHEDULE_H */
