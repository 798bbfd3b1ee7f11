/* test_maglev.c - unit tests of the weighted Maglev builder: validity, balance, disruption. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "addr.h"
#include "maglev.h"

#define M_SMALL 65537  /* XLB_DEFAULT_RING_SIZE */
#define M_LARGE 655373 /* XLB_MAX_RING_SIZE */

/* splitmix64: a fixed-seed generator, so every run tests the same "random" cases. */
static __u64 rng_state;

static void rng_seed(__u64 seed)
{
	rng_state = seed;
}

static __u64 rng_next(void)
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 rng_below(__u32 n)
{
	return rng_next() % n;
}

/* Realistic, structured keys: the identities of 10.0.0.1, 10.0.0.2, ...; ids 1..n, weight 1. */
static struct xlb_maglev_backend *make_backends(size_t n)
{
	struct xlb_maglev_backend *be = calloc(n, sizeof(*be));
	struct xlb_addr addr;
	size_t i;

	if (!be)
		return NULL;
	for (i = 0; i < n; i++) {
		memset(&addr, 0, sizeof(addr));
		addr.bytes[0] = 10;
		addr.bytes[2] = (i + 1) >> 8;
		addr.bytes[3] = (i + 1) & 0xff;
		be[i].key = xlb_addr_key(&addr, XLB_AF_INET);
		be[i].id = i + 1;
		be[i].weight = 1;
	}
	return be;
}

static void shuffle(struct xlb_maglev_backend *be, size_t n)
{
	struct xlb_maglev_backend tmp;
	size_t i, j;

	for (i = n - 1; i > 0; i--) {
		j = rng_below(i + 1);
		tmp = be[i];
		be[i] = be[j];
		be[j] = tmp;
	}
}

