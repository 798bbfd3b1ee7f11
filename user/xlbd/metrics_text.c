/* metrics_text.c - Prometheus text format 0.0.4 of a metrics snapshot (docs/metrics.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "dataplane.h" /* xlb_counter_name */
#include "metrics_text.h"
#include "names.h"

int xlbd_metrics_escape(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *in; in++) {
		/* The escaped character's second byte, 0 for one that needs none. */
		char esc = *in == '\\' ? '\\' : *in == '"' ? '"' : *in == '\n' ? 'n' : 0;
		size_t len = esc ? 2 : 1;

		if (n + len >= outlen) {
			if (outlen)
				out[0] = '\0';
			return -ENOSPC;
		}
		if (esc) {
			out[n] = '\\';
			out[n + 1] = esc;
		} else {
			out[n] = *in;
		}
		n += len;
	}
	if (n >= outlen)
		return -ENOSPC;
	out[n] = '\0';
	return (int)n;
}

/*
 * The text is built in one growing buffer with hand-made number printing and handed to the
 * evbuffer without a copy: the largest configuration prints ~130000 lines per scrape, and
 * printf per line took half of the scrape's time.
 */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static bool reserve(struct text *t, size_t n)
{
	size_t cap;
	char *nb;

	if (t->len + n <= t->cap)
		return true;
	if (t->oom)
		return false;
	cap = t->cap ? t->cap : 65536;
	while (cap < t->len + n)
		cap *= 2;
	nb = realloc(t->buf, cap);
	if (!nb) {
		t->oom = true;
		return false;
	}
	t->buf = nb;
	t->cap = cap;
	return true;
}

