/* Unit tests for identity/plan: observed vs desired -> exact steps. */
#include "support.h"

#include "aws/policy.h"
#include "base/str.h"
#include "identity/plan.h"

static const struct wi_tag tags[] = {
	{ (char *)"keyless.dev/cluster", (char *)"prod" },
	{ (char *)"keyless.dev/namespace", (char *)"logging" },
	{ (char *)"keyless.dev/name", (char *)"s3-reader" },
	{ (char *)"team", (char *)"logging" },
};
static const char *const managed[] = { "arn:aws:iam::aws:policy/ReadOnlyAccess" };
#define TRUST "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRoleWithWebIdentity\"}]}"
#define PERMS "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"*\"]}]}"

static struct role_desired desired(void)
{
	return (struct role_desired){ .name = "r", .path = "/keyless/", .description = "d", .trust_policy = TRUST,
				      .permission_policy = PERMS, .boundary_arn = "arn:b", .max_session_duration = 3600,
				      .tags = tags, .n_tags = 4, .managed = managed, .n_managed = 1 };
}

static struct role_observed matching(void)
{
	static const char *const inl[] = { "keyless" };

	return (struct role_observed){ .exists = true, .path = "/keyless/", .description = "d",
				       /* same meaning, other spelling: key order, spacing, one-element list */
				       .trust_policy = "{ \"Statement\": [ {\"Action\": [\"sts:AssumeRoleWithWebIdentity\"], "
						       "\"Effect\": \"Allow\"} ], \"Version\": \"2012-10-17\" }",
				       .boundary_arn = "arn:b", .max_session_duration = 3600, .tags = tags, .n_tags = 4,
				       .inline_names = inl, .n_inline = 1, .keyless_policy = PERMS, .attached = managed,
				       .n_attached = 1 };
}

static const char *steps(const struct plan *p, char *buf, size_t size)
{
	struct strfmt f = STRFMT_INIT(buf, size);

	buf[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		strfmt_add(&f, "%s%s%s%s", i ? "," : "", step_name(p->steps[i].kind), p->steps[i].arg ? ":" : "",
			   p->steps[i].arg ? p->steps[i].arg : "");
	return buf;
}

static void test_plan__absent_role_is_created_with_everything(void **state)
{
	struct role_desired d = desired();
	struct role_observed o = { .exists = false };
	struct plan p;
	char buf[512];

	(void)state;
	assert_int_equal(plan_role(&d, &o, &p), 0);
	assert_string_equal(steps(&p, buf, sizeof(buf)),
			    "CreateRole,PutRolePolicy:keyless,AttachRolePolicy:arn:aws:iam::aws:policy/ReadOnlyAccess");
}

static void test_plan__same_meaning_is_no_step(void **state)
{
	struct role_desired d = desired();
	struct role_observed o = matching();
	struct plan p;

	(void)state;
	assert_int_equal(plan_role(&d, &o, &p), 0);
	assert_int_equal(p.n, 0);
	assert_false(p.path_differs);
}

static void test_plan__each_difference_one_step(void **state)
{
	struct role_desired d = desired();
	struct role_observed o;
	struct plan p;
	char buf[512];
	static const struct wi_tag fewer[] = { { (char *)"keyless.dev/cluster", (char *)"prod" },
					       { (char *)"keyless.dev/namespace", (char *)"logging" },
					       { (char *)"keyless.dev/name", (char *)"s3-reader" },
					       { (char *)"team", (char *)"other" },
					       { (char *)"stray", (char *)"x" } };
	static const char *const two_inline[] = { "keyless", "backdoor" };
	static const char *const other_managed[] = { "arn:aws:iam::aws:policy/AdministratorAccess" };

	(void)state;
	o = matching();
	o.trust_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:*\"}]}";
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "UpdateAssumeRolePolicy");

	o = matching();
	o.trust_policy = "not json at all"; /* whatever it is, ours replaces it */
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "UpdateAssumeRolePolicy");

	o = matching();
	o.max_session_duration = 7200;
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "UpdateRole");

	o = matching();
	o.boundary_arn = NULL;
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "PutRolePermissionsBoundary:arn:b");

	o = matching();
	d.boundary_arn = NULL; /* waived */
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "DeleteRolePermissionsBoundary");
	d = desired();

	o = matching();
	o.tags = fewer;
	o.n_tags = 5;
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "TagRole:team,UntagRole:stray");

	o = matching();
	o.keyless_policy = NULL;
	o.n_inline = 0;
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "PutRolePolicy:keyless");

	o = matching();
	o.inline_names = two_inline;
	o.n_inline = 2;
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "DeleteRolePolicy:backdoor");

	o = matching();
	d.permission_policy = NULL; /* managed policies only: the inline policy goes */
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "DeleteRolePolicy:keyless");
	d = desired();

	o = matching();
	o.attached = other_managed;
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)),
			    "AttachRolePolicy:arn:aws:iam::aws:policy/ReadOnlyAccess,"
			    "DetachRolePolicy:arn:aws:iam::aws:policy/AdministratorAccess");

	o = matching();
	o.path = "/other/";
	plan_role(&d, &o, &p);
	assert_int_equal(p.n, 0);
	assert_true(p.path_differs); /* IAM cannot move a role: reported, not planned */
}

/* IAM role tag keys are case-insensitive: "Team" and "team" are one tag.
 * Review finding 22: a case-only difference used to plan TagRole(Team) and
 * UntagRole(team), and IAM removed the tag just written. */
static void test_plan__tag_keys_compare_without_case(void **state)
{
	static const struct wi_tag upper[] = {
		{ (char *)"keyless.dev/cluster", (char *)"prod" },
		{ (char *)"keyless.dev/namespace", (char *)"logging" },
		{ (char *)"keyless.dev/name", (char *)"s3-reader" },
		{ (char *)"Team", (char *)"logging" },
	};
	struct role_desired d = desired();
	struct role_observed o = matching();
	struct plan p;
	char buf[512];

	(void)state;
	d.tags = upper;
	plan_role(&d, &o, &p);
	assert_int_equal(p.n, 0);
	o.tags = upper;
	d.tags = tags;
	plan_role(&d, &o, &p);
	assert_int_equal(p.n, 0);
	/* a value change is still one TagRole */
	o.tags = (const struct wi_tag[]){ tags[0], tags[1], tags[2], { (char *)"TEAM", (char *)"payments" } };
	plan_role(&d, &o, &p);
	assert_string_equal(steps(&p, buf, sizeof(buf)), "TagRole:team");
}

static void test_plan__url_encoded_documents_compare_as_json(void **state)
{
	char *decoded = NULL;

	(void)state;
	/* IAM returns documents percent-encoded; decoded, they compare by meaning */
	assert_int_equal(aws_policy_decode("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22"
					   "%3A%22Allow%22%2C%22Action%22%3A%22sts%3AAssumeRoleWithWebIdentity%22%7D%5D%7D",
					   &decoded), 0);
	assert_int_equal(aws_policy_equal(decoded, TRUST), 1);
	free(decoded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan__absent_role_is_created_with_everything),
		cmocka_unit_test(test_plan__same_meaning_is_no_step),
		cmocka_unit_test(test_plan__each_difference_one_step),
		cmocka_unit_test(test_plan__tag_keys_compare_without_case),
		cmocka_unit_test(test_plan__url_encoded_documents_compare_as_json),
	};

	return cmocka_run_group_tests_name("identity_plan", tests, NULL, NULL);
}