static size_t count_changed(const __u32 *a, const __u32 *b, __u32 m)
{
	size_t i, changed = 0;

	for (i = 0; i < m; i++)
		changed += a[i] != b[i];
	return changed;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The textbook algorithm, written from the paper and not from maglev.c: explicit permutation
 * (offset + j * skip) % m with multiplication and modulo, Katran's credit rounds, backends in
 * (key, id) order. Same hashes as maglev.c, which they must be (the golden test pins them). */
static __u64 ref_murmur(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static __u64 ref_stafford(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int ref_cmp(const void *pa, const void *pb)
{
	const struct xlb_maglev_backend *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->weight < b->weight ? -1 : a->weight > b->weight;
}

static int ref_build(const struct xlb_maglev_backend *in, size_t n, __u32 m, __u64 seed,
		     __u32 *ring)
{
	struct xlb_maglev_backend *be = calloc(n, sizeof(*be));
	__u64 *offset = calloc(n, 8), *skip = calloc(n, 8), *next = calloc(n, 8);
	__u64 *credit = calloc(n, 8), maxw = 0, filled = 0, c;
	char *taken = calloc(m, 1);
	size_t i, k = 0;
	int err = -ENOMEM;

	if (!be || !offset || !skip || !next || !credit || !taken)
		goto out;
	for (i = 0; i < n; i++)
		if (in[i].weight)
			be[k++] = in[i];
	qsort(be, k, sizeof(*be), ref_cmp);
	for (i = 0; i < k; i++) {
		offset[i] = ref_murmur(be[i].key ^ ref_murmur(seed ^ 0x9e3779b97f4a7c15ULL)) % m;
		skip[i] = ref_stafford(be[i].key ^ ref_stafford(seed ^ 0x6a09e667f3bcc908ULL)) %
				  (m - 1) +
			  1;
		if (be[i].weight > maxw)
			maxw = be[i].weight;
	}
	while (filled < m) {
		for (i = 0; i < k && filled < m; i++) {
			credit[i] += be[i].weight;
			if (credit[i] < maxw)
				continue;
			credit[i] -= maxw;
			do
				c = (offset[i] + next[i]++ * skip[i]) % m;
			while (taken[c]);
			taken[c] = 1;
			ring[c] = be[i].id;
			filled++;
		}
	}
	err = 0;
out:
	free(be);
	free(offset);
	free(skip);
	free(next);
	free(credit);
	free(taken);
	return err;
}

static void test_is_prime(void)
{
	static const __u32 primes[] = {2, 3, 5, 13, 65521, 65537, 655373, 4294967291U};
	static const __u32 composites[] = {0, 1, 4, 6, 9, 10, 561, 65535, 65536, 131042, 655371,
					   /* 65521^2: the loop must reach d = 65521 */
					   4293001441U, 4294967295U};
	size_t i;

	for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		ASSERT_TRUE(xlb_is_prime(primes[i]), "prime");
	for (i = 0; i < sizeof(composites) / sizeof(composites[0]); i++)
		if (!ASSERT_TRUE(!xlb_is_prime(composites[i]), "composite"))
			fprintf(stderr, "    %u taken for a prime\n", composites[i]);
}

static void test_bad_inputs(void)
{
	struct xlb_maglev_backend be[5] = {
		{.key = 1, .weight = 1, .id = 1}, {.key = 2, .weight = 1, .id = 2},
		{.key = 3, .weight = 1, .id = 3}, {.key = 4, .weight = 1, .id = 4},
		{.key = 5, .weight = 1, .id = 5},
	};
	struct xlb_maglev_backend zero[2] = {{.key = 1, .id = 1}, {.key = 2, .id = 2}};
	__u32 ring[65536];

	ASSERT_EQ(xlb_maglev_build(be, 5, 65536, 0, ring), -EINVAL, "m not prime");
	ASSERT_EQ(xlb_maglev_build(be, 5, 65535, 0, ring), -EINVAL, "m odd, not prime");
	ASSERT_EQ(xlb_maglev_build(be, 1, 0, 0, ring), -EINVAL, "m = 0");
	ASSERT_EQ(xlb_maglev_build(be, 1, 1, 0, ring), -EINVAL, "m = 1");
	ASSERT_EQ(xlb_maglev_build(be, 0, 13, 0, ring), -EINVAL, "n = 0");
	ASSERT_EQ(xlb_maglev_build(zero, 2, 13, 0, ring), -EINVAL, "all weights 0");
	ASSERT_EQ(xlb_maglev_build(be, 5, 3, 0, ring), -EINVAL, "n > m");
	ASSERT_EQ(xlb_maglev_build(NULL, 5, 13, 0, ring), -EINVAL, "no backends");
	ASSERT_EQ(xlb_maglev_build(be, 5, 13, 0, NULL), -EINVAL, "no ring");
	/* The smallest legal tables. */
	ASSERT_OK(xlb_maglev_build(be, 2, 2, 0, ring), "m = 2");
	ASSERT_OK(xlb_maglev_build(be, 5, 5, 0, ring), "n = m");
}

/* Every slot holds the id of a backend with a weight; weight 0 owns nothing. */
static void test_fills_every_slot(void)
{
	const size_t n = 100;
	struct xlb_maglev_backend *be = make_backends(n);
	__u32 *ring = malloc(M_SMALL * sizeof(*ring));
	size_t *owned = calloc(n + 1, sizeof(*owned));
	size_t i, bad = 0;

	if (!ASSERT_TRUE(be && ring && owned, "alloc"))
		goto out;
	rng_seed(1);
	for (i = 0; i < n; i++)
		be[i].weight = rng_below(6); /* 0..5: about one in six left out */
	be[7].weight = 0;
	memset(ring, 0, M_SMALL * sizeof(*ring)); /* ids start at 1: 0 means "never written" */
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 42, ring), "build"))
		goto out;
	for (i = 0; i < M_SMALL; i++) {
		if (ring[i] < 1 || ring[i] > n) {
			bad++;
			continue;
		}
		owned[ring[i]]++;
	}
	ASSERT_EQ(bad, 0, "slots without a valid id");
	for (i = 0; i < n; i++) {
		if (be[i].weight)
			ASSERT_TRUE(owned[be[i].id] > 0, "weighted backend owns slots");
		else
			ASSERT_EQ(owned[be[i].id], 0, "weight-0 backend owns no slot");
	}

	/* n == m with equal weights: one slot each. */
	memset(owned, 0, (n + 1) * sizeof(*owned));
	for (i = 0; i < 13; i++)
		be[i].weight = 1;
	if (!ASSERT_OK(xlb_maglev_build(be, 13, 13, 0, ring), "build n = m"))
		goto out;
	for (i = 0; i < 13; i++)
		owned[ring[i]]++;
	for (i = 0; i < 13; i++)
		ASSERT_EQ(owned[be[i].id], 1, "n = m: one slot each");
out:
	free(be);
	free(ring);
	free(owned);
}

