/* neigh.c - backend MACs from the kernel neighbour table: rtnetlink dump, monitor and solicit. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "neigh.h"
#include "nlmsg.h"

struct xlbd_neigh {
	int mon;     /* subscribed to neighbour changes */
	int ifindex; /* only entries on the XDP interface count */
	xlbd_neigh_cb cb;
	void *arg;
	__u32 seq;
};

/* NUD states in which the link-layer address is valid. */
#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

struct neigh_entry {
	struct xlb_addr addr;
	__u8 family;
	__u8 mac[6];
	int has_mac;
	int ifindex;
	__u16 state;
	int deleted;
};

static int parse_neigh(const struct nlmsghdr *h, struct neigh_entry *e)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	struct rtattr *rta;

	if (len < 0 || (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6))
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->family = nd->ndm_family == AF_INET ? XLB_AF_INET : XLB_AF_INET6;
	e->ifindex = nd->ndm_ifindex;
	e->state = nd->ndm_state;
	e->deleted = h->nlmsg_type == RTM_DELNEIGH;
	for (rta = RTM_RTA(nd); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_DST) {
			if (RTA_PAYLOAD(rta) != (e->family == XLB_AF_INET ? 4u : 16u))
				return -EINVAL;
			memcpy(e->addr.bytes, RTA_DATA(rta), RTA_PAYLOAD(rta));
		} else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			memcpy(e->mac, RTA_DATA(rta), 6);
			e->has_mac = 1;
		}
	}
	return 0;
}

int xlbd_neigh_open(struct xlbd_neigh **out, int ifindex, xlbd_neigh_cb cb, void *arg)
{
	struct xlbd_neigh *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->mon = xlb_nl_socket(RTMGRP_NEIGH);
	if (n->mon < 0) {
		int e = n->mon;

		free(n);
		return e;
	}
	/* Room for bursts (a link flushed, thousands of entries at once); an overflow still
	 * resynchronises (xlbd_neigh_read). Capped by net.core.rmem_max: best effort. */
	setsockopt(n->mon, SOL_SOCKET, SO_RCVBUF, &(int){1 << 20}, sizeof(int));
	n->ifindex = ifindex;
	n->cb = cb;
	n->arg = arg;
	*out = n;
	return 0;
}

void xlbd_neigh_close(struct xlbd_neigh *n)
{
	if (!n)
		return;
	close(n->mon);
	free(n);
}

int xlbd_neigh_fd(const struct xlbd_neigh *n)
{
	return n->mon;
}

/* One entry of the interface, to the callback as neigh.h describes; false: not reported. */
static bool report(const struct neigh_entry *e, xlbd_neigh_cb cb, void *arg)
{
	if (e->deleted)
		cb(&e->addr, e->family, NULL, 0, arg);
	else if (e->state & NUD_FAILED)
		cb(&e->addr, e->family, NULL, NUD_FAILED, arg);
	else if (e->has_mac && (e->state & NUD_USABLE))
		cb(&e->addr, e->family, e->mac, e->state, arg);
	else
		return false;
	return true;
}

int xlbd_neigh_read(struct xlbd_neigh *n)
{
	bool overflow = false;
	char buf[16384];
	ssize_t len;

	for (;;) {
		len = recv(n->mon, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0 && errno == ENOBUFS) {
			overflow = true; /* updates were dropped; the socket works on */
			continue;
		}
		if (len <= 0)
			break;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct neigh_entry e;

			if ((h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) ||
			    parse_neigh(h, &e) || e.ifindex != n->ifindex)
				continue;
			report(&e, n->cb, n->arg);
		}
	}
	if (!overflow)
		return 0;
	/* What was lost is unknown: the whole table again, through the monitor's callback. */
	xlbd_neigh_dump(n, XLB_AF_INET, n->cb, n->arg);
	xlbd_neigh_dump(n, XLB_AF_INET6, n->cb, n->arg);
	return 1;
}

struct neigh_dump {
	const struct xlbd_neigh *n;
	__u8 family;
	xlbd_neigh_cb cb;
	void *arg;
};

static int neigh_dumped(const struct nlmsghdr *h, void *arg)
{
	const struct neigh_dump *d = arg;
	struct neigh_entry e;

	if (h->nlmsg_type == RTM_NEWNEIGH && !parse_neigh(h, &e) && e.ifindex == d->n->ifindex &&
	    e.family == d->family)
		report(&e, d->cb, d->arg);
	return 0;
}

int xlbd_neigh_dump(struct xlbd_neigh *n, __u8 family, xlbd_neigh_cb cb, void *arg)
{
	struct {
		struct nlmsghdr h;
		struct ndmsg nd;
	} req = {
		.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		      .nlmsg_type = RTM_GETNEIGH,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = ++n->seq},
		.nd = {.ndm_family = family == XLB_AF_INET ? AF_INET : AF_INET6},
	};
	struct neigh_dump d = {.n = n, .family = family, .cb = cb, .arg = arg};
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd = xlb_nl_socket(0), err;

	if (fd < 0)
		return fd;
	err = xlb_nl_dump(fd, &req.h, buf, sizeof(buf), XLB_NL_WAIT_MS, neigh_dumped, &d);
	close(fd);
	/* An interrupted dump is taken as it is: the monitor brings what changed meanwhile. */
	return err == -EAGAIN ? 0 : err;
}

void xlbd_neigh_solicit(const struct xlb_addr *addr, __u8 family)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(9)};
	int fd = socket(family == XLB_AF_INET ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (family == XLB_AF_INET) {
		s4.sin_addr.s_addr = addr->v4;
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&s4, sizeof(s4));
	} else {
		memcpy(&s6.sin6_addr, addr->bytes, 16);
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&s6, sizeof(s6));
	}
	close(fd);
}
