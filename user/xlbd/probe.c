/* probe.c - one non-blocking health check on the event loop: connect, request, verdict. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

struct xlbd_probe {
	struct xlbd_probe_spec spec;
	struct event *io, *timer;
	int fd;
	enum { CONNECTING, SENDING, READING } phase;
	char req[2 * XLBD_CHECK_STR + 128];
	size_t req_len, sent;
	char resp[256];
	size_t resp_len;
	__u64 start_us;
	xlbd_probe_cb cb;
	void *arg;
};

static const char *const kind_names[] = {"none", "tcp", "http", "udp"};

const char *xlbd_check_kind_name(enum xlbd_check_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "unknown";
}

int xlbd_parse_check_kind(const char *s, enum xlbd_check_kind *k)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, kind_names[i])) {
			*k = i;
			return 0;
		}
	}
	return -EINVAL;
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static void probe_free(struct xlbd_probe *p)
{
	if (p->io)
		event_free(p->io);
	if (p->timer)
		event_free(p->timer);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

static void finish(struct xlbd_probe *p, bool ok, const char *err)
{
	xlbd_probe_cb cb = p->cb;
	void *arg = p->arg;
	__u64 lat = now_us() - p->start_us;
	char why[96];

	snprintf(why, sizeof(why), "%s", err ? err : "");
	probe_free(p);
	cb(arg, ok, ok ? NULL : why, lat);
}

void xlbd_probe_cancel(struct xlbd_probe *p)
{
	if (p)
		probe_free(p);
}

/* "HTTP/1.x NNN ..." -> NNN, or -1. */
static int http_status(const char *resp, size_t len)
{
	int major, minor, status;
	char line[64];

	snprintf(line, sizeof(line), "%.*s", (int)(len < 63 ? len : 63), resp);
	if (sscanf(line, "HTTP/%d.%d %3d", &major, &minor, &status) != 3)
		return -1;
	return status;
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_probe *p = arg;
	char err[96];
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	ssize_t n;

	(void)what;
	if (p->phase == CONNECTING) {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			snprintf(err, sizeof(err), "connect: %s", strerror(soerr));
			return finish(p, false, err);
		}
		if (p->spec.kind == XLBD_CHECK_TCP)
			return finish(p, true, NULL);
		p->phase = SENDING;
	}
	if (p->phase == SENDING) {
		n = send(fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			snprintf(err, sizeof(err), "send: %s", strerror(errno));
			return finish(p, false, err);
		}
		if (n > 0)
			p->sent += n;
		if (p->sent < p->req_len)
			return; /* wait for writable again */
		p->phase = READING;
		event_del(p->io);
		event_assign(p->io, event_get_base(p->io), fd, EV_READ | EV_PERSIST, on_io, p);
		event_add(p->io, NULL);
		return;
	}
	n = recv(fd, p->resp + p->resp_len, sizeof(p->resp) - 1 - p->resp_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN)
			return;
		/* UDP: an ICMP port unreachable arrives here as ECONNREFUSED. */
		snprintf(err, sizeof(err), "%s",
			 errno == ECONNREFUSED ? "port unreachable" : strerror(errno));
		return finish(p, false, err);
	}
	if (p->spec.kind == XLBD_CHECK_UDP)
		return finish(p, true, NULL);
	p->resp_len += n;
	if (n > 0 && !memchr(p->resp, '\n', p->resp_len) && p->resp_len < sizeof(p->resp) - 1)
		return; /* status line not complete yet */
	int status = http_status(p->resp, p->resp_len);
	if (status < 0)
		return finish(p, false,
			      n == 0 ? "connection closed before a status line"
				     : "not an HTTP response");
	if (status < p->spec.status_lo || status > p->spec.status_hi) {
		snprintf(err, sizeof(err), "http status %d", status);
		return finish(p, false, err);
	}
	finish(p, true, NULL);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	finish(arg, false, "timeout");
}

static void build_request(struct xlbd_probe *p)
{
	const struct xlbd_probe_spec *s = &p->spec;
	char host[INET6_ADDRSTRLEN + 2] = "";

	if (s->kind == XLBD_CHECK_UDP) {
		p->req_len = snprintf(p->req, sizeof(p->req), "%s", s->payload);
		return;
	}
	if (!s->host[0]) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(s->family == XLB_AF_INET ? AF_INET : AF_INET6, s->addr.bytes, a,
			  sizeof(a));
		snprintf(host, sizeof(host), s->family == XLB_AF_INET ? "%s" : "[%s]", a);
	}
	p->req_len = snprintf(p->req, sizeof(p->req),
			      "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: xlbd-check\r\n"
			      "Connection: close\r\n\r\n",
			      s->path[0] ? s->path : "/", s->host[0] ? s->host : host);
}

int xlbd_probe_start(struct event_base *base, const struct xlbd_probe_spec *spec, xlbd_probe_cb cb,
		     void *arg, struct xlbd_probe **out)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(spec->port)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(spec->port)};
	struct timeval tv = {spec->timeout_ms / 1000, (spec->timeout_ms % 1000) * 1000};
	int type = spec->kind == XLBD_CHECK_UDP ? SOCK_DGRAM : SOCK_STREAM;
	struct xlbd_probe *p;
	int err;

	if (spec->kind == XLBD_CHECK_NONE)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->spec = *spec;
	p->cb = cb;
	p->arg = arg;
	p->start_us = now_us();
	p->fd = socket(spec->family == XLB_AF_INET ? AF_INET : AF_INET6,
		       type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		err = -errno;
		goto fail;
	}
	build_request(p);
	memcpy(&s6.sin6_addr, spec->addr.bytes, 16);
	s4.sin_addr.s_addr = spec->addr.v4;
	if (spec->family == XLB_AF_INET)
		err = connect(p->fd, (struct sockaddr *)&s4, sizeof(s4));
	else
		err = connect(p->fd, (struct sockaddr *)&s6, sizeof(s6));
	if (err && errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	/* UDP connects at once: send the request now and wait for the answer. */
	p->phase = spec->kind == XLBD_CHECK_UDP ? SENDING : CONNECTING;
	p->io = event_new(base, p->fd, EV_WRITE | EV_PERSIST, on_io, p);
	p->timer = evtimer_new(base, on_timeout, p);
	if (!p->io || !p->timer) {
		err = -ENOMEM;
		goto fail;
	}
	event_add(p->io, NULL);
	evtimer_add(p->timer, &tv);
	if (out)
		*out = p;
	return 0;
fail:
	probe_free(p);
	return err;
}
