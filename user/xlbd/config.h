/* config.h - xlbd's desired state (VIPs, backends, weights) and its JSON state file. */
#ifndef XLBD_CONFIG_H
#define XLBD_CONFIG_H

#include <jansson.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "breaker.h"
#include "names.h"
#include "xlb_abi.h"

#define XLBD_STATE_VERSION 1

/* Health check and circuit-breaker policy of a VIP's backends. */
struct xlbd_check {
	enum xlb_check_kind kind; /* none: backends are up while their MAC is known */
	__u16 port;		  /* 0: the VIP's port */
	__u32 interval_ms;
	__u32 timeout_ms; /* < interval_ms */
	__u32 rise;
	__u32 fall;
	char path[XLB_CHECK_STR];    /* http */
	char host[XLB_CHECK_STR];    /* http; empty: the backend's address */
	__u16 status_lo, status_hi;  /* http */
	char payload[XLB_CHECK_STR]; /* udp */
	__u32 backoff_ms;	     /* first open period of the circuit breaker */
	__u32 backoff_max_ms;	     /* cap of its doubling */
	__u32 slow_start_ms;	     /* weight ramp after the circuit closes; 0: off */
	bool outlier;		     /* passive outlier detection: SYN retries open the circuit */
	__u32 outlier_rate;	     /* SYN retries per second that count as a failure */
	bool tunnel; /* fwd ipip: the check goes through the tunnel too (docs/xlbd.md) */
};

void xlbd_check_defaults(struct xlbd_check *c);
/* The timeout a check gets when none is given: min(XLBD_CHECK_TIMEOUT_MS, interval / 2). An
 * interval set without a timeout moves a timeout that was automatic along with it. */
#define XLBD_CHECK_TIMEOUT_MS 500
__u32 xlbd_check_auto_timeout(__u32 interval_ms);
/* Merge JSON members onto c ({"kind": "http", "interval_ms": 200, ...}); validates. */
int xlbd_check_from_json(json_t *j, struct xlbd_check *c, char *err, size_t errlen);
json_t *xlbd_check_to_json(const struct xlbd_check *c);

struct xlbd_backend {
	bool has_check;		 /* its own check settings below, else the VIP's */
	struct xlbd_check check; /* the VIP's settings with this backend's changes merged in */
	struct xlb_addr addr;
	__u8 family;
	__u32 id;     /* data-plane backend id: persisted so flows survive restarts */
	__u32 weight; /* 1..XLB_WEIGHT_MAX */
	enum xlb_admin admin;
};

struct xlbd_vip {
	struct xlb_vip_key key;
	__u32 id; /* data-plane VIP id, 1..XLB_MAX_VIPS-1, persisted */
	__u8 sched;
	__u8 fwd;
	bool hash_dport; /* source-hash: client address and destination port */
	struct xlbd_check check;
	struct xlbd_backend *be;
	size_t nbe;
};

struct xlbd_config {
	__u32 hash_seed; /* data-plane flow hash and Maglev seed: fixed for the life of the state */
	bool drained; /* node maintenance (`node drain`): no VIP address announced (announce.c) */
	struct xlbd_vip *vips;
	size_t nvips;
};

void xlbd_config_free(struct xlbd_config *c);
/* Deep copy; 0 or -ENOMEM. */
int xlbd_config_clone(const struct xlbd_config *src, struct xlbd_config *dst);

/* Whole-config checks (unique VIPs/ids/backends, ranges, families). 0 or -EINVAL + message. */
int xlbd_config_validate(const struct xlbd_config *c, char *err, size_t errlen);

/* JSON <-> config. from_json validates. */
json_t *xlbd_config_to_json(const struct xlbd_config *c);
int xlbd_config_from_json(json_t *j, struct xlbd_config *c, char *err, size_t errlen);

/*
 * from_json's parser. ids false (a file for `config apply`): the "id" members and "hash_seed"
 * may be left out (0; *seed_given says whether the seed was there) and nothing is validated
 * yet: xlbd_config_merge gives the ids, then the whole is validated.
 */
int xlbd_config_parse(json_t *j, struct xlbd_config *c, bool ids, bool *seed_given, char *err,
		      size_t errlen);

/*
 * Makes next (a configuration parsed from a file, in its order) ready to replace cur, in one
 * change that keeps every established flow: a VIP or backend cur has too keeps cur's id (its
 * flow entries name it); a new one gets an id cur does not use, so that no id of a removed
 * VIP or backend is given again in the same change (apply.c clears those after the tables,
 * and the flows still naming them must re-pick). Ids in the file are not used: they are the
 * exporting node's. The seed is cur's unless seed_given. Appends to changes one object per
 * difference: {"change": "seed changed" | "vip added" | "vip removed" | "vip changed" |
 * "backend added" | "backend removed" | "backend changed", "vip", "address", "what"}, in that
 * order per VIP. Then validates next whole: 0, or -EINVAL/-ENOSPC/-ENOMEM with the problem in
 * err. next stays the caller's to free either way.
 */
int xlbd_config_merge(const struct xlbd_config *cur, struct xlbd_config *next, bool seed_given,
		      json_t *changes, char *err, size_t errlen);

/*
 * The state file. load: -ENOENT if it does not exist (start empty), -EINVAL with the file name,
 * line and parse error in err if it is corrupt. save: a temp file of a unique name next to it
 * (O_EXCL|O_NOFOLLOW, mode 0600: nothing planted there is followed or reused), fsync, rename,
 * fsync of the directory; refused in a directory others may write (xlbd_config_check_dir).
 */
int xlbd_config_load(const char *path, struct xlbd_config *c, char *err, size_t errlen);
int xlbd_config_save(const char *path, const struct xlbd_config *c, char *err, size_t errlen);
/* 0, or -EPERM with the reason in err when the state file's directory may be changed by another
 * user (writable by group or others without the sticky bit, or owned by neither root nor us):
 * they could replace the state file. save checks it first; main.c before the first load. */
int xlbd_config_check_dir(const char *path, char *err, size_t errlen);

/* The check settings in force for a backend: its own, else its VIP's. */
const struct xlbd_check *xlbd_backend_check(const struct xlbd_vip *v, const struct xlbd_backend *b);

/* The VIP has tunnel checks: it is fwd ipip, and its check or a backend's own has tunnel on. */
bool xlbd_vip_tunnel_checked(const struct xlbd_vip *v);

/* Lookups (NULL if absent). */
struct xlbd_vip *xlbd_config_find_vip(struct xlbd_config *c, const struct xlb_vip_key *key);
struct xlbd_backend *xlbd_vip_find_backend(struct xlbd_vip *v, const struct xlb_addr *addr,
					   __u8 family);

/* The backend with data-plane id `id` and, in *vip, its VIP (c may be NULL): NULL if none. */
struct xlbd_backend *xlbd_config_backend_by_id(const struct xlbd_config *c, __u32 id,
					       struct xlbd_vip **vip);

/* Smallest unused ids. 0 when all are taken. */
__u32 xlbd_config_new_vip_id(const struct xlbd_config *c);
__u32 xlbd_config_new_backend_id(const struct xlbd_config *c);

/* The circuit-breaker policy a check's settings ask for. */
struct xlbd_breaker_policy xlbd_check_policy(const struct xlbd_check *c);

#endif /* XLBD_CONFIG_H */
