/* check.c - the test runner behind check.h: one PASS/FAIL/SKIP line per test and per row. */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

extern const char *__progname;

#define REASON_MAX 240 /* of the first failure, on the FAIL line */
#define ROW_MAX	   160 /* of a row's name */
#define DUMP_WIDTH 16  /* bytes per hex dump line */
#define DUMP_LINES 8   /* differing lines dumped at most */

int xt_test_failures;
const char *xt_skip_reason;
static int passed, failed, skipped;
static const char *only; /* XT_ONLY=test or test/row */

/* The running test, and its running row (row[0] == '\0': none). */
static const char *test_name;
static char test_reason[REASON_MAX];
static int rows_run, rows_failed;
static char row[ROW_MAX];
static int row_failures_at; /* xt_test_failures when the row started */
static const char *row_skip;
static char row_reason[REASON_MAX];

static void report(const char *name, const char *sub, int failures, const char *reason,
		   const char *skip)
{
	const char *sep = sub ? "/" : "";

	if (!sub)
		sub = "";
	if (failures) {
		printf("FAIL %s/%s%s%s: %s\n", __progname, name, sep, sub, reason);
		failed++;
	} else if (skip) {
		printf("SKIP %s/%s%s%s: %s\n", __progname, name, sep, sub, skip);
		skipped++;
	} else {
		printf("PASS %s/%s%s%s\n", __progname, name, sep, sub);
		passed++;
	}
	fflush(stdout);
}

static bool in_row(void)
{
	return row[0] != '\0';
}

