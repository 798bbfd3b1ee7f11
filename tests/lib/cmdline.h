/* cmdline.h - for tests of command-line code: a line split into argv, output captured. */
#ifndef XLB_TEST_CMDLINE_H
#define XLB_TEST_CMDLINE_H

#include <stdbool.h>
#include <stdio.h>

#define CMDLINE_MAX_ARGS 32

/* A command line split on spaces, with argv[0] given (no test word holds a space). */
struct cmdline {
	char buf[512];
	char *argv[CMDLINE_MAX_ARGS];
	int argc;
};

void cmdline_split(struct cmdline *c, const char *argv0, const char *line);

/* Both streams of a run in memory: write to outf/errf, then out/err hold the texts. */
struct captured {
	int ret;
	char *out, *err;
	FILE *outf, *errf;
	size_t olen, elen;
};

/* Opens both streams; false (and a failed assertion) if either could not be. */
bool capture_start(struct captured *c);
/* Closes what is open: out and err are then complete. */
void capture_end(struct captured *c);
void captured_free(struct captured *c);

#endif /* XLB_TEST_CMDLINE_H */
