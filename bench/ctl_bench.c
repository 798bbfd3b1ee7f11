/* ctl_bench.c - controller numbers for `make bench`: Maglev build, table publish, config latency. */
#define _GNU_SOURCE /* pipe2, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "addr.h"
#include "dataplane.h"
#include "fixture.h"
#include "maglev.h"
#include "rows.h"
#include "xlb.skel.h" /* struct xlb_bpf__rodata: where the live program keeps lb_mac */
#include "xlb_hash.h"

/*
 * ctl-bench offline OUT.json
 *     Maglev build time (1,000 backends, unequal weights, 65,537 and 655,373 slots) and the
 *     time to publish a table with xlb_dp_publish_table (create + fill + swap; the swap waits
 *     for an RCU grace period in the kernel). No network, no xlbd.
 * ctl-bench latency OUT.json --xlbctl PATH --socket PATH --state FILE --pin-dir DIR
 *                   --vip VIP ADDR...
 *     For each ADDR: `xlbctl backend add VIP ADDR` (timed to its exit), then, from its return,
 *     until a new flow sent through the live program (BPF_PROG_TEST_RUN on xlbd's program) is
 *     forwarded to the new backend's MAC; then `backend del` (not timed). Run by ctl_live.sh
 *     against a real xlbd.
 * ctl-bench listen PORT...
 *     Accepts and closes TCP connections on 0.0.0.0:PORT (the health-check targets of
 *     ctl_live.sh); prints "ready" once listening, runs until killed.
 * ctl-bench seed PIN_DIR STATE_FILE MAC
 *     Pins maps whose backend entries say what an earlier xlbd learned (every backend up, with
 *     MAC): the next xlbd starts without one neighbour-table dump per backend.
 * ctl-bench states PIN_DIR
 *     Prints how many backend entries are up, down and draining (`xlbctl backend show` answers
 *     are limited to 64 KiB, about 200 backends).
 */

#define NBACKENDS  1000
#define SMALL_RING 65537
#define BIG_RING   XLB_MAX_RING_SIZE /* 655373 */

static const char *argv0 = "ctl-bench";

static __u64 splitmix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* 1,000 backends 10.222.x.y with weights 1..10 (unequal, fixed): what xlbd would hand the builder. */
static void bench_backends(struct xlb_maglev_backend *be, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		struct xlb_addr a = {.v4 = htonl(0x0ade0000 | (i + 1))};

		be[i].key = xlb_addr_key(&a, XLB_AF_INET);
		be[i].weight = 1 + splitmix(i) % 10;
		be[i].id = i + 1;
	}
}

static int maglev_row(__u32 m, int runs, double target_ms, struct bench_row *r)
{
	static struct xlb_maglev_backend be[NBACKENDS];
	__u32 *ring = calloc(m, sizeof(*ring)); /* touched once: page faults are not timed */
	double s[32];
	char name[96];

	if (!ring || runs > 32)
		return -ENOMEM;
	bench_backends(be, NBACKENDS);
	xlb_maglev_build(be, NBACKENDS, m, 0x5eed, ring); /* warm-up: caches, allocator */
	for (int i = 0; i < runs; i++) {
		double t0 = bench_now_ns();
		int err = xlb_maglev_build(be, NBACKENDS, m, 0x5eed + i, ring);

		if (err) {
			free(ring);
			return err;
		}
		s[i] = (bench_now_ns() - t0) / 1e6;
	}
	free(ring);
	snprintf(name, sizeof(name), "maglev build %u slots x %d backends", m, NBACKENDS);
	*r = (struct bench_row){.group = "controller",
				.name = strdup(name),
				.method = "wall clock, xlb_maglev_build, weights 1-10",
				.unit = "ms",
				.target_op = "<=",
				.target = target_ms};
	bench_summary(s, runs, r);
	return 0;
}

/* Publish a 1,000-member table into a loaded (unattached, unpinned) program, runs times:
 * rows for the whole publish and for its swap alone. */
