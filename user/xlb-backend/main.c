/* main.c - xlb-backend: the command line (attach, detach, vip add/del, show) over the state files. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "addr.h"
#include "backend.h"
#include "log.h"

static const char usage[] =
	"Usage: xlb-backend [-j|--json] COMMAND\n"
	"  attach IFACE [mode { native | generic | dsr-l2 }] [--no-host]\n"
	"  detach IFACE\n"
	"  vip { add | del } VIP [dev IFACE]\n"
	"  show\n"
	"  help\n"
	"Decapsulates IPIP / IP6IP6 / IPv4-in-IPv6 packets to VIPs on IFACE (modes native and\n"
	"generic), puts each VIP on lo and sets arp_ignore/arp_announce (and rp_filter) on IFACE;\n"
	"dsr-l2 does the host settings only. --no-host leaves addresses and sysctls alone.\n"
	"detach undoes everything attach and vip add did. See docs/backend.md.\n";

static bool json_out;

static int check_ifname(const char *s)
{
	if (strlen(s) >= IF_NAMESIZE || !*s || strchr(s, '/') || s[0] == '.')
		return be_fail(-EINVAL, "bad interface name '%s'", s);
	return 0;
}

static int do_attach(int argc, char **argv)
{
	struct be_state st = {.mode = BE_MODE_NATIVE, .host = true};
	struct be_state old;
	char name[64];
	__u32 id;
	int ifindex, err, i;

	if (argc < 1)
		return be_fail(-EINVAL, "attach: which interface? (attach IFACE)");
	if (check_ifname(argv[0]))
		return -EINVAL;
	snprintf(st.ifname, sizeof(st.ifname), "%s", argv[0]);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-host") || !strcmp(argv[i], "no-host")) {
			st.host = false;
		} else if (!strcmp(argv[i], "mode") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "native"))
				st.mode = BE_MODE_NATIVE;
			else if (!strcmp(argv[i], "generic"))
				st.mode = BE_MODE_GENERIC;
			else if (!strcmp(argv[i], "dsr-l2"))
				st.mode = BE_MODE_DSR_L2;
			else
				return be_fail(-EINVAL, "bad mode '%s': native, generic or dsr-l2",
					       argv[i]);
		} else {
			return be_fail(-EINVAL, "attach: unexpected '%s'", argv[i]);
		}
	}
	ifindex = if_nametoindex(st.ifname);
	if (!ifindex)
		return be_fail(-ENODEV, "unknown interface '%s'", st.ifname);
	err = be_state_load(st.ifname, &old);
	if (!err)
		return be_fail(-EEXIST, "%s is already attached (mode %s): detach it first",
			       st.ifname, be_mode_name(old.mode));
	if (err != -ENOENT)
		return err;
	if (st.mode != BE_MODE_DSR_L2) {
		id = be_xdp_prog(ifindex, name, sizeof(name));
		if (id)
			return be_fail(-EBUSY, "another XDP program is attached to %s (%s, id %u)",
				       st.ifname, name, id);
		err = be_prog_attach(&st, ifindex);
		if (err)
			return err;
	}
	err = be_state_save(&st);
	if (err && st.mode != BE_MODE_DSR_L2)
		be_prog_detach(&st);
	return err;
}

static int find_vip(const struct be_state *st, const struct be_vip *v)
{
	for (int i = 0; i < st->n_vip; i++)
		if (st->vip[i].family == v->family && !memcmp(&st->vip[i].addr, &v->addr, 16))
			return i;
	return -1;
}

/*
 * The VIP leaves st (vip del, detach): its address leaves lo if we put it there, unless another
 * attached interface still has the VIP. That one then owns the address (it was EEXIST for it).
 */
