/* control.h - the control socket: newline-delimited JSON over a Unix socket, peers checked. */
#ifndef XLBD_CONTROL_H
#define XLBD_CONTROL_H

struct xlbd;
struct evconnlistener;

struct xlbd_control {
	struct evconnlistener *listener;
};

/* Listen on d->socket_path (0600). 0 or -errno (logged). */
int xlbd_control_open(struct xlbd *d);
void xlbd_control_close(struct xlbd *d);

#endif /* XLBD_CONTROL_H */
