/* check.c - the test runner behind check.h: one PASS/FAIL/SKIP line per test. */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

extern const char *__progname;

int xt_test_failures;
const char *xt_skip_reason;
static int passed, failed, skipped;
static const char *only; /* XT_ONLY=name runs one test */

bool xt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	xt_test_failures++;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

void xt_skip(const char *why)
{
	xt_skip_reason = why;
}

void xt_run(const char *name, void (*fn)(void))
{
	if (!only)
		only = getenv("XT_ONLY");
	if (only && *only && strcmp(only, name) != 0)
		return;
	xt_test_failures = 0;
	xt_skip_reason = NULL;
	fn();
	fflush(stderr);
	if (xt_test_failures) {
		printf("FAIL %s/%s\n", __progname, name);
		failed++;
	} else if (xt_skip_reason) {
		printf("SKIP %s/%s: %s\n", __progname, name, xt_skip_reason);
		skipped++;
	} else {
		printf("PASS %s/%s\n", __progname, name);
		passed++;
	}
	fflush(stdout);
}

int xt_finish(void)
{
	return failed ? 1 : 0;
}

bool xt_has_line(const char *text, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = text; (p = strstr(p, want)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}
