/* main.c - xlbd: options, start-up (state, maps, attach), the event loop, shutdown. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "addr.h"
#include "ctl_proto.h"
#include "log.h"
#include "xlbd.h"

#define DEFAULT_STATE "/var/lib/xlb/state.json"
#define PIN_ROOT      "/sys/fs/bpf/xlb"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd --interface IFACE [OPTIONS]\n"
		"  -i, --interface IFACE   attach the XDP load balancer here (required)\n"
		"  -m, --mode MODE         native (default), generic, or auto (native, else "
		"generic)\n"
		"  -f, --state FILE        desired state (default " DEFAULT_STATE ")\n"
		"  -s, --socket PATH       control socket (default " XLB_CTL_SOCK_DEFAULT ")\n"
		"      --flows N           flow-table entries when maps are created (default %d)\n"
		"      --metrics ADDR:PORT serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                          (127.0.0.1:9100 or [::1]:9100; default: no server)\n"
		"  -l, --log-level LEVEL   debug, info (default), warn, error\n"
		"  -h, --help\n"
		"Maps are pinned under " PIN_ROOT "/IFACE/. On SIGTERM xlbd exits and leaves the\n"
		"program attached (traffic keeps flowing); `xlbctl prog detach` removes it.\n",
		XLB_DEFAULT_FLOWS);
}

static int parse_args(int argc, char **argv, struct xlbd *d)
{
	static const struct option opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"mode", required_argument, NULL, 'm'},
		{"state", required_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"flows", required_argument, NULL, 'F'},
		{"metrics", required_argument, NULL, 'M'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	enum xlb_log_level level;
	char *end;
	int c;

	d->mode = XLBD_MODE_NATIVE;
	d->state_path = DEFAULT_STATE;
	d->socket_path = XLB_CTL_SOCK_DEFAULT;
	d->flow_entries = XLB_DEFAULT_FLOWS;
	while ((c = getopt_long(argc, argv, "i:m:f:s:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (strlen(optarg) >= sizeof(d->ifname)) {
				fprintf(stderr, "xlbd: interface name too long: %s\n", optarg);
				return -EINVAL;
			}
			strcpy(d->ifname, optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "native"))
				d->mode = XLBD_MODE_NATIVE;
			else if (!strcmp(optarg, "generic"))
				d->mode = XLBD_MODE_GENERIC;
			else if (!strcmp(optarg, "auto"))
				d->mode = XLBD_MODE_AUTO;
			else {
				fprintf(stderr, "xlbd: bad --mode %s: native, generic or auto\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'f':
			d->state_path = optarg;
			break;
		case 's':
			d->socket_path = optarg;
			break;
		case 'F':
			errno = 0;
			d->flow_entries = strtoul(optarg, &end, 10);
			if (errno || *end || d->flow_entries < 1024 || d->flow_entries > 1 << 26) {
				fprintf(stderr, "xlbd: bad --flows %s: 1024..67108864\n", optarg);
				return -EINVAL;
			}
			break;
		case 'M': {
			struct sockaddr_storage ss;
			char merr[256];
			socklen_t len;

			if (xlbd_metrics_parse_addr(optarg, &ss, &len, merr, sizeof(merr))) {
				fprintf(stderr, "xlbd: %s\n", merr);
				return -EINVAL;
			}
			d->metrics_addr = optarg;
			break;
		}
		case 'l':
			if (xlb_log_parse_level(optarg, &level)) {
				fprintf(stderr,
					"xlbd: bad --log-level %s: debug, info, warn, error\n",
					optarg);
				return -EINVAL;
			}
			xlb_log_set_level(level);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xlbd: unexpected argument: %s\n", argv[optind]);
		return -EINVAL;
	}
	if (!d->ifname[0]) {
		fprintf(stderr, "xlbd: --interface is required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int interface_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int mkdir_parent(const char *path)
{
	char buf[4096];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -errno : 0;
}

/* The state file, or a new empty state with a fresh seed when there is none. */
static int load_state(struct xlbd *d)
{
	char err[512];
	int e = xlbd_config_load(d->state_path, &d->cfg, err, sizeof(err));

	if (e == -ENOENT) {
		memset(&d->cfg, 0, sizeof(d->cfg));
		if (getrandom(&d->cfg.hash_seed, sizeof(d->cfg.hash_seed), 0) < 0)
			d->cfg.hash_seed = (__u32)getpid() * 2654435761u;
		e = mkdir_parent(d->state_path);
		if (!e)
			e = xlbd_config_save(d->state_path, &d->cfg, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "cannot create the directory of %s: %s",
				 d->state_path, strerror(-e));
		if (!e)
			pr_info("new state file", "state=%s", d->state_path);
	}
	if (e) {
		fprintf(stderr, "xlbd: %s\n", err);
		pr_err("cannot load the state: refusing to start", "state=%s", d->state_path);
	}
	return e;
}

