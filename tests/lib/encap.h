/* encap.h - builds tunnelled test frames: an IP packet of pkt.h inside an outer IPv4/IPv6 header. */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define PKT_ENCAP_MAX_EXTS 6 /* outer IPv6 extension headers, 8 bytes each */

/*
 * The outer header of a tunnelled frame. Addresses in network order, numbers in host order (as
 * pkt.h). The frame is pkt_build(inner)'s with its EtherType set to the outer family's and the
 * outer header (and, for IPv6, its extension headers) inserted before the inner IP packet: what
 * a standard IPIP / IP6IP6 / IPv4-in-IPv6 encapsulator (RFC 2003, RFC 2473) sends.
 */
struct pkt_encap {
	uint8_t family; /* outer: XLB_AF_INET or XLB_AF_INET6 */
	struct xlb_addr src, dst;
	uint8_t proto; /* outer protocol / last next header; 0: 4 or 41 by the inner family */
	uint8_t ip4_opts_len; /* IPv4 outer option bytes (multiple of 4, <= 40) */
	bool mf;	      /* IPv4 outer more-fragments flag */
	uint16_t frag_off;    /* IPv4 outer fragment offset, 8-byte units; also in an IPv6 fragment
				 header of ext[] (with mf) */
	uint8_t n_ext;	      /* IPv6 outer extension headers */
	uint8_t ext[PKT_ENCAP_MAX_EXTS]; /* 0 hop-by-hop, 60 dstopts, 43 routing, 44 fragment */
	uint8_t segments_left;		 /* of a routing header */
	uint8_t ihl;   /* non-zero: written as the outer IHL (a deliberate error) */
	int tot_delta; /* added to the outer total / payload length (an error) */
};

/* Outer 203.0.113.1 -> 192.0.2.50 or 2001:db8:ff::1 -> 2001:db8:ff::50 (the backend). */
void pkt_encap_init(struct pkt_encap *e, uint8_t family);

/* Writes the tunnelled frame into buf; returns its length, -EINVAL or -ENOSPC. */
int pkt_encap_build(const struct pkt_spec *inner, const struct pkt_encap *e, uint8_t *buf,
		    size_t cap);

#endif /* XLB_ENCAP_H */
