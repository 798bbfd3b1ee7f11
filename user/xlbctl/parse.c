/* parse.c - xlbctl_parse: options, OBJECT and COMMAND into a request; the tool's usage. */
#include <errno.h>
#include <string.h>

#include "ctl_proto.h"
#include "grammar.h"

static const struct xlbctl_object *const objects[] = {
	&xlbctl_obj_vip,  &xlbctl_obj_backend, &xlbctl_obj_stats, &xlbctl_obj_prog,
	&xlbctl_obj_flow, &xlbctl_obj_config,  &xlbctl_obj_node,
};

/* Verbs of one object, plus "help", fit in a names array of this size. */
#define MAX_VERBS 8

enum { OPT_JSON, OPT_PRETTY, OPT_SOCKET, OPT_HELP };
static const char *const option_names[] = {
	[OPT_JSON] = "json",
	[OPT_PRETTY] = "pretty",
	[OPT_SOCKET] = "socket",
	[OPT_HELP] = "help",
};

void xlbctl_usage(FILE *out)
{
	size_t i;

	fputs("Usage: xlbctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
	      "       xlbctl help [ OBJECT ]\n"
	      "where  OBJECT := { ",
	      out);
	for (i = 0; i < ARRAY_SIZE(objects); i++)
		fprintf(out, "%s%s", i ? " | " : "", objects[i]->name);
	fputs(" }\n"
	      "       OPTIONS := { -j[son] | -p[retty] | -s[ocket] PATH | -h[elp] }\n"
	      "Objects, commands, keywords and options may be shortened to any unambiguous\n"
	      "prefix (xlbctl b a = xlbctl backend add); COMMAND defaults to show.\n"
	      "-j prints xlbd's JSON result, and errors as {\"error\":\"...\"} on stdout;\n"
	      "-p indents it (and implies -j).\n"
	      "-s PATH talks to xlbd at PATH, not at " XLB_CTL_SOCK_DEFAULT ".\n"
	      "Exit status: 0 done; 1 xlbd refused the request, could not be reached or\n"
	      "answered nonsense; 2 bad command line (nothing was sent).\n",
	      out);
}

/*
 * Options come before OBJECT, as with ip: one or two dashes and a prefix of the name (-j, -json,
 * --js); the socket path as the next word or after '=' (--socket=PATH). No clusters (-jp):
 * with one-dash names, "-json" could mean -json or -j -s on.
 */
static int parse_options(struct xlbctl_args *a, struct xlbctl_cmd *cmd, bool *help)
{
	const char *w, *body, *eq, *value;
	char name[16], e[XLBCTL_ECHO_SIZE];
	size_t len;
	int opt;

	while ((w = xlbctl_peek(a)) && w[0] == '-') {
		xlbctl_next(a);
		if (!strcmp(w, "--"))
			break;
		body = w + 1 + (w[1] == '-');
		eq = strchr(body, '=');
		len = eq ? (size_t)(eq - body) : strlen(body);
		opt = -ENOENT;
		if (len && len < sizeof(name)) {
			memcpy(name, body, len);
			name[len] = '\0';
			opt = xlbctl_match(name, option_names, ARRAY_SIZE(option_names), "option",
					   NULL, a->err, a->errlen);
		}
		if (opt == -ENOENT)
			return xlbctl_fail(a,
					   "unknown option '%s': expected -j, -p, -s PATH or -h, "
					   "one per word",
					   xlbctl_echo(e, w));
		if (opt < 0)
			return -EINVAL;
		if (eq && opt != OPT_SOCKET)
			return xlbctl_fail(a, "option '%s' takes no value", xlbctl_echo(e, w));
		switch (opt) {
		case OPT_JSON:
			cmd->opts.json = true;
			break;
		case OPT_PRETTY:
			cmd->opts.json = true;
			cmd->opts.pretty = true;
			break;
		case OPT_SOCKET:
			value = eq ? eq + 1 : xlbctl_next(a);
			if (!value || !*value)
				return xlbctl_fail(a, "missing PATH after '%s'", xlbctl_echo(e, w));
			cmd->opts.socket = value;
			break;
		default:
			*help = true;
			break;
		}
	}
	return 0;
}

/* COMMAND [ARGS] of obj: the verb (show when none is given), then the verb's own words. */
static int parse_verb(struct xlbctl_args *a, const struct xlbctl_object *obj,
		      struct xlbctl_cmd *cmd)
{
	const struct xlbctl_verb *verb = NULL;
	const char *names[MAX_VERBS + 1], *w;
	size_t i, n = obj->nverbs;
	int idx, ret;

