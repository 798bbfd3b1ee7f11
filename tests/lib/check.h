/* check.h - assertions and the per-binary test runner used by unit and bpf tests. */
#ifndef XLB_CHECK_H
#define XLB_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/*
 * Each test binary registers tests with RUN_TEST(fn) and ends with xt_finish(). Output, one line
 * per test and one per row of a table-driven test, is what tests/run.sh counts:
 *   PASS <binary>/<test>[/<row>]
 *   FAIL <binary>/<test>[/<row>]: <file>:<line>: <the first failed assertion>
 *   SKIP <binary>/<test>[/<row>]: <why>
 * Every failed assertion is also written to stderr, in full (hex dumps, both texts).
 * Assertions return bool, so a test reads: if (!ASSERT_OK(err, "load")) return;
 *
 * Rows: xt_row() ends the running test's previous row, if any, and starts one; assertions from
 * there to the next xt_row(), xt_row_end() or the end of the test are the row's. A row gets its
 * own line; the test's line follows its rows and fails when any row failed.
 *
 *   for (i = 0; i < ARRAY_SIZE(cases); i++) {
 *           if (!xt_row("%s", cases[i].desc))
 *                   continue;
 *           ASSERT_EQ(run(&cases[i]), cases[i].want, "result");
 *   }
 *   xt_row_end();   (only when assertions of the test itself follow)
 *
 * XT_ONLY=<test> runs one test, XT_ONLY=<test>/<row> one row of it (xt_row() returns false
 * for the others).
 */

extern int xt_test_failures; /* assertion failures in the running test, its rows included */
extern const char *xt_skip_reason;

void xt_run(const char *name, void (*fn)(void));
int xt_finish(void);	       /* returns the process exit status */
void xt_skip(const char *why); /* skips the running row, or the test outside rows */
bool xt_row(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xt_row_end(void);
/* The whole line `want` occurs in text (metrics pages, logs). */
bool xt_has_line(const char *text, const char *want);
bool xt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Behind the string and memory assertions: report and return whether they held. */
bool xt_check_str(const char *file, int line, const char *label, const char *actual,
		  const char *expected);
bool xt_check_prefix(const char *file, int line, const char *label, const char *actual,
		     const char *prefix);
bool xt_check_substr(const char *file, int line, const char *label, const char *actual,
		     const char *substr);
bool xt_check_mem(const char *file, int line, const char *label, const void *actual,
		  const void *expected, size_t len);

#define ASSERT_TRUE(cond, label)                                                              \
	({                                                                                    \
		bool _ok = (cond);                                                            \
		if (!_ok)                                                                     \
			xt_fail(__FILE__, __LINE__, "%s: expected true: %s", (label), #cond); \
		_ok;                                                                          \
	})

#define ASSERT_EQ(actual, expected, label)                                                       \
	({                                                                                       \
		long long _a = (long long)(actual), _e = (long long)(expected);                  \
		bool _ok = _a == _e;                                                             \
		if (!_ok)                                                                        \
			xt_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", (label), _a, _e); \
		_ok;                                                                             \
	})

#define ASSERT_NEQ(actual, unexpected, label)                                                    \
	({                                                                                       \
		long long _a = (long long)(actual), _e = (long long)(unexpected);                \
		bool _ok = _a != _e;                                                             \
		if (!_ok)                                                                        \
			xt_fail(__FILE__, __LINE__, "%s: got %lld, want anything else", (label), \
				_a);                                                             \
		_ok;                                                                             \
	})

#define ASSERT_LE(actual, bound, label)                                                         \
	({                                                                                      \
		double _a = (double)(actual), _b = (double)(bound);                             \
		bool _ok = _a <= _b;                                                            \
		if (!_ok)                                                                       \
			xt_fail(__FILE__, __LINE__, "%s: got %g, want <= %g", (label), _a, _b); \
		_ok;                                                                            \
	})

#define ASSERT_OK(err, label)                                                           \
	({                                                                              \
		long long _e = (long long)(err);                                        \
		bool _ok = _e == 0;                                                     \
		if (!_ok)                                                               \
			xt_fail(__FILE__, __LINE__, "%s: error %lld (%s)", (label), _e, \
				strerror(_e < 0 ? (int)-_e : (int)_e));                 \
		_ok;                                                                    \
	})

/* Strings: a NULL actual fails (and prints as "(null)"); expected must not be NULL. */
#define ASSERT_STREQ(actual, expected, label) \
	xt_check_str(__FILE__, __LINE__, (label), (actual), (expected))
#define ASSERT_HAS_PREFIX(actual, prefix, label) \
	xt_check_prefix(__FILE__, __LINE__, (label), (actual), (prefix))
#define ASSERT_HAS_SUBSTR(actual, substr, label) \
	xt_check_substr(__FILE__, __LINE__, (label), (actual), (substr))

/* len bytes alike; on failure both sides are hex-dumped, the differing bytes marked. */
#define ASSERT_MEM_EQ(actual, expected, len, label) \
	xt_check_mem(__FILE__, __LINE__, (label), (actual), (expected), (len))

#define RUN_TEST(fn) xt_run(#fn, fn)

#endif /* XLB_CHECK_H */
