/* Unit tests for reconcile/manager: the worker loop's shutdown bound, the
 * reconcile observer and the log context. */
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "base/log.h"
#include "reconcile/manager.h"

struct slow {
	atomic_bool release, started;
	atomic_int observed;
	atomic_llong last_ns;
};

static struct reconcile_result slow_reconcile(void *ctx, const char *key)
{
	struct slow *s = ctx;

	(void)key;
	log_info("reconciling");
	atomic_store(&s->started, true);
	while (!atomic_load(&s->release))
		sleep_ns(5 * NSEC_PER_MSEC);
	return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
}

static void observe(void *ctx, enum reconcile_outcome o, int64_t duration_ns)
{
	struct slow *s = ctx;

	assert_int_equal(o, RECONCILE_ERROR);
	atomic_store(&s->last_ns, duration_ns);
	atomic_fetch_add(&s->observed, 1);
}

/* A stop waits for the in-flight reconcile only so long; the worker is left
 * to finish and manager_free waits for it. */
static void test_reconcile_manager__stop_is_bounded(void **state)
{
	struct slow s = { 0 };
	struct manager_opts o = { .workers = 1, .reconcile = slow_reconcile, .ctx = &s, .on_reconcile = observe };
	struct manager *m = manager_new(&o);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int64_t t0;

	(void)state;
	assert_non_null(m);
	log_set_stream(f);
	assert_int_equal(manager_start(m), 0);
	wq_add(manager_queue(m), "ns/slow");
	while (!atomic_load(&s.started))
		sleep_ns(5 * NSEC_PER_MSEC);
	assert_int_equal(manager_in_flight(m), 1);
	t0 = clock_mono_ns(NULL);
	assert_int_equal(manager_stop_timeout(m, 100 * NSEC_PER_MSEC), -ETIMEDOUT);
	assert_true(clock_mono_ns(NULL) - t0 < 2 * NSEC_PER_SEC);
	assert_int_equal(manager_in_flight(m), 1);
	atomic_store(&s.release, true);
	assert_int_equal(manager_stop_timeout(m, 5 * NSEC_PER_SEC), 0);
	assert_int_equal(manager_in_flight(m), 0);
	assert_int_equal(atomic_load(&s.observed), 1);
	assert_true(atomic_load(&s.last_ns) >= 100 * NSEC_PER_MSEC);
	manager_free(m);
	log_set_stream(NULL);
	fclose(f);
	/* the reconcile's lines carry the key and an 8-hex-digit id */
	{
		const char *p = strstr(text, "reconciling key=ns/slow reconcile=");

		assert_non_null(p);
		p += strlen("reconciling key=ns/slow reconcile=");
		for (int i = 0; i < 8; i++)
			assert_non_null(strchr("0123456789abcdef", p[i]));
		assert_int_equal(p[8], '\n');
	}
	free(text);
}

static void test_reconcile_manager__outcome_names(void **state)
{
	(void)state;
	assert_string_equal(reconcile_outcome_name(RECONCILE_OK), "ok");
	assert_string_equal(reconcile_outcome_name(RECONCILE_REQUEUE), "requeue");
	assert_string_equal(reconcile_outcome_name(RECONCILE_ERROR), "error");
	assert_string_equal(reconcile_outcome_name(RECONCILE_TERMINAL), "terminal");
	assert_string_equal(reconcile_outcome_name((enum reconcile_outcome)42), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconcile_manager__stop_is_bounded),
		cmocka_unit_test(test_reconcile_manager__outcome_names),
	};

	return cmocka_run_group_tests_name("reconcile_manager", tests, NULL, NULL);
}
