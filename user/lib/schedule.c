/* schedule.c - smooth weighted round-robin schedule builder (see schedule.h). */
#include <errno.h>
#include <stdlib.h>

#include "schedule.h"

static __u64 gcd(__u64 a, __u64 b)
{
	while (b) {
		__u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int xlb_wrr_build(const __u32 *ids, const __u32 *weights, size_t n, __u32 cap, __u32 *ring)
{
	__u64 g = 0, total = 0;
	__s64 *cur;
	__u64 *w;
	int len;

	if (n == 0 || cap < n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!weights[i])
			return -EINVAL;
		g = gcd(g, weights[i]);
	}
	w = calloc(n, sizeof(*w));
	cur = calloc(n, sizeof(*cur));
	if (!w || !cur) {
		free(w);
		free(cur);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		w[i] = weights[i] / g;
		total += w[i];
	}
	if (total > cap) {
		__u64 scaled = 0;

		for (size_t i = 0; i < n; i++) {
			/* Round down, at least 1: the sum can only shrink below cap, +n at most. */
			w[i] = w[i] * (cap - n) / total;
			if (!w[i])
				w[i] = 1;
			scaled += w[i];
		}
		total = scaled;
	}
	for (__u64 step = 0; step < total; step++) {
		size_t best = 0;

		for (size_t i = 0; i < n; i++) {
			cur[i] += w[i];
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= total;
		ring[step] = ids[best];
	}
	len = total;
	free(w);
	free(cur);
	return len;
}
