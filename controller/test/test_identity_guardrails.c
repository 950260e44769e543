/* Unit tests for identity/guardrails: the glob algebra, then the rules. */
#include "support.h"

#include <jansson.h>

#include "base/yamljson.h"
#include "identity/guardrails.h"
#include "identity/shape.h"

/* --- glob_match / glob_overlap / glob_covers -------------------------------- */

static const struct {
	const char *pattern, *text;
	bool nocase, want;
} match_cases[] = {
	{ "s3:Get*", "s3:GetObject", false, true },
	{ "s3:Get*", "s3:Get", false, true },
	{ "s3:Get*", "s3:PutObject", false, false },
	{ "s3:Get?", "s3:Get", false, false },
	{ "s3:Get?", "s3:GetX", false, true },
	{ "s3:Get?", "s3:GetXY", false, false },
	{ "*", "", false, true },
	{ "", "", false, true },
	{ "", "a", false, false },
	{ "?", "", false, false },
	{ "**", "x", false, true },
	{ "a*b*c", "aXbYbZc", false, true },
	{ "a*b*c", "aXbYbZ", false, false },
	{ "*a", "bbba", false, true },
	{ "a*?", "a", false, false },
	{ "a*?", "ab", false, true },
	{ "*:*", "s3:GetObject", false, true },
	{ "*:*", "s3GetObject", false, false },
	{ "IAM:*", "iam:PassRole", true, true },
	{ "IAM:*", "iam:PassRole", false, false },
	{ "iam:passrole", "iam:PassRole", true, true },
	{ "kube-*", "kube-system", false, true },
	{ "kube-*", "kube", false, false },
	{ "kube-*", "KUBE-system", false, false }, /* namespaces: case-sensitive */
	{ "arn:aws:iam::aws:policy/*", "arn:aws:iam::aws:policy/ReadOnlyAccess", false, true },
};

static void test_glob__match(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
		if (glob_match(match_cases[i].pattern, match_cases[i].text, match_cases[i].nocase) != match_cases[i].want)
			fail_msg("glob_match(%s, %s, nocase=%d) != %d", match_cases[i].pattern, match_cases[i].text,
				 match_cases[i].nocase, match_cases[i].want);
	}
}

static const struct {
	const char *a, *b;
	bool nocase, want;
} overlap_cases[] = {
	{ "s3:Get?", "s3:Get*", false, true },
	{ "s3:*", "s3:Delete*", false, true },
	{ "*", "iam:PassRole", false, true },
	{ "iam:*", "s3:*", false, false },
	{ "s3:Get?", "s3:GetObject", false, false },
	{ "s3:Get??", "s3:Get*t", false, true }, /* s3:Getxt */
	{ "a*b", "b*a", false, false },
	{ "a*", "*b", false, true },              /* ab */
	{ "?", "", false, false },
	{ "*", "", false, true },
	{ "", "", false, true },
	{ "a?c", "?b?", false, true },            /* abc */
	{ "abc", "abd", false, false },
	{ "iam:*", "IAM:PassRole", true, true },
	{ "iam:*", "IAM:PassRole", false, false },
	{ "*a*", "*b*", false, true },
	{ "s3:Get*Tagging", "s3:*Object", false, false },
	{ "s3:Get*", "s3:*Tagging", false, true },
	{ "s3:Delete*", "s3:D?l*", false, true },
	{ "s3:Delete*", "s3:Dx*", false, false },
	{ "ab*", "?", false, false },             /* too short */
	{ "a*a*a", "aa", false, false },
	{ "a*a*a", "a??", false, true },
};

static void test_glob__overlap(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(overlap_cases); i++) {
		const char *a = overlap_cases[i].a, *b = overlap_cases[i].b;
		bool nc = overlap_cases[i].nocase, want = overlap_cases[i].want;

		if (glob_overlap(a, b, nc) != want || glob_overlap(b, a, nc) != want)
			fail_msg("glob_overlap(%s, %s, nocase=%d) != %d (either order)", a, b, nc, want);
	}
}

static const struct {
	const char *outer, *inner;
	bool nocase, want;
} covers_cases[] = {
	{ "s3:Get*", "s3:Get?", false, true },
	{ "s3:Get?", "s3:Get*", false, false },
	{ "s3:*", "s3:Get*", false, true },
	{ "s3:Get*", "s3:*", false, false },
	{ "*", "anything*?", false, true },
	{ "*", "*", false, true },
	{ "*:*", "*", false, false },   /* "*" also matches strings without ':' */
	{ "*:*", "s3:*", false, true },
	{ "s3:Get?", "s3:Get?", false, true },
	{ "s3:GetX", "s3:Get?", false, false },
	{ "s3:Get?", "s3:GetX", false, true },
	{ "s3:GetObject", "s3:GetObject", false, true },
	{ "s3:GetObject", "s3:GetObjects", false, false },
	{ "a*b", "a*b", false, true },
	{ "a*", "a**", false, true },
	{ "a*b*", "a*c*b*", false, true },
	{ "a*c", "a*", false, false },
	{ "IAM:*", "iam:PassRole", true, true },
	{ "IAM:*", "iam:PassRole", false, false },
	{ "s3:get*", "s3:GetObject", true, true },
	{ "cloudwatch:PutMetricData", "cloudwatch:Put*", false, false },
};

static void test_glob__covers(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(covers_cases); i++) {
		if (glob_covers(covers_cases[i].outer, covers_cases[i].inner, covers_cases[i].nocase) !=
		    covers_cases[i].want)
			fail_msg("glob_covers(%s, %s, nocase=%d) != %d", covers_cases[i].outer, covers_cases[i].inner,
				 covers_cases[i].nocase, covers_cases[i].want);
	}
}

