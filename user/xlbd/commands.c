/* commands.c - the control protocol's commands (docs/control.md): validate, persist, apply. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "text.h"
#include "xlbd.h"

#define ERRLEN 256

static json_t *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *error_reply(const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Cut where a character is cut (here, or in a message made elsewhere and cut at its end):
	 * json_pack refuses invalid UTF-8, and every request gets its answer. What the message
	 * quotes of the request is valid: jansson checked it. */
	msg[xlb_utf8_cut(msg, strlen(msg))] = '\0';
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *ok_reply(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* A member a command takes: its name and the JSON types it may have (ARG_*, or-ed). */
enum {
	ARG_STR = 1 << JSON_STRING,
	ARG_OBJ = 1 << JSON_OBJECT,
	ARG_INT = 1 << JSON_INTEGER,
	ARG_BOOL = 1 << JSON_TRUE | 1 << JSON_FALSE,
	ARG_NULL = 1 << JSON_NULL,
};

struct member {
	const char *name;
	unsigned int types;
};

static const char *type_name(unsigned int types)
{
	switch (types) {
	case ARG_STR:
		return "a string";
	case ARG_OBJ:
		return "an object";
	case ARG_INT:
		return "an integer";
	case ARG_BOOL:
		return "true or false";
	case ARG_OBJ | ARG_NULL:
		return "an object or null";
	}
	return "something else";
}

static const char *json_type_name(const json_t *v)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
		[JSON_REAL] = "a number",    [JSON_TRUE] = "true",
		[JSON_FALSE] = "false",	     [JSON_NULL] = "null",
	};

	return names[json_typeof(v)];
}

/*
 * The one rule for a request's members: only the listed names, each of its type; strings
 * without NUL bytes (C strings downstream would silently end there). A typo or a wrong type
 * must not be silently ignored.
 */
