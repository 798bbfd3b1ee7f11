/* announce.c - VIP addresses as routes in xlb's own table (rtnetlink), for BIRD to announce. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "nlmsg.h"
#include "xlbd.h"

static int nl_family(__u8 family)
{
	return family == XLB_AF_INET ? AF_INET : AF_INET6;
}

static int addr_len(__u8 family)
{
	return family == XLB_AF_INET ? 4 : 16;
}

/* Waits for the answer to message seq: 0, or the kernel's -errno. */
static int nl_ack(struct xlbd_announce *a, __u32 seq)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = xlb_nl_recv(a->nl, buf, sizeof(buf), XLB_NL_WAIT_MS);
		struct nlmsghdr *h;

		if (n < 0)
			return (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

/* RTM_NEWROUTE (exclusive: never over a route that is there) or RTM_DELROUTE (of our protocol
 * only) of the address's blackhole route. 0 or the kernel's -errno. */
static int route_msg(struct xlbd_announce *a, int type, const struct xlb_addr *addr, __u8 family)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		char attrs[64];
	} req = {0};
	__u32 table = a->table;
	int e;

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.r));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	/* Not NLM_F_REPLACE: a replace matches the table, address and metric, not the protocol,
	 * and would take over a route someone else put at a VIP's address. */
	if (type == RTM_NEWROUTE)
		req.h.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	req.h.nlmsg_seq = ++a->seq;
	req.r.rtm_family = nl_family(family);
	req.r.rtm_dst_len = addr_len(family) * 8;
	/* Table numbers above 255 only fit the attribute; rtm_table says "see RTA_TABLE". */
	req.r.rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	req.r.rtm_protocol = XLBD_RTPROT;
	req.r.rtm_scope = RT_SCOPE_UNIVERSE;
	/* A blackhole needs no interface, gateway or address on the node, and the table is
	 * never used to forward (no rule points at it): it only carries the prefix. */
	req.r.rtm_type = RTN_BLACKHOLE;
	xlb_nl_add_attr(&req.h, RTA_DST, addr->bytes, addr_len(family));
	xlb_nl_add_attr(&req.h, RTA_TABLE, &table, sizeof(table));
	if (send(a->nl, &req, req.h.nlmsg_len, 0) < 0)
		return -errno;
	e = nl_ack(a, req.h.nlmsg_seq);
	return e;
}

/*
 * The address's route added. A route already there (EEXIST) is ours when a delete of our
 * protocol's route removes it (an add whose answer was lost): added again. Otherwise it is
 * another protocol's (an operator's, another daemon's): left alone, and -EEXIST.
 */
static int route_add(struct xlbd_announce *a, const struct xlb_addr *addr, __u8 family)
{
	int e = route_msg(a, RTM_NEWROUTE, addr, family);

	if (e != -EEXIST)
		return e;
	e = route_msg(a, RTM_DELROUTE, addr, family);
	if (e == -ESRCH)
		return -EEXIST;
	return e ?: route_msg(a, RTM_NEWROUTE, addr, family);
}

static int route_del(struct xlbd_announce *a, const struct xlb_addr *addr, __u8 family)
{
	int e = route_msg(a, RTM_DELROUTE, addr, family);

	/* Deleting a route that someone else deleted already is what was asked for. */
	return e == -ESRCH ? 0 : e;
}

static struct xlbd_announce_addr *find(struct xlbd_announce *a, const struct xlb_addr *addr,
				       __u8 family)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->addrs[i].family == family && !memcmp(&a->addrs[i].addr, addr, sizeof(*addr)))
			return &a->addrs[i];
	return NULL;
}

static struct xlbd_announce_addr *find_or_add(struct xlbd_announce *a, const struct xlb_addr *addr,
					      __u8 family)
{
	struct xlbd_announce_addr *e = find(a, addr, family);

	if (e)
		return e;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		struct xlbd_announce_addr *n = realloc(a->addrs, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->addrs = n;
		a->cap = cap;
	}
	e = &a->addrs[a->n++];
	*e = (struct xlbd_announce_addr){.addr = *addr, .family = family};
	return e;
}

/* One route of a dump: ours (table, protocol, a host route) is marked present; at start (adopt)
 * it goes into the list as announced, afterwards only known addresses are marked (another xlbd
 * may publish in the same table: its routes are not ours to take). */
