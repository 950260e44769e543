#include "identity/settings.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/str.h"
#include "base/yamljson.h"
#include "identity/shape.h"

#define MAX_CLUSTER_NAME_LEN 100 /* EKS' limit */
#define MAX_ROLE_NAME_PREFIX_LEN 32 /* leaves 32 of IAM's 64 for <cluster>-<ns>-<name> */
#define MAX_ROLE_PATH_LEN 512   /* IAM's limit */
#define MAX_ISSUER_LEN 255      /* IAM OIDC provider URL limit */
#define MAX_LIST 256            /* entries per guardrail list */
#define MAX_ACCOUNTS 32         /* settings accounts */
/* keyless' 5 ownership tags + 40 WorkloadIdentity tags + 5 = IAM's 50 per role */
#define MAX_EXTRA_TAGS 5
#define MAX_AUDIENCE_LEN 255
#define MIN_RESYNC_NS (10 * NSEC_PER_SEC)
#define MAX_RESYNC_NS (24 * 3600 * NSEC_PER_SEC)
#define MIN_IAM_RATE 0.5    /* calls/s: the adaptive rate's floor */
#define MAX_IAM_RATE 1000.0 /* calls/s: far above what IAM grants an account */

static const char *const top_keys[] = {
	"clusterName", "region", "accountId", "oidcIssuer", "manageOidcProvider", "roleNamePrefix",
	"rolePath", "permissionsBoundaryArn", "permissionsBoundaryWaived", "defaultMaxSessionDuration",
	"defaultRestart", "resyncPeriod", "extraTags", "oidcIssuerCA", "guardrailEnforcement", "iamRateLimit",
	"driftDetection", "defaultMode", "roleScope", "trustPolicySizeQuota", "accounts", "verifyAssumeRole", "guardrails",
};

static const char *const account_keys[] = { "accountId", "roleArn", "externalId", "permissionsBoundaryArn",
					     "namespaces" };

static const char *const iam_rate_keys[] = { "mode", "maxPerSecond", "initialPerSecond" };

static const char *const guardrail_keys[] = {
	"allowedActions", "deniedActions", "resourceWildcardActions", "managedPolicyArns",
	"includeNamespaces", "excludeNamespaces", "allowControllerNamespace", "allowedTagKeys", "allowedAudiences",
	"resourceAccounts", "allowDisableSessionTags",
};

static const char *const default_denied[] = { "iam:*", "sts:*", "organizations:*", "*" };
/* Actions that do not support resource-level permissions: IAM only accepts
 * them with Resource "*" (Service Authorization Reference: CloudWatch
 * PutMetricData and X-Ray PutTraceSegments / PutTelemetryRecords list no
 * resource types), so a statement granting them needs the wildcard. */
static const char *const default_resource_wildcard[] = { "cloudwatch:PutMetricData", "xray:PutTraceSegments",
							  "xray:PutTelemetryRecords" };
static const char *const default_exclude_ns[] = { "kube-system" };
static const char *const default_audiences[] = { WI_DEFAULT_AUDIENCE };

static void str_array_release(struct str_array *a)
{
	shape_strv_free(a->items);
	a->items = NULL;
	a->n = 0;
}

void settings_free(struct settings *s)
{
	if (!s)
		return;
	free(s->cluster_name);
	free(s->region);
	free(s->account_id);
	free(s->oidc_issuer);
	free(s->role_name_prefix);
	free(s->role_path);
	free(s->permissions_boundary_arn);
	free(s->oidc_issuer_ca);
	shape_tags_free(s->extra_tags, s->n_extra_tags);
	str_array_release(&s->guardrails.allowed_actions);
	str_array_release(&s->guardrails.denied_actions);
	str_array_release(&s->guardrails.resource_wildcard_actions);
	str_array_release(&s->guardrails.managed_policy_arns);
	str_array_release(&s->guardrails.include_namespaces);
	str_array_release(&s->guardrails.exclude_namespaces);
	str_array_release(&s->guardrails.allowed_tag_keys);
	str_array_release(&s->guardrails.allowed_audiences);
	str_array_release(&s->guardrails.resource_accounts);
	for (size_t i = 0; i < s->n_accounts; i++) {
		free(s->accounts[i].account_id);
		free(s->accounts[i].role_arn);
		free(s->accounts[i].external_id);
		free(s->accounts[i].boundary_arn);
		str_array_release(&s->accounts[i].namespaces);
	}
	free(s->accounts);
	free(s);
}

