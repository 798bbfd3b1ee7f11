/* test_neigh.c - the neighbour monitor in a network namespace of its own: overflow, failures. */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "neigh.h"

/*
 * The binary moves itself into a new network namespace (root only, else every test is
 * skipped) with a veth pair xn0/xn1 up and 10.77.0.1/16 on xn0; entries are made with `ip
 * neigh`. The backend watched is 10.77.0.2.
 */
static const char *skip;

struct seen {
	int calls;
	bool has_mac; /* the last report of 10.77.0.2 */
	__u8 mac[6];
	__u16 state;
};

static void on_neigh(const struct xlb_addr *addr, __u8 family, const __u8 *mac, __u16 state,
		     void *arg)
{
	struct seen *s = arg;

	if (family != XLB_AF_INET || addr->v4 != inet_addr("10.77.0.2"))
		return;
	s->calls++;
	s->has_mac = mac;
	if (mac)
		memcpy(s->mac, mac, 6);
	s->state = state;
}

static bool sh(const char *cmd)
{
	return ASSERT_OK(system(cmd), cmd);
}

/* An overflow of the monitor socket (ENOBUFS) lost updates, a MAC change
 * among them, for good. The read must resynchronise with a dump and report the last MAC. */
static void test_overflow_resynchronises(void)
{
	struct xlbd_neigh *n = NULL;
	struct seen s = {0};
	FILE *f;
	int r;

	if (skip)
		return xt_skip(skip);
	if (!ASSERT_OK(xlbd_neigh_open(&n, if_nametoindex("xn0"), on_neigh, &s), "open"))
		return;
	setsockopt(xlbd_neigh_fd(n), SOL_SOCKET, SO_RCVBUF, &(int){0}, sizeof(int)); /* minimum */
	if (!sh("ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:01 dev xn0 nud permanent"))
		goto out;
	xlbd_neigh_read(n);
	ASSERT_TRUE(s.has_mac && s.mac[5] == 1, "first MAC seen");
	/* A burst the socket cannot hold, then the change of the backend's MAC. */
	f = fopen("/tmp/xlb-test-neigh.batch", "w");
	if (!ASSERT_TRUE(f, "batch file"))
		goto out;
	for (int i = 0; i < 400; i++)
		fprintf(f,
			"neigh replace 10.77.1.%d lladdr 02:00:00:00:01:%02x dev xn0 nud "
			"permanent\n",
			i % 250 + 1, i % 250);
	fprintf(f, "neigh replace 10.77.0.2 lladdr 02:00:00:00:00:02 dev xn0 nud permanent\n");
	fclose(f);
	sh("ip -batch /tmp/xlb-test-neigh.batch");
	unlink("/tmp/xlb-test-neigh.batch");
	r = xlbd_neigh_read(n);
	ASSERT_EQ(r, 1, "overflow seen and resynchronised");
	ASSERT_TRUE(s.has_mac, "backend reported with a MAC");
	ASSERT_EQ(s.mac[5], 2, "the MAC after the change");
out:
	xlbd_neigh_close(n);
}

/* A failed entry is reported (mac NULL, NUD_FAILED), by the monitor and by a dump; a deleted
 * one as state 0. */
static void test_failed_and_deleted_reported(void)
{
	struct xlbd_neigh *n = NULL;
	struct seen s = {0};

	if (skip)
		return xt_skip(skip);
	if (!ASSERT_OK(xlbd_neigh_open(&n, if_nametoindex("xn0"), on_neigh, &s), "open"))
		return;
	if (!sh("ip neigh replace 10.77.0.2 dev xn0 nud failed"))
		goto out;
	xlbd_neigh_read(n);
	ASSERT_TRUE(s.calls > 0 && !s.has_mac && s.state == NUD_FAILED, "monitor: failed");
	s = (struct seen){0};
	xlbd_neigh_dump(n, XLB_AF_INET, on_neigh, &s);
	ASSERT_TRUE(s.calls == 1 && !s.has_mac && s.state == NUD_FAILED, "dump: failed");
	s = (struct seen){0};
	sh("ip neigh del 10.77.0.2 dev xn0");
	xlbd_neigh_read(n);
	ASSERT_TRUE(s.calls > 0 && !s.has_mac && s.state == 0, "monitor: deleted");
out:
	xlbd_neigh_close(n);
}

int main(void)
{
	if (geteuid())
		skip = "needs root (a network namespace)";
	else if (unshare(CLONE_NEWNET))
		skip = "cannot create a network namespace";
	else if (system("ip link add xn0 type veth peer name xn1 && ip link set xn0 up && "
			"ip link set xn1 up && ip addr add 10.77.0.1/16 dev xn0"))
		skip = "cannot create a veth pair";
	RUN_TEST(test_overflow_resynchronises);
	RUN_TEST(test_failed_and_deleted_reported);
	return xt_finish();
}
