/* Unit tests of identity/audit: the CloudTrail queries match exactly the
 * role ARNs keyless makes for this cluster (checked with a POSIX regex
 * engine against names identity/naming.c produces). */
#include "support.h"

#include <regex.h>

#include "identity/audit.h"
#include "identity/naming.h"

static bool matches(const char *re, const char *text)
{
	regex_t r;
	bool m;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	m = regexec(&r, text, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

static void role_arn(const struct settings *s, const char *ns, const char *name, char *out, size_t size)
{
	char role[IAM_ROLE_NAME_MAX + 1];
	const struct role_key k = { .issuer = "https://oidc.example.com/id/X", .prefix = s->role_name_prefix,
				    .path = s->role_path, .cluster = s->cluster_name, .ns = ns, .name = name,
				    .account = s->role_scope == ROLE_SCOPE_ACCOUNT };

	assert_int_equal(identity_role_name(&k, role, sizeof(role)), 0);
	snprintf(out, size, "arn:aws:iam::123456789012:role%s%s", s->role_path, role);
}

static void test_audit__queries_scope_this_clusters_roles(void **state)
{
	struct settings *s = test_settings("clusterName: prod\npermissionsBoundaryWaived: true\nroleNamePrefix: k.\n");
	struct audit_query q[AUDIT_QUERIES];
	char re[512], arn[512], glob[512];

	(void)state;
	audit_role_regex(s, re, sizeof(re));
	assert_string_equal(re, ":role\\/keyless\\/k\\.prod\\+");
	role_arn(s, "logging", "s3-reader", arn, sizeof(arn));
	assert_true(matches(re, arn));
	role_arn(s, "a-namespace-with-a-rather-long-name", "and-an-object-name-that-is-long-too", arn, sizeof(arn));
	assert_true(matches(re, arn));
	/* another cluster whose name starts the same, another prefix, another path: no */
	assert_false(matches(re, "arn:aws:iam::123456789012:role/keyless/k.prod-eu+logging+x@0123456789abcdef"));
	assert_false(matches(re, "arn:aws:iam::123456789012:role/keyless/kxprod+logging+x@0123456789abcdef"));
	assert_false(matches(re, "arn:aws:iam::123456789012:role/other/k.prod+logging+x@0123456789abcdef"));
	audit_role_arn_glob(s, glob, sizeof(glob));
	assert_string_equal(glob, "*:role/keyless/k.prod+*");
	audit_queries(s, "keyless-controller", q);
	for (size_t i = 0; i < AUDIT_QUERIES; i++) {
		assert_non_null(q[i].name);
		assert_non_null(strstr(q[i].query, "| "));
	}
	assert_non_null(strstr(q[1].query, "ispresent(errorCode)"));
	assert_non_null(strstr(q[1].query, re));
	assert_non_null(strstr(q[3].query, "like /^k\\.prod\\+/"));
	assert_non_null(strstr(q[3].query, "!= \"keyless-controller\""));
	settings_free(s);

	/* roleScope Account: every keyless cluster of the account shares the names */
	s = test_settings("clusterName: prod\npermissionsBoundaryWaived: true\nroleScope: Account\n");
	audit_role_regex(s, re, sizeof(re));
	role_arn(s, "logging", "s3-reader", arn, sizeof(arn));
	assert_true(matches(re, arn));
	settings_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit__queries_scope_this_clusters_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
