/* backend_view.c - a backend's data-plane state and weight from config, MAC (dsr-l2) and circuit. */
#include "backend_view.h"

#include "clock.h"
#include "config.h"
#include "health.h"
#include "macs.h"

__u8 xlbd_view_state(const struct xlbd_view *vw, const struct xlbd_vip *v,
		     const struct xlbd_backend *b, const char **why)
{
	const struct xlbd_check_state *st = xlbd_health_get(vw->health, b->id);
	const struct xlbd_check *c = xlbd_backend_check(v, b);

	/* ipip: the next hop comes from the kernel's tables for every packet (bpf_fib_lookup);
	 * the backend's own MAC, which a backend behind a router never has here, is no
	 * condition. */
	bool mac_needed = v->fwd == XLB_FWD_DSR_L2;

	*why = NULL;
	if (mac_needed && xlbd_macs_unreachable(vw->macs, b->id))
		*why = "neighbour unreachable";
	else if (mac_needed && !xlbd_macs_get(vw->macs, b->id))
		*why = "mac unknown";
	else if (b->admin == XLB_ADMIN_DISABLED)
		*why = "disabled";
	else if (c->kind != XLB_CHECK_NONE && !st->active)
		*why = "not checked yet";
	else if (c->kind != XLB_CHECK_NONE && st->br.state == XLBD_CIRCUIT_OPEN)
		*why = "circuit open";
	else if (c->kind != XLB_CHECK_NONE && st->br.state == XLBD_CIRCUIT_HALF_OPEN)
		*why = "circuit half-open";
	if (*why)
		return XLB_BE_DOWN;
	return b->admin == XLB_ADMIN_DRAIN ? XLB_BE_DRAINING : XLB_BE_UP;
}

__u32 xlbd_view_weight(const struct xlbd_view *vw, const struct xlbd_vip *v,
		       const struct xlbd_backend *b)
{
	const struct xlbd_check *c = xlbd_backend_check(v, b);
	struct xlbd_breaker_policy pol;

	if (c->kind == XLB_CHECK_NONE)
		return b->weight;
	pol = xlbd_check_policy(c);
	return xlbd_breaker_weight(&xlbd_health_get(vw->health, b->id)->br, &pol, b->weight,
				   xlb_now_ms(), xlbd_wall_ms());
}
