/* xlb_flowtab.h - the flow table's slot index, signature and entry word, shared by BPF and userspace. */
#ifndef XLB_FLOWTAB_H
#define XLB_FLOWTAB_H

/*
 * Needs xlb_abi.h (struct xlb_flow_key, struct xlb_flow_bucket). The layout and the rules are in
 * docs/datapath.md, "The flow table". The table hash is not the cluster's flow hash
 * (xlb_hash.h): that one's seed changes at run time, which would lose every entry; this one's
 * seed is drawn when the maps are created (xlb_meta.flow_seed) and kept while they are pinned.
 */

/* One 64-bit multiply-xorshift step per 8 bytes of the key: 5 words for either family (an IPv4
 * key's unused bytes are 0). Its 64 bits give the bucket (low bits) and, independently, the
 * 32-bit signature (high bits). */
static inline __u64 xlb_flowtab_hash(const struct xlb_flow_key *k, __u64 seed)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = seed ^ 0x9e3779b97f4a7c15ULL;

	h = (h ^ w[0]) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	h = (h ^ w[1]) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h = (h ^ w[2]) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	h = (h ^ w[3]) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h = (h ^ w[4]) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * A flow's second bucket: its home bucket xor a value taken from its signature alone (odd, so
 * never the home itself when there are two buckets or more). The same xor leads back, so the
 * home of an entry found in a bucket follows from the bucket, the entry's signature and its
 * XLB_FLOW_F_ALT flag, without the key.
 */
static inline __u32 xlb_flow_alt(__u32 bucket, __u32 sig, __u32 mask)
{
	return (bucket ^ (((sig * 0x9e3779b1U) >> 7) | 1)) & mask;
}

/*
 * An entry word (struct xlb_flow_bucket.ent): signature, backend, VIP and flags in one 64-bit
 * word, so that every change of them is one compare-and-swap and a reader sees all or none.
 * 0 is a free slot (a live entry always has a backend, whose ids start at 1).
 */
#define XLB_FENT_SIG_SHIFT 32
#define XLB_FENT_BE_SHIFT  16
#define XLB_FENT_VIP_SHIFT 6
#define XLB_FENT_FLAGS	   0x3fULL

static inline __u64 xlb_fent(__u32 sig, __u32 be_id, __u32 vip_id, __u32 flags)
{
	return ((__u64)sig << XLB_FENT_SIG_SHIFT) | ((__u64)(be_id & 0xffff) << XLB_FENT_BE_SHIFT) |
	       ((__u64)(vip_id & 0x3ff) << XLB_FENT_VIP_SHIFT) | (flags & XLB_FENT_FLAGS);
}

static inline __u32 xlb_fent_sig(__u64 e)
{
	return e >> XLB_FENT_SIG_SHIFT;
}

static inline __u32 xlb_fent_be(__u64 e)
{
	return (e >> XLB_FENT_BE_SHIFT) & 0xffff;
}

static inline __u32 xlb_fent_vip(__u64 e)
{
	return (e >> XLB_FENT_VIP_SHIFT) & 0x3ff;
}

static inline __u32 xlb_fent_flags(__u64 e)
{
	return e & XLB_FENT_FLAGS;
}

/* The entry word's bits that name its flow: the signature, and which of the flow's two buckets
 * holds it. A lookup of (sig, alt) matches e iff (e & XLB_FENT_WHO) == xlb_fent_who(sig, alt). */
#define XLB_FENT_WHO (0xffffffff00000000ULL | XLB_FLOW_F_ALT)

static inline __u64 xlb_fent_who(__u32 sig, int alt)
{
	return ((__u64)sig << XLB_FENT_SIG_SHIFT) | (alt ? XLB_FLOW_F_ALT : 0);
}

/* Times are 32-bit ticks of 2^XLB_FLOW_TICK_SHIFT ns (16.8 ms) of CLOCK_MONOTONIC_COARSE; an age
 * is their signed difference, so a tick written by another CPU after this one read the clock is
 * age 0, never a huge unsigned one. Range: 2^31 ticks, 417 days. */
#define XLB_FLOW_TICK_SHIFT 24

static inline __u32 xlb_flow_tick(__u64 ns)
{
	return (__u32)(ns >> XLB_FLOW_TICK_SHIFT);
}

static inline __u32 xlb_flow_age(__u32 now, __u32 seen)
{
	__s32 d = (__s32)(now - seen);

	return d > 0 ? (__u32)d : 0;
}

#endif /* XLB_FLOWTAB_H */
