/* checkopts.c - a VIP's health-check settings: command-line words to "check", and back to text. */
#include "checkopts.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "names.h"

/*
 * The limits are xlbd's (user/lib/names.c), checked here too so the message names the word
 * typed rather than a JSON member. xlbd checks again: it is the authority.
 */
#define CHECK_STR_MAX (XLB_CHECK_STR - 1)

#define KINDS xlb_check_kind_names.names, xlb_check_kind_names.n
static const char *const on_off[] = {"on", "off"};

enum value_type {
	V_KIND,	    /* a check kind (names.h) */
	V_NUMBER,   /* decimal lo..hi */
	V_DURATION, /* lo..hi milliseconds, written with a unit */
	V_STATUS,   /* CODE or CODE-CODE, into status_lo and status_hi */
	V_PATH,	    /* starts with /; no blank or control character */
	V_HOST,	    /* no blank or control character; "" for the backend's address */
	V_TEXT,	    /* printable ASCII, blanks too */
	V_ON_OFF,   /* on | off, as true | false */
};

/* Numbers, durations and statuses take their range from names.c's table, by member. */
static const struct check_setting {
	const char *keyword;
	const char *member; /* in "check"; status: status_lo, and status_hi besides */
	enum value_type type;
	const char *kind; /* the one kind of check it belongs to, or NULL for all */
} settings[] = {
	{"check", "kind", V_KIND, NULL},
	{"port", "port", V_NUMBER, NULL},
	{"path", "path", V_PATH, "http"},
	{"host", "host", V_HOST, "http"},
	{"status", "status_lo", V_STATUS, "http"},
	{"payload", "payload", V_TEXT, "udp"},
	{"interval", "interval_ms", V_DURATION, NULL},
	{"timeout", "timeout_ms", V_DURATION, NULL},
	{"rise", "rise", V_NUMBER, NULL},
	{"fall", "fall", V_NUMBER, NULL},
	{"backoff", "backoff_ms", V_DURATION, NULL},
	{"backoff-max", "backoff_max_ms", V_DURATION, NULL},
	{"slow-start", "slow_start_ms", V_DURATION, NULL},
	{"outlier", "outlier", V_ON_OFF, NULL},
	{"outlier-rate", "outlier_rate", V_NUMBER, NULL},
	{"tunnel", "tunnel", V_ON_OFF, NULL},
};

/* The range of a setting's value. Port 0 is xlbd's word for "the VIP's port", which a command
 * line says by leaving port out: it is not written. */
static void range_of(const struct check_setting *s, unsigned long *lo, unsigned long *hi)
{
	const struct xlb_check_range *r = xlb_check_range(s->member);

	*lo = r ? r->lo : 0;
	*hi = r ? r->hi : 0;
	if (!strcmp(s->member, "port") && *lo < 1)
		*lo = 1;
}

size_t xlbctl_check_nkeywords(void)
{
	return ARRAY_SIZE(settings);
}

const char *xlbctl_check_keyword(size_t i)
{
	return i < ARRAY_SIZE(settings) ? settings[i].keyword : NULL;
}

/* CODE or LO-HI, both HTTP status codes, LO <= HI. */
static int parse_status(struct xlbctl_args *a, const struct check_setting *s, const char *word,
			json_t *check)
{
	const char *dash = strchr(word, '-');
	char e[XLBCTL_ECHO_SIZE], part[16], scratch[128];
	unsigned long lo, hi, min, max;
	size_t len = dash ? (size_t)(dash - word) : strlen(word);
	int ret;

	range_of(s, &min, &max);

	if (len >= sizeof(part))
		goto bad;
	memcpy(part, word, len);
	part[len] = '\0';
	if (xlbctl_parse_uint(part, s->keyword, min, max, &lo, scratch, sizeof(scratch)))
		goto bad;
	hi = lo;
	if (dash &&
	    xlbctl_parse_uint(dash + 1, s->keyword, min, max, &hi, scratch, sizeof(scratch)))
		goto bad;
	if (lo > hi)
		return xlbctl_fail(a, "bad %s '%s': the range is empty, write %lu-%lu", s->keyword,
				   xlbctl_echo(e, word), hi, lo);
	ret = xlbctl_set_int(a, check, "status_lo", lo);
	return ret ? ret : xlbctl_set_int(a, check, "status_hi", hi);
bad:
	return xlbctl_fail(a,
			   "bad %s '%s': write an HTTP status code %lu-%lu or a range of them, "
			   "e.g. 200 or 200-399",
			   s->keyword, xlbctl_echo(e, word), min, max);
}