static int publish_rows(__u32 m, int runs, struct bench_row *total, struct bench_row *swap)
{
	static struct xlb_maglev_backend be[NBACKENDS];
	struct xlb_dp_opts opts = {.ring_size = m, .flow_entries = 4096};
	__u32 members[NBACKENDS], *ring = calloc(m, sizeof(*ring));
	double st[32], ss[32];
	struct xlb_dp *dp = NULL;
	char name[96];
	int err;

	if (!ring || runs > 32)
		return -ENOMEM;
	err = xlb_dp_load(&opts, &dp);
	if (err)
		goto out;
	bench_backends(be, NBACKENDS);
	for (__u32 i = 0; i < NBACKENDS; i++)
		members[i] = be[i].id;
	err = xlb_maglev_build(be, NBACKENDS, m, 0x5eed, ring);
	for (int i = -1; !err && i < runs; i++) { /* run -1: warm-up */
		struct xlb_table *t;
		double t0 = bench_now_ns(), t1;
		int fd = xlb_dp_table_new(dp, &t);

		if (fd < 0) {
			err = fd;
			break;
		}
		t->len = m;
		t->nmemb = NBACKENDS;
		memcpy(t->memb, members, sizeof(members));
		memcpy(t->ring, ring, m * sizeof(*ring));
		t1 = bench_now_ns();
		err = xlb_dp_table_swap(dp, 1, fd, t);
		if (i >= 0) {
			st[i] = (bench_now_ns() - t0) / 1e6;
			ss[i] = (bench_now_ns() - t1) / 1e6;
		}
	}
	if (err)
		goto out;
	snprintf(name, sizeof(name), "publish table %u slots (new map, fill, swap)", m);
	*total = (struct bench_row){
		.group = "controller",
		.name = strdup(name),
		.method = "wall clock, xlb_dp_table_new + memcpy + xlb_dp_table_swap",
		.unit = "ms"};
	bench_summary(st, runs, total);
	snprintf(name, sizeof(name), "publish table %u slots: swap alone", m);
	*swap = (struct bench_row){
		.group = "controller",
		.name = strdup(name),
		.method = "wall clock, outer-map update (waits for an RCU grace period)",
		.unit = "ms"};
	bench_summary(ss, runs, swap);
out:
	xlb_dp_destroy(dp);
	free(ring);
	return err;
}

static int do_offline(const char *out)
{
	struct bench_row rows[6];
	int err;

	err = maglev_row(SMALL_RING, 15, 2, &rows[0]);
	err = err ?: maglev_row(BIG_RING, 7, 20, &rows[1]);
	err = err ?: publish_rows(SMALL_RING, 15, &rows[2], &rows[3]);
	err = err ?: publish_rows(BIG_RING, 7, &rows[4], &rows[5]);
	if (err) {
		fprintf(stderr, "%s: offline: %s\n", argv0, strerror(-err));
		return 1;
	}
	err = bench_write_rows(out, rows, 6);
	if (err) {
		fprintf(stderr, "%s: cannot write %s: %s\n", argv0, out, strerror(-err));
		return 1;
	}
	return 0;
}

/* ---- config latency against a live xlbd ---------------------------------------------------- */

struct live {
	const char *xlbctl, *sock, *state, *pin_dir, *vip;
	struct xlb_vip_key vk;
	__u32 seed, vip_id, ring_size;
	int tables_fd, backends_fd, prog_fd;
	int inner_fd;
	__u32 inner_id;
	__u8 lb_mac[6];		       /* the live program's: only frames to it are balanced */
	const struct xlb_table *table; /* the mapped inner map, read-only */
	__u32 next_flow;	       /* flows sent so far: each probe packet is a new flow */
	__u8 *owned;		       /* ring slots of the backend waited for */
};

