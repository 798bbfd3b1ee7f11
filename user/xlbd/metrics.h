/* metrics.h - Prometheus metrics: health-check observations, a snapshot, its text, the HTTP server. */
#ifndef XLBD_METRICS_H
#define XLBD_METRICS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "breaker.h"
#include "xlb_abi.h"
#include "xlb_counters.h"

struct evbuffer;
struct xlbd;
struct xlbd_vip;
struct xlbd_backend;

/* Reported by xlb_build_info; the Makefile may pass -DXLB_VERSION="$(git describe)". */
#ifndef XLB_VERSION
#define XLB_VERSION "0.1.0-dev"
#endif

/*
 * Health-check durations of one VIP, for xlb_health_check_duration_seconds. Bucket bounds
 * (XLBD_CHECK_BUCKET_US) go from 0.1 ms (a check on the same host) to 1 s (past any sane
 * timeout); counts are per bucket here and made cumulative when printed. The VIP key says whom
 * the slot counts for: a VIP id reused by another VIP starts from zero.
 */
#define XLBD_CHECK_BUCKETS 13
extern const __u64 xlbd_check_bucket_us[XLBD_CHECK_BUCKETS];
struct xlbd_check_hist {
	struct xlb_vip_key key;
	__u64 bucket[XLBD_CHECK_BUCKETS + 1]; /* last: above the largest bound (+Inf only) */
	__u64 count;
	__u64 sum_us;
};

/* Add one observation (microseconds). */
void xlbd_check_hist_observe(struct xlbd_check_hist *h, __u64 us);

/*
 * health.c's on_probe reports every check result here, before it updates the backend's
 * last_* fields: the duration goes into the VIP's histogram, a failure into the backend's
 * failure counter. A probe that could not even start (not ok, latency 0) counts as a failure
 * but not as a duration.
 */
void xlbd_metrics_check_result(struct xlbd *d, const struct xlbd_vip *v,
			       const struct xlbd_backend *b, bool ok, __u64 latency_us);

/*
 * What one scrape prints, collected first and printed second, so the printer is pure (unit
 * tests build a snapshot by hand). Label values are stored already escaped
 * (xlbd_metrics_escape) and joined: a VIP's are `vip="..."`, a backend's
 * `vip="...",backend="..."`. Room: two addresses (XLB_ADDRSTRLEN) each escaped at worst.
 */
#define XLBD_METRICS_LABELS 320
struct xlbd_metrics_vip {
	char labels[XLBD_METRICS_LABELS];
	bool have_traffic; /* the traffic read worked */
	struct xlb_traffic traffic;
	bool checks; /* the VIP has health checks: hist is printed */
	struct xlbd_check_hist hist;
};

struct xlbd_metrics_be {
	char labels[XLBD_METRICS_LABELS];
	bool have_traffic;
	struct xlb_traffic traffic;
	__u8 state;	  /* enum xlb_backend_state: what the data plane uses */
	__u32 weight;	  /* configured */
	__u32 eff_weight; /* in the published table: 0 unless up; slow start ramps it */
	bool have_active;
	__s64 active_flows; /* the data plane's count (least-conn), never below 0 when printed */
	bool checks;	    /* health checks run: circuit, transitions, failures are printed */
	enum xlbd_circuit circuit;
	__u64 transitions;
	__u64 check_failures;
};

struct xlbd_metrics_snap {
	bool have_counters;
	__u64 counters[XLB_C_MAX];
	bool have_flow_entries; /* counting the flow table worked */
	__u64 flow_entries;
	__u64 flow_capacity;
	__u64 config_changes;
	size_t nvips, nbe;
	struct xlbd_metrics_vip *vips;
	struct xlbd_metrics_be *be;
};

/* Escape a label value (backslash, double quote, newline) into out; -ENOSPC if it does not fit
 * (out is then ""). Returns the length written. */
int xlbd_metrics_escape(const char *in, char *out, size_t outlen);

/* xlb_flow_table_entries walks the flow table at most this often (ms); see metrics.c. */
#define XLBD_FLOW_COUNT_MS 5000

/* Read the maps and the controller's state into s (arrays allocated; free with _snap_free).
 * A map that cannot be read leaves its have_* false; -ENOMEM is the only error. */
int xlbd_metrics_collect(struct xlbd *d, struct xlbd_metrics_snap *s);
void xlbd_metrics_snap_free(struct xlbd_metrics_snap *s);

/* Prometheus text format 0.0.4 of s, appended to out. 0 or -ENOMEM. */
int xlbd_metrics_format(const struct xlbd_metrics_snap *s, struct evbuffer *out);

/* "127.0.0.1:9100" or "[::1]:9100" (literal addresses only) -> a socket address. 0 or -EINVAL
 * with a message in err. */
int xlbd_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
			    size_t errlen);

/* The HTTP server on d->base: GET /metrics and /healthz. 0 or -errno (logged). */
int xlbd_metrics_open(struct xlbd *d, const char *addr);
void xlbd_metrics_close(struct xlbd *d);

#endif /* XLBD_METRICS_H */