static void set_backend_mac(struct xlbd *d, __u32 id, const __u8 *mac, const char *vip,
			    const char *addr)
{
	struct xlbd_be_rt *rt = &d->be[id];
	char ms[18] = "none";

	if (mac && rt->mac_known && !memcmp(rt->mac, mac, 6))
		return;
	if (!mac && !rt->mac_known)
		return;
	if (mac)
		snprintf(ms, sizeof(ms), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
			 mac[3], mac[4], mac[5]);
	if (mac) {
		memcpy(rt->mac, mac, 6);
		rt->mac_known = true;
		pr_info("backend mac learned", "vip=%s backend=%s mac=%s", vip, addr, ms);
	} else {
		rt->mac_known = false;
		pr_warn("backend unreachable: neighbour resolution failed", "vip=%s backend=%s",
			vip, addr);
	}
}

/* Apply what MAC changes made different, logging (not failing) on error. */
static void reapply(struct xlbd *d)
{
	int err = xlbd_apply(d, NULL, false);

	if (err)
		pr_err("cannot update the maps", "err=\"%s\"", strerror(-err));
}

static void on_neigh(const struct xlb_addr *addr, __u8 family, const __u8 *mac, void *arg)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN];
	struct xlbd *d = arg;
	bool changed = false;

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];
		struct xlbd_backend *b = xlbd_vip_find_backend(v, addr, family);
		struct xlbd_be_rt before;

		if (!b)
			continue;
		before = d->be[b->id];
		xlb_format_vip(&v->key, vs, sizeof(vs));
		xlb_format_addr(addr, family, as, sizeof(as));
		set_backend_mac(d, b->id, mac, vs, as);
		changed |= memcmp(&before, &d->be[b->id], sizeof(before)) != 0;
	}
	if (changed)
		reapply(d);
}

/* Neighbour entries for backends whose MAC is unknown (one dump per family, not per backend). */
static void learn_from_dump(const struct xlb_addr *addr, __u8 family, const __u8 *mac, void *arg)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN];
	struct xlbd *d = arg;

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];
		struct xlbd_backend *b = xlbd_vip_find_backend(v, addr, family);

		if (!b || d->be[b->id].mac_known)
			continue;
		xlb_format_vip(&v->key, vs, sizeof(vs));
		xlb_format_addr(addr, family, as, sizeof(as));
		set_backend_mac(d, b->id, mac, vs, as);
	}
}

bool xlbd_learn_macs(struct xlbd *d)
{
	bool want[2] = {false, false};
	size_t unknown = 0, still = 0;

	for (size_t i = 0; i < d->cfg.nvips; i++)
		for (size_t j = 0; j < d->cfg.vips[i].nbe; j++)
			if (!d->be[d->cfg.vips[i].be[j].id].mac_known) {
				want[d->cfg.vips[i].key.family == XLB_AF_INET6] = true;
				unknown++;
			}
	if (!unknown)
		return false;
	for (int f = 0; f < 2; f++)
		if (want[f])
			xlbd_neigh_dump(d->neigh, f ? XLB_AF_INET6 : XLB_AF_INET, learn_from_dump,
					d);
	/* Those still unknown: make the kernel ask (ARP / neighbour solicitation). */
	for (size_t i = 0; i < d->cfg.nvips; i++) {
		for (size_t j = 0; j < d->cfg.vips[i].nbe; j++) {
			struct xlbd_backend *b = &d->cfg.vips[i].be[j];

			if (!d->be[b->id].mac_known) {
				xlbd_neigh_solicit(&b->addr, b->family);
				still++;
			}
		}
	}
	return still < unknown;
}

void xlbd_resolve_backends(struct xlbd *d)
{
	if (xlbd_learn_macs(d))
		reapply(d);
}

/* After a restart the maps still hold the MACs the last xlbd used: start from those, so that
 * no backend looks down (and no flow moves) while the neighbour table is asked again. */
static void seed_macs_from_maps(struct xlbd *d)
{
	static const __u8 zero[6];

	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];

		for (size_t j = 0; j < v->nbe; j++) {
			struct xlbd_backend *b = &v->be[j];
			struct xlb_backend cur;

			if (xlb_dp_get_backend(d->dp, b->id, &cur) || cur.vip_id != v->id ||
			    cur.family != b->family ||
			    memcmp(&cur.addr, &b->addr, sizeof(b->addr)) ||
			    !memcmp(cur.mac, zero, 6))
				continue;
			memcpy(d->be[b->id].mac, cur.mac, 6);
			d->be[b->id].mac_known = true;
		}
	}
}

