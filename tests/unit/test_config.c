/* test_config.c - xlbd's state: JSON round trip, whole-config validation, the state file. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	be4[1].check.tunnel = true;
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

/* A state file of the version before the tunnel check has no "tunnel" member: it loads, as
 * false. */
static void test_tunnel_absent_reads_false(void)
{
	struct xlbd_config c, back = {0};
	json_t *j, *vip, *be;
	char err[256];
	size_t i, k;

	make_config(&c);
	j = xlbd_config_to_json(&c);
	json_array_foreach(json_object_get(j, "vips"), i, vip) {
		json_object_del(json_object_get(vip, "check"), "tunnel");
		json_array_foreach(json_object_get(vip, "backends"), k, be)
			json_object_del(json_object_get(be, "check"), "tunnel");
	}
	if (!ASSERT_OK(xlbd_config_from_json(j, &back, err, sizeof(err)), err))
		goto out;
	ASSERT_EQ(back.vips[0].be[1].check.tunnel, false, "absent: off");
	ASSERT_EQ(back.vips[0].be[1].check.kind, XLB_CHECK_TCP, "the rest as written");
	xlbd_config_free(&back);
out:
	json_decref(j);
}

/* The node's maintenance state survives the state file; a node in service writes no member. */
static void test_drained_round_trip(void)
{
	struct xlbd_config c, back = {0};
	char err[256];
	json_t *j, *bad;

	make_config(&c);
	j = xlbd_config_to_json(&c);
	ASSERT_TRUE(json_object_get(j, "drained") == NULL, "in service: no \"drained\" member");
	json_decref(j);
	c.drained = true;
	j = xlbd_config_to_json(&c);
	ASSERT_TRUE(json_is_true(json_object_get(j, "drained")), "drained: written");
	if (ASSERT_OK(xlbd_config_from_json(j, &back, err, sizeof(err)), err)) {
		ASSERT_TRUE(back.drained, "drained: read back");
		xlbd_config_free(&back);
	}
	json_decref(j);
	bad = json_pack("{s:i, s:i, s:s}", "version", 1, "hash_seed", 1, "drained", "yes");
	ASSERT_TRUE(xlbd_config_from_json(bad, &back, err, sizeof(err)) == -EINVAL &&
			    strstr(err, "drained"),
		    "a \"drained\" that is not true or false is refused");
	json_decref(bad);
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
	/* ipip: an IPv4 VIP over IPv6 backends, never IPv6 over IPv4; dsr-l2 neither. */
	make_config(&c);
	c.vips[0].be[0] = c.vips[1].be[0];
	c.vips[0].be[0].id = 99;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "dsr-l2: ipv4 vip, ipv6 be");
	ASSERT_TRUE(strstr(err, "with fwd ipip") != NULL, err);
	c.vips[0].fwd = XLB_FWD_IPIP;
	ASSERT_OK(xlbd_config_validate(&c, err, sizeof(err)),
		  "ipip: ipv4 vip over an ipv6 backend");
	make_config(&c);
	c.vips[1].fwd = XLB_FWD_IPIP;
	c.vips[1].be[0].family = XLB_AF_INET;
	ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, "ipip: ipv6 vip, ipv4 be");
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

