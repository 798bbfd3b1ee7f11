/* tunprobe.c - the tunnel part of a health check: an ICMP echo to the VIP through the backend's tunnel, and its reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tunprobe.h"

/* linux/icmp.h's, which clashes with netinet/ip_icmp.h: raw ICMP sockets' type filter. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
struct raw_icmp_filter {
	__u32 data; /* bit N set: type N is dropped */
};

/*
 * Two raw sockets per check, both closed when it ends: one of protocol 4 or 41 that sends the
 * inner packet (the kernel adds the outer header; it is closed once sent), and one raw ICMP or
 * ICMPv6 socket that waits for the reply. The receiving socket filters everything but echo
 * replies (ICMP_FILTER, ICMP6_FILTER); it is not connected to the VIP, which would take the
 * kernel's route to the VIP (an LB usually has none: ENETUNREACH). So every echo reply to the
 * LB reaches every check in flight, and the source, id, sequence and data tell them apart:
 * checks are spread over their interval (health.c), so few are in flight at once.
 */
struct xlbd_tunprobe {
	struct xlbd_tunprobe_echo echo;
	struct event *io; /* in ev[] */
	int fd;		  /* the receiving socket */
	xlbd_tunprobe_cb cb;
	void *arg;
	_Alignas(max_align_t) unsigned char ev[];
};

static const char magic[4] = {'x', 'l', 'b', 'd'};

