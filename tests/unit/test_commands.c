/* test_commands.c - requests refused before any map access: one strict rule, one answer each. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "check.h"
#include "xlbd.h"

/*
 * Zeroed, no data plane: only requests that are answered before a commit or a map read may
 * run here (docs/xlbd.md). A commit would reach the maps.
 */
static struct xlbd d;

/* The answer to one request line (parsed as control.c does), its error text in *error. */
static json_t *ask(const char *line, const char **error)
{
	json_error_t je;
	json_t *req = json_loads(line, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je), *r;

	*error = NULL;
	if (!ASSERT_TRUE(req != NULL, line))
		return NULL;
	r = xlbd_handle(&d, req, 0, 0);
	json_decref(req);
	if (!ASSERT_TRUE(r != NULL, "an answer"))
		return NULL;
	*error = json_string_value(json_object_get(r, "error"));
	return r;
}

static void refused(const char *line, const char *want)
{
	const char *error;
	json_t *r = ask(line, &error);

	if (!r)
		return;
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "ok is false");
	ASSERT_HAS_SUBSTR(error, want, "the error names the problem");
	json_decref(r);
}

/* A wrong type, an unknown member or extra words are refused, naming the
 * member. Each used to be ignored (the VIP made with the default, the show of everything). */
static void test_strict_members(void)
{
	static const struct {
		const char *desc, *line, *want;
	} cases[] = {
		{"sched 123", "{\"cmd\":\"vip add\",\"vip\":\"10.9.9.9:80/tcp\",\"sched\":123}",
		 "\"sched\" must be a string, not an integer"},
		{"fwd 5", "{\"cmd\":\"vip add\",\"vip\":\"10.9.9.9:80/tcp\",\"fwd\":5}",
		 "\"fwd\" must be a string"},
		{"fwd null", "{\"cmd\":\"vip set\",\"vip\":\"10.9.9.9:80/tcp\",\"fwd\":null}",
		 "\"fwd\" must be a string, not null"},
		{"hash_dport \"yes\"",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.9.9.9:80/tcp\",\"hash_dport\":\"yes\"}",
		 "\"hash_dport\" must be true or false"},
		{"vip check a string",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.9.9.9:80/tcp\",\"check\":\"tcp\"}",
		 "\"check\" must be an object"},
		{"vip check null",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.9.9.9:80/tcp\",\"check\":null}",
		 "\"check\" must be an object, not null"},
		{"vip show vip 5", "{\"cmd\":\"vip show\",\"vip\":5}", "\"vip\" must be a string"},
		{"backend show vip []", "{\"cmd\":\"backend show\",\"vip\":[]}",
		 "\"vip\" must be a string, not an array"},
		{"stats show vip false", "{\"cmd\":\"stats show\",\"vip\":false}",
		 "\"vip\" must be a string"},
		{"admin true",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":\"10.0.0.2\","
		 "\"admin\":true}",
		 "\"admin\" must be a string, not true"},
		{"weight \"3\"",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":\"10.0.0.2\","
		 "\"weight\":\"3\"}",
		 "\"weight\" must be an integer, not a string"},
		{"weight 1.5",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":\"10.0.0.2\","
		 "\"weight\":1.5}",
		 "\"weight\" must be an integer, not a number"},
		{"backend check 7",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":\"10.0.0.2\","
		 "\"check\":7}",
		 "\"check\" must be an object or null"},
		{"address 10",
		 "{\"cmd\":\"backend del\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":10}",
		 "\"address\" must be a string"},
		{"client {}",
		 "{\"cmd\":\"flow explain\",\"vip\":\"10.9.9.9:80/tcp\",\"client\":{}}",
		 "\"client\" must be a string"},
		{"unknown member wieght",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.9.9.9:80/tcp\",\"address\":\"10.0.0.2\","
		 "\"wieght\":3}",
		 "unknown argument \"wieght\""},
		{"prog show takes nothing", "{\"cmd\":\"prog show\",\"vip\":\"10.9.9.9:80/tcp\"}",
		 "unknown argument \"vip\""},
		{"extra words", "{\"cmd\":\"vip show me everything\"}",
		 "unknown command \"vip show me everything\""},
		{"two spaces", "{\"cmd\":\"vip  show\"}", "unknown command"},
		{"leading space", "{\"cmd\":\" vip show\"}", "unknown command"},
		{"trailing space", "{\"cmd\":\"vip show \"}", "unknown command"},
		{"tab", "{\"cmd\":\"vip\\tshow\"}", "unknown command"},
		{"upper case", "{\"cmd\":\"VIP SHOW\"}", "unknown command"},
		{"one word", "{\"cmd\":\"vip\"}", "unknown command"},
		{"cmd 5", "{\"cmd\":5}", "\"cmd\" string"},
		{"no cmd", "{\"vip\":\"10.9.9.9:80/tcp\"}", "\"cmd\" string"},
		{"an array", "[\"vip show\"]", "JSON object"},
		{"a string", "\"vip show\"", "JSON object"},
		{"missing vip", "{\"cmd\":\"vip add\"}", "missing \"vip\""},
		{"unknown vip", "{\"cmd\":\"vip show\",\"vip\":\"10.9.9.9:80/tcp\"}",
		 "unknown vip 10.9.9.9:80/tcp"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!xt_row("%s", cases[i].desc))
			continue;
		refused(cases[i].line, cases[i].want);
	}
	xt_row_end();
	ASSERT_EQ(d.cfg.nvips, 0, "nothing was added");
}

