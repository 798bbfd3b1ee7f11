/* log.c - logfmt logging on stderr (see log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "log.h"

static enum xlb_log_level min_level = XLB_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void xlb_log_set_level(enum xlb_log_level level)
{
	min_level = level;
}

int xlb_log_parse_level(const char *s, enum xlb_log_level *level)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(s, level_names[i])) {
			*level = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xlb_log_quote(const char *s, char *buf, unsigned int len)
{
	unsigned int o = 0;
	int plain = *s != '\0';

	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
			plain = 0;
	if (plain) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	if (len < 3)
		return "\"\"";
	buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < len; p++) {
		if (*p == '"' || *p == '\\')
			buf[o++] = '\\';
		buf[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void vlog(enum xlb_log_level level, const char *msg, const char *kvfmt, va_list ap)
{
	char ts[40], q[512];
	struct timespec now;
	struct tm tm;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "ts=%s.%03ldZ level=%s msg=%s", ts, now.tv_nsec / 1000000,
		level_names[level], xlb_log_quote(msg, q, sizeof(q)));
	if (kvfmt && *kvfmt) {
		fputc(' ', stderr);
		vfprintf(stderr, kvfmt, ap);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
}

void xlb_log(enum xlb_log_level level, const char *msg, const char *kvfmt, ...)
{
	va_list ap;

	va_start(ap, kvfmt);
	vlog(level, msg, kvfmt, ap);
	va_end(ap);
}

static bool libbpf_quiet;

void xlb_log_libbpf_quiet(bool quiet)
{
	libbpf_quiet = quiet;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum xlb_log_level ours =
		level == LIBBPF_WARN && !libbpf_quiet ? XLB_LOG_INFO : XLB_LOG_DEBUG;
	char line[1024], q[1100];
	size_t n;

	if (ours < min_level)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	xlb_log(ours, "libbpf", "detail=%s", xlb_log_quote(line, q, sizeof(q)));
	return 0;
}

void xlb_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