/* Backend addresses that can never be a backend are refused, with the reason. */
static void test_backend_nonsense(void)
{
	static const struct {
		int vip; /* 0: the IPv4 VIP, 1: the IPv6 one */
		const char *addr, *want;
	} bad[] = {
		{0, "10.0.0.10", "address of vip 10.0.0.10:80/tcp"}, /* the VIP itself */
		{1, "2001:db8::10", "address of vip [2001:db8::10]:443/udp"},
		{0, "0.0.0.0", "unspecified"},
		{0, "0.1.2.3", "this network"},
		{0, "127.0.0.1", "loopback"},
		{0, "127.200.0.9", "loopback"},
		{0, "224.0.0.1", "multicast"},
		{0, "239.255.255.250", "multicast"},
		{0, "255.255.255.255", "broadcast"},
		{0, "240.0.0.1", "reserved"},
		{1, "::", "unspecified"},
		{1, "::1", "loopback"},
		{1, "ff02::1", "multicast"},
		{1, "fe80::1", "link-local"},
		{1, "febf::1", "link-local"},
	};
	static const struct {
		int vip;
		const char *addr;
	} good[] = {
		{0, "169.254.1.2"}, /* IPv4 link-local: a unicast address on the link */
		{0, "10.0.0.11"},   {0, "223.255.255.254"}, {0, "1.0.0.1"},
		{1, "fec0::1"},	    {1, "2001:db8::11"},    {1, "fd00::1"},
	};
	struct xlbd_config c;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xlbd_backend *b;

		make_config(&c);
		b = &c.vips[bad[i].vip].be[0];
		if (!ASSERT_OK(xlb_parse_addr(bad[i].addr, &b->addr, &b->family, NULL, 0),
			       bad[i].addr))
			continue;
		err[0] = '\0';
		ASSERT_EQ(xlbd_config_validate(&c, err, sizeof(err)), -EINVAL, bad[i].addr);
		if (!ASSERT_TRUE(strstr(err, bad[i].want) && strstr(err, "never a backend"),
				 bad[i].want))
			fprintf(stderr, "    %s: %s\n", bad[i].addr, err);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct xlbd_backend *b;

		make_config(&c);
		b = &c.vips[good[i].vip].be[0];
		xlb_parse_addr(good[i].addr, &b->addr, &b->family, NULL, 0);
		if (!ASSERT_OK(xlbd_config_validate(&c, err, sizeof(err)), good[i].addr))
			fprintf(stderr, "    %s: %s\n", good[i].addr, err);
	}
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

static bool file_is(const char *path, const char *want)
{
	char buf[64] = {0};
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return n == strlen(want) && !memcmp(buf, want, n);
}