static void dumped_route(struct xlbd_announce *a, const struct nlmsghdr *h, bool adopt)
{
	const struct rtmsg *r = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*r));
	__u32 table = r->rtm_table;
	struct xlb_addr addr = {0};
	struct xlbd_announce_addr *e;
	bool have_dst = false;
	struct rtattr *rta;
	__u8 family;

	if (len < 0 || r->rtm_protocol != XLBD_RTPROT ||
	    (r->rtm_family != AF_INET && r->rtm_family != AF_INET6))
		return;
	family = r->rtm_family == AF_INET ? XLB_AF_INET : XLB_AF_INET6;
	if (r->rtm_dst_len != addr_len(family) * 8)
		return;
	for (rta = RTM_RTA(r); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_TABLE && RTA_PAYLOAD(rta) == 4)
			memcpy(&table, RTA_DATA(rta), 4);
		else if (rta->rta_type == RTA_DST && (int)RTA_PAYLOAD(rta) == addr_len(family)) {
			memcpy(addr.bytes, RTA_DATA(rta), addr_len(family));
			have_dst = true;
		}
	}
	if (table != a->table || !have_dst)
		return;
	e = adopt ? find_or_add(a, &addr, family) : find(a, &addr, family);
	if (!e)
		return;
	e->present = true;
	if (adopt) {
		e->announced = true;
		e->reason = "found at start";
	}
}

struct route_dump {
	struct xlbd_announce *a;
	bool adopt;
};

static int route_dumped(const struct nlmsghdr *h, void *arg)
{
	const struct route_dump *rd = arg;

	if (h->nlmsg_type == RTM_NEWROUTE)
		dumped_route(rd->a, h, rd->adopt);
	return 0;
}

/* Reads our routes of one family in the table (adopt: at start, those a previous xlbd left).
 * 0 or -errno. An interrupted dump (NLM_F_DUMP_INTR) is taken as it is. */
static int dump(struct xlbd_announce *a, int family, bool adopt)
{
	struct route_dump rd = {.a = a, .adopt = adopt};
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		char attrs[16];
	} req = {0};
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	__u32 table = a->table;
	int e;

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.r));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = ++a->seq;
	req.r.rtm_family = family;
	/* With strict checking (xlbd_announce_open) the kernel dumps only our table and protocol,
	 * not a node's full routing table; without it, dumped_route filters the same way. */
	req.r.rtm_protocol = XLBD_RTPROT;
	xlb_nl_add_attr(&req.h, RTA_TABLE, &table, sizeof(table));
	e = xlb_nl_dump(a->nl, &req.h, buf, sizeof(buf), XLB_NL_WAIT_MS, route_dumped, &rd);
	/* No table yet (nothing was ever added to it since boot): nothing of ours in it. */
	return e == -ENOENT || e == -EAGAIN ? 0 : e;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	xlbd_announce_sync(arg, NULL);
}

int xlbd_announce_open(struct xlbd *d)
{
	struct xlbd_announce *a = &d->announce;
	int e;

	a->nl = xlb_nl_socket(0);
	if (a->nl < 0)
		return a->nl;
	/* Linux 4.20+: dump requests are filtered by the kernel. Older kernels refuse the option
	 * and dump everything, which the reader filters: best effort. */
	setsockopt(a->nl, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &(int){1}, sizeof(int));
	a->ev = event_new(d->base, -1, 0, on_sync, d);
	if (!a->ev)
		return -ENOMEM;
	e = dump(a, AF_INET, true);
	if (!e)
		e = dump(a, AF_INET6, true);
	if (e)
		return e;
	a->open = true;
	pr_info("route table read", "table=%u routes=%zu drained=%s", a->table, a->n,
		d->cfg.drained ? "yes" : "no");
	return 0;
}

void xlbd_announce_close(struct xlbd *d)
{
	struct xlbd_announce *a = &d->announce;

	if (a->ev)
		event_free(a->ev);
	a->ev = NULL;
	if (a->nl >= 0)
		close(a->nl);
	a->nl = -1;
	free(a->addrs);
	a->addrs = NULL;
	a->n = a->cap = 0;
	a->open = false;
}

bool xlbd_announce_wanted(const struct xlbd *d, const struct xlb_addr *addr, __u8 family,
			  const char **why)
{
	bool configured = false;

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		const struct xlbd_vip *v = &d->cfg.vips[i];

		if (v->key.family != family || memcmp(&v->key.addr, addr, sizeof(*addr)))
			continue;
		configured = true;
		for (size_t j = 0; j < v->nbe; j++) {
			const char *bwhy;

			if (xlbd_view_state(&d->view, v, &v->be[j], &bwhy) == XLB_BE_UP) {
				if (!d->cfg.drained) {
					*why = NULL;
					return true;
				}
			}
		}
	}
	*why = !configured ? "not configured" : d->cfg.drained ? "node drain" : "no usable backend";
	return false;
}