static void test_determinism(void)
{
	const size_t n = 1000;
	struct xlb_maglev_backend *be = make_backends(n);
	__u32 *a = malloc(M_SMALL * sizeof(*a)), *b = malloc(M_SMALL * sizeof(*b));
	size_t i, changed;

	if (!ASSERT_TRUE(be && a && b, "alloc"))
		goto out;
	rng_seed(2);
	for (i = 0; i < n; i++)
		be[i].weight = 1 + rng_below(10);
	/* Two backends with one key (the same address twice, say): their order is by id. */
	be[11].key = be[10].key;
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 7, a), "build"))
		goto out;
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 7, b), "rebuild"))
		goto out;
	ASSERT_MEM_EQ(a, b, M_SMALL * sizeof(*a), "same input, same ring");

	shuffle(be, n);
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 7, b), "shuffled"))
		goto out;
	ASSERT_MEM_EQ(a, b, M_SMALL * sizeof(*a), "any input order, same ring");

	/* Another seed is another ring: nearly every slot differs (all but ~1/n by chance). */
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 8, b), "other seed"))
		goto out;
	changed = count_changed(a, b, M_SMALL);
	ASSERT_TRUE(changed > M_SMALL * 9 / 10, "another seed changes the ring");
out:
	free(be);
	free(a);
	free(b);
}

/* The ring for fixed inputs, computed once: a change here means every deployed table changes
 * (and LB nodes running different versions disagree), so it must be deliberate. */
static void test_golden(void)
{
	static const struct xlb_maglev_backend be[] = {
		{.key = 1, .weight = 1, .id = 10},
		{.key = 2, .weight = 2, .id = 20},
		{.key = 3, .weight = 3, .id = 30},
	};
	static const __u32 want[13] = {30, 30, 20, 20, 30, 20, 30, 30, 30, 30, 20, 10, 10};
	__u32 ring[13], *big = malloc(M_SMALL * sizeof(*big));
	struct xlb_maglev_backend *many = make_backends(100);
	__u64 h = 0xcbf29ce484222325ULL; /* FNV-1a over the ring */
	size_t i;

	if (!ASSERT_TRUE(big && many, "alloc"))
		goto out;
	if (!ASSERT_OK(xlb_maglev_build(be, 3, 13, 0, ring), "build 13"))
		goto out;
	if (!ASSERT_MEM_EQ(ring, want, sizeof(ring), "ring of 13")) {
		for (i = 0; i < 13; i++)
			fprintf(stderr, "%u, ", ring[i]);
		fputc('\n', stderr);
	}
	/* Keys of our own, so that only a change of maglev.c moves this hash. */
	for (i = 0; i < 100; i++) {
		many[i].key = 0x1000 + i * 0x10001ULL;
		many[i].weight = 1 + i % 7;
	}
	if (!ASSERT_OK(xlb_maglev_build(many, 100, M_SMALL, 0x1234, big), "build 65537"))
		goto out;
	for (i = 0; i < M_SMALL; i++)
		h = (h ^ big[i]) * 0x100000001b3ULL;
	if (!ASSERT_TRUE(h == 0x854ed4ef3c92384dULL, "FNV-1a of the 65537 ring"))
		fprintf(stderr, "    hash 0x%llx\n", (unsigned long long)h);
out:
	free(big);
	free(many);
}

