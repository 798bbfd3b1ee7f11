/* addr.h - parsing and printing of addresses, ports, protocols and VIPs (pure C). */
#ifndef XLB_ADDR_H
#define XLB_ADDR_H

#include <linux/types.h>
#include <stddef.h>

#include "xlb_abi.h"

/* Longest text any xlb_format_* writes, with the NUL: "[v6]:65535/tcp". */
#define XLB_ADDRSTRLEN 64

/*
 * Parsers return 0 or -EINVAL; on error they write a one-line message naming the problem and the
 * input into err (when err is not NULL), e.g. "bad port '0' in '10.0.0.1:0/tcp': must be 1-65535".
 */

/*
 * "10.0.0.1" or "2001:db8::1" (brackets allowed: "[2001:db8::1]"). IPv4-mapped IPv6 addresses
 * ("::ffff:10.0.0.1") are refused with a hint to write the IPv4 address: such traffic arrives as
 * IPv4, so an IPv6 entry for it would never match. No zone index ("%eth0").
 */
int xlb_parse_addr(const char *s, struct xlb_addr *addr, __u8 *family, char *err, size_t errlen);
/* Decimal 1..65535, nothing else (no sign, space, hex or leading 0). Host byte order out. */
int xlb_parse_port(const char *s, __u16 *port, char *err, size_t errlen);
/* "tcp" or "udp" (case-insensitive); IPPROTO_* out. */
int xlb_parse_proto(const char *s, __u8 *proto, char *err, size_t errlen);
/* "ADDR:PORT/PROTO", IPv6 in brackets: "10.0.0.10:80/tcp", "[2001:db8::10]:443/udp". The
 * unspecified, multicast and IPv4 broadcast addresses are refused: no flow is sent to them. */
int xlb_parse_vip(const char *s, struct xlb_vip_key *key, char *err, size_t errlen);

/*
 * Why the address can never be a backend (a reason to quote after "is "), or NULL: the
 * unspecified address, "this network" (0.0.0.0/8), loopback (127.0.0.0/8, ::1), multicast, the
 * IPv4 broadcast and reserved (240.0.0.0/4) addresses, IPv6 link-local (fe80::/10: it needs a
 * zone index, which an xlb address has not, so probes could not reach it). IPv4 link-local
 * (169.254.0.0/16) is a unicast address on the LB's link and is accepted.
 */
const char *xlb_backend_addr_problem(const struct xlb_addr *addr, __u8 family);

/* Text forms; return the number of characters written (as snprintf) or -ENOSPC (buf is then
 * ""); -EINVAL for an unknown family or protocol. */
int xlb_format_addr(const struct xlb_addr *addr, __u8 family, char *buf, size_t len);
int xlb_format_vip(const struct xlb_vip_key *key, char *buf, size_t len);

/* A stable 64-bit identity of an address (same on every machine), for Maglev permutations. */
__u64 xlb_addr_key(const struct xlb_addr *addr, __u8 family);

#endif /* XLB_ADDR_H */
