/* dataplane.c - load the XDP program and give typed access to its maps. */
#include <dirent.h>
#include <netinet/in.h>
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "files.h"
#include "log.h"
#include "xlb.skel.h"
#include "xlb_flowtab.h"
#include "xlb_hash.h"

#define NS_PER_SEC 1000000000ULL

static const char *const counter_names[] = {
#define XLB_COUNTER_NAME(name, label) [name] = label,
	XLB_COUNTERS(XLB_COUNTER_NAME)
#undef XLB_COUNTER_NAME
};

const char *xlb_counter_name(enum xlb_counter c)
{
	return (unsigned)c < XLB_C_MAX ? counter_names[c] : "unknown";
}

/* An empty table map: the inner-map template at load, and every published table. */
static int create_table_map(__u32 ring_size)
{
	/* Mmapable: a table is written with memcpy (a batch update of 66k entries took 20 ms). */
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32),
				XLB_TBL_SIZE(ring_size), 1, &o);

	return fd < 0 ? -errno : fd;
}

#define BACKENDS_SIZE ((size_t)XLB_MAX_BACKENDS * sizeof(struct xlb_backend))

/* Maps xlb_backends for xlb_dp_set_backend's word stores; without it (an mmap the kernel
 * refuses) entries are written by the syscall, and the reason is logged. */
static void map_backends(struct xlb_dp *dp)
{
	void *p = mmap(NULL, BACKENDS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(dp->skel->maps.xlb_backends), 0);

	if (p == MAP_FAILED) {
		pr_warn("cannot map the backend entries: writing them by syscall", "err=\"%s\"",
			strerror(errno));
		return;
	}
	dp->backends = p;
}

/* Flow table slots for a requested size: a power of two, at least one page of buckets. */
static __u32 flow_slots(__u32 want)
{
	__u32 n = 64 * XLB_FLOW_WAYS;

	while (n < want)
		n <<= 1;
	return n;
}

static int map_flows(struct xlb_dp *dp)
{
	size_t nb = (size_t)dp->flow_buckets * sizeof(*dp->flows);
	size_t nk = (size_t)dp->flow_entries * sizeof(*dp->flow_keys);
	void *b = mmap(NULL, nb, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(dp->skel->maps.xlb_flows), 0);
	void *k;

	if (b == MAP_FAILED)
		return -errno;
	k = mmap(NULL, nk, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(dp->skel->maps.xlb_flow_keys), 0);
	if (k == MAP_FAILED) {
		int err = -errno;

		munmap(b, nb);
		return err;
	}
	dp->flows = b;
	dp->flow_keys = k;
	return 0;
}

/* Removes every pinned map file in dir (ours only: a flat directory of xlb_* pins). */
static void remove_pins(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "xlb_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/*
 * Looks at maps pinned by an earlier instance: same ABI -> reuse them with their sizes;
 * another ABI -> remove them (logged) so that new ones are created.
 */
static int check_pins(const char *dir, struct xlb_dp_opts *o, int *reuse, __u64 *flow_seed)
{
	char path[512];
	struct xlb_meta meta;
	__u32 zero = 0;
	int fd;

	*reuse = 0;
	snprintf(path, sizeof(path), "%s/xlb_meta", dir);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		remove_pins(dir); /* half a set of pins is no use */
		return 0;
	}
	if (bpf_map_lookup_elem(fd, &zero, &meta) || meta.abi_version != XLB_ABI_VERSION) {
		pr_warn("pinned maps have another ABI: creating new ones",
			"pin_dir=%s abi=%u want=%u", dir, meta.abi_version, XLB_ABI_VERSION);
		close(fd);
		remove_pins(dir);
		return 0;
	}
	close(fd);
	if (meta.ring_size != o->ring_size || meta.flow_entries != o->flow_entries)
		pr_info("reusing pinned maps with their sizes",
			"pin_dir=%s ring_size=%u flow_entries=%u", dir, meta.ring_size,
			meta.flow_entries);
	o->ring_size = meta.ring_size;
	o->flow_entries = meta.flow_entries;
	*flow_seed = meta.flow_seed;
	*reuse = 1;
	return 0;
}

static int set_pin_paths(struct bpf_object *obj, const char *dir)
{
	char path[512];
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		if (strchr(bpf_map__name(map), '.')) /* .rodata and friends */
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		if (bpf_map__set_pin_path(map, path))
			return -errno;
	}
	return 0;
}