/* Reference matcher: plain recursion, obviously right. */
static bool ref_match(const char *p, const char *t)
{
	if (!*p)
		return !*t;
	if (*p == '*')
		return ref_match(p + 1, t) || (*t && ref_match(p, t + 1));
	return *t && (*p == '?' || *p == *t) && ref_match(p + 1, t + 1);
}

#define N_STRINGS 1093 /* strings over {a,b,c} of length 0..6: (3^7 - 1) / 2 */
#define N_WORDS ((N_STRINGS + 63) / 64)

static void nth_string(size_t k, char *out)
{
	size_t len = 0, count = 1;

	while (k >= count) { /* find the length */
		k -= count;
		count *= 3;
		len++;
	}
	for (size_t i = 0; i < len; i++) {
		out[len - 1 - i] = (char)('a' + k % 3);
		k /= 3;
	}
	out[len] = '\0';
}

/* Every pattern of length 0..3 over {a, b, *, ?} against every string over
 * {a, b, c} of length 0..6: glob_match equals the reference; glob_overlap is
 * exact (a shortest common string has at most len(a) + len(b) <= 6
 * characters, each produced by a non-star of one pattern); glob_covers is
 * sound (inner's matches within outer's). */
static void test_glob__exhaustive_small_alphabet(void **state)
{
	static const char sym[] = "ab*?";
	char pats[85][4], strs[N_STRINGS][8];
	uint64_t sets[85][N_WORDS];
	size_t np = 0, covers_true = 0;

	(void)state;
	for (size_t len = 0; len <= 3; len++) {
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= 4;
		for (size_t k = 0; k < total; k++) {
			size_t v = k;

			for (size_t i = 0; i < len; i++, v /= 4)
				pats[np][i] = sym[v % 4];
			pats[np++][len] = '\0';
		}
	}
	assert_int_equal(np, 85);
	for (size_t k = 0; k < N_STRINGS; k++)
		nth_string(k, strs[k]);
	assert_string_equal(strs[N_STRINGS - 1], "cccccc");
	memset(sets, 0, sizeof(sets));
	for (size_t p = 0; p < np; p++) {
		for (size_t k = 0; k < N_STRINGS; k++) {
			bool m = glob_match(pats[p], strs[k], false);

			if (m != ref_match(pats[p], strs[k]))
				fail_msg("glob_match(%s, %s) != reference", pats[p], strs[k]);
			if (m)
				sets[p][k / 64] |= UINT64_C(1) << (k % 64);
		}
	}
	for (size_t a = 0; a < np; a++) {
		for (size_t b = 0; b < np; b++) {
			bool common = false, subset = true;

			for (size_t w = 0; w < N_WORDS; w++) {
				common |= (sets[a][w] & sets[b][w]) != 0;
				subset &= (sets[b][w] & ~sets[a][w]) == 0;
			}
			if (glob_overlap(pats[a], pats[b], false) != common)
				fail_msg("glob_overlap(%s, %s) != %d", pats[a], pats[b], common);
			if (glob_covers(pats[a], pats[b], false)) {
				covers_true++;
				if (!subset)
					fail_msg("glob_covers(%s, %s) is unsound", pats[a], pats[b]);
			}
		}
	}
	assert_true(covers_true > 500); /* and not trivially "never" */
}

/* --- rules -------------------------------------------------------------------- */

static struct settings *settings_from(const char *guardrails_yaml)
{
	char yaml[2048];
	json_auto_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;

	snprintf(yaml, sizeof(yaml),
		 "clusterName: dev\npermissionsBoundaryArn: arn:aws:iam::123456789012:policy/b\n%s",
		 guardrails_yaml ? guardrails_yaml : "");
	if (yaml_to_json(yaml, strlen(yaml), &doc, &err) < 0 || settings_parse(doc, "t", &s, &err) < 0)
		fail_msg("test settings: %s", err.message);
	return s;
}

static struct wi_spec *spec_from(const char *permissions_sq)
{
	char text[4096];
	json_t *obj;
	json_error_t jerr;
	struct wi_spec *s = NULL;
	struct op_err err;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text),
			     "{'metadata':{'namespace':'ns','name':'wi','uid':'u'},'spec':{'serviceAccountName':'sa',"
			     "'permissions':%s}}",
			     permissions_sq);
	assert_true(n < sizeof(text));
	for (char *p = text; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	obj = json_loads(text, 0, &jerr);
	if (!obj)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	if (wi_spec_parse(obj, &s, &err) < 0)
		fail_msg("test spec: %s", err.message);
	json_decref(obj);
	return s;
}

#define BUCKET "'arn:aws:s3:::logs/*'"
#define STMT(actions, resources) "{'statements':[{'actions':[" actions "],'resources':[" resources "]}]}"
#define DEFAULT NULL
#define OK NULL