static void release_addr(const struct be_state *st, const struct be_vip *v)
{
	char names[64][IF_NAMESIZE], text[XLB_ADDRSTRLEN];
	int n = be_state_list(names, 64), i, j;
	struct be_state other;

	if (!v->added_addr)
		return;
	xlb_format_addr(&v->addr, v->family, text, sizeof(text));
	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], st->ifname) || be_state_load(names[i], &other))
			continue;
		j = find_vip(&other, v);
		if (j < 0 || !other.host)
			continue;
		other.vip[j].added_addr = true;
		if (!be_state_save(&other)) {
			pr_info("the vip stays on lo for another interface", "vip=%s interface=%s",
				text, other.ifname);
			return;
		}
	}
	if (be_lo_addr_del(&v->addr, v->family))
		pr_warn("the vip was no longer on lo", "vip=%s", text);
}

static int do_detach(int argc, char **argv)
{
	struct be_state st;
	int err, i;

	if (argc != 1)
		return be_fail(-EINVAL, "usage: detach IFACE");
	if (check_ifname(argv[0]))
		return -EINVAL;
	err = be_state_load(argv[0], &st);
	if (err == -ENOENT)
		return be_fail(-ENOENT, "%s is not attached", argv[0]);
	if (err)
		return err;
	if (st.mode != BE_MODE_DSR_L2) {
		err = be_prog_detach(&st);
		if (err)
			return err;
	}
	for (i = 0; i < st.n_vip; i++)
		release_addr(&st, &st.vip[i]);
	be_sysctls_restore(&st);
	return be_state_remove(st.ifname);
}

/* The state a vip command acts on: dev IFACE, else the only attached interface (add) or the
 * one that holds the VIP (del). */
static int vip_target(const char *dev, const struct be_vip *v, bool add, struct be_state *st)
{
	char names[64][IF_NAMESIZE];
	int n, err, found = 0;

	if (dev) {
		if (check_ifname(dev))
			return -EINVAL;
		err = be_state_load(dev, st);
		if (err == -ENOENT)
			return be_fail(-ENOENT,
				       "%s is not attached: run `xlb-backend attach %s` first", dev,
				       dev);
		return err;
	}
	n = be_state_list(names, 64);
	if (n < 0)
		return be_fail(n, "cannot read %s: %s", be_run_dir(), strerror(-n));
	if (n == 0)
		return be_fail(-ENOENT, "no interface is attached: run `xlb-backend attach IFACE` "
					"first");
	if (add && n > 1)
		return be_fail(-EINVAL, "%d interfaces are attached: say which with `dev IFACE`",
			       n);
	for (int i = 0; i < n; i++) {
		struct be_state tmp;

		err = be_state_load(names[i], &tmp);
		if (err)
			return err;
		if (add || find_vip(&tmp, v) >= 0) {
			*st = tmp;
			found++;
		}
	}
	if (!found)
		return 1; /* the caller names the VIP */
	if (found > 1)
		return be_fail(-EINVAL, "the vip is on %d interfaces: say which with `dev IFACE`",
			       found);
	return 0;
}

static int vip_add(struct be_state *st, struct be_vip *v, const char *text)
{
	bool applied_now;
	int err;

	if (find_vip(st, v) >= 0)
		return be_fail(-EEXIST, "vip %s is already added on %s", text, st->ifname);
	if (st->n_vip == BE_MAX_VIPS)
		return be_fail(-ENOSPC, "%s has %d vips already, the most it takes", st->ifname,
			       BE_MAX_VIPS);
	err = be_vip_map_update(st, v, true);
	if (err)
		return err;
	applied_now = st->host && !st->sysctls_applied;
	err = be_sysctls_apply(st);
	if (err)
		goto undo_map;
	if (st->host) {
		err = be_lo_addr_add(&v->addr, v->family);
		v->added_addr = !err;
		if (err == -EEXIST) {
			err = 0; /* someone else's: we leave it there on del and detach */
		} else if (err) {
			be_fail(err, "cannot add %s to lo: %s", text, strerror(-err));
			goto undo_sysctls;
		}
	}
	st->vip[st->n_vip++] = *v;
	err = be_state_save(st);
	if (!err)
		return 0;
	st->n_vip--;
	if (v->added_addr)
		be_lo_addr_del(&v->addr, v->family);
undo_sysctls:
	if (applied_now)
		be_sysctls_restore(st);
undo_map:
	be_vip_map_update(st, v, false);
	return err;
}