/* Reject keys of obj not in keys[]; suggest the known key that matches
 * without regard to case, or else the one within two edits. */
static int check_keys(const struct shape_ctx *c, json_t *obj, const char *path, const char *const *keys,
		      size_t n_keys)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *hint = NULL;
		size_t best = 3;
		bool known = false;

		for (size_t i = 0; i < n_keys && !known; i++) {
			size_t d;

			if (streq(key, keys[i])) {
				known = true;
			} else if (strcasecmp(key, keys[i]) == 0) {
				hint = keys[i];
				best = 0;
			} else if ((d = str_edit_distance(key, keys[i], 3)) < best) {
				hint = keys[i];
				best = d;
			}
		}
		if (known)
			continue;
		if (hint)
			return shape_fail(c, path, "unknown key '%s' (did you mean '%s'?)", shape_quote(key).s, hint);
		return shape_fail(c, path, "unknown key '%s'", shape_quote(key).s);
	}
	return 0;
}

/* obj[key] as a string, NULL when absent or null. */
static int get_string(const struct shape_ctx *c, json_t *obj, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return shape_fail(c, key, "must be a string, not %s", shape_json_type(v));
	*ret = json_string_value(v);
	return 0;
}

static int get_bool(const struct shape_ctx *c, json_t *obj, const char *key, bool def, bool *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return shape_fail(c, key, "must be true or false, not %s", shape_json_type(v));
	*ret = json_is_true(v);
	return 0;
}

static bool all_in(const char *s, const char *set, bool alnum)
{
	for (; *s; s++) {
		bool an = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');

		if (!(alnum && an) && !strchr(set, *s))
			return false;
	}
	return true;
}

static int parse_cluster_name(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	const char *v;
	int r = get_string(c, doc, "clusterName", &v);

	if (r < 0)
		return r;
	if (!v || !*v)
		return shape_fail(c, "clusterName", "is required (the EKS cluster name; it is part of every role name)");
	if (strlen(v) > MAX_CLUSTER_NAME_LEN || !all_in(v, "-_", true) || v[0] == '-' || v[0] == '_')
		return shape_fail(c, "clusterName",
				  "'%s' is not a cluster name (1..100 letters, digits, '-' and '_', starting with a "
				  "letter or digit)",
				  shape_quote(v).s);
	return shape_dup(v, &s->cluster_name);
}

/* [a-z]{2}(-[a-z]+)+-[0-9]+: us-east-1, us-gov-west-1, cn-north-1 */
static bool is_region(const char *v)
{
	size_t parts = 0;

	if (strlen(v) > 32)
		return false;
	for (const char *p = v;; parts++) {
		size_t n = strcspn(p, "-");
		bool last = p[n] == '\0';
		const char *set = last ? "0123456789" : "abcdefghijklmnopqrstuvwxyz";

		if (n == 0 || strspn(p, set) != n || (parts == 0 && n != 2))
			return false;
		if (last)
			return parts >= 2;
		p += n + 1;
	}
}

static int parse_region(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	const char *v;
	int r = get_string(c, doc, "region", &v);

	if (r < 0 || !v)
		return r;
	if (!is_region(v))
		return shape_fail(c, "region", "'%s' is not an AWS region (like us-east-1)", shape_quote(v).s);
	return shape_dup(v, &s->region);
}

static int parse_account_id(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	json_t *j = json_object_get(doc, "accountId");
	const char *v;

	if (!j || json_is_null(j))
		return 0;
	if (json_is_integer(j))
		return shape_fail(c, "accountId", "must be a quoted string (accountId: \"%012lld\"), not a number",
				  (long long)json_integer_value(j));
	if (!json_is_string(j))
		return shape_fail(c, "accountId", "must be a string, not %s", shape_json_type(j));
	v = json_string_value(j);
	if (strlen(v) != 12 || !all_in(v, "0123456789", false))
		return shape_fail(c, "accountId", "'%s' is not an AWS account id (12 digits)", shape_quote(v).s);
	return shape_dup(v, &s->account_id);
}

