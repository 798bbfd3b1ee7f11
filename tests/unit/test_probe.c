/* test_probe.c - health-check probes against loopback servers on the test's own event loop. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "probe.h"

/*
 * Every test builds its own event_base; the servers are non-blocking sockets on that same base,
 * bound to 127.0.0.1 or ::1 on an ephemeral port. The probe's callback records what it got and
 * leaves the loop SETTLE_MS later, so a second call would still be counted. SAFETY_MS bounds a
 * loop whose callback never comes.
 */
#define SETTLE_MS  50
#define SAFETY_MS  2000
#define TIMEOUT_MS 150 /* probe timeout where a timeout is the expected verdict */
#define SLACK_MS   250 /* how late that verdict may come */
#define EARLY_MS   10  /* how early: libevent times with CLOCK_MONOTONIC_COARSE (a jiffy) */

static __u64 mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* CPU time this process has used, user and system. */
static __u64 cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static struct timeval ms_tv(unsigned ms)
{
	return (struct timeval){ms / 1000, (ms % 1000) * 1000};
}

/* What the callback reported. */
struct outcome {
	struct event_base *base;
	int calls;
	bool ok;
	bool err_null;
	char err[96];
	__u64 latency_us;
	int local; /* the probe's local errno: not the backend's fault */
	bool tunnel_failed;
	__u64 started_us, called_us;
	__u64 cpu_us; /* CPU used by the whole run: a probe spinning on a ready socket shows here */
};

static void on_result(void *arg, bool ok, const char *err, __u64 latency_us, int local,
		      bool tunnel_failed)
{
	struct outcome *o = arg;
	struct timeval settle = ms_tv(SETTLE_MS);

	o->calls++;
	o->ok = ok;
	o->err_null = !err;
	snprintf(o->err, sizeof(o->err), "%s", err ? err : "");
	o->latency_us = latency_us;
	o->local = local;
	o->tunnel_failed = tunnel_failed;
	o->called_us = mono_us();
	event_base_loopexit(o->base, &settle);
}

static void on_safety(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	event_base_loopbreak(arg);
}

/* Runs base until something leaves the loop, or for at most ms. */
static void run_for(struct event_base *base, unsigned ms)
{
	struct event *safety = evtimer_new(base, on_safety, base);
	struct timeval tv = ms_tv(ms);

	evtimer_add(safety, &tv);
	event_base_dispatch(base);
	event_free(safety);
}

static bool err_has(const struct outcome *o, const char *want)
{
	if (!want || strstr(o->err, want))
		return true;
	return xt_fail(__FILE__, __LINE__, "error '%s' lacks '%s'", o->err, want);
}

/* The verdict every case checks: called exactly once, ok or not, and why. */
static void check_verdict(const struct outcome *o, bool ok, const char *why)
{
	ASSERT_EQ(o->calls, 1, "callback fires exactly once");
	ASSERT_EQ(o->ok, ok, "verdict");
	if (ok)
		ASSERT_TRUE(o->err_null, "no reason when ok");
	else if (ASSERT_TRUE(!o->err_null, "a reason when not ok"))
		err_has(o, why);
}

/* A timeout verdict, given at timeout_ms: not (much) before, not long after. */
static void check_timed_out(const struct outcome *o)
{
	check_verdict(o, false, "timeout");
	ASSERT_TRUE(o->latency_us >= (TIMEOUT_MS - EARLY_MS) * 1000, "not before timeout_ms");
	ASSERT_LE(o->called_us - o->started_us, (TIMEOUT_MS + SLACK_MS) * 1000,
		  "soon after timeout_ms");
	ASSERT_LE(o->cpu_us, TIMEOUT_MS * 1000 / 2, "waited idle, not spinning");
}

static struct xlbd_probe_spec spec_for(enum xlb_check_kind kind, __u8 family, __u16 port)
{
	struct xlbd_probe_spec s = {.kind = kind,
				    .family = family,
				    .port = port,
				    .timeout_ms = 1000,
				    .status_lo = 200,
				    .status_hi = 399};

