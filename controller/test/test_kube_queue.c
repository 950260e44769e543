/* Unit tests for reconcile/queue: client-go workqueue semantics. */
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/strmap.h"
#include "reconcile/queue.h"

/* The Makefile links this test with -Wl,--wrap=strmap_put: armed, the next
 * insertion fails as it does when memory runs out. */
int __wrap_strmap_put(struct strmap *m, const char *key, void *value, void **ret_old);
int __real_strmap_put(struct strmap *m, const char *key, void *value, void **ret_old);
static int fail_next_puts;

int __wrap_strmap_put(struct strmap *m, const char *key, void *value, void **ret_old)
{
	if (fail_next_puts > 0) {
		fail_next_puts--;
		return -ENOMEM;
	}
	return __real_strmap_put(m, key, value, ret_old);
}

static char *get_now(struct wq *q)
{
	char *k = NULL;

	assert_int_equal(wq_get_timeout(q, &k, 0), 0);
	return k;
}

static void test_queue__dedup_before_processing(void **state)
{
	struct wq *q = wq_new(NULL);
	struct wq_stats st;
	char *k, *none = NULL;

	(void)state;
	wq_add(q, "ns/a");
	wq_add(q, "ns/b");
	wq_add(q, "ns/a");
	wq_get_stats(q, &st);
	assert_int_equal(st.depth, 2);
	k = get_now(q);
	assert_string_equal(k, "ns/a"); /* FIFO */
	wq_done(q, k);
	free(k);
	k = get_now(q);
	assert_string_equal(k, "ns/b");
	wq_done(q, k);
	free(k);
	assert_int_equal(wq_get_timeout(q, &none, 0), -ETIMEDOUT);
	assert_null(none);
	wq_free(q);
}

static void test_queue__readd_while_processing_waits_for_done(void **state)
{
	struct wq *q = wq_new(NULL);
	char *k, *again = NULL;

	(void)state;
	wq_add(q, "ns/a");
	k = get_now(q);
	/* while a worker holds ns/a, adds only mark it dirty */
	wq_add(q, "ns/a");
	wq_add(q, "ns/a");
	assert_int_equal(wq_get_timeout(q, &again, 0), -ETIMEDOUT);
	wq_done(q, k);
	free(k);
	/* ... and it comes back exactly once */
	k = get_now(q);
	assert_string_equal(k, "ns/a");
	wq_done(q, k);
	free(k);
	assert_int_equal(wq_get_timeout(q, &again, 0), -ETIMEDOUT);
	wq_free(q);
}

static void record_wait(void *ctx, int64_t queued_ns)
{
	int64_t *last = ctx;

	*last = queued_ns;
}

/* on_get reports how long a key waited: from its add, or from wq_done when
 * it was re-added while processing (not the processing time). */
static void test_queue__reports_time_in_queue(void **state)
{
	int64_t last = -1;
	struct wq_opts o = { .on_get = record_wait, .on_get_ctx = &last };
	struct wq *q = wq_new(&o);
	char *k;

	(void)state;
	wq_add(q, "ns/a");
	sleep_ns(30 * NSEC_PER_MSEC);
	k = get_now(q);
	assert_true(last >= 30 * NSEC_PER_MSEC && last < 5 * NSEC_PER_SEC);
	wq_add(q, "ns/a"); /* dirty while processing */
	sleep_ns(200 * NSEC_PER_MSEC);
	wq_done(q, k);
	free(k);
	last = -1;
	k = get_now(q);
	assert_true(last >= 0 && last < 150 * NSEC_PER_MSEC);
	wq_done(q, k);
	free(k);
	wq_free(q);
}

