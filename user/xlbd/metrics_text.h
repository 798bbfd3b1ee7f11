/* metrics_text.h - what one scrape prints (a snapshot) and its Prometheus text (pure). */
#ifndef XLBD_METRICS_TEXT_H
#define XLBD_METRICS_TEXT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "breaker.h"
#include "health.h"
#include "xlb_abi.h"
#include "xlb_counters.h"

struct evbuffer;

/* Reported by xlb_build_info; the Makefile may pass -DXLB_VERSION="$(git describe)". */
#ifndef XLB_VERSION
#define XLB_VERSION "0.1.0-dev"
#endif

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
	__u64 fingerprint; /* of the published table (docs/cluster.md); 52 bits; 0: none */
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
	bool tunnel; /* the checks have a tunnel part: tunnel_failures is printed */
	__u64 tunnel_failures;
};

/* One VIP address's route (announce.c): labels `address="..."`. */
struct xlbd_metrics_route {
	char labels[XLBD_METRICS_LABELS];
	bool announced;
	__u64 transitions;
};

struct xlbd_metrics_snap {
	bool have_counters;
	__u64 counters[XLB_C_MAX];
	bool have_flow_entries; /* counting the flow table worked */
	__u64 flow_entries;
	__u64 flow_capacity;
	__u64 config_changes;
	__u32 hash_seed;
	__u64 check_errors[XLBD_PROBE_LOCAL_ERRORS]; /* checks stopped on our side, per reason */
	size_t nvips, nbe;
	struct xlbd_metrics_vip *vips;
	struct xlbd_metrics_be *be;
	bool have_routes; /* xlbd publishes routes (--route-table not 0): the route metrics */
	bool drained;	  /* node maintenance (`node drain`) */
	__u64 route_errors;
	size_t nroutes;
	struct xlbd_metrics_route *routes;
};

/* Escape a label value (backslash, double quote, newline) into out; -ENOSPC if it does not fit
 * (out is then ""). Returns the length written. */
int xlbd_metrics_escape(const char *in, char *out, size_t outlen);

/* Prometheus text format 0.0.4 of s, appended to out. 0 or -ENOMEM. */
int xlbd_metrics_format(const struct xlbd_metrics_snap *s, struct evbuffer *out);

#endif /* XLBD_METRICS_TEXT_H */