int xlb_dp_unpin(struct xlb_dp *dp)
{
	if (!dp->pin_dir[0])
		return 0;
	remove_pins(dp->pin_dir);
	if (rmdir(dp->pin_dir) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * Recomputes every xlb_vip_filter slot from the VIP addresses in xlb_vip_addrs. With reused pins
 * the two could disagree (a filter map created afresh beside pinned addresses); a slot too low
 * would let that VIP's packets pass unseen.
 */
static int rebuild_vip_filter(struct xlb_dp *dp)
{
	int addrs = bpf_map__fd(dp->skel->maps.xlb_vip_addrs);
	int filter = bpf_map__fd(dp->skel->maps.xlb_vip_filter);
	static __u32 want[XLB_VIP_FILTER_SLOTS];
	struct xlb_vip_addr_key key, next, *prev = NULL;

	memset(want, 0, sizeof(want));
	while (bpf_map_get_next_key(addrs, prev, &next) == 0) {
		key = next;
		want[xlb_vip_filter_slot(&key.addr)]++;
		prev = &key;
	}
	for (__u32 slot = 0; slot < XLB_VIP_FILTER_SLOTS; slot++) {
		__u32 have = 0;

		if (bpf_map_lookup_elem(filter, &slot, &have))
			return -errno;
		if (have != want[slot] && bpf_map_update_elem(filter, &slot, &want[slot], 0))
			return -errno;
	}
	return 0;
}

/* With reused maps: which VIP each backend entry names, for the VIP traffic sums. */
static int read_backend_vips(struct xlb_dp *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.xlb_backends);
	struct xlb_backend be;

	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(fd, &id, &be))
			return -errno;
		dp->be_vip[id] = be.vip_id < XLB_MAX_VIPS ? be.vip_id : 0;
	}
	return 0;
}

int xlb_dp_load(const struct xlb_dp_opts *opts, struct xlb_dp **out)
{
	struct xlb_dp_opts o = *opts;
	struct xlb_meta meta = {};
	struct xlb_dp *dp;
	__u32 zero = 0;
	int inner, err;

	if (!o.ring_size)
		o.ring_size = XLB_DEFAULT_RING_SIZE;
	if (!o.flow_entries)
		o.flow_entries = XLB_DEFAULT_FLOWS;
	if (o.flow_entries > XLB_MAX_FLOWS)
		return -EINVAL;
	o.flow_entries = flow_slots(o.flow_entries);
	if (!o.udp_timeout_ns)
		o.udp_timeout_ns = 30 * NS_PER_SEC;
	if (!xlb_is_prime(o.ring_size) || o.ring_size > XLB_MAX_RING_SIZE)
		return -EINVAL;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	if (o.pin_dir) {
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", o.pin_dir);
		err = xlb_mkdir_p(o.pin_dir, 0700);
		if (!err)
			err = check_pins(o.pin_dir, &o, &dp->reused, &dp->flow_seed);
		if (err) {
			pr_err("cannot use the pin directory", "pin_dir=%s err=\"%s\"", o.pin_dir,
			       strerror(-err));
			goto err_free;
		}
	}
	dp->skel = xlb_bpf__open();
	if (!dp->skel) {
		err = -errno;
		goto err_free;
	}
	dp->ring_size = o.ring_size;
	dp->flow_entries = o.flow_entries;
	dp->flow_buckets = o.flow_entries / XLB_FLOW_WAYS;
	/* New maps get a new table seed (a flood cannot aim at one bucket without it); reused
	 * ones keep theirs, or their entries would be lost. */
	if (!dp->reused &&
	    getrandom(&dp->flow_seed, sizeof(dp->flow_seed), 0) != sizeof(dp->flow_seed))
		dp->flow_seed = (__u64)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (__u64)getpid();
	if (o.pin_dir) {
		err = set_pin_paths(dp->skel->obj, o.pin_dir);
		/* Filled at every start, and a pinned devmap cannot be reused (bpf/lib/maps.h). */
		if (!err)
			err = bpf_map__set_pin_path(dp->skel->maps.xlb_tx_ports, NULL);
		if (err)
			goto err_destroy;
	}
	dp->skel->rodata->ring_size = o.ring_size;
	dp->skel->rodata->hash_seed = o.hash_seed;
	dp->skel->rodata->udp_timeout_ns = o.udp_timeout_ns;
	dp->skel->rodata->flow_mask = dp->flow_buckets - 1;
	dp->skel->rodata->flowtab_seed = dp->flow_seed;
	/* Refresh last-seen often enough that a live UDP flow never looks idle. */
	dp->skel->rodata->flow_touch_ns =
		o.udp_timeout_ns / 4 < NS_PER_SEC ? o.udp_timeout_ns / 4 : NS_PER_SEC;
	for (int i = 0; i < 6; i++) {
		dp->skel->rodata->lb_mac[i] = o.lb_mac[i];
		if (o.lb_mac[i])
			dp->skel->rodata->lb_mac_set = 1;
	}
	/* The inner-map template sized for this ring. libbpf 1.1 crashes on
	 * bpf_map__set_max_entries(bpf_map__inner_map()), so hand it a map of ours instead. */
	inner = create_table_map(o.ring_size);
	if (inner < 0) {
		err = inner;
		goto err_destroy;
	}
	err = bpf_map__set_inner_map_fd(dp->skel->maps.xlb_tables, inner);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.xlb_flows, dp->flow_buckets);
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.xlb_flow_keys, o.flow_entries);
	if (!err)
		err = xlb_bpf__load(dp->skel);
	close(inner);
	if (err)
		goto err_destroy;

	meta.abi_version = XLB_ABI_VERSION;
	meta.ring_size = o.ring_size;
	meta.flow_entries = o.flow_entries;
	meta.hash_seed = o.hash_seed;
	meta.flow_seed = dp->flow_seed;
	err = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.xlb_meta), &zero, &meta, 0);
	if (err) {
		err = -errno;
		goto err_destroy;
	}
	if (dp->reused) {
		err = read_backend_vips(dp);
		if (!err)
			err = rebuild_vip_filter(dp);
		if (err) {
			pr_err("cannot rebuild the VIP address filter", "err=\"%s\"",
			       strerror(-err));
			goto err_destroy;
		}
	}
	dp->prog_fd = bpf_program__fd(dp->skel->progs.xlb_xdp);
	map_backends(dp);
	err = map_flows(dp);
	if (err) {
		pr_err("cannot map the flow table", "err=\"%s\"", strerror(-err));
		goto err_unmap;
	}
	*out = dp;
	return 0;