/* Text that goes into a probe (an HTTP request line, a UDP datagram) as is: one line of
 * printable ASCII, which is also what a JSON string carries without escapes. */
static int parse_text(struct xlbctl_args *a, const struct check_setting *s, const char *word,
		      json_t *check)
{
	bool blanks = s->type == V_TEXT;
	char e[XLBCTL_ECHO_SIZE];
	size_t i, len = strlen(word);

	if (len > CHECK_STR_MAX)
		return xlbctl_fail(a, "bad %s '%s': at most %d characters", s->keyword,
				   xlbctl_echo(e, word), CHECK_STR_MAX);
	for (i = 0; i < len; i++)
		if (word[i] < 0x20 || word[i] > 0x7e || (!blanks && word[i] == ' '))
			return xlbctl_fail(a, "bad %s '%s': %s", s->keyword, xlbctl_echo(e, word),
					   blanks ? "printable ASCII only"
					   : s->type == V_PATH
						   ? "no blanks or control characters (percent-"
						     "encode them)"
						   : "no blanks or control characters");
	if (s->type == V_PATH && word[0] != '/')
		return xlbctl_fail(a, "bad %s '%s': must start with /, e.g. /healthz", s->keyword,
				   xlbctl_echo(e, word));
	return xlbctl_set_str(a, check, s->member, word);
}

int xlbctl_check_parse(struct xlbctl_args *a, size_t i, json_t *check)
{
	const struct check_setting *s;
	const char *word;
	unsigned long v, lo, hi;
	int idx, ret;

	if (i >= ARRAY_SIZE(settings))
		return xlbctl_fail(a, "no check setting %zu", i);
	s = &settings[i];
	/* Values that are names are data, matched whole: "outlier o" is no abbreviation. */
	if (s->type == V_KIND) {
		idx = xlbctl_next_name(a, s->keyword, KINDS, "check kind");
		return idx < 0 ? idx
			       : xlbctl_set_str(a, check, s->member,
						xlb_name(&xlb_check_kind_names, idx));
	}
	if (s->type == V_ON_OFF) {
		idx = xlbctl_next_name(a, s->keyword, on_off, ARRAY_SIZE(on_off), "value");
		return idx < 0 ? idx : xlbctl_set_new(a, check, s->member, json_boolean(idx == 0));
	}
	ret = xlbctl_next_value(a, s->keyword, &word);
	if (ret)
		return ret;
	range_of(s, &lo, &hi);
	switch (s->type) {
	case V_NUMBER:
		if (xlbctl_parse_uint(word, s->keyword, lo, hi, &v, a->err, a->errlen))
			return -EINVAL;
		return xlbctl_set_int(a, check, s->member, v);
	case V_DURATION:
		if (xlbctl_parse_duration(word, s->keyword, lo, hi, &v, a->err, a->errlen))
			return -EINVAL;
		return xlbctl_set_int(a, check, s->member, v);
	case V_STATUS:
		return parse_status(a, s, word, check);
	default:
		return parse_text(a, s, word, check);
	}
}

