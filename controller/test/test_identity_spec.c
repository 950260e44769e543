/* Unit tests for identity/spec (and the shapes of identity/shape it uses). */
#include "support.h"

#include <jansson.h>

#include "base/str.h"
#include "identity/shape.h"
#include "identity/spec.h"

static json_t *load_testdata(const char *rel)
{
	char *text = test_read_file(rel, NULL);
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("%s: %s", rel, jerr.text);
	free(text);
	return v;
}

/* Parse and expect failure with exactly `message`; *ret must stay untouched. */
static void expect_invalid(json_t *obj, const char *message)
{
	struct wi_spec *sentinel = (struct wi_spec *)&sentinel, *s = sentinel;
	struct op_err err;

	op_err_clear(&err);
	assert_int_equal(wi_spec_parse(obj, &s, &err), -EINVAL);
	assert_ptr_equal(s, sentinel);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.reason, "InvalidSpec");
	if (!streq(err.message, message))
		fail_msg("message\n  got:  %s\n  want: %s", err.message, message);
}

static void test_spec__full_object_from_the_api_server(void **state)
{
	json_auto_t *obj = load_testdata("identity/wi-full.json");
	_cleanup_(wi_spec_freep) struct wi_spec *s = NULL;
	struct op_err err;
	const struct wi_statement *st;

	(void)state;
	assert_int_equal(wi_spec_parse(obj, &s, &err), 0);
	assert_string_equal(s->namespace, "logging");
	assert_string_equal(s->name, "s3-reader");
	assert_string_equal(s->uid, "0b9c6a3e-51d2-4c1f-9a8e-2f7d7f0c3b11");
	assert_int_equal(s->generation, 3);
	assert_true(s->deleting);
	assert_true(s->has_finalizer);
	assert_string_equal(s->creation_timestamp, "2026-11-28T17:00:00Z");
	assert_string_equal(s->service_account, "s3-reader-sa");
	assert_true(s->create_service_account);
	assert_string_equal(s->audience, "sts.example.internal");
	assert_false(s->sts_regional_endpoints);
	assert_int_equal(s->max_session_duration, 7200);
	assert_int_equal(s->restart, WI_RESTART_DELETE_PODS);
	assert_int_equal(s->deletion_policy, WI_RETAIN);

	assert_int_equal(s->n_statements, 2);
	st = &s->statements[0];
	assert_string_equal(st->sid, "ReadLogs");
	assert_int_equal(st->effect, WI_ALLOW);
	assert_int_equal(st->n_actions, 2);
	assert_string_equal(st->actions[0], "s3:GetObject");
	assert_string_equal(st->actions[1], "s3:ListBucket");
	assert_null(st->actions[2]);
	assert_int_equal(st->n_resources, 2);
	assert_string_equal(st->resources[1], "arn:aws:s3:::my-log-bucket/logs/*");
	assert_null(st->resources[2]);
	/* operator -> key pairs, in document order */
	assert_int_equal(st->n_conditions, 3);
	assert_string_equal(st->conditions[0].op, "StringEquals");
	assert_string_equal(st->conditions[0].key, "aws:SourceVpc");
	assert_int_equal(st->conditions[0].n_values, 1);
	assert_string_equal(st->conditions[0].values[0], "vpc-1234");
	assert_null(st->conditions[0].values[1]);
	assert_string_equal(st->conditions[1].op, "StringEquals");
	assert_string_equal(st->conditions[1].key, "s3:ExistingObjectTag/env");
	assert_int_equal(st->conditions[1].n_values, 2);
	assert_string_equal(st->conditions[1].values[1], "staging");
	assert_string_equal(st->conditions[2].op, "ForAnyValue:StringLike");
	assert_string_equal(st->conditions[2].values[0], "team-*");

	st = &s->statements[1];
	assert_null(st->sid);
	assert_int_equal(st->effect, WI_DENY);
	assert_int_equal(st->n_conditions, 0);
	assert_null(st->conditions);

	assert_int_equal(s->n_managed_policy_arns, 2);
	assert_string_equal(s->managed_policy_arns[0], "arn:aws:iam::aws:policy/ReadOnlyAccess");
	assert_string_equal(s->managed_policy_arns[1], "arn:aws:iam::123456789012:policy/team/logs-reader");
	assert_null(s->managed_policy_arns[2]);

	assert_int_equal(s->n_tags, 2);
	assert_string_equal(s->tags[0].key, "team");
	assert_string_equal(s->tags[0].value, "logging");
	assert_string_equal(s->tags[1].key, "cost-center");
	assert_string_equal(s->tags[1].value, "cc 42/a");
}

