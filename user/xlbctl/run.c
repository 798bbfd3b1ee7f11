/* run.c - xlbctl_run: print help, or send the request to xlbd and print its answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl_client.h"
#include "xlbctl.h"

int xlbctl_run(const struct xlbctl_cmd *cmd, FILE *out, FILE *errf)
{
	char err[XLBCTL_ERR_MAX];
	struct xlb_ctl *ctl;
	char *req, *answer;
	int ret;

	if (cmd->usage) {
		cmd->usage(out);
		return 0;
	}
	if (!cmd->req) {
		xlbctl_print_error(&cmd->opts, "nothing to do", out, errf);
		return -EINVAL;
	}
	if (cmd->watch)
		return xlbctl_watch(cmd, out, errf);
	/* Compact: no newline can appear, and a newline ends a request. */
	req = json_dumps(cmd->req, JSON_COMPACT);
	if (!req) {
		xlbctl_print_error(&cmd->opts, "out of memory building the request", out, errf);
		return -ENOMEM;
	}
	ret = xlb_ctl_connect(cmd->opts.socket, cmd->opts.timeout_ms, &ctl, err, sizeof(err));
	if (ret)
		goto err_free_req;
	if (cmd->config_file) {
		/* The file goes into the request (or ahead of it): built again. */
		ret = xlbctl_config_send(cmd, ctl, err, sizeof(err));
		free(req);
		req = ret ? NULL : json_dumps(cmd->req, JSON_COMPACT);
		if (!ret && !req) {
			snprintf(err, sizeof(err), "out of memory building the request");
			ret = -ENOMEM;
		}
		if (ret)
			goto err_close;
	}
	ret = xlb_ctl_call(ctl, req, &answer, err, sizeof(err));
	if (ret)
		goto err_close;
	xlb_ctl_close(ctl);
	free(req);
	ret = xlbctl_print_answer(cmd, answer, out, errf);
	free(answer);
	return ret;

err_close:
	xlb_ctl_close(ctl);
err_free_req:
	free(req);
	xlbctl_print_error(&cmd->opts, err, out, errf);
	return ret;
}
