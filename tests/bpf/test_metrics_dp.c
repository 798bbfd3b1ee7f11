/* test_metrics_dp.c - metrics collected from the real maps (per-CPU sums, flow-table occupancy), the
 * text promtool accepts, and the time of one scrape with 100 VIPs and the most backends xlbd allows. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <event2/buffer.h>

#include "check.h"
#include "xlb.skel.h"
#include "clock.h"
#include "xlbd.h"

static struct xlbd d; /* large (per-backend runtime state): not on the stack */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A configuration of nvips VIPs (10.200.x.y:80/tcp, ids 1..) with nbe backends each
 * (ids 1.. in order), written to the maps as xlbd would; every backend has a known MAC and
 * closed circuit (checks on: every family is printed). */
static int configure(size_t nvips, size_t nbe)
{
	__u32 next_be = 1;

	xlbd_config_free(&d.cfg);
	memset(&d.macs, 0, sizeof(d.macs));
	memset(&d.health, 0, sizeof(d.health));
	d.cfg.vips = calloc(nvips, sizeof(*d.cfg.vips));
	if (!d.cfg.vips)
		return -ENOMEM;
	d.cfg.nvips = nvips;
	for (size_t i = 0; i < nvips; i++) {
		struct xlbd_vip *v = &d.cfg.vips[i];
		struct xlb_vip vip = {.id = i + 1};
		int err;

		v->id = i + 1;
		v->key.family = XLB_AF_INET;
		v->key.proto = IPPROTO_TCP;
		v->key.port = htons(80);
		v->key.addr.v4 = htonl(0x0ac80000 | (__u32)i); /* 10.200.0.i */
		xlbd_check_defaults(&v->check);
		v->check.kind = XLB_CHECK_TCP;
		err = xlb_dp_set_vip(d.dp, &v->key, &vip);
		if (err)
			return err;
		v->be = calloc(nbe, sizeof(*v->be));
		if (!v->be)
			return -ENOMEM;
		v->nbe = nbe;
		for (size_t j = 0; j < nbe; j++) {
			struct xlbd_backend *b = &v->be[j];
			struct xlb_backend be = {
				.state = XLB_BE_UP, .family = XLB_AF_INET, .vip_id = v->id};

			b->id = next_be++;
			b->family = XLB_AF_INET;
			b->addr.v4 = htonl(0x0ac90000 | b->id); /* 10.201.x.y */
			b->weight = 1 + j % 3;
			be.addr = b->addr;
			err = xlb_dp_set_backend(d.dp, b->id, &be);
			if (err)
				return err;
			d.macs.known[b->id] = true;
			d.health.be[b->id].active = true;
			xlbd_breaker_init(&d.health.be[b->id].br, true, xlb_now_ms());
			xlbd_health_record(&d.health, v, b, true, 150 + 10 * j);
		}
	}
	return 0;
}

static char *scrape(size_t *len, double *collect_ms, double *format_ms)
{
	struct evbuffer *b = evbuffer_new();
	struct xlbd_metrics_snap s;
	double t0 = now_ms(), t1;
	char *out = NULL;

	if (!b)
		return NULL;
	if (xlbd_metrics_collect(&d, &s))
		goto out;
	t1 = now_ms();
	if (!xlbd_metrics_format(&s, b)) {
		*len = evbuffer_get_length(b);
		out = malloc(*len + 1);
		if (out) {
			evbuffer_remove(b, out, *len);
			out[*len] = '\0';
		}
	}
	if (collect_ms)
		*collect_ms = t1 - t0;
	if (format_ms)
		*format_ms = now_ms() - t1;
	xlbd_metrics_snap_free(&s);
out:
	evbuffer_free(b);
	return out;
}

/* Per-CPU values i+1 on CPU i: the scrape must print their sum, for the backend and for its VIP
 * (whose traffic is its backends'). */