/* Without CRD defaults (an older apiserver, a test fixture): keyless applies them. */
static void test_spec__defaults_when_absent(void **state)
{
	json_auto_t *obj = load_testdata("identity/wi-minimal.json");
	_cleanup_(wi_spec_freep) struct wi_spec *s = NULL;

	(void)state;
	assert_int_equal(wi_spec_parse(obj, &s, NULL), 0);
	assert_string_equal(s->namespace, "production");
	assert_int_equal(s->generation, 0);
	assert_false(s->deleting);
	assert_false(s->has_finalizer);
	assert_null(s->creation_timestamp);
	assert_false(s->create_service_account);
	assert_string_equal(s->audience, WI_DEFAULT_AUDIENCE);
	assert_true(s->sts_regional_endpoints);
	assert_int_equal(s->statements[0].effect, WI_ALLOW);
	assert_null(s->statements[0].sid);
	assert_int_equal(s->max_session_duration, 0);
	assert_int_equal(s->restart, WI_RESTART_DEFAULT);
	assert_int_equal(s->deletion_policy, WI_DELETE);
	assert_int_equal(s->n_managed_policy_arns, 0);
	assert_non_null(s->managed_policy_arns); /* an empty, NULL-terminated list */
	assert_null(s->managed_policy_arns[0]);
	assert_int_equal(s->n_tags, 0);
	assert_null(s->tags);
}

/* JSON null is "absent" (as the API server may send for optional fields). */
static void test_spec__nulls_are_absent(void **state)
{
	json_auto_t *obj = test_wi_with_spec("{'serviceAccountName':'sa','audience':null,'stsRegionalEndpoints':null,"
					"'restart':null,'maxSessionDuration':null,'tags':null,'deletionPolicy':null,"
					"'permissions':{'statements':[{'sid':'','effect':null,'actions':['s3:GetObject'],"
					"'resources':['*'],'conditions':null}],'managedPolicyArns':null}}");
	_cleanup_(wi_spec_freep) struct wi_spec *s = NULL;

	(void)state;
	assert_int_equal(wi_spec_parse(obj, &s, NULL), 0);
	assert_string_equal(s->audience, WI_DEFAULT_AUDIENCE);
	assert_true(s->sts_regional_endpoints);
	assert_int_equal(s->restart, WI_RESTART_DEFAULT);
	assert_null(s->statements[0].sid); /* "" is no sid */
	assert_int_equal(s->statements[0].effect, WI_ALLOW);
}

static void test_spec__enums(void **state)
{
	static const struct {
		const char *restart, *deletion;
		enum wi_restart want_restart;
		enum wi_deletion want_deletion;
	} cases[] = {
		{ "RolloutRestart", "Delete", WI_RESTART_ROLLOUT, WI_DELETE },
		{ "DeletePods", "Retain", WI_RESTART_DELETE_PODS, WI_RETAIN },
		{ "None", "Delete", WI_RESTART_NONE, WI_DELETE },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char spec[512];
		json_t *obj;
		struct wi_spec *s = NULL;

		snprintf(spec, sizeof(spec),
			 "{'serviceAccountName':'sa','restart':'%s','deletionPolicy':'%s','maxSessionDuration':43200,"
			 "'permissions':{'managedPolicyArns':['arn:aws:iam::aws:policy/ReadOnlyAccess']}}",
			 cases[i].restart, cases[i].deletion);
		obj = test_wi_with_spec(spec);
		assert_int_equal(wi_spec_parse(obj, &s, NULL), 0);
		assert_int_equal(s->restart, cases[i].want_restart);
		assert_int_equal(s->deletion_policy, cases[i].want_deletion);
		assert_string_equal(wi_restart_name(s->restart), cases[i].restart);
		assert_int_equal(s->max_session_duration, 43200);
		assert_int_equal(s->n_statements, 0);
		wi_spec_free(s);
		json_decref(obj);
	}
	assert_string_equal(wi_restart_name(WI_RESTART_DEFAULT), "Default");
	wi_spec_free(NULL);
}

