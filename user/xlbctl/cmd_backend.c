/* cmd_backend.c - `xlbctl backend`: add, set (weight, drain), del and show backends; the table. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "grammar.h"
#include "output.h"

enum { KW_WEIGHT, KW_DRAIN, KW_UNDRAIN };
static const char *const backend_keywords[] = {
	[KW_WEIGHT] = "weight",
	[KW_DRAIN] = "drain",
	[KW_UNDRAIN] = "undrain",
};

/* VIP ADDRESS, the address in the VIP's family. */
static int parse_vip_address(struct xlbctl_args *a, json_t *req)
{
	struct xlb_vip_key vip;
	int ret;

	ret = xlbctl_next_vip(a, req, &vip);
	if (ret)
		return ret;
	return xlbctl_next_backend_addr(a, req, &vip);
}

static int parse_weight_value(struct xlbctl_args *a, json_t *req)
{
	const char *value;
	int ret, weight;

	ret = xlbctl_next_value(a, "weight", &value);
	if (ret)
		return ret;
	if (xlbctl_parse_weight(value, &weight, a->err, a->errlen))
		return -EINVAL;
	return xlbctl_set_int(a, req, "weight", weight);
}

/*
 * Keywords after VIP ADDRESS, each at most once; `add` takes weight only. drain and undrain set
 * the admin state and exclude each other. Returns how many were given, or -errno.
 */
static int parse_backend_options(struct xlbctl_args *a, json_t *req, size_t nkeywords)
{
	bool seen[ARRAY_SIZE(backend_keywords)] = {false};
	int kw, ret, count = 0;

	while (xlbctl_peek(a)) {
		kw = xlbctl_next_keyword(a, backend_keywords, nkeywords);
		if (kw < 0)
			return kw;
		if (seen[kw])
			return xlbctl_fail(a, "'%s' given twice for '%s'", backend_keywords[kw],
					   a->ctx);
		seen[kw] = true;
		if (seen[KW_DRAIN] && seen[KW_UNDRAIN])
			return xlbctl_fail(a, "'drain' and 'undrain' exclude each other");
		switch (kw) {
		case KW_WEIGHT:
			ret = parse_weight_value(a, req);
			break;
		case KW_DRAIN:
			ret = xlbctl_set_str(a, req, "admin", "drain");
			break;
		default:
			ret = xlbctl_set_str(a, req, "admin", "up");
			break;
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

	ret = parse_vip_address(a, cmd->req);
	if (ret)
		return ret;
	ret = parse_backend_options(a, cmd->req, KW_WEIGHT + 1);
	return ret < 0 ? ret : 0;
}

static int do_set(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	int ret;

	ret = parse_vip_address(a, cmd->req);
	if (ret)
		return ret;
	ret = parse_backend_options(a, cmd->req, ARRAY_SIZE(backend_keywords));
	if (ret == 0)
		return xlbctl_fail(a, "nothing to set for 'backend set': give weight N, drain or "
				      "undrain");
	return ret < 0 ? ret : 0;
}

static int do_del(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	return parse_vip_address(a, cmd->req);
}

static int do_show(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	if (!xlbctl_peek(a))
		return 0;
	return xlbctl_next_vip(a, cmd->req, NULL);
}

/* "down (mac unknown)": the data plane's state, and why when xlbd says. */
static int state_cell(struct xlbctl_table *t, json_t *be)
{
	const char *state = json_string_value(json_object_get(be, "state"));
	const char *reason = json_string_value(json_object_get(be, "reason"));
	char buf[256];

	if (!state)
		return xlbctl_table_cell(t, NULL);
	if (!reason || !*reason)
		return xlbctl_table_cell(t, state);
	snprintf(buf, sizeof(buf), "%s (%s)", state, reason);
	return xlbctl_table_cell(t, buf);
}

/* The backend table, from "backends" (show) or "backend" (add, set): one member per column. */
static int print_backends(json_t *result, FILE *out, char *err, size_t errlen)
{
	static const char *const heads[] = {"VIP",   "ADDRESS", "WEIGHT",  "ADMIN",
					    "STATE", "MAC",	"PACKETS", "BYTES"};
	static const char *const keys[] = {"vip",   "address", "weight",  "admin",
					   "state", "mac",     "packets", "bytes"};
	static const char align[] = "llrlllrr";
	struct xlbctl_table t;
	size_t i, col;
	json_t *list, *be;
	int ret = 0;

	list = xlbctl_result_list(result, "backends", "backend");
	if (!list)
		return xlbctl_bad_result("\"backends\" list or \"backend\" object", err, errlen);
	xlbctl_table_init(&t, ARRAY_SIZE(heads), heads, align);
	for (i = 0; i < json_array_size(list); i++) {
		be = json_array_get(list, i);
		if (!json_is_object(be))
			continue;
		for (col = 0; col < ARRAY_SIZE(keys) && !ret; col++) {
			if (!strcmp(keys[col], "state"))
				ret = state_cell(&t, be);
			else
				ret = xlbctl_table_value(&t, json_object_get(be, keys[col]));
		}
		if (ret)
			break;
	}
	if (ret)
		snprintf(err, errlen, "out of memory printing the answer");
	else
		xlbctl_table_print(&t, out);
	xlbctl_table_free(&t);
	json_decref(list);
	return ret;
}

static void backend_usage(FILE *out)
{
	fputs("Usage: xlbctl backend add VIP ADDRESS [ weight WEIGHT ]\n"
	      "       xlbctl backend set VIP ADDRESS { weight WEIGHT | drain | undrain } ...\n"
	      "       xlbctl backend del VIP ADDRESS\n"
	      "       xlbctl backend [ show [ VIP ] ]\n"
	      "       xlbctl backend help\n"
	      "where  VIP := ADDR:PORT/PROTO, IPv6 in brackets: 10.0.0.10:80/tcp, "
	      "[2001:db8::10]:443/udp\n"
	      "       ADDRESS := an IPv4 or IPv6 address of the VIP's family (it takes the "
	      "VIP's port)\n"
	      "       WEIGHT := 1..1000   (default 1)\n"
	      "drain: keep the backend's flows, send it no new ones; undrain: back in service.\n",
	      out);
}

static const struct xlbctl_verb backend_verbs[] = {
	{"add", do_add, print_backends},
	{"del", do_del, NULL},
	{"set", do_set, print_backends},
	{"show", do_show, print_backends},
};

const struct xlbctl_object xlbctl_obj_backend = {
	.name = "backend",
	.verbs = backend_verbs,
	.nverbs = ARRAY_SIZE(backend_verbs),
	.usage = backend_usage,
};
