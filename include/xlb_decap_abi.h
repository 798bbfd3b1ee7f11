/* xlb_decap_abi.h - maps of the backend's decapsulating XDP program, shared with xlb-backend. */
#ifndef XLB_DECAP_ABI_H
#define XLB_DECAP_ABI_H

/*
 * No includes, as xlb_abi.h: include <linux/types.h> (or <linux/bpf.h> in BPF code) first.
 * Fixed-width fields, explicit padding and a size assertion for every key and value: both
 * sides read the same bytes. docs/backend.md describes the program and its counters.
 */

/* Bump when a struct below or a map's type changes: xlb-backend refuses pinned maps whose key
 * or value size differs from these. */
#define XLB_DECAP_ABI_VERSION 1

#define XLB_DECAP_MAX_VIPS 4096 /* entries of xlb_decap_vips */

#define XLB_DECAP_AF_INET  4
#define XLB_DECAP_AF_INET6 6

/* xlb_decap_vips (HASH): an inner destination address -> struct xlb_decap_vip. Only packets whose
 * inner destination is a key here are decapsulated. */
struct xlb_decap_vip_key {
	__be32 addr[4]; /* network byte order; IPv4 in addr[0], addr[1..3] zero */
	__u8 family;	/* XLB_DECAP_AF_INET or XLB_DECAP_AF_INET6 */
	__u8 pad[3];	/* zero */
};

struct xlb_decap_vip {
	__u32 flags; /* none defined yet: 0 */
};

_Static_assert(sizeof(struct xlb_decap_vip_key) == 20, "xlb_decap_vip_key size");
_Static_assert(sizeof(struct xlb_decap_vip) == 4, "xlb_decap_vip size");

/*
 * xlb_decap_stats (PERCPU_ARRAY of __u64): one counter per reason, summed in userspace. Every
 * packet the program sees moves exactly one of them. X(enum name, label).
 */
#define XLB_DECAP_COUNTERS(X)                        \
	X(XLB_DC_DECAP_4IN4, "decap_ipv4_in_ipv4")   \
	X(XLB_DC_DECAP_6IN6, "decap_ipv6_in_ipv6")   \
	X(XLB_DC_DECAP_4IN6, "decap_ipv4_in_ipv6")   \
	X(XLB_DC_PASS_NOT_IP, "pass_not_ip")         \
	X(XLB_DC_PASS_NOT_TUNNEL, "pass_not_tunnel") \
	X(XLB_DC_PASS_NOT_VIP, "pass_not_vip")       \
	X(XLB_DC_PASS_MALFORMED, "pass_malformed")   \
	X(XLB_DC_PASS_FRAGMENT, "pass_fragment")     \
	X(XLB_DC_PASS_IPV6_EXT, "pass_ipv6_ext")     \
	X(XLB_DC_PASS_ADJUST_FAILED, "pass_adjust_failed")

#define XLB_DECAP_COUNTER_ENUM(name, label) name,
enum xlb_decap_counter { XLB_DECAP_COUNTERS(XLB_DECAP_COUNTER_ENUM) XLB_DC_MAX };
#undef XLB_DECAP_COUNTER_ENUM

#endif /* XLB_DECAP_ABI_H */
