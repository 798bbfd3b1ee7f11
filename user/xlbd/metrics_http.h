/* metrics_http.h - the metrics HTTP server on xlbd's event loop: GET /metrics and /healthz. */
#ifndef XLBD_METRICS_HTTP_H
#define XLBD_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct xlbd;
struct evhttp;

struct xlbd_metrics_http {
	struct evhttp *http;
};

/* "127.0.0.1:9100" or "[::1]:9100" (literal addresses only) -> a socket address. 0 or -EINVAL
 * with a message in err. */
int xlbd_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
			    size_t errlen);

/* The HTTP server on d->base: GET /metrics and /healthz. 0 or -errno (logged). */
int xlbd_metrics_open(struct xlbd *d, const char *addr);
void xlbd_metrics_close(struct xlbd *d);

#endif /* XLBD_METRICS_HTTP_H */