/* Runs `xlbctl -j -s SOCK ARGS...`; its stdout (up to cap - 1 bytes) into buf. Exit status. */
static int run_xlbctl(struct live *l, char *const args[], char *buf, size_t cap)
{
	char *argv[16] = {(char *)l->xlbctl, "-j", "-s", (char *)l->sock};
	posix_spawn_file_actions_t fa;
	int p[2], status, n = 4;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	if (posix_spawn(&pid, l->xlbctl, &fa, NULL, argv, NULL)) {
		posix_spawn_file_actions_destroy(&fa);
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while ((r = read(p[0], buf + len, cap - 1 - len)) > 0 && len + 1 < cap)
		len += r;
	buf[len] = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* An integer member of a JSON object in text (path of up to two member names). */
static int json_uint(const char *text, const char *a, const char *b, __u32 *out)
{
	json_t *j = json_loads(text, 0, NULL), *v;
	int err = -ENOENT;

	if (!j)
		return -EINVAL;
	v = json_object_get(j, a);
	if (v && b)
		v = json_object_get(v, b);
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		err = 0;
	}
	json_decref(j);
	return err;
}

/* The LB MAC the live program was loaded with (its .rodata): a probe frame must be sent to it,
 * or the program passes it untouched (pass_not_ours). 0, or -errno. */
static int live_lb_mac(struct live *l)
{
	struct bpf_prog_info pi = {};
	__u32 plen = sizeof(pi), ids[64], n;
	int err = -ENOENT;

	if (bpf_obj_get_info_by_fd(l->prog_fd, &pi, &plen))
		return -errno;
	n = pi.nr_map_ids < 64 ? pi.nr_map_ids : 64;
	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = n;
	pi.map_ids = (__u64)(unsigned long)ids;
	plen = sizeof(pi);
	if (bpf_obj_get_info_by_fd(l->prog_fd, &pi, &plen))
		return -errno;
	for (__u32 i = 0; i < n && err; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi), zero = 0;
		int fd = bpf_map_get_fd_by_id(ids[i]);
		size_t nl;

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && (nl = strlen(mi.name)) >= 7 &&
		    !strcmp(mi.name + nl - 7, ".rodata") &&
		    /* The section may be shorter than the skeleton's struct (its tail padding). */
		    mi.value_size >= offsetof(struct xlb_bpf__rodata, lb_mac) + 6) {
			__u8 *v = calloc(1, mi.value_size);

			if (v && !bpf_map_lookup_elem(fd, &zero, v)) {
				memcpy(l->lb_mac, v + offsetof(struct xlb_bpf__rodata, lb_mac), 6);
				err = 0;
			}
			free(v);
		}
		close(fd);
	}
	return err;
}

static int live_open(struct live *l)
{
	char path[512], out[65536], err[128];
	char *show_prog[] = {"prog", "show", NULL}, *show_vip[] = {"vip", "show", NULL};
	json_t *j, *vips, *v;
	__u32 prog_id;
	size_t i;

	if (xlb_parse_vip(l->vip, &l->vk, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv0, err);
		return -EINVAL;
	}
	j = json_load_file(l->state, 0, NULL);
	if (!j || !json_is_integer(json_object_get(j, "hash_seed"))) {
		fprintf(stderr, "%s: no hash_seed in %s\n", argv0, l->state);
		json_decref(j);
		return -EINVAL;
	}
	l->seed = json_integer_value(json_object_get(j, "hash_seed"));
	json_decref(j);

	if (run_xlbctl(l, show_prog, out, sizeof(out)) ||
	    json_uint(out, "prog_id", NULL, &prog_id)) {
		fprintf(stderr, "%s: xlbctl prog show: %s\n", argv0, out);
		return -EINVAL;
	}
	l->prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (l->prog_fd >= 0 && live_lb_mac(l)) {
		fprintf(stderr, "%s: cannot read the live program's LB MAC\n", argv0);
		return -ENOENT;
	}
	if (run_xlbctl(l, show_vip, out, sizeof(out)))
		return -EINVAL;
	j = json_loads(out, 0, NULL);
	vips = json_object_get(j, "vips");
	json_array_foreach(vips, i, v) {
		if (!strcmp(json_string_value(json_object_get(v, "vip")) ?: "", l->vip))
			l->vip_id = json_integer_value(json_object_get(v, "id"));
	}
	json_decref(j);
	snprintf(path, sizeof(path), "%s/xlb_tables", l->pin_dir);
	l->tables_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/xlb_backends", l->pin_dir);
	l->backends_fd = bpf_obj_get(path);
	if (l->prog_fd < 0 || !l->vip_id || l->tables_fd < 0 || l->backends_fd < 0) {
		fprintf(stderr, "%s: cannot open xlbd's program, vip %s or pinned maps in %s\n",
			argv0, l->vip, l->pin_dir);
		return -ENOENT;
	}
	l->ring_size = 0;
	l->inner_fd = -1;
	return 0;
}

