/* check.h - assertions and the per-binary test runner used by unit and bpf tests. */
#ifndef XLB_CHECK_H
#define XLB_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Each test binary registers tests with RUN_TEST(fn) and ends with xt_finish(). Output, one line
 * per test, is what tests/run.sh counts:
 *   PASS <binary>/<test>
 *   FAIL <binary>/<test>
 *   SKIP <binary>/<test>: <why>
 * Assertions return bool, so a test reads: if (!ASSERT_OK(err, "load")) return;
 */

extern int xt_test_failures; /* assertion failures in the running test */
extern const char *xt_skip_reason;

void xt_run(const char *name, void (*fn)(void));
int xt_finish(void); /* returns the process exit status */
void xt_skip(const char *why);
/* The whole line `want` occurs in text (metrics pages, logs). */
bool xt_has_line(const char *text, const char *want);
bool xt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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

#define ASSERT_MEM_EQ(actual, expected, len, label)                                  \
	({                                                                           \
		bool _ok = memcmp((actual), (expected), (len)) == 0;                 \
		if (!_ok)                                                            \
			xt_fail(__FILE__, __LINE__, "%s: %zu bytes differ", (label), \
				(size_t)(len));                                      \
		_ok;                                                                 \
	})

#define RUN_TEST(fn) xt_run(#fn, fn)

#endif /* XLB_CHECK_H */
