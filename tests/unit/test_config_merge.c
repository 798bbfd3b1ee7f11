/* test_config_merge.c - config apply's diff: what changed, the ids kept and given, bad files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check.h"
#include "xlbd.h"

/* The node's configuration: seed 7; 10.0.0.10:80/tcp (id 3) with 10.0.1.2 (id 5, weight 3),
 * 10.0.1.3 (id 9); [2001:db8::10]:443/udp (id 1) with 2001:db8::2 (id 2). */
static const char *const node = "{\"version\": 1, \"hash_seed\": 7, \"vips\": ["
				"{\"vip\": \"10.0.0.10:80/tcp\", \"id\": 3, \"backends\": ["
				"{\"address\": \"10.0.1.2\", \"id\": 5, \"weight\": 3},"
				"{\"address\": \"10.0.1.3\", \"id\": 9, \"weight\": 1}]},"
				"{\"vip\": \"[2001:db8::10]:443/udp\", \"id\": 1, \"backends\": ["
				"{\"address\": \"2001:db8::2\", \"id\": 2, \"weight\": 1}]}]}";

static int load(const char *text, struct xlbd_config *c, bool ids, bool *seed)
{
	char err[256];
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int e;

	if (!ASSERT_TRUE(j != NULL, "test JSON parses"))
		return -EINVAL;
	e = xlbd_config_parse(j, c, ids, seed, err, sizeof(err));
	json_decref(j);
	return e;
}

/* The changes as "change vip address: what" lines joined by '|'. */
static void changes_text(json_t *changes, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *c;

	buf[0] = '\0';
	json_array_foreach(changes, i, c) {
		const char *v = json_string_value(json_object_get(c, "vip"));
		const char *a = json_string_value(json_object_get(c, "address"));
		const char *w = json_string_value(json_object_get(c, "what"));

		off += snprintf(buf + off, len - off, "%s%s%s%s%s%s%s", i ? "|" : "",
				json_string_value(json_object_get(c, "change")), v ? " " : "",
				v ? v : "", a ? " " : "", a ? a : "", "");
		if (w)
			off += snprintf(buf + off, len - off, ": %s", w);
	}
}

/* merge(node, file): its return, the changes in text and next in *out (freed by the caller). */
static int merge(const char *file, char *text, size_t len, struct xlbd_config *out, char *err)
{
	struct xlbd_config cur;
	json_t *before, *after, *changes = json_array();
	bool seed = false;
	int e;

	memset(out, 0, sizeof(*out));
	if (load(node, &cur, true, NULL) || load(file, out, false, &seed)) {
		json_decref(changes);
		return -EINVAL;
	}
	before = xlbd_config_to_json(&cur);
	e = xlbd_config_merge(&cur, out, seed, changes, err, 256);
	after = xlbd_config_to_json(&cur);
	ASSERT_TRUE(json_equal(before, after), "the current configuration is not touched");
	changes_text(changes, text, len);
	json_decref(before);
	json_decref(after);
	json_decref(changes);
	xlbd_config_free(&cur);
	return e;
}

static void test_same_is_no_change(void)
{
	struct xlbd_config next;
	char text[1024], err[256];

	/* The node's own export, and the same without ids (another node's ids differ anyway). */
	ASSERT_OK(merge(node, text, sizeof(text), &next, err), "merge of itself");
	ASSERT_STREQ(text, "", "no changes");
	xlbd_config_free(&next);
	ASSERT_OK(merge("{\"version\": 1, \"hash_seed\": 7, \"vips\": ["
			"{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
			"{\"address\": \"10.0.1.2\", \"weight\": 3}, {\"address\": \"10.0.1.3\"}]},"
			"{\"vip\": \"[2001:db8::10]:443/udp\", \"id\": 400, \"backends\": ["
			"{\"address\": \"2001:db8::2\", \"id\": 77}]}]}",
			text, sizeof(text), &next, err),
		  "merge without ids, other ids");
	ASSERT_STREQ(text, "", "ids are no change");
	ASSERT_EQ(next.vips[0].id, 3, "kept vip: its id");
	ASSERT_EQ(next.vips[1].id, 1, "kept vip: its id, not the file's");
	ASSERT_EQ(next.vips[0].be[1].id, 9, "kept backend: its id");
	ASSERT_EQ(next.vips[1].be[0].id, 2, "kept backend: its id, not the file's");
	xlbd_config_free(&next);
}

