/* config.c - xlbd's desired state: copy, validation, JSON and the atomically written state file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"

void xlbd_config_free(struct xlbd_config *c)
{
	for (size_t i = 0; i < c->nvips; i++)
		free(c->vips[i].be);
	free(c->vips);
	c->vips = NULL;
	c->nvips = 0;
}

int xlbd_config_clone(const struct xlbd_config *src, struct xlbd_config *dst)
{
	*dst = *src;
	dst->vips = NULL;
	dst->nvips = 0;
	if (!src->nvips)
		return 0;
	dst->vips = calloc(src->nvips, sizeof(*dst->vips));
	if (!dst->vips)
		return -ENOMEM;
	for (size_t i = 0; i < src->nvips; i++) {
		struct xlbd_vip *v = &dst->vips[i];

		*v = src->vips[i];
		v->be = NULL;
		dst->nvips++;
		if (!v->nbe)
			continue;
		v->be = malloc(v->nbe * sizeof(*v->be));
		if (!v->be) {
			v->nbe = 0;
			xlbd_config_free(dst);
			return -ENOMEM;
		}
		memcpy(v->be, src->vips[i].be, v->nbe * sizeof(*v->be));
	}
	return 0;
}

const struct xlbd_check *xlbd_backend_check(const struct xlbd_vip *v, const struct xlbd_backend *b)
{
	return b->has_check ? &b->check : &v->check;
}

bool xlbd_vip_tunnel_checked(const struct xlbd_vip *v)
{
	if (v->fwd != XLB_FWD_IPIP)
		return false;
	if (v->check.tunnel)
		return true;
	for (size_t i = 0; i < v->nbe; i++)
		if (v->be[i].has_check && v->be[i].check.tunnel)
			return true;
	return false;
}

struct xlbd_vip *xlbd_config_find_vip(struct xlbd_config *c, const struct xlb_vip_key *key)
{
	for (size_t i = 0; i < c->nvips; i++)
		if (!memcmp(&c->vips[i].key, key, sizeof(*key)))
			return &c->vips[i];
	return NULL;
}

struct xlbd_backend *xlbd_vip_find_backend(struct xlbd_vip *v, const struct xlb_addr *addr,
					   __u8 family)
{
	for (size_t i = 0; i < v->nbe; i++)
		if (v->be[i].family == family && !memcmp(&v->be[i].addr, addr, sizeof(*addr)))
			return &v->be[i];
	return NULL;
}

struct xlbd_backend *xlbd_config_backend_by_id(const struct xlbd_config *c, __u32 id,
					       struct xlbd_vip **vip)
{
	for (size_t i = 0; c && i < c->nvips; i++)
		for (size_t j = 0; j < c->vips[i].nbe; j++)
			if (c->vips[i].be[j].id == id) {
				if (vip)
					*vip = &c->vips[i];
				return &c->vips[i].be[j];
			}
	return NULL;
}

__u32 xlbd_config_new_vip_id(const struct xlbd_config *c)
{
	for (__u32 id = 1; id < XLB_MAX_VIPS; id++) {
		size_t i;

		for (i = 0; i < c->nvips && c->vips[i].id != id; i++)
			;
		if (i == c->nvips)
			return id;
	}
	return 0;
}

__u32 xlbd_config_new_backend_id(const struct xlbd_config *c)
{
	static unsigned char used[XLB_MAX_BACKENDS];

	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < c->nvips; i++)
		for (size_t j = 0; j < c->vips[i].nbe; j++)
			if (c->vips[i].be[j].id < XLB_MAX_BACKENDS)
				used[c->vips[i].be[j].id] = 1;
	for (__u32 id = 1; id < XLB_MAX_BACKENDS; id++)
		if (!used[id])
			return id;
	return 0;
}

int xlbd_config_validate(const struct xlbd_config *c, char *err, size_t errlen)
{
	static unsigned char be_used[XLB_MAX_BACKENDS];
	unsigned char vip_used[XLB_MAX_VIPS] = {0};
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN];
	const char *problem;

	memset(be_used, 0, sizeof(be_used));
	for (size_t i = 0; i < c->nvips; i++) {
		const struct xlbd_vip *v = &c->vips[i];

		xlb_format_vip(&v->key, vs, sizeof(vs));
		if (v->id == 0 || v->id >= XLB_MAX_VIPS || vip_used[v->id]) {
			snprintf(err, errlen, "vip %s: id %u is out of range or used twice", vs,
				 v->id);
			return -EINVAL;
		}
		vip_used[v->id] = 1;
		if (v->key.port == 0 ||
		    (v->key.family != XLB_AF_INET && v->key.family != XLB_AF_INET6) ||
		    (v->key.proto != 6 && v->key.proto != 17)) {
			snprintf(err, errlen, "vip %s: bad address, port or protocol", vs);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++) {
			if (!memcmp(&c->vips[k].key, &v->key, sizeof(v->key))) {
				snprintf(err, errlen, "vip %s is defined twice", vs);
				return -EINVAL;
			}
		}
		if (v->sched >= xlb_sched_names.n || v->fwd >= xlb_fwd_names.n) {
			snprintf(err, errlen, "vip %s: unknown scheduler or forwarding mode", vs);
			return -EINVAL;
		}
		if (v->hash_dport && v->sched != XLB_SCHED_SOURCE_HASH) {
			snprintf(err, errlen,
				 "vip %s: hash-dport applies to the source-hash scheduler", vs);
			return -EINVAL;
		}
		if (v->nbe > XLB_MAX_VIP_BACKENDS) {
			snprintf(err, errlen, "vip %s: more than %d backends", vs,
				 XLB_MAX_VIP_BACKENDS);
			return -EINVAL;
		}
		for (size_t j = 0; j < v->nbe; j++) {
			const struct xlbd_backend *b = &v->be[j];

			xlb_format_addr(&b->addr, b->family, as, sizeof(as));
			/* ipip carries an IPv4 VIP's packets to IPv6 backends too (IPv4 in
			 * IPv6); never IPv6 in IPv4 (docs/datapath.md, "ipip"). */
			if (b->family != v->key.family &&
			    !(v->fwd == XLB_FWD_IPIP && v->key.family == XLB_AF_INET)) {
				snprintf(
					err, errlen,
					"backend %s of vip %s: address family differs from the "
					"vip's%s",
					as, vs,
					v->key.family == XLB_AF_INET
						? " (an IPv4 vip takes IPv6 backends with fwd ipip)"
						: "");
				return -EINVAL;
			}
			problem = xlb_backend_addr_problem(&b->addr, b->family);
			if (problem) {
				snprintf(err, errlen, "backend %s of vip %s: %s, never a backend",
					 as, vs, problem);
				return -EINVAL;
			}
			/* Sent to a VIP, a packet comes back to the LB: never to a server. */
			for (size_t k = 0; k < c->nvips; k++) {
				const struct xlb_vip_key *o = &c->vips[k].key;
				char os[XLB_ADDRSTRLEN];

				if (o->family != b->family ||
				    memcmp(&o->addr, &b->addr, sizeof(b->addr)))
					continue;
				xlb_format_vip(o, os, sizeof(os));
				snprintf(err, errlen,
					 "backend %s of vip %s: the address of vip %s, never a "
					 "backend",
					 as, vs, os);
				return -EINVAL;
			}
			if (b->id == 0 || b->id >= XLB_MAX_BACKENDS || be_used[b->id]) {
				snprintf(
					err, errlen,
					"backend %s of vip %s: id %u is out of range or used twice",
					as, vs, b->id);
				return -EINVAL;
			}
			be_used[b->id] = 1;
			if (b->weight < 1 || b->weight > XLB_WEIGHT_MAX) {
				snprintf(err, errlen,
					 "backend %s of vip %s: weight %u not in 1..%d", as, vs,
					 b->weight, XLB_WEIGHT_MAX);
				return -EINVAL;
			}
			if ((unsigned)b->admin >= xlb_admin_names.n) {
				snprintf(err, errlen, "backend %s of vip %s: bad admin state", as,
					 vs);
				return -EINVAL;
			}
			for (size_t k = 0; k < j; k++) {
				if (v->be[k].family == b->family &&
				    !memcmp(&v->be[k].addr, &b->addr, sizeof(b->addr))) {
					snprintf(err, errlen, "backend %s is in vip %s twice", as,
						 vs);
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

__u32 xlbd_check_auto_timeout(__u32 interval_ms)
{
	__u32 half = interval_ms / 2 ?: 1;

	return half < XLBD_CHECK_TIMEOUT_MS ? half : XLBD_CHECK_TIMEOUT_MS;
}

void xlbd_check_defaults(struct xlbd_check *c)
{
	*c = (struct xlbd_check){
		.kind = XLB_CHECK_NONE,
		.interval_ms = 1000,
		.timeout_ms = XLBD_CHECK_TIMEOUT_MS, /* the automatic one of 1000 ms */
		.rise = 2,
		.fall = 3,
		.path = "/",
		.status_lo = 200,
		.status_hi = 399,
		.backoff_ms = 1000,
		.backoff_max_ms = 30000,
		.slow_start_ms = 10000,
		.outlier = false,
		.outlier_rate = 5,
		.tunnel = false,
	};
}

struct xlbd_breaker_policy xlbd_check_policy(const struct xlbd_check *c)
{
	return (struct xlbd_breaker_policy){
		.rise = c->rise,
		.fall = c->fall,
		.backoff_initial_ms = c->backoff_ms,
		.backoff_max_ms = c->backoff_max_ms,
		.slow_start_ms = c->slow_start_ms,
	};
}

json_t *xlbd_check_to_json(const struct xlbd_check *c)
{
	json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "kind",
			      xlb_name(&xlb_check_kind_names, c->kind), "port", (json_int_t)c->port,
			      "interval_ms", (json_int_t)c->interval_ms, "timeout_ms",
			      (json_int_t)c->timeout_ms, "rise", (json_int_t)c->rise, "fall",
			      (json_int_t)c->fall, "backoff_ms", (json_int_t)c->backoff_ms,
			      "backoff_max_ms", (json_int_t)c->backoff_max_ms, "slow_start_ms",
			      (json_int_t)c->slow_start_ms);

	json_object_set_new(j, "outlier", json_boolean(c->outlier));
	json_object_set_new(j, "outlier_rate", json_integer(c->outlier_rate));
	json_object_set_new(j, "tunnel", json_boolean(c->tunnel));
	if (c->kind == XLB_CHECK_HTTP) {
		json_object_set_new(j, "path", json_string(c->path));
		json_object_set_new(j, "host", json_string(c->host));
		json_object_set_new(j, "status_lo", json_integer(c->status_lo));
		json_object_set_new(j, "status_hi", json_integer(c->status_hi));
	} else if (c->kind == XLB_CHECK_UDP) {
		json_object_set_new(j, "payload", json_string(c->payload));
	}
	return j;
}

static int check_str(json_t *j, const char *name, char *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, name);
	const char *s;

	if (!v)
		return 0;
	s = json_string_value(v);
	if (!s || strlen(s) != json_string_length(v) || strlen(s) >= XLB_CHECK_STR ||
	    strpbrk(s, "\r\n")) {
		snprintf(err, errlen,
			 "check %s must be a string of at most %d characters, one line", name,
			 XLB_CHECK_STR - 1);
		return -EINVAL;
	}
	strcpy(out, s);
	return 0;
}

