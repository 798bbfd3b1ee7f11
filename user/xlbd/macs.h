/* macs.h - backends' MAC addresses, learned from the kernel's neighbour table (over neigh.c). */
#ifndef XLBD_MACS_H
#define XLBD_MACS_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>

#include "xlb_abi.h"

struct xlbd_config;
struct xlbd_neigh;
struct xlb_dp;

/*
 * One MAC per backend id, known or not. A backend whose MAC is unknown is down in the data
 * plane (backend_view.c). Whenever a MAC is learned, changed or lost, `changed` is called: the
 * owner then applies the configuration again (apply.c).
 */
struct xlbd_macs {
	__u8 mac[XLB_MAX_BACKENDS][6];
	bool known[XLB_MAX_BACKENDS];
	const struct xlbd_config *cfg; /* the backends to learn for (xlbd's desired state) */
	struct xlbd_neigh *neigh;
	struct event *ev; /* the neighbour monitor socket is readable */
	void (*changed)(void *arg);
	void *arg;
};

/* Opens the neighbour monitor on ifindex, watched on base. 0 or -errno. */
int xlbd_macs_open(struct xlbd_macs *m, struct event_base *base, int ifindex,
		   const struct xlbd_config *cfg, void (*changed)(void *arg), void *arg);
void xlbd_macs_close(struct xlbd_macs *m);

/* After a restart the maps still hold the MACs the last xlbd used: start from those, so that
 * no backend looks down (and no flow moves) while the neighbour table is asked again. */
void xlbd_macs_seed(struct xlbd_macs *m, struct xlb_dp *dp);

/* Looks up the MACs still unknown (one neighbour dump per family) and asks the kernel to
 * resolve the rest (ARP / neighbour solicitation). Calls `changed` when it learned one. */
void xlbd_macs_learn(struct xlbd_macs *m);

/* Forgets the MAC of id (a new backend, or one removed): it is learned again when needed. */
void xlbd_macs_forget(struct xlbd_macs *m, __u32 id);

/* The MAC of id, NULL when unknown. */
const __u8 *xlbd_macs_get(const struct xlbd_macs *m, __u32 id);

#endif /* XLBD_MACS_H */
