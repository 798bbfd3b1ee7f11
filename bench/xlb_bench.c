/* xlb_bench.c - `make bench`: data-plane cost per packet with BPF_PROG_TEST_RUN, beside baselines. */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/in.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb_abi.h" /* before bench_cost.skel.h, whose .bss holds a VIP key and a flow key */
#include "xlb_hash.h"
#include "xlb_flowtab.h"
#include "bench_cost.skel.h"
#include "bench_macswap.skel.h"
#include "bench_pass.skel.h"
#include "fixture.h"
#include "rows.h"
#include "schedule.h"
#include "xlb.skel.h"

/*
 * Method (see "The repeat pitfall" in docs/benchmarks.md):
 * - "repeat": one frame, BPF_PROG_TEST_RUN repeat=R; the kernel's average. Valid only where run
 *   2..R take the same path as run 1: the XDP_PASS baseline, a non-VIP frame, an established
 *   flow (dsr-l2 rewrites only MACs; the rewritten frame is still the same flow) and the MAC swap.
 * - "distinct": repeat=1 over N different frames, summing the kernel's per-run durations; used
 *   for rows where every packet must be new (new flows, evictions) or a different flow. Its own
 *   XDP_PASS baseline is timed the same way, since per-call timer overhead differs.
 * - "cost" rows: programs of bench/bpf/bench_cost.bpf.c, each one part of xlb's established
 *   path, on the established frame with the repeat method (none changes the flow), beside
 *   XDP_PASS; the flow insert over the new-flow frames with the distinct method (its table
 *   emptied first).
 * - "same": repeat=1, one frame sent SAME_RUNS times, summing the kernel's per-run durations,
 *   with ingress_ifindex a veth of the bench's own namespace: the ipip rows, whose program
 *   grows the head (run 2 of a repeat would see the encapsulated frame) and looks the route up
 *   (bpf_fib_lookup answers from that namespace's routes: ipip_net_setup). Their baselines are
 *   XDP_PASS timed the same way on the same interface.
 * Trials are interleaved (every row once per trial) so machine noise hits all rows alike.
 * Usage: xlb-bench [OUT.json]   (default build/bench/dataplane.json; `make bench` merges it)
 */

#define TRIALS	  5
#define REPEAT	  1000000
#define NDISTINCT 100000
#define FRAME_CAP 128
#define SAME_RUNS 50000

enum method { REPEAT_ONE, DISTINCT, SAME, CHASE };

struct row {
	const char *group;
	const char *name;
	enum method method;
	double ns[TRIALS];
	double med, min, max;
	const char *baseline; /* row this one is compared with */
	double target;	      /* the goal in ns above the baseline (docs/benchmarks.md); 0: none */
	const char *note;
	int skipped; /* not measured (the ipip rows without their namespace): not written */
};

#define DP(...)                          \
	{                                \
		"dataplane", __VA_ARGS__ \
	}
#define COST(...)                   \
	{                           \
		"cost", __VA_ARGS__ \
	}

