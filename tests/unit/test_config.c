/* test_config.c - xlbd's state: JSON round trip, whole-config validation, the state file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "check.h"
#include "config.h"

static char dir[] = "/tmp/xlb-test-config-XXXXXX";

static void make_config(struct xlbd_config *c)
{
	static struct xlbd_vip vips[2];
	static struct xlbd_backend be4[2], be6[1];

	memset(c, 0, sizeof(*c));
	c->hash_seed = 42;
	xlb_parse_vip("10.0.0.10:80/tcp", &vips[0].key, NULL, 0);
	vips[0].id = 1;
	xlbd_check_defaults(&vips[0].check);
	xlb_parse_addr("10.0.1.2", &be4[0].addr, &be4[0].family, NULL, 0);
	be4[0].id = 1, be4[0].weight = 3, be4[0].admin = XLB_ADMIN_UP;
	xlb_parse_addr("10.0.1.3", &be4[1].addr, &be4[1].family, NULL, 0);
	be4[1].id = 2, be4[1].weight = 1, be4[1].admin = XLB_ADMIN_DRAIN;
	/* its own check settings: the VIP's with a port and an interval changed */
	be4[1].has_check = true;
	xlbd_check_defaults(&be4[1].check);
	be4[1].check.kind = XLB_CHECK_TCP;
	be4[1].check.port = 8443;
	be4[1].check.interval_ms = 2000;
	vips[0].be = be4, vips[0].nbe = 2;
	xlb_parse_vip("[2001:db8::10]:443/udp", &vips[1].key, NULL, 0);
	vips[1].id = 7;
	xlbd_check_defaults(&vips[1].check);
	vips[1].check.kind = XLB_CHECK_UDP;
	strcpy(vips[1].check.payload, "ping");
	xlb_parse_addr("2001:db8::2", &be6[0].addr, &be6[0].family, NULL, 0);
	be6[0].id = 9, be6[0].weight = 1000;
	vips[1].be = be6, vips[1].nbe = 1;
	c->vips = vips, c->nvips = 2;
}

static bool same_config(const struct xlbd_config *a, const struct xlbd_config *b)
{
	if (a->hash_seed != b->hash_seed || a->nvips != b->nvips)
		return false;
	for (size_t i = 0; i < a->nvips; i++) {
		const struct xlbd_vip *x = &a->vips[i], *y = &b->vips[i];

		if (memcmp(&x->key, &y->key, sizeof(x->key)) || x->id != y->id ||
		    memcmp(&x->check, &y->check, sizeof(x->check)) || x->sched != y->sched ||
		    x->fwd != y->fwd || x->nbe != y->nbe)
			return false;
		for (size_t j = 0; j < x->nbe; j++)
			if (memcmp(&x->be[j], &y->be[j], sizeof(x->be[j])))
				return false;
	}
	return true;
}

static void test_json_round_trip(void)
{
	struct xlbd_config c, back = {0};
	char err[256];
	json_t *j;

	make_config(&c);
	j = xlbd_config_to_json(&c);
	if (!ASSERT_OK(xlbd_config_from_json(j, &back, err, sizeof(err)), err))
		return;
	ASSERT_TRUE(same_config(&c, &back), "round trip keeps everything");
	xlbd_config_free(&back);
	json_decref(j);
}

/* Each broken config is refused with a message naming the problem. */
static void test_validate(void)
{
	struct xlbd_config c;
	char err[256];

	make_config(&c);
	ASSERT_OK(xlbd_config_validate(&c, err, sizeof(err)), "valid");

	c.vips[0].be[1].id = 1;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "duplicate id");
	ASSERT_TRUE(strstr(err, "id 1") != NULL, err);
	make_config(&c);
	c.vips[0].be[1].addr = c.vips[0].be[0].addr;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "duplicate backend");
	ASSERT_TRUE(strstr(err, "twice") != NULL, err);
	make_config(&c);
	c.vips[0].be[0].weight = 0;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "weight 0");
	ASSERT_TRUE(strstr(err, "weight") != NULL, err);
	make_config(&c);
	c.vips[0].be[0].weight = 1001;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "weight 1001");
	make_config(&c);
	c.vips[1].be[0].family = XLB_AF_INET;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "family mismatch");
	ASSERT_TRUE(strstr(err, "family") != NULL, err);
	make_config(&c);
	c.vips[1].key = c.vips[0].key;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "duplicate vip");
	make_config(&c);
	c.vips[1].id = 1;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "duplicate vip id");
	make_config(&c);
	c.vips[0].id = XLB_MAX_VIPS;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "vip id out of range");
}

static void test_new_ids(void)
{
	struct xlbd_config c;

	make_config(&c);
	ASSERT_EQ(xlbd_config_new_vip_id(&c), 2, "smallest free vip id");
	ASSERT_EQ(xlbd_config_new_backend_id(&c), 3, "smallest free backend id");
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f);
}

