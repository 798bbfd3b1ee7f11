/* test_metrics.c - the Prometheus text of a hand-built snapshot, label escaping, check histograms,
 * the --metrics address parser, and promtool's verdict on the text (when promtool is installed). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "check.h"
#include "xlbd.h"

/* The text of s as a NUL-terminated string (caller frees). */
static char *format(const struct xlbd_metrics_snap *s)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *out;

	if (!b)
		return NULL;
	if (xlbd_metrics_format(s, b)) {
		evbuffer_free(b);
		return NULL;
	}
	n = evbuffer_get_length(b);
	out = malloc(n + 1);
	if (out) {
		evbuffer_remove(b, out, n);
		out[n] = '\0';
	}
	evbuffer_free(b);
	return out;
}

#define ASSERT_LINE(text, want)                                                  \
	({                                                                       \
		bool _ok = xt_has_line((text), (want));                          \
		if (!_ok)                                                        \
			xt_fail(__FILE__, __LINE__, "missing line: %s", (want)); \
		_ok;                                                             \
	})

static struct xlbd_metrics_vip vips[2];
static struct xlbd_metrics_be bes[3];

/*
 * One IPv4 VIP with health checks and two backends (one up and closed, one down and open), one
 * IPv6 VIP without checks and one draining backend. Counter i of the data plane is 100 + i.
 */