err_unmap:
	if (dp->backends)
		munmap((void *)dp->backends, BACKENDS_SIZE);
err_destroy:
	xlb_bpf__destroy(dp->skel);
err_free:
	free(dp);
	return err < 0 ? err : -err;
}

int xlb_dp_set_hash_seed(struct xlb_dp *dp, __u32 seed)
{
	int fd = bpf_map__fd(dp->skel->maps.xlb_meta);
	struct xlb_meta meta;
	__u32 zero = 0;

	/* Read-modify-write of the one entry: only xlbd writes it, from one thread. */
	if (bpf_map_lookup_elem(fd, &zero, &meta))
		return -errno;
	meta.hash_seed = seed;
	return bpf_map_update_elem(fd, &zero, &meta, 0) ? -errno : 0;
}

int xlb_dp_hash_seed(struct xlb_dp *dp, __u32 *seed)
{
	struct xlb_meta meta;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.xlb_meta), &zero, &meta))
		return -errno;
	*seed = meta.hash_seed;
	return 0;
}

void xlb_dp_destroy(struct xlb_dp *dp)
{
	if (!dp)
		return;
	if (dp->backends)
		munmap((void *)dp->backends, BACKENDS_SIZE);
	if (dp->flows)
		munmap(dp->flows, (size_t)dp->flow_buckets * sizeof(*dp->flows));
	if (dp->flow_keys)
		munmap(dp->flow_keys, (size_t)dp->flow_entries * sizeof(*dp->flow_keys));
	xlb_bpf__destroy(dp->skel);
	free(dp);
}

static int map_fd(const struct bpf_map *map)
{
	return bpf_map__fd(map);
}

static int update(int fd, const void *key, const void *value, __u64 flags)
{
	return bpf_map_update_elem(fd, key, value, flags) ? -errno : 0;
}

static void vip_addr_key(const struct xlb_vip_key *key, struct xlb_vip_addr_key *ak)
{
	memset(ak, 0, sizeof(*ak));
	ak->addr = key->addr;
	ak->family = key->family;
}

/* Adds delta to the xlb_vip_filter slot of an address: +1 before its first VIP goes in, -1 after
 * its last one went (a slot shared by several addresses counts them all). */
static int vip_filter_add(struct xlb_dp *dp, const struct xlb_addr *addr, int delta)
{
	int fd = map_fd(dp->skel->maps.xlb_vip_filter);
	__u32 slot = xlb_vip_filter_slot(addr), n = 0;

	if (bpf_map_lookup_elem(fd, &slot, &n))
		return -errno;
	n += delta;
	return update(fd, &slot, &n, BPF_ANY);
}

int xlb_dp_set_vip(struct xlb_dp *dp, const struct xlb_vip_key *key, const struct xlb_vip *vip)
{
	int vips = map_fd(dp->skel->maps.xlb_vips);
	int addrs = map_fd(dp->skel->maps.xlb_vip_addrs);
	struct xlb_vip_addr_key ak;
	struct xlb_vip old;
	__u32 refs = 0;
	int err;

	if (vip->id >= XLB_MAX_VIPS)
		return -EINVAL;
	if (bpf_map_lookup_elem(vips, key, &old) == 0) {
		if (old.id != vip->id) /* the id's earlier VIP's totals are not this one's */
			memset(&dp->vip_base[vip->id], 0, sizeof(dp->vip_base[0]));
		return update(vips, key, vip,
			      BPF_EXIST); /* existing VIP: address already counted */
	}
	memset(&dp->vip_base[vip->id], 0, sizeof(dp->vip_base[0]));

	vip_addr_key(key, &ak);
	bpf_map_lookup_elem(addrs, &ak, &refs); /* absent: stays 0 */
	if (refs == 0) {
		err = vip_filter_add(dp, &key->addr, 1);
		if (err)
			return err;
	}
	refs++;
	err = update(addrs, &ak, &refs, BPF_ANY);
	if (!err)
		err = update(vips, key, vip, BPF_NOEXIST);
	if (err) {
		/* Undo the address count so a failed add leaves nothing behind. */
		if (--refs) {
			update(addrs, &ak, &refs, BPF_ANY);
		} else {
			bpf_map_delete_elem(addrs, &ak);
			vip_filter_add(dp, &key->addr, -1);
		}
	}
	return err;
}