/* The Internet checksum of buf, from a running sum. */
static __u32 csum_add(__u32 sum, const __u8 *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		sum += (__u32)buf[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

size_t xlbd_tunprobe_build(const struct xlbd_tunprobe_echo *e, __u8 *buf)
{
	bool v4 = e->family == XLB_AF_INET;
	size_t ip = v4 ? 20 : 40, icmp = 8 + XLBD_TUNPROBE_DATA, len = ip + icmp;
	__u8 *m = buf + ip;
	__u32 sum;

	memset(buf, 0, len);
	if (v4) {
		buf[0] = 0x45;
		put16(buf + 2, len);
		buf[6] = 0x40; /* DF: the outer header has it too (the data plane's rule) */
		buf[8] = 64;
		buf[9] = IPPROTO_ICMP;
		memcpy(buf + 12, &e->src.v4, 4);
		memcpy(buf + 16, &e->dst.v4, 4);
		put16(buf + 10, csum_fold(csum_add(0, buf, 20)));
		m[0] = ICMP_ECHO;
	} else {
		buf[0] = 0x60;
		put16(buf + 4, icmp);
		buf[6] = IPPROTO_ICMPV6;
		buf[7] = 64;
		memcpy(buf + 8, e->src.bytes, 16);
		memcpy(buf + 24, e->dst.bytes, 16);
		m[0] = ICMP6_ECHO_REQUEST;
	}
	put16(m + 4, e->id);
	put16(m + 6, e->seq);
	memcpy(m + 8, magic, sizeof(magic));
	memcpy(m + 12, e->cookie, XLBD_TUNPROBE_COOKIE);
	sum = 0;
	if (!v4) { /* RFC 8200 8.1: source, destination, upper-layer length, next header */
		sum = csum_add(sum, buf + 8, 32);
		sum += icmp + IPPROTO_ICMPV6;
	}
	put16(m + 2, csum_fold(csum_add(sum, m, icmp)));
	return len;
}

bool xlbd_tunprobe_match(const struct xlbd_tunprobe_echo *e, const struct xlb_addr *from,
			 const __u8 *buf, size_t len)
{
	size_t off = 0;

	if (e->family == XLB_AF_INET) {
		if (from->v4 != e->dst.v4)
			return false;
		if (len < 20 || (buf[0] >> 4) != 4 || (buf[0] & 0xf) < 5)
			return false;
		off = (buf[0] & 0xf) * 4;
		if (buf[9] != IPPROTO_ICMP || memcmp(buf + 12, &e->dst.v4, 4) ||
		    memcmp(buf + 16, &e->src.v4, 4))
			return false;
	} else if (memcmp(from->bytes, e->dst.bytes, 16)) {
		return false;
	}
	if (len < off + 8 + XLBD_TUNPROBE_DATA)
		return false;
	buf += off;
	if (buf[0] != (e->family == XLB_AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) || buf[1])
		return false;
	return get16(buf + 4) == e->id && get16(buf + 6) == e->seq &&
	       !memcmp(buf + 8, magic, sizeof(magic)) &&
	       !memcmp(buf + 12, e->cookie, XLBD_TUNPROBE_COOKIE);
}

bool xlbd_tunprobe_permitted(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (fd < 0)
		return errno != EPERM && errno != EACCES;
	close(fd);
	return true;
}

static void probe_free(struct xlbd_tunprobe *p)
{
	event_del(p->io);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

void xlbd_tunprobe_cancel(struct xlbd_tunprobe *p)
{
	if (p)
		probe_free(p);
}

static void finish(struct xlbd_tunprobe *p, bool ok, const char *err)
{
	xlbd_tunprobe_cb cb = p->cb;
	void *arg = p->arg;
	char why[96];

	snprintf(why, sizeof(why), "%s", err ? err : "");
	probe_free(p);
	cb(arg, ok, ok ? NULL : why, 0);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_tunprobe *p = arg;
	struct sockaddr_storage ss;
	struct xlb_addr from;
	__u8 buf[256];
	char err[96];

	(void)what;
	for (;;) {
		socklen_t sl = sizeof(ss);
		ssize_t n =
			recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			snprintf(err, sizeof(err), "tunnel: recv: %s", strerror(errno));
			return finish(p, false, err);
		}
		memset(&from, 0, sizeof(from));
		if (ss.ss_family == AF_INET)
			from.v4 = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
		else if (ss.ss_family == AF_INET6)
			memcpy(from.bytes, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		if (xlbd_tunprobe_match(&p->echo, &from, buf, n))
			return finish(p, true, NULL);
	}
}

static socklen_t to_sockaddr(__u8 family, const struct xlb_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == XLB_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = a->v4;
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, a->bytes, 16);
	return sizeof(*s6);
}

static bool is_zero(const struct xlb_addr *a)
{
	static const struct xlb_addr zero;

	return !memcmp(a, &zero, sizeof(zero));
}

/* The source the kernel's route to addr gives: a UDP socket connected there, which sends nothing. */
static int route_source(__u8 family, const struct xlb_addr *addr, struct xlb_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(family, addr, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	((struct sockaddr_in *)&ss)->sin_port = htons(9); /* any: nothing is sent */
	if (connect(fd, (struct sockaddr *)&ss, sl) || getsockname(fd, (struct sockaddr *)&ss, &sl))
		err = -errno;
	close(fd);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	if (family == XLB_AF_INET)
		out->v4 = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
	else
		memcpy(out->bytes, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	return 0;
}

/* IPv4 in IPv6 has no IPv4 route to the backend to take a source from: the first IPv4 address
 * of xlbd's interface, the one clients reach the LB on, to which backends route already. */
static int if_ipv4(int ifindex, struct xlb_addr *out)
{
	char name[IF_NAMESIZE];
	struct ifaddrs *ifa, *i;
	int err = -EADDRNOTAVAIL;

	if (!if_indextoname(ifindex, name))
		return -EADDRNOTAVAIL;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, name))
			continue;
		memset(out, 0, sizeof(*out));
		out->v4 = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		err = 0;
		break;
	}
	freeifaddrs(ifa);
	return err;
}

/* The inner packet's source: given, else the outer one (the route's when not given), else
 * (IPv4 in IPv6) an IPv4 address of xlbd's interface. */
static int inner_source(const struct xlbd_tunprobe_spec *s, struct xlb_addr *out)
{
	if (!is_zero(&s->vip_src)) {
		*out = s->vip_src;
		return 0;
	}
	if (s->vip_family != s->family)
		return if_ipv4(s->ifindex, out);
	if (!is_zero(&s->src)) {
		*out = s->src;
		return 0;
	}
	return route_source(s->family, &s->addr, out);
}

/* The receiving socket: echo replies only. */
static int open_receiver(const struct xlbd_tunprobe_spec *s)
{
	bool v4 = s->vip_family == XLB_AF_INET;
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	int err;

	if (fd < 0)
		return -errno;
	if (v4) {
		struct raw_icmp_filter f = {.data = ~(1U << ICMP_ECHOREPLY)};

		err = setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		err = setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Sends the inner packet to the backend in the tunnel of its family; 0 or -errno. */
static int send_tunnelled(const struct xlbd_tunprobe_spec *s, const __u8 *pkt, size_t len)
{
	int proto = s->vip_family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(s->family == XLB_AF_INET ? AF_INET : AF_INET6,
			SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto),
	    err = 0;

	if (fd < 0)
		return -errno;
	if (!is_zero(&s->src)) {
		sl = to_sockaddr(s->family, &s->src, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl))
			err = -errno;
	}
	sl = to_sockaddr(s->family, &s->addr, &ss);
	if (!err && sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl) < 0)
		err = -errno;
	close(fd);
	return err;
}

int xlbd_tunprobe_start(struct event_base *base, const struct xlbd_tunprobe_spec *spec,
			xlbd_tunprobe_cb cb, void *arg, struct xlbd_tunprobe **out)
{
	static __u32 counter;
	__u8 pkt[XLBD_TUNPROBE_PKTMAX];
	struct xlbd_tunprobe *p;
	size_t len;
	int err;

	p = calloc(1, sizeof(*p) + event_get_struct_event_size());
	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->arg = arg;
	p->fd = -1;
	p->io = (struct event *)p->ev;
	event_assign(p->io, base, -1, 0, on_read, p);
	p->echo.family = spec->vip_family;
	p->echo.dst = spec->vip;
	err = inner_source(spec, &p->echo.src);
	if (err)
		goto fail;
	/* id and sequence tell this process's checks apart; the random cookie tells them from
	 * anyone else's echo replies from the VIP. */
	counter++;
	p->echo.id = (__u16)(getpid() ^ (counter >> 16));
	p->echo.seq = (__u16)counter;
	if (getrandom(p->echo.cookie, sizeof(p->echo.cookie), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(p->echo.cookie))
		memcpy(p->echo.cookie, &counter, sizeof(counter));
	err = open_receiver(spec);
	if (err < 0)
		goto fail;
	p->fd = err;
	event_assign(p->io, base, p->fd, EV_READ | EV_PERSIST, on_read, p);
	if (event_add(p->io, NULL)) {
		err = -ENOMEM;
		goto fail;
	}
	len = xlbd_tunprobe_build(&p->echo, pkt);
	err = send_tunnelled(spec, pkt, len);
	if (err)
		goto fail;
	if (out)
		*out = p;
	return 0;
fail:
	probe_free(p);
	return err;
}
