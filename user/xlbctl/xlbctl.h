/* xlbctl.h - the xlbctl CLI as a library: argv to request, answer to output (main.c, tests). */
#ifndef XLBCTL_H
#define XLBCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses of xlbctl. */
enum xlbctl_exit {
	XLBCTL_EXIT_OK = 0,
	XLBCTL_EXIT_ERROR = 1, /* xlbd refused, could not be reached or answered nonsense */
	XLBCTL_EXIT_USAGE = 2, /* bad command line: nothing was sent to xlbd */
};

/* Room for any one-line message xlbctl prints. */
#define XLBCTL_ERR_MAX 512

struct xlbctl_opts {
	bool json;	    /* -j: xlbd's JSON result; errors as {"error":"..."} on stdout */
	bool pretty;	    /* -p: indented JSON; implies json */
	const char *socket; /* -s PATH (points into argv); NULL: XLB_CTL_SOCK_DEFAULT */
	int timeout_ms;	    /* <= 0: XLB_CTL_TIMEOUT_MS */
};

/* Prints a successful result (xlbd's answer without "ok") as text: 0, or -errno with a message
 * in err (-EPROTO: the result lacks what this command's answer must hold). */
typedef int (*xlbctl_print_fn)(json_t *result, FILE *out, char *err, size_t errlen);
/* Prints usage in BNF. */
typedef void (*xlbctl_usage_fn)(FILE *out);

/* What a command line asks for: a request to send, or help to print. */
struct xlbctl_cmd {
	struct xlbctl_opts opts;
	json_t *req;	       /* {"cmd": "<object> <verb>", ...}; NULL when help was asked for */
	xlbctl_print_fn print; /* text form of the result; NULL: one "name value" line per member */
	xlbctl_usage_fn usage; /* set when help was asked for: print it, send nothing */
	unsigned int watch;    /* stats watch: refresh every second; 0: once */
	unsigned int count;    /* stats watch count N: stop after N refreshes; 0: until killed */
	const char *config_file; /* config apply: read when sent (xlbctl_config_send); argv's */
};

/*
 * Parses a whole command line (argv[0] is the program name; argv is not modified) into cmd.
 * Pure: no I/O, no daemon. Returns 0, -EINVAL with a one-line message in err naming the
 * offending word, or -ENOMEM. cmd->opts holds the options seen so far even on error, so the
 * caller knows whether to report the error as JSON. Call xlbctl_cmd_free() either way.
 */
int xlbctl_parse(int argc, char **argv, struct xlbctl_cmd *cmd, char *err, size_t errlen);
void xlbctl_cmd_free(struct xlbctl_cmd *cmd);

/* stats watch: rates every second until count refreshes (0: until killed). */
int xlbctl_watch(const struct xlbctl_cmd *cmd, FILE *out, FILE *errf);

/*
 * Does what cmd says: prints help, or sends the request to xlbd and prints the answer. Errors
 * are printed too (xlbctl_print_error). Returns 0, -EREMOTEIO (xlbd refused the request),
 * -EPROTO (xlbd's answer made no sense), or the -errno of the failed connection.
 */
int xlbctl_run(const struct xlbctl_cmd *cmd, FILE *out, FILE *errf);

/*
 * config apply: reads cmd->config_file and puts it into cmd->req, whole ("config") when the
 * request fits in a line, else sent ahead in pieces over ctl (`config upload`, "upload").
 * 0 or -errno with a message in err.
 */
struct xlb_ctl;
int xlbctl_config_send(const struct xlbctl_cmd *cmd, struct xlb_ctl *ctl, char *err, size_t errlen);

/* Prints xlbd's answer line as xlbctl_run does, errors included; returns as xlbctl_run. */
int xlbctl_print_answer(const struct xlbctl_cmd *cmd, const char *answer, FILE *out, FILE *errf);

/* Prints a successful result (no "ok" member): JSON with -j/-p, else cmd->print's text. 0 or
 * -errno with a message in err. */
int xlbctl_print_result(const struct xlbctl_cmd *cmd, json_t *result, FILE *out, char *err,
			size_t errlen);

/* JSON mode: {"error":"<msg>"} on out. Text mode: "xlbctl: <msg>" on errf. */
void xlbctl_print_error(const struct xlbctl_opts *opts, const char *msg, FILE *out, FILE *errf);

/* Usage of the whole tool, in BNF. */
void xlbctl_usage(FILE *out);

#endif /* XLBCTL_H */
