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

/* Wall clock equal to the monotonic one, the close at 0: the grid's slots begin at the close,
 * so the ramp is the plain one of 10 steps of slow_start_ms / 10. */
static void test_slow_start_ramp(void)
{
	struct xlbd_breaker b;
	__u32 prev = 0;

	xlbd_breaker_init(&b, false, 0);
	xlbd_breaker_result(&b, &pol, true, 0);
	xlbd_breaker_result(&b, &pol, true, 0);
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 0, 0), 10, "starts at a tenth");
	for (__u64 t = 0; t < 10000; t += 250) {
		__u32 w = xlbd_breaker_weight(&b, &pol, 100, t, t);

		ASSERT_TRUE(w >= prev, "never decreases");
		ASSERT_EQ(w, 10 * (t / 1000 + 1), "linear in 10 steps");
		prev = w;
	}
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 10000, 10000), 100,
		  "full weight after the window");
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 3, 0, 0), 1, "at least 1");
	struct xlbd_breaker_policy none = pol;
	none.slow_start_ms = 0;
	ASSERT_EQ(xlbd_breaker_weight(&b, &none, 100, 0, 0), 100, "slow start off");
	xlbd_breaker_init(&b, true, 0);
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 0, 0), 100, "trusted: no ramp");
}

/* A node whose circuit closed at wall time closed_wall (its monotonic clock at mono_base then):
 * the weight it publishes at wall time t. */
static __u32 weight_at(__u64 mono_base, __u64 closed_wall, __u64 t)
{
	struct xlbd_breaker b;

	xlbd_breaker_init(&b, false, mono_base);
	xlbd_breaker_result(&b, &pol, true, mono_base);
	xlbd_breaker_result(&b, &pol, true, mono_base);
	return xlbd_breaker_weight(&b, &pol, 100, mono_base + (t - closed_wall), t);
}

/*
 * Slow start on the wall-clock grid (docs/cluster.md): two nodes whose circuits closed at
 * different wall times within one slot (slow_start 10 s: 1 s slots), with unrelated monotonic
 * clocks, publish the same weight at every wall time from the later close on; the steps fall
 * on the slots' boundaries; nodes that closed in different slots differ by one step at most.
 */
static void test_slow_start_grid(void)
{
	const __u64 base = 1700000000000ULL; /* a wall time on a slot boundary */
	__u64 t, next;
	struct xlbd_breaker b;

	for (t = base + 900; t < base + 12000; t += 50) {
		__u32 a = weight_at(5000, base + 100, t), c = weight_at(777777, base + 900, t);

		ASSERT_EQ(a, c, "same slot, same weight at the same wall time");
	}
	ASSERT_EQ(weight_at(0, base + 100, base + 1999), 10,
		  "first step to the end of the first whole slot");
	ASSERT_EQ(weight_at(0, base + 100, base + 2000), 20, "second step at a boundary");
	ASSERT_EQ(weight_at(0, base + 100, base + 9999), 90, "last partial step");
	ASSERT_EQ(weight_at(0, base + 100, base + 10000), 100, "full weight 9 to 10 slots after");
	ASSERT_EQ(weight_at(0, base, base + 9000), 100, "closed on a boundary: 9 slots");
	ASSERT_EQ(weight_at(0, base, base + 8999), 90, "closed on a boundary: step 9 before");
	for (t = base + 1100; t < base + 12000; t += 50) {
		__u32 a = weight_at(0, base + 900, t), c = weight_at(0, base + 1100, t);

		ASSERT_TRUE(a >= c && a - c <= 10, "adjacent slots: one step apart at most");
	}
	/* The step timer: the next boundary, and nothing once the ramp is over. */
	xlbd_breaker_init(&b, false, 0);
	xlbd_breaker_result(&b, &pol, true, 0);
	xlbd_breaker_result(&b, &pol, true, 0);
	next = xlbd_breaker_ramp_next_ms(&b, &pol, 0, base + 100);
	ASSERT_EQ(next, 900, "next step at the next boundary");
	ASSERT_EQ(xlbd_breaker_ramp_next_ms(&b, &pol, 10000, base + 10100), 0, "ramp over");
	ASSERT_EQ(xlbd_breaker_weight(&b, &pol, 100, 10000, base + 10100), 100, "full weight then");
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
	RUN_TEST(test_slow_start_grid);
	RUN_TEST(test_trip);
	return xt_finish();
}
