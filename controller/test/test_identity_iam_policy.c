/* Unit tests for identity/iam_policy: which statements exist for which
 * settings, and what each one fences. */
#include "support.h"

#include <jansson.h>

#include "base/yamljson.h"
#include "identity/iam_policy.h"
#include "identity/settings.h"

#define ACCT "123456789012"
#define BOUNDARY "arn:aws:iam::" ACCT ":policy/keyless-boundary"
#define BASE "clusterName: prod\npermissionsBoundaryArn: " BOUNDARY "\n"

static json_t *build(const char *yaml, const char *issuer)
{
	json_auto_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;
	json_t *policy = NULL;

	op_err_clear(&err);
	if (yaml_to_json(yaml, strlen(yaml), &doc, &err) < 0 || settings_parse(doc, "test.yaml", &s, &err) < 0)
		fail_msg("bad test settings: %s", err.message);
	if (iam_policy_build(&(struct iam_policy_input){ .settings = s, .account_id = ACCT, .partition = "aws",
							 .dns_suffix = "amazonaws.com", .region = "eu-west-1",
							 .issuer = issuer },
			     &policy, &err) < 0)
		fail_msg("iam_policy_build: %s", err.message);
	settings_free(s);
	return policy;
}

static json_t *statement(json_t *policy, const char *sid)
{
	size_t i;
	json_t *st;

	json_array_foreach(json_object_get(policy, "Statement"), i, st) {
		if (streq(json_string_value(json_object_get(st, "Sid")), sid))
			return st;
	}
	return NULL;
}

/* "Action" as a space-joined string, for compact comparisons. */
static void assert_actions(json_t *st, const char *want)
{
	json_t *a = json_object_get(st, "Action"), *v;
	char got[1024] = "";
	size_t i, n = 0;

	if (json_is_string(a)) {
		n = (size_t)snprintf(got, sizeof(got), "%s", json_string_value(a));
	} else {
		json_array_foreach(a, i, v)
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "", json_string_value(v));
	}
	assert_string_equal(got, want);
}

static const char *cond_str(json_t *st, const char *op, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(st, "Condition"), op), key));
}

static json_t *cond_val(json_t *st, const char *op, const char *key)
{
	return json_object_get(json_object_get(json_object_get(st, "Condition"), op), key);
}

static const char *resource(json_t *st)
{
	return json_string_value(json_object_get(st, "Resource"));
}

