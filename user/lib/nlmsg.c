/* nlmsg.c - rtnetlink socket opening, attribute building, a bounded receive and a dump (nlmsg.h). */
#include "nlmsg.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int xlb_nl_socket(unsigned int groups)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

void xlb_nl_add_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

ssize_t xlb_nl_recv(int fd, void *buf, size_t len, int wait_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, wait_ms) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

int xlb_nl_dump(int fd, const struct nlmsghdr *req, void *buf, size_t len, int wait_ms,
		int (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	int intr = 0;

	if (send(fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = xlb_nl_recv(fd, buf, len, wait_ms);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		for (struct nlmsghdr *h = buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			int e = 0;

			if (h->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (h->nlmsg_type == NLMSG_DONE) {
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(e)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				return e ? e : intr ? -EAGAIN : 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				e = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
				return e ? e : -EIO;
			}
			e = fn(h, arg);
			if (e < 0)
				return e;
		}
	}
}
