/* output.h - xlbctl's text output pieces: aligned tables, JSON values as text, record lines. */
#ifndef XLBCTL_OUTPUT_H
#define XLBCTL_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

#include "xlbctl.h"

/* Rows of cells printed in aligned columns, two spaces apart; cells are added row by row. */
struct xlbctl_table {
	size_t ncols;
	const char *const *heads; /* column titles, or NULL for no title line */
	const char *align;	  /* one letter per column: 'l' left, 'r' right (numbers) */
	char **cells;		  /* ncells, row after row; malloc'ed */
	size_t ncells, cap;
};

void xlbctl_table_init(struct xlbctl_table *t, size_t ncols, const char *const *heads,
		       const char *align);
/* Appends a cell: text (NULL prints as "-"); 0 or -ENOMEM. */
int xlbctl_table_cell(struct xlbctl_table *t, const char *text);
/* Appends a cell holding a JSON value's text (xlbctl_value_text); NULL prints as "-". */
int xlbctl_table_value(struct xlbctl_table *t, const json_t *v);
/* Prints nothing for a table without rows; a last row short of cells is padded with "". */
void xlbctl_table_print(const struct xlbctl_table *t, FILE *out);
void xlbctl_table_free(struct xlbctl_table *t);

/* A JSON value as text, malloc'ed (NULL on ENOMEM): strings as they are, numbers in decimal,
 * true/false, null and a missing value (v NULL) as "-", arrays and objects as compact JSON. */
char *xlbctl_value_text(const json_t *v);

/* result[list_key] when it is an array, else [result[one_key]] when that is an object (what
 * add/set answer), else NULL. A new reference. */
json_t *xlbctl_result_list(json_t *result, const char *list_key, const char *one_key);

/* One line per object of list: its lead member's value padded to a column, then every other
 * member as "name value", two spaces apart (`10.0.0.10:80/tcp  id 1  sched maglev`). */
int xlbctl_print_records(json_t *list, const char *lead, FILE *out);

/* The fallback text form: one "name value" line per member of result, names aligned. */
int xlbctl_print_members(json_t *result, FILE *out, char *err, size_t errlen);

/* An -EPROTO error for a result that lacks what is needed, naming it. */
int xlbctl_bad_result(const char *what, char *err, size_t errlen);

#endif /* XLBCTL_OUTPUT_H */
