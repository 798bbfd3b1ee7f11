/* metrics.c - Prometheus metrics (text format 0.0.4) over evhttp on xlbd's event loop (docs/metrics.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "addr.h"
#include "log.h"
#include "xlbd.h"

/* ---- health-check observations ------------------------------------------------------------ */

/* 0.1 ms .. 1 s in 1-2.5-5 steps: a loopback connect is ~0.05 ms, a check timeout ~1 s. */
const __u64 xlbd_check_bucket_us[XLBD_CHECK_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

void xlbd_check_hist_observe(struct xlbd_check_hist *h, __u64 us)
{
	int i = 0;

	while (i < XLBD_CHECK_BUCKETS && us > xlbd_check_bucket_us[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

void xlbd_metrics_check_result(struct xlbd *d, const struct xlbd_vip *v,
			       const struct xlbd_backend *b, bool ok, __u64 latency_us)
{
	struct xlbd_be_rt *rt = &d->be[b->id];
	struct xlbd_check_hist *h = &d->check_hist[v->id];

	/* checked is false before the first result since the checks (re)started: a backend id
	 * reused by another backend starts from zero (a counter reset, which Prometheus expects). */
	if (!rt->checked)
		rt->check_failures = 0;
	if (!ok)
		rt->check_failures++;
	if (!ok && !latency_us)
		return; /* the probe could not start: no duration to speak of */
	if (memcmp(&h->key, &v->key, sizeof(v->key))) {
		memset(h, 0, sizeof(*h));
		h->key = v->key;
	}
	xlbd_check_hist_observe(h, latency_us);
}

/* ---- snapshot ------------------------------------------------------------------------------ */

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

static int count_flow(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k, (void)f;
	(*(__u64 *)arg)++;
	return 0;
}

int xlbd_metrics_collect(struct xlbd *d, struct xlbd_metrics_snap *s)
{
	size_t nbe = 0;
	__u64 now;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < d->cfg.nvips; i++)
		nbe += d->cfg.vips[i].nbe;
	s->vips = calloc(d->cfg.nvips ? d->cfg.nvips : 1, sizeof(*s->vips));
	s->be = calloc(nbe ? nbe : 1, sizeof(*s->be));
	if (!s->vips || !s->be) {
		xlbd_metrics_snap_free(s);
		return -ENOMEM;
	}
	s->have_counters = !xlb_dp_read_counters(d->dp, s->counters);
	/*
	 * Occupancy: an LRU hash keeps no element count that userspace can read, so the table is
	 * walked (batched reads). The walk costs ~0.45 us per entry here, ~120 ms for a full
	 * default table, on the event loop that also times health checks: it runs at most every
	 * XLBD_FLOW_COUNT_MS and scrapes in between reuse its result.
	 */
	now = xlbd_now_ms();
	if (!d->flow_count_ms || now - d->flow_count_ms >= XLBD_FLOW_COUNT_MS) {
		__u64 n = 0;

		if (!xlb_dp_for_each_flow(d->dp, count_flow, &n)) {
			d->flow_count = n;
			d->flow_count_ms = now;
		}
	}
	s->have_flow_entries = d->flow_count_ms != 0;
	s->flow_entries = d->flow_count;
	s->flow_capacity = d->dp->flow_entries;
	s->config_changes = d->config_changes;

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];
		struct xlbd_metrics_vip *mv = &s->vips[s->nvips++];
		char vs[XLB_ADDRSTRLEN], ve[2 * XLB_ADDRSTRLEN];
		const struct xlbd_check_hist *h = &d->check_hist[v->id];

		xlb_format_vip(&v->key, vs, sizeof(vs));
		xlbd_metrics_escape(vs, ve, sizeof(ve));
		snprintf(mv->labels, sizeof(mv->labels), "vip=\"%s\"", ve);
		mv->have_traffic = !xlb_dp_read_vip_traffic(d->dp, v->id, &mv->traffic);
		mv->checks = v->check.kind != XLBD_CHECK_NONE;
		if (!memcmp(&h->key, &v->key, sizeof(v->key)))
			mv->hist = *h;
		for (size_t j = 0; j < v->nbe; j++) {
			struct xlbd_backend *b = &v->be[j];
			const struct xlbd_be_rt *rt = &d->be[b->id];
			struct xlbd_metrics_be *mb = &s->be[s->nbe++];
			char as[XLB_ADDRSTRLEN], ae[2 * XLB_ADDRSTRLEN];
			const char *why;

			xlb_format_addr(&b->addr, b->family, as, sizeof(as));
			xlbd_metrics_escape(as, ae, sizeof(ae));
			snprintf(mb->labels, sizeof(mb->labels), "vip=\"%s\",backend=\"%s\"", ve,
				 ae);
			mb->have_traffic = !xlb_dp_read_backend_traffic(d->dp, b->id, &mb->traffic);
			mb->have_active =
				!xlb_dp_read_backend_active(d->dp, b->id, &mb->active_flows);
			mb->state = xlbd_backend_dp_state(d, v, b, &why);
			mb->weight = b->weight;
			mb->eff_weight = mb->state == XLB_BE_UP ? xlbd_backend_weight(d, v, b) : 0;
			mb->checks =
				xlbd_backend_check(v, b)->kind != XLBD_CHECK_NONE && rt->active;
			mb->circuit = rt->br.state;
			mb->transitions = rt->br.transitions;
			mb->check_failures = rt->check_failures;
		}
	}
	return 0;
}

void xlbd_metrics_snap_free(struct xlbd_metrics_snap *s)
{
	free(s->vips);
	free(s->be);
	s->vips = NULL;
	s->be = NULL;
	s->nvips = s->nbe = 0;
}

/* ---- text format --------------------------------------------------------------------------- */

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
	/* Index = enum xlb_backend_state. */
	static const char *const states[] = {"down", "up", "draining"};
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
		for (size_t st = 0; st < sizeof(states) / sizeof(states[0]); st++)
			sample(t, "xlb_backend_state", s->be[i].labels, "state", states[st],
			       s->be[i].state == st);
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
	/* A text cut short by a failed allocation must not pass for a scrape. */
	if (t.oom || evbuffer_add_reference(o, t.buf, t.len, free_text, NULL)) {
		free(t.buf);
		return -ENOMEM;
	}
	return 0;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

int xlbd_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
			    size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1], perr[128];
	const char *given = s, *port, *end;
	size_t hlen;
	__u16 p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			goto bad;
		hlen = end - (s + 1);
		port = end + 2;
		s++;
	} else {
		end = strrchr(s, ':');
		if (!end)
			goto bad;
		hlen = end - s;
		port = end + 1;
		if (memchr(s, ':', hlen)) {
			snprintf(err, errlen,
				 "bad metrics address '%s': an IPv6 address goes in brackets, "
				 "e.g. [::1]:9100",
				 s);
			return -EINVAL;
		}
	}
	if (!hlen || hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (xlb_parse_port(port, &p, perr, sizeof(perr))) {
		snprintf(err, errlen, "bad metrics address: %s", perr);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		*sslen = sizeof(*sin6);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "bad metrics address '%s': want ADDR:PORT with a literal address, e.g. "
		 "127.0.0.1:9100 or [::1]:9100",
		 given);
	return -EINVAL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void send_text(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		      struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, reason, body);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct xlbd *d = arg;
	struct evbuffer *out = evbuffer_new();
	struct xlbd_metrics_snap s;
	double t0 = now_s();
	int err = -ENOMEM;

	if (out && !(err = xlbd_metrics_collect(d, &s))) {
		err = xlbd_metrics_format(&s, out);
		xlbd_metrics_snap_free(&s);
	}
	if (err) {
		pr_err("cannot build the metrics", "err=\"%s\"", strerror(-err));
		evhttp_send_error(req, HTTP_INTERNAL, "cannot build the metrics");
	} else {
		pr_debug("metrics scrape", "ms=%.2f bytes=%zu", (now_s() - t0) * 1e3,
			 evbuffer_get_length(out));
		send_text(req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", out);
	}
	if (out)
		evbuffer_free(out);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(out, "ok\n", 3);
	send_text(req, HTTP_OK, "OK", "text/plain; charset=utf-8", out);
	evbuffer_free(out);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (!out) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	evbuffer_add_printf(out, "not found: try /metrics or /healthz\n");
	send_text(req, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8", out);
	evbuffer_free(out);
}

int xlbd_metrics_open(struct xlbd *d, const char *addr)
{
	struct sockaddr_storage ss;
	char err[256];
	socklen_t len;
	int fd, one = 1, e;

	if (xlbd_metrics_parse_addr(addr, &ss, &len, err, sizeof(err))) {
		pr_err("cannot start the metrics server", "err=\"%s\"", err);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64))
		goto fail;
	d->http = evhttp_new(d->base);
	if (!d->http) {
		errno = ENOMEM;
		goto fail;
	}
	/* Scrapes are small GETs; anything bigger or slower is not a scraper. */
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(d->http, 16384);
	evhttp_set_max_body_size(d->http, 4096);
	evhttp_set_timeout(d->http, 10);
	evhttp_set_cb(d->http, "/metrics", on_metrics, d);
	evhttp_set_cb(d->http, "/healthz", on_healthz, d);
	evhttp_set_gencb(d->http, on_other, d);
	/* The listener owns the socket from here (closed by evhttp_free). */
	if (!evhttp_accept_socket_with_handle(d->http, fd)) {
		errno = ENOMEM;
		goto fail;
	}
	pr_info("metrics server listening", "addr=%s path=/metrics", addr);
	return 0;
fail:
	e = -errno;
	pr_err("cannot start the metrics server", "addr=%s err=\"%s\"", addr, strerror(-e));
	if (fd >= 0)
		close(fd);
	if (d->http)
		evhttp_free(d->http);
	d->http = NULL;
	return e;
}

void xlbd_metrics_close(struct xlbd *d)
{
	if (d->http)
		evhttp_free(d->http);
	d->http = NULL;
}