static void fake_snapshot(struct xlbd_metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	memset(vips, 0, sizeof(vips));
	memset(bes, 0, sizeof(bes));
	s->have_counters = true;
	for (int i = 0; i < XLB_C_MAX; i++)
		s->counters[i] = 100 + i;
	s->have_flow_entries = true;
	s->flow_entries = 5;
	s->flow_capacity = 262144;
	s->config_changes = 7;
	s->check_errors[0] = 3; /* EMFILE */

	snprintf(vips[0].labels, sizeof(vips[0].labels), "vip=\"10.0.0.10:80/tcp\"");
	vips[0].have_traffic = true;
	vips[0].traffic = (struct xlb_traffic){
		.packets = 10, .bytes = 1500, .new_flows = 2, .syn_retries = 1};
	vips[0].checks = true;
	xlbd_check_hist_observe(&vips[0].hist, 80);	 /* <= 0.1 ms */
	xlbd_check_hist_observe(&vips[0].hist, 100);	 /* on the bound: still le="0.0001" */
	xlbd_check_hist_observe(&vips[0].hist, 1200);	 /* 2.5 ms bucket */
	xlbd_check_hist_observe(&vips[0].hist, 3000000); /* beyond 1 s: +Inf only */
	snprintf(vips[1].labels, sizeof(vips[1].labels), "vip=\"[2001:db8::10]:443/udp\"");
	vips[1].have_traffic = true;

	snprintf(bes[0].labels, sizeof(bes[0].labels),
		 "vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"");
	bes[0].have_traffic = true;
	bes[0].traffic = (struct xlb_traffic){.packets = 7, .bytes = 1000, .new_flows = 2};
	bes[0].have_active = true;
	bes[0].active_flows = 2;
	bes[0].state = XLB_BE_UP;
	bes[0].weight = 3;
	bes[0].eff_weight = 2; /* slow start */
	bes[0].checks = true;
	bes[0].circuit = XLBD_CIRCUIT_CLOSED;
	bes[0].transitions = 2;
	snprintf(bes[1].labels, sizeof(bes[1].labels),
		 "vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\"");
	bes[1].have_traffic = true;
	bes[1].traffic = (struct xlb_traffic){.packets = 3, .bytes = 500, .syn_retries = 1};
	bes[1].have_active = true;
	bes[1].active_flows = -1; /* the data plane's count may dip below 0 before a recount */
	bes[1].state = XLB_BE_DOWN;
	bes[1].weight = 1;
	bes[1].checks = true;
	bes[1].circuit = XLBD_CIRCUIT_HALF_OPEN;
	bes[1].transitions = 1;
	bes[1].check_failures = 4;
	bes[1].tunnel = true; /* its check has a tunnel part; bes[0]'s has none */
	bes[1].tunnel_failures = 3;
	snprintf(bes[2].labels, sizeof(bes[2].labels),
		 "vip=\"[2001:db8::10]:443/udp\",backend=\"2001:db8::2\"");
	bes[2].have_traffic = true;
	bes[2].state = XLB_BE_DRAINING;
	bes[2].weight = 1;
	s->vips = vips;
	s->nvips = 2;
	s->be = bes;
	s->nbe = 3;
}

/* The route families: only when xlbd publishes routes; one series per VIP address. */
static void test_route_lines(void)
{
	struct xlbd_metrics_route routes[2] = {
		{.labels = "address=\"10.0.0.10\"", .announced = true, .transitions = 3},
		{.labels = "address=\"2001:db8::10\"", .announced = false, .transitions = 2},
	};
	struct xlbd_metrics_snap s;
	char *t;

	fake_snapshot(&s);
	t = format(&s);
	if (ASSERT_TRUE(t != NULL, "format"))
		ASSERT_TRUE(!strstr(t, "xlb_vip_announced"), "no route metrics without routes");
	free(t);
	s.have_routes = true;
	s.drained = true;
	s.route_errors = 4;
	s.routes = routes;
	s.nroutes = 2;
	t = format(&s);
	if (!ASSERT_TRUE(t != NULL, "format"))
		return;
	ASSERT_LINE(t, "# TYPE xlb_vip_announced gauge");
	ASSERT_LINE(t, "xlb_vip_announced{address=\"10.0.0.10\"} 1");
	ASSERT_LINE(t, "xlb_vip_announced{address=\"2001:db8::10\"} 0");
	ASSERT_LINE(t, "# TYPE xlb_vip_announce_transitions_total counter");
	ASSERT_LINE(t, "xlb_vip_announce_transitions_total{address=\"10.0.0.10\"} 3");
	ASSERT_LINE(t, "xlb_node_drained 1");
	ASSERT_LINE(t, "xlb_route_errors_total 4");
	free(t);
}

/* A data-plane counter's sample (name and labels) in the text format. */
static const struct {
	const char *sample;
	int counter;
} counter_lines[] = {
	{"xlb_xdp_actions_total{action=\"tx\"}", XLB_C_ACT_TX},
	{"xlb_xdp_actions_total{action=\"aborted\"}", XLB_C_ACT_ABORTED},
	{"xlb_drops_total{reason=\"no_backend\"}", XLB_C_DROP_NO_BACKEND},
	{"xlb_drops_total{reason=\"fragment\"}", XLB_C_DROP_FRAGMENT},
	{"xlb_passes_total{reason=\"not_vip\"}", XLB_C_PASS_NOT_VIP},
	{"xlb_flow_table_hits_total", XLB_C_FLOW_HIT},
	{"xlb_flow_table_insert_failures_total", XLB_C_FLOW_INSERT_FAIL},
	{"xlb_failover_total{kind=\"walk\"}", XLB_C_FAILOVER_WALK},
	{"xlb_flow_table_evictions_total", XLB_C_FLOW_EVICTED},
	{"xlb_flow_table_insert_races_total", XLB_C_FLOW_INSERT_LOST},
	{"xlb_drain_kept_total", XLB_C_DRAIN_KEPT},
	{"xlb_encapsulated_total{kind=\"ipv4_in_ipv6\"}", XLB_C_ENCAP_4IN6},
	{"xlb_pmtu_answers_total", XLB_C_PMTU_SENT},
	{"xlb_icmp_relayed_total", XLB_C_ICMP_RELAYED},
	{"xlb_map_errors_total", XLB_C_MAP_ERROR},
};

static void test_format_exact_lines(void)
{
	struct xlbd_metrics_snap s;
	char line[256], *t;

	fake_snapshot(&s);
	t = format(&s);
	if (!ASSERT_TRUE(t != NULL, "format"))
		return;
	snprintf(line, sizeof(line), "xlb_build_info{version=\"%s\",abi=\"%d\"} 1", XLB_VERSION,
		 XLB_ABI_VERSION);
	ASSERT_LINE(t, line);
	ASSERT_LINE(t, "# HELP xlb_vip_packets_total Packets forwarded to the VIP's backends.");
	ASSERT_LINE(t, "# TYPE xlb_vip_packets_total counter");
	ASSERT_LINE(t, "xlb_vip_packets_total{vip=\"10.0.0.10:80/tcp\"} 10");
	ASSERT_LINE(t, "xlb_vip_bytes_total{vip=\"10.0.0.10:80/tcp\"} 1500");
	ASSERT_LINE(t, "xlb_vip_new_flows_total{vip=\"10.0.0.10:80/tcp\"} 2");
	ASSERT_LINE(t, "xlb_vip_packets_total{vip=\"[2001:db8::10]:443/udp\"} 0");
	ASSERT_LINE(t,
		    "xlb_backend_packets_total{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 7");
	ASSERT_LINE(t,
		    "xlb_backend_bytes_total{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\"} 500");
	ASSERT_LINE(
		t,
		"xlb_backend_syn_retries_total{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\"} 1");
	ASSERT_LINE(t,
		    "xlb_backend_new_flows_total{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 2");

	/* Data-plane counters: families by prefix, label = the rest of the name; counter c's value
	 * is 100 + c (fake_snapshot). */
	for (size_t i = 0; i < sizeof(counter_lines) / sizeof(counter_lines[0]); i++) {
		snprintf(line, sizeof(line), "%s %d", counter_lines[i].sample,
			 100 + counter_lines[i].counter);
		ASSERT_LINE(t, line);
	}
	ASSERT_TRUE(!strstr(t, "xlb_datapath_events_total{"),
		    "every counter of today has a family of its own");
	ASSERT_LINE(t, "xlb_flow_table_entries 5");
	ASSERT_LINE(t, "xlb_flow_table_capacity 262144");

	/* Backend state and circuit: one series per state, 1 for the current one. */
	ASSERT_LINE(t, "xlb_backend_up{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 1");
	ASSERT_LINE(t, "xlb_backend_up{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\"} 0");
	ASSERT_LINE(t, "xlb_backend_up{vip=\"[2001:db8::10]:443/udp\",backend=\"2001:db8::2\"} 0");
	ASSERT_LINE(t, "xlb_backend_state{vip=\"10.0.0.10:80/"
		       "tcp\",backend=\"10.0.1.3\",state=\"down\"} 1");
	ASSERT_LINE(
		t,
		"xlb_backend_state{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\",state=\"up\"} 0");
	ASSERT_LINE(t, "xlb_backend_state{vip=\"[2001:db8::10]:443/"
		       "udp\",backend=\"2001:db8::2\",state=\"draining\"} 1");
	ASSERT_LINE(t, "xlb_backend_circuit_state{vip=\"10.0.0.10:80/"
		       "tcp\",backend=\"10.0.1.3\",state=\"half_open\"} 1");
	ASSERT_LINE(t, "xlb_backend_circuit_state{vip=\"10.0.0.10:80/"
		       "tcp\",backend=\"10.0.1.3\",state=\"open\"} 0");
	ASSERT_LINE(t, "xlb_backend_circuit_state{vip=\"10.0.0.10:80/"
		       "tcp\",backend=\"10.0.1.2\",state=\"closed\"} 1");
	ASSERT_TRUE(!strstr(t, "xlb_backend_circuit_state{vip=\"[2001:db8::10]:443/udp\""),
		    "no circuit series for a backend without checks");
	ASSERT_LINE(t, "xlb_backend_weight{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 3");
	ASSERT_LINE(
		t, "xlb_backend_effective_weight{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 2");
	ASSERT_LINE(t, "xlb_backend_active_flows{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 2");
	ASSERT_LINE(t, "xlb_backend_active_flows{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\"} 0");
	ASSERT_LINE(
		t,
		"xlb_circuit_transitions_total{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.2\"} 2");
	ASSERT_LINE(
		t,
		"xlb_health_check_failures_total{vip=\"10.0.0.10:80/tcp\",backend=\"10.0.1.3\"} 4");
	ASSERT_LINE(t, "# TYPE xlb_health_check_tunnel_failures_total counter");
	ASSERT_LINE(t, "xlb_health_check_tunnel_failures_total{vip=\"10.0.0.10:80/"
		       "tcp\",backend=\"10.0.1.3\"} 3");
	ASSERT_TRUE(!strstr(t, "xlb_health_check_tunnel_failures_total{vip=\"10.0.0.10:80/"
			       "tcp\",backend=\"10.0.1.2\"}"),
		    "no tunnel series for a check without a tunnel part");

	/* The histogram: cumulative buckets, +Inf = count, sum in seconds. */
	ASSERT_LINE(t, "# TYPE xlb_health_check_duration_seconds histogram");
	ASSERT_LINE(t, "xlb_health_check_duration_seconds_bucket{vip=\"10.0.0.10:80/"
		       "tcp\",le=\"0.0001\"} 2");
	ASSERT_LINE(t, "xlb_health_check_duration_seconds_bucket{vip=\"10.0.0.10:80/"
		       "tcp\",le=\"0.001\"} 2");
	ASSERT_LINE(t, "xlb_health_check_duration_seconds_bucket{vip=\"10.0.0.10:80/"
		       "tcp\",le=\"0.0025\"} 3");
	ASSERT_LINE(
		t, "xlb_health_check_duration_seconds_bucket{vip=\"10.0.0.10:80/tcp\",le=\"1\"} 3");
	ASSERT_LINE(
		t,
		"xlb_health_check_duration_seconds_bucket{vip=\"10.0.0.10:80/tcp\",le=\"+Inf\"} 4");
	ASSERT_LINE(t, "xlb_health_check_duration_seconds_sum{vip=\"10.0.0.10:80/tcp\"} 3.001380");
	ASSERT_LINE(t, "xlb_health_check_duration_seconds_count{vip=\"10.0.0.10:80/tcp\"} 4");
	ASSERT_TRUE(!strstr(t, "xlb_health_check_duration_seconds_count{vip=\"[2001:db8::10]"),
		    "no histogram for a VIP without checks");
	ASSERT_LINE(t, "xlb_config_changes_total 7");
	ASSERT_LINE(t, "xlb_health_check_errors_total{reason=\"EMFILE\"} 3");
	ASSERT_LINE(t, "xlb_health_check_errors_total{reason=\"ENOBUFS\"} 0");
	free(t);
}

/* Every sample belongs to a family announced once, HELP then TYPE, before its samples; every
 * data-plane counter is exported exactly once. */
static void test_every_family_has_help_and_type(void)
{
	struct xlbd_metrics_snap s;
	char *t, *save = NULL, fam[128] = "", type[32] = "";
	int counter_samples = 0, families = 0;
	const char *counter_fams[] = {
		"xlb_xdp_actions_total",  "xlb_passes_total",	      "xlb_drops_total",
		"xlb_flow_table_",	  "xlb_failover_total",	      "xlb_map_errors_total",
		"xlb_drain_kept_total",	  "xlb_encapsulated_total",   "xlb_pmtu_answers_total",
		"xlb_icmp_relayed_total", "xlb_datapath_events_total"};

	fake_snapshot(&s);
	t = format(&s);
	if (!ASSERT_TRUE(t != NULL, "format"))
		return;
	for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128], help_of[128];

		if (sscanf(l, "# HELP %127s", help_of) == 1) {
			ASSERT_TRUE(strcmp(help_of, fam) != 0, l); /* announced once */
			snprintf(fam, sizeof(fam), "%s", help_of);
			type[0] = '\0';
			families++;
			continue;
		}
		if (sscanf(l, "# TYPE %127s %31s", name, type) == 2) {
			ASSERT_TRUE(!strcmp(name, fam), "TYPE follows HELP of the same family");
			continue;
		}
		if (!ASSERT_TRUE(l[0] != '#', l))
			continue;
		sscanf(l, "%127[^{ ]", name);
		if (!strcmp(type, "histogram")) {
			size_t n = strlen(fam);

			ASSERT_TRUE(!strncmp(name, fam, n) && (!strcmp(name + n, "_bucket") ||
							       !strcmp(name + n, "_sum") ||
							       !strcmp(name + n, "_count")),
				    l);
		} else {
			if (!ASSERT_TRUE(!strcmp(name, fam), l))
				fprintf(stderr, "    (family %s)\n", fam);
			ASSERT_TRUE(type[0] != '\0', "a TYPE line before the samples");
		}
		if (!strcmp(type, "counter"))
			ASSERT_TRUE(strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"),
				    l);
		for (size_t i = 0; i < sizeof(counter_fams) / sizeof(counter_fams[0]); i++)
			if (!strncmp(name, counter_fams[i], strlen(counter_fams[i])) &&
			    strcmp(name, "xlb_flow_table_entries") &&
			    strcmp(name, "xlb_flow_table_capacity")) {
				counter_samples++;
				break;
			}
	}
	ASSERT_EQ(counter_samples, XLB_C_MAX, "every data-plane counter exported once");
	ASSERT_TRUE(families >= 25, "families");
	free(t);
}

