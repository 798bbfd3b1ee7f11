/* grammar.c - xlbctl's grammar pieces: word cursor, prefix matching, value parsers. */
#include "grammar.h"
#include "names.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define VIP_FORM "write ADDR:PORT/PROTO, e.g. 10.0.0.10:80/tcp or [2001:db8::10]:443/tcp"

static int vfail(char *err, size_t errlen, int ret, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return ret;
}

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, errlen, ret, fmt, ap);
	va_end(ap);
	return ret;
}

int xlbctl_fail(struct xlbctl_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(a->err, a->errlen, -EINVAL, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *xlbctl_echo(char dst[XLBCTL_ECHO_SIZE], const char *s)
{
	return xlb_printable(dst, s, strlen(s), XLBCTL_ECHO_MAX);
}

const char *xlbctl_peek(const struct xlbctl_args *a)
{
	return a->i < a->argc ? a->argv[a->i] : NULL;
}

const char *xlbctl_next(struct xlbctl_args *a)
{
	return a->i < a->argc ? a->argv[a->i++] : NULL;
}

int xlbctl_end(struct xlbctl_args *a)
{
	char e[XLBCTL_ECHO_SIZE];

	if (a->i >= a->argc)
		return 0;
	return xlbctl_fail(a, "extra argument '%s' for '%s'", xlbctl_echo(e, a->argv[a->i]),
			   a->ctx);
}

/* "a, b or c" (last is "or") or "a, b and c" into buf. */
static const char *list(char *buf, size_t len, const char *const *names, const size_t *idx,
			size_t n, const char *last)
{
	const char *sep;
	size_t i, off = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		if (i == 0)
			sep = "";
		else if (i + 1 == n)
			sep = last;
		else
			sep = ", ";
		w = snprintf(buf + off, len - off, "%s%s", sep, names[idx ? idx[i] : i]);
		if (w < 0)
			break;
		off += w;
	}
	return buf;
}

int xlbctl_match(const char *word, const char *const *names, size_t n, const char *what,
		 const char *ctx, char *err, size_t errlen)
{
	char e[XLBCTL_ECHO_SIZE], where[64] = "", alts[256];
	size_t i, len = strlen(word), nhits = 0, hits[16];

	for (i = 0; i < n; i++)
		if (!strcmp(word, names[i]))
			return i;
	/* "" is a prefix of everything: never take it as an abbreviation. */
	for (i = 0; len && i < n; i++)
		if (!strncmp(word, names[i], len) && nhits < ARRAY_SIZE(hits))
			hits[nhits++] = i;
	if (nhits == 1)
		return hits[0];
	if (ctx)
		snprintf(where, sizeof(where), " for '%s'", ctx);
	/* Refused like iproute2 since bd522643: a prefix that grows ambiguous when a word is
	 * added later must fail loudly, not silently change meaning. */
	if (nhits > 1)
		return fail(err, errlen, -EINVAL, "ambiguous %s '%s'%s: %s", what,
			    xlbctl_echo(e, word), where,
			    list(alts, sizeof(alts), names, hits, nhits, " or "));
	return fail(err, errlen, -ENOENT, "unknown %s '%s'%s: expected %s", what,
		    xlbctl_echo(e, word), where, list(alts, sizeof(alts), names, NULL, n, " or "));
}

int xlbctl_next_keyword(struct xlbctl_args *a, const char *const *names, size_t n)
{
	const char *word = xlbctl_next(a);
	char alts[256];
	int ret;

	if (!word)
		return xlbctl_fail(a, "missing keyword for '%s': expected %s", a->ctx,
				   list(alts, sizeof(alts), names, NULL, n, " or "));
	ret = xlbctl_match(word, names, n, "keyword", a->ctx, a->err, a->errlen);
	return ret < 0 ? -EINVAL : ret;
}

int xlbctl_next_value(struct xlbctl_args *a, const char *keyword, const char **value)
{
	*value = xlbctl_next(a);
	if (!*value)
		return xlbctl_fail(a, "missing value after '%s' for '%s'", keyword, a->ctx);
	return 0;
}

int xlbctl_next_name(struct xlbctl_args *a, const char *keyword, const char *const *names, size_t n,
		     const char *what)
{
	char e[XLBCTL_ECHO_SIZE], alts[256];
	const char *value;
	size_t i;
	int ret;

	ret = xlbctl_next_value(a, keyword, &value);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (!strcmp(value, names[i]))
			return i;
	return xlbctl_fail(a, "unknown %s '%s' after '%s': expected %s", what,
			   xlbctl_echo(e, value), keyword,
			   list(alts, sizeof(alts), names, NULL, n, " or "));
}

void xlbctl_print_alternatives(FILE *out, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " | " : "", names[i]);
}

