/* grammar.h - xlbctl's grammar pieces: word cursor, prefix matching, value parsers, object tables. */
#ifndef XLBCTL_GRAMMAR_H
#define XLBCTL_GRAMMAR_H

#include <linux/types.h>

#include "addr.h"
#include "xlbctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A word echoed in a message is cut to this many bytes and made printable. */
#define XLBCTL_ECHO_MAX	 64
#define XLBCTL_ECHO_SIZE (XLBCTL_ECHO_MAX + 4)

/* The words still to parse, what they belong to ("vip add") and where messages go. */
struct xlbctl_args {
	int argc;
	char **argv;
	int i;	      /* next word */
	char ctx[32]; /* the words that name the command ("vip add"), for messages */
	char *err;
	size_t errlen;
};

/* One verb of an object: parses the words after it into cmd->req, which already holds "cmd". */
struct xlbctl_verb {
	const char *name;
	int (*parse)(struct xlbctl_args *a, struct xlbctl_cmd *cmd);
	xlbctl_print_fn print; /* NULL: one "name value" line per member of the result */
};

struct xlbctl_object {
	const char *name;
	const struct xlbctl_verb *verbs; /* one of them is "show": the default */
	size_t nverbs;
	xlbctl_usage_fn usage;
	/* Words that match no verb are show's arguments (`xlbctl stats vip X`) rather than an
	 * unknown command: for objects whose show takes keywords, never a bare value. */
	bool show_takes_words;
};

extern const struct xlbctl_object xlbctl_obj_vip;
extern const struct xlbctl_object xlbctl_obj_backend;
extern const struct xlbctl_object xlbctl_obj_stats;
extern const struct xlbctl_object xlbctl_obj_prog;
extern const struct xlbctl_object xlbctl_obj_flow;
extern const struct xlbctl_object xlbctl_obj_config;
extern const struct xlbctl_object xlbctl_obj_node;

/* Sets a's message and returns -EINVAL. */
int xlbctl_fail(struct xlbctl_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s made fit for a one-line message: control and non-ASCII bytes as '?', cut with "...". */
const char *xlbctl_echo(char dst[XLBCTL_ECHO_SIZE], const char *s);

/* The next word without taking it, NULL at the end. */
const char *xlbctl_peek(const struct xlbctl_args *a);
/* Takes the next word, NULL at the end. */
const char *xlbctl_next(struct xlbctl_args *a);
/* -EINVAL ("extra argument 'x' for 'vip del'") unless every word was taken. */
int xlbctl_end(struct xlbctl_args *a);

/*
 * Index of word in names[0..n): an exact match, else the one name it is a prefix of. Otherwise
 * a message in err and -ENOENT ("unknown keyword 'x' for 'vip add': expected sched or fwd") or
 * -EINVAL ("ambiguous command 's' for 'vip': set or show"). ctx may be NULL.
 */
int xlbctl_match(const char *word, const char *const *names, size_t n, const char *what,
		 const char *ctx, char *err, size_t errlen);

/* Takes the next word as one of names (a keyword); -EINVAL at the end of the words too. */
int xlbctl_next_keyword(struct xlbctl_args *a, const char *const *names, size_t n);
/* Takes the value after keyword: -EINVAL "missing value after 'weight' ..." at the end. */
int xlbctl_next_value(struct xlbctl_args *a, const char *keyword, const char **value);
/* The value after keyword, which must be one of names exactly (values are data, not
 * abbreviations): "unknown scheduler 'x' ...: expected maglev". Returns its index. */
int xlbctl_next_name(struct xlbctl_args *a, const char *keyword, const char *const *names, size_t n,
		     const char *what);
/* "a | b | c": the alternatives of a BNF rule. */
void xlbctl_print_alternatives(FILE *out, const char *const *names, size_t n);

/* Takes the next word as a VIP (what names it in the "missing" message), stores its canonical
 * text as req["vip"] and the parsed key in *key (when not NULL). */
int xlbctl_next_vip(struct xlbctl_args *a, json_t *req, struct xlb_vip_key *key);
/* Takes the next word as a backend address of vip's family, stored as req["address"]. */
int xlbctl_next_backend_addr(struct xlbctl_args *a, json_t *req, const struct xlb_vip_key *vip);
/* A number: decimal lo..hi, no sign, space or leading zero; what names it in the message
 * ("bad rise '0': must be 1-100"). */
int xlbctl_parse_uint(const char *s, const char *what, unsigned long lo, unsigned long hi,
		      unsigned long *value, char *err, size_t errlen);
/* A weight: decimal 1..1000, no sign, space or leading zero. */
int xlbctl_parse_weight(const char *s, int *weight, char *err, size_t errlen);

/*
 * A duration: a whole number with a unit, ms, s or m ("200ms", "1s", "2m"), or "0"; in
 * milliseconds, lo_ms..hi_ms. A bare number is refused ("bad interval '200': missing unit,
 * write 200ms, 200s or 200m"): a unit guessed wrong is off by a thousand.
 */
int xlbctl_parse_duration(const char *s, const char *what, unsigned long lo_ms, unsigned long hi_ms,
			  unsigned long *ms, char *err, size_t errlen);
/* ms as xlbctl_parse_duration reads it back: in the largest unit that divides it ("2m",
 * "1500ms"), 0 as "0". Returns buf. */
const char *xlbctl_format_duration(unsigned long long ms, char *buf, size_t len);

/* obj[key] = value, a new reference taken even on failure (a NULL value fails); -ENOMEM with
 * a message when jansson cannot allocate. */
int xlbctl_set_new(struct xlbctl_args *a, json_t *obj, const char *key, json_t *value);
/* req[key] = value; -ENOMEM (with a message) when jansson cannot allocate. */
int xlbctl_set_str(struct xlbctl_args *a, json_t *req, const char *key, const char *value);
int xlbctl_set_int(struct xlbctl_args *a, json_t *req, const char *key, long long value);

#endif /* XLBCTL_GRAMMAR_H */
