/* Unit tests for identity/naming, identity/documents, identity/conditions. */
#include "support.h"

#include "identity/conditions.h"
#include "identity/documents.h"
#include "identity/naming.h"

#include <strings.h>

#include "base/str.h"

#define ISSUER "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"

static const char *name_of(const char *issuer, const char *prefix, const char *path, const char *cluster,
			   const char *ns, const char *name)
{
	static char out[IAM_ROLE_NAME_MAX + 1];
	struct role_key k = { issuer, prefix, path, cluster, ns, name, false };

	assert_int_equal(identity_role_name(&k, out, sizeof(out)), 0);
	assert_true(strlen(out) <= IAM_ROLE_NAME_MAX);
	return out;
}

static void test_naming__readable_part_and_hash(void **state)
{
	(void)state;
	/* python3: n = "keyless-role/v1\n" + "\n".join([issuer, prefix, path, cluster, ns, name]);
	 * readable[:47] + "@" + hashlib.sha256(n.encode()).hexdigest()[:16] */
	assert_string_equal(name_of(ISSUER, "", "/keyless/", "prod", "logging", "s3-reader"),
			    "prod+logging+s3-reader@711a7d1108366a9d");
	/* a long one keeps 47 readable characters and 64 bits of the hash */
	assert_string_equal(name_of(ISSUER, "keyless-", "/keyless/", "production-eu",
				    "a-very-long-namespace-name-for-the-payments-team", "reader-of-the-settlement-bucket-1"),
			    "keyless-production-eu+a-very-long-namespace-nam@5a3067f62de90ae3");
	assert_int_equal(strlen(name_of(ISSUER, "keyless-", "/", "production-eu", "a-very-long-namespace-name-for-the-payments-team",
					"reader-of-the-settlement-bucket-1")), 64);
	/* stable */
	assert_string_equal(name_of(ISSUER, "", "/keyless/", "prod", "logging", "s3-reader"),
			    "prod+logging+s3-reader@711a7d1108366a9d");
}

/* Distinct (issuer, prefix, path, cluster, namespace, name) never share a
 * name, compared as IAM does (without regard to case). */
static void test_naming__injective_whatever_the_characters(void **state)
{
	static const char *const in[][6] = {
		{ ISSUER, "", "/keyless/", "prod", "team-a", "app" },
		{ ISSUER, "", "/keyless/", "prod", "team", "a-app" },     /* review finding 7 */
		{ ISSUER, "", "/keyless/", "prod", "a-x", "y" },
		{ ISSUER, "", "/keyless/", "prod-a", "x", "y" },          /* across the cluster boundary */
		{ ISSUER, "", "/keyless/", "Prod", "team-a", "app" },     /* IAM names are case-insensitive */
		{ "https://oidc.eks.eu-west-1.amazonaws.com/id/BBB", "", "/keyless/", "prod", "team-a", "app" },
		{ ISSUER, "", "/other/", "prod", "team-a", "app" },       /* another path */
		{ ISSUER, "k-", "/keyless/", "prod", "team-a", "app" },
		{ ISSUER, "", "/keyless/", "prod", "team-a", "app.v2" },
		/* long names that share their first 47 characters */
		{ ISSUER, "", "/keyless/", "prod", "payments-settlement-and-reconciliation", "reader-1" },
		{ ISSUER, "", "/keyless/", "prod", "payments-settlement-and-reconciliation", "reader-2" },
		{ ISSUER, "", "/keyless/", "prod", "payments-settlement-and-reconciliation-x", "reader-1" },
	};
	char names[ARRAY_SIZE(in)][IAM_ROLE_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		str_copy(names[i], sizeof(names[i]), name_of(in[i][0], in[i][1], in[i][2], in[i][3], in[i][4], in[i][5]));
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		for (size_t j = i + 1; j < ARRAY_SIZE(in); j++) {
			if (strcasecmp(names[i], names[j]) == 0)
				fail_msg("inputs %zu and %zu share the role name %s", i, j, names[i]);
		}
	}
	/* the readable part tells the first two apart on its own */
	assert_memory_not_equal(names[0], names[1], strlen("prod+team-a+app"));
	/* the long ones share their readable part: only the hash differs */
	assert_memory_equal(names[9], names[10], ROLE_NAME_READABLE_MAX);
}