	if (family == XLB_AF_INET)
		s.addr.v4 = htonl(INADDR_LOOPBACK);
	else
		s.addr.bytes[15] = 1; /* ::1 */
	return s;
}

/* Starts a probe and runs the loop until its verdict settles; cancels it if none came. */
static int run_probe(struct event_base *base, const struct xlbd_probe_spec *spec, struct outcome *o)
{
	struct xlbd_probe *p = NULL;
	int err;

	memset(o, 0, sizeof(*o));
	o->base = base;
	o->started_us = mono_us();
	o->cpu_us = cpu_us();
	err = xlbd_probe_start(base, spec, on_result, o, &p);
	if (err)
		return err;
	run_for(base, SAFETY_MS);
	o->cpu_us = cpu_us() - o->cpu_us;
	if (!o->calls)
		xlbd_probe_cancel(p);
	return 0;
}

/* A socket bound to the loopback address of family on an ephemeral port; returns the fd. */
static int bind_loopback(__u8 family, int type, __u16 *port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = family == XLB_AF_INET ? sizeof(*s4) : sizeof(*s6);
	int fd, one = 1;

	fd = socket(family == XLB_AF_INET ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (family == XLB_AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*port = ntohs(family == XLB_AF_INET ? s4->sin_port : s6->sin6_port);
	return fd;
}

/* A port of family and type that nobody listens on: bound, noted, closed again. */
static __u16 closed_port(__u8 family, int type)
{
	__u16 port = 0;
	int fd = bind_loopback(family, type, &port);

	if (fd < 0)
		return 0;
	close(fd);
	return port;
}

/* ---- a TCP server on the loop: one connection at a time ---- */

enum srv_mode {
	SRV_NO_ACCEPT, /* listen only: the kernel completes the handshake */
	SRV_REPLY,     /* read the request, send reply (then reply2 a moment later), close */
	SRV_CLOSE,     /* accept and close at once, sending nothing */
	SRV_SILENT,    /* accept, read, never answer */
	SRV_BANNER,    /* send reply on accept, before any request, then read and wait */
};

struct srv {
	enum srv_mode mode;
	const char *reply, *reply2;
	char got[1024]; /* the request as received */
	size_t got_len;
	int accepted;
	bool eof, reset; /* a read saw the end of the stream, or failed with ECONNRESET */
	__u64 reply2_us; /* when reply2 went out */
	/* another socket on the same loop, read by extra_cb (the tunnel tests' fake backend) */
	int extra_fd;
	event_callback_fn extra_cb;
	/* private */
	struct event_base *base;
	int lfd, cfd;
	struct event *lev, *cev, *later;
	__u16 port;
};

static void srv_drop_client(struct srv *s)
{
	if (s->cev)
		event_free(s->cev);
	if (s->later)
		event_free(s->later);
	if (s->cfd >= 0)
		close(s->cfd);
	s->cev = s->later = NULL;
	s->cfd = -1;
}

static void srv_send(struct srv *s, const char *what)
{
	size_t len = strlen(what);

	if (send(s->cfd, what, len, MSG_NOSIGNAL) != (ssize_t)len)
		xt_fail(__FILE__, __LINE__, "server send: %s", strerror(errno));
}

static void srv_on_later(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;

	(void)fd, (void)what;
	s->reply2_us = mono_us();
	srv_send(s, s->reply2);
	srv_drop_client(s);
}

static void srv_on_client(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	ssize_t n;

	(void)what;
	n = recv(fd, s->got + s->got_len, sizeof(s->got) - 1 - s->got_len, 0);
	if (n <= 0) {
		s->eof |= n == 0;
		s->reset |= n < 0 && errno == ECONNRESET;
		if (n == 0 || errno != EAGAIN)
			srv_drop_client(s);
		return;
	}
	s->got_len += n;
	s->got[s->got_len] = '\0';
	if (s->mode != SRV_REPLY || !strstr(s->got, "\r\n\r\n"))
		return;
	/* The whole request is read, so closing sends a FIN, not a reset. */
	srv_send(s, s->reply);
	if (s->reply2) {
		struct timeval tv = ms_tv(20);

		event_del(s->cev);
		s->later = evtimer_new(s->base, srv_on_later, s);
		evtimer_add(s->later, &tv);
		return;
	}
	srv_drop_client(s);
}

static void srv_on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	int cfd;

	(void)what;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	s->accepted++;
	if (s->mode == SRV_CLOSE || s->cfd >= 0) {
		close(cfd);
		return;
	}
	s->cfd = cfd;
	s->cev = event_new(s->base, cfd, EV_READ | EV_PERSIST, srv_on_client, s);
	event_add(s->cev, NULL);
	if (s->mode == SRV_BANNER)
		srv_send(s, s->reply);
}

static bool srv_start(struct srv *s, struct event_base *base, __u8 family)
{
	s->base = base;
	s->cfd = -1;
	s->lfd = bind_loopback(family, SOCK_STREAM, &s->port);
	if (!ASSERT_TRUE(s->lfd >= 0, "server socket"))
		return false;
	if (!ASSERT_OK(listen(s->lfd, 8), "listen")) {
		close(s->lfd);
		return false;
	}
	if (s->mode != SRV_NO_ACCEPT) {
		s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, srv_on_accept, s);
		event_add(s->lev, NULL);
	}
	return true;
}