static int check_args(json_t *req, const struct member *allowed, char *err)
{
	const char *name;
	json_t *v;

	json_object_foreach(req, name, v) {
		const struct member *m = NULL;

		if (!strcmp(name, "cmd"))
			continue;
		for (int i = 0; !m && allowed[i].name; i++)
			if (!strcmp(name, allowed[i].name))
				m = &allowed[i];
		if (!m) {
			snprintf(err, ERRLEN, "unknown argument \"%s\"", name);
			return -EINVAL;
		}
		if (!(m->types & 1u << json_typeof(v))) {
			snprintf(err, ERRLEN, "\"%s\" must be %s, not %s", name,
				 type_name(m->types), json_type_name(v));
			return -EINVAL;
		}
		if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, ERRLEN, "\"%s\" must not contain a NUL byte", name);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *arg_str(json_t *req, const char *name)
{
	json_t *v = json_object_get(req, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static struct xlbd_vip *find_vip_arg(struct xlbd_config *c, json_t *req, char *err)
{
	const char *s = arg_str(req, "vip");
	struct xlb_vip_key key;
	char perr[ERRLEN - 32];
	struct xlbd_vip *v;

	if (!s) {
		snprintf(err, ERRLEN, "missing \"vip\"");
		return NULL;
	}
	if (xlb_parse_vip(s, &key, perr, sizeof(perr))) {
		snprintf(err, ERRLEN, "%s", perr);
		return NULL;
	}
	v = xlbd_config_find_vip(c, &key);
	if (!v)
		snprintf(err, ERRLEN, "unknown vip %s (see `xlbctl vip show`)", s);
	return v;
}

static json_t *vip_json(const struct xlbd_vip *v)
{
	char s[XLB_ADDRSTRLEN];

	xlb_format_vip(&v->key, s, sizeof(s));
	return json_pack("{s:s, s:i, s:s, s:b, s:s, s:i, s:o}", "vip", s, "id", (json_int_t)v->id,
			 "sched", xlb_name(&xlb_sched_names, v->sched), "hash_dport", v->hash_dport,
			 "fwd", xlb_name(&xlb_fwd_names, v->fwd), "backends", (json_int_t)v->nbe,
			 "check", xlbd_check_to_json(&v->check));
}

static json_t *backend_json(struct xlbd *d, const struct xlbd_vip *v, const struct xlbd_backend *b)
{
	char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN], mac[18];
	struct xlb_traffic t = {0};
	const char *why;
	__u8 st = xlbd_view_state(&d->view, v, b, &why);
	const struct xlbd_check_state *rt = xlbd_health_get(&d->health, b->id);
	const __u8 *m = xlbd_macs_get(&d->macs, b->id);
	json_t *j;

	xlb_format_vip(&v->key, vs, sizeof(vs));
	xlb_format_addr(&b->addr, b->family, as, sizeof(as));
	if (m)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
	xlb_dp_read_backend_traffic(d->dp, b->id, &t);
	j = json_pack("{s:s, s:s, s:i, s:i, s:s, s:o, s:s, s:I, s:I, s:I}", "vip", vs, "address",
		      as, "id", (json_int_t)b->id, "weight", (json_int_t)b->weight, "admin",
		      xlb_name(&xlb_admin_names, b->admin), "mac",
		      m ? json_string(mac) : json_null(), "state",
		      xlb_name(&xlb_be_state_names, st), "packets", (json_int_t)t.packets, "bytes",
		      (json_int_t)t.bytes, "new_flows", (json_int_t)t.new_flows);
	if (why)
		json_object_set_new(j, "reason", json_string(why));
	__s64 active = 0;
	xlb_dp_read_backend_active(d->dp, b->id, &active);
	json_object_set_new(j, "active_flows", json_integer(active > 0 ? active : 0));
	json_object_set_new(j, "effective_weight",
			    json_integer(st == XLB_BE_UP ? xlbd_view_weight(&d->view, v, b) : 0));
	if (b->has_check)
		json_object_set_new(j, "check", xlbd_check_to_json(&b->check));
	if (xlbd_backend_check(v, b)->kind != XLB_CHECK_NONE && rt->active) {
		__u64 now = xlb_now_ms();

		json_object_set_new(j, "circuit", json_string(xlbd_circuit_name(rt->br.state)));
		json_object_set_new(j, "circuit_for_ms", json_integer(now - rt->br.since_ms));
		json_object_set_new(j, "health",
				    json_string(!rt->checked  ? "unknown"
						: rt->last_ok ? "pass"
							      : "fail"));
		if (rt->checked)
			json_object_set_new(j, "last_check",
					    json_pack("{s:b, s:s, s:I, s:I}", "ok", rt->last_ok,
						      "error", rt->last_err, "latency_us",
						      (json_int_t)rt->last_latency_us, "age_ms",
						      (json_int_t)(now - rt->last_ms)));
	}
	return j;
}

/* Who sent a request, for the logs. */
struct caller {
	unsigned int uid;
	int pid;
};

/*
 * A change that turns tunnel checks on (a VIP has them in next, not in cur) while xlbd may not
 * open raw sockets is refused: every one of them would fail and take its backend down
 * (docs/xlbd.md, "The tunnel check"). The raw socket that finds out is opened only for a
 * change that turns one on, once for all its VIPs; other changes open none.
 */
static int tunnel_permitted(struct xlbd_config *cur, const struct xlbd_config *next, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < next->nvips; i++) {
		const struct xlbd_vip *v = &next->vips[i], *o;
		char vs[XLB_ADDRSTRLEN];

		if (!xlbd_vip_tunnel_checked(v))
			continue;
		o = xlbd_config_find_vip(cur, &v->key);
		if (o && xlbd_vip_tunnel_checked(o))
			continue;
		if (xlbd_tunprobe_permitted())
			return 0;
		xlb_format_vip(&v->key, vs, sizeof(vs));
		snprintf(err, errlen,
			 "vip %s: the tunnel check needs raw sockets (CAP_NET_RAW), which xlbd "
			 "does not have: grant it (docs/xlbd.md, \"The tunnel check\") or leave "
			 "tunnel off",
			 vs);
		return -EPERM;
	}
	return 0;
}

/*
 * The one way a change happens: the caller edited a copy (next); it is validated whole, written
 * to the state file, then applied. Any failure leaves file, maps and memory as they were.
 */
static json_t *commit(struct xlbd *d, struct xlbd_config *next, json_t *result, const char *what,
		      struct caller who)
{
	struct xlbd_config old = d->cfg;
	char err[ERRLEN], q[ERRLEN + 8];
	bool saved;
	int e;

	e = xlbd_config_validate(next, err, sizeof(err));
	if (!e)
		e = tunnel_permitted(&d->cfg, next, err, sizeof(err));
	if (!e)
		e = xlbd_config_save(d->state_path, next, err, sizeof(err));
	if (e) {
		xlbd_config_free(next);
		json_decref(result);
		return error_reply("%s", err);
	}
	d->cfg = *next;
	xlbd_health_sync(&d->health, &old, false); /* before apply: new backends' circuits exist */
	xlbd_macs_learn(&d->macs); /* before apply too: one table publish per change, not two */
	e = xlbd_apply(d, &old, false);
	if (e) {
		/* Put everything back: file, memory, maps. */
		pr_err("cannot apply change to the maps: reverting", "change=%s err=\"%s\"",
		       xlb_log_quote(what, q, sizeof(q)), strerror(-e));
		d->cfg = old;
		/* The file already holds the change: if it cannot be put back, a restart would
		 * apply what was refused. Say so, loudly, in the log and the answer. */
		saved = xlbd_config_save(d->state_path, &old, err, sizeof(err)) == 0;
		if (!saved)
			pr_err("cannot restore the state file: it holds the refused change until "
			       "the "
			       "next accepted one",
			       "state=%s err=%s", d->state_path, xlb_log_quote(err, q, sizeof(q)));
		xlbd_health_sync(&d->health, next, false);
		/* The maps may hold part of the change (a new seed written, its tables not swapped
		 * in): until an apply of the configuration as it was goes through, retried. */
		if (xlbd_apply(d, next, false))
			xlbd_apply_soon(d);
		xlbd_config_free(next);
		json_decref(result);
		return error_reply("cannot apply the change to the data plane: %s%s", strerror(-e),
				   saved ? ""
					 : "; the state file could not be restored and holds it");
	}
	xlbd_config_free(&old);
	d->commands.changes++;
	xlbd_announce_soon(d); /* a VIP or backend changed: its address's route in this turn */
	pr_info("config change", "change=%s uid=%u pid=%d", xlb_log_quote(what, q, sizeof(q)),
		who.uid, who.pid);
	if (!result)
		result = json_object();
	json_object_set_new(result, "ok", json_true());
	return result;
}

/* "unknown scheduler "x" (known: maglev, source-hash, rr, wrr, least-conn)" */
static json_t *unknown_name(const char *what, const char *given, const struct xlb_names *t)
{
	char known[128];

	return error_reply("unknown %s \"%s\" (known: %s)", what, given,
			   xlb_names_join(t, NULL, known, sizeof(known)));
}

static json_t *vip_add_set(struct xlbd *d, json_t *req, bool add, struct caller who)
{
	const char *s = arg_str(req, "vip"), *sched = arg_str(req, "sched"),
		   *fwd = arg_str(req, "fwd");
	json_t *check = json_object_get(req, "check");
	json_t *hash_dport = json_object_get(req, "hash_dport");
	int sched_v = sched ? xlb_name_value(&xlb_sched_names, sched) : 0;
	int fwd_v = fwd ? xlb_name_value(&xlb_fwd_names, fwd) : 0;
	char err[ERRLEN], what[ERRLEN];
	struct xlbd_config next;
	struct xlb_vip_key key;
	struct xlbd_vip *v;

	if (!s)
		return error_reply("missing \"vip\"");
	if (xlb_parse_vip(s, &key, err, sizeof(err)))
		return error_reply("%s", err);
	if (xlbd_config_clone(&d->cfg, &next))
		return error_reply("out of memory");
	v = xlbd_config_find_vip(&next, &key);
	if (add) {
		struct xlbd_vip *grown;

		if (v) {
			xlbd_config_free(&next);
			return error_reply("vip %s already exists", s);
		}
		grown = realloc(next.vips, (next.nvips + 1) * sizeof(*grown));
		if (!grown) {
			xlbd_config_free(&next);
			return error_reply("out of memory");
		}
		next.vips = grown;
		v = &next.vips[next.nvips++];
		memset(v, 0, sizeof(*v));
		v->key = key;
		xlbd_check_defaults(&v->check);
		v->id = xlbd_config_new_vip_id(&next);
		if (!v->id) {
			xlbd_config_free(&next);
			return error_reply("no room for another vip (limit %d)", XLB_MAX_VIPS - 1);
		}
	} else if (!v) {
		xlbd_config_free(&next);
		return error_reply("unknown vip %s (see `xlbctl vip show`)", s);
	} else if (!sched && !fwd && !check && !hash_dport) {
		xlbd_config_free(&next);
		return error_reply("nothing to set: give sched, fwd, hash_dport or check");
	}
	if (hash_dport && !json_is_boolean(hash_dport)) {
		xlbd_config_free(&next);
		return error_reply("hash_dport must be true or false");
	}
	if (hash_dport)
		v->hash_dport = json_is_true(hash_dport);
	if (check && xlbd_check_from_json(check, &v->check, err, sizeof(err))) {
		xlbd_config_free(&next);
		return error_reply("%s", err);
	}
	/* The names were looked up before the copy was made: its memory is not needed to say
	 * which one was wrong. */
	if (sched_v < 0 || fwd_v < 0) {
		xlbd_config_free(&next);
		return sched_v < 0 ? unknown_name("scheduler", sched, &xlb_sched_names)
				   : unknown_name("forwarding mode", fwd, &xlb_fwd_names);
	}
	if (sched)
		v->sched = sched_v;
	if (fwd)
		v->fwd = fwd_v;
	snprintf(what, sizeof(what), "vip %s %s sched=%s fwd=%s check=%s", add ? "add" : "set", s,
		 xlb_name(&xlb_sched_names, v->sched), xlb_name(&xlb_fwd_names, v->fwd),
		 xlb_name(&xlb_check_kind_names, v->check.kind));
	return commit(d, &next, json_pack("{s:o}", "vip", vip_json(v)), what, who);
}

static json_t *do_vip_add(struct xlbd *d, json_t *req, struct caller who)
{
	return vip_add_set(d, req, true, who);
}

static json_t *do_vip_set(struct xlbd *d, json_t *req, struct caller who)
{
	return vip_add_set(d, req, false, who);
}

static json_t *do_vip_del(struct xlbd *d, json_t *req, struct caller who)
{
	struct xlbd_config next;
	char err[ERRLEN], what[ERRLEN];
	struct xlbd_vip *v;
	size_t i;

	if (xlbd_config_clone(&d->cfg, &next))
		return error_reply("out of memory");
	v = find_vip_arg(&next, req, err);
	if (!v) {
		xlbd_config_free(&next);
		return error_reply("%s", err);
	}
	i = v - next.vips;
	free(v->be);
	memmove(v, v + 1, (next.nvips - i - 1) * sizeof(*v));
	next.nvips--;
	snprintf(what, sizeof(what), "vip del %s", arg_str(req, "vip"));
	return commit(d, &next, NULL, what, who);
}

static int parse_weight(json_t *w, __u32 *out, char *err)
{
	if (!json_is_integer(w) || json_integer_value(w) < XLB_WEIGHT_MIN ||
	    json_integer_value(w) > XLB_WEIGHT_MAX) {
		snprintf(err, ERRLEN, "weight must be an integer in %d..%d", XLB_WEIGHT_MIN,
			 XLB_WEIGHT_MAX);
		return -EINVAL;
	}
	*out = json_integer_value(w);
	return 0;
}

enum backend_verb { BE_ADD, BE_SET, BE_DEL };

/* An address of this host (any interface of xlbd's namespace, the LB's included) or an IPv4
 * subnet broadcast of one (the kernel routes prefix|~mask as broadcast for prefixes up to /30,
 * whether or not the address was given a brd): packets for it never leave the LB. Asked at
 * `backend add`, when the address is new; config.c refuses the address classes that are never
 * a backend anywhere. */
static bool local_addr(const struct xlb_addr *a, __u8 family, char *err, const char *as)
{
	struct ifaddrs *ifs, *i;
	const char *what = NULL;

	if (xlb_backend_addr_problem(a, family))
		return false; /* config.c's validation names the reason */
	if (getifaddrs(&ifs))
		return false; /* unknown: the address classes were checked already */
	for (i = ifs; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr, *nm = i->ifa_netmask;

		if (!sa || sa->sa_family != (family == XLB_AF_INET ? AF_INET : AF_INET6))
			continue;
		if (family == XLB_AF_INET6) {
			if (!memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, a->bytes, 16)) {
				what = "an address";
				break;
			}
			continue;
		}
		__be32 ip = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
		__be32 mask = nm ? ((const struct sockaddr_in *)nm)->sin_addr.s_addr : 0xffffffff;

		if (ip == a->v4)
			what = "an address";
		else if (ntohl(mask) < 0xfffffffe && ((ip & mask) | ~mask) == a->v4)
			what = "the subnet broadcast address";
		else if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr &&
			 i->ifa_broadaddr->sa_family == AF_INET &&
			 ((const struct sockaddr_in *)i->ifa_broadaddr)->sin_addr.s_addr == a->v4)
			what = "the broadcast address";
		if (what)
			break;
	}
	if (what)
		snprintf(err, ERRLEN,
			 "backend %s is %s of this host's interface %s, never a backend", as, what,
			 i->ifa_name);
	freeifaddrs(ifs);
	return what;
}