static void test_each_change(void)
{
	struct xlbd_config next;
	char text[2048], err[256];

	/* seed; v4: 10.0.1.3 removed, 10.0.1.2 weight and admin, 10.0.1.4 added, rr; v6 removed;
	 * 10.0.0.11:53/udp added. */
	ASSERT_OK(merge("{\"version\": 1, \"hash_seed\": 8, \"vips\": ["
			"{\"vip\": \"10.0.0.10:80/tcp\", \"sched\": \"rr\", \"backends\": ["
			"{\"address\": \"10.0.1.4\"},"
			"{\"address\": \"10.0.1.2\", \"weight\": 4, \"admin\": \"drain\"}]},"
			"{\"vip\": \"10.0.0.11:53/udp\", \"backends\": ["
			"{\"address\": \"10.0.1.9\", \"weight\": 2}]}]}",
			text, sizeof(text), &next, err),
		  "merge");
	ASSERT_STREQ(text,
		     "seed changed: hash-seed 7 -> 8|"
		     "vip removed [2001:db8::10]:443/udp|"
		     "vip changed 10.0.0.10:80/tcp: sched maglev -> rr|"
		     "backend removed 10.0.0.10:80/tcp 10.0.1.3|"
		     "backend added 10.0.0.10:80/tcp 10.0.1.4: weight 1 admin up|"
		     "backend changed 10.0.0.10:80/tcp 10.0.1.2: weight 3 -> 4; admin up -> drain|"
		     "vip added 10.0.0.11:53/udp|"
		     "backend added 10.0.0.11:53/udp 10.0.1.9: weight 2 admin up",
		     "every change, in order");
	/* New ids: none of the node's (a removed one's id is not given again in one change). */
	ASSERT_EQ(next.vips[0].id, 3, "kept vip keeps its id");
	ASSERT_EQ(next.vips[1].id, 2, "new vip: the smallest id the node does not use");
	ASSERT_EQ(next.vips[0].be[1].id, 5, "kept backend keeps its id");
	ASSERT_EQ(next.vips[0].be[0].id, 1, "new backend: smallest unused id");
	ASSERT_EQ(next.vips[1].be[0].id, 3, "new backend: not 2 nor 9, the removed ones'");
	ASSERT_EQ(next.hash_seed, 8, "the file's seed");
	xlbd_config_free(&next);
}

static void test_order_and_seed_kept(void)
{
	struct xlbd_config next;
	char text[1024], err[256];

	/* No seed in the file: the node's stays. The v4 backends in the other order. */
	ASSERT_OK(merge("{\"version\": 1, \"vips\": ["
			"{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
			"{\"address\": \"10.0.1.3\"}, {\"address\": \"10.0.1.2\", \"weight\": 3}]},"
			"{\"vip\": \"[2001:db8::10]:443/udp\", \"backends\": ["
			"{\"address\": \"2001:db8::2\"}]}]}",
			text, sizeof(text), &next, err),
		  "merge");
	ASSERT_STREQ(text, "vip changed 10.0.0.10:80/tcp: backend order",
		     "an order change is a change (rings are filled in member order)");
	ASSERT_EQ(next.hash_seed, 7, "no seed given: the node's");
	xlbd_config_free(&next);
}

/* One backend address in two VIPs is two backends: an id each, the kept one keeps its own. */
static void test_backend_in_two_vips(void)
{
	struct xlbd_config next;
	char text[1024], err[256];

	ASSERT_OK(merge("{\"version\": 1, \"hash_seed\": 7, \"vips\": ["
			"{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
			"{\"address\": \"10.0.1.2\", \"weight\": 3}, {\"address\": \"10.0.1.3\"}]},"
			"{\"vip\": \"10.0.0.10:443/tcp\", \"backends\": [{\"address\": "
			"\"10.0.1.2\"}]},"
			"{\"vip\": \"[2001:db8::10]:443/udp\", \"backends\": ["
			"{\"address\": \"2001:db8::2\"}]}]}",
			text, sizeof(text), &next, err),
		  "merge");
	ASSERT_STREQ(text,
		     "vip added 10.0.0.10:443/tcp|"
		     "backend added 10.0.0.10:443/tcp 10.0.1.2: weight 1 admin up",
		     "a VIP and its backend added");
	ASSERT_EQ(next.vips[0].be[0].id, 5, "the kept one keeps its id");
	ASSERT_TRUE(next.vips[1].be[0].id != 5 && next.vips[1].be[0].id != 0,
		    "the new one: its own");
	xlbd_config_free(&next);
}