static int vip_del(struct be_state *st, const struct be_vip *v, const char *text)
{
	int i = find_vip(st, v), err;

	if (i < 0)
		return be_fail(-ENOENT, "vip %s is not on %s", text, st->ifname);
	err = be_vip_map_update(st, v, false);
	if (err)
		return err;
	release_addr(st, &st->vip[i]);
	st->vip[i] = st->vip[--st->n_vip];
	if (!st->n_vip)
		be_sysctls_restore(st);
	return be_state_save(st);
}

static int do_vip(int argc, char **argv)
{
	const char *dev = NULL, *problem;
	struct be_vip v = {0};
	struct be_state st;
	char msg[256];
	bool add;
	int err;

	if (argc < 2 || (strcmp(argv[0], "add") && strcmp(argv[0], "del")))
		return be_fail(-EINVAL, "usage: vip { add | del } VIP [dev IFACE]");
	add = !strcmp(argv[0], "add");
	if (argc == 4 && !strcmp(argv[2], "dev"))
		dev = argv[3];
	else if (argc != 2)
		return be_fail(-EINVAL, "usage: vip { add | del } VIP [dev IFACE]");
	if (xlb_parse_addr(argv[1], &v.addr, &v.family, msg, sizeof(msg)))
		return be_fail(-EINVAL, "%s", msg);
	problem = xlb_backend_addr_problem(&v.addr, v.family);
	if (problem)
		return be_fail(-EINVAL, "bad vip '%s': it is %s", argv[1], problem);
	err = vip_target(dev, &v, add, &st);
	if (err > 0)
		return be_fail(-ENOENT, "vip %s is not added on any interface", argv[1]);
	if (err)
		return err;
	return add ? vip_add(&st, &v, argv[1]) : vip_del(&st, &v, argv[1]);
}

static const char *counter_names[] = {
#define NAME(e, label) label,
	XLB_DECAP_COUNTERS(NAME)
#undef NAME
};

static json_t *state_json(const struct be_state *st)
{
	char text[XLB_ADDRSTRLEN], name[64];
	int ifindex = if_nametoindex(st->ifname);
	__u64 c[XLB_DC_MAX];
	json_t *j, *a;

	j = json_pack("{s:s, s:s, s:b}", "interface", st->ifname, "mode", be_mode_name(st->mode),
		      "host", st->host);
	if (st->mode != BE_MODE_DSR_L2) {
		json_object_set_new(j, "prog_id", json_integer(st->prog_id));
		json_object_set_new(
			j, "attached",
			json_boolean(ifindex &&
				     be_xdp_prog(ifindex, name, sizeof(name)) == st->prog_id));
	}
	a = json_array();
	for (int i = 0; i < st->n_vip; i++) {
		xlb_format_addr(&st->vip[i].addr, st->vip[i].family, text, sizeof(text));
		json_array_append_new(a, json_pack("{s:s, s:b}", "address", text, "added_to_lo",
						   st->vip[i].added_addr));
	}
	json_object_set_new(j, "vips", a);
	a = json_array();
	for (int i = 0; i < st->n_sysctl; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "sysctl", st->sysctl[i].path,
						   "was", st->sysctl[i].was, "set",
						   st->sysctl[i].set));
	json_object_set_new(j, "sysctls", a);
	if (st->mode != BE_MODE_DSR_L2 && !be_counters(st, c)) {
		json_t *o = json_object();

		for (int k = 0; k < XLB_DC_MAX; k++)
			json_object_set_new(o, counter_names[k], json_integer((json_int_t)c[k]));
		json_object_set_new(j, "counters", o);
	}
	return j;
}