static void srv_stop(struct srv *s)
{
	srv_drop_client(s);
	if (s->lev)
		event_free(s->lev);
	close(s->lfd);
}

/* One probe of family against s: the spec tweak (its port set to s's), by default an HTTP check of
 * /healthz; what the server read lands in s->got. */
static void probe_run(struct srv *s, __u8 family, struct xlbd_probe_spec *tweak, struct outcome *o)
{
	struct event_base *base = event_base_new();
	struct xlbd_probe_spec spec;

	memset(o, 0, sizeof(*o));
	if (!srv_start(s, base, family))
		goto out_base;
	if (tweak) {
		spec = *tweak;
		spec.port = s->port;
	} else {
		spec = spec_for(XLB_CHECK_HTTP, family, s->port);
		snprintf(spec.path, sizeof(spec.path), "/healthz");
	}
	struct event *extra =
		s->extra_cb ? event_new(base, s->extra_fd, EV_READ | EV_PERSIST, s->extra_cb, NULL)
			    : NULL;

	if (extra)
		event_add(extra, NULL);
	ASSERT_OK(run_probe(base, &spec, o), "probe start");
	if (extra)
		event_free(extra);
	srv_stop(s);
out_base:
	event_base_free(base);
}

/* ---- tcp ---- */

static void tcp_listener_ok(__u8 family)
{
	struct srv s = {.mode = SRV_NO_ACCEPT};
	struct xlbd_probe_spec spec = spec_for(XLB_CHECK_TCP, family, 0);
	struct outcome o;

	probe_run(&s, family, &spec, &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(o.latency_us > 0, "latency measured");
	ASSERT_LE(o.latency_us, o.called_us - o.started_us, "latency within the wall time");
}

static void tcp_closed_refused(__u8 family)
{
	struct event_base *base = event_base_new();
	struct xlbd_probe_spec spec =
		spec_for(XLB_CHECK_TCP, family, closed_port(family, SOCK_STREAM));
	struct outcome o = {0};

	if (ASSERT_TRUE(spec.port, "a free port") &&
	    ASSERT_OK(run_probe(base, &spec, &o), "probe start"))
		check_verdict(&o, false, "refused");
	event_base_free(base);
}

/* TIME_WAIT sockets of family to or from port on the loopback address: this namespace's
 * /proc/net/tcp[6] (state 06; the port is the hex field after the address). */
static int time_wait_count(__u8 family, __u16 port)
{
	FILE *f = fopen(family == XLB_AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned lport, rport, st;

		if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x", &lport, &rport,
			   &st) == 3 &&
		    st == 6 && (lport == port || rport == port))
			n++;
	}
	fclose(f);
	return n;
}

/*
 * A tcp check against a server that accepts and closes at once (ctl-bench listen does this):
 * the server's application gets the connection, and the probe ends it with a reset, so neither
 * side keeps a TIME_WAIT socket (with FIN closes, one of them does, for 60 s).
 */
