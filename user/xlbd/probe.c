/* probe.c - one non-blocking health check on the event loop: connect, request, its tunnel part, verdict. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "probe.h"

/*
 * What one check costs is mostly the kernel's: socket, connect, close, and the epoll calls
 * around them. So:
 * - A connection is closed with a reset (SO_LINGER 0) once the check has what it needs: no
 *   FIN exchange and no TIME_WAIT socket per check (at 10,000 checks a second, 600,000 of
 *   them, which every connect's port search walks past). A tcp check resets as soon as the
 *   handshake is done (the backend's kernel has accepted the connection; its application
 *   still gets it from accept(), already reset); an http check only after the server has
 *   closed its side (it has said all it had to say), else it closes as before.
 * - connect() is asked once more before waiting: when the handshake (or the refusal) has
 *   completed inside the first call, as it does over loopback or a veth, the verdict needs no
 *   epoll registration at all; for a remote backend it is one more syscall (EALREADY).
 * - While connecting, writable alone means established: SO_ERROR is read only when the socket
 *   is also readable (an error or a hang-up: libevent reports EPOLLERR and EPOLLHUP as both).
 * - The two events live in the probe's own allocation (event_assign), not two event_new.
 *
 * A check with a tunnel part (spec.tunnel, tunprobe.c) runs both at once under the one timer:
 * the verdict comes when both have one (or at the timeout), and passes only if both passed.
 */

struct xlbd_probe {
	struct xlbd_probe_spec spec;
	struct event_base *base;
	struct event *io, *timer; /* in ev[] */
	int fd;
	enum { CONNECTING, SENDING, READING } phase;
	short io_what;	  /* what io waits for (EV_READ, EV_WRITE); 0: not added */
	int conn_err;	  /* connect's outcome when known without waiting (0 or an errno), or -1 */
	bool established; /* the handshake completed */
	bool peer_closed; /* the server closed its side (read returned 0) */
	bool extended;	  /* the timeout was given again after a loop stall (on_timeout) */
	char req[2 * XLB_CHECK_STR + 128];
	size_t req_len, sent;
	char resp[256];
	size_t resp_len;
	__u64 start_us;
	struct xlbd_tunprobe *tun; /* the tunnel part in flight */
	bool main_done;		   /* the connect/request part has its verdict: */
	bool main_ok;
	char main_err[96];
	bool tun_done; /* the tunnel part has its verdict: */
	bool tun_ok;
	char tun_err[96];
	xlbd_probe_cb cb;
	void *arg;
	_Alignas(max_align_t) unsigned char ev[]; /* two struct event */
};

const int xlbd_probe_local_errnos[XLBD_PROBE_LOCAL_ERRORS] = {
	EMFILE, ENFILE, ENOMEM, ENOBUFS, EADDRNOTAVAIL, EAGAIN,
};
const char *const xlbd_probe_local_names[XLBD_PROBE_LOCAL_ERRORS] = {
	"EMFILE", "ENFILE", "ENOMEM", "ENOBUFS", "EADDRNOTAVAIL", "EAGAIN",
};

int xlbd_probe_local_error(int err)
{
	for (int i = 0; i < XLBD_PROBE_LOCAL_ERRORS; i++)
		if (xlbd_probe_local_errnos[i] == err)
			return i;
	return -1;
}

static void probe_free(struct xlbd_probe *p)
{
	/* Both events are assigned before the socket exists (xlbd_probe_start). */
	event_del(p->io);
	event_del(p->timer);
	xlbd_tunprobe_cancel(p->tun);
	if (p->fd >= 0) {
		if (p->established && (p->spec.kind == XLB_CHECK_TCP || p->peer_closed)) {
			static const struct linger rst = {.l_onoff = 1, .l_linger = 0};

			setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		}
		close(p->fd);
	}
	free(p);
}

/* The verdict to the caller: the probe is freed first (the callback may start the next). */
static void deliver(struct xlbd_probe *p, bool ok, const char *err, int local, bool tun_failed)
{
	xlbd_probe_cb cb = p->cb;
	void *arg = p->arg;
	__u64 lat = xlb_now_us() - p->start_us;
	char why[96] = "";

	if (!ok)
		snprintf(why, sizeof(why), "%s", err ? err : "");
	probe_free(p);
	cb(arg, ok, ok ? NULL : why, lat, local, tun_failed);
}