/* Conditions: a single string is one value; every IAM operator form parses. */
static void test_spec__conditions(void **state)
{
	json_auto_t *obj = test_wi_with_spec(
		"{'serviceAccountName':'sa','permissions':{'statements':[{'actions':['s3:GetObject'],"
		"'resources':['*'],'conditions':{'Bool':{'aws:SecureTransport':'true'},"
		"'ForAllValues:StringEqualsIgnoreCase':{'aws:TagKeys':['a','b']},"
		"'NumericLessThanEqualsIfExists':{'s3:max-keys':['10']},"
		"'ForAnyValue:ArnNotLikeIfExists':{'aws:PrincipalArn':['arn:aws:iam::*:role/x']},"
		"'Null':{'aws:TokenIssueTime':['true']},'IpAddress':{'aws:SourceIp':['10.0.0.0/8']},"
		"'DateGreaterThan':{'aws:CurrentTime':['2026-01-01T00:00:00Z']},"
		"'BinaryEquals':{'k':['QmluYXJ5']},'NotIpAddress':{'aws:SourceIp':'1.2.3.4/32'}}}]}}");
	_cleanup_(wi_spec_freep) struct wi_spec *s = NULL;
	const struct wi_statement *st;
	struct op_err err;

	(void)state;
	assert_int_equal(wi_spec_parse(obj, &s, &err), 0);
	st = &s->statements[0];
	assert_int_equal(st->n_conditions, 9);
	assert_string_equal(st->conditions[0].op, "Bool");
	assert_int_equal(st->conditions[0].n_values, 1);
	assert_string_equal(st->conditions[0].values[0], "true");
	assert_null(st->conditions[0].values[1]);
	assert_int_equal(st->conditions[1].n_values, 2);
	assert_string_equal(st->conditions[3].op, "ForAnyValue:ArnNotLikeIfExists");
	assert_string_equal(st->conditions[8].values[0], "1.2.3.4/32");
}

/* Shapes that must be accepted (mirrors the CRD's patterns). */
static void test_spec__valid_shapes(void **state)
{
	static const char *const actions[] = { "*", "s3:GetObject", "s3:Get*", "s3:Get?bject", "s3:*",
					       "execute-api:Invoke", "ec2:Describe*", "kms:*Key*" };
	static const char *const resources[] = {
		"*", "arn:aws:s3:::b", "arn:aws:s3:::b/logs/*", "arn:aws-cn:ec2:cn-north-1:123456789012:instance/*",
		"arn:aws-us-gov:iam::123456789012:role/x", "arn:aws:execute-api:*:*:abc/*/GET/*",
		"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:s3:::bucket/key with space",
		"arn:aws:dynamodb:us-east-1:12345678901?:table/t", "arn:aws:*:*:*:*",
		"arn:aws:sqs:us-east-1:123456789012:q:with:colons",
	};
	static const char *const sa_names[] = { "a", "sa", "0", "a-b.c-d", "a.b.c", "x1-2-3" };
	char long_name[254];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (!shape_action(actions[i], false))
			fail_msg("rejected: %s", actions[i]);
	for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
		const char *p = shape_resource_problem(resources[i]);

		if (p)
			fail_msg("%s %s", resources[i], p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sa_names); i++)
		if (!shape_dns_subdomain(sa_names[i]))
			fail_msg("rejected: %s", sa_names[i]);
	/* 253 characters: 4 labels of 62/63 joined by dots */
	memset(long_name, 'a', 253);
	long_name[63] = long_name[127] = long_name[191] = '.';
	long_name[253] = '\0';
	assert_true(shape_dns_subdomain(long_name));
	long_name[252] = '\0';
	assert_true(shape_dns_subdomain(long_name));

	assert_true(shape_action("*:*", true));
	assert_true(shape_action("s3*:Get?", true));
	assert_true(shape_policy_arn("arn:aws-us-gov:iam::123456789012:policy/a/b/c"));
	assert_true(shape_policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaRole"));
	assert_true(shape_tag_key("a"));
	assert_true(shape_tag_key("team name_.:/=+-@x"));
	assert_true(shape_tag_value(""));
	assert_false(shape_tag_key_reserved("keyless.devx"));
	assert_false(shape_tag_key_reserved("awsx:y"));
}