static json_t *backend_change(struct xlbd *d, json_t *req, enum backend_verb verb,
			      struct caller who)
{
	static const char *const verbs[] = {[BE_ADD] = "add", [BE_SET] = "set", [BE_DEL] = "del"};
	const char *as = arg_str(req, "address"), *admin = arg_str(req, "admin");
	json_t *weight = json_object_get(req, "weight"), *check = json_object_get(req, "check");
	char err[ERRLEN], what[ERRLEN];
	struct xlbd_backend *b, nb = {0};
	struct xlbd_config next;
	struct xlbd_vip *v;
	int admin_v = admin ? xlb_name_value(&xlb_admin_names, admin) : 0;

	if (!as)
		return error_reply("missing \"address\"");
	if (xlb_parse_addr(as, &nb.addr, &nb.family, err, sizeof(err)))
		return error_reply("%s", err);
	if (verb == BE_DEL && (weight || admin || check))
		return error_reply("backend del takes no weight, admin or check");
	if (verb == BE_SET && !weight && !admin && !check)
		return error_reply("nothing to set: give weight, admin or check");
	if (xlbd_config_clone(&d->cfg, &next))
		return error_reply("out of memory");
	v = find_vip_arg(&next, req, err);
	if (!v)
		goto fail;
	b = xlbd_vip_find_backend(v, &nb.addr, nb.family);
	if (verb == BE_ADD) {
		struct xlbd_backend *grown;

		if (b) {
			snprintf(err, ERRLEN, "backend %s is already in vip %s", as,
				 arg_str(req, "vip"));
			goto fail;
		}
		if (nb.family != v->key.family &&
		    !(v->fwd == XLB_FWD_IPIP && v->key.family == XLB_AF_INET)) {
			snprintf(err, ERRLEN,
				 "backend %s and vip %s are of different address families", as,
				 arg_str(req, "vip"));
			goto fail;
		}
		if (local_addr(&nb.addr, nb.family, err, as))
			goto fail;
		grown = realloc(v->be, (v->nbe + 1) * sizeof(*grown));
		if (!grown) {
			snprintf(err, ERRLEN, "out of memory");
			goto fail;
		}
		v->be = grown;
		nb.weight = 1;
		nb.admin = XLB_ADMIN_UP;
		nb.id = xlbd_config_new_backend_id(&next);
		if (!nb.id) {
			snprintf(err, ERRLEN, "no room for another backend (limit %d)",
				 XLB_MAX_BACKENDS - 1);
			goto fail;
		}
		b = &v->be[v->nbe++];
		*b = nb;
		xlbd_macs_forget(&d->macs, b->id); /* a new id: learn its MAC */
	} else if (!b) {
		snprintf(err, ERRLEN, "backend %s is not in vip %s", as, arg_str(req, "vip"));
		goto fail;
	}
	if (weight && parse_weight(weight, &b->weight, err))
		goto fail;
	/* Its own check settings: the ones in force with these merged in; null: the VIP's again. */
	if (check && json_is_null(check)) {
		b->has_check = false;
	} else if (check) {
		struct xlbd_check c = *xlbd_backend_check(v, b);

		if (xlbd_check_from_json(check, &c, err, sizeof(err)))
			goto fail;
		b->check = c;
		b->has_check = true;
	}
	if (admin_v < 0) {
		snprintf(err, ERRLEN, "admin must be \"up\", \"drain\" or \"disabled\", not \"%s\"",
			 admin);
		goto fail;
	}
	if (admin)
		b->admin = admin_v;
	snprintf(what, sizeof(what), "backend %s %s %s weight=%u admin=%s", verbs[verb],
		 arg_str(req, "vip"), as, b->weight, xlb_name(&xlb_admin_names, b->admin));
	if (verb == BE_DEL) {
		size_t i = b - v->be;

		memmove(b, b + 1, (v->nbe - i - 1) * sizeof(*b));
		v->nbe--;
		return commit(d, &next, NULL, what, who);
	}
	/* The reply is built after the commit, from the applied state. */
	json_t *r = commit(d, &next, NULL, what, who);
	if (json_is_true(json_object_get(r, "ok"))) {
		v = xlbd_config_find_vip(&d->cfg, &v->key);
		b = v ? xlbd_vip_find_backend(v, &nb.addr, nb.family) : NULL;
		if (b)
			json_object_set_new(r, "backend", backend_json(d, v, b));
	}
	return r;
fail:
	xlbd_config_free(&next);
	return error_reply("%s", err);
}

