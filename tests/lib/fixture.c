/* fixture.c - the standard test configuration and a BPF_PROG_TEST_RUN wrapper (see fixture.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "fixture.h"
#include "xlb_hash.h"
#include "xlb.skel.h"

static void backend_addr(__u32 id, __u8 family, struct xlb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == XLB_AF_INET) {
		a->v4 = htonl(0x0a000100 | id); /* 10.0.1.id */
	} else {
		inet_pton(AF_INET6, "2001:db8:1::", a->bytes);
		a->bytes[15] = id;
	}
}

static void backend_mac(__u32 id, __u8 mac[6])
{
	const __u8 m[6] = {0x02, 0x00, 0x00, 0x00, 0x01, (__u8)id};

	memcpy(mac, m, 6);
}

__u32 fx_backend_of(const void *frame, __u32 len)
{
	const __u8 *f = frame;

	if (len < 6 || f[0] != 0x02 || f[1] || f[2] || f[3] || f[4] != 0x01)
		return 0;
	return f[5];
}

int fx_publish(struct fx *fx, int i)
{
	struct fx_vip *v = &fx->vip[i];
	struct xlb_maglev_backend mb[XLB_MAX_VIP_BACKENDS];
	struct xlb_backend be;
	int err;

	for (__u32 j = 0; j < v->nbe; j++) {
		err = xlb_dp_get_backend(fx->dp, v->be[j], &be);
		if (err)
			return err;
		mb[j].key = xlb_addr_key(&be.addr, be.family);
		mb[j].weight = v->weight[j];
		mb[j].id = v->be[j];
	}
	err = xlb_maglev_build(mb, v->nbe, fx->dp->ring_size, FX_SEED, v->ring);
	if (err)
		return err;
	return xlb_dp_publish_table(fx->dp, v->id, v->be, v->nbe, v->ring, fx->dp->ring_size);
}

int fx_set_state(struct fx *fx, __u32 be_id, __u8 state)
{
	fx->state[be_id] = state;
	return xlb_dp_set_backend_state(fx->dp, be_id, state);
}

int fx_setup(struct fx *fx, const struct xlb_dp_opts *opts)
{
	struct xlb_dp_opts def = {.flow_entries = 65536, .hash_seed = 0x1234, .lb_mac = FX_LB_MAC};
	static const char *const addrs[2] = {"198.51.100.1", "2001:db8:100::1"};
	int err;

	memset(fx, 0, sizeof(*fx));
	err = xlb_dp_load(opts ? opts : &def, &fx->dp);
	if (err)
		return err;
	for (int i = 0; i < FX_NVIPS; i++) {
		struct fx_vip *v = &fx->vip[i];
		__u8 family = i < 2 ? XLB_AF_INET : XLB_AF_INET6;
		struct xlb_vip vip = {.id = i + 1};

		v->id = i + 1;
		v->key.family = family;
		v->key.proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
		v->key.port = htons(i % 2 ? 53 : 80);
		inet_pton(family == XLB_AF_INET ? AF_INET : AF_INET6, addrs[i / 2],
			  v->key.addr.bytes);
		v->ring = calloc(fx->dp->ring_size, sizeof(__u32));
		if (!v->ring)
			return -ENOMEM;
		err = xlb_dp_set_vip(fx->dp, &v->key, &vip);
		if (err)
			return err;
		v->nbe = 3;
		for (__u32 j = 0; j < 3; j++) {
			__u32 id = i * 3 + j + 1;
			struct xlb_backend be = {
				.state = XLB_BE_UP, .family = family, .vip_id = v->id};

			backend_addr(id, family, &be.addr);
			backend_mac(id, be.mac);
			err = xlb_dp_set_backend(fx->dp, id, &be);
			if (err)
				return err;
			v->be[j] = id;
			v->weight[j] = 1;
			fx->state[id] = XLB_BE_UP;
			fx->be_vip[id] = v->id;
		}
		err = fx_publish(fx, i);
		if (err)
			return err;
	}
	return 0;
}

void fx_teardown(struct fx *fx)
{
	for (int i = 0; i < FX_NVIPS; i++)
		free(fx->vip[i].ring);
	xlb_dp_destroy(fx->dp);
	memset(fx, 0, sizeof(*fx));
}

static int any_flow(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k, (void)f, (void)arg;
	return 1;
}

int fx_flush_flows(struct fx *fx)
{
	size_t deleted;

	return xlb_dp_delete_flows(fx->dp, any_flow, NULL, &deleted);
}

int fx_run(struct fx *fx, const void *in, __u32 len, void *out, __u32 *out_len, __u32 *action)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = *out_len, .repeat = 1);
	int err = bpf_prog_test_run_opts(fx->dp->prog_fd, &o);

	if (err)
		return -errno;
	*out_len = o.data_size_out;
	*action = o.retval;
	return 0;
}

void fx_spec_key(const struct pkt_spec *s, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src = s->src;
	k->dst = s->dst;
	k->sport = htons(s->sport);
	k->dport = htons(s->dport);
	k->proto = s->proto;
	k->family = s->family;
}

static bool usable(const struct fx *fx, const struct fx_vip *v, __u32 id)
{
	return fx->state[id] == XLB_BE_UP && fx->be_vip[id] == v->id;
}

__u32 fx_oracle_pick(const struct fx *fx, int vip, const struct xlb_flow_key *k, int *how)
{
	const struct fx_vip *v = &fx->vip[vip];
	__u32 m = fx->dp->ring_size;
	__u32 h = xlb_flow_hash(k, fx->dp->skel->rodata->hash_seed, 0);

	for (__u32 i = 0; i <= XLB_REHASH_TRIES; i++) {
		__u32 id = v->ring[(i ? xlb_rehash(h, i) : h) % m];

		if (usable(fx, v, id)) {
			*how = i;
			return id;
		}
	}
	*how = XLB_REHASH_TRIES + 1;
	for (__u32 j = 0; j < v->nbe; j++) {
		__u32 id = v->be[(h % v->nbe + j) % v->nbe];

		if (usable(fx, v, id))
			return id;
	}
	return 0;
}

int fx_load_prog_file(struct xlb_dp *dp, const char *path, struct bpf_object **out)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	int err = 0;

	if (!obj)
		return -errno;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		struct bpf_map *live;

		if (strstr(name, ".rodata")) { /* the knobs: the same source, the same layout */
			/* The section may be shorter than the skeleton's struct, which is padded
			 * to its alignment. */
			size_t n = bpf_map__value_size(map);

			if (n > sizeof(*dp->skel->rodata))
				err = -EINVAL;
			else
				err = bpf_map__set_initial_value(map, dp->skel->rodata, n);
		} else if (!strchr(name, '.')) {
			live = bpf_object__find_map_by_name(dp->skel->obj, name);
			err = live ? bpf_map__reuse_fd(map, bpf_map__fd(live)) : -ENOENT;
		}
		if (err)
			goto fail;
	}
	err = bpf_object__load(obj);
	if (err)
		goto fail;
	prog = bpf_object__find_program_by_name(obj, "xlb_xdp");
	if (!prog) {
		err = -ENOENT;
		goto fail;
	}
	dp->prog_fd = bpf_program__fd(prog);
	*out = obj;
	return 0;
fail:
	bpf_object__close(obj);
	return err < 0 ? err : -err;
}
