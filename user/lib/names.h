/* names.h - the configuration's words and limits, written once for xlbd and xlbctl. */
#ifndef XLB_NAMES_H
#define XLB_NAMES_H

#include <linux/types.h>
#include <stddef.h>

#include "xlb_abi.h"

/* Operator states of a backend: up; drain (existing flows only); disabled (no traffic, no checks). */
enum xlb_admin { XLB_ADMIN_UP, XLB_ADMIN_DRAIN, XLB_ADMIN_DISABLED, XLB_ADMIN_COUNT };

/* Kinds of health check; none: a backend is up while its MAC is known. */
enum xlb_check_kind {
	XLB_CHECK_NONE,
	XLB_CHECK_TCP,
	XLB_CHECK_HTTP,
	XLB_CHECK_UDP,
	XLB_CHECK_COUNT
};

/* A set of names indexed by value: names[v] names v (NULL for a value without a name). */
struct xlb_names {
	const char *const *names;
	size_t n;
};

extern const struct xlb_names xlb_sched_names;	    /* XLB_SCHED_*: maglev, source-hash, ... */
extern const struct xlb_names xlb_fwd_names;	    /* XLB_FWD_*: dsr-l2, ipip */
extern const struct xlb_names xlb_admin_names;	    /* enum xlb_admin: up, drain, disabled */
extern const struct xlb_names xlb_check_kind_names; /* enum xlb_check_kind: none, tcp, ... */
extern const struct xlb_names xlb_be_state_names;   /* XLB_BE_*: down, up, draining */

/* The name of v, "unknown" when it has none. */
const char *xlb_name(const struct xlb_names *t, unsigned int v);
/* The value named s exactly, or -EINVAL. */
int xlb_name_value(const struct xlb_names *t, const char *s);
/* "a, b or c" (last_sep " or ") or "a, b, c" into buf; returns buf. */
const char *xlb_names_join(const struct xlb_names *t, const char *last_sep, char *buf, size_t len);

/* A backend's weight. */
#define XLB_WEIGHT_MIN 1
#define XLB_WEIGHT_MAX 1000

/* A health check's path, host or payload, with its NUL. */
#define XLB_CHECK_STR 128

/* The numeric settings of a health check: member of the "check" object, accepted range. */
struct xlb_check_range {
	const char *member;
	__u32 lo, hi;
};
/* NULL when member is not a numeric check setting. */
const struct xlb_check_range *xlb_check_range(const char *member);
extern const struct xlb_check_range xlb_check_ranges[];
extern const size_t xlb_check_nranges;

#endif /* XLB_NAMES_H */
