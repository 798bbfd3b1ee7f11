/* watch.c - `xlbctl stats watch`: per-second rates from successive `stats show` answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "output.h"
#include "xlbctl.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double delta(json_t *cur, json_t *prev, const char *key, double dt)
{
	json_int_t a = json_integer_value(json_object_get(cur, key));
	json_int_t b = prev ? json_integer_value(json_object_get(prev, key)) : a;

	return a >= b && dt > 0 ? (a - b) / dt : 0;
}

/* The entry of list with the same vip (and address) as e, from the previous answer. */
static json_t *same_entry(json_t *list, json_t *e)
{
	const char *vip = json_string_value(json_object_get(e, "vip"));
	const char *addr = json_string_value(json_object_get(e, "address"));
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p) {
		const char *pv = json_string_value(json_object_get(p, "vip"));
		const char *pa = json_string_value(json_object_get(p, "address"));

		if (pv && vip && !strcmp(pv, vip) &&
		    ((!pa && !addr) || (pa && addr && !strcmp(pa, addr))))
			return p;
	}
	return NULL;
}

/* Rates of one list: [{"vip", ["address",] "pps", "bps", "new_flows_per_s"}]. */
static json_t *rates(json_t *cur, json_t *prev, double dt)
{
	json_t *out = json_array(), *e;
	size_t i;

	json_array_foreach(cur, i, e) {
		json_t *p = same_entry(prev, e), *r;

		r = json_pack("{s:O, s:f, s:f, s:f}", "vip", json_object_get(e, "vip"), "pps",
			      delta(e, p, "packets", dt), "bps", 8 * delta(e, p, "bytes", dt),
			      "new_flows_per_s", delta(e, p, "new_flows", dt));
		if (json_object_get(e, "address"))
			json_object_set(r, "address", json_object_get(e, "address"));
		json_array_append_new(out, r);
	}
	return out;
}

static double drops_per_s(json_t *cur, json_t *prev, double dt)
{
	return delta(json_object_get(cur, "counters"), json_object_get(prev, "counters"),
		     "xdp_drop", dt);
}

static void print_text(json_t *r, FILE *out)
{
	static const char *const heads[] = {"VIP", "ADDRESS", "PPS", "BPS", "NEW/S"};
	struct xlbctl_table t;
	json_t *lists[2] = {json_object_get(r, "vips"), json_object_get(r, "backends")};
	char num[32];

	/* Home and clear: the table is redrawn in place. */
	fputs("\033[H\033[2J", out);
	fprintf(out, "xlb rates over %.1f s (Ctrl-C to stop); drops %.0f/s\n\n",
		json_real_value(json_object_get(r, "interval_s")),
		json_real_value(json_object_get(r, "drops_per_s")));
	xlbctl_table_init(&t, 5, heads, NULL);
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *e;

		json_array_foreach(lists[l], i, e) {
			const char *addr = json_string_value(json_object_get(e, "address"));

			xlbctl_table_cell(&t, json_string_value(json_object_get(e, "vip")));
			xlbctl_table_cell(&t, addr ? addr : "(all)");
			snprintf(num, sizeof(num), "%.0f",
				 json_real_value(json_object_get(e, "pps")));
			xlbctl_table_cell(&t, num);
			snprintf(num, sizeof(num), "%.0f",
				 json_real_value(json_object_get(e, "bps")));
			xlbctl_table_cell(&t, num);
			snprintf(num, sizeof(num), "%.1f",
				 json_real_value(json_object_get(e, "new_flows_per_s")));
			xlbctl_table_cell(&t, num);
		}
	}
	xlbctl_table_print(&t, out);
	xlbctl_table_free(&t);
	fflush(out);
}

int xlbctl_watch(const struct xlbctl_cmd *cmd, FILE *out, FILE *errf)
{
	char err[XLBCTL_ERR_MAX];
	json_t *prev = NULL;
	struct xlb_ctl *ctl;
	double t_prev = 0;
	char *req = json_dumps(cmd->req, JSON_COMPACT);
	int ret;

	if (!req)
		return -ENOMEM;
	ret = xlb_ctl_connect(cmd->opts.socket, cmd->opts.timeout_ms, &ctl, err, sizeof(err));
	if (ret) {
		free(req);
		xlbctl_print_error(&cmd->opts, err, out, errf);
		return ret;
	}
	/* One sample more than refreshes: rates need two. */
	for (unsigned int n = 0; !cmd->count || n <= cmd->count; n++) {
		json_t *cur, *r;
		char *answer;
		double t;

		ret = xlb_ctl_call(ctl, req, &answer, err, sizeof(err));
		if (ret)
			break;
		t = now_s();
		cur = json_loads(answer, 0, NULL);
		free(answer);
		if (!cur || !json_is_true(json_object_get(cur, "ok"))) {
			const char *e = json_string_value(json_object_get(cur, "error"));

			snprintf(err, sizeof(err), "%s",
				 e ? e : "xlbd sent an answer that is not JSON");
			json_decref(cur);
			ret = -EPROTO;
			break;
		}
		if (prev) {
			double dt = t - t_prev;

			r = json_pack("{s:f, s:f, s:o, s:o}", "interval_s", dt, "drops_per_s",
				      drops_per_s(cur, prev, dt), "vips",
				      rates(json_object_get(cur, "vips"),
					    json_object_get(prev, "vips"), dt),
				      "backends",
				      rates(json_object_get(cur, "backends"),
					    json_object_get(prev, "backends"), dt));
			if (cmd->opts.json) {
				char *s = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(6));

				fprintf(out, "%s\n", s ? s : "{}");
				fflush(out);
				free(s);
			} else {
				print_text(r, out);
			}
			json_decref(r);
		}
		json_decref(prev);
		prev = cur;
		t_prev = t;
		if (cmd->count && n == cmd->count)
			break;
		sleep(1);
	}
	json_decref(prev);
	xlb_ctl_close(ctl);
	free(req);
	if (ret)
		xlbctl_print_error(&cmd->opts, err, out, errf);
	return ret;
}
