#include "identity/spec.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "identity/shape.h"

/* Limits, the same as the CRD's (crds/keyless.dev_workloadidentities.yaml).
 * IAM caps a role's inline policies at 10,240 characters in total, so 50
 * statements of 100 actions and 100 resources each is more than IAM would
 * ever take; the caps exist to bound the work and, in the CRD, the CEL cost.
 * 20 managed policies is IAM's hard limit per role. 40 user tags leave room
 * for keyless' 4 ownership tags and 6 extraTags within IAM's 50 per role. */
#define MAX_STATEMENTS 50
#define MAX_SESSION_STATEMENTS 20
#define MAX_ACTIONS 100
#define MAX_RESOURCES 100
#define MAX_SID_LEN 128
#define MAX_COND_OPERATORS 20
#define MAX_COND_KEYS 20
#define MAX_COND_KEY_LEN 256
#define MAX_COND_VALUES 50
#define MAX_COND_VALUE_LEN 1024
#define MAX_MANAGED_POLICIES 20
#define MAX_TAGS 40
#define MAX_AUDIENCE_LEN 255
#define MAX_PATH 512

const char *wi_restart_name(enum wi_restart r)
{
	switch (r) {
	case WI_RESTART_ROLLOUT: return "RolloutRestart";
	case WI_RESTART_DELETE_PODS: return "DeletePods";
	case WI_RESTART_NONE: return "None";
	case WI_RESTART_DEFAULT: break;
	}
	return "Default";
}

const char *wi_mode_name(enum wi_mode m)
{
	switch (m) {
	case WI_MODE_IRSA: return "IRSA";
	case WI_MODE_POD_IDENTITY: return "PodIdentity";
	case WI_MODE_AUTO: return "Auto";
	case WI_MODE_DEFAULT: break;
	}
	return "Default";
}

bool wi_mode_parse(const char *s, enum wi_mode *ret)
{
	static const enum wi_mode modes[] = { WI_MODE_IRSA, WI_MODE_POD_IDENTITY, WI_MODE_AUTO };

	for (size_t i = 0; s && i < ARRAY_SIZE(modes); i++) {
		if (streq(s, wi_mode_name(modes[i]))) {
			*ret = modes[i];
			return true;
		}
	}
	return false;
}

static void statement_release(struct wi_statement *st)
{
	free(st->sid);
	shape_strv_free(st->actions);
	shape_strv_free(st->resources);
	for (size_t i = 0; i < st->n_conditions; i++) {
		free(st->conditions[i].op);
		free(st->conditions[i].key);
		shape_strv_free(st->conditions[i].values);
	}
	free(st->conditions);
}

void wi_spec_free(struct wi_spec *s)
{
	if (!s)
		return;
	free(s->namespace);
	free(s->name);
	free(s->uid);
	free(s->creation_timestamp);
	free(s->service_account);
	free(s->audience);
	for (size_t i = 0; i < s->n_statements; i++)
		statement_release(&s->statements[i]);
	free(s->statements);
	for (size_t i = 0; i < s->n_session_statements; i++)
		statement_release(&s->session_statements[i]);
	free(s->session_statements);
	free(s->target_role_arn);
	free(s->account_id);
	shape_strv_free(s->managed_policy_arns);
	shape_tags_free(s->tags, s->n_tags);
	free(s);
}

/* obj[key] as a string: *ret NULL when absent or null. */
static int get_string(const struct shape_ctx *c, json_t *obj, const char *key, const char *path,
		      const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return shape_fail(c, path, "must be a string, not %s", shape_json_type(v));
	*ret = json_string_value(v);
	return 0;
}

static int get_bool(const struct shape_ctx *c, json_t *obj, const char *key, const char *path, bool def,
		    bool *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return shape_fail(c, path, "must be true or false, not %s", shape_json_type(v));
	*ret = json_is_true(v);
	return 0;
}

/* obj[key] as an object or NULL (absent or null). */
static int get_object(const struct shape_ctx *c, json_t *obj, const char *key, const char *path, json_t **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return shape_fail(c, path, "must be an object, not %s", shape_json_type(v));
	*ret = v;
	return 0;
}

