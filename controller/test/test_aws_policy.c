/* Unit tests for aws/policy: decoding IAM's URL-encoded documents and
 * comparing documents as JSON by meaning. */
#include "support.h"

#include "aws/policy.h"

static void test_policy__decode(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "%7B%22Version%22%3A%20%222012-10-17%22%7D", "{\"Version\": \"2012-10-17\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":\"b\"}" },       /* not encoded: unchanged */
		{ "a+b%2Bc%25d%2fe", "a+b+c%d/e" },        /* '+' stays, lower-case hex ok */
		{ "%E2%82%AC", "\xe2\x82\xac" },
		{ "100%", "100%" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *d = NULL;

		assert_int_equal(aws_policy_decode(cases[i].in, &d), 0);
		assert_string_equal(d, cases[i].out);
		free(d);
	}
}

static void test_policy__equal_by_meaning(void **state)
{
	static const struct {
		const char *a, *b;
		int eq;
	} cases[] = {
		/* spacing and key order */
		{ "{\"Version\":\"2012-10-17\",\"Statement\":[]}", "{ \"Statement\" : [ ],\n \"Version\": \"2012-10-17\" }", 1 },
		/* a single value equals a one-element array, at any depth */
		{ "{\"Action\":\"sts:AssumeRoleWithWebIdentity\"}", "{\"Action\":[\"sts:AssumeRoleWithWebIdentity\"]}", 1 },
		{ "{\"Statement\":{\"Effect\":\"Allow\"}}", "{\"Statement\":[{\"Effect\":\"Allow\"}]}", 1 },
		{ "{\"C\":{\"StringEquals\":{\"k\":\"v\"}}}", "{\"C\":{\"StringEquals\":{\"k\":[\"v\"]}}}", 1 },
		/* arrays are sets */
		{ "{\"Action\":[\"s3:GetObject\",\"s3:PutObject\"]}", "{\"Action\":[\"s3:PutObject\",\"s3:GetObject\"]}", 1 },
		{ "{\"Action\":[\"a\",\"a\"]}", "{\"Action\":\"a\"}", 1 },
		{ "[{\"Sid\":\"1\"},{\"Sid\":\"2\"}]", "[{\"Sid\":\"2\"},{\"Sid\":\"1\"}]", 1 },
		/* real differences */
		{ "{\"Action\":[\"a\",\"b\"]}", "{\"Action\":\"a\"}", 0 },
		{ "{\"Action\":[\"a\",\"b\"]}", "{\"Action\":[\"a\",\"c\"]}", 0 },
		{ "{\"Effect\":\"Allow\"}", "{\"Effect\":\"allow\"}", 0 },
		{ "{\"Effect\":\"Allow\"}", "{\"Effect\":\"Allow\",\"Sid\":\"x\"}", 0 },
		{ "{\"n\":1}", "{\"n\":\"1\"}", 0 },
		{ "{\"n\":1}", "{\"n\":1.0}", 1 },
		{ "{\"a\":[]}", "{\"a\":[\"x\"]}", 0 },
		{ "{\"a\":[]}", "{\"a\":[]}", 1 },
		{ "{\"a\":null}", "{\"a\":[]}", 0 },
		{ "{\"a\":{\"b\":1}}", "{\"a\":[{\"b\":1},{\"b\":2}]}", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int got = aws_policy_equal(cases[i].a, cases[i].b);

		if (got != cases[i].eq)
			fail_msg("case %zu: %s vs %s: got %d", i, cases[i].a, cases[i].b, got);
		/* symmetric */
		assert_int_equal(aws_policy_equal(cases[i].b, cases[i].a), cases[i].eq);
		/* one canonical text per meaning (the drift sweep's fingerprints) */
		{
			char *ca = NULL, *cb = NULL;

			assert_int_equal(aws_policy_canonical(cases[i].a, &ca), 0);
			assert_int_equal(aws_policy_canonical(cases[i].b, &cb), 0);
			if (streq(ca, cb) != (cases[i].eq == 1))
				fail_msg("case %zu: canonical %s vs %s, equal is %d", i, ca, cb, cases[i].eq);
			free(ca);
			free(cb);
		}
	}
	{
		char *c = NULL;

		assert_int_equal(aws_policy_canonical("{\"b\":[\"y\",\"x\",\"y\"],\"a\":[\"z\"],\"n\":2.5}", &c), 0);
		assert_string_equal(c, "{\"a\":\"z\",\"b\":[\"x\",\"y\"],\"n\":2.5}");
		free(c);
		assert_int_equal(aws_policy_canonical("{", &c), -EINVAL);
		assert_int_equal(aws_policy_canonical(NULL, &c), -EINVAL);
	}
	assert_int_equal(aws_policy_equal("{", "{}"), -EINVAL);
	assert_int_equal(aws_policy_equal(NULL, "{}"), -EINVAL);
}

static void test_policy__decoded_iam_document_equals_written_one(void **state)
{
	/* what moto returned for a document written compactly */
	static const char from_iam[] =
		"%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20"
		"%22Action%22%3A%20%5B%22s3%3AGetObject%22%5D%2C%20%22Resource%22%3A%20%22arn%3Aaws%3As3%3A%3A%3Abucket/"
		"prefix%20with%20space/%2Bplus%25percent/%2A%22%7D%5D%7D";
	static const char written[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
				      "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bucket/prefix with space/+plus%percent/*\"}]}";
	char *d = NULL;

	(void)state;
	assert_int_equal(aws_policy_decode(from_iam, &d), 0);
	assert_int_equal(strcmp(d, written) != 0, 1); /* different text ... */
	assert_int_equal(aws_policy_equal(d, written), 1); /* ... same policy */
	assert_int_equal(aws_policy_equal(from_iam, written), -EINVAL); /* never compare undecoded */
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__decode),
		cmocka_unit_test(test_policy__equal_by_meaning),
		cmocka_unit_test(test_policy__decoded_iam_document_equals_written_one),
	};

	return cmocka_run_group_tests_name("aws_policy", tests, NULL, NULL);
}
