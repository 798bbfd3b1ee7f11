/* apply.h - make the maps match the desired state: VIPs, backend entries, scheduler tables. */
#ifndef XLBD_APPLY_H
#define XLBD_APPLY_H

#include <event2/event.h>
#include <linux/types.h>
#include <stdbool.h>

#include "xlb_abi.h"

struct xlbd;
struct xlbd_config;

/*
 * apply.c is the only writer of the VIP, backend and table maps. A change of the desired state
 * (commands.c) is applied at once, because its answer depends on the result; changes of what
 * xlbd learns at run time (a circuit moves, a MAC is learned) ask for an apply with
 * xlbd_apply_soon, and all such requests of one event-loop turn become one apply.
 */
struct xlbd_apply {
	__u64 table_sig[XLB_MAX_VIPS]; /* inputs of each VIP's published table; 0: none published */
	__u64 ring_fp[XLB_MAX_VIPS];   /* digest of each published ring, by member position */
	__u64 fp[XLB_MAX_VIPS]; /* fingerprint as of the last apply (xlbd_apply_fingerprint) */
	bool pending;		/* xlbd_apply_soon was called since the last apply */
	struct event *ev;	/* runs the pending apply */
};

/* The event that runs pending applies, on d->base. 0 or -ENOMEM. */
int xlbd_apply_init(struct xlbd *d);
void xlbd_apply_free(struct xlbd *d);

/* Make the maps match d->cfg. old: the configuration before a change (its removed backends
 * are cleared); full: also clear every id and VIP the configuration lacks (at start). */
int xlbd_apply(struct xlbd *d, const struct xlbd_config *old, bool full);

/*
 * The fingerprint of a VIP's published table (docs/cluster.md): the same on every node whose
 * configuration and backend health are the same; anything that could change a choice changes
 * it. At most 52 bits (a float64 holds it exactly); 0: no table published.
 */
#define XLBD_FINGERPRINT_MASK ((1ULL << 52) - 1)
__u64 xlbd_apply_fingerprint(const struct xlbd *d, __u32 vip_id);

/* A seed change builds the new tables before it writes the seed, in at most this much memory
 * (512 tables of the default ring: 134 MiB); the rest are built after. */
#define XLBD_SEED_STAGE_BYTES (256ULL << 20)

/* Ask for an apply in this loop turn (arg: the struct xlbd). Errors are logged. */
void xlbd_apply_soon(void *arg);

#endif /* XLBD_APPLY_H */