int xlbctl_set_new(struct xlbctl_args *a, json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new takes value even when it fails, and fails on a NULL value. */
	if (json_object_set_new(obj, key, value))
		return fail(a->err, a->errlen, -ENOMEM, "out of memory building the request");
	return 0;
}

int xlbctl_set_str(struct xlbctl_args *a, json_t *req, const char *key, const char *value)
{
	return xlbctl_set_new(a, req, key, json_string(value));
}

int xlbctl_set_int(struct xlbctl_args *a, json_t *req, const char *key, long long value)
{
	return xlbctl_set_new(a, req, key, json_integer(value));
}

int xlbctl_next_vip(struct xlbctl_args *a, json_t *req, struct xlb_vip_key *key)
{
	const char *word = xlbctl_next(a);
	char text[XLB_ADDRSTRLEN], e[XLBCTL_ECHO_SIZE];
	struct xlb_vip_key k;

	if (!word)
		return xlbctl_fail(a, "missing VIP for '%s': " VIP_FORM, a->ctx);
	if (xlb_parse_vip(word, &k, a->err, a->errlen))
		return -EINVAL;
	/* The canonical text ("[2001:db8::10]:443/tcp", lower case, zeros compressed), so the
	 * daemon, its state file and every listing spell one VIP one way. */
	if (xlb_format_vip(&k, text, sizeof(text)) < 0)
		return xlbctl_fail(a, "cannot print VIP '%s'", xlbctl_echo(e, word));
	if (key)
		*key = k;
	return xlbctl_set_str(a, req, "vip", text);
}

static const char *family_name(__u8 family)
{
	return family == XLB_AF_INET6 ? "IPv6" : "IPv4";
}

int xlbctl_next_backend_addr(struct xlbctl_args *a, json_t *req, const struct xlb_vip_key *vip)
{
	const char *word = xlbctl_next(a);
	char text[XLB_ADDRSTRLEN], e[XLBCTL_ECHO_SIZE], v[XLB_ADDRSTRLEN];
	struct xlb_addr addr;
	__u8 family;

	if (!word)
		return xlbctl_fail(a,
				   "missing backend ADDRESS for '%s': write an IPv4 or IPv6 "
				   "address, e.g. 10.0.1.2",
				   a->ctx);
	if (xlb_parse_addr(word, &addr, &family, a->err, a->errlen))
		return -EINVAL;
	/* DSR forwards the packet unchanged but for the MAC: the backend must take the VIP's
	 * family. ipip also carries an IPv4 VIP to IPv6 backends; the VIP's mode is xlbd's to
	 * know, so xlbd decides on those. */
	if (family != vip->family && !(vip->family == XLB_AF_INET && family == XLB_AF_INET6)) {
		xlb_format_vip(vip, v, sizeof(v));
		return xlbctl_fail(a,
				   "backend address '%s' is %s but VIP %s is %s: use an %s address",
				   xlbctl_echo(e, word), family_name(family), v,
				   family_name(vip->family), family_name(vip->family));
	}
	if (xlb_format_addr(&addr, family, text, sizeof(text)) < 0)
		return xlbctl_fail(a, "cannot print address '%s'", xlbctl_echo(e, word));
	return xlbctl_set_str(a, req, "address", text);
}

/* Decimal digits at s (at least one) into *v, saturating above cap; the end in *end. */
static bool decimal(const char *s, unsigned long long cap, unsigned long long *v, const char **end)
{
	const char *p = s;

	*v = 0;
	/* Not isdigit(): it depends on the locale. */
	for (; *p >= '0' && *p <= '9'; p++)
		if (*v <= cap)
			*v = *v * 10 + (*p - '0');
	*end = p;
	return p != s;
}