static json_t *do_backend_add(struct xlbd *d, json_t *req, struct caller who)
{
	return backend_change(d, req, BE_ADD, who);
}

static json_t *do_backend_set(struct xlbd *d, json_t *req, struct caller who)
{
	return backend_change(d, req, BE_SET, who);
}

static json_t *do_backend_del(struct xlbd *d, json_t *req, struct caller who)
{
	return backend_change(d, req, BE_DEL, who);
}

/* vip show's record: vip_json and the fingerprint of the published table (docs/cluster.md). */
static json_t *vip_shown(struct xlbd *d, const struct xlbd_vip *v)
{
	json_t *j = vip_json(v);
	char fp[24];

	snprintf(fp, sizeof(fp), "%013llx", (unsigned long long)xlbd_apply_fingerprint(d, v->id));
	json_object_set_new(j, "fingerprint", json_string(fp));
	return j;
}

static json_t *do_vip_show(struct xlbd *d, json_t *req, struct caller who)
{
	json_t *arr = json_array();
	char err[ERRLEN];

	(void)who;
	if (arg_str(req, "vip")) {
		struct xlbd_vip *v = find_vip_arg(&d->cfg, req, err);

		if (!v) {
			json_decref(arr);
			return error_reply("%s", err);
		}
		json_array_append_new(arr, vip_shown(d, v));
	} else {
		for (size_t i = 0; i < d->cfg.nvips; i++)
			json_array_append_new(arr, vip_shown(d, &d->cfg.vips[i]));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "vips", arr);
}

static json_t *do_backend_show(struct xlbd *d, json_t *req, struct caller who)
{
	struct xlbd_vip *only = NULL;
	json_t *arr;
	char err[ERRLEN];

	(void)who;
	if (arg_str(req, "vip") && !(only = find_vip_arg(&d->cfg, req, err)))
		return error_reply("%s", err);
	arr = json_array();
	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];

		if (only && only != v)
			continue;
		for (size_t j = 0; j < v->nbe; j++)
			json_array_append_new(arr, backend_json(d, v, &v->be[j]));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "backends", arr);
}

static json_t *traffic_json(const char *vip, const char *addr, const struct xlb_traffic *t)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:I}", "vip", vip, "packets", (json_int_t)t->packets,
			      "bytes", (json_int_t)t->bytes, "new_flows", (json_int_t)t->new_flows);

	if (addr)
		json_object_set_new(j, "address", json_string(addr));
	return j;
}

