/* tunprobe.h - the tunnel part of a health check: an ICMP echo to the VIP inside a backend's tunnel, and its reply. */
#ifndef XLBD_TUNPROBE_H
#define XLBD_TUNPROBE_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "xlb_abi.h"

/*
 * What one tunnel check sends (docs/xlbd.md, "The tunnel check"): an ICMP (or ICMPv6) echo
 * request from the LB to the VIP, inside an outer header to the backend's address, as the data
 * plane encapsulates that backend's packets (protocol 4 in IPv4, next header 41 or 4 in IPv6).
 * A raw socket of protocol 4 or 41 sends it: the kernel writes the outer header, no ipip module
 * needed. The backend's xlb_decap strips it, its stack answers from the VIP (DSR) straight to
 * the inner source, an address of the LB: the reply proves the tunnel reaches the backend, that
 * it decapsulates, that the VIP is configured there and that its answers route back.
 */
struct xlbd_tunprobe_spec {
	__u8 family;		 /* the backend's address (the outer header) */
	struct xlb_addr addr;	 /* ... */
	__u8 vip_family;	 /* the VIP's (the inner packet) */
	struct xlb_addr vip;	 /* ... */
	struct xlb_addr src;	 /* outer source, of family; zero: the route's */
	struct xlb_addr vip_src; /* inner source, of vip_family; zero: see tunprobe.c */
	int ifindex;		 /* xlbd's interface: the inner IPv4 source of IPv4 in IPv6 */
};

/* The inner packet: ICMP echo request (IPv4, with its IPv4 header) or ICMPv6 echo request (IPv6,
 * with its IPv6 header), 16 bytes of data: "xlbd", then the 12-byte cookie. */
#define XLBD_TUNPROBE_COOKIE 12
struct xlbd_tunprobe_echo {
	__u8 family;
	struct xlb_addr src, dst;
	__u16 id, seq;
	__u8 cookie[XLBD_TUNPROBE_COOKIE];
};

#define XLBD_TUNPROBE_DATA   (4 + XLBD_TUNPROBE_COOKIE)
#define XLBD_TUNPROBE_PKTMAX (40 + 8 + XLBD_TUNPROBE_DATA)

/* Writes the inner packet into buf (at least XLBD_TUNPROBE_PKTMAX bytes); its length. Checksums
 * included (IPv4 header, ICMP; ICMPv6 over its pseudo-header). Pure. */
size_t xlbd_tunprobe_build(const struct xlbd_tunprobe_echo *e, __u8 *buf);

/*
 * Whether a datagram read from a raw ICMP (IPv4: starting with the IPv4 header, as such a
 * socket gives it) or raw ICMPv6 socket (IPv6: starting with the ICMPv6 header) is the reply
 * to e: sent from e->dst (from: the address recvfrom gave), an echo reply with e's id, seq and
 * data. Anything else, a truncated datagram included, is not. Pure.
 */
bool xlbd_tunprobe_match(const struct xlbd_tunprobe_echo *e, const struct xlb_addr *from,
			 const __u8 *buf, size_t len);

struct xlbd_tunprobe;

/* Whether this process may open the raw sockets a tunnel check needs (CAP_NET_RAW). */
bool xlbd_tunprobe_permitted(void);

/* Called once per probe, from the event loop. Same meaning as probe.h's xlbd_probe_cb; local
 * is 0 from tunprobe.c (an error of our side comes as xlbd_tunprobe_start's return). */
typedef void (*xlbd_tunprobe_cb)(void *arg, bool ok, const char *err, int local);

/* Starts a tunnel check; 0 or -errno (then cb is not called). It has no timer: the probe it is
 * part of (probe.c) times both and cancels it. The probe frees itself before it calls cb: cb
 * must not cancel it. */
int xlbd_tunprobe_start(struct event_base *base, const struct xlbd_tunprobe_spec *spec,
			xlbd_tunprobe_cb cb, void *arg, struct xlbd_tunprobe **out);
/* Stops a probe in flight without calling cb. */
void xlbd_tunprobe_cancel(struct xlbd_tunprobe *p);

#endif /* XLBD_TUNPROBE_H */
