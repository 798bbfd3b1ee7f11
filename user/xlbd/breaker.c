/* breaker.c - the per-backend circuit breaker state machine (see breaker.h). */
#include "breaker.h"

const char *xlbd_circuit_name(enum xlbd_circuit c)
{
	switch (c) {
	case XLBD_CIRCUIT_CLOSED:
		return "closed";
	case XLBD_CIRCUIT_OPEN:
		return "open";
	case XLBD_CIRCUIT_HALF_OPEN:
		return "half-open";
	}
	return "unknown";
}

static void enter(struct xlbd_breaker *b, enum xlbd_circuit s, __u64 now)
{
	b->state = s;
	b->since_ms = now;
	b->fails = 0;
	b->oks = 0;
	b->transitions++;
}

void xlbd_breaker_init(struct xlbd_breaker *b, bool trusted, __u64 now)
{
	*b = (struct xlbd_breaker){
		.state = trusted ? XLBD_CIRCUIT_CLOSED : XLBD_CIRCUIT_HALF_OPEN,
		.since_ms = now,
		/* A trusted backend is not ramped again; a new one ramps when it closes. */
		.ramp = false,
	};
}

static void open_circuit(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, __u64 backoff,
			 __u64 now)
{
	if (backoff > p->backoff_max_ms)
		backoff = p->backoff_max_ms;
	b->backoff_ms = backoff;
	b->open_until = now + backoff;
	enter(b, XLBD_CIRCUIT_OPEN, now);
}

bool xlbd_breaker_result(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, bool ok,
			 __u64 now)
{
	if (ok) {
		b->fails = 0;
		b->oks++;
	} else {
		b->oks = 0;
		b->fails++;
	}
	switch (b->state) {
	case XLBD_CIRCUIT_CLOSED:
		if (b->fails >= p->fall) {
			/* Closed only briefly since the last open: flapping, wait longer. */
			bool flapping = b->backoff_ms && now - b->since_ms < p->backoff_max_ms;

			open_circuit(b, p, flapping ? b->backoff_ms * 2 : p->backoff_initial_ms,
				     now);
			return true;
		}
		return false;
	case XLBD_CIRCUIT_HALF_OPEN:
		if (!ok) {
			/* The trial failed: wait twice as long (first trial of a new backend:
			 * the initial back-off). */
			open_circuit(b, p,
				     b->backoff_ms ? b->backoff_ms * 2 : p->backoff_initial_ms,
				     now);
			return true;
		}
		if (b->oks >= p->rise) {
			enter(b, XLBD_CIRCUIT_CLOSED, now);
			b->closed_at = now;
			b->ramp = true;
			return true;
		}
		return false;
	case XLBD_CIRCUIT_OPEN:
		/* Results while open (a check already in flight) change nothing. */
		b->fails = b->oks = 0;
		return false;
	}
	return false;
}

bool xlbd_breaker_trip(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, __u64 now)
{
	if (b->state != XLBD_CIRCUIT_CLOSED)
		return false;
	b->fails = p->fall - 1;
	return xlbd_breaker_result(b, p, false, now);
}

bool xlbd_breaker_tick(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, __u64 now)
{
	(void)p;
	if (b->state != XLBD_CIRCUIT_OPEN || now < b->open_until)
		return false;
	enter(b, XLBD_CIRCUIT_HALF_OPEN, now);
	return true;
}

bool xlbd_breaker_passes(const struct xlbd_breaker *b)
{
	return b->state == XLBD_CIRCUIT_CLOSED;
}

/*
 * The ramp's step at wall time wall (docs/cluster.md, "Slow start"): steps are slots of
 * len = slow_start_ms / XLBD_SLOW_START_STEPS on the wall clock (CLOCK_REALTIME, the one clock
 * two nodes share), not counted from the close. Step 1 lasts from the close to the end of the
 * first whole slot after it, then one step per slot: two nodes whose circuits closed within
 * one slot are on the same step from the later close on, and change steps at the same
 * instants. 0: not ramping (full weight).
 */
static __u64 ramp_step(const struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, __u64 now,
		       __u64 wall, __u64 *len)
{
	__u64 closed_wall, first, cur, step;

	if (b->state != XLBD_CIRCUIT_CLOSED || !p->slow_start_ms || !b->ramp)
		return 0;
	*len = p->slow_start_ms / XLBD_SLOW_START_STEPS ?: 1;
	/* When it closed, on the wall clock: the monotonic age, back from the wall time now. */
	closed_wall = wall - (now - b->closed_at < wall ? now - b->closed_at : wall);
	first = (closed_wall + *len - 1) / *len; /* the first whole slot after the close */
	cur = wall / *len;
	step = cur < first ? 1 : cur - first + 1;
	return step >= XLBD_SLOW_START_STEPS ? 0 : step;
}

__u32 xlbd_breaker_weight(const struct xlbd_breaker *b, const struct xlbd_breaker_policy *p,
			  __u32 weight, __u64 now, __u64 wall)
{
	__u64 len, step = ramp_step(b, p, now, wall, &len), w;

	if (!step)
		return weight;
	w = (__u64)weight * step / XLBD_SLOW_START_STEPS;
	return w ? w : 1;
}

__u64 xlbd_breaker_ramp_next_ms(const struct xlbd_breaker *b, const struct xlbd_breaker_policy *p,
				__u64 now, __u64 wall)
{
	__u64 len;

	if (!ramp_step(b, p, now, wall, &len))
		return 0;
	return len - wall % len;
}