/* An on/off setting: a JSON boolean. */
static int check_bool(json_t *j, const char *name, bool *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, name);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "check %s must be true or false", name);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

/* A numeric setting, in the range names.c gives it. */
static int check_num(json_t *j, const char *name, __u32 *out, char *err, size_t errlen)
{
	const struct xlb_check_range *r = xlb_check_range(name);
	json_t *v = json_object_get(j, name);
	__u32 lo, hi;

	if (!r) { /* a member names.c does not know: a programming error, not bad input */
		snprintf(err, errlen, "check %s has no range", name);
		return -EINVAL;
	}
	lo = r->lo;
	hi = r->hi;

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "check %s must be an integer in %u..%u", name, lo, hi);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

int xlbd_check_from_json(json_t *j, struct xlbd_check *c, char *err, size_t errlen)
{
	static const char *const known[] = {"kind",	      "port",	       "interval_ms",
					    "timeout_ms",     "rise",	       "fall",
					    "path",	      "host",	       "status_lo",
					    "status_hi",      "payload",       "backoff_ms",
					    "backoff_max_ms", "slow_start_ms", "outlier",
					    "outlier_rate",   "tunnel",	       NULL};
	struct xlbd_check n = *c;
	__u32 port = n.port, lo = n.status_lo, hi = n.status_hi;
	const char *name;
	json_t *v;
	int e = 0;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "check must be an object");
		return -EINVAL;
	}
	json_object_foreach(j, name, v) {
		int ok = 0;

		for (int i = 0; known[i] && !ok; i++)
			ok = !strcmp(known[i], name);
		if (!ok) {
			snprintf(err, errlen, "unknown check setting \"%s\"", name);
			return -EINVAL;
		}
	}
	v = json_object_get(j, "kind");
	e = v && json_is_string(v) ? xlb_name_value(&xlb_check_kind_names, json_string_value(v))
				   : 0;
	if (v && (!json_is_string(v) || e < 0)) {
		char kinds[64];

		snprintf(err, errlen, "check kind must be %s",
			 xlb_names_join(&xlb_check_kind_names, " or ", kinds, sizeof(kinds)));
		return -EINVAL;
	}
	if (v)
		n.kind = e;
	e = 0;
	e = e ?: check_num(j, "port", &port, err, errlen);
	e = e ?: check_num(j, "interval_ms", &n.interval_ms, err, errlen);
	e = e ?: check_num(j, "timeout_ms", &n.timeout_ms, err, errlen);
	e = e ?: check_num(j, "rise", &n.rise, err, errlen);
	e = e ?: check_num(j, "fall", &n.fall, err, errlen);
	e = e ?: check_num(j, "status_lo", &lo, err, errlen);
	e = e ?: check_num(j, "status_hi", &hi, err, errlen);
	e = e ?: check_num(j, "backoff_ms", &n.backoff_ms, err, errlen);
	e = e ?: check_num(j, "backoff_max_ms", &n.backoff_max_ms, err, errlen);
	e = e ?: check_num(j, "slow_start_ms", &n.slow_start_ms, err, errlen);
	e = e ?: check_num(j, "outlier_rate", &n.outlier_rate, err, errlen);
	e = e ?: check_str(j, "path", n.path, err, errlen);
	e = e ?: check_str(j, "host", n.host, err, errlen);
	e = e ?: check_str(j, "payload", n.payload, err, errlen);
	e = e ?: check_bool(j, "outlier", &n.outlier, err, errlen);
	e = e ?: check_bool(j, "tunnel", &n.tunnel, err, errlen);
	if (e)
		return e;
	/* The tunnel part goes with a check of the service: alone, it would say nothing of it. */
	if (n.tunnel && n.kind == XLB_CHECK_NONE) {
		snprintf(err, errlen,
			 "the tunnel check goes with a health check (kind tcp, http or udp), "
			 "which it adds to");
		return -EINVAL;
	}
	if (n.outlier && n.kind == XLB_CHECK_NONE) {
		snprintf(err, errlen,
			 "outlier detection needs a health check (kind tcp, http or udp) "
			 "to bring the backend back");
		return -EINVAL;
	}
	n.port = port;
	n.status_lo = lo;
	n.status_hi = hi;
	/* An interval given without a timeout brings along a timeout that was the automatic one
	 * of the old interval, or that would no longer be shorter than the new one: it becomes the
	 * automatic one of the new interval (docs/control.md). So `interval 200ms` works with the
	 * default timeout (100 ms then), and a later `interval 5s` gives 500 ms again. */
	if (json_object_get(j, "interval_ms") && !json_object_get(j, "timeout_ms") &&
	    (c->timeout_ms == xlbd_check_auto_timeout(c->interval_ms) ||
	     n.timeout_ms >= n.interval_ms))
		n.timeout_ms = xlbd_check_auto_timeout(n.interval_ms);
	if (n.timeout_ms >= n.interval_ms) {
		snprintf(err, errlen,
			 "check timeout (%u ms) must be shorter than its interval (%u ms)",
			 n.timeout_ms, n.interval_ms);
		return -EINVAL;
	}
	if (n.status_lo > n.status_hi) {
		snprintf(err, errlen, "check status range %u-%u is empty", n.status_lo,
			 n.status_hi);
		return -EINVAL;
	}
	if (n.backoff_ms > n.backoff_max_ms) {
		snprintf(err, errlen, "check backoff (%u ms) exceeds backoff_max (%u ms)",
			 n.backoff_ms, n.backoff_max_ms);
		return -EINVAL;
	}
	if (n.path[0] != '/') {
		snprintf(err, errlen, "check path must start with /");
		return -EINVAL;
	}
	*c = n;
	return 0;
}

