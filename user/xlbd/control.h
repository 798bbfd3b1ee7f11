/* control.h - the control socket: newline-delimited JSON over a Unix socket, peers checked. */
#ifndef XLBD_CONTROL_H
#define XLBD_CONTROL_H

#include <linux/types.h>

#include "listener.h"

struct xlbd;
struct event;
struct control_conn;

/*
 * Limits of the control socket (docs/control.md, "Connections"). A connection has
 * XLBD_CONTROL_DEADLINE_MS for each request, from its accept or the previous answer to the
 * request's newline (bytes that are not a whole request do not extend it); an idle connection
 * is closed at the same deadline.
 */
#define XLBD_CONTROL_MAX_CONNS	  64	    /* served at once */
#define XLBD_CONTROL_MAX_REFUSING 16	    /* more, closing: each told why first */
#define XLBD_CONTROL_DEADLINE_MS  10000	    /* for each request */
#define XLBD_CONTROL_LINGER_MS	  2000	    /* a refused client's time to read the refusal */
#define XLBD_CONTROL_OUT_CAP	  (1 << 20) /* unsent answers above which requests wait */
#define XLBD_CONTROL_EVICT_MS	  100 /* an idle connection younger than this is not evicted */
#define XLBD_CONTROL_BATCH	  16  /* requests run per connection per loop turn */

struct xlbd_control {
	struct xlbd_listener listener;
	struct control_conn *conns; /* open connections, served or being closed, oldest first */
	struct control_conn *conns_tail;
	unsigned int nconns;
	unsigned int nclosing; /* of which closing: refused, or done */
	__u64 refused;	       /* connections refused for being too many */
	__u64 refused_logged_us;
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