/* One address's route set to announce (or not); logs and counts a change. */
static void set_route(struct xlbd *d, struct xlbd_announce_addr *e, bool want, const char *why)
{
	struct xlbd_announce *a = &d->announce;
	char s[XLB_ADDRSTRLEN];
	int err;

	if (e->announced == want) {
		e->last_err = 0; /* nothing pending: a later refusal is news again */
		return;
	}
	xlb_format_addr(&e->addr, e->family, s, sizeof(s));
	err = want ? route_add(a, &e->addr, e->family) : route_del(a, &e->addr, e->family);
	if (err) {
		a->errors++;
		/* Retried every sync (every second): logged when the error is new, not each time. */
		if (err != e->last_err)
			pr_err(want ? "cannot add the route of a VIP address"
				    : "cannot delete the route of a VIP address",
			       "address=%s table=%u err=\"%s\"%s", s, a->table, strerror(-err),
			       err == -EEXIST ? " why=\"a route of another protocol is there: "
						"xlbd leaves it alone\""
					      : "");
		e->last_err = err;
		return;
	}
	e->last_err = 0;
	e->announced = want;
	e->transitions++;
	e->reason = why;
	pr_info(want ? "announce" : "withdraw", "address=%s table=%u reason=\"%s\"", s, a->table,
		why);
}

/*
 * What the table holds now, for the addresses xlbd knows: a route of ours deleted by someone
 * else (`ip route flush table 2001`) must be added again, not believed in until a restart; a
 * route of ours found where none was thought to be (an add whose answer was lost) is one.
 */
static void reread(struct xlbd *d)
{
	struct xlbd_announce *a = &d->announce;
	char s[XLB_ADDRSTRLEN];
	int e;

	for (size_t i = 0; i < a->n; i++)
		a->addrs[i].present = false;
	e = dump(a, AF_INET, false);
	if (!e)
		e = dump(a, AF_INET6, false);
	if (e) {
		/* Unknown: believe what xlbd did last, as before this read. */
		pr_debug("cannot read the route table", "table=%u err=\"%s\"", a->table,
			 strerror(-e));
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		struct xlbd_announce_addr *x = &a->addrs[i];

		if (x->announced == x->present)
			continue;
		xlb_format_addr(&x->addr, x->family, s, sizeof(s));
		if (x->announced)
			pr_warn("route of a VIP address gone from the table: adding it again",
				"address=%s table=%u", s, a->table);
		x->announced = x->present;
	}
}

void xlbd_announce_sync(struct xlbd *d, const char *reason)
{
	struct xlbd_announce *a = &d->announce;
	size_t i;

	if (!a->open)
		return;
	reread(d);
	for (i = 0; i < a->n; i++)
		a->addrs[i].configured = a->addrs[i].usable = false;
	/* One pass over the configuration: every second, whatever its size. */
	for (i = 0; i < d->cfg.nvips; i++) {
		const struct xlbd_vip *v = &d->cfg.vips[i];
		struct xlbd_announce_addr *e = find_or_add(a, &v->key.addr, v->key.family);

		if (!e) {
			pr_err("out of memory for the route list", "vips=%zu", d->cfg.nvips);
			return;
		}
		e->configured = true;
		for (size_t j = 0; j < v->nbe && !e->usable; j++) {
			const char *bwhy;

			e->usable = xlbd_view_state(&d->view, v, &v->be[j], &bwhy) == XLB_BE_UP;
		}
	}
	for (i = 0; i < a->n; i++) {
		struct xlbd_announce_addr *e = &a->addrs[i];
		bool want = e->usable && !d->cfg.drained;
		const char *why = want		   ? (reason ? reason : "usable backend")
				  : !e->configured ? "not configured"
				  : d->cfg.drained ? "node drain"
						   : "no usable backend";

		if (!want && reason && !strcmp(reason, "start") && !e->configured)
			why = "start: not configured";
		set_route(d, e, want, why);
	}
	/* Addresses gone from the configuration and withdrawn: forgotten. */
	for (i = 0; i < a->n;) {
		if (!a->addrs[i].configured && !a->addrs[i].announced)
			a->addrs[i] = a->addrs[--a->n];
		else
			i++;
	}
}

void xlbd_announce_soon(void *arg)
{
	struct xlbd *d = arg;

	if (d->announce.ev)
		event_active(d->announce.ev, 0, 0);
}

int xlbd_announce_withdraw_all(struct xlbd *d, const char *reason)
{
	struct xlbd_announce *a = &d->announce;
	int withdrawn = 0;

	if (!a->open)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (!a->addrs[i].announced)
			continue;
		set_route(d, &a->addrs[i], false, reason);
		withdrawn += !a->addrs[i].announced;
	}
	return withdrawn;
}
