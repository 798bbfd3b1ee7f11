/* backend_view.h - what the data plane should see for a backend: its state, why, and its weight. */
#ifndef XLBD_BACKEND_VIEW_H
#define XLBD_BACKEND_VIEW_H

#include <linux/types.h>

struct xlbd_macs;
struct xlbd_health;
struct xlbd_vip;
struct xlbd_backend;

/*
 * The one place that decides a backend's data-plane state from the desired state (admin, check
 * settings) and what xlbd knows at run time (its MAC, its circuit). apply.c publishes it;
 * commands.c and metrics.c show it.
 */
struct xlbd_view {
	const struct xlbd_macs *macs;
	const struct xlbd_health *health;
};

/* XLB_BE_UP, _DRAINING or _DOWN; *why says why it is down ("mac unknown", "circuit open", ...),
 * NULL otherwise. */
__u8 xlbd_view_state(const struct xlbd_view *vw, const struct xlbd_vip *v,
		     const struct xlbd_backend *b, const char **why);

/* The weight the table uses now: the configured one, ramped during slow start. */
__u32 xlbd_view_weight(const struct xlbd_view *vw, const struct xlbd_vip *v,
		       const struct xlbd_backend *b);

#endif /* XLBD_BACKEND_VIEW_H */
