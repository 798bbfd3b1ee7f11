/* ctl_client.h - client side of the xlbd control socket: connect, one request line, one answer. */
#ifndef XLB_CTL_CLIENT_H
#define XLB_CTL_CLIENT_H

#include <stddef.h>

#include "ctl_proto.h"

/* How long a client waits for xlbd to accept, and then for each answer, unless told otherwise. */
#define XLB_CTL_TIMEOUT_MS 10000

/* One connection to xlbd; it may carry many requests, answered in order. */
struct xlb_ctl;

/*
 * All functions return 0 or -errno and, on error, write one line naming the socket and the
 * problem into err (when err is not NULL), e.g. "cannot reach xlbd at /run/xlb/xlbd.sock: No such
 * file or directory (is xlbd running?)".
 */

/* Connects to the Unix stream socket at path (NULL: XLB_CTL_SOCK_DEFAULT). timeout_ms <= 0 means
 * XLB_CTL_TIMEOUT_MS; it bounds the connect and, later, each xlb_ctl_call. */
int xlb_ctl_connect(const char *path, int timeout_ms, struct xlb_ctl **ctl, char *err,
		    size_t errlen);

/*
 * Sends request (one JSON text without a newline; the '\n' is added here) and reads one answer
 * line. On success *response is a malloc'ed, NUL-terminated line without its '\n', for the caller
 * to free. Errors: -EINVAL request holds a newline, -EMSGSIZE request or answer longer than
 * XLB_CTL_LINE_MAX, -ETIMEDOUT no complete answer in time, -ECONNRESET xlbd closed the
 * connection first, or what send/recv said. An error while sending or receiving leaves the
 * connection out of step with xlbd (a late answer would pair with the next request): every later
 * call then fails with -ENOTCONN; close it and connect again. Errors found before anything is
 * sent (-EINVAL, a request too long, -ENOMEM) leave the connection usable.
 */
int xlb_ctl_call(struct xlb_ctl *ctl, const char *request, char **response, char *err,
		 size_t errlen);

/* Closes the connection and frees ctl (NULL is fine). */
void xlb_ctl_close(struct xlb_ctl *ctl);
/* The longest answer line accepted, with its '\n' (default XLB_CTL_ANSWER_MAX). */
void xlb_ctl_set_max_answer(struct xlb_ctl *ctl, size_t max);

#endif /* XLB_CTL_CLIENT_H */