json_t *xlbd_config_to_json(const struct xlbd_config *c)
{
	json_t *root = json_object(), *vips = json_array();
	char s[XLB_ADDRSTRLEN];

	json_object_set_new(root, "version", json_integer(XLBD_STATE_VERSION));
	json_object_set_new(root, "hash_seed", json_integer(c->hash_seed));
	if (c->drained) /* written only when set: a node in service keeps its file as it was */
		json_object_set_new(root, "drained", json_true());
	for (size_t i = 0; i < c->nvips; i++) {
		const struct xlbd_vip *v = &c->vips[i];
		json_t *jv = json_object(), *bes = json_array();

		xlb_format_vip(&v->key, s, sizeof(s));
		json_object_set_new(jv, "vip", json_string(s));
		json_object_set_new(jv, "id", json_integer(v->id));
		json_object_set_new(jv, "sched", json_string(xlb_name(&xlb_sched_names, v->sched)));
		json_object_set_new(jv, "fwd", json_string(xlb_name(&xlb_fwd_names, v->fwd)));
		if (v->hash_dport)
			json_object_set_new(jv, "hash_dport", json_true());
		json_object_set_new(jv, "check", xlbd_check_to_json(&v->check));
		for (size_t j = 0; j < v->nbe; j++) {
			const struct xlbd_backend *b = &v->be[j];
			json_t *jb = json_object();

			xlb_format_addr(&b->addr, b->family, s, sizeof(s));
			json_object_set_new(jb, "address", json_string(s));
			json_object_set_new(jb, "id", json_integer(b->id));
			json_object_set_new(jb, "weight", json_integer(b->weight));
			json_object_set_new(jb, "admin",
					    json_string(xlb_name(&xlb_admin_names, b->admin)));
			if (b->has_check)
				json_object_set_new(jb, "check", xlbd_check_to_json(&b->check));
			json_array_append_new(bes, jb);
		}
		json_object_set_new(jv, "backends", bes);
		json_array_append_new(vips, jv);
	}
	json_object_set_new(root, "vips", vips);
	return root;
}

