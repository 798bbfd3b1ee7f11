/* listener.h - a listening socket on the event loop that pauses accepting when accept() fails. */
#ifndef XLBD_LISTENER_H
#define XLBD_LISTENER_H

#include <event2/event.h>

struct evconnlistener;

#define XLBD_ACCEPT_PAUSE_MS 1000 /* no accept() for this long after EMFILE & co */

/*
 * accept() can fail for reasons retrying at once will not cure (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), and libevent would retry on every turn of the loop. Such a failure stops accepting
 * for XLBD_ACCEPT_PAUSE_MS, with one log line per pause; connections wait in the backlog.
 * Used by the control socket (control.c) and the metrics server (metrics_http.c).
 */
struct xlbd_listener {
	struct evconnlistener *l;
	struct event *resume;	  /* accepting again after a pause */
	const char *name;	  /* in the log: "control socket", "metrics server" */
	const unsigned int *open; /* the owner's count of open connections, for the log */
	void (*accept)(evutil_socket_t fd, void *arg);
	void *arg;
};

/* Listens on fd (bound; backlog for listen(), -1: the socket already listens) and calls
 * accept(fd, arg) for every connection. The listener owns fd from here, also on failure.
 * 0 or -ENOMEM. */
int xlbd_listener_open(struct xlbd_listener *ln, struct event_base *base, evutil_socket_t fd,
		       int backlog, const char *name, const unsigned int *open,
		       void (*accept)(evutil_socket_t fd, void *arg), void *arg);
void xlbd_listener_close(struct xlbd_listener *ln);

#endif /* XLBD_LISTENER_H */