/* The incremental walk, the bitmap and the heap path give the textbook ring. */
static void test_matches_reference(void)
{
	const size_t n = 1000;
	struct xlb_maglev_backend *be = make_backends(n);
	__u32 *a = malloc(M_SMALL * sizeof(*a)), *b = malloc(M_SMALL * sizeof(*b));
	size_t i;

	if (!ASSERT_TRUE(be && a && b, "alloc"))
		goto out;
	rng_seed(3);

	/* Weights 1..10: the round-by-round path. */
	for (i = 0; i < n; i++)
		be[i].weight = 1 + rng_below(10);
	be[5].weight = 0;
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 99, a), "build") ||
	    !ASSERT_OK(ref_build(be, n, M_SMALL, 99, b), "reference"))
		goto out;
	ASSERT_MEM_EQ(a, b, M_SMALL * sizeof(*a), "weights 1..10");

	/* One backend outweighs all others together: the rounds would cost ~m * n steps, so
	 * maglev.c takes the heap (its estimate: rounds 63 M, heap 3.9 M); the claims must still
	 * come in the same order. */
	be[0].weight = 100000;
	if (!ASSERT_OK(xlb_maglev_build(be, n, M_SMALL, 99, a), "build skewed") ||
	    !ASSERT_OK(ref_build(be, n, M_SMALL, 99, b), "reference skewed"))
		goto out;
	ASSERT_MEM_EQ(a, b, M_SMALL * sizeof(*a), "skewed weights (heap path)");

	/* Weights near 2^32: credits and claim rounds need 64 bits. Four backends take the rounds
	 * (estimate 0.1 M against 2.4 M), fifty with one huge weight the heap (3.3 M against
	 * 2.4 M). */
	be[0].weight = 0xffffffffU;
	be[1].weight = 0xfffffffeU;
	be[2].weight = 0x80000001U;
	be[3].weight = 1;
	if (!ASSERT_OK(xlb_maglev_build(be, 4, M_SMALL, 5, a), "build huge") ||
	    !ASSERT_OK(ref_build(be, 4, M_SMALL, 5, b), "reference huge"))
		goto out;
	ASSERT_MEM_EQ(a, b, M_SMALL * sizeof(*a), "huge weights (rounds path)");
	be[1].weight = 3;
	be[2].weight = 7;
	if (!ASSERT_OK(xlb_maglev_build(be, 50, M_SMALL, 5, a), "build huge 50") ||
	    !ASSERT_OK(ref_build(be, 50, M_SMALL, 5, b), "reference huge 50"))
		goto out;
	ASSERT_MEM_EQ(a, b, M_SMALL * sizeof(*a), "huge weights (heap path)");
out:
	free(be);
	free(a);
	free(b);
}

enum weights { W_EQUAL, W_123, W_RANDOM };
static const char *const weights_name[] = {"equal", "1:2:3", "random 1..100"};

/*
 * Build and compare every backend's slots with its weight share m * w / sum(w). The bound is 1%
 * of the share, but never under one slot: a table of whole slots cannot do better than +-1, so
 * 1% needs every share >= 100 slots, i.e. m >= 100 * sum(w) / min(w) (m >= 100 * n for equal
 * weights). The cases pick the smaller ring that meets that; when none does (random weights,
 * hundreds of backends: weight 1 of ~50,000 is a share of ~13 slots even with 655373 slots) the
 * one-slot floor applies. Returns the worst relative error.
 */
static double check_balance(enum weights w, size_t n, double *min_share, __u32 *m_out)
{
	struct xlb_maglev_backend *be = make_backends(n);
	__u32 *ring = malloc(M_LARGE * sizeof(*ring)), m = M_SMALL, minw = ~0U;
	size_t *owned = calloc(n + 1, sizeof(*owned));
	double worst = -1, share, err;
	__u64 sumw = 0;
	size_t i;

	*min_share = 0;
	*m_out = 0;
	if (!ASSERT_TRUE(be && ring && owned, "alloc"))
		goto out;
	rng_seed(4);
	for (i = 0; i < n; i++) {
		be[i].weight = w == W_EQUAL ? 1 : w == W_123 ? 1 + i % 3 : 1 + rng_below(100);
		sumw += be[i].weight;
		if (be[i].weight < minw)
			minw = be[i].weight;
	}
	if ((__u64)M_SMALL < 100 * n || (__u64)M_SMALL * minw < 100 * sumw)
		m = M_LARGE;
	if (!ASSERT_OK(xlb_maglev_build(be, n, m, 11, ring), "build"))
		goto out;
	for (i = 0; i < m; i++)
		owned[ring[i]]++;
	*min_share = (double)m * minw / sumw;
	*m_out = m;
	for (i = 0; i < n; i++) {
		share = (double)m * be[i].weight / sumw;
		err = owned[be[i].id] > share ? owned[be[i].id] - share : share - owned[be[i].id];
		if (err > 0.01 * share && err > 1.0) {
			xt_fail(__FILE__, __LINE__,
				"%s n=%zu m=%u: backend %zu owns %zu slots, share %.1f",
				weights_name[w], n, m, i, owned[be[i].id], share);
			break;
		}
		if (err / share > worst)
			worst = err / share;
	}
out:
	free(be);
	free(ring);
	free(owned);
	return worst;
}