/* The state file's one rule, as for requests: only known members (a typo such as "wieght" must
 * not be silently dropped), each of its type (the get_* readers). */
static int only_members(json_t *obj, const char *const *known, const char *where, char *err,
			size_t errlen)
{
	const char *name;
	json_t *v;

	json_object_foreach(obj, name, v) {
		int ok = 0;

		for (int i = 0; known[i] && !ok; i++)
			ok = !strcmp(known[i], name);
		if (!ok) {
			snprintf(err, errlen, "%s: unknown member \"%s\"", where, name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Reads an integer member in [lo, hi]. */
static int get_uint(json_t *obj, const char *name, json_int_t lo, json_int_t hi, __u32 *out,
		    const char *where, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "%s: \"%s\" must be an integer in %lld..%lld", where, name,
			 (long long)lo, (long long)hi);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A string member, def when absent (and def not NULL); -EINVAL naming it when missing, of
 * another type or holding a NUL byte. */
static int get_str(json_t *obj, const char *name, const char *def, const char **out,
		   const char *where, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, name);

	*out = def;
	if (!v && def)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s: \"%s\" %s", where, name,
			 v ? "must be a string" : "missing");
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

/* A true/false member, false when absent. */
static int get_bool(json_t *obj, const char *name, bool *out, const char *where, char *err,
		    size_t errlen)
{
	json_t *v = json_object_get(obj, name);

	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "%s: \"%s\" must be true or false", where, name);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

static int backend_from_json(json_t *jb, struct xlbd_backend *b, const char *vs,
			     const struct xlbd_check *vcheck, bool need_id, char *err,
			     size_t errlen)
{
	static const char *const known[] = {"address", "id", "weight", "admin", "check", NULL};
	char where[128], perr[160];
	const char *s, *admin;
	int e;

	snprintf(where, sizeof(where), "vip %s: backend", vs);
	if (!json_is_object(jb)) {
		snprintf(err, errlen, "%s: not an object", where);
		return -EINVAL;
	}
	e = only_members(jb, known, where, err, errlen);
	e = e ?: get_str(jb, "address", NULL, &s, where, err, errlen);
	if (e)
		return e;
	if (xlb_parse_addr(s, &b->addr, &b->family, perr, sizeof(perr))) {
		snprintf(err, errlen, "%s: %s", where, perr);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "vip %s: backend %s", vs, s);
	e = !need_id && !json_object_get(jb, "id")
		    ? 0
		    : get_uint(jb, "id", 1, XLB_MAX_BACKENDS - 1, &b->id, where, err, errlen);
	b->weight = 1; /* a file to apply may leave it out */
	if (!e && (need_id || json_object_get(jb, "weight")))
		e = get_uint(jb, "weight", XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &b->weight, where, err,
			     errlen);
	e = e ?: get_str(jb, "admin", "up", &admin, where, err, errlen);
	if (e)
		return e;
	if (json_object_get(jb, "check")) {
		char cerr[160];

		b->check = *vcheck;
		e = xlbd_check_from_json(json_object_get(jb, "check"), &b->check, cerr,
					 sizeof(cerr));
		if (e) {
			snprintf(err, errlen, "%s: %s", where, cerr);
			return e;
		}
		b->has_check = true;
	}
	e = xlb_name_value(&xlb_admin_names, admin);
	if (e < 0) {
		snprintf(err, errlen, "%s: \"admin\" must be \"up\", \"drain\" or \"disabled\"",
			 where);
		return -EINVAL;
	}
	b->admin = e;
	return 0;
}

static int vip_from_json(json_t *jv, struct xlbd_vip *v, bool need_id, char *err, size_t errlen)
{
	static const char *const known[] = {"vip",	  "id",	   "sched",    "fwd",
					    "hash_dport", "check", "backends", NULL};
	char perr[160], where[96];
	const char *sched, *fwd, *vs;
	json_t *bes, *jb;
	size_t j;
	int e;

	if (!json_is_object(jv)) {
		snprintf(err, errlen, "vips: entry is not an object");
		return -EINVAL;
	}
	e = get_str(jv, "vip", NULL, &vs, "vips", err, errlen);
	if (e)
		return e;
	if (xlb_parse_vip(vs, &v->key, perr, sizeof(perr))) {
		snprintf(err, errlen, "vips: %s", perr);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "vip %s", vs);
	e = only_members(jv, known, where, err, errlen);
	if (!e && (need_id || json_object_get(jv, "id")))
		e = get_uint(jv, "id", 1, XLB_MAX_VIPS - 1, &v->id, where, err, errlen);
	e = e ?: get_str(jv, "sched", "maglev", &sched, where, err, errlen);
	e = e ?: get_str(jv, "fwd", "dsr-l2", &fwd, where, err, errlen);
	e = e ?: get_bool(jv, "hash_dport", &v->hash_dport, where, err, errlen);
	if (e)
		return e;
	e = xlb_name_value(&xlb_sched_names, sched);
	if (e < 0) {
		snprintf(err, errlen, "%s: unknown scheduler \"%s\"", where, sched);
		return -EINVAL;
	}
	v->sched = e;
	e = xlb_name_value(&xlb_fwd_names, fwd);
	if (e < 0) {
		snprintf(err, errlen, "%s: unknown forwarding mode \"%s\"", where, fwd);
		return -EINVAL;
	}
	v->fwd = e;
	xlbd_check_defaults(&v->check);
	if (json_object_get(jv, "check")) {
		char cerr[160];

		e = xlbd_check_from_json(json_object_get(jv, "check"), &v->check, cerr,
					 sizeof(cerr));
		if (e) {
			snprintf(err, errlen, "%s: %s", where, cerr);
			return e;
		}
	}
	bes = json_object_get(jv, "backends");
	if (bes && !json_is_array(bes)) {
		snprintf(err, errlen, "%s: \"backends\" must be an array", where);
		return -EINVAL;
	}
	if (!json_array_size(bes))
		return 0;
	if (json_array_size(bes) > XLB_MAX_VIP_BACKENDS) {
		snprintf(err, errlen, "%s: more than %d backends", where, XLB_MAX_VIP_BACKENDS);
		return -EINVAL;
	}
	v->be = calloc(json_array_size(bes), sizeof(*v->be));
	if (!v->be)
		return -ENOMEM;
	json_array_foreach(bes, j, jb) {
		e = backend_from_json(jb, &v->be[j], vs, &v->check, need_id, err, errlen);
		if (e)
			return e;
		v->nbe++;
	}
	return 0;
}

int xlbd_config_from_json(json_t *j, struct xlbd_config *c, char *err, size_t errlen)
{
	return xlbd_config_parse(j, c, true, NULL, err, errlen);
}

int xlbd_config_parse(json_t *j, struct xlbd_config *c, bool ids, bool *seed_given, char *err,
		      size_t errlen)
{
	static const char *const known[] = {"version", "hash_seed", "drained", "vips", NULL};
	json_t *vips, *jv;
	size_t i, nbe = 0;
	__u32 version;
	int e;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "top level is not an object");
		return -EINVAL;
	}
	e = only_members(j, known, "state", err, errlen);
	e = e
		    ?: get_uint(j, "version", XLBD_STATE_VERSION, XLBD_STATE_VERSION, &version,
				"state", err, errlen);
	if (seed_given)
		*seed_given = json_object_get(j, "hash_seed") != NULL;
	if (!e && (ids || json_object_get(j, "hash_seed")))
		e = get_uint(j, "hash_seed", 0, 0xffffffffLL, &c->hash_seed, "state", err, errlen);
	/* Maintenance is this node's, not the cluster's: a state file has it, a config apply
	 * file does not (node drain / undrain set it). */
	if (!e && !ids && json_object_get(j, "drained")) {
		snprintf(err, errlen,
			 "drained: a node's own state, not configuration: use `xlbctl "
			 "node drain` or `node undrain`");
		e = -EINVAL;
	}
	e = e ?: get_bool(j, "drained", &c->drained, "state", err, errlen);
	if (e)
		return e;
	vips = json_object_get(j, "vips");
	if (vips && !json_is_array(vips)) {
		snprintf(err, errlen, "\"vips\" must be an array");
		return -EINVAL;
	}
	if (json_array_size(vips) > XLB_MAX_VIPS - 1) {
		snprintf(err, errlen, "\"vips\": more than %d", XLB_MAX_VIPS - 1);
		return -EINVAL;
	}
	/* The whole file's backends, before any is read: 511 VIPs of 1,024 small backend objects
	 * fit in a 16 MiB upload (12.9 MB) and cost 221 MiB more as parsed backends (468 bytes
	 * each, measured), for a file that the id limit refuses anyway. */
	json_array_foreach(vips, i, jv) {
		json_t *bes = json_object_get(jv, "backends");

		nbe += json_is_array(bes) ? json_array_size(bes) : 0;
	}
	if (nbe > XLB_MAX_BACKENDS - 1) {
		snprintf(err, errlen, "\"vips\": %zu backends in all, more than %d", nbe,
			 XLB_MAX_BACKENDS - 1);
		return -EINVAL;
	}
	if (json_array_size(vips)) {
		c->vips = calloc(json_array_size(vips), sizeof(*c->vips));
		if (!c->vips)
			return -ENOMEM;
	}
	json_array_foreach(vips, i, jv) {
		c->nvips++;
		e = vip_from_json(jv, &c->vips[i], ids, err, errlen);
		if (e)
			goto fail;
	}
	if (!ids)
		return 0; /* validated once the ids are given (xlbd_config_merge) */
	e = xlbd_config_validate(c, err, errlen);
	if (!e)
		return 0;
fail:
	xlbd_config_free(c);
	return e;
}

int xlbd_config_load(const char *path, struct xlbd_config *c, char *err, size_t errlen)
{
	char msg[256];
	json_error_t je;
	json_t *j;
	int e;

	if (access(path, F_OK) && errno == ENOENT)
		return -ENOENT;
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "state file %s: line %d column %d: %s", path, je.line,
			 je.column, je.text);
		return -EINVAL;
	}
	e = xlbd_config_from_json(j, c, msg, sizeof(msg));
	json_decref(j);
	if (e)
		snprintf(err, errlen, "state file %s: %s", path, msg);
	return e;
}

