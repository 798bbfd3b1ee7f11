/* prog.c - load and attach the decapsulating XDP program, pin and open its maps, read its counters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend.h"
#include "files.h"
#include "log.h"
#include "xlb_decap.skel.h"

#define PROG_NAME "xlb_decap"

static int pin_path(const char *ifname, const char *map, char *buf, size_t len)
{
	int n = map ? snprintf(buf, len, "%s/%s/%s", be_pin_dir(), ifname, map)
		    : snprintf(buf, len, "%s/%s", be_pin_dir(), ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

__u32 be_xdp_prog(int ifindex, char *name, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd;

	if (name && len)
		name[0] = '\0';
	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) && name && len)
			snprintf(name, len, "%s", info.name);
		close(fd);
	}
	return q.prog_id;
}

static void unpin(const char *ifname)
{
	static const char *const maps[] = {"xlb_decap_vips", "xlb_decap_stats"};
	char path[512];

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (!pin_path(ifname, maps[i], path, sizeof(path)))
			unlink(path);
	if (!pin_path(ifname, NULL, path, sizeof(path)))
		rmdir(path);
	rmdir(be_pin_dir()); /* only when no other interface uses it */
}

static int pin(struct bpf_map *m, const char *ifname)
{
	char path[512];
	int err = pin_path(ifname, bpf_map__name(m), path, sizeof(path));

	if (!err)
		err = xlb_mkdir_parent(path, 0700);
	if (!err)
		err = bpf_map__pin(m, path);
	if (err)
		be_fail(err, "cannot pin %s: %s (is bpffs mounted on /sys/fs/bpf?)", path,
			strerror(-err));
	return err;
}

int be_prog_attach(struct be_state *st, int ifindex)
{
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST |
		      (st->mode == BE_MODE_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct xlb_decap_bpf *skel;
	int err;

	skel = xlb_decap_bpf__open_and_load();
	if (!skel)
		return be_fail(-errno, "cannot load the decapsulation program: %s",
			       strerror(errno));
	err = pin(skel->maps.xlb_decap_vips, st->ifname);
	if (!err)
		err = pin(skel->maps.xlb_decap_stats, st->ifname);
	if (err)
		goto unpin;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xlb_decap), flags, NULL);
	if (err) {
		be_fail(err, "cannot attach in %s mode on %s: %s%s", be_mode_name(st->mode),
			st->ifname, strerror(-err),
			st->mode == BE_MODE_NATIVE ? " (try `mode generic`)" : "");
		goto unpin;
	}
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.xlb_decap), &info, &len))
		st->prog_id = info.id;
	xlb_decap_bpf__destroy(skel); /* the attachment and the pins keep what they need */
	return 0;
unpin:
	unpin(st->ifname);
	xlb_decap_bpf__destroy(skel);
	return err;
}

int be_prog_detach(const struct be_state *st)
{
	int ifindex = if_nametoindex(st->ifname), fd, err = 0;
	char name[BPF_OBJ_NAME_LEN];
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (ifindex && be_xdp_prog(ifindex, name, sizeof(name)) == st->prog_id &&
	    !strcmp(name, PROG_NAME) && !bpf_xdp_query(ifindex, 0, &q)) {
		fd = bpf_prog_get_fd_by_id(st->prog_id);
		if (fd < 0)
			return be_fail(-errno, "cannot open program %u: %s", st->prog_id,
				       strerror(errno));
		/* Only if it is still ours: XDP_FLAGS_REPLACE with its fd. */
		opts.old_prog_fd = fd;
		err = bpf_xdp_detach(ifindex,
				     XDP_FLAGS_REPLACE | (q.attach_mode == XDP_ATTACHED_SKB
								  ? XDP_FLAGS_SKB_MODE
								  : XDP_FLAGS_DRV_MODE),
				     &opts);
		close(fd);
		if (err)
			return be_fail(err, "cannot detach from %s: %s", st->ifname,
				       strerror(-err));
	} else if (ifindex) {
		pr_warn("our program is no longer attached: nothing to detach", "interface=%s",
			st->ifname);
	}
	unpin(st->ifname);
	return 0;
}

/* A pinned map of the interface, checked against this ABI's key and value sizes. */
static int open_map(const struct be_state *st, const char *map, __u32 key, __u32 value)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd, err;

	err = pin_path(st->ifname, map, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return be_fail(-errno, "cannot open %s: %s (detach and attach %s again)", path,
			       strerror(errno), st->ifname);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size != key ||
	    info.value_size != value) {
		close(fd);
		return be_fail(-EINVAL, "%s is not a map of this xlb-backend (ABI %d)", path,
			       XLB_DECAP_ABI_VERSION);
	}
	return fd;
}

int be_vip_map_update(const struct be_state *st, const struct be_vip *v, bool add)
{
	struct xlb_decap_vip_key k = {.family = v->family};
	struct xlb_decap_vip val = {0};
	int fd, err;

	if (st->mode == BE_MODE_DSR_L2)
		return 0;
	fd = open_map(st, "xlb_decap_vips", sizeof(k), sizeof(val));
	if (fd < 0)
		return fd;
	memcpy(k.addr, v->addr.bytes, sizeof(k.addr));
	err = add ? bpf_map_update_elem(fd, &k, &val, BPF_ANY) : bpf_map_delete_elem(fd, &k);
	if (err && !(err == -ENOENT && !add))
		err = be_fail(-errno, "cannot %s the vip map: %s", add ? "update" : "delete from",
			      strerror(errno));
	else
		err = 0;
	close(fd);
	return err;
}

int be_counters(const struct be_state *st, __u64 sum[XLB_DC_MAX])
{
	int n = libbpf_num_possible_cpus(), fd;

	memset(sum, 0, sizeof(__u64) * XLB_DC_MAX);
	if (st->mode == BE_MODE_DSR_L2 || n <= 0)
		return 0;
	fd = open_map(st, "xlb_decap_stats", sizeof(__u32), sizeof(__u64));
	if (fd < 0)
		return fd;
	{
		__u64 v[n];

		for (__u32 k = 0; k < XLB_DC_MAX; k++) {
			if (bpf_map_lookup_elem(fd, &k, v))
				continue;
			for (int i = 0; i < n; i++)
				sum[k] += v[i];
		}
	}
	close(fd);
	return 0;
}
