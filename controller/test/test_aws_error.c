/* Unit tests for aws/error and aws/retry: error bodies (captured from moto
 * and the STS front, and AWS-documented shapes) -> {code, message, request
 * id, errno}; retry classification; the retry quota. */
#include "support.h"

#include "aws/error.h"
#include "aws/retry.h"
#include "base/clock.h"

static void parse_file(const char *file, long status, const char *error_type, const char *hdr_rid,
		       struct op_err *e, int *rc)
{
	struct aws_http_response resp;
	_cleanup_free_ char *body = NULL;
	char rel[256];

	snprintf(rel, sizeof(rel), "aws-responses/%s", file);
	body = test_read_file(rel, NULL);
	aws_http_response_init(&resp);
	resp.status = status;
	if (error_type)
		snprintf(resp.error_type, sizeof(resp.error_type), "%s", error_type);
	if (hdr_rid)
		snprintf(resp.request_id, sizeof(resp.request_id), "%s", hdr_rid);
	assert_int_equal(buf_puts(&resp.body, body), 0);
	op_err_clear(e);
	*rc = aws_error_parse(&resp, e);
	aws_http_response_release(&resp);
}

static void test_error__captured_and_documented_bodies(void **state)
{
	static const struct {
		const char *file;
		long status;
		const char *error_type; /* x-amzn-ErrorType header as sent */
		const char *code;
		int err;
		const char *msg_start;
		const char *request_id;
	} cases[] = {
		{ "moto-iam-get-role-nosuchentity.xml", 404, NULL, "NoSuchEntity", -ENOENT, "Role no-such-role not found",
		  "XfpltbflwQOjWzUxMk752oyd35uGbOkEjdWKSYTgw04xmqqQef6B" },
		{ "moto-iam-create-role-entityalreadyexists.xml", 409, NULL, "EntityAlreadyExists", -EEXIST, "Role with name",
		  "egHbpGxBro8yGJo9GEA0yHiNqYKV6PgRiCZLFrMT902oOoFLUJ23" },
		{ "moto-iam-delete-role-deleteconflict.xml", 409, NULL, "DeleteConflict", -EBUSY, "Cannot delete entity",
		  "gURYhnfv3UlImdSirXWotI5WD5zv5Fl5rFEyH82xeMrY3e0NzjfB" },
		{ "moto-iam-signaturedoesnotmatch.xml", 403, NULL, "SignatureDoesNotMatch", -EPERM,
		  "The request signature we calculated", "hdr-rid" },
		{ "moto-iam-invalidclienttokenid.xml", 403, NULL, "InvalidClientTokenId", -EPERM, "The security token", "hdr-rid" },
		{ "moto-eks-describe-cluster-signaturedoesnotmatch.xml", 403, NULL, "SignatureDoesNotMatch", -EPERM,
		  "The request signature", "hdr-rid" },
		{ "moto-eks-describe-cluster-notfound.json", 404, "ResourceNotFoundException", "ResourceNotFoundException",
		  -ENOENT, "No cluster found for name: no-such-cluster.", "hdr-rid" },
		{ "front-sts-invalididentitytoken.xml", 400, NULL, "InvalidIdentityToken", -EPERM,
		  "The web identity token is not a well-formed JWT", "ccd8e5b8-1151-4e3b-a206-3f98b4fc9148" },
		{ "front-sts-validationerror.xml", 400, NULL, "ValidationError", -EINVAL, "1 validation error detected",
		  "275d4ac2-d4d1-4dcc-bc9e-42f0e7bc2106" },
		{ "aws-iam-throttling.xml", 400, NULL, "Throttling", -EAGAIN, "Rate exceeded",
		  "8f6b4d3e-2c1a-4b7e-9f0d-5a6c7b8d9e01" },
		{ "aws-iam-limitexceeded.xml", 409, NULL, "LimitExceeded", -EDQUOT, "Cannot exceed quota",
		  "2b1f0c9e-8d7a-4c6b-b5a4-39281706f5e4" },
		{ "aws-iam-malformedpolicydocument.xml", 400, NULL, "MalformedPolicyDocument", -EINVAL, "Syntax errors",
		  "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f" },
		{ "aws-iam-servicefailure.xml", 500, NULL, "ServiceFailure", -EIO, "The request processing has failed",
		  "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" },
		{ "aws-sts-expiredtoken.xml", 400, NULL, "ExpiredToken", -EPERM, "The security token included",
		  "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f" },
		{ "aws-eks-resourcenotfound.json", 404,
		  "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.eks/",
		  "ResourceNotFoundException", -ENOENT, "No cluster found for name: prod.", "hdr-rid" },
		{ "aws-eks-invalidparameter-body-type.json", 400, NULL, "InvalidParameterException", -EINVAL,
		  "Invalid namespace", "hdr-rid" },
		{ "aws-eks-throttling.json", 429, "ThrottlingException", "ThrottlingException", -EAGAIN, "Rate exceeded",
		  "hdr-rid" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct op_err e;
		int rc;

		parse_file(cases[i].file, cases[i].status, cases[i].error_type, "hdr-rid", &e, &rc);
		if (rc != 0 || strcmp(e.reason, cases[i].code) != 0)
			fail_msg("%s: rc %d reason \"%s\", want \"%s\"", cases[i].file, rc, e.reason, cases[i].code);
		assert_int_equal(e.http_status, cases[i].status);
		assert_int_equal(aws_error_errno(e.reason, e.http_status), cases[i].err);
		if (strncmp(e.message, cases[i].msg_start, strlen(cases[i].msg_start)) != 0)
			fail_msg("%s: message \"%s\"", cases[i].file, e.message);
		/* the body's request id wins; the header's when the body has none */
		assert_string_equal(e.request_id, cases[i].request_id ? cases[i].request_id : "hdr-rid");
	}
}

static void test_error__unknown_shapes_keep_a_message(void **state)
{
	struct op_err e;
	int rc;

	(void)state;
	parse_file("moto-eks-list-pod-identity-associations-404.html", 404, NULL, NULL, &e, &rc);
	assert_int_equal(rc, -ENOMSG);
	assert_string_equal(e.reason, "");
	assert_true(strstr(e.message, "404 Not Found") != NULL);
	assert_null(strchr(e.message, '\n'));
	assert_int_equal(aws_error_errno(e.reason, 404), -ENOENT);
	assert_int_equal(aws_error_errno("", 503), -EIO);
	assert_int_equal(aws_error_errno("SomethingNew", 400), -EINVAL);
	assert_int_equal(aws_error_errno("SomethingNew", 403), -EACCES);
	assert_int_equal(aws_error_errno("", 418), -EPROTO);
	assert_int_equal(aws_error_errno("AccessDenied", 403), -EACCES);
	assert_int_equal(aws_error_errno("InvalidAction", 400), -EOPNOTSUPP);
	assert_int_equal(aws_error_errno("RequestLimitExceeded", 503), -EAGAIN);
}

static void test_retry__classification_table(void **state)
{
	static const struct {
		int transport;
		const char *code;
		long status;
		enum aws_retry_class want;
	} cases[] = {
		{ 0, "Throttling", 400, AWS_RETRY_THROTTLED },
		{ 0, "ThrottlingException", 400, AWS_RETRY_THROTTLED },
		{ 0, "RequestLimitExceeded", 503, AWS_RETRY_THROTTLED },
		{ 0, "TooManyRequestsException", 429, AWS_RETRY_THROTTLED },
		{ 0, "RequestThrottled", 400, AWS_RETRY_THROTTLED },
		{ 0, "ProvisionedThroughputExceededException", 400, AWS_RETRY_THROTTLED },
		{ 0, "", 429, AWS_RETRY_THROTTLED },
		{ 0, "ServiceFailure", 500, AWS_RETRY_TRANSIENT },
		{ 0, "", 502, AWS_RETRY_TRANSIENT },
		{ 0, "ServiceUnavailable", 503, AWS_RETRY_TRANSIENT },
		{ 0, "", 504, AWS_RETRY_TRANSIENT },
		{ 0, "RequestTimeout", 400, AWS_RETRY_TRANSIENT },
		{ 0, "SignatureDoesNotMatch", 403, AWS_RETRY_NONE },
		{ 0, "InvalidClientTokenId", 403, AWS_RETRY_NONE },
		{ 0, "ExpiredToken", 400, AWS_RETRY_NONE },
		{ 0, "AccessDenied", 403, AWS_RETRY_NONE },
		{ 0, "MalformedPolicyDocument", 400, AWS_RETRY_NONE },
		{ 0, "ValidationError", 400, AWS_RETRY_NONE },
		{ 0, "NoSuchEntity", 404, AWS_RETRY_NONE },
		{ 0, "LimitExceeded", 409, AWS_RETRY_NONE },
		{ 0, "", 501, AWS_RETRY_NONE },
		{ 0, "", 200, AWS_RETRY_NONE },
		{ -ECONNREFUSED, NULL, 0, AWS_RETRY_TRANSIENT },
		{ -ECONNRESET, NULL, 0, AWS_RETRY_TRANSIENT },
		{ -EHOSTUNREACH, NULL, 0, AWS_RETRY_TRANSIENT },
		{ -ETIMEDOUT, NULL, 0, AWS_RETRY_TIMEOUT },
		{ -E2BIG, NULL, 0, AWS_RETRY_NONE },
		{ -EPROTO, NULL, 0, AWS_RETRY_NONE },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum aws_retry_class got = aws_retry_classify(cases[i].transport, cases[i].code, cases[i].status);

		if (got != cases[i].want)
			fail_msg("case %zu (%d %s %ld): class %d, want %d", i, cases[i].transport,
				 cases[i].code ? cases[i].code : "-", cases[i].status, got, cases[i].want);
	}
}

static void test_retry__quota_take_refund_cap(void **state)
{
	struct aws_retry_quota q;
	int taken = 0;

	(void)state;
	aws_retry_quota_init(&q, 500);
	while (aws_retry_quota_acquire(&q, 5))
		taken++;
	assert_int_equal(taken, 100);
	assert_int_equal(aws_retry_quota_available(&q), 0);
	assert_false(aws_retry_quota_acquire(&q, 5));
	aws_retry_quota_refund(&q, 10);
	assert_true(aws_retry_quota_acquire(&q, 10));
	assert_false(aws_retry_quota_acquire(&q, 1));
	aws_retry_quota_refund(&q, 10000);
	assert_int_equal(aws_retry_quota_available(&q), 500);
	aws_retry_quota_release_all(&q);
}

static void test_retry__backoff_full_jitter_bounds(void **state)
{
	static const struct aws_retry_policy p = AWS_RETRY_POLICY_STANDARD;
	int64_t hi1 = 0, hi2 = 0, hi9 = 0;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		int64_t d1 = aws_retry_backoff_ns(&p, 1), d2 = aws_retry_backoff_ns(&p, 2), d9 = aws_retry_backoff_ns(&p, 9);

		assert_true(d1 >= 0 && d1 <= 100 * NSEC_PER_MSEC);
		assert_true(d2 >= 0 && d2 <= 200 * NSEC_PER_MSEC);
		assert_true(d9 >= 0 && d9 <= 20 * 1000 * NSEC_PER_MSEC);
		hi1 = d1 > hi1 ? d1 : hi1;
		hi2 = d2 > hi2 ? d2 : hi2;
		hi9 = d9 > hi9 ? d9 : hi9;
	}
	/* the ceilings are reached (jitter spans the range): 100 ms, 200 ms, capped at 20 s */
	assert_true(hi1 > 95 * NSEC_PER_MSEC);
	assert_true(hi2 > 190 * NSEC_PER_MSEC);
	assert_true(hi9 > 19 * 1000 * NSEC_PER_MSEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error__captured_and_documented_bodies),
		cmocka_unit_test(test_error__unknown_shapes_keep_a_message),
		cmocka_unit_test(test_retry__classification_table),
		cmocka_unit_test(test_retry__quota_take_refund_cap),
		cmocka_unit_test(test_retry__backoff_full_jitter_bounds),
	};

	return cmocka_run_group_tests_name("aws_error", tests, NULL, NULL);
}