/* The directory part of path ("." for a bare name), in buf. */
static const char *dir_of(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s", path);
	return dirname(buf);
}

int xlbd_config_check_dir(const char *path, char *err, size_t errlen)
{
	char buf[4096];
	const char *dir = dir_of(path, buf, sizeof(buf));
	struct stat st;

	if (stat(dir, &st)) {
		int e = -errno;

		snprintf(err, errlen, "state file %s: cannot stat its directory %s: %s", path, dir,
			 strerror(-e));
		return e;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen,
			 "state file %s: its directory %s is writable by other users (mode %04o): "
			 "they could replace the state; chmod go-w %s",
			 path, dir, (unsigned)(st.st_mode & 07777), dir);
		return -EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "state file %s: its directory %s belongs to uid %u, not to root or us: "
			 "its owner could replace the state; use a directory of root's",
			 path, dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	return 0;
}

/* A new temp file next to path, only ours: a unique name, O_EXCL (no existing file, no
 * symlink followed), mode 0600. Its name in tmp. */
static int open_temp(const char *path, char *tmp, size_t len)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[8];
		char sfx[sizeof(r) + 1];
		int fd;

		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			return -errno ?: -EIO;
		for (size_t i = 0; i < sizeof(r); i++)
			sfx[i] = digits[r[i] % (sizeof(digits) - 1)];
		sfx[sizeof(r)] = '\0';
		if ((size_t)snprintf(tmp, len, "%s.tmp.%s", path, sfx) >= len)
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int xlbd_config_save(const char *path, const struct xlbd_config *c, char *err, size_t errlen)
{
	char tmp[4096], dirbuf[4096];
	json_t *j;
	int fd, e = 0, dfd;
	char *text;

	e = xlbd_config_check_dir(path, err, errlen);
	if (e)
		return e;
	j = xlbd_config_to_json(c);
	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	fd = open_temp(path, tmp, sizeof(tmp));
	if (fd < 0) {
		e = fd;
		snprintf(err, errlen, "cannot create a temp file for state file %s: %s", path,
			 strerror(-e));
		goto out;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? -errno : -EIO;
			break;
		}
		off += n;
	}
	if (!e && (write(fd, "\n", 1) != 1 || fsync(fd)))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (!e && rename(tmp, path))
		e = -errno;
	if (e) {
		snprintf(err, errlen, "cannot write state file %s: %s", path, strerror(-e));
		unlink(tmp);
		goto out;
	}
	/* Make the rename itself durable. */
	dfd = open(dir_of(path, dirbuf, sizeof(dirbuf)), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(text);
	return e;
}

