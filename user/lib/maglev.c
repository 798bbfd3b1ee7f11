/* maglev.c - weighted Maglev lookup-table builder: permutations, weighted claims, slot filling. */
#include "maglev.h"
#include "mix.h"

#include <errno.h>
#include <stdlib.h>

/*
 * Maglev (Eisenbud et al., NSDI 2016, section 3.4) with Katran's weights: every backend has a
 * permutation of the m slots, preference j = (offset + j * skip) % m, and takes turns claiming
 * its most preferred free slot. With weights, each round every backend adds its weight to a
 * credit; when the credit reaches the largest weight it spends that much and claims one slot.
 * A claim always fills exactly one slot, so how many slots a backend gets depends on the weights
 * only; the permutations decide which slots, and so how little moves when the set changes.
 */

/* One backend in the ring: its identity and where it is in its permutation. */
struct mg_node {
	__u64 key;
	__u32 id;
	__u32 weight;
	__u32 pos;   /* its next preferred slot; starts at offset */
	__u32 back;  /* m - skip, for step(); skip in 1..m-1, m prime: the walk visits all slots */
	__u32 back2; /* m - (2 * skip % m): two steps at once */
	__u32 pad;
};

/* A heap entry: backend nodes[idx] makes its claims-th claim in round round. */
struct mg_event {
	__u64 round;
	__u32 idx;
	__u32 claims;
};

