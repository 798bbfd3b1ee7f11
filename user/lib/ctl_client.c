/* ctl_client.c - client side of the xlbd control socket: connect, send a line, read a line. */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

struct xlb_ctl {
	int fd;
	int timeout_ms;
	bool broken;	   /* an earlier call failed half-way: the stream is out of step */
	size_t len;	   /* bytes in buf received and not yet returned */
	size_t cap;	   /* size of buf: grows up to max_answer */
	size_t max_answer; /* longest answer line accepted, with its '\n' */
	char *buf;	   /* answer bytes */
	char path[SUN_PATH_SIZE];
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* What to try when a connect fails this way: the usual causes, named. */
static const char *connect_hint(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is xlbd running?)";
	case EACCES:
	case EPERM:
		return " (xlbd accepts root and its own user only)";
	default:
		return "";
	}
}

static struct timespec deadline_in(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/* Waits until fd is ready for events or the deadline passes: 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	struct timespec now;
	long long left_ms;
	int n;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* Rounded up, so a wait never ends a little before the deadline and spins. */
		left_ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
			  (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
		if (left_ms <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms);
		if (n > 0)
			return 0; /* readable, writable, or an error/hangup the next call reports */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int xlb_ctl_connect(const char *path, int timeout_ms, struct xlb_ctl **out, char *err,
		    size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct xlb_ctl *ctl;
	struct timeval tv;
	size_t len;
	int ret;

	if (!out)
		return fail(err, errlen, -EINVAL, "no place for the connection");
	*out = NULL;
	if (!path)
		path = XLB_CTL_SOCK_DEFAULT;
	if (timeout_ms <= 0)
		timeout_ms = XLB_CTL_TIMEOUT_MS;
	len = strlen(path);
	if (len == 0)
		return fail(err, errlen, -EINVAL, "missing socket path");
	if (len >= SUN_PATH_SIZE)
		return fail(err, errlen, -ENAMETOOLONG,
			    "cannot reach xlbd at %s: socket path too long (at most %zu bytes)",
			    path, SUN_PATH_SIZE - 1);
	memcpy(sun.sun_path, path, len + 1);

	ctl = calloc(1, sizeof(*ctl));
	if (ctl) {
		ctl->cap = 64 * 1024;
		ctl->max_answer = XLB_CTL_ANSWER_MAX;
		ctl->buf = malloc(ctl->cap);
		if (!ctl->buf) {
			free(ctl);
			ctl = NULL;
		}
	}
	if (!ctl)
		return fail(err, errlen, -ENOMEM, "cannot reach xlbd at %s: out of memory", path);
	memcpy(ctl->path, path, len + 1);
	ctl->timeout_ms = timeout_ms;

	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		ret = -errno;
		fail(err, errlen, ret, "cannot reach xlbd at %s: socket: %s", path, strerror(-ret));
		goto err_free;
	}
	/*
	 * A Unix stream connect waits only while xlbd's accept backlog is full, and the kernel
	 * bounds that wait with the send timeout. A non-blocking connect would instead fail at
	 * once with EAGAIN and leave nothing to poll for.
	 */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(ctl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		ret = -errno;
		fail(err, errlen, ret, "cannot reach xlbd at %s: SO_SNDTIMEO: %s", path,
		     strerror(-ret));
		goto err_close;
	}
	if (connect(ctl->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		if (ret == -EAGAIN || ret == -EINPROGRESS) {
			ret = -ETIMEDOUT;
			fail(err, errlen, ret,
			     "cannot reach xlbd at %s: no connection accepted within %d ms "
			     "(is xlbd stuck?)",
			     path, timeout_ms);
		} else {
			fail(err, errlen, ret, "cannot reach xlbd at %s: %s%s", path,
			     strerror(-ret), connect_hint(-ret));
		}
		goto err_close;
	}
	*out = ctl;
	return 0;

err_close:
	close(ctl->fd);
err_free:
	if (ctl)
		free(ctl->buf);
	free(ctl);
	return ret;
}

static int send_all(struct xlb_ctl *ctl, const char *p, size_t n, const struct timespec *deadline,
		    char *err, size_t errlen)
{
	size_t off = 0;
	ssize_t sent;
	int ret;

	while (off < n) {
		ret = wait_fd(ctl->fd, POLLOUT, deadline);
		if (ret == -ETIMEDOUT)
			return fail(err, errlen, ret, "xlbd at %s took no request within %d ms",
				    ctl->path, ctl->timeout_ms);
		if (ret)
			return fail(err, errlen, ret, "cannot send to xlbd at %s: poll: %s",
				    ctl->path, strerror(-ret));
		/* MSG_NOSIGNAL: a daemon that went away is an error to report, not SIGPIPE. */
		sent = send(ctl->fd, p + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			return fail(err, errlen, ret, "cannot send to xlbd at %s: %s", ctl->path,
				    strerror(-ret));
		}
		off += sent;
	}
	return 0;
}

/* Reads until ctl->buf holds a whole line, then hands that line out and keeps what follows it. */
static int recv_line(struct xlb_ctl *ctl, char **response, const struct timespec *deadline,
		     char *err, size_t errlen)
{
	size_t scanned = 0, line_len;
	char *nl, *line;
	ssize_t n;
	int ret;

	for (;;) {
		nl = memchr(ctl->buf + scanned, '\n', ctl->len - scanned);
		if (nl)
			break;
		scanned = ctl->len;
		if (ctl->len == ctl->cap) {
			size_t cap =
				ctl->cap * 2 < ctl->max_answer ? ctl->cap * 2 : ctl->max_answer;
			char *grown;

			if (ctl->len >= ctl->max_answer)
				return fail(
					err, errlen, -EMSGSIZE,
					"answer from xlbd at %s is longer than %zu bytes: refused",
					ctl->path, ctl->max_answer - 1);
			grown = realloc(ctl->buf, cap);
			if (!grown)
				return fail(err, errlen, -ENOMEM,
					    "out of memory reading an answer");
			ctl->buf = grown;
			ctl->cap = cap;
		}
		ret = wait_fd(ctl->fd, POLLIN, deadline);
		if (ret == -ETIMEDOUT)
			return fail(err, errlen, ret, "no answer from xlbd at %s within %d ms",
				    ctl->path, ctl->timeout_ms);
		if (ret)
			return fail(err, errlen, ret, "cannot read from xlbd at %s: poll: %s",
				    ctl->path, strerror(-ret));
		n = recv(ctl->fd, ctl->buf + ctl->len, ctl->cap - ctl->len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			return fail(err, errlen, ret, "cannot read from xlbd at %s: %s", ctl->path,
				    strerror(-ret));
		}
		if (n == 0)
			return fail(err, errlen, -ECONNRESET,
				    ctl->len ? "xlbd at %s closed the connection in the middle of "
					       "an answer"
					     : "xlbd at %s closed the connection without answering "
					       "(see its log)",
				    ctl->path);
		ctl->len += n;
	}

	line_len = nl - ctl->buf;
	line = malloc(line_len + 1);
	if (!line)
		return fail(err, errlen, -ENOMEM, "out of memory for an answer from xlbd");
	memcpy(line, ctl->buf, line_len);
	line[line_len] = '\0';
	ctl->len -= line_len + 1;
	memmove(ctl->buf, nl + 1, ctl->len);
	*response = line;
	return 0;
}

int xlb_ctl_call(struct xlb_ctl *ctl, const char *request, char **response, char *err,
		 size_t errlen)
{
	struct timespec deadline;
	size_t len;
	char *line;
	int ret;

	if (!ctl || !request || !response)
		return fail(err, errlen, -EINVAL, "no connection, request or place for the answer");
	*response = NULL;
	if (ctl->broken)
		return fail(err, errlen, -ENOTCONN,
			    "connection to xlbd at %s is unusable after an earlier error",
			    ctl->path);
	len = strlen(request);
	if (memchr(request, '\n', len))
		return fail(err, errlen, -EINVAL,
			    "request holds a newline: a request is one line of JSON");
	if (len > XLB_CTL_LINE_MAX - 1)
		return fail(err, errlen, -EMSGSIZE,
			    "request of %zu bytes is longer than %d bytes: refused", len,
			    XLB_CTL_LINE_MAX - 1);

	/* One send of the whole line, so xlbd never waits on half a request from us. */
	line = malloc(len + 1);
	if (!line)
		return fail(err, errlen, -ENOMEM, "out of memory for a request to xlbd");
	memcpy(line, request, len);
	line[len] = '\n';

	deadline = deadline_in(ctl->timeout_ms);
	ret = send_all(ctl, line, len + 1, &deadline, err, errlen);
	free(line);
	if (!ret)
		ret = recv_line(ctl, response, &deadline, err, errlen);
	/* A half-sent request, or an answer not handed out (even for want of memory), would pair
	 * the next answer with the wrong request. */
	if (ret)
		ctl->broken = true;
	return ret;
}

void xlb_ctl_close(struct xlb_ctl *ctl)
{
	if (!ctl)
		return;
	close(ctl->fd);
	free(ctl->buf);
	free(ctl);
}

void xlb_ctl_set_max_answer(struct xlb_ctl *ctl, size_t max)
{
	ctl->max_answer = max;
}
