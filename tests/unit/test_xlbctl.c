/* test_xlbctl.c - unit tests of xlbctl: grammar to request, answers to text/JSON, ctl_client framing. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ctl_client.h"
#include "grammar.h"
#include "output.h"
#include "xlbctl.h"

#define MAX_ARGS 32

/* A command line split on spaces, with argv[0] = "xlbctl" (no test word holds a space). */
struct cmdline {
	char buf[512];
	char *argv[MAX_ARGS];
	int argc;
};

static void split(struct cmdline *c, const char *line)
{
	char *save = NULL, *w;

	snprintf(c->buf, sizeof(c->buf), "%s", line);
	c->argv[0] = "xlbctl";
	c->argc = 1;
	for (w = strtok_r(c->buf, " ", &save); w && c->argc < MAX_ARGS - 1;
	     w = strtok_r(NULL, " ", &save))
		c->argv[c->argc++] = w;
	c->argv[c->argc] = NULL;
}

/* cmd->opts.socket points into argv, as into main's: the words outlive the command. */
static int parse_line(const char *line, struct xlbctl_cmd *cmd, char *err, size_t errlen)
{
	static struct cmdline c;

	split(&c, line);
	return xlbctl_parse(c.argc, c.argv, cmd, err, errlen);
}

/* One line, printable ASCII: what a user reads, and what a JSON string can carry as is. */
static bool one_line(const char *msg, const char *label)
{
	size_t i, len = strlen(msg);

	if (!len)
		return xt_fail(__FILE__, __LINE__, "%s: empty message", label);
	for (i = 0; i < len; i++)
		if (msg[i] < 0x20 || msg[i] > 0x7e)
			return xt_fail(__FILE__, __LINE__, "%s: byte %zu of '%s' is not printable",
				       label, i, msg);
	return true;
}

static bool str_eq(const char *got, const char *want, const char *label)
{
	if (got && !strcmp(got, want))
		return true;
	return xt_fail(__FILE__, __LINE__, "%s:\n--- got:\n%s\n--- want:\n%s", label,
		       got ? got : "(null)", want);
}

/* --- grammar: argv -> request ------------------------------------------------------------ */

static void test_parse_requests(void)
{
	static const struct {
		const char *line;
		const char *req; /* the exact request, compared as JSON */
	} cases[] = {
		/* The examples of the issue. */
		{"vip add 10.0.0.10:80/tcp", "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\"}"},
		{"vip add [2001:db8::10]:443/tcp",
		 "{\"cmd\":\"vip add\",\"vip\":\"[2001:db8::10]:443/tcp\"}"},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 3",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"weight\":3}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 drain",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"drain\"}"},
		{"backend del 10.0.0.10:80/tcp 10.0.1.2",
		 "{\"cmd\":\"backend del\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\"}"},
		{"vip show", "{\"cmd\":\"vip show\"}"},
		{"-j vip show", "{\"cmd\":\"vip show\"}"},
		{"stats", "{\"cmd\":\"stats show\"}"},
		/* vip */
		{"vip", "{\"cmd\":\"vip show\"}"},
		{"vip sh", "{\"cmd\":\"vip show\"}"},
		{"vip show 10.0.0.10:80/tcp",
		 "{\"cmd\":\"vip show\",\"vip\":\"10.0.0.10:80/tcp\"}"},
		{"vip add 10.0.0.10:80/tcp sched maglev fwd dsr-l2",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"maglev\","
		 "\"fwd\":\"dsr-l2\"}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 check tcp port 8443 interval 2s",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"check\":{\"kind\":\"tcp\",\"port\":8443,\"interval_ms\":2000}}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 check-default",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"check\":null}"},
		{"vip add 10.0.0.10:80/tcp sched wrr",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"wrr\"}"},
		{"vip set 10.0.0.10:80/tcp sched least-conn",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"least-conn\"}"},
		{"vip add 10.0.0.10:80/tcp sched source-hash hash-dport on",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"source-hash\","
		 "\"hash_dport\":true}"},
		{"vip set 10.0.0.10:80/tcp hash-dport off",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"hash_dport\":false}"},
		{"vip add 10.0.0.10:53/udp fwd dsr-l2 sched maglev",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:53/udp\",\"fwd\":\"dsr-l2\","
		 "\"sched\":\"maglev\"}"},
		/* s and f are ambiguous since the check settings (status, fall): sc, fw are not. */
		{"vip a 10.0.0.10:80/tcp sc maglev fw dsr-l2",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"maglev\","
		 "\"fwd\":\"dsr-l2\"}"},
		/* The canonical spelling goes out, whatever the user typed. */
		{"vip add [2001:DB8:0:0::10]:443/TCP",
		 "{\"cmd\":\"vip add\",\"vip\":\"[2001:db8::10]:443/tcp\"}"},
		{"vip set 10.0.0.10:80/tcp sched maglev",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"maglev\"}"},
		{"vip set 10.0.0.10:80/tcp fwd dsr-l2",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"fwd\":\"dsr-l2\"}"},
		{"vip del 10.0.0.10:80/tcp", "{\"cmd\":\"vip del\",\"vip\":\"10.0.0.10:80/tcp\"}"},
		{"v d [2001:db8::10]:443/udp",
		 "{\"cmd\":\"vip del\",\"vip\":\"[2001:db8::10]:443/udp\"}"},
		/* vip: health checks, the example first */
		{"vip set 10.0.0.10:80/tcp check http path /healthz interval 200ms fall 3",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"http\","
		 "\"path\":\"/healthz\",\"interval_ms\":200,\"fall\":3}}"},
		{"vip add 10.0.0.10:80/tcp check tcp",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"tcp\"}}"},
		{"vip add 10.0.0.10:80/tcp sched maglev fwd dsr-l2 check http path /h "
		 "host www.example.com status 200 interval 2s timeout 500ms rise 4 fall 5 port "
		 "8080",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\",\"sched\":\"maglev\","
		 "\"fwd\":\"dsr-l2\",\"check\":{\"kind\":\"http\",\"path\":\"/h\","
		 "\"host\":\"www.example.com\",\"status_lo\":200,\"status_hi\":200,"
		 "\"interval_ms\":2000,\"timeout_ms\":500,\"rise\":4,\"fall\":5,\"port\":8080}}"},
		{"vip add 10.0.0.10:53/udp check udp payload ping port 65535",
		 "{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:53/udp\",\"check\":{\"kind\":\"udp\","
		 "\"payload\":\"ping\",\"port\":65535}}"},
		/* Settings without check KIND: only they go out, for xlbd to merge. */
		{"vip set 10.0.0.10:80/tcp interval 500ms",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\","
		 "\"check\":{\"interval_ms\":500}}"},
		{"vip set 10.0.0.10:80/tcp status 200-299 sched maglev",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"status_lo\":200,"
		 "\"status_hi\":299},\"sched\":\"maglev\"}"},
		{"vip set 10.0.0.10:80/tcp backoff 1s backoff-max 2m slow-start 0 outlier on "
		 "outlier-rate 20",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"backoff_ms\":1000,"
		 "\"backoff_max_ms\":120000,\"slow_start_ms\":0,\"outlier\":true,"
		 "\"outlier_rate\":20}}"},
		{"vip set 10.0.0.10:80/tcp slow-start 0ms outlier off",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"slow_start_ms\":0,"
		 "\"outlier\":false}}"},
		{"vip set 10.0.0.10:80/tcp check none",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\","
		 "\"check\":{\"kind\":\"none\"}}"},
		{"vip set 10.0.0.10:80/tcp check tcp outlier on",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"tcp\","
		 "\"outlier\":true}}"},
		/* Every unit, and the ends of the ranges. */
		{"vip set 10.0.0.10:80/tcp interval 60m timeout 3599999ms",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\","
		 "\"check\":{\"interval_ms\":3600000,"
		 "\"timeout_ms\":3599999}}"},
		{"vip set 10.0.0.10:80/tcp interval 10ms timeout 5ms rise 100 fall 1 "
		 "outlier-rate 1000000",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"interval_ms\":10,"
		 "\"timeout_ms\":5,\"rise\":100,\"fall\":1,\"outlier_rate\":1000000}}"},
		{"vip set 10.0.0.10:80/tcp status 100-599 port 1",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"status_lo\":100,"
		 "\"status_hi\":599,\"port\":1}}"},
		/* Prefixes: an exact keyword wins over the longer ones it starts (backoff, outlier). */
		{"v se 10.0.0.10:80/tcp c http i 200ms fa 3 ti 100ms pat /x ho h st 204",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"http\","
		 "\"interval_ms\":200,\"fall\":3,\"timeout_ms\":100,\"path\":\"/x\",\"host\":\"h\","
		 "\"status_lo\":204,\"status_hi\":204}}"},
		{"vip set 10.0.0.10:80/tcp backoff 2s backoff- 4s",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"backoff_ms\":2000,"
		 "\"backoff_max_ms\":4000}}"},
		{"vip set 10.0.0.10:80/tcp backoff-max 4s",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\","
		 "\"check\":{\"backoff_max_ms\":4000}}"},
		{"vip set 10.0.0.10:80/tcp c tcp outlier on outlier-r 9",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"tcp\","
		 "\"outlier\":true,\"outlier_rate\":9}}"},
		{"vip set 10.0.0.10:80/tcp sl 1m r 1 po 81 pay x",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\","
		 "\"check\":{\"slow_start_ms\":60000,"
		 "\"rise\":1,\"port\":81,\"payload\":\"x\"}}"},
		/* backend */
		{"b a 10.0.0.10:80/tcp 10.0.1.2 w 3",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"weight\":3}"},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\"}"},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 1",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"weight\":1}"},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 1000",
		 "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"weight\":1000}"},
		{"backend add [2001:db8::10]:443/tcp [2001:DB8::0002]",
		 "{\"cmd\":\"backend add\",\"vip\":\"[2001:db8::10]:443/tcp\","
		 "\"address\":\"2001:db8::2\"}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 undrain",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"up\"}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 weight 7",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"weight\":7}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 weight 7 drain",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"weight\":7,\"admin\":\"drain\"}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 disable",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"disabled\"}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 enable",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"up\"}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 dis weight 9",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"disabled\",\"weight\":9}"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 e",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"up\"}"},
		{"ba se 10.0.0.10:80/tcp 10.0.1.2 u",
		 "{\"cmd\":\"backend set\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"admin\":\"up\"}"},
		{"backend", "{\"cmd\":\"backend show\"}"},
		{"backend show", "{\"cmd\":\"backend show\"}"},
		{"backend show 10.0.0.10:80/tcp",
		 "{\"cmd\":\"backend show\",\"vip\":\"10.0.0.10:80/tcp\"}"},
		/* stats, prog */
		{"stats show", "{\"cmd\":\"stats show\"}"},
		{"stats vip 10.0.0.10:80/tcp",
		 "{\"cmd\":\"stats show\",\"vip\":\"10.0.0.10:80/tcp\"}"},
		{"st sh v 10.0.0.10:80/tcp",
		 "{\"cmd\":\"stats show\",\"vip\":\"10.0.0.10:80/tcp\"}"},
		{"prog", "{\"cmd\":\"prog show\"}"},
		{"prog show", "{\"cmd\":\"prog show\"}"},
		{"prog detach", "{\"cmd\":\"prog detach\"}"},
		{"p d", "{\"cmd\":\"prog detach\"}"},
		/* options */
		{"-p -s /tmp/x.sock vip", "{\"cmd\":\"vip show\"}"},
		{"--json --socket=/tmp/x.sock -- vip", "{\"cmd\":\"vip show\"}"},
	};
	char err[XLBCTL_ERR_MAX], *got;
	struct xlbctl_cmd cmd = {0};
	json_t *want;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!ASSERT_OK(parse_line(cases[i].line, &cmd, err, sizeof(err)), cases[i].line)) {
			fprintf(stderr, "    %s\n", err);
			xlbctl_cmd_free(&cmd);
			continue;
		}
		want = json_loads(cases[i].req, 0, NULL);
		ASSERT_TRUE(want != NULL, "expected request is JSON");
		if (!json_equal(cmd.req, want)) {
			got = json_dumps(cmd.req, JSON_COMPACT);
			xt_fail(__FILE__, __LINE__, "'%s': request %s, want %s", cases[i].line,
				got ? got : "(null)", cases[i].req);
			free(got);
		}
		ASSERT_TRUE(cmd.usage == NULL, cases[i].line);
		json_decref(want);
		xlbctl_cmd_free(&cmd);
	}
}

