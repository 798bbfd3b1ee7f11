/* metrics_http.c - the metrics HTTP server on xlbd's event loop: GET /metrics and /healthz. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "xlbd.h"

int xlbd_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
			    size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1], perr[128];
	const char *given = s, *port, *end;
	size_t hlen;
	__u16 p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			goto bad;
		hlen = end - (s + 1);
		port = end + 2;
		s++;
	} else {
		end = strrchr(s, ':');
		if (!end)
			goto bad;
		hlen = end - s;
		port = end + 1;
		if (memchr(s, ':', hlen)) {
			snprintf(err, errlen,
				 "bad metrics address '%s': an IPv6 address goes in brackets, "
				 "e.g. [::1]:9089",
				 s);
			return -EINVAL;
		}
	}
	if (!hlen || hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (xlb_parse_port(port, &p, perr, sizeof(perr))) {
		snprintf(err, errlen, "bad metrics address: %s", perr);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		*sslen = sizeof(*sin6);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "bad metrics address '%s': want ADDR:PORT with a literal address, e.g. "
		 "127.0.0.1:9089 or [::1]:9089",
		 given);
	return -EINVAL;
}

/*
 * One request per connection, answered with "Connection: close": a scraper reconnects for its
 * next scrape, and xlbd counts, caps and times connections, not requests. What a connection
 * may hold is bounded: the request head (XLBD_HTTP_HEAD_MAX, a body is read and dropped), and
 * its time: XLBD_HTTP_DEADLINE_MS from accept to the end of the head, whatever trickles in.
 */
struct http_conn {
	struct xlbd *d;
	struct bufferevent *bev;
	struct event *deadline;
	struct http_conn *prev, *next;
	bool answered; /* the answer is queued: what comes now is dropped */
	bool wr_shut;
	bool peer_eof;
};

static void conn_free(struct http_conn *c)
{
	struct xlbd_metrics_http *h = &c->d->http;

	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

static void arm(struct http_conn *c, unsigned int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(c->deadline, &tv);
}

/* The answer; body may be NULL (HEAD: only its length is sent). Closes once it is out. */
static void reply(struct http_conn *c, int code, const char *reason, const char *ctype,
		  struct evbuffer *body, bool head_only)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = body ? evbuffer_get_length(body) : 0;

	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n",
			    code, reason, ctype, len);
	if (body && !head_only)
		evbuffer_add_buffer(out, body);
	c->answered = true;
	evbuffer_drain(bufferevent_get_input(c->bev),
		       evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	arm(c, XLBD_HTTP_SEND_MS);
}

static void reply_text(struct http_conn *c, int code, const char *reason, const char *text,
		       bool head_only)
{
	struct evbuffer *b = evbuffer_new();

	if (b)
		evbuffer_add(b, text, strlen(text));
	reply(c, code, reason, "text/plain; charset=utf-8", b, head_only);
	if (b)
		evbuffer_free(b);
}

static void on_metrics(struct http_conn *c, bool head_only)
{
	struct evbuffer *out = evbuffer_new();
	struct xlbd_metrics_snap s;
	__u64 t0 = xlb_now_us();
	int err = -ENOMEM;

	if (out && !(err = xlbd_metrics_collect(c->d, &s))) {
		err = xlbd_metrics_format(&s, out);
		xlbd_metrics_snap_free(&s);
	}
	if (err) {
		pr_err("cannot build the metrics", "err=\"%s\"", strerror(-err));
		reply_text(c, 500, "Internal Server Error", "cannot build the metrics\n",
			   head_only);
	} else {
		pr_debug("metrics scrape", "ms=%.2f bytes=%zu", (xlb_now_us() - t0) / 1e3,
			 evbuffer_get_length(out));
		reply(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", out, head_only);
	}
	if (out)
		evbuffer_free(out);
}

/* The request line of a complete head: METHOD SP TARGET SP HTTP/1.x. */
static void serve(struct http_conn *c, char *head)
{
	char *method = head, *target, *version, *end = strpbrk(head, "\r\n");
	bool head_only;
	size_t plen;

	if (end)
		*end = '\0';
	target = strchr(method, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!version || strncmp(version + 1, "HTTP/1.", 7) || target[1] != '/') {
		reply_text(c, 400, "Bad Request", "bad request\n", false);
		return;
	}
	*target++ = '\0';
	plen = strcspn(target, "? ");
	head_only = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head_only)
		reply_text(c, 501, "Not Implemented", "only GET and HEAD\n", false);
	else if (plen == 8 && !strncmp(target, "/metrics", 8))
		on_metrics(c, head_only);
	else if (plen == 8 && !strncmp(target, "/healthz", 8))
		reply_text(c, 200, "OK", "ok\n", head_only);
	else
		reply_text(c, 404, "Not Found", "not found: try /metrics or /healthz\n", head_only);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct http_conn *c = arg;
	char head[XLBD_HTTP_HEAD_MAX + 1];
	struct evbuffer_ptr p;
	size_t len;

	if (c->answered) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos < 0)
		p = evbuffer_search(in, "\n\n", 2, NULL);
	if (p.pos < 0) {
		if (evbuffer_get_length(in) >= XLBD_HTTP_HEAD_MAX)
			reply_text(c, 431, "Request Header Fields Too Large",
				   "request head too large\n", false);
		return;
	}
	len = p.pos;
	if (len >= sizeof(head)) {
		reply_text(c, 431, "Request Header Fields Too Large", "request head too large\n",
			   false);
		return;
	}
	evbuffer_remove(in, head, len);
	head[len] = '\0';
	serve(c, head);
}