int xlb_dp_del_vip(struct xlb_dp *dp, const struct xlb_vip_key *key)
{
	int addrs = map_fd(dp->skel->maps.xlb_vip_addrs);
	struct xlb_vip_addr_key ak;
	__u32 refs = 0;

	if (bpf_map_delete_elem(map_fd(dp->skel->maps.xlb_vips), key))
		return -errno;
	vip_addr_key(key, &ak);
	if (bpf_map_lookup_elem(addrs, &ak, &refs) == 0 && refs > 1) {
		refs--;
		return update(addrs, &ak, &refs, BPF_EXIST);
	}
	if (bpf_map_delete_elem(addrs, &ak) == 0)
		return vip_filter_add(dp, &key->addr, -1);
	return 0;
}

/* The words of an entry as the data plane reads them (bpf/xlb.bpf.c, backend_copy). */
union backend_words {
	struct xlb_backend be;
	__u64 w[4];
};

#define BE_WORDS       4
#define BE_MAC_STATE_W (offsetof(struct xlb_backend, mac) / 8)
_Static_assert(sizeof(struct xlb_backend) == BE_WORDS * 8, "backend entry: 4 words");
_Static_assert(offsetof(struct xlb_backend, mac) / 8 == offsetof(struct xlb_backend, state) / 8 &&
		       offsetof(struct xlb_backend, mac) % 8 == 0,
	       "MAC and state: one word");

static bool usable(__u8 state)
{
	return state == XLB_BE_UP || state == XLB_BE_DRAINING;
}

/* One aligned 8-byte store: a concurrent 8-byte load sees the old word or the new one. */
static void store_word(volatile __u64 *entry, int i, __u64 v)
{
	__atomic_store_n(&entry[i], v, __ATOMIC_RELEASE);
}

/*
 * The data plane trusts an entry's MAC when its state is usable and its owner is the packet's
 * VIP. So: a MAC that changes under the same owner and address is one store of the MAC-and-state
 * word (a packet sees the old MAC or the new one, both the backend's). An entry that changes
 * owner or address (an id removed, or given to another backend) goes down first, keeping its
 * MAC, then gets its other words, then its MAC and state last. x86-64 keeps stores in order
 * and loads in order, so a packet that sees the new state sees the words stored before it.
 */
static void write_backend_words(volatile __u64 *entry, const struct xlb_backend *be)
{
	union backend_words cur, next = {.be = *be};

	for (int i = 0; i < BE_WORDS; i++)
		cur.w[i] = entry[i];
	if (cur.be.vip_id != next.be.vip_id || cur.be.family != next.be.family ||
	    memcmp(&cur.be.addr, &next.be.addr, sizeof(cur.be.addr))) {
		if (usable(cur.be.state)) {
			cur.be.state = XLB_BE_DOWN;
			store_word(entry, BE_MAC_STATE_W, cur.w[BE_MAC_STATE_W]);
		}
	}
	for (int i = 0; i < BE_WORDS; i++)
		if (i != BE_MAC_STATE_W && cur.w[i] != next.w[i])
			store_word(entry, i, next.w[i]);
	store_word(entry, BE_MAC_STATE_W, next.w[BE_MAC_STATE_W]);
}

static int ncpus(void);
static int read_traffic(int fd, __u32 id, struct xlb_traffic *out);

static void traffic_add(struct xlb_traffic *to, const struct xlb_traffic *t)
{
	to->packets += t->packets;
	to->bytes += t->bytes;
	to->new_flows += t->new_flows;
	to->syn_retries += t->syn_retries;
}

static void traffic_sub(struct xlb_traffic *to, const struct xlb_traffic *t)
{
	to->packets -= t->packets;
	to->bytes -= t->bytes;
	to->new_flows -= t->new_flows;
	to->syn_retries -= t->syn_retries;
}

/*
 * Backend id leaves VIP from (0: none) for another (or none). Its counters are not reset: they
 * are the backend's own, read by the metrics and by outlier detection, which expect them never
 * to go down. What it brought from moves to from's base, and the new VIP counts it from here
 * (be_start). Done before the entry names the new VIP; a packet of from that raced the entry's
 * change may be counted after the move and then belongs to neither VIP's sum.
 */
