/* veth_pps.c - packet rate over veth for `make bench`: live-frames generator, xlb vs MAC swap, receiver. */
#define _GNU_SOURCE /* setns, sched_setaffinity */
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
 * alternate the programs (xlb then MAC swap, then the other order) so drift hits both alike;
 * the ratio is taken per trial.
 */

#define TRIALS	7
#define FRAMES	2000000 /* per run */
#define BATCH	64
#define GEN_LEN 64

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
	double xlb[TRIALS], mac[TRIALS], ratio[TRIALS], loss_x = 0, loss_m = 0, l;
	__u8 tmpl[GEN_LEN] = {};
	__u64 c0[XLB_C_MAX], c1[XLB_C_MAX];
	struct bench_row rows[3];
	struct pkt_spec s;
	int gen_ifindex, cpu, err = 1, len, gen_fd;
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
	if (bench_gen_bpf__load(gen) || !rx || !swap || fx_setup(&fx, &opts)) {
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
	xlb_dp_read_counters(fx.dp, c0);
	for (int t = 0; t < TRIALS; t++) {
		for (int k = 0; k < 2; k++) {
			int is_xlb = (t + k) % 2 == 0;

			if (attach(lb_ns, lb_if,
				   is_xlb ? fx.dp->prog_fd
					  : bpf_program__fd(swap->progs.bench_macswap)))
				goto out_fx;
			run(gen_fd, gen_ifindex, rx, tmpl, FRAMES / 10, NULL); /* settle */
			if (is_xlb) {
				xlb[t] = run(gen_fd, gen_ifindex, rx, tmpl, FRAMES, &l);
				loss_x += l / TRIALS;
			} else {
				mac[t] = run(gen_fd, gen_ifindex, rx, tmpl, FRAMES, &l);
				loss_m += l / TRIALS;
			}
		}
		ratio[t] = mac[t] > 0 ? xlb[t] / mac[t] : 0;
	}
	xlb_dp_read_counters(fx.dp, c1);
	if (getenv("VETH_PPS_DEBUG"))
		for (int c = 0; c < XLB_C_MAX; c++)
			if (c1[c] != c0[c])
				fprintf(stderr, "%s %llu\n", xlb_counter_name(c),
					(unsigned long long)(c1[c] - c0[c]));

	snprintf(note, sizeof(note),
		 "CPU %d for generator, program and receiver; %u flows; frames not received: "
		 "xlb %.2f%%, macswap %.2f%%; xlb flow hits %llu, misses %llu",
		 cpu, nflows, loss_x * 100, loss_m * 100,
		 (unsigned long long)(c1[XLB_C_FLOW_HIT] - c0[XLB_C_FLOW_HIT]),
		 (unsigned long long)(c1[XLB_C_FLOW_MISS] - c0[XLB_C_FLOW_MISS]));
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
	err = bench_write_rows(out, rows, 3);
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
