/* Unit tests for identity/settings. */
#include "support.h"

#include <jansson.h>

#include "base/clock.h"
#include "base/str.h"
#include "base/yamljson.h"
#include "identity/settings.h"

#define TD "controller/test/testdata/identity/"
#define BASE "clusterName: dev\npermissionsBoundaryArn: arn:aws:iam::123456789012:policy/b\n"

static int parse_yaml(const char *yaml, struct settings **ret, struct op_err *err)
{
	json_auto_t *doc = NULL;
	struct op_err yerr;

	if (yaml_to_json(yaml, strlen(yaml), &doc, &yerr) < 0)
		fail_msg("bad test YAML: %s", yerr.message);
	return settings_parse(doc, "test.yaml", ret, err);
}

static void expect_invalid(const char *yaml, const char *message)
{
	struct settings *sentinel = (struct settings *)&sentinel, *s = sentinel;
	struct op_err err;

	op_err_clear(&err);
	assert_int_equal(parse_yaml(yaml, &s, &err), -EINVAL);
	assert_ptr_equal(s, sentinel);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.reason, "InvalidSettings");
	if (!streq(err.message, message))
		fail_msg("for\n%s\n  got:  %s\n  want: %s", yaml, err.message, message);
}

static void assert_list(const struct str_array *a, const char *const *want, size_t n)
{
	assert_int_equal(a->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a->items[i], want[i]);
	assert_non_null(a->items);
	assert_null(a->items[n]);
}

