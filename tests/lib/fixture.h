/* fixture.h - a loaded XDP program with a standard set of VIPs and backends, for tests and bench. */
#ifndef XLB_FIXTURE_H
#define XLB_FIXTURE_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>

#include "dataplane.h"
#include "pkt.h"

/*
 * Standard configuration (fx_setup):
 *   vip[0] 198.51.100.1:80/tcp      id 1  backends 1,2,3    10.0.1.1-3
 *   vip[1] 198.51.100.1:53/udp      id 2  backends 4,5,6    10.0.1.4-6
 *   vip[2] [2001:db8:100::1]:80/tcp id 3  backends 7,8,9    2001:db8:1::7-9
 *   vip[3] [2001:db8:100::1]:53/udp id 4  backends 10,11,12 2001:db8:1::10-12
 * Backend n has MAC 02:00:00:00:01:n, weight 1, state up. The LB's MAC is FX_LB_MAC.
 * pkt_spec_init()'s destinations are these VIP addresses, and its destination MAC is FX_LB_MAC
 * (the program balances only frames to the LB's MAC).
 */
#define FX_NVIPS  4
#define FX_MAX_BE 16 /* backend ids < FX_MAX_BE */
#define FX_LB_MAC                                  \
	{                                          \
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02 \
	}
#define FX_SEED 0x5eed

struct fx_vip {
	struct xlb_vip_key key;
	__u32 id;
	__u32 nbe;
	__u32 be[XLB_MAX_VIP_BACKENDS]; /* member ids, as published */
	__u32 weight[XLB_MAX_VIP_BACKENDS];
	__u32 *ring; /* copy of the published ring (ring_size entries) */
};

struct fx {
	struct xlb_dp *dp;
	struct fx_vip vip[FX_NVIPS];
	__u8 state[XLB_MAX_BACKENDS]; /* what the test set, for the oracle */
	__u32 be_vip[XLB_MAX_BACKENDS];
};

/* Load with opts (NULL: defaults with FX_LB_MAC, ring 65537, 65536 flows) and configure. */
int fx_setup(struct fx *fx, const struct xlb_dp_opts *opts);
void fx_teardown(struct fx *fx);

/* Re-publish vip[i]'s table from fx->vip[i].be/weight (recomputing the ring copy). */
int fx_publish(struct fx *fx, int i);
int fx_set_state(struct fx *fx, __u32 be_id, __u8 state);
/* Delete every flow-table entry. */
int fx_flush_flows(struct fx *fx);

/* Run one frame through the program; out gets the frame after the program (out_len its size). */
int fx_run(struct fx *fx, const void *in, __u32 len, void *out, __u32 *out_len, __u32 *action);

/* The flow key the program derives from a spec (TCP/UDP). */
void fx_spec_key(const struct pkt_spec *s, struct xlb_flow_key *k);

/* The backend a new flow should get, from the spec of the data plane: ring slot, re-hashes, then
 * member walk over usable (up) backends; 0 when none is usable. *how: 0 first pick, n re-hash n,
 * XLB_REHASH_TRIES + 1 walk. */
__u32 fx_oracle_pick(const struct fx *fx, int vip, const struct xlb_flow_key *k, int *how);

/* Backend id whose MAC is the frame's destination MAC (0 if none). */
__u32 fx_backend_of(const void *frame, __u32 len);

/*
 * Runs dp's packets through the program of another build of bpf/xlb.bpf.c (path: a BPF object
 * file, e.g. a scratch copy with a planted fault, to show that a test catches it): the object is
 * loaded over dp's maps with dp's knobs, and dp->prog_fd becomes its program. Close *obj with
 * bpf_object__close() after xlb_dp_destroy(). 0 or -errno.
 */
struct bpf_object;
int fx_load_prog_file(struct xlb_dp *dp, const char *path, struct bpf_object **obj);

#endif /* XLB_FIXTURE_H */