static struct row rows[] = {
	DP("xdp_pass baseline", REPEAT_ONE, .baseline = NULL),
	DP("macswap XDP_TX baseline", REPEAT_ONE, .baseline = "xdp_pass baseline"),
	DP("xlb non-VIP packet", REPEAT_ONE, .baseline = "xdp_pass baseline", .target = 15),
	DP("xlb hot established flow (ipv4 tcp)", REPEAT_ONE, .baseline = "xdp_pass baseline",
	   .target = 50),
	DP("xlb hot established flow (ipv6 tcp)", REPEAT_ONE, .baseline = "xdp_pass baseline",
	   .target = 50),
	DP("xdp_pass baseline, distinct", DISTINCT, .baseline = NULL),
	DP("xlb new tcp flow (syn, insert)", DISTINCT, .baseline = "xdp_pass baseline, distinct",
	   .target = 250,
	   .note = "the former LRU table's insert alone: row 'cost: parse + flow insert (new key, "
		   "LRU hash)'"),
	DP("xlb 100k distinct established flows", DISTINCT,
	   .baseline = "xdp_pass baseline, distinct", .target = 150,
	   .note = "the former LRU table's lookup alone: row 'cost: parse + flow lookup, 100k "
		   "distinct keys'"),
	DP("xlb new flow, full flow table (evict)", DISTINCT,
	   .baseline = "xdp_pass baseline, distinct", .target = 250,
	   .note = "every bucket full of unpromoted entries: each new flow replaces one"),
	/* One new-flow row per scheduler, 20k flows each, beside maglev timed the same way. */
	DP("new flow, sched maglev (20k)", DISTINCT, .baseline = "xdp_pass baseline, distinct"),
	DP("new flow, sched source-hash (20k)", DISTINCT,
	   .baseline = "xdp_pass baseline, distinct"),
	DP("new flow, sched rr (20k)", DISTINCT, .baseline = "xdp_pass baseline, distinct"),
	DP("new flow, sched wrr (20k)", DISTINCT, .baseline = "xdp_pass baseline, distinct"),
	DP("new flow, sched least-conn (20k)", DISTINCT, .baseline = "xdp_pass baseline, distinct"),
	/* Parts of the established path (bench_cost.bpf.c), in the order of cost_progs(). */
	COST("cost: parse (xlb's parse_packet)", REPEAT_ONE, .baseline = "xdp_pass baseline"),
	COST("cost: VIP lookup (hash, 20-byte key)", REPEAT_ONE, .baseline = "xdp_pass baseline"),
	COST("cost: flow lookup (former LRU hash, 40-byte key)", REPEAT_ONE,
	     .baseline = "xdp_pass baseline"),
	COST("cost: backend lookup (array)", REPEAT_ONE, .baseline = "xdp_pass baseline"),
	COST("cost: bpf_ktime_get_coarse_ns", REPEAT_ONE, .baseline = "xdp_pass baseline"),
	COST("cost: 3 per-CPU counter updates", REPEAT_ONE, .baseline = "xdp_pass baseline"),
	COST("cost: established path (filter, clock, flow, backend, counters, MAC rewrite)",
	     REPEAT_ONE, .baseline = "xdp_pass baseline"),
	COST("cost: flow lookup (xlb's bucket array: hash, one line)", REPEAT_ONE,
	     .baseline = "xdp_pass baseline"),
	/* A new flow's insert needs a new key every run: distinct frames. */
	COST("cost: parse + flow insert (new key, former LRU hash)", DISTINCT,
	     .baseline = "xdp_pass baseline, distinct"),
	COST("cost: parse + flow insert (new key, plain hash)", DISTINCT,
	     .baseline = "xdp_pass baseline, distinct"),
	COST("cost: parse + flow lookup, 100k distinct keys (former LRU hash)", DISTINCT,
	     .baseline = "xdp_pass baseline, distinct"),
	DP("xlb flood: spoofed SYN into 100k established flows", DISTINCT,
	   .baseline = "xdp_pass baseline, distinct",
	   .note = "5 passes of 100,000 new 5-tuples (SYN) after the trials, into xlb's table "
		   "holding the 100k flows promoted by an ACK; the share of those flows that keep "
		   "their entry is printed (flood_row)"),
	/* fwd ipip (docs/datapath.md, "ipip"), in the bench's namespace with a route per backend. */
	DP("xdp_pass baseline, same frame, ingress veth", SAME, .baseline = NULL),
	DP("xlb hot established flow, ipip 4in4", SAME,
	   .baseline = "xdp_pass baseline, same frame, ingress veth", .target = 60),
	DP("xlb hot established flow, ipip 6in6", SAME,
	   .baseline = "xdp_pass baseline, same frame, ingress veth", .target = 60),
	DP("xlb hot established flow, ipip 4in6", SAME,
	   .baseline = "xdp_pass baseline, same frame, ingress veth", .target = 60),
	DP("xdp_pass baseline, distinct, ingress veth", DISTINCT, .baseline = NULL),
	DP("xlb new tcp flow (syn, insert), ipip 4in4", DISTINCT,
	   .baseline = "xdp_pass baseline, distinct, ingress veth"),
	DP("xlb 100k distinct established flows, ipip 4in4", DISTINCT,
	   .baseline = "xdp_pass baseline, distinct, ingress veth"),
	COST("cost: memory, dependent random loads over 16 MB (userspace)", CHASE,
	     .note = "the size of this bench's bucket array (1,048,576 slots); the distinct rows "
		     "of large tables follow it (docs/benchmarks.md, the profile of 2026-12-02)"),
};
#define SCHED_ROW	9  /* first scheduler row */
#define COST_ROW	14 /* first cost row */
#define NCOST		8  /* cost rows with the repeat method */
#define INSERT_ROW	(COST_ROW + NCOST)
#define INSERT_HASH_ROW (INSERT_ROW + 1)
#define LOOKUP_100K_ROW (INSERT_ROW + 2)
#define FLOOD_ROW	(INSERT_ROW + 3)
#define IPIP_ROW	(FLOOD_ROW + 1) /* its same-frame baseline; the rows follow */
#define NIPIP		7
#define CHASE_ROW	(IPIP_ROW + NIPIP)
#define CHASE_MB	16
#define CHASE_LOADS	1000000
#define NROWS		(sizeof(rows) / sizeof(rows[0]))

struct frames {
	__u8 *buf;
	__u32 *len;
	__u32 n;
};

static int build_frames_flags(struct frames *f, __u32 n, __u32 base, __u8 family, __u8 flags);

static int build_frames(struct frames *f, __u32 n, __u32 base, __u8 family)
{
	return build_frames_flags(f, n, base, family, PKT_TCP_SYN);
}

