/* control.c - the control socket: newline-delimited JSON over a Unix socket, peers checked. */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "clock.h"
#include "ctl_proto.h"
#include "files.h"
#include "log.h"
#include "text.h"
#include "xlbd.h"

#define MAX_LINE (XLB_CTL_LINE_MAX - 1) /* without its newline */

/* Answered when an answer cannot be encoded: every request gets exactly one line. */
#define FIXED_ERROR \
	"{\"ok\":false,\"error\":\"xlbd could not encode the answer to this request\"}\n"
#define TOO_LONG "request longer than 64 KiB: closing the connection"
#define STR_(x)	 #x
#define STR(x)	 STR_(x)
#define BUSY_TEXT \
	"xlbd serves " STR(XLBD_CONTROL_MAX_CONNS) " control connections at once: try again later"

enum conn_state {
	SERVING, /* reading requests, answering them in order */
	CLOSING, /* its last answer queued: flush it, then close; what the peer still sends is
		  * read and dropped, so that the close does not reset the answer away */
};

struct control_conn {
	struct xlbd *d;
	struct bufferevent *bev;
	struct event *deadline; /* SERVING: the request's deadline; CLOSING: the linger's */
	struct event *resume;	/* more requests to run after the others had their turn */
	struct control_conn *prev, *next;
	enum conn_state state;
	bool peer_eof;	  /* the peer shut its write side: run what came, answer, close */
	bool out_blocked; /* answers over XLBD_CONTROL_OUT_CAP: no reading until they drain */
	bool wr_shut;	  /* CLOSING: our side shut once the last answer went */
	__u64 accepted_us;
	unsigned int uid;
	int pid;
};

static void conn_free(struct control_conn *c)
{
	struct xlbd_control *ctl = &c->d->control;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		ctl->conns_tail = c->prev;
	ctl->nconns--;
	if (c->state == CLOSING)
		ctl->nclosing--;
	if (c->deadline)
		event_free(c->deadline);
	if (c->resume)
		event_free(c->resume);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

static void arm(struct control_conn *c, unsigned int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(c->deadline, &tv);
}

static void send_json(struct control_conn *c, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!s) {
		pr_warn("cannot encode an answer: sent a fixed error instead", "uid=%u pid=%d",
			c->uid, c->pid);
		bufferevent_write(c->bev, FIXED_ERROR, strlen(FIXED_ERROR));
		return;
	}
	bufferevent_write(c->bev, s, strlen(s));
	bufferevent_write(c->bev, "\n", 1);
	free(s);
}

/* An error answer whose text holds a part of something received (cut to stay UTF-8). */
static void send_error(struct control_conn *c, const char *prefix, const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "%s%s", prefix, what);
	json_t *resp;

	if (n >= (int)sizeof(msg))
		msg[xlb_utf8_cut(msg, sizeof(msg) - 1)] = '\0';
	resp = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	send_json(c, resp);
	json_decref(resp);
}

static void answer(struct control_conn *c, const char *line, size_t n)
{
	json_error_t je;
	json_t *req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je), *resp;

	if (!req) {
		send_error(c, "request is not JSON: ", je.text);
		return;
	}
	resp = xlbd_handle(c->d, req, c->uid, c->pid);
	json_decref(req);
	send_json(c, resp);
	json_decref(resp);
}

static void shut_if_flushed(struct control_conn *c);

/*
 * No more requests: what is queued goes out, then the connection closes. Until then what the
 * peer sends is dropped (a close with unread data would reset the connection, and the peer
 * might lose the answer); a peer that neither reads nor closes is cut at the linger's end.
 */
static void start_closing(struct control_conn *c, unsigned int linger_ms)
{
	c->state = CLOSING;
	c->d->control.nclosing++;
	if (c->out_blocked) {
		c->out_blocked = false;
		bufferevent_enable(c->bev, EV_READ);
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	evbuffer_drain(bufferevent_get_input(c->bev),
		       evbuffer_get_length(bufferevent_get_input(c->bev)));
	arm(c, linger_ms);
	shut_if_flushed(c);
}

/* CLOSING: once the last answer is out, shut our side (the peer reads it, then EOF); free
 * the connection once the peer has closed too. The caller must not use c after this. */
static void shut_if_flushed(struct control_conn *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)))
		return;
	if (c->peer_eof) {
		conn_free(c);
		return;
	}
	if (!c->wr_shut) {
		shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		c->wr_shut = true;
	}
}

/* One error answer, then closing (c may be gone when this returns). */
static void refuse(struct control_conn *c, const char *why, unsigned int linger_ms)
{
	json_t *resp = json_pack("{s:b, s:s}", "ok", 0, "error", why);

	send_json(c, resp);
	json_decref(resp);
	start_closing(c, linger_ms);
}