static int backend_moves(struct xlb_dp *dp, __u32 id, __u32 from)
{
	struct xlb_traffic t;
	int err = read_traffic(map_fd(dp->skel->maps.xlb_be_stats), id, &t);

	if (err)
		return err;
	if (from) {
		struct xlb_traffic in = t;

		traffic_sub(&in, &dp->be_start[id]);
		traffic_add(&dp->vip_base[from], &in);
	}
	dp->be_start[id] = t;
	return 0;
}

int xlb_dp_set_backend(struct xlb_dp *dp, __u32 id, const struct xlb_backend *be)
{
	__u32 to = be->vip_id < XLB_MAX_VIPS ? be->vip_id : 0;
	int err;

	if (id == 0 || id >= XLB_MAX_BACKENDS)
		return -EINVAL;
	if (dp->be_vip[id] != to) {
		err = backend_moves(dp, id, dp->be_vip[id]);
		if (err)
			return err;
		dp->be_vip[id] = to;
	}
	if (dp->backends) {
		write_backend_words(dp->backends + (size_t)id * BE_WORDS, be);
		return 0;
	}
	return update(map_fd(dp->skel->maps.xlb_backends), &id, be, BPF_ANY);
}

int xlb_dp_get_backend(struct xlb_dp *dp, __u32 id, struct xlb_backend *be)
{
	if (id >= XLB_MAX_BACKENDS)
		return -EINVAL;
	return bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_backends), &id, be) ? -errno : 0;
}

int xlb_dp_set_backend_state(struct xlb_dp *dp, __u32 id, __u8 state)
{
	struct xlb_backend be;
	int err = xlb_dp_get_backend(dp, id, &be);

	if (err)
		return err;
	be.state = state;
	return xlb_dp_set_backend(dp, id, &be);
}

