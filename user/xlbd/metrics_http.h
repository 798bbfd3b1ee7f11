/* metrics_http.h - the metrics HTTP server on xlbd's event loop: GET /metrics and /healthz. */
#ifndef XLBD_METRICS_HTTP_H
#define XLBD_METRICS_HTTP_H

#include <linux/types.h>
#include <stddef.h>
#include <sys/socket.h>

#include "listener.h"

struct xlbd;
struct event;
struct http_conn;

/*
 * Limits of the metrics server (docs/metrics.md, "Connections"): one request per connection;
 * its head must be complete XLBD_HTTP_DEADLINE_MS after the accept (a byte does not extend it),
 * its answer sent within XLBD_HTTP_SEND_MS. Beyond XLBD_HTTP_MAX_CONNS a client gets a 503.
 */
#define XLBD_HTTP_MAX_CONNS   64
#define XLBD_HTTP_DEADLINE_MS 10000
#define XLBD_HTTP_SEND_MS     30000
#define XLBD_HTTP_HEAD_MAX    16384 /* request line and headers */

struct xlbd_metrics_http {
	struct xlbd_listener listener;
	struct http_conn *conns;
	unsigned int nconns;
	__u64 refused; /* connections refused for being too many */
	__u64 refused_logged_us;
};

/* "127.0.0.1:9100" or "[::1]:9100" (literal addresses only) -> a socket address. 0 or -EINVAL
 * with a message in err. */
int xlbd_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
			    size_t errlen);

/* The HTTP server on d->base: GET /metrics and /healthz. 0 or -errno (logged). */
int xlbd_metrics_open(struct xlbd *d, const char *addr);
void xlbd_metrics_close(struct xlbd *d);

#endif /* XLBD_METRICS_HTTP_H */
