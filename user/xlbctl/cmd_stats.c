/* cmd_stats.c - `xlbctl stats`: data-plane counters and per-VIP/per-backend traffic as text. */
#include <errno.h>
#include <string.h>

#include "grammar.h"
#include "output.h"

enum { KW_VIP, KW_WATCH, KW_DASH_WATCH, KW_COUNT };
static const char *const stats_keywords[] = {
	[KW_VIP] = "vip", [KW_WATCH] = "watch", [KW_DASH_WATCH] = "--watch", [KW_COUNT] = "count"};

/* [ vip VIP ] [ watch | --watch ] [ count N ], in any order. */
static int do_show(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	bool seen[ARRAY_SIZE(stats_keywords)] = {false};
	const char *w;
	unsigned long n;
	int kw, ret;

	while (xlbctl_peek(a)) {
		kw = xlbctl_next_keyword(a, stats_keywords, ARRAY_SIZE(stats_keywords));
		if (kw < 0)
			return kw;
		if (kw == KW_DASH_WATCH)
			kw = KW_WATCH;
		if (seen[kw])
			return xlbctl_fail(a, "'%s' given twice for '%s'", stats_keywords[kw],
					   a->ctx);
		seen[kw] = true;
		if (kw == KW_WATCH) {
			cmd->watch = 1;
			continue;
		}
		if (kw == KW_COUNT) {
			ret = xlbctl_next_value(a, "count", &w);
			if (!ret)
				ret = xlbctl_parse_uint(w, "count", 1, 1000000, &n, a->err,
							a->errlen);
			if (ret)
				return ret;
			cmd->count = n;
			continue;
		}
		if (!xlbctl_peek(a))
			return xlbctl_fail(a, "missing VIP after 'vip' for '%s'", a->ctx);
		ret = xlbctl_next_vip(a, cmd->req, NULL);
		if (ret)
			return ret;
	}
	if (cmd->count && !cmd->watch)
		return xlbctl_fail(a, "'count' goes with 'watch' for '%s'", a->ctx);
	return 0;
}

/* Global counters that are not zero, "name value": a quiet data plane prints nothing here
 * (-j gives every counter). */
static int add_counters(struct xlbctl_table *t, json_t *counters)
{
	const char *name;
	void *it;
	json_t *v;
	int ret;

	for (it = json_object_iter(counters); it; it = json_object_iter_next(counters, it)) {
		name = json_object_iter_key(it);
		v = json_object_iter_value(it);
		if (json_is_integer(v) && json_integer_value(v) == 0)
			continue;
		ret = xlbctl_table_cell(t, name);
		if (!ret)
			ret = xlbctl_table_value(t, v);
		if (ret)
			return ret;
	}
	return 0;
}

/* One row per traffic entry of list, one column per key. */
static int add_traffic(struct xlbctl_table *t, json_t *list, const char *const *keys)
{
	size_t i, col;
	json_t *entry;
	int ret;

	for (i = 0; i < json_array_size(list); i++) {
		entry = json_array_get(list, i);
		if (!json_is_object(entry))
			continue;
		for (col = 0; col < t->ncols; col++) {
			ret = xlbctl_table_value(t, json_object_get(entry, keys[col]));
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int print_stats(json_t *result, FILE *out, char *err, size_t errlen)
{
	static const char *const vip_heads[] = {"VIP", "PACKETS", "BYTES", "NEW_FLOWS"};
	static const char *const vip_keys[] = {"vip", "packets", "bytes", "new_flows"};
	static const char *const be_heads[] = {"VIP", "ADDRESS", "PACKETS", "BYTES", "NEW_FLOWS"};
	static const char *const be_keys[] = {"vip", "address", "packets", "bytes", "new_flows"};
	json_t *counters = json_object_get(result, "counters");
	json_t *vips = json_object_get(result, "vips");
	json_t *backends = json_object_get(result, "backends");
	struct xlbctl_table tables[3];
	size_t i, printed = 0;
	int ret;

	if (!json_is_object(counters))
		return xlbctl_bad_result("\"counters\" object", err, errlen);
	xlbctl_table_init(&tables[0], 2, NULL, "lr");
	xlbctl_table_init(&tables[1], ARRAY_SIZE(vip_heads), vip_heads, "lrrr");
	xlbctl_table_init(&tables[2], ARRAY_SIZE(be_heads), be_heads, "llrrr");
	ret = add_counters(&tables[0], counters);
	if (!ret && json_is_array(vips))
		ret = add_traffic(&tables[1], vips, vip_keys);
	if (!ret && json_is_array(backends))
		ret = add_traffic(&tables[2], backends, be_keys);
	if (ret)
		snprintf(err, errlen, "out of memory printing the answer");
	/* Sections without rows print nothing, and a blank line parts those that print. */
	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		if (!ret && tables[i].ncells) {
			if (printed++)
				fputc('\n', out);
			xlbctl_table_print(&tables[i], out);
		}
		xlbctl_table_free(&tables[i]);
	}
	return ret;
}

static void stats_usage(FILE *out)
{
	fputs("Usage: xlbctl stats [ show ] [ vip VIP ] [ watch | --watch ] [ count N ]\n"
	      "       xlbctl stats help\n"
	      "where  VIP := ADDR:PORT/PROTO, IPv6 in brackets: 10.0.0.10:80/tcp, "
	      "[2001:db8::10]:443/udp\n"
	      "Prints the data plane's global counters that are not zero (all of them with -j),\n"
	      "then packets, bytes and new flows per VIP and per backend.\n"
	      "watch: rates (packets/s, bits/s, new flows/s, drops/s) refreshed every second in\n"
	      "place, like top, until interrupted or for count N refreshes; with -j one JSON line\n"
	      "per second.\n",
	      out);
}

static const struct xlbctl_verb stats_verbs[] = {
	{"show", do_show, print_stats},
};

const struct xlbctl_object xlbctl_obj_stats = {
	.name = "stats",
	.verbs = stats_verbs,
	.nverbs = ARRAY_SIZE(stats_verbs),
	.usage = stats_usage,
	.show_takes_words = true,
};
