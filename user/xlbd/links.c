/* links.c - xlb_tx_ports kept to the namespace's interfaces: rtnetlink link dump and monitor. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane.h"
#include "links.h"
#include "log.h"
#include "nlmsg.h"

/* One datagram of link messages: the kernel sizes dump datagrams up to 32 KB, and a link
 * message with all its statistics takes a few KB. Static: one loop, no reentry. */
static char nl_buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));

int xlbd_link_parse(const struct nlmsghdr *h, struct xlbd_link_msg *out)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	int len;

	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return -ENOENT;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EINVAL;
	ifi = NLMSG_DATA(h);
	if (ifi->ifi_family != AF_UNSPEC)
		return -ENOENT;
	if (ifi->ifi_index <= 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ifindex = (__u32)ifi->ifi_index;
	out->deleted = h->nlmsg_type == RTM_DELLINK;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t n = RTA_PAYLOAD(rta);

		if (rta->rta_type != IFLA_IFNAME)
			continue;
		/* A name is NUL-terminated and shorter than IF_NAMESIZE; anything else is not. */
		if (n < 2 || n > IF_NAMESIZE || ((const char *)RTA_DATA(rta))[n - 1] != '\0')
			return -EINVAL;
		memcpy(out->name, RTA_DATA(rta), n);
	}
	return 0;
}

static int find_in(const struct xlbd_links *l, __u32 ifindex)
{
	for (int i = 0; i < l->n_in; i++)
		if (l->in[i].ifindex == ifindex)
			return i;
	return -1;
}

static int find_refused(const struct xlbd_links *l, __u32 ifindex)
{
	for (int i = 0; i < l->n_refused; i++)
		if (l->refused[i].ifindex == ifindex)
			return i;
	return -1;
}

/* The kernel refused ifindex: logged the first time only (a link sends a message at every
 * change of its flags, and each tries again). */
static void refused(struct xlbd_links *l, const struct xlbd_link_msg *m, int err)
{
	if (find_refused(l, m->ifindex) >= 0)
		return;
	pr_warn("interface not usable for XDP_REDIRECT: ipip packets leaving by it go through the "
		"kernel",
		"ifindex=%u ifname=%s err=\"%s\"", m->ifindex, m->name, strerror(-err));
	if (l->n_refused < XLB_MAX_TX_PORTS) {
		l->refused[l->n_refused].ifindex = m->ifindex;
		memcpy(l->refused[l->n_refused].name, m->name, IF_NAMESIZE);
		l->n_refused++;
	}
}

/* Link m exists: into the map unless it is there. quiet: no line for an addition (start). */
static void link_up(struct xlbd_links *l, const struct xlbd_link_msg *m, bool quiet)
{
	int i = find_in(l, m->ifindex), err;

	if (i >= 0) {
		if (m->name[0]) /* renamed, perhaps: the logs name it as it is called now */
			memcpy(l->in[i].name, m->name, IF_NAMESIZE);
		return;
	}
	err = l->n_in < XLB_MAX_TX_PORTS ? xlb_dp_tx_port_add(l->dp, m->ifindex) : -E2BIG;
	if (err) {
		refused(l, m, err);
		return;
	}
	i = find_refused(l, m->ifindex);
	if (i >= 0)
		l->refused[i] = l->refused[--l->n_refused];
	l->in[l->n_in].ifindex = m->ifindex;
	memcpy(l->in[l->n_in].name, m->name, IF_NAMESIZE);
	l->n_in++;
	if (!quiet)
		pr_info("interface added for XDP_REDIRECT", "ifindex=%u ifname=%s", m->ifindex,
			m->name);
}

/* An entry left the map: the links refused for want of room may fit now. */
static void retry_refused(struct xlbd_links *l)
{
	for (int i = l->n_refused - 1; i >= 0; i--) {
		struct xlbd_link_msg m = {.ifindex = l->refused[i].ifindex};

		memcpy(m.name, l->refused[i].name, IF_NAMESIZE);
		link_up(l, &m, false); /* on success, takes it off the refused list */
	}
}

/* Link ifindex is gone: out of the map (the kernel may have removed it already: ENOENT). */
static void link_gone(struct xlbd_links *l, __u32 ifindex)
{
	int i = find_in(l, ifindex), err;

	if (i < 0) {
		i = find_refused(l, ifindex);
		if (i >= 0)
			l->refused[i] = l->refused[--l->n_refused];
		return;
	}
	err = xlb_dp_tx_port_del(l->dp, ifindex);
	if (err && err != -ENOENT)
		pr_warn("cannot remove an interface from the XDP_REDIRECT map",
			"ifindex=%u err=\"%s\"", ifindex, strerror(-err));
	pr_info("interface removed for XDP_REDIRECT", "ifindex=%u ifname=%s", ifindex,
		l->in[i].name);
	l->in[i] = l->in[--l->n_in];
	retry_refused(l);
}

/* What a dump of the links gathers: every link, in a buffer grown as needed. */
struct link_dump {
	struct xlbd_link_msg *present;
	int n, cap;
};