/* Shapes that must be rejected, one rule each. */
static void test_spec__invalid_shapes(void **state)
{
	static const char *const actions[] = { "", "iam", "s3:", ":Get", "S3:GetObject", "s3:Get Object",
					       "s3:Get-Object", "*:*", "s3*:Get", "s3:Get:Object", "s_3:Get", "**" };
	static const char *const sa_names[] = { "", "A", "sa_1", "-sa", "sa-", "a..b", ".a", "a.", "a b", "sä" };
	static const char *const policy_arns[] = {
		"", "arn:aws:iam::aws:role/x", "arn:aws:iam::1234:policy/x", "arn:aws:iam:us-east-1:aws:policy/x",
		"arn:aws:iam::aws:policy/", "arn:aws:iam::aws:policy//x", "arn:aws:iam::aws:policy/x/",
		"arn:aws:iam::aws:policy/x y", "arn:aws-eu:iam::aws:policy/x", "arn:aws:iam::12345678901a:policy/x",
		"arn:aws:s3:::policy/x",
	};
	static const char *const operators[] = { "", "StringEqual", "stringequals", "NullIfExists",
						 "ForAnyValue:", "ForSomeValues:StringLike", "IfExists",
						 "StringLikeIfExistsIfExists", "ForAnyValue:ForAllValues:StringLike" };
	char long_label[70];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (shape_action(actions[i], false))
			fail_msg("accepted: %s", actions[i]);
	for (size_t i = 0; i < ARRAY_SIZE(sa_names); i++)
		if (shape_dns_subdomain(sa_names[i]))
			fail_msg("accepted: %s", sa_names[i]);
	for (size_t i = 0; i < ARRAY_SIZE(policy_arns); i++)
		if (shape_policy_arn(policy_arns[i]))
			fail_msg("accepted: %s", policy_arns[i]);
	for (size_t i = 0; i < ARRAY_SIZE(operators); i++)
		if (shape_condition_operator(operators[i]))
			fail_msg("accepted: %s", operators[i]);
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_true(shape_dns_subdomain(long_label)); /* labels are not capped in a subdomain... */
	{
		char too_long[255];

		memset(too_long, 'a', 254);
		too_long[254] = '\0';
		assert_false(shape_dns_subdomain(too_long)); /* ...the whole name is */
	}
	assert_false(shape_tag_key(""));
	assert_false(shape_tag_key("a!"));
	assert_false(shape_tag_value("a\tb"));
	assert_true(shape_tag_key_reserved("Keyless.Dev/x"));
	assert_true(shape_tag_key_reserved("AWS:x"));
	assert_false(shape_token("a b"));
	assert_false(shape_token(""));
	assert_false(shape_token("a\x01"));
}

#define SA "'serviceAccountName':'sa'"
#define S1 "{'actions':['s3:GetObject'],'resources':['*']}"
#define SPEC_STMTS(...) "{" SA ",'permissions':{'statements':[" __VA_ARGS__ "]}}"
#define SPEC_EXTRA(extra) "{" SA ",'permissions':{'statements':[" S1 "]}," extra "}"
#define ST0 "spec.permissions.statements[0]"
#define ST1 "spec.permissions.statements[1]"

