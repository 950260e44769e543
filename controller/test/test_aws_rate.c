/* Unit tests for aws/rate (the adaptive and fixed IAM send rate), driven by
 * hand-set times: growth while answers are accepted, the multiplicative cut
 * on throttling, the ceiling, recovery, idle spells, and a simulated IAM that
 * throttles above 20 calls/s. */
#include "support.h"

#include <math.h>

#include "aws/rate.h"
#include "base/clock.h"
#include "base/ratelimit.h"

#define MS NSEC_PER_MSEC
#define S NSEC_PER_SEC

/* A sender with endless work: take a token (waiting as told), send, get the
 * answer `latency` later, until `until`. `accept` decides the answer. */
struct sim {
	struct aws_rate r;
	int64_t now;
	uint64_t sent, accepted, throttled;
	struct manual_clock iam_clock; /* the simulated IAM's own bucket */
	struct token_bucket iam;
	bool iam_on;
};

static void sim_run(struct sim *s, int64_t until, int64_t latency)
{
	while (s->now < until) {
		int64_t d = aws_rate_acquire(&s->r, s->now);
		bool throttled = false;

		if (d > 0) {
			s->now += d;
			continue;
		}
		s->sent++;
		if (s->iam_on) {
			manual_clock_advance(&s->iam_clock, s->now - s->iam_clock.mono_ns);
			throttled = !tb_try(&s->iam);
		}
		s->now += latency;
		if (throttled)
			s->throttled++;
		else
			s->accepted++;
		aws_rate_answer(&s->r, throttled, s->now);
	}
}

static void sim_init(struct sim *s, const struct aws_rate_opts *o, double iam_rate)
{
	memset(s, 0, sizeof(*s));
	s->now = 1000 * S;
	aws_rate_init(&s->r, o, s->now);
	if (iam_rate > 0) {
		manual_clock_init(&s->iam_clock, s->now, 0);
		tb_init(&s->iam, iam_rate, iam_rate, &s->iam_clock.clock);
		s->iam_on = true;
	}
}

static void sim_release(struct sim *s)
{
	if (s->iam_on)
		tb_release(&s->iam);
}

static void test_rate__starts_at_initial_with_a_full_bucket(void **state)
{
	struct aws_rate r;

	(void)state;
	aws_rate_init(&r, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE }, 0);
	assert_true(aws_rate_current(&r) == AWS_RATE_INITIAL_DEFAULT);
	for (int i = 0; i < 10; i++)
		assert_int_equal(aws_rate_acquire(&r, 0), 0);
	/* empty: the next token in 1/10 s */
	assert_int_equal(aws_rate_acquire(&r, 0), 100 * MS);
	assert_int_equal(aws_rate_acquire(&r, 60 * MS), 40 * MS); /* nothing was taken */
	assert_int_equal(aws_rate_acquire(&r, 100 * MS), 0);

	/* initial above the ceiling starts at the ceiling */
	aws_rate_init(&r, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .max = 4, .initial = 30 }, 0);
	assert_true(aws_rate_current(&r) == 4);
}

static void test_rate__increases_while_accepted(void **state)
{
	struct sim s;
	double at2, at5, at8;

	(void)state;
	sim_init(&s, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .initial = 10 }, 0);
	sim_run(&s, s.now + 2 * S, 5 * MS);
	at2 = aws_rate_current(&s.r);
	sim_run(&s, s.now + 3 * S, 5 * MS);
	at5 = aws_rate_current(&s.r);
	sim_run(&s, s.now + 3 * S, 5 * MS);
	at8 = aws_rate_current(&s.r);
	/* CUBIC from W_max = 10 at t = K: 10 + 0.4 t^3, held within twice the measured rate */
	assert_true(at2 > 10 && at2 < 14);
	assert_true(at5 > at2 + 20);
	assert_true(at8 > at5 * 2);
	assert_int_equal(s.throttled, 0);
	/* nothing is ever above twice what was measured */
	assert_true(at8 <= 2 * aws_rate_measured(&s.r) + 1e-9);
	sim_release(&s);
}

