/* test_health.c - health.c's rules over a real event loop: trust at sync, errors of our side. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "health.h"
#include "log.h"
#include "probe.h"

/*
 * One VIP 127.0.0.1:PORT/tcp with one backend, 127.0.0.1 (id 1), checked by tcp connect to a
 * listener of the test's own: every check passes unless something of ours stops it. fall 1: a
 * single failed check would open the circuit.
 */
#define BE_ID 1

static struct xlbd_health h; /* large: not on the stack */
static int changes;

static void on_changed(void *arg)
{
	(void)arg;
	changes++;
}

struct fixture {
	struct event_base *base;
	int listener;
	struct xlbd_vip vip;
	struct xlbd_backend be;
	struct xlbd_config cfg;
};

static bool fixture_init(struct fixture *f, enum xlb_check_kind kind, enum xlb_admin admin)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->base = event_base_new();
	f->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_TRUE(f->base && f->listener >= 0, "base and listener") ||
	    !ASSERT_OK(bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)), "bind") ||
	    !ASSERT_OK(listen(f->listener, 64), "listen") ||
	    !ASSERT_OK(getsockname(f->listener, (struct sockaddr *)&sa, &len), "getsockname"))
		return false;
	f->vip.key = (struct xlb_vip_key){.addr.v4 = htonl(INADDR_LOOPBACK),
					  .port = sa.sin_port,
					  .proto = IPPROTO_TCP,
					  .family = XLB_AF_INET};
	f->vip.id = 1;
	xlbd_check_defaults(&f->vip.check);
	f->vip.check.kind = kind;
	f->vip.check.interval_ms = 100;
	f->vip.check.timeout_ms = 50;
	f->vip.check.rise = 2;
	f->vip.check.fall = 1;
	f->be = (struct xlbd_backend){.addr.v4 = htonl(INADDR_LOOPBACK),
				      .family = XLB_AF_INET,
				      .id = BE_ID,
				      .weight = 1,
				      .admin = admin};
	f->vip.be = &f->be;
	f->vip.nbe = 1;
	f->cfg.vips = &f->vip;
	f->cfg.nvips = 1;
	changes = 0;
	memset(&h, 0, sizeof(h));
	xlbd_health_init(&h, f->base, NULL, &f->cfg, on_changed, NULL);
	return true;
}

static void fixture_fini(struct fixture *f)
{
	xlbd_health_stop(&h);
	if (f->listener >= 0)
		close(f->listener);
	if (f->base)
		event_base_free(f->base);
}

static void run_ms(struct event_base *base, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* `backend set ... admin up` after `disabled` is not a backend that was
 * serving: it starts half-open, down until `rise` checks pass, as a new backend does. */
static void test_enabled_backend_starts_half_open(void)
{
	struct fixture f;
	struct xlbd_config old;
	struct xlbd_vip ov;
	struct xlbd_backend ob;

	if (!fixture_init(&f, XLB_CHECK_TCP, XLB_ADMIN_UP))
		goto out;
	ov = f.vip, ob = f.be;
	ob.admin = XLB_ADMIN_DISABLED;
	ov.be = &ob;
	old = f.cfg;
	old.vips = &ov;
	h.cfg = &old; /* xlbd starts with the backend disabled */
	xlbd_health_sync(&h, NULL, true);
	run_ms(f.base, 10);
	ASSERT_TRUE(!h.be[BE_ID].active, "disabled: not checked");
	h.cfg = &f.cfg; /* backend set ... admin up */
	xlbd_health_sync(&h, &old, false);
	ASSERT_TRUE(h.be[BE_ID].active, "checks run once enabled");
	ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_HALF_OPEN, "enabled: half-open, not closed");
	run_ms(f.base, 350); /* a check now and every 100 ms: rise 2 passes */
	ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_CLOSED, "closed after rise passing checks");
out:
	fixture_fini(&f);
}

/* The other side of the rule: a backend that was serving (up, checks switched on for it now)
 * keeps its traffic: closed at once. So does a draining one. */