static void tcp_no_time_wait(__u8 family)
{
	struct srv s = {.mode = SRV_CLOSE};
	struct xlbd_probe_spec spec = spec_for(XLB_CHECK_TCP, family, 0);
	struct outcome o;

	probe_run(&s, family, &spec, &o);
	check_verdict(&o, true, NULL);
	/* The loop ran SETTLE_MS after the verdict: the server has accepted and closed. */
	ASSERT_EQ(s.accepted, 1, "the server accepted the check's connection");
	ASSERT_EQ(time_wait_count(family, s.port), 0, "no TIME_WAIT socket on either side");
}

static void test_tcp_closes_without_time_wait(void)
{
	tcp_no_time_wait(XLB_AF_INET);
	tcp_no_time_wait(XLB_AF_INET6);
}

/* A listener whose accept queue is full drops the SYN: no answer at all, so a timeout. */
static void test_tcp_timeout(void)
{
	struct event_base *base = event_base_new();
	struct srv s = {.mode = SRV_NO_ACCEPT};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct xlbd_probe_spec spec;
	struct outcome o = {0};
	int filler = -1;

	if (!srv_start(&s, base, XLB_AF_INET))
		goto out;
	/* listen(0) still queues one connection: take that place with a blocking connect. */
	listen(s.lfd, 0);
	sin.sin_port = htons(s.port);
	filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_OK(connect(filler, (struct sockaddr *)&sin, sizeof(sin)), "filler connect"))
		goto out_srv;
	spec = spec_for(XLB_CHECK_TCP, XLB_AF_INET, s.port);
	spec.timeout_ms = TIMEOUT_MS;
	if (ASSERT_OK(run_probe(base, &spec, &o), "probe start"))
		check_timed_out(&o);
out_srv:
	if (filler >= 0)
		close(filler);
	srv_stop(&s);
out:
	event_base_free(base);
}

/* The tunnel part (tunprobe.c) on loopback, as root (raw sockets): the echo goes to 127.0.0.3 in
 * IPv4 in IPv4, for the VIP 127.0.0.2, from 127.0.0.1. */
static struct xlbd_probe_spec tunnel_spec(void)
{
	struct xlbd_probe_spec spec = spec_for(XLB_CHECK_TCP, XLB_AF_INET, 0);

	spec.tunnel = true;
	spec.tun.family = XLB_AF_INET;
	spec.tun.vip_family = XLB_AF_INET;
	spec.tun.addr.v4 = htonl(0x7f000003);
	spec.tun.vip.v4 = htonl(0x7f000002);
	spec.tun.vip_src.v4 = htonl(INADDR_LOOPBACK);
	return spec;
}

/* Nobody decapsulates (the kernel has no ipip module): the service part passes, the tunnel part
 * gets no reply, and the check fails at the timeout, saying so. */
static void test_tunnel_part_unanswered(void)
{
	struct srv s = {.mode = SRV_NO_ACCEPT};
	struct xlbd_probe_spec spec = tunnel_spec();
	struct outcome o;

	if (geteuid())
		return xt_skip("raw sockets need root");
	spec.timeout_ms = TIMEOUT_MS;
	probe_run(&s, XLB_AF_INET, &spec, &o);
	check_verdict(&o, false, "tunnel: no echo reply from the vip");
	ASSERT_TRUE(o.tunnel_failed, "the tunnel part failed");
	ASSERT_TRUE(!strstr(o.err, "timeout;"), "the service part passed");
	ASSERT_TRUE(o.latency_us >= (TIMEOUT_MS - EARLY_MS) * 1000, "at the timeout");
}

/* A backend on loopback: a raw socket of protocol 4 takes the tunnelled echo (outer header and
 * all), and answers from the VIP as a decapsulating backend's stack would. */
