/* Table tests of identity/diagnose: whether a web-identity token can
 * assume a role by its trust policy, and when not, which part fails and
 * how, character by character (the classic IRSA mistakes). */
#include "support.h"

#include "identity/diagnose.h"

#define HOST "oidc.eks.us-east-1.amazonaws.com/id/ABC"
#define PROVIDER "arn:aws:iam::123456789012:oidc-provider/" HOST
#define STMT(principal, op, sub, aud)                                                                              \
	"{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" principal "\"},"                                     \
	"\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"" op "\":{\"" HOST ":sub\":\"" sub "\","     \
	"\"" HOST ":aud\":\"" aud "\"}}}"
#define DOC(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
#define SUB "system:serviceaccount:production:app-sa"

static const struct {
	const char *what;
	const char *doc;
	bool allowed;
	const char *reason; /* a substring of the first reason */
} cases[] = {
	{ "exact", DOC(STMT(PROVIDER, "StringEquals", SUB, "sts.amazonaws.com")), true, NULL },
	{ "wrong namespace", DOC(STMT(PROVIDER, "StringEquals", "system:serviceaccount:staging:app-sa", "sts.amazonaws.com")),
	  false, "sub names namespace 'staging', the token is for namespace 'production' (service account 'app-sa')" },
	{ "wrong service account", DOC(STMT(PROVIDER, "StringEquals", "system:serviceaccount:production:app", "sts.amazonaws.com")),
	  false, "sub names service account 'app', the token is for 'app-sa' in the same namespace (the token's is "
		 "longer: '-sa' follows)" },
	{ "wrong case", DOC(STMT(PROVIDER, "StringEquals", "system:serviceaccount:Production:app-sa", "sts.amazonaws.com")),
	  false, "only in case" },
	{ "sub and aud swapped", DOC(STMT(PROVIDER, "StringEquals", "sts.amazonaws.com", SUB)), false,
	  "sub and aud are swapped" },
	{ "wildcard in StringEquals", DOC(STMT(PROVIDER, "StringEquals", "system:serviceaccount:production:*", "sts.amazonaws.com")),
	  false, "wildcard inside StringEquals" },
	{ "wildcard in StringLike", DOC(STMT(PROVIDER, "StringLike", "system:serviceaccount:production:*", "sts.amazonaws.com")),
	  true, NULL },
	{ "wrong audience", DOC(STMT(PROVIDER, "StringEquals", SUB, "sts.amazon.com")), false,
	  "aud 'sts.amazon.com' does not match the token's 'sts.amazonaws.com': they differ at character 11: '.' in "
	  "the policy, 'a' in the token" },
	{ "wrong provider account",
	  DOC(STMT("arn:aws:iam::210987654321:oidc-provider/" HOST, "StringEquals", SUB, "sts.amazonaws.com")), false,
	  "statement 1: trusts provider arn:aws:iam::210987654321:oidc-provider/" HOST ", the token's issuer is provider "
	  PROVIDER ": they differ at character 14: '2' in the policy, '1' in the token" },
	{ "condition key of another issuer",
	  DOC("{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER "\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\","
	      "\"Condition\":{\"StringEquals\":{\"oidc.eks.us-east-1.amazonaws.com/id/XYZ:sub\":\"" SUB "\"}}}"),
	  false, "condition key 'oidc.eks.us-east-1.amazonaws.com/id/XYZ:sub' is for another issuer" },
	{ "a Deny wins",
	  DOC(STMT(PROVIDER, "StringEquals", SUB, "sts.amazonaws.com") ","
	      "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"sts:*\"}"),
	  false, "a Deny statement applies" },
	{ "no statement for the action",
	  DOC("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"pods.eks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}"),
	  false, "no statement allows sts:AssumeRoleWithWebIdentity" },
	{ "two statements, the second for this service account",
	  DOC(STMT(PROVIDER, "StringEquals", "system:serviceaccount:staging:app-sa", "sts.amazonaws.com") ","
	      STMT(PROVIDER, "StringEquals", SUB, "sts.amazonaws.com")),
	  true, NULL },
	{ "not a policy", "[]", false, "not a policy document" },
};