static const struct {
	const char *guardrails; /* YAML, NULL: the defaults */
	const char *permissions;
	const char *message; /* NULL: accepted */
} rule_cases[] = {
	/* defaults: iam:*, sts:*, organizations:*, * denied */
	{ DEFAULT, STMT("'s3:GetObject','s3:ListBucket'", BUCKET), OK },
	{ DEFAULT, STMT("'s3:*'", BUCKET), OK }, /* '*' denies only the all-services wildcard */
	{ DEFAULT, "{'statements':[{'actions':['s3:GetObject'],'resources':[" BUCKET "]},{'actions':['s3:GetObject',"
		   "'iam:PassRole'],'resources':['*']}]}",
	  "spec.permissions.statements[1].actions[1]: 'iam:PassRole' is denied by the operator's guardrail 'iam:*' "
	  "(guardrails.deniedActions)" },
	{ DEFAULT, STMT("'sts:AssumeRole'", "'arn:aws:iam::123456789012:role/x'"),
	  "spec.permissions.statements[0].actions[0]: 'sts:AssumeRole' is denied by the operator's guardrail 'sts:*' "
	  "(guardrails.deniedActions)" },
	{ DEFAULT, STMT("'organizations:List*'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 'organizations:List*' is denied by the operator's guardrail "
	  "'organizations:*' (guardrails.deniedActions)" },
	{ DEFAULT, STMT("'*'", BUCKET), /* overlaps iam:* first */
	  "spec.permissions.statements[0].actions[0]: '*' is denied by the operator's guardrail 'iam:*' "
	  "(guardrails.deniedActions)" },
	/* case-insensitive: IAM action names are */
	{ DEFAULT, STMT("'iam:passrole'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 'iam:passrole' is denied by the operator's guardrail 'iam:*' "
	  "(guardrails.deniedActions)" },
	{ "guardrails: {deniedActions: ['s3:DeleteBucket']}\n", STMT("'s3:deletebucket'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 's3:deletebucket' is denied by the operator's guardrail "
	  "'s3:DeleteBucket' (guardrails.deniedActions)" },
	/* overlap, not just match: a wildcard that could reach a denied action */
	{ "guardrails: {deniedActions: ['s3:Delete*']}\n", STMT("'s3:GetObject','s3:*'", BUCKET),
	  "spec.permissions.statements[0].actions[1]: 's3:*' is denied by the operator's guardrail 's3:Delete*' "
	  "(guardrails.deniedActions)" },
	{ "guardrails: {deniedActions: ['s3:Delete*']}\n", STMT("'s3:D?l*'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 's3:D?l*' is denied by the operator's guardrail 's3:Delete*' "
	  "(guardrails.deniedActions)" },
	{ "guardrails: {deniedActions: ['s3:Delete*']}\n", STMT("'s3:Get?bject','s3:Put*'", BUCKET), OK },
	{ "guardrails: {deniedActions: ['s3:GetObject']}\n", STMT("'s3:Get?'", BUCKET), OK }, /* Get? never 9 chars */
	{ "guardrails: {deniedActions: ['s3:GetObject']}\n", STMT("'s3:Get*'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 's3:Get*' is denied by the operator's guardrail 's3:GetObject' "
	  "(guardrails.deniedActions)" },
	/* "*" and "*:*" deny the all-services wildcard, not every action */
	{ "guardrails: {deniedActions: ['*']}\n", STMT("'iam:PassRole','s3:*'", BUCKET), OK },
	{ "guardrails: {deniedActions: ['*']}\n", STMT("'s3:GetObject','*'", BUCKET),
	  "spec.permissions.statements[0].actions[1]: '*' is denied by the operator's guardrail '*' "
	  "(guardrails.deniedActions)" },
	{ "guardrails: {deniedActions: ['*:*']}\n", STMT("'*'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: '*' is denied by the operator's guardrail '*:*' "
	  "(guardrails.deniedActions)" },
	{ "guardrails: {deniedActions: []}\n", STMT("'*'", BUCKET), OK },
	/* Deny statements grant nothing: not checked at all */
	{ DEFAULT, "{'statements':[{'effect':'Deny','actions':['iam:*','*'],'resources':['*']},"
		   "{'actions':['s3:GetObject'],'resources':[" BUCKET "]}]}", OK },
	/* Resource "*" (or an all-wildcard ARN) only for resourceWildcardActions */
	{ DEFAULT, STMT("'cloudwatch:PutMetricData','xray:PutTraceSegments'", "'*'"), OK },
	{ DEFAULT, "{'statements':[{'actions':['s3:GetObject'],'resources':[" BUCKET "]},{'actions':['s3:GetObject'],"
		   "'resources':[" BUCKET "]},{'actions':['s3:GetObject'],'resources':['*']}]}",
	  "spec.permissions.statements[2].resources[0]: Resource \"*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 's3:GetObject' is not" },
	{ DEFAULT, STMT("'cloudwatch:PutMetricData','s3:GetObject'", BUCKET ",'*'"),
	  "spec.permissions.statements[0].resources[1]: Resource \"*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 's3:GetObject' is not" },
	{ DEFAULT, STMT("'cloudwatch:PutMetricData','cloudwatch:Put*'", "'*'"),
	  "spec.permissions.statements[0].resources[0]: Resource \"*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 'cloudwatch:Put*' is not" },
	{ DEFAULT, STMT("'s3:GetObject'", "'arn:aws:*:*:*:*'"),
	  "spec.permissions.statements[0].resources[0]: Resource \"arn:aws:*:*:*:*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 's3:GetObject' is not" },
	{ DEFAULT, STMT("'s3:GetObject'", "'arn:aws:*:::*'"),
	  "spec.permissions.statements[0].resources[0]: Resource \"arn:aws:*:::*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 's3:GetObject' is not" },
	/* every bucket is every resource of a kind (finding 4); the service may not be a pattern */
	{ DEFAULT, STMT("'s3:GetObject'", "'arn:aws:s3:::*'"),
	  "spec.permissions.statements[0].resources[0]: Resource \"arn:aws:s3:::*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 's3:GetObject' is not" },
	{ DEFAULT, STMT("'s3:GetObject'", "'arn:aws:?3:::b'"),
	  "spec.permissions.statements[0].resources[0]: Resource \"arn:aws:?3:::b\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 's3:GetObject' is not" },
	{ DEFAULT, STMT("'s3:GetObject'", "'arn:aws:s3:::b/*'"), OK },
	{ DEFAULT, STMT("'cloudwatch:putmetricdata'", "'*'"), OK },
	{ "guardrails: {resourceWildcardActions: ['ec2:Describe*']}\n", STMT("'ec2:DescribeInstances','ec2:Describe?'", "'*'"), OK },
	{ "guardrails: {resourceWildcardActions: []}\n", STMT("'cloudwatch:PutMetricData'", "'*'"),
	  "spec.permissions.statements[0].resources[0]: Resource \"*\" is only allowed for actions in "
	  "guardrails.resourceWildcardActions; 'cloudwatch:PutMetricData' is not" },
	{ "guardrails: {deniedActions: [], resourceWildcardActions: ['*']}\n", STMT("'*'", "'*'"), OK },
	/* allowedActions: every action must be covered by one of them */
	{ "guardrails: {allowedActions: ['s3:Get*', 'sqs:SendMessage']}\n",
	  STMT("'s3:GetObject','s3:Get?','s3:GETOBJECTTAGGING','sqs:sendmessage'", BUCKET), OK },
	{ "guardrails: {allowedActions: ['s3:Get*', 'sqs:SendMessage']}\n", STMT("'s3:GetObject','s3:*'", BUCKET),
	  "spec.permissions.statements[0].actions[1]: 's3:*' is not within the operator's allowed actions "
	  "(guardrails.allowedActions)" },
	{ "guardrails: {allowedActions: ['s3:Get*', 'sqs:SendMessage']}\n", STMT("'sqs:Send*'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 'sqs:Send*' is not within the operator's allowed actions "
	  "(guardrails.allowedActions)" },
	{ "guardrails: {allowedActions: ['s3:Get*'], deniedActions: ['s3:GetObjectAcl']}\n", STMT("'s3:GetObject*'", BUCKET),
	  "spec.permissions.statements[0].actions[0]: 's3:GetObject*' is denied by the operator's guardrail "
	  "'s3:GetObjectAcl' (guardrails.deniedActions)" },
	/* managed policies: an allowlist, empty by default */
	{ DEFAULT, "{'managedPolicyArns':['arn:aws:iam::aws:policy/ReadOnlyAccess']}",
	  "spec.permissions.managedPolicyArns[0]: 'arn:aws:iam::aws:policy/ReadOnlyAccess' is not in the operator's "
	  "allowlist (guardrails.managedPolicyArns)" },
	{ "guardrails: {managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::123456789012:policy/team/*']}\n",
	  "{'managedPolicyArns':['arn:aws:iam::aws:policy/ReadOnlyAccess','arn:aws:iam::123456789012:policy/team/a/b']}", OK },
	{ "guardrails: {managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::123456789012:policy/team/*']}\n",
	  "{'managedPolicyArns':['arn:aws:iam::aws:policy/ReadOnlyAccess','arn:aws:iam::aws:policy/AdministratorAccess']}",
	  "spec.permissions.managedPolicyArns[1]: 'arn:aws:iam::aws:policy/AdministratorAccess' is not in the "
	  "operator's allowlist (guardrails.managedPolicyArns)" },
	{ "guardrails: {managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess']}\n", /* ARNs: case-sensitive */
	  "{'managedPolicyArns':['arn:aws:iam::aws:policy/readonlyaccess']}",
	  "spec.permissions.managedPolicyArns[0]: 'arn:aws:iam::aws:policy/readonlyaccess' is not in the operator's "
	  "allowlist (guardrails.managedPolicyArns)" },
};

static void test_guardrails__rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rule_cases); i++) {
		struct settings *set = settings_from(rule_cases[i].guardrails);
		struct wi_spec *spec = spec_from(rule_cases[i].permissions);
		struct op_err err;
		int r;

		op_err_clear(&err);
		r = guardrails_check_spec(&set->guardrails, spec, &err);
		if (!rule_cases[i].message) {
			if (r != 0)
				fail_msg("case %zu (%s): rejected: %s", i, rule_cases[i].permissions, err.message);
		} else {
			if (r != -EACCES)
				fail_msg("case %zu (%s): not rejected (%d)", i, rule_cases[i].permissions, r);
			assert_int_equal(err.code, -EACCES);
			assert_string_equal(err.reason, "PolicyRejected");
			if (!streq(err.message, rule_cases[i].message))
				fail_msg("case %zu\n  got:  %s\n  want: %s", i, err.message, rule_cases[i].message);
		}
		/* NULL err is allowed */
		assert_int_equal(guardrails_check_spec(&set->guardrails, spec, NULL), rule_cases[i].message ? -EACCES : 0);
		wi_spec_free(spec);
		settings_free(set);
	}
}

/* A spec with one Allow statement (built with json_pack: resources may hold
 * quotes). */
static struct wi_spec *spec_with_resource(const char *action, const char *resource)
{
	json_t *obj = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:{s:[{s:[s], s:[s]}]}}}", "metadata", "namespace", "ns",
				"name", "wi", "uid", "u", "spec", "serviceAccountName", "sa", "permissions",
				"statements", "actions", action, "resources", resource);
	struct wi_spec *s = NULL;
	struct op_err err;

	assert_non_null(obj);
	if (wi_spec_parse(obj, &s, &err) < 0)
		fail_msg("test spec: %s", err.message);
	json_decref(obj);
	return s;
}

/* [4] Resources that stand for every resource of a kind, in every form; W:
 * refused for s3:GetObject under the default guardrails, A: accepted. */
#define W true
#define A false
static const struct {
	const char *resource;
	bool wildcard;
} resource_cases[] = {
	{ "*", W },
	{ "arn:aws:*:*:*:*", W },
	{ "arn:aws:*:*:*:*/*", W },
	{ "arn:aws:*:*:*:*:*", W },
	{ "arn:aws:*:::*", W },
	{ "arn:aws:s?s:us-east-1:123456789012:queue", W },
	/* type/name and type:name */
	{ "arn:aws:secretsmanager:*:*:secret:*", W },
	{ "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-*", A },
	{ "arn:aws:secretsmanager:us-east-1:123456789012:secret:*-prod", W },
	{ "arn:aws:secretsmanager:us-east-1:123456789012:secret:?*", W },
	{ "arn:aws:kms:*:*:key/*", W },
	{ "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", A },
	{ "arn:aws:kms:us-east-1:123456789012:key/?-*", W },
	{ "arn:aws:kms:us-east-1:123456789012:alias/app-*", A },
	{ "arn:aws:dynamodb:us-east-1:123456789012:table/*", W },
	{ "arn:aws:dynamodb:us-east-1:123456789012:table/orders", A },
	{ "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*", A },
	{ "arn:aws:dynamodb:us-east-1:123456789012:*/orders", W },
	{ "arn:aws:dynamodb:us-east-1:123456789012:t?ble/orders", W },
	{ "arn:aws:dynamodb:us-east-1:123456789012:*:*", W },
	{ "arn:aws:lambda:us-east-1:123456789012:function:*", W },
	{ "arn:aws:lambda:us-east-1:123456789012:function:?*", W },
	{ "arn:aws:lambda:us-east-1:123456789012:function:my-fn", A },
	{ "arn:aws:lambda:us-east-1:123456789012:function:my-fn:*", A },
	{ "arn:aws:logs:us-east-1:123456789012:log-group:*", W },
	{ "arn:aws:logs:us-east-1:123456789012:log-group:/*", W },
	{ "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn:*", A },
	{ "arn:aws:iam::123456789012:role/*", W },
	{ "arn:aws:iam::*:role/*", W },
	{ "arn:aws:iam::123456789012:role/keyless/app-*", A },
	{ "arn:aws:ssm:us-east-1:123456789012:parameter/*", W },
	{ "arn:aws:ssm:us-east-1:123456789012:parameter/app/*", A },
	{ "arn:aws:ec2:us-east-1:123456789012:instance/*", W },
	{ "arn:aws:ec2:us-east-1:123456789012:*", W },
	{ "arn:aws:apigateway:us-east-1::/restapis/*", W },
	{ "arn:aws:apigateway:us-east-1::/restapis/a1b2c3/*", A },
	{ "arn:aws:apigateway:*::/*", W },
	/* S3: bucket and object ARNs start with the bucket's name */
	{ "arn:aws:s3:::*", W },
	{ "arn:aws:s3:::*/*", W },
	{ "arn:aws:s3:::*bucket/*", W },
	{ "arn:aws:s3:::?", W },
	{ "arn:aws:s3:::mybucket", A },
	{ "arn:aws:s3:::mybucket/*", A },
	{ "arn:aws:s3:::mybucket/logs/*", A },
	{ "arn:aws:s3:::team-*", A },
	{ "arn:aws:s3:::a?c", A },
	{ "arn:aws:s3:us-east-1:123456789012:accesspoint/*", W }, /* access points have a type */
	{ "arn:aws:s3:us-east-1:123456789012:accesspoint/app", A },
	/* other partitions */
	{ "arn:aws-cn:s3:::*", W },
	{ "arn:aws-cn:s3:::assets/*", A },
	{ "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/*", W },
	{ "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:orders", A },
	/* other name-first services */
	{ "arn:aws:sqs:us-east-1:123456789012:*", W },
	{ "arn:aws:sqs:us-east-1:123456789012:*-dlq", W },
	{ "arn:aws:sqs:us-east-1:123456789012:orders-*", A },
	{ "arn:aws:sqs:*:*:orders", A }, /* region and account wildcards: resourceAccounts' business */
	{ "arn:aws:sns:us-east-1:123456789012:*", W },
	{ "arn:aws:sns:us-east-1:123456789012:alerts", A },
	{ "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/*", W },
	{ "arn:aws:execute-api:us-east-1:123456789012:abc123/*", A },
	{ "arn:aws:codecommit:us-east-1:123456789012:*", W },
	{ "arn:aws:codecommit:us-east-1:123456789012:repo", A },
	/* policy variables: fixed ones are literals, any other is '*' */
	{ "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/keyless.dev/namespace}/*", A },
	{ "arn:aws:s3:::${aws:PrincipalTag/keyless.dev/namespace}-data/*", A },
	{ "arn:aws:s3:::${aws:principaltag/KEYLESS.DEV/namespace}/*", A },
	{ "arn:aws:s3:::${ aws:PrincipalTag/keyless.dev/namespace, 'none'}/*", A },
	{ "arn:aws:s3:::${aws:PrincipalTag/keyless.dev/namespace, '*'}/*", W },
	{ "arn:aws:dynamodb:us-east-1:123456789012:table/${aws:PrincipalAccount}-orders", A },
	{ "arn:aws:s3:::${aws:PrincipalTag/team}/*", W },
	{ "arn:aws:s3:::${aws:PrincipalTag/keyless.dev}/*", W }, /* not under the reserved prefix */
	{ "arn:aws:secretsmanager:*:*:secret:${aws:userid}", W },
	{ "arn:aws:secretsmanager:*:*:secret:${sts:RoleSessionName}/*", W },
	{ "arn:aws:s3:::b/${aws:PrincipalTag/team}/*", A }, /* still one named bucket */
	{ "arn:aws:s3:::${*}", A },                          /* the escape: a literal '*' */
	{ "arn:aws:sqs:us-east-1:123456789012:${?}*", A },
};
#undef W
#undef A

static void test_guardrails__resource_wildcards(void **state)
{
	(void)state;
	struct settings *set = settings_from(NULL);

	assert_true(ARRAY_SIZE(resource_cases) >= 40);
	for (size_t i = 0; i < ARRAY_SIZE(resource_cases); i++) {
		const char *res = resource_cases[i].resource;
		char want[512];
		struct wi_spec *spec;
		struct op_err err;
		int r;

		if (shape_resource_problem(res))
			fail_msg("case %zu: '%s' is not a valid Resource: %s", i, res, shape_resource_problem(res));
		assert_int_equal(shape_resource_is_wildcard(res), resource_cases[i].wildcard);
		spec = spec_with_resource("s3:GetObject", res);
		op_err_clear(&err);
		r = guardrails_check_spec(&set->guardrails, spec, &err);
		if (!resource_cases[i].wildcard) {
			if (r != 0)
				fail_msg("case %zu (%s): rejected: %s", i, res, err.message);
		} else {
			snprintf(want, sizeof(want),
				 "spec.permissions.statements[0].resources[0]: Resource \"%s\" is only allowed for "
				 "actions in guardrails.resourceWildcardActions; 's3:GetObject' is not", res);
			if (r != -EACCES || !streq(err.message, want))
				fail_msg("case %zu (%s): %d\n  got:  %s\n  want: %s", i, res, r, err.message, want);
		}
		wi_spec_free(spec);
	}
	settings_free(set);
}

/* --- resourceAccounts, allowedTagKeys, allowedAudiences --------------------- */

#define PERMS(actions, resources) "'permissions':" STMT(actions, resources)

/* A spec from its fields other than serviceAccountName (single quotes for
 * double); permissions default to s3:GetObject on BUCKET. */
static struct wi_spec *spec_from_fields(const char *fields_sq)
{
	char text[4096];
	json_t *obj;
	json_error_t jerr;
	struct wi_spec *s = NULL;
	struct op_err err;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text),
			     "{'metadata':{'namespace':'ns','name':'wi','uid':'u'},'spec':{'serviceAccountName':'sa',%s%s%s}}",
			     strstr(fields_sq, "'permissions'") ? "" : PERMS("'s3:GetObject'", BUCKET),
			     strstr(fields_sq, "'permissions'") || !*fields_sq ? "" : ",", fields_sq);
	assert_true(n < sizeof(text));
	for (char *p = text; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	obj = json_loads(text, 0, &jerr);
	if (!obj)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	if (wi_spec_parse(obj, &s, &err) < 0)
		fail_msg("test spec: %s", err.message);
	json_decref(obj);
	return s;
}