static void test_rate__throttle_cuts_multiplicatively(void **state)
{
	struct sim s;
	double before, measured, after;

	(void)state;
	sim_init(&s, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .initial = 40, .max = 40 }, 0);
	sim_run(&s, s.now + 5 * S, 5 * MS); /* steady at the ceiling, 40/s */
	before = aws_rate_current(&s.r);
	measured = aws_rate_measured(&s.r);
	assert_true(before == 40);
	assert_true(measured > 36 && measured < 44);
	/* the cut: beta times what was being sent (the measured rate, at most the bucket's) */
	aws_rate_answer(&s.r, true, s.now);
	after = aws_rate_current(&s.r);
	assert_true(fabs(after - 0.7 * (measured < before ? measured : before)) < 0.5);
	/* a second throttle right after cuts again */
	aws_rate_answer(&s.r, true, s.now + 1);
	assert_true(aws_rate_current(&s.r) < after * 0.75);
	/* and never below the floor */
	for (int i = 0; i < 50; i++)
		aws_rate_answer(&s.r, true, s.now + 2 + i);
	assert_true(aws_rate_current(&s.r) == AWS_RATE_MIN);
	assert_int_equal(aws_rate_acquire(&s.r, s.now + 60 * S), 0);
	assert_int_equal(aws_rate_acquire(&s.r, s.now + 60 * S), 2 * S); /* one token per 2 s */
	sim_release(&s);
}

static void test_rate__ceiling_holds(void **state)
{
	struct sim s;
	uint64_t sent;

	(void)state;
	sim_init(&s, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .initial = 5, .max = 15 }, 0);
	sim_run(&s, s.now + 20 * S, 1 * MS);
	assert_true(aws_rate_current(&s.r) == 15);
	sent = s.sent;
	sim_run(&s, s.now + 10 * S, 1 * MS);
	/* 10 s at 15/s, give or take a token */
	assert_true(s.sent - sent >= 149 && s.sent - sent <= 151);
	sim_release(&s);
}

static void test_rate__recovers_after_throttle(void **state)
{
	struct sim s;
	int64_t t0;
	double w;

	(void)state;
	sim_init(&s, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .initial = 30, .max = 30 }, 0);
	sim_run(&s, s.now + 5 * S, 2 * MS);
	w = aws_rate_measured(&s.r);
	aws_rate_answer(&s.r, true, s.now);
	t0 = s.now;
	assert_true(aws_rate_current(&s.r) < 0.75 * w);
	/* K = cbrt(W (1 - 0.7) / 0.4) seconds after the throttle, the rate is back at W */
	{
		double k = cbrt(w * 0.3 / 0.4);

		sim_run(&s, t0 + (int64_t)(k * 0.5 * S), 2 * MS);
		assert_true(aws_rate_current(&s.r) > 0.7 * w && aws_rate_current(&s.r) < w);
		sim_run(&s, t0 + (int64_t)(k * S) + 600 * MS, 2 * MS);
		assert_true(aws_rate_current(&s.r) > 0.97 * w);
	}
	sim_run(&s, s.now + 5 * S, 2 * MS);
	assert_true(aws_rate_current(&s.r) == 30); /* back to the ceiling */
	sim_release(&s);
}

static void test_rate__idle_banks_no_rate(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .initial = 10 }, 0);
	sim_run(&s, s.now + 3 * S, 5 * MS);
	/* an hour without calls, then one answer: CUBIC alone would say
	 * 0.4 * 3600^3; the rate stays within twice the measured one, or initial */
	s.now += 3600 * S;
	aws_rate_answer(&s.r, false, s.now);
	assert_true(aws_rate_current(&s.r) <= 2 * aws_rate_measured(&s.r) + 10);
	assert_true(aws_rate_current(&s.r) < 40);
	/* but low demand does not pull it below initial */
	for (int i = 0; i < 20; i++) {
		s.now += 2 * S;
		aws_rate_answer(&s.r, false, s.now);
	}
	assert_true(aws_rate_measured(&s.r) < 2);
	assert_true(aws_rate_current(&s.r) == 10);
	sim_release(&s);
}

static void test_rate__fixed_ignores_answers(void **state)
{
	struct aws_rate r;

	(void)state;
	aws_rate_init(&r, &(struct aws_rate_opts){ .mode = AWS_RATE_FIXED, .max = 4, .burst = 2 }, 0);
	assert_int_equal(aws_rate_acquire(&r, 0), 0);
	assert_int_equal(aws_rate_acquire(&r, 0), 0);
	assert_int_equal(aws_rate_acquire(&r, 0), 250 * MS);
	assert_false(aws_rate_answer(&r, true, 1));
	assert_false(aws_rate_answer(&r, false, 10 * S));
	assert_true(aws_rate_current(&r) == 4);
	/* burst 0: one token, then one per 1/3 s */
	aws_rate_init(&r, &(struct aws_rate_opts){ .mode = AWS_RATE_FIXED, .max = 3 }, 0);
	assert_int_equal(aws_rate_acquire(&r, 0), 0);
	assert_true(aws_rate_acquire(&r, 0) > 0);
	assert_int_equal(aws_rate_acquire(&r, S / 3 + 1), 0);
}