static void on_fake_backend(evutil_socket_t fd, short what, void *arg)
{
	__u8 buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int out = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	__u8 *in = buf + 20, tmp[4];
	__u32 sum = 0;

	(void)what, (void)arg;
	if (n < 40 + 8 || out < 0 || buf[9] != IPPROTO_IPIP) {
		if (out >= 0)
			close(out);
		return;
	}
	memcpy(tmp, in + 12, 4); /* swap the inner addresses; echo reply; checksum again */
	memcpy(in + 12, in + 16, 4);
	memcpy(in + 16, tmp, 4);
	in[20] = 0;
	in[22] = in[23] = 0;
	for (ssize_t i = 20; i + 1 < n - 20; i += 2)
		sum += in[i] << 8 | in[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	in[22] = (__u8)(~sum >> 8);
	in[23] = (__u8)~sum;
	sendto(out, in, n - 20, 0, (struct sockaddr *)&to, sizeof(to));
	close(out);
}

static void test_tunnel_part_answered(void)
{
	struct srv s = {.mode = SRV_NO_ACCEPT};
	struct xlbd_probe_spec spec = tunnel_spec();
	struct outcome o;
	int fd;

	if (geteuid())
		return xt_skip("raw sockets need root");
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPIP);
	if (!ASSERT_TRUE(fd >= 0, "a raw socket of protocol 4"))
		return;
	s.extra_fd = fd;
	s.extra_cb = on_fake_backend;
	probe_run(&s, XLB_AF_INET, &spec, &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(!o.tunnel_failed, "the tunnel part passed");
	close(fd);
}

static void test_tcp_listener_ok(void)
{
	tcp_listener_ok(XLB_AF_INET);
}

static void test_tcp_closed_port_refused(void)
{
	tcp_closed_refused(XLB_AF_INET);
}

static void test_tcp_ipv6(void)
{
	tcp_listener_ok(XLB_AF_INET6);
	tcp_closed_refused(XLB_AF_INET6);
}

/* ---- http ---- */

/* A loop blocked past the timeout (start-up, a long apply) is no backend
 * failure. The probe starts, the loop is blocked for twice its timeout, then runs: the
 * connect has completed meanwhile but the request goes out only now, after the deadline. */
static void test_http_loop_stall_not_a_timeout(void)
{
	struct srv s = {.mode = SRV_REPLY, .reply = "HTTP/1.0 200 OK\r\n\r\n"};
	struct event_base *base = event_base_new();
	struct xlbd_probe_spec spec;
	struct xlbd_probe *p = NULL;
	struct outcome o = {.base = base};

	if (!srv_start(&s, base, XLB_AF_INET))
		goto out;
	spec = spec_for(XLB_CHECK_HTTP, XLB_AF_INET, s.port);
	spec.timeout_ms = TIMEOUT_MS;
	if (!ASSERT_OK(xlbd_probe_start(base, &spec, on_result, &o, &p), "probe start"))
		goto out_srv;
	usleep(2 * TIMEOUT_MS * 1000); /* the loop is blocked */
	run_for(base, SAFETY_MS);
	check_verdict(&o, true, NULL);
	if (!o.calls)
		xlbd_probe_cancel(p);
out_srv:
	srv_stop(&s);
out:
	event_base_free(base);
}

static void test_http_200_ok(void)
{
	struct srv s = {.mode = SRV_REPLY, .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
	struct outcome o = {0};

	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(o.latency_us > 0, "latency measured");
}

static void test_http_500_fails(void)
{
	struct srv s = {.mode = SRV_REPLY, .reply = "HTTP/1.0 500 Internal Server Error\r\n\r\n"};
	struct outcome o = {0};

	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "http status 500");
}

static void test_http_status_range(void)
{
	static const struct {
		const char *reply;
		bool ok;
		const char *why;
	} cases[] = {
		{"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", true, NULL},
		{"HTTP/1.1 399 Odd\r\n\r\n", true, NULL},
		{"HTTP/1.1 200 OK\r\n\r\n", true, NULL},
		{"HTTP/1.1 199 Early\r\n\r\n", false, "http status 199"},
		{"HTTP/1.1 400 Bad Request\r\n\r\n", false, "http status 400"},
		{"HTTP/1.1 404 Not Found\r\n\r\n", false, "http status 404"},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct srv s = {.mode = SRV_REPLY, .reply = cases[i].reply};
		struct outcome o = {0};

		if (!xt_row("%.*s", (int)strcspn(cases[i].reply, "\r"), cases[i].reply))
			continue;
		probe_run(&s, XLB_AF_INET, NULL, &o);
		check_verdict(&o, cases[i].ok, cases[i].why);
	}
}

static void test_http_garbage(void)
{
	struct srv s = {.mode = SRV_REPLY, .reply = "SSH-2.0-OpenSSH_9.2\r\n"};
	char big[600];
	struct outcome o = {0};

	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "not an HTTP response");

	/* More than the probe buffers, with no line end at all. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = (struct srv){.mode = SRV_REPLY, .reply = big};
	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "not an HTTP response");

	/* Another service on the port that speaks first and keeps the connection open. */
	s = (struct srv){.mode = SRV_BANNER, .reply = "220 mail.example ESMTP\r\n"};
	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "not an HTTP response");
}

