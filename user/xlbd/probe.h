/* probe.h - one non-blocking health check (TCP connect, HTTP GET, UDP request/response). */
#ifndef XLBD_PROBE_H
#define XLBD_PROBE_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>

#include "names.h"
#include "xlb_abi.h"

struct xlbd_probe_spec {
	enum xlb_check_kind kind;
	struct xlb_addr addr;
	__u8 family;
	__u16 port; /* host order */
	__u32 timeout_ms;
	char path[XLB_CHECK_STR];    /* http */
	char host[XLB_CHECK_STR];    /* http Host header; empty: the address */
	__u16 status_lo, status_hi;  /* http: accepted status range */
	char payload[XLB_CHECK_STR]; /* udp: request; any reply is success */
};

struct xlbd_probe;

/* Called once per probe, from the event loop: ok, a short reason when not ok, the latency. */
typedef void (*xlbd_probe_cb)(void *arg, bool ok, const char *err, __u64 latency_us);

/* Starts a probe; 0 or -errno (then cb is not called). The probe frees itself after cb. */
int xlbd_probe_start(struct event_base *base, const struct xlbd_probe_spec *spec, xlbd_probe_cb cb,
		     void *arg, struct xlbd_probe **out);
/* Stops a probe in flight without calling cb. */
void xlbd_probe_cancel(struct xlbd_probe *p);

#endif /* XLBD_PROBE_H */
