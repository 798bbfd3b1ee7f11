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
 * One MAC per backend id, known or not, and whether its neighbour entry failed (the kernel's
 * ARP / ND probes went unanswered: the backend lost its address or its link). A backend whose
 * MAC is unknown or whose neighbour is unreachable is down in the data plane (backend_view.c).
 * Whenever a MAC is learned or changed, or a neighbour fails or answers again, `changed` is
 * called: the owner then applies the configuration again (apply.c).
 *
 * The data plane forwards without the kernel's neighbour table, so nothing would ever make the
 * kernel check an entry again: a backend without health checks would stay up forever on a
 * MAC nobody answers for. So an entry gone stale or deleted is solicited (once a second, from
 * xlbd_macs_learn): the kernel then confirms it (reachable) or, after its probes, fails it.
 */
struct xlbd_macs {
	__u8 mac[XLB_MAX_BACKENDS][6];
	bool known[XLB_MAX_BACKENDS];
	bool unreachable[XLB_MAX_BACKENDS]; /* NUD_FAILED since last usable */
	__u16 nud[XLB_MAX_BACKENDS];	    /* last NUD state seen; 0: none (deleted, not yet) */
	__u64 resyncs;			    /* monitor overflows resynchronised by a dump */
	const struct xlbd_config *cfg;	    /* the backends to learn for (xlbd's desired state) */
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

/* Looks up the MACs still unknown and the states not seen yet (one neighbour dump per family),
 * and asks the kernel to resolve (ARP / neighbour solicitation) the rest, the stale, deleted
 * and failed entries. Calls `changed` when what the data plane should see changed. */
void xlbd_macs_learn(struct xlbd_macs *m);

/* Forgets the MAC of id (a new backend, or one removed): it is learned again when needed. */
void xlbd_macs_forget(struct xlbd_macs *m, __u32 id);

/* The MAC of id, NULL when unknown. */
const __u8 *xlbd_macs_get(const struct xlbd_macs *m, __u32 id);

/* The neighbour entry of id failed and has not answered since. */
static inline bool xlbd_macs_unreachable(const struct xlbd_macs *m, __u32 id)
{
	return id < XLB_MAX_BACKENDS && m->unreachable[id];
}

#endif /* XLBD_MACS_H */
