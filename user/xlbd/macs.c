/* macs.c - backends' MAC addresses from the neighbour table: monitor, dump, solicit (macs.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "dataplane.h"
#include "log.h"
#include "macs.h"
#include "neigh.h"

/* Records mac (NULL: lost) for id, logging a change; true when something changed. */
static bool set_mac(struct xlbd_macs *m, __u32 id, const __u8 *mac, const struct xlbd_vip *v,
		    const struct xlbd_backend *b)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], ms[18];

	if (mac && m->known[id] && !memcmp(m->mac[id], mac, 6))
		return false;
	if (!mac && !m->known[id])
		return false;
	xlb_format_vip(&v->key, vs, sizeof(vs));
	xlb_format_addr(&b->addr, b->family, as, sizeof(as));
	if (mac) {
		snprintf(ms, sizeof(ms), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
			 mac[3], mac[4], mac[5]);
		memcpy(m->mac[id], mac, 6);
		m->known[id] = true;
		pr_info("backend mac learned", "vip=%s backend=%s mac=%s", vs, as, ms);
	} else {
		m->known[id] = false;
		pr_warn("backend unreachable: neighbour resolution failed", "vip=%s backend=%s", vs,
			as);
	}
	return true;
}

/* A neighbour update from the monitor socket: every backend with that address follows it. */
static void on_update(const struct xlb_addr *addr, __u8 family, const __u8 *mac, void *arg)
{
	struct xlbd_macs *m = arg;
	bool changed = false;

	for (size_t i = 0; i < m->cfg->nvips; i++) {
		struct xlbd_vip *v = &m->cfg->vips[i];
		struct xlbd_backend *b = xlbd_vip_find_backend(v, addr, family);

		if (b)
			changed |= set_mac(m, b->id, mac, v, b);
	}
	if (changed)
		m->changed(m->arg);
}

/* A neighbour entry from a dump: only backends whose MAC is unknown take it. */
static void on_dump(const struct xlb_addr *addr, __u8 family, const __u8 *mac, void *arg)
{
	struct xlbd_macs *m = arg;

	for (size_t i = 0; i < m->cfg->nvips; i++) {
		struct xlbd_vip *v = &m->cfg->vips[i];
		struct xlbd_backend *b = xlbd_vip_find_backend(v, addr, family);

		if (b && !m->known[b->id])
			set_mac(m, b->id, mac, v, b);
	}
}

void xlbd_macs_learn(struct xlbd_macs *m)
{
	bool want[2] = {false, false};
	size_t unknown = 0, still = 0;

	for (size_t i = 0; i < m->cfg->nvips; i++)
		for (size_t j = 0; j < m->cfg->vips[i].nbe; j++)
			if (!m->known[m->cfg->vips[i].be[j].id]) {
				want[m->cfg->vips[i].key.family == XLB_AF_INET6] = true;
				unknown++;
			}
	if (!unknown)
		return;
	for (int f = 0; f < 2; f++)
		if (want[f])
			xlbd_neigh_dump(m->neigh, f ? XLB_AF_INET6 : XLB_AF_INET, on_dump, m);
	/* Those still unknown: make the kernel ask (ARP / neighbour solicitation). */
	for (size_t i = 0; i < m->cfg->nvips; i++) {
		for (size_t j = 0; j < m->cfg->vips[i].nbe; j++) {
			const struct xlbd_backend *b = &m->cfg->vips[i].be[j];

			if (!m->known[b->id]) {
				xlbd_neigh_solicit(&b->addr, b->family);
				still++;
			}
		}
	}
	if (still < unknown)
		m->changed(m->arg);
}

void xlbd_macs_seed(struct xlbd_macs *m, struct xlb_dp *dp)
{
	static const __u8 zero[6];

	for (size_t i = 0; i < m->cfg->nvips; i++) {
		const struct xlbd_vip *v = &m->cfg->vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			const struct xlbd_backend *b = &v->be[j];
			struct xlb_backend cur;

			if (xlb_dp_get_backend(dp, b->id, &cur) || cur.vip_id != v->id ||
			    cur.family != b->family ||
			    memcmp(&cur.addr, &b->addr, sizeof(b->addr)) ||
			    !memcmp(cur.mac, zero, 6))
				continue;
			memcpy(m->mac[b->id], cur.mac, 6);
			m->known[b->id] = true;
		}
	}
}

void xlbd_macs_forget(struct xlbd_macs *m, __u32 id)
{
	if (id < XLB_MAX_BACKENDS)
		m->known[id] = false;
}

const __u8 *xlbd_macs_get(const struct xlbd_macs *m, __u32 id)
{
	return id < XLB_MAX_BACKENDS && m->known[id] ? m->mac[id] : NULL;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	xlbd_neigh_read(((struct xlbd_macs *)arg)->neigh);
}

int xlbd_macs_open(struct xlbd_macs *m, struct event_base *base, int ifindex,
		   const struct xlbd_config *cfg, void (*changed)(void *arg), void *arg)
{
	int err;

	m->cfg = cfg;
	m->changed = changed;
	m->arg = arg;
	err = xlbd_neigh_open(&m->neigh, ifindex, on_update, m);
	if (err)
		return err;
	m->ev = event_new(base, xlbd_neigh_fd(m->neigh), EV_READ | EV_PERSIST, on_readable, m);
	if (!m->ev || event_add(m->ev, NULL))
		return -ENOMEM;
	return 0;
}

void xlbd_macs_close(struct xlbd_macs *m)
{
	if (m->ev)
		event_free(m->ev);
	m->ev = NULL;
	xlbd_neigh_close(m->neigh);
	m->neigh = NULL;
}