static void test_http_split_status_line(void)
{
	/* The status line arrives in two pieces 20 ms apart. */
	struct srv s = {
		.mode = SRV_REPLY, .reply = "HTTP/1.1 2", .reply2 = "04 No Content\r\n\r\n"};
	struct outcome o = {0};

	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(s.reply2_us && o.called_us >= s.reply2_us, "waited for the rest of the line");

	s = (struct srv){.mode = SRV_REPLY, .reply = "HTTP/1.1 5", .reply2 = "03 Busy\r\n\r\n"};
	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "http status 503");

	/* A status line cut short by the end of the stream is still a status line. */
	s = (struct srv){.mode = SRV_REPLY, .reply = "HTTP/1.1 200 OK"};
	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, true, NULL);
}

/*
 * An http check resets the connection only once the server has closed its side (it has sent
 * all it meant to): then no TIME_WAIT is left on the server. A server that keeps the
 * connection open gets an ordinary FIN.
 */
static void test_http_reset_after_server_closed(void)
{
	struct srv s = {.mode = SRV_REPLY, .reply = "HTTP/1.1 200 OK"}; /* then it closes */
	struct outcome o = {0};

	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, true, NULL);
	ASSERT_EQ(time_wait_count(XLB_AF_INET, s.port), 0, "server closed first: no TIME_WAIT");

	s = (struct srv){.mode = SRV_BANNER, .reply = "HTTP/1.1 200 OK\r\n\r\n"}; /* stays open */
	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(strstr(s.got, "GET /healthz HTTP/1.0\r\n"), "request was read");
	ASSERT_TRUE(s.eof && !s.reset, "a server that has not closed gets a FIN, not a reset");
}

static void test_http_closed_without_reply(void)
{
	struct srv s = {.mode = SRV_CLOSE};
	struct outcome o = {0};

	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "");
	ASSERT_EQ(s.accepted, 1, "server accepted");
	ASSERT_TRUE(o.err[0], "a reason");

	/* Reads the request, then closes without a word. */
	s = (struct srv){.mode = SRV_REPLY, .reply = ""};
	probe_run(&s, XLB_AF_INET, NULL, &o);
	check_verdict(&o, false, "closed before a status line");
}

static void test_http_timeout(void)
{
	struct srv s = {.mode = SRV_SILENT};
	struct xlbd_probe_spec spec = spec_for(XLB_CHECK_HTTP, XLB_AF_INET, 0);
	struct outcome o = {0};

	spec.timeout_ms = TIMEOUT_MS;
	probe_run(&s, XLB_AF_INET, &spec, &o);
	check_timed_out(&o);
	ASSERT_TRUE(strstr(s.got, "GET / HTTP/1.0\r\n"), "request was sent");
}