static int parse_oidc_issuer(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	_cleanup_free_ char *url = NULL;
	const char *v;
	size_t n;
	int r = get_string(c, doc, "oidcIssuer", &v);

	if (r < 0 || !v)
		return r;
	if (!str_startswith(v, "https://") || !shape_token(v) || strpbrk(v, "?#"))
		return shape_fail(c, "oidcIssuer", "'%s' is not an https:// URL without query or fragment",
				  shape_quote(v).s);
	url = strdup(v);
	if (!url)
		return -ENOMEM;
	n = strlen(url);
	while (n > strlen("https://") && url[n - 1] == '/')
		url[--n] = '\0'; /* IAM and the token's iss use no trailing slash */
	if (n == strlen("https://") || url[strlen("https://")] == '/')
		return shape_fail(c, "oidcIssuer", "'%s' has no host", shape_quote(v).s);
	if (n > MAX_ISSUER_LEN)
		return shape_fail(c, "oidcIssuer", "is longer than %d characters", MAX_ISSUER_LEN);
	s->oidc_issuer = TAKE_PTR(url);
	return 0;
}

static int parse_role_naming(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	const char *v;
	size_t n;
	int r = get_string(c, doc, "roleNamePrefix", &v);

	if (r < 0)
		return r;
	if (!v)
		v = "";
	if (strlen(v) > MAX_ROLE_NAME_PREFIX_LEN || !all_in(v, "+=,.@_-", true))
		return shape_fail(c, "roleNamePrefix",
				  "'%s' is not a role name prefix (at most %d letters, digits and +=,.@_-)",
				  shape_quote(v).s, MAX_ROLE_NAME_PREFIX_LEN);
	if (shape_dup(v, &s->role_name_prefix) < 0)
		return -ENOMEM;

	r = get_string(c, doc, "rolePath", &v);
	if (r < 0)
		return r;
	if (!v)
		v = "/keyless/";
	n = strlen(v);
	/* IAM: (\u002F)|(\u002F[\u0021-\u007E]+\u002F), at most 512 characters */
	if (n == 0 || n > MAX_ROLE_PATH_LEN || v[0] != '/' || v[n - 1] != '/')
		return shape_fail(c, "rolePath", "'%s' must start and end with '/' (like /keyless/)", shape_quote(v).s);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e)
			return shape_fail(c, "rolePath", "'%s' may only contain printable ASCII without spaces",
					  shape_quote(v).s);
	}
	return shape_dup(v, &s->role_path);
}

static int parse_boundary(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	const char *v;
	int r = get_bool(c, doc, "permissionsBoundaryWaived", false, &s->permissions_boundary_waived);

	if (r < 0)
		return r;
	r = get_string(c, doc, "permissionsBoundaryArn", &v);
	if (r < 0)
		return r;
	if (!v || !*v) {
		if (s->permissions_boundary_waived)
			return 0;
		return shape_fail(c, "permissionsBoundaryArn",
				  "is required: every role keyless creates gets this permissions boundary (set "
				  "permissionsBoundaryWaived: true to run without one, not recommended)");
	}
	if (!shape_policy_arn(v))
		return shape_fail(c, "permissionsBoundaryArn",
				  "'%s' is not a managed policy ARN (arn:<partition>:iam::<account id or aws>:policy/<name>)",
				  shape_quote(v).s);
	return shape_dup(v, &s->permissions_boundary_arn);
}

/* An integer key within lo..hi (`unit` names it in messages); *ret is
 * left as it is when the key is absent or null. */
static int get_int_range(const struct shape_ctx *c, json_t *doc, const char *key, int lo, int hi, const char *unit,
			 int *ret)
{
	json_t *j = json_object_get(doc, key);

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return shape_fail(c, key, "must be an integer (%s), not %s", unit, shape_json_type(j));
	if (json_integer_value(j) < lo || json_integer_value(j) > hi)
		return shape_fail(c, key, "%lld is not within %d..%d %s", (long long)json_integer_value(j), lo, hi, unit);
	*ret = (int)json_integer_value(j);
	return 0;
}