struct spec_case {
	const char *guardrails; /* YAML, NULL: the defaults */
	const char *fields;     /* spec fields */
	const char *message;    /* NULL: accepted */
};

static void run_spec_cases(const struct spec_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct settings *set = settings_from(cases[i].guardrails);
		struct wi_spec *spec = spec_from_fields(cases[i].fields);
		struct op_err err;
		int r;

		op_err_clear(&err);
		r = guardrails_check_spec(&set->guardrails, spec, &err);
		if (!cases[i].message) {
			if (r != 0)
				fail_msg("case %zu (%s): rejected: %s", i, cases[i].fields, err.message);
		} else {
			if (r != -EACCES)
				fail_msg("case %zu (%s): not rejected (%d)", i, cases[i].fields, r);
			assert_int_equal(err.code, -EACCES);
			assert_string_equal(err.reason, "PolicyRejected");
			if (!streq(err.message, cases[i].message))
				fail_msg("case %zu\n  got:  %s\n  want: %s", i, err.message, cases[i].message);
		}
		assert_int_equal(guardrails_check_spec(&set->guardrails, spec, NULL), cases[i].message ? -EACCES : 0);
		wi_spec_free(spec);
		settings_free(set);
	}
}

#define ACCOUNTS "guardrails: {resourceAccounts: ['123456789012', aws], deniedActions: []}\n"
#define ONE_ACCOUNT "guardrails: {resourceAccounts: ['123456789012']}\n"

