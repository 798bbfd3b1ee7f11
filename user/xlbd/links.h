/* links.h - the interfaces ipip may redirect to (xlb_tx_ports), kept to the namespace's links. */
#ifndef XLBD_LINKS_H
#define XLBD_LINKS_H

#include <event2/event.h>
#include <linux/netlink.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>

#include "xlb_abi.h"

struct xlb_dp;

/* What one rtnetlink link message says: interface ifindex (named name) exists, or is gone. */
struct xlbd_link_msg {
	__u32 ifindex;
	bool deleted;
	char name[IF_NAMESIZE]; /* "" when the message has none */
};

/*
 * Pure: one RTM_NEWLINK / RTM_DELLINK message of family AF_UNSPEC (the interface itself) into
 * out. 0; -ENOENT for a message that says nothing of an interface's existence (another type, or
 * a bridge's AF_BRIDGE port message: a port leaving its bridge is an RTM_DELLINK of that
 * family, and the interface stays); -EINVAL for a malformed one.
 */
int xlbd_link_parse(const struct nlmsghdr *h, struct xlbd_link_msg *out);

struct xlbd_link_port {
	__u32 ifindex;
	char name[IF_NAMESIZE];
};

/*
 * xlb_tx_ports follows the interfaces of xlbd's namespace (docs/datapath.md, "ipip"): a link
 * that appears is added, one that goes is removed, each change logged. An interface the kernel
 * refuses (gone already, or the map is full) is skipped and logged once, and tried again at
 * its next change or when an entry leaves the map; what goes there is forwarded by the kernel
 * (pass_no_tx_port). A monitor overflow (ENOBUFS:
 * events were lost) is answered by a full resynchronisation from a dump of the links.
 */
struct xlbd_links {
	struct xlb_dp *dp;
	int mon; /* subscribed to RTNLGRP_LINK */
	struct event *ev;
	struct xlbd_link_port in[XLB_MAX_TX_PORTS]; /* what xlbd put into the map */
	int n_in;
	/* Refused, logged once; tried again when the link changes or an entry is removed (the
	 * map had no room), forgotten when the link goes. */
	struct xlbd_link_port refused[XLB_MAX_TX_PORTS];
	int n_refused;
	__u64 resyncs; /* overflows answered by a resynchronisation */
	__u32 seq;
};

/* Subscribes to link events on base, then fills the map from a dump. 0 or -errno. */
int xlbd_links_open(struct xlbd_links *l, struct event_base *base, struct xlb_dp *dp);
void xlbd_links_close(struct xlbd_links *l);
/* The map made equal to the dump of the links: every link put in, every other entry out.
 * 0 or -errno (the dump failed: the map is left as it was). */
int xlbd_links_sync(struct xlbd_links *l);
/* Reads what the monitor socket holds (the loop calls it when readable); 1 when it overflowed
 * and the map was resynchronised, else 0. */
int xlbd_links_read(struct xlbd_links *l);

#endif /* XLBD_LINKS_H */