static void test_label_escaping(void)
{
	char out[64];

	ASSERT_EQ(xlbd_metrics_escape("10.0.0.1", out, sizeof(out)), 8, "plain");
	ASSERT_TRUE(!strcmp(out, "10.0.0.1"), "plain copied");
	ASSERT_EQ(xlbd_metrics_escape("a\\b\"c\nd", out, sizeof(out)), 10, "escaped length");
	ASSERT_TRUE(!strcmp(out, "a\\\\b\\\"c\\nd"), "backslash, quote, newline escaped");
	ASSERT_EQ(xlbd_metrics_escape("abcd", out, 4), -ENOSPC, "no room for the NUL");
	ASSERT_TRUE(out[0] == '\0', "empty on overflow");
	ASSERT_EQ(xlbd_metrics_escape("ab\"", out, 4), -ENOSPC, "no room for an escape");
	ASSERT_EQ(xlbd_metrics_escape("ab\"", out, 5), 4, "just enough room");
}

/* An escaped value goes through the formatter untouched (the text stays parseable). */
static void test_escaped_label_in_output(void)
{
	struct xlbd_metrics_snap s;
	char esc[64], *t;

	fake_snapshot(&s);
	xlbd_metrics_escape("we\"ird\\vip\n", esc, sizeof(esc));
	snprintf(vips[1].labels, sizeof(vips[1].labels), "vip=\"%s\"", esc);
	t = format(&s);
	if (!ASSERT_TRUE(t != NULL, "format"))
		return;
	ASSERT_LINE(t, "xlb_vip_packets_total{vip=\"we\\\"ird\\\\vip\\n\"} 0");
	free(t);
}

