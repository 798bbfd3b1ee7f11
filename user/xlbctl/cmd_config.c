/* cmd_config.c - `xlbctl config`: the seed, and the whole configuration exported and applied. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
#include "grammar.h"
#include "output.h"

/*
 * A configuration is sent in pieces of this many bytes of ASCII JSON when the request holding
 * it whole would pass the control socket's line limit (64 KiB, docs/control.md): as a JSON
 * string a piece at most doubles (every '"' and '\' escaped), so its request always fits.
 */
#define UPLOAD_PIECE (24 * 1024)

static int do_show(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	(void)a, (void)cmd;
	return 0;
}

static int do_set(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	static const char *const keywords[] = {"hash-seed"};
	unsigned long seed;
	const char *v;
	int kw;

	if (!xlbctl_peek(a))
		return xlbctl_fail(a, "nothing to set for 'config set': give hash-seed N");
	kw = xlbctl_next_keyword(a, keywords, ARRAY_SIZE(keywords));
	if (kw < 0)
		return kw;
	if (xlbctl_next_value(a, keywords[kw], &v) ||
	    xlbctl_parse_uint(v, "hash-seed", 0, 0xffffffffUL, &seed, a->err, a->errlen))
		return -EINVAL;
	return xlbctl_set_int(a, cmd->req, "hash_seed", seed);
}

static int do_export(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	(void)a, (void)cmd;
	return 0;
}

/* FILE [ dry-run ]: the file is read when the request is sent (xlbctl_config_send). */
static int do_apply(struct xlbctl_args *a, struct xlbctl_cmd *cmd)
{
	static const char *const keywords[] = {"dry-run"};
	const char *file = xlbctl_next(a), *w;
	int kw;

	if (!file)
		return xlbctl_fail(a, "missing FILE for 'config apply' (- for standard input)");
	cmd->config_file = file;
	w = xlbctl_peek(a);
	if (!w)
		return 0;
	if (!strcmp(w, "--dry-run")) {
		xlbctl_next(a);
	} else {
		kw = xlbctl_next_keyword(a, keywords, ARRAY_SIZE(keywords));
		if (kw < 0)
			return kw;
	}
	return xlbctl_set_new(a, cmd->req, "dry_run", json_true());
}

/* The file as JSON: a state file or `config export -j`'s {"config": ...}. */
static json_t *load_file(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j, *inner;

	j = strcmp(path, "-") ? json_load_file(path, JSON_REJECT_DUPLICATES, &je)
			      : json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
	if (!j && je.line <= 0) /* not read at all: jansson's text names the file */
		snprintf(err, errlen, "%s", je.text);
	else if (!j)
		snprintf(err, errlen, "%s: line %d column %d: %s", path, je.line, je.column,
			 je.text);
	if (!j)
		return NULL;
	inner = json_object_get(j, "config");
	if (json_is_object(inner) && !json_object_get(j, "version")) {
		json_incref(inner);
		json_decref(j);
		j = inner;
	}
	return j;
}