bool xt_fail(const char *file, int line, const char *fmt, ...)
{
	char *reason = in_row() ? row_reason : test_reason;
	const char *base = strrchr(file, '/');
	va_list ap;
	char *nl;
	int n;

	base = base ? base + 1 : file;
	/* The first failure of a row or test names it on the FAIL line (its first line only). */
	if (!reason[0]) {
		n = snprintf(reason, REASON_MAX, "%s:%d: ", base, line);
		if (n > 0 && n < REASON_MAX) {
			va_start(ap, fmt);
			vsnprintf(reason + n, REASON_MAX - n, fmt, ap);
			va_end(ap);
		}
		nl = strchr(reason, '\n');
		if (nl)
			*nl = '\0';
	}
	xt_test_failures++;
	fflush(stdout);
	fprintf(stderr, "    %s:%d: ", file, line);
	if (in_row())
		fprintf(stderr, "[%s] ", row);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

void xt_skip(const char *why)
{
	if (in_row())
		row_skip = why;
	else
		xt_skip_reason = why;
}

void xt_row_end(void)
{
	int failures;

	if (!in_row())
		return;
	fflush(stderr);
	failures = xt_test_failures - row_failures_at;
	report(test_name, row, failures, row_reason, row_skip);
	rows_run++;
	if (failures)
		rows_failed++;
	row[0] = '\0';
}

/* XT_ONLY's part after the test name: NULL for every row. */
static const char *only_row(void)
{
	const char *slash = only ? strchr(only, '/') : NULL;

	return slash && slash[1] ? slash + 1 : NULL;
}

bool xt_row(const char *fmt, ...)
{
	char name[ROW_MAX];
	const char *want;
	va_list ap;
	size_t i;

	xt_row_end();
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	/* One line each: control and non-ASCII bytes print as '?'. */
	for (i = 0; name[i]; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			name[i] = '?';
	if (!name[0])
		snprintf(name, sizeof(name), "(empty)");
	want = only_row();
	if (want && strcmp(want, name) != 0)
		return false;
	memcpy(row, name, sizeof(row));
	row_failures_at = xt_test_failures;
	row_skip = NULL;
	row_reason[0] = '\0';
	return true;
}

void xt_run(const char *name, void (*fn)(void))
{
	size_t len;
	int own;

	if (!only)
		only = getenv("XT_ONLY");
	if (only && *only) {
		len = strcspn(only, "/");
		if (strlen(name) != len || strncmp(only, name, len) != 0)
			return;
	}
	test_name = name;
	xt_test_failures = 0;
	xt_skip_reason = NULL;
	test_reason[0] = '\0';
	rows_run = rows_failed = 0;
	row[0] = '\0';
	fn();
	xt_row_end();
	fflush(stderr);
	/* Failures outside rows are the test's own; the first of them gives the reason. */
	own = test_reason[0] ? 1 : 0;
	if (!own && rows_failed)
		snprintf(test_reason, sizeof(test_reason), "%d of %d rows failed", rows_failed,
			 rows_run);
	else if (own && rows_failed)
		snprintf(test_reason + strlen(test_reason),
			 sizeof(test_reason) - strlen(test_reason), " (and %d of %d rows failed)",
			 rows_failed, rows_run);
	report(name, NULL, own || rows_failed, test_reason, xt_skip_reason);
	test_name = NULL;
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

/* Where two texts part: byte offset, and line and column counted from 1. */
static void where_differ(const char *a, const char *b, size_t *off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; a[i] && a[i] == b[i]; i++) {
		if (a[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
	*off = i;
}

bool xt_check_str(const char *file, int line, const char *label, const char *actual,
		  const char *expected)
{
	size_t off;
	int l, c;

	if (actual && !strcmp(actual, expected))
		return true;
	if (!actual)
		return xt_fail(file, line, "%s: got (null), want \"%s\"", label, expected);
	where_differ(actual, expected, &off, &l, &c);
	/* Short one-line texts side by side; others in blocks, as a reader compares them. */
	if (!strchr(actual, '\n') && !strchr(expected, '\n') && strlen(actual) < 80 &&
	    strlen(expected) < 80)
		return xt_fail(file, line, "%s: got \"%s\", want \"%s\" (they differ at byte %zu)",
			       label, actual, expected, off);
	return xt_fail(
		file, line,
		"%s: texts differ at byte %zu (line %d, column %d)\n--- got:\n%s\n--- want:\n%s",
		label, off, l, c, actual, expected);
}

bool xt_check_prefix(const char *file, int line, const char *label, const char *actual,
		     const char *prefix)
{
	if (actual && !strncmp(actual, prefix, strlen(prefix)))
		return true;
	return xt_fail(file, line, "%s: \"%.*s%s\" does not start with \"%s\"", label,
		       actual ? (int)strlen(prefix) + 20 : 6, actual ? actual : "(null)",
		       actual && strlen(actual) > strlen(prefix) + 20 ? "..." : "", prefix);
}

bool xt_check_substr(const char *file, int line, const char *label, const char *actual,
		     const char *substr)
{
	if (actual && strstr(actual, substr))
		return true;
	if (actual && (strchr(actual, '\n') || strlen(actual) >= 80))
		return xt_fail(file, line, "%s: the text lacks \"%s\"\n--- text:\n%s", label,
			       substr, actual);
	return xt_fail(file, line, "%s: \"%s\" lacks \"%s\"", label, actual ? actual : "(null)",
		       substr);
}

/* One line of a hex dump: the offset, then DUMP_WIDTH bytes (or fewer, at the end). */
static void dump_line(const char *side, const unsigned char *p, size_t off, size_t n)
{
	size_t i;

	fprintf(stderr, "      %-4s %06zx:", side, off);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[off + i]);
	fputc('\n', stderr);
}

bool xt_check_mem(const char *file, int line, const char *label, const void *actual,
		  const void *expected, size_t len)
{
	const unsigned char *a = actual, *e = expected;
	size_t off, i, n, ndiff = 0, first = len, lines = 0, more = 0;

	if (!memcmp(a, e, len))
		return true;
	for (i = 0; i < len; i++) {
		if (a[i] != e[i]) {
			if (first == len)
				first = i;
			ndiff++;
		}
	}
	xt_fail(file, line, "%s: %zu of %zu bytes differ, the first at offset %zu", label, ndiff,
		len, first);
	/* Only the lines that differ, and the markers under the bytes that do. */
	for (off = 0; off < len; off += DUMP_WIDTH) {
		n = len - off < DUMP_WIDTH ? len - off : DUMP_WIDTH;
		if (!memcmp(a + off, e + off, n))
			continue;
		if (++lines > DUMP_LINES) {
			more++;
			continue;
		}
		dump_line("got", a, off, n);
		dump_line("want", e, off, n);
		fprintf(stderr, "%*s", 18, "");
		for (i = 0; i < n; i++)
			fputs(a[off + i] != e[off + i] ? " ^^" : "   ", stderr);
		fputc('\n', stderr);
	}
	if (more)
		fprintf(stderr, "      ... and %zu more lines that differ\n", more);
	return false;
}