/* [4] resourceAccounts: every ARN names an allowed account or none. */
static const struct spec_case account_cases[] = {
	{ ACCOUNTS, PERMS("'sqs:SendMessage'", "'arn:aws:sqs:us-east-1:123456789012:orders'"), OK },
	{ ACCOUNTS, PERMS("'s3:GetObject'", "'arn:aws:s3:::assets/*'"), OK }, /* S3 ARNs carry no account */
	{ ACCOUNTS, PERMS("'iam:GetPolicyVersion'", "'arn:aws:iam::aws:policy/ReadOnlyAccess'"), OK },
	{ ACCOUNTS, PERMS("'sqs:SendMessage'", "'arn:aws:sqs:us-east-1:123456789012:a','arn:aws:sqs:us-east-1:999999999999:b'"),
	  "spec.permissions.statements[0].resources[1]: account '999999999999' of "
	  "'arn:aws:sqs:us-east-1:999999999999:b' is not in guardrails.resourceAccounts (name a resource in an "
	  "allowed account, or ask the operator to add it)" },
	{ ACCOUNTS, PERMS("'sqs:SendMessage'", "'arn:aws:sqs:us-east-1:*:orders'"),
	  "spec.permissions.statements[0].resources[0]: 'arn:aws:sqs:us-east-1:*:orders' has a wildcard account '*'; "
	  "with guardrails.resourceAccounts set, a Resource must name one of those accounts (write the account id)" },
	{ ACCOUNTS, PERMS("'sqs:SendMessage'", "'arn:aws:sqs:us-east-1:12345678901?:orders'"),
	  "spec.permissions.statements[0].resources[0]: 'arn:aws:sqs:us-east-1:12345678901?:orders' has a wildcard "
	  "account '12345678901?'; with guardrails.resourceAccounts set, a Resource must name one of those accounts "
	  "(write the account id)" },
	{ ONE_ACCOUNT, PERMS("'s3:GetObject'", "'arn:aws:iam::aws:policy/ReadOnlyAccess'"),
	  "spec.permissions.statements[0].resources[0]: account 'aws' of 'arn:aws:iam::aws:policy/ReadOnlyAccess' is "
	  "not in guardrails.resourceAccounts (name a resource in an allowed account, or ask the operator to add it)" },
	/* a Resource wildcard that resourceWildcardActions allows is not checked */
	{ ONE_ACCOUNT, PERMS("'cloudwatch:PutMetricData'", "'*'"), OK },
	{ ONE_ACCOUNT, PERMS("'cloudwatch:PutMetricData'", "'arn:aws:*:*:*:*'"), OK },
	{ ONE_ACCOUNT, PERMS("'cloudwatch:PutMetricData'", "'*','arn:aws:cloudwatch:us-east-1:999999999999:alarm:x'"),
	  "spec.permissions.statements[0].resources[1]: account '999999999999' of "
	  "'arn:aws:cloudwatch:us-east-1:999999999999:alarm:x' is not in guardrails.resourceAccounts (name a resource "
	  "in an allowed account, or ask the operator to add it)" },
	/* a Deny grants nothing; empty resourceAccounts: any account */
	{ ONE_ACCOUNT, "'permissions':{'statements':[{'effect':'Deny','actions':['s3:*'],"
		       "'resources':['arn:aws:sqs:*:*:x']}]}", OK },
	{ DEFAULT, PERMS("'sqs:SendMessage'", "'arn:aws:sqs:us-east-1:999999999999:orders'"), OK },
	{ DEFAULT, PERMS("'sqs:SendMessage'", "'arn:aws:sqs:*:*:orders'"), OK },
	/* managed policies keep to their own allowlist */
	{ "guardrails: {resourceAccounts: ['123456789012'], managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess']}\n",
	  "'permissions':{'managedPolicyArns':['arn:aws:iam::aws:policy/ReadOnlyAccess']}", OK },
	/* partitions */
	{ ONE_ACCOUNT, PERMS("'sqs:SendMessage'", "'arn:aws-cn:sqs:cn-north-1:123456789012:q'"), OK },
	{ ONE_ACCOUNT, PERMS("'sqs:SendMessage'", "'arn:aws-us-gov:sqs:us-gov-west-1:210987654321:q'"),
	  "spec.permissions.statements[0].resources[0]: account '210987654321' of "
	  "'arn:aws-us-gov:sqs:us-gov-west-1:210987654321:q' is not in guardrails.resourceAccounts (name a resource "
	  "in an allowed account, or ask the operator to add it)" },
};

