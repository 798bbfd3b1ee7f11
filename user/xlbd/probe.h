/* probe.h - one non-blocking health check (TCP connect, HTTP GET, UDP request/response), and its tunnel part. */
#ifndef XLBD_PROBE_H
#define XLBD_PROBE_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>

#include "names.h"
#include "tunprobe.h"
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
	/* The check through the tunnel besides (tunprobe.h): the probe passes only when both
	 * parts do, within the one timeout. */
	bool tunnel;
	struct xlbd_tunprobe_spec tun;
};

struct xlbd_probe;

/*
 * Errors of our own side, not the backend's (docs/metrics.md, xlb_health_check_errors_total):
 * out of file descriptors (EMFILE, ENFILE), of memory or socket buffers (ENOMEM, ENOBUFS), of
 * local ports or addresses (EADDRNOTAVAIL, EAGAIN). A check that fails with one of these says
 * nothing about the backend: it must not count against it.
 */
#define XLBD_PROBE_LOCAL_ERRORS 6
extern const int xlbd_probe_local_errnos[XLBD_PROBE_LOCAL_ERRORS];
extern const char *const xlbd_probe_local_names[XLBD_PROBE_LOCAL_ERRORS]; /* "EMFILE", ... */
/* The index of err (a positive errno) in xlbd_probe_local_errnos, or -1. */
int xlbd_probe_local_error(int err);

/*
 * Called once per probe, from the event loop: ok, a short reason when not ok, the latency.
 * local: 0, or the errno (one of xlbd_probe_local_errnos) that stopped the check on our side.
 * tunnel_failed: the tunnel part ran and failed (its reason is in err, after "tunnel: ").
 */
typedef void (*xlbd_probe_cb)(void *arg, bool ok, const char *err, __u64 latency_us, int local,
			      bool tunnel_failed);

/* Starts a probe; 0 or -errno (then cb is not called: a local error among them is the caller's
 * to tell apart with xlbd_probe_local_error). The probe frees itself after cb. */
int xlbd_probe_start(struct event_base *base, const struct xlbd_probe_spec *spec, xlbd_probe_cb cb,
		     void *arg, struct xlbd_probe **out);
/* Stops a probe in flight without calling cb. */
void xlbd_probe_cancel(struct xlbd_probe *p);

#endif /* XLBD_PROBE_H */