static void test_state_file(void)
{
	char path[128], tmp[140], err[512];
	struct xlbd_config c, back = {0};

	snprintf(path, sizeof(path), "%s/state.json", dir);
	ASSERT_EQ(xlbd_config_load(path, &back, err, sizeof(err)), -ENOENT, "missing file");
	make_config(&c);
	if (!ASSERT_OK(xlbd_config_save(path, &c, err, sizeof(err)), err))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ASSERT_TRUE(access(tmp, F_OK) != 0, "no temp file left behind");
	if (!ASSERT_OK(xlbd_config_load(path, &back, err, sizeof(err)), err))
		return;
	ASSERT_TRUE(same_config(&c, &back), "saved and loaded");
	xlbd_config_free(&back);
	unlink(path);
}

/* A corrupt state file: refused, and the message names the file and the problem. */
#define VIP1 \
	"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", \"id\": 1"
static void test_corrupt_state_files(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [", "line"},
		{"", "line"},
		{"[]", "top level"},
		{"{\"version\": 2, \"hash_seed\": 1}", "version"},
		{"{\"version\": 1, \"hash_seed\": -1}", "hash_seed"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": {}}", "vips"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:0/tcp\", "
		 "\"id\": 1}]}",
		 "port"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", "
		 "\"id\": 1, \"backends\": [{\"address\": \"10.0.0.300\", \"id\": 1, "
		 "\"weight\": 1}]}]}",
		 "10.0.0.300"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", "
		 "\"id\": 1, \"sched\": \"random\"}]}",
		 "scheduler"},
		{"{\"version\": 1, \"hash_seed\": 1, \"hash_seed\": 2}", "duplicate"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", "
		 "\"id\": 1, \"check\": {\"kind\": \"http\", \"interval_ms\": 100, "
		 "\"timeout_ms\": 200}}]}",
		 "shorter than its interval"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", "
		 "\"id\": 1, \"check\": {\"kind\": \"icmp\"}}]}",
		 "kind"},
		{"{\"version\": 1, \"hash_seed\": 1, \"vips\": [{\"vip\": \"10.0.0.1:80/tcp\", "
		 "\"id\": 1, \"check\": {\"intervall_ms\": 100}}]}",
		 "intervall_ms"},
		/* Issue 11 item 12: one strict rule, as for requests. */
		{"{\"version\": 1, \"hash_seed\": 1, \"vipz\": []}", "unknown member \"vipz\""},
		{VIP1 ", \"idd\": 2}]}", "unknown member \"idd\""},
		{VIP1 ", \"backends\": [{\"address\": \"10.0.0.2\", \"id\": 1, \"weight\": 1, "
		      "\"wieght\": 2}]}]}",
		 "unknown member \"wieght\""},
		{VIP1 ", \"sched\": 123}]}", "\"sched\" must be a string"},
		{VIP1 ", \"fwd\": 5}]}", "\"fwd\" must be a string"},
		{VIP1 ", \"fwd\": null}]}", "\"fwd\" must be a string"},
		{VIP1 ", \"hash_dport\": \"yes\"}]}", "\"hash_dport\" must be true or false"},
		{VIP1 ", \"backends\": [{\"address\": 5, \"id\": 1, \"weight\": 1}]}]}",
		 "\"address\" must be a string"},
		{VIP1 ", \"backends\": [{\"address\": \"10.0.0.2\", \"id\": 1, \"weight\": 1, "
		      "\"admin\": true}]}]}",
		 "\"admin\" must be a string"},
		{VIP1 ", \"backends\": [{\"address\": \"10.0.0.2\", \"id\": 1, "
		      "\"weight\": \"1\"}]}]}",
		 "10.0.0.2: \"weight\" must be an integer"},
		{VIP1 ", \"check\": {\"kind\": \"tcp\", \"kind\": \"http\"}}]}", "duplicate"},
		{VIP1 ", \"sched\": \"rr\", \"sched\": \"wrr\"}]}", "duplicate"},
		{VIP1 ", \"check\": {\"path\": 7}}]}", "check path must be a string"},
		{VIP1 ", \"check\": {\"outlier\": 1}}]}", "check outlier must be true or false"},
	};
	char path[128], err[512];
	struct xlbd_config c;

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!xt_row("%zu %s", i, bad[i].want))
			continue;
		err[0] = '\0';
		write_file(path, bad[i].text);
		ASSERT_EQ(xlbd_config_load(path, &c, err, sizeof(err)), -EINVAL, bad[i].text);
		ASSERT_TRUE(strstr(err, path) != NULL, "message names the file");
		if (!ASSERT_TRUE(strstr(err, bad[i].want) != NULL, bad[i].want))
			fprintf(stderr, "    message: %s\n", err);
	}
	xt_row_end();
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL test_config/setup: mkdtemp\n");
		return 1;
	}
	RUN_TEST(test_json_round_trip);
	RUN_TEST(test_validate);
	RUN_TEST(test_new_ids);
	RUN_TEST(test_state_file);
	RUN_TEST(test_corrupt_state_files);
	rmdir(dir);
	return xt_finish();
}
