/* events.c - log the data plane's rare events (BPF ring buffer, rate-limited in the program). */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "addr.h"
#include "log.h"
#include "xlb.skel.h"
#include "xlbd.h"

static void names(struct xlbd *d, __u32 vip_id, __u32 be_id, char *vs, char *as)
{
	const struct xlbd_backend *b = xlbd_config_backend_by_id(&d->cfg, be_id, NULL);

	strcpy(vs, "?");
	strcpy(as, "-");
	for (size_t i = 0; i < d->cfg.nvips; i++)
		if (d->cfg.vips[i].id == vip_id)
			xlb_format_vip(&d->cfg.vips[i].key, vs, XLB_ADDRSTRLEN);
	if (b)
		xlb_format_addr(&b->addr, b->family, as, XLB_ADDRSTRLEN);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct xlbd *d = ctx;
	const struct xlb_event *e = data;
	char vs[XLB_ADDRSTRLEN], from[XLB_ADDRSTRLEN], to[XLB_ADDRSTRLEN];

	if (len < sizeof(*e))
		return 0;
	names(d, e->vip_id, e->from_backend, vs, from);
	names(d, e->vip_id, e->to_backend, vs, to);
	switch (e->type) {
	case XLB_EV_NO_BACKEND:
		pr_warn("no usable backend: packet dropped", "vip=%s flow_backend=%s", vs, from);
		break;
	case XLB_EV_REPICK:
		pr_info("flow re-steered", "vip=%s from=%s to=%s", vs, from, to);
		break;
	case XLB_EV_FLOW_FULL:
		pr_warn("flow table full: new flow not recorded", "vip=%s backend=%s", vs, to);
		break;
	default:
		pr_debug("unknown data-plane event", "type=%u", e->type);
	}
	return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd *d = arg;

	(void)fd, (void)what;
	ring_buffer__consume(d->events.rb);
}

int xlbd_events_open(struct xlbd *d)
{
	d->events.rb =
		ring_buffer__new(bpf_map__fd(d->dp->skel->maps.xlb_events), on_event, d, NULL);
	if (!d->events.rb)
		return -errno;
	d->events.ev = event_new(d->base, ring_buffer__epoll_fd(d->events.rb), EV_READ | EV_PERSIST,
				 on_readable, d);
	if (!d->events.ev)
		return -ENOMEM;
	return event_add(d->events.ev, NULL) ? -EIO : 0;
}

void xlbd_events_close(struct xlbd *d)
{
	if (d->events.ev)
		event_free(d->events.ev);
	ring_buffer__free(d->events.rb);
	d->events.ev = NULL;
	d->events.rb = NULL;
}
