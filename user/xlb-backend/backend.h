/* backend.h - xlb-backend's state (one JSON file per interface) and the parts that act on it. */
#ifndef XLB_BACKEND_H
#define XLB_BACKEND_H

#include <net/if.h>
#include <stdbool.h>
#include <linux/types.h>

#include "xlb_abi.h"
#include "xlb_decap_abi.h"

/*
 * Every command is a short-lived process: what one leaves for the next is the state file
 * RUN_DIR/IFACE.json (what was changed on the host, so that detach puts back exactly that) and
 * the maps pinned under PIN_DIR/IFACE/. docs/backend.md describes both.
 */
#define BE_RUN_DIR	 "/run/xlb-backend"
#define BE_PIN_DIR	 "/sys/fs/bpf/xlb-backend"
#define BE_MAX_VIPS	 256 /* per interface */
#define BE_MAX_SYSCTLS	 4
#define BE_SYSCTL_VALLEN 16

enum be_mode { BE_MODE_NATIVE, BE_MODE_GENERIC, BE_MODE_DSR_L2 };

struct be_vip {
	struct xlb_addr addr;
	__u8 family;	 /* XLB_AF_INET or XLB_AF_INET6 */
	bool added_addr; /* we put the address on lo (false: it was there already, or --no-host) */
};

/* A sysctl we changed: the value to restore. */
struct be_sysctl {
	char path[128]; /* under /proc/sys/ */
	char was[BE_SYSCTL_VALLEN];
	char set[BE_SYSCTL_VALLEN];
};

struct be_state {
	char ifname[IF_NAMESIZE];
	enum be_mode mode;
	bool host; /* false with --no-host: no address or sysctl is touched */
	__u32 prog_id;
	bool sysctls_applied;
	int n_sysctl;
	struct be_sysctl sysctl[BE_MAX_SYSCTLS];
	int n_vip;
	struct be_vip vip[BE_MAX_VIPS];
};

/* util.c. The message of the command's failure (printed by main; {"error": ...} with -j): the
 * first be_fail() of the command sets it and returns err. */
int be_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *be_fail_message(void); /* "" when none */
void be_fail_reset(void);

const char *be_run_dir(void); /* XLB_BACKEND_RUN_DIR or BE_RUN_DIR */
const char *be_pin_dir(void); /* XLB_BACKEND_PIN_DIR or BE_PIN_DIR */
const char *be_mode_name(enum be_mode m);

/* state.c */
int be_lock(void); /* an exclusive lock on RUN_DIR/lock for the whole command; an fd or -errno */
int be_state_load(const char *ifname, struct be_state *st); /* 0, -ENOENT, or -errno (failed) */
int be_state_save(const struct be_state *st);
int be_state_remove(const char *ifname);
/* Interface names with a state file, sorted; returns how many (at most max) or -errno. */
int be_state_list(char names[][IF_NAMESIZE], int max);

/* host.c: addresses on lo (rtnetlink) and per-interface sysctls (/proc/sys). */
int be_lo_addr_add(const struct xlb_addr *a, __u8 family); /* 0, -EEXIST (was there), -errno */
int be_lo_addr_del(const struct xlb_addr *a, __u8 family); /* 0, -EADDRNOTAVAIL, -errno */
int be_sysctls_apply(struct be_state *st);
void be_sysctls_restore(struct be_state *st);

/* prog.c: the decapsulating program and its pinned maps. */
int be_prog_attach(struct be_state *st, int ifindex);
int be_prog_detach(const struct be_state *st); /* detaches it if it is still ours, unpins */
/* The program attached to ifindex (0: none), and its name. */
__u32 be_xdp_prog(int ifindex, char *name, size_t len);
int be_vip_map_update(const struct be_state *st, const struct be_vip *v, bool add);
int be_counters(const struct be_state *st, __u64 sum[XLB_DC_MAX]);

#endif /* XLB_BACKEND_H */