/* The answer is out: shut our side, close when the peer does (or at the deadline). */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	if (!c->answered || evbuffer_get_length(bufferevent_get_output(bev)) || c->wr_shut)
		return;
	if (c->peer_eof) {
		conn_free(c);
		return;
	}
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	c->wr_shut = true;
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;

	if (what & BEV_EVENT_ERROR) {
		conn_free(c);
	} else if (what & BEV_EVENT_EOF) {
		/* A client may shut its side once its request is sent: answer it all the same. */
		c->peer_eof = true;
		if (!c->answered)
			on_read(bev, c);
		if (!c->answered || !evbuffer_get_length(bufferevent_get_output(bev)))
			conn_free(c);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd, (void)what;
	if (!c->answered)
		pr_debug("metrics connection closed: no whole request within the deadline",
			 "deadline_ms=%d", XLBD_HTTP_DEADLINE_MS);
	conn_free(c);
}

static void count_refused(struct xlbd_metrics_http *h)
{
	__u64 now = xlb_now_us();

	h->refused++;
	if (!h->refused_logged_us || now - h->refused_logged_us >= 1000000) {
		pr_warn("metrics connections refused: too many open", "max=%d refused_total=%llu",
			XLBD_HTTP_MAX_CONNS, (unsigned long long)h->refused);
		h->refused_logged_us = now;
	}
}

#define BUSY                                                                              \
	"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" \
	"Content-Length: 18\r\nConnection: close\r\n\r\ntoo many clients\r\n"

static void on_accept(evutil_socket_t fd, void *arg)
{
	struct xlbd *d = arg;
	struct xlbd_metrics_http *h = &d->http;
	struct http_conn *c;

	if (h->nconns >= XLBD_HTTP_MAX_CONNS) {
		/* Best effort, without a connection object: the client may hear only the close. */
		if (send(fd, BUSY, strlen(BUSY), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			pr_debug("cannot tell a refused metrics client why", "err=\"%s\"",
				 strerror(errno));
		close(fd);
		count_refused(h);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->d = d;
	c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(d->base, on_deadline, c);
	c->next = h->conns;
	if (c->next)
		c->next->prev = c;
	h->conns = c;
	h->nconns++;
	if (!c->bev || !c->deadline) {
		if (!c->bev)
			close(fd);
		conn_free(c);
		return;
	}
	bufferevent_setwatermark(c->bev, EV_READ, 0, XLBD_HTTP_HEAD_MAX);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm(c, XLBD_HTTP_DEADLINE_MS);
}

/* 0.0.0.0 or ::: every address of the host. */
static bool unspecified(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int xlbd_metrics_open(struct xlbd *d, const char *addr)
{
	struct xlbd_metrics_http *h = &d->http;
	struct sockaddr_storage ss;
	char err[256];
	socklen_t len;
	int fd, one = 1, e;

	if (xlbd_metrics_parse_addr(addr, &ss, &len, err, sizeof(err))) {
		pr_err("cannot start the metrics server", "err=\"%s\"", err);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64))
		goto fail;
	/* The listener owns the socket from here, also when it fails. */
	e = xlbd_listener_open(&h->listener, d->base, fd, -1, "metrics server", &h->nconns,
			       on_accept, d);
	if (e) {
		pr_err("cannot start the metrics server", "addr=%s err=\"%s\"", addr, strerror(-e));
		xlbd_metrics_close(d);
		return e;
	}
	pr_info("metrics server listening", "addr=%s path=/metrics max_conns=%d", addr,
		XLBD_HTTP_MAX_CONNS);
	if (unspecified(&ss))
		pr_warn("the metrics are open to every network this host is on, without "
			"authentication: bind a specific address, or filter the port",
			"addr=%s", addr);
	return 0;
fail:
	e = -errno;
	pr_err("cannot start the metrics server", "addr=%s err=\"%s\"", addr, strerror(-e));
	if (fd >= 0)
		close(fd);
	xlbd_metrics_close(d);
	return e;
}

void xlbd_metrics_close(struct xlbd *d)
{
	struct xlbd_metrics_http *h = &d->http;

	while (h->conns)
		conn_free(h->conns);
	xlbd_listener_close(&h->listener);
}