static void test_settings__defaults(void **state)
{
	_cleanup_(settings_freep) struct settings *s = NULL;
	struct op_err err;
	static const char *const denied[] = { "iam:*", "sts:*", "organizations:*", "*" };
	static const char *const wildcard[] = { "cloudwatch:PutMetricData", "xray:PutTraceSegments",
						"xray:PutTelemetryRecords" };
	static const char *const excluded[] = { "kube-system" };
	static const char *const audiences[] = { "sts.amazonaws.com" };

	(void)state;
	if (settings_load(TD "settings-minimal.yaml", &s, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(s->cluster_name, "dev");
	assert_null(s->region);
	assert_null(s->account_id);
	assert_null(s->oidc_issuer);
	assert_true(s->manage_oidc_provider);
	assert_string_equal(s->role_name_prefix, "");
	assert_string_equal(s->role_path, "/keyless/");
	assert_string_equal(s->permissions_boundary_arn, "arn:aws:iam::123456789012:policy/keyless-boundary");
	assert_false(s->permissions_boundary_waived);
	assert_int_equal(s->default_max_session_duration, 3600);
	assert_int_equal(s->default_restart, WI_RESTART_ROLLOUT);
	assert_int_equal(s->resync_ns, 10 * 60 * NSEC_PER_SEC);
	assert_int_equal(s->n_extra_tags, 0);
	assert_int_equal(s->default_mode, WI_MODE_IRSA);
	assert_false(s->guardrails.allow_disable_session_tags);
	assert_list(&s->guardrails.allowed_actions, NULL, 0);
	assert_list(&s->guardrails.denied_actions, denied, ARRAY_SIZE(denied));
	assert_list(&s->guardrails.resource_wildcard_actions, wildcard, ARRAY_SIZE(wildcard));
	assert_list(&s->guardrails.managed_policy_arns, NULL, 0);
	assert_list(&s->guardrails.include_namespaces, NULL, 0);
	assert_list(&s->guardrails.exclude_namespaces, excluded, ARRAY_SIZE(excluded));
	/* tenants may set no tags, request only the STS audience, name any account */
	assert_false(s->guardrails.allow_controller_namespace);
	assert_list(&s->guardrails.allowed_tag_keys, NULL, 0);
	assert_list(&s->guardrails.allowed_audiences, audiences, ARRAY_SIZE(audiences));
	assert_list(&s->guardrails.resource_accounts, NULL, 0);
	assert_int_equal(s->enforcement, ENFORCE_REVOKE);
	assert_null(s->oidc_issuer_ca);
	/* adaptive, from the client's default, no ceiling */
	assert_int_equal(s->iam_rate.mode, IAM_RATE_ADAPTIVE);
	assert_true(s->iam_rate.max_per_second == 0 && s->iam_rate.initial_per_second == 0);
}

static void test_settings__every_key(void **state)
{
	_cleanup_(settings_freep) struct settings *s = NULL;
	struct op_err err;
	static const char *const allowed[] = { "s3:*", "sqs:Send*", "cloudwatch:PutMetricData" };
	static const char *const denied[] = { "s3:Delete*", "*" };
	static const char *const wildcard[] = { "cloudwatch:PutMetricData" };
	static const char *const policies[] = { "arn:aws:iam::aws:policy/ReadOnlyAccess",
						"arn:aws:iam::012345678901:policy/shared/*" };
	static const char *const included[] = { "team-*", "production", "staging" };
	static const char *const tag_keys[] = { "cost-center", "app.kubernetes.io/*" };
	static const char *const audiences[] = { "sts.amazonaws.com", "https://vault.example.com" };
	static const char *const accounts[] = { "012345678901", "aws" };

	(void)state;
	if (settings_load(TD "settings-full.yaml", &s, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(s->cluster_name, "prod-eu_1");
	assert_string_equal(s->region, "eu-central-1");
	assert_string_equal(s->account_id, "012345678901");
	/* the trailing slash is stripped: IAM and the tokens' iss have none */
	assert_string_equal(s->oidc_issuer, "https://oidc.eks.eu-central-1.amazonaws.com/id/ABCDEF0123456789");
	assert_false(s->manage_oidc_provider);
	assert_string_equal(s->role_name_prefix, "k8s-");
	assert_string_equal(s->role_path, "/keyless/prod/");
	assert_string_equal(s->permissions_boundary_arn, "arn:aws:iam::012345678901:policy/keyless-boundary");
	assert_int_equal(s->default_max_session_duration, 7200);
	assert_int_equal(s->default_restart, WI_RESTART_NONE);
	assert_int_equal(s->resync_ns, 90 * 60 * NSEC_PER_SEC);
	assert_int_equal(s->n_extra_tags, 2);
	assert_string_equal(s->extra_tags[0].key, "owner");
	assert_string_equal(s->extra_tags[0].value, "platform");
	assert_string_equal(s->extra_tags[1].key, "env");
	assert_list(&s->guardrails.allowed_actions, allowed, ARRAY_SIZE(allowed));
	assert_list(&s->guardrails.denied_actions, denied, ARRAY_SIZE(denied));
	assert_list(&s->guardrails.resource_wildcard_actions, wildcard, ARRAY_SIZE(wildcard));
	assert_list(&s->guardrails.managed_policy_arns, policies, ARRAY_SIZE(policies));
	assert_list(&s->guardrails.include_namespaces, included, ARRAY_SIZE(included));
	assert_list(&s->guardrails.exclude_namespaces, NULL, 0); /* [] means none, not the default */
	assert_true(s->guardrails.allow_controller_namespace);
	assert_list(&s->guardrails.allowed_tag_keys, tag_keys, ARRAY_SIZE(tag_keys));
	assert_list(&s->guardrails.allowed_audiences, audiences, ARRAY_SIZE(audiences));
	assert_list(&s->guardrails.resource_accounts, accounts, ARRAY_SIZE(accounts));
	assert_int_equal(s->enforcement, ENFORCE_KEEP);
	assert_int_equal(s->iam_rate.mode, IAM_RATE_ADAPTIVE);
	assert_true(s->iam_rate.max_per_second == 40 && s->iam_rate.initial_per_second == 4.5);
	assert_string_equal(s->oidc_issuer_ca, "/etc/keyless/issuer-ca.pem");
}

static void test_settings__small_variants(void **state)
{
	struct settings *s = NULL;

	(void)state;
	/* waived: no boundary */
	assert_int_equal(parse_yaml("clusterName: dev\npermissionsBoundaryWaived: true\n", &s, NULL), 0);
	assert_null(s->permissions_boundary_arn);
	assert_true(s->permissions_boundary_waived);
	settings_free(s);
	/* waived and set: the boundary is still used */
	assert_int_equal(parse_yaml(BASE "permissionsBoundaryWaived: true\n", &s, NULL), 0);
	assert_string_equal(s->permissions_boundary_arn, "arn:aws:iam::123456789012:policy/b");
	settings_free(s);
	/* a bare number of seconds; the limits themselves */
	assert_int_equal(parse_yaml(BASE "resyncPeriod: 600\ndefaultMaxSessionDuration: 43200\n", &s, NULL), 0);
	assert_int_equal(s->resync_ns, 600 * NSEC_PER_SEC);
	assert_int_equal(s->default_max_session_duration, 43200);
	settings_free(s);
	assert_int_equal(parse_yaml(BASE "resyncPeriod: 10s\nrolePath: /\ndefaultRestart: DeletePods\n"
				     "region: us-gov-west-1\noidcIssuer: https://127.0.0.1:6443\n"
				     "guardrails: {deniedActions: null}\n",
				     &s, NULL),
			 0);
	assert_int_equal(s->resync_ns, 10 * NSEC_PER_SEC);
	assert_string_equal(s->role_path, "/");
	assert_int_equal(s->default_restart, WI_RESTART_DELETE_PODS);
	assert_string_equal(s->region, "us-gov-west-1");
	assert_string_equal(s->oidc_issuer, "https://127.0.0.1:6443");
	assert_int_equal(s->guardrails.denied_actions.n, 4); /* null: the default */
	settings_free(s);
	/* iamRateLimit: adaptive with a ceiling; fixed; fractional rates */
	assert_int_equal(parse_yaml(BASE "iamRateLimit: {maxPerSecond: 50, initialPerSecond: 5}\n", &s, NULL), 0);
	assert_int_equal(s->iam_rate.mode, IAM_RATE_ADAPTIVE);
	assert_true(s->iam_rate.max_per_second == 50 && s->iam_rate.initial_per_second == 5);
	settings_free(s);
	assert_int_equal(parse_yaml(BASE "iamRateLimit: {mode: fixed, maxPerSecond: 2.5}\n", &s, NULL), 0);
	assert_int_equal(s->iam_rate.mode, IAM_RATE_FIXED);
	assert_true(s->iam_rate.max_per_second == 2.5);
	settings_free(s);
	assert_int_equal(parse_yaml(BASE "iamRateLimit: {mode: adaptive, initialPerSecond: 40}\n", &s, NULL), 0);
	assert_true(s->iam_rate.max_per_second == 0 && s->iam_rate.initial_per_second == 40);
	settings_free(s);
	/* roles shared by the account's clusters; a raised trust-policy quota */
	assert_int_equal(parse_yaml(BASE "roleScope: Account\ntrustPolicySizeQuota: 8192\n", &s, NULL), 0);
	assert_int_equal(s->role_scope, ROLE_SCOPE_ACCOUNT);
	assert_int_equal(s->trust_policy_size_quota, 8192);
	settings_free(s);
	assert_int_equal(parse_yaml(BASE, &s, NULL), 0);
	assert_int_equal(s->role_scope, ROLE_SCOPE_CLUSTER);
	assert_int_equal(s->trust_policy_size_quota, 0); /* ask IAM */
	assert_int_equal(s->n_accounts, 0);
	settings_free(s);
	/* other accounts */
	assert_int_equal(parse_yaml(BASE "accounts:\n"
				     "  - {accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k,\n"
				     "     externalId: ext-1, namespaces: [team-*]}\n"
				     "  - {accountId: '310987654321', roleArn: arn:aws:iam::310987654321:role/path/k,\n"
				     "     permissionsBoundaryArn: arn:aws:iam::310987654321:policy/b3}\n",
				     &s, NULL),
			 0);
	assert_int_equal(s->n_accounts, 2);
	assert_string_equal(s->accounts[0].external_id, "ext-1");
	assert_string_equal(s->accounts[0].namespaces.items[0], "team-*");
	assert_null(s->accounts[0].boundary_arn);
	assert_string_equal(s->accounts[1].boundary_arn, "arn:aws:iam::310987654321:policy/b3");
	assert_int_equal(s->accounts[1].namespaces.n, 0);
	settings_free(s);
	settings_free(NULL);
}

static void test_settings__unknown_keys_suggest(void **state)
{
	struct op_err err;
	struct settings *s = NULL;

	(void)state;
	expect_invalid(BASE "clustername: prod\n", "settings test.yaml: unknown key 'clustername' (did you mean 'clusterName'?)");
	/* far in edits, equal without case */
	expect_invalid(BASE "MANAGEOIDCPROVIDER: true\n",
		       "settings test.yaml: unknown key 'MANAGEOIDCPROVIDER' (did you mean 'manageOidcProvider'?)");
	expect_invalid(BASE "regoin: us-east-1\n", "settings test.yaml: unknown key 'regoin' (did you mean 'region'?)");
	expect_invalid(BASE "rolepath: /x/\n", "settings test.yaml: unknown key 'rolepath' (did you mean 'rolePath'?)");
	expect_invalid(BASE "extraTag: {}\n", "settings test.yaml: unknown key 'extraTag' (did you mean 'extraTags'?)");
	expect_invalid(BASE "color: blue\n", "settings test.yaml: unknown key 'color'");
	expect_invalid(BASE "guardrails: {allowedactions: []}\n",
		       "settings test.yaml: guardrails: unknown key 'allowedactions' (did you mean 'allowedActions'?)");
	expect_invalid(BASE "guardrails: {namespaces: []}\n", "settings test.yaml: guardrails: unknown key 'namespaces'");
	/* an unknown key is reported before a missing one: the typo is the cause */
	expect_invalid("clustername: dev\n", "settings test.yaml: unknown key 'clustername' (did you mean 'clusterName'?)");

	assert_int_equal(settings_load(TD "settings-typo.yaml", &s, &err), -EINVAL);
	assert_string_equal(err.message, "settings " TD "settings-typo.yaml: guardrails: unknown key 'deniedAction' "
					 "(did you mean 'deniedActions'?)");
}

static void test_settings__load_errors(void **state)
{
	struct settings *s = NULL;
	struct op_err err;
	char path[] = "/tmp/keyless-settings-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(settings_load(TD "no-such-file.yaml", &s, &err), -ENOENT);
	assert_string_equal(err.message, "settings " TD "no-such-file.yaml: No such file or directory");
	assert_null(s);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "clusterName: [dev\n", 18), 18);
	close(fd);
	assert_int_equal(settings_load(path, &s, &err), -EINVAL);
	assert_true(str_startswith(err.message, "settings /tmp/keyless-settings-"));
	assert_non_null(strstr(err.message, "YAML line"));
	assert_string_equal(err.reason, "InvalidSettings");
	assert_null(s);
	unlink(path);

	expect_invalid("", "settings test.yaml: clusterName: is required (the EKS cluster name; it is part of every role name)");
	expect_invalid("- a\n", "settings test.yaml: must be a YAML map of settings, not a list");
}

static const struct {
	const char *yaml;
	const char *message;
} invalid[] = {
	{ "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/b\n",
	  "clusterName: is required (the EKS cluster name; it is part of every role name)" },
	{ "clusterName: 5\npermissionsBoundaryWaived: true\n", "clusterName: must be a string, not an integer" },
	{ "clusterName: -dev\npermissionsBoundaryWaived: true\n",
	  "clusterName: '-dev' is not a cluster name (1..100 letters, digits, '-' and '_', starting with a letter or digit)" },
	{ "clusterName: dev.local\npermissionsBoundaryWaived: true\n",
	  "clusterName: 'dev.local' is not a cluster name (1..100 letters, digits, '-' and '_', starting with a letter or digit)" },
	{ "clusterName: dev\n",
	  "permissionsBoundaryArn: is required: every role keyless creates gets this permissions boundary (set "
	  "permissionsBoundaryWaived: true to run without one, not recommended)" },
	{ "clusterName: dev\npermissionsBoundaryWaived: false\n",
	  "permissionsBoundaryArn: is required: every role keyless creates gets this permissions boundary (set "
	  "permissionsBoundaryWaived: true to run without one, not recommended)" },
	{ "clusterName: dev\npermissionsBoundaryArn: arn:aws:iam::123456789012:role/b\n",
	  "permissionsBoundaryArn: 'arn:aws:iam::123456789012:role/b' is not a managed policy ARN "
	  "(arn:<partition>:iam::<account id or aws>:policy/<name>)" },
	{ "clusterName: dev\npermissionsBoundaryWaived: yes\n",
	  "permissionsBoundaryWaived: must be true or false, not a string" },
	{ BASE "region: us-east\n", "region: 'us-east' is not an AWS region (like us-east-1)" },
	{ BASE "region: US-east-1\n", "region: 'US-east-1' is not an AWS region (like us-east-1)" },
	{ BASE "region: useast-1\n", "region: 'useast-1' is not an AWS region (like us-east-1)" },
	{ BASE "region: us--east-1\n", "region: 'us--east-1' is not an AWS region (like us-east-1)" },
	{ BASE "accountId: 123456789012\n", "accountId: must be a quoted string (accountId: \"123456789012\"), not a number" },
	{ BASE "accountId: \"12345\"\n", "accountId: '12345' is not an AWS account id (12 digits)" },
	{ BASE "accountId: \"12345678901a\"\n", "accountId: '12345678901a' is not an AWS account id (12 digits)" },
	{ BASE "oidcIssuer: http://issuer\n", "oidcIssuer: 'http://issuer' is not an https:// URL without query or fragment" },
	{ BASE "oidcIssuer: https://issuer/?a=b\n",
	  "oidcIssuer: 'https://issuer/?a=b' is not an https:// URL without query or fragment" },
	{ BASE "oidcIssuer: https:///\n", "oidcIssuer: 'https:///' has no host" },
	{ BASE "manageOidcProvider: 1\n", "manageOidcProvider: must be true or false, not an integer" },
	{ BASE "roleNamePrefix: a/b\n", "roleNamePrefix: 'a/b' is not a role name prefix (at most 32 letters, digits and +=,.@_-)" },
	{ BASE "roleNamePrefix: abcdefghijklmnopqrstuvwxyz0123456\n",
	  "roleNamePrefix: 'abcdefghijklmnopqrstuvwxyz0123456' is not a role name prefix (at most 32 letters, digits "
	  "and +=,.@_-)" },
	{ BASE "rolePath: keyless/\n", "rolePath: 'keyless/' must start and end with '/' (like /keyless/)" },
	{ BASE "rolePath: /keyless\n", "rolePath: '/keyless' must start and end with '/' (like /keyless/)" },
	{ BASE "rolePath: /a b/\n", "rolePath: '/a b/' may only contain printable ASCII without spaces" },
	{ BASE "defaultMaxSessionDuration: 3599\n", "defaultMaxSessionDuration: 3599 is not within 3600..43200 seconds" },
	{ BASE "defaultMaxSessionDuration: 43201\n", "defaultMaxSessionDuration: 43201 is not within 3600..43200 seconds" },
	{ BASE "defaultMaxSessionDuration: 1h\n", "defaultMaxSessionDuration: must be an integer (seconds), not a string" },
	{ BASE "defaultRestart: Rollout\n", "defaultRestart: 'Rollout' is not RolloutRestart, DeletePods or None" },
	{ BASE "resyncPeriod: 9s\n", "resyncPeriod: '9s' is not within 10s..24h" },
	{ BASE "resyncPeriod: 25h\n", "resyncPeriod: '25h' is not within 10s..24h" },
	{ BASE "resyncPeriod: 9999999999h\n", "resyncPeriod: '9999999999h' is not within 10s..24h" },
	{ BASE "resyncPeriod: ten minutes\n", "resyncPeriod: 'ten minutes' is not a duration (like 10m or 1h30m)" },
	{ BASE "resyncPeriod: [1]\n", "resyncPeriod: must be a duration like 10m or 1h30m" },
	{ BASE "extraTags: [a]\n", "extraTags: must be a map of tag key to value, not a list" },
	{ BASE "extraTags: {keyless.dev/cluster: x}\n",
	  "extraTags[keyless.dev/cluster]: tag keys starting with 'keyless.dev/' or 'aws:' are reserved" },
	{ BASE "extraTags: {cost: 42}\n", "extraTags[cost]: tag value must be a string, not an integer (quote it)" },
	{ BASE "extraTags: {a: '1', b: '2', c: '3', d: '4', e: '5', f: '6'}\n",
	  "extraTags: has 6 tags; at most 5 are allowed" },
	{ BASE "guardrailEnforcement: Revoke\n", "guardrailEnforcement: 'Revoke' is not revoke or keep" },
	{ BASE "driftDetection: GetAccountAuthorizationDetails\n",
	  "driftDetection: 'GetAccountAuthorizationDetails' is not roles or bulk" },
	{ BASE "defaultMode: PodIdentityAgent\n", "defaultMode: 'PodIdentityAgent' is not IRSA, PodIdentity or Auto" },
	{ BASE "roleScope: account\n", "roleScope: 'account' is not Cluster or Account" },
	{ BASE "accounts: {accountId: '210987654321'}\n", "accounts: must be a list of {accountId, roleArn}, not an object" },
	{ BASE "accounts: [{accountId: 210987654321, roleArn: arn:aws:iam::210987654321:role/k}]\n",
	  "accounts[0].accountId: must be a string, not an integer" },
	{ BASE "accounts: [{accountId: '2109', roleArn: arn:aws:iam::210987654321:role/k}]\n",
	  "accounts[0].accountId: '2109' is not an AWS account id (a quoted string of 12 digits)" },
	{ BASE "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::111111111111:role/k}]\n",
	  "accounts[0].roleArn: 'arn:aws:iam::111111111111:role/k' is not a role ARN in account 210987654321 "
	  "(keyless assumes it to manage roles there)" },
	{ BASE "accounts: [{accountId: '210987654321'}]\n",
	  "accounts[0].roleArn: (missing) is not a role ARN in account 210987654321 (keyless assumes it to manage "
	  "roles there)" },
	{ BASE "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k, roleARN: x}]\n",
	  "accounts[0]: unknown key 'roleARN' (did you mean 'roleArn'?)" },
	{ BASE "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k, "
	  "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/b}]\n",
	  "accounts[0].permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/b' is not a managed policy ARN in "
	  "account 210987654321" },
	{ BASE "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k, namespaces: [Team]}]\n",
	  "accounts[0].namespaces[0]: 'Team' is not a namespace pattern (lowercase letters, digits, '-', and the "
	  "wildcards * and ?)" },
	{ BASE "accountId: '123456789012'\naccounts: [{accountId: '123456789012', "
	  "roleArn: arn:aws:iam::123456789012:role/k}]\n",
	  "accounts[0].accountId: '123456789012' is the cluster's own account (accountId): list only other accounts" },
	{ BASE "accounts: [{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/k}, "
	  "{accountId: '210987654321', roleArn: arn:aws:iam::210987654321:role/j}]\n",
	  "accounts[1].accountId: '210987654321' is listed twice (also accounts[0])" },
	{ BASE "trustPolicySizeQuota: 10000\n", "trustPolicySizeQuota: 10000 is not within 2048..8192 characters" },
	{ BASE "trustPolicySizeQuota: 4k\n", "trustPolicySizeQuota: must be an integer (characters), not a string" },
	{ BASE "guardrails: {allowDisableSessionTags: 'yes'}\n",
	  "guardrails.allowDisableSessionTags: must be true or false, not a string" },
	{ BASE "iamRateLimit: 20\n",
	  "iamRateLimit: must be a map (mode, maxPerSecond, initialPerSecond), not an integer" },
	{ BASE "iamRateLimit: {mode: cubic}\n", "iamRateLimit.mode: 'cubic' is not adaptive or fixed" },
	{ BASE "iamRateLimit: {maxpersecond: 20}\n", "iamRateLimit: unknown key 'maxpersecond' (did you mean 'maxPerSecond'?)" },
	{ BASE "iamRateLimit: {maxPerSecond: '20'}\n",
	  "iamRateLimit.maxPerSecond: must be a number of calls per second (like 20), not a string" },
	{ BASE "iamRateLimit: {maxPerSecond: 0}\n", "iamRateLimit.maxPerSecond: 0 is not within 0.5..1000 calls per second" },
	{ BASE "iamRateLimit: {initialPerSecond: 5000}\n",
	  "iamRateLimit.initialPerSecond: 5000 is not within 0.5..1000 calls per second" },
	{ BASE "iamRateLimit: {mode: fixed}\n",
	  "iamRateLimit.maxPerSecond: is required with mode: fixed (the IAM calls per second keyless may send)" },
	{ BASE "iamRateLimit: {mode: fixed, maxPerSecond: 10, initialPerSecond: 5}\n",
	  "iamRateLimit.initialPerSecond: applies to mode: adaptive only; remove it, or set mode: adaptive" },
	{ BASE "iamRateLimit: {maxPerSecond: 10, initialPerSecond: 15}\n",
	  "iamRateLimit.initialPerSecond: 15 is above maxPerSecond (10): lower it, or raise the ceiling" },
	{ BASE "oidcIssuerCA: ca.pem\n", "oidcIssuerCA: 'ca.pem' is not an absolute path to a PEM file" },
	{ BASE "guardrails: {allowControllerNamespace: 'yes'}\n",
	  "guardrails.allowControllerNamespace: must be true or false, not a string" },
	{ BASE "guardrails: {allowedTagKeys: ['team!']}\n",
	  "guardrails.allowedTagKeys[0]: 'team!' is not a tag key pattern (1..128 letters, digits, spaces, _.:/=+-@ "
	  "and the wildcards * and ?)" },
	{ BASE "guardrails: {allowedAudiences: ['sts.*']}\n",
	  "guardrails.allowedAudiences[0]: 'sts.*' is not an audience keyless can manage (1..255 letters, digits and "
	  "_.:/=+-@, no wildcards)" },
	{ BASE "guardrails: {resourceAccounts: ['*']}\n",
	  "guardrails.resourceAccounts[0]: '*' is not an AWS account id (12 digits, or \"aws\" for AWS-owned "
	  "resources)" },
	{ BASE "guardrails: []\n", "guardrails: must be a map, not a list" },
	{ BASE "guardrails: {deniedActions: iam:*}\n", "guardrails.deniedActions: must be a list, not a string" },
	{ BASE "guardrails: {deniedActions: ['iam:*', 'sts:*', iam]}\n",
	  "guardrails.deniedActions[2]: 'iam' is not an action pattern (service:Action, or \"*\")" },
	{ BASE "guardrails: {allowedActions: ['S3:Get*']}\n",
	  "guardrails.allowedActions[0]: 'S3:Get*' is not an action pattern (service:Action, or \"*\")" },
	{ BASE "guardrails: {resourceWildcardActions: [5]}\n",
	  "guardrails.resourceWildcardActions[0]: must be a string, not an integer" },
	{ BASE "guardrails: {managedPolicyArns: [ReadOnlyAccess]}\n",
	  "guardrails.managedPolicyArns[0]: 'ReadOnlyAccess' is not a managed policy ARN or ARN pattern" },
	{ BASE "guardrails: {managedPolicyArns: ['arn:aws:iam::aws:role/x']}\n",
	  "guardrails.managedPolicyArns[0]: 'arn:aws:iam::aws:role/x' is not a managed policy ARN "
	  "(arn:<partition>:iam::<account id or aws>:policy/<name>)" },
	{ BASE "guardrails: {includeNamespaces: [Prod]}\n",
	  "guardrails.includeNamespaces[0]: 'Prod' is not a namespace pattern (lowercase letters, digits, '-', and "
	  "the wildcards * and ?)" },
	{ BASE "guardrails: {excludeNamespaces: ['']}\n",
	  "guardrails.excludeNamespaces[0]: '' is not a namespace pattern (lowercase letters, digits, '-', and the "
	  "wildcards * and ?)" },
};

static void test_settings__invalid_settings_name_the_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		char want[600];

		snprintf(want, sizeof(want), "settings test.yaml: %s", invalid[i].message);
		expect_invalid(invalid[i].yaml, want);
	}
}

static void test_settings__list_cap(void **state)
{
	char yaml[8192];
	size_t len = (size_t)snprintf(yaml, sizeof(yaml), BASE "guardrails:\n  deniedActions:\n");

	(void)state;
	for (int i = 0; i < 257; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len, "  - s3:A%d\n", i);
	assert_true(len < sizeof(yaml));
	expect_invalid(yaml, "settings test.yaml: guardrails.deniedActions: has 257 entries; at most 256 are allowed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings__defaults),
		cmocka_unit_test(test_settings__every_key),
		cmocka_unit_test(test_settings__small_variants),
		cmocka_unit_test(test_settings__unknown_keys_suggest),
		cmocka_unit_test(test_settings__load_errors),
		cmocka_unit_test(test_settings__invalid_settings_name_the_key),
		cmocka_unit_test(test_settings__list_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