static void test_guardrails__resource_accounts(void **state)
{
	(void)state;
	run_spec_cases(account_cases, ARRAY_SIZE(account_cases));
}

#define NO_TAGS_MSG(k) \
	"spec.tags[" k "]: tag key '" k "' is not in guardrails.allowedTagKeys (empty: tenants may set no tags); " \
	"role tags become aws:PrincipalTag/<key>, which policies may trust: remove the tag or ask the operator to " \
	"allow the key"
#define TAG_MSG(k) \
	"spec.tags[" k "]: tag key '" k "' is not in guardrails.allowedTagKeys (the keys tenants may set); role " \
	"tags become aws:PrincipalTag/<key>, which policies may trust: remove the tag or ask the operator to allow " \
	"the key"

/* [2] allowedTagKeys: none by default; patterns, without case. */
static const struct spec_case tag_cases[] = {
	{ DEFAULT, "", OK },
	{ DEFAULT, "'tags':{}", OK },
	{ DEFAULT, "'tags':{'team':'platform'}", NO_TAGS_MSG("team") },
	{ "guardrails: {allowedTagKeys: [team]}\n", "'tags':{'team':'platform'}", OK },
	{ "guardrails: {allowedTagKeys: [team]}\n", "'tags':{'Team':'platform'}", OK },
	{ "guardrails: {allowedTagKeys: [TEAM]}\n", "'tags':{'team':'platform'}", OK },
	{ "guardrails: {allowedTagKeys: [team]}\n", "'tags':{'team':'a','access-level':'admin'}",
	  TAG_MSG("access-level") },
	{ "guardrails: {allowedTagKeys: [team]}\n", "'tags':{'teams':'a'}", TAG_MSG("teams") },
	{ "guardrails: {allowedTagKeys: [app, 'cost-*']}\n", "'tags':{'app':'web','Cost-Center':'42','cost-owner':'x'}",
	  OK },
	{ "guardrails: {allowedTagKeys: [app, 'cost-*']}\n", "'tags':{'costcenter':'42'}", TAG_MSG("costcenter") },
	{ "guardrails: {allowedTagKeys: ['*']}\n", "'tags':{'anything':'x'}", OK },
	/* checked after the permissions */
	{ DEFAULT, PERMS("'iam:PassRole'", BUCKET) ",'tags':{'team':'x'}",
	  "spec.permissions.statements[0].actions[0]: 'iam:PassRole' is denied by the operator's guardrail 'iam:*' "
	  "(guardrails.deniedActions)" },
};