/* Maps the VIP's current table (when the outer slot changed); 0, or -errno. */
static int live_table(struct live *l)
{
	struct bpf_map_info info = {};
	__u32 id, len = sizeof(info);
	void *t;
	int fd;

	if (bpf_map_lookup_elem(l->tables_fd, &l->vip_id, &id))
		return -errno;
	if (id == l->inner_id && l->table)
		return 0;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return -errno;
	}
	t = mmap(NULL, info.value_size, PROT_READ, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	if (l->table)
		munmap((void *)l->table, XLB_TBL_SIZE(l->ring_size));
	if (l->inner_fd >= 0)
		close(l->inner_fd);
	l->inner_fd = fd;
	l->inner_id = id;
	l->table = t;
	l->ring_size = (info.value_size - sizeof(struct xlb_table)) / sizeof(__u32);
	return 0;
}

/*
 * One probe: if the VIP's table gives be_id any slot, send a new flow that hashes to one of
 * them (the data plane's own hash, xlb_hash.h, with xlbd's seed) through the program. 1 when it
 * was forwarded to the backend's MAC, 0 not yet, -errno.
 */
static int live_probe(struct live *l, __u32 be_id)
{
	__u8 frame[128], out[128];
	struct xlb_backend be;
	struct xlb_flow_key k;
	struct pkt_spec s;
	__u32 len, n = 0, tries;
	int err = live_table(l), flen;

	if (err)
		return err;
	len = l->table->len;
	if (!len || len > l->ring_size)
		return 0;
	for (__u32 i = 0; i < len; i++) {
		l->owned[i] = l->table->ring[i] == be_id;
		n += l->owned[i];
	}
	if (!n)
		return 0;
	if (bpf_map_lookup_elem(l->backends_fd, &be_id, &be))
		return -errno;
	pkt_spec_init(&s, XLB_AF_INET, IPPROTO_TCP);
	memcpy(s.dst_mac, l->lb_mac, sizeof(s.dst_mac));
	s.dst = l->vk.addr;
	s.dport = ntohs(l->vk.port);
	s.tcp_flags = PKT_TCP_SYN;
	for (tries = 0; tries < 1000000; tries++) {
		pkt_spec_flow(&s, 5000000 + l->next_flow++);
		fx_spec_key(&s, &k);
		if (l->owned[xlb_flow_hash(&k, l->seed, 0) % len])
			break;
	}
	flen = pkt_build(&s, frame, sizeof(frame));
	if (flen < 0)
		return flen;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = flen, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	if (bpf_prog_test_run_opts(l->prog_fd, &o))
		return -errno;
	return o.retval == XDP_TX && !memcmp(out, be.mac, 6);
}

