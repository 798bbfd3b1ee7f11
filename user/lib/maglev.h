/* maglev.h - weighted Maglev lookup-table builder (pure C, no bpf() calls). */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct xlb_maglev_backend {
	__u64 key;    /* stable identity, e.g. xlb_addr_key(): decides the backend's permutation */
	__u32 weight; /* relative share of the ring; 0 keeps the backend out of the ring */
	__u32 id;     /* value written into the ring slots it owns */
};

bool xlb_is_prime(__u32 n);

/*
 * Fill ring[0..m) with backend ids. Deterministic for the same backends (in any order), weights,
 * m and seed on any machine. Each backend's share of slots is proportional to its weight.
 * Returns 0; -EINVAL if m is not a prime >= 2, n == 0, n > m, or no backend has a weight;
 * -ENOMEM.
 */
int xlb_maglev_build(const struct xlb_maglev_backend *be, size_t n, __u32 m, __u64 seed,
		     __u32 *ring);

#endif /* XLB_MAGLEV_H */
