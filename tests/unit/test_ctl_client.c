/* test_ctl_client.c - ctl_client (user/lib) against a stand-in xlbd; xlbctl_run (run.c) over it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cmdline.h"
#include "ctl_client.h"
#include "grammar.h"
#include "xlbctl.h"

/* cmd->opts.socket points into argv, as into main's: the words outlive the command. */
static int parse_line(const char *line, struct xlbctl_cmd *cmd, char *err, size_t errlen)
{
	static struct cmdline c;

	cmdline_split(&c, "xlbctl", line);
	return xlbctl_parse(c.argc, c.argv, cmd, err, errlen);
}

/* --- ctl_client: connecting and framing -------------------------------------------------- */

struct tmpdir {
	char dir[64];
	char path[108];
};

static bool tmpdir_make(struct tmpdir *t, const char *sock)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/xlbctl-test.XXXXXX");
	if (!mkdtemp(t->dir))
		return xt_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, sock);
	return true;
}

static void tmpdir_remove(struct tmpdir *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

static void test_client_no_socket(void)
{
	char err[XLBCTL_ERR_MAX], want[XLBCTL_ERR_MAX];
	struct xlb_ctl *ctl = (struct xlb_ctl *)1;
	struct captured c = {0};
	struct xlbctl_cmd cmd = {0};
	struct tmpdir t = {0};
	char line[256];

	if (!tmpdir_make(&t, "xlbd.sock"))
		return;
	ASSERT_EQ(xlb_ctl_connect(t.path, 1000, &ctl, err, sizeof(err)), -ENOENT, "connect");
	ASSERT_TRUE(ctl == NULL, "no connection handed out");
	snprintf(want, sizeof(want),
		 "cannot reach xlbd at %s: No such file or directory (is xlbd running?)", t.path);
	ASSERT_STREQ(err, want, "message");

	/* Through xlbctl_run, in JSON mode: the error object on stdout, and an error return. */
	snprintf(line, sizeof(line), "-j -s %s vip", t.path);
	if (ASSERT_OK(parse_line(line, &cmd, err, sizeof(err)), line) && capture_start(&c)) {
		c.ret = xlbctl_run(&cmd, c.outf, c.errf);
		capture_end(&c);
		ASSERT_EQ(c.ret, -ENOENT, "run");
		snprintf(want, sizeof(want),
			 "{\"error\":\"cannot reach xlbd at %s: No such file or directory (is "
			 "xlbd running?)\"}\n",
			 t.path);
		ASSERT_STREQ(c.out, want, "run stdout");
		ASSERT_STREQ(c.err, "", "run stderr");
	}
	captured_free(&c);
	xlbctl_cmd_free(&cmd);
	tmpdir_remove(&t);

	/* A path that cannot be a socket address. */
	memset(line, 'a', sizeof(line) - 1);
	line[0] = '/';
	line[sizeof(line) - 1] = '\0';
	ASSERT_EQ(xlb_ctl_connect(line, 1000, &ctl, err, sizeof(err)), -ENAMETOOLONG, "long path");
	ASSERT_HAS_SUBSTR(err, "too long", "long path");
}

static void test_client_refused(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char err[XLBCTL_ERR_MAX], want[XLBCTL_ERR_MAX];
	struct xlb_ctl *ctl = NULL;
	struct tmpdir t = {0};
	int fd;

	if (!tmpdir_make(&t, "stale.sock"))
		return;
	/* A socket file nobody listens on: what a crashed xlbd leaves behind. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t.path);
	if (ASSERT_TRUE(fd >= 0 && !bind(fd, (struct sockaddr *)&sun, sizeof(sun)), "bind")) {
		ASSERT_EQ(xlb_ctl_connect(t.path, 1000, &ctl, err, sizeof(err)), -ECONNREFUSED,
			  "connect");
		snprintf(want, sizeof(want),
			 "cannot reach xlbd at %s: Connection refused (is xlbd running?)", t.path);
		ASSERT_STREQ(err, want, "message");
	}
	if (fd >= 0)
		close(fd);
	tmpdir_remove(&t);
}

/* A stand-in for xlbd on a temporary socket: one connection, served by a thread as told. */
enum fake_mode {
	FAKE_NUMBERED, /* answer request i with {"ok":true,"n":i}, in odd-sized writes */
	FAKE_LONG,     /* answer with a line of long_len bytes */
	FAKE_SILENT,   /* read, never answer */
	FAKE_HANGUP,   /* read one request, close */
	FAKE_CANNED,   /* answer every request with canned */
};

struct fake {
	struct tmpdir t;
	enum fake_mode mode;
	size_t long_len;
	const char *canned;
	int lfd;
	pthread_t thread;
	char requests[8][512]; /* lines received, without '\n' (cut to fit) */
	int nrequests;
	bool started;
};

static int send_str(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0)
			return -errno;
		s += n;
		len -= n;
	}
	return 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000};

	nanosleep(&ts, NULL);
}