static void test_balance(void)
{
	static const size_t ns[] = {3, 10, 100, 655, 1000};
	double worst, min_share, worst_strict = 0;
	enum weights w;
	size_t i;
	__u32 m;

	for (w = W_EQUAL; w <= W_RANDOM; w++) {
		for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			if (!xt_row("%s weights, n=%zu", weights_name[w], ns[i]))
				continue;
			worst = check_balance(w, ns[i], &min_share, &m);
			printf("# maglev balance %-13s n=%-4zu m=%-6u worst=%.3f%% smallest "
			       "share=%.0f slots%s\n",
			       weights_name[w], ns[i], m, worst * 100, min_share,
			       min_share >= 100 ? "" : " (one-slot floor)");
			if (min_share >= 100 && worst > worst_strict)
				worst_strict = worst;
		}
	}
	xt_row_end();
	printf("# maglev balance worst where 1%% is possible: %.3f%%\n", worst_strict * 100);
}

/*
 * Remove one of n equal backends, several times over: how many slots change. The removed
 * backend's ~m/n slots must change (the minimum, 1/n of the table). Maglev also moves some slots
 * between survivors: a survivor that collided with the removed backend takes a slot it lost
 * before and leaves another free, and each survivor gains about one slot at the end of the fill,
 * where a claim walks far. Measured over 30 removals each, with these keys and with random keys:
 * changed = 1.02-1.08 x 1/n (n = 10), 1.60-1.63 (n = 100), 4.3-4.4 (n = 1000, m = 655373), the
 * survivors' part at most 535 slots (0.8% of the table). At the same m / n, the survivors' share
 * stays near a fixed fraction of the table, so relative to 1/n it grows with n. Bounds: those
 * ratios plus about 25%, and survivors' moves under 1% of the table.
 */
static void test_disruption_one(void)
{
	static const struct {
		size_t n;
		__u32 m;
		double bound; /* changed <= bound / n */
	} cases[] = {{10, M_SMALL, 1.3}, {100, M_SMALL, 2.0}, {1000, M_LARGE, 5.5}};
	const size_t tries = 5;
	size_t i, s, t, n, victim, owned, changed, moved, worst_moved;
	struct xlb_maglev_backend *be = NULL;
	__u32 *a = malloc(M_LARGE * sizeof(*a)), *b = malloc(M_LARGE * sizeof(*b)), m;
	double frac, worst;

	if (!ASSERT_TRUE(a && b, "alloc"))
		goto out;
	rng_seed(5);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cases[i].n;
		m = cases[i].m;
		if (!xt_row("remove 1 of %zu, m=%u", n, m))
			continue;
		worst = 0;
		worst_moved = 0;
		for (t = 0; t < tries; t++) {
			free(be);
			be = make_backends(n);
			if (!ASSERT_TRUE(be, "alloc") ||
			    !ASSERT_OK(xlb_maglev_build(be, n, m, 21, a), "build"))
				goto out;
			victim = rng_below(n);
			be[victim].weight = 0;
			if (!ASSERT_OK(xlb_maglev_build(be, n, m, 21, b), "rebuild"))
				goto out;
			owned = changed = 0;
			for (s = 0; s < m; s++) {
				owned += a[s] == be[victim].id;
				changed += a[s] != b[s];
			}
			moved = changed - owned;
			frac = (double)changed / m;
			if (frac > worst)
				worst = frac;
			if (moved > worst_moved)
				worst_moved = moved;
			ASSERT_TRUE(owned > 0 && changed >= owned,
				    "the removed backend's slots change");
			ASSERT_LE(frac, cases[i].bound / n, "changed fraction");
			ASSERT_LE(moved, 0.01 * m, "survivors' slots moved");
		}
		printf("# maglev remove 1 of %zu m=%u: worst changed=%.5f (%.2f x 1/n), "
		       "survivors' slots moved <= %zu (%.2f%% of the table)\n",
		       n, m, worst, worst * n, worst_moved, 100.0 * worst_moved / m);
	}