static void test_iam_policy__defaults(void **state)
{
	json_auto_t *p = build(BASE, NULL);
	json_t *st;
	const char *sids[] = { "ReadAccount", "ReadOIDCProvider", "ManageOIDCProvider", "ReadRoles", "ReadOwnedRoles",
			       "CreateFencedRoles", "ManageOwnedRoles", "TagOwnedRoles", "GrantOnOwnedRoles",
			       "ReadPodIdentityAssociations", "CreateTaggedPodIdentityAssociations",
			       "ManageOwnedPodIdentityAssociations", "PassOwnedRolesToPodIdentity",
			       "DenyBoundaryRemoval", "DenyOtherBoundaries", "DenyReleasingOwnership",
			       "DenyRetaggingOwnership", "DescribeCluster", "CallerIdentity" };

	(void)state;
	assert_string_equal(json_string_value(json_object_get(p, "Version")), "2012-10-17");
	assert_int_equal(json_array_size(json_object_get(p, "Statement")), ARRAY_SIZE(sids));
	for (size_t i = 0; i < ARRAY_SIZE(sids); i++)
		assert_non_null(statement(p, sids[i]));
	assert_null(statement(p, "AttachAllowedPolicies")); /* no managed policies allowed */

	st = statement(p, "CreateFencedRoles");
	assert_actions(st, "iam:CreateRole iam:TagRole");
	assert_string_equal(resource(st), "arn:aws:iam::" ACCT ":role/keyless/prod+*");
	assert_string_equal(cond_str(st, "StringEquals", "iam:PermissionsBoundary"), BOUNDARY);
	assert_string_equal(cond_str(st, "StringEquals", "aws:RequestTag/keyless.dev/cluster"), "prod");
	assert_int_equal(json_array_size(cond_val(st, "ForAllValues:StringLike", "aws:TagKeys")), 5);

	st = statement(p, "ManageOwnedRoles");
	assert_actions(st, "iam:UpdateAssumeRolePolicy iam:UpdateRole iam:DeleteRole iam:UntagRole "
			   "iam:DeleteRolePolicy iam:DetachRolePolicy");
	assert_string_equal(resource(st), "arn:aws:iam::" ACCT ":role/*");
	assert_string_equal(cond_str(st, "StringEquals", "iam:ResourceTag/keyless.dev/cluster"), "prod");

	st = statement(p, "GrantOnOwnedRoles");
	assert_actions(st, "iam:PutRolePolicy iam:PutRolePermissionsBoundary");
	assert_string_equal(cond_str(st, "StringEquals", "iam:ResourceTag/keyless.dev/cluster"), "prod");
	assert_string_equal(cond_str(st, "StringEquals", "iam:PermissionsBoundary"), BOUNDARY);

	st = statement(p, "TagOwnedRoles");
	assert_actions(st, "iam:TagRole");
	assert_string_equal(cond_str(st, "StringEquals", "iam:ResourceTag/keyless.dev/cluster"), "prod");
	assert_int_equal(json_array_size(cond_val(st, "ForAllValues:StringLike", "aws:TagKeys")), 5);

	st = statement(p, "ReadOwnedRoles");
	assert_actions(st, "iam:ListRolePolicies iam:GetRolePolicy iam:ListAttachedRolePolicies iam:ListRoleTags");
	assert_string_equal(cond_str(st, "StringEquals", "iam:ResourceTag/keyless.dev/cluster"), "prod");
	assert_actions(statement(p, "ReadRoles"), "iam:GetRole");
	/* driftDetection roles (the default): ListRoles, no account-wide details */
	assert_actions(statement(p, "ReadAccount"), "iam:GetAccountSummary iam:ListOpenIDConnectProviders iam:ListRoles");
	assert_null(statement(p, "ReadAccountAuthorizationDetails"));

	st = statement(p, "DenyBoundaryRemoval");
	assert_string_equal(json_string_value(json_object_get(st, "Effect")), "Deny");
	assert_actions(st, "iam:DeleteRolePermissionsBoundary");
	assert_string_equal(resource(st), "*");
	st = statement(p, "DenyOtherBoundaries");
	assert_actions(st, "iam:CreateRole iam:PutRolePermissionsBoundary");
	assert_string_equal(cond_str(st, "StringNotEquals", "iam:PermissionsBoundary"), BOUNDARY);
	st = statement(p, "DenyReleasingOwnership");
	assert_actions(st, "iam:UntagRole");
	assert_string_equal(cond_str(st, "ForAnyValue:StringEqualsIgnoreCase", "aws:TagKeys"), "keyless.dev/cluster");
	st = statement(p, "DenyRetaggingOwnership");
	assert_actions(st, "iam:TagRole");
	assert_string_equal(cond_str(st, "StringNotEquals", "aws:RequestTag/keyless.dev/cluster"), "prod");

	/* the issuer comes from EKS: every EKS issuer of the region */
	st = statement(p, "ManageOIDCProvider");
	assert_string_equal(resource(st),
			    "arn:aws:iam::" ACCT ":oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/*");
	assert_string_equal(resource(statement(p, "ReadOIDCProvider")), resource(st));
	assert_string_equal(resource(statement(p, "DescribeCluster")), "arn:aws:eks:eu-west-1:" ACCT ":cluster/prod");
	assert_actions(statement(p, "CallerIdentity"), "sts:GetCallerIdentity");

	/* EKS Pod Identity: associations of this cluster, fenced by keyless' cluster tag */
	st = statement(p, "CreateTaggedPodIdentityAssociations");
	assert_actions(st, "eks:CreatePodIdentityAssociation eks:TagResource");
	assert_string_equal(cond_str(st, "StringEquals", "aws:RequestTag/keyless.dev/cluster"), "prod");
	st = statement(p, "ManageOwnedPodIdentityAssociations");
	assert_actions(st, "eks:UpdatePodIdentityAssociation eks:DeletePodIdentityAssociation");
	assert_string_equal(resource(st), "arn:aws:eks:eu-west-1:" ACCT ":podidentityassociation/prod/*");
	assert_string_equal(cond_str(st, "StringEquals", "aws:ResourceTag/keyless.dev/cluster"), "prod");
	st = statement(p, "PassOwnedRolesToPodIdentity");
	assert_actions(st, "iam:PassRole");
	assert_string_equal(resource(st), "arn:aws:iam::" ACCT ":role/keyless/prod+*");
	assert_string_equal(cond_str(st, "StringEquals", "iam:PassedToService"), "pods.eks.amazonaws.com");
}