/* Ids cur uses or next was given so far: a new one is none of them. */
struct id_pool {
	unsigned char vip[XLB_MAX_VIPS];
	unsigned char be[XLB_MAX_BACKENDS];
};

static __u32 pool_take(unsigned char *used, __u32 n)
{
	for (__u32 id = 1; id < n; id++)
		if (!used[id]) {
			used[id] = 1;
			return id;
		}
	return 0;
}

static int add_change(json_t *changes, const char *change, const char *vip, const char *addr,
		      const char *what)
{
	json_t *c = json_pack("{s:s}", "change", change);

	if (!c)
		return -ENOMEM;
	if (vip)
		json_object_set_new(c, "vip", json_string(vip));
	if (addr)
		json_object_set_new(c, "address", json_string(addr));
	if (what && *what)
		json_object_set_new(c, "what", json_string(what));
	return json_array_append_new(changes, c) ? -ENOMEM : 0;
}

/* "name a -> b" appended to buf, after "; " if it holds something; "name" alone without
 * from and to. */
static void what_add(char *buf, size_t len, const char *name, const char *from, const char *to)
{
	size_t off = strlen(buf);

	if (from)
		snprintf(buf + off, len - off, "%s%s %s -> %s", off ? "; " : "", name, from, to);
	else
		snprintf(buf + off, len - off, "%s%s", off ? "; " : "", name);
}

