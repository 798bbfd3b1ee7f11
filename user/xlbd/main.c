/* main.c - xlbd: options, start-up (state, maps, attach), the event loop, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "addr.h"
#include "ctl_proto.h"
#include "files.h"
#include "log.h"
#include "xlbd.h"

#define DEFAULT_STATE "/var/lib/xlb/state.json"
#define PIN_ROOT      "/sys/fs/bpf/xlb"
#define LOCK_DIR      "/run/xlb"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd --interface IFACE [OPTIONS]\n"
		"  -i, --interface IFACE   attach the XDP load balancer here (required)\n"
		"  -m, --mode MODE         native (default), generic, or auto (native, else "
		"generic)\n"
		"  -f, --state FILE        desired state (default " DEFAULT_STATE ")\n"
		"  -s, --socket PATH       control socket (default " XLB_CTL_SOCK_DEFAULT ")\n"
		"      --flows N           flow-table slots when maps are created (default %d)\n"
		"      --hash-seed N       the cluster's flow hash seed, 0..4294967295 (saved in "
		"the\n"
		"                          state; default: the state's, else a random one)\n"
		"      --metrics ADDR:PORT serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                          (e.g. 127.0.0.1:9089; default: no server)\n"
		"      --route-table N     publish announceable VIP addresses as routes in table\n"
		"                          N for a routing daemon (default %d; 0: none)\n"
		"      --tunnel-source ADDR the outer source of ipip VIPs' packets, once per\n"
		"                          family (default: the source the route to the backend\n"
		"                          gives)\n"
		"  -l, --log-level LEVEL   debug, info (default), warn, error\n"
		"  -h, --help\n"
		"One xlbd per interface, socket and state file: it locks " LOCK_DIR
		"/IFACE.lock, SOCKET.lock and STATE.lock.\n"
		"Maps are pinned under " PIN_ROOT "/IFACE/. On SIGTERM xlbd exits and leaves the\n"
		"program attached (traffic keeps flowing) and its routes in place; `xlbctl prog\n"
		"detach` removes both.\n",
		XLB_DEFAULT_FLOWS, XLBD_ROUTE_TABLE);
}

static int parse_args(int argc, char **argv, struct xlbd *d)
{
	static const struct option opts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"mode", required_argument, NULL, 'm'},
		{"state", required_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"flows", required_argument, NULL, 'F'},
		{"hash-seed", required_argument, NULL, 'S'},
		{"metrics", required_argument, NULL, 'M'},
		{"route-table", required_argument, NULL, 'R'},
		{"tunnel-source", required_argument, NULL, 'T'},
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
	d->announce.table = XLBD_ROUTE_TABLE;
	d->announce.nl = -1;
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
		case 'F': {
			unsigned long long n;

			/* Range-checked before it is narrowed to __u32: 4294968320 is not 1024.
			 * strtoull would take a sign or leading spaces ("-1" is huge): digits only. */
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || errno || *end || n < 1024 ||
			    n > 1 << 26) {
				fprintf(stderr,
					"xlbd: bad --flows %s: a decimal number in "
					"1024..67108864\n",
					optarg);
				return -EINVAL;
			}
			d->flow_entries = n;
			break;
		}
		case 'S': {
			unsigned long long n;

			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || errno || *end ||
			    n > 0xffffffffULL) {
				fprintf(stderr,
					"xlbd: bad --hash-seed %s: a decimal number in "
					"0..4294967295\n",
					optarg);
				return -EINVAL;
			}
			d->hash_seed = n;
			d->hash_seed_given = true;
			break;
		}
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
		case 'R': {
			unsigned long long n;

			/* Digits only (strtoull takes signs and spaces); 253-255 are the kernel's
			 * default, main and local tables: routes there would be used to forward. */
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || errno || *end ||
			    n > 0xffffffffULL || (n >= 253 && n <= 255)) {
				fprintf(stderr,
					"xlbd: bad --route-table %s: a table number, not 253-255 "
					"(default, main, local); 0: no routes\n",
					optarg);
				return -EINVAL;
			}
			d->announce.table = n;
			break;
		}
		case 'T': {
			char terr[128];
			struct xlb_addr a;
			__u8 fam;

			if (xlb_parse_addr(optarg, &a, &fam, terr, sizeof(terr))) {
				fprintf(stderr, "xlbd: bad --tunnel-source: %s\n", terr);
				return -EINVAL;
			}
			if (fam == XLB_AF_INET
				    ? d->tunnel_src.v4.v4 != 0
				    : (d->tunnel_src.v6.v6[0] | d->tunnel_src.v6.v6[1] |
				       d->tunnel_src.v6.v6[2] | d->tunnel_src.v6.v6[3]) != 0) {
				fprintf(stderr, "xlbd: --tunnel-source given twice for %s\n",
					fam == XLB_AF_INET ? "IPv4" : "IPv6");
				return -EINVAL;
			}
			if (fam == XLB_AF_INET)
				d->tunnel_src.v4 = a;
			else
				d->tunnel_src.v6 = a;
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

/*
 * One xlbd per interface, per control socket and per state file (docs/xlbd.md, "One xlbd per
 * interface"): an exclusive flock on LOCK_DIR/IFNAME.lock, SOCKET.lock and STATE.lock, taken
 * before anything reads or writes the state, the pins or the program, held until exit (the
 * kernel drops it however xlbd ends, so no stale lock outlives a crash). Two daemons on one
 * state file would each overwrite the other's changes. The files stay: unlinking a lock file
 * races with the next xlbd opening it. Each holds its holder's "pid=N interface=I socket=S
 * state=F" line.
 */
#define NLOCKS 3
static int lock_fds[NLOCKS] = {-1, -1, -1};

/* Locks path (created 0644 if missing); 0, or -EWOULDBLOCK with the holder's line in holder. */
static int take_lock(const char *path, mode_t dir_mode, int *out, char *holder, size_t len)
{
	int fd, e;
	ssize_t n;

	e = xlb_mkdir_parent(path, dir_mode);
	if (e)
		return e;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		*out = fd;
		return 0;
	}
	e = -errno;
	n = e == -EWOULDBLOCK ? pread(fd, holder, len - 1, 0) : -1;
	holder[n > 0 ? n : 0] = '\0';
	holder[strcspn(holder, "\n")] = '\0';
	close(fd);
	return e;
}

