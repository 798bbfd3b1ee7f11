/* test_xlbctl_parse.c - xlbctl_parse (parse.c, cmd_*.c, checkopts.c): command lines to requests. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "cmdline.h"
#include "grammar.h"
#include "xlbctl.h"

/* cmd->opts.socket points into argv, as into main's: the words outlive the command. */
static int parse_line(const char *line, struct xlbctl_cmd *cmd, char *err, size_t errlen)
{
	static struct cmdline c;

	cmdline_split(&c, "xlbctl", line);
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

static void test_parse_requests(void)
{
	static const struct {
		const char *line;
		const char *req; /* the exact request, compared as JSON */
	} cases[] = {
		/* The everyday commands (README.md, "Running it"). */
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
		/* vip: health checks, README.md's example first */
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
		{"vip set 10.0.0.10:80/tcp check http tunnel on",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"http\","
		 "\"tunnel\":true}}"},
		{"vip set 10.0.0.10:80/tcp tunnel off",
		 "{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"tunnel\":false}}"},
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
		/* An IPv4 VIP over an IPv6 backend is for xlbd to judge (fwd ipip takes it). */
		{"backend add 10.0.0.10:80/tcp 2001:db8::2",
		 "{\"cmd\":\"backend "
		 "add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"2001:db8::2\"}"},
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
		/* config: the file is read when the request is sent, not here */
		{"config", "{\"cmd\":\"config show\"}"},
		{"config set hash-seed 4294967295",
		 "{\"cmd\":\"config set\",\"hash_seed\":4294967295}"},
		{"c se h 0", "{\"cmd\":\"config set\",\"hash_seed\":0}"},
		{"config export", "{\"cmd\":\"config export\"}"},
		{"config apply c.json", "{\"cmd\":\"config apply\"}"},
		{"config apply c.json dry-run", "{\"cmd\":\"config apply\",\"dry_run\":true}"},
		{"config apply - --dry-run", "{\"cmd\":\"config apply\",\"dry_run\":true}"},
		/* node */
		{"node", "{\"cmd\":\"node show\"}"},
		{"node drain", "{\"cmd\":\"node drain\"}"},
		{"n u", "{\"cmd\":\"node undrain\"}"},
		/* options */
		{"-p -s /tmp/x.sock vip", "{\"cmd\":\"vip show\"}"},
		{"--json --socket=/tmp/x.sock -- vip", "{\"cmd\":\"vip show\"}"},
	};
	char err[XLBCTL_ERR_MAX], *got;
	struct xlbctl_cmd cmd = {0};
	json_t *want;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!xt_row("'%s'", cases[i].line))
			continue;
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
	ASSERT_STREQ(
		text,
		"{\"cmd\":\"backend add\",\"vip\":\"10.0.0.10:80/tcp\",\"address\":\"10.0.1.2\","
		"\"weight\":3}",
		"compact request");
	free(text);
	xlbctl_cmd_free(&cmd);

	/* README.md's health-check example: the check settings in one object, in the order typed. */
	if (!ASSERT_OK(parse_line("vip set 10.0.0.10:80/tcp check http path /healthz interval "
				  "200ms fall 3",
				  &cmd, err, sizeof(err)),
		       "parse"))
		return;
	text = json_dumps(cmd.req, JSON_COMPACT);
	ASSERT_STREQ(
		text,
		"{\"cmd\":\"vip set\",\"vip\":\"10.0.0.10:80/tcp\",\"check\":{\"kind\":\"http\","
		"\"path\":\"/healthz\",\"interval_ms\":200,\"fall\":3}}",
		"README.md example");
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
		if (!xt_row("'%s'", cases[i].line))
			continue;
		if (!ASSERT_OK(parse_line(cases[i].line, &cmd, err, sizeof(err)), cases[i].line)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		ASSERT_EQ(cmd.opts.json, cases[i].json, cases[i].line);
		ASSERT_EQ(cmd.opts.pretty, cases[i].pretty, cases[i].line);
		if (cases[i].socket)
			ASSERT_STREQ(cmd.opts.socket, cases[i].socket, cases[i].line);
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
		if (!xt_row("'%s'", cases[i].line))
			continue;
		if (!ASSERT_OK(parse_line(cases[i].line, &cmd, err, sizeof(err)), cases[i].line)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		ASSERT_TRUE(cmd.req == NULL, cases[i].line);
		if (!ASSERT_TRUE(cmd.usage != NULL, cases[i].line))
			continue;
		text = capture_usage(cmd.usage);
		ASSERT_HAS_PREFIX(text, cases[i].want, "usage");
		free(text);
		xlbctl_cmd_free(&cmd);
	}
	xt_row_end();

	/* The scheduler list comes from the table in cmd_vip.c. */
	text = capture_usage(xlbctl_obj_vip.usage);
	ASSERT_HAS_SUBSTR(text, "SCHED := { maglev | source-hash | rr | wrr | least-conn }",
			  "SCHED alternatives");
	ASSERT_HAS_SUBSTR(text, "FWD := { dsr-l2 | ipip }", "FWD alternatives");
	ASSERT_HAS_SUBSTR(text, "KIND := { none | tcp | http | udp }", "KIND alternatives");
	ASSERT_HAS_SUBSTR(text, "outlier-rate N }", "CHECKOPT alternatives");
	free(text);
	text = capture_usage(xlbctl_obj_backend.usage);
	ASSERT_HAS_SUBSTR(text, "ADMIN := { drain | undrain | disable | enable }",
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
		{"frob",
		 {"unknown object 'frob'",
		  "vip, backend, stats, prog, flow, config, node or help"}},
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
		{"vip add 10.0.0.10:80/tcp fwd gre",
		 {"unknown forwarding mode 'gre'", "dsr-l2", "ipip"}},
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
		{"vip set 10.0.0.10:80/tcp check none tunnel on",
		 {"'tunnel on' goes with a health check"}},
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
		{"config set", {"nothing to set for 'config set'", "hash-seed N"}},
		{"config set hash-seed 4294967296", {"bad hash-seed '4294967296'", "0-4294967295"}},
		{"config set hash-seed -1", {"bad hash-seed '-1'"}},
		{"config set seed 1", {"unknown keyword 'seed' for 'config set'", "hash-seed"}},
		{"config apply", {"missing FILE for 'config apply'"}},
		{"config apply c.json now",
		 {"unknown keyword 'now' for 'config apply'", "dry-run"}},
		{"config apply c.json dry-run x", {"extra argument 'x' for 'config apply'"}},
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
		if (!xt_row("'%s'", cases[i].line))
			continue;
		memset(err, 0, sizeof(err));
		if (!ASSERT_EQ(parse_line(cases[i].line, &cmd, err, sizeof(err)), -EINVAL,
			       cases[i].line)) {
			xlbctl_cmd_free(&cmd);
			continue;
		}
		ASSERT_TRUE(cmd.req == NULL && cmd.usage == NULL, cases[i].line);
		one_line(err, cases[i].line);
		for (j = 0; j < ARRAY_SIZE(cases[i].want) && cases[i].want[j]; j++)
			ASSERT_HAS_SUBSTR(err, cases[i].want[j], "message");
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
	ASSERT_HAS_SUBSTR(err, "missing VIP", "empty VIP");
	ASSERT_EQ(xlbctl_parse(3, empty_verb, &cmd, err, sizeof(err)), -EINVAL, "empty verb");
	ASSERT_HAS_SUBSTR(err, "unknown command ''", "empty verb");
	ASSERT_EQ(xlbctl_parse(7, empty_weight, &cmd, err, sizeof(err)), -EINVAL, "empty weight");
	ASSERT_HAS_SUBSTR(err, "bad weight ''", "empty weight");
	ASSERT_EQ(xlbctl_parse(3, control, &cmd, err, sizeof(err)), -EINVAL, "control byte");
	ASSERT_HAS_SUBSTR(err, "'fr?ob'", "control byte");
	ASSERT_EQ(xlbctl_parse(7, latin1, &cmd, err, sizeof(err)), -EINVAL, "not UTF-8");
	ASSERT_HAS_SUBSTR(err, "'m?glev'", "not UTF-8");
	ASSERT_TRUE(cmd.opts.json, "-j seen before the error");

	memset(long_word, 'x', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	ASSERT_EQ(xlbctl_parse(3, longw, &cmd, err, sizeof(err)), -EINVAL, "long word");
	one_line(err, "long word");
	ASSERT_HAS_SUBSTR(err, "...'", "a long word is cut");
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
		if (!xt_row("%s '%s'", cases[i].key, cases[i].value))
			continue;
		argv[4] = (char *)cases[i].key;
		argv[5] = (char *)cases[i].value;
		if (!cases[i].want) {
			ASSERT_EQ(xlbctl_parse(6, argv, &cmd, err, sizeof(err)), -EINVAL,
				  cases[i].value);
			one_line(err, cases[i].value);
			ASSERT_HAS_SUBSTR(err, cases[i].msg, cases[i].key);
			xlbctl_cmd_free(&cmd);
			continue;
		}
		if (!ASSERT_OK(xlbctl_parse(6, argv, &cmd, err, sizeof(err)), cases[i].value)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		v = json_object_get(json_object_get(cmd.req, "check"), cases[i].key);
		got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		ASSERT_STREQ(got, cases[i].want, cases[i].key);
		free(got);
		xlbctl_cmd_free(&cmd);
	}

	xt_row_end();

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
	ASSERT_HAS_SUBSTR(err, "at most 127 characters", "128 characters");
	one_line(err, "128 characters");
	ASSERT_LE(strlen(err), 200, "message length");
}

int main(void)
{
	RUN_TEST(test_parse_requests);
	RUN_TEST(test_request_text);
	RUN_TEST(test_parse_options);
	RUN_TEST(test_parse_help);
	RUN_TEST(test_parse_errors);
	RUN_TEST(test_parse_odd_words);
	RUN_TEST(test_parse_check_texts);
	return xt_finish();
}