static int build_frames_flags(struct frames *f, __u32 n, __u32 base, __u8 family, __u8 flags)
{
	struct pkt_spec s;

	f->buf = malloc((size_t)n * FRAME_CAP);
	f->len = malloc(n * sizeof(*f->len));
	f->n = n;
	if (!f->buf || !f->len)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++) {
		int len;

		pkt_spec_init(&s, family, IPPROTO_TCP);
		pkt_spec_flow(&s, base + i);
		s.tcp_flags = flags;
		len = pkt_build(&s, f->buf + (size_t)i * FRAME_CAP, FRAME_CAP);
		if (len < 0)
			return len;
		f->len[i] = len;
	}
	return 0;
}

/* ifindex: the frame's ingress interface (ctx), 0 for none. The action, or -errno. */
static int run_on(int prog, int ifindex, const void *frame, __u32 len, __u32 repeat, double *ns)
{
	__u8 out[FRAME_CAP + 64]; /* ipip adds up to 40 bytes */
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);

	if (ifindex) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(prog, &o))
		return -errno;
	*ns = o.duration;
	return o.retval;
}

static int run_repeat(int prog, const void *frame, __u32 len, __u32 repeat, double *ns)
{
	return run_on(prog, 0, frame, len, repeat, ns);
}

/* Mean kernel-measured ns per packet over the frames, one run each; *off counts the runs whose
 * action was not want (off and want may be NULL, -1). */
static int run_distinct_on(int prog, int ifindex, const struct frames *f, double *ns, int want,
			   __u32 *off)
{
	double total = 0;

	for (__u32 i = 0; i < f->n; i++) {
		double d;
		int r = run_on(prog, ifindex, f->buf + (size_t)i * FRAME_CAP, f->len[i], 1, &d);

		if (r < 0)
			return r;
		if (off && r != want)
			(*off)++;
		total += d;
	}
	*ns = total / f->n;
	return 0;
}

static int run_distinct(int prog, const struct frames *f, double *ns)
{
	return run_distinct_on(prog, 0, f, ns, -1, NULL);
}

/* The "same" method: one frame, SAME_RUNS runs of repeat=1, the mean; counts as above. */
static int run_same(int prog, int ifindex, const void *frame, __u32 len, double *ns, int want,
		    __u32 *off)
{
	double total = 0;

	for (int i = 0; i < SAME_RUNS; i++) {
		double d;
		int r = run_on(prog, ifindex, frame, len, 1, &d);

		if (r < 0)
			return r;
		if (off && r != want)
			(*off)++;
		total += d;
	}
	*ns = total / SAME_RUNS;
	return 0;
}

