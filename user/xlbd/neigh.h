/* neigh.h - backend MAC addresses from the kernel neighbour table (rtnetlink). */
#ifndef XLBD_NEIGH_H
#define XLBD_NEIGH_H

#include <linux/types.h>
#include <stdbool.h>

#include "xlb_abi.h"

struct xlbd_neigh;

/*
 * What is known of one neighbour: an entry with a usable link-layer address (mac, and its NUD
 * state: NUD_REACHABLE, NUD_STALE, ...), a failed one (NUD_FAILED: the kernel's probes went
 * unanswered; mac NULL) or one deleted (state 0, mac NULL: cache expiry or a link flushed).
 * Entries still being resolved (NUD_INCOMPLETE, no address) are not reported.
 */
typedef void (*xlbd_neigh_cb)(const struct xlb_addr *addr, __u8 family, const __u8 *mac,
			      __u16 state, void *arg);

/* Opens a dump socket and a monitor socket (RTNLGRP_NEIGH, RTNLGRP_NEIGH6... via groups). */
int xlbd_neigh_open(struct xlbd_neigh **out, int ifindex, xlbd_neigh_cb cb, void *arg);
void xlbd_neigh_close(struct xlbd_neigh *n);
/*
 * The monitor socket, for the event loop; call xlbd_neigh_read when it is readable. When the
 * socket overflowed (ENOBUFS: updates were lost, a MAC change among them perhaps), the read
 * resynchronises: a dump of both families goes through the monitor's callback. Returns the
 * number of resynchronisations done (0 or 1).
 */
int xlbd_neigh_fd(const struct xlbd_neigh *n);
int xlbd_neigh_read(struct xlbd_neigh *n);

/* Calls cb for every entry of family on the interface with a usable MAC, and every failed one:
 * one dump. */
int xlbd_neigh_dump(struct xlbd_neigh *n, __u8 family, xlbd_neigh_cb cb, void *arg);
/* Makes the kernel resolve addr: a datagram to the discard port forces ARP / ND. */
void xlbd_neigh_solicit(const struct xlb_addr *addr, __u8 family);

#endif /* XLBD_NEIGH_H */
