/* cmd_backend.c - `xlbctl backend`: add, set (weight, admin state), del and show; the table. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "checkopts.h"
#include "grammar.h"
#include "output.h"

enum { KW_WEIGHT, KW_DRAIN, KW_UNDRAIN, KW_DISABLE, KW_ENABLE };
static const char *const backend_keywords[] = {
	[KW_WEIGHT] = "weight",	  [KW_DRAIN] = "drain",	  [KW_UNDRAIN] = "undrain",
	[KW_DISABLE] = "disable", [KW_ENABLE] = "enable",
};

/* The admin state each of the other keywords asks xlbd for: undrain and enable both mean up
 * (in service), whatever the state before. */
static const char *const backend_admin[] = {
	[KW_DRAIN] = "drain",
	[KW_UNDRAIN] = "up",
	[KW_DISABLE] = "disabled",
	[KW_ENABLE] = "up",
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
 * Keywords after VIP ADDRESS, each at most once; `add` takes weight only. drain, undrain,
 * disable and enable set the admin state: one of them at most. Returns how many were given,
 * or -errno.
 */
static int parse_backend_options(struct xlbctl_args *a, json_t *req, size_t nkeywords, bool checks)
{
	const char *names[ARRAY_SIZE(backend_keywords) + 24];
	size_t nbk = nkeywords, n = nkeywords, i;
	int kw, ret, admin = -1, count = 0;
	bool weight = false, reset = false;
	json_t *check = NULL;

	/* set: the backend's own check settings too (cmd_vip.c's CHECKOPTs), or check-default. */
	if (checks) {
		for (i = 0; i < xlbctl_check_nkeywords() && n < ARRAY_SIZE(names) - 1; i++)
			names[n++] = xlbctl_check_keyword(i);
		names[n++] = "check-default";
	}
	for (i = 0; i < nbk; i++)
		names[i] = backend_keywords[i];
	while (xlbctl_peek(a)) {
		kw = xlbctl_next_keyword(a, names, n);
		if (kw < 0)
			return kw;
		count++;
		if ((size_t)kw >= nbk) {
			if (!strcmp(names[kw], "check-default")) {
				reset = true;
				ret = xlbctl_set_new(a, req, "check", json_null());
			} else {
				if (!check) {
					check = json_object();
					ret = xlbctl_set_new(a, req, "check", check);
					if (ret)
						return ret;
				}
				ret = xlbctl_check_parse(a, kw - nbk, check);
			}
			if (ret)
				return ret;
			if (reset && check)
				return xlbctl_fail(a, "'check-default' and check settings exclude "
						      "each other");
			continue;
		}
		if ((kw == KW_WEIGHT && weight) || kw == admin)
			return xlbctl_fail(a, "'%s' given twice for '%s'", backend_keywords[kw],
					   a->ctx);
		if (kw != KW_WEIGHT && admin >= 0)
			return xlbctl_fail(a,
					   "'%s' and '%s' exclude each other: give one admin state",
					   backend_keywords[admin], backend_keywords[kw]);
		if (kw == KW_WEIGHT) {
			weight = true;
			ret = parse_weight_value(a, req);
		} else {
			admin = kw;
			ret = xlbctl_set_str(a, req, "admin", backend_admin[kw]);
		}
		if (ret)
			return ret;
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

	ret = parse_vip_address(a, cmd->req);
	if (ret)
		return ret;
	ret = parse_backend_options(a, cmd->req, KW_WEIGHT + 1, false);
	return ret < 0 ? ret : 0;
}

static int do_set(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	int ret;

	ret = parse_vip_address(a, cmd->req);
	if (ret)
		return ret;
	ret = parse_backend_options(a, cmd->req, ARRAY_SIZE(backend_keywords), true);
	if (ret == 0)
		return xlbctl_fail(a, "nothing to set for 'backend set': give weight N, drain, "
				      "undrain, disable, enable or check settings");
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

/* A cell: column key of backend be. */
typedef int (*cell_fn)(struct xlbctl_table *t, json_t *be, const char *key);

static int value_cell(struct xlbctl_table *t, json_t *be, const char *key)
{
	return xlbctl_table_value(t, json_object_get(be, key));
}

/* "down (mac unknown)": the data plane's state, and why when xlbd says. */
static int state_cell(struct xlbctl_table *t, json_t *be, const char *key)
{
	const char *state = json_string_value(json_object_get(be, key));
	const char *reason = json_string_value(json_object_get(be, "reason"));
	char buf[256];

	if (!state)
		return xlbctl_table_cell(t, NULL);
	if (!reason || !*reason)
		return xlbctl_table_cell(t, state);
	snprintf(buf, sizeof(buf), "%s (%s)", state, reason);
	return xlbctl_table_cell(t, buf);
}

/* Time in a state, to the precision that matters at its size: 850ms, 12s, 3m07s, 2h05m, 4d03h. */
static const char *format_age(unsigned long long ms, char *buf, size_t len)
{
	unsigned long long s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%llums", ms);
	else if (s < 60)
		snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%llud%02lluh", s / 86400, s / 3600 % 24);
	return buf;
}

/* "closed 12s": the circuit breaker's state and how long it has been in it. */
static int circuit_cell(struct xlbctl_table *t, json_t *be, const char *key)
{
	const char *circuit = json_string_value(json_object_get(be, key));
	json_t *age = json_object_get(be, "circuit_for_ms");
	char buf[128], a[32];

	if (!circuit)
		return xlbctl_table_cell(t, NULL);
	if (!json_is_integer(age) || json_integer_value(age) < 0)
		return xlbctl_table_cell(t, circuit);
	snprintf(buf, sizeof(buf), "%s %s", circuit,
		 format_age(json_integer_value(age), a, sizeof(a)));
	return xlbctl_table_cell(t, buf);
}

/* "pass", "unknown", or "fail (connect: Connection refused)": the last check's error. */
static int health_cell(struct xlbctl_table *t, json_t *be, const char *key)
{
	const char *health = json_string_value(json_object_get(be, key));
	const char *error =
		json_string_value(json_object_get(json_object_get(be, "last_check"), "error"));
	char buf[256];

	if (!health)
		return xlbctl_table_cell(t, NULL);
	if (strcmp(health, "fail") || !error || !*error)
		return xlbctl_table_cell(t, health);
	snprintf(buf, sizeof(buf), "%s (%s)", health, error);
	return xlbctl_table_cell(t, buf);
}

/* The last check's round trip, or time to failure: 37us, 0.4ms, 12ms, 1.5s. */
static int latency_cell(struct xlbctl_table *t, json_t *be, const char *key)
{
	json_t *v = json_object_get(json_object_get(be, "last_check"), key);
	unsigned long long us;
	char buf[32];

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return xlbctl_table_cell(t, NULL);
	us = json_integer_value(v);
	if (us < 100)
		snprintf(buf, sizeof(buf), "%lluus", us);
	else if (us < 10000)
		snprintf(buf, sizeof(buf), "%.1fms", us / 1000.0);
	else if (us < 1000000)
		snprintf(buf, sizeof(buf), "%llums", (us + 500) / 1000);
	else
		snprintf(buf, sizeof(buf), "%.1fs", us / 1000000.0);
	return xlbctl_table_cell(t, buf);
}

/* The backend table's columns; CIRCUIT, HEALTH and LATENCY are "-" without a health check. */
static const struct backend_column {
	const char *head;
	const char *key; /* the backend member it shows */
	char align;	 /* 'l', or 'r' for numbers */
	cell_fn cell;
} backend_columns[] = {
	{"VIP", "vip", 'l', value_cell},
	{"ADDRESS", "address", 'l', value_cell},
	{"WEIGHT", "weight", 'r', value_cell},
	{"EFF.WEIGHT", "effective_weight", 'r', value_cell},
	{"ADMIN", "admin", 'l', value_cell},
	{"STATE", "state", 'l', state_cell},
	{"CIRCUIT", "circuit", 'l', circuit_cell},
	{"HEALTH", "health", 'l', health_cell},
	{"LATENCY", "latency_us", 'r', latency_cell},
	{"MAC", "mac", 'l', value_cell},
	{"PACKETS", "packets", 'r', value_cell},
	{"BYTES", "bytes", 'r', value_cell},
};

/* The backend table, from "backends" (show) or "backend" (add, set). */
static int print_backends(json_t *result, FILE *out, char *err, size_t errlen)
{
	const char *heads[ARRAY_SIZE(backend_columns)];
	char align[ARRAY_SIZE(backend_columns) + 1];
	struct xlbctl_table t;
	size_t i, col;
	json_t *list, *be;
	int ret = 0;

	list = xlbctl_result_list(result, "backends", "backend");
	if (!list)
		return xlbctl_bad_result("\"backends\" list or \"backend\" object", err, errlen);
	for (col = 0; col < ARRAY_SIZE(backend_columns); col++) {
		heads[col] = backend_columns[col].head;
		align[col] = backend_columns[col].align;
	}
	align[col] = '\0';
	xlbctl_table_init(&t, ARRAY_SIZE(heads), heads, align);
	for (i = 0; i < json_array_size(list) && !ret; i++) {
		be = json_array_get(list, i);
		if (!json_is_object(be))
			continue;
		for (col = 0; col < ARRAY_SIZE(backend_columns) && !ret; col++)
			ret = backend_columns[col].cell(&t, be, backend_columns[col].key);
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
	      "       xlbctl backend set VIP ADDRESS { weight WEIGHT | ADMIN | CHECKOPT |\n"
	      "                                        check KIND | check-default } ...\n"
	      "       xlbctl backend del VIP ADDRESS\n"
	      "       xlbctl backend [ show [ VIP ] ]\n"
	      "       xlbctl backend help\n"
	      "where  VIP := ADDR:PORT/PROTO, IPv6 in brackets: 10.0.0.10:80/tcp, "
	      "[2001:db8::10]:443/udp\n"
	      "       ADDRESS := an IPv4 or IPv6 address of the VIP's family (it takes the "
	      "VIP's port)\n"
	      "       WEIGHT := 1..1000   (default 1)\n"
	      "       ADMIN := { drain | undrain | disable | enable }\n"
	      "       CHECKOPT, KIND: as for `xlbctl vip` (see xlbctl vip help)\n"
	      "Check settings on a backend override its VIP's for that backend (the VIP's\n"
	      "settings at that moment, with these changed); check-default returns to the VIP's.\n"
	      "drain: keep the backend's flows, send it no new ones; disable: no traffic at\n"
	      "all and no health checks; undrain or enable: back in service.\n"
	      "show: EFF.WEIGHT is the weight in force (lower during slow start, 0 when not\n"
	      "up); CIRCUIT, HEALTH and LATENCY come from the VIP's health check (see\n"
	      "xlbctl vip help).\n",
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
