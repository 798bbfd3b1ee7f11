/* output.c - xlbctl output: answers as JSON or text, errors, and the table/record helpers. */
#include "output.h"
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"

/* An answer echoed in a message is cut here: enough to recognise it, never a screenful. */
#define ANSWER_ECHO_MAX 200

void xlbctl_table_init(struct xlbctl_table *t, size_t ncols, const char *const *heads,
		       const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = heads;
	t->align = align;
}

/* Control bytes in a string from xlbd as '?': one record stays one line, columns stay put. */
static char *printable(char *s)
{
	char *p;

	for (p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

static int table_take(struct xlbctl_table *t, char *text)
{
	char **cells;
	size_t cap;

	if (!text)
		return -ENOMEM;
	printable(text);
	if (t->ncells == t->cap) {
		cap = t->cap ? 2 * t->cap : 8 * t->ncols;
		cells = realloc(t->cells, cap * sizeof(*cells));
		if (!cells) {
			free(text);
			return -ENOMEM;
		}
		t->cells = cells;
		t->cap = cap;
	}
	t->cells[t->ncells++] = text;
	return 0;
}

int xlbctl_table_cell(struct xlbctl_table *t, const char *text)
{
	return table_take(t, strdup(text ? text : "-"));
}

int xlbctl_table_value(struct xlbctl_table *t, const json_t *v)
{
	return table_take(t, xlbctl_value_text(v));
}

static const char *table_at(const struct xlbctl_table *t, size_t row, size_t col)
{
	size_t i = row * t->ncols + col;

	return i < t->ncells ? t->cells[i] : "";
}

static void table_line(const struct xlbctl_table *t, const size_t *width, const char *const *row,
		       size_t rowi, FILE *out)
{
	const char *text;
	size_t col;
	int pad;

	for (col = 0; col < t->ncols; col++) {
		text = row ? row[col] : table_at(t, rowi, col);
		pad = (int)(width[col] - strlen(text));
		if (col)
			fputs("  ", out);
		if (t->align && t->align[col] == 'r')
			fprintf(out, "%*s%s", pad, "", text);
		else if (col + 1 < t->ncols)
			fprintf(out, "%s%*s", text, pad, "");
		else
			fputs(text, out); /* no trailing blanks */
	}
	fputc('\n', out);
}

void xlbctl_table_print(const struct xlbctl_table *t, FILE *out)
{
	size_t rows = (t->ncells + t->ncols - 1) / t->ncols, row, col, len, width[16] = {0};

	if (!rows || t->ncols > ARRAY_SIZE(width))
		return;
	for (col = 0; col < t->ncols; col++) {
		width[col] = t->heads ? strlen(t->heads[col]) : 0;
		for (row = 0; row < rows; row++) {
			len = strlen(table_at(t, row, col));
			if (len > width[col])
				width[col] = len;
		}
	}
	if (t->heads)
		table_line(t, width, t->heads, 0, out);
	for (row = 0; row < rows; row++)
		table_line(t, width, NULL, row, out);
}

void xlbctl_table_free(struct xlbctl_table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->ncells = t->cap = 0;
}

char *xlbctl_value_text(const json_t *v)
{
	char buf[64];

	if (!v)
		return strdup("-"); /* a member the answer lacks */
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return strdup(buf);
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_OBJECT:
	case JSON_ARRAY:
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	case JSON_NULL:
	default:
		return strdup("-");
	}
}

json_t *xlbctl_result_list(json_t *result, const char *list_key, const char *one_key)
{
	json_t *list = json_object_get(result, list_key), *one = json_object_get(result, one_key);

	if (json_is_array(list))
		return json_incref(list);
	if (!json_is_object(one))
		return NULL;
	list = json_array();
	if (list && json_array_append(list, one)) {
		json_decref(list);
		return NULL;
	}
	return list;
}

int xlbctl_print_records(json_t *list, const char *lead, FILE *out)
{
	size_t i, width = 0, len;
	const char *key;
	json_t *rec;
	char *text;
	void *it;

	for (i = 0; i < json_array_size(list); i++) {
		text = xlbctl_value_text(json_object_get(json_array_get(list, i), lead));
		if (!text)
			return -ENOMEM;
		len = strlen(text);
		if (len > width)
			width = len;
		free(text);
	}
	for (i = 0; i < json_array_size(list); i++) {
		rec = json_array_get(list, i);
		if (!json_is_object(rec))
			continue;
		text = printable(xlbctl_value_text(json_object_get(rec, lead)));
		if (!text)
			return -ENOMEM;
		fprintf(out, "%-*s", (int)width, text);
		free(text);
		for (it = json_object_iter(rec); it; it = json_object_iter_next(rec, it)) {
			key = json_object_iter_key(it);
			if (!strcmp(key, lead))
				continue;
			text = printable(xlbctl_value_text(json_object_iter_value(it)));
			if (!text)
				return -ENOMEM;
			fprintf(out, "  %s %s", key, text);
			free(text);
		}
		fputc('\n', out);
	}
	return 0;
}

int xlbctl_print_members(json_t *result, FILE *out, char *err, size_t errlen)
{
	static const char align[] = "ll";
	struct xlbctl_table t;
	int ret = 0;
	void *it;

	xlbctl_table_init(&t, 2, NULL, align);
	for (it = json_object_iter(result); it; it = json_object_iter_next(result, it)) {
		ret = xlbctl_table_cell(&t, json_object_iter_key(it));
		if (!ret)
			ret = xlbctl_table_value(&t, json_object_iter_value(it));
		if (ret)
			break;
	}
	if (ret)
		snprintf(err, errlen, "out of memory printing the answer");
	else
		xlbctl_table_print(&t, out);
	xlbctl_table_free(&t);
	return ret;
}

int xlbctl_bad_result(const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "xlbd's answer holds no %s", what);
	return -EPROTO;
}

