/* test_breaker.c - the circuit breaker and slow start, driven by a fake clock. */
#include "breaker.h"
#include "check.h"

static const struct xlbd_breaker_policy pol = {.rise = 2,
					       .fall = 3,
					       .backoff_initial_ms = 1000,
					       .backoff_max_ms = 8000,
					       .slow_start_ms = 10000};

static void test_closed_opens_after_fall_failures(void)
{
	struct xlbd_breaker b;
	__u64 t = 0;

	xlbd_breaker_init(&b, true, t);
	ASSERT_TRUE(xlbd_breaker_passes(&b), "trusted backend starts closed");
	ASSERT_TRUE(!xlbd_breaker_result(&b, &pol, false, t += 100), "1 failure");
	ASSERT_TRUE(!xlbd_breaker_result(&b, &pol, true, t += 100), "a success resets the count");
	ASSERT_TRUE(!xlbd_breaker_result(&b, &pol, false, t += 100), "1 failure");
	ASSERT_TRUE(!xlbd_breaker_result(&b, &pol, false, t += 100), "2 failures");
	ASSERT_TRUE(xlbd_breaker_result(&b, &pol, false, t += 100), "3rd failure opens");
	ASSERT_EQ(b.state, XLBD_CIRCUIT_OPEN, "open");
	ASSERT_TRUE(!xlbd_breaker_passes(&b), "open blocks traffic");
	ASSERT_EQ(b.open_until, t + 1000, "initial back-off");
}

static void test_backoff_doubles_to_cap_and_resets(void)
{
	struct xlbd_breaker b;
	__u64 t = 0, expect[] = {1000, 2000, 4000, 8000, 8000, 8000};

	xlbd_breaker_init(&b, true, t);
	for (int i = 0; i < 3; i++)
		xlbd_breaker_result(&b, &pol, false, t);
	for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		ASSERT_EQ(b.state, XLBD_CIRCUIT_OPEN, "open");
		ASSERT_EQ(b.backoff_ms, expect[i], "back-off");
		ASSERT_TRUE(!xlbd_breaker_tick(&b, &pol, b.open_until - 1), "not yet half-open");
		t = b.open_until;
		ASSERT_TRUE(xlbd_breaker_tick(&b, &pol, t), "half-open after the back-off");
		ASSERT_TRUE(!xlbd_breaker_passes(&b), "half-open blocks traffic");
		ASSERT_TRUE(xlbd_breaker_result(&b, &pol, false, t + 10), "trial fails: open");
	}
	/* Recovery, then a new failure run starts from the initial back-off again. */
	t = b.open_until;
	xlbd_breaker_tick(&b, &pol, t);
	ASSERT_TRUE(!xlbd_breaker_result(&b, &pol, true, t + 1), "1 of rise");
	ASSERT_TRUE(xlbd_breaker_result(&b, &pol, true, t + 2), "rise successes close");
	ASSERT_TRUE(xlbd_breaker_passes(&b), "closed");
	for (int i = 0; i < 3; i++)
		xlbd_breaker_result(&b, &pol, false, t + 10);
	ASSERT_EQ(b.backoff_ms, 8000, "reopened soon after closing: flapping, back-off kept");
	t = b.open_until;
	xlbd_breaker_tick(&b, &pol, t);
	xlbd_breaker_result(&b, &pol, true, t);
	xlbd_breaker_result(&b, &pol, true, t);
	ASSERT_TRUE(xlbd_breaker_passes(&b), "closed again");
	for (int i = 0; i < 3; i++)
		xlbd_breaker_result(&b, &pol, false, t + pol.backoff_max_ms);
	ASSERT_EQ(b.backoff_ms, 1000, "after a stable period the back-off starts over");
}

/* A flapping backend (dead 1.5 s, alive 1.5 s, again and again; checked every 100 ms): each
 * reopening comes soon after closing, so the back-off doubles up to its cap and the circuit
 * opens no more often than the back-off allows. */