out:
	free(be);
	free(a);
	free(b);
}

/* The Maglev paper's section 5.3 experiment: 1000 backends, k% of them fail at once. */
static void test_paper_5_3(void)
{
	static const __u32 ms[] = {M_SMALL, M_LARGE};
	static const int ks[] = {1, 2, 5, 10};
	const size_t n = 1000;
	struct xlb_maglev_backend *be = make_backends(n);
	__u32 *a = malloc(M_LARGE * sizeof(*a)), *b = malloc(M_LARGE * sizeof(*b));
	size_t i, j, r, removed;
	double changed;

	if (!ASSERT_TRUE(be && a && b, "alloc"))
		goto out;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 4; j++) {
			if (!xt_row("k=%d%% m=%u", ks[j], ms[i]))
				continue;
			for (r = 0; r < n; r++)
				be[r].weight = 1;
			if (!ASSERT_OK(xlb_maglev_build(be, n, ms[i], 33, a), "build"))
				goto out;
			rng_seed(6 + j);
			for (removed = 0; removed < n * ks[j] / 100;) {
				r = rng_below(n);
				if (be[r].weight) {
					be[r].weight = 0;
					removed++;
				}
			}
			if (!ASSERT_OK(xlb_maglev_build(be, n, ms[i], 33, b), "rebuild"))
				goto out;
			changed = (double)count_changed(a, b, ms[i]) / ms[i];
			printf("# maglev k=%d%% m=%u changed=%.4f\n", ks[j], ms[i], changed);
			/* The failed backends' k% must change, plus a cascade among survivors.
			 * Measured over six choices of the failed set: k% + 2.3-3.6% at 65537 (65
			 * slots per backend) and k% + 0.6-1.1% at 655373; at k = 1, m = 65537 that
			 * is 3.45% at most. Bound 1.5 k% + 2.5% (65537) or + 0.75% (655373): 15-45%
			 * above the worst measured, far below the ~(1 - 1/n) that a table without
			 * consistent hashing changes. */
			ASSERT_TRUE(changed >= ks[j] / 100.0, "failed backends' slots change");
			ASSERT_LE(changed, 1.5 * ks[j] / 100.0 + (i == 0 ? 0.025 : 0.0075),
				  "changed <= 1.5 k% + c");
		}
	}
out:
	free(be);
	free(a);
	free(b);
}

/* Build time with unequal weights, for the report; no assertion (machines differ). */
static void test_build_time(void)
{
	static const __u32 ms[] = {M_SMALL, M_LARGE};
	const size_t n = 1000;
	struct xlb_maglev_backend *be = make_backends(n);
	__u32 *ring = malloc(M_LARGE * sizeof(*ring));
	double best, t;
	size_t i, r;

	if (!ASSERT_TRUE(be && ring, "alloc"))
		goto out;
	for (i = 0; i < n; i++)
		be[i].weight = 1 + i % 10;
	for (i = 0; i < 2; i++) {
		best = 1e9;
		for (r = 0; r < 10; r++) {
			t = now_ms();
			if (!ASSERT_OK(xlb_maglev_build(be, n, ms[i], r, ring), "build"))
				goto out;
			t = now_ms() - t;
			if (t < best)
				best = t;
		}
		printf("# maglev build m=%u n=%zu weights 1..10: %.2f ms (best of 10)\n", ms[i], n,
		       best);
	}
out:
	free(be);
	free(ring);
}

int main(void)
{
	RUN_TEST(test_is_prime);
	RUN_TEST(test_bad_inputs);
	RUN_TEST(test_fills_every_slot);
	RUN_TEST(test_determinism);
	RUN_TEST(test_golden);
	RUN_TEST(test_matches_reference);
	RUN_TEST(test_balance);
	RUN_TEST(test_disruption_one);
	RUN_TEST(test_paper_5_3);
	RUN_TEST(test_build_time);
	return xt_finish();
}
