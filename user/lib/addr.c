/* addr.c - parsing and printing of addresses, ports, protocols and VIPs; address identities. */
#include "addr.h"
#include "mix.h"
#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest VIP taken: nothing valid is longer ("[v6]:65535/tcp" fits XLB_ADDRSTRLEN). */
#define INPUT_MAX (XLB_ADDRSTRLEN - 1)

/* Input echoed in a message is cut to this many bytes (any VIP of a valid length fits), so one
 * bad argument cannot flood a log. */
#define ECHO_MAX  64
#define ECHO_SIZE (ECHO_MAX + 4)

#define VIP_FORM "write ADDR:PORT/PROTO, e.g. 10.0.0.10:80/tcp or [2001:db8::10]:443/udp"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* s[0..len) made fit for a one-line message. */
static const char *echo(char dst[ECHO_SIZE], const char *s, size_t len)
{
	return xlb_printable(dst, s, len, ECHO_MAX);
}

/* " in '<whole input>'" when a part of a VIP is parsed, "" when the part is the whole input. */
static const char *where(char dst[ECHO_SIZE + 8], const char *whole)
{
	char e[ECHO_SIZE];

	if (!whole)
		return "";
	snprintf(dst, ECHO_SIZE + 8, " in '%s'", echo(e, whole, strlen(whole)));
	return dst;
}

static int parse_addr_n(const char *s, size_t len, const char *whole, struct xlb_addr *addr,
			__u8 *family, char *err, size_t errlen)
{
	static const __u8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char buf[INET6_ADDRSTRLEN], e[ECHO_SIZE], w[ECHO_SIZE + 8], v4[INET_ADDRSTRLEN];
	bool bracketed = false;
	struct xlb_addr a;

	if (len == 0)
		return fail(err, errlen, "missing address%s: write an IPv4 or IPv6 address",
			    where(w, whole));
	if (s[0] == '[') {
		if (len < 2 || s[len - 1] != ']')
			return fail(err, errlen, "bad address '%s'%s: missing ']'", echo(e, s, len),
				    where(w, whole));
		bracketed = true;
	}
	if (len - 2 * bracketed >= sizeof(buf))
		return fail(err, errlen, "bad address '%s'%s: too long for an IP address",
			    echo(e, s, len), where(w, whole));
	memcpy(buf, s + bracketed, len - 2 * bracketed);
	buf[len - 2 * bracketed] = '\0';

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, buf, &a.v4) == 1) {
		if (bracketed)
			return fail(err, errlen,
				    "bad address '%s'%s: brackets are for IPv6 addresses only, "
				    "write %s",
				    echo(e, s, len), where(w, whole), buf);
		*addr = a;
		*family = XLB_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a.bytes) == 1) {
		/* Such a packet arrives as IPv4, so an IPv6 entry for it would never match. */
		if (!memcmp(a.bytes, v4mapped, sizeof(v4mapped)))
			return fail(
				err, errlen,
				"bad address '%s'%s: IPv4-mapped IPv6 addresses are not accepted, "
				"write the IPv4 address %s",
				echo(e, s, len), where(w, whole),
				inet_ntop(AF_INET, a.bytes + 12, v4, sizeof(v4)));
		*addr = a;
		*family = XLB_AF_INET6;
		return 0;
	}
	if (strchr(buf, '%'))
		return fail(err, errlen, "bad address '%s'%s: zone indexes (%%) are not supported",
			    echo(e, s, len), where(w, whole));
	return fail(err, errlen, "bad address '%s'%s: not an IPv4 or IPv6 address", echo(e, s, len),
		    where(w, whole));
}