static void fake_answer(struct fake *f, int fd, int i)
{
	char a[64];
	size_t len;
	char *buf;

	switch (f->mode) {
	case FAKE_NUMBERED:
		/* 1: split in three writes; 2: answers 2 and 3 in one write; 3: nothing more. */
		if (i == 1) {
			send_str(fd, "{\"ok\":", 6);
			pause_ms(20);
			send_str(fd, "true,\"n\":1", 10);
			pause_ms(20);
			send_str(fd, "}\n", 2);
		} else if (i == 2) {
			len = snprintf(a, sizeof(a),
				       "{\"ok\":true,\"n\":2}\n{\"ok\":true,\"n\":3}\n");
			send_str(fd, a, len);
		} else if (i > 3) {
			len = snprintf(a, sizeof(a), "{\"ok\":true,\"n\":%d}\n", i);
			send_str(fd, a, len);
		}
		break;
	case FAKE_LONG:
		buf = malloc(f->long_len + 1);
		if (!buf)
			break;
		memset(buf, 'x', f->long_len);
		buf[f->long_len] = '\n';
		send_str(fd, buf, f->long_len + 1);
		free(buf);
		break;
	case FAKE_CANNED:
		send_str(fd, f->canned, strlen(f->canned));
		send_str(fd, "\n", 1);
		break;
	default:
		break;
	}
}

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	char buf[4096];
	size_t len = 0;
	char *nl;
	ssize_t n;
	int fd;

	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	for (;;) {
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += n;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			if (f->nrequests < (int)ARRAY_SIZE(f->requests))
				snprintf(f->requests[f->nrequests++], sizeof(f->requests[0]),
					 "%.511s", buf);
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
			if (f->mode == FAKE_HANGUP)
				goto out;
			fake_answer(f, fd, f->nrequests);
		}
		if (len == sizeof(buf) - 1)
			break;
	}
out:
	close(fd);
	return NULL;
}

static bool fake_start(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	f->mode = mode;
	f->lfd = -1;
	if (!tmpdir_make(&f->t, "xlbd.sock"))
		return false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->t.path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)) || listen(f->lfd, 4) ||
	    pthread_create(&f->thread, NULL, fake_serve, f)) {
		xt_fail(__FILE__, __LINE__, "fake xlbd: %s", strerror(errno));
		return false;
	}
	f->started = true;
	return true;
}

/* Call after the client closed its end: the thread then sees EOF and ends. A thread still
 * waiting in accept (the test failed before connecting) is woken by the shutdown. */
static void fake_stop(struct fake *f)
{
	if (f->lfd >= 0)
		shutdown(f->lfd, SHUT_RDWR);
	if (f->started)
		pthread_join(f->thread, NULL);
	if (f->lfd >= 0)
		close(f->lfd);
	tmpdir_remove(&f->t);
}