/* Field order goes out as typed, in one line: xlbd reads newline-delimited JSON. */
static void test_request_text(void)
{
	char err[XLBCTL_ERR_MAX], *text;
	struct xlbctl_cmd cmd = {0};

	if (!ASSERT_OK(parse_line("backend add 10.0.0.10:80/tcp 10.0.1.2 weight 3", &cmd, err,
				  sizeof(err)),
		       "parse"))
		return;
	text = json_dumps(cmd.req, JSON_COMPACT);
	str_eq(text,
	       "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
	       "\"weight\":3}",
	       "compact request");
	free(text);
	xlbctl_cmd_free(&cmd);

	/* The example: the check settings in one object, in the order typed. */
	if (!ASSERT_OK(parse_line("vip set 10.0.0.10:80/tcp check http path /healthz interval "
				  "200ms fall 3",
				  &cmd, err, sizeof(err)),
		       "parse"))
		return;
	text = json_dumps(cmd.req, JSON_COMPACT);
	str_eq(text,
	       "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"http\","
	       "\"path\":\"/healthz\",\"interval_ms\":200,\"fall\":3}}",
	       "issue example");
	free(text);
	xlbctl_cmd_free(&cmd);
}

static void test_parse_options(void)
{
	static const struct {
		const char *line;
		bool json, pretty;
		const char *socket;
	} cases[] = {
		{"vip", false, false, NULL},
		{"-j vip", true, false, NULL},
		{"-json vip", true, false, NULL},
		{"--json vip", true, false, NULL},
		{"--js vip", true, false, NULL},
		{"-p vip", true, true, NULL},
		{"--pretty vip", true, true, NULL},
		{"-j -p vip", true, true, NULL},
		{"-s /tmp/a.sock vip", false, false, "/tmp/a.sock"},
		{"--socket /tmp/a.sock vip", false, false, "/tmp/a.sock"},
		{"--socket=/tmp/b.sock -j vip", true, false, "/tmp/b.sock"},
		{"-so=/tmp/c.sock vip", false, false, "/tmp/c.sock"},
	};
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd = {0};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!ASSERT_OK(parse_line(cases[i].line, &cmd, err, sizeof(err)), cases[i].line)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		ASSERT_EQ(cmd.opts.json, cases[i].json, cases[i].line);
		ASSERT_EQ(cmd.opts.pretty, cases[i].pretty, cases[i].line);
		if (cases[i].socket)
			str_eq(cmd.opts.socket, cases[i].socket, cases[i].line);
		else
			ASSERT_TRUE(cmd.opts.socket == NULL, cases[i].line);
		xlbctl_cmd_free(&cmd);
	}
}

static char *capture_usage(xlbctl_usage_fn usage)
{
	size_t len;
	char *buf;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	usage(f);
	fclose(f);
	return buf;
}