static void test_guardrails__tag_keys(void **state)
{
	(void)state;
	run_spec_cases(tag_cases, ARRAY_SIZE(tag_cases));
}

#define AUD_MSG(a) \
	"spec.audience: '" a "' is not in guardrails.allowedAudiences (every audience is added to the cluster's OIDC " \
	"provider, which all roles trusting it share): use an allowed audience (default sts.amazonaws.com) or ask " \
	"the operator to allow it"
#define VAULT "guardrails: {allowedAudiences: [sts.amazonaws.com, 'https://vault.example.com']}\n"

/* [5] allowedAudiences: exact; sts.amazonaws.com by default. */
static const struct spec_case audience_cases[] = {
	{ DEFAULT, "", OK },
	{ DEFAULT, "'audience':'sts.amazonaws.com'", OK },
	{ DEFAULT, "'audience':'https://kubernetes.default.svc'", AUD_MSG("https://kubernetes.default.svc") },
	{ DEFAULT, "'audience':'STS.amazonaws.com'", AUD_MSG("STS.amazonaws.com") },
	{ VAULT, "'audience':'https://vault.example.com'", OK },
	{ VAULT, "", OK },
	{ VAULT, "'audience':'https://vault.example.com/'", AUD_MSG("https://vault.example.com/") },
	{ "guardrails: {allowedAudiences: ['https://vault.example.com']}\n", "", AUD_MSG("sts.amazonaws.com") },
	{ DEFAULT, "'audience':'x','tags':{'team':'y'}", NO_TAGS_MSG("team") }, /* tags first */
};

