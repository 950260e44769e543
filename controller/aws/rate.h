/* rate.h: the IAM send rate: adaptive (the AWS SDKs' "adaptive" retry mode)
 * or fixed, as a token bucket.
 *
 * Pure: no locks and no clock of its own; every call takes `now_ns` (a
 * monotonic time) so tests drive it by hand. The client (client.c) keeps one
 * under its lock, waits outside it, and reports every answer.
 *
 * Adaptive, as botocore's retries/adaptive.py, throttling.py and bucket.py
 * (read, not copied; the differences are marked *):
 *   - the bucket fills at the send rate and holds one second of it (at least
 *     1 token); a call takes one token; * with a ceiling (`max`) it holds
 *     1 token, so that no second carries more than the ceiling (+1 at the
 *     second's edges), also after an idle spell;
 *   - the send rate follows CUBIC (RFC 8312): while answers are not
 *     throttling, rate(t) = C (t - K)^3 + W_max, t the seconds since the last
 *     throttle, C = 0.4, K = cbrt(W_max (1 - beta) / C);
 *   - a throttling answer sets W_max to the rate being sent (the measured
 *     rate, at most the bucket's) and cuts the rate to beta W_max, beta = 0.7;
 *   - the rate is held at most twice the measured send rate, so an idle
 *     spell does not bank a rate nobody tested (* but never below `initial`
 *     for that reason: only throttling cuts below it), never above `max` (*
 *     the operator's ceiling; 0 = none) and never below 0.5/s;
 *   - the measured send rate counts answers in 0.5 s buckets, smoothed
 *     0.8 new / 0.2 old;
 *   - * the bucket is on from the start at `initial` (botocore sends
 *     unlimited until the first throttle), as if the rate had just recovered
 *     to it: W_max = initial, t = K, so it grows at once while IAM accepts.
 * Fixed: the bucket fills at `max` and holds `burst` tokens (0 = 1 token:
 * at most `max` calls in any second); answers change nothing.
 */
#ifndef KEYLESS_AWS_RATE_H
#define KEYLESS_AWS_RATE_H

#include <stdbool.h>
#include <stdint.h>

enum aws_rate_mode {
	AWS_RATE_ADAPTIVE,
	AWS_RATE_FIXED,
};

#define AWS_RATE_INITIAL_DEFAULT 10.0 /* calls/s: IAM's rate keyless used before it adapted */
#define AWS_RATE_MIN 0.5              /* calls/s: the floor (botocore's) */
#define AWS_RATE_CUBIC_C 0.4
#define AWS_RATE_CUBIC_BETA 0.7

struct aws_rate_opts {
	enum aws_rate_mode mode;
	double max;     /* adaptive: the ceiling, 0 = none; fixed: the rate (> 0) */
	double initial; /* adaptive: the starting rate, 0 = AWS_RATE_INITIAL_DEFAULT (cut to max) */
	double burst;   /* fixed: the bucket's size, 0 = 1 token */
};

struct aws_rate {
	struct aws_rate_opts o;
	/* the bucket */
	double fill;     /* tokens per second: the send rate */
	double capacity;
	double tokens;
	int64_t last_fill_ns;
	/* CUBIC */
	double w_max;
	double k;        /* seconds */
	int64_t last_throttle_ns;
	/* the measured send rate */
	double measured;
	int64_t bucket_ns; /* start of the current 0.5 s bucket */
	uint64_t count;
	/* counters */
	uint64_t throttles;
};

/* Start at now_ns with o (copied; defaults applied, values clamped to the
 * floor). */
void aws_rate_init(struct aws_rate *r, const struct aws_rate_opts *o, int64_t now_ns);

/* Take one token: 0 when taken, else the ns until one will be there at the
 * current rate (nothing taken; ask again then, or sooner if the rate rose). */
int64_t aws_rate_acquire(struct aws_rate *r, int64_t now_ns);

/* Record an answer (throttling or not) received at now_ns; returns true when
 * the send rate rose (waiters may be served sooner). */
bool aws_rate_answer(struct aws_rate *r, bool throttled, int64_t now_ns);

/* The current send rate (tokens per second) and the measured one. */
double aws_rate_current(const struct aws_rate *r);
double aws_rate_measured(const struct aws_rate *r);

#endif