int xlbctl_parse_uint(const char *s, const char *what, unsigned long lo, unsigned long hi,
		      unsigned long *value, char *err, size_t errlen)
{
	char e[XLBCTL_ECHO_SIZE];
	unsigned long long v;
	const char *end;

	if (!*s)
		return fail(err, errlen, -EINVAL, "bad %s '': must be a number %lu-%lu", what, lo,
			    hi);
	if (!decimal(s, hi, &v, &end) || *end)
		return fail(err, errlen, -EINVAL, "bad %s '%s': must be a decimal number %lu-%lu",
			    what, xlbctl_echo(e, s), lo, hi);
	if (v < lo || v > hi)
		return fail(err, errlen, -EINVAL, "bad %s '%s': must be %lu-%lu", what,
			    xlbctl_echo(e, s), lo, hi);
	/* "010" is refused rather than guessed at, as ports are (decimal to us, octal to some). */
	if (s[0] == '0' && s[1])
		return fail(err, errlen, -EINVAL, "bad %s '%s': no leading zeros, write %llu", what,
			    xlbctl_echo(e, s), v);
	*value = v;
	return 0;
}

int xlbctl_parse_weight(const char *s, int *weight, char *err, size_t errlen)
{
	unsigned long v;
	int ret;

	ret = xlbctl_parse_uint(s, "weight", XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &v, err, errlen);
	if (!ret)
		*weight = v;
	return ret;
}

/* The units of a duration, largest first (xlbctl_format_duration picks the first that fits). */
static const struct {
	const char *name;
	unsigned long ms;
} duration_units[] = {
	{"m", 60000},
	{"s", 1000},
	{"ms", 1},
};

int xlbctl_parse_duration(const char *s, const char *what, unsigned long lo_ms, unsigned long hi_ms,
			  unsigned long *ms, char *err, size_t errlen)
{
	char e[XLBCTL_ECHO_SIZE], lo[16], hi[16];
	unsigned long long v;
	const char *end;
	size_t i;

	if (!decimal(s, hi_ms, &v, &end))
		return fail(err, errlen, -EINVAL,
			    "bad %s '%s': write a whole number with a unit ms, s or m, e.g. 200ms, "
			    "1s or 2m",
			    what, xlbctl_echo(e, s));
	/* "0" needs no unit: it is no time in any of them. */
	if (!*end && v != 0)
		return fail(err, errlen, -EINVAL,
			    "bad %s '%s': missing unit, write %sms, %ss or %sm", what,
			    xlbctl_echo(e, s), xlbctl_echo(e, s), e, e);
	for (i = 0; *end && i < ARRAY_SIZE(duration_units); i++)
		if (!strcmp(end, duration_units[i].name))
			break;
	if (i == ARRAY_SIZE(duration_units))
		return fail(err, errlen, -EINVAL,
			    "bad %s '%s': unit must be ms, s or m (a whole number of them, e.g. "
			    "1500ms)",
			    what, xlbctl_echo(e, s));
	if (*end)
		v *= duration_units[i].ms;
	if (v < lo_ms || v > hi_ms)
		return fail(err, errlen, -EINVAL, "bad %s '%s': must be %s-%s", what,
			    xlbctl_echo(e, s), xlbctl_format_duration(lo_ms, lo, sizeof(lo)),
			    xlbctl_format_duration(hi_ms, hi, sizeof(hi)));
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return fail(err, errlen, -EINVAL, "bad %s '%s': no leading zeros, write %s", what,
			    xlbctl_echo(e, s), xlbctl_format_duration(v, lo, sizeof(lo)));
	*ms = v;
	return 0;
}

const char *xlbctl_format_duration(unsigned long long ms, char *buf, size_t len)
{
	size_t i;

	if (ms == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	/* The last unit, 1 ms, divides everything. */
	for (i = 0; i + 1 < ARRAY_SIZE(duration_units); i++)
		if (ms % duration_units[i].ms == 0)
			break;
	snprintf(buf, len, "%llu%s", ms / duration_units[i].ms, duration_units[i].name);
	return buf;
}
