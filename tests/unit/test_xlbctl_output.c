/* test_xlbctl_output.c - xlbctl_print_answer and xlbctl_print_error (output.c): text and JSON. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "cmdline.h"
#include "grammar.h"
#include "output.h"
#include "xlbctl.h"

/* cmd->opts.socket points into argv, as into main's: the words outlive the command. */
static int parse_line(const char *line, struct xlbctl_cmd *cmd, char *err, size_t errlen)
{
	static struct cmdline c;

	cmdline_split(&c, "xlbctl", line);
	return xlbctl_parse(c.argc, c.argv, cmd, err, errlen);
}

/* Runs xlbctl_print_answer for the command line on answer, capturing both streams. */
static struct captured print_for(const char *line, const char *answer)
{
	struct captured c = {.ret = -1};
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd = {0};

	if (parse_line(line, &cmd, err, sizeof(err))) {
		xt_fail(__FILE__, __LINE__, "'%s': %s", line, err);
		return c;
	}
	if (capture_start(&c))
		c.ret = xlbctl_print_answer(&cmd, answer, c.outf, c.errf);
	capture_end(&c);
	xlbctl_cmd_free(&cmd);
	return c;
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
	"{\"vip\":\"[2001:db8::10]:443/tcp\",\"id\":3,\"sched\":\"maglev\",\"fwd\":\"ipip\","
	"\"backends\":1,\"check\":{\"kind\":\"tcp\",\"port\":8443,\"interval_ms\":120000,"
	"\"timeout_ms\":1500,\"rise\":1,\"fall\":1,\"backoff_ms\":1000,\"backoff_max_ms\":30000,"
	"\"slow_start_ms\":0,\"outlier\":true,\"outlier_rate\":5,\"tunnel\":true}},"
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
		{"flow show vip 10.0.0.10:80/tcp count 1",
		 "{\"ok\":true,\"flows\":[{\"client\":\"10.0.0.1:1234\",\"vip\":\"10.0.0.10:80/"
		 "tcp\","
		 "\"backend\":\"10.0.1.2\",\"age_ms\":1500,\"state\":\"established\"}],"
		 "\"truncated\":true}",
		 "CLIENT                                         VIP                               "
		 "             BACKEND                                  STATE       AGE\n"
		 "10.0.0.1:1234                                  10.0.0.10:80/tcp                  "
		 "             10.0.1.2                                 established 1.5s\n"
		 "(more flows: raise count)\n"},
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
		 "[2001:db8::10]:443/tcp  id 3  sched maglev  fwd ipip  backends 1  "
		 "check tcp port 8443 every 2m timeout 1500ms rise 1 fall 1 outlier tunnel\n"
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
		{"node",
		 "{\"ok\":true,\"state\":\"drained\",\"route_table\":2001,\"route_errors\":0,"
		 "\"addresses\":[{\"address\":\"10.0.0.10\",\"announced\":false,"
		 "\"reason\":\"node drain\",\"transitions\":2},{\"address\":\"2001:db8::10\","
		 "\"announced\":true,\"reason\":\"usable backend\",\"transitions\":1,"
		 "\"pending\":true}]}",
		 "node drained route_table 2001\n"
		 "10.0.0.10 withdrawn reason \"node drain\" transitions 2\n"
		 "2001:db8::10 announced reason \"usable backend\" transitions 1 pending\n"},
		{"node drain", "{\"ok\":true,\"changed\":true}", "changed  true\n"},
		{"node",
		 "{\"ok\":true,\"state\":\"in-service\",\"route_table\":2001,\"route_errors\":3,"
		 "\"addresses\":[{\"address\":\"10.0.0.10\",\"announced\":false,"
		 "\"reason\":\"usable backend\",\"transitions\":0,\"pending\":true,"
		 "\"error\":\"a route of another protocol is there\"}]}",
		 "node in-service route_table 2001\n"
		 "10.0.0.10 withdrawn reason \"usable backend\" transitions 0 pending (a route of "
		 "another protocol is there)\n"},
	};
	struct captured c;
	size_t i;

	/* Lines repeat (one command, several answers): the row names the case's place too. */
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!xt_row("'%s' (case %zu)", cases[i].line, i + 1))
			continue;
		c = print_for(cases[i].line, cases[i].answer);
		ASSERT_OK(c.ret, cases[i].line);
		ASSERT_STREQ(c.out, cases[i].want, cases[i].line);
		ASSERT_STREQ(c.err, "", cases[i].line);
		captured_free(&c);
	}
}