/* A bad file: refused whole with the problem named; the node's configuration untouched (merge
 * checks that for every call). */
static void test_bad_files(void)
{
	static const struct {
		const char *desc, *file, *want;
	} cases[] = {
		{"vip twice",
		 "{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\"},"
		 "{\"vip\": \"10.0.0.10:80/tcp\"}]}",
		 "vip 10.0.0.10:80/tcp is defined twice"},
		{"backend twice",
		 "{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
		 "{\"address\": \"10.0.1.2\"}, {\"address\": \"10.0.1.2\"}]}]}",
		 "backend 10.0.1.2 is in vip 10.0.0.10:80/tcp twice"},
		{"loopback backend",
		 "{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
		 "{\"address\": \"10.0.1.2\"}, {\"address\": \"127.0.0.1\"}]}]}",
		 "loopback"},
		{"backend is a vip",
		 "{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
		 "{\"address\": \"10.0.0.11\"}]}, {\"vip\": \"10.0.0.11:80/tcp\"}]}",
		 "the address of vip 10.0.0.11:80/tcp"},
		{"hash-dport with maglev",
		 "{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"hash_dport\": "
		 "true}]}",
		 "hash-dport applies to the source-hash scheduler"},
		{"family",
		 "{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": ["
		 "{\"address\": \"2001:db8::5\"}]}]}",
		 "address family differs"},
	};
	struct xlbd_config next;
	char text[1024], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!xt_row("%s", cases[i].desc))
			continue;
		err[0] = '\0';
		ASSERT_EQ(merge(cases[i].file, text, sizeof(text), &next, err), -EINVAL, "refused");
		ASSERT_HAS_SUBSTR(err, cases[i].want, "names the problem");
		xlbd_config_free(&next);
	}
	xt_row_end();
	/* Refused by the parser already (no diff made): a typo, a bad weight, a bad seed. */
	ASSERT_EQ(load("{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", "
		       "\"wieght\": 1}]}",
		       &next, false, NULL),
		  -EINVAL, "unknown member");
	ASSERT_EQ(load("{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": "
		       "[{\"address\": \"10.0.1.2\", \"weight\": 0}]}]}",
		       &next, false, NULL),
		  -EINVAL, "weight 0");
	ASSERT_EQ(load("{\"version\": 1, \"hash_seed\": -1}", &next, false, NULL), -EINVAL,
		  "negative seed");
	ASSERT_EQ(load("{\"vips\": []}", &next, false, NULL), -EINVAL, "no version");
	ASSERT_EQ(load("{\"version\": 1, \"hash_seed\": 4294967296}", &next, false, NULL), -EINVAL,
		  "seed 2^32");
	ASSERT_EQ(load("{\"version\": 1, \"drained\": false}", &next, false, NULL), -EINVAL,
		  "drained in a file to apply");
	ASSERT_EQ(load("{\"version\": 1, \"vips\": [{\"vip\": \"10.0.0.10:80/tcp\", \"backends\": "
		       "[{\"address\": \"10.0.1.2\", \"weight\": 1001}]}]}",
		       &next, false, NULL),
		  -EINVAL, "weight 1001");
}

/* More backends in all than there are backend ids, or more VIPs than VIP ids: refused by the
 * parser, before one is read (a 16 MiB upload of small backend objects cost 221 MiB parsed). */