static int dumped_link(const struct nlmsghdr *h, void *arg)
{
	struct link_dump *d = arg;

	if (d->n == d->cap) {
		struct xlbd_link_msg *more =
			realloc(d->present, 2 * (size_t)d->cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		d->present = more;
		d->cap *= 2;
	}
	if (!xlbd_link_parse(h, &d->present[d->n]) && !d->present[d->n].deleted)
		d->n++;
	return 0;
}

/* Every link of the namespace into d (d->n: how many): 0 or -errno (-EAGAIN: the dump was
 * interrupted by a change, NLM_F_DUMP_INTR). All of them: a link left out would look gone to
 * the caller, and its entry would be removed. */
static int dump_links(struct xlbd_links *l, struct link_dump *d)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		      .nlmsg_type = RTM_GETLINK,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = ++l->seq},
		.ifi = {.ifi_family = AF_UNSPEC},
	};
	int fd = xlb_nl_socket(0), err;

	if (fd < 0)
		return fd;
	d->n = 0;
	err = xlb_nl_dump(fd, &req.h, nl_buf, sizeof(nl_buf), XLB_NL_WAIT_MS, dumped_link, d);
	close(fd);
	return err;
}

static int sync_links(struct xlbd_links *l, bool quiet)
{
	struct link_dump d = {.cap = 4 * XLB_MAX_TX_PORTS};
	struct xlbd_link_msg *present;
	__u32 keys[XLB_MAX_TX_PORTS];
	int err, n, nkeys, i, j;

	d.present = calloc(d.cap, sizeof(*d.present));
	if (!d.present)
		return -ENOMEM;
	/* An interrupted dump is taken again (a few times: links that change without end
	 * leave the map as it is, and the events that follow still come). */
	for (i = 0; i < 3; i++) {
		err = dump_links(l, &d);
		if (err != -EAGAIN)
			break;
	}
	present = d.present;
	n = d.n;
	if (err) {
		free(present);
		return err;
	}
	/* What is gone: out of xlbd's list and of the map. */
	for (i = 0; i < l->n_in;) {
		for (j = 0; j < n && present[j].ifindex != l->in[i].ifindex; j++)
			;
		if (j == n)
			link_gone(l, l->in[i].ifindex); /* moves the last one into i */
		else
			i++;
	}
	for (i = 0; i < l->n_refused;) {
		for (j = 0; j < n && present[j].ifindex != l->refused[i].ifindex; j++)
			;
		if (j == n)
			l->refused[i] = l->refused[--l->n_refused];
		else
			i++;
	}
	/* Entries xlbd never put (or lost track of) that name no link of now. */
	nkeys = xlb_dp_tx_ports(l->dp, keys, XLB_MAX_TX_PORTS);
	for (i = 0; i < nkeys && i < XLB_MAX_TX_PORTS; i++)
		if (find_in(l, keys[i]) < 0 && !xlb_dp_tx_port_del(l->dp, keys[i]))
			pr_info("stale interface removed for XDP_REDIRECT", "ifindex=%u", keys[i]);
	for (i = 0; i < n; i++)
		link_up(l, &present[i], quiet);
	free(present);
	return 0;
}

int xlbd_links_sync(struct xlbd_links *l)
{
	return sync_links(l, false);
}

int xlbd_links_read(struct xlbd_links *l)
{
	bool overflow = false;
	ssize_t len;
	int err;

	for (;;) {
		len = recv(l->mon, nl_buf, sizeof(nl_buf), MSG_DONTWAIT);
		if (len < 0 && errno == ENOBUFS) {
			overflow = true; /* events were dropped; the socket works on */
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break;
		for (struct nlmsghdr *h = (void *)nl_buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			struct xlbd_link_msg m;

			if (xlbd_link_parse(h, &m))
				continue;
			if (m.deleted)
				link_gone(l, m.ifindex);
			else
				link_up(l, &m, false);
		}
	}
	if (!overflow)
		return 0;
	/* What was lost is unknown: the map from a dump again. */
	l->resyncs++;
	err = sync_links(l, false);
	if (err)
		pr_err("link monitor overflowed and the dump failed: XDP_REDIRECT interfaces "
		       "may be out of date",
		       "resyncs=%llu err=\"%s\"", (unsigned long long)l->resyncs, strerror(-err));
	else
		pr_warn("link monitor overflowed: XDP_REDIRECT interfaces resynchronised with a "
			"dump",
			"resyncs=%llu interfaces=%d", (unsigned long long)l->resyncs, l->n_in);
	return 1;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	xlbd_links_read(arg);
}

int xlbd_links_open(struct xlbd_links *l, struct event_base *base, struct xlb_dp *dp)
{
	int err;

	l->dp = dp;
	/* The monitor first: a link that comes during the dump is then in one or the other. */
	l->mon = xlb_nl_socket(RTMGRP_LINK);
	if (l->mon < 0)
		return l->mon;
	l->ev = event_new(base, l->mon, EV_READ | EV_PERSIST, on_readable, l);
	if (!l->ev || event_add(l->ev, NULL))
		return -ENOMEM;
	err = sync_links(l, true);
	if (err)
		return err;
	pr_info("interfaces for XDP_REDIRECT", "count=%d refused=%d", l->n_in, l->n_refused);
	return 0;
}

void xlbd_links_close(struct xlbd_links *l)
{
	if (l->ev)
		event_free(l->ev);
	l->ev = NULL;
	if (l->mon > 0)
		close(l->mon);
	l->mon = -1;
}