static bool same_check(const struct xlbd_check *a, const struct xlbd_check *b)
{
	json_t *ja = xlbd_check_to_json(a), *jb = xlbd_check_to_json(b);
	bool same = json_equal(ja, jb);

	json_decref(ja);
	json_decref(jb);
	return same;
}

static void vip_what(const struct xlbd_vip *o, const struct xlbd_vip *n, char *w, size_t len)
{
	w[0] = '\0';
	if (o->sched != n->sched)
		what_add(w, len, "sched", xlb_name(&xlb_sched_names, o->sched),
			 xlb_name(&xlb_sched_names, n->sched));
	if (o->hash_dport != n->hash_dport)
		what_add(w, len, "hash-dport", o->hash_dport ? "on" : "off",
			 n->hash_dport ? "on" : "off");
	if (o->fwd != n->fwd)
		what_add(w, len, "fwd", xlb_name(&xlb_fwd_names, o->fwd),
			 xlb_name(&xlb_fwd_names, n->fwd));
	if (!same_check(&o->check, &n->check))
		what_add(w, len, "check settings", NULL, NULL);
}

static void backend_what(const struct xlbd_backend *o, const struct xlbd_backend *n, char *w,
			 size_t len)
{
	char a[16], b[16];

	w[0] = '\0';
	if (o->weight != n->weight) {
		snprintf(a, sizeof(a), "%u", o->weight);
		snprintf(b, sizeof(b), "%u", n->weight);
		what_add(w, len, "weight", a, b);
	}
	if (o->admin != n->admin)
		what_add(w, len, "admin", xlb_name(&xlb_admin_names, o->admin),
			 xlb_name(&xlb_admin_names, n->admin));
	if (o->has_check != n->has_check || (n->has_check && !same_check(&o->check, &n->check)))
		what_add(w, len, "check settings", NULL, NULL);
}

