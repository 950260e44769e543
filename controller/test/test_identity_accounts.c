/* Unit tests of identity/accounts: which account an identity's role lives
 * in, the refusals, and the boundary of each account. */
#include "support.h"

#include "identity/accounts.h"

static struct wi_spec *spec(const char *account)
{
	struct wi_spec *sp = calloc(1, sizeof(*sp));

	assert_non_null(sp);
	sp->account_id = account ? strdup(account) : NULL;
	return sp;
}

static void test_accounts__choice(void **state)
{
	struct settings *s = test_settings("clusterName: prod\n"
				      "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"
				      "accounts:\n"
				      "  - {accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k,\n"
				      "     namespaces: [team-*]}\n"
				      "  - {accountId: '310987654321', roleArn: arn:aws:iam::310987654321:role/k,\n"
				      "     permissionsBoundaryArn: arn:aws:iam::310987654321:policy/b3}\n");
	struct account_choice c;
	struct wi_spec *sp;

	(void)state;
	/* none: the cluster's, with the settings' boundary */
	sp = spec(NULL);
	identity_account_choose(s, "123456789012", "team-a", sp, &c);
	assert_false(c.refused);
	assert_null(c.entry);
	assert_string_equal(c.account_id, "123456789012");
	assert_string_equal(c.boundary, "arn:aws:iam::123456789012:policy/keyless-boundary");
	wi_spec_free(sp);
	/* the cluster's own, named */
	sp = spec("123456789012");
	identity_account_choose(s, "123456789012", "x", sp, &c);
	assert_false(c.refused);
	assert_null(c.entry);
	wi_spec_free(sp);
	/* listed, namespace admitted: the boundary's ARN with that account */
	sp = spec("210987654321");
	identity_account_choose(s, "123456789012", "team-a", sp, &c);
	assert_false(c.refused);
	assert_ptr_equal(c.entry, &s->accounts[0]);
	assert_string_equal(c.account_id, "210987654321");
	assert_string_equal(c.boundary, "arn:aws:iam::210987654321:policy/keyless-boundary");
	/* namespace not admitted */
	identity_account_choose(s, "123456789012", "payments", sp, &c);
	assert_true(c.refused);
	assert_non_null(strstr(c.message, "namespace 'payments' may not use account 210987654321"));
	wi_spec_free(sp);
	/* its own boundary; any namespace */
	sp = spec("310987654321");
	identity_account_choose(s, "123456789012", "payments", sp, &c);
	assert_false(c.refused);
	assert_string_equal(c.boundary, "arn:aws:iam::310987654321:policy/b3");
	wi_spec_free(sp);
	/* not listed: refused, naming the accounts */
	sp = spec("999999999999");
	identity_account_choose(s, "123456789012", "team-a", sp, &c);
	assert_true(c.refused);
	assert_non_null(strstr(c.message, "(210987654321, 310987654321)"));
	wi_spec_free(sp);
	settings_free(s);
}

static void test_accounts__boundary_derivation(void **state)
{
	struct settings *s = test_settings("clusterName: prod\n"
				      "permissionsBoundaryArn: arn:aws:iam::aws:policy/PowerUserAccess\n"
				      "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k}]\n");
	char b[2048];

	(void)state;
	/* an AWS-managed boundary is the same in every account */
	identity_account_boundary(s, &s->accounts[0], b, sizeof(b));
	assert_string_equal(b, "arn:aws:iam::aws:policy/PowerUserAccess");
	settings_free(s);
	s = test_settings("clusterName: prod\npermissionsBoundaryWaived: true\n"
		     "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k}]\n");
	identity_account_boundary(s, &s->accounts[0], b, sizeof(b));
	assert_string_equal(b, ""); /* waived: none there either */
	settings_free(s);
	s = test_settings("clusterName: prod\n"
		     "permissionsBoundaryArn: arn:aws-cn:iam::123456789012:policy/path/b\n"
		     "accounts: [{accountId: '210987654321', roleArn: arn:aws-cn:iam::210987654321:role/k}]\n");
	identity_account_boundary(s, &s->accounts[0], b, sizeof(b));
	assert_string_equal(b, "arn:aws-cn:iam::210987654321:policy/path/b");
	settings_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts__choice),
		cmocka_unit_test(test_accounts__boundary_derivation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