static void test_serving_backend_starts_closed(void)
{
	enum xlb_admin before[] = {XLB_ADMIN_UP, XLB_ADMIN_DRAIN};

	for (unsigned i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		struct fixture f;
		struct xlbd_config old;
		struct xlbd_vip ov;
		struct xlbd_backend ob;

		if (!fixture_init(&f, XLB_CHECK_TCP, XLB_ADMIN_UP))
			goto next;
		ov = f.vip, ob = f.be;
		ov.check.kind = XLB_CHECK_NONE;
		ob.admin = before[i];
		ov.be = &ob;
		old = f.cfg;
		old.vips = &ov;
		xlbd_health_sync(&h, &old, false);
		ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_CLOSED, "was serving: closed");
	next:
		fixture_fini(&f);
	}
}

/* Lowers the soft fd limit a little above what is open and opens fds up to it: every
 * socket() then fails with EMFILE. fds_release closes them and puts the limit back. */
static int fds[64];
static int nfds;

static void fds_fill(struct rlimit *saved)
{
	struct rlimit low;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	getrlimit(RLIMIT_NOFILE, saved);
	low = *saved;
	low.rlim_cur = fd + 8;
	close(fd);
	setrlimit(RLIMIT_NOFILE, &low);
	while (nfds < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[nfds++] = fd;
}

static void fds_release(const struct rlimit *saved)
{
	while (nfds)
		close(fds[--nfds]);
	setrlimit(RLIMIT_NOFILE, saved);
}

/* A check that fails on our side (EMFILE at socket()) is no backend failure:
 * with fall 1 the circuit stays closed, no failure is counted, the error is counted by reason. */
static void test_local_error_keeps_backend_up(void)
{
	struct fixture f;
	struct rlimit saved;
	int emfile = xlbd_probe_local_error(EMFILE);

	if (!fixture_init(&f, XLB_CHECK_TCP, XLB_ADMIN_UP))
		goto out;
	ASSERT_TRUE(emfile >= 0, "EMFILE is an error of our side");
	ASSERT_TRUE(xlbd_probe_local_error(ECONNREFUSED) < 0, "a refusal is the backend's");
	xlbd_health_sync(&h, NULL, true);
	ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_CLOSED, "trusted at start");
	run_ms(f.base, 150); /* a first check passes: the fixture works */
	ASSERT_TRUE(h.be[BE_ID].checked && h.be[BE_ID].last_ok, "a check passed");
	fds_fill(&saved);
	run_ms(f.base, 350); /* three checks, each out of fds */
	fds_release(&saved);
	ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_CLOSED, "still closed (fall 1)");
	ASSERT_EQ(h.be[BE_ID].check_failures, 0, "no failure counted");
	ASSERT_TRUE(h.be[BE_ID].last_ok, "the last result is the last real one");
	ASSERT_TRUE(h.local_errors[emfile] >= 2, "counted as EMFILE");
	ASSERT_EQ(changes, 0, "nothing to apply");
	run_ms(f.base, 250);
	ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_CLOSED, "checks pass again");
out:
	fixture_fini(&f);
}

/* No check starts (and is timed) before the loop runs: start-up after the
 * sync blocks the loop, and a check started then would time out with its answer unread. */
static void test_checks_start_with_the_loop(void)
{
	struct fixture f;

	if (!fixture_init(&f, XLB_CHECK_TCP, XLB_ADMIN_UP))
		goto out;
	xlbd_health_sync(&h, NULL, true);
	ASSERT_TRUE(h.be[BE_ID].active, "checked");
	ASSERT_TRUE(!h.be[BE_ID].probe, "no probe before the loop runs");
	usleep(100 * 1000); /* start-up: twice the timeout */
	run_ms(f.base, 30);
	ASSERT_TRUE(h.be[BE_ID].checked && h.be[BE_ID].last_ok, "the first check ran and passed");
	ASSERT_EQ(h.be[BE_ID].br.state, XLBD_CIRCUIT_CLOSED, "closed");
out:
	fixture_fini(&f);
}

int main(void)
{
	xlb_log_set_level(XLB_LOG_ERROR); /* transitions are logged at info and warn */
	RUN_TEST(test_enabled_backend_starts_half_open);
	RUN_TEST(test_serving_backend_starts_closed);
	RUN_TEST(test_local_error_keeps_backend_up);
	RUN_TEST(test_checks_start_with_the_loop);
	return xt_finish();
}