static const struct {
	const char *spec;
	const char *message;
} invalid_specs[] = {
	/* service account */
	{ "{}", "spec.serviceAccountName: is required" },
	{ "{'serviceAccountName':5}", "spec.serviceAccountName: must be a string, not an integer" },
	{ "{'serviceAccountName':'Bad_Name'}",
	  "spec.serviceAccountName: 'Bad_Name' is not a valid service account name (DNS-1123 subdomain: lowercase "
	  "letters, digits, '-' and '.', at most 253 characters)" },
	{ "{'serviceAccountName':'-sa'}",
	  "spec.serviceAccountName: '-sa' is not a valid service account name (DNS-1123 subdomain: lowercase "
	  "letters, digits, '-' and '.', at most 253 characters)" },
	{ "{'serviceAccountName':''}",
	  "spec.serviceAccountName: '' is not a valid service account name (DNS-1123 subdomain: lowercase "
	  "letters, digits, '-' and '.', at most 253 characters)" },
	/* scalars */
	{ SPEC_EXTRA("'createServiceAccount':1"), "spec.createServiceAccount: must be true or false, not an integer" },
	{ SPEC_EXTRA("'audience':'a b'"), "spec.audience: 'a b' is not an audience (1..255 characters, no whitespace)" },
	{ SPEC_EXTRA("'audience':''"), "spec.audience: '' is not an audience (1..255 characters, no whitespace)" },
	{ SPEC_EXTRA("'audience':['x']"), "spec.audience: must be a string, not a list" },
	{ SPEC_EXTRA("'stsRegionalEndpoints':'yes'"), "spec.stsRegionalEndpoints: must be true or false, not a string" },
	{ SPEC_EXTRA("'maxSessionDuration':3599"), "spec.maxSessionDuration: 3599 is not within 3600..43200 seconds" },
	{ SPEC_EXTRA("'maxSessionDuration':43201"), "spec.maxSessionDuration: 43201 is not within 3600..43200 seconds" },
	{ SPEC_EXTRA("'maxSessionDuration':-1"), "spec.maxSessionDuration: -1 is not within 3600..43200 seconds" },
	{ SPEC_EXTRA("'maxSessionDuration':'1h'"), "spec.maxSessionDuration: must be an integer (seconds), not a string" },
	{ SPEC_EXTRA("'maxSessionDuration':3600.5"), "spec.maxSessionDuration: must be an integer (seconds), not a number" },
	{ SPEC_EXTRA("'restart':'Rollout'"), "spec.restart: 'Rollout' is not RolloutRestart, DeletePods or None" },
	{ SPEC_EXTRA("'restart':'rolloutrestart'"),
	  "spec.restart: 'rolloutrestart' is not RolloutRestart, DeletePods or None" },
	{ SPEC_EXTRA("'deletionPolicy':'delete'"), "spec.deletionPolicy: 'delete' is not Delete or Retain" },
	{ SPEC_EXTRA("'deletionPolicy':'Orphan'"), "spec.deletionPolicy: 'Orphan' is not Delete or Retain" },
	/* permissions */
	{ "{" SA "}", "spec.permissions: at least one of statements or managedPolicyArns is required" },
	{ "{" SA ",'permissions':{}}", "spec.permissions: at least one of statements or managedPolicyArns is required" },
	{ "{" SA ",'permissions':{'statements':[],'managedPolicyArns':[]}}",
	  "spec.permissions: at least one of statements or managedPolicyArns is required" },
	{ "{" SA ",'permissions':[]}", "spec.permissions: must be an object, not a list" },
	{ "{" SA ",'permissions':{'statements':{}}}", "spec.permissions.statements: must be a list, not an object" },
	{ SPEC_STMTS("'x'"), ST0 ": must be an object, not a string" },
	{ SPEC_STMTS(S1 ",{'sid':'has-dash','actions':['s3:GetObject'],'resources':['*']}"),
	  ST1 ".sid: 'has-dash' is not a statement id (at most 128 letters and digits)" },
	{ SPEC_STMTS("{'sid':'A','actions':['s3:GetObject'],'resources':['*']},"
		     "{'sid':'A','actions':['s3:PutObject'],'resources':['*']}"),
	  ST1 ".sid: 'A' is already the sid of statements[0]" },
	{ SPEC_STMTS("{'sid':7,'actions':['s3:GetObject'],'resources':['*']}"), ST0 ".sid: must be a string, not an integer" },
	{ SPEC_STMTS("{'effect':'allow','actions':['s3:GetObject'],'resources':['*']}"),
	  ST0 ".effect: 'allow' is not Allow or Deny" },
	/* actions */
	{ SPEC_STMTS("{'resources':['*']}"), ST0 ".actions: must not be empty" },
	{ SPEC_STMTS("{'actions':[],'resources':['*']}"), ST0 ".actions: must not be empty" },
	{ SPEC_STMTS("{'actions':'s3:GetObject','resources':['*']}"), ST0 ".actions: must be a list, not a string" },
	{ SPEC_STMTS(S1 ",{'actions':['iam'],'resources':['*']}"),
	  ST1 ".actions[0]: 'iam' is not an action (service:Action, or \"*\")" },
	{ SPEC_STMTS("{'actions':['s3:GetObject','S3:PutObject'],'resources':['*']}"),
	  ST0 ".actions[1]: 'S3:PutObject' is not an action (service:Action, or \"*\")" },
	{ SPEC_STMTS("{'actions':['s3:Get Object'],'resources':['*']}"),
	  ST0 ".actions[0]: 's3:Get Object' is not an action (service:Action, or \"*\")" },
	{ SPEC_STMTS("{'actions':['*:*'],'resources':['*']}"),
	  ST0 ".actions[0]: '*:*' is not an action (service:Action, or \"*\")" },
	{ SPEC_STMTS("{'actions':[5],'resources':['*']}"), ST0 ".actions[0]: must be a string, not an integer" },
	/* resources */
	{ SPEC_STMTS("{'actions':['s3:GetObject']}"), ST0 ".resources: must not be empty" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['bucket']}"),
	  ST0 ".resources[0]: 'bucket' is neither \"*\" nor an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*','arn:aws-eu:s3:::b']}"),
	  ST0 ".resources[1]: 'arn:aws-eu:s3:::b' has an unknown partition (aws, aws-cn or aws-us-gov)" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['arn:aws:s3:::']}"),
	  ST0 ".resources[0]: 'arn:aws:s3:::' has an empty resource part" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['arn:aws:S3:::b']}"),
	  ST0 ".resources[0]: 'arn:aws:S3:::b' has an invalid service (lowercase letters, digits, '-', wildcards)" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['arn:aws:sqs:US-east-1:123456789012:q']}"),
	  ST0 ".resources[0]: 'arn:aws:sqs:US-east-1:123456789012:q' has an invalid region (lowercase letters, "
	      "digits, '-', wildcards)" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['arn:aws:sqs:us-east-1:12345678901x:q']}"),
	  ST0 ".resources[0]: 'arn:aws:sqs:us-east-1:12345678901x:q' has an invalid account (12 digits, \"aws\", "
	      "wildcards or empty)" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['arn:aws:s3']}"),
	  ST0 ".resources[0]: 'arn:aws:s3' is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['arn:aws:s3:::b\\u0001']}"),
	  ST0 ".resources[0]: 'arn:aws:s3:::b?' contains a control character" },
	/* conditions */
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':[]}"),
	  ST0 ".conditions: must be an object (operator -> condition key -> values), not a list" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'StringEqual':{'k':['v']}}}"),
	  ST0 ".conditions[StringEqual]: 'StringEqual' is not an IAM condition operator" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'NullIfExists':{'k':['v']}}}"),
	  ST0 ".conditions[NullIfExists]: 'NullIfExists' is not an IAM condition operator" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'StringEquals':['v']}}"),
	  ST0 ".conditions[StringEquals]: must be an object (condition key -> values), not a list" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'StringEquals':{}}}"),
	  ST0 ".conditions[StringEquals]: must name at least one condition key" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'StringEquals':{'aws:SourceVpc':5}}}"),
	  ST0 ".conditions[StringEquals][aws:SourceVpc]: must be a list of strings, not an integer" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'Bool':{'aws:SecureTransport':[true]}}}"),
	  ST0 ".conditions[Bool][aws:SecureTransport][0]: must be a string, not a boolean" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'StringEquals':{'aws:SourceVpc':[]}}}"),
	  ST0 ".conditions[StringEquals][aws:SourceVpc]: must not be empty" },
	{ SPEC_STMTS("{'actions':['s3:GetObject'],'resources':['*'],'conditions':{'StringEquals':{'a b':['v']}}}"),
	  ST0 ".conditions[StringEquals][a b]: condition key must be 1..256 characters without spaces or control "
	      "characters" },
	/* managed policies */
	{ "{" SA ",'permissions':{'managedPolicyArns':['arn:aws:iam::aws:role/x']}}",
	  "spec.permissions.managedPolicyArns[0]: 'arn:aws:iam::aws:role/x' is not a managed policy ARN "
	  "(arn:<partition>:iam::<account id or aws>:policy/<name>)" },
	{ "{" SA ",'permissions':{'managedPolicyArns':['arn:aws:iam::aws:policy/A','arn:aws:iam::1234:policy/x']}}",
	  "spec.permissions.managedPolicyArns[1]: 'arn:aws:iam::1234:policy/x' is not a managed policy ARN "
	  "(arn:<partition>:iam::<account id or aws>:policy/<name>)" },
	{ "{" SA ",'permissions':{'managedPolicyArns':['arn:aws:iam::aws:policy/A','arn:aws:iam::aws:policy/B',"
	  "'arn:aws:iam::aws:policy/A']}}",
	  "spec.permissions.managedPolicyArns[2]: 'arn:aws:iam::aws:policy/A' is already managedPolicyArns[0]" },
	{ "{" SA ",'permissions':{'managedPolicyArns':'arn:aws:iam::aws:policy/A'}}",
	  "spec.permissions.managedPolicyArns: must be a list, not a string" },
	/* tags */
	{ SPEC_EXTRA("'tags':{'keyless.dev/cluster':'x'}"),
	  "spec.tags[keyless.dev/cluster]: tag keys starting with 'keyless.dev/' or 'aws:' are reserved" },
	{ SPEC_EXTRA("'tags':{'AWS:foo':'x'}"), "spec.tags[AWS:foo]: tag keys starting with 'keyless.dev/' or 'aws:' are reserved" },
	{ SPEC_EXTRA("'tags':{'a!':'x'}"),
	  "spec.tags[a!]: tag key must be 1..128 characters of letters, digits, spaces and _.:/=+-@" },
	{ SPEC_EXTRA("'tags':{'':'x'}"), "spec.tags[]: tag key must be 1..128 characters of letters, digits, spaces and _.:/=+-@" },
	{ SPEC_EXTRA("'tags':{'team':5}"), "spec.tags[team]: tag value must be a string, not an integer (quote it)" },
	{ SPEC_EXTRA("'tags':{'team':'a#b'}"),
	  "spec.tags[team]: tag value must be at most 256 characters of letters, digits, spaces and _.:/=+-@" },
	{ SPEC_EXTRA("'tags':{'Team':'a','team':'b'}"),
	  "spec.tags[team]: duplicates tag key 'Team' (IAM tag keys are case-insensitive)" },
	{ SPEC_EXTRA("'tags':['team']"), "spec.tags: must be a map of tag key to value, not a list" },
};