/* The backends both have come in the same order in both. */
static bool same_order(struct xlbd_vip *o, struct xlbd_vip *n)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < o->nbe && !xlbd_vip_find_backend(n, &o->be[i].addr, o->be[i].family))
			i++;
		while (j < n->nbe && !xlbd_vip_find_backend(o, &n->be[j].addr, n->be[j].family))
			j++;
		if (i == o->nbe || j == n->nbe)
			return i == o->nbe && j == n->nbe;
		if (o->be[i].family != n->be[j].family ||
		    memcmp(&o->be[i].addr, &n->be[j].addr, sizeof(o->be[i].addr)))
			return false;
		i++;
		j++;
	}
}

int xlbd_config_merge(const struct xlbd_config *cur, struct xlbd_config *next, bool seed_given,
		      json_t *changes, char *err, size_t errlen)
{
	static struct id_pool pool;
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], what[256], a[16], b[16];
	struct xlbd_config *c = (struct xlbd_config *)cur; /* the lookups take no const */
	int e = 0;

	memset(&pool, 0, sizeof(pool));
	for (size_t i = 0; i < cur->nvips; i++) {
		pool.vip[cur->vips[i].id] = 1;
		for (size_t j = 0; j < cur->vips[i].nbe; j++)
			pool.be[cur->vips[i].be[j].id] = 1;
	}
	if (!seed_given)
		next->hash_seed = cur->hash_seed;
	next->drained = cur->drained; /* the node's own: an applied configuration keeps it */
	if (next->hash_seed != cur->hash_seed) {
		snprintf(a, sizeof(a), "%u", cur->hash_seed);
		snprintf(b, sizeof(b), "%u", next->hash_seed);
		what[0] = '\0';
		what_add(what, sizeof(what), "hash-seed", a, b);
		e = add_change(changes, "seed changed", NULL, NULL, what);
	}
	for (size_t i = 0; !e && i < cur->nvips; i++) {
		if (xlbd_config_find_vip(next, &cur->vips[i].key))
			continue;
		xlb_format_vip(&cur->vips[i].key, vs, sizeof(vs));
		e = add_change(changes, "vip removed", vs, NULL, NULL);
	}
	for (size_t i = 0; !e && i < next->nvips; i++) {
		struct xlbd_vip *n = &next->vips[i], *o = xlbd_config_find_vip(c, &n->key);

		xlb_format_vip(&n->key, vs, sizeof(vs));
		for (size_t k = 0; k < i; k++)
			if (!memcmp(&next->vips[k].key, &n->key, sizeof(n->key))) {
				snprintf(err, errlen, "vip %s is defined twice", vs);
				return -EINVAL;
			}
		n->id = o ? o->id : pool_take(pool.vip, XLB_MAX_VIPS);
		if (!n->id) {
			snprintf(err, errlen, "vip %s: no free vip id (limit %d)", vs,
				 XLB_MAX_VIPS - 1);
			return -ENOSPC;
		}
		if (!o) {
			e = add_change(changes, "vip added", vs, NULL, NULL);
		} else {
			vip_what(o, n, what, sizeof(what));
			/* Rings are filled in member order: an order change changes choices. */
			if (!same_order(o, n))
				what_add(what, sizeof(what), "backend order", NULL, NULL);
			if (what[0])
				e = add_change(changes, "vip changed", vs, NULL, what);
		}
		for (size_t j = 0; !e && o && j < o->nbe; j++) {
			if (xlbd_vip_find_backend(n, &o->be[j].addr, o->be[j].family))
				continue;
			xlb_format_addr(&o->be[j].addr, o->be[j].family, as, sizeof(as));
			e = add_change(changes, "backend removed", vs, as, NULL);
		}
		for (size_t j = 0; !e && j < n->nbe; j++) {
			struct xlbd_backend *nb = &n->be[j];
			struct xlbd_backend *ob =
				o ? xlbd_vip_find_backend(o, &nb->addr, nb->family) : NULL;

			xlb_format_addr(&nb->addr, nb->family, as, sizeof(as));
			for (size_t k = 0; k < j; k++)
				if (n->be[k].family == nb->family &&
				    !memcmp(&n->be[k].addr, &nb->addr, sizeof(nb->addr))) {
					snprintf(err, errlen, "backend %s is in vip %s twice", as,
						 vs);
					return -EINVAL;
				}
			nb->id = ob ? ob->id : pool_take(pool.be, XLB_MAX_BACKENDS);
			if (!nb->id) {
				snprintf(err, errlen,
					 "backend %s of vip %s: no free backend id "
					 "(limit %d)",
					 as, vs, XLB_MAX_BACKENDS - 1);
				return -ENOSPC;
			}
			if (!ob) {
				snprintf(what, sizeof(what), "weight %u admin %s", nb->weight,
					 xlb_name(&xlb_admin_names, nb->admin));
				e = add_change(changes, "backend added", vs, as, what);
				continue;
			}
			backend_what(ob, nb, what, sizeof(what));
			if (what[0])
				e = add_change(changes, "backend changed", vs, as, what);
		}
	}
	if (e) {
		snprintf(err, errlen, "out of memory");
		return e;
	}
	return xlbd_config_validate(next, err, errlen);
}
