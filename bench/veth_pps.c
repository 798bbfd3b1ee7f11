/* veth_pps.c - packet rate over veth for `make bench`: live-frames generator, xlb vs MAC swap, receiver. */
#define _GNU_SOURCE /* setns, sched_setaffinity */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_count.skel.h"
#include "bench_gen.skel.h"
#include "bench_macswap.skel.h"
#include "fixture.h"
#include "rows.h"

/*
 * Topology (made by veth_pps.sh):
 *
 *   namespace GEN_NS                          namespace LB_NS
 *   +--------------------------------+        +------------------------------+
 *   | bench_gen (BPF_PROG_RUN, live  |  veth  | LB_IF: the program under     |
 *   |   frames, ingress GEN_IF)  ----+--------+-> test, xlb or MAC swap,     |
 *   | GEN_IF: bench_count (count,  <-+--------+-- XDP_TX                     |
 *   |   drop)                        |        |                              |
 *   +--------------------------------+        +------------------------------+
 *
 * The generator's XDP_TX is a redirect out of GEN_IF, so frames arrive at LB_IF, whose program
 * sends them back with XDP_TX (xlb: to a backend MAC; every backend's frames reach GEN_IF's
 * XDP program, which sees frames whatever their destination MAC). The process is pinned to
 * one CPU; the veth NAPI of both ends runs in softirq on the CPU that sent, so generator, program
 * under test and receiver share that CPU, and the rate is 1 / (sum of their costs). Trials
 * rotate the programs (xlb dsr-l2, MAC swap, xlb ipip, each first in turn) so drift hits all
 * alike; the ratios are taken per trial. ipip is the same xlb program with VIP 0 switched to
 * `fwd ipip`: LB_NS routes the backends' prefix via a next hop with a permanent neighbour entry
 * at GEN_IF's MAC (veth_pps.sh), so bpf_fib_lookup answers "out LB_IF": XDP_TX, back to GEN_IF.
 *
 * The flood rows, after the trials: a second xlb instance (1,048,576 slots, as xlb-bench's) on
 * LB_IF, 100,000 flows established by the generator (ACK frames, three passes: the first
 * creates an entry, the next promotes it), then TRIALS runs of spoofed SYNs at the generator's
 * full rate, every frame a 5-tuple not sent before; the established flows' entries are read
 * back through the dataplane API (xlb_dp_flow_get): the share that kept entry and backend.
 */

#define TRIALS	7
#define FRAMES	2000000 /* per run */
#define BATCH	64
#define GEN_LEN 64
#define NEST	100000 /* established flows of the flood rows */
#define SYN_SEQ 200000 /* the spoofed SYNs' first flow number: none is an established flow */

static const char *argv0 = "veth-pps";
static int gen_ns, lb_ns;