static int parse_defaults(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	const char *v;
	json_t *j;
	int r;

	s->default_max_session_duration = 3600;
	r = get_int_range(c, doc, "defaultMaxSessionDuration", 3600, 43200, "seconds", &s->default_max_session_duration);
	if (r < 0)
		return r;
	/* IAM's AssumeRolePolicySizeQuota: 2,048 by default, raised on request up to 8,192 */
	r = get_int_range(c, doc, "trustPolicySizeQuota", 2048, 8192, "characters", &s->trust_policy_size_quota);
	if (r < 0)
		return r;

	r = get_string(c, doc, "defaultRestart", &v);
	if (r < 0)
		return r;
	if (!v || streq(v, "RolloutRestart"))
		s->default_restart = WI_RESTART_ROLLOUT;
	else if (streq(v, "DeletePods"))
		s->default_restart = WI_RESTART_DELETE_PODS;
	else if (streq(v, "None"))
		s->default_restart = WI_RESTART_NONE;
	else
		return shape_fail(c, "defaultRestart", "'%s' is not RolloutRestart, DeletePods or None",
				  shape_quote(v).s);

	s->resync_ns = 10 * 60 * NSEC_PER_SEC;
	j = json_object_get(doc, "resyncPeriod");
	if (j && !json_is_null(j)) {
		char text[32];
		int64_t ns;

		if (json_is_integer(j)) /* a bare number means seconds, as in str_to_duration_ns */
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(j));
		else if (!json_is_string(j) || str_copy(text, sizeof(text), json_string_value(j)) < 0)
			return shape_fail(c, "resyncPeriod", "must be a duration like 10m or 1h30m");
		int rc = str_to_duration_ns(text, &ns);

		if (rc < 0 && rc != -ERANGE)
			return shape_fail(c, "resyncPeriod", "'%s' is not a duration (like 10m or 1h30m)", text);
		if (rc == -ERANGE || ns < MIN_RESYNC_NS || ns > MAX_RESYNC_NS)
			return shape_fail(c, "resyncPeriod", "'%s' is not within 10s..24h", text);
		s->resync_ns = ns;
	}
	return 0;
}

typedef const char *(*pattern_check_fn)(const char *s);

static const char *check_action_pattern(const char *s)
{
	return shape_action(s, true) ? NULL : "is not an action pattern (service:Action, or \"*\")";
}

static const char *check_policy_pattern(const char *s)
{
	if (streq(s, "*"))
		return NULL;
	if (!str_startswith(s, "arn:") || !shape_token(s) || strlen(s) > SHAPE_MAX_ARN_LEN)
		return "is not a managed policy ARN or ARN pattern";
	if (!strpbrk(s, "*?") && !shape_policy_arn(s))
		return "is not a managed policy ARN (arn:<partition>:iam::<account id or aws>:policy/<name>)";
	return NULL;
}

static const char *check_namespace_pattern(const char *s)
{
	if (!*s || strlen(s) > 63 || !all_in(s, "abcdefghijklmnopqrstuvwxyz0123456789-*?", false))
		return "is not a namespace pattern (lowercase letters, digits, '-', and the wildcards * and ?)";
	return NULL;
}

static const char *check_tag_key_pattern(const char *s)
{
	if (!*s || strlen(s) > SHAPE_MAX_TAG_KEY_LEN || !all_in(s, " _.:/=+-@*?", true))
		return "is not a tag key pattern (1..128 letters, digits, spaces, _.:/=+-@ and the wildcards * and ?)";
	return NULL;
}

static const char *check_audience(const char *s)
{
	if (!*s || strlen(s) > MAX_AUDIENCE_LEN || !all_in(s, "_.:/=+-@", true))
		return "is not an audience keyless can manage (1..255 letters, digits and _.:/=+-@, no wildcards)";
	return NULL;
}

static const char *check_account(const char *s)
{
	if (streq(s, "aws") || (strlen(s) == 12 && all_in(s, "0123456789", false)))
		return NULL;
	return "is not an AWS account id (12 digits, or \"aws\" for AWS-owned resources)";
}

static int fill_defaults(struct str_array *a, const char *const *items, size_t n)
{
	a->items = calloc(n + 1, sizeof(char *));
	if (!a->items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (shape_dup(items[i], &a->items[i]) < 0)
			return -ENOMEM;
		a->n++;
	}
	return 0;
}

