/* Unit tests for aws/redact: keyless' principal never reaches tenant text. */
#include "support.h"

#include "aws/redact.h"
#include "base/str.h"

struct redact_case {
	const char *name;
	const char *in;
	const char *want;
	int count;
};

static const struct redact_case cases[] = {
	{ "no ARN: unchanged", "Rate exceeded", "Rate exceeded", 0 },
	{ "empty", "", "", 0 },
	{ "access denied: principal redacted, resource kept",
	  "User: arn:aws:sts::123456789012:assumed-role/keyless-controller/keyless-1234 is not authorized to perform: "
	  "iam:CreateRole on resource: arn:aws:iam::123456789012:role/keyless/x",
	  "User: arn:aws:sts::<account>:assumed-role/<redacted> is not authorized to perform: "
	  "iam:CreateRole on resource: arn:aws:iam::123456789012:role/keyless/x",
	  1 },
	{ "explicit deny, ARN followed by punctuation",
	  "User: arn:aws:sts::123456789012:assumed-role/keyless-controller/s1, with an explicit deny in a service "
	  "control policy; see arn:aws:sts::123456789012:assumed-role/keyless-controller/s1.",
	  "User: arn:aws:sts::<account>:assumed-role/<redacted>, with an explicit deny in a service "
	  "control policy; see arn:aws:sts::<account>:assumed-role/<redacted>.",
	  2 },
	{ "aws-cn partition", "User: arn:aws-cn:sts::210987654321:assumed-role/kl/sess is not authorized",
	  "User: arn:aws-cn:sts::<account>:assumed-role/<redacted> is not authorized", 1 },
	{ "aws-us-gov IAM user at the end of the string", "denied for arn:aws-us-gov:iam::123456789012:user/ops/alice",
	  "denied for arn:aws-us-gov:iam::<account>:user/<redacted>", 1 },
	{ "federated user in parentheses", "(arn:aws:sts::123456789012:federated-user/bob)",
	  "(arn:aws:sts::<account>:federated-user/<redacted>)", 1 },
	{ "IAM role as the principal after User:",
	  "User: arn:aws:iam::123456789012:role/keyless-controller is not authorized to perform: iam:GetRole",
	  "User: arn:aws:iam::<account>:role/<redacted> is not authorized to perform: iam:GetRole", 1 },
	{ "resource-only ARNs kept",
	  "Role arn:aws:iam::123456789012:role/keyless/prod+ns+x@0123 and "
	  "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC are fine.",
	  "Role arn:aws:iam::123456789012:role/keyless/prod+ns+x@0123 and "
	  "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC are fine.",
	  0 },
	{ "account root", "principal arn:aws:iam::123456789012:root denied",
	  "principal arn:aws:iam::<account>:root denied", 1 },
	{ "bare account ids", "account 123456789012: quota; in 210987654321.",
	  "account <account>: quota; in <account>.", 2 },
	{ "numbers that are not account ids", "id 1234567890123 or 12345678901 or req-123456789012 or a1b2",
	  "id 1234567890123 or 12345678901 or req-123456789012 or a1b2", 0 },
	{ "ARN cut short by truncation", "User: arn:aws:sts::123456789012:assumed-role/keyless-contr...",
	  "User: arn:aws:sts::<account>:assumed-role/<redacted>...", 1 },
	{ "ARN cut inside the account", "User: arn:aws:sts::12345", "User: arn:aws:sts::<account>", 1 },
	{ "not an AWS ARN", "see arn:other:sts::123456789012:x and xarn:aws:sts::1:y",
	  "see arn:other:sts::123456789012:x and xarn:aws:sts::1:y", 0 },
	{ "principal in quotes, twice in a row",
	  "'arn:aws:sts::123456789012:assumed-role/a/b''arn:aws:sts::123456789012:assumed-role/c/d'",
	  "'arn:aws:sts::<account>:assumed-role/<redacted>''arn:aws:sts::<account>:assumed-role/<redacted>'", 2 },
};

static void test_aws_redact__table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[512];
		int n;

		memset(out, 'x', sizeof(out));
		n = aws_redact_principals(out, sizeof(out), cases[i].in);
		if (strcmp(out, cases[i].want) != 0 || n != cases[i].count)
			fail_msg("case '%s': got '%s' (%d), want '%s' (%d)", cases[i].name, out, n, cases[i].want,
				 cases[i].count);
	}
}

static void test_aws_redact__small_buffer_and_null(void **state)
{
	static const char in[] = "User: arn:aws:sts::123456789012:assumed-role/keyless-controller/keyless-1234 is "
				 "not authorized";
	char out[40], one[1] = { 'x' };

	(void)state;
	assert_int_equal(aws_redact_principals(out, sizeof(out), in), 1);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_true(str_endswith(out, "..."));
	assert_null(strstr(out, "keyless"));
	assert_null(strstr(out, "1234"));
	assert_int_equal(aws_redact_principals(one, sizeof(one), in), 1);
	assert_int_equal(one[0], '\0');
	assert_int_equal(aws_redact_principals(out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_redact__table),
		cmocka_unit_test(test_aws_redact__small_buffer_and_null),
	};

	return cmocka_run_group_tests_name("aws_redact", tests, NULL, NULL);
}
