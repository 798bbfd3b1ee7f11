/* breaker.h - per-backend circuit breaker (closed / open / half-open, back-off, slow start). */
#ifndef XLBD_BREAKER_H
#define XLBD_BREAKER_H

#include <linux/types.h>
#include <stdbool.h>

/*
 * Pure state machine over a caller-supplied clock (milliseconds), so tests drive it with a
 * fake one. Health-check results go in; transitions come out for the caller to log, count and
 * apply to the data plane (open and half-open mean "down" there).
 *
 *   closed --fall consecutive failures--> open
 *   open --back-off elapsed--> half-open (checks keep running, no traffic)
 *   half-open --rise consecutive successes--> closed (weight ramps up over slow_start_ms)
 *   half-open --any failure--> open, back-off doubled up to backoff_max_ms
 * A circuit that opens again after staying closed for backoff_max_ms starts from
 * backoff_initial_ms; one that reopens sooner (a flapping backend) doubles its last back-off.
 */

enum xlbd_circuit { XLBD_CIRCUIT_CLOSED, XLBD_CIRCUIT_OPEN, XLBD_CIRCUIT_HALF_OPEN };

struct xlbd_breaker_policy {
	__u32 rise;		  /* successes that close a half-open circuit */
	__u32 fall;		  /* failures that open a closed circuit */
	__u64 backoff_initial_ms; /* first open period */
	__u64 backoff_max_ms;	  /* cap of the doubling */
	__u64 slow_start_ms;	  /* ramp after closing; 0: full weight at once */
};

struct xlbd_breaker {
	enum xlbd_circuit state;
	__u32 fails;	   /* consecutive failures */
	__u32 oks;	   /* consecutive successes */
	__u64 since_ms;	   /* when the current state began */
	__u64 open_until;  /* open: when half-open starts */
	__u64 backoff_ms;  /* the open period now in force */
	__u64 closed_at;   /* start of the slow-start ramp */
	bool ramp;	   /* closed_at is in force (not for a trusted start) */
	__u32 transitions; /* count of state changes */
};

/* A backend that has served before (restart): closed at full weight. A new one: half-open,
 * so it gets traffic only after `rise` good checks (and then ramps up). */
void xlbd_breaker_init(struct xlbd_breaker *b, bool trusted, __u64 now);

/* Feed one check result; returns true when the state changed. */
bool xlbd_breaker_result(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, bool ok,
			 __u64 now);
/* Open a closed circuit now for a reason other than checks (passive outlier detection), as
 * `fall` failed checks would; true when the state changed. */
bool xlbd_breaker_trip(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, __u64 now);
/* Time passing: open -> half-open once the back-off has elapsed; true when the state changed. */
bool xlbd_breaker_tick(struct xlbd_breaker *b, const struct xlbd_breaker_policy *p, __u64 now);

/* Traffic allowed (closed). */
bool xlbd_breaker_passes(const struct xlbd_breaker *b);

/*
 * The weight to use now: weight when closed and past the ramp; during slow start it grows
 * linearly from weight/XLBD_SLOW_START_STEPS to weight in XLBD_SLOW_START_STEPS steps (so the
 * table is rebuilt a bounded number of times); at least 1. The steps are slots of
 * slow_start_ms / XLBD_SLOW_START_STEPS on the wall clock (wall: CLOCK_REALTIME in ms at the
 * instant now), so that nodes whose circuits closed at slightly different times step together
 * (docs/cluster.md): the first step lasts from the close to the end of the first whole slot
 * after it (one to two slots), full weight comes 9 to 10 slots after the close.
 */
#define XLBD_SLOW_START_STEPS 10
__u32 xlbd_breaker_weight(const struct xlbd_breaker *b, const struct xlbd_breaker_policy *p,
			  __u32 weight, __u64 now, __u64 wall);
/* Milliseconds from now to the ramp's next step; 0 when it is not ramping. */
__u64 xlbd_breaker_ramp_next_ms(const struct xlbd_breaker *b, const struct xlbd_breaker_policy *p,
				__u64 now, __u64 wall);

const char *xlbd_circuit_name(enum xlbd_circuit c);

#endif /* XLBD_BREAKER_H */