static void test_iam_policy__settings_shape_statements(void **state)
{
	json_t *st;

	(void)state;
	{ /* issuer and account in the settings, provider not managed */
		json_auto_t *p = build(BASE "oidcIssuer: https://issuer.example.com/c/1\naccountId: \"" ACCT "\"\n"
					    "manageOidcProvider: false\n",
				       NULL);

		assert_null(statement(p, "ManageOIDCProvider"));
		assert_null(statement(p, "DescribeCluster"));
		assert_null(statement(p, "CallerIdentity"));
		assert_string_equal(resource(statement(p, "ReadOIDCProvider")),
				    "arn:aws:iam::" ACCT ":oidc-provider/issuer.example.com/c/1");
	}
	{ /* --oidc-issuer narrows the provider; keyless still asks EKS */
		json_auto_t *p = build(BASE, "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC");

		assert_string_equal(resource(statement(p, "ManageOIDCProvider")),
				    "arn:aws:iam::" ACCT ":oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC");
		assert_non_null(statement(p, "DescribeCluster"));
	}
	{ /* prefix, path, extra tags, tenant tag keys, managed policies */
		json_auto_t *p = build(BASE "roleNamePrefix: kl-\nrolePath: /teams/x/\nextraTags: {owner: platform}\n"
					    "guardrails:\n  allowedTagKeys: [app, cost-*]\n"
					    "  managedPolicyArns: [\"arn:aws:iam::aws:policy/ReadOnlyAccess\", "
					    "\"arn:aws:iam::" ACCT ":policy/app-*\"]\n",
				       NULL);
		json_t *keys;

		st = statement(p, "CreateFencedRoles");
		assert_string_equal(resource(st), "arn:aws:iam::" ACCT ":role/teams/x/kl-prod+*");
		keys = cond_val(st, "ForAllValues:StringLike", "aws:TagKeys");
		assert_int_equal(json_array_size(keys), 8);
		assert_string_equal(json_string_value(json_array_get(keys, 5)), "owner");
		assert_string_equal(json_string_value(json_array_get(keys, 6)), "app");
		assert_string_equal(json_string_value(json_array_get(keys, 7)), "cost-*");
		assert_true(json_equal(keys, cond_val(statement(p, "TagOwnedRoles"), "ForAllValues:StringLike",
						     "aws:TagKeys")));
		st = statement(p, "AttachAllowedPolicies");
		assert_non_null(st);
		assert_actions(st, "iam:AttachRolePolicy");
		assert_int_equal(json_array_size(cond_val(st, "ArnLike", "iam:PolicyARN")), 2);
		assert_string_equal(cond_str(st, "StringEquals", "iam:PermissionsBoundary"), BOUNDARY);
		assert_string_equal(cond_str(st, "StringEquals", "iam:ResourceTag/keyless.dev/cluster"), "prod");
	}
	{ /* driftDetection bulk: the account-wide read, said by its own Sid, and no ListRoles */
		json_auto_t *p = build(BASE "driftDetection: bulk\n", NULL);

		st = statement(p, "ReadAccountAuthorizationDetails");
		assert_actions(st, "iam:GetAccountAuthorizationDetails");
		assert_string_equal(resource(st), "*");
		assert_actions(statement(p, "ReadAccount"), "iam:GetAccountSummary iam:ListOpenIDConnectProviders");
	}
	{ /* a long prefix + cluster: the role names keep only 47 characters of it */
		json_auto_t *p = build("clusterName: a-very-long-cluster-name-that-is-cut-off-here\n"
				       "permissionsBoundaryArn: " BOUNDARY "\nroleNamePrefix: pfx-\n",
				       NULL);

		assert_string_equal(resource(statement(p, "CreateFencedRoles")),
				    "arn:aws:iam::" ACCT ":role/keyless/pfx-a-very-long-cluster-name-that-is-cut-off-he*");
	}
}