static void test_parse_help(void)
{
	static const struct {
		const char *line;
		const char *want; /* the start of the usage printed */
	} cases[] = {
		{"help", "Usage: xlbctl [ OPTIONS ] OBJECT { COMMAND | help }\n"},
		{"h", "Usage: xlbctl [ OPTIONS ] OBJECT { COMMAND | help }\n"},
		{"-h", "Usage: xlbctl [ OPTIONS ] OBJECT { COMMAND | help }\n"},
		{"--help", "Usage: xlbctl [ OPTIONS ] OBJECT { COMMAND | help }\n"},
		{"-j help", "Usage: xlbctl [ OPTIONS ] OBJECT { COMMAND | help }\n"},
		{"help vip", "Usage: xlbctl vip add VIP"},
		{"-h vip", "Usage: xlbctl vip add VIP"},
		{"vip help", "Usage: xlbctl vip add VIP"},
		{"vip h", "Usage: xlbctl vip add VIP"},
		{"vip add help", "Usage: xlbctl vip add VIP"},
		{"backend help", "Usage: xlbctl backend add VIP ADDRESS [ weight WEIGHT ]\n"},
		{"b set help", "Usage: xlbctl backend add VIP ADDRESS"},
		{"stats help",
		 "Usage: xlbctl stats [ show ] [ vip VIP ] [ watch | --watch ] [ count N ]\n"},
		{"prog help", "Usage: xlbctl prog [ show ]\n"},
	};
	char err[XLBCTL_ERR_MAX], *text;
	struct xlbctl_cmd cmd = {0};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!ASSERT_OK(parse_line(cases[i].line, &cmd, err, sizeof(err)), cases[i].line)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		ASSERT_TRUE(cmd.req == NULL, cases[i].line);
		if (!ASSERT_TRUE(cmd.usage != NULL, cases[i].line))
			continue;
		text = capture_usage(cmd.usage);
		if (!text || strncmp(text, cases[i].want, strlen(cases[i].want)))
			xt_fail(__FILE__, __LINE__, "'%s': usage starts '%.60s', want '%s'",
				cases[i].line, text ? text : "(null)", cases[i].want);
		free(text);
		xlbctl_cmd_free(&cmd);
	}

	/* The scheduler list comes from the table in cmd_vip.c. */
	text = capture_usage(xlbctl_obj_vip.usage);
	ASSERT_TRUE(
		text && strstr(text, "SCHED := { maglev | source-hash | rr | wrr | least-conn }"),
		"SCHED alternatives");
	ASSERT_TRUE(text && strstr(text, "FWD := { dsr-l2 }"), "FWD alternatives");
	ASSERT_TRUE(text && strstr(text, "KIND := { none | tcp | http | udp }"),
		    "KIND alternatives");
	ASSERT_TRUE(text && strstr(text, "outlier-rate N }"), "CHECKOPT alternatives");
	free(text);
	text = capture_usage(xlbctl_obj_backend.usage);
	ASSERT_TRUE(text && strstr(text, "ADMIN := { drain | undrain | disable | enable }"),
		    "ADMIN alternatives");
	free(text);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *line;
		const char *want[3]; /* substrings of the message */
	} cases[] = {
		/* addresses, ports, protocols (addr.h words them) */
		{"vip add 10.0.0.256:80/tcp", {"'10.0.0.256'"}},
		{"vip add 10.0.0.10:0/tcp", {"bad port '0'"}},
		{"vip add 10.0.0.10:65536/tcp", {"bad port '65536'"}},
		{"vip add 10.0.0.10:80/sctp", {"bad protocol 'sctp'"}},
		{"vip add 10.0.0.10:80", {"missing protocol", "'10.0.0.10:80'"}},
		{"vip add 2001:db8::10:443/tcp", {"brackets"}},
		{"vip add 0.0.0.0:80/tcp", {"unspecified"}},
		{"vip add", {"missing VIP", "'vip add'"}},
		{"vip del", {"missing VIP", "'vip del'"}},
		{"vip set", {"missing VIP", "'vip set'"}},
		/* objects, verbs, keywords */
		{"frob", {"unknown object 'frob'", "vip, backend, stats, prog, flow or help"}},
		{"vip frob", {"unknown command 'frob' for 'vip'", "add, del, set, show or help"}},
		{"vip 10.0.0.10:80/tcp", {"unknown command '10.0.0.10:80/tcp'"}},
		{"vip s", {"ambiguous command 's' for 'vip'", "set or show"}},
		{"-j vip s", {"ambiguous command 's'"}},
		{"prog frob", {"unknown command 'frob' for 'prog'", "show, detach or help"}},
		{"vip add 10.0.0.10:80/tcp color red",
		 {"unknown keyword 'color' for 'vip add'", "sched, fwd, hash-dport, check, port"}},
		{"vip add 10.0.0.10:80/tcp sched", {"missing value after 'sched'"}},
		{"vip add 10.0.0.10:80/tcp fwd", {"missing value after 'fwd'"}},
		{"vip add 10.0.0.10:80/tcp sched random",
		 {"unknown scheduler 'random'", "least-conn"}},
		{"vip add 10.0.0.10:80/tcp sched mag", {"unknown scheduler 'mag'"}},
		{"vip add 10.0.0.10:80/tcp fwd ipip", {"unknown forwarding mode 'ipip'", "dsr-l2"}},
		{"vip add 10.0.0.10:80/tcp sched maglev sched maglev", {"'sched' given twice"}},
		{"vip set 10.0.0.10:80/tcp", {"nothing to set", "check KIND"}},
		/* health checks: keywords */
		{"vip a 10.0.0.10:80/tcp s maglev",
		 {"ambiguous keyword 's' for 'vip add'", "sched, status or slow-start"}},
		{"vip set 10.0.0.10:80/tcp f 3", {"ambiguous keyword 'f'", "fwd or fall"}},
		{"vip set 10.0.0.10:80/tcp p 80",
		 {"ambiguous keyword 'p'", "port, path or payload"}},
		{"vip set 10.0.0.10:80/tcp out on",
		 {"ambiguous keyword 'out'", "outlier or outlier-rate"}},
		{"vip set 10.0.0.10:80/tcp check http frobnicate 3",
		 {"unknown keyword 'frobnicate' for 'vip set'", "outlier-rate"}},
		{"vip set 10.0.0.10:80/tcp backoffmax 1s", {"unknown keyword 'backoffmax'"}},
		{"vip set 10.0.0.10:80/tcp interval 1s interval 2s", {"'interval' given twice"}},
		{"vip set 10.0.0.10:80/tcp check http check tcp", {"'check' given twice"}},
		{"vip set 10.0.0.10:80/tcp backoff-max 1s backoff- 2s",
		 {"'backoff-max' given twice"}},
		/* kinds */
		{"vip set 10.0.0.10:80/tcp check grpc",
		 {"unknown check kind 'grpc' after 'check'", "none, tcp, http or udp"}},
		{"vip set 10.0.0.10:80/tcp check HTTP", {"unknown check kind 'HTTP'"}},
		{"vip set 10.0.0.10:80/tcp check ht", {"unknown check kind 'ht'"}},
		{"vip set 10.0.0.10:80/tcp check", {"missing value after 'check'"}},
		/* durations */
		{"vip set 10.0.0.10:80/tcp interval 200", {"bad interval '200'", "unit", "200ms"}},
		{"vip set 10.0.0.10:80/tcp check http path /healthz interval 200 fall 3",
		 {"bad interval '200'", "200ms"}},
		{"vip set 10.0.0.10:80/tcp timeout 1h", {"bad timeout '1h'", "ms, s or m"}},
		{"vip set 10.0.0.10:80/tcp interval 1.5s", {"bad interval '1.5s'", "1500ms"}},
		{"vip set 10.0.0.10:80/tcp interval 1S", {"bad interval '1S'"}},
		{"vip set 10.0.0.10:80/tcp interval -1s", {"bad interval '-1s'"}},
		{"vip set 10.0.0.10:80/tcp interval ms", {"bad interval 'ms'"}},
		{"vip set 10.0.0.10:80/tcp interval 9ms", {"bad interval '9ms'", "10ms-60m"}},
		{"vip set 10.0.0.10:80/tcp interval 61m", {"bad interval '61m'", "10ms-60m"}},
		{"vip set 10.0.0.10:80/tcp interval 3600001ms", {"bad interval '3600001ms'"}},
		{"vip set 10.0.0.10:80/tcp interval 99999999999999999999m",
		 {"bad interval '99999999999999999999m'"}},
		{"vip set 10.0.0.10:80/tcp interval 0", {"bad interval '0'", "10ms-60m"}},
		{"vip set 10.0.0.10:80/tcp timeout 4ms", {"bad timeout '4ms'", "5ms-60m"}},
		{"vip set 10.0.0.10:80/tcp backoff 0", {"bad backoff '0'"}},
		{"vip set 10.0.0.10:80/tcp backoff-max 2h", {"bad backoff-max '2h'"}},
		{"vip set 10.0.0.10:80/tcp slow-start 61m", {"bad slow-start '61m'", "0-60m"}},
		{"vip set 10.0.0.10:80/tcp slow-start 10", {"bad slow-start '10'", "10ms"}},
		{"vip set 10.0.0.10:80/tcp interval 0200ms",
		 {"bad interval '0200ms'", "write 200ms"}},
		{"vip set 10.0.0.10:80/tcp interval", {"missing value after 'interval'"}},
		/* numbers */
		{"vip set 10.0.0.10:80/tcp rise 0", {"bad rise '0'", "1-100"}},
		{"vip set 10.0.0.10:80/tcp fall 101", {"bad fall '101'", "1-100"}},
		{"vip set 10.0.0.10:80/tcp rise two", {"bad rise 'two'"}},
		{"vip set 10.0.0.10:80/tcp port 0", {"bad port '0'", "1-65535"}},
		{"vip set 10.0.0.10:80/tcp port 65536", {"bad port '65536'"}},
		{"vip set 10.0.0.10:80/tcp port 080", {"bad port '080'", "write 80"}},
		{"vip set 10.0.0.10:80/tcp outlier-rate 0", {"bad outlier-rate '0'", "1-1000000"}},
		{"vip set 10.0.0.10:80/tcp outlier maybe",
		 {"unknown value 'maybe' after 'outlier'", "on or off"}},
		{"vip set 10.0.0.10:80/tcp outlier true", {"unknown value 'true' after 'outlier'"}},
		/* http */
		{"vip set 10.0.0.10:80/tcp status 99", {"bad status '99'", "100-599"}},
		{"vip set 10.0.0.10:80/tcp status 300-200", {"bad status '300-200'", "empty"}},
		{"vip set 10.0.0.10:80/tcp status 600", {"bad status '600'"}},
		{"vip set 10.0.0.10:80/tcp status 200-", {"bad status '200-'"}},
		{"vip set 10.0.0.10:80/tcp status -200", {"bad status '-200'"}},
		{"vip set 10.0.0.10:80/tcp status 2xx", {"bad status '2xx'"}},
		{"vip set 10.0.0.10:80/tcp status 200-299-300", {"bad status '200-299-300'"}},
		{"vip set 10.0.0.10:80/tcp status 99999999999999999999", {"bad status '9999"}},
		{"vip set 10.0.0.10:80/tcp path healthz", {"bad path 'healthz'", "start with /"}},
		/* what xlbd would refuse of the settings together */
		{"vip set 10.0.0.10:80/tcp timeout 1s interval 1s",
		 {"timeout 1s must be shorter than interval 1s"}},
		{"vip set 10.0.0.10:80/tcp interval 200ms timeout 500ms",
		 {"timeout 500ms must be shorter than interval 200ms"}},
		{"vip set 10.0.0.10:80/tcp backoff 1m backoff-max 30s",
		 {"backoff 1m exceeds backoff-max 30s"}},
		{"vip set 10.0.0.10:80/tcp check none outlier on",
		 {"'outlier on' needs a health check"}},
		{"vip set 10.0.0.10:80/tcp check tcp path /x",
		 {"'path' is a setting of http checks, not of check tcp"}},
		{"vip set 10.0.0.10:80/tcp status 200 check udp",
		 {"'status' is a setting of http"}},
		{"vip set 10.0.0.10:80/tcp check http payload x",
		 {"'payload' is a setting of udp checks, not of check http"}},
		{"vip add 10.0.0.10:80/tcp check none host h", {"'host' is a setting of http"}},
		{"vip del 10.0.0.10:80/tcp extra", {"extra argument 'extra' for 'vip del'"}},
		{"vip show 10.0.0.10:80/tcp 10.0.0.11:80/tcp",
		 {"extra argument '10.0.0.11:80/tcp'"}},
		/* weights */
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 0", {"bad weight '0'", "1-1000"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 1001", {"bad weight '1001'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight abc", {"bad weight 'abc'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight -1", {"bad weight '-1'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight +5", {"bad weight '+5'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 3x", {"bad weight '3x'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 0x10", {"bad weight '0x10'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 010",
		 {"bad weight '010'", "write 10"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight 99999999999999999999",
		 {"bad weight '99999999999999999999'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 weight", {"missing value after 'weight'"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 weight 0", {"bad weight '0'"}},
		/* backends */
		{"backend add 10.0.0.10:80/tcp", {"missing backend ADDRESS", "'backend add'"}},
		{"backend add", {"missing VIP", "'backend add'"}},
		{"backend del 10.0.0.10:80/tcp", {"missing backend ADDRESS", "'backend del'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.256", {"bad address '10.0.1.256'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2:80", {"bad address '10.0.1.2:80'"}},
		{"backend add 10.0.0.10:80/tcp 2001:db8::2", {"'2001:db8::2' is IPv6", "IPv4"}},
		{"backend add [2001:db8::10]:443/tcp 10.0.1.2", {"'10.0.1.2' is IPv4", "IPv6"}},
		{"backend del [2001:db8::10]:443/tcp 10.0.1.2", {"'10.0.1.2' is IPv4"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 drain", {"unknown keyword 'drain'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 3", {"unknown keyword '3'"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2", {"nothing to set"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 drain undrain", {"'drain' and 'undrain'"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 drain drain", {"'drain' given twice"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 weight 2 weight 3",
		 {"'weight' given twice"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 up", {"unknown keyword 'up'"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 drain disable",
		 {"'drain' and 'disable' exclude each other"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 enable undrain",
		 {"'enable' and 'undrain' exclude each other"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 disable weight 2 enable",
		 {"'disable' and 'enable' exclude each other"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 disable disable",
		 {"'disable' given twice"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 d",
		 {"ambiguous keyword 'd'", "drain or disable"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 disabled", {"unknown keyword 'disabled'"}},
		{"backend add 10.0.0.10:80/tcp 10.0.1.2 disable", {"unknown keyword 'disable'"}},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2",
		 {"nothing to set", "enable or check settings"}},
		{"backend del 10.0.0.10:80/tcp 10.0.1.2 weight 3", {"extra argument 'weight'"}},
		{"backend show 10.0.1.2", {"'10.0.1.2'"}},
		/* stats, prog */
		{"stats frob", {"unknown keyword 'frob' for 'stats show'"}},
		{"stats vip", {"missing VIP after 'vip'"}},
		{"stats vip 10.0.0.10:80/tcp extra", {"unknown keyword 'extra' for 'stats show'"}},
		{"stats count 3", {"'count' goes with 'watch'"}},
		{"stats watch watch", {"'watch' given twice"}},
		{"flow explain 10.0.0.1 10.0.0.10:80/tcp", {"bad client '10.0.0.1'"}},
		{"flow explain 10.0.0.1:5 [::1]:80/tcp", {"different address families"}},
		{"flow explain 10.0.0.1:5 10.0.0.10:80/tcp fin", {"unknown packet 'fin'"}},
		{"stats vip 10.0.0.10:80", {"missing protocol"}},
		{"prog detach now", {"extra argument 'now' for 'prog detach'"}},
		{"prog show eth0", {"extra argument 'eth0' for 'prog show'"}},
		/* options and help */
		{"", {"missing OBJECT"}},
		{"-j", {"missing OBJECT"}},
		{"-x vip", {"unknown option '-x'"}},
		{"-jp vip", {"unknown option '-jp'"}},
		{"--frob vip", {"unknown option '--frob'"}},
		{"--json=1 vip", {"option '--json=1' takes no value"}},
		{"-s", {"missing PATH after '-s'"}},
		{"--socket= vip", {"missing PATH after '--socket='"}},
		{"help frob", {"unknown object 'frob'"}},
		{"help vip extra", {"extra argument 'extra' for 'help'"}},
		{"vip help extra", {"extra argument 'extra' for 'vip'"}},
	};
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd = {0};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(err, 0, sizeof(err));
		if (!ASSERT_EQ(parse_line(cases[i].line, &cmd, err, sizeof(err)), -EINVAL,
			       cases[i].line)) {
			xlbctl_cmd_free(&cmd);
			continue;
		}
		ASSERT_TRUE(cmd.req == NULL && cmd.usage == NULL, cases[i].line);
		one_line(err, cases[i].line);
		for (j = 0; j < ARRAY_SIZE(cases[i].want) && cases[i].want[j]; j++)
			if (!strstr(err, cases[i].want[j]))
				xt_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'",
					cases[i].line, err, cases[i].want[j]);
		/* Options seen before the error say how to report it. */
		ASSERT_EQ(cmd.opts.json,
			  !strcmp(cases[i].line, "-j") || !strncmp(cases[i].line, "-j ", 3),
			  cases[i].line);
		xlbctl_cmd_free(&cmd);
	}
}

/* Words that cannot be split on spaces: empty, control bytes, not UTF-8, very long. */
static void test_parse_odd_words(void)
{
	char *empty_vip[] = {"xlbctl", "vip", "add", "", NULL};
	char *empty_verb[] = {"xlbctl", "vip", "", NULL};
	char *empty_weight[] = {"xlbctl",   "backend", "add", "10.0.0.10:80/tcp",
				"10.0.1.2", "weight",  "",    NULL};
	char *control[] = {"xlbctl", "vip", "fr\x1bob", NULL};
	char *latin1[] = {"xlbctl",	      "-j",    "vip",	    "add",
			  "10.0.0.10:80/tcp", "sched", "m\xe4glev", NULL};
	char long_word[300];
	char *longw[] = {"xlbctl", "vip", long_word, NULL};
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd = {0};

	ASSERT_EQ(xlbctl_parse(4, empty_vip, &cmd, err, sizeof(err)), -EINVAL, "empty VIP");
	ASSERT_TRUE(strstr(err, "missing VIP") != NULL, err);
	ASSERT_EQ(xlbctl_parse(3, empty_verb, &cmd, err, sizeof(err)), -EINVAL, "empty verb");
	ASSERT_TRUE(strstr(err, "unknown command ''") != NULL, err);
	ASSERT_EQ(xlbctl_parse(7, empty_weight, &cmd, err, sizeof(err)), -EINVAL, "empty weight");
	ASSERT_TRUE(strstr(err, "bad weight ''") != NULL, err);
	ASSERT_EQ(xlbctl_parse(3, control, &cmd, err, sizeof(err)), -EINVAL, "control byte");
	ASSERT_TRUE(strstr(err, "'fr?ob'") != NULL, err);
	ASSERT_EQ(xlbctl_parse(7, latin1, &cmd, err, sizeof(err)), -EINVAL, "not UTF-8");
	ASSERT_TRUE(strstr(err, "'m?glev'") != NULL, err);
	ASSERT_TRUE(cmd.opts.json, "-j seen before the error");

	memset(long_word, 'x', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	ASSERT_EQ(xlbctl_parse(3, longw, &cmd, err, sizeof(err)), -EINVAL, "long word");
	one_line(err, "long word");
	ASSERT_TRUE(strstr(err, "...'") != NULL, "a long word is cut");
	ASSERT_LE(strlen(err), 200, "message length");
	xlbctl_cmd_free(&cmd);

	/* No error buffer at all: still refused, nothing written. */
	ASSERT_EQ(xlbctl_parse(3, control, &cmd, NULL, 0), -EINVAL, "NULL err");
}

/* The check's texts: words with blanks, empty, control bytes, not ASCII, long. */
static void test_parse_check_texts(void)
{
	static const struct {
		const char *key, *value;
		const char *want; /* the request's check member, or NULL when refused */
		const char *msg;  /* a substring of the message when refused */
	} cases[] = {
		{"host", "", "\"\"", NULL}, /* back to the default: the backend's address */
		{"host", "www.example.com", "\"www.example.com\"", NULL},
		{"host", "a b", NULL, "bad host 'a b': no blanks"},
		{"host", "a\tb", NULL, "bad host 'a?b'"},
		{"path", "/a b", NULL, "bad path '/a b': no blanks or control characters"},
		{"path", "/a%20b?x=1", "\"/a%20b?x=1\"", NULL},
		/* '?' '?' apart: "??'" would be a trigraph. */
		{"path", "/caf\xc3\xa9", NULL, "bad path '/caf?\?'"},
		{"path", "", NULL, "bad path '': must start with /"},
		{"path", "/\r\nX-Injected: 1", NULL, "bad path '/??X-Injected: 1'"},
		{"payload", "hello world", "\"hello world\"", NULL},
		{"payload", "", "\"\"", NULL},
		{"payload", "a\nb", NULL, "bad payload 'a?b': printable ASCII only"},
	};
	char *argv[] = {"xlbctl", "vip", "set", "10.0.0.10:80/tcp", NULL, NULL, NULL};
	char err[XLBCTL_ERR_MAX], longest[129], *got;
	struct xlbctl_cmd cmd = {0};
	json_t *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		argv[4] = (char *)cases[i].key;
		argv[5] = (char *)cases[i].value;
		if (!cases[i].want) {
			ASSERT_EQ(xlbctl_parse(6, argv, &cmd, err, sizeof(err)), -EINVAL,
				  cases[i].value);
			one_line(err, cases[i].value);
			if (!strstr(err, cases[i].msg))
				xt_fail(__FILE__, __LINE__, "%s: message '%s' lacks '%s'",
					cases[i].key, err, cases[i].msg);
			xlbctl_cmd_free(&cmd);
			continue;
		}
		if (!ASSERT_OK(xlbctl_parse(6, argv, &cmd, err, sizeof(err)), cases[i].value)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		v = json_object_get(json_object_get(cmd.req, "check"), cases[i].key);
		got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		str_eq(got, cases[i].want, cases[i].key);
		free(got);
		xlbctl_cmd_free(&cmd);
	}

	/* xlbd keeps 127 characters: that many pass, one more is refused. */
	argv[4] = "path";
	argv[5] = longest;
	memset(longest, 'a', sizeof(longest) - 1);
	longest[0] = '/';
	longest[127] = '\0';
	ASSERT_OK(xlbctl_parse(6, argv, &cmd, err, sizeof(err)), "127 characters");
	xlbctl_cmd_free(&cmd);
	longest[127] = 'a';
	longest[128] = '\0';
	ASSERT_EQ(xlbctl_parse(6, argv, &cmd, err, sizeof(err)), -EINVAL, "128 characters");
	ASSERT_TRUE(strstr(err, "at most 127 characters") != NULL, err);
	one_line(err, "128 characters");
	ASSERT_LE(strlen(err), 200, "message length");
}

static void test_match(void)
{
	static const char *const names[] = {"set", "setup", "show", "sched"};
	char err[256];

	ASSERT_EQ(xlbctl_match("set", names, 4, "word", NULL, err, sizeof(err)), 0,
		  "exact beats prefix");
	ASSERT_EQ(xlbctl_match("setu", names, 4, "word", NULL, err, sizeof(err)), 1, "prefix");
	ASSERT_EQ(xlbctl_match("sh", names, 4, "word", NULL, err, sizeof(err)), 2, "prefix");
	ASSERT_EQ(xlbctl_match("sc", names, 4, "word", NULL, err, sizeof(err)), 3, "prefix");
	ASSERT_EQ(xlbctl_match("s", names, 4, "word", "ctx", err, sizeof(err)), -EINVAL,
		  "ambiguous");
	str_eq(err, "ambiguous word 's' for 'ctx': set, setup, show or sched", "ambiguous text");
	ASSERT_EQ(xlbctl_match("se", names, 4, "word", NULL, err, sizeof(err)), -EINVAL,
		  "ambiguous");
	str_eq(err, "ambiguous word 'se': set or setup", "two candidates");
	ASSERT_EQ(xlbctl_match("x", names, 4, "word", NULL, err, sizeof(err)), -ENOENT, "unknown");
	str_eq(err, "unknown word 'x': expected set, setup, show or sched", "unknown text");
	ASSERT_EQ(xlbctl_match("", names, 4, "word", NULL, err, sizeof(err)), -ENOENT, "empty");
	ASSERT_EQ(xlbctl_match("sets", names, 4, "word", NULL, err, sizeof(err)), -ENOENT,
		  "longer than any name");
	ASSERT_EQ(xlbctl_match("SET", names, 4, "word", NULL, err, sizeof(err)), -ENOENT,
		  "case matters");
}

static void test_parse_duration(void)
{
	static const struct {
		const char *word;
		unsigned long lo, hi, want; /* want: ms; lo > hi marks a refusal */
	} cases[] = {
		{"200ms", 10, 3600000, 200},
		{"1s", 10, 3600000, 1000},
		{"2m", 10, 3600000, 120000},
		{"60m", 10, 3600000, 3600000},
		{"3600s", 10, 3600000, 3600000},
		{"3600000ms", 10, 3600000, 3600000},
		{"10ms", 10, 3600000, 10},
		{"0", 0, 3600000, 0},
		{"0ms", 0, 3600000, 0},
		{"0s", 0, 3600000, 0},
		{"9ms", 10, 1, 0},
		{"61m", 10, 1, 0},
		{"3600001ms", 10, 1, 0},
		{"0", 10, 1, 0},
		{"200", 10, 1, 0},
		{"", 10, 1, 0},
		{"ms", 10, 1, 0},
		{"1h", 10, 1, 0},
		{"1.5s", 10, 1, 0},
		{"1 s", 10, 1, 0},
		{" 1s", 10, 1, 0},
		{"+1s", 10, 1, 0},
		{"1sec", 10, 1, 0},
		{"1mss", 10, 1, 0},
		{"00", 10, 1, 0},
		{"01s", 10, 1, 0},
		{"18446744073709551617ms", 10, 1, 0},
		{"99999999999999999999m", 10, 1, 0},
	};
	char err[256];
	unsigned long ms;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ms = 42;
		if (cases[i].lo <= cases[i].hi) {
			if (ASSERT_OK(xlbctl_parse_duration(cases[i].word, "interval", cases[i].lo,
							    cases[i].hi, &ms, err, sizeof(err)),
				      cases[i].word))
				ASSERT_EQ(ms, cases[i].want, cases[i].word);
			continue;
		}
		ASSERT_EQ(xlbctl_parse_duration(cases[i].word, "interval", 10, 3600000, &ms, err,
						sizeof(err)),
			  -EINVAL, cases[i].word);
		ASSERT_EQ(ms, 42, "untouched on error");
		ASSERT_TRUE(!strncmp(err, "bad interval '", 14), err);
	}

	/* Printed back in the largest unit that divides it: what the parser reads. */
	{
		static const struct {
			unsigned long long ms;
			const char *text;
		} prints[] = {
			{0, "0"},	  {1, "1ms"},	  {200, "200ms"}, {1000, "1s"},
			{1500, "1500ms"}, {90000, "90s"}, {120000, "2m"}, {3600000, "60m"},
		};
		char buf[32];

		for (i = 0; i < ARRAY_SIZE(prints); i++) {
			str_eq(xlbctl_format_duration(prints[i].ms, buf, sizeof(buf)),
			       prints[i].text, prints[i].text);
			if (prints[i].ms && ASSERT_OK(xlbctl_parse_duration(buf, "x", 0, 3600000,
									    &ms, err, sizeof(err)),
						      buf))
				ASSERT_EQ(ms, prints[i].ms, buf);
		}
	}
}

static void test_parse_weight(void)
{
	char err[128];
	int w = 0;

	ASSERT_OK(xlbctl_parse_weight("1", &w, err, sizeof(err)), "1");
	ASSERT_EQ(w, 1, "1");
	ASSERT_OK(xlbctl_parse_weight("1000", &w, err, sizeof(err)), "1000");
	ASSERT_EQ(w, 1000, "1000");
	ASSERT_OK(xlbctl_parse_weight("250", &w, err, sizeof(err)), "250");
	ASSERT_EQ(w, 250, "250");
	w = 42;
	ASSERT_EQ(xlbctl_parse_weight("0", &w, err, sizeof(err)), -EINVAL, "0");
	ASSERT_EQ(xlbctl_parse_weight("1001", &w, err, sizeof(err)), -EINVAL, "1001");
	ASSERT_EQ(xlbctl_parse_weight(" 5", &w, err, sizeof(err)), -EINVAL, "space");
	ASSERT_EQ(xlbctl_parse_weight("5 ", &w, err, sizeof(err)), -EINVAL, "trailing space");
	ASSERT_EQ(xlbctl_parse_weight("1e3", &w, err, sizeof(err)), -EINVAL, "1e3");
	ASSERT_EQ(xlbctl_parse_weight("4294967297", &w, err, sizeof(err)), -EINVAL, "wraps");
	ASSERT_EQ(w, 42, "untouched on error");
}

/* --- output: answers to text and JSON ---------------------------------------------------- */

struct captured {
	int ret;
	char *out, *err;
};

/* Runs xlbctl_print_answer for the command line on answer, capturing both streams. */
static struct captured print_for(const char *line, const char *answer)
{
	struct captured c = {.ret = -1};
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd = {0};
	size_t olen, elen;
	FILE *out, *errf;

	if (parse_line(line, &cmd, err, sizeof(err))) {
		xt_fail(__FILE__, __LINE__, "'%s': %s", line, err);
		return c;
	}
	out = open_memstream(&c.out, &olen);
	errf = open_memstream(&c.err, &elen);
	if (out && errf)
		c.ret = xlbctl_print_answer(&cmd, answer, out, errf);
	if (out)
		fclose(out);
	if (errf)
		fclose(errf);
	xlbctl_cmd_free(&cmd);
	return c;
}

static void captured_free(struct captured *c)
{
	free(c->out);
	free(c->err);
}

static const char vips_answer[] =
	"{\"ok\":true,\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"sched\":\"maglev\","
	"\"fwd\":\"dsr-l2\",\"backends\":3},{\"vip\":\"[2001:db8::10]:443/tcp\",\"id\":2,"
	"\"sched\":\"maglev\",\"fwd\":\"dsr-l2\",\"backends\":0}]}";

static const char backends_answer[] =
	"{\"ok\":true,\"backends\":["
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\",\"id\":7,\"weight\":3,"
	"\"admin\":\"up\",\"mac\":\"02:00:00:00:01:02\",\"state\":\"up\",\"packets\":1234,"
	"\"bytes\":567890,\"new_flows\":12,\"effective_weight\":3},"
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.3\",\"id\":8,\"weight\":1,"
	"\"admin\":\"drain\",\"mac\":null,\"state\":\"down\",\"reason\":\"mac unknown\","
	"\"packets\":0,\"bytes\":0,\"new_flows\":0,\"effective_weight\":0},"
	"{\"vip\":\"[2001:db8::10]:443/tcp\",\"address\":\"2001:db8::2\",\"id\":9,\"weight\":1000,"
	"\"admin\":\"drain\",\"mac\":\"02:00:00:00:01:04\",\"state\":\"draining\",\"packets\":5,"
	"\"bytes\":300,\"new_flows\":1,\"effective_weight\":0}]}";

/* Backends of a VIP with a health check: circuit, health and the last check's result. */
static const char checked_backends_answer[] =
	"{\"ok\":true,\"backends\":["
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\",\"id\":7,\"weight\":10,"
	"\"admin\":\"up\",\"mac\":\"02:00:00:00:01:02\",\"state\":\"up\",\"packets\":1234,"
	"\"bytes\":567890,\"new_flows\":12,\"effective_weight\":4,\"circuit\":\"closed\","
	"\"circuit_for_ms\":12345,\"health\":\"pass\",\"last_check\":{\"ok\":true,\"error\":\"\","
	"\"latency_us\":412,\"age_ms\":150}},"
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.3\",\"id\":8,\"weight\":1,"
	"\"admin\":\"up\",\"mac\":\"02:00:00:00:01:03\",\"state\":\"down\","
	"\"reason\":\"circuit open\",\"packets\":0,\"bytes\":0,\"new_flows\":0,"
	"\"effective_weight\":0,\"circuit\":\"open\",\"circuit_for_ms\":187000,\"health\":\"fail\","
	"\"last_check\":{\"ok\":false,\"error\":\"connect: Connection refused\",\"latency_us\":37,"
	"\"age_ms\":20}},"
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.4\",\"id\":9,\"weight\":1,"
	"\"admin\":\"up\",\"mac\":null,\"state\":\"down\",\"reason\":\"circuit half-open\","
	"\"packets\":0,\"bytes\":0,\"new_flows\":0,\"effective_weight\":0,"
	"\"circuit\":\"half-open\",\"circuit_for_ms\":850,\"health\":\"unknown\"},"
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.5\",\"id\":10,\"weight\":2,"
	"\"admin\":\"up\",\"mac\":\"02:00:00:00:01:05\",\"state\":\"down\","
	"\"reason\":\"circuit open\",\"packets\":0,\"bytes\":0,\"new_flows\":0,"
	"\"effective_weight\":0,\"circuit\":\"open\",\"circuit_for_ms\":97261000,"
	"\"health\":\"fail\",\"last_check\":{\"ok\":false,\"error\":\"timeout\","
	"\"latency_us\":500123,\"age_ms\":900}},"
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.6\",\"id\":11,\"weight\":2,"
	"\"admin\":\"drain\",\"mac\":\"02:00:00:00:01:06\",\"state\":\"draining\","
	"\"packets\":0,\"bytes\":0,\"new_flows\":0,\"effective_weight\":0,"
	"\"circuit\":\"closed\",\"circuit_for_ms\":7260000,\"health\":\"pass\","
	"\"last_check\":{\"ok\":true,\"error\":\"\",\"latency_us\":1500000,\"age_ms\":3}},"
	"{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.7\",\"id\":12,\"weight\":2,"
	"\"admin\":\"disabled\",\"mac\":\"02:00:00:00:01:07\",\"state\":\"down\","
	"\"reason\":\"disabled\",\"packets\":0,\"bytes\":0,\"new_flows\":0,"
	"\"effective_weight\":0}]}";

/* VIPs with their health checks, as xlbd sends them. */
static const char checked_vips_answer[] =
	"{\"ok\":true,\"vips\":["
	"{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"sched\":\"maglev\",\"fwd\":\"dsr-l2\","
	"\"backends\":3,\"check\":{\"kind\":\"http\",\"port\":0,\"interval_ms\":200,"
	"\"timeout_ms\":100,\"rise\":2,\"fall\":3,\"backoff_ms\":1000,\"backoff_max_ms\":30000,"
	"\"slow_start_ms\":10000,\"outlier\":false,\"outlier_rate\":5,\"path\":\"/healthz\","
	"\"host\":\"\",\"status_lo\":200,\"status_hi\":399}},"
	"{\"vip\":\"10.0.0.11:53/udp\",\"id\":2,\"sched\":\"maglev\",\"fwd\":\"dsr-l2\","
	"\"backends\":0,\"check\":{\"kind\":\"none\",\"port\":0,\"interval_ms\":1000,"
	"\"timeout_ms\":500,\"rise\":2,\"fall\":3,\"backoff_ms\":1000,\"backoff_max_ms\":30000,"
	"\"slow_start_ms\":10000,\"outlier\":false,\"outlier_rate\":5}},"
	"{\"vip\":\"[2001:db8::10]:443/tcp\",\"id\":3,\"sched\":\"maglev\",\"fwd\":\"dsr-l2\","
	"\"backends\":1,\"check\":{\"kind\":\"tcp\",\"port\":8443,\"interval_ms\":120000,"
	"\"timeout_ms\":1500,\"rise\":1,\"fall\":1,\"backoff_ms\":1000,\"backoff_max_ms\":30000,"
	"\"slow_start_ms\":0,\"outlier\":true,\"outlier_rate\":5}},"
	"{\"vip\":\"10.0.0.12:80/tcp\",\"id\":4,\"sched\":\"maglev\",\"fwd\":\"dsr-l2\","
	"\"backends\":2,\"check\":{\"kind\":\"http\",\"port\":8080,\"interval_ms\":1500,"
	"\"timeout_ms\":500,\"rise\":2,\"fall\":3,\"backoff_ms\":1000,\"backoff_max_ms\":30000,"
	"\"slow_start_ms\":10000,\"outlier\":false,\"outlier_rate\":5,\"path\":\"/\","
	"\"host\":\"www.example.com\",\"status_lo\":204,\"status_hi\":204}},"
	"{\"vip\":\"10.0.0.13:53/udp\",\"id\":5,\"sched\":\"maglev\",\"fwd\":\"dsr-l2\","
	"\"backends\":1,\"check\":{\"kind\":\"udp\",\"port\":0,\"interval_ms\":2000,"
	"\"timeout_ms\":500,\"rise\":3,\"fall\":2,\"backoff_ms\":1000,\"backoff_max_ms\":30000,"
	"\"slow_start_ms\":10000,\"outlier\":false,\"outlier_rate\":5,\"payload\":\"ping\"}}]}";

static const char stats_answer[] =
	"{\"ok\":true,\"counters\":{\"xdp_aborted\":0,\"xdp_drop\":2,\"xdp_pass\":10,"
	"\"xdp_tx\":1234,\"drop_fragment\":0,\"flow_hit\":1200},"
	"\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"packets\":1234,\"bytes\":567890,"
	"\"new_flows\":12}],"
	"\"backends\":[{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\",\"packets\":1234,"
	"\"bytes\":567890,\"new_flows\":12}]}";

static void test_text_output(void)
{
	static const struct {
		const char *line, *answer, *want;
	} cases[] = {
		{"vip show", vips_answer,
		 "10.0.0.10:80/tcp        id 1  sched maglev  fwd dsr-l2  backends 3\n"
		 "[2001:db8::10]:443/tcp  id 2  sched maglev  fwd dsr-l2  backends 0\n"},
		{"vip add 10.0.0.10:80/tcp",
		 "{\"ok\":true,\"vip\":{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"sched\":\"maglev\","
		 "\"fwd\":\"dsr-l2\",\"backends\":3}}",
		 "10.0.0.10:80/tcp  id 1  sched maglev  fwd dsr-l2  backends 3\n"},
		{"vip", "{\"ok\":true,\"vips\":[]}", ""},
		{"vip del 10.0.0.10:80/tcp", "{\"ok\":true}", ""},
		{"backend show", backends_answer,
		 "VIP                     ADDRESS      WEIGHT  EFF.WEIGHT  ADMIN  "
		 "STATE               CIRCUIT  HEALTH  LATENCY  "
		 "MAC                PACKETS   BYTES\n"
		 "10.0.0.10:80/tcp        10.0.1.2          3           3  up     "
		 "up                  -        -             -  "
		 "02:00:00:00:01:02     1234  567890\n"
		 "10.0.0.10:80/tcp        10.0.1.3          1           0  drain  "
		 "down (mac unknown)  -        -             -  "
		 "-                        0       0\n"
		 "[2001:db8::10]:443/tcp  2001:db8::2    1000           0  drain  "
		 "draining            -        -             -  "
		 "02:00:00:00:01:04        5     300\n"},
		{"backend set 10.0.0.10:80/tcp 10.0.1.2 weight 3",
		 "{\"ok\":true,\"backend\":{\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		 "\"id\":7,\"weight\":3,\"admin\":\"up\",\"mac\":null,\"state\":\"up\","
		 "\"packets\":0,\"bytes\":0,\"new_flows\":0}}",
		 "VIP               ADDRESS   WEIGHT  EFF.WEIGHT  ADMIN  STATE  CIRCUIT  HEALTH  "
		 "LATENCY  MAC  PACKETS  BYTES\n"
		 "10.0.0.10:80/tcp  10.0.1.2       3           -  up     up     -        -       "
		 "      -  -          0      0\n"},
		{"backend", "{\"ok\":true,\"backends\":[]}", ""},
		/* Members missing, and a control byte that must not break the line. */
		{"backend",
		 "{\"ok\":true,\"backends\":[{\"vip\":\"10.0.0.10:80/"
		 "tcp\",\"address\":\"10.0.1.2\","
		 "\"state\":\"down\",\"reason\":\"no\\nmac\"}]}",
		 "VIP               ADDRESS   WEIGHT  EFF.WEIGHT  ADMIN  STATE          CIRCUIT  "
		 "HEALTH  LATENCY  MAC  PACKETS  BYTES\n"
		 "10.0.0.10:80/tcp  10.0.1.2       -           -  -      down (no?mac)  -        "
		 "-             -  -          -      -\n"},
		{"vip",
		 "{\"ok\":true,\"vips\":[{\"id\":1},{\"vip\":\"10.0.0.10:80/tcp\",\"id\":2}]}",
		 "-                 id 1\n"
		 "10.0.0.10:80/tcp  id 2\n"},
		/* Health checks: circuit and time in it, health and the last error, latency. */
		{"backend show 10.0.0.10:80/tcp", checked_backends_answer,
		 "VIP               ADDRESS   WEIGHT  EFF.WEIGHT  ADMIN     "
		 "STATE                     CIRCUIT          "
		 "HEALTH                              "
		 "LATENCY  MAC                PACKETS   BYTES\n"
		 "10.0.0.10:80/tcp  10.0.1.2      10           4  up        "
		 "up                        closed 12s       "
		 "pass                                "
		 "  0.4ms  02:00:00:00:01:02     1234  567890\n"
		 "10.0.0.10:80/tcp  10.0.1.3       1           0  up        "
		 "down (circuit open)       open 3m07s       "
		 "fail (connect: Connection refused)  "
		 "   37us  02:00:00:00:01:03        0       0\n"
		 "10.0.0.10:80/tcp  10.0.1.4       1           0  up        "
		 "down (circuit half-open)  half-open 850ms  "
		 "unknown                             "
		 "      -  -                        0       0\n"
		 "10.0.0.10:80/tcp  10.0.1.5       2           0  up        "
		 "down (circuit open)       open 1d03h       "
		 "fail (timeout)                      "
		 "  500ms  02:00:00:00:01:05        0       0\n"
		 "10.0.0.10:80/tcp  10.0.1.6       2           0  drain     "
		 "draining                  closed 2h01m     "
		 "pass                                "
		 "   1.5s  02:00:00:00:01:06        0       0\n"
		 "10.0.0.10:80/tcp  10.0.1.7       2           0  disabled  "
		 "down (disabled)           -                "
		 "-                                   "
		 "      -  02:00:00:00:01:07        0       0\n"},
		/* The check as one line: none, or kind, what is probed, how often, its timeout, rise
		 * and fall. */
		{"vip show", checked_vips_answer,
		 "10.0.0.10:80/tcp        id 1  sched maglev  fwd dsr-l2  backends 3  "
		 "check http /healthz every 200ms timeout 100ms rise 2 fall 3\n"
		 "10.0.0.11:53/udp        id 2  sched maglev  fwd dsr-l2  backends 0  "
		 "check none\n"
		 "[2001:db8::10]:443/tcp  id 3  sched maglev  fwd dsr-l2  backends 1  "
		 "check tcp port 8443 every 2m timeout 1500ms rise 1 fall 1 outlier\n"
		 "10.0.0.12:80/tcp        id 4  sched maglev  fwd dsr-l2  backends 2  "
		 "check http port 8080 / host www.example.com status 204 "
		 "every 1500ms timeout 500ms rise 2 fall 3\n"
		 "10.0.0.13:53/udp        id 5  sched maglev  fwd dsr-l2  backends 1  "
		 "check udp every 2s timeout 500ms rise 3 fall 2\n"},
		{"vip set 10.0.0.10:80/tcp check http path /healthz interval 200ms fall 3",
		 "{\"ok\":true,\"vip\":{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"sched\":\"maglev\","
		 "\"fwd\":\"dsr-l2\",\"backends\":3,\"check\":{\"kind\":\"http\","
		 "\"interval_ms\":200,"
		 "\"rise\":2,\"fall\":3,\"path\":\"/healthz\",\"host\":\"\",\"status_lo\":200,"
		 "\"status_hi\":399}}}",
		 "10.0.0.10:80/tcp  id 1  sched maglev  fwd dsr-l2  backends 3  "
		 "check http /healthz every 200ms rise 2 fall 3\n"},
		/* A check that is no object stays as xlbd sent it. */
		{"vip", "{\"ok\":true,\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"check\":7}]}",
		 "10.0.0.10:80/tcp  check 7\n"},
		{"vip",
		 "{\"ok\":true,\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"rise\":2}}]}",
		 "10.0.0.10:80/tcp  check {\"rise\":2}\n"},
		{"stats", stats_answer,
		 "xdp_drop     2\n"
		 "xdp_pass    10\n"
		 "xdp_tx    1234\n"
		 "flow_hit  1200\n"
		 "\n"
		 "VIP               PACKETS   BYTES  NEW_FLOWS\n"
		 "10.0.0.10:80/tcp     1234  567890         12\n"
		 "\n"
		 "VIP               ADDRESS   PACKETS   BYTES  NEW_FLOWS\n"
		 "10.0.0.10:80/tcp  10.0.1.2     1234  567890         12\n"},
		{"stats", "{\"ok\":true,\"counters\":{\"xdp_pass\":0},\"vips\":[],\"backends\":[]}",
		 ""},
		{"prog",
		 "{\"ok\":true,\"interface\":\"eth0\",\"mode\":\"native\",\"prog_id\":42,"
		 "\"pin_dir\":\"/sys/fs/bpf/xlb/eth0\"}",
		 "interface  eth0\n"
		 "mode       native\n"
		 "prog_id    42\n"
		 "pin_dir    /sys/fs/bpf/xlb/eth0\n"},
		{"prog detach", "{\"ok\":true}", ""},
	};
	struct captured c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		c = print_for(cases[i].line, cases[i].answer);
		ASSERT_OK(c.ret, cases[i].line);
		str_eq(c.out, cases[i].want, cases[i].line);
		str_eq(c.err, "", cases[i].line);
		captured_free(&c);
	}
}

static void test_json_output(void)
{
	struct captured c;

	/* -j: the result without "ok", compact, one line. */
	c = print_for("-j vip show", vips_answer);
	ASSERT_OK(c.ret, "-j vip show");
	str_eq(c.out,
	       "{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"sched\":\"maglev\","
	       "\"fwd\":\"dsr-l2\",\"backends\":3},{\"vip\":\"[2001:db8::10]:443/tcp\",\"id\":2,"
	       "\"sched\":\"maglev\",\"fwd\":\"dsr-l2\",\"backends\":0}]}\n",
	       "-j vip show");
	captured_free(&c);

	/* -j shows zero counters too. */
	c = print_for("-j stats", "{\"ok\":true,\"counters\":{\"xdp_pass\":0}}");
	str_eq(c.out, "{\"counters\":{\"xdp_pass\":0}}\n", "-j stats");
	captured_free(&c);

	c = print_for("-j vip del 10.0.0.10:80/tcp", "{\"ok\":true}");
	str_eq(c.out, "{}\n", "-j del");
	captured_free(&c);

	/* -j backend show: every member xlbd sent (circuit, last_check, ...), not the table. */
	c = print_for("-j backend show", checked_backends_answer);
	ASSERT_OK(c.ret, "-j backend show");
	{
		json_t *got = c.out ? json_loads(c.out, 0, NULL) : NULL;
		json_t *want = json_loads(checked_backends_answer, 0, NULL);

		json_object_del(want, "ok");
		ASSERT_TRUE(got && want && json_equal(got, want), "-j backend show is the result");
		ASSERT_TRUE(c.out && strchr(c.out, '\n') == c.out + strlen(c.out) - 1,
			    "-j backend show: one line");
		json_decref(got);
		json_decref(want);
	}
	captured_free(&c);

	c = print_for("-j vip show", checked_vips_answer);
	{
		json_t *got = c.out ? json_loads(c.out, 0, NULL) : NULL;
		json_t *want = json_loads(checked_vips_answer, 0, NULL);

		json_object_del(want, "ok");
		ASSERT_TRUE(got && want && json_equal(got, want), "-j vip show: check as sent");
		json_decref(got);
		json_decref(want);
	}
	captured_free(&c);

	c = print_for("-p prog", "{\"ok\":true,\"interface\":\"eth0\",\"prog_id\":42}");
	str_eq(c.out, "{\n  \"interface\": \"eth0\",\n  \"prog_id\": 42\n}\n", "-p prog");
	captured_free(&c);
}

static void test_error_output(void)
{
	static const char refused[] = "{\"ok\":false,\"error\":\"no VIP 10.0.0.10:80/tcp\"}";
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd = {0};
	struct captured c;
	size_t olen, elen;
	FILE *out, *errf;
	char *obuf, *ebuf;

	/* xlbd's refusal: JSON on stdout with -j, "xlbctl: ..." on stderr without. */
	c = print_for("-j vip del 10.0.0.10:80/tcp", refused);
	ASSERT_EQ(c.ret, -EREMOTEIO, "-j refused");
	str_eq(c.out, "{\"error\":\"no VIP 10.0.0.10:80/tcp\"}\n", "-j refused stdout");
	str_eq(c.err, "", "-j refused stderr");
	captured_free(&c);

	c = print_for("vip del 10.0.0.10:80/tcp", refused);
	ASSERT_EQ(c.ret, -EREMOTEIO, "refused");
	str_eq(c.out, "", "refused stdout");
	str_eq(c.err, "xlbctl: no VIP 10.0.0.10:80/tcp\n", "refused stderr");
	captured_free(&c);

	c = print_for("-p vip del 10.0.0.10:80/tcp", refused);
	str_eq(c.out, "{\n  \"error\": \"no VIP 10.0.0.10:80/tcp\"\n}\n", "-p refused");
	captured_free(&c);

	c = print_for("vip", "{\"ok\":false}");
	ASSERT_EQ(c.ret, -EREMOTEIO, "refused without a reason");
	str_eq(c.err, "xlbctl: xlbd refused the request without saying why\n", "no reason");
	captured_free(&c);

	/* Answers that make no sense. */
	c = print_for("-j vip", "not json");
	ASSERT_EQ(c.ret, -EPROTO, "not JSON");
	str_eq(c.out, "{\"error\":\"xlbd's answer is not a JSON object: 'not json'\"}\n",
	       "not JSON");
	captured_free(&c);

	c = print_for("vip", "[1,2]");
	ASSERT_EQ(c.ret, -EPROTO, "array");
	captured_free(&c);

	c = print_for("vip", "{\"vips\":[]}");
	ASSERT_EQ(c.ret, -EPROTO, "no ok");
	ASSERT_TRUE(c.err && strstr(c.err, "no \"ok\""), "no ok message");
	captured_free(&c);

	c = print_for("vip", "{\"ok\":true,\"backends\":[]}");
	ASSERT_EQ(c.ret, -EPROTO, "vip show without vips");
	str_eq(c.err, "xlbctl: xlbd's answer holds no \"vips\" list or \"vip\" object\n",
	       "shape message");
	captured_free(&c);

	c = print_for("stats", "{\"ok\":true}");
	ASSERT_EQ(c.ret, -EPROTO, "stats without counters");
	captured_free(&c);

	/* A syntax error in JSON mode: the same {"error": ...} object, on stdout. */
	ASSERT_EQ(parse_line("-j vip s", &cmd, err, sizeof(err)), -EINVAL, "parse");
	out = open_memstream(&obuf, &olen);
	errf = open_memstream(&ebuf, &elen);
	if (!ASSERT_TRUE(out && errf, "memstream"))
		return;
	xlbctl_print_error(&cmd.opts, err, out, errf);
	fclose(out);
	fclose(errf);
	str_eq(obuf, "{\"error\":\"ambiguous command 's' for 'vip': set or show\"}\n",
	       "JSON syntax error");
	str_eq(ebuf, "", "JSON syntax error, stderr");
	free(obuf);
	free(ebuf);
	xlbctl_cmd_free(&cmd);

	/* A message that is not UTF-8 (a socket path, say) still makes valid JSON. */
	out = open_memstream(&obuf, &olen);
	if (!ASSERT_TRUE(out != NULL, "memstream"))
		return;
	cmd.opts.json = true;
	cmd.opts.pretty = false;
	xlbctl_print_error(&cmd.opts, "cannot reach xlbd at /tmp/\xe4.sock", out, stderr);
	fclose(out);
	str_eq(obuf, "{\"error\":\"cannot reach xlbd at /tmp/?.sock\"}\n", "non-UTF-8 message");
	free(obuf);
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
	size_t olen, elen;
	FILE *out, *errf;
	struct tmpdir t = {0};
	char line[256];

	if (!tmpdir_make(&t, "xlbd.sock"))
		return;
	ASSERT_EQ(xlb_ctl_connect(t.path, 1000, &ctl, err, sizeof(err)), -ENOENT, "connect");
	ASSERT_TRUE(ctl == NULL, "no connection handed out");
	snprintf(want, sizeof(want),
		 "cannot reach xlbd at %s: No such file or directory (is xlbd running?)", t.path);
	str_eq(err, want, "message");

	/* Through xlbctl_run, in JSON mode: the error object on stdout, and an error return. */
	snprintf(line, sizeof(line), "-j -s %s vip", t.path);
	out = open_memstream(&c.out, &olen);
	errf = open_memstream(&c.err, &elen);
	if (ASSERT_OK(parse_line(line, &cmd, err, sizeof(err)), line) &&
	    ASSERT_TRUE(out && errf, "memstream")) {
		c.ret = xlbctl_run(&cmd, out, errf);
		fclose(out);
		fclose(errf);
		out = errf = NULL;
		ASSERT_EQ(c.ret, -ENOENT, "run");
		snprintf(want, sizeof(want),
			 "{\"error\":\"cannot reach xlbd at %s: No such file or directory (is "
			 "xlbd running?)\"}\n",
			 t.path);
		str_eq(c.out, want, "run stdout");
		str_eq(c.err, "", "run stderr");
	}
	if (out)
		fclose(out);
	if (errf)
		fclose(errf);
	captured_free(&c);
	xlbctl_cmd_free(&cmd);
	tmpdir_remove(&t);

	/* A path that cannot be a socket address. */
	memset(line, 'a', sizeof(line) - 1);
	line[0] = '/';
	line[sizeof(line) - 1] = '\0';
	ASSERT_EQ(xlb_ctl_connect(line, 1000, &ctl, err, sizeof(err)), -ENAMETOOLONG, "long path");
	ASSERT_TRUE(strstr(err, "too long") != NULL, err);
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
		str_eq(err, want, "message");
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
		str_eq(answer, want, reqs[i]);
		free(answer);
	}
	xlb_ctl_close(ctl);
	fake_stop(&f);
	/* Each request arrived as exactly one line. */
	ASSERT_EQ(f.nrequests, ARRAY_SIZE(reqs), "requests seen");
	for (i = 0; i < ARRAY_SIZE(reqs) && (int)i < f.nrequests; i++)
		str_eq(f.requests[i], reqs[i], "request line");
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
		ASSERT_TRUE(strstr(err, "longer than 65535 bytes: refused") != NULL, err);
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
		ASSERT_TRUE(strstr(err, "request of 65536 bytes") != NULL, err);
		ASSERT_EQ(xlb_ctl_call(ctl, "{}\n{}", &answer, err, sizeof(err)), -EINVAL,
			  "newline");
		ASSERT_TRUE(strstr(err, "newline") != NULL, err);
		/* Neither broke the connection: nothing had gone out. */
		if (ASSERT_OK(xlb_ctl_call(ctl, "{}", &answer, err, sizeof(err)),
			      "then a good one"))
			str_eq(answer, "{\"ok\":true}", "answer");
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
		ASSERT_TRUE(strstr(err, "no answer from xlbd at") && strstr(err, "within 200 ms"),
			    err);
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
		ASSERT_TRUE(strstr(err, "closed the connection without answering") != NULL, err);
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
	size_t olen, elen;
	FILE *out, *errf;

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
	out = open_memstream(&c.out, &olen);
	errf = open_memstream(&c.err, &elen);
	if (out && errf)
		c.ret = xlbctl_run(&cmd, out, errf);
	if (out)
		fclose(out);
	if (errf)
		fclose(errf);
	xlbctl_cmd_free(&cmd);
	ASSERT_OK(c.ret, "run");
	str_eq(c.out,
	       "VIP               ADDRESS   WEIGHT  EFF.WEIGHT  ADMIN  STATE               "
	       "CIRCUIT  HEALTH  LATENCY  MAC                PACKETS  BYTES\n"
	       "10.0.0.10:80/tcp  10.0.1.2       3           0  up     down (mac unknown)  "
	       "-        -             -  02:00:00:00:01:02        0      0\n",
	       "stdout");
	str_eq(c.err, "", "stderr");
	captured_free(&c);
out:
	fake_stop(&f);
	if (ASSERT_EQ(f.nrequests, 1, "one request"))
		str_eq(f.requests[0],
		       "{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":"
		       "\"10.0.1.2\",\"weight\":3}",
		       "request line");
}

int main(void)
{
	/* The fake server writes to clients that may have gone: an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	RUN_TEST(test_parse_requests);
	RUN_TEST(test_request_text);
	RUN_TEST(test_parse_options);
	RUN_TEST(test_parse_help);
	RUN_TEST(test_parse_errors);
	RUN_TEST(test_parse_odd_words);
	RUN_TEST(test_parse_check_texts);
	RUN_TEST(test_match);
	RUN_TEST(test_parse_duration);
	RUN_TEST(test_parse_weight);
	RUN_TEST(test_text_output);
	RUN_TEST(test_json_output);
	RUN_TEST(test_error_output);
	RUN_TEST(test_client_no_socket);
	RUN_TEST(test_client_refused);
	RUN_TEST(test_client_round_trip);
	RUN_TEST(test_client_line_limit);
	RUN_TEST(test_client_timeout_and_hangup);
	RUN_TEST(test_run_end_to_end);
	return xt_finish();
}
