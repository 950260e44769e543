/* Unit tests for identity/naming, identity/documents, identity/conditions. */
#include "support.h"

#include "identity/conditions.h"
#include "identity/documents.h"
#include "identity/naming.h"

static void test_naming__short_names_verbatim(void **state)
{
	char out[IAM_ROLE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(identity_role_name("", "prod", "logging", "s3-reader", out, sizeof(out)), 0);
	assert_string_equal(out, "prod-logging-s3-reader");
	assert_int_equal(identity_role_name("keyless-", "prod", "logging", "s3-reader", out, sizeof(out)), 0);
	assert_string_equal(out, "keyless-prod-logging-s3-reader");
	/* exactly 64 characters stays as is */
	assert_int_equal(identity_role_name("", "c", "n", "012345678901234567890123456789012345678901234567890123456789", out,
					    sizeof(out)), 0);
	assert_int_equal(strlen(out), 64);
	assert_string_equal(out + 4, "012345678901234567890123456789012345678901234567890123456789");
}

static void test_naming__long_names_hashed_stable_and_distinct(void **state)
{
	char a[IAM_ROLE_NAME_MAX + 1], a2[IAM_ROLE_NAME_MAX + 1], b[IAM_ROLE_NAME_MAX + 1];
	const char *ns = "a-very-long-namespace-name-for-the-payments-team";
	const char *n1 = "reader-of-the-settlement-bucket-1", *n2 = "reader-of-the-settlement-bucket-2";

	(void)state;
	assert_int_equal(identity_role_name("keyless-", "production-eu", ns, n1, a, sizeof(a)), 0);
	assert_int_equal(identity_role_name("keyless-", "production-eu", ns, n1, a2, sizeof(a2)), 0);
	assert_int_equal(identity_role_name("keyless-", "production-eu", ns, n2, b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, a2);        /* stable */
	assert_string_not_equal(a, b);     /* same 55-char prefix, different hash */
	assert_memory_equal(a, b, 55);
	assert_int_equal(a[55], '-');
	/* the suffix is the first 4 bytes of SHA-256 of the full name, in hex
	 * (python3: hashlib.sha256(b"keyless-production-eu-...-bucket-1").hexdigest()[:8]) */
	assert_string_equal(a, "keyless-production-eu-a-very-long-namespace-name-for-th-0959e2ba");
}

static void test_naming__rejects_bad_characters_and_issuer_host(void **state)
{
	char out[IAM_ROLE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(identity_role_name("", "prod", "ns", "a/b", out, sizeof(out)), -EINVAL);
	assert_int_equal(identity_role_name("x y", "prod", "ns", "a", out, sizeof(out)), -EINVAL);
	assert_string_equal(identity_issuer_host("https://oidc.eks.us-east-1.amazonaws.com/id/X"),
			    "oidc.eks.us-east-1.amazonaws.com/id/X");
	assert_string_equal(identity_issuer_host("https://127.0.0.1:6443"), "127.0.0.1:6443");
}

static void assert_golden(const char *got, const char *file)
{
	size_t len;
	char *want = test_read_file(file, &len);

	while (len && (want[len - 1] == '\n'))
		want[--len] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("%s differs:\n got: %s\nwant: %s", file, got, want);
	free(want);
}

static void test_documents__trust_policy_golden(void **state)
{
	char *doc = identity_trust_policy("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123",
					  "https://oidc.eks.us-east-1.amazonaws.com/id/ABC123", "production", "app-sa",
					  "sts.amazonaws.com");

	(void)state;
	assert_non_null(doc);
	assert_golden(doc, "identity/trust-production-app-sa.json");
	assert_int_equal(identity_policy_size(doc), strlen(doc)); /* compact: no whitespace */
	free(doc);
}

static void test_documents__permission_policy_golden(void **state)
{
	char *a1[] = { (char *)"s3:GetObject" }, *r1[] = { (char *)"arn:aws:s3:::my-log-bucket/logs/*" };
	char *a2[] = { (char *)"s3:DeleteObject", (char *)"s3:PutObject" }, *r2[] = { (char *)"arn:aws:s3:::my-log-bucket/*" };
	char *v1[] = { (char *)"vpc-1", (char *)"vpc-2", NULL }, *v2[] = { (char *)"false", NULL };
	struct wi_condition c2[] = { { (char *)"StringNotEquals", (char *)"aws:SourceVpc", v1, 2 },
				     { (char *)"Bool", (char *)"aws:SecureTransport", v2, 1 } };
	struct wi_statement st[] = {
		{ .sid = (char *)"ReadLogs", .effect = WI_ALLOW, .actions = a1, .n_actions = 1, .resources = r1, .n_resources = 1 },
		{ .sid = NULL, .effect = WI_DENY, .actions = a2, .n_actions = 2, .resources = r2, .n_resources = 1,
		  .conditions = c2, .n_conditions = 2 },
	};
	struct wi_spec spec = { .statements = st, .n_statements = 2 };
	int none = -1;
	char *doc = identity_permission_policy(&spec, &none);

	(void)state;
	assert_int_equal(none, 0);
	assert_golden(doc, "identity/permissions-s3-reader.json");
	free(doc);
	spec.n_statements = 0;
	assert_null(identity_permission_policy(&spec, &none));
	assert_int_equal(none, 1);
	assert_int_equal(identity_policy_size("{ \"a\" :\n\t1 }"), 7);
}

static void test_conditions__transition_time_changes_only_on_flip(void **state)
{
	struct conditions c = { 0 };
	json_t *arr;

	(void)state;
	assert_true(conditions_set(&c, COND_ROLE, "False", "RoleNotOwned", "m1", 1, "2026-01-01T00:00:00Z"));
	assert_false(conditions_set(&c, COND_ROLE, "False", "RoleNotOwned", "m1", 1, "2026-01-01T00:05:00Z"));
	assert_string_equal(conditions_get(&c, COND_ROLE)->last_transition, "2026-01-01T00:00:00Z");
	/* same status, new reason: changed, but no transition */
	assert_true(conditions_set(&c, COND_ROLE, "False", "Throttled", "m2", 2, "2026-01-01T00:06:00Z"));
	assert_string_equal(conditions_get(&c, COND_ROLE)->last_transition, "2026-01-01T00:00:00Z");
	assert_int_equal(conditions_get(&c, COND_ROLE)->observed_generation, 2);
	/* flip */
	assert_true(conditions_set(&c, COND_ROLE, "True", "Reconciled", "ok", 2, "2026-01-01T00:07:00Z"));
	assert_string_equal(conditions_get(&c, COND_ROLE)->last_transition, "2026-01-01T00:07:00Z");

	/* Ready summarizes: unknown until all four exist, then the first failing one */
	assert_true(conditions_summarize(&c, 2, "2026-01-01T00:07:00Z"));
	assert_string_equal(conditions_get(&c, COND_READY)->status, "Unknown");
	conditions_set(&c, COND_OIDC, "True", "Reconciled", "ok", 2, "t");
	conditions_set(&c, COND_SA, "False", "ServiceAccountConflict", "older WI x owns it", 2, "t");
	conditions_set(&c, COND_WORKLOADS, "True", "Reconciled", "ok", 2, "t");
	conditions_summarize(&c, 2, "t2");
	assert_string_equal(conditions_get(&c, COND_READY)->status, "False");
	assert_string_equal(conditions_get(&c, COND_READY)->reason, "ServiceAccountConflict");
	conditions_set(&c, COND_SA, "True", "Reconciled", "ok", 2, "t");
	conditions_summarize(&c, 2, "t3");
	assert_string_equal(conditions_get(&c, COND_READY)->status, "True");

	/* fixed order, round trip */
	arr = conditions_to_json(&c);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "type")), "Ready");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "type")), "RoleReady");
	{
		struct conditions back;
		json_t *again;

		conditions_from_json(arr, &back);
		again = conditions_to_json(&back);
		assert_true(json_equal(arr, again));
		json_decref(again);
	}
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_naming__short_names_verbatim),
		cmocka_unit_test(test_naming__long_names_hashed_stable_and_distinct),
		cmocka_unit_test(test_naming__rejects_bad_characters_and_issuer_host),
		cmocka_unit_test(test_documents__trust_policy_golden),
		cmocka_unit_test(test_documents__permission_policy_golden),
		cmocka_unit_test(test_conditions__transition_time_changes_only_on_flip),
	};

	return cmocka_run_group_tests_name("identity_docs", tests, NULL, NULL);
}
