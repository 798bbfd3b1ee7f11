/* explain.c - `flow explain`: where would this flow go, and why (the real program, no writes). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "frame.h"
#include "log.h"
#include "xlb.skel.h"
#include "xlbd.h"

#define BIT(c) (1ULL << (c))

/* "10.0.0.1:40000" or "[2001:db8::1]:40000". */
static int parse_client(const char *s, struct xlb_flow_key *k, char *err, size_t errlen)
{
	char host[64], perr[160];
	const char *colon = strrchr(s, ':');
	__u16 port;
	size_t n;

	if (!colon || colon == s) {
		snprintf(err, errlen, "client '%s' must be ADDR:PORT ([ADDR]:PORT for IPv6)", s);
		return -EINVAL;
	}
	n = colon - s;
	if (n >= sizeof(host)) {
		snprintf(err, errlen, "client address in '%s' is too long", s);
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (xlb_parse_addr(host, &k->src, &k->family, perr, sizeof(perr)) ||
	    xlb_parse_port(colon + 1, &port, perr, sizeof(perr))) {
		snprintf(err, errlen, "client '%s': %s", s, perr);
		return -EINVAL;
	}
	if (k->family == XLB_AF_INET6 && host[0] != '[') {
		snprintf(err, errlen, "client '%s': write an IPv6 address in brackets: [ADDR]:PORT",
			 s);
		return -EINVAL;
	}
	k->sport = htons(port);
	return 0;
}

static const char *backend_text(struct xlbd *d, __u32 id, char *buf, size_t len)
{
	const struct xlbd_backend *b = xlbd_config_backend_by_id(&d->cfg, id, NULL);

	if (b)
		xlb_format_addr(&b->addr, b->family, buf, len);
	else
		snprintf(buf, len, "backend id %u", id);
	return buf;
}

/* One sentence per step of the path, in the order the program took them. */
static json_t *reasons(struct xlbd *d, const struct xlbd_vip *v, const struct xlb_explain *t,
		       __u32 action)
{
	json_t *r = json_array();
	__u64 c = t->counters;
	char a[XLB_ADDRSTRLEN], b[XLB_ADDRSTRLEN], line[256];

	if (c & BIT(XLB_C_PASS_NOT_VIP)) {
		json_array_append_new(r, json_string("not a VIP (address, port, protocol): the "
						     "packet goes to the host untouched"));
		return r;
	}
	if (t->flow_backend)
		backend_text(d, t->flow_backend, a, sizeof(a));
	if (c & BIT(XLB_C_FLOW_HIT))
		snprintf(line, sizeof(line), "established flow: the flow table keeps it on %s", a);
	else if (c & BIT(XLB_C_FLOW_REPICK))
		snprintf(line, sizeof(line),
			 "the flow table names %s, which is down: the flow is re-picked (stateless "
			 "failover)",
			 a);
	else if (c & BIT(XLB_C_FLOW_STALE))
		snprintf(line, sizeof(line),
			 "the flow table names %s, which is no longer a backend of this VIP: "
			 "re-picked",
			 a);
	else if (c & BIT(XLB_C_FLOW_EXPIRED))
		snprintf(line, sizeof(line), "UDP flow idle past its timeout: re-picked");
	else if (t->flow_backend)
		/* An entry found but none of the above: the program's only such path is a SYN on an
		 * entry marked XLB_FLOW_F_CLOSED (the client reuses the 5-tuple), counted as a miss. */
		snprintf(line, sizeof(line),
			 "a SYN on the 5-tuple of an ended connection (its entry names %s): "
			 "scheduled afresh",
			 a);
	else
		snprintf(line, sizeof(line), "new flow: not in the flow table");
	json_array_append_new(r, json_string(line));
	if (!(c & BIT(XLB_C_FLOW_HIT)) && t->backend) {
		backend_text(d, t->backend, b, sizeof(b));
		if (c & BIT(XLB_C_FAILOVER_WALK))
			snprintf(line, sizeof(line),
				 "scheduler %s: no usable backend in %d re-hashes; the member walk "
				 "found %s",
				 xlb_name(&xlb_sched_names, v->sched), XLB_REHASH_TRIES, b);
		else if (c & BIT(XLB_C_FAILOVER_REHASH))
			snprintf(line, sizeof(line),
				 "scheduler %s: its first choice is not usable (down or draining); "
				 "the next try gave %s",
				 xlb_name(&xlb_sched_names, v->sched), b);
		else
			snprintf(line, sizeof(line), "scheduler %s picked %s",
				 xlb_name(&xlb_sched_names, v->sched), b);
		json_array_append_new(r, json_string(line));
	}
	for (int i = 0; i < XLB_C_MAX; i++) {
		if (!(c & BIT(i)) || strncmp(xlb_counter_name(i), "drop_", 5))
			continue;
		snprintf(line, sizeof(line), "dropped: %s", xlb_counter_name(i) + 5);
		json_array_append_new(r, json_string(line));
	}
	if (t->backend &&
	    (c & (BIT(XLB_C_ENCAP_4IN4) | BIT(XLB_C_ENCAP_6IN6) | BIT(XLB_C_ENCAP_4IN6)))) {
		/* ipip: where it leaves is the route's answer (docs/datapath.md, "ipip"); an
		 * explain run is looked up from the loopback interface, the live one from the
		 * interface the packet came in by. */
		snprintf(line, sizeof(line),
			 "forwarded to %s (ipip: encapsulated to its address, %s)",
			 backend_text(d, t->backend, b, sizeof(b)),
			 action == XDP_TX	  ? "XDP_TX"
			 : action == XDP_REDIRECT ? "XDP_REDIRECT"
						  : "handed to the kernel to forward");
		json_array_append_new(r, json_string(line));
	} else if (action == XDP_TX && t->backend && (c & BIT(XLB_C_PMTU_SENT))) {
		snprintf(line, sizeof(line),
			 "too big for the tunnel to %s: answered with an ICMP path MTU message",
			 backend_text(d, t->backend, b, sizeof(b)));
		json_array_append_new(r, json_string(line));
	} else if (action == XDP_TX && t->backend) {
		snprintf(line, sizeof(line), "forwarded to %s (dsr-l2: its MAC, XDP_TX)",
			 backend_text(d, t->backend, b, sizeof(b)));
		json_array_append_new(r, json_string(line));
	}
	return r;
}

static const char *action_name(__u32 a)
{
	static const char *const names[] = {"aborted", "drop", "pass", "tx", "redirect"};

	return a < 5 ? names[a] : "unknown";
}

json_t *xlbd_flow_explain(struct xlbd *d, const char *client, const char *vip, const char *flags,
			  char *err, size_t errlen)
{
	__u8 frame[XLB_FRAME_MAX], out[XLB_FRAME_MAX], tcp_flags = 0x02;
	__u32 out_len = sizeof(out), action;
	struct xlb_flow_key k = {0};
	struct xlb_vip_key vk;
	struct xlbd_vip *v;
	struct xlb_explain t;
	json_t *path, *j;
	char b[XLB_ADDRSTRLEN];
	int len, e;

	if (xlb_parse_vip(vip, &vk, err, errlen) || parse_client(client, &k, err, errlen))
		return NULL;
	if (k.family != vk.family) {
		snprintf(err, errlen, "client %s and vip %s are of different address families",
			 client, vip);
		return NULL;
	}
	if (flags && strcmp(flags, "syn") && strcmp(flags, "ack")) {
		snprintf(err, errlen, "tcp flags must be \"syn\" or \"ack\", not \"%s\"", flags);
		return NULL;
	}
	if (flags && !strcmp(flags, "ack"))
		tcp_flags = 0x10;
	v = xlbd_config_find_vip(&d->cfg, &vk);
	k.dst = vk.addr;
	k.dport = vk.port;
	k.proto = vk.proto;
	if (!d->explain.dp) {
		e = xlb_dp_load_explain(d->dp, &d->explain.dp);
		if (e) {
			snprintf(err, errlen, "cannot load the explain program: %s", strerror(-e));
			return NULL;
		}
	}
	len = xlb_frame_build(&k, d->dp->skel->rodata->lb_mac, tcp_flags, frame, sizeof(frame));
	e = len < 0 ? len : xlb_dp_explain(d->explain.dp, frame, len, out, &out_len, &action, &t);
	if (e) {
		snprintf(err, errlen, "cannot run the packet: %s", strerror(-e));
		return NULL;
	}
	path = json_array();
	for (int i = 0; i < XLB_C_MAX; i++)
		if (t.counters & BIT(i))
			json_array_append_new(path, json_string(xlb_counter_name(i)));
	j = json_pack("{s:b, s:s, s:s, s:s, s:o, s:o}", "ok", 1, "client", client, "vip", vip,
		      "action", action_name(action), "path", path, "why",
		      v ? reasons(d, v, &t, action) : json_pack("[s]", "not a configured VIP"));
	json_object_set_new(j, "backend",
			    t.backend ? json_string(backend_text(d, t.backend, b, sizeof(b)))
				      : json_null());
	json_object_set_new(j, "flow_entry",
			    t.flow_backend
				    ? json_string(backend_text(d, t.flow_backend, b, sizeof(b)))
				    : json_null());
	return j;
}

void xlbd_explain_close(struct xlbd *d)
{
	xlb_dp_destroy(d->explain.dp);
	d->explain.dp = NULL;
}
