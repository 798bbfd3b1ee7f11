/* main.c - xlbctl, the command-line client of xlbd: parse, send, print, exit status. */
#include <errno.h>
#include <stdio.h>

#include "xlbctl.h"

int main(int argc, char **argv)
{
	char err[XLBCTL_ERR_MAX];
	struct xlbctl_cmd cmd;
	int ret, status;

	ret = xlbctl_parse(argc, argv, &cmd, err, sizeof(err));
	if (ret) {
		xlbctl_print_error(&cmd.opts, err, stdout, stderr);
		/* Out of memory is no fault of the command line. */
		status = ret == -EINVAL ? XLBCTL_EXIT_USAGE : XLBCTL_EXIT_ERROR;
	} else {
		status = xlbctl_run(&cmd, stdout, stderr) ? XLBCTL_EXIT_ERROR : XLBCTL_EXIT_OK;
	}
	xlbctl_cmd_free(&cmd);
	/* A full disk or closed pipe on stdout must not look like success to a script. */
	if (fflush(stdout) && status == XLBCTL_EXIT_OK) {
		perror("xlbctl: stdout");
		status = XLBCTL_EXIT_ERROR;
	}
	return status;
}