static void on_neigh_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	xlbd_neigh_read(((struct xlbd *)arg)->neigh);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd *d = arg;
	static unsigned int ticks;

	(void)fd, (void)what;
	xlbd_resolve_backends(d);
	xlbd_outlier_scan(d);
	if (++ticks % 10 == 0) /* every 10 s */
		xlbd_recount_active(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct xlbd *d = arg;

	(void)what;
	pr_info("stopping: the program stays attached and the maps pinned", "signal=%d", (int)sig);
	event_base_loopexit(d->base, NULL);
}

static int setup_loop(struct xlbd *d)
{
	struct timeval second = {1, 0};

	d->base = event_base_new();
	if (!d->base)
		return -ENOMEM;
	d->neigh_ev = event_new(d->base, xlbd_neigh_fd(d->neigh), EV_READ | EV_PERSIST,
				on_neigh_readable, d);
	d->timer_ev = event_new(d->base, -1, EV_PERSIST, on_timer, d);
	d->sigterm_ev = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sigint_ev = evsignal_new(d->base, SIGINT, on_signal, d);
	if (!d->neigh_ev || !d->timer_ev || !d->sigterm_ev || !d->sigint_ev)
		return -ENOMEM;
	event_add(d->neigh_ev, NULL);
	event_add(d->timer_ev, &second);
	event_add(d->sigterm_ev, NULL);
	event_add(d->sigint_ev, NULL);
	return 0;
}

static void teardown_loop(struct xlbd *d)
{
	struct event *evs[] = {d->neigh_ev, d->timer_ev, d->sigterm_ev, d->sigint_ev};

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (d->base)
		event_base_free(d->base);
}

int main(int argc, char **argv)
{
	static struct xlbd d; /* large (per-backend runtime state): not on the stack */
	struct xlb_dp_opts opts = {0};
	int err;

	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &d))
		return 2;
	xlb_log_libbpf();
	d.ifindex = if_nametoindex(d.ifname);
	if (!d.ifindex) {
		fprintf(stderr, "xlbd: no interface %s: %s\n", d.ifname, strerror(errno));
		return 1;
	}
	if (load_state(&d))
		return 1;
	snprintf(d.pin_dir, sizeof(d.pin_dir), PIN_ROOT "/%s", d.ifname);
	opts.pin_dir = d.pin_dir;
	opts.hash_seed = d.cfg.hash_seed;
	opts.flow_entries = d.flow_entries;
	err = interface_mac(d.ifname, opts.lb_mac);
	if (err) {
		pr_err("cannot read the interface's MAC", "interface=%s err=\"%s\"", d.ifname,
		       strerror(-err));
		goto out;
	}
	err = xlb_dp_load(&opts, &d.dp);
	if (err) {
		pr_err("cannot load the XDP program", "interface=%s err=\"%s\"", d.ifname,
		       strerror(-err));
		goto out;
	}
	pr_info("program loaded", "interface=%s pin_dir=%s maps=%s ring_size=%u flows=%u", d.ifname,
		d.pin_dir, d.dp->reused ? "reused" : "new", d.dp->ring_size, d.dp->flow_entries);
	if (d.dp->reused)
		seed_macs_from_maps(&d);
	err = xlbd_neigh_open(&d.neigh, d.ifindex, on_neigh, &d);
	if (err) {
		pr_err("cannot open the neighbour monitor", "err=\"%s\"", strerror(-err));
		goto out;
	}
	err = setup_loop(&d);
	if (err)
		goto out;
	/* Backends in the state file served before this start: their circuits begin closed, so
	 * a restart moves no flow. */
	d.starting = true;
	xlbd_health_sync(&d, NULL);
	d.starting = false;
	xlbd_resolve_backends(&d);
	err = xlbd_apply(&d, NULL, true);
	if (err) {
		pr_err("cannot write the configuration to the maps", "err=\"%s\"", strerror(-err));
		goto out;
	}
	err = xlbd_attach(&d);
	if (!err)
		err = xlbd_events_open(&d);
	if (!err)
		err = xlbd_control_open(&d);
	if (!err && d.metrics_addr)
		err = xlbd_metrics_open(&d, d.metrics_addr);
	if (err)
		goto out;
	pr_info("ready", "interface=%s socket=%s state=%s vips=%zu", d.ifname, d.socket_path,
		d.state_path, d.cfg.nvips);
	event_base_dispatch(d.base);

	if (d.detach_and_exit) {
		err = xlbd_detach(&d);
		if (!err)
			err = xlb_dp_unpin(d.dp);
		if (!err)
			pr_info("maps unpinned", "pin_dir=%s", d.pin_dir);
	}
out:
	xlbd_metrics_close(&d); /* before the event base goes */
	xlbd_control_close(&d);
	xlbd_events_close(&d);
	xlbd_health_stop(&d);
	teardown_loop(&d);
	xlbd_neigh_close(d.neigh);
	xlb_dp_destroy(d.explain);
	xlb_dp_destroy(d.dp);
	xlbd_config_free(&d.cfg);
	return err ? 1 : 0;
}