static void test_queue__key_not_marked_processing_is_not_handed_out(void **state)
{
	struct wq *q = wq_new(NULL);
	char *k, *again = NULL;

	(void)state;
	wq_add(q, "ns/a");
	fail_next_puts = 1; /* the `processing` mark of the next get */
	assert_int_equal(wq_get_timeout(q, &again, 0), -ETIMEDOUT);
	assert_null(again);
	assert_int_equal(fail_next_puts, 0);
	/* still queued, handed out once memory is back */
	k = get_now(q);
	assert_string_equal(k, "ns/a");
	/* and held: an add while it is processed does not give it to a second worker */
	wq_add(q, "ns/a");
	assert_int_equal(wq_get_timeout(q, &again, 0), -ETIMEDOUT);
	wq_done(q, k);
	free(k);
	k = get_now(q);
	assert_string_equal(k, "ns/a");
	wq_done(q, k);
	free(k);
	wq_free(q);
}

static void test_queue__failure_count_lost_backs_off_fully(void **state)
{
	struct wq_opts o = { .base_delay_ns = NSEC_PER_MSEC, .max_delay_ns = 10 * NSEC_PER_SEC, .qps = -1 };
	struct wq *q = wq_new(&o);

	(void)state;
	fail_next_puts = 1;
	assert_true(wq_when(q, "ns/a") >= 10 * NSEC_PER_SEC);
	assert_true(wq_when(q, "ns/a") < NSEC_PER_SEC); /* counted from the first failure on */
	wq_free(q);
}

struct hammer {
	struct wq *q;
	atomic_int in_flight[4];
	atomic_int processed;
	atomic_bool overlap;
};

static void *worker(void *arg)
{
	struct hammer *h = arg;
	char *k;

	while (wq_get(h->q, &k) == 0) {
		int i = k[0] - 'a';

		if (atomic_fetch_add(&h->in_flight[i], 1) != 0)
			atomic_store(&h->overlap, true);
		usleep(200);
		atomic_fetch_sub(&h->in_flight[i], 1);
		atomic_fetch_add(&h->processed, 1);
		wq_done(h->q, k);
		free(k);
	}
	return NULL;
}

static void test_queue__never_two_workers_on_one_key(void **state)
{
	struct hammer h = { .q = wq_new(NULL) };
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &h);
	for (int n = 0; n < 2000; n++) {
		char key[2] = { (char)('a' + n % 4), 0 };

		wq_add(h.q, key);
		if (n % 50 == 0)
			usleep(100);
	}
	wq_shutdown_drain(h.q);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_false(atomic_load(&h.overlap));
	/* adds collapse while queued, so fewer runs than adds, but at least one per key */
	assert_true(atomic_load(&h.processed) >= 4);
	assert_true(atomic_load(&h.processed) <= 2000);
	wq_free(h.q);
}

static void test_queue__backoff_grows_and_resets(void **state)
{
	struct wq_opts o = { .qps = -1 }; /* per-key backoff only */
	struct wq *q = wq_new(&o);

	(void)state;
	assert_int_equal(wq_when(q, "k"), 5 * NSEC_PER_MSEC);
	assert_int_equal(wq_when(q, "k"), 10 * NSEC_PER_MSEC);
	assert_int_equal(wq_when(q, "k"), 20 * NSEC_PER_MSEC);
	assert_int_equal(wq_num_requeues(q, "k"), 3);
	assert_int_equal(wq_when(q, "other"), 5 * NSEC_PER_MSEC); /* per key */
	for (int i = 0; i < 30; i++)
		wq_when(q, "k");
	assert_int_equal(wq_when(q, "k"), 1000 * NSEC_PER_SEC); /* capped */
	wq_forget(q, "k");
	assert_int_equal(wq_num_requeues(q, "k"), 0);
	assert_int_equal(wq_when(q, "k"), 5 * NSEC_PER_MSEC);
	wq_free(q);
}

static void test_queue__bucket_limits_overall_rate(void **state)
{
	struct manual_clock mc;
	struct wq_opts o = { .qps = 10, .burst = 100, .clock = &mc.clock };
	struct wq *q;

	(void)state;
	manual_clock_init(&mc, 0, 0);
	q = wq_new(&o);
	/* 100 distinct keys fail once: the burst absorbs them */
	for (int i = 0; i < 100; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(wq_when(q, key), 5 * NSEC_PER_MSEC);
	}
	/* the 101st waits for the bucket (100 ms at 10 qps), not its own 5 ms */
	assert_int_equal(wq_when(q, "k100"), 100 * NSEC_PER_MSEC);
	assert_int_equal(wq_when(q, "k101"), 200 * NSEC_PER_MSEC);
	wq_free(q);
}