static int enter(int ns)
{
	if (setns(ns, CLONE_NEWNET)) {
		fprintf(stderr, "%s: setns: %s\n", argv0, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Attaches prog (native mode) to ifname in namespace ns; comes back to the generator's. */
static int attach(int ns, const char *ifname, int prog)
{
	int err = enter(ns), ifindex;

	if (err)
		return err;
	ifindex = if_nametoindex(ifname);
	err = ifindex ? bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, NULL) : -ENODEV;
	if (err)
		fprintf(stderr, "%s: attach to %s: %s\n", argv0, ifname, strerror(-err));
	return enter(gen_ns) ?: err;
}

static __u64 rx_count(struct bench_count_bpf *rx)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(rx->maps.bench_rx);
	__u64 v[256] = {}, sum = 0;
	__u32 zero = 0;

	if (ncpu > 256 || bpf_map_lookup_elem(fd, &zero, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* Sends frames through GEN_IF; Mpps received back, or < 0. */
static double run(int gen_fd, int gen_ifindex, struct bench_count_bpf *rx, const __u8 *tmpl,
		  __u32 frames, double *loss)
{
	struct xdp_md ctx = {.data_end = GEN_LEN, .ingress_ifindex = gen_ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = tmpl, .data_size_in = GEN_LEN, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = BATCH);
	__u64 before = rx_count(rx), got;
	double t0 = bench_now_ns(), t;

	if (bpf_prog_test_run_opts(gen_fd, &o)) {
		fprintf(stderr, "%s: BPF_PROG_RUN live frames: %s\n", argv0, strerror(errno));
		return -errno;
	}
	t = bench_now_ns() - t0;
	got = rx_count(rx) - before;
	if (loss) /* a few frames of the run before may arrive in this one: not below 0 */
		*loss = got < frames ? 1.0 - (double)got / frames : 0;
	return got / t * 1e3;
}

/* A generator of nflows flows (SYN_SEQ on: every frame a new flow, from flow SYN_SEQ on) with the
 * template tmpl; NULL on failure. */
static struct bench_gen_bpf *gen_load(const __u8 *tmpl, __u32 nflows, int syn_flood)
{
	struct bench_gen_bpf *g = bench_gen_bpf__open();

	if (!g)
		return NULL;
	memcpy((void *)g->rodata->tmpl, tmpl, GEN_LEN);
	g->rodata->nflows = nflows;
	if (bench_gen_bpf__load(g)) {
		bench_gen_bpf__destroy(g);
		return NULL;
	}
	if (syn_flood)
		g->bss->seq = SYN_SEQ;
	return g;
}

/* The flow key of the generator's flow i (bench_gen.bpf.c: port 1024 + i % 60000, address
 * + i / 60000). */
static void gen_flow_key(__u32 i, struct xlb_flow_key *k)
{
	struct pkt_spec s;

	pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
	s.sport = 1024 + i % 60000;
	s.src.v4 = htonl(ntohl(s.src.v4) + i / 60000);
	fx_spec_key(&s, k);
}

/* Every backend of VIP 0 at 10.1.0.ID (routed in LB_NS), tunnelled from 198.18.0.1. */
static int ipip_setup(struct fx *f)
{
	struct xlb_encap_src src = {0};
	int err;

	inet_pton(AF_INET, "198.18.0.1", &src.v4);
	err = xlb_dp_set_encap_src(f->dp, &src);
	for (__u32 j = 0; !err && j < f->vip[0].nbe; j++) {
		struct xlb_backend be;
		__u32 id = f->vip[0].be[j];

		err = xlb_dp_get_backend(f->dp, id, &be);
		memset(&be.addr, 0, sizeof(be.addr));
		be.addr.v4 = htonl(0x0a010000 | id);
		be.family = 4;
		err = err ?: xlb_dp_set_backend(f->dp, id, &be);
	}
	return err;
}

struct flood {
	double syn[TRIALS], kept_pct, loss;
	__u32 had, kept;
	__u64 c[XLB_C_MAX]; /* counters moved by the spoofed SYNs */
};

/* The flood rows (see the top): 0, or 1 on failure. */
static int flood_run(int gen_ifindex, struct bench_count_bpf *rx, const __u8 *ack,
		     const char *lb_if, struct flood *fl)
{
	struct xlb_dp_opts opts = {.flow_entries = 1048576, .lb_mac = FX_LB_MAC};
	__u8 syn[GEN_LEN];
	struct pkt_spec s;
	struct bench_gen_bpf *est = gen_load(ack, NEST, 0), *sg;
	__u64 c0[XLB_C_MAX], c1[XLB_C_MAX];
	__u32 *be = calloc(NEST, sizeof(*be));
	struct fx fx = {};
	int err = 1;
	double l;

	pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
	s.tcp_flags = PKT_TCP_SYN;
	s.payload_len = GEN_LEN - 54;
	sg = pkt_build(&s, syn, sizeof(syn)) == GEN_LEN ? gen_load(syn, 0xffffffffu, 1) : NULL;
	if (!est || !sg || !be || fx_setup(&fx, &opts)) {
		fprintf(stderr, "%s: flood: cannot load the programs\n", argv0);
		goto out;
	}
	if (attach(lb_ns, lb_if, fx.dp->prog_fd))
		goto out_fx;
	for (int p = 0; p < 3; p++)
		if (run(bpf_program__fd(est->progs.bench_gen), gen_ifindex, rx, ack, NEST, NULL) <
		    0)
			goto out_fx;
	fl->had = fl->kept = 0;
	for (__u32 i = 0; i < NEST; i++) {
		struct xlb_flow_key k;
		struct xlb_flow e;

		gen_flow_key(i, &k);
		if (!xlb_dp_flow_get(fx.dp, &k, &e) && (e.flags & XLB_FLOW_F_EST)) {
			fl->had++;
			be[i] = e.backend_id;
		}
	}
	xlb_dp_read_counters(fx.dp, c0);
	fl->loss = 0;
	for (int t = 0; t < TRIALS; t++) {
		fl->syn[t] =
			run(bpf_program__fd(sg->progs.bench_gen), gen_ifindex, rx, syn, FRAMES, &l);
		if (fl->syn[t] < 0)
			goto out_fx;
		fl->loss += l / TRIALS;
	}
	xlb_dp_read_counters(fx.dp, c1);
	for (int c = 0; c < XLB_C_MAX; c++)
		fl->c[c] = c1[c] - c0[c];
	for (__u32 i = 0; i < NEST; i++) {
		struct xlb_flow_key k;
		struct xlb_flow e;

		gen_flow_key(i, &k);
		fl->kept += be[i] && !xlb_dp_flow_get(fx.dp, &k, &e) && e.backend_id == be[i];
	}
	fl->kept_pct = fl->had ? 100.0 * fl->kept / fl->had : 0;
	printf("flood: %u of %u flows established before; %u keep entry and backend after %u "
	       "spoofed SYNs (%.2f%%)\n",
	       fl->had, NEST, fl->kept, TRIALS * FRAMES, fl->kept_pct);
	err = 0;
out_fx:
	attach(lb_ns, lb_if, -1);
	fx_teardown(&fx);
out:
	free(be);
	bench_gen_bpf__destroy(sg);
	bench_gen_bpf__destroy(est);
	return err;
}

static int pin_cpu(void)
{
	int cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : cpu;
}

int main(int argc, char **argv)
{
	struct xlb_dp_opts opts = {.flow_entries = 262144, .lb_mac = FX_LB_MAC};
	const char *out, *gen_if, *lb_if;
	struct bench_macswap_bpf *swap = NULL;
	struct bench_count_bpf *rx = NULL;
	struct bench_gen_bpf *gen = NULL;
	double xlb[TRIALS], mac[TRIALS], ipip[TRIALS], ratio[TRIALS], ratio_ipip[TRIALS];
	double loss_x = 0, loss_m = 0, loss_i = 0, l;
	__u8 tmpl[GEN_LEN] = {};
	__u64 c0[XLB_C_MAX], c1[XLB_C_MAX], ci[XLB_C_MAX] = {}, cd[XLB_C_MAX] = {};
	struct bench_row rows[7];
	struct flood fl = {};
	char note_i[256], note_f[320], note_k[256];
	struct pkt_spec s;
	int gen_ifindex, cpu, err = 1, len, gen_fd, flood_ok;
	__u32 nflows = 1024;
	char note[256];
	struct fx fx = {};

	if (argc != 6) {
		fprintf(stderr, "usage: %s OUT.json GEN_NS GEN_IF LB_NS LB_IF\n", argv0);
		return 2;
	}
	out = argv[1];
	gen_if = argv[3];
	lb_if = argv[5];
	gen_ns = open(argv[2], O_RDONLY | O_CLOEXEC);
	lb_ns = open(argv[4], O_RDONLY | O_CLOEXEC);
	if (gen_ns < 0 || lb_ns < 0 || enter(gen_ns)) {
		fprintf(stderr, "%s: cannot open namespaces %s, %s\n", argv0, argv[2], argv[4]);
		return 1;
	}
	cpu = pin_cpu();
	gen_ifindex = if_nametoindex(gen_if);

	/* The template: flow 0 of many, an established-flow segment (ACK) with 10 bytes of payload
	 * to the fixture's VIP 198.51.100.1:80/tcp. */
	pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
	s.tcp_flags = PKT_TCP_ACK;
	s.payload_len = GEN_LEN - 54;
	len = pkt_build(&s, tmpl, sizeof(tmpl));
	if (len != GEN_LEN) {
		fprintf(stderr, "%s: template is %d bytes, not %d\n", argv0, len, GEN_LEN);
		return 1;
	}

	gen = bench_gen_bpf__open();
	if (!gen)
		goto out;
	memcpy((void *)gen->rodata->tmpl, tmpl, GEN_LEN);
	gen->rodata->nflows = nflows;
	rx = bench_count_bpf__open_and_load();
	swap = bench_macswap_bpf__open_and_load();
	if (bench_gen_bpf__load(gen) || !rx || !swap || fx_setup(&fx, &opts) || ipip_setup(&fx)) {
		fprintf(stderr, "%s: cannot load the programs\n", argv0);
		goto out;
	}
	gen_fd = bpf_program__fd(gen->progs.bench_gen);
	if (attach(gen_ns, gen_if, bpf_program__fd(rx->progs.bench_count)) ||
	    attach(lb_ns, lb_if, fx.dp->prog_fd))
		goto out_fx;

	if (getenv("VETH_PPS_DEBUG")) {
		__u8 o[128];
		LIBBPF_OPTS(bpf_test_run_opts, d, .data_in = tmpl, .data_size_in = GEN_LEN,
			    .data_out = o, .data_size_out = sizeof(o));
		bpf_prog_test_run_opts(gen_fd, &d);
		for (__u32 i = 0; i < d.data_size_out; i++)
			fprintf(stderr, "%02x%s", o[i], i % 16 == 15 ? "\n" : " ");
		for (__u32 i = 0; i < GEN_LEN; i++)
			fprintf(stderr, "%02x%s", tmpl[i], i % 16 == 15 ? "\n" : " ");
	}
	/* Establish the flows (and warm everything up). */
	if (run(gen_fd, gen_ifindex, rx, tmpl, 4 * nflows, NULL) < 0)
		goto out_fx;
	/* Trial t runs program (t + k) % 3 k-th: 0 xlb dsr-l2, 1 MAC swap, 2 xlb ipip. The xlb
	 * counters of each xlb run are added to its mode's (cd, ci). */
	for (int t = 0; t < TRIALS; t++) {
		for (int k = 0; k < 3; k++) {
			int kind = (t + k) % 3;
			double *r = kind == 0 ? &xlb[t] : kind == 1 ? &mac[t] : &ipip[t];
			double *loss = kind == 0 ? &loss_x : kind == 1 ? &loss_m : &loss_i;

			if (kind != 1 &&
			    xlb_dp_set_vip_fwd(fx.dp, fx.vip[0].id,
					       kind == 2 ? XLB_FWD_IPIP : XLB_FWD_DSR_L2))
				goto out_fx;
			if (attach(lb_ns, lb_if,
				   kind != 1 ? fx.dp->prog_fd
					     : bpf_program__fd(swap->progs.bench_macswap)))
				goto out_fx;
			run(gen_fd, gen_ifindex, rx, tmpl, FRAMES / 10, NULL); /* settle */
			xlb_dp_read_counters(fx.dp, c0);
			*r = run(gen_fd, gen_ifindex, rx, tmpl, FRAMES, &l);
			xlb_dp_read_counters(fx.dp, c1);
			*loss += l / TRIALS;
			for (int c = 0; kind != 1 && c < XLB_C_MAX; c++)
				(kind == 2 ? ci : cd)[c] += c1[c] - c0[c];
		}
		ratio[t] = mac[t] > 0 ? xlb[t] / mac[t] : 0;
		ratio_ipip[t] = mac[t] > 0 ? ipip[t] / mac[t] : 0;
	}
	if (getenv("VETH_PPS_DEBUG"))
		for (int c = 0; c < XLB_C_MAX; c++)
			if (cd[c] || ci[c])
				fprintf(stderr, "%s dsr-l2 %llu ipip %llu\n", xlb_counter_name(c),
					(unsigned long long)cd[c], (unsigned long long)ci[c]);
	if (attach(lb_ns, lb_if, -1))
		goto out_fx;
	/* A failed flood leaves the other rows: they are written without the flood's two. */
	flood_ok = !flood_run(gen_ifindex, rx, tmpl, lb_if, &fl);

	snprintf(note, sizeof(note),
		 "CPU %d for generator, program and receiver; %u flows; frames not received: "
		 "xlb %.2f%%, macswap %.2f%%; xlb flow hits %llu, misses %llu",
		 cpu, nflows, loss_x * 100, loss_m * 100, (unsigned long long)cd[XLB_C_FLOW_HIT],
		 (unsigned long long)cd[XLB_C_FLOW_MISS]);
	snprintf(note_i, sizeof(note_i),
		 "VIP 0 fwd ipip, backends 10.1.0.0/24 via a neighbour at the generator's MAC; "
		 "frames not received %.2f%%; over the ipip runs: flow hits %llu, misses %llu, "
		 "encap_ipv4_in_ipv4 %llu, xdp_tx %llu",
		 loss_i * 100, (unsigned long long)ci[XLB_C_FLOW_HIT],
		 (unsigned long long)ci[XLB_C_FLOW_MISS], (unsigned long long)ci[XLB_C_ENCAP_4IN4],
		 (unsigned long long)ci[XLB_C_ACT_TX]);
	rows[0] = (struct bench_row){.group = "veth",
				     .name = "veth: macswap XDP_TX (reference)",
				     .method = "live frames, 64 B, one pinned CPU, interleaved",
				     .unit = "Mpps"};
	bench_summary(mac, TRIALS, &rows[0]);
	rows[1] = (struct bench_row){.group = "veth",
				     .name = "veth: xlb, established flows",
				     .method = "live frames, 64 B, one pinned CPU, interleaved",
				     .unit = "Mpps",
				     .note = note};
	bench_summary(xlb, TRIALS, &rows[1]);
	rows[2] = (struct bench_row){.group = "veth",
				     .name = "veth: xlb / macswap, established flows",
				     .method = "per-trial ratio of the two rows above",
				     .unit = "ratio",
				     .target_op = ">=",
				     .target = 0.95};
	bench_summary(ratio, TRIALS, &rows[2]);
	rows[3] = (struct bench_row){.group = "veth",
				     .name = "veth: xlb ipip 4in4, established flows",
				     .method = "live frames, 64 B, one pinned CPU, interleaved",
				     .unit = "Mpps",
				     .note = note_i};
	bench_summary(ipip, TRIALS, &rows[3]);
	rows[4] = (struct bench_row){.group = "veth",
				     .name = "veth: xlb ipip / macswap, established flows",
				     .method = "per-trial ratio of the ipip and macswap rows",
				     .unit = "ratio"};
	bench_summary(ratio_ipip, TRIALS, &rows[4]);
	qsort(fl.syn, TRIALS, sizeof(double), bench_cmp_double); /* the median, as bench_summary */
	snprintf(
		note_f, sizeof(note_f),
		"%d runs of %d spoofed SYNs (a new 5-tuple each) at the generator's full rate into "
		"xlb (1,048,576 slots) holding %u established flows; generator, xlb and receiver "
		"on one CPU: %.0f ns a frame, %.0f above macswap's; frames not received %.2f%%; "
		"flow_insert %llu, flow_insert_fail %llu, flow_evicted %llu",
		TRIALS, FRAMES, fl.had, 1e3 / fl.syn[(TRIALS - 1) / 2],
		1e3 / fl.syn[(TRIALS - 1) / 2] - 1e3 / rows[0].median, fl.loss * 100,
		(unsigned long long)fl.c[XLB_C_FLOW_INSERT],
		(unsigned long long)fl.c[XLB_C_FLOW_INSERT_FAIL],
		(unsigned long long)fl.c[XLB_C_FLOW_EVICTED]);
	rows[5] = (struct bench_row){.group = "veth",
				     .name = "veth flood: xlb, spoofed SYNs sustained",
				     .method = "live frames, 64 B SYN, one pinned CPU",
				     .unit = "Mpps",
				     .note = note_f};
	bench_summary(fl.syn, TRIALS, &rows[5]);
	snprintf(note_k, sizeof(note_k),
		 "%u of %u generator flows promoted before the flood; %u of them kept entry and "
		 "backend after %d spoofed SYNs (xlb_dp_flow_get)",
		 fl.had, NEST, fl.kept, TRIALS * FRAMES);
	rows[6] = (struct bench_row){
		.group = "veth",
		.name = "veth flood: established flows keeping entry and backend",
		.method = "read back through the dataplane API after the flood",
		.unit = "%",
		.median = fl.kept_pct,
		.min = fl.kept_pct,
		.max = fl.kept_pct,
		.n = 1,
		.note = note_k};
	err = bench_write_rows(out, rows, flood_ok ? 7 : 5);
	if (err)
		fprintf(stderr, "%s: cannot write %s: %s\n", argv0, out, strerror(-err));
	err = err ? 1 : 0;
out_fx:
	attach(lb_ns, lb_if, -1); /* detach: the namespaces outlive us until veth_pps.sh ends */
	attach(gen_ns, gen_if, -1);
	fx_teardown(&fx);
out:
	bench_macswap_bpf__destroy(swap);
	bench_count_bpf__destroy(rx);
	bench_gen_bpf__destroy(gen);
	return err;
}
