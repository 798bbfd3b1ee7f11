/* macs.c - backends' MAC addresses from the neighbour table: monitor, dump, solicit (macs.h). */
#include <errno.h>
#include <linux/neighbour.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "dataplane.h"
#include "log.h"
#include "macs.h"
#include "neigh.h"

/* What one neighbour entry says of backend b of v (neigh.h: mac and state, or failed, or
 * deleted); logs what changed. True when the data plane should see something else. */
static bool take(struct xlbd_macs *m, const struct xlbd_vip *v, const struct xlbd_backend *b,
		 const __u8 *mac, __u16 state)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], ms[18];
	__u32 id = b->id;
	bool changed = false;

	m->nud[id] = state;
	if (!state)
		return false; /* deleted (cache expiry): keep the last MAC, solicit it again */
	xlb_format_vip(&v->key, vs, sizeof(vs));
	xlb_format_addr(&b->addr, b->family, as, sizeof(as));
	if (!mac) { /* failed */
		if (m->unreachable[id])
			return false;
		m->unreachable[id] = true;
		pr_warn("backend down: neighbour unreachable", "vip=%s backend=%s", vs, as);
		return true;
	}
	if (m->unreachable[id]) {
		m->unreachable[id] = false;
		pr_info("backend neighbour reachable again", "vip=%s backend=%s", vs, as);
		changed = true;
	}
	if (m->known[id] && !memcmp(m->mac[id], mac, 6))
		return changed;
	snprintf(ms, sizeof(ms), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	memcpy(m->mac[id], mac, 6);
	m->known[id] = true;
	pr_info("backend mac learned", "vip=%s backend=%s mac=%s", vs, as, ms);
	return true;
}

/* Every backend with that address follows the entry; true when one changed. */
static bool take_all(struct xlbd_macs *m, const struct xlb_addr *addr, __u8 family, const __u8 *mac,
		     __u16 state)
{
	bool changed = false;

	for (size_t i = 0; i < m->cfg->nvips; i++) {
		struct xlbd_vip *v = &m->cfg->vips[i];
		struct xlbd_backend *b = xlbd_vip_find_backend(v, addr, family);

		if (b)
			changed |= take(m, v, b, mac, state);
	}
	return changed;
}

/* A neighbour update from the monitor socket (or its resynchronising dump). */
static void on_update(const struct xlb_addr *addr, __u8 family, const __u8 *mac, __u16 state,
		      void *arg)
{
	struct xlbd_macs *m = arg;

	if (take_all(m, addr, family, mac, state))
		m->changed(m->arg);
}

/* A neighbour entry from learn's dump: learn calls `changed` once, after the dumps. */
struct dump_arg {
	struct xlbd_macs *m;
	bool changed;
};

static void on_dump(const struct xlb_addr *addr, __u8 family, const __u8 *mac, __u16 state,
		    void *arg)
{
	struct dump_arg *a = arg;

	a->changed |= take_all(a->m, addr, family, mac, state);
}

/* The kernel has no fresh word on this backend's neighbour: ask it (neigh.h, solicit). */
static bool needs_solicit(const struct xlbd_macs *m, __u32 id)
{
	return !m->known[id] || m->unreachable[id] || !m->nud[id] || (m->nud[id] & NUD_STALE);
}

void xlbd_macs_learn(struct xlbd_macs *m)
{
	struct dump_arg a = {.m = m};
	bool want[2] = {false, false};

	for (size_t i = 0; i < m->cfg->nvips; i++)
		for (size_t j = 0; j < m->cfg->vips[i].nbe; j++) {
			__u32 id = m->cfg->vips[i].be[j].id;

			if (!m->known[id] || !m->nud[id])
				want[m->cfg->vips[i].be[j].family == XLB_AF_INET6] = true;
		}
	for (int f = 0; f < 2; f++)
		if (want[f])
			xlbd_neigh_dump(m->neigh, f ? XLB_AF_INET6 : XLB_AF_INET, on_dump, &a);
	/* Those still unknown, stale, gone or failed: make the kernel ask (ARP / neighbour
	 * solicitation); it tells the monitor what came of it. Not for ipip VIPs: their
	 * backends may be behind routers, and the data plane finds the next hop itself; the
	 * MACs the dumps and the monitor bring are still taken, so that a switch to dsr-l2
	 * finds those on the LB's segment known. */
	for (size_t i = 0; i < m->cfg->nvips; i++) {
		if (m->cfg->vips[i].fwd != XLB_FWD_DSR_L2)
			continue;
		for (size_t j = 0; j < m->cfg->vips[i].nbe; j++) {
			const struct xlbd_backend *b = &m->cfg->vips[i].be[j];

			if (needs_solicit(m, b->id))
				xlbd_neigh_solicit(&b->addr, b->family);
		}
	}
	if (a.changed)
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
	if (id < XLB_MAX_BACKENDS) {
		m->known[id] = false;
		m->unreachable[id] = false;
		m->nud[id] = 0;
	}
}

const __u8 *xlbd_macs_get(const struct xlbd_macs *m, __u32 id)
{
	return id < XLB_MAX_BACKENDS && m->known[id] ? m->mac[id] : NULL;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_macs *m = arg;

	(void)fd, (void)what;
	if (xlbd_neigh_read(m->neigh)) {
		m->resyncs++;
		pr_warn("neighbour monitor overflowed: resynchronised with a dump", "resyncs=%llu",
			(unsigned long long)m->resyncs);
	}
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