static void test_iam_policy__boundary_waived(void **state)
{
	json_auto_t *p = build("clusterName: prod\npermissionsBoundaryWaived: true\n", NULL);
	json_t *st;

	(void)state;
	assert_null(statement(p, "DenyBoundaryRemoval"));
	assert_null(statement(p, "DenyOtherBoundaries"));
	assert_non_null(statement(p, "DenyReleasingOwnership"));
	st = statement(p, "CreateFencedRoles");
	assert_null(cond_str(st, "StringEquals", "iam:PermissionsBoundary"));
	assert_string_equal(cond_str(st, "StringEquals", "aws:RequestTag/keyless.dev/cluster"), "prod");
	/* keyless removes a boundary it finds when the settings have none */
	assert_actions(statement(p, "ManageOwnedRoles"),
		       "iam:UpdateAssumeRolePolicy iam:UpdateRole iam:DeleteRole iam:UntagRole iam:DeleteRolePolicy "
		       "iam:DetachRolePolicy iam:DeleteRolePermissionsBoundary");
	st = statement(p, "GrantOnOwnedRoles");
	assert_actions(st, "iam:PutRolePolicy");
	assert_null(cond_str(st, "StringEquals", "iam:PermissionsBoundary"));
}

static void test_iam_policy__invalid_input(void **state)
{
	json_auto_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;
	json_t *policy = (json_t *)&policy, *sentinel = policy;
	const char *yaml = BASE "rolePath: /a*/\n";
	struct iam_policy_input in = { .account_id = "12345", .partition = "aws", .dns_suffix = "amazonaws.com" };

	(void)state;
	op_err_clear(&err);
	assert_int_equal(yaml_to_json(yaml, strlen(yaml), &doc, &err), 0);
	assert_int_equal(settings_parse(doc, "t.yaml", &s, &err), 0);
	in.settings = s;
	assert_int_equal(iam_policy_build(&in, &policy, &err), -EINVAL);
	assert_non_null(strstr(err.message, "account id must be 12 digits"));
	in.account_id = ACCT;
	assert_int_equal(iam_policy_build(&in, &policy, &err), -EINVAL);
	assert_non_null(strstr(err.message, "rolePath and roleNamePrefix"));
	assert_ptr_equal(policy, sentinel);
	settings_free(s);
}

/* roleScope Account: shared roles (keyless.dev/scope=Account) are created
 * under the prefix alone with this cluster's owner tag, managed by every
 * owner's keyless, and no cluster may release another's owner tag; the
 * cluster's own statements stay (without CreateRole) to retire the roles
 * it made before the scope changed. */
