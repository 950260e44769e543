/* Unit tests for identity/trust, identity/mode, identity/migration and the
 * Pod Identity fields of identity/spec (issue 12). */
#include "support.h"

#include <jansson.h>

#include "base/str.h"
#include "identity/documents.h"
#include "identity/guardrails.h"
#include "identity/migration.h"
#include "identity/mode.h"
#include "identity/shape.h"
#include "identity/spec.h"
#include "identity/trust.h"

#define ISSUER "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
#define PROVIDER "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
#define CLUSTER_ARN "arn:aws:eks:us-east-1:123456789012:cluster/prod"

static struct wi_spec *parse_ok(const char *spec_sq)
{
	json_auto_t *obj = test_wi_with_spec(spec_sq);
	struct wi_spec *s = NULL;
	struct op_err err;

	op_err_clear(&err);
	if (wi_spec_parse(obj, &s, &err) < 0)
		fail_msg("rejected: %s", err.message);
	return s;
}

static void expect_invalid(const char *spec_sq, const char *message)
{
	json_auto_t *obj = test_wi_with_spec(spec_sq);
	struct wi_spec *s = NULL;
	struct op_err err;

	op_err_clear(&err);
	assert_int_equal(wi_spec_parse(obj, &s, &err), -EINVAL);
	assert_null(s);
	assert_string_equal(err.reason, "InvalidSpec");
	if (!streq(err.message, message))
		fail_msg("message\n  got:  %s\n  want: %s", err.message, message);
}

#define PERMS "'permissions':{'statements':[{'actions':['s3:GetObject'],'resources':['arn:aws:s3:::b/*']}]}"

/* --- trust ---------------------------------------------------------------- */

static void test_trust__irsa_is_unchanged(void **state)
{
	const struct trust_irsa irsa = { PROVIDER, ISSUER, "sts.amazonaws.com" };
	const struct trust_want w = { .ns = "logging", .sa = "s3-reader", .irsa = &irsa, .n_irsa = 1 };
	char *doc = identity_trust_document(&w), *old = identity_trust_policy(PROVIDER, ISSUER, "logging", "s3-reader",
									       "sts.amazonaws.com");

	(void)state;
	assert_non_null(doc);
	assert_string_equal(doc, old);
	assert_string_equal(doc,
			    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\""
			    PROVIDER "\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{"
			    "\"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub\":\"system:serviceaccount:logging:s3-reader\","
			    "\"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud\":\"sts.amazonaws.com\"}}}]}");
	assert_int_equal(identity_trust_kinds(doc), TRUST_IRSA);
	free(doc);
	free(old);
}

static void test_trust__pod_identity_binds_namespace_sa_and_cluster(void **state)
{
	const char *const clusters[] = { CLUSTER_ARN };
	const struct trust_pod_identity pi = { "123456789012", clusters, 1, true };
	const struct trust_want w = { .ns = "logging", .sa = "s3-reader", .pod_identity = &pi };
	char *doc = identity_trust_document(&w);

	(void)state;
	assert_non_null(doc);
	assert_string_equal(doc,
			    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
			    "\"pods.eks.amazonaws.com\"},\"Action\":[\"sts:AssumeRole\",\"sts:TagSession\"],\"Condition\":"
			    "{\"StringEquals\":{\"aws:RequestTag/eks-cluster-arn\":\""
			    CLUSTER_ARN "\",\"aws:RequestTag/kubernetes-namespace\":\"logging\","
			    "\"aws:RequestTag/kubernetes-service-account\":\"s3-reader\"}}}]}");
	assert_int_equal(identity_trust_kinds(doc), TRUST_POD_IDENTITY);
	free(doc);
}

static void test_trust__shared_role_lists_every_cluster(void **state)
{
	const char *const clusters[] = { CLUSTER_ARN, "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu" };
	const struct trust_pod_identity pi = { "123456789012", clusters, 2, true };
	const struct trust_want w = { .ns = "ns", .sa = "sa", .pod_identity = &pi };
	char *doc = identity_trust_document(&w);

	(void)state;
	assert_non_null(doc);
	assert_non_null(strstr(doc, "\"aws:RequestTag/eks-cluster-arn\":[\"" CLUSTER_ARN
				    "\",\"arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu\"]"));
	free(doc);
}

