/* listener.c - a listening socket that pauses accepting when accept() fails (listener.h). */
#include "listener.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "log.h"

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct xlbd_listener *ln = arg;

	(void)l, (void)sa, (void)len;
	ln->accept(fd, ln->arg);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_listener *ln = arg;

	(void)fd, (void)what;
	evconnlistener_enable(ln->l);
}

static void on_error(struct evconnlistener *l, void *arg)
{
	struct xlbd_listener *ln = arg;
	struct timeval tv = {XLBD_ACCEPT_PAUSE_MS / 1000, (XLBD_ACCEPT_PAUSE_MS % 1000) * 1000};
	int err = EVUTIL_SOCKET_ERROR();
	char msg[64];

	evconnlistener_disable(l);
	evtimer_add(ln->resume, &tv);
	snprintf(msg, sizeof(msg), "%s: cannot accept, paused", ln->name);
	pr_warn(msg, "err=\"%s\" pause_ms=%d open=%u", strerror(err), XLBD_ACCEPT_PAUSE_MS,
		*ln->open);
}

int xlbd_listener_open(struct xlbd_listener *ln, struct event_base *base, evutil_socket_t fd,
		       int backlog, const char *name, const unsigned int *open,
		       void (*accept)(evutil_socket_t fd, void *arg), void *arg)
{
	*ln = (struct xlbd_listener){.name = name, .open = open, .accept = accept, .arg = arg};
	ln->resume = evtimer_new(base, on_resume, ln);
	ln->l = ln->resume ? evconnlistener_new(base, on_accept, ln,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
						backlog, fd)
			   : NULL;
	if (!ln->l) {
		close(fd);
		xlbd_listener_close(ln);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(ln->l, on_error);
	return 0;
}

void xlbd_listener_close(struct xlbd_listener *ln)
{
	if (ln->l)
		evconnlistener_free(ln->l);
	if (ln->resume)
		event_free(ln->resume);
	ln->l = NULL;
	ln->resume = NULL;
}