static json_t *do_stats_show(struct xlbd *d, json_t *req, struct caller who)
{
	json_t *counters, *vips, *bes;
	struct xlbd_vip *only = NULL;
	__u64 c[XLB_C_MAX];
	char err[ERRLEN] = "";

	(void)who;
	if ((arg_str(req, "vip") && !(only = find_vip_arg(&d->cfg, req, err))) ||
	    xlb_dp_read_counters(d->dp, c))
		return error_reply("%s", err[0] ? err : "cannot read the counters");
	counters = json_object();
	vips = json_array();
	bes = json_array();
	for (int i = 0; i < XLB_C_MAX; i++)
		json_object_set_new(counters, xlb_counter_name(i), json_integer(c[i]));
	for (size_t i = 0; i < d->cfg.nvips; i++) {
		struct xlbd_vip *v = &d->cfg.vips[i];
		char vs[XLB_ADDRSTRLEN], as[XLB_ADDRSTRLEN];
		struct xlb_traffic t;

		if (only && only != v)
			continue;
		xlb_format_vip(&v->key, vs, sizeof(vs));
		if (!xlb_dp_read_vip_traffic(d->dp, v->id, &t))
			json_array_append_new(vips, traffic_json(vs, NULL, &t));
		for (size_t j = 0; j < v->nbe; j++) {
			xlb_format_addr(&v->be[j].addr, v->be[j].family, as, sizeof(as));
			if (!xlb_dp_read_backend_traffic(d->dp, v->be[j].id, &t))
				json_array_append_new(bes, traffic_json(vs, as, &t));
		}
	}
	return json_pack("{s:b, s:o, s:o, s:o}", "ok", 1, "counters", counters, "vips", vips,
			 "backends", bes);
}

static json_t *do_prog_show(struct xlbd *d, json_t *req, struct caller who)
{
	(void)req, (void)who;
	return json_pack("{s:b, s:s, s:s, s:i, s:s, s:I}", "ok", 1, "interface", d->ifname, "mode",
			 d->attach.mode == XLBD_MODE_GENERIC ? "generic" : "native", "prog_id",
			 (json_int_t)d->attach.prog_id, "pin_dir", d->pin_dir, "hash_seed",
			 (json_int_t)d->cfg.hash_seed);
}

static json_t *do_prog_detach(struct xlbd *d, json_t *req, struct caller who)
{
	(void)req;
	pr_info("detach requested", "uid=%u pid=%d", who.uid, who.pid);
	d->commands.detach_and_exit = true;
	/* Not at once: let this reply reach the caller first. */
	event_base_loopexit(d->base, &(struct timeval){0, 100000});
	return ok_reply();
}

static json_t *do_flow_explain(struct xlbd *d, json_t *req, struct caller who)
{
	char err[ERRLEN];
	json_t *r;

	(void)who;
	if (!arg_str(req, "client") || !arg_str(req, "vip"))
		return error_reply("flow explain needs \"client\" and \"vip\"");
	r = xlbd_flow_explain(d, arg_str(req, "client"), arg_str(req, "vip"),
			      arg_str(req, "tcp_flags"), err, sizeof(err));
	return r ? r : error_reply("%s", err);
}

/* flow show: the flow table's entries (client, VIP, backend, age), of one VIP or all. */
struct flow_list {
	struct xlbd *d;
	json_t *flows;
	__u32 vip_id; /* 0: every VIP */
	size_t want, seen;
	__u64 now;
};

static int list_flow(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct flow_list *l = arg;
	char cs[XLB_ADDRSTRLEN + 8], as[XLB_ADDRSTRLEN], vs[XLB_ADDRSTRLEN], bs[XLB_ADDRSTRLEN];
	struct xlb_vip_key vk;
	struct xlb_backend be;
	const char *state;

	/* An entry whose key is not written yet (a moment old) has no client to show. */
	if (!k || (l->vip_id && f->vip_id != l->vip_id))
		return 0;
	vk = (struct xlb_vip_key){
		.addr = k->dst, .port = k->dport, .proto = k->proto, .family = k->family};
	if (l->seen++ >= l->want)
		return 1;
	xlb_format_addr(&k->src, k->family, as, sizeof(as));
	snprintf(cs, sizeof(cs), k->family == XLB_AF_INET6 ? "[%s]:%u" : "%s:%u", as,
		 ntohs(k->sport));
	xlb_format_vip(&vk, vs, sizeof(vs));
	if (xlb_dp_get_backend(l->d->dp, f->backend_id, &be) || be.vip_id != f->vip_id)
		snprintf(bs, sizeof(bs), "#%u (gone)", f->backend_id);
	else
		xlb_format_addr(&be.addr, be.family, bs, sizeof(bs));
	state = f->flags & XLB_FLOW_F_CLOSED ? "closed"
		: f->flags & XLB_FLOW_F_EST  ? "established"
					     : "new";
	/* Ages are clamped: a packet may have touched the entry after now was read. */
	json_array_append_new(l->flows,
			      json_pack("{s:s, s:s, s:s, s:I, s:s}", "client", cs, "vip", vs,
					"backend", bs, "age_ms",
					(json_int_t)(l->now > f->last_seen_ns
							     ? (l->now - f->last_seen_ns) / 1000000
							     : 0),
					"state", state));
	return 0;
}

static json_t *do_flow_show(struct xlbd *d, json_t *req, struct caller who)
{
	json_t *n = json_object_get(req, "count");
	struct flow_list l = {.d = d, .want = 100};
	char err[ERRLEN];
	int e;

	(void)who;
	if (arg_str(req, "vip")) {
		struct xlbd_vip *v = find_vip_arg(&d->cfg, req, err);

		if (!v)
			return error_reply("%s", err);
		l.vip_id = v->id;
	}
	if (json_is_integer(n)) {
		if (json_integer_value(n) < 1 || json_integer_value(n) > 1000000)
			return error_reply("count must be 1-1000000");
		l.want = (size_t)json_integer_value(n);
	}
	l.flows = json_array();
	l.now = xlb_now_coarse_ns();
	e = xlb_dp_for_each_flow(d->dp, list_flow, &l);
	if (e) {
		json_decref(l.flows);
		return error_reply("cannot read the flow table: %s", strerror(-e));
	}
	return json_pack("{s:b, s:o, s:b}", "ok", 1, "flows", l.flows, "truncated",
			 l.seen > l.want);
}