static void test_trust__without_session_tags_no_condition(void **state)
{
	const char *const clusters[] = { CLUSTER_ARN };
	const struct trust_pod_identity pi = { "123456789012", clusters, 1, false };
	const struct trust_want w = { .ns = "ns", .sa = "sa", .pod_identity = &pi };
	char *doc = identity_trust_document(&w);

	(void)state;
	assert_non_null(doc);
	assert_string_equal(doc, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
				 "\"Service\":\"pods.eks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}");
	free(doc);
}

static void test_trust__both_ways_while_migrating(void **state)
{
	const char *const clusters[] = { CLUSTER_ARN };
	const struct trust_irsa irsa = { PROVIDER, ISSUER, "sts.amazonaws.com" };
	const struct trust_pod_identity pi = { "123456789012", clusters, 1, true };
	const struct trust_want w = { .ns = "ns", .sa = "sa", .irsa = &irsa, .n_irsa = 1, .pod_identity = &pi };
	char *doc = identity_trust_document(&w);
	json_auto_t *j = NULL;

	(void)state;
	assert_non_null(doc);
	assert_int_equal(identity_trust_kinds(doc), TRUST_IRSA | TRUST_POD_IDENTITY);
	j = json_loads(doc, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "Statement")), 2);
	/* IRSA first, then Pod Identity: a fixed order */
	assert_non_null(json_object_get(json_object_get(json_array_get(json_object_get(j, "Statement"), 0), "Principal"),
					"Federated"));
	free(doc);
}

static void test_trust__nothing_to_trust_is_no_document(void **state)
{
	const struct trust_want none = { .ns = "ns", .sa = "sa" };
	const struct trust_pod_identity no_clusters = { "123456789012", NULL, 0, true };
	const struct trust_want w = { .ns = "ns", .sa = "sa", .pod_identity = &no_clusters };

	(void)state;
	assert_null(identity_trust_document(&none));
	/* with session tags, a statement without a cluster would let any cluster's association in */
	assert_null(identity_trust_document(&w));
}

static void test_trust__kinds_of_observed_documents(void **state)
{
	static const struct {
		const char *doc;
		int kinds;
	} cases[] = {
		/* a single statement object, a list of Actions, a list of Services */
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER "\"},"
		  "\"Action\":[\"sts:AssumeRoleWithWebIdentity\"]}}", TRUST_IRSA },
		{ "{\"Statement\":[{\"Principal\":{\"Service\":[\"ec2.amazonaws.com\",\"pods.eks.amazonaws.com\"]},"
		  "\"Action\":\"sts:AssumeRole\"}]}", TRUST_POD_IDENTITY },
		{ "{\"Statement\":[{\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},\"Action\":\"sts:AssumeRole\"}]}",
		  TRUST_OTHER },
		/* a SAML provider is not IRSA; a web identity for another action is not either */
		{ "{\"Statement\":[{\"Principal\":{\"Federated\":\"arn:aws:iam::1:saml-provider/x\"},"
		  "\"Action\":\"sts:AssumeRoleWithSAML\"}]}", TRUST_OTHER },
		{ "{\"Statement\":[{\"Principal\":{\"Federated\":\"" PROVIDER "\"},\"Action\":\"sts:TagSession\"}]}",
		  TRUST_OTHER },
		{ "{\"Statement\":[]}", 0 },
		{ "{\"Statement\":\"x\"}", -EINVAL },
		{ "[1]", -EINVAL },
		{ "not json", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int k = identity_trust_kinds(cases[i].doc);

		if (k != cases[i].kinds)
			fail_msg("case %zu: kinds %d, want %d", i, k, cases[i].kinds);
	}
}

/* --- spec ----------------------------------------------------------------- */

