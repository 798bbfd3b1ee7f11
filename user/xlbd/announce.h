/* announce.h - VIP addresses published as routes in xlb's own table, for BIRD to announce. */
#ifndef XLBD_ANNOUNCE_H
#define XLBD_ANNOUNCE_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "xlb_abi.h"

struct xlbd;

/*
 * xlbd speaks no BGP (docs/cluster.md): it keeps one blackhole route per VIP address that this
 * node can serve in a routing table of its own (--route-table, default XLBD_ROUTE_TABLE), with
 * protocol XLBD_RTPROT, and a routing daemon learns that table and announces what is in it.
 * An address is announced while the node is in service (not drained) and at least one backend
 * of any VIP on that address is up (backend_view.c). The routes outlive xlbd: SIGTERM leaves
 * them, the next start reconciles them; only `prog detach` withdraws them all.
 */
#define XLBD_ROUTE_TABLE 2001
#define XLBD_RTPROT	 211 /* "xlb" in /etc/iproute2/rt_protos.d (examples/bird/) */
/* At `prog detach`, the time between the withdraw and the program's removal: the router moves
 * the flows away first (BIRD and BGP take ~20 ms here, more on a loaded node). */
#define XLBD_WITHDRAW_GRACE_MS 1000

struct xlbd_announce_addr {
	struct xlb_addr addr;
	__u8 family;	    /* XLB_AF_INET or XLB_AF_INET6 */
	bool announced;	    /* the route is in the table (as far as xlbd knows) */
	bool configured;    /* an address of a VIP of the configuration (at the last sync) */
	bool usable;	    /* one of its VIPs had a backend up (at the last sync) */
	__u64 transitions;  /* announces and withdraws since start (xlb_vip_announce_..._total) */
	const char *reason; /* of the last transition, or "found at start" */
	int last_err;	    /* of the last route change tried: -errno, 0 when it went through */
	bool present;	    /* found in the table by the last read (every sync reads it) */
};

struct xlbd_announce {
	__u32 table; /* the routing table (main.c sets it from --route-table) */
	int nl;	     /* rtnetlink socket; -1: closed */
	__u32 seq;
	bool open; /* the table was read at start: syncs may run */
	struct xlbd_announce_addr *addrs;
	size_t n, cap;
	struct event *ev; /* runs a pending sync */
	__u64 errors;	  /* route changes the kernel refused (logged) */
};

/* Opens the socket and reads the table's routes of XLBD_RTPROT (what a previous xlbd left):
 * nothing is changed yet. 0 or -errno. */
int xlbd_announce_open(struct xlbd *d);
void xlbd_announce_close(struct xlbd *d);

/*
 * Makes the table match what should be announced now: adds the routes of addresses that can be
 * served, deletes the others (of addresses no longer configured too). reason: why this sync
 * runs ("start", "node drain", "node undrain"), logged for the addresses it changes; NULL for a
 * change of backend usability. Errors are logged and counted; a route the kernel refused is
 * tried again at the next sync.
 */
void xlbd_announce_sync(struct xlbd *d, const char *reason);
/* A sync in this loop turn (arg: the struct xlbd): health and MAC changes call this. */
void xlbd_announce_soon(void *arg);
/* Deletes every route (`prog detach`); returns how many were deleted (failures are logged). */
int xlbd_announce_withdraw_all(struct xlbd *d, const char *reason);

/* Whether the address should be announced now, and if not, why not (a log reason). */
bool xlbd_announce_wanted(const struct xlbd *d, const struct xlb_addr *addr, __u8 family,
			  const char **why);

#endif /* XLBD_ANNOUNCE_H */