static void test_diagnose__table(void **state)
{
	const struct web_identity_claims c = { PROVIDER, HOST, SUB, "sts.amazonaws.com" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct trust_diagnosis d;

		diagnose_web_identity(cases[i].doc, &c, &d);
		if (d.allowed != cases[i].allowed)
			fail_msg("%s: allowed %d, want %d (%s)", cases[i].what, d.allowed, cases[i].allowed,
				 d.n ? d.reasons[0] : "");
		if (cases[i].reason && (!d.n || !strstr(d.reasons[0], cases[i].reason)))
			fail_msg("%s: reason '%s', want '%s'", cases[i].what, d.n ? d.reasons[0] : "(none)",
				 cases[i].reason);
		if (cases[i].allowed)
			assert_int_equal(d.n, 0);
	}
}

/* An operator keyless does not evaluate is said to be approximated. */
static void test_diagnose__approximation_is_said(void **state)
{
	const struct web_identity_claims c = { PROVIDER, HOST, SUB, "sts.amazonaws.com" };
	struct trust_diagnosis d;

	(void)state;
	diagnose_web_identity(DOC("{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER "\"},"
				  "\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"ForAnyValue:StringLike\":"
				  "{\"" HOST ":amr\":[\"x\"]},\"StringEquals\":{\"" HOST ":sub\":\"" SUB "\"}}}"),
			      &c, &d);
	assert_true(d.allowed);
	assert_true(d.approximate);
}

#define CLUSTER_ARN "arn:aws:eks:us-east-1:123456789012:cluster/prod"
#define PI_STMT(action, ns, sa)                                                                                  \
	"{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"pods.eks.amazonaws.com\"},\"Action\":" action ","          \
	"\"Condition\":{\"StringEquals\":{\"aws:RequestTag/eks-cluster-arn\":\"" CLUSTER_ARN "\","                       \
	"\"aws:RequestTag/kubernetes-namespace\":\"" ns "\",\"aws:RequestTag/kubernetes-service-account\":\"" sa "\"}}}"
#define BOTH "[\"sts:AssumeRole\",\"sts:TagSession\"]"

static void test_diagnose__pod_identity(void **state)
{
	const struct pod_identity_session ok = { CLUSTER_ARN, "prod", "logging", "s3-reader-sa", true };
	static const struct {
		const char *what, *doc;
		bool allowed;
		const char *reason;
	} pi[] = {
		{ "keyless' trust", DOC(PI_STMT(BOTH, "logging", "s3-reader-sa")), true, NULL },
		{ "another namespace", DOC(PI_STMT(BOTH, "staging", "s3-reader-sa")), false,
		  "aws:RequestTag/kubernetes-namespace is 'staging' in the policy, the association's session has 'logging'" },
		{ "another service account", DOC(PI_STMT(BOTH, "logging", "s3-reader")), false,
		  "kubernetes-service-account is 's3-reader'" },
		{ "no TagSession", DOC(PI_STMT("\"sts:AssumeRole\"", "logging", "s3-reader-sa")), false,
		  "not sts:TagSession" },
		{ "IRSA only", DOC(STMT(PROVIDER, "StringEquals", SUB, "sts.amazonaws.com")), false,
		  "no statement trusts the service principal pods.eks.amazonaws.com" },
	};
	struct trust_diagnosis d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pi); i++) {
		diagnose_pod_identity(pi[i].doc, &ok, &d);
		if (d.allowed != pi[i].allowed || (pi[i].reason && (!d.n || !strstr(d.reasons[0], pi[i].reason))))
			fail_msg("%s: allowed %d, reason '%s'", pi[i].what, d.allowed, d.n ? d.reasons[0] : "");
	}
	/* without session tags the namespace condition cannot hold */
	{
		const struct pod_identity_session untagged = { CLUSTER_ARN, "prod", "logging", "s3-reader-sa", false };

		diagnose_pod_identity(DOC(PI_STMT(BOTH, "logging", "s3-reader-sa")), &untagged, &d);
		assert_false(d.allowed);
		assert_non_null(strstr(d.reasons[0], "disables session tags"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagnose__table),
		cmocka_unit_test(test_diagnose__approximation_is_said),
		cmocka_unit_test(test_diagnose__pod_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