static void test_spec__pod_identity_fields(void **state)
{
	struct wi_spec *s;

	(void)state;
	s = parse_ok("{'serviceAccountName':'sa'," PERMS "}");
	assert_int_equal(s->mode, WI_MODE_DEFAULT);
	assert_int_equal(s->n_session_statements, 0);
	assert_null(s->target_role_arn);
	assert_false(s->disable_session_tags);
	wi_spec_free(s);

	s = parse_ok("{'serviceAccountName':'sa','mode':'PodIdentity'," PERMS ","
		     "'sessionPolicy':{'statements':[{'sid':'OnlyReads','actions':['s3:GetObject'],"
		     "'resources':['arn:aws:s3:::b/reports/*']}]},"
		     "'targetRoleArn':'arn:aws:iam::210987654321:role/team/reader','disableSessionTags':true}");
	assert_int_equal(s->mode, WI_MODE_POD_IDENTITY);
	assert_int_equal(s->n_session_statements, 1);
	assert_string_equal(s->session_statements[0].sid, "OnlyReads");
	assert_string_equal(s->target_role_arn, "arn:aws:iam::210987654321:role/team/reader");
	assert_true(s->disable_session_tags);
	{
		int none;
		char *doc = identity_session_policy(s, &none);

		assert_false(none);
		assert_string_equal(doc, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"OnlyReads\",\"Effect\":"
					 "\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::b/reports/*\"]}]}");
		free(doc);
	}
	wi_spec_free(s);

	s = parse_ok("{'serviceAccountName':'sa','mode':'Auto'," PERMS "}");
	assert_int_equal(s->mode, WI_MODE_AUTO);
	assert_string_equal(wi_mode_name(s->mode), "Auto");
	wi_spec_free(s);
	s = parse_ok("{'serviceAccountName':'sa','mode':'IRSA'," PERMS ",'disableSessionTags':false}");
	assert_int_equal(s->mode, WI_MODE_IRSA);
	wi_spec_free(s);
}