static void test_per_cpu_sums(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_traffic *t = calloc(ncpu, sizeof(*t));
	__u64 *c = calloc(ncpu, sizeof(*c)), sum = (__u64)ncpu * (ncpu + 1) / 2;
	__u32 be_id = 5, ctr = XLB_C_DROP_NO_BACKEND;
	char line[256], *text;
	size_t len;

	if (!ASSERT_TRUE(t && c, "memory") || !ASSERT_OK(configure(2, 4), "configure"))
		goto out;
	for (int i = 0; i < ncpu; i++) {
		t[i] = (struct xlb_traffic){.packets = i + 1,
					    .bytes = 100 * (i + 1),
					    .new_flows = i + 1,
					    .syn_retries = i + 1};
		c[i] = i + 1;
	}
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(d.dp->skel->maps.xlb_be_stats), &be_id, t, 0),
		  "backend stats");
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(d.dp->skel->maps.xlb_stats), &ctr, c, 0),
		  "counter");
	text = scrape(&len, NULL, NULL);
	if (!ASSERT_TRUE(text != NULL, "scrape"))
		goto out;
	snprintf(line, sizeof(line), "xlb_vip_packets_total{vip=\"10.200.0.1:80/tcp\"} %llu",
		 (unsigned long long)sum);
	ASSERT_TRUE(xt_has_line(text, line), line);
	snprintf(line, sizeof(line), "xlb_vip_bytes_total{vip=\"10.200.0.1:80/tcp\"} %llu",
		 (unsigned long long)sum * 100);
	ASSERT_TRUE(xt_has_line(text, line), line);
	/* Backend 5 is the first of the second VIP (4 backends each). */
	snprintf(line, sizeof(line),
		 "xlb_backend_syn_retries_total{vip=\"10.200.0.1:80/tcp\",backend=\"10.201.0.5\"} "
		 "%llu",
		 (unsigned long long)sum);
	ASSERT_TRUE(xt_has_line(text, line), line);
	snprintf(line, sizeof(line), "xlb_drops_total{reason=\"no_backend\"} %llu",
		 (unsigned long long)sum);
	ASSERT_TRUE(xt_has_line(text, line), line);
	ASSERT_TRUE(
		xt_has_line(text,
			    "xlb_backend_up{vip=\"10.200.0.0:80/tcp\",backend=\"10.201.0.1\"} 1"),
		"backend up");
	ASSERT_TRUE(
		xt_has_line(
			text,
			"xlb_backend_weight{vip=\"10.200.0.0:80/tcp\",backend=\"10.201.0.2\"} 2"),
		"weight");
	ASSERT_TRUE(
		xt_has_line(text,
			    "xlb_health_check_duration_seconds_count{vip=\"10.200.0.0:80/tcp\"} 4"),
		"check durations");
	free(text);
out:
	free(t);
	free(c);
}

/* Occupancy is the number of entries in the table, counted at scrape time. */
static void test_flow_entries(void)
{
	struct xlb_flow f = {.backend_id = 1, .vip_id = 1};
	struct xlb_flow_key k = {.proto = IPPROTO_TCP, .family = XLB_AF_INET};
	char line[64], *text;
	size_t len;

	if (!ASSERT_OK(configure(1, 1), "configure"))
		return;
	for (__u32 i = 0; i < 5000; i++) {
		k.src.v4 = htonl(0x0a000000 | i);
		k.sport = htons(1024 + i % 60000);
		if (!ASSERT_OK(xlb_dp_flow_put(d.dp, &k, &f), "insert flow"))
			return;
	}
	d.metrics.flow_count_ms = 0; /* walk now, not the count of a scrape less than 5 s ago */
	text = scrape(&len, NULL, NULL);
	if (!ASSERT_TRUE(text != NULL, "scrape"))
		return;
	ASSERT_TRUE(xt_has_line(text, "xlb_flow_table_entries 5000"), "5000 entries counted");
	free(text);
	k.src.v4 = htonl(0x0a000000 | 5000);
	ASSERT_OK(xlb_dp_flow_put(d.dp, &k, &f), "insert flow");
	text = scrape(&len, NULL, NULL);
	if (!ASSERT_TRUE(text != NULL, "scrape"))
		return;
	ASSERT_TRUE(xt_has_line(text, "xlb_flow_table_entries 5000"),
		    "within XLBD_FLOW_COUNT_MS of a walk: its count, no new walk");
	xlb_dp_flow_del(d.dp, &k);
	snprintf(line, sizeof(line), "xlb_flow_table_capacity %u", d.dp->flow_entries);
	ASSERT_TRUE(xt_has_line(text, line), line);
	free(text);
	for (__u32 i = 0; i < 5000; i++) {
		k.src.v4 = htonl(0x0a000000 | i);
		k.sport = htons(1024 + i % 60000);
		xlb_dp_flow_del(d.dp, &k);
	}
}