static void test_flapping_backoff_grows(void)
{
	struct xlbd_breaker b;
	__u64 t, opens = 0, last_open = 0, gaps[32] = {0}, ngaps = 0;
	enum xlbd_circuit prev;

	xlbd_breaker_init(&b, true, 0);
	prev = b.state;
	for (t = 0; t < 120000; t += 100) {
		bool alive = (t / 1500) % 2 == 1;

		xlbd_breaker_tick(&b, &pol, t);
		xlbd_breaker_result(&b, &pol, alive, t);
		if (prev != XLBD_CIRCUIT_OPEN && b.state == XLBD_CIRCUIT_OPEN) {
			if (opens++ && ngaps < 32)
				gaps[ngaps++] = t - last_open;
			last_open = t;
		}
		prev = b.state;
	}
	ASSERT_EQ(b.backoff_ms, 8000, "back-off grew to its cap");
	ASSERT_TRUE(opens >= 5, "it did flap");
	ASSERT_LE(opens, 4 + 120 / 8 + 1, "openings bounded by the back-off");
	for (__u64 i = 0; i < ngaps; i++)
		ASSERT_TRUE(gaps[i] >= (i < 3 ? 1000ULL << i : 8000), "gap >= back-off in force");
	/* Strict alternation never reaches `fall` consecutive failures: stays closed. */
	xlbd_breaker_init(&b, true, 0);
	for (t = 0; t < 10000; t += 100)
		xlbd_breaker_result(&b, &pol, (t / 100) % 2, t);
	ASSERT_TRUE(xlbd_breaker_passes(&b), "alternating results: closed");
}

static void test_new_backend_needs_rise(void)
{
	struct xlbd_breaker b;

	xlbd_breaker_init(&b, false, 0);
	ASSERT_EQ(b.state, XLBD_CIRCUIT_HALF_OPEN, "new backend on trial");
	ASSERT_TRUE(!xlbd_breaker_passes(&b), "no traffic before checks pass");
	xlbd_breaker_result(&b, &pol, true, 100);
	ASSERT_TRUE(xlbd_breaker_result(&b, &pol, true, 200), "closes after rise");
	ASSERT_EQ(b.closed_at, 200, "ramp starts");
}

static void test_slow_start_ramp(void)
{
	struct xlbd_breaker b;
	__u32 prev = 0;

	xlbd_breaker_init(&b, false, 0);
	xlbd_breaker_result(&b, &pol, true, 0);
	xlbd_breaker_result(&b, &pol, true, 0);
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 0), 10, "starts at a tenth");
	for (__u64 t = 0; t < 10000; t += 250) {
		__u32 w = xlbd_breaker_weight(&b, &pol, 100, t);

		ASSERT_TRUE(w >= prev, "never decreases");
		ASSERT_EQ(w, 10 * (t / 1000 + 1), "linear in 10 steps");
		prev = w;
	}
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 10000), 100, "full weight after the window");
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 3, 0), 1, "at least 1");
	struct xlbd_breaker_policy none = pol;
	none.slow_start_ms = 0;
	ASSERT_EQ(xlbd_breaker_weight(&b, &none, 100, 0), 100, "slow start off");
	xlbd_breaker_init(&b, true, 0);
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 0), 100, "trusted: no ramp");
}

/* Outlier detection trips a closed circuit like `fall` failures; other states ignore it. */
static void test_trip(void)
{
	struct xlbd_breaker b;

	xlbd_breaker_init(&b, true, 0);
	ASSERT_TRUE(xlbd_breaker_trip(&b, &pol, 50), "trip opens a closed circuit");
	ASSERT_EQ(b.state, XLBD_CIRCUIT_OPEN, "open");
	ASSERT_EQ(b.open_until, 50 + pol.backoff_initial_ms, "with the initial back-off");
	ASSERT_TRUE(!xlbd_breaker_trip(&b, &pol, 60), "already open: no change");
	xlbd_breaker_init(&b, false, 0);
	ASSERT_TRUE(!xlbd_breaker_trip(&b, &pol, 60), "half-open: checks decide");
}

int main(void)
{
	RUN_TEST(test_closed_opens_after_fall_failures);
	RUN_TEST(test_backoff_doubles_to_cap_and_resets);
	RUN_TEST(test_flapping_backoff_grows);
	RUN_TEST(test_new_backend_needs_rise);
	RUN_TEST(test_slow_start_ramp);
	RUN_TEST(test_trip);
	return xt_finish();
}