static struct row *find_row(const char *name)
{
	for (size_t i = 0; i < NROWS; i++)
		if (name && !strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static void print_prog_info(const char *name, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	printf("%-22s verified_insns %u, xlated %u insns, jited %u bytes\n", name,
	       info.verified_insns, info.xlated_prog_len / 8, info.jited_prog_len);
}

static int write_json(const char *path)
{
	struct bench_row out[NROWS];
	size_t n = 0;

	for (size_t i = 0; i < NROWS; i++) {
		struct row *r = &rows[i], *b = find_row(r->baseline);

		if (r->skipped)
			continue;
		out[n++] = (struct bench_row){
			.group = r->group,
			.name = r->name,
			.method = r->method == REPEAT_ONE
					  ? "BPF_PROG_TEST_RUN repeat=1000000, one frame"
				  : r->method == SAME
					  ? "BPF_PROG_TEST_RUN repeat=1, one frame 50,000 times, "
					    "ingress a veth with routes"
					  : "BPF_PROG_TEST_RUN repeat=1 over distinct frames",
			.unit = "ns",
			.median = r->med,
			.min = r->min,
			.max = r->max,
			.n = TRIALS,
			.baseline = r->baseline,
			.above_baseline = b ? r->med - b->med : 0,
			.target_op = r->target ? "<=" : NULL,
			.target = r->target,
			.target_above_baseline = r->target != 0,
			.note = r->note,
		};
	}
	return bench_write_rows(path, out, (int)n);
}

/* Fills the cost programs' maps as xlb's are for the established frame f (VIP 0, backend 1). */
static int cost_setup(struct bench_cost_bpf *c, struct fx *fx, const __u8 *f, __u32 len)
{
	struct xlb_vip vip = {.id = fx->vip[0].id};
	struct xlb_flow flow = {.backend_id = fx->vip[0].be[0], .vip_id = vip.id};
	struct xlb_backend be;
	struct pkt_layout lo;
	struct pkt_spec s;
	int err;

	/* The frame is v4 flow 0: the same spec gives its flow key. */
	if (pkt_parse(f, len, &lo))
		return -EINVAL;
	pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
	pkt_spec_flow(&s, 0);
	c->bss->cost_vip_key = fx->vip[0].key;
	__u32 slot = xlb_vip_filter_slot(&fx->vip[0].key.addr), one = 1;
	if (bpf_map_update_elem(bpf_map__fd(c->maps.cost_filter), &slot, &one, 0))
		return -errno;
	fx_spec_key(&s, (struct xlb_flow_key *)&c->bss->cost_flow_key);
	err = xlb_dp_get_backend(fx->dp, flow.backend_id, &be);
	err = err ?: bpf_map_update_elem(bpf_map__fd(c->maps.cost_vips), &fx->vip[0].key, &vip, 0);
	err = err
		      ?: bpf_map_update_elem(bpf_map__fd(c->maps.cost_flows),
					     (const void *)&c->bss->cost_flow_key, &flow, 0);
	err = err
		      ?: bpf_map_update_elem(bpf_map__fd(c->maps.cost_backends), &flow.backend_id,
					     &be, 0);
	if (!err) { /* bucket 0 of the bucket array (its program masks the hash with 0) */
		struct xlb_flow_bucket b = {0};
		__u32 zero = 0;

		b.ent[0] = xlb_fent(xlb_flowtab_hash((const void *)&c->bss->cost_flow_key, 0) >> 32,
				    flow.backend_id, flow.vip_id, 0);
		err = bpf_map_update_elem(bpf_map__fd(c->maps.cost_buckets), &zero, &b, 0);
	}
	return err ? -errno : 0;
}

/* Every backend of f at the LB's MAC (see main: the hot rows' repeat). */
static int lb_mac_backends(struct fx *f)
{
	static const __u8 mac[6] = FX_LB_MAC;
	struct xlb_backend be;
	int err;

	for (int v = 0; v < FX_NVIPS; v++)
		for (__u32 j = 0; j < f->vip[v].nbe; j++) {
			err = xlb_dp_get_backend(f->dp, f->vip[v].be[j], &be);
			if (err)
				return err;
			memcpy(be.mac, mac, sizeof(be.mac));
			err = xlb_dp_set_backend(f->dp, f->vip[v].be[j], &be);
			if (err)
				return err;
		}
	return 0;
}

/* The hot rows' frames went the established path on every run: flow_hit grew by the runs and
 * nothing passed. Returns 0 if so. */
static int hot_rows_checked(struct fx *f, int prog, const struct frames *v4,
			    const struct frames *v6)
{
	__u64 c0[XLB_C_MAX], c1[XLB_C_MAX];
	double ns;

	if (xlb_dp_read_counters(f->dp, c0) ||
	    run_repeat(prog, v4->buf, v4->len[0], REPEAT, &ns) != XDP_TX ||
	    run_repeat(prog, v6->buf, v6->len[0], REPEAT, &ns) != XDP_TX ||
	    xlb_dp_read_counters(f->dp, c1))
		return -1;
	return c1[XLB_C_FLOW_HIT] - c0[XLB_C_FLOW_HIT] == 2ULL * REPEAT &&
			       c1[XLB_C_ACT_PASS] == c0[XLB_C_ACT_PASS]
		       ? 0
		       : -1;
}

/* Empties an insert program's table so that the next trial inserts into the same empty table.
 * Keys first, deletes after: get_next_key from the start after every delete is quadratic. */
static void cost_flush(int fd)
{
	static struct xlb_flow_key keys[1 << 20]; /* the cost maps' largest size */
	__u32 n = 0;

	while (n < (1 << 20) && !bpf_map_get_next_key(fd, n ? &keys[n - 1] : NULL, &keys[n]))
		n++;
	for (__u32 i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
}

static void cost_progs(struct bench_cost_bpf *c, int fd[NCOST])
{
	fd[0] = bpf_program__fd(c->progs.cost_parse);
	fd[1] = bpf_program__fd(c->progs.cost_vip_lookup);
	fd[2] = bpf_program__fd(c->progs.cost_flow_lookup);
	fd[3] = bpf_program__fd(c->progs.cost_backend_lookup);
	fd[4] = bpf_program__fd(c->progs.cost_clock);
	fd[5] = bpf_program__fd(c->progs.cost_counters);
	fd[6] = bpf_program__fd(c->progs.cost_all);
	fd[7] = bpf_program__fd(c->progs.cost_flow_lookup_buckets);
}

/* bench_cost.bpf.c declares its maps with the types of xlb's (bpf/lib/maps.h), so xlb's own maps
 * are in its object too: no cost program uses them, and none is created. */
static int cost_skip_xlb_maps(struct bench_cost_bpf *c)
{
	struct bpf_map *m;
	int err = 0;

	for (m = bpf_object__next_map(c->obj, NULL); m; m = bpf_object__next_map(c->obj, m))
		if (!strncmp(bpf_map__name(m), "xlb_", 4))
			err = err ?: bpf_map__set_autocreate(m, false);
	return err;
}

/* Switches vip 0 of the fixture to a scheduler, with the table that scheduler reads. */
static int use_sched(struct fx *f, __u8 sched)
{
	struct xlb_vip v = {.id = f->vip[0].id, .sched = sched};
	__u32 w[3] = {1, 2, 3}, ring[16];
	int err = xlb_dp_set_vip(f->dp, &f->vip[0].key, &v), len;

	if (err)
		return err;
	switch (sched) {
	case XLB_SCHED_RR:
	case XLB_SCHED_LEAST_CONN:
		return xlb_dp_publish_table(f->dp, v.id, f->vip[0].be, 3, f->vip[0].be, 3);
	case XLB_SCHED_WRR:
		len = xlb_wrr_build(f->vip[0].be, w, 3, f->dp->ring_size, ring);
		return len < 0 ? len
			       : xlb_dp_publish_table(f->dp, v.id, f->vip[0].be, 3, ring, len);
	default:
		return fx_publish(f, 0);
	}
}

/*
 * The machine's memory latency, beside the rows it bounds: a random cyclic order of the 64-byte
 * lines of CHASE_MB MB (4 KB pages, as a BPF array's), each line holding the next one's address,
 * so every load waits for the one before (one miss at a time, as a packet's bucket read).
 * Returns the area (NULL on failure); chase_ns walks it.
 */
static char *chase_setup(void)
{
	size_t sz = (size_t)CHASE_MB << 20, n = sz / 64;
	char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t *perm = malloc(n * sizeof(*perm));
	unsigned long long x = 88172645463325252ULL;

	if (m == MAP_FAILED || !perm) {
		free(perm);
		return NULL;
	}
	madvise(m, sz, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates with xorshift64 */
		size_t j, t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		*(char **)(m + perm[i] * 64) = m + perm[(i + 1) % n] * 64;
	free(perm);
	return m;
}

static double chase_ns(char *m)
{
	char *volatile end;
	char *p = m;
	double t0 = bench_now_ns();

	for (int i = 0; i < CHASE_LOADS; i++)
		p = *(char **)p;
	end = p; /* the loads are not optimised away */
	(void)end;
	return (bench_now_ns() - t0) / CHASE_LOADS;
}

/*
 * The ipip rows' routes, as tests/bpf/test_ipip.c has them: the bench runs in a network namespace
 * of its own (unshare; it goes with the process), where the veth ip0 (the LB's MAC; GRO on, which
 * registers the receive queue BPF_PROG_TEST_RUN needs for ingress_ifindex) has one next hop with
 * a permanent neighbour entry, and the backends' prefixes route via it. Under BPF_PROG_TEST_RUN
 * bpf_fib_lookup answers from the caller's namespace. The egress is ip0 itself: XDP_TX.
 */
static const char *const ipip_net_setup[] = {
	"ip link set lo up",
	"ip link add ip0 type veth peer name ip0p",
	"ip link set ip0 address 02:00:00:00:00:02",
	"ip link set ip0p up && ip link set ip0 up",
	"ethtool -K ip0 gro on >/dev/null",
	"ip addr add 100.64.1.1/24 dev ip0 && ip addr add fd00:a::1/64 dev ip0 nodad",
	"ip neigh add 100.64.1.254 lladdr 02:00:00:00:fe:01 dev ip0 nud permanent",
	"ip neigh add fd00:a::fe lladdr 02:00:00:00:fe:01 dev ip0 nud permanent",
	"ip route add 10.1.0.0/24 via 100.64.1.254 && ip route add fd00:11::/64 via fd00:a::fe",
	"sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1",
};

/* ip0's ifindex, or 0 (the ipip rows are then skipped). */
static int ipip_net(void)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "xlb-bench: unshare(CLONE_NEWNET): %s: no ipip rows\n",
			strerror(errno));
		return 0;
	}
	for (size_t i = 0; i < sizeof(ipip_net_setup) / sizeof(ipip_net_setup[0]); i++)
		if (system(ipip_net_setup[i])) {
			fprintf(stderr, "xlb-bench: '%s' failed: no ipip rows\n",
				ipip_net_setup[i]);
			return 0;
		}
	return (int)if_nametoindex("ip0");
}

/* Every backend of vip at a routed address of the family: 10.1.0.ID or fd00:11::ID. */
static int ipip_backends(struct fx *f, int vip, __u8 family)
{
	for (__u32 j = 0; j < f->vip[vip].nbe; j++) {
		__u32 id = f->vip[vip].be[j];
		struct xlb_backend be;
		char a[64];
		int err = xlb_dp_get_backend(f->dp, id, &be);

		if (err)
			return err;
		if (family == 4)
			snprintf(a, sizeof(a), "10.1.0.%u", id);
		else
			snprintf(a, sizeof(a), "fd00:11::%x", id);
		memset(&be.addr, 0, sizeof(be.addr));
		inet_pton(family == 4 ? AF_INET : AF_INET6, a, &be.addr);
		be.family = family;
		err = xlb_dp_set_backend(f->dp, id, &be);
		if (err)
			return err;
	}
	return 0;
}

/* The ipip instance: VIP 0 (IPv4) and VIP 2 (IPv6) forward by ipip from configured sources. */
static int ipip_setup(struct fx *f, const struct xlb_dp_opts *o)
{
	struct xlb_encap_src src = {0};
	int err = fx_setup(f, o);

	inet_pton(AF_INET, "198.18.0.1", &src.v4);
	inet_pton(AF_INET6, "2001:db8:ff::1", &src.v6);
	err = err ?: xlb_dp_set_encap_src(f->dp, &src);
	err = err ?: xlb_dp_set_vip_fwd(f->dp, f->vip[0].id, XLB_FWD_IPIP);
	err = err ?: xlb_dp_set_vip_fwd(f->dp, f->vip[2].id, XLB_FWD_IPIP);
	err = err ?: ipip_backends(f, 0, 4);
	return err ?: ipip_backends(f, 2, 6);
}

/*
 * One trial of the ipip rows on f (ingress ifx): the distinct rows first, as the dsr-l2 rows
 * (table emptied, the 100k flows of est established untimed, the new flows of fresh, est again),
 * then the hot rows on flow 0 of est (established by that pass) and the IPv6 flow h6; 4in6 is
 * VIP 0 with its backends at IPv6 addresses for the row. *off counts runs that were not XDP_TX.
 */
static void ipip_trial(struct fx *f, int ifx, int pfd, int t, const struct frames *est,
		       const struct frames *fresh, const struct frames *h6, __u32 *off)
{
	int prog = f->dp->prog_fd;
	double d;

	run_distinct_on(pfd, ifx, fresh, &rows[IPIP_ROW + 4].ns[t], XDP_PASS, NULL);
	fx_flush_flows(f);
	run_distinct_on(prog, ifx, est, &d, XDP_TX, NULL);
	run_distinct_on(prog, ifx, fresh, &rows[IPIP_ROW + 5].ns[t], XDP_TX, off);
	run_distinct_on(prog, ifx, est, &rows[IPIP_ROW + 6].ns[t], XDP_TX, off);
	run_on(prog, ifx, h6->buf, h6->len[0], 1, &d); /* its entry, after the flush */
	run_same(pfd, ifx, est->buf, est->len[0], &rows[IPIP_ROW].ns[t], XDP_PASS, NULL);
	run_same(prog, ifx, est->buf, est->len[0], &rows[IPIP_ROW + 1].ns[t], XDP_TX, off);
	run_same(prog, ifx, h6->buf, h6->len[0], &rows[IPIP_ROW + 2].ns[t], XDP_TX, off);
	ipip_backends(f, 0, 6);
	run_same(prog, ifx, est->buf, est->len[0], &rows[IPIP_ROW + 3].ns[t], XDP_TX, off);
	ipip_backends(f, 0, 4);
}

/*
 * The flood row: xlb's table emptied, the 100,000 flows of est opened (SYN) and promoted (their
 * ACK, ack), then 5 passes of 100,000 spoofed SYNs (new 5-tuples: a bit of the source address
 * flipped between passes), each pass timed. Prints the share of the established flows that
 * still have their entry and backend afterwards.
 */
static void flood_row(struct fx *f, const struct frames *est, const struct frames *ack,
		      struct frames *flood)
{
	__u32 had = 0, kept = 0, *be = calloc(est->n, sizeof(*be));
	int prog = f->dp->prog_fd;
	double d;

