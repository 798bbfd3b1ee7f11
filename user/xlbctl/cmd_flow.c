/* cmd_flow.c - `xlbctl flow`: explain (where a flow would go and why), show (the flow table). */
#include <errno.h>
#include <string.h>

#include "grammar.h"
#include "output.h"

/* CLIENT := ADDR:PORT, [IPV6]:PORT; checked here so a typo never reaches xlbd. */
static int next_client(struct xlbctl_args *a, json_t *req, __u8 *family)
{
	const char *w = xlbctl_next(a), *colon;
	char host[64], perr[160], e[XLBCTL_ECHO_SIZE];
	struct xlb_addr addr;
	__u16 port;
	size_t n;

	if (!w)
		return xlbctl_fail(a, "missing CLIENT (ADDR:PORT) for '%s'", a->ctx);
	colon = strrchr(w, ':');
	n = colon ? (size_t)(colon - w) : 0;
	if (!colon || !n || n >= sizeof(host))
		return xlbctl_fail(a, "bad client '%s': write ADDR:PORT, [IPV6]:PORT",
				   xlbctl_echo(e, w));
	memcpy(host, w, n);
	host[n] = '\0';
	if (xlb_parse_addr(host, &addr, family, perr, sizeof(perr)) ||
	    xlb_parse_port(colon + 1, &port, perr, sizeof(perr)))
		return xlbctl_fail(a, "bad client '%s': %s", xlbctl_echo(e, w), perr);
	if (*family == XLB_AF_INET6 && host[0] != '[')
		return xlbctl_fail(a, "bad client '%s': write an IPv6 client as [ADDR]:PORT",
				   xlbctl_echo(e, w));
	return xlbctl_set_str(a, req, "client", w);
}

static int do_explain(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	static const char *const flags[] = {"syn", "ack"};
	struct xlb_vip_key vip;
	__u8 family = 0;
	int ret, idx;

	ret = next_client(a, cmd->req, &family);
	if (!ret)
		ret = xlbctl_next_vip(a, cmd->req, &vip);
	if (ret)
		return ret;
	if (family != vip.family)
		return xlbctl_fail(a, "the client and the VIP are of different address families");
	if (xlbctl_peek(a)) {
		idx = xlbctl_match(xlbctl_next(a), flags, ARRAY_SIZE(flags), "packet", a->ctx,
				   a->err, a->errlen);
		if (idx < 0)
			return -EINVAL;
		ret = xlbctl_set_str(a, cmd->req, "tcp_flags", flags[idx]);
		if (ret)
			return ret;
	}
	return xlbctl_end(a);
}

/* flow CLIENT -> VIP: ACTION [to BACKEND], then the reasons, then the counters on the path. */
static int print_explain(json_t *r, FILE *out, char *err, size_t errlen)
{
	json_t *why = json_object_get(r, "why"), *path = json_object_get(r, "path"), *v;
	const char *backend = json_string_value(json_object_get(r, "backend"));
	size_t i;

	if (!json_is_string(json_object_get(r, "action")) || !json_is_array(why))
		return xlbctl_bad_result("\"action\" and \"why\"", err, errlen);
	fprintf(out, "flow %s -> %s: %s", json_string_value(json_object_get(r, "client")),
		json_string_value(json_object_get(r, "vip")),
		json_string_value(json_object_get(r, "action")));
	if (backend)
		fprintf(out, " to %s", backend);
	fputc('\n', out);
	json_array_foreach(why, i, v)
		fprintf(out, "  %s\n", json_is_string(v) ? json_string_value(v) : "?");
	if (json_is_array(path)) {
		fputs("path:", out);
		json_array_foreach(path, i, v)
			fprintf(out, " %s", json_is_string(v) ? json_string_value(v) : "?");
		fputc('\n', out);
	}
	return 0;
}

enum { KW_VIP, KW_COUNT };
static const char *const show_keywords[] = {[KW_VIP] = "vip", [KW_COUNT] = "count"};

/* [ vip VIP ] [ count N ], in any order. */
static int do_show(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	bool seen[ARRAY_SIZE(show_keywords)] = {false};
	unsigned long n;
	const char *w;
	int kw, ret;

	while (xlbctl_peek(a)) {
		kw = xlbctl_next_keyword(a, show_keywords, ARRAY_SIZE(show_keywords));
		if (kw < 0)
			return kw;
		if (seen[kw])
			return xlbctl_fail(a, "'%s' given twice for '%s'", show_keywords[kw],
					   a->ctx);
		seen[kw] = true;
		if (kw == KW_VIP)
			ret = xlbctl_next_vip(a, cmd->req, NULL);
		else {
			ret = xlbctl_next_value(a, "count", &w);
			if (!ret)
				ret = xlbctl_parse_uint(w, "count", 1, 1000000, &n, a->err,
							a->errlen);
			if (!ret)
				ret = xlbctl_set_int(a, cmd->req, "count", (long long)n);
		}
		if (ret)
			return ret;
	}
	return xlbctl_end(a);
}

/* One line per flow: CLIENT -> VIP via BACKEND, its state and age. */
static int print_show(json_t *r, FILE *out, char *err, size_t errlen)
{
	json_t *flows = json_object_get(r, "flows"), *f;
	size_t i;

	if (!json_is_array(flows))
		return xlbctl_bad_result("\"flows\"", err, errlen);
	fprintf(out, "%-46s %-46s %-40s %-11s %s\n", "CLIENT", "VIP", "BACKEND", "STATE", "AGE");
	json_array_foreach(flows, i, f) {
		const char *c = json_string_value(json_object_get(f, "client"));
		const char *v = json_string_value(json_object_get(f, "vip"));
		const char *b = json_string_value(json_object_get(f, "backend"));
		const char *s = json_string_value(json_object_get(f, "state"));

		fprintf(out, "%-46s %-46s %-40s %-11s %.1fs\n", c ? c : "?", v ? v : "?",
			b ? b : "?", s ? s : "?",
			(double)json_integer_value(json_object_get(f, "age_ms")) / 1000.0);
	}
	if (json_is_true(json_object_get(r, "truncated")))
		fputs("(more flows: raise count)\n", out);
	return 0;
}

static void flow_usage(FILE *out)
{
	fputs("Usage: xlbctl flow explain CLIENT VIP [ syn | ack ]\n"
	      "       xlbctl flow show [ vip VIP ] [ count N ]\n"
	      "       xlbctl flow help\n"
	      "where  CLIENT := ADDR:PORT, [IPV6]:PORT   VIP := ADDR:PORT/PROTO\n"
	      "explain: runs a packet of the flow (a TCP SYN, or ACK; UDP for a UDP VIP) through\n"
	      "the loaded XDP program against the live maps, without sending it or changing any\n"
	      "map, and says where it goes and why: flow-table hit, scheduler pick, failover\n"
	      "re-pick, or the drop reason.\n"
	      "show: the flow table's entries (of one VIP), at most N (default 100): client,\n"
	      "VIP, backend, state (new: one packet seen; established; closed) and age.\n",
	      out);
}

static const struct xlbctl_verb flow_verbs[] = {
	{"explain", do_explain, print_explain},
	{"show", do_show, print_show},
};

const struct xlbctl_object xlbctl_obj_flow = {
	.name = "flow",
	.verbs = flow_verbs,
	.nverbs = ARRAY_SIZE(flow_verbs),
	.usage = flow_usage,
};