/*
 * Runs the requests received, in order, one answer each. At most XLBD_CONTROL_BATCH per turn
 * of the loop (then the others, the health checks and the timers go first), and none while the
 * connection's unsent answers are over XLBD_CONTROL_OUT_CAP: a client that does not read
 * stops being read, instead of making xlbd hold its answers.
 */
static void serve(struct control_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev), *out = bufferevent_get_output(c->bev);
	int ran = 0;

	while (c->state == SERVING) {
		size_t n;
		char *line;

		if (evbuffer_get_length(out) >= XLBD_CONTROL_OUT_CAP) {
			c->out_blocked = true;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		if (ran == XLBD_CONTROL_BATCH) {
			event_active(c->resume, EV_TIMEOUT, 1);
			return;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (!line) {
			n = evbuffer_get_length(in);
			if (n > MAX_LINE) {
				refuse(c, TOO_LONG, XLBD_CONTROL_DEADLINE_MS);
				return;
			}
			if (!c->peer_eof)
				return;
			/* The peer is done sending: its last line may lack the newline. */
			if (n) {
				line = malloc(n);
				if (line)
					evbuffer_remove(in, line, n);
				else
					evbuffer_drain(in, n);
			}
			if (line)
				answer(c, line, n);
			free(line);
			start_closing(c, XLBD_CONTROL_DEADLINE_MS);
			return;
		}
		if (n > MAX_LINE) {
			free(line);
			refuse(c, TOO_LONG, XLBD_CONTROL_DEADLINE_MS);
			return;
		}
		answer(c, line, n);
		free(line);
		ran++;
		/* The next request has its own deadline, from this answer. */
		arm(c, XLBD_CONTROL_DEADLINE_MS);
	}
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	serve(arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct control_conn *c = arg;

	if (c->state == CLOSING) {
		evbuffer_drain(bufferevent_get_input(bev),
			       evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	serve(c);
}

/* Output at or below the low watermark (half the cap; 0 once closing). */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct control_conn *c = arg;

	(void)bev;
	if (c->state == CLOSING) {
		shut_if_flushed(c);
		return;
	}
	if (c->out_blocked) {
		c->out_blocked = false;
		bufferevent_enable(c->bev, EV_READ);
		arm(c, XLBD_CONTROL_DEADLINE_MS); /* the peer is reading: it gets a new deadline */
		serve(c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_ERROR) {
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->peer_eof = true;
		if (c->state == CLOSING)
			shut_if_flushed(c);
		else
			serve(c);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn *c = arg;

	(void)fd, (void)what;
	if (c->state == SERVING)
		pr_debug("control connection closed: no whole request within the deadline",
			 "uid=%u pid=%d deadline_ms=%u", c->uid, c->pid, XLBD_CONTROL_DEADLINE_MS);
	conn_free(c);
}

static struct control_conn *conn_new(struct xlbd *d, int fd)
{
	struct xlbd_control *ctl = &d->control;
	struct control_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return NULL;
	}
	c->d = d;
	c->accepted_us = xlb_now_us();
	c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(d->base, on_deadline, c);
	c->resume = event_new(d->base, -1, 0, on_resume, c);
	c->prev = ctl->conns_tail;
	if (c->prev)
		c->prev->next = c;
	else
		ctl->conns = c;
	ctl->conns_tail = c;
	ctl->nconns++;
	if (!c->bev || !c->deadline || !c->resume) {
		if (!c->bev)
			close(fd);
		conn_free(c);
		return NULL;
	}
	/* At most one line (and its newline) waits in memory; answers up to the cap, then the
	 * peer must read (on_write comes back at half of it). */
	bufferevent_setwatermark(c->bev, EV_READ, 0, XLB_CTL_LINE_MAX);
	bufferevent_setwatermark(c->bev, EV_WRITE, XLBD_CONTROL_OUT_CAP / 2, 0);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm(c, XLBD_CONTROL_DEADLINE_MS);
	return c;
}

/* Refusals for too many connections: counted, logged at most once a second. */
static void count_refused(struct xlbd_control *ctl)
{
	__u64 now = xlb_now_us();

	ctl->refused++;
	if (!ctl->refused_logged_us || now - ctl->refused_logged_us >= 1000000) {
		pr_warn("control connections refused: too many open", "max=%d refused_total=%llu",
			XLBD_CONTROL_MAX_CONNS, (unsigned long long)ctl->refused);
		ctl->refused_logged_us = now;
	}
}

/*
 * At the cap, a new client takes the place of the connection idle longest: nothing of a
 * request received (not even in the socket, not read yet), no answer unsent, so nothing is
 * lost and the close resets nothing. One accepted less than XLBD_CONTROL_EVICT_MS ago stays:
 * its client may not have sent its request yet. Connections are listed oldest first.
 */
static void evict_idle(struct xlbd_control *ctl)
{
	__u64 now = xlb_now_us();
	struct control_conn *c;
	int unread;

	for (c = ctl->conns; c; c = c->next) {
		/* Oldest first: the first one too young ends the search. */
		if (now - c->accepted_us < XLBD_CONTROL_EVICT_MS * 1000ull)
			return;
		if (c->state != SERVING || c->out_blocked ||
		    evbuffer_get_length(bufferevent_get_input(c->bev)) ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)))
			continue;
		if (ioctl(bufferevent_getfd(c->bev), FIONREAD, &unread) || unread)
			continue;
		pr_debug("idle control connection closed for a new one", "uid=%u pid=%d", c->uid,
			 c->pid);
		conn_free(c);
		return;
	}
}

/* Over every cap: told without a connection object (best effort: the peer may hear only the
 * close), so that refusing costs nothing that could run out. */
static void refuse_now(int fd, const char *why)
{
	json_t *resp = json_pack("{s:b, s:s}", "ok", 0, "error", why);
	char *s = resp ? json_dumps(resp, JSON_COMPACT) : NULL;

	if (s && (send(fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ||
		  send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0))
		pr_debug("cannot tell a refused control client why", "err=\"%s\"", strerror(errno));
	free(s);
	json_decref(resp);
	close(fd);
}

static void on_accept(evutil_socket_t fd, void *arg)
{
	struct xlbd *d = arg;
	struct xlbd_control *ctl = &d->control;
	struct ucred cred = {0};
	socklen_t cl = sizeof(cred);
	const char *why = BUSY_TEXT;
	char denied[160];
	struct control_conn *c;
	bool peer_ok;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl)) {
		pr_warn("control connection refused: cannot read the peer's credentials",
			"err=\"%s\"", strerror(errno));
		close(fd);
		return;
	}
	peer_ok = cred.uid == 0 || cred.uid == geteuid();
	if (peer_ok && ctl->nconns - ctl->nclosing >= XLBD_CONTROL_MAX_CONNS)
		evict_idle(ctl);
	if (!peer_ok) {
		pr_warn("control connection refused", "uid=%u pid=%d", cred.uid, cred.pid);
		snprintf(denied, sizeof(denied),
			 "permission denied: xlbd takes commands from root and uid %u only, not "
			 "from uid %u",
			 (unsigned int)geteuid(), cred.uid);
		why = denied;
	} else if (ctl->nconns - ctl->nclosing < XLBD_CONTROL_MAX_CONNS &&
		   ctl->nconns < XLBD_CONTROL_MAX_CONNS + XLBD_CONTROL_MAX_REFUSING) {
		why = NULL; /* served: the total is bounded too, closing ones included */
	} else {
		count_refused(ctl);
	}
	if (why && (ctl->nclosing >= XLBD_CONTROL_MAX_REFUSING ||
		    ctl->nconns >= XLBD_CONTROL_MAX_CONNS + XLBD_CONTROL_MAX_REFUSING)) {
		refuse_now(fd, why);
		return;
	}
	c = conn_new(d, fd);
	if (!c) {
		pr_warn("control connection dropped: out of memory", "uid=%u pid=%d", cred.uid,
			cred.pid);
		return;
	}
	c->uid = cred.uid;
	c->pid = cred.pid;
	if (why)
		refuse(c, why, XLBD_CONTROL_LINGER_MS);
}

int xlbd_control_check_path(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("socket path too long", "socket=%s max=%zu", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		pr_err("cannot look at the socket path", "socket=%s err=\"%s\"", path,
		       strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("the socket path exists and is not a socket: refusing to replace it",
		       "socket=%s", path);
		return -EEXIST;
	}
	return 0;
}

int xlbd_control_open(struct xlbd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	err = xlbd_control_check_path(d->socket_path);
	if (err)
		return err;
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
	/* Whatever socket is there is stale: main.c holds the socket's lock (docs/xlbd.md), so
	 * no xlbd serves it, however busy. Not a connect() test: a full backlog looks dead. */
	if (unlink(d->socket_path) && errno != ENOENT) {
		err = -errno;
		pr_err("cannot remove the stale socket", "socket=%s err=\"%s\"", d->socket_path,
		       strerror(-err));
		close(fd);
		return err;
	}
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
	err = xlbd_listener_open(&d->control.listener, d->base, fd, 16, "control socket",
				 &d->control.nconns, on_accept, d);
	if (err)
		xlbd_control_close(d);
	return err;
}

void xlbd_control_close(struct xlbd *d)
{
	struct xlbd_control *ctl = &d->control;

	while (ctl->conns)
		conn_free(ctl->conns);
	if (ctl->listener.l) {
		xlbd_listener_close(&ctl->listener);
		unlink(d->socket_path);
	}
}