int xlb_dp_table_new(struct xlb_dp *dp, struct xlb_table **table)
{
	int fd = create_table_map(dp->ring_size);
	void *t;

	if (fd < 0)
		return fd;
	t = mmap(NULL, XLB_TBL_SIZE(dp->ring_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	*table = t;
	return fd;
}

int xlb_dp_table_swap(struct xlb_dp *dp, __u32 vip_id, int fd, struct xlb_table *table)
{
	int err = 0;

	munmap(table, XLB_TBL_SIZE(dp->ring_size));
	/* The kernel waits for running programs (synchronize_rcu) before this returns, so when
	 * it does, no packet uses the old table any more. */
	if (vip_id >= XLB_MAX_VIPS)
		err = -EINVAL;
	else
		err = update(map_fd(dp->skel->maps.xlb_tables), &vip_id, &fd, BPF_ANY);
	close(fd);
	return err;
}

int xlb_dp_publish_table(struct xlb_dp *dp, __u32 vip_id, const __u32 *members, __u32 nmemb,
			 const __u32 *ring, __u32 len)
{
	struct xlb_table *t;
	int fd;

	if (vip_id >= XLB_MAX_VIPS || nmemb > XLB_MAX_VIP_BACKENDS || len > dp->ring_size)
		return -EINVAL;
	/* Build the whole new table in a fresh map, then publish it with one outer update. */
	fd = xlb_dp_table_new(dp, &t);
	if (fd < 0)
		return fd;
	t->len = len;
	t->nmemb = nmemb;
	if (nmemb)
		memcpy(t->memb, members, nmemb * sizeof(*members));
	if (len)
		memcpy(t->ring, ring, len * sizeof(*ring));
	return xlb_dp_table_swap(dp, vip_id, fd, t);
}

int xlb_dp_clear_table(struct xlb_dp *dp, __u32 vip_id)
{
	if (bpf_map_delete_elem(map_fd(dp->skel->maps.xlb_tables), &vip_id) && errno != ENOENT)
		return -errno;
	return 0;
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

int xlb_dp_read_counters(struct xlb_dp *dp, __u64 out[XLB_C_MAX])
{
	int fd = map_fd(dp->skel->maps.xlb_stats), n = ncpus();
	__u64 *v = calloc(n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (__u32 c = 0; c < XLB_C_MAX; c++) {
		out[c] = 0;
		if (bpf_map_lookup_elem(fd, &c, v)) {
			free(v);
			return -errno;
		}
		for (int cpu = 0; cpu < n; cpu++)
			out[c] += v[cpu];
	}
	free(v);
	return 0;
}

static int read_traffic(int fd, __u32 id, struct xlb_traffic *out)
{
	int n = ncpus();
	struct xlb_traffic *v = calloc(n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &id, v)) {
		free(v);
		return -errno;
	}
	for (int cpu = 0; cpu < n; cpu++)
		traffic_add(out, &v[cpu]);
	free(v);
	return 0;
}

int xlb_dp_read_vip_traffic(struct xlb_dp *dp, __u32 vip_id, struct xlb_traffic *out)
{
	int fd = map_fd(dp->skel->maps.xlb_be_stats);
	struct xlb_traffic t;
	int err;

	if (vip_id == 0 || vip_id >= XLB_MAX_VIPS)
		return -EINVAL;
	*out = dp->vip_base[vip_id];
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++) {
		if (dp->be_vip[id] != vip_id)
			continue;
		err = read_traffic(fd, id, &t);
		if (err)
			return err;
		traffic_sub(&t, &dp->be_start[id]); /* what it carried before it joined */
		traffic_add(out, &t);
	}
	return 0;
}

int xlb_dp_read_backend_traffic(struct xlb_dp *dp, __u32 id, struct xlb_traffic *out)
{
	return read_traffic(map_fd(dp->skel->maps.xlb_be_stats), id, out);
}

int xlb_dp_read_backend_active(struct xlb_dp *dp, __u32 id, __s64 *out)
{
	return bpf_map_lookup_elem(map_fd(dp->skel->maps.xlb_be_active), &id, out) ? -errno : 0;
}

int xlb_dp_set_backend_active(struct xlb_dp *dp, __u32 id, __s64 n)
{
	return update(map_fd(dp->skel->maps.xlb_be_active), &id, &n, BPF_ANY);
}

void xlb_dp_flow_place(const struct xlb_dp *dp, const struct xlb_flow_key *k, __u32 *bucket,
		       __u32 *sig)
{
	__u64 h = xlb_flowtab_hash(k, dp->flow_seed);

	*bucket = (__u32)h & (dp->flow_buckets - 1);
	*sig = h >> 32;
}

static void flow_view(const struct xlb_flow_bucket *b, __u32 way, __u64 e, struct xlb_flow *f)
{
	f->backend_id = xlb_fent_be(e);
	f->vip_id = xlb_fent_vip(e);
	f->flags = xlb_fent_flags(e) & ~XLB_FLOW_F_ALT; /* where it is stored is the table's */
	f->last_seen_ns = (__u64)__atomic_load_n(&b->seen[way], __ATOMIC_RELAXED)
			  << XLB_FLOW_TICK_SHIFT;
}

static __u64 flow_word(const struct xlb_flow_bucket *b, int way)
{
	return __atomic_load_n(&b->ent[way], __ATOMIC_ACQUIRE);
}

/* The way of bucket b whose entry is stored as who (xlb_fent_who), or -1. */
static int flow_scan(const struct xlb_flow_bucket *b, __u64 who, __u64 *ent)
{
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		__u64 e = flow_word(b, w);

		if (e && (e & XLB_FENT_WHO) == who) {
			*ent = e;
			return w;
		}
	}
	return -1;
}

/* k's home bucket and signature, and where its entry is: *bp and the way, or -1 (*bp: home). */
static int flow_slot(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow_bucket **bp,
		     __u64 *ent, __u32 *sig)
{
	struct xlb_flow_bucket *alt;
	__u32 home;
	int w;

	xlb_dp_flow_place(dp, k, &home, sig);
	*bp = &dp->flows[home];
	w = flow_scan(*bp, xlb_fent_who(*sig, 0), ent);
	if (w >= 0 || !__atomic_load_n(&(*bp)->ovf, __ATOMIC_ACQUIRE))
		return w;
	alt = &dp->flows[xlb_flow_alt(home, *sig, dp->flow_buckets - 1)];
	w = flow_scan(alt, xlb_fent_who(*sig, 1), ent);
	if (w >= 0)
		*bp = alt;
	return w;
}

/* The home bucket of entry e found in bucket bi. */
static struct xlb_flow_bucket *flow_home(struct xlb_dp *dp, __u32 bi, __u64 e)
{
	if (e & XLB_FLOW_F_ALT)
		bi = xlb_flow_alt(bi, xlb_fent_sig(e), dp->flow_buckets - 1);
	return &dp->flows[bi];
}

/* Entry e of bucket b, way w, swapped to 0 if it is still e; its home's ovf follows. */
static int flow_unlink(struct xlb_dp *dp, struct xlb_flow_bucket *b, int w, __u64 e)
{
	if (!__atomic_compare_exchange_n(&b->ent[w], &e, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return -EAGAIN; /* the data plane changed the slot meanwhile */
	if (e & XLB_FLOW_F_ALT)
		__atomic_fetch_sub(&flow_home(dp, (__u32)(b - dp->flows), e)->ovf, 1,
				   __ATOMIC_SEQ_CST);
	return 0;
}

int xlb_dp_flow_get(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow *out)
{
	struct xlb_flow_bucket *b;
	__u64 e;
	__u32 sig;
	int w;

	if (!dp->flows)
		return -ENOTSUP;
	w = flow_slot(dp, k, &b, &e, &sig);
	if (w < 0)
		return -ENOENT;
	flow_view(b, w, e, out);
	return 0;
}

/* A free way of bucket b, or -1. */
static int flow_free_way(const struct xlb_flow_bucket *b)
{
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		if (!flow_word(b, w))
			return w;
	return -1;
}

int xlb_dp_flow_put(struct xlb_dp *dp, const struct xlb_flow_key *k, const struct xlb_flow *f)
{
	struct xlb_flow_bucket *b, *home;
	__u64 e = 0, nw;
	__u32 sig, flags = f->flags & ~XLB_FLOW_F_ALT;
	int w, alt = 0, counted = 0;

	if (!dp->flows)
		return -ENOTSUP;
	if (!f->backend_id || f->backend_id >= XLB_MAX_BACKENDS || f->vip_id >= XLB_MAX_VIPS)
		return -EINVAL;
	if (k->proto == IPPROTO_UDP)
		flags |= XLB_FLOW_F_UDP;
	w = flow_slot(dp, k, &b, &e, &sig);
	home = b; /* what flow_slot gives when the flow has no entry */
	if (w >= 0) {
		alt = !!(e & XLB_FLOW_F_ALT); /* it stays where it is, counted as it is */
	} else if ((w = flow_free_way(home)) < 0) {
		/* The home bucket is full: a free way of the second one. */
		b = &dp->flows[xlb_flow_alt((__u32)(home - dp->flows), sig, dp->flow_buckets - 1)];
		w = flow_free_way(b);
		if (w < 0)
			return -ENOSPC;
		alt = 1;
		/* Counted before the entry is visible, as the data plane does. */
		__atomic_fetch_add(&home->ovf, 1, __ATOMIC_SEQ_CST);
		counted = 1;
	}
	nw = xlb_fent(sig, f->backend_id, f->vip_id, flags | (alt ? XLB_FLOW_F_ALT : 0));
	__atomic_store_n(&b->seen[w], xlb_flow_tick(f->last_seen_ns), __ATOMIC_RELAXED);
	dp->flow_keys[(size_t)(b - dp->flows) * XLB_FLOW_WAYS + w] = *k;
	if (!__atomic_compare_exchange_n(&b->ent[w], &e, nw, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		/* Only this put's own count goes back: e is now the word that won (another
		 * writer's entry, or 0 when a delete took the entry found, with its count). */
		if (counted)
			__atomic_fetch_sub(&home->ovf, 1, __ATOMIC_SEQ_CST);
		return -EAGAIN; /* the data plane changed the slot meanwhile */
	}
	return 0;
}

int xlb_dp_flow_del(struct xlb_dp *dp, const struct xlb_flow_key *k)
{
	struct xlb_flow_bucket *b;
	__u64 e;
	__u32 sig;
	int w;

	if (!dp->flows)
		return -ENOTSUP;
	w = flow_slot(dp, k, &b, &e, &sig);
	if (w < 0)
		return -ENOENT;
	return flow_unlink(dp, b, w, e);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * The key of entry *e (bucket bi, way w), if it is that entry's: the data plane writes an
 * entry's key just after the entry, so a walk may find the entry with the key of the one it
 * replaced, or half written. The key is the entry's if its hash names the entry's bucket and
 * signature; *e is re-read around the copy so that both belong to one entry.
 */
static int flow_key_of(struct xlb_dp *dp, __u32 bi, int w, __u64 *e, struct xlb_flow_key *k)
{
	const struct xlb_flow_bucket *b = &dp->flows[bi];

	for (int i = 0; i < 1000; i++) {
		__u32 home, sig;
		__u64 again;

		memcpy(k, &dp->flow_keys[(size_t)bi * XLB_FLOW_WAYS + w], sizeof(*k));
		again = flow_word(b, w);
		if (again != *e) {
			*e = again;
			if (!again)
				return -ENOENT;
			continue;
		}
		xlb_dp_flow_place(dp, k, &home, &sig);
		if (sig == xlb_fent_sig(*e) &&
		    (*e & XLB_FLOW_F_ALT ? xlb_flow_alt(home, sig, dp->flow_buckets - 1) : home) ==
			    bi)
			return 0;
		cpu_relax();
	}
	return -EAGAIN;
}

/* Walks the table; doomed entries (delete: non-NULL) are swapped to 0 if still as read. */
static int walk_flows(struct xlb_dp *dp,
		      int (*fn)(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg),
		      void *arg, size_t *deleted)
{
	if (!dp->flows)
		return -ENOTSUP;
	for (__u32 bi = 0; bi < dp->flow_buckets; bi++) {
		struct xlb_flow_bucket *b = &dp->flows[bi];

		for (int w = 0; w < XLB_FLOW_WAYS; w++) {
			__u64 e = flow_word(b, w);
			struct xlb_flow_key k;
			struct xlb_flow f;
			int r, known;

			if (!e)
				continue;
			known = flow_key_of(dp, bi, w, &e, &k);
			if (known == -ENOENT)
				continue;
			flow_view(b, w, e, &f);
			r = fn(known ? NULL : &k, &f, arg);
			if (!deleted) {
				if (r)
					return 0;
			} else if (r && !flow_unlink(dp, b, w, e)) {
				(*deleted)++;
			}
		}
	}
	return 0;
}

int xlb_dp_for_each_flow(struct xlb_dp *dp,
			 int (*fn)(const struct xlb_flow_key *k, const struct xlb_flow *f,
				   void *arg),
			 void *arg)
{
	return walk_flows(dp, fn, arg, NULL);
}

int xlb_dp_delete_flows(struct xlb_dp *dp,
			int (*doomed)(const struct xlb_flow_key *k, const struct xlb_flow *f,
				      void *arg),
			void *arg, size_t *deleted)
{
	*deleted = 0;
	return walk_flows(dp, doomed, arg, deleted);
}

int xlb_dp_load_explain(const struct xlb_dp *live, struct xlb_dp **out)
{
	struct xlb_dp *ex = calloc(1, sizeof(*ex));
	struct bpf_map *map;
	int err;

	if (!ex)
		return -ENOMEM;
	ex->skel = xlb_bpf__open();
	if (!ex->skel) {
		err = -errno;
		free(ex);
		return err;
	}
	/* The live program's knobs: picks must come out the same. */
	*ex->skel->rodata = *live->skel->rodata;
	ex->skel->rodata->explain_mode = 1;
	ex->ring_size = live->ring_size;
	ex->flow_entries = live->flow_entries;
	bpf_object__for_each_map(map, ex->skel->obj) {
		const char *name = bpf_map__name(map);
		struct bpf_map *lm;

		if (strchr(name, '.') || !strcmp(name, "xlb_explain"))
			continue;
		lm = bpf_object__find_map_by_name(live->skel->obj, name);
		err = lm ? bpf_map__reuse_fd(map, bpf_map__fd(lm)) : -ENOENT;
		if (err)
			goto fail;
	}
	err = xlb_bpf__load(ex->skel);
	if (err)
		goto fail;
	ex->prog_fd = bpf_program__fd(ex->skel->progs.xlb_xdp);
	*out = ex;
	return 0;
fail:
	xlb_bpf__destroy(ex->skel);
	free(ex);
	return err < 0 ? err : -err;
}

int xlb_dp_explain(struct xlb_dp *ex, const void *frame, __u32 len, void *out, __u32 *out_len,
		   __u32 *action, struct xlb_explain *trace)
{
	int fd = map_fd(ex->skel->maps.xlb_explain);
	struct xlb_explain zero = {0};
	__u32 key = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = out,
		    .data_size_out = *out_len, .repeat = 1);
	int err = update(fd, &key, &zero, BPF_ANY);

	if (err)
		return err;
	if (bpf_prog_test_run_opts(ex->prog_fd, &o))
		return -errno;
	*out_len = o.data_size_out;
	*action = o.retval;
	return bpf_map_lookup_elem(fd, &key, trace) ? -errno : 0;
}

int xlb_dp_set_vip_fwd(struct xlb_dp *dp, __u32 vip_id, __u32 fwd)
{
	if (vip_id >= XLB_MAX_VIPS || fwd >= XLB_FWD_MAX)
		return -EINVAL;
	return update(map_fd(dp->skel->maps.xlb_vip_fwd), &vip_id, &fwd, BPF_ANY);
}

int xlb_dp_set_encap_src(struct xlb_dp *dp, const struct xlb_encap_src *src)
{
	__u32 zero = 0;

	return update(map_fd(dp->skel->maps.xlb_encap_src), &zero, src, BPF_ANY);
}

int xlb_dp_tx_port_add(struct xlb_dp *dp, __u32 ifindex)
{
	return update(map_fd(dp->skel->maps.xlb_tx_ports), &ifindex, &ifindex, BPF_ANY);
}

int xlb_dp_tx_port_del(struct xlb_dp *dp, __u32 ifindex)
{
	return bpf_map_delete_elem(map_fd(dp->skel->maps.xlb_tx_ports), &ifindex) ? -errno : 0;
}

int xlb_dp_tx_ports(struct xlb_dp *dp, __u32 *out, int max)
{
	int fd = map_fd(dp->skel->maps.xlb_tx_ports), n = 0;
	__u32 key, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (n < max)
			out[n] = next;
		n++;
		key = next;
		prev = &key;
	}
	return errno == ENOENT ? n : -errno;
}

int xlb_dp_set_tx_ports(struct xlb_dp *dp)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int err = 0, added = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		/* What the kernel refuses (the map full) is skipped: the data plane passes what
		 * goes there to the kernel (pass_no_tx_port). It takes interfaces that cannot
		 * send redirected frames (docs/datapath.md, "ipip"). */
		if (!xlb_dp_tx_port_add(dp, i->if_index))
			added++;
	}
	if_freenameindex(ifs);
	if (!added)
		err = -ENODEV;
	return err;
}
