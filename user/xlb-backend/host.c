/* host.c - the host settings of a DSR backend: VIP addresses on lo (rtnetlink) and ARP/rp_filter sysctls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "nlmsg.h"

/* ---- addresses on lo ------------------------------------------------------------------------ */

struct addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[128];
};

/* One request, its acknowledgement: 0 or the kernel's -errno. */
static int nl_talk(struct addr_req *r)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char buf[4096];
	ssize_t n;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->nh.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			goto out;
		}
	}
out:
	close(fd);
	return err;
}

static int lo_addr(int cmd, const struct xlb_addr *a, __u8 family)
{
	struct addr_req r = {0};
	size_t alen = family == XLB_AF_INET ? 4 : 16;
	int lo = if_nametoindex("lo");

	if (!lo)
		return -ENODEV;
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifa));
	r.nh.nlmsg_type = cmd;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (cmd == RTM_NEWADDR)
		r.nh.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL; /* EEXIST: it was there before us */
	r.nh.nlmsg_seq = 1;
	r.ifa.ifa_family = family == XLB_AF_INET ? AF_INET : AF_INET6;
	r.ifa.ifa_prefixlen = alen * 8; /* /32, /128: the VIP only, no route to a subnet */
	r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.ifa.ifa_index = lo;
	xlb_nl_add_attr(&r.nh, IFA_LOCAL, a->bytes, alen);
	xlb_nl_add_attr(&r.nh, IFA_ADDRESS, a->bytes, alen);
	if (family == XLB_AF_INET6 && cmd == RTM_NEWADDR) {
		__u32 flags = IFA_F_NODAD; /* usable at once; the LB, not we, owns the address */

		xlb_nl_add_attr(&r.nh, IFA_FLAGS, &flags, sizeof(flags));
	}
	return nl_talk(&r);
}

int be_lo_addr_add(const struct xlb_addr *a, __u8 family)
{
	return lo_addr(RTM_NEWADDR, a, family);
}

int be_lo_addr_del(const struct xlb_addr *a, __u8 family)
{
	return lo_addr(RTM_DELADDR, a, family);
}

/* ---- sysctls -------------------------------------------------------------------------------- */

static int sysctl_read(const char *path, char *val, size_t len)
{
	char full[256];
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	val[n] = '\0';
	val[strcspn(val, "\n")] = '\0';
	return 0;
}

static int sysctl_write(const char *path, const char *val)
{
	char full[256];
	size_t len = strlen(val);
	int fd, err = 0;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

/* Sets path to want unless its value already satisfies ok(value); records what it changed. */
static int sysctl_raise(struct be_state *st, const char *path, const char *want,
			bool (*ok)(long value, long all), long all)
{
	struct be_sysctl *s = &st->sysctl[st->n_sysctl];
	char cur[BE_SYSCTL_VALLEN];
	int err;

	err = sysctl_read(path, cur, sizeof(cur));
	if (err)
		return be_fail(err, "cannot read /proc/sys/%s: %s", path, strerror(-err));
	if (ok(strtol(cur, NULL, 10), all))
		return 0;
	if (st->n_sysctl == BE_MAX_SYSCTLS)
		return be_fail(-ENOSPC, "too many sysctls");
	err = sysctl_write(path, want);
	if (err)
		return be_fail(err, "cannot write /proc/sys/%s: %s", path, strerror(-err));
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->was, sizeof(s->was), "%s", cur);
	snprintf(s->set, sizeof(s->set), "%s", want);
	st->n_sysctl++;
	return 0;
}

/* arp_ignore 1: answer ARP only for addresses of the asking interface, never for a VIP on lo. */
static bool arp_ignore_ok(long v, long all)
{
	(void)all;
	return v >= 1;
}

/* arp_announce 2: never use a VIP (on lo) as the source of our own ARP requests. */
static bool arp_announce_ok(long v, long all)
{
	(void)all;
	return v >= 2;
}

/* The kernel applies max(all, interface): only strict (1) drops tunnelled clients. */
static bool rp_filter_ok(long v, long all)
{
	return (v > all ? v : all) != 1;
}

int be_sysctls_apply(struct be_state *st)
{
	char path[128], all[BE_SYSCTL_VALLEN];
	int err;

	if (!st->host || st->sysctls_applied)
		return 0;
	snprintf(path, sizeof(path), "net/ipv4/conf/%s/arp_ignore", st->ifname);
	err = sysctl_raise(st, path, "1", arp_ignore_ok, 0);
	if (!err) {
		snprintf(path, sizeof(path), "net/ipv4/conf/%s/arp_announce", st->ifname);
		err = sysctl_raise(st, path, "2", arp_announce_ok, 0);
	}
	/* Tunnelled packets come in on the interface with the client's source address, which
	 * strict reverse-path filtering refuses unless the route back is that interface. */
	if (!err && st->mode != BE_MODE_DSR_L2) {
		err = sysctl_read("net/ipv4/conf/all/rp_filter", all, sizeof(all));
		if (err)
			err = be_fail(err, "cannot read rp_filter: %s", strerror(-err));
		snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", st->ifname);
		if (!err)
			err = sysctl_raise(st, path, "2", rp_filter_ok, strtol(all, NULL, 10));
	}
	if (err) {
		be_sysctls_restore(st);
		return err;
	}
	st->sysctls_applied = true;
	return 0;
}

void be_sysctls_restore(struct be_state *st)
{
	char cur[BE_SYSCTL_VALLEN];

	for (int i = st->n_sysctl - 1; i >= 0; i--) {
		struct be_sysctl *s = &st->sysctl[i];

		cur[0] = '\0';
		/* Someone else's later change is theirs: left alone, and said. */
		if (sysctl_read(s->path, cur, sizeof(cur)) || strcmp(cur, s->set))
			pr_warn("sysctl changed since xlb-backend set it: left as it is",
				"sysctl=%s set=%s now=%s", s->path, s->set, cur);
		else if (sysctl_write(s->path, s->was))
			pr_warn("cannot restore sysctl", "sysctl=%s value=%s", s->path, s->was);
	}
	st->n_sysctl = 0;
	st->sysctls_applied = false;
}
