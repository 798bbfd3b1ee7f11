/* mix.h - 64-bit integer finalizers: stable hashing that gives the same result on any machine. */
#ifndef XLB_MIX_H
#define XLB_MIX_H

#include <linux/types.h>

/* murmur3's fmix64. */
static inline __u64 xlb_mix64_murmur(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Stafford's mix13 (splitmix64's finalizer): unrelated to murmur's, for a second hash. */
static inline __u64 xlb_mix64_stafford(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif /* XLB_MIX_H */
