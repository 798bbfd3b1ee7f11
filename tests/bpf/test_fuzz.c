/* test_fuzz.c - xlbd's control protocol and state file under generated input (tests/README.md). */
#define _GNU_SOURCE /* unshare */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "check.h"
#include "ctl_proto.h"
#include "log.h"
#include "xlbd.h"

/*
 * One xlbd in this process, as main.c builds it, without an interface: the program is loaded
 * (maps not pinned) but not attached, the control socket listens in a temporary directory, the
 * state file is written there; a network namespace of our own keeps the health probes off the
 * host's network (only lo, no routes: they fail at once). The fuzzer is the control client:
 * it pipelines batches of generated request lines on one connection, pumps the event loop
 * until every answer is in, then checks the invariants (check_batch).
 */
static struct xlbd d;
static char dir[64]; /* /dev/shm/xlb-fuzz-XXXXXX: a commit's fsync costs nothing there */
static char state_path[96], sock_path[96];
static __u64 seed, rng;
static unsigned long n_total, n_requests, n_ok, n_state_files, n_conn_cases;
static size_t max_vips, max_backends;
static bool verbose; /* FUZZ_VERBOSE=1: every request and its error */

static __u64 rnd(void)
{
	rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static __u32 rn(__u32 n)
{
	return n ? rnd() % n : 0;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void b_put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void b_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void b_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	b_put(b, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void b_str(struct buf *b, const char *s)
{
	b_put(b, s, strlen(s));
}

/* ---- generated requests ---------------------------------------------------------------- */

static const char *const vips[] = {
	"10.9.0.1:80/tcp",
	"10.9.0.1:53/udp",
	"10.9.0.2:443/tcp",
	"[2001:db8::1]:80/tcp",
	"[2001:db8::2]:53/udp",
	"10.9.0.3:8080/tcp",
	"10.9.0.1:0/tcp",
	"10.9.0.300:80/tcp",
	"10.9.0.1:80/sctp",
	"",
	"10.9.0.1",
	"[::1]:80/tcp",
	"0.0.0.0:80/tcp",
	"10.9.0.1:65536/tcp",
	"10.9.0.1:-1/tcp",
};
static const char *const addrs[] = {
	"10.1.0.1",
	"10.1.0.2",
	"10.1.0.3",
	"10.1.0.4",
	"2001:db8:1::1",
	"2001:db8:1::2",
	"10.1.0.5",
	"10.1.0.999",
	"",
	"::",
	"10.9.0.1",
	"224.0.0.1",
	"255.255.255.255",
	"10.1.0.1/24",
	"fe80::1%lo",
};
static const char *const scheds[] = {"maglev", "source-hash", "rr", "wrr", "least-conn", "x", ""};
static const char *const admins[] = {"up", "drain", "disabled", "down", "UP"};
static const char *const kinds[] = {"none", "tcp", "http", "udp", "icmp"};
static const char *const cmds[] = {
	"vip add",     "vip set",     "vip del",       "vip show",	"backend add",
	"backend set", "backend del", "backend show",  "stats show",	"flow explain",
	"prog show",   "prog detach", "vip show me",   "backend  show", "vip",
	"config show", "config set",  "config export", "config upload", "config apply",
	"node show",   "node drain",  "node undrain",  "config",	"node drain now",
};
static const char *const members[] = {
	"vip",	     "sched",  "fwd",	    "check",  "hash_dport", "address", "weight",
	"admin",     "client", "tcp_flags", "wieght", "cmd",	    "",	       "vip\\u0000",
	"hash_seed", "config", "upload",    "data",   "dry_run",    "drained",
};
static const char *const check_members[] = {
	"kind",		"port",		"interval_ms",	  "timeout_ms",	   "rise",
	"fall",		"path",		"host",		  "status_lo",	   "status_hi",
	"payload",	"backoff_ms",	"backoff_max_ms", "slow_start_ms", "outlier",
	"outlier_rate", "intervall_ms",
};
/* Numbers and other values that are not what a member wants. */
static const char *const odd[] = {
	"-1",
	"0",
	"4294967296",
	"4294968320",
	"-9223372036854775808",
	"9223372036854775807",
	"9223372036854775808",
	"18446744073709551616",
	"1e400",
	"-1e400",
	"1.5",
	"1e2",
	"null",
	"true",
	"false",
	"[]",
	"{}",
	"\"\"",
	"\"\\u0000\"",
	"\"\\ud800\"",
	"\"\\udc00\\ud800\"",
	"\"\xff\xfe\"",
	"\"\xc3\"",
	"\"\xe2\x82\"",
	"\"\xed\xa0\x80\"",
	"\"\xc0\xaf\"",
	"\"caf\xc3\xa9\"",
	"\"\\n\\r\"",
	"\"a\\\"b\"",
	"[[[[[[[[]]]]]]]]",
	"{\"kind\":\"tcp\",\"kind\":\"http\"}",
};

#define PICK(a) (a)[rn(sizeof(a) / sizeof((a)[0]))]
/* Mostly one of the first `good` entries (the valid ones), now and then any. */
#define PICK_GOOD(a, good) (rn(8) ? (a)[rn(good)] : PICK(a))

static void gen_json(struct buf *b, int depth);

static void gen_string(struct buf *b)
{
	static const char alphabet[] = "abz019 -_:/.[]\\\"";
	size_t n = rn(4) ? rn(12) : rn(3000);

	b_str(b, "\"");
	for (size_t i = 0; i < n; i++) {
		char c = alphabet[rn(sizeof(alphabet) - 1)];

		if (c == '\\' || c == '"')
			b_put(b, "\\", 1);
		b_put(b, &c, 1);
	}
	b_str(b, "\"");
}

static void gen_json(struct buf *b, int depth)
{
	switch (depth > 4 ? rn(4) : rn(7)) {
	case 0:
		b_printf(b, "%lld", (long long)rnd() >> rn(64));
		break;
	case 1:
		gen_string(b);
		break;
	case 2:
		b_str(b, PICK(odd));
		break;
	case 3:
		b_str(b, rn(2) ? PICK(vips) : PICK(addrs)); /* bare: not JSON */
		break;
	case 4:
	case 5: {
		int n = rn(5);

		b_str(b, "[");
		for (int i = 0; i < n; i++) {
			if (i)
				b_str(b, ",");
			gen_json(b, depth + 1);
		}
		b_str(b, "]");
		break;
	}
	default: {
		int n = rn(5);

		b_str(b, "{");
		for (int i = 0; i < n; i++) {
			b_printf(b, "%s\"%s\":", i ? "," : "",
				 rn(2) ? PICK(members) : PICK(check_members));
			gen_json(b, depth + 1);
		}
		b_str(b, "}");
	}
	}
}

static void gen_check(struct buf *b, bool bad)
{
	int n = 1 + rn(4);

	b_str(b, "{");
	for (int i = 0; i < n; i++) {
		const char *m = bad ? PICK(check_members) : PICK_GOOD(check_members, 16);

		b_printf(b, "%s\"%s\":", i ? "," : "", m);
		if (bad && !rn(3))
			b_str(b, PICK(odd));
		else if (!strcmp(m, "kind"))
			b_printf(b, "\"%s\"", PICK(kinds));
		else if (!strcmp(m, "path"))
			b_str(b, rn(3) ? "\"/healthz\"" : "\"nopath\"");
		else if (!strcmp(m, "host") || !strcmp(m, "payload"))
			gen_string(b);
		else if (!strcmp(m, "outlier"))
			b_str(b, rn(2) ? "true" : "false");
		else if (!strcmp(m, "status_lo") || !strcmp(m, "status_hi"))
			b_printf(b, "%u", 100 + rn(520));
		else
			b_printf(b, "%u", rn(3) ? 10 + rn(5000) : rn(200));
	}
	b_str(b, "}");
}

/* A value for member m: mostly one of the right type and of the pools, else anything. */
static void gen_value(struct buf *b, const char *m, bool bad)
{
	if (bad && !rn(2)) {
		rn(2) ? b_str(b, PICK(odd)) : gen_json(b, 3);
	} else if (!strcmp(m, "vip")) {
		b_printf(b, "\"%s\"", PICK_GOOD(vips, 6));
	} else if (!strcmp(m, "address")) {
		b_printf(b, "\"%s\"", PICK_GOOD(addrs, 7));
	} else if (!strcmp(m, "client")) {
		b_printf(b, "\"%s:%u\"", PICK(addrs), rn(70000));
	} else if (!strcmp(m, "sched")) {
		b_printf(b, "\"%s\"", PICK_GOOD(scheds, 5));
	} else if (!strcmp(m, "fwd")) {
		b_str(b, rn(4) ? "\"dsr-l2\"" : "\"x\"");
	} else if (!strcmp(m, "admin")) {
		b_printf(b, "\"%s\"", PICK_GOOD(admins, 3));
	} else if (!strcmp(m, "weight")) {
		b_printf(b, "%d", rn(8) ? 1 + (int)rn(1000) : (int)rn(1100) - 50);
	} else if (!strcmp(m, "hash_dport")) {
		b_str(b, rn(2) ? "true" : "false");
	} else if (!strcmp(m, "tcp_flags")) {
		b_str(b, rn(2) ? "\"syn\"" : "\"ack\"");
	} else if (!strcmp(m, "check")) {
		rn(8) ? gen_check(b, bad) : b_str(b, "null");
	} else {
		gen_json(b, 3);
	}
}

/* A file for config apply: mostly the node's own export a little changed (a VIP gone, a
 * backend order reversed, a weight), else one made of the pools; bad: members off too. */
static void gen_config(struct buf *b, bool bad)
{
	json_t *c = rn(2) ? xlbd_config_to_json(&d.cfg) : NULL, *vips, *bes;
	char *s;

	if (c) {
		json_object_del(c, "drained");
		vips = json_object_get(c, "vips");
		if (json_array_size(vips) && !rn(3))
			json_array_remove(vips, rn(json_array_size(vips)));
		bes = json_object_get(json_array_get(vips, 0), "backends");
		if (json_array_size(bes) > 1 && !rn(3)) {
			json_t *first = json_incref(json_array_get(bes, 0));

			json_array_remove(bes, 0);
			json_array_append_new(bes, first);
		}
		if (json_array_size(bes) && !rn(3))
			json_object_set_new(json_array_get(bes, 0), "weight",
					    json_integer(1 + rn(1000)));
		if (!rn(4))
			json_object_set_new(c, "hash_seed", json_integer(rn(4)));
		if (bad && !rn(2))
			json_object_set_new(c, rn(2) ? "drained" : "hash_seed",
					    rn(2) ? json_true() : json_integer(-1));
		s = json_dumps(c, JSON_COMPACT);
		b_str(b, s ? s : "{}");
		free(s);
		json_decref(c);
		return;
	}
	b_str(b, "{\"version\":1");
	if (!rn(3))
		b_printf(b, ",\"hash_seed\":%u", rn(4));
	if (bad && !rn(3)) {
		b_printf(b, ",\"%s\":", PICK(members));
		gen_json(b, 3);
	}
	b_str(b, ",\"vips\":[");
	for (int i = 0, n = rn(4); i < n; i++) {
		b_str(b, i ? ",{\"vip\":" : "{\"vip\":");
		gen_value(b, "vip", bad && !rn(4));
		if (rn(2)) {
			b_str(b, ",\"sched\":");
			gen_value(b, "sched", bad);
		}
		b_str(b, ",\"backends\":[");
		for (int j = 0, m = rn(5); j < m; j++) {
			b_str(b, j ? ",{\"address\":" : "{\"address\":");
			gen_value(b, "address", bad && !rn(4));
			if (rn(2)) {
				b_str(b, ",\"weight\":");
				gen_value(b, "weight", bad);
			}
			b_str(b, "}");
		}
		b_str(b, "]}");
	}
	b_str(b, "]}");
}

/* config and node commands: seeds, applies, uploads (pieces of a configuration, to an id that
 * is mostly unknown: ids are only known from answers; conn case upload_apply uses real ones). */
static void gen_cluster_command(struct buf *b, const char *cmd, bool bad)
{
	b_printf(b, "{\"cmd\":\"%s\"", cmd);
	if (!strcmp(cmd, "config set") && (!bad || rn(2))) {
		b_str(b, ",\"hash_seed\":");
		if (bad && rn(2))
			b_str(b, PICK(odd));
		else
			b_printf(b, "%u", rn(4) ? rn(4) : (unsigned)rnd());
	} else if (!strcmp(cmd, "config apply")) {
		if (!bad || rn(2)) {
			b_str(b, ",\"config\":");
			gen_config(b, bad);
		}
		if (bad && rn(2))
			b_printf(b, ",\"upload\":\"%x\"", rn(3) ? rn(256) : (unsigned)rnd());
		if (rn(2))
			b_str(b, rn(2) ? ",\"dry_run\":true" : ",\"dry_run\":false");
	} else if (!strcmp(cmd, "config upload")) {
		if (rn(2))
			b_printf(b, ",\"upload\":\"%x\"", rn(3) ? rn(256) : (unsigned)rnd());
		if (!bad || rn(2)) {
			b_str(b, ",\"data\":");
			if (bad && rn(2))
				b_str(b, PICK(odd)); /* raw invalid UTF-8, \u0000, surrogates */
			else
				rn(2) ? gen_string(b)
				      : b_str(b, rn(2) ? "\"{\\\"version\\\": 1\"" : "\"\"");
		}
	}
	if (bad && rn(2)) {
		b_printf(b, ",\"%s\":", PICK(members));
		gen_value(b, "x", bad);
	}
	b_str(b, "}");
}

/* A command as xlbctl would send it, with its usual members; bad: types and names off. */
static void gen_command(struct buf *b, bool bad)
{
	static const char *const takes[][5] = {
		{"vip", "sched", "fwd", "check", "hash_dport"},
		{"vip", "address", "weight", "admin", "check"},
		{"client", "vip", "tcp_flags"},
	};
	const char *cmd = PICK(cmds);
	int set = !strncmp(cmd, "backend", 7) ? 1 : !strcmp(cmd, "flow explain") ? 2 : 0;
	int n = bad ? rn(5) : rn(3);

	/* Mostly the commands that change something, so the config grows and shrinks. */
	if (rn(3))
		cmd = rn(2) ? (rn(3) ? "vip add" : "vip del")
			    : (rn(3)   ? "backend add"
			       : rn(2) ? "backend set"
				       : "backend del"),
		set = cmd[0] == 'b';
	if (!strcmp(cmd, "prog detach") && rn(20))
		cmd = "prog show";
	if (!strncmp(cmd, "config", 6) || !strncmp(cmd, "node", 4)) {
		gen_cluster_command(b, cmd, bad);
		return;
	}
	if (!bad && (strstr(cmd, "show") || strstr(cmd, "del") || !strncmp(cmd, "prog", 4)))
		n = 0; /* they take a vip (and an address) only */
	b_printf(b, "{\"cmd\":\"%s\"", cmd);
	if (!bad || rn(10)) {
		b_str(b, ",\"vip\":");
		gen_value(b, "vip", bad && !rn(4));
	}
	if (set == 1 && (!bad || rn(10))) {
		b_str(b, ",\"address\":");
		gen_value(b, "address", bad && !rn(4));
	}
	for (int i = 0, used = 0; i < n; i++) {
		/* Good: each member once, vip and address given above. */
		int first = set == 1 ? 2 : 1, k = first + rn(set == 2 ? 2 : 5 - first);
		const char *m = bad && !rn(4) ? PICK(members) : takes[set][k];

		if (!bad && (used & 1 << k))
			continue;
		used |= 1 << k;
		b_printf(b, ",\"%s\":", m);
		gen_value(b, m, bad);
	}
	b_str(b, "}");
}

/* A few byte-level changes: flips, deletions, repeats, insertions of odd tokens. */
static void mutate(struct buf *b)
{
	int n = 1 + rn(3);

	for (int i = 0; i < n && b->len; i++) {
		size_t at = rn(b->len), len = 1 + rn(8);

		if (at + len > b->len)
			len = b->len - at;
		switch (rn(5)) {
		case 0:
			b->p[at] ^= 1 << rn(8);
			break;
		case 1:
			memmove(b->p + at, b->p + at + len, b->len - at - len + 1);
			b->len -= len;
			break;
		case 2:
		case 3: {
			struct buf t = {0};

			b_put(&t, b->p, at);
			if (rn(2))
				b_put(&t, b->p + at, len); /* repeated */
			else
				b_str(&t, PICK(odd));
			b_put(&t, b->p + at, b->len - at);
			free(b->p);
			*b = t;
			break;
		}
		default:
			b->len = at; /* cut */
			b->p[at] = '\0';
		}
	}
}

/* One request line, without its newline. */
static void gen_line(struct buf *b)
{
	__u32 k = rn(100);

	b->len = 0;
	if (k < 45) {
		gen_command(b, false);
	} else if (k < 70) {
		gen_command(b, true);
	} else if (k < 85) {
		gen_command(b, rn(2));
		mutate(b);
	} else if (k < 93) {
		gen_json(b, 0);
	} else if (k < 95) { /* deep nesting, over jansson's limit or not */
		size_t depth = rn(2) ? rn(100) : 1000 + rn(5000);

		b_str(b, "{\"cmd\":\"vip add\",\"vip\":\"10.9.0.1:80/tcp\",\"check\":");
		for (size_t i = 0; i < depth; i++)
			b_str(b, rn(2) ? "[" : "{\"kind\":");
		b_str(b, "1");
	} else if (k < 97) { /* long strings, in any place an error message may quote */
		static const char *const where[][2] = {
			{"{\"cmd\":\"", "\"}"},
			{"{\"cmd\":\"vip add\",\"vip\":\"", "\"}"},
			{"{\"cmd\":\"vip add\",\"vip\":\"10.9.0.1:80/tcp\",\"sched\":\"", "\"}"},
			{"{\"cmd\":\"vip set\",\"vip\":\"10.9.0.1:80/tcp\",\"fwd\":\"", "\"}"},
			{"{\"cmd\":\"vip add\",\"", "\":1}"},
			{"{\"cmd\":\"backend add\",\"vip\":\"10.9.0.1:80/tcp\",\"address\":\"",
			 "\"}"},
			{"{\"cmd\":\"backend set\",\"vip\":\"10.9.0.1:80/tcp\",\"address\":"
			 "\"10.1.0.1\",\"admin\":\"",
			 "\"}"},
			{"{\"cmd\":\"vip set\",\"vip\":\"10.9.0.1:80/tcp\",\"check\":{\"",
			 "\":1}}"},
			{"{\"cmd\":\"flow explain\",\"vip\":\"10.9.0.1:80/tcp\",\"client\":\"",
			 "\"}"},
		};
		size_t w = rn(sizeof(where) / sizeof(where[0])), len;
		/* Around the 255 bytes of an error message, or far beyond, or up to the limit. */
		len = rn(3) ? 200 + rn(120) : rn(2) ? rn(8000) : XLB_CTL_LINE_MAX - 300 + rn(250);
		b_str(b, where[w][0]);
		for (size_t i = 0; i < len;)
			switch (rn(4)) {
			case 0:
				b_str(b, "\xc3\xa9"), i += 2; /* two bytes */
				break;
			case 1:
				b_str(b, "\xe2\x82\xac"), i += 3;
				break;
			case 2:
				b_str(b, "\xf0\x9f\x98\x80"), i += 4;
				break;
			default:
				b_str(b, "a"), i++;
			}
		b_str(b, where[w][1]);
	} else if (k < 98) { /* raw NUL and control bytes */
		gen_command(b, false);
		b->p[rn(b->len)] = (char)rn(32);
	} else {
		b_printf(b, "{\"cmd\":\"%s %s\"}", PICK(cmds), PICK(cmds));
	}
	/* One line is one request: a newline inside would make two. */
	for (size_t i = 0; i < b->len; i++)
		if (b->p[i] == '\n')
			b->p[i] = ' ';
	if (b->len > XLB_CTL_LINE_MAX - 1)
		b->len = XLB_CTL_LINE_MAX - 1, b->p[b->len] = '\0';
}

/* ---- the client side --------------------------------------------------------------------- */

static int client_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	/* A full backlog says EAGAIN to a non-blocking connect: let xlbd accept, try again. */
	for (int i = 0; fd >= 0 && i < 2000; i++) {
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		if (errno != EAGAIN)
			break;
		event_base_loop(d.base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/*
 * Writes out (all of it) on fd while running the loop, and reads until `want` answer lines are
 * in, EOF, or 10 s. Returns the number of lines read; *eof tells whether the server closed.
 */
static size_t exchange(int fd, const struct buf *out, size_t want, struct buf *in, bool *eof)
{
	__u64 deadline = now_ms() + 10000;
	size_t off = 0, lines = 0;
	char tmp[65536];

	in->len = 0;
	*eof = false;
	while (now_ms() < deadline && (lines < want || off < out->len) && !*eof) {
		ssize_t n;
		bool idle = true;

		if (off < out->len) {
			n = write(fd, out->p + off, out->len - off);
			if (n > 0)
				off += n, idle = false;
			else if (n < 0 && errno != EAGAIN)
				off = out->len; /* the server closed: read what it said */
		}
		event_base_loop(d.base, EVLOOP_NONBLOCK);
		while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				lines += tmp[i] == '\n';
			b_put(in, tmp, n);
			idle = false;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN))
			*eof = true;
		if (idle)
			usleep(200);
	}
	return lines;
}

/* One line of in (from *pos), parsed; NULL if not a JSON object. */
static json_t *next_answer(const struct buf *in, size_t *pos)
{
	char *nl = in->len > *pos ? memchr(in->p + *pos, '\n', in->len - *pos) : NULL;
	json_t *j;

	if (!nl)
		return NULL;
	j = json_loadb(in->p + *pos, nl - (in->p + *pos), 0, NULL);
	*pos = nl - in->p + 1;
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The request as one line of bash ($'...'), for the reproduction line. */
static void print_escaped(FILE *f, const char *s, size_t len)
{
	size_t max = len > 4096 ? 4096 : len;

	fputs("$'", f);
	for (size_t i = 0; i < max; i++) {
		unsigned char c = s[i];

		if (c == '\'' || c == '\\' || c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fprintf(f, "'%s", len > max ? " (cut; length " : "");
	if (len > max)
		fprintf(f, "%zu)", len);
}

static void repro(unsigned long batch, const char *line, size_t len)
{
	fprintf(stderr,
		"  reproduce: FUZZ_SEED=%llu FUZZ_N=%lu %s (batch %lu); the request: printf "
		"'%%s\\n' ",
		(unsigned long long)seed, n_total, program_invocation_name, batch);
	print_escaped(stderr, line, len);
	fputs(" | socat - UNIX-CONNECT:/run/xlb/xlbd.sock\n", stderr);
}

/*
 * The request xlbd is handling, kept by a wrapper of xlbd_handle (linked with
 * -Wl,--wrap=xlbd_handle): if xlbd dies on it (a crash, a sanitizer report), the handler or
 * the sanitizer's death callback prints it as the reproduction line.
 */
static char current[8192];
static unsigned long current_batch;

json_t *__real_xlbd_handle(struct xlbd *xd, json_t *req, unsigned int uid, int pid);
json_t *__wrap_xlbd_handle(struct xlbd *xd, json_t *req, unsigned int uid, int pid);
json_t *__wrap_xlbd_handle(struct xlbd *xd, json_t *req, unsigned int uid, int pid)
{
	char *s = json_dumps(req, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *r;

	snprintf(current, sizeof(current),
		 "  reproduce: FUZZ_SEED=%llu FUZZ_N=%lu %s (batch %lu); xlbd died on: %s\n",
		 (unsigned long long)seed, n_total, program_invocation_name, current_batch,
		 s ? s : "?");
	free(s);
	r = __real_xlbd_handle(xd, req, uid, pid);
	current[0] = '\0';
	return r;
}

static void print_current(void)
{
	if (current[0] && write(2, current, strlen(current)) < 0)
		current[0] = '\0';
}

static void on_fatal(int sig)
{
	char fuzz[112];

	print_current();
	/* The temporary directory goes too (the names are made before anything can die). */
	snprintf(fuzz, sizeof(fuzz), "%s/fuzz.json", dir);
	unlink(fuzz);
	unlink(state_path);
	unlink(sock_path);
	rmdir(dir);
	signal(sig, SIG_DFL);
	raise(sig);
}

#ifdef __SANITIZE_ADDRESS__ /* make sanitize, make fuzz: a report ends the process */
#include <sanitizer/common_interface_defs.h>
#endif

static void catch_deaths(void)
{
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGFPE, on_fatal);
#ifdef __SANITIZE_ADDRESS__
	__sanitizer_set_death_callback(print_current);
#endif
}

/* ---- the invariants ------------------------------------------------------------------------ */

static json_t *ask(int fd, const char *line)
{
	struct buf out = {0}, in = {0};
	size_t pos = 0;
	json_t *j = NULL;
	bool eof;

	b_str(&out, line);
	b_str(&out, "\n");
	if (exchange(fd, &out, 1, &in, &eof) == 1)
		j = next_answer(&in, &pos);
	free(out.p);
	free(in.p);
	return j;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static bool same(json_t *a, json_t *b, const char *k)
{
	json_t *x = json_object_get(a, k), *y = json_object_get(b, k);

	return (!x && !y) || (x && y && json_equal(x, y));
}

/* The state file equals d->cfg, and `vip show` and `backend show` say what the file says. */
static bool state_agrees(int fd, const char **why)
{
	char err[512];
	struct xlbd_config c;
	json_t *file, *mem, *vs = NULL, *bs = NULL, *fv, *v;
	size_t i, j, k = 0;
	bool ok = false;

	if (xlbd_config_validate(&d.cfg, err, sizeof(err))) {
		*why = "xlbd's config is not valid";
		return false;
	}
	if (xlbd_config_load(state_path, &c, err, sizeof(err))) {
		*why = "the state file does not load";
		return false;
	}
	file = xlbd_config_to_json(&c);
	mem = xlbd_config_to_json(&d.cfg);
	xlbd_config_free(&c);
	*why = "the state file differs from xlbd's config";
	if (!json_equal(file, mem))
		goto out;
	vs = ask(fd, "{\"cmd\":\"vip show\"}");
	bs = ask(fd, "{\"cmd\":\"backend show\"}");
	*why = "vip show differs from the state file";
	fv = json_object_get(file, "vips");
	if (!vs || json_array_size(json_object_get(vs, "vips")) != json_array_size(fv))
		goto out;
	json_array_foreach(json_object_get(vs, "vips"), i, v) {
		json_t *f = json_array_get(fv, i), *fb = json_object_get(f, "backends"), *b;

		if (strcmp(str(v, "vip"), str(f, "vip")) || !same(v, f, "id") ||
		    !same(v, f, "sched") || !same(v, f, "fwd") || !same(v, f, "check") ||
		    json_is_true(json_object_get(v, "hash_dport")) !=
			    json_is_true(json_object_get(f, "hash_dport")) ||
		    json_integer_value(json_object_get(v, "backends")) !=
			    (json_int_t)json_array_size(fb))
			goto out;
		*why = "backend show differs from the state file";
		json_array_foreach(fb, j, b) {
			json_t *s = json_array_get(json_object_get(bs, "backends"), k++);

			if (!s || strcmp(str(s, "vip"), str(f, "vip")) ||
			    strcmp(str(s, "address"), str(b, "address")) || !same(s, b, "id") ||
			    !same(s, b, "weight") || !same(s, b, "admin") || !same(s, b, "check"))
				goto out;
		}
		*why = "vip show differs from the state file";
	}
	*why = "backend show lists more backends than the state file";
	ok = k == json_array_size(json_object_get(bs, "backends"));
out:
	json_decref(vs);
	json_decref(bs);
	json_decref(file);
	json_decref(mem);
	return ok;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int fd_count(void)
{
	DIR *dd = opendir("/proc/self/fd");
	int n = 0;

	while (dd && readdir(dd))
		n++;
	if (dd)
		closedir(dd);
	return n - 3; /* ., .. and the directory's own fd */
}

/* ---- connection cases ---------------------------------------------------------------------- */

/* A line over the limit: the answer to the request before it, the error, then the connection
 * closes (docs/control.md). */
static bool over_limit(void)
{
	int fd = client_connect();
	struct buf out = {0}, in = {0};
	size_t pos = 0, got;
	json_t *j;
	bool eof, ok;

	if (fd < 0)
		return false;
	b_str(&out, "{\"cmd\":\"vip show\"}\n{\"cmd\":\"");
	while (out.len < XLB_CTL_LINE_MAX + 16 + rn(20000))
		b_str(&out, "xxxxxxxxxxxxxxxx");
	b_str(&out, "\"}\n");
	got = exchange(fd, &out, 2, &in, &eof);
	j = next_answer(&in, &pos);
	ok = j && json_is_true(json_object_get(j, "ok")); /* the request before it */
	json_decref(j);
	j = got >= 2 ? next_answer(&in, &pos) : NULL;
	if (!ok || !(j && json_is_false(json_object_get(j, "ok")))) {
		fprintf(stderr,
			"    a line over the limit: %zu answers, not the answer and the error\n",
			got);
		ok = false;
	}
	json_decref(j);
	close(fd);
	free(out.p);
	free(in.p);
	return ok;
}

/* Requests, then shutdown(SHUT_WR): every answer, then EOF. */
static bool half_close(void)
{
	/* A few, or enough that the answers outgrow a socket buffer (16 KiB here). */
	int fd = client_connect(), n = rn(4) ? 1 + rn(5) : 100 + rn(200);
	struct buf out = {0}, in = {0};
	bool eof, ok;
	size_t got;

	if (fd < 0)
		return false;
	for (int i = 0; i < n; i++)
		b_str(&out, rn(2) ? "{\"cmd\":\"backend show\"}\n" : "{\"cmd\":\"prog show\"}\n");
	while (write(fd, out.p, out.len) < 0 && errno == EAGAIN)
		event_base_loop(d.base, EVLOOP_NONBLOCK);
	shutdown(fd, SHUT_WR);
	out.len = 0;
	got = exchange(fd, &out, n, &in, &eof);
	ok = got == (size_t)n;
	if (!ok)
		fprintf(stderr, "    half-close: %zu answers to %d requests\n", got, n);
	close(fd);
	free(out.p);
	free(in.p);
	return ok;
}

/* Half a request, then the client goes: xlbd forgets it. */
static bool partial_then_close(void)
{
	int fd = client_connect();
	struct buf b = {0};

	if (fd < 0)
		return false;
	gen_command(&b, false);
	/* The server may have gone already: nothing to check about this write. */
	if (write(fd, b.p, rn(b.len + 1)) < 0)
		n_conn_cases += 0;
	event_base_loop(d.base, EVLOOP_NONBLOCK);
	close(fd);
	event_base_loop(d.base, EVLOOP_NONBLOCK);
	free(b.p);
	return true;
}

/* A client pipelines requests and reads nothing; another one must still be answered (xlbd
 * stops reading a connection whose answers pile up: docs/control.md). The wait is reported. */
static __u64 worst_slow_ms;

static bool slow_reader(void)
{
	int slow = client_connect(), other = client_connect();
	struct buf out = {0};
	__u64 t0;
	json_t *j;
	ssize_t n;

	if (slow < 0 || other < 0) {
		if (slow >= 0)
			close(slow);
		return false;
	}
	for (int i = 0; i < 500; i++)
		b_str(&out, "{\"cmd\":\"backend show\"}\n");
	for (size_t off = 0; off < out.len && (n = write(slow, out.p + off, out.len - off)) > 0;
	     off += n)
		event_base_loop(d.base, EVLOOP_NONBLOCK);
	t0 = now_ms();
	j = ask(other, "{\"cmd\":\"prog show\"}");
	if (now_ms() - t0 > worst_slow_ms)
		worst_slow_ms = now_ms() - t0;
	close(slow);
	close(other);
	free(out.p);
	json_decref(j);
	return j != NULL;
}

/* Many clients at once, one request each, every one answered. */
static bool many_clients(int n)
{
	int fds[256];
	struct buf out = {0}, in = {0};
	bool ok = true, eof;
	int refused = 0;

	for (int i = 0; i < n; i++)
		fds[i] = client_connect();
	/* A refused client may find its connection closed already (EPIPE): its answer, the
	 * refusal, is still there to read. */
	for (int i = 0; i < n; i++)
		if (fds[i] < 0 ||
		    (write(fds[i], "{\"cmd\":\"vip show\"}\n", 19) != 19 && errno != EPIPE))
			ok = false;
	/* Past xlbd's cap (docs/control.md, Connections) a client's one answer is the refusal. */
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		size_t got = exchange(fds[i], &out, 1, &in, &eof);

		if (got != 1 ||
		    (!strstr(in.p, "\"ok\":true") && !strstr(in.p, "try again later"))) {
			fprintf(stderr, "    client %d of %d: %zu answers%s: %.200s\n", i, n, got,
				eof ? " (closed)" : "", in.p ? in.p : "");
			ok = false;
		}
		refused += in.p && strstr(in.p, "try again later") != NULL;
		close(fds[i]);
	}
	printf("# fuzz: %d clients at once: %d refused at the connection cap, each with its line\n",
	       n, refused);
	free(in.p);
	return ok;
}

static int busy_uploads(void)
{
	int n = 0;

	for (int i = 0; i < XLBD_UPLOADS; i++)
		n += d.commands.uploads[i].id != 0;
	return n;
}

/*
 * The node's own export sent in pieces of random sizes (config upload), applied as a dry run:
 * no changes; then applied for real: no changes, nothing committed; the id once more, or by
 * another uid: unknown (docs/control.md, config upload).
 */
static bool upload_apply(void)
{
	json_t *c = xlbd_config_to_json(&d.cfg), *r = NULL;
	unsigned long long changes = d.commands.changes;
	int fd = client_connect();
	size_t len = 0, at = 0;
	char *text = NULL, id[32] = "";
	bool ok = fd >= 0 && c;

	/* The generated lines start uploads they never finish: each holds its slot for 30 s. With
	 * every slot held, a new one is refused, as documented; those are then dropped here. */
	if (ok && busy_uploads() == XLBD_UPLOADS) {
		r = ask(fd, "{\"cmd\":\"config upload\",\"data\":\"{\"}");
		ok = strstr(str(r, "error"), "uploads are in progress") != NULL;
		if (!ok)
			printf("# upload_apply: every slot held, a new upload answered %s\n",
			       str(r, "error")[0] ? str(r, "error") : "ok");
		json_decref(r);
		for (int i = 0; i < XLBD_UPLOADS; i++) {
			free(d.commands.uploads[i].buf);
			d.commands.uploads[i] = (struct xlbd_upload){0};
		}
	}
	if (ok) {
		json_object_del(c, "drained");
		text = json_dumps(c, JSON_COMPACT | JSON_ENSURE_ASCII); /* cut anywhere: ASCII */
		len = text ? strlen(text) : 0;
		ok = len > 0;
	}
	while (ok && at < len) {
		size_t n = 1 + rn(len - at < 16384 ? len - at : 16384);
		json_t *req =
			json_pack("{s:s, s:s%}", "cmd", "config upload", "data", text + at, n);
		char *line;

		if (id[0])
			json_object_set_new(req, "upload", json_string(id));
		line = json_dumps(req, JSON_COMPACT);
		r = line ? ask(fd, line) : NULL;
		ok = json_is_true(json_object_get(r, "ok")) &&
		     json_integer_value(json_object_get(r, "bytes")) == (json_int_t)(at + n);
		if (ok && !id[0])
			snprintf(id, sizeof(id), "%s", str(r, "upload"));
		json_decref(r);
		json_decref(req);
		free(line);
		at += n;
	}
	for (int i = 0; ok && i < 3; i++) {
		char line[128];

		snprintf(line, sizeof(line), "{\"cmd\":\"config apply\",\"upload\":\"%s\"%s}", id,
			 i == 0 ? "" : ",\"dry_run\":true");
		r = ask(fd, line);
		if (i == 0)
			ok = json_is_true(json_object_get(r, "ok")) &&
			     json_array_size(json_object_get(r, "changes")) == 0 &&
			     d.commands.changes == changes;
		else
			ok = strstr(str(r, "error"), "unknown upload") != NULL;
		if (!ok)
			printf("# upload_apply: %s answered %s\n", line,
			       str(r, "error")[0] ? str(r, "error") : "ok, with changes");
		json_decref(r);
	}
	free(text);
	json_decref(c);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* ---- the control fuzzer ------------------------------------------------------------------- */

#define BATCH 100

static struct buf lines[BATCH];

static bool run_batch(int *fd, unsigned long batch, size_t nreq)
{
	struct buf out = {0}, in = {0};
	size_t pos = 0, got, i;
	const char *why;
	bool eof, ok = true;

	for (i = 0; i < nreq; i++) {
		gen_line(&lines[i]);
		b_put(&out, lines[i].p, lines[i].len);
		b_str(&out, "\n");
	}
	/* The last answer must be this one's: answers are in step with their requests. */
	b_str(&out, "{\"cmd\":\"prog show\"}\n");
	got = exchange(*fd, &out, nreq + 1, &in, &eof);
	for (i = 0; i < got && i < nreq; i++) {
		json_t *j = next_answer(&in, &pos);

		if (!j || !json_is_boolean(json_object_get(j, "ok")) ||
		    (json_is_false(json_object_get(j, "ok")) &&
		     !json_is_string(json_object_get(j, "error")))) {
			ok = xt_fail(__FILE__, __LINE__, "batch %lu: answer %zu is not an answer",
				     batch, i);
			repro(batch, lines[i].p, lines[i].len);
			json_decref(j);
			break;
		}
		n_ok += json_is_true(json_object_get(j, "ok"));
		if (verbose)
			printf("# %.200s -> %.200s\n", lines[i].p,
			       json_is_true(json_object_get(j, "ok")) ? "ok" : str(j, "error"));
		json_decref(j);
	}
	if (ok && got != nreq + 1) {
		ok = xt_fail(__FILE__, __LINE__, "batch %lu: %zu answers to %zu requests%s", batch,
			     got, nreq + 1, eof ? " (connection closed)" : "");
		/* Which one: each again, alone, on a connection of its own. */
		for (i = 0; i < nreq; i++) {
			int one = client_connect();
			json_t *j = one >= 0 ? ask(one, lines[i].p) : NULL;

			if (one >= 0)
				close(one);
			if (!j) {
				repro(batch, lines[i].p, lines[i].len);
				break;
			}
			json_decref(j);
		}
	} else if (ok) {
		json_t *j = next_answer(&in, &pos);

		if (!json_object_get(j, "prog_id")) {
			ok = xt_fail(__FILE__, __LINE__, "batch %lu: answers out of step", batch);
			repro(batch, lines[nreq - 1].p, lines[nreq - 1].len);
		}
		json_decref(j);
	}
	n_requests += nreq;
	free(out.p);
	free(in.p);
	if (eof) {
		close(*fd);
		*fd = client_connect();
	}
	max_vips = d.cfg.nvips > max_vips ? d.cfg.nvips : max_vips;
	for (i = 0; i < d.cfg.nvips; i++)
		max_backends = d.cfg.vips[i].nbe > max_backends ? d.cfg.vips[i].nbe : max_backends;
	if (ok && !state_agrees(*fd, &why))
		ok = xt_fail(__FILE__, __LINE__, "batch %lu: %s", batch, why);
	return ok;
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static int setup(void)
{
	struct xlb_dp_opts opts = {.flow_entries = 4096, .lb_mac = {2, 0, 0, 0, 0, 1}};
	char err[256];
	int e;

	signal(SIGPIPE, SIG_IGN); /* as main.c: a client gone is an error of one write */
	catch_deaths();
	if (unshare(CLONE_NEWNET))
		return -errno;
	snprintf(state_path, sizeof(state_path), "%s/state.json", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/xlbd.sock", dir);
	d.state_path = state_path;
	d.socket_path = sock_path;
	snprintf(d.ifname, sizeof(d.ifname), "lo");
	d.ifindex = 1;
	d.cfg.hash_seed = (__u32)seed;
	opts.hash_seed = d.cfg.hash_seed;
	e = xlbd_config_save(state_path, &d.cfg, err, sizeof(err));
	e = e ?: xlb_dp_load(&opts, &d.dp);
	if (e)
		return e;
	d.base = event_base_new();
	e = d.base ? xlbd_apply_init(&d) : -ENOMEM;
	if (e)
		return e;
	d.view = (struct xlbd_view){.macs = &d.macs, .health = &d.health};
	xlbd_health_init(&d.health, d.base, d.dp, &d.cfg, xlbd_apply_soon, &d);
	e = xlbd_macs_open(&d.macs, d.base, d.ifindex, &d.cfg, xlbd_apply_soon, &d);
	if (e)
		return e;
	xlbd_health_sync(&d.health, NULL, true);
	e = xlbd_apply(&d, NULL, true);
	return e ?: xlbd_control_open(&d);
}

static void teardown(void)
{
	xlbd_control_close(&d);
	xlbd_health_stop(&d.health);
	xlbd_macs_close(&d.macs);
	xlbd_apply_free(&d);
	xlbd_commands_free(&d.commands); /* uploads and their timer: before the base goes */
	xlbd_explain_close(&d);
	xlb_dp_destroy(d.dp);
	xlbd_config_free(&d.cfg);
	if (d.base)
		event_base_free(d.base);
	unlink(state_path);
}

static void test_control_protocol(void)
{
	unsigned long n = n_total = env_ul("FUZZ_N", 20000), batches = (n + BATCH - 1) / BATCH;
	unsigned long b;
	long rss0, rss1;
	int fd, fd0, fd1;
	bool ok = true;

	fd = client_connect();
	if (!ASSERT_TRUE(fd >= 0, "connect"))
		return;
	json_decref(ask(fd, "{\"cmd\":\"prog show\"}")); /* accepted: its server side counts */
	rss0 = rss_kib();
	fd0 = fd_count();
	for (b = 0; b < batches && ok; b++) {
		current_batch = b;
		ok = run_batch(&fd, b, n - b * BATCH < BATCH ? n - b * BATCH : BATCH);
		if (!ok || fd < 0)
			break;
		/* Connection cases between batches. */
		n_conn_cases += 3;
		ok = ASSERT_TRUE(
			over_limit() && half_close() && partial_then_close(),
			"the connection cases: a line over the limit, half-close, a partial line");
		if (ok && b % 20 == 0) {
			n_conn_cases++;
			ok = ASSERT_TRUE(many_clients(100 + rn(150)), "many clients");
			/* A flood of new connections may take the place of our idle one: a new one. */
			close(fd);
			fd = client_connect();
			if (!ASSERT_TRUE(fd >= 0, "connect after many clients"))
				return;
			json_decref(ask(fd, "{\"cmd\":\"prog show\"}"));
		}
		if (ok && b % 20 == 10) {
			n_conn_cases++;
			ok = ASSERT_TRUE(slow_reader(), "answered beside a slow reader");
		}
		if (ok && b % 10 == 5) {
			n_conn_cases++;
			ok = ASSERT_TRUE(upload_apply(), "the node's export, uploaded in pieces, "
							 "applies as no change");
		}
	}
	if (!ASSERT_TRUE(fd >= 0, "the connection"))
		return;
	/* Everything removed: no fd may be left behind (health probes included). */
	while (d.cfg.nvips) {
		char line[128], vs[XLB_ADDRSTRLEN];
		json_t *j;

		xlb_format_vip(&d.cfg.vips[0].key, vs, sizeof(vs));
		snprintf(line, sizeof(line), "{\"cmd\":\"vip del\",\"vip\":\"%s\"}", vs);
		j = ask(fd, line);
		if (!ASSERT_TRUE(json_is_true(json_object_get(j, "ok")), line))
			break;
		json_decref(j);
	}
	for (int i = 0; i < 50; i++)
		event_base_loop(d.base, EVLOOP_NONBLOCK), usleep(1000);
	xlbd_explain_close(&d); /* a cache, loaded by the first flow explain: its fds go too */
	rss1 = rss_kib();
	fd1 = fd_count();
	close(fd);
	/* xlbd frees a connection when it sees the close. */
	for (int i = 0; i < 20; i++)
		event_base_loop(d.base, EVLOOP_NONBLOCK), usleep(1000);
	printf("# fuzz: seed %llu: %lu requests in %lu batches (%lu answered ok, %llu changes "
	       "committed, up to %zu vips and %zu backends in one), %lu connection cases; "
	       "RSS %ld -> %ld KiB, fds %d -> %d\n",
	       (unsigned long long)seed, n_requests, b, n_ok,
	       (unsigned long long)d.commands.changes, max_vips, max_backends, n_conn_cases, rss0,
	       rss1, fd0, fd1);
	printf("# fuzz: beside a client that pipelines 500 backend show and reads nothing, another "
	       "one waited at most %llu ms for prog show\n",
	       (unsigned long long)worst_slow_ms);
	if (!ASSERT_LE(fd1, fd0, "no fd left behind")) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "ls -l /proc/%d/fd >&2", getpid());
		if (system(cmd)) {
		}
	}
}

/* ---- the state-file fuzzer ---------------------------------------------------------------- */

/* The small valid state file: two VIPs, four backends, checks of three kinds. */
static const char small_state[] =
	"{\"version\": 1, \"hash_seed\": 7, \"vips\": [\n"
	" {\"vip\": \"10.0.0.10:80/tcp\", \"id\": 1, \"sched\": \"wrr\", \"fwd\": \"dsr-l2\",\n"
	"  \"check\": {\"kind\": \"http\", \"interval_ms\": 200, \"timeout_ms\": 100, \"path\": "
	"\"/h\"},\n"
	"  \"backends\": [{\"address\": \"10.0.1.2\", \"id\": 1, \"weight\": 3, \"admin\": "
	"\"up\"},\n"
	"   {\"address\": \"10.0.1.3\", \"id\": 2, \"weight\": 1, \"admin\": \"drain\",\n"
	"    \"check\": {\"kind\": \"tcp\", \"port\": 8080}}]},\n"
	" {\"vip\": \"[2001:db8::10]:53/udp\", \"id\": 4, \"sched\": \"source-hash\", "
	"\"hash_dport\": true,\n"
	"  \"check\": {\"kind\": \"udp\", \"payload\": \"ping\"},\n"
	"  \"backends\": [{\"address\": \"2001:db8::2\", \"id\": 9, \"weight\": 1000}]}]}\n";

/* Loads text as a state file: refused with the file named, or accepted and then valid, saved
 * and loaded back the same. Returns 0 (accepted) or -EINVAL; *err the message. */
static int load_text(const char *text, size_t len, char *err, size_t errlen)
{
	char path[112], back_path[112];
	struct xlbd_config c, back;
	json_t *a, *b;
	int fd, e;

	snprintf(path, sizeof(path), "%s/fuzz.json", dir);
	snprintf(back_path, sizeof(back_path), "%s/back.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
	n_state_files++;
	err[0] = '\0';
	e = xlbd_config_load(path, &c, err, errlen);
	if (e) {
		if (!strstr(err, path))
			xt_fail(__FILE__, __LINE__, "message without the file's name: %s", err);
		return e;
	}
	if (!ASSERT_OK(xlbd_config_validate(&c, err, errlen), "an accepted file is valid") ||
	    !ASSERT_OK(xlbd_config_save(back_path, &c, err, errlen), "saved") ||
	    !ASSERT_OK(xlbd_config_load(back_path, &back, err, errlen), "loaded back")) {
		xlbd_config_free(&c);
		return 0;
	}
	a = xlbd_config_to_json(&c);
	b = xlbd_config_to_json(&back);
	ASSERT_TRUE(json_equal(a, b), "the same after a save and a load");
	json_decref(a);
	json_decref(b);
	xlbd_config_free(&c);
	xlbd_config_free(&back);
	unlink(back_path);
	return 0;
}

static void state_repro(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "  reproduce: FUZZ_SEED=%llu %s, %s: ", (unsigned long long)seed,
		program_invocation_name, what);
	print_escaped(stderr, text, len);
	fputc('\n', stderr);
}

/* Every member (path of object keys), for wrong types, unknown names and duplicates. */
struct slot {
	json_t *obj; /* the object holding it */
	const char *key;
};

static void collect(json_t *j, struct slot *s, size_t *n, size_t max)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (*n < max)
				s[(*n)++] = (struct slot){j, k};
			collect(v, s, n, max);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			collect(v, s, n, max);
	}
}

/* j as text, with the first member of `dup` written twice. */
static void emit(struct buf *b, json_t *j, json_t *dup)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		bool first = true;

		b_str(b, "{");
		json_object_foreach(j, k, v) {
			for (int t = 0; t < (j == dup && first ? 2 : 1); t++) {
				json_t *kj = json_string(k);
				char *ks = json_dumps(kj, JSON_ENCODE_ANY);

				b_str(b, first && !t ? "" : ",");
				b_str(b, ks);
				b_str(b, ":");
				free(ks);
				json_decref(kj);
				emit(b, v, dup);
			}
			first = false;
		}
		b_str(b, "}");
	} else if (json_is_array(j)) {
		b_str(b, "[");
		json_array_foreach(j, i, v) {
			if (i)
				b_str(b, ",");
			emit(b, v, dup);
		}
		b_str(b, "]");
	} else {
		char *s = json_dumps(j, JSON_ENCODE_ANY);

		b_str(b, s);
		free(s);
	}
}

/* A value of another JSON type than v's. */
static json_t *other_type(json_t *v)
{
	json_t *c[] = {json_string("x"), json_integer(rnd() >> rn(64)),
		       json_real(1.5),	 json_true(),
		       json_null(),	 json_array(),
		       json_object()};
	json_t *r = NULL;

	while (!r) {
		json_t *x = c[rn(7)];

		if (json_typeof(x) != json_typeof(v) && !(json_is_boolean(x) && json_is_boolean(v)))
			r = json_incref(x);
	}
	for (int i = 0; i < 7; i++)
		json_decref(c[i]);
	return r;
}

static void test_state_file(void)
{
	size_t len = strlen(small_state), end = len, nflips = env_ul("FUZZ_N", 20000) / 10;
	char err[1024];
	struct buf b = {0};
	struct slot slots[128];
	size_t nslots = 0;
	json_t *base = json_loads(small_state, 0, NULL);

	if (!ASSERT_OK(load_text(small_state, len, err, sizeof(err)), err))
		return;
	while (end && small_state[end - 1] != '}')
		end--;
	/* Every truncation: refused unless only the trailing blank went. */
	for (size_t k = 0; k < len; k++)
		if (load_text(small_state, k, err, sizeof(err)) != (k < end ? -EINVAL : 0)) {
			xt_fail(__FILE__, __LINE__, "truncated to %zu bytes: %s", k,
				k < end ? "accepted" : err);
			state_repro("truncated", small_state, k);
		}
	/* Byte flips (accepted or not: load_text checks what follows either way). */
	for (size_t i = 0; i < nflips; i++) {
		b.len = 0;
		b_put(&b, small_state, len);
		for (int f = 1 + rn(3); f; f--)
			if (rn(2))
				b.p[rn(len)] ^= 1 << rn(8);
			else
				b.p[rn(len)] = (char)rn(256);
		load_text(b.p, b.len, err, sizeof(err));
	}
	collect(base, slots, &nslots, sizeof(slots) / sizeof(slots[0]));
	/* Each member of another type, unknown names, duplicates: refused, naming the member. */
	for (size_t i = 0; i < nslots; i++) {
		json_t *copy = json_deep_copy(base), *obj;
		struct slot s[128];
		size_t n = 0;

		collect(copy, s, &n, 128);
		obj = s[i].obj;
		for (int what = 0; what < 3; what++) {
			char key[96], orig[80];
			json_t *v;

			snprintf(orig, sizeof(orig), "%s", s[i].key);
			snprintf(key, sizeof(key), "%s", orig);
			v = json_incref(json_object_get(obj, orig));
			b.len = 0;
			if (what == 0) {
				json_object_set_new(obj, key, other_type(v));
				emit(&b, copy, NULL);
			} else if (what == 1) {
				snprintf(key, sizeof(key), "%sx", orig);
				json_object_set_new(obj, key, json_integer(1));
				emit(&b, copy, NULL);
				json_object_del(obj, key);
			} else {
				emit(&b, copy, obj);
			}
			if (load_text(b.p, b.len, err, sizeof(err)) != -EINVAL ||
			    (what < 2 && !strstr(err, key) && !strstr(err, "not an object"))) {
				xt_fail(__FILE__, __LINE__, "%s \"%s\": %s",
					what == 0   ? "wrong type of"
					: what == 1 ? "unknown"
						    : "twice",
					key, err[0] ? err : "accepted");
				state_repro("mutated", b.p, b.len);
			}
			json_object_set(obj, orig, v);
			json_decref(v);
		}
		json_decref(copy);
	}
	/* Huge arrays and deep nesting: refused, quickly. */
	b.len = 0;
	b_str(&b, "{\"version\": 1, \"hash_seed\": 1, \"vips\": [");
	for (int i = 0; i < 100000; i++)
		b_str(&b, i ? ",1" : "1");
	b_str(&b, "]}");
	ASSERT_EQ(load_text(b.p, b.len, err, sizeof(err)), -EINVAL, "100,000 vips");
	b.len = 0;
	b_str(&b, "{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", "
		  "\"id\": 1, \"backends\": [");
	for (int i = 0; i < 2000; i++)
		b_printf(&b, "%s{\"address\": \"10.%d.%d.1\", \"id\": %d, \"weight\": 1}",
			 i ? "," : "", i / 256, i % 256, i + 1);
	b_str(&b, "]}]}");
	ASSERT_EQ(load_text(b.p, b.len, err, sizeof(err)), -EINVAL, "2,000 backends in a vip");
	ASSERT_HAS_SUBSTR(err, "more than 1024 backends", "says why");
	b.len = 0;
	b_str(&b, "{\"version\": 1, \"hash_seed\": 1, \"vips\": ");
	for (int i = 0; i < 100000; i++)
		b_str(&b, "[");
	ASSERT_EQ(load_text(b.p, b.len, err, sizeof(err)), -EINVAL, "nesting 100,000 deep");
	printf("# fuzz: seed %llu: %lu state files (%zu truncations, %zu with bytes changed, "
	       "%zu members retyped, renamed and repeated, 3 huge)\n",
	       (unsigned long long)seed, n_state_files, len, nflips, nslots);
	json_decref(base);
	free(b.p);
	snprintf(err, sizeof(err), "%s/fuzz.json", dir);
	unlink(err);
}

int main(void)
{
	int e;

	seed = env_ul("FUZZ_SEED", 0);
	verbose = env_ul("FUZZ_VERBOSE", 0);
	if (!seed)
		seed = (__u64)time(NULL) ^ (__u64)getpid() << 32;
	rng = seed | 1;
	printf("# fuzz: seed %llu (FUZZ_SEED=%llu repeats this run)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	snprintf(dir, sizeof(dir), "/dev/shm/xlb-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		snprintf(dir, sizeof(dir), "/tmp/xlb-fuzz-XXXXXX");
	if (dir[1] == 't' && !mkdtemp(dir)) {
		printf("FAIL test_fuzz/setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	xlb_log_set_level(XLB_LOG_ERROR);
	RUN_TEST(test_state_file);
	rng = seed | 1;
	e = setup();
	if (e) {
		printf("FAIL test_fuzz/setup: %s\n", strerror(-e));
		teardown();
		rmdir(dir);
		return 1;
	}
	RUN_TEST(test_control_protocol);
	teardown();
	for (int i = 0; i < BATCH; i++)
		free(lines[i].p);
	rmdir(dir);
	return xt_finish();
}