bool xlb_is_prime(__u32 n)
{
	__u32 d;

	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	/* d * d in 64 bits: for n near 2^32 the last divisor tried is 65537, whose square does not
	 * fit in 32 bits. */
	for (d = 3; (__u64)d * d <= n; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

/* Order by identity, never by input position, so any input order gives the same ring. Equal keys
 * fall back to id, then weight; entries equal in all three are interchangeable. */
static int node_cmp(const void *pa, const void *pb)
{
	const struct mg_node *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight < b->weight ? -1 : 1;
	return 0;
}

/* pos + skip (mod m) without a branch: whether a step wraps is a coin toss that a branch
 * predictor loses. pos - back (back = m - skip) goes below 0, in 32-bit arithmetic, exactly when
 * pos + skip < m, and adding m back then gives pos + skip; no intermediate overflows. */
static inline __u32 step(__u32 pos, __u32 back, __u32 m)
{
	return pos - back + (m & -(__u32)(pos < back));
}

static inline bool slot_used(const __u64 *used, __u32 pos)
{
	return (used[pos >> 6] >> (pos & 63)) & 1;
}

/*
 * Give node its most preferred free slot and step its permutation past it. Nearly all the build
 * time is here: filling the last slots takes hundreds of probes per claim (m * ln m probes in
 * all). Two interleaved walks, j even and j odd, halve the chain of dependent steps, so more
 * probes are in flight at once; preference order is kept by testing j before j + 1.
 */
static inline void claim(struct mg_node *node, __u32 m, __u64 *used, __u32 *ring)
{
	__u32 back = node->back, back2 = node->back2, p0 = node->pos, p1, pos;

	p1 = step(p0, back, m);
	for (;;) {
		if (!slot_used(used, p0)) {
			pos = p0;
			break;
		}
		if (!slot_used(used, p1)) {
			pos = p1;
			break;
		}
		p0 = step(p0, back2, m);
		p1 = step(p1, back2, m);
	}
	used[pos >> 6] |= 1ULL << (pos & 63);
	ring[pos] = node->id;
	node->pos = step(pos, back, m);
}

/*
 * Katran's rounds as written: each round every backend adds its weight to its credit and claims
 * a slot if the credit reached maxw. The credit is below maxw before the add and weight <= maxw,
 * so at most one claim per round; 64 bits because 2 * maxw can exceed 32 bits. A round first
 * lists who claims, without branching on the credits, then claims in that order.
 */
static int fill_by_rounds(struct mg_node *nodes, size_t n, __u32 maxw, __u32 m, __u64 *used,
			  __u32 *ring)
{
	__u32 *turn, filled = 0;
	size_t i, k, t;
	__u64 *credit, c;

	credit = calloc(n, sizeof(*credit));
	turn = calloc(n, sizeof(*turn));
	if (!credit || !turn) {
		free(credit);
		free(turn);
		return -ENOMEM;
	}
	for (;;) {
		for (i = 0, k = 0; i < n; i++) {
			c = credit[i] + nodes[i].weight;
			credit[i] = c >= maxw ? c - maxw : c;
			turn[k] = i;
			k += c >= maxw;
		}
		for (t = 0; t < k; t++) {
			claim(&nodes[turn[t]], m, used, ring);
			if (++filled == m)
				goto out;
		}
	}
out:
	free(credit);
	free(turn);
	return 0;
}

static bool ev_before(const struct mg_event *a, const struct mg_event *b)
{
	return a->round < b->round || (a->round == b->round && a->idx < b->idx);
}

static void sift_down(struct mg_event *heap, size_t len, size_t i)
{
	struct mg_event ev = heap[i];
	size_t child;

	while ((child = 2 * i + 1) < len) {
		if (child + 1 < len && ev_before(&heap[child + 1], &heap[child]))
			child++;
		if (!ev_before(&heap[child], &ev))
			break;
		heap[i] = heap[child];
		i = child;
	}
	heap[i] = ev;
}

/* The round in which a backend of this weight makes its claims-th claim: its credit after r
 * rounds is r * weight - (claims so far) * maxw, so claim c comes in round ceil(c * maxw / w).
 * No overflow: c <= 2^32 and maxw, w < 2^32. */
static __u64 claim_round(__u32 claims, __u32 maxw, __u32 weight)
{
	return ((__u64)claims * maxw + weight - 1) / weight;
}

/*
 * The same claims in the same order (by round, then by position in nodes[]) as fill_by_rounds(),
 * taken from a heap: O(m log n) whatever the weights. Rounds visit every backend even when few
 * claim, so one backend weighing far more than all others together costs rounds about m * n
 * steps (655373 slots, 1000 backends, one of weight 10000 among 1..10: 519 ms by rounds, 37 ms
 * by heap).
 */
static int fill_by_heap(struct mg_node *nodes, size_t n, __u32 maxw, __u32 m, __u64 *used,
			__u32 *ring)
{
	struct mg_event *heap;
	__u32 filled = 0;
	size_t i;

	heap = calloc(n, sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		heap[i].idx = i;
		heap[i].claims = 1;
		heap[i].round = claim_round(1, maxw, nodes[i].weight);
	}
	for (i = n / 2; i-- > 0;)
		sift_down(heap, n, i);
	while (filled < m) {
		struct mg_node *node = &nodes[heap[0].idx];

		claim(node, m, used, ring);
		filled++;
		heap[0].claims++;
		heap[0].round = claim_round(heap[0].claims, maxw, node->weight);
		sift_down(heap, n, 0);
	}
	free(heap);
	return 0;
}

int xlb_maglev_build(const struct xlb_maglev_backend *be, size_t n, __u32 m, __u64 seed,
		     __u32 *ring)
{
	__u64 seed_offset, seed_skip, sumw = 0;
	double rounds_cost, heap_cost;
	unsigned int depth = 1;
	struct mg_node *nodes;
	size_t i, active = 0;
	__u32 maxw = 0;
	__u64 *used;
	int err;

	if (!be || !ring || !xlb_is_prime(m) || n == 0 || n > m)
		return -EINVAL;

	nodes = calloc(n, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!be[i].weight)
			continue;
		nodes[active].key = be[i].key;
		nodes[active].id = be[i].id;
		nodes[active].weight = be[i].weight;
		if (be[i].weight > maxw)
			maxw = be[i].weight;
		sumw += be[i].weight;
		active++;
	}
	if (!active) {
		err = -EINVAL;
		goto free_nodes;
	}
	/* One bit per slot: 8 KiB for 65537 slots stays in L1, where the probes land at random. */
	used = calloc(((size_t)m + 63) / 64, sizeof(*used));
	if (!used) {
		err = -ENOMEM;
		goto free_nodes;
	}

	qsort(nodes, active, sizeof(*nodes), node_cmp);
	/* The seed is mixed before the key so that seeds and keys differing in few bits still give
	 * unrelated permutations; two unrelated finalizers keep offset and skip independent; pure
	 * integer arithmetic gives the same ring on every machine. m is prime and >= 2, so skip
	 * is in 1..m-1. */
	seed_offset = xlb_mix64_murmur(seed ^ 0x9e3779b97f4a7c15ULL);
	seed_skip = xlb_mix64_stafford(seed ^ 0x6a09e667f3bcc908ULL);
	for (i = 0; i < active; i++) {
		struct mg_node *node = &nodes[i];
		__u32 skip = xlb_mix64_stafford(node->key ^ seed_skip) % (m - 1) + 1;

		node->pos = xlb_mix64_murmur(node->key ^ seed_offset) % m;
		node->back = m - skip;
		/* 2 * skip % m is 0 only for m = 2, where back2 = m makes step() stay put: right,
		 * as two steps of 1 (mod 2) are none. */
		node->back2 = m - (__u32)((__u64)skip * 2 % m);
	}

	/* Both fills give the same ring; pick the cheaper. Claims after r rounds are at least
	 * r * sumw / maxw - active, which bounds the rounds; a heap claim costs a sift of depth
	 * levels with unpredictable branches, measured at about 6 round steps per level (1000
	 * backends, 65537 slots: weights 1..10 take 1.9 ms by rounds and 7.7 ms by heap, one
	 * weight 1000 among 1..10 takes 18 ms by rounds and 6.6 ms by heap). Estimates only, so
	 * floating point is fine here: the choice never changes the ring. */
	rounds_cost = ((double)m + active) * maxw / sumw * active;
	while (depth < 64 && (1ULL << depth) <= active)
		depth++;
	heap_cost = 6.0 * m * depth;
	if (rounds_cost <= heap_cost)
		err = fill_by_rounds(nodes, active, maxw, m, used, ring);
	else
		err = fill_by_heap(nodes, active, maxw, m, used, ring);

	free(used);
free_nodes:
	free(nodes);
	return err;
}