/* Checks one list item; returns NULL if fine, else the problem ("is not ..."). */
typedef const char *(*item_check_fn)(const char *item);

/* Parse a list of strings at `path` into a NULL-terminated array. */
static int parse_list(const struct shape_ctx *c, json_t *arr, const char *path, size_t min, size_t max,
		      item_check_fn check, char ***ret, size_t *ret_n)
{
	char **v = NULL;
	size_t n, i;
	json_t *item;
	int r = 0;

	if (!arr || json_is_null(arr))
		arr = NULL;
	else if (!json_is_array(arr))
		return shape_fail(c, path, "must be a list, not %s", shape_json_type(arr));
	n = arr ? json_array_size(arr) : 0;
	if (n < min)
		return shape_fail(c, path, "must not be empty");
	if (n > max)
		return shape_fail(c, path, "has %zu entries; at most %zu are allowed", n, max);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(arr, i, item) {
		char p[MAX_PATH];
		const char *s, *problem;

		shape_path(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_string(item)) {
			r = shape_fail(c, p, "must be a string, not %s", shape_json_type(item));
			goto out;
		}
		s = json_string_value(item);
		problem = check(s);
		if (problem) {
			r = shape_fail(c, p, "'%s' %s", shape_quote(s).s, problem);
			goto out;
		}
		r = shape_dup(s, &v[i]);
		if (r < 0)
			goto out;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
out:
	shape_strv_free(v);
	return r;
}

static const char *check_action(const char *s)
{
	return shape_action(s, false) ? NULL : "is not an action (service:Action, or \"*\")";
}

static const char *check_resource(const char *s)
{
	return shape_resource_problem(s);
}

static const char *check_policy_arn(const char *s)
{
	return shape_policy_arn(s) ? NULL
				   : "is not a managed policy ARN (arn:<partition>:iam::<account id or aws>:policy/<name>)";
}

static const char *check_condition_value(const char *s)
{
	return strlen(s) > MAX_COND_VALUE_LEN ? "is longer than 1024 characters" : NULL;
}

static bool is_dns_label(const char *s)
{
	return strlen(s) <= 63 && !strchr(s, '.') && shape_dns_subdomain(s);
}

/* conditions: operator -> key -> list of strings (or one string). */
static int parse_conditions(const struct shape_ctx *c, json_t *conds, const char *path, struct wi_statement *st)
{
	const char *op, *key;
	json_t *keys, *vals;
	size_t total = 0;
	char p[MAX_PATH];
	int r;

	if (!conds || json_is_null(conds))
		return 0;
	if (!json_is_object(conds))
		return shape_fail(c, path, "must be an object (operator -> condition key -> values), not %s",
				  shape_json_type(conds));
	if (json_object_size(conds) > MAX_COND_OPERATORS)
		return shape_fail(c, path, "has %zu operators; at most %d are allowed", json_object_size(conds),
				  MAX_COND_OPERATORS);
	/* check the shape and count the (operator, key) pairs */
	json_object_foreach(conds, op, keys) {
		shape_path(p, sizeof(p), "%s[%s]", path, shape_quote(op).s);
		if (!shape_condition_operator(op))
			return shape_fail(c, p, "'%s' is not an IAM condition operator", shape_quote(op).s);
		if (!json_is_object(keys))
			return shape_fail(c, p, "must be an object (condition key -> values), not %s",
					  shape_json_type(keys));
		if (json_object_size(keys) == 0)
			return shape_fail(c, p, "must name at least one condition key");
		if (json_object_size(keys) > MAX_COND_KEYS)
			return shape_fail(c, p, "has %zu condition keys; at most %d are allowed",
					  json_object_size(keys), MAX_COND_KEYS);
		total += json_object_size(keys);
	}
	st->conditions = calloc(total, sizeof(*st->conditions));
	if (!st->conditions)
		return -ENOMEM;
	json_object_foreach(conds, op, keys) {
		json_object_foreach(keys, key, vals) {
			struct wi_condition *cond = &st->conditions[st->n_conditions];

			shape_path(p, sizeof(p), "%s[%s][%s]", path, shape_quote(op).s, shape_quote(key).s);
			if (!shape_token(key) || strlen(key) > MAX_COND_KEY_LEN)
				return shape_fail(c, p,
						  "condition key must be 1..256 characters without spaces or control characters");
			st->n_conditions++;
			if (shape_dup(op, &cond->op) < 0 || shape_dup(key, &cond->key) < 0)
				return -ENOMEM;
			if (json_is_string(vals)) {
				/* IAM takes a single value as well as a list */
				const char *problem = check_condition_value(json_string_value(vals));

				if (problem)
					return shape_fail(c, p, "'%s' %s", shape_quote(json_string_value(vals)).s,
							  problem);
				cond->values = calloc(2, sizeof(char *));
				if (!cond->values || shape_dup(json_string_value(vals), &cond->values[0]) < 0)
					return -ENOMEM;
				cond->n_values = 1;
				continue;
			}
			if (!json_is_array(vals))
				return shape_fail(c, p, "must be a list of strings, not %s", shape_json_type(vals));
			r = parse_list(c, vals, p, 1, MAX_COND_VALUES, check_condition_value, &cond->values,
				       &cond->n_values);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int parse_statement(const struct shape_ctx *c, json_t *obj, const char *path, struct wi_statement *st)
{
	const char *sid, *effect;
	char p[MAX_PATH];
	int r;

	if (!json_is_object(obj))
		return shape_fail(c, path, "must be an object, not %s", shape_json_type(obj));

	shape_path(p, sizeof(p), "%s.sid", path);
	r = get_string(c, obj, "sid", p, &sid);
	if (r < 0)
		return r;
	if (sid && *sid) {
		if (strlen(sid) > MAX_SID_LEN || strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
							      "0123456789") != strlen(sid))
			return shape_fail(c, p, "'%s' is not a statement id (at most 128 letters and digits)",
					  shape_quote(sid).s);
		if (shape_dup(sid, &st->sid) < 0)
			return -ENOMEM;
	}

	shape_path(p, sizeof(p), "%s.effect", path);
	r = get_string(c, obj, "effect", p, &effect);
	if (r < 0)
		return r;
	if (!effect || streq(effect, "Allow"))
		st->effect = WI_ALLOW;
	else if (streq(effect, "Deny"))
		st->effect = WI_DENY;
	else
		return shape_fail(c, p, "'%s' is not Allow or Deny", shape_quote(effect).s);

	shape_path(p, sizeof(p), "%s.actions", path);
	r = parse_list(c, json_object_get(obj, "actions"), p, 1, MAX_ACTIONS, check_action, &st->actions,
		       &st->n_actions);
	if (r < 0)
		return r;
	shape_path(p, sizeof(p), "%s.resources", path);
	r = parse_list(c, json_object_get(obj, "resources"), p, 1, MAX_RESOURCES, check_resource, &st->resources,
		       &st->n_resources);
	if (r < 0)
		return r;
	shape_path(p, sizeof(p), "%s.conditions", path);
	return parse_conditions(c, json_object_get(obj, "conditions"), p, st);
}

/* A list of statements at `path` (max entries; sids unique). */
static int parse_statements(const struct shape_ctx *c, json_t *stmts, const char *path, size_t max,
			    struct wi_statement **ret, size_t *ret_n)
{
	json_t *item;
	size_t n, i;
	int r;

	if (!stmts || json_is_null(stmts))
		return 0;
	if (!json_is_array(stmts))
		return shape_fail(c, path, "must be a list, not %s", shape_json_type(stmts));
	n = json_array_size(stmts);
	if (n > max)
		return shape_fail(c, path, "has %zu statements; at most %zu are allowed", n, max);
	if (n > 0) {
		*ret = calloc(n, sizeof(**ret));
		if (!*ret)
			return -ENOMEM;
	}
	json_array_foreach(stmts, i, item) {
		struct wi_statement *v = *ret;
		char p[MAX_PATH];

		shape_path(p, sizeof(p), "%s[%zu]", path, i);
		(*ret_n)++; /* so that wi_spec_free releases a partial one */
		r = parse_statement(c, item, p, &v[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; v[i].sid && j < i; j++) {
			if (v[j].sid && streq(v[j].sid, v[i].sid)) {
				shape_path(p, sizeof(p), "%s[%zu].sid", path, i);
				return shape_fail(c, p, "'%s' is already the sid of statements[%zu]", v[i].sid, j);
			}
		}
	}
	return 0;
}

static int parse_permissions(const struct shape_ctx *c, json_t *perms, struct wi_spec *s)
{
	int r;

	r = parse_statements(c, perms ? json_object_get(perms, "statements") : NULL, "spec.permissions.statements",
			     MAX_STATEMENTS, &s->statements, &s->n_statements);
	if (r < 0)
		return r;
	r = parse_list(c, perms ? json_object_get(perms, "managedPolicyArns") : NULL,
		       "spec.permissions.managedPolicyArns", 0, MAX_MANAGED_POLICIES, check_policy_arn,
		       &s->managed_policy_arns, &s->n_managed_policy_arns);
	if (r < 0)
		return r;
	/* a set in the CRD (x-kubernetes-list-type: set) */
	for (size_t k = 1; k < s->n_managed_policy_arns; k++) {
		for (size_t j = 0; j < k; j++) {
			char p[MAX_PATH];

			if (!streq(s->managed_policy_arns[k], s->managed_policy_arns[j]))
				continue;
			shape_path(p, sizeof(p), "spec.permissions.managedPolicyArns[%zu]", k);
			return shape_fail(c, p, "'%s' is already managedPolicyArns[%zu]",
					  shape_quote(s->managed_policy_arns[k]).s, j);
		}
	}
	if (s->n_statements == 0 && s->n_managed_policy_arns == 0)
		return shape_fail(c, "spec.permissions", "at least one of statements or managedPolicyArns is required");
	return 0;
}

static int parse_metadata(const struct shape_ctx *c, json_t *obj, struct wi_spec *s)
{
	json_t *meta, *v, *fin;
	const char *str;
	size_t i;
	int r;

	r = get_object(c, obj, "metadata", "metadata", &meta);
	if (r < 0)
		return r;
	if (!meta)
		return shape_fail(c, "metadata", "is required");

	r = get_string(c, meta, "namespace", "metadata.namespace", &str);
	if (r < 0)
		return r;
	if (!str || !is_dns_label(str))
		return shape_fail(c, "metadata.namespace", "a namespace name (DNS-1123 label) is required");
	if (shape_dup(str, &s->namespace) < 0)
		return -ENOMEM;

	r = get_string(c, meta, "name", "metadata.name", &str);
	if (r < 0)
		return r;
	if (!str || !shape_dns_subdomain(str))
		return shape_fail(c, "metadata.name", "a name (DNS-1123 subdomain) is required");
	if (shape_dup(str, &s->name) < 0)
		return -ENOMEM;

	r = get_string(c, meta, "uid", "metadata.uid", &str);
	if (r < 0)
		return r;
	if (!str || !shape_token(str) || strlen(str) > 128)
		return shape_fail(c, "metadata.uid", "a uid is required");
	if (shape_dup(str, &s->uid) < 0)
		return -ENOMEM;

	v = json_object_get(meta, "generation");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return shape_fail(c, "metadata.generation", "must be a non-negative integer");
		s->generation = json_integer_value(v);
	}

	r = get_string(c, meta, "creationTimestamp", "metadata.creationTimestamp", &str);
	if (r < 0)
		return r;
	if (str && shape_dup(str, &s->creation_timestamp) < 0)
		return -ENOMEM;

	r = get_string(c, meta, "deletionTimestamp", "metadata.deletionTimestamp", &str);
	if (r < 0)
		return r;
	s->deleting = str != NULL;

	fin = json_object_get(meta, "finalizers");
	if (fin && !json_is_null(fin) && !json_is_array(fin))
		return shape_fail(c, "metadata.finalizers", "must be a list, not %s", shape_json_type(fin));
	json_array_foreach(fin, i, v) {
		if (json_is_string(v) && streq(json_string_value(v), WI_FINALIZER))
			s->has_finalizer = true;
	}
	return 0;
}

/* spec.mode and the fields only Pod Identity uses. Whether they apply is
 * decided with the settings and the cluster (identity/mode.h); an explicit
 * IRSA mode refuses them here. */
static int parse_pod_identity(const struct shape_ctx *c, json_t *spec, struct wi_spec *s)
{
	const char *str, *only = NULL;
	json_t *sp;
	int r;

	r = get_string(c, spec, "mode", "spec.mode", &str);
	if (r < 0)
		return r;
	s->mode = WI_MODE_DEFAULT;
	if (str && !wi_mode_parse(str, &s->mode))
		return shape_fail(c, "spec.mode", "'%s' is not IRSA, PodIdentity or Auto", shape_quote(str).s);

	r = get_object(c, spec, "sessionPolicy", "spec.sessionPolicy", &sp);
	if (r < 0)
		return r;
	if (sp) {
		r = parse_statements(c, json_object_get(sp, "statements"), "spec.sessionPolicy.statements",
				     MAX_SESSION_STATEMENTS, &s->session_statements, &s->n_session_statements);
		if (r < 0)
			return r;
		if (s->n_session_statements == 0)
			return shape_fail(c, "spec.sessionPolicy.statements",
					  "must not be empty (remove spec.sessionPolicy for no session policy)");
		only = "spec.sessionPolicy";
	}

	r = get_string(c, spec, "targetRoleArn", "spec.targetRoleArn", &str);
	if (r < 0)
		return r;
	if (str) {
		if (!shape_role_arn(str))
			return shape_fail(c, "spec.targetRoleArn",
					  "'%s' is not a role ARN (arn:<partition>:iam::<12-digit account>:role/<name>)",
					  shape_quote(str).s);
		if (shape_dup(str, &s->target_role_arn) < 0)
			return -ENOMEM;
		only = "spec.targetRoleArn";
	}

	r = get_bool(c, spec, "disableSessionTags", "spec.disableSessionTags", false, &s->disable_session_tags);
	if (r < 0)
		return r;
	if (s->disable_session_tags)
		only = "spec.disableSessionTags";

	if (only && s->mode == WI_MODE_IRSA)
		return shape_fail(c, only,
				  "applies only to EKS Pod Identity, and spec.mode is IRSA: remove it, or set spec.mode "
				  "to PodIdentity");
	if (s->n_session_statements && !s->disable_session_tags)
		return shape_fail(c, "spec.sessionPolicy",
				  "EKS applies an association's session policy only with session tags disabled: set "
				  "spec.disableSessionTags to true as well (allowed only by the operator's "
				  "guardrails.allowDisableSessionTags), or remove spec.sessionPolicy");
	return 0;
}

static int parse_spec(const struct shape_ctx *c, json_t *spec, struct wi_spec *s)
{
	const char *str;
	json_t *v, *perms;
	int r;

	r = get_string(c, spec, "serviceAccountName", "spec.serviceAccountName", &str);
	if (r < 0)
		return r;
	if (!str)
		return shape_fail(c, "spec.serviceAccountName", "is required");
	if (!shape_dns_subdomain(str))
		return shape_fail(c, "spec.serviceAccountName",
				  "'%s' is not a valid service account name (DNS-1123 subdomain: lowercase letters, "
				  "digits, '-' and '.', at most 253 characters)",
				  shape_quote(str).s);
	if (shape_dup(str, &s->service_account) < 0)
		return -ENOMEM;

	r = get_bool(c, spec, "createServiceAccount", "spec.createServiceAccount", false, &s->create_service_account);
	if (r < 0)
		return r;

	r = get_string(c, spec, "audience", "spec.audience", &str);
	if (r < 0)
		return r;
	if (!str)
		str = WI_DEFAULT_AUDIENCE;
	if (!shape_token(str) || strlen(str) > MAX_AUDIENCE_LEN)
		return shape_fail(c, "spec.audience", "'%s' is not an audience (1..255 characters, no whitespace)",
				  shape_quote(str).s);
	if (shape_dup(str, &s->audience) < 0)
		return -ENOMEM;

	r = get_bool(c, spec, "stsRegionalEndpoints", "spec.stsRegionalEndpoints", true, &s->sts_regional_endpoints);
	if (r < 0)
		return r;

	r = get_object(c, spec, "permissions", "spec.permissions", &perms);
	if (r < 0)
		return r;
	r = parse_permissions(c, perms, s);
	if (r < 0)
		return r;

	v = json_object_get(spec, "maxSessionDuration");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v))
			return shape_fail(c, "spec.maxSessionDuration", "must be an integer (seconds), not %s",
					  shape_json_type(v));
		if (json_integer_value(v) < 3600 || json_integer_value(v) > 43200)
			return shape_fail(c, "spec.maxSessionDuration", "%lld is not within 3600..43200 seconds",
					  (long long)json_integer_value(v));
		s->max_session_duration = (int)json_integer_value(v);
	}

	r = get_string(c, spec, "restart", "spec.restart", &str);
	if (r < 0)
		return r;
	if (!str)
		s->restart = WI_RESTART_DEFAULT;
	else if (streq(str, "RolloutRestart"))
		s->restart = WI_RESTART_ROLLOUT;
	else if (streq(str, "DeletePods"))
		s->restart = WI_RESTART_DELETE_PODS;
	else if (streq(str, "None"))
		s->restart = WI_RESTART_NONE;
	else
		return shape_fail(c, "spec.restart", "'%s' is not RolloutRestart, DeletePods or None",
				  shape_quote(str).s);

	r = get_string(c, spec, "deletionPolicy", "spec.deletionPolicy", &str);
	if (r < 0)
		return r;
	if (!str || streq(str, "Delete"))
		s->deletion_policy = WI_DELETE;
	else if (streq(str, "Retain"))
		s->deletion_policy = WI_RETAIN;
	else
		return shape_fail(c, "spec.deletionPolicy", "'%s' is not Delete or Retain", shape_quote(str).s);

	r = shape_parse_tags(c, "spec.tags", json_object_get(spec, "tags"), MAX_TAGS, &s->tags, &s->n_tags);
	if (r < 0)
		return r;

	/* which account the role lives in (IRSA); the settings say which are allowed */
	v = json_object_get(spec, "accountId");
	if (v && json_is_integer(v))
		return shape_fail(c, "spec.accountId", "must be a quoted string (accountId: \"%012lld\"), not a number",
				  (long long)json_integer_value(v));
	r = get_string(c, spec, "accountId", "spec.accountId", &str);
	if (r < 0)
		return r;
	if (str) {
		if (strlen(str) != 12 || strspn(str, "0123456789") != 12)
			return shape_fail(c, "spec.accountId", "'%s' is not an AWS account id (12 digits)",
					  shape_quote(str).s);
		if (shape_dup(str, &s->account_id) < 0)
			return -ENOMEM;
	}
	r = parse_pod_identity(c, spec, s);
	if (r < 0)
		return r;
	if (s->account_id && s->mode == WI_MODE_POD_IDENTITY)
		return shape_fail(c, "spec.accountId",
				  "applies only to IRSA (the role is made in that account); in EKS Pod Identity mode "
				  "the role is in the cluster's account and spec.targetRoleArn chains into a role in "
				  "another account");
	return 0;
}

int wi_spec_parse(json_t *obj, struct wi_spec **ret, struct op_err *err)
{
	const struct shape_ctx c = { .err = err, .prefix = "", .reason = "InvalidSpec" };
	_cleanup_(wi_spec_freep) struct wi_spec *s = NULL;
	json_t *spec;
	int r;

	if (!json_is_object(obj))
		return shape_fail(&c, "(object)", "a WorkloadIdentity must be a JSON object");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = parse_metadata(&c, obj, s);
	if (r == -ENOMEM)
		return op_err_set(err, r, "out of memory parsing the WorkloadIdentity");
	if (r < 0)
		return r;
	r = get_object(&c, obj, "spec", "spec", &spec);
	if (r < 0)
		return r;
	if (!spec)
		return shape_fail(&c, "spec", "is required");
	r = parse_spec(&c, spec, s);
	if (r == -ENOMEM)
		return op_err_set(err, r, "out of memory parsing the WorkloadIdentity");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}