int xlbctl_config_send(const struct xlbctl_cmd *cmd, struct xlb_ctl *ctl, char *err, size_t errlen)
{
	json_t *cfg = load_file(cmd->config_file, err, errlen), *up, *ans;
	char *text, *line = NULL, *answer = NULL, piece[UPLOAD_PIECE + 1];
	const char *id = NULL;
	size_t len, off;
	int ret = 0;

	if (!cfg)
		return -EINVAL;
	/* Whole, when the request fits in one line. */
	if (json_object_set(cmd->req, "config", cfg)) {
		json_decref(cfg);
		snprintf(err, errlen, "out of memory building the request");
		return -ENOMEM;
	}
	line = json_dumps(cmd->req, JSON_COMPACT);
	if (line && strlen(line) < XLB_CTL_LINE_MAX) {
		free(line);
		json_decref(cfg);
		return 0;
	}
	free(line);
	json_object_del(cmd->req, "config");
	/* Else in pieces: ASCII (non-ASCII escaped), so a cut anywhere cuts no character. */
	text = json_dumps(cfg, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(cfg);
	if (!text) {
		snprintf(err, errlen, "out of memory building the request");
		return -ENOMEM;
	}
	len = strlen(text);
	ans = NULL;
	for (off = 0; !ret && off < len; off += UPLOAD_PIECE) {
		size_t n = len - off < UPLOAD_PIECE ? len - off : UPLOAD_PIECE;

		memcpy(piece, text + off, n);
		piece[n] = '\0';
		up = json_pack("{s:s, s:s}", "cmd", "config upload", "data", piece);
		if (up && id)
			json_object_set_new(up, "upload", json_string(id));
		line = up ? json_dumps(up, JSON_COMPACT) : NULL;
		json_decref(up);
		if (!line) {
			snprintf(err, errlen, "out of memory building the request");
			ret = -ENOMEM;
			break;
		}
		ret = xlb_ctl_call(ctl, line, &answer, err, errlen);
		free(line);
		if (ret)
			break;
		json_decref(ans);
		ans = json_loads(answer, 0, NULL);
		free(answer);
		if (!json_is_true(json_object_get(ans, "ok")) ||
		    !json_is_string(json_object_get(ans, "upload"))) {
			const char *e = json_string_value(json_object_get(ans, "error"));

			snprintf(err, errlen, "xlbd refused a piece of the configuration: %s",
				 e ? e : "no reason given");
			ret = -EREMOTEIO;
			break;
		}
		id = json_string_value(json_object_get(ans, "upload"));
	}
	if (!ret && xlbctl_set_str(&(struct xlbctl_args){.err = err, .errlen = errlen}, cmd->req,
				   "upload", id))
		ret = -ENOMEM;
	json_decref(ans);
	free(text);
	return ret;
}

/* One line per change ("backend changed 10.0.0.10:80/tcp 10.0.1.2: weight 1 -> 3"), or
 * "no changes"; after a dry run, a last line says nothing was changed. */
static int print_changes(json_t *result, FILE *out, char *err, size_t errlen)
{
	json_t *changes = json_object_get(result, "changes"), *c;
	size_t i;

	if (!json_is_array(changes))
		return xlbctl_bad_result("\"changes\" list", err, errlen);
	if (!json_array_size(changes))
		fputs("no changes\n", out);
	json_array_foreach(changes, i, c) {
		const char *what = json_string_value(json_object_get(c, "what"));
		const char *vip = json_string_value(json_object_get(c, "vip"));
		const char *addr = json_string_value(json_object_get(c, "address"));
		char *line = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&line, &n);

		if (!f)
			return -ENOMEM;
		fprintf(f, "%s", json_string_value(json_object_get(c, "change")) ?: "?");
		if (vip)
			fprintf(f, " %s", vip);
		if (addr)
			fprintf(f, " %s", addr);
		if (what)
			fprintf(f, ": %s", what);
		fclose(f);
		/* From xlbd, shown as text: no control byte may break the line. */
		for (char *p = line; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		fprintf(out, "%s\n", line ? line : "");
		free(line);
	}
	if (json_is_true(json_object_get(result, "dry_run")))
		fputs("dry run: nothing was changed\n", out);
	return 0;
}

/* The configuration itself, indented: what `config apply` takes. */
static int print_export(json_t *result, FILE *out, char *err, size_t errlen)
{
	json_t *c = json_object_get(result, "config");

	if (!json_is_object(c))
		return xlbctl_bad_result("\"config\" object", err, errlen);
	if (json_dumpf(c, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		return -EIO;
	fputc('\n', out);
	return 0;
}

static void config_usage(FILE *out)
{
	fputs("Usage: xlbctl config [ show ]\n"
	      "       xlbctl config set hash-seed N\n"
	      "       xlbctl config export\n"
	      "       xlbctl config apply FILE [ dry-run | --dry-run ]\n"
	      "       xlbctl config help\n"
	      "where  N := 0..4294967295     FILE := a path, or - for standard input\n"
	      "show: the hash seed, counts of VIPs and backends, changes since start, state file.\n"
	      "set hash-seed: every node of a cluster needs the same seed to choose the same\n"
	      "backend; changing it re-steers new flows only (established ones stay).\n"
	      "export: the whole desired state as JSON (the state file's format, "
	      "docs/cluster.md).\n"
	      "apply: makes the configuration equal to FILE in one change: the file is checked\n"
	      "whole first (a bad one changes nothing), VIPs and backends kept keep their flows;\n"
	      "prints what changed, or \"no changes\". dry-run prints the same, changes nothing.\n",
	      out);
}

static const struct xlbctl_verb config_verbs[] = {
	{"show", do_show, NULL},
	{"set", do_set, NULL},
	{"export", do_export, print_export},
	{"apply", do_apply, print_changes},
};

const struct xlbctl_object xlbctl_obj_config = {
	.name = "config",
	.verbs = config_verbs,
	.nverbs = ARRAY_SIZE(config_verbs),
	.usage = config_usage,
};