static void test_spec__invalid_specs_name_the_field(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid_specs); i++) {
		json_t *obj = test_wi_with_spec(invalid_specs[i].spec);

		expect_invalid(obj, invalid_specs[i].message);
		json_decref(obj);
	}
}

/* Sizes: one past each limit is rejected, the limit itself accepted. */
static void test_spec__limits(void **state)
{
	static const struct {
		const char *list;
		size_t limit;
		const char *item; /* JSON of one entry (#: a distinct number) */
		const char *message;
	} cases[] = {
		{ "statements", 50, "{\"actions\":[\"s3:GetObject\"],\"resources\":[\"arn:aws:s3:::b#\"]}",
		  "spec.permissions.statements: has 51 statements; at most 50 are allowed" },
		{ "actions", 100, "\"s3:Get#\"", ST0 ".actions: has 101 entries; at most 100 are allowed" },
		{ "resources", 100, "\"arn:aws:s3:::b#\"", ST0 ".resources: has 101 entries; at most 100 are allowed" },
		{ "managedPolicyArns", 20, "\"arn:aws:iam::aws:policy/P#\"",
		  "spec.permissions.managedPolicyArns: has 21 entries; at most 20 are allowed" },
		{ "tags", 40, "\"k#\":\"v\"", "spec.tags: has 41 tags; at most 40 are allowed" },
		{ "values", 50, "\"v#\"", ST0 ".conditions[StringEquals][k]: has 51 entries; at most 50 are allowed" },
	};

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		for (size_t n = cases[c].limit; n <= cases[c].limit + 1; n++) {
			char items[8192] = "", text[12288];
			json_error_t jerr;
			json_t *spec, *obj;
			size_t len = 0;

			for (size_t i = 0; i < n; i++) {
				if (i)
					items[len++] = ',';
				for (const char *t = cases[c].item; *t; t++) {
					if (*t == '#')
						len += (size_t)snprintf(items + len, sizeof(items) - len, "%zu", i);
					else if (len + 1 < sizeof(items))
						items[len++] = *t;
				}
				items[len] = '\0';
			}
			assert_true(len < sizeof(items));
			if (streq(cases[c].list, "statements"))
				snprintf(text, sizeof(text), "{\"serviceAccountName\":\"sa\",\"permissions\":{\"statements\":[%s]}}", items);
			else if (streq(cases[c].list, "actions"))
				snprintf(text, sizeof(text), "{\"serviceAccountName\":\"sa\",\"permissions\":{\"statements\":[{\"actions\":[%s],\"resources\":[\"*\"]}]}}", items);
			else if (streq(cases[c].list, "resources"))
				snprintf(text, sizeof(text), "{\"serviceAccountName\":\"sa\",\"permissions\":{\"statements\":[{\"actions\":[\"s3:GetObject\"],\"resources\":[%s]}]}}", items);
			else if (streq(cases[c].list, "managedPolicyArns"))
				snprintf(text, sizeof(text), "{\"serviceAccountName\":\"sa\",\"permissions\":{\"managedPolicyArns\":[%s]}}", items);
			else if (streq(cases[c].list, "tags"))
				snprintf(text, sizeof(text), "{\"serviceAccountName\":\"sa\",\"permissions\":{\"managedPolicyArns\":[\"arn:aws:iam::aws:policy/A\"]},\"tags\":{%s}}", items);
			else
				snprintf(text, sizeof(text), "{\"serviceAccountName\":\"sa\",\"permissions\":{\"statements\":[{\"actions\":[\"s3:GetObject\"],\"resources\":[\"*\"],\"conditions\":{\"StringEquals\":{\"k\":[%s]}}}]}}", items);
			spec = json_loads(text, 0, &jerr);
			if (!spec)
				fail_msg("%s: %s", cases[c].list, jerr.text);
			obj = json_pack("{s:{s:s, s:s, s:s}, s:o}", "metadata", "namespace", "ns", "name", "wi", "uid", "u",
					"spec", spec);
			if (n == cases[c].limit) {
				struct wi_spec *s = NULL;
				struct op_err err;

				if (wi_spec_parse(obj, &s, &err) != 0)
					fail_msg("%s at the limit: %s", cases[c].list, err.message);
				wi_spec_free(s);
			} else {
				expect_invalid(obj, cases[c].message);
			}
			json_decref(obj);
		}
	}
}

