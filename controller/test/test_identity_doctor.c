/* Unit tests of identity/doctor: a mistyped annotation key, what the
 * webhook injected into a pod, and the local policy evaluation. */
#include "support.h"

#include "identity/doctor.h"

static void test_doctor__annotation_typo(void **state)
{
	static const char *const typos[] = { "eks.amazonaws.com/role_arn", "eks.amazonaws.com/rolearn",
					     "EKS.amazonaws.com/role-arn", "eks.amazonaws.co/role-arn",
					     "eks.amazon.com/role-arn", "eks.amazonaws.com/role-ar" };
	json_auto_t *ok = json_pack("{s:s, s:s}", "eks.amazonaws.com/role-arn", "x", "eks.amazonaws.com/audience", "y");

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(typos); i++) {
		json_auto_t *a = json_pack("{s:s}", typos[i], "arn");

		if (!doctor_annotation_typo(a) || !streq(doctor_annotation_typo(a), typos[i]))
			fail_msg("'%s' not called out", typos[i]);
	}
	assert_null(doctor_annotation_typo(ok));
}

static void test_doctor__pod_injection(void **state)
{
	json_auto_t *injected = json_loads(
		"{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"AWS_ROLE_ARN\",\"value\":\"arn:r\"},"
		"{\"name\":\"AWS_WEB_IDENTITY_TOKEN_FILE\",\"value\":\"/var/run/secrets/eks.amazonaws.com/serviceaccount/token\"}]}],"
		"\"volumes\":[{\"name\":\"aws-iam-token\"}]}}", 0, NULL);
	json_auto_t *nonroot = json_loads(
		"{\"spec\":{\"containers\":[{\"name\":\"app\",\"securityContext\":{\"runAsUser\":1000}}]}}", 0, NULL);
	json_auto_t *fsgroup = json_loads(
		"{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,\"fsGroup\":65534},\"containers\":[{\"name\":\"app\"}]}}",
		0, NULL);
	json_auto_t *pi = json_loads("{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":"
				     "\"AWS_CONTAINER_CREDENTIALS_FULL_URI\",\"value\":\"http://169.254.170.23/v1/credentials\"}]}]}}",
				     0, NULL);
	struct pod_injection inj;

	(void)state;
	doctor_pod_injection(injected, &inj);
	assert_string_equal(inj.role_arn, "arn:r");
	assert_true(inj.token_file && inj.token_volume && !inj.unreadable && !inj.container_credentials);
	doctor_pod_injection(nonroot, &inj);
	assert_null(inj.role_arn);
	assert_string_equal(inj.unreadable, "app");
	doctor_pod_injection(fsgroup, &inj);
	assert_null(inj.unreadable);
	doctor_pod_injection(pi, &inj);
	assert_true(inj.container_credentials);
}

static void test_doctor__policy_decision(void **state)
{
	const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":["
			  "{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\"],\"Resource\":[\"arn:aws:s3:::b/logs/*\"]},"
			  "{\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/logs/secret\"},"
			  "{\"Effect\":\"Allow\",\"NotAction\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":"
			  "{\"aws:SecureTransport\":\"true\"}}}]}";
	bool cond;

	(void)state;
	assert_int_equal(doctor_policy_decision(doc, "s3:GetObject", "arn:aws:s3:::b/logs/x", &cond), 1);
	assert_false(cond);
	assert_int_equal(doctor_policy_decision(doc, "S3:getobject", "arn:aws:s3:::b/logs/x", &cond), 1);
	assert_int_equal(doctor_policy_decision(doc, "s3:GetObject", "arn:aws:s3:::b/logs/secret", &cond), -1);
	assert_int_equal(doctor_policy_decision(doc, "s3:PutObject", "arn:aws:s3:::b/logs/x", &cond), 0);
	assert_int_equal(doctor_policy_decision(doc, "s3:GetObject", "arn:aws:s3:::b/other", &cond), 0);
	assert_int_equal(doctor_policy_decision(doc, "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q", &cond), 1);
	assert_true(cond);
	assert_int_equal(doctor_policy_decision("not json", "s3:GetObject", "x", &cond), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor__annotation_typo),
		cmocka_unit_test(test_doctor__pod_injection),
		cmocka_unit_test(test_doctor__policy_decision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