static void test_spec__pod_identity_fields_invalid(void **state)
{
	(void)state;
	expect_invalid("{'serviceAccountName':'sa','mode':'irsa'," PERMS "}",
		       "spec.mode: 'irsa' is not IRSA, PodIdentity or Auto");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'accountId':210987654321}",
		       "spec.accountId: must be a quoted string (accountId: \"210987654321\"), not a number");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'accountId':'2109876543'}",
		       "spec.accountId: '2109876543' is not an AWS account id (12 digits)");
	expect_invalid("{'serviceAccountName':'sa','mode':'PodIdentity'," PERMS ",'accountId':'210987654321'}",
		       "spec.accountId: applies only to IRSA (the role is made in that account); in EKS Pod Identity "
		       "mode the role is in the cluster's account and spec.targetRoleArn chains into a role in "
		       "another account");
	expect_invalid("{'serviceAccountName':'sa','mode':'IRSA'," PERMS ",'targetRoleArn':'arn:aws:iam::210987654321:role/r'}",
		       "spec.targetRoleArn: applies only to EKS Pod Identity, and spec.mode is IRSA: remove it, or set "
		       "spec.mode to PodIdentity");
	expect_invalid("{'serviceAccountName':'sa','mode':'IRSA'," PERMS ",'sessionPolicy':{'statements':[{'actions':"
		       "['s3:GetObject'],'resources':['arn:aws:s3:::b/*']}]}}",
		       "spec.sessionPolicy: applies only to EKS Pod Identity, and spec.mode is IRSA: remove it, or set "
		       "spec.mode to PodIdentity");
	expect_invalid("{'serviceAccountName':'sa','mode':'IRSA'," PERMS ",'disableSessionTags':true}",
		       "spec.disableSessionTags: applies only to EKS Pod Identity, and spec.mode is IRSA: remove it, or "
		       "set spec.mode to PodIdentity");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'targetRoleArn':'arn:aws:iam::aws:policy/x'}",
		       "spec.targetRoleArn: 'arn:aws:iam::aws:policy/x' is not a role ARN (arn:<partition>:iam::"
		       "<12-digit account>:role/<name>)");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'sessionPolicy':{'statements':[{'actions':['s3:GetObject'],"
		       "'resources':['arn:aws:s3:::b/*']}]}}",
		       "spec.sessionPolicy: EKS applies an association's session policy only with session tags disabled: "
		       "set spec.disableSessionTags to true as well (allowed only by the operator's "
		       "guardrails.allowDisableSessionTags), or remove spec.sessionPolicy");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'sessionPolicy':{'statements':[]}}",
		       "spec.sessionPolicy.statements: must not be empty (remove spec.sessionPolicy for no session policy)");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'disableSessionTags':true,'sessionPolicy':{'statements':[{'actions':['s3:Get Object'],"
		       "'resources':['*']}]}}",
		       "spec.sessionPolicy.statements[0].actions[0]: 's3:Get Object' is not an action (service:Action, or "
		       "\"*\")");
	expect_invalid("{'serviceAccountName':'sa'," PERMS ",'disableSessionTags':'yes'}",
		       "spec.disableSessionTags: must be true or false, not a string");
}

static void test_shape__role_arns(void **state)
{
	static const char *const good[] = {
		"arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:role/a/b/r",
		"arn:aws-cn:iam::123456789012:role/r+=,.@_-",
		"arn:aws:iam::123456789012:role/1234567890123456789012345678901234567890123456789012345678901234",
	};
	static const char *const bad[] = {
		"", "arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:role//r", "arn:aws:iam::123456789012:role/r/",
		"arn:aws:iam::aws:role/r", "arn:aws:iam::12345678901:role/r", "arn:aws:iam::123456789012:user/r",
		"arn:aws:iam::123456789012:rolex/r", "arn:aws:iam::123456789012:role/r*", "arn:aws:sts::123456789012:role/r",
		"arn:aws:iam::123456789012:role/12345678901234567890123456789012345678901234567890123456789012345",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!shape_role_arn(good[i]))
			fail_msg("refused: %s", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (shape_role_arn(bad[i]))
			fail_msg("accepted: %s", bad[i]);
}

static void test_guardrails__session_policy_held_to_the_same_rules(void **state)
{
	static const char *const denied[] = { "iam:*" };
	struct guardrails g = { .denied_actions = { (char **)denied, 1 } };
	struct wi_spec *s = parse_ok("{'serviceAccountName':'sa','mode':'PodIdentity'," PERMS ",'disableSessionTags':true,'sessionPolicy':{"
				     "'statements':[{'actions':['s3:GetObject'],'resources':['arn:aws:s3:::b/*']},"
				     "{'actions':['iam:PassRole'],'resources':['arn:aws:iam::123456789012:role/x']}]}}");
	struct op_err err;

	(void)state;
	op_err_clear(&err);
	assert_int_equal(guardrails_check_spec(&g, s, &err), -EACCES);
	assert_string_equal(err.reason, "PolicyRejected");
	assert_string_equal(err.message, "spec.sessionPolicy.statements[1].actions[0]: 'iam:PassRole' is denied by the "
					 "operator's guardrail 'iam:*' (guardrails.deniedActions)");
	wi_spec_free(s);
}

/* --- mode ----------------------------------------------------------------- */

static void test_mode__choice_table(void **state)
{
	static const struct {
		const char *spec;      /* extra spec fields */
		enum wi_mode def;      /* settings' defaultMode */
		bool allow_untagged;   /* guardrails.allowDisableSessionTags */
		struct mode_facts f;
		enum wi_mode want;
		bool refused;
		const char *reason;
	} cases[] = {
		{ "", WI_MODE_DEFAULT, false, { 0 }, WI_MODE_IRSA, false, "ModeDefault" },
		{ "", WI_MODE_POD_IDENTITY, false, { 0 }, WI_MODE_POD_IDENTITY, false, "ModeDefault" },
		{ ",'mode':'IRSA'", WI_MODE_POD_IDENTITY, false, { true, 0, 0, false }, WI_MODE_IRSA, false, "ModeRequested" },
		{ ",'mode':'PodIdentity'", WI_MODE_IRSA, false, { 0 }, WI_MODE_POD_IDENTITY, false, "ModeRequested" },
		{ ",'mode':'Auto'", WI_MODE_IRSA, false, { true, 0, 0, false }, WI_MODE_POD_IDENTITY, false, "AutoPodIdentity" },
		{ ",'mode':'Auto'", WI_MODE_IRSA, false, { false, 0, 0, false }, WI_MODE_IRSA, false, "AutoNoAgent" },
		{ ",'mode':'Auto'", WI_MODE_IRSA, false, { true, 2, 0, false }, WI_MODE_IRSA, false, "AutoFargate" },
		{ ",'mode':'Auto'", WI_MODE_IRSA, false, { true, 0, 1, false }, WI_MODE_IRSA, false, "AutoWindows" },
		{ "", WI_MODE_AUTO, false, { true, 0, 1, false }, WI_MODE_IRSA, false, "AutoWindows" },
		{ "", WI_MODE_AUTO, false, { true, 0, 0, false }, WI_MODE_POD_IDENTITY, false, "AutoPodIdentity" },
		/* Pod Identity fields where IRSA is in effect: refused, never applied without them */
		{ ",'targetRoleArn':'arn:aws:iam::210987654321:role/r'", WI_MODE_IRSA, false, { 0 }, WI_MODE_IRSA, true,
		  "PodIdentityFieldsInIRSAMode" },
		{ ",'mode':'Auto','disableSessionTags':true,'sessionPolicy':{'statements':[{'actions':['s3:GetObject'],"
		  "'resources':['*']}]}",
		  WI_MODE_IRSA, true, { true, 0, 3, false }, WI_MODE_IRSA, true, "PodIdentityFieldsInIRSAMode" },
		{ ",'mode':'Auto','disableSessionTags':true,'sessionPolicy':{'statements':[{'actions':['s3:GetObject'],"
		  "'resources':['*']}]}",
		  WI_MODE_IRSA, true, { true, 0, 0, false }, WI_MODE_POD_IDENTITY, false, "AutoPodIdentity" },
		/* untagged sessions only with the operator's consent */
		{ ",'mode':'PodIdentity','disableSessionTags':true", WI_MODE_IRSA, false, { 0 }, WI_MODE_POD_IDENTITY,
		  true, "SessionTagsDisableNotAllowed" },
		{ ",'mode':'PodIdentity','disableSessionTags':true", WI_MODE_IRSA, true, { 0 }, WI_MODE_POD_IDENTITY,
		  false, "ModeRequested" },
		/* spec.accountId (another account): IRSA only */
		{ ",'mode':'Auto','accountId':'210987654321'", WI_MODE_IRSA, false, { true, 0, 0, true }, WI_MODE_IRSA,
		  false, "AutoCrossAccount" },
		{ ",'accountId':'210987654321'", WI_MODE_POD_IDENTITY, false, { true, 0, 0, true }, WI_MODE_IRSA, true,
		  "AccountIdInPodIdentityMode" },
		{ ",'accountId':'210987654321'", WI_MODE_IRSA, false, { true, 0, 0, true }, WI_MODE_IRSA, false,
		  "ModeDefault" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char spec[512];
		struct wi_spec *s;
		struct mode_choice c;
		const struct mode_policy p = { cases[i].def, cases[i].allow_untagged };

		snprintf(spec, sizeof(spec), "{'serviceAccountName':'sa'," PERMS "%s}", cases[i].spec);
		s = parse_ok(spec);
		mode_choose(s, &p, &cases[i].f, &c);
		if (c.refused != cases[i].refused || !streq(c.reason, cases[i].reason) ||
		    (!c.refused && c.mode != cases[i].want))
			fail_msg("case %zu: mode %s refused %d reason %s (%s)", i, wi_mode_name(c.mode), c.refused,
				 c.reason, c.message);
		assert_true(c.message[0] != '\0');
		wi_spec_free(s);
	}
}

static void test_mode__messages_name_the_field_and_the_fix(void **state)
{
	const struct mode_policy p = { WI_MODE_DEFAULT, false };
	const struct mode_facts f = { true, 0, 2, false };
	struct wi_spec *s = parse_ok("{'serviceAccountName':'sa','mode':'Auto'," PERMS
				     ",'targetRoleArn':'arn:aws:iam::210987654321:role/r'}");
	struct mode_choice c;

	(void)state;
	mode_choose(s, &p, &f, &c);
	assert_string_equal(c.message,
			    "spec.targetRoleArn applies only to EKS Pod Identity, but the mode in effect is IRSA: spec.mode "
			    "is Auto and 2 of the identity's pods run on Windows nodes, where EKS Pod Identity is not "
			    "available; set spec.mode to PodIdentity, or remove spec.targetRoleArn");
	wi_spec_free(s);

	/* an explicit PodIdentity with Fargate pods: applied, with a warning */
	s = parse_ok("{'serviceAccountName':'sa','mode':'PodIdentity'," PERMS "}");
	mode_choose(s, &p, &(struct mode_facts){ true, 1, 0, false }, &c);
	assert_false(c.refused);
	assert_string_equal(c.message, "PodIdentity: spec.mode; warning: 1 pods on Fargate and 0 on Windows nodes "
				       "cannot get EKS Pod Identity credentials (use spec.mode IRSA or Auto)");
	wi_spec_free(s);
}

/* --- migration ------------------------------------------------------------ */

#define I WI_MODE_IRSA
#define P WI_MODE_POD_IDENTITY
#define D WI_MODE_DEFAULT
#define TI TRUST_IRSA
#define TP TRUST_POD_IDENTITY

/* Each row: the facts, then the plan expected. */
static void test_migration__phase_table(void **state)
{
	static const struct {
		struct mig_facts f;
		enum mig_phase phase;
		bool trust_irsa, trust_pi, association, annotation, restart;
		enum wi_mode in_effect;
	} cases[] = {
		/* new identities: straight to the way chosen */
		{ { D, I, 0, false, false, 0, 0 }, MIG_STEADY, true, false, false, true, false, I },
		{ { D, P, 0, false, false, 0, 0 }, MIG_STEADY, false, true, true, false, false, P },
		/* steady, nothing of the other way left */
		{ { I, I, TI, false, true, 4, 0 }, MIG_STEADY, true, false, false, true, false, I },
		{ { P, P, TP, true, false, 0, 4 }, MIG_STEADY, false, true, true, false, false, P },
		/* an IRSA identity from before status.mode existed, staying IRSA */
		{ { D, I, TI, false, true, 4, 0 }, MIG_STEADY, true, false, false, true, false, I },
		/* IRSA -> Pod Identity, phase by phase */
		{ { I, P, TI, false, true, 4, 0 }, MIG_ADD_TRUST, true, true, true, true, false, I },
		{ { I, P, TI | TP, false, true, 4, 0 }, MIG_ADD_TRUST, true, true, true, true, false, I },
		{ { I, P, TI | TP, true, true, 4, 0 }, MIG_SWITCH, true, true, true, false, false, I },
		{ { I, P, TI | TP, true, false, 4, 1 }, MIG_RESTART, true, true, true, false, true, I },
		{ { I, P, TI | TP, true, false, 0, 5 }, MIG_DROP_TRUST, false, true, true, false, false, I },
		{ { I, P, TP, true, false, 0, 5 }, MIG_STEADY, false, true, true, false, false, P },
		/* a pre-status.mode IRSA identity moving: the same phases */
		{ { D, P, TI, false, true, 4, 0 }, MIG_ADD_TRUST, true, true, true, true, false, I },
		/* Pod Identity -> IRSA, phase by phase */
		{ { P, I, TP, true, false, 0, 3 }, MIG_ADD_TRUST, true, true, true, true, false, P },
		{ { P, I, TI | TP, true, true, 0, 3 }, MIG_SWITCH, true, true, false, true, false, P },
		{ { P, I, TI | TP, false, true, 1, 2 }, MIG_RESTART, true, true, false, true, true, P },
		{ { P, I, TI | TP, false, true, 3, 0 }, MIG_DROP_TRUST, true, false, false, true, false, P },
		{ { P, I, TI, false, true, 3, 0 }, MIG_STEADY, true, false, false, true, false, I },
		/* turned back mid-way (status still IRSA, pods already on Pod Identity):
		 * the Pod Identity statement stays until those pods are gone */
		{ { I, I, TI | TP, true, false, 2, 2 }, MIG_ADD_TRUST, true, true, true, true, false, P },
		{ { I, I, TI | TP, true, true, 2, 2 }, MIG_SWITCH, true, true, false, true, false, P },
		{ { I, I, TI | TP, false, true, 2, 2 }, MIG_RESTART, true, true, false, true, true, P },
		{ { I, I, TI | TP, false, true, 4, 0 }, MIG_DROP_TRUST, true, false, false, true, false, P },
		{ { I, I, TI, false, true, 4, 0 }, MIG_STEADY, true, false, false, true, false, I },
		/* the role was deleted behind keyless' back mid-migration: the old
		 * statement comes back only for what still uses the old way */
		{ { I, P, 0, true, false, 2, 0 }, MIG_ADD_TRUST, true, true, true, false, false, I },
		{ { I, P, 0, true, false, 0, 0 }, MIG_ADD_TRUST, false, true, true, false, false, I },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mig_plan p;

		migration_plan(&cases[i].f, &p);
		if (p.phase != cases[i].phase || p.trust_irsa != cases[i].trust_irsa ||
		    p.trust_pod_identity != cases[i].trust_pi || p.association != cases[i].association ||
		    p.annotation != cases[i].annotation || p.restart != cases[i].restart ||
		    p.in_effect != cases[i].in_effect)
			fail_msg("case %zu: phase %s trust irsa %d pi %d association %d annotation %d restart %d in effect %s",
				 i, mig_phase_name(p.phase), p.trust_irsa, p.trust_pod_identity, p.association,
				 p.annotation, p.restart, wi_mode_name(p.in_effect));
		/* the way pods use is always trusted, and always has a binding or is the target */
		assert_true(p.trust_irsa || p.trust_pod_identity);
		if (cases[i].f.irsa_pods)
			assert_true(p.trust_irsa || p.phase == MIG_STEADY);
		if (cases[i].f.pi_pods)
			assert_true(p.trust_pod_identity || p.phase == MIG_STEADY);
		assert_int_equal(p.message[0] != '\0', p.phase != MIG_STEADY);
	}
}

/* Run a migration to its end on a simulated world in which each plan is
 * applied and pods follow; whatever the crash point (the plan is recomputed
 * from facts), every running pod's way stays trusted, and it ends Steady. */
static void test_migration__runs_to_the_end_and_pods_always_trusted(void **state)
{
	(void)state;
	for (int dir = 0; dir < 2; dir++) {
		enum wi_mode from = dir ? P : I, to = dir ? I : P;
		struct mig_facts f = { from, to, dir ? TP : TI, dir == 1, dir == 0, dir ? 0 : 6, dir ? 6 : 0 };
		int steps = 0;

		for (;;) {
			struct mig_plan p;

			migration_plan(&f, &p);
			/* what runs now is trusted by what the plan writes */
			if (f.irsa_pods)
				assert_true(p.trust_irsa);
			if (f.pi_pods)
				assert_true(p.trust_pod_identity);
			if (p.phase == MIG_STEADY) {
				assert_int_equal(p.in_effect, to);
				break;
			}
			/* apply: trust, bindings, then one pod restarted onto the way its binding gives */
			f.trust = (p.trust_irsa ? TI : 0) | (p.trust_pod_identity ? TP : 0);
			f.association = p.association;
			f.annotation = p.annotation;
			if (p.restart) {
				if (to == P && f.irsa_pods) {
					f.irsa_pods--;
					f.pi_pods++;
				} else if (to == I && f.pi_pods) {
					f.pi_pods--;
					f.irsa_pods++;
				}
			}
			f.from = p.in_effect;
			assert_true(++steps < 20);
		}
		assert_int_equal(dir ? f.irsa_pods : f.pi_pods, 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust__irsa_is_unchanged),
		cmocka_unit_test(test_trust__pod_identity_binds_namespace_sa_and_cluster),
		cmocka_unit_test(test_trust__shared_role_lists_every_cluster),
		cmocka_unit_test(test_trust__without_session_tags_no_condition),
		cmocka_unit_test(test_trust__both_ways_while_migrating),
		cmocka_unit_test(test_trust__nothing_to_trust_is_no_document),
		cmocka_unit_test(test_trust__kinds_of_observed_documents),
		cmocka_unit_test(test_spec__pod_identity_fields),
		cmocka_unit_test(test_spec__pod_identity_fields_invalid),
		cmocka_unit_test(test_shape__role_arns),
		cmocka_unit_test(test_guardrails__session_policy_held_to_the_same_rules),
		cmocka_unit_test(test_mode__choice_table),
		cmocka_unit_test(test_mode__messages_name_the_field_and_the_fix),
		cmocka_unit_test(test_migration__phase_table),
		cmocka_unit_test(test_migration__runs_to_the_end_and_pods_always_trusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
