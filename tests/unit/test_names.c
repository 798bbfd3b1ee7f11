/* test_names.c - the configuration's words and limits that xlbd and xlbctl share (names.c). */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "names.h"

/* Every name of every table reads back as its value, and nothing else parses. */
static void test_round_trip(void)
{
	static const struct {
		const struct xlb_names *t;
		const char *name;
		int value;
	} good[] = {
		{&xlb_sched_names, "maglev", XLB_SCHED_MAGLEV},
		{&xlb_sched_names, "source-hash", XLB_SCHED_SOURCE_HASH},
		{&xlb_sched_names, "rr", XLB_SCHED_RR},
		{&xlb_sched_names, "wrr", XLB_SCHED_WRR},
		{&xlb_sched_names, "least-conn", XLB_SCHED_LEAST_CONN},
		{&xlb_fwd_names, "dsr-l2", XLB_FWD_DSR_L2},
		{&xlb_admin_names, "up", XLB_ADMIN_UP},
		{&xlb_admin_names, "drain", XLB_ADMIN_DRAIN},
		{&xlb_admin_names, "disabled", XLB_ADMIN_DISABLED},
		{&xlb_check_kind_names, "none", XLB_CHECK_NONE},
		{&xlb_check_kind_names, "tcp", XLB_CHECK_TCP},
		{&xlb_check_kind_names, "http", XLB_CHECK_HTTP},
		{&xlb_check_kind_names, "udp", XLB_CHECK_UDP},
		{&xlb_be_state_names, "down", XLB_BE_DOWN},
		{&xlb_be_state_names, "up", XLB_BE_UP},
		{&xlb_be_state_names, "draining", XLB_BE_DRAINING},
	};
	/* Values are data: no case folding, no prefixes, no blanks. */
	static const char *const bad[] = {"",	  "TCP",  "https",  "tc",
					  "tcp ", "icmp", "Maglev", "rr2"};

	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!xt_row("%s = %d", good[i].name, good[i].value))
			continue;
		ASSERT_EQ(xlb_name_value(good[i].t, good[i].name), good[i].value, good[i].name);
		ASSERT_STREQ(xlb_name(good[i].t, good[i].value), good[i].name, "name round-trips");
	}
	xt_row_end();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(xlb_name_value(&xlb_check_kind_names, bad[i]), -EINVAL, bad[i]);
		ASSERT_EQ(xlb_name_value(&xlb_sched_names, bad[i]), -EINVAL, bad[i]);
	}
	ASSERT_STREQ(xlb_name(&xlb_check_kind_names, 7), "unknown", "out-of-range kind");
	ASSERT_STREQ(xlb_name(&xlb_sched_names, XLB_SCHED_MAX), "unknown",
		     "out-of-range scheduler");
}

/* The lists that error messages and usage print. */
static void test_join(void)
{
	char buf[128];

	ASSERT_STREQ(xlb_names_join(&xlb_sched_names, NULL, buf, sizeof(buf)),
		     "maglev, source-hash, rr, wrr, least-conn", "schedulers");
	ASSERT_STREQ(xlb_names_join(&xlb_check_kind_names, " or ", buf, sizeof(buf)),
		     "none, tcp, http or udp", "check kinds with 'or'");
	ASSERT_STREQ(xlb_names_join(&xlb_fwd_names, " or ", buf, sizeof(buf)), "dsr-l2 or ipip",
		     "two names: only 'or'");
	/* Cut short, still a string. */
	ASSERT_STREQ(xlb_names_join(&xlb_sched_names, NULL, buf, 8), "maglev,", "truncated");
}

/* The ranges both sides check, by member; unknown members have none. */
static void test_check_ranges(void)
{
	const struct xlb_check_range *r;

	r = xlb_check_range("interval_ms");
	if (ASSERT_TRUE(r != NULL, "interval_ms")) {
		ASSERT_EQ(r->lo, 10, "interval from 10 ms");
		ASSERT_EQ(r->hi, 3600000, "to 60 minutes");
	}
	r = xlb_check_range("port");
	if (ASSERT_TRUE(r != NULL, "port"))
		ASSERT_EQ(r->lo, 0, "port 0: the VIP's");
	ASSERT_TRUE(xlb_check_range("path") == NULL, "a string setting has no range");
	ASSERT_TRUE(xlb_check_range("interval") == NULL, "the CLI's keyword is not a member");
	for (size_t i = 0; i < xlb_check_nranges; i++)
		ASSERT_TRUE(xlb_check_ranges[i].lo <= xlb_check_ranges[i].hi,
			    xlb_check_ranges[i].member);
}

int main(void)
{
	RUN_TEST(test_round_trip);
	RUN_TEST(test_join);
	RUN_TEST(test_check_ranges);
	return xt_finish();
}
