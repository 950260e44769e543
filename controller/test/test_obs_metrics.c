/* Unit tests for obs/metrics: the registry and the Prometheus text format. */
#include "support.h"

#include <math.h>
#include <pthread.h>

#include "obs/metrics.h"

static char *render(struct metrics *m)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(metrics_render(m, &b), 0);
	return buf_detach(&b);
}

static void test_obs_metrics__golden_text_format(void **state)
{
	struct metrics *m = metrics_new();
	static const double bounds[] = { 0.005, 0.1, 1, 2.5 };
	struct metric *c = metrics_counter(m, "x_requests_total", "Requests.\nSecond line \\ end.", "service,code");
	struct metric *g = metrics_gauge(m, "x_depth", "Depth.", NULL);
	struct metric *h = metrics_histogram(m, "x_seconds", "Durations.", "op", bounds, ARRAY_SIZE(bounds));
	struct metric *empty = metrics_counter(m, "x_empty_total", "Nothing yet.", "a");
	_cleanup_free_ char *text = NULL, *want = NULL;

	(void)state;
	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(h);
	assert_non_null(empty);
	metric_add(c, 1, "iam", "OK");
	metric_add(c, 2, "iam", "OK");
	metric_add(c, 1, "sts", "quote\"back\\slash\nnewline");
	metric_add(c, -5, "iam", "OK"); /* counters never go down */
	metric_set(g, 7, NULL);
	metric_set(g, 3);
	metric_observe(h, 0.005, "GetRole"); /* on a bound: that bucket (le is <=) */
	metric_observe(h, 0.05, "GetRole");
	metric_observe(h, 3, "GetRole"); /* only +Inf */
	metric_observe(h, 0.25, "CreateRole");
	text = render(m);
	want = test_read_file("metrics/golden.txt", NULL);
	assert_string_equal(text, want);
	assert_true(metric_value(c, "iam", "OK") == 3);
	assert_true(metric_value(h, "GetRole") == 3);
	assert_true(metric_value(c, "absent", "x") == 0);
	metrics_free(m);
}

static void test_obs_metrics__invalid_registrations(void **state)
{
	struct metrics *m = metrics_new();
	static const double ok[] = { 1, 2 }, unsorted[] = { 2, 1 };

	(void)state;
	assert_null(metrics_counter(m, "1bad", "", NULL));
	assert_null(metrics_counter(m, "bad-name", "", NULL));
	assert_null(metrics_counter(m, "good", "", "bad label"));
	assert_null(metrics_counter(m, "good", "", "__reserved"));
	assert_null(metrics_counter(m, "good", "", "a,b,c,d,e")); /* more than METRICS_MAX_LABELS */
	assert_null(metrics_histogram(m, "h", "", "le", ok, 2));
	assert_null(metrics_histogram(m, "h", "", NULL, unsorted, 2));
	assert_null(metrics_histogram(m, "h", "", NULL, ok, 0));
	assert_non_null(metrics_counter(m, "good:name_total", "", "a,b"));
	assert_null(metrics_gauge(m, "good:name_total", "", NULL)); /* registered twice */
	/* NULL families are ignored */
	metric_add(NULL, 1, "x");
	metric_set(NULL, 1);
	metric_observe(NULL, 1);
	metric_clear(NULL);
	metrics_free(m);
	metrics_free(NULL);
}

static void test_obs_metrics__series_cap_and_clear(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *g = metrics_gauge(m, "g", "", "k");
	_cleanup_free_ char *text = NULL;
	char k[32];

	(void)state;
	for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(k, sizeof(k), "v%d", i);
		metric_set(g, i, k);
	}
	assert_true(metric_value(g, "v0") == 0);
	assert_true(metric_value(g, "v1999") == 1999);
	assert_true(metric_value(g, "v2005") == 0); /* dropped over the cap */
	metric_clear(g);
	metric_set(g, 1, "only");
	text = render(m);
	assert_string_equal(text, "# HELP g \n# TYPE g gauge\ng{k=\"only\"} 1\n");
	metrics_free(m);
}

static int collected;

static void collector(void *ctx)
{
	struct metric *g = ctx;

	collected++;
	metric_set(g, collected);
}

static void test_obs_metrics__collectors_run_at_render(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *g = metrics_gauge(m, "up", "Up.", NULL);
	_cleanup_free_ char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(metrics_add_collector(m, collector, g), 0);
	a = render(m);
	b = render(m);
	assert_string_equal(a, "# HELP up Up.\n# TYPE up gauge\nup 1\n");
	assert_string_equal(b, "# HELP up Up.\n# TYPE up gauge\nup 2\n");
	metrics_free(m);
}

static void test_obs_metrics__values(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *g = metrics_gauge(m, "v", "", "k");
	_cleanup_free_ char *text = NULL;

	(void)state;
	metric_set(g, 0.1, "a");
	metric_set(g, -2.5, "b");
	metric_set(g, 1e20, "c");
	metric_set(g, INFINITY, "d");
	metric_set(g, NAN, "e");
	metric_set(g, 1234567890123.0, "f");
	text = render(m);
	assert_string_equal(text, "# HELP v \n# TYPE v gauge\n"
				  "v{k=\"a\"} 0.1\nv{k=\"b\"} -2.5\nv{k=\"c\"} 1e+20\nv{k=\"d\"} +Inf\n"
				  "v{k=\"e\"} NaN\nv{k=\"f\"} 1234567890123\n");
	metrics_free(m);
}

struct race {
	struct metrics *m;
	struct metric *c, *h;
};

static void *hammer(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 20000; i++) {
		metric_add(r->c, 1, (i & 1) ? "odd" : "even");
		metric_observe(r->h, (double)(i % 10) / 10.0, "x");
		if (i % 1000 == 0) {
			struct buf b = BUF_INIT(0);

			assert_int_equal(metrics_render(r->m, &b), 0);
			buf_release(&b);
		}
	}
	return NULL;
}

static void test_obs_metrics__threads_lose_no_updates(void **state)
{
	static const double bounds[] = { 0.5 };
	struct race r;
	pthread_t t[4];

	(void)state;
	r.m = metrics_new();
	r.c = metrics_counter(r.m, "c_total", "", "parity");
	r.h = metrics_histogram(r.m, "h", "", "k", bounds, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &r), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(metric_value(r.c, "odd") == 40000);
	assert_true(metric_value(r.c, "even") == 40000);
	assert_true(metric_value(r.h, "x") == 80000);
	metrics_free(r.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_obs_metrics__golden_text_format),
		cmocka_unit_test(test_obs_metrics__invalid_registrations),
		cmocka_unit_test(test_obs_metrics__series_cap_and_clear),
		cmocka_unit_test(test_obs_metrics__collectors_run_at_render),
		cmocka_unit_test(test_obs_metrics__values),
		cmocka_unit_test(test_obs_metrics__threads_lose_no_updates),
	};

	return cmocka_run_group_tests_name("obs_metrics", tests, NULL, NULL);
}
