/* control.h - the control socket: newline-delimited JSON over a Unix socket, peers checked. */
#ifndef XLBD_CONTROL_H
#define XLBD_CONTROL_H

struct xlbd;
struct evconnlistener;

struct xlbd_control {
	struct evconnlistener *listener;
};

/*
 * The socket path can be ours: not too long, and nothing there but a socket (a regular file or
 * anything else named by --socket is refused, never unlinked). 0 or -errno (logged). A socket
 * there is an earlier xlbd's: main.c holds the socket's lock, so no running xlbd serves it.
 */
int xlbd_control_check_path(const char *path);
/* Listen on d->socket_path (0600), replacing a socket left there. 0 or -errno (logged). */
int xlbd_control_open(struct xlbd *d);
void xlbd_control_close(struct xlbd *d);

#endif /* XLBD_CONTROL_H */