	if (!be)
		return;
	fx_flush_flows(f);
	run_distinct(prog, est, &d);
	run_distinct(prog, ack, &d);
	for (__u32 i = 0; i < est->n; i++) {
		struct pkt_spec s;
		struct xlb_flow_key k;
		struct xlb_flow e;

		pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
		pkt_spec_flow(&s, i);
		fx_spec_key(&s, &k);
		if (!xlb_dp_flow_get(f->dp, &k, &e) && (e.flags & XLB_FLOW_F_EST)) {
			had++;
			be[i] = e.backend_id;
		}
	}
	for (int t = 0; t < TRIALS; t++) {
		run_distinct(prog, flood, &rows[FLOOD_ROW].ns[t]);
		for (__u32 i = 0; i < flood->n; i++)
			flood->buf[(size_t)i * FRAME_CAP + 14 + 13] ^= (__u8)(1u << t);
	}
	for (__u32 i = 0; i < est->n; i++) {
		struct pkt_spec s;
		struct xlb_flow_key k;
		struct xlb_flow e;

		pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
		pkt_spec_flow(&s, i);
		fx_spec_key(&s, &k);
		kept += be[i] && !xlb_dp_flow_get(f->dp, &k, &e) && e.backend_id == be[i];
	}
	printf("flood: %u of %u flows established (promoted) before; %u keep entry and backend "
	       "after %u spoofed SYNs (%.2f%%)\n",
	       had, est->n, kept, TRIALS * flood->n, had ? 100.0 * kept / had : 0.0);
	free(be);
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "build/bench/dataplane.json";
	struct bench_pass_bpf *pass = bench_pass_bpf__open_and_load();
	struct bench_cost_bpf *cost = bench_cost_bpf__open();
	struct bench_macswap_bpf *swap = bench_macswap_bpf__open_and_load();
	struct xlb_dp_opts opts = {.flow_entries = 1048576, .lb_mac = FX_LB_MAC};
	struct xlb_dp_opts evict_opts = {.flow_entries = 16384, .lb_mac = FX_LB_MAC};
	struct frames v4, v6, fresh, evict, v4ack, flood;
	static const __u8 scheds[] = {XLB_SCHED_MAGLEV, XLB_SCHED_SOURCE_HASH, XLB_SCHED_RR,
				      XLB_SCHED_WRR, XLB_SCHED_LEAST_CONN};
	struct frames sfr;
	struct fx fx, small, sch, ipx;
	int xlb, xlb_small, err, cost_fd[NCOST], ifx = ipip_net();
	__u64 ic0[XLB_C_MAX], ic1[XLB_C_MAX];
	__u32 ipip_off = 0;
	char *chase = chase_setup();

