/* cmd_prog.c - `xlbctl prog`: show the attached XDP program, or detach it and stop xlbd. */
#include "grammar.h"

static int do_show(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	(void)a;
	(void)cmd;
	return 0;
}

static int do_detach(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	(void)a;
	(void)cmd;
	return 0;
}

static void prog_usage(FILE *out)
{
	fputs("Usage: xlbctl prog [ show ]\n"
	      "       xlbctl prog detach\n"
	      "       xlbctl prog help\n"
	      "show: the interface, attach mode, program id and pin directory.\n"
	      "detach: xlbd detaches the program, removes its pinned maps (established flows are\n"
	      "forgotten) and exits.\n",
	      out);
}

/* Both print the result's members as "name value" lines (prog show: interface, mode, ...). */
static const struct xlbctl_verb prog_verbs[] = {
	{"show", do_show, NULL},
	{"detach", do_detach, NULL},
};

const struct xlbctl_object xlbctl_obj_prog = {
	.name = "prog",
	.verbs = prog_verbs,
	.nverbs = ARRAY_SIZE(prog_verbs),
	.usage = prog_usage,
};