/* A string with a NUL byte (control.c's parser refuses \u0000; xlbd_handle does too). */
static void test_nul_bytes(void)
{
	json_t *req = json_pack("{s:s%}", "cmd", "vip show\0 me", (size_t)12), *r;

	r = xlbd_handle(&d, req, 0, 0);
	if (ASSERT_TRUE(r != NULL, "an answer"))
		ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")), "unknown command",
				  "\"vip show\\0 me\" is not vip show");
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s, s:s%}", "cmd", "vip show", "vip", "10.9.9.9:80/tcp\0x", (size_t)17);
	r = xlbd_handle(&d, req, 0, 0);
	if (ASSERT_TRUE(r != NULL, "an answer"))
		ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")),
				  "\"vip\" must not contain a NUL byte", "vip with a NUL");
	json_decref(r);
	json_decref(req);
}

/* An error quoting a long request is cut at a character, so it is
 * still valid UTF-8 and the request still gets its answer: cut by error_reply (a long cmd) or
 * by the module that wrote the message (explain.c's, quoting the client; the fuzzer found it). */
static void test_long_error_is_answered(void)
{
	static const char *const where[] = {"{\"cmd\":\"",
					    "{\"cmd\":\"flow explain\",\"vip\":\"10.9.0.1:80/tcp\","
					    "\"client\":\""};
	static const char *const want[] = {"unknown command", "client"};
	char line[2048], *p = line;

	for (size_t w = 0; w < 2; w++) {
		for (size_t lead = 0; lead < 4; lead++) {
			if (!xt_row("%s, cut after %zu ASCII bytes", want[w], lead))
				continue;
			p = line + sprintf(line, "%s%.*s", where[w], (int)lead, "xxx");
			for (int i = 0; i < 300; i++)
				p += sprintf(p, "%s", i % 2 ? "\xc3\xa9" : "\xe2\x82\xac");
			strcpy(p, "\"}");
			refused(line, want[w]);
		}
	}
}

/*
 * With a bad fwd, xlbd once freed the new config and then sched parsed into its
 * freed VIP to choose the message (a heap use-after-free that ASan reports: `make sanitize`).
 * Now: the answer names the bad forwarding mode and the config is untouched.
 */
