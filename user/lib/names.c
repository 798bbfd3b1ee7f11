/* names.c - the configuration's words and limits (names.h). */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TABLE(a)                            \
	{                                   \
		a, sizeof(a) / sizeof(a[0]) \
	}

static const char *const sched[] = {
	[XLB_SCHED_MAGLEV] = "maglev",
	[XLB_SCHED_SOURCE_HASH] = "source-hash",
	[XLB_SCHED_RR] = "rr",
	[XLB_SCHED_WRR] = "wrr",
	[XLB_SCHED_LEAST_CONN] = "least-conn",
};
static const char *const fwd[] = {[XLB_FWD_DSR_L2] = "dsr-l2", [XLB_FWD_IPIP] = "ipip"};
static const char *const admin[] = {
	[XLB_ADMIN_UP] = "up", [XLB_ADMIN_DRAIN] = "drain", [XLB_ADMIN_DISABLED] = "disabled"};
static const char *const check_kind[] = {[XLB_CHECK_NONE] = "none",
					 [XLB_CHECK_TCP] = "tcp",
					 [XLB_CHECK_HTTP] = "http",
					 [XLB_CHECK_UDP] = "udp"};
static const char *const be_state[] = {
	[XLB_BE_DOWN] = "down", [XLB_BE_UP] = "up", [XLB_BE_DRAINING] = "draining"};

_Static_assert(sizeof(sched) / sizeof(sched[0]) == XLB_SCHED_MAX, "a scheduler without a name");
_Static_assert(sizeof(fwd) / sizeof(fwd[0]) == XLB_FWD_MAX, "a forwarding mode without a name");
_Static_assert(sizeof(admin) / sizeof(admin[0]) == XLB_ADMIN_COUNT,
	       "an admin state without a name");
_Static_assert(sizeof(check_kind) / sizeof(check_kind[0]) == XLB_CHECK_COUNT,
	       "a check kind without a name");

const struct xlb_names xlb_sched_names = TABLE(sched);
const struct xlb_names xlb_fwd_names = TABLE(fwd);
const struct xlb_names xlb_admin_names = TABLE(admin);
const struct xlb_names xlb_check_kind_names = TABLE(check_kind);
const struct xlb_names xlb_be_state_names = TABLE(be_state);

const char *xlb_name(const struct xlb_names *t, unsigned int v)
{
	return v < t->n && t->names[v] ? t->names[v] : "unknown";
}

int xlb_name_value(const struct xlb_names *t, const char *s)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->names[i] && !strcmp(t->names[i], s))
			return i;
	return -EINVAL;
}

const char *xlb_names_join(const struct xlb_names *t, const char *last_sep, char *buf, size_t len)
{
	size_t off = 0, left = 0;

	for (size_t i = 0; i < t->n; i++)
		left += t->names[i] != NULL;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		int w;

		if (!t->names[i])
			continue;
		left--;
		if (off >= len)
			break; /* cut short: buf holds what fits */
		w = snprintf(buf + off, len - off, "%s%s", t->names[i],
			     !left		     ? ""
			     : left == 1 && last_sep ? last_sep
						     : ", ");
		off += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

/* 60 minutes: the longest interval, timeout, back-off or slow start. */
#define MS_MAX 3600000

const struct xlb_check_range xlb_check_ranges[] = {
	{"port", 0, 65535}, /* 0: the VIP's port */
	{"interval_ms", 10, MS_MAX},
	{"timeout_ms", 5, MS_MAX},
	{"rise", 1, 100},
	{"fall", 1, 100},
	{"status_lo", 100, 599},
	{"status_hi", 100, 599},
	{"backoff_ms", 10, MS_MAX},
	{"backoff_max_ms", 10, MS_MAX},
	{"slow_start_ms", 0, MS_MAX},
	{"outlier_rate", 1, 1000000},
};
const size_t xlb_check_nranges = sizeof(xlb_check_ranges) / sizeof(xlb_check_ranges[0]);

const struct xlb_check_range *xlb_check_range(const char *member)
{
	for (size_t i = 0; i < xlb_check_nranges; i++)
		if (!strcmp(xlb_check_ranges[i].member, member))
			return &xlb_check_ranges[i];
	return NULL;
}
