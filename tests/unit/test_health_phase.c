/* test_health_phase.c - two nodes' checks of one backend fall at the same wall-clock instants,
 * so their circuits move together (docs/cluster.md, Health): measured and printed here. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "config.h"
#include "health.h"

/*
 * Two nodes (two health instances on one event loop) check the backend 127.0.0.1 of the VIP
 * 127.0.0.1:PORT/tcp, each under its own backend id, as two xlbds would number it. The test's
 * socket on PORT refuses connections until it listens.
 */
#define INTERVAL_MS 200

struct node {
	struct xlbd_health h;
	struct xlbd_vip vip;
	struct xlbd_backend be;
	struct xlbd_config cfg;
	__u64 closed_wall; /* when its circuit last closed; 0: not yet */
	__u64 opened_wall;
};

static struct node n1, n2;
static struct event_base *base;

static void on_changed(void *arg)
{
	struct node *n = arg;
	enum xlbd_circuit s = n->h.be[n->be.id].br.state;

	if (s == XLBD_CIRCUIT_CLOSED && !n->closed_wall)
		n->closed_wall = xlbd_wall_ms();
	if (s == XLBD_CIRCUIT_OPEN && !n->opened_wall)
		n->opened_wall = xlbd_wall_ms();
}

static void node_init(struct node *n, __u32 id, __be16 port)
{
	memset(n, 0, sizeof(*n));
	n->vip.key = (struct xlb_vip_key){.addr.v4 = htonl(INADDR_LOOPBACK),
					  .port = port,
					  .proto = IPPROTO_TCP,
					  .family = XLB_AF_INET};
	n->vip.id = 1;
	xlbd_check_defaults(&n->vip.check);
	n->vip.check.kind = XLB_CHECK_TCP;
	n->vip.check.interval_ms = INTERVAL_MS;
	n->vip.check.timeout_ms = 50;
	n->vip.check.rise = 2;
	n->vip.check.fall = 2;
	n->vip.check.backoff_ms = INTERVAL_MS;
	n->vip.check.backoff_max_ms = INTERVAL_MS;
	n->be = (struct xlbd_backend){.addr.v4 = htonl(INADDR_LOOPBACK),
				      .family = XLB_AF_INET,
				      .id = id,
				      .weight = 1,
				      .admin = XLB_ADMIN_UP};
	n->vip.be = &n->be;
	n->vip.nbe = 1;
	n->cfg.vips = &n->vip;
	n->cfg.nvips = 1;
	xlbd_health_init(&n->h, base, NULL, &n->cfg, on_changed, n);
	n->h.started = true; /* a running xlbd: checks start at once at a sync */
}

static void run_ms(unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static __u64 gap(__u64 a, __u64 b)
{
	return a > b ? a - b : b - a;
}

/*
 * The nodes start 77 ms apart (no relation between their timers) and number the backend 1 and
 * 7 (the old phase came from the id). A backend that comes up: both close within a few ms.
 * Then it stops answering, and comes back: both open, then close, together again.
 */
static void test_two_nodes_move_together(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	base = event_base_new();
	if (!ASSERT_TRUE(base && s >= 0, "base and socket") ||
	    !ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)), "bind") ||
	    !ASSERT_OK(getsockname(s, (struct sockaddr *)&sa, &len), "getsockname") ||
	    !ASSERT_OK(listen(s, 64), "listen"))
		goto out;
	node_init(&n1, 1, sa.sin_port);
	node_init(&n2, 7, sa.sin_port);
	xlbd_health_sync(&n1.h, NULL, false); /* new backends: half-open, rise 2 to close */
	run_ms(77);
	xlbd_health_sync(&n2.h, NULL, false);
	run_ms(8 * INTERVAL_MS);
	if (!ASSERT_TRUE(n1.closed_wall && n2.closed_wall, "both closed"))
		goto out;
	printf("# a new backend: circuits closed %llu ms apart (nodes started 77 ms apart, "
	       "checks every %d ms)\n",
	       (unsigned long long)gap(n1.closed_wall, n2.closed_wall), INTERVAL_MS);
	/* It stops answering: a new socket on the port that does not listen refuses. */
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (!ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)), "bind again"))
		goto out;
	run_ms(6 * INTERVAL_MS);
	if (!ASSERT_TRUE(n1.opened_wall && n2.opened_wall, "both opened"))
		goto out;
	printf("# the backend stops: circuits opened %llu ms apart\n",
	       (unsigned long long)gap(n1.opened_wall, n2.opened_wall));
	n1.closed_wall = n2.closed_wall = 0;
	if (!ASSERT_OK(listen(s, 64), "back"))
		goto out;
	run_ms(12 * INTERVAL_MS);
	if (!ASSERT_TRUE(n1.closed_wall && n2.closed_wall, "both closed again"))
		goto out;
	printf("# the backend comes back: circuits closed %llu ms apart\n",
	       (unsigned long long)gap(n1.closed_wall, n2.closed_wall));
out:
	xlbd_health_stop(&n1.h);
	xlbd_health_stop(&n2.h);
	if (s >= 0)
		close(s);
	if (base)
		event_base_free(base);
}

int main(void)
{
	RUN_TEST(test_two_nodes_move_together);
	return xt_finish();
}