/* config: the cluster-wide configuration as one whole (docs/cluster.md). */

static json_t *do_config_show(struct xlbd *d, json_t *req, struct caller who)
{
	size_t nbe = 0;

	(void)req, (void)who;
	for (size_t i = 0; i < d->cfg.nvips; i++)
		nbe += d->cfg.vips[i].nbe;
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:s}", "ok", 1, "hash_seed",
			 (json_int_t)d->cfg.hash_seed, "vips", (json_int_t)d->cfg.nvips, "backends",
			 (json_int_t)nbe, "changes", (json_int_t)d->commands.changes, "state",
			 d->state_path);
}

static json_t *do_config_set(struct xlbd *d, json_t *req, struct caller who)
{
	json_t *seed = json_object_get(req, "hash_seed");
	struct xlbd_config next;
	char what[64];

	if (!seed)
		return error_reply("nothing to set: give hash_seed");
	if (json_integer_value(seed) < 0 || json_integer_value(seed) > 0xffffffffLL)
		return error_reply("hash_seed must be an integer in 0..4294967295");
	/* As a config apply of the same configuration: no change, nothing written or rebuilt. */
	if (json_integer_value(seed) == d->cfg.hash_seed)
		return json_pack("{s:b, s:I, s:b}", "ok", 1, "hash_seed",
				 (json_int_t)d->cfg.hash_seed, "changed", 0);
	if (xlbd_config_clone(&d->cfg, &next))
		return error_reply("out of memory");
	next.hash_seed = json_integer_value(seed);
	snprintf(what, sizeof(what), "config set hash_seed=%u", next.hash_seed);
	return commit(
		d, &next,
		json_pack("{s:I, s:b}", "hash_seed", (json_int_t)next.hash_seed, "changed", 1),
		what, who);
}

static json_t *do_config_export(struct xlbd *d, json_t *req, struct caller who)
{
	json_t *c = xlbd_config_to_json(&d->cfg);

	(void)req, (void)who;
	/* The cluster's configuration: a node's maintenance state is not part of it. */
	if (c)
		json_object_del(c, "drained");
	return json_pack("{s:b, s:o}", "ok", 1, "config", c);
}

void xlbd_commands_free(struct xlbd_commands *c)
{
	for (int i = 0; i < XLBD_UPLOADS; i++) {
		free(c->uploads[i].buf);
		c->uploads[i] = (struct xlbd_upload){0};
	}
	if (c->upload_ev)
		event_free(c->upload_ev);
	c->upload_ev = NULL;
}

/* Uploads idle for XLBD_UPLOAD_IDLE_MS go, memory and all: a sender that never applies must
 * not keep up to 4 x 16 MiB until someone else needs a slot. Armed again for the next one. */
static void on_upload_idle(evutil_socket_t fd, short what, void *arg)
{
	struct xlbd_commands *c = arg;
	__u64 now = xlb_now_ms(), next = 0;

	(void)fd, (void)what;
	for (int i = 0; i < XLBD_UPLOADS; i++) {
		struct xlbd_upload *u = &c->uploads[i];

		if (!u->id)
			continue;
		if (now - u->touched_ms >= XLBD_UPLOAD_IDLE_MS) {
			pr_info("config upload dropped: idle", "upload=%llx uid=%u bytes=%zu",
				(unsigned long long)u->id, u->uid, u->len);
			free(u->buf);
			*u = (struct xlbd_upload){0};
		} else if (!next || u->touched_ms + XLBD_UPLOAD_IDLE_MS - now < next) {
			next = u->touched_ms + XLBD_UPLOAD_IDLE_MS - now;
		}
	}
	if (next) {
		struct timeval tv = {next / 1000, next % 1000 * 1000};

		evtimer_add(c->upload_ev, &tv);
	}
}

static void arm_upload_idle(struct xlbd *d)
{
	struct xlbd_commands *c = &d->commands;

	if (!c->upload_ev && d->base)
		c->upload_ev = evtimer_new(d->base, on_upload_idle, c);
	if (c->upload_ev) {
		struct timeval tv = {XLBD_UPLOAD_IDLE_MS / 1000, 0};

		evtimer_add(c->upload_ev, &tv);
	}
}

static struct xlbd_upload *find_upload(struct xlbd *d, const char *id, unsigned int uid)
{
	unsigned long long v;
	char *end;

	if (!id)
		return NULL;
	v = strtoull(id, &end, 16);
	for (int i = 0; v && !*end && i < XLBD_UPLOADS; i++)
		if (d->commands.uploads[i].id == v && d->commands.uploads[i].uid == uid)
			return &d->commands.uploads[i];
	return NULL;
}

/* A free slot, or one idle for XLBD_UPLOAD_IDLE_MS (its sender is gone). */
static struct xlbd_upload *new_upload(struct xlbd *d, unsigned int uid)
{
	static __u64 serial;
	__u64 now = xlb_now_ms();

	for (int i = 0; i < XLBD_UPLOADS; i++) {
		struct xlbd_upload *u = &d->commands.uploads[i];

		if (u->id && now - u->touched_ms < XLBD_UPLOAD_IDLE_MS)
			continue;
		free(u->buf);
		/* Not guessable from the outside is not needed (the uid is checked): unique is. */
		*u = (struct xlbd_upload){.id = (now << 16 | (++serial & 0xffff)) ?: 1,
					  .uid = uid,
					  .touched_ms = now};
		return u;
	}
	return NULL;
}

