/* xlbd.h - the daemon: its options and its parts, one member per module (docs/xlbd.md). */
#ifndef XLBD_H
#define XLBD_H

#include <event2/event.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>

#include "announce.h"
#include "apply.h"
#include "attach.h"
#include "backend_view.h"
#include "commands.h"
#include "config.h"
#include "control.h"
#include "dataplane.h"
#include "events.h"
#include "explain.h"
#include "flows.h"
#include "health.h"
#include "links.h"
#include "macs.h"
#include "metrics.h"
#include "metrics_http.h"
#include "tunprobe.h"

/*
 * One process, one event loop. Each member below is owned by the module named beside it: only
 * that module changes it; others read it through the module's header. The maps are written by
 * apply.c (VIPs, backends, tables), flows.c (active-flow counts, flow entries of removed VIPs)
 * and attach.c (the program on the interface); everything else only reads them.
 */
struct xlbd {
	/* options (main.c) */
	char ifname[IF_NAMESIZE];
	int ifindex;
	enum xlbd_mode mode;
	const char *state_path;
	const char *socket_path;
	const char *metrics_addr; /* --metrics ADDR:PORT; NULL: no HTTP server */
	char pin_dir[256];
	__u32 flow_entries;
	bool hash_seed_given; /* --hash-seed: the cluster's seed wins over the state file's */
	__u32 hash_seed;
	struct xlb_encap_src tunnel_src; /* --tunnel-source: ipip's outer sources; 0: the route's */

	struct event_base *base;       /* main.c */
	struct xlbd_config cfg;	       /* desired state: loaded by main.c, changed by commands.c */
	struct xlb_dp *dp;	       /* the loaded program and its maps (main.c) */
	struct xlbd_macs macs;	       /* macs.c */
	struct xlbd_links links;       /* links.c: the XDP_REDIRECT interfaces */
	struct xlbd_health health;     /* health.c */
	struct xlbd_view view;	       /* backend_view.c, over macs and health */
	struct xlbd_apply apply;       /* apply.c */
	struct xlbd_flows flows;       /* flows.c */
	struct xlbd_attach attach;     /* attach.c */
	struct xlbd_events events;     /* events.c */
	struct xlbd_explain explain;   /* explain.c */
	struct xlbd_control control;   /* control.c */
	struct xlbd_commands commands; /* commands.c */
	struct xlbd_metrics metrics;   /* metrics.c */
	struct xlbd_metrics_http http; /* metrics_http.c */
	struct xlbd_announce announce; /* announce.c: routes for the routing daemon */
};

#endif /* XLBD_H */
