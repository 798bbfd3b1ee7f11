/* cmd_vip.c - `xlbctl vip`: add, set, del and show virtual services, and their text form. */
#include <errno.h>
#include <stdbool.h>

#include "grammar.h"
#include "output.h"

/* Schedulers and forwarding modes the CLI lets through: adding one is one line here (xlbd
 * checks again, against what the data plane it drives can do). */
static const char *const vip_scheds[] = {
	"maglev",
};

static const char *const vip_fwds[] = {
	"dsr-l2",
};

enum { KW_SCHED, KW_FWD };
static const char *const vip_keywords[] = {
	[KW_SCHED] = "sched",
	[KW_FWD] = "fwd",
};

/* [ sched SCHED ] [ fwd FWD ] in any order, each at most once: how many were given, or -errno. */
static int parse_vip_options(struct xlbctl_args *a, json_t *req)
{
	bool seen[ARRAY_SIZE(vip_keywords)] = {false};
	int kw, idx, ret, count = 0;

	while (xlbctl_peek(a)) {
		kw = xlbctl_next_keyword(a, vip_keywords, ARRAY_SIZE(vip_keywords));
		if (kw < 0)
			return kw;
		if (seen[kw])
			return xlbctl_fail(a, "'%s' given twice for '%s'", vip_keywords[kw],
					   a->ctx);
		seen[kw] = true;
		if (kw == KW_SCHED) {
			idx = xlbctl_next_name(a, vip_keywords[kw], vip_scheds,
					       ARRAY_SIZE(vip_scheds), "scheduler");
			if (idx < 0)
				return idx;
			ret = xlbctl_set_str(a, req, "sched", vip_scheds[idx]);
		} else {
			idx = xlbctl_next_name(a, vip_keywords[kw], vip_fwds, ARRAY_SIZE(vip_fwds),
					       "forwarding mode");
			if (idx < 0)
				return idx;
			ret = xlbctl_set_str(a, req, "fwd", vip_fwds[idx]);
		}
		if (ret)
			return ret;
		count++;
	}
	return count;
}

static int do_add(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	int ret;

	ret = xlbctl_next_vip(a, cmd->req, NULL);
	if (ret)
		return ret;
	ret = parse_vip_options(a, cmd->req);
	return ret < 0 ? ret : 0;
}

static int do_set(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	int ret;

	ret = xlbctl_next_vip(a, cmd->req, NULL);
	if (ret)
		return ret;
	ret = parse_vip_options(a, cmd->req);
	if (ret == 0)
		return xlbctl_fail(a, "nothing to set for 'vip set': give sched SCHED and/or "
				      "fwd FWD");
	return ret < 0 ? ret : 0;
}

static int do_del(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	return xlbctl_next_vip(a, cmd->req, NULL);
}

static int do_show(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	if (!xlbctl_peek(a))
		return 0;
	return xlbctl_next_vip(a, cmd->req, NULL);
}

/* `10.0.0.10:80/tcp  id 1  sched maglev  fwd dsr-l2  backends 3`, one line per VIP, from
 * "vips" (show) or "vip" (add, set). */
static int print_vips(json_t *result, FILE *out, char *err, size_t errlen)
{
	json_t *list = xlbctl_result_list(result, "vips", "vip");
	int ret;

	if (!list)
		return xlbctl_bad_result("\"vips\" list or \"vip\" object", err, errlen);
	ret = xlbctl_print_records(list, "vip", out);
	json_decref(list);
	if (ret)
		snprintf(err, errlen, "out of memory printing the answer");
	return ret;
}

static void vip_usage(FILE *out)
{
	fputs("Usage: xlbctl vip add VIP [ sched SCHED ] [ fwd FWD ]\n"
	      "       xlbctl vip set VIP { sched SCHED | fwd FWD } ...\n"
	      "       xlbctl vip del VIP\n"
	      "       xlbctl vip [ show [ VIP ] ]\n"
	      "       xlbctl vip help\n"
	      "where  VIP := ADDR:PORT/PROTO, IPv6 in brackets: 10.0.0.10:80/tcp, "
	      "[2001:db8::10]:443/udp\n"
	      "       PROTO := { tcp | udp }\n"
	      "       SCHED := { ",
	      out);
	xlbctl_print_alternatives(out, vip_scheds, ARRAY_SIZE(vip_scheds));
	fputs(" }   (default maglev)\n"
	      "       FWD := { ",
	      out);
	xlbctl_print_alternatives(out, vip_fwds, ARRAY_SIZE(vip_fwds));
	fputs(" }   (default dsr-l2)\n"
	      "vip del removes the VIP's backends too.\n",
	      out);
}

static const struct xlbctl_verb vip_verbs[] = {
	{"add", do_add, print_vips},
	{"del", do_del, NULL},
	{"set", do_set, print_vips},
	{"show", do_show, print_vips},
};

const struct xlbctl_object xlbctl_obj_vip = {
	.name = "vip",
	.verbs = vip_verbs,
	.nverbs = ARRAY_SIZE(vip_verbs),
	.usage = vip_usage,
};
