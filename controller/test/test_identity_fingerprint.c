/* identity/fingerprint: what a drift sweep compares (pure). */
#include "support.h"

#include "identity/fingerprint.h"

static const char trust[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
			    "{\"Federated\":\"arn:aws:iam::1:oidc-provider/x\"},\"Action\":"
			    "\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{\"x:sub\":"
			    "\"system:serviceaccount:ns:sa\",\"x:aud\":\"sts.amazonaws.com\"}}}]}";
/* the same document as IAM may return it: spacing, key order, a one-element array */
static const char trust_respelled[] = "{\"Statement\": {\"Condition\": {\"StringEquals\": {\"x:aud\": "
				      "[\"sts.amazonaws.com\"], \"x:sub\": \"system:serviceaccount:ns:sa\"}}, "
				      "\"Action\": [\"sts:AssumeRoleWithWebIdentity\"], \"Effect\": \"Allow\", "
				      "\"Principal\": {\"Federated\": \"arn:aws:iam::1:oidc-provider/x\"}}, "
				      "\"Version\": \"2012-10-17\"}";
static const char perms[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			    "[\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":\"arn:aws:s3:::b/*\"}]}";

static struct wi_tag tags[] = { { "keyless.dev/cluster", "prod" }, { "keyless.dev/namespace", "ns" }, { "team", "a" } };
static struct wi_tag tags_reordered[] = { { "team", "a" }, { "KEYLESS.DEV/CLUSTER", "prod" },
					  { "keyless.dev/namespace", "ns" } };
static const char *const keyless_only[] = { "keyless" };
static const char *const two_inline[] = { "keyless", "extra" };
static const char *const attached[] = { "arn:aws:iam::1:policy/a", "arn:aws:iam::1:policy/b" };
static const char *const attached_reordered[] = { "arn:aws:iam::1:policy/b", "arn:aws:iam::1:policy/a" };

static struct role_state base(void)
{
	return (struct role_state){ .trust_policy = trust, .boundary_arn = "arn:aws:iam::1:policy/boundary",
				    .tags = tags, .n_tags = 3, .inline_names = keyless_only, .n_inline = 1,
				    .keyless_policy = perms, .attached = attached, .n_attached = 2,
				    .description = "d", .max_session_duration = 3600 };
}

static void test_fingerprint__same_meaning_same_fingerprint(void **state)
{
	struct role_state a = base(), b = base();

	(void)state;
	b.trust_policy = trust_respelled;
	b.tags = tags_reordered;
	b.attached = attached_reordered;
	b.description = "not compared by role_fingerprint";
	b.max_session_duration = 43200;
	assert_int_not_equal(role_fingerprint(&a), 0);
	assert_int_equal(role_fingerprint(&a), role_fingerprint(&b));
	/* no boundary: NULL and "" alike */
	a.boundary_arn = NULL;
	b.boundary_arn = "";
	assert_int_equal(role_fingerprint(&a), role_fingerprint(&b));
	/* the listing's fingerprint: trust, description, maximum session */
	a = base();
	b = base();
	b.trust_policy = trust_respelled;
	b.tags = NULL;
	b.n_tags = 0;
	b.keyless_policy = NULL;
	assert_int_equal(role_list_fingerprint(&a), role_list_fingerprint(&b));
}

static void test_fingerprint__each_drift_changes_it(void **state)
{
	struct role_state a = base();
	uint64_t f = role_fingerprint(&a), lf = role_list_fingerprint(&a);
	struct wi_tag value_changed[] = { { "keyless.dev/cluster", "prod" }, { "keyless.dev/namespace", "ns" },
					  { "team", "b" } };
	struct role_state v[8];
	size_t n = 0;

	(void)state;
	v[n] = base(), v[n++].trust_policy = perms;
	v[n] = base(), v[n++].boundary_arn = NULL;
	v[n] = base(), v[n++].tags = value_changed;
	v[n] = base(), v[n++].n_tags = 2;
	v[n] = base(), v[n].inline_names = two_inline, v[n++].n_inline = 2;
	v[n] = base(), v[n++].keyless_policy = trust;
	v[n] = base(), v[n++].n_attached = 1;
	v[n] = base(), v[n].keyless_policy = NULL, v[n++].n_inline = 0;
	for (size_t i = 0; i < n; i++)
		if (role_fingerprint(&v[i]) == f)
			fail_msg("drift %zu not seen", i);
	a = base(), a.description = "e";
	assert_int_not_equal(role_list_fingerprint(&a), lf);
	a = base(), a.max_session_duration = 7200;
	assert_int_not_equal(role_list_fingerprint(&a), lf);
	a = base(), a.trust_policy = perms;
	assert_int_not_equal(role_list_fingerprint(&a), lf);
}

static void test_fingerprint__unparsable_matches_nothing(void **state)
{
	struct role_state a = base();

	(void)state;
	a.trust_policy = "{";
	assert_int_equal(role_fingerprint(&a), 0);
	assert_int_equal(role_list_fingerprint(&a), 0);
	a = base();
	a.trust_policy = NULL;
	assert_int_equal(role_fingerprint(&a), 0);
	a = base();
	a.keyless_policy = "not json";
	assert_int_equal(role_fingerprint(&a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint__same_meaning_same_fingerprint),
		cmocka_unit_test(test_fingerprint__each_drift_changes_it),
		cmocka_unit_test(test_fingerprint__unparsable_matches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