/* Both parts have a verdict (or there is no tunnel part): the check passes if both passed. */
static void deliver_both(struct xlbd_probe *p)
{
	bool tun_failed = p->spec.tunnel && !p->tun_ok;
	char why[96 * 2 + 4];

	if (p->main_ok && !tun_failed)
		return deliver(p, true, NULL, 0, false);
	if (!p->main_ok && tun_failed)
		snprintf(why, sizeof(why), "%s; %s", p->main_err, p->tun_err);
	else
		snprintf(why, sizeof(why), "%s", p->main_ok ? p->tun_err : p->main_err);
	deliver(p, false, why, 0, tun_failed);
}

/* The connect/request part's verdict. An error of our own side ends the whole check at once:
 * it says nothing about the backend. */
static void finish_local(struct xlbd_probe *p, bool ok, const char *err, int local)
{
	if (local)
		return deliver(p, false, err, local, false);
	p->main_done = true;
	p->main_ok = ok;
	snprintf(p->main_err, sizeof(p->main_err), "%s", ok || !err ? "" : err);
	if (p->spec.tunnel && !p->tun_done) {
		event_del(p->io); /* the socket stays open until the end (probe_free's reset) */
		p->io_what = 0;
		return;
	}
	deliver_both(p);
}

/* The tunnel part's verdict (tunprobe.c, which has freed itself), or its start's error. */
static void on_tunnel(void *arg, bool ok, const char *err, int local)
{
	struct xlbd_probe *p = arg;

	p->tun = NULL;
	if (local)
		return deliver(p, false, err, local, false);
	p->tun_done = true;
	p->tun_ok = ok;
	snprintf(p->tun_err, sizeof(p->tun_err), "%s", ok || !err ? "" : err);
	if (p->main_done)
		deliver_both(p);
}

static void finish(struct xlbd_probe *p, bool ok, const char *err)
{
	finish_local(p, ok, err, 0);
}

/* A system call failed with errno e: ours (out of buffers...) or the backend's verdict. what:
 * the call, as the reason's prefix ("send: ..."), or NULL. */
static void finish_errno(struct xlbd_probe *p, const char *what, int e)
{
	char err[96];

	snprintf(err, sizeof(err), "%s%s%s", what ? what : "", what ? ": " : "", strerror(e));
	finish_local(p, false, err, xlbd_probe_local_error(e) >= 0 ? e : 0);
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

static void on_io(evutil_socket_t fd, short what, void *arg);

/* Waits for what on the socket; the event is changed (two epoll_ctl) only when what changes. */
static void io_wait(struct xlbd_probe *p, short what)
{
	if (p->io_what == what)
		return;
	event_del(p->io);
	event_assign(p->io, p->base, p->fd, what | EV_PERSIST, on_io, p);
	event_add(p->io, NULL);
	p->io_what = what;
}

/* connect's outcome: 0 or an errno. */
static int connect_error(struct xlbd_probe *p, short what)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (p->conn_err >= 0)
		return p->conn_err;
	/* Writable and not readable: established (an error or hang-up sets both). Readable may
	 * also be data or a FIN from the server: SO_ERROR tells. */
	if (!(what & EV_READ))
		return 0;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
		return errno;
	return soerr;
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_probe *p = arg;
	char err[96];
	ssize_t n;

	if (p->phase == CONNECTING) {
		int soerr = connect_error(p, what);

		if (soerr) {
			snprintf(err, sizeof(err), "connect: %s", strerror(soerr));
			return finish(p, false, err);
		}
		p->established = true;
		if (p->spec.kind == XLB_CHECK_TCP)
			return finish(p, true, NULL);
		p->phase = SENDING;
	}
	if (p->phase == SENDING) {
		n = send(fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return finish_errno(p, "send", errno);
		if (n > 0)
			p->sent += n;
		if (p->sent < p->req_len)
			return io_wait(p, EV_WRITE); /* wait for writable again */
		p->phase = READING;
		return io_wait(p, EV_READ);
	}
	n = recv(fd, p->resp + p->resp_len, sizeof(p->resp) - 1 - p->resp_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN)
			return;
		/* UDP: an ICMP port unreachable arrives here as ECONNREFUSED. */
		if (errno == ECONNREFUSED)
			return finish(p, false, "port unreachable");
		return finish_errno(p, NULL, errno);
	}
	if (p->spec.kind == XLB_CHECK_UDP)
		return finish(p, true, NULL);
	p->resp_len += n;
	p->peer_closed = n == 0;
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

/*
 * A timeout is the backend's only when the probe had its time. A timer that fires late (by a
 * quarter of the timeout, at least 20 ms) means the loop was blocked: a long apply, a burst of
 * work. Its answer may be waiting unread, or its request went out late, as on_io ran late too.
 * Such a probe gets one more full timeout, once: a loop stall is no backend failure.
 */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_probe *p = arg;
	__u64 timeout_us = (__u64)p->spec.timeout_ms * 1000, stall_us = timeout_us / 4;
	__u64 elapsed_us = xlb_now_us() - p->start_us;

	(void)fd, (void)what;
	if (stall_us < 20000)
		stall_us = 20000;
	if (!p->extended && elapsed_us > timeout_us + stall_us) {
		struct timeval tv = {p->spec.timeout_ms / 1000, (p->spec.timeout_ms % 1000) * 1000};

		p->extended = true;
		evtimer_add(p->timer, &tv);
		return;
	}
	if (p->spec.tunnel && !p->tun_done) {
		xlbd_tunprobe_cancel(p->tun);
		p->tun = NULL;
		p->tun_done = true;
		snprintf(p->tun_err, sizeof(p->tun_err), "tunnel: no echo reply from the vip");
		if (p->main_done)
			return deliver_both(p);
	}
	finish(p, false, "timeout");
}