static void test_http_request_line(void)
{
	struct srv s = {.mode = SRV_REPLY, .reply = "HTTP/1.1 200 OK\r\n\r\n"};
	struct xlbd_probe_spec spec = spec_for(XLB_CHECK_HTTP, XLB_AF_INET, 0);
	struct outcome o = {0};

	snprintf(spec.path, sizeof(spec.path), "/healthz");
	snprintf(spec.host, sizeof(spec.host), "example.test");
	probe_run(&s, XLB_AF_INET, &spec, &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(!strncmp(s.got, "GET /healthz HTTP/1.0\r\n", 23), "request line first");
	ASSERT_TRUE(strstr(s.got, "\r\nHost: example.test\r\n"), "Host header");
	if (xt_test_failures)
		fprintf(stderr, "    request: %s\n", s.got);

	/* No host configured: the address is the Host; no path: "/". */
	s = (struct srv){.mode = SRV_REPLY, .reply = "HTTP/1.1 200 OK\r\n\r\n"};
	probe_run(&s, XLB_AF_INET, (spec = spec_for(XLB_CHECK_HTTP, XLB_AF_INET, 0), &spec), &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(!strncmp(s.got, "GET / HTTP/1.0\r\n", 16), "default path");
	ASSERT_TRUE(strstr(s.got, "\r\nHost: 127.0.0.1\r\n"), "IPv4 address as Host");

	s = (struct srv){.mode = SRV_REPLY, .reply = "HTTP/1.1 200 OK\r\n\r\n"};
	probe_run(&s, XLB_AF_INET6, (spec = spec_for(XLB_CHECK_HTTP, XLB_AF_INET6, 0), &spec), &o);
	check_verdict(&o, true, NULL);
	ASSERT_TRUE(strstr(s.got, "\r\nHost: [::1]\r\n"), "IPv6 address in brackets as Host");
}

/* ---- udp ---- */

static void udp_on_echo(evutil_socket_t fd, short what, void *arg)
{
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	char buf[512];
	ssize_t n;

	(void)what, (void)arg;
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n >= 0)
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, fl);
}

/* A UDP probe of family against a server that echoes (echo) or stays silent. */
static void udp_run(__u8 family, bool echo, struct outcome *o)
{
	struct event_base *base = event_base_new();
	struct event *ev = NULL;
	struct xlbd_probe_spec spec;
	__u16 port = 0;
	int fd = bind_loopback(family, SOCK_DGRAM, &port);

	memset(o, 0, sizeof(*o));
	if (!ASSERT_TRUE(fd >= 0, "udp server socket"))
		goto out;
	if (echo) {
		ev = event_new(base, fd, EV_READ | EV_PERSIST, udp_on_echo, NULL);
		event_add(ev, NULL);
	}
	spec = spec_for(XLB_CHECK_UDP, family, port);
	spec.timeout_ms = TIMEOUT_MS;
	snprintf(spec.payload, sizeof(spec.payload), "ping");
	ASSERT_OK(run_probe(base, &spec, o), "probe start");
	if (ev)
		event_free(ev);
	close(fd);
out:
	event_base_free(base);
}

static void test_udp_echo_ok(void)
{
	struct outcome o = {0};

	udp_run(XLB_AF_INET, true, &o);
	check_verdict(&o, true, NULL);
	udp_run(XLB_AF_INET6, true, &o);
	check_verdict(&o, true, NULL);
}

static void test_udp_closed_port_unreachable(void)
{
	static const __u8 families[] = {XLB_AF_INET, XLB_AF_INET6};

	for (unsigned i = 0; i < 2; i++) {
		struct event_base *base = event_base_new();
		struct xlbd_probe_spec spec =
			spec_for(XLB_CHECK_UDP, families[i], closed_port(families[i], SOCK_DGRAM));
		struct outcome o = {0};

		snprintf(spec.payload, sizeof(spec.payload), "ping");
		if (ASSERT_TRUE(spec.port, "a free port") &&
		    ASSERT_OK(run_probe(base, &spec, &o), "probe start")) {
			check_verdict(&o, false, "port unreachable");
			ASSERT_LE(o.latency_us, TIMEOUT_MS * 1000, "before any timeout");
		}
		event_base_free(base);
	}
}

static void test_udp_timeout(void)
{
	struct outcome o = {0};

	udp_run(XLB_AF_INET, false, &o);
	check_timed_out(&o);
}