static json_t *do_config_upload(struct xlbd *d, json_t *req, struct caller who)
{
	const char *id = arg_str(req, "upload"), *data = arg_str(req, "data");
	struct xlbd_upload *u;
	size_t n = data ? strlen(data) : 0;
	char ids[24];
	char *grown;

	if (!data)
		return error_reply("missing \"data\"");
	u = id ? find_upload(d, id, who.uid) : new_upload(d, who.uid);
	if (!u)
		return id ? error_reply("unknown upload \"%s\" (dropped after %d s idle, or "
					"applied)",
					id, XLBD_UPLOAD_IDLE_MS / 1000)
			  : error_reply("%d uploads are in progress: try again later",
					XLBD_UPLOADS);
	if (u->len + n > XLBD_UPLOAD_MAX) {
		free(u->buf);
		*u = (struct xlbd_upload){0};
		return error_reply("configuration longer than %u MiB: refused",
				   XLBD_UPLOAD_MAX >> 20);
	}
	grown = realloc(u->buf, u->len + n + 1);
	if (!grown)
		return error_reply("out of memory");
	u->buf = grown;
	memcpy(u->buf + u->len, data, n);
	u->len += n;
	u->buf[u->len] = '\0';
	u->touched_ms = xlb_now_ms();
	arm_upload_idle(d);
	snprintf(ids, sizeof(ids), "%llx", (unsigned long long)u->id);
	return json_pack("{s:b, s:s, s:I}", "ok", 1, "upload", ids, "bytes", (json_int_t)u->len);
}

/*
 * Commas outside strings that a configuration which can be valid may hold: members plus array
 * elements, at most 4 at the top, 7 per VIP and 5 per backend with 16 in a check object each,
 * 511 VIPs and 8,191 backends (192,470). A 16 MiB upload parsed by jansson costs up to 253 MiB
 * (measured: 16.6 MB of small backend objects); the largest valid file (all 511 VIPs and 8,191
 * backends, each with every check setting: 2.7 MB, 175,055 commas) 26 MiB.
 */
#define XLBD_APPLY_MAX_COMMAS \
	(4 + (XLB_MAX_VIPS - 1) * (7 + 16 + 1) + (XLB_MAX_BACKENDS - 1) * (5 + 16 + 1))

static bool too_many_values(const char *p, size_t len)
{
	bool in_str = false;
	size_t commas = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_str = false;
		} else if (p[i] == '"') {
			in_str = true;
		} else if (p[i] == ',' && ++commas > XLBD_APPLY_MAX_COMMAS) {
			return true;
		}
	}
	return false;
}

/* The configuration of a config apply request: its "config", or the text of its upload. A new
 * reference, or NULL with the problem in err. */
static json_t *apply_input(struct xlbd *d, json_t *req, unsigned int uid, char *err)
{
	const char *id = arg_str(req, "upload");
	json_t *c = json_object_get(req, "config");
	struct xlbd_upload *u;
	json_error_t je;

	if (!c == !id) {
		snprintf(err, ERRLEN, "config apply takes \"config\" or \"upload\", one of them");
		return NULL;
	}
	if (c)
		return json_incref(c);
	u = find_upload(d, id, uid);
	if (!u) {
		snprintf(err, ERRLEN, "unknown upload \"%s\"", id);
		return NULL;
	}
	/* Counted before jansson builds the tree: the tree, not the text, is what costs. */
	if (too_many_values(u->buf, u->len)) {
		snprintf(err, ERRLEN,
			 "config: more values than %d VIPs and %d backends can hold: refused "
			 "unread",
			 XLB_MAX_VIPS - 1, XLB_MAX_BACKENDS - 1);
		c = NULL;
	} else {
		c = json_loadb(u->buf, u->len, JSON_REJECT_DUPLICATES, &je);
		if (!c)
			snprintf(err, ERRLEN, "config: line %d column %d: %s", je.line, je.column,
				 je.text);
	}
	free(u->buf);
	*u = (struct xlbd_upload){0};
	return c;
}

static json_t *do_config_apply(struct xlbd *d, json_t *req, struct caller who)
{
	bool dry = json_is_true(json_object_get(req, "dry_run")), seed_given = false;
	json_t *in, *changes = NULL, *r;
	struct xlbd_config next = {0};
	char err[ERRLEN], what[64];
	int e;

	in = apply_input(d, req, who.uid, err);
	if (!in)
		return error_reply("%s", err);
	e = xlbd_config_parse(in, &next, false, &seed_given, err, sizeof(err));
	json_decref(in);
	if (e)
		return error_reply("config: %s", err);
	changes = json_array();
	e = changes ? xlbd_config_merge(&d->cfg, &next, seed_given, changes, err, sizeof(err))
		    : -ENOMEM;
	/* A new backend must not be this host, as for backend add. */
	for (size_t i = 0; !e && i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		const char *as = json_string_value(json_object_get(c, "address"));
		struct xlb_addr a;
		__u8 fam;

		if (strcmp(json_string_value(json_object_get(c, "change")), "backend added") ||
		    xlb_parse_addr(as, &a, &fam, err, sizeof(err)))
			continue;
		if (local_addr(&a, fam, err, as))
			e = -EINVAL;
	}
	if (e) {
		xlbd_config_free(&next);
		json_decref(changes);
		return error_reply("config: %s", err[0] ? err : "out of memory");
	}
	if (dry || !json_array_size(changes)) {
		xlbd_config_free(&next);
		return json_pack("{s:b, s:o, s:b}", "ok", 1, "changes", changes, "dry_run", dry);
	}
	/* New ids (none of the current configuration's): whatever macs.c knew of them is old. */
	for (size_t i = 0; i < next.nvips; i++)
		for (size_t j = 0; j < next.vips[i].nbe; j++)
			if (!xlbd_config_backend_by_id(&d->cfg, next.vips[i].be[j].id, NULL))
				xlbd_macs_forget(&d->macs, next.vips[i].be[j].id);
	snprintf(what, sizeof(what), "config apply changes=%zu", json_array_size(changes));
	r = commit(d, &next, json_pack("{s:o, s:b}", "changes", changes, "dry_run", 0), what, who);
	return r;
}

