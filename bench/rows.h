/* rows.h - result rows of `make bench`: summary statistics and the JSON every bench step writes. */
#ifndef XLB_BENCH_ROWS_H
#define XLB_BENCH_ROWS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Every step of `make bench` (xlb-bench, ctl-bench, veth-pps, ctl_live.sh) writes a file
 * {"rows": [ROW, ...]} into build/bench/; bench/report.py merges them into
 * build/bench/results.json and prints the table. A ROW:
 *   group      "dataplane", "cost", "controller", "veth"
 *   name       unique over all rows
 *   method     how it was measured (docs/benchmarks.md explains every method)
 *   unit       "ns", "us", "ms", "%", "Mpps", "ratio"
 *   median, min, max, n   over n samples (trials or runs)
 *   baseline, above_baseline   the row it is compared with and median - that row's median
 *   target, target_op          a goal (">=" or "<="): reported, never asserted
 *   target_on                  "above_baseline" when the goal is for above_baseline, not median
 *   note       free text
 */
struct bench_row {
	const char *group;
	const char *name;
	const char *method;
	const char *unit;
	double median, min, max;
	int n;
	const char *baseline; /* NULL: none */
	double above_baseline;
	const char *target_op; /* NULL: no target */
	double target;
	int target_above_baseline; /* the target is for above_baseline, not median */
	const char *note;	   /* NULL: none */
};

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median (the lower one of an even count), min and max of n samples; the array is sorted. */
static inline void bench_summary(double *s, int n, struct bench_row *r)
{
	r->n = n;
	if (n <= 0) {
		r->median = r->min = r->max = 0;
		return;
	}
	qsort(s, n, sizeof(*s), bench_cmp_double);
	r->median = s[(n - 1) / 2];
	r->min = s[0];
	r->max = s[n - 1];
}

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Names and notes are ours (no control characters); quotes and backslashes are escaped. */
static inline void bench_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static inline void bench_write_row(FILE *f, const struct bench_row *r, int last)
{
	fprintf(f, "    {\"group\": ");
	bench_json_str(f, r->group);
	fprintf(f, ", \"name\": ");
	bench_json_str(f, r->name);
	fprintf(f, ", \"method\": ");
	bench_json_str(f, r->method);
	fprintf(f, ", \"unit\": ");
	bench_json_str(f, r->unit);
	fprintf(f, ", \"median\": %.4g, \"min\": %.4g, \"max\": %.4g, \"n\": %d", r->median, r->min,
		r->max, r->n);
	if (r->baseline) {
		fprintf(f, ", \"baseline\": ");
		bench_json_str(f, r->baseline);
		fprintf(f, ", \"above_baseline\": %.4g", r->above_baseline);
	}
	if (r->target_op) {
		fprintf(f, ", \"target_op\": ");
		bench_json_str(f, r->target_op);
		fprintf(f, ", \"target\": %.4g", r->target);
		if (r->target_above_baseline)
			fprintf(f, ", \"target_on\": \"above_baseline\"");
	}
	if (r->note) {
		fprintf(f, ", \"note\": ");
		bench_json_str(f, r->note);
	}
	fprintf(f, "}%s\n", last ? "" : ",");
}

/* Writes {"rows": [...]} to path through a temporary file; 0 or -errno. */
static inline int bench_write_rows(const char *path, const struct bench_row *rows, int n)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\n  \"rows\": [\n");
	for (int i = 0; i < n; i++)
		bench_write_row(f, &rows[i], i + 1 == n);
	fprintf(f, "  ]\n}\n");
	if (fclose(f))
		return -errno;
	return rename(tmp, path) ? -errno : 0;
}

#endif /* XLB_BENCH_ROWS_H */