static void test_naming__rejects_bad_characters_and_issuer_host(void **state)
{
	char out[IAM_ROLE_NAME_MAX + 1], tag[260];
	struct role_key k = { ISSUER, "", "/", "prod", "ns", "a/b", false };

	(void)state;
	assert_int_equal(identity_role_name(&k, out, sizeof(out)), -EINVAL);
	k = (struct role_key){ ISSUER, "x y", "/", "prod", "ns", "a", false };
	assert_int_equal(identity_role_name(&k, out, sizeof(out)), -EINVAL);
	k = (struct role_key){ ISSUER, "", "/", "prod", "n+s", "a", false }; /* '+' is the separator */
	assert_int_equal(identity_role_name(&k, out, sizeof(out)), -EINVAL);
	k = (struct role_key){ ISSUER, "", "/", "prod", "ns", "a", false };
	assert_int_equal(identity_role_name(&k, out, IAM_ROLE_NAME_MAX), -ENOSPC);
	assert_string_equal(identity_issuer_host("https://oidc.eks.us-east-1.amazonaws.com/id/X"),
			    "oidc.eks.us-east-1.amazonaws.com/id/X");
	assert_string_equal(identity_issuer_host("https://127.0.0.1:6443"), "127.0.0.1:6443");
	identity_issuer_tag(ISSUER, tag, sizeof(tag));
	assert_string_equal(tag, "oidc.eks.us-east-1.amazonaws.com/id/ABC");
	/* '~' is no tag-value character: the issuer is recorded by its hash
	 * (python3: "sha256:" + hashlib.sha256(b"https://issuer.example/~k8s").hexdigest()) */
	identity_issuer_tag("https://issuer.example/~k8s", tag, sizeof(tag));
	assert_string_equal(tag, "sha256:95879cb2c95c8cd4962d9711d6b873ab08874fb1e97486aa0721673f8b0c4d87");
	identity_client_id_tag_key("https://vault.example.com", tag, sizeof(tag));
	assert_true(str_startswith(tag, "keyless.dev/client-id/"));
	assert_int_equal(strlen(tag), strlen("keyless.dev/client-id/") + 16);
}

static void test_naming__role_owner(void **state)
{
	const struct wi_tag ours[] = {
		{ "keyless.dev/cluster", "prod" },
		{ "keyless.dev/issuer", "oidc.eks.us-east-1.amazonaws.com/id/ABC" },
		{ "keyless.dev/namespace", "team" },
		{ "Keyless.dev/Name", "app" }, /* tag keys are case-insensitive */
		{ "keyless.dev/uid", "u-1" },
	};
	struct owner_key k = { .issuer_tag = "oidc.eks.us-east-1.amazonaws.com/id/ABC", .cluster = "prod", .ns = "team",
			       .name = "app", .uid = "u-1" };

	(void)state;
	assert_int_equal(identity_role_owner(ours, 5, &k), ROLE_OWNED);
	k.uid = "u-2"; /* a re-created object */
	assert_int_equal(identity_role_owner(ours, 5, &k), ROLE_EARLIER_OBJECT);
	k = (struct owner_key){ .issuer_tag = "oidc.eks.eu-west-1.amazonaws.com/id/BBB", .cluster = "prod",
				.ns = "team", .name = "app", .uid = "u-1" };
	assert_int_equal(identity_role_owner(ours, 5, &k), ROLE_OTHER_CLUSTER); /* same clusterName, other issuer */
	k = (struct owner_key){ .issuer_tag = "oidc.eks.us-east-1.amazonaws.com/id/ABC", .cluster = "prod",
				.ns = "team", .name = "other", .uid = "u-1" };
	assert_int_equal(identity_role_owner(ours, 5, &k), ROLE_FOREIGN);
	k = (struct owner_key){ .issuer_tag = "oidc.eks.us-east-1.amazonaws.com/id/ABC", .cluster = "prod",
				.ns = "team", .name = "app", .uid = "u-1" };
	assert_int_equal(identity_role_owner(ours, 2, &k), ROLE_FOREIGN); /* no namespace/name tags */
	/* a role of the old format: cluster/namespace/name but no issuer */
	assert_int_equal(identity_role_owner((const struct wi_tag[]){ ours[0], ours[2], ours[3], ours[4] }, 4, &k),
			 ROLE_FOREIGN);
	assert_int_equal(identity_role_owner(NULL, 0, &k), ROLE_FOREIGN);
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
		cmocka_unit_test(test_naming__readable_part_and_hash),
		cmocka_unit_test(test_naming__injective_whatever_the_characters),
		cmocka_unit_test(test_naming__role_owner),
		cmocka_unit_test(test_naming__rejects_bad_characters_and_issuer_host),
		cmocka_unit_test(test_documents__trust_policy_golden),
		cmocka_unit_test(test_documents__permission_policy_golden),
		cmocka_unit_test(test_conditions__transition_time_changes_only_on_flip),
	};

	return cmocka_run_group_tests_name("identity_docs", tests, NULL, NULL);
}