static int do_latency(const char *outpath, struct live *l, char **addrs, int naddrs)
{
	double cmd[64], vis[64], tot[64], rtt[64];
	char *show[] = {"vip", "show", NULL}, note[96];
	int max_polls = 0;
	struct bench_row rows[4];
	char out[65536];
	int n = 0, err;

	if (naddrs > 64)
		naddrs = 64;
	err = live_open(l);
	if (err)
		return 1;
	l->owned = calloc(XLB_MAX_RING_SIZE, 1);
	if (!l->owned)
		return 1;
	for (int i = 0; i < naddrs; i++) {
		char *add[] = {"backend", "add", (char *)l->vip, addrs[i], NULL};
		char *del[] = {"backend", "del", (char *)l->vip, addrs[i], NULL};
		double t0, t1, t2;
		__u32 id;
		int r = 0, polls = 0;

		t0 = bench_now_ns();
		err = run_xlbctl(l, add, out, sizeof(out));
		t1 = bench_now_ns();
		if (err || json_uint(out, "backend", "id", &id)) {
			fprintf(stderr, "%s: xlbctl backend add %s %s: %s\n", argv0, l->vip,
				addrs[i], out);
			return 1;
		}
		/* From xlbctl's return until a flow lands on the backend (5 s at most). */
		while (bench_now_ns() - t1 < 5e9 && (polls++, r = live_probe(l, id)) == 0)
			usleep(50);
		if (polls > max_polls)
			max_polls = polls;
		t2 = bench_now_ns();
		if (r != 1) {
			fprintf(stderr, "%s: backend %s never got a flow: %s\n", argv0, addrs[i],
				r < 0 ? strerror(-r) : "timeout");
			return 1;
		}
		cmd[n] = (t1 - t0) / 1e6;
		vis[n] = (t2 - t1) / 1e6;
		tot[n] = (t2 - t0) / 1e6;
		/* The fixed cost of any command: spawn xlbctl, connect, one request, exit. */
		t0 = bench_now_ns();
		run_xlbctl(l, show, out, sizeof(out));
		rtt[n] = (bench_now_ns() - t0) / 1e6;
		n++;
		if (run_xlbctl(l, del, out, sizeof(out))) {
			fprintf(stderr, "%s: xlbctl backend del: %s\n", argv0, out);
			return 1;
		}
	}
	rows[0] = (struct bench_row){
		.group = "controller",
		.name = "config: backend add -> flow lands on it (1,000 backends)",
		.method = "xlbctl spawned, then a new flow hashed to the backend's slots through "
			  "xlbd's program (BPF_PROG_TEST_RUN) until forwarded to its MAC",
		.unit = "ms"};
	bench_summary(tot, n, &rows[0]);
	rows[1] = (struct bench_row){.group = "controller",
				     .name = "config: xlbctl backend add until it returns",
				     .method = "xlbctl spawned and waited for",
				     .unit = "ms"};
	bench_summary(cmd, n, &rows[1]);
	rows[2] = (struct bench_row){.group = "controller",
				     .name = "config: xlbctl returned -> flow lands on the backend",
				     .method = "polling the pinned table, one probe flow per poll",
				     .unit = "ms"};
	snprintf(note, sizeof(note), "polls until the flow landed: at most %d", max_polls);
	rows[2].note = note;
	bench_summary(vis, n, &rows[2]);
	rows[3] = (struct bench_row){
		.group = "controller",
		.name = "config: xlbctl round trip (vip show)",
		.method = "xlbctl spawned and waited for: the fixed cost of a command",
		.unit = "ms"};
	bench_summary(rtt, n, &rows[3]);
	err = bench_write_rows(outpath, rows, 4);
	if (err) {
		fprintf(stderr, "%s: cannot write %s: %s\n", argv0, outpath, strerror(-err));
		return 1;
	}
	return 0;
}

/* ---- pinned-map helpers for ctl_live.sh ------------------------------------------------------ */

/*
 * Pins maps in DIR holding every backend of the state file as up with MAC, which is what an
 * xlbd leaves behind when it stops: the next xlbd reuses them and starts with the MACs it knew
 * (seed_macs_from_maps) instead of asking the neighbour table once per backend.
 */
