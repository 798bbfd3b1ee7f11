/* test_xlbctl_grammar.c - grammar.c's pieces: prefix matching, durations and weights. */
#include <errno.h>

#include "check.h"
#include "grammar.h"

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
	ASSERT_STREQ(err, "ambiguous word 's' for 'ctx': set, setup, show or sched",
		     "ambiguous text");
	ASSERT_EQ(xlbctl_match("se", names, 4, "word", NULL, err, sizeof(err)), -EINVAL,
		  "ambiguous");
	ASSERT_STREQ(err, "ambiguous word 'se': set or setup", "two candidates");
	ASSERT_EQ(xlbctl_match("x", names, 4, "word", NULL, err, sizeof(err)), -ENOENT, "unknown");
	ASSERT_STREQ(err, "unknown word 'x': expected set, setup, show or sched", "unknown text");
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
		bool good = cases[i].lo <= cases[i].hi;

		if (!(good ? xt_row("'%s' is %lu ms", cases[i].word, cases[i].want)
			   : xt_row("'%s' refused", cases[i].word)))
			continue;
		ms = 42;
		if (good) {
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
		ASSERT_HAS_PREFIX(err, "bad interval '", "message");
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
			if (!xt_row("%llu ms prints as '%s'", prints[i].ms, prints[i].text))
				continue;
			ASSERT_STREQ(xlbctl_format_duration(prints[i].ms, buf, sizeof(buf)),
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

int main(void)
{
	RUN_TEST(test_match);
	RUN_TEST(test_parse_duration);
	RUN_TEST(test_parse_weight);
	return xt_finish();
}
