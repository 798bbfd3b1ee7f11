/* test_commit.c - a change the maps refuse is put back everywhere, and says so when the state
 * file cannot be (commands.c's commit; the maps and the file are stood in for at link time). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check.h"
#include "xlbd.h"

static struct xlbd d; /* large: not on the stack */
static char dir[] = "/tmp/xlb-commit-XXXXXX", state[64];

/* The maps refuse every apply; the state file's saves fail from the n-th on (0: never). */
static int saves, fail_save_from, all_saves;

int __real_xlbd_config_save(const char *path, const struct xlbd_config *c, char *err,
			    size_t errlen);
int __wrap_xlbd_config_save(const char *path, const struct xlbd_config *c, char *err,
			    size_t errlen);
int __wrap_xlbd_config_save(const char *path, const struct xlbd_config *c, char *err, size_t errlen)
{
	all_saves++;
	if (fail_save_from && ++saves >= fail_save_from) {
		snprintf(err, errlen, "cannot write %s: No space left on device", path);
		return -ENOSPC;
	}
	return __real_xlbd_config_save(path, c, err, errlen);
}

int __wrap_xlbd_apply(struct xlbd *xd, const struct xlbd_config *old, bool full);
int __wrap_xlbd_apply(struct xlbd *xd, const struct xlbd_config *old, bool full)
{
	(void)xd, (void)old, (void)full;
	return -EIO;
}

static void changed(void *arg)
{
	(void)arg;
}

static json_t *request(const char *line)
{
	json_t *req = json_loads(line, 0, NULL), *resp = xlbd_handle(&d, req, 0, 0);

	json_decref(req);
	return resp;
}

static char *read_state(void)
{
	FILE *f = fopen(state, "r");
	char *buf = calloc(1, 65536);

	if (f && buf)
		buf[fread(buf, 1, 65535, f)] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* The maps refuse the change: memory and file go back to before it, the answer says why. */
static void test_refused_change_reverted(void)
{
	json_t *r;
	char *before, *after;

	saves = fail_save_from = 0;
	before = read_state();
	r = request("{\"cmd\":\"vip add\",\"vip\":\"10.0.0.10:80/tcp\"}");
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "refused");
	ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")),
			  "cannot apply the change to the data plane", "why");
	ASSERT_TRUE(
		!strstr(json_string_value(json_object_get(r, "error")), "could not be restored"),
		"the file was put back: nothing more to say");
	ASSERT_EQ(d.cfg.nvips, 0, "memory as before");
	after = read_state();
	ASSERT_STREQ(after, before, "state file as before");
	json_decref(r);
	free(before);
	free(after);
}

/* The state file cannot be put back: the answer and the log say it holds the refused change. */
static void test_failed_restore_said(void)
{
	json_t *r;
	char *after;

	saves = 0;
	fail_save_from = 2; /* the change's save works, the restore's does not */
	r = request("{\"cmd\":\"vip add\",\"vip\":\"10.0.0.11:80/tcp\"}");
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "refused");
	ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")),
			  "the state file could not be restored and holds it",
			  "said in the answer");
	ASSERT_EQ(d.cfg.nvips, 0, "memory as before");
	after = read_state();
	ASSERT_HAS_SUBSTR(after, "10.0.0.11:80/tcp", "the file holds the refused change");
	json_decref(r);
	free(after);
}

/* A config apply the maps refuse: seed and VIPs back as they were, the file too. */
static void test_refused_apply_reverted(void)
{
	__u32 seed = d.cfg.hash_seed;
	char *before, *after;
	json_t *r;

	saves = fail_save_from = 0;
	before = read_state();
	/* No backends: a backend's MAC would be looked up, and this test has no neighbour table. */
	r = request("{\"cmd\":\"config apply\",\"config\":{\"version\":1,\"hash_seed\":77,"
		    "\"vips\":[{\"vip\":\"10.0.0.12:80/tcp\"},{\"vip\":\"10.0.0.13:53/udp\"}]}}");
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "refused");
	ASSERT_HAS_SUBSTR(json_string_value(json_object_get(r, "error")),
			  "cannot apply the change to the data plane", "why");
	ASSERT_EQ(d.cfg.hash_seed, seed, "seed as before");
	/* The maps refused the revert too: they may hold part of the change (the new seed), so
	 * an apply of the configuration as it was is retried until it goes through. */
	ASSERT_TRUE(d.apply.pending, "the apply of the old configuration retried");
	d.apply.pending = false;
	ASSERT_EQ(d.cfg.nvips, 0, "no vip");
	after = read_state();
	ASSERT_STREQ(after, before, "state file as before");
	json_decref(r);
	free(before);
	free(after);
}

/* The seed in force, set again: no change (as a config apply of the same configuration),
 * nothing written, no table rebuilt (the maps here refuse any apply: one would fail). */
static void test_same_seed_no_change(void)
{
	char line[96];
	json_t *r;
	int n = all_saves;

	saves = fail_save_from = 0;
	snprintf(line, sizeof(line), "{\"cmd\":\"config set\",\"hash_seed\":%u}", d.cfg.hash_seed);
	r = request(line);
	ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "answered ok");
	ASSERT_TRUE(json_is_false(json_object_get(r, "changed")), "changed: false");
	ASSERT_EQ(all_saves, n, "the state file not written");
	json_decref(r);
	r = request("{\"cmd\":\"config set\",\"hash_seed\":4294967296}");
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "2^32 refused");
	json_decref(r);
	r = request("{\"cmd\":\"config set\",\"hash_seed\":-1}");
	ASSERT_TRUE(json_is_false(json_object_get(r, "ok")), "-1 refused");
	json_decref(r);
	ASSERT_EQ(all_saves, n, "still not written");
}

int main(void)
{
	char err[256];

	if (!mkdtemp(dir)) {
		printf("FAIL test_commit/setup: mkdtemp\n");
		return 1;
	}
	snprintf(state, sizeof(state), "%s/state.json", dir);
	d.state_path = state;
	d.base = event_base_new();
	d.cfg.hash_seed = 1;
	d.view = (struct xlbd_view){.macs = &d.macs, .health = &d.health};
	d.macs.cfg = &d.cfg;
	xlbd_health_init(&d.health, d.base, NULL, &d.cfg, changed, &d);
	if (__real_xlbd_config_save(state, &d.cfg, err, sizeof(err))) {
		printf("FAIL test_commit/setup: %s\n", err);
		return 1;
	}
	RUN_TEST(test_refused_change_reverted);
	RUN_TEST(test_refused_apply_reverted); /* before the next: it leaves the file changed */
	RUN_TEST(test_failed_restore_said);
	RUN_TEST(test_same_seed_no_change);
	xlbd_health_stop(&d.health);
	xlbd_config_free(&d.cfg);
	event_base_free(d.base);
	unlink(state);
	rmdir(dir);
	return xt_finish();
}