void xlbctl_print_error(const struct xlbctl_opts *opts, const char *msg, FILE *out, FILE *errf)
{
	json_t *obj, *s;
	size_t i;
	char *copy;

	if (!opts || !opts->json) {
		fprintf(errf, "xlbctl: %s\n", msg);
		return;
	}
	s = json_string(msg);
	if (!s) {
		/* Not UTF-8 (a path from the command line, say): a JSON string must be. */
		copy = strdup(msg);
		for (i = 0; copy && copy[i]; i++)
			if ((unsigned char)copy[i] >= 0x80)
				copy[i] = '?';
		s = copy ? json_string(copy) : NULL;
		free(copy);
	}
	obj = json_object();
	if (!obj || !s || json_object_set_new(obj, "error", s)) {
		json_decref(obj);
		/* A fixed text needs no allocation: the caller still sees an error object. */
		fputs("{\"error\":\"out of memory\"}\n", out);
		return;
	}
	json_dumpf(obj, out, opts->pretty ? JSON_INDENT(2) : JSON_COMPACT);
	fputc('\n', out);
	json_decref(obj);
}

int xlbctl_print_result(const struct xlbctl_cmd *cmd, json_t *result, FILE *out, char *err,
			size_t errlen)
{
	if (cmd->opts.json) {
		if (json_dumpf(result, out, cmd->opts.pretty ? JSON_INDENT(2) : JSON_COMPACT)) {
			snprintf(err, errlen, "cannot print the answer");
			return -EIO;
		}
		fputc('\n', out);
		return 0;
	}
	if (cmd->print)
		return cmd->print(result, out, err, errlen);
	return xlbctl_print_members(result, out, err, errlen);
}

int xlbctl_print_answer(const struct xlbctl_cmd *cmd, const char *answer, FILE *out, FILE *errf)
{
	char msg[XLBCTL_ERR_MAX], e[ANSWER_ECHO_MAX + 4];
	json_t *result, *ok, *error;
	json_error_t jerr;
	int ret;

	result = json_loads(answer, 0, &jerr);
	if (!json_is_object(result)) {
		snprintf(msg, sizeof(msg), "xlbd's answer is not a JSON object: '%s'",
			 xlb_printable(e, answer, strlen(answer), ANSWER_ECHO_MAX));
		ret = -EPROTO;
		goto out_error;
	}
	ok = json_object_get(result, "ok");
	if (!json_is_boolean(ok)) {
		snprintf(msg, sizeof(msg), "xlbd's answer has no \"ok\": '%s'",
			 xlb_printable(e, answer, strlen(answer), ANSWER_ECHO_MAX));
		ret = -EPROTO;
		goto out_error;
	}
	if (json_is_false(ok)) {
		error = json_object_get(result, "error");
		snprintf(msg, sizeof(msg), "%s",
			 json_is_string(error) ? json_string_value(error)
					       : "xlbd refused the request without saying why");
		ret = -EREMOTEIO;
		goto out_error;
	}
	json_object_del(result, "ok");
	ret = xlbctl_print_result(cmd, result, out, msg, sizeof(msg));
	if (ret)
		goto out_error;
	json_decref(result);
	return 0;

out_error:
	xlbctl_print_error(&cmd->opts, msg, out, errf);
	json_decref(result);
	return ret;
}