static void test_too_many_backends_in_all(void)
{
	struct xlbd_config next;
	json_t *j = json_pack("{s:i, s:[]}", "version", 1, "vips"), *vips;
	char err[256] = "";

	vips = json_object_get(j, "vips");
	for (int v = 0; v < 9; v++) {
		json_t *bes = json_array();
		char vs[32];

		for (int b = 0; b < 1000; b++) {
			char as[32];

			snprintf(as, sizeof(as), "10.1.%d.%d", b / 250, 1 + b % 250);
			json_array_append_new(bes, json_pack("{s:s}", "address", as));
		}
		snprintf(vs, sizeof(vs), "10.0.0.%d:80/tcp", 10 + v);
		json_array_append_new(vips, json_pack("{s:s, s:o}", "vip", vs, "backends", bes));
	}
	ASSERT_EQ(xlbd_config_parse(j, &next, false, NULL, err, sizeof(err)), -EINVAL,
		  "9,000 backends refused");
	ASSERT_HAS_SUBSTR(err, "9000 backends in all, more than 8191", "says why, by the parser");
	ASSERT_TRUE(next.vips == NULL, "nothing parsed");
	json_decref(j);
	/* 100,000 VIPs: refused by their count, before one is read. */
	j = json_pack("{s:i, s:[]}", "version", 1, "vips");
	vips = json_object_get(j, "vips");
	for (int v = 0; v < 100000; v++)
		json_array_append_new(vips, json_pack("{s:s}", "vip", "10.0.0.10:80/tcp"));
	ASSERT_EQ(xlbd_config_parse(j, &next, false, NULL, err, sizeof(err)), -EINVAL,
		  "100,000 vips refused");
	ASSERT_HAS_SUBSTR(err, "more than 511", "says why");
	json_decref(j);
}

/*
 * Through the command, without a data plane: a dry run and a bad file answer before any
 * commit, and leave the configuration as it was.
 */
static struct xlbd d;

static void test_command_changes_nothing(void)
{
	json_t *before, *after, *r, *req;
	const char *e;

	if (!ASSERT_OK(load(node, &d.cfg, true, NULL), "node config"))
		return;
	d.state_path = "/nonexistent/state.json"; /* a save would fail loudly */
	before = xlbd_config_to_json(&d.cfg);
	req = json_pack("{s:s, s:b, s:o}", "cmd", "config apply", "dry_run", 1, "config",
			json_pack("{s:i, s:i}", "version", 1, "hash_seed", 99));
	r = xlbd_handle(&d, req, 0, 0);
	ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "dry run answered");
	ASSERT_TRUE(json_is_true(json_object_get(r, "dry_run")), "says dry run");
	ASSERT_EQ(json_array_size(json_object_get(r, "changes")), 3, "seed and two vips removed");
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s, s:o}", "cmd", "config apply", "config",
			json_pack("{s:i, s:[{s:s, s:[{s:s}]}]}", "version", 1, "vips", "vip",
				  "10.0.0.10:80/tcp", "backends", "address", "0.0.0.0"));
	r = xlbd_handle(&d, req, 0, 0);
	e = json_string_value(json_object_get(r, "error"));
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "bad file refused");
	ASSERT_HAS_SUBSTR(e, "config: backend 0.0.0.0", "names the backend");
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s}", "cmd", "config apply");
	r = xlbd_handle(&d, req, 0, 0);
	ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")),
			  "\"config\" or \"upload\"", "needs the configuration");
	json_decref(r);
	json_decref(req);
	after = xlbd_config_to_json(&d.cfg);
	ASSERT_TRUE(json_equal(before, after), "configuration unchanged");
	ASSERT_EQ(d.commands.changes, 0, "no commit");
	json_decref(before);
	json_decref(after);
	xlbd_config_free(&d.cfg);
}

/* Pieces of an upload join; only their sender may continue; the joined text is parsed whole. */
static void test_upload(void)
{
	json_t *r, *req;
	const char *id;
	char idbuf[32];

	if (!ASSERT_OK(load(node, &d.cfg, true, NULL), "node config"))
		return;
	req = json_pack("{s:s, s:s}", "cmd", "config upload", "data", "{\"version\": 1, ");
	r = xlbd_handle(&d, req, 5, 0);
	id = json_string_value(json_object_get(r, "upload"));
	ASSERT_TRUE(id != NULL, "an upload id");
	snprintf(idbuf, sizeof(idbuf), "%s", id ? id : "");
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s, s:s, s:s}", "cmd", "config upload", "upload", idbuf, "data", "x");
	r = xlbd_handle(&d, req, 6, 0);
	ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")), "unknown upload",
			  "another uid cannot add to it");
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s, s:s, s:s}", "cmd", "config upload", "upload", idbuf, "data",
			"\"hash_seed\": 7, \"vips\": []}");
	r = xlbd_handle(&d, req, 5, 0);
	ASSERT_EQ(json_integer_value(json_object_get(r, "bytes")), 42, "both pieces");
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s, s:s, s:b}", "cmd", "config apply", "upload", idbuf, "dry_run", 1);
	r = xlbd_handle(&d, req, 5, 0);
	ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "the upload applied (dry run)");
	ASSERT_EQ(json_array_size(json_object_get(r, "changes")), 2, "two vips removed");
	json_decref(r);
	r = xlbd_handle(&d, req, 5, 0);
	ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")), "unknown upload",
			  "an upload is used once");
	json_decref(r);
	json_decref(req);
	xlbd_commands_free(&d.commands);
	xlbd_config_free(&d.cfg);
}

