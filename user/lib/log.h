/* log.h - logfmt lines on stderr: ts=... level=... msg="..." key=value ... */
#ifndef XLB_LOG_H
#define XLB_LOG_H

#include <stdbool.h>

enum xlb_log_level { XLB_LOG_DEBUG, XLB_LOG_INFO, XLB_LOG_WARN, XLB_LOG_ERROR };

void xlb_log_set_level(enum xlb_log_level level);
/* "debug", "info", "warn", "error"; 0 or -EINVAL. */
int xlb_log_parse_level(const char *s, enum xlb_log_level *level);

/*
 * msg is quoted for you; kvfmt is printf-style "key=value key2=value2" appended after it (may
 * be NULL). Quote values that can hold spaces yourself: "err=\"%s\"" (xlb_log_quote helps).
 */
void xlb_log(enum xlb_log_level level, const char *msg, const char *kvfmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies s into buf as a logfmt value: quoted and escaped when it needs to be. */
const char *xlb_log_quote(const char *s, char *buf, unsigned int len);

/* Routes libbpf's own messages here, one level lower than ours (they explain ours). */
void xlb_log_libbpf(void);
/* While quiet, libbpf's warnings are logged at debug: a caller that expects a failure (libxdp
 * trying its dispatcher where the kernel refuses it) says what it means in one line itself. */
void xlb_log_libbpf_quiet(bool quiet);

#define pr_debug(msg, ...) xlb_log(XLB_LOG_DEBUG, msg, __VA_ARGS__)
#define pr_info(msg, ...)  xlb_log(XLB_LOG_INFO, msg, __VA_ARGS__)
#define pr_warn(msg, ...)  xlb_log(XLB_LOG_WARN, msg, __VA_ARGS__)
#define pr_err(msg, ...)   xlb_log(XLB_LOG_ERROR, msg, __VA_ARGS__)

#endif /* XLB_LOG_H */