static void put(struct text *t, const char *s, size_t n)
{
	if (!reserve(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Decimal, at least min_digits digits (zero-padded). */
static void putu(struct text *t, unsigned long long v, int min_digits)
{
	char d[24];
	int n = 0;

	do {
		d[sizeof(d) - 1 - n++] = '0' + v % 10;
		v /= 10;
	} while (v || n < min_digits);
	put(t, d + sizeof(d) - n, n);
}

static void header(struct text *t, const char *name, const char *type, const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	put(t, " ", 1);
	puts_(t, help);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	put(t, " ", 1);
	puts_(t, type);
	put(t, "\n", 1);
}

/* `name{labels,xname="xval"} v` (labels, xname may be NULL; labels already escaped). */
static void sample(struct text *t, const char *name, const char *labels, const char *xname,
		   const char *xval, unsigned long long v)
{
	puts_(t, name);
	if (labels || xname) {
		put(t, "{", 1);
		if (labels)
			puts_(t, labels);
		if (labels && xname)
			put(t, ",", 1);
		if (xname) {
			puts_(t, xname);
			put(t, "=\"", 2);
			puts_(t, xval);
			put(t, "\"", 1);
		}
		put(t, "}", 1);
	}
	put(t, " ", 1);
	putu(t, v, 1);
	put(t, "\n", 1);
}

/*
 * Data-plane counters (include/xlb_counters.h) by family. A counter goes to the first family
 * whose rule matches its name: a prefix (the rest of the name is the label's value) or an
 * exact name (no label). The last family takes whatever the others do not, so a counter added
 * to xlb_counters.h is exported at once, under its own name, until it gets a family here.
 */
static const struct counter_family {
	const char *name;
	const char *help;
	const char *match; /* prefix when label is set, else the exact counter name */
	const char *label;
} counter_families[] = {
	{"xlb_xdp_actions_total", "XDP verdicts returned by the program, by action.", "xdp_",
	 "action"},
	{"xlb_passes_total",
	 "Packets passed to the kernel untouched, by reason (not_vip: not for a VIP; not_ip; "
	 "unparsed: too short to attribute).",
	 "pass_", "reason"},
	{"xlb_drops_total", "Packets to a VIP address dropped by the data plane, by reason.",
	 "drop_", "reason"},
	{"xlb_flow_table_hits_total",
	 "Flow-table lookups that kept a flow on its backend (still a member, up or draining).",
	 "flow_hit", NULL},
	{"xlb_flow_table_misses_total", "Flow-table lookups that found no entry (new flows).",
	 "flow_miss", NULL},
	{"xlb_flow_table_inserts_total", "Flow-table entries inserted.", "flow_insert", NULL},
	{"xlb_flow_table_insert_failures_total",
	 "Flow-table inserts that failed (the packet was still forwarded).", "flow_insert_fail",
	 NULL},
	{"xlb_flow_table_expired_total", "UDP flow entries found idle past the timeout: re-picked.",
	 "flow_expired", NULL},
	{"xlb_flow_table_stale_total",
	 "Flow entries naming a backend that left the VIP: re-picked.", "flow_stale", NULL},
	{"xlb_flow_table_repicks_total",
	 "Flow entries naming a down backend: re-picked (stateless failover).", "flow_repick",
	 NULL},
	{"xlb_flow_table_evictions_total",
	 "New flows that took the slot of an expired, closed or unpromoted entry (never an "
	 "established live one).",
	 "flow_evicted", NULL},
	{"xlb_flow_table_insert_races_total",
	 "New flows another CPU inserted or re-steered first: sent where its entry says.",
	 "flow_insert_lost", NULL},
	{"xlb_drain_kept_total",
	 "TCP packets without SYN and without a flow entry sent to the draining backend their "
	 "pick named (connections another LB node placed).",
	 "drain_kept", NULL},
	{"xlb_encapsulated_total",
	 "ipip packets sent in an outer header, by kind (ipv4_in_ipv4, ipv6_in_ipv6, "
	 "ipv4_in_ipv6).",
	 "encap_", "kind"},
	{"xlb_pmtu_answers_total",
	 "ICMP fragmentation-needed / packet-too-big answers to packets that did not fit once "
	 "encapsulated.",
	 "pmtu_sent", NULL},
	{"xlb_icmp_relayed_total", "ICMP errors about a VIP flow sent to the flow's backend.",
	 "icmp_relayed", NULL},
	{"xlb_failover_total",
	 "New picks that landed on an unusable backend and were resolved, by kind (rehash: a "
	 "re-hash into the ring; walk: the member walk).",
	 "failover_", "kind"},
	{"xlb_map_errors_total", "Map lookups that cannot fail but did (should stay 0).",
	 "map_error", NULL},
	{"xlb_datapath_events_total",
	 "Data-plane counters that have no family of their own yet, by counter name.", "",
	 "counter"},
};
#define NFAMILIES (sizeof(counter_families) / sizeof(counter_families[0]))

static bool family_matches(const struct counter_family *f, const char *counter)
{
	if (f->label)
		return !strncmp(counter, f->match, strlen(f->match));
	return !strcmp(counter, f->match);
}

static void print_counters(const struct xlbd_metrics_snap *s, struct text *t)
{
	unsigned char fam[XLB_C_MAX];

	for (int c = 0; c < XLB_C_MAX; c++) {
		fam[c] = NFAMILIES - 1;
		for (size_t f = 0; f < NFAMILIES; f++)
			if (family_matches(&counter_families[f], xlb_counter_name(c))) {
				fam[c] = f;
				break;
			}
	}
	for (size_t f = 0; f < NFAMILIES; f++) {
		const struct counter_family *cf = &counter_families[f];
		bool any = false;

		for (int c = 0; c < XLB_C_MAX; c++)
			any |= fam[c] == f;
		/* The catch-all is printed only when it has members; every named family always. */
		if (!any && f == NFAMILIES - 1)
			continue;
		header(t, cf->name, "counter", cf->help);
		for (int c = 0; s->have_counters && c < XLB_C_MAX; c++) {
			const char *cn = xlb_counter_name(c);

			if (fam[c] == f)
				sample(t, cf->name, NULL, cf->label,
				       cf->label ? cn + strlen(cf->match) : NULL, s->counters[c]);
		}
	}
}

/* Traffic fields, by offset, for the per-VIP and per-backend families. */
static const struct traffic_family {
	const char *suffix;
	const char *help;
	size_t off;
} traffic_families[] = {
	{"packets_total", "Packets forwarded to", offsetof(struct xlb_traffic, packets)},
	{"bytes_total", "Bytes (whole frames, as received) forwarded to",
	 offsetof(struct xlb_traffic, bytes)},
	{"new_flows_total",
	 "Flows placed by the scheduler (new flows and flows moved off an unusable backend) for",
	 offsetof(struct xlb_traffic, new_flows)},
	{"syn_retries_total",
	 "TCP SYNs for a flow already in the table (a client that got no answer) sent to",
	 offsetof(struct xlb_traffic, syn_retries)},
};
#define NTRAFFIC (sizeof(traffic_families) / sizeof(traffic_families[0]))

static __u64 traffic_field(const struct xlb_traffic *tr, size_t off)
{
	return *(const __u64 *)((const char *)tr + off);
}

static void print_traffic(const struct xlbd_metrics_snap *s, struct text *t)
{
	char name[64], help[160];

	for (size_t f = 0; f < NTRAFFIC; f++) {
		const struct traffic_family *tf = &traffic_families[f];

		snprintf(name, sizeof(name), "xlb_vip_%s", tf->suffix);
		snprintf(help, sizeof(help), "%s the VIP's backends.", tf->help);
		header(t, name, "counter", help);
		for (size_t i = 0; i < s->nvips; i++)
			if (s->vips[i].have_traffic)
				sample(t, name, s->vips[i].labels, NULL, NULL,
				       traffic_field(&s->vips[i].traffic, tf->off));
	}
	for (size_t f = 0; f < NTRAFFIC; f++) {
		const struct traffic_family *tf = &traffic_families[f];

		snprintf(name, sizeof(name), "xlb_backend_%s", tf->suffix);
		snprintf(help, sizeof(help), "%s the backend.", tf->help);
		header(t, name, "counter", help);
		for (size_t i = 0; i < s->nbe; i++)
			if (s->be[i].have_traffic)
				sample(t, name, s->be[i].labels, NULL, NULL,
				       traffic_field(&s->be[i].traffic, tf->off));
	}
}

static void print_backends(const struct xlbd_metrics_snap *s, struct text *t)
{
	/* Index = enum xlbd_circuit; Prometheus label values in snake case. */
	static const char *const circuits[] = {"closed", "open", "half_open"};

	header(t, "xlb_backend_active_flows", "gauge",
	       "Flows the data plane counts as active on the backend (least-conn's measure; "
	       "recounted from the flow table every 10 s).");
	for (size_t i = 0; i < s->nbe; i++)
		if (s->be[i].have_active)
			sample(t, "xlb_backend_active_flows", s->be[i].labels, NULL, NULL,
			       s->be[i].active_flows > 0 ? s->be[i].active_flows : 0);
	header(t, "xlb_backend_up", "gauge",
	       "1 when the data plane gives the backend new flows (state up), else 0.");
	for (size_t i = 0; i < s->nbe; i++)
		sample(t, "xlb_backend_up", s->be[i].labels, NULL, NULL,
		       s->be[i].state == XLB_BE_UP);
	header(t, "xlb_backend_state", "gauge",
	       "The backend's data-plane state: 1 for the current one of up, draining, down.");
	for (size_t i = 0; i < s->nbe; i++)
		for (size_t st = 0; st < xlb_be_state_names.n; st++)
			sample(t, "xlb_backend_state", s->be[i].labels, "state",
			       xlb_name(&xlb_be_state_names, st), s->be[i].state == st);
	header(t, "xlb_backend_circuit_state", "gauge",
	       "The circuit breaker's state: 1 for the current one of closed, open, half_open "
	       "(backends with health checks only).");
	for (size_t i = 0; i < s->nbe; i++)
		for (size_t c = 0; s->be[i].checks && c < sizeof(circuits) / sizeof(circuits[0]);
		     c++)
			sample(t, "xlb_backend_circuit_state", s->be[i].labels, "state",
			       circuits[c], s->be[i].circuit == c);
	header(t, "xlb_backend_weight", "gauge", "The backend's configured weight.");
	for (size_t i = 0; i < s->nbe; i++)
		sample(t, "xlb_backend_weight", s->be[i].labels, NULL, NULL, s->be[i].weight);
	header(t, "xlb_backend_effective_weight", "gauge",
	       "The weight the VIP's table uses now: 0 unless up, ramping during slow start.");
	for (size_t i = 0; i < s->nbe; i++)
		sample(t, "xlb_backend_effective_weight", s->be[i].labels, NULL, NULL,
		       s->be[i].eff_weight);
	header(t, "xlb_circuit_transitions_total", "counter",
	       "State changes of the backend's circuit breaker since its checks started.");
	for (size_t i = 0; i < s->nbe; i++)
		if (s->be[i].checks)
			sample(t, "xlb_circuit_transitions_total", s->be[i].labels, NULL, NULL,
			       s->be[i].transitions);
	header(t, "xlb_health_check_failures_total", "counter",
	       "Failed health checks of the backend since its checks started.");
	for (size_t i = 0; i < s->nbe; i++)
		if (s->be[i].checks)
			sample(t, "xlb_health_check_failures_total", s->be[i].labels, NULL, NULL,
			       s->be[i].check_failures);
	header(t, "xlb_health_check_tunnel_failures_total", "counter",
	       "Failed health checks of the backend whose check through the tunnel failed.");
	for (size_t i = 0; i < s->nbe; i++)
		if (s->be[i].tunnel)
			sample(t, "xlb_health_check_tunnel_failures_total", s->be[i].labels, NULL,
			       NULL, s->be[i].tunnel_failures);
	header(t, "xlb_health_check_errors_total", "counter",
	       "Health checks that an error of xlbd's own side stopped (out of fds, buffers, "
	       "ports): not counted against the backend.");
	for (int r = 0; r < XLBD_PROBE_LOCAL_ERRORS; r++)
		sample(t, "xlb_health_check_errors_total", NULL, "reason",
		       xlbd_probe_local_names[r], s->check_errors[r]);
}

/* A bucket bound as the `le` label shows it: microseconds as seconds, "0.00025", "1". */
static void format_le(__u64 us, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "%llu.%06llu", (unsigned long long)(us / 1000000),
		 (unsigned long long)(us % 1000000));
	p = buf + strlen(buf) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
}

static void print_histograms(const struct xlbd_metrics_snap *s, struct text *t)
{
	char le[XLBD_CHECK_BUCKETS][24];

	for (int b = 0; b < XLBD_CHECK_BUCKETS; b++)
		format_le(xlbd_check_bucket_us[b], le[b], sizeof(le[b]));
	header(t, "xlb_health_check_duration_seconds", "histogram",
	       "Duration of the VIP's health checks (all backends, passed and failed).");
	for (size_t i = 0; i < s->nvips; i++) {
		const struct xlbd_metrics_vip *v = &s->vips[i];
		__u64 cum = 0;

		if (!v->checks)
			continue;
		for (int b = 0; b < XLBD_CHECK_BUCKETS; b++) {
			cum += v->hist.bucket[b];
			sample(t, "xlb_health_check_duration_seconds_bucket", v->labels, "le",
			       le[b], cum);
		}
		sample(t, "xlb_health_check_duration_seconds_bucket", v->labels, "le", "+Inf",
		       v->hist.count);
		/* The sum in seconds, exact to the microsecond: "12.000345". */
		puts_(t, "xlb_health_check_duration_seconds_sum{");
		puts_(t, v->labels);
		puts_(t, "} ");
		putu(t, v->hist.sum_us / 1000000, 1);
		put(t, ".", 1);
		putu(t, v->hist.sum_us % 1000000, 6);
		put(t, "\n", 1);
		sample(t, "xlb_health_check_duration_seconds_count", v->labels, NULL, NULL,
		       v->hist.count);
	}
}

/* Whether each VIP address is announced, and the node's maintenance state (docs/cluster.md). */
static void print_routes(const struct xlbd_metrics_snap *s, struct text *t)
{
	if (!s->have_routes)
		return;
	header(t, "xlb_node_drained", "gauge",
	       "1 while the node is in maintenance (`xlbctl node drain`): nothing is announced.");
	sample(t, "xlb_node_drained", NULL, NULL, NULL, s->drained);
	header(t, "xlb_vip_announced", "gauge",
	       "1 while the VIP address's route is in xlbd's route table (the routing daemon "
	       "announces it), else 0.");
	for (size_t i = 0; i < s->nroutes; i++)
		sample(t, "xlb_vip_announced", s->routes[i].labels, NULL, NULL,
		       s->routes[i].announced);
	header(t, "xlb_vip_announce_transitions_total", "counter",
	       "Announces and withdraws of the VIP address since xlbd started.");
	for (size_t i = 0; i < s->nroutes; i++)
		sample(t, "xlb_vip_announce_transitions_total", s->routes[i].labels, NULL, NULL,
		       s->routes[i].transitions);
	header(t, "xlb_route_errors_total", "counter",
	       "Route changes the kernel refused (retried at the next sync; see the log).");
	sample(t, "xlb_route_errors_total", NULL, NULL, NULL, s->route_errors);
}

static void free_text(const void *data, size_t len, void *arg)
{
	(void)len, (void)arg;
	free((void *)data);
}

int xlbd_metrics_format(const struct xlbd_metrics_snap *s, struct evbuffer *o)
{
	struct text t = {0};
	char abi[16];

	snprintf(abi, sizeof(abi), "%d", XLB_ABI_VERSION);
	header(&t, "xlb_build_info", "gauge",
	       "Always 1; labels: xlbd's version and the map ABI version it speaks.");
	puts_(&t, "xlb_build_info{version=\"" XLB_VERSION "\",abi=\"");
	puts_(&t, abi);
	puts_(&t, "\"} 1\n");
	print_traffic(s, &t);
	print_counters(s, &t);
	header(&t, "xlb_flow_table_entries", "gauge",
	       "Entries in the flow table now (counted by walking it at scrape time).");
	if (s->have_flow_entries)
		sample(&t, "xlb_flow_table_entries", NULL, NULL, NULL, s->flow_entries);
	header(&t, "xlb_flow_table_capacity", "gauge", "Size of the flow table (entries).");
	sample(&t, "xlb_flow_table_capacity", NULL, NULL, NULL, s->flow_capacity);
	print_backends(s, &t);
	print_histograms(s, &t);
	header(&t, "xlb_config_changes_total", "counter",
	       "Configuration changes accepted and applied since xlbd started.");
	sample(&t, "xlb_config_changes_total", NULL, NULL, NULL, s->config_changes);
	/* Cluster checks (docs/cluster.md): nodes of one cluster show the same values. */
	header(&t, "xlb_hash_seed", "gauge", "The flow hash seed; the same on every node.");
	sample(&t, "xlb_hash_seed", NULL, NULL, NULL, s->hash_seed);
	header(&t, "xlb_vip_table_fingerprint", "gauge",
	       "Fingerprint (52 bits) of the VIP's published table: equal on nodes that choose "
	       "alike.");
	for (size_t i = 0; i < s->nvips; i++)
		if (s->vips[i].fingerprint)
			sample(&t, "xlb_vip_table_fingerprint", s->vips[i].labels, NULL, NULL,
			       s->vips[i].fingerprint);
	print_routes(s, &t);
	/* A text cut short by a failed allocation must not pass for a scrape. */
	if (t.oom || evbuffer_add_reference(o, t.buf, t.len, free_text, NULL)) {
		free(t.buf);
		return -ENOMEM;
	}
	return 0;
}
