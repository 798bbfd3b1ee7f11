/* test_text.c - unit tests of user/lib/text.c: quoting user input, cutting UTF-8 text. */
#include <string.h>

#include "check.h"
#include "text.h"

/* "a€b": € is 3 bytes (e2 82 ac). A cut inside it goes back to before it. */
static void test_utf8_cut(void)
{
	const char *s = "a\xe2\x82\xac"
			"b\xc3\xa9"
			"c\xf0\x9f\x98\x80";
	static const struct {
		size_t len, want;
	} cases[] = {
		{0, 0}, {1, 1}, {2, 1}, {3, 1},	 {4, 4},  {5, 5},   {6, 5},
		{7, 7}, {8, 8}, {9, 8}, {10, 8}, {11, 8}, {12, 12},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char label[32];

		snprintf(label, sizeof(label), "cut at %zu", cases[i].len);
		ASSERT_EQ(xlb_utf8_cut(s, cases[i].len), cases[i].want, label);
	}
	/* Not UTF-8 (a stray continuation byte run, a bad lead byte): left as it is. */
	ASSERT_EQ(xlb_utf8_cut("\x80\x80\x80\x80", 4), 4, "continuation bytes only");
	ASSERT_EQ(xlb_utf8_cut("a\xff", 2), 2, "bad lead byte");
}

/* A 255-byte error text quoting a name of 3-byte characters, at each of the 3 offsets, is
 * whole characters once cut. */
static void test_utf8_cut_message(void)
{
	const char *prefix = "bad VIP '";
	char msg[256];

	for (size_t pad = 0; pad < 3; pad++) {
		size_t n, at = strlen(prefix) + pad;

		memcpy(msg, prefix, strlen(prefix));
		memset(msg + strlen(prefix), 'x', pad);
		for (; at + 3 <= sizeof(msg) - 1; at += 3)
			memcpy(msg + at, "\xe2\x82\xac", 3);
		/* What snprintf leaves when the name goes on: 255 bytes, the last character cut. */
		if (at < sizeof(msg) - 1)
			memcpy(msg + at, "\xe2\x82", sizeof(msg) - 1 - at);
		msg[sizeof(msg) - 1] = '\0';
		n = xlb_utf8_cut(msg, strlen(msg));
		ASSERT_EQ((n - strlen(prefix) - pad) % 3, 0, "whole characters only");
		ASSERT_LE(strlen(msg) - n, 2, "at most a partial character dropped");
	}
}

static void test_printable(void)
{
	char buf[16];

	ASSERT_TRUE(!strcmp(xlb_printable(buf, "a\nb\xc3\xa9", 5, 8), "a?b??"), "non-ASCII as ?");
	ASSERT_TRUE(!strcmp(xlb_printable(buf, "abcdefgh", 8, 4), "abcd..."), "cut with ...");
}

int main(void)
{
	RUN_TEST(test_utf8_cut);
	RUN_TEST(test_utf8_cut_message);
	RUN_TEST(test_printable);
	return xt_finish();
}