static void test_guardrails__audiences(void **state)
{
	(void)state;
	run_spec_cases(audience_cases, ARRAY_SIZE(audience_cases));
}

static const struct {
	const char *guardrails;
	const char *ns;
	const char *message; /* NULL: allowed */
} ns_cases[] = {
	{ DEFAULT, "default", OK },
	{ DEFAULT, "kube-public", OK },
	{ DEFAULT, "kube-system", "namespace 'kube-system' is excluded by guardrails.excludeNamespaces pattern 'kube-system'" },
	{ "guardrails: {excludeNamespaces: ['kube-*']}\n", "kube-system",
	  "namespace 'kube-system' is excluded by guardrails.excludeNamespaces pattern 'kube-*'" },
	{ "guardrails: {excludeNamespaces: ['kube-*']}\n", "kube", OK },
	{ "guardrails: {excludeNamespaces: ['kube-*']}\n", "KUBE-system", OK }, /* case-sensitive */
	{ "guardrails: {excludeNamespaces: []}\n", "kube-system", OK },
	{ "guardrails: {includeNamespaces: ['team-*', 'production']}\n", "team-a", OK },
	{ "guardrails: {includeNamespaces: ['team-*', 'production']}\n", "production", OK },
	{ "guardrails: {includeNamespaces: ['team-*', 'production']}\n", "staging",
	  "namespace 'staging' is not in guardrails.includeNamespaces" },
	{ "guardrails: {includeNamespaces: ['team-*', 'production']}\n", "production-2",
	  "namespace 'production-2' is not in guardrails.includeNamespaces" },
	{ "guardrails: {includeNamespaces: ['team-*'], excludeNamespaces: ['team-secret?']}\n", "team-secret1",
	  "namespace 'team-secret1' is excluded by guardrails.excludeNamespaces pattern 'team-secret?'" },
	{ "guardrails: {includeNamespaces: ['team-*'], excludeNamespaces: ['team-secret?']}\n", "team-secret", OK },
};

static void test_guardrails__namespaces(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ns_cases); i++) {
		struct settings *set = settings_from(ns_cases[i].guardrails);
		struct op_err err;
		int r;

		op_err_clear(&err);
		r = guardrails_check_namespace(&set->guardrails, ns_cases[i].ns, &err);
		if (!ns_cases[i].message) {
			if (r != 0)
				fail_msg("case %zu: %s rejected: %s", i, ns_cases[i].ns, err.message);
		} else {
			if (r != -EACCES)
				fail_msg("case %zu: %s not rejected", i, ns_cases[i].ns);
			assert_string_equal(err.reason, "NamespaceNotAllowed");
			assert_int_equal(err.code, -EACCES);
			if (!streq(err.message, ns_cases[i].message))
				fail_msg("case %zu\n  got:  %s\n  want: %s", i, err.message, ns_cases[i].message);
		}
		settings_free(set);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob__match),
		cmocka_unit_test(test_glob__overlap),
		cmocka_unit_test(test_glob__covers),
		cmocka_unit_test(test_glob__exhaustive_small_alphabet),
		cmocka_unit_test(test_guardrails__rules),
		cmocka_unit_test(test_guardrails__namespaces),
		cmocka_unit_test(test_guardrails__resource_wildcards),
		cmocka_unit_test(test_guardrails__resource_accounts),
		cmocka_unit_test(test_guardrails__tag_keys),
		cmocka_unit_test(test_guardrails__audiences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