static void test_bad_fwd_after_sched(void)
{
	static const char *const lines[] = {
		"{\"cmd\":\"vip add\",\"vip\":\"10.9.9.9:80/tcp\",\"sched\":\"rr\",\"fwd\":\"x\"}",
		"{\"cmd\":\"vip set\",\"vip\":\"10.8.8.8:80/tcp\",\"sched\":\"rr\",\"fwd\":\"x\"}",
		"{\"cmd\":\"vip add\",\"vip\":\"10.9.9.9:80/tcp\",\"sched\":\"x\",\"fwd\":\"x\"}",
		"{\"cmd\":\"vip set\",\"vip\":\"10.8.8.8:80/tcp\",\"sched\":\"rr\",\"fwd\":\"x\","
		"\"check\":{\"kind\":\"tcp\"}}",
	};
	static const char *const want[] = {"forwarding mode \"x\"", "forwarding mode \"x\"",
					   "scheduler \"x\"", "forwarding mode \"x\""};

	d.cfg.vips = calloc(1, sizeof(*d.cfg.vips));
	if (!ASSERT_TRUE(d.cfg.vips != NULL, "calloc"))
		return;
	d.cfg.nvips = 1;
	xlb_parse_vip("10.8.8.8:80/tcp", &d.cfg.vips[0].key, NULL, 0);
	d.cfg.vips[0].id = 1;
	xlbd_check_defaults(&d.cfg.vips[0].check);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!xt_row("%s", lines[i]))
			continue;
		refused(lines[i], want[i]);
		ASSERT_EQ(d.cfg.nvips, 1, "no vip added");
		ASSERT_EQ(d.cfg.vips[0].sched, XLB_SCHED_MAGLEV, "the vip's scheduler unchanged");
		ASSERT_EQ(d.cfg.vips[0].check.kind, XLB_CHECK_NONE, "its check unchanged");
	}
	xt_row_end();
	xlbd_config_free(&d.cfg);
}

/* Duplicate keys: refused by the control socket's parser (control.c), naming the key. */
static void test_duplicate_keys_on_the_socket(void)
{
	static const char req[] = "{\"cmd\":\"vip show\",\"vip\":\"10.9.9.9:80/tcp\","
				  "\"vip\":\"10.9.9.8:80/tcp\"}\n";
	char dir[] = "/tmp/xlb-test-commands-XXXXXX", path[64], answer[512] = "";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t got = 0;
	int fd;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/sock", dir);
	d.socket_path = path;
	d.base = event_base_new();
	if (!ASSERT_OK(xlbd_control_open(&d), "control socket"))
		goto out;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), "connect") ||
	    !ASSERT_EQ(write(fd, req, strlen(req)), strlen(req), "write"))
		goto close;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 1000 && !memchr(answer, '\n', got); i++) {
		ssize_t n;

		event_base_loop(d.base, EVLOOP_NONBLOCK);
		n = read(fd, answer + got, sizeof(answer) - 1 - got);
		if (n > 0)
			got += n;
		else
			usleep(1000);
	}
	answer[got] = '\0';
	ASSERT_HAS_SUBSTR(answer, "\"ok\":false", "refused");
	ASSERT_HAS_SUBSTR(answer, "duplicate object key", "says why");
	ASSERT_HAS_SUBSTR(answer, "vip", "names the key");
close:
	close(fd);
	/* xlbd frees the connection when it sees the close. */
	for (int i = 0; i < 20; i++)
		event_base_loop(d.base, EVLOOP_NONBLOCK), usleep(1000);
	xlbd_control_close(&d);
out:
	event_base_free(d.base);
	d.base = NULL;
	rmdir(dir);
}

int main(void)
{
	RUN_TEST(test_strict_members);
	RUN_TEST(test_nul_bytes);
	RUN_TEST(test_long_error_is_answered);
	RUN_TEST(test_bad_fwd_after_sched);
	RUN_TEST(test_duplicate_keys_on_the_socket);
	return xt_finish();
}