static void test_json_output(void)
{
	struct captured c;

	/* -j: the result without "ok", compact, one line. */
	c = print_for("-j vip show", vips_answer);
	ASSERT_OK(c.ret, "-j vip show");
	ASSERT_STREQ(
		c.out,
		"{\"vips\":[{\"vip\":\"10.0.0.10:80/tcp\",\"id\":1,\"sched\":\"maglev\","
		"\"fwd\":\"dsr-l2\",\"backends\":3},{\"vip\":\"[2001:db8::10]:443/tcp\",\"id\":2,"
		"\"sched\":\"maglev\",\"fwd\":\"dsr-l2\",\"backends\":0}]}\n",
		"-j vip show");
	captured_free(&c);

	/* -j shows zero counters too. */
	c = print_for("-j stats", "{\"ok\":true,\"counters\":{\"xdp_pass\":0}}");
	ASSERT_STREQ(c.out, "{\"counters\":{\"xdp_pass\":0}}\n", "-j stats");
	captured_free(&c);

	c = print_for("-j vip del 10.0.0.10:80/tcp", "{\"ok\":true}");
	ASSERT_STREQ(c.out, "{}\n", "-j del");
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
	ASSERT_STREQ(c.out, "{\n  \"interface\": \"eth0\",\n  \"prog_id\": 42\n}\n", "-p prog");
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
	ASSERT_STREQ(c.out, "{\"error\":\"no VIP 10.0.0.10:80/tcp\"}\n", "-j refused stdout");
	ASSERT_STREQ(c.err, "", "-j refused stderr");
	captured_free(&c);

	c = print_for("vip del 10.0.0.10:80/tcp", refused);
	ASSERT_EQ(c.ret, -EREMOTEIO, "refused");
	ASSERT_STREQ(c.out, "", "refused stdout");
	ASSERT_STREQ(c.err, "xlbctl: no VIP 10.0.0.10:80/tcp\n", "refused stderr");
	captured_free(&c);

	c = print_for("-p vip del 10.0.0.10:80/tcp", refused);
	ASSERT_STREQ(c.out, "{\n  \"error\": \"no VIP 10.0.0.10:80/tcp\"\n}\n", "-p refused");
	captured_free(&c);

	c = print_for("vip", "{\"ok\":false}");
	ASSERT_EQ(c.ret, -EREMOTEIO, "refused without a reason");
	ASSERT_STREQ(c.err, "xlbctl: xlbd refused the request without saying why\n", "no reason");
	captured_free(&c);

	/* Answers that make no sense. */
	c = print_for("-j vip", "not json");
	ASSERT_EQ(c.ret, -EPROTO, "not JSON");
	ASSERT_STREQ(c.out, "{\"error\":\"xlbd's answer is not a JSON object: 'not json'\"}\n",
		     "not JSON");
	captured_free(&c);

	c = print_for("vip", "[1,2]");
	ASSERT_EQ(c.ret, -EPROTO, "array");
	captured_free(&c);

	c = print_for("vip", "{\"vips\":[]}");
	ASSERT_EQ(c.ret, -EPROTO, "no ok");
	ASSERT_HAS_SUBSTR(c.err, "no \"ok\"", "no ok message");
	captured_free(&c);

	c = print_for("vip", "{\"ok\":true,\"backends\":[]}");
	ASSERT_EQ(c.ret, -EPROTO, "vip show without vips");
	ASSERT_STREQ(c.err, "xlbctl: xlbd's answer holds no \"vips\" list or \"vip\" object\n",
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
	ASSERT_STREQ(obuf, "{\"error\":\"ambiguous command 's' for 'vip': set or show\"}\n",
		     "JSON syntax error");
	ASSERT_STREQ(ebuf, "", "JSON syntax error, stderr");
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
	ASSERT_STREQ(obuf, "{\"error\":\"cannot reach xlbd at /tmp/?.sock\"}\n",
		     "non-UTF-8 message");
	free(obuf);
}

int main(void)
{
	RUN_TEST(test_text_output);
	RUN_TEST(test_json_output);
	RUN_TEST(test_error_output);
	return xt_finish();
}
