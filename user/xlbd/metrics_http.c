/* metrics_http.c - the metrics HTTP server (evhttp on xlbd's event loop): /metrics, /healthz. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

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
				 "e.g. [::1]:9100",
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
		 "127.0.0.1:9100 or [::1]:9100",
		 given);
	return -EINVAL;
}

static void send_text(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		      struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, reason, body);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct xlbd *d = arg;
	struct evbuffer *out = evbuffer_new();
	struct xlbd_metrics_snap s;
	__u64 t0 = xlb_now_us();
	int err = -ENOMEM;

	if (out && !(err = xlbd_metrics_collect(d, &s))) {
		err = xlbd_metrics_format(&s, out);
		xlbd_metrics_snap_free(&s);
	}
	if (err) {
		pr_err("cannot build the metrics", "err=\"%s\"", strerror(-err));
		evhttp_send_error(req, HTTP_INTERNAL, "cannot build the metrics");
	} else {
		pr_debug("metrics scrape", "ms=%.2f bytes=%zu", (xlb_now_us() - t0) / 1e3,
			 evbuffer_get_length(out));
		send_text(req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", out);
	}
	if (out)
		evbuffer_free(out);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(out, "ok\n", 3);
	send_text(req, HTTP_OK, "OK", "text/plain; charset=utf-8", out);
	evbuffer_free(out);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (!out) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	evbuffer_add_printf(out, "not found: try /metrics or /healthz\n");
	send_text(req, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8", out);
	evbuffer_free(out);
}

int xlbd_metrics_open(struct xlbd *d, const char *addr)
{
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
	d->http.http = evhttp_new(d->base);
	if (!d->http.http) {
		errno = ENOMEM;
		goto fail;
	}
	/* Scrapes are small GETs; anything bigger or slower is not a scraper. */
	evhttp_set_allowed_methods(d->http.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(d->http.http, 16384);
	evhttp_set_max_body_size(d->http.http, 4096);
	evhttp_set_timeout(d->http.http, 10);
	evhttp_set_cb(d->http.http, "/metrics", on_metrics, d);
	evhttp_set_cb(d->http.http, "/healthz", on_healthz, d);
	evhttp_set_gencb(d->http.http, on_other, d);
	/* The listener owns the socket from here (closed by evhttp_free). */
	if (!evhttp_accept_socket_with_handle(d->http.http, fd)) {
		errno = ENOMEM;
		goto fail;
	}
	pr_info("metrics server listening", "addr=%s path=/metrics", addr);
	return 0;
fail:
	e = -errno;
	pr_err("cannot start the metrics server", "addr=%s err=\"%s\"", addr, strerror(-e));
	if (fd >= 0)
		close(fd);
	if (d->http.http)
		evhttp_free(d->http.http);
	d->http.http = NULL;
	return e;
}

void xlbd_metrics_close(struct xlbd *d)
{
	if (d->http.http)
		evhttp_free(d->http.http);
	d->http.http = NULL;
}