static void test_check_hist_buckets(void)
{
	struct xlbd_check_hist h = {0};

	xlbd_check_hist_observe(&h, 0);
	xlbd_check_hist_observe(&h, 100);
	xlbd_check_hist_observe(&h, 101);
	xlbd_check_hist_observe(&h, 1000000);
	xlbd_check_hist_observe(&h, 1000001);
	ASSERT_EQ(h.bucket[0], 2, "0 and 100 us: le 0.0001 (bounds are inclusive)");
	ASSERT_EQ(h.bucket[1], 1, "101 us: le 0.00025");
	ASSERT_EQ(h.bucket[XLBD_CHECK_BUCKETS - 1], 1, "1 s: le 1");
	ASSERT_EQ(h.bucket[XLBD_CHECK_BUCKETS], 1, "above 1 s: +Inf only");
	ASSERT_EQ(h.count, 5, "count");
	ASSERT_EQ(h.sum_us, 2000202, "sum");
	for (int i = 1; i < XLBD_CHECK_BUCKETS; i++)
		ASSERT_TRUE(xlbd_check_bucket_us[i] > xlbd_check_bucket_us[i - 1], "bounds ascend");
}

/* What health.c records of every check result: failures per backend (reset when checks restart), durations per VIP
 * (reset when the VIP id is reused by another VIP), no duration for a probe that never started. */
