/* checkopts.h - a VIP's health-check settings: command-line words to "check", and back to text. */
#ifndef XLBCTL_CHECKOPTS_H
#define XLBCTL_CHECKOPTS_H

#include <jansson.h>
#include <stdio.h>

#include "grammar.h"

/*
 * The keywords of `vip add` and `vip set` that are check settings: "check" (KIND), "port",
 * "path", ... They share one table with the VIP's other keywords (cmd_vip.c), so prefixes are
 * matched, and refused when ambiguous, across all of them.
 */
size_t xlbctl_check_nkeywords(void);
const char *xlbctl_check_keyword(size_t i);

/* Takes the value of keyword i (already taken) and stores it in check, the request's "check"
 * object, under the member xlbd knows ("interval 200ms" -> "interval_ms": 200). */
int xlbctl_check_parse(struct xlbctl_args *a, size_t i, json_t *check);

/*
 * What xlbd would refuse among the settings of one command line, once all are in: timeout not
 * shorter than interval, backoff above backoff-max, outlier on with check none, and settings of
 * another kind of check (path with check tcp). Settings not given are xlbd's to merge and check.
 */
int xlbctl_check_validate(struct xlbctl_args *a, json_t *check);

/* A VIP's "check" object as one line: "http /healthz every 200ms rise 2 fall 3", "none".
 * Returns buf, or NULL when check is not an object with a "kind". */
const char *xlbctl_check_summary(const json_t *check, char *buf, size_t len);

/* The BNF of KIND, CHECKOPT and DUR, and what the settings mean, for `vip help`. */
void xlbctl_check_usage(FILE *out);

#endif /* XLBCTL_CHECKOPTS_H */
