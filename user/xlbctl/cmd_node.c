/* cmd_node.c - `xlbctl node`: this LB node's maintenance state and its VIP address routes. */
#include "grammar.h"
#include "output.h"

static int do_words(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	(void)cmd;
	return xlbctl_end(a);
}

/* node STATE, then one line per VIP address: announced or withdrawn, and why. */
static int print_show(json_t *r, FILE *out, char *err, size_t errlen)
{
	json_t *addrs = json_object_get(r, "addresses"), *e;
	size_t i;

	if (!json_is_string(json_object_get(r, "state")) || !json_is_array(addrs))
		return xlbctl_bad_result("\"state\" and \"addresses\"", err, errlen);
	fprintf(out, "node %s route_table %lld\n", json_string_value(json_object_get(r, "state")),
		(long long)json_integer_value(json_object_get(r, "route_table")));
	json_array_foreach(addrs, i, e) {
		const char *why = json_string_value(json_object_get(e, "error"));

		fprintf(out, "%s %s reason \"%s\" transitions %lld%s",
			json_string_value(json_object_get(e, "address")),
			json_is_true(json_object_get(e, "announced")) ? "announced" : "withdrawn",
			json_string_value(json_object_get(e, "reason")),
			(long long)json_integer_value(json_object_get(e, "transitions")),
			json_is_true(json_object_get(e, "pending")) ? " pending" : "");
		/* Why the kernel refused the route: a route of another protocol is there... */
		if (why)
			fprintf(out, " (%s)", why);
		fputc('\n', out);
	}
	return 0;
}

static void node_usage(FILE *out)
{
	fputs("Usage: xlbctl node [ show ]\n"
	      "       xlbctl node { drain | undrain }\n"
	      "       xlbctl node help\n"
	      "show: whether this node is in service or drained, and for each VIP address whether\n"
	      "its route is announced (in xlbd's route table, which the routing daemon exports).\n"
	      "drain: maintenance: every VIP address is withdrawn, so the router sends new and\n"
	      "established flows to the other nodes; the program keeps balancing what still\n"
	      "arrives. Kept in the state file: a restarted node stays drained.\n"
	      "undrain: back in service: addresses with a usable backend are announced again.\n",
	      out);
}

static const struct xlbctl_verb node_verbs[] = {
	{"show", do_words, print_show},
	{"drain", do_words, NULL},
	{"undrain", do_words, NULL},
};

const struct xlbctl_object xlbctl_obj_node = {
	.name = "node",
	.verbs = node_verbs,
	.nverbs = ARRAY_SIZE(node_verbs),
	.usage = node_usage,
};