static json_t *upload(const char *id, const char *data, unsigned int uid)
{
	json_t *req = id ? json_pack("{s:s, s:s, s:s}", "cmd", "config upload", "upload", id,
				     "data", data)
			 : json_pack("{s:s, s:s}", "cmd", "config upload", "data", data);
	json_t *r = xlbd_handle(&d, req, uid, 0);

	json_decref(req);
	return r;
}

static const char *error_of(json_t *r)
{
	const char *e = json_string_value(json_object_get(r, "error"));

	return e ? e : "";
}

/* Another uid's upload cannot be applied (nor used up); the sender's still can. */
static void test_upload_other_uid(void)
{
	json_t *r = upload(NULL, "{\"version\": 1}", 5), *req;
	char id[32];

	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r, "upload")) ?: "");
	json_decref(r);
	req = json_pack("{s:s, s:s}", "cmd", "config apply", "upload", id);
	r = xlbd_handle(&d, req, 6, 0);
	ASSERT_HAS_SUBSTR(error_of(r), "unknown upload", "another uid cannot apply it");
	json_decref(r);
	r = xlbd_handle(&d, req, 0, 0);
	ASSERT_HAS_SUBSTR(error_of(r), "unknown upload", "nor can root: only its sender");
	json_decref(r);
	json_object_set_new(req, "dry_run", json_true());
	r = xlbd_handle(&d, req, 5, 0);
	ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "its sender still can");
	json_decref(r);
	json_decref(req);
	xlbd_commands_free(&d.commands);
}

/* Uploads at once, sizes and contents: each bounded, each refusal frees what it held. */
static void test_upload_bounds(void)
{
	static char big[(1 << 20) + 1]; /* 1 MiB and its NUL */
	json_t *r;
	char id[32];

	for (int i = 0; i < XLBD_UPLOADS; i++) {
		r = upload(NULL, "{", 5);
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "an upload slot");
		json_decref(r);
	}
	r = upload(NULL, "{", 5);
	ASSERT_HAS_SUBSTR(error_of(r), "uploads are in progress", "one more than the slots");
	json_decref(r);
	xlbd_commands_free(&d.commands);

	/* 16 MiB in 1 MiB pieces is the limit; one byte more refuses and frees the upload. */
	memset(big, ' ', sizeof(big) - 1);
	r = upload(NULL, big, 5);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r, "upload")) ?: "");
	json_decref(r);
	for (int i = 1; i < 16; i++) {
		r = upload(id, big, 5);
		ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "up to 16 MiB");
		if (i < 15)
			json_decref(r);
	}
	ASSERT_EQ(json_integer_value(json_object_get(r, "bytes")), 16 << 20, "16 MiB taken");
	json_decref(r);
	r = upload(id, " ", 5);
	ASSERT_HAS_SUBSTR(error_of(r), "longer than 16 MiB", "16 MiB + 1 refused");
	json_decref(r);
	r = upload(id, " ", 5);
	ASSERT_HAS_SUBSTR(error_of(r), "unknown upload", "the refused upload is gone");
	json_decref(r);
	for (int i = 0; i < XLBD_UPLOADS; i++)
		ASSERT_TRUE(d.commands.uploads[i].buf == NULL, "its memory freed");

	/* A NUL byte in a piece: refused as in any request. */
	r = upload(NULL, "", 5);
	json_decref(r);
	{
		json_t *req =
			json_pack("{s:s, s:s%}", "cmd", "config upload", "data", "a\0b", (size_t)3);

		r = xlbd_handle(&d, req, 5, 0);
		ASSERT_HAS_SUBSTR(error_of(r), "NUL", "a NUL byte refused");
		json_decref(r);
		json_decref(req);
	}
	xlbd_commands_free(&d.commands);
}