static void test_client_round_trip(void)
{
	static const char *const reqs[] = {"{\"cmd\":\"vip show\"}", "{\"cmd\":\"backend show\"}",
					   "{\"cmd\":\"stats show\"}", "{\"cmd\":\"prog show\"}"};
	char err[XLBCTL_ERR_MAX], want[64], *answer;
	struct fake f = {0};
	struct xlb_ctl *ctl = NULL;
	size_t i;

	if (!fake_start(&f, FAKE_NUMBERED))
		goto out;
	if (!ASSERT_OK(xlb_ctl_connect(f.t.path, 2000, &ctl, err, sizeof(err)), "connect")) {
		fprintf(stderr, "    %s\n", err);
		goto out;
	}
	/* Many requests on one connection, each answer paired with its request, whether it
	 * came in pieces or together with the next one. */
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		if (!ASSERT_OK(xlb_ctl_call(ctl, reqs[i], &answer, err, sizeof(err)), reqs[i])) {
			fprintf(stderr, "    %s\n", err);
			break;
		}
		snprintf(want, sizeof(want), "{\"ok\":true,\"n\":%zu}", i + 1);
		ASSERT_STREQ(answer, want, reqs[i]);
		free(answer);
	}
	xlb_ctl_close(ctl);
	fake_stop(&f);
	/* Each request arrived as exactly one line. */
	ASSERT_EQ(f.nrequests, ARRAY_SIZE(reqs), "requests seen");
	for (i = 0; i < ARRAY_SIZE(reqs) && (int)i < f.nrequests; i++)
		ASSERT_STREQ(f.requests[i], reqs[i], "request line");
	return;
out:
	fake_stop(&f);
}

static void test_client_line_limit(void)
{
	char err[XLBCTL_ERR_MAX], *answer = NULL, *big;
	struct fake f = {0};
	struct xlb_ctl *ctl = NULL;

	/* An answer longer than a request may be (backend show of many backends): 1 MiB. */
	f.long_len = 1024 * 1024;
	if (fake_start(&f, FAKE_LONG) &&
	    ASSERT_OK(xlb_ctl_connect(f.t.path, 2000, &ctl, err, sizeof(err)), "connect")) {
		if (ASSERT_OK(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), "1 MiB answer"))
			ASSERT_EQ(strlen(answer), 1024 * 1024, "length");
		free(answer);
		answer = NULL;
		xlb_ctl_close(ctl);
	}
	fake_stop(&f);

	/* The longest line allowed under a limit of XLB_CTL_LINE_MAX bytes with its '\n'. */
	memset(&f, 0, sizeof(f));
	f.long_len = XLB_CTL_LINE_MAX - 1;
	if (fake_start(&f, FAKE_LONG) &&
	    ASSERT_OK(xlb_ctl_connect(f.t.path, 2000, &ctl, err, sizeof(err)), "connect")) {
		xlb_ctl_set_max_answer(ctl, XLB_CTL_LINE_MAX);
		if (ASSERT_OK(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), "longest line"))
			ASSERT_EQ(strlen(answer), XLB_CTL_LINE_MAX - 1, "length");
		free(answer);
		xlb_ctl_close(ctl);
	}
	fake_stop(&f);

	/* One byte more: refused, and the connection is done for. */
	memset(&f, 0, sizeof(f));
	f.long_len = XLB_CTL_LINE_MAX;
	if (fake_start(&f, FAKE_LONG) &&
	    ASSERT_OK(xlb_ctl_connect(f.t.path, 2000, &ctl, err, sizeof(err)), "connect")) {
		xlb_ctl_set_max_answer(ctl, XLB_CTL_LINE_MAX);
		ASSERT_EQ(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), -EMSGSIZE,
			  "too long");
		ASSERT_TRUE(answer == NULL, "no answer handed out");
		ASSERT_HAS_SUBSTR(err, "longer than 65535 bytes: refused", "too long");
		ASSERT_EQ(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), -ENOTCONN,
			  "after the error");
		xlb_ctl_close(ctl);
	}
	fake_stop(&f);

	/* Requests: too long or holding a newline are refused before anything is sent. */
	memset(&f, 0, sizeof(f));
	f.canned = "{\"ok\":true}";
	big = malloc(XLB_CTL_LINE_MAX + 1);
	if (big && fake_start(&f, FAKE_CANNED) &&
	    ASSERT_OK(xlb_ctl_connect(f.t.path, 2000, &ctl, err, sizeof(err)), "connect")) {
		memset(big, ' ', XLB_CTL_LINE_MAX);
		big[XLB_CTL_LINE_MAX] = '\0';
		ASSERT_EQ(xlb_ctl_call(ctl, big, &answer, err, sizeof(err)), -EMSGSIZE,
			  "long request");
		ASSERT_HAS_SUBSTR(err, "request of 65536 bytes", "long request");
		ASSERT_EQ(xlb_ctl_call(ctl, "{}\n{}", &answer, err, sizeof(err)), -EINVAL,
			  "newline");
		ASSERT_HAS_SUBSTR(err, "newline", "newline");
		/* Neither broke the connection: nothing had gone out. */
		if (ASSERT_OK(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)),
			      "then a good one"))
			ASSERT_STREQ(answer, "{\"ok\":true}", "answer");
		free(answer);
		xlb_ctl_close(ctl);
	}
	free(big);
	fake_stop(&f);
	ASSERT_EQ(f.nrequests, 1, "only the good request went out");
}

