/* xlb_hash.h - the flow hash, shared so that userspace can predict the data plane's picks. */
#ifndef XLB_HASH_H
#define XLB_HASH_H

/* Needs struct xlb_flow_key (xlb_abi.h). Murmur3-style mixing over 32-bit words: fast in BPF,
 * no loops, same result on any machine (words are hashed as stored, network byte order). */

static inline __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline __u32 xlb_hash_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = xlb_rotl32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = xlb_rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

static inline __u32 xlb_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Hash of a flow: all of the 5-tuple, or only the source address when src_only is set
 * (source-IP hashing). */
static inline __u32 xlb_flow_hash(const struct xlb_flow_key *k, __u32 seed, int src_only)
{
	__u32 h = seed;

	if (k->family == XLB_AF_INET) {
		h = xlb_hash_mix(h, k->src.v4);
		if (src_only)
			return xlb_hash_final(h ^ 4);
		h = xlb_hash_mix(h, k->dst.v4);
	} else {
		h = xlb_hash_mix(h, k->src.v6[0]);
		h = xlb_hash_mix(h, k->src.v6[1]);
		h = xlb_hash_mix(h, k->src.v6[2]);
		h = xlb_hash_mix(h, k->src.v6[3]);
		if (src_only)
			return xlb_hash_final(h ^ 16);
		h = xlb_hash_mix(h, k->dst.v6[0]);
		h = xlb_hash_mix(h, k->dst.v6[1]);
		h = xlb_hash_mix(h, k->dst.v6[2]);
		h = xlb_hash_mix(h, k->dst.v6[3]);
	}
	h = xlb_hash_mix(h, ((__u32)k->sport << 16) | k->dport);
	h = xlb_hash_mix(h, k->proto);
	return xlb_hash_final(h ^ 40);
}

/* The hash for failover try n (n >= 1): derived from the first, so one flow always walks the
 * same sequence of slots on every LB node. */
static inline __u32 xlb_rehash(__u32 h, __u32 n)
{
	return xlb_hash_final(h ^ (n * 0x9e3779b9));
}

/* The xlb_vip_filter slot of an address: its words folded, then a multiplicative hash (an IPv4
 * address has only its first word; the other three are 0). */
static inline __u32 xlb_vip_filter_slot(const struct xlb_addr *a)
{
	__u32 x = a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3];

	return (x * 0x9e3779b1u) >> (32 - XLB_VIP_FILTER_BITS);
}

#endif /* XLB_HASH_H */