static void write_holder(int fd, const struct xlbd *d)
{
	char line[1024];
	snprintf(line, sizeof(line), "pid=%d interface=%s socket=%s state=%s\n", (int)getpid(),
		 d->ifname, d->socket_path, d->state_path);
	if (ftruncate(fd, 0) || pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line))
		pr_warn("cannot write the lock file's holder line", "err=\"%s\"", strerror(errno));
}

static int lock_instance(struct xlbd *d)
{
	char paths[NLOCKS][4200], holder[1024] = "";
	const char *what[NLOCKS] = {"interface", "socket", "state file"};
	const char *name[NLOCKS] = {d->ifname, d->socket_path, d->state_path};
	const mode_t dir_mode[NLOCKS] = {0755, 0700, 0755};
	int e = 0;

	snprintf(paths[0], sizeof(paths[0]), LOCK_DIR "/%s.lock", d->ifname);
	snprintf(paths[1], sizeof(paths[1]), "%s.lock", d->socket_path);
	snprintf(paths[2], sizeof(paths[2]), "%s.lock", d->state_path);
	for (int i = 0; i < NLOCKS && !e; i++) {
		bool again = false;

		/* One lock file for two roles (socket /run/xlb/IFNAME): a second flock of ours on
		 * it would fail. */
		for (int k = 0; k < i; k++)
			again |= !strcmp(paths[k], paths[i]);
		if (again)
			continue;
		e = take_lock(paths[i], dir_mode[i], &lock_fds[i], holder, sizeof(holder));
		if (e == -EWOULDBLOCK) {
			fprintf(stderr,
				"xlbd: another xlbd runs on %s %s (%s): it holds %s; one xlbd per "
				"interface, socket and state file: stop it first, or use `xlbctl` "
				"with it\n",
				what[i], name[i], holder[0] ? holder : "holder unknown", paths[i]);
			pr_err("another xlbd holds the lock: nothing changed",
			       "%s=%s lock=%s holder=\"%s\"", i == 2 ? "state" : what[i], name[i],
			       paths[i], holder);
		} else if (e) {
			fprintf(stderr, "xlbd: cannot lock %s: %s\n", paths[i], strerror(-e));
		}
	}
	if (e)
		return e;
	for (int i = 0; i < NLOCKS; i++)
		if (lock_fds[i] >= 0)
			write_holder(lock_fds[i], d);
	return 0;
}