	if (n > MAX_VERBS)
		return xlbctl_fail(a, "object '%s' has too many commands", obj->name);
	for (i = 0; i < n; i++)
		names[i] = obj->verbs[i].name;
	names[n] = "help";

	snprintf(a->ctx, sizeof(a->ctx), "%s", obj->name);
	w = xlbctl_peek(a);
	if (w) {
		idx = xlbctl_match(w, names, n + 1, "command", a->ctx, a->err, a->errlen);
		if (idx >= 0) {
			xlbctl_next(a);
			if (idx == (int)n) {
				cmd->usage = obj->usage;
				return xlbctl_end(a);
			}
			verb = &obj->verbs[idx];
		} else if (idx == -ENOENT && obj->show_takes_words) {
			/* The words are show's (`xlbctl stats vip X`): show reports on them. */
			if (a->err && a->errlen)
				a->err[0] = '\0';
		} else {
			return -EINVAL;
		}
	}
	for (i = 0; !verb && i < n; i++)
		if (!strcmp(obj->verbs[i].name, "show"))
			verb = &obj->verbs[i];
	if (!verb)
		return xlbctl_fail(a, "missing command for '%s'", obj->name);

	snprintf(a->ctx, sizeof(a->ctx), "%s %s", obj->name, verb->name);
	/* `xlbctl vip add help`, as `ip link add help` */
	w = xlbctl_peek(a);
	if (w && !strcmp(w, "help") && a->i + 1 == a->argc) {
		cmd->usage = obj->usage;
		return 0;
	}
	cmd->req = json_pack("{s:s}", "cmd", a->ctx);
	if (!cmd->req) {
		if (a->err && a->errlen)
			snprintf(a->err, a->errlen, "out of memory building the request");
		return -ENOMEM;
	}
	cmd->print = verb->print;
	ret = verb->parse(a, cmd);
	if (ret)
		return ret;
	return xlbctl_end(a);
}

/* OBJECT ... or help [ OBJECT ]; help is true after -h. */
static int parse_object(struct xlbctl_args *a, struct xlbctl_cmd *cmd, bool help)
{
	const char *names[ARRAY_SIZE(objects) + 1], *w;
	size_t i, n = ARRAY_SIZE(objects);
	int idx;

	for (i = 0; i < n; i++)
		names[i] = objects[i]->name;
	names[n] = "help";

	w = xlbctl_next(a);
	if (!w) {
		if (help) {
			cmd->usage = xlbctl_usage;
			return 0;
		}
		return xlbctl_fail(a, "missing OBJECT: expected vip, backend, stats, prog, flow or "
				      "config "
				      "(see xlbctl help)");
	}
	idx = xlbctl_match(w, names, n + 1, "object", NULL, a->err, a->errlen);
	if (idx < 0)
		return -EINVAL;
	if (idx == (int)n) {
		/* help [ OBJECT ] */
		snprintf(a->ctx, sizeof(a->ctx), "help");
		w = xlbctl_next(a);
		if (!w) {
			cmd->usage = xlbctl_usage;
			return 0;
		}
		idx = xlbctl_match(w, names, n, "object", NULL, a->err, a->errlen);
		if (idx < 0)
			return -EINVAL;
		cmd->usage = objects[idx]->usage;
		return xlbctl_end(a);
	}
	if (help) {
		cmd->usage = objects[idx]->usage;
		return 0;
	}
	return parse_verb(a, objects[idx], cmd);
}

int xlbctl_parse(int argc, char **argv, struct xlbctl_cmd *cmd, char *err, size_t errlen)
{
	struct xlbctl_args a = {
		.argc = argc,
		.argv = argv,
		.i = 1,
		.ctx = "xlbctl",
		.err = err,
		.errlen = errlen,
	};
	bool help = false;
	int ret;

	memset(cmd, 0, sizeof(*cmd));
	if (err && errlen)
		err[0] = '\0';
	if (argc < 1 || !argv)
		return xlbctl_fail(&a, "no command line");
	ret = parse_options(&a, cmd, &help);
	if (!ret)
		ret = parse_object(&a, cmd, help);
	if (!ret)
		return 0;
	/* Nothing half-built leaves here: only the options, which say how to report the error. */
	json_decref(cmd->req);
	cmd->req = NULL;
	cmd->print = NULL;
	cmd->usage = NULL;
	return ret == -ENOMEM ? ret : -EINVAL;
}

void xlbctl_cmd_free(struct xlbctl_cmd *cmd)
{
	if (!cmd)
		return;
	json_decref(cmd->req);
	cmd->req = NULL;
}