/* guardrails.<key>: a list of patterns; absent or null -> the defaults. */
static int parse_pattern_list(const struct shape_ctx *c, json_t *g, const char *key, pattern_check_fn check,
			      const char *const *defaults, size_t n_defaults, struct str_array *out)
{
	json_t *arr = g ? json_object_get(g, key) : NULL, *item;
	char path[64];
	size_t i;

	shape_path(path, sizeof(path), "guardrails.%s", key);
	if (!arr || json_is_null(arr))
		return fill_defaults(out, defaults, n_defaults);
	if (!json_is_array(arr))
		return shape_fail(c, path, "must be a list, not %s", shape_json_type(arr));
	if (json_array_size(arr) > MAX_LIST)
		return shape_fail(c, path, "has %zu entries; at most %d are allowed", json_array_size(arr), MAX_LIST);
	out->items = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!out->items)
		return -ENOMEM;
	json_array_foreach(arr, i, item) {
		char p[96];
		const char *problem;

		shape_path(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_string(item))
			return shape_fail(c, p, "must be a string, not %s", shape_json_type(item));
		problem = check(json_string_value(item));
		if (problem)
			return shape_fail(c, p, "'%s' %s", shape_quote(json_string_value(item)).s, problem);
		if (shape_dup(json_string_value(item), &out->items[i]) < 0)
			return -ENOMEM;
		out->n++;
	}
	return 0;
}

static int parse_guardrails(const struct shape_ctx *c, json_t *doc, struct guardrails *g)
{
	json_t *obj = json_object_get(doc, "guardrails");
	int r;

	if (obj && json_is_null(obj))
		obj = NULL;
	if (obj && !json_is_object(obj))
		return shape_fail(c, "guardrails", "must be a map, not %s", shape_json_type(obj));
	if (obj) {
		r = check_keys(c, obj, "guardrails", guardrail_keys, ARRAY_SIZE(guardrail_keys));
		if (r < 0)
			return r;
	}
	r = parse_pattern_list(c, obj, "allowedActions", check_action_pattern, NULL, 0, &g->allowed_actions);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "deniedActions", check_action_pattern, default_denied,
			       ARRAY_SIZE(default_denied), &g->denied_actions);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "resourceWildcardActions", check_action_pattern, default_resource_wildcard,
			       ARRAY_SIZE(default_resource_wildcard), &g->resource_wildcard_actions);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "managedPolicyArns", check_policy_pattern, NULL, 0, &g->managed_policy_arns);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "includeNamespaces", check_namespace_pattern, NULL, 0,
			       &g->include_namespaces);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "excludeNamespaces", check_namespace_pattern, default_exclude_ns,
			       ARRAY_SIZE(default_exclude_ns), &g->exclude_namespaces);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "allowedTagKeys", check_tag_key_pattern, NULL, 0, &g->allowed_tag_keys);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "allowedAudiences", check_audience, default_audiences,
			       ARRAY_SIZE(default_audiences), &g->allowed_audiences);
	if (r < 0)
		return r;
	r = parse_pattern_list(c, obj, "resourceAccounts", check_account, NULL, 0, &g->resource_accounts);
	if (r < 0)
		return r;
	if (obj) {
		const struct shape_ctx gc = { .err = c->err, .prefix = c->prefix, .reason = c->reason };
		json_t *v = json_object_get(obj, "allowControllerNamespace");

		if (v && !json_is_null(v) && !json_is_boolean(v))
			return shape_fail(&gc, "guardrails.allowControllerNamespace", "must be true or false, not %s",
					  shape_json_type(v));
		g->allow_controller_namespace = json_is_true(v);
		v = json_object_get(obj, "allowDisableSessionTags");
		if (v && !json_is_null(v) && !json_is_boolean(v))
			return shape_fail(&gc, "guardrails.allowDisableSessionTags", "must be true or false, not %s",
					  shape_json_type(v));
		g->allow_disable_session_tags = json_is_true(v);
	}
	return 0;
}

/* One of a few words; absent or null: the first. */
struct choice {
	const char *name;
	int value;
};

static int parse_choice(const struct shape_ctx *c, json_t *doc, const char *key, const struct choice *v, size_t n,
			int *ret)
{
	char listed[128] = "";
	const char *s;
	int r = get_string(c, doc, key, &s);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!s || streq(s, v[i].name)) {
			*ret = v[i].value;
			return 0;
		}
	}
	/* "a, b or c" */
	for (size_t i = 0; i < n; i++)
		str_format(listed + strlen(listed), sizeof(listed) - strlen(listed), "%s%s",
			   i == 0 ? "" : i + 1 == n ? " or " : ", ", v[i].name);
	return shape_fail(c, key, "'%s' is not %s", shape_quote(s).s, listed);
}