/* The state file, or a new empty state with a fresh seed when there is none. */
static int load_state(struct xlbd *d)
{
	char err[512];
	int e = xlbd_config_load(d->state_path, &d->cfg, err, sizeof(err));

	/* Every save would refuse such a directory: say so now, not at the first change. */
	if (!e) {
		e = xlbd_config_check_dir(d->state_path, err, sizeof(err));
		if (e)
			xlbd_config_free(&d->cfg);
	}

	if (e == -ENOENT) {
		memset(&d->cfg, 0, sizeof(d->cfg));
		if (d->hash_seed_given)
			d->cfg.hash_seed = d->hash_seed;
		else if (getrandom(&d->cfg.hash_seed, sizeof(d->cfg.hash_seed), 0) < 0)
			d->cfg.hash_seed = (__u32)getpid() * 2654435761u;
		e = xlb_mkdir_parent(d->state_path, 0755);
		if (!e)
			e = xlbd_config_save(d->state_path, &d->cfg, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "cannot create the directory of %s: %s",
				 d->state_path, strerror(-e));
		if (!e)
			pr_info("new state file", "state=%s", d->state_path);
	}
	/* The cluster's seed, given: it wins, and the state says so from now on. */
	if (!e && d->hash_seed_given && d->cfg.hash_seed != d->hash_seed) {
		pr_info("hash seed from --hash-seed", "seed=%u state_seed=%u", d->hash_seed,
			d->cfg.hash_seed);
		d->cfg.hash_seed = d->hash_seed;
		e = xlbd_config_save(d->state_path, &d->cfg, err, sizeof(err));
		if (e)
			xlbd_config_free(&d->cfg);
	}
	if (e) {
		fprintf(stderr, "xlbd: %s\n", err);
		pr_err("cannot load the state: refusing to start", "state=%s", d->state_path);
	}
	return e;
}