/* Each VIP address and whether its route is in the table (docs/cluster.md). */
static json_t *do_node_show(struct xlbd *d, json_t *req, struct caller who)
{
	const struct xlbd_announce *a = &d->announce;
	json_t *arr = json_array();

	(void)req, (void)who;
	for (size_t i = 0; i < a->n; i++) {
		const struct xlbd_announce_addr *e = &a->addrs[i];
		char s[XLB_ADDRSTRLEN];
		const char *why;
		bool want = xlbd_announce_wanted(d, &e->addr, e->family, &why);

		xlb_format_addr(&e->addr, e->family, s, sizeof(s));
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s, s:I}", "address", s,
						     "announced", e->announced, "reason",
						     want ? "usable backend" : why, "transitions",
						     (json_int_t)e->transitions));
		/* The kernel refused the last change: the next sync tries again. */
		if (e->announced != want)
			json_object_set_new(json_array_get(arr, json_array_size(arr) - 1),
					    "pending", json_true());
		if (e->announced != want && e->last_err)
			json_object_set_new(
				json_array_get(arr, json_array_size(arr) - 1), "error",
				json_string(e->last_err == -EEXIST
						    ? "a route of another protocol is there"
						    : strerror(-e->last_err)));
	}
	return json_pack("{s:b, s:s, s:i, s:I, s:o}", "ok", 1, "state",
			 d->cfg.drained ? "drained" : "in-service", "route_table",
			 (json_int_t)a->table, "route_errors", (json_int_t)a->errors, "addresses",
			 arr);
}

/* Maintenance on or off: persisted (a restarted node stays drained), then the routes follow. */
static json_t *node_set_drained(struct xlbd *d, bool drained, struct caller who)
{
	const char *what = drained ? "node drain" : "node undrain";
	struct xlbd_config next;
	json_t *r;

	if (d->cfg.drained == drained) {
		xlbd_announce_sync(d, what); /* retries a route the kernel refused */
		return json_pack("{s:b, s:b}", "ok", 1, "changed", 0);
	}
	if (xlbd_config_clone(&d->cfg, &next))
		return error_reply("out of memory");
	next.drained = drained;
	r = commit(d, &next, json_pack("{s:b}", "changed", 1), what, who);
	if (json_is_true(json_object_get(r, "ok")))
		xlbd_announce_sync(d, what);
	return r;
}

static json_t *do_node_drain(struct xlbd *d, json_t *req, struct caller who)
{
	(void)req;
	return node_set_drained(d, true, who);
}

static json_t *do_node_undrain(struct xlbd *d, json_t *req, struct caller who)
{
	(void)req;
	return node_set_drained(d, false, who);
}

/* Every command: its name ("object verb"), the members it takes besides "cmd" with their types
 * (a NULL name ends them), its handler. */
static const struct command {
	const char *name;
	const struct member members[7]; /* at most 6, then a NULL name */
	json_t *(*run)(struct xlbd *d, json_t *req, struct caller who);
} commands[] = {
	{"vip add",
	 {{"vip", ARG_STR},
	  {"sched", ARG_STR},
	  {"fwd", ARG_STR},
	  {"check", ARG_OBJ},
	  {"hash_dport", ARG_BOOL}},
	 do_vip_add},
	{"vip set",
	 {{"vip", ARG_STR},
	  {"sched", ARG_STR},
	  {"fwd", ARG_STR},
	  {"check", ARG_OBJ},
	  {"hash_dport", ARG_BOOL}},
	 do_vip_set},
	{"vip del", {{"vip", ARG_STR}}, do_vip_del},
	{"vip show", {{"vip", ARG_STR}}, do_vip_show},
	{"backend add",
	 {{"vip", ARG_STR},
	  {"address", ARG_STR},
	  {"weight", ARG_INT},
	  {"admin", ARG_STR},
	  {"check", ARG_OBJ | ARG_NULL}},
	 do_backend_add},
	{"backend set",
	 {{"vip", ARG_STR},
	  {"address", ARG_STR},
	  {"weight", ARG_INT},
	  {"admin", ARG_STR},
	  {"check", ARG_OBJ | ARG_NULL}},
	 do_backend_set},
	{"backend del",
	 {{"vip", ARG_STR},
	  {"address", ARG_STR},
	  {"weight", ARG_INT},
	  {"admin", ARG_STR},
	  {"check", ARG_OBJ | ARG_NULL}},
	 do_backend_del},
	{"backend show", {{"vip", ARG_STR}}, do_backend_show},
	{"stats show", {{"vip", ARG_STR}}, do_stats_show},
	{"flow explain",
	 {{"client", ARG_STR}, {"vip", ARG_STR}, {"tcp_flags", ARG_STR}},
	 do_flow_explain},
	{"flow show", {{"vip", ARG_STR}, {"count", ARG_INT}}, do_flow_show},
	{"config show", {{NULL}}, do_config_show},
	{"config set", {{"hash_seed", ARG_INT}}, do_config_set},
	{"config export", {{NULL}}, do_config_export},
	{"config upload", {{"upload", ARG_STR}, {"data", ARG_STR}}, do_config_upload},
	{"config apply",
	 {{"config", ARG_OBJ}, {"upload", ARG_STR}, {"dry_run", ARG_BOOL}},
	 do_config_apply},
	{"prog show", {{NULL}}, do_prog_show},
	{"prog detach", {{NULL}}, do_prog_detach},
	{"node show", {{NULL}}, do_node_show},
	{"node drain", {{NULL}}, do_node_drain},
	{"node undrain", {{NULL}}, do_node_undrain},
};

json_t *xlbd_handle(struct xlbd *d, json_t *req, unsigned int uid, int pid)
{
	json_t *cmd = json_is_object(req) ? json_object_get(req, "cmd") : NULL;
	const struct caller who = {uid, pid};
	char err[ERRLEN];

	if (!json_is_string(cmd))
		return error_reply("a request is a JSON object with a \"cmd\" string");
	/* The whole string is the name: no extra words, no other spacing, nothing after a NUL. */
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (json_string_length(cmd) != strlen(commands[i].name) ||
		    strcmp(commands[i].name, json_string_value(cmd)))
			continue;
		if (check_args(req, commands[i].members, err))
			return error_reply("%s", err);
		return commands[i].run(d, req, who);
	}
	return error_reply("unknown command \"%s\" (commands are \"<object> <verb>\", as in "
			   "\"vip show\")",
			   json_string_value(cmd));
}