static void print_text(json_t *j)
{
	json_t *a, *e, *v;
	const char *k;
	size_t i;

	printf("%s: mode %s", json_string_value(json_object_get(j, "interface")),
	       json_string_value(json_object_get(j, "mode")));
	if (json_object_get(j, "prog_id"))
		printf(" prog_id %lld%s", json_integer_value(json_object_get(j, "prog_id")),
		       json_is_true(json_object_get(j, "attached")) ? "" : " (NOT attached)");
	printf("%s\n", json_is_true(json_object_get(j, "host")) ? "" : " no-host");
	a = json_object_get(j, "vips");
	json_array_foreach(a, i, e) {
		printf("  vip %s%s\n", json_string_value(json_object_get(e, "address")),
		       json_is_true(json_object_get(e, "added_to_lo")) ? " (on lo)"
								       : " (not added by us)");
	}
	a = json_object_get(j, "sysctls");
	json_array_foreach(a, i, e) {
		printf("  sysctl %s %s (was %s)\n", json_string_value(json_object_get(e, "sysctl")),
		       json_string_value(json_object_get(e, "set")),
		       json_string_value(json_object_get(e, "was")));
	}
	a = json_object_get(j, "counters");
	json_object_foreach(a, k, v) {
		printf("  %-22s %lld\n", k, json_integer_value(v));
	}
}

static int do_show(int argc, char **argv)
{
	char names[64][IF_NAMESIZE];
	struct be_state st;
	json_t *all;
	int n, err = 0;

	(void)argv;
	if (argc)
		return be_fail(-EINVAL, "usage: show");
	n = be_state_list(names, 64);
	if (n < 0)
		return be_fail(n, "cannot read %s: %s", be_run_dir(), strerror(-n));
	all = json_array();
	for (int i = 0; i < n && !err; i++) {
		err = be_state_load(names[i], &st);
		if (!err)
			json_array_append_new(all, state_json(&st));
	}
	if (!err) {
		if (json_out) {
			json_t *o = json_pack("{s:o}", "interfaces", all);

			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(o);
			return 0;
		}
		for (size_t i = 0; i < json_array_size(all); i++)
			print_text(json_array_get(all, i));
		if (!json_array_size(all))
			printf("nothing attached\n");
	}
	json_decref(all);
	return err;
}

int main(int argc, char **argv)
{
	int i = 1, err, lock;
	const char *msg;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json_out = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "xlb-backend: unknown option '%s'\n%s", argv[i], usage);
			return 1;
		}
		i++;
	}
	if (i == argc || !strcmp(argv[i], "help")) {
		fputs(usage, i == argc ? stderr : stdout);
		return i == argc;
	}
	xlb_log_libbpf();
	lock = be_lock();
	if (lock < 0) {
		be_fail(lock, "cannot lock %s/lock: %s", be_run_dir(), strerror(-lock));
		err = lock;
	} else if (!strcmp(argv[i], "attach")) {
		err = do_attach(argc - i - 1, argv + i + 1);
	} else if (!strcmp(argv[i], "detach")) {
		err = do_detach(argc - i - 1, argv + i + 1);
	} else if (!strcmp(argv[i], "vip")) {
		err = do_vip(argc - i - 1, argv + i + 1);
	} else if (!strcmp(argv[i], "show")) {
		err = do_show(argc - i - 1, argv + i + 1);
	} else {
		err = be_fail(-EINVAL, "unknown command '%s' (attach, detach, vip, show)", argv[i]);
	}
	if (!err)
		return 0;
	msg = be_fail_message();
	if (!msg[0])
		msg = strerror(err < 0 ? -err : err);
	if (json_out) {
		json_t *o = json_pack("{s:s}", "error", msg);

		json_dumpf(o, stdout, 0);
		putchar('\n');
		json_decref(o);
	} else {
		fprintf(stderr, "xlb-backend: %s\n", msg);
	}
	return 1;
}