/* An upload of more values than any valid configuration holds: refused before it is parsed;
 * commas inside strings do not count. */
static void test_upload_too_many_values(void)
{
	static char text[(1 << 20) + 64];
	size_t len = 0;
	json_t *r, *req;
	char id[32];

	/* 200,000 commas outside strings: "vips": [1,1,...]. */
	len += snprintf(text, sizeof(text), "{\"version\": 1, \"vips\": [1");
	for (int i = 0; i < 200000; i++)
		text[len++] = ',', text[len++] = '1';
	snprintf(text + len, sizeof(text) - len, "]}");
	r = upload(NULL, text, 5);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r, "upload")) ?: "");
	json_decref(r);
	req = json_pack("{s:s, s:s}", "cmd", "config apply", "upload", id);
	r = xlbd_handle(&d, req, 5, 0);
	ASSERT_HAS_SUBSTR(error_of(r), "more values than 511 VIPs and 8191 backends",
			  "refused unread");
	json_decref(r);
	json_decref(req);
	/* The same commas inside a string: read, and refused for what it is. */
	len = snprintf(text, sizeof(text), "{\"version\": 1, \"vips\": [{\"vip\": \"");
	for (int i = 0; i < 200000; i++)
		text[len++] = ',';
	snprintf(text + len, sizeof(text) - len, "\\\"\"}]}");
	r = upload(NULL, text, 5);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r, "upload")) ?: "");
	json_decref(r);
	req = json_pack("{s:s, s:s}", "cmd", "config apply", "upload", id);
	r = xlbd_handle(&d, req, 5, 0);
	ASSERT_TRUE(strstr(error_of(r), "more values") == NULL, "commas in a string do not count");
	ASSERT_HAS_SUBSTR(error_of(r), "config: vips:", "the file was read");
	json_decref(r);
	json_decref(req);
	xlbd_commands_free(&d.commands);
}

/* An upload never applied: dropped, memory and all, once idle for XLBD_UPLOAD_IDLE_MS, with no
 * new upload needing its slot; one still being sent stays. */
static void test_upload_idle_dropped(void)
{
	json_t *r;
	int idle = -1, fresh = -1;

	d.base = event_base_new();
	if (!ASSERT_TRUE(d.base != NULL, "event base"))
		return;
	json_decref(upload(NULL, "{\"version\"", 5));
	json_decref(upload(NULL, "{", 5));
	for (int i = 0; i < XLBD_UPLOADS; i++)
		if (d.commands.uploads[i].id)
			idle < 0 ? (idle = i) : (fresh = i);
	if (!ASSERT_TRUE(idle >= 0 && fresh >= 0, "two uploads") ||
	    !ASSERT_TRUE(d.commands.upload_ev != NULL, "the idle timer is armed"))
		goto out;
	d.commands.uploads[idle].touched_ms -= XLBD_UPLOAD_IDLE_MS + 1;
	event_active(d.commands.upload_ev, EV_TIMEOUT, 0); /* as when its time comes */
	event_base_loop(d.base, EVLOOP_NONBLOCK);
	ASSERT_EQ(d.commands.uploads[idle].id, 0, "the idle upload dropped");
	ASSERT_TRUE(d.commands.uploads[idle].buf == NULL, "its memory freed");
	ASSERT_TRUE(d.commands.uploads[fresh].id != 0, "the fresh one kept");
	ASSERT_TRUE(evtimer_pending(d.commands.upload_ev, NULL), "armed again for the fresh one");
	r = upload(NULL, "x", 5);
	ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "a new upload");
	json_decref(r);
out:
	xlbd_commands_free(&d.commands);
	event_base_free(d.base);
	d.base = NULL;
}

int main(void)
{
	RUN_TEST(test_same_is_no_change);
	RUN_TEST(test_each_change);
	RUN_TEST(test_order_and_seed_kept);
	RUN_TEST(test_backend_in_two_vips);
	RUN_TEST(test_bad_files);
	RUN_TEST(test_command_changes_nothing);
	RUN_TEST(test_too_many_backends_in_all);
	RUN_TEST(test_upload);
	RUN_TEST(test_upload_other_uid);
	RUN_TEST(test_upload_bounds);
	RUN_TEST(test_upload_too_many_values);
	RUN_TEST(test_upload_idle_dropped);
	return xt_finish();
}