static void test_client_timeout_and_hangup(void)
{
	char err[XLBCTL_ERR_MAX], *answer = NULL;
	struct fake f = {0};
	struct xlb_ctl *ctl = NULL;
	struct timespec t0, t1;
	long ms;

	if (fake_start(&f, FAKE_SILENT) &&
	    ASSERT_OK(xlb_ctl_connect(f.t.path, 200, &ctl, err, sizeof(err)), "connect")) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_EQ(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), -ETIMEDOUT,
			  "silent xlbd");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		ASSERT_TRUE(ms >= 190 && ms < 2000, "waited about the timeout");
		ASSERT_HAS_SUBSTR(err, "no answer from xlbd at", "silent xlbd");
		ASSERT_HAS_SUBSTR(err, "within 200 ms", "silent xlbd");
		/* A late answer would pair with the next request: the connection is done. */
		ASSERT_EQ(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), -ENOTCONN,
			  "after a timeout");
		xlb_ctl_close(ctl);
	}
	fake_stop(&f);

	memset(&f, 0, sizeof(f));
	if (fake_start(&f, FAKE_HANGUP) &&
	    ASSERT_OK(xlb_ctl_connect(f.t.path, 2000, &ctl, err, sizeof(err)), "connect")) {
		ASSERT_EQ(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)), -ECONNRESET,
			  "hangup");
		ASSERT_HAS_SUBSTR(err, "closed the connection without answering", "hangup");
		xlb_ctl_close(ctl);
	}
	fake_stop(&f);
}

/* The whole path: argv -> request line on the socket -> answer -> text on stdout. */
static void test_run_end_to_end(void)
{
	char err[XLBCTL_ERR_MAX], line[256];
	struct fake f = {0};
	struct xlbctl_cmd cmd = {0};
	struct captured c = {0};

	f.canned =
		"{\"ok\":true,\"backend\":{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		"\"id\":7,\"weight\":3,\"admin\":\"up\",\"mac\":\"02:00:00:00:01:02\","
		"\"state\":\"down\",\"reason\":\"mac unknown\",\"packets\":0,\"bytes\":0,"
		"\"new_flows\":0,\"effective_weight\":0}}";
	if (!fake_start(&f, FAKE_CANNED))
		goto out;
	snprintf(line, sizeof(line), "-s %s backend add 10.0.0.10:80/tcp 10.0.1.2 weight 3",
		 f.t.path);
	if (!ASSERT_OK(parse_line(line, &cmd, err, sizeof(err)), line))
		goto out;
	if (capture_start(&c))
		c.ret = xlbctl_run(&cmd, c.outf, c.errf);
	capture_end(&c);
	xlbctl_cmd_free(&cmd);
	ASSERT_OK(c.ret, "run");
	ASSERT_STREQ(c.out,
		     "VIP               ADDRESS   WEIGHT  EFF.WEIGHT  ADMIN  STATE               "
		     "CIRCUIT  HEALTH  LATENCY  MAC                PACKETS  BYTES\n"
		     "10.0.0.10:80/tcp  10.0.1.2       3           0  up     down (mac unknown)  "
		     "-        -             -  02:00:00:00:01:02        0      0\n",
		     "stdout");
	ASSERT_STREQ(c.err, "", "stderr");
	captured_free(&c);
out:
	fake_stop(&f);
	if (ASSERT_EQ(f.nrequests, 1, "one request"))
		ASSERT_STREQ(f.requests[0],
			     "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":"
			     "\"10.0.1.2\",\"weight\":3}",
			     "request line");
}

int main(void)
{
	/* The fake server writes to clients that may have gone: an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	RUN_TEST(test_client_no_socket);
	RUN_TEST(test_client_refused);
	RUN_TEST(test_client_round_trip);
	RUN_TEST(test_client_line_limit);
	RUN_TEST(test_client_timeout_and_hangup);
	RUN_TEST(test_run_end_to_end);
	return xt_finish();
}