static int do_seed(const char *dir, const char *state, const char *mac_s)
{
	struct xlb_dp_opts opts = {.pin_dir = dir};
	struct xlb_dp *dp = NULL;
	json_t *j = json_load_file(state, 0, NULL), *vips, *v, *bes, *b;
	unsigned int m[6];
	size_t i, k;
	int err = -EINVAL;

	if (!j || sscanf(mac_s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		goto out;
	err = xlb_dp_load(&opts, &dp);
	if (err)
		goto out;
	vips = json_object_get(j, "vips");
	json_array_foreach(vips, i, v) {
		__u32 vip_id = json_integer_value(json_object_get(v, "id"));

		bes = json_object_get(v, "backends");
		json_array_foreach(bes, k, b) {
			struct xlb_backend be = {.state = XLB_BE_UP, .vip_id = vip_id};
			__u32 id = json_integer_value(json_object_get(b, "id"));

			for (int x = 0; x < 6; x++)
				be.mac[x] = m[x];
			be.weight = json_integer_value(json_object_get(b, "weight"));
			err = xlb_parse_addr(json_string_value(json_object_get(b, "address")) ?: "",
					     &be.addr, &be.family, NULL, 0);
			err = err ?: xlb_dp_set_backend(dp, id, &be);
			if (err)
				goto out;
		}
	}
out:
	if (err)
		fprintf(stderr, "%s: seed %s from %s: %s\n", argv0, dir, state, strerror(-err));
	xlb_dp_destroy(dp); /* the pins stay */
	json_decref(j);
	return err ? 1 : 0;
}

/* Prints "UP DOWN DRAINING": backend entries of the pinned map by state (entries with a MAC). */
static int do_states(const char *dir)
{
	char path[512];
	__u32 n[3] = {0};
	int fd;

	snprintf(path, sizeof(path), "%s/xlb_backends", dir);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv0, path, strerror(errno));
		return 1;
	}
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		struct xlb_backend be;

		if (bpf_map_lookup_elem(fd, &id, &be) || !be.family)
			continue;
		n[be.state == XLB_BE_UP ? 0 : be.state == XLB_BE_DRAINING ? 2 : 1]++;
	}
	printf("%u %u %u\n", n[0], n[1], n[2]);
	close(fd);
	return 0;
}

/* ---- health-check targets ------------------------------------------------------------------ */

static int do_listen(char **ports, int n)
{
	struct pollfd pf[64];
	int one = 1;

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(ports[i]))};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
			fprintf(stderr, "%s: listen on port %s: %s\n", argv0, ports[i],
				strerror(errno));
			return 1;
		}
		pf[i] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pf, n, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			int c;

			if (!(pf[i].revents & POLLIN))
				continue;
			while ((c = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
				close(c);
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s offline OUT.json\n"
		"       %s latency OUT.json --xlbctl PATH --socket PATH --state FILE "
		"--pin-dir DIR --vip VIP ADDR...\n"
		"       %s listen PORT...\n"
		"       %s seed PIN_DIR STATE_FILE MAC\n"
		"       %s states PIN_DIR\n",
		argv0, argv0, argv0, argv0, argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"xlbctl", required_argument, NULL, 'x'}, {"socket", required_argument, NULL, 's'},
		{"state", required_argument, NULL, 'f'},  {"pin-dir", required_argument, NULL, 'p'},
		{"vip", required_argument, NULL, 'v'},	  {},
	};
	struct live l = {};
	int c;

	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "offline"))
		return do_offline(argv[2]);
	if (!strcmp(argv[1], "listen"))
		return do_listen(argv + 2, argc - 2);
	if (!strcmp(argv[1], "states"))
		return do_states(argv[2]);
	if (!strcmp(argv[1], "seed") && argc == 5)
		return do_seed(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "latency"))
		usage();
	optind = 3;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			l.xlbctl = optarg;
			break;
		case 's':
			l.sock = optarg;
			break;
		case 'f':
			l.state = optarg;
			break;
		case 'p':
			l.pin_dir = optarg;
			break;
		case 'v':
			l.vip = optarg;
			break;
		default:
			usage();
		}
	}
	if (!l.xlbctl || !l.sock || !l.state || !l.pin_dir || !l.vip || optind >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	return do_latency(argv[2], &l, argv + optind, argc - optind);
}
