/* mutate.h - seeded, structure-aware generation and mutation of frames for the packet fuzzer. */
#ifndef XLB_MUTATE_H
#define XLB_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "xlb_abi.h"

/* xorshift64*: the whole sequence of a run follows from its seed. */
struct mut_rng {
	uint64_t s;
};

void mut_seed(struct mut_rng *r, uint64_t seed);
uint64_t mut_rnd(struct mut_rng *r);
uint32_t mut_below(struct mut_rng *r, uint32_t n); /* 0..n-1; 0 when n is 0 */
int mut_chance(struct mut_rng *r, uint32_t num, uint32_t den);

/* A destination: a VIP (address, port, protocol), or an address of nobody's VIP (port 0). */
struct mut_dst {
	uint8_t family; /* XLB_AF_INET or XLB_AF_INET6 */
	struct xlb_addr addr;
	uint16_t port; /* host order */
	uint8_t proto;
};

struct mut_cfg {
	uint8_t lb_mac[6];
	const struct mut_dst *vips;
	size_t nvips;
	const struct mut_dst *others;
	size_t nothers;
	/* Clients: flow i of pkt_spec_flow(); half the frames from the first hot_flows (so that
	 * flows come back while established), half from the next wide_flows. */
	uint32_t hot_flows, wide_flows;
};

/*
 * What a frame is made of:
 *   MUT_VIP         a well-formed TCP/UDP packet to a VIP (VLANs, IPv4 options, IPv6 extension
 *                   headers and atomic fragments, padding, any TCP flags)
 *   MUT_VIP_BROKEN  the same with 1-3 structural faults: IHL, version, tot_len/payload_len, data
 *                   offset, UDP length, fragment bits and offsets, EtherType, protocol, a third
 *                   VLAN tag or a TPID, unknown or overlong extension headers, long chains, a
 *                   wrong destination MAC (broadcast, multicast, another host), truncation at
 *                   any length
 *   MUT_NOT_VIP     to an address of nobody's VIP (some share a VIP address's filter slot), or
 *                   to a VIP address with another port or protocol, ICMP included
 *   MUT_RANDOM      random bytes, often behind an Ethernet (and VLAN, IP) header to the LB
 *   MUT_FLIPS       a MUT_VIP frame with 1-6 bytes changed
 */
enum mut_kind { MUT_VIP, MUT_VIP_BROKEN, MUT_NOT_VIP, MUT_RANDOM, MUT_FLIPS, MUT_KINDS };
extern const char *const mut_kind_name[MUT_KINDS];

struct mut_result {
	enum mut_kind kind;
	char what[128]; /* the faults applied, for a report: "ihl=3 cut=31" */
};

/* Writes one frame into buf (cap >= 4096); returns its length (0 is possible). */
size_t mut_frame(const struct mut_cfg *c, struct mut_rng *r, uint8_t *buf, size_t cap,
		 struct mut_result *res);

#endif /* XLB_MUTATE_H */