static void test_check_results(void)
{
	static struct xlbd d; /* large: not on the stack */
	struct xlbd_vip v = {.id = 3}, w = {.id = 3};
	struct xlbd_backend b = {.id = 9};

	v.key.addr.v4 = htonl(0x0a00000a);
	v.key.port = htons(80);
	v.key.proto = 6;
	v.key.family = XLB_AF_INET;
	w.key = v.key;
	w.key.port = htons(81);

	xlbd_health_record(&d.health, &v, &b, true, 300);
	d.health.be[9].checked = true; /* as on_probe does after reporting */
	xlbd_health_record(&d.health, &v, &b, false, 2000);
	xlbd_health_record(&d.health, &v, &b, false, 0); /* could not start */
	ASSERT_EQ(d.health.be[9].check_failures, 2, "two failures");
	ASSERT_EQ(d.health.hist[3].count, 2, "durations of the checks that ran");
	ASSERT_EQ(d.health.hist[3].sum_us, 2300, "sum");

	d.health.be[9].checked = false; /* stop_backend: checks restart later */
	xlbd_health_record(&d.health, &v, &b, true, 100);
	ASSERT_EQ(d.health.be[9].check_failures, 0, "failures start over with the checks");

	xlbd_health_record(&d.health, &w, &b, true, 100); /* VIP id 3 now names another VIP */
	ASSERT_EQ(d.health.hist[3].count, 1, "histogram starts over for another VIP");
	ASSERT_TRUE(!memcmp(&d.health.hist[3].key, &w.key, sizeof(w.key)), "key recorded");
}

