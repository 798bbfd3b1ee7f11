/* frame.h - a minimal TCP/UDP frame for a flow key, to run through the program (flow explain). */
#ifndef XLB_FRAME_H
#define XLB_FRAME_H

#include <linux/types.h>
#include <stddef.h>

#include "xlb_abi.h"

#define XLB_FRAME_MAX 128

/*
 * Ethernet (destination dst_mac) + IPv4 or IPv6 + a TCP header with tcp_flags or a UDP header,
 * no payload. Checksums are left zero: the XDP program never reads them. Returns the length or
 * -EINVAL / -ENOSPC.
 */
int xlb_frame_build(const struct xlb_flow_key *k, const __u8 dst_mac[6], __u8 tcp_flags, __u8 *buf,
		    size_t cap);

#endif /* XLB_FRAME_H */