	/* The 100k-lookup floor uses a table of the size xlb gets here. */
	if (cost && (cost_skip_xlb_maps(cost) ||
		     bpf_map__set_max_entries(cost->maps.cost_flows_100k, opts.flow_entries) ||
		     bench_cost_bpf__load(cost))) {
		bench_cost_bpf__destroy(cost);
		cost = NULL;
	}
	if (!pass || !swap || !cost || fx_setup(&fx, &opts) || fx_setup(&small, &evict_opts) ||
	    fx_setup(&sch, NULL)) {
		fprintf(stderr,
			"xlb-bench: cannot load the programs (root and a BTF kernel needed)\n");
		return 1;
	}
	if (ifx && ipip_setup(&ipx, &opts)) {
		fprintf(stderr, "xlb-bench: cannot set up the ipip instance: no ipip rows\n");
		ifx = 0;
	}
	for (int i = 0; i < NIPIP; i++)
		rows[IPIP_ROW + i].skipped = !ifx;
	rows[CHASE_ROW].skipped = !chase;
	/*
	 * The hot rows repeat one frame, and xlb sends it on with source := its destination (the
	 * LB's MAC) and destination := the backend's MAC. Run 2 would see a frame to the backend's
	 * MAC, which is not the LB's (frame_is_ours: pass_not_ours), and time that instead of the
	 * established path. With every backend of this instance at the LB's MAC, run 1's output is
	 * a frame to the LB's MAC of the same flow: every run after it takes the established path
	 * (hot_rows_checked below verifies it).
	 */
	err = lb_mac_backends(&fx);
	if (err) {
		fprintf(stderr, "xlb-bench: cannot set the backends' MACs: %s\n", strerror(-err));
		return 1;
	}
	xlb = fx.dp->prog_fd;
	xlb_small = small.dp->prog_fd;
	err = build_frames(&v4, NDISTINCT, 0, 4);
	err = err ?: build_frames(&v6, 1, 0, 6);
	err = err ?: build_frames(&fresh, NDISTINCT, 1000000, 4);
	err = err ?: build_frames(&evict, NDISTINCT, 2000000, 4);
	err = err ?: build_frames(&sfr, 20000, 3000000, 4);
	err = err ?: build_frames_flags(&v4ack, NDISTINCT, 0, 4, PKT_TCP_ACK);
	err = err ?: build_frames(&flood, NDISTINCT, 4000000, 4);
	if (err) {
		fprintf(stderr, "xlb-bench: cannot build frames: %s\n", strerror(-err));
		return 1;
	}
	/* A non-VIP frame: same flow, another destination address. */
	__u8 other[FRAME_CAP];
	memcpy(other, v4.buf, v4.len[0]);
	other[14 + 19] ^= 0x40;