/* ---- cancel, kinds ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Starts a probe, runs the loop for after_ms, cancels it, then runs past its timeout. */
static void cancel_case(struct event_base *base, const struct xlbd_probe_spec *spec,
			unsigned after_ms, struct outcome *o)
{
	struct xlbd_probe *p = NULL;
	int fds;

	memset(o, 0, sizeof(*o));
	o->base = base;
	if (!ASSERT_OK(xlbd_probe_start(base, spec, on_result, o, &p), "probe start"))
		return;
	ASSERT_TRUE(p != NULL, "probe handle");
	if (after_ms)
		run_for(base, after_ms);
	ASSERT_EQ(o->calls, 0, "no verdict yet");
	fds = count_fds();
	xlbd_probe_cancel(p);
	ASSERT_EQ(count_fds(), fds - 1, "probe socket closed");
	run_for(base, spec->timeout_ms + 100);
	ASSERT_EQ(o->calls, 0, "callback never fires after cancel");
}

static void test_cancel_in_flight(void)
{
	struct event_base *base = event_base_new();
	struct srv s = {.mode = SRV_SILENT};
	struct xlbd_probe_spec spec;
	struct outcome o = {0};
	int udp;
	__u16 port;

	if (!srv_start(&s, base, XLB_AF_INET))
		goto out;
	spec = spec_for(XLB_CHECK_HTTP, XLB_AF_INET, s.port);
	spec.timeout_ms = TIMEOUT_MS;
	/* Cancelled while connecting (the loop has not run yet). */
	cancel_case(base, &spec, 0, &o);
	/* Cancelled while waiting for the response: the server holds the request. */
	s.got_len = 0;
	s.got[0] = '\0';
	cancel_case(base, &spec, 30, &o);
	ASSERT_TRUE(strstr(s.got, "GET / HTTP/1.0"), "request was in flight");
	srv_stop(&s);

	udp = bind_loopback(XLB_AF_INET, SOCK_DGRAM, &port);
	if (ASSERT_TRUE(udp >= 0, "udp server socket")) {
		spec = spec_for(XLB_CHECK_UDP, XLB_AF_INET, port);
		spec.timeout_ms = TIMEOUT_MS;
		cancel_case(base, &spec, 30, &o);
		close(udp);
	}
	xlbd_probe_cancel(NULL);
out:
	event_base_free(base);
}

static void test_kind_none_rejected(void)
{
	struct event_base *base = event_base_new();
	struct xlbd_probe_spec spec = spec_for(XLB_CHECK_NONE, XLB_AF_INET, 80);
	struct xlbd_probe *p = NULL;
	struct outcome o = {.base = base};
	int fds = count_fds();

	ASSERT_EQ(xlbd_probe_start(base, &spec, on_result, &o, &p), -EINVAL, "kind none");
	ASSERT_TRUE(p == NULL, "no probe handed out");
	ASSERT_EQ(count_fds(), fds, "no socket left open");
	run_for(base, 10);
	ASSERT_EQ(o.calls, 0, "no callback");
	event_base_free(base);
}

int main(void)
{
	RUN_TEST(test_tcp_listener_ok);
	RUN_TEST(test_tcp_closed_port_refused);
	RUN_TEST(test_tcp_ipv6);
	RUN_TEST(test_tcp_timeout);
	RUN_TEST(test_tcp_closes_without_time_wait);
	RUN_TEST(test_http_200_ok);
	RUN_TEST(test_http_loop_stall_not_a_timeout);
	RUN_TEST(test_http_500_fails);
	RUN_TEST(test_http_status_range);
	RUN_TEST(test_http_garbage);
	RUN_TEST(test_http_split_status_line);
	RUN_TEST(test_http_closed_without_reply);
	RUN_TEST(test_http_reset_after_server_closed);
	RUN_TEST(test_http_timeout);
	RUN_TEST(test_http_request_line);
	RUN_TEST(test_udp_echo_ok);
	RUN_TEST(test_udp_closed_port_unreachable);
	RUN_TEST(test_udp_timeout);
	RUN_TEST(test_cancel_in_flight);
	RUN_TEST(test_kind_none_rejected);
	RUN_TEST(test_tunnel_part_unanswered);
	RUN_TEST(test_tunnel_part_answered);
	return xt_finish();
}
