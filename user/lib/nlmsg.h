/* nlmsg.h - the rtnetlink pieces xlbd (routes, neighbours, links) and xlb-backend share. */
#ifndef XLB_NLMSG_H
#define XLB_NLMSG_H

#include <linux/netlink.h>
#include <stddef.h>
#include <sys/types.h>

/* A NETLINK_ROUTE socket (close-on-exec) bound to the multicast groups (RTMGRP_*, 0 for none):
 * its fd, or -errno (nothing left open). */
int xlb_nl_socket(unsigned int groups);

/* Appends attribute type with len bytes of data after h's message (the caller's buffer holds
 * it: NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) bytes). */
void xlb_nl_add_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len);

/* How long xlbd waits for each part of the kernel's answer to a request: it comes within
 * milliseconds, and a kernel that does not answer in this time is not waited for longer (the
 * event loop also times health checks). */
#define XLB_NL_WAIT_MS 1000

/* Waits up to wait_ms for a datagram on fd and reads it into buf (EINTR retried): its length,
 * -ETIMEDOUT, or -errno. */
ssize_t xlb_nl_recv(int fd, void *buf, size_t len, int wait_ms);

/*
 * A dump: sends req (the caller set its type, flags and nlmsg_seq) on fd and calls fn(h, arg)
 * for every message of the answer but NLMSG_DONE and NLMSG_ERROR, until NLMSG_DONE; messages of
 * another sequence are skipped; each receive waits up to wait_ms (buf: len bytes, aligned to
 * NLMSG_ALIGNTO). Returns 0; the negative value fn returned (the dump stops there); the
 * kernel's error (in NLMSG_ERROR, or in NLMSG_DONE's payload: a dump's error comes there);
 * -ETIMEDOUT, -EIO (the answer ended early) or -errno; or, once the dump is whole, -EAGAIN if
 * the kernel marked it interrupted (NLM_F_DUMP_INTR: the objects changed meanwhile and one may
 * be missing; the caller may take it again).
 */
int xlb_nl_dump(int fd, const struct nlmsghdr *req, void *buf, size_t len, int wait_ms,
		int (*fn)(const struct nlmsghdr *h, void *arg), void *arg);

#endif /* XLB_NLMSG_H */
