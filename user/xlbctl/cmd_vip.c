/* cmd_vip.c - `xlbctl vip`: add, set, del and show virtual services, and their text form. */
#include <errno.h>
#include <stdbool.h>

#include "checkopts.h"
#include "grammar.h"
#include "names.h"
#include "output.h"

/* Schedulers and forwarding modes: names.c's, which xlbd knows too. */
#define SCHEDS xlb_sched_names.names, xlb_sched_names.n
#define FWDS   xlb_fwd_names.names, xlb_fwd_names.n

static const char *const on_off[] = {"on", "off"};

enum { KW_SCHED, KW_FWD, KW_HASH_DPORT, KW_NVIP };
static const char *const vip_keywords[] = {
	[KW_SCHED] = "sched",
	[KW_FWD] = "fwd",
	[KW_HASH_DPORT] = "hash-dport",
};

/* The keywords of vip add and set: the VIP's own, then the check settings (checkopts.c). */
#define MAX_KEYWORDS 24

/*
 * [ sched SCHED ] [ fwd FWD ] [ check KIND ] [ CHECKOPT ]... in any order, each at most once.
 * The check settings go into req["check"], made at the first of them: xlbd merges that object
 * onto the VIP's current settings. Returns how many keywords were given, or -errno.
 */
static int parse_vip_options(struct xlbctl_args *a, json_t *req)
{
	size_t i, n = KW_NVIP + xlbctl_check_nkeywords();
	const char *names[MAX_KEYWORDS];
	bool seen[MAX_KEYWORDS] = {false};
	json_t *check = NULL;
	int kw, idx, ret, count = 0;

	if (n > MAX_KEYWORDS)
		return xlbctl_fail(a, "'%s' has too many keywords", a->ctx);
	for (i = 0; i < n; i++)
		names[i] = i < KW_NVIP ? vip_keywords[i] : xlbctl_check_keyword(i - KW_NVIP);
	while (xlbctl_peek(a)) {
		kw = xlbctl_next_keyword(a, names, n);
		if (kw < 0)
			return kw;
		if (seen[kw])
			return xlbctl_fail(a, "'%s' given twice for '%s'", names[kw], a->ctx);
		seen[kw] = true;
		if (kw == KW_SCHED) {
			idx = xlbctl_next_name(a, names[kw], SCHEDS, "scheduler");
			ret = idx < 0 ? idx
				      : xlbctl_set_str(a, req, "sched",
						       xlb_name(&xlb_sched_names, idx));
		} else if (kw == KW_HASH_DPORT) {
			idx = xlbctl_next_name(a, names[kw], on_off, ARRAY_SIZE(on_off), "setting");
			ret = idx < 0 ? idx
				      : xlbctl_set_new(a, req, "hash_dport",
						       json_boolean(idx == 0));
		} else if (kw == KW_FWD) {
			idx = xlbctl_next_name(a, names[kw], FWDS, "forwarding mode");
			ret = idx < 0 ? idx
				      : xlbctl_set_str(a, req, "fwd",
						       xlb_name(&xlb_fwd_names, idx));
		} else {
			if (!check) {
				check = json_object();
				ret = xlbctl_set_new(a, req, "check", check);
				if (ret)
					return ret;
			}
			ret = xlbctl_check_parse(a, kw - KW_NVIP, check);
		}
		if (ret)
			return ret;
		count++;
	}
	if (check) {
		ret = xlbctl_check_validate(a, check);
		if (ret)
			return ret;
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
		return xlbctl_fail(a, "nothing to set for 'vip set': give sched SCHED, fwd FWD, "
				      "check KIND or a check setting (see xlbctl vip help)");
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

/* The VIPs of list with "check" as its summary ("check http /healthz every 200ms rise 2
 * fall 3"), in place: a shallow copy of each record. A new reference, NULL on ENOMEM. */
static json_t *with_check_summaries(json_t *list)
{
	json_t *out = json_array(), *rec, *copy;
	char summary[512];
	size_t i;

	for (i = 0; out && i < json_array_size(list); i++) {
		rec = json_array_get(list, i);
		copy = json_is_object(rec) ? json_copy(rec) : json_incref(rec);
		/* Setting a member that is there keeps its place among the others. */
		if (copy && json_is_object(copy) &&
		    xlbctl_check_summary(json_object_get(copy, "check"), summary,
					 sizeof(summary)) &&
		    json_object_set_new(copy, "check", json_string(summary))) {
			json_decref(copy);
			copy = NULL;
		}
		if (!copy || json_array_append_new(out, copy)) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

/* `10.0.0.10:80/tcp  id 1  sched maglev  fwd dsr-l2  backends 3  check none`, one line per
 * VIP, from "vips" (show) or "vip" (add, set). */
static int print_vips(json_t *result, FILE *out, char *err, size_t errlen)
{
	json_t *list = xlbctl_result_list(result, "vips", "vip"), *lines;
	int ret = -ENOMEM;

	if (!list)
		return xlbctl_bad_result("\"vips\" list or \"vip\" object", err, errlen);
	lines = with_check_summaries(list);
	if (lines)
		ret = xlbctl_print_records(lines, "vip", out);
	json_decref(lines);
	json_decref(list);
	if (ret)
		snprintf(err, errlen, "out of memory printing the answer");
	return ret;
}

static void vip_usage(FILE *out)
{
	fputs("Usage: xlbctl vip add VIP [ sched SCHED ] [ hash-dport { on | off } ] [ fwd FWD ]\n"
	      "                          [ check KIND ] [ CHECKOPT ]...\n"
	      "       xlbctl vip set VIP { sched SCHED | hash-dport { on | off } | fwd FWD |\n"
	      "                            check KIND | CHECKOPT } ...\n"
	      "       xlbctl vip del VIP\n"
	      "       xlbctl vip [ show [ VIP ] ]\n"
	      "       xlbctl vip help\n"
	      "where  VIP := ADDR:PORT/PROTO, IPv6 in brackets: 10.0.0.10:80/tcp, "
	      "[2001:db8::10]:443/udp\n"
	      "       PROTO := { tcp | udp }\n"
	      "       SCHED := { ",
	      out);
	xlbctl_print_alternatives(out, SCHEDS);
	fputs(" }   (default maglev)\n"
	      "       FWD := { ",
	      out);
	xlbctl_print_alternatives(out, FWDS);
	fputs(" }   (default dsr-l2)\n"
	      "       hash-dport: source-hash hashes the client address and the VIP's port\n",
	      out);
	xlbctl_check_usage(out);
	fputs("vip del removes the VIP's backends too.\n", out);
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