static void test_iam_policy__account_scope(void **state)
{
	json_auto_t *p = build(BASE "roleScope: Account\nroleNamePrefix: k-\n", NULL);
	json_t *st, *keys;

	(void)state;
	assert_null(statement(p, "CreateFencedRoles"));
	assert_non_null(statement(p, "ManageOwnedRoles"));
	st = statement(p, "CreateFencedRolesShared");
	assert_non_null(st);
	assert_string_equal(resource(st), "arn:aws:iam::" ACCT ":role/keyless/k-*");
	assert_string_equal(cond_str(st, "StringEquals", "aws:RequestTag/keyless.dev/scope"), "Account");
	assert_string_equal(cond_str(st, "StringLike", "aws:RequestTag/keyless.dev/owner/prod"), "*");
	assert_null(cond_str(st, "StringEquals", "aws:RequestTag/keyless.dev/cluster"));
	keys = cond_val(st, "ForAllValues:StringLike", "aws:TagKeys");
	assert_int_equal(json_array_size(keys), 4);
	assert_string_equal(json_string_value(json_array_get(keys, 3)), "keyless.dev/owner/prod");
	for (size_t i = 0; i < 4; i++) /* never a wildcard owner key */
		assert_null(strchr(json_string_value(json_array_get(keys, i)), '*'));
	st = statement(p, "ManageOwnedRolesShared");
	assert_string_equal(cond_str(st, "StringEquals", "iam:ResourceTag/keyless.dev/scope"), "Account");
	assert_non_null(statement(p, "GrantOnOwnedRolesShared"));
	assert_non_null(statement(p, "TagOwnedRolesShared"));
	assert_non_null(statement(p, "ReadOwnedRolesShared"));
	st = statement(p, "DenyReleasingOwnership");
	assert_int_equal(json_array_size(cond_val(st, "ForAnyValue:StringEqualsIgnoreCase", "aws:TagKeys")), 2);
	st = statement(p, "DenyReleasingOtherOwners");
	assert_actions(st, "iam:UntagRole");
	assert_string_equal(cond_str(st, "ForAnyValue:StringLike", "aws:TagKeys"), "keyless.dev/owner/*");
	assert_string_equal(cond_str(st, "ForAnyValue:StringNotEqualsIgnoreCase", "aws:TagKeys"), "keyless.dev/owner/prod");
	/* Pod Identity may pass the shared roles */
	assert_string_equal(resource(statement(p, "PassOwnedRolesToPodIdentity")), "arn:aws:iam::" ACCT ":role/keyless/k-*");
}

/* settings accounts: keyless may assume exactly the listed roles; the
 * policy of its role in another account (--account-id of one of them) has
 * that account's ARNs and boundary, and no EKS or further accounts. */
static void test_iam_policy__accounts(void **state)
{
	static const char yaml[] = BASE "accounts:\n"
				   "  - {accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/keyless}\n";
	json_auto_t *home = build(yaml, "https://oidc.example.com/id/X");
	json_t *st, *other;
	json_auto_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;

	(void)state;
	st = statement(home, "AssumeAccountRoles");
	assert_non_null(st);
	assert_actions(st, "sts:AssumeRole");
	assert_int_equal(json_array_size(json_object_get(st, "Resource")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(st, "Resource"), 0)),
			    "arn:aws:iam::210987654321:role/keyless");

	op_err_clear(&err);
	assert_int_equal(yaml_to_json(yaml, strlen(yaml), &doc, &err), 0);
	assert_int_equal(settings_parse(doc, "t", &s, &err), 0);
	assert_int_equal(iam_policy_build(&(struct iam_policy_input){ .settings = s, .account_id = "210987654321",
								       .partition = "aws", .dns_suffix = "amazonaws.com",
								       .region = "eu-west-1",
								       .issuer = "https://oidc.example.com/id/X" },
					  &other, &err),
			 0);
	settings_free(s);
	assert_null(statement(other, "AssumeAccountRoles"));
	assert_null(statement(other, "ReadPodIdentityAssociations"));
	assert_null(statement(other, "DescribeCluster"));
	st = statement(other, "CreateFencedRoles");
	assert_string_equal(resource(st), "arn:aws:iam::210987654321:role/keyless/prod+*");
	assert_string_equal(cond_str(st, "StringEquals", "iam:PermissionsBoundary"),
			    "arn:aws:iam::210987654321:policy/keyless-boundary");
	assert_string_equal(resource(statement(other, "ManageOIDCProvider")),
			    "arn:aws:iam::210987654321:oidc-provider/oidc.example.com/id/X");
	json_decref(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iam_policy__defaults),
		cmocka_unit_test(test_iam_policy__settings_shape_statements),
		cmocka_unit_test(test_iam_policy__boundary_waived),
		cmocka_unit_test(test_iam_policy__invalid_input),
		cmocka_unit_test(test_iam_policy__account_scope),
		cmocka_unit_test(test_iam_policy__accounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