/* The most sends of a sender with endless work that fall in any one second
 * [t, t + 1 s], over `span` from a full bucket, after the bucket stood idle
 * for 10 s (refilled), and over `span` again. */
static int busiest_second(struct aws_rate *r, int64_t now, int64_t span)
{
	int64_t sent[256];
	int n = 0, best = 0;

	for (int round = 0; round < 2; round++) {
		int64_t until = now + span;

		while (now < until && n < (int)ARRAY_SIZE(sent)) {
			int64_t d = aws_rate_acquire(r, now);

			if (d > 0) {
				now += d;
				continue;
			}
			sent[n++] = now;
			now += 1 * MS;
			aws_rate_answer(r, false, now);
		}
		now += 10 * S; /* idle: the bucket refills */
	}
	for (int i = 0, j = 0; i < n; i++) {
		while (sent[i] - sent[j] > 1 * S)
			j++;
		if (i - j + 1 > best)
			best = i - j + 1;
	}
	return best;
}

/* maxPerSecond is a promise per second, fixed or as the adaptive ceiling: no
 * second carries more than it (+1 at the window's edges), also right after a
 * start or an idle spell (the e2e test measured 5 calls in a second at a
 * fixed 2.5/s when the bucket held one second's worth). Without a ceiling the
 * bucket holds one second of the rate, as botocore's. */
static void test_rate__ceiling_holds_in_every_second(void **state)
{
	static const struct aws_rate_opts cases[] = {
		{ .mode = AWS_RATE_FIXED, .max = 2.5 },
		{ .mode = AWS_RATE_FIXED, .max = 10 },
		{ .mode = AWS_RATE_ADAPTIVE, .max = 2.5 },
		{ .mode = AWS_RATE_ADAPTIVE, .max = 10, .initial = 10 },
		{ .mode = AWS_RATE_ADAPTIVE, .max = 40, .initial = 4 },
	};
	struct aws_rate r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int best;

		aws_rate_init(&r, &cases[i], 1000 * S);
		best = busiest_second(&r, 1000 * S, 3 * S);
		print_message("%s max %.1f: busiest second %d\n",
			      cases[i].mode == AWS_RATE_FIXED ? "fixed" : "adaptive", cases[i].max, best);
		assert_true(best <= cases[i].max + 1);
	}
	/* no ceiling: a full second's worth is there at once */
	aws_rate_init(&r, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE, .initial = 10 }, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(aws_rate_acquire(&r, 0), 0);
	assert_true(aws_rate_acquire(&r, 0) > 0);
}

/* An IAM that answers Throttling above 20 calls/s (its own bucket: 20/s, 20
 * deep): the adaptive rate settles near 20, so most calls are accepted. */
static void test_rate__settles_near_a_throttled_iam(void **state)
{
	struct sim s;
	uint64_t acc0, sent0;

	(void)state;
	sim_init(&s, &(struct aws_rate_opts){ .mode = AWS_RATE_ADAPTIVE }, 20);
	sim_run(&s, s.now + 20 * S, 5 * MS);
	acc0 = s.accepted;
	sent0 = s.sent;
	sim_run(&s, s.now + 60 * S, 5 * MS);
	print_message("adaptive vs IAM at 20/s: %.1f accepted/s, %.1f sent/s over 60 s, rate now %.1f\n",
		      (double)(s.accepted - acc0) / 60, (double)(s.sent - sent0) / 60, aws_rate_current(&s.r));
	assert_true((double)(s.accepted - acc0) / 60 >= 16);
	/* throttled answers stay a small share of what is sent */
	assert_true((double)(s.sent - sent0) / 60 <= 22);
	assert_true(s.throttled > 0);
	sim_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate__starts_at_initial_with_a_full_bucket),
		cmocka_unit_test(test_rate__increases_while_accepted),
		cmocka_unit_test(test_rate__throttle_cuts_multiplicatively),
		cmocka_unit_test(test_rate__ceiling_holds),
		cmocka_unit_test(test_rate__recovers_after_throttle),
		cmocka_unit_test(test_rate__idle_banks_no_rate),
		cmocka_unit_test(test_rate__fixed_ignores_answers),
		cmocka_unit_test(test_rate__settles_near_a_throttled_iam),
		cmocka_unit_test(test_rate__ceiling_holds_in_every_second),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
