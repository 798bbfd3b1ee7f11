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

/* Waits up to wait_ms for a datagram on fd and reads it into buf (EINTR retried): its length,
 * -ETIMEDOUT, or -errno. */
ssize_t xlb_nl_recv(int fd, void *buf, size_t len, int wait_ms);

#endif /* XLB_NLMSG_H */
