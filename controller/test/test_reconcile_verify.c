/* Unit tests of verifyAssumeRole (issue 13): RoleReady is True only once a
 * token of the service account assumes the role; IAM's propagation delay is
 * retried within a window, then the STS error and keyless' diagnosis are
 * reported; an unchanged role is not verified again. */
#include "support.h"

#include "base/clock.h"
#include "base/str.h"
#include "kube/project.h"
#include "reconcile/steps.h"
#include "world.h"

#define KEY "logging/s3-reader"

static const char settings_yaml[] = "clusterName: prod\n"
				    "accountId: \"123456789012\"\n"
				    "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"
				    "verifyAssumeRole: true\n";

static int setup(void **state)
{
	struct world *w = world_new(settings_yaml, WORLD_ISSUER);

	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, ""));
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world_free(*state);
	return 0;
}

static const char *cond(struct world *w, const char *type, const char *field)
{
	return world_cond(w, "logging", "s3-reader", type, field);
}

static void fail_assume(struct world *w, int times)
{
	str_copy(w->aws->fail_op, sizeof(w->aws->fail_op), "AssumeRoleWithWebIdentity");
	str_copy(w->aws->fail_code, sizeof(w->aws->fail_code), "AccessDenied");
	w->aws->fail_rc = -EACCES;
	w->aws->fail_times = times;
}

static void test_verify__ready_only_once_a_token_assumes_the_role(void **state)
{
	struct world *w = *state;

	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_OK);
	assert_string_equal(cond(w, "RoleReady", "reason"), "Verified");
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "verified: a token of the service account assumed it"));
	assert_string_equal(cond(w, "Ready", "status"), "True");
	assert_non_null(strstr(world_calls(w), "PutRolePolicy,AssumeRoleWithWebIdentity"));
	assert_int_equal(fake_kube_count_calls(&w->kube, "TOKEN logging/s3-reader-sa"), 1);
	/* nothing changed: no token, no STS call, still Verified */
	fake_kube_clear_calls(&w->kube);
	world_resync(w, KEY);
	assert_null(strstr(world_calls(w), "AssumeRoleWithWebIdentity"));
	assert_int_equal(fake_kube_count_calls(&w->kube, "TOKEN"), 0);
	assert_string_equal(cond(w, "RoleReady", "reason"), "Verified");
	/* the trust drifted and was repaired: verified again */
	free(fake_aws_role(w->aws, "prod+logging+s3-reader@711a7d1108366a9d")->trust);
	fake_aws_role(w->aws, "prod+logging+s3-reader@711a7d1108366a9d")->trust = strdup("{\"Version\":\"2012-10-17\","
		"\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}");
	world_resync(w, KEY);
	assert_non_null(strstr(world_calls(w), "UpdateAssumeRolePolicy,AssumeRoleWithWebIdentity"));
	assert_string_equal(cond(w, "RoleReady", "reason"), "Verified");
}

/* IAM's propagation delay: refusals right after the write are retried
 * every 2 s; Ready meanwhile False with STS's error; then Verified. */
static void test_verify__propagation_is_retried(void **state)
{
	struct world *w = *state;
	struct reconcile_result r;

	fail_assume(w, 2);
	r = world_run(w, KEY);
	assert_int_equal(r.outcome, RECONCILE_REQUEUE);
	assert_true(r.after_ns == 2 * NSEC_PER_SEC);
	assert_string_equal(cond(w, "RoleReady", "reason"), "AssumeRolePending");
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "AccessDenied"));
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "the trust policy allows the token"));
	assert_string_equal(cond(w, "Ready", "status"), "False");
	world_run(w, KEY);
	assert_string_equal(cond(w, "RoleReady", "reason"), "AssumeRolePending");
	world_run(w, KEY);
	assert_string_equal(cond(w, "RoleReady", "reason"), "Verified");
	assert_string_equal(cond(w, "Ready", "status"), "True");
}

/* Past the window: AssumeRoleFailed with STS's error and an event. */
static void test_verify__bounded(void **state)
{
	struct world *w = *state;

	fail_assume(w, -1);
	world_run(w, KEY);
	assert_string_equal(cond(w, "RoleReady", "reason"), "AssumeRolePending");
	/* retries 2 s apart keep the time it became pending */
	for (int i = 0; i < 10; i++) {
		w->now_ns += 2 * NSEC_PER_SEC;
		world_run(w, KEY);
	}
	assert_string_equal(cond(w, "RoleReady", "reason"), "AssumeRolePending");
	w->now_ns += 26 * NSEC_PER_SEC;
	world_run(w, KEY);
	assert_string_equal(cond(w, "RoleReady", "reason"), "AssumeRoleFailed");
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "cannot assume IAM role"));
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "still not reached STS"));
	assert_true(fake_kube_has_event(&w->kube, "AssumeRoleFailed"));
}

/* No right to request tokens: said, with the fix. */
static void test_verify__no_token(void **state)
{
	struct world *w = *state;

	w->kube.token_rc = -EPERM;
	world_run(w, KEY);
	assert_string_equal(cond(w, "RoleReady", "reason"), "AssumeRoleUnverified");
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "serviceaccounts/token"));
	assert_null(strstr(world_calls(w), "AssumeRoleWithWebIdentity"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify__ready_only_once_a_token_assumes_the_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify__propagation_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify__bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify__no_token, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