static int parse_choices(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	static const struct choice enforcement[] = { { "revoke", ENFORCE_REVOKE }, { "keep", ENFORCE_KEEP } };
	static const struct choice drift[] = { { "roles", DRIFT_ROLES }, { "bulk", DRIFT_BULK } };
	static const struct choice modes[] = { { "IRSA", WI_MODE_IRSA },
					       { "PodIdentity", WI_MODE_POD_IDENTITY },
					       { "Auto", WI_MODE_AUTO } };
	static const struct choice scopes[] = { { "Cluster", ROLE_SCOPE_CLUSTER }, { "Account", ROLE_SCOPE_ACCOUNT } };
	int v, r;

	if ((r = parse_choice(c, doc, "guardrailEnforcement", enforcement, ARRAY_SIZE(enforcement), &v)) < 0)
		return r;
	s->enforcement = (enum guardrail_enforcement)v;
	if ((r = parse_choice(c, doc, "driftDetection", drift, ARRAY_SIZE(drift), &v)) < 0)
		return r;
	s->drift_detection = (enum drift_detection)v;
	if ((r = parse_choice(c, doc, "defaultMode", modes, ARRAY_SIZE(modes), &v)) < 0)
		return r;
	s->default_mode = (enum wi_mode)v;
	if ((r = parse_choice(c, doc, "roleScope", scopes, ARRAY_SIZE(scopes), &v)) < 0)
		return r;
	s->role_scope = (enum role_scope)v;
	return 0;
}

/* iamRateLimit.<key>: a number of calls per second, 0 when absent. */
static int get_rate(const struct shape_ctx *c, json_t *obj, const char *key, double *ret)
{
	json_t *v = json_object_get(obj, key);
	char path[48];

	*ret = 0;
	if (!v || json_is_null(v))
		return 0;
	shape_path(path, sizeof(path), "iamRateLimit.%s", key);
	if (!json_is_number(v))
		return shape_fail(c, path, "must be a number of calls per second (like 20), not %s", shape_json_type(v));
	if (json_number_value(v) < MIN_IAM_RATE || json_number_value(v) > MAX_IAM_RATE)
		return shape_fail(c, path, "%g is not within %g..%g calls per second", json_number_value(v), MIN_IAM_RATE,
				  MAX_IAM_RATE);
	*ret = json_number_value(v);
	return 0;
}

static int parse_iam_rate(const struct shape_ctx *c, json_t *doc, struct iam_rate_limit *l)
{
	json_t *obj = json_object_get(doc, "iamRateLimit"), *m;
	int r;

	*l = (struct iam_rate_limit){ .mode = IAM_RATE_ADAPTIVE };
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return shape_fail(c, "iamRateLimit", "must be a map (mode, maxPerSecond, initialPerSecond), not %s",
				  shape_json_type(obj));
	r = check_keys(c, obj, "iamRateLimit", iam_rate_keys, ARRAY_SIZE(iam_rate_keys));
	if (r < 0)
		return r;
	m = json_object_get(obj, "mode");
	if (m && !json_is_null(m)) {
		if (!json_is_string(m))
			return shape_fail(c, "iamRateLimit.mode", "must be adaptive or fixed, not %s", shape_json_type(m));
		if (streq(json_string_value(m), "fixed"))
			l->mode = IAM_RATE_FIXED;
		else if (!streq(json_string_value(m), "adaptive"))
			return shape_fail(c, "iamRateLimit.mode", "'%s' is not adaptive or fixed",
					  shape_quote(json_string_value(m)).s);
	}
	if ((r = get_rate(c, obj, "maxPerSecond", &l->max_per_second)) < 0 ||
	    (r = get_rate(c, obj, "initialPerSecond", &l->initial_per_second)) < 0)
		return r;
	if (l->mode == IAM_RATE_FIXED) {
		if (!l->max_per_second)
			return shape_fail(c, "iamRateLimit.maxPerSecond",
					  "is required with mode: fixed (the IAM calls per second keyless may send)");
		if (l->initial_per_second)
			return shape_fail(c, "iamRateLimit.initialPerSecond",
					  "applies to mode: adaptive only; remove it, or set mode: adaptive");
	} else if (l->max_per_second && l->initial_per_second > l->max_per_second) {
		return shape_fail(c, "iamRateLimit.initialPerSecond",
				  "%g is above maxPerSecond (%g): lower it, or raise the ceiling", l->initial_per_second,
				  l->max_per_second);
	}
	return 0;
}

