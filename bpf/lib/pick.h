/* pick.h - backend choice for a new flow: weighted Maglev with stateless failover. */
#ifndef XLB_BPF_PICK_H
#define XLB_BPF_PICK_H

/*
 * Stateless failover: if the ring slot of a flow names a backend that is not usable, the flow
 * re-hashes (xlb_rehash, tries 1..XLB_REHASH_TRIES) into the same ring, which keeps the weights
 * of the remaining backends; if every try lands on an unusable backend, a walk over the members
 * from a hashed start takes the first usable one. Everything depends only on the packet and the
 * maps, so every LB node with the same maps picks the same backend.
 */

static __always_inline struct xlb_backend *backend_usable_new(__u32 id, __u32 vip_id)
{
	struct xlb_backend *be = bpf_map_lookup_elem(&xlb_backends, &id);

	if (!be || be->vip_id != vip_id || be->state != XLB_BE_UP)
		return NULL;
	return be;
}

struct member_walk {
	__u32 vip_id;
	__u32 nmemb;
	__u32 start;
	__u32 found;
};

static __always_inline struct xlb_table *vip_table(__u32 vip_id)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&xlb_tables, &vip_id);

	return inner ? bpf_map_lookup_elem(inner, &zero) : NULL;
}

static long member_walk_step(__u32 i, void *arg)
{
	struct member_walk *w = arg;
	__u32 idx = w->start + i;
	struct xlb_table *t;

	if (idx >= w->nmemb)
		idx -= w->nmemb;
	/* Re-lookup per step: the verifier checks this callback alone, without the caller's
	 * table pointer. Only the failover's last resort runs this. */
	t = vip_table(w->vip_id);
	if (!t || idx >= XLB_MAX_VIP_BACKENDS)
		return 1;
	if (backend_usable_new(t->memb[idx], w->vip_id)) {
		w->found = t->memb[idx];
		return 1;
	}
	return 0;
}

/* Returns the backend id (0: none usable) and its entry in *out. */
static __always_inline __u32 pick_maglev(const struct xlb_table *t, __u32 vip_id, __u32 hash,
					 struct xlb_backend **out)
{
	struct member_walk w = {.vip_id = vip_id};
	__u32 len = t->len, i;

	if (!len || len > ring_size)
		return 0;

	for (i = 0; i <= XLB_REHASH_TRIES; i++) {
		__u32 slot = (i ? xlb_rehash(hash, i) : hash) % len;
		__u32 id;

		if (slot >= ring_size) /* for the verifier: len <= ring_size already */
			return 0;
		id = t->ring[slot];
		*out = backend_usable_new(id, vip_id);
		if (*out) {
			if (i)
				count(XLB_C_FAILOVER_REHASH);
			return id;
		}
	}

	if (!t->nmemb || t->nmemb > XLB_MAX_VIP_BACKENDS)
		return 0;
	w.nmemb = t->nmemb;
	w.start = hash % w.nmemb;
	bpf_loop(w.nmemb, member_walk_step, &w, 0);
	if (!w.found)
		return 0;
	*out = backend_usable_new(w.found, vip_id);
	if (!*out)
		return 0;
	count(XLB_C_FAILOVER_WALK);
	return w.found;
}

#endif /* XLB_BPF_PICK_H */