static void test_spec__invalid_metadata(void **state)
{
	static const struct {
		const char *obj;
		const char *message;
	} cases[] = {
		{ "[]", "(object): a WorkloadIdentity must be a JSON object" },
		{ "{'spec':{}}", "metadata: is required" },
		{ "{'metadata':'x'}", "metadata: must be an object, not a string" },
		{ "{'metadata':{'name':'a','uid':'u'}}", "metadata.namespace: a namespace name (DNS-1123 label) is required" },
		{ "{'metadata':{'namespace':'a.b','name':'a','uid':'u'}}",
		  "metadata.namespace: a namespace name (DNS-1123 label) is required" },
		{ "{'metadata':{'namespace':'ns','uid':'u'}}", "metadata.name: a name (DNS-1123 subdomain) is required" },
		{ "{'metadata':{'namespace':'ns','name':'Wi','uid':'u'}}", "metadata.name: a name (DNS-1123 subdomain) is required" },
		{ "{'metadata':{'namespace':'ns','name':'wi'}}", "metadata.uid: a uid is required" },
		{ "{'metadata':{'namespace':'ns','name':'wi','uid':'u','generation':'3'}}",
		  "metadata.generation: must be a non-negative integer" },
		{ "{'metadata':{'namespace':'ns','name':'wi','uid':'u','finalizers':'keyless.dev/cleanup'}}",
		  "metadata.finalizers: must be a list, not a string" },
		{ "{'metadata':{'namespace':'ns','name':'wi','uid':'u','deletionTimestamp':5}}",
		  "metadata.deletionTimestamp: must be a string, not an integer" },
		{ "{'metadata':{'namespace':'ns','name':'wi','uid':'u'}}", "spec: is required" },
		{ "{'metadata':{'namespace':'ns','name':'wi','uid':'u'},'spec':[]}", "spec: must be an object, not a list" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *obj = test_sq_json(cases[i].obj);

		expect_invalid(obj, cases[i].message);
		json_decref(obj);
	}
	expect_invalid(NULL, "(object): a WorkloadIdentity must be a JSON object");
}

/* Unknown spec fields (the API server prunes them) do not fail the parse, and
 * a stored trustPolicy/namespace could not change anything anyway. */
static void test_spec__unknown_fields_are_ignored(void **state)
{
	json_auto_t *obj = test_wi_with_spec("{'serviceAccountName':'sa','trustPolicy':{'x':1},'namespace':'kube-system',"
					"'permissions':{'statements':[" S1 "],'extra':1}}");
	_cleanup_(wi_spec_freep) struct wi_spec *s = NULL;

	(void)state;
	assert_int_equal(wi_spec_parse(obj, &s, NULL), 0);
	assert_string_equal(s->namespace, "ns");
}

/* A long hostile value is cut in the message, which keeps the rule. */
static void test_spec__long_values_are_quoted_short(void **state)
{
	char spec[1200], name[600];
	json_t *obj;
	struct op_err err;
	struct wi_spec *s = NULL;

	(void)state;
	memset(name, 'X', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(spec, sizeof(spec), "{'serviceAccountName':'%s'}", name);
	obj = test_wi_with_spec(spec);
	assert_int_equal(wi_spec_parse(obj, &s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "XXX...' is not a valid service account name (DNS-1123 subdomain"));
	assert_true(str_endswith(err.message, "at most 253 characters)"));
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec__full_object_from_the_api_server),
		cmocka_unit_test(test_spec__defaults_when_absent),
		cmocka_unit_test(test_spec__nulls_are_absent),
		cmocka_unit_test(test_spec__enums),
		cmocka_unit_test(test_spec__conditions),
		cmocka_unit_test(test_spec__valid_shapes),
		cmocka_unit_test(test_spec__invalid_shapes),
		cmocka_unit_test(test_spec__invalid_specs_name_the_field),
		cmocka_unit_test(test_spec__limits),
		cmocka_unit_test(test_spec__invalid_metadata),
		cmocka_unit_test(test_spec__unknown_fields_are_ignored),
		cmocka_unit_test(test_spec__long_values_are_quoted_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