static int parse_issuer_ca(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	const char *v;
	int r = get_string(c, doc, "oidcIssuerCA", &v);

	if (r < 0 || !v)
		return r;
	if (!*v || v[0] != '/' || !shape_token(v))
		return shape_fail(c, "oidcIssuerCA", "'%s' is not an absolute path to a PEM file", shape_quote(v).s);
	return shape_dup(v, &s->oidc_issuer_ca);
}

/* accounts[i].<key>: a string, or NULL when absent. */
static int account_string(const struct shape_ctx *c, json_t *a, size_t i, const char *key, const char **ret)
{
	json_t *v = json_object_get(a, key);
	char path[64];

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	shape_path(path, sizeof(path), "accounts[%zu].%s", i, key);
	if (!json_is_string(v))
		return shape_fail(c, path, "must be a string, not %s", shape_json_type(v));
	*ret = json_string_value(v);
	return 0;
}

/* The account field of an ARN ("arn:p:svc:region:ACCOUNT:...") equals id. */
static bool arn_in_account(const char *arn, const char *id)
{
	const char *p = arn;

	for (int colons = 0; colons < 4 && p; colons++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	return p && strncmp(p, id, 12) == 0 && p[12] == ':';
}

static int parse_account(const struct shape_ctx *c, json_t *a, size_t i, struct account_setting *out)
{
	const char *id, *role, *ext, *boundary;
	json_t *ns, *item;
	char path[64], p2[80];
	size_t k;
	int r;

	shape_path(path, sizeof(path), "accounts[%zu]", i);
	if (!json_is_object(a))
		return shape_fail(c, path, "must be a map ({accountId, roleArn}), not %s", shape_json_type(a));
	if ((r = check_keys(c, a, path, account_keys, ARRAY_SIZE(account_keys))) < 0)
		return r;
	if ((r = account_string(c, a, i, "accountId", &id)) < 0 || (r = account_string(c, a, i, "roleArn", &role)) < 0 ||
	    (r = account_string(c, a, i, "externalId", &ext)) < 0 ||
	    (r = account_string(c, a, i, "permissionsBoundaryArn", &boundary)) < 0)
		return r;
	shape_path(p2, sizeof(p2), "%s.accountId", path);
	if (!id || strlen(id) != 12 || !all_in(id, "0123456789", false))
		return shape_fail(c, p2, "%s%s%s is not an AWS account id (a quoted string of 12 digits)", id ? "'" : "",
				  id ? shape_quote(id).s : "(missing)", id ? "'" : "");
	shape_path(p2, sizeof(p2), "%s.roleArn", path);
	if (!role || !shape_role_arn(role) || !arn_in_account(role, id))
		return shape_fail(c, p2, "%s%s%s is not a role ARN in account %s (keyless assumes it to manage roles "
				  "there)", role ? "'" : "", role ? shape_quote(role).s : "(missing)", role ? "'" : "", id);
	shape_path(p2, sizeof(p2), "%s.externalId", path);
	if (ext && (strlen(ext) < 2 || strlen(ext) > 1224 || !all_in(ext, "_+=,.@:/-", true)))
		return shape_fail(c, p2, "must be 2..1224 characters of letters, digits and _+=,.@:/-");
	shape_path(p2, sizeof(p2), "%s.permissionsBoundaryArn", path);
	if (boundary && (!shape_policy_arn(boundary) || !arn_in_account(boundary, id)))
		return shape_fail(c, p2, "'%s' is not a managed policy ARN in account %s", shape_quote(boundary).s, id);
	if (shape_dup(id, &out->account_id) < 0 || shape_dup(role, &out->role_arn) < 0 ||
	    (ext && shape_dup(ext, &out->external_id) < 0) || (boundary && shape_dup(boundary, &out->boundary_arn) < 0))
		return -ENOMEM;
	ns = json_object_get(a, "namespaces");
	shape_path(p2, sizeof(p2), "%s.namespaces", path);
	if (ns && !json_is_null(ns) && !json_is_array(ns))
		return shape_fail(c, p2, "must be a list of namespace patterns, not %s", shape_json_type(ns));
	out->namespaces.items = calloc(json_array_size(ns) + 1, sizeof(char *));
	if (!out->namespaces.items)
		return -ENOMEM;
	json_array_foreach(ns, k, item) {
		const char *problem = json_is_string(item) ? check_namespace_pattern(json_string_value(item)) : "";

		if (problem) {
			shape_path(p2, sizeof(p2), "%s.namespaces[%zu]", path, k);
			return *problem ? shape_fail(c, p2, "'%s' %s", shape_quote(json_string_value(item)).s, problem)
					: shape_fail(c, p2, "must be a string, not %s", shape_json_type(item));
		}
		if (shape_dup(json_string_value(item), &out->namespaces.items[out->namespaces.n]) < 0)
			return -ENOMEM;
		out->namespaces.n++;
	}
	return 0;
}

static int parse_accounts(const struct shape_ctx *c, json_t *doc, struct settings *s)
{
	json_t *arr = json_object_get(doc, "accounts"), *a;
	size_t i;
	int r;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return shape_fail(c, "accounts", "must be a list of {accountId, roleArn}, not %s", shape_json_type(arr));
	if (json_array_size(arr) > MAX_ACCOUNTS)
		return shape_fail(c, "accounts", "has %zu entries; at most %d are allowed", json_array_size(arr),
				  MAX_ACCOUNTS);
	s->accounts = calloc(json_array_size(arr) + 1, sizeof(*s->accounts));
	if (!s->accounts)
		return -ENOMEM;
	json_array_foreach(arr, i, a) {
		char path[64];

		r = parse_account(c, a, i, &s->accounts[i]);
		s->n_accounts = i + 1; /* freed with the settings, even half-parsed */
		if (r < 0)
			return r;
		shape_path(path, sizeof(path), "accounts[%zu].accountId", i);
		if (s->account_id && streq(s->accounts[i].account_id, s->account_id))
			return shape_fail(c, path, "'%s' is the cluster's own account (accountId): list only other accounts",
					  s->account_id);
		for (size_t j = 0; j < i; j++) {
			if (streq(s->accounts[j].account_id, s->accounts[i].account_id))
				return shape_fail(c, path, "'%s' is listed twice (also accounts[%zu])",
						  s->accounts[i].account_id, j);
		}
	}
	return 0;
}

int settings_parse(json_t *doc, const char *source, struct settings **ret, struct op_err *err)
{
	char prefix[320];
	const struct shape_ctx c = { .err = err, .prefix = prefix, .reason = "InvalidSettings" };
	_cleanup_(settings_freep) struct settings *s = NULL;
	int r;

	shape_path(prefix, sizeof(prefix), "settings %s: ", source ? source : "(inline)");
	if (!json_is_object(doc))
		return shape_fail(&c, "", "must be a YAML map of settings, not %s", doc ? shape_json_type(doc) : "empty");
	r = check_keys(&c, doc, "", top_keys, ARRAY_SIZE(top_keys));
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if ((r = parse_cluster_name(&c, doc, s)) < 0 || (r = parse_region(&c, doc, s)) < 0 ||
	    (r = parse_account_id(&c, doc, s)) < 0 || (r = parse_oidc_issuer(&c, doc, s)) < 0 ||
	    (r = get_bool(&c, doc, "manageOidcProvider", true, &s->manage_oidc_provider)) < 0 ||
	    (r = get_bool(&c, doc, "verifyAssumeRole", false, &s->verify_assume_role)) < 0 ||
	    (r = parse_role_naming(&c, doc, s)) < 0 || (r = parse_boundary(&c, doc, s)) < 0 ||
	    (r = parse_defaults(&c, doc, s)) < 0 || (r = parse_choices(&c, doc, s)) < 0 ||
	    (r = parse_issuer_ca(&c, doc, s)) < 0 || (r = parse_iam_rate(&c, doc, &s->iam_rate)) < 0 ||
	    (r = shape_parse_tags(&c, "extraTags", json_object_get(doc, "extraTags"), MAX_EXTRA_TAGS, &s->extra_tags,
				  &s->n_extra_tags)) < 0 ||
	    (r = parse_guardrails(&c, doc, &s->guardrails)) < 0 || (r = parse_accounts(&c, doc, s)) < 0)
		return r == -ENOMEM ? op_err_set(err, r, "%sout of memory", prefix) : r;
	*ret = TAKE_PTR(s);
	return 0;
}

int settings_load(const char *path, struct settings **ret, struct op_err *err)
{
	json_auto_t *doc = NULL;
	int r;

	r = yaml_file_to_json(path, &doc, err);
	if (r < 0) {
		if (err) {
			char msg[sizeof(err->message)];

			memcpy(msg, err->message, sizeof(msg));
			op_err_setr(err, r, "InvalidSettings", "settings %s", msg);
		}
		return r;
	}
	return settings_parse(doc, path, ret, err);
}
