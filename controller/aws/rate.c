#include "aws/rate.h"

#include <math.h>

#include "base/clock.h"

#define BUCKET_NS (NSEC_PER_SEC / 2) /* the measured rate's time bucket */
#define SMOOTHING 0.8

static double seconds(int64_t ns)
{
	return (double)ns / (double)NSEC_PER_SEC;
}

static double cubic_k(double w_max)
{
	return cbrt(w_max * (1 - AWS_RATE_CUBIC_BETA) / AWS_RATE_CUBIC_C);
}

static void refill(struct aws_rate *r, int64_t now_ns)
{
	if (now_ns <= r->last_fill_ns)
		return;
	r->tokens += seconds(now_ns - r->last_fill_ns) * r->fill;
	if (r->tokens > r->capacity)
		r->tokens = r->capacity;
	r->last_fill_ns = now_ns;
}

/* Change the send rate: the tokens earned so far at the old rate first. */
static void set_fill(struct aws_rate *r, double rate, int64_t now_ns)
{
	refill(r, now_ns);
	if (r->o.max > 0 && rate > r->o.max)
		rate = r->o.max;
	if (rate < AWS_RATE_MIN)
		rate = AWS_RATE_MIN;
	r->fill = rate;
	/* a ceiling (fixed: the rate) promises at most that many calls in any
	 * second: a bucket of one second's worth would let the second after an
	 * idle spell carry twice the rate, so one token; without a ceiling, one
	 * second of the rate, as botocore's */
	if (r->o.mode == AWS_RATE_FIXED && r->o.burst > 0)
		r->capacity = r->o.burst;
	else if (r->o.max > 0 || rate < 1)
		r->capacity = 1;
	else
		r->capacity = rate;
	if (r->tokens > r->capacity)
		r->tokens = r->capacity;
}

void aws_rate_init(struct aws_rate *r, const struct aws_rate_opts *o, int64_t now_ns)
{
	*r = (struct aws_rate){ .o = *o, .last_fill_ns = now_ns, .bucket_ns = now_ns - now_ns % BUCKET_NS };
	if (r->o.max < 0)
		r->o.max = 0;
	if (r->o.mode == AWS_RATE_FIXED) {
		if (r->o.max <= 0)
			r->o.max = AWS_RATE_INITIAL_DEFAULT;
		r->o.initial = r->o.max;
	} else {
		if (r->o.initial <= 0)
			r->o.initial = AWS_RATE_INITIAL_DEFAULT;
		if (r->o.max > 0 && r->o.initial > r->o.max)
			r->o.initial = r->o.max;
		if (r->o.initial < AWS_RATE_MIN)
			r->o.initial = AWS_RATE_MIN;
	}
	r->w_max = r->o.initial;
	r->k = cubic_k(r->w_max);
	/* as if the rate had just recovered to `initial`: t = K */
	r->last_throttle_ns = now_ns - (int64_t)(r->k * (double)NSEC_PER_SEC);
	set_fill(r, r->o.initial, now_ns);
	r->tokens = r->capacity;
}

int64_t aws_rate_acquire(struct aws_rate *r, int64_t now_ns)
{
	double ns;

	refill(r, now_ns);
	if (r->tokens >= 1) {
		r->tokens -= 1;
		return 0;
	}
	ns = ceil((1 - r->tokens) / r->fill * (double)NSEC_PER_SEC);
	return ns < 1 ? 1 : (int64_t)ns;
}

/* botocore's RateClocker: answers per second over 0.5 s buckets, smoothed. */
static void clock_answer(struct aws_rate *r, int64_t now_ns)
{
	int64_t bucket = now_ns - now_ns % BUCKET_NS;

	r->count++;
	if (bucket > r->bucket_ns) {
		double current = (double)r->count / seconds(bucket - r->bucket_ns);

		r->measured = current * SMOOTHING + r->measured * (1 - SMOOTHING);
		r->count = 0;
		r->bucket_ns = bucket;
	}
}

bool aws_rate_answer(struct aws_rate *r, bool throttled, int64_t now_ns)
{
	double old = r->fill, rate, cap;

	clock_answer(r, now_ns);
	if (r->o.mode == AWS_RATE_FIXED)
		return false;
	if (throttled) {
		/* what was being sent: the measured rate, at most the bucket's
		 * (before a first measurement, the bucket's) */
		double sending = r->measured > 0 && r->measured < r->fill ? r->measured : r->fill;

		r->w_max = sending;
		r->k = cubic_k(r->w_max);
		r->last_throttle_ns = now_ns;
		r->throttles++;
		rate = sending * AWS_RATE_CUBIC_BETA;
	} else {
		double t = seconds(now_ns - r->last_throttle_ns) - r->k;

		rate = AWS_RATE_CUBIC_C * t * t * t + r->w_max;
	}
	cap = 2 * r->measured;
	if (cap < r->o.initial)
		cap = r->o.initial;
	if (rate > cap)
		rate = cap;
	set_fill(r, rate, now_ns);
	return r->fill > old;
}

double aws_rate_current(const struct aws_rate *r)
{
	return r->fill;
}

double aws_rate_measured(const struct aws_rate *r)
{
	return r->measured;
}