	if (cost_setup(cost, &fx, v4.buf, v4.len[0])) {
		fprintf(stderr, "xlb-bench: cannot fill the cost programs' maps\n");
		return 1;
	}
	cost_progs(cost, cost_fd);

	print_prog_info("xlb_xdp", xlb);
	/* Establish the 100k flows (and the hot one: v4 flow 0, v6 flow 0). */
	double d;
	run_distinct(xlb, &v4, &d);
	run_repeat(xlb, v6.buf, v6.len[0], 1, &d);
	if (hot_rows_checked(&fx, xlb, &v4, &v6))
		fprintf(stderr, "xlb-bench: the hot rows do not take the established path\n");

	for (int t = 0; t < TRIALS; t++) {
		int pfd = bpf_program__fd(pass->progs.bench_pass);

		run_repeat(pfd, v4.buf, v4.len[0], REPEAT, &rows[0].ns[t]);
		run_repeat(bpf_program__fd(swap->progs.bench_macswap), v4.buf, v4.len[0], REPEAT,
			   &rows[1].ns[t]);
		run_repeat(xlb, other, v4.len[0], REPEAT, &rows[2].ns[t]);
		run_repeat(xlb, v4.buf, v4.len[0], REPEAT, &rows[3].ns[t]);
		run_repeat(xlb, v6.buf, v6.len[0], REPEAT, &rows[4].ns[t]);
		run_distinct(pfd, &fresh, &rows[5].ns[t]);
		fx_flush_flows(&fx);
		run_distinct(xlb, &v4, &rows[7].ns[t]); /* re-establish: not timed */
		run_distinct(xlb, &fresh, &rows[6].ns[t]);
		run_distinct(xlb, &v4, &rows[7].ns[t]);
		/* The small table is full after the first pass; every new flow then evicts. */
		run_distinct(xlb_small, &evict, &rows[8].ns[t]);
		for (__u32 i = 0; i < evict.n; i++) /* new flows again next trial */
			evict.buf[(size_t)i * FRAME_CAP + 14 + 12] ^= 0x01;
		for (size_t k = 0; k < sizeof(scheds); k++) {
			use_sched(&sch, scheds[k]);
			fx_flush_flows(&sch);
			run_distinct(sch.dp->prog_fd, &sfr, &rows[SCHED_ROW + k].ns[t]);
		}
		for (int k = 0; k < NCOST; k++)
			run_repeat(cost_fd[k], v4.buf, v4.len[0], REPEAT,
				   &rows[COST_ROW + k].ns[t]);
		cost_flush(bpf_map__fd(cost->maps.cost_new_flows));
		run_distinct(bpf_program__fd(cost->progs.cost_insert), &fresh,
			     &rows[INSERT_ROW].ns[t]);
		cost_flush(bpf_map__fd(cost->maps.cost_new_flows_hash));
		run_distinct(bpf_program__fd(cost->progs.cost_insert_hash), &fresh,
			     &rows[INSERT_HASH_ROW].ns[t]);
		/* Emptied and refilled as xlb's table is above, so its entries are as scattered. */
		cost_flush(bpf_map__fd(cost->maps.cost_flows_100k));
		run_distinct(bpf_program__fd(cost->progs.cost_flow_lookup_100k), &v4, &d);
		run_distinct(bpf_program__fd(cost->progs.cost_flow_lookup_100k), &v4,
			     &rows[LOOKUP_100K_ROW].ns[t]);
		if (chase)
			rows[CHASE_ROW].ns[t] = chase_ns(chase);
		if (ifx) {
			if (t == 0)
				xlb_dp_read_counters(ipx.dp, ic0);
			ipip_trial(&ipx, ifx, pfd, t, &v4, &fresh, &v6, &ipip_off);
		}
	}
	if (ifx) {
		xlb_dp_read_counters(ipx.dp, ic1);
		printf("ipip: encap_ipv4_in_ipv4 %llu, encap_ipv6_in_ipv6 %llu, encap_ipv4_in_ipv6 "
		       "%llu; timed runs that were not XDP_TX: %u\n",
		       (unsigned long long)(ic1[XLB_C_ENCAP_4IN4] - ic0[XLB_C_ENCAP_4IN4]),
		       (unsigned long long)(ic1[XLB_C_ENCAP_6IN6] - ic0[XLB_C_ENCAP_6IN6]),
		       (unsigned long long)(ic1[XLB_C_ENCAP_4IN6] - ic0[XLB_C_ENCAP_4IN6]),
		       ipip_off);
		if (ipip_off)
			fprintf(stderr, "xlb-bench: %u ipip runs were not XDP_TX\n", ipip_off);
	}

