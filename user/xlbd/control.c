/* control.c - the control socket: newline-delimited JSON over a Unix socket, peers checked. */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "ctl_proto.h"
#include "files.h"
#include "log.h"
#include "xlbd.h"

#define MAX_LINE (XLB_CTL_LINE_MAX - 1) /* without its newline */

struct conn {
	struct xlbd *d;
	unsigned int uid;
	int pid;
};

static void send_json(struct bufferevent *bev, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s) {
		bufferevent_write(bev, s, strlen(s));
		bufferevent_write(bev, "\n", 1);
		free(s);
	}
}

static void conn_free(struct bufferevent *bev, struct conn *c)
{
	bufferevent_free(bev);
	free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct conn *c = arg;
	size_t n;
	char *line;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		json_error_t je;
		json_t *req, *resp;

		if (n > MAX_LINE) {
			free(line);
			goto too_long;
		}
		req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
		free(line);
		if (!req)
			resp = json_pack("{s:b, s:s+}", "ok", 0, "error",
					 "request is not JSON: ", je.text);
		else
			resp = xlbd_handle(c->d, req, c->uid, c->pid);
		json_decref(req);
		send_json(bev, resp);
		json_decref(resp);
	}
	if (evbuffer_get_length(in) > MAX_LINE)
		goto too_long;
	return;
too_long : {
	json_t *resp = json_pack("{s:b, s:s}", "ok", 0, "error",
				 "request longer than 64 KiB: closing the connection");

	send_json(bev, resp);
	json_decref(resp);
	evbuffer_drain(in, evbuffer_get_length(in));
	/* Close once the reply has been written. */
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_flush(bev, EV_WRITE, BEV_FINISHED);
	shutdown(bufferevent_getfd(bev), SHUT_RDWR);
	conn_free(bev, c);
}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(bev, arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct xlbd *d = arg;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct bufferevent *bev;
	struct conn *c;

	(void)l, (void)sa, (void)len;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		pr_warn("control connection refused", "uid=%u pid=%d", cred.uid, cred.pid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	bev = c ? bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev) {
		free(c);
		close(fd);
		return;
	}
	c->d = d;
	c->uid = cred.uid;
	c->pid = cred.pid;
	bufferevent_setcb(bev, on_read, NULL, on_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int xlbd_control_open(struct xlbd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(d->socket_path) >= sizeof(sa.sun_path)) {
		pr_err("socket path too long", "socket=%s", d->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, d->socket_path);
	err = xlb_mkdir_parent(d->socket_path, 0700);
	if (err) {
		pr_err("cannot create the socket directory", "socket=%s err=\"%s\"", d->socket_path,
		       strerror(-err));
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket file that accepts connections belongs to a running xlbd: do not steal it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		pr_err("another xlbd is listening on the socket", "socket=%s", d->socket_path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(d->socket_path);
	/* Created 0600 from the start (umask), not chmod-ed after a window. */
	mode_t old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err) {
		pr_err("cannot bind the control socket", "socket=%s err=\"%s\"", d->socket_path,
		       strerror(-err));
		close(fd);
		return err;
	}
	d->control.listener = evconnlistener_new(
		d->base, on_accept, d, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, fd);
	if (!d->control.listener) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

void xlbd_control_close(struct xlbd *d)
{
	if (d->control.listener) {
		evconnlistener_free(d->control.listener);
		d->control.listener = NULL;
		unlink(d->socket_path);
	}
}