/* check[member] as a number, -1 when not given. */
static long long given(const json_t *check, const char *member)
{
	const json_t *v = json_object_get(check, member);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

int xlbctl_check_validate(struct xlbctl_args *a, json_t *check)
{
	const char *kind = json_string_value(json_object_get(check, "kind"));
	long long interval = given(check, "interval_ms"), timeout = given(check, "timeout_ms");
	long long backoff = given(check, "backoff_ms"), max = given(check, "backoff_max_ms");
	char x[16], y[16];
	size_t i;

	/* A probe still running when the next is due would overlap it. */
	if (interval >= 0 && timeout >= interval)
		return xlbctl_fail(a, "timeout %s must be shorter than interval %s",
				   xlbctl_format_duration(timeout, x, sizeof(x)),
				   xlbctl_format_duration(interval, y, sizeof(y)));
	if (max >= 0 && backoff > max)
		return xlbctl_fail(a, "backoff %s exceeds backoff-max %s",
				   xlbctl_format_duration(backoff, x, sizeof(x)),
				   xlbctl_format_duration(max, y, sizeof(y)));
	if (!kind)
		return 0;
	/* An outlier's circuit opens on traffic, but only a passing check closes it again. */
	if (!strcmp(kind, "none") && json_is_true(json_object_get(check, "outlier")))
		return xlbctl_fail(a, "'outlier on' needs a health check to bring the backend "
				      "back: give check tcp, http or udp");
	if (!strcmp(kind, "none") && json_is_true(json_object_get(check, "tunnel")))
		return xlbctl_fail(a, "'tunnel on' goes with a health check, which it adds to: "
				      "give check tcp, http or udp");
	for (i = 0; i < ARRAY_SIZE(settings); i++)
		if (settings[i].kind && strcmp(settings[i].kind, kind) &&
		    json_object_get(check, settings[i].member))
			return xlbctl_fail(a, "'%s' is a setting of %s checks, not of check %s",
					   settings[i].keyword, settings[i].kind, kind);
	return 0;
}

static void append(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += n;
}

const char *xlbctl_check_summary(const json_t *check, char *buf, size_t len)
{
	const char *kind = json_string_value(json_object_get(check, "kind"));
	const char *path = json_string_value(json_object_get(check, "path"));
	const char *host = json_string_value(json_object_get(check, "host"));
	long long lo = given(check, "status_lo"), hi = given(check, "status_hi"), v;
	size_t off = 0;
	char d[16];

	if (!kind || !len)
		return NULL;
	append(buf, len, &off, "%s", kind);
	if (!strcmp(kind, "none"))
		return buf;
	/* What tells checks apart at a glance; the rest is in -j. */
	v = given(check, "port");
	if (v > 0)
		append(buf, len, &off, " port %lld", v);
	if (!strcmp(kind, "http")) {
		if (path)
			append(buf, len, &off, " %s", path);
		if (host && *host)
			append(buf, len, &off, " host %s", host);
		/* Only when not xlbd's default, 200-399. */
		if (lo >= 0 && hi >= 0 && (lo != 200 || hi != 399))
			append(buf, len, &off, lo == hi ? " status %lld" : " status %lld-%lld", lo,
			       hi);
	}
	v = given(check, "interval_ms");
	if (v >= 0)
		append(buf, len, &off, " every %s", xlbctl_format_duration(v, d, sizeof(d)));
	/* The timeout in force: automatic ones follow the interval (docs/control.md). */
	v = given(check, "timeout_ms");
	if (v >= 0)
		append(buf, len, &off, " timeout %s", xlbctl_format_duration(v, d, sizeof(d)));
	v = given(check, "rise");
	if (v >= 0)
		append(buf, len, &off, " rise %lld", v);
	v = given(check, "fall");
	if (v >= 0)
		append(buf, len, &off, " fall %lld", v);
	if (json_is_true(json_object_get(check, "outlier")))
		append(buf, len, &off, " outlier");
	if (json_is_true(json_object_get(check, "tunnel")))
		append(buf, len, &off, " tunnel");
	return buf;
}

void xlbctl_check_usage(FILE *out)
{
	fputs("       KIND := { ", out);
	xlbctl_print_alternatives(out, KINDS);
	fputs(" }   (default none)\n"
	      "       CHECKOPT := { port PORT | path PATH | host HOST | status CODE[-CODE] |\n"
	      "                     payload TEXT | interval DUR | timeout DUR | rise N | fall N |\n"
	      "                     backoff DUR | backoff-max DUR | slow-start DUR |\n"
	      "                     tunnel { on | off } |\n"
	      "                     outlier { on | off } | outlier-rate N }\n"
	      "       DUR := a whole number and a unit, ms, s or m: 200ms, 1s, 2m\n"
	      "check none: a backend is up while its MAC is known; tcp connects; http asks\n"
	      "for PATH and wants a STATUS in range; udp sends PAYLOAD, wants any reply.\n"
	      "Check settings merge onto the VIP's: vip set changes only those given, with\n"
	      "or without check KIND. Ranges (defaults):\n"
	      "  port 1-65535 (the VIP's)   path /... (/)\n"
	      "  host HOST (\"\": the backend's address)\n"
	      "  status 100-599 (200-399)   payload TEXT (empty)\n"
	      "  interval 10ms-60m (1s)     timeout 5ms-60m (500ms), shorter than interval\n"
	      "  rise 1-100 (2) passes close a circuit; fall 1-100 (3) failures open it\n"
	      "  backoff 10ms-60m (1s) open, doubling up to backoff-max 10ms-60m (30s)\n"
	      "  slow-start 0-60m (10s): weight ramp after the circuit closes (0: none)\n"
	      "  outlier on|off (off): more SYN retries a second than outlier-rate\n"
	      "  1-1000000 (5) open the circuit too\n"
	      "  tunnel on|off (off): fwd ipip, an ICMP echo to the VIP through the backend's\n"
	      "  tunnel as well; the check passes only when both do\n",
	      out);
}