static void test_queue__delayed_adds(void **state)
{
	struct wq *q = wq_new(NULL);
	int64_t t0 = clock_mono_ns(NULL), took;
	char *k;

	(void)state;
	wq_add_after(q, "late", 10 * NSEC_PER_SEC);
	wq_add_after(q, "early", 100 * NSEC_PER_MSEC);
	wq_add_after(q, "late", 200 * NSEC_PER_MSEC); /* the earlier time wins */
	wq_add_after(q, "early", 5 * NSEC_PER_SEC);   /* a later one does not postpone */
	assert_int_equal(wq_get_timeout(q, &k, 0), -ETIMEDOUT);
	assert_int_equal(wq_get_timeout(q, &k, 3 * NSEC_PER_SEC), 0);
	took = clock_mono_ns(NULL) - t0;
	assert_string_equal(k, "early");
	assert_true(took >= 100 * NSEC_PER_MSEC);
	wq_done(q, k);
	free(k);
	/* if "late" had kept its 10 s, this would time out */
	assert_int_equal(wq_get_timeout(q, &k, 3 * NSEC_PER_SEC), 0);
	took = clock_mono_ns(NULL) - t0;
	assert_string_equal(k, "late");
	assert_true(took >= 200 * NSEC_PER_MSEC);
	wq_done(q, k);
	free(k);
	/* a rate-limited add is a delayed add */
	wq_add_rate_limited(q, "r");
	assert_int_equal(wq_get_timeout(q, &k, NSEC_PER_SEC), 0);
	assert_string_equal(k, "r");
	wq_done(q, k);
	free(k);
	wq_free(q);
}

struct drain_ctx {
	struct wq *q;
	atomic_bool finished;
};

static void *slow_worker(void *arg)
{
	struct drain_ctx *d = arg;
	char *k;

	while (wq_get(d->q, &k) == 0) {
		usleep(100000);
		wq_done(d->q, k);
		free(k);
	}
	atomic_store(&d->finished, true);
	return NULL;
}

static void test_queue__shutdown_hands_out_queued_then_stops(void **state)
{
	struct drain_ctx d = { .q = wq_new(NULL) };
	struct wq_stats st;
	pthread_t t;
	char *k;

	(void)state;
	wq_add(d.q, "a");
	wq_add(d.q, "b");
	pthread_create(&t, NULL, slow_worker, &d);
	usleep(20000); /* worker holds "a" */
	wq_shutdown_drain(d.q);
	/* drain returned: nothing in flight */
	wq_get_stats(d.q, &st);
	assert_int_equal(st.processing, 0);
	pthread_join(t, NULL);
	assert_true(atomic_load(&d.finished));
	wq_get_stats(d.q, &st);
	assert_int_equal(st.depth, 0); /* "b" was still handed out */
	/* after shutdown, adds are ignored and get returns at once */
	wq_add(d.q, "c");
	wq_add_after(d.q, "d", NSEC_PER_MSEC);
	assert_int_equal(wq_get(d.q, &k), -ESHUTDOWN);
	wq_free(d.q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue__dedup_before_processing),
		cmocka_unit_test(test_queue__readd_while_processing_waits_for_done),
		cmocka_unit_test(test_queue__key_not_marked_processing_is_not_handed_out),
		cmocka_unit_test(test_queue__failure_count_lost_backs_off_fully),
		cmocka_unit_test(test_queue__never_two_workers_on_one_key),
		cmocka_unit_test(test_queue__backoff_grows_and_resets),
		cmocka_unit_test(test_queue__bucket_limits_overall_rate),
		cmocka_unit_test(test_queue__delayed_adds),
		cmocka_unit_test(test_queue__reports_time_in_queue),
		cmocka_unit_test(test_queue__shutdown_hands_out_queued_then_stops),
	};

	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
