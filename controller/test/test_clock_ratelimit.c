/* Unit tests for base/clock and base/ratelimit. */
#include "support.h"

#include "base/clock.h"
#include "base/ratelimit.h"

static void test_clock__rfc3339_parse_table(void **state)
{
	static const struct {
		const char *in;
		int rc;
		int64_t ns;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "2026-11-28T17:00:00Z", 0, INT64_C(1795885200) * NSEC_PER_SEC },
		{ "2026-11-28T17:00:00.5Z", 0, INT64_C(1795885200) * NSEC_PER_SEC + 500000000 },
		{ "2026-11-28T17:00:00.123456789Z", 0, INT64_C(1795885200) * NSEC_PER_SEC + 123456789 },
		{ "2026-11-28T18:00:00+01:00", 0, INT64_C(1795885200) * NSEC_PER_SEC },
		{ "2026-11-28T16:30:00-00:30", 0, INT64_C(1795885200) * NSEC_PER_SEC },
		{ "2026-11-28 17:00:00Z", 0, INT64_C(1795885200) * NSEC_PER_SEC },
		{ "2026-11-28T17:00:00", -EINVAL, 0 },
		{ "2026-13-28T17:00:00Z", -EINVAL, 0 },
		{ "2026-11-28T17:00:00Zjunk", -EINVAL, 0 },
		{ "yesterday", -EINVAL, 0 },
		{ "2026-11-28T17:00:00.Z", -EINVAL, 0 },
		{ "2999-01-01T00:00:00Z", -ERANGE, 0 }, /* beyond int64 nanoseconds (2262) */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t ns = -1;

		assert_int_equal(rfc3339_parse(cases[i].in, &ns), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(ns, cases[i].ns);
		else
			assert_int_equal(ns, -1);
	}
}

static void test_clock__rfc3339_format_roundtrip(void **state)
{
	char buf[40];
	int64_t ns = INT64_C(1795885200) * NSEC_PER_SEC + 123456789, back;

	(void)state;
	rfc3339_format(ns, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T17:00:00Z");
	rfc3339_format(ns, 3, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T17:00:00.123Z");
	rfc3339_format(ns, 6, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T17:00:00.123456Z");
	assert_int_equal(rfc3339_parse(buf, &back), 0);
	assert_int_equal(back, ns - 789);
}

static void test_ratelimit__bucket_burst_then_rate(void **state)
{
	struct manual_clock mc;
	struct token_bucket tb;

	(void)state;
	manual_clock_init(&mc, 0, 0);
	tb_init(&tb, 10, 3, &mc.clock);
	/* burst of 3 is free */
	for (int i = 0; i < 3; i++)
		assert_int_equal(tb_reserve(&tb), 0);
	/* then one token per 100 ms, queued reservations wait longer */
	assert_int_equal(tb_reserve(&tb), 100 * NSEC_PER_MSEC);
	assert_int_equal(tb_reserve(&tb), 200 * NSEC_PER_MSEC);
	assert_false(tb_try(&tb));
	manual_clock_advance(&mc, 200 * NSEC_PER_MSEC);
	assert_false(tb_try(&tb)); /* balance back to 0, not 1 */
	manual_clock_advance(&mc, 100 * NSEC_PER_MSEC);
	assert_true(tb_try(&tb));
	/* refill never exceeds burst */
	manual_clock_advance(&mc, 3600 * NSEC_PER_SEC);
	for (int i = 0; i < 3; i++)
		assert_true(tb_try(&tb));
	assert_false(tb_try(&tb));
	tb_release(&tb);

	tb_init(&tb, 0, 0, &mc.clock); /* unlimited */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(tb_reserve(&tb), 0);
	tb_release(&tb);
}

static void test_ratelimit__exp_backoff_caps_without_overflow(void **state)
{
	(void)state;
	assert_int_equal(backoff_exp_ns(5 * NSEC_PER_MSEC, 1000 * NSEC_PER_SEC, 0), 5 * NSEC_PER_MSEC);
	assert_int_equal(backoff_exp_ns(5 * NSEC_PER_MSEC, 1000 * NSEC_PER_SEC, 3), 40 * NSEC_PER_MSEC);
	assert_int_equal(backoff_exp_ns(5 * NSEC_PER_MSEC, 1000 * NSEC_PER_SEC, 17), 655360 * NSEC_PER_MSEC);
	assert_int_equal(backoff_exp_ns(5 * NSEC_PER_MSEC, 1000 * NSEC_PER_SEC, 18), 1000 * NSEC_PER_SEC);
	assert_int_equal(backoff_exp_ns(5 * NSEC_PER_MSEC, 1000 * NSEC_PER_SEC, 4000), 1000 * NSEC_PER_SEC);
}

static void test_ratelimit__full_jitter_within_bounds(void **state)
{
	int64_t lo = INT64_MAX, hi = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		int64_t d = backoff_full_jitter_ns(100 * NSEC_PER_MSEC, 20 * NSEC_PER_SEC, 2);

		assert_true(d >= 0 && d <= 400 * NSEC_PER_MSEC);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* spread over the whole range, not a constant */
	assert_true(lo < 40 * NSEC_PER_MSEC);
	assert_true(hi > 360 * NSEC_PER_MSEC);
	for (int i = 0; i < 1000; i++) {
		int64_t j = jitter_ns(NSEC_PER_SEC, 0.5);

		assert_true(j >= NSEC_PER_SEC && j <= 3 * NSEC_PER_SEC / 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock__rfc3339_parse_table),
		cmocka_unit_test(test_clock__rfc3339_format_roundtrip),
		cmocka_unit_test(test_ratelimit__bucket_burst_then_rate),
		cmocka_unit_test(test_ratelimit__exp_backoff_caps_without_overflow),
		cmocka_unit_test(test_ratelimit__full_jitter_within_bounds),
	};

	return cmocka_run_group_tests_name("clock_ratelimit", tests, NULL, NULL);
}