/* promtool on a scrape of real maps (skipped without promtool). */
static void test_promtool(void)
{
	char path[] = "/tmp/xlb-test-metrics-dp.XXXXXX", cmd[160], *text;
	size_t len;
	int fd, st;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		xt_skip("promtool not installed (Debian package prometheus; scripts/deps.sh)");
		return;
	}
	if (!ASSERT_OK(configure(3, 5), "configure"))
		return;
	text = scrape(&len, NULL, NULL);
	if (!ASSERT_TRUE(text != NULL, "scrape"))
		return;
	fd = mkstemp(path);
	if (ASSERT_TRUE(fd >= 0, "temp file")) {
		ASSERT_EQ(write(fd, text, len), (long long)len, "write");
		close(fd);
		snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >&2", path);
		st = system(cmd);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool check metrics");
		unlink(path);
	}
	free(text);
}

/* Best and mean of runs scrapes; walk: count the flow table in every one. */
static void time_scrapes(const char *what, bool walk)
{
	double best = 1e9, total = 0, cbest = 0, fbest = 0;
	unsigned long long entries = 0;
	size_t len = 0, lines = 0;
	const int runs = 10;

	for (int r = 0; r < runs; r++) {
		double c, fm, t0, dt;
		char *text;

		if (walk)
			d.metrics.flow_count_ms = 0;
		t0 = now_ms();
		text = scrape(&len, &c, &fm);
		dt = now_ms() - t0;
		if (!ASSERT_TRUE(text != NULL, "scrape"))
			return;
		if (r == 0) {
			const char *e = strstr(text, "\nxlb_flow_table_entries ");

			for (const char *p = text; (p = strchr(p, '\n')); p++)
				lines++;
			if (e)
				entries = strtoull(e + 24, NULL, 10);
		}
		free(text);
		total += dt;
		if (dt < best) {
			best = dt;
			cbest = c;
			fbest = fm;
		}
	}
	fprintf(stderr,
		"    scrape, 100 VIPs x 81 backends, %llu flows, %s: best %.1f ms (collect %.1f, "
		"format %.1f), mean %.1f ms over %d; %zu bytes, %zu lines\n",
		entries, what, best, cbest, fbest, total / runs, runs, len, lines);
}

/*
 * The cost of one scrape at the largest configuration: 100 VIPs x 81 backends (backend ids
 * stop at XLB_MAX_BACKENDS - 1 = 8191, so 100 x 100 cannot be configured), with an empty
 * flow table and with up to 200,000 flows (put until the first full bucket), walked or not.
 * Reported, never asserted: a busy machine must not fail it.
 */
static void test_scrape_time_report(void)
{
	struct xlb_flow f = {.backend_id = 1, .vip_id = 1};
	struct xlb_flow_key k = {.proto = IPPROTO_TCP, .family = XLB_AF_INET};
	const __u32 nflows = 200000;

	if (!ASSERT_OK(configure(100, 81), "configure"))
		return;
	time_scrapes("walked every scrape", true);
	for (__u32 i = 0; i < nflows; i++) {
		k.src.v4 = htonl(0x0b000000 | i);
		k.sport = htons(1024 + i % 60000);
		if (xlb_dp_flow_put(d.dp, &k, &f))
			break;
	}
	time_scrapes("walked every scrape", true);
	time_scrapes("count reused (walk at most every 5 s)", false);
	for (__u32 i = 0; i < nflows; i++) {
		k.src.v4 = htonl(0x0b000000 | i);
		k.sport = htons(1024 + i % 60000);
		xlb_dp_flow_del(d.dp, &k);
	}
}

int main(void)
{
	struct xlb_dp_opts opts = {.flow_entries = XLB_DEFAULT_FLOWS, .hash_seed = 1};
	int err;

	libbpf_set_print(NULL);
	d.view = (struct xlbd_view){.macs = &d.macs, .health = &d.health};
	err = xlb_dp_load(&opts, &d.dp);
	if (err) {
		printf("FAIL test_metrics_dp/setup: cannot load the XDP program (%s)\n",
		       strerror(-err));
		return 1;
	}
	RUN_TEST(test_per_cpu_sums);
	RUN_TEST(test_flow_entries);
	RUN_TEST(test_promtool);
	RUN_TEST(test_scrape_time_report);
	xlbd_config_free(&d.cfg);
	xlb_dp_destroy(d.dp);
	return xt_finish();
}