	flood_row(&fx, &v4, &v4ack, &flood);

	printf("\n%-40s %-9s %9s %9s %9s %12s\n", "row", "method", "median", "min", "max",
	       "above base");
	for (size_t i = 0; i < NROWS; i++) {
		struct row *r = &rows[i], *b;
		double s[TRIALS];

		if (r->skipped)
			continue;
		memcpy(s, r->ns, sizeof(s));
		qsort(s, TRIALS, sizeof(double), bench_cmp_double);
		r->med = s[TRIALS / 2];
		r->min = s[0];
		r->max = s[TRIALS - 1];
		b = find_row(r->baseline);
		printf("%-40s %-9s %7.1fns %7.1fns %7.1fns", r->name,
		       r->method == REPEAT_ONE ? "repeat"
		       : r->method == SAME     ? "same"
		       : r->method == CHASE    ? "chase"
					       : "distinct",
		       r->med, r->min, r->max);
		if (b)
			printf(" %+9.1fns", r->med - b->med);
		printf("\n");
	}
	if (argc <= 1)
		mkdir("build/bench", 0755);
	err = write_json(out);
	if (err)
		fprintf(stderr, "xlb-bench: cannot write %s: %s\n", out, strerror(-err));
	else
		printf("\nwrote %s\n", out);
	if (ifx)
		fx_teardown(&ipx);
	fx_teardown(&sch);
	fx_teardown(&small);
	fx_teardown(&fx);
	bench_cost_bpf__destroy(cost);
	bench_macswap_bpf__destroy(swap);
	bench_pass_bpf__destroy(pass);
	return err ? 1 : 0;
}
