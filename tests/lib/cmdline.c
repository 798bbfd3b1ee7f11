/* cmdline.c - command lines split into argv, and stdout/stderr captured in memory. */
#include "cmdline.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

void cmdline_split(struct cmdline *c, const char *argv0, const char *line)
{
	char *save = NULL, *w;

	snprintf(c->buf, sizeof(c->buf), "%s", line);
	c->argv[0] = (char *)argv0;
	c->argc = 1;
	for (w = strtok_r(c->buf, " ", &save); w && c->argc < CMDLINE_MAX_ARGS - 1;
	     w = strtok_r(NULL, " ", &save))
		c->argv[c->argc++] = w;
	c->argv[c->argc] = NULL;
}

bool capture_start(struct captured *c)
{
	c->outf = open_memstream(&c->out, &c->olen);
	c->errf = open_memstream(&c->err, &c->elen);
	return ASSERT_TRUE(c->outf && c->errf, "memstream");
}

void capture_end(struct captured *c)
{
	if (c->outf)
		fclose(c->outf);
	if (c->errf)
		fclose(c->errf);
	c->outf = c->errf = NULL;
}

void captured_free(struct captured *c)
{
	capture_end(c);
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}