static int parse_port_n(const char *s, size_t len, const char *whole, __u16 *port, char *err,
			size_t errlen)
{
	char e[ECHO_SIZE], w[ECHO_SIZE + 8];
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return fail(err, errlen, "missing port%s: must be 1-65535", where(w, whole));
	for (i = 0; i < len; i++) {
		/* Not isdigit(): it depends on the locale. */
		if (s[i] < '0' || s[i] > '9')
			return fail(err, errlen,
				    "bad port '%s'%s: must be a decimal number 1-65535",
				    echo(e, s, len), where(w, whole));
		if (v <= 65535)
			v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(err, errlen, "bad port '%s'%s: must be 1-65535", echo(e, s, len),
			    where(w, whole));
	/* "080" is refused rather than guessed at: decimal 80 to us, octal 64 to some tools. */
	if (s[0] == '0')
		return fail(err, errlen, "bad port '%s'%s: no leading zeros, write %lu",
			    echo(e, s, len), where(w, whole), v);
	*port = v;
	return 0;
}

static int parse_proto_n(const char *s, size_t len, const char *whole, __u8 *proto, char *err,
			 size_t errlen)
{
	char e[ECHO_SIZE], w[ECHO_SIZE + 8];

	if (len == 0)
		return fail(err, errlen, "missing protocol%s: must be tcp or udp", where(w, whole));
	if (len == 3 && !strncasecmp(s, "tcp", 3)) {
		*proto = IPPROTO_TCP;
		return 0;
	}
	if (len == 3 && !strncasecmp(s, "udp", 3)) {
		*proto = IPPROTO_UDP;
		return 0;
	}
	return fail(err, errlen, "bad protocol '%s'%s: must be tcp or udp", echo(e, s, len),
		    where(w, whole));
}

int xlb_parse_addr(const char *s, struct xlb_addr *addr, __u8 *family, char *err, size_t errlen)
{
	if (!s || !addr || !family)
		return fail(err, errlen, "missing address");
	return parse_addr_n(s, strlen(s), NULL, addr, family, err, errlen);
}

int xlb_parse_port(const char *s, __u16 *port, char *err, size_t errlen)
{
	if (!s || !port)
		return fail(err, errlen, "missing port");
	return parse_port_n(s, strlen(s), NULL, port, err, errlen);
}

int xlb_parse_proto(const char *s, __u8 *proto, char *err, size_t errlen)
{
	if (!s || !proto)
		return fail(err, errlen, "missing protocol");
	return parse_proto_n(s, strlen(s), NULL, proto, err, errlen);
}

/* No unicast flow is ever sent to these, so a VIP on one is a mistake. */
static const char *vip_addr_problem(const struct xlb_addr *a, __u8 family)
{
	static const __u8 zero[16];

	if (family == XLB_AF_INET) {
		if (!memcmp(a->bytes, zero, 4))
			return "the unspecified address";
		if ((a->bytes[0] & 0xf0) == 0xe0)
			return "a multicast address";
		if (a->v4 == 0xffffffff)
			return "the broadcast address";
		return NULL;
	}
	if (!memcmp(a->bytes, zero, 16))
		return "the unspecified address";
	if (a->bytes[0] == 0xff)
		return "a multicast address";
	return NULL;
}

const char *xlb_backend_addr_problem(const struct xlb_addr *a, __u8 family)
{
	static const __u8 loopback6[16] = {[15] = 1};
	const char *vip = vip_addr_problem(a, family);

	if (vip)
		return vip;
	if (family == XLB_AF_INET) {
		if (a->bytes[0] == 0)
			return "in 0.0.0.0/8 (\"this network\")";
		if (a->bytes[0] == 127)
			return "a loopback address";
		if ((a->bytes[0] & 0xf0) == 0xf0)
			return "a reserved address (240.0.0.0/4)";
		return NULL;
	}
	if (!memcmp(a->bytes, loopback6, 16))
		return "the loopback address";
	if (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80)
		return "a link-local address (no zone index: probes could not reach it)";
	return NULL;
}

int xlb_parse_vip(const char *s, struct xlb_vip_key *key, char *err, size_t errlen)
{
	const char *slash, *colon, *rbracket, *problem;
	size_t len, hp_len, addr_len, colons = 0, i;
	char e[ECHO_SIZE], e2[ECHO_SIZE];
	struct xlb_vip_key k;
	__u16 port;
	int ret;

	if (!s || !key)
		return fail(err, errlen, "missing VIP: " VIP_FORM);
	len = strlen(s);
	if (len == 0)
		return fail(err, errlen, "missing VIP: " VIP_FORM);
	if (len > INPUT_MAX)
		return fail(err, errlen, "bad VIP '%s': too long (at most %d characters)",
			    echo(e, s, len), INPUT_MAX);

	/* Addresses hold no '/', so the first one ends ADDR:PORT ("ADDR:PORT/tcp/x" is then a bad
	 * protocol, not a bad port). */
	slash = memchr(s, '/', len);
	if (!slash)
		return fail(err, errlen, "missing protocol in '%s': " VIP_FORM, echo(e, s, len));
	hp_len = slash - s;
	if (hp_len == 0)
		return fail(err, errlen, "missing address in '%s': " VIP_FORM, echo(e, s, len));

	if (s[0] == '[') {
		rbracket = memchr(s, ']', hp_len);
		if (!rbracket)
			return fail(err, errlen, "bad address '%s' in '%s': missing ']'",
				    echo(e, s, hp_len), echo(e2, s, len));
		colon = rbracket + 1;
		if (colon == slash)
			return fail(err, errlen, "missing port in '%s': " VIP_FORM,
				    echo(e, s, len));
		if (*colon != ':')
			return fail(err, errlen,
				    "bad text '%s' after the address in '%s': " VIP_FORM,
				    echo(e, colon, slash - colon), echo(e2, s, len));
	} else {
		/* Without brackets the port of "2001:db8::10:443" cannot be told from the
		 * address, so refuse rather than guess. */
		for (i = 0; i < hp_len; i++)
			colons += s[i] == ':';
		if (colons > 1)
			return fail(
				err, errlen,
				"bad address in '%s': an IPv6 address needs brackets before the "
				"port, e.g. [2001:db8::10]:443/tcp",
				echo(e, s, len));
		colon = memchr(s, ':', hp_len);
		if (!colon)
			return fail(err, errlen, "missing port in '%s': " VIP_FORM,
				    echo(e, s, len));
	}
	addr_len = colon - s;

	memset(&k, 0, sizeof(k));
	ret = parse_addr_n(s, addr_len, s, &k.addr, &k.family, err, errlen);
	if (ret)
		return ret;
	ret = parse_port_n(colon + 1, slash - (colon + 1), s, &port, err, errlen);
	if (ret)
		return ret;
	ret = parse_proto_n(slash + 1, len - (slash + 1 - s), s, &k.proto, err, errlen);
	if (ret)
		return ret;
	problem = vip_addr_problem(&k.addr, k.family);
	if (problem)
		return fail(err, errlen, "bad address '%s' in '%s': a VIP cannot be %s",
			    echo(e, s, addr_len), echo(e2, s, len), problem);
	k.port = htons(port);
	*key = k;
	return 0;
}

int xlb_format_addr(const struct xlb_addr *addr, __u8 family, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t n;

	if (buf && len)
		buf[0] = '\0';
	if (!addr || (family != XLB_AF_INET && family != XLB_AF_INET6))
		return -EINVAL;
	if (!inet_ntop(family == XLB_AF_INET ? AF_INET : AF_INET6, addr->bytes, tmp, sizeof(tmp)))
		return -EINVAL;
	n = strlen(tmp);
	if (!buf || n >= len)
		return -ENOSPC;
	memcpy(buf, tmp, n + 1);
	return n;
}

int xlb_format_vip(const struct xlb_vip_key *key, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const char *proto;
	int n;

	if (buf && len)
		buf[0] = '\0';
	if (!key)
		return -EINVAL;
	if (key->proto == IPPROTO_TCP)
		proto = "tcp";
	else if (key->proto == IPPROTO_UDP)
		proto = "udp";
	else
		return -EINVAL;
	n = xlb_format_addr(&key->addr, key->family, a, sizeof(a));
	if (n < 0)
		return n;
	if (!buf)
		return -ENOSPC;
	n = snprintf(buf, len, key->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", a,
		     ntohs(key->port), proto);
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

/* Big-endian load, so the key does not depend on the host's byte order. */
static __u64 load_be64(const __u8 *p, size_t len)
{
	__u64 v = 0;
	size_t i;

	for (i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

__u64 xlb_addr_key(const struct xlb_addr *addr, __u8 family)
{
	__u64 hi, lo = 0;

	/* IPv4 uses its 4 bytes only: stray bytes 4..15 do not change a backend's identity. The
	 * family goes into both rounds, so 10.0.0.1 and ::a00:1 differ. */
	if (family == XLB_AF_INET) {
		hi = load_be64(addr->bytes, 4);
	} else {
		hi = load_be64(addr->bytes, 8);
		lo = load_be64(addr->bytes + 8, 8);
	}
	hi = xlb_mix64_murmur(hi ^ (0x9e3779b97f4a7c15ULL * family));
	return xlb_mix64_murmur(hi ^ lo ^ (0xc2b2ae3d27d4eb4fULL * family));
}