static void test_parse_addr(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	static const char *const bad[] = {"127.0.0.1",	    "127.0.0.1:0", "127.0.0.1:65536",
					  "localhost:9100", "::1:9100",	   "[::1]",
					  "[::1]9100",	    ":9100",	   "[]:9100",
					  "1.2.3:9100",	    "[::1]:9100x", ""};
	char err[256];
	socklen_t len = 0;

	if (ASSERT_OK(xlbd_metrics_parse_addr("127.0.0.1:9100", &ss, &len, err, sizeof(err)),
		      "ipv4")) {
		ASSERT_EQ(ss.ss_family, AF_INET, "family");
		ASSERT_EQ(ntohs(sin->sin_port), 9100, "port");
		ASSERT_EQ(ntohl(sin->sin_addr.s_addr), 0x7f000001, "address");
		ASSERT_EQ(len, sizeof(*sin), "length");
	}
	if (ASSERT_OK(xlbd_metrics_parse_addr("[::1]:9100", &ss, &len, err, sizeof(err)), "ipv6")) {
		ASSERT_EQ(ss.ss_family, AF_INET6, "family");
		ASSERT_EQ(ntohs(sin6->sin6_port), 9100, "port");
		ASSERT_TRUE(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr), "address");
		ASSERT_EQ(len, sizeof(*sin6), "length");
	}
	ASSERT_OK(xlbd_metrics_parse_addr("0.0.0.0:80", &ss, &len, err, sizeof(err)), "any");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!xt_row("bad address '%s'", bad[i]))
			continue;
		err[0] = '\0';
		if (!ASSERT_EQ(xlbd_metrics_parse_addr(bad[i], &ss, &len, err, sizeof(err)),
			       -EINVAL, bad[i]))
			continue;
		ASSERT_TRUE(err[0] != '\0', "a message");
	}
	xt_row_end();
	xlbd_metrics_parse_addr("::1:9100", &ss, &len, err, sizeof(err));
	ASSERT_TRUE(strstr(err, "brackets") != NULL, "an unbracketed IPv6 address: say so");
}

/* promtool, from the Debian package prometheus (scripts/deps.sh), lints the text as Prometheus
 * would parse it: names, types, histogram layout, escaping. */
static void test_promtool_check_metrics(void)
{
	char path[] = "/tmp/xlb-test-metrics.XXXXXX", cmd[256], msg[1024];
	struct xlbd_metrics_snap s;
	char esc[64], *t;
	FILE *p;
	size_t n;
	int fd, st;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		xt_skip("promtool not installed (Debian package prometheus; scripts/deps.sh)");
		return;
	}
	fake_snapshot(&s);
	xlbd_metrics_escape("we\"ird\\vip\n", esc, sizeof(esc));
	snprintf(vips[1].labels, sizeof(vips[1].labels), "vip=\"%s\"", esc);
	t = format(&s);
	if (!ASSERT_TRUE(t != NULL, "format"))
		return;
	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "temp file")) {
		free(t);
		return;
	}
	ASSERT_EQ(write(fd, t, strlen(t)), (long long)strlen(t), "write");
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	if (ASSERT_TRUE(p != NULL, "popen")) {
		n = fread(msg, 1, sizeof(msg) - 1, p);
		msg[n] = '\0';
		st = pclose(p);
		if (!ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool check metrics"))
			fprintf(stderr, "    promtool: %s\n", msg);
		ASSERT_TRUE(n == 0, "promtool has no remarks");
		if (n)
			fprintf(stderr, "    promtool: %s\n", msg);
	}
	unlink(path);
	free(t);
}

int main(void)
{
	RUN_TEST(test_format_exact_lines);
	RUN_TEST(test_route_lines);
	RUN_TEST(test_every_family_has_help_and_type);
	RUN_TEST(test_label_escaping);
	RUN_TEST(test_escaped_label_in_output);
	RUN_TEST(test_check_hist_buckets);
	RUN_TEST(test_check_results);
	RUN_TEST(test_parse_addr);
	RUN_TEST(test_promtool_check_metrics);
	return xt_finish();
}
