/* test_backend_state.c - xlb-backend's state file: round trip, listing, and every bad file refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "../../user/xlb-backend/backend.h"
#include "check.h"

/* docs/backend.md: the state file is what detach restores from, so a file that does not say
 * exactly what was changed must be refused, never read as something else. */

static char dir[] = "/tmp/xlb-test-backend-state.XXXXXX";

static void full_state(struct be_state *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->ifname, sizeof(st->ifname), "eth7");
	st->mode = BE_MODE_GENERIC;
	st->host = true;
	st->prog_id = 4242;
	st->sysctls_applied = true;
	st->n_sysctl = 3;
	snprintf(st->sysctl[0].path, sizeof(st->sysctl[0].path), "net/ipv4/conf/eth7/arp_ignore");
	snprintf(st->sysctl[0].was, sizeof(st->sysctl[0].was), "0");
	snprintf(st->sysctl[0].set, sizeof(st->sysctl[0].set), "1");
	snprintf(st->sysctl[1].path, sizeof(st->sysctl[1].path), "net/ipv4/conf/eth7/arp_announce");
	snprintf(st->sysctl[1].was, sizeof(st->sysctl[1].was), "1");
	snprintf(st->sysctl[1].set, sizeof(st->sysctl[1].set), "2");
	snprintf(st->sysctl[2].path, sizeof(st->sysctl[2].path), "net/ipv4/conf/eth7/rp_filter");
	snprintf(st->sysctl[2].was, sizeof(st->sysctl[2].was), "1");
	snprintf(st->sysctl[2].set, sizeof(st->sysctl[2].set), "2");
	st->n_vip = 2;
	st->vip[0].family = XLB_AF_INET;
	inet_pton(AF_INET, "198.51.100.10", st->vip[0].addr.bytes);
	st->vip[0].added_addr = true;
	st->vip[1].family = XLB_AF_INET6;
	inet_pton(AF_INET6, "2001:db8:100::10", st->vip[1].addr.bytes);
}

static bool same_state(const struct be_state *a, const struct be_state *b)
{
	bool ok = ASSERT_STREQ(a->ifname, b->ifname, "ifname");

	ok &= ASSERT_EQ(a->mode, b->mode, "mode");
	ok &= ASSERT_EQ(a->host, b->host, "host");
	ok &= ASSERT_EQ(a->prog_id, b->prog_id, "prog_id");
	ok &= ASSERT_EQ(a->sysctls_applied, b->sysctls_applied, "sysctls_applied");
	ok &= ASSERT_EQ(a->n_sysctl, b->n_sysctl, "n_sysctl");
	for (int i = 0; ok && i < a->n_sysctl; i++) {
		ok &= ASSERT_STREQ(a->sysctl[i].path, b->sysctl[i].path, "sysctl path");
		ok &= ASSERT_STREQ(a->sysctl[i].was, b->sysctl[i].was, "sysctl was");
		ok &= ASSERT_STREQ(a->sysctl[i].set, b->sysctl[i].set, "sysctl set");
	}
	ok &= ASSERT_EQ(a->n_vip, b->n_vip, "n_vip");
	for (int i = 0; ok && i < a->n_vip; i++) {
		ok &= ASSERT_EQ(a->vip[i].family, b->vip[i].family, "vip family");
		ok &= ASSERT_MEM_EQ(&a->vip[i].addr, &b->vip[i].addr, 16, "vip address");
		ok &= ASSERT_EQ(a->vip[i].added_addr, b->vip[i].added_addr, "vip added_addr");
	}
	return ok;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;

	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	*len = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	return buf;
}

static void write_all(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fwrite(text, 1, len, f);
	fclose(f);
}

static void test_round_trip(void)
{
	struct be_state st, back;

	full_state(&st);
	if (!ASSERT_OK(be_state_save(&st), "save"))
		return;
	if (!ASSERT_OK(be_state_load("eth7", &back), "load"))
		return;
	same_state(&back, &st);
	ASSERT_OK(be_state_remove("eth7"), "remove");
	ASSERT_EQ(be_state_load("eth7", &back), -ENOENT, "load after remove");
}