/* Nothing planted at the old fixed temp name is followed or reused, and no temp file stays. */
static void test_state_temp_file(void)
{
	char path[128], tmp[140], victim[140], err[512];
	struct xlbd_config c;
	struct stat st;
	glob_t g;
	int fd;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	make_config(&c);

	/* A symlink where the temp file was: root would have overwritten its target. */
	write_file(victim, "keep");
	if (!ASSERT_OK(symlink(victim, tmp), "plant a symlink"))
		return;
	ASSERT_OK(xlbd_config_save(path, &c, err, sizeof(err)), err);
	ASSERT_TRUE(file_is(victim, "keep"), "the symlink's target is untouched");
	unlink(tmp);
	unlink(path);

	/* A world-writable file there: it would have become the state file, mode 0666. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (!ASSERT_TRUE(fd >= 0, "plant a temp file"))
		return;
	fchmod(fd, 0666);
	close(fd);
	ASSERT_OK(xlbd_config_save(path, &c, err, sizeof(err)), err);
	ASSERT_OK(stat(path, &st), "state file exists");
	ASSERT_EQ(st.st_mode & 07777, 0600, "state file mode");
	ASSERT_OK(stat(tmp, &st), "the planted file is left alone");
	ASSERT_EQ(st.st_size, 0, "the planted file is not written");

	snprintf(tmp, sizeof(tmp), "%s.tmp.*", path);
	ASSERT_EQ(glob(tmp, 0, NULL, &g), GLOB_NOMATCH, "no temp file left behind");
	globfree(&g);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(victim);
	unlink(path);
}

/* A state directory others can write is refused (they could replace the state); with the
 * sticky bit it is not (they cannot remove or rename our files). */
static void test_state_dir_permissions(void)
{
	char sub[128], path[160], err[512];
	struct xlbd_config c;

	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(path, sizeof(path), "%s/state.json", sub);
	make_config(&c);
	if (!ASSERT_OK(mkdir(sub, 0700), "mkdir"))
		return;
	chmod(sub, 0777);
	ASSERT_EQ(xlbd_config_save(path, &c, err, sizeof(err)), -EPERM, "world-writable dir");
	ASSERT_TRUE(strstr(err, sub) && strstr(err, "writable by other users"), err);
	ASSERT_TRUE(access(path, F_OK) != 0, "nothing written");
	chmod(sub, 0770);
	ASSERT_EQ(xlbd_config_check_dir(path, err, sizeof(err)), -EPERM, "group-writable dir");
	chmod(sub, 01777);
	ASSERT_OK(xlbd_config_save(path, &c, err, sizeof(err)), err);
	unlink(path);
	chmod(sub, 0755);
	if (geteuid() == 0 && chown(sub, 65534, 65534) == 0) {
		ASSERT_EQ(xlbd_config_save(path, &c, err, sizeof(err)), -EPERM, "dir of uid 65534");
		ASSERT_TRUE(strstr(err, "uid 65534") != NULL, err);
	}
	unlink(path);
	rmdir(sub);
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
		/* One strict rule, as for requests. */
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
		{VIP1 ", \"check\": {\"kind\": \"tcp\", \"tunnel\": \"on\"}}]}",
		 "check tunnel must be true or false"},
		{VIP1 ", \"check\": {\"tunnel\": true}}]}",
		 "the tunnel check goes with a health check"},
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

/* Merge one JSON object of check settings onto c; the error text on failure. */
static int merge(struct xlbd_check *c, const char *text)
{
	char err[256] = "";
	json_t *j = json_loads(text, 0, NULL);
	int e = j ? xlbd_check_from_json(j, c, err, sizeof(err)) : -EINVAL;

	json_decref(j);
	if (e)
		xt_fail(__FILE__, __LINE__, "%s: %s", text, err);
	return e;
}

/* The automatic timeout, min(500 ms, interval / 2), follows the interval
 * and is not sticky (it stayed 100 ms after `interval 200ms` then `interval 5s`); a timeout
 * given is kept while it stays below the interval. */
static void test_check_timeout_rule(void)
{
	struct xlbd_check c;

	xlbd_check_defaults(&c);
	ASSERT_EQ(c.timeout_ms, 500, "default");
	ASSERT_EQ(xlbd_check_auto_timeout(1000), 500, "auto of the default interval");
	merge(&c, "{\"interval_ms\": 200}");
	ASSERT_EQ(c.timeout_ms, 100, "interval 200ms: half");
	merge(&c, "{\"interval_ms\": 5000}");
	ASSERT_EQ(c.timeout_ms, 500, "interval 5s: 500 ms again, not 100");
	merge(&c, "{\"kind\": \"http\"}");
	ASSERT_EQ(c.timeout_ms, 500, "another setting leaves it");
	merge(&c, "{\"timeout_ms\": 300}");
	merge(&c, "{\"interval_ms\": 2000}");
	ASSERT_EQ(c.timeout_ms, 300, "a timeout given stays");
	merge(&c, "{\"interval_ms\": 250}");
	ASSERT_EQ(c.timeout_ms, 125, "... until the interval is not longer: then automatic");
	merge(&c, "{\"interval_ms\": 10}");
	ASSERT_EQ(c.timeout_ms, 5, "the smallest interval");
	merge(&c, "{\"interval_ms\": 400, \"timeout_ms\": 350}");
	ASSERT_EQ(c.timeout_ms, 350, "both given: as given");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL test_config/setup: mkdtemp\n");
		return 1;
	}
	RUN_TEST(test_json_round_trip);
	RUN_TEST(test_tunnel_absent_reads_false);
	RUN_TEST(test_drained_round_trip);
	RUN_TEST(test_validate);
	RUN_TEST(test_backend_nonsense);
	RUN_TEST(test_new_ids);
	RUN_TEST(test_state_file);
	RUN_TEST(test_state_temp_file);
	RUN_TEST(test_state_dir_permissions);
	RUN_TEST(test_corrupt_state_files);
	RUN_TEST(test_check_timeout_rule);
	rmdir(dir);
	return xt_finish();
}