/* The http request or the udp payload; a tcp check sends nothing. */
static void build_request(struct xlbd_probe *p)
{
	const struct xlbd_probe_spec *s = &p->spec;
	char host[INET6_ADDRSTRLEN + 2] = "";

	if (s->kind == XLB_CHECK_UDP) {
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
	int type = spec->kind == XLB_CHECK_UDP ? SOCK_DGRAM : SOCK_STREAM;
	size_t evsz = event_get_struct_event_size();
	struct sockaddr *sa;
	socklen_t salen;
	struct xlbd_probe *p;
	int err;

	if (spec->kind == XLB_CHECK_NONE)
		return -EINVAL;
	p = calloc(1, sizeof(*p) + 2 * evsz);
	if (!p)
		return -ENOMEM;
	p->spec = *spec;
	p->base = base;
	p->cb = cb;
	p->arg = arg;
	p->conn_err = -1;
	p->fd = -1;
	p->io = (struct event *)p->ev;
	p->timer = (struct event *)(p->ev + evsz);
	event_assign(p->io, base, -1, 0, on_io, p);
	evtimer_assign(p->timer, base, on_timeout, p);
	p->start_us = xlb_now_us();
	p->fd = socket(spec->family == XLB_AF_INET ? AF_INET : AF_INET6,
		       type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (spec->kind != XLB_CHECK_TCP)
		build_request(p);
	if (spec->family == XLB_AF_INET) {
		s4.sin_addr.s_addr = spec->addr.v4;
		sa = (struct sockaddr *)&s4;
		salen = sizeof(s4);
	} else {
		memcpy(&s6.sin6_addr, spec->addr.bytes, 16);
		sa = (struct sockaddr *)&s6;
		salen = sizeof(s6);
	}
	if (!connect(p->fd, sa, salen)) {
		p->conn_err = 0; /* UDP (TCP says EINPROGRESS) */
	} else if (errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	} else if (!connect(p->fd, sa, salen) || errno == EISCONN) {
		p->conn_err = 0; /* established within the first call (see the top) */
	} else if (errno != EALREADY) {
		p->conn_err = errno; /* refused, unreachable: the verdict, given by on_io */
	}
	if (spec->tunnel) {
		err = xlbd_tunprobe_start(base, &spec->tun, on_tunnel, p, &p->tun);
		if (err && xlbd_probe_local_error(-err) >= 0)
			goto fail;
		if (err) { /* no route to the backend...: the tunnel part's failure */
			char why[96];

			snprintf(why, sizeof(why), "tunnel: %s", strerror(-err));
			on_tunnel(p, false, why, 0);
		}
	}
	/* UDP connects at once: send the request now and wait for the answer. */
	p->phase = type == SOCK_DGRAM ? SENDING : CONNECTING;
	evtimer_add(p->timer, &tv);
	if (p->conn_err >= 0) {
		/* Nothing to wait for: on_io runs from the loop (never from here: the caller
		 * has no handle yet), without the socket ever entering epoll. */
		event_assign(p->io, base, p->fd, EV_WRITE | EV_PERSIST, on_io, p);
		event_active(p->io, EV_WRITE, 1);
	} else {
		io_wait(p, EV_READ | EV_WRITE);
	}
	if (out)
		*out = p;
	return 0;
fail:
	probe_free(p);
	return err;
}