/*
 * Every connection and every probe is a file descriptor: the usual soft limit (1024) is not
 * the system's. Take the hard limit (the control and metrics servers cap their own share).
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t soft;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		pr_warn("cannot read the file descriptor limit", "err=\"%s\"", strerror(errno));
		return;
	}
	soft = rl.rlim_cur;
	if (soft == rl.rlim_max) {
		pr_info("file descriptor limit", "nofile=%llu", (unsigned long long)soft);
		return;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_warn("cannot raise the file descriptor limit", "soft=%llu hard=%llu err=\"%s\"",
			(unsigned long long)soft, (unsigned long long)rl.rlim_max, strerror(errno));
	else
		pr_info("file descriptor limit raised to the hard limit", "soft=%llu nofile=%llu",
			(unsigned long long)soft, (unsigned long long)rl.rlim_max);
}

/* A backend's usability may have changed (a circuit, a MAC): the tables and the routes follow. */
static void on_changed(void *arg)
{
	xlbd_apply_soon(arg);
	xlbd_announce_soon(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd *d = arg;
	static unsigned int ticks;

	(void)fd, (void)what;
	xlbd_macs_learn(&d->macs);
	xlbd_health_outlier_scan(&d->health);
	/* Configuration changes (a backend disabled, a VIP deleted) reach the routes here, at
	 * most a second late; health and MAC changes at once (on_changed), node drain too. */
	xlbd_announce_sync(d, NULL);
	if (++ticks % 10 == 0) /* every 10 s */
		xlbd_recount_active(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct xlbd *d = arg;

	(void)what;
	pr_info("stopping: the program stays attached and the maps pinned", "signal=%d", (int)sig);
	/* systemd (Type=notify) learns that the exit is on purpose; no-op without NOTIFY_SOCKET. */
	sd_notify(0, "STOPPING=1");
	event_base_loopexit(d->base, NULL);
}

/* main.c's own events: the one-second timer and the signals that stop xlbd. */
static struct event *loop_evs[3];

static int setup_loop(struct xlbd *d)
{
	struct timeval second = {1, 0};

	d->base = event_base_new();
	if (!d->base)
		return -ENOMEM;
	loop_evs[0] = event_new(d->base, -1, EV_PERSIST, on_timer, d);
	loop_evs[1] = evsignal_new(d->base, SIGTERM, on_signal, d);
	loop_evs[2] = evsignal_new(d->base, SIGINT, on_signal, d);
	if (!loop_evs[0] || !loop_evs[1] || !loop_evs[2])
		return -ENOMEM;
	event_add(loop_evs[0], &second);
	event_add(loop_evs[1], NULL);
	event_add(loop_evs[2], NULL);
	return 0;
}

static void teardown_loop(struct xlbd *d)
{
	for (size_t i = 0; i < sizeof(loop_evs) / sizeof(loop_evs[0]); i++)
		if (loop_evs[i])
			event_free(loop_evs[i]);
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
	raise_fd_limit();
	d.ifindex = if_nametoindex(d.ifname);
	if (!d.ifindex) {
		fprintf(stderr, "xlbd: no interface %s: %s\n", d.ifname, strerror(errno));
		return 1;
	}
	/* Before anything touches the state, the pins or the program: a second xlbd on this
	 * interface or socket changes nothing. */
	if (lock_instance(&d) || xlbd_control_check_path(d.socket_path))
		return 1;
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
	/* ipip: the outer sources. */
	err = xlb_dp_set_encap_src(d.dp, &d.tunnel_src);
	if (err) {
		pr_err("cannot set the tunnel source", "err=\"%s\"", strerror(-err));
		goto out;
	}
	err = setup_loop(&d);
	if (!err)
		err = xlbd_apply_init(&d);
	if (err)
		goto out;
	/* ipip: the interfaces an encapsulated packet may be redirected to, those of this
	 * namespace, followed as they come and go (links.c). */
	err = xlbd_links_open(&d.links, d.base, d.dp);
	if (err) {
		pr_err("cannot follow the interfaces for XDP_REDIRECT", "err=\"%s\"",
		       strerror(-err));
		goto out;
	}
	/* What the data plane should see of a backend comes from its MAC and its circuit; when
	 * either changes, the configuration is applied again (once per loop turn). */
	d.view = (struct xlbd_view){.macs = &d.macs, .health = &d.health};
	xlbd_health_init(&d.health, d.base, d.dp, &d.cfg, on_changed, &d);
	d.health.tunnel_src = &d.tunnel_src;
	d.health.ifindex = d.ifindex;
	err = xlbd_macs_open(&d.macs, d.base, d.ifindex, &d.cfg, on_changed, &d);
	if (err) {
		pr_err("cannot open the neighbour monitor", "err=\"%s\"", strerror(-err));
		goto out;
	}
	if (d.dp->reused)
		xlbd_macs_seed(&d.macs, d.dp);
	/* A state file with tunnel checks, and no CAP_NET_RAW: loaded, with one warning (commands
	 * refuse to turn them on; docs/xlbd.md, "The tunnel check"). */
	for (size_t i = 0; i < d.cfg.nvips; i++) {
		char vs[XLB_ADDRSTRLEN];

		if (!xlbd_vip_tunnel_checked(&d.cfg.vips[i]) || xlbd_tunprobe_permitted())
			continue;
		xlb_format_vip(&d.cfg.vips[i].key, vs, sizeof(vs));
		pr_warn("tunnel checks configured but raw sockets not permitted (CAP_NET_RAW): "
			"they fail and take their backends down",
			"vip=%s", vs);
		break;
	}
	/* Backends in the state file served before this start: their circuits begin closed, so
	 * a restart moves no flow. */
	xlbd_health_sync(&d.health, NULL, true);
	xlbd_macs_learn(&d.macs);
	err = xlbd_apply(&d, NULL, true);
	if (err) {
		fprintf(stderr, "xlbd: cannot write the configuration of %s to the maps: %s\n",
			d.state_path, strerror(-err));
		pr_err("cannot write the configuration to the maps", "state=%s err=\"%s\"",
		       d.state_path, strerror(-err));
		goto out;
	}
	err = xlbd_attach(&d);
	if (!err)
		err = xlbd_events_open(&d);
	if (!err)
		err = xlbd_control_open(&d);
	if (!err && d.metrics_addr)
		err = xlbd_metrics_open(&d, d.metrics_addr);
	/* Routes last: an address is announced only once the program serves it. What an earlier
	 * xlbd left is reconciled, nothing withdrawn that should stay (docs/cluster.md). */
	if (!err && d.announce.table) {
		err = xlbd_announce_open(&d);
		if (err)
			pr_err("cannot read the route table: `--route-table 0` runs without routes",
			       "table=%u err=\"%s\"", d.announce.table, strerror(-err));
		else
			xlbd_announce_sync(&d, "start");
	}
	if (err)
		goto out;
	pr_info("ready", "interface=%s socket=%s state=%s vips=%zu", d.ifname, d.socket_path,
		d.state_path, d.cfg.nvips);
	/* Type=notify: attached, the state's configuration in the maps, the socket open. Without
	 * NOTIFY_SOCKET (not started by systemd) this does nothing. */
	sd_notifyf(0, "READY=1\nSTATUS=serving %s, %zu VIPs", d.ifname, d.cfg.nvips);
	event_base_dispatch(d.base);
	if (d.commands.detach_and_exit)
		sd_notify(0, "STOPPING=1");

	if (d.commands.detach_and_exit) {
		/* Withdrawn before the program goes, so the router stops sending here first. */
		if (xlbd_announce_withdraw_all(&d, "detach") > 0) {
			pr_info("waiting for the router before the program goes", "grace_ms=%d",
				XLBD_WITHDRAW_GRACE_MS);
			usleep(XLBD_WITHDRAW_GRACE_MS * 1000);
		}
		err = xlbd_detach(&d);
		if (!err)
			err = xlb_dp_unpin(d.dp);
		if (!err)
			pr_info("maps unpinned", "pin_dir=%s", d.pin_dir);
	}
out:
	xlbd_announce_close(&d); /* leaves the routes: the next start reconciles them */
	xlbd_metrics_close(&d);	 /* before the event base goes */
	xlbd_control_close(&d);
	xlbd_events_close(&d);
	xlbd_health_stop(&d.health);
	xlbd_macs_close(&d.macs);
	xlbd_links_close(&d.links);
	xlbd_apply_free(&d);
	xlbd_commands_free(&d.commands);
	teardown_loop(&d);
	xlbd_explain_close(&d);
	xlb_dp_destroy(d.dp);
	xlbd_config_free(&d.cfg);
	return err ? 1 : 0;
}
