/* xlbd.h - the controller's runtime state, shared by its parts (one process, one event loop). */
#ifndef XLBD_H
#define XLBD_H

#include <event2/event.h>
#include <jansson.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>

#include "breaker.h"
#include "config.h"
#include "dataplane.h"
#include "metrics.h"
#include "neigh.h"

enum xlbd_mode { XLBD_MODE_NATIVE, XLBD_MODE_GENERIC, XLBD_MODE_AUTO };

/* What xlbd knows about a backend at run time (indexed by backend id). */
struct xlbd_be_rt {
	__u8 mac[6];
	bool mac_known;

	/* health (health.c) */
	bool active; /* timer running, breaker initialised */
	struct xlbd_breaker br;
	struct event *timer;	  /* one per backend: its check interval */
	struct xlbd_probe *probe; /* in flight */
	__u32 vip_id;		  /* what the timer was set up for */
	__u32 interval_ms;
	bool checked; /* last_* below are valid */
	bool last_ok;
	char last_err[96];
	__u64 last_latency_us;
	__u64 last_ms;	       /* when the last result came */
	__u32 eff_weight;      /* weight in the published table (slow start) */
	__u32 vi, bi;	       /* where it was last found in cfg: vips[vi].be[bi] */
	__u64 syn_retries;     /* outlier detection: counter at the last look */
	__u32 outlier_strikes; /* consecutive seconds above the rate */

	/* metrics (metrics.c) */
	__u64 check_failures; /* failed checks since the checks (re)started */
};

struct xlbd {
	/* options */
	char ifname[IF_NAMESIZE];
	int ifindex;
	enum xlbd_mode mode;
	const char *state_path;
	const char *socket_path;
	char pin_dir[256];
	__u32 flow_entries;

	/* state */
	struct xlbd_config cfg;	    /* desired state, as in the state file */
	struct xlb_dp *dp;	    /* loaded program and maps */
	struct xlb_dp *explain;	    /* explain instance, loaded at the first `flow explain` */
	struct ring_buffer *events; /* data-plane events (events.c) */
	struct event *events_ev;
	enum xlbd_mode attached; /* native or generic, once attached */
	__u32 prog_id;
	struct xlbd_be_rt be[XLB_MAX_BACKENDS];
	__u64 table_sig[XLB_MAX_VIPS]; /* inputs of the published table; 0 = none published */
	bool purge_pending;	       /* removed VIPs' flow entries not deleted yet (flows.c) */
	struct xlbd_neigh *neigh;

	/* event loop */
	struct event_base *base;
	struct event *neigh_ev, *timer_ev, *sigterm_ev, *sigint_ev;
	struct evconnlistener *listener;
	bool detach_and_exit; /* set by `prog detach` */
	bool starting;	      /* backends met now served before: trust them (closed circuit) */

	/* metrics (metrics.c) */
	const char *metrics_addr; /* --metrics ADDR:PORT; NULL: no HTTP server */
	struct evhttp *http;
	__u64 config_changes; /* changes committed since start (commands.c) */
	__u64 flow_count;     /* flow-table entries at the last walk */
	__u64 flow_count_ms;  /* when (xlbd_now_ms); 0: never */
	/* health-check durations per VIP id */
	struct xlbd_check_hist check_hist[XLB_MAX_VIPS];
};

/* apply.c: make the maps match d->cfg. full: also clear ids and VIPs the config lacks (start). */
int xlbd_apply(struct xlbd *d, const struct xlbd_config *old, bool full);
/* The data-plane state of a backend and why: "mac unknown" etc. (NULL when up). */
__u8 xlbd_backend_dp_state(const struct xlbd *d, const struct xlbd_vip *v,
			   const struct xlbd_backend *b, const char **why);
/* The weight the table uses now (slow start ramps it after a circuit closes). */
__u32 xlbd_backend_weight(const struct xlbd *d, const struct xlbd_vip *v,
			  const struct xlbd_backend *b);

/* health.c: start/stop/retune per-backend checks to match d->cfg (after every change). */
void xlbd_health_sync(struct xlbd *d, const struct xlbd_config *old);
void xlbd_health_stop(struct xlbd *d);
/* Once a second: SYN-retry rates of closed circuits on VIPs with outlier detection. */
void xlbd_outlier_scan(struct xlbd *d);
__u64 xlbd_now_ms(void);
struct xlbd_breaker_policy xlbd_check_policy(const struct xlbd_check *c);

/* attach.c */
int xlbd_attach(struct xlbd *d);
int xlbd_detach(struct xlbd *d);

/* commands.c: one request -> one response (never NULL). uid/pid name the caller in logs. */
json_t *xlbd_handle(struct xlbd *d, json_t *req, unsigned int uid, int pid);

/* control.c */
int xlbd_control_open(struct xlbd *d);
void xlbd_control_close(struct xlbd *d);

/* events.c: log the data plane's ring-buffer events. */
int xlbd_events_open(struct xlbd *d);
void xlbd_events_close(struct xlbd *d);

/* explain.c: the answer to `flow explain` (NULL and err on bad input). */
json_t *xlbd_flow_explain(struct xlbd *d, const char *client, const char *vip, const char *flags,
			  char *err, size_t errlen);

/* flows.c: put the active-flow counts back to the live flow-table entries. */
int xlbd_recount_active(struct xlbd *d);
/* Delete flow entries of VIPs no longer configured (under that id); retried by the recount. */
void xlbd_purge_stale_flows(struct xlbd *d);

/* main.c: MAC learning for backends (neighbour callbacks and the resolve timer).
 * xlbd_learn_macs only records MACs (true: something may have changed, apply it);
 * xlbd_resolve_backends also applies. */
bool xlbd_learn_macs(struct xlbd *d);
void xlbd_resolve_backends(struct xlbd *d);

#endif /* XLBD_H */
