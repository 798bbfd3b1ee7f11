/* nlmsg.h - the two rtnetlink pieces xlbd's route publisher and xlb-backend both need. */
#ifndef XLB_NLMSG_H
#define XLB_NLMSG_H

#include <linux/netlink.h>
#include <stddef.h>
#include <sys/types.h>

/* Appends attribute type with len bytes of data after h's message (the caller's buffer holds
 * it: NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) bytes). */
void xlb_nl_add_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len);

/* Waits up to wait_ms for a datagram on fd and reads it into buf (EINTR retried): its length,
 * -ETIMEDOUT, or -errno. */
ssize_t xlb_nl_recv(int fd, void *buf, size_t len, int wait_ms);

#endif /* XLB_NLMSG_H */