static void test_list(void)
{
	char names[8][IF_NAMESIZE], path[256];
	static const char *const files[] = {"b0.json",	   "a0.json", "lock",
					    "c0.json.tmp", "x.txt",   ".json"};
	int n;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		write_all(path, "{}", 2);
	}
	n = be_state_list(names, 8);
	if (ASSERT_EQ(n, 2, "state files listed")) {
		ASSERT_STREQ(names[0], "a0", "first, sorted");
		ASSERT_STREQ(names[1], "b0", "second");
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
}

/* A file cut anywhere is refused, or (whitespace at the end cut) reads back the same. */
static void test_truncated_everywhere(void)
{
	struct be_state st, back;
	char path[256], *text;
	size_t len;
	int bad = 0;

	full_state(&st);
	if (!ASSERT_OK(be_state_save(&st), "save"))
		return;
	snprintf(path, sizeof(path), "%s/eth7.json", dir);
	text = read_all(path, &len);
	if (!ASSERT_TRUE(text && len > 100, "read the file back"))
		goto out;
	for (size_t n = 0; n < len && bad < 3; n++) {
		int err;

		write_all(path, text, n);
		be_fail_reset();
		err = be_state_load("eth7", &back);
		if (err) {
			if (!ASSERT_EQ(err, -EINVAL, "a cut file: EINVAL") ||
			    !ASSERT_HAS_SUBSTR(be_fail_message(), path,
					       "the message names the file"))
				bad++;
		} else if (!ASSERT_TRUE(strspn(text + n, " \n") == len - n,
					"accepted only whole") ||
			   !same_state(&back, &st)) {
			bad++;
		}
	}
out:
	free(text);
	be_state_remove("eth7");
}

/* Each change from a valid file (as save writes it) that must be refused. */
static void test_refused(void)
{
	static const struct {
		const char *desc, *from, *to;
	} cases[] = {
		{"unknown mode", "\"generic\"", "\"turbo\""},
		{"interface other than the file name", "\"eth7\"", "\"eth8\""},
		{"sysctl outside net/ipv4/conf", "net/ipv4/conf/eth7/rp_filter",
		 "kernel/core_pattern"},
		{"sysctl path with ..", "net/ipv4/conf/eth7/rp_filter", "net/ipv4/conf/../../vm/x"},
		{"sysctl value not a number", "\"was\": \"0\"", "\"was\": \"|sh\""},
		{"bad vip address", "198.51.100.10", "198.51.100.300"},
		{"negative prog_id", "4242", "-1"},
		{"host not a boolean", "\"host\": true", "\"host\": 1"},
		{"vips not an array", "\"vips\": [", "\"vips\": {\"x\": ["},
	};
	struct be_state st, back;
	char path[256], *text, *edit;
	size_t len;

	full_state(&st);
	if (!ASSERT_OK(be_state_save(&st), "save"))
		return;
	snprintf(path, sizeof(path), "%s/eth7.json", dir);
	text = read_all(path, &len);
	if (!ASSERT_TRUE(text != NULL, "read the file back"))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *at, *out;

		if (!xt_row("%s", cases[i].desc))
			continue;
		at = strstr(text, cases[i].from);
		if (!ASSERT_TRUE(at != NULL, "the text to change is in the file"))
			continue;
		out = calloc(1, len + 256);
		memcpy(out, text, at - text);
		strcat(out, cases[i].to);
		strcat(out, at + strlen(cases[i].from));
		edit = out;
		write_all(path, edit, strlen(edit));
		be_fail_reset();
		ASSERT_EQ(be_state_load("eth7", &back), -EINVAL, "refused");
		free(out);
	}
	xt_row_end();
	free(text);
	be_state_remove("eth7");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL test_backend_state/setup: mkdtemp\n");
		return 1;
	}
	setenv("XLB_BACKEND_RUN_DIR", dir, 1);
	RUN_TEST(test_round_trip);
	RUN_TEST(test_list);
	RUN_TEST(test_truncated_everywhere);
	RUN_TEST(test_refused);
	rmdir(dir);
	return xt_finish();
}
